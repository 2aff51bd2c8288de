/* TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018): parse with every
 * option length checked, emit with options padded and the checksum computed. */
#ifndef XS_WIRE_TCP_H
#define XS_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80
#define TCP_MAX_SACK 4
#define TCP_MAX_OPT_LEN 40

/* Option kinds and lengths (RFC 9293 3.2, RFC 7323, RFC 2018). */
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8
#define TCP_OPT_MSS_LEN 4
#define TCP_OPT_WS_LEN 3
#define TCP_OPT_SACK_PERM_LEN 2
#define TCP_OPT_TS_LEN 10
#define TCP_OPT_SACK_BLOCK_LEN 8 /* SACK length is 2 + 8 * blocks, 1..4 blocks */

struct tcp_sack_block {
	uint32_t left, right; /* [left, right) in sequence space */
};

struct tcp_opts {
	uint8_t mss_ok, ws_ok, sack_ok, ts_ok;
	uint16_t mss;
	uint8_t ws;           /* shift as received (callers clamp to 14, RFC 7323 2.3) */
	uint32_t tsval, tsecr;
	uint8_t nsack;        /* SACK blocks present (0..4) */
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

struct tcp_repr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;         /* as on the wire (unscaled) */
	uint16_t urp;
	uint8_t hdr_len;      /* parse: data offset in bytes; emit: ignored */
	struct tcp_opts opt;
	const uint8_t *payload;
	size_t payload_len;
};

/* Checks length, data offset (20..60 and within n) and the checksum against
 * the pseudo header (src/dst host order). Options: unknown kinds are skipped;
 * a known kind with the wrong length is ignored; a length below 2 or running
 * past the header ends option parsing (the segment itself is still valid),
 * as Linux does. Never reads outside b[0..n). Options are reported as found
 * whatever the flags (the last valid one of a kind wins): ignoring MSS, window
 * scale and SACK-permitted outside a SYN is the state machine's business.
 * out is written only when the segment is accepted. n above 65535 cannot be
 * described by the IPv4 pseudo header and fails as TCP_CSUM. */
enum xs_drop tcp_parse(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
		       struct tcp_repr *out);
/* tcp_parse's checks but the checksum's, which is left to the caller so that
 * it can sum the payload while copying it (csum_copy): *hsum is the partial
 * sum of the pseudo header and the TCP header (options included). Nothing in
 * out may be acted on before tcp_csum_ok(*hsum, payload sum) is true. */
enum xs_drop tcp_parse_unverified(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
				  struct tcp_repr *out, uint32_t *hsum);
/* The whole segment sums to all ones: header part hsum, payload part psum. */
bool tcp_csum_ok(uint32_t hsum, uint32_t psum);
/* Bytes of options tcp_emit will write for r (a multiple of 4, at most 40):
 * on SYN the *_ok options present (MSS, SACK-permitted, timestamps, window
 * scale); otherwise timestamps if ts_ok and up to as many SACK blocks as fit. */
size_t tcp_opts_len(const struct tcp_repr *r);
/* Writes header, options and payload (skipping the copy when r->payload
 * already sits at b + TCP_HDR_LEN + tcp_opts_len(r)) and the checksum.
 * Returns bytes written, or 0 when cap is too small. */
size_t tcp_emit(const struct tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *b, size_t cap);
/* The same for a payload already at b + TCP_HDR_LEN + tcp_opts_len(r) whose
 * partial sum psum was taken while it was copied there (csum_copy): only the
 * header is summed here. */
size_t tcp_emit_summed(const struct tcp_repr *r, uint32_t src, uint32_t dst, uint8_t *b,
		       size_t cap, uint32_t psum);
/* The same for either family: pseudo is the pseudo-header sum without its
 * length (csum_pseudo4(src, dst, 6, 0) or csum_pseudo6(src, dst, 6, 0)). */
enum xs_drop tcp_parse_ps(const uint8_t *b, size_t n, uint32_t pseudo, struct tcp_repr *out);
enum xs_drop tcp_parse_unverified_ps(const uint8_t *b, size_t n, uint32_t pseudo,
				     struct tcp_repr *out, uint32_t *hsum);
size_t tcp_emit_ps(const struct tcp_repr *r, uint32_t pseudo, uint8_t *b, size_t cap);
size_t tcp_emit_summed_ps(const struct tcp_repr *r, uint32_t pseudo, uint8_t *b, size_t cap,
			  uint32_t psum);

/* Sequence-space comparisons (RFC 9293 3.4), modulo 2^32. */
static inline int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline int seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline int seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline int seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

#endif
