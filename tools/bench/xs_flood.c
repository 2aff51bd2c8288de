/* UDP flood generator for the filter benchmark and tests: datagrams as fast as one
 * core sends them, through a UDP socket (sendmmsg) or an AF_PACKET socket past the qdisc. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 1472
#define FRAME_MAX (14 + 20 + 8 + MAX_PAYLOAD)

struct opts {
	struct sockaddr_in dst;
	struct in_addr src;
	int have_src;
	uint16_t sport_lo, sport_hi;
	unsigned long count; /* 0: until duration */
	double duration;     /* 0: until count */
	unsigned size;	     /* UDP payload bytes */
	const char *ifname;  /* AF_PACKET on it; NULL: a UDP socket */
	uint8_t dst_mac[6];
	int have_dst_mac;
	int json;
};

struct result {
	unsigned long sent, blocked;
	double seconds;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const char *why)
{
	fprintf(stderr, "xs_flood: %s: %s\n", what, why);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: xs_flood --dst A.B.C.D:PORT [--count N] [--duration S] [--size B]\n"
	       "                [--sport P[-P]] [--src A.B.C.D] [--packet IFNAME [--dst-mac MAC]]\n"
	       "                [--json]\n"
	       "Sends UDP datagrams of B bytes (default 18) to the destination as fast as it\n"
	       "can, N of them (default 100000) or for S seconds, whichever ends first. With\n"
	       "--packet, prebuilt Ethernet frames go out of IFNAME through AF_PACKET past the\n"
	       "qdisc (PACKET_QDISC_BYPASS); the destination's MAC is --dst-mac or the kernel's\n"
	       "ARP entry for it. A send the device refuses (ENOBUFS) is retried, not counted.\n"
	       "Prints: sent N seconds S pps P blocked K (or one JSON object with --json).\n");
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"dst", required_argument, NULL, 'd'},
	    {"count", required_argument, NULL, 'n'},
	    {"duration", required_argument, NULL, 't'},
	    {"size", required_argument, NULL, 's'},
	    {"sport", required_argument, NULL, 'p'},
	    {"src", required_argument, NULL, 'S'},
	    {"packet", required_argument, NULL, 'P'},
	    {"dst-mac", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *colon, *end;
	unsigned long a, b;
	int c, have_dst = 0;

	memset(o, 0, sizeof(*o));
	o->size = 18;
	o->sport_lo = o->sport_hi = 40000;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			colon = strrchr(optarg, ':');
			if (!colon)
				return die("--dst", "expected A.B.C.D:PORT");
			*colon = '\0';
			a = strtoul(colon + 1, &end, 10);
			if (inet_pton(AF_INET, optarg, &o->dst.sin_addr) != 1 || *end || !a ||
			    a > 65535)
				return die("--dst", "expected A.B.C.D:PORT");
			o->dst.sin_family = AF_INET;
			o->dst.sin_port = htons((uint16_t)a);
			have_dst = 1;
			break;
		case 'n':
			o->count = strtoul(optarg, &end, 10);
			if (*end || !o->count)
				return die("--count", "expected a positive number");
			break;
		case 't':
			o->duration = strtod(optarg, &end);
			if (*end || o->duration <= 0 || o->duration > 3600)
				return die("--duration", "expected 0-3600 seconds");
			break;
		case 's':
			a = strtoul(optarg, &end, 10);
			if (*end || a > MAX_PAYLOAD)
				return die("--size", "expected 0-1472 bytes");
			o->size = (unsigned)a;
			break;
		case 'p':
			a = strtoul(optarg, &end, 10);
			b = a;
			if (*end == '-')
				b = strtoul(end + 1, &end, 10);
			if (*end || !a || a > b || b > 65535)
				return die("--sport", "expected P or P-P within 1-65535");
			o->sport_lo = (uint16_t)a;
			o->sport_hi = (uint16_t)b;
			break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &o->src) != 1)
				return die("--src", "expected A.B.C.D");
			o->have_src = 1;
			break;
		case 'P':
			o->ifname = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o->dst_mac))
				return die("--dst-mac", "expected aa:bb:cc:dd:ee:ff");
			o->have_dst_mac = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!have_dst || optind != argc) {
		usage(stderr);
		return 1;
	}
	if (!o->count && !o->duration)
		o->count = 100000;
	return 0;
}

static int done(const struct opts *o, const struct result *r, double t0)
{
	if (o->count && r->sent >= o->count)
		return 1;
	return o->duration && now_s() - t0 >= o->duration;
}

/* Sends the batch from message first on until all went or time is up; a
 * refused one (ENOBUFS: the device's queue is full) is tried again. */
static int send_batch(int fd, struct mmsghdr *m, unsigned n, struct result *r)
{
	unsigned off = 0;
	int k;

	while (off < n) {
		k = sendmmsg(fd, m + off, n - off, 0);
		if (k > 0) {
			off += (unsigned)k;
			r->sent += (unsigned)k;
			continue;
		}
		if (k < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
		    errno != ECONNREFUSED)
			return -errno;
		r->blocked++;
		sched_yield();
	}
	return 0;
}

static int flood(int fd, const struct opts *o, struct iovec *iov, struct result *r)
{
	struct mmsghdr m[BATCH];
	double t0 = now_s();
	unsigned i, n;
	int rc = 0;

	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!done(o, r, t0)) {
		n = BATCH;
		if (o->count && o->count - r->sent < n)
			n = (unsigned)(o->count - r->sent);
		rc = send_batch(fd, m, n, r);
		if (rc)
			break;
	}
	r->seconds = now_s() - t0;
	return rc;
}

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The kernel's ARP entry for the destination on ifname; without one, an
 * empty datagram to it makes the kernel ask (it counts as one sent). */
static int arp_lookup(const struct opts *o, uint8_t *mac)
{
	char line[256], ip[64], hw[64], dev[64], want[INET_ADDRSTRLEN];
	unsigned flags;
	int tries, s;

	inet_ntop(AF_INET, &o->dst.sin_addr, want, sizeof(want));
	for (tries = 0; tries < 30; tries++) {
		FILE *f;

		if (tries) {
			s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s >= 0) {
				sendto(s, "", 0, 0, (const struct sockaddr *)&o->dst,
				       sizeof(o->dst));
				close(s);
			}
			usleep(100 * 1000);
		}
		f = fopen("/proc/net/arp", "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%63s %*s %x %63s %*s %63s", ip, &flags, hw, dev) == 4 &&
			    !strcmp(ip, want) && !strcmp(dev, o->ifname) && (flags & 2) &&
			    !parse_mac(hw, mac)) {
				fclose(f);
				return 0;
			}
		}
		if (f)
			fclose(f);
	}
	return -1;
}

/* AF_PACKET: BATCH prebuilt frames, source ports spread over the range. */
static int run_packet(const struct opts *o, struct result *r)
{
	static uint8_t frames[BATCH][FRAME_MAX];
	struct iovec iov[BATCH];
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
	struct ifreq ifr;
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr src = o->src;
	size_t len = 14 + 20 + 8 + o->size;
	int fd, one = 1, rc;
	unsigned i;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return die("AF_PACKET socket", strerror(errno));
	if (ioctl(fd, SIOCGIFINDEX, &ifr))
		return die(o->ifname, strerror(errno));
	ll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return die(o->ifname, strerror(errno));
	memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!o->have_src) {
		if (ioctl(fd, SIOCGIFADDR, &ifr))
			return die(o->ifname, "no IPv4 address: give --src");
		src = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	}
	if (o->have_dst_mac)
		memcpy(dst_mac, o->dst_mac, 6);
	else if (arp_lookup(o, dst_mac))
		return die("--dst", "no ARP entry for it on the interface: give --dst-mac");
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)))
		return die("bind", strerror(errno));
	/* Straight to the driver: the qdisc (noqueue on veth anyway) is skipped. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	for (i = 0; i < BATCH; i++) {
		uint8_t *f = frames[i], *ip = f + 14, *u = ip + 20;
		uint16_t sport = (uint16_t)(o->sport_lo + i % (o->sport_hi - o->sport_lo + 1u));

		memset(f, 0, len);
		memcpy(f, dst_mac, 6);
		memcpy(f + 6, src_mac, 6);
		f[12] = 0x08;
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + 8 + o->size) >> 8);
		ip[3] = (uint8_t)(20 + 8 + o->size);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &o->dst.sin_addr, 4);
		ip[10] = 0;
		ip[11] = 0;
		{
			uint16_t c = csum16(ip, 20);

			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;
		}
		u[0] = (uint8_t)(sport >> 8);
		u[1] = (uint8_t)sport;
		memcpy(u + 2, &o->dst.sin_port, 2);
		u[4] = (uint8_t)((8 + o->size) >> 8);
		u[5] = (uint8_t)(8 + o->size);
		/* UDP checksum 0: none (RFC 768). */
		memset(u + 8, 'f', o->size);
		iov[i].iov_base = f;
		iov[i].iov_len = len;
	}
	rc = flood(fd, o, iov, r);
	close(fd);
	return rc ? die("sendmmsg", strerror(-rc)) : 0;
}

/* A connected UDP socket; IP_RECVERR so that a full device queue is an
 * error we retry, not a datagram the kernel drops silently. */
static int run_udp(const struct opts *o, struct result *r)
{
	static uint8_t payload[MAX_PAYLOAD];
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = o->src};
	struct iovec iov[BATCH];
	int fd, one = 1, rc;
	unsigned i;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket", strerror(errno));
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	src.sin_port = htons(o->sport_lo);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)))
		return die("bind", strerror(errno));
	if (connect(fd, (const struct sockaddr *)&o->dst, sizeof(o->dst)))
		return die("connect", strerror(errno));
	memset(payload, 'f', sizeof(payload));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = payload;
		iov[i].iov_len = o->size;
	}
	rc = flood(fd, o, iov, r);
	close(fd);
	return rc ? die("sendmmsg", strerror(-rc)) : 0;
}

int main(int argc, char **argv)
{
	struct result r = {0, 0, 0};
	struct opts o;
	double pps;
	int rc;

	if (parse_args(argc, argv, &o))
		return 2;
	rc = o.ifname ? run_packet(&o, &r) : run_udp(&o, &r);
	if (rc)
		return rc;
	pps = r.seconds > 0 ? (double)r.sent / r.seconds : 0;
	if (o.json)
		printf("{\"sent\": %lu, \"seconds\": %.6f, \"pps\": %.0f, \"blocked\": %lu}\n",
		       r.sent, r.seconds, pps, r.blocked);
	else
		printf("sent %lu seconds %.3f pps %.0f blocked %lu\n", r.sent, r.seconds, pps,
		       r.blocked);
	return 0;
}
