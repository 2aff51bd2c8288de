/* DHCP messages (RFC 2131 2, RFC 2132): a strict parser of the BOOTP header and
 * its options into a bounded repr, and the emitter of those messages. */
#ifndef XS_WIRE_DHCP_H
#define XS_WIRE_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED_LEN 236 /* BOOTP header up to the options (RFC 2131 2) */
#define DHCP_MIN_LEN 240   /* with the magic cookie */
#define DHCP_EMIT_MIN 300  /* RFC 1542 2.1: relays may drop shorter requests */
#define DHCP_MAGIC 0x63825363u
#define DHCP_MAX_DNS 4 /* DNS servers kept (option 6) */
#define DHCP_LEASE_INFINITE 0xffffffffu
#define DHCP_FLAG_BROADCAST 0x8000

#define BOOTREQUEST 1
#define BOOTREPLY 2

/* Option 53 values (RFC 2132 9.6). */
enum dhcp_type {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK,
	DHCPRELEASE,
	DHCPINFORM,
};

/* Options kept (bits of dhcp_msg.opts). */
#define DHCP_HAS_MASK (1u << 0)	  /* 1 */
#define DHCP_HAS_ROUTER (1u << 1) /* 3: the first router */
#define DHCP_HAS_DNS (1u << 2)	  /* 6 */
#define DHCP_HAS_REQ_IP (1u << 3) /* 50 */
#define DHCP_HAS_LEASE (1u << 4)  /* 51 */
#define DHCP_HAS_SERVER (1u << 5) /* 54 */
#define DHCP_HAS_T1 (1u << 6)	  /* 58 */
#define DHCP_HAS_T2 (1u << 7)	  /* 59 */

struct dhcp_msg {
	uint8_t op;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[6];
	uint8_t type; /* enum dhcp_type */
	unsigned opts;
	uint32_t mask, router, req_ip, server, lease, t1, t2;
	uint32_t dns[DHCP_MAX_DNS];
	unsigned dns_n;
};

/* Parses a UDP payload. Structure only: XS_DROP_NONE or a DHCP_* reason:
 * shorter than the fixed part, no magic cookie, not Ethernet, an option that
 * runs past the end, no END option, a kept option of the wrong length, a
 * value out of range, or repeated, and no or a bad message type. Options
 * not kept are skipped; option overload (52) is not followed (sname and file
 * are never read). Policy (op, xid, chaddr, yiaddr) is the caller's. */
enum xs_drop dhcp_parse(const uint8_t *b, size_t n, struct dhcp_msg *m);

/* Writes m (every option in m->opts, the message type, for a request the
 * client identifier and parameter list, then END), padded to DHCP_EMIT_MIN;
 * bytes or 0 if cap is too small. */
size_t dhcp_emit(const struct dhcp_msg *m, uint8_t *b, size_t cap);

/* A yiaddr a client may take: not 0, 0.x, loopback, multicast/class E or
 * the limited broadcast. */
bool dhcp_addr_usable(uint32_t a);

#endif
