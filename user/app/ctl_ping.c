/* Ping sessions run by the daemon for xdpstack-ctl: sends on the event loop's
 * clock, one line per reply or error as ping(8) prints them, then its summary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"

#define PING_RING 1024	    /* send times remembered (by seq) for RTTs */
#define PING_MAX_DATA 65507 /* 65535 - IPv4 header - ICMP header */

struct ping_sent {
	uint16_t seq;
	uint8_t used;
	xs_time_t at;
};

struct ctl_ping {
	struct xs_ping h; /* id -1 when closed */
	uint32_t dst;
	struct xs_addr dst6;    /* an IPv6 HOST (v6 set) */
	int v6;
	char host[XS_ADDR_STRLEN]; /* dst as text */
	char name[XS_DNS_NAME_LEN]; /* what was asked: the address or a name */
	unsigned long count; /* 0: until stopped */
	unsigned long size;  /* ICMP data bytes */
	xs_time_t interval, linger;
	xs_time_t start, next_send, last_send;
	unsigned long sent, received, dups, errors, answered;
	unsigned long timed;		/* replies with a known RTT (in the rtt line) */
	uint16_t seq;			/* last sent */
	double tmin, tmax, tsum, tsum2; /* ms */
	unsigned long events;		/* JSON array elements written */
	int finished;
	struct ping_sent ring[PING_RING];
	uint8_t replied[65536 / 8]; /* a reply came for this seq */
	uint8_t done[65536 / 8];    /* a reply or an error came */
};

static int bit_test_set(uint8_t *map, uint16_t i)
{
	int was = (map[i / 8] >> (i % 8)) & 1;

	map[i / 8] |= (uint8_t)(1u << (i % 8));
	return was;
}

static void bit_clear(uint8_t *map, uint16_t i)
{
	map[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* What ping(8) prints for an ICMP error (iputils' pr_icmph wording). */
static const char *icmp_text(uint8_t type, uint8_t code, int v6)
{
	static const char *const unreach[] = {
	    "Destination Net Unreachable",
	    "Destination Host Unreachable",
	    "Destination Protocol Unreachable",
	    "Destination Port Unreachable",
	    "Frag needed and DF set",
	    "Source Route Failed",
	    "Destination Net Unknown",
	    "Destination Host Unknown",
	    "Source Host Isolated",
	    "Destination Net Prohibited",
	    "Destination Host Prohibited",
	    "Destination Net Unreachable for Type of Service",
	    "Destination Host Unreachable for Type of Service",
	    "Packet filtered",
	    "Precedence Violation",
	    "Precedence Cutoff",
	};

	if (v6) { /* iputils' ping6 wording (RFC 4443 3) */
		static const char *const unreach6[] = {
		    "Destination unreachable: No route",
		    "Destination unreachable: Administratively prohibited",
		    "Destination unreachable: Beyond scope of source address",
		    "Destination unreachable: Address unreachable",
		    "Destination unreachable: Port unreachable",
		    "Destination unreachable: Source address failed ingress/egress policy",
		    "Destination unreachable: Reject route to destination",
		};

		if (type == 1)
			return code < sizeof(unreach6) / sizeof(unreach6[0])
				   ? unreach6[code]
				   : "Destination unreachable: Unknown code";
		if (type == 2)
			return "Packet too big";
		if (type == 3)
			return code ? "Time exceeded: Defragmentation failure"
				    : "Time exceeded: Hop limit";
		if (type == 4)
			return "Parameter problem";
		return "Bad ICMP type";
	}
	if (type == 3)
		return code < sizeof(unreach) / sizeof(unreach[0]) ? unreach[code]
								   : "Dest Unreachable, Bad Code";
	if (type == 11)
		return code ? "Frag reassembly time exceeded" : "Time to live exceeded";
	if (type == 12)
		return "Parameter problem";
	return "Bad ICMP type";
}

/* ping(8)'s precision: 3 decimals below 1 ms, fewer above. */
static void rtt_str(double ms, char *buf, size_t len)
{
	if (ms >= 100)
		snprintf(buf, len, "%.0f", ms);
	else if (ms >= 10)
		snprintf(buf, len, "%.1f", ms);
	else if (ms >= 1)
		snprintf(buf, len, "%.2f", ms);
	else
		snprintf(buf, len, "%.3f", ms);
}

static double sqrt_pos(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 64; i++) /* Newton: no libm needed */
		r = 0.5 * (r + x / r);
	return r;
}

static void json_event_start(struct ctl_client *cl, struct ctl_ping *p)
{
	ctl_printf(cl, "%s\n  {", p->events++ ? "," : "");
}

static void ping_finish(struct ctl_client *cl)
{
	struct ctl_ping *p = cl->ping;
	unsigned long long ms = (cl->ctl->now - p->start) / XS_NSEC_PER_MS;
	double loss = p->sent ? (double)(p->sent - p->received) * 100.0 / (double)p->sent : 0;
	double avg = 0, mdev = 0;

	p->finished = 1;
	if (p->timed) {
		avg = p->tsum / (double)p->timed;
		mdev = sqrt_pos(p->tsum2 / (double)p->timed - avg * avg);
	}
	if (cl->json) {
		ctl_printf(cl,
			   "%s],\n \"transmitted\": %lu, \"received\": %lu, \"duplicates\": %lu, "
			   "\"errors\": %lu, \"loss_pct\": %g, \"time_ms\": %llu, \"rtt_ms\": ",
			   p->events ? "\n " : "", p->sent, p->received, p->dups, p->errors, loss,
			   ms);
		if (p->timed)
			ctl_printf(
			    cl, "{\"min\": %.3f, \"avg\": %.3f, \"max\": %.3f, \"mdev\": %.3f}}\n",
			    p->tmin, avg, p->tmax, mdev);
		else
			ctl_printf(cl, "null}\n");
	} else {
		ctl_printf(cl, "\n--- %s ping statistics ---\n", p->name);
		ctl_printf(cl, "%lu packets transmitted, %lu received, ", p->sent, p->received);
		if (p->dups)
			ctl_printf(cl, "+%lu duplicates, ", p->dups);
		if (p->errors)
			ctl_printf(cl, "+%lu errors, ", p->errors);
		ctl_printf(cl, "%g%% packet loss, time %llums\n", loss, ms);
		if (p->timed)
			ctl_printf(cl, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", p->tmin,
				   avg, p->tmax, mdev);
	}
	/* As ping(8): failure only when nothing answered. */
	ctl_end(cl, p->received ? CTL_OK : CTL_FAIL, NULL);
}

static int ping_complete(const struct ctl_ping *p)
{
	return p->count && p->sent >= p->count && p->answered >= p->sent;
}

static void on_result(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r,
		      void *ctx)
{
	struct ctl_client *cl = ctx;
	struct ctl_ping *p = cl->ping;
	struct ping_sent *s;
	char from[XS_ADDR_STRLEN], t[32];
	double ms = -1;

	if (!p || p->finished || cl->dead || h.id != p->h.id || h.gen != p->h.gen)
		return;
	xs_addr_format(&r->from_addr, from, sizeof(from));
	s = &p->ring[r->seq % PING_RING];
	if (s->used && s->seq == r->seq)
		ms = (double)(cl->ctl->now - s->at) / 1e6;
	if (!bit_test_set(p->done, r->seq))
		p->answered++;
	if (r->error) {
		p->errors++;
		if (cl->json) {
			json_event_start(cl, p);
			ctl_printf(
			    cl, "\"type\": \"error\", \"seq\": %u, \"from\": \"%s\", \"error\": ",
			    r->seq, from);
			ctl_json_str(cl, icmp_text(r->icmp_type, r->icmp_code, p->v6));
			ctl_printf(cl, ", \"icmp_type\": %u, \"icmp_code\": %u}", r->icmp_type,
				   r->icmp_code);
		} else {
			ctl_printf(cl, "From %s icmp_seq=%u %s\n", from, r->seq,
				   icmp_text(r->icmp_type, r->icmp_code, p->v6));
		}
	} else {
		int dup = bit_test_set(p->replied, r->seq);

		if (dup) {
			p->dups++;
		} else {
			p->received++;
		}
		if (!dup && ms >= 0) { /* a reply too old to time counts, unseen by rtt */
			p->timed++;
			p->tsum += ms;
			p->tsum2 += ms * ms;
			if (p->timed == 1 || ms < p->tmin)
				p->tmin = ms;
			if (ms > p->tmax)
				p->tmax = ms;
		}
		if (cl->json) {
			json_event_start(cl, p);
			ctl_printf(cl,
				   "\"type\": \"reply\", \"seq\": %u, \"from\": \"%s\", "
				   "\"bytes\": %u, \"ttl\": %u, \"time_ms\": ",
				   r->seq, from, r->bytes, r->ttl);
			if (ms >= 0)
				ctl_printf(cl, "%.3f", ms);
			else
				ctl_printf(cl, "null");
			ctl_printf(cl, ", \"dup\": %s}", dup ? "true" : "false");
		} else {
			ctl_printf(cl, "%u bytes from %s: icmp_seq=%u ttl=%u", r->bytes, from,
				   r->seq, r->ttl);
			if (ms >= 0) {
				rtt_str(ms, t, sizeof(t));
				ctl_printf(cl, " time=%s ms", t);
			}
			ctl_printf(cl, "%s\n", dup ? " (DUP!)" : "");
		}
	}
	if (ping_complete(p))
		ping_finish(cl);
	(void)st;
}

static void ping_send(struct ctl_client *cl)
{
	struct ctl_ping *p = cl->ping;
	struct ping_sent *s;
	uint16_t seq = (uint16_t)(p->seq + 1);
	int err;

	p->seq = seq;
	s = &p->ring[seq % PING_RING];
	s->seq = seq;
	s->used = 1;
	s->at = cl->ctl->now;
	bit_clear(p->replied, seq);
	bit_clear(p->done, seq);
	p->sent++;
	p->last_send = cl->ctl->now;
	err = p->v6 ? xs_ping_send_addr(cl->ctl->cfg.st, p->h, &p->dst6, seq, p->size)
		    : xs_ping_send(cl->ctl->cfg.st, p->h, p->dst, seq, p->size);
	if (!err)
		return;
	/* ping(8) reports a failed send and counts it as an error. */
	p->errors++;
	p->answered++;
	bit_test_set(p->done, seq);
	if (cl->json) {
		json_event_start(cl, p);
		ctl_printf(cl, "\"type\": \"send_error\", \"seq\": %u, \"error\": ", seq);
		ctl_json_str(cl, strerror(-err));
		ctl_printf(cl, "}");
	} else {
		ctl_printf(cl, "ping: sendmsg: %s\n", strerror(-err));
	}
}

void ctl_ping_tick(struct ctl_client *cl)
{
	struct ctl_ping *p = cl->ping;
	xs_time_t now = cl->ctl->now;

	if (!p || p->finished || p->h.id < 0) /* still resolving its name */
		return;
	if ((!p->count || p->sent < p->count) && now >= p->next_send) {
		ping_send(cl);
		p->next_send += p->interval;
		if (p->next_send <= now) /* the loop was late: no burst to catch up */
			p->next_send = now + p->interval;
	}
	if (ping_complete(p) ||
	    (p->count && p->sent >= p->count && now >= p->last_send + p->linger))
		ping_finish(cl);
}

void ctl_ping_stop(struct ctl_client *cl)
{
	struct ctl_ping *p = cl->ping;

	if (!p || p->finished)
		return;
	if (p->h.id < 0) {
		/* Still resolving its name (then it ends here), or it never
		 * started and has already ended with its error. */
		if (cl->dns_pending) {
			ctl_resolve_free(cl);
			ctl_end(cl, CTL_FAIL, NULL);
		}
		return;
	}
	ping_finish(cl);
}

void ctl_ping_free(struct ctl_client *cl)
{
	if (!cl->ping)
		return;
	if (cl->ping->h.id >= 0)
		xs_ping_close(cl->ctl->cfg.st, cl->ping->h);
	free(cl->ping);
	cl->ping = NULL;
}

xs_time_t ctl_ping_deadline(const struct ctl_client *cl)
{
	const struct ctl_ping *p = cl->ping;

	if (!p || p->finished || p->h.id < 0)
		return UINT64_MAX;
	if (!p->count || p->sent < p->count)
		return p->next_send;
	return p->last_send + p->linger;
}

/* Seconds as "1", "0.2": into ns within [min_ms, max_s]; 0 or -1. */
static int parse_secs(const char *s, unsigned min_ms, unsigned max_s, xs_time_t *out)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	v = strtod(s, &end);
	if (*end || !(v >= min_ms / 1000.0) || v > max_s)
		return -1;
	*out = (xs_time_t)(v * 1e9 + 0.5);
	return 0;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoul(s, &end, 10);
	return (*end || *out < min || *out > max) ? -1 : 0;
}

static void ping_begin(struct ctl_client *cl);
static void ping_resolved(struct ctl_client *cl, const struct xs_dns_result *r);

void ctl_cmd_ping(struct ctl_client *cl, int argc, char **argv)
{
	struct ctl_ping *p;
	const char *host = NULL, *val;
	int i, bad;
	char opt;

	p = calloc(1, sizeof(*p));
	if (!p) {
		ctl_end(cl, CTL_ERROR, "ping: out of memory");
		return;
	}
	p->h = (struct xs_ping)XS_NO_HANDLE;
	p->size = 56;
	p->interval = XS_SEC(1);
	p->linger = XS_SEC(10);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (host) {
				ctl_end(cl, CTL_USAGE,
					"ping: unexpected argument '%.64s' (one HOST)", argv[i]);
				goto err;
			}
			host = argv[i];
			continue;
		}
		opt = argv[i][1];
		if (!opt || !strchr("csiW", opt)) {
			ctl_end(cl, CTL_USAGE,
				"ping: unknown option '%.64s' (usage: ping HOST [-c N] "
				"[-s SIZE] [-i SECONDS] [-W SECONDS])",
				argv[i]);
			goto err;
		}
		val = argv[i][2] ? &argv[i][2] : (i + 1 < argc ? argv[++i] : NULL);
		if (!val) {
			ctl_end(cl, CTL_USAGE, "ping: option '-%c' needs a value", opt);
			goto err;
		}
		if (opt == 'c')
			bad = parse_ulong(val, 1, 1000000000ul, &p->count);
		else if (opt == 's')
			bad = parse_ulong(val, 0, PING_MAX_DATA, &p->size);
		else if (opt == 'i')
			bad = parse_secs(val, 10, 3600, &p->interval);
		else
			bad = parse_secs(val, 1, 3600, &p->linger);
		if (bad) {
			ctl_end(cl, CTL_USAGE, "ping: invalid -%c '%.64s': expected %s", opt, val,
				opt == 'c'   ? "a count 1-1000000000"
				: opt == 's' ? "a size 0-65507"
				: opt == 'i' ? "seconds 0.01-3600"
					     : "seconds 0.001-3600");
			goto err;
		}
	}
	if (!host) {
		ctl_end(cl, CTL_USAGE,
			"ping: missing HOST (usage: ping HOST [-c N] [-s SIZE] "
			"[-i SECONDS] [-W SECONDS])");
		goto err;
	}
	snprintf(p->name, sizeof(p->name), "%.*s", (int)sizeof(p->name) - 1, host);
	cl->ping = p;
	/* An IPv6 literal: no resolver involved (it asks for A records only). */
	if (strchr(host, ':')) {
		if (xs_addr_parse(host, &p->dst6) || p->dst6.family != XS_AF_INET6) {
			cl->ping = NULL;
			ctl_end(cl, CTL_USAGE, "ping: invalid HOST '%.64s': expected a unicast "
				"IPv6 address", host);
			goto err;
		}
		p->v6 = 1;
		ping_begin(cl);
		return;
	}
	bad = ctl_resolve_host(cl, "ping", host, &p->dst, ping_resolved);
	if (bad < 0) {
		cl->ping = NULL;
		goto err;
	}
	if (bad == 1)
		ping_begin(cl);
	return;
err:
	free(p);
}

/* After the parse (and the resolve when HOST is a name): checks the
 * address and starts the session, or ends the command. */
static void ping_begin(struct ctl_client *cl)
{
	struct ctl_ping *p = cl->ping;
	uint32_t nh;
	struct xs_ping h;

	if (p->v6) {
		if (p->dst6.a[0] == 0xff || !memcmp(p->dst6.a, (const uint8_t[16]){0}, 16) ||
		    !memcmp(p->dst6.a, (const uint8_t[16]){[15] = 1}, 16)) {
			ctl_end(cl, CTL_USAGE, "ping: invalid HOST '%.64s': expected a unicast "
				"IPv6 address", p->name);
			return;
		}
		xs_addr_format(&p->dst6, p->host, sizeof(p->host));
		if (ctl_ip6_is_ours(cl, p->dst6.a)) {
			ctl_end(cl, CTL_ERROR,
				"ping: %s is the stack's own address (it has no loopback)",
				p->host);
			return;
		}
		goto open;
	}
	if (!p->dst || p->dst >= 0xe0000000u) {
		ctl_end(cl, CTL_USAGE,
			"ping: invalid HOST '%.64s': expected a unicast IPv4 address A.B.C.D "
			"or a name", p->name);
		return;
	}
	ctl_ip_str(p->dst, p->host);
	if (p->dst == xs_stack_ip(cl->ctl->cfg.st)) {
		ctl_end(cl, CTL_ERROR, "ping: %s is the stack's own address (it has no loopback)",
			p->host);
		return;
	}
	if (xs_route_lookup(cl->ctl->cfg.st, p->dst, &nh)) {
		ctl_end(cl, CTL_ERROR, "ping: no route to %s (see route show)", p->host);
		return;
	}
open:
	h = xs_ping_open(cl->ctl->cfg.st, on_result, cl);
	if (h.id < 0) {
		ctl_end(cl, CTL_ERROR, "ping: cannot open a ping handle (%s)%s", strerror(-h.id),
			h.id == -EMFILE ? ": too many pings running" : "");
		return;
	}
	p->h = h;
	p->start = p->next_send = cl->ctl->now;
	cl->state = CL_RUN;
	if (cl->json) {
		ctl_printf(cl, "{\"host\": \"%s\", \"data_bytes\": %lu, \"events\": [", p->host,
			   p->size);
	} else {
		ctl_printf(cl, "PING %s (%s) %lu(%lu) bytes of data.\n", p->name, p->host, p->size,
			   p->size + (p->v6 ? 48 : 28));
	}
	ctl_ping_tick(cl); /* the first request leaves now */
}

static void ping_resolved(struct ctl_client *cl, const struct xs_dns_result *r)
{
	if (r->error) {
		ctl_end(cl, CTL_ERROR, "ping: %.64s: %s", cl->dns_name,
			ctl_resolve_strerror(r->error));
		return;
	}
	cl->ping->dst = r->addrs[0];
	ping_begin(cl);
}
