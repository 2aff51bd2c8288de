/* ICMPv4 host behaviour: echo replies today; errors and the ping client
 * arrive with the IPv4 issue. */
#ifndef XS_NET_ICMP_H
#define XS_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "wire/ip4.h"

struct xs_stack;

void icmp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, size_t n);

#endif
