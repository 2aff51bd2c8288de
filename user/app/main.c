/* The xdpstack daemon: checks the host, attaches one stack per NIC queue, runs
 * each queue's loop on its own thread (queue 0's with the control socket), each
 * an application's own loop on libxdpstack's public contract, until SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/busypoll.h"
#include "app/counters.h"
#include "app/ctl.h"
#include "app/ip6app.h"
#include "app/log.h"
#include "app/qsetup.h"
#include "app/queues.h"
#include "app/svc_http.h"
#include "app/svc_iperf3.h"
#include "app/svc_tls.h"
#include "bpf/steer.h"
#include "dev/dev.h"

static volatile sig_atomic_t got_stop, got_usr1;

/* The daemon's queues and control socket (queue 0's thread runs the latter). */
static struct queues qs;
static struct ctl *ctl;
static struct ip6app ip6app = {.mcast_fd = -1}; /* queue 0's: the others follow it */
static int all_counters;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

/* The clock every xs_stack_poll gets: the library's, as xs_run uses. */
static xs_time_t now_ns(void)
{
	return xs_clock_now();
}

/* The exit-time and SIGUSR1 dump: "counters:" ... "end" around the grouped
 * view (non-zero only unless -a), on stdout. */
void print_counters(FILE *f, const struct xs_stats *s, const struct xs_xdp_counters *x,
		    const struct svc_iperf3 *ip3, const struct cview_extra *sp, size_t nsp,
		    const struct svc_http_stats *hs, const struct cview_extra *tls, size_t ntls,
		    const struct busy_poll *bp, int all)
{
#define MAIN_ONE(name, desc) +1
	/* XDP's 7, the services', the busy-poll loop's 3 */
	struct cview_extra ex[7 SVC_IPERF3_COUNTERS(MAIN_ONE) SVC_HTTP_COUNTERS(MAIN_ONE) +
			      SVC_SOCKPERF_NCOUNTERS_MAX + SVC_TLS_NCOUNTERS_MAX + 3];
#undef MAIN_ONE
	size_t n = 0;

	if (x) {
		ex[n++] = cview_count(NULL, "xdp_redirected", x->redirected);
		ex[n++] = cview_count(NULL, "xdp_passed", x->passed);
		ex[n++] = cview_count(NULL, "xsk_rx_dropped", x->sock_rx_dropped);
		ex[n++] = cview_count(NULL, "xsk_rx_ring_full", x->sock_rx_ring_full);
		ex[n++] = cview_count(NULL, "xsk_fill_empty", x->sock_fill_empty);
		ex[n++] = cview_count(NULL, "xsk_rx_invalid", x->sock_rx_invalid);
		ex[n++] = cview_count(NULL, "xsk_tx_invalid", x->sock_tx_invalid);
	}
	if (ip3) {
		const struct svc_iperf3_stats *is = svc_iperf3_stats(ip3);

#define MAIN_IP3_EXTRA(name, desc) ex[n++] = cview_count("services", #name, is->name);
		SVC_IPERF3_COUNTERS(MAIN_IP3_EXTRA)
#undef MAIN_IP3_EXTRA
	}
	if (hs) {
#define MAIN_HTTP_EXTRA(name, desc) ex[n++] = cview_count("services", #name, hs->name);
		SVC_HTTP_COUNTERS(MAIN_HTTP_EXTRA)
#undef MAIN_HTTP_EXTRA
	}
	for (size_t i = 0; i < nsp && n < sizeof(ex) / sizeof(ex[0]) - 3; i++)
		ex[n++] = sp[i];
	for (size_t i = 0; i < ntls && n < sizeof(ex) / sizeof(ex[0]) - 3; i++)
		ex[n++] = tls[i];
	if (bp && bp->idle_ns) {
		ex[n++] = cview_count("loop", "busy_poll_spins", bp->spins);
		ex[n++] = cview_count("loop", "busy_poll_sleeps", bp->sleeps);
		ex[n++] = cview_count("loop", "busy_poll_wakes", bp->wakes);
	}
	fprintf(f, "counters:\n");
	cview_print(f, " ", s, ex, n, all ? CVIEW_ALL : 0);
	fprintf(f, "end\n");
	fflush(f);
}

/* The counters of every queue as one: stacks and sockets summed (each other
 * queue held still while it is read), the XDP program's own counters once. */
static void dump_counters(void)
{
	struct cview_extra sp[SVC_SOCKPERF_NCOUNTERS_MAX], spq[SVC_SOCKPERF_NCOUNTERS_MAX];
	struct cview_extra tls[SVC_TLS_NCOUNTERS_MAX], tlsq[SVC_TLS_NCOUNTERS_MAX];
	struct xs_xdp_counters x, xq;
	struct svc_http_stats hsum = {0};
	struct xs_stats sum;
	struct busy_poll bp = qs.q[0].bp;
	int have_x = xs_afxdp_xdp_counters(qs.q[0].hw, &x) == 0;
	size_t nsp, ntls, j;
	unsigned i;

	sum = *xs_stack_stats(qs.q[0].st);
	if (qs.q[0].http)
		hsum = *svc_http_stats(qs.q[0].http);
	nsp = svc_sockperf_counters(qs.q[0].sp, sp, SVC_SOCKPERF_NCOUNTERS_MAX);
	ntls = svc_tls_counters(qs.q[0].tls, tls, SVC_TLS_NCOUNTERS_MAX);
	for (i = 1; i < qs.n; i++) {
		struct queue *q = &qs.q[i];

		queue_park(q);
		cview_stats_add(&sum, xs_stack_stats(q->st));
		if (have_x && xs_afxdp_xdp_counters(q->hw, &xq) == 0) {
			x.sock_rx_dropped += xq.sock_rx_dropped;
			x.sock_rx_ring_full += xq.sock_rx_ring_full;
			x.sock_fill_empty += xq.sock_fill_empty;
			x.sock_rx_invalid += xq.sock_rx_invalid;
			x.sock_tx_invalid += xq.sock_tx_invalid;
		}
		if (q->http) {
			const struct svc_http_stats *hs = svc_http_stats(q->http);

#define MAIN_HTTP_SUM(name, desc) hsum.name += hs->name;
			SVC_HTTP_COUNTERS(MAIN_HTTP_SUM)
#undef MAIN_HTTP_SUM
		}
		/* Every queue's sockperf lists the same counters in the same order. */
		if (svc_sockperf_counters(q->sp, spq, SVC_SOCKPERF_NCOUNTERS_MAX) == nsp)
			for (j = 0; j < nsp; j++)
				sp[j].value += spq[j].value;
		/* And every queue's TLS services (https_*, tls_echo_*) too. */
		if (svc_tls_counters(q->tls, tlsq, SVC_TLS_NCOUNTERS_MAX) == ntls)
			for (j = 0; j < ntls; j++)
				tls[j].value += tlsq[j].value;
		bp.spins += q->bp.spins;
		bp.sleeps += q->bp.sleeps;
		bp.wakes += q->bp.wakes;
		queue_unpark(q);
	}
	print_counters(stdout, &sum, have_x ? &x : NULL, qs.q[0].ip3, sp, nsp,
		       qs.q[0].http ? &hsum : NULL, tls, ntls, &bp, all_counters);
}

/* After a spin turn that found nothing: a pause (kinder to a sibling
 * hyperthread), and the CPU offered to whatever else is runnable on it. On a
 * core of its own sched_yield() returns at once; on a shared one the spinner
 * steps aside, often for the very process it waits for (measured here: the
 * spinner without it held ping's replies up to 100 ms on 2 busy cores). */
static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
	sched_yield();
}

/* Buffers freed when idle leave free pages inside the heap (RACK records,
 * out-of-order sets, rings below TCP_RING_MMAP_MIN), and so does what
 * connections that went held (a FIN's RACK record, unsent data): no
 * release counter counts those, the fall of tcp_conns does. Once a second,
 * after any were freed, give those pages back so that RSS follows what
 * connections hold (glibc's malloc_trim releases whole free pages anywhere
 * in the heap). The TCBs are not in the heap: their slabs are unmapped as
 * they empty (core/slab.h). */
struct heap_trim {
	xs_time_t next;
	uint64_t released; /* tcp_buf_released + tcp_rack_released at the last look */
	uint64_t conns;	   /* tcp_conns at the last look */
};

static void heap_trim(const struct xs_stack *st, xs_time_t now, struct heap_trim *h)
{
	const struct xs_stats *s = xs_stack_stats(st);
	uint64_t released = s->tcp_buf_released + s->tcp_rack_released;
	bool freed = released != h->released || s->tcp_conns < h->conns;

	if (now < h->next)
		return;
	h->released = released;
	h->conns = s->tcp_conns;
	if (!freed)
		return;
	h->next = now + XS_SEC(1);
	malloc_trim(0);
}

static int die(const char *msg)
{
	log_msg(LOG_ERR, "%s", msg);
	return 1;
}

static const char *ip_str(uint32_t ip, char *buf)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	return inet_ntop(AF_INET, &a, buf, 16);
}

/* The lease's events (queue 0 runs the DHCP client): log them, steer by
 * address once bound, by DHCP (chaddr) while not, and give the other
 * queues' stacks the same address. */
static void dhcp_events(struct xs_stack *st, struct xs_dev *hw)
{
	static uint32_t held; /* the leased address, for the line that says it is gone */
	unsigned ev = xs_dhcp_events(st), i;
	struct xs_dhcp_info in;
	char a[16], b[16], c[16];

	if (!ev || xs_dhcp_info(st, now_ns(), &in))
		return;
	if (ev & XS_DHCP_EV_DECLINED)
		printf("xdpstack: dhcp: the offered address is in use (ARP answered); "
		       "declined, discovering again in 10 s\n");
	/* The lease is gone before its events are read: name it from `held`. */
	if ((ev & XS_DHCP_EV_NAK) && !(ev & XS_DHCP_EV_LOST))
		printf("xdpstack: dhcp: NAK from the server: the lease is refused; "
		       "back to discovery\n");
	else if (ev & XS_DHCP_EV_NAK)
		printf("xdpstack: dhcp: NAK from the server: the lease on %s is refused, "
		       "address removed; back to discovery\n",
		       ip_str(held, a));
	else if (ev & XS_DHCP_EV_LOST)
		printf("xdpstack: dhcp: the lease on %s expired without renewal: "
		       "address removed; back to discovery\n",
		       ip_str(held, a));
	held = in.ip;
	if (ev & (XS_DHCP_EV_LOST | XS_DHCP_EV_BOUND | XS_DHCP_EV_RENEWED)) {
		for (i = 1; i < qs.n; i++) {
			queue_park(&qs.q[i]);
			xs_mq_sync_addr(qs.q[i].st, st);
			queue_unpark(&qs.q[i]);
		}
	}
	if (ev & XS_DHCP_EV_LOST) {
		xs_afxdp_set_ip(hw, 0);
		xs_afxdp_set_dhcp(hw, 1);
	}
	if (ev & XS_DHCP_EV_BOUND) {
		printf("xdpstack: dhcp: bound to %s/%u from server %s, router %s, "
		       "lease %u s\n",
		       ip_str(in.ip, a), in.prefix_len, ip_str(in.server, b),
		       in.router ? ip_str(in.router, c) : "none", in.lease_s);
		xs_afxdp_set_ip(hw, in.ip);
		xs_afxdp_set_dhcp(hw, 0);
	} else if (ev & XS_DHCP_EV_RENEWED) {
		printf("xdpstack: dhcp: renewed %s, lease %u s\n", ip_str(in.ip, a),
		       in.lease_s);
	}
	fflush(stdout);
}

/* RFC 2131 4.4.6: give the lease back; poll 300 ms so that the RELEASE,
 * unicast to the server, can wait for ARP. */
static void dhcp_release(struct xs_stack *st)
{
	xs_time_t end = now_ns() + XS_MS(300);
	const struct xs_stats *s = xs_stack_stats(st);
	uint64_t tx = s->udp_tx;

	xs_dhcp_release(st);
	while (now_ns() < end) {
		xs_stack_poll(st, now_ns());
		usleep(1000);
	}
	printf("xdpstack: dhcp: %s\n", s->udp_tx != tx ? "lease released" :
	       "no lease to release, or the RELEASE could not be sent");
	fflush(stdout);
}

/* RFC 3810 6.1 at exit: tell snooping switches the solicited-node groups
 * are left (multicast, no neighbor to resolve: one poll sends it). */
static void mld_leave(struct xs_stack *st)
{
	int n = xs_ip6_mld_leave(st);

	if (n <= 0)
		return;
	xs_stack_poll(st, now_ns());
	printf("xdpstack: ipv6: left the solicited-node groups (%d MLD report%s)\n", n,
	       n == 1 ? "" : "s");
	fflush(stdout);
}

static bool stopping(const struct queue *q)
{
	return q->index ? queues_stopping(q->all) : got_stop != 0;
}

/* One queue's event loop, on its own thread (queue 0's on the main thread,
 * with the control socket, the signals and the DHCP client): the stack's
 * socket, the handoffs from other queues, and (queue 0) the control socket
 * and its clients in one poll(); the timeout covers the stack's timers, the
 * ping sessions and the iperf3, HTTP and HTTPS services' deadlines. With busy
 * polling (bp->idle_ns) the loop goes round without that poll() while frames
 * keep coming: it reads the rings directly (xs_stack_poll), looks at the
 * other fds with a zero-timeout poll() about every millisecond, and sleeps
 * again once nothing has come for the idle period; the first frame after
 * that wakes it through poll(). Other queues' threads stop at the top of
 * the loop while the control socket holds their stack (queue_park). */
static int queue_loop(struct queue *q)
{
	struct ctl *c = q->index ? NULL : ctl;
	struct pollfd pfd[2 + 1 + CTL_MAX_CLIENTS];
	struct xs_stack *st = q->st;
	struct heap_trim trim = {0};
	int nctl = 0, sfd = xs_stack_fd(st);

	if (sfd < 0) {
		log_msg(LOG_ERR, "cannot make queue %u's event fd (%s)", q->nic_queue, strerror(-sfd));
		if (q->index)
			kill(getpid(), SIGTERM);
		return 1;
	}

	while (!stopping(q)) {
		xs_time_t now, next, cdl;
		int timeout_ms, n, frames = 0;

		queue_park_point(q);
		now = now_ns();
		if (c) {
			ctl_set_time(c, now);
			/* Requests first: what they queue leaves with this turn's flush. */
			ctl_process(c, pfd + 2, nctl);
		}
		nctl = 0;
		if (q->ip3)
			svc_iperf3_tick(q->ip3, now);
		if (q->http)
			svc_http_tick(q->http, now);
		svc_tls_tick(q->tls, now);
		svc_sockperf_tick(q->sp, now);
		/* Drain: keep polling while batches come back full. */
		do {
			n = xs_stack_poll(st, now);
			if (n < 0) {
				log_msg(LOG_ERR, "device error on queue %u (%s); stopping",
					q->nic_queue, strerror(-n));
				if (q->index)
					kill(getpid(), SIGTERM); /* the daemon stops as a whole */
				return 1;
			}
			frames += n;
			/* A park request waits for no flood to end. */
		} while (n == XS_POLL_BATCH && !stopping(q) &&
			 !atomic_load_explicit(&q->park_req, memory_order_relaxed));
		if (!q->index) {
			if (got_usr1) {
				got_usr1 = 0;
				dump_counters();
			}
			dhcp_events(st, q->hw);
			ip6app_events(&ip6app);
		}
		heap_trim(st, now, &trim);
		next = xs_stack_next_timer(st);
		if (c && (cdl = ctl_next_deadline(c)) < next)
			next = cdl;
		if (q->ip3 && (cdl = svc_iperf3_next_deadline(q->ip3)) < next)
			next = cdl;
		if (q->http && (cdl = svc_http_next_deadline(q->http)) < next)
			next = cdl;
		if ((cdl = svc_tls_next_deadline(q->tls)) < next)
			next = cdl;
		now = now_ns();
		/* The fixed fds: the stack's (the device, its wake-ups, the other
		 * queues' handoffs) and the queue's own wake-up (parks, stop). */
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = q->index ? q->wake_fd : -1, .events = POLLIN};
		if (busy_poll_spin(&q->bp, now, frames, next)) {
			if (!busy_poll_fds_due(&q->bp, now)) {
				if (!frames)
					spin_pause();
				continue;
			}
			nctl = c ? ctl_pollfds(c, pfd + 2, (int)(sizeof(pfd) / sizeof(pfd[0])) - 2) : 0;
			if (poll(pfd + 1, (nfds_t)(1 + nctl), 0) < 0)
				nctl = 0;
			else if (pfd[1].revents & POLLIN)
				queue_wake_drain(q);
			continue;
		}
		timeout_ms = next > now ? (int)((next - now + XS_NSEC_PER_MS - 1) / XS_NSEC_PER_MS) : 0;
		if (timeout_ms > 100)
			timeout_ms = 100;
		nctl = c ? ctl_pollfds(c, pfd + 2, (int)(sizeof(pfd) / sizeof(pfd[0])) - 2) : 0;
		if (poll(pfd, (nfds_t)(2 + nctl), timeout_ms) < 0) {
			if (errno != EINTR) {
				log_msg(LOG_ERR, "poll failed (%s)", strerror(errno));
				return 1;
			}
			nctl = 0; /* revents are meaningless after EINTR */
		} else if (pfd[1].revents & POLLIN) {
			queue_wake_drain(q);
		}
	}
	return 0;
}

/* Busy polling: the kernel's own on each socket where it takes the options,
 * our spinning on the rings in any case; one line says which. */
static void busy_poll_start(uint32_t idle_us)
{
	unsigned i;
	int refused = 0;

	for (i = 0; i < qs.n; i++) {
		struct busy_poll *bp = &qs.q[i].bp;

		busy_poll_init(bp, idle_us, now_ns());
		if (!idle_us)
			continue;
		bp->kernel = xs_afxdp_set_busy_poll(qs.q[i].hw, BUSY_POLL_KERNEL_US,
						    BUSY_POLL_KERNEL_BUDGET);
		if (bp->kernel && !refused)
			refused = bp->kernel;
	}
	if (!idle_us)
		return;
	if (!refused)
		log_status("busy-poll: spinning until %u us without a frame; kernel busy "
			   "polling on the socket accepted (SO_PREFER_BUSY_POLL, SO_BUSY_POLL %u us, "
			   "SO_BUSY_POLL_BUDGET %u)",
			   idle_us, BUSY_POLL_KERNEL_US, BUSY_POLL_KERNEL_BUDGET);
	else
		log_status("busy-poll: spinning until %u us without a frame; kernel busy "
			   "polling on the socket refused (%s): spinning on the rings only",
			   idle_us, strerror(-refused));
}

/* The control socket's view of queue i: held still (parked) until released. */
static void ctl_hold_queue(void *arg, unsigned i, struct ctl_qview *out)
{
	struct queue *q = &qs.q[i];

	(void)arg;
	queue_park(q);
	*out = (struct ctl_qview){.st = q->st, .hw = q->hw, .bp = &q->bp,
				  .nic_queue = q->nic_queue, .cpu = q->cpu};
}

static void ctl_release_queue(void *arg, unsigned i)
{
	(void)arg;
	queue_unpark(&qs.q[i]);
}

/* How many queues: --queues, else one with --queue, else all the NIC's from
 * --queue on (one if it does not say). */
static unsigned queue_count(const struct xs_opts *o, const char *ifname, int *nic)
{
	*nic = xs_nic_rx_queues(ifname);
	if (o->nqueues)
		return o->nqueues;
	if (o->have_queue || *nic <= (int)o->queue)
		return 1;
	return (unsigned)*nic - o->queue > XS_MQ_MAX ? XS_MQ_MAX : (unsigned)*nic - o->queue;
}

/* The status lines of a multi-queue start: queues, CPUs, RSS, bind mode. */
static void queues_status(const struct xs_opts *o, const char *ifname, int nic)
{
	struct xs_rss *rss;
	uint32_t nicq[XS_MQ_MAX];
	char cpus[XS_MQ_MAX * 5] = "";
	size_t len = 0;
	unsigned i;
	int zc = 0, zc_err = 0;

	xs_afxdp_bind_info(qs.q[0].hw, &zc, &zc_err);
	if (zc)
		log_status("AF_XDP zero-copy on %s", ifname);
	else if (zc_err)
		log_status("AF_XDP copy mode on %s: zero-copy %s (%s)", ifname,
			   zc_err == -EOPNOTSUPP && o->mode == XS_XDP_MODE_GENERIC
				   ? "needs native XDP"
				   : "refused by the driver",
			   strerror(-zc_err));
	if (nic > 0 && (unsigned)nic > qs.n)
		log_msg(LOG_WARNING,
			"serving %u of the %d queues of %s: flows RSS puts on the others reach the "
			"kernel, not the stack (serve all, or 'ethtool -L %s combined %u')",
			qs.n, nic, ifname, ifname, qs.n);
	if (qs.n < 2)
		return;
	for (i = 0; i < qs.n && len < sizeof(cpus) - 6; i++)
		len += (size_t)snprintf(cpus + len, sizeof(cpus) - len, "%s%d", i ? "," : "",
					qs.q[i].cpu);
	log_status("%u queues (%u-%u), one thread each on CPUs %s%s", qs.n, qs.q[0].nic_queue,
		   qs.q[qs.n - 1].nic_queue, cpus,
		   qs.shared_cpus ? " (more queues than CPUs: some share one)" : "");
	rss = calloc(1, sizeof(*rss));
	if (!rss)
		return;
	for (i = 0; i < qs.n; i++)
		nicq[i] = qs.q[i].nic_queue;
	if (xs_nic_rss(ifname, rss) == 0 && rss->tcp4_ports && xs_mq_set_rss(qs.mq, rss, nicq) == 0)
		log_status("active opens pick ports by the NIC's Toeplitz hash; replies that "
			   "land elsewhere are handed over");
	else
		log_status("active opens pick ports from their queue's share; replies that land "
			   "on another queue are handed over");
	free(rss);
}

int main(int argc, char **argv)
{
	struct ctl_config ccfg = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct xs_opts o;
	struct svc_tls *tls;
	char err[512], ifname[IF_NAMESIZE + 1] = "", ipbuf[INET_ADDRSTRLEN], qbuf[32];
	char ctl_path[XS_CTL_PATH_MAX];
	struct in_addr a;
	int rc, promisc_fd = -1, plen, level, nic;
	unsigned i, n;

	rc = cli_parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	level = LOG_NOTICE;
	if (o.quiet)
		level = LOG_ERR;
	else if (o.verbose)
		level = o.verbose >= 2 ? LOG_DEBUG : LOG_INFO;
	log_init(level, o.use_syslog);
	log_hook_libs();
	all_counters = o.all_counters;
	if (sys_check_privileges(err, sizeof(err)))
		return die(err);
	if (o.dev) {
		if (!if_nametoindex(o.dev)) {
			snprintf(err, sizeof(err), "no such interface '%s'", o.dev);
			return die(err);
		}
		snprintf(ifname, sizeof(ifname), "%s", o.dev);
		plen = o.dhcp ? 0 : sys_route_prefix(ifname, o.ip);
	} else if (sys_route_dev(o.ip, ifname, sizeof(ifname), &plen, err, sizeof(err))) {
		return die(err);
	}
	if (o.dhcp) {
		o.prefix_len = 0;
	} else {
		if (o.prefix_len < 0)
			o.prefix_len = plen > 0 ? plen : 24;
		if (cli_check_gateway(o.ip, o.prefix_len, o.gateway, err, sizeof(err))) {
			die(err);
			return 2;
		}
		if (sys_check_addr_free(ifname, o.ip, err, sizeof(err)))
			return die(err);
	}
	if (ip6app_check(&o, ifname, err, sizeof(err)))
		return die(err);

	/* The control socket comes before XDP: a live one means another daemon
	 * serves this interface, and attaching would take its program away. */
	if (o.ctl)
		snprintf(ctl_path, sizeof(ctl_path), "%s", o.ctl);
	else
		ctl_default_path(ifname, ctl_path, sizeof(ctl_path));
	ccfg.path = ctl_path;
	ccfg.ifname = ifname;
	ccfg.ifindex = if_nametoindex(ifname);
	ccfg.queue = o.queue;
	/* Certificates are configuration: a bad one is one line, before
	 * anything is in force (each queue loads its own context later). */
	tls = svc_tls_prepare(&o, err, sizeof(err));
	if (!tls && err[0]) {
		die(err);
		return 2;
	}
	svc_tls_stop(tls);
	ctl = ctl_open(&ccfg, err, sizeof(err));
	if (!ctl)
		return die(err);

	if (o.have_mac || o.dhcp) {
		promisc_fd = sys_promisc_hold(ifname, err, sizeof(err));
		if (promisc_fd < 0) {
			rc = die(err);
			goto out_ctl;
		}
	}

	n = queue_count(&o, ifname, &nic);
	rc = queues_init(&qs, n);
	if (rc) {
		snprintf(err, sizeof(err), "cannot set up %u queues (%s)", n, strerror(-rc));
		rc = die(err);
		goto out_promisc;
	}
	if (n > 1)
		queues_assign_cpus(&qs);
	for (i = 0; i < n; i++) {
		qs.q[i].nic_queue = o.queue + i;
		if (queue_open(&qs.q[i], &o, ifname, err, sizeof(err))) {
			rc = die(err);
			goto out_queues;
		}
	}
	/* IPv6 on every queue, before any poll: stack 0 owns the addresses,
	 * DAD and SLAAC and steers; the others follow it (net6/mq6.c). */
	for (i = 1; i < n; i++) {
		if (ip6app_follow(qs.q[i].st, &o, ifname, err, sizeof(err))) {
			rc = die(err);
			goto out_queues;
		}
	}
	if (ip6app_start(&ip6app, qs.q[0].st, qs.q[0].hw, &o, ifname, err, sizeof(err))) {
		rc = die(err);
		goto out_queues;
	}
	free(o.filter_text);
	o.filter_text = NULL;
	ctl->cfg.st = qs.q[0].st;
	ctl->cfg.hw = qs.q[0].hw;
	ctl->cfg.bp = &qs.q[0].bp;
	ctl->cfg.filter_xdp_off = o.filter_xdp_off;
	ctl->cfg.nq = n;
	ctl->cfg.hold = ctl_hold_queue;
	ctl->cfg.release = ctl_release_queue;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.s_addr = htonl(o.ip);
	inet_ntop(AF_INET, &a, ipbuf, sizeof(ipbuf));
	if (o.dhcp)
		snprintf(ipbuf, sizeof(ipbuf), "dhcp");
	if (n > 1)
		snprintf(qbuf, sizeof(qbuf), "queues %u-%u", o.queue, o.queue + n - 1);
	else
		snprintf(qbuf, sizeof(qbuf), "queue %u", o.queue);
	log_status("serving %s/%d on %s (%s, mac %02x:%02x:%02x:%02x:%02x:%02x)", ipbuf,
		   o.prefix_len, ifname, qbuf, qs.q[0].dev->mac[0], qs.q[0].dev->mac[1],
		   qs.q[0].dev->mac[2], qs.q[0].dev->mac[3], qs.q[0].dev->mac[4],
		   qs.q[0].dev->mac[5]);
	log_status("control socket %s%s%s", ctl_path, o.pcap ? ", capture " : "",
		   o.pcap ? o.pcap : "");
	if (o.sockperf_port)
		log_status("sockperf server on UDP and TCP port %u", o.sockperf_port);
	queues_status(&o, ifname, nic);
	busy_poll_start(o.busy_poll_us);
	fflush(stdout);

	rc = queues_start(&qs, queue_loop);
	if (rc) {
		snprintf(err, sizeof(err), "cannot start the queue threads (%s)", strerror(-rc));
		rc = die(err);
		goto out_queues;
	}
	rc = queue_loop(&qs.q[0]);
	queues_stop(&qs);
	for (i = 1; i < n; i++)
		if (qs.q[i].rc && !rc)
			rc = qs.q[i].rc;
	if (o.dhcp)
		dhcp_release(qs.q[0].st);
	if (ip6app.on)
		mld_leave(qs.q[0].st);
	/* Sessions end (their ping handles close) before the stack goes. */
	ctl_close(ctl);
	ctl = NULL;
	dump_counters();
	for (i = 0; i < n; i++)
		if (queue_close(&qs.q[i], 1) && !rc)
			rc = 3;
out_queues:
	ip6app_stop(&ip6app);
	for (i = 0; i < qs.n; i++)
		queue_close(&qs.q[i], 0);
	/* Devices in reverse: the one that loaded the program last. */
	for (i = qs.n; i-- > 0;)
		queue_free_device(&qs.q[i]);
	queues_fini(&qs);
	free(o.filter_text);
out_promisc:
	if (promisc_fd >= 0)
		close(promisc_fd);
out_ctl:
	ctl_close(ctl);
	return rc;
}
