/* libFuzzer target: arbitrary bytes as a TCP stream into the sockperf
 * service's framing (user/app/svc_sockperf.c), cut into pieces the input picks.
 *
 * Input: byte 0 scales the maximum message length (14 + 257 * b), byte 1
 * seeds the piece sizes (1..SP_CHUNK, from a xorshift), the rest is the
 * stream. After every piece the replies queued must fit the bound the
 * connection's buffer relies on (piece + 13 bytes); a rejected length must
 * come from a header that really is out of bounds, and ends the stream. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The framing is static in the service. */
#include "app/svc_sockperf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct svc_sockperf s; /* only cfg and counters are used */
	struct sp_conn c;
	uint32_t x;
	size_t pos = 2;

	if (size < 2)
		return 0;
	memset(&s.ctr, 0, sizeof(s.ctr));
	s.cfg.max_msg = SP_HDR_LEN + 257u * data[0];
	memset(&c, 0, sizeof(c));
	x = 0x9e3779b9u ^ data[1];
	while (pos < size) {
		size_t n;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = 1 + (data[1] & 1 ? x % 7 : x % SP_CHUNK);
		if (n > size - pos)
			n = size - pos;
		if (sp_stream_feed(&s, &c, data + pos, n)) {
			uint32_t len = sp_ld32(c.hdr + SP_OFF_LEN);

			assert(c.hdr_have == SP_HDR_LEN);
			assert(len < SP_HDR_LEN || len > s.cfg.max_msg);
			assert(s.ctr[SP_drop_tcp_bad_len] == 1);
			return 0;
		}
		assert(c.pending <= n + SP_HDR_LEN - 1);
		assert(c.hdr_have <= SP_HDR_LEN);
		assert(c.remain < s.cfg.max_msg);
		c.pending = 0;
		pos += n;
	}
	assert(s.ctr[SP_tcp_replies] <= s.ctr[SP_tcp_msgs]);
	return 0;
}
