/* libFuzzer target: a sequence of IPv4 fragments per input, with IP options,
 * through the whole rx path (iface, ip4_input, frag_input, the protocols) of a
 * new stack over the mem device, with reassembly's budgets set small.
 *
 * Each input is a list of records, one fragment each, until the input ends:
 *
 *   ctl off(2) len(2) ot ulen(2) [opt bytes] [payload bytes]
 *
 *   ctl  bits 0-1: datagram (IP id 0x1000 + n); bit 2: MF; bit 3: source
 *        10.0.0.3 instead of 10.0.0.2; bits 4-5: protocol (UDP, ICMP, TCP,
 *        99: no such protocol); bit 6: payload from the input (else a pattern,
 *        below); bit 7: DF
 *   off  the fragment offset field (13 bits, 8-byte units)
 *   len  payload bytes (11 bits), cut to what a 1500-byte MTU leaves
 *   ot   low nibble: IP option words (0-10), taken from the input; high
 *        nibble t: time before the fragment, t ms below 8, else (t - 7) * 4 s
 *        (the reassembly timeout is 30 s)
 *   ulen the UDP length field of a UDP first fragment with a pattern payload
 *
 * A pattern payload holds, at datagram offset i, byte pat(n, i); a UDP first
 * fragment starts with the header (port 5000 + n to 7, length ulen, no
 * checksum). Invariants: every datagram delivered to the UDP socket on port 7
 * carries pat(n, 8 + i) at payload byte i, unless some payload in this input
 * came from the input (which may forge anything); after every fragment the
 * reassembly table stays within its slots and bytes; after the input, 32 s
 * later, it is empty; every frame sent parses (tests/fuzz/fuzz_tx.h); every
 * device frame is home (white-box, through core/stack.h). A violation aborts
 * the run. The driver is frag_driver.h, shared with fuzz_frag6. */
#include "frag_driver.h"

static const uint8_t protos[4] = {17, 1, 6, 99};

static bool sender_ok(const struct xs_addr *from)
{
	uint32_t ip = xs_addr_ip4(from);

	return ip == PEER_IP || ip == PEER_IP + 1;
}

static void learn_peer(uint32_t ip)
{
	uint8_t f[60] = {0};

	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	memcpy(f + 22, peer_mac, 6);
	st_be32(f + 28, ip);
	st_be32(f + 38, OUR_IP);
	FUZZ_CHECK(xs_mem_dev_inject(dev, f, sizeof(f)) == 0);
	poll_now();
}

static void setup(void)
{
	poll_now();
	now = XS_SEC(1);
	poll_now();
	learn_peer(PEER_IP);
	learn_peer(PEER_IP + 1);
}

/* One record: builds the frame and feeds it; returns the bytes used, 0 at the end. */
static size_t fragment(const uint8_t *p, size_t n)
{
	static uint8_t f[FRAME_MAX];
	unsigned id = p[0] & 3, t, i;
	uint16_t fo, len, ulen;
	uint8_t proto = protos[(p[0] >> 4) & 3], *ip, *pl;
	size_t used = 8, optlen, hl;
	bool raw = p[0] & 0x40;

	if (n < 8)
		return 0;
	fo = ld_be16(p + 1) & 0x1fff;
	len = ld_be16(p + 3) & 0x7ff;
	optlen = (p[5] & 0x0f) > 10 ? 40 : (p[5] & 0x0fu) * 4;
	t = p[5] >> 4;
	ulen = ld_be16(p + 6);
	hl = 20 + optlen;
	if (len > MTU - hl)
		len = (uint16_t)(MTU - hl);
	if (n < used + optlen)
		return 0;
	if (raw && n < used + optlen + len)
		len = (uint16_t)(n - used - optlen);

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	st_be16(f + 12, 0x0800);
	ip = f + 14;
	ip[0] = (uint8_t)(0x40 | hl / 4);
	ip[1] = 0;
	st_be16(ip + 2, (uint16_t)(hl + len));
	st_be16(ip + 4, (uint16_t)(0x1000 + id));
	st_be16(ip + 6, (uint16_t)(fo | (p[0] & 4 ? 0x2000 : 0) | (p[0] & 0x80 ? 0x4000 : 0)));
	ip[8] = 64;
	ip[9] = proto;
	st_be32(ip + 12, PEER_IP + !!(p[0] & 8));
	st_be32(ip + 16, OUR_IP);
	memcpy(ip + 20, p + used, optlen);
	used += optlen;
	st_be16(ip + 10, 0);
	st_be16(ip + 10, csum_fold(csum_add(0, ip, hl)));
	pl = ip + hl;
	if (raw) {
		memcpy(pl, p + used, len);
		used += len;
		raw_seen = true;
	} else {
		for (i = 0; i < len; i++)
			pl[i] = pat(id, (uint32_t)fo * 8 + i);
		if (fo == 0 && proto == 17 && len >= 8) {
			st_be16(pl, (uint16_t)(SPORT_BASE + id));
			st_be16(pl + 2, UDP_PORT);
			st_be16(pl + 4, ulen);
			st_be16(pl + 6, 0);
		}
	}
	frag_wait(t);
	frag_feed(f, 14 + hl + len);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frag_target ip4 = {setup, fragment, sender_ok};

	return frag_run(&ip4, data, size);
}
