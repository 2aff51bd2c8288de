/* TCP timers (RFC 9293 3.8): retransmission (RFC 6298), persist, delayed
 * ACK, keepalive (RFC 9293 3.8.4), user timeout, TIME-WAIT and orphan limits. */
#include <errno.h>
#include <stddef.h>

#include "core/stack.h"
#include "tcp/tcp.h"

#define TCP_FIN_WAIT_2_ORPHAN XS_SEC(60) /* Linux tcp_fin_timeout */
#define TCP_PERSIST_MAX 15                /* Linux tcp_retries2 */

#define conn_of(t, field) ((struct tcp_conn *)((char *)(t) - offsetof(struct tcp_conn, field)))

static void tcp_rto_fire(void *ctx, struct xs_timer *t);
static void tcp_delack_fire(void *ctx, struct xs_timer *t);
static void tcp_keep_fire(void *ctx, struct xs_timer *t);
static void tcp_rack_fire(void *ctx, struct xs_timer *t);

void tcp_timers_init(struct tcp_conn *c)
{
	timer_init(&c->rto_timer, tcp_rto_fire);
	timer_init(&c->delack_timer, tcp_delack_fire);
	timer_init(&c->keep_timer, tcp_keep_fire);
	timer_init(&c->rack_timer, tcp_rack_fire);
}

void tcp_timers_cancel(struct xs_stack *st, struct tcp_conn *c)
{
	timer_cancel(&st->tcp->wheel, &c->rto_timer);
	timer_cancel(&st->tcp->wheel, &c->delack_timer);
	timer_cancel(&st->tcp->wheel, &c->keep_timer);
	timer_cancel(&st->tcp->wheel, &c->rack_timer);
}

/* The keep timer serves whichever limit applies in the current state. */
void tcp_arm_keepalive(struct xs_stack *st, struct tcp_conn *c)
{
	struct xs_timer_wheel *w = &st->tcp->wheel;

	if (c->state == XS_TCP_FIN_WAIT_2 && c->handle < 0) {
		timer_arm(w, &c->keep_timer, st->now + TCP_FIN_WAIT_2_ORPHAN);
		return;
	}
	if (c->state == XS_TCP_TIME_WAIT)
		return;
	/* Keepalive in every synchronized state the application still holds
	 * (a dead peer must be found in CLOSE-WAIT or FIN-WAIT-2 too). */
	if (c->keepalive && (c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_CLOSE_WAIT ||
			     c->state == XS_TCP_FIN_WAIT_1 || c->state == XS_TCP_FIN_WAIT_2 ||
			     c->state == XS_TCP_CLOSING || c->state == XS_TCP_LAST_ACK))
		timer_arm(w, &c->keep_timer,
			  st->now + XS_SEC(c->probes ? c->keep_intvl_s : c->keep_idle_s));
	else
		timer_cancel(w, &c->keep_timer);
}

void tcp_enter_time_wait(struct xs_stack *st, struct tcp_conn *c)
{
	c->state = XS_TCP_TIME_WAIT;
	/* TIME-WAIT is not an orphan and needs no buffers. */
	tcp_orphan_end(st, c);
	tcp_mem_trim(st, c);
	timer_cancel(&st->tcp->wheel, &c->rto_timer);
	timer_cancel(&st->tcp->wheel, &c->rack_timer);
	timer_cancel(&st->tcp->wheel, &c->delack_timer);
	/* RFC 9293 3.10.7.4: 2*MSL, restarted by a retransmitted FIN. */
	timer_arm(&st->tcp->wheel, &c->keep_timer, st->now + 2 * TCP_MSL);
	tcp_wake(st, c, XS_EV_HUP);
}

static void tcp_rto_fire(void *ctx, struct xs_timer *t)
{
	struct xs_stack *st = ctx;
	struct tcp_conn *c = conn_of(t, rto_timer);

	if (c->persist && c->snd_wnd > tcp_flight(c)) {
		/* The SWS override timeout: the window is open but small. */
		c->persist = false;
		if (tcp_send_forced(st, c) != 0)
			tcp_output(st, c);
		return;
	}
	if (c->persist) {
		/* RFC 9293 3.8.6.1 (MUST-37): while the peer answers, a zero
		 * window is probed and the connection stays open, which lets a
		 * peer pin our buffers for ever (sockstress). RFC 6429 allows
		 * closing it to manage resources. So: an orphan gets
		 * tcp_orphan_retries probes and tcp_persist_span_ms without
		 * progress, answered or not; a connection the application
		 * holds gets the span only while TCP memory is under pressure;
		 * a peer silent for the user timeout or TCP_PERSIST_MAX probes
		 * is gone. */
		if (tcp_orphan_give_up(st, c)) {
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		if (!c->zwnd) {
			c->zwnd = true;
			c->zwnd_since = st->now;
		} else if ((c->handle < 0 || st->tcp->pressure) &&
			   st->now - c->zwnd_since >= XS_MS(st->cfg.tcp_persist_span_ms)) {
			st->stats.tcp_persist_aborts++;
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		if (!c->probes)
			c->probe_since = st->now;
		else if (st->now - c->probe_since >= c->user_timeout ||
			 c->probes >= TCP_PERSIST_MAX) {
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		if (c->retries < 255)
			c->retries++;
		c->probes++;
		tcp_send_ctl(st, c, TCP_ACK, c->snd_una - 1);
		rtt_backoff(&c->rtt);
		timer_arm(&st->tcp->wheel, &c->rto_timer, st->now + rtt_rto(&c->rtt));
		return;
	}
	if (c->tlp) {
		/* RFC 8985 7.3: probe, then the real RTO. */
		c->tlp = false;
		c->tlp_sent = true;
		st->stats.tcp_tlp++;
		if (c->snd_una != c->snd_max || seq_lt(c->snd_max, c->snd_una + c->sndbuf.len))
			tcp_send_tlp(st, c);
		tcp_arm_rto(st, c);
		return;
	}
	st->stats.tcp_rto_expired++;
	switch (c->state) {
	case XS_TCP_SYN_SENT:
		if (++c->syn_retries > TCP_SYN_RETRIES) {
			tcp_conn_done(st, c, c->soft_error ? c->soft_error : -ETIMEDOUT);
			return;
		}
		break;
	case XS_TCP_SYN_RECEIVED:
		if (++c->syn_retries > st->cfg.tcp_synack_retries) {
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		break;
	case XS_TCP_CLOSED:
	case XS_TCP_LISTEN:
	case XS_TCP_TIME_WAIT:
		return;
	default:
		if (c->snd_una == c->snd_max)
			return;
		/* An orphan's peer gets tcp_orphan_retries timeouts (Linux). */
		if (tcp_orphan_give_up(st, c)) {
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		if (c->retries < 255)
			c->retries++;
		/* RFC 9293 3.8.3 R2 / RFC 5482: give up after the user timeout. */
		if (c->first_unacked_at && st->now - c->first_unacked_at >= c->user_timeout) {
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, c->soft_error ? c->soft_error : -ETIMEDOUT);
			return;
		}
		/* RFC 5681 3.1 eq. 4 and RFC 6298 5.4-5.6: one segment, go back. */
		c->cc_ops->on_rto(&c->cc, tcp_flight(c), st->now);
		c->in_recovery = false;
		c->recover = c->snd_max;
		c->dupacks = 0;
		c->rtt_timing = false;
		if (c->sack_ok) {
			/* Everything not SACKed is lost (RFC 8985 6.1's view of
			 * an RTO, as Linux): resent by the recovery loop, which
			 * keeps skipping what the receiver holds and lets RACK
			 * find the resends that are lost again. */
			rack_mark_all_lost(&c->rack);
			c->loss_state = true;
		} else {
			c->snd_nxt = c->snd_una; /* go back N */
		}
		/* Echoes of timestamps sent before this would measure the
		 * timeout itself, not the path: ignore them (tcp_ack_new). */
		c->rto_tsval = tcp_ts_now(st, c);
		c->rto_tsval_set = true;
		break;
	}
	if (c->state == XS_TCP_SYN_SENT || c->state == XS_TCP_SYN_RECEIVED) {
		/* RFC 6298 5.7: a lost SYN means RTO 3 s once established. */
		rtt_backoff(&c->rtt);
		tcp_retransmit_head(st, c);
		timer_arm(&st->tcp->wheel, &c->rto_timer, st->now + rtt_rto(&c->rtt));
		return;
	}
	rtt_backoff(&c->rtt);
	tcp_output(st, c);
	if (!timer_pending(&c->rto_timer))
		tcp_arm_rto(st, c);
}

/* RFC 8985 6.3: the reordering window passed for a segment sent before
 * one that was delivered. */
static void tcp_rack_fire(void *ctx, struct xs_timer *t)
{
	struct xs_stack *st = ctx;
	struct tcp_conn *c = conn_of(t, rack_timer);

	if (c->state == XS_TCP_CLOSED || c->state == XS_TCP_LISTEN ||
	    c->state == XS_TCP_TIME_WAIT || c->snd_una == c->snd_max)
		return;
	tcp_rack_detect(st, c);
	if (c->state != XS_TCP_CLOSED)
		tcp_output(st, c);
}

static void tcp_delack_fire(void *ctx, struct xs_timer *t)
{
	struct xs_stack *st = ctx;
	struct tcp_conn *c = conn_of(t, delack_timer);

	if (c->state == XS_TCP_CLOSED || c->state == XS_TCP_LISTEN)
		return;
	c->ack_now = true;
	tcp_output(st, c);
	if (c->ack_now)
		tcp_send_ack(st, c);
}

static void tcp_keep_fire(void *ctx, struct xs_timer *t)
{
	struct xs_stack *st = ctx;
	struct tcp_conn *c = conn_of(t, keep_timer);

	switch (c->state) {
	case XS_TCP_TIME_WAIT:
		tcp_conn_done(st, c, 0);
		return;
	case XS_TCP_FIN_WAIT_2:
		if (c->handle < 0) {
			tcp_conn_done(st, c, 0);
			return;
		}
		/* A held FIN-WAIT-2 connection keeps alive like the others. */
		__attribute__((fallthrough));
	case XS_TCP_ESTABLISHED:
	case XS_TCP_CLOSE_WAIT:
	case XS_TCP_FIN_WAIT_1:
	case XS_TCP_CLOSING:
	case XS_TCP_LAST_ACK:
		if (!c->keepalive)
			return;
		/* RFC 9293 3.8.4 (MUST-26): probes only when no sent data is
		 * outstanding; data in flight or waiting has its own timers (the
		 * retransmission and persist timers, the user timeout), so the
		 * idle period starts again (as Linux's tcp_keepalive_timer). */
		if (tcp_flight(c) || c->sndbuf.len) {
			tcp_arm_keepalive(st, c);
			return;
		}
		/* RFC 9293 3.8.4: a probe with SEG.SEQ = SND.NXT-1 draws an ACK. */
		if (c->probes >= c->keep_cnt) {
			tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
			tcp_conn_done(st, c, -ETIMEDOUT);
			return;
		}
		c->probes++;
		tcp_send_ctl(st, c, TCP_ACK, c->snd_una - 1);
		tcp_arm_keepalive(st, c);
		return;
	default:
		return;
	}
}

void tcp_timers_run(struct xs_stack *st)
{
	timer_run(&st->tcp->wheel, st->now, st);
}

xs_time_t tcp_next_timer(const struct xs_stack *st)
{
	return timer_next(&st->tcp->wheel);
}
