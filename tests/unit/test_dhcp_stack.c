/* Unit tests of the DHCP client inside a stack (user/net/dhcp_stack.c) over the
 * in-memory device: no address until the lease, ARP probe, DECLINE, release. */
#include "stack_fixture.h"

#include "wire/dhcp.h"

#define SRV_IP GW_IP /* 10.0.0.254 serves DHCP and routes */

/* The DHCP message in frame f (UDP 68 -> 67 from src to dst), parsed. */
static void check_dhcp_out(const uint8_t *f, size_t len, uint32_t src, uint32_t dst,
			   uint8_t type, struct dhcp_msg *m)
{
	const uint8_t *ip = f + ETH_LEN, *l4 = f + L4_OFF;

	assert_true(len > L4_OFF + 8);
	assert_int_equal(get16(f + 12), 0x0800);
	assert_int_equal(ip[9], 17);
	assert_int_equal(get32(ip + 12), src);
	assert_int_equal(get32(ip + 16), dst);
	if (dst == 0xffffffffu)
		assert_memory_equal(f, bcast_mac, 6);
	assert_int_equal(get16(l4), 68);
	assert_int_equal(get16(l4 + 2), 67);
	assert_int_equal(dhcp_parse(l4 + 8, get16(l4 + 4) - 8u, m), XS_DROP_NONE);
	assert_int_equal(m->type, type);
	assert_memory_equal(m->chaddr, our_mac, 6);
}

static size_t server_reply(uint8_t *f, uint32_t xid, uint8_t type, uint32_t yiaddr)
{
	struct dhcp_msg m = { .op = BOOTREPLY, .xid = xid, .type = type, .yiaddr = yiaddr,
			      .opts = DHCP_HAS_SERVER | DHCP_HAS_MASK | DHCP_HAS_ROUTER |
				      DHCP_HAS_DNS | DHCP_HAS_LEASE,
			      .server = SRV_IP, .mask = 0xffffff00, .router = GW_IP,
			      .dns = { SRV_IP }, .dns_n = 1, .lease = 120 };
	uint8_t b[576];
	size_t n;

	memcpy(m.chaddr, our_mac, 6);
	n = dhcp_emit(&m, b, sizeof(b));
	return mk_udp(f, SRV_IP, 67, yiaddr ? yiaddr : 0xffffffffu, 68, b, n);
}

/* Runs the stack from DISCOVER to ACK; returns the xid. */
static uint32_t to_probing(struct fx *fx)
{
	struct xs_config cfg = { .dhcp = 1 };
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	size_t n;

	fx_restart(fx, &cfg, 1500, 64, false);
	assert_int_equal(xs_stack_ip(fx->st), 0);
	fx_poll(fx, 0);
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
	expect_nothing_sent(fx, "after DISCOVER");
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(10));
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPREQUEST, &m);
	assert_int_equal(m.req_ip, OUR_IP);
	assert_int_equal(m.server, SRV_IP);
	inject(fx, f, server_reply(f, m.xid, DHCPACK, OUR_IP));
	fx_poll(fx, XS_MS(20));
	expect_drops(fx, XS_DROP_NONE, 0, "offer and ack taken");
	assert_int_equal(xs_stack_ip(fx->st), 0);
	return m.xid;
}

static void test_lease_then_ping(void **state)
{
	struct fx *fx = *state;
	struct xs_dhcp_info info;
	uint8_t f[FRAME_MAX];
	unsigned probes = 0, garps = 0;
	size_t n;
	xs_time_t t;

	to_probing(fx);
	/* unbound: a ping to the address on offer is not ours yet */
	inject(fx, f, mk_echo(f, PEER_IP, OUR_IP, 1, 1, (const uint8_t *)"abcdefgh", 8));
	fx_poll(fx, XS_MS(30));
	/* Nothing but the first ARP probe (RFC 5227 2.1.1: its delay is
	 * random in 0-1 s, so it may already be due): no echo reply. */
	while ((n = take(fx, f))) {
		assert_int_equal(get16(f + 12), 0x0806);
		assert_int_equal(get32(f + ETH_LEN + 14), 0);
		probes++;
	}
	expect_drops(fx, XS_DROP_IP_DST, 1, "ping before bound");
	for (t = XS_MS(100); t <= XS_SEC(9); t += XS_MS(100)) {
		fx_poll(fx, t);
		while ((n = take(fx, f))) {
			const uint8_t *a = f + ETH_LEN;

			assert_int_equal(get16(f + 12), 0x0806);
			assert_int_equal(get32(a + 24), OUR_IP);
			if (get32(a + 14) == 0)
				probes++; /* RFC 5227 probe: sender 0 */
			else
				garps++;
		}
	}
	assert_int_equal(probes, 3);
	assert_int_equal(garps, 2);
	assert_int_equal(xs_stack_ip(fx->st), OUR_IP);
	assert_true(xs_dhcp_events(fx->st) & XS_DHCP_EV_BOUND);
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	assert_string_equal(info.state, "bound");
	assert_int_equal(info.prefix_len, 24);
	assert_int_equal(info.router, GW_IP);
	assert_true(info.t1_ms > 50000 && info.t1_ms <= 60000);
	assert_true(info.expiry_ms > 110000 && info.expiry_ms <= 120000);
	/* bound: the ping is answered (after ARP for the peer) */
	learn_peer(fx, peer_mac, PEER_IP);
	inject(fx, f, mk_echo(f, PEER_IP, OUR_IP, 1, 2, (const uint8_t *)"abcdefgh", 8));
	fx_poll(fx, fx->now + XS_MS(1));
	n = take(fx, f);
	assert_true(n > 0);
	assert_int_equal(get32(f + ETH_LEN + 16), PEER_IP);
	assert_int_equal(f[L4_OFF], 0); /* echo reply */
}

static void test_hostile_replies_counted(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = { .dhcp = 1 };
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	size_t n;

	fx_restart(fx, &cfg, 1500, 64, false);
	fx_poll(fx, 0);
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
	inject(fx, f, server_reply(f, m.xid + 1, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(1));
	expect_drops(fx, XS_DROP_DHCP_NOT_OURS, 1, "wrong xid");
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, 0xffffffffu));
	fx_poll(fx, XS_MS(2));
	expect_drops(fx, XS_DROP_DHCP_YIADDR, 1, "broadcast yiaddr");
	/* options cut: the END and more gone (UDP and IP lengths shortened) */
	n = server_reply(f, m.xid, DHCPOFFER, OUR_IP);
	{
		uint8_t b[576];
		struct dhcp_msg o = { .op = BOOTREPLY, .xid = m.xid, .type = DHCPOFFER,
				      .yiaddr = OUR_IP, .opts = DHCP_HAS_SERVER | DHCP_HAS_LEASE,
				      .server = SRV_IP, .lease = 60 };

		memcpy(o.chaddr, our_mac, 6);
		dhcp_emit(&o, b, sizeof(b));
		inject(fx, f, mk_udp(f, SRV_IP, 67, OUR_IP, 68, b, 250));
	}
	fx_poll(fx, XS_MS(3));
	expect_drops(fx, XS_DROP_DHCP_OPT_LEN, 1, "option past the end");
	expect_nothing_sent(fx, "hostile replies");
	assert_int_equal(xs_stack_ip(fx->st), 0);
	/* a good offer still works */
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(4));
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPREQUEST, &m);
}

static void test_conflict_declines(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	size_t n;

	to_probing(fx);
	fx_poll(fx, XS_SEC(1) + XS_MS(50));
	n = take(fx, f); /* the first probe */
	assert_int_equal(get16(f + 12), 0x0806);
	/* another host answers for the address */
	inject(fx, f, mk_arp(f, our_mac, 2, peer_mac, OUR_IP, our_mac, 0));
	fx_poll(fx, XS_SEC(1) + XS_MS(60));
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDECLINE, &m);
	assert_int_equal(m.req_ip, OUR_IP);
	assert_true(xs_dhcp_events(fx->st) & XS_DHCP_EV_DECLINED);
	assert_int_equal(xs_stack_ip(fx->st), 0);
	fx_poll(fx, XS_SEC(12));
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
}

/* From DISCOVER to BOUND (probes and announcements drained). */
static void to_bound(struct fx *fx)
{
	uint8_t f[FRAME_MAX];
	xs_time_t t;

	to_probing(fx);
	for (t = XS_MS(100); t <= XS_SEC(9); t += XS_MS(100)) {
		fx_poll(fx, t);
		while (take(fx, f))
			;
	}
	assert_int_equal(xs_stack_ip(fx->st), OUR_IP);
	assert_true(xs_dhcp_events(fx->st) & XS_DHCP_EV_BOUND);
}

static void test_release(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	size_t n;
	xs_time_t t;

	to_bound(fx);
	learn_peer(fx, gw_mac, SRV_IP);
	xs_dhcp_release(fx->st);
	n = take(fx, f);
	check_dhcp_out(f, n, OUR_IP, SRV_IP, DHCPRELEASE, &m);
	assert_memory_equal(f, gw_mac, 6);
	assert_int_equal(m.ciaddr, OUR_IP);
	/* stopped: no DHCP message ever again (ARP may refresh its entries) */
	for (t = XS_SEC(10); t <= XS_SEC(1000); t += XS_SEC(10)) {
		fx_poll(fx, t);
		while ((n = take(fx, f)))
			assert_int_equal(get16(f + 12), 0x0806);
	}
}

/* The next DHCP message the stack sends (ARP it may send first is skipped). */
static size_t take_dhcp(struct fx *fx, uint8_t *f)
{
	size_t n;

	while ((n = take(fx, f)) && get16(f + 12) == 0x0806)
		;
	assert_true(n > 0);
	return n;
}

/* RFC 2131 4.4.5 on the wire: at T1 a REQUEST unicast to the server from the
 * leased address (ciaddr, no options 50/54); unanswered, at T2 the same
 * broadcast; unanswered, at expiry the address is gone and DISCOVER starts
 * from 0.0.0.0. Between them nothing (the retry floor is 60 s). */
static void test_renew_rebind_expire(void **state)
{
	struct fx *fx = *state;
	struct xs_dhcp_info info;
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	xs_time_t t1, t2, exp;
	size_t n;

	to_bound(fx);
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	/* the times left are whole ms, cut: the timers fire within 1 ms after */
	t1 = fx->now + XS_MS(info.t1_ms + 1);
	t2 = fx->now + XS_MS(info.t2_ms + 1);
	exp = fx->now + XS_MS(info.expiry_ms + 1);
	assert_true(t2 - t1 > XS_SEC(40) && exp - t2 > XS_SEC(10));
	fx_poll(fx, t1 - XS_MS(2));
	while ((n = take(fx, f)))
		assert_int_equal(get16(f + 12), 0x0806); /* no DHCP before T1 */
	learn_peer(fx, gw_mac, SRV_IP);

	fx_poll(fx, t1);
	n = take_dhcp(fx, f);
	check_dhcp_out(f, n, OUR_IP, SRV_IP, DHCPREQUEST, &m);
	assert_memory_equal(f, gw_mac, 6); /* unicast to the server */
	assert_int_equal(m.ciaddr, OUR_IP);
	assert_false(m.opts & (DHCP_HAS_REQ_IP | DHCP_HAS_SERVER));
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	assert_string_equal(info.state, "renewing");
	assert_int_equal(xs_stack_ip(fx->st), OUR_IP);
	fx_poll(fx, t2 - XS_MS(2));
	while ((n = take(fx, f)))
		assert_int_equal(get16(f + 12), 0x0806); /* no retry before T2 */

	fx_poll(fx, t2);
	n = take_dhcp(fx, f);
	check_dhcp_out(f, n, OUR_IP, 0xffffffffu, DHCPREQUEST, &m);
	assert_int_equal(m.ciaddr, OUR_IP);
	assert_false(m.opts & (DHCP_HAS_REQ_IP | DHCP_HAS_SERVER));
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	assert_string_equal(info.state, "rebinding");
	assert_int_equal(xs_stack_ip(fx->st), OUR_IP);
	assert_int_equal(xs_dhcp_events(fx->st), 0);
	fx_poll(fx, exp - XS_MS(2));
	while ((n = take(fx, f)))
		assert_int_equal(get16(f + 12), 0x0806);

	fx_poll(fx, exp);
	n = take_dhcp(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
	assert_int_equal(xs_stack_ip(fx->st), 0);
	assert_int_equal(xs_dhcp_events(fx->st), XS_DHCP_EV_LOST);
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	assert_string_equal(info.state, "selecting");
	assert_int_equal(info.expiries, 1);
	/* the old address is not ours any more */
	fx_snap(fx);
	inject(fx, f, mk_echo(f, PEER_IP, OUR_IP, 1, 1, (const uint8_t *)"abcdefgh", 8));
	fx_poll(fx, fx->now + XS_MS(1));
	expect_drops(fx, XS_DROP_IP_DST, 1, "ping after expiry");
}

/* A NAK to the renewal (RFC 2131 4.4.5): the address goes at once, both
 * events are raised, and DISCOVER follows from 0.0.0.0. */
static void test_nak_on_renew(void **state)
{
	struct fx *fx = *state;
	struct xs_dhcp_info info;
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	size_t n;

	to_bound(fx);
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	learn_peer(fx, gw_mac, SRV_IP);
	fx_poll(fx, fx->now + XS_MS(info.t1_ms + 1));
	n = take_dhcp(fx, f);
	check_dhcp_out(f, n, OUR_IP, SRV_IP, DHCPREQUEST, &m);
	inject(fx, f, server_reply(f, m.xid, DHCPNAK, 0));
	fx_poll(fx, fx->now + XS_MS(1));
	expect_drops(fx, XS_DROP_NONE, 0, "the NAK taken");
	assert_int_equal(xs_stack_ip(fx->st), 0);
	assert_int_equal(xs_dhcp_events(fx->st), XS_DHCP_EV_LOST | XS_DHCP_EV_NAK);
	n = take_dhcp(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
	assert_int_equal(xs_dhcp_info(fx->st, fx->now, &info), 0);
	assert_int_equal(info.naks, 1);
	assert_string_equal(info.state, "selecting");
}

/* DHCP replies meet the inbound filter like any other packet (they used to
 * be taken before it): a rule against the server drops its OFFER; reject
 * has no address to answer from while unbound, so it only drops. */
static void test_filter_judges_replies(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = { .dhcp = 1 };
	const char *drop = "drop in udp src 10.0.0.254 sport 67\n";
	const char *reject = "reject in udp sport 67 dport 68\n";
	struct xs_filter_entry e[2];
	uint8_t f[FRAME_MAX];
	struct dhcp_msg m;
	char err[128];
	size_t n;

	fx_restart(fx, &cfg, 1500, 64, false);
	assert_int_equal(xs_filter_load(fx->st, drop, strlen(drop), err, sizeof(err)), 0);
	fx_poll(fx, 0);
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPDISCOVER, &m);
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(10));
	expect_nothing_sent(fx, "a dropped OFFER");
	expect_drops(fx, XS_DROP_FILTER_IN, 1, "a dropped OFFER");
	assert_int_equal(xs_filter_list(fx->st, e, 2, NULL, NULL, NULL), 1);
	assert_int_equal(e[0].pkts, 1);
	/* reject, unbound: dropped, counted, nothing sent from 0.0.0.0. */
	assert_int_equal(xs_filter_load(fx->st, reject, strlen(reject), err, sizeof(err)), 0);
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(20));
	expect_nothing_sent(fx, "a rejected OFFER");
	expect_drops(fx, XS_DROP_FILTER_REJECT, 1, "a rejected OFFER");
	/* No rule: the OFFER is taken, a REQUEST follows. */
	xs_filter_flush(fx->st);
	inject(fx, f, server_reply(f, m.xid, DHCPOFFER, OUR_IP));
	fx_poll(fx, XS_MS(30));
	n = take(fx, f);
	check_dhcp_out(f, n, 0, 0xffffffffu, DHCPREQUEST, &m);
	assert_int_equal(m.req_ip, OUR_IP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_then_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_replies_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_declines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_rebind_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nak_on_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_judges_replies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
