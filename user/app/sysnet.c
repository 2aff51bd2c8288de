/* What the daemon asks of the kernel before it starts: privileges, which
 * interface and prefix serve the address, whether the kernel already owns it. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "app/app.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int sys_check_privileges(char *err, size_t len)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0) {
		snprintf(err, len, "cannot read capabilities (%s)", strerror(errno));
		return -1;
	}
	/* CAP_BPF exists since 5.8; CAP_SYS_ADMIN covers it on older kernels. */
	if (!has_cap(d, CAP_NET_ADMIN) ||
	    !(has_cap(d, CAP_BPF) || has_cap(d, CAP_SYS_ADMIN)) ||
	    !has_cap(d, CAP_NET_RAW)) {
		snprintf(err, len,
			 "need root (CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF) to attach XDP and "
			 "open AF_XDP sockets; run as root");
		return -1;
	}
	return 0;
}

/* Walks /proc/net/route for the most specific non-default route covering ip,
 * optionally restricted to one interface. Returns the prefix length or -1. */
static int route_lookup(uint32_t ip, const char *only_dev, char *ifname, size_t ifname_len)
{
	char line[256], dev[IF_NAMESIZE + 1];
	unsigned dst, gw, flags, refcnt, use, metric, mask;
	int best = -1;
	FILE *f = fopen("/proc/net/route", "r");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		uint32_t d, m;
		int plen;

		if (sscanf(line, "%16s %x %x %x %u %u %u %x", dev, &dst, &gw, &flags, &refcnt,
			   &use, &metric, &mask) != 8)
			continue;
		d = ntohl(dst);
		m = ntohl(mask);
		if (!(flags & 1) || m == 0 || gw != 0) /* up, non-default, connected */
			continue;
		if ((ip & m) != d || (only_dev && strcmp(dev, only_dev)))
			continue;
		plen = __builtin_popcount(m);
		if (plen > best) {
			best = plen;
			if (ifname)
				snprintf(ifname, ifname_len, "%s", dev);
		}
	}
	fclose(f);
	return best;
}

int sys_route_dev(uint32_t ip, char *ifname, size_t ifname_len, int *prefix_len,
		  char *err, size_t len)
{
	struct in_addr a = { .s_addr = htonl(ip) };
	int plen = route_lookup(ip, NULL, ifname, ifname_len);

	if (plen < 0) {
		snprintf(err, len,
			 "no interface has a connected route to %s; pass --dev IFACE",
			 inet_ntoa(a));
		return -1;
	}
	*prefix_len = plen;
	return 0;
}

int sys_route_prefix(const char *ifname, uint32_t ip)
{
	return route_lookup(ip, ifname, NULL, 0);
}

int sys_check_addr_free(const char *ifname, uint32_t ip, char *err, size_t len)
{
	struct ifaddrs *ifa, *i;
	struct in_addr a = { .s_addr = htonl(ip) };
	int ret = 0;

	if (getifaddrs(&ifa) != 0)
		return 0; /* cannot tell; the kernel would still answer ARP first */
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;

		if (!sin || sin->sin_family != AF_INET || sin->sin_addr.s_addr != a.s_addr)
			continue;
		if (!strcmp(i->ifa_name, ifname)) {
			snprintf(err, len,
				 "%s is already assigned to the kernel on %s; choose an address "
				 "the kernel does not use (or 'ip addr del' it)",
				 inet_ntoa(a), ifname);
			ret = -1;
			break;
		}
	}
	freeifaddrs(ifa);
	return ret;
}

int sys_check_addr6_free(const char *ifname, const uint8_t a[16], char *err, size_t len)
{
	struct ifaddrs *ifa, *i;
	char text[INET6_ADDRSTRLEN];
	int ret = 0;

	if (getifaddrs(&ifa) != 0)
		return 0; /* cannot tell; DAD will */
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;

		if (!sin6 || sin6->sin6_family != AF_INET6 || memcmp(sin6->sin6_addr.s6_addr, a, 16))
			continue;
		if (!strcmp(i->ifa_name, ifname)) {
			inet_ntop(AF_INET6, a, text, sizeof(text));
			snprintf(err, len,
				 "%s is already assigned to the kernel on %s; choose an address "
				 "the kernel does not use (or 'ip -6 addr del' it)",
				 text, ifname);
			ret = -1;
			break;
		}
	}
	freeifaddrs(ifa);
	return ret;
}

int sys_mcast_hold(const char *ifname, const uint8_t (*macs)[6], unsigned n, int *fd, char *err,
		   size_t len)
{
	int nfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	unsigned i;

	if (nfd < 0) {
		snprintf(err, len, "cannot open a packet socket for IPv6 multicast (%s)",
			 strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct packet_mreq mr = { .mr_type = PACKET_MR_MULTICAST, .mr_alen = 6 };

		mr.mr_ifindex = (int)if_nametoindex(ifname);
		memcpy(mr.mr_address, macs[i], 6);
		if (setsockopt(nfd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
			snprintf(err, len, "cannot join an IPv6 multicast group on %s (%s)", ifname,
				 strerror(errno));
			close(nfd);
			return -1;
		}
	}
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
	return 0;
}

int sys_promisc_hold(const char *ifname, char *err, size_t len)
{
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int fd;

	/* Protocol 0: the socket receives nothing; it only holds the membership,
	 * which the kernel drops when the fd closes, even after a crash. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "cannot open packet socket for --mac (%s)", strerror(errno));
		return -1;
	}
	mr.mr_ifindex = (int)if_nametoindex(ifname);
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
		snprintf(err, len, "cannot set promiscuous mode on %s for --mac (%s)", ifname,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
