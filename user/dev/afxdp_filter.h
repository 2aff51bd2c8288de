/* The XDP program's filter tables as the AF_XDP device holds them: map fds,
 * the table in force and what its counters showed at the last harvest. */
#ifndef XS_DEV_AFXDP_FILTER_H
#define XS_DEV_AFXDP_FILTER_H

#include <stdint.h>

#include "bpf/steer.h"

struct afxdp_filter {
	int ftab_fd, fidx_fd, fcnt_fd, fbkt_fd;
	uint32_t slot;		   /* the table in force (xs_fidx) */
	struct xs_steer_table cur; /* its copy */
	struct xs_steer_rule_cnt seen[XS_STEER_CNT_PER_SLOT];
};

/* Puts t in force: the idle slot's counters zeroed and its rate buckets
 * written (a rule the table in force also has, by id, keeps its buckets as
 * they are on every CPU; a new one starts full), then t there, then the
 * index flipped. A frame meets one whole table or the other. */
int afxdp_filter_set(struct afxdp_filter *f, const struct xs_steer_table *t);
/* The table in force into *t and, by position (XS_STEER_MAX_RULES: the
 * policy), what its counters grew by since the last harvest or set. */
int afxdp_filter_harvest(struct afxdp_filter *f, struct xs_steer_table *t,
			 struct xs_steer_rule_cnt *delta);
/* The verdict (struct xs_steer_meta) the program put in the XDP metadata in
 * front of a received frame, as xs_frame.meta; 0 if none. data is in UMEM
 * behind the XDP headroom, so the 8 bytes before it are ours to read; they
 * are cleared, so the next frame in this UMEM frame cannot show them again. */
uint64_t afxdp_filter_take_meta(uint8_t *data);

#endif
