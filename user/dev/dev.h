/* Packet I/O behind one ops table: the stack sees frames, never rings or sockets.
 * Implementations: afxdp.c, mem.c (tests), tap.c, pcap.c and fault.c (wrappers). */
#ifndef XS_DEV_H
#define XS_DEV_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/dev.h>

/* struct xs_frame, xs_dev_ops and struct xs_dev are public: include/xdpstack/dev.h. */

/* Frames that did not come home, once the stack is freed: still borrowed,
 * handed back wrongly, or missing from the sum. 0 when all is accounted. */
uint32_t dev_frames_lost(const struct xs_dev_frames *f);

/* The mem device's xs_mem_dev_inject with an xs_frame.meta for the frame
 * (tests: a verdict as the XDP program would stamp it). */
int mem_dev_inject_meta(struct xs_dev *d, const void *frame, size_t len, uint64_t meta);

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
