/* The stack alone: two stack instances over linked in-memory devices in one
 * process, TCP bulk (Gbit/s per core), request/response and connection rate. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>
#include <xdpstack/stats.h>

#define SB_FRAMES 4096 /* per device: far above one receive window of segments */
#define SB_PORT_BULK 5001
#define SB_PORT_RR 5002
#define SB_PORT_CONN 5003
#define SB_CONN_SIZE 64	      /* request and reply of each connection */
#define SB_CONN_EPOCH 4096    /* connections between TIME-WAIT sweeps (sb_conn) */
#define SB_TIME_WAIT_JUMP XS_SEC(121) /* past 2*MSL (60 s) with room to spare */
#define SB_CHUNK 65536
#define SB_MAX_SIZE 65536
#define SB_ROUNDS_MAX 200000000ull /* poll rounds before a run is declared stuck */

static const uint32_t sb_ips[2] = {0x0a000001u, 0x0a000002u};
static const uint8_t sb_macs[2][6] = {{0x02, 0, 0, 0, 0, 0x0a}, {0x02, 0, 0, 0, 0, 0x0b}};

struct sb_pair {
	struct xs_dev *dev[2];
	struct xs_stack *st[2];
	xs_time_t skew; /* added to the clock: sb_conn jumps past TIME-WAIT */
};

struct sb_times {
	double wall_s, cpu_s;
	uint64_t frames; /* frames both stacks sent during the run */
	uint64_t retransmits;
};

static double sb_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static xs_time_t sb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * 1000000000ull + (xs_time_t)ts.tv_nsec;
}

static int sb_poll(struct sb_pair *p)
{
	xs_time_t now = sb_now() + p->skew;

	if (xs_stack_poll(p->st[0], now) < 0 || xs_stack_poll(p->st[1], now) < 0)
		return -EIO;
	return 0;
}

static void sb_ping_cb(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	(void)st;
	(void)h;
	if (r->error == 0)
		(*(int *)ctx)++;
}

/* Each side pings the other once so that both ARP caches are warm. */
static int sb_resolve(struct sb_pair *p)
{
	struct xs_ping h[2];
	int replies = 0, s;
	uint64_t i;

	for (s = 0; s < 2; s++) {
		h[s] = xs_ping_open(p->st[s], sb_ping_cb, &replies);
		if (h[s].id < 0 || xs_ping_send(p->st[s], h[s], sb_ips[!s], 1, 8) != 0)
			return -EIO;
	}
	for (i = 0; i < 100000 && replies < 2; i++)
		if (sb_poll(p))
			return -EIO;
	for (s = 0; s < 2; s++)
		xs_ping_close(p->st[s], h[s]);
	return replies == 2 ? 0 : -ETIMEDOUT;
}

static int sb_open(struct sb_pair *p)
{
	struct xs_dev *mem[2];
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 2; i++) {
		struct xs_config cfg = {.ip = sb_ips[i], .prefix_len = 24};

		mem[i] = xs_mem_dev_new(sb_macs[i], 1500, SB_FRAMES);
		if (!mem[i])
			return -ENOMEM;
		p->dev[i] = mem[i];
		p->st[i] = xs_stack_new(&cfg, mem[i]);
		if (!p->st[i])
			return -ENOMEM;
	}
	xs_mem_dev_link(mem[0], mem[1]);
	return sb_resolve(p);
}

static void sb_close(struct sb_pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (p->st[i])
			xs_stack_free(p->st[i]);
		if (p->dev[i])
			xs_dev_free(p->dev[i]);
	}
}

static uint64_t sb_counter(const struct sb_pair *p, size_t off)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		n += *(const uint64_t *)((const char *)xs_stack_stats(p->st[i]) + off);
	return n;
}

/* A connection from side 0 to a listener on side 1; h[0] client, h[1] server. */
static int sb_connect(struct sb_pair *p, uint16_t port, bool nodelay, struct xs_tcp h[2])
{
	struct xs_tcp_info info;
	struct xs_tcp lh;
	uint64_t i;

	lh = xs_tcp_listen(p->st[1], port, 4);
	if (lh.id < 0)
		return lh.id;
	h[0] = xs_tcp_connect(p->st[0], sb_ips[1], port);
	if (h[0].id < 0)
		return h[0].id;
	h[1].id = -EAGAIN;
	for (i = 0; i < 1000000 && h[1].id < 0; i++) {
		if (sb_poll(p))
			return -EIO;
		h[1] = xs_tcp_accept(p->st[1], lh, NULL, NULL);
	}
	xs_tcp_close(p->st[1], lh);
	if (h[1].id < 0)
		return -ETIMEDOUT;
	for (i = 0; i < 1000000; i++) {
		if (xs_tcp_get_info(p->st[0], h[0], &info) == 0 && info.state == XS_TCP_ESTABLISHED)
			break;
		if (sb_poll(p))
			return -EIO;
	}
	if (nodelay) {
		xs_tcp_setopt(p->st[0], h[0], XS_TCP_NODELAY, 1);
		xs_tcp_setopt(p->st[1], h[1], XS_TCP_NODELAY, 1);
	}
	return 0;
}

/* Closes both ends and polls until neither stack holds a connection. */
static void sb_finish(struct sb_pair *p, struct xs_tcp h[2])
{
	struct xs_tcp_info info[4];
	uint64_t i;

	xs_tcp_abort(p->st[0], h[0]);
	xs_tcp_abort(p->st[1], h[1]);
	for (i = 0; i < 100000; i++) {
		if (!xs_tcp_list(p->st[0], info, 4) && !xs_tcp_list(p->st[1], info, 4))
			break;
		sb_poll(p);
	}
}

static void sb_start(const struct sb_pair *p, struct sb_times *t)
{
	t->wall_s = sb_clock(CLOCK_MONOTONIC);
	t->cpu_s = sb_clock(CLOCK_PROCESS_CPUTIME_ID);
	t->frames = sb_counter(p, offsetof(struct xs_stats, tx_frames));
	t->retransmits = sb_counter(p, offsetof(struct xs_stats, tcp_retransmits));
}

static void sb_stop(const struct sb_pair *p, struct sb_times *t)
{
	t->wall_s = sb_clock(CLOCK_MONOTONIC) - t->wall_s;
	t->cpu_s = sb_clock(CLOCK_PROCESS_CPUTIME_ID) - t->cpu_s;
	t->frames = sb_counter(p, offsetof(struct xs_stats, tx_frames)) - t->frames;
	t->retransmits = sb_counter(p, offsetof(struct xs_stats, tcp_retransmits)) - t->retransmits;
}

/* Side 0 sends bytes as fast as the stack takes them; side 1 reads and
 * checks the count. Both stacks run on this one thread (one core). */
static int sb_bulk(struct sb_pair *p, uint64_t bytes, struct sb_times *t)
{
	static uint8_t buf[SB_CHUNK];
	uint64_t sent = 0, rcvd = 0, rounds = 0;
	struct xs_tcp h[2];
	int rc;

	rc = sb_connect(p, SB_PORT_BULK, false, h);
	if (rc)
		return rc;
	memset(buf, 0x5a, sizeof(buf));
	sb_start(p, t);
	while (rcvd < bytes) {
		ssize_t r;

		while (sent < bytes) {
			size_t n = bytes - sent < SB_CHUNK ? (size_t)(bytes - sent) : SB_CHUNK;

			r = xs_tcp_send(p->st[0], h[0], buf, n);
			if (r <= 0)
				break;
			sent += (uint64_t)r;
		}
		if (sb_poll(p))
			return -EIO;
		while ((r = xs_tcp_recv(p->st[1], h[1], buf, sizeof(buf))) > 0)
			rcvd += (uint64_t)r;
		if (r == 0 || (r < 0 && r != -EAGAIN))
			return r ? (int)r : -EPIPE;
		if (++rounds > SB_ROUNDS_MAX)
			return -ETIMEDOUT;
	}
	sb_stop(p, t);
	sb_finish(p, h);
	return 0;
}

/* Side 0 sends size bytes, side 1 echoes them once whole, side 0 reads the
 * whole echo: one transaction, count times. */
static int sb_rr(struct sb_pair *p, uint64_t count, size_t size, struct sb_times *t)
{
	static uint8_t req[SB_MAX_SIZE], buf[SB_MAX_SIZE];
	uint64_t done, rounds = 0;
	struct xs_tcp h[2];
	int rc;

	rc = sb_connect(p, SB_PORT_RR, true, h);
	if (rc)
		return rc;
	memset(req, 0xa5, size);
	sb_start(p, t);
	for (done = 0; done < count; done++) {
		size_t got = 0, back = 0, echoed = 0;
		ssize_t r;

		if (xs_tcp_send(p->st[0], h[0], req, size) != (ssize_t)size)
			return -ENOBUFS;
		while (back < size) {
			if (sb_poll(p))
				return -EIO;
			while (got < size &&
			       (r = xs_tcp_recv(p->st[1], h[1], buf + got, size - got)) > 0)
				got += (size_t)r;
			if (got == size && echoed < size) {
				r = xs_tcp_send(p->st[1], h[1], buf + echoed, size - echoed);
				if (r > 0)
					echoed += (size_t)r;
			}
			while (back < size &&
			       (r = xs_tcp_recv(p->st[0], h[0], buf, size - back)) > 0)
				back += (size_t)r;
			if (++rounds > SB_ROUNDS_MAX)
				return -ETIMEDOUT;
		}
	}
	sb_stop(p, t);
	sb_finish(p, h);
	return 0;
}

/* --- connection rate ------------------------------------------------------
 * N connections from side 0 to a listener on side 1, k at once: connect,
 * SB_CONN_SIZE bytes each way, the client closes once the reply is in, the
 * server when it reads the end of the stream. */

struct sb_crun;

struct sb_cslot {
	struct sb_crun *r;
	struct xs_tcp h;
	uint32_t got;
	bool sent;
};

struct sb_sconn {
	uint32_t got;
	bool echoed;
};

struct sb_crun {
	struct sb_pair *p;
	struct xs_tcp lh;
	uint64_t n, started, done, epoch_end;
	unsigned inflight;
	int err;
	struct sb_cslot *slot;
	struct sb_sconn *srv; /* by server handle number */
	uint32_t nsrv;
};

static void sb_client_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx);

/* The next connection in slot s, if this epoch has one left. */
static void sb_conn_start(struct sb_crun *r, struct sb_cslot *s)
{
	struct xs_stack *st = r->p->st[0];
	struct xs_tcp_connect_opts o = {.nodelay = 1};

	if (r->started >= r->epoch_end)
		return;
	s->h = xs_tcp_connect_ex(st, sb_ips[1], SB_PORT_CONN, &o);
	if (s->h.id < 0) {
		r->err = s->h.id;
		return;
	}
	s->got = 0;
	s->sent = false;
	r->started++;
	r->inflight++;
	xs_tcp_set_event_cb(st, s->h, sb_client_cb, s);
}

static void sb_client_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	static const uint8_t req[SB_CONN_SIZE] = {0xa5};
	struct sb_cslot *s = ctx;
	struct sb_crun *r = s->r;
	uint8_t buf[SB_CONN_SIZE];
	ssize_t n;

	if (ev & (XS_EV_ERROR | XS_EV_HUP)) {
		r->err = xs_tcp_error(st, h) ? xs_tcp_error(st, h) : -ECONNRESET;
		return;
	}
	if ((ev & XS_EV_WRITABLE) && !s->sent) {
		if (xs_tcp_send(st, h, req, sizeof(req)) != (ssize_t)sizeof(req)) {
			r->err = -ENOBUFS;
			return;
		}
		s->sent = true;
	}
	if (!(ev & XS_EV_READABLE))
		return;
	while (s->got < SB_CONN_SIZE &&
	       (n = xs_tcp_recv(st, h, buf, SB_CONN_SIZE - s->got)) > 0)
		s->got += (uint32_t)n;
	if (s->got < SB_CONN_SIZE)
		return;
	xs_tcp_close(st, h);
	r->inflight--;
	r->done++;
	sb_conn_start(r, s);
}

static void sb_server_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct sb_crun *r = ctx;
	struct sb_sconn *s = &r->srv[h.id];
	uint8_t buf[SB_CONN_SIZE];
	ssize_t n;

	(void)ev;
	while ((n = xs_tcp_recv(st, h, buf, sizeof(buf))) > 0) {
		s->got += (uint32_t)n;
		if (s->got == SB_CONN_SIZE && !s->echoed) {
			memset(buf, 0x5a, sizeof(buf));
			if (xs_tcp_send(st, h, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				r->err = -ENOBUFS;
			s->echoed = true;
		}
	}
	if (n == 0 || (n < 0 && n != -EAGAIN)) {
		if (n < 0 || !s->echoed)
			r->err = n < 0 ? (int)n : -EPIPE;
		xs_tcp_close(st, h);
	}
}

static void sb_listen_cb(struct xs_stack *st, struct xs_tcp l, unsigned ev, void *ctx)
{
	struct sb_crun *r = ctx;
	struct xs_tcp h;

	(void)ev;
	while ((h = xs_tcp_accept(st, l, NULL, NULL)).id >= 0) {
		if ((uint32_t)h.id >= r->nsrv) {
			r->err = -EMFILE;
			xs_tcp_abort(st, h);
			continue;
		}
		r->srv[h.id] = (struct sb_sconn){0};
		xs_tcp_set_event_cb(st, h, sb_server_cb, r);
	}
}

/* Polls until nothing is in flight and each stack holds at most so many
 * connections (listeners count): 0, or the run's error. */
static int sb_conn_wait(struct sb_crun *r, uint64_t client_max, uint64_t server_max)
{
	uint64_t rounds;

	for (rounds = 0; rounds < SB_ROUNDS_MAX; rounds++) {
		if (r->err)
			return r->err;
		if (!r->inflight && xs_stack_stats(r->p->st[0])->tcp_conns <= client_max &&
		    xs_stack_stats(r->p->st[1])->tcp_conns <= server_max)
			return 0;
		if (sb_poll(r->p))
			return -EIO;
	}
	return -ETIMEDOUT;
}

/* Connections run in epochs of SB_CONN_EPOCH: after each, every server
 * connection is closed and every client one in TIME-WAIT; the clock then
 * jumps past 2*MSL so that those end and their ports are free again (a
 * client from one address has ~28000 ports, and TIME-WAIT lasts 60 s).
 * Ending them is part of what is timed. */
static int sb_conn(struct sb_pair *p, uint64_t n, unsigned k, struct sb_times *t)
{
	struct sb_crun r = {.p = p, .n = n, .nsrv = 1u << 16};
	unsigned i;
	int rc;

	r.slot = calloc(k, sizeof(*r.slot));
	r.srv = calloc(r.nsrv, sizeof(*r.srv));
	if (!r.slot || !r.srv) {
		rc = -ENOMEM;
		goto out;
	}
	r.lh = xs_tcp_listen(p->st[1], SB_PORT_CONN, 2 * (int)k + 16);
	if (r.lh.id < 0) {
		rc = r.lh.id;
		goto out;
	}
	xs_tcp_set_event_cb(p->st[1], r.lh, sb_listen_cb, &r);
	sb_start(p, t);
	while (r.done < n) {
		r.epoch_end = r.started + SB_CONN_EPOCH < n ? r.started + SB_CONN_EPOCH : n;
		for (i = 0; i < k; i++) {
			r.slot[i].r = &r;
			sb_conn_start(&r, &r.slot[i]);
		}
		/* Only the listener left on the server: every client is in
		 * TIME-WAIT (its ACK of the server's FIN closed the server's). */
		rc = sb_conn_wait(&r, UINT64_MAX, 1);
		if (rc)
			goto out;
		p->skew += SB_TIME_WAIT_JUMP;
		rc = sb_conn_wait(&r, 0, 1);
		if (rc)
			goto out;
	}
	sb_stop(p, t);
	xs_tcp_close(p->st[1], r.lh);
	rc = 0;
out:
	free(r.slot);
	free(r.srv);
	return rc;
}

static void sb_print_times(const char *name, const struct sb_times *t, const char *extra)
{
	printf("\"%s\": {%s\"wall_s\": %.6f, \"cpu_s\": %.6f, \"frames\": %llu, "
	       "\"retransmits\": %llu",
	       name, extra, t->wall_s, t->cpu_s, (unsigned long long)t->frames,
	       (unsigned long long)t->retransmits);
}

static int sb_usage(FILE *f, int rc)
{
	fprintf(f, "usage: stack_bench [--bytes N] [--transactions N] [--size B] [--conns N]\n"
		   "                   [--inflight K] [--only bulk|rr|conn]\n"
		   "Two stacks over linked in-memory devices in this one process (one core):\n"
		   "a TCP bulk transfer of N bytes (default 1 GiB), N request/response\n"
		   "transactions of B bytes each way (default 100000 of 64 B), and N\n"
		   "connections (default 20000; connect, 64 B each way, close) one at a time\n"
		   "and 64 at once, or K at once with --inflight. Prints JSON.\n");
	return rc;
}

static int sb_parse_u64(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
		fprintf(stderr, "stack_bench: invalid %s '%s': expected %llu-%llu\n", name, v,
			(unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bytes", required_argument, NULL, 'b'}, {"transactions", required_argument, NULL, 't'},
	    {"size", required_argument, NULL, 's'},  {"only", required_argument, NULL, 'o'},
	    {"conns", required_argument, NULL, 'c'}, {"inflight", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},	     {0},
	};
	uint64_t bytes = 1ull << 30, count = 100000, size = 64, conns = 20000, k = 0;
	bool do_bulk = true, do_rr = true, do_conn = true;
	struct sb_times tb = {0}, tr = {0}, tc[2] = {{0}};
	unsigned ks[2] = {1, 64}, nk = 2, j;
	struct sb_pair p;
	char extra[128];
	int o, rc = 0;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b':
			rc = sb_parse_u64("--bytes", optarg, 1, 1ull << 40, &bytes);
			break;
		case 't':
			rc = sb_parse_u64("--transactions", optarg, 1, 1000000000ull, &count);
			break;
		case 's':
			rc = sb_parse_u64("--size", optarg, 1, SB_MAX_SIZE, &size);
			break;
		case 'c':
			rc = sb_parse_u64("--conns", optarg, 1, 1000000000ull, &conns);
			break;
		case 'k':
			rc = sb_parse_u64("--inflight", optarg, 1, 1024, &k);
			break;
		case 'o':
			do_bulk = !strcmp(optarg, "bulk");
			do_rr = !strcmp(optarg, "rr");
			do_conn = !strcmp(optarg, "conn");
			if (!do_bulk && !do_rr && !do_conn) {
				fprintf(stderr,
					"stack_bench: invalid --only '%s': expected bulk, "
					"rr or conn\n",
					optarg);
				rc = -EINVAL;
			}
			break;
		case 'h':
			return sb_usage(stdout, 0);
		default:
			fprintf(stderr,
				"stack_bench: unknown or incomplete option '%s' (--help for "
				"usage)\n",
				argv[optind - 1]);
			return 2;
		}
		if (rc)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "stack_bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (k) {
		ks[0] = (unsigned)k;
		nk = 1;
	}
	rc = sb_open(&p);
	if (!rc && do_bulk)
		rc = sb_bulk(&p, bytes, &tb);
	if (!rc && do_rr)
		rc = sb_rr(&p, count, (size_t)size, &tr);
	for (j = 0; !rc && do_conn && j < nk; j++)
		rc = sb_conn(&p, conns, ks[j], &tc[j]);
	if (rc) {
		fprintf(stderr, "stack_bench: %s\n", strerror(-rc));
		sb_close(&p);
		return 1;
	}
	printf("{");
	if (do_bulk) {
		snprintf(extra, sizeof(extra), "\"bytes\": %llu, ", (unsigned long long)bytes);
		sb_print_times("bulk", &tb, extra);
		printf(", \"gbit_per_s\": %.3f, \"gbit_per_core\": %.3f}",
		       tb.wall_s > 0 ? bytes * 8 / tb.wall_s / 1e9 : 0.0,
		       tb.cpu_s > 0 ? bytes * 8 / tb.cpu_s / 1e9 : 0.0);
	}
	if (do_rr) {
		snprintf(extra, sizeof(extra), "\"transactions\": %llu, \"size\": %llu, ",
			 (unsigned long long)count, (unsigned long long)size);
		printf("%s", do_bulk ? ",\n " : "");
		sb_print_times("rr", &tr, extra);
		printf(", \"ns_per_transaction\": %.1f, \"cpu_ns_per_transaction\": %.1f}",
		       tr.wall_s * 1e9 / (double)count, tr.cpu_s * 1e9 / (double)count);
	}
	for (j = 0; do_conn && j < nk; j++) {
		char name[32];

		snprintf(name, sizeof(name), "conn_%u", ks[j]);
		snprintf(extra, sizeof(extra), "\"conns\": %llu, \"inflight\": %u, ",
			 (unsigned long long)conns, ks[j]);
		printf("%s", do_bulk || do_rr || j ? ",\n " : "");
		sb_print_times(name, &tc[j], extra);
		printf(", \"conn_per_s\": %.1f, \"cpu_ns_per_conn\": %.1f}",
		       tc[j].wall_s > 0 ? (double)conns / tc[j].wall_s : 0.0,
		       tc[j].cpu_s * 1e9 / (double)conns);
	}
	printf("}\n");
	sb_close(&p);
	return 0;
}
