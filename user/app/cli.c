/* Command line of the xdpstack daemon: every bad argument gets one line that
 * names it and what was expected, and exit status 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xdpstack/mq.h>

#include "app/app.h"
#include "app/busypoll.h"
#include "app/svc_iperf3.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xdpstack --ip ADDR[/PLEN] [options]\n"
		"Serve ADDR from a user-space TCP/IP stack on a NIC shared with the kernel.\n"
		"\n"
		"  --ip ADDR[/PLEN]   the stack's IPv4 address (prefix: from the kernel's route, else 24)\n"
		"  --ip dhcp          take address, prefix, gateway and DNS servers from DHCP (needs\n"
		"                     --dev; uses --mac, else a locally administered MAC derived\n"
		"                     from the interface's, so the kernel's own DHCP is untouched)\n"
		"  --dev IFACE        interface (default: the one the kernel routes ADDR's subnet through)\n"
		"  --gw ADDR          default gateway for destinations off the subnet\n"
		"  --ip6 ADDR[/PLEN]  also serve this IPv6 address (repeatable, up to 4; prefix\n"
		"                     default 64); turns IPv6 on, with a link-local address of\n"
		"                     the stack's own (RFC 7217, never the kernel's)\n"
		"  --ip6 auto         IPv6 addresses, prefixes and default routers from Router\n"
		"                     Advertisements (SLAAC, RFC 4862)\n"
		"  --gw6 ADDR         IPv6 default router (link-local, or in an --ip6 prefix)\n"
		"  --ip6-dad N        Neighbor Solicitations of duplicate address detection per\n"
		"                     address, 0-10 (default 1; 0: addresses usable at once)\n"
		"  --mac MAC          use this MAC instead of the interface's own (sets promiscuous mode)\n"
		"  --mode MODE        XDP attach mode: native or generic (default: native, else generic)\n"
		"  --queue N          NIC rx queue to serve (default 0); with --queues, the first\n"
		"  --queues N         serve N NIC queues (from --queue on), one stack and one thread\n"
		"                     per queue, each pinned to a CPU, 1-64 (default: all the NIC's\n"
		"                     queues; 1 when --queue or --ip6 is given: IPv6 serves one\n"
		"                     queue)\n"
		"  --xdp-mode MODE    AF_XDP bind: zerocopy, copy, or auto (default: zero-copy where\n"
		"                     the driver has it, else copy, said in one line)\n"
		"  --udp-echo PORT    UDP echo service port (default 8888, 0 = off)\n"
		"  --tcp-echo PORT    TCP echo service port (default 8888, 0 = off)\n"
		"  --tcp-discard PORT TCP discard service port (default 9, 0 = off)\n"
		"  --tcp-source PORT  TCP source (streams bytes to whoever connects; default 19, 0 = off)\n"
		"  --iperf3[=PORT]    serve stock iperf3 clients on PORT (TCP and UDP; default 5201)\n"
		"  --sockperf[=PORT]  sockperf server on UDP and TCP PORT (default 11111)\n"
		"  --sockperf-idle-timeout MS  its TCP connections that send nothing for MS\n"
		"                     are reset (default 120000)\n"
		"  --http PORT        serve static files over HTTP/1.1 on PORT (needs --root)\n"
		"  --root DIR         the directory --http serves (symlinks are not followed)\n"
		"  --http-header-timeout MS  time a client has to send a request head\n"
		"                     (default 10000; then 408 and close)\n"
		"  --http-max-conns N HTTP connections at once, 1-4096 (default 1024; more are reset)\n"
		"  --http-send-timeout MS  a response that makes no progress this long is reset\n"
		"                     (default 60000)\n"
		"  --https PORT       serve the --root files over HTTPS (TLS 1.2 and 1.3) on PORT\n"
		"                     (needs --root, --cert, --key; the --http-* budgets apply)\n"
		"  --tls-echo PORT    a TLS echo service on PORT (needs --cert, --key)\n"
		"  --cert FILE        PEM certificate (then its chain) of --https and --tls-echo\n"
		"  --key FILE         its PEM private key\n"
		"  --tls-handshake-timeout MS  a TLS handshake not done this long after the\n"
		"                     connection came is dropped, 1-3600000 (default 10000)\n"
		"  --tls-max-handshakes N  TLS handshakes in progress at once, 1-1000000\n"
		"                     (default 256; more connections are reset)\n"
		"  --dns ADDR[:PORT]  a DNS server for names (repeatable, up to 4, tried in turn)\n"
		"  --dns-timeout MS   wait for one server's reply, 10-60000 (default 2000)\n"
		"  --dns-cache N      names cached at most, 1-65536 (default 256)\n"
		"  --dns-queries N    names being resolved at once, 1-4096 (default 64)\n"
		"  --pcap FILE        write every frame received and sent to FILE (pcap, mode 0600)\n"
		"  --ctl PATH         control socket for xdpstack-ctl\n"
		"                     (default " XS_CTL_DIR "/IFACE.sock; directory 0700, socket 0600)\n"
		"  --frag-timeout MS  IPv4 reassembly timeout in milliseconds (default 30000)\n"
		"  --icmp-rate N      ICMP errors sent per second at most (default 100)\n"
		"  --tcp-rto-min MS   TCP retransmission timeout floor, 1-1000 ms (default 200,\n"
		"                     Linux's; a LAN of sub-millisecond RTTs may go lower)\n"
		"  --ttl N            TTL of every IPv4 packet the stack sends, 1-255 (default 64)\n"
		"  --tcp-max-orphans N      connections closed by the application but still\n"
		"                     closing, at most; beyond, a close resets (default 4096;\n"
		"                     like net.ipv4.tcp_max_orphans)\n"
		"  --tcp-orphan-mem SIZE    bytes those orphans may hold in all (default 64M)\n"
		"  --tcp-orphan-retries N   timeouts or zero-window probes an orphan gets without\n"
		"                     progress, 1-255 (default 8; net.ipv4.tcp_orphan_retries)\n"
		"  --tcp-synack-retries N   SYN-ACK retransmissions before a half-open connection\n"
		"                     is dropped, 1-255 (default 5; net.ipv4.tcp_synack_retries)\n"
		"  --tcp-persist-span MS    an orphan's zero window without progress is given up\n"
		"                     after MS, answered probes or not (any connection's under\n"
		"                     memory pressure), 100-86400000 (default 300000)\n"
		"  --tcp-mem LOW,PRESSURE,HIGH  bytes all TCP connections may hold (default\n"
		"                     384M,512M,768M; like net.ipv4.tcp_mem): above PRESSURE\n"
		"                     (until below LOW) buffers shrink, above HIGH new\n"
		"                     connections are refused. SIZE: bytes, or with K, M, G\n"
		"  --busy-poll[=US]   spin on the AF_XDP rings instead of sleeping in poll() while\n"
		"                     frames come; sleep after US microseconds without one,\n"
		"                     1-60000000 (default 200000); burns a core while traffic\n"
		"                     flows, and asks the kernel to busy-poll the socket too\n"
		"  --tcp-max-conns N  TCP connections at most, listeners, half-open and\n"
		"                     TIME-WAIT included, 16-16777216 (default 262144); past\n"
		"                     it SYNs are dropped and connects fail\n"
		"  --tcp-buf-idle MS  an empty send or receive buffer is freed after MS unused,\n"
		"                     0-60000 (default 200; 0: as soon as a poll leaves it empty)\n"
		"  --filter FILE      packet filter rules, one a line, # comments (see README;\n"
		"                     at most 64 rules; change them live with xdpstack-ctl filter)\n"
		"  --filter-xdp on|off  enforce the inbound rules that headers decide in the XDP\n"
		"                     program (on, the default), or all of them in the stack (off:\n"
		"                     every frame for the stack is copied to it first)\n"
		"  -a, --all-counters the counter dump (exit, SIGUSR1) lists zeros too\n"
		"  -v, --verbose      more log: -v how XDP attached and libbpf/libxdp warnings,\n"
		"                     -vv their debug narration too\n"
		"  -q, --quiet        errors only (no status lines on stdout)\n"
		"  --syslog           log to syslog (daemon facility) instead of stderr\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"Signals: SIGUSR1 prints the non-zero counters by layer (-a: all);\n"
		"SIGINT/SIGTERM detach and exit (printing them once more).\n"
		"Control: xdpstack-ctl [--ctl PATH] addr|arp|route|ping|stats|conns|connect|help\n"
		"(see its --help).\n");
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "xdpstack: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

int cli_parse_ip4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	/* inet_pton accepts exactly four decimal octets, nothing else. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	*out = strtoul(s, &end, 10);
	return (*end || *out > max) ? -1 : 0;
}

/* A size in bytes, with an optional K, M or G (binary) suffix. */
static int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (max >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return *out < min ? -1 : 0;
}

static int parse_tcp_mem(const char *arg, uint64_t m[3])
{
	char buf[96], *p, *save = NULL;
	int i;

	const char *q;
	int commas = 0;

	for (q = arg; *q; q++)
		commas += *q == ',';
	if (commas != 2 || strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (i = 0, p = strtok_r(buf, ",", &save); i < 3; i++, p = strtok_r(NULL, ",", &save))
		if (!p || parse_size(p, 64 << 10, 1ull << 40, &m[i]))
			return -1;
	return m[0] <= m[1] && m[1] <= m[2] ? 0 : -1;
}

static int parse_ip_prefix(const char *arg, struct xs_opts *o)
{
	char buf[64];
	char *slash;
	unsigned long plen;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		if (parse_uint(slash + 1, 32, &plen) || plen < 1)
			return -1;
		o->prefix_len = (int)plen;
	}
	if (cli_parse_ip4(buf, &o->ip))
		return -1;
	/* Unicast only: not 0/8, loopback, multicast, reserved or broadcast. */
	if ((o->ip >> 24) == 0 || (o->ip >> 24) == 127 || o->ip >= 0xe0000000u)
		return -1;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 || strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A station address: not multicast/broadcast, not all zero. */
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -1;
	return 0;
}

/* --sockperf, --sockperf=PORT or --sockperf PORT (a next word that is a number). */
/* The value of an option whose argument is optional: --opt=VALUE, or
 * --opt VALUE when the next word is a number; NULL when none is given. */
static const char *optional_value(int argc, char **argv)
{
	if (!optarg && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9')
		return argv[optind++];
	return optarg;
}

static int parse_sockperf(int argc, char **argv, struct xs_opts *o)
{
	const char *arg = optional_value(argc, argv);
	unsigned long v = XS_DEFAULT_SOCKPERF;

	if (arg && (parse_uint(arg, 65535, &v) || !v))
		return fail("invalid --sockperf '%s': expected a port 1-65535", arg);
	o->sockperf_port = (uint16_t)v;
	return 0;
}

/* Long-only options without a letter (--queue's went to -q). */
enum {
	OPT_QUEUE = 0x100,
	OPT_SOCKPERF,
	OPT_HTTP,
	OPT_HTTP_ROOT,
	OPT_HTTP_HEADER_TIMEOUT,
	OPT_HTTP_MAX_CONNS,
	OPT_HTTP_SEND_TIMEOUT,
	OPT_TCP_MAX_CONNS,
	OPT_TCP_BUF_IDLE,
	OPT_DNS,
	OPT_DNS_TIMEOUT,
	OPT_DNS_CACHE,
	OPT_DNS_QUERIES,
	OPT_FILTER,
	OPT_HTTPS,
	OPT_TLS_ECHO,
	OPT_CERT,
	OPT_KEY,
	OPT_TLS_HS_TIMEOUT,
	OPT_TLS_MAX_HS,
	OPT_IP6,
	OPT_IP6_DAD,
	OPT_GW6,
	OPT_QUEUES,
	OPT_XDP_MODE,
	OPT_TCP_SYNACK_RETRIES,
	OPT_SOCKPERF_IDLE,
	OPT_FILTER_XDP,
};

/* --ip6 ADDR[/PLEN] (a unicast address; the link-local one is the stack's
 * own) or --ip6 auto. */
static int parse_ip6(const char *arg, struct xs_opts *o)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char buf[64], *slash;
	unsigned long plen = 64;
	uint8_t a[16], zero[16] = { 0 };
	unsigned i;

	if (!strcmp(arg, "auto")) {
		o->ip6_auto = 1;
		return 0;
	}
	if (o->nip6 == XS_IP6_MAX_STATIC)
		return fail("too many --ip6 '%s': at most 4 static addresses", arg);
	if (strlen(arg) >= sizeof(buf))
		return fail("invalid --ip6 '%s': expected a unicast IPv6 ADDR[/1-128] or auto", arg);
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		if (parse_uint(slash + 1, 128, &plen) || !plen)
			return fail("invalid --ip6 '%s': expected a unicast IPv6 ADDR[/1-128] or auto",
				    arg);
	}
	if (inet_pton(AF_INET6, buf, a) != 1 || a[0] == 0xff || !memcmp(a, zero, 16) ||
	    (!memcmp(a, zero, 15) && a[15] == 1) || !memcmp(a, v4mapped, 12))
		return fail("invalid --ip6 '%s': expected a unicast IPv6 ADDR[/1-128] or auto", arg);
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return fail("invalid --ip6 '%s': the stack makes its own link-local address; give "
			    "a global or unique local one", arg);
	for (i = 0; i < o->nip6; i++)
		if (!memcmp(o->ip6[i].addr, a, 16))
			return fail("--ip6 '%s' given twice", arg);
	memcpy(o->ip6[o->nip6].addr, a, 16);
	o->ip6[o->nip6++].plen = (uint8_t)plen;
	return 0;
}

/* --dns A.B.C.D or A.B.C.D:PORT. */
static int parse_dns(const char *arg, struct xs_opts *o)
{
	char buf[32];
	const char *colon = strchr(arg, ':');
	unsigned long port = 53;
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

	if (o->ndns == XS_DNS_MAX_SERVERS)
		return fail("too many --dns '%s': at most 4 servers", arg);
	if (n >= sizeof(buf))
		return fail("invalid --dns '%s': expected A.B.C.D[:PORT]", arg);
	memcpy(buf, arg, n);
	buf[n] = 0;
	if (cli_parse_ip4(buf, &o->dns_ip[o->ndns]) || !o->dns_ip[o->ndns] ||
	    o->dns_ip[o->ndns] >= 0xe0000000u ||
	    (colon && (parse_uint(colon + 1, 65535, &port) || !port)))
		return fail("invalid --dns '%s': expected A.B.C.D[:PORT]", arg);
	o->dns_port[o->ndns++] = (uint16_t)port;
	return 0;
}

/* --filter FILE: read (at most 64 KiB) and checked whole here, so that a bad
 * line is one error naming it before anything is set up; loaded by main. */
#define FILTER_FILE_MAX 65536
static int read_filter(const char *path, struct xs_opts *o)
{
	char msg[512], err[320];
	size_t n = 0, k;
	char *buf;
	FILE *f;

	if (o->filter_text)
		return fail("%s", "--filter given twice: put every rule in one file");
	f = fopen(path, "r");
	if (!f) {
		snprintf(msg, sizeof(msg), "cannot read --filter '%.200s': %s", path, strerror(errno));
		return fail("%s", msg);
	}
	buf = malloc(FILTER_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return fail("%s", "--filter: out of memory");
	}
	while ((k = fread(buf + n, 1, FILTER_FILE_MAX + 1 - n, f)) > 0)
		n += k;
	fclose(f);
	if (n > FILTER_FILE_MAX) {
		free(buf);
		snprintf(msg, sizeof(msg), "invalid --filter '%.200s': larger than 64 KiB", path);
		return fail("%s", msg);
	}
	if (xs_filter_check(buf, n, err, sizeof(err))) {
		free(buf);
		snprintf(msg, sizeof(msg), "invalid --filter '%.100s': %s", path, err);
		return fail("%s", msg);
	}
	o->filter_text = buf;
	o->filter_len = n;
	return 0;
}

/* --http (or --https) and --root come together, and the root is a
 * directory; the TLS services need a certificate and its key, and these
 * need a TLS service (they are loaded at start, before anything is in force). */
static int cli_check_http(const struct xs_opts *o)
{
	struct stat sb;
	int tls = o->https_port || o->tls_echo_port;

	if (o->http_port && !o->http_root)
		return fail("%s", "--http needs --root DIR: the directory to serve");
	if (o->https_port && !o->http_root)
		return fail("%s", "--https needs --root DIR: the directory to serve");
	if (!o->http_port && !o->https_port &&
	    (o->http_root || o->http_header_timeout_ms || o->http_max_conns ||
	     o->http_send_timeout_ms))
		return fail("%s", "--root and the other --http-* options need --http or --https PORT");
	if (tls && !o->tls_cert)
		return fail("%s", "--https and --tls-echo need --cert FILE and --key FILE");
	if (!tls && (o->tls_cert || o->tls_key || o->tls_handshake_timeout_ms ||
		     o->tls_max_handshakes))
		return fail("%s", "--cert, --key and --tls-* need --https or --tls-echo PORT");
	if (o->tls_cert && !o->tls_key)
		return fail("%s", "--cert needs --key FILE: the certificate's private key");
	if (o->https_port && (o->https_port == o->http_port || o->https_port == o->tls_echo_port))
		return fail("%s", "--https needs a TCP port of its own");
	if (o->http_root && stat(o->http_root, &sb))
		return fail("invalid --root '%s': no such directory", o->http_root);
	if (o->http_root && !S_ISDIR(sb.st_mode))
		return fail("invalid --root '%s': not a directory", o->http_root);
	return 0;
}

/* RFC 4861 6.3.4: a router is a neighbour: link-local, or on the link of
 * one of the --ip6 prefixes. */
static int cli_check_gw6(const struct xs_opts *o)
{
	char t[INET6_ADDRSTRLEN];
	unsigned i, bits;

	inet_ntop(AF_INET6, o->gw6, t, sizeof(t));
	if (!o->nip6 && !o->ip6_auto)
		return fail("--gw6 %s needs IPv6: give --ip6 ADDR or --ip6 auto", t);
	if (o->gw6[0] == 0xfe && (o->gw6[1] & 0xc0) == 0x80)
		return 0;
	for (i = 0; i < o->nip6; i++) {
		const uint8_t *a = o->ip6[i].addr;

		bits = o->ip6[i].plen;
		if (bits == 128 || !memcmp(a, o->gw6, 16))
			continue;
		if (memcmp(a, o->gw6, bits / 8) ||
		    (bits % 8 && ((a[bits / 8] ^ o->gw6[bits / 8]) & (0xff00 >> (bits % 8)))))
			continue;
		return 0;
	}
	return fail("invalid --gw6 %s: not a neighbour; give a link-local address or one "
		    "inside an --ip6 prefix", t);
}

int cli_parse(int argc, char **argv, struct xs_opts *o)
{
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "dev", required_argument, NULL, 'd' },
		{ "gw", required_argument, NULL, 'g' },
		{ "mac", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
		{ "udp-echo", required_argument, NULL, 'u' },
		{ "tcp-echo", required_argument, NULL, 'E' },
		{ "tcp-discard", required_argument, NULL, 'D' },
		{ "tcp-source", required_argument, NULL, 'S' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "frag-timeout", required_argument, NULL, 'F' },
		{ "icmp-rate", required_argument, NULL, 'R' },
		{ "tcp-rto-min", required_argument, NULL, 'T' },
		{ "iperf3", optional_argument, NULL, 'I' },
		{ "ttl", required_argument, NULL, 'L' },
		{ "tcp-max-orphans", required_argument, NULL, 'O' },
		{ "tcp-orphan-mem", required_argument, NULL, 'o' },
		{ "tcp-orphan-retries", required_argument, NULL, 'r' },
		{ "tcp-persist-span", required_argument, NULL, 'P' },
		{ "tcp-synack-retries", required_argument, NULL, OPT_TCP_SYNACK_RETRIES },
		{ "tcp-mem", required_argument, NULL, 'W' },
		{ "sockperf", optional_argument, NULL, OPT_SOCKPERF },
		{ "sockperf-idle-timeout", required_argument, NULL, OPT_SOCKPERF_IDLE },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "root", required_argument, NULL, OPT_HTTP_ROOT },
		{ "http-header-timeout", required_argument, NULL, OPT_HTTP_HEADER_TIMEOUT },
		{ "http-max-conns", required_argument, NULL, OPT_HTTP_MAX_CONNS },
		{ "http-send-timeout", required_argument, NULL, OPT_HTTP_SEND_TIMEOUT },
		{ "busy-poll", optional_argument, NULL, 'B' },
		{ "tcp-max-conns", required_argument, NULL, OPT_TCP_MAX_CONNS },
		{ "tcp-buf-idle", required_argument, NULL, OPT_TCP_BUF_IDLE },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
		{ "dns-cache", required_argument, NULL, OPT_DNS_CACHE },
		{ "dns-queries", required_argument, NULL, OPT_DNS_QUERIES },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "https", required_argument, NULL, OPT_HTTPS },
		{ "tls-echo", required_argument, NULL, OPT_TLS_ECHO },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "tls-handshake-timeout", required_argument, NULL, OPT_TLS_HS_TIMEOUT },
		{ "tls-max-handshakes", required_argument, NULL, OPT_TLS_MAX_HS },
		{ "ip6", required_argument, NULL, OPT_IP6 },
		{ "ip6-dad", required_argument, NULL, OPT_IP6_DAD },
		{ "gw6", required_argument, NULL, OPT_GW6 },
		{ "filter-xdp", required_argument, NULL, OPT_FILTER_XDP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "syslog", no_argument, NULL, 'Y' },
		{ "all-counters", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, have_ip = 0;

	memset(o, 0, sizeof(*o));
	o->prefix_len = -1;
	o->ip6_dad = -1;
	o->udp_echo = XS_DEFAULT_UDP_ECHO;
	o->tcp_ports[0] = XS_DEFAULT_TCP_ECHO;
	o->tcp_ports[1] = XS_DEFAULT_TCP_DISCARD;
	o->tcp_ports[2] = XS_DEFAULT_TCP_SOURCE;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":vqahV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!strcmp(optarg, "dhcp")) {
				o->dhcp = 1;
				have_ip = 1;
				break;
			}
			if (parse_ip_prefix(optarg, o))
				return fail("invalid --ip '%s': expected a unicast A.B.C.D[/1-32]", optarg);
			have_ip = 1;
			break;
		case 'd':
			if (!*optarg || strlen(optarg) >= 16)
				return fail("invalid --dev '%s': not an interface name", optarg);
			o->dev = optarg;
			break;
		case 'g':
			if (cli_parse_ip4(optarg, &o->gateway) || !o->gateway)
				return fail("invalid --gw '%s': expected A.B.C.D", optarg);
			break;
		case 'm':
			if (parse_mac(optarg, o->mac))
				return fail("invalid --mac '%s': expected a unicast aa:bb:cc:dd:ee:ff", optarg);
			o->have_mac = 1;
			break;
		case 'M':
			if (!strcmp(optarg, "native"))
				o->mode = XS_XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				o->mode = XS_XDP_MODE_GENERIC;
			else
				return fail("invalid --mode '%s': expected native or generic", optarg);
			break;
		case 'u':
			if (parse_uint(optarg, 65535, &v))
				return fail("invalid --udp-echo '%s': expected a port 0-65535", optarg);
			o->udp_echo = (int)v;
			break;
		case 'E':
		case 'D':
		case 'S':
			if (parse_uint(optarg, 65535, &v))
				return fail("invalid TCP service port '%s': expected 0-65535", optarg);
			o->tcp_ports[c == 'E' ? 0 : c == 'D' ? 1 : 2] = (uint16_t)v;
			break;
		case 'p':
			if (!*optarg)
				return fail("invalid --pcap '%s': expected a file name", optarg);
			o->pcap = optarg;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= XS_CTL_PATH_MAX)
				return fail("invalid --ctl '%s': expected a socket path of 1-107 bytes",
					    optarg);
			o->ctl = optarg;
			break;
		case 'F':
			if (parse_uint(optarg, 3600000, &v) || !v)
				return fail("invalid --frag-timeout '%s': expected 1-3600000 ms", optarg);
			o->frag_timeout_ms = (unsigned)v;
			break;
		case 'R':
			if (parse_uint(optarg, 1000000, &v) || !v)
				return fail("invalid --icmp-rate '%s': expected 1-1000000 per second",
					    optarg);
			o->icmp_rate = (unsigned)v;
			break;
		case 'T':
			if (parse_uint(optarg, 1000, &v) || !v)
				return fail("invalid --tcp-rto-min '%s': expected 1-1000 ms", optarg);
			o->tcp_rto_min_ms = (unsigned)v;
			break;
		case 'I':
			/* --iperf3=PORT, or --iperf3 PORT when a number follows. */
			optarg = (char *)optional_value(argc, argv);
			if (!optarg) {
				o->iperf3_port = XS_DEFAULT_IPERF3_PORT;
				break;
			}
			if (parse_uint(optarg, 65535, &v) || !v)
				return fail("invalid --iperf3 port '%s': expected 1-65535", optarg);
			o->iperf3_port = (int)v;
			break;
		case 'L':
			/* RFC 9293 3.9.2 (MUST-49): the TTL is configurable. */
			if (parse_uint(optarg, 255, &v) || !v)
				return fail("invalid --ttl '%s': expected 1-255", optarg);
			o->ip_ttl = (unsigned)v;
			break;
		case 'O':
			if (parse_uint(optarg, 1000000, &v) || !v)
				return fail("invalid --tcp-max-orphans '%s': expected 1-1000000", optarg);
			o->tcp_max_orphans = (unsigned)v;
			break;
		case 'o':
			if (parse_size(optarg, 4096, 1ull << 40, &o->tcp_orphan_mem))
				return fail("invalid --tcp-orphan-mem '%s': expected a size of 4K-1024G "
					    "(bytes, or with K, M, G)", optarg);
			break;
		case 'r':
			if (parse_uint(optarg, 255, &v) || !v)
				return fail("invalid --tcp-orphan-retries '%s': expected 1-255", optarg);
			o->tcp_orphan_retries = (unsigned)v;
			break;
		case OPT_SOCKPERF_IDLE:
			if (parse_uint(optarg, 86400000, &v) || v < 100)
				return fail("invalid --sockperf-idle-timeout '%s': expected 100-86400000 "
					    "ms", optarg);
			o->sockperf_idle_ms = (uint32_t)v;
			break;
		case OPT_TCP_SYNACK_RETRIES:
			if (parse_uint(optarg, 255, &v) || !v)
				return fail("invalid --tcp-synack-retries '%s': expected 1-255", optarg);
			o->tcp_synack_retries = (unsigned)v;
			break;
		case 'P':
			if (parse_uint(optarg, 86400000, &v) || v < 100)
				return fail("invalid --tcp-persist-span '%s': expected 100-86400000 ms",
					    optarg);
			o->tcp_persist_span_ms = (unsigned)v;
			break;
		case 'W':
			if (parse_tcp_mem(optarg, o->tcp_mem))
				return fail("invalid --tcp-mem '%s': expected LOW,PRESSURE,HIGH sizes of "
					    "64K-1024G with LOW <= PRESSURE <= HIGH", optarg);
			break;
		case OPT_TCP_MAX_CONNS:
			if (parse_uint(optarg, 16777216, &v) || v < 16)
				return fail("invalid --tcp-max-conns '%s': expected 16-16777216", optarg);
			o->tcp_max_conns = (unsigned)v;
			break;
		case OPT_TCP_BUF_IDLE:
			if (parse_uint(optarg, 60000, &v))
				return fail("invalid --tcp-buf-idle '%s': expected 0-60000 ms", optarg);
			o->tcp_buf_idle_ms = v ? (unsigned)v : XS_TCP_BUF_IDLE_NOW;
			break;
		case OPT_SOCKPERF:
			if (parse_sockperf(argc, argv, o))
				return -1;
			break;
		case OPT_HTTP:
			if (parse_uint(optarg, 65535, &v) || !v)
				return fail("invalid --http port '%s': expected 1-65535", optarg);
			o->http_port = (int)v;
			break;
		case OPT_HTTP_ROOT:
			o->http_root = optarg;
			break;
		case OPT_HTTP_HEADER_TIMEOUT:
			if (parse_uint(optarg, 3600000, &v) || !v)
				return fail("invalid --http-header-timeout '%s': expected 1-3600000 ms",
					    optarg);
			o->http_header_timeout_ms = (unsigned)v;
			break;
		case OPT_HTTP_MAX_CONNS:
			if (parse_uint(optarg, 4096, &v) || !v)
				return fail("invalid --http-max-conns '%s': expected 1-4096", optarg);
			o->http_max_conns = (unsigned)v;
			break;
		case OPT_HTTP_SEND_TIMEOUT:
			if (parse_uint(optarg, 3600000, &v) || !v)
				return fail("invalid --http-send-timeout '%s': expected 1-3600000 ms",
					    optarg);
			o->http_send_timeout_ms = (unsigned)v;
			break;
		case 'B':
			/* --busy-poll=US, or --busy-poll US when a number follows. */
			optarg = (char *)optional_value(argc, argv);
			if (!optarg) {
				o->busy_poll_us = BUSY_POLL_DEFAULT_US;
				break;
			}
			if (parse_uint(optarg, BUSY_POLL_MAX_US, &v) || !v)
				return fail("invalid --busy-poll '%s': expected an idle period of "
					    "1-60000000 microseconds", optarg);
			o->busy_poll_us = (uint32_t)v;
			break;
		case OPT_DNS:
			if (parse_dns(optarg, o))
				return -1;
			break;
		case OPT_DNS_TIMEOUT:
			if (parse_uint(optarg, 60000, &v) || v < 10)
				return fail("invalid --dns-timeout '%s': expected 10-60000 ms", optarg);
			o->dns_timeout_ms = (unsigned)v;
			break;
		case OPT_DNS_CACHE:
			if (parse_uint(optarg, 65536, &v) || !v)
				return fail("invalid --dns-cache '%s': expected 1-65536", optarg);
			o->dns_cache = (unsigned)v;
			break;
		case OPT_DNS_QUERIES:
			if (parse_uint(optarg, 4096, &v) || !v)
				return fail("invalid --dns-queries '%s': expected 1-4096", optarg);
			o->dns_queries = (unsigned)v;
			break;
		case OPT_FILTER:
			if (read_filter(optarg, o))
				return -1;
			break;
		case OPT_HTTPS:
		case OPT_TLS_ECHO:
			if (parse_uint(optarg, 65535, &v) || !v)
				return fail(c == OPT_HTTPS ? "invalid --https port '%s': expected 1-65535"
							   : "invalid --tls-echo port '%s': expected 1-65535",
					    optarg);
			*(c == OPT_HTTPS ? &o->https_port : &o->tls_echo_port) = (int)v;
			break;
		case OPT_CERT:
		case OPT_KEY:
			if (!*optarg)
				return fail("%s", c == OPT_CERT ? "invalid --cert '': expected a file"
								: "invalid --key '': expected a file");
			*(c == OPT_CERT ? &o->tls_cert : &o->tls_key) = optarg;
			break;
		case OPT_TLS_HS_TIMEOUT:
			if (parse_uint(optarg, 3600000, &v) || !v)
				return fail("invalid --tls-handshake-timeout '%s': expected 1-3600000 ms",
					    optarg);
			o->tls_handshake_timeout_ms = (unsigned)v;
			break;
		case OPT_TLS_MAX_HS:
			if (parse_uint(optarg, 1000000, &v) || !v)
				return fail("invalid --tls-max-handshakes '%s': expected 1-1000000",
					    optarg);
			o->tls_max_handshakes = (unsigned)v;
			break;
		case OPT_IP6:
			if (parse_ip6(optarg, o))
				return -1;
			break;
		case OPT_GW6:
			if (inet_pton(AF_INET6, optarg, o->gw6) != 1 || o->gw6[0] == 0xff ||
			    !memcmp(o->gw6, (const uint8_t[16]){ 0 }, 16))
				return fail("invalid --gw6 '%s': expected a unicast IPv6 address", optarg);
			o->have_gw6 = 1;
			break;
		case OPT_IP6_DAD:
			if (parse_uint(optarg, 10, &v))
				return fail("invalid --ip6-dad '%s': expected 0-10", optarg);
			o->ip6_dad = (int)v;
			break;
		case OPT_FILTER_XDP:
			if (!strcmp(optarg, "on"))
				o->filter_xdp_off = 0;
			else if (!strcmp(optarg, "off"))
				o->filter_xdp_off = 1;
			else
				return fail("invalid --filter-xdp '%s': expected on or off", optarg);
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_QUEUE:
			if (parse_uint(optarg, 1023, &v))
				return fail("invalid --queue '%s': expected 0-1023", optarg);
			o->queue = (uint32_t)v;
			o->have_queue = 1;
			break;
		case OPT_QUEUES:
			if (parse_uint(optarg, XS_MQ_MAX, &v) || !v)
				return fail("invalid --queues '%s': expected 1-64", optarg);
			o->nqueues = (unsigned)v;
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "auto"))
				o->xdp_bind = XS_XDP_BIND_AUTO;
			else if (!strcmp(optarg, "copy"))
				o->xdp_bind = XS_XDP_BIND_COPY;
			else if (!strcmp(optarg, "zerocopy") || !strcmp(optarg, "zero-copy"))
				o->xdp_bind = XS_XDP_BIND_ZEROCOPY;
			else
				return fail("invalid --xdp-mode '%s': expected zerocopy, copy or auto",
					    optarg);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'Y':
			o->use_syslog = 1;
			break;
		case 'a':
			o->all_counters = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("xdpstack %s\n", XS_VERSION);
			return 1;
		case ':':
			return fail("option '%s' needs an argument (see --help)", argv[optind - 1]);
		default:
			return fail("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail("unexpected argument '%s' (see --help)", argv[optind]);
	if (!have_ip)
		return fail("%s", "missing --ip ADDR: the address the stack serves (see --help)");
	if (o->dhcp && (o->gateway || o->prefix_len >= 0))
		return fail("%s", "--ip dhcp takes the prefix and gateway from the server: drop --gw");
	if (o->dhcp && !o->dev)
		return fail("%s", "--ip dhcp needs --dev IFACE: there is no address to pick it by");
	if (o->ip6_dad >= 0 && !o->nip6 && !o->ip6_auto)
		return fail("%s", "--ip6-dad needs IPv6: give --ip6 ADDR or --ip6 auto");
	if (o->have_gw6 && cli_check_gw6(o))
		return -1;
	if (o->nqueues && o->queue + o->nqueues > XS_MQ_MAX) {
		char msg[96];

		snprintf(msg, sizeof(msg), "--queue %u --queues %u: xdpstack serves queues 0-%u",
			 o->queue, o->nqueues, XS_MQ_MAX - 1);
		return fail("%s", msg);
	}
	return cli_check_http(o);
}

int cli_check_gateway(uint32_t ip, int prefix_len, uint32_t gw, char *err, size_t len)
{
	uint32_t mask = prefix_len >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix_len);
	char g[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	struct in_addr a;

	if (!gw)
		return 0;
	a.s_addr = htonl(gw);
	inet_ntop(AF_INET, &a, g, sizeof(g));
	a.s_addr = htonl(ip & mask);
	inet_ntop(AF_INET, &a, net, sizeof(net));
	if (gw == ip) {
		snprintf(err, len, "invalid --gw %s: that is the stack's own address", g);
		return -1;
	}
	/* A host reaches its gateway on-link (RFC 1122 3.3.1.1): a host of the
	 * connected subnet, neither its network nor its broadcast address. */
	if ((gw & mask) != (ip & mask) ||
	    (prefix_len < 31 && (gw == (ip & mask) || gw == (ip | ~mask)))) {
		snprintf(err, len,
			 "invalid --gw %s: not a host on the connected subnet %s/%d; "
			 "pick a gateway on that subnet (or a wider --ip ADDR/PLEN)",
			 g, net, prefix_len);
		return -1;
	}
	return 0;
}
