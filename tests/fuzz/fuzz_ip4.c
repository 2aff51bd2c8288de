/* libFuzzer target: bytes as an IPv4 packet (options included) through
 * ip4_parse, and every accepted header emitted again and re-parsed.
 *
 * Random bytes rarely carry a right header checksum, so each input is parsed
 * twice: as it is, and with the checksum fixed over the IHL it claims, so the
 * accept path and emit are reached. Checks: only the documented drop reasons;
 * an accepted header lies within the input (20 <= hdr_len <= total_len <= n,
 * hdr_len a multiple of 4) and its repr matches the bytes; ip4_emit writes
 * the same fields (a 20-byte header: options are not re-emitted) with a valid
 * checksum, and parsing that gives the same repr. */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"

static void roundtrip(const struct ip4_repr *in, const uint8_t *b)
{
	uint8_t out[IP4_HDR_LEN + 8];
	struct ip4_repr e = *in, r;
	size_t pl = ip4_payload_len(in) < 8 ? ip4_payload_len(in) : 8;

	e.total_len = (uint16_t)(IP4_HDR_LEN + pl);
	FUZZ_CHECK(ip4_emit(&e, out, IP4_HDR_LEN - 1) == 0);
	FUZZ_CHECK(ip4_emit(&e, out, sizeof(out)) == IP4_HDR_LEN);
	memcpy(out + IP4_HDR_LEN, b + in->hdr_len, pl);
	/* The fixed part of the header is the input's, but for IHL, total
	 * length and checksum. */
	FUZZ_CHECK(out[0] == 0x45 && (b[0] >> 4) == 4);
	FUZZ_CHECK(out[1] == b[1] && !memcmp(out + 4, b + 4, 6) && !memcmp(out + 12, b + 12, 8));
	FUZZ_CHECK(ld_be16(out + 2) == IP4_HDR_LEN + pl);
	FUZZ_CHECK(csum_fold(csum_add(0, out, IP4_HDR_LEN)) == 0);
	memset(&r, 0xa5, sizeof(r));
	FUZZ_CHECK(ip4_parse(out, IP4_HDR_LEN + pl, &r) == XS_DROP_NONE);
	FUZZ_CHECK(r.hdr_len == IP4_HDR_LEN && r.total_len == e.total_len);
	FUZZ_CHECK(r.tos == in->tos && r.id == in->id && r.frag == in->frag && r.ttl == in->ttl &&
		   r.proto == in->proto && r.src == in->src && r.dst == in->dst);
	FUZZ_CHECK(ip4_is_fragment(&r) == ip4_is_fragment(in));
}

static void parse_one(const uint8_t *b, size_t n)
{
	struct ip4_repr r;
	enum xs_drop d = ip4_parse(b, n, &r);

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_IP_SHORT || d == XS_DROP_IP_VERSION ||
		   d == XS_DROP_IP_HDR_LEN || d == XS_DROP_IP_TOTAL_LEN || d == XS_DROP_IP_CSUM);
	if (d)
		return;
	FUZZ_CHECK(r.hdr_len >= IP4_HDR_LEN && r.hdr_len <= 60 && r.hdr_len % 4 == 0);
	FUZZ_CHECK(r.hdr_len == (b[0] & 0x0f) * 4u);
	FUZZ_CHECK(r.total_len >= r.hdr_len && r.total_len <= n);
	FUZZ_CHECK(r.total_len == ld_be16(b + 2) && r.frag == ld_be16(b + 6));
	FUZZ_CHECK(r.src == ld_be32(b + 12) && r.dst == ld_be32(b + 16) && r.proto == b[9]);
	FUZZ_CHECK(csum_fold(csum_add(0, b, r.hdr_len)) == 0);
	roundtrip(&r, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	size_t ihl;

	if (!b)
		return 0;
	memcpy(b, data, size);
	parse_one(b, size);
	if (size >= IP4_HDR_LEN) {
		ihl = (b[0] & 0x0fu) * 4u;
		if (ihl >= IP4_HDR_LEN && ihl <= size) {
			st_be16(b + 10, 0);
			st_be16(b + 10, csum_fold(csum_add(0, b, ihl)));
			parse_one(b, size);
		}
	}
	free(b);
	return 0;
}
