/* AF_XDP device: attaches the XDP steering program to an interface, owns the
 * UMEM and one socket on one queue, and lends its frames to the stack. */
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "bpf/steer.h"
#include "dev/afxdp_filter.h"
#include "dev/dev.h"
#include "xdp_steer.skel.h"

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
#define AFXDP_KICK_MAX 128 /* sendto rounds per flush (copy mode: 32 frames each) */
#define AFXDP_PROG_NAME "xs_steer"
#define AFXDP_PROG_SEC "xdp"
#define AFXDP_MAX_MAP_IDS 8

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

	void (*log)(void *arg, int prio, const char *line); /* NULL: silent */
	void *log_arg;

	struct bpf_object *obj;
	struct xdp_program *prog;
	enum xdp_attach_mode mode;
	bool attached;
	int cfg_fd;
	int cfg6_fd;
	int xsks_fd;
	int stats_fd;
	struct afxdp_filter filter; /* the program's filter tables */
	bool in_xskmap;
	struct xs_steer_cfg cfg;

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
	int napi_id; /* busy polling: the NAPI the kernel runs for us (0: none, -1: unknown) */
};

#define AFXDP_BUSY_RETRIES 20 /* x 50 ms: a just-closed socket releasing its queue */

static const struct xs_dev_ops afxdp_ops;

static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The library never prints: its messages go to the caller's log callback,
 * if any (syslog priorities, one line each). */
static void __attribute__((format(printf, 3, 4)))
afxdp_log(const struct afxdp *a, int prio, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->log(a->log_arg, prio, line);
}

static int print_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int xdp_print_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_NATIVE ? "native" : mode == XDP_MODE_SKB ? "generic" : "offload";
}

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
	uint32_t q = a->queue;

	if (a->cfg_fd >= 0 && a->attached) {
		struct xs_steer_cfg off = {0};
		__u32 key = 0;

		bpf_map_update_elem(a->cfg_fd, &key, &off, BPF_ANY);
	}
	if (a->cfg6_fd >= 0 && a->attached) {
		struct xs_steer_cfg6 off6 = {0};
		__u32 key = 0;

		bpf_map_update_elem(a->cfg6_fd, &key, &off6, BPF_ANY);
	}
	if (a->in_xskmap)
		bpf_map_delete_elem(a->xsks_fd, &q);
	if (a->xsk)
		xsk_socket__delete(a->xsk);
	if (a->umem)
		xsk_umem__delete(a->umem);
	if (a->area)
		munmap(a->area, a->area_size);
	if (a->attached)
		xdp_program__detach(a->prog, (int)a->dev.ifindex, a->mode, 0);
	xdp_program__close(a->prog);
	bpf_object__close(a->obj);
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

/* ---- setup: leftover programs ---- */

/* Does process pid hold an fd on BPF program prog_id? */
static bool pid_holds_prog(pid_t pid, uint32_t prog_id)
{
	char path[64], line[128], want[32];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	snprintf(want, sizeof(want), "prog_id:\t%u\n", prog_id);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char fpath[320];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		f = fopen(fpath, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strcmp(line, want)) {
				found = true;
				break;
			}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* The pid of the running xdpstack that owns an attached xs_steer program,
 * or 0 if its owner is gone (a leftover). The owner wrote its pid into the
 * program's xs_cfg map and keeps the program open while it runs. */
static pid_t steer_owner(uint32_t prog_id)
{
	__u32 map_ids[AFXDP_MAX_MAP_IDS], i, key = 0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	pid_t owner = 0;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = AFXDP_MAX_MAP_IDS;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	for (i = 0; i < info.nr_map_ids && i < AFXDP_MAX_MAP_IDS && !owner; i++) {
		struct bpf_map_info minfo;
		__u32 mlen = sizeof(minfo);
		struct xs_steer_cfg cfg;
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);

		if (mfd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		memset(&cfg, 0, sizeof(cfg));
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) && !strcmp(minfo.name, "xs_cfg") &&
		    minfo.value_size == sizeof(cfg) && !bpf_map_lookup_elem(mfd, &key, &cfg))
			owner = (pid_t)cfg.owner_pid;
		close(mfd);
	}
	if (owner && !pid_holds_prog(owner, prog_id))
		owner = 0;
out:
	close(fd);
	return owner;
}

/* Removes one xs_steer program left by a killed xdpstack. */
static int replace_leftover(struct afxdp *a, struct xdp_program *p, enum xdp_attach_mode mode,
			    char *err, size_t errlen)
{
	uint32_t id = xdp_program__id(p);
	pid_t owner = steer_owner(id);
	int ret;

	if (owner) {
		errf(err, errlen,
		     "%s already runs an xdpstack (pid %d, XDP program %s id %u); stop it first",
		     a->ifname, (int)owner, AFXDP_PROG_NAME, id);
		return -EBUSY;
	}
	ret = xdp_program__detach(p, (int)a->dev.ifindex, mode, 0);
	if (ret) {
		errf(err, errlen,
		     "cannot remove XDP program %s (id %u) left on %s by a previous xdpstack (%s); "
		     "remove it with 'xdp-loader unload %s --all'",
		     AFXDP_PROG_NAME, id, a->ifname, strerror(-ret), a->ifname);
		return ret;
	}
	afxdp_log(a, XS_LOG_NOTICE,
		  "replacing XDP program %s (id %u) left on %s by a previous xdpstack",
		  AFXDP_PROG_NAME, id, a->ifname);
	return 0;
}

/* Before attaching: replace our own leftovers, refuse foreign programs that
 * we cannot share the interface with (anything not behind a dispatcher). */
static int check_attached(struct afxdp *a, char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	enum xdp_attach_mode mode;
	long ret;

	mp = xdp_multiprog__get_from_ifindex((int)a->dev.ifindex);
	ret = libxdp_get_error(mp);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		errf(err, errlen, "cannot read the XDP programs attached to %s (%s)%s", a->ifname,
		     strerror((int)-ret), ret == -EPERM ? "; run as root" : "");
		return (int)ret;
	}
	mode = xdp_multiprog__attach_mode(mp);
	p = xdp_multiprog__main_prog(mp);
	if (!p)
		goto out; /* only an offloaded program: not in our way */
	if (xdp_multiprog__is_legacy(mp)) {
		const char *name = xdp_program__name(p);

		if (name && !strcmp(name, AFXDP_PROG_NAME)) {
			ret = replace_leftover(a, p, mode, err, errlen);
		} else {
			errf(err, errlen,
			     "XDP program %s (id %u) is already attached to %s in %s mode; remove "
			     "it first ('xdp-loader unload %s --all') or use another interface",
			     name ? name : "?", xdp_program__id(p), a->ifname, mode_name(mode),
			     a->ifname);
			ret = -EBUSY;
		}
		goto out;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !ret;
	     p = xdp_multiprog__next_prog(p, mp)) {
		const char *name = xdp_program__name(p);

		if (name && !strcmp(name, AFXDP_PROG_NAME))
			ret = replace_leftover(a, p, mode, err, errlen);
	}
out:
	xdp_multiprog__close(mp);
	return (int)ret;
}

/* ---- setup: program ---- */

static int attach_mode(struct afxdp *a, enum xdp_attach_mode mode)
{
	int ret = xdp_program__attach(a->prog, (int)a->dev.ifindex, mode, 0);

	if (!ret) {
		a->mode = mode;
		a->attached = true;
	}
	return ret;
}

static int load_and_attach(struct afxdp *a, enum xs_xdp_mode want, int verbose, char *err,
			   size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "xdp_steer");
	const void *bytes;
	size_t sz = 0;
	struct bpf_map *cfg, *xsks, *stats, *ftab, *fidx, *fcnt, *cfg6;
	int ret;

	bytes = xdp_steer__elf_bytes(&sz);
	a->obj = bpf_object__open_mem(bytes, sz, &opts);
	ret = (int)libbpf_get_error(a->obj);
	if (ret) {
		a->obj = NULL;
		errf(err, errlen, "cannot open the embedded XDP program (%s)", strerror(-ret));
		return ret;
	}
	cfg = bpf_object__find_map_by_name(a->obj, "xs_cfg");
	xsks = bpf_object__find_map_by_name(a->obj, "xs_xsks");
	stats = bpf_object__find_map_by_name(a->obj, "xs_stats");
	ftab = bpf_object__find_map_by_name(a->obj, "xs_ftab");
	fidx = bpf_object__find_map_by_name(a->obj, "xs_fidx");
	fcnt = bpf_object__find_map_by_name(a->obj, "xs_fcnt");
	cfg6 = bpf_object__find_map_by_name(a->obj, "xs_cfg6");
	if (!cfg || !xsks || !stats || !ftab || !fidx || !fcnt || !cfg6) {
		errf(err, errlen, "the embedded XDP program lacks its maps; rebuild xdpstack");
		return -ENOENT;
	}
	a->prog = xdp_program__from_bpf_obj(a->obj, AFXDP_PROG_SEC);
	ret = (int)libxdp_get_error(a->prog);
	if (ret) {
		a->prog = NULL;
		errf(err, errlen, "cannot find XDP program %s in the embedded object (%s)",
		     AFXDP_PROG_NAME, strerror(-ret));
		return ret;
	}

	ret = check_attached(a, err, errlen);
	if (ret)
		return ret;

	/* libxdp uses its dispatcher where the kernel and a mounted bpffs allow,
	 * and otherwise falls back to attaching this program alone. */
	switch (want) {
	case XS_XDP_MODE_NATIVE:
		ret = attach_mode(a, XDP_MODE_NATIVE);
		break;
	case XS_XDP_MODE_GENERIC:
		ret = attach_mode(a, XDP_MODE_SKB);
		break;
	default:
		ret = attach_mode(a, XDP_MODE_NATIVE);
		if (ret && ret != -EPERM && ret != -EACCES && ret != -EBUSY && ret != -EEXIST)
			ret = attach_mode(a, XDP_MODE_SKB);
		break;
	}
	if (ret) {
		const char *tried = want == XS_XDP_MODE_NATIVE	  ? "native"
				    : want == XS_XDP_MODE_GENERIC ? "generic"
								  : "native and generic";

		if (ret == -EPERM || ret == -EACCES)
			errf(err, errlen, "XDP attach on %s not permitted (%s); run as root",
			     a->ifname, strerror(-ret));
		else if (ret == -EBUSY || ret == -EEXIST)
			errf(err, errlen,
			     "XDP attach refused on %s: another XDP program is attached (%s); "
			     "remove it with 'xdp-loader unload %s --all'",
			     a->ifname, strerror(-ret), a->ifname);
		else if (want == XS_XDP_MODE_NATIVE)
			errf(err, errlen,
			     "XDP attach refused on %s in %s mode (%s); try --mode generic",
			     a->ifname, tried, strerror(-ret));
		else
			errf(err, errlen, "XDP attach refused on %s in %s mode (%s)%s", a->ifname,
			     tried, strerror(-ret),
			     verbose ? "" : "; run with --verbose for the loader's log");
		return ret;
	}
	/* Loaded now (alone or as a dispatcher extension): the maps exist. */
	a->cfg_fd = bpf_map__fd(cfg);
	a->cfg6_fd = bpf_map__fd(cfg6);
	a->xsks_fd = bpf_map__fd(xsks);
	a->stats_fd = bpf_map__fd(stats);
	a->filter.ftab_fd = bpf_map__fd(ftab);
	a->filter.fidx_fd = bpf_map__fd(fidx);
	a->filter.fcnt_fd = bpf_map__fd(fcnt);
	if (a->log) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)a->dev.ifindex);

		if (!libxdp_get_error(mp)) {
			afxdp_log(a, XS_LOG_INFO, "%s (id %u) attached to %s in %s mode %s",
				  AFXDP_PROG_NAME, xdp_program__id(a->prog), a->ifname,
				  mode_name(a->mode),
				  xdp_multiprog__is_legacy(mp) ? "alone (no dispatcher)"
							       : "behind the libxdp dispatcher");
			xdp_multiprog__close(mp);
		}
	}
	return 0;
}

/* ---- setup: UMEM and socket ---- */

static int create_socket(struct afxdp *a, char *err, size_t errlen)
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
	    .bind_flags = XDP_USE_NEED_WAKEUP, /* kernel picks zero-copy or copy */
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
		const struct timespec pause = { 0, 50 * 1000 * 1000 };

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

	ret = xsk_socket__update_xskmap(a->xsk, a->xsks_fd);
	if (ret) {
		errf(err, errlen,
		     "cannot add the AF_XDP socket of %s queue %u to the XDP program (%s)",
		     a->ifname, a->queue, strerror(-ret));
		return ret;
	}
	a->in_xskmap = true;
	return 0;
}

static int write_cfg(struct afxdp *a)
{
	__u32 key = 0;

	if (bpf_map_update_elem(a->cfg_fd, &key, &a->cfg, BPF_ANY))
		return -errno;
	return 0;
}

/* ---- public ---- */

struct xs_dev *xs_afxdp_dev_new(const struct xs_afxdp_config *cfg, char *err, size_t errlen)
{
	struct afxdp *a = NULL;
	unsigned int ifindex;
	size_t nlen;
	int ret;

	errf(err, errlen, "unknown error");
	if (!cfg || !cfg->ifname) {
		errf(err, errlen, "no interface given");
		errno = EINVAL;
		return NULL;
	}
	/* Quiet unless asked: then the process's own libbpf/libxdp printers
	 * (their defaults, or what the application installed) speak. */
	if (!cfg->verbose) {
		libbpf_set_print(print_quiet);
		libxdp_set_print(xdp_print_quiet);
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

	a = calloc(1, sizeof(*a));
	if (!a)
		goto err_nomem;
	a->dev.ops = &afxdp_ops;
	a->dev.priv = a;
	a->dev.fd = -1;
	a->dev.ifindex = ifindex;
	a->cfg_fd = a->cfg6_fd = a->xsks_fd = a->stats_fd = -1;
	memcpy(a->ifname, cfg->ifname, nlen + 1);
	a->log = cfg->log;
	a->log_arg = cfg->log_arg;
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
	ret = load_and_attach(a, cfg->mode, cfg->verbose, err, errlen);
	if (ret)
		goto err;
	ret = create_socket(a, err, errlen);
	if (ret)
		goto err;

	/* Steering starts only now that a socket is there to take the frames. */
	a->cfg.ip4 = htonl(cfg->ip);
	a->cfg.owner_pid = (__u32)getpid();
	ret = write_cfg(a);
	if (ret) {
		errf(err, errlen, "cannot configure the XDP program on %s (%s)", a->ifname,
		     strerror(-ret));
		goto err;
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

static void sock_stats(struct afxdp *a, struct xs_xdp_counters *out)
{
	struct xdp_statistics xs = { 0 };
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
	struct afxdp *a;
	__u64 *vals;
	__u32 key;
	int ncpu, i, ret = 0;

	if (!dev || dev->ops != &afxdp_ops || !out)
		return -EINVAL;
	a = dev->priv;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (key = 0; key < XS_STEER_NCOUNTERS; key++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(a->stats_fd, &key, vals)) {
			ret = -errno;
			break;
		}
		for (i = 0; i < ncpu; i++)
			sum += vals[i];
		if (key == XS_STEER_REDIRECTED)
			out->redirected = sum;
		else if (key == XS_STEER_PASSED)
			out->passed = sum;
		else if (key == XS_STEER_FILTER_DROPPED)
			out->filter_dropped = sum;
	}
	free(vals);
	if (!ret)
		sock_stats(a, out); /* a kernel without XDP_STATISTICS leaves zeros */
	return ret;
}

int xs_afxdp_set_busy_poll(struct xs_dev *dev, uint32_t usecs, uint32_t budget)
{
	int one = 1, us = (int)usecs, b = (int)budget;
	struct afxdp *a;

	if (!dev || dev->ops != &afxdp_ops || !usecs || usecs > INT32_MAX || !budget ||
	    budget > UINT16_MAX)
		return -EINVAL;
	a = dev->priv;
	if (setsockopt(dev->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(dev->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(dev->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &b, sizeof(b)))
		return -errno;
	a->napi_id = -1; /* learnt from the first frame */
	return 0;
}

int xs_afxdp_napi_id(struct xs_dev *dev)
{
	struct afxdp *a;

	if (!dev || dev->ops != &afxdp_ops)
		return -EINVAL;
	a = dev->priv;
	return a->napi_id > 0 ? a->napi_id : 0;
}

int xs_afxdp_set_ip(struct xs_dev *dev, uint32_t ip)
{
	struct afxdp *a;

	if (!dev || dev->ops != &afxdp_ops)
		return -EINVAL;
	a = dev->priv;
	a->cfg.ip4 = htonl(ip);
	return write_cfg(a);
}

int xs_afxdp_set_dhcp(struct xs_dev *dev, int on)
{
	struct afxdp *a;

	if (!dev || dev->ops != &afxdp_ops)
		return -EINVAL;
	a = dev->priv;
	memcpy(a->cfg.mac, dev->mac, sizeof(a->cfg.mac));
	if (on)
		a->cfg.flags |= XS_STEER_F_DHCP;
	else
		a->cfg.flags &= ~XS_STEER_F_DHCP;
	return write_cfg(a);
}

int xs_afxdp_set_ip6(struct xs_dev *dev, const uint8_t (*addrs)[16], unsigned n, int want_ra)
{
	struct xs_steer_cfg6 c = { 0 };
	struct afxdp *a;
	__u32 key = 0;

	if (!dev || dev->ops != &afxdp_ops || n > XS_STEER_MAX_ADDR6 || (n && !addrs))
		return -EINVAL;
	a = dev->priv;
	c.naddr = n;
	c.flags = want_ra ? XS_STEER6_F_RA : 0;
	memcpy(c.addr, addrs, (size_t)n * 16);
	if (bpf_map_update_elem(a->cfg6_fd, &key, &c, BPF_ANY))
		return -errno;
	return 0;
}

int xs_afxdp_filter_set(struct xs_dev *dev, const struct xs_steer_table *t)
{
	if (!dev || dev->ops != &afxdp_ops || !t)
		return -EINVAL;
	return afxdp_filter_set(&((struct afxdp *)dev->priv)->filter, t);
}

int xs_afxdp_filter_harvest(struct xs_dev *dev, struct xs_steer_table *t,
			    struct xs_steer_rule_cnt *delta)
{
	if (!dev || dev->ops != &afxdp_ops || !t || !delta)
		return -EINVAL;
	return afxdp_filter_harvest(&((struct afxdp *)dev->priv)->filter, t, delta);
}
