/* The filter command of the control socket: list the rules with their
 * counters, add, insert, delete, flush, set a policy; errors leave the set as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"
#include "bpf/steer.h"

#define FILTER_USAGE                                                                               \
	"usage: filter [list] | filter add RULE | filter insert N RULE | filter del N | "          \
	"filter flush | filter policy in|out accept|drop | filter xdp on|off"

/* What the XDP program counted since the last look, onto the stack's rules
 * (before any change: positions are those of the table it ran). */
static void xdp_harvest(struct ctl *c)
{
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_table t;

	if (c->cfg.hw && xs_afxdp_filter_harvest(c->cfg.hw, &t, d) == 0)
		xs_filter_xdp_counts(c->cfg.st, &t, d);
}

/* The changed rule set into the XDP program; 0 or -errno. */
static int xdp_push(struct ctl *c)
{
	struct xs_steer_table t;

	if (!c->cfg.hw || c->cfg.filter_xdp_off)
		return 0;
	xs_filter_xdp_table(c->cfg.st, &t);
	return xs_afxdp_filter_set(c->cfg.hw, &t);
}

/* Multi-queue: a change made on queue 0's stack is made on every other's
 * (the same operation on the same set gives the same set; each stack keeps
 * counting its own matches). */
struct filter_op {
	enum { FOP_INSERT, FOP_DEL, FOP_FLUSH, FOP_POLICY } op;
	int pos, out, drop;
	const char *line;
};

static void filter_apply(struct xs_stack *st, void *arg)
{
	const struct filter_op *f = arg;
	char err[8];

	switch (f->op) {
	case FOP_INSERT:
		xs_filter_insert(st, f->pos, f->line, err, sizeof(err));
		break;
	case FOP_DEL:
		xs_filter_del(st, (unsigned)f->pos);
		break;
	case FOP_FLUSH:
		xs_filter_flush(st);
		break;
	case FOP_POLICY:
		xs_filter_set_policy(st, f->out, f->drop);
		break;
	}
}

/* What the stacks matched, summed over the queues into e/pp/pb (queue 0's
 * list, as xs_filter_list gives it). */
static size_t list_all(struct ctl *c, struct xs_filter_entry *e, size_t max, int pd[2],
		       uint64_t pp[2], uint64_t pb[2])
{
	size_t n = xs_filter_list(c->cfg.st, e, max, pd, pp, pb), i;
	struct xs_filter_entry *o;
	uint64_t opp[2], opb[2];
	struct ctl_qview v;
	unsigned q;

	if (ctl_nq(c) < 2 || !e)
		return n;
	o = calloc(max, sizeof(*o));
	if (!o)
		return n;
	for (q = 1; q < ctl_nq(c); q++) {
		ctl_hold(c, q, &v);
		if (xs_filter_list(v.st, o, max, NULL, opp, opb) == n) {
			for (i = 0; i < n && i < max; i++) {
				e[i].pkts += o[i].pkts;
				e[i].bytes += o[i].bytes;
			}
			for (i = 0; i < 2 && pp; i++) {
				pp[i] += opp[i];
				pb[i] += opb[i];
			}
		}
		ctl_release(c, q);
	}
	free(o);
	return n;
}

/* Inbound rules are judged in the XDP program (else all in the stack). */
static int xdp_on(const struct ctl *c)
{
	return c->cfg.hw && !c->cfg.filter_xdp_off;
}

/* Ends a command that changed the set: OK once the XDP program has it. */
static void changed(struct ctl_client *cl, const char *what)
{
	int rc = xdp_push(cl->ctl);

	if (rc)
		ctl_end(cl, CTL_ERROR,
			"filter %s: done in the stack, but the XDP program's table "
			"could not be updated (%s); the stack enforces every rule",
			what, strerror(-rc));
	else
		ctl_end(cl, CTL_OK, NULL);
}

/* argv[from..argc) joined with spaces into buf; -1 if it does not fit. */
static int join_rule(int argc, char **argv, int from, char *buf, size_t cap)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = from; i < argc; i++) {
		size_t k = strlen(argv[i]);

		if (n + k + 2 > cap)
			return -1;
		if (n)
			buf[n++] = ' ';
		memcpy(buf + n, argv[i], k + 1);
		n += k;
	}
	return 0;
}

/* "N" as a 1-based rule number within 1..max; -1 if not. */
static long rule_number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	return (long)v;
}

static void filter_list(struct ctl_client *cl)
{
	struct xs_filter_entry *e = calloc(XS_FILTER_MAX_RULES, sizeof(*e));
	static const char *const dir[2] = {"in", "out"};
	uint64_t pp[2], pb[2], xp, xb;
	int pd[2], d;
	size_t n, i;

	if (!e) {
		ctl_end(cl, CTL_ERROR, "filter list: out of memory");
		return;
	}
	xdp_harvest(cl->ctl);
	xs_filter_xdp_policy(cl->ctl->cfg.st, &xp, &xb);
	n = list_all(cl->ctl, e, XS_FILTER_MAX_RULES, pd, pp, pb);
	if (cl->json) {
		ctl_printf(cl, "{\"policy\": {");
		for (d = 0; d < 2; d++)
			ctl_printf(
			    cl,
			    "%s\"%s\": {\"action\": \"%s\", \"pkts\": %llu, \"bytes\": %llu, "
			    "\"xdp_pkts\": %llu, \"xdp_bytes\": %llu}",
			    d ? ", " : "", dir[d], pd[d] ? "drop" : "accept",
			    (unsigned long long)pp[d], (unsigned long long)pb[d],
			    (unsigned long long)(d ? 0 : xp), (unsigned long long)(d ? 0 : xb));
		ctl_printf(cl, "},\n \"max_rules\": %d,\n \"xdp\": %s,\n \"rules\": [",
			   XS_FILTER_MAX_RULES, xdp_on(cl->ctl) ? "true" : "false");
		for (i = 0; i < n; i++) {
			ctl_printf(cl, "%s\n  {\"n\": %zu, \"rule\": ", i ? "," : "", i + 1);
			ctl_json_str(cl, e[i].text);
			ctl_printf(
			    cl,
			    ", \"pkts\": %llu, \"bytes\": %llu, \"xdp_pkts\": %llu, "
			    "\"xdp_bytes\": %llu, \"limited\": %llu, \"xdp_limited\": %llu}",
			    (unsigned long long)e[i].pkts, (unsigned long long)e[i].bytes,
			    (unsigned long long)e[i].xdp_pkts, (unsigned long long)e[i].xdp_bytes,
			    (unsigned long long)e[i].limited, (unsigned long long)e[i].xdp_limited);
		}
		ctl_printf(cl, "]}\n");
	} else {
		if (!xdp_on(cl->ctl))
			ctl_printf(cl,
				   "(not enforced in XDP: every rule is judged in the stack)\n");
		for (d = 0; d < 2; d++)
			ctl_printf(cl, "policy %-3s %-6s  pkts %llu bytes %llu  xdp %llu/%llu\n",
				   dir[d], pd[d] ? "drop" : "accept", (unsigned long long)pp[d],
				   (unsigned long long)pb[d], (unsigned long long)(d ? 0 : xp),
				   (unsigned long long)(d ? 0 : xb));
		for (i = 0; i < n; i++) {
			ctl_printf(
			    cl, "%3zu  %s  pkts %llu bytes %llu  xdp %llu/%llu", i + 1, e[i].text,
			    (unsigned long long)e[i].pkts, (unsigned long long)e[i].bytes,
			    (unsigned long long)e[i].xdp_pkts, (unsigned long long)e[i].xdp_bytes);
			/* Over its rate: went on to the next rule, in XDP and here. */
			if (e[i].rate)
				ctl_printf(cl, "  limited xdp %llu stack %llu",
					   (unsigned long long)e[i].xdp_limited,
					   (unsigned long long)e[i].limited);
			ctl_printf(cl, "\n");
		}
	}
	free(e);
	ctl_end(cl, CTL_OK, NULL);
}

static void filter_add(struct ctl_client *cl, int argc, char **argv, int insert)
{
	char line[XS_FILTER_TEXT_MAX], err[256];
	int from = insert ? 3 : 2, rc;
	long pos = -1;
	size_t n;

	if (argc <= from) {
		ctl_end(cl, CTL_USAGE, "filter %s: expected %sa rule (accept|drop|reject ...)",
			argv[1], insert ? "a rule number N and " : "");
		return;
	}
	n = xs_filter_list(cl->ctl->cfg.st, NULL, 0, NULL, NULL, NULL);
	if (insert) {
		pos = rule_number(argv[2], n + 1);
		if (pos < 0) {
			ctl_end(cl, CTL_USAGE,
				"filter insert: invalid rule number '%.32s': expected 1-%zu",
				argv[2], n + 1);
			return;
		}
		pos--;
	}
	if (join_rule(argc, argv, from, line, sizeof(line))) {
		ctl_end(cl, CTL_USAGE, "filter %s: rule longer than %d bytes", argv[1],
			XS_FILTER_TEXT_MAX - 1);
		return;
	}
	xdp_harvest(cl->ctl);
	rc = xs_filter_insert(cl->ctl->cfg.st, (int)pos, line, err, sizeof(err));
	if (rc == -EINVAL)
		ctl_end(cl, CTL_USAGE, "filter %s: %s", argv[1], err);
	else if (rc)
		ctl_end(cl, CTL_ERROR, "filter %s: %s", argv[1], err);
	else {
		ctl_each_other(cl->ctl, filter_apply,
			       &(struct filter_op){.op = FOP_INSERT, .pos = (int)pos, .line = line});
		if (cl->json)
			ctl_printf(cl, "{\"n\": %ld}\n", pos < 0 ? (long)n + 1 : pos + 1);
		changed(cl, argv[1]);
	}
}

static void filter_del(struct ctl_client *cl, int argc, char **argv)
{
	size_t n = xs_filter_list(cl->ctl->cfg.st, NULL, 0, NULL, NULL, NULL);
	long pos;

	if (argc != 3) {
		ctl_end(cl, CTL_USAGE, "filter del: expected one rule number N (see filter list)");
		return;
	}
	pos = rule_number(argv[2], n);
	if (pos < 0) {
		if (n)
			ctl_end(cl, CTL_USAGE,
				"filter del: invalid rule number '%.32s': expected 1-%zu", argv[2],
				n);
		else
			ctl_end(cl, CTL_USAGE, "filter del: no rules to delete ('%.32s')", argv[2]);
		return;
	}
	xdp_harvest(cl->ctl);
	xs_filter_del(cl->ctl->cfg.st, (unsigned)(pos - 1));
	ctl_each_other(cl->ctl, filter_apply, &(struct filter_op){.op = FOP_DEL, .pos = (int)pos - 1});
	changed(cl, "del");
}

static void filter_policy(struct ctl_client *cl, int argc, char **argv)
{
	int out, drop;

	if (argc != 4 || (strcmp(argv[2], "in") && strcmp(argv[2], "out")) ||
	    (strcmp(argv[3], "accept") && strcmp(argv[3], "drop"))) {
		ctl_end(cl, CTL_USAGE, "filter policy: expected in|out accept|drop");
		return;
	}
	out = !strcmp(argv[2], "out");
	drop = !strcmp(argv[3], "drop");
	xdp_harvest(cl->ctl);
	xs_filter_set_policy(cl->ctl->cfg.st, out, drop);
	ctl_each_other(cl->ctl, filter_apply,
		       &(struct filter_op){.op = FOP_POLICY, .out = out, .drop = drop});
	changed(cl, "policy");
}

/* filter xdp on|off: the inbound rules headers decide judged in the XDP
 * program (on), or every rule in the stack (off: its table left empty). */
static void filter_xdp(struct ctl_client *cl, int argc, char **argv)
{
	struct ctl *c = cl->ctl;
	struct xs_steer_table empty;
	int off, rc;

	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
		ctl_end(cl, CTL_USAGE, "filter xdp: expected on or off");
		return;
	}
	if (!c->cfg.hw) {
		ctl_end(cl, CTL_ERROR, "filter xdp: this stack has no XDP program");
		return;
	}
	off = !strcmp(argv[2], "off");
	xdp_harvest(c);
	if (off) {
		memset(&empty, 0, sizeof(empty));
		rc = xs_afxdp_filter_set(c->cfg.hw, &empty);
	} else {
		c->cfg.filter_xdp_off = 0;
		rc = xdp_push(c);
	}
	if (rc) {
		ctl_end(cl, CTL_ERROR,
			"filter xdp %s: the XDP program's table could not be "
			"updated (%s)",
			argv[2], strerror(-rc));
		return;
	}
	c->cfg.filter_xdp_off = off;
	ctl_end(cl, CTL_OK, NULL);
}

void ctl_cmd_filter(struct ctl_client *cl, int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "list")))
		filter_list(cl);
	else if (!strcmp(argv[1], "add"))
		filter_add(cl, argc, argv, 0);
	else if (!strcmp(argv[1], "insert"))
		filter_add(cl, argc, argv, 1);
	else if (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete"))
		filter_del(cl, argc, argv);
	else if (!strcmp(argv[1], "flush") && argc == 2) {
		xdp_harvest(cl->ctl);
		xs_filter_flush(cl->ctl->cfg.st);
		ctl_each_other(cl->ctl, filter_apply, &(struct filter_op){.op = FOP_FLUSH});
		changed(cl, "flush");
	} else if (!strcmp(argv[1], "policy"))
		filter_policy(cl, argc, argv);
	else if (!strcmp(argv[1], "xdp"))
		filter_xdp(cl, argc, argv);
	else
		ctl_end(cl, CTL_USAGE, "filter: unexpected argument '%.64s' (" FILTER_USAGE ")",
			argv[1]);
}

void ctl_filter_stats(struct ctl_client *cl)
{
	struct xs_filter_entry *e = calloc(XS_FILTER_MAX_RULES, sizeof(*e));
	size_t n, i;
	int first = 1;

	if (!e)
		return;
	xdp_harvest(cl->ctl);
	n = list_all(cl->ctl, e, XS_FILTER_MAX_RULES, NULL, NULL, NULL);
	if (cl->json) {
		ctl_printf(cl, ",\n \"filter\": [");
		for (i = 0; i < n; i++)
			ctl_printf(
			    cl,
			    "%s{\"n\": %zu, \"pkts\": %llu, \"bytes\": %llu, \"xdp_pkts\": %llu, "
			    "\"xdp_bytes\": %llu, \"limited\": %llu, \"xdp_limited\": %llu}",
			    i ? ", " : "", i + 1, (unsigned long long)e[i].pkts,
			    (unsigned long long)e[i].bytes, (unsigned long long)e[i].xdp_pkts,
			    (unsigned long long)e[i].xdp_bytes, (unsigned long long)e[i].limited,
			    (unsigned long long)e[i].xdp_limited);
		ctl_printf(cl, "]");
	} else {
		for (i = 0; i < n; i++) {
			if (!e[i].pkts && !e[i].xdp_pkts && !e[i].limited && !e[i].xdp_limited)
				continue;
			if (first)
				ctl_printf(cl, "filter (see filter list):\n");
			first = 0;
			ctl_printf(cl, "  %3zu %-36.36s pkts %llu xdp %llu", i + 1, e[i].text,
				   (unsigned long long)e[i].pkts,
				   (unsigned long long)e[i].xdp_pkts);
			if (e[i].rate)
				ctl_printf(cl, " limited xdp %llu stack %llu",
					   (unsigned long long)e[i].xdp_limited,
					   (unsigned long long)e[i].limited);
			ctl_printf(cl, "\n");
		}
	}
	free(e);
}
