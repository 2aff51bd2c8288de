/* The XDP program's filter tables: write the idle table whole, then flip the
 * index (a frame meets one rule set or the other), and harvest per-CPU counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev/afxdp_filter.h"

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
		struct xs_steer_rule_cnt sum = {0, 0};

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
		}
		delta[i].pkts = sum.pkts - f->seen[i].pkts;
		delta[i].bytes = sum.bytes - f->seen[i].bytes;
		f->seen[i] = sum;
	}
	free(v);
	*t = f->cur;
	return ret;
}
