/* IPv4 reassembly (RFC 791 3.2, RFC 815) with every resource bounded: slots,
 * bytes held, fragments per datagram, time. Overlaps drop the whole datagram. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/frag.h"
#include "net/icmp.h"
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
	uint8_t proto;
	uint8_t hdr_len;          /* of the first fragment, once it arrived */
	uint8_t have_last;
	uint16_t id;
	uint16_t npieces;
	int32_t next;             /* hash chain, or free list */
	uint32_t hash;            /* bucket, while used */
	uint32_t src, dst;
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

/* RFC 791's datagram key, hashed under the stack's key: a sender choosing
 * ids (or spoofed sources) cannot pile its datagrams into one chain. */
static unsigned frag_hash(const struct xs_stack *st, const struct ip4_repr *ip)
{
	uint8_t m[12];

	memcpy(m, &ip->src, 4);
	memcpy(m + 4, &ip->dst, 4);
	memcpy(m + 8, &ip->id, 2);
	m[10] = ip->proto;
	m[11] = 0;
	return (unsigned)siphash13(st->keys.frag, m, sizeof(m)) & (st->frag.nbuckets - 1);
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

/* The datagram a fragment belongs to (RFC 791: source, destination,
 * protocol, identification), created if new; NULL if none can be made. */
static struct frag_dgram *frag_get(struct xs_stack *st, const struct ip4_repr *ip)
{
	struct frag_table *t = &st->frag;
	unsigned h = frag_hash(st, ip);
	struct frag_dgram *d;
	int32_t i;

	for (i = t->bucket[h]; i >= 0; i = t->d[i].next) {
		d = &t->d[i];
		if (d->id == ip->id && d->src == ip->src && d->dst == ip->dst &&
		    d->proto == ip->proto)
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
	d->id = ip->id;
	d->src = ip->src;
	d->dst = ip->dst;
	d->proto = ip->proto;
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

/* The assembled packet: the first fragment's header, fixed to describe the
 * whole datagram, right before the payload. Ownership moves to t->done. */
static const uint8_t *frag_complete(struct xs_stack *st, struct frag_dgram *d,
				    struct ip4_repr *ip)
{
	struct frag_table *t = &st->frag;
	uint8_t *pkt = d->buf + FRAG_HDR_ROOM - d->hdr_len;

	st_be16(pkt + 2, (uint16_t)(d->hdr_len + d->total));
	st_be16(pkt + 6, 0);
	st_be16(pkt + 10, 0);
	st_be16(pkt + 10, csum_fold(csum_add(0, pkt, d->hdr_len)));
	ip->hdr_len = d->hdr_len;
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

const uint8_t *frag_input(struct xs_stack *st, struct ip4_repr *ip, const uint8_t *b)
{
	struct frag_table *t = &st->frag;
	uint32_t off = (uint32_t)(ip->frag & IP4_OFF_MASK) * 8;
	uint32_t len = (uint32_t)ip4_payload_len(ip);
	int mf = !!(ip->frag & IP4_FLAG_MF), ov;
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
	d = frag_get(st, ip);
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
	memcpy(d->buf + FRAG_HDR_ROOM + off, b + ip->hdr_len, len);
	d->pieces[d->npieces++] = (struct frag_piece){ (uint16_t)off, (uint16_t)len };
	d->received += len;
	t->bytes_held += len;
	if (!mf) {
		d->have_last = 1;
		d->total = off + len;
	}
	if (off == 0) {
		d->hdr_len = ip->hdr_len;
		d->first_len = len;
		memcpy(d->buf + FRAG_HDR_ROOM - ip->hdr_len, b, ip->hdr_len);
	}
	/* RFC 791: header and payload together fit 65535 bytes; the header is
	 * the first fragment's, which may be longer than this fragment's. */
	if (d->first_len && d->hdr_len + frag_max_end(d) > 0xffff) {
		frag_release(st, d, XS_DROP_FRAG_TOO_BIG);
		return NULL;
	}
	/* No overlaps were let in, so the byte count proves the cover. */
	if (d->have_last && d->first_len && d->received == d->total)
		return frag_complete(st, d, ip);
	return NULL;
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
		/* RFC 792 / RFC 1122 3.3.2: time exceeded, code 1, only when the
		 * first fragment arrived; quote its header and its data. */
		if (d->first_len)
			icmp_send_error(st, ICMP_TIME_EXCEEDED, 1, 0,
					d->buf + FRAG_HDR_ROOM - d->hdr_len,
					d->hdr_len + d->first_len);
		frag_release(st, d, XS_DROP_FRAG_TIMEOUT);
	}
}
