/* The xdpstack daemon's internal interfaces: command line, queries of the
 * kernel's view of the host, and the built-in services. */
#ifndef XS_APP_H
#define XS_APP_H

#include <stdint.h>
#include <stdio.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#define XS_VERSION "0.1.0"
#define XS_DEFAULT_UDP_ECHO 8888
#define XS_DEFAULT_TCP_ECHO 8888
#define XS_DEFAULT_TCP_DISCARD 9
#define XS_DEFAULT_TCP_SOURCE 19

struct xs_opts {
	uint32_t ip;          /* host order */
	int prefix_len;       /* -1: take it from the kernel's route */
	uint32_t gateway;
	const char *dev;      /* NULL: pick by route */
	uint8_t mac[6];
	int have_mac;
	int dhcp;             /* --ip dhcp: the address comes from a DHCP server */
	enum xs_xdp_mode mode;
	enum xs_xdp_bind xdp_bind; /* --xdp-mode: zero-copy or copy (auto: what the driver has) */
	uint32_t queue;       /* --queue: the first NIC queue served (0) */
	int have_queue;       /* --queue given: one queue unless --queues says more */
	unsigned nqueues;     /* --queues N; 0: all the NIC's (from --queue on) */
	int udp_echo;         /* port, 0 = off */
	uint16_t tcp_ports[3]; /* TCP echo, discard, source; 0 = off */
	int verbose;          /* -v count: 1 info, 2 debug */
	int quiet;            /* -q: errors only */
	int use_syslog;       /* --syslog: log to syslog, not stderr */
	int all_counters;     /* -a: the counter dump lists zeros too */
	const char *pcap;     /* capture file, NULL = none */
	const char *ctl;      /* control socket, NULL = /run/xdpstack/IFACE.sock */
	unsigned frag_timeout_ms; /* 0 = the library's default */
	unsigned icmp_rate;   /* ICMP errors per second, 0 = the library's default */
	unsigned tcp_rto_min_ms; /* 0 = the library's default (200) */
	int iperf3_port;      /* iperf3 service port, 0 = off */
	unsigned ip_ttl;      /* TTL of what the stack sends, 0 = the library's default (64) */
	/* TCP budgets, 0 = the library's default (xs_config says which). */
	unsigned tcp_max_orphans;
	uint64_t tcp_orphan_mem;
	unsigned tcp_orphan_retries;
	unsigned tcp_synack_retries;
	unsigned tcp_persist_span_ms;
	uint64_t tcp_mem[3];
	unsigned tcp_max_conns;
	unsigned tcp_buf_idle_ms; /* XS_TCP_BUF_IDLE_NOW for --tcp-buf-idle 0 */
	uint16_t sockperf_port; /* sockperf service on UDP and TCP, 0 = off */
	uint32_t sockperf_idle_ms; /* its idle TCP connections reset after (0: default) */
	int http_port;        /* HTTP service port, 0 = off */
	const char *http_root; /* directory it serves (required with --http) */
	unsigned http_header_timeout_ms; /* 0 = the service's default (10000) */
	unsigned http_max_conns; /* 0 = the service's default (1024) */
	unsigned http_send_timeout_ms; /* 0 = the service's default (60000) */
	int https_port;       /* HTTPS service port (the --root files over TLS), 0 = off */
	int tls_echo_port;    /* TLS echo service port, 0 = off */
	const char *tls_cert; /* PEM certificate chain of the TLS services */
	const char *tls_key;  /* its private key (NULL: in tls_cert) */
	unsigned tls_handshake_timeout_ms; /* 0 = the library's default (10000) */
	unsigned tls_max_handshakes; /* 0 = the library's default (256) */
	uint32_t busy_poll_us; /* --busy-poll idle period, 0 = off */
	/* DNS: servers from --dns (host order; port 53 unless given). */
	uint32_t dns_ip[XS_DNS_MAX_SERVERS];
	uint16_t dns_port[XS_DNS_MAX_SERVERS];
	unsigned ndns;
	unsigned dns_timeout_ms;   /* 0 = the library's default (2000) */
	unsigned dns_cache;        /* 0 = the library's default (256) */
	unsigned dns_queries;      /* 0 = the library's default (64) */
	char *filter_text;         /* --filter FILE's bytes (checked), NULL = none */
	size_t filter_len;
	/* IPv6: --ip6 ADDR/PLEN (repeatable), --ip6 auto (SLAAC), --ip6-dad N.
	 * Any of them turns IPv6 on (with a link-local address). */
	struct xs_ip6_prefix ip6[XS_IP6_MAX_STATIC];
	unsigned nip6;
	int ip6_auto;
	int ip6_dad;               /* -1: the library's default (1) */
	uint8_t gw6[16];           /* --gw6: a default router, network order */
	int have_gw6;
	int filter_xdp_off;        /* --filter-xdp off: the stack judges every rule */
};

#define XS_CTL_DIR "/run/xdpstack"
#define XS_CTL_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* Parses argv. Returns 0 to run, 1 when --help/--version was handled, or
 * -1 after printing one error line (exit status 2). */
int cli_parse(int argc, char **argv, struct xs_opts *o);
int cli_parse_ip4(const char *s, uint32_t *ip);

/* Kernel-side checks (sysnet.c); each returns 0 or -1 with one line in err. */
int sys_check_privileges(char *err, size_t len);
/* Interface whose connected route covers ip; fills name and prefix length. */
int sys_route_dev(uint32_t ip, char *ifname, size_t ifname_len, int *prefix_len,
		  char *err, size_t len);
/* Prefix of the kernel's connected route on ifname covering ip, or -1. */
int sys_route_prefix(const char *ifname, uint32_t ip);
int sys_check_addr_free(const char *ifname, uint32_t ip, char *err, size_t len);
/* The same for an IPv6 address (network order) on ifname. */
int sys_check_addr6_free(const char *ifname, const uint8_t a[16], char *err, size_t len);
/* Makes ifname receive the Ethernet groups of the stack's IPv6 multicast
 * (its solicited-node groups, RFC 4861 7.2.1): a packet socket holding the
 * memberships (closing it drops them), replacing *fd's. 0, or -1 with err. */
int sys_mcast_hold(const char *ifname, const uint8_t (*macs)[6], unsigned n, int *fd, char *err,
		   size_t len);
/* Receives frames for a foreign MAC: returns an fd holding promiscuous mode
 * (released when closed), or -1 with err. */
int sys_promisc_hold(const char *ifname, char *err, size_t len);

/* Validates the gateway against the connected subnet: 0, or -1 with one line. */
int cli_check_gateway(uint32_t ip, int prefix_len, uint32_t gw, char *err, size_t len);

/* Built-in services (services.c). */
int svc_udp_echo_start(struct xs_stack *st, uint16_t port);
/* TCP echo, discard and source (ports[i] 0: off); NULL + one line in err. */
struct svc_tcp;
struct svc_tcp *svc_tcp_start(struct xs_stack *st, const uint16_t ports[3], char *err,
			      size_t errlen);
void svc_tcp_stop(struct xs_stack *st, struct svc_tcp *s);

/* sockperf-compatible server, UDP and TCP on one port (svc_sockperf.c). */
#define XS_DEFAULT_SOCKPERF 11111  /* sockperf's own default port */
#define SVC_SOCKPERF_MAX_MSG 65507 /* sockperf's largest message (its server's default) */
#define SVC_SOCKPERF_MAX_CONNS 256
#define SVC_SOCKPERF_IDLE_MS 120000
struct svc_sockperf_config {
	uint16_t port;
	uint32_t max_msg;     /* longest message accepted, header included (0: 65507) */
	unsigned max_conns;   /* TCP connections served at once (0: 256) */
	uint32_t idle_ms;     /* a TCP connection that sends nothing for this long
			       * is reset, so idle clients cannot hold every slot
			       * (0: 120000) */
};
struct svc_sockperf;
/* NULL + one line in err when a port cannot be bound. */
struct svc_sockperf *svc_sockperf_start(struct xs_stack *st, const struct svc_sockperf_config *cfg,
					char *err, size_t errlen);
void svc_sockperf_stop(struct xs_stack *st, struct svc_sockperf *s);
/* Ends the connections idle past cfg.idle_ms; call it every loop turn (it
 * scans at most four times a second). */
void svc_sockperf_tick(struct svc_sockperf *s, xs_time_t now);
/* Its counters for the counter view, named sockperf_NAME, into out (at
 * most max; s NULL: none). Returns how many were written. */
#define SVC_SOCKPERF_NCOUNTERS_MAX 32
struct cview_extra;
size_t svc_sockperf_counters(const struct svc_sockperf *s, struct cview_extra *out, size_t max);

struct svc_iperf3;
struct svc_http_stats;
struct busy_poll;
/* The stack's counters, then the services' and the loop's (x, ip3, hs and bp
 * may be NULL; sp: nsp sockperf counters, tls: ntls TLS services' counters),
 * grouped by layer: the non-zero ones, or all with all set. */
void print_counters(FILE *f, const struct xs_stats *s, const struct xs_xdp_counters *x,
		    const struct svc_iperf3 *ip3, const struct cview_extra *sp, size_t nsp,
		    const struct svc_http_stats *hs, const struct cview_extra *tls, size_t ntls,
		    const struct busy_poll *bp, int all);

#endif
