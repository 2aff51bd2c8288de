/* SipHash-2-4 (Aumasson & Bernstein): the keyed hash behind RFC 6528 ISNs
 * and SYN cookies. Small enough to own; no allocation, no state. */
#ifndef XS_CORE_SIPHASH_H
#define XS_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif
