/* The grouped counter view (counters.h): each counter goes to its layer by its
 * name's prefix, so a counter added to stats.h's tables lands in place. */
#include <ctype.h>
#include <string.h>

#include "app/counters.h"

/* Layers in print order; a name goes to the first group with a matching
 * prefix (drop reasons are matched on their lower-case name). */
static const struct {
	const char *name;
	const char *prefixes[5];
} groups[] = {
    {"link", {"rx_", "tx_", "xdp_", "xsk_", "eth_"}},
    {"arp", {"arp_"}},
    {"ipv4", {"ip_", "frag_"}},
    {"icmp", {"icmp_"}},
    {"ipv6", {"ip6_", "icmp6_", "nd_", "pmtu_", "mld_"}},
    {"udp", {"udp_"}},
    {"tcp", {"tcp_"}},
    {"dns", {"dns_"}},
    {"tls", {"tls_"}},
    {"queues", {"mq_"}},
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))
#define GROUP_OTHER NGROUPS

static size_t group_of(const char *name)
{
	size_t g, i;

	for (g = 0; g < NGROUPS; g++)
		for (i = 0; i < 5 && groups[g].prefixes[i]; i++)
			if (!strncmp(name, groups[g].prefixes[i], strlen(groups[g].prefixes[i])))
				return g;
	return GROUP_OTHER;
}

static const char *group_name(size_t g)
{
	return g < NGROUPS ? groups[g].name : "other";
}

void cview_drop_key(enum xs_drop r, char *buf, size_t len)
{
	const char *n = xs_drop_name(r);
	size_t i;

	for (i = 0; n[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)n[i]);
	buf[i] = 0;
}

/* Prints "name value" under a header written once, when the first line of
 * the group shows. */
struct cview_out {
	FILE *f;
	const char *indent;
	unsigned flags;
	const char *pending; /* header not yet printed */
	const char *pending2;
	size_t lines;
};

static void line(struct cview_out *o, const char *pre, const char *name, uint64_t v,
		 const char *desc, int always)
{
	char key[64];

	if (!v && !always && !(o->flags & CVIEW_ALL))
		return;
	if (o->pending) {
		fprintf(o->f, "%s%s:\n", o->indent, o->pending);
		o->pending = NULL;
	}
	if (o->pending2) {
		fprintf(o->f, "%s  %s:\n", o->indent, o->pending2);
		o->pending2 = NULL;
	}
	snprintf(key, sizeof(key), "%s%s", pre, name);
	/* Drop lines sit one level deeper; their values stay in the column. */
	fprintf(o->f, "%s  %s%-*s %llu", o->indent, desc ? "  " : "", desc ? 26 : 28, key,
		(unsigned long long)v);
	if (desc && (o->flags & CVIEW_DESCRIBE))
		fprintf(o->f, "  %s", desc);
	fputc('\n', o->f);
	o->lines++;
}

size_t cview_print(FILE *f, const char *indent, const struct xs_stats *s,
		   const struct cview_extra *extra, size_t nextra, unsigned flags)
{
	struct cview_out o = {.f = f, .indent = indent, .flags = flags};
	char key[48];
	size_t g, i;
	int r;

	/* Traffic, layer by layer: the stack's own counters, then extras. */
	for (g = 0; g <= GROUP_OTHER; g++) {
		o.pending = group_name(g);
#define CVIEW_COUNTER(name)                                                                        \
	if (group_of(#name) == g)                                                                  \
		line(&o, "", #name, s->name, NULL, 0);
		XS_COUNTERS(CVIEW_COUNTER)
#undef CVIEW_COUNTER
		for (i = 0; i < nextra; i++)
			if (!extra[i].group && group_of(extra[i].name) == g)
				line(&o, "", extra[i].name, extra[i].value, NULL, extra[i].always);
	}
	/* Drops, by the layer that dropped. */
	o.pending = "drops";
	for (g = 0; g <= GROUP_OTHER; g++) {
		o.pending2 = group_name(g);
		for (r = 1; r < XS_DROP_MAX; r++) {
			cview_drop_key((enum xs_drop)r, key, sizeof(key));
			if (group_of(key) == g)
				line(&o, "drop_", key, s->drop[r], xs_drop_desc((enum xs_drop)r), 0);
		}
	}
	o.pending2 = NULL;
	/* Named groups of extras (services, the control socket), in order of
	 * first appearance. */
	for (i = 0; i < nextra; i++) {
		size_t j;

		if (!extra[i].group)
			continue;
		for (j = 0; j < i; j++)
			if (extra[j].group && !strcmp(extra[j].group, extra[i].group))
				break;
		if (j < i)
			continue;
		o.pending = extra[i].group;
		for (j = i; j < nextra; j++)
			if (extra[j].group && !strcmp(extra[j].group, extra[i].group))
				line(&o, "", extra[j].name, extra[j].value, NULL, extra[j].always);
	}
	return o.lines;
}

void cview_stats_add(struct xs_stats *dst, const struct xs_stats *src)
{
	size_t i;

#define CVIEW_ADD(name)                                                                            \
	if (strstr(#name, "_chain_max"))                                                           \
		dst->name = dst->name > src->name ? dst->name : src->name;                          \
	else                                                                                       \
		dst->name += src->name;
	XS_COUNTERS(CVIEW_ADD)
#undef CVIEW_ADD
	for (i = 0; i < XS_DROP_MAX; i++)
		dst->drop[i] += src->drop[i];
}
