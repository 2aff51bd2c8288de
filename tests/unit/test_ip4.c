/* Whole-stack IPv4 tests over the in-memory device: fragmentation on output,
 * reassembly and its limits, ICMP errors sent and received, connected UDP, ping. */
#include "stack_fixture.h"

/* A UDP datagram (header + data) from sport to dport, checksummed for src -> dst. */
static size_t mk_udp_dgram(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			   const uint8_t *data, size_t n)
{
	uint8_t ip[IP_LEN] = {0};

	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(out, sport);
	put16(out + 2, dport);
	put16(out + 4, (uint16_t)(8 + n));
	put16(out + 6, 0);
	memmove(out + 8, data, n);
	put16(out + 6, udp_csum(ip, out, 8 + n));
	return 8 + n;
}

/* An ICMP echo request (header + data). */
static size_t mk_echo_msg(uint8_t *out, uint16_t id, uint16_t seq, const uint8_t *data, size_t n)
{
	out[0] = 8;
	out[1] = 0;
	put16(out + 2, 0);
	put16(out + 4, id);
	put16(out + 6, seq);
	memmove(out + 8, data, n);
	put16(out + 2, sum_fold(sum_add(0, out, 8 + n)));
	return 8 + n;
}

/* Injects msg cut into fragments of per bytes (a multiple of 8), in the order
 * given by order[] (indexes of fragments; NULL: in order), then polls. */
static unsigned inject_frags(struct fx *fx, uint8_t proto, uint16_t id, const uint8_t *msg,
			     size_t len, size_t per, const unsigned *order)
{
	uint8_t f[FRAME_MAX];
	unsigned nfrag = (unsigned)((len + per - 1) / per), k;

	for (k = 0; k < nfrag; k++) {
		unsigned i = order ? order[k] : k;
		size_t off = i * per, chunk = len - off < per ? len - off : per;
		size_t n =
		    mk_frag(f, PEER_IP, proto, id, 20, off, off + chunk < len, msg + off, chunk);

		inject(fx, f, n);
	}
	fx_poll(fx, fx->now);
	return nfrag;
}

/* --- fragmentation on output --------------------------------------------------- */

static void test_udp_send_fragmented(void **state)
{
	static uint8_t data[65507], out[65600];
	struct fx *fx = *state;
	uint8_t ip[IP_LEN] = {0};
	unsigned nfrags;
	size_t len;
	struct xs_udp h;

	fx_restart(fx, NULL, 1500, 256, true);
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_bind(fx->st, h, 4000), 0);
	learn_peer(fx, peer_mac, PEER_IP);
	fill_pattern(data, sizeof(data), 21);
	put32(ip + 12, OUR_IP);
	put32(ip + 16, PEER_IP);

	/* One byte over a frame: two fragments, 1480 + 1 bytes of IP payload. */
	assert_int_equal(xs_udp_sendto(fx->st, h, data, 1473, PEER_IP, 9), 1473);
	fx_poll(fx, fx->now);
	len = take_fragments(fx, peer_mac, PEER_IP, 17, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 2);
	assert_int_equal(len, 8 + 1473);
	assert_int_equal(get16(out), 4000);
	assert_int_equal(get16(out + 2), 9);
	assert_int_equal(get16(out + 4), len);
	assert_int_equal(udp_csum(ip, out, len), 0);
	assert_memory_equal(out + 8, data, 1473);
	expect_nothing_sent(fx, "two fragments");

	/* The largest datagram: 45 fragments. */
	assert_int_equal(xs_udp_sendto(fx->st, h, data, 65507, PEER_IP, 9), 65507);
	fx_poll(fx, fx->now);
	len = take_fragments(fx, peer_mac, PEER_IP, 17, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 45);
	assert_int_equal(len, 65515);
	assert_int_equal(udp_csum(ip, out, len), 0);
	assert_memory_equal(out + 8, data, 65507);
	expect_nothing_sent(fx, "45 fragments");
	assert_int_equal(xs_stack_stats(fx->st)->ip_frag_tx, 47);
	expect_drops(fx, XS_DROP_NONE, 0, "fragmented sends");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_udp_send_fragmented_waits_for_arp(void **state)
{
	static uint8_t data[20000], out[20100];
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	unsigned nfrags;
	size_t n;
	struct xs_udp h;

	fx_restart(fx, NULL, 1500, 256, true);
	h = xs_udp_open(fx->st);
	fill_pattern(data, sizeof(data), 5);
	/* All 14 fragments wait for the one ARP answer, then leave in order. */
	assert_int_equal(xs_udp_sendto(fx->st, h, data, sizeof(data), PEER_IP, 9), sizeof(data));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_arp_request(f, n, PEER_IP);
	expect_nothing_sent(fx, "fragments held");
	n = mk_arp(f, our_mac, 2, peer_mac, PEER_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take_fragments(fx, peer_mac, PEER_IP, 17, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 14);
	assert_int_equal(n, 8 + sizeof(data));
	assert_memory_equal(out + 8, data, sizeof(data));
	expect_nothing_sent(fx, "fragments released");
	expect_drops(fx, XS_DROP_NONE, 0, "held fragments");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

/* --- reassembly ------------------------------------------------------------------ */

static void test_echo_reassembled_reply_fragmented(void **state)
{
	static const unsigned order[] = {2, 0, 1};
	static uint8_t data[3000], msg[3100], out[3100];
	struct fx *fx = *state;
	const struct xs_stats *s = xs_stack_stats(fx->st);
	unsigned nfrags;
	size_t len, rlen;

	/* A 3000-byte ping (over the MTU) arrives in three fragments, out of
	 * order; the reply goes back in three. */
	learn_peer(fx, peer_mac, PEER_IP);
	fill_pattern(data, sizeof(data), 9);
	len = mk_echo_msg(msg, 0x4242, 7, data, sizeof(data));
	assert_int_equal(inject_frags(fx, 1, 0x1111, msg, len, 1480, order), 3);
	rlen = take_fragments(fx, peer_mac, PEER_IP, 1, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 3);
	assert_int_equal(rlen, len);
	assert_int_equal(out[0], 0);
	assert_int_equal(get16(out + 4), 0x4242);
	assert_int_equal(get16(out + 6), 7);
	assert_int_equal(sum_fold(sum_add(0, out, rlen)), 0);
	assert_memory_equal(out + 8, data, sizeof(data));
	expect_nothing_sent(fx, "reply");
	assert_int_equal(s->ip_frag_rx, 3);
	assert_int_equal(s->ip_reassembled, 1);
	expect_drops(fx, XS_DROP_NONE, 0, "reassembled echo");
}

static void test_udp_reassembled_with_options(void **state)
{
	static uint8_t data[4000], dg[4100], buf[4100];
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	uint32_t ip;
	uint16_t port;
	size_t len, n;
	struct xs_udp h = xs_udp_open(fx->st);

	assert_int_equal(xs_udp_bind(fx->st, h, 7), 0);
	fill_pattern(data, sizeof(data), 13);
	len = mk_udp_dgram(dg, PEER_IP, OUR_IP, 5353, 7, data, sizeof(data));
	/* The first fragment carries 8 bytes of options (IHL 7); the rest none. */
	n = mk_frag(f, PEER_IP, 17, 0x2222, 28, 0, true, dg, 1472);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 0x2222, 20, 1472, true, dg + 1472, 1480);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 0x2222, 20, 2952, false, dg + 2952, len - 2952);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), &ip, &port), sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	assert_int_equal(ip, PEER_IP);
	assert_int_equal(port, 5353);
	expect_nothing_sent(fx, "udp reassembled");
	expect_drops(fx, XS_DROP_NONE, 0, "udp reassembled");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_frag_overlap_and_duplicate(void **state)
{
	static uint8_t data[2000], dg[2100], buf[2100];
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t len, n;
	struct xs_udp h = xs_udp_open(fx->st);

	assert_int_equal(xs_udp_bind(fx->st, h, 7), 0);
	fill_pattern(data, sizeof(data), 17);
	len = mk_udp_dgram(dg, PEER_IP, OUR_IP, 1, 7, data, sizeof(data));

	/* A duplicate is dropped; the datagram still completes. */
	n = mk_frag(f, PEER_IP, 17, 1, 20, 0, true, dg, 1000);
	inject(fx, f, n);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 1, 20, 1000, false, dg + 1000, len - 1000);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_FRAG_DUP, 1, "duplicate");
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), sizeof(data));

	/* A partial overlap drops the whole datagram (RFC 5722's rule, for v4 too). */
	n = mk_frag(f, PEER_IP, 17, 2, 20, 0, true, dg, 1000);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 2, 20, 992, false, dg + 992, len - 992);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_FRAG_OVERLAP, 1, "overlap");
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -EAGAIN);

	/* Two different ends: dropped as well. */
	n = mk_frag(f, PEER_IP, 17, 3, 20, 1000, false, dg + 1000, 200);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 3, 20, 1600, false, dg + 1600, 16);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_FRAG_OVERLAP, 1, "two ends");
	expect_nothing_sent(fx, "overlaps");
	/* Nothing is left behind: no time-out later. */
	fx_poll(fx, fx->now + XS_SEC(31));
	expect_drops(fx, XS_DROP_NONE, 0, "nothing held");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_frag_timeout(void **state)
{
	static uint8_t data[3000], dg[3100];
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], first[FRAME_MAX], r[FRAME_MAX];
	const xs_time_t t0 = XS_SEC(5);
	size_t len, n, rl;

	learn_peer(fx, peer_mac, PEER_IP);
	fill_pattern(data, sizeof(data), 19);
	len = mk_udp_dgram(dg, PEER_IP, OUR_IP, 1, 7, data, sizeof(data));
	fx_poll(fx, t0);
	/* Datagram 1: first fragment only. Datagram 2: last fragment only. */
	n = mk_frag(first, PEER_IP, 17, 10, 20, 0, true, dg, 1480);
	inject(fx, first, n);
	n = mk_frag(f, PEER_IP, 17, 11, 20, 1480, false, dg + 1480, len - 1480);
	inject(fx, f, n);
	fx_poll(fx, t0);
	fx_poll(fx, t0 + XS_MS(29900));
	expect_nothing_sent(fx, "before the timeout");
	expect_drops(fx, XS_DROP_NONE, 0, "before the timeout");

	/* RFC 1122 3.3.2: time exceeded (code 1) only where the first fragment
	 * arrived, quoting its header and data. */
	fx_poll(fx, t0 + XS_SEC(30));
	rl = take(fx, r);
	assert_true(rl > 0);
	check_icmp_error(r, rl, peer_mac, PEER_IP, 11, 1, first + ETH_LEN, IP_LEN + 1480);
	expect_nothing_sent(fx, "one time exceeded");
	expect_drops(fx, XS_DROP_FRAG_TIMEOUT, 2, "timeout");
}

static void test_frag_limits(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .frag_max_datagrams = 2};
	uint8_t f[FRAME_MAX], data[1480];
	size_t n;
	int i;

	memset(data, 0x5a, sizeof(data));
	/* Two datagrams in progress at most: a third evicts the oldest. */
	fx_restart(fx, &cfg, 1500, 64, true);
	for (i = 0; i < 3; i++) {
		n = mk_frag(f, PEER_IP, 17, (uint16_t)(100 + i), 20, 0, true, data, 8);
		inject(fx, f, n);
		fx_poll(fx, fx->now + XS_MS(1));
		expect_drops(fx, XS_DROP_FRAG_LIMIT, i == 2, "datagram slots");
	}

	/* 3000 bytes held at most: two 1480-byte fragments fit, a third evicts
	 * the oldest datagram. */
	cfg = (struct xs_config){.ip = OUR_IP, .frag_max_bytes = 3000};
	fx_restart(fx, &cfg, 1500, 64, true);
	for (i = 0; i < 3; i++) {
		n = mk_frag(f, PEER_IP, 17, (uint16_t)(200 + i), 20, 0, true, data, 1480);
		inject(fx, f, n);
		fx_poll(fx, fx->now + XS_MS(1));
		expect_drops(fx, XS_DROP_FRAG_LIMIT, i == 2, "bytes held");
	}

	/* A fragment above the whole budget cannot be held at all. */
	cfg = (struct xs_config){.ip = OUR_IP, .frag_max_bytes = 1000};
	fx_restart(fx, &cfg, 1500, 64, true);
	n = mk_frag(f, PEER_IP, 17, 300, 20, 0, true, data, 1480);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_FRAG_LIMIT, 1, "over budget");
	fx_poll(fx, fx->now + XS_SEC(31));
	expect_drops(fx, XS_DROP_NONE, 0, "nothing held");
	expect_nothing_sent(fx, "limits");
}

static void test_frag_keyed_buckets(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .frag_max_datagrams = 256};
	const struct xs_stats *s;
	uint8_t f[FRAME_MAX], hdr[8], tail[8];
	size_t n;
	int i;

	fx_restart(fx, &cfg, 1500, 64, true);
	s = xs_stack_stats(fx->st);
	memset(tail, 0x77, sizeof(tail));
	/* 256 datagrams in progress from one source, ids in a row: keyed
	 * buckets (512 for 256 slots) keep every chain short. */
	for (i = 0; i < 256; i++) {
		put16(hdr, 5000);
		put16(hdr + 2, 7);
		put16(hdr + 4, 16);
		put16(hdr + 6, 0); /* no checksum (RFC 768) */
		n = mk_frag(f, PEER_IP, 17, (uint16_t)(0x100 + i), 20, 0, true, hdr, 8);
		inject(fx, f, n);
		if (i % 32 == 31)
			fx_poll(fx, fx->now + XS_MS(1));
	}
	expect_drops(fx, XS_DROP_NONE, 0, "all held");
	assert_true(s->frag_chain_max >= 1);
	assert_true(s->frag_chain_max <= 10); /* odds below 1e-6 for a random function */
	/* Every one is found again and completes. */
	for (i = 0; i < 256; i++) {
		n = mk_frag(f, PEER_IP, 17, (uint16_t)(0x100 + i), 20, 8, false, tail, 8);
		inject(fx, f, n);
		fx_poll(fx, fx->now + XS_MS(1));
		while (take(fx, f))
			;
	}
	assert_int_equal(s->ip_reassembled, 256);
	assert_int_equal(s->drop[XS_DROP_FRAG_LIMIT], 0);
	assert_int_equal(s->drop[XS_DROP_UDP_NO_PORT], 256);
	/* Slots come back: the next 256 fit again without evicting. */
	for (i = 0; i < 256; i++) {
		n = mk_frag(f, PEER_IP, 17, (uint16_t)(0x1000 + i), 20, 0, true, hdr, 8);
		inject(fx, f, n);
		if (i % 32 == 31)
			fx_poll(fx, fx->now + XS_MS(1));
	}
	assert_int_equal(s->drop[XS_DROP_FRAG_LIMIT], 0);
}

static void test_frag_too_many_pieces(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], data[8] = {0};
	size_t n;
	int i;

	/* 8-byte pieces: 512 are held, the 513th drops the datagram. */
	for (i = 0; i <= 512; i++) {
		n = mk_frag(f, PEER_IP, 17, 0x3333, 20, (size_t)i * 8, true, data, 8);
		inject(fx, f, n);
		if (i % 60 == 59)
			fx_poll(fx, fx->now);
	}
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_FRAG_TOO_MANY, 1, "too many pieces");
	expect_nothing_sent(fx, "too many");
}

/* Regression (fixed in 2999f48): frag_input bounded off + len + hdr_len by the
 * header of the fragment at hand, but the datagram is assembled behind the
 * first fragment's header, which may be 40 bytes longer (IHL 15). The total
 * length then wrapped (65575 -> 39), ip4_payload_len() underflowed to ~2^64,
 * a UDP datagram was delivered and an ICMP one made icmp_parse checksum ~2^64
 * bytes: a remote crash. Both must now be FRAG_TOO_BIG. */
static void frag_oversized(struct fx *fx, uint8_t proto)
{
	static uint8_t data[65507], dg[65515];
	uint8_t f[FRAME_MAX], buf[64];
	size_t len, off, n;
	ssize_t r;
	struct xs_udp h = xs_udp_open(fx->st);

	assert_int_equal(xs_udp_bind(fx->st, h, 7), 0);
	learn_peer(fx, peer_mac, PEER_IP);
	fill_pattern(data, sizeof(data), 23);
	if (proto == 17)
		len = mk_udp_dgram(dg, PEER_IP, OUR_IP, 1, 7, data, sizeof(data));
	else
		len = mk_echo_msg(dg, 1, 1, data, sizeof(data));
	assert_int_equal(len, 65515);
	for (off = 0; off < len; off += 1480) {
		size_t chunk = len - off < 1480 ? len - off : 1480;

		/* 60-byte header on the first fragment, 20 on the others. */
		n = mk_frag(f, PEER_IP, proto, 0x4444, off ? 20 : 60, off, off + chunk < len,
			    dg + off, chunk);
		inject(fx, f, n);
	}
	fx_poll(fx, fx->now);
	r = xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
	if (r != -EAGAIN)
		fail_msg("a datagram of 60 + 65515 bytes was reassembled and delivered (%zd)", r);
	expect_nothing_sent(fx, "oversized");
	expect_drops(fx, XS_DROP_FRAG_TOO_BIG, 1, "oversized");
	/* Nothing of it is left in reassembly. */
	fx_poll(fx, fx->now + XS_SEC(31));
	expect_nothing_sent(fx, "oversized, later");
	expect_drops(fx, XS_DROP_NONE, 0, "oversized, later");
}

static void test_frag_total_counts_first_header_udp(void **state)
{
	frag_oversized(*state, 17);
}

static void test_frag_total_counts_first_header_icmp(void **state)
{
	frag_oversized(*state, 1);
}

/* --- ICMP errors sent -------------------------------------------------------------- */

static void test_icmp_error_rate_limit(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t n;
	int i, sent;

	fx_restart(fx, NULL, 1500, 256, true);
	learn_peer(fx, peer_mac, PEER_IP);
	/* A burst of 50 errors, then 100 a second (defaults). */
	for (i = 0; i < 60; i++) {
		n = mk_udp(f, PEER_IP, 1, OUR_IP, 9999, "x", 1);
		inject(fx, f, n);
	}
	fx_poll(fx, fx->now);
	for (sent = 0; take(fx, f); sent++)
		;
	assert_int_equal(sent, 50);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ICMP_RATE], 10);
	expect_drops_ign(fx, XS_DROP_UDP_NO_PORT, 60, XS_DROP_ICMP_RATE, "burst");
	/* 100 ms later: 10 tokens. */
	for (i = 0; i < 15; i++) {
		n = mk_udp(f, PEER_IP, 1, OUR_IP, 9999, "x", 1);
		inject(fx, f, n);
	}
	fx_poll(fx, fx->now + XS_MS(100));
	for (sent = 0; take(fx, f); sent++)
		;
	assert_int_equal(sent, 10);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ICMP_RATE], 15);
}

static void test_icmp_no_error_about_errors(void **state)
{
	static uint8_t msg[FRAME_MAX];
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t n;

	/* The first fragments of an ICMP error and of an echo request time out:
	 * time exceeded goes back for the echo, never for the error (RFC 1122
	 * 3.2.2: no ICMP error about an ICMP error). */
	learn_peer(fx, peer_mac, PEER_IP);
	memset(msg, 0x45, sizeof(msg));
	msg[0] = 3;
	msg[1] = 3;
	n = mk_frag(f, PEER_IP, 1, 0x5555, 20, 0, true, msg, 1480);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	fx_poll(fx, fx->now + XS_SEC(30));
	expect_nothing_sent(fx, "error about an error");
	expect_drops(fx, XS_DROP_FRAG_TIMEOUT, 1, "error about an error");

	learn_peer(fx, peer_mac, PEER_IP); /* 30 s went by; keep the peer known */
	msg[0] = 8;
	msg[1] = 0;
	n = mk_frag(f, PEER_IP, 1, 0x5556, 20, 0, true, msg, 1480);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	fx_poll(fx, fx->now + XS_SEC(30));
	n = take(fx, msg);
	check_icmp_error(msg, n, peer_mac, PEER_IP, 11, 1, f + ETH_LEN, IP_LEN + 1480);
	expect_nothing_sent(fx, "error about an echo");
	expect_drops(fx, XS_DROP_FRAG_TIMEOUT, 1, "error about an echo");
}

/* --- ICMP errors received, connected UDP -------------------------------------------- */

struct ev_log {
	int calls;
	unsigned events;
};

static void ev_cb(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx)
{
	struct ev_log *l = ctx;

	l->calls++;
	l->events = events;
}

/* An ICMP destination unreachable from the peer quoting sent (an IP packet). */
static size_t mk_unreach(uint8_t *f, uint8_t code, const uint8_t *sent, size_t quote)
{
	uint8_t *m = f + L4_OFF;

	m[0] = 3;
	m[1] = code;
	put16(m + 2, 0);
	put32(m + 4, 0);
	memcpy(m + 8, sent, quote);
	put16(m + 2, sum_fold(sum_add(0, m, 8 + quote)));
	return mk_ip(f, our_mac, PEER_IP, OUR_IP, 1, 8 + quote);
}

static void test_udp_connected(void **state)
{
	struct fx *fx = *state;
	struct ev_log ev = {0};
	uint8_t f[FRAME_MAX], sent[FRAME_MAX], r[FRAME_MAX], buf[64];
	size_t n, sl, plen;
	uint16_t lport;
	struct xs_udp h = xs_udp_open(fx->st);

	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_udp_send(fx->st, h, "x", 1), -EDESTADDRREQ);
	assert_int_equal(xs_udp_connect(fx->st, h, PEER_IP, 53), 0);
	lport = (uint16_t)xs_udp_local_port(fx->st, h);
	assert_true(lport >= 32768 && lport <= 60999);
	assert_int_equal(xs_udp_set_event_cb(fx->st, h, ev_cb, &ev), 0);
	assert_int_equal(xs_udp_send(fx->st, h, "query", 5), 5);
	fx_poll(fx, fx->now);
	sl = take(fx, sent);
	check_udp_out(sent, sl, peer_mac, PEER_IP, lport, 53, &plen);

	/* Only the peer is heard; others get port unreachable. */
	n = mk_udp(f, PEER_IP, 53, OUR_IP, lport, "answer", 6);
	inject(fx, f, n);
	n = mk_udp(f, PEER_IP, 54, OUR_IP, lport, "other port", 10);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(ev.calls, 1);
	assert_int_equal(ev.events, XS_EV_READABLE);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), 6);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	n = take(fx, r);
	assert_int_not_equal(n, 0); /* the port unreachable */
	expect_nothing_sent(fx, "connected filter");
	expect_drops(fx, XS_DROP_UDP_NO_PORT, 1, "connected filter");

	/* Port unreachable about our query: -ECONNREFUSED, once, with an event. */
	n = mk_unreach(f, 3, sent + ETH_LEN, IP_LEN + 8 + 5);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(ev.calls, 2);
	assert_true(ev.events & XS_EV_ERROR);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -ECONNREFUSED);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	assert_int_equal(xs_udp_send(fx->st, h, "again", 5), 5);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, r), 0);

	/* Host unreachable is reported by the next send, too. */
	n = mk_unreach(f, 1, sent + ETH_LEN, IP_LEN + 8);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(xs_udp_send(fx->st, h, "x", 1), -EHOSTUNREACH);
	assert_int_equal(xs_udp_send(fx->st, h, "x", 1), 1);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, r), 0);
	expect_drops(fx, XS_DROP_NONE, 0, "errors delivered");
	assert_int_equal(xs_stack_stats(fx->st)->icmp_err_rx, 2);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_icmp_errors_received_not_ours(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], q[64];
	size_t n;

	/* Quoting a datagram from 10.0.0.1:40000 to 10.0.0.2:53 that no socket sent. */
	memset(q, 0, sizeof(q));
	q[0] = 0x45;
	put16(q + 2, 28);
	q[8] = 64;
	q[9] = 17;
	put32(q + 12, OUR_IP);
	put32(q + 16, PEER_IP);
	ip_fix_csum(q);
	put16(q + 20, 40000);
	put16(q + 22, 53);
	put16(q + 24, 8);
	n = mk_unreach(f, 3, q, 28);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ICMP_ERR_NOSOCK, 1, "no socket");
	/* Quoting a packet someone else sent. */
	put32(q + 12, OTHER_IP);
	ip_fix_csum(q);
	n = mk_unreach(f, 3, q, 28);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ICMP_ERR_BAD, 1, "not our packet");
	/* Quoting less than the header and 8 bytes. */
	put32(q + 12, OUR_IP);
	ip_fix_csum(q);
	n = mk_unreach(f, 3, q, 27);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ICMP_ERR_BAD, 1, "short quote");
	expect_nothing_sent(fx, "errors received");
}

static void test_arp_failure_reaches_connected_socket(void **state)
{
	struct fx *fx = *state;
	struct ev_log ev = {0};
	uint8_t f[FRAME_MAX], buf[16];
	struct xs_udp h = xs_udp_open(fx->st);
	int i;

	assert_int_equal(xs_udp_connect(fx->st, h, PEER_IP, 53), 0);
	assert_int_equal(xs_udp_set_event_cb(fx->st, h, ev_cb, &ev), 0);
	assert_int_equal(xs_udp_send(fx->st, h, "q", 1), 1);
	fx_poll(fx, fx->now);
	for (i = 1; i <= 3; i++) {
		fx_poll(fx, fx->now + XS_SEC(1));
		while (take(fx, f))
			;
	}
	/* RFC 1122 2.3.2.2: the sender hears host unreachable. */
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, 1, "unresolved");
	assert_int_equal(ev.calls, 1);
	assert_true(ev.events & XS_EV_ERROR);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -EHOSTUNREACH);
	assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

/* Regression (fixed in 2999f48): when ARP gave up on a datagram of an
 * unconnected socket, the drop was counted as ARP_UNRESOLVED and the local
 * host unreachable made for it again as ICMP_ERR_NOSOCK. One drop, one count. */
static void test_arp_failure_counted_once(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	struct xs_udp h = xs_udp_open(fx->st);
	int i;

	assert_int_equal(xs_udp_sendto(fx->st, h, "q", 1, PEER_IP, 53), 1);
	fx_poll(fx, fx->now);
	for (i = 1; i <= 3; i++) {
		fx_poll(fx, fx->now + XS_SEC(1));
		while (take(fx, f))
			;
	}
	assert_int_equal(xs_udp_close(fx->st, h), 0);
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, 1, "one datagram, one drop");
}

/* --- ping client -------------------------------------------------------------------- */

struct ping_log {
	int calls;
	struct xs_ping_result r;
};

static void ping_cb(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	struct ping_log *l = ctx;

	l->calls++;
	l->r = *r;
}

static void test_ping(void **state)
{
	struct fx *fx = *state;
	struct ping_log pl = {0};
	uint8_t f[FRAME_MAX], req[FRAME_MAX];
	const uint8_t *m;
	size_t n, l4len;
	uint16_t id;
	struct xs_ping h;

	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_ping_open(fx->st, NULL, NULL).id, -EINVAL);
	h = xs_ping_open(fx->st, ping_cb, &pl);
	assert_true(h.id >= 0);
	assert_int_equal(xs_ping_send(fx->st, h, PEER_IP, 1, 56), 0);
	fx_poll(fx, fx->now);
	n = take(fx, req);
	m = check_ip_out(req, n, peer_mac, PEER_IP, 1, &l4len);
	assert_int_equal(l4len, 64);
	assert_int_equal(m[0], 8);
	assert_int_equal(get16(m + 6), 1);
	assert_int_equal(sum_fold(sum_add(0, m, l4len)), 0);
	id = get16(m + 4);

	/* The peer's reply reaches the callback. */
	n = mk_echo(f, PEER_IP, OUR_IP, id, 1, m + 8, 56);
	f[L4_OFF] = 0;
	put16(f + L4_OFF + 2, 0);
	put16(f + L4_OFF + 2, sum_fold(sum_add(0, f + L4_OFF, 64)));
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(pl.calls, 1);
	assert_int_equal(pl.r.from, PEER_IP);
	assert_int_equal(pl.r.seq, 1);
	assert_int_equal(pl.r.bytes, 64);
	assert_int_equal(pl.r.ttl, 64);
	assert_int_equal(pl.r.error, 0);
	/* A reply with another identifier is not ours. */
	put16(f + L4_OFF + 4, (uint16_t)(id + 1));
	put16(f + L4_OFF + 2, 0);
	put16(f + L4_OFF + 2, sum_fold(sum_add(0, f + L4_OFF, 64)));
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(pl.calls, 1);
	expect_drops(fx, XS_DROP_ICMP_ERR_NOSOCK, 1, "other id");
	assert_int_equal(xs_ping_close(fx->st, h), 0);
	assert_int_equal(xs_ping_send(fx->st, h, PEER_IP, 2, 0), -EBADF);
	expect_nothing_sent(fx, "ping");
}

/* --- MTU bounds ----------------------------------------------------------------------- */

/* Regression (fixed in 2999f48): nothing bounded the device MTU from below, so
 * with MTU 19 ip4_send's per = (mtu - 20) & ~7 wrapped and a 2100-byte sendto
 * was copied whole into one 2048-byte frame, and with MTU 20..27 per was 0 and
 * ip4_send sent empty fragments until no frame was left. The stack now
 * refuses an MTU below the IPv4 minimum of 68 (RFC 791). */
static void test_mtu_floor(void **state)
{
	static const uint16_t bad[] = {1, 19, 20, 27, 67};
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP};
	struct xs_stack_info info;
	struct xs_stack *st;
	struct xs_dev *dev;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dev = xs_mem_dev_new(our_mac, bad[i], 4);
		assert_non_null(dev);
		errno = 0;
		st = xs_stack_new(&cfg, dev);
		if (st) {
			xs_stack_free(st);
			xs_dev_free(dev);
			fail_msg("a stack on a %u-byte MTU was created", bad[i]);
		}
		assert_int_equal(errno, EINVAL);
		xs_dev_free(dev);
	}
	/* 68 is fine; an MTU beyond the mem device's frames is clamped to them. */
	fx_restart(fx, NULL, 68, 16, false);
	xs_stack_get_info(fx->st, &info);
	assert_int_equal(info.mtu, 68);
	fx_restart(fx, NULL, 9000, 16, false);
	xs_stack_get_info(fx->st, &info);
	assert_int_equal(info.mtu, 2048 - ETH_LEN);
}

static void test_min_mtu_fragments(void **state)
{
	static uint8_t data[100], out[200];
	struct fx *fx = *state;
	uint8_t ip[IP_LEN] = {0}, f[FRAME_MAX];
	unsigned nfrags;
	size_t len;
	struct xs_udp h;

	/* On a 68-byte MTU every fragment carries 48 bytes (68 - 20, rounded
	 * down to 8): a 108-byte UDP datagram is 48 + 48 + 12. */
	fx_restart(fx, NULL, 68, 16, true);
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_bind(fx->st, h, 1234), 0);
	fill_pattern(data, sizeof(data), 3);
	assert_int_equal(xs_udp_sendto(fx->st, h, data, sizeof(data), 0xffffffffu, 9), 100);
	fx_poll(fx, fx->now);
	len = take_fragments(fx, bcast_mac, 0xffffffffu, 17, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 3);
	assert_int_equal(len, 108);
	put32(ip + 12, OUR_IP);
	put32(ip + 16, 0xffffffffu);
	assert_int_equal(udp_csum(ip, out, len), 0);
	assert_memory_equal(out + 8, data, sizeof(data));
	expect_nothing_sent(fx, "three fragments");
	/* 40 bytes of data exactly fill one 68-byte packet; one more fragments. */
	assert_int_equal(xs_udp_sendto(fx->st, h, data, 40, 0xffffffffu, 9), 40);
	fx_poll(fx, fx->now);
	assert_int_equal(take(fx, f), MIN_FRAME + 22);
	assert_int_equal(get16(f + ETH_LEN + 6) & 0x3fff, 0);
	assert_int_equal(xs_udp_sendto(fx->st, h, data, 41, 0xffffffffu, 9), 41);
	fx_poll(fx, fx->now);
	take_fragments(fx, bcast_mac, 0xffffffffu, 17, out, sizeof(out), &nfrags);
	assert_int_equal(nfrags, 2);
	expect_drops(fx, XS_DROP_NONE, 0, "minimum MTU");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_udp_send_fragmented),
	    T(test_udp_send_fragmented_waits_for_arp),
	    T(test_echo_reassembled_reply_fragmented),
	    T(test_udp_reassembled_with_options),
	    T(test_frag_overlap_and_duplicate),
	    T(test_frag_timeout),
	    T(test_frag_limits),
	    T(test_frag_keyed_buckets),
	    T(test_frag_too_many_pieces),
	    T(test_frag_total_counts_first_header_udp),
	    T(test_frag_total_counts_first_header_icmp),
	    T(test_icmp_error_rate_limit),
	    T(test_icmp_no_error_about_errors),
	    T(test_udp_connected),
	    T(test_icmp_errors_received_not_ours),
	    T(test_arp_failure_reaches_connected_socket),
	    T(test_arp_failure_counted_once),
	    T(test_ping),
	    T(test_mtu_floor),
	    T(test_min_mtu_fragments),
#undef T
	};

	return cmocka_run_group_tests_name("ip4", tests, NULL, NULL);
}
