/* AF_XDP device: one socket on one NIC queue with its own UMEM and rings, lending
 * its frames to the stack; the steering program is afxdp_prog.c's, shared by queue. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "bpf/steer.h"
#include "dev/afxdp_prog.h"
#include "dev/dev.h"

/* 2048-byte frames: a 1500-byte MTU frame fits with the kernel's 256-byte
 * XDP headroom (1792 bytes usable for rx), two frames share a page, and the
 * same frame count needs half the locked memory of 4096-byte frames. Links
 * with a larger MTU are clamped to what one frame holds (dev->mtu). */
#define AFXDP_FRAME_SIZE 2048u
#define AFXDP_RX_ROOM (AFXDP_FRAME_SIZE - XDP_PACKET_HEADROOM)
#define AFXDP_ETH_HLEN 14u
#define AFXDP_MIN_RING 2048u /* XSK_RING_{CONS,PROD}__DEFAULT_NUM_DESCS */
#define AFXDP_DEFAULT_FRAMES 4096u
#define AFXDP_MIN_FRAMES 8u
#define AFXDP_MAX_FRAMES (1u << 20)
#define AFXDP_DRAIN_MS 100 /* destroy waits for completions */
#define AFXDP_KICK_MAX 128 /* sendto rounds per flush (copy mode before 6.17: 32 frames each) */
#define AFXDP_TX_BUDGET 256 /* frames one copy-mode sendto may send (XDP_MAX_TX_SKB_BUDGET) */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* linux/if_xdp.h since 6.17 */
#endif

/* Where each UMEM frame is; exactly one at a time. */
enum afxdp_fstate {
	FS_FREE = 0, /* on the free list, for tx_alloc */
	FS_FILL,     /* on the fill ring, or filled and on the rx ring */
	FS_RX,	     /* lent to the stack by rx_burst */
	FS_TX,	     /* lent to the stack by tx_alloc */
	FS_QUEUED,   /* submitted, waiting for flush */
	FS_FLIGHT,   /* on the tx ring / in the kernel, completion pending */
};

struct afxdp {
	struct xs_dev dev;
	char ifname[IF_NAMESIZE];
	uint32_t queue;

	struct afxdp_prog *prog; /* the interface's program, one reference */
	bool in_xskmap;
	bool zerocopy; /* bound XDP_ZEROCOPY (else copy mode) */
	int zc_err;    /* auto: why zero-copy was refused (-errno), 0 if not tried */

	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint8_t *area;
	size_t area_size;

	uint32_t nframes;
	uint8_t *state;	     /* enum afxdp_fstate, by frame index */
	uint64_t *free_list; /* stack of frame addresses */
	uint32_t nfree;
	struct xdp_desc *txq; /* submitted, not yet on the tx ring */
	uint32_t ntxq;
	uint32_t nfill;
	uint32_t nrx;
	uint32_t ntx;
	uint32_t nflight;
	uint32_t misuse; /* frames handed back in the wrong state (ignored) */
	int napi_id;	 /* busy polling: the NAPI the kernel runs for us (0: none, -1: unknown) */
};

#define AFXDP_BUSY_RETRIES 20 /* x 50 ms: a just-closed socket releasing its queue */

static const struct xs_dev_ops afxdp_ops;
static void socket_close(struct afxdp *a);

#define errf afxdp_errf

static inline uint32_t frame_idx(uint64_t addr)
{
	return (uint32_t)(addr / AFXDP_FRAME_SIZE);
}

static inline uint64_t frame_base(uint64_t addr)
{
	return addr - addr % AFXDP_FRAME_SIZE;
}

static inline bool frame_in(const struct afxdp *a, uint64_t addr, enum afxdp_fstate st)
{
	return addr < a->area_size && a->state[frame_idx(addr)] == st;
}

static uint32_t roundup_pow2(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static void kick_fill(struct afxdp *a)
{
	if (xsk_ring_prod__needs_wakeup(&a->fq))
		recvfrom(a->dev.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* 0 when the kernel took what it could, -EAGAIN when it stopped at its batch
 * limit with more to send, other -errno on a real error. */
static int kick_tx(struct afxdp *a)
{
	if (sendto(a->dev.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	switch (errno) {
	case EAGAIN:
		return -EAGAIN;
	case EBUSY:
	case ENOBUFS:
	case EINTR:
		return 0; /* try again at the next flush */
	default:
		return -errno;
	}
}

/* Descriptors on the tx ring the kernel has not consumed yet. */
static uint32_t tx_unconsumed(struct afxdp *a)
{
	return a->tx.size - xsk_prod_nb_free(&a->tx, a->tx.size);
}

static uint32_t drain_completions(struct afxdp *a)
{
	uint32_t idx = 0, n, i;

	n = xsk_ring_cons__peek(&a->cq, a->cq.size, &idx);
	for (i = 0; i < n; i++) {
		uint64_t addr = frame_base(*xsk_ring_cons__comp_addr(&a->cq, idx + i));

		if (!frame_in(a, addr, FS_FLIGHT)) {
			a->misuse++;
			continue;
		}
		a->state[frame_idx(addr)] = FS_FREE;
		a->free_list[a->nfree++] = addr;
		a->nflight--;
	}
	if (n)
		xsk_ring_cons__release(&a->cq, n);
	return n;
}

/* Post n frame addresses to the fill ring in one reserve/submit. */
static void post_fill(struct afxdp *a, const uint64_t *addrs, uint32_t n)
{
	uint32_t idx = 0, i;

	if (!n)
		return;
	if (xsk_ring_prod__reserve(&a->fq, n, &idx) != n) {
		/* Cannot happen (the ring holds every rx frame); keep them home. */
		for (i = 0; i < n; i++) {
			a->state[frame_idx(addrs[i])] = FS_FREE;
			a->free_list[a->nfree++] = frame_base(addrs[i]);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		*xsk_ring_prod__fill_addr(&a->fq, idx + i) = addrs[i];
		a->state[frame_idx(addrs[i])] = FS_FILL;
	}
	xsk_ring_prod__submit(&a->fq, n);
	a->nfill += n;
	kick_fill(a);
}

/* The NAPI instance the socket's frames came from (SO_INCOMING_NAPI_ID),
 * 0 when none the kernel can busy-poll. */
static int afxdp_napi_id(struct afxdp *a)
{
	unsigned int id = 0;
	socklen_t len = sizeof(id);

	if (getsockopt(a->dev.fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len))
		return 0;
	return (int)(id & 0x7fffffff);
}

static int afxdp_rx_burst(struct xs_dev *dev, struct xs_frame *frames, int max)
{
	struct afxdp *a = dev->priv;
	uint32_t idx = 0, n, i;

	if (max <= 0)
		return 0;
	n = xsk_ring_cons__peek(&a->rx, (uint32_t)max, &idx);
	if (!n) {
		/* With the kernel's busy polling, recvfrom runs the NAPI that
		 * feeds us whether need_wakeup asks for it or not. */
		if (a->napi_id > 0)
			recvfrom(a->dev.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		else
			kick_fill(a);
		return 0;
	}
	if (a->napi_id < 0)
		a->napi_id = afxdp_napi_id(a);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&a->rx, idx + i);

		frames[i].data = xsk_umem__get_data(a->area, d->addr);
		frames[i].len = d->len;
		frames[i].cap = d->len;
		frames[i].handle = d->addr;
		frames[i].meta = afxdp_filter_take_meta(frames[i].data);
		a->state[frame_idx(d->addr)] = FS_RX;
	}
	xsk_ring_cons__release(&a->rx, n);
	a->nfill -= n;
	a->nrx += n;
	return (int)n;
}

static void afxdp_rx_release(struct xs_dev *dev, const struct xs_frame *frames, int n)
{
	struct afxdp *a = dev->priv;
	uint64_t addrs[64];
	uint32_t k = 0;
	int i;

	for (i = 0; i < n; i++) {
		uint64_t addr = frames[i].handle;

		if (!frame_in(a, addr, FS_RX)) {
			a->misuse++;
			continue;
		}
		/* Mark now so a duplicate in the same batch is caught. */
		a->state[frame_idx(addr)] = FS_FILL;
		a->nrx--;
		addrs[k++] = addr;
		if (k == sizeof(addrs) / sizeof(addrs[0])) {
			post_fill(a, addrs, k);
			k = 0;
		}
	}
	post_fill(a, addrs, k);
}

static int afxdp_tx_alloc(struct xs_dev *dev, struct xs_frame *f)
{
	struct afxdp *a = dev->priv;
	uint64_t addr;

	if (!a->nfree)
		drain_completions(a);
	if (!a->nfree)
		return -ENOBUFS;
	addr = a->free_list[--a->nfree];
	a->state[frame_idx(addr)] = FS_TX;
	a->ntx++;
	f->data = xsk_umem__get_data(a->area, addr);
	f->len = 0;
	f->cap = AFXDP_FRAME_SIZE;
	f->handle = addr;
	return 0;
}

static void afxdp_tx_abort(struct xs_dev *dev, const struct xs_frame *f)
{
	struct afxdp *a = dev->priv;

	if (!frame_in(a, f->handle, FS_TX) || f->handle % AFXDP_FRAME_SIZE) {
		a->misuse++;
		return;
	}
	a->state[frame_idx(f->handle)] = FS_FREE;
	a->free_list[a->nfree++] = f->handle;
	a->ntx--;
}

static void afxdp_tx_submit(struct xs_dev *dev, const struct xs_frame *f, uint32_t len)
{
	struct afxdp *a = dev->priv;
	struct xdp_desc *d;

	if (!frame_in(a, f->handle, FS_TX) || f->handle % AFXDP_FRAME_SIZE) {
		a->misuse++;
		return;
	}
	if (len == 0 || len > AFXDP_FRAME_SIZE) {
		a->misuse++; /* a caller bug: the frame goes home unsent */
		afxdp_tx_abort(dev, f);
		return;
	}
	a->state[frame_idx(f->handle)] = FS_QUEUED;
	a->ntx--;
	d = &a->txq[a->ntxq++];
	d->addr = f->handle;
	d->len = len;
	d->options = 0;
}

/* Move queued frames onto the tx ring. The ring holds every tx frame, so
 * the reserve only fails if the kernel is behind; then they wait. */
static void push_tx(struct afxdp *a)
{
	uint32_t idx = 0, i;

	if (!a->ntxq || xsk_ring_prod__reserve(&a->tx, a->ntxq, &idx) != a->ntxq)
		return;
	for (i = 0; i < a->ntxq; i++) {
		*xsk_ring_prod__tx_desc(&a->tx, idx + i) = a->txq[i];
		a->state[frame_idx(a->txq[i].addr)] = FS_FLIGHT;
	}
	xsk_ring_prod__submit(&a->tx, a->ntxq);
	a->nflight += a->ntxq;
	a->ntxq = 0;
}

static int afxdp_flush(struct xs_dev *dev)
{
	struct afxdp *a = dev->priv;
	uint32_t left, prev;
	int err = 0, i;

	push_tx(a);
	/* In copy mode the kernel sends at most a small batch per sendto and
	 * says EAGAIN when more is left: kick again while it makes progress. */
	left = tx_unconsumed(a);
	for (i = 0; left && xsk_ring_prod__needs_wakeup(&a->tx) && i < AFXDP_KICK_MAX; i++) {
		err = kick_tx(a);
		if (err != -EAGAIN)
			break;
		prev = left;
		left = tx_unconsumed(a);
		if (left >= prev)
			break;
	}
	drain_completions(a);
	return err == -EAGAIN ? 0 : err;
}

static void afxdp_frames(const struct xs_dev *dev, struct xs_dev_frames *out)
{
	const struct afxdp *a = dev->priv;

	out->total = a->nframes;
	out->free = a->nfree;
	out->fill = a->nfill;
	out->rx_borrowed = a->nrx;
	out->tx_borrowed = a->ntx;
	out->tx_queued = a->ntxq;
	out->in_flight = a->nflight;
	out->misuse = a->misuse;
}

/* Send what is queued and wait, about AFXDP_DRAIN_MS at most, for the
 * kernel to hand back what is in flight. */
static void drain_tx(struct afxdp *a)
{
	const struct timespec ms = {0, 1000 * 1000};
	int i;

	afxdp_flush(&a->dev);
	for (i = 0; i < AFXDP_DRAIN_MS && (a->nflight || a->ntxq); i++) {
		nanosleep(&ms, NULL);
		afxdp_flush(&a->dev);
	}
}

/* Tears down in reverse order of creation; safe on a half-built device. */
static void afxdp_teardown(struct afxdp *a)
{
	if (a->in_xskmap)
		afxdp_prog_del_xsk(a->prog, a->queue);
	socket_close(a);
	afxdp_prog_put(a->prog); /* the last device stops steering and detaches */
	free(a->state);
	free(a->free_list);
	free(a->txq);
	free(a);
}

static void afxdp_destroy(struct xs_dev *dev)
{
	struct afxdp *a = dev->priv;

	/* Whether every frame came home is the owner's check, before this
	 * (frames op, dev_frames_lost: the daemon reports it and exits 3);
	 * a library does not abort its host. Frames the kernel still holds
	 * after the bounded wait (queued or in flight) go with the socket. */
	drain_tx(a);
	afxdp_teardown(a);
}

static const struct xs_dev_ops afxdp_ops = {
    .rx_burst = afxdp_rx_burst,
    .rx_release = afxdp_rx_release,
    .tx_alloc = afxdp_tx_alloc,
    .tx_submit = afxdp_tx_submit,
    .tx_abort = afxdp_tx_abort,
    .flush = afxdp_flush,
    .frames = afxdp_frames,
    .destroy = afxdp_destroy,
};

/* ---- setup: interface ---- */

static int query_iface(struct afxdp *a, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, ret = 0;
	uint32_t room = AFXDP_RX_ROOM - AFXDP_ETH_HLEN;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		errf(err, errlen, "cannot query interface %s (%s)", a->ifname, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, a->ifname, sizeof(a->ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		ret = -errno;
		errf(err, errlen, "cannot read the MAC address of %s (%s)", a->ifname,
		     strerror(-ret));
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		ret = -EPROTONOSUPPORT;
		errf(err, errlen, "%s is not an Ethernet interface; xdpstack needs one", a->ifname);
		goto out;
	}
	memcpy(a->dev.mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		errf(err, errlen, "cannot read the MTU of %s (%s)", a->ifname, strerror(-ret));
		goto out;
	}
	/* A frame must fit one UMEM frame after the XDP headroom. */
	a->dev.mtu = (uint16_t)((uint32_t)ifr.ifr_mtu < room ? (uint32_t)ifr.ifr_mtu : room);
out:
	close(fd);
	return ret;
}

/* ---- setup: UMEM and socket ---- */

/* The driver's name (ETHTOOL_GDRVINFO) into buf, "?" when it has none. */
static void driver_name(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(buf, len, "?");
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && di.driver[0])
		snprintf(buf, len, "%.32s", di.driver);
	close(fd);
}

/* Socket, UMEM and area, in reverse order of socket_open; safe when half made. */
static void socket_close(struct afxdp *a)
{
	if (a->xsk)
		xsk_socket__delete(a->xsk);
	if (a->umem)
		xsk_umem__delete(a->umem);
	if (a->area)
		munmap(a->area, a->area_size);
	a->xsk = NULL;
	a->umem = NULL;
	a->area = NULL;
	a->dev.fd = -1;
}

/* UMEM area, its registration and the socket bound with bind_flags. A
 * failed bind leaves the UMEM half used by libxdp: the caller closes all
 * (socket_close) before trying other flags. */
static int socket_open(struct afxdp *a, uint16_t bind_flags, char *err, size_t errlen)
{
	uint32_t nrx = a->nframes / 2, ntx = a->nframes - nrx, i;
	struct xsk_umem_config ucfg = {
	    .fill_size = roundup_pow2(nrx > AFXDP_MIN_RING ? nrx : AFXDP_MIN_RING),
	    .comp_size = roundup_pow2(ntx > AFXDP_MIN_RING ? ntx : AFXDP_MIN_RING),
	    .frame_size = AFXDP_FRAME_SIZE,
	    .frame_headroom = 0,
	    .flags = 0,
	};
	struct xsk_socket_config scfg = {
	    .rx_size = ucfg.fill_size,
	    .tx_size = ucfg.comp_size,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .xdp_flags = 0,
	    .bind_flags = (uint16_t)(XDP_USE_NEED_WAKEUP | bind_flags),
	};
	int ret;

	a->area_size = (size_t)a->nframes * AFXDP_FRAME_SIZE;
	a->area = mmap(NULL, a->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a->area == MAP_FAILED) {
		a->area = NULL;
		ret = -errno;
		errf(err, errlen, "cannot allocate %zu bytes of UMEM (%s); lower the frame count",
		     a->area_size, strerror(-ret));
		return ret;
	}
	ret = xsk_umem__create(&a->umem, a->area, a->area_size, &a->fq, &a->cq, &ucfg);
	if (ret) {
		a->umem = NULL;
		if (ret == -EPERM || ret == -EACCES)
			errf(err, errlen, "AF_XDP socket not permitted (%s); run as root",
			     strerror(-ret));
		else if (ret == -ENOMEM || ret == -ENOBUFS)
			errf(err, errlen,
			     "UMEM registration of %zu bytes refused (%s); raise the locked-memory "
			     "limit (ulimit -l) or lower the frame count",
			     a->area_size, strerror(-ret));
		else if (ret == -EAFNOSUPPORT)
			errf(err, errlen,
			     "this kernel has no AF_XDP sockets (%s); it needs CONFIG_XDP_SOCKETS",
			     strerror(-ret));
		else
			errf(err, errlen, "AF_XDP UMEM registration failed (%s)", strerror(-ret));
		return ret;
	}
	/* A socket closed just before (a restart of xdpstack) is released by
	 * the kernel asynchronously and holds the queue for a moment: EBUSY
	 * is retried for up to a second before it counts as "in use". */
	for (i = 0; i < AFXDP_BUSY_RETRIES; i++) {
		const struct timespec pause = {0, 50 * 1000 * 1000};

		ret = xsk_socket__create(&a->xsk, a->ifname, a->queue, a->umem, &a->rx, &a->tx,
					 &scfg);
		if (ret != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	if (ret) {
		a->xsk = NULL;
		errf(err, errlen, "AF_XDP bind refused on %s queue %u (%s)%s", a->ifname, a->queue,
		     strerror(-ret),
		     ret == -EINVAL  ? "; check the queue exists ('ethtool -l' lists them)"
		     : ret == -EBUSY ? "; another AF_XDP socket uses that queue"
		     : ret == -EPERM ? "; run as root"
				     : "");
		return ret;
	}
	a->dev.fd = xsk_socket__fd(a->xsk);
	/* Copy mode sends 32 frames per sendto unless told otherwise (Linux
	 * 6.17's XDP_MAX_TX_SKB_BUDGET, up to the tx ring's size): one kick
	 * per flush of up to AFXDP_TX_BUDGET frames instead of one per 32.
	 * Not the whole ring: on veth one sendto also runs the receiver's
	 * processing of every frame it sends, so the budget bounds how long a
	 * kick keeps the loop from its rx ring. Older kernels refuse it
	 * (ENOPROTOOPT) and the flush kicks again while the kernel says
	 * EAGAIN, as before. Zero-copy drivers have no such budget. */
	if (!(bind_flags & XDP_ZEROCOPY)) {
		unsigned int budget = scfg.tx_size < AFXDP_TX_BUDGET ? scfg.tx_size : AFXDP_TX_BUDGET;

		setsockopt(a->dev.fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget));
	}
	return 0;
}

/* Zero-copy (XDP_ZEROCOPY: the NIC DMAs into the UMEM) where the driver has
 * it, copy mode (the kernel copies each frame) where not: auto tries
 * zero-copy in native mode and falls back, keeping why in zc_err. */
static int bind_socket(struct afxdp *a, enum xs_xdp_bind want, char *err, size_t errlen)
{
	char drv[40];
	int ret;

	if (want == XS_XDP_BIND_COPY ||
	    (want == XS_XDP_BIND_AUTO && a->prog->mode != XDP_MODE_NATIVE)) {
		if (want == XS_XDP_BIND_AUTO)
			a->zc_err = -EOPNOTSUPP; /* generic XDP copies whatever the driver */
		return socket_open(a, XDP_COPY, err, errlen);
	}
	ret = socket_open(a, XDP_ZEROCOPY, err, errlen);
	if (!ret) {
		a->zerocopy = true;
		return 0;
	}
	socket_close(a);
	driver_name(a->ifname, drv, sizeof(drv));
	if (want == XS_XDP_BIND_ZEROCOPY) {
		errf(err, errlen, "AF_XDP zero-copy bind refused on %s queue %u (%s; driver %s)%s",
		     a->ifname, a->queue, strerror(-ret), drv,
		     a->prog->mode != XDP_MODE_NATIVE
			 ? ": zero-copy needs native XDP (--mode native)"
			 : ": the driver lacks it; use --xdp-mode copy or auto");
		return ret;
	}
	if (ret == -EBUSY || ret == -EPERM || ret == -EACCES || ret == -ENOMEM || ret == -ENOBUFS)
		return ret; /* not about zero-copy: copy mode would fail the same way */
	a->zc_err = ret;
	return socket_open(a, XDP_COPY, err, errlen);
}

static int create_socket(struct afxdp *a, enum xs_xdp_bind want, char *err, size_t errlen)
{
	uint32_t nrx = a->nframes / 2, ntx = a->nframes - nrx, i;
	int ret;

	ret = bind_socket(a, want, err, errlen);
	if (ret)
		return ret;
	/* Half the frames wait on the fill ring for rx, half on the free list. */
	for (i = 0; i < ntx; i++) {
		a->free_list[a->nfree++] = (uint64_t)(nrx + i) * AFXDP_FRAME_SIZE;
		a->state[nrx + i] = FS_FREE;
	}
	for (i = 0; i < nrx; i++)
		a->free_list[a->nfree + i] = (uint64_t)i * AFXDP_FRAME_SIZE;
	post_fill(a, &a->free_list[a->nfree], nrx);
	if (a->nfill != nrx) {
		errf(err, errlen, "AF_XDP fill ring on %s refused %u frames", a->ifname, nrx);
		return -ENOSPC;
	}

	ret = xsk_socket__update_xskmap(a->xsk, a->prog->xsks_fd);
	if (ret) {
		errf(err, errlen,
		     "cannot add the AF_XDP socket of %s queue %u to the XDP program (%s)",
		     a->ifname, a->queue, strerror(-ret));
		return ret;
	}
	a->in_xskmap = true;
	return 0;
}

/* ---- public ---- */

static struct afxdp *afxdp_of(struct xs_dev *dev)
{
	return dev && dev->ops == &afxdp_ops ? dev->priv : NULL;
}

struct xs_dev *xs_afxdp_dev_new(const struct xs_afxdp_config *cfg, char *err, size_t errlen)
{
	struct afxdp *a = NULL, *share = NULL;
	unsigned int ifindex;
	size_t nlen;
	int ret;

	errf(err, errlen, "unknown error");
	if (!cfg || !cfg->ifname) {
		errf(err, errlen, "no interface given");
		errno = EINVAL;
		return NULL;
	}
	nlen = strlen(cfg->ifname);
	ifindex = nlen < IF_NAMESIZE ? if_nametoindex(cfg->ifname) : 0;
	if (!ifindex) {
		errf(err, errlen, "no such interface '%s'", cfg->ifname);
		errno = ENODEV;
		return NULL;
	}
	if (cfg->queue >= XS_STEER_MAX_QUEUES) {
		errf(err, errlen, "queue %u out of range on %s; xdpstack serves queues 0..%u",
		     cfg->queue, cfg->ifname, XS_STEER_MAX_QUEUES - 1);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->nframes && (cfg->nframes < AFXDP_MIN_FRAMES || cfg->nframes > AFXDP_MAX_FRAMES)) {
		errf(err, errlen, "UMEM frame count %u out of range (%u..%u)", cfg->nframes,
		     AFXDP_MIN_FRAMES, AFXDP_MAX_FRAMES);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->share) {
		share = afxdp_of(cfg->share);
		if (!share || share->dev.ifindex != ifindex || share->queue == cfg->queue) {
			errf(err, errlen,
			     "cannot share the XDP program of another device: not an "
			     "AF_XDP device on %s, or the same queue",
			     cfg->ifname);
			errno = EINVAL;
			return NULL;
		}
	}

	a = calloc(1, sizeof(*a));
	if (!a)
		goto err_nomem;
	a->dev.ops = &afxdp_ops;
	a->dev.priv = a;
	a->dev.fd = -1;
	a->dev.ifindex = ifindex;
	memcpy(a->ifname, cfg->ifname, nlen + 1);
	a->queue = cfg->queue;
	a->nframes = cfg->nframes ? cfg->nframes : AFXDP_DEFAULT_FRAMES;
	a->state = calloc(a->nframes, sizeof(*a->state));
	a->free_list = calloc(a->nframes, sizeof(*a->free_list));
	a->txq = calloc(a->nframes, sizeof(*a->txq));
	if (!a->state || !a->free_list || !a->txq)
		goto err_nomem;

	ret = query_iface(a, err, errlen);
	if (ret)
		goto err;
	if (share) {
		a->prog = share->prog;
		afxdp_prog_get(a->prog);
	} else {
		a->prog = afxdp_prog_open(a->ifname, ifindex, cfg->mode, cfg->verbose, cfg->log,
					  cfg->log_arg, err, errlen);
		if (!a->prog) {
			ret = -errno;
			goto err;
		}
	}
	ret = create_socket(a, cfg->bind, err, errlen);
	if (ret)
		goto err;

	/* Steering starts only now that a socket is there to take the frames
	 * (a device sharing the program leaves the config as its owner set it). */
	if (!share) {
		a->prog->cfg.ip4 = htonl(cfg->ip);
		a->prog->cfg.owner_pid = (__u32)getpid();
		ret = afxdp_prog_write_cfg(a->prog);
		if (ret) {
			errf(err, errlen, "cannot configure the XDP program on %s (%s)", a->ifname,
			     strerror(-ret));
			goto err;
		}
	}
	errf(err, errlen, "%s", "");
	return &a->dev;

err_nomem:
	ret = -ENOMEM;
	errf(err, errlen, "out of memory setting up %s", cfg->ifname);
err:
	if (a)
		afxdp_teardown(a); /* no frame reached the stack: no accounting */
	errno = -ret;
	return NULL;
}

int xs_afxdp_bind_info(struct xs_dev *dev, int *zerocopy, int *zc_err)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a)
		return -EINVAL;
	if (zerocopy)
		*zerocopy = a->zerocopy;
	if (zc_err)
		*zc_err = a->zc_err;
	return 0;
}

static void sock_stats(struct afxdp *a, struct xs_xdp_counters *out)
{
	struct xdp_statistics xs = {0};
	socklen_t len = sizeof(xs);

	if (getsockopt(xsk_socket__fd(a->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len))
		return;
	out->sock_rx_dropped = xs.rx_dropped;
	out->sock_rx_ring_full = xs.rx_ring_full;
	out->sock_fill_empty = xs.rx_fill_ring_empty_descs;
	out->sock_rx_invalid = xs.rx_invalid_descs;
	out->sock_tx_invalid = xs.tx_invalid_descs;
}

int xs_afxdp_xdp_counters(struct xs_dev *dev, struct xs_xdp_counters *out)
{
	struct afxdp *a = afxdp_of(dev);
	int ret;

	if (!a || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ret = afxdp_prog_counters(a->prog, out);
	if (!ret)
		sock_stats(a, out); /* a kernel without XDP_STATISTICS leaves zeros */
	return ret;
}

int xs_afxdp_set_busy_poll(struct xs_dev *dev, uint32_t usecs, uint32_t budget)
{
	int one = 1, us = (int)usecs, b = (int)budget;
	struct afxdp *a = afxdp_of(dev);

	if (!a || !usecs || usecs > INT32_MAX || !budget || budget > UINT16_MAX)
		return -EINVAL;
	if (setsockopt(dev->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(dev->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(dev->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &b, sizeof(b)))
		return -errno;
	a->napi_id = -1; /* learnt from the first frame */
	return 0;
}

int xs_afxdp_napi_id(struct xs_dev *dev)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a)
		return -EINVAL;
	return a->napi_id > 0 ? a->napi_id : 0;
}

int xs_afxdp_set_ip(struct xs_dev *dev, uint32_t ip)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a)
		return -EINVAL;
	a->prog->cfg.ip4 = htonl(ip);
	return afxdp_prog_write_cfg(a->prog);
}

int xs_afxdp_set_dhcp(struct xs_dev *dev, int on)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a)
		return -EINVAL;
	memcpy(a->prog->cfg.mac, dev->mac, sizeof(a->prog->cfg.mac));
	if (on)
		a->prog->cfg.flags |= XS_STEER_F_DHCP;
	else
		a->prog->cfg.flags &= ~XS_STEER_F_DHCP;
	return afxdp_prog_write_cfg(a->prog);
}

int xs_afxdp_set_ip6(struct xs_dev *dev, const uint8_t (*addrs)[16], unsigned n, int want_ra)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a || n > XS_STEER_MAX_ADDR6 || (n && !addrs))
		return -EINVAL;
	memset(&a->prog->cfg6, 0, sizeof(a->prog->cfg6));
	a->prog->cfg6.naddr = n;
	a->prog->cfg6.flags = want_ra ? XS_STEER6_F_RA : 0;
	if (n)
		memcpy(a->prog->cfg6.addr, addrs, (size_t)n * 16);
	return afxdp_prog_write_cfg6(a->prog);
}

int xs_afxdp_filter_set(struct xs_dev *dev, const struct xs_steer_table *t)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a || !t)
		return -EINVAL;
	return afxdp_filter_set(&a->prog->filter, t);
}

int xs_afxdp_filter_harvest(struct xs_dev *dev, struct xs_steer_table *t,
			    struct xs_steer_rule_cnt *delta)
{
	struct afxdp *a = afxdp_of(dev);

	if (!a || !t || !delta)
		return -EINVAL;
	return afxdp_filter_harvest(&a->prog->filter, t, delta);
}
