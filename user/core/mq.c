/* A group of stacks, one per NIC queue and thread: the owner of each packet, and
 * single-producer single-consumer rings that carry it there (no locks). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/arp.h"
#include "net/dhcp_stack.h"
#include "net/dns.h"
#include "net/ip4.h"
#include "net6/mq6.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/icmp6.h"
#include "wire/mld.h"

#define MQ_CACHELINE 64
#define MQ_RING_MIN (256u << 10) /* a 64 KiB datagram fits in half */
#define MQ_RING_MAX (64u << 20)
#define MQ_ICMP_PARAM_PROBLEM 12
#define MQ_DRAIN_BUDGET 256 /* records per ring per poll: the device batch gets its turn */
#define MQ_ND_MAX 2048	    /* a neighbor discovery packet fits one frame */

enum mq_kind { MQ_REC_IP = 1, MQ_REC_ARP, MQ_REC_WRAP, MQ_REC_IP6, MQ_REC_ND, MQ_REC_IP6_FOLLOW };

/* One record: this header, then len bytes, padded to 8. */
struct mq_rec {
	uint32_t len;
	uint16_t kind;
	uint8_t hops;	  /* stacks that passed a segment on, looking for its connection */
	uint8_t filtered; /* the sender's filter already took it */
	union {
		struct ip4_repr ip; /* MQ_REC_IP: the packet as validated (reassembled) */
		struct {	    /* MQ_REC_IP6: the same, with the end of its walk */
			struct ip6_repr ip;
			uint16_t l4_off;
			uint8_t proto;
			uint8_t mcast;
		} ip6;
	};
	uint64_t meta; /* the XDP program's filter verdict on the frame (0: none) */
};

/* Ring from stack `from` to stack `to`: positions count bytes forever (the
 * buffer index is pos & (size - 1)); tail is written by the producer only,
 * head by the consumer only, each on its own cache line. */
struct mq_ring {
	_Alignas(MQ_CACHELINE) _Atomic uint64_t tail;
	uint64_t head_seen; /* the producer's last look at head */
	_Alignas(MQ_CACHELINE) _Atomic uint64_t head;
	uint64_t tail_seen; /* the consumer's last look at tail */
	uint8_t *buf;
};

struct mq_member {
	/* Written by the producers (any other stack's thread). */
	_Alignas(MQ_CACHELINE) atomic_int wake;
	int efd;
	/* The member's own thread only. */
	_Alignas(MQ_CACHELINE) struct xs_stack *st;
	bool more;	  /* a ring still held records after the last drain */
	uint64_t touched; /* stacks handed something since the last flush */
};

struct xs_mq {
	unsigned n;
	uint32_t ring_bytes;
	uint8_t *mem; /* n * n ring buffers (the diagonal unused), mapped lazily */
	size_t mem_len;
	struct mq_ring *rings; /* [from * n + to] */
	struct mq_member *m;
	uint8_t isn_key[16]; /* every stack's ISN and SYN-cookie key (see mq_search) */
	bool have_rss;
	struct xs_rss rss;
	uint32_t nic_queue[XS_MQ_MAX];
	uint8_t pin[65536]; /* 0: no pin, else owner index + 1 */
};

static inline struct mq_ring *ring(struct xs_mq *g, unsigned from, unsigned to)
{
	return &g->rings[from * g->n + to];
}

static inline uint32_t rec_size(uint32_t len)
{
	return (uint32_t)((sizeof(struct mq_rec) + len + 7) & ~(size_t)7);
}

/* ------------------------------------------------------------ group */

struct xs_mq *xs_mq_new(unsigned n, uint32_t ring_bytes)
{
	struct xs_mq *g;
	unsigned i;

	if (!ring_bytes)
		ring_bytes = XS_MQ_RING_BYTES;
	if (n < 1 || n > XS_MQ_MAX || ring_bytes < MQ_RING_MIN || ring_bytes > MQ_RING_MAX ||
	    (ring_bytes & (ring_bytes - 1))) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->n = n;
	g->ring_bytes = ring_bytes;
	g->rings = aligned_alloc(MQ_CACHELINE, sizeof(*g->rings) * n * n);
	g->m = aligned_alloc(MQ_CACHELINE, sizeof(*g->m) * n);
	if (!g->rings || !g->m)
		goto err;
	memset(g->rings, 0, sizeof(*g->rings) * n * n);
	memset(g->m, 0, sizeof(*g->m) * n);
	for (i = 0; i < n; i++)
		g->m[i].efd = -1;
	/* Pages are touched only by the pairs that talk. */
	g->mem_len = (size_t)ring_bytes * n * n;
	g->mem = mmap(NULL, g->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		goto err;
	}
	for (i = 0; i < n * n; i++)
		g->rings[i].buf = g->mem + (size_t)i * ring_bytes;
	for (i = 0; i < n; i++) {
		g->m[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (g->m[i].efd < 0)
			goto err;
	}
	if (getrandom(g->isn_key, sizeof(g->isn_key), 0) != (ssize_t)sizeof(g->isn_key))
		goto err;
	return g;
err:
	xs_mq_free(g);
	errno = ENOMEM;
	return NULL;
}

void xs_mq_free(struct xs_mq *g)
{
	unsigned i;

	if (!g)
		return;
	for (i = 0; g->m && i < g->n; i++) {
		if (g->m[i].st)
			g->m[i].st->mq = NULL; /* a stack still attached forgets the group */
		if (g->m[i].efd >= 0)
			close(g->m[i].efd);
	}
	if (g->mem)
		munmap(g->mem, g->mem_len);
	free(g->rings);
	free(g->m);
	free(g);
}

int xs_mq_attach(struct xs_mq *g, unsigned index, struct xs_stack *st)
{
	if (!g || !st || index >= g->n)
		return -EINVAL;
	if (g->m[index].st || st->mq)
		return -EBUSY;
	g->m[index].st = st;
	st->mq = g;
	st->mq_index = index;
	/* IPv6 already on: a follower drops what it configured itself and
	 * waits for stack 0's (net6/mq6.c). */
	if (st->ip6)
		ip6_mq_attach(st);
	/* One ISN and cookie key for the group: a SYN cookie one stack sent
	 * is good on whichever stack the handshake's last ACK reaches. */
	memcpy(st->keys.isn, g->isn_key, sizeof(st->keys.isn));
	if (index) {
		/* One announcer and one DHCP client per group: stack 0's. */
		st->garp_left = 0;
		if (st->dhcp)
			dhcp_stack_fini(st); /* it follows stack 0's lease */
	} else if (st->dhcp) {
		g->pin[68] = 1; /* DHCP replies come to the client, stack 0 */
	}
	return 0;
}

int xs_mq_fd(const struct xs_mq *g, unsigned index)
{
	return g && index < g->n ? g->m[index].efd : -EINVAL;
}

int xs_mq_pin_port(struct xs_mq *g, uint16_t port, unsigned index)
{
	if (!g || !port || index >= g->n)
		return -EINVAL;
	g->pin[port] = (uint8_t)(index + 1);
	return 0;
}

int xs_mq_set_rss(struct xs_mq *g, const struct xs_rss *rss, const uint32_t *nic_queue)
{
	if (!g || !rss || !nic_queue || rss->key_len < 12 + 4 || rss->key_len > XS_RSS_KEY_MAX ||
	    !rss->indir_len || rss->indir_len > XS_RSS_INDIR_MAX)
		return -EINVAL;
	g->rss = *rss;
	memcpy(g->nic_queue, nic_queue, sizeof(*nic_queue) * g->n);
	g->have_rss = rss->tcp4_ports != 0;
	return 0;
}

void mq_detach(struct xs_stack *st)
{
	struct xs_mq *g = st->mq;

	if (g)
		g->m[st->mq_index].st = NULL;
	st->mq = NULL;
}

/* ------------------------------------------------------------ owner */

static inline int port_owner(const struct xs_mq *g, uint16_t port)
{
	if (g->pin[port])
		return g->pin[port] - 1;
	if (port >= XS_EPHEMERAL_LO && port <= XS_EPHEMERAL_HI)
		return (int)(port % g->n);
	return -1;
}

/* The stack an ICMP error belongs to: the sender of the packet it quotes. */
static int icmp_error_owner(const struct xs_mq *g, const uint8_t *b, size_t n)
{
	const uint8_t *in = b + ICMP_HDR_LEN;
	size_t ihl;

	if (n < ICMP_HDR_LEN + 20 + 8)
		return -1;
	ihl = (size_t)(in[0] & 0x0f) * 4;
	if (ihl < 20 || n < ICMP_HDR_LEN + ihl + 8 || (ld_be16(in + 6) & 0x1fff))
		return -1;
	switch (in[9]) {
	case IP4_PROTO_TCP:
	case IP4_PROTO_UDP:
		return port_owner(g, ld_be16(in + ihl)); /* our source port */
	case IP4_PROTO_ICMP:
		if (in[ihl] == ICMP_ECHO_REQUEST)
			return (int)(ld_be16(in + ihl + 4) % g->n);
		return -1;
	default:
		return -1;
	}
}

/* The IPv6 twin: proto's header at l4, n bytes of it on (the packet walked
 * and reassembled). Neighbor discovery is not placed: it is copied where it
 * teaches something (mq_replicate_nd); an MLD query is stack 0's. */
static int owner6(const struct xs_mq *g, uint8_t proto, const uint8_t *l4, size_t n)
{
	struct icmp6_quote q;

	switch (proto) {
	case IP6_NH_TCP:
	case IP6_NH_UDP:
		return n >= 4 ? port_owner(g, ld_be16(l4 + 2)) : -1;
	case IP6_NH_ICMP6:
		if (n < ICMP6_HDR_LEN)
			return -1;
		if (l4[0] == ICMP6_ECHO_REPLY)
			return (int)(ld_be16(l4 + 4) % g->n);
		/* Stack 0 keeps the MLD groups and reports them (net6/mld.c). */
		if (l4[0] == MLD_QUERY)
			return 0;
		/* RFC 4443 2.1: an error quotes the packet of ours it is about. */
		if (!icmp6_is_error(l4[0]) ||
		    icmp6_quote_parse(l4 + ICMP6_HDR_LEN, n - ICMP6_HDR_LEN, &q) != XS_DROP_NONE)
			return -1;
		if (q.proto == IP6_NH_TCP || q.proto == IP6_NH_UDP)
			return port_owner(g, ld_be16(q.l4)); /* our source port */
		if (q.proto == IP6_NH_ICMP6 && q.l4[0] == ICMP6_ECHO_REQUEST)
			return (int)(ld_be16(q.l4 + 4) % g->n);
		return -1;
	default:
		return -1;
	}
}

/* The index of the stack ip/pkt belongs to, -1 for the one it reached. */
static int owner(const struct xs_mq *g, const struct ip4_repr *ip, const uint8_t *pkt)
{
	const uint8_t *l4 = pkt + ip->hdr_len;
	size_t n = ip4_payload_len(ip);

	switch (ip->proto) {
	case IP4_PROTO_TCP:
	case IP4_PROTO_UDP:
		return n >= 4 ? port_owner(g, ld_be16(l4 + 2)) : -1;
	case IP4_PROTO_ICMP:
		if (n < ICMP_HDR_LEN)
			return -1;
		if (l4[0] == ICMP_ECHO_REPLY)
			return (int)(ld_be16(l4 + 4) % g->n);
		if (l4[0] == ICMP_DEST_UNREACH || l4[0] == ICMP_TIME_EXCEEDED ||
		    l4[0] == MQ_ICMP_PARAM_PROBLEM)
			return icmp_error_owner(g, l4, n);
		return -1;
	default:
		return -1;
	}
}

/* ------------------------------------------------------------ rings */

/* Appends one record (the header rec, then len bytes of data); false when
 * it does not fit. */
static bool ring_push(struct xs_mq *g, struct mq_ring *r, const struct mq_rec *rec,
		      const uint8_t *data, uint32_t len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t size = g->ring_bytes, need = rec_size(len), pos = (uint32_t)(tail & (size - 1));
	uint32_t contig = size - pos, total = need > contig ? contig + need : need;
	struct mq_rec *h;

	if (need > size / 2)
		return false;
	if (size - (tail - r->head_seen) < total) {
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (size - (tail - r->head_seen) < total)
			return false;
	}
	if (need > contig) {
		/* Not enough room before the end: a marker skips the rest. */
		h = (struct mq_rec *)(r->buf + pos);
		h->len = contig;
		h->kind = MQ_REC_WRAP;
		tail += contig;
		pos = 0;
	}
	h = (struct mq_rec *)(r->buf + pos);
	*h = *rec;
	h->len = len;
	memcpy(h + 1, data, len);
	atomic_store_explicit(&r->tail, tail + need, memory_order_release);
	return true;
}

static bool push_to(struct xs_stack *st, unsigned to, const struct mq_rec *rec,
		    const uint8_t *data, uint32_t len)
{
	struct xs_mq *g = st->mq;

	if (!ring_push(g, ring(g, st->mq_index, to), rec, data, len)) {
		xs_drop(st, XS_DROP_MQ_RING_FULL);
		return false;
	}
	g->m[st->mq_index].touched |= 1ull << to;
	if (!st->in_poll)
		mq_flush(st); /* no end of poll to wait for */
	return true;
}

bool mq_handoff(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt, uint64_t meta)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {.kind = MQ_REC_IP, .ip = *ip, .meta = meta};
	int to;

	if (g->n < 2)
		return false;
	to = owner(g, ip, pkt);
	if (to < 0 || (unsigned)to == st->mq_index)
		return false;
	if (push_to(st, (unsigned)to, &rec, pkt, ip->total_len))
		st->stats.mq_handoff_tx++;
	return true;
}

static void rec_ip6(struct mq_rec *rec, const struct mq_pkt *p)
{
	rec->kind = MQ_REC_IP6;
	rec->ip6.ip = *p->ip6;
	rec->ip6.l4_off = p->l4_off;
	rec->ip6.proto = p->proto;
	rec->ip6.mcast = p->mcast;
}

bool mq_handoff6(struct xs_stack *st, const struct mq_pkt *p)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {0};
	int to;

	if (g->n < 2)
		return false;
	to = owner6(g, p->proto, p->pkt + p->l4_off, p->len - p->l4_off);
	if (to < 0 || (unsigned)to == st->mq_index)
		return false;
	rec_ip6(&rec, p);
	if (push_to(st, (unsigned)to, &rec, p->pkt, p->len))
		st->stats.mq_handoff_tx++;
	return true;
}

bool mq_search(struct xs_stack *st, const struct mq_pkt *p)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {.filtered = 1};

	/* Every other stack was asked: this one answers (RST, cookie check). */
	if (!g || st->mq_hops + 1u >= g->n)
		return false;
	if (p->ip4) {
		rec.kind = MQ_REC_IP;
		rec.ip = *p->ip4;
	} else {
		rec_ip6(&rec, p);
	}
	rec.hops = (uint8_t)(st->mq_hops + 1);
	if (push_to(st, (st->mq_index + 1) % g->n, &rec, p->pkt, p->len))
		st->stats.mq_search++;
	return true;
}

void mq_replicate_arp(struct xs_stack *st, const uint8_t *b, size_t n)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {.kind = MQ_REC_ARP};
	unsigned i;

	if (g->n < 2 || n > 512)
		return;
	for (i = 0; i < g->n; i++)
		if (i != st->mq_index && push_to(st, i, &rec, b, (uint32_t)n))
			st->stats.mq_arp_replicas++;
}

void mq_replicate_nd(struct xs_stack *st, const uint8_t *b, size_t n, enum mq_nd_to to)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {.kind = MQ_REC_ND};
	unsigned i;

	if (g->n < 2 || n > MQ_ND_MAX || to == MQ_ND_NONE)
		return;
	for (i = 0; i < g->n; i++) {
		if (i == st->mq_index || (to == MQ_ND_OWNER && i))
			continue;
		if (push_to(st, i, &rec, b, (uint32_t)n))
			st->stats.mq_nd_replicas++;
	}
}

void mq_push_ip6_follow(struct xs_stack *st, const void *b, size_t n)
{
	struct xs_mq *g = st->mq;
	struct mq_rec rec = {.kind = MQ_REC_IP6_FOLLOW};
	unsigned i;

	for (i = 0; g && i < g->n; i++)
		if (i != st->mq_index && push_to(st, i, &rec, b, (uint32_t)n))
			st->stats.mq_ip6_follow++;
}

void mq_flush(struct xs_stack *st)
{
	struct xs_mq *g = st->mq;
	struct mq_member *me;
	uint64_t t;

	if (!g)
		return;
	me = &g->m[st->mq_index];
	t = me->touched;
	me->touched = 0;
	if (t)
		atomic_thread_fence(memory_order_seq_cst); /* records before the flags */
	while (t) {
		unsigned to = (unsigned)__builtin_ctzll(t);
		uint64_t one = 1;

		t &= t - 1;
		/* One eventfd write per wake-up of the owner, not per record. */
		if (!atomic_exchange(&g->m[to].wake, 1) &&
		    write(g->m[to].efd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, readable anyway. */
		}
	}
}

static void rec_take(struct xs_stack *st, const struct mq_rec *h)
{
	const uint8_t *data = (const uint8_t *)(h + 1);

	switch (h->kind) {
	case MQ_REC_IP:
		ip4_receive(st, &h->ip, data, h->meta, h->filtered);
		break;
	case MQ_REC_ARP:
		arp_input_replica(st, data, h->len);
		break;
	case MQ_REC_IP6:
		ip6_deliver(st, &h->ip6.ip, data, h->ip6.l4_off, h->len, h->ip6.proto,
			    h->ip6.mcast);
		break;
	case MQ_REC_ND:
		ip6_input_replica(st, data, h->len);
		break;
	case MQ_REC_IP6_FOLLOW:
		ip6_mq_follow(st, data, h->len);
		break;
	default:
		break;
	}
}

/* Processes up to MQ_DRAIN_BUDGET records; true if more are left. */
static bool ring_drain(struct xs_stack *st, struct xs_mq *g, struct mq_ring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t size = g->ring_bytes;
	int budget = MQ_DRAIN_BUDGET;

	if (head == r->tail_seen)
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
	while (head != r->tail_seen && budget--) {
		const struct mq_rec *h = (const struct mq_rec *)(r->buf + (head & (size - 1)));

		if (h->kind == MQ_REC_WRAP) {
			head += h->len;
			continue;
		}
		st->stats.mq_handoff_rx++;
		st->mq_hops = h->hops;
		rec_take(st, h);
		st->mq_hops = 0;
		head += rec_size(h->len);
	}
	/* The records were read in place: only now may the producer reuse them. */
	atomic_store_explicit(&r->head, head, memory_order_release);
	return head != r->tail_seen;
}

void mq_poll(struct xs_stack *st)
{
	struct xs_mq *g = st->mq;
	struct mq_member *me;
	unsigned i;
	bool more = false;
	uint64_t v;

	if (!g || g->n < 2)
		return;
	me = &g->m[st->mq_index];
	if (!me->more && !atomic_load_explicit(&me->wake, memory_order_acquire))
		return;
	/* The eventfd read back to zero, the flag cleared, then the rings
	 * looked at: a record pushed after the look sets the flag and writes
	 * the eventfd again, one pushed before it is seen (the fences pair
	 * with mq_flush's). So the fd is readable only while work waits. */
	if (atomic_load_explicit(&me->wake, memory_order_relaxed) &&
	    read(me->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing written yet */
	}
	atomic_store(&me->wake, 0);
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < g->n; i++)
		if (i != st->mq_index && ring_drain(st, g, ring(g, i, st->mq_index)))
			more = true;
	me->more = more;
}

bool mq_pending(const struct xs_stack *st)
{
	const struct xs_mq *g = st->mq;
	struct mq_member *me;

	if (!g || g->n < 2)
		return false;
	me = &g->m[st->mq_index];
	return me->more || atomic_load_explicit(&me->wake, memory_order_relaxed);
}

/* ------------------------------------------------------------ ports */

static inline unsigned first_port(const struct xs_mq *g, unsigned index)
{
	return XS_EPHEMERAL_LO + (index + g->n - XS_EPHEMERAL_LO % g->n) % g->n;
}

unsigned mq_port_count(const struct xs_stack *st)
{
	const struct xs_mq *g = st->mq;
	unsigned first;

	if (!g)
		return XS_EPHEMERAL_HI - XS_EPHEMERAL_LO + 1;
	first = first_port(g, st->mq_index);
	return first > XS_EPHEMERAL_HI ? 0 : (XS_EPHEMERAL_HI - first) / g->n + 1;
}

uint16_t mq_port_nth(const struct xs_stack *st, unsigned j)
{
	const struct xs_mq *g = st->mq;

	if (!g)
		return (uint16_t)(XS_EPHEMERAL_LO + j);
	return (uint16_t)(first_port(g, st->mq_index) + j * g->n);
}

bool mq_port_mine(const struct xs_stack *st, uint16_t p)
{
	const struct xs_mq *g = st->mq;
	int o;

	if (!g)
		return true;
	o = port_owner(g, p);
	return o < 0 || (unsigned)o == st->mq_index;
}

bool mq_port_rss_ok(const struct xs_stack *st, uint16_t lport, uint32_t rip, uint16_t rport)
{
	const struct xs_mq *g = st->mq;
	uint8_t in[12];
	uint32_t h;

	if (!g || !g->have_rss)
		return true;
	/* The reply as it arrives: source = the peer, destination = us. */
	st_be32(in, rip);
	st_be32(in + 4, st->ip);
	st_be16(in + 8, rport);
	st_be16(in + 10, lport);
	h = xs_toeplitz(g->rss.key, g->rss.key_len, in, sizeof(in));
	return g->rss.indir[h % g->rss.indir_len] == g->nic_queue[st->mq_index];
}

uint16_t mq_ping_id(const struct xs_stack *st, uint64_t r)
{
	const struct xs_mq *g = st->mq;
	uint32_t id = (uint32_t)(r & 0xffff);

	if (!g || g->n < 2)
		return (uint16_t)id;
	id -= id % g->n;
	id += st->mq_index;
	if (id > 0xffff)
		id -= g->n;
	return (uint16_t)id;
}

/* ------------------------------------------------------------ DHCP followers */

int xs_mq_sync_addr(struct xs_stack *dst, const struct xs_stack *src)
{
	if (!dst || !src || dst == src || !dst->mq || dst->mq != src->mq)
		return -EINVAL;
	dst->ip = src->ip;
	dst->cfg.prefix_len = src->cfg.prefix_len;
	dst->netmask = src->netmask;
	dst->bcast = src->bcast;
	dst->routes = src->routes;
	arp_cache_flush(dst);
	arp_mark_gateways(dst);
	for (unsigned i = 0; i < src->dns->nservers; i++)
		xs_dns_add_server(dst, src->dns->servers[i].ip, src->dns->servers[i].port);
	dst->garp_left = 0; /* stack 0 announces */
	return 0;
}
