/* The steering program's filter run by the kernel (BPF_PROG_TEST_RUN): the verifier
 * takes it, drop rules, per-CPU rate buckets, verdicts in the metadata, table swaps. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf/steer.h"
#include "dev/afxdp_filter.h"
#include "net/filter.h"
#include "xdp_steer.skel.h"

#define STACK_IP 0xac1100fdu  /* 172.17.0.253: the stack */
#define KERNEL_IP 0xac110001u /* 172.17.0.1: the kernel's own */
#define PEER_IP 0xac110002u

struct bfx {
	struct xdp_steer *skel;
	int prog_fd;
	struct afxdp_filter f;
	struct filter_table t;
};

static int libbpf_quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	(void)l;
	(void)fmt;
	(void)ap;
	return 0;
}

static int setup(void **state)
{
	static struct bfx b;
	struct xs_steer_cfg cfg = {0};
	uint32_t key = 0;
	cpu_set_t one;
	int cpu = sched_getcpu();

	memset(&b, 0, sizeof(b));
	if (!getenv("XS_BPF_LOG"))
		libbpf_set_print(libbpf_quiet);
	b.skel = xdp_steer__open_and_load();
	if (!b.skel) {
		/* Without root the kernel refuses: not a failure here. As root, a
		 * refusal is the verifier's (EACCES too): XS_BPF_LOG=1 shows why. */
		if (geteuid() != 0) {
			*state = NULL;
			return 0;
		}
		fail_msg("the steering program does not load (verifier?): %s", strerror(errno));
	}
	/* Buckets and counters are per CPU: stay on one. */
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
	b.prog_fd = bpf_program__fd(b.skel->progs.xs_steer);
	cfg.ip4 = htonl(STACK_IP);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(b.skel->maps.xs_cfg), &key, &cfg, 0), 0);
	b.f.ftab_fd = bpf_map__fd(b.skel->maps.xs_ftab);
	b.f.fidx_fd = bpf_map__fd(b.skel->maps.xs_fidx);
	b.f.fcnt_fd = bpf_map__fd(b.skel->maps.xs_fcnt);
	b.f.fbkt_fd = bpf_map__fd(b.skel->maps.xs_fbkt);
	filter_table_init(&b.t);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bfx *b = *state;

	if (b)
		xdp_steer__destroy(b->skel);
	return 0;
}

#define NEED_BPF(b)                                                                                \
	do {                                                                                       \
		if (!(b)) {                                                                        \
			print_message("skipped: loading BPF needs root\n");                        \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Ethernet + IPv4 + UDP (8 bytes of payload); frag is the IPv4 flags and
 * fragment offset field. Checksums are not looked at by the program. */
static size_t mk_udp(uint8_t *p, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t frag)
{
	uint8_t *ip = p + 14, *u = ip + 20;

	memset(p, 0, 14 + 20 + 8 + 8);
	memset(p, 0x02, 6);
	memset(p + 6, 0x52, 6);
	p[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 8;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = 17;
	put32be(ip + 12, PEER_IP);
	put32be(ip + 16, dst);
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[5] = 16;
	return 14 + 20 + 8 + 8;
}

/* One run: the XDP action, and the verdict in the metadata (magic 0: none).
 * out_same: the frame left as it came (bytes and length). */
static int run(struct bfx *b, const uint8_t *pkt, size_t len, struct xs_steer_meta *m,
	       int *out_same)
{
	uint8_t out[256];
	struct xdp_md in = {.data_end = (uint32_t)len}, res = {0};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .ctx_out = &res, .ctx_size_out = sizeof(res),
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(b->prog_fd, &o), 0);
	memset(m, 0, sizeof(*m));
	if (res.data == sizeof(*m))
		memcpy(m, out, sizeof(*m));
	else
		assert_int_equal(res.data, 0);
	if (out_same)
		*out_same = o.data_size_out == len + res.data && !memcmp(out + res.data, pkt, len);
	return (int)o.retval;
}

/* The rules (text) into the stack's table and the program's, swapped in. */
static void load(struct bfx *b, const char *text, int policy_drop)
{
	struct xs_steer_table x;
	struct filter_err e;

	assert_int_equal(filter_table_load(&b->t, text, strlen(text), &e), 0);
	filter_table_set_policy(&b->t, FILTER_DIR_IN, policy_drop ? FILTER_DROP : FILTER_ACCEPT);
	filter_table_compile_xdp(&b->t, &x);
	assert_int_equal(afxdp_filter_set(&b->f, &x), 0);
}

static void harvest(struct bfx *b, struct xs_steer_rule_cnt *d)
{
	struct xs_steer_table x;

	assert_int_equal(afxdp_filter_harvest(&b->f, &x, d), 0);
}

static void test_verifier_takes_it(void **state)
{
	struct bfx *b = *state;
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);

	NEED_BPF(b);
	assert_int_equal(bpf_obj_get_info_by_fd(b->prog_fd, &info, &len), 0);
	/* For docs/DESIGN.md: the size and the verifier's work at 64 rules. */
	print_message("xs_steer: %u instructions, %u processed by the verifier (limit 1000000)\n",
		      info.xlated_prog_len / 8, info.verified_insns);
	assert_true(info.verified_insns > 0 && info.verified_insns < 1000000);
}

/* A drop rule drops; the rest goes to the stack with the policy's verdict;
 * a frame for another address is passed untouched, no metadata. */
static void test_drop_rule_and_untouched(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n;
	int same;

	NEED_BPF(b);
	/* No table yet: everything to the stack, no verdict. */
	n = mk_udp(p, STACK_IP, 1000, 7005, 0);
	assert_int_equal(run(b, p, n, &m, &same), XDP_PASS);
	assert_int_equal(m.magic, 0);
	load(b, "drop in udp dport 7000-7010\n", 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	n = mk_udp(p, STACK_IP, 1000, 7011, 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS); /* no socket: the fallback */
	assert_int_equal(m.magic, XS_STEER_META_MAGIC);
	assert_int_equal(m.verdict, XS_STEER_V_POLICY);
	assert_int_equal(m.tag, b->t.gen);
	/* The kernel's own address, on a port the rule covers: untouched. */
	n = mk_udp(p, KERNEL_IP, 1000, 7005, 0);
	assert_int_equal(run(b, p, n, &m, &same), XDP_PASS);
	assert_int_equal(m.magic, 0);
	assert_true(same);
	harvest(b, d);
	assert_int_equal(d[0].pkts, 1);
	assert_int_equal(d[0].bytes, 36);
	assert_int_equal(d[XS_STEER_MAX_RULES].pkts, 0);
}

/* accept ... rate then drop: the burst goes to the stack (verdict: rule 0),
 * the rest is dropped in XDP by rule 1; rule 0 counts them as limited. */
static void test_rate_accept_then_drop(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n = mk_udp(p, STACK_IP, 1000, 7, 0);
	int i, passed = 0, dropped = 0;

	NEED_BPF(b);
	load(b, "accept in udp dport 7 rate 1/s burst 5\ndrop in udp dport 7\n", 0);
	for (i = 0; i < 20; i++) {
		int act = run(b, p, n, &m, NULL);

		if (act == XDP_DROP) {
			dropped++;
			continue;
		}
		assert_int_equal(act, XDP_PASS);
		assert_int_equal(m.verdict, XS_STEER_V_RULE);
		assert_int_equal(m.rule, 0);
		passed++;
	}
	/* 1/s: the 20 runs take far less than the second a token needs. */
	assert_int_equal(passed, 5);
	assert_int_equal(dropped, 15);
	harvest(b, d);
	assert_int_equal(d[0].pkts, 0);
	assert_int_equal(d[0].limited, 15);
	assert_int_equal(d[1].pkts, 15);
}

/* drop ... rate: drops its rate, the excess goes on (here: the policy). */
static void test_rate_drop_rule(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n = mk_udp(p, STACK_IP, 1000, 9, 0);
	int i, dropped = 0;

	NEED_BPF(b);
	load(b, "drop in udp dport 9 rate 1/s burst 3\n", 0);
	for (i = 0; i < 10; i++) {
		if (run(b, p, n, &m, NULL) == XDP_DROP)
			dropped++;
		else
			assert_int_equal(m.verdict, XS_STEER_V_POLICY);
	}
	assert_int_equal(dropped, 3);
	harvest(b, d);
	assert_int_equal(d[0].pkts, 3);
	assert_int_equal(d[0].limited, 7);
}

/* The bucket refills with time (bpf_ktime_get_ns), up to its burst. */
static void test_rate_refills(void **state)
{
	struct bfx *b = *state;
	struct timespec ts = {0, 20 * 1000 * 1000};
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n = mk_udp(p, STACK_IP, 1000, 9, 0);

	NEED_BPF(b);
	load(b, "drop in udp dport 9 rate 1000/s burst 2\n", 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	/* 20 ms at 1000/s is 20 tokens, but the bucket holds 2. */
	nanosleep(&ts, NULL);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
}

/* A swap keeps the bucket of a rule both tables have (by id, wherever it
 * moved); a rule loaded afresh starts full. */
static void test_swap_carries_buckets(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_table x;
	struct filter_rule r;
	struct filter_err e;
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n = mk_udp(p, STACK_IP, 1000, 7, 0);
	int i;

	NEED_BPF(b);
	load(b, "accept in udp dport 7 rate 1/s burst 4\ndrop in udp dport 7\n", 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	/* A rule in front: the rate rule is now the second, its bucket empty. */
	harvest(b, d);
	assert_int_equal(filter_rule_parse("drop in tcp", 11, &r, &e), 1);
	assert_int_equal(filter_table_insert(&b->t, 0, &r), 0);
	filter_table_compile_xdp(&b->t, &x);
	assert_int_equal(afxdp_filter_set(&b->f, &x), 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	harvest(b, d);
	assert_int_equal(d[1].limited, 1);
	assert_int_equal(d[2].pkts, 1);
	/* The same text loaded again is new rules: a full bucket. */
	load(b, "accept in udp dport 7 rate 1/s burst 4\ndrop in udp dport 7\n", 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
	assert_int_equal(m.verdict, XS_STEER_V_RULE);
	assert_int_equal(m.tag, b->t.gen);
}

/* A fragment meets no XDP bucket (the stack judges the whole datagram with
 * its own) and carries no verdict; a later fragment cannot match ports. */
static void test_fragments(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n;
	int i;

	NEED_BPF(b);
	load(b, "accept in udp rate 1/s burst 1\ndrop in udp dport 7\n", 0);
	n = mk_udp(p, STACK_IP, 1000, 7, 0x2000); /* MF, offset 0 */
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
		assert_int_equal(m.magic, 0);
	}
	harvest(b, d);
	assert_int_equal(d[0].limited, 0);
	/* The bucket is still full for a whole datagram. */
	n = mk_udp(p, STACK_IP, 1000, 7, 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
	assert_int_equal(m.verdict, XS_STEER_V_RULE);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	/* Drop rules without a rate still judge a first fragment by its ports;
	 * a later one (offset 8) has none: to the stack, no verdict. */
	load(b, "drop in udp dport 7\n", 1);
	n = mk_udp(p, STACK_IP, 1000, 7, 0x2000);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	n = mk_udp(p, STACK_IP, 1000, 7, 1);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
	assert_int_equal(m.magic, 0);
}

static void test_policy_drop(void **state)
{
	struct bfx *b = *state;
	struct xs_steer_rule_cnt d[XS_STEER_CNT_PER_SLOT];
	struct xs_steer_meta m;
	uint8_t p[128];
	size_t n;

	NEED_BPF(b);
	load(b, "accept in udp dport 53\n", 1);
	n = mk_udp(p, STACK_IP, 1000, 54, 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_DROP);
	n = mk_udp(p, STACK_IP, 1000, 53, 0);
	assert_int_equal(run(b, p, n, &m, NULL), XDP_PASS);
	assert_int_equal(m.verdict, XS_STEER_V_RULE);
	assert_int_equal(m.rule, 0);
	harvest(b, d);
	assert_int_equal(d[XS_STEER_MAX_RULES].pkts, 1);
}

/* The device's side: a verdict in front of the frame is read once. */
static void test_take_meta(void **state)
{
	uint8_t buf[64] = {0};
	struct xs_steer_meta m = {.tag = 7, .magic = XS_STEER_META_MAGIC, .verdict = 1, .rule = 3};
	uint64_t v;

	(void)state;
	memcpy(buf + 24, &m, sizeof(m));
	v = afxdp_filter_take_meta(buf + 32);
	assert_int_equal(memcmp(&v, &m, sizeof(v)), 0);
	assert_int_equal(afxdp_filter_take_meta(buf + 32), 0);
	memset(buf + 24, 0xab, 8); /* no magic: nothing */
	assert_int_equal(afxdp_filter_take_meta(buf + 32), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_verifier_takes_it),
	    T(test_drop_rule_and_untouched),
	    T(test_rate_accept_then_drop),
	    T(test_rate_drop_rule),
	    T(test_rate_refills),
	    T(test_swap_carries_buckets),
	    T(test_fragments),
	    T(test_policy_drop),
	    cmocka_unit_test(test_take_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
