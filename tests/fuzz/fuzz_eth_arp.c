/* libFuzzer target: bytes as an Ethernet frame through eth_parse (VLAN tags),
 * and what follows the header through arp_parse; accepted headers round-trip.
 *
 * Checks: only the documented drop reasons; the repr stays within the input
 * (hdr_len, tag count, VLAN id); emitting the repr and parsing it again gives
 * the same repr (untagged); an accepted ARP packet emits back to exactly the
 * 28 bytes it was parsed from. Each parse reads a heap copy of exactly the
 * input's length, so ASan sees any read past it. */
#include <string.h>

#include "fuzz.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"

static void arp_check(const uint8_t *b, size_t n)
{
	struct arp_repr r, r2;
	uint8_t out[ARP_LEN];
	enum xs_drop d;

	memset(&r, 0, sizeof(r)); /* padding too: the reprs are compared whole */
	memset(&r2, 0, sizeof(r2));
	d = arp_parse(b, n, &r);

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ARP_SHORT || d == XS_DROP_ARP_FORMAT ||
		   d == XS_DROP_ARP_OP);
	if (d)
		return;
	FUZZ_CHECK(n >= ARP_LEN);
	FUZZ_CHECK(r.op == ARP_OP_REQUEST || r.op == ARP_OP_REPLY);
	FUZZ_CHECK(arp_emit(&r, out, sizeof(out) - 1) == 0);
	FUZZ_CHECK(arp_emit(&r, out, sizeof(out)) == ARP_LEN);
	FUZZ_CHECK(memcmp(out, b, ARP_LEN) == 0);
	FUZZ_CHECK(arp_parse(out, sizeof(out), &r2) == XS_DROP_NONE);
	FUZZ_CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
}

static void eth_check(const uint8_t *b, size_t n)
{
	struct eth_repr r, r2;
	uint8_t out[ETH_HDR_LEN];
	enum xs_drop d;

	memset(&r, 0, sizeof(r));
	d = eth_parse(b, n, &r);
	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ETH_SHORT || d == XS_DROP_ETH_VLAN);
	if (d)
		return;
	FUZZ_CHECK(r.ntags <= 2 && r.hdr_len == ETH_HDR_LEN + 4 * r.ntags && r.hdr_len <= n);
	FUZZ_CHECK(r.type != ETH_TYPE_VLAN && r.type != ETH_TYPE_QINQ);
	FUZZ_CHECK(r.type == ld_be16(b + r.hdr_len - 2));
	FUZZ_CHECK(r.vlan <= 0x0fff && (r.ntags || !r.vlan));
	FUZZ_CHECK(!memcmp(r.dst, b, ETH_ADDR_LEN) && !memcmp(r.src, b + 6, ETH_ADDR_LEN));

	FUZZ_CHECK(eth_emit(&r, out, sizeof(out) - 1) == 0);
	FUZZ_CHECK(eth_emit(&r, out, sizeof(out)) == ETH_HDR_LEN);
	memset(&r2, 0, sizeof(r2));
	FUZZ_CHECK(eth_parse(out, sizeof(out), &r2) == XS_DROP_NONE);
	FUZZ_CHECK(!memcmp(r2.dst, r.dst, ETH_ADDR_LEN) && !memcmp(r2.src, r.src, ETH_ADDR_LEN));
	FUZZ_CHECK(r2.type == r.type && r2.ntags == 0 && r2.vlan == 0 && r2.hdr_len == ETH_HDR_LEN);

	arp_check(b + r.hdr_len, n - r.hdr_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	eth_check(b, size);
	/* The same bytes as a bare ARP packet, the way net/arp.c gets them. */
	arp_check(b, size);
	free(b);
	return 0;
}
