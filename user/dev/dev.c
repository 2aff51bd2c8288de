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
