/* DNS messages (RFC 1035 4.1): a strict parser that walks every record of a
 * reply and keeps a bounded repr, and the emitter of one-question queries. */
#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/dns.h"

#define DNS_PTR_MASK 0xc0

static uint8_t dns_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* RFC 1035 4.1.4: reads the name at *pos into out (may be NULL) and moves *pos
 * past it (past the first pointer if any). Each pointer must point before
 * the place the walk last landed (the name's start at first): so the walk
 * only goes backward, which bounds it and refuses loops, and a compressor
 * only ever points to names written earlier. */
static enum xs_drop dns_name_read(const uint8_t *b, size_t n, size_t *pos, struct dns_name *out)
{
	size_t p = *pos, floor = *pos, len = 0, end = 0;
	bool jumped = false;
	uint8_t l;

	for (;;) {
		if (p >= n)
			return XS_DROP_DNS_SHORT;
		l = b[p];
		if ((l & DNS_PTR_MASK) == DNS_PTR_MASK) {
			size_t t;

			if (p + 2 > n)
				return XS_DROP_DNS_SHORT;
			t = (size_t)(ld_be16(b + p) & 0x3fff);
			if (t >= n)
				return XS_DROP_DNS_PTR_PAST_END;
			if (t >= p)
				return XS_DROP_DNS_PTR_FORWARD;
			if (t >= floor)
				return XS_DROP_DNS_PTR_LOOP;
			if (!jumped)
				end = p + 2;
			jumped = true;
			floor = t;
			p = t;
			continue;
		}
		if (l & DNS_PTR_MASK) /* 01 and 10: reserved (RFC 6891 retired 01) */
			return XS_DROP_DNS_LABEL_LONG;
		if (len + 1 + l > DNS_NAME_MAX)
			return XS_DROP_DNS_NAME_LONG;
		if (p + 1 + l > n)
			return XS_DROP_DNS_SHORT;
		if (out) {
			out->b[len] = l;
			for (size_t i = 0; i < l; i++)
				out->b[len + 1 + i] = dns_lower(b[p + 1 + i]);
		}
		len += 1 + (size_t)l;
		p += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (out)
		out->len = (uint8_t)len;
	*pos = jumped ? end : p;
	return XS_DROP_NONE;
}

/* One resource record (RFC 1035 4.1.3) at *pos; keeps A/CNAME of class IN
 * in the answer section and the SOA of the authority section. */
static enum xs_drop dns_rr_read(const uint8_t *b, size_t n, size_t *pos, int section,
				struct dns_msg *m)
{
	struct dns_name owner;
	enum xs_drop why;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	size_t p = *pos, rd, rdend;

	if (p >= n)
		return XS_DROP_DNS_COUNT; /* the counts promised more than is here */
	why = dns_name_read(b, n, &p, &owner);
	if (why)
		return why;
	if (p + 10 > n)
		return XS_DROP_DNS_SHORT;
	type = ld_be16(b + p);
	cls = ld_be16(b + p + 2);
	ttl = ld_be32(b + p + 4);
	rdlen = ld_be16(b + p + 8);
	rd = p + 10;
	rdend = rd + rdlen;
	if (rdend > n)
		return XS_DROP_DNS_RDLEN;
	/* RFC 2181 8: a TTL with the top bit set is taken as zero. */
	if (ttl & 0x80000000u)
		ttl = 0;
	*pos = rdend;
	if (cls != DNS_CLASS_IN)
		return XS_DROP_NONE;
	if (section == 1 && (type == DNS_TYPE_A || type == DNS_TYPE_CNAME)) {
		struct dns_rr *rr = m->an_n < DNS_MAX_RRS ? &m->an[m->an_n] : NULL;
		struct dns_name tmp;

		if (type == DNS_TYPE_A) {
			if (rdlen != 4)
				return XS_DROP_DNS_RDATA;
		} else {
			size_t q = rd;

			why = dns_name_read(b, rdend, &q, rr ? &rr->target : &tmp);
			if (why == XS_DROP_DNS_SHORT)
				why = XS_DROP_DNS_RDATA;
			if (why)
				return why;
			if (q != rdend)
				return XS_DROP_DNS_RDATA;
		}
		if (!rr) {
			m->an_ignored++;
			return XS_DROP_NONE;
		}
		rr->owner = owner;
		rr->type = type;
		rr->ttl = ttl;
		rr->a = type == DNS_TYPE_A ? ld_be32(b + rd) : 0;
		m->an_n++;
	} else if (section == 1) {
		m->an_ignored++;
	} else if (section == 2 && type == DNS_TYPE_SOA) {
		size_t q = rd;

		/* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
		why = dns_name_read(b, rdend, &q, NULL);
		if (!why)
			why = dns_name_read(b, rdend, &q, NULL);
		if (why == XS_DROP_DNS_SHORT || (!why && q + 20 != rdend))
			why = XS_DROP_DNS_RDATA;
		if (why)
			return why;
		if (!m->has_soa) {
			m->has_soa = true;
			m->soa_ttl = ttl;
			m->soa_minimum = ld_be32(b + q + 16);
			if (m->soa_minimum & 0x80000000u)
				m->soa_minimum = 0;
		}
	}
	return XS_DROP_NONE;
}

enum xs_drop dns_parse(const uint8_t *b, size_t n, struct dns_msg *m)
{
	uint16_t flags, cnt[4];
	enum xs_drop why;
	size_t p;
	int s;

	m->an_n = 0;
	m->an_ignored = 0;
	m->has_soa = false;
	m->soa_ttl = m->soa_minimum = 0;
	if (n < DNS_HDR_LEN)
		return XS_DROP_DNS_SHORT;
	m->id = ld_be16(b);
	flags = ld_be16(b + 2);
	m->qr = flags >> 15;
	m->opcode = (flags >> 11) & 0xf;
	m->aa = (flags >> 10) & 1;
	m->tc = (flags >> 9) & 1;
	m->rd = (flags >> 8) & 1;
	m->ra = (flags >> 7) & 1;
	m->rcode = flags & 0xf;
	for (s = 0; s < 4; s++)
		cnt[s] = ld_be16(b + 4 + 2 * s);
	if (cnt[0] != 1)
		return XS_DROP_DNS_QDCOUNT;
	p = DNS_HDR_LEN;
	why = dns_name_read(b, n, &p, &m->qname);
	if (why)
		return why;
	if (p + 4 > n)
		return XS_DROP_DNS_SHORT;
	m->qtype = ld_be16(b + p);
	m->qclass = ld_be16(b + p + 2);
	p += 4;
	/* RFC 1035 4.1.2: a truncated reply may end early; what is there must
	 * still be well formed, and the counts are not held against it. */
	for (s = 1; s < 4; s++) {
		for (unsigned i = 0; i < cnt[s]; i++) {
			if (p == n && m->tc) {
				m->len = p;
				return XS_DROP_NONE;
			}
			why = dns_rr_read(b, n, &p, s, m);
			if (why)
				return why;
		}
	}
	m->len = p;
	return XS_DROP_NONE;
}

size_t dns_query_emit(uint16_t id, const struct dns_name *name, uint16_t qtype, uint8_t *b,
		      size_t cap)
{
	size_t need = DNS_HDR_LEN + name->len + 4;

	if (need > cap || !name->len)
		return 0;
	memset(b, 0, DNS_HDR_LEN);
	st_be16(b, id);
	st_be16(b + 2, 0x0100); /* standard query, recursion desired */
	st_be16(b + 4, 1);
	memcpy(b + DNS_HDR_LEN, name->b, name->len);
	st_be16(b + DNS_HDR_LEN + name->len, qtype);
	st_be16(b + DNS_HDR_LEN + name->len + 2, DNS_CLASS_IN);
	return need;
}

static bool dns_host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_name_from_text(const char *s, struct dns_name *out)
{
	size_t len = 0, slen = strlen(s), i = 0;

	if (slen == 1 && s[0] == '.') {
		out->b[0] = 0;
		out->len = 1;
		return 0;
	}
	if (slen && s[slen - 1] == '.')
		slen--;
	if (!slen)
		return -EINVAL;
	while (i < slen) {
		size_t start = i, l;

		while (i < slen && s[i] != '.')
			i++;
		l = i - start;
		if (l == 0 || l > DNS_LABEL_MAX || len + 1 + l + 1 > DNS_NAME_MAX)
			return -EINVAL;
		out->b[len] = (uint8_t)l;
		for (size_t k = 0; k < l; k++) {
			uint8_t c = dns_lower((uint8_t)s[start + k]);

			if (!dns_host_char(c))
				return -EINVAL;
			out->b[len + 1 + k] = c;
		}
		len += 1 + l;
		i++; /* the dot */
	}
	out->b[len++] = 0;
	out->len = (uint8_t)len;
	return 0;
}

size_t dns_name_to_text(const struct dns_name *n, char *out, size_t cap)
{
	size_t p = 0, o = 0;

	if (n->len <= 1) {
		if (cap < 2)
			return 0;
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	while (p < n->len && n->b[p]) {
		uint8_t l = n->b[p];

		if (p + 1 + l > n->len || o + l + 2 > cap)
			return 0;
		if (o)
			out[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			uint8_t c = n->b[p + 1 + k];

			out[o++] = dns_host_char(c) ? (char)c : '?';
		}
		p += 1 + (size_t)l;
	}
	out[o] = 0;
	return o;
}
