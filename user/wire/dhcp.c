/* DHCP messages (RFC 2131 2, RFC 2132): the BOOTP header, the magic cookie and a
 * walk of the options that refuses any that runs past the end, and the emitter. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/dhcp.h"

enum {
	OPT_PAD = 0,
	OPT_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_REQ_IP = 50,
	OPT_LEASE = 51,
	OPT_TYPE = 53,
	OPT_SERVER = 54,
	OPT_PARAMS = 55,
	OPT_MAX_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_END = 255,
};

bool dhcp_addr_usable(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return top != 0 && top != 127 && top < 224;
}

/* A 4-byte option kept once: its bit and field. */
static enum xs_drop dhcp_opt_u32(const uint8_t *v, uint8_t len, unsigned bit, uint32_t *field,
				 struct dhcp_msg *m)
{
	if (len != 4 || (m->opts & bit))
		return XS_DROP_DHCP_OPT_BAD;
	m->opts |= bit;
	*field = ld_be32(v);
	return XS_DROP_NONE;
}

static enum xs_drop dhcp_opt(uint8_t code, const uint8_t *v, uint8_t len, struct dhcp_msg *m)
{
	switch (code) {
	case OPT_MASK:
		return dhcp_opt_u32(v, len, DHCP_HAS_MASK, &m->mask, m);
	case OPT_ROUTER: /* RFC 2132 3.5: a list, preferred first */
		if (len < 4 || len % 4 || (m->opts & DHCP_HAS_ROUTER))
			return XS_DROP_DHCP_OPT_BAD;
		m->opts |= DHCP_HAS_ROUTER;
		m->router = ld_be32(v);
		return XS_DROP_NONE;
	case OPT_DNS: /* RFC 2132 3.8 */
		if (len < 4 || len % 4 || (m->opts & DHCP_HAS_DNS))
			return XS_DROP_DHCP_OPT_BAD;
		m->opts |= DHCP_HAS_DNS;
		for (unsigned i = 0; i < len / 4u && m->dns_n < DHCP_MAX_DNS; i++)
			m->dns[m->dns_n++] = ld_be32(v + 4 * i);
		return XS_DROP_NONE;
	case OPT_REQ_IP:
		return dhcp_opt_u32(v, len, DHCP_HAS_REQ_IP, &m->req_ip, m);
	case OPT_LEASE:
		return dhcp_opt_u32(v, len, DHCP_HAS_LEASE, &m->lease, m);
	case OPT_SERVER:
		return dhcp_opt_u32(v, len, DHCP_HAS_SERVER, &m->server, m);
	case OPT_T1:
		return dhcp_opt_u32(v, len, DHCP_HAS_T1, &m->t1, m);
	case OPT_T2:
		return dhcp_opt_u32(v, len, DHCP_HAS_T2, &m->t2, m);
	case OPT_TYPE: /* RFC 2132 9.6 */
		if (len != 1 || m->type)
			return XS_DROP_DHCP_OPT_BAD;
		if (v[0] < DHCPDISCOVER || v[0] > DHCPINFORM)
			return XS_DROP_DHCP_TYPE;
		m->type = v[0];
		return XS_DROP_NONE;
	default:
		return XS_DROP_NONE;
	}
}

enum xs_drop dhcp_parse(const uint8_t *b, size_t n, struct dhcp_msg *m)
{
	size_t p = DHCP_MIN_LEN;
	enum xs_drop why;

	memset(m, 0, sizeof(*m));
	if (n < DHCP_MIN_LEN)
		return XS_DROP_DHCP_SHORT;
	if (ld_be32(b + 236) != DHCP_MAGIC)
		return XS_DROP_DHCP_COOKIE; /* RFC 2131 3: plain BOOTP is not served */
	if (b[1] != 1 || b[2] != 6)
		return XS_DROP_DHCP_HTYPE;
	m->op = b[0];
	m->xid = ld_be32(b + 4);
	m->secs = ld_be16(b + 8);
	m->flags = ld_be16(b + 10);
	m->ciaddr = ld_be32(b + 12);
	m->yiaddr = ld_be32(b + 16);
	m->siaddr = ld_be32(b + 20);
	m->giaddr = ld_be32(b + 24);
	memcpy(m->chaddr, b + 28, 6);
	/* RFC 2132 2: code, length, value; PAD and END are one byte. */
	for (;;) {
		uint8_t code, len;

		if (p >= n)
			return XS_DROP_DHCP_NO_END;
		code = b[p];
		if (code == OPT_END)
			break;
		if (code == OPT_PAD) {
			p++;
			continue;
		}
		if (p + 2 > n)
			return XS_DROP_DHCP_OPT_LEN;
		len = b[p + 1];
		if (p + 2 + len > n)
			return XS_DROP_DHCP_OPT_LEN;
		why = dhcp_opt(code, b + p + 2, len, m);
		if (why)
			return why;
		p += 2 + (size_t)len;
	}
	if (!m->type)
		return XS_DROP_DHCP_TYPE;
	return XS_DROP_NONE;
}

static uint8_t *put_u32(uint8_t *q, uint8_t code, uint32_t v)
{
	q[0] = code;
	q[1] = 4;
	st_be32(q + 2, v);
	return q + 6;
}

size_t dhcp_emit(const struct dhcp_msg *m, uint8_t *b, size_t cap)
{
	/* fixed part, type, 7 u32 options, DNS list, client id, params, END */
	size_t need = DHCP_MIN_LEN + 3 + 7 * 6 + 2 + 4 * DHCP_MAX_DNS + 9 + 2 + 6 + 4 + 1;
	uint8_t *q;
	size_t len;

	if (cap < need || cap < DHCP_EMIT_MIN)
		return 0;
	memset(b, 0, DHCP_MIN_LEN);
	b[0] = m->op;
	b[1] = 1;
	b[2] = 6;
	st_be32(b + 4, m->xid);
	st_be16(b + 8, m->secs);
	st_be16(b + 10, m->flags);
	st_be32(b + 12, m->ciaddr);
	st_be32(b + 16, m->yiaddr);
	st_be32(b + 20, m->siaddr);
	st_be32(b + 24, m->giaddr);
	memcpy(b + 28, m->chaddr, 6);
	st_be32(b + 236, DHCP_MAGIC);
	q = b + DHCP_MIN_LEN;
	*q++ = OPT_TYPE;
	*q++ = 1;
	*q++ = m->type;
	if (m->op == BOOTREQUEST) {
		/* RFC 2132 9.14: hardware type and address */
		*q++ = OPT_CLIENT_ID;
		*q++ = 7;
		*q++ = 1;
		memcpy(q, m->chaddr, 6);
		q += 6;
		/* RFC 2132 9.10: we take 576-byte messages (the IPv4 minimum) */
		*q++ = OPT_MAX_SIZE;
		*q++ = 2;
		st_be16(q, 576);
		q += 2;
		*q++ = OPT_PARAMS;
		*q++ = 6;
		*q++ = OPT_MASK;
		*q++ = OPT_ROUTER;
		*q++ = OPT_DNS;
		*q++ = OPT_LEASE;
		*q++ = OPT_T1;
		*q++ = OPT_T2;
	}
	if (m->opts & DHCP_HAS_MASK)
		q = put_u32(q, OPT_MASK, m->mask);
	if (m->opts & DHCP_HAS_ROUTER)
		q = put_u32(q, OPT_ROUTER, m->router);
	if ((m->opts & DHCP_HAS_DNS) && m->dns_n) {
		unsigned k = m->dns_n < DHCP_MAX_DNS ? m->dns_n : DHCP_MAX_DNS;

		*q++ = OPT_DNS;
		*q++ = (uint8_t)(4 * k);
		for (unsigned i = 0; i < k; i++, q += 4)
			st_be32(q, m->dns[i]);
	}
	if (m->opts & DHCP_HAS_REQ_IP)
		q = put_u32(q, OPT_REQ_IP, m->req_ip);
	if (m->opts & DHCP_HAS_LEASE)
		q = put_u32(q, OPT_LEASE, m->lease);
	if (m->opts & DHCP_HAS_SERVER)
		q = put_u32(q, OPT_SERVER, m->server);
	if (m->opts & DHCP_HAS_T1)
		q = put_u32(q, OPT_T1, m->t1);
	if (m->opts & DHCP_HAS_T2)
		q = put_u32(q, OPT_T2, m->t2);
	*q++ = OPT_END;
	len = (size_t)(q - b);
	if (len < DHCP_EMIT_MIN) {
		memset(q, 0, DHCP_EMIT_MIN - len);
		len = DHCP_EMIT_MIN;
	}
	return len;
}
