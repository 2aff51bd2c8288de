/* libFuzzer target: bytes as an ICMPv4 message through icmp_parse, and the
 * body of every message through icmp_quote_parse (the IPv4 header and 8 bytes
 * an error quotes); accepted messages and quotes round-trip through icmp_emit.
 *
 * Each input is parsed as it is (the checksum path) and with its checksum
 * fixed. Checks: only the documented drop reasons; data and the quoted
 * transport bytes lie inside the input; emit writes back every byte but the
 * checksum (0x0000 and 0xffff both verify) with a valid checksum; a quote
 * wrapped in a new error message parses back to the same quote. */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ip4.h"

#define OUT_CAP 4200

static void quote_check(const uint8_t *b, size_t n)
{
	static uint8_t out[OUT_CAP];
	struct icmp_quote q, q2;
	struct icmp_repr e = {.type = ICMP_DEST_UNREACH, .code = 3}, m;
	enum xs_drop d = icmp_quote_parse(b, n, &q);
	size_t len;

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ICMP_ERR_BAD);
	if (d)
		return;
	FUZZ_CHECK(q.hdr_len >= IP4_HDR_LEN && q.hdr_len <= 60 && q.hdr_len % 4 == 0);
	FUZZ_CHECK(q.l4 == b + q.hdr_len && q.hdr_len + 8u <= n);
	FUZZ_CHECK(q.proto == b[9] && q.src == ld_be32(b + 12) && q.dst == ld_be32(b + 16));

	e.data = b;
	e.data_len = n;
	len = icmp_emit(&e, out, sizeof(out));
	if (ICMP_HDR_LEN + n > sizeof(out)) {
		FUZZ_CHECK(len == 0);
		return;
	}
	FUZZ_CHECK(len == ICMP_HDR_LEN + n);
	FUZZ_CHECK(icmp_parse(out, len, &m) == XS_DROP_NONE);
	FUZZ_CHECK(icmp_quote_parse(m.data, m.data_len, &q2) == XS_DROP_NONE);
	FUZZ_CHECK(q2.hdr_len == q.hdr_len && q2.proto == q.proto && q2.src == q.src &&
		   q2.dst == q.dst && !memcmp(q2.l4, q.l4, 8));
}

static void parse_one(const uint8_t *b, size_t n)
{
	static uint8_t out[OUT_CAP];
	struct icmp_repr m, m2;
	enum xs_drop d = icmp_parse(b, n, &m);
	size_t len;

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ICMP_SHORT || d == XS_DROP_ICMP_CSUM);
	if (d)
		return;
	FUZZ_CHECK(m.type == b[0] && m.code == b[1] && m.rest == ld_be32(b + 4));
	FUZZ_CHECK(m.data == b + ICMP_HDR_LEN && m.data_len == n - ICMP_HDR_LEN);
	len = icmp_emit(&m, out, sizeof(out));
	if (n > sizeof(out)) {
		FUZZ_CHECK(len == 0);
	} else {
		FUZZ_CHECK(len == n);
		FUZZ_CHECK(!memcmp(out, b, 2) && !memcmp(out + 4, b + 4, n - 4));
		FUZZ_CHECK(icmp_parse(out, len, &m2) == XS_DROP_NONE);
		FUZZ_CHECK(m2.type == m.type && m2.code == m.code && m2.rest == m.rest &&
			   m2.data_len == m.data_len);
	}
	/* net/icmp.c reads the body of any error type this way. */
	quote_check(m.data, m.data_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	parse_one(b, size);
	if (size >= ICMP_HDR_LEN) {
		st_be16(b + 2, 0);
		st_be16(b + 2, csum_fold(csum_add(0, b, size)));
		parse_one(b, size);
	}
	free(b);
	return 0;
}
