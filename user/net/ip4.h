/* IPv4 input (validation, reassembly, protocol demux) and output (header,
 * route, ARP, fragmentation). Output builds straight into borrowed tx frames. */
#ifndef XS_NET_IP4_H
#define XS_NET_IP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/dev.h"
#include "wire/ip4.h"

struct xs_stack;
struct eth_repr;

#define IP4_DEFAULT_TTL 64

void ip4_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n);
/* A validated packet (b holds ip->total_len bytes) this stack owns: the
 * address checks, reassembly, filter and demux; what another queue's stack
 * handed over enters here. meta: the XDP program's filter verdict (0: none);
 * filtered: the filter already took it (a segment passed along the queues). */
void ip4_receive(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, uint64_t meta,
		 bool filtered);

/* Borrows a tx frame and returns where the transport header goes, with the
 * room there (bounded by the MTU) in *cap; NULL if no frame is free. */
uint8_t *ip4_tx_begin(struct xs_stack *st, struct xs_frame *f, size_t *cap);
/* Writes the IPv4 and Ethernet headers around l4len bytes of f and sends it,
 * or queues it for ARP. f is consumed in every case. 0 or -errno. */
int ip4_tx_finish(struct xs_stack *st, struct xs_frame *f, uint32_t dst, uint8_t proto,
		  uint8_t tos, size_t l4len);
/* Sends len bytes of transport data from buf (up to 65515), fragmenting to
 * the MTU when needed (RFC 791 3.2). 0 or -errno. */
int ip4_send(struct xs_stack *st, uint32_t dst, uint8_t proto, uint8_t tos, const uint8_t *buf,
	     size_t len);
/* True for the limited broadcast and our subnet's directed broadcast. */
int ip4_is_broadcast(const struct xs_stack *st, uint32_t a);

#endif
