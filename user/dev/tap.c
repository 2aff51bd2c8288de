/* TAP device: frames to and from the kernel's /dev/net/tun (IFF_TAP, no packet
 * info header), non-blocking; the public device ops table's worked example. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/dev.h"

#define TAP_FRAME_SIZE 2048

struct tap_dev {
	struct xs_dev dev;
	uint8_t *mem;
	uint32_t nframes;
	uint32_t *free; /* stack of free buffer indices */
	uint32_t nfree;
	uint32_t *txq; /* submitted, written at flush: index and length */
	uint32_t *txlen;
	uint32_t ntx;
	uint32_t rx_borrowed, tx_borrowed;
	uint64_t tx_dropped; /* the kernel's queue was full (EAGAIN) */
};

static struct tap_dev *to_tap(const struct xs_dev *d)
{
	return (struct tap_dev *)d->priv;
}

static uint8_t *buf_of(struct tap_dev *t, uint32_t idx)
{
	return t->mem + (size_t)idx * TAP_FRAME_SIZE;
}

/* One read(2) per frame, while buffers and frames last. */
static int tap_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	struct tap_dev *t = to_tap(d);
	int n = 0;

	while (n < max && t->nfree) {
		uint32_t idx = t->free[t->nfree - 1];
		ssize_t r = read(d->fd, buf_of(t, idx), TAP_FRAME_SIZE);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return n ? n : -errno;
		}
		if (r < 14)
			continue; /* not Ethernet; the buffer stays free */
		t->nfree--;
		f[n].data = buf_of(t, idx);
		f[n].len = (uint32_t)r;
		f[n].cap = TAP_FRAME_SIZE;
		f[n].handle = idx;
		t->rx_borrowed++;
		n++;
	}
	return n;
}

static void tap_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	struct tap_dev *t = to_tap(d);
	int i;

	for (i = 0; i < n; i++) {
		t->free[t->nfree++] = (uint32_t)f[i].handle;
		t->rx_borrowed--;
	}
}

static int tap_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	struct tap_dev *t = to_tap(d);
	uint32_t idx;

	if (!t->nfree)
		return -ENOBUFS;
	idx = t->free[--t->nfree];
	f->data = buf_of(t, idx);
	f->len = 0;
	f->cap = TAP_FRAME_SIZE;
	f->handle = idx;
	t->tx_borrowed++;
	return 0;
}

static void tap_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct tap_dev *t = to_tap(d);

	t->tx_borrowed--;
	t->txq[t->ntx] = (uint32_t)f->handle;
	t->txlen[t->ntx++] = len;
}

static void tap_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	struct tap_dev *t = to_tap(d);

	t->tx_borrowed--;
	t->free[t->nfree++] = (uint32_t)f->handle;
}

/* One write(2) per frame; a full kernel queue drops it, as a NIC ring would. */
static int tap_flush(struct xs_dev *d)
{
	struct tap_dev *t = to_tap(d);
	uint32_t i;
	int err = 0;

	for (i = 0; i < t->ntx; i++) {
		if (write(d->fd, buf_of(t, t->txq[i]), t->txlen[i]) < 0) {
			t->tx_dropped++;
			if (errno != EAGAIN && errno != EINTR && errno != EIO)
				err = -errno;
		}
		t->free[t->nfree++] = t->txq[i];
	}
	t->ntx = 0;
	return err;
}

static void tap_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct tap_dev *t = to_tap(d);

	memset(out, 0, sizeof(*out));
	out->total = t->nframes;
	out->free = t->nfree;
	out->rx_borrowed = t->rx_borrowed;
	out->tx_borrowed = t->tx_borrowed;
	out->tx_queued = t->ntx;
}

static void tap_destroy(struct xs_dev *d)
{
	struct tap_dev *t = to_tap(d);

	if (d->fd >= 0)
		close(d->fd);
	free(t->mem);
	free(t->free);
	free(t->txq);
	free(t->txlen);
	free(t);
}

static const struct xs_dev_ops tap_ops = {
	.rx_burst = tap_rx_burst,
	.rx_release = tap_rx_release,
	.tx_alloc = tap_tx_alloc,
	.tx_submit = tap_tx_submit,
	.tx_abort = tap_tx_abort,
	.flush = tap_flush,
	.frames = tap_frames,
	.destroy = tap_destroy,
};

/* Sets the kernel side up with our MTU (the kernel's own MAC stays its own). */
static int tap_if_up(const char *name, uint16_t mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		err = -errno;
	if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

struct xs_dev *xs_tap_dev_new(const char *ifname, const uint8_t *mac, uint16_t mtu,
			      uint32_t nframes, char *out_name, char *err, size_t errlen)
{
	struct tap_dev *t;
	struct ifreq ifr;
	int e;
	uint32_t i;

	if (mtu && (mtu < 68 || mtu > TAP_FRAME_SIZE - 18)) {
		snprintf(err, errlen, "tap: MTU %u out of range 68-%u", mtu, TAP_FRAME_SIZE - 18);
		errno = EINVAL;
		return NULL;
	}
	if (ifname && strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap: interface name '%s' longer than %d", ifname,
			 IFNAMSIZ - 1);
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto err_nomem;
	t->dev.fd = -1;
	t->dev.priv = t;
	t->nframes = nframes ? nframes : 256;
	t->mem = calloc(t->nframes, TAP_FRAME_SIZE);
	t->free = calloc(t->nframes, sizeof(*t->free));
	t->txq = calloc(t->nframes, sizeof(*t->txq));
	t->txlen = calloc(t->nframes, sizeof(*t->txlen));
	if (!t->mem || !t->free || !t->txq || !t->txlen)
		goto err_free;
	for (i = 0; i < t->nframes; i++)
		t->free[i] = t->nframes - 1 - i;
	t->nfree = t->nframes;
	t->dev.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->dev.fd < 0) {
		e = errno;
		snprintf(err, errlen,
			 "cannot open /dev/net/tun: %s (needs the tun module and "
			 "CAP_NET_ADMIN)",
			 strerror(e));
		goto err_errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ifname)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(t->dev.fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create tap '%s': %s", ifname ? ifname : "",
			 strerror(e));
		goto err_errno;
	}
	t->dev.mtu = mtu ? mtu : 1500;
	e = -tap_if_up(ifr.ifr_name, t->dev.mtu);
	if (e) {
		snprintf(err, errlen, "cannot bring tap '%s' up: %s", ifr.ifr_name, strerror(e));
		goto err_errno;
	}
	if (mac) {
		memcpy(t->dev.mac, mac, 6);
	} else {
		if (getrandom(t->dev.mac, 6, 0) != 6)
			memset(t->dev.mac, 0x5a, 6);
		t->dev.mac[0] = (uint8_t)((t->dev.mac[0] & 0xfe) | 0x02); /* local, unicast */
	}
	if (out_name)
		snprintf(out_name, IFNAMSIZ, "%s", ifr.ifr_name);
	t->dev.ops = &tap_ops;
	return &t->dev;

err_free:
	tap_destroy(&t->dev);
err_nomem:
	snprintf(err, errlen, "tap: out of memory");
	errno = ENOMEM;
	return NULL;
err_errno:
	tap_destroy(&t->dev);
	errno = e;
	return NULL;
}

uint64_t xs_tap_dev_tx_dropped(const struct xs_dev *d)
{
	return to_tap(d)->tx_dropped;
}
