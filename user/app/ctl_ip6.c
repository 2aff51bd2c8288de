/* IPv6 in the control commands: the addresses in `addr`, the neighbor cache
 * (`neigh [show] | neigh flush`), IPv6 routes in `route`, text or --json. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"

static const char *a6(const uint8_t a[16], char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* True if a is one of the stack's IPv6 addresses, in any state: it has no
 * loopback, so ping and connect refuse them with one clear line. */
bool ctl_ip6_is_ours(struct ctl_client *cl, const uint8_t a[16])
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	size_t n, i;

	n = xs_ip6_addr_list(cl->ctl->cfg.st, cl->ctl->now, in, XS_IP6_MAX_ADDRS);
	for (i = 0; i < n; i++)
		if (!memcmp(in[i].addr, a, 16))
			return true;
	return false;
}

/* Inside addr's output: one "inet6" line each (text), or ", "ip6": [...]". */
void ctl_addr_ip6(struct ctl_client *cl)
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	char t[INET6_ADDRSTRLEN];
	size_t n, i;

	n = xs_ip6_addr_list(cl->ctl->cfg.st, cl->ctl->now, in, XS_IP6_MAX_ADDRS);
	if (cl->json)
		ctl_printf(cl, ", \"ip6\": [");
	for (i = 0; i < n; i++) {
		if (cl->json) {
			ctl_printf(
			    cl,
			    "%s{\"addr\": \"%s\", \"prefix_len\": %u, \"state\": \"%s\", "
			    "\"origin\": \"%s\", \"preferred_ms\": %lld, \"valid_ms\": %lld}",
			    i ? ", " : "", a6(in[i].addr, t), in[i].plen, in[i].state, in[i].origin,
			    (long long)in[i].preferred_ms, (long long)in[i].valid_ms);
			continue;
		}
		ctl_printf(cl, "    inet6 %s/%u %s %s", a6(in[i].addr, t), in[i].plen, in[i].origin,
			   in[i].state);
		if (in[i].valid_ms >= 0)
			ctl_printf(cl, " valid %llds preferred %llds",
				   (long long)(in[i].valid_ms / 1000),
				   (long long)(in[i].preferred_ms / 1000));
		ctl_printf(cl, "\n");
	}
	if (cl->json)
		ctl_printf(cl, "]");
}

static void neigh_show(struct ctl_client *cl)
{
	struct xs_nd_entry_info *e;
	char t[INET6_ADDRSTRLEN], mac[18];
	size_t n, i;

	e = calloc(XS_ND_CACHE_SIZE, sizeof(*e));
	if (!e) {
		ctl_end(cl, CTL_ERROR, "neigh: out of memory");
		return;
	}
	n = xs_ip6_nd_list(cl->ctl->cfg.st, cl->ctl->now, e, XS_ND_CACHE_SIZE);
	if (cl->json)
		ctl_printf(cl, "{\"entries\": [");
	else
		ctl_printf(cl, "%-40s %-18s %-11s %s\n", "Address", "HWaddress", "State", "Timer");
	for (i = 0; i < n; i++) {
		bool known = strcmp(e[i].state, "incomplete") != 0;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e[i].mac[0],
			 e[i].mac[1], e[i].mac[2], e[i].mac[3], e[i].mac[4], e[i].mac[5]);
		a6(e[i].addr, t);
		if (cl->json) {
			ctl_printf(cl, "%s\n  {\"ip\": \"%s\", \"mac\": ", i ? "," : "", t);
			if (known)
				ctl_printf(cl, "\"%s\"", mac);
			else
				ctl_printf(cl, "null");
			ctl_printf(cl, ", \"state\": \"%s\", \"router\": %s, \"timer_ms\": %lld}",
				   e[i].state, e[i].router ? "true" : "false",
				   (long long)e[i].timer_ms);
			continue;
		}
		ctl_printf(cl, "%-40s %-18s %-11s", t, known ? mac : "(incomplete)", e[i].state);
		if (e[i].timer_ms >= 0)
			ctl_printf(cl, " %lld.%llds", (long long)(e[i].timer_ms / 1000),
				   (long long)(e[i].timer_ms % 1000 / 100));
		else
			ctl_printf(cl, " -");
		ctl_printf(cl, "%s\n", e[i].router ? " router" : "");
	}
	if (cl->json)
		ctl_printf(cl, "%s]}\n", n ? "\n" : "");
	free(e);
	ctl_end(cl, CTL_OK, NULL);
}

static void nd_flush_one(struct xs_stack *st, void *arg)
{
	(void)arg;
	xs_ip6_nd_flush(st);
}

void ctl_cmd_neigh(struct ctl_client *cl, int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "show"))) {
		neigh_show(cl);
		return;
	}
	if (argc != 2 || strcmp(argv[1], "flush")) {
		ctl_end(cl, CTL_USAGE,
			"neigh: unexpected argument '%.64s' (usage: neigh [show|flush])",
			argv[argc == 2 ? 1 : 2]);
		return;
	}
	xs_ip6_nd_flush(cl->ctl->cfg.st);
	ctl_each_other(cl->ctl, nd_flush_one, NULL); /* every queue keeps its own cache */
	if (cl->json)
		ctl_printf(cl, "{\"flushed\": true}\n");
	ctl_end(cl, CTL_OK, NULL);
}

/* Inside route's output: the IPv6 routes (text lines, or ", "routes6": [...]"). */
void ctl_route6_show(struct ctl_client *cl)
{
	static const uint8_t zero[16];
	struct xs_route6 r[XS_IP6_MAX_ROUTES];
	char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	size_t n, i;

	n = xs_route6_list(cl->ctl->cfg.st, cl->ctl->now, r, XS_IP6_MAX_ROUTES);
	if (cl->json)
		ctl_printf(cl, ", \"routes6\": [");
	for (i = 0; i < n; i++) {
		bool gw = memcmp(r[i].gateway, zero, 16) != 0;

		a6(r[i].dst, d);
		a6(r[i].gateway, g);
		if (cl->json) {
			ctl_printf(cl, "%s\n  {\"dst\": \"%s\", \"prefix_len\": %u, \"gateway\": ",
				   i ? "," : "", d, r[i].prefix_len);
			if (gw)
				ctl_printf(cl, "\"%s\"", g);
			else
				ctl_printf(cl, "null");
			ctl_printf(cl, ", \"origin\": \"%s\", \"expires_ms\": %lld}", r[i].origin,
				   (long long)r[i].expires_ms);
			continue;
		}
		if (r[i].prefix_len == 0)
			ctl_printf(cl, "default");
		else
			ctl_printf(cl, "%s/%u", d, r[i].prefix_len);
		if (gw)
			ctl_printf(cl, " via %s", g);
		ctl_printf(cl, " dev %s proto %s", cl->ctl->ifname, r[i].origin);
		if (r[i].expires_ms >= 0)
			ctl_printf(cl, " expires %llds", (long long)(r[i].expires_ms / 1000));
		ctl_printf(cl, "\n");
	}
	if (cl->json)
		ctl_printf(cl, "%s]", n ? "\n" : "");
}

/* "default", "ADDR/PLEN" or "ADDR" (/128). */
static int parse_prefix6(const char *s, uint8_t dst[16], uint8_t *plen)
{
	char buf[64], *slash, *end;
	unsigned long v = 128;

	if (!strcmp(s, "default")) {
		memset(dst, 0, 16);
		*plen = 0;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (*slash < '0' || *slash > '9')
			return -1;
		v = strtoul(slash, &end, 10);
		if (*end || v > 128)
			return -1;
	}
	if (inet_pton(AF_INET6, buf, dst) != 1)
		return -1;
	*plen = (uint8_t)v;
	return 0;
}

/* route add DST6/PLEN via GW6 | route add DST6/PLEN (on-link) | route del DST6/PLEN */
void ctl_route6_change(struct ctl_client *cl, int argc, char **argv, int add)
{
	uint8_t dst[16], gw[16] = {0}, plen;
	int err;

	if (parse_prefix6(argv[2], dst, &plen)) {
		ctl_end(cl, CTL_USAGE,
			"route: invalid destination '%.64s': expected ADDR/PLEN or default",
			argv[2]);
		return;
	}
	if (add) {
		if (!(argc == 3 || (argc == 5 && !strcmp(argv[3], "via")))) {
			ctl_end(cl, CTL_USAGE, "route add: expected DST/PLEN [via GW]");
			return;
		}
		if (argc == 5 && inet_pton(AF_INET6, argv[4], gw) != 1) {
			ctl_end(cl, CTL_USAGE,
				"route add: invalid gateway '%.64s': expected an IPv6 "
				"address",
				argv[4]);
			return;
		}
		err = xs_route6_add(cl->ctl->cfg.st, dst, plen, gw);
	} else {
		if (argc != 3) {
			ctl_end(cl, CTL_USAGE, "route del: expected DST/PLEN or default");
			return;
		}
		err = xs_route6_del(cl->ctl->cfg.st, dst, plen);
	}
	switch (err) {
	case 0:
		if (cl->json)
			ctl_printf(cl, "{\"%s\": \"%s\"}\n", add ? "added" : "deleted", argv[2]);
		ctl_end(cl, CTL_OK, NULL);
		return;
	case -EINVAL:
		ctl_end(cl, CTL_USAGE, "route: %.64s has host bits set or is multicast", argv[2]);
		return;
	case -EEXIST:
		ctl_end(cl, CTL_ERROR,
			"route add: a route to %.64s already exists (route del it first)", argv[2]);
		return;
	case -ENETUNREACH:
		ctl_end(cl, CTL_ERROR,
			"route add: gateway %.64s is not on-link (link-local, or in "
			"an on-link prefix)",
			argv[4]);
		return;
	case -ENOSPC:
		ctl_end(cl, CTL_ERROR, "route add: the IPv6 route table is full (%d routes)",
			XS_IP6_MAX_ROUTES);
		return;
	case -ESRCH:
		ctl_end(cl, CTL_ERROR, "route del: no route to %.64s (see route show)", argv[2]);
		return;
	case -EPERM:
		ctl_end(cl, CTL_ERROR,
			"route del: %.64s is a connected prefix; it cannot be deleted", argv[2]);
		return;
	case -EADDRNOTAVAIL:
		ctl_end(cl, CTL_ERROR, "route: IPv6 is off (start the daemon with --ip6)");
		return;
	default:
		ctl_end(cl, CTL_ERROR, "route: %.64s: %s", argv[2], strerror(-err));
		return;
	}
}
