/* One queue of the daemon made and unmade: its AF_XDP device (the first loads the
 * steering program, the others join it), its stack in the group, its services. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/log.h"
#include "app/qsetup.h"
#include "app/svc_http.h"
#include "app/svc_iperf3.h"
#include "bpf/steer.h"
#include "dev/dev.h"

static xs_time_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * 1000000000ull + (xs_time_t)ts.tv_nsec;
}

/* A locally administered MAC from the interface's (RFC 7042 2.1): the stack's
 * DHCP never answers for the interface's own, so the kernel's client is left alone. */
static void dhcp_derive_mac(uint8_t mac[6])
{
	uint8_t m0 = mac[0];

	mac[0] = (uint8_t)((mac[0] | 0x02) & ~0x01);
	if (mac[0] == m0)
		mac[5] ^= 0x5a; /* already local: differ elsewhere */
}

/* What every queue's stack is given: the options, with the budgets that
 * bound the whole daemon shared out (each queue gets 1/n, as a share-nothing
 * stack cannot borrow from another's). */
static void stack_config(const struct xs_opts *o, unsigned n, struct xs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ip = o->ip;
	cfg->prefix_len = (uint8_t)o->prefix_len;
	cfg->gateway = o->gateway;
	cfg->dhcp = (unsigned)o->dhcp;
	cfg->frag_timeout_ms = o->frag_timeout_ms;
	cfg->tcp_rto_min_us = o->tcp_rto_min_ms * 1000;
	cfg->ip_ttl = (uint8_t)o->ip_ttl;
	cfg->tcp_max_orphans = o->tcp_max_orphans;
	cfg->tcp_orphan_mem = o->tcp_orphan_mem;
	cfg->tcp_orphan_retries = o->tcp_orphan_retries;
	cfg->tcp_synack_retries = o->tcp_synack_retries;
	cfg->tcp_persist_span_ms = o->tcp_persist_span_ms;
	memcpy(cfg->tcp_mem, o->tcp_mem, sizeof(cfg->tcp_mem));
	cfg->tcp_max_conns = o->tcp_max_conns;
	cfg->tcp_buf_idle_ms = o->tcp_buf_idle_ms;
	cfg->icmp_rate = o->icmp_rate;
	cfg->dns_timeout_ms = o->dns_timeout_ms;
	cfg->dns_cache_size = o->dns_cache;
	cfg->dns_max_queries = o->dns_queries;
	if (n < 2)
		return;
	/* 0 is "the library's default": the defaults are shared out too. */
	cfg->tcp_max_orphans = (cfg->tcp_max_orphans ? cfg->tcp_max_orphans : 4096) / n;
	if (!cfg->tcp_max_orphans)
		cfg->tcp_max_orphans = 1;
	cfg->tcp_orphan_mem = (cfg->tcp_orphan_mem ? cfg->tcp_orphan_mem : 64ull << 20) / n;
	if (cfg->tcp_orphan_mem < 4096)
		cfg->tcp_orphan_mem = 4096;
	cfg->tcp_max_conns = (cfg->tcp_max_conns ? cfg->tcp_max_conns : 262144) / n;
	if (cfg->tcp_max_conns < 16)
		cfg->tcp_max_conns = 16;
	if (!cfg->tcp_mem[0]) {
		cfg->tcp_mem[0] = 384ull << 20;
		cfg->tcp_mem[1] = 512ull << 20;
		cfg->tcp_mem[2] = 768ull << 20;
	}
	for (int i = 0; i < 3; i++)
		cfg->tcp_mem[i] =
		    cfg->tcp_mem[i] / n < (64u << 10) ? 64u << 10 : cfg->tcp_mem[i] / n;
	cfg->icmp_rate = (cfg->icmp_rate ? cfg->icmp_rate : 100) / n;
	if (!cfg->icmp_rate)
		cfg->icmp_rate = 1;
}

/* The capture file of queue i: --pcap FILE for queue 0, FILE.i for the others. */
static void pcap_name(const char *base, unsigned i, char *buf, size_t len)
{
	if (!i)
		snprintf(buf, len, "%s", base);
	else
		snprintf(buf, len, "%s.%u", base, i);
}

static int open_device(struct queue *q, const struct xs_opts *o, const char *ifname, char *err,
		       size_t errlen)
{
	struct xs_afxdp_config dcfg = {0};
	char path[4096];
	int rc;

	dcfg.ifname = ifname;
	dcfg.queue = q->nic_queue;
	dcfg.mode = o->mode;
	dcfg.bind = o->xdp_bind;
	dcfg.ip = o->ip;
	dcfg.share = q->index ? q->all->q[0].hw : NULL;
	dcfg.verbose = log_level() >= LOG_INFO;
	dcfg.log = log_from_lib;
	q->hw = xs_afxdp_dev_new(&dcfg, err, errlen);
	if (!q->hw)
		return -1;
	q->dev = q->hw;
	if (o->have_mac)
		memcpy(q->hw->mac, o->mac, sizeof(o->mac));
	else if (o->dhcp)
		dhcp_derive_mac(q->hw->mac);
	if (o->dhcp && !q->index && (rc = xs_afxdp_set_dhcp(q->hw, 1)) != 0) {
		snprintf(err, errlen, "cannot steer DHCP replies on %s (%s)", ifname,
			 strerror(-rc));
		return -1;
	}
	if (o->pcap) {
		/* From here dev owns hw: freeing dev frees both. */
		pcap_name(o->pcap, q->index, path, sizeof(path));
		q->dev = xs_pcap_dev_new(q->hw, path, err, errlen);
		if (!q->dev) {
			q->dev = q->hw;
			return -1;
		}
	}
	return 0;
}

static int start_services(struct queue *q, const struct xs_opts *o, char *err, size_t errlen)
{
	int rc;

	if (o->udp_echo && (rc = svc_udp_echo_start(q->st, (uint16_t)o->udp_echo)) != 0) {
		snprintf(err, errlen, "cannot start UDP echo on port %d (%s)", o->udp_echo,
			 strerror(-rc));
		return -1;
	}
	q->svc = svc_tcp_start(q->st, o->tcp_ports, err, errlen);
	if (!q->svc)
		return -1;
	/* iperf3 ties a test's data connections to its control connection by a
	 * cookie: one server, queue 0's, whose port is pinned there. */
	if (o->iperf3_port && !q->index) {
		struct svc_iperf3_config icfg = {.port = (uint16_t)o->iperf3_port};

		q->ip3 = svc_iperf3_start(q->st, &icfg, clock_ns(), err, errlen);
		if (!q->ip3)
			return -1;
		if (q->all->mq)
			xs_mq_pin_port(q->all->mq, (uint16_t)o->iperf3_port, 0);
	}
	if (o->sockperf_port) {
		struct svc_sockperf_config spc = {.port = o->sockperf_port,
						  .idle_ms = o->sockperf_idle_ms};

		q->sp = svc_sockperf_start(q->st, &spc, err, errlen);
		if (!q->sp)
			return -1;
	}
	if (o->http_port) {
		struct svc_http_config hcfg = {.port = (uint16_t)o->http_port,
					       .root = o->http_root,
					       .header_timeout_ms = o->http_header_timeout_ms,
					       .max_conns = o->http_max_conns,
					       .send_timeout_ms = o->http_send_timeout_ms};

		q->http = svc_http_start(q->st, &hcfg, clock_ns(), err, errlen);
		if (!q->http)
			return -1;
	}
	return 0;
}

int queue_open(struct queue *q, const struct xs_opts *o, const char *ifname, char *err,
	       size_t errlen)
{
	struct xs_config cfg;
	unsigned i;
	int rc;

	if (open_device(q, o, ifname, err, errlen))
		return -1;
	stack_config(o, q->all->n, &cfg);
	q->st = xs_stack_new(&cfg, q->dev);
	if (!q->st) {
		snprintf(err, errlen, "cannot create the stack (%s)", strerror(errno));
		return -1;
	}
	if (q->all->mq && (rc = xs_mq_attach(q->all->mq, q->index, q->st)) != 0) {
		snprintf(err, errlen, "cannot add queue %u's stack to the group (%s)", q->nic_queue,
			 strerror(-rc));
		return -1;
	}
	for (i = 0; i < o->ndns; i++)
		xs_dns_add_server(q->st, o->dns_ip[i], o->dns_port[i]);
	if (o->filter_text) {
		/* Checked by cli_parse: this cannot fail but is checked anyway. */
		if (xs_filter_load(q->st, o->filter_text, o->filter_len, err, errlen))
			return -1;
		if (!q->index) {
			struct xs_steer_table ftab;

			xs_filter_xdp_table(q->st, &ftab);
			/* one program for all queues */
			rc = o->filter_xdp_off ? 0 : xs_afxdp_filter_set(q->hw, &ftab);
			if (rc) {
				snprintf(err, errlen,
					 "cannot load the --filter rules into the XDP program (%s)",
					 strerror(-rc));
				return -1;
			}
		}
	}
	return start_services(q, o, err, errlen);
}

int queue_close(struct queue *q, int report)
{
	struct xs_dev_frames f;
	uint32_t lost;
	int rc = 0;

	svc_http_stop(q->http);
	svc_iperf3_stop(q->ip3);
	if (q->st) {
		if (q->svc)
			svc_tcp_stop(q->st, q->svc);
		svc_sockperf_stop(q->st, q->sp);
		/* One more turn sends the RSTs of the connections just aborted. */
		xs_stack_poll(q->st, clock_ns());
		xs_stack_free(q->st);
	}
	q->http = NULL;
	q->ip3 = NULL;
	q->svc = NULL;
	q->sp = NULL;
	q->st = NULL;
	if (q->dev && report) {
		char which[32] = "";

		/* After the stack is freed every UMEM frame must be home. */
		q->dev->ops->frames(q->dev, &f);
		lost = dev_frames_lost(&f);
		if (q->all->n > 1)
			snprintf(which, sizeof(which), " (queue %u)", q->nic_queue);
		printf("xdpstack: frames at exit%s: total %u free %u fill %u rx_borrowed %u "
		       "tx_borrowed %u tx_queued %u in_flight %u misuse %u lost %u\n",
		       which, f.total, f.free, f.fill, f.rx_borrowed, f.tx_borrowed, f.tx_queued,
		       f.in_flight, f.misuse, lost);
		fflush(stdout);
		if (lost) {
			log_msg(LOG_ERR,
				"%u UMEM frames of queue %u did not come home (a leak in "
				"the stack: see the frames line on stdout)",
				lost, q->nic_queue);
			rc = 3;
		}
	}
	return rc;
}

void queue_free_device(struct queue *q)
{
	xs_dev_free(q->dev);
	q->dev = q->hw = NULL;
}
