/* The driver fuzz_frag (IPv4) and fuzz_frag6 share: a new stack per input
 * over the mem device with small reassembly budgets, records fed in turn,
 * the reassembly table checked after each and empty 32 s after the input,
 * the pattern the harness's UDP datagrams must carry on port 7, every frame
 * sent checked (fuzz_tx.h) and every device frame home at the end. */
#ifndef XS_TESTS_FRAG_DRIVER_H
#define XS_TESTS_FRAG_DRIVER_H

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

/* What each target brings: its family's setup after the stack is made (the
 * peers announced), one record (builds and feeds a frame; the bytes of
 * input it used, 0 at the end), and which senders its datagrams come from. */
struct frag_target {
	void (*setup)(void);
	size_t (*record)(const uint8_t *p, size_t n);
	bool (*sender_ok)(const struct xs_addr *from);
};

static struct xs_dev *dev;
static struct xs_stack *st;
static xs_time_t now;
static bool raw_seen; /* some payload came from the input: no content check */
static unsigned delivered;
static const struct frag_target *target;

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

/* t from a record's high nibble: t ms below 8, else (t - 7) * 4 s (the
 * reassembly timeout is 30 s); timers first, as when no frame came for that long. */
static void frag_wait(unsigned t)
{
	if (!t)
		return;
	now += t < 8 ? XS_MS(t) : XS_SEC(4 * (t - 7));
	poll_now();
}

static void udp_cb(struct xs_stack *s, struct xs_udp h, unsigned events, void *ctx)
{
	static uint8_t buf[65536];
	struct xs_addr from;
	uint16_t port;
	ssize_t n, i;

	(void)events;
	(void)ctx;
	while ((n = xs_udp_recvfrom_addr(s, h, buf, sizeof(buf), &from, &port)) >= 0) {
		delivered++;
		if (raw_seen)
			continue;
		/* Only the harness's own headers reach here: the source port
		 * names the datagram whose pattern the payload must carry. */
		FUZZ_CHECK(port >= SPORT_BASE && port < SPORT_BASE + 4);
		FUZZ_CHECK(target->sender_ok(&from));
		for (i = 0; i < n; i++)
			FUZZ_CHECK(buf[i] == pat(port - SPORT_BASE, 8 + (uint32_t)i));
	}
}

static void check_table(void)
{
	const struct frag_table *t = &st->frag;

	FUZZ_CHECK(t->nused <= t->nslots && t->nslots == MAX_DGRAMS);
	FUZZ_CHECK(t->bytes_held <= MAX_BYTES);
	FUZZ_CHECK(t->nused || !t->bytes_held);
}

/* Feeds the frame a record built, then checks the table. */
static void frag_feed(const uint8_t *f, size_t len)
{
	FUZZ_CHECK(xs_mem_dev_inject(dev, f, len) == 0);
	poll_now();
	check_table();
}

static void frag_setup(void)
{
	struct xs_config cfg = {
	    .ip = OUR_IP,
	    .frag_max_datagrams = MAX_DGRAMS,
	    .frag_max_bytes = MAX_BYTES,
	};
	struct xs_udp h;

	raw_seen = false;
	delivered = 0;
	now = 0;
	if (!dev)
		dev = xs_mem_dev_new(our_mac, MTU, 64);
	FUZZ_CHECK(dev != NULL);
	st = xs_stack_new(&cfg, dev);
	FUZZ_CHECK(st != NULL);
	h = xs_udp_open(st);
	FUZZ_CHECK(h.id >= 0 && xs_udp_bind(st, h, UDP_PORT) == 0);
	FUZZ_CHECK(xs_udp_set_event_cb(st, h, udp_cb, NULL) == 0);
	target->setup();
}

/* FUZZ_DEBUG=1: what an input did, to check that seeds reach their case. */
static void debug_dump(void)
{
	const struct xs_stats *s = xs_stack_stats(st);
	unsigned i;

	if (!getenv("FUZZ_DEBUG"))
		return;
	fprintf(stderr,
		"frag rx %llu/%llu, reassembled %llu/%llu, delivered %u, icmp tx %llu/%llu\n",
		(unsigned long long)s->ip_frag_rx, (unsigned long long)s->ip6_frag_rx,
		(unsigned long long)s->ip_reassembled, (unsigned long long)s->ip6_reassembled,
		delivered, (unsigned long long)s->icmp_tx, (unsigned long long)s->icmp6_tx);
	for (i = 1; i < XS_DROP_MAX; i++)
		if (s->drop[i])
			fprintf(stderr, "  drop %s %llu\n", xs_drop_name((enum xs_drop)i),
				(unsigned long long)s->drop[i]);
}

static void frag_teardown(void)
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

/* The whole of one input: t's records until it ends or MAX_RECORDS. */
static int frag_run(const struct frag_target *t, const uint8_t *data, size_t size)
{
	size_t off = 0, used;
	int records = 0;

	target = t;
	frag_setup();
	while (off < size && records++ < MAX_RECORDS) {
		used = t->record(data + off, size - off);
		if (!used)
			break;
		off += used;
	}
	frag_teardown();
	return 0;
}

#endif
