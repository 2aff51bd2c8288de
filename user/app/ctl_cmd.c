/* Control commands that answer at once: addr, arp, route, help (stats is
 * ctl_stats.c's). Each prints human text, or one JSON document with --json, then its status. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"
#include "dev/dev.h"

#define CTL_ARP_MAX XS_ARP_CACHE_SIZE

static void mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static uint32_t mask_of(uint8_t plen)
{
	return plen ? ~(uint32_t)0 << (32 - plen) : 0;
}

/* ---------------------------------------------------------------- addr */

/* Seconds left, or "-" (unbound, infinite or past that state). */
static const char *left_str(int64_t ms, char *buf)
{
	if (ms < 0)
		return "-";
	snprintf(buf, 24, "%llds", (long long)(ms / 1000));
	return buf;
}

/* The DHCP lease (--ip dhcp): state, server, lease and the times left. */
static void addr_dhcp(struct ctl_client *cl, const struct xs_dhcp_info *d)
{
	char srv[16], t1[24], t2[24], ex[24];

	ctl_ip_str(d->server, srv);
	if (cl->json) {
		ctl_printf(cl,
			   ", \"dhcp\": {\"state\": \"%s\", \"server\": \"%s\", \"lease_s\": %u, "
			   "\"t1_ms\": %lld, \"t2_ms\": %lld, \"expiry_ms\": %lld, "
			   "\"offers\": %llu, \"acks\": %llu, \"naks\": %llu, "
			   "\"declines\": %llu, \"expiries\": %llu}",
			   d->state, srv, d->lease_s, (long long)d->t1_ms, (long long)d->t2_ms,
			   (long long)d->expiry_ms, (unsigned long long)d->offers,
			   (unsigned long long)d->acks, (unsigned long long)d->naks,
			   (unsigned long long)d->declines, (unsigned long long)d->expiries);
		return;
	}
	ctl_printf(cl, "    dhcp %s server %s lease %us t1 %s t2 %s expires %s\n", d->state,
		   srv, d->lease_s, left_str(d->t1_ms, t1), left_str(d->t2_ms, t2),
		   left_str(d->expiry_ms, ex));
	ctl_printf(cl, "    dhcp offers %llu acks %llu naks %llu declines %llu expiries %llu\n",
		   (unsigned long long)d->offers, (unsigned long long)d->acks,
		   (unsigned long long)d->naks, (unsigned long long)d->declines,
		   (unsigned long long)d->expiries);
}

void ctl_cmd_addr(struct ctl_client *cl, int argc, char **argv)
{
	struct ctl *c = cl->ctl;
	struct xs_stack_info in;
	struct xs_dhcp_info d;
	char ip[16], mac[18];
	bool dhcp;
	int zc;

	if (argc > 1 && strcmp(argv[1], "show")) {
		ctl_end(cl, CTL_USAGE, "addr: unexpected argument '%.64s' (usage: addr [show])",
			argv[1]);
		return;
	}
	xs_stack_get_info(c->cfg.st, &in);
	dhcp = xs_dhcp_info(c->cfg.st, c->now, &d) == 0;
	ctl_ip_str(in.ip, ip);
	mac_str(in.mac, mac);
	if (!c->cfg.hw || xs_afxdp_bind_info(c->cfg.hw, &zc, NULL))
		zc = -1;
	if (cl->json) {
		ctl_printf(cl, "{\"ifname\": ");
		ctl_json_str(cl, c->ifname);
		ctl_printf(cl,
			   ", \"ifindex\": %u, \"queue\": %u, \"mac\": \"%s\", \"mtu\": %u, "
			   "\"ip\": \"%s\", \"prefix_len\": %u",
			   c->cfg.ifindex, c->cfg.queue, mac, in.mtu, ip, in.prefix_len);
		ctl_printf(cl, ", \"queues\": %u, \"xdp_bind\": %s", ctl_nq(c),
			   zc < 0 ? "null" : zc ? "\"zerocopy\"" : "\"copy\"");
		if (dhcp)
			addr_dhcp(cl, &d);
		ctl_addr_ip6(cl);
		ctl_printf(cl, "}\n");
	} else {
		ctl_printf(cl, "%s: mtu %u ifindex %u queue %u\n", c->ifname, in.mtu,
			   c->cfg.ifindex, c->cfg.queue);
		ctl_printf(cl, "    link/ether %s\n", mac);
		ctl_printf(cl, "    inet %s/%u\n", ip, in.prefix_len);
		if (ctl_nq(c) > 1 || zc >= 0)
			ctl_printf(cl, "    queues %u-%u, AF_XDP %s\n", c->cfg.queue,
				   c->cfg.queue + ctl_nq(c) - 1, zc > 0 ? "zero-copy" : "copy mode");
		if (dhcp)
			addr_dhcp(cl, &d);
		ctl_addr_ip6(cl);
	}
	ctl_end(cl, CTL_OK, NULL);
}

/* ----------------------------------------------------------------- arp */

static void arp_flush_one(struct xs_stack *st, void *arg)
{
	(void)arg;
	xs_stack_arp_flush(st);
}

static void arp_show(struct ctl_client *cl)
{
	struct xs_arp_entry_info *e;
	char ip[16], mac[18];
	size_t n, i;

	e = calloc(CTL_ARP_MAX, sizeof(*e));
	if (!e) {
		ctl_end(cl, CTL_ERROR, "arp: out of memory");
		return;
	}
	n = xs_stack_arp_list(cl->ctl->cfg.st, cl->ctl->now, e, CTL_ARP_MAX);
	if (cl->json)
		ctl_printf(cl, "{\"entries\": [");
	else
		ctl_printf(cl, "%-16s %-18s %-11s %s\n", "Address", "HWaddress", "State",
			   "Expires");
	for (i = 0; i < n; i++) {
		ctl_ip_str(e[i].ip, ip);
		mac_str(e[i].mac, mac);
		if (cl->json) {
			ctl_printf(cl, "%s\n  {\"ip\": \"%s\", \"mac\": ", i ? "," : "", ip);
			if (e[i].resolved)
				ctl_printf(cl, "\"%s\"", mac);
			else
				ctl_printf(cl, "null");
			ctl_printf(cl, ", \"state\": \"%s\", \"expires_ms\": %u}",
				   e[i].resolved ? "reachable" : "incomplete", e[i].expires_ms);
		} else {
			ctl_printf(cl, "%-16s %-18s %-11s %u.%us\n", ip,
				   e[i].resolved ? mac : "(incomplete)",
				   e[i].resolved ? "reachable" : "incomplete",
				   e[i].expires_ms / 1000, e[i].expires_ms % 1000 / 100);
		}
	}
	if (cl->json)
		ctl_printf(cl, "%s]}\n", n ? "\n" : "");
	free(e);
	ctl_end(cl, CTL_OK, NULL);
}

void ctl_cmd_arp(struct ctl_client *cl, int argc, char **argv)
{
	struct xs_arp_entry_info *e;
	size_t n;

	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "show"))) {
		arp_show(cl);
		return;
	}
	if (argc != 2 || strcmp(argv[1], "flush")) {
		ctl_end(cl, CTL_USAGE, "arp: unexpected argument '%.64s' (usage: arp [show|flush])",
			argv[argc == 2 ? 1 : 2]);
		return;
	}
	e = calloc(CTL_ARP_MAX, sizeof(*e));
	if (!e) {
		ctl_end(cl, CTL_ERROR, "arp: out of memory");
		return;
	}
	n = xs_stack_arp_list(cl->ctl->cfg.st, cl->ctl->now, e, CTL_ARP_MAX);
	free(e);
	xs_stack_arp_flush(cl->ctl->cfg.st);
	ctl_each_other(cl->ctl, arp_flush_one, NULL); /* every queue keeps its own cache */
	if (cl->json)
		ctl_printf(cl, "{\"flushed\": %zu}\n", n);
	else
		ctl_printf(cl, "flushed %zu entr%s\n", n, n == 1 ? "y" : "ies");
	ctl_end(cl, CTL_OK, NULL);
}

/* --------------------------------------------------------------- route */

static void route_show(struct ctl_client *cl)
{
	struct xs_route r[XS_MAX_ROUTES];
	char dst[16], gw[16];
	size_t n, i;

	n = xs_route_list(cl->ctl->cfg.st, r, XS_MAX_ROUTES);
	if (cl->json)
		ctl_printf(cl, "{\"routes\": [");
	for (i = 0; i < n; i++) {
		ctl_ip_str(r[i].dst, dst);
		ctl_ip_str(r[i].gateway, gw);
		if (cl->json) {
			ctl_printf(cl, "%s\n  {\"dst\": \"%s\", \"prefix_len\": %u, \"gateway\": ",
				   i ? "," : "", dst, r[i].prefix_len);
			if (r[i].gateway)
				ctl_printf(cl, "\"%s\"", gw);
			else
				ctl_printf(cl, "null");
			ctl_printf(cl, ", \"connected\": %s}", r[i].connected ? "true" : "false");
			continue;
		}
		if (r[i].prefix_len == 0)
			ctl_printf(cl, "default");
		else
			ctl_printf(cl, "%s/%u", dst, r[i].prefix_len);
		if (r[i].gateway)
			ctl_printf(cl, " via %s", gw);
		ctl_printf(cl, " dev %s%s\n", cl->ctl->ifname,
			   r[i].connected ? " scope link (connected)" : "");
	}
	if (cl->json)
		ctl_printf(cl, "%s]", n ? "\n" : "");
	ctl_route6_show(cl);
	if (cl->json)
		ctl_printf(cl, "}\n");
	ctl_end(cl, CTL_OK, NULL);
}

/* "default", "A.B.C.D/PLEN" or "A.B.C.D" (a host route, /32). */
static int parse_prefix(const char *s, uint32_t *dst, uint8_t *plen)
{
	char buf[32], *slash, *end;
	unsigned long v = 32;

	if (!strcmp(s, "default")) {
		*dst = 0;
		*plen = 0;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (!isdigit((unsigned char)*slash))
			return -1;
		v = strtoul(slash, &end, 10);
		if (*end || v > 32)
			return -1;
	}
	if (ctl_parse_ip(buf, dst))
		return -1;
	*plen = (uint8_t)v;
	return 0;
}

static void route_name(uint32_t dst, uint8_t plen, char *buf, size_t len)
{
	char ip[16];

	if (!plen && !dst) {
		snprintf(buf, len, "default");
		return;
	}
	ctl_ip_str(dst, ip);
	snprintf(buf, len, "%s/%u", ip, plen);
}

/* A route change made on queue 0's stack, made on the others too (each
 * queue's stack has its own table; they stay alike). */
struct route_change {
	uint32_t dst, gw;
	uint8_t plen;
};

static void route_add_one(struct xs_stack *st, void *arg)
{
	const struct route_change *r = arg;

	xs_route_add(st, r->dst, r->plen, r->gw);
}

static void route_del_one(struct xs_stack *st, void *arg)
{
	const struct route_change *r = arg;

	xs_route_del(st, r->dst, r->plen);
}

static void route_add(struct ctl_client *cl, int argc, char **argv)
{
	struct xs_stack_info in;
	char name[32], gws[16], net[16], fix[16];
	uint32_t dst, gw;
	uint8_t plen;
	int err;

	if (argc != 5 || strcmp(argv[3], "via")) {
		ctl_end(cl, CTL_USAGE, "route add: expected DST/PLEN via GW, or default via GW");
		return;
	}
	if (parse_prefix(argv[2], &dst, &plen)) {
		ctl_end(cl, CTL_USAGE,
			"route add: invalid destination '%.64s': expected A.B.C.D/PLEN "
			"or default",
			argv[2]);
		return;
	}
	if (ctl_parse_ip(argv[4], &gw) || !gw) {
		ctl_end(cl, CTL_USAGE, "route add: invalid gateway '%.64s': expected A.B.C.D",
			argv[4]);
		return;
	}
	route_name(dst, plen, name, sizeof(name));
	if (dst & ~mask_of(plen)) {
		ctl_ip_str(dst & mask_of(plen), fix);
		ctl_end(cl, CTL_USAGE, "route add: %s has host bits set (did you mean %s/%u?)",
			name, fix, plen);
		return;
	}
	err = xs_route_add(cl->ctl->cfg.st, dst, plen, gw);
	ctl_ip_str(gw, gws);
	switch (err) {
	case 0:
		ctl_each_other(cl->ctl, route_add_one,
			       &(struct route_change){.dst = dst, .gw = gw, .plen = plen});
		ctl_ip_str(dst, net);
		if (cl->json)
			ctl_printf(cl,
				   "{\"added\": {\"dst\": \"%s\", \"prefix_len\": %u, "
				   "\"gateway\": \"%s\"}}\n",
				   net, plen, gws);
		ctl_end(cl, CTL_OK, NULL);
		return;
	case -EEXIST:
		ctl_end(cl, CTL_ERROR,
			"route add: a route to %s already exists (route del it first)", name);
		return;
	case -ENETUNREACH:
		xs_stack_get_info(cl->ctl->cfg.st, &in);
		ctl_ip_str(in.ip & mask_of(in.prefix_len), net);
		ctl_end(cl, CTL_ERROR,
			"route add: gateway %s is not a host on the connected subnet "
			"%s/%u",
			gws, net, in.prefix_len);
		return;
	case -ENOSPC:
		ctl_end(cl, CTL_ERROR, "route add: the route table is full (%d routes)",
			XS_MAX_ROUTES);
		return;
	default:
		ctl_end(cl, CTL_ERROR, "route add: %s via %s: %s", name, gws, strerror(-err));
		return;
	}
}

static void route_del(struct ctl_client *cl, int argc, char **argv)
{
	char name[32];
	uint32_t dst;
	uint8_t plen;
	int err;

	if (argc != 3) {
		ctl_end(cl, CTL_USAGE, "route del: expected DST/PLEN or default");
		return;
	}
	if (parse_prefix(argv[2], &dst, &plen)) {
		ctl_end(cl, CTL_USAGE,
			"route del: invalid destination '%.64s': expected A.B.C.D/PLEN "
			"or default",
			argv[2]);
		return;
	}
	route_name(dst, plen, name, sizeof(name));
	err = xs_route_del(cl->ctl->cfg.st, dst, plen);
	if (!err)
		ctl_each_other(cl->ctl, route_del_one,
			       &(struct route_change){.dst = dst, .plen = plen});
	if (err == -ESRCH)
		ctl_end(cl, CTL_ERROR, "route del: no route to %s (see route show)", name);
	else if (err == -EPERM)
		ctl_end(cl, CTL_ERROR,
			"route del: %s is the connected subnet; it cannot be deleted", name);
	else if (err)
		ctl_end(cl, CTL_ERROR, "route del: %s: %s", name, strerror(-err));
	else {
		if (cl->json)
			ctl_printf(cl, "{\"deleted\": \"%s\"}\n", name);
		ctl_end(cl, CTL_OK, NULL);
	}
}

void ctl_cmd_route(struct ctl_client *cl, int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "show")))
		route_show(cl);
	else if (argc >= 3 && (strchr(argv[2], ':') || (argc >= 5 && strchr(argv[4], ':'))) &&
		 (!strcmp(argv[1], "add") || !strcmp(argv[1], "del") || !strcmp(argv[1], "delete")))
		ctl_route6_change(cl, argc, argv, !strcmp(argv[1], "add"));
	else if (!strcmp(argv[1], "add"))
		route_add(cl, argc, argv);
	else if (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete"))
		route_del(cl, argc, argv);
	else
		ctl_end(cl, CTL_USAGE,
			"route: unexpected argument '%.64s' (usage: route [show], "
			"route add DST/PLEN via GW, route del DST/PLEN)",
			argv[1]);
}

/* ---------------------------------------------------------------- help */

void ctl_cmd_help(struct ctl_client *cl, int argc, char **argv)
{
	ctl_printf(cl, "commands (add --json for one JSON document):\n"
		       "  addr                              interface and address\n"
		       "  arp [show] | arp flush            the ARP cache\n"
		       "  neigh [show] | neigh flush        the IPv6 neighbor cache\n"
		       "  route [show]                      the route table\n"
		       "  route add DST/PLEN|default via GW (IPv6: DST6/PLEN [via GW6])\n"
		       "  route del DST/PLEN|default        (IPv6: DST6/PLEN, ::/0 the default)\n"
		       "  ping HOST [-c N] [-s SIZE] [-i SEC] [-W SEC]\n"
		       "  stats [-a] [--queues]             non-zero counters by layer (-a: all), summed\n"
		       "                                    over the queues (--queues: each one too)\n"
		       "  conns                             TCP listeners and connections\n"
		       "  connect HOST PORT [-w SEC]        a TCP connection from the stack, piped\n"
		       "                                    to the client (binary stream, see docs)\n"
		       "  connect --tls [--cafile FILE] [--servername NAME] [--alpn LIST] HOST PORT\n"
		       "                                    the same over TLS, the server verified\n"
		       "  resolve NAME                      the name's IPv4 addresses (DNS, --dns)\n"
		       "  filter [list]                     filter rules, policies and counters\n"
		       "  filter add RULE | insert N RULE | del N | flush\n"
		       "  filter policy in|out accept|drop | xdp on|off\n"
		       "HOST is an address A.B.C.D or IPv6, or a name the stack resolves.\n");
	ctl_end(cl, CTL_OK, NULL);
}
