/* TCP byte rings: allocation (mmap for large rings, so a ring freed when
 * idle gives its pages back; a few kept for reuse), sizing, copy in and out. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/stack.h"
#include "tcp/tcp.h"
#include "wire/csum.h"

/* Large rings are mapped from the kernel and unmapped when freed, so a
 * ring released when idle gives its pages back (RSS falls) instead of
 * staying in the allocator's heap; the pages are touched only as data
 * comes. Under AddressSanitizer they come from malloc, where overruns are
 * caught. */
#if defined(__SANITIZE_ADDRESS__)
#define TCP_RING_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCP_RING_MMAP 0
#endif
#endif
#ifndef TCP_RING_MMAP
#define TCP_RING_MMAP 1
#endif

/* Under AddressSanitizer a cached ring is poisoned: a use after its free is
 * reported as with free() itself. */
#if !TCP_RING_MMAP && __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#define ring_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ring_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ring_poison(p, n) ((void)(p), (void)(n))
#define ring_unpoison(p, n) ((void)(p), (void)(n))
#endif

static bool ring_mapped(uint32_t size)
{
	return TCP_RING_MMAP && size >= TCP_RING_MMAP_MIN;
}

/* Only large rings are cached: small ones are malloc's, which has its own
 * free lists. */
static bool ring_cacheable(uint32_t size)
{
	return size >= TCP_RING_MMAP_MIN;
}

/* A cached ring of exactly size bytes, the most recently freed first (its
 * first pages are likely still in the CPU's caches). */
static uint8_t *ring_cache_get(struct tcp_ring_cache *rc, uint32_t size)
{
	unsigned i = rc->n;
	uint8_t *p;

	while (i--) {
		if (rc->size[i] != size)
			continue;
		p = rc->data[i];
		rc->n--;
		rc->data[i] = rc->data[rc->n];
		rc->size[i] = rc->size[rc->n];
		ring_unpoison(p, size);
		return p;
	}
	return NULL;
}

/* Keeps r's memory for a later ring of its size: false if the cache is
 * full. Beyond TCP_RING_CACHE_KEEP the pages r touched go back to the
 * kernel now, as munmap would give them (a ring that carried a bulk
 * transfer); a ring that carried a request and a reply touched one page. */
static bool ring_cache_put(struct tcp_ring_cache *rc, struct tcp_ring *r)
{
	if (rc->n == TCP_RING_CACHE || !ring_cacheable(r->size))
		return false;
	if (ring_mapped(r->size) && r->hi > TCP_RING_CACHE_KEEP &&
	    madvise(r->data + TCP_RING_CACHE_KEEP, r->hi - TCP_RING_CACHE_KEEP, MADV_DONTNEED))
		return false;
	ring_poison(r->data, r->size);
	rc->data[rc->n] = r->data;
	rc->size[rc->n] = r->size;
	rc->n++;
	return true;
}

static void ring_release(uint8_t *p, uint32_t size)
{
	if (ring_mapped(size))
		munmap(p, size);
	else
		free(p);
}

void tcp_ring_cache_fini(struct tcp_ring_cache *rc)
{
	while (rc->n) {
		rc->n--;
		ring_unpoison(rc->data[rc->n], rc->size[rc->n]);
		ring_release(rc->data[rc->n], rc->size[rc->n]);
	}
}

int tcp_ring_alloc(struct tcp_ring_cache *rc, struct tcp_ring *r, uint32_t cap, uint32_t slack)
{
	size_t size = (size_t)cap + slack;

	if ((r->data = ring_cache_get(rc, (uint32_t)size))) {
		/* Nothing of the ring it was is readable: len and head are 0. */
	} else if (ring_mapped((uint32_t)size)) {
		void *p =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		r->data = p == MAP_FAILED ? NULL : p;
	} else {
		r->data = malloc(size);
	}
	if (!r->data)
		return -ENOMEM;
	r->cap = cap;
	r->size = cap + slack;
	r->head = r->len = r->hi = 0;
	return 0;
}

void tcp_ring_free(struct tcp_ring_cache *rc, struct tcp_ring *r)
{
	if (r->data && !ring_cache_put(rc, r))
		ring_release(r->data, r->size);
	r->data = NULL;
	r->head = r->len = r->hi = 0;
}

void tcp_ring_drop(struct tcp_ring_cache *rc, struct tcp_ring *r)
{
	tcp_ring_free(rc, r);
	r->cap = r->size = 0;
}

/* The rings are sized here, with the window scale now agreed, and
 * allocated at their first byte (tcp_sndbuf_get, tcp_rcvbuf_get). */
int tcp_conn_buffers(struct xs_stack *st, struct tcp_conn *c)
{
	if (tcp_mem_over_high(st))
		return -ENOBUFS;
	if (!c->sndbuf.data)
		c->sndbuf.size = c->sndbuf.cap;
	if (!c->rcvbuf.data)
		c->rcvbuf.size = c->rcvbuf.cap + ((uint32_t)1 << c->rcv_wscale) - 1;
	return 0;
}

/* The position of offset off from the head: head and off are both below
 * size, so one subtraction does (no division on the fast path). */
static uint32_t ring_pos(const struct tcp_ring *r, uint32_t off)
{
	uint32_t pos = r->head + off;

	return pos >= r->size ? pos - r->size : pos;
}

void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n)
{
	uint32_t pos, first;

	if (!n)
		return;
	pos = ring_pos(r, off);
	first = n < r->size - pos ? n : r->size - pos;

	memcpy(dst, r->data + pos, first);
	memcpy((uint8_t *)dst + first, r->data, n - first);
}

uint32_t tcp_ring_peek_csum(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n)
{
	uint32_t pos, first, sum;

	if (!n)
		return 0;
	pos = ring_pos(r, off);
	first = n < r->size - pos ? n : r->size - pos;
	sum = csum_copy(dst, r->data + pos, first, 0);
	if (first < n)
		sum = csum_block_add(sum, csum_copy((uint8_t *)dst + first, r->data, n - first, 0),
				     first);
	return sum;
}

/* n bytes were written at pos, first of them before the ring's end. */
static void ring_touch(struct tcp_ring *r, uint32_t pos, uint32_t first, uint32_t n)
{
	uint32_t end = first < n ? r->size : pos + n;

	if (end > r->hi)
		r->hi = end;
}

void tcp_ring_write(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n)
{
	uint32_t pos, first;

	if (!n)
		return;
	pos = ring_pos(r, off);
	first = n < r->size - pos ? n : r->size - pos;

	memcpy(r->data + pos, src, first);
	memcpy(r->data, (const uint8_t *)src + first, n - first);
	ring_touch(r, pos, first, n);
}

uint32_t tcp_ring_write_csum(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n)
{
	uint32_t pos, first, sum;

	if (!n)
		return 0;
	pos = ring_pos(r, off);
	first = n < r->size - pos ? n : r->size - pos;
	sum = csum_copy(r->data + pos, src, first, 0);
	if (first < n)
		sum = csum_block_add(
		    sum, csum_copy(r->data, (const uint8_t *)src + first, n - first, 0), first);
	ring_touch(r, pos, first, n);
	return sum;
}

void tcp_ring_consume(struct tcp_ring *r, uint32_t n)
{
	if (!n)
		return;
	r->head = ring_pos(r, n);
	r->len -= n;
}
