/* libFuzzer target: bytes as one DNS message through dns_parse (RFC 1035 4.1),
 * with the repr's bounds checked and every kept name re-encoded as text.
 *
 * Checks: only DNS_* drop reasons; kept records within DNS_MAX_RRS; every
 * name (question, owners, CNAME targets) is well formed: labels of at most
 * 63 bytes ending in the root within its length, at most 255 octets, and its
 * text form converts back to the same wire form when it has only host
 * characters; the sections lie within the input, and a message cut short
 * is never accepted unless TC says so (bytes after the sections are ignored). */
#include <string.h>

#include "fuzz.h"
#include "wire/dns.h"

static void check_name(const struct dns_name *n)
{
	size_t p = 0;
	char text[DNS_NAME_MAX + 2];
	struct dns_name back;

	FUZZ_CHECK(n->len >= 1 && n->len <= DNS_NAME_MAX);
	while (n->b[p]) {
		FUZZ_CHECK(n->b[p] <= DNS_LABEL_MAX);
		p += 1 + (size_t)n->b[p];
		FUZZ_CHECK(p < n->len);
	}
	FUZZ_CHECK(p + 1 == n->len);
	if (dns_name_to_text(n, text, sizeof(text)) && !strchr(text, '?') && n->len > 1) {
		FUZZ_CHECK(dns_name_from_text(text, &back) == 0);
		FUZZ_CHECK(dns_name_eq(&back, n));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg m;
	uint8_t *b = malloc(size ? size : 1);
	enum xs_drop d;

	if (!b)
		return 0;
	memcpy(b, data, size);
	d = dns_parse(b, size, &m);
	FUZZ_CHECK(d == XS_DROP_NONE || (d >= XS_DROP_DNS_SHORT && d <= XS_DROP_DNS_RDATA) ||
		   d == XS_DROP_DNS_QDCOUNT);
	if (!d) {
		FUZZ_CHECK(m.an_n <= DNS_MAX_RRS);
		check_name(&m.qname);
		for (unsigned i = 0; i < m.an_n; i++) {
			check_name(&m.an[i].owner);
			if (m.an[i].type == DNS_TYPE_CNAME)
				check_name(&m.an[i].target);
			else
				FUZZ_CHECK(m.an[i].type == DNS_TYPE_A);
			FUZZ_CHECK(m.an[i].ttl <= 0x7fffffffu);
		}
		FUZZ_CHECK(m.len >= DNS_HDR_LEN && m.len <= size);
		/* The message cut by a byte of what the sections used: never
		 * accepted unless truncated (TC) and cut at a record boundary. */
		if (m.len == size && dns_parse(b, size - 1, &m) == XS_DROP_NONE)
			FUZZ_CHECK(m.tc);
	}
	free(b);
	return 0;
}
