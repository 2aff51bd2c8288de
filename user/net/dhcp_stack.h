/* The DHCP client inside a stack: runs net/dhcp.c's state machine over the
 * stack's UDP/IP and ARP, and applies the lease (address, routes, DNS). */
#ifndef XS_NET_DHCP_STACK_H
#define XS_NET_DHCP_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/arp.h"
#include "wire/ip4.h"

struct xs_stack;

int dhcp_stack_init(struct xs_stack *st);
void dhcp_stack_fini(struct xs_stack *st);
/* True for a DHCP reply: a UDP datagram from port 67 to 68, for our address
 * or broadcast (any destination while unbound), unfragmented. */
bool dhcp_stack_wants(const struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt);
/* A DHCP reply (dhcp_stack_wants): taken, counted. false when it is not one
 * (the caller goes on). */
bool dhcp_stack_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt);
void dhcp_stack_arp(struct xs_stack *st, const struct arp_repr *a);
void dhcp_stack_timers(struct xs_stack *st);
xs_time_t dhcp_stack_next(const struct xs_stack *st);

#endif
