/* The counter view users know from nstat and ip -s: non-zero counters grouped
 * by layer (all of them with -a), drops by layer, then the services'. */
#ifndef XS_APP_COUNTERS_H
#define XS_APP_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xdpstack/dev.h>
#include <xdpstack/stats.h>

/* A counter that is not in struct xs_stats (XDP, services, control socket):
 * group NULL files it by its name's prefix, like the stack's. */
struct cview_extra {
	const char *group;
	const char *name;
	uint64_t value;
	int always; /* a fact, not a count (an id): shown even when 0 */
};

/* A count for the view (shown when non-zero, or with CVIEW_ALL). */
static inline struct cview_extra cview_count(const char *group, const char *name, uint64_t value)
{
	return (struct cview_extra){group, name, value, 0};
}

#define CVIEW_ALL 1	 /* zeros too (-a) */
#define CVIEW_DESCRIBE 2 /* drop lines carry their reason's description */

/* Adds src's counters to dst (several queues' stacks as one): sums, except
 * the high-water marks (*_chain_max), whose maximum is kept. */
void cview_stats_add(struct xs_stats *dst, const struct xs_stats *src);

/* Writes the view: "group:" lines, then "  name value" lines under them;
 * indent is prefixed to every line. Returns the number of counter lines. */
size_t cview_print(FILE *f, const char *indent, const struct xs_stats *s,
		   const struct cview_extra *extra, size_t nextra, unsigned flags);

#endif
