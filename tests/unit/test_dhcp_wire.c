/* Unit tests of the DHCP message parser and emitter (user/wire/dhcp.c): a good
 * offer round-trips, and a table of malformed messages, each refused by reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/dhcp.h"

/* Parses from a heap copy of exactly n bytes, so ASan sees any over-read. */
static enum xs_drop parse(const uint8_t *msg, size_t n, struct dhcp_msg *m)
{
	uint8_t *b = malloc(n ? n : 1);
	enum xs_drop d;

	memcpy(b, msg, n);
	d = dhcp_parse(b, n, m);
	free(b);
	return d;
}

static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static size_t offer(uint8_t *b, size_t cap)
{
	struct dhcp_msg m = {
		.op = BOOTREPLY,
		.xid = 0xdeadbeef,
		.yiaddr = 0x0a000064,
		.siaddr = 0x0a000001,
		.type = DHCPOFFER,
		.opts = DHCP_HAS_MASK | DHCP_HAS_ROUTER | DHCP_HAS_DNS | DHCP_HAS_LEASE |
			DHCP_HAS_SERVER | DHCP_HAS_T1 | DHCP_HAS_T2,
		.mask = 0xffffff00,
		.router = 0x0a000001,
		.server = 0x0a000001,
		.lease = 120,
		.t1 = 60,
		.t2 = 105,
		.dns = { 0x0a000001, 0x0a000002 },
		.dns_n = 2,
	};

	memcpy(m.chaddr, mac, 6);
	return dhcp_emit(&m, b, cap);
}

static void test_offer_round_trip(void **state)
{
	uint8_t b[576];
	struct dhcp_msg m;
	size_t n = offer(b, sizeof(b));

	(void)state;
	assert_true(n >= DHCP_EMIT_MIN);
	assert_int_equal(parse(b, n, &m), XS_DROP_NONE);
	assert_int_equal(m.op, BOOTREPLY);
	assert_int_equal(m.xid, 0xdeadbeef);
	assert_int_equal(m.type, DHCPOFFER);
	assert_int_equal(m.yiaddr, 0x0a000064);
	assert_memory_equal(m.chaddr, mac, 6);
	assert_int_equal(m.mask, 0xffffff00);
	assert_int_equal(m.router, 0x0a000001);
	assert_int_equal(m.server, 0x0a000001);
	assert_int_equal(m.lease, 120);
	assert_int_equal(m.t1, 60);
	assert_int_equal(m.t2, 105);
	assert_int_equal(m.dns_n, 2);
	assert_int_equal(m.dns[1], 0x0a000002);
	assert_false(m.opts & DHCP_HAS_REQ_IP);
	assert_int_equal(dhcp_emit(&m, b, 100), 0); /* too small a buffer */
}

static void test_request_has_client_id(void **state)
{
	uint8_t b[576];
	struct dhcp_msg m = { .op = BOOTREQUEST, .xid = 7, .type = DHCPREQUEST,
			      .opts = DHCP_HAS_REQ_IP | DHCP_HAS_SERVER,
			      .req_ip = 0x0a000064, .server = 0x0a000001 };
	size_t n;

	(void)state;
	memcpy(m.chaddr, mac, 6);
	n = dhcp_emit(&m, b, sizeof(b));
	assert_int_equal(n, DHCP_EMIT_MIN);
	assert_int_equal(b[243], 61); /* client identifier right after the type */
	assert_int_equal(parse(b, n, &m), XS_DROP_NONE);
	assert_int_equal(m.req_ip, 0x0a000064);
	assert_int_equal(m.type, DHCPREQUEST);
}

/* The offer with its options replaced by opts[0..len). */
static size_t with_opts(uint8_t *b, const uint8_t *opts, size_t len)
{
	offer(b, 576);
	memcpy(b + DHCP_MIN_LEN, opts, len);
	return DHCP_MIN_LEN + len;
}

static void test_malformed(void **state)
{
	static const struct {
		const char *what;
		uint8_t opts[16];
		size_t len;
		enum xs_drop why;
	} cases[] = {
		{ "option runs past the end", { 53, 1, 2, 6, 8, 10, 0, 0, 1 }, 9,
		  XS_DROP_DHCP_OPT_LEN },
		{ "length byte missing", { 53, 1, 2, 6 }, 4, XS_DROP_DHCP_OPT_LEN },
		{ "no END", { 53, 1, 2, 0, 0 }, 5, XS_DROP_DHCP_NO_END },
		{ "no options at all", { 0 }, 0, XS_DROP_DHCP_NO_END },
		{ "mask of 3 bytes", { 53, 1, 2, 1, 3, 255, 255, 255, 255 }, 9,
		  XS_DROP_DHCP_OPT_BAD },
		{ "DNS of 6 bytes", { 53, 1, 2, 6, 6, 1, 2, 3, 4, 5, 6, 255 }, 12,
		  XS_DROP_DHCP_OPT_BAD },
		{ "type twice", { 53, 1, 2, 53, 1, 5, 255 }, 7, XS_DROP_DHCP_OPT_BAD },
		{ "lease twice", { 53, 1, 2, 51, 4, 0, 0, 0, 9, 51, 4, 0, 0, 1, 0, 255 }, 16,
		  XS_DROP_DHCP_OPT_BAD },
		{ "type 0", { 53, 1, 0, 255 }, 4, XS_DROP_DHCP_TYPE },
		{ "type 9", { 53, 1, 9, 255 }, 4, XS_DROP_DHCP_TYPE },
		{ "type of 2 bytes", { 53, 2, 2, 2, 255 }, 5, XS_DROP_DHCP_OPT_BAD },
		{ "no type", { 1, 4, 255, 255, 255, 0, 255 }, 7, XS_DROP_DHCP_TYPE },
	};
	uint8_t b[576];
	struct dhcp_msg m;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = with_opts(b, cases[i].opts, cases[i].len);
		print_message("%s\n", cases[i].what);
		assert_int_equal(parse(b, n, &m), cases[i].why);
	}
	/* Unknown options are skipped, PADs too. */
	n = with_opts(b, (const uint8_t[]){ 0, 0, 200, 3, 1, 2, 3, 53, 1, 5, 255 }, 11);
	assert_int_equal(parse(b, n, &m), XS_DROP_NONE);
	assert_int_equal(m.type, DHCPACK);
	/* The fixed part. */
	n = offer(b, sizeof(b));
	assert_int_equal(parse(b, DHCP_MIN_LEN - 1, &m), XS_DROP_DHCP_SHORT);
	assert_int_equal(parse(b, 0, &m), XS_DROP_DHCP_SHORT);
	b[236] ^= 1;
	assert_int_equal(parse(b, n, &m), XS_DROP_DHCP_COOKIE);
	b[236] ^= 1;
	b[2] = 16;
	assert_int_equal(parse(b, n, &m), XS_DROP_DHCP_HTYPE);
}

static void test_addr_usable(void **state)
{
	(void)state;
	assert_true(dhcp_addr_usable(0x0a000064));
	assert_false(dhcp_addr_usable(0));
	assert_false(dhcp_addr_usable(0xffffffff));
	assert_false(dhcp_addr_usable(0x7f000001));
	assert_false(dhcp_addr_usable(0xe0000001));
	assert_false(dhcp_addr_usable(0x00000005));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_round_trip),
		cmocka_unit_test(test_request_has_client_id),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_addr_usable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
