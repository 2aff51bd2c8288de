/* The Internet checksum (RFC 1071) with incremental partial sums, and the
 * IPv4 and IPv6 pseudo-header sums used by UDP, TCP and ICMPv6. */
#ifndef XS_WIRE_CSUM_H
#define XS_WIRE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds n bytes at p to a 32-bit partial sum (any alignment, odd lengths ok
 * only as the last piece). */
uint32_t csum_add(uint32_t sum, const void *p, size_t n);
/* Copies n bytes from src to dst (not overlapping) and adds them to a
 * partial sum, in one pass over the data: what csum_add(sum, src, n) gives,
 * with the copy. The same rule for odd lengths. */
uint32_t csum_copy(void *dst, const void *src, size_t n, uint32_t sum);
/* Adds the partial sum of a block that starts off bytes into the summed
 * data (any offset: a block at an odd one is byte-swapped, RFC 1071 2(B)).
 * So a buffer summed in pieces of any lengths gives the sum of the whole. */
uint32_t csum_block_add(uint32_t sum, uint32_t block, size_t off);
/* Folds a partial sum and complements it: the value to store in a header. */
uint16_t csum_fold(uint32_t sum);
/* Partial sum of the IPv4 pseudo header (addresses host order). */
uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Partial sum of the IPv6 pseudo header (RFC 8200 8.1): addresses as on the
 * wire (16 bytes each), upper-layer length, next header. */
uint32_t csum_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len);

#endif
