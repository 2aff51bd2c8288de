/* The public API: a stack from a config struct, an embedder's own device,
 * socket options get and set, connect with options, read-side shutdown. */
#include "api_fixture.h"

/* --- creation from a config struct -------------------------------------------- */

static void test_create_mem_routes(void **state)
{
	struct xs_route routes[] = {{.dst = 0x0a010000u, .prefix_len = 16, .gateway = 0x0a0000feu}};
	struct xs_stack_opts o = {.cfg = {.ip = A_IP, .prefix_len = 24},
				  .routes = routes, .nroutes = 1};
	struct xs_route got[8];
	uint8_t f[2048];
	char err[256];
	struct xs_stack *st;
	uint32_t nh;
	size_t n;

	(void)state;
	assert_int_equal(xs_stack_opts_dev(&o, "mem", err, sizeof(err)), 0);
	st = xs_stack_create(&o, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(xs_route_list(st, got, 8), 2);
	assert_int_equal(xs_route_lookup(st, 0x0a010203u, &nh), 0);
	assert_int_equal(nh, 0x0a0000feu);
	/* The device is the stack's: the start-up announcement goes out on it. */
	assert_true(xs_stack_poll(st, 0) >= 0);
	n = xs_mem_dev_take(xs_stack_dev(st), f, sizeof(f));
	assert_int_equal(n, 60);
	assert_int_equal(f[12] << 8 | f[13], 0x0806);
	xs_stack_free(st); /* frees the device too (ASan would see a leak) */

	/* A route the stack refuses: one line, nothing left made. */
	routes[0].gateway = 0x0b000001u; /* not on the connected subnet */
	err[0] = 0;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_int_equal(errno, ENETUNREACH);
	assert_non_null(strstr(err, "route 10.1.0.0/16 via 11.0.0.1"));
	/* No address; no device kind. */
	o.cfg.ip = 0;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	memset(&o, 0, sizeof(o));
	o.cfg.ip = A_IP;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "no device kind"));
}

static void test_opts_dev_specs(void **state)
{
	struct xs_stack_opts o;
	char err[256];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(xs_stack_opts_dev(&o, "afxdp:veth0@3", err, sizeof(err)), 0);
	assert_int_equal(o.dev_kind, XS_DEV_AFXDP);
	assert_string_equal(o.ifname, "veth0");
	assert_int_equal(o.queue, 3);
	assert_int_equal(xs_stack_opts_dev(&o, "afxdp:eth1", err, sizeof(err)), 0);
	assert_string_equal(o.ifname, "eth1");
	assert_int_equal(o.queue, 0);
	assert_int_equal(xs_stack_opts_dev(&o, "tap:xs0", err, sizeof(err)), 0);
	assert_int_equal(o.dev_kind, XS_DEV_TAP);
	assert_string_equal(o.ifname, "xs0");
	static const char *bad[] = {"", "afxdp:", "afxdp:@1", "afxdp:eth0@", "afxdp:eth0@x",
				    "afxdp:eth0@99999", "tap:", "tun:x", "memx",
				    "tap:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(xs_stack_opts_dev(&o, bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "bad device"));
	}
}

/* An embedder's own device, written against the public ops table only: a
 * four-buffer device that keeps what is sent and lends what is queued. */
struct toy {
	struct xs_dev dev;
	uint8_t buf[4][1600];
	int used[4];
	int rx[4], nrx;            /* buffers queued for the stack */
	int sent, rx_out, tx_out, destroyed;
	uint8_t last[1600];
	uint32_t last_len;
};

static int toy_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	struct toy *t = d->priv;
	int n = 0;

	while (n < max && t->nrx) {
		int i = t->rx[--t->nrx];

		f[n].data = t->buf[i];
		f[n].len = 60;
		f[n].cap = sizeof(t->buf[i]);
		f[n].handle = (uint64_t)i;
		t->rx_out++;
		n++;
	}
	return n;
}

static void toy_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	struct toy *t = d->priv;

	for (int i = 0; i < n; i++) {
		t->used[f[i].handle] = 0;
		t->rx_out--;
	}
}

static int toy_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	struct toy *t = d->priv;

	for (int i = 0; i < 4; i++) {
		if (!t->used[i]) {
			t->used[i] = 1;
			f->data = t->buf[i];
			f->len = 0;
			f->cap = sizeof(t->buf[i]);
			f->handle = (uint64_t)i;
			t->tx_out++;
			return 0;
		}
	}
	return -ENOBUFS;
}

static void toy_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct toy *t = d->priv;

	memcpy(t->last, f->data, len);
	t->last_len = len;
	t->sent++;
	t->used[f->handle] = 0;
	t->tx_out--;
}

static void toy_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	struct toy *t = d->priv;

	t->used[f->handle] = 0;
	t->tx_out--;
}

static int toy_flush(struct xs_dev *d)
{
	return 0;
}

static void toy_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct toy *t = d->priv;

	memset(out, 0, sizeof(*out));
	out->total = 4;
	out->rx_borrowed = (uint32_t)t->rx_out;
	out->tx_borrowed = (uint32_t)t->tx_out;
}

static void toy_destroy(struct xs_dev *d)
{
	struct toy *t = d->priv;

	t->destroyed++;
}

static const struct xs_dev_ops toy_ops = {
	.rx_burst = toy_rx_burst, .rx_release = toy_rx_release, .tx_alloc = toy_tx_alloc,
	.tx_submit = toy_tx_submit, .tx_abort = toy_tx_abort, .flush = toy_flush,
	.frames = toy_frames, .destroy = toy_destroy,
};

static void test_custom_device(void **state)
{
	static struct toy t;
	struct xs_stack_opts o = {.cfg = {.ip = A_IP}, .dev_kind = XS_DEV_CUSTOM, .dev = &t.dev};
	static const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
	struct xs_stack *st;
	char err[128];
	uint8_t *a;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.dev.ops = &toy_ops;
	memcpy(t.dev.mac, mac, 6);
	t.dev.mtu = 1500;
	t.dev.fd = -1;
	t.dev.priv = &t;
	st = xs_stack_create(&o, err, sizeof(err));
	assert_non_null(st);
	assert_true(xs_stack_poll(st, 0) >= 0);
	/* The gratuitous ARP left through the embedder's tx_submit. */
	assert_int_equal(t.sent, 1);
	assert_int_equal(t.last_len, 60);
	assert_memory_equal(t.last + 6, mac, 6);
	/* An ARP request for our address, lent by rx_burst: answered, and the
	 * buffer given back in the same poll. */
	t.used[0] = 1;
	a = t.buf[0];
	memset(a, 0xff, 6);
	memcpy(a + 6, mac_b, 6);
	a[12] = 0x08, a[13] = 0x06;
	memcpy(a + 14, (uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	memcpy(a + 22, mac_b, 6);
	memcpy(a + 28, (uint8_t[]){10, 0, 0, 2}, 4);
	memset(a + 32, 0, 6);
	memcpy(a + 38, (uint8_t[]){10, 0, 0, 1}, 4);
	t.rx[t.nrx++] = 0;
	assert_int_equal(xs_stack_poll(st, XS_MS(1)), 1);
	assert_int_equal(t.rx_out, 0);
	assert_int_equal(t.used[0], 0);
	assert_int_equal(t.sent, 2);
	assert_int_equal(t.last[21], 2); /* ARP reply */
	assert_memory_equal(t.last, mac_b, 6);
	assert_int_equal(t.tx_out, 0);
	/* The stack owns it now: freed (destroy called) with the stack. */
	xs_stack_free(st);
	assert_int_equal(t.destroyed, 1);
}

/* --- socket options ------------------------------------------------------------ */

static void test_tcp_opts_get_set(void **state)
{
	struct two *t = *state;
	struct xs_tcp ha, hb;
	int v;

	tcp_pair(t, 90, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_NODELAY, 1), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_KEEPIDLE, 30), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_KEEPIDLE, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_USER_TIMEOUT, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_USER_TIMEOUT, 1500), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_USER_TIMEOUT, &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_TOS, 0xbb), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_TOS, &v), 0);
	assert_int_equal(v, 0xb8); /* ECN bits are the stack's */
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_RTO_MIN, &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_SNDBUF, &v), 0);
	assert_int_equal(v, 256 * 1024);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_CC_CUBIC, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_getopt(t->a, ha, (enum xs_tcp_opt)99, &v), -ENOPROTOOPT);
	assert_int_equal(xs_tcp_getopt(t->a, (struct xs_tcp){.id = 4000}, XS_TCP_NODELAY, &v), -EBADF);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
}

static void test_tcp_connect_ex(void **state)
{
	struct two *t = *state;
	struct xs_tcp_connect_opts o = {.lport = 40000, .rcvbuf = 1 << 20, .sndbuf = 8192,
					.nodelay = 1};
	struct xs_tcp_info info;
	uint16_t port;
	struct xs_tcp lh = xs_tcp_listen(t->b, 91, 4), la = xs_tcp_listen(t->a, 41000, 4), ha, hb;
	int v;

	assert_true(lh.id >= 0 && la.id >= 0);
	/* A listener's port, an out-of-range buffer. */
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91,
					   &(struct xs_tcp_connect_opts){.lport = 41000}).id,
			 -EADDRINUSE);
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91,
					   &(struct xs_tcp_connect_opts){.sndbuf = 100}).id,
			 -EINVAL);
	ha = xs_tcp_connect_ex(t->a, B_IP, 91, &o);
	assert_true(ha.id >= 0);
	/* The same 4-tuple again. */
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91, &o).id, -EADDRINUSE);
	poll_both(t, 10);
	hb = xs_tcp_accept(t->b, lh, NULL, &port);
	assert_true(hb.id >= 0);
	assert_int_equal(port, 40000);
	assert_int_equal(xs_tcp_get_info(t->a, ha, &info), 0);
	assert_int_equal(info.lport, 40000);
	assert_int_equal(info.rcv_wscale, 5); /* 1 MiB announced in the SYN */
	assert_int_equal(xs_tcp_get_info(t->b, hb, &info), 0);
	assert_int_equal(info.snd_wscale, 5);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_SNDBUF, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	assert_int_equal(xs_tcp_close(t->a, la), 0);
}

static void test_tcp_shutdown_read(void **state)
{
	struct two *t = *state;
	struct xs_tcp_info info;
	uint8_t buf[64];
	struct xs_tcp ha, hb;

	tcp_pair(t, 92, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_send(t->a, ha, "unread", 6), 6);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, 0), -EINVAL);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, 4), -EINVAL);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_RD), 0);
	/* End of stream at once, readable, still writable. */
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 0);
	assert_int_equal(xs_tcp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	/* Later data is acknowledged and dropped. */
	assert_int_equal(xs_tcp_send(t->a, ha, "more", 4), 4);
	poll_both(t, 60); /* past the delayed ACK */
	assert_int_equal(xs_tcp_get_info(t->a, ha, &info), 0);
	assert_int_equal(info.snd_queue, 0);
	assert_int_equal(xs_tcp_get_info(t->b, hb, &info), 0);
	assert_int_equal(info.rcv_queue, 0);
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 0);
	/* The write side still works, and closing is graceful (no RST: nothing
	 * unread is held). */
	assert_int_equal(xs_tcp_send(t->b, hb, "reply", 5), 5);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 5);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 0);
	assert_int_equal(xs_tcp_error(t->a, ha), 0);
	assert_int_equal(xs_tcp_shutdown_how(t->a, ha, XS_SHUT_RDWR), 0);
	poll_both(t, 5);
	assert_true(xs_tcp_poll_events(t->a, ha) & XS_EV_HUP);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_shutdown_how(t->a, ha, XS_SHUT_RD), -EBADF);
}

/* XS_UDP_RCVBUF bounds the bytes queued unread; past it, counted drops. */
static void test_udp_rcvbuf(void **state)
{
	struct two *t = *state;
	uint8_t d[1000] = {0};
	uint64_t before;
	struct xs_udp ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);
	int v;

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_getopt(t->b, hb, XS_UDP_RCVBUF, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, 2047), -EINVAL);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, (16 << 20) + 1), -EINVAL);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, 2500), 0);
	assert_int_equal(xs_udp_getopt(t->b, hb, XS_UDP_RCVBUF, &v), 0);
	assert_int_equal(v, 2500);
	before = xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF];
	for (int i = 0; i < 3; i++)
		assert_int_equal(xs_udp_sendto(t->a, ha, d, sizeof(d), B_IP, 7), 1000);
	poll_both(t, 3);
	assert_int_equal(xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF] - before, 1);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), 1000);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), 1000);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), -EAGAIN);
	assert_int_equal(xs_udp_setopt(t->b, (struct xs_udp){.id = 200}, XS_UDP_RCVBUF, 4096), -EBADF);
	assert_int_equal(xs_udp_getopt(t->b, hb, (enum xs_udp_opt)7, &v), -ENOPROTOOPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_mem_routes),
		cmocka_unit_test(test_opts_dev_specs),
		cmocka_unit_test(test_custom_device),
		cmocka_unit_test_setup_teardown(test_tcp_opts_get_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_connect_ex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_shutdown_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_rcvbuf, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
