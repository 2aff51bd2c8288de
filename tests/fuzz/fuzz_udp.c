/* libFuzzer target: bytes as an IPv4 payload through udp_parse, and every
 * accepted datagram emitted again and re-parsed.
 *
 * Each input is parsed as it is (the checksum path, including a zero
 * checksum: none sent) and with the checksum fixed over the length the
 * header claims (clamped to the input). Checks: only the documented drop
 * reasons; the payload lies inside the input and inside the UDP length
 * (trailing bytes ignored); emit writes the same ports, length and payload
 * with a checksum that verifies and is never zero (RFC 768); the re-parse
 * gives the same repr. */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/udp.h"

#define SRC 0xac110002u /* 172.17.0.2 */
#define DST 0xac1100fdu /* 172.17.0.253 */
#define OUT_CAP 4200

static void parse_one(const uint8_t *b, size_t n)
{
	static uint8_t out[OUT_CAP];
	struct udp_repr r, r2;
	enum xs_drop d = udp_parse(b, n, SRC, DST, &r);
	size_t len;

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_UDP_SHORT || d == XS_DROP_UDP_LEN ||
		   d == XS_DROP_UDP_CSUM);
	if (d)
		return;
	FUZZ_CHECK(r.sport == ld_be16(b) && r.dport == ld_be16(b + 2));
	FUZZ_CHECK(r.payload == b + UDP_HDR_LEN);
	FUZZ_CHECK(r.payload_len + UDP_HDR_LEN == ld_be16(b + 4) &&
		   r.payload_len + UDP_HDR_LEN <= n);
	len = udp_emit(&r, SRC, DST, out, sizeof(out));
	if (UDP_HDR_LEN + r.payload_len > sizeof(out)) {
		FUZZ_CHECK(len == 0);
		return;
	}
	FUZZ_CHECK(len == UDP_HDR_LEN + r.payload_len);
	FUZZ_CHECK(!memcmp(out, b, 6) && !memcmp(out + 8, b + 8, r.payload_len));
	FUZZ_CHECK(ld_be16(out + 6) != 0);
	FUZZ_CHECK(udp_parse(out, len, SRC, DST, &r2) == XS_DROP_NONE);
	FUZZ_CHECK(r2.sport == r.sport && r2.dport == r.dport && r2.payload_len == r.payload_len &&
		   r2.payload == out + UDP_HDR_LEN);
	/* A receiver may ignore the checksum: the datagram is the same without. */
	out[6] = out[7] = 0;
	FUZZ_CHECK(udp_parse(out, len, SRC, DST, &r2) == XS_DROP_NONE);
	FUZZ_CHECK(r2.payload_len == r.payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	size_t ulen;
	uint16_t c;

	if (!b)
		return 0;
	memcpy(b, data, size);
	parse_one(b, size);
	if (size >= UDP_HDR_LEN) {
		ulen = ld_be16(b + 4);
		if (ulen > size)
			ulen = size;
		if (ulen >= UDP_HDR_LEN) {
			st_be16(b + 6, 0);
			c = csum_fold(csum_add(
			    csum_pseudo4(SRC, DST, IP4_PROTO_UDP, (uint16_t)ulen), b, ulen));
			st_be16(b + 6, c ? c : 0xffff);
			parse_one(b, size);
		}
	}
	free(b);
	return 0;
}
