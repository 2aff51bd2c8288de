/* libFuzzer target: the TCP input path of a whole stack over the mem device,
 * driven as a peer would drive it: each input is a script of TCP segments
 * (with sequence and acknowledgment numbers relative to what the connection
 * expects, so that mutations reach deep states), application calls and time.
 *
 * Build and run from the repository root (`make fuzz` builds every target):
 *
 *   make build/fuzz/fuzz_tcp_input
 *   mkdir -p build/fuzz/corpus-tcp_input
 *   build/fuzz/fuzz_tcp_input -max_len=2048 -max_total_time=120 \
 *     build/fuzz/corpus-tcp_input tests/fuzz/corpus/tcp_input
 *
 * Every input starts from the same state, so crashes replay: a new stack
 * (10.0.0.1) with a listener on port 80 and one connection from the peer
 * (10.0.0.2:40000), established by a scripted handshake (MSS 1460, window
 * scale 7, SACK, timestamps) and accepted. The harness is the peer: it reads
 * every frame the stack sends and keeps, per connection, the peer's view of
 * both sequence spaces (ISNs, what the stack acknowledged, the highest byte the
 * stack sent, its last timestamp). Input records, until the input ends:
 *
 *   op 0-4  segment on a known connection:
 *           conn flags ctl seqd(2) ackd(2) wnd(2) optlen paylen, then optlen
 *           option bytes and, if ctl bit 6, paylen*8 payload bytes from the
 *           input (else a pattern). ctl bits 0-1: seq base (0: what the stack
 *           acknowledged, 1: the peer's next byte, 2: peer ISN + 1, 3: raw
 *           seqd << 16); bits 2-3: ack base (0: the highest byte the stack
 *           sent, 1: what the peer acknowledged last, 2: stack ISN + 1, 3: raw);
 *           seqd/ackd are signed offsets; bit 4: a valid timestamp option goes
 *           first; bit 5: one SACK block (the fuzzed offsets apply to it) goes
 *           too; bit 7: poll at once (else the segment waits for the next one).
 *   op 5    application call: conn action arg (read, write, shutdown, close,
 *           abort, no-delay, keepalive, connect, accept, user timeout, rcvbuf,
 *           congestion control or, arg >= 0x80, a zero-copy call: peek,
 *           consume, reserve, commit by arg & 3, leaving lends out);
 *           but 0xfd (op 5 too): an ICMP error from the peer quoting one of the
 *           connection's segments: conn kind seqd, kind bits 0-2: net, host,
 *           protocol, port unreachable, fragmentation needed (MTU 576 or 1400,
 *           bit 6), time exceeded, parameter problem, administratively
 *           prohibited; bit 3: quoted seq = stack ISN + seqd, else highest
 *           sent - seqd; bit 5: the quoted header has 8 bytes of options
 *   op 6    time: a b, advance (a << 8 | b) * 100 us and poll
 *   op 7    a segment like op 0-4 from a new peer port (listener, cookies,
 *           closed ports); conn selects the port
 *
 * Segments carry valid IPv4 and TCP checksums. After each poll every frame
 * sent is taken; at the end the stack is polled through 2 s of virtual time,
 * every device frame must be home, and the TCBs of the known connections must
 * satisfy the sequence-space invariants (checked through the internal header:
 * this is a white-box harness). A violation aborts the run. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "core/stack.h"
#include "dev/dev.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/tcp.h"
#include "fuzz_tx.h"

#define OUR_IP 0x0a000001u /* 10.0.0.1/24 */
#define PEER_IP 0x0a000002u
#define FRAME_MAX 2048
#define NVIEW 8
#define MAX_RECORDS 128
#define ICMP_OP 0xfd /* an op 5 byte that means an ICMP error, not an app call */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* The peer's view of one connection. */
struct view {
	bool used;
	uint16_t lport, rport;  /* the stack's port, the peer's */
	uint32_t peer_iss, peer_nxt; /* our (the peer's) sequence space */
	uint32_t stack_iss;     /* from its SYN or SYN-ACK */
	bool stack_syn;         /* stack_iss is known */
	uint32_t stack_max;     /* highest seq + len the stack sent */
	uint32_t stack_ack;     /* what the stack acknowledged last */
	uint32_t peer_ack;      /* what we acknowledged last */
	uint32_t ts_recent;     /* the stack's last TSval */
	struct xs_tcp h;        /* the stack's handle, id -1 if none */
};

static struct xs_dev *dev;
static struct xs_stack *st;
static xs_time_t now;
static struct xs_tcp lh;
static struct view views[NVIEW];
static uint32_t peer_clock;     /* our TSval */
static uint8_t pending[16][FRAME_MAX];
static size_t pending_len[16];
static int npending;

static void check_at(bool ok, const char *what, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_tcp_input.c:%d: check failed: %s\n", line, what);
		abort();
	}
}

#define check(x) check_at((x), #x, __LINE__)

static struct view *view_find(uint16_t lport, uint16_t rport)
{
	int i;

	for (i = 0; i < NVIEW; i++)
		if (views[i].used && views[i].lport == lport && views[i].rport == rport)
			return &views[i];
	return NULL;
}

static struct view *view_new(uint16_t lport, uint16_t rport)
{
	int i;

	for (i = 0; i < NVIEW; i++) {
		if (!views[i].used) {
			memset(&views[i], 0, sizeof(views[i]));
			views[i].used = true;
			views[i].lport = lport;
			views[i].rport = rport;
			views[i].h = (struct xs_tcp)XS_NO_HANDLE;
			views[i].peer_iss = 0x10000000u * (uint32_t)(i + 1) + 12345;
			views[i].peer_nxt = views[i].peer_iss;
			return &views[i];
		}
	}
	return NULL;
}

/* Takes every frame the stack sent and learns from its TCP segments. */
static void drain(void)
{
	uint8_t f[FRAME_MAX];
	size_t n;

	while ((n = xs_mem_dev_take(dev, f, sizeof(f))) != 0) {
		struct tcp_repr seg;
		struct view *v;
		size_t ihl, total;
		uint32_t end;

		fuzz_check_tx(f, n, our_mac, OUR_IP, 1500);
		if (n < 34 || ld_be16(f + 12) != 0x0800 || f[23] != 6)
			continue;
		ihl = (f[14] & 0x0fu) * 4u;
		total = ld_be16(f + 16);
		check(ihl == 20 && total >= ihl && 14 + total <= n);
		/* What the stack sends must parse (checksum included). */
		check(tcp_parse(f + 14 + ihl, total - ihl, ld_be32(f + 26), ld_be32(f + 30), &seg) ==
		      XS_DROP_NONE);
		if (getenv("FUZZ_TCP_DEBUG") && atoi(getenv("FUZZ_TCP_DEBUG")) > 2)
			fprintf(stderr, "  sent t=%.3f %u -> %u flags %02x seq %u ack %u len %zu wnd %u\n",
				now / 1e9, seg.sport, seg.dport, seg.flags, seg.seq, seg.ack,
				seg.payload_len, seg.wnd);
		v = view_find(seg.sport, seg.dport);
		if (!v && (seg.flags & TCP_SYN) && !(seg.flags & TCP_ACK))
			v = view_new(seg.sport, seg.dport); /* an active open */
		if (!v)
			continue;
		if (seg.flags & TCP_SYN) {
			v->stack_iss = seg.seq;
			v->stack_syn = true;
		} else if (v->stack_syn && (seg.payload_len || (seg.flags & TCP_FIN))) {
			/* Data and FIN come after the SYN in sequence space. */
			check(seq_gt(seg.seq, v->stack_iss));
		}
		end = seg.seq + (uint32_t)seg.payload_len + !!(seg.flags & TCP_SYN) +
		      !!(seg.flags & TCP_FIN);
		if (!v->stack_max || seq_gt(end, v->stack_max))
			v->stack_max = end;
		if (seg.flags & TCP_ACK)
			v->stack_ack = seg.ack;
		if (seg.opt.ts_ok)
			v->ts_recent = seg.opt.tsval;
	}
}

static void poll_now(void)
{
	int i;

	for (i = 0; i < npending; i++)
		check(xs_mem_dev_inject(dev, pending[i], pending_len[i]) == 0);
	npending = 0;
	xs_stack_poll(st, now);
	/* A full batch: the rest waits for the next poll, at the same time. */
	while (xs_stack_poll(st, now) > 0)
		;
	drain();
}

/* Builds Ethernet + IPv4 + TCP around raw options and payload; queues it. */
static void send_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		     uint16_t wnd, const uint8_t *opt, size_t optlen, const uint8_t *pay,
		     size_t paylen, bool poll)
{
	uint8_t *f, *ip, *t;
	size_t hl = (20 + optlen + 3) & ~(size_t)3, total;
	uint32_t sum;

	if (npending == 16)
		poll_now();
	f = pending[npending];
	if (hl > 60)
		hl = 60;
	if (14 + 20 + hl + paylen > FRAME_MAX)
		paylen = FRAME_MAX - 14 - 20 - hl;
	total = 20 + hl + paylen;
	memset(f, 0, 14 + total);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	st_be16(f + 12, 0x0800);
	ip = f + 14;
	ip[0] = 0x45;
	st_be16(ip + 2, (uint16_t)total);
	st_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	st_be32(ip + 12, PEER_IP);
	st_be32(ip + 16, OUR_IP);
	st_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	t = ip + 20;
	st_be16(t, sport);
	st_be16(t + 2, dport);
	st_be32(t + 4, seq);
	st_be32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	st_be16(t + 14, wnd);
	memcpy(t + 20, opt, hl - 20 < optlen ? hl - 20 : optlen); /* padding stays 0 (EOL) */
	if (paylen)
		memcpy(t + hl, pay, paylen);
	sum = csum_pseudo4(PEER_IP, OUR_IP, 6, (uint16_t)(hl + paylen));
	st_be16(t + 16, csum_fold(csum_add(sum, t, hl + paylen)));
	pending_len[npending++] = 14 + total < 60 ? 60 : 14 + total;
	if (poll)
		poll_now();
}

/* An ICMP error from the peer quoting our segment of v (see ICMP_OP atop). */
static void send_icmp(const struct view *v, uint8_t kind, uint8_t seqd)
{
	static const uint8_t tc[8][2] = {{3, 0}, {3, 1}, {3, 2}, {3, 3},
					 {3, 4}, {11, 0}, {12, 0}, {3, 13}};
	size_t qhl = kind & 0x20 ? 28 : 20, total = 20 + 8 + qhl + 8;
	uint8_t *f, *ip, *m, *q;
	uint32_t seq;

	if (npending == 16)
		poll_now();
	f = pending[npending];
	memset(f, 0, 14 + total);
	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	st_be16(f + 12, 0x0800);
	ip = f + 14;
	ip[0] = 0x45;
	st_be16(ip + 2, (uint16_t)total);
	ip[8] = 64;
	ip[9] = 1;
	st_be32(ip + 12, PEER_IP);
	st_be32(ip + 16, OUR_IP);
	st_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	m = ip + 20;
	m[0] = tc[kind & 7][0];
	m[1] = tc[kind & 7][1];
	if ((kind & 7) == 4)
		st_be16(m + 6, kind & 0x40 ? 576 : 1400);
	q = m + 8; /* the quote: our IPv4 header, then 8 bytes of TCP */
	q[0] = (uint8_t)(0x40 | qhl / 4);
	st_be16(q + 2, 40);
	q[8] = 64;
	q[9] = 6;
	st_be32(q + 12, OUR_IP);
	st_be32(q + 16, PEER_IP);
	if (qhl > 20)
		memset(q + 20, 1, qhl - 20); /* NOPs */
	st_be16(q + 10, csum_fold(csum_add(0, q, qhl)));
	if (v)
		seq = kind & 8 ? v->stack_iss + seqd : v->stack_max - seqd;
	else
		seq = 0x01000000u * seqd;
	st_be16(q + qhl, v ? v->lport : 80);
	st_be16(q + qhl + 2, v ? v->rport : 40000);
	st_be32(q + qhl + 4, seq);
	st_be16(m + 2, csum_fold(csum_add(0, m, total - 20)));
	pending_len[npending++] = 14 + total;
}

static size_t opt_ts(uint8_t *o, const struct view *v)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	st_be32(o + 4, ++peer_clock);
	st_be32(o + 8, v ? v->ts_recent : 0);
	return 12;
}

/* --- app side ----------------------------------------------------------------- */

/* The zero-copy calls (action 11, arg >= 0x80; below, the congestion
 * control as before): every byte lent is touched, so ASan sees a lent region
 * freed, shrunk or moved under the application while lends stay out across
 * segments, timers and the other calls. */
static void app_zc(struct xs_tcp h, uint8_t arg)
{
	size_t n = (size_t)((arg >> 2) & 0x1f) * 97;
	volatile uint8_t sum = 0;
	const void *in;
	void *out;
	ssize_t k;

	switch (arg & 3) {
	case 0: /* peek, and keep the borrow */
		k = xs_tcp_recv_peek(st, h, &in);
		check(k > 0 ? in != NULL : in == NULL);
		for (ssize_t i = 0; i < k; i++)
			sum += ((const uint8_t *)in)[i];
		break;
	case 1: /* consume n (over the lend: -EINVAL, nothing changes) */
		k = xs_tcp_recv_consume(st, h, n);
		check(k == 0 || k == -EINVAL);
		break;
	case 2: /* reserve and write all of it, keep the reservation */
		k = xs_tcp_send_reserve(st, h, &out);
		check(k > 0 ? out != NULL : out == NULL);
		if (k > 0)
			memset(out, arg, (size_t)k);
		break;
	default: /* commit n */
		k = xs_tcp_send_commit(st, h, n);
		check(k <= 0);
		break;
	}
	(void)sum;
}

static void app(struct view *v, uint8_t action, uint8_t arg)
{
	static uint8_t buf[65536];
	struct xs_tcp h = v ? v->h : (struct xs_tcp)XS_NO_HANDLE;

	switch (action % 12) {
	case 0:
		if (h.id >= 0)
			while (xs_tcp_recv(st, h, buf, sizeof(buf)) > 0)
				;
		break;
	case 1:
		if (h.id >= 0) {
			memset(buf, arg, (size_t)arg * 64 + 1);
			xs_tcp_send(st, h, buf, (size_t)arg * 64 + 1);
		}
		break;
	case 2:
		if (h.id >= 0)
			xs_tcp_shutdown(st, h);
		break;
	case 3:
	case 4:
		if (h.id >= 0) {
			check((action % 12 == 3 ? xs_tcp_close(st, h) : xs_tcp_abort(st, h)) == 0);
			v->h = (struct xs_tcp)XS_NO_HANDLE;
		}
		break;
	case 5:
		if (h.id >= 0)
			xs_tcp_setopt(st, h, XS_TCP_NODELAY, arg & 1);
		break;
	case 6:
		if (h.id >= 0) {
			xs_tcp_setopt(st, h, XS_TCP_KEEPIDLE, 1 + arg % 4);
			xs_tcp_setopt(st, h, XS_TCP_KEEPINTVL, 1);
			xs_tcp_setopt(st, h, XS_TCP_KEEPCNT, 1 + arg % 3);
			xs_tcp_setopt(st, h, XS_TCP_KEEPALIVE, 1);
		}
		break;
	case 7: {
		struct xs_tcp nh = xs_tcp_connect(st, PEER_IP, (uint16_t)(8080 + arg % 4));

		if (nh.id >= 0) {
			struct xs_tcp_info info;
			struct view *nv;

			/* Buffers may still be sized in SYN-SENT. */
			check(xs_tcp_setopt(st, nh, XS_TCP_SNDBUF, 8192 << (arg & 1)) == 0);
			check(xs_tcp_setopt(st, nh, XS_TCP_RCVBUF, 8192 << (arg & 2)) == 0);
			check(xs_tcp_get_info(st, nh, &info) == 0);
			drain(); /* the SYN is sent at the next flush; find it then */
			nv = view_find(info.lport, info.rport);
			if (!nv)
				nv = view_new(info.lport, info.rport);
			if (nv)
				nv->h = nh;
			else
				check(xs_tcp_abort(st, nh) == 0);
		}
		break;
	}
	case 8: {
		uint16_t port;
		struct xs_tcp nh;

		while ((nh = xs_tcp_accept(st, lh, NULL, &port)).id >= 0) {
			struct xs_tcp_info info;
			struct view *nv;

			check(xs_tcp_get_info(st, nh, &info) == 0);
			nv = view_find(info.lport, port);
			if (nv && nv->h.id < 0)
				nv->h = nh;
			else
				check(xs_tcp_close(st, nh) == 0);
		}
		break;
	}
	case 9:
		if (h.id >= 0)
			xs_tcp_setopt(st, h, XS_TCP_USER_TIMEOUT, 100 * (arg + 1));
		break;
	case 10:
		if (h.id >= 0)
			xs_tcp_setopt(st, h, XS_TCP_RCVBUF, 4096 << (arg % 8));
		break;
	default:
		if (h.id >= 0 && arg >= 0x80)
			app_zc(h, arg);
		else if (h.id >= 0)
			xs_tcp_setopt(st, h, XS_TCP_CC_CUBIC, arg & 1);
		break;
	}
}

/* --- invariants ------------------------------------------------------------------ */

static void tcb_check_at(const struct tcp_conn *c, bool ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr,
		"fuzz_tcp_input.c:%d: TCB check failed: %s\n  %u -> %u %s snd_una %u snd_nxt %u "
		"snd_max %u sndbuf %u/%u fin_queued %d fin_sent %d rcv_nxt %u rcv_adv %u "
		"rcvbuf %u/%u ooo %u\n",
		line, what, c->lport, c->rport, xs_tcp_state_name(c->state), c->snd_una, c->snd_nxt,
		c->snd_max, c->sndbuf.len, c->sndbuf.cap, c->fin_queued, c->fin_sent, c->rcv_nxt,
		c->rcv_adv, c->rcvbuf.len, c->rcvbuf.cap, tcp_ooo_n(c));
	for (unsigned i = 0; i < tcp_ooo_n(c); i++)
		fprintf(stderr, "  ooo [%u, %u)\n", c->ooo->r[i].left, c->ooo->r[i].right);
	abort();
}

#define tcb_check(c, x) tcb_check_at((c), (x), #x, __LINE__)

static void check_tcb(const struct tcp_conn *c)
{
	uint32_t extra;
	unsigned i;

	tcb_check(c, c->rcvbuf.len <= c->rcvbuf.cap);
	tcb_check(c, c->sndbuf.len <= c->sndbuf.cap);
	if (c->state == XS_TCP_LISTEN || c->state == XS_TCP_CLOSED)
		return;
	tcb_check(c, seq_le(c->snd_una, c->snd_nxt) && seq_le(c->snd_nxt, c->snd_max));
	if (c->state == XS_TCP_SYN_SENT || c->state == XS_TCP_SYN_RECEIVED)
		return;
	/* Unacknowledged sequence space is data in the buffer, plus the FIN,
	 * plus the SYN (a shutdown in SYN-RECEIVED moves to FIN-WAIT-1). */
	extra = (c->fin_sent ? 1 : 0) + (c->snd_una == c->iss ? 1 : 0);
	tcb_check(c, c->snd_max - c->snd_una <= c->sndbuf.len + extra);
	/* The window offered is never more than the buffer can take (once
	 * the peer's FIN came nothing more is taken, and an orphan frees it). */
	if (seq_gt(c->rcv_adv, c->rcv_nxt) && !c->fin_rcvd)
		tcb_check(c, c->rcv_adv - c->rcv_nxt <= c->rcvbuf.cap);
	/* Out-of-order data lies beyond rcv_nxt, inside the buffer. */
	for (i = 0; i < tcp_ooo_n(c); i++) {
		tcb_check(c, seq_gt(c->ooo->r[i].left, c->rcv_nxt));
		tcb_check(c, c->ooo->r[i].right - c->rcv_nxt <= c->rcvbuf.cap - c->rcvbuf.len);
	}
	/* A ring holding bytes is allocated. */
	tcb_check(c, !c->rcvbuf.len || c->rcvbuf.data);
	tcb_check(c, !c->sndbuf.len || c->sndbuf.data);
	/* A lend is allocated memory within what it may cover: unread bytes
	 * from the head, free space from the tail, neither past the ring's end. */
	if (c->rcv_lent) {
		tcb_check(c, c->rcvbuf.data && c->rcv_lent <= c->rcvbuf.len);
		tcb_check(c, c->rcv_lent <= c->rcvbuf.size - c->rcvbuf.head);
	}
	if (c->snd_lent) {
		uint32_t tail = (c->sndbuf.head + c->sndbuf.len) % c->sndbuf.size;

		tcb_check(c, c->sndbuf.data && c->snd_lent <= c->sndbuf.cap - c->sndbuf.len);
		tcb_check(c, c->snd_lent <= c->sndbuf.size - tail);
	}
}

static void check_all(void)
{
	int i;

	for (i = 0; i < NVIEW; i++) {
		const struct tcp_conn *c;

		if (!views[i].used)
			continue;
		c = tcp_lookup4(st, OUR_IP, views[i].lport, PEER_IP, views[i].rport);
		if (c)
			check_tcb(c);
	}
}

/* --- set-up ------------------------------------------------------------------- */

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
	check(xs_mem_dev_inject(dev, f, sizeof(f)) == 0);
	poll_now();
}

static void setup(void)
{
	/* The budgets small enough to bite within one input: memory pressure
	 * from the first connection on, a third orphan reset at close, a zero
	 * window given up after 5 s. */
	struct xs_config cfg = {.ip = OUR_IP,
				.tcp_mem = {16 << 10, 32 << 10, 1 << 20},
				.tcp_max_orphans = 2,
				.tcp_persist_span_ms = 5000};
	static const uint8_t syn_opt[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					  0, 0, 0, 0, 1, 3, 3, 7};
	uint8_t opt[12];
	struct view *v;
	uint16_t port;

	memset(views, 0, sizeof(views));
	npending = 0;
	peer_clock = 1000;
	now = 0;
	/* The device outlives inputs (it is all home between them, and its
	 * free-list order does not matter); the stack is new each time. */
	if (!dev)
		dev = xs_mem_dev_new(our_mac, 1500, 256);
	check(dev != NULL);
	st = xs_stack_new(&cfg, dev);
	check(st != NULL);
	lh = xs_tcp_listen(st, 80, 4);
	check(lh.id >= 0);
	/* Small buffers: windows fill up within one input (and inputs run faster). */
	check(xs_tcp_setopt(st, lh, XS_TCP_SNDBUF, 16384) == 0);
	check(xs_tcp_setopt(st, lh, XS_TCP_RCVBUF, 16384) == 0);
	poll_now();
	now = XS_SEC(1);
	poll_now();
	learn_peer();
	v = view_new(80, 40000);
	send_seg(40000, 80, v->peer_iss, 0, TCP_SYN, 65535, syn_opt, sizeof(syn_opt), NULL, 0,
		 true);
	check(v->stack_syn && v->stack_ack == v->peer_iss + 1);
	v->peer_nxt = v->peer_iss + 1;
	v->peer_ack = v->stack_max;
	now += XS_MS(1);
	send_seg(40000, 80, v->peer_nxt, v->peer_ack, TCP_ACK, 1024, opt, opt_ts(opt, v), NULL, 0,
		 true);
	v->h = xs_tcp_accept(st, lh, NULL, &port);
	check(v->h.id >= 0 && port == 40000);
}

/* FUZZ_TCP_DEBUG=1: what each input left behind, to check seeds reach their state. */
static void debug_dump(const char *when)
{
	static struct xs_tcp_info info[64];
	const struct xs_stats *s = xs_stack_stats(st);
	size_t n, i;

	if (!getenv("FUZZ_TCP_DEBUG"))
		return;
	n = xs_tcp_list(st, info, 64);
	fprintf(stderr, "%s: t=%.3f s, tcp rx %llu tx %llu rst_tx %llu retransmits %llu\n", when,
		now / 1e9, (unsigned long long)s->tcp_rx, (unsigned long long)s->tcp_tx,
		(unsigned long long)s->tcp_rst_tx, (unsigned long long)s->tcp_retransmits);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %u -> %u %s handle %d snd_queue %u rcv_queue %u\n",
			info[i].lport, info[i].rport, xs_tcp_state_name(info[i].state),
			info[i].handle.id, info[i].snd_queue, info[i].rcv_queue);
	for (i = 1; i < XS_DROP_MAX; i++)
		if (s->drop[i])
			fprintf(stderr, "  drop %s %llu\n", xs_drop_name((enum xs_drop)i),
				(unsigned long long)s->drop[i]);
}

static void teardown(void)
{
	struct xs_dev_frames fr;
	int i;

	debug_dump("after the input");

	/* Timers run: retransmissions, probes, TIME-WAIT starts. */
	for (i = 0; i < 20; i++) {
		now += XS_MS(100);
		poll_now();
	}
	check_all();
	dev->ops->frames(dev, &fr);
	check(fr.free == fr.total && !fr.fill && !fr.rx_borrowed && !fr.tx_borrowed &&
	      !fr.tx_queued && !fr.in_flight);
	xs_stack_free(st);
	st = NULL;
}

/* --- records ------------------------------------------------------------------ */

static uint32_t seq_base(const struct view *v, unsigned mode, uint16_t d)
{
	switch (mode & 3) {
	case 0:
		return v->stack_ack + (uint32_t)(int32_t)(int16_t)d;
	case 1:
		return v->peer_nxt + (uint32_t)(int32_t)(int16_t)d;
	case 2:
		return v->peer_iss + 1 + (uint32_t)(int32_t)(int16_t)d;
	default:
		return (uint32_t)d << 16 | d;
	}
}

static uint32_t ack_base(const struct view *v, unsigned mode, uint16_t d)
{
	switch (mode & 3) {
	case 0:
		return v->stack_max + (uint32_t)(int32_t)(int16_t)d;
	case 1:
		return v->peer_ack + (uint32_t)(int32_t)(int16_t)d;
	case 2:
		return v->stack_iss + 1 + (uint32_t)(int32_t)(int16_t)d;
	default:
		return (uint32_t)d << 16 | d;
	}
}

/* One segment record; returns bytes consumed, 0 if the input is too short. */
static size_t segment(const uint8_t *p, size_t n, bool new_port)
{
	static uint8_t pay[FRAME_MAX];
	uint8_t opt[64];
	struct view tmp, *v;
	uint8_t flags, ctl, optlen, paylen8;
	uint16_t seqd, ackd, wnd;
	size_t used = 12, olen = 0, plen;
	uint32_t seq, ack;
	int i, k;

	if (n < 12)
		return 0;
	flags = p[2];
	ctl = p[3];
	seqd = ld_be16(p + 4);
	ackd = ld_be16(p + 6);
	wnd = ld_be16(p + 8);
	optlen = p[10] % 41;
	paylen8 = p[11];
	if (new_port) {
		/* A peer port nobody has used: the listener (or a closed port). */
		memset(&tmp, 0, sizeof(tmp));
		tmp.lport = (p[1] & 1) ? 80 : (uint16_t)(81 + p[1] % 4);
		tmp.rport = (uint16_t)(41000 + p[1]);
		v = view_find(tmp.lport, tmp.rport);
		if (!v) {
			v = view_new(tmp.lport, tmp.rport);
			if (!v)
				v = &tmp;
		}
	} else {
		for (k = 0, v = NULL, i = p[1] % NVIEW; k < NVIEW; k++, i = (i + 1) % NVIEW)
			if (views[i].used) {
				v = &views[i];
				break;
			}
		if (!v)
			return used;
	}
	seq = seq_base(v, ctl, seqd);
	ack = ack_base(v, ctl >> 2, ackd);
	if (ctl & 0x10)
		olen += opt_ts(opt, v);
	if (ctl & 0x20) {
		/* A SACK block around the fuzzed ack: [ack, ack + wnd*8). */
		opt[olen] = 1;
		opt[olen + 1] = 1;
		opt[olen + 2] = 5;
		opt[olen + 3] = 10;
		st_be32(opt + olen + 4, ack);
		st_be32(opt + olen + 8, ack + (uint32_t)wnd * 8);
		olen += 12;
		ack = v->stack_ack ? ack_base(v, 0, 0) : ack;
	}
	if (olen + optlen > 40)
		optlen = (uint8_t)(40 - olen);
	if (n < used + optlen)
		return 0;
	memcpy(opt + olen, p + used, optlen);
	olen += optlen;
	used += optlen;
	plen = (size_t)paylen8 * 8;
	if (plen > 1460)
		plen = 1460;
	if (ctl & 0x40) {
		if (plen > n - used)
			plen = n - used;
		memcpy(pay, p + used, plen);
		used += plen;
	} else {
		for (i = 0; i < (int)plen; i++)
			pay[i] = (uint8_t)(seq + (uint32_t)i);
	}
	send_seg(v->rport, v->lport, seq, ack, flags, wnd, opt, olen, pay, plen, ctl & 0x80);
	/* Our own view moves as a peer's would. */
	if (seq_gt(seq + (uint32_t)plen + !!(flags & TCP_SYN) + !!(flags & TCP_FIN), v->peer_nxt))
		v->peer_nxt = seq + (uint32_t)plen + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	if (flags & TCP_ACK)
		v->peer_ack = ack;
	if ((flags & TCP_SYN) && new_port)
		v->peer_iss = seq;
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int records = 0;

	setup();
	while (off < size && records++ < MAX_RECORDS) {
		const uint8_t *p = data + off;
		size_t n = size - off, used;

		switch (p[0] % 8) {
		case 5:
			if (n < 4)
				goto out;
			if (p[0] == ICMP_OP)
				send_icmp(views[p[1] % NVIEW].used ? &views[p[1] % NVIEW] : NULL, p[2],
					  p[3]);
			else
				app(views[p[1] % NVIEW].used ? &views[p[1] % NVIEW] : NULL, p[2],
				    p[3]);
			poll_now();
			used = 4;
			break;
		case 6:
			if (n < 3)
				goto out;
			now += (xs_time_t)(p[1] << 8 | p[2]) * (XS_MS(1) / 10);
			poll_now();
			used = 3;
			break;
		case 7:
			used = segment(p, n, true);
			break;
		default:
			used = segment(p, n, false);
			break;
		}
		if (!used)
			break;
		off += used;
		if (getenv("FUZZ_TCP_DEBUG") && atoi(getenv("FUZZ_TCP_DEBUG")) > 1) {
			char what[64];

			snprintf(what, sizeof(what), "record %d (op %u)", records, p[0] % 8);
			debug_dump(what);
		}
		check_all();
		now += XS_MS(1) / 10;
	}
out:
	poll_now();
	teardown();
	return 0;
}
