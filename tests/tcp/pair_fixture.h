/* Two stacks over linked mem devices, each wrapped in a seeded fault device,
 * on one virtual clock, with applications that send a seeded pattern and check
 * every byte received. Header-only (static inline), for tests/tcp/. */
#ifndef XS_TEST_PAIR_FIXTURE_H
#define XS_TEST_PAIR_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>
#include <xdpstack/stats.h>

#include "dev/dev.h"

#define STEP (XS_MS(1) / 10)   /* 100 us per round while frames move */
#define NFRAMES 4096            /* per device: room for 100 connections' windows */
#define CHUNK 16384
#define MAX_CONNS 256
#define PORT_BULK 5001
#define PORT_MANY 5002
#define PORT_TORTURE 5003
#define END_LIMIT XS_SEC(600)   /* past TIME-WAIT (60 s) and the user timeout (300 s) */

static const uint32_t ips[2] = {0x0a000001u, 0x0a000002u};
static const uint8_t macs[2][6] = {{0x02, 0, 0, 0, 0, 0x0a}, {0x02, 0, 0, 0, 0, 0x0b}};

/* --- data pattern and hash --------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void pattern(uint64_t seed, uint64_t off, uint8_t *b, size_t n)
{
	size_t i;
	uint64_t w = mix64(seed ^ (off >> 3));

	for (i = 0; i < n; i++, off++) {
		if (i && !(off & 7))
			w = mix64(seed ^ (off >> 3));
		b[i] = (uint8_t)(w >> ((off & 7) * 8));
	}
}

static inline uint64_t fnv1a(uint64_t h, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* --- the pair ------------------------------------------------------------------ */

struct pair {
	struct xs_dev *dev[2]; /* fault devices, each owning a mem device */
	struct xs_stack *st[2];
	xs_time_t now;
	xs_time_t app_next;    /* the test's own next deadline (XS_TIME_NEVER: none) */
	uint64_t rounds;
};

static inline void ping_cb(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	(void)st;
	(void)h;
	if (r->error == 0)
		(*(int *)ctx)++;
}

static inline void pair_poll(struct pair *p);

/* Each side pings the other once, so both ARP caches are warm: a burst of
 * SYNs must not meet ARP's bounded queue (that is ARP's test, not TCP's). */
static inline void pair_resolve(struct pair *p)
{
	struct xs_ping h[2];
	int replies = 0, s, i;

	for (s = 0; s < 2; s++) {
		h[s] = xs_ping_open(p->st[s], ping_cb, &replies);
		assert_true(h[s].id >= 0);
		assert_int_equal(xs_ping_send(p->st[s], h[s], ips[!s], 1, 8), 0);
	}
	for (i = 0; i < 100 && replies < 2; i++) {
		pair_poll(p);
		p->now += STEP;
	}
	assert_int_equal(replies, 2);
	for (s = 0; s < 2; s++)
		assert_int_equal(xs_ping_close(p->st[s], h[s]), 0);
}

/* buf_idle_ms: both stacks' tcp_buf_idle_ms (0: the default). */
static inline void pair_start_idle(struct pair *p, const struct xs_fault_config *fc,
				   unsigned buf_idle_ms)
{
	struct xs_dev *mem[2];
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 2; i++) {
		struct xs_config cfg = {.ip = ips[i], .prefix_len = 24,
					.tcp_buf_idle_ms = buf_idle_ms};

		mem[i] = xs_mem_dev_new(macs[i], 1500, NFRAMES);
		assert_non_null(mem[i]);
		p->dev[i] = xs_fault_dev_new(mem[i], &fc[i]);
		assert_non_null(p->dev[i]);
		p->st[i] = xs_stack_new(&cfg, p->dev[i]);
		assert_non_null(p->st[i]);
	}
	xs_mem_dev_link(mem[0], mem[1]);
	p->app_next = UINT64_MAX;
	/* A clean link while ARP resolves, then the faults asked for. */
	for (i = 0; i < 2; i++)
		xs_fault_dev_set(p->dev[i], &(struct xs_fault_config){.ipv4_only = 1});
	pair_resolve(p);
	for (i = 0; i < 2; i++)
		xs_fault_dev_set(p->dev[i], &fc[i]);
}

static inline void pair_start(struct pair *p, const struct xs_fault_config *fc)
{
	pair_start_idle(p, fc, 0);
}

static inline void pair_poll(struct pair *p)
{
	assert_true(xs_stack_poll(p->st[0], p->now) >= 0);
	assert_true(xs_stack_poll(p->st[1], p->now) >= 0);
	p->rounds++;
}

/* No frame anywhere between or inside the devices. */
static inline bool pair_quiet(const struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct xs_dev_frames fr;

		p->dev[i]->ops->frames(p->dev[i], &fr);
		if (fr.fill || fr.tx_queued || fr.rx_borrowed || fr.tx_borrowed || fr.in_flight)
			return false;
	}
	return true;
}

static inline void pair_advance(struct pair *p)
{
	xs_time_t next = p->now + STEP, t;

	if (pair_quiet(p)) {
		t = xs_stack_next_timer(p->st[0]);
		if (xs_stack_next_timer(p->st[1]) < t)
			t = xs_stack_next_timer(p->st[1]);
		if (p->app_next < t)
			t = p->app_next;
		if (t > next)
			next = t;
	}
	p->now = next;
}

static inline size_t pair_conns(const struct pair *p, int side)
{
	static struct xs_tcp_info info[MAX_CONNS + 8];

	return xs_tcp_list(p->st[side], info, MAX_CONNS + 8);
}

static inline void dump_conns(const struct pair *p)
{
	static struct xs_tcp_info info[MAX_CONNS + 8];
	int s;

	for (s = 0; s < 2; s++) {
		size_t n = xs_tcp_list(p->st[s], info, MAX_CONNS + 8), i;

		for (i = 0; i < n && i < 8; i++)
			print_message("  %c: %u -> %u %s handle %d snd_queue %u rcv_queue %u "
				      "cwnd %u ssthresh %u snd_wnd %u rcv_wnd %u rto %u ms "
				      "retransmits %llu\n",
				      'A' + s, info[i].lport, info[i].rport,
				      xs_tcp_state_name(info[i].state), info[i].handle.id,
				      info[i].snd_queue, info[i].rcv_queue, info[i].cwnd,
				      info[i].ssthresh, info[i].snd_wnd, info[i].rcv_wnd,
				      info[i].rto_ms, (unsigned long long)info[i].retransmits);
	}
}

static inline void dump_drops(const struct pair *p)
{
	int s, i;

	for (s = 0; s < 2; s++) {
		const struct xs_stats *st = xs_stack_stats(p->st[s]);

		for (i = 1; i < XS_DROP_MAX; i++)
			if (st->drop[i])
				print_message("  %c drop %s: %llu\n", 'A' + s,
					      xs_drop_name((enum xs_drop)i),
					      (unsigned long long)st->drop[i]);
	}
}

/* Runs until neither stack has a connection (after TIME-WAIT), then proves
 * every frame came home and frees both sides. */
static inline void pair_stop(struct pair *p)
{
	xs_time_t limit = p->now + END_LIMIT;
	int i;

	p->app_next = UINT64_MAX;
	while (pair_conns(p, 0) || pair_conns(p, 1) || !pair_quiet(p)) {
		if (p->now > limit) {
			dump_conns(p);
			fail_msg("connections left %zu/%zu at t=%.3f s", pair_conns(p, 0),
				 pair_conns(p, 1), p->now / 1e9);
		}
		pair_poll(p);
		pair_advance(p);
	}
	/* A few idle rounds: anything held by a fault device leaves. */
	for (i = 0; i < 8; i++) {
		pair_poll(p);
		p->now += STEP;
	}
	for (i = 0; i < 2; i++) {
		struct xs_dev_frames fr;

		p->dev[i]->ops->frames(p->dev[i], &fr);
		assert_int_equal(fr.fill, 0);
		assert_int_equal(fr.rx_borrowed, 0);
		assert_int_equal(fr.tx_borrowed, 0);
		assert_int_equal(fr.tx_queued, 0);
		assert_int_equal(fr.in_flight, 0);
		assert_int_equal(fr.free, fr.total);
		assert_int_equal(fr.total, NFRAMES);
	}
	for (i = 0; i < 2; i++)
		xs_stack_free(p->st[i]);
	for (i = 0; i < 2; i++)
		xs_dev_free(p->dev[i]);
}

/* --- connections and their two flows --------------------------------------- */

struct flow {
	uint64_t seed, len;    /* pattern and length of what this side sends */
	uint64_t sent, rcvd;   /* sent by this side; received by the other */
	uint64_t hash_tx, hash_rx;
	uint64_t bad_at;       /* 1 + first offset received wrong, 0 if none */
};

enum plan {
	PLAN_GRACEFUL,  /* send all, shutdown, read to EOF, close */
	PLAN_CLOSE,     /* send all, then close without waiting for the peer */
	PLAN_ABORT,     /* abort after sending part */
	PLAN_SHUT_EARLY,/* shutdown after part, read to EOF, close */
	PLAN_IDLE_CLOSE,/* send nothing, close at a random time */
	PLAN_MAX
};

struct conn {
	struct xs_tcp h[2];    /* handles on A and B, id -1 when none */
	struct flow f[2];      /* f[s]: what side s sends */
	enum plan plan[2];
	uint64_t cut[2];       /* PLAN_ABORT / SHUT_EARLY: bytes before acting */
	xs_time_t at[2];       /* not before this time: the final action */
	bool shut[2], eof[2], done[2];
	int err[2];
	bool established;
	bool never_accepted;   /* B never saw it: A gave up during the handshake */
	xs_time_t deadline;    /* the application gives up (aborts) then; 0: never */
	bool timed_out[2];
	uint16_t lport;        /* A's port, to match B's accepted connection */
};

static inline void flow_init(struct flow *f, uint64_t seed, uint64_t len)
{
	memset(f, 0, sizeof(*f));
	f->seed = seed;
	f->len = len;
	f->hash_tx = f->hash_rx = FNV_INIT;
}

static inline void conn_init(struct conn *c, uint64_t seed, uint64_t len_a, uint64_t len_b)
{
	memset(c, 0, sizeof(*c));
	c->h[0] = c->h[1] = (struct xs_tcp)XS_NO_HANDLE;
	flow_init(&c->f[0], mix64(seed), len_a);
	flow_init(&c->f[1], mix64(seed + 1), len_b);
}

/* Pushes what side s still has to send; returns false on an error. */
static inline void conn_send(struct pair *p, struct conn *c, int s, uint64_t upto)
{
	static uint8_t buf[CHUNK];
	struct flow *f = &c->f[s];

	while (f->sent < upto) {
		size_t n = upto - f->sent < CHUNK ? (size_t)(upto - f->sent) : CHUNK;
		ssize_t r;

		pattern(f->seed, f->sent, buf, n);
		r = xs_tcp_send(p->st[s], c->h[s], buf, n);
		if (r <= 0) {
			if (r != -EAGAIN && !c->err[s])
				c->err[s] = (int)r;
			return;
		}
		f->hash_tx = fnv1a(f->hash_tx, buf, (size_t)r);
		f->sent += (uint64_t)r;
	}
}

static inline void conn_recv(struct pair *p, struct conn *c, int s)
{
	static uint8_t buf[CHUNK], want[CHUNK];
	struct flow *f = &c->f[!s];

	for (;;) {
		ssize_t r = xs_tcp_recv(p->st[s], c->h[s], buf, sizeof(buf));

		if (r == 0) {
			c->eof[s] = true;
			return;
		}
		if (r < 0) {
			if (r != -EAGAIN && !c->err[s])
				c->err[s] = (int)r;
			return;
		}
		pattern(f->seed, f->rcvd, want, (size_t)r);
		if (!f->bad_at && memcmp(buf, want, (size_t)r)) {
			size_t i = 0;

			while (buf[i] == want[i])
				i++;
			f->bad_at = f->rcvd + i + 1;
		}
		f->hash_rx = fnv1a(f->hash_rx, buf, (size_t)r);
		f->rcvd += (uint64_t)r;
		if (f->rcvd > f->len && !f->bad_at)
			f->bad_at = f->len + 1;
	}
}

static inline void conn_release(struct pair *p, struct conn *c, int s, bool abort)
{
	assert_int_equal(abort ? xs_tcp_abort(p->st[s], c->h[s]) : xs_tcp_close(p->st[s], c->h[s]),
			 0);
	c->h[s] = (struct xs_tcp)XS_NO_HANDLE;
	c->done[s] = true;
}

/* One side's application, by its plan. */
static inline void conn_app(struct pair *p, struct conn *c, int s)
{
	struct flow *f = &c->f[s];
	struct xs_tcp_info info;

	if (c->done[s] || c->h[s].id < 0)
		return;
	/* An application timeout: a peer whose RST was lost leaves a half-open
	 * connection that only the application (or keepalive) can end. */
	if (c->deadline) {
		if (p->now >= c->deadline) {
			c->timed_out[s] = true;
			conn_release(p, c, s, true);
			return;
		}
		if (c->deadline < p->app_next)
			p->app_next = c->deadline;
	}
	if (!c->established) {
		if (xs_tcp_get_info(p->st[s], c->h[s], &info) == 0 &&
		    info.state == XS_TCP_SYN_SENT)
			return;
		c->established = true;
	}
	switch (c->plan[s]) {
	case PLAN_GRACEFUL:
	case PLAN_CLOSE:
		conn_send(p, c, s, f->len);
		if (c->plan[s] == PLAN_GRACEFUL)
			conn_recv(p, c, s);
		if ((f->sent == f->len || c->err[s]) && !c->shut[s]) {
			if (c->plan[s] == PLAN_CLOSE) {
				if (p->now >= c->at[s])
					conn_release(p, c, s, false);
				else if (c->at[s] < p->app_next)
					p->app_next = c->at[s];
				return;
			}
			xs_tcp_shutdown(p->st[s], c->h[s]);
			c->shut[s] = true;
		}
		if (c->shut[s] && (c->eof[s] || c->err[s]))
			conn_release(p, c, s, false);
		return;
	case PLAN_ABORT:
		conn_send(p, c, s, c->cut[s]);
		conn_recv(p, c, s);
		if (f->sent >= c->cut[s] || c->err[s]) {
			if (p->now >= c->at[s])
				conn_release(p, c, s, true);
			else if (c->at[s] < p->app_next)
				p->app_next = c->at[s];
		}
		return;
	case PLAN_SHUT_EARLY:
		conn_send(p, c, s, c->cut[s]);
		if ((f->sent >= c->cut[s] || c->err[s]) && !c->shut[s]) {
			xs_tcp_shutdown(p->st[s], c->h[s]);
			c->shut[s] = true;
		}
		conn_recv(p, c, s);
		if (c->shut[s] && (c->eof[s] || c->err[s]))
			conn_release(p, c, s, false);
		return;
	case PLAN_IDLE_CLOSE:
		conn_recv(p, c, s);
		if (p->now >= c->at[s])
			conn_release(p, c, s, false);
		else if (c->at[s] < p->app_next)
			p->app_next = c->at[s];
		return;
	default:
		return;
	}
}

/* --- a set of connections from A to a listener on B -------------------------- */

struct run {
	struct pair p;
	struct conn c[MAX_CONNS];
	int n, accepted;
	struct xs_tcp lh;
	xs_time_t close_listener_at; /* B closes its listener then (0: at the end) */
};

static inline void run_open(struct run *r, uint16_t port, int cubic)
{
	struct xs_tcp_info info;
	int i;

	r->lh = xs_tcp_listen(r->p.st[1], port, MAX_CONNS);
	assert_true(r->lh.id >= 0);
	assert_int_equal(xs_tcp_setopt(r->p.st[1], r->lh, XS_TCP_CC_CUBIC, cubic), 0);
	for (i = 0; i < r->n; i++) {
		r->c[i].h[0] = xs_tcp_connect(r->p.st[0], ips[1], port);
		assert_true(r->c[i].h[0].id >= 0);
		assert_int_equal(xs_tcp_setopt(r->p.st[0], r->c[i].h[0], XS_TCP_CC_CUBIC, cubic),
				 0);
		assert_int_equal(xs_tcp_get_info(r->p.st[0], r->c[i].h[0], &info), 0);
		r->c[i].lport = info.lport;
	}
	r->accepted = 0;
}

/* Matches accepted connections to A's by A's local port. */
static inline void run_accept(struct run *r)
{
	uint16_t rport;
	struct xs_tcp h;
	int i;

	if (r->lh.id < 0)
		return;
	while ((h = xs_tcp_accept(r->p.st[1], r->lh, NULL, &rport)).id >= 0) {
		for (i = 0; i < r->n; i++)
			if (r->c[i].lport == rport && r->c[i].h[1].id < 0 && !r->c[i].done[1])
				break;
		if (i == r->n)
			fail_msg("accepted a connection from port %u nobody opened", rport);
		r->c[i].h[1] = h;
		r->accepted++;
	}
}

/* B's half-open connections (SYN-RECEIVED) on the listener's port. */
static inline int run_half_open(const struct run *r)
{
	static struct xs_tcp_info info[MAX_CONNS + 8];
	size_t n = xs_tcp_list(r->p.st[1], info, MAX_CONNS + 8), i;
	int k = 0;

	for (i = 0; i < n; i++)
		if (info[i].state == XS_TCP_SYN_RECEIVED)
			k++;
	return k;
}

static inline bool run_finished(struct run *r)
{
	bool waiting_b = false;
	int i;

	for (i = 0; i < r->n; i++) {
		if (!r->c[i].done[0])
			return false;
		if (!r->c[i].done[1]) {
			if (r->c[i].h[1].id >= 0)
				return false;
			waiting_b = true;
		}
	}
	if (!waiting_b)
		return true;
	/* All of A is done; what B has not accepted by now and does not
	 * hold half-open it will never see (A gave up during the handshake). */
	if (run_half_open(r))
		return false;
	for (i = 0; i < r->n; i++) {
		if (!r->c[i].done[1] && r->c[i].h[1].id < 0) {
			r->c[i].done[1] = true;
			r->c[i].never_accepted = true;
		}
	}
	return true;
}

/* Drives every connection's two applications until all let go. */
static inline void run_drive(struct run *r, xs_time_t limit)
{
	int i, s;

	while (!run_finished(r)) {
		if (r->p.now > limit) {
			for (i = 0; i < r->n; i++)
				if (!r->c[i].done[0] || !r->c[i].done[1])
					print_message("conn %d (plans %d/%d): A %d/%d sent %llu rcvd %llu err %d, "
						      "B %d/%d sent %llu rcvd %llu err %d\n",
						      i, r->c[i].plan[0], r->c[i].plan[1],
						      r->c[i].h[0].id, r->c[i].done[0],
						      (unsigned long long)r->c[i].f[0].sent,
						      (unsigned long long)r->c[i].f[1].rcvd,
						      r->c[i].err[0], r->c[i].h[1].id, r->c[i].done[1],
						      (unsigned long long)r->c[i].f[1].sent,
						      (unsigned long long)r->c[i].f[0].rcvd,
						      r->c[i].err[1]);
			dump_conns(&r->p);
			fail_msg("not finished at t=%.3f s", r->p.now / 1e9);
		}
		pair_poll(&r->p);
		run_accept(r);
		r->p.app_next = UINT64_MAX;
		if (r->close_listener_at && r->lh.id >= 0) {
			if (r->p.now >= r->close_listener_at) {
				assert_int_equal(xs_tcp_close(r->p.st[1], r->lh), 0);
				r->lh = (struct xs_tcp)XS_NO_HANDLE;
			} else {
				r->p.app_next = r->close_listener_at;
			}
		}
		for (i = 0; i < r->n; i++)
			for (s = 0; s < 2; s++)
				conn_app(&r->p, &r->c[i], s);
		pair_advance(&r->p);
	}
}

static inline void run_close_listener(struct run *r)
{
	if (r->lh.id >= 0)
		assert_int_equal(xs_tcp_close(r->p.st[1], r->lh), 0);
	r->lh = (struct xs_tcp)XS_NO_HANDLE;
}

/* Both directions complete and intact. */
static inline void expect_intact(const struct conn *c, int i)
{
	int s;

	for (s = 0; s < 2; s++) {
		const struct flow *f = &c->f[s];

		if (f->bad_at)
			fail_msg("conn %d, %c->%c: byte %llu differs", i, 'A' + s, 'B' - s,
				 (unsigned long long)f->bad_at - 1);
		if (f->sent != f->len || f->rcvd != f->len)
			fail_msg("conn %d, %c->%c: sent %llu received %llu of %llu (err %d/%d)", i,
				 'A' + s, 'B' - s, (unsigned long long)f->sent,
				 (unsigned long long)f->rcvd, (unsigned long long)f->len, c->err[0],
				 c->err[1]);
		assert_true(f->hash_tx == f->hash_rx);
		assert_true(c->eof[0] && c->eof[1]);
		assert_int_equal(c->err[s], 0);
	}
}

#endif
