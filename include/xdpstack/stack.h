/* libxdpstack: one user-space TCP/IP stack instance bound to one device queue.
 * Time is passed in by the caller (ns, monotonic); nothing here reads a clock. */
#ifndef XDPSTACK_STACK_H
#define XDPSTACK_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
};

/* Creates a stack on dev (which it does not own). NULL + errno on failure. */
struct xs_stack *xs_stack_new(const struct xs_config *cfg, struct xs_dev *dev);
void xs_stack_free(struct xs_stack *st);

/* Frames handled per xs_stack_poll call at most: a full batch means more wait. */
#define XS_POLL_BATCH 64

/* Processes one batch of received frames, due timers, and flushes tx.
 * Returns the number of frames received, or -errno from the device. */
int xs_stack_poll(struct xs_stack *st, xs_time_t now);
/* The earliest time at which xs_stack_poll has timer work to do. */
xs_time_t xs_stack_next_timer(const struct xs_stack *st);

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

/* ARP cache, read-only view for tools. Returns entries written (<= max). */
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

/* --- UDP sockets -------------------------------------------------------
 * Handles are small non-negative ints. Calls never block: -EAGAIN when
 * there is nothing to receive. Addresses and ports in host byte order. */
enum { XS_EV_READABLE = 1, XS_EV_ERROR = 2 };
typedef void (*xs_event_cb)(struct xs_stack *st, int handle, unsigned events, void *ctx);

int xs_udp_open(struct xs_stack *st);
/* port 0 picks an unpredictable ephemeral port. */
int xs_udp_bind(struct xs_stack *st, int h, uint16_t port);
/* Fixes the peer: only its datagrams are received, ICMP errors about
 * traffic to it are reported (-ECONNREFUSED, -EHOSTUNREACH, ...) by the next
 * recv/send call once, with XS_EV_ERROR. Binds an ephemeral port if needed. */
int xs_udp_connect(struct xs_stack *st, int h, uint32_t ip, uint16_t port);
ssize_t xs_udp_send(struct xs_stack *st, int h, const void *buf, size_t len);
ssize_t xs_udp_sendto(struct xs_stack *st, int h, const void *buf, size_t len,
		      uint32_t ip, uint16_t port);
ssize_t xs_udp_recvfrom(struct xs_stack *st, int h, void *buf, size_t cap,
			uint32_t *ip, uint16_t *port);
/* Datagrams larger than the MTU are fragmented (up to 65507 bytes). */
int xs_udp_set_event_cb(struct xs_stack *st, int h, xs_event_cb cb, void *ctx);
int xs_udp_close(struct xs_stack *st, int h);
/* Local port of a socket (0 if unbound), or -EBADF. */
int xs_udp_local_port(const struct xs_stack *st, int h);

/* --- ICMP echo client (ping) --------------------------------------------
 * Each handle has its own ICMP identifier; replies and ICMP errors quoting
 * its requests reach the callback from xs_stack_poll. */
struct xs_ping_result {
	uint32_t from;       /* who answered (host order) */
	uint16_t seq;
	uint16_t bytes;      /* ICMP bytes received (header + data), as ping(8) */
	uint8_t ttl;
	int error;           /* 0 for an echo reply, else -EHOSTUNREACH, -ENETUNREACH,
			      * -ETIMEDOUT (time exceeded), -ECONNREFUSED ... */
	uint8_t icmp_type, icmp_code;
};
typedef void (*xs_ping_cb)(struct xs_stack *st, int h, const struct xs_ping_result *r, void *ctx);
int xs_ping_open(struct xs_stack *st, xs_ping_cb cb, void *ctx);
/* Sends one echo request with data_len bytes of data (fragmented above the
 * MTU, at most 65507). 0 or -errno. */
int xs_ping_send(struct xs_stack *st, int h, uint32_t dst, uint16_t seq, size_t data_len);
int xs_ping_close(struct xs_stack *st, int h);

#endif
