/* Packet I/O behind one ops table: the stack sees frames, never rings or sockets.
 * Implementations: afxdp.c (AF_XDP + steering program), mem.c (tests), pcap.c (capture). */
#ifndef XS_DEV_H
#define XS_DEV_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/dev.h>

/* One frame lent by a device. For rx it is read-only and stays valid until
 * rx_release(); for tx, data points at cap writable bytes until tx_submit()
 * or tx_abort(). handle is the device's own reference (a UMEM address). */
struct xs_frame {
	uint8_t *data;
	uint32_t len;
	uint32_t cap;
	uint64_t handle;
};

/* Frame accounting, so teardown can prove every frame came home. */
struct xs_dev_frames {
	uint32_t total;      /* frames the device owns */
	uint32_t free;       /* ready for tx_alloc */
	uint32_t fill;       /* posted for rx (fill ring or kernel) */
	uint32_t rx_borrowed;/* handed to the stack by rx_burst */
	uint32_t tx_borrowed;/* handed to the stack by tx_alloc */
	uint32_t tx_queued;  /* submitted, not yet given to the kernel */
	uint32_t in_flight;  /* given to the kernel, completion pending */
	uint32_t misuse;     /* frames handed back twice or in the wrong state */
};

/* Frames that did not come home, once the stack is freed: still borrowed,
 * handed back wrongly, or missing from the sum. 0 when all is accounted. */
uint32_t dev_frames_lost(const struct xs_dev_frames *f);

struct xs_dev;

struct xs_dev_ops {
	/* Borrow up to max received frames. Returns count (0 if none), or -errno. */
	int (*rx_burst)(struct xs_dev *dev, struct xs_frame *frames, int max);
	/* Give n borrowed rx frames back (refills the fill ring once per call). */
	void (*rx_release)(struct xs_dev *dev, const struct xs_frame *frames, int n);
	/* Borrow one tx buffer; 0 or -ENOBUFS. */
	int (*tx_alloc)(struct xs_dev *dev, struct xs_frame *f);
	/* Queue a filled tx buffer of len bytes; it leaves at the next flush. */
	void (*tx_submit)(struct xs_dev *dev, const struct xs_frame *f, uint32_t len);
	/* Return a tx buffer unused. */
	void (*tx_abort)(struct xs_dev *dev, const struct xs_frame *f);
	/* Push queued tx to the kernel, kick if needed, drain completions. */
	int (*flush)(struct xs_dev *dev);
	/* Fill *out with the frame accounting. */
	void (*frames)(const struct xs_dev *dev, struct xs_dev_frames *out);
	/* Release everything. */
	void (*destroy)(struct xs_dev *dev);
};

struct xs_dev {
	const struct xs_dev_ops *ops;
	uint8_t mac[6];
	uint16_t mtu;      /* IP MTU of the link */
	uint32_t ifindex;
	int fd;            /* pollable fd for rx readiness, -1 if none */
	void *priv;
};

static inline int xs_dev_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	return d->ops->rx_burst(d, f, max);
}
static inline void xs_dev_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	d->ops->rx_release(d, f, n);
}
static inline int xs_dev_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	return d->ops->tx_alloc(d, f);
}
static inline void xs_dev_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	d->ops->tx_submit(d, f, len);
}
static inline void xs_dev_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	d->ops->tx_abort(d, f);
}
static inline int xs_dev_flush(struct xs_dev *d)
{
	return d->ops->flush(d);
}

#endif
