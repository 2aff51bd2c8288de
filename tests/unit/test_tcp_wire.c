/* Unit tests of user/wire/tcp.c: scapy-built segments parsed and re-emitted byte for
 * byte, option round trips, tables of malformed headers and hostile options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/stats.h>

#include "wire/bytes.h"
#include "wire/tcp.h"

#define IP_CLIENT 0xac110002u /* 172.17.0.2 */
#define IP_SERVER 0xac1100fdu /* 172.17.0.253 */

/* --- vectors built with scapy 2.5 (checksums by scapy), TCP header onward --- */

/* Linux's SYN: 172.17.0.2:40000 -> 172.17.0.253:8888, seq 1, window 8192,
 * MSS 1460, SACK-permitted, TS 1/0, NOP, WS 7; checksum 0x0fe4. */
static const uint8_t linux_syn[40] = {
	0x9c, 0x40, 0x22, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0x20, 0x00, 0x0f, 0xe4, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,
};

/* SYN-ACK 172.17.0.253:8888 -> 172.17.0.2:40000 without SACK-permitted: seq
 * 0x7ffffffe, ack 2, window 65160, MSS 1460, NOP NOP TS 0x11223344/1, NOP WS 14;
 * checksum 0x6fdf. */
static const uint8_t synack_nosack[40] = {
	0x22, 0xb8, 0x9c, 0x40, 0x7f, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x02,
	0xa0, 0x12, 0xfe, 0x88, 0x6f, 0xdf, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x01, 0x01, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
	0x01, 0x03, 0x03, 0x0e,
};

/* PSH|ACK 172.17.0.253:8888 -> 172.17.0.2:40000, seq 0xfffffff0, ack 0x80000001,
 * window 501, NOP NOP TS 0xdeadbeef/0x01020304, NOP NOP SACK with 2 blocks,
 * "hello, tcp!"; checksum 0x5bf4. */
static const uint8_t data_ts_sack2[63] = {
	0x22, 0xb8, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xf0, 0x80, 0x00, 0x00, 0x01,
	0xd0, 0x18, 0x01, 0xf5, 0x5b, 0xf4, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
	0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x01, 0x01, 0x05, 0x12,
	0x80, 0x00, 0x10, 0x01, 0x80, 0x00, 0x20, 0x01, 0x80, 0x00, 0x30, 0x01,
	0x80, 0x00, 0x40, 0x01, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x74,
	0x63, 0x70, 0x21,
};

/* ACK 172.17.0.2:40000 -> 172.17.0.253:8888, seq 2, ack 0xffffff00, window
 * 65535, NOP NOP TS 7/0xfffffffe, NOP NOP SACK with 3 blocks across the wrap:
 * a full 60-byte header; checksum 0xe8df. */
static const uint8_t ack_ts_sack3[60] = {
	0x9c, 0x40, 0x22, 0xb8, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0x00,
	0xf0, 0x10, 0xff, 0xff, 0xe8, 0xdf, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
	0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x01, 0x05, 0x1a,
	0xff, 0xff, 0xff, 0x10, 0xff, 0xff, 0xff, 0x20, 0xff, 0xff, 0xff, 0x40,
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00,
};

/* --- helpers ------------------------------------------------------------------ */

static void check_drop(enum xs_drop got, enum xs_drop want, const char *what, long i)
{
	if (got != want)
		fail_msg("%s [%ld]: got %s, want %s", what, i, xs_drop_name(got),
			 xs_drop_name(want));
}

/* Reference TCP checksum (RFC 9293 3.1), written out word by word and
 * independent of wire/csum.c: stores it in b[16..17]. */
static void ref_csum(uint8_t *b, size_t n, uint32_t src, uint32_t dst)
{
	uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + n;
	size_t i;

	b[16] = 0;
	b[17] = 0;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	st_be16(b + 16, (uint16_t)~s);
}

/* Parses a copy of b[0..n) in a heap block of exactly n bytes, so that ASan
 * catches any read past the end. out->payload is cleared (the copy is gone). */
static enum xs_drop parse_exact(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
				struct tcp_repr *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum xs_drop d;

	assert_non_null(copy);
	memcpy(copy, b, n);
	d = tcp_parse(copy, n, src, dst, out);
	free(copy);
	out->payload = NULL;
	return d;
}

static void check_opts(const struct tcp_opts *got, const struct tcp_opts *want, const char *what)
{
	unsigned i;

	if (got->mss_ok != want->mss_ok || got->ws_ok != want->ws_ok ||
	    got->sack_ok != want->sack_ok || got->ts_ok != want->ts_ok ||
	    got->nsack != want->nsack)
		fail_msg("%s: got mss_ok %u ws_ok %u sack_ok %u ts_ok %u nsack %u, "
			 "want %u %u %u %u %u",
			 what, got->mss_ok, got->ws_ok, got->sack_ok, got->ts_ok, got->nsack,
			 want->mss_ok, want->ws_ok, want->sack_ok, want->ts_ok, want->nsack);
	if (want->mss_ok && got->mss != want->mss)
		fail_msg("%s: mss %u, want %u", what, got->mss, want->mss);
	if (want->ws_ok && got->ws != want->ws)
		fail_msg("%s: ws %u, want %u", what, got->ws, want->ws);
	if (want->ts_ok && (got->tsval != want->tsval || got->tsecr != want->tsecr))
		fail_msg("%s: ts %u/%u, want %u/%u", what, got->tsval, got->tsecr, want->tsval,
			 want->tsecr);
	for (i = 0; i < want->nsack && i < TCP_MAX_SACK; i++)
		if (got->sack[i].left != want->sack[i].left ||
		    got->sack[i].right != want->sack[i].right)
			fail_msg("%s: sack[%u] %u-%u, want %u-%u", what, i, got->sack[i].left,
				 got->sack[i].right, want->sack[i].left, want->sack[i].right);
}

/* The fixed fields of two reprs agree. */
static void check_fields(const struct tcp_repr *got, const struct tcp_repr *want)
{
	assert_int_equal(got->sport, want->sport);
	assert_int_equal(got->dport, want->dport);
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->ack, want->ack);
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->wnd, want->wnd);
	assert_int_equal(got->urp, want->urp);
	assert_int_equal(got->payload_len, want->payload_len);
	if (want->payload_len)
		assert_memory_equal(got->payload, want->payload, want->payload_len);
}

static void fill_pattern(uint8_t *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed);
}

/* Emits r, checks the header's shape, re-parses it and returns the parse. */
static size_t emit_and_parse(const struct tcp_repr *r, uint8_t *b, size_t cap,
			     struct tcp_repr *out)
{
	size_t olen = tcp_opts_len(r);
	size_t n = tcp_emit(r, IP_CLIENT, IP_SERVER, b, cap);

	assert_true(olen <= TCP_MAX_OPT_LEN);
	assert_int_equal(olen % 4, 0);
	assert_int_equal(n, TCP_HDR_LEN + olen + r->payload_len);
	assert_int_equal(b[12], (TCP_HDR_LEN + olen) / 4 << 4);
	check_drop(tcp_parse(b, n, IP_CLIENT, IP_SERVER, out), XS_DROP_NONE, "re-parse",
		   (long)olen);
	assert_int_equal(out->hdr_len, TCP_HDR_LEN + olen);
	check_fields(out, r);
	return n;
}

/* --- parsing real segments ------------------------------------------------------ */

static void test_tcp_parse_linux_syn(void **state)
{
	struct tcp_repr t;
	const struct tcp_opts want = { .mss_ok = 1, .mss = 1460, .sack_ok = 1, .ts_ok = 1,
				       .tsval = 1, .tsecr = 0, .ws_ok = 1, .ws = 7 };

	check_drop(tcp_parse(linux_syn, sizeof(linux_syn), IP_CLIENT, IP_SERVER, &t), XS_DROP_NONE,
		   "linux syn", 0);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dport, 8888);
	assert_int_equal(t.seq, 1);
	assert_int_equal(t.ack, 0);
	assert_int_equal(t.flags, TCP_SYN);
	assert_int_equal(t.wnd, 8192);
	assert_int_equal(t.urp, 0);
	assert_int_equal(t.hdr_len, 40);
	assert_int_equal(t.payload_len, 0);
	assert_ptr_equal(t.payload, linux_syn + 40);
	check_opts(&t.opt, &want, "linux syn");
	/* The pseudo header counts. */
	check_drop(tcp_parse(linux_syn, sizeof(linux_syn), IP_CLIENT + 1, IP_SERVER, &t),
		   XS_DROP_TCP_CSUM, "src", 0);
	check_drop(tcp_parse(linux_syn, sizeof(linux_syn), IP_CLIENT, IP_SERVER ^ 0x100, &t),
		   XS_DROP_TCP_CSUM, "dst", 0);
}

static void test_tcp_parse_synack_nosack(void **state)
{
	struct tcp_repr t;
	const struct tcp_opts want = { .mss_ok = 1, .mss = 1460, .ts_ok = 1,
				       .tsval = 0x11223344, .tsecr = 1, .ws_ok = 1, .ws = 14 };

	check_drop(tcp_parse(synack_nosack, sizeof(synack_nosack), IP_SERVER, IP_CLIENT, &t),
		   XS_DROP_NONE, "syn-ack", 0);
	assert_int_equal(t.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(t.seq, 0x7ffffffe);
	assert_int_equal(t.ack, 2);
	assert_int_equal(t.wnd, 65160);
	check_opts(&t.opt, &want, "syn-ack");
}

static void test_tcp_parse_data_ts_sack(void **state)
{
	struct tcp_repr t;
	const struct tcp_opts want = {
		.ts_ok = 1, .tsval = 0xdeadbeef, .tsecr = 0x01020304, .nsack = 2,
		.sack = { { 0x80001001, 0x80002001 }, { 0x80003001, 0x80004001 } },
	};

	check_drop(tcp_parse(data_ts_sack2, sizeof(data_ts_sack2), IP_SERVER, IP_CLIENT, &t),
		   XS_DROP_NONE, "data", 0);
	assert_int_equal(t.sport, 8888);
	assert_int_equal(t.dport, 40000);
	assert_int_equal(t.seq, 0xfffffff0);
	assert_int_equal(t.ack, 0x80000001);
	assert_int_equal(t.flags, TCP_PSH | TCP_ACK);
	assert_int_equal(t.wnd, 501);
	assert_int_equal(t.hdr_len, 52);
	assert_int_equal(t.payload_len, 11);
	assert_memory_equal(t.payload, "hello, tcp!", 11);
	check_opts(&t.opt, &want, "data");
}

static void test_tcp_parse_full_header(void **state)
{
	struct tcp_repr t;
	const struct tcp_opts want = {
		.ts_ok = 1, .tsval = 7, .tsecr = 0xfffffffe, .nsack = 3,
		.sack = { { 0xffffff10, 0xffffff20 }, { 0xffffff40, 0x10 }, { 0x100, 0x200 } },
	};

	check_drop(parse_exact(ack_ts_sack3, sizeof(ack_ts_sack3), IP_CLIENT, IP_SERVER, &t),
		   XS_DROP_NONE, "ack", 0);
	assert_int_equal(t.hdr_len, TCP_MAX_HDR_LEN);
	assert_int_equal(t.payload_len, 0);
	assert_int_equal(t.ack, 0xffffff00);
	assert_int_equal(t.wnd, 0xffff);
	check_opts(&t.opt, &want, "ack");
}

/* Our layout is Linux's: re-emitting what was parsed gives the same bytes,
 * checksum included. */
static void test_tcp_emit_matches_vectors(void **state)
{
	static const struct {
		const uint8_t *b;
		size_t n;
		uint32_t src, dst;
	} v[] = {
		{ linux_syn, sizeof(linux_syn), IP_CLIENT, IP_SERVER },
		{ synack_nosack, sizeof(synack_nosack), IP_SERVER, IP_CLIENT },
		{ data_ts_sack2, sizeof(data_ts_sack2), IP_SERVER, IP_CLIENT },
		{ ack_ts_sack3, sizeof(ack_ts_sack3), IP_CLIENT, IP_SERVER },
	};
	struct tcp_repr t;
	uint8_t b[128];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		check_drop(tcp_parse(v[i].b, v[i].n, v[i].src, v[i].dst, &t), XS_DROP_NONE,
			   "vector", (long)i);
		assert_int_equal(tcp_opts_len(&t), t.hdr_len - TCP_HDR_LEN);
		memset(b, 0xa5, sizeof(b));
		assert_int_equal(tcp_emit(&t, v[i].src, v[i].dst, b, sizeof(b)), v[i].n);
		assert_memory_equal(b, v[i].b, v[i].n);
		assert_int_equal(b[v[i].n], 0xa5);
	}
}

/* --- emit/parse round trips ------------------------------------------------------ */

/* Every combination of the four SYN options, on SYN and SYN-ACK. */
static void test_tcp_syn_option_combinations(void **state)
{
	struct tcp_repr in = { .sport = 1234, .dport = 80, .seq = 0xfffffffe, .wnd = 64240 },
			out;
	uint8_t b[128];
	unsigned m, f;

	for (f = 0; f < 2; f++) {
		in.flags = f ? TCP_SYN | TCP_ACK : TCP_SYN;
		in.ack = f ? 0x12345678 : 0;
		for (m = 0; m < 16; m++) {
			size_t want = 0;
			char what[32];

			memset(&in.opt, 0, sizeof(in.opt));
			in.opt.mss_ok = m & 1;
			in.opt.mss = 8960;
			in.opt.sack_ok = (m >> 1) & 1;
			in.opt.ts_ok = (m >> 2) & 1;
			in.opt.tsval = 0x89abcdef;
			in.opt.tsecr = f ? 0x01234567 : 0;
			in.opt.ws_ok = (m >> 3) & 1;
			in.opt.ws = 14;
			want += in.opt.mss_ok ? 4 : 0;
			want += in.opt.ts_ok ? 12 : (in.opt.sack_ok ? 4 : 0);
			want += in.opt.ws_ok ? 4 : 0;
			assert_int_equal(tcp_opts_len(&in), want);
			emit_and_parse(&in, b, sizeof(b), &out);
			snprintf(what, sizeof(what), "syn f%u m%u", f, m);
			check_opts(&out.opt, &in.opt, what);
		}
	}
}

/* Data segments with and without timestamps and 0..4 SACK blocks (more than
 * fit are dropped from the end), payloads of several sizes. */
static void test_tcp_data_ts_sack_roundtrip(void **state)
{
	static uint8_t data[1460], b[1600];
	struct tcp_repr in = { .sport = 443, .dport = 50000, .seq = 0xffffff00,
			       .ack = 0x7fffffff, .flags = TCP_ACK | TCP_PSH, .wnd = 1024,
			       .payload = data },
			out;
	static const size_t lens[] = { 0, 1, 2, 3, 511, 1460 };
	unsigned ts, k, l, i;

	fill_pattern(data, sizeof(data), 3);
	for (i = 0; i < TCP_MAX_SACK; i++) {
		in.opt.sack[i].left = 0xfffff000u + i * 0x1000;
		in.opt.sack[i].right = 0xfffff800u + i * 0x1000;
	}
	for (ts = 0; ts < 2; ts++) {
		for (k = 0; k <= TCP_MAX_SACK; k++) {
			for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				unsigned fit = ts ? 3 : 4, sent = k < fit ? k : fit;
				struct tcp_opts want = in.opt;
				char what[48];

				in.opt.ts_ok = (uint8_t)ts;
				in.opt.tsval = 100 + k;
				in.opt.tsecr = 200 + l;
				in.opt.nsack = (uint8_t)k;
				in.payload_len = lens[l];
				assert_int_equal(tcp_opts_len(&in),
						 (ts ? 12 : 0) + (sent ? 4 + 8 * sent : 0));
				emit_and_parse(&in, b, sizeof(b), &out);
				want = in.opt;
				want.nsack = (uint8_t)sent;
				snprintf(what, sizeof(what), "ts %u sack %u len %zu", ts, k,
					 lens[l]);
				check_opts(&out.opt, &want, what);
			}
		}
	}
}

/* Outside a SYN only timestamps and SACK are sent; on a SYN no SACK blocks. A
 * nonsense nsack is clamped, never read past the array. */
static void test_tcp_emit_option_selection(void **state)
{
	struct tcp_repr in = { .sport = 1, .dport = 2, .flags = TCP_ACK }, out;
	uint8_t b[128];

	in.opt.mss_ok = 1;
	in.opt.mss = 1460;
	in.opt.ws_ok = 1;
	in.opt.ws = 7;
	in.opt.sack_ok = 1;
	assert_int_equal(tcp_opts_len(&in), 0);
	emit_and_parse(&in, b, sizeof(b), &out);
	assert_int_equal(out.hdr_len, TCP_HDR_LEN);

	in.opt.nsack = 255;
	assert_int_equal(tcp_opts_len(&in), 36);
	emit_and_parse(&in, b, sizeof(b), &out);
	assert_int_equal(out.opt.nsack, 4);
	in.opt.ts_ok = 1;
	assert_int_equal(tcp_opts_len(&in), 40);
	emit_and_parse(&in, b, sizeof(b), &out);
	assert_int_equal(out.opt.nsack, 3);
	assert_int_equal(out.opt.ts_ok, 1);

	in.flags = TCP_SYN;
	assert_int_equal(tcp_opts_len(&in), 20);
	emit_and_parse(&in, b, sizeof(b), &out);
	assert_int_equal(out.opt.nsack, 0);
	assert_int_equal(out.opt.mss_ok, 1);

	/* RST and FIN segments follow the non-SYN rule. */
	in.flags = TCP_RST;
	in.opt.nsack = 0;
	assert_int_equal(tcp_opts_len(&in), 12);
}

/* Every flag byte survives; reserved bits are sent as zero and ignored. */
static void test_tcp_flags_and_reserved(void **state)
{
	struct tcp_repr in = { .sport = 7, .dport = 9, .seq = 5, .urp = 0x1234 }, out;
	uint8_t b[64];
	unsigned f;
	size_t n;

	for (f = 0; f < 256; f++) {
		in.flags = (uint8_t)f;
		n = emit_and_parse(&in, b, sizeof(b), &out);
		assert_int_equal(b[12] & 0x0f, 0);
		b[12] |= 0x0f;
		ref_csum(b, n, IP_CLIENT, IP_SERVER);
		check_drop(tcp_parse(b, n, IP_CLIENT, IP_SERVER, &out), XS_DROP_NONE, "reserved",
			   (long)f);
		assert_int_equal(out.flags, f);
		assert_int_equal(out.urp, 0x1234);
		assert_int_equal(out.hdr_len, TCP_HDR_LEN);
	}
}

/* The payload may already sit where it belongs, or anywhere else, even over
 * the header being written: the result is the same bytes. */
static void test_tcp_emit_payload_placement(void **state)
{
	static uint8_t data[300], ref[400], b[400];
	struct tcp_repr in = { .sport = 5, .dport = 6, .seq = 77, .ack = 88, .wnd = 99,
			       .flags = TCP_ACK, .payload = data, .payload_len = sizeof(data) },
			out;
	static const size_t where[] = { 0, 1, 19, 20, 31, 33, 40, 60, 100 };
	size_t n, hlen, i;

	fill_pattern(data, sizeof(data), 11);
	in.opt.ts_ok = 1;
	in.opt.tsval = 1;
	in.opt.nsack = 1;
	in.opt.sack[0].left = 1000;
	in.opt.sack[0].right = 2000;
	hlen = TCP_HDR_LEN + tcp_opts_len(&in);
	assert_int_equal(hlen, 44);
	n = tcp_emit(&in, IP_CLIENT, IP_SERVER, ref, sizeof(ref));
	assert_int_equal(n, hlen + sizeof(data));

	/* In place: nothing to copy. */
	memset(b, 0, sizeof(b));
	memcpy(b + hlen, data, sizeof(data));
	in.payload = b + hlen;
	assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, sizeof(b)), n);
	assert_memory_equal(b, ref, n);

	/* Elsewhere in the same buffer, overlapping the header or the destination. */
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		memset(b, 0xee, sizeof(b));
		memcpy(b + where[i], data, sizeof(data));
		in.payload = b + where[i];
		assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, sizeof(b)), n);
		if (memcmp(b, ref, n))
			fail_msg("payload at offset %zu", where[i]);
	}
	check_drop(tcp_parse(b, n, IP_CLIENT, IP_SERVER, &out), XS_DROP_NONE, "placed", 0);
	assert_memory_equal(out.payload, data, sizeof(data));
}

static void test_tcp_emit_capacity(void **state)
{
	static uint8_t data[65536], b[65600];
	struct tcp_repr in = { .flags = TCP_SYN, .payload = data, .payload_len = 10 };
	size_t n, cap;

	in.opt.mss_ok = 1;
	in.opt.ts_ok = 1;
	n = TCP_HDR_LEN + 16 + 10;
	for (cap = 0; cap < n; cap++)
		assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, cap), 0);
	assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, n), n);

	/* The pseudo header's 16-bit length bounds the segment. */
	in.payload_len = 65535 - 36;
	assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, sizeof(b)), 65535);
	in.payload_len++;
	assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, sizeof(b)), 0);
	in.payload_len = (size_t)-1;
	assert_int_equal(tcp_emit(&in, IP_CLIENT, IP_SERVER, b, sizeof(b)), 0);
}

/* Emitted checksums agree with the independent reference over many shapes. */
static void test_tcp_emit_checksum_reference(void **state)
{
	static uint8_t data[257], b[400], c[400];
	struct tcp_repr in = { .sport = 0xffff, .dport = 0, .seq = 0xffffffff,
			       .ack = 0xffffffff, .flags = 0xff, .wnd = 0xffff, .urp = 0xffff,
			       .payload = data },
			out;
	size_t len, n;

	fill_pattern(data, sizeof(data), 0xf0);
	in.opt.ts_ok = 1;
	in.opt.tsval = 0xffffffff;
	in.opt.tsecr = 0xffffffff;
	for (len = 0; len <= sizeof(data); len += 1 + len / 4) {
		in.payload_len = len;
		n = emit_and_parse(&in, b, sizeof(b), &out);
		memcpy(c, b, n);
		ref_csum(c, n, IP_CLIENT, IP_SERVER);
		assert_int_equal(ld_be16(b + 16), ld_be16(c + 16));
	}
}

/* --- malformed headers -------------------------------------------------------------- */

static void test_tcp_truncated(void **state)
{
	struct tcp_repr t;
	size_t n;

	for (n = 0; n < TCP_HDR_LEN; n++) {
		check_drop(parse_exact(linux_syn, n, IP_CLIENT, IP_SERVER, &t), XS_DROP_TCP_SHORT,
			   "syn short", (long)n);
		check_drop(parse_exact(data_ts_sack2, n, IP_SERVER, IP_CLIENT, &t),
			   XS_DROP_TCP_SHORT, "data short", (long)n);
	}
	/* 20..39 bytes of a 40-byte header: the data offset runs past the end. */
	for (n = TCP_HDR_LEN; n < sizeof(linux_syn); n++)
		check_drop(parse_exact(linux_syn, n, IP_CLIENT, IP_SERVER, &t),
			   XS_DROP_TCP_HDR_LEN, "syn cut", (long)n);
	/* 52..62 bytes of the data segment: header whole, payload cut: checksum. */
	for (n = 52; n < sizeof(data_ts_sack2); n++)
		check_drop(parse_exact(data_ts_sack2, n, IP_SERVER, IP_CLIENT, &t),
			   XS_DROP_TCP_CSUM, "data cut", (long)n);
}

/* Every data offset 0..15 on segments of every length 20..64, the checksum made
 * right each time: below 5 or past n is a bad header length, else accepted. */
static void test_tcp_data_offset(void **state)
{
	uint8_t b[64];
	struct tcp_repr t;
	unsigned doff;
	size_t n;

	for (n = TCP_HDR_LEN; n <= sizeof(b); n++) {
		for (doff = 0; doff < 16; doff++) {
			enum xs_drop want = XS_DROP_NONE;

			memset(b, TCP_OPT_NOP, sizeof(b));
			memcpy(b, linux_syn, TCP_HDR_LEN);
			b[12] = (uint8_t)(doff << 4);
			ref_csum(b, n, IP_CLIENT, IP_SERVER);
			if (doff < 5 || doff * 4 > n)
				want = XS_DROP_TCP_HDR_LEN;
			check_drop(parse_exact(b, n, IP_CLIENT, IP_SERVER, &t), want, "doff",
				   (long)(n * 100 + doff));
			if (want != XS_DROP_NONE)
				continue;
			assert_int_equal(t.hdr_len, doff * 4);
			assert_int_equal(t.payload_len, n - doff * 4);
			assert_int_equal(t.opt.mss_ok | t.opt.ws_ok | t.opt.sack_ok | t.opt.ts_ok |
						 t.opt.nsack,
					 0);
		}
	}
}

static void test_tcp_bad_checksum(void **state)
{
	uint8_t b[sizeof(data_ts_sack2)];
	struct tcp_repr t;
	unsigned i, bit;

	/* Every single-bit error is caught, except in the data offset nibble,
	 * which fails the header length check first when it goes out of range. */
	for (i = 0; i < sizeof(b); i++) {
		for (bit = 0; bit < 8; bit++) {
			enum xs_drop want = XS_DROP_TCP_CSUM;

			memcpy(b, data_ts_sack2, sizeof(b));
			b[i] ^= (uint8_t)(1u << bit);
			if (i == 12 && bit >= 4) {
				unsigned off = (b[12] >> 4) * 4u;

				if (off < TCP_HDR_LEN || off > sizeof(b))
					want = XS_DROP_TCP_HDR_LEN;
			}
			check_drop(parse_exact(b, sizeof(b), IP_SERVER, IP_CLIENT, &t), want,
				   "bit flip", (long)(i * 8 + bit));
		}
	}
	/* A zero checksum field is not "none" in TCP. */
	memcpy(b, data_ts_sack2, sizeof(b));
	st_be16(b + 16, 0);
	check_drop(tcp_parse(b, sizeof(b), IP_SERVER, IP_CLIENT, &t), XS_DROP_TCP_CSUM, "zero", 0);
	/* One byte of trailing garbage (the length comes from IP, not TCP). */
	check_drop(tcp_parse(data_ts_sack2, sizeof(data_ts_sack2) - 1, IP_SERVER, IP_CLIENT, &t),
		   XS_DROP_TCP_CSUM, "short by one", 0);
}

/* The result fields are written only for an accepted segment. */
static void test_tcp_out_untouched_on_drop(void **state)
{
	struct tcp_repr t, before;

	memset(&t, 0x5a, sizeof(t));
	before = t;
	assert_int_equal(tcp_parse(linux_syn, 10, IP_CLIENT, IP_SERVER, &t), XS_DROP_TCP_SHORT);
	assert_int_equal(tcp_parse(linux_syn, 30, IP_CLIENT, IP_SERVER, &t), XS_DROP_TCP_HDR_LEN);
	assert_int_equal(tcp_parse(linux_syn, 40, IP_CLIENT, 0, &t), XS_DROP_TCP_CSUM);
	assert_memory_equal(&t, &before, sizeof(t));
}

/* --- hostile options ------------------------------------------------------------------ */

struct opt_case {
	const char *name;
	uint8_t len; /* option area, a multiple of 4 */
	uint8_t opt[TCP_MAX_OPT_LEN];
	struct tcp_opts want;
};

#define MSS_1460 TCP_OPT_MSS, 4, 0x05, 0xb4
#define NOP_WS7 TCP_OPT_NOP, TCP_OPT_WS, 3, 7
#define NOP2_TS TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_TS, 10, 0, 0, 0, 9, 0, 0, 0, 8
#define WANT_MSS .mss_ok = 1, .mss = 1460
#define WANT_WS .ws_ok = 1, .ws = 7
#define WANT_TS .ts_ok = 1, .tsval = 9, .tsecr = 8

static const struct opt_case opt_cases[] = {
	{ "none", 0, { 0 }, { 0 } },
	{ "linux syn", 20, { MSS_1460, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, NOP_WS7 },
	  { WANT_MSS, WANT_WS, WANT_TS, .sack_ok = 1 } },
	/* A length below 2 ends parsing; what came before stays, what follows is
	 * not looked at. */
	{ "len 0", 12, { MSS_1460, TCP_OPT_TS, 0, 0, 0, NOP_WS7 }, { WANT_MSS } },
	{ "len 1", 12, { MSS_1460, TCP_OPT_WS, 1, 1, 1, NOP_WS7 }, { WANT_MSS } },
	{ "unknown len 0", 8, { 254, 0, 1, 1, MSS_1460 }, { 0 } },
	{ "len 0 first", 40, { TCP_OPT_MSS, 0 }, { 0 } },
	/* A length running past the option area ends parsing. */
	{ "ts past end", 8, { MSS_1460, TCP_OPT_TS, 10, 0, 0 }, { WANT_MSS } },
	{ "mss past end", 4, { TCP_OPT_NOP, TCP_OPT_MSS, 4, 5 }, { 0 } },
	{ "len byte missing", 4, { TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_MSS }, { 0 } },
	{ "unknown len 41", 40, { 254, 41 }, { 0 } },
	{ "len 255", 16, { MSS_1460, 255, 255, 255, 255, NOP_WS7 }, { WANT_MSS } },
	/* A known kind with the wrong length is ignored, and parsing goes on by
	 * that length. */
	{ "mss len 3", 8, { TCP_OPT_MSS, 3, 5, NOP_WS7 }, { WANT_WS } },
	{ "mss len 5", 12, { TCP_OPT_MSS, 5, 5, 0xb4, 0, NOP_WS7 }, { WANT_WS } },
	{ "mss len 2", 8, { TCP_OPT_MSS, 2, NOP_WS7 }, { WANT_WS } },
	{ "ws len 5", 12, { TCP_OPT_WS, 5, 7, 0, 0, MSS_1460 }, { WANT_MSS } },
	{ "ws len 2", 8, { TCP_OPT_WS, 2, MSS_1460 }, { WANT_MSS } },
	{ "sackok len 3", 8, { TCP_OPT_SACK_PERM, 3, 0, MSS_1460 }, { WANT_MSS } },
	{ "sack len 11", 24, { TCP_OPT_SACK, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, NOP2_TS }, { WANT_TS } },
	{ "sack len 2", 16, { TCP_OPT_SACK, 2, NOP2_TS }, { WANT_TS } },
	{ "sack len 42", 40, { NOP2_TS, TCP_OPT_SACK, 42 }, { WANT_TS } },
	{ "sack len 42 first", 40, { TCP_OPT_SACK, 42 }, { 0 } },
	{ "sack len 9", 12, { TCP_OPT_SACK, 9, 0, 0, 0, 0, 0, 0, 0, TCP_OPT_NOP, TCP_OPT_NOP,
			      TCP_OPT_NOP },
	  { 0 } },
	{ "sack len 38", 40, { TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK, 38 }, { 0 } },
	{ "ts len 9", 16, { TCP_OPT_TS, 9, 0, 0, 0, 9, 0, 0, 0, MSS_1460 }, { WANT_MSS } },
	{ "ts len 11", 16, { TCP_OPT_TS, 11, 0, 0, 0, 9, 0, 0, 0, 8, 0, MSS_1460 }, { WANT_MSS } },
	/* Valid SACK sizes, and the last SACK option wins. */
	{ "sack 1", 12, { TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK, 10, 0, 0, 0, 1, 0, 0, 0, 2 },
	  { .nsack = 1, .sack = { { 1, 2 } } } },
	{ "sack 4", 36, { TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0,
			  0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0,
			  0, 0, 0 },
	  { .nsack = 4, .sack = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 0xffffffff, 0 } } } },
	{ "ts sack 3", 40, { NOP2_TS, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK, 26, 0, 0, 0, 1, 0,
			     0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6 },
	  { WANT_TS, .nsack = 3, .sack = { { 1, 2 }, { 3, 4 }, { 5, 6 } } } },
	{ "sack twice", 28, { TCP_OPT_SACK, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
			      TCP_OPT_SACK, 10, 0, 0, 0, 7, 0, 0, 0, 8 },
	  { .nsack = 1, .sack = { { 7, 8 } } } },
	{ "mss twice", 8, { MSS_1460, TCP_OPT_MSS, 4, 0x02, 0x18 }, { .mss_ok = 1, .mss = 536 } },
	/* EOL ends the list; bytes after it are not options. */
	{ "eol early", 12, { MSS_1460, TCP_OPT_EOL, 0, 0, 0, NOP_WS7 }, { WANT_MSS } },
	{ "eol first", 8, { TCP_OPT_EOL, MSS_1460 }, { 0 } },
	{ "eol then junk", 8, { NOP_WS7, TCP_OPT_EOL, 255, 1, 0 }, { WANT_WS } },
	{ "eol like a len 2 option", 8, { TCP_OPT_EOL, 2, MSS_1460 }, { 0 } },
	{ "40 nops", 40, { [0 ... 39] = TCP_OPT_NOP }, { 0 } },
	{ "40 eols", 40, { 0 }, { 0 } },
	{ "39 nops and a kind", 40, { [0 ... 38] = TCP_OPT_NOP, [39] = TCP_OPT_TS }, { 0 } },
	/* Unknown kinds are skipped by their length. */
	{ "unknown 254", 8, { 254, 4, 0x12, 0x34, MSS_1460 }, { WANT_MSS } },
	{ "unknown len 2", 8, { 254, 2, 253, 2, NOP_WS7 }, { WANT_WS } },
	{ "unknown fills area", 40, { 254, 40, MSS_1460 }, { 0 } },
	{ "unknown 255 len 36", 40, { 255, 36, MSS_1460, [36] = MSS_1460 }, { WANT_MSS } },
	{ "tfo cookie", 16, { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, NOP_WS7, TCP_OPT_NOP, TCP_OPT_NOP },
	  { WANT_WS } },
};

/* Payload that would read as options if the parser strayed past the header. */
static const uint8_t lure[16] = {
	TCP_OPT_MSS, 4, 0xff, 0xff, TCP_OPT_WS, 3, 0xee, TCP_OPT_SACK_PERM,
	2, TCP_OPT_TS, 10, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};

static void test_tcp_hostile_options(void **state)
{
	uint8_t b[TCP_MAX_HDR_LEN + sizeof(lure)];
	struct tcp_repr t;
	size_t i, n;

	for (i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		size_t hlen = TCP_HDR_LEN + c->len;

		assert_int_equal(c->len % 4, 0);
		/* Alone (the option area ends the buffer), then followed by the lure. */
		for (n = hlen; n <= hlen + sizeof(lure); n += sizeof(lure)) {
			memcpy(b, linux_syn, TCP_HDR_LEN);
			b[12] = (uint8_t)(hlen / 4 << 4);
			memcpy(b + TCP_HDR_LEN, c->opt, c->len);
			memcpy(b + hlen, lure, sizeof(lure));
			ref_csum(b, n, IP_CLIENT, IP_SERVER);
			check_drop(parse_exact(b, n, IP_CLIENT, IP_SERVER, &t), XS_DROP_NONE,
				   c->name, (long)n);
			assert_int_equal(t.hdr_len, hlen);
			assert_int_equal(t.payload_len, n - hlen);
			check_opts(&t.opt, &c->want, c->name);
		}
	}
}

/* Every prefix of every option area of the table, parsed as the whole option
 * area: never a drop, never a read outside it (ASan), never a hang. */
static void test_tcp_option_prefixes(void **state)
{
	uint8_t b[TCP_MAX_HDR_LEN];
	struct tcp_repr t;
	size_t i, k;

	for (i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		for (k = 0; k <= TCP_MAX_OPT_LEN; k += 4) {
			memset(b, TCP_OPT_EOL, sizeof(b));
			memcpy(b, linux_syn, TCP_HDR_LEN);
			b[12] = (uint8_t)((TCP_HDR_LEN + k) / 4 << 4);
			memcpy(b + TCP_HDR_LEN, opt_cases[i].opt, k);
			ref_csum(b, TCP_HDR_LEN + k, IP_CLIENT, IP_SERVER);
			check_drop(parse_exact(b, TCP_HDR_LEN + k, IP_CLIENT, IP_SERVER, &t),
				   XS_DROP_NONE, opt_cases[i].name, (long)k);
			assert_true(t.opt.nsack <= TCP_MAX_SACK);
		}
	}
}

/* Every option byte value at every position of a 40-byte area whose other
 * bytes are lengths of 2: no hang, no overread, always accepted. */
static void test_tcp_option_bytes_sweep(void **state)
{
	uint8_t b[TCP_MAX_HDR_LEN];
	struct tcp_repr t;
	unsigned pos, v, fill;

	for (fill = 0; fill < 3; fill++) {
		for (pos = 0; pos < TCP_MAX_OPT_LEN; pos++) {
			for (v = 0; v < 256; v++) {
				memcpy(b, linux_syn, TCP_HDR_LEN);
				b[12] = 0xf0;
				memset(b + TCP_HDR_LEN, fill == 0 ? 2 : fill == 1 ? 1 : 254,
				       TCP_MAX_OPT_LEN);
				b[TCP_HDR_LEN + pos] = (uint8_t)v;
				ref_csum(b, sizeof(b), IP_CLIENT, IP_SERVER);
				if (parse_exact(b, sizeof(b), IP_CLIENT, IP_SERVER, &t) !=
				    XS_DROP_NONE)
					fail_msg("fill %u pos %u value %u", fill, pos, v);
			}
		}
	}
}

/* --- sequence space --------------------------------------------------------------------- */

static void test_seq_compare(void **state)
{
	static const struct {
		uint32_t a, b;
		int lt;
	} v[] = {
		{ 0, 1, 1 },
		{ 1, 0, 0 },
		{ 0xffffffff, 0, 1 },          /* across the wrap */
		{ 0, 0xffffffff, 0 },
		{ 0xfffffff0, 0x10, 1 },
		{ 0x10, 0xfffffff0, 0 },
		{ 0x7fffffff, 0x80000000, 1 },
		{ 0x80000000, 0x7fffffff, 0 },
		{ 0, 0x7fffffff, 1 },          /* 2^31 - 1 ahead is still ahead */
		{ 0x7fffffff, 0, 0 },
		{ 0x80000001, 0, 1 },          /* 2^31 - 1 ahead, across the wrap */
		{ 0, 0x80000001, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t a = v[i].a, b = v[i].b;

		if (seq_lt(a, b) != v[i].lt || seq_le(a, b) != v[i].lt ||
		    seq_gt(a, b) != !v[i].lt || seq_ge(a, b) != !v[i].lt)
			fail_msg("case %zu: %#x vs %#x", i, a, b);
	}
	for (i = 0; i < 64; i++) {
		uint32_t a = 0xffffffe0u + (uint32_t)i;

		assert_false(seq_lt(a, a));
		assert_true(seq_le(a, a));
		assert_false(seq_gt(a, a));
		assert_true(seq_ge(a, a));
		assert_true(seq_lt(a, a + 1));
		assert_true(seq_gt(a + 1, a));
		assert_true(seq_lt(a - 0x7fffffff, a));
	}
	/* Exactly 2^31 apart the order is undefined (RFC 1982 3.2); these
	 * helpers call each side less than the other. Callers keep windows
	 * below 2^31 (RFC 7323 2.3 caps them at 2^30). */
	assert_true(seq_lt(0, 0x80000000));
	assert_true(seq_lt(0x80000000, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_parse_linux_syn),
		cmocka_unit_test(test_tcp_parse_synack_nosack),
		cmocka_unit_test(test_tcp_parse_data_ts_sack),
		cmocka_unit_test(test_tcp_parse_full_header),
		cmocka_unit_test(test_tcp_emit_matches_vectors),
		cmocka_unit_test(test_tcp_syn_option_combinations),
		cmocka_unit_test(test_tcp_data_ts_sack_roundtrip),
		cmocka_unit_test(test_tcp_emit_option_selection),
		cmocka_unit_test(test_tcp_flags_and_reserved),
		cmocka_unit_test(test_tcp_emit_payload_placement),
		cmocka_unit_test(test_tcp_emit_capacity),
		cmocka_unit_test(test_tcp_emit_checksum_reference),
		cmocka_unit_test(test_tcp_truncated),
		cmocka_unit_test(test_tcp_data_offset),
		cmocka_unit_test(test_tcp_bad_checksum),
		cmocka_unit_test(test_tcp_out_untouched_on_drop),
		cmocka_unit_test(test_tcp_hostile_options),
		cmocka_unit_test(test_tcp_option_prefixes),
		cmocka_unit_test(test_tcp_option_bytes_sweep),
		cmocka_unit_test(test_seq_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
