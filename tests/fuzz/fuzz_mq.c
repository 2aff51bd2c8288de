/* libFuzzer target: received frames through a multi-queue group (core/mq.c): three
 * stacks sharing one address, each frame landing on the queue its input names.
 *
 * Build and run from the repository root (tests/fuzz/README): `make fuzz`, or
 *
 *   make build/fuzz/fuzz_mq && mkdir -p build/fuzz/corpus-mq
 *   build/fuzz/fuzz_mq -max_len=2048 -max_total_time=30 build/fuzz/corpus-mq tests/fuzz/corpus/mq
 *
 * An input is one frame: its first byte picks the queue (byte % 3), the rest
 * is the Ethernet frame. Frames whose source MAC has its lowest bit set get
 * their IPv4, ICMP, UDP and TCP checksums fixed first (as fuzz_rx does; for
 * IPv6 the ICMPv6, UDP and TCP ones behind the header chain), so mutations
 * reach the owner checks: ports of each queue's share, ICMP and ICMPv6 echo
 * identifiers, the packets errors quote, TCP segments for no connection
 * passed along the queues, neighbor discovery copied to every stack. Each
 * stack has UDP sockets on 7 and on a port of its share, and a TCP listener
 * on 80, and IPv6 on (fd00::1/64, stack 0's, followed by the others); the
 * group lives on between inputs. After every input all three stacks poll
 * until the rings are empty; then every record pushed was taken (handoffs,
 * searches, ARP and NDP copies and stack 0's IPv6 configuration sent ==
 * records received, none lost), every frame sent parses with our own parsers
 * (fuzz_tx.h), and every device frame is home. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/ip6.h>
#include <xdpstack/mq.h>
#include <xdpstack/stack.h>

#include "dev/dev.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "fix_csum.h"
#include "fuzz_tx.h"

#define NQ 3
#define FUZZ_IP 0x0a000001u /* 10.0.0.1/24 */
#define FRAME_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static struct xs_mq *g;
static struct xs_dev *dev[NQ];
static struct xs_stack *st[NQ];
static xs_time_t now;

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

static void accept_cb(struct xs_stack *s, struct xs_tcp h, unsigned events, void *ctx)
{
	struct xs_tcp c;

	(void)events;
	(void)ctx;
	while ((c = xs_tcp_accept(s, h, NULL, NULL)).id >= 0)
		xs_tcp_abort(s, c);
}

static void drain_tx(void)
{
	uint8_t buf[FRAME_MAX];
	struct xs_dev_frames fr;
	size_t n;
	int i;

	for (i = 0; i < NQ; i++) {
		while ((n = xs_mem_dev_take(dev[i], buf, sizeof(buf))) != 0)
			fuzz_check_tx(buf, n, our_mac, FUZZ_IP, 1500);
		dev[i]->ops->frames(dev[i], &fr);
		FUZZ_CHECK(fr.free == fr.total && !fr.fill && !fr.rx_borrowed && !fr.tx_borrowed &&
			   !fr.tx_queued && !fr.in_flight);
	}
}

static void poll_all(void)
{
	int i, round;

	/* Records handed over in one round are taken in the next; a search
	 * passes a segment at most NQ - 1 times. */
	for (round = 0; round < NQ + 1; round++)
		for (i = 0; i < NQ; i++)
			while (xs_stack_poll(st[i], now) == XS_POLL_BATCH)
				;
}

static void fuzz_init(void)
{
	struct xs_config cfg = {.ip = FUZZ_IP};
	struct xs_ip6_config c6 = {.naddrs = 1, .dad_transmits = XS_IP6_NO_DAD};
	struct xs_udp u;
	struct xs_tcp l;
	int i;

	g = xs_mq_new(NQ, 0);
	FUZZ_CHECK(g != NULL);
	for (i = 0; i < NQ; i++) {
		dev[i] = xs_mem_dev_new(our_mac, 1500, 64);
		FUZZ_CHECK(dev[i] != NULL);
		st[i] = xs_stack_new(&cfg, dev[i]);
		FUZZ_CHECK(st[i] && xs_mq_attach(g, (unsigned)i, st[i]) == 0);
		c6.addrs[0].addr[0] = 0xfd;
		c6.addrs[0].addr[15] = 1;
		c6.addrs[0].plen = 64;
		FUZZ_CHECK(xs_ip6_enable(st[i], &c6) == 0);
		u = xs_udp_open(st[i]);
		FUZZ_CHECK(u.id >= 0 && !xs_udp_bind(st[i], u, 7) &&
			   !xs_udp_set_event_cb(st[i], u, drain_cb, NULL));
		/* 32769 + i is queue (32769 + i) % 3's: 32769 % 3 == 0. */
		u = xs_udp_open(st[i]);
		FUZZ_CHECK(u.id >= 0 && !xs_udp_bind(st[i], u, (uint16_t)(32769 + i)) &&
			   !xs_udp_set_event_cb(st[i], u, drain_cb, NULL));
		l = xs_tcp_listen(st[i], 80, 16);
		FUZZ_CHECK(l.id >= 0 && !xs_tcp_set_event_cb(st[i], l, accept_cb, NULL));
	}
	/* Past the start-up announcements. */
	poll_all();
	now = XS_SEC(1);
	poll_all();
	drain_tx();
}

static uint64_t pushed(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < NQ; i++) {
		const struct xs_stats *s = xs_stack_stats(st[i]);

		n += s->mq_handoff_tx + s->mq_search + s->mq_arp_replicas + s->mq_nd_replicas +
		     s->mq_ip6_follow;
		FUZZ_CHECK(s->drop[XS_DROP_MQ_RING_FULL] == 0);
	}
	return n;
}

static uint64_t taken(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < NQ; i++)
		n += xs_stack_stats(st[i])->mq_handoff_rx;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_MAX];
	unsigned q;

	if (!g)
		fuzz_init();
	if (size < 1)
		return 0;
	q = data[0] % NQ;
	data++;
	size--;
	if (size > FRAME_MAX)
		size = FRAME_MAX;
	memcpy(frame, data, size);
	if (size > 11 && (frame[11] & 1))
		fuzz_fix_checksums(frame, size);
	FUZZ_CHECK(xs_mem_dev_inject(dev[q], frame, size) == 0);
	now += XS_MS(1);
	poll_all();
	FUZZ_CHECK(pushed() == taken());
	drain_tx();
	return 0;
}
