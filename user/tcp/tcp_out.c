/* TCP output: segments built straight into tx frames, the send loop under
 * flow and congestion control, Nagle and SWS avoidance, recovery sends, ACKs, RSTs. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/ip4.h"
#include "tcp/tcp.h"

uint32_t tcp_ts_now(const struct xs_stack *st, const struct tcp_conn *c)
{
	/* RFC 7323 5.4: a 1 ms clock with a random offset per connection. */
	return (uint32_t)(st->now / XS_NSEC_PER_MS) + c->ts_offset;
}

/* Free receive space; the window we may offer. */
static uint32_t tcp_rcv_free(const struct tcp_conn *c)
{
	/* The ring's slack may hold a few bytes past the logical size. */
	return c->rcvbuf.len < c->rcvbuf.cap ? c->rcvbuf.cap - c->rcvbuf.len : 0;
}

uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t free_space = tcp_rcv_free(c);
	uint32_t max = (uint32_t)65535 << c->rcv_wscale;

	return free_space < max ? free_space : max;
}

/* The window to announce: never shrink what was offered (RFC 9293 3.8.6.2.2),
 * and move the right edge only by worthwhile steps (receiver SWS avoidance). */
static uint32_t tcp_window_to_send(struct tcp_conn *c)
{
	uint32_t free_space = tcp_rcv_free(c), wnd;
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = c->rcvbuf.cap / 2 < c->rcv_mss ? c->rcvbuf.cap / 2 : c->rcv_mss;
	uint32_t unit = (uint32_t)1 << c->rcv_wscale;

	/* RFC 9293 3.8.6.2.2: the edge moves only by at least min(buffer/2,
	 * MSS) of what may be offered (the field's limit included). */
	wnd = free_space < tcp_rcv_window(c) ? free_space : tcp_rcv_window(c);
	if (wnd < offered)
		wnd = offered;
	else if (wnd - offered < step && wnd < c->rcvbuf.cap)
		wnd = offered;
	/* Scaled windows are announced in units of 1 << rcv_wscale: round
	 * up, as Linux does, so the offered edge never moves back, as long as
	 * the ring (with its slack) really holds it; else round down rather
	 * than promise what does not fit (the edge would creep otherwise). */
	if (((wnd + unit - 1) & ~(unit - 1)) <= c->rcvbuf.size - c->rcvbuf.len)
		return (wnd + unit - 1) & ~(unit - 1);
	return wnd & ~(unit - 1);
}

/* Builds and sends one segment: seq, flags, and len bytes of the send buffer
 * from seq (data segments only). Returns 0 or -errno. */
static int tcp_xmit(struct xs_stack *st, struct tcp_conn *c, uint32_t seq, uint8_t flags,
		    uint32_t len)
{
	struct tcp_repr r = { .sport = c->lport, .dport = c->rport, .seq = seq, .flags = flags };
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, olen, n;
	uint32_t wnd, psum = 0;

	/* RFC 9293 3.8.5 / 3.10.2: until our urgent data is acknowledged, a
	 * segment before SND.UP carries URG and the pointer to the octet after
	 * that data (MUST-62), 0xffff while it lies further (as Linux). */
	if (c->urg_send && !seq_lt(c->snd_una, c->snd_up))
		c->urg_send = false;
	if (c->urg_send && !(flags & (TCP_SYN | TCP_RST)) && seq_lt(seq, c->snd_up)) {
		r.flags |= TCP_URG;
		r.urp = c->snd_up - seq > 0xffff ? 0xffff : (uint16_t)(c->snd_up - seq);
	}
	if (flags & TCP_SYN) {
		r.opt.mss_ok = 1;
		r.opt.mss = c->rcv_mss;
		/* Options go on a SYN-ACK only if the peer's SYN had them. */
		if (c->state == XS_TCP_SYN_SENT || c->ws_ok) {
			r.opt.ws_ok = 1;
			r.opt.ws = c->rcv_wscale;
		}
		r.opt.sack_ok = c->state == XS_TCP_SYN_SENT || c->sack_ok;
		r.opt.ts_ok = c->state == XS_TCP_SYN_SENT || c->ts_ok;
	} else {
		r.opt.ts_ok = c->ts_ok;
		if (c->sack_ok && tcp_ooo_n(c))
			r.opt.nsack = (uint8_t)seqset_sack_blocks(c->ooo, r.opt.sack,
								  c->ts_ok ? 3 : 4);
	}
	if (r.opt.ts_ok) {
		r.opt.tsval = tcp_ts_now(st, c);
		r.opt.tsecr = (flags & TCP_ACK) ? c->ts_recent : 0;
	}
	/* RFC 7323 2.2: the window in a SYN is never scaled (and a SYN
	 * without ACK still offers one). A bare RST offers none. */
	if (flags & TCP_SYN)
		wnd = tcp_rcv_window(c) > 65535 ? 65535 : tcp_rcv_window(c);
	else if (flags & TCP_ACK)
		wnd = tcp_window_to_send(c);
	else
		wnd = 0;
	r.wnd = (uint16_t)((flags & TCP_SYN) ? wnd : wnd >> c->rcv_wscale);
	if (flags & TCP_ACK)
		r.ack = c->rcv_nxt;
	l4 = tcp_tx_begin(st, &c->raddr, &f, &cap);
	if (!l4)
		return -ENOBUFS;
	olen = tcp_opts_len(&r);
	if (TCP_HDR_LEN + olen + len > cap) {
		xs_dev_tx_abort(st->dev, &f);
		return -EMSGSIZE;
	}
	if (len) {
		/* Summed as it is copied into the frame: one pass over it. */
		psum = tcp_ring_peek_csum(&c->sndbuf, seq - c->snd_una, l4 + TCP_HDR_LEN + olen,
					  len);
		r.payload = l4 + TCP_HDR_LEN + olen;
		r.payload_len = len;
	}
	n = tcp_emit_summed_ps(&r, tcp_pseudo(&c->laddr, &c->raddr), l4, cap, psum);
	if (!n) {
		xs_dev_tx_abort(st->dev, &f);
		return -EMSGSIZE;
	}
	if (tcp_tx_finish(st, &f, &c->laddr, &c->raddr, c->tos, n) != 0)
		return -EHOSTUNREACH;
	st->stats.tcp_tx++;
	if (flags & TCP_ACK) {
		if (seq_gt(c->rcv_nxt + wnd, c->rcv_adv) || (flags & TCP_SYN))
			c->rcv_adv = c->rcv_nxt + wnd;
		c->last_ack_sent = c->rcv_nxt;
		c->segs_unacked = 0;
		c->ack_now = false;
		c->ack_quick = false;
		if (timer_pending(&c->delack_timer))
			timer_cancel(&st->tcp->wheel, &c->delack_timer);
	}
	c->last_send = st->now;
	return 0;
}

void tcp_send_ctl(struct xs_stack *st, struct tcp_conn *c, uint8_t flags, uint32_t seq)
{
	tcp_xmit(st, c, seq, flags, 0);
}

void tcp_send_ack(struct xs_stack *st, struct tcp_conn *c)
{
	tcp_xmit(st, c, c->snd_nxt, TCP_ACK, 0);
}

void tcp_ack_owed(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;

	if (!t->rx_batch || c->ack_quick || (!c->ack_queued && t->nack_owed == XS_POLL_BATCH)) {
		tcp_send_ack(st, c);
		return;
	}
	if (!c->ack_queued) {
		c->ack_queued = true;
		t->ack_owed[t->nack_owed++] = c;
	}
}

void tcp_ack_unqueue(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;
	unsigned i;

	if (!c->ack_queued)
		return;
	for (i = 0; i < t->nack_owed; i++) {
		if (t->ack_owed[i] == c) {
			t->ack_owed[i] = t->ack_owed[--t->nack_owed];
			break;
		}
	}
	c->ack_queued = false;
}

void tcp_batch_begin(struct xs_stack *st)
{
	st->tcp->rx_batch = true;
}

/* RFC 9293 3.10.7.4: all queued segments were processed; each connection
 * that still owes an ACK (none rode on data since) sends one, covering
 * everything the batch brought it. A connection closed meanwhile sends
 * nothing (it is freed only at the end of the poll, so still readable). */
void tcp_batch_end(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;
	unsigned i;

	t->rx_batch = false;
	for (i = 0; i < t->nack_owed; i++) {
		struct tcp_conn *c = t->ack_owed[i];

		c->ack_queued = false;
		if (c->ack_now && !c->done && c->state != XS_TCP_CLOSED &&
		    c->state != XS_TCP_LISTEN)
			tcp_send_ack(st, c);
	}
	t->nack_owed = 0;
}

void tcp_send_rst_for(struct xs_stack *st, const struct tcp_ip *ip, const struct tcp_repr *seg)
{
	struct tcp_repr r = { .sport = seg->dport, .dport = seg->sport, .flags = TCP_RST };
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;

	if (seg->flags & TCP_RST)
		return;
	/* RFC 9293 3.10.7.1: take the sequence number from the ACK, or ACK
	 * everything the segment occupied. */
	if (seg->flags & TCP_ACK) {
		r.seq = seg->ack;
	} else {
		r.flags |= TCP_ACK;
		r.ack = seg->seq + (uint32_t)seg->payload_len + !!(seg->flags & TCP_SYN) +
			!!(seg->flags & TCP_FIN);
	}
	l4 = tcp_tx_begin(st, &ip->src, &f, &cap);
	if (!l4)
		return;
	n = tcp_emit_ps(&r, tcp_pseudo(&ip->dst, &ip->src), l4, cap);
	if (tcp_tx_finish(st, &f, &ip->dst, &ip->src, 0, n) == 0) {
		st->stats.tcp_tx++;
		st->stats.tcp_rst_tx++;
	}
}

void tcp_arm_rto(struct xs_stack *st, struct tcp_conn *c)
{
	xs_time_t when = st->now + rtt_rto(&c->rtt);

	c->persist = false;
	c->tlp = false;
	/* Never past the user timeout (RFC 5482 / Linux's clamp): the
	 * connection is given up exactly when it runs out. */
	if (c->first_unacked_at && c->first_unacked_at + c->user_timeout < when)
		when = c->first_unacked_at + c->user_timeout > st->now
			       ? c->first_unacked_at + c->user_timeout
			       : st->now;
	timer_arm(&st->tcp->wheel, &c->rto_timer, when);
}

#define TCP_TLP_SLACK XS_MS(2)    /* Linux's TCP_TIMEOUT_MIN for a multi-segment flight */
#define TCP_WC_DELACK XS_MS(200) /* RFC 8985 7.2 WCDelAckT, for a single segment */

void tcp_arm_xmit_timer(struct xs_stack *st, struct tcp_conn *c)
{
	xs_time_t pto, rto = rtt_rto(&c->rtt);

	/* A probe only with SACK (its ACK must reveal holes), an RTT sample,
	 * outside recovery (fast or after a timeout: RFC 8985 7.2), and once
	 * until new data is acknowledged. */
	if (!c->sack_ok || !c->rtt.have_sample || tcp_recovering(c) || c->tlp_sent ||
	    c->rtt.backoff || c->state != XS_TCP_ESTABLISHED) {
		tcp_arm_rto(st, c);
		return;
	}
	/* RFC 8985 7.2: PTO = 2*SRTT, plus the peer's worst delayed ACK when
	 * only one segment is out (or a small slack otherwise, as Linux). */
	pto = 2 * c->rtt.srtt +
	      (tcp_flight(c) <= c->mss ? tcp_delack_clamp(c, TCP_WC_DELACK) : TCP_TLP_SLACK);
	if (pto > rto)
		pto = rto;
	c->persist = false;
	c->tlp = true;
	timer_arm(&st->tcp->wheel, &c->rto_timer, st->now + pto);
}

/* Payload room of one segment: the peer's MSS and our MTU, less options. */
static uint32_t tcp_seg_room(const struct xs_stack *st, const struct tcp_conn *c)
{
	uint32_t mtu_room = tcp_mtu_room(st, &c->raddr) - TCP_HDR_LEN;
	uint32_t room = c->mss < mtu_room ? c->mss : mtu_room;
	uint32_t opts = c->ts_ok ? 12 : 0;

	if (c->sack_ok && tcp_ooo_n(c))
		opts += 4 + 8 * (tcp_ooo_n(c) < (c->ts_ok ? 3u : 4u) ? tcp_ooo_n(c) : (c->ts_ok ? 3u : 4u));
	return room > opts + 1 ? room - opts : 1;
}

/* Sends [seq, seq+len) of the send buffer, counting retransmissions. */
static int tcp_send_data(struct xs_stack *st, struct tcp_conn *c, uint32_t seq, uint32_t len,
			 bool fin)
{
	uint32_t data_end = c->snd_una + c->sndbuf.len;
	uint8_t flags = TCP_ACK;
	int err;

	if (seq + len == data_end)
		flags |= TCP_PSH;
	if (fin)
		flags |= TCP_FIN;
	err = tcp_xmit(st, c, seq, flags, len);
	if (err)
		return err;
	/* RACK keeps a record of each segment and when it last left. */
	if (c->sack_ok) {
		rack_on_xmit(&c->rack, seq, seq + len + (fin ? 1 : 0), c->snd_max, st->now);
		tcp_mem_rack(st, c);
	}
	if (seq_lt(seq, c->snd_max)) {
		c->retransmits++;
		st->stats.tcp_retransmits++;
		/* Karn: a timed segment that is sent again gives no sample. */
		if (c->rtt_timing && seq_le(seq, c->rtt_seq))
			c->rtt_timing = false;
	} else if (!c->ts_ok && !c->rtt_timing && len) {
		c->rtt_timing = true;
		c->rtt_seq = seq;
		c->rtt_time = st->now;
	}
	/* The highest sequence sent moves here, before the timer is armed:
	 * the probe timeout depends on what is in flight. */
	if (seq_gt(seq + len + (fin ? 1 : 0), c->snd_max))
		c->snd_max = seq + len + (fin ? 1 : 0);
	/* RFC 6298 5.1: data leaves with the retransmission timer running;
	 * RFC 8985 7.2: a probe timer is rescheduled by each transmission. */
	if (!timer_pending(&c->rto_timer) || c->persist || c->tlp)
		tcp_arm_xmit_timer(st, c);
	if (c->first_unacked_at == 0)
		c->first_unacked_at = st->now;
	return 0;
}

/* One segment of queued data from seq (snd_nxt or snd_max), no larger than a
 * segment's room and what the peer's window still allows; snd_nxt follows
 * it. 0 with *sent set, -EAGAIN when nothing may go, or the send error. */
static int tcp_send_window_segment(struct xs_stack *st, struct tcp_conn *c, uint32_t seq,
				   uint32_t *sent)
{
	uint32_t data_end = c->snd_una + c->sndbuf.len, room = tcp_seg_room(st, c), len;
	int err;

	if (!seq_lt(seq, data_end) || c->snd_wnd <= tcp_flight(c))
		return -EAGAIN;
	len = data_end - seq < room ? data_end - seq : room;
	if (len > c->snd_wnd - tcp_flight(c))
		len = c->snd_wnd - tcp_flight(c); /* never past the peer's window */
	err = tcp_send_data(st, c, seq, len, false);
	if (err)
		return err;
	c->snd_nxt = seq + len;
	*sent = len;
	return 0;
}

/* SACK recovery, and the resends after a timeout with SACK: while the pipe
 * (RFC 6675 SetPipe, from RACK's records) leaves a segment of cwnd, resend
 * the first record marked lost (NextSeg rule 1, RACK's order), else send
 * new data (rule 2). */
static void tcp_output_sack_recovery(struct xs_stack *st, struct tcp_conn *c, uint32_t room)
{
	uint32_t pipe = rack_pipe(&c->rack);
	uint32_t seq, end, len;
	int guard = 0;

	while (pipe + room <= c->cc.cwnd && guard++ < 64) {
		if (rack_next_lost(&c->rack, &seq, &end)) {
			len = end - seq < room ? end - seq : room;
			if (tcp_retransmit_at(st, c, seq, len))
				break;
		} else if (tcp_send_window_segment(st, c, c->snd_max, &len) != 0) {
			break; /* rule 2 (new data) had nothing it could send */
		}
		pipe += len;
	}
}

void tcp_output(struct xs_stack *st, struct tcp_conn *c)
{
	uint32_t room, data_end, win, inflight, avail, len;
	bool sent_ack = false;
	int guard;

	switch (c->state) {
	case XS_TCP_ESTABLISHED:
	case XS_TCP_CLOSE_WAIT:
	case XS_TCP_FIN_WAIT_1:
	case XS_TCP_CLOSING:
	case XS_TCP_LAST_ACK:
		break;
	case XS_TCP_FIN_WAIT_2:
	case XS_TCP_TIME_WAIT:
		if (c->ack_now)
			tcp_ack_owed(st, c);
		return;
	default:
		return;
	}
	room = tcp_seg_room(st, c);
	data_end = c->snd_una + c->sndbuf.len;
	/* RFC 5681 4.1: restart window after an idle period of one RTO. */
	if (c->snd_una == c->snd_max && c->last_send &&
	    st->now - c->last_send > rtt_rto(&c->rtt) && seq_lt(c->snd_nxt, data_end))
		c->cc_ops->on_idle(&c->cc, st->now);
	if (c->sack_ok && tcp_recovering(c)) {
		uint64_t before = st->stats.tcp_tx;

		tcp_output_sack_recovery(st, c, room);
		sent_ack = st->stats.tcp_tx != before;
		goto ack;
	}
	for (guard = 0; guard < 4096; guard++) {
		win = c->snd_wnd < c->cc.cwnd ? c->snd_wnd : c->cc.cwnd;
		inflight = c->snd_nxt - c->snd_una;
		if (seq_lt(c->snd_nxt, data_end)) {
			avail = data_end - c->snd_nxt;
			len = avail < room ? avail : room;
			if (win <= inflight) {
				/* RFC 9293 3.8.6.1: nothing in flight and a closed
				 * window: the persist timer probes it. */
				if (c->snd_wnd == 0 && c->snd_una == c->snd_max &&
				    !timer_pending(&c->rto_timer)) {
					c->persist = true;
					timer_arm(&st->tcp->wheel, &c->rto_timer,
						  st->now + rtt_rto(&c->rtt));
				}
				break;
			}
			if (len > win - inflight)
				len = win - inflight;
			/* RFC 9293 3.7.4 Nagle and 3.8.6.2.1 sender SWS: a short
			 * segment only when it is all we have and nothing is
			 * unacknowledged (or no-delay), or it fills half the
			 * largest window the peer offered. */
			if (len < room && seq_ge(c->snd_nxt, c->snd_max) &&
			    !(len == avail && (c->nodelay || c->snd_una == c->snd_max ||
					       c->fin_queued)) &&
			    len < c->max_snd_wnd / 2) {
				/* RFC 9293 3.8.6.2.1: with nothing in flight the
				 * override timeout sends what the window allows
				 * (the persist timer does it), so a small window
				 * cannot stall the sender. */
				if (c->snd_una == c->snd_max && !timer_pending(&c->rto_timer)) {
					c->persist = true;
					timer_arm(&st->tcp->wheel, &c->rto_timer,
						  st->now + rtt_rto(&c->rtt));
				}
				break;
			}
			/* Resending after a timeout: no slivers cut by the window
			 * when more data follows (sender SWS avoidance again). */
			if (len < room && len < avail && seq_lt(c->snd_nxt, c->snd_max) &&
			    c->snd_nxt != c->snd_una)
				break;
			{
				uint32_t seq = c->snd_nxt;
				bool fin = c->fin_queued && seq + len == data_end &&
					   (!c->fin_sent || seq_lt(seq + len, c->snd_max));
				if (tcp_send_data(st, c, seq, len, fin))
					break;
				sent_ack = true;
				c->snd_nxt = seq + len + (fin ? 1 : 0);
				if (fin)
					c->fin_sent = true;
				if (seq_gt(c->snd_nxt, c->snd_max))
					c->snd_max = c->snd_nxt;
			}
			continue;
		}
		/* All data sent: the FIN alone, first time or again after a
		 * timeout rewound snd_nxt. */
		if (c->fin_queued && c->snd_nxt == data_end &&
		    (!c->fin_sent || seq_lt(c->snd_nxt, c->snd_max))) {
			if (tcp_send_data(st, c, data_end, 0, true))
				break;
			sent_ack = true;
			c->fin_sent = true;
			c->snd_nxt = data_end + 1;
			if (seq_gt(c->snd_nxt, c->snd_max))
				c->snd_max = c->snd_nxt;
		}
		break;
	}
ack:
	if (c->ack_now && !sent_ack)
		tcp_ack_owed(st, c);
}

int tcp_retransmit_at(struct xs_stack *st, struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t data_end = c->snd_una + c->sndbuf.len, room = tcp_seg_room(st, c);

	if (!len || len > room)
		len = room;
	if (seq_ge(seq + len, data_end))
		len = seq_lt(seq, data_end) ? data_end - seq : 0;
	if (!len && !(c->fin_sent && seq == data_end))
		return -EINVAL;
	return tcp_send_data(st, c, seq, len, c->fin_sent && seq + len == data_end);
}

int tcp_send_forced(struct xs_stack *st, struct tcp_conn *c)
{
	uint32_t len;

	return tcp_send_window_segment(st, c, c->snd_nxt, &len);
}

void tcp_limited_transmit(struct xs_stack *st, struct tcp_conn *c)
{
	uint32_t room = tcp_seg_room(st, c), len;

	/* RFC 3042 2: a new segment if the peer's window holds a full one,
	 * beyond cwnd by at most two segments. */
	if (tcp_flight(c) + room > c->snd_wnd || tcp_flight(c) > c->cc.cwnd + 2 * room)
		return;
	tcp_send_window_segment(st, c, c->snd_max, &len);
}

void tcp_send_tlp(struct xs_stack *st, struct tcp_conn *c)
{
	uint32_t room = tcp_seg_room(st, c), len, seq;
	int err = tcp_send_window_segment(st, c, c->snd_max, &len);

	if (err != -EAGAIN)
		return; /* new data went (or the send failed) */
	/* The last segment sent, again (its ACK carries the SACK news). */
	len = tcp_flight(c) < room ? tcp_flight(c) : room;
	seq = c->snd_max - len;
	if (c->fin_sent && len)
		len--; /* the FIN rides on the last byte's segment */
	tcp_send_data(st, c, seq, len, c->fin_sent);
}

void tcp_retransmit_head(struct xs_stack *st, struct tcp_conn *c)
{
	if (c->state == XS_TCP_SYN_SENT) {
		tcp_send_ctl(st, c, TCP_SYN, c->iss);
		c->retransmits++;
		st->stats.tcp_retransmits++;
		return;
	}
	if (c->state == XS_TCP_SYN_RECEIVED) {
		tcp_send_ctl(st, c, TCP_SYN | TCP_ACK, c->iss);
		c->retransmits++;
		st->stats.tcp_retransmits++;
		return;
	}
	tcp_retransmit_at(st, c, c->snd_una, 0);
}
