/* The load generator's latency histogram (log-linear, bounded, additive)
 * and the names of its error kinds. */
#include <string.h>

#include "loadgen.h"

static const char *const err_names[] = {
#define LG_ERR_NAME(name, desc) #name,
    LG_ERRORS(LG_ERR_NAME)
#undef LG_ERR_NAME
};

const char *lg_err_name(enum lg_err e)
{
	return err_names[e];
}

void lg_hist_init(struct lg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

/* The largest value that lands in bucket i. */
static uint64_t hist_upper(unsigned i)
{
	unsigned k, shift;

	if (i < HIST_SUB)
		return i;
	k = i - HIST_SUB;
	shift = k / HIST_SUB;
	return (((uint64_t)HIST_SUB + k % HIST_SUB + 1) << shift) - 1;
}

void lg_hist_add(struct lg_hist *h, uint64_t v)
{
	if (v > UINT32_MAX)
		v = UINT32_MAX;
	h->b[hist_index(v)]++;
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void lg_hist_merge(struct lg_hist *a, const struct lg_hist *b)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		a->b[i] += b->b[i];
	a->n += b->n;
	a->sum += b->sum;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

/* The per-mille-th percentile: the smallest bucket bound that at least
 * permille/1000 of the samples do not exceed (never above the maximum). */
uint64_t lg_hist_pct(const struct lg_hist *h, unsigned permille)
{
	uint64_t rank = (h->n * permille + 999) / 1000, seen = 0;

	if (!rank)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_upper(i);

			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
