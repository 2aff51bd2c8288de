/* libxdpstack devices: where a stack's frames come from and go to.
 * An AF_XDP device on a real interface, an in-memory one for tests, a capture wrapper. */
#ifndef XDPSTACK_DEV_H
#define XDPSTACK_DEV_H

#include <stddef.h>
#include <stdint.h>

/* --- bring your own device -------------------------------------------------
 * A device is an ops table and a struct xs_dev the embedder fills and keeps
 * alive for the stack's life (xs_stack_new takes it, xs_stack_free does not
 * free it unless xs_stack_create made it; xs_dev_free calls ops->destroy).
 * The stack calls the ops only from xs_stack_poll and from API calls, on its
 * one thread; no op may block. user/dev/tap.c is a small complete example.
 *
 * Frames are lent, never copied by the stack:
 *  - rx_burst lends up to max received frames (data, len; handle is yours).
 *    The stack reads them in place, read-only, and gives every one back with
 *    rx_release before xs_stack_poll returns (in the same poll, in one call).
 *  - tx_alloc lends one empty buffer of cap bytes (at least the MTU plus 18,
 *    for the Ethernet header and a VLAN tag). The stack writes a whole frame
 *    into data and then either tx_submit(len) (it is yours again: send it at
 *    the next flush, or at once) or tx_abort (unused). -ENOBUFS when none is
 *    free: the stack counts XS_DROP_TX_NO_FRAME and the sender sees -ENOBUFS.
 *  - flush is called at the end of every poll: push what was submitted,
 *    reclaim buffers the NIC is done with.
 *  - frames fills the accounting (tests prove every frame came home);
 *    destroy releases everything.
 * mac is the device's Ethernet address, mtu the IP MTU (68..), fd a file
 * descriptor that is readable while frames wait for rx_burst (-1 if none: an
 * embedder must then poll on a timer), priv the device's own pointer. */
struct xs_frame {
	uint8_t *data;
	uint32_t len;
	uint32_t cap;
	uint64_t handle;     /* the device's own reference (a UMEM address, an index) */
	/* rx: what the device learnt about the frame besides its bytes; for
	 * AF_XDP, the steering program's filter verdict (bpf/steer.h). 0: none.
	 * The stack zeroes it before rx_burst: a device may leave it alone. */
	uint64_t meta;
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

struct xs_dev;

struct xs_dev_ops {
	/* Lend up to max received frames. Returns count (0 if none), or -errno
	 * (xs_stack_poll returns it: the device is broken). */
	int (*rx_burst)(struct xs_dev *dev, struct xs_frame *frames, int max);
	/* Take n lent rx frames back. */
	void (*rx_release)(struct xs_dev *dev, const struct xs_frame *frames, int n);
	/* Lend one tx buffer; 0 or -ENOBUFS. */
	int (*tx_alloc)(struct xs_dev *dev, struct xs_frame *f);
	/* A filled tx buffer of len bytes: it leaves at the next flush. */
	void (*tx_submit)(struct xs_dev *dev, const struct xs_frame *f, uint32_t len);
	/* A tx buffer returned unused. */
	void (*tx_abort)(struct xs_dev *dev, const struct xs_frame *f);
	/* Push submitted frames out, reclaim completed ones. 0 or -errno. */
	int (*flush)(struct xs_dev *dev);
	/* Fill *out with the frame accounting. */
	void (*frames)(const struct xs_dev *dev, struct xs_dev_frames *out);
	/* Release everything, struct xs_dev included if the device allocated it. */
	void (*destroy)(struct xs_dev *dev);
};

struct xs_dev {
	const struct xs_dev_ops *ops;
	uint8_t mac[6];
	uint16_t mtu;      /* IP MTU of the link */
	uint32_t ifindex;
	int fd;            /* readable while frames wait for rx_burst, -1 if none */
	void *priv;
};

/* In-memory device (user/dev/mem.c): frames injected by a test or a linked peer. */
struct xs_dev *xs_mem_dev_new(const uint8_t mac[6], uint16_t mtu, uint32_t nframes);
/* Connect two mem devices: what one sends, the other receives. */
void xs_mem_dev_link(struct xs_dev *a, struct xs_dev *b);
/* Queue a frame for the stack to receive; 0 or -ENOBUFS / -EMSGSIZE. */
int xs_mem_dev_inject(struct xs_dev *dev, const void *frame, size_t len);
/* Take the oldest sent frame; returns its length, 0 if none (copied up to cap). */
size_t xs_mem_dev_take(struct xs_dev *dev, void *buf, size_t cap);
/* Number of sent frames waiting to be taken. */
size_t xs_mem_dev_pending_tx(const struct xs_dev *dev);

/* AF_XDP device (user/dev/afxdp.c). */
enum xs_xdp_mode { XS_XDP_MODE_AUTO = 0, XS_XDP_MODE_NATIVE, XS_XDP_MODE_GENERIC };
/* How the socket binds: zero-copy where the driver has it (native XDP only)
 * and copy mode otherwise (auto), or one of them, failing if refused. */
enum xs_xdp_bind { XS_XDP_BIND_AUTO = 0, XS_XDP_BIND_COPY, XS_XDP_BIND_ZEROCOPY };

struct xs_afxdp_config {
	const char *ifname;
	uint32_t queue;         /* rx queue to bind (0) */
	enum xs_xdp_mode mode;
	enum xs_xdp_bind bind;
	/* Another AF_XDP device on the same interface (another queue) whose
	 * steering program this one joins: its socket goes into the same
	 * XSKMAP, mode and ip are the first device's. NULL: load and attach
	 * the program. The program stays until the last device is freed. */
	struct xs_dev *share;
	uint32_t ip;            /* stack IPv4, host order, for the steering config map */
	uint32_t nframes;       /* UMEM frames (0: 4096) */
	int verbose;            /* 0: libxdp/libbpf silenced; 1: their printers speak
				 * (libbpf_set_print(), libxdp_set_print()) */
	/* The device's own messages (a leftover program replaced, how it
	 * attached), one line each with an XS_LOG_* priority; NULL: silent.
	 * Called from xs_afxdp_dev_new only; the library never prints. */
	void (*log)(void *arg, int prio, const char *line);
	void *log_arg;
};

/* Log priorities, numerically syslog(3)'s. */
enum { XS_LOG_ERR = 3, XS_LOG_WARNING = 4, XS_LOG_NOTICE = 5, XS_LOG_INFO = 6, XS_LOG_DEBUG = 7 };

struct xs_xdp_counters {
	uint64_t redirected;
	uint64_t passed;
	uint64_t filter_dropped; /* frames to the stack a filter rule dropped in XDP */
	/* The AF_XDP socket's own counters (XDP_STATISTICS): frames the program
	 * redirected that never reached the rx ring, and refused descriptors. */
	uint64_t sock_rx_dropped;   /* no fill frame, or too long for one */
	uint64_t sock_rx_ring_full; /* rx ring full */
	uint64_t sock_fill_empty;   /* times the fill ring was found empty */
	uint64_t sock_rx_invalid;   /* invalid fill descriptors */
	uint64_t sock_tx_invalid;   /* invalid tx descriptors */
};

/* Loads and attaches the steering program (replacing one left by a killed
 * xdpstack, with a message), creates UMEM and the socket. On failure returns
 * NULL and writes one human line (cause and fix) into err. */
struct xs_dev *xs_afxdp_dev_new(const struct xs_afxdp_config *cfg, char *err, size_t errlen);
/* How the socket bound: *zerocopy 1 for XDP_ZEROCOPY, 0 for copy mode;
 * *zc_err the -errno that refused zero-copy in auto mode (0: not tried,
 * -EOPNOTSUPP for generic XDP). Either pointer may be NULL. 0 or -EINVAL. */
int xs_afxdp_bind_info(struct xs_dev *dev, int *zerocopy, int *zc_err);
/* Sums the steering program's per-CPU counters. 0 or -errno. */
int xs_afxdp_xdp_counters(struct xs_dev *dev, struct xs_xdp_counters *out);
/* The packet filter in the XDP program (bpf/steer.h): xs_afxdp_filter_set
 * puts a compiled table in force atomically (the idle one written, then the
 * index flipped); xs_afxdp_filter_harvest gives the table in force and what
 * its per-rule counters grew by since the last call. 0 or -errno. */
struct xs_steer_table;
struct xs_steer_rule_cnt;
int xs_afxdp_filter_set(struct xs_dev *dev, const struct xs_steer_table *t);
int xs_afxdp_filter_harvest(struct xs_dev *dev, struct xs_steer_table *t,
			    struct xs_steer_rule_cnt *delta);
/* Asks the kernel to busy-poll for the socket: SO_PREFER_BUSY_POLL, and
 * SO_BUSY_POLL (usecs) and SO_BUSY_POLL_BUDGET (budget, frames) on it. Once a
 * frame shows the NAPI instance it came through, an empty rx_burst calls
 * recvfrom() (which runs that NAPI) whether need_wakeup asks or not. Needs
 * CAP_NET_ADMIN above the sysctl defaults. 0 or -errno (nothing changes). */
int xs_afxdp_set_busy_poll(struct xs_dev *dev, uint32_t usecs, uint32_t budget);
/* The NAPI id the kernel busy-polls for the socket (SO_INCOMING_NAPI_ID of
 * the frames received so far): 0 while none is known or the driver has none
 * (then busy polling is ours alone: spinning on the rings). */
int xs_afxdp_napi_id(struct xs_dev *dev);
/* Sets the address in the steering config map. 0 or -errno. */
int xs_afxdp_set_ip(struct xs_dev *dev, uint32_t ip);
/* Sets the IPv6 addresses to steer (n <= 8, network order; n 0: no IPv6)
 * and whether Router Advertisements to all-nodes are taken (SLAAC): what
 * xs_ip6_steer_info says. 0 or -errno. */
int xs_afxdp_set_ip6(struct xs_dev *dev, const uint8_t (*addrs)[16], unsigned n, int want_ra);
/* While DHCP runs (on nonzero), also steer DHCP replies whose chaddr is
 * dev->mac and ARP to dev->mac; off once bound. 0 or -errno. */
int xs_afxdp_set_dhcp(struct xs_dev *dev, int on);

/* Capture device (user/dev/pcap.c): forwards every call to inner and writes
 * each frame received (rx_burst) and sent (tx_submit, at its final length) to
 * a pcap file at path (Ethernet link type, created 0600, truncated). Records
 * are timestamped with CLOCK_REALTIME read by the device itself (I/O reads the
 * wall clock; the stack never does) and reach the file within ~100 ms (flush)
 * and at destroy. On success the wrapper owns inner: xs_dev_free on the
 * wrapper frees inner too; keep inner's pointer only for device-specific
 * calls (xs_afxdp_xdp_counters). On failure NULL + errno, one line in err
 * ("cannot create FILE: reason"), and inner still belongs to the caller. */
struct xs_dev *xs_pcap_dev_new(struct xs_dev *inner, const char *path, char *err, size_t errlen);

/* Fault-injecting device (user/dev/fault.c): wraps inner like the capture
 * device and, driven by a seeded PRNG (the same seed and the same traffic give
 * the same faults), drops, duplicates, corrupts (one bit of one byte) or
 * reorders frames (holds one back behind the next reorder_depth frames).
 * Probabilities are per mille, separately for received and sent frames. On
 * success the wrapper owns inner (xs_dev_free frees both); NULL + errno
 * (inner still the caller's) on failure. */
struct xs_fault_dir {
	uint16_t loss;          /* per mille: frame dropped */
	uint16_t dup;           /* per mille: frame delivered twice */
	uint16_t corrupt;       /* per mille: one random bit of one random byte flipped */
	uint16_t reorder;       /* per mille: frame held back */
	uint16_t reorder_depth; /* frames that overtake a held one (0: 3) */
};

struct xs_fault_config {
	uint64_t seed;
	int ipv4_only;          /* faults only on IPv4 frames (ARP passes clean) */
	struct xs_fault_dir rx, tx;
};

struct xs_fault_stats {
	uint64_t rx_frames, rx_lost, rx_duplicated, rx_dup_skipped, rx_corrupted, rx_reordered;
	uint64_t tx_frames, tx_lost, tx_duplicated, tx_dup_skipped, tx_corrupted, tx_reordered;
};

struct xs_dev *xs_fault_dev_new(struct xs_dev *inner, const struct xs_fault_config *cfg);
/* New probabilities from now on; the PRNG stream goes on (cfg->seed unused). */
void xs_fault_dev_set(struct xs_dev *dev, const struct xs_fault_config *cfg);
const struct xs_fault_stats *xs_fault_dev_stats(const struct xs_dev *dev);

/* TAP device (user/dev/tap.c): the kernel's /dev/net/tun as an Ethernet
 * link (IFF_TAP | IFF_NO_PI, non-blocking), one read(2)/write(2) per frame;
 * the example of a device an embedder brings. ifname: the interface to make
 * or attach to ("" or NULL: the kernel names it; the name is in *out_name if
 * given, IFNAMSIZ bytes). The device brings the interface up; its address on
 * the kernel side is the caller's business (ip addr add). mac NULL: a random
 * locally administered one; mtu 0: 1500. Needs CAP_NET_ADMIN. NULL + errno
 * and one line in err on failure. nframes: buffers (0: 256). */
struct xs_dev *xs_tap_dev_new(const char *ifname, const uint8_t *mac, uint16_t mtu,
			      uint32_t nframes, char *out_name, char *err, size_t errlen);
/* Frames the kernel would not take at flush (its queue full): dropped, as a
 * full NIC ring drops them. (Received frames wait in the kernel's queue while
 * all buffers are lent; the kernel counts what overflows it.) */
uint64_t xs_tap_dev_tx_dropped(const struct xs_dev *dev);

/* Common to every device: the MAC and MTU, and release. */
const uint8_t *xs_dev_mac(const struct xs_dev *dev);
int xs_dev_fd(const struct xs_dev *dev);
void xs_dev_free(struct xs_dev *dev);

#endif
