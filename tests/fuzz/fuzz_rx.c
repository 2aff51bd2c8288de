/* libFuzzer target: arbitrary bytes as one received Ethernet frame through the
 * whole rx path (iface, ARP, IPv4 and reassembly, ICMP, UDP: all ip4_input demuxes
 * to) of a stack over the mem device.
 *
 * Build and run from the repository root (tests/fuzz/README): `make fuzz`, or
 *
 *   make build/fuzz/fuzz_rx && mkdir -p build/fuzz/corpus-rx
 *   build/fuzz/fuzz_rx -max_len=2048 -max_total_time=30 build/fuzz/corpus-rx tests/fuzz/corpus/rx
 *
 * UDP sockets are bound to ports 7, 53 and 5353, and port 4000 is connected
 * to 10.0.0.2:53 (ICMP errors quoting its datagrams reach it). IPv6 is on:
 * fd00::1/64 and a link-local address, no DAD; the peer fd00::2 is known
 * from a Neighbor Solicitation (IPv6 frames get their ICMPv6, UDP or TCP
 * checksum fixed behind the header chain, as IPv4's below).
 * The stack is created once and keeps its state (ARP cache, socket queues)
 * between inputs; virtual time advances 1 ms per input so timers run too.
 * Inputs whose source MAC has its lowest bit set (byte 11; the rx path never
 * reads the source MAC) get their IPv4, ICMP, UDP and TCP checksums fixed
 * first (fix_csum.h, shared with fuzz_mq; an IPv4 fragment's header only), so
 * mutations reach past the checksum checks; the others go in raw.
 * After every input all sent frames are taken, each must parse with our own
 * parsers (tests/fuzz/fuzz_tx.h), and every device frame must be
 * home: a frame the stack forgets to give back aborts the run. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "dev/dev.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "fix_csum.h"
#include "fuzz_tx.h"

#define FUZZ_IP 0x0a000001u /* 10.0.0.1/24 */
#define PEER_IP 0x0a000002u
#define FRAME_MAX 2048
#define CONN_PORT 4000 /* connected to PEER_IP:53 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint16_t ports[] = {7, 53, 5353};

static struct xs_dev *dev;
static struct xs_stack *st;
static xs_time_t now;
static uint64_t inputs;

static void drain_cb(struct xs_stack *s, struct xs_udp h, unsigned events, void *ctx)
{
	uint8_t buf[FRAME_MAX];
	uint32_t ip;
	uint16_t port;

	(void)events;
	(void)ctx;
	while (xs_udp_recvfrom(s, h, buf, sizeof(buf), &ip, &port) >= 0)
		;
}

static void drain_tx(void)
{
	uint8_t buf[FRAME_MAX];
	struct xs_dev_frames fr;
	size_t n;

	while ((n = xs_mem_dev_take(dev, buf, sizeof(buf))) != 0)
		fuzz_check_tx(buf, n, our_mac, FUZZ_IP, 1500);
	dev->ops->frames(dev, &fr);
	if (fr.free != fr.total || fr.fill || fr.rx_borrowed || fr.tx_borrowed || fr.tx_queued ||
	    fr.in_flight)
		abort();
}

/* The peer asks for our address, so replies to it leave without ARP. */
static void learn_peer(void)
{
	uint8_t f[60] = {0};

	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, (const uint8_t[]){10, 0, 0, 2}, 4);
	memcpy(f + 38, (const uint8_t[]){10, 0, 0, 1}, 4);
	xs_mem_dev_inject(dev, f, sizeof(f));
	xs_stack_poll(st, now);
	drain_tx();
}

static void ip6_init_peer(void)
{
	uint8_t f[86] = {0}, *ip = f + 14, *m = f + 54;
	struct ip6_addr s6, d6;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	ip[8] = 0xfd;
	ip[23] = 2;
	ip[24] = 0xfd;
	ip[39] = 1;
	m[0] = 135;
	m[8] = 0xfd;
	m[23] = 1;
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, peer_mac, 6);
	memcpy(s6.b, ip + 8, 16);
	memcpy(d6.b, ip + 24, 16);
	icmp6_set_csum(m, 32, &s6, &d6);
	xs_mem_dev_inject(dev, f, sizeof(f));
	xs_stack_poll(st, now);
	drain_tx();
}

static void ip6_init(void)
{
	struct xs_ip6_config c = {.naddrs = 1, .dad_transmits = XS_IP6_NO_DAD};

	c.addrs[0].addr[0] = 0xfd;
	c.addrs[0].addr[15] = 1;
	c.addrs[0].plen = 64;
	memset(c.secret, 0x42, sizeof(c.secret));
	if (xs_ip6_enable(st, &c))
		abort();
	ip6_init_peer();
}

static void fuzz_init(void)
{
	struct xs_config cfg = {.ip = FUZZ_IP};
	size_t i;
	struct xs_udp h;

	dev = xs_mem_dev_new(our_mac, 1500, 64);
	if (!dev)
		abort();
	st = xs_stack_new(&cfg, dev);
	if (!st)
		abort();
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		h = xs_udp_open(st);
		if (h.id < 0 || xs_udp_bind(st, h, ports[i]) ||
		    xs_udp_set_event_cb(st, h, drain_cb, NULL))
			abort();
	}
	/* A connected socket: the only kind ICMP errors are delivered to. */
	h = xs_udp_open(st);
	if (h.id < 0 || xs_udp_bind(st, h, CONN_PORT) || xs_udp_connect(st, h, PEER_IP, 53) ||
	    xs_udp_set_event_cb(st, h, drain_cb, NULL))
		abort();
	/* Past the start-up announcements. */
	xs_stack_poll(st, 0);
	now = XS_SEC(1);
	xs_stack_poll(st, now);
	drain_tx();
	learn_peer();
	ip6_init();
}

/* IPv6: fd00::1/64 and a link-local, usable at once; the peer fd00::2 at
 * peer_mac announces itself with a Neighbor Solicitation for ours. */
/* FUZZ_DEBUG=1: the counters an input moved, to check that seeds reach their case. */
static void debug_dump(const struct xs_stats *before)
{
	const struct xs_stats *s = xs_stack_stats(st);
	unsigned i;

	if (!getenv("FUZZ_DEBUG"))
		return;
	fprintf(stderr, "icmp rx %llu err rx %llu tx %llu, udp rx %llu tx %llu\n",
		(unsigned long long)(s->icmp_rx - before->icmp_rx),
		(unsigned long long)(s->icmp_err_rx - before->icmp_err_rx),
		(unsigned long long)(s->icmp_tx - before->icmp_tx),
		(unsigned long long)(s->udp_rx - before->udp_rx),
		(unsigned long long)(s->udp_tx - before->udp_tx));
	for (i = 1; i < XS_DROP_MAX; i++)
		if (s->drop[i] != before->drop[i])
			fprintf(stderr, "  drop %s\n", xs_drop_name((enum xs_drop)i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs_stats before;

	static uint8_t frame[FRAME_MAX];

	if (!st)
		fuzz_init();
	if (size > FRAME_MAX)
		size = FRAME_MAX;
	memcpy(frame, data, size);
	if (size > 11 && (frame[11] & 1))
		fuzz_fix_checksums(frame, size);
	before = *xs_stack_stats(st);
	if (xs_mem_dev_inject(dev, frame, size) != 0)
		abort();
	now += XS_MS(1);
	if (xs_stack_poll(st, now) != 1)
		abort();
	drain_tx();
	debug_dump(&before);
	/* Keep the peer known past its ARP lifetime (60 s = 60000 inputs). */
	if (++inputs % 30000 == 0) {
		learn_peer();
		ip6_init_peer();
	}
	return 0;
}
