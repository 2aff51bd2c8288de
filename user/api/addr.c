/* struct xs_addr (include/xdpstack/addr.h): either family in 16 bytes, IPv4
 * as IPv4-mapped; conversions and text forms through inet_pton/inet_ntop. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <xdpstack/addr.h>

void xs_addr_from_ip4(struct xs_addr *out, uint32_t ip)
{
	memset(out, 0, sizeof(*out));
	out->family = XS_AF_INET4;
	out->a[10] = 0xff;
	out->a[11] = 0xff;
	out->a[12] = (uint8_t)(ip >> 24);
	out->a[13] = (uint8_t)(ip >> 16);
	out->a[14] = (uint8_t)(ip >> 8);
	out->a[15] = (uint8_t)ip;
}

uint32_t xs_addr_ip4(const struct xs_addr *a)
{
	if (a->family != XS_AF_INET4)
		return 0;
	return (uint32_t)a->a[12] << 24 | (uint32_t)a->a[13] << 16 | (uint32_t)a->a[14] << 8 |
	       a->a[15];
}

void xs_addr_from_ip6(struct xs_addr *out, const uint8_t a[16])
{
	out->family = XS_AF_INET6;
	memcpy(out->a, a, 16);
}

int xs_addr_parse(const char *s, struct xs_addr *out)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		xs_addr_from_ip4(out, ntohl(a4.s_addr));
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -EINVAL;
	xs_addr_from_ip6(out, a6.s6_addr);
	/* ::ffff:a.b.c.d names an IPv4 host: one form for it. */
	if (!memcmp(out->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		out->family = XS_AF_INET4;
	return 0;
}

const char *xs_addr_format(const struct xs_addr *a, char *buf, size_t len)
{
	if (!len)
		return buf;
	buf[0] = 0;
	if (a->family == XS_AF_INET4)
		inet_ntop(AF_INET, a->a + 12, buf, (socklen_t)len);
	else if (a->family == XS_AF_INET6)
		inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
	return buf;
}

int xs_addr_eq(const struct xs_addr *a, const struct xs_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, sizeof(a->a));
}
