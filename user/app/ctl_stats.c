/* The stats control command: every queue's counters summed (the view of one
 * stack), and with --queues each queue's own; --json gives both to machines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/busypoll.h"
#include "app/counters.h"
#include "app/ctl.h"
#include "dev/dev.h"

/* One queue as read while it was held. */
struct qsnap {
	struct xs_stats s;
	struct xs_xdp_counters x; /* the program's counters and this socket's */
	int have_x;
	struct xs_dev_frames f;
	int have_f;
	struct busy_poll bp;
	int have_bp;
	int napi_id;
	unsigned nic_queue;
	int cpu;
};

static void snap(struct ctl *c, unsigned i, struct qsnap *q)
{
	struct ctl_qview v;

	ctl_hold(c, i, &v);
	q->s = *xs_stack_stats(v.st);
	q->have_x = v.hw && xs_afxdp_xdp_counters(v.hw, &q->x) == 0;
	q->have_f = v.hw != NULL;
	if (v.hw)
		v.hw->ops->frames(v.hw, &q->f);
	q->have_bp = v.bp != NULL;
	if (v.bp)
		q->bp = *v.bp;
	q->napi_id = v.hw ? xs_afxdp_napi_id(v.hw) : 0;
	if (q->napi_id < 0)
		q->napi_id = 0;
	q->nic_queue = v.nic_queue;
	q->cpu = v.cpu;
	ctl_release(c, i);
}

/* Queue 0's snapshot becomes the sum: counters added, the XDP program's
 * own counters once (one program for all queues), sockets and frames added. */
static void sum_into(struct qsnap *sum, const struct qsnap *q)
{
	cview_stats_add(&sum->s, &q->s);
	if (sum->have_x && q->have_x) {
		sum->x.sock_rx_dropped += q->x.sock_rx_dropped;
		sum->x.sock_rx_ring_full += q->x.sock_rx_ring_full;
		sum->x.sock_fill_empty += q->x.sock_fill_empty;
		sum->x.sock_rx_invalid += q->x.sock_rx_invalid;
		sum->x.sock_tx_invalid += q->x.sock_tx_invalid;
	}
	if (sum->have_f && q->have_f) {
		sum->f.total += q->f.total;
		sum->f.free += q->f.free;
		sum->f.fill += q->f.fill;
		sum->f.rx_borrowed += q->f.rx_borrowed;
		sum->f.tx_borrowed += q->f.tx_borrowed;
		sum->f.tx_queued += q->f.tx_queued;
		sum->f.in_flight += q->f.in_flight;
		sum->f.misuse += q->f.misuse;
	}
	if (sum->have_bp && q->have_bp) {
		sum->bp.spins += q->bp.spins;
		sum->bp.sleeps += q->bp.sleeps;
		sum->bp.wakes += q->bp.wakes;
	}
}

static void json_counters(struct ctl_client *cl, const struct xs_stats *s)
{
	int first = 1;

	ctl_printf(cl, "{");
#define CTL_JSON_COUNTER(name)                                                                     \
	ctl_printf(cl, "%s\n  \"%s\": %llu", first ? "" : ",", #name,                              \
		   (unsigned long long)s->name);                                                   \
	first = 0;
	XS_COUNTERS(CTL_JSON_COUNTER)
#undef CTL_JSON_COUNTER
	ctl_printf(cl, "}");
}

static void json_xdp(struct ctl_client *cl, const struct qsnap *q)
{
	if (!q->have_x) {
		ctl_printf(cl, "null");
		return;
	}
	ctl_printf(
	    cl,
	    "{\"redirected\": %llu, \"passed\": %llu, \"filter_dropped\": %llu, "
	    "\"xsk_rx_dropped\": %llu, "
	    "\"xsk_rx_ring_full\": %llu, \"xsk_fill_empty\": %llu, "
	    "\"xsk_rx_invalid\": %llu, \"xsk_tx_invalid\": %llu}",
	    (unsigned long long)q->x.redirected, (unsigned long long)q->x.passed,
	    (unsigned long long)q->x.filter_dropped, (unsigned long long)q->x.sock_rx_dropped,
	    (unsigned long long)q->x.sock_rx_ring_full, (unsigned long long)q->x.sock_fill_empty,
	    (unsigned long long)q->x.sock_rx_invalid, (unsigned long long)q->x.sock_tx_invalid);
}

static void json_frames(struct ctl_client *cl, const struct qsnap *q)
{
	if (!q->have_f) {
		ctl_printf(cl, "null");
		return;
	}
	ctl_printf(cl,
		   "{\"total\": %u, \"free\": %u, \"fill\": %u, \"rx_borrowed\": %u, "
		   "\"tx_borrowed\": %u, \"tx_queued\": %u, \"in_flight\": %u, \"misuse\": %u}",
		   q->f.total, q->f.free, q->f.fill, q->f.rx_borrowed, q->f.tx_borrowed,
		   q->f.tx_queued, q->f.in_flight, q->f.misuse);
}

static void json_busy_poll(struct ctl_client *cl, const struct qsnap *q)
{
	const struct busy_poll *bp = &q->bp;

	if (!q->have_bp || !bp->idle_ns) {
		ctl_printf(cl, "null");
		return;
	}
	ctl_printf(cl,
		   "{\"idle_us\": %llu, \"spinning\": %s, \"spins\": %llu, "
		   "\"sleeps\": %llu, \"wakes\": %llu, \"kernel\": %s, "
		   "\"napi_id\": %d}",
		   (unsigned long long)(bp->idle_ns / 1000), bp->spinning ? "true" : "false",
		   (unsigned long long)bp->spins, (unsigned long long)bp->sleeps,
		   (unsigned long long)bp->wakes, bp->kernel ? "false" : "true", q->napi_id);
}

static void stats_json(struct ctl_client *cl, const struct qsnap *sum, const struct qsnap *q,
		       unsigned nq)
{
	char key[40];
	unsigned i;
	int r;

	ctl_printf(cl, "{\"counters\": ");
	json_counters(cl, &sum->s);
	ctl_printf(cl, ",\n \"xdp\": ");
	json_xdp(cl, sum);
	ctl_printf(cl, ",\n \"frames\": ");
	json_frames(cl, sum);
	ctl_printf(cl, ",\n \"busy_poll\": ");
	json_busy_poll(cl, sum);
	ctl_printf(cl,
		   ",\n \"ctl\": {\"read_budget\": %llu, \"accept_budget\": %llu, "
		   "\"refused\": %llu, \"dropped\": %llu}",
		   (unsigned long long)cl->ctl->read_budget_hits,
		   (unsigned long long)cl->ctl->accept_budget_hits,
		   (unsigned long long)cl->ctl->clients_refused,
		   (unsigned long long)cl->ctl->clients_dropped);
	ctl_printf(cl, ",\n \"drops\": {");
	for (r = 1; r < XS_DROP_MAX; r++) {
		cview_drop_key((enum xs_drop)r, key, sizeof(key));
		ctl_printf(cl,
			   "%s\n  \"%s\": {\"count\": %llu, \"description\": ", r > 1 ? "," : "",
			   key, (unsigned long long)sum->s.drop[r]);
		ctl_json_str(cl, xs_drop_desc((enum xs_drop)r));
		ctl_printf(cl, "}");
	}
	ctl_printf(cl, "}");
	ctl_filter_stats(cl);
	/* Each queue: its own counters and drops (non-zero drops only). */
	ctl_printf(cl, ",\n \"queues\": [");
	for (i = 0; i < nq; i++) {
		int first = 1;

		ctl_printf(cl,
			   "%s\n  {\"queue\": %u, \"nic_queue\": %u, \"cpu\": %d, \"counters\": ",
			   i ? "," : "", i, q[i].nic_queue, q[i].cpu);
		json_counters(cl, &q[i].s);
		ctl_printf(cl, ", \"drops\": {");
		for (r = 1; r < XS_DROP_MAX; r++) {
			if (!q[i].s.drop[r])
				continue;
			cview_drop_key((enum xs_drop)r, key, sizeof(key));
			ctl_printf(cl, "%s\"%s\": %llu", first ? "" : ", ", key,
				   (unsigned long long)q[i].s.drop[r]);
			first = 0;
		}
		ctl_printf(cl, "}, \"xdp\": ");
		json_xdp(cl, &q[i]);
		ctl_printf(cl, ", \"frames\": ");
		json_frames(cl, &q[i]);
		ctl_printf(cl, "}");
	}
	ctl_printf(cl, "\n ]}\n");
}

/* The grouped view of one snapshot into the output; the number of lines. */
static size_t view(struct ctl_client *cl, const char *indent, const struct qsnap *q,
		   const struct cview_extra *ex, size_t n, unsigned flags)
{
	char *text = NULL;
	size_t len = 0, lines;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return 0;
	lines = cview_print(f, indent, &q->s, ex, n, flags);
	if (fclose(f) || !text) {
		free(text);
		return 0;
	}
	ctl_printf(cl, "%s", text);
	free(text);
	return lines;
}

static size_t xdp_extras(const struct qsnap *q, struct cview_extra *ex, int program)
{
	size_t n = 0;

	if (!q->have_x)
		return 0;
	if (program) {
		ex[n++] = cview_count(NULL, "xdp_redirected", q->x.redirected);
		ex[n++] = cview_count(NULL, "xdp_passed", q->x.passed);
		ex[n++] = cview_count(NULL, "xdp_filter_dropped", q->x.filter_dropped);
	}
	ex[n++] = cview_count(NULL, "xsk_rx_dropped", q->x.sock_rx_dropped);
	ex[n++] = cview_count(NULL, "xsk_rx_ring_full", q->x.sock_rx_ring_full);
	ex[n++] = cview_count(NULL, "xsk_fill_empty", q->x.sock_fill_empty);
	ex[n++] = cview_count(NULL, "xsk_rx_invalid", q->x.sock_rx_invalid);
	ex[n++] = cview_count(NULL, "xsk_tx_invalid", q->x.sock_tx_invalid);
	return n;
}

static void stats_text(struct ctl_client *cl, const struct qsnap *sum, const struct qsnap *q,
		       unsigned nq, int all, int per_queue)
{
	unsigned flags = (all ? CVIEW_ALL : 0) | CVIEW_DESCRIBE;
	struct cview_extra ex[18]; /* 8 XDP, 4 busy-poll, 4 control */
	size_t n = xdp_extras(sum, ex, 1), lines;
	unsigned i;

	if (sum->have_bp && sum->bp.idle_ns) {
		ex[n++] = cview_count("loop", "busy_poll_spins", sum->bp.spins);
		ex[n++] = cview_count("loop", "busy_poll_sleeps", sum->bp.sleeps);
		ex[n++] = cview_count("loop", "busy_poll_wakes", sum->bp.wakes);
		ex[n++] =
		    (struct cview_extra){"loop", "busy_poll_napi_id", (uint64_t)sum->napi_id, 1};
	}
	/* The control server's own budgets (docs/DESIGN.md, Control socket). */
	ex[n++] = cview_count("control", "ctl_read_budget", cl->ctl->read_budget_hits);
	ex[n++] = cview_count("control", "ctl_accept_budget", cl->ctl->accept_budget_hits);
	ex[n++] = cview_count("control", "ctl_refused", cl->ctl->clients_refused);
	ex[n++] = cview_count("control", "ctl_dropped", cl->ctl->clients_dropped);
	lines = view(cl, "", sum, ex, n, flags);
	if (!lines)
		ctl_printf(cl, "all counters are zero (stats -a lists them)\n");
	ctl_filter_stats(cl);
	for (i = 0; per_queue && i < nq; i++) {
		ctl_printf(cl, "queue %u (nic queue %u, cpu %d):\n", i, q[i].nic_queue, q[i].cpu);
		n = xdp_extras(&q[i], ex, 0);
		if (!view(cl, "  ", &q[i], ex, n, flags & ~CVIEW_DESCRIBE))
			ctl_printf(cl, "  all counters are zero\n");
	}
}

/* Text: the grouped view of counters.h, non-zero only unless -a (drops with
 * their description), summed over the queues; --queues adds each queue's.
 * --json: every counter, always, for machines, each queue's under "queues". */
void ctl_cmd_stats(struct ctl_client *cl, int argc, char **argv)
{
	unsigned nq = ctl_nq(cl->ctl), i;
	int all = 0, per_queue = 0, a;
	struct qsnap *q, sum;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-a") || !strcmp(argv[a], "--all")) {
			all = 1;
		} else if (!strcmp(argv[a], "--queues")) {
			per_queue = 1;
		} else {
			ctl_end(cl, CTL_USAGE,
				"stats: unexpected argument '%.64s' (usage: stats [-a] [--queues])",
				argv[a]);
			return;
		}
	}
	q = calloc(nq, sizeof(*q));
	if (!q) {
		ctl_end(cl, CTL_ERROR, "stats: out of memory");
		return;
	}
	for (i = 0; i < nq; i++)
		snap(cl->ctl, i, &q[i]);
	sum = q[0];
	for (i = 1; i < nq; i++)
		sum_into(&sum, &q[i]);
	if (cl->json)
		stats_json(cl, &sum, q, nq);
	else
		stats_text(cl, &sum, q, nq, all, per_queue);
	free(q);
	ctl_end(cl, CTL_OK, NULL);
}
