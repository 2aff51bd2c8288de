/* The conns control command: every TCP listener and connection of the stack
 * with its queues, timers and congestion state, as `ss -tni` shows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"

/* What the answer can hold within the control output limit (about 350
 * bytes per connection in JSON); the rest is counted, not listed. */
#define CONNS_MAX 2048

/* Listeners first (by port), then connections by local port and peer. */
static int conn_cmp(const void *a, const void *b)
{
	const struct xs_tcp_info *x = a, *y = b;
	int lx = x->state == XS_TCP_LISTEN, ly = y->state == XS_TCP_LISTEN;

	if (lx != ly)
		return ly - lx;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if (x->raddr.family != y->raddr.family)
		return x->raddr.family < y->raddr.family ? -1 : 1;
	if (memcmp(x->raddr.a, y->raddr.a, 16))
		return memcmp(x->raddr.a, y->raddr.a, 16);
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	return 0;
}

/* "A.B.C.D:PORT", or "[IPV6]:PORT" as ss prints them. */
static void addr_str(const struct xs_addr *ip, uint16_t port, char *buf, size_t len)
{
	char a[XS_ADDR_STRLEN];

	xs_addr_format(ip, a, sizeof(a));
	snprintf(buf, len, ip->family == XS_AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* ssthresh starts "arbitrarily high" (RFC 5681 3.1), and is 0 before the
 * handshake sets up congestion control: both shown as absent. */
static int ssthresh_set(const struct xs_tcp_info *c)
{
	return c->ssthresh && c->ssthresh < 0x7fffffffu;
}

static void conns_text(struct ctl_client *cl, const struct xs_tcp_info *c, size_t n)
{
	char l[56], r[56];
	size_t i;

	ctl_printf(cl, "%-12s %-7s %-7s %-21s %s\n", "State", "Recv-Q", "Send-Q",
		   "Local Address:Port", "Peer Address:Port");
	for (i = 0; i < n; i++) {
		int listen = c[i].state == XS_TCP_LISTEN;

		addr_str(&c[i].laddr, c[i].lport, l, sizeof(l));
		addr_str(&c[i].raddr, c[i].rport, r, sizeof(r));
		ctl_printf(cl, "%-12s %-7u %-7u %-21s %s%s\n", xs_tcp_state_name(c[i].state),
			   c[i].rcv_queue, c[i].snd_queue, l, listen ? "0.0.0.0:*" : r,
			   c[i].handle < 0 && !listen ? "  (orphan)" : "");
		if (listen)
			continue;
		ctl_printf(cl, "\t %s", c[i].cc ? c[i].cc : "?");
		if (c[i].snd_wscale || c[i].rcv_wscale)
			ctl_printf(cl, " wscale:%u,%u", c[i].snd_wscale, c[i].rcv_wscale);
		ctl_printf(cl, "%s%s rto:%u rtt:%.3f/%.3f mss:%u cwnd:%u", c[i].sack ? " sack" : "",
			   c[i].timestamps ? " ts" : "", c[i].rto_ms, c[i].rtt_us / 1000.0,
			   c[i].rttvar_us / 1000.0, c[i].mss, c[i].cwnd);
		if (ssthresh_set(&c[i]))
			ctl_printf(cl, " ssthresh:%u", c[i].ssthresh);
		ctl_printf(cl,
			   " snd_wnd:%u rcv_wnd:%u retrans:%llu bytes_acked:%llu "
			   "bytes_received:%llu\n",
			   c[i].snd_wnd, c[i].rcv_wnd, (unsigned long long)c[i].retransmits,
			   (unsigned long long)c[i].bytes_acked,
			   (unsigned long long)c[i].bytes_received);
	}
}

static void conns_json(struct ctl_client *cl, const struct xs_tcp_info *c, size_t n, size_t total)
{
	char l[XS_ADDR_STRLEN], r[XS_ADDR_STRLEN];
	size_t i;

	ctl_printf(cl, "{\"connections\": [");
	for (i = 0; i < n; i++) {
		xs_addr_format(&c[i].laddr, l, sizeof(l));
		xs_addr_format(&c[i].raddr, r, sizeof(r));
		ctl_printf(cl, "%s\n  {\"state\": \"%s\", \"handle\": ", i ? "," : "",
			   xs_tcp_state_name(c[i].state));
		if (c[i].handle >= 0)
			ctl_printf(cl, "%d", c[i].handle);
		else
			ctl_printf(cl, "null");
		ctl_printf(cl,
			   ", \"local_ip\": \"%s\", \"local_port\": %u, \"remote_ip\": \"%s\", "
			   "\"remote_port\": %u, \"recv_q\": %u, \"send_q\": %u",
			   l, c[i].lport, r, c[i].rport, c[i].rcv_queue, c[i].snd_queue);
		ctl_printf(cl,
			   ", \"rtt_ms\": %.3f, \"rttvar_ms\": %.3f, \"rto_ms\": %u, "
			   "\"cwnd\": %u, \"ssthresh\": ",
			   c[i].rtt_us / 1000.0, c[i].rttvar_us / 1000.0, c[i].rto_ms, c[i].cwnd);
		if (ssthresh_set(&c[i]))
			ctl_printf(cl, "%u", c[i].ssthresh);
		else
			ctl_printf(cl, "null");
		ctl_printf(
		    cl,
		    ", \"mss\": %u, \"snd_wnd\": %u, \"rcv_wnd\": %u, \"retransmits\": "
		    "%llu, \"bytes_acked\": %llu, \"bytes_received\": %llu, "
		    "\"snd_wscale\": %u, \"rcv_wscale\": %u, \"sack\": %s, "
		    "\"timestamps\": %s, \"cc\": ",
		    c[i].mss, c[i].snd_wnd, c[i].rcv_wnd, (unsigned long long)c[i].retransmits,
		    (unsigned long long)c[i].bytes_acked, (unsigned long long)c[i].bytes_received,
		    c[i].snd_wscale, c[i].rcv_wscale, c[i].sack ? "true" : "false",
		    c[i].timestamps ? "true" : "false");
		ctl_json_str(cl, c[i].cc ? c[i].cc : "");
		ctl_printf(cl, "}");
	}
	ctl_printf(cl, "%s],\n \"total\": %zu, \"truncated\": %s}\n", n ? "\n " : "", total,
		   total > n ? "true" : "false");
}

void ctl_cmd_conns(struct ctl_client *cl, int argc, char **argv)
{
	struct xs_tcp_info *c;
	size_t n, cap = 256;

	if (argc > 1) {
		ctl_end(cl, CTL_USAGE, "conns: unexpected argument '%.64s' (usage: conns [--json])",
			argv[1]);
		return;
	}
	/* The table has no count: grow until the list is not full. */
	for (;;) {
		c = calloc(cap, sizeof(*c));
		if (!c) {
			ctl_end(cl, CTL_ERROR, "conns: out of memory");
			return;
		}
		n = xs_tcp_list(cl->ctl->cfg.st, c, cap);
		if (n < cap || cap >= (1u << 20))
			break;
		free(c);
		cap *= 4;
	}
	qsort(c, n, sizeof(*c), conn_cmp);
	if (cl->json) {
		conns_json(cl, c, n < CONNS_MAX ? n : CONNS_MAX, n);
	} else {
		conns_text(cl, c, n < CONNS_MAX ? n : CONNS_MAX);
		if (n > CONNS_MAX)
			ctl_printf(cl, "... %zu more not shown\n", n - CONNS_MAX);
	}
	free(c);
	ctl_end(cl, CTL_OK, NULL);
}
