/* IPv6 in the control commands: the addresses in `addr`, the neighbor cache
 * (`neigh [show] | neigh flush`), text or --json like the others. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"

static const char *a6(const uint8_t a[16], char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
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
	if (cl->json)
		ctl_printf(cl, "{\"flushed\": true}\n");
	ctl_end(cl, CTL_OK, NULL);
}
