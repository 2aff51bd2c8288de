/* The XDP program's filter tables as the AF_XDP device holds them: map fds,
 * the table in force and what its counters showed at the last harvest. */
#ifndef XS_DEV_AFXDP_FILTER_H
#define XS_DEV_AFXDP_FILTER_H

#include <stdint.h>

#include "bpf/steer.h"

struct afxdp_filter {
	int ftab_fd, fidx_fd, fcnt_fd;
	uint32_t slot;		   /* the table in force (xs_fidx) */
	struct xs_steer_table cur; /* its copy */
	struct xs_steer_rule_cnt seen[XS_STEER_CNT_PER_SLOT];
};

/* Zeroes the idle slot's counters, writes t there, then flips xs_fidx. */
int afxdp_filter_set(struct afxdp_filter *f, const struct xs_steer_table *t);
/* The table in force into *t and, by position (XS_STEER_MAX_RULES: the
 * policy), what its counters grew by since the last harvest or set. */
int afxdp_filter_harvest(struct afxdp_filter *f, struct xs_steer_table *t,
			 struct xs_steer_rule_cnt *delta);

#endif
