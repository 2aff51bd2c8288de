/* The TCP connection table under a bucket-collision attack: 1000 tuples that
 * the old linear mix put in one bucket whatever its secret, sent as SYNs. */
#include "tcp_fixture.h"

#define NTUPLES 1000
#define HLPORT 80

/* The bucket function the table used before it was keyed with SipHash:
 * a linear mix, the secret XORed in afterwards, 4096 buckets. */
static unsigned old_tcp_hash(uint32_t secret, uint32_t rip, uint16_t lport, uint16_t rport)
{
	uint32_t h = rip * 2654435761u ^ ((uint32_t)rport << 16 | lport) * 2246822519u;

	h ^= secret;
	h ^= h >> 15;
	return (h * 2654435761u) >> (32 - 12);
}

static uint32_t inverse_mod_2_32(uint32_t a)
{
	uint32_t x = a; /* Newton: each step doubles the correct low bits */
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

struct tuple {
	uint32_t rip;
	uint16_t rport;
	uint32_t iss; /* the stack's, from its SYN-ACK */
	bool synack;
};

/* Tuples whose mix before the secret is one value C: for each source port
 * solve rip * K1 = C ^ mix(port) for rip. Martian and on-link sources are
 * skipped (the stack would drop them or ARP for them). */
static void craft(struct tuple *t)
{
	const uint32_t k1 = 2654435761u, k1inv = inverse_mod_2_32(k1), c = 0x5eed1234u;
	uint32_t x;
	int n = 0;

	assert_int_equal(k1 * k1inv, 1);
	for (x = 1024; n < NTUPLES && x < 65536; x++) {
		uint32_t rip = (c ^ (x << 16 | HLPORT) * 2246822519u) * k1inv;

		if (rip >= 0xe0000000u || (rip >> 24) == 0 || (rip >> 24) == 127 ||
		    (rip >> 8) == (OUR_IP >> 8))
			continue;
		t[n].rip = rip;
		t[n].rport = (uint16_t)x;
		n++;
	}
	assert_int_equal(n, NTUPLES);
}

static size_t mk_syn_from(uint8_t *b, uint32_t src, uint16_t sport, uint16_t dport, uint8_t flags,
			  uint32_t seq, uint32_t ack)
{
	uint8_t *l4 = b + L4_OFF;
	size_t len;

	memset(l4, 0, 20);
	put16(l4, sport);
	put16(l4 + 2, dport);
	put32(l4 + 4, seq);
	put32(l4 + 8, ack);
	l4[12] = 5 << 4;
	l4[13] = flags;
	put16(l4 + 14, 65535);
	len = mk_ip(b, our_mac, src, OUR_IP, 6, 20);
	put16(l4 + 16, tcp_csum_ref(b + ETH_LEN, l4, 20));
	return len;
}

/* Takes every frame sent; SYN-ACKs to a crafted tuple record its ISS. */
static void take_synacks(struct fx *fx, struct tuple *t, int n)
{
	uint8_t f[FRAME_MAX];
	size_t len;
	int i;

	while ((len = take(fx, f))) {
		const uint8_t *l4 = f + L4_OFF;

		assert_true(len >= L4_OFF + 20);
		assert_memory_equal(f, gw_mac, 6); /* off-link: through the gateway */
		assert_int_equal(f[ETH_LEN + 9], 6);
		if (l4[13] != (F_SYN | F_ACK))
			continue;
		for (i = 0; i < n; i++) {
			if (get32(f + ETH_LEN + 16) == t[i].rip && get16(l4 + 2) == t[i].rport) {
				assert_int_equal(get16(l4), HLPORT);
				assert_int_equal(get32(l4 + 8), 1000u + (uint32_t)i + 1);
				t[i].iss = get32(l4 + 4);
				t[i].synack = true;
				break;
			}
		}
		assert_true(i < n);
	}
}

static size_t count_state(struct fx *fx, enum xs_tcp_state state)
{
	static struct xs_tcp_info info[NTUPLES + 8];
	size_t n = xs_tcp_list(fx->st, info, NTUPLES + 8), k, c = 0;

	for (k = 0; k < n; k++)
		c += info[k].state == state && info[k].lport == HLPORT;
	return c;
}

static void test_colliding_tuples_spread(void **state)
{
	static struct tuple t[NTUPLES];
	struct xs_config cfg = {.ip = OUR_IP, .gateway = GW_IP};
	struct fx fx = {0};
	const struct xs_stats *s;
	uint8_t f[FRAME_MAX];
	struct xs_tcp l;
	int i;

	(void)state;
	craft(t);
	/* Under the old function they share one bucket, whatever the secret. */
	for (i = 1; i < NTUPLES; i++) {
		assert_int_equal(old_tcp_hash(0, t[i].rip, HLPORT, t[i].rport),
				 old_tcp_hash(0, t[0].rip, HLPORT, t[0].rport));
		assert_int_equal(old_tcp_hash(0xdeadbeef, t[i].rip, HLPORT, t[i].rport),
				 old_tcp_hash(0xdeadbeef, t[0].rip, HLPORT, t[0].rport));
		assert_int_equal(old_tcp_hash(0x01234567, t[i].rip, HLPORT, t[i].rport),
				 old_tcp_hash(0x01234567, t[0].rip, HLPORT, t[0].rport));
	}

	fx_start(&fx, &cfg, 1500, 512, true);
	s = xs_stack_stats(fx.st);
	learn_peer(&fx, gw_mac, GW_IP);
	l = xs_tcp_listen(fx.st, HLPORT, 1024); /* SYN queue: min(1024, 2 * 1024 + 16) */
	assert_true(l.id >= 0);

	/* Their SYNs: each one becomes a half-open connection in the table. */
	for (i = 0; i < NTUPLES; i++) {
		inject(&fx, f,
		       mk_syn_from(f, t[i].rip, t[i].rport, HLPORT, F_SYN, 1000u + (uint32_t)i, 0));
		if (i % 32 == 31 || i == NTUPLES - 1) {
			fx_poll(&fx, fx.now + XS_MS(1));
			take_synacks(&fx, t, NTUPLES);
		}
	}
	for (i = 0; i < NTUPLES; i++)
		assert_true(t[i].synack);
	assert_int_equal(s->tcp_syncookies_sent, 0);
	assert_int_equal(count_state(&fx, XS_TCP_SYN_RECEIVED), NTUPLES);
	/* 1000 connections in 4096 keyed buckets: the longest chain is a few
	 * (9 or more has odds below 1e-7 for a random function), not 1000. */
	assert_true(s->tcp_hash_chain_max >= 1);
	assert_true(s->tcp_hash_chain_max <= 8);

	/* Each third step finds its connection: all 1000 get established. */
	for (i = 0; i < NTUPLES; i++) {
		inject(&fx, f,
		       mk_syn_from(f, t[i].rip, t[i].rport, HLPORT, F_ACK, 1000u + (uint32_t)i + 1,
				   t[i].iss + 1));
		if (i % 32 == 31 || i == NTUPLES - 1) {
			fx_poll(&fx, fx.now + XS_MS(1));
			while (take(&fx, f))
				;
		}
	}
	assert_int_equal(count_state(&fx, XS_TCP_ESTABLISHED), NTUPLES);
	assert_int_equal(s->tcp_passive_opens, NTUPLES);
	assert_true(s->tcp_hash_chain_max <= 8);
	assert_int_equal(s->drop[XS_DROP_TCP_NO_CONN], 0);
	assert_int_equal(xs_tcp_abort(fx.st, l), 0);
	fx_stop(&fx);
}

/* tcp_lookup remembers its last hit (a batch's segments mostly share one
 * connection); a connection that closes is forgotten at once: a segment
 * for its tuple finds no connection (a reset answers it), and the next
 * connection on the same tuple gets its own segments. */
static void test_lookup_memo_forgets_closed(void **state)
{
	struct tfx *t = *state;
	struct xs_tcp old;

	tfx_passive_open(t, NULL);
	pdata(t, 0, 100, S(0));
	psend(t, F_RST, P(100), 0, NULL, 0);
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
	psend(t, F_ACK | F_PSH, P(100), S(0), t->in + 100, 100);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags & F_RST, F_RST);
	expect_nothing(t);
	old = t->h;
	t->peer_iss += 1000000;
	tfx_passive_open(t, NULL);
	assert_false(t->h.id == old.id && t->h.gen == old.gen);
	pdata(t, 0, 50, S(0));
	app_recv(t, 0, 50);
	assert_int_equal(xs_tcp_close(t->fx.st, old), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_colliding_tuples_spread),
	    cmocka_unit_test_setup_teardown(test_lookup_memo_forgets_closed, tfx_setup,
					    tfx_teardown),
	};

	return cmocka_run_group_tests_name("tcp_hash", tests, NULL, NULL);
}
