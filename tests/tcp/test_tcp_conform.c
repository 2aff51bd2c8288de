/* Scripted TCP conversations for the RFC 9293 MUSTs no other test checked
 * (docs/CONFORMANCE.md names each row's test): one test per requirement. */
#include "tcp_fixture.h"

static uint64_t drops(struct tfx *t, enum xs_drop why)
{
	return xs_stack_stats(t->fx.st)->drop[why];
}

/* Connections and listeners the stack holds. */
static size_t nconns(struct tfx *t)
{
	struct xs_tcp_info info[8];

	return xs_tcp_list(t->fx.st, info, 8);
}

/* The next frame the stack sent, raw (IPv4 header at f + ETH_LEN), also
 * parsed into t->s. */
static size_t take_raw(struct tfx *t, uint8_t *f)
{
	size_t n = take(&t->fx, f);

	assert_true(n > 0);
	parse_tcp_frame(f, n, &t->s);
	return n;
}

/* The next frame the stack sent, unparsed (its TTL and TOS may be any). */
static size_t take_frame(struct tfx *t, uint8_t *f)
{
	size_t n = take(&t->fx, f);

	assert_true(n > L4_OFF + 20);
	assert_int_equal(f[ETH_LEN + 9], 6);
	return n;
}

/* A peer segment from src to dst (either may be any address), checksums
 * right for those addresses, so that only the address policy can drop it. */
static void psend_addr(struct tfx *t, uint32_t src, uint32_t dst, uint8_t flags, uint32_t seq,
		       uint32_t ack)
{
	uint8_t f[FRAME_MAX], *ip = f + ETH_LEN, *l4 = f + L4_OFF;
	size_t len = mk_tcp(f, t->pport, t->lport, seq, ack, flags, t->pwnd, NULL, NULL, 0);

	put32(ip + 12, src);
	put32(ip + 16, dst);
	ip_fix_csum(ip);
	put16(l4 + 16, 0);
	put16(l4 + 16, tcp_csum_ref(ip, l4, 20));
	inject(&t->fx, f, len);
	tfx_poll(t);
}

/* RFC 9293 3.1 (MUST-1): the window field is unsigned: 65535 and 32768
 * (which a signed 16-bit reading makes negative) are windows of that many
 * bytes. No window scaling here, so the field is the window. */
static void test_window_field_unsigned(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	o.ws = -1;
	t->pwnd = 65535;
	tfx_passive_open(t, &o);
	assert_int_equal(conn_info(t).snd_wscale, 0);
	assert_int_equal(conn_info(t).snd_wnd, 65535);
	t->pwnd = 32768;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	assert_int_equal(conn_info(t).snd_wnd, 32768);
	/* And it is used: ten segments (the initial window) go at once. */
	app_send(t, 14480);
	for (int i = 0; i < 10; i++)
		expect_seg(t, F_ACK, S(1448 * i), P(0), 1448, WND_ANY);
	expect_nothing(t);
}

/* RFC 9293 3.4.1 (MUST-8, MUST-9): the ISN follows a clock of 4 us ticks
 * (M), plus F(4-tuple, secret): the same 4-tuple 1 s later starts exactly
 * 250000 higher; another 4-tuple at the same instant is not a clock step
 * away; a stack with another secret (a restart) picks another ISN for the
 * same 4-tuple at the same time (equal by chance with probability 2^-32). */
static void test_isn_clock_and_secret(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_none();
	xs_time_t t0 = t->fx.now;
	uint32_t iss1, iss2, iss3, iss4;

	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	iss1 = t->s.seq;
	/* The peer resets the embryonic connection (exact RST): LISTEN again. */
	psend_opts(t, F_RST, P(0), 0, &o, NULL, 0);
	expect_nothing(t);
	assert_int_equal(nconns(t), 1);
	tfx_at(t, t0 + XS_SEC(1));
	psyn(t, &o);
	assert_true(take_seg(t));
	iss2 = t->s.seq;
	assert_int_equal(iss2 - iss1, 250000);
	psend_opts(t, F_RST, P(0), 0, &o, NULL, 0);
	/* Another peer port, same instant: F differs, not by clock ticks. */
	t->pport = PPORT + 1;
	psyn(t, &o);
	assert_true(take_seg(t));
	iss3 = t->s.seq;
	assert_int_not_equal(iss3, iss2);
	/* A new stack (new secret), the first 4-tuple, the same virtual time. */
	tfx_restart(t, 1500);
	assert_true(t->fx.now <= t0);
	tfx_at(t, t0);
	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	iss4 = t->s.seq;
	assert_int_not_equal(iss4, iss1);
}

/* RFC 9293 3.5 (MUST-11): SYN-RECEIVED remembers how it was reached. A RST
 * there (at RCV.NXT) returns a passive open to LISTEN without a word (the
 * listener stays, a new SYN is answered), and refuses an active one
 * (simultaneous open): XS_EV_ERROR, -ECONNREFUSED. */
static void test_syn_received_passive_or_active(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	/* Passive. */
	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->lh, tfx_event_cb, t), 0);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	reset_events(t);
	psend_opts(t, F_RST, P(0), 0, &o, NULL, 0);
	expect_nothing(t);
	assert_int_equal(t->events, 0);
	assert_int_equal(nconns(t), 1); /* the listener alone */
	o.tsval = peer_tsval(t);
	psyn(t, &o);
	expect_seg(t, F_SYN | F_ACK, t->s.seq, P(0), 0, WND_ANY);

	/* Active: our SYN crosses the peer's (RFC 9293 3.5 figure 8). */
	tfx_restart(t, 1500);
	o = popts_none();
	t->h = xs_tcp_connect(t->fx.st, PEER_IP, PPORT);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	t->lport = 0;
	{
		uint8_t f[FRAME_MAX];

		tfx_poll(t);
		take_raw(t, f);
	}
	t->lport = t->s.sport;
	t->iss = t->s.seq;
	t->irs = PEER_ISS;
	psend_opts(t, F_SYN, t->irs, 0, &o, NULL, 0);
	expect_seg(t, F_SYN | F_ACK, t->iss, P(0), 0, WND_ANY);
	assert_int_equal(conn_info(t).state, XS_TCP_SYN_RECEIVED);
	reset_events(t);
	psend_opts(t, F_RST, P(0), 0, &o, NULL, 0);
	expect_nothing(t);
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNREFUSED);
}

/* RFC 9293 3.1 (MUST-5, MUST-6, MUST-64): options are read in any segment,
 * wherever they start (here off the 32-bit grid behind a leading NOP), and
 * options of kinds the stack does not know (30, MPTCP; 254, experimental)
 * are skipped by their length without error: the SYN-ACK answers every
 * known option of the SYN, and a data segment carrying unknown options is
 * taken like any other. */
static void test_unknown_and_unaligned_options(void **state)
{
	static const uint8_t unknown[] = {30, 4, 0x10, 0x01, 254, 6, 0xf9, 0x89, 0xaa, 0xbb};
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	o.lead_nops = 1;
	o.raw = unknown;
	o.rawlen = sizeof(unknown);
	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_true(t->s.has_mss && t->s.has_ws && t->s.has_sackok && t->s.has_ts);
	assert_int_equal(t->s.tsecr, o.tsval);
	t->iss = t->s.seq;
	t->ts = t->ts_on = t->sack = true;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	tfx_track(t, t->h);
	assert_int_equal(conn_info(t).snd_wscale, 7);
	assert_int_equal(conn_info(t).mss, 1460);
	/* Data with 3 NOPs first (TS off the grid) and the unknown kinds. */
	o = popts_ts(t);
	o.lead_nops = 3;
	o.raw = unknown;
	o.rawlen = sizeof(unknown);
	psend_opts(t, F_ACK | F_PSH, P(0), S(0), &o, t->in, 100);
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(100));
	app_recv(t, 0, 100);
	assert_int_equal(drops(t, XS_DROP_TCP_HDR_LEN), 0);
}

/* RFC 9293 3.8.6 (MUST-34): the peer may shrink its window (move its right
 * edge back); the sender copes: nothing goes beyond the new edge, even with
 * more than that already in flight, and sending resumes when it opens. */
static void test_peer_shrinks_window(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	int i;

	o.ws = -1;
	t->pwnd = 6 * 1448; /* six full segments */
	tfx_passive_open(t, &o);
	app_send(t, 30000);
	for (i = 0; i < 6; i++)
		expect_seg(t, F_ACK, S(1448 * i), P(0), 1448, WND_ANY);
	expect_nothing(t);
	/* One segment acknowledged, window 2896: edge S(4344) < SND.NXT. */
	t->pwnd = 2896;
	psend(t, F_ACK, P(0), S(1448), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	/* Now all six, window 2896 again: two segments fit past S(8688). */
	psend(t, F_ACK, P(0), S(8688), NULL, 0);
	expect_seg(t, F_ACK, S(8688), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK, S(10136), P(0), 1448, WND_ANY);
	expect_nothing(t);
	/* Window opened again: six more. */
	t->pwnd = 6 * 1448;
	psend(t, F_ACK, P(0), S(11584), NULL, 0);
	for (i = 0; i < 6; i++)
		expect_seg(t, F_ACK, S(11584 + 1448 * i), P(0), 1448, WND_ANY);
	expect_nothing(t);
}

/* RFC 9293 3.4 (MUST-66): RST is processed even when the receive window
 * is zero: a RST at RCV.NXT resets the connection. */
static void test_rst_with_zero_window(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 4096), 0);
	tfx_passive_open(t, &o);
	pdata(t, 0, 1448, S(0));
	pdata(t, 1448, 1448, S(0));
	expect_ack(t, S(0), P(2896));
	pdata(t, 2896, 1200, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	assert_int_equal(conn_info(t).rcv_wnd, 0);
	reset_events(t);
	psend(t, F_RST, P(4096), 0, NULL, 0);
	expect_nothing(t);
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
}

/* RFC 9293 3.8.4 (MUST-26): keepalive probes go only when no sent data is
 * outstanding. With data unacknowledged the retransmission timer speaks:
 * past the keepalive idle time (10 s), probe interval and count (3 x 5 s)
 * nothing but retransmissions of the data leaves, and the connection is not
 * ended by keepalive; once everything is acknowledged, the idle time counts
 * from the last segment received. */
static void test_keepalive_not_while_data_outstanding(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0, t1;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPINTVL, 5), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPCNT, 3), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 1), 0);
	t0 = t->fx.now;
	app_send(t, 100);
	expect_seg(t, F_ACK, S(0), P(0), 100, WND_ANY);
	for (xs_time_t at = t0; at <= t0 + XS_SEC(40); at += XS_MS(100)) {
		tfx_at(t, at);
		while (take_seg(t)) {
			/* Only the data again (a retransmission), never a probe. */
			assert_int_equal(t->s.seq, S(0));
			assert_int_equal(t->s.len, 100);
		}
	}
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	assert_int_equal(t->events & XS_EV_ERROR, 0);
	/* Acknowledged: the first probe 10 s after that ACK. */
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	t1 = t->fx.now;
	tfx_at(t, t1 + XS_SEC(10) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t1 + XS_SEC(10));
	expect_ack(t, S(100) - 1, P(0));
	/* MUST-24: and off again, per connection: no more probes. */
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 0), 0);
	tfx_at(t, t1 + XS_SEC(60));
	expect_nothing(t);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
}

/* RFC 9293 3.9.1.2 (MUST-60, MUST-61): data is not held back (it leaves
 * as soon as the window allows), and the PSH bit is set on the segment that
 * empties the send buffer, and only there. */
static void test_psh_on_last_buffered_segment(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 3000);
	expect_seg(t, F_ACK, S(0), P(0), 1448, WND_ANY);
	assert_int_equal(t->s.flags & F_PSH, 0);
	expect_seg(t, F_ACK, S(1448), P(0), 1448, WND_ANY);
	assert_int_equal(t->s.flags & F_PSH, 0);
	/* Nagle holds the short tail until an ACK, no longer. */
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	expect_seg(t, F_ACK, S(2896), P(0), 104, WND_ANY);
	assert_int_equal(t->s.flags & F_PSH, F_PSH);
	expect_nothing(t);
}

/* RFC 9293 3.9.1.1 (MUST-41): a passive OPEN creates a listener or fails;
 * it never disturbs what exists: a second listen on a port in use is
 * -EADDRINUSE, and the first listener and its connection carry on. */
static void test_listen_leaves_others_alone(void **state)
{
	struct tfx *t = *state;
	struct popts o;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_listen(t->fx.st, LPORT, 16).id, -EADDRINUSE);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	pdata(t, 0, 10, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(10));
	app_recv(t, 0, 10);
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(0), P(10), 10, WND_ANY);
	/* The listener still answers a new peer port. */
	t->pport = PPORT + 7;
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
}

/* RFC 9293 3.9.1.1 (MUST-42): the application may LISTEN on a port while a
 * connection of the same local port is in SYN-SENT: the open completes,
 * and another peer's SYN to that port reaches the listener. */
static void test_listen_on_port_of_opening_connection(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_none();
	uint8_t f[FRAME_MAX];
	uint16_t port;
	struct xs_tcp lh;

	t->h = xs_tcp_connect(t->fx.st, PEER_IP, PPORT);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	t->lport = 0;
	tfx_poll(t);
	take_raw(t, f);
	port = t->s.sport;
	t->lport = port;
	t->iss = t->s.seq;
	lh = xs_tcp_listen(t->fx.st, port, 4);
	assert_true(lh.id >= 0);
	tfx_track(t, lh);
	assert_int_equal(conn_info(t).state, XS_TCP_SYN_SENT);
	/* The SYN-ACK for the active open. */
	t->irs = PEER_ISS;
	reset_events(t);
	psend_opts(t, F_SYN | F_ACK, t->irs, S(0), &o, NULL, 0);
	expect_ack(t, S(0), P(0));
	assert_true(t->events & XS_EV_WRITABLE);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	/* Another peer port: the listener's. */
	t->pport = PPORT + 1;
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_int_equal(t->s.ack, t->peer_iss + 1);
}

/* RFC 9293 3.9.1.1 (MUST-46): OPEN to a broadcast or multicast address (or
 * any other that is never a host: 0/8, loopback, class E, ourselves) is an
 * error, and nothing is sent. */
static void test_connect_rejects_non_unicast(void **state)
{
	static const uint32_t bad[] = {
	    0xffffffffu, BCAST_IP,    0xe0000001u, 0xeffffffau, 0x00000000u,
	    0x00000001u, 0x7f000001u, 0xf0000001u, OUR_IP,
	};
	struct tfx *t = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xs_tcp_connect(t->fx.st, bad[i], 80).id, -EINVAL);
		tfx_poll(t);
		expect_nothing(t);
	}
	assert_int_equal(nconns(t), 0);
	/* A unicast host of the subnet is fine. */
	t->h = xs_tcp_connect(t->fx.st, PEER_IP, 80);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
}

/* RFC 9293 3.9.2.3 (MUST-57, MUST-63; RFC 1122 4.2.3.10): a SYN to a
 * broadcast or multicast address, or from an address that is never a
 * unicast source, is dropped silently (counted), creating nothing; the same
 * SYN from the peer to us is answered. */
static void test_syn_bad_addresses_dropped(void **state)
{
	static const uint32_t bad_dst[] = {BCAST_IP, 0xffffffffu, 0xe0000001u};
	static const uint32_t bad_src[] = {
	    0x00000000u, 0x7f000001u, 0xe0000005u, 0xf0000001u, 0xffffffffu, BCAST_IP, OUR_IP,
	};
	struct tfx *t = *state;
	uint64_t dst0, ipdst0, src0;
	size_t i;

	tfx_listen(t, 16);
	dst0 = drops(t, XS_DROP_TCP_DST);
	ipdst0 = drops(t, XS_DROP_IP_DST);
	src0 = drops(t, XS_DROP_IP_SRC);
	for (i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++) {
		psend_addr(t, PEER_IP, bad_dst[i], F_SYN, PEER_ISS, 0);
		expect_nothing(t);
	}
	/* Broadcasts pass IPv4 (they are ours to hear) and stop at TCP;
	 * multicast stops at IPv4. */
	assert_int_equal(drops(t, XS_DROP_TCP_DST) - dst0, 2);
	assert_int_equal(drops(t, XS_DROP_IP_DST) - ipdst0, 1);
	for (i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		psend_addr(t, bad_src[i], OUR_IP, F_SYN, PEER_ISS, 0);
		expect_nothing(t);
	}
	assert_int_equal(drops(t, XS_DROP_IP_SRC) - src0, sizeof(bad_src) / sizeof(bad_src[0]));
	assert_int_equal(nconns(t), 1); /* the listener alone */
	psend_addr(t, PEER_IP, OUR_IP, F_SYN, PEER_ISS, 0);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
}

/* A TCP segment inside an IPv4 header with options (ip_opts, a multiple of
 * 4 bytes), checksums right. */
static void psend_ipopts(struct tfx *t, const uint8_t *ip_opts, size_t olen, uint8_t flags,
			 uint32_t seq, uint32_t ack, const void *data, size_t n)
{
	uint8_t f[FRAME_MAX], g[FRAME_MAX], *ip = g + ETH_LEN;
	struct popts o = popts_ts(t);
	size_t l4len, ihl = IP_LEN + olen;

	mk_tcp(f, t->pport, t->lport, seq, ack, flags, t->pwnd, &o, data, n);
	/* mk_tcp pads to 60 bytes: the TCP length is the IP total less 20. */
	l4len = get16(f + ETH_LEN + 2) - IP_LEN;
	memcpy(g, f, L4_OFF);
	memcpy(g + L4_OFF, ip_opts, olen);
	memcpy(g + L4_OFF + olen, f + L4_OFF, l4len);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)(ihl + l4len));
	ip_fix_csum(ip);
	inject(&t->fx, g, pad60(g, ETH_LEN + ihl + l4len));
	tfx_poll(t);
}

/* RFC 9293 3.9.2 (MUST-50): IP options TCP does not understand are
 * ignored: a SYN behind a Router Alert option (RFC 2113) opens the
 * connection, data behind an empty Record Route option is delivered. */
static void test_ip_options_ignored(void **state)
{
	static const uint8_t router_alert[] = {0x94, 0x04, 0x00, 0x00};
	static const uint8_t record_route[] = {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00};
	struct tfx *t = *state;

	tfx_listen(t, 16);
	t->irs = PEER_ISS;
	psend_ipopts(t, router_alert, sizeof(router_alert), F_SYN, t->irs, 0, NULL, 0);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_int_equal(t->s.ack, P(0));
	t->iss = t->s.seq;
	psend_ipopts(t, record_route, sizeof(record_route), F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	psend_ipopts(t, record_route, sizeof(record_route), F_ACK | F_PSH, P(0), S(0), t->in, 50);
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(50));
	app_recv(t, 0, 50);
}

/* An ICMP error (type, code) from the peer quoting our segment to it
 * (ip: that segment's IPv4 header and first 8 TCP bytes). */
static void picmp(struct tfx *t, uint8_t type, uint8_t code, const uint8_t *ip)
{
	uint8_t f[FRAME_MAX], *m = f + L4_OFF;

	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put32(m + 4, type == 12 ? 20u << 24 : 0); /* parameter problem: pointer */
	memcpy(m + 8, ip, 28);
	put16(m + 2, sum_fold(sum_add(0, m, 36)));
	inject(&t->fx, f, mk_ip(f, our_mac, PEER_IP, OUR_IP, 1, 36));
	tfx_poll(t);
}

/* RFC 9293 3.9.2.2 (MUST-54, MUST-55, MUST-56) and 3.9.1.8 (MUST-47): ICMP
 * errors about an established connection's segment reach it; the soft ones
 * (destination unreachable codes 0, 1, 5; time exceeded 0, 1; parameter
 * problem) do not abort it but are reported as they come (XS_EV_SOFT_ERROR,
 * xs_tcp_soft_error); source quench is discarded silently (counted). The
 * connection goes on, and when it later times out the error it reports is
 * the soft one (ETIMEDOUT would hide it). */
static void test_icmp_soft_errors_do_not_abort(void **state)
{
	static const uint8_t soft[][2] = {{3, 0}, {3, 1}, {3, 5}, {11, 0}, {11, 1}, {12, 0}};
	static const int soft_err[] = {-ENETUNREACH, -EHOSTUNREACH, -EHOSTUNREACH,
				       -ETIMEDOUT,   -ETIMEDOUT,    -EPROTO};
	struct tfx *t = *state;
	uint8_t f[FRAME_MAX], quoted[28];
	uint64_t quench0;
	size_t i;

	tfx_passive_open(t, NULL);
	app_send(t, 100);
	take_raw(t, f);
	assert_int_equal(t->s.seq, S(0));
	memcpy(quoted, f + ETH_LEN, sizeof(quoted));
	for (i = 0; i < sizeof(soft) / sizeof(soft[0]); i++) {
		picmp(t, soft[i][0], soft[i][1], quoted);
		expect_nothing(t);
		assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
		/* MUST-47: reported as it arrives, the connection untouched. */
		assert_int_equal(t->events, XS_EV_SOFT_ERROR);
		assert_int_equal(xs_tcp_soft_error(t->fx.st, t->h), soft_err[i]);
		assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
		reset_events(t);
	}
	quench0 = drops(t, XS_DROP_ICMP_TYPE);
	picmp(t, 4, 0, quoted);
	expect_nothing(t);
	assert_int_equal(drops(t, XS_DROP_ICMP_TYPE) - quench0, 1);
	assert_int_equal(t->events, 0);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	/* The data is acknowledged: all is well. */
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	assert_int_equal(conn_info(t).snd_queue, 0);
	/* Later: host unreachable, then the user timeout (2 s) ends it. */
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_USER_TIMEOUT, 2000), 0);
	app_send(t, 100);
	take_raw(t, f);
	memcpy(quoted, f + ETH_LEN, sizeof(quoted));
	picmp(t, 3, 1, quoted);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	for (unsigned k = 0; k < 100 && !(t->events & XS_EV_ERROR); k++) {
		tfx_run(t, XS_MS(100));
		while (take_seg(t))
			assert_int_equal(t->s.flags & F_SYN, 0);
	}
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -EHOSTUNREACH);
}

/* RFC 9293 3.10.7.4 (MUST-58, MUST-59): four full segments arriving in one
 * batch are all processed before any ACK, and draw one ACK covering the
 * whole batch (tests/tcp/test_tcp_ackbatch.c has the other cases). */
static void test_acks_aggregated_in_a_batch(void **state)
{
	struct tfx *t = *state;
	uint8_t f[FRAME_MAX];
	unsigned acks = 0;
	uint32_t last = 0;

	tfx_passive_open(t, NULL);
	for (int i = 0; i < 4; i++) {
		struct popts o = popts_ts(t);
		size_t n = mk_tcp(f, t->pport, t->lport, P(1448 * i), S(0), F_ACK, t->pwnd, &o,
				  t->in + 1448 * i, 1448);

		inject(&t->fx, f, n);
	}
	tfx_poll(t);
	while (take_seg(t)) {
		assert_int_equal(t->s.flags & (F_SYN | F_FIN | F_RST), 0);
		assert_int_equal(t->s.len, 0);
		acks++;
		last = t->s.ack;
	}
	assert_int_equal(acks, 1);
	assert_int_equal(last, P(4 * 1448));
	app_recv(t, 0, 4 * 1448);
}

/* RFC 9293 3.9.2 (MUST-49): the TTL of what the stack sends is
 * configurable (xs_config.ip_ttl; 64 by default, Linux's). */
static void test_ttl_configurable(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct popts o = popts_none();
	uint8_t f[FRAME_MAX];

	tfx_listen(t, 16);
	psyn(t, &o);
	take_frame(t, f);
	assert_int_equal(f[ETH_LEN + 8], 64);
	cfg.ip_ttl = 17;
	tfx_restart_cfg(t, 1500, &cfg);
	tfx_listen(t, 16);
	psyn(t, &o);
	take_frame(t, f);
	assert_int_equal(f[L4_OFF + 13], F_SYN | F_ACK);
	assert_int_equal(f[ETH_LEN + 8], 17);
}

/* RFC 9293 3.9.1.9 (MUST-48): the application sets the Differentiated
 * Services field of a connection's segments (XS_TCP_TOS): on a listener,
 * for the SYN-ACK and what follows; on the connection, from then on. The
 * two ECN bits are not the application's (cleared); out of range: -EINVAL. */
static void test_dscp_per_connection(void **state)
{
	struct tfx *t = *state;
	uint8_t f[FRAME_MAX];

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_TOS, 256), -EINVAL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_TOS, -1), -EINVAL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_TOS, 0xb8), 0); /* EF */
	{
		struct popts o = popts_syn_full(t);

		psyn(t, &o);
		take_raw(t, f);
		assert_int_equal(f[ETH_LEN + 1], 0xb8);
		t->iss = t->s.seq;
		t->ts_off = t->s.tsval - now_ms(t);
		t->ts_known = true;
		t->ts_last = t->s.tsval;
		t->ts = t->ts_on = t->sack = true;
		psend(t, F_ACK, P(0), S(0), NULL, 0);
		t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
		tfx_track(t, t->h);
	}
	app_send(t, 10);
	take_raw(t, f);
	assert_int_equal(f[ETH_LEN + 1], 0xb8);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_TOS, 0x2b), 0); /* AF11 | ECN */
	psend(t, F_ACK, P(0), S(10), NULL, 0);
	app_send(t, 10);
	take_raw(t, f);
	assert_int_equal(t->s.seq, S(10));
	assert_int_equal(f[ETH_LEN + 1], 0x28);
}

/* --- RFC 7323 and RFC 6298 ------------------------------------------------ */

/* RFC 7323 2.2: "A Window Scale option in a segment without a SYN bit MUST
 * be ignored": the shift agreed in the handshake (7) stays. */
static void test_ws_outside_syn_ignored(void **state)
{
	struct tfx *t = *state;
	struct popts o;

	t->pwnd = 100;
	tfx_passive_open(t, NULL);
	assert_int_equal(conn_info(t).snd_wnd, 12800);
	o = popts_ts(t);
	o.ws = 0;
	t->pwnd = 200;
	psend_opts(t, F_ACK, P(0), S(0), &o, NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_wscale, 7);
	assert_int_equal(conn_info(t).snd_wnd, 200 << 7);
}

/* RFC 7323 3.2: a TSopt on a connection that did not negotiate it is
 * ignored and the segment processed normally (no PAWS on it: an "older"
 * TSval is taken too); the stack still sends none (the fixture checks). */
static void test_ts_not_negotiated_ignored(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	o.ts = false;
	tfx_passive_open(t, &o);
	assert_false(t->ts_on);
	o = popts_none();
	o.ts = true;
	o.tsval = 5000;
	psend_opts(t, F_ACK | F_PSH, P(0), S(0), &o, t->in, 10);
	o.tsval = 4000;
	psend_opts(t, F_ACK | F_PSH, P(10), S(0), &o, t->in + 10, 10);
	expect_ack(t, S(0), P(20));
	expect_nothing(t);
	app_recv(t, 0, 20);
	assert_int_equal(drops(t, XS_DROP_TCP_PAWS), 0);
}

/* RFC 7323 3.2: "A TCP MUST NOT abort a TCP connection because any segment
 * lacks an expected TSopt." (The SHOULD to drop such a segment silently is
 * not followed: it is processed, as Linux does.) */
static void test_missing_tsopt_does_not_abort(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_none();

	tfx_passive_open(t, NULL);
	assert_true(t->ts_on);
	psend_opts(t, F_ACK | F_PSH, P(0), S(0), &o, t->in, 10);
	psend_opts(t, F_ACK, P(10), S(0), &o, NULL, 0);
	assert_int_equal(conn_info(t).state, XS_TCP_ESTABLISHED);
	assert_int_equal(t->events & XS_EV_ERROR, 0);
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(10));
	app_recv(t, 0, 10);
}

/* RFC 7323 5.2: a RST is not subjected to PAWS, and its Timestamps option
 * MUST NOT update connection state: an in-window RST (challenged) with a
 * far newer TSval leaves TS.Recent alone: the challenge ACK echoes the old
 * one, and data with a TSval just above the old one is still taken. */
static void test_rst_timestamp_not_recorded(void **state)
{
	struct tfx *t = *state;
	struct popts o;
	uint32_t recent;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	pdata(t, 0, 10, S(0));
	recent = peer_tsval(t);
	tfx_run(t, XS_MS(40));
	s = expect_ack(t, S(0), P(10));
	assert_int_equal(s->tsecr, recent);
	o = popts_ts(t);
	o.tsval = recent + 100000;
	psend_opts(t, F_RST, P(500), 0, &o, NULL, 0);
	s = expect_ack(t, S(0), P(10));
	assert_int_equal(s->tsecr, recent);
	o = popts_ts(t);
	o.tsval = recent + 1;
	psend_opts(t, F_ACK | F_PSH, P(10), S(0), &o, t->in + 10, 10);
	tfx_run(t, XS_MS(40));
	s = expect_ack(t, S(0), P(20));
	assert_int_equal(s->tsecr, recent + 1);
	assert_int_equal(drops(t, XS_DROP_TCP_PAWS), 0);
}

/* RFC 7323 3.2: TSecr is ignored when the ACK bit is off: a SYN carrying
 * garbage there changes nothing; the SYN-ACK echoes the SYN's TSval and
 * the handshake's RTT (30 ms) comes from the ACK's TSecr. */
static void test_syn_tsecr_ignored(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	o.tsecr = 0xdeadbeef;
	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.tsecr, o.tsval);
	t->iss = t->s.seq;
	t->ts = t->ts_on = t->sack = true;
	tfx_run(t, XS_MS(30));
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(conn_info(t).rtt_us, 30000);
}

/* RFC 6298 3: "A TCP implementation MUST take at least one RTT measurement
 * per RTT" (without timestamps: one timed segment per flight, Karn's rule
 * permitting; with them every ACK that advances SND.UNA is one). Flights of four segments, each
 * ACKed 100 ms after it left: SRTT moves towards 100 ms after every flight. */
static void test_rtt_measured_every_flight(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	uint32_t before, after;
	int round, i;

	o.ts = false;
	o.sackok = false; /* no tail loss probe either: only the timed segments */
	tfx_passive_open(t, &o);
	before = conn_info(t).rtt_us;
	for (round = 0; round < 4; round++) {
		app_send(t, 4 * 1460);
		for (i = 0; i < 4; i++)
			expect_seg(t, F_ACK, S(1460 * (4 * round + i)), P(0), 1460, WND_ANY);
		tfx_run(t, XS_MS(100));
		psend(t, F_ACK, P(0), S(1460 * 4 * (round + 1)), NULL, 0);
		after = conn_info(t).rtt_us;
		assert_true(after > before);
		assert_true(after <= 100000);
		before = after;
	}
}

/* --- urgent data (receiving) ------------------------------------------- */

/* The peer's segment with URG set and urgent pointer urp (an offset from
 * seq; RFC 9293 3.1). */
static void psend_urg(struct tfx *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t urp,
		      const void *data, size_t n)
{
	uint8_t f[FRAME_MAX], *ip = f + ETH_LEN, *l4 = f + L4_OFF;
	struct popts o = popts_ts(t);
	size_t len = mk_tcp(f, t->pport, t->lport, seq, ack, flags | F_URG, t->pwnd, &o, data, n);
	size_t l4len = get16(ip + 2) - IP_LEN;

	put16(l4 + 18, urp);
	put16(l4 + 16, 0);
	put16(l4 + 16, tcp_csum_ref(ip, l4, l4len));
	inject(&t->fx, f, len);
	tfx_poll(t);
}

/* RFC 9293 3.8.5 (MUST-30 receiving, MUST-31, MUST-32, MUST-33, MUST-62):
 * urgent data stays in line; XS_EV_URGENT comes when a pointer arrives
 * with none pending, or advances; xs_tcp_urgent says how many of the next
 * bytes to read are urgent, the pointer naming the octet after them; the
 * urgent part may be any length, beyond what has arrived. */
static void test_urgent_data(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 0);
	psend_urg(t, F_ACK | F_PSH, P(0), S(0), 100, t->in, 100);
	assert_true(t->events & XS_EV_URGENT);
	assert_true(t->events & XS_EV_READABLE);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 100);
	app_recv(t, 0, 40);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 60);
	app_recv(t, 40, 60);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 0);
	/* A new pointer, none pending: an event; 20 urgent bytes. */
	reset_events(t);
	psend_urg(t, F_ACK | F_PSH, P(100), S(0), 20, t->in + 100, 50);
	assert_true(t->events & XS_EV_URGENT);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 20);
	/* The pointer advances (to P(160)): an event; urgent up to it. */
	reset_events(t);
	psend_urg(t, F_ACK | F_PSH, P(150), S(0), 10, t->in + 150, 50);
	assert_true(t->events & XS_EV_URGENT);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 60);
	/* Plain data is no news. */
	reset_events(t);
	pdata(t, 200, 10, S(0));
	assert_int_equal(t->events & XS_EV_URGENT, 0);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 60);
	/* MUST-31: any length: a pointer 5000 bytes on, far past the data. */
	psend_urg(t, F_ACK | F_PSH, P(210), S(0), 5000, t->in + 210, 10);
	assert_true(t->events & XS_EV_URGENT);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 5110);
	/* A pointer short of the current one (P(320) < P(5210)) is no news. */
	reset_events(t);
	psend_urg(t, F_ACK | F_PSH, P(220), S(0), 100, t->in + 220, 10);
	assert_int_equal(t->events & XS_EV_URGENT, 0);
	assert_true(t->events & XS_EV_READABLE);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 5110);
	app_recv(t, 100, 130);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 4980);
	assert_int_equal(xs_tcp_urgent(t->fx.st, (struct xs_tcp){.id = 999}), -EBADF);
}

/* RFC 9293 3.4 (MUST-66, URG): with a zero receive window, the URG of a
 * segment at RCV.NXT counts: a one-octet window probe carrying it (the
 * octet itself not taken), and a bare ACK advancing it. */
static void test_urgent_with_zero_window(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 4096), 0);
	tfx_passive_open(t, &o);
	pdata(t, 0, 1448, S(0));
	pdata(t, 1448, 1448, S(0));
	expect_ack(t, S(0), P(2896));
	pdata(t, 2896, 1200, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	assert_int_equal(conn_info(t).rcv_wnd, 0);
	reset_events(t);
	psend_urg(t, F_ACK, P(4096), S(0), 1, t->in + 4096, 1);
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	assert_true(t->events & XS_EV_URGENT);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 4097);
	reset_events(t);
	psend_urg(t, F_ACK, P(4096), S(0), 5, NULL, 0);
	assert_true(t->events & XS_EV_URGENT);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 4101);
	/* A bad ACK (beyond SND.NXT) does not move it. */
	reset_events(t);
	psend_urg(t, F_ACK, P(4096), S(5000), 9, t->in + 4096, 1);
	assert_int_equal(t->events & XS_EV_URGENT, 0);
	assert_int_equal(xs_tcp_urgent(t->fx.st, t->h), 4101);
}

/* RFC 9293 3.8.5 / 3.10.2 (MUST-30 sending, MUST-62): xs_tcp_send_urgent
 * moves SND.UP to the end of what is queued; every segment before it
 * carries URG and the pointer to the octet after the urgent data, a
 * retransmission too, until the peer acknowledges that far; what follows
 * goes without URG. */
static void test_urgent_send(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_send_urgent(t->fx.st, t->h, t->out, 3000), 3000);
	t->sent = 3000;
	tfx_poll(t);
	expect_seg(t, F_ACK | F_URG, S(0), P(0), 1448, WND_ANY);
	assert_int_equal(t->s.urp, 3000);
	expect_seg(t, F_ACK | F_URG, S(1448), P(0), 1448, WND_ANY);
	assert_int_equal(t->s.urp, 1552);
	expect_nothing(t); /* Nagle: the 104-byte tail waits for an ACK */
	t0 = t->fx.now;
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	expect_seg(t, F_ACK | F_URG, S(2896), P(0), 104, WND_ANY);
	assert_int_equal(t->s.urp, 104);
	/* Lost: the retransmission still says urgent. */
	for (int i = 0; i < 20 && !take_seg(t); i++)
		tfx_run(t, XS_MS(50));
	assert_int_equal(t->s.seq, S(2896));
	assert_true(t->s.flags & F_URG);
	assert_int_equal(t->s.urp, 104);
	assert_true(t->fx.now > t0);
	/* All acknowledged: ordinary data again, no URG. */
	psend(t, F_ACK, P(0), S(3000), NULL, 0);
	while (take_seg(t))
		;
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(3000), P(0), 10, WND_ANY);
	assert_int_equal(t->s.flags & F_URG, 0);
	assert_int_equal(t->s.urp, 0);
	assert_int_equal(xs_tcp_send_urgent(t->fx.st, (struct xs_tcp){.id = 999}, t->out, 1), -EBADF);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_window_field_unsigned),
	    T(test_isn_clock_and_secret),
	    T(test_syn_received_passive_or_active),
	    T(test_unknown_and_unaligned_options),
	    T(test_peer_shrinks_window),
	    T(test_rst_with_zero_window),
	    T(test_keepalive_not_while_data_outstanding),
	    T(test_psh_on_last_buffered_segment),
	    T(test_listen_leaves_others_alone),
	    T(test_listen_on_port_of_opening_connection),
	    T(test_connect_rejects_non_unicast),
	    T(test_syn_bad_addresses_dropped),
	    T(test_ip_options_ignored),
	    T(test_icmp_soft_errors_do_not_abort),
	    T(test_acks_aggregated_in_a_batch),
	    T(test_ttl_configurable),
	    T(test_dscp_per_connection),
	    T(test_ws_outside_syn_ignored),
	    T(test_ts_not_negotiated_ignored),
	    T(test_missing_tsopt_does_not_abort),
	    T(test_rst_timestamp_not_recorded),
	    T(test_syn_tsecr_ignored),
	    T(test_rtt_measured_every_flight),
	    T(test_urgent_data),
	    T(test_urgent_with_zero_window),
	    T(test_urgent_send),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_conform", tests, NULL, NULL);
}
