/* In-memory device: frames injected by a test (or sent by a linked peer) are
 * received; frames sent are kept for the test to take. Same ops as AF_XDP. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/dev.h"

#define MEM_FRAME_SIZE 2048

struct mem_slot {
	uint32_t idx;
	uint32_t len;
};

struct mem_ring {
	struct mem_slot *s;
	uint32_t cap, head, count;
};

struct mem_dev {
	struct xs_dev dev;
	uint8_t *mem;
	uint32_t nframes;
	uint32_t *free;
	uint32_t nfree;
	uint64_t *meta; /* by frame: what rx_burst reports as xs_frame.meta */
	struct mem_ring rxq;  /* injected, not yet received ("fill") */
	struct mem_ring txq;  /* submitted, not yet flushed */
	struct mem_ring sent; /* flushed, waiting for xs_mem_dev_take ("in flight") */
	uint32_t rx_borrowed, tx_borrowed;
	struct mem_dev *peer;
};

static struct mem_dev *to_mem(const struct xs_dev *d)
{
	return (struct mem_dev *)d->priv;
}

static int ring_push(struct mem_ring *r, uint32_t idx, uint32_t len)
{
	if (r->count == r->cap)
		return -ENOBUFS;
	r->s[(r->head + r->count) % r->cap] = (struct mem_slot){ idx, len };
	r->count++;
	return 0;
}

static int ring_pop(struct mem_ring *r, struct mem_slot *out)
{
	if (!r->count)
		return -ENOENT;
	*out = r->s[r->head];
	r->head = (r->head + 1) % r->cap;
	r->count--;
	return 0;
}

static uint8_t *frame_data(struct mem_dev *m, uint32_t idx)
{
	return m->mem + (size_t)idx * MEM_FRAME_SIZE;
}

static int mem_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	struct mem_dev *m = to_mem(d);
	struct mem_slot s;
	int n = 0;

	while (n < max && ring_pop(&m->rxq, &s) == 0) {
		f[n].data = frame_data(m, s.idx);
		f[n].len = s.len;
		f[n].cap = MEM_FRAME_SIZE;
		f[n].handle = s.idx;
		f[n].meta = m->meta[s.idx];
		m->rx_borrowed++;
		n++;
	}
	/* All taken: the fd stops being readable. */
	if (n && !m->rxq.count && m->dev.fd >= 0) {
		uint64_t v;

		if (read(m->dev.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: already zero. */
		}
	}
	return n;
}

static void mem_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	struct mem_dev *m = to_mem(d);
	int i;

	for (i = 0; i < n; i++) {
		m->free[m->nfree++] = (uint32_t)f[i].handle;
		m->rx_borrowed--;
	}
}

static int mem_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	struct mem_dev *m = to_mem(d);
	uint32_t idx;

	if (!m->nfree)
		return -ENOBUFS;
	idx = m->free[--m->nfree];
	f->data = frame_data(m, idx);
	f->len = 0;
	f->cap = MEM_FRAME_SIZE;
	f->handle = idx;
	m->tx_borrowed++;
	return 0;
}

static void mem_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct mem_dev *m = to_mem(d);

	m->tx_borrowed--;
	/* txq has room for every frame, so this cannot fail. */
	ring_push(&m->txq, (uint32_t)f->handle, len);
}

static void mem_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	struct mem_dev *m = to_mem(d);

	m->tx_borrowed--;
	m->free[m->nfree++] = (uint32_t)f->handle;
}

static int mem_flush(struct xs_dev *d)
{
	struct mem_dev *m = to_mem(d);
	struct mem_slot s;

	while (ring_pop(&m->txq, &s) == 0) {
		if (m->peer) {
			/* A full peer drops the frame, as a real link would. */
			xs_mem_dev_inject(&m->peer->dev, frame_data(m, s.idx), s.len);
			m->free[m->nfree++] = s.idx;
		} else {
			ring_push(&m->sent, s.idx, s.len);
		}
	}
	return 0;
}

static void mem_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct mem_dev *m = to_mem(d);

	memset(out, 0, sizeof(*out));
	out->total = m->nframes;
	out->free = m->nfree;
	out->fill = m->rxq.count;
	out->rx_borrowed = m->rx_borrowed;
	out->tx_borrowed = m->tx_borrowed;
	out->tx_queued = m->txq.count;
	out->in_flight = m->sent.count;
}

static void mem_destroy(struct xs_dev *d)
{
	struct mem_dev *m = to_mem(d);

	if (m->peer)
		m->peer->peer = NULL;
	free(m->rxq.s);
	free(m->txq.s);
	free(m->sent.s);
	free(m->free);
	free(m->meta);
	free(m->mem);
	if (m->dev.fd >= 0)
		close(m->dev.fd);
	free(m);
}

static const struct xs_dev_ops mem_ops = {
	.rx_burst = mem_rx_burst,
	.rx_release = mem_rx_release,
	.tx_alloc = mem_tx_alloc,
	.tx_submit = mem_tx_submit,
	.tx_abort = mem_tx_abort,
	.flush = mem_flush,
	.frames = mem_frames,
	.destroy = mem_destroy,
};

struct xs_dev *xs_mem_dev_new(const uint8_t mac[6], uint16_t mtu, uint32_t nframes)
{
	struct mem_dev *m = calloc(1, sizeof(*m));
	uint32_t i;

	if (!m)
		return NULL;
	if (!nframes)
		nframes = 256;
	m->nframes = nframes;
	m->mem = calloc(nframes, MEM_FRAME_SIZE);
	m->free = calloc(nframes, sizeof(*m->free));
	m->meta = calloc(nframes, sizeof(*m->meta));
	m->dev.fd = -1;
	m->rxq.s = calloc(nframes, sizeof(struct mem_slot));
	m->txq.s = calloc(nframes, sizeof(struct mem_slot));
	m->sent.s = calloc(nframes, sizeof(struct mem_slot));
	if (!m->mem || !m->free || !m->meta || !m->rxq.s || !m->txq.s || !m->sent.s) {
		m->dev.priv = m;
		mem_destroy(&m->dev);
		errno = ENOMEM;
		return NULL;
	}
	m->rxq.cap = m->txq.cap = m->sent.cap = nframes;
	for (i = 0; i < nframes; i++)
		m->free[i] = nframes - 1 - i;
	m->nfree = nframes;
	m->dev.ops = &mem_ops;
	memcpy(m->dev.mac, mac, 6);
	/* A frame holds the Ethernet header and one MTU. */
	m->dev.mtu = mtu ? mtu : 1500;
	if (m->dev.mtu > MEM_FRAME_SIZE - 14)
		m->dev.mtu = MEM_FRAME_SIZE - 14;
	/* Readable while frames wait to be received (xs_stack_fd). Without
	 * one (out of fds) the device still works, it just cannot be waited on. */
	m->dev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->dev.priv = m;
	return &m->dev;
}

void xs_mem_dev_link(struct xs_dev *a, struct xs_dev *b)
{
	to_mem(a)->peer = to_mem(b);
	to_mem(b)->peer = to_mem(a);
}

int xs_mem_dev_inject(struct xs_dev *d, const void *frame, size_t len)
{
	return mem_dev_inject_meta(d, frame, len, 0);
}

int mem_dev_inject_meta(struct xs_dev *d, const void *frame, size_t len, uint64_t meta)
{
	struct mem_dev *m = to_mem(d);
	uint32_t idx;

	if (len > MEM_FRAME_SIZE)
		return -EMSGSIZE;
	if (!m->nfree)
		return -ENOBUFS;
	idx = m->free[--m->nfree];
	memcpy(frame_data(m, idx), frame, len);
	m->meta[idx] = meta;
	ring_push(&m->rxq, idx, (uint32_t)len);
	if (m->rxq.count == 1 && m->dev.fd >= 0) {
		uint64_t one = 1;

		if (write(m->dev.fd, &one, sizeof(one)) < 0) {
			/* Saturated: readable anyway. */
		}
	}
	return 0;
}

size_t xs_mem_dev_take(struct xs_dev *d, void *buf, size_t cap)
{
	struct mem_dev *m = to_mem(d);
	struct mem_slot s;
	size_t n;

	if (ring_pop(&m->sent, &s) != 0)
		return 0;
	n = s.len < cap ? s.len : cap;
	memcpy(buf, frame_data(m, s.idx), n);
	m->free[m->nfree++] = s.idx;
	return s.len;
}

size_t xs_mem_dev_pending_tx(const struct xs_dev *d)
{
	return to_mem(d)->sent.count;
}
