/* Map layout shared by the XDP steering program (bpf/xdp_steer.bpf.c) and
 * the loader (user/dev/afxdp.c). Plain fixed-width types only. */
#ifndef XS_STEER_H
#define XS_STEER_H

#include <linux/types.h>

#define XS_STEER_MAX_QUEUES 64

/* Key 0 of the config array. Addresses in network byte order. */
struct xs_steer_cfg {
	__u32 ip4;   /* the stack's IPv4 address; 0 = none yet */
	__u32 flags; /* XS_STEER_F_* */
	__u16 vlan;  /* 802.1Q id (host order) the stack lives on; 0 = untagged */
	__u16 pad;
	/* Not read by the program: the pid of the xdpstack that loaded it, so
	 * a later one can tell a leftover from a program still in use. */
	__u32 owner_pid;
	__u8 mac[6]; /* the stack's MAC: DHCP replies and ARP for it (F_DHCP) */
	__u16 pad2;
};

/* While DHCP runs the stack has no address: also take UDP to port 68 whose
 * BOOTP chaddr is the stack's MAC (so the kernel's own DHCP client, with the
 * interface's MAC, is never robbed), and ARP whose target MAC is the stack's
 * (the replies to its RFC 5227 probe). */
#define XS_STEER_F_DHCP 1u

/* IPv6 (user/net6/): key 0 of xs_cfg6. The stack's addresses, tentative
 * ones included (DAD must hear solicitations and advertisements for them). */
#define XS_STEER_MAX_ADDR6 8
#define XS_STEER6_F_RA 1u /* also take Router Advertisements to all-nodes (SLAAC) */

struct xs_steer_cfg6 {
	__u32 naddr;
	__u32 flags; /* XS_STEER6_F_* */
	__u8 addr[XS_STEER_MAX_ADDR6][16];
};

enum xs_steer_counter {
	XS_STEER_REDIRECTED = 0,
	XS_STEER_PASSED = 1,
	XS_STEER_FILTER_DROPPED = 2, /* frames to the stack a filter rule dropped */
	XS_STEER_NCOUNTERS = 3,
};

/* The packet filter's inbound rules as the program walks them (compiled by
 * user/net/filter.c). Two tables in xs_ftab; xs_fidx key 0 says which is in
 * force: the loader writes the other one whole (its buckets and counters
 * first), then flips the index, so a frame meets one rule set or the other,
 * never a mix. */
#define XS_STEER_MAX_RULES 64
#define XS_STEER_ACT_DROP 1  /* XDP_DROP on a match */
#define XS_STEER_ACT_STACK 2 /* a match ends the walk: to the stack, with a verdict */

struct xs_steer_rule {
	__u32 src, src_mask; /* network order */
	__u32 dst, dst_mask;
	__u16 sport_lo, sport_hi; /* host order */
	__u16 dport_lo, dport_hi;
	__u8 proto; /* 0 any */
	__u8 flags_mask, flags_set;
	__u8 action;  /* XS_STEER_ACT_* */
	__u8 need_l4; /* names ports or flags: undecidable without the header */
	__u8 idx;     /* the rule's position in the stack's table */
	__u8 pad[2];
	/* rate: a match counts only while the rule's bucket in xs_fbkt (this
	 * CPU's) has a token; else the walk goes on (iptables `limit`). */
	__u32 rate;  /* packets per second, 0: no rate condition */
	__u32 burst; /* bucket depth, packets */
	__u32 id;    /* the stack's id of the rule: the loader carries its bucket over */
};

struct xs_steer_table {
	__u32 n;
	__u32 policy_drop; /* the walk ended with no match: drop (1) or to the stack */
	__u32 tag;	   /* stamped into each verdict (struct xs_steer_meta) */
	__u32 pad;
	struct xs_steer_rule r[XS_STEER_MAX_RULES];
};

/* xs_fcnt (per CPU): table slot * XS_STEER_CNT_PER_SLOT + position, the
 * last one of each slot for the policy. */
#define XS_STEER_CNT_PER_SLOT (XS_STEER_MAX_RULES + 1)
struct xs_steer_rule_cnt {
	__u64 pkts; /* dropped by the rule in XDP */
	__u64 bytes;
	__u64 limited; /* matched, but the bucket had no token: the walk went on */
};

/* xs_fbkt (per CPU): slot * XS_STEER_MAX_RULES + position. Tokens count
 * packets x 1e9, so any rate up to 10^7/s refills exactly per nanosecond;
 * last 0 means never used: full. Each CPU has its own bucket of the rule's
 * whole rate and burst (docs/DESIGN.md "Packet filter"). */
#define XS_STEER_NS_PER_TOKEN 1000000000ull
struct xs_steer_bucket {
	__u64 tokens;
	__u64 last; /* bpf_ktime_get_ns of the last refill */
};

/* What the program decided about a frame it hands to the stack, in the XDP
 * metadata in front of it: which rule matched (its stack position), or that
 * the walk ended in the policy. Written only for an unfragmented IPv4 packet
 * to the stack's address that the table judged; the stack trusts it only
 * while tag is the one of the table it put in force, else judges itself. */
#define XS_STEER_META_MAGIC 0x5846u /* "XF" */
#define XS_STEER_V_RULE 1
#define XS_STEER_V_POLICY 2
struct xs_steer_meta {
	__u32 tag;
	__u16 magic;
	__u8 verdict; /* XS_STEER_V_* */
	__u8 rule;    /* XS_STEER_V_RULE: the stack's position */
};

#endif
