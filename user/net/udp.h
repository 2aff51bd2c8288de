/* UDP sockets: a socket table, a port map, per-socket receive queues bounded
 * in bytes and datagrams, and readiness events raised for user/api/ to deliver. */
#ifndef XS_NET_UDP_H
#define XS_NET_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xdpstack/addr.h>
#include <xdpstack/stack.h>

#include "wire/ip4.h"

#define UDP_MAX_SOCKS 256
#define UDP_RCVBUF_BYTES (256 * 1024)
#define UDP_RCVBUF_DGRAMS 1024

struct udp_dgram {
	struct udp_dgram *next;
	uint32_t ip;             /* IPv4 sender (family 4) */
	uint8_t family;          /* XS_AF_INET4 or XS_AF_INET6 */
	uint8_t ip6[16];         /* IPv6 sender (family 6) */
	uint16_t port;
	uint16_t len;
	uint8_t data[];
};

struct udp_sock {
	uint8_t used;
	uint8_t ev_pending;
	uint8_t tx_blocked;      /* a send found no tx frame: WRITABLE when one frees */
	uint8_t ev_wr;           /* XS_EV_WRITABLE to deliver */
	uint8_t lent;            /* head is lent in place (xs_udp_recv_peek) */
	uint32_t gen;            /* bumped at each open: a handle names it */
	uint32_t rcvbuf;         /* bytes the queue may hold (XS_UDP_RCVBUF) */
	uint16_t lport;          /* 0 while unbound */
	uint16_t rport;          /* connected peer, 0 if not connected */
	uint32_t rip;
	uint8_t rfam;            /* the connected peer's family (4, or 6: rip6) */
	uint8_t rip6[16];
	int err;                 /* pending ICMP error (-errno), reported once */
	int16_t next_ready;
	struct udp_dgram *head, *tail;
	uint32_t qbytes, qlen;
	xs_udp_cb cb;            /* stored for user/api/udp.c, never called here */
	void *ctx;
};

struct udp_table {
	struct udp_sock s[UDP_MAX_SOCKS];
	/* 65536 entries: handle + 1, or 0. Indexed by the port itself, one
	 * socket a port, no chains: nothing a sender picks can make a lookup
	 * longer, so unlike the TCP, ARP and reassembly tables it needs no key. */
	uint16_t *port_map;
	int16_t ready_head;      /* sockets with an event to deliver */
	int16_t delivering;      /* the rest of the list being delivered */
	unsigned nblocked;       /* sockets with tx_blocked set */
};

struct xs_stack;

int udp_table_init(struct udp_table *t);
void udp_table_fini(struct udp_table *t);
/* pkt is the whole IP packet (ip->total_len bytes), for ICMP quotes. */
void udp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt);
/* An ICMP error about a datagram we sent to dst:dport from sport.
 * 0 if a socket took it, -ENOENT if none did. */
int udp_icmp_error(struct xs_stack *st, uint32_t dst, uint16_t sport, uint16_t dport, int err);
/* Delivery (user/api/events.c, end of each poll): begin takes the list of
 * sockets with events (first, if a send found the device out of tx frames
 * and one is free again, the blocked sockets become writable); next returns
 * the next socket whose callback is due with its events, or -1. A socket
 * closed meanwhile is skipped. */
void udp_deliver_begin(struct xs_stack *st);
int udp_deliver_next(struct xs_stack *st, unsigned *events);

/* The handle API's UDP half, by socket number (user/api/udp.c checks the
 * handle's generation first); the same returns as the xs_udp_* calls. */
struct udp_sock *udp_sock_get(const struct xs_stack *st, int h);
int udp_open(struct xs_stack *st, uint32_t *gen);
int udp_bind(struct xs_stack *st, int h, uint16_t port);
int udp_connect(struct xs_stack *st, int h, uint32_t ip, uint16_t port);
ssize_t udp_send(struct xs_stack *st, int h, const void *buf, size_t len);
ssize_t udp_sendto(struct xs_stack *st, int h, const void *buf, size_t len, uint32_t ip,
		   uint16_t port);
ssize_t udp_recvfrom(struct xs_stack *st, int h, void *buf, size_t cap, uint32_t *ip,
		     uint16_t *port);
/* Zero-copy receive: the next datagram in place (it stays queued, and
 * counted, until consumed). */
ssize_t udp_recv_peek(struct xs_stack *st, int h, const void **p, uint32_t *ip, uint16_t *port);
int udp_recv_consume(struct xs_stack *st, int h);
int udp_set_cb(struct xs_stack *st, int h, xs_udp_cb cb, void *ctx);
int udp_close(struct xs_stack *st, int h);
int udp_local_port(const struct xs_stack *st, int h);
int udp_poll_events(const struct xs_stack *st, int h);
int udp_setopt(struct xs_stack *st, int h, enum xs_udp_opt opt, int value);
int udp_getopt(const struct xs_stack *st, int h, enum xs_udp_opt opt, int *value);
/* Either family (net6/udp6.c): an IPv4 address goes to the calls above. */
ssize_t udp_sendto_addr(struct xs_stack *st, int h, const void *buf, size_t len,
			const struct xs_addr *dst, uint16_t port);
ssize_t udp_recvfrom_addr(struct xs_stack *st, int h, void *buf, size_t cap, struct xs_addr *from,
			  uint16_t *port);
int udp_connect_addr(struct xs_stack *st, int h, const struct xs_addr *dst, uint16_t port);

/* For the IPv6 half (net6/udp6.c): a socket with news for its callback; an
 * unpredictable free port of this stack's share; a datagram queued (copied;
 * the drop counted if the queue is full); the next datagram taken (its
 * sender into *meta), or the pending error, or -EAGAIN / -EBUSY / -EBADF. */
void udp_mark_ready(struct xs_stack *st, int h);
int udp_bind_ephemeral(struct xs_stack *st, int h);
int udp_enqueue(struct xs_stack *st, int h, const struct udp_dgram *hdr, const uint8_t *data);
ssize_t udp_recv(struct xs_stack *st, int h, void *buf, size_t cap, struct udp_dgram *meta);

#endif
