/* libFuzzer target: arbitrary bytes as a TCP segment through tcp_parse, and every
 * accepted segment emitted again, re-parsed and checked field by field.
 *
 * Build and run from the repository root (tests/fuzz/README): `make fuzz`, or
 *
 *   make build/fuzz/fuzz_tcp_wire && mkdir -p build/fuzz/corpus-tcp_wire
 *   build/fuzz/fuzz_tcp_wire -max_total_time=60 build/fuzz/corpus-tcp_wire \
 *     tests/fuzz/corpus/tcp_wire
 *
 * Random bytes almost never carry a right checksum, so each input is parsed
 * twice: as it is (the checksum path), and with the checksum fixed so that the
 * option parser and emit are reached. Both parses run on a heap copy of exactly
 * the input's length, so ASan sees any read past it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/stats.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#define SRC 0xac110002u /* 172.17.0.2 */
#define DST 0xac1100fdu /* 172.17.0.253 */
#define OUT_CAP 1600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* The options a re-parse must find after tcp_emit wrote in's. */
static void check_opts(const struct tcp_repr *in, const struct tcp_opts *got)
{
	const struct tcp_opts *o = &in->opt;
	unsigned i, nsack;

	check(got->ts_ok == o->ts_ok);
	if (o->ts_ok)
		check(got->tsval == o->tsval && got->tsecr == o->tsecr);
	if (in->flags & TCP_SYN) {
		check(got->mss_ok == o->mss_ok && got->ws_ok == o->ws_ok &&
		      got->sack_ok == o->sack_ok && got->nsack == 0);
		if (o->mss_ok)
			check(got->mss == o->mss);
		if (o->ws_ok)
			check(got->ws == o->ws);
		return;
	}
	check(!got->mss_ok && !got->ws_ok && !got->sack_ok);
	nsack = o->nsack < (o->ts_ok ? 3u : 4u) ? o->nsack : (o->ts_ok ? 3u : 4u);
	check(got->nsack == nsack);
	for (i = 0; i < nsack; i++)
		check(got->sack[i].left == o->sack[i].left &&
		      got->sack[i].right == o->sack[i].right);
}

static void roundtrip(const struct tcp_repr *in)
{
	static uint8_t out[OUT_CAP], again[OUT_CAP];
	struct tcp_repr r, r2;
	size_t olen = tcp_opts_len(in);
	size_t want = TCP_HDR_LEN + olen + in->payload_len;
	size_t n;

	check(olen <= TCP_MAX_OPT_LEN && olen % 4 == 0);
	check(in->opt.nsack <= TCP_MAX_SACK);
	n = tcp_emit(in, SRC, DST, out, sizeof(out));
	if (want > sizeof(out)) {
		check(n == 0);
		return;
	}
	check(n == want);
	check(tcp_parse(out, n, SRC, DST, &r) == XS_DROP_NONE);
	check(r.sport == in->sport && r.dport == in->dport);
	check(r.seq == in->seq && r.ack == in->ack);
	check(r.flags == in->flags && r.wnd == in->wnd && r.urp == in->urp);
	check(r.hdr_len == TCP_HDR_LEN + olen);
	check(r.payload_len == in->payload_len);
	check(!r.payload_len || memcmp(r.payload, in->payload, r.payload_len) == 0);
	check_opts(in, &r.opt);

	/* What was emitted once emits the same again, with the payload in place
	 * this time (no copy). */
	check(tcp_opts_len(&r) == olen);
	memcpy(again, out, n);
	r2 = r;
	r2.payload = again + r.hdr_len;
	check(tcp_emit(&r2, SRC, DST, again, sizeof(again)) == n);
	check(memcmp(again, out, n) == 0);
}

static void parse_one(const uint8_t *b, size_t n)
{
	struct tcp_repr r;
	enum xs_drop d;

	d = tcp_parse(b, n, SRC, DST, &r);
	check(d == XS_DROP_NONE || d == XS_DROP_TCP_SHORT || d == XS_DROP_TCP_HDR_LEN ||
	      d == XS_DROP_TCP_CSUM);
	if (d != XS_DROP_NONE)
		return;
	check(r.hdr_len >= TCP_HDR_LEN && r.hdr_len <= TCP_MAX_HDR_LEN && r.hdr_len <= n);
	check(r.payload == b + r.hdr_len && r.payload_len == n - r.hdr_len);
	roundtrip(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	parse_one(b, size);
	if (size >= TCP_HDR_LEN && size <= 0xffff) {
		uint32_t sum = csum_pseudo4(SRC, DST, IP4_PROTO_TCP, (uint16_t)size);

		st_be16(b + 16, 0);
		st_be16(b + 16, csum_fold(csum_add(sum, b, size)));
		parse_one(b, size);
	}
	free(b);
	return 0;
}
