/* TCP input before the connection is synchronized: LISTEN with SYN cookies
 * (RFC 9293 3.10.7.2, RFC 4987 3.6) and SYN-SENT (RFC 9293 3.10.7.3). */
#include <errno.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "tcp/tcp.h"

static const uint16_t cookie_mss[8] = {536, 1220, 1360, 1400, 1440, 1460, 4312, 8960};

/* A peer's MSS clamped to sane values (RFC 9293 3.7.1, RFC 6691): from a
 * SYN's option and from a SYN cookie alike. */
static uint16_t tcp_clamp_mss(const struct xs_stack *st, const struct ip6_addr *raddr, uint32_t mss)
{
	uint32_t max = tcp_mtu_room(st, raddr) - TCP_HDR_LEN;

	if (mss < TCP_MIN_MSS)
		mss = TCP_MIN_MSS;
	if (mss > max)
		mss = max;
	return (uint16_t)mss;
}

/* Options from a SYN: what the peer offers; we agree to all we support. */
static void tcp_apply_syn_options(struct xs_stack *st, struct tcp_conn *c,
				  const struct tcp_repr *seg)
{
	const struct tcp_opts *o = &seg->opt;

	c->mss = tcp_clamp_mss(st, &c->raddr, o->mss_ok ? o->mss : TCP_DEFAULT_MSS);
	/* RFC 7323 2.2: scaling only if both SYNs carry the option. */
	c->ws_ok = o->ws_ok;
	c->snd_wscale = o->ws_ok ? (o->ws > 14 ? 14 : o->ws) : 0;
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	c->sack_ok = o->sack_ok;
	c->ts_ok = o->ts_ok;
	if (o->ts_ok) {
		c->ts_recent = o->tsval;
		c->ts_recent_age = st->now;
	}
	/* SMSS for congestion control is the payload a full segment carries:
	 * the MSS less the timestamp option (RFC 5681 2, RFC 7323 3.2 note). */
	c->cc_ops->init(&c->cc, c->mss - (c->ts_ok ? 12 : 0));
}

/* --- SYN cookies (RFC 4987 3.6) --------------------------------------------- */

/* The MAC covers the 4-tuple, the peer's ISN, the time counter and the MSS
 * index: flipping any of them (the index sits in clear in bits 24-26) fails it. */
static uint32_t cookie_hash(struct xs_stack *st, const struct tcp_ip *ip,
			    const struct tcp_repr *seg, uint32_t peer_isn, uint32_t t,
			    uint32_t mssi)
{
	uint8_t m[45];

	memcpy(m, ip->src.b, 16);
	memcpy(m + 16, ip->dst.b, 16);
	memcpy(m + 32, &seg->sport, 2);
	memcpy(m + 34, &seg->dport, 2);
	memcpy(m + 36, &peer_isn, 4);
	memcpy(m + 40, &t, 4);
	m[44] = (uint8_t)mssi;
	return (uint32_t)siphash24(st->keys.isn, m, sizeof(m)) & 0xffffff;
}

static uint32_t cookie_time(const struct xs_stack *st)
{
	return (uint32_t)(st->now / TCP_COOKIE_PERIOD) & 31; /* 5 bits */
}

/* Our ISN as a cookie: t (5 bits) | MSS index (3) | 24-bit MAC of both and
 * the connection. */
static uint32_t cookie_make(struct xs_stack *st, const struct tcp_ip *ip,
			    const struct tcp_repr *seg, uint16_t *mss)
{
	uint32_t t = cookie_time(st), i = 0;
	uint16_t want = seg->opt.mss_ok ? seg->opt.mss : TCP_DEFAULT_MSS;

	while (i < 7 && cookie_mss[i + 1] <= want)
		i++;
	*mss = cookie_mss[i];
	return t << 27 | i << 24 | cookie_hash(st, ip, seg, seg->seq, t, i);
}

/* 0 and the MSS (clamped as a SYN's option is) if ack-1 is a cookie we made
 * in this period or the one before. */
static int cookie_check(struct xs_stack *st, const struct tcp_ip *ip, const struct tcp_repr *seg,
			uint16_t *mss)
{
	uint32_t c = seg->ack - 1, t = c >> 27, i = (c >> 24) & 7, now = cookie_time(st);

	if (((now - t) & 31) > 1)
		return -1;
	if (cookie_hash(st, ip, seg, seg->seq - 1, t, i) != (c & 0xffffff))
		return -1;
	*mss = tcp_clamp_mss(st, &ip->src, cookie_mss[i]);
	return 0;
}

/* Linux's tcp_synq_no_recent_overflow: an ACK is checked as a cookie only
 * while cookies this listener sent can still be valid (the last one left at
 * most TCP_COOKIE_WINDOW ago); otherwise no cookie is out and the ACK is
 * one a closed port would get. */
static bool cookie_expected(const struct xs_stack *st, const struct tcp_conn *l)
{
	return l->ls->synq_overflowed && st->now - l->ls->synq_overflow_at <= TCP_COOKIE_WINDOW;
}

static void tcp_send_synack_cookie(struct xs_stack *st, const struct tcp_ip *ip,
				   const struct tcp_repr *seg, struct tcp_conn *l)
{
	struct tcp_conn tmp;
	uint16_t mss;

	/* A throwaway TCB carries the SYN-ACK; nothing is kept (no options
	 * but MSS survive a cookie). */
	memset(&tmp, 0, sizeof(tmp));
	tmp.state = XS_TCP_SYN_RECEIVED;
	tmp.laddr = ip->dst;
	tmp.raddr = ip->src;
	tmp.lport = seg->dport;
	tmp.rport = seg->sport;
	tmp.iss = cookie_make(st, ip, seg, &mss);
	tmp.rcv_nxt = seg->seq + 1;
	tmp.rcv_mss = (uint16_t)(tcp_mtu_room(st, &ip->src) - TCP_HDR_LEN);
	tmp.rcvbuf.cap = l->rcvbuf.cap > 65535 ? 65535 : l->rcvbuf.cap;
	tmp.snd_una = tmp.iss;
	tmp.cc_ops = l->cc_ops;
	tcp_send_ctl(st, &tmp, TCP_SYN | TCP_ACK, tmp.iss);
	st->stats.tcp_syncookies_sent++;
	l->ls->synq_overflowed = true;
	l->ls->synq_overflow_at = st->now;
}

/* --- LISTEN (RFC 9293 3.10.7.2) --------------------------------------------- */

void tcp_listen_input(struct xs_stack *st, struct tcp_conn *l, const struct tcp_ip *ip,
		      const struct tcp_repr *seg, uint32_t iss_floor)
{
	struct tcp_conn *c;
	uint16_t mss;

	if (seg->flags & TCP_RST) {
		/* RFC 9293 3.10.7.2: ignored. Counted as a segment for no
		 * connection, as the same RST to a closed port is: the peer's
		 * answers to what was in flight when it reset a connection land
		 * here by the thousand, and must not read as RFC 5961 misses. */
		xs_drop(st, XS_DROP_TCP_NO_CONN);
		return;
	}
	if (seg->flags & TCP_ACK) {
		/* RFC 9293 3.10.7.2: an ACK in LISTEN draws <SEQ=SEG.ACK><CTL=RST>,
		 * unless it is the third step of a cookie handshake; cookies
		 * are checked only while some may be out. */
		if (!cookie_expected(st, l)) {
			xs_drop(st, XS_DROP_TCP_COOKIE_UNEXPECTED);
			tcp_send_rst_for(st, ip, seg);
			return;
		}
		if (!(seg->flags & (TCP_SYN | TCP_FIN)) && cookie_check(st, ip, seg, &mss) == 0) {
			if (l->ls->naccept >= l->ls->backlog) {
				xs_drop(st, XS_DROP_TCP_ACCEPT_FULL);
				return;
			}
			if (tcp_conns_full(st))
				return;
			c = tcp_conn_new(st, &ip->dst, &ip->src, seg->dport, seg->sport, l);
			if (!c) {
				xs_drop(st, XS_DROP_TCP_SYN_QUEUE);
				return;
			}
			c->iss = seg->ack - 1;
			c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
			c->irs = seg->seq - 1;
			c->rcv_nxt = seg->seq;
			c->rcv_wscale = 0;
			/* The window our cookie SYN-ACK offered (unscaled). */
			c->rcv_adv = c->rcv_nxt + (c->rcvbuf.cap > 65535 ? 65535 : c->rcvbuf.cap);
			c->cc_ops->init(&c->cc, mss);
			c->mss = mss;
			c->listener = l;
			c->state = XS_TCP_SYN_RECEIVED; /* as a queued one would be */
			l->ls->nsyn++;
			tcp_conn_hash(st, c);
			if (tcp_established(st, c, seg))
				return;
			tcp_listener_established(st, c);
			st->stats.tcp_syncookies_ok++;
			st->stats.tcp_passive_opens++;
			/* The ACK may carry data (or a FIN): process it as an
			 * ESTABLISHED connection would. */
			if (seg->payload_len || (seg->flags & TCP_FIN))
				tcp_sync_input(st, c, ip, seg);
			return;
		}
		xs_drop(st, XS_DROP_TCP_COOKIE);
		tcp_send_rst_for(st, ip, seg);
		return;
	}
	/* A SYN, without FIN (Linux discards SYN+FIN too). */
	if (!(seg->flags & TCP_SYN) || (seg->flags & TCP_FIN)) {
		xs_drop(st, XS_DROP_TCP_FLAGS);
		return;
	}
	/* Above the high memory limit new connections are refused (tcp_mem). */
	if (tcp_mem_over_high(st)) {
		xs_drop(st, XS_DROP_TCP_MEM);
		return;
	}
	if (l->ls->nsyn >= TCP_SYN_QUEUE_MAX || l->ls->nsyn >= 2 * l->ls->backlog + 16) {
		tcp_send_synack_cookie(st, ip, seg, l);
		return;
	}
	/* At tcp_max_conns (Linux: a full fd table, the SYN is dropped). */
	if (tcp_conns_full(st))
		return;
	c = tcp_conn_new(st, &ip->dst, &ip->src, seg->dport, seg->sport, l);
	if (!c) {
		xs_drop(st, XS_DROP_TCP_SYN_QUEUE);
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->iss = iss_floor ? iss_floor : tcp_isn(st, &c->laddr, c->lport, &c->raddr, c->rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->state = XS_TCP_SYN_RECEIVED;
	tcp_apply_syn_options(st, c, seg);
	c->snd_wnd = seg->wnd; /* unscaled in a SYN */
	c->listener = l;
	l->ls->nsyn++;
	tcp_conn_hash(st, c);
	tcp_send_ctl(st, c, TCP_SYN | TCP_ACK, c->iss);
	tcp_arm_rto(st, c);
	/* SYN-RECEIVED is bounded in time too: it dies with its retries. */
}

/* --- SYN-SENT (RFC 9293 3.10.7.3) ------------------------------------------- */

void tcp_syn_sent_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_ip *ip,
			const struct tcp_repr *seg)
{
	bool ack_ok = false;

	if (seg->flags & TCP_ACK) {
		if (seq_le(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max)) {
			xs_drop(st, XS_DROP_TCP_ACK);
			tcp_send_rst_for(st, ip, seg);
			return;
		}
		ack_ok = true;
	}
	if (seg->flags & TCP_RST) {
		/* RFC 5961 3.2 for SYN-SENT: the RST must acknowledge our SYN. */
		if (ack_ok)
			tcp_conn_done(st, c, -ECONNREFUSED);
		else
			xs_drop(st, XS_DROP_TCP_RST);
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		xs_drop(st, XS_DROP_TCP_FLAGS);
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	/* Our SYN offered a window before RCV.NXT was known: the edge is
	 * measured from here on (left stale, comparisons modulo 2^32 went
	 * either way and half the connections never opened their window). */
	c->rcv_adv = c->rcv_nxt;
	tcp_apply_syn_options(st, c, seg);
	if (ack_ok) {
		/* RTT of the handshake, unless the SYN was sent again (Karn). */
		if (c->syn_retries == 0 && c->last_send)
			rtt_sample(&c->rtt, st->now - c->last_send);
		if (c->ts_ok)
			c->ts_recent = seg->opt.tsval;
		tcp_active_established(st, c, seg);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5 figure 8). */
	c->state = XS_TCP_SYN_RECEIVED;
	c->snd_wnd = seg->wnd;
	tcp_send_ctl(st, c, TCP_SYN | TCP_ACK, c->iss);
	tcp_arm_rto(st, c);
}
