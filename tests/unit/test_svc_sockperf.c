/* Unit tests of the sockperf service's TCP framing (user/app/svc_sockperf.c):
 * random message streams cut at random points against an independent model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The framing is static in the service; the test sees it whole. */
#include "app/svc_sockperf.c"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One message as a client writes it; the model's reply goes to want. */
static void put_msg(struct buf *in, struct buf *want, uint64_t seq, uint16_t flags, uint32_t len)
{
	uint8_t h[SP_HDR_LEN];
	int i;

	for (i = 0; i < 8; i++)
		h[i] = (uint8_t)(seq >> (56 - 8 * i));
	h[8] = (uint8_t)(flags >> 8);
	h[9] = (uint8_t)flags;
	h[10] = (uint8_t)(len >> 24);
	h[11] = (uint8_t)(len >> 16);
	h[12] = (uint8_t)(len >> 8);
	h[13] = (uint8_t)len;
	buf_put(in, h, sizeof(h));
	if (want && (flags & 7) == (SP_F_CLIENT | SP_F_PONG)) {
		h[9] &= (uint8_t)~SP_F_CLIENT;
		buf_put(want, h, sizeof(h));
	}
	for (uint32_t k = SP_HDR_LEN; k < len; k++) {
		uint8_t b = (uint8_t)(seq * 31 + k);

		buf_put(in, &b, 1);
		if (want && (flags & 7) == (SP_F_CLIENT | SP_F_PONG))
			buf_put(want, &b, 1);
	}
}

/* Feeds in[] in random pieces; everything the connection queues is "sent"
 * at once. Returns the first feed's error, or 0. */
static int feed_all(struct svc_sockperf *s, struct sp_conn *c, const struct buf *in,
		    struct buf *out, uint32_t max_piece)
{
	size_t pos = 0;

	while (pos < in->len) {
		size_t n = 1 + rnd_below(max_piece);
		int rc;

		if (n > in->len - pos)
			n = in->len - pos;
		assert_true(n <= SP_CHUNK);
		rc = sp_stream_feed(s, c, in->p + pos, n);
		if (rc)
			return rc;
		/* The bound the connection's buffer relies on. */
		assert_true(c->pending <= n + SP_HDR_LEN - 1);
		assert_true(c->pending <= SP_OUT_CAP);
		buf_put(out, c->out, c->pending);
		c->pending = 0;
		pos += n;
	}
	return 0;
}

static struct svc_sockperf *svc_new(uint32_t max_msg)
{
	struct svc_sockperf *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->cfg.max_msg = max_msg;
	return s;
}

static void test_random_streams(void **state)
{
	static const uint16_t flag_sets[] = {
	    SP_F_CLIENT | SP_F_PONG,
	    SP_F_CLIENT,
	    SP_F_CLIENT | SP_F_PONG | SP_F_WARMUP,
	    SP_F_PONG,
	    0,
	    SP_F_CLIENT | SP_F_WARMUP,
	    SP_F_CLIENT | SP_F_PONG | 0x80,
	};
	static const uint32_t pieces[] = {1, 3, 14, 15, 100, 1448, SP_CHUNK};

	rng_state = 0x5eed5eed1234ull;
	for (int round = 0; round < 200; round++) {
		struct svc_sockperf *s = svc_new(SVC_SOCKPERF_MAX_MSG);
		struct sp_conn c = {0};
		struct buf in = {0}, want = {0}, out = {0};
		uint64_t msgs = 0, replies = 0, warm = 0, notc = 0;
		int n = 1 + (int)rnd_below(60);

		for (int i = 0; i < n; i++) {
			uint16_t f = flag_sets[rnd_below(sizeof(flag_sets) / sizeof(flag_sets[0]))];
			uint32_t len = rnd_below(10) == 0  ? SVC_SOCKPERF_MAX_MSG
				       : rnd_below(4) == 0 ? SP_HDR_LEN
							   : SP_HDR_LEN + rnd_below(3000);

			put_msg(&in, &want, rnd(), f, len);
			if (!(f & SP_F_CLIENT))
				notc++;
			else if (f & SP_F_WARMUP)
				warm++;
			else
				msgs++;
			if ((f & 7) == (SP_F_CLIENT | SP_F_PONG))
				replies++;
		}
		assert_int_equal(feed_all(s, &c, &in, &out, pieces[round % 7]), 0);
		assert_int_equal(out.len, want.len);
		assert_memory_equal(out.p, want.p, want.len);
		assert_int_equal(c.hdr_have, 0); /* ends on a message boundary */
		assert_int_equal(s->ctr[SP_tcp_msgs], msgs);
		assert_int_equal(s->ctr[SP_tcp_replies], replies);
		assert_int_equal(s->ctr[SP_warmup_msgs], warm);
		assert_int_equal(s->ctr[SP_drop_not_client], notc);
		free(in.p);
		free(want.p);
		free(out.p);
		free(s);
	}
}

/* A length sockperf rejects ends the stream at once, wherever it is cut. */
static void test_bad_lengths(void **state)
{
	static const uint32_t bad[] = {0, 1, 13, SVC_SOCKPERF_MAX_MSG + 1, 0xffffffffu};

	rng_state = 77;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (uint32_t piece = 1; piece <= 20; piece++) {
			struct svc_sockperf *s = svc_new(SVC_SOCKPERF_MAX_MSG);
			struct sp_conn c = {0};
			struct buf in = {0}, out = {0};

			put_msg(&in, NULL, 1, SP_F_CLIENT | SP_F_PONG, 100);
			put_msg(&in, NULL, 2, SP_F_CLIENT | SP_F_PONG, SP_HDR_LEN);
			/* Patch the second header's length. */
			in.p[100 + 10] = (uint8_t)(bad[i] >> 24);
			in.p[100 + 11] = (uint8_t)(bad[i] >> 16);
			in.p[100 + 12] = (uint8_t)(bad[i] >> 8);
			in.p[100 + 13] = (uint8_t)bad[i];
			assert_int_equal(feed_all(s, &c, &in, &out, piece), -EPROTO);
			assert_int_equal(s->ctr[SP_drop_tcp_bad_len], 1);
			assert_int_equal(s->ctr[SP_tcp_replies], 1);
			free(in.p);
			free(out.p);
			free(s);
		}
	}
}

/* The configured maximum is the bound, not sockperf's. */
static void test_max_msg_config(void **state)
{
	struct svc_sockperf *s = svc_new(1000);
	struct sp_conn c = {0};
	struct buf in = {0}, out = {0};

	put_msg(&in, NULL, 1, SP_F_CLIENT | SP_F_PONG, 1000);
	put_msg(&in, NULL, 2, SP_F_CLIENT | SP_F_PONG, 1001);
	assert_int_equal(feed_all(s, &c, &in, &out, SP_CHUNK), -EPROTO);
	/* One read: the first reply was queued when the second header failed. */
	assert_int_equal(out.len + c.pending, 1000);
	assert_int_equal(s->ctr[SP_tcp_replies], 1);
	assert_int_equal(s->ctr[SP_drop_tcp_bad_len], 1);
	free(in.p);
	free(out.p);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_streams),
	    cmocka_unit_test(test_bad_lengths),
	    cmocka_unit_test(test_max_msg_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
