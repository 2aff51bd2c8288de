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
 * came from the input (which may forge anything); every fragment is counted
 * as one and a reassembled datagram took two at least; after every fragment the
 * reassembly table stays within its slots and bytes; after the input, 32 s
 * later, it is empty; every frame sent parses (tests/fuzz/fuzz_tx.h); every
 * device frame is home (white-box, through
 * core/stack.h). A violation aborts the run. */
#include <stdbool.h>
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "core/stack.h"
#include "dev/dev.h"
#include "fuzz.h"
#include "fuzz_tx.h"
#include "wire/bytes.h"
#include "wire/csum.h"

#define OUR_IP 0x0a000001u /* 10.0.0.1/24 */
#define PEER_IP 0x0a000002u
#define FRAME_MAX 2048
#define MTU 1500
#define UDP_PORT 7
#define SPORT_BASE 5000
#define MAX_DGRAMS 4
#define MAX_BYTES 24576
#define MAX_RECORDS 512

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t protos[4] = {17, 1, 6, 99};

static struct xs_dev *dev;
static struct xs_stack *st;
static xs_time_t now;
static bool raw_seen; /* some payload came from the input: no content check */
static unsigned delivered;
static unsigned fragments; /* records that were fragments (MF or an offset) */

static uint8_t pat(unsigned n, uint32_t i)
{
	return (uint8_t)(i * 7u + (i >> 8) + n * 31u + 1u);
}

static void drain(void)
{
	uint8_t buf[FRAME_MAX];
	size_t n;

	while ((n = xs_mem_dev_take(dev, buf, sizeof(buf))) != 0)
		fuzz_check_tx(buf, n, our_mac, OUR_IP, MTU);
}

static void poll_now(void)
{
	FUZZ_CHECK(xs_stack_poll(st, now) >= 0);
	drain();
}

static void udp_cb(struct xs_stack *s, struct xs_udp h, unsigned events, void *ctx)
{
	static uint8_t buf[65536];
	uint32_t ip;
	uint16_t port;
	ssize_t n, i;

	(void)events;
	(void)ctx;
	while ((n = xs_udp_recvfrom(s, h, buf, sizeof(buf), &ip, &port)) >= 0) {
		delivered++;
		if (raw_seen)
			continue;
		/* Only the harness's own headers reach here: the source port
		 * names the datagram whose pattern the payload must carry. */
		FUZZ_CHECK(port >= SPORT_BASE && port < SPORT_BASE + 4);
		FUZZ_CHECK(ip == PEER_IP || ip == PEER_IP + 1);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(buf[i] == pat(port - SPORT_BASE, 8 + (uint32_t)i));
	}
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
	struct xs_config cfg = {
	    .ip = OUR_IP,
	    .frag_max_datagrams = MAX_DGRAMS,
	    .frag_max_bytes = MAX_BYTES,
	};
	struct xs_udp h;

	raw_seen = false;
	delivered = 0;
	fragments = 0;
	now = 0;
	if (!dev)
		dev = xs_mem_dev_new(our_mac, MTU, 64);
	FUZZ_CHECK(dev != NULL);
	st = xs_stack_new(&cfg, dev);
	FUZZ_CHECK(st != NULL);
	h = xs_udp_open(st);
	FUZZ_CHECK(h.id >= 0 && xs_udp_bind(st, h, UDP_PORT) == 0);
	FUZZ_CHECK(xs_udp_set_event_cb(st, h, udp_cb, NULL) == 0);
	poll_now();
	now = XS_SEC(1);
	poll_now();
	learn_peer(PEER_IP);
	learn_peer(PEER_IP + 1);
}

static void check_table(void)
{
	const struct frag_table *t = &st->frag;

	FUZZ_CHECK(t->nused <= t->nslots && t->nslots == MAX_DGRAMS);
	FUZZ_CHECK(t->bytes_held <= MAX_BYTES);
	FUZZ_CHECK(t->nused || !t->bytes_held);
}

/* FUZZ_DEBUG=1: what an input did, to check that seeds reach their case. */
static void debug_dump(void)
{
	const struct xs_stats *s = xs_stack_stats(st);
	unsigned i;

	if (!getenv("FUZZ_DEBUG"))
		return;
	fprintf(stderr, "frag rx %llu, reassembled %llu, delivered %u, icmp tx %llu\n",
		(unsigned long long)s->ip_frag_rx, (unsigned long long)s->ip_reassembled, delivered,
		(unsigned long long)s->icmp_tx);
	for (i = 1; i < XS_DROP_MAX; i++)
		if (s->drop[i])
			fprintf(stderr, "  drop %s %llu\n", xs_drop_name((enum xs_drop)i),
				(unsigned long long)s->drop[i]);
}

static void teardown(void)
{
	struct xs_dev_frames fr;

	/* Past the reassembly timeout: whatever was held is given up. */
	debug_dump();
	now += XS_SEC(32);
	poll_now();
	check_table();
	FUZZ_CHECK(st->frag.nused == 0 && st->frag.bytes_held == 0);
	dev->ops->frames(dev, &fr);
	FUZZ_CHECK(fr.free == fr.total && !fr.fill && !fr.rx_borrowed && !fr.tx_borrowed &&
		   !fr.tx_queued && !fr.in_flight);
	xs_stack_free(st);
	st = NULL;
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
	if (t) { /* timers first, as when no frame came for that long */
		now += t < 8 ? XS_MS(t) : XS_SEC(4 * (t - 7));
		poll_now();
	}
	fragments += fo || (p[0] & 4);
	FUZZ_CHECK(xs_mem_dev_inject(dev, f, 14 + hl + len) == 0);
	poll_now();
	check_table();
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, used;
	int records = 0;

	setup();
	while (off < size && records++ < MAX_RECORDS) {
		used = fragment(data + off, size - off);
		if (!used)
			break;
		off += used;
	}
	teardown();
	return 0;
}
