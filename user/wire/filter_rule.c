/* Packet-filter rule lines: a tokenizer and a keyword parser into struct
 * filter_rule, strict (every field once, every value checked), and its inverse. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wire/filter_rule.h"

struct tok {
	const char *p;
	size_t n;
};

/* Next whitespace-separated token of s[*i..len); stops at '#'. */
static int tok_next(const char *s, size_t len, size_t *i, struct tok *t)
{
	size_t j = *i;

	while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
		j++;
	if (j >= len || s[j] == '#' || s[j] == '\0') {
		*i = len;
		return 0;
	}
	t->p = s + j;
	while (j < len && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n' &&
	       s[j] != '#' && s[j] != '\0')
		j++;
	t->n = (size_t)(s + j - t->p);
	*i = j;
	return 1;
}

static int tok_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return t->n == n && !memcmp(t->p, w, n);
}

static int fail(struct filter_err *e, const char *field, const char *expected, const struct tok *t)
{
	size_t n = 0, i;

	e->field = field;
	e->expected = expected;
	if (t) {
		n = t->n < sizeof(e->got) - 1 ? t->n : sizeof(e->got) - 1;
		for (i = 0; i < n; i++) {
			char c = t->p[i];
			e->got[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
	}
	e->got[n] = '\0';
	return -EINVAL;
}

/* Decimal digits only, at most max; returns chars used or 0. */
static size_t parse_uint(const char *p, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > max || i >= 10)
			return 0;
	}
	*out = (uint32_t)v;
	return i;
}

static int parse_prefix(const struct tok *t, uint32_t *addr, uint8_t *plen)
{
	const char *p = t->p;
	size_t n = t->n, k;
	uint32_t a = 0, v;
	int i;

	for (i = 0; i < 4; i++) {
		k = parse_uint(p, n, 255, &v);
		if (!k || (k > 1 && p[0] == '0'))
			return -1;
		a = a << 8 | v;
		p += k;
		n -= k;
		if (i < 3) {
			if (!n || *p != '.')
				return -1;
			p++;
			n--;
		}
	}
	v = 32;
	if (n) {
		if (*p != '/')
			return -1;
		k = parse_uint(p + 1, n - 1, 32, &v);
		if (!k || k != n - 1 || (k > 1 && p[1] == '0'))
			return -1;
	}
	if (a & ~filter_prefix_mask((uint8_t)v))
		return -2;
	*addr = a;
	*plen = (uint8_t)v;
	return 0;
}

static int parse_range(const struct tok *t, uint16_t *lo, uint16_t *hi)
{
	uint32_t a, b;
	size_t k = parse_uint(t->p, t->n, 65535, &a);

	if (!k)
		return -1;
	b = a;
	if (k < t->n) {
		size_t k2;

		if (t->p[k] != '-')
			return -1;
		k2 = parse_uint(t->p + k + 1, t->n - k - 1, 65535, &b);
		if (!k2 || k2 != t->n - k - 1 || b < a)
			return -1;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static const char *const flag_names[8] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

static int parse_flags(const struct tok *t, uint8_t *mask, uint8_t *set)
{
	size_t i = 0;

	*mask = *set = 0;
	while (i < t->n) {
		int neg = 0, f, found = -1;
		size_t j;

		if (t->p[i] == '!') {
			neg = 1;
			i++;
		}
		for (j = i; j < t->n && t->p[j] != ','; j++)
			;
		for (f = 0; f < 8; f++)
			if (j - i == 3 && !strncasecmp(t->p + i, flag_names[f], 3))
				found = f;
		if (found < 0 || (*mask & (1u << found)))
			return -1;
		*mask |= (uint8_t)(1u << found);
		if (!neg)
			*set |= (uint8_t)(1u << found);
		if (j < t->n && j + 1 == t->n)
			return -1; /* trailing comma */
		i = j + 1;
	}
	return *mask ? 0 : -1;
}

static int parse_rate(const struct tok *t, uint32_t *rate)
{
	size_t k = parse_uint(t->p, t->n, FILTER_RATE_MAX, rate);

	if (!k || *rate == 0 || t->n != k + 2 || t->p[k] != '/' || t->p[k + 1] != 's')
		return -1;
	return 0;
}

void filter_rule_init(struct filter_rule *r, enum filter_action a)
{
	memset(r, 0, sizeof(*r));
	r->action = (uint8_t)a;
	r->dirs = FILTER_DIR_IN | FILTER_DIR_OUT;
	r->sport_hi = r->dport_hi = 65535;
}

#define SEEN_DIR 0x001u
#define SEEN_PROTO 0x002u
#define SEEN_SRC 0x004u
#define SEEN_DST 0x008u
#define SEEN_SPORT 0x010u
#define SEEN_DPORT 0x020u
#define SEEN_FLAGS 0x040u
#define SEEN_RATE 0x080u
#define SEEN_BURST 0x100u

#define EXP_KEYWORD "in, out, icmp, udp, tcp, src, dst, sport, dport, tcp-flags, rate or burst"
#define EXP_PREFIX "an IPv4 address or prefix A.B.C.D[/0-32]"
#define EXP_PORT "a port or range P[-P] (0-65535, low <= high)"

int filter_rule_parse(const char *s, size_t len, struct filter_rule *out, struct filter_err *e)
{
	struct filter_rule r;
	unsigned seen = 0;
	struct tok t, v;
	size_t i = 0;
	int rc;

	if (len > FILTER_LINE_MAX)
		return fail(e, "rule", "a line of at most 256 bytes", NULL);
	if (!tok_next(s, len, &i, &t))
		return 0;
	if (tok_is(&t, "accept"))
		filter_rule_init(&r, FILTER_ACCEPT);
	else if (tok_is(&t, "drop"))
		filter_rule_init(&r, FILTER_DROP);
	else if (tok_is(&t, "reject"))
		filter_rule_init(&r, FILTER_REJECT);
	else
		return fail(e, "action", "accept, drop or reject", &t);
	if (r.action == FILTER_REJECT)
		r.dirs = FILTER_DIR_IN;

	while (tok_next(s, len, &i, &t)) {
		unsigned bit;
		const char *field;

		if (tok_is(&t, "in") || tok_is(&t, "out")) {
			bit = SEEN_DIR;
			field = "direction";
		} else if (tok_is(&t, "icmp") || tok_is(&t, "udp") || tok_is(&t, "tcp")) {
			bit = SEEN_PROTO;
			field = "protocol";
		} else if (tok_is(&t, "src")) {
			bit = SEEN_SRC;
			field = "src";
		} else if (tok_is(&t, "dst")) {
			bit = SEEN_DST;
			field = "dst";
		} else if (tok_is(&t, "sport")) {
			bit = SEEN_SPORT;
			field = "sport";
		} else if (tok_is(&t, "dport")) {
			bit = SEEN_DPORT;
			field = "dport";
		} else if (tok_is(&t, "tcp-flags")) {
			bit = SEEN_FLAGS;
			field = "tcp-flags";
		} else if (tok_is(&t, "rate")) {
			bit = SEEN_RATE;
			field = "rate";
		} else if (tok_is(&t, "burst")) {
			bit = SEEN_BURST;
			field = "burst";
		} else {
			return fail(e, "rule", EXP_KEYWORD, &t);
		}
		if (seen & bit)
			return fail(e, field, "at most one per rule", &t);
		seen |= bit;

		if (bit == SEEN_DIR) {
			if (r.action == FILTER_REJECT && tok_is(&t, "out"))
				return fail(e, "direction", "in (reject answers inbound packets)",
					    &t);
			r.dirs = tok_is(&t, "in") ? FILTER_DIR_IN : FILTER_DIR_OUT;
			continue;
		}
		if (bit == SEEN_PROTO) {
			r.proto = tok_is(&t, "icmp") ? 1 : tok_is(&t, "tcp") ? 6 : 17;
			continue;
		}
		if (!tok_next(s, len, &i, &v)) {
			static const char *const need[] = {
			    EXP_PREFIX,
			    EXP_PREFIX,
			    EXP_PORT,
			    EXP_PORT,
			    "flags fin,syn,rst,psh,ack,urg,ece,cwr (each may have a leading !)",
			    "a rate N/s (1-10000000)",
			    "a burst in packets (1-10000000)"};
			int k = bit == SEEN_SRC	    ? 0
				: bit == SEEN_DST   ? 1
				: bit == SEEN_SPORT ? 2
				: bit == SEEN_DPORT ? 3
				: bit == SEEN_FLAGS ? 4
				: bit == SEEN_RATE  ? 5
						    : 6;
			return fail(e, field, need[k], NULL);
		}
		switch (bit) {
		case SEEN_SRC:
		case SEEN_DST:
			rc = bit == SEEN_SRC ? parse_prefix(&v, &r.src, &r.src_len)
					     : parse_prefix(&v, &r.dst, &r.dst_len);
			if (rc == -2)
				return fail(e, field, "a prefix with no host bits set", &v);
			if (rc)
				return fail(e, field, EXP_PREFIX, &v);
			break;
		case SEEN_SPORT:
			if (parse_range(&v, &r.sport_lo, &r.sport_hi))
				return fail(e, field, EXP_PORT, &v);
			break;
		case SEEN_DPORT:
			if (parse_range(&v, &r.dport_lo, &r.dport_hi))
				return fail(e, field, EXP_PORT, &v);
			break;
		case SEEN_FLAGS:
			if (parse_flags(&v, &r.flags_mask, &r.flags_set))
				return fail(e, field,
					    "flags fin,syn,rst,psh,ack,urg,ece,cwr, each once "
					    "(a leading ! means clear)",
					    &v);
			break;
		case SEEN_RATE:
			if (parse_rate(&v, &r.rate))
				return fail(e, field, "a rate N/s (1-10000000)", &v);
			break;
		default: /* SEEN_BURST */
			if (parse_uint(v.p, v.n, FILTER_BURST_MAX, &r.burst) != v.n || !r.burst)
				return fail(e, field, "a burst in packets (1-10000000)", &v);
			break;
		}
	}
	if ((seen & (SEEN_SPORT | SEEN_DPORT)) && r.proto != 6 && r.proto != 17)
		return fail(e, seen & SEEN_SPORT ? "sport" : "dport",
			    "protocol udp or tcp in a rule with ports", NULL);
	if ((seen & SEEN_FLAGS) && r.proto != 6)
		return fail(e, "tcp-flags", "protocol tcp in a rule with tcp-flags", NULL);
	if ((seen & SEEN_BURST) && !(seen & SEEN_RATE))
		return fail(e, "burst", "a rate N/s before burst", NULL);
	if (r.rate && !r.burst)
		r.burst = r.rate;
	*out = r;
	return 1;
}

static int put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
	return k;
}

static void put_addr(char *buf, size_t cap, size_t *n, const char *kw, uint32_t a, uint8_t l)
{
	put(buf, cap, n, " %s %u.%u.%u.%u/%u", kw, a >> 24, (a >> 16) & 255, (a >> 8) & 255,
	    a & 255, l);
}

static void put_range(char *buf, size_t cap, size_t *n, const char *kw, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 65535)
		return;
	if (lo == hi)
		put(buf, cap, n, " %s %u", kw, lo);
	else
		put(buf, cap, n, " %s %u-%u", kw, lo, hi);
}

int filter_rule_format(const struct filter_rule *r, char *buf, size_t cap)
{
	static const char *const act[] = {"accept", "drop", "reject"};
	size_t n = 0;
	int f, first = 1;

	if (cap)
		buf[0] = '\0';
	put(buf, cap, &n, "%s", r->action <= FILTER_REJECT ? act[r->action] : "?");
	if (r->dirs == FILTER_DIR_IN)
		put(buf, cap, &n, " in");
	else if (r->dirs == FILTER_DIR_OUT)
		put(buf, cap, &n, " out");
	if (r->proto)
		put(buf, cap, &n, " %s", r->proto == 1 ? "icmp" : r->proto == 6 ? "tcp" : "udp");
	if (r->src_len)
		put_addr(buf, cap, &n, "src", r->src, r->src_len);
	if (r->dst_len)
		put_addr(buf, cap, &n, "dst", r->dst, r->dst_len);
	put_range(buf, cap, &n, "sport", r->sport_lo, r->sport_hi);
	put_range(buf, cap, &n, "dport", r->dport_lo, r->dport_hi);
	if (r->flags_mask) {
		put(buf, cap, &n, " tcp-flags ");
		for (f = 0; f < 8; f++) {
			if (!(r->flags_mask & (1u << f)))
				continue;
			put(buf, cap, &n, "%s%s%s", first ? "" : ",",
			    (r->flags_set & (1u << f)) ? "" : "!", flag_names[f]);
			first = 0;
		}
	}
	if (r->rate)
		put(buf, cap, &n, " rate %u/s burst %u", r->rate, r->burst);
	return (int)n;
}

int filter_err_format(const struct filter_err *e, char *buf, size_t cap)
{
	if (e->got[0])
		return snprintf(buf, cap, "line %u: %s: expected %s, got '%s'", e->line, e->field,
				e->expected, e->got);
	return snprintf(buf, cap, "line %u: %s: expected %s", e->line, e->field, e->expected);
}
