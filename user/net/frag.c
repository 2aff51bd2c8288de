/* Reassembly of IPv4 (RFC 791 3.2, RFC 815) and IPv6 (RFC 8200 4.5) datagrams
 * in one table with every resource bounded: slots, bytes held, fragments per
 * datagram, time. Overlaps drop the whole datagram (RFC 5722). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/frag.h"
#include "net/icmp.h"
#include "net6/ip6.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp.h"

#define FRAG_BUF_LEN (FRAG_HDR_ROOM + 65535)

struct frag_piece {
	uint16_t off;
	uint16_t len;
};

struct frag_dgram {
	uint8_t used;
	uint8_t family;           /* 4 or 6 */
	uint8_t kproto;           /* the key's protocol (IPv4; 0 for IPv6) */
	uint8_t proto;            /* the offset-0 fragment's protocol / next header */
	uint8_t have_last;
	uint16_t hdr_len;         /* of the first fragment, once it arrived (IPv6: up
				   * to and with its Fragment header) */
	uint16_t nh_off;          /* IPv6: the byte that named the Fragment header */
	uint16_t npieces;
	int32_t next;             /* hash chain, or free list */
	uint32_t hash;            /* bucket, while used */
	uint32_t id;
	uint8_t src[16], dst[16]; /* IPv4: the first 4 bytes */
	uint32_t total;           /* payload length, known with the last fragment */
	uint32_t received;        /* payload bytes held */
	uint32_t first_len;       /* payload bytes of the first fragment, 0 if not yet */
	xs_time_t created;
	struct frag_piece *pieces;
	uint8_t *buf;             /* FRAG_HDR_ROOM of header room, then the payload */
};

int frag_table_init(struct xs_stack *st)
{
	struct frag_table *t = &st->frag;
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->nslots = st->cfg.frag_max_datagrams;
	for (t->nbuckets = 16; t->nbuckets < 2 * t->nslots; t->nbuckets *= 2)
		;
	t->d = calloc(t->nslots, sizeof(*t->d));
	t->bucket = malloc(t->nbuckets * sizeof(*t->bucket));
	t->chain_len = calloc(t->nbuckets, sizeof(*t->chain_len));
	if (!t->d || !t->bucket || !t->chain_len) {
		free(t->d);
		free(t->bucket);
		free(t->chain_len);
		t->d = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < t->nbuckets; i++)
		t->bucket[i] = -1;
	for (i = 0; i < t->nslots; i++)
		t->d[i].next = i + 1 < t->nslots ? (int32_t)(i + 1) : -1;
	t->free_slot = 0;
	return 0;
}

/* The datagram key (RFC 791: source, destination, protocol, id; RFC 8200
 * 4.5: source, destination, id), hashed under the stack's key: a sender
 * choosing ids (or spoofed sources) cannot pile its datagrams into one chain. */
static unsigned frag_hash(const struct xs_stack *st, const struct frag_key *k)
{
	return (unsigned)siphash13(st->keys.frag, k, sizeof(*k)) & (st->frag.nbuckets - 1);
}

static void frag_release(struct xs_stack *st, struct frag_dgram *d, enum xs_drop reason)
{
	struct frag_table *t = &st->frag;
	int32_t i = (int32_t)(d - t->d), *pp = &t->bucket[d->hash];

	if (reason)
		xs_drop(st, reason);
	while (*pp != i)
		pp = &t->d[*pp].next;
	*pp = d->next;
	t->chain_len[d->hash]--;
	t->bytes_held -= d->received;
	t->nused--;
	free(d->pieces);
	free(d->buf);
	memset(d, 0, sizeof(*d));
	d->next = t->free_slot;
	t->free_slot = i;
}

void frag_table_fini(struct xs_stack *st)
{
	struct frag_table *t = &st->frag;
	unsigned i;

	for (i = 0; t->d && i < t->nslots; i++)
		if (t->d[i].used)
			frag_release(st, &t->d[i], XS_DROP_NONE);
	free(t->d);
	free(t->bucket);
	free(t->chain_len);
	free(t->done);
	t->d = NULL;
	t->bucket = NULL;
	t->chain_len = NULL;
	t->done = NULL;
}

static struct frag_dgram *frag_oldest(struct frag_table *t, const struct frag_dgram *except)
{
	struct frag_dgram *o = NULL;
	unsigned i;

	for (i = 0; i < t->nslots; i++) {
		struct frag_dgram *d = &t->d[i];

		if (d->used && d != except && (!o || d->created < o->created))
			o = d;
	}
	return o;
}

/* The datagram a fragment belongs to, created if new; NULL if none can be made. */
static struct frag_dgram *frag_get(struct xs_stack *st, const struct frag_key *k)
{
	struct frag_table *t = &st->frag;
	unsigned h = frag_hash(st, k);
	struct frag_dgram *d;
	int32_t i;

	for (i = t->bucket[h]; i >= 0; i = t->d[i].next) {
		d = &t->d[i];
		if (d->id == k->id && d->family == k->family && d->kproto == k->proto &&
		    !memcmp(d->src, k->src, 16) && !memcmp(d->dst, k->dst, 16))
			return d;
	}
	if (t->free_slot < 0) /* every slot busy: the oldest datagram makes room */
		frag_release(st, frag_oldest(t, NULL), XS_DROP_FRAG_LIMIT);
	i = t->free_slot;
	d = &t->d[i];
	d->buf = malloc(FRAG_BUF_LEN);
	d->pieces = malloc(FRAG_MAX_PER_DGRAM * sizeof(*d->pieces));
	if (!d->buf || !d->pieces) {
		free(d->buf);
		free(d->pieces);
		d->buf = NULL;
		d->pieces = NULL;
		return NULL;
	}
	t->free_slot = d->next;
	d->used = 1;
	d->family = k->family;
	d->id = k->id;
	memcpy(d->src, k->src, 16);
	memcpy(d->dst, k->dst, 16);
	d->kproto = k->proto;
	d->created = st->now;
	d->hash = h;
	d->next = t->bucket[h];
	t->bucket[h] = i;
	if (++t->chain_len[h] > st->stats.frag_chain_max)
		st->stats.frag_chain_max = t->chain_len[h];
	t->nused++;
	return d;
}

/* 0: no overlap; 1: exact duplicate of a piece held; -1: partial overlap. */
static int frag_overlap(const struct frag_dgram *d, uint32_t off, uint32_t len)
{
	unsigned i;

	for (i = 0; i < d->npieces; i++) {
		const struct frag_piece *p = &d->pieces[i];

		if (off < (uint32_t)p->off + p->len && p->off < off + len)
			return (p->off == off && p->len == len) ? 1 : -1;
	}
	return 0;
}

static uint32_t frag_max_end(const struct frag_dgram *d)
{
	uint32_t end = 0;
	unsigned i;

	for (i = 0; i < d->npieces; i++)
		if ((uint32_t)d->pieces[i].off + d->pieces[i].len > end)
			end = (uint32_t)d->pieces[i].off + d->pieces[i].len;
	return end;
}

/* The assembled IPv4 packet: the first fragment's header, fixed to describe
 * the whole datagram, right before the payload. Ownership moves to t->done. */
static const uint8_t *frag_complete4(struct xs_stack *st, struct frag_dgram *d,
				     struct ip4_repr *ip)
{
	struct frag_table *t = &st->frag;
	uint8_t *pkt = d->buf + FRAG_HDR_ROOM - d->hdr_len;

	st_be16(pkt + 2, (uint16_t)(d->hdr_len + d->total));
	st_be16(pkt + 6, 0);
	st_be16(pkt + 10, 0);
	st_be16(pkt + 10, csum_fold(csum_add(0, pkt, d->hdr_len)));
	ip->hdr_len = (uint8_t)d->hdr_len;
	ip->total_len = (uint16_t)(d->hdr_len + d->total);
	ip->frag = 0;
	/* The first fragment's header is the datagram's (RFC 791 3.2). */
	ip->tos = pkt[1];
	ip->ttl = pkt[8];
	free(t->done);
	t->done = d->buf;
	d->buf = NULL;
	frag_release(st, d, XS_DROP_NONE);
	return pkt;
}

/* The assembled IPv6 packet (RFC 8200 4.5): the first fragment's
 * unfragmentable part, its Fragment header taken out (the byte that named it
 * now names what followed it), the payload length of the whole. */
static const uint8_t *frag_complete6(struct xs_stack *st, struct frag_dgram *d, size_t *len)
{
	struct frag_table *t = &st->frag;
	uint8_t *pkt = d->buf + FRAG_HDR_ROOM - d->hdr_len;
	size_t unfrag = d->hdr_len - IP6_FRAG_HDR_LEN;

	memmove(pkt + IP6_FRAG_HDR_LEN, pkt, unfrag);
	pkt += IP6_FRAG_HDR_LEN;
	pkt[d->nh_off] = d->proto;
	st_be16(pkt + 4, (uint16_t)(unfrag - IP6_HDR_LEN + d->total));
	*len = unfrag + d->total;
	free(t->done);
	t->done = d->buf;
	d->buf = NULL;
	frag_release(st, d, XS_DROP_NONE);
	return pkt;
}

/* One fragment into its datagram: the checks every family shares (RFC 5722
 * overlaps, one end, FRAG_MAX_PER_DGRAM, the byte budget). hdr/hdr_len is
 * what sits before the payload in this fragment (kept if off is 0), limit
 * what header and payload may add up to. The datagram when it is complete,
 * else NULL (kept, or dropped and counted). */
static struct frag_dgram *frag_add(struct xs_stack *st, const struct frag_key *k, uint32_t off,
				   uint32_t len, int mf, const uint8_t *hdr, size_t hdr_len,
				   uint16_t nh_off, uint8_t proto, const uint8_t *data, uint32_t limit)
{
	struct frag_table *t = &st->frag;
	struct frag_dgram *d;
	int ov;

	if (off + len > 0xffff || hdr_len > FRAG_HDR_ROOM) { /* the callers' checks, kept */
		xs_drop(st, XS_DROP_FRAG_TOO_BIG);
		return NULL;
	}
	d = frag_get(st, k);
	if (!d) {
		xs_drop(st, XS_DROP_FRAG_LIMIT);
		return NULL;
	}
	ov = frag_overlap(d, off, len);
	if (ov > 0) {
		xs_drop(st, XS_DROP_FRAG_DUP);
		return NULL;
	}
	if (ov < 0) {
		frag_release(st, d, XS_DROP_FRAG_OVERLAP);
		return NULL;
	}
	/* Two different ends, or data past the end: the datagram is bogus. */
	if ((!mf && d->have_last && off + len != d->total) ||
	    (d->have_last && off + len > d->total) ||
	    (!mf && frag_max_end(d) > off + len)) {
		frag_release(st, d, XS_DROP_FRAG_OVERLAP);
		return NULL;
	}
	if (d->npieces == FRAG_MAX_PER_DGRAM) {
		frag_release(st, d, XS_DROP_FRAG_TOO_MANY);
		return NULL;
	}
	/* Bytes held stay under the limit: the oldest other datagrams go first. */
	while (t->bytes_held + len > st->cfg.frag_max_bytes) {
		struct frag_dgram *o = frag_oldest(t, d);

		if (!o) {
			frag_release(st, d, XS_DROP_FRAG_LIMIT);
			return NULL;
		}
		frag_release(st, o, XS_DROP_FRAG_LIMIT);
	}
	memcpy(d->buf + FRAG_HDR_ROOM + off, data, len);
	d->pieces[d->npieces++] = (struct frag_piece){ (uint16_t)off, (uint16_t)len };
	d->received += len;
	t->bytes_held += len;
	if (!mf) {
		d->have_last = 1;
		d->total = off + len;
	}
	if (off == 0) {
		d->hdr_len = (uint16_t)hdr_len;
		d->nh_off = nh_off;
		d->first_len = len;
		d->proto = proto;
		memcpy(d->buf + FRAG_HDR_ROOM - hdr_len, hdr, hdr_len);
	}
	/* Header and payload within the family's limit; the header is the
	 * first fragment's, which may be longer than this fragment's. */
	if (d->first_len && d->hdr_len + frag_max_end(d) > limit) {
		frag_release(st, d, XS_DROP_FRAG_TOO_BIG);
		return NULL;
	}
	/* No overlaps were let in, so the byte count proves the cover. */
	if (d->have_last && d->first_len && d->received == d->total)
		return d;
	return NULL;
}

const uint8_t *frag_input(struct xs_stack *st, struct ip4_repr *ip, const uint8_t *b)
{
	struct frag_table *t = &st->frag;
	uint32_t off = (uint32_t)(ip->frag & IP4_OFF_MASK) * 8;
	uint32_t len = (uint32_t)ip4_payload_len(ip);
	int mf = !!(ip->frag & IP4_FLAG_MF);
	struct frag_key k = { .family = 4, .proto = ip->proto, .id = ip->id };
	struct frag_dgram *d;

	free(t->done);
	t->done = NULL;
	/* Every fragment but the last carries a non-empty multiple of 8 bytes. */
	if (len == 0 || (mf && len % 8)) {
		xs_drop(st, XS_DROP_IP_FRAG);
		return NULL;
	}
	/* RFC 791: the datagram may not exceed 65535 bytes with its header. */
	if (off + len + ip->hdr_len > 0xffff) {
		xs_drop(st, XS_DROP_FRAG_TOO_BIG);
		return NULL;
	}
	/* RFC 1858 3.2: a first fragment must hold the transport header's ports
	 * (TCP: its flags too), and TCP may not be overwritten at offset 8. */
	if ((off == 0 && len < (ip->proto == IP4_PROTO_TCP ? 20u : 8u)) ||
	    (off == 8 && ip->proto == IP4_PROTO_TCP)) {
		xs_drop(st, XS_DROP_FRAG_TINY);
		return NULL;
	}
	memcpy(k.src, &ip->src, 4);
	memcpy(k.dst, &ip->dst, 4);
	d = frag_add(st, &k, off, len, mf, b, ip->hdr_len, 0, ip->proto, b + ip->hdr_len, 0xffff);
	return d ? frag_complete4(st, d, ip) : NULL;
}

const uint8_t *frag_input6(struct xs_stack *st, const uint8_t *pkt, size_t frag_off,
			   size_t nh_off, uint32_t off, uint32_t len, int mf, uint32_t id,
			   uint8_t proto, size_t *out_len)
{
	struct frag_table *t = &st->frag;
	struct frag_key k = { .family = 6, .id = id }; /* proto: not part of the key */
	size_t hdr_len = frag_off + IP6_FRAG_HDR_LEN;
	struct frag_dgram *d;

	free(t->done);
	t->done = NULL;
	memcpy(k.src, pkt + 8, 16);
	memcpy(k.dst, pkt + 24, 16);
	/* RFC 8200 4.5: the payload length of the whole within 65535; the
	 * unfragmentable part counts, the Fragment header does not. */
	d = frag_add(st, &k, off, len, mf, pkt, hdr_len, (uint16_t)nh_off, proto, pkt + hdr_len,
		     0xffff + IP6_HDR_LEN + IP6_FRAG_HDR_LEN);
	return d ? frag_complete6(st, d, out_len) : NULL;
}

void frag_tick(struct xs_stack *st)
{
	struct frag_table *t = &st->frag;
	xs_time_t life = XS_MS(st->cfg.frag_timeout_ms);
	unsigned i;

	free(t->done);
	t->done = NULL;
	for (i = 0; i < t->nslots; i++) {
		struct frag_dgram *d = &t->d[i];

		if (!d->used || d->created + life > st->now)
			continue;
		/* RFC 792 / RFC 1122 3.3.2, RFC 8200 4.5: time exceeded, code 1,
		 * only when the first fragment arrived; quote it. */
		if (d->first_len && d->family == 4)
			icmp_send_error(st, ICMP_TIME_EXCEEDED, 1, 0,
					d->buf + FRAG_HDR_ROOM - d->hdr_len,
					d->hdr_len + d->first_len);
		else if (d->first_len)
			icmp6_send_error(st, ICMP6_TIME_EXCEEDED, 1, 0,
					 d->buf + FRAG_HDR_ROOM - d->hdr_len,
					 d->hdr_len + d->first_len, false);
		frag_release(st, d, XS_DROP_FRAG_TIMEOUT);
	}
}
