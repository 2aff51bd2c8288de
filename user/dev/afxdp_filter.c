/* The XDP program's filter tables: write the idle table whole (buckets carried
 * over by rule id), then flip the index; harvest per-CPU counts; read verdicts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev/afxdp_filter.h"

_Static_assert(sizeof(struct xs_steer_meta) == sizeof(uint64_t), "xs_frame.meta holds a verdict");

/* The idle slot's buckets for t: a rule the table in force has too (same id)
 * gets what its buckets hold now, per CPU; any other starts full (zero: never
 * used). CPUs still take tokens from the old slot until the flip, so a
 * carried bucket may be a few tokens fuller than it ends up there. */
static int buckets_carry(struct afxdp_filter *f, uint32_t next, const struct xs_steer_table *t,
			 int ncpu)
{
	struct xs_steer_bucket *b = calloc((size_t)ncpu, sizeof(*b));
	uint32_t i, j, key, from;
	int ret = 0;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->n && i < XS_STEER_MAX_RULES && !ret; i++) {
		memset(b, 0, (size_t)ncpu * sizeof(*b));
		for (j = 0; t->r[i].rate && j < f->cur.n && j < XS_STEER_MAX_RULES; j++) {
			if (f->cur.r[j].id != t->r[i].id || !f->cur.r[j].rate)
				continue;
			from = f->slot * XS_STEER_MAX_RULES + j;
			if (bpf_map_lookup_elem(f->fbkt_fd, &from, b))
				memset(b, 0, (size_t)ncpu * sizeof(*b));
			break;
		}
		key = next * XS_STEER_MAX_RULES + i;
		if (bpf_map_update_elem(f->fbkt_fd, &key, b, BPF_ANY))
			ret = -errno;
	}
	free(b);
	return ret;
}

int afxdp_filter_set(struct afxdp_filter *f, const struct xs_steer_table *t)
{
	uint32_t next = f->slot ^ 1, key, i;
	struct xs_steer_rule_cnt *z;
	int ncpu = libbpf_num_possible_cpus(), ret = 0;

	if (ncpu <= 0)
		return -EINVAL;
	z = calloc((size_t)ncpu, sizeof(*z));
	if (!z)
		return -ENOMEM;
	for (i = 0; i < XS_STEER_CNT_PER_SLOT && !ret; i++) {
		key = next * XS_STEER_CNT_PER_SLOT + i;
		if (bpf_map_update_elem(f->fcnt_fd, &key, z, BPF_ANY))
			ret = -errno;
	}
	free(z);
	if (!ret)
		ret = buckets_carry(f, next, t, ncpu);
	if (ret)
		return ret;
	/* The idle table whole, then the index: a frame sees one or the other. */
	if (bpf_map_update_elem(f->ftab_fd, &next, t, BPF_ANY))
		return -errno;
	key = 0;
	if (bpf_map_update_elem(f->fidx_fd, &key, &next, BPF_ANY))
		return -errno;
	f->slot = next;
	f->cur = *t;
	memset(f->seen, 0, sizeof(f->seen));
	return 0;
}

int afxdp_filter_harvest(struct afxdp_filter *f, struct xs_steer_table *t,
			 struct xs_steer_rule_cnt *delta)
{
	int ncpu = libbpf_num_possible_cpus(), c, ret = 0;
	struct xs_steer_rule_cnt *v;
	uint32_t i, key;

	if (ncpu <= 0)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(delta, 0, XS_STEER_CNT_PER_SLOT * sizeof(*delta));
	for (i = 0; i < XS_STEER_CNT_PER_SLOT; i++) {
		struct xs_steer_rule_cnt sum = {0, 0, 0};

		if (i < XS_STEER_MAX_RULES && i >= f->cur.n)
			continue;
		key = f->slot * XS_STEER_CNT_PER_SLOT + i;
		if (bpf_map_lookup_elem(f->fcnt_fd, &key, v)) {
			ret = -errno;
			break;
		}
		for (c = 0; c < ncpu; c++) {
			sum.pkts += v[c].pkts;
			sum.bytes += v[c].bytes;
			sum.limited += v[c].limited;
		}
		delta[i].pkts = sum.pkts - f->seen[i].pkts;
		delta[i].bytes = sum.bytes - f->seen[i].bytes;
		delta[i].limited = sum.limited - f->seen[i].limited;
		f->seen[i] = sum;
	}
	free(v);
	*t = f->cur;
	return ret;
}

uint64_t afxdp_filter_take_meta(uint8_t *data)
{
	struct xs_steer_meta m;
	uint64_t v = 0;

	memcpy(&m, data - sizeof(m), sizeof(m));
	if (m.magic != XS_STEER_META_MAGIC)
		return 0;
	memcpy(&v, &m, sizeof(v));
	memset(data - sizeof(m), 0, sizeof(m));
	return v;
}
