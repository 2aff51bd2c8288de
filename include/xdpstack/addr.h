/* libxdpstack: an address of either family, for the calls that take IPv6
 * (include/xdpstack/ip6.h) beside the IPv4 ones that take a host-order uint32. */
#ifndef XDPSTACK_ADDR_H
#define XDPSTACK_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define XS_AF_INET4 4
#define XS_AF_INET6 6

/* family, and 16 bytes in network order: an IPv6 address as it is, an IPv4
 * address as IPv4-mapped (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so one
 * comparison serves both. */
struct xs_addr {
	uint8_t family;
	uint8_t a[16];
};

/* A host-order IPv4 address as an xs_addr. */
void xs_addr_from_ip4(struct xs_addr *out, uint32_t ip);
/* The IPv4 address (host order) of an XS_AF_INET4 address, 0 otherwise. */
uint32_t xs_addr_ip4(const struct xs_addr *a);
/* 16 network-order bytes as an XS_AF_INET6 address. */
void xs_addr_from_ip6(struct xs_addr *out, const uint8_t a[16]);
/* "192.0.2.1", "2001:db8::1" (an IPv4-mapped IPv6 text becomes XS_AF_INET4).
 * 0, or -EINVAL. */
int xs_addr_parse(const char *s, struct xs_addr *out);
/* Text form into buf (XS_ADDR_STRLEN bytes suffice); returns buf. */
#define XS_ADDR_STRLEN 46
const char *xs_addr_format(const struct xs_addr *a, char *buf, size_t len);
/* Same family and bytes. */
int xs_addr_eq(const struct xs_addr *a, const struct xs_addr *b);

#endif
