/* Unit tests of the DHCP client state machine (user/net/dhcp.c) on a virtual
 * clock: acquisition with the ARP probe, T1, T2, expiry, NAK, DECLINE, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/dhcp.h"

#define SEC 1000000000ull
#define SRV 0x0a000001u
#define YI 0x0a000064u
#define BCAST 0xffffffffu

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t other[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

struct reply_opts {
	uint32_t yiaddr, xid, lease, t1, t2, server;
	bool no_server;
	const uint8_t *chaddr;
};

/* A server reply of type t to the client's current xid (unless o says). */
static size_t reply(const struct dhcp_client *c, uint8_t type, const struct reply_opts *o,
		    uint8_t *b)
{
	struct dhcp_msg m = { .op = BOOTREPLY, .type = type };

	m.xid = o && o->xid ? o->xid : c->xid;
	m.yiaddr = type == DHCPNAK ? 0 : (o && o->yiaddr ? o->yiaddr : YI);
	memcpy(m.chaddr, o && o->chaddr ? o->chaddr : mac, 6);
	if (!(o && o->no_server)) {
		m.opts |= DHCP_HAS_SERVER;
		m.server = o && o->server ? o->server : SRV;
	}
	if (type != DHCPNAK) {
		m.opts |= DHCP_HAS_MASK | DHCP_HAS_ROUTER | DHCP_HAS_DNS | DHCP_HAS_LEASE;
		m.mask = 0xffffff00;
		m.router = SRV;
		m.dns[0] = SRV;
		m.dns_n = 1;
		m.lease = o && o->lease ? o->lease : 120;
		if (o && o->t1) {
			m.opts |= DHCP_HAS_T1 | DHCP_HAS_T2;
			m.t1 = o->t1;
			m.t2 = o->t2;
		}
	}
	return dhcp_emit(&m, b, 576);
}

static void expect_msg(struct dhcp_client *c, xs_time_t now, uint8_t type, uint32_t dst,
		       struct dhcp_msg *m)
{
	struct dhcp_out o;

	assert_int_equal(dhcp_client_poll(c, now, &o), 1);
	assert_int_equal(o.kind, DHCP_OUT_MSG);
	assert_int_equal(o.dst, dst);
	assert_int_equal(dhcp_parse(o.b, o.len, m), XS_DROP_NONE);
	assert_int_equal(m->op, BOOTREQUEST);
	assert_int_equal(m->type, type);
	assert_int_equal(m->xid, c->xid);
	assert_memory_equal(m->chaddr, mac, 6);
}

static void give(struct dhcp_client *c, uint8_t type, const struct reply_opts *o, xs_time_t now,
		 enum xs_drop want)
{
	uint8_t b[576];
	size_t n = reply(c, type, o, b);

	assert_int_equal(dhcp_client_input(c, b, n, now), want);
}

/* DISCOVER, OFFER, REQUEST, ACK, three probes, announce: bound at the
 * returned time. */
static xs_time_t acquire(struct dhcp_client *c, xs_time_t now, const struct reply_opts *o)
{
	struct dhcp_msg m;
	struct dhcp_out out;
	unsigned probes = 0;

	dhcp_client_init(c, mac, 42);
	dhcp_client_start(c, now);
	expect_msg(c, now, DHCPDISCOVER, BCAST, &m);
	give(c, DHCPOFFER, o, now, XS_DROP_NONE);
	assert_int_equal(c->state, DHCP_REQUESTING);
	expect_msg(c, now, DHCPREQUEST, BCAST, &m);
	assert_true(m.opts & DHCP_HAS_REQ_IP);
	assert_int_equal(m.req_ip, YI);
	assert_int_equal(m.server, SRV);
	give(c, DHCPACK, o, now, XS_DROP_NONE);
	assert_int_equal(c->state, DHCP_PROBING);
	assert_int_equal(dhcp_client_addr(c), 0); /* not before the probe */
	while (c->state == DHCP_PROBING) {
		now = dhcp_client_next(c);
		assert_int_equal(dhcp_client_poll(c, now, &out), 1);
		assert_int_equal(out.ip, YI);
		if (out.kind == DHCP_OUT_PROBE)
			probes++;
		else
			assert_int_equal(out.kind, DHCP_OUT_ANNOUNCE);
	}
	assert_int_equal(probes, DHCP_PROBE_NUM);
	assert_int_equal(c->state, DHCP_BOUND);
	assert_true(c->ev & DHCP_EV_BOUND);
	c->ev = 0;
	return now;
}

static void test_acquire_and_renew(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_out o;
	xs_time_t t0 = 5 * SEC, now = acquire(&c, t0, NULL);
	uint32_t old_xid = c.xid;

	(void)state;
	/* probe wait <= 1 s, 2 gaps of 1-2 s, announce wait 2 s */
	assert_true(now >= t0 + 4 * SEC && now <= t0 + 7 * SEC);
	assert_int_equal(dhcp_client_addr(&c), YI);
	assert_int_equal(c.lease.mask, 0xffffff00);
	assert_int_equal(c.lease.router, SRV);
	assert_int_equal(c.lease.dns_n, 1);
	/* 0.5 and 0.875 of 120 s */
	assert_int_equal(c.t1_at, now + 60 * SEC);
	assert_int_equal(c.t2_at, now + 105 * SEC);
	assert_int_equal(c.expire_at, now + 120 * SEC);
	assert_int_equal(dhcp_client_next(&c), c.t1_at);
	assert_int_equal(dhcp_client_poll(&c, c.t1_at - 1, &o), 0);
	/* T1: unicast from the leased address, ciaddr set, no options 50/54 */
	now = c.t1_at;
	expect_msg(&c, now, DHCPREQUEST, SRV, &m);
	assert_int_not_equal(c.xid, old_xid);
	assert_int_equal(c.state, DHCP_RENEWING);
	assert_int_equal(m.ciaddr, YI);
	assert_false(m.opts & (DHCP_HAS_REQ_IP | DHCP_HAS_SERVER));
	assert_int_equal(dhcp_client_addr(&c), YI); /* still ours while renewing */
	/* an ACK from another server is not taken while renewing */
	give(&c, DHCPACK, &(struct reply_opts){ .server = 0x0a000002 }, now,
	     XS_DROP_DHCP_NOT_OURS);
	give(&c, DHCPACK, &(struct reply_opts){ .lease = 200, .t1 = 50, .t2 = 150 }, now + SEC,
	     XS_DROP_NONE);
	assert_int_equal(c.state, DHCP_BOUND);
	assert_true(c.ev & DHCP_EV_RENEWED);
	assert_int_equal(c.t1_at, now + 51 * SEC);
	assert_int_equal(c.t2_at, now + 151 * SEC);
	assert_int_equal(c.expire_at, now + 201 * SEC);
}

static void test_rebind_then_expire(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	xs_time_t now = acquire(&c, 0, NULL), t2, exp;

	(void)state;
	t2 = c.t2_at;
	exp = c.expire_at;
	expect_msg(&c, c.t1_at, DHCPREQUEST, SRV, &m);
	/* RFC 2131 4.4.5: the next try no sooner than 60 s, so T2 comes first */
	assert_int_equal(dhcp_client_next(&c), t2);
	expect_msg(&c, t2, DHCPREQUEST, BCAST, &m);
	assert_int_equal(c.state, DHCP_REBINDING);
	assert_int_equal(m.ciaddr, YI);
	assert_int_equal(dhcp_client_next(&c), exp);
	/* expiry: the address is lost and discovery starts again */
	expect_msg(&c, exp, DHCPDISCOVER, BCAST, &m);
	assert_true(c.ev & DHCP_EV_LOST);
	assert_int_equal(c.state, DHCP_SELECTING);
	assert_int_equal(dhcp_client_addr(&c), 0);
	assert_int_equal(c.expiries, 1);
	(void)now;
}

static void test_nak_while_renewing(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	xs_time_t now = acquire(&c, 0, NULL);

	(void)state;
	now = c.t1_at;
	expect_msg(&c, now, DHCPREQUEST, SRV, &m);
	give(&c, DHCPNAK, NULL, now, XS_DROP_NONE);
	assert_true(c.ev & DHCP_EV_NAK);
	assert_true(c.ev & DHCP_EV_LOST);
	assert_int_equal(dhcp_client_addr(&c), 0);
	expect_msg(&c, now, DHCPDISCOVER, BCAST, &m);
	assert_int_equal(c.naks, 1);
}

static void test_nak_while_requesting(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;

	(void)state;
	dhcp_client_init(&c, mac, 7);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	give(&c, DHCPOFFER, NULL, 0, XS_DROP_NONE);
	expect_msg(&c, 0, DHCPREQUEST, BCAST, &m);
	give(&c, DHCPNAK, NULL, SEC, XS_DROP_NONE);
	assert_true(c.ev & DHCP_EV_NAK);
	assert_false(c.ev & DHCP_EV_LOST);
	expect_msg(&c, SEC, DHCPDISCOVER, BCAST, &m);
}

static void test_decline_on_conflict(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_out o;
	uint32_t xid;

	(void)state;
	dhcp_client_init(&c, mac, 9);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	give(&c, DHCPOFFER, NULL, 0, XS_DROP_NONE);
	expect_msg(&c, 0, DHCPREQUEST, BCAST, &m);
	give(&c, DHCPACK, NULL, 0, XS_DROP_NONE);
	assert_int_equal(dhcp_client_poll(&c, dhcp_client_next(&c), &o), 1);
	assert_int_equal(o.kind, DHCP_OUT_PROBE);
	/* our own probe looped back is no conflict; another host's reply is */
	dhcp_client_arp(&c, 0, YI, mac, SEC);
	assert_int_equal(c.state, DHCP_PROBING);
	dhcp_client_arp(&c, YI, 0, other, SEC);
	xid = c.xid;
	expect_msg(&c, SEC, DHCPDECLINE, BCAST, &m);
	assert_int_equal(m.req_ip, YI);
	assert_int_equal(m.server, SRV);
	assert_true(c.ev & DHCP_EV_DECLINED);
	assert_int_equal(c.declines, 1);
	assert_int_equal(dhcp_client_addr(&c), 0);
	/* RFC 2131 3.1.5: discovery again after 10 s, with a new xid */
	assert_int_equal(dhcp_client_poll(&c, 10 * SEC, &o), 0);
	expect_msg(&c, 11 * SEC, DHCPDISCOVER, BCAST, &m);
	assert_int_not_equal(c.xid, xid);
}

static void test_probe_from_other_host(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;

	(void)state;
	dhcp_client_init(&c, mac, 10);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	give(&c, DHCPOFFER, NULL, 0, XS_DROP_NONE);
	expect_msg(&c, 0, DHCPREQUEST, BCAST, &m);
	give(&c, DHCPACK, NULL, 0, XS_DROP_NONE);
	dhcp_client_arp(&c, 0, YI, other, 0); /* RFC 5227 2.1.1: another prober */
	expect_msg(&c, 0, DHCPDECLINE, BCAST, &m);
}

static void test_backoff(void **state)
{
	static const unsigned want[] = { 4, 8, 16, 32, 64, 64, 64 };
	struct dhcp_client c;
	struct dhcp_msg m;
	xs_time_t now = 0, next;

	(void)state;
	dhcp_client_init(&c, mac, 11);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		next = dhcp_client_next(&c);
		assert_true(next >= now + (want[i] - 1) * SEC);
		assert_true(next <= now + (want[i] + 1) * SEC);
		now = next;
		expect_msg(&c, now, DHCPDISCOVER, BCAST, &m);
		assert_int_equal(m.secs, now / SEC);
	}
}

/* RFC 2131 4.1: the +-1 s is random, so that clients started together
 * spread out: two seeds give two schedules, each within the bounds. */
static void test_backoff_randomised(void **state)
{
	struct dhcp_client a, b;
	struct dhcp_msg m;
	xs_time_t ta = 0, tb = 0;
	unsigned differ = 0, off_nominal = 0;

	(void)state;
	dhcp_client_init(&a, mac, 21);
	dhcp_client_init(&b, mac, 22);
	dhcp_client_start(&a, 0);
	dhcp_client_start(&b, 0);
	expect_msg(&a, 0, DHCPDISCOVER, BCAST, &m);
	expect_msg(&b, 0, DHCPDISCOVER, BCAST, &m);
	for (unsigned i = 0, want = 4; i < 6; i++, want = want < 64 ? want * 2 : 64) {
		xs_time_t na = dhcp_client_next(&a), nb = dhcp_client_next(&b);

		differ += na - ta != nb - tb;
		off_nominal += na - ta != want * SEC;
		ta = na;
		tb = nb;
		expect_msg(&a, ta, DHCPDISCOVER, BCAST, &m);
		expect_msg(&b, tb, DHCPDISCOVER, BCAST, &m);
	}
	/* ms-grained jitter: equal intervals by chance are 1 in 2001 each */
	assert_true(differ >= 5);
	assert_true(off_nominal >= 5);
}

static void test_request_gives_up(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_out o;
	unsigned requests = 0;
	xs_time_t now = 0;

	(void)state;
	dhcp_client_init(&c, mac, 12);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	give(&c, DHCPOFFER, NULL, 0, XS_DROP_NONE);
	while (dhcp_client_poll(&c, now, &o) == 1) {
		assert_int_equal(dhcp_parse(o.b, o.len, &m), XS_DROP_NONE);
		if (m.type == DHCPDISCOVER)
			break;
		assert_int_equal(m.type, DHCPREQUEST);
		requests++;
		now = dhcp_client_next(&c);
	}
	assert_int_equal(requests, DHCP_REQUEST_TRIES);
	assert_int_equal(c.state, DHCP_SELECTING);
}

static void test_hostile_replies(void **state)
{
	static const uint8_t zero[6];
	struct dhcp_client c;
	struct dhcp_msg m;
	uint8_t b[576];
	size_t n;

	(void)state;
	dhcp_client_init(&c, mac, 13);
	dhcp_client_start(&c, 0);
	expect_msg(&c, 0, DHCPDISCOVER, BCAST, &m);
	give(&c, DHCPOFFER, &(struct reply_opts){ .xid = c.xid + 1 }, 0, XS_DROP_DHCP_NOT_OURS);
	give(&c, DHCPOFFER, &(struct reply_opts){ .chaddr = other }, 0, XS_DROP_DHCP_NOT_OURS);
	give(&c, DHCPOFFER, &(struct reply_opts){ .chaddr = zero }, 0, XS_DROP_DHCP_NOT_OURS);
	give(&c, DHCPOFFER, &(struct reply_opts){ .yiaddr = BCAST }, 0, XS_DROP_DHCP_YIADDR);
	give(&c, DHCPOFFER, &(struct reply_opts){ .yiaddr = 0x0a0000ff }, 0, XS_DROP_DHCP_YIADDR);
	give(&c, DHCPOFFER, &(struct reply_opts){ .yiaddr = 0x7f000001 }, 0, XS_DROP_DHCP_YIADDR);
	give(&c, DHCPOFFER, &(struct reply_opts){ .no_server = true }, 0, XS_DROP_DHCP_NO_SERVER);
	give(&c, DHCPACK, NULL, 0, XS_DROP_DHCP_UNEXPECTED);
	give(&c, DHCPNAK, NULL, 0, XS_DROP_DHCP_UNEXPECTED);
	/* yiaddr 0 in an offer (the emitter writes what it is given) */
	n = reply(&c, DHCPOFFER, NULL, b);
	memset(b + 16, 0, 4);
	assert_int_equal(dhcp_client_input(&c, b, n, 0), XS_DROP_DHCP_YIADDR);
	/* a request echoed back (op BOOTREQUEST) */
	b[0] = BOOTREQUEST;
	assert_int_equal(dhcp_client_input(&c, b, n, 0), XS_DROP_DHCP_NOT_OURS);
	/* malformed: END cut off */
	n = reply(&c, DHCPOFFER, NULL, b);
	assert_int_equal(dhcp_client_input(&c, b, 250, 0), XS_DROP_DHCP_OPT_LEN);
	assert_int_equal(c.state, DHCP_SELECTING);
	assert_int_equal(c.offers, 0);
	/* and a good one is still taken */
	give(&c, DHCPOFFER, NULL, 0, XS_DROP_NONE);
	assert_int_equal(c.state, DHCP_REQUESTING);
	/* an ACK for another address than offered */
	expect_msg(&c, 0, DHCPREQUEST, BCAST, &m);
	give(&c, DHCPACK, &(struct reply_opts){ .yiaddr = YI + 1 }, 0, XS_DROP_DHCP_UNEXPECTED);
}

static void test_short_and_infinite_leases(void **state)
{
	struct dhcp_client c;
	xs_time_t now;

	(void)state;
	/* T1 >= T2 from the server: the defaults; a 1 s lease: the 10 s floor */
	now = acquire(&c, 0, &(struct reply_opts){ .lease = 1, .t1 = 9, .t2 = 5 });
	assert_int_equal(c.expire_at, now + DHCP_LEASE_MIN_S * SEC);
	assert_int_equal(c.t1_at, now + DHCP_LEASE_MIN_S / 2 * SEC);
	assert_int_equal(c.t2_at, now + DHCP_LEASE_MIN_S * 7 / 8 * SEC);
	now = acquire(&c, 0, &(struct reply_opts){ .lease = DHCP_LEASE_INFINITE });
	assert_int_equal(dhcp_client_next(&c), UINT64_MAX);
}

static void test_release(void **state)
{
	struct dhcp_client c;
	struct dhcp_msg m;
	struct dhcp_out o;

	(void)state;
	acquire(&c, 0, NULL);
	assert_int_equal(dhcp_client_release(&c, &o), 1);
	assert_int_equal(o.dst, SRV);
	assert_int_equal(o.src, YI);
	assert_int_equal(dhcp_parse(o.b, o.len, &m), XS_DROP_NONE);
	assert_int_equal(m.type, DHCPRELEASE);
	assert_int_equal(m.ciaddr, YI);
	assert_int_equal(m.server, SRV);
	assert_int_equal(c.state, DHCP_STOPPED);
	assert_int_equal(dhcp_client_addr(&c), 0);
	assert_int_equal(dhcp_client_release(&c, &o), 0); /* nothing left to give */
	assert_int_equal(dhcp_client_poll(&c, 1000 * SEC, &o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_and_renew),
		cmocka_unit_test(test_rebind_then_expire),
		cmocka_unit_test(test_nak_while_renewing),
		cmocka_unit_test(test_nak_while_requesting),
		cmocka_unit_test(test_decline_on_conflict),
		cmocka_unit_test(test_probe_from_other_host),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_backoff_randomised),
		cmocka_unit_test(test_request_gives_up),
		cmocka_unit_test(test_hostile_replies),
		cmocka_unit_test(test_short_and_infinite_leases),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
