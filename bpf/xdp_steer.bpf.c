/* XDP steering program: redirects the frames that belong to xdpstack (ARP for its IPv4
 * address, IPv4 to it, DHCP replies, IPv6 to its addresses and their neighbor discovery) to
 * its AF_XDP socket, IPv4 after its filter; passes the rest. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "bpf/steer.h"

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define VLAN_HLEN_ 4
#define VLAN_VID_MASK_ 0x0fff
#define ARP_BODY_LEN 28
#define IP4_MIN_HLEN 20
#define UDP_HLEN 8
#define DHCP_CLIENT_PORT 68
#define BOOTP_CHADDR_OFF 28
#define MAX_VLAN_TAGS 2

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xs_steer_cfg);
} xs_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xs_steer_cfg6);
} xs_cfg6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XS_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xs_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XS_STEER_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} xs_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct xs_steer_table);
} xs_ftab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xs_fidx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * XS_STEER_CNT_PER_SLOT);
	__type(key, __u32);
	__type(value, struct xs_steer_rule_cnt);
} xs_fcnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * XS_STEER_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xs_steer_bucket);
} xs_fbkt SEC(".maps");

/* libxdp dispatcher: run before default-priority programs, and let the next
 * program see whatever we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xs_steer);

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&xs_stats, &idx);

	if (c)
		*c += 1;
}

static __always_inline int pass(void)
{
	count(XS_STEER_PASSED);
	return XDP_PASS;
}

/* Loads of network-order fields through byte pointers: no alignment assumed. */
static __always_inline __u16 ld_be16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

static __always_inline __u32 ld_raw32(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* ARP: take it when it asks about (or answers to) our address. The body must
 * be Ethernet/IPv4 shaped (hlen 6, plen 4), else the offsets mean nothing. */
static __always_inline int mac_eq(const __u8 *p, const __u8 *mac)
{
	return p[0] == mac[0] && p[1] == mac[1] && p[2] == mac[2] && p[3] == mac[3] &&
	       p[4] == mac[4] && p[5] == mac[5];
}

static __always_inline int want_arp(const __u8 *l3, const void *end, const struct xs_steer_cfg *cfg)
{
	if ((const void *)(l3 + ARP_BODY_LEN) > end)
		return 0;
	if (ld_be16(l3 + 2) != ETH_P_IP || l3[4] != ETH_ALEN || l3[5] != 4)
		return 0;
	if ((cfg->flags & XS_STEER_F_DHCP) && mac_eq(l3 + 18, cfg->mac))
		return 1;
	return cfg->ip4 != 0 && ld_raw32(l3 + 24) == cfg->ip4;
}

/* IPv4: destination is our address; or, while DHCP runs, UDP to port 68
 * in an unfragmented (or first-fragment) datagram. */
static __always_inline int want_ip4(const __u8 *l3, const void *end, const struct xs_steer_cfg *cfg)
{
	const __u8 *l4;
	__u32 ihl;

	if ((const void *)(l3 + IP4_MIN_HLEN) > end)
		return 0;
	if (cfg->ip4 != 0 && ld_raw32(l3 + 16) == cfg->ip4)
		return 1;
	if (!(cfg->flags & XS_STEER_F_DHCP))
		return 0;
	if ((l3[0] >> 4) != 4 || l3[9] != IPPROTO_UDP)
		return 0;
	if (ld_be16(l3 + 6) & 0x1fff) /* not the first fragment: no UDP header */
		return 0;
	ihl = (l3[0] & 0x0f) * 4;
	if (ihl < IP4_MIN_HLEN)
		return 0;
	l4 = l3 + ihl;
	/* UDP header, then BOOTP: chaddr at 28 */
	if ((const void *)(l4 + UDP_HLEN + BOOTP_CHADDR_OFF + ETH_ALEN) > end)
		return 0;
	return ld_be16(l4 + 2) == DHCP_CLIENT_PORT &&
	       mac_eq(l4 + UDP_HLEN + BOOTP_CHADDR_OFF, cfg->mac);
}

/* IPv6 (RFC 8200, 4861). */
#define IP6_HLEN 40
#define NEXTHDR_ICMP6 58
#define ND_RA 134
#define ND_NS 135
#define ND_NA 136
#define ND_TARGET_OFF 8
#define ND_NS_MIN 24

static __always_inline int addr6_eq(const __u8 *p, const __u8 *a)
{
	__u64 x0, x1, y0, y1;

	__builtin_memcpy(&x0, p, 8);
	__builtin_memcpy(&x1, p + 8, 8);
	__builtin_memcpy(&y0, a, 8);
	__builtin_memcpy(&y1, a + 8, 8);
	return x0 == y0 && x1 == y1;
}

/* p points at 16 bytes inside the packet (checked by the caller). */
static __always_inline int addr6_ours(const __u8 *p, const struct xs_steer_cfg6 *c)
{
	__u32 i;

	for (i = 0; i < XS_STEER_MAX_ADDR6; i++) {
		if (i >= c->naddr)
			break;
		if (addr6_eq(p, c->addr[i]))
			return 1;
	}
	return 0;
}

/* IPv6: to one of the stack's addresses; to multicast only neighbor
 * discovery about them (a Neighbor Solicitation or Advertisement whose
 * target is theirs, an ICMPv6 header right after the IPv6 header), and
 * Router Advertisements while SLAAC wants them. The kernel's own NDP, MLD
 * and traffic pass. */
static __always_inline int want_ip6(const __u8 *l3, const void *end,
				    const struct xs_steer_cfg6 *c)
{
	const __u8 *icmp = l3 + IP6_HLEN;

	if ((const void *)(l3 + IP6_HLEN) > end || (l3[0] >> 4) != 6)
		return 0;
	if (l3[24] != 0xff)
		return addr6_ours(l3 + 24, c);
	if (l3[6] != NEXTHDR_ICMP6 || (const void *)(icmp + 1) > end)
		return 0;
	if (icmp[0] == ND_RA)
		return (c->flags & XS_STEER6_F_RA) != 0;
	if (icmp[0] != ND_NS && icmp[0] != ND_NA)
		return 0;
	if ((const void *)(icmp + ND_NS_MIN) > end)
		return 0;
	return addr6_ours(icmp + ND_TARGET_OFF, c);
}

static __always_inline struct xs_steer_rule_cnt *rule_cnt(__u32 slot, __u32 pos)
{
	__u32 key = slot * XS_STEER_CNT_PER_SLOT + pos;

	return bpf_map_lookup_elem(&xs_fcnt, &key);
}

static __always_inline void count_rule(__u32 slot, __u32 pos, __u32 len)
{
	struct xs_steer_rule_cnt *c = rule_cnt(slot, pos);

	if (c) {
		c->pkts += 1;
		c->bytes += len;
	}
}

/* One token from this CPU's bucket of rule pos, if it has one. The refill
 * multiplies only below the time a full refill takes, so it cannot overflow
 * (rate <= 10^7, burst <= 10^7: cap <= 10^16). */
static __always_inline int bucket_take(__u32 slot, __u32 pos, const struct xs_steer_rule *r)
{
	__u32 key = slot * XS_STEER_MAX_RULES + pos;
	struct xs_steer_bucket *b = bpf_map_lookup_elem(&xs_fbkt, &key);
	__u64 cap = (__u64)r->burst * XS_STEER_NS_PER_TOKEN, now, dt;

	if (!b || !r->rate)
		return 0;
	now = bpf_ktime_get_ns();
	if (b->last == 0 || b->tokens >= cap) {
		b->tokens = cap;
		b->last = now;
	} else if (now > b->last) {
		dt = now - b->last;
		if (dt >= (cap - b->tokens) / r->rate + 1)
			b->tokens = cap;
		else
			b->tokens += dt * r->rate;
		b->last = now;
	}
	if (b->tokens < XS_STEER_NS_PER_TOKEN)
		return 0;
	b->tokens -= XS_STEER_NS_PER_TOKEN;
	return 1;
}

enum { FJ_STACK = 0, FJ_DROP = 1 };

/* What the walk knows of the packet (read once, before it), and where it
 * ended. The rules are looked at by walk_rule, one bpf_loop step each, so
 * the verifier checks one step whatever the rule count. */
struct walk {
	const struct xs_steer_table *t;
	__u32 slot, len;
	__u32 src, dst; /* network order */
	__u16 sport, dport;
	__u8 proto, flags, has_l4, frag;
	int ret; /* FJ_* once the walk ended on a rule */
	int end; /* 0: go on to the policy; 1: ended */
	struct xs_steer_meta m;
};

static long walk_rule(__u64 i, void *arg)
{
	struct walk *w = arg;
	const struct xs_steer_table *t = w->t;
	const struct xs_steer_rule *r;
	struct xs_steer_rule_cnt *c;

	if (i >= XS_STEER_MAX_RULES || i >= t->n)
		return 1;
	r = &t->r[i];
	if (r->proto && r->proto != w->proto)
		return 0;
	if ((w->src & r->src_mask) != r->src || (w->dst & r->dst_mask) != r->dst)
		return 0;
	if (r->need_l4) {
		if (!w->has_l4) {
			/* A later fragment: the stack decides, reassembled. */
			w->end = 1;
			return 1;
		}
		if (w->sport < r->sport_lo || w->sport > r->sport_hi || w->dport < r->dport_lo ||
		    w->dport > r->dport_hi || (w->flags & r->flags_mask) != r->flags_set)
			return 0;
	}
	if (r->rate) {
		/* A fragmented datagram meets the stack's bucket, whole. */
		if (w->frag) {
			w->end = 1;
			return 1;
		}
		if (!bucket_take(w->slot, (__u32)i, r)) {
			c = rule_cnt(w->slot, (__u32)i);
			if (c)
				c->limited += 1;
			return 0;
		}
	}
	w->end = 1;
	if (r->action == XS_STEER_ACT_DROP) {
		count_rule(w->slot, (__u32)i, w->len);
		w->ret = FJ_DROP;
		return 1;
	}
	if (!w->frag) {
		w->m.tag = t->tag;
		w->m.verdict = XS_STEER_V_RULE;
		w->m.rule = r->idx;
	}
	return 1;
}

/* The filter's inbound rules for an IPv4 packet to our address: FJ_DROP to
 * drop it here, FJ_STACK to hand it to the stack, with *m filled when the
 * walk decided (a rule matched, or the policy accepts): the stack carries
 * that out. m->verdict 0: the stack judges the packet itself (a fragment:
 * it judges the whole datagram). At most XS_STEER_MAX_RULES steps. */
static __always_inline int filter_judge(const __u8 *l3, const void *end, struct xs_steer_meta *m)
{
	struct walk w = {};
	__u32 key = 0, ihl;
	__u32 *idx;

	if ((const void *)(l3 + IP4_MIN_HLEN) > end)
		return FJ_STACK;
	idx = bpf_map_lookup_elem(&xs_fidx, &key);
	if (!idx)
		return FJ_STACK;
	w.slot = *idx & 1;
	w.t = bpf_map_lookup_elem(&xs_ftab, &w.slot);
	if (!w.t || (w.t->n == 0 && !w.t->policy_drop))
		return FJ_STACK;
	if ((l3[0] >> 4) != 4)
		return FJ_STACK;
	ihl = (l3[0] & 0x0f) * 4;
	if (ihl < IP4_MIN_HLEN || ihl > 60)
		return FJ_STACK;
	w.proto = l3[9];
	w.len = ld_be16(l3 + 2);
	w.src = ld_raw32(l3 + 12);
	w.dst = ld_raw32(l3 + 16);
	w.frag = (ld_be16(l3 + 6) & 0x3fff) != 0; /* MF or an offset */
	if (!(ld_be16(l3 + 6) & 0x1fff)) {	  /* first fragment or whole: a header */
		const __u8 *l4 = l3 + ihl;

		if (w.proto == IPPROTO_UDP && (const void *)(l4 + UDP_HLEN) <= end) {
			w.sport = ld_be16(l4);
			w.dport = ld_be16(l4 + 2);
			w.has_l4 = 1;
		} else if (w.proto == IPPROTO_TCP && (const void *)(l4 + 20) <= end) {
			w.sport = ld_be16(l4);
			w.dport = ld_be16(l4 + 2);
			w.flags = l4[13];
			w.has_l4 = 1;
		}
	}
	bpf_loop(XS_STEER_MAX_RULES, walk_rule, &w, 0);
	if (w.end) {
		*m = w.m;
		return w.ret;
	}
	if (w.t->policy_drop) {
		count_rule(w.slot, XS_STEER_MAX_RULES, w.len);
		return FJ_DROP;
	}
	if (!w.frag) {
		m->tag = w.t->tag;
		m->verdict = XS_STEER_V_POLICY;
	}
	return FJ_STACK;
}

/* The verdict into the XDP metadata in front of the frame (the AF_XDP copy
 * carries it to user space). A driver without metadata: nothing, and the
 * stack judges the packet itself. */
static __always_inline void filter_mark(struct xdp_md *ctx, const struct xs_steer_meta *m)
{
	struct xs_steer_meta *dst;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	dst = (void *)(long)ctx->data_meta;
	if ((void *)(dst + 1) > (void *)(long)ctx->data)
		return;
	*dst = *m;
	dst->magic = XS_STEER_META_MAGIC;
}

SEC("xdp")
int xs_steer(struct xdp_md *ctx)
{
	const void *data = (const void *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	const struct xs_steer_cfg *cfg;
	const struct xs_steer_cfg6 *cfg6;
	const __u8 *p = data;
	__u32 key = 0, ntags = 0, vid = 0;
	__u16 proto;
	int want = 0, ret, i;

	cfg = bpf_map_lookup_elem(&xs_cfg, &key);
	cfg6 = bpf_map_lookup_elem(&xs_cfg6, &key);
	if (!cfg || !cfg6 || (cfg->ip4 == 0 && !(cfg->flags & XS_STEER_F_DHCP) && !cfg6->naddr))
		return pass();

	if ((const void *)(p + ETH_HLEN) > end)
		return pass();
	proto = ld_be16(p + 12);
	p += ETH_HLEN;

#pragma unroll
	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		if ((const void *)(p + VLAN_HLEN_) > end)
			return pass();
		vid = ld_be16(p) & VLAN_VID_MASK_;
		proto = ld_be16(p + 2);
		p += VLAN_HLEN_;
		ntags++;
	}
	/* Stacked tags (QinQ, or more than two): the stack has a single VLAN
	 * id and no outer tag to answer with, so such a frame is never its own. */
	if (proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_ || ntags > 1)
		return pass();
	if (cfg->vlan == 0 ? ntags != 0 : (ntags != 1 || vid != cfg->vlan))
		return pass();

	if (proto == ETH_P_ARP)
		want = want_arp(p, end, cfg);
	else if (proto == ETH_P_IP)
		want = want_ip4(p, end, cfg);
	else if (proto == ETH_P_IPV6 && cfg6->naddr)
		want = want_ip6(p, end, cfg6);
	if (!want)
		return pass();
	if (proto == ETH_P_IP && cfg->ip4 != 0 && ld_raw32(p + 16) == cfg->ip4) {
		struct xs_steer_meta m = {};

		if (filter_judge(p, end, &m) == FJ_DROP) {
			count(XS_STEER_FILTER_DROPPED);
			return XDP_DROP;
		}
		if (m.verdict)
			filter_mark(ctx, &m);
	}

	ret = bpf_redirect_map(&xs_xsks, ctx->rx_queue_index, XDP_PASS);
	count(ret == XDP_REDIRECT ? XS_STEER_REDIRECTED : XS_STEER_PASSED);
	return ret;
}

char _license[] SEC("license") = "GPL";
