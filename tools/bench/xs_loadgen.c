/* TCP load generator for benchmarks: connection rate with latency percentiles
 * (conn) and many idle connections from several source addresses (hold). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadgen.h"

/* ------------------------------------------------------------------ output */

static uint64_t err_total(const struct lg_result *r)
{
	uint64_t n = 0;

	for (int i = 0; i < LG_ERR_MAX; i++)
		n += r->err[i];
	return n;
}

static void print_errors_text(FILE *f, const struct lg_result *r)
{
	const char *sep = " (";

	fprintf(f, ", errors %llu", (unsigned long long)err_total(r));
	for (int i = 0; i < LG_ERR_MAX; i++) {
		if (!r->err[i])
			continue;
		fprintf(f, "%s%s %llu", sep, lg_err_name(i), (unsigned long long)r->err[i]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc(')', f);
}

static void print_latency_text(FILE *f, const struct lg_hist *h)
{
	if (!h->n)
		return;
	fprintf(f, "; latency us p50 %llu p90 %llu p99 %llu p99.9 %llu max %llu",
		(unsigned long long)lg_hist_pct(h, 500), (unsigned long long)lg_hist_pct(h, 900),
		(unsigned long long)lg_hist_pct(h, 990), (unsigned long long)lg_hist_pct(h, 999),
		(unsigned long long)h->max);
}

static void print_text(const struct lg_cfg *cfg, const char *dst, const struct lg_result *r)
{
	if (cfg->mode == LG_CONN) {
		double rate = r->elapsed_s > 0 ? (double)r->completed / r->elapsed_s : 0;

		printf("conn %s: %llu connections in %.3f s, %.0f conn/s, %u clients", dst,
		       (unsigned long long)r->completed, r->elapsed_s, rate, cfg->clients);
	} else {
		printf("hold %s: %llu/%u established in %.3f s from %u source%s, %llu held for "
		       "%.1f s, lost %llu",
		       dst, (unsigned long long)r->completed, cfg->conns, r->elapsed_s,
		       cfg->nsrc ? cfg->nsrc : 1, cfg->nsrc > 1 ? "s" : "",
		       (unsigned long long)r->held_end, r->held_s, (unsigned long long)r->lost);
	}
	if (r->unfinished)
		printf(", unfinished %llu", (unsigned long long)r->unfinished);
	print_errors_text(stdout, r);
	print_latency_text(stdout, &r->lat);
	putchar('\n');
}

static void print_json(const struct lg_cfg *cfg, const char *dst, const struct lg_result *r)
{
	const struct lg_hist *h = &r->lat;
	char ip[INET_ADDRSTRLEN];

	printf("{\"mode\": \"%s\", \"dst\": \"%s\", \"procs\": %u, \"size\": %u, \"sources\": [",
	       cfg->mode == LG_CONN ? "conn" : "hold", dst, cfg->procs, cfg->size);
	for (unsigned i = 0; i < cfg->nsrc; i++)
		printf("%s\"%s\"", i ? ", " : "",
		       inet_ntop(AF_INET, &cfg->src[i].sin_addr, ip, sizeof(ip)));
	printf("],\n \"attempted\": %llu, \"completed\": %llu, \"unfinished\": %llu,\n",
	       (unsigned long long)r->attempted, (unsigned long long)r->completed,
	       (unsigned long long)r->unfinished);
	if (cfg->mode == LG_CONN) {
		double rate = r->elapsed_s > 0 ? (double)r->completed / r->elapsed_s : 0;

		printf(" \"clients\": %u, \"elapsed_s\": %.6f, \"conn_per_s\": %.1f,\n",
		       cfg->clients, r->elapsed_s, rate);
	} else {
		printf(" \"requested\": %u, \"established\": %llu, \"ramp_s\": %.6f, "
		       "\"held_s\": %.3f, \"held_at_end\": %llu, \"lost\": %llu,\n",
		       cfg->conns, (unsigned long long)r->completed, r->elapsed_s, r->held_s,
		       (unsigned long long)r->held_end, (unsigned long long)r->lost);
	}
	printf(" \"bytes_tx\": %llu, \"bytes_rx\": %llu,\n \"errors\": {\"total\": %llu",
	       (unsigned long long)r->bytes_tx, (unsigned long long)r->bytes_rx,
	       (unsigned long long)err_total(r));
	for (int i = 0; i < LG_ERR_MAX; i++)
		printf(", \"%s\": %llu", lg_err_name(i), (unsigned long long)r->err[i]);
	printf("},\n \"latency_us\": ");
	if (!h->n) {
		printf("null}\n");
		return;
	}
	printf("{\"n\": %llu, \"min\": %llu, \"mean\": %.1f, \"p50\": %llu, \"p90\": %llu, "
	       "\"p99\": %llu, \"p999\": %llu, \"max\": %llu}}\n",
	       (unsigned long long)h->n, (unsigned long long)h->min, (double)h->sum / (double)h->n,
	       (unsigned long long)lg_hist_pct(h, 500), (unsigned long long)lg_hist_pct(h, 900),
	       (unsigned long long)lg_hist_pct(h, 990), (unsigned long long)lg_hist_pct(h, 999),
	       (unsigned long long)h->max);
}

/* The hold is in place: one line on stderr (stdout stays the report). */
static void print_ready(const struct lg_cfg *cfg, const struct lg_result *r)
{
	fprintf(stderr, "xs_loadgen: hold: %llu/%u established, holding for %u s (SIGTERM ends)\n",
		(unsigned long long)r->completed, cfg->conns, cfg->duration);
	fflush(stderr);
}

static void result_add(struct lg_result *a, const struct lg_result *b)
{
	a->attempted += b->attempted;
	a->completed += b->completed;
	a->unfinished += b->unfinished;
	a->held_end += b->held_end;
	a->lost += b->lost;
	for (int i = 0; i < LG_ERR_MAX; i++)
		a->err[i] += b->err[i];
	a->bytes_tx += b->bytes_tx;
	a->bytes_rx += b->bytes_rx;
	if (b->elapsed_s > a->elapsed_s)
		a->elapsed_s = b->elapsed_s;
	if (b->held_s > a->held_s)
		a->held_s = b->held_s;
	lg_hist_merge(&a->lat, &b->lat);
}

/* ------------------------------------------------- processes (--procs P) */

enum { LG_MSG_READY = 1, LG_MSG_FINAL = 2 };

struct lg_msg {
	uint32_t kind;
	struct lg_result r;
};

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1: a whole message, 0: end of file, -1: error or a torn message. */
static int read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 && !got ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

static void ready_print(const struct lg_result *r, void *arg)
{
	print_ready(arg, r);
}

static void ready_pipe(const struct lg_result *r, void *arg)
{
	struct lg_msg m = {.kind = LG_MSG_READY, .r = *r};

	write_full(*(int *)arg, &m, sizeof(m));
}

/* Process i's share of a total split over n processes. */
static uint64_t share(uint64_t total, unsigned n, unsigned i)
{
	return total / n + (i < total % n);
}

static unsigned worker_slots(const struct lg_cfg *cfg, unsigned i)
{
	return (unsigned)share(cfg->mode == LG_CONN ? cfg->clients : cfg->conns, cfg->procs, i);
}

static void child_run(const struct lg_cfg *cfg, unsigned i, int wfd)
{
	struct lg_msg m = {.kind = LG_MSG_FINAL};
	unsigned src0 = 0;

	/* Source addresses go round-robin across all processes' connections. */
	for (unsigned j = 0; j < i; j++)
		src0 += worker_slots(cfg, j);
	if (lg_worker_run(cfg, worker_slots(cfg, i), share(cfg->count, cfg->procs, i), src0,
			  ready_pipe, &wfd, &m.r) < 0)
		_exit(1);
	_exit(write_full(wfd, &m, sizeof(m)) < 0 ? 1 : 0);
}

/* Forks the workers, forwards SIGINT/SIGTERM to them, prints the ready line
 * once all of them hold their connections, and adds up their results. */
static int procs_fork(const struct lg_cfg *cfg, struct lg_result *res)
{
	pid_t pid[LG_MAX_PROCS];
	int rfd[LG_MAX_PROCS], sfd, rc = 0;
	bool done[LG_MAX_PROCS] = {false}, ready[LG_MAX_PROCS] = {false};
	unsigned nforked = 0, ndone = 0, nready = 0;
	struct lg_result ready_sum;
	struct lg_msg *m = malloc(sizeof(*m));
	sigset_t mask;

	lg_hist_init(&ready_sum.lat);
	memset(&ready_sum, 0, offsetof(struct lg_result, lat));
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (!m || sfd < 0) {
		perror("xs_loadgen: setup");
		free(m);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	for (unsigned i = 0; i < cfg->procs; i++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0 || (pid[i] = fork()) < 0) {
			perror("xs_loadgen: fork");
			rc = -1;
			break;
		}
		if (pid[i] == 0) {
			close(sfd);
			close(p[0]);
			for (unsigned j = 0; j < i; j++)
				close(rfd[j]);
			child_run(cfg, i, p[1]);
		}
		close(p[1]);
		rfd[i] = p[0];
		nforked++;
	}
	if (rc < 0) /* stop those already running; their results still count */
		for (unsigned i = 0; i < nforked; i++)
			kill(pid[i], SIGTERM);
	while (ndone < nforked) {
		struct pollfd pfd[LG_MAX_PROCS + 1];
		unsigned idx[LG_MAX_PROCS + 1], n = 0;

		pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (unsigned i = 0; i < nforked; i++) {
			if (done[i])
				continue;
			idx[n] = i;
			pfd[n++] = (struct pollfd){.fd = rfd[i], .events = POLLIN};
		}
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) > 0)
				for (unsigned i = 0; i < nforked; i++)
					if (!done[i])
						kill(pid[i], SIGTERM);
		}
		for (unsigned k = 1; k < n; k++) {
			unsigned i = idx[k];

			if (!pfd[k].revents)
				continue;
			if (read_full(rfd[i], m, sizeof(*m)) <= 0) {
				fprintf(stderr,
					"xs_loadgen: worker %u (pid %d) ended without a result\n",
					i, (int)pid[i]);
				rc = -1;
				done[i] = true;
				ndone++;
				continue;
			}
			if (m->kind == LG_MSG_READY && !ready[i]) {
				ready[i] = true;
				result_add(&ready_sum, &m->r);
				if (++nready == cfg->procs)
					print_ready(cfg, &ready_sum);
				continue;
			}
			result_add(res, &m->r);
			done[i] = true;
			ndone++;
		}
	}
	for (unsigned i = 0; i < nforked; i++) {
		close(rfd[i]);
		waitpid(pid[i], NULL, 0);
	}
	close(sfd);
	free(m);
	return rc;
}

static int procs_run(const struct lg_cfg *cfg, struct lg_result *res)
{
	memset(res, 0, sizeof(*res));
	lg_hist_init(&res->lat);
	if (cfg->procs == 1)
		return lg_worker_run(cfg, worker_slots(cfg, 0), cfg->count, 0, ready_print,
				     (void *)cfg, res);
	return procs_fork(cfg, res);
}

/* ------------------------------------------------------------ command line */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xs_loadgen conn --dst IP:PORT [--clients N] [--count N] [--duration S]\n"
		"                       [--size B] [--timeout MS] [--src ADDR]... [--rst]\n"
		"                       [--procs P] [--json]\n"
		"       xs_loadgen hold --dst IP:PORT --conns M [--src ADDR]... [--duration S]\n"
		"                       [--ramp N] [--size B] [--timeout MS] [--rst] [--procs P]\n"
		"                       [--json]\n"
		"conn: N clients each connect, send B bytes, read the B-byte echo, close, again,\n"
		"      for S seconds (default 10) or N connections in all; prints conn/s,\n"
		"      errors by kind and connect-to-echo latency percentiles in us.\n"
		"hold: opens M connections round-robin over the --src addresses, checks each\n"
		"      with one echo, holds them S seconds (default 10) or until SIGTERM/SIGINT,\n"
		"      prints how many were established and held, then closes them.\n"
		"--rst: close with a RST (SO_LINGER 0) instead of a FIN, no TIME-WAIT.\n"
		"Exit: 0 all well, 1 some connection failed (or was lost while held), 2 usage.\n");
}

static int bad_value(const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "xs_loadgen: %s: '%s' is not %s\n", opt, v, want);
	return 2;
}

static int parse_u64(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long x;
	char want[80];

	errno = 0;
	x = strtoull(v, &end, 10);
	if (!*v || *v == '-' || *end || errno || x < lo || x > hi) {
		snprintf(want, sizeof(want), "a number from %llu to %llu", (unsigned long long)lo,
			 (unsigned long long)hi);
		return bad_value(opt, v, want);
	}
	*out = x;
	return 0;
}

static int parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t x;
	int rc = parse_u64(opt, v, lo, hi, &x);

	if (!rc)
		*out = (unsigned)x;
	return rc;
}

static int parse_dst(const char *v, struct sockaddr_in *sa)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(v, ':');
	unsigned port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || colon - v >= (ptrdiff_t)sizeof(ip))
		return bad_value("--dst", v, "IPV4:PORT");
	memcpy(ip, v, (size_t)(colon - v));
	ip[colon - v] = '\0';
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return bad_value("--dst", v, "IPV4:PORT");
	if (parse_uint("--dst port", colon + 1, 1, 65535, &port))
		return 2;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int cli_parse(int argc, char **argv, struct lg_cfg *cfg)
{
	static const struct option opts[] = {
	    {"dst", required_argument, NULL, 'd'},
	    {"clients", required_argument, NULL, 'c'},
	    {"count", required_argument, NULL, 'n'},
	    {"conns", required_argument, NULL, 'm'},
	    {"duration", required_argument, NULL, 't'},
	    {"size", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 'w'},
	    {"ramp", required_argument, NULL, 'r'},
	    {"src", required_argument, NULL, 'S'},
	    {"procs", required_argument, NULL, 'p'},
	    {"rst", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool have_dst = false, have_dur = false;
	int o, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->procs = 1;
	cfg->clients = 16;
	cfg->ramp = 256;
	cfg->size = 64;
	cfg->duration = 10;
	cfg->timeout = 5000;
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return -1; /* handled: exit 0 below */
	}
	if (argc < 2 || (strcmp(argv[1], "conn") && strcmp(argv[1], "hold"))) {
		fprintf(stderr, "xs_loadgen: first argument must be the mode, conn or hold "
				"(--help for usage)\n");
		return 2;
	}
	cfg->mode = strcmp(argv[1], "conn") ? LG_HOLD : LG_CONN;
	optind = 2;
	opterr = 0;
	while (!rc && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			rc = parse_dst(optarg, &cfg->dst);
			have_dst = !rc;
			break;
		case 'c':
			rc = parse_uint("--clients", optarg, 1, LG_MAX_CLIENTS, &cfg->clients);
			break;
		case 'n':
			rc = parse_u64("--count", optarg, 1, 1000000000ull, &cfg->count);
			break;
		case 'm':
			rc = parse_uint("--conns", optarg, 1, LG_MAX_CONNS, &cfg->conns);
			break;
		case 't':
			rc = parse_uint("--duration", optarg, 1, LG_MAX_SECONDS, &cfg->duration);
			have_dur = true;
			break;
		case 's':
			rc = parse_uint("--size", optarg, 1, LG_MAX_SIZE, &cfg->size);
			break;
		case 'w':
			rc = parse_uint("--timeout", optarg, 1, 60000, &cfg->timeout);
			break;
		case 'r':
			rc = parse_uint("--ramp", optarg, 1, 65536, &cfg->ramp);
			break;
		case 'p':
			rc = parse_uint("--procs", optarg, 1, LG_MAX_PROCS, &cfg->procs);
			break;
		case 'S':
			if (cfg->nsrc == LG_MAX_SRC) {
				fprintf(stderr, "xs_loadgen: --src: at most %d addresses\n",
					LG_MAX_SRC);
				rc = 2;
				break;
			}
			cfg->src[cfg->nsrc].sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &cfg->src[cfg->nsrc].sin_addr) != 1)
				rc = bad_value("--src", optarg, "an IPv4 address");
			cfg->nsrc++;
			break;
		case 'R':
			cfg->rst = true;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			fprintf(stderr,
				"xs_loadgen: unknown or incomplete option '%s' (--help for "
				"usage)\n",
				argv[optind - 1]);
			rc = 2;
		}
	}
	if (rc)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "xs_loadgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!have_dst) {
		fprintf(stderr, "xs_loadgen: --dst IP:PORT is required\n");
		return 2;
	}
	if (cfg->mode == LG_HOLD && !cfg->conns) {
		fprintf(stderr, "xs_loadgen: hold: --conns M is required\n");
		return 2;
	}
	if (cfg->mode == LG_CONN && cfg->count && !have_dur)
		cfg->duration = LG_MAX_SECONDS; /* --count alone: until done, bounded */
	if ((cfg->mode == LG_CONN ? cfg->clients : cfg->conns) < cfg->procs ||
	    (cfg->count && cfg->count < cfg->procs)) {
		fprintf(stderr, "xs_loadgen: --procs %u: fewer %s than processes\n", cfg->procs,
			cfg->mode == LG_CONN ? "clients or connections" : "connections");
		return 2;
	}
	return 0;
}

/* Raises the descriptor limit to the hard limit and checks that each
 * process's share of connections fits under it. */
static int nofile_raise(const struct lg_cfg *cfg)
{
	struct rlimit rl;
	unsigned need = worker_slots(cfg, 0) + LG_FD_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
		uint64_t per = rl.rlim_cur > LG_FD_SPARE ? rl.rlim_cur - LG_FD_SPARE : 1;
		uint64_t total = cfg->mode == LG_CONN ? cfg->clients : cfg->conns;

		fprintf(stderr,
			"xs_loadgen: %u connections per process need %u descriptors, "
			"RLIMIT_NOFILE allows %llu: use --procs %llu\n",
			need - LG_FD_SPARE, need, (unsigned long long)rl.rlim_cur,
			(unsigned long long)((total + per - 1) / per));
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct lg_cfg cfg;
	struct lg_result res;
	char dst[32];
	sigset_t mask;
	int rc;

	rc = cli_parse(argc, argv, &cfg);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = nofile_raise(&cfg);
	if (rc)
		return rc;
	snprintf(dst, sizeof(dst), "%s:%u", inet_ntoa(cfg.dst.sin_addr), ntohs(cfg.dst.sin_port));
	/* Signals arrive through signalfd (the workers'), never as handlers. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (procs_run(&cfg, &res) < 0)
		return 1;
	if (cfg.json)
		print_json(&cfg, dst, &res);
	else
		print_text(&cfg, dst, &res);
	if (cfg.mode == LG_HOLD)
		return res.completed == cfg.conns && !res.lost && !err_total(&res) ? 0 : 1;
	return res.completed && !err_total(&res) ? 0 : 1;
}
