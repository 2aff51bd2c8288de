/* Scripted TCP conversations: the test plays the peer, builds its segments
 * (own checksum and options code), steps a virtual clock and parses what the stack sent. */
#ifndef XS_TEST_TCP_FIXTURE_H
#define XS_TEST_TCP_FIXTURE_H

#include "stack_fixture.h"

/* LeakSanitizer's check, present when built with ASan (make SAN=1). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* Flags, as on the wire (RFC 9293 3.1); independent of user/wire/tcp.h. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

#define LPORT 80    /* where the stack listens */
#define PPORT 40000 /* the peer's port */
#define PEER_ISS 1000000u
#define WND_ANY (-1) /* expect_seg: do not check the window */
#define PAT_LEN (1u << 20)
#define TFX_MAX_HANDLES 16

/* Options of a segment the peer sends. mss/ws < 0: absent. */
struct popts {
	int mss;
	int ws;
	bool sackok;
	bool ts;
	uint32_t tsval, tsecr;
	unsigned nsack;
	uint32_t sack[4][2];
	unsigned lead_nops; /* NOPs before everything (alignment games) */
	const uint8_t *raw; /* appended verbatim after the rest */
	size_t rawlen;
};

/* A segment the stack sent, parsed by the fixture. */
struct tseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd, urp;
	unsigned hlen;
	bool has_mss, has_ws, has_sackok, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned nsack;
	uint32_t sack[4][2];
	uint8_t opt[40];
	unsigned optlen;
	uint8_t data[FRAME_MAX];
	size_t len;
};

struct tfx {
	struct fx fx;
	uint16_t lport, pport; /* stack's and peer's ports of the connection */
	uint32_t iss, irs;     /* stack's ISS, peer's ISS */
	uint32_t peer_iss;     /* what the peer's next SYN uses (PEER_ISS) */
	bool ts, sack;	       /* peer sends timestamps (after the handshake) / SACK agreed */
	uint32_t ts_peer_base; /* peer's TSval = ms + base */
	uint32_t ts_last;      /* newest TSval from the stack: the peer's TSecr */
	bool ts_known;	       /* the stack's TS clock offset is learned */
	uint32_t ts_off;       /* stack TSval - now in ms */
	bool ts_on;	       /* timestamps negotiated: every segment has them */
	uint16_t pwnd;	       /* peer's window field in its own segments */
	struct xs_tcp h, lh;   /* connection and listener handles (id -1: none) */
	struct xs_tcp handles[TFX_MAX_HANDLES];
	unsigned nhandles;
	unsigned events, nevents; /* ORed events of h / lh since reset, count */
	struct tseg s;		  /* the last segment taken */
	uint8_t *out;		  /* pattern the application sends */
	uint8_t *in;		  /* pattern the peer sends */
	size_t sent;		  /* application bytes given to xs_tcp_send */
};

/* --- peer segments ------------------------------------------------------------- */

static inline size_t popts_build(const struct popts *o, uint8_t *p)
{
	size_t i = 0;
	unsigned k;

	for (k = 0; k < o->lead_nops; k++)
		p[i++] = 1;
	if (o->mss >= 0) {
		p[i] = 2;
		p[i + 1] = 4;
		put16(p + i + 2, (uint16_t)o->mss);
		i += 4;
	}
	if (o->sackok && o->ts) {
		p[i++] = 4;
		p[i++] = 2;
	} else if (o->sackok) {
		p[i++] = 1;
		p[i++] = 1;
		p[i++] = 4;
		p[i++] = 2;
	} else if (o->ts) {
		p[i++] = 1;
		p[i++] = 1;
	}
	if (o->ts) {
		p[i] = 8;
		p[i + 1] = 10;
		put32(p + i + 2, o->tsval);
		put32(p + i + 6, o->tsecr);
		i += 10;
	}
	if (o->ws >= 0) {
		p[i++] = 1;
		p[i++] = 3;
		p[i++] = 3;
		p[i++] = (uint8_t)o->ws;
	}
	if (o->nsack) {
		p[i++] = 1;
		p[i++] = 1;
		p[i++] = 5;
		p[i++] = (uint8_t)(2 + 8 * o->nsack);
		for (k = 0; k < o->nsack; k++) {
			put32(p + i, o->sack[k][0]);
			put32(p + i + 4, o->sack[k][1]);
			i += 8;
		}
	}
	if (o->rawlen) {
		memcpy(p + i, o->raw, o->rawlen);
		i += o->rawlen;
	}
	while (i % 4)
		p[i++] = 0; /* EOL padding */
	assert_true(i <= 40);
	return i;
}

/* The TCP checksum over the IPv4 pseudo header (ip: the IPv4 header). */
static inline uint16_t tcp_csum_ref(const uint8_t *ip, const uint8_t *tcp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)len);
	return sum_fold(sum_add(sum_add(0, ph, sizeof(ph)), tcp, len));
}

/* A whole frame from the peer: Ethernet, IPv4, TCP with options and data. */
static inline size_t mk_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
			    uint8_t flags, uint16_t wnd, const struct popts *o, const void *data,
			    size_t n)
{
	uint8_t *l4 = b + L4_OFF;
	size_t olen = o ? popts_build(o, l4 + 20) : 0, len;

	put16(l4, sport);
	put16(l4 + 2, dport);
	put32(l4 + 4, seq);
	put32(l4 + 8, ack);
	l4[12] = (uint8_t)((20 + olen) / 4 << 4);
	l4[13] = flags;
	put16(l4 + 14, wnd);
	put16(l4 + 16, 0);
	put16(l4 + 18, 0);
	if (n)
		memcpy(l4 + 20 + olen, data, n);
	len = mk_ip(b, our_mac, PEER_IP, OUR_IP, 6, 20 + olen + n);
	put16(l4 + 16, tcp_csum_ref(b + ETH_LEN, l4, 20 + olen + n));
	return len;
}

/* --- parsing what the stack sent -------------------------------------------------- */

/* Strict: every option well formed, known, at most once, lengths exact. */
static inline void parse_opts(struct tseg *s)
{
	const uint8_t *p = s->opt;
	unsigned i = 0, n = s->optlen;

	while (i < n) {
		uint8_t kind = p[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		assert_true(i + 1 < n);
		len = p[i + 1];
		assert_true(len >= 2 && i + len <= n);
		switch (kind) {
		case 2:
			assert_int_equal(len, 4);
			assert_false(s->has_mss);
			s->has_mss = true;
			s->mss = get16(p + i + 2);
			break;
		case 3:
			assert_int_equal(len, 3);
			assert_false(s->has_ws);
			s->has_ws = true;
			s->ws = p[i + 2];
			break;
		case 4:
			assert_int_equal(len, 2);
			assert_false(s->has_sackok);
			s->has_sackok = true;
			break;
		case 5:
			assert_true(len >= 10 && (len - 2) % 8 == 0);
			assert_int_equal(s->nsack, 0);
			s->nsack = (len - 2u) / 8u;
			for (unsigned k = 0; k < s->nsack; k++) {
				s->sack[k][0] = get32(p + i + 2 + 8 * k);
				s->sack[k][1] = get32(p + i + 6 + 8 * k);
			}
			break;
		case 8:
			assert_int_equal(len, 10);
			assert_false(s->has_ts);
			s->has_ts = true;
			s->tsval = get32(p + i + 2);
			s->tsecr = get32(p + i + 6);
			break;
		default:
			fail_msg("unexpected option kind %u", kind);
		}
		i += len;
	}
}

/* Parses a frame as a TCP segment from us to the peer; checks IPv4 and the
 * TCP checksum. */
static inline void parse_tcp_frame(const uint8_t *f, size_t n, struct tseg *s)
{
	size_t l4len;
	const uint8_t *t = check_ip_out(f, n, peer_mac, PEER_IP, 6, &l4len);

	memset(s, 0, sizeof(*s));
	assert_true(l4len >= 20);
	assert_int_equal(tcp_csum_ref(f + ETH_LEN, t, l4len), 0);
	s->sport = get16(t);
	s->dport = get16(t + 2);
	s->seq = get32(t + 4);
	s->ack = get32(t + 8);
	s->hlen = (t[12] >> 4) * 4u;
	assert_int_equal(t[12] & 0x0f, 0); /* reserved bits zero */
	assert_true(s->hlen >= 20 && s->hlen <= l4len);
	s->flags = t[13];
	s->wnd = get16(t + 14);
	s->urp = get16(t + 18);
	s->optlen = s->hlen - 20;
	memcpy(s->opt, t + 20, s->optlen);
	parse_opts(s);
	s->len = l4len - s->hlen;
	memcpy(s->data, t + s->hlen, s->len);
}

/* --- the fixture ----------------------------------------------------------------- */

static inline uint32_t now_ms(const struct tfx *t)
{
	return (uint32_t)(t->fx.now / XS_NSEC_PER_MS);
}

static inline uint32_t peer_tsval(const struct tfx *t)
{
	return now_ms(t) + t->ts_peer_base;
}

/* Absolute sequence numbers from offsets: S(n) of the stack's byte n, P(n) of
 * the peer's byte n (both after the SYN). */
#define S(n) (t->iss + 1u + (uint32_t)(n))
#define P(n) (t->irs + 1u + (uint32_t)(n))

static inline void tfx_event_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct tfx *t = ctx;

	(void)st;
	(void)h;
	t->events |= ev;
	t->nevents++;
}

static inline void tfx_track(struct tfx *t, struct xs_tcp h)
{
	assert_true(h.id >= 0);
	assert_true(t->nhandles < TFX_MAX_HANDLES);
	t->handles[t->nhandles++] = h;
}

static inline void tfx_poll(struct tfx *t)
{
	fx_poll(&t->fx, t->fx.now);
}

/* Moves the clock to an absolute time and polls. */
static inline void tfx_at(struct tfx *t, xs_time_t when)
{
	assert_true(when >= t->fx.now);
	fx_poll(&t->fx, when);
}

static inline void tfx_run(struct tfx *t, xs_time_t dt)
{
	fx_poll(&t->fx, t->fx.now + dt);
}

static inline void expect_nothing(struct tfx *t)
{
	uint8_t f[FRAME_MAX];
	size_t n = take(&t->fx, f);

	if (n) {
		struct tseg s;

		if (get16(f + 12) != 0x0800 || f[ETH_LEN + 9] != 6)
			fail_msg("t=%llu ms: unexpected non-TCP frame sent",
				 (unsigned long long)(t->fx.now / XS_NSEC_PER_MS));
		parse_tcp_frame(f, n, &s);
		fail_msg("t=%llu ms: unexpected segment flags %#x seq %u ack %u len %zu wnd %u",
			 (unsigned long long)(t->fx.now / XS_NSEC_PER_MS), s.flags, s.seq, s.ack,
			 s.len, s.wnd);
	}
}

/* Takes the next segment into t->s; false if none was sent. Checks ports,
 * options allowed by the flags, and the timestamp clock (RFC 7323 5.4: one
 * clock, 1 ms here, with a per-connection offset). */
static inline bool take_seg(struct tfx *t)
{
	uint8_t f[FRAME_MAX];
	size_t n = take(&t->fx, f);
	struct tseg *s = &t->s;

	if (!n)
		return false;
	parse_tcp_frame(f, n, s);
	assert_int_equal(s->sport, t->lport);
	assert_int_equal(s->dport, t->pport);
	if (!(s->flags & F_SYN)) {
		/* RFC 9293 3.2, RFC 7323 2.2, RFC 2018 2: only on a SYN. */
		assert_false(s->has_mss);
		assert_false(s->has_ws);
		assert_false(s->has_sackok);
	}
	if (s->has_ts) {
		if (!t->ts_known) {
			t->ts_off = s->tsval - now_ms(t);
			t->ts_known = true;
		}
		if (s->tsval != now_ms(t) + t->ts_off)
			fail_msg("TSval %u, want %u (1 ms clock)", s->tsval, now_ms(t) + t->ts_off);
		t->ts_last = s->tsval;
	}
	if (t->ts_on && !(s->flags & F_RST))
		assert_true(s->has_ts); /* RFC 7323 3.2: in every non-RST segment */
	if (!t->ts_on && !(s->flags & F_SYN))
		assert_false(s->has_ts);
	if (!t->sack)
		assert_int_equal(s->nsack, 0);
	/* Data the application gave, at its offset. */
	if (s->len && t->iss && !(s->flags & F_SYN)) {
		uint32_t off = s->seq - (t->iss + 1);

		assert_true(off + s->len <= t->sent);
		assert_memory_equal(s->data, t->out + off, s->len);
	}
	return true;
}

static inline const char *flag_str(uint8_t f, char *b)
{
	static const char names[] = "FSRPAUEC";
	int i, k = 0;

	for (i = 0; i < 8; i++)
		if (f & (1 << i))
			b[k++] = names[i];
	b[k] = 0;
	return b;
}

/* The next segment must have these flags (PSH not compared), seq, ack (when
 * F_ACK), length and window field (unless WND_ANY). Returns it. */
static inline struct tseg *expect_seg(struct tfx *t, uint8_t flags, uint32_t seq, uint32_t ack,
				      size_t len, int wnd)
{
	struct tseg *s = &t->s;
	char a[9], b[9];

	if (!take_seg(t))
		fail_msg("t=%llu ms: no segment sent, want [%s] seq %u len %zu",
			 (unsigned long long)(t->fx.now / XS_NSEC_PER_MS), flag_str(flags, b), seq,
			 len);
	if ((s->flags & ~F_PSH) != (flags & ~F_PSH) || s->seq != seq ||
	    ((flags & F_ACK) && s->ack != ack) || s->len != len ||
	    (wnd != WND_ANY && s->wnd != (uint16_t)wnd))
		fail_msg("t=%llu ms: got [%s] seq %u ack %u len %zu wnd %u; want [%s] seq %u "
			 "ack %u len %zu wnd %d",
			 (unsigned long long)(t->fx.now / XS_NSEC_PER_MS), flag_str(s->flags, a),
			 s->seq, s->ack, s->len, s->wnd, flag_str(flags, b), seq, ack, len, wnd);
	return s;
}

/* A bare ACK (or challenge ACK): <SEQ=seq><ACK=ack><CTL=ACK>. */
static inline struct tseg *expect_ack(struct tfx *t, uint32_t seq, uint32_t ack)
{
	return expect_seg(t, F_ACK, seq, ack, 0, WND_ANY);
}

/* The peer's segment: its port pair, its window, its TS option when
 * timestamps are on (TSval from its clock, TSecr the newest TSval seen). */
static inline void psend_opts(struct tfx *t, uint8_t flags, uint32_t seq, uint32_t ack,
			      const struct popts *o, const void *data, size_t n)
{
	uint8_t f[FRAME_MAX];
	size_t len = mk_tcp(f, t->pport, t->lport, seq, ack, flags, t->pwnd, o, data, n);

	inject(&t->fx, f, len);
	tfx_poll(t);
}

static inline struct popts popts_none(void)
{
	struct popts o = {.mss = -1, .ws = -1};

	return o;
}

static inline struct popts popts_ts(struct tfx *t)
{
	struct popts o = popts_none();

	if (t->ts) {
		o.ts = true;
		o.tsval = peer_tsval(t);
		o.tsecr = t->ts_last;
	}
	return o;
}

static inline void psend(struct tfx *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
			 size_t n)
{
	struct popts o = popts_ts(t);

	psend_opts(t, flags, seq, ack, &o, data, n);
}

/* The peer sends n bytes of its pattern from offset off (with ACK of ack). */
static inline void pdata(struct tfx *t, size_t off, size_t n, uint32_t ack)
{
	psend(t, F_ACK | F_PSH, P(off), ack, t->in + off, n);
}

/* The peer's SACK blocks on a duplicate/cumulative ACK. */
static inline void psack(struct tfx *t, uint32_t ack, unsigned nb, const uint32_t (*blk)[2])
{
	struct popts o = popts_ts(t);
	unsigned k;

	o.nsack = nb;
	for (k = 0; k < nb; k++) {
		o.sack[k][0] = blk[k][0];
		o.sack[k][1] = blk[k][1];
	}
	psend_opts(t, F_ACK, P(0), ack, &o, NULL, 0);
}

/* The application sends n bytes of its pattern; all must be taken. */
static inline void app_send(struct tfx *t, size_t n)
{
	assert_true(t->sent + n <= PAT_LEN);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, t->out + t->sent, n), (ssize_t)n);
	t->sent += n;
	tfx_poll(t);
}

/* The application reads exactly n bytes, which must be the peer's from off. */
static inline void app_recv(struct tfx *t, size_t off, size_t n)
{
	static uint8_t buf[PAT_LEN];

	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, buf, n), (ssize_t)n);
	assert_memory_equal(buf, t->in + off, n);
	tfx_poll(t);
}

/* The peer ACKs (from its sequence pseq) everything the stack sends, in
 * rounds, until the stack stops sending. Returns the highest sequence
 * acknowledged (0 if nothing was sent). */
static inline uint32_t peer_ack_all(struct tfx *t, uint32_t pseq)
{
	uint32_t hi = 0;
	int guard;

	for (guard = 0; guard < 100000; guard++) {
		bool any = false;

		while (take_seg(t)) {
			uint32_t end =
			    t->s.seq + (uint32_t)t->s.len + !!(t->s.flags & (F_SYN | F_FIN));

			if ((!any && !hi) || (int32_t)(end - hi) > 0)
				hi = end;
			any = true;
		}
		if (!any)
			return hi;
		psend(t, F_ACK, pseq, hi, NULL, 0);
	}
	fail_msg("peer_ack_all: the stack never stops sending");
	return hi;
}

/* State of the connection on the fixture's ports, handle or not; -1 if gone. */
static inline int conn_state(struct tfx *t)
{
	struct xs_tcp_info info[64];
	size_t n = xs_tcp_list(t->fx.st, info, 64), i;

	for (i = 0; i < n; i++)
		if (info[i].rip == PEER_IP && info[i].lport == t->lport &&
		    info[i].rport == t->pport && info[i].state != XS_TCP_LISTEN)
			return (int)info[i].state;
	return -1;
}

static inline struct xs_tcp_info conn_info(struct tfx *t)
{
	struct xs_tcp_info i;

	assert_int_equal(xs_tcp_get_info(t->fx.st, t->h, &i), 0);
	return i;
}

static inline const char *state_str(int s)
{
	return s < 0 ? "(gone)" : xs_tcp_state_name((enum xs_tcp_state)s);
}

#define expect_state(t, st_) assert_string_equal(state_str(conn_state(t)), state_str(st_))

static inline void reset_events(struct tfx *t)
{
	t->events = 0;
	t->nevents = 0;
}

/* --- setup / teardown -------------------------------------------------------------- */

/* The stack's configuration tfx_start uses; a test may change a copy and
 * give it to tfx_start_cfg. */
static inline struct xs_config tfx_config(void)
{
	struct xs_config cfg = {.ip = OUR_IP, .arp_lifetime_ms = 10u * 24 * 3600 * 1000};

	return cfg;
}

static inline void tfx_start_cfg(struct tfx *t, uint16_t mtu, const struct xs_config *cfg)
{
	uint8_t *out = t->out, *in = t->in;

	memset(t, 0, sizeof(*t));
	t->out = out;
	t->in = in;
	fx_start(&t->fx, cfg, mtu, 512, true);
	learn_peer(&t->fx, peer_mac, PEER_IP);
	t->lport = LPORT;
	t->pport = PPORT;
	t->h = t->lh = (struct xs_tcp)XS_NO_HANDLE;
	t->pwnd = 1024;
	t->ts_peer_base = 0x10000000u;
	t->peer_iss = PEER_ISS;
}

static inline void tfx_start(struct tfx *t, uint16_t mtu)
{
	struct xs_config cfg = tfx_config();

	tfx_start_cfg(t, mtu, &cfg);
}

/* Releases the handles first: xs_stack_free with live handles is the
 * separate test test_free_with_open_handles. */
static inline void tfx_stop(struct tfx *t)
{
	unsigned i;

	for (i = 0; i < t->nhandles; i++)
		xs_tcp_abort(t->fx.st, t->handles[i]);
	t->nhandles = 0;
	fx_stop(&t->fx);
	/* Everything the stack allocated is gone now: no leak, test by test. */
	if (__lsan_do_recoverable_leak_check)
		assert_int_equal(__lsan_do_recoverable_leak_check(), 0);
}

static inline int tfx_setup(void **state)
{
	struct tfx *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->out = malloc(PAT_LEN);
	t->in = malloc(PAT_LEN);
	if (!t->out || !t->in)
		return -1;
	fill_pattern(t->out, PAT_LEN, 1);
	fill_pattern(t->in, PAT_LEN, 2);
	tfx_start(t, 1500);
	*state = t;
	return 0;
}

static inline int tfx_teardown(void **state)
{
	struct tfx *t = *state;

	tfx_stop(t);
	free(t->out);
	free(t->in);
	free(t);
	return 0;
}

static inline void tfx_restart(struct tfx *t, uint16_t mtu)
{
	tfx_stop(t);
	tfx_start(t, mtu);
}

static inline void tfx_restart_cfg(struct tfx *t, uint16_t mtu, const struct xs_config *cfg)
{
	tfx_stop(t);
	tfx_start_cfg(t, mtu, cfg);
}

/* --- handshakes ---------------------------------------------------------------- */

/* What the peer offers in its SYN by default: Linux's set. */
static inline struct popts popts_syn_full(struct tfx *t)
{
	struct popts o = popts_none();

	o.mss = 1460;
	o.ws = 7;
	o.sackok = true;
	o.ts = true;
	o.tsval = peer_tsval(t);
	return o;
}

static inline struct xs_tcp tfx_listen(struct tfx *t, int backlog)
{
	t->lh = xs_tcp_listen(t->fx.st, t->lport, backlog);
	tfx_track(t, t->lh);
	return t->lh;
}

/* The peer's SYN with options o; takes and checks nothing. */
static inline void psyn(struct tfx *t, const struct popts *o)
{
	t->irs = t->peer_iss;
	t->ts_known = false; /* a new connection, a new TS offset */
	psend_opts(t, F_SYN, t->irs, 0, o, NULL, 0);
}

/* Passive open against a listener (created if needed) with the peer's SYN
 * options o (NULL: popts_syn_full): SYN, SYN-ACK (checked), ACK, accept.
 * Leaves t->h the accepted handle, with the event callback installed. */
static inline void tfx_passive_open(struct tfx *t, const struct popts *o_in)
{
	struct popts o = o_in ? *o_in : popts_syn_full(t);
	struct tseg *s;
	uint32_t ip;
	uint16_t port;

	if (t->lh.id < 0)
		tfx_listen(t, 16);
	t->ts_known = false;
	t->sent = 0;
	psyn(t, &o);
	assert_true(take_seg(t));
	s = &t->s;
	assert_int_equal(s->flags, F_SYN | F_ACK);
	assert_int_equal(s->ack, t->irs + 1);
	assert_int_equal(s->len, 0);
	t->iss = s->seq;
	t->ts = o.ts && s->has_ts;
	t->ts_on = t->ts;
	t->sack = o.sackok && s->has_sackok;
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	t->h = xs_tcp_accept(t->fx.st, t->lh, &ip, &port);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(ip, PEER_IP);
	assert_int_equal(port, t->pport);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	tfx_poll(t);
	reset_events(t);
}

/* Active open: xs_tcp_connect, the SYN (taken), the peer's SYN-ACK with
 * options o (NULL: popts_syn_full), the final ACK (checked). */
static inline void tfx_active_open(struct tfx *t, const struct popts *o_in)
{
	struct popts o = o_in ? *o_in : popts_syn_full(t);

	t->ts_known = false;
	t->sent = 0;
	t->h = xs_tcp_connect(t->fx.st, PEER_IP, t->pport);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	/* The stack's port is ours to learn from its SYN. */
	t->lport = 0;
	tfx_poll(t);
	{
		uint8_t f[FRAME_MAX];
		size_t n = take(&t->fx, f);

		assert_true(n > 0);
		parse_tcp_frame(f, n, &t->s);
	}
	assert_int_equal(t->s.flags, F_SYN);
	assert_int_equal(t->s.dport, t->pport);
	t->lport = t->s.sport;
	t->iss = t->s.seq;
	if (t->s.has_ts) {
		t->ts_off = t->s.tsval - now_ms(t);
		t->ts_known = true;
		t->ts_last = t->s.tsval;
	}
	t->irs = PEER_ISS;
	if (o.ts)
		o.tsecr = t->ts_last;
	t->ts = o.ts;
	t->ts_on = o.ts;
	t->sack = o.sackok;
	reset_events(t);
	psend_opts(t, F_SYN | F_ACK, t->irs, S(0), &o, NULL, 0);
	expect_ack(t, S(0), P(0));
	expect_nothing(t);
}

#endif
