/* Device-independent accessors of struct xs_dev, exported by libxdpstack.
 * Everything device-specific sits behind the ops table in dev.h. */
#include "dev/dev.h"

const uint8_t *xs_dev_mac(const struct xs_dev *dev)
{
	return dev->mac;
}

int xs_dev_fd(const struct xs_dev *dev)
{
	return dev->fd;
}

void xs_dev_free(struct xs_dev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

uint32_t dev_frames_lost(const struct xs_dev_frames *f)
{
	uint64_t home = (uint64_t)f->free + f->fill + f->tx_queued + f->in_flight;
	uint64_t held = (uint64_t)f->rx_borrowed + f->tx_borrowed;
	uint64_t missing = home + held < f->total ? f->total - home - held : 0;

	/* Queued and in-flight frames are the kernel's; they go with the socket. */
	return (uint32_t)(held + f->misuse + missing);
}
