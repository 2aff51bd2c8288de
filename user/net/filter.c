/* The packet filter in the stack: rule table edits that leave it whole on any
 * error, first-match evaluation with token buckets, and the ip4 in/out hooks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bpf/steer.h"
#include "core/stack.h"
#include "net/filter.h"
#include "net/icmp.h"
#include "net/ip4.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#define NS_PER_SEC 1000000000ull

void filter_table_init(struct filter_table *t)
{
	memset(t, 0, sizeof(*t));
	t->policy[0] = t->policy[1] = FILTER_ACCEPT;
	/* A random start: a verdict stamped by another run's table, or bytes
	 * that happen to look like one, do not match by chance. */
	if (getrandom(&t->gen, sizeof(t->gen), GRND_NONBLOCK) != sizeof(t->gen))
		t->gen = (uint32_t)(uintptr_t)t ^ 0x5846c0deu;
}

static void bucket_fill(struct filter_bucket *b, const struct filter_rule *r)
{
	b->tokens = (uint64_t)r->burst * NS_PER_SEC;
	b->last = 0;
}

/* Rules [from, n) of every per-rule array move to start at to. */
static void rules_move(struct filter_table *t, unsigned to, unsigned from)
{
	unsigned k = t->n - from;

#define MOVE(a) memmove(&t->a[to], &t->a[from], k * sizeof(t->a[0]))
	MOVE(rule);
	MOVE(cnt);
	MOVE(xdp_cnt);
	MOVE(bucket);
	MOVE(limited);
	MOVE(xdp_limited);
	MOVE(id);
#undef MOVE
}

/* Rule pos starts afresh: counters zero, bucket full, a new id. */
static void rule_fresh(struct filter_table *t, unsigned pos)
{
	memset(&t->cnt[pos], 0, sizeof(t->cnt[pos]));
	memset(&t->xdp_cnt[pos], 0, sizeof(t->xdp_cnt[pos]));
	t->limited[pos] = t->xdp_limited[pos] = 0;
	bucket_fill(&t->bucket[pos], &t->rule[pos]);
	t->id[pos] = ++t->next_id;
}

int filter_table_insert(struct filter_table *t, unsigned pos, const struct filter_rule *r)
{
	if (pos > t->n)
		return -ERANGE;
	if (t->n >= FILTER_MAX_RULES)
		return -ENOSPC;
	rules_move(t, pos + 1, pos);
	t->rule[pos] = *r;
	rule_fresh(t, pos);
	t->n++;
	t->gen++;
	return 0;
}

int filter_table_del(struct filter_table *t, unsigned pos)
{
	if (pos >= t->n)
		return -ERANGE;
	rules_move(t, pos, pos + 1);
	t->n--;
	t->gen++;
	return 0;
}

void filter_table_flush(struct filter_table *t)
{
	t->n = 0;
	t->gen++;
}

int filter_table_set_policy(struct filter_table *t, unsigned dir, enum filter_action a)
{
	if ((dir != FILTER_DIR_IN && dir != FILTER_DIR_OUT) ||
	    (a != FILTER_ACCEPT && a != FILTER_DROP))
		return -EINVAL;
	t->policy[dir == FILTER_DIR_OUT] = (uint8_t)a;
	t->gen++;
	return 0;
}

int filter_table_load(struct filter_table *t, const char *text, size_t len, struct filter_err *err)
{
	struct filter_rule rules[FILTER_MAX_RULES];
	unsigned n = 0, line = 0, i;
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
		struct filter_rule r;
		int rc;

		line++;
		rc = filter_rule_parse(text + off, l, &r, err);
		if (rc < 0) {
			err->line = line;
			return rc;
		}
		if (rc == 1) {
			if (n == FILTER_MAX_RULES) {
				err->line = line;
				err->field = "rule";
				err->expected = "at most 64 rules";
				err->got[0] = '\0';
				return -ENOSPC;
			}
			rules[n++] = r;
		}
		off += l + 1;
	}
	/* Every line good: now the table changes, in one step for the stack. */
	memcpy(t->rule, rules, n * sizeof(rules[0]));
	for (i = 0; i < n; i++)
		rule_fresh(t, i);
	t->n = n;
	t->gen++;
	return 0;
}

bool filter_rule_match(const struct filter_rule *r, const struct filter_pkt *p)
{
	if (!(r->dirs & p->dir))
		return false;
	if (r->proto && r->proto != p->proto)
		return false;
	if ((p->src & filter_prefix_mask(r->src_len)) != r->src)
		return false;
	if ((p->dst & filter_prefix_mask(r->dst_len)) != r->dst)
		return false;
	if (r->sport_lo != 0 || r->sport_hi != 65535 || r->dport_lo != 0 || r->dport_hi != 65535 ||
	    r->flags_mask) {
		if (!p->has_l4)
			return false;
		if (p->sport < r->sport_lo || p->sport > r->sport_hi)
			return false;
		if (p->dport < r->dport_lo || p->dport > r->dport_hi)
			return false;
		if ((p->tcp_flags & r->flags_mask) != r->flags_set)
			return false;
	}
	return true;
}

/* One token from r's bucket at time now, if it has one. */
static bool bucket_take(struct filter_bucket *b, const struct filter_rule *r, xs_time_t now)
{
	uint64_t cap = (uint64_t)r->burst * NS_PER_SEC;

	if (now > b->last) {
		uint64_t dt = now - b->last;

		/* dt * rate would overflow only past the time a full refill takes. */
		if (b->last == 0 || dt >= (cap - b->tokens) / r->rate + 1)
			b->tokens = cap;
		else
			b->tokens += dt * r->rate;
		b->last = now;
	}
	if (b->tokens < NS_PER_SEC)
		return false;
	b->tokens -= NS_PER_SEC;
	return true;
}

enum filter_action filter_table_eval(struct filter_table *t, const struct filter_pkt *p,
				     xs_time_t now, int *idx)
{
	struct filter_counter *c;
	unsigned i;

	for (i = 0; i < t->n; i++) {
		const struct filter_rule *r = &t->rule[i];

		if (!filter_rule_match(r, p))
			continue;
		if (r->rate && !bucket_take(&t->bucket[i], r, now)) {
			t->limited[i]++;
			continue;
		}
		t->cnt[i].pkts++;
		t->cnt[i].bytes += p->len;
		*idx = (int)i;
		return (enum filter_action)r->action;
	}
	c = &t->policy_cnt[p->dir == FILTER_DIR_OUT];
	c->pkts++;
	c->bytes += p->len;
	*idx = -1;
	return (enum filter_action)t->policy[p->dir == FILTER_DIR_OUT];
}

void filter_table_compile_xdp(const struct filter_table *t, struct xs_steer_table *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->policy_drop = t->policy[0] == FILTER_DROP;
	out->tag = t->gen;
	for (i = 0; i < t->n && i < XS_STEER_MAX_RULES; i++) {
		const struct filter_rule *r = &t->rule[i];
		struct xs_steer_rule *x = &out->r[out->n];

		if (!(r->dirs & FILTER_DIR_IN))
			continue;
		x->src = htonl(r->src);
		x->src_mask = htonl(filter_prefix_mask(r->src_len));
		x->dst = htonl(r->dst);
		x->dst_mask = htonl(filter_prefix_mask(r->dst_len));
		x->sport_lo = r->sport_lo;
		x->sport_hi = r->sport_hi;
		x->dport_lo = r->dport_lo;
		x->dport_hi = r->dport_hi;
		x->proto = r->proto;
		x->flags_mask = r->flags_mask;
		x->flags_set = r->flags_set;
		x->need_l4 = r->sport_lo != 0 || r->sport_hi != 65535 || r->dport_lo != 0 ||
			     r->dport_hi != 65535 || r->flags_mask;
		x->action = r->action == FILTER_DROP ? XS_STEER_ACT_DROP : XS_STEER_ACT_STACK;
		x->rate = r->rate;
		x->burst = r->burst;
		x->id = t->id[i];
		x->idx = (uint8_t)i;
		out->n++;
	}
}

void filter_pkt_from_ip(struct filter_pkt *p, unsigned dir, const struct ip4_repr *ip,
			const uint8_t *l4, size_t l4len)
{
	memset(p, 0, sizeof(*p));
	p->dir = (uint8_t)dir;
	p->proto = ip->proto;
	p->src = ip->src;
	p->dst = ip->dst;
	p->len = ip->total_len;
	if (ip->frag & IP4_OFF_MASK)
		return; /* not the first fragment: no transport header */
	if ((ip->proto == IP4_PROTO_UDP && l4len >= 8) ||
	    (ip->proto == IP4_PROTO_TCP && l4len >= 14)) {
		p->sport = ld_be16(l4);
		p->dport = ld_be16(l4 + 2);
		if (ip->proto == IP4_PROTO_TCP)
			p->tcp_flags = l4[13];
		p->has_l4 = true;
	}
}

/* The XDP program's verdict on the frame, if it holds for this table: the
 * rule that matched (its position) or -1 for the policy; -2 for none. */
static int xdp_verdict(const struct filter_table *t, uint64_t meta)
{
	struct xs_steer_meta m;

	if (!meta)
		return -2;
	memcpy(&m, &meta, sizeof(m));
	if (m.magic != XS_STEER_META_MAGIC || m.tag != t->gen)
		return -2;
	if (m.verdict == XS_STEER_V_POLICY)
		return -1;
	if (m.verdict == XS_STEER_V_RULE && m.rule < t->n)
		return m.rule;
	return -2;
}

/* The verdict the XDP program reached, carried out by the stack: counted
 * where filter_table_eval would have counted it, no bucket taken twice. */
static enum filter_action eval_xdp(struct filter_table *t, int v, uint32_t len)
{
	struct filter_counter *c = v < 0 ? &t->policy_cnt[0] : &t->cnt[v];

	c->pkts++;
	c->bytes += len;
	return (enum filter_action)(v < 0 ? t->policy[0] : t->rule[v].action);
}

bool filter_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, uint64_t meta)
{
	struct filter_table *t = &st->filter;
	enum filter_action a;
	struct filter_pkt p;
	struct tcp_repr seg;
	int idx, v;

	if (!t->n && t->policy[0] == FILTER_ACCEPT)
		return false;
	v = xdp_verdict(t, meta);
	if (v > -2) {
		a = eval_xdp(t, v, ip->total_len);
	} else {
		/* b is the whole datagram here (reassembled): the ports are known. */
		filter_pkt_from_ip(&p, FILTER_DIR_IN, ip, b + ip->hdr_len, ip4_payload_len(ip));
		a = filter_table_eval(t, &p, st->now, &idx);
	}
	switch (a) {
	case FILTER_ACCEPT:
		return false;
	case FILTER_REJECT:
		xs_drop(st, XS_DROP_FILTER_REJECT);
		/* Unbound (DHCP): no address to answer from. */
		if (!st->ip)
			return true;
		if (ip->proto == IP4_PROTO_TCP) {
			if (tcp_parse(b + ip->hdr_len, ip4_payload_len(ip), ip->src, ip->dst,
				      &seg) == XS_DROP_NONE) {
				struct tcp_ip tip = { .tos = ip->tos };

				tcp_addr_from4(&tip.src, ip->src);
				tcp_addr_from4(&tip.dst, ip->dst);
				tcp_send_rst_for(st, &tip, &seg);
			}
		} else {
			/* RFC 1122 3.2.2.1: port unreachable (rate-limited there). */
			icmp_send_error(st, ICMP_DEST_UNREACH, 3, 0, b, ip->total_len);
		}
		return true;
	default:
		xs_drop(st, XS_DROP_FILTER_IN);
		return true;
	}
}

int filter_output(struct xs_stack *st, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	struct ip4_repr ip = {.proto = proto, .src = st->ip, .dst = dst};
	struct filter_pkt p;
	int idx;

	if (!st->filter.n && st->filter.policy[1] == FILTER_ACCEPT)
		return 0;
	ip.total_len = (uint16_t)(IP4_HDR_LEN + l4len);
	filter_pkt_from_ip(&p, FILTER_DIR_OUT, &ip, l4, l4len);
	if (filter_table_eval(&st->filter, &p, st->now, &idx) == FILTER_ACCEPT)
		return 0;
	xs_drop(st, XS_DROP_FILTER_OUT);
	return -EPERM;
}

/* --- the public API (include/xdpstack/stack.h) ---------------------------- */

static void err_out(const struct filter_err *e, int line, char *err, size_t errlen)
{
	struct filter_err c = *e;
	char buf[256];

	if (!err || !errlen)
		return;
	if (line) {
		filter_err_format(&c, err, errlen);
		return;
	}
	/* A single line given alone (ctl): no line number to name. */
	c.line = 0;
	filter_err_format(&c, buf, sizeof(buf));
	snprintf(err, errlen, "%s", buf + strlen("line 0: "));
}

int xs_filter_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct filter_table *t = malloc(sizeof(*t));
	struct filter_err e;
	int rc;

	if (!t)
		return -ENOMEM;
	filter_table_init(t);
	rc = filter_table_load(t, text, len, &e);
	if (rc)
		err_out(&e, 1, err, errlen);
	free(t);
	return rc;
}

int xs_filter_load(struct xs_stack *st, const char *text, size_t len, char *err, size_t errlen)
{
	struct filter_err e;
	int rc = filter_table_load(&st->filter, text, len, &e);

	if (rc)
		err_out(&e, 1, err, errlen);
	return rc;
}

int xs_filter_insert(struct xs_stack *st, int pos, const char *line, char *err, size_t errlen)
{
	struct filter_rule r;
	struct filter_err e;
	int rc = filter_rule_parse(line, strlen(line), &r, &e);

	if (rc == 0) {
		e.field = "rule";
		e.expected = "a rule (accept, drop or reject ...)";
		e.got[0] = '\0';
		rc = -EINVAL;
	}
	if (rc < 0) {
		err_out(&e, 0, err, errlen);
		return rc;
	}
	if (pos < 0)
		pos = (int)st->filter.n;
	rc = filter_table_insert(&st->filter, (unsigned)pos, &r);
	if (rc == -ERANGE)
		snprintf(err, errlen, "position %d: expected 0-%u", pos, st->filter.n);
	else if (rc == -ENOSPC)
		snprintf(err, errlen, "the table is full (%d rules)", FILTER_MAX_RULES);
	return rc;
}

int xs_filter_del(struct xs_stack *st, unsigned pos)
{
	return filter_table_del(&st->filter, pos);
}

void xs_filter_flush(struct xs_stack *st)
{
	filter_table_flush(&st->filter);
}

int xs_filter_set_policy(struct xs_stack *st, int out, int drop)
{
	return filter_table_set_policy(&st->filter, out ? FILTER_DIR_OUT : FILTER_DIR_IN,
				       drop ? FILTER_DROP : FILTER_ACCEPT);
}

size_t xs_filter_list(const struct xs_stack *st, struct xs_filter_entry *out, size_t max,
		      int policy_drop[2], uint64_t policy_pkts[2], uint64_t policy_bytes[2])
{
	const struct filter_table *t = &st->filter;
	size_t i;
	int d;

	for (i = 0; i < t->n && i < max; i++) {
		filter_rule_format(&t->rule[i], out[i].text, sizeof(out[i].text));
		out[i].pkts = t->cnt[i].pkts;
		out[i].bytes = t->cnt[i].bytes;
		out[i].xdp_pkts = t->xdp_cnt[i].pkts;
		out[i].xdp_bytes = t->xdp_cnt[i].bytes;
		out[i].limited = t->limited[i];
		out[i].xdp_limited = t->xdp_limited[i];
		out[i].rate = t->rule[i].rate;
	}
	for (d = 0; d < 2; d++) {
		if (policy_drop)
			policy_drop[d] = t->policy[d] == FILTER_DROP;
		if (policy_pkts)
			policy_pkts[d] = t->policy_cnt[d].pkts;
		if (policy_bytes)
			policy_bytes[d] = t->policy_cnt[d].bytes;
	}
	return t->n;
}

void xs_filter_xdp_table(const struct xs_stack *st, struct xs_steer_table *out)
{
	filter_table_compile_xdp(&st->filter, out);
}

void xs_filter_xdp_counts(struct xs_stack *st, const struct xs_steer_table *t,
			  const struct xs_steer_rule_cnt *delta)
{
	struct filter_table *ft = &st->filter;
	unsigned i;

	for (i = 0; i < t->n && i < XS_STEER_MAX_RULES; i++) {
		unsigned k = t->r[i].idx;

		if (k < ft->n && ft->id[k] == t->r[i].id) {
			ft->xdp_cnt[k].pkts += delta[i].pkts;
			ft->xdp_cnt[k].bytes += delta[i].bytes;
			ft->xdp_limited[k] += delta[i].limited;
		}
	}
	ft->xdp_policy_cnt.pkts += delta[XS_STEER_MAX_RULES].pkts;
	ft->xdp_policy_cnt.bytes += delta[XS_STEER_MAX_RULES].bytes;
}

void xs_filter_xdp_policy(const struct xs_stack *st, uint64_t *pkts, uint64_t *bytes)
{
	*pkts = st->filter.xdp_policy_cnt.pkts;
	*bytes = st->filter.xdp_policy_cnt.bytes;
}
