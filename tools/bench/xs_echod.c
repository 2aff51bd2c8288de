/* Kernel-side TCP echo server for the benchmarks' kernel column: the same design
 * as xs_loadgen (epoll, non-blocking, one thread), --procs N with SO_REUSEPORT. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ED_MAX_PROCS 64
#define ED_BUF 16384
#define ED_EVENTS 256
#define ED_ACCEPT_BATCH 64
#define ED_FD_SPARE 16
#define ED_MAX_SECONDS 86400
#define ED_MAX_FDS (1u << 22) /* descriptor table bound when the limit is higher */

struct ed_cfg {
	struct sockaddr_in addr;
	unsigned procs;
	unsigned duration;  /* s; the server stops by itself after it */
	unsigned max_conns; /* per process; 0 = what RLIMIT_NOFILE allows */
	unsigned backlog;
};

/* A connection; bytes that the socket would not take wait in `pend` and
 * reading stops until they are gone (so at most ED_BUF bytes per connection). */
struct ed_conn {
	int fd;
	bool eof;
	uint32_t pend_off, pend_len;
	uint8_t *pend;
};

struct ed_stats {
	uint64_t accepted, closed, peak, bytes, accept_full, accept_err;
};

struct ed_server {
	const struct ed_cfg *cfg;
	int ep, lfd, sfd;
	bool listening; /* the listener is in the epoll set */
	unsigned nconns, max_conns;
	struct ed_conn **byfd; /* open connections by descriptor, freed at exit */
	unsigned nfds;
	uint8_t buf[ED_BUF];
	struct ed_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void listen_watch(struct ed_server *s, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->lfd};

	if (on == s->listening)
		return;
	if (epoll_ctl(s->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->lfd, &ev) == 0)
		s->listening = on;
}

static void conn_end(struct ed_server *s, struct ed_conn *c)
{
	s->byfd[c->fd] = NULL;
	close(c->fd);
	free(c->pend);
	free(c);
	s->nconns--;
	s->st.closed++;
	listen_watch(s, true); /* room again, if accepting had paused */
}

static void server_accept(struct ed_server *s)
{
	for (int i = 0; i < ED_ACCEPT_BATCH; i++) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct ed_conn *c;
		int fd;

		if (s->nconns >= s->max_conns) {
			/* Full: the backlog holds the rest until one closes. */
			s->st.accept_full++;
			listen_watch(s, false);
			return;
		}
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				s->st.accept_full++;
				if (s->nconns)
					listen_watch(s, false);
			} else if (errno != EAGAIN && errno != EINTR) {
				s->st.accept_err++;
			}
			return;
		}
		c = calloc(1, sizeof(*c));
		ev.data.ptr = c;
		if (!c || (unsigned)fd >= s->nfds || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c);
			close(fd);
			s->st.accept_err++;
			continue;
		}
		c->fd = fd;
		s->byfd[fd] = c;
		s->nconns++;
		s->st.accepted++;
		if (s->nconns > s->st.peak)
			s->st.peak = s->nconns;
	}
}

/* Writes what is pending; 1 when all of it went, 0 when the socket is full,
 * -1 when the connection failed. */
static int conn_flush(struct ed_server *s, struct ed_conn *c)
{
	while (c->pend_off < c->pend_len) {
		ssize_t n =
		    send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->pend_off += (uint32_t)n;
	}
	free(c->pend);
	c->pend = NULL;
	c->pend_off = c->pend_len = 0;
	return 1;
}

static void conn_readable(struct ed_server *s, struct ed_conn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

	for (int round = 0; round < 16; round++) {
		ssize_t n = recv(c->fd, s->buf, sizeof(s->buf), 0), w;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_end(s, c);
			return;
		}
		if (n == 0) {
			conn_end(s, c); /* all echoed: the close is our FIN */
			return;
		}
		s->st.bytes += (uint64_t)n;
		w = send(c->fd, s->buf, (size_t)n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			conn_end(s, c);
			return;
		}
		if (w < 0)
			w = 0;
		if (w == n)
			continue;
		/* The socket is full: keep the rest, wait until it drains. */
		c->pend = malloc((size_t)(n - w));
		if (!c->pend || epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
			conn_end(s, c);
			return;
		}
		memcpy(c->pend, s->buf + w, (size_t)(n - w));
		c->pend_len = (uint32_t)(n - w);
		return;
	}
}

static void conn_writable(struct ed_server *s, struct ed_conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	int rc = conn_flush(s, c);

	if (rc < 0 || (rc > 0 && epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0))
		conn_end(s, c);
	else if (rc > 0)
		conn_readable(s, c);
}

/* One process: serves its listener until the duration ends or a signal. */
static int server_run(const struct ed_cfg *cfg, int lfd, unsigned idx)
{
	struct ed_server *s = calloc(1, sizeof(*s));
	struct epoll_event sev = {.events = EPOLLIN}, ev[ED_EVENTS];
	uint64_t end = now_ns() + (uint64_t)cfg->duration * 1000000000ull;
	struct rlimit rl = {0};
	sigset_t mask;
	bool stop = false;

	if (!s)
		return 1;
	s->cfg = cfg;
	s->lfd = lfd;
	getrlimit(RLIMIT_NOFILE, &rl);
	s->max_conns = cfg->max_conns;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > ED_MAX_FDS)
		rl.rlim_cur = ED_MAX_FDS;
	if (!s->max_conns || s->max_conns > rl.rlim_cur - ED_FD_SPARE)
		s->max_conns = (unsigned)(rl.rlim_cur - ED_FD_SPARE);
	s->nfds = (unsigned)rl.rlim_cur;
	s->byfd = calloc(s->nfds, sizeof(*s->byfd));
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sev.data.ptr = &s->sfd;
	if (!s->byfd || s->ep < 0 || s->sfd < 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sfd, &sev) < 0) {
		perror("xs_echod: setup");
		return 1;
	}
	listen_watch(s, true);
	while (!stop) {
		uint64_t now = now_ns();
		int n;

		if (now >= end)
			break;
		n = epoll_wait(s->ep, ev, ED_EVENTS, (int)((end - now) / 1000000 + 1));
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &s->sfd) {
				stop = true;
			} else if (p == &s->lfd) {
				server_accept(s);
			} else {
				struct ed_conn *c = p;

				if (c->pend)
					conn_writable(s, c);
				else
					conn_readable(s, c);
			}
		}
	}
	fprintf(stderr,
		"xs_echod[%u]: accepted %llu, closed %llu, open %u, peak %llu, echoed %llu bytes, "
		"accept paused (full) %llu, accept errors %llu\n",
		idx, (unsigned long long)s->st.accepted, (unsigned long long)s->st.closed,
		s->nconns, (unsigned long long)s->st.peak, (unsigned long long)s->st.bytes,
		(unsigned long long)s->st.accept_full, (unsigned long long)s->st.accept_err);
	for (unsigned fd = 0; fd < s->nfds; fd++)
		if (s->byfd[fd])
			conn_end(s, s->byfd[fd]);
	close(s->sfd);
	close(s->ep);
	free(s->byfd);
	free(s);
	return 0;
}

static int listener_open(const struct ed_cfg *cfg)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->addr, sizeof(cfg->addr)) < 0 ||
	    listen(fd, (int)cfg->backlog) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (!*v || *v == '-' || *end || errno || x < lo || x > hi) {
		fprintf(stderr, "xs_echod: %s: '%s' is not a number from %u to %u\n", opt, v, lo,
			hi);
		return 2;
	}
	*out = (unsigned)x;
	return 0;
}

static int cli_parse(int argc, char **argv, struct ed_cfg *cfg)
{
	static const struct option opts[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},
	    {"procs", required_argument, NULL, 'P'},
	    {"duration", required_argument, NULL, 't'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {"backlog", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned port = 0;
	int o, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr.sin_family = AF_INET;
	cfg->procs = 1;
	cfg->duration = 600;
	cfg->backlog = 4096;
	opterr = 0;
	while (!rc && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &cfg->addr.sin_addr) != 1) {
				fprintf(stderr, "xs_echod: --addr: '%s' is not an IPv4 address\n",
					optarg);
				rc = 2;
			}
			break;
		case 'p':
			rc = parse_uint("--port", optarg, 1, 65535, &port);
			break;
		case 'P':
			rc = parse_uint("--procs", optarg, 1, ED_MAX_PROCS, &cfg->procs);
			break;
		case 't':
			rc = parse_uint("--duration", optarg, 1, ED_MAX_SECONDS, &cfg->duration);
			break;
		case 'm':
			rc = parse_uint("--max-conns", optarg, 1, 10000000, &cfg->max_conns);
			break;
		case 'b':
			rc = parse_uint("--backlog", optarg, 1, 65535, &cfg->backlog);
			break;
		case 'h':
			printf(
			    "usage: xs_echod --port PORT [--addr IPV4] [--procs N] [--duration S]\n"
			    "                [--max-conns N] [--backlog N]\n"
			    "Echoes every TCP connection's bytes back and closes after the peer's "
			    "FIN.\n"
			    "N processes share the port (SO_REUSEPORT); each serves up to "
			    "--max-conns\n"
			    "(default: RLIMIT_NOFILE, raised to its hard limit) and stops after S "
			    "s\n"
			    "(default 600) or SIGTERM/SIGINT.\n");
			return -1;
		default:
			fprintf(stderr, "xs_echod: unknown or incomplete option '%s' (--help)\n",
				argv[optind - 1]);
			rc = 2;
		}
	}
	if (!rc && optind < argc) {
		fprintf(stderr, "xs_echod: unexpected argument '%s'\n", argv[optind]);
		rc = 2;
	}
	if (!rc && !port) {
		fprintf(stderr, "xs_echod: --port PORT is required\n");
		rc = 2;
	}
	cfg->addr.sin_port = htons((uint16_t)port);
	return rc;
}

int main(int argc, char **argv)
{
	struct ed_cfg cfg;
	int lfd[ED_MAX_PROCS], rc = 0;
	pid_t pid[ED_MAX_PROCS];
	unsigned nforked = 0;
	struct rlimit rl;
	char ip[INET_ADDRSTRLEN];
	sigset_t mask;
	int prc = cli_parse(argc, argv, &cfg);

	if (prc)
		return prc < 0 ? 0 : prc;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	inet_ntop(AF_INET, &cfg.addr.sin_addr, ip, sizeof(ip));
	/* Every listener is bound before anything runs: one error line if the
	 * address or port is not ours, and ready when the line below prints. */
	for (unsigned i = 0; i < cfg.procs; i++) {
		lfd[i] = listener_open(&cfg);
		if (lfd[i] < 0) {
			fprintf(stderr, "xs_echod: listen on %s:%u: %s\n", ip,
				ntohs(cfg.addr.sin_port), strerror(errno));
			return 1;
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	printf("xs_echod: listening on %s:%u, %u process%s, for %u s\n", ip,
	       ntohs(cfg.addr.sin_port), cfg.procs, cfg.procs > 1 ? "es" : "", cfg.duration);
	fflush(stdout);
	if (cfg.procs == 1)
		return server_run(&cfg, lfd[0], 0);
	for (unsigned i = 0; i < cfg.procs; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			perror("xs_echod: fork");
			rc = 1;
			break;
		}
		if (pid[i] == 0) {
			for (unsigned j = 0; j < cfg.procs; j++)
				if (j != i)
					close(lfd[j]);
			_exit(server_run(&cfg, lfd[i], i));
		}
		nforked++;
	}
	for (unsigned i = 0; i < cfg.procs; i++)
		close(lfd[i]);
	/* The parent forwards SIGTERM/SIGINT to the children it has not yet
	 * reaped (never a reused PID) and waits for every one. */
	bool reaped[ED_MAX_PROCS] = {false};
	unsigned left = nforked;

	if (rc)
		for (unsigned i = 0; i < nforked; i++)
			kill(pid[i], SIGTERM);
	while (left) {
		struct timespec ts = {0, 100000000};
		siginfo_t info;
		int status;
		pid_t p;

		if (sigtimedwait(&mask, &info, &ts) > 0)
			for (unsigned i = 0; i < nforked; i++)
				if (!reaped[i])
					kill(pid[i], SIGTERM);
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			for (unsigned i = 0; i < nforked; i++)
				if (pid[i] == p)
					reaped[i] = true;
			left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				rc = 1;
		}
	}
	return rc;
}
