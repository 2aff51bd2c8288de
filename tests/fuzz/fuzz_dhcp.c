/* libFuzzer target: bytes as one DHCP message (a UDP payload) through dhcp_parse
 * (RFC 2131 2, RFC 2132), on an exact-size heap copy so ASan sees any over-read.
 *
 * Checks: only DHCP_* drop reasons; an accepted message has a known type and
 * at most DHCP_MAX_DNS servers kept, and round-trips: emit -> parse gives the
 * same repr; and the message cut by one byte is never accepted when its END
 * was the last byte (the walk needs END within the bytes given). */
#include <string.h>

#include "fuzz.h"
#include "wire/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_msg m, back;
	static uint8_t out[576];
	uint8_t *b = malloc(size ? size : 1);
	enum xs_drop d;
	size_t n;

	if (!b)
		return 0;
	memcpy(b, data, size);
	d = dhcp_parse(b, size, &m);
	FUZZ_CHECK(d == XS_DROP_NONE || (d >= XS_DROP_DHCP_SHORT && d <= XS_DROP_DHCP_TYPE));
	if (!d) {
		FUZZ_CHECK(size >= DHCP_MIN_LEN);
		FUZZ_CHECK(m.type >= DHCPDISCOVER && m.type <= DHCPINFORM);
		FUZZ_CHECK(m.dns_n <= DHCP_MAX_DNS);
		FUZZ_CHECK(!(m.opts & DHCP_HAS_DNS) == !m.dns_n);
		n = dhcp_emit(&m, out, sizeof(out));
		FUZZ_CHECK(n >= DHCP_EMIT_MIN && n <= sizeof(out));
		FUZZ_CHECK(dhcp_parse(out, n, &back) == XS_DROP_NONE);
		FUZZ_CHECK(memcmp(&m, &back, sizeof(m)) == 0);
		if (b[size - 1] == 255 && dhcp_parse(b, size - 1, &back) == XS_DROP_NONE)
			FUZZ_CHECK(memchr(b + DHCP_MIN_LEN, 255, size - 1 - DHCP_MIN_LEN));
	}
	free(b);
	return 0;
}
