/* TCP input, RFC 9293 3.10.7 step by step for the synchronized states, with RFC
 * 5961 (blind attacks), RFC 7323 (PAWS, RTTM), RFC 5681/6582/6675 (recovery);
 * LISTEN and SYN-SENT are in tcp_handshake.c. */
#include <errno.h>
#include <string.h>

#include "core/mq.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "net/ip4.h"
#include "net6/ip6.h"
#include "tcp/tcp.h"
#include "wire/csum.h"

static uint32_t seg_len(const struct tcp_repr *s)
{
	return (uint32_t)s->payload_len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

/* RFC 5961 7: challenge ACKs, at most TCP_CHALLENGE_ACKS_PER_SEC a second. */
static void tcp_challenge_ack(struct xs_stack *st, struct tcp_conn *c)
{
	if (st->now - c->challenge_window >= XS_SEC(1)) {
		c->challenge_window = st->now;
		c->challenge_count = 0;
	}
	if (c->challenge_count >= TCP_CHALLENGE_ACKS_PER_SEC)
		return;
	c->challenge_count++;
	st->stats.tcp_challenge_acks++;
	tcp_send_ack(st, c);
}

/* RTTM (RFC 7323 4): a sample from the echoed timestamp, unless it is absent,
 * implausible, or was sent before the last timeout (then it would measure the
 * timeout). Returns true if a sample was taken. */
static bool tcp_rtt_from_ts(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t ms;

	if (!c->ts_ok || !seg->opt.ts_ok || !seg->opt.tsecr ||
	    (c->rto_tsval_set && seq_lt(seg->opt.tsecr, c->rto_tsval)))
		return false;
	ms = tcp_ts_now(st, c) - seg->opt.tsecr;
	if (ms >= 60000)
		return false;
	rtt_sample(&c->rtt, ms ? XS_MS(ms) : XS_MS(1) / 2);
	return true;
}

int tcp_established(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	int err = tcp_conn_buffers(st, c);

	if (err) {
		xs_drop(st, err == -ENOBUFS ? XS_DROP_TCP_MEM : XS_DROP_TCP_SYN_QUEUE);
		tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
		tcp_conn_done(st, c, -ENOMEM);
		return -ENOMEM;
	}
	/* A close that came during the handshake sends its FIN now. */
	c->state = c->fin_queued ? XS_TCP_FIN_WAIT_1 : XS_TCP_ESTABLISHED;
	c->recover = c->iss;
	c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	/* RFC 6298 5.7: a SYN was lost and nothing was measured: RTO 3 s. */
	if (c->syn_retries)
		rtt_syn_lost(&c->rtt);
	c->syn_retries = 0;
	c->first_unacked_at = 0;
	timer_cancel(&st->tcp->wheel, &c->rto_timer);
	timer_cancel(&st->tcp->wheel, &c->keep_timer);
	tcp_arm_keepalive(st, c);
	return 0;
}

/* Our SYN was acknowledged by the peer's SYN-ACK (SYN-SENT, or SYN-RECEIVED
 * after a simultaneous open): established, with the SYN's unscaled window
 * (RFC 7323 2.2); ACK it and tell the application. */
void tcp_active_established(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	c->snd_una = seg->ack;
	if (tcp_established(st, c, seg))
		return;
	c->snd_wnd = seg->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->ack_now = true;
	tcp_output(st, c);
	tcp_wake(st, c, XS_EV_WRITABLE);
}

/* --- synchronized states --------------------------------------------------- */

/* RFC 9293 3.10.7.4 first: is the segment acceptable? */
static bool tcp_seq_acceptable(const struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t len = seg_len(seg);

	if (len == 0) {
		if (wnd == 0)
			return seg->seq == c->rcv_nxt;
		return seq_le(c->rcv_nxt, seg->seq) && seq_lt(seg->seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (seq_le(c->rcv_nxt, seg->seq) && seq_lt(seg->seq, c->rcv_nxt + wnd)) ||
	       (seq_le(c->rcv_nxt, seg->seq + len - 1) &&
		seq_lt(seg->seq + len - 1, c->rcv_nxt + wnd));
}

static void tcp_rst_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	st->stats.tcp_rst_rx++;
	/* RFC 5961 3.2: only an exact match resets; in window: challenge. */
	if (seg->seq != c->rcv_nxt) {
		xs_drop(st, XS_DROP_TCP_RST);
		tcp_challenge_ack(st, c);
		return;
	}
	switch (c->state) {
	case XS_TCP_SYN_RECEIVED:
		/* Passive open: back to LISTEN (the listener never saw it). */
		tcp_conn_done(st, c, c->listener ? 0 : -ECONNREFUSED);
		return;
	case XS_TCP_ESTABLISHED:
	case XS_TCP_FIN_WAIT_1:
	case XS_TCP_FIN_WAIT_2:
	case XS_TCP_CLOSE_WAIT:
		tcp_conn_done(st, c, -ECONNRESET);
		return;
	default:
		tcp_conn_done(st, c, 0);
		return;
	}
}

/* Loss detected: by RACK with SACK (RFC 8985 / RFC 6675), else by three
 * duplicate ACKs (RFC 6582). */
static void tcp_enter_recovery(struct xs_stack *st, struct tcp_conn *c)
{
	c->in_recovery = true;
	c->recover = c->snd_max;
	c->cc_ops->on_loss(&c->cc, tcp_flight(c), st->now);
	c->rtt_timing = false;
	if (c->sack_ok) {
		uint32_t seq, end;

		st->stats.tcp_sack_recovery++;
		/* RFC 6675 5 (C.3): the first segment presumed lost goes now,
		 * whatever the pipe; then (C.5) fill the pipe. */
		if (rack_next_lost(&c->rack, &seq, &end))
			tcp_retransmit_at(st, c, seq, end - seq);
		tcp_output(st, c);
	} else {
		st->stats.tcp_fast_recovery++;
		tcp_retransmit_head(st, c);
		/* RFC 6582 3.2 step 2/3: inflate by the three segments that left. */
		c->cc.cwnd += TCP_DUPTHRESH * c->mss;
	}
}

void tcp_rack_detect(struct xs_stack *st, struct tcp_conn *c)
{
	xs_time_t wait;
	unsigned lost;

	lost = rack_detect_loss(&c->rack, st->now, c->rtt.srtt, tcp_recovering(c), &wait);
	/* RFC 8985 6.3: what is not lost yet may be once the window passes. */
	if (wait)
		timer_arm(&st->tcp->wheel, &c->rack_timer, st->now + wait);
	else
		timer_cancel(&st->tcp->wheel, &c->rack_timer);
	if (!lost)
		return;
	st->stats.tcp_rack_lost += lost;
	/* A new episode reduces the window once; losses found during one
	 * (lost retransmissions included) are resent within it, as Linux. */
	if (!tcp_recovering(c))
		tcp_enter_recovery(st, c);
}

static void tcp_ack_new(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t acked = seg->ack - c->snd_una, data;
	uint32_t flight = tcp_flight(c);
	bool fin_acked = c->fin_sent && seg->ack == c->snd_max;

	/* Bytes of the send buffer now acknowledged (the FIN is not data). */
	data = acked - (fin_acked ? 1 : 0);
	if (data > c->sndbuf.len)
		data = c->sndbuf.len;
	tcp_ring_consume(&c->sndbuf, data);
	c->bytes_acked += data;
	if (!c->sndbuf.len)
		tcp_mem_idle(st, c); /* all acknowledged: may go once idle */
	c->snd_una = seg->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if (c->sack_ok) {
		rack_on_ack(&c->rack, c->snd_una, st->now);
		tcp_mem_rack(st, c);
	}
	/* RTTM (RFC 7323 4) or the timed segment (RFC 6298; the two never
	 * coexist: a segment is timed only without timestamps). Karn: the
	 * backed-off RTO stays until a valid measurement. */
	if (tcp_rtt_from_ts(st, c, seg)) {
		rtt_reset_backoff(&c->rtt);
	} else if (c->rtt_timing && seq_gt(seg->ack, c->rtt_seq)) {
		rtt_sample(&c->rtt, st->now - c->rtt_time);
		rtt_reset_backoff(&c->rtt);
		c->rtt_timing = false;
	}
	c->probes = 0;
	/* Progress: the orphan allowance and the zero-window span restart. */
	c->retries = 0;
	c->zwnd = false;
	/* The resends after a timeout are done once recover is reached. */
	if (c->loss_state && seq_ge(seg->ack, c->recover))
		c->loss_state = false;
	if (c->in_recovery) {
		if (seq_ge(seg->ack, c->recover)) {
			c->in_recovery = false;
			/* SACK recovery held the pipe at cwnd, so it ends at
			 * ssthresh (RFC 6937 3); NewReno deflates (RFC 6582). */
			c->cc_ops->on_recovery_exit(&c->cc,
						    c->sack_ok ? c->cc.ssthresh : tcp_flight(c),
						    st->now);
		} else if (!c->sack_ok) {
			/* RFC 6582 3.2 step 5: partial ACK: retransmit the next
			 * hole, deflate by what was acked, add one segment back. */
			tcp_retransmit_head(st, c);
			c->cc.cwnd = c->cc.cwnd > acked ? c->cc.cwnd - acked : c->mss;
			c->cc.cwnd += c->mss;
		}
	} else {
		c->cc_ops->on_ack(&c->cc, data, flight, st->now, c->rtt.srtt);
	}
	c->dupacks = 0;
	/* RFC 6298 5.2/5.3: all acknowledged stops the timer, else restart. */
	if (c->snd_una == c->snd_max) {
		timer_cancel(&st->tcp->wheel, &c->rto_timer);
		c->tlp = c->tlp_sent = false;
		c->first_unacked_at = 0;
	} else {
		c->tlp_sent = false;
		tcp_arm_xmit_timer(st, c);
		c->first_unacked_at = st->now;
	}
	/* Send space freed: the writer hears it once the buffer, after having
	 * been full, has room again (tcp_send_space_ok). */
	if (data && c->handle >= 0 && c->snd_nospace && tcp_send_space_ok(c)) {
		c->snd_nospace = false;
		tcp_wake(st, c, XS_EV_WRITABLE);
	}
	if (fin_acked) {
		switch (c->state) {
		case XS_TCP_FIN_WAIT_1:
			c->state = XS_TCP_FIN_WAIT_2;
			tcp_arm_keepalive(st, c); /* FIN-WAIT-2 limit when orphaned */
			break;
		case XS_TCP_CLOSING:
			tcp_enter_time_wait(st, c);
			break;
		case XS_TCP_LAST_ACK:
			tcp_conn_done(st, c, 0);
			break;
		default:
			break;
		}
	}
}

/* ACK processing (RFC 9293 3.10.7.4 fifth). Returns false if c is gone or
 * the segment must not be processed further. */
static bool tcp_ack_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t wnd = (uint32_t)seg->wnd << c->snd_wscale;
	bool dup, new_sack = false;

	if (c->state == XS_TCP_SYN_RECEIVED) {
		if (seq_le(seg->ack, c->snd_una) || seq_gt(seg->ack, c->snd_max)) {
			xs_drop(st, XS_DROP_TCP_ACK);
			{
				struct tcp_ip ip = { .src = c->raddr, .dst = c->laddr };

				tcp_send_rst_for(st, &ip, seg);
			}
			return false;
		}
		if (c->listener && c->listener->ls->naccept >= c->listener->ls->backlog) {
			/* Accept queue full: ignore the ACK as Linux does; the
			 * SYN-ACK retransmission will draw another. */
			xs_drop(st, XS_DROP_TCP_ACCEPT_FULL);
			return false;
		}
		bool resent = c->syn_retries != 0;

		/* The handshake's RTT: from the echoed timestamp (RFC 7323 4:
		 * valid even after a resend), else only if the SYN-ACK went
		 * once (Karn). */
		if (!tcp_rtt_from_ts(st, c, seg) && !resent && c->last_send && !c->ts_ok)
			rtt_sample(&c->rtt, st->now - c->last_send);
		if (tcp_established(st, c, seg))
			return false;
		c->snd_una = seg->ack;
		st->stats.tcp_passive_opens++;
		if (c->listener)
			tcp_listener_established(st, c);
		else
			tcp_wake(st, c, XS_EV_WRITABLE);
	}
	/* RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
	if (seq_gt(seg->ack, c->snd_max) || seq_lt(seg->ack, c->snd_una - c->max_snd_wnd)) {
		xs_drop(st, XS_DROP_TCP_ACK);
		tcp_challenge_ack(st, c);
		return false;
	}
	if (c->sack_ok && seg->opt.nsack) {
		uint32_t before = c->rack.nsacked;
		unsigned i;

		/* A block counts only inside [snd_una, snd_max]: one outside,
		 * inverted or straddling snd_una (a D-SACK, RFC 2883) or
		 * beyond what was sent is ignored. */
		for (i = 0; i < seg->opt.nsack; i++) {
			uint32_t l = seg->opt.sack[i].left, r = seg->opt.sack[i].right;

			if (seq_lt(l, r) && seq_ge(l, c->snd_una) && seq_le(r, c->snd_max))
				st->stats.tcp_sack_unaligned +=
					(uint64_t)rack_on_sack(&c->rack, l, r, st->now);
		}
		new_sack = c->rack.nsacked != before;
	}
	/* RFC 5681 2: a duplicate ACK carries no data, no SYN/FIN, the same
	 * ACK and window, while data is outstanding. */
	/* With SACK, an ACK that reports SACK blocks counts even if the window
	 * moved (RFC 6675 2's definition; receivers autotune their windows). */
	dup = seg->ack == c->snd_una && seg->payload_len == 0 &&
	      !(seg->flags & (TCP_SYN | TCP_FIN)) && c->snd_una != c->snd_max &&
	      (wnd == c->snd_wnd || new_sack);
	if (seq_gt(seg->ack, c->snd_una)) {
		tcp_ack_new(st, c, seg);
		if (c->state == XS_TCP_CLOSED)
			return false;
	} else if (dup) {
		c->dupacks++;
		if (!c->sack_ok && !c->in_recovery && c->dupacks == TCP_DUPTHRESH) {
			/* RFC 6582 4.1: not again for losses of the window that
			 * was in flight when the last recovery or timeout began. */
			if (seq_ge(seg->ack, c->recover))
				tcp_enter_recovery(st, c);
		} else if (c->in_recovery && !c->sack_ok) {
			c->cc.cwnd += c->mss; /* RFC 6582 3.2 step 4 */
		} else if (!tcp_recovering(c) && c->dupacks < TCP_DUPTHRESH) {
			tcp_limited_transmit(st, c);
		}
	}
	/* With SACK, RACK decides what is lost (RFC 8985 6.2): by time, from
	 * what the receiver reports delivered; lost retransmissions too. */
	if (c->sack_ok && c->state != XS_TCP_CLOSED)
		tcp_rack_detect(st, c);
	/* Window update (RFC 9293 3.10.7.4: SND.WL1/WL2 guard old segments). */
	if (seq_lt(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, seg->ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd && c->persist) {
			timer_cancel(&st->tcp->wheel, &c->rto_timer);
			c->persist = false;
			c->probes = 0;
		}
	}
	return true;
}

/* FIN handling (RFC 9293 3.10.7.4 eighth) once rcv_nxt reached it. */
static void tcp_fin_input(struct xs_stack *st, struct tcp_conn *c)
{
	/* Nothing lies beyond a FIN: forget out-of-order data (as Linux). */
	if (c->ooo)
		seqset_init(c->ooo);
	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->ack_now = true;
	tcp_wake(st, c, XS_EV_READABLE);
	switch (c->state) {
	case XS_TCP_SYN_RECEIVED:
	case XS_TCP_ESTABLISHED:
		c->state = XS_TCP_CLOSE_WAIT;
		break;
	case XS_TCP_FIN_WAIT_1:
		if (c->fin_sent && c->snd_una == c->snd_max)
			tcp_enter_time_wait(st, c);
		else
			c->state = XS_TCP_CLOSING;
		break;
	case XS_TCP_FIN_WAIT_2:
		tcp_enter_time_wait(st, c);
		break;
	default:
		break;
	}
}

/* The URG bit (RFC 9293 3.10.7.4 sixth): RCV.UP = max(RCV.UP, SEG.SEQ +
 * SEG.UP), the pointer naming the octet after the urgent data (RFC 6093,
 * RFC 9293 3.8.5 MUST-62); the application hears of a pointer that is new
 * (none pending) or advanced, and beyond what it has read (MUST-32). */
static void tcp_urg_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t up = seg->seq + seg->urp, read = tcp_read_seq(c);

	if (c->urg_pending && !seq_gt(c->rcv_up, read))
		c->urg_pending = false; /* all read since */
	if (!seq_gt(up, read) || (c->urg_pending && !seq_gt(up, c->rcv_up)))
		return;
	c->rcv_up = up;
	c->urg_pending = true;
	tcp_wake(st, c, XS_EV_URGENT);
}

/* Segment text (RFC 9293 3.10.7.4 seventh): in order into the buffer, out
 * of order into the buffer beyond it with the range tracked for SACK. */
static void tcp_data_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg)
{
	uint32_t seq = seg->seq, len = (uint32_t)seg->payload_len;
	const uint8_t *p = seg->payload;
	uint32_t room, off;
	bool fin = seg->flags & TCP_FIN;

	if (seg->flags & TCP_SYN)
		seq++; /* a SYN's data starts after it */
	/* The ring is allocated by the first byte that may go into it; under
	 * pressure it comes back smaller (never below the offer), so the room
	 * is measured after. */
	if (len && !c->rcvbuf.data && c->rcvbuf.cap && tcp_rcvbuf_get(st, c))
		return; /* counted; the peer retransmits */
	room = c->rcvbuf.size - c->rcvbuf.len;
	/* Trim what we already have. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;

		if (skip >= len) {
			len = 0;
		} else {
			p += skip;
			len -= skip;
		}
		seq = c->rcv_nxt;
		/* A retransmission: tell the peer at once. */
		c->ack_now = c->ack_quick = true;
	}
	off = seq - c->rcv_nxt;
	/* Trim what does not fit the buffer (beyond the offered window). */
	if (off >= room || len > room - off) {
		/* Cut by the buffer: tell the peer where we are at once. */
		len = off >= room ? 0 : room - off;
		fin = false;
		c->ack_now = c->ack_quick = true;
	}
	if (len) {
		c->bytes_received += len;
		/* Already there when tcp_input copied it while summing it. */
		if (p != st->tcp->rx_in_ring || off)
			tcp_ring_write(&c->rcvbuf, c->rcvbuf.len + off, p, len);
		if (off == 0) {
			uint32_t end = c->ooo ? seqset_pop_contiguous(c->ooo, seq + len) : seq + len;

			c->rcvbuf.len += end - c->rcv_nxt;
			c->rcv_nxt = end;
			if (c->ooo) {
				seqset_trim_below(c->ooo, c->rcv_nxt);
				if (!c->ooo->n)
					tcp_mem_idle(st, c); /* the hole closed */
			}
			/* Data beyond the offered edge that the buffer could
			 * hold was kept: the edge is at least where we are. */
			if (seq_gt(c->rcv_nxt, c->rcv_adv))
				c->rcv_adv = c->rcv_nxt;
			/* Shut down for reading: acknowledged, thrown away. */
			if (c->rd_shut)
				tcp_ring_consume(&c->rcvbuf, c->rcvbuf.len);
			else
				tcp_wake(st, c, XS_EV_READABLE);
			/* RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK every second full
			 * segment, at once when filling a hole. The ACK for
			 * in-order data leaves after the receive batch, one for
			 * all its segments (3.10.7.4, MUST-58/59); the one for a
			 * hole before the next segment is looked at. */
			if (tcp_ooo_n(c) || end != seq + len)
				c->ack_now = c->ack_quick = true;
			else if (++c->segs_unacked >= 2)
				c->ack_now = true;
			else if (!timer_pending(&c->delack_timer))
				timer_arm(&st->tcp->wheel, &c->delack_timer, st->now + tcp_delack_clamp(c, TCP_DELACK));
		} else {
			struct seqset *ooo = tcp_ooo_get(st, c);

			if (!ooo || seqset_add(ooo, seq, seq + len) != 0)
				xs_drop(st, XS_DROP_TCP_OOO_FULL);
			/* RFC 5681 4.2: an out-of-order segment is ACKed at once,
			 * each one (the sender counts duplicate ACKs). */
			c->ack_now = c->ack_quick = true;
			fin = false;
		}
	}
	if (fin && seq + len == c->rcv_nxt && !c->fin_rcvd)
		tcp_fin_input(st, c);
}

void tcp_sync_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_ip *ip,
		    const struct tcp_repr *seg)
{
	(void)ip;
	/* RFC 7323 5.3 PAWS: an older timestamp is a duplicate from the past. */
	if (c->ts_ok && seg->opt.ts_ok && !(seg->flags & TCP_RST) &&
	    seq_lt(seg->opt.tsval, c->ts_recent) &&
	    st->now - c->ts_recent_age < XS_SEC(24 * 24 * 3600)) {
		xs_drop(st, XS_DROP_TCP_PAWS);
		tcp_send_ack(st, c);
		return;
	}
	/* SYN-RECEIVED: the peer sent its SYN again: our SYN-ACK was lost.
	 * RFC 7323 4.3: its newer timestamp is echoed. */
	if (c->state == XS_TCP_SYN_RECEIVED && (seg->flags & TCP_SYN) &&
	    !(seg->flags & (TCP_ACK | TCP_RST)) && seg->seq == c->irs) {
		if (c->ts_ok && seg->opt.ts_ok && seq_ge(seg->opt.tsval, c->ts_recent)) {
			c->ts_recent = seg->opt.tsval;
			c->ts_recent_age = st->now;
		}
		tcp_send_ctl(st, c, TCP_SYN | TCP_ACK, c->iss);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5 figure 8): the peer's SYN-ACK in
	 * SYN-RECEIVED acknowledges our SYN: established, ACK it. */
	if (c->state == XS_TCP_SYN_RECEIVED && (seg->flags & (TCP_SYN | TCP_ACK)) ==
	    (TCP_SYN | TCP_ACK) && !(seg->flags & TCP_RST) && seg->seq == c->irs &&
	    seq_gt(seg->ack, c->snd_una) && seq_le(seg->ack, c->snd_max)) {
		tcp_active_established(st, c, seg); /* counted by xs_tcp_connect */
		return;
	}
	/* TIME-WAIT: the peer's FIN again (our ACK was lost): ACK it and
	 * restart 2*MSL (RFC 9293 3.10.7.4). It sits just below RCV.NXT. */
	if (c->state == XS_TCP_TIME_WAIT && (seg->flags & TCP_FIN) &&
	    !(seg->flags & (TCP_RST | TCP_SYN)) &&
	    seg->seq + (uint32_t)seg->payload_len + 1 == c->rcv_nxt) {
		tcp_send_ack(st, c);
		tcp_enter_time_wait(st, c);
		return;
	}
	/* RFC 5961 4.2: a SYN here, whatever its sequence number, gets a
	 * (rate-limited) challenge ACK and nothing else. */
	if ((seg->flags & TCP_SYN) && !(seg->flags & TCP_RST) &&
	    c->state != XS_TCP_SYN_RECEIVED) {
		xs_drop(st, XS_DROP_TCP_FLAGS);
		tcp_challenge_ack(st, c);
		return;
	}
	if (!tcp_seq_acceptable(c, seg)) {
		/* RFC 9293 3.10.7.4: an unacceptable segment draws an ACK (not
		 * a challenge ACK: our ACK is acceptable, so no ACK war). */
		xs_drop(st, XS_DROP_TCP_SEQ);
		/* RFC 9293 3.4 (MUST-66) and 3.10.7.4: with a zero window no
		 * text is acceptable, but the URG of a segment at RCV.NXT whose
		 * ACK is acceptable still counts (a window probe may carry it). */
		if ((seg->flags & (TCP_URG | TCP_ACK | TCP_SYN | TCP_RST)) == (TCP_URG | TCP_ACK) &&
		    seg->seq == c->rcv_nxt && !seq_gt(c->rcv_adv, c->rcv_nxt) &&
		    !seq_gt(seg->ack, c->snd_max) &&
		    !seq_lt(seg->ack, c->snd_una - c->max_snd_wnd) &&
		    (c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_FIN_WAIT_1 ||
		     c->state == XS_TCP_FIN_WAIT_2))
			tcp_urg_input(st, c, seg);
		if (!(seg->flags & TCP_RST))
			tcp_send_ack(st, c);
		return;
	}
	if (seg->flags & TCP_RST) {
		tcp_rst_input(st, c, seg);
		return;
	}
	/* RFC 5961 4.2: any SYN here gets a challenge ACK. */
	if (seg->flags & TCP_SYN) {
		xs_drop(st, XS_DROP_TCP_FLAGS);
		tcp_challenge_ack(st, c);
		return;
	}
	if (!(seg->flags & TCP_ACK)) {
		xs_drop(st, XS_DROP_TCP_FLAGS);
		return;
	}
	/* RFC 7323 4.3: remember the timestamp of an in-order segment. */
	if (c->ts_ok && seg->opt.ts_ok && seq_le(seg->seq, c->last_ack_sent) &&
	    seq_lt(c->last_ack_sent, seg->seq + seg_len(seg) + 1)) {
		c->ts_recent = seg->opt.tsval;
		c->ts_recent_age = st->now;
	}
	if (!tcp_ack_input(st, c, seg))
		return;
	c->probes = 0;
	if (c->keepalive)
		tcp_arm_keepalive(st, c);
	switch (c->state) {
	case XS_TCP_ESTABLISHED:
	case XS_TCP_FIN_WAIT_1:
	case XS_TCP_FIN_WAIT_2:
		/* Even with a zero window (RFC 9293 3.4 MUST-66): an acceptable
		 * segment's URG counts whether or not its text fits. */
		if (seg->flags & TCP_URG)
			tcp_urg_input(st, c, seg);
		if (seg->payload_len || (seg->flags & TCP_FIN))
			tcp_data_input(st, c, seg);
		break;
	case XS_TCP_TIME_WAIT:
		/* A retransmitted FIN: ACK it and restart 2*MSL. */
		if (seg->flags & TCP_FIN) {
			c->ack_now = true;
			tcp_enter_time_wait(st, c);
		}
		break;
	default:
		/* CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN came already;
		 * data beyond it is ignored (RFC 9293 3.10.7.4). */
		break;
	}
	if (c->state != XS_TCP_CLOSED)
		tcp_output(st, c);
}

/* A segment whose checksum is good: to its connection, a listener, another
 * queue's stack, or a reset (RFC 9293 3.10.7). c: the connection of its
 * 4-tuple, if any; mp: the IP header and packet of either family, for a
 * hand-off between queues; dst_ok: the destination is one a connection can
 * have. */
static void tcp_input_segment(struct xs_stack *st, const struct tcp_ip *ip,
			      const struct mq_pkt *mp, const struct tcp_repr *seg,
			      struct tcp_conn *c, bool dst_ok)
{
	struct tcp_conn *l;
	uint32_t iss_floor = 0;

	st->stats.tcp_rx++;
	if (!dst_ok) {
		xs_drop(st, XS_DROP_TCP_DST);
		return;
	}
	/* Port 0 is reserved (RFC 6335 6): no connection has it, and a RST
	 * from or to it would be a segment no host should send. */
	if (!seg->sport || !seg->dport) {
		xs_drop(st, XS_DROP_TCP_NO_CONN);
		return;
	}
	/* RFC 6191-style reuse: a new SYN for a TIME-WAIT connection with a
	 * higher sequence number (or newer timestamp) starts over. */
	if (c && c->state == XS_TCP_TIME_WAIT && (seg->flags & TCP_SYN) &&
	    !(seg->flags & (TCP_ACK | TCP_RST)) &&
	    (seq_gt(seg->seq, c->rcv_nxt) ||
	     (c->ts_ok && seg->opt.ts_ok && seq_gt(seg->opt.tsval, c->ts_recent))) &&
	    tcp_listener(st, seg->dport)) {
		/* The new incarnation's ISS lies above everything the old one
		 * sent (RFC 9293 3.4.1 / RFC 6191), as Linux does. */
		iss_floor = c->snd_max + 65535 + 2;
		tcp_conn_done(st, c, 0);
		c = NULL;
	}
	if (!c) {
		/* Multi-queue: the flow may have moved from another queue. */
		if (st->mq && !(seg->flags & TCP_SYN) && mq_search(st, mp))
			return;
		l = tcp_listener(st, seg->dport);
		if (l) {
			tcp_listen_input(st, l, ip, seg, iss_floor);
			return;
		}
		/* RFC 9293 3.10.7.1: CLOSED: anything but a RST draws a RST. */
		xs_drop(st, XS_DROP_TCP_NO_CONN);
		tcp_send_rst_for(st, ip, seg);
		return;
	}
	if (c->state == XS_TCP_SYN_SENT)
		tcp_syn_sent_input(st, c, ip, seg);
	else
		tcp_sync_input(st, c, ip, seg);
}

/* In-order data for a connection whose receive ring has room for it and
 * nothing out of order beyond it: the bytes after the readable part are
 * free, so the payload can be copied there while its checksum is summed
 * (one pass over it), before anything looks at the segment; tcp_data_input
 * then finds it in place. A bad checksum leaves only free bytes written. */
static bool tcp_rx_copy_early(const struct tcp_conn *c, const struct tcp_repr *seg)
{
	return c && seg->payload_len && seg->seq == c->rcv_nxt && c->rcvbuf.data &&
	       !tcp_ooo_n(c) && !(seg->flags & (TCP_SYN | TCP_RST)) &&
	       seg->payload_len <= c->rcvbuf.size - c->rcvbuf.len &&
	       (c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_FIN_WAIT_1 ||
		c->state == XS_TCP_FIN_WAIT_2);
}

/* Either family: parse, find the connection, verify the checksum (summing
 * the payload on its way into the receive ring where it can go there), then
 * tcp_input_segment. pseudo: the pseudo-header sum without its length. */
static void tcp_input_l3(struct xs_stack *st, const struct tcp_ip *ip, const struct mq_pkt *mp,
			 const uint8_t *l4, size_t n, uint32_t pseudo, bool dst_ok)
{
	struct tcp_repr seg;
	struct tcp_conn *c;
	uint32_t hsum, psum;
	enum xs_drop why;

	why = tcp_parse_unverified_ps(l4, n, pseudo, &seg, &hsum);
	if (why) {
		xs_drop(st, why);
		return;
	}
	/* RFC 9293 3.1: the checksum first; the lookup has no effect but its
	 * memo, and tells whether the payload can be summed on its way into
	 * the receive ring. */
	c = dst_ok ? tcp_lookup(st, &ip->dst, seg.dport, &ip->src, seg.sport) : NULL;
	if (tcp_rx_copy_early(c, &seg)) {
		psum = tcp_ring_write_csum(&c->rcvbuf, c->rcvbuf.len, seg.payload,
					   (uint32_t)seg.payload_len);
		st->tcp->rx_in_ring = seg.payload;
	} else {
		psum = csum_add(0, seg.payload, seg.payload_len);
	}
	if (!tcp_csum_ok(hsum, psum)) {
		st->tcp->rx_in_ring = NULL;
		xs_drop(st, XS_DROP_TCP_CSUM);
		return;
	}
	tcp_input_segment(st, ip, mp, &seg, c, dst_ok);
	st->tcp->rx_in_ring = NULL;
}

void tcp_input(struct xs_stack *st, const struct ip4_repr *ip4, const uint8_t *pkt)
{
	struct tcp_ip ip = {.tos = ip4->tos};
	struct mq_pkt mp = {.ip4 = ip4, .pkt = pkt, .len = ip4->total_len};

	tcp_addr_from4(&ip.src, ip4->src);
	tcp_addr_from4(&ip.dst, ip4->dst);
	tcp_input_l3(st, &ip, &mp, pkt + ip4->hdr_len, ip4_payload_len(ip4),
		     csum_pseudo4(ip4->src, ip4->dst, IP4_PROTO_TCP, 0), ip4->dst == st->ip);
}

void tcp6_input(struct xs_stack *st, const struct ip6_repr *ip6, const uint8_t *pkt, size_t l4_off,
		size_t len)
{
	struct tcp_ip ip = {.src = ip6->src, .dst = ip6->dst, .tos = ip6->tclass};
	struct mq_pkt mp = {.ip6 = ip6,
			    .pkt = pkt,
			    .len = (uint32_t)len,
			    .l4_off = (uint16_t)l4_off,
			    .proto = IP6_NH_TCP};

	/* RFC 9293 3.9.1.1: never to multicast (nor from a v4-mapped source:
	 * that would name an IPv4 connection). */
	tcp_input_l3(st, &ip, &mp, pkt + l4_off, len - l4_off,
		     csum_pseudo6(ip6->src.b, ip6->dst.b, IP6_NH_TCP, 0),
		     !ip6_is_multicast(&ip6->dst) && !tcp_addr_is4(&ip6->src));
}

int tcp_icmp_error(struct xs_stack *st, uint32_t dst, uint16_t sport, uint16_t dport,
		   uint32_t seq, int err)
{
	struct ip6_addr l, r;

	tcp_addr_from4(&l, st->ip);
	tcp_addr_from4(&r, dst);
	return tcp_icmp_error_addr(st, &l, &r, sport, dport, seq, err);
}

int tcp_icmp_error_addr(struct xs_stack *st, const struct ip6_addr *laddr,
			const struct ip6_addr *raddr, uint16_t sport, uint16_t dport, uint32_t seq,
			int err)
{
	struct tcp_conn *c = tcp_lookup(st, laddr, sport, raddr, dport);

	/* RFC 5927 4.1: the quoted sequence number must be in flight. */
	if (!c || seq_lt(seq, c->snd_una) || seq_gt(seq, c->snd_max))
		return -ENOENT;
	/* RFC 1122 4.2.3.9: net/host unreachable are soft errors (MUST NOT
	 * abort; reported if the connection then times out); port and
	 * protocol unreachable end an opening connection. */
	if (err == -EMSGSIZE)
		return 0;
	if (c->state == XS_TCP_SYN_SENT && (err == -ECONNREFUSED || err == -ENOPROTOOPT)) {
		tcp_conn_done(st, c, -ECONNREFUSED);
	} else {
		/* RFC 9293 3.9.1.8 (MUST-47): soft errors reach the application. */
		c->soft_error = err;
		tcp_wake(st, c, XS_EV_SOFT_ERROR);
	}
	return 0;
}
