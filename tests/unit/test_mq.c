/* Multi-queue groups over mem devices: two stacks sharing one address (IPv4, and
 * IPv6 below) and a peer stack; the test steers the peer's frames to either queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/dev.h>
#include <xdpstack/ip6.h>
#include <xdpstack/mq.h>
#include <xdpstack/stack.h>

#include "core/mq.h"
#include "wire/bytes.h"

#include "ip6_fixture.h" /* IPv6 frame builders (fd00::1 is a6 here too) */

#define A_IP 0x0a000001u /* the group's address */
#define P_IP 0x0a000002u /* the peer */
#define STEP XS_MS(1)
#define NFR 1024

static const uint8_t a_mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t p_mac[6] = {0x02, 0, 0, 0, 0, 0x0b};

/* Where the peer's frames go: queue 0, queue 1, or by the destination port's
 * low bit (a stand-in for a hash that the stacks do not know). */
enum steer { TO_Q0, TO_Q1, BY_PORT };

struct fix {
	struct xs_mq *g;
	struct xs_dev *adev[2], *pdev;
	struct xs_stack *a[2], *p;
	enum steer steer;
	xs_time_t now;
};

static struct xs_stack *stack_on(struct xs_dev *d, uint32_t ip)
{
	struct xs_config cfg = {.ip = ip, .prefix_len = 24};
	struct xs_stack *st = xs_stack_new(&cfg, d);

	assert_non_null(st);
	return st;
}

static void fix_start(struct fix *f, uint32_t ring_bytes)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->now = XS_SEC(1);
	f->g = xs_mq_new(2, ring_bytes);
	assert_non_null(f->g);
	for (i = 0; i < 2; i++) {
		f->adev[i] = xs_mem_dev_new(a_mac, 1500, NFR);
		f->a[i] = stack_on(f->adev[i], A_IP);
		assert_int_equal(xs_mq_attach(f->g, (unsigned)i, f->a[i]), 0);
	}
	f->pdev = xs_mem_dev_new(p_mac, 1500, NFR);
	f->p = stack_on(f->pdev, P_IP);
}

static void fix_stop(struct fix *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		xs_stack_free(f->a[i]);
		xs_dev_free(f->adev[i]);
	}
	xs_stack_free(f->p);
	xs_dev_free(f->pdev);
	xs_mq_free(f->g);
}

static int steer_of(const struct fix *f, const uint8_t *b, size_t n)
{
	if (f->steer != BY_PORT)
		return f->steer == TO_Q1;
	/* IPv4 with TCP/UDP: the destination port's low bit; the rest to 0. */
	if (n >= 14 + 20 + 4 && ld_be16(b + 12) == 0x0800 && (b[23] == 6 || b[23] == 17))
		return ld_be16(b + 14 + (b[14] & 0xf) * 4 + 2) & 1;
	return 0;
}

/* One round: every stack polls, then frames move. */
static void round_once(struct fix *f)
{
	uint8_t buf[2048];
	size_t n;
	int i;

	for (i = 0; i < 2; i++)
		assert_true(xs_stack_poll(f->a[i], f->now) >= 0);
	assert_true(xs_stack_poll(f->p, f->now) >= 0);
	for (i = 0; i < 2; i++)
		while ((n = xs_mem_dev_take(f->adev[i], buf, sizeof(buf))) > 0)
			assert_int_equal(xs_mem_dev_inject(f->pdev, buf, n), 0);
	while ((n = xs_mem_dev_take(f->pdev, buf, sizeof(buf))) > 0)
		assert_int_equal(xs_mem_dev_inject(f->adev[steer_of(f, buf, n)], buf, n), 0);
	f->now += STEP;
}

static void rounds(struct fix *f, int n)
{
	while (n--)
		round_once(f);
}

static const struct xs_stats *S(struct xs_stack *st)
{
	return xs_stack_stats(st);
}

/* --- Toeplitz: Microsoft's verification vectors ------------------------------ */

static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint32_t ms_hash(const char *src, uint16_t sport, const char *dst, uint16_t dport, int ports)
{
	unsigned a, b, c, d;
	uint8_t in[12];

	assert_int_equal(sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	st_be32(in, a << 24 | b << 16 | c << 8 | d);
	assert_int_equal(sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	st_be32(in + 4, a << 24 | b << 16 | c << 8 | d);
	st_be16(in + 8, sport);
	st_be16(in + 10, dport);
	return xs_toeplitz(ms_key, sizeof(ms_key), in, ports ? 12 : 8);
}

static void test_toeplitz_vectors(void **state)
{
	(void)state;
	assert_int_equal(ms_hash("66.9.149.187", 2794, "161.142.100.80", 1766, 0), 0x323e8fc2);
	assert_int_equal(ms_hash("66.9.149.187", 2794, "161.142.100.80", 1766, 1), 0x51ccc178);
	assert_int_equal(ms_hash("199.92.111.2", 14230, "65.69.140.83", 4739, 0), 0xd718262a);
	assert_int_equal(ms_hash("199.92.111.2", 14230, "65.69.140.83", 4739, 1), 0xc626b0ea);
	assert_int_equal(ms_hash("24.19.198.95", 12898, "12.22.207.184", 38024, 0), 0xd2d0a5de);
	assert_int_equal(ms_hash("24.19.198.95", 12898, "12.22.207.184", 38024, 1), 0x5c2b394a);
	assert_int_equal(ms_hash("38.27.205.30", 48228, "209.142.163.6", 2217, 0), 0x82989176);
	assert_int_equal(ms_hash("38.27.205.30", 48228, "209.142.163.6", 2217, 1), 0xafc7327f);
	assert_int_equal(ms_hash("153.39.163.191", 44251, "202.188.127.2", 1303, 0), 0x5d1809c5);
	assert_int_equal(ms_hash("153.39.163.191", 44251, "202.188.127.2", 1303, 1), 0x10e828a2);
	assert_int_equal(xs_toeplitz(ms_key, 3, (const uint8_t *)"abcd", 4), 0);
}

/* --- group setup ----------------------------------------------------------------- */

static void test_group_api(void **state)
{
	struct xs_mq *g;
	struct xs_dev *d = xs_mem_dev_new(a_mac, 1500, 64);
	struct xs_stack *st = stack_on(d, A_IP);

	(void)state;
	assert_null(xs_mq_new(0, 0));
	assert_null(xs_mq_new(XS_MQ_MAX + 1, 0));
	assert_null(xs_mq_new(2, 100000));     /* not a power of two */
	assert_null(xs_mq_new(2, 128u << 10)); /* a 64 KiB datagram would not fit */
	g = xs_mq_new(2, 0);
	assert_non_null(g);
	assert_true(xs_mq_fd(g, 0) >= 0 && xs_mq_fd(g, 1) >= 0);
	assert_int_equal(xs_mq_fd(g, 2), -EINVAL);
	assert_int_equal(xs_mq_attach(g, 2, st), -EINVAL);
	assert_int_equal(xs_mq_attach(g, 1, st), 0);
	assert_int_equal(xs_mq_attach(g, 0, st), -EBUSY); /* one group, one index */
	assert_int_equal(xs_mq_pin_port(g, 0, 0), -EINVAL);
	assert_int_equal(xs_mq_pin_port(g, 5201, 2), -EINVAL);
	/* Freed in either order: the stack leaves the group. */
	xs_stack_free(st);
	xs_mq_free(g);
	xs_dev_free(d);
}

/* Each stack's ephemeral ports, ping ids: its own share. */
static void test_partitions(void **state)
{
	struct fix f;
	int i, s;

	(void)state;
	fix_start(&f, 0);
	for (s = 0; s < 2; s++) {
		unsigned cnt = mq_port_count(f.a[s]);

		assert_true(cnt >= 14000);
		for (i = 0; i < 40; i++) {
			struct xs_udp h = xs_udp_open(f.a[s]);

			assert_true(h.id >= 0);
			assert_int_equal(xs_udp_bind(f.a[s], h, 0), 0);
			assert_int_equal(xs_udp_local_port(f.a[s], h) % 2, s);
			assert_int_equal(mq_ping_id(f.a[s], (uint64_t)i * 7919) % 2, s);
			assert_int_equal(xs_udp_close(f.a[s], h), 0);
		}
		assert_int_equal(mq_port_nth(f.a[s], 0) % 2, s);
		assert_int_equal(mq_port_nth(f.a[s], cnt - 1) % 2, s);
		assert_true(mq_port_nth(f.a[s], cnt - 1) <= XS_EPHEMERAL_HI);
	}
	assert_int_equal(mq_ping_id(f.a[1], 0xffff), 0xffff);
	assert_int_equal(mq_ping_id(f.a[0], 0xffff), 0xfffe);
	fix_stop(&f);
}

static void tcp_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	(void)st;
	(void)h;
	*(unsigned *)ctx |= ev;
}

/* The rest of an active open h from queue 1 to the peer's listener lh, all
 * replies landing on queue 0: the handshake handed over, the local port of
 * queue 1's share, then a message each way ("ping", "pong" + tag). */
static void handed_over_exchange(struct fix *f, struct xs_tcp lh, struct xs_tcp h, const char *tag)
{
	struct xs_tcp ph = XS_NO_HANDLE;
	struct xs_tcp_info info;
	char buf[16], ping[8], pong[8];
	unsigned ev = 0;
	size_t n;
	int i;

	n = (size_t)snprintf(ping, sizeof(ping), "ping%s", tag);
	snprintf(pong, sizeof(pong), "pong%s", tag);
	assert_int_equal(xs_tcp_set_event_cb(f->a[1], h, tcp_cb, &ev), 0);
	for (i = 0; i < 200 && !(ev & XS_EV_WRITABLE); i++)
		round_once(f);
	assert_true(ev & XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_get_info(f->a[1], h, &info), 0);
	assert_int_equal(info.lport % 2, 1);
	/* The SYN-ACK (and what resolved the peer) reached queue 0 and went on
	 * to queue 1. */
	assert_true(S(f->a[0])->mq_handoff_tx >= 1);
	assert_true(S(f->a[1])->mq_handoff_rx >= 2);
	assert_int_equal(S(f->a[0])->tcp_rst_tx, 0);
	assert_int_equal(S(f->a[0])->drop[XS_DROP_TCP_NO_CONN], 0);
	/* Data both ways, the peer's on queue 0 still. */
	for (i = 0; i < 50 && ph.id < 0; i++) {
		ph = xs_tcp_accept(f->p, lh, NULL, NULL);
		round_once(f);
	}
	assert_true(ph.id >= 0);
	assert_int_equal(xs_tcp_send(f->p, ph, pong, n), (ssize_t)n);
	assert_int_equal(xs_tcp_send(f->a[1], h, ping, n), (ssize_t)n);
	rounds(f, 20);
	assert_int_equal(xs_tcp_recv(f->a[1], h, buf, sizeof(buf)), (ssize_t)n);
	assert_memory_equal(buf, pong, n);
	assert_int_equal(xs_tcp_recv(f->p, ph, buf, sizeof(buf)), (ssize_t)n);
	assert_memory_equal(buf, ping, n);
	assert_int_equal(
	    S(f->a[1])->drop[XS_DROP_MQ_RING_FULL] + S(f->a[0])->drop[XS_DROP_MQ_RING_FULL], 0);
}

/* An active open from queue 1 whose replies all land on queue 0: handed over. */
static void test_active_open_replies_handed_over(void **state)
{
	struct xs_tcp lh, h;
	struct fix f;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q0;
	lh = xs_tcp_listen(f.p, 80, 16);
	assert_true(lh.id >= 0);
	h = xs_tcp_connect(f.a[1], P_IP, 80);
	assert_true(h.id >= 0);
	handed_over_exchange(&f, lh, h, "");
	fix_stop(&f);
}

/* A connection the peer opens stays where its first segment arrived. */
static void test_passive_open_stays(void **state)
{
	struct fix f;
	struct xs_tcp_info info[8];
	unsigned ev = 0;
	struct xs_tcp h;
	int i;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q1;
	assert_true(xs_tcp_listen(f.a[0], 8080, 16).id >= 0);
	assert_true(xs_tcp_listen(f.a[1], 8080, 16).id >= 0);
	h = xs_tcp_connect(f.p, A_IP, 8080);
	assert_true(h.id >= 0);
	assert_int_equal(xs_tcp_set_event_cb(f.p, h, tcp_cb, &ev), 0);
	for (i = 0; i < 200 && !(ev & XS_EV_WRITABLE); i++)
		round_once(&f);
	assert_true(ev & XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_list(f.a[1], info, 8), 2); /* listener + connection */
	assert_int_equal(xs_tcp_list(f.a[0], info, 8), 1); /* the listener alone */
	assert_int_equal(S(f.a[1])->mq_handoff_tx, 0);
	assert_int_equal(S(f.a[0])->mq_handoff_rx, S(f.a[1])->mq_arp_replicas);
	fix_stop(&f);
}

static void ping_cb(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r,
		    void *ctx)
{
	(void)st;
	(void)h;
	if (!r->error)
		(*(int *)ctx)++;
}

/* Echo replies go by identifier, errors by what they quote. */
static void test_ping_and_icmp_errors(void **state)
{
	struct fix f;
	struct xs_ping h;
	struct xs_udp u;
	int got = 0, i;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q0;
	h = xs_ping_open(f.a[1], ping_cb, &got);
	assert_true(h.id >= 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(xs_ping_send(f.a[1], h, P_IP, (uint16_t)i, 32), 0);
	rounds(&f, 30);
	assert_int_equal(got, 3);
	assert_int_equal(S(f.a[0])->icmp_echo_reply_rx, 0); /* counted by its owner */
	assert_int_equal(S(f.a[1])->icmp_echo_reply_rx, 3);
	/* A datagram from queue 1 to a closed port: the peer's port unreachable
	 * lands on queue 0 and reaches the socket on queue 1. */
	u = xs_udp_open(f.a[1]);
	assert_true(u.id >= 0);
	assert_int_equal(xs_udp_connect(f.a[1], u, P_IP, 9999), 0);
	assert_int_equal(xs_udp_send(f.a[1], u, "x", 1), 1);
	rounds(&f, 10);
	assert_true(xs_udp_poll_events(f.a[1], u) & XS_EV_ERROR);
	assert_int_equal(S(f.a[0])->drop[XS_DROP_ICMP_ERR_NOSOCK], 0);
	assert_int_equal(S(f.a[1])->drop[XS_DROP_ICMP_ERR_NOSOCK], 0);
	fix_stop(&f);
}

/* Every stack learns from an ARP request any of them hears; one answers. */
static void test_arp_replicated(void **state)
{
	struct fix f;
	struct xs_arp_entry_info e[4];
	struct xs_ping h;
	int got = 0;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q0;
	h = xs_ping_open(f.p, ping_cb, &got);
	assert_int_equal(xs_ping_send(f.p, h, A_IP, 1, 8), 0);
	rounds(&f, 10);
	assert_int_equal(got, 1);
	assert_true(S(f.a[0])->arp_tx_reply >= 1);
	assert_int_equal(S(f.a[1])->arp_tx_reply, 0);
	assert_int_equal(S(f.a[1])->arp_rx_request, 0); /* counted once, where it came */
	assert_int_equal(xs_stack_arp_list(f.a[1], f.now, e, 4), 1);
	assert_int_equal(e[0].ip, P_IP);
	assert_true(e[0].resolved);
	assert_memory_equal(e[0].mac, p_mac, 6);
	assert_true(S(f.a[0])->mq_arp_replicas >= 1); /* the peer announced itself too */
	fix_stop(&f);
}

/* A ring that fills: what does not fit is counted, what fits arrives. */
static void test_ring_full_counted(void **state)
{
	struct fix f;
	struct xs_stats before;
	struct xs_udp u;
	int i, sent = 300;
	uint8_t big[1400] = {0};

	(void)state;
	fix_start(&f, 256u << 10);
	f.steer = TO_Q0;
	u = xs_udp_open(f.a[1]);
	assert_int_equal(xs_udp_bind(f.a[1], u, 40001), 0); /* queue 1's share */
	/* The peer learns our MAC first. */
	{
		int got = 0;
		struct xs_ping h = xs_ping_open(f.p, ping_cb, &got);

		assert_int_equal(xs_ping_send(f.p, h, A_IP, 1, 8), 0);
		rounds(&f, 10);
		assert_int_equal(got, 1);
	}
	before = *S(f.a[1]);
	{
		struct xs_udp ph = xs_udp_open(f.p);

		for (i = 0; i < sent; i++) {
			assert_int_equal(xs_udp_sendto(f.p, ph, big, sizeof(big), A_IP, 40001),
					 (ssize_t)sizeof(big));
			if (i % 50 == 49) {
				uint8_t buf[2048];
				size_t n;

				/* Only the peer and queue 0 run: queue 1 is "busy". */
				assert_true(xs_stack_poll(f.p, f.now) >= 0);
				while ((n = xs_mem_dev_take(f.pdev, buf, sizeof(buf))) > 0)
					xs_mem_dev_inject(f.adev[0], buf, n);
				while (xs_stack_poll(f.a[0], f.now) == XS_POLL_BATCH)
					;
			}
		}
	}
	assert_true(S(f.a[0])->drop[XS_DROP_MQ_RING_FULL] > 0);
	assert_int_equal(S(f.a[0])->mq_handoff_tx + S(f.a[0])->drop[XS_DROP_MQ_RING_FULL],
			 (uint64_t)sent);
	rounds(&f, 5);
	assert_int_equal(S(f.a[1])->mq_handoff_rx - before.mq_handoff_rx, S(f.a[0])->mq_handoff_tx);
	assert_int_equal(S(f.a[1])->udp_rx - before.udp_rx, S(f.a[0])->mq_handoff_tx);
	fix_stop(&f);
}

/* With the NIC's Toeplitz key and table known, an active open picks a port
 * whose reply hashes to its own queue. */
static void test_rss_port_choice(void **state)
{
	struct xs_rss rss;
	const uint32_t nicq[2] = {4, 5};
	struct fix f;
	int i;

	(void)state;
	fix_start(&f, 0);
	memset(&rss, 0, sizeof(rss));
	memcpy(rss.key, ms_key, sizeof(ms_key));
	rss.key_len = sizeof(ms_key);
	rss.indir_len = 128;
	for (i = 0; i < 128; i++)
		rss.indir[i] = 4 + (i % 3 == 0); /* not simply the low bit */
	rss.tcp4_ports = 1;
	assert_int_equal(xs_mq_set_rss(f.g, &rss, nicq), 0);
	for (i = 0; i < 20; i++) {
		int s = i & 1;
		struct xs_tcp h = xs_tcp_connect(f.a[s], P_IP, (uint16_t)(1000 + i));
		struct xs_tcp_info info;
		uint8_t in[12];

		assert_true(h.id >= 0);
		assert_int_equal(xs_tcp_get_info(f.a[s], h, &info), 0);
		assert_int_equal(info.lport % 2, s);
		st_be32(in, P_IP);
		st_be32(in + 4, A_IP);
		st_be16(in + 8, (uint16_t)(1000 + i));
		st_be16(in + 10, info.lport);
		assert_int_equal(rss.indir[xs_toeplitz(rss.key, rss.key_len, in, 12) % 128],
				 nicq[s]);
		assert_int_equal(xs_tcp_abort(f.a[s], h), 0);
	}
	fix_stop(&f);
}

/* A pinned port goes to its stack whatever the queue; others refuse it. */
static void test_pinned_port(void **state)
{
	struct fix f;
	struct xs_udp u;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q1;
	assert_int_equal(xs_mq_pin_port(f.g, 5201, 0), 0);
	u = xs_udp_open(f.a[0]);
	assert_int_equal(xs_udp_bind(f.a[0], u, 5201), 0);
	{
		struct xs_udp ph = xs_udp_open(f.p);

		assert_int_equal(xs_udp_sendto(f.p, ph, "hi", 2, A_IP, 5201), 2);
	}
	rounds(&f, 10);
	assert_true(xs_udp_poll_events(f.a[0], u) & XS_EV_READABLE);
	assert_int_equal(S(f.a[1])->mq_handoff_tx, 1);
	assert_false(mq_port_mine(f.a[1], 5201));
	assert_true(mq_port_mine(f.a[0], 5201));
	fix_stop(&f);
}

/* A flow that moves to another queue (a NIC whose indirection table
 * changed, a veth peer that rehashed after a timeout) still finds its
 * connection: the stack with none passes the segment on. */
static void test_flow_moves_queue(void **state)
{
	struct fix f;
	unsigned ev = 0;
	struct xs_tcp h, ah = XS_NO_HANDLE, lh;
	int i;
	char buf[16];
	uint8_t saved[2048];
	size_t saved_len = 0, n;

	(void)state;
	fix_start(&f, 0);
	f.steer = TO_Q1;
	assert_true(xs_tcp_listen(f.a[0], 8080, 16).id >= 0);
	lh = xs_tcp_listen(f.a[1], 8080, 16);
	h = xs_tcp_connect(f.p, A_IP, 8080);
	assert_int_equal(xs_tcp_set_event_cb(f.p, h, tcp_cb, &ev), 0);
	for (i = 0; i < 200 && ah.id < 0; i++) {
		round_once(&f);
		ah = xs_tcp_accept(f.a[1], lh, NULL, NULL);
	}
	assert_true(ah.id >= 0);
	/* From now on the peer's frames reach queue 0. */
	f.steer = TO_Q0;
	assert_int_equal(xs_tcp_send(f.p, h, "moved", 5), 5);
	assert_true(xs_stack_poll(f.p, f.now) >= 0);
	n = xs_mem_dev_take(f.pdev, saved, sizeof(saved));
	assert_true(n > 0);
	saved_len = n;
	assert_int_equal(xs_mem_dev_inject(f.adev[0], saved, n), 0);
	rounds(&f, 20);
	assert_int_equal(xs_tcp_recv(f.a[1], ah, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "moved", 5);
	assert_true(S(f.a[0])->mq_search >= 1);
	assert_int_equal(S(f.a[0])->tcp_rst_tx, 0);
	assert_int_equal(S(f.a[0])->drop[XS_DROP_TCP_NO_CONN], 0);
	/* The reply went out through queue 1 and the peer has it. */
	assert_int_equal(xs_tcp_send(f.a[1], ah, "ok", 2), 2);
	rounds(&f, 20);
	assert_int_equal(xs_tcp_recv(f.p, h, buf, sizeof(buf)), 2);
	/* A segment no queue knows: passed on once, answered by the last. */
	assert_int_equal(xs_tcp_abort(f.a[1], ah), 0);
	rounds(&f, 20);
	{
		uint64_t searched = S(f.a[0])->mq_search, rx1 = S(f.a[1])->mq_handoff_rx;

		assert_int_equal(xs_mem_dev_inject(f.adev[0], saved, saved_len), 0);
		rounds(&f, 5);
		assert_int_equal(S(f.a[0])->mq_search, searched + 1);
		assert_true(S(f.a[1])->mq_handoff_rx > rx1);
		assert_int_equal(S(f.a[1])->mq_search, 0); /* it answered, not passed on */
	}
	fix_stop(&f);
}

/* --- IPv6 ------------------------------------------------------------------------
 * The group holds fd00::1/64 (and a link-local stack 0 makes), the peer
 * fd00::2/64 without DAD. */

static const uint8_t a6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t p6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void ip6_on(struct xs_stack *st, const uint8_t addr[16], uint8_t dad)
{
	struct xs_ip6_config c = {.naddrs = 1, .dad_transmits = dad};

	memcpy(c.addrs[0].addr, addr, 16);
	c.addrs[0].plen = 64;
	assert_int_equal(xs_ip6_enable(st, &c), 0);
}

/* IPv6 on the group (dad: its DAD transmits) and on the peer; the virtual
 * clock run until stack 0's addresses are usable and the follower has them. */
static void fix_start6(struct fix *f, uint8_t dad)
{
	fix_start(f, 0);
	ip6_on(f->a[0], a6, dad);
	ip6_on(f->a[1], a6, dad);
	ip6_on(f->p, p6, XS_IP6_NO_DAD);
}

static size_t addrs_of(struct xs_stack *st, xs_time_t now, struct xs_ip6_addr_info *out)
{
	return xs_ip6_addr_list(st, now, out, XS_IP6_MAX_ADDRS);
}

/* Rounds of step each until both queues hold n preferred addresses. */
static void wait_addrs(struct fix *f, size_t n, xs_time_t step)
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	int i, q, ok = 0;

	for (i = 0; i < 400 && !ok; i++) {
		round_once(f);
		f->now += step;
		ok = 1;
		for (q = 0; q < 2; q++) {
			size_t k, got = addrs_of(f->a[q], f->now, in);

			for (k = 0; k < got; k++)
				ok &= !strcmp(in[k].state, "preferred");
			ok &= got == n;
		}
	}
	assert_true(ok);
}

/* DAD runs once, on stack 0; the follower gets its addresses and routes. */
static void test_ip6_follow_and_dad(void **state)
{
	struct xs_ip6_addr_info in0[XS_IP6_MAX_ADDRS], in1[XS_IP6_MAX_ADDRS];
	struct xs_route6 r[XS_IP6_MAX_ROUTES];
	size_t n0, n1, k;
	struct fix f;

	(void)state;
	fix_start6(&f, 1);
	/* Before DAD ends the follower holds them tentative: it hears the
	 * solicitations for them but sends none itself. */
	wait_addrs(&f, 2, XS_MS(20));
	n0 = addrs_of(f.a[0], f.now, in0);
	n1 = addrs_of(f.a[1], f.now, in1);
	assert_int_equal(n0, 2);
	assert_int_equal(n1, n0);
	for (k = 0; k < n0; k++) {
		assert_memory_equal(in0[k].addr, in1[k].addr, 16);
		assert_int_equal(in0[k].plen, in1[k].plen);
	}
	assert_true(S(f.a[0])->nd_ns_tx >= 2); /* one DAD probe per address */
	assert_int_equal(S(f.a[1])->nd_ns_tx, 0);
	assert_int_equal(S(f.a[0])->nd_dad_conflicts + S(f.a[1])->nd_dad_conflicts, 0);
	assert_true(S(f.a[0])->mq_ip6_follow >= 2); /* tentative, then preferred */
	/* The connected prefix too. */
	assert_int_equal(xs_route6_list(f.a[1], f.now, r, XS_IP6_MAX_ROUTES), 1);
	assert_int_equal(r[0].prefix_len, 64);
	/* Unchanged, nothing more is sent. */
	{
		uint64_t sent = S(f.a[0])->mq_ip6_follow;

		rounds(&f, 300);
		assert_int_equal(S(f.a[0])->mq_ip6_follow, sent);
	}
	fix_stop(&f);
}

/* Another node's DAD answer for our tentative address reaching queue 1: the
 * copy makes stack 0 give the address up, and queue 1 follows. */
static void test_ip6_dad_conflict_on_follower(void **state)
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	struct fix f;
	size_t n, k;
	int i, dup = 0;

	(void)state;
	fix_start(&f, 0);
	ip6_on(f.a[0], a6, 1);
	ip6_on(f.a[1], a6, 1);
	ip6_on(f.p, a6, XS_IP6_NO_DAD); /* the peer holds it already */
	f.steer = TO_Q1;
	for (i = 0; i < 300 && !dup; i++) {
		round_once(&f);
		f.now += XS_MS(20);
		n = addrs_of(f.a[1], f.now, in);
		for (k = 0; k < n; k++)
			dup |= !memcmp(in[k].addr, a6, 16) && !strcmp(in[k].state, "duplicate");
	}
	assert_true(dup);
	assert_int_equal(S(f.a[0])->nd_dad_conflicts, 1);
	assert_int_equal(S(f.a[1])->nd_dad_conflicts, 0);
	assert_true(S(f.a[1])->nd_na_rx >= 1);	  /* where it came */
	assert_int_equal(S(f.a[0])->nd_na_rx, 0); /* counted once */
	assert_true(S(f.a[1])->mq_nd_replicas >= 1);
	fix_stop(&f);
}

/* The peer's solicitation reaching queue 1: learned by both, answered by stack 0
 * (the owner of the addresses) from its copy. */
static void test_ip6_nd_replicated(void **state)
{
	struct xs_nd_entry_info e[4];
	struct xs_addr dst;
	struct xs_ping h;
	struct fix f;
	int got = 0;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	f.steer = TO_Q1;
	xs_addr_from_ip6(&dst, a6);
	h = xs_ping_open(f.p, ping_cb, &got);
	assert_int_equal(xs_ping_send_addr(f.p, h, &dst, 1, 8), 0);
	rounds(&f, 10);
	assert_int_equal(got, 1);
	assert_true(S(f.a[0])->nd_na_tx >= 1);
	assert_int_equal(S(f.a[1])->nd_na_tx, 0);
	assert_true(S(f.a[1])->nd_ns_rx >= 1);
	assert_int_equal(S(f.a[0])->nd_ns_rx, 0); /* counted once, where it came */
	assert_true(S(f.a[1])->mq_nd_replicas >= 1);
	assert_int_equal(S(f.a[1])->icmp6_echo_reply_tx, 1); /* the echo stays */
	for (int q = 0; q < 2; q++) {
		assert_int_equal(xs_ip6_nd_list(f.a[q], f.now, e, 4), 1);
		assert_memory_equal(e[0].addr, p6, 16);
		assert_memory_equal(e[0].mac, p_mac, 6);
	}
	fix_stop(&f);
}

/* Neighbor discovery is copied only to the stacks that can use it: what
 * lands on stack 0 and teaches the others nothing (a solicitation for a
 * target not ours, another node's DAD probe, an advertisement for our own
 * address) stays there, so a flood of it costs one queue, not every one. */
static void test_ip6_nd_copies_only_useful(void **state)
{
	uint8_t fr[FRAME_MAX], sn[16], mac[6], other[16];
	uint64_t rx1;
	struct fix f;
	int i;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	rounds(&f, 5);
	sn6(a6, sn);
	mcast_mac6(sn, mac);
	rx1 = S(f.a[1])->mq_handoff_rx;
	/* 100 solicitations for targets that are not ours, each with a SLL. */
	memcpy(other, a6, 16);
	for (i = 0; i < 100; i++) {
		put16(other + 12, (uint16_t)(i + 1));
		assert_int_equal(
		    xs_mem_dev_inject(f.adev[0], fr, mk_ns6(fr, a_mac, p6, a6, other, 255)), 0);
		if (i % 16 == 15)
			round_once(&f);
	}
	/* Another node's DAD for our address (defended by stack 0), and an
	 * advertisement for our address (a conflict, counted there). */
	assert_int_equal(xs_mem_dev_inject(f.adev[0], fr, mk_ns6(fr, mac, unspec6, sn, a6, 255)),
			 0);
	assert_int_equal(
	    xs_mem_dev_inject(f.adev[0], fr, mk_na6(fr, a_mac, p6, a6, a6, 0x20, p_mac)), 0);
	rounds(&f, 3);
	assert_int_equal(S(f.a[0])->drop[XS_DROP_ND_NOT_OURS], 100);
	assert_int_equal(S(f.a[0])->drop[XS_DROP_ND_CONFLICT], 1);
	assert_true(S(f.a[0])->nd_na_tx >= 1); /* the defence */
	assert_int_equal(S(f.a[0])->mq_nd_replicas, 0);
	assert_int_equal(S(f.a[1])->mq_handoff_rx, rx1);
	/* A solicitation for our address with the sender's SLL teaches every
	 * stack the sender: copied. */
	assert_int_equal(xs_mem_dev_inject(f.adev[0], fr, mk_ns6(fr, mac, p6, sn, a6, 255)), 0);
	rounds(&f, 3);
	assert_int_equal(S(f.a[0])->mq_nd_replicas, 1);
	/* On a follower, one not ours goes to stack 0, whose addresses the
	 * follower's copy may lag. */
	put16(other + 12, 0x7777);
	assert_int_equal(xs_mem_dev_inject(f.adev[1], fr, mk_ns6(fr, a_mac, p6, a6, other, 255)),
			 0);
	rounds(&f, 3);
	assert_int_equal(S(f.a[1])->mq_nd_replicas, 1);
	fix_stop(&f);
}

/* A unicast MLD query that RSS gives to queue 1 is stack 0's, which keeps
 * the groups and alone reports them: handed over and answered from there. */
static void test_ip6_mld_query_to_stack0(void **state)
{
	static const uint8_t ll2[16] = {0xfe, 0x80, [15] = 2};
	uint8_t fr[FRAME_MAX], q[20] = {0};
	uint64_t rep;
	struct fix f;
	int i;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	for (i = 0; i < 60; i++) { /* the joins' reports sent */
		round_once(&f);
		f.now += XS_MS(50);
	}
	rep = S(f.a[0])->mld_reports_tx;
	assert_true(rep >= 2);
	assert_int_equal(S(f.a[1])->mld_reports_tx, 0);
	/* A General Query (MLDv2, 28 bytes) with a 1 s Maximum Response Delay. */
	assert_int_equal(
	    xs_mem_dev_inject(f.adev[1], fr,
			      mk_icmp6(fr, a_mac, ll2, a6, 1, 130, 0, 1000u << 16, q, sizeof(q))),
	    0);
	for (i = 0; i < 30; i++) {
		round_once(&f);
		f.now += XS_MS(50);
	}
	assert_int_equal(S(f.a[0])->mld_queries, 1);
	assert_int_equal(S(f.a[1])->mld_queries, 0);
	assert_int_equal(S(f.a[0])->mld_reports_tx, rep + 1); /* the answer */
	assert_int_equal(S(f.a[1])->mld_reports_tx, 0);
	fix_stop(&f);
}

/* An active open from queue 1 whose replies (and the neighbor advertisement
 * that resolves the peer) all land on queue 0: handed over. */
static void test_ip6_active_open_handed_over(void **state)
{
	struct xs_tcp lh, h;
	struct xs_addr dst;
	struct fix f;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	f.steer = TO_Q0;
	lh = xs_tcp_listen(f.p, 80, 16);
	assert_true(lh.id >= 0);
	xs_addr_from_ip6(&dst, p6);
	h = xs_tcp_connect_addr(f.a[1], &dst, 80, NULL);
	assert_true(h.id >= 0);
	handed_over_exchange(&f, lh, h, "6");
	fix_stop(&f);
}

/* Echo replies by identifier, errors by the port of what they quote. */
static void test_ip6_ping_and_errors(void **state)
{
	struct xs_addr dst;
	struct xs_ping h;
	struct xs_udp u;
	struct fix f;
	int got = 0, i;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	f.steer = TO_Q0;
	xs_addr_from_ip6(&dst, p6);
	h = xs_ping_open(f.a[1], ping_cb, &got);
	assert_true(h.id >= 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(xs_ping_send_addr(f.a[1], h, &dst, (uint16_t)i, 32), 0);
	rounds(&f, 30);
	assert_int_equal(got, 3);
	assert_int_equal(S(f.a[0])->icmp6_echo_reply_rx, 0);
	assert_int_equal(S(f.a[1])->icmp6_echo_reply_rx, 3);
	u = xs_udp_open(f.a[1]);
	assert_true(u.id >= 0);
	assert_int_equal(xs_udp_connect_addr(f.a[1], u, &dst, 9999), 0);
	assert_int_equal(xs_udp_send(f.a[1], u, "x", 1), 1);
	rounds(&f, 10);
	assert_true(xs_udp_poll_events(f.a[1], u) & XS_EV_ERROR);
	assert_int_equal(S(f.a[0])->drop[XS_DROP_ICMP_ERR_NOSOCK], 0);
	assert_int_equal(S(f.a[1])->drop[XS_DROP_ICMP_ERR_NOSOCK], 0);
	fix_stop(&f);
}

/* An IPv6 flow that moves queue finds its connection along the queues. */
static void test_ip6_flow_moves_queue(void **state)
{
	struct xs_tcp h, ah = XS_NO_HANDLE, lh;
	struct xs_addr dst;
	struct fix f;
	char buf[16];
	int i;

	(void)state;
	fix_start6(&f, XS_IP6_NO_DAD);
	wait_addrs(&f, 2, 0);
	f.steer = TO_Q1;
	assert_true(xs_tcp_listen(f.a[0], 8080, 16).id >= 0);
	lh = xs_tcp_listen(f.a[1], 8080, 16);
	xs_addr_from_ip6(&dst, a6);
	h = xs_tcp_connect_addr(f.p, &dst, 8080, NULL);
	assert_true(h.id >= 0);
	for (i = 0; i < 200 && ah.id < 0; i++) {
		round_once(&f);
		ah = xs_tcp_accept(f.a[1], lh, NULL, NULL);
	}
	assert_true(ah.id >= 0);
	assert_int_equal(S(f.a[1])->mq_handoff_tx, 0); /* a passive open stays */
	f.steer = TO_Q0;
	assert_int_equal(xs_tcp_send(f.p, h, "moved", 5), 5);
	rounds(&f, 20);
	assert_int_equal(xs_tcp_recv(f.a[1], ah, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "moved", 5);
	assert_true(S(f.a[0])->mq_search >= 1);
	assert_int_equal(S(f.a[0])->tcp_rst_tx, 0);
	fix_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_toeplitz_vectors),
	    cmocka_unit_test(test_group_api),
	    cmocka_unit_test(test_partitions),
	    cmocka_unit_test(test_active_open_replies_handed_over),
	    cmocka_unit_test(test_passive_open_stays),
	    cmocka_unit_test(test_ping_and_icmp_errors),
	    cmocka_unit_test(test_arp_replicated),
	    cmocka_unit_test(test_ring_full_counted),
	    cmocka_unit_test(test_rss_port_choice),
	    cmocka_unit_test(test_pinned_port),
	    cmocka_unit_test(test_flow_moves_queue),
	    cmocka_unit_test(test_ip6_follow_and_dad),
	    cmocka_unit_test(test_ip6_dad_conflict_on_follower),
	    cmocka_unit_test(test_ip6_nd_replicated),
	    cmocka_unit_test(test_ip6_nd_copies_only_useful),
	    cmocka_unit_test(test_ip6_mld_query_to_stack0),
	    cmocka_unit_test(test_ip6_active_open_handed_over),
	    cmocka_unit_test(test_ip6_ping_and_errors),
	    cmocka_unit_test(test_ip6_flow_moves_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
