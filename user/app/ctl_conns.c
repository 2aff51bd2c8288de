/* The conns control command: every TCP listener and connection of every
 * queue's stack with its queues, timers and congestion state, as `ss -tni` shows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"

/* What the answer can hold within the control output limit (about 350
 * bytes per connection in JSON); the rest is counted, not listed. */
#define CONNS_MAX 2048

/* A connection and the queue whose stack holds it. */
struct conn_row {
	struct xs_tcp_info i;
	unsigned queue;
};

/* Listeners first (by port), then connections by local port and peer. */
static int conn_cmp(const void *a, const void *b)
{
	const struct xs_tcp_info *x = &((const struct conn_row *)a)->i;
	const struct xs_tcp_info *y = &((const struct conn_row *)b)->i;
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
	return ((const struct conn_row *)a)->queue < ((const struct conn_row *)b)->queue ? -1 : 1;
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

static void conns_text(struct ctl_client *cl, const struct conn_row *row, size_t n, unsigned nq)
{
	char l[56], r[56];
	size_t i;

	ctl_printf(cl, "%-12s %-7s %-7s %-21s %s\n", "State", "Recv-Q", "Send-Q",
		   "Local Address:Port", "Peer Address:Port");
	for (i = 0; i < n; i++) {
		const struct xs_tcp_info *c = &row[i].i;
		int listen = c->state == XS_TCP_LISTEN;

		addr_str(&c->laddr, c->lport, l, sizeof(l));
		addr_str(&c->raddr, c->rport, r, sizeof(r));
		ctl_printf(cl, "%-12s %-7u %-7u %-21s %s%s\n", xs_tcp_state_name(c->state),
			   c->rcv_queue, c->snd_queue, l, listen ? "0.0.0.0:*" : r,
			   c->handle.id < 0 && !listen ? "  (orphan)" : "");
		if (listen)
			continue;
		ctl_printf(cl, "\t %s", c->cc ? c->cc : "?");
		if (nq > 1)
			ctl_printf(cl, " queue:%u", row[i].queue);
		if (c->snd_wscale || c->rcv_wscale)
			ctl_printf(cl, " wscale:%u,%u", c->snd_wscale, c->rcv_wscale);
		ctl_printf(cl, "%s%s rto:%u rtt:%.3f/%.3f mss:%u cwnd:%u", c->sack ? " sack" : "",
			   c->timestamps ? " ts" : "", c->rto_ms, c->rtt_us / 1000.0,
			   c->rttvar_us / 1000.0, c->mss, c->cwnd);
		if (ssthresh_set(c))
			ctl_printf(cl, " ssthresh:%u", c->ssthresh);
		ctl_printf(cl,
			   " snd_wnd:%u rcv_wnd:%u retrans:%llu bytes_acked:%llu "
			   "bytes_received:%llu\n",
			   c->snd_wnd, c->rcv_wnd, (unsigned long long)c->retransmits,
			   (unsigned long long)c->bytes_acked,
			   (unsigned long long)c->bytes_received);
	}
}

static void conns_json(struct ctl_client *cl, const struct conn_row *row, size_t n, size_t total)
{
	char l[XS_ADDR_STRLEN], r[XS_ADDR_STRLEN];
	size_t i;

	ctl_printf(cl, "{\"connections\": [");
	for (i = 0; i < n; i++) {
		const struct xs_tcp_info *c = &row[i].i;

		xs_addr_format(&c->laddr, l, sizeof(l));
		xs_addr_format(&c->raddr, r, sizeof(r));
		ctl_printf(cl, "%s\n  {\"state\": \"%s\", \"handle\": ", i ? "," : "",
			   xs_tcp_state_name(c->state));
		if (c->handle.id >= 0)
			ctl_printf(cl, "%d", c->handle.id);
		else
			ctl_printf(cl, "null");
		ctl_printf(cl,
			   ", \"local_ip\": \"%s\", \"local_port\": %u, \"remote_ip\": \"%s\", "
			   "\"remote_port\": %u, \"recv_q\": %u, \"send_q\": %u",
			   l, c->lport, r, c->rport, c->rcv_queue, c->snd_queue);
		ctl_printf(cl,
			   ", \"rtt_ms\": %.3f, \"rttvar_ms\": %.3f, \"rto_ms\": %u, "
			   "\"cwnd\": %u, \"ssthresh\": ",
			   c->rtt_us / 1000.0, c->rttvar_us / 1000.0, c->rto_ms, c->cwnd);
		if (ssthresh_set(c))
			ctl_printf(cl, "%u", c->ssthresh);
		else
			ctl_printf(cl, "null");
		ctl_printf(cl,
			   ", \"mss\": %u, \"snd_wnd\": %u, \"rcv_wnd\": %u, \"retransmits\": "
			   "%llu, \"bytes_acked\": %llu, \"bytes_received\": %llu, "
			   "\"snd_wscale\": %u, \"rcv_wscale\": %u, \"sack\": %s, "
			   "\"timestamps\": %s, \"cc\": ",
			   c->mss, c->snd_wnd, c->rcv_wnd, (unsigned long long)c->retransmits,
			   (unsigned long long)c->bytes_acked,
			   (unsigned long long)c->bytes_received, c->snd_wscale, c->rcv_wscale,
			   c->sack ? "true" : "false", c->timestamps ? "true" : "false");
		ctl_json_str(cl, c->cc ? c->cc : "");
		ctl_printf(cl, ", \"queue\": %u}", row[i].queue);
	}
	ctl_printf(cl, "%s],\n \"total\": %zu, \"truncated\": %s}\n", n ? "\n " : "", total,
		   total > n ? "true" : "false");
}

void ctl_cmd_conns(struct ctl_client *cl, int argc, char **argv)
{
	unsigned nq = ctl_nq(cl->ctl), q;
	struct conn_row *row = NULL;
	size_t n = 0, cap = 0;

	if (argc > 1) {
		ctl_end(cl, CTL_USAGE, "conns: unexpected argument '%.64s' (usage: conns [--json])",
			argv[1]);
		return;
	}
	for (q = 0; q < nq; q++) {
		struct xs_tcp_info *c = NULL;
		struct ctl_qview v;
		size_t got, qcap = 256, i;
		struct conn_row *grown;

		/* The table has no count: grow until the list is not full (the
		 * queue held the while, so the table does not change under us). */
		ctl_hold(cl->ctl, q, &v);
		for (;;) {
			c = calloc(qcap, sizeof(*c));
			if (!c)
				break;
			got = xs_tcp_list(v.st, c, qcap);
			if (got < qcap || qcap >= (1u << 20))
				break;
			free(c);
			qcap *= 4;
		}
		ctl_release(cl->ctl, q);
		if (!c)
			goto nomem;
		if (n + got > cap) {
			cap = n + got + 256;
			grown = realloc(row, cap * sizeof(*row));
			if (!grown) {
				free(c);
				goto nomem;
			}
			row = grown;
		}
		for (i = 0; i < got; i++)
			row[n++] = (struct conn_row){.i = c[i], .queue = q};
		free(c);
	}
	if (n)
		qsort(row, n, sizeof(*row), conn_cmp);
	if (cl->json) {
		conns_json(cl, row, n < CONNS_MAX ? n : CONNS_MAX, n);
	} else {
		conns_text(cl, row, n < CONNS_MAX ? n : CONNS_MAX, nq);
		if (n > CONNS_MAX)
			ctl_printf(cl, "... %zu more not shown\n", n - CONNS_MAX);
	}
	free(row);
	ctl_end(cl, CTL_OK, NULL);
	return;
nomem:
	free(row);
	ctl_end(cl, CTL_ERROR, "conns: out of memory");
}
