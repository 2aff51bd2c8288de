/* The xdpstack daemon: checks the host, attaches the stack to a NIC queue,
 * runs the event loop (the only reader of the clock) until SIGINT/SIGTERM. */
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
#include "app/svc_http.h"
#include "app/svc_iperf3.h"
#include "bpf/steer.h"
#include "dev/dev.h"

static volatile sig_atomic_t got_stop, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

static xs_time_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * 1000000000ull + (xs_time_t)ts.tv_nsec;
}

/* The exit-time and SIGUSR1 dump: "counters:" ... "end" around the grouped
 * view (non-zero only unless -a), on stdout. */
void print_counters(FILE *f, const struct xs_stats *s, const struct xs_xdp_counters *x,
		    const struct svc_iperf3 *ip3, const struct svc_sockperf *sp,
		    const struct svc_http *http, const struct busy_poll *bp, int all)
{
#define MAIN_ONE(name, desc) +1
	/* XDP's 7, the services', the busy-poll loop's 3 */
	struct cview_extra ex[7 SVC_IPERF3_COUNTERS(MAIN_ONE) SVC_HTTP_COUNTERS(MAIN_ONE) +
			      SVC_SOCKPERF_NCOUNTERS_MAX + 3];
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
	if (http) {
		const struct svc_http_stats *hs = svc_http_stats(http);

#define MAIN_HTTP_EXTRA(name, desc) ex[n++] = cview_count("services", #name, hs->name);
		SVC_HTTP_COUNTERS(MAIN_HTTP_EXTRA)
#undef MAIN_HTTP_EXTRA
	}
	n += svc_sockperf_counters(sp, ex + n, sizeof(ex) / sizeof(ex[0]) - 3 - n);
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

static void dump_counters(struct xs_stack *st, struct xs_dev *dev, const struct svc_iperf3 *ip3,
			  const struct svc_sockperf *sp, const struct svc_http *http,
			  const struct busy_poll *bp, int all)
{
	struct xs_xdp_counters x;
	int have_x = xs_afxdp_xdp_counters(dev, &x) == 0;

	print_counters(stdout, xs_stack_stats(st), have_x ? &x : NULL, ip3, sp, http, bp, all);
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

/* After the stack is freed every UMEM frame must be home: prints the
 * accounting and returns 0, or says what is missing and returns 3. */
static int check_frames(struct xs_dev *dev)
{
	struct xs_dev_frames f;
	uint32_t lost;

	dev->ops->frames(dev, &f);
	lost = dev_frames_lost(&f);
	printf("xdpstack: frames at exit: total %u free %u fill %u rx_borrowed %u "
	       "tx_borrowed %u tx_queued %u in_flight %u misuse %u lost %u\n",
	       f.total, f.free, f.fill, f.rx_borrowed, f.tx_borrowed, f.tx_queued, f.in_flight,
	       f.misuse, lost);
	fflush(stdout);
	if (!lost)
		return 0;
	log_msg(LOG_ERR, "%u UMEM frames did not come home (a leak in the stack: see the frames "
		"line on stdout)", lost);
	return 3;
}

/* Buffers freed when idle leave free pages inside the heap (RACK records,
 * out-of-order sets: small blocks among TCBs); once a second, after any
 * were freed, give those pages back so that RSS follows what connections
 * hold (glibc's malloc_trim releases whole free pages anywhere in the heap). */
static void heap_trim(const struct xs_stack *st, xs_time_t now, xs_time_t *next, uint64_t *seen)
{
	const struct xs_stats *s = xs_stack_stats(st);
	uint64_t released = s->tcp_buf_released + s->tcp_rack_released;

	if (now < *next || released == *seen)
		return;
	*seen = released;
	*next = now + XS_SEC(1);
	malloc_trim(0);
}

static int die(const char *msg)
{
	log_msg(LOG_ERR, "%s", msg);
	return 1;
}

/* The event loop: the stack's socket, the control socket and its clients in
 * one poll(); the timeout covers the stack's timers, the ping sessions and
 * the iperf3 and HTTP services' deadlines. With busy polling (bp->idle_ns) the loop
 * goes round without that poll() while frames keep coming: it reads the rings
 * directly (xs_stack_poll), looks at the control fds with a zero-timeout
 * poll() about every millisecond, and sleeps again once nothing has come for
 * the idle period; the first frame after that wakes it through poll(). */
/* A locally administered MAC from the interface's (RFC 7042 2.1): the stack's
 * DHCP never answers for the interface's own, so the kernel's client is left alone. */
static void dhcp_derive_mac(uint8_t mac[6])
{
	uint8_t m0 = mac[0];

	mac[0] = (uint8_t)((mac[0] | 0x02) & ~0x01);
	if (mac[0] == m0)
		mac[5] ^= 0x5a; /* already local: differ elsewhere */
}

static const char *ip_str(uint32_t ip, char *buf)
{
	struct in_addr a = { .s_addr = htonl(ip) };

	return inet_ntop(AF_INET, &a, buf, 16);
}

/* The lease's events: log them, and steer by address once bound, by DHCP
 * (chaddr) while not. */
static void dhcp_events(struct xs_stack *st, struct xs_dev *hw)
{
	unsigned ev = xs_dhcp_events(st);
	struct xs_dhcp_info in;
	char a[16], b[16], c[16];

	if (!ev || xs_dhcp_info(st, now_ns(), &in))
		return;
	if (ev & XS_DHCP_EV_DECLINED)
		printf("xdpstack: dhcp: the offered address is in use (ARP answered); "
		       "declined, discovering again in 10 s\n");
	if (ev & XS_DHCP_EV_NAK)
		printf("xdpstack: dhcp: NAK from the server: the lease is refused; "
		       "back to discovery\n");
	if ((ev & XS_DHCP_EV_LOST) && !(ev & XS_DHCP_EV_NAK))
		printf("xdpstack: dhcp: the lease expired unrenewed: address lost; "
		       "back to discovery\n");
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

static int run(struct xs_stack *st, struct xs_dev *dev, struct xs_dev *hw, struct ctl *ctl,
	       struct svc_iperf3 *ip3, const struct svc_sockperf *sp, struct svc_http *http,
	       struct busy_poll *bp, int all, struct ip6app *ip6)
{
	struct pollfd pfd[1 + 1 + CTL_MAX_CLIENTS];
	xs_time_t trim_next = 0;
	uint64_t trim_seen = 0;
	int nctl = 0;

	while (!got_stop) {
		xs_time_t now = now_ns(), next, cdl;
		int timeout_ms, n, frames = 0;

		if (ctl) {
			ctl_set_time(ctl, now);
			/* Requests first: what they queue leaves with this turn's flush. */
			ctl_process(ctl, pfd + 1, nctl);
		}
		nctl = 0;
		if (ip3)
			svc_iperf3_tick(ip3, now);
		if (http)
			svc_http_tick(http, now);
		/* Drain: keep polling while batches come back full. */
		do {
			n = xs_stack_poll(st, now);
			if (n < 0) {
				log_msg(LOG_ERR, "device error (%s); stopping", strerror(-n));
				return 1;
			}
			frames += n;
		} while (n == XS_POLL_BATCH && !got_stop);
		if (got_usr1) {
			got_usr1 = 0;
			dump_counters(st, hw, ip3, sp, http, bp, all);
		}
		dhcp_events(st, hw);
		ip6app_events(ip6);
		heap_trim(st, now, &trim_next, &trim_seen);
		next = xs_stack_next_timer(st);
		if (ctl && (cdl = ctl_next_deadline(ctl)) < next)
			next = cdl;
		if (ip3 && (cdl = svc_iperf3_next_deadline(ip3)) < next)
			next = cdl;
		if (http && (cdl = svc_http_next_deadline(http)) < next)
			next = cdl;
		now = now_ns();
		if (busy_poll_spin(bp, now, frames, next)) {
			if (!ctl || !busy_poll_fds_due(bp, now)) {
				if (!frames)
					spin_pause();
				continue;
			}
			nctl = ctl_pollfds(ctl, pfd + 1, (int)(sizeof(pfd) / sizeof(pfd[0])) - 1);
			if (poll(pfd + 1, (nfds_t)nctl, 0) < 0)
				nctl = 0;
			continue;
		}
		timeout_ms = next > now ? (int)((next - now + XS_NSEC_PER_MS - 1) / XS_NSEC_PER_MS) : 0;
		if (timeout_ms > 100)
			timeout_ms = 100;
		pfd[0] = (struct pollfd){ .fd = xs_dev_fd(dev), .events = POLLIN };
		nctl = ctl ? ctl_pollfds(ctl, pfd + 1, (int)(sizeof(pfd) / sizeof(pfd[0])) - 1) : 0;
		if (poll(pfd, (nfds_t)(1 + nctl), timeout_ms) < 0) {
			if (errno != EINTR) {
				log_msg(LOG_ERR, "poll failed (%s)", strerror(errno));
				return 1;
			}
			nctl = 0; /* revents are meaningless after EINTR */
		}
	}
	return 0;
}

/* Busy polling: the kernel's own on the socket where it takes the options,
 * our spinning on the rings in any case; one line says which. */
static void busy_poll_start(struct busy_poll *bp, struct xs_dev *hw, uint32_t idle_us)
{
	busy_poll_init(bp, idle_us, now_ns());
	if (!idle_us)
		return;
	bp->kernel = xs_afxdp_set_busy_poll(hw, BUSY_POLL_KERNEL_US, BUSY_POLL_KERNEL_BUDGET);
	if (!bp->kernel)
		log_status("busy-poll: spinning until %u us without a frame; kernel busy "
			   "polling on the socket accepted (SO_PREFER_BUSY_POLL, SO_BUSY_POLL %u us, "
			   "SO_BUSY_POLL_BUDGET %u)",
			   idle_us, BUSY_POLL_KERNEL_US, BUSY_POLL_KERNEL_BUDGET);
	else
		log_status("busy-poll: spinning until %u us without a frame; kernel busy "
			   "polling on the socket refused (%s): spinning on the rings only",
			   idle_us, strerror(-bp->kernel));
}

int main(int argc, char **argv)
{
	struct xs_afxdp_config dcfg = { 0 };
	struct xs_config cfg = { 0 };
	struct ctl_config ccfg = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct xs_opts o;
	struct xs_stack *st;
	struct xs_dev *hw, *dev;
	struct ctl *ctl = NULL;
	struct svc_tcp *svc = NULL;
	struct svc_iperf3 *ip3 = NULL;
	struct svc_sockperf *sp = NULL;
	struct svc_http *http = NULL;
	struct busy_poll bp;
	struct ip6app ip6 = { .mcast_fd = -1 };
	struct xs_steer_table ftab;
	char err[512], ifname[IF_NAMESIZE + 1] = "", ipbuf[INET_ADDRSTRLEN];
	char ctl_path[XS_CTL_PATH_MAX];
	struct in_addr a;
	int rc, promisc_fd = -1, plen, level;

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

	dcfg.ifname = ifname;
	dcfg.queue = o.queue;
	dcfg.mode = o.mode;
	dcfg.ip = o.ip;
	dcfg.verbose = log_level() >= LOG_INFO;
	dcfg.log = log_from_lib;
	hw = xs_afxdp_dev_new(&dcfg, err, sizeof(err));
	if (!hw) {
		rc = die(err);
		goto out_promisc;
	}
	if (o.have_mac)
		memcpy(hw->mac, o.mac, sizeof(o.mac));
	else if (o.dhcp)
		dhcp_derive_mac(hw->mac);
	dev = hw;
	if (o.dhcp && (rc = xs_afxdp_set_dhcp(hw, 1)) != 0) {
		snprintf(err, sizeof(err), "cannot steer DHCP replies on %s (%s)", ifname,
			 strerror(-rc));
		rc = die(err);
		goto out_dev;
	}
	dev = hw;
	if (o.pcap) {
		/* From here dev owns hw: freeing dev frees both. */
		dev = xs_pcap_dev_new(hw, o.pcap, err, sizeof(err));
		if (!dev) {
			rc = die(err);
			dev = hw;
			goto out_dev;
		}
	}

	cfg.ip = o.ip;
	cfg.prefix_len = (uint8_t)o.prefix_len;
	cfg.gateway = o.gateway;
	cfg.dhcp = (unsigned)o.dhcp;
	cfg.frag_timeout_ms = o.frag_timeout_ms;
	cfg.tcp_rto_min_us = o.tcp_rto_min_ms * 1000;
	cfg.ip_ttl = (uint8_t)o.ip_ttl;
	cfg.tcp_max_orphans = o.tcp_max_orphans;
	cfg.tcp_orphan_mem = o.tcp_orphan_mem;
	cfg.tcp_orphan_retries = o.tcp_orphan_retries;
	cfg.tcp_persist_span_ms = o.tcp_persist_span_ms;
	memcpy(cfg.tcp_mem, o.tcp_mem, sizeof(cfg.tcp_mem));
	cfg.tcp_max_conns = o.tcp_max_conns;
	cfg.tcp_buf_idle_ms = o.tcp_buf_idle_ms;
	cfg.icmp_rate = o.icmp_rate;
	cfg.dns_timeout_ms = o.dns_timeout_ms;
	cfg.dns_cache_size = o.dns_cache;
	cfg.dns_max_queries = o.dns_queries;
	st = xs_stack_new(&cfg, dev);
	if (!st) {
		snprintf(err, sizeof(err), "cannot create the stack (%s)", strerror(errno));
		rc = die(err);
		goto out_dev;
	}
	for (unsigned i = 0; i < o.ndns; i++)
		xs_dns_add_server(st, o.dns_ip[i], o.dns_port[i]);
	if (ip6app_start(&ip6, st, hw, &o, ifname, err, sizeof(err))) {
		rc = die(err);
		goto out_stack;
	}
	if (o.filter_text) {
		/* Checked by cli_parse: this cannot fail but is checked anyway. */
		rc = xs_filter_load(st, o.filter_text, o.filter_len, err, sizeof(err));
		free(o.filter_text);
		o.filter_text = NULL;
		if (rc) {
			rc = die(err);
			goto out_stack;
		}
		xs_filter_xdp_table(st, &ftab);
		rc = xs_afxdp_filter_set(hw, &ftab);
		if (rc) {
			snprintf(err, sizeof(err),
				 "cannot load the --filter rules into the XDP program (%s)",
				 strerror(-rc));
			rc = die(err);
			goto out_stack;
		}
	}
	if (o.udp_echo && (rc = svc_udp_echo_start(st, (uint16_t)o.udp_echo)) != 0) {
		snprintf(err, sizeof(err), "cannot start UDP echo on port %d (%s)", o.udp_echo,
			 strerror(-rc));
		rc = die(err);
		goto out_stack;
	}
	svc = svc_tcp_start(st, o.tcp_ports, err, sizeof(err));
	if (!svc) {
		rc = die(err);
		goto out_stack;
	}
	if (o.iperf3_port) {
		struct svc_iperf3_config icfg = { .port = (uint16_t)o.iperf3_port };

		ip3 = svc_iperf3_start(st, &icfg, now_ns(), err, sizeof(err));
		if (!ip3) {
			rc = die(err);
			svc_tcp_stop(st, svc);
			goto out_stack;
		}
	}
	if (o.sockperf_port) {
		struct svc_sockperf_config spc = { .port = o.sockperf_port };

		sp = svc_sockperf_start(st, &spc, err, sizeof(err));
		if (!sp) {
			rc = die(err);
			svc_iperf3_stop(ip3);
			svc_tcp_stop(st, svc);
			goto out_stack;
		}
	}
	if (o.http_port) {
		struct svc_http_config hcfg = { .port = (uint16_t)o.http_port,
						.root = o.http_root,
						.header_timeout_ms = o.http_header_timeout_ms,
						.max_conns = o.http_max_conns,
						.send_timeout_ms = o.http_send_timeout_ms };

		http = svc_http_start(st, &hcfg, now_ns(), err, sizeof(err));
		if (!http) {
			rc = die(err);
			svc_sockperf_stop(st, sp);
			svc_iperf3_stop(ip3);
			svc_tcp_stop(st, svc);
			goto out_stack;
		}
	}
	ctl->cfg.st = st;
	ctl->cfg.hw = hw;
	ctl->cfg.bp = &bp;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.s_addr = htonl(o.ip);
	inet_ntop(AF_INET, &a, ipbuf, sizeof(ipbuf));
	if (o.dhcp)
		snprintf(ipbuf, sizeof(ipbuf), "dhcp");
	log_status("serving %s/%d on %s (queue %u, mac %02x:%02x:%02x:%02x:%02x:%02x)", ipbuf,
		   o.prefix_len, ifname, o.queue, dev->mac[0], dev->mac[1], dev->mac[2],
		   dev->mac[3], dev->mac[4], dev->mac[5]);
	log_status("control socket %s%s%s", ctl_path, o.pcap ? ", capture " : "",
		   o.pcap ? o.pcap : "");
	if (sp)
		log_status("sockperf server on UDP and TCP port %u", o.sockperf_port);
	busy_poll_start(&bp, hw, o.busy_poll_us);
	fflush(stdout);

	rc = run(st, dev, hw, ctl, ip3, sp, http, &bp, o.all_counters, &ip6);
	if (o.dhcp)
		dhcp_release(st);
	/* Sessions end (their ping handles close) before the stack goes. */
	ctl_close(ctl);
	ctl = NULL;
	dump_counters(st, hw, ip3, sp, http, &bp, o.all_counters);
	svc_http_stop(http);
	svc_iperf3_stop(ip3);
	svc_tcp_stop(st, svc);
	svc_sockperf_stop(st, sp);
	/* One more turn sends the RSTs of the connections just aborted. */
	xs_stack_poll(st, now_ns());
	xs_stack_free(st);
	st = NULL;
	ip6app_stop(&ip6);
	if (check_frames(dev) && !rc)
		rc = 3;
out_stack:
	xs_stack_free(st);
	ip6app_stop(&ip6);
out_dev:
	xs_dev_free(dev);
out_promisc:
	if (promisc_fd >= 0)
		close(promisc_fd);
out_ctl:
	ctl_close(ctl);
	return rc;
}
