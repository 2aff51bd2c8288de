/* TCP byte rings: allocation (mmap for large rings, so a ring freed when
 * idle gives its pages back), sizing at establishment, copy in and out. */
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

static bool ring_mapped(uint32_t size)
{
	return TCP_RING_MMAP && size >= TCP_RING_MMAP_MIN;
}

int tcp_ring_alloc(struct tcp_ring *r, uint32_t cap, uint32_t slack)
{
	size_t size = (size_t)cap + slack;

	if (ring_mapped((uint32_t)size)) {
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
	r->head = r->len = 0;
	return 0;
}

void tcp_ring_free(struct tcp_ring *r)
{
	if (r->data && ring_mapped(r->size))
		munmap(r->data, r->size);
	else
		free(r->data);
	r->data = NULL;
	r->head = r->len = 0;
}

void tcp_ring_drop(struct tcp_ring *r)
{
	tcp_ring_free(r);
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

void tcp_ring_write(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n)
{
	uint32_t pos, first;

	if (!n)
		return;
	pos = ring_pos(r, off);
	first = n < r->size - pos ? n : r->size - pos;

	memcpy(r->data + pos, src, first);
	memcpy(r->data, (const uint8_t *)src + first, n - first);
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
	return sum;
}

void tcp_ring_consume(struct tcp_ring *r, uint32_t n)
{
	if (!n)
		return;
	r->head = ring_pos(r, n);
	r->len -= n;
}
