/* libFuzzer target: the control socket's request lines (ctl_request: split,
 * --json, the command and its arguments) run against a stack over the mem
 * device, with no socket: a client slot whose output is only inspected.
 *
 * Each input is a series of request lines, one per client in turn, as
 * client_read hands them over (up to the newline, NUL-terminated; at most
 * CTL_REQ_MAX - 1 bytes). A command that starts a session is driven a while:
 * ping gets 4 s of virtual time, and a following line "stop..." ends it like
 * a client's; connect takes the next line's bytes as the start of its stream
 * and gets 4 s. Then the session is freed as when a client goes away.
 * resolve (and ping or connect to a name) runs as a session too, answered by
 * 10.0.0.2 as DNS server (a first label starting with 'n': NXDOMAIN; else
 * 10.0.0.2); the cache lives for the input.
 * The stack is new for each input, with 10.0.0.2 known by ARP, so route add/del,
 * arp flush and sessions change state across the lines of one input only.
 *
 * Invariants: a request never stays unanswered (the client is in CL_DRAIN or
 * CL_RUN); a finished answer ends with exactly one status line (.ok, .fail,
 * .error MSG, .usage MSG) and every other line that starts with '.' is
 * dot-stuffed; --json answers have balanced brackets outside strings; every
 * frame sent parses (tests/fuzz/fuzz_tx.h); every
 * device frame is home after the input. A violation aborts the run. */
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "app/ctl.h"
#include "app/ctl_req.h"
#include "dev/dev.h"
#include "fuzz.h"
#include "fuzz_tx.h"
#include "wire/bytes.h"
#include "wire/csum.h"

#define OUR_IP 0x0a000001u /* 10.0.0.1/24 */
#define FRAME_MAX 2048
#define MAX_LINES 16

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static struct xs_dev *dev;
static struct xs_stack *st;
static struct ctl *ctl;
static xs_time_t now;

/* The fuzz build leaves the AF_XDP device (libxdp) out; stats asks it for
 * XDP counters only when cfg.hw is set, which it never is here. */
__attribute__((weak)) int xs_afxdp_xdp_counters(struct xs_dev *d, struct xs_xdp_counters *out)
{
	(void)d;
	(void)out;
	abort();
}

__attribute__((weak)) int xs_afxdp_bind_info(struct xs_dev *d, int *zerocopy, int *zc_err)
{
	(void)d;
	(void)zerocopy;
	(void)zc_err;
	abort();
}

__attribute__((weak)) int xs_afxdp_napi_id(struct xs_dev *d)
{
	(void)d;
	abort();
}

__attribute__((weak)) int xs_afxdp_filter_set(struct xs_dev *d, const struct xs_steer_table *t)
{
	(void)d;
	(void)t;
	abort();
}

__attribute__((weak)) int xs_afxdp_filter_harvest(struct xs_dev *d, struct xs_steer_table *t,
						  struct xs_steer_rule_cnt *delta)
{
	(void)d;
	(void)t;
	(void)delta;
	abort();
}

/* 10.0.0.2 answers DNS queries (UDP port 53): a name whose first label
 * starts with 'n' does not exist, any other is 10.0.0.2 itself. */
static void dns_answer(const uint8_t *f, size_t n)
{
	static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 2};
	uint8_t r[FRAME_MAX];
	size_t dlen, len;

	if (n < 14 + 20 + 8 + 12 || ld_be16(f + 12) != 0x0800 || f[14] != 0x45 || f[23] != 17 ||
	    ld_be16(f + 36) != 53)
		return;
	dlen = ld_be16(f + 38) - 8u;
	if (42 + dlen > n || 42 + dlen + sizeof(a) > sizeof(r))
		return;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, f, 6);
	memcpy(r + 12, f + 12, 2 + 20);
	memcpy(r + 26, f + 30, 4);
	memcpy(r + 30, f + 26, 4);
	st_be16(r + 34, 53);
	st_be16(r + 36, ld_be16(f + 34));
	memcpy(r + 42, f + 42, dlen);
	if (f[42 + 13] == 'n') {
		st_be16(r + 44, 0x8183);
		len = dlen;
	} else {
		st_be16(r + 44, 0x8180);
		st_be16(r + 48, 1);
		memcpy(r + 42 + dlen, a, sizeof(a));
		len = dlen + sizeof(a);
	}
	st_be16(r + 38, (uint16_t)(8 + len));
	st_be16(r + 40, 0); /* no UDP checksum (IPv4 allows it) */
	st_be16(r + 16, (uint16_t)(20 + 8 + len));
	st_be16(r + 24, 0);
	st_be16(r + 24, csum_fold(csum_add(0, r + 14, 20)));
	FUZZ_CHECK(xs_mem_dev_inject(dev, r, 42 + len < 60 ? 60 : 42 + len) == 0);
}

static void poll_now(void)
{
	uint8_t buf[FRAME_MAX];
	size_t n;

	ctl->now = now;
	FUZZ_CHECK(xs_stack_poll(st, now) >= 0);
	while ((n = xs_mem_dev_take(dev, buf, sizeof(buf))) != 0) {
		fuzz_check_tx(buf, n, our_mac, OUR_IP, 1500);
		dns_answer(buf, n);
	}
}

static void learn_peer(void)
{
	uint8_t f[60] = {0};

	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, (const uint8_t[]){10, 0, 0, 2}, 4);
	memcpy(f + 38, (const uint8_t[]){10, 0, 0, 1}, 4);
	FUZZ_CHECK(xs_mem_dev_inject(dev, f, sizeof(f)) == 0);
	poll_now();
}

static void setup(void)
{
	struct xs_config cfg = {.ip = OUR_IP};

	now = 0;
	if (!dev)
		dev = xs_mem_dev_new(our_mac, 1500, 64);
	FUZZ_CHECK(dev != NULL);
	st = xs_stack_new(&cfg, dev);
	FUZZ_CHECK(st != NULL);
	FUZZ_CHECK(xs_dns_add_server(st, 0x0a000002u, 53) == 0);
	ctl = calloc(1, sizeof(*ctl));
	FUZZ_CHECK(ctl != NULL);
	ctl->cfg.st = st;
	ctl->cfg.ifname = "fuzz0";
	ctl->cfg.ifindex = 7;
	snprintf(ctl->ifname, sizeof(ctl->ifname), "fuzz0");
	ctl->lfd = -1;
	ctl->lpfd = -1;
	poll_now();
	now = XS_SEC(1);
	poll_now();
	learn_peer();
}

static void teardown(void)
{
	struct xs_dev_frames fr;

	now += XS_SEC(10);
	poll_now();
	dev->ops->frames(dev, &fr);
	FUZZ_CHECK(fr.free == fr.total && !fr.fill && !fr.rx_borrowed && !fr.tx_borrowed &&
		   !fr.tx_queued && !fr.in_flight);
	xs_stack_free(st);
	st = NULL;
	free(ctl);
	ctl = NULL;
}

static int is_status(const char *l, size_t n)
{
	return (n == 3 && !memcmp(l, ".ok", 3)) || (n == 5 && !memcmp(l, ".fail", 5)) ||
	       (n >= 7 && !memcmp(l, ".error ", 7)) || (n >= 7 && !memcmp(l, ".usage ", 7));
}

/* Brackets balance outside strings, strings close: enough to catch a
 * command that ends a JSON document half-way. */
static void check_json(const char *s, size_t n)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (in_str) {
			FUZZ_CHECK(ch != '\n' && (unsigned char)ch >= 0x20);
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			FUZZ_CHECK(--depth >= 0);
		}
	}
	FUZZ_CHECK(!in_str && depth == 0);
}

/* A finished text answer: lines, the last one the only status line. */
static void check_answer(const struct ctl_client *cl)
{
	const char *s = cl->out + cl->outoff, *l, *nl;
	size_t n = cl->outlen - cl->outoff, len, body = 0;
	int status = 0;

	FUZZ_CHECK(cl->state == CL_DRAIN);
	FUZZ_CHECK(n > 0 && s[n - 1] == '\n');
	for (l = s; l < s + n; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(s + n - l));
		FUZZ_CHECK(nl != NULL);
		len = (size_t)(nl - l);
		FUZZ_CHECK(!status); /* nothing after the status line */
		if (len && l[0] == '.' && (len < 2 || l[1] != '.')) {
			FUZZ_CHECK(is_status(l, len));
			FUZZ_CHECK(memchr(l, 0, len) == NULL);
			status = 1;
			body = (size_t)(l - s);
		}
	}
	FUZZ_CHECK(status);
	if (cl->json && body && !memcmp(s + body, ".ok\n", 4) && !cl->ping)
		check_json(s, body);
}

/* Runs a started session for 4 s; next is the following line (may be NULL). */
static int run_session(struct ctl_client *cl, const char *next, size_t nextlen)
{
	int used = 0, i;

	if (cl->conn && next) {
		ctl_conn_take(cl, next, nextlen);
		used = 1;
	}
	for (i = 0; i < 8 && cl->state == CL_RUN; i++) {
		now += XS_MS(500);
		poll_now();
		if (cl->ping && i == 1 && next && !strncmp(next, "stop", 4)) {
			ctl_ping_stop(cl);
			used = 1;
		}
		if (cl->ping)
			ctl_ping_tick(cl);
		if (cl->conn)
			ctl_conn_tick(cl);
	}
	return used;
}

static void request(char *line, const char *next, size_t nextlen, int *used_next)
{
	static char shown[CTL_REQ_MAX];
	struct ctl_client *cl = &ctl->cl[0];
	int conn;

	snprintf(shown, sizeof(shown), "%s", line); /* ctl_request cuts line up */

	memset(cl, 0, sizeof(*cl));
	cl->ctl = ctl;
	cl->fd = -1;
	cl->pfd = -1;
	cl->bol = 1;
	cl->state = CL_READ;
	ctl_request(cl, line);
	FUZZ_CHECK(cl->state == CL_DRAIN || cl->state == CL_RUN);
	FUZZ_CHECK(!cl->dead);
	conn = cl->conn != NULL;
	if (cl->state == CL_RUN) {
		FUZZ_CHECK(cl->ping || cl->conn || cl->dns_pending);
		*used_next = run_session(cl, next, nextlen);
	}
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "> %s\n%.*s", shown, (int)(cl->outlen - cl->outoff),
			cl->out ? cl->out + cl->outoff : "");
	/* connect's stream has its own framing: only its end is checked. */
	if (cl->state == CL_DRAIN && !conn)
		check_answer(cl);
	poll_now();
	ctl_ping_free(cl);
	ctl_conn_free(cl);
	ctl_resolve_free(cl);
	poll_now();
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
}

/* The line at *off into buf (NUL-terminated, cut to CTL_REQ_MAX - 1 bytes);
 * moves *off past its newline. Returns its length in buf. */
static size_t next_line(const uint8_t *data, size_t size, size_t *off, char *buf)
{
	const uint8_t *nl = memchr(data + *off, '\n', size - *off);
	size_t len = nl ? (size_t)(nl - (data + *off)) : size - *off;
	size_t n = len < CTL_REQ_MAX - 1 ? len : CTL_REQ_MAX - 1;

	memcpy(buf, data + *off, n);
	buf[n] = 0;
	*off += len + (nl ? 1 : 0);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[CTL_REQ_MAX], next[CTL_REQ_MAX];
	size_t off = 0, noff, nlen;
	int lines = 0, used;

	setup();
	while (off < size && lines++ < MAX_LINES) {
		next_line(data, size, &off, line);
		/* The line after, as a session would read it. */
		noff = off;
		nlen = off < size ? next_line(data, size, &noff, next) : 0;
		used = 0;
		request(line, off < size ? next : NULL, nlen, &used);
		if (used)
			off = noff;
	}
	teardown();
	return 0;
}
