/* Tests of the fault-injecting device over a mem device: each fault in both
 * directions, determinism of the seed, and frame accounting at every step. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/dev.h>

#include "dev/dev.h"

#define FLEN 100

static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};

struct fx {
	struct xs_dev *mem, *dev;
};

static void fx_new(struct fx *fx, const struct xs_fault_config *cfg, uint32_t nframes)
{
	fx->mem = xs_mem_dev_new(mac, 1500, nframes);
	assert_non_null(fx->mem);
	fx->dev = xs_fault_dev_new(fx->mem, cfg);
	assert_non_null(fx->dev);
	assert_memory_equal(xs_dev_mac(fx->dev), mac, 6);
}

/* Every frame home; frees the wrapper and the mem device under it. */
static void fx_free(struct fx *fx)
{
	struct xs_dev_frames fr;

	fx->dev->ops->frames(fx->dev, &fr);
	assert_int_equal(fr.free, fr.total);
	assert_int_equal(fr.fill + fr.rx_borrowed + fr.tx_borrowed + fr.tx_queued + fr.in_flight,
			 0);
	xs_dev_free(fx->dev);
}

/* An IPv4-looking frame (EtherType 0x0800) numbered i. */
static void mk_frame(uint8_t *b, uint32_t i, uint16_t type)
{
	memset(b, 0, FLEN);
	b[12] = (uint8_t)(type >> 8);
	b[13] = (uint8_t)type;
	b[20] = (uint8_t)(i >> 8);
	b[21] = (uint8_t)i;
	memset(b + 22, 0x5a, FLEN - 22);
}

static void send_one(struct fx *fx, uint32_t i, uint16_t type)
{
	struct xs_frame f;

	assert_int_equal(xs_dev_tx_alloc(fx->dev, &f), 0);
	mk_frame(f.data, i, type);
	xs_dev_tx_submit(fx->dev, &f, FLEN);
}

/* Takes the frames sent so far; returns how many, their numbers in out. */
static int take_all(struct fx *fx, int *out, int max)
{
	uint8_t b[2048];
	int n = 0;

	while (xs_mem_dev_take(fx->mem, b, sizeof(b)) == FLEN) {
		assert_true(n < max);
		out[n++] = b[20] << 8 | b[21];
	}
	return n;
}

/* Sends count frames, one flush each, and returns the numbers that left. */
static int run_tx(const struct xs_fault_config *cfg, int count, int *out)
{
	struct fx fx;
	int i, n = 0;

	fx_new(&fx, cfg, 64);
	for (i = 0; i < count; i++) {
		send_one(&fx, (uint32_t)i, 0x0800);
		xs_dev_flush(fx.dev);
		n += take_all(&fx, out + n, 4 * count - n);
	}
	/* Whatever is held leaves after a few flushes. */
	for (i = 0; i < 8; i++)
		xs_dev_flush(fx.dev);
	n += take_all(&fx, out + n, 4 * count - n);
	fx_free(&fx);
	return n;
}

static void test_tx_loss_is_seeded(void **state)
{
	struct xs_fault_config cfg = {.seed = 7, .tx = {.loss = 300}};
	int a[800], b[800], c[800], na, nb, nc, i;

	(void)state;
	na = run_tx(&cfg, 200, a);
	nb = run_tx(&cfg, 200, b);
	cfg.seed = 8;
	nc = run_tx(&cfg, 200, c);
	/* About 30% lost, the same ones for the same seed, in order. */
	assert_true(na > 110 && na < 170);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, sizeof(int) * (size_t)na);
	for (i = 1; i < na; i++)
		assert_true(a[i] > a[i - 1]);
	assert_true(na != nc || memcmp(a, c, sizeof(int) * (size_t)na) != 0);
}

static void test_tx_loss_stats(void **state)
{
	struct xs_fault_config cfg = {.seed = 3, .tx = {.loss = 1000}};
	struct fx fx;
	int out[4], i;

	(void)state;
	fx_new(&fx, &cfg, 8);
	/* More frames than the device has: lost frames came back to it. */
	for (i = 0; i < 20; i++)
		send_one(&fx, (uint32_t)i, 0x0800);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 4), 0);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_frames, 20);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_lost, 20);
	fx_free(&fx);
}

static void test_ipv4_only_spares_arp(void **state)
{
	struct xs_fault_config cfg = {.seed = 3, .ipv4_only = 1, .tx = {.loss = 1000}};
	struct fx fx;
	int out[4];

	(void)state;
	fx_new(&fx, &cfg, 8);
	send_one(&fx, 1, 0x0806);
	send_one(&fx, 2, 0x0800);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 4), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_frames, 1);
	fx_free(&fx);
}

static void test_tx_duplicate(void **state)
{
	struct xs_fault_config cfg = {.seed = 5, .tx = {.dup = 1000}};
	struct xs_frame f, g;
	struct fx fx;
	int out[8];

	(void)state;
	fx_new(&fx, &cfg, 2);
	send_one(&fx, 9, 0x0800);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 8), 2);
	assert_int_equal(out[0], 9);
	assert_int_equal(out[1], 9);
	/* No frame free for the copy: the duplicate is skipped, not the frame. */
	assert_int_equal(xs_dev_tx_alloc(fx.dev, &f), 0);
	assert_int_equal(xs_dev_tx_alloc(fx.dev, &g), 0);
	mk_frame(f.data, 10, 0x0800);
	xs_dev_tx_submit(fx.dev, &f, FLEN);
	xs_dev_tx_abort(fx.dev, &g);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 8), 1);
	assert_int_equal(out[0], 10);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_duplicated, 1);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_dup_skipped, 1);
	fx_free(&fx);
}

static void test_tx_corrupt_flips_one_bit(void **state)
{
	struct xs_fault_config cfg = {.seed = 11, .tx = {.corrupt = 1000}};
	uint8_t want[FLEN], got[2048];
	struct fx fx;
	int i, k;

	(void)state;
	fx_new(&fx, &cfg, 8);
	for (i = 0; i < 50; i++) {
		int bits = 0;

		send_one(&fx, (uint32_t)i, 0x0800);
		xs_dev_flush(fx.dev);
		assert_int_equal(xs_mem_dev_take(fx.mem, got, sizeof(got)), FLEN);
		mk_frame(want, (uint32_t)i, 0x0800);
		for (k = 0; k < FLEN; k++)
			bits += __builtin_popcount(want[k] ^ got[k]);
		assert_int_equal(bits, 1);
	}
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_corrupted, 50);
	fx_free(&fx);
}

static void test_tx_reorder(void **state)
{
	struct xs_fault_config cfg = {.seed = 1, .tx = {.reorder = 1000, .reorder_depth = 2}};
	struct xs_fault_config off = {.seed = 1};
	struct xs_dev_frames fr;
	struct fx fx;
	int out[8], i;

	(void)state;
	fx_new(&fx, &cfg, 8);
	send_one(&fx, 0, 0x0800); /* held */
	xs_fault_dev_set(fx.dev, &off);
	/* A held frame was submitted: queued, not borrowed. */
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(fr.tx_queued, 1);
	assert_int_equal(fr.tx_borrowed, 0);
	for (i = 1; i < 4; i++)
		send_one(&fx, (uint32_t)i, 0x0800);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 8), 4);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 3);
	/* Alone, a held frame leaves after a few flushes. */
	xs_fault_dev_set(fx.dev, &cfg);
	send_one(&fx, 5, 0x0800);
	xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 8), 0);
	for (i = 0; i < 4; i++)
		xs_dev_flush(fx.dev);
	assert_int_equal(take_all(&fx, out, 8), 1);
	assert_int_equal(out[0], 5);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->tx_reordered, 2);
	fx_free(&fx);
}

static void test_destroy_returns_held(void **state)
{
	struct xs_fault_config cfg = {.seed = 1, .tx = {.reorder = 1000}, .rx = {.reorder = 1000}};
	struct xs_frame f[4];
	uint8_t b[FLEN];
	struct fx fx;

	(void)state;
	fx_new(&fx, &cfg, 8);
	send_one(&fx, 1, 0x0800);
	mk_frame(b, 2, 0x0800);
	assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	assert_int_equal(xs_dev_rx_burst(fx.dev, f, 4), 0);
	/* One held each way; ASan (make SAN=1) sees nothing leak. */
	xs_dev_free(fx.dev);
}

static void test_rx_faults(void **state)
{
	struct xs_fault_config cfg = {.seed = 2, .rx = {.dup = 1000}};
	struct xs_dev_frames fr;
	struct xs_frame f[8];
	uint8_t b[FLEN];
	struct fx fx;
	int n, i;

	(void)state;
	fx_new(&fx, &cfg, 8);
	for (i = 0; i < 3; i++) {
		mk_frame(b, (uint32_t)i, 0x0800);
		assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	}
	n = xs_dev_rx_burst(fx.dev, f, 8);
	assert_int_equal(n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(f[i].len, FLEN);
		assert_int_equal(f[i].data[21], i / 2);
	}
	/* The copies are frames the stack must give back too. */
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(fr.rx_borrowed, 6);
	assert_int_equal(fr.total, 8 + 3);
	xs_dev_rx_release(fx.dev, f, n);
	/* A burst too small for the copies: the originals first, copies skipped. */
	for (i = 0; i < 3; i++) {
		mk_frame(b, (uint32_t)i, 0x0800);
		assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	}
	n = xs_dev_rx_burst(fx.dev, f, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(f[i].data[21], i);
	xs_dev_rx_release(fx.dev, f, n);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->rx_duplicated, 3);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->rx_dup_skipped, 3);
	/* Loss: nothing reaches the stack, everything comes home. */
	cfg.rx.dup = 0;
	cfg.rx.loss = 1000;
	xs_fault_dev_set(fx.dev, &cfg);
	for (i = 0; i < 5; i++) {
		mk_frame(b, (uint32_t)i, 0x0800);
		assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	}
	assert_int_equal(xs_dev_rx_burst(fx.dev, f, 8), 0);
	assert_int_equal(xs_fault_dev_stats(fx.dev)->rx_lost, 5);
	/* Reordering: the first frame comes after the next two. */
	cfg.rx.loss = 0;
	cfg.rx.reorder = 1000;
	cfg.rx.reorder_depth = 2;
	xs_fault_dev_set(fx.dev, &cfg);
	mk_frame(b, 0, 0x0800);
	assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	assert_int_equal(xs_dev_rx_burst(fx.dev, f, 8), 0);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(fr.fill, 1); /* held: not received yet */
	cfg.rx.reorder = 0;
	xs_fault_dev_set(fx.dev, &cfg);
	for (i = 1; i < 4; i++) {
		mk_frame(b, (uint32_t)i, 0x0800);
		assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	}
	n = xs_dev_rx_burst(fx.dev, f, 8);
	assert_int_equal(n, 4);
	assert_int_equal(f[0].data[21], 1);
	assert_int_equal(f[1].data[21], 2);
	assert_int_equal(f[2].data[21], 0);
	assert_int_equal(f[3].data[21], 3);
	xs_dev_rx_release(fx.dev, f, n);
	fx_free(&fx);
}

/* dev_frames_lost, the daemon's exit check: a frame the stack still holds
 * is lost, one queued or held by a device is not, and misuse counts. */
static void test_frames_lost(void **state)
{
	struct xs_fault_config cfg = {.seed = 3, .tx = {.reorder = 1000, .reorder_depth = 2}};
	struct xs_dev_frames fr;
	struct xs_frame tx, rx[4];
	uint8_t b[FLEN];
	struct fx fx;

	(void)state;
	fx_new(&fx, &cfg, 8);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(dev_frames_lost(&fr), 0);
	/* A tx frame borrowed and never submitted: lost until it is aborted. */
	assert_int_equal(xs_dev_tx_alloc(fx.dev, &tx), 0);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(dev_frames_lost(&fr), 1);
	xs_dev_tx_abort(fx.dev, &tx);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(dev_frames_lost(&fr), 0);
	/* Held back by the reorderer: the device's, not lost. */
	send_one(&fx, 0, 0x0800);
	assert_int_equal(xs_dev_flush(fx.dev), 0);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(fr.tx_queued, 1);
	assert_int_equal(dev_frames_lost(&fr), 0);
	/* An rx frame the stack kept: lost until released. */
	mk_frame(b, 1, 0x0800);
	assert_int_equal(xs_mem_dev_inject(fx.mem, b, FLEN), 0);
	assert_int_equal(xs_dev_rx_burst(fx.dev, rx, 4), 1);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(dev_frames_lost(&fr), 1);
	xs_dev_rx_release(fx.dev, rx, 1);
	fx.dev->ops->frames(fx.dev, &fr);
	assert_int_equal(dev_frames_lost(&fr), 0);
	/* What a device reports wrongly: misuse, and frames missing from the sum. */
	fr.misuse = 2;
	assert_int_equal(dev_frames_lost(&fr), 2);
	fr.misuse = 0;
	fr.free -= 3;
	assert_int_equal(dev_frames_lost(&fr), 3);
	xs_dev_free(fx.dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_loss_is_seeded),
	    cmocka_unit_test(test_tx_loss_stats),
	    cmocka_unit_test(test_ipv4_only_spares_arp),
	    cmocka_unit_test(test_tx_duplicate),
	    cmocka_unit_test(test_tx_corrupt_flips_one_bit),
	    cmocka_unit_test(test_tx_reorder),
	    cmocka_unit_test(test_destroy_returns_held),
	    cmocka_unit_test(test_rx_faults),
	    cmocka_unit_test(test_frames_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
