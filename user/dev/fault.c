/* Fault-injecting device: wraps another device and, from a seeded PRNG, loses,
 * duplicates, corrupts and reorders the frames it receives and sends.
 *
 * Like the capture device it forwards every op to inner and owns it. Faults
 * are drawn per frame from splitmix64 seeded by cfg->seed, so the same seed
 * and the same sequence of frames give the same faults. For each frame, in
 * this order: loss; else corruption (one random bit of one random byte, in
 * place: a one-bit error is always caught by the Internet checksum unless it
 * falls in the Ethernet header or padding); then duplication (the copy follows
 * the frame, corrupted alike); else reordering (the frame is held until
 * reorder_depth later frames have passed it, or at most FAULT_HOLD_POLLS
 * flushes / rx bursts when traffic stops, so nothing is held forever).
 *
 * Frame accounting stays exact:
 * - tx: a lost frame goes back to inner with tx_abort; a duplicate takes a
 *   second inner tx frame (none free: the duplicate is skipped and counted);
 *   held frames are reported as tx_queued (submitted, not yet sent).
 * - rx: a lost frame is released to inner at once; a duplicate is a copy in
 *   the wrapper's own memory (reported in total and rx_borrowed while the
 *   stack holds it); held frames are reported as fill (not yet received).
 * Destroying the wrapper gives held frames back to inner, then frees inner. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"

#define FAULT_HOLD_MAX 16      /* frames held back at once, per direction */
#define FAULT_HOLD_POLLS 4     /* flushes (tx) or rx bursts a held frame waits at most */
#define FAULT_COPIES 64	       /* rx duplicates lent to the stack at once */
#define FAULT_OWN (1ull << 63) /* handle bit of an rx duplicate's copy */
#define FAULT_BURST_MAX 256    /* frames per rx_burst call */

struct fault_held {
	struct xs_frame f;
	uint32_t len;
	int frames_left; /* later frames still to pass it */
	int polls_left;	 /* flushes or bursts before it goes anyway */
};

struct fault_dev {
	struct xs_dev dev;
	struct xs_dev *inner; /* owned */
	struct xs_fault_config cfg;
	uint64_t rng;
	struct xs_fault_stats stats;
	struct fault_held txh[FAULT_HOLD_MAX], rxh[FAULT_HOLD_MAX];
	int ntxh, nrxh;
	uint8_t *copy[FAULT_COPIES]; /* rx duplicates lent out (NULL: free slot) */
	int ncopies;
};

static struct fault_dev *to_fault(const struct xs_dev *d)
{
	return (struct fault_dev *)d->priv;
}

static uint64_t fault_rand(struct fault_dev *p)
{
	/* splitmix64 */
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One draw per decision, even when the probability is 0, so that changing one
 * probability does not shift the faults drawn for the others. */
static bool fault_hit(struct fault_dev *p, uint16_t permille)
{
	return fault_rand(p) % 1000 < permille;
}

static bool fault_eligible(const struct fault_dev *p, const uint8_t *data, uint32_t len)
{
	if (!p->cfg.ipv4_only)
		return len > 0;
	return len >= 14 && data[12] == 0x08 && data[13] == 0x00;
}

static void fault_corrupt(struct fault_dev *p, uint8_t *data, uint32_t len)
{
	uint64_t r = fault_rand(p);

	data[r % len] ^= (uint8_t)(1u << ((r >> 32) & 7));
}

static int fault_depth(const struct xs_fault_dir *d)
{
	return d->reorder_depth ? d->reorder_depth : 3;
}

/* --- tx ----------------------------------------------------------------- */

static void tx_out(struct fault_dev *p, const struct xs_frame *f, uint32_t len);

/* A frame went out: held frames it overtook may follow it now. */
static void tx_passed(struct fault_dev *p)
{
	int i = 0;

	while (i < p->ntxh) {
		if (--p->txh[i].frames_left <= 0) {
			struct fault_held h = p->txh[i];

			memmove(&p->txh[i], &p->txh[i + 1], (size_t)(p->ntxh - i - 1) * sizeof(h));
			p->ntxh--;
			tx_out(p, &h.f, h.len);
			i = 0; /* the list changed under us */
			continue;
		}
		i++;
	}
}

static void tx_out(struct fault_dev *p, const struct xs_frame *f, uint32_t len)
{
	xs_dev_tx_submit(p->inner, f, len);
	tx_passed(p);
}

static int fault_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	return xs_dev_tx_alloc(to_fault(d)->inner, f);
}

static void fault_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	xs_dev_tx_abort(to_fault(d)->inner, f);
}

static void fault_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct fault_dev *p = to_fault(d);
	const struct xs_fault_dir *c = &p->cfg.tx;
	struct xs_frame dup;
	bool lose, corrupt, twice, hold;

	if (!fault_eligible(p, f->data, len)) {
		tx_out(p, f, len);
		return;
	}
	p->stats.tx_frames++;
	lose = fault_hit(p, c->loss);
	corrupt = fault_hit(p, c->corrupt);
	twice = fault_hit(p, c->dup);
	hold = fault_hit(p, c->reorder);
	if (lose) {
		p->stats.tx_lost++;
		xs_dev_tx_abort(p->inner, f);
		return;
	}
	if (corrupt) {
		p->stats.tx_corrupted++;
		fault_corrupt(p, f->data, len);
	}
	if (twice) {
		if (xs_dev_tx_alloc(p->inner, &dup) == 0) {
			if (dup.cap >= len) {
				memcpy(dup.data, f->data, len);
				p->stats.tx_duplicated++;
				tx_out(p, f, len);
				tx_out(p, &dup, len);
				return;
			}
			xs_dev_tx_abort(p->inner, &dup);
		}
		p->stats.tx_dup_skipped++;
	}
	if (hold && p->ntxh < FAULT_HOLD_MAX) {
		struct fault_held *h = &p->txh[p->ntxh++];

		p->stats.tx_reordered++;
		h->f = *f;
		h->len = len;
		h->frames_left = fault_depth(c);
		h->polls_left = FAULT_HOLD_POLLS;
		return;
	}
	tx_out(p, f, len);
}

static int fault_flush(struct xs_dev *d)
{
	struct fault_dev *p = to_fault(d);
	int i = 0;

	/* Held frames that waited long enough leave in the order they came. */
	while (i < p->ntxh) {
		if (--p->txh[i].polls_left <= 0) {
			struct fault_held h = p->txh[i];

			memmove(&p->txh[i], &p->txh[i + 1], (size_t)(p->ntxh - i - 1) * sizeof(h));
			p->ntxh--;
			xs_dev_tx_submit(p->inner, &h.f, h.len);
			continue;
		}
		i++;
	}
	return xs_dev_flush(p->inner);
}

/* --- rx ----------------------------------------------------------------- */

/* A copy of f in the wrapper's memory, as an rx frame; -ENOBUFS if none. */
static int rx_copy(struct fault_dev *p, const struct xs_frame *f, struct xs_frame *out)
{
	int i;

	for (i = 0; i < FAULT_COPIES; i++)
		if (!p->copy[i])
			break;
	if (i == FAULT_COPIES)
		return -ENOBUFS;
	p->copy[i] = malloc(f->len ? f->len : 1);
	if (!p->copy[i])
		return -ENOBUFS;
	memcpy(p->copy[i], f->data, f->len);
	out->data = p->copy[i];
	out->len = f->len;
	out->cap = f->len;
	out->handle = FAULT_OWN | (uint64_t)i;
	out->meta = f->meta;
	p->ncopies++;
	return 0;
}

/* Appends held rx frames that are due (or all of them if force) to out. */
static int rx_release_held(struct fault_dev *p, struct xs_frame *out, int n, int max, bool aged)
{
	int i = 0;

	while (i < p->nrxh && n < max) {
		struct fault_held *h = &p->rxh[i];

		if (h->frames_left <= 0 || (aged && h->polls_left <= 0)) {
			out[n++] = h->f;
			memmove(h, h + 1, (size_t)(p->nrxh - i - 1) * sizeof(*h));
			p->nrxh--;
			continue;
		}
		i++;
	}
	return n;
}

static void rx_passed(struct fault_dev *p)
{
	int i;

	for (i = 0; i < p->nrxh; i++)
		p->rxh[i].frames_left--;
}

static int fault_rx_burst(struct xs_dev *d, struct xs_frame *out, int max)
{
	struct fault_dev *p = to_fault(d);
	const struct xs_fault_dir *c = &p->cfg.rx;
	struct xs_frame in[FAULT_BURST_MAX], lost[FAULT_BURST_MAX];
	int n = 0, nin, nlost = 0, i;

	if (max > FAULT_BURST_MAX)
		max = FAULT_BURST_MAX;
	for (i = 0; i < p->nrxh; i++)
		p->rxh[i].polls_left--;
	n = rx_release_held(p, out, n, max, true);
	for (i = 0; i < max - n; i++)
		in[i].meta = 0;
	nin = xs_dev_rx_burst(p->inner, in, max - n);
	if (nin < 0)
		return n ? n : nin;
	for (i = 0; i < nin; i++) {
		struct xs_frame *f = &in[i];
		bool lose, corrupt, twice, hold;

		if (!fault_eligible(p, f->data, f->len)) {
			out[n++] = *f;
			rx_passed(p);
			n = rx_release_held(p, out, n, max - (nin - i - 1), false);
			continue;
		}
		p->stats.rx_frames++;
		lose = fault_hit(p, c->loss);
		corrupt = fault_hit(p, c->corrupt);
		twice = fault_hit(p, c->dup);
		hold = fault_hit(p, c->reorder);
		if (lose) {
			p->stats.rx_lost++;
			lost[nlost++] = *f;
			continue;
		}
		if (corrupt) {
			p->stats.rx_corrupted++;
			fault_corrupt(p, f->data, f->len);
		}
		if (hold && !twice && p->nrxh < FAULT_HOLD_MAX) {
			struct fault_held *h = &p->rxh[p->nrxh++];

			p->stats.rx_reordered++;
			h->f = *f;
			h->len = f->len;
			h->frames_left = fault_depth(c);
			h->polls_left = FAULT_HOLD_POLLS;
			continue;
		}
		out[n++] = *f;
		rx_passed(p);
		/* Every frame taken from inner has a place in out; a duplicate
		 * only if room is left after the frames still to come. */
		if (twice) {
			if (n < max - (nin - i - 1) && rx_copy(p, f, &out[n]) == 0) {
				p->stats.rx_duplicated++;
				n++;
				rx_passed(p);
			} else {
				p->stats.rx_dup_skipped++;
			}
		}
		n = rx_release_held(p, out, n, max - (nin - i - 1), false);
	}
	if (nlost)
		xs_dev_rx_release(p->inner, lost, nlost);
	return n;
}

static void fault_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	struct fault_dev *p = to_fault(d);
	struct xs_frame inner[FAULT_BURST_MAX];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (f[i].handle & FAULT_OWN) {
			uint64_t slot = f[i].handle & ~FAULT_OWN;

			if (slot < FAULT_COPIES && p->copy[slot]) {
				free(p->copy[slot]);
				p->copy[slot] = NULL;
				p->ncopies--;
			}
			continue;
		}
		inner[k++] = f[i];
		if (k == FAULT_BURST_MAX) {
			xs_dev_rx_release(p->inner, inner, k);
			k = 0;
		}
	}
	if (k)
		xs_dev_rx_release(p->inner, inner, k);
}

/* --- the rest ------------------------------------------------------------- */

static void fault_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct fault_dev *p = to_fault(d);
	uint32_t txh = (uint32_t)p->ntxh, rxh = (uint32_t)p->nrxh;

	p->inner->ops->frames(p->inner, out);
	/* Held tx frames were submitted; held rx frames are not received yet. */
	out->tx_borrowed -= txh < out->tx_borrowed ? txh : out->tx_borrowed;
	out->tx_queued += txh;
	out->rx_borrowed -= rxh < out->rx_borrowed ? rxh : out->rx_borrowed;
	out->fill += rxh;
	/* Duplicates the stack holds are frames of ours. */
	out->total += (uint32_t)p->ncopies;
	out->rx_borrowed += (uint32_t)p->ncopies;
}

static void fault_destroy(struct xs_dev *d)
{
	struct fault_dev *p = to_fault(d);
	int i;

	for (i = 0; i < p->ntxh; i++)
		xs_dev_tx_abort(p->inner, &p->txh[i].f);
	for (i = 0; i < p->nrxh; i++)
		xs_dev_rx_release(p->inner, &p->rxh[i].f, 1);
	for (i = 0; i < FAULT_COPIES; i++)
		free(p->copy[i]);
	xs_dev_free(p->inner);
	free(p);
}

static const struct xs_dev_ops fault_ops = {
    .rx_burst = fault_rx_burst,
    .rx_release = fault_rx_release,
    .tx_alloc = fault_tx_alloc,
    .tx_submit = fault_tx_submit,
    .tx_abort = fault_tx_abort,
    .flush = fault_flush,
    .frames = fault_frames,
    .destroy = fault_destroy,
};

struct xs_dev *xs_fault_dev_new(struct xs_dev *inner, const struct xs_fault_config *cfg)
{
	struct fault_dev *p;

	if (!inner || !cfg) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->inner = inner;
	p->cfg = *cfg;
	p->rng = cfg->seed;
	p->dev.ops = &fault_ops;
	memcpy(p->dev.mac, inner->mac, sizeof(p->dev.mac));
	p->dev.mtu = inner->mtu;
	p->dev.ifindex = inner->ifindex;
	p->dev.fd = inner->fd;
	p->dev.priv = p;
	return &p->dev;
}

void xs_fault_dev_set(struct xs_dev *d, const struct xs_fault_config *cfg)
{
	struct fault_dev *p = to_fault(d);
	uint64_t seed = p->cfg.seed;

	p->cfg = *cfg;
	p->cfg.seed = seed;
}

const struct xs_fault_stats *xs_fault_dev_stats(const struct xs_dev *d)
{
	return &to_fault(d)->stats;
}
