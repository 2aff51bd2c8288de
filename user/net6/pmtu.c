/* Path MTU per destination (RFC 8201): lowered by Packet Too Big, never below
 * 1280, forgotten after 10 minutes; a keyed, bounded table. */
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net6/ip6.h"

static unsigned pmtu_hash(const struct xs_stack *st, const struct ip6_addr *dst)
{
	return (unsigned)siphash13(st->keys.pmtu, dst->b, IP6_ADDR_LEN) & (IP6_PMTU_BUCKETS - 1);
}

static int pmtu_find(const struct xs_stack *st, const struct ip6_addr *dst)
{
	const struct ip6_state *s = st->ip6;
	int i;

	for (i = s->pmtu_bucket[pmtu_hash(st, dst)]; i >= 0; i = s->pmtu[i].next)
		if (ip6_eq(&s->pmtu[i].dst, dst))
			return i;
	return -1;
}

static void pmtu_remove(struct xs_stack *st, int i)
{
	struct ip6_state *s = st->ip6;
	unsigned h = pmtu_hash(st, &s->pmtu[i].dst);
	int16_t *pp = &s->pmtu_bucket[h];

	while (*pp != i)
		pp = &s->pmtu[*pp].next;
	*pp = s->pmtu[i].next;
	s->pmtu_chain[h]--;
	s->pmtu[i].used = 0;
	s->npmtu--;
}

unsigned pmtu_get(const struct xs_stack *st, const struct ip6_addr *dst)
{
	int i;

	if (!st->ip6->npmtu || (i = pmtu_find(st, dst)) < 0 ||
	    st->ip6->pmtu[i].mtu >= st->ip6->link_mtu)
		return st->ip6->link_mtu;
	return st->ip6->pmtu[i].mtu;
}

bool pmtu_update(struct xs_stack *st, const struct ip6_addr *dst, uint32_t mtu)
{
	struct ip6_state *s = st->ip6;
	int i = pmtu_find(st, dst), j, victim = -1;
	unsigned h;

	if (mtu < IP6_MIN_MTU)
		mtu = IP6_MIN_MTU;
	/* RFC 8201 4: a PTB never raises the estimate. */
	if (mtu >= pmtu_get(st, dst))
		return false;
	if (i >= 0) {
		s->pmtu[i].mtu = (uint16_t)mtu;
		s->pmtu[i].expires = st->now + IP6_PMTU_LIFE;
		return true;
	}
	/* A free slot, or the entry nearest its end (bounded: a flood of
	 * Packet Too Big quoting made-up destinations churns only this table). */
	for (j = 0; j < IP6_PMTU_SIZE; j++) {
		if (!s->pmtu[j].used) {
			victim = j;
			break;
		}
		if (victim < 0 || s->pmtu[j].expires < s->pmtu[victim].expires)
			victim = j;
	}
	if (s->pmtu[victim].used)
		pmtu_remove(st, victim);
	h = pmtu_hash(st, dst);
	s->pmtu[victim] = (struct pmtu_entry){.dst = *dst,
					      .mtu = (uint16_t)mtu,
					      .used = 1,
					      .next = s->pmtu_bucket[h],
					      .expires = st->now + IP6_PMTU_LIFE};
	s->pmtu_bucket[h] = (int16_t)victim;
	s->npmtu++;
	if (++s->pmtu_chain[h] > st->stats.pmtu_chain_max)
		st->stats.pmtu_chain_max = s->pmtu_chain[h];
	return true;
}

void pmtu_tick(struct xs_stack *st)
{
	int i;

	for (i = 0; i < IP6_PMTU_SIZE && st->ip6->npmtu; i++)
		if (st->ip6->pmtu[i].used && st->ip6->pmtu[i].expires <= st->now)
			pmtu_remove(st, i);
}

unsigned xs_ip6_pmtu(const struct xs_stack *st, const uint8_t dst[16])
{
	struct ip6_addr d;

	if (!st->ip6)
		return st->mtu;
	memcpy(d.b, dst, IP6_ADDR_LEN);
	return pmtu_get(st, &d);
}
