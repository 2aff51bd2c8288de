/* libFuzzer target: the DHCP client state machine (user/net/dhcp.c) driven by a
 * sequence of records: time steps, server messages and ARP sightings.
 *
 * Input: records of [op][len][len bytes]. op % 4: 0 time step of len * 250 ms
 * (no bytes), 1 a message with our xid and chaddr patched in (so replies get
 * past the first check), 2 the message as it is, 3 an ARP from the address on
 * probation (a conflict). After every record the client is polled until it
 * has nothing to send. Checks: a poll round ends (at most 8 outputs at one
 * instant); every message sent parses, is a BOOTREQUEST with our chaddr;
 * the address is nonzero only in BOUND/RENEWING/REBINDING and then usable;
 * BOUND's timers are ordered T1 <= T2 <= expiry; the next timer is never in
 * the past after a poll round unless the client is stopped. */
#include <string.h>

#include "fuzz.h"
#include "net/dhcp.h"
#include "wire/bytes.h"

static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void run_polls(struct dhcp_client *c, xs_time_t now)
{
	static struct dhcp_out o;
	struct dhcp_msg m;
	int n = 0;

	while (dhcp_client_poll(c, now, &o) == 1) {
		FUZZ_CHECK(++n <= 8);
		if (o.kind == DHCP_OUT_MSG) {
			FUZZ_CHECK(dhcp_parse(o.b, o.len, &m) == XS_DROP_NONE);
			FUZZ_CHECK(m.op == BOOTREQUEST && !memcmp(m.chaddr, mac, 6));
		} else {
			FUZZ_CHECK(dhcp_addr_usable(o.ip));
		}
	}
	if (dhcp_client_addr(c)) {
		FUZZ_CHECK(c->state >= DHCP_BOUND);
		FUZZ_CHECK(dhcp_addr_usable(dhcp_client_addr(c)));
		FUZZ_CHECK(c->t1_at <= c->t2_at && c->t2_at <= c->expire_at);
	} else {
		FUZZ_CHECK(c->state < DHCP_BOUND);
	}
	FUZZ_CHECK(dhcp_client_next(c) > now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_client c;
	uint8_t buf[600];
	xs_time_t now = 0;
	size_t p = 0;

	dhcp_client_init(&c, mac, 1);
	dhcp_client_start(&c, 0);
	run_polls(&c, now);
	while (p + 2 <= size) {
		uint8_t op = data[p] % 4, len = data[p + 1];

		p += 2;
		if (op == 0) {
			now += (xs_time_t)len * 250000000ull;
		} else if (op == 3) {
			dhcp_client_arp(&c, c.offer.ip, 0, (const uint8_t[6]){ 2, 9, 9, 9, 9, 9 },
					now);
		} else {
			size_t n = len + 240u <= size - p ? len + 240u : size - p;

			memcpy(buf, data + p, n);
			p += n;
			if (op == 1 && n >= 34) {
				st_be32(buf + 4, c.xid);
				memcpy(buf + 28, mac, 6);
			}
			dhcp_client_input(&c, buf, n, now);
		}
		run_polls(&c, now);
	}
	return 0;
}
