/* libxdpstack: one user-space TCP/IP stack instance bound to one device queue.
 * Time is passed in by the caller (ns, monotonic); nothing here reads a clock. */
#ifndef XDPSTACK_STACK_H
#define XDPSTACK_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xdpstack/addr.h>
#include <xdpstack/dev.h>
#include <xdpstack/stats.h>

typedef uint64_t xs_time_t; /* nanoseconds */
#define XS_NSEC_PER_MS 1000000ull
#define XS_MS(x) ((xs_time_t)(x) * XS_NSEC_PER_MS)
#define XS_SEC(x) ((xs_time_t)(x) * 1000 * XS_NSEC_PER_MS)

struct xs_dev;
struct xs_stack;

struct xs_config {
	uint32_t ip;          /* our IPv4 address, host byte order */
	uint8_t prefix_len;   /* connected subnet, 1..32 (0: 24) */
	uint32_t gateway;     /* default gateway, host order; 0 = none */
	unsigned arp_lifetime_ms;  /* a learned entry's life (0: 60000) */
	unsigned arp_retry_ms;     /* interval between ARP requests (0: 1000) */
	unsigned arp_retries;      /* requests before giving up (0: 3) */
	unsigned gratuitous_arps;  /* announcements at start (0: 2) */
	unsigned frag_timeout_ms;  /* reassembly timeout (0: 30000) */
	unsigned frag_max_datagrams; /* datagrams being reassembled at once (0: 64) */
	unsigned frag_max_bytes;   /* fragment bytes held in all (0: 4 MiB) */
	unsigned icmp_rate;        /* ICMP errors per second (0: 100) */
	unsigned icmp_burst;       /* token bucket depth (0: 50) */
	unsigned tcp_rto_min_us;   /* TCP's RTO floor for new connections (0: 200000,
				    * Linux's; like net.ipv4.tcp_rto_min_us): 1000-1000000.
				    * A LAN of sub-millisecond RTTs may go lower */
	uint8_t ip_ttl;            /* TTL of every IPv4 packet sent (0: 64, like Linux's
				    * net.ipv4.ip_default_ttl; RFC 9293 3.9.2 MUST-49) */
	/* TCP memory budgets (docs/DESIGN.md, TCP: memory). An orphan is a
	 * connection the application closed that still holds data or state
	 * (FIN-WAIT-1/2, CLOSING, LAST-ACK); TIME-WAIT is not counted. */
	unsigned tcp_max_orphans;  /* orphans at most (0: 4096); past it a closing
				    * connection is reset (net.ipv4.tcp_max_orphans) */
	uint64_t tcp_orphan_mem;   /* bytes all orphans may hold (0: 64 MiB); past it,
				    * likewise (Linux counts orphans in tcp_mem) */
	unsigned tcp_synack_retries; /* SYN-ACK retransmissions before a half-open
				    * connection is dropped (0: 5, as
				    * net.ipv4.tcp_synack_retries), 1-255 */
	unsigned tcp_orphan_retries; /* timeouts or zero-window probes without
				    * progress before an orphan is dropped (0: 8, as
				    * net.ipv4.tcp_orphan_retries=0 means 8), 1-255 */
	unsigned tcp_persist_span_ms; /* an orphan's closed window without
				    * progress is given up after this, answered probes
				    * or not; so is any connection's while memory is
				    * under pressure (RFC 6429); otherwise a held one
				    * stays open while the peer answers (RFC 9293
				    * MUST-37). 0: 300000; 100-86400000 */
	uint64_t tcp_mem[3];       /* bytes all TCP connections hold: low, pressure,
				    * high (0,0,0: 384, 512, 768 MiB; net.ipv4.tcp_mem).
				    * Above pressure until below low: new connections get
				    * 16 KiB buffers, idle ones are shrunk to that; above
				    * high new connections are refused and orphans reset */
	unsigned tcp_max_conns;    /* TCP connections (listeners, half-open, TIME-WAIT
				    * included) at most (0: 262144), 16-16777216; past
				    * it a SYN is dropped and connect fails -EMFILE
				    * (Linux: the fd limit and tcp_max_syn_backlog) */
	unsigned tcp_buf_idle_ms;  /* an empty send or receive ring is freed after
				    * this long unused (0: 200), 1-60000, or
				    * XS_TCP_BUF_IDLE_NOW: at the end of the poll that
				    * emptied it; the next byte allocates it again */
	/* DNS stub resolver budgets (docs/DESIGN.md, DNS). */
	unsigned dns_max_queries;  /* resolves in flight at once (0: 64), 1-4096 */
	unsigned dns_cache_size;   /* cached names at most (0: 256), 1-65536 */
	unsigned dns_timeout_ms;   /* wait for one server's reply (0: 2000), 10-60000 */
	unsigned dns_attempts;     /* rounds over all servers (0: 2, like
				    * resolv.conf's attempts), 1-10 */
	unsigned dns_ttl_max;      /* seconds a positive answer is cached at most
				    * (0: 86400); negative answers at most 10800
				    * (RFC 2308 5) or this, the smaller */
	unsigned dhcp;             /* nonzero: take the address, prefix, gateway and
				    * DNS servers by DHCP (docs/DESIGN.md, DHCP); ip,
				    * prefix_len and gateway must then be 0 */
};

#define XS_TCP_BUF_IDLE_NOW 0xffffffffu

/* Creates a stack on dev (which it does not own). NULL + errno on failure. */
struct xs_stack *xs_stack_new(const struct xs_config *cfg, struct xs_dev *dev);
void xs_stack_free(struct xs_stack *st);

/* --- a stack from one config struct, device included ----------------------
 * Without the daemon: the device is chosen and made here, wrapped in a
 * capture and/or a fault injector if asked, and owned by the stack
 * (xs_stack_free frees it). Routes beyond the connected subnet and the
 * gateway are added in order. */
enum xs_dev_kind {
	XS_DEV_AFXDP = 1,     /* AF_XDP on ifname, queue (the steering program is loaded) */
	XS_DEV_MEM,           /* in-memory, for tests (xs_stack_dev + xs_mem_dev_*) */
	XS_DEV_TAP,           /* a TAP interface named ifname (made if absent) */
	XS_DEV_CUSTOM,        /* dev below: the embedder's own ops (dev.h) */
};

struct xs_stack_opts {
	struct xs_config cfg;          /* ip, prefix_len, gateway, budgets */
	enum xs_dev_kind dev_kind;
	const char *ifname;            /* AFXDP, TAP */
	uint32_t queue;                /* AFXDP: rx queue (0) */
	enum xs_xdp_mode xdp_mode;     /* AFXDP */
	uint32_t nframes;              /* buffers (0: the device's default) */
	const uint8_t *mac;            /* MEM, TAP: NULL = made up */
	uint16_t mtu;                  /* MEM, TAP: 0 = 1500 */
	struct xs_dev *dev;            /* CUSTOM: owned by xs_stack_create from the call
					* on (freed on failure, by xs_stack_free after) */
	const char *pcap_path;         /* non-NULL: capture every frame there */
	const struct xs_fault_config *fault; /* non-NULL: inject faults (inside the capture) */
	const struct xs_route *routes; /* dst, prefix_len, gateway of each */
	size_t nroutes;
	int verbose;                   /* AFXDP: libxdp/libbpf diagnostics */
	char ifname_buf[32];           /* where xs_stack_opts_dev puts the name */
};

/* NULL + errno and one human line in err on failure (nothing is left made). */
struct xs_stack *xs_stack_create(const struct xs_stack_opts *opts, char *err, size_t errlen);
/* Fills the device part of opts from a spec: "afxdp:IFNAME[@QUEUE]",
 * "tap:IFNAME", or "mem". 0, or -EINVAL with one line in err. ifname then
 * points at opts->ifname_buf (a copy of opts must set it again). */
int xs_stack_opts_dev(struct xs_stack_opts *opts, const char *spec, char *err, size_t errlen);
/* The stack's device (for device-specific calls such as xs_mem_dev_inject). */
struct xs_dev *xs_stack_dev(const struct xs_stack *st);

/* Frames handled per xs_stack_poll call at most: a full batch means more wait. */
#define XS_POLL_BATCH 64

/* Processes one batch of received frames, due timers, delivers the events
 * raised meanwhile (see "Events" below), and flushes tx.
 * Returns the number of frames received, or -errno from the device
 * (-EBUSY, and nothing done, when called from one of its own callbacks). */
int xs_stack_poll(struct xs_stack *st, xs_time_t now);
/* The earliest time at which xs_stack_poll has work to do: a timer, or
 * events raised by callbacks or API calls, or frames an API call made
 * outside a poll (then 0: poll again at once). */
xs_time_t xs_stack_next_timer(const struct xs_stack *st);

/* --- running inside the application's own loop ----------------------------
 * The contract, for an epoll/poll/select loop the application owns:
 *
 *	fd = xs_stack_fd(st);            add fd (EPOLLIN) to your loop once
 *	for (;;) {
 *		xs_stack_poll(st, now);      also call it when fd is readable
 *		next = xs_stack_next_timer(st);
 *		wait for your fds and fd, at most until next (0: do not wait)
 *	}
 *
 * fd is readable (level-triggered) while the device has received frames,
 * while events wait for delivery, after an API call from outside a poll
 * queued frames or events (say xs_tcp_send from your own handler: the frames
 * leave at the next poll's flush), and after xs_stop. Reading it is the
 * stack's business: never read or close it. xs_stack_next_timer stays the
 * authority on time: a poll is due at that time whether fd woke or not.
 * A full batch (xs_stack_poll returned XS_POLL_BATCH) means poll again.
 * Returns the fd (made on the first call, closed by xs_stack_free) or -errno. */
int xs_stack_fd(struct xs_stack *st);

/* CLOCK_MONOTONIC in ns: what xs_run passes as now. */
xs_time_t xs_clock_now(void);

struct xs_run_opts {
	unsigned max_wait_ms;  /* longest sleep (0: 1000) */
	int busy_poll;         /* 1: never sleep (a core spins on the device) */
};
/* A convenience loop: poll, sleep on xs_stack_fd until the next timer, until
 * xs_stop. opts may be NULL. Returns 0 after xs_stop (which it clears), or
 * -errno from the device or epoll. Callbacks run inside it. */
int xs_run(struct xs_stack *st, const struct xs_run_opts *opts);
/* Makes xs_run return after the poll in progress (or at once if between
 * polls). Async-signal-safe: call it from a callback, another handler of
 * your loop, or a signal handler (it sets a flag and writes an eventfd). */
void xs_stop(struct xs_stack *st);

const struct xs_stats *xs_stack_stats(const struct xs_stack *st);
uint32_t xs_stack_ip(const struct xs_stack *st);

/* Interface facts for tools. */
struct xs_stack_info {
	uint32_t ip;          /* host order */
	uint8_t prefix_len;
	uint8_t mac[6];
	uint16_t mtu;
};
void xs_stack_get_info(const struct xs_stack *st, struct xs_stack_info *out);

/* --- routes ------------------------------------------------------------
 * The connected subnet is always present; --gw adds 0.0.0.0/0. Longest
 * prefix wins. gateway 0 means on-link. Addresses in host byte order. */
#define XS_MAX_ROUTES 64
struct xs_route {
	uint32_t dst;
	uint8_t prefix_len;
	uint32_t gateway;
	uint8_t connected;    /* the interface's own subnet: cannot be deleted */
};
/* 0, -EINVAL (bad prefix or host bits set), -EEXIST, -ENOSPC,
 * -ENETUNREACH (gateway not on the connected subnet). */
int xs_route_add(struct xs_stack *st, uint32_t dst, uint8_t prefix_len, uint32_t gateway);
/* 0, -ESRCH (no such route), -EPERM (the connected route). */
int xs_route_del(struct xs_stack *st, uint32_t dst, uint8_t prefix_len);
size_t xs_route_list(const struct xs_stack *st, struct xs_route *out, size_t max);
/* The next hop for dst: 0 and *next_hop, or -EHOSTUNREACH. */
int xs_route_lookup(const struct xs_stack *st, uint32_t dst, uint32_t *next_hop);

/* --- packet filter ------------------------------------------------------
 * Rules "accept|drop|reject [in|out] [icmp|udp|tcp] [src P] [dst P]
 * [sport P[-P]] [dport P[-P]] [tcp-flags F] [rate N/s [burst B]]" judged in
 * order, then the direction's policy (docs/DESIGN.md "Packet filter"). Every
 * call that can fail leaves the rule set as it was; err gets one line
 * ("line 3: dport: expected ..., got '70000'"). */
#define XS_FILTER_MAX_RULES 64
#define XS_FILTER_TEXT_MAX 256
struct xs_filter_entry {
	char text[XS_FILTER_TEXT_MAX]; /* canonical rule text */
	uint64_t pkts, bytes;          /* taken in the stack (user space) */
	uint64_t xdp_pkts, xdp_bytes;  /* dropped by the XDP program (as last harvested) */
	/* A rate rule: packets that matched but found its token bucket empty,
	 * and went on to the next rule; in the stack, and in XDP. */
	uint64_t limited, xdp_limited;
	uint32_t rate;                 /* packets per second, 0: none */
};
/* A whole file's text replaces the rules: 0, -EINVAL or -ENOSPC. */
int xs_filter_load(struct xs_stack *st, const char *text, size_t len, char *err, size_t errlen);
/* Checks a file's text without a stack (the same errors as xs_filter_load). */
int xs_filter_check(const char *text, size_t len, char *err, size_t errlen);
/* Inserts the rule line before position pos (0-based); pos -1 appends.
 * 0, -EINVAL (bad line), -ERANGE (bad position), -ENOSPC (full). */
int xs_filter_insert(struct xs_stack *st, int pos, const char *line, char *err, size_t errlen);
/* 0 or -ERANGE. */
int xs_filter_del(struct xs_stack *st, unsigned pos);
void xs_filter_flush(struct xs_stack *st);
/* out: 0 in, 1 out; drop: 0 accept, 1 drop. 0 or -EINVAL. */
int xs_filter_set_policy(struct xs_stack *st, int out, int drop);
/* The rules (up to max), returns how many there are; policies and what
 * they decided through the other pointers (each may be NULL). */
size_t xs_filter_list(const struct xs_stack *st, struct xs_filter_entry *out, size_t max,
		      int policy_drop[2], uint64_t policy_pkts[2], uint64_t policy_bytes[2]);

/* The XDP side (bpf/steer.h): the inbound rules the program can decide,
 * compiled; and what it counted for a table it ran (by position, the last
 * one the policy) added to the rules it came from. */
struct xs_steer_table;
struct xs_steer_rule_cnt;
void xs_filter_xdp_table(const struct xs_stack *st, struct xs_steer_table *out);
void xs_filter_xdp_counts(struct xs_stack *st, const struct xs_steer_table *t,
			  const struct xs_steer_rule_cnt *delta);
/* Inbound policy drops made by the XDP program. */
void xs_filter_xdp_policy(const struct xs_stack *st, uint64_t *pkts, uint64_t *bytes);

/* ARP cache, read-only view for tools. Returns entries written (<= max). */
#define XS_ARP_CACHE_SIZE 256
struct xs_arp_entry_info {
	uint32_t ip;          /* host order */
	uint8_t mac[6];
	uint8_t resolved;     /* 0: request outstanding */
	uint32_t expires_ms;  /* from now */
};
size_t xs_stack_arp_list(const struct xs_stack *st, xs_time_t now,
			 struct xs_arp_entry_info *out, size_t max);
/* Empties the ARP cache; packets waiting for resolution are dropped. */
void xs_stack_arp_flush(struct xs_stack *st);

/* --- Handles: one struct type per kind ---------------------------------
 * Each kind of handle is its own struct, passed and returned by value, so
 * that a handle of one kind given where another is expected does not compile
 * (a UDP handle to xs_tcp_send is a type error, not -EBADF):
 *
 *	struct xs_udp        a UDP socket           (xs_udp_open)
 *	struct xs_tcp        a TCP connection or listener
 *	                     (xs_tcp_listen, xs_tcp_accept, xs_tcp_connect[_ex])
 *	struct xs_ping       an ICMP echo client    (xs_ping_open)
 *	struct xs_dns_query  a DNS resolve in flight (xs_dns_resolve)
 *	struct xs_tls        a TLS session over a TCP connection
 *	                     (xs_tls_server, xs_tls_client: xdpstack/tls.h)
 *
 * id is a small non-negative int, unique among the open handles of its kind
 * (an application may index its own table by it); numbers are reused after
 * a close. gen says which opening of that number the handle is: every call
 * checks it, so a handle kept after its close gets -EBADF even once a later
 * open has reused its number. Treat both as opaque but for reading id.
 *
 * Errors: a call that makes a handle returns it, or a handle whose id is
 * -errno (gen 0):
 *
 *	struct xs_udp u = xs_udp_open(st);
 *	if (u.id < 0)
 *		return u.id;            // -EMFILE ...
 *
 * Every other call that takes a handle returns 0 / a length, or -errno, and
 * -EBADF for a handle that is not open (closed, never opened, an error
 * return, or a gen that does not match). XS_NO_HANDLE initialises a handle
 * variable of any kind to "none" (id -1). */
struct xs_udp { int32_t id; uint32_t gen; };
struct xs_tcp { int32_t id; uint32_t gen; };
struct xs_ping { int32_t id; uint32_t gen; };
struct xs_dns_query { int32_t id; uint32_t gen; };
#define XS_NO_HANDLE { .id = -1, .gen = 0 }

/* --- Events: one model for UDP, TCP, ping, TLS and DNS --------------------
 * What happens to a handle is raised while the stack works (parsing a frame,
 * a timer, an API call) but delivered only after the batch: xs_stack_poll
 * runs the callbacks of UDP sockets, then ping results, then TCP
 * connections, then TLS sessions (xdpstack/tls.h), then DNS results, after
 * the received frames and the timers, never from the middle of parsing. A
 * UDP, TCP or TLS handle's pending events are merged into one call per poll;
 * ping has one call per result, DNS one per query. Each kind has its own
 * callback type (xs_udp_cb, xs_tcp_cb, xs_ping_cb, xs_tls_cb, xs_dns_cb)
 * receiving its own kind of handle.
 *
 * Readiness can also be queried at any time, without a callback:
 * xs_udp_poll_events, xs_tcp_poll_events, xs_ping_poll_events return the
 * XS_EV_* bits true now (level), or -EBADF; the callbacks carry the same bits
 * as edges (something became true; a callback may see a bit that a call
 * made since has consumed: -EAGAIN is always a possible answer).
 *
 * A callback MAY call any xs_* function of its stack: receive, send (frames
 * leave at the end of this poll), open, accept, connect, close or abort any
 * handle including its own, xs_stop. Events it raises (for instance a send
 * that completes a wake-up, or xs_*_set_event_cb reporting what is already
 * true) are delivered by the next poll, and xs_stack_next_timer returns 0
 * meanwhile. A callback MUST NOT call xs_stack_free on its own stack (call
 * xs_stop, free after xs_run returns), nor block (it runs on the stack's only
 * thread); xs_stack_poll and xs_run called from a callback return -EBUSY and
 * do nothing.
 *
 * Closing from inside a callback, its own handle or another: the handle is
 * invalid at once; nothing more is delivered for it, including events
 * already queued in this poll (a TCP connection's resources are freed at the
 * end of the poll, after every callback has run). A handle closed and then
 * used gets -EBADF, also after its number was reused (gen, above).
 *
 * Buffers: every buffer passed in (send) is copied before the call returns;
 * every buffer passed out (recv, xs_ping_result, xs_dns_result) is the
 * caller's or valid during the callback only. The stack keeps no pointer
 * given to it, except ctx, which it hands back untouched. The zero-copy
 * calls lend the stack's own buffers instead, each until it is given back
 * ("Zero-copy TCP" and xs_udp_recv_peek below).
 *
 * Bits: XS_EV_READABLE   recv will not say -EAGAIN (data, EOF, an error; a
 *                        listener: a connection to accept; ping: results
 *                        queued for the next poll)
 *       XS_EV_WRITABLE   send will not say -EAGAIN / -ENOBUFS: TCP connected
 *                        with room (after having been full, raised once the
 *                        free space is half of what is queued, like Linux's
 *                        sk_stream_is_writeable); UDP: a tx frame is free
 *                        again after a send got -ENOBUFS
 *       XS_EV_ERROR      an error waits (xs_tcp_error, the next UDP call)
 *       XS_EV_HUP        the connection is over (CLOSED or TIME-WAIT)
 *       XS_EV_URGENT, XS_EV_SOFT_ERROR: TCP only (below). */
enum {
	XS_EV_READABLE = 1, XS_EV_ERROR = 2, XS_EV_WRITABLE = 4, XS_EV_HUP = 8,
	XS_EV_URGENT = 16, XS_EV_SOFT_ERROR = 32,
};
typedef void (*xs_udp_cb)(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx);
typedef void (*xs_tcp_cb)(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx);

int xs_udp_poll_events(const struct xs_stack *st, struct xs_udp h);
int xs_tcp_poll_events(const struct xs_stack *st, struct xs_tcp h);
int xs_ping_poll_events(const struct xs_stack *st, struct xs_ping h);

/* --- UDP sockets -------------------------------------------------------
 * Calls never block: -EAGAIN when there is nothing to receive. Addresses
 * and ports in host byte order. */

/* A new unbound socket, or id -EMFILE (256 sockets at most). */
struct xs_udp xs_udp_open(struct xs_stack *st);
/* port 0 picks an unpredictable ephemeral port. */
int xs_udp_bind(struct xs_stack *st, struct xs_udp h, uint16_t port);
/* Fixes the peer: only its datagrams are received, ICMP errors about
 * traffic to it are reported (-ECONNREFUSED, -EHOSTUNREACH, ...) by the next
 * recv/send call once, with XS_EV_ERROR. Binds an ephemeral port if needed. */
int xs_udp_connect(struct xs_stack *st, struct xs_udp h, uint32_t ip, uint16_t port);
ssize_t xs_udp_send(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len);
ssize_t xs_udp_sendto(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len,
		      uint32_t ip, uint16_t port);
ssize_t xs_udp_recvfrom(struct xs_stack *st, struct xs_udp h, void *buf, size_t cap,
			uint32_t *ip, uint16_t *port);
/* Zero-copy receive: the next datagram where the stack queued it, read-only
 * at *p (its length returned: 0 for an empty datagram; ip and port as
 * recvfrom, each may be NULL), then xs_udp_recv_consume to free it. Until
 * then it stays first in the queue, counted against XS_UDP_RCVBUF, and *p
 * stays valid across polls; peeking again returns the same datagram;
 * xs_udp_recvfrom says -EBUSY. xs_udp_close ends the borrow (*p is then
 * invalid). Otherwise as recvfrom: -EAGAIN, a pending ICMP error once, or
 * -EBADF (*p NULL on any error). Consume: 0, or -EINVAL if nothing was peeked.
 * (Sending needs no such call: xs_udp_send copies once, straight into the
 * frame.) */
ssize_t xs_udp_recv_peek(struct xs_stack *st, struct xs_udp h, const void **p, uint32_t *ip,
			 uint16_t *port);
int xs_udp_recv_consume(struct xs_stack *st, struct xs_udp h);
/* Datagrams larger than the MTU are fragmented (up to 65507 bytes). */
int xs_udp_set_event_cb(struct xs_stack *st, struct xs_udp h, xs_udp_cb cb, void *ctx);
int xs_udp_close(struct xs_stack *st, struct xs_udp h);
/* Socket options. XS_UDP_RCVBUF: bytes of datagrams queued unread before
 * new ones are dropped (XS_DROP_UDP_RCVBUF), SO_RCVBUF's analogue; default
 * 262144, 2048-16 MiB. At most 1024 datagrams are queued either way. UDP has
 * no send buffer: a datagram is a frame at once (-ENOBUFS when the device has
 * none free, then XS_EV_WRITABLE when it has). */
enum xs_udp_opt { XS_UDP_RCVBUF };
#define XS_UDP_RCVBUF_MIN 2048
#define XS_UDP_RCVBUF_MAX (16 * 1024 * 1024)
int xs_udp_setopt(struct xs_stack *st, struct xs_udp h, enum xs_udp_opt opt, int value);
int xs_udp_getopt(const struct xs_stack *st, struct xs_udp h, enum xs_udp_opt opt, int *value);
/* Local port of a socket (0 if unbound), or -EBADF. */
int xs_udp_local_port(const struct xs_stack *st, struct xs_udp h);

/* --- TCP --------------------------------------------------------------
 * Nothing blocks:
 * -EAGAIN when nothing can be done now; events say when to try again.
 * XS_EV_READABLE: data, EOF, or (listener) a connection to accept;
 * XS_EV_WRITABLE: connected (after xs_tcp_connect), or send space again;
 * XS_EV_ERROR: the connection failed (xs_tcp_error says why);
 * XS_EV_HUP: the connection is over (peer closed and all is acknowledged);
 * XS_EV_URGENT: the peer's urgent pointer arrived or advanced (xs_tcp_urgent);
 * XS_EV_SOFT_ERROR: an ICMP error that does not end the connection
 * arrived about it (xs_tcp_soft_error says which). */
enum xs_tcp_state {
	XS_TCP_CLOSED = 0, XS_TCP_LISTEN, XS_TCP_SYN_SENT, XS_TCP_SYN_RECEIVED,
	XS_TCP_ESTABLISHED, XS_TCP_FIN_WAIT_1, XS_TCP_FIN_WAIT_2, XS_TCP_CLOSE_WAIT,
	XS_TCP_CLOSING, XS_TCP_LAST_ACK, XS_TCP_TIME_WAIT,
};
const char *xs_tcp_state_name(enum xs_tcp_state s);

/* A listening socket on port with a bounded accept queue (backlog), or id
 * -EINVAL (port 0), -EADDRINUSE, -EMFILE, -ENOMEM. */
struct xs_tcp xs_tcp_listen(struct xs_stack *st, uint16_t port, int backlog);
/* The next established connection of listener l, or id -EAGAIN (none
 * waits), -EBADF, -EINVAL (not a listener). */
struct xs_tcp xs_tcp_accept(struct xs_stack *st, struct xs_tcp l, uint32_t *ip, uint16_t *port);
/* Starts an active open from an unpredictable ephemeral port; completion is
 * XS_EV_WRITABLE, failure XS_EV_ERROR (-ECONNREFUSED, -ETIMEDOUT, ...). The handle, or id -errno
 * (-EINVAL, -ENETUNREACH, -EADDRNOTAVAIL, -EMFILE, -ENOBUFS). */
struct xs_tcp xs_tcp_connect(struct xs_stack *st, uint32_t ip, uint16_t port);
/* Queues up to len bytes; returns how many (maybe fewer), -EAGAIN when the
 * send buffer is full, -ENOTCONN, -EPIPE after shutdown, or the error. */
ssize_t xs_tcp_send(struct xs_stack *st, struct xs_tcp h, const void *buf, size_t len);
/* The same, as urgent data (RFC 9293 3.10.2 SEND with the urgent flag): the
 * urgent pointer moves to the end of what is queued, and segments carry URG
 * and the pointer until the peer has acknowledged that far. */
ssize_t xs_tcp_send_urgent(struct xs_stack *st, struct xs_tcp h, const void *buf, size_t len);
/* Reads up to cap bytes; 0 at end of stream, -EAGAIN, or the error. */
ssize_t xs_tcp_recv(struct xs_stack *st, struct xs_tcp h, void *buf, size_t cap);
/* Half close: FIN after the queued data (RFC 9293 3.10.4). */
int xs_tcp_shutdown(struct xs_stack *st, struct xs_tcp h);

/* --- Zero-copy TCP (lend, don't copy) ---------------------------------------
 * Receive by reading the receive ring in place, send by writing into the send
 * ring, instead of copying through a buffer of the application's:
 *
 *	const void *in;
 *	ssize_t n = xs_tcp_recv_peek(st, h, &in);  // n > 0 bytes at in, read-only
 *	if (n > 0)
 *		xs_tcp_recv_consume(st, h, used);  // used <= n; the rest stays unread
 *
 *	void *out;
 *	ssize_t room = xs_tcp_send_reserve(st, h, &out);  // room > 0 bytes at out
 *	if (room > 0)
 *		xs_tcp_send_commit(st, h, written);  // written <= room are queued
 *
 * Contiguous: a ring wraps, so peek gives the readable bytes up to the ring's
 * end and reserve the free space up to it; after consuming or committing
 * all of that part, peek or reserve again for the rest. Either may return
 * fewer bytes than xs_tcp_recv / xs_tcp_send would take at once.
 *
 * A lend lasts until the matching consume or commit, or until the handle is
 * closed or aborted; nothing else moves or frees the region, polls and
 * callbacks in between included (a ring lent is exempt from tcp_buf_idle_ms
 * release and from memory-pressure shrinking; its bytes stay charged to
 * TCP memory). Peek (reserve) asked again before that returns the same
 * pointer and a length never shorter (more data arrived, more was
 * acknowledged); consume (commit) then takes at most the last length.
 * Consume 0 (commit 0) ends the lend and uses nothing.
 *
 * One lend per direction, and the directions are independent (peek, then
 * send from the borrowed bytes, then consume: an echo with one copy).
 * While a receive borrow stands, xs_tcp_recv, XS_SHUT_RD and XS_TCP_RCVBUF
 * say -EBUSY; while a send reservation stands, xs_tcp_send,
 * xs_tcp_send_urgent, xs_tcp_shutdown (XS_SHUT_WR) and XS_TCP_SNDBUF say
 * -EBUSY. Those calls do nothing then (a combined how does neither half).
 *
 * Closing with a lend outstanding ends it (the pointer is invalid from the
 * call on): bytes peeked and not consumed count as unread, so xs_tcp_close
 * resets the connection as for any unread data (RFC 2525 2.17); bytes
 * reserved and not committed are never sent. The handle answers -EBADF
 * afterwards, as for every call.
 *
 * xs_tcp_recv_peek: > 0 bytes at *p; 0 at end of stream (nothing lent);
 * otherwise what xs_tcp_recv returns (-EAGAIN, the error, -ENOTCONN for a
 * listener, -EBADF), with *p NULL. The window opens as bytes are consumed,
 * by the same rule as xs_tcp_recv (a window update once it grew by
 * min(MSS, buffer/2)).
 * xs_tcp_recv_consume: 0, -EINVAL (n above the last peek's length, or
 * nothing peeked and n > 0: the borrow, if any, stands), -EBADF. */
ssize_t xs_tcp_recv_peek(struct xs_stack *st, struct xs_tcp h, const void **p);
int xs_tcp_recv_consume(struct xs_stack *st, struct xs_tcp h, size_t n);
/* xs_tcp_send_reserve: > 0 bytes of free space at *p (the send ring is
 * allocated now if it was not); otherwise what xs_tcp_send returns (-EAGAIN
 * when the ring is full, with XS_EV_WRITABLE to come, -ENOTCONN, -EPIPE,
 * the error, -ENOMEM, -EBADF), with *p NULL and no reservation.
 * xs_tcp_send_commit: queues the first n reserved bytes exactly as
 * xs_tcp_send of those bytes would (Nagle, XS_TCP_NODELAY, PSH, window and
 * congestion limits alike); 0, -EINVAL (n above the last reservation, which
 * stands), -EBADF, or what xs_tcp_send would say now if the connection
 * failed or closed since the reserve (its error, -EPIPE, -ENOTCONN: nothing
 * is queued and the reservation is over). Urgent data has no
 * zero-copy form: use xs_tcp_send_urgent. */
ssize_t xs_tcp_send_reserve(struct xs_stack *st, struct xs_tcp h, void **p);
int xs_tcp_send_commit(struct xs_stack *st, struct xs_tcp h, size_t n);
/* Releases the handle; the connection closes gracefully in the background
 * (RST instead if received data was left unread, RFC 2525 2.17). */
int xs_tcp_close(struct xs_stack *st, struct xs_tcp h);
/* Sends RST and releases the handle at once. */
int xs_tcp_abort(struct xs_stack *st, struct xs_tcp h);
int xs_tcp_set_event_cb(struct xs_stack *st, struct xs_tcp h, xs_tcp_cb cb, void *ctx);
/* The pending error (-errno) of a failed connection, 0 if none. */
int xs_tcp_error(const struct xs_stack *st, struct xs_tcp h);
/* Urgent data (RFC 9293 3.8.5, receiving): the bytes stay in line in the
 * stream; this says how many of the next bytes xs_tcp_recv returns are
 * urgent (up to the peer's urgent pointer, RFC 6093's reading: the octet
 * after the urgent data), some maybe not arrived yet. 0 when none is
 * pending, or -EBADF. XS_EV_URGENT announces a new or advanced pointer.
 * Sending: xs_tcp_send_urgent. */
int xs_tcp_urgent(const struct xs_stack *st, struct xs_tcp h);
/* The last ICMP error about the connection that did not end it (-ENETUNREACH,
 * -EHOSTUNREACH, -ETIMEDOUT for time exceeded, -EPROTO, ...; RFC 9293
 * 3.9.1.8 soft errors), 0 if none, or -EBADF. XS_EV_SOFT_ERROR announces
 * each. Should the connection then time out, xs_tcp_error reports it. */
int xs_tcp_soft_error(const struct xs_stack *st, struct xs_tcp h);

enum xs_tcp_opt {
	XS_TCP_NODELAY,       /* 1: no Nagle */
	XS_TCP_KEEPALIVE,     /* 1: keepalive probes (off by default) */
	XS_TCP_KEEPIDLE,      /* seconds idle before the first probe (7200) */
	XS_TCP_KEEPINTVL,     /* seconds between probes (75) */
	XS_TCP_KEEPCNT,       /* unanswered probes before abort (9) */
	XS_TCP_USER_TIMEOUT,  /* ms unacknowledged before abort (0: RFC default 5 min) */
	XS_TCP_SNDBUF,        /* bytes (before connect/listen for full effect) */
	XS_TCP_RCVBUF,        /* bytes; sets the window scale, so before the SYN */
	XS_TCP_CC_CUBIC,      /* 1: CUBIC (default), 0: NewReno */
	XS_TCP_RTO_MIN,       /* ms, 1-1000: the RTO floor (default: the stack's
			       * tcp_rto_min_us, 200 ms unless configured) */
	XS_TCP_TOS,           /* 0-255: the IPv4 TOS byte of the connection's segments
			       * (DSCP in the upper 6 bits; the 2 ECN bits are the
			       * stack's and are cleared), inherited from a listener */
};
int xs_tcp_setopt(struct xs_stack *st, struct xs_tcp h, enum xs_tcp_opt opt, int value);
/* The current value of opt into *value (buffers: the size in bytes; a
 * default user timeout reads 0). 0, -EBADF or -ENOPROTOOPT. */
int xs_tcp_getopt(const struct xs_stack *st, struct xs_tcp h, enum xs_tcp_opt opt, int *value);

/* What must be chosen before the SYN leaves (0: the default). */
struct xs_tcp_connect_opts {
	uint16_t lport;       /* local port (bind before connect); -EADDRINUSE if a
			       * listener has it or the 4-tuple exists */
	int sndbuf, rcvbuf;   /* bytes, 4096-16 MiB (-EINVAL outside); rcvbuf sets
			       * the window scale the SYN announces */
	int nodelay;          /* 1: TCP_NODELAY from the start */
	struct xs_addr laddr; /* local address (RFC 9293 3.9.1.1, MUST-43): family 0
			       * lets the stack choose (IPv6: RFC 6724); otherwise
			       * one of the stack's own usable addresses of the
			       * destination's family, else -EADDRNOTAVAIL (-EINVAL
			       * for the other family) */
};
/* xs_tcp_connect with options (o may be NULL); also id -EADDRINUSE. */
struct xs_tcp xs_tcp_connect_ex(struct xs_stack *st, uint32_t ip, uint16_t port,
		      const struct xs_tcp_connect_opts *o);

/* shutdown(2)'s how: XS_SHUT_WR is xs_tcp_shutdown (FIN after the queued
 * data); XS_SHUT_RD discards what is unread and all data that arrives later
 * (still acknowledged; the peer is not told, as on Linux), and xs_tcp_recv
 * then returns 0. 0, -EBADF, -EINVAL (how), -ENOTCONN (listener). */
enum { XS_SHUT_RD = 1, XS_SHUT_WR = 2, XS_SHUT_RDWR = 3 };
int xs_tcp_shutdown_how(struct xs_stack *st, struct xs_tcp h, int how);

struct xs_tcp_info {
	struct xs_tcp handle; /* id -1 if the application released it */
	enum xs_tcp_state state;
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t snd_queue;   /* bytes not yet acknowledged or not yet sent */
	uint32_t rcv_queue;   /* bytes received, not yet read */
	uint32_t rtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh, mss;
	uint32_t snd_wnd, rcv_wnd;
	uint64_t retransmits, bytes_acked, bytes_received;
	uint8_t snd_wscale, rcv_wscale, sack, timestamps;
	const char *cc;
	struct xs_addr laddr, raddr; /* either family (lip, rip: IPv4 only, else 0) */
};
int xs_tcp_get_info(const struct xs_stack *st, struct xs_tcp h, struct xs_tcp_info *out);
/* Every connection and listener, handles or not. Returns entries written. */
size_t xs_tcp_list(const struct xs_stack *st, struct xs_tcp_info *out, size_t max);

/* --- ICMP echo client (ping) --------------------------------------------
 * Each handle has its own ICMP identifier; replies and ICMP errors quoting
 * its requests (and the host unreachable made when ARP gives up on one) are
 * queued and reach the callback from xs_stack_poll after the batch and the
 * timers, as UDP and TCP events do: never in the middle of parsing, so the
 * callback may call any xs_* function, send more pings or close its handle
 * (results still queued for a closed handle are dropped). Results raised
 * meanwhile come at the next poll. r is valid during the call only. */
struct xs_ping_result {
	uint32_t from;       /* who answered (host order) */
	uint16_t seq;
	uint16_t bytes;      /* ICMP bytes received (header + data), as ping(8) */
	uint8_t ttl;
	int error;           /* 0 for an echo reply, else -EHOSTUNREACH, -ENETUNREACH,
			      * -ETIMEDOUT (time exceeded), -ECONNREFUSED ... */
	uint8_t icmp_type, icmp_code;
	struct xs_addr from_addr; /* who answered, either family (ip6.h) */
};
typedef void (*xs_ping_cb)(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r,
			   void *ctx);
/* A ping handle (cb is required), or id -EINVAL, -EMFILE (16 at most). */
struct xs_ping xs_ping_open(struct xs_stack *st, xs_ping_cb cb, void *ctx);
/* Sends one echo request with data_len bytes of data (fragmented above the
 * MTU, at most 65507). 0 or -errno. */
int xs_ping_send(struct xs_stack *st, struct xs_ping h, uint32_t dst, uint16_t seq, size_t data_len);
int xs_ping_close(struct xs_stack *st, struct xs_ping h);

/* --- DNS stub resolver (RFC 1035, RFC 2308) ----------------------------
 * A records, following CNAME chains (at most XS_DNS_MAX_CNAMES), from the
 * servers added with xs_dns_add_server, tried in turn. Each message has a
 * random ID and a random source port; a reply counts only if it comes from
 * the server's address and port, with the ID and question sent. Truncated
 * replies are asked again over TCP. Answers are cached for their TTL,
 * NXDOMAIN and no-data answers for the SOA's negative TTL.
 * The result reaches the callback from xs_stack_poll after the batch, like
 * every other event (a cache hit too, at the next poll): the callback may
 * call any xs_* function, start resolves or cancel others. r is valid
 * during the call only; the query handle is free once it returns. */
#define XS_DNS_MAX_SERVERS 4
#define XS_DNS_MAX_ADDRS 8
#define XS_DNS_MAX_CNAMES 8
#define XS_DNS_NAME_LEN 254 /* dotted text, NUL included */
struct xs_dns_result {
	int error;            /* 0, -ENOENT (NXDOMAIN), -ENODATA (the name has no
			       * A record), -ETIMEDOUT (no server answered),
			       * -ELOOP (CNAME chain too long), -EAGAIN (server
			       * failure), -EPROTO (server refused or malformed chain),
			       * -EINVAL (the name has no address, from add_server) */
	unsigned naddrs;
	uint32_t addrs[XS_DNS_MAX_ADDRS]; /* host order */
	uint32_t ttl;         /* seconds the answer stays valid */
	unsigned cnames;      /* CNAME links followed */
	char canon[XS_DNS_NAME_LEN]; /* the name the addresses belong to */
	uint8_t from_cache;
	uint8_t tcp;          /* the answer came over TCP */
};
typedef void (*xs_dns_cb)(struct xs_stack *st, struct xs_dns_query q, const struct xs_dns_result *r,
			  void *ctx);
/* 0, -ENOSPC (XS_DNS_MAX_SERVERS), -EINVAL (ip 0). */
int xs_dns_add_server(struct xs_stack *st, uint32_t ip, uint16_t port);
/* Starts resolving name ("www.example.com"); a query handle, or id
 * -EINVAL (not a host name: letters, digits, '-', '_', labels of 1-63,
 * 253 in all, a top label not all digits), -EDESTADDRREQ (no server), -EBUSY (the
 * dns_max_queries budget, counted in dns_busy). */
struct xs_dns_query xs_dns_resolve(struct xs_stack *st, const char *name, xs_dns_cb cb,
				   void *ctx);
/* Stops a query; its callback is not called. 0 or -EBADF. */
int xs_dns_cancel(struct xs_stack *st, struct xs_dns_query q);
void xs_dns_cache_flush(struct xs_stack *st);

/* DHCP client (cfg.dhcp). Events since the last call, taken and cleared. */
#define XS_DHCP_EV_BOUND (1u << 0)    /* an address was taken (xs_stack_ip) */
#define XS_DHCP_EV_RENEWED (1u << 1)  /* the lease was extended */
#define XS_DHCP_EV_LOST (1u << 2)     /* the address was lost: expiry or NAK */
#define XS_DHCP_EV_NAK (1u << 3)      /* a server refused: back to discovery */
#define XS_DHCP_EV_DECLINED (1u << 4) /* the offered address answered ARP */
unsigned xs_dhcp_events(struct xs_stack *st);
struct xs_dhcp_info {
	const char *state;    /* "selecting", "bound", ... */
	uint32_t ip, router, server; /* host order, 0 while unbound */
	uint8_t prefix_len;
	uint32_t lease_s;     /* 0xffffffff: infinite */
	int64_t t1_ms, t2_ms, expiry_ms; /* left from now; -1 infinite or unbound */
	uint64_t offers, acks, naks, declines, expiries;
};
/* 0, or -ENOENT when the stack does not use DHCP. */
int xs_dhcp_info(const struct xs_stack *st, xs_time_t now, struct xs_dhcp_info *out);
/* Gives the lease back (a RELEASE to the server) and stops the client.
 * The address stays so that the RELEASE can go out (it may wait on ARP:
 * poll a moment more); then free the stack. */
void xs_dhcp_release(struct xs_stack *st);

/* IPv6 and the address-family-aware calls. */
#include <xdpstack/ip6.h>

#endif
