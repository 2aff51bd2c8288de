/* TCP connection state (RFC 9293 3.3.1's TCB) and the interfaces between
 * the TCP modules: table and API (tcp_conn.c), input, output and timers. */
#ifndef XS_TCP_TCP_H
#define XS_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "core/slab.h"
#include "core/timer.h"
#include "tcp/cc.h"
#include "tcp/rack.h"
#include "tcp/rtt.h"
#include "tcp/seqset.h"
#include "wire/ip4.h"
#include "wire/ip6.h"
#include "wire/tcp.h"

#define TCP_DEFAULT_BUF (256 * 1024)
#define TCP_MIN_BUF (4 * 1024)
#define TCP_MAX_BUF (16 * 1024 * 1024)
#define TCP_PRESSURE_BUF (16 * 1024) /* each ring's size under memory pressure */
#define TCP_RING_MMAP_MIN (64 * 1024) /* rings this large are mmap()ed (tcp_ring_alloc) */
#define TCP_DEFAULT_MSS 536        /* RFC 9293 3.7.1: when the peer sends none */
#define TCP_MIN_MSS 88              /* below this a peer's MSS is clamped up (Linux: 48+) */
#define TCP_MSL XS_SEC(30)          /* TIME-WAIT lasts 2*MSL = 60 s, like Linux */
#define TCP_DELACK XS_MS(40)        /* delayed ACK (RFC 9293 3.8.6.3: < 0.5 s) */
#define TCP_SYN_RETRIES 7           /* 1+2+...+60 s: gives up at 183 s (RFC 9293
                                     * 3.8.3: R2 for a SYN covers at least 3 min) */
#define TCP_SYNACK_RETRIES 5
#define TCP_DEFAULT_USER_TIMEOUT XS_SEC(300)  /* RFC 9293 3.8.3 R2 for data: 5 min */
#define TCP_CHALLENGE_ACKS_PER_SEC 10         /* RFC 5961 7, per connection */
#define TCP_DUPTHRESH 3
#define TCP_SYN_QUEUE_MAX 1024      /* half-open connections per listener before cookies */
#define TCP_COOKIE_PERIOD XS_SEC(64) /* a SYN cookie's time counter step */
/* A cookie is valid in the period it was made and the next: at most two
 * periods. ACKs are checked as cookies only this long after the last one
 * was sent (Linux: TCP_SYNCOOKIE_VALID, 2 min). */
#define TCP_COOKIE_WINDOW (2 * TCP_COOKIE_PERIOD)

/* A byte ring: data[(head + i) % size] for i in [0, len). cap is the
 * logical size windows are computed from; size = cap + slack is what is
 * allocated (the receive ring keeps room for a window rounded up to the
 * scale unit, so the offered edge never has to move back). head moves
 * only by tcp_ring_consume: a region lent to the application at the head
 * (receive) or at head + len (send) stays where it is until given back. */
struct tcp_ring {
	uint8_t *data;
	uint32_t cap;
	uint32_t size;
	uint32_t head;
	uint32_t len;
	uint32_t hi; /* bytes from data on that may have been written (touched) */
};

/* Rings freed lately, kept for the next ones of the same size (tcp_ring.c):
 * a connection's rings then cost no mmap, munmap or page faults. At most
 * TCP_RING_CACHE are kept, with at most TCP_RING_CACHE_KEEP bytes of each
 * still in memory (the rest is given back when the ring is kept). */
#define TCP_RING_CACHE 128
#define TCP_RING_CACHE_KEEP (16 * 1024)
struct tcp_ring_cache {
	uint8_t *data[TCP_RING_CACHE];
	uint32_t size[TCP_RING_CACHE];
	unsigned n;
};

/* What only a listener keeps, allocated by xs_tcp_listen. */
struct tcp_listen {
	struct tcp_conn *accept_head, *accept_tail; /* established, not accepted */
	int backlog;
	int nsyn, naccept;             /* SYN-RECEIVED children; accept queue length */
	bool synq_overflowed;          /* a SYN cookie was ever sent... */
	xs_time_t synq_overflow_at;    /* ...the last one then */
};

/* The TCB. Fields are grouped by width so that nothing pads; what is
 * sizeable and often unused lives behind a pointer or is allocated only
 * while in use: the rings (data NULL while empty and idle), the
 * out-of-order set (ooo, while a hole is open) and RACK's record chunks
 * (while data is in flight). docs/DESIGN.md, "TCP: connection memory". */
struct tcp_conn {
	struct tcp_conn *hnext;        /* hash chain */
	struct tcp_conn *lnext;        /* listener's SYN or accept queue */
	struct tcp_conn *listener;     /* while queued on a listener */
	struct tcp_conn *ready_next;
	struct tcp_conn *idle_next, *idle_prev; /* the table's idle list (tcp_mem.c) */
	struct tcp_listen *ls;         /* a listener's queues (NULL for the others) */
	struct seqset *ooo;            /* out-of-order ranges held in rcvbuf (NULL: none) */
	const struct tcp_cc_ops *cc_ops;
	xs_tcp_cb cb;                  /* stored for user/api/tcp.c, never called here */
	void *ctx;
	size_t mem;                    /* bytes charged to the table's budget (tcp_mem.c) */
	size_t rack_mem;               /* of which RACK's storage, when last charged */

	struct tcp_ring sndbuf;        /* byte 0 is snd_una (after the SYN) */
	struct tcp_ring rcvbuf;        /* in-order unread data; out-of-order beyond it */

	/* Loss recovery and congestion control. */
	struct tcp_rtt rtt;
	struct tcp_cc cc;
	struct tcp_rack rack;          /* segments in flight, RACK (SACK connections) */

	/* Timers (RFC 9293 3.8). */
	struct xs_timer rto_timer;     /* retransmission or persist */
	struct xs_timer delack_timer;
	struct xs_timer keep_timer;    /* keepalive, SYN-RECEIVED/SYN-SENT limits, TIME-WAIT */
	struct xs_timer rack_timer;    /* RFC 8985 6.3 reordering timer */

	xs_time_t ts_recent_age;
	xs_time_t rtt_time;
	xs_time_t last_send;           /* for idle restart (RFC 5681 4.1) */
	xs_time_t first_unacked_at;    /* for the user timeout */
	xs_time_t probe_since;         /* when the first unanswered probe left */
	xs_time_t zwnd_since;          /* zwnd: reset only by progress (tcp_persist_span_ms) */
	xs_time_t challenge_window;    /* RFC 5961 challenge ACK budget */
	xs_time_t user_timeout;
	xs_time_t idle_at;             /* when it joined the idle list */
	uint64_t retransmits, bytes_acked, bytes_received;

	enum xs_tcp_state state;
	int handle;                    /* -1 once the application let go */
	uint32_t hgen;                 /* the handle's generation (tcp_handle_alloc) */
	struct ip6_addr laddr, raddr;  /* either family: IPv4 as ::ffff:a.b.c.d (tcp_l3.c) */

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t snd_up;               /* SND.UP: octet after our urgent data */

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint32_t last_ack_sent;
	uint32_t rcv_up;               /* RCV.UP: octet after the urgent data */

	uint32_t ts_recent;            /* RFC 7323 4.3 */
	uint32_t ts_offset;            /* random per connection (RFC 7323 5.4) */
	uint32_t dupacks;
	uint32_t recover;              /* RFC 6582 */
	uint32_t rtt_seq;              /* timed segment without timestamps (Karn) */
	uint32_t rto_tsval;            /* our TSval when the last timeout resent data */
	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
	/* Zero-copy lends (tcp_user.c): bytes of rcvbuf at its head the
	 * application is reading in place (xs_tcp_recv_peek), bytes of sndbuf
	 * at its tail it is writing (xs_tcp_send_reserve); 0 when none. A
	 * ring lent is never freed, shrunk or replaced (tcp_mem.c, tcp_opt.c). */
	uint32_t rcv_lent, snd_lent;

	/* Application. */
	int error;                     /* -errno once failed */
	int soft_error;                /* last ICMP error, reported if we time out */

	uint16_t lport, rport;
	/* Options agreed in the handshake. */
	uint16_t mss;                  /* what we send (SMSS), options excluded */
	uint16_t rcv_mss;              /* what we announced */

	uint8_t snd_wscale, rcv_wscale;
	uint8_t syn_retries;
	uint8_t probes;                /* keepalive or zero-window probes unanswered */
	uint8_t retries;               /* timeouts and zero-window probes since the
					* last progress (new data ACKed); answered
					* probes do not reset it */
	uint8_t segs_unacked;          /* full segments since our last ACK */
	uint8_t challenge_count;
	uint8_t tos;                   /* IPv4 TOS byte (DSCP), RFC 9293 3.9.1.9 */
	uint8_t ev_pending;
	bool done;                     /* tcp_conn_done ran: CLOSED, unhashed */
	bool fin_queued;               /* the application shut down its side */
	bool fin_sent;                 /* our FIN has a sequence number: snd_max includes it */
	bool urg_send;                 /* snd_up not yet acknowledged */
	bool fin_rcvd;                 /* peer's FIN consumed: rcv_nxt is past it */
	bool urg_pending;              /* rcv_up lies beyond what was read */
	bool ws_ok, sack_ok, ts_ok;
	bool in_recovery;              /* fast recovery (RFC 6582 / RFC 6675) */
	bool loss_state;               /* after an RTO with SACK: resending what
					* RACK and the timeout marked lost, in slow
					* start, until recover is acknowledged */
	bool rtt_timing;
	bool zwnd;                     /* probing a zero window since zwnd_since */
	bool orphan;                   /* counted in the table's orphans */
	bool ack_now;                  /* an ACK is owed (sent after the receive batch) */
	bool ack_quick;                /* ...and must go before the next segment is
					* processed (out of order, hole filled, old data) */
	bool ack_queued;               /* on the table's ack_owed list */
	bool persist;                  /* rto_timer is the persist timer */
	bool tlp;                      /* rto_timer is a tail loss probe (RFC 8985 7) */
	bool tlp_sent;                 /* one probe per episode, until new data is acked */
	bool rto_tsval_set;
	bool nodelay, keepalive;
	bool idle_queued;              /* on the table's idle list */
	bool snd_nospace;              /* a send found the buffer full: XS_EV_WRITABLE
					* when tcp_send_space_ok again */
	bool rd_shut;                  /* shut down for reading: data is discarded */
};

/* The hash table starts at TCP_HASH_MIN buckets and doubles while it holds
 * more connections than buckets (up to what tcp_max_conns needs); the
 * handle table doubles as handles are taken. */
#define TCP_HASH_MIN 4096

struct tcp_table {
	struct tcp_conn **bucket;      /* keyed by tcp_hash (SipHash-1-3) */
	uint32_t *chain_len;
	uint32_t nbuckets;             /* a power of two */
	uint32_t hashed;               /* connections in the buckets */
	struct tcp_conn *last_found;   /* tcp_lookup's last hit (hashed), or NULL */
	struct tcp_conn *listeners[65536 / 64]; /* chained by hnext, by port */
	struct tcp_conn **handle;      /* handle[0 .. nhandles) */
	uint32_t nhandles;
	uint32_t *hfree;               /* free handle numbers (a stack) */
	uint32_t nfree;
	uint32_t hnext_unused;         /* handles at or above this were never used */
	uint32_t hgen;                 /* generation of the last handle given */
	struct tcp_conn *ready;        /* connections with events to deliver */
	struct tcp_conn *delivering;   /* the rest of the list being delivered */
	struct tcp_conn *dead;         /* closed orphans, freed at the end of the poll */
	/* Connections owing an ACK, sent once after the receive batch: a
	 * batch holds XS_POLL_BATCH frames, one segment each, so it fills
	 * at most that many (beyond, an ACK goes at once). */
	struct tcp_conn *ack_owed[XS_POLL_BATCH];
	unsigned nack_owed;
	bool rx_batch;                 /* a receive batch is being processed */
	/* The payload of the segment being processed, when tcp_input already
	 * copied it into the receive ring right after the readable part. */
	const uint8_t *rx_in_ring;
	struct tcp_conn *idle_head, *idle_tail; /* buffers to free once idle, oldest first */
	xs_time_t idle_due;            /* when the head's are (XS_TIME_NEVER: empty list) */
	struct xs_timer_wheel wheel;
	struct xs_slab_cache tcbs;     /* every TCB comes from here (core/slab.h) */
	struct tcp_ring_cache rings;   /* rings freed lately, for reuse */
	unsigned nconns;
	uint64_t mem;                  /* bytes all connections hold (tcp_mem) */
	uint64_t orphan_mem;           /* of which orphans hold */
	unsigned norphans;
	bool pressure;                 /* above tcp_mem[1] until below tcp_mem[0] */
};

struct xs_stack;

/* The network layer around a segment, either family: addresses as IPv6
 * (IPv4 as ::ffff:a.b.c.d), so TCP has one code path (tcp_l3.c). */
struct tcp_ip {
	struct ip6_addr src, dst;
	uint8_t tos;                   /* IPv4 TOS or IPv6 traffic class */
};

/* tcp_l3.c: the addresses and the network layer of either family. */
void tcp_addr_from4(struct ip6_addr *a, uint32_t ip);
static inline bool tcp_addr_is4(const struct ip6_addr *a)
{
	return ip6_is_v4mapped(a);
}
static inline uint32_t tcp_addr4(const struct ip6_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 |
	       a->b[15];
}
/* A tx frame for a segment to dst: where the TCP header goes and the room. */
uint8_t *tcp_tx_begin(struct xs_stack *st, const struct ip6_addr *dst, struct xs_frame *f,
		      size_t *cap);
/* The network header around n bytes of TCP and out; f consumed. 0 or -errno. */
int tcp_tx_finish(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t tos, size_t n);
/* The pseudo-header sum without its length (tcp_emit_ps, tcp_emit_summed_ps). */
uint32_t tcp_pseudo(const struct ip6_addr *src, const struct ip6_addr *dst);
/* TCP header and payload in one packet to dst without fragmenting: the
 * link MTU (IPv6: the path MTU) less the network header. */
uint32_t tcp_mtu_room(const struct xs_stack *st, const struct ip6_addr *dst);
/* A segment received over IPv6 (pkt: the IPv6 packet, len bytes). */
struct ip6_repr;
void tcp6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt,
		size_t l4_off, size_t len);
/* An ICMPv6 error about a segment laddr:sport -> raddr:dport with seq; a
 * Packet Too Big (too_big) shrinks the connection's segments. 0 or -ENOENT. */
int tcp6_icmp_error(struct xs_stack *st, const struct ip6_addr *laddr,
		    const struct ip6_addr *raddr, uint16_t sport, uint16_t dport, uint32_t seq,
		    bool too_big, int err);

int tcp_init(struct xs_stack *st);
void tcp_fini(struct xs_stack *st);
/* pkt: the whole IP packet (ip->total_len bytes). */
void tcp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt);
void tcp_timers_run(struct xs_stack *st);
xs_time_t tcp_next_timer(const struct xs_stack *st);
/* Delivery (user/api/events.c, end of each poll): begin takes the list of
 * connections with events; next returns the next one whose callback is due,
 * with its events, or NULL. A connection closed or freed meanwhile is
 * unlinked from the list, so it never comes. */
void tcp_deliver_begin(struct xs_stack *st);
struct tcp_conn *tcp_deliver_next(struct xs_stack *st, unsigned *events);
/* True while events wait for the next poll's delivery. */
bool tcp_events_pending(const struct xs_stack *st);
/* The connection behind handle number h, or NULL (user/api/tcp.c also
 * checks the generation). */
struct tcp_conn *tcp_get(const struct xs_stack *st, int h);
/* Frees the closed orphans (end of each poll). */
void tcp_reap(struct xs_stack *st);
/* An ICMP error about a segment we sent to dst:dport from sport. */
int tcp_icmp_error(struct xs_stack *st, uint32_t dst, uint16_t sport, uint16_t dport,
		   uint32_t seq, int err);
/* The same for either family (laddr: the quoted source, ours). */
int tcp_icmp_error_addr(struct xs_stack *st, const struct ip6_addr *laddr,
			const struct ip6_addr *raddr, uint16_t sport, uint16_t dport, uint32_t seq,
			int err);

/* tcp_conn.c: table, lifecycle, events. */
struct tcp_conn *tcp_lookup(struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
			    const struct ip6_addr *raddr, uint16_t rport);
/* tcp_lookup by IPv4 addresses (host order). */
static inline struct tcp_conn *tcp_lookup4(struct xs_stack *st, uint32_t lip, uint16_t lport,
					   uint32_t rip, uint16_t rport)
{
	struct ip6_addr l, r;

	tcp_addr_from4(&l, lip);
	tcp_addr_from4(&r, rip);
	return tcp_lookup(st, &l, lport, &r, rport);
}
struct tcp_conn *tcp_listener(struct xs_stack *st, uint16_t port);
/* At tcp_max_conns: true, and the refusal is counted (XS_DROP_TCP_MAX_CONNS). */
bool tcp_conns_full(struct xs_stack *st);
struct tcp_conn *tcp_conn_new(struct xs_stack *st, const struct ip6_addr *laddr,
			      const struct ip6_addr *raddr, uint16_t lport, uint16_t rport,
			      const struct tcp_conn *parent);
void tcp_conn_hash(struct xs_stack *st, struct tcp_conn *c);
void tcp_conn_unhash(struct xs_stack *st, struct tcp_conn *c);
/* Handles: a number for c (O(1); -EMFILE, -ENOMEM); a new connection the
 * application holds (its handle, or -errno); giving c's handle back (a
 * CLOSED connection is then freed). */
int tcp_handle_alloc(struct xs_stack *st, struct tcp_conn *c);
int tcp_conn_new_held(struct xs_stack *st, const struct ip6_addr *laddr,
		      const struct ip6_addr *raddr, uint16_t lport, uint16_t rport,
		      struct tcp_conn **out);
void tcp_handle_release(struct xs_stack *st, struct tcp_conn *c);
/* Moves c to CLOSED with err (0 for a clean end) and wakes the application.
 * An orphan (no handle) is freed at the end of the poll, never in the middle
 * of input or timer processing, so callers may still read c afterwards. */
void tcp_conn_done(struct xs_stack *st, struct tcp_conn *c, int err);
void tcp_wake(struct xs_stack *st, struct tcp_conn *c, unsigned events);
/* The window scale we announce for a receive buffer of cap bytes. */
uint8_t tcp_wscale_for(uint32_t cap);

/* tcp_user.c: the user calls (RFC 9293 3.10) behind user/api/tcp.c, with
 * the returns of the xs_tcp_* calls they serve. Opens return a handle
 * number or -errno. */
int tcp_listen(struct xs_stack *st, uint16_t port, int backlog);
int tcp_accept(struct xs_stack *st, struct tcp_conn *l, uint32_t *ip, uint16_t *port);
/* An active open (o may be NULL). */
int tcp_connect(struct xs_stack *st, uint32_t ip, uint16_t port,
		const struct xs_tcp_connect_opts *o);
ssize_t tcp_send(struct xs_stack *st, struct tcp_conn *c, const void *buf, size_t len,
		 bool urgent);
ssize_t tcp_recv(struct xs_stack *st, struct tcp_conn *c, void *buf, size_t cap);
/* Zero-copy (include/xdpstack/stack.h, "Zero-copy TCP"): the readable bytes
 * at the receive ring's head, in place, then how many were used; the free
 * space at the send ring's tail, then how much of it was written. */
ssize_t tcp_recv_peek(struct xs_stack *st, struct tcp_conn *c, const void **p);
int tcp_recv_consume(struct xs_stack *st, struct tcp_conn *c, size_t n);
ssize_t tcp_send_reserve(struct xs_stack *st, struct tcp_conn *c, void **p);
int tcp_send_commit(struct xs_stack *st, struct tcp_conn *c, size_t n);
int tcp_shutdown(struct xs_stack *st, struct tcp_conn *c);
/* Both release the handle. */
int tcp_abort(struct xs_stack *st, struct tcp_conn *c);
int tcp_close(struct xs_stack *st, struct tcp_conn *c);
/* Stores cb (NULL: none) and raises what is already true. */
void tcp_set_cb(struct xs_stack *st, struct tcp_conn *c, xs_tcp_cb cb, void *ctx);
int tcp_urgent(const struct tcp_conn *c);
/* The XS_EV_* bits true now. */
int tcp_poll_events(const struct tcp_conn *c);
void tcp_info(const struct tcp_conn *c, struct xs_tcp_info *out);
size_t tcp_list(const struct xs_stack *st, struct xs_tcp_info *out, size_t max);
/* tcp_opt.c: options and the read-side shutdown. */
int tcp_setopt(struct xs_stack *st, struct tcp_conn *c, enum xs_tcp_opt opt, int value);
int tcp_getopt(const struct tcp_conn *c, enum xs_tcp_opt opt, int *value);
int tcp_shutdown_how(struct xs_stack *st, struct tcp_conn *c, int how);

/* As tcp_accept, the peer's address of either family into *from. */
int tcp_accept_addr(struct xs_stack *st, struct tcp_conn *l, struct xs_addr *from, uint16_t *port);
/* tcp_connect to an address of either family (tcp_l3.c). */
int tcp_connect_addr(struct xs_stack *st, const struct ip6_addr *raddr, uint16_t port,
		     const struct xs_tcp_connect_opts *o);
/* The family-neutral rest of an active open, from laddr (checked). */
int tcp_connect_common(struct xs_stack *st, const struct ip6_addr *laddr,
		       const struct ip6_addr *raddr, uint16_t port,
		       const struct xs_tcp_connect_opts *o);

uint32_t tcp_isn(struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
		 const struct ip6_addr *raddr, uint16_t rport);
/* The sequence number of the next byte the application reads. */
uint32_t tcp_read_seq(const struct tcp_conn *c);
/* A SYN that completes the handshake on a listener (queued, or from a cookie). */
void tcp_listener_established(struct xs_stack *st, struct tcp_conn *c);

/* tcp_out.c */
/* Sends what the windows, Nagle and the state allow; ACKs if owed. */
void tcp_output(struct xs_stack *st, struct tcp_conn *c);
/* A segment with no data (SYN, FIN, ACK, window probe: flags given). */
void tcp_send_ctl(struct xs_stack *st, struct tcp_conn *c, uint8_t flags, uint32_t seq);
void tcp_send_ack(struct xs_stack *st, struct tcp_conn *c);
/* RFC 9293 3.10.7.4 (MUST-58, MUST-59): ACKs owed during a receive batch
 * are sent once per connection after it (tcp_batch_end); outside a batch,
 * and for ack_quick, at once. */
void tcp_ack_owed(struct xs_stack *st, struct tcp_conn *c);
/* c is being freed: off the list of ACKs owed. */
void tcp_ack_unqueue(struct xs_stack *st, struct tcp_conn *c);
/* Around the processing of one receive batch (xs_stack_poll). */
void tcp_batch_begin(struct xs_stack *st);
void tcp_batch_end(struct xs_stack *st);
/* RFC 9293 3.10.7.1: a reset in answer to seg, without a connection. */
void tcp_send_rst_for(struct xs_stack *st, const struct tcp_ip *ip, const struct tcp_repr *seg);
/* Retransmits [seq, seq+len) (len 0: one segment; at most one segment).
 * 0, or -errno if nothing could be sent. */
int tcp_retransmit_at(struct xs_stack *st, struct tcp_conn *c, uint32_t seq, uint32_t len);
/* Retransmits one segment starting at snd_una (or the SYN/FIN). */
void tcp_retransmit_head(struct xs_stack *st, struct tcp_conn *c);
uint32_t tcp_rcv_window(const struct tcp_conn *c);
void tcp_arm_rto(struct xs_stack *st, struct tcp_conn *c);
/* With data in flight: a tail loss probe timer where RFC 8985 7.2 allows,
 * else the retransmission timer. */
void tcp_arm_xmit_timer(struct xs_stack *st, struct tcp_conn *c);
/* RFC 9293 3.8.6.2.1 override: sends what a small open window allows. */
int tcp_send_forced(struct xs_stack *st, struct tcp_conn *c);
/* RFC 3042: one new segment on each of the first two duplicate ACKs. */
void tcp_limited_transmit(struct xs_stack *st, struct tcp_conn *c);
/* RFC 8985 7.3: sends one new segment if allowed, else the last one again. */
void tcp_send_tlp(struct xs_stack *st, struct tcp_conn *c);
uint32_t tcp_ts_now(const struct xs_stack *st, const struct tcp_conn *c);

/* tcp_in.c: RACK's loss detection (RFC 8985 6.2) and reordering timer:
 * marks, enters recovery if it must, arms or cancels rack_timer. */
void tcp_rack_detect(struct xs_stack *st, struct tcp_conn *c);
/* tcp_in.c, for tcp_handshake.c: the synchronized states' input (RFC 9293
 * 3.10.7.4), a connection becoming ESTABLISHED (its buffers; -errno and
 * reset without them), and our SYN acknowledged by the peer's SYN-ACK. */
void tcp_sync_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_ip *ip,
		    const struct tcp_repr *seg);
int tcp_established(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg);
void tcp_active_established(struct xs_stack *st, struct tcp_conn *c, const struct tcp_repr *seg);
/* tcp_handshake.c: input in LISTEN (with SYN cookies; iss_floor: the ISS for
 * a SYN that reuses a TIME-WAIT connection's 4-tuple, above all the old one
 * sent, else 0) and in SYN-SENT. */
void tcp_listen_input(struct xs_stack *st, struct tcp_conn *l, const struct tcp_ip *ip,
		      const struct tcp_repr *seg, uint32_t iss_floor);
void tcp_syn_sent_input(struct xs_stack *st, struct tcp_conn *c, const struct tcp_ip *ip,
			const struct tcp_repr *seg);

/* tcp_timer.c */
void tcp_timers_init(struct tcp_conn *c);
void tcp_timers_cancel(struct xs_stack *st, struct tcp_conn *c);
void tcp_arm_keepalive(struct xs_stack *st, struct tcp_conn *c);
void tcp_enter_time_wait(struct xs_stack *st, struct tcp_conn *c);

/* tcp_mem.c: the memory budget (tcp_mem), pressure, and orphans. */
/* Recomputes what c holds and charges the difference. */
void tcp_mem_sync(struct xs_stack *st, struct tcp_conn *c);
/* After RACK's records changed (rack_on_xmit, rack_on_ack): charges what
 * its storage now holds if that moved (O(1) when it did not). */
static inline void tcp_mem_rack(struct xs_stack *st, struct tcp_conn *c)
{
	if (rack_bytes(&c->rack) != c->rack_mem)
		tcp_mem_sync(st, c);
}
/* c is being freed: uncharge it. */
void tcp_mem_release(struct xs_stack *st, struct tcp_conn *c);
bool tcp_mem_over_high(const struct xs_stack *st);
/* The ring size a new connection gets (smaller under pressure). */
uint32_t tcp_mem_buf_cap(const struct xs_stack *st, uint32_t cap);
/* Every tick: under pressure, shrinks the buffers of idle connections. */
void tcp_mem_tick(struct xs_stack *st);
/* Frees what a closed or closing connection no longer needs (the receive
 * ring once the application let go and the peer's FIN came; the send ring
 * in TIME-WAIT). */
void tcp_mem_trim(struct xs_stack *st, struct tcp_conn *c);
/* c just lost its handle while closing: counts it as an orphan, or returns
 * -ENOBUFS (counted) when the caps say it must be reset instead. */
int tcp_orphan_adopt(struct xs_stack *st, struct tcp_conn *c);
/* c stops being an orphan (closed, or in TIME-WAIT). */
void tcp_orphan_end(struct xs_stack *st, struct tcp_conn *c);
/* From c's retransmission or persist timer: true (counted) if an orphan
 * has used up tcp_orphan_retries or memory is above the high limit. */
bool tcp_orphan_give_up(struct xs_stack *st, struct tcp_conn *c);

/* Buffers on demand (tcp_mem.c). The receive ring of c, allocated if it
 * is not (its cap and size stay what the window was computed from):
 * 0, or -ENOMEM (counted). */
int tcp_rcvbuf_get(struct xs_stack *st, struct tcp_conn *c);
/* The send ring likewise: TCP_PRESSURE_BUF under pressure, TCP_MIN_BUF
 * above the high limit (counted); -ENOMEM. */
int tcp_sndbuf_get(struct xs_stack *st, struct tcp_conn *c);
/* The out-of-order set, allocated if needed (NULL: no memory). */
struct seqset *tcp_ooo_get(struct xs_stack *st, struct tcp_conn *c);
/* c's buffers may have become empty: frees them after tcp_buf_idle_ms
 * unless they are used again (tcp_mem_idle_run, end of every poll). */
void tcp_mem_idle(struct xs_stack *st, struct tcp_conn *c);
void tcp_mem_idle_release(struct xs_stack *st);
/* Takes c off the idle list (it is being freed). */
void tcp_mem_idle_unlink(struct xs_stack *st, struct tcp_conn *c);

/* Frees what has been idle long enough: one comparison when nothing is. */
static inline void tcp_mem_idle_run(struct xs_stack *st, const struct tcp_table *t,
				    xs_time_t now)
{
	if (now >= t->idle_due)
		tcp_mem_idle_release(st);
}

/* When the next release is due (xs_stack_next_timer); XS_TIME_NEVER: none. */
static inline xs_time_t tcp_mem_idle_next(const struct tcp_table *t)
{
	return t->idle_due;
}

static inline unsigned tcp_ooo_n(const struct tcp_conn *c)
{
	return c->ooo ? c->ooo->n : 0;
}

/* Ring helpers. A ring comes from the stack's cache of freed ones when one
 * of its size is there (rc), and goes back to it when freed. */
int tcp_ring_alloc(struct tcp_ring_cache *rc, struct tcp_ring *r, uint32_t cap, uint32_t slack);
/* Allocates the rings of a connection that is becoming established;
 * -ENOBUFS above the high memory limit. */
int tcp_conn_buffers(struct xs_stack *st, struct tcp_conn *c);
void tcp_ring_free(struct tcp_ring_cache *rc, struct tcp_ring *r);
/* Frees a ring for good: it holds and offers nothing any more. */
void tcp_ring_drop(struct tcp_ring_cache *rc, struct tcp_ring *r);
/* Gives every cached ring back (the stack is going away). */
void tcp_ring_cache_fini(struct tcp_ring_cache *rc);
/* Copies n bytes from offset off (relative to head) out of the ring. */
void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n);
/* The same, summing as it copies: the partial Internet checksum of the n
 * bytes (csum_copy's, the pieces of a wrapped ring combined). */
uint32_t tcp_ring_peek_csum(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n);
/* Writes n bytes at offset off (relative to head); does not change len. */
void tcp_ring_write(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n);
/* The same, summing as it copies (the partial checksum of the n bytes). */
uint32_t tcp_ring_write_csum(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n);
void tcp_ring_consume(struct tcp_ring *r, uint32_t n);

/* A delayed-ACK allowance, never beyond the RTO floor, which a peer
 * configured like us would otherwise hit (Linux's tcp_delack_max() makes
 * the same clamp): our own delayed ACK (TCP_DELACK), and the peer's worst
 * case the tail loss probe waits for. */
static inline xs_time_t tcp_delack_clamp(const struct tcp_conn *c, xs_time_t delay)
{
	return c->rtt.rto_min < delay ? c->rtt.rto_min : delay;
}

/* Resending what was found lost: fast recovery, or the loss state after a
 * timeout (SACK). */
static inline bool tcp_recovering(const struct tcp_conn *c)
{
	return c->in_recovery || c->loss_state;
}

/* Room to write again, as Linux's sk_stream_is_writeable: the free space is
 * at least half of what is queued (a third of the buffer once it was full),
 * so a writer is not woken for every acknowledged segment. */
static inline bool tcp_send_space_ok(const struct tcp_conn *c)
{
	uint32_t room = c->sndbuf.cap - c->sndbuf.len;

	return room && 2ull * room >= c->sndbuf.len;
}

static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

#endif
