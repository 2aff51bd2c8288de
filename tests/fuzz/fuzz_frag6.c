/* libFuzzer target: a sequence of IPv6 fragments per input, some behind
 * extension headers, through the whole rx path (iface, ip6_input, frag6 and
 * the shared reassembly table, UDP/ICMPv6) of a new stack over the mem device
 * with small reassembly budgets (tiny, overlapping, out-of-range fragments).
 *
 * Each input is a list of records, one packet each, until the input ends:
 *
 *   ctl off(2) len(2) xt ulen(2) [payload bytes]
 *
 *   ctl  bits 0-1: datagram (id 0x6000 + n); bit 2: M; bit 3: source fd00::3
 *        instead of fd00::2; bits 4-5: next header after the Fragment header
 *        (UDP, ICMPv6, TCP, 99); bit 6: payload from the input (else the
 *        pattern below); bit 7: no Fragment header at all (a whole packet)
 *   off  the fragment offset in bytes (masked to a multiple of 8)
 *   len  payload bytes (11 bits), cut to what a 1500-byte MTU leaves
 *   xt   low 2 bits: 8-byte Destination Options headers before the Fragment
 *        header (unfragmentable part, 0-2, the third one a chain the walk
 *        refuses); bit 2: one more after it (in the fragmentable part); high
 *        nibble t: time before the packet, t ms below 8, else (t - 7) * 4 s
 *   ulen the UDP length of a UDP first fragment with a pattern payload (12 bits)
 *
 * A pattern payload holds, at datagram offset i, byte pat(n, i); a UDP first
 * fragment starts with the header (port 5000 + n to 7, length ulen, the
 * checksum of header and pattern up to ulen). Invariants: every datagram
 * delivered to port 7 carries pat(n, 8 + i) at byte i unless some payload came
 * from the input; the table stays within its slots and bytes, and is empty
 * 32 s after the input; every frame sent parses (fuzz_tx.h); every device
 * frame is home. The driver is frag_driver.h, shared with fuzz_frag. */
#include "frag_driver.h"
#include "wire/icmp6.h"

static const uint8_t protos[4] = {17, 58, 6, 99};
static const uint8_t our6[16] = {0xfd, [15] = 1};

static bool sender_ok(const struct xs_addr *from)
{
	return from->family == XS_AF_INET6 && from->a[0] == 0xfd;
}

/* The peer (fd00::2 or ::3) announces itself: replies leave without NDP. */
static void learn_peer(uint8_t last)
{
	uint8_t f[86] = {0}, *ip = f + 14, *m = f + 54;
	struct ip6_addr s6, d6;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	st_be16(f + 12, 0x86dd);
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	ip[8] = 0xfd;
	ip[23] = last;
	memcpy(ip + 24, our6, 16);
	m[0] = 135;
	memcpy(m + 8, our6, 16);
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, peer_mac, 6);
	memcpy(s6.b, ip + 8, 16);
	memcpy(d6.b, ip + 24, 16);
	icmp6_set_csum(m, 32, &s6, &d6);
	FUZZ_CHECK(xs_mem_dev_inject(dev, f, sizeof(f)) == 0);
	poll_now();
}

static void setup(void)
{
	struct xs_ip6_config c = {.naddrs = 1, .dad_transmits = XS_IP6_NO_DAD};

	memcpy(c.addrs[0].addr, our6, 16);
	c.addrs[0].plen = 64;
	memset(c.secret, 1, 16);
	FUZZ_CHECK(xs_ip6_enable(st, &c) == 0);
	poll_now();
	now = XS_SEC(1);
	poll_now();
	learn_peer(2);
	learn_peer(3);
}

/* The UDP checksum of the datagram the pattern makes: header, then
 * pat(n, 8 .. ulen), over the pseudo header of src -> our6. */
static uint16_t pattern_csum(unsigned n, const uint8_t *src, uint16_t ulen)
{
	uint8_t h[8], buf[4096];
	uint32_t s;
	unsigned i;

	st_be16(h, (uint16_t)(SPORT_BASE + n));
	st_be16(h + 2, UDP_PORT);
	st_be16(h + 4, ulen);
	st_be16(h + 6, 0);
	for (i = 8; i < ulen; i++)
		buf[i - 8] = pat(n, i);
	s = csum_add(csum_pseudo6(src, our6, 17, ulen), h, 8);
	s = csum_add(s, buf, ulen - 8u);
	s = csum_fold(s);
	return (uint16_t)(s ? s : 0xffff);
}

static size_t record(const uint8_t *p, size_t n)
{
	static uint8_t f[FRAME_MAX];
	unsigned id, t, i, nunfrag, after;
	bool raw, whole;
	uint8_t proto, *ip, *q, *pl;
	uint16_t off, len, ulen;
	size_t used = 8, hl;

	if (n < 8)
		return 0;
	id = p[0] & 3;
	nunfrag = p[5] & 3;
	after = !!(p[5] & 4);
	raw = p[0] & 0x40;
	whole = p[0] & 0x80;
	proto = protos[(p[0] >> 4) & 3];
	off = ld_be16(p + 1) & 0xfff8;
	len = ld_be16(p + 3) & 0x7ff;
	ulen = ld_be16(p + 6) & 0xfff;
	t = p[5] >> 4;
	hl = 40 + 8 * nunfrag + (whole ? 0 : 8) + 8 * after;
	if (len > MTU - hl)
		len = (uint16_t)(MTU - hl);
	if (raw && n < used + len)
		len = (uint16_t)(n - used);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	st_be16(f + 12, 0x86dd);
	ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	st_be16(ip + 4, (uint16_t)(hl - 40 + len));
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = (p[0] & 8) ? 3 : 2;
	memcpy(ip + 24, our6, 16);
	q = ip + 6; /* the byte naming what follows */
	pl = ip + 40;
	for (i = 0; i < nunfrag; i++) { /* Destination Options with a PadN */
		*q = 60;
		memset(pl, 0, 8);
		pl[2] = 1;
		pl[3] = 4;
		q = pl;
		pl += 8;
	}
	if (!whole) {
		*q = 44;
		pl[1] = 0;
		st_be16(pl + 2, (uint16_t)(off | (p[0] & 4 ? 1 : 0)));
		st_be32(pl + 4, 0x6000u + id);
		q = pl;
		pl += 8;
	}
	if (after) {
		*q = 60;
		memset(pl, 0, 8);
		pl[2] = 1;
		pl[3] = 4;
		q = pl;
		pl += 8;
	}
	*q = proto;
	/* A header after a non-first Fragment header is payload: it may
	 * forge the pattern, so no content check then. */
	if (after && off && !whole)
		raw_seen = true;
	if (raw) {
		memcpy(pl, p + used, len);
		used += len;
		raw_seen = true;
	} else {
		for (i = 0; i < len; i++)
			pl[i] = pat(id, (uint32_t)off + i);
		if (off == 0 && proto == 17 && len >= 8 && !after && ulen >= 8) {
			st_be16(pl, (uint16_t)(SPORT_BASE + id));
			st_be16(pl + 2, UDP_PORT);
			st_be16(pl + 4, ulen);
			st_be16(pl + 6, pattern_csum(id, ip + 8, ulen));
		}
	}
	frag_wait(t);
	frag_feed(f, 14 + hl + len);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frag_target ip6 = {setup, record, sender_ok};

	return frag_run(&ip6, data, size);
}
