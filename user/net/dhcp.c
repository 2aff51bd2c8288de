/* DHCP client (RFC 2131 4.4): DISCOVER/OFFER/REQUEST/ACK with randomised backoff,
 * an RFC 5227 ARP probe before BOUND, renew at T1, rebind at T2, loss at expiry. */
#include <string.h>

#include "net/dhcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define BCAST 0xffffffffu

static uint64_t dhcp_rand(struct dhcp_client *c)
{
	/* xorshift64*: jitter and xids; the caller seeds it from getrandom */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

static xs_time_t rand_ms(struct dhcp_client *c, unsigned lo, unsigned hi)
{
	return (lo + dhcp_rand(c) % (hi - lo + 1)) * MS;
}

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const n[] = {"stopped", "init",  "selecting", "requesting",
					"probing", "bound", "renewing",	 "rebinding"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6], uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	c->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	c->state = DHCP_STOPPED;
}

/* RFC 2131 4.4.1: a new xid for each acquisition; DISCOVER at `at`. */
static void dhcp_restart(struct dhcp_client *c, xs_time_t at)
{
	c->state = DHCP_INIT;
	c->next = at;
	c->tries = 0;
	memset(&c->offer, 0, sizeof(c->offer));
}

void dhcp_client_start(struct dhcp_client *c, xs_time_t now)
{
	dhcp_restart(c, now);
}

uint32_t dhcp_client_addr(const struct dhcp_client *c)
{
	return c->state >= DHCP_BOUND ? c->lease.ip : 0;
}

xs_time_t dhcp_client_next(const struct dhcp_client *c)
{
	switch (c->state) {
	case DHCP_STOPPED:
		return UINT64_MAX;
	case DHCP_BOUND:
		return c->t1_at;
	case DHCP_RENEWING:
		return c->next < c->t2_at ? c->next : c->t2_at;
	case DHCP_REBINDING:
		return c->next < c->expire_at ? c->next : c->expire_at;
	default:
		return c->next;
	}
}

/* RFC 2131 4.1: 4 s doubling to 64 s, randomised by +-1 s. */
static xs_time_t dhcp_backoff(struct dhcp_client *c)
{
	xs_time_t t;

	c->backoff_s = c->backoff_s ? c->backoff_s * 2 : DHCP_BACKOFF_MIN_S;
	if (c->backoff_s > DHCP_BACKOFF_MAX_S)
		c->backoff_s = DHCP_BACKOFF_MAX_S;
	t = (xs_time_t)c->backoff_s * SEC - SEC;
	return t + rand_ms(c, 0, 2000);
}

/* A request's common part (RFC 2131 4.4.1 table 5). */
static void dhcp_msg_base(struct dhcp_client *c, struct dhcp_msg *m, uint8_t type, xs_time_t now)
{
	xs_time_t secs = now > c->started ? (now - c->started) / SEC : 0;

	memset(m, 0, sizeof(*m));
	m->op = BOOTREQUEST;
	m->xid = c->xid;
	m->secs = (uint16_t)(secs > 0xffff ? 0xffff : secs);
	m->type = type;
	memcpy(m->chaddr, c->mac, 6);
}

static int dhcp_emit_out(struct dhcp_out *o, const struct dhcp_msg *m, uint32_t src, uint32_t dst)
{
	o->kind = DHCP_OUT_MSG;
	o->src = src;
	o->dst = dst;
	o->ip = 0;
	o->len = dhcp_emit(m, o->b, sizeof(o->b));
	return o->len ? 1 : 0;
}

/* RFC 2131 3.1.5: the address is in use; DECLINE it, restart after 10 s. */
static void dhcp_decline(struct dhcp_client *c, xs_time_t now, struct dhcp_out *o)
{
	struct dhcp_msg m;

	dhcp_msg_base(c, &m, DHCPDECLINE, now);
	m.secs = 0;
	m.opts = DHCP_HAS_REQ_IP | DHCP_HAS_SERVER;
	m.req_ip = c->offer.ip;
	m.server = c->offer.server;
	dhcp_emit_out(o, &m, 0, BCAST);
	c->declines++;
	c->ev |= DHCP_EV_DECLINED;
	dhcp_restart(c, now + DHCP_DECLINE_WAIT_S * SEC);
}

/* The ACKed lease and its timers (RFC 2131 4.4.5: T1 0.5, T2 0.875 of the
 * lease unless given, and T1 < T2 < lease). */
static void dhcp_lease_start(struct dhcp_client *c, xs_time_t now)
{
	struct dhcp_lease *l = &c->lease;

	c->bound_at = now;
	c->state = DHCP_BOUND;
	c->backoff_s = 0;
	if (l->lease_s == DHCP_LEASE_INFINITE) {
		c->t1_at = c->t2_at = c->expire_at = UINT64_MAX;
		return;
	}
	if (l->lease_s < DHCP_LEASE_MIN_S)
		l->lease_s = DHCP_LEASE_MIN_S;
	if (!l->t2_s || l->t2_s >= l->lease_s)
		l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	if (!l->t1_s || l->t1_s >= l->t2_s) { /* both defaults, in order */
		l->t1_s = l->lease_s / 2;
		l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	}
	c->t1_at = now + (xs_time_t)l->t1_s * SEC;
	c->t2_at = now + (xs_time_t)l->t2_s * SEC;
	c->expire_at = now + (xs_time_t)l->lease_s * SEC;
}

static void dhcp_take(struct dhcp_lease *l, const struct dhcp_msg *m)
{
	memset(l, 0, sizeof(*l));
	l->ip = m->yiaddr;
	l->server = m->server;
	l->mask = (m->opts & DHCP_HAS_MASK) ? m->mask : 0;
	l->router = (m->opts & DHCP_HAS_ROUTER) ? m->router : 0;
	l->dns_n = m->dns_n;
	memcpy(l->dns, m->dns, sizeof(l->dns));
	l->lease_s = (m->opts & DHCP_HAS_LEASE) ? m->lease : 0;
	l->t1_s = (m->opts & DHCP_HAS_T1) ? m->t1 : 0;
	l->t2_s = (m->opts & DHCP_HAS_T2) ? m->t2 : 0;
}

static bool dhcp_yiaddr_ok(const struct dhcp_msg *m)
{
	if (!dhcp_addr_usable(m->yiaddr))
		return false;
	/* not the subnet's network or broadcast address */
	if ((m->opts & DHCP_HAS_MASK) && m->mask != BCAST && m->mask != 0xfffffffeu &&
	    ((m->yiaddr & ~m->mask) == 0 || (m->yiaddr | m->mask) == BCAST))
		return false;
	return true;
}

enum xs_drop dhcp_client_input(struct dhcp_client *c, const uint8_t *b, size_t n, xs_time_t now)
{
	struct dhcp_msg m;
	enum xs_drop why = dhcp_parse(b, n, &m);

	if (why)
		return why;
	if (m.op != BOOTREPLY || m.xid != c->xid || memcmp(m.chaddr, c->mac, 6))
		return XS_DROP_DHCP_NOT_OURS;
	if (m.type != DHCPOFFER && m.type != DHCPACK && m.type != DHCPNAK)
		return XS_DROP_DHCP_UNEXPECTED;
	if (!(m.opts & DHCP_HAS_SERVER) || !m.server)
		return XS_DROP_DHCP_NO_SERVER; /* RFC 2131 table 3: MUST */
	if (m.type != DHCPNAK && !dhcp_yiaddr_ok(&m))
		return XS_DROP_DHCP_YIADDR;

	switch (c->state) {
	case DHCP_SELECTING:
		if (m.type != DHCPOFFER)
			return XS_DROP_DHCP_UNEXPECTED;
		/* RFC 2131 4.4.1: the first offer; REQUEST it, broadcast. */
		c->offers++;
		dhcp_take(&c->offer, &m);
		c->state = DHCP_REQUESTING;
		c->tries = 0;
		c->backoff_s = 0;
		c->next = now;
		return XS_DROP_NONE;
	case DHCP_REQUESTING:
		if (m.server != c->offer.server)
			return XS_DROP_DHCP_NOT_OURS;
		if (m.type == DHCPNAK) {
			c->naks++;
			c->ev |= DHCP_EV_NAK;
			dhcp_restart(c, now);
			return XS_DROP_NONE;
		}
		if (m.type != DHCPACK || m.yiaddr != c->offer.ip)
			return XS_DROP_DHCP_UNEXPECTED;
		/* RFC 2131 4.4.1 / RFC 5227 2.1.1: probe before using it. */
		c->acks++;
		dhcp_take(&c->offer, &m);
		c->state = DHCP_PROBING;
		c->probes = 0;
		c->next = now + rand_ms(c, 0, DHCP_PROBE_WAIT_MS);
		return XS_DROP_NONE;
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (c->state == DHCP_RENEWING && m.server != c->lease.server)
			return XS_DROP_DHCP_NOT_OURS;
		if (m.type == DHCPNAK) {
			c->naks++;
			c->ev |= DHCP_EV_NAK | DHCP_EV_LOST;
			memset(&c->lease, 0, sizeof(c->lease));
			dhcp_restart(c, now);
			return XS_DROP_NONE;
		}
		if (m.type != DHCPACK || m.yiaddr != c->lease.ip)
			return XS_DROP_DHCP_UNEXPECTED;
		c->acks++;
		dhcp_take(&c->lease, &m);
		dhcp_lease_start(c, now);
		c->ev |= DHCP_EV_RENEWED;
		return XS_DROP_NONE;
	default:
		return XS_DROP_DHCP_UNEXPECTED;
	}
}

void dhcp_client_arp(struct dhcp_client *c, uint32_t sip, uint32_t tip, const uint8_t sha[6],
		     xs_time_t now)
{
	(void)now;
	if (c->state != DHCP_PROBING || !memcmp(sha, c->mac, 6))
		return;
	/* RFC 5227 2.1.1: a packet from the address, or another host's probe
	 * for it, is a conflict. */
	if (sip == c->offer.ip || (sip == 0 && tip == c->offer.ip))
		c->probes = UINT32_MAX; /* poll DECLINEs at once */
	if (c->probes == UINT32_MAX)
		c->next = 0;
}

int dhcp_client_poll(struct dhcp_client *c, xs_time_t now, struct dhcp_out *o)
{
	struct dhcp_msg m;

	switch (c->state) {
	case DHCP_INIT:
		if (now < c->next)
			return 0;
		c->xid = (uint32_t)dhcp_rand(c);
		c->started = now;
		c->backoff_s = 0;
		c->state = DHCP_SELECTING;
		__attribute__((fallthrough)); /* the first DISCOVER */
	case DHCP_SELECTING:
		if (now < c->next && c->tries)
			return 0;
		c->tries++;
		c->next = now + dhcp_backoff(c);
		dhcp_msg_base(c, &m, DHCPDISCOVER, now);
		return dhcp_emit_out(o, &m, 0, BCAST);
	case DHCP_REQUESTING:
		if (now < c->next)
			return 0;
		if (c->tries++ >= DHCP_REQUEST_TRIES) {
			dhcp_restart(c, now);
			return dhcp_client_poll(c, now, o);
		}
		c->next = now + dhcp_backoff(c);
		dhcp_msg_base(c, &m, DHCPREQUEST, now);
		m.opts = DHCP_HAS_REQ_IP | DHCP_HAS_SERVER;
		m.req_ip = c->offer.ip;
		m.server = c->offer.server;
		return dhcp_emit_out(o, &m, 0, BCAST);
	case DHCP_PROBING:
		if (c->probes == UINT32_MAX) {
			dhcp_decline(c, now, o);
			return 1;
		}
		if (now < c->next)
			return 0;
		o->kind = c->probes < DHCP_PROBE_NUM ? DHCP_OUT_PROBE : DHCP_OUT_ANNOUNCE;
		o->ip = c->offer.ip;
		o->src = o->dst = 0;
		o->len = 0;
		if (c->probes++ < DHCP_PROBE_NUM) {
			c->next = now + (c->probes < DHCP_PROBE_NUM
					     ? rand_ms(c, DHCP_PROBE_MIN_MS, DHCP_PROBE_MAX_MS)
					     : DHCP_ANNOUNCE_WAIT_MS * MS);
			return 1;
		}
		/* ANNOUNCE_WAIT passed with no conflict: bound (RFC 5227 2.3). */
		c->lease = c->offer;
		dhcp_lease_start(c, now);
		c->ev |= DHCP_EV_BOUND;
		return 1;
	case DHCP_BOUND:
		if (now < c->t1_at)
			return 0;
		/* RFC 2131 4.4.5: T1, unicast to the server that gave the lease */
		c->state = DHCP_RENEWING;
		c->xid = (uint32_t)dhcp_rand(c);
		c->started = now;
		c->next = now;
		__attribute__((fallthrough));
	case DHCP_RENEWING:
	case DHCP_REBINDING: {
		xs_time_t until;

		if (now >= c->expire_at) {
			c->expiries++;
			c->ev |= DHCP_EV_LOST;
			memset(&c->lease, 0, sizeof(c->lease));
			dhcp_restart(c, now);
			return dhcp_client_poll(c, now, o);
		}
		if (c->state == DHCP_RENEWING && now >= c->t2_at) {
			c->state = DHCP_REBINDING; /* T2: any server, broadcast */
			c->next = now;
		}
		if (now < c->next)
			return 0;
		/* RFC 2131 4.4.5: half the time left, at least 60 s */
		until = (c->state == DHCP_RENEWING ? c->t2_at : c->expire_at) - now;
		c->next =
		    now + (until / 2 > DHCP_RETRY_MIN_S * SEC ? until / 2 : DHCP_RETRY_MIN_S * SEC);
		dhcp_msg_base(c, &m, DHCPREQUEST, now);
		m.ciaddr = c->lease.ip;
		return dhcp_emit_out(o, &m, c->lease.ip,
				     c->state == DHCP_RENEWING ? c->lease.server : BCAST);
	}
	default:
		return 0;
	}
}

int dhcp_client_release(struct dhcp_client *c, struct dhcp_out *o)
{
	struct dhcp_msg m;
	int r = 0;

	if (c->state >= DHCP_BOUND) {
		/* RFC 2131 4.4.6: unicast to the server, ciaddr set */
		dhcp_msg_base(c, &m, DHCPRELEASE, c->started);
		m.xid = (uint32_t)dhcp_rand(c);
		m.ciaddr = c->lease.ip;
		m.opts = DHCP_HAS_SERVER;
		m.server = c->lease.server;
		r = dhcp_emit_out(o, &m, c->lease.ip, c->lease.server);
		c->ev |= DHCP_EV_LOST;
	}
	memset(&c->lease, 0, sizeof(c->lease));
	c->state = DHCP_STOPPED;
	return r;
}
