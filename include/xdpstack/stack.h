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

/* ARP cache, read-only view for tools. Returns entries written (<= max). */
struct xs_arp_entry_info {
	uint32_t ip;          /* host order */
	uint8_t mac[6];
	uint8_t resolved;     /* 0: request outstanding */
	uint32_t expires_ms;  /* from now */
};
size_t xs_stack_arp_list(const struct xs_stack *st, xs_time_t now,
			 struct xs_arp_entry_info *out, size_t max);

/* --- UDP sockets -------------------------------------------------------
 * Handles are small non-negative ints. Calls never block: -EAGAIN when
 * there is nothing to receive. Addresses and ports in host byte order. */
enum { XS_EV_READABLE = 1, XS_EV_ERROR = 2 };
typedef void (*xs_event_cb)(struct xs_stack *st, int handle, unsigned events, void *ctx);

int xs_udp_open(struct xs_stack *st);
int xs_udp_bind(struct xs_stack *st, int h, uint16_t port);
ssize_t xs_udp_sendto(struct xs_stack *st, int h, const void *buf, size_t len,
		      uint32_t ip, uint16_t port);
ssize_t xs_udp_recvfrom(struct xs_stack *st, int h, void *buf, size_t cap,
			uint32_t *ip, uint16_t *port);
/* Called from xs_stack_poll when the handle becomes readable. */
int xs_udp_set_event_cb(struct xs_stack *st, int h, xs_event_cb cb, void *ctx);
int xs_udp_close(struct xs_stack *st, int h);

#endif
