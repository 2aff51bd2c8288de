/* SipHash (Aumasson & Bernstein): 2-4 behind RFC 6528 ISNs and SYN cookies,
 * 1-3 to pick buckets of the tables remote input fills. No state. */
#ifndef XS_CORE_SIPHASH_H
#define XS_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4: for values that leave the stack (ISNs, cookies). */
uint64_t siphash24(const uint8_t key[16], const void *msg, size_t len);
/* SipHash-1-3: for hash table buckets, whose values never leave the stack
 * (an attacker sees at most timing). Linux's hsiphash on 64-bit hosts and
 * Rust's HashMap make the same trade: half the rounds, still a keyed PRF
 * with no known way to find collisions without the key. */
uint64_t siphash13(const uint8_t key[16], const void *msg, size_t len);

#endif
