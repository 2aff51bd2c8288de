/* The daemon's IPv6 glue: turns IPv6 on from the command line, keeps the XDP
 * program's IPv6 addresses and the NIC's multicast groups in step with the
 * stack, and logs what DAD and SLAAC do ("ipv6: ADDR/PLEN preferred"). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/ip6app.h"
#include "app/log.h"

static const char *a6(const uint8_t a[16], char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* The XDP program steers what the stack holds; the NIC must also let the
 * solicited-node groups of those addresses in (veth does anyway). */
static void ip6app_steer(struct ip6app *p)
{
	struct xs_ip6_steer s;
	uint8_t macs[XS_IP6_STEER_ADDRS][6];
	char err[256];
	unsigned i;
	int rc;

	xs_ip6_steer_info(p->st, &s);
	rc = xs_afxdp_set_ip6(p->hw, (const uint8_t(*)[16])s.addrs, s.naddrs, s.want_ra);
	if (rc)
		log_msg(LOG_ERR, "ipv6: cannot update the XDP program's addresses (%s)",
			strerror(-rc));
	for (i = 0; i < s.naddrs; i++) {
		macs[i][0] = 0x33;
		macs[i][1] = 0x33;
		macs[i][2] = 0xff;
		memcpy(&macs[i][3], &s.addrs[i][13], 3);
	}
	if (sys_mcast_hold(p->ifname, (const uint8_t(*)[6])macs, s.naddrs, &p->mcast_fd, err,
			   sizeof(err)))
		log_msg(LOG_WARNING, "ipv6: %s", err);
}

/* One line per address that changed state since the last look. */
static void ip6app_addrs(struct ip6app *p, unsigned ev)
{
	struct xs_ip6_addr_info now[XS_IP6_MAX_ADDRS];
	char t[INET6_ADDRSTRLEN];
	size_t n, i, j;

	n = xs_ip6_addr_list(p->st, 0, now, XS_IP6_MAX_ADDRS);
	for (i = 0; i < n; i++) {
		for (j = 0; j < p->nprev; j++)
			if (!memcmp(p->prev[j].addr, now[i].addr, 16))
				break;
		if (j < p->nprev && p->prev[j].state == now[i].state)
			continue;
		if (!strcmp(now[i].state, "duplicate"))
			log_status(
			    "ipv6: %s/%u is in use on the link (duplicate address detection): "
			    "not used; give another address",
			    a6(now[i].addr, t), now[i].plen);
		else if (strcmp(now[i].state, "tentative"))
			log_status("ipv6: %s/%u %s (%s)", a6(now[i].addr, t), now[i].plen,
				   now[i].state, now[i].origin);
	}
	for (j = 0; j < p->nprev; j++) {
		for (i = 0; i < n; i++)
			if (!memcmp(p->prev[j].addr, now[i].addr, 16))
				break;
		if (i < n)
			continue;
		if (ev & XS_IP6_EV_DUPLICATE)
			log_status(
			    "ipv6: %s/%u is in use on the link (duplicate address detection): "
			    "a new identifier is tried",
			    a6(p->prev[j].addr, t), p->prev[j].plen);
		else
			log_status("ipv6: %s/%u gone (lifetime over)", a6(p->prev[j].addr, t),
				   p->prev[j].plen);
	}
	memcpy(p->prev, now, n * sizeof(now[0]));
	p->nprev = n;
	fflush(stdout);
}

void ip6app_events(struct ip6app *p)
{
	unsigned ev;

	if (!p->on)
		return;
	ev = xs_ip6_events(p->st);
	if (ev & XS_IP6_EV_STEER)
		ip6app_steer(p);
	if (ev & (XS_IP6_EV_ADDR | XS_IP6_EV_DUPLICATE))
		ip6app_addrs(p, ev);
}

/* RFC 7217 5 wants the secret stable across restarts, so that the
 * link-local address is: /etc/machine-id (local to the host, never on the
 * wire) mixed with the interface name. Without it the library picks a random
 * one (the address then changes at each start). */
static void ip6app_secret(const char *ifname, uint8_t secret[16])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */
	char id[64];
	unsigned i, v;
	FILE *f;

	memset(secret, 0, 16);
	f = fopen("/etc/machine-id", "r");
	if (!f)
		return;
	if (!fgets(id, sizeof(id), f) || strlen(id) < 32) {
		fclose(f);
		return;
	}
	fclose(f);
	for (i = 0; ifname[i]; i++)
		h = (h ^ (uint8_t)ifname[i]) * 0x100000001b3ull;
	for (i = 0; i < 16; i++) {
		if (sscanf(id + 2 * i, "%2x", &v) != 1) {
			memset(secret, 0, 16);
			return;
		}
		secret[i] = (uint8_t)(v ^ (h >> (8 * (i % 8))));
	}
}

int ip6app_check(const struct xs_opts *o, const char *ifname, char *err, size_t len)
{
	unsigned i;

	for (i = 0; i < o->nip6; i++)
		if (sys_check_addr6_free(ifname, o->ip6[i].addr, err, len))
			return -1;
	return 0;
}

static int ip6app_enable(struct xs_stack *st, const struct xs_opts *o, const char *ifname,
			 char *err, size_t len)
{
	struct xs_ip6_config c = {0};
	int rc;

	memcpy(c.addrs, o->ip6, sizeof(c.addrs));
	c.naddrs = o->nip6;
	c.slaac = o->ip6_auto;
	ip6app_secret(ifname, c.secret);
	if (o->ip6_dad == 0)
		c.dad_transmits = XS_IP6_NO_DAD;
	else if (o->ip6_dad > 0)
		c.dad_transmits = (uint8_t)o->ip6_dad;
	rc = xs_ip6_enable(st, &c);
	if (rc) {
		snprintf(err, len, "cannot turn IPv6 on (%s)", strerror(-rc));
		return -1;
	}
	return 0;
}

int ip6app_follow(struct xs_stack *st, const struct xs_opts *o, const char *ifname, char *err,
		  size_t len)
{
	if (!o->nip6 && !o->ip6_auto)
		return 0;
	return ip6app_enable(st, o, ifname, err, len);
}

int ip6app_start(struct ip6app *p, struct xs_stack *st, struct xs_dev *hw, const struct xs_opts *o,
		 const char *ifname, char *err, size_t len)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->mcast_fd = -1;
	if (!o->nip6 && !o->ip6_auto)
		return 0;
	p->st = st;
	p->hw = hw;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	if (ip6app_enable(st, o, ifname, err, len))
		return -1;
	p->on = 1;
	if (o->have_gw6) {
		static const uint8_t any[16];

		rc = xs_route6_add(st, any, 0, o->gw6);
		if (rc) {
			snprintf(err, len, "cannot add the --gw6 default route (%s)",
				 strerror(-rc));
			return -1;
		}
	}
	ip6app_events(p);
	return 0;
}

void ip6app_stop(struct ip6app *p)
{
	if (p->mcast_fd >= 0)
		close(p->mcast_fd);
	p->mcast_fd = -1;
	p->on = 0;
}
