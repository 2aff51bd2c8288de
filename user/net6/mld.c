/* MLDv2 listener reports (RFC 3810 6) for the solicited-node groups of the
 * stack's addresses: joins before DAD, leaves, a refresh, unicast queries. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/mld.h"
#include "net6/mq6.h"
#include "wire/mld.h"

#define MLD_NEVER ND_NEVER

/* mld_send_due puts every group due in one report of each kind. */
_Static_assert(MLD_MAX_GROUPS <= MLD_MAX_RECORDS, "a report holds every group");

void mld_init(struct xs_stack *st, uint8_t robustness)
{
	struct mld_state *m = &st->ip6->mld;

	memset(m, 0, sizeof(*m));
	m->robustness = robustness == XS_IP6_NO_MLD ? 0 : robustness ? robustness : MLD_ROBUSTNESS;
	m->dirty = true;
	m->refresh = 0; /* set at the first tick: the clock may not run yet */
}

static struct mld_group *mld_find(struct mld_state *m, const struct ip6_addr *g)
{
	int i;

	for (i = 0; i < MLD_MAX_GROUPS; i++)
		if (m->g[i].state != MLD_G_FREE && ip6_eq(&m->g[i].g, g))
			return &m->g[i];
	return NULL;
}

/* A free slot; when every slot is taken, the leaving group with the fewest
 * reports left gives its last retransmissions up (never a joined one: at
 * most one a address, half the table). */
static struct mld_group *mld_slot(struct mld_state *m)
{
	struct mld_group *best = NULL;
	int i;

	for (i = 0; i < MLD_MAX_GROUPS; i++) {
		struct mld_group *x = &m->g[i];

		if (x->state == MLD_G_FREE)
			return x;
		if (x->state == MLD_G_LEAVING && (!best || x->left < best->left))
			best = x;
	}
	return best;
}

/* When a new group's first report is due: a tentative address's at its
 * first solicitation, whose random delay (RFC 4862 5.4.2) it shares, so
 * the report leaves just before it; else now (RFC 3810 6.1: at once). */
static xs_time_t mld_join_time(const struct xs_stack *st, const struct ip6_ifaddr *x)
{
	if (x->state == IP6A_TENTATIVE && x->dad_next > st->now)
		return x->dad_next;
	return st->now;
}

/* The groups the addresses want (ip6.c's ip6_mcast_ours listens to the
 * same), against those held: RFC 3810 6.1's state changes. All-nodes is
 * never reported (RFC 3810 6). */
static void mld_sync(struct xs_stack *st)
{
	struct mld_state *m = &st->ip6->mld;
	bool wanted[MLD_MAX_GROUPS] = {false};
	struct mld_group *g;
	int i;

	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];
		struct ip6_addr sn;

		if (x->state == IP6A_FREE || x->state == IP6A_DUPLICATE)
			continue;
		ip6_solicited_node(&x->a, &sn);
		g = mld_find(m, &sn);
		if (!g || g->state == MLD_G_LEAVING) {
			/* Joined (again): TO_EX {}, robustness times. */
			if (!g) {
				g = mld_slot(m);
				g->g = sn;
			}
			g->state = MLD_G_JOINED;
			g->left = m->robustness;
			g->next = mld_join_time(st, x);
			g->answer = MLD_NEVER;
			st->stats.mld_joins++;
		} else if (g->left && g->next > mld_join_time(st, x)) {
			g->next = mld_join_time(st, x);
		}
		wanted[g - m->g] = true;
	}
	for (i = 0; i < MLD_MAX_GROUPS; i++) {
		g = &m->g[i];
		if (g->state != MLD_G_JOINED || wanted[i])
			continue;
		if (g->left == m->robustness) {
			g->state = MLD_G_FREE; /* never announced: nothing to take back */
			continue;
		}
		/* Left: TO_IN {}, robustness times, the first at once. */
		g->state = MLD_G_LEAVING;
		g->left = m->robustness;
		g->next = st->now;
		g->answer = MLD_NEVER;
		st->stats.mld_leaves++;
	}
	m->dirty = false;
}

/* RFC 3810 5.2.13: from a valid link-local address, or :: before there is
 * one (the link-local still tentative). */
static void mld_src(const struct xs_stack *st, struct ip6_addr *src)
{
	int i;

	memset(src, 0, sizeof(*src));
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (ip6_is_linklocal(&x->a) &&
		    (x->state == IP6A_PREFERRED || x->state == IP6A_DEPRECATED)) {
			*src = x->a;
			return;
		}
	}
}

/* One report to ff02::16 behind a Router Alert, hop limit 1. 0 or -errno. */
static int mld_send(struct xs_stack *st, const struct mld_report *r)
{
	struct ip6_addr src;
	struct xs_frame f;
	size_t cap, n;
	uint8_t *l4;

	mld_src(st, &src);
	l4 = ip6_tx_begin(st, &mld_all_routers, &f, &cap);
	if (!l4)
		return -ENOBUFS;
	n = mld_hbh_emit(l4, cap);
	n += n ? mld_report_emit(r, &src, &mld_all_routers, l4 + n, cap - n) : 0;
	if (n <= MLD_HBH_LEN) {
		xs_dev_tx_abort(st->dev, &f);
		return -EMSGSIZE;
	}
	if (ip6_tx_finish(st, &f, &src, &mld_all_routers, NULL, IP6_NH_HOPOPTS, 0, MLD_HOP_LIMIT,
			  n))
		return -ENOBUFS;
	st->stats.icmp6_tx++;
	st->stats.mld_reports_tx++;
	return 0;
}

/* Sends the state-change records due in one report, then the current-state
 * ones in another (RFC 3810 5.2.12 keeps the two kinds apart). */
static void mld_send_due(struct xs_stack *st)
{
	struct mld_state *m = &st->ip6->mld;
	struct mld_report chg = {0}, cur = {0};
	struct mld_group *in_chg[MLD_MAX_GROUPS], *in_cur[MLD_MAX_GROUPS];
	int i;

	for (i = 0; i < MLD_MAX_GROUPS; i++) {
		struct mld_group *g = &m->g[i];

		if (g->state == MLD_G_FREE)
			continue;
		if (g->left && g->next <= st->now) {
			in_chg[chg.nrec] = g;
			chg.rec[chg.nrec].type = g->state == MLD_G_JOINED ? MLD_TO_EX : MLD_TO_IN;
			chg.rec[chg.nrec++].group = g->g;
		} else if (g->state == MLD_G_JOINED && g->answer <= st->now) {
			in_cur[cur.nrec] = g;
			cur.rec[cur.nrec].type = MLD_IS_EX;
			cur.rec[cur.nrec++].group = g->g;
		}
	}
	/* A report that found no frame is tried again at the next tick. */
	if (chg.nrec && mld_send(st, &chg) == 0) {
		for (i = 0; i < chg.nrec; i++) {
			struct mld_group *g = in_chg[i];

			g->left--;
			g->next = g->left ? st->now + xs_random(st) % XS_MS(MLD_UNSOLICITED_MS)
					  : MLD_NEVER;
			if (!g->left && g->state == MLD_G_LEAVING)
				g->state = MLD_G_FREE;
		}
	}
	if (cur.nrec && mld_send(st, &cur) == 0)
		for (i = 0; i < cur.nrec; i++)
			in_cur[i]->answer = MLD_NEVER;
}

void mld_tick(struct xs_stack *st)
{
	struct mld_state *m = &st->ip6->mld;
	int i;

	if (!m->robustness)
		return;
	if (m->dirty)
		mld_sync(st);
	/* No query reaches the stack (the kernel takes multicast MLD), so it
	 * tells the switches unasked, as if a General Query had come. */
	if (!m->refresh)
		m->refresh = st->now + MLD_REFRESH;
	if (m->refresh <= st->now) {
		for (i = 0; i < MLD_MAX_GROUPS; i++)
			if (m->g[i].state == MLD_G_JOINED && m->g[i].answer > st->now)
				m->g[i].answer = st->now;
		m->refresh = st->now + MLD_REFRESH + xs_random(st) % XS_MS(MLD_REFRESH_JITTER_MS);
	}
	mld_send_due(st);
}

void mld_query_input(struct xs_stack *st, const struct ip6_repr *ip, const struct icmp6_repr *m)
{
	struct mld_state *s = &st->ip6->mld;
	struct mld_query q;
	enum xs_drop why;
	xs_time_t at;
	int i;

	why = mld_query_parse(m, ip->hop_limit, &ip->src, &q);
	if (why) {
		xs_drop(st, why);
		return;
	}
	st->stats.mld_queries++;
	if (!s->robustness)
		return;
	/* RFC 3810 6.2: answer after a random delay within the query's
	 * Maximum Response Delay (capped), an earlier answer standing. */
	if (q.max_resp_ms > MLD_MAX_RESP_MS)
		q.max_resp_ms = MLD_MAX_RESP_MS;
	at = st->now + (q.max_resp_ms ? xs_random(st) % XS_MS(q.max_resp_ms) : 0);
	for (i = 0; i < MLD_MAX_GROUPS; i++) {
		struct mld_group *g = &s->g[i];

		if (g->state != MLD_G_JOINED)
			continue;
		if (!ip6_is_unspecified(&q.group) && !ip6_eq(&q.group, &g->g))
			continue;
		if (g->answer > at)
			g->answer = at;
	}
}

/* RFC 3810 6.1: the interface stops listening to every group. One report
 * with a TO_IN {} record for each group ever announced, sent robustness
 * times at once (there is no later tick to space them); the groups are
 * then forgotten. The number of reports sent, or -errno. */
int mld_leave_all(struct xs_stack *st)
{
	struct mld_state *m = &st->ip6->mld;
	struct mld_report r = {0};
	int i, sent = 0, rc = 0;

	if (!m->robustness)
		return 0;
	for (i = 0; i < MLD_MAX_GROUPS; i++) {
		struct mld_group *g = &m->g[i];

		if (g->state == MLD_G_JOINED && g->left == m->robustness) {
			g->state = MLD_G_FREE; /* never announced */
			continue;
		}
		if (g->state == MLD_G_FREE)
			continue;
		r.rec[r.nrec].type = MLD_TO_IN;
		r.rec[r.nrec++].group = g->g;
		if (g->state == MLD_G_JOINED)
			st->stats.mld_leaves++;
		g->state = MLD_G_FREE;
	}
	for (i = 0; r.nrec && i < m->robustness && !rc; i++)
		if (!(rc = mld_send(st, &r)))
			sent++;
	m->robustness = 0; /* nothing is reported again */
	return sent ? sent : rc;
}

int xs_ip6_mld_leave(struct xs_stack *st)
{
	if (!st->ip6 || ip6_follower(st))
		return 0;
	return mld_leave_all(st);
}
