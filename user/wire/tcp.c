/* TCP header and options parse/emit (RFC 9293 3.1, 3.2; RFC 7323; RFC 2018).
 * Every option length is checked against the option area before it is used. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

/* Applies one option whose kind and length (2..n) are already bounds-checked.
 * A known kind with the wrong length is ignored, as Linux does (RFC 9293 3.2
 * MUST-7 only asks that illegal lengths be handled; it suggests a reset). */
static void tcp_opt_apply(const uint8_t *p, uint8_t len, struct tcp_opts *o)
{
	unsigned i;

	switch (p[0]) {
	case TCP_OPT_MSS:
		if (len != TCP_OPT_MSS_LEN)
			return;
		o->mss_ok = 1;
		o->mss = ld_be16(p + 2);
		return;
	case TCP_OPT_WS:
		if (len != TCP_OPT_WS_LEN)
			return;
		o->ws_ok = 1;
		o->ws = p[2];
		return;
	case TCP_OPT_SACK_PERM:
		if (len != TCP_OPT_SACK_PERM_LEN)
			return;
		o->sack_ok = 1;
		return;
	case TCP_OPT_SACK:
		/* RFC 2018 3: 2 + 8n bytes, n = 1..4 (the option area holds no more). */
		if (len < 2 + TCP_OPT_SACK_BLOCK_LEN ||
		    len > 2 + TCP_MAX_SACK * TCP_OPT_SACK_BLOCK_LEN ||
		    (len - 2) % TCP_OPT_SACK_BLOCK_LEN)
			return;
		o->nsack = (uint8_t)((len - 2) / TCP_OPT_SACK_BLOCK_LEN);
		for (i = 0; i < o->nsack; i++) {
			o->sack[i].left = ld_be32(p + 2 + i * TCP_OPT_SACK_BLOCK_LEN);
			o->sack[i].right = ld_be32(p + 6 + i * TCP_OPT_SACK_BLOCK_LEN);
		}
		return;
	case TCP_OPT_TS:
		if (len != TCP_OPT_TS_LEN)
			return;
		o->ts_ok = 1;
		o->tsval = ld_be32(p + 2);
		o->tsecr = ld_be32(p + 6);
		return;
	default:
		return; /* unknown kind: skipped by its length */
	}
}

/* RFC 9293 3.2: walks the option area p[0..n). EOL ends it; a length below 2
 * or past the end ends it too, keeping what was parsed so far. Each step
 * advances by at least one byte, so the walk ends within n steps. */
static void tcp_opts_parse(const uint8_t *p, size_t n, struct tcp_opts *o)
{
	size_t i = 0;
	uint8_t len;

	memset(o, 0, sizeof(*o));
	while (i < n) {
		if (p[i] == TCP_OPT_EOL)
			return;
		if (p[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return;
		len = p[i + 1];
		if (len < 2 || len > n - i)
			return;
		tcp_opt_apply(p + i, len, o);
		i += len;
	}
}

enum xs_drop tcp_parse_unverified(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
				  struct tcp_repr *out, uint32_t *hsum)
{
	return tcp_parse_unverified_ps(b, n, csum_pseudo4(src, dst, IP4_PROTO_TCP, 0), out, hsum);
}

enum xs_drop tcp_parse_unverified_ps(const uint8_t *b, size_t n, uint32_t pseudo,
				     struct tcp_repr *out, uint32_t *hsum)
{
	unsigned off;

	if (n < TCP_HDR_LEN)
		return XS_DROP_TCP_SHORT;
	off = (b[12] >> 4) * 4u;
	if (off < TCP_HDR_LEN || off > n)
		return XS_DROP_TCP_HDR_LEN;
	/* RFC 9293 3.1: the checksum covers the pseudo header, whose length field
	 * cannot describe more than 65535 bytes. */
	if (n > 0xffff)
		return XS_DROP_TCP_CSUM;
	*hsum = csum_add(pseudo + (uint32_t)n, b, off);
	out->sport = ld_be16(b);
	out->dport = ld_be16(b + 2);
	out->seq = ld_be32(b + 4);
	out->ack = ld_be32(b + 8);
	/* The low 4 bits of byte 12 are reserved: ignored on receipt (RFC 9293 3.1). */
	out->flags = b[13];
	out->wnd = ld_be16(b + 14);
	out->urp = ld_be16(b + 18);
	out->hdr_len = (uint8_t)off;
	tcp_opts_parse(b + TCP_HDR_LEN, off - TCP_HDR_LEN, &out->opt);
	out->payload = b + off;
	out->payload_len = n - off;
	return XS_DROP_NONE;
}

bool tcp_csum_ok(uint32_t hsum, uint32_t psum)
{
	/* The header is a multiple of 4 bytes: the payload's words are aligned. */
	return csum_fold(csum_block_add(hsum, psum, 0)) == 0;
}

enum xs_drop tcp_parse(const uint8_t *b, size_t n, uint32_t src, uint32_t dst, struct tcp_repr *out)
{
	return tcp_parse_ps(b, n, csum_pseudo4(src, dst, IP4_PROTO_TCP, 0), out);
}

enum xs_drop tcp_parse_ps(const uint8_t *b, size_t n, uint32_t pseudo, struct tcp_repr *out)
{
	struct tcp_repr r;
	enum xs_drop why;
	uint32_t hsum;

	why = tcp_parse_unverified_ps(b, n, pseudo, &r, &hsum);
	if (why)
		return why;
	if (!tcp_csum_ok(hsum, csum_add(0, r.payload, r.payload_len)))
		return XS_DROP_TCP_CSUM;
	*out = r;
	return XS_DROP_NONE;
}

static size_t put_nop2(uint8_t *p)
{
	p[0] = TCP_OPT_NOP;
	p[1] = TCP_OPT_NOP;
	return 2;
}

static size_t put_sack_perm(uint8_t *p)
{
	p[0] = TCP_OPT_SACK_PERM;
	p[1] = TCP_OPT_SACK_PERM_LEN;
	return TCP_OPT_SACK_PERM_LEN;
}

static size_t put_ts(uint8_t *p, const struct tcp_opts *o)
{
	p[0] = TCP_OPT_TS;
	p[1] = TCP_OPT_TS_LEN;
	st_be32(p + 2, o->tsval);
	st_be32(p + 6, o->tsecr);
	return TCP_OPT_TS_LEN;
}

/* Lays out r's options in p (TCP_MAX_OPT_LEN bytes) the way Linux does, every
 * option aligned so that the total is a multiple of 4. Returns their length.
 * SYN: MSS, SACK-permitted + timestamps (NOPs where one is absent), NOP + WS.
 * Otherwise: NOP NOP TS, then NOP NOP SACK with as many blocks as still fit. */
static size_t tcp_opts_write(const struct tcp_repr *r, uint8_t *p)
{
	const struct tcp_opts *o = &r->opt;
	size_t i = 0;
	unsigned k, nsack;

	if (r->flags & TCP_SYN) {
		if (o->mss_ok) {
			p[0] = TCP_OPT_MSS;
			p[1] = TCP_OPT_MSS_LEN;
			st_be16(p + 2, o->mss);
			i = TCP_OPT_MSS_LEN;
		}
		if (o->sack_ok && o->ts_ok) {
			i += put_sack_perm(p + i);
			i += put_ts(p + i, o);
		} else if (o->ts_ok) {
			i += put_nop2(p + i);
			i += put_ts(p + i, o);
		} else if (o->sack_ok) {
			i += put_nop2(p + i);
			i += put_sack_perm(p + i);
		}
		if (o->ws_ok) {
			p[i] = TCP_OPT_NOP;
			p[i + 1] = TCP_OPT_WS;
			p[i + 2] = TCP_OPT_WS_LEN;
			p[i + 3] = o->ws;
			i += 4;
		}
		return i;
	}
	if (o->ts_ok) {
		i += put_nop2(p + i);
		i += put_ts(p + i, o);
	}
	/* Each block takes 8 bytes behind NOP NOP kind len: 4 fit alone, 3 with TS. */
	nsack = o->nsack < TCP_MAX_SACK ? o->nsack : TCP_MAX_SACK;
	if (nsack > (TCP_MAX_OPT_LEN - i - 4) / TCP_OPT_SACK_BLOCK_LEN)
		nsack = (unsigned)((TCP_MAX_OPT_LEN - i - 4) / TCP_OPT_SACK_BLOCK_LEN);
	if (nsack) {
		i += put_nop2(p + i);
		p[i] = TCP_OPT_SACK;
		p[i + 1] = (uint8_t)(2 + nsack * TCP_OPT_SACK_BLOCK_LEN);
		i += 2;
		for (k = 0; k < nsack; k++) {
			st_be32(p + i, o->sack[k].left);
			st_be32(p + i + 4, o->sack[k].right);
			i += TCP_OPT_SACK_BLOCK_LEN;
		}
	}
	return i;
}

size_t tcp_opts_len(const struct tcp_repr *r)
{
	uint8_t scratch[TCP_MAX_OPT_LEN];
	size_t i = r->opt.ts_ok ? 2 + TCP_OPT_TS_LEN : 0;
	unsigned nsack = r->opt.nsack < TCP_MAX_SACK ? r->opt.nsack : TCP_MAX_SACK;

	if (r->flags & TCP_SYN)
		return tcp_opts_write(r, scratch);
	/* Every segment after the SYN asks this: tcp_opts_write's layout,
	 * counted instead of written (NOP NOP TS, NOP NOP SACK blocks). */
	if (nsack > (TCP_MAX_OPT_LEN - i - 4) / TCP_OPT_SACK_BLOCK_LEN)
		nsack = (unsigned)((TCP_MAX_OPT_LEN - i - 4) / TCP_OPT_SACK_BLOCK_LEN);
	return nsack ? i + 4 + nsack * TCP_OPT_SACK_BLOCK_LEN : i;
}

/* The fixed header at b, its olen bytes of options already after it and
 * payload_len bytes of payload after those (whose partial sum is psum),
 * the checksum over all. */
static size_t tcp_emit_fixed(const struct tcp_repr *r, size_t olen, uint32_t pseudo, uint8_t *b,
			     uint32_t psum)
{
	size_t hlen = TCP_HDR_LEN + olen, n = hlen + r->payload_len;
	uint32_t sum;

	st_be16(b, r->sport);
	st_be16(b + 2, r->dport);
	st_be32(b + 4, r->seq);
	st_be32(b + 8, r->ack);
	b[12] = (uint8_t)((hlen / 4) << 4);
	b[13] = r->flags;
	st_be16(b + 14, r->wnd);
	st_be16(b + 16, 0);
	st_be16(b + 18, r->urp);
	/* The header is a multiple of 4 bytes: the payload's sum adds as is. */
	sum = csum_add(pseudo + (uint32_t)n, b, hlen);
	st_be16(b + 16, csum_fold(csum_block_add(sum, psum, hlen)));
	return n;
}

/* The header and options at b (payload_len bytes of payload after them,
 * whose partial sum is psum), the checksum over both. */
static size_t tcp_emit_header(const struct tcp_repr *r, const uint8_t *opts, size_t olen,
			      uint32_t pseudo, uint8_t *b, uint32_t psum)
{
	memcpy(b + TCP_HDR_LEN, opts, olen);
	return tcp_emit_fixed(r, olen, pseudo, b, psum);
}

size_t tcp_emit(const struct tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *b, size_t cap)
{
	return tcp_emit_ps(r, csum_pseudo4(src, dst, IP4_PROTO_TCP, 0), b, cap);
}

size_t tcp_emit_ps(const struct tcp_repr *r, uint32_t pseudo, uint8_t *b, size_t cap)
{
	uint8_t opts[TCP_MAX_OPT_LEN];
	size_t olen = tcp_opts_write(r, opts);
	size_t hlen = TCP_HDR_LEN + olen;
	uint32_t psum;

	if (r->payload_len > 0xffff - hlen || cap < hlen + r->payload_len)
		return 0;
	/* Payload first: a source overlapping the header area (e.g. placed for a
	 * header without options) must move before the header overwrites it.
	 * Apart from it, it is summed as it is copied. */
	if (!r->payload_len)
		psum = 0;
	else if (r->payload == b + hlen)
		psum = csum_add(0, b + hlen, r->payload_len);
	else if ((uintptr_t)r->payload + r->payload_len <= (uintptr_t)b ||
		 (uintptr_t)r->payload >= (uintptr_t)b + hlen + r->payload_len)
		psum = csum_copy(b + hlen, r->payload, r->payload_len, 0);
	else
		psum = csum_add(0, memmove(b + hlen, r->payload, r->payload_len), r->payload_len);
	return tcp_emit_header(r, opts, olen, pseudo, b, psum);
}

size_t tcp_emit_summed(const struct tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *b,
		       size_t cap, uint32_t psum)
{
	return tcp_emit_summed_ps(r, csum_pseudo4(src, dst, IP4_PROTO_TCP, 0), b, cap, psum);
}

size_t tcp_emit_summed_ps(const struct tcp_repr *r, uint32_t pseudo, uint8_t *b, size_t cap,
			  uint32_t psum)
{
	size_t olen = tcp_opts_len(r);
	size_t hlen = TCP_HDR_LEN + olen;

	if (r->payload_len > 0xffff - hlen || cap < hlen + r->payload_len)
		return 0;
	/* The payload is in place after them: the options go straight in. */
	tcp_opts_write(r, b + TCP_HDR_LEN);
	return tcp_emit_fixed(r, olen, pseudo, b, psum);
}
