/* xdpstack-ctl: talks to a running xdpstack daemon over its control socket;
 * sends one request line, prints the streamed answer (or pipes a TCP stream). */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_DIR "/run/xdpstack"
#define CTL_GLOB CTL_DIR "/*.sock"
#define REQ_MAX 512 /* the daemon's request limit, newline included */
#define LINE_MAX_LEN 65536
#define IO_CHUNK 65536 /* the daemon's largest data frame, and our read size */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	if (interrupted) /* a second ^C leaves without the summary */
		_exit(130);
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xdpstack-ctl [--ctl PATH] [--json] COMMAND [ARG...]\n"
		   "Query and steer a running xdpstack daemon through its control socket.\n"
		   "\n"
		   "  --ctl PATH   control socket (default: the only " CTL_GLOB ")\n"
		   "  --json       one JSON document on stdout instead of text\n"
		   "  -h, --help   this text\n"
		   "\n"
		   "commands:\n"
		   "  addr                              interface, MAC, MTU and addresses (IPv6:\n"
		   "                                    origin, DAD state, lifetimes)\n"
		   "  arp [show]                        the ARP cache\n"
		   "  arp flush                         empty the ARP cache\n"
		   "  neigh [show]                      the IPv6 neighbor cache (RFC 4861 states)\n"
		   "  neigh flush                       empty the IPv6 neighbor cache\n"
		   "  route [show]                      the route table\n"
		   "  route add DST/PLEN via GW         add a route (DST/PLEN may be 'default')\n"
		   "  route del DST/PLEN                delete a route\n"
		   "  filter [list]                     filter rules with their counters and the\n"
		   "                                    policies (rule numbers from 1)\n"
		   "  filter add RULE                   append a rule (accept|drop|reject ...)\n"
		   "  filter insert N RULE              insert before rule N\n"
		   "  filter del N | filter flush       delete rule N, or every rule\n"
		   "  filter policy in|out accept|drop  what no rule decides\n"
		   "  filter xdp on|off                 inbound rules judged in the XDP program\n"
		   "                                    where headers decide (on), or all in the\n"
		   "                                    stack (off)\n"
		   "  ping HOST [-c N] [-s SIZE] [-i SECONDS] [-W SECONDS]\n"
		   "                                    ICMP echo sent by the stack, printed as\n"
		   "                                    ping(8) does; ^C ends it with the summary\n"
		   "  stats [-a] [--queues]             non-zero counters grouped by layer (link,\n"
		   "                                    arp, ipv4, icmp, ipv6, udp, tcp, queues,\n"
		   "                                    drops by layer, control), as nstat, summed\n"
		   "                                    over the NIC queues; -a: all of them;\n"
		   "                                    --queues: each queue's too; --json: all,\n"
		   "                                    always\n"
		   "  conns                             TCP listeners and connections of every\n"
		   "                                    queue (ss -tni)\n"
		   "  connect HOST PORT [-w SECONDS]    TCP connection from the stack, as nc -N:\n"
		   "                                    stdin to the remote (EOF: half close),\n"
		   "                                    the remote's bytes to stdout; exits when\n"
		   "                                    both sides closed; -w: connect timeout\n"
		   "                                    (default 10); ^C resets the connection\n"
		   "  connect --tls [--cafile FILE] [--servername NAME] [--alpn LIST] HOST PORT\n"
		   "                                    the same over TLS 1.2/1.3: the server's\n"
		   "                                    certificate verified against FILE (else\n"
		   "                                    the system's CAs) for NAME (else HOST);\n"
		   "                                    EOF sends close_notify; the session's\n"
		   "                                    version, cipher and peer go to stderr\n"
		   "  resolve NAME                      the name's IPv4 addresses from the stack's\n"
		   "                                    DNS resolver (daemon's --dns), CNAMEs\n"
		   "                                    followed, with the TTL and the cache\n"
		   "  help                              the daemon's own list of commands\n"
		   "HOST (ping, connect) is an address A.B.C.D or IPv6, or a name the stack\n"
		   "resolves.\n"
		   "\n"
		   "Exit status: 0 success, 1 failure (ping: no reply at all; connect: refused,\n"
		   "reset, timed out; resolve: no such name or no answer), 2 usage error.\n");
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpstack-ctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* The only socket in CTL_DIR: 0, or an exit status after one error line. */
static int default_path(char *buf, size_t len)
{
	glob_t g;
	int r;

	r = glob(CTL_GLOB, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return fail(1,
			    "no xdpstack daemon listening on %s (is it running? pass --ctl PATH)",
			    CTL_GLOB);
	if (r != 0)
		return fail(1, "cannot list %s; pass --ctl PATH", CTL_GLOB);
	if (g.gl_pathc != 1) {
		r = fail(2, "%zu daemon sockets in %s (%s, ...); pass --ctl PATH to pick one",
			 g.gl_pathc, CTL_DIR, g.gl_pathv[0]);
		globfree(&g);
		return r;
	}
	snprintf(buf, len, "%s", g.gl_pathv[0]);
	globfree(&g);
	return 0;
}

static int connect_daemon(const char *path, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(2, "invalid --ctl '%s': longer than %zu bytes", path,
			    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(1, "cannot create a socket (%s)", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		if (e == EACCES || e == EPERM)
			return fail(
			    1, "permission denied on %s (the socket is root's; run as root)", path);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTSOCK)
			return fail(1,
				    "no xdpstack daemon listening on %s (is it running? pass "
				    "--ctl PATH)",
				    path);
		return fail(1, "cannot connect to %s (%s)", path, strerror(e));
	}
	*out = fd;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line from the daemon: output (un-stuffed) or the status. Returns -1
 * for output, else the exit status. */
static int handle_line(char *line)
{
	if (line[0] != '.') {
		printf("%s\n", line);
		return -1;
	}
	if (line[1] == '.') { /* a '.' the daemon doubled */
		printf("%s\n", line + 1);
		return -1;
	}
	fflush(stdout);
	if (!strcmp(line, ".ok"))
		return 0;
	if (!strcmp(line, ".fail"))
		return 1;
	if (!strncmp(line, ".error ", 7))
		return fail(1, "%s", line + 7);
	if (!strncmp(line, ".usage ", 7))
		return fail(2, "%s", line + 7);
	return fail(1, "unexpected status from the daemon: '%.80s'", line);
}

/* Prints the answer as it streams; ^C sends "stop" once. */
static int read_answer(int fd)
{
	static char buf[LINE_MAX_LEN];
	size_t len = 0;
	int stop_sent = 0, rc;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char *nl, *start;
	ssize_t n;

	for (;;) {
		if (interrupted && !stop_sent) {
			stop_sent = 1;
			if (send_all(fd, "stop\n", 5))
				return fail(1, "the daemon went away");
		}
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail(1, "poll failed (%s)", strerror(errno));
		}
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(1, "reading from the daemon failed (%s)", strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		start = buf;
		while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
			*nl = 0;
			rc = handle_line(start);
			if (rc >= 0)
				return rc;
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == sizeof(buf) - 1) { /* an endless line: print what we have */
			buf[len] = 0;
			fputs(buf, stdout);
			len = 0;
		}
		fflush(stdout);
	}
	fflush(stdout);
	return fail(1, "the daemon closed the connection before the end of its answer "
		       "(did it exit?)");
}

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct stream {
	int connected;	  /* ".connected" seen */
	size_t data_left; /* bytes of the current "=N" frame still to come */
};

/* Consumes what the daemon sent in connect mode (see docs/DESIGN.md): frames
 * to stdout, ".eof" closes stdout, the status ends. Returns -1 to go on, else
 * the exit status; *used says how much of buf was consumed. */
static int stream_parse(struct stream *s, char *buf, size_t len, size_t *used)
{
	size_t pos = 0, k;
	char *nl, *line, *end;
	unsigned long n;

	while (pos < len) {
		if (s->data_left) {
			k = s->data_left < len - pos ? s->data_left : len - pos;
			if (write_all(STDOUT_FILENO, buf + pos, k))
				return fail(1, "cannot write to stdout (%s)", strerror(errno));
			pos += k;
			s->data_left -= k;
			continue;
		}
		nl = memchr(buf + pos, '\n', len - pos);
		if (!nl) {
			if (len - pos > REQ_MAX)
				return fail(1, "unexpected answer from the daemon (no line end)");
			break;
		}
		*nl = 0;
		line = buf + pos;
		pos = (size_t)(nl - buf) + 1;
		if (!s->connected) {
			if (!strncmp(line, ".connected ", 11)) {
				char *tls = strstr(line, " tls ");

				s->connected = 1;
				/* TLS: what was negotiated, for the user. */
				if (tls)
					fprintf(stderr, "xdpstack-ctl: TLS:%s\n", tls + 4);
				continue;
			}
			*used = pos;
			if (line[0] != '.' || line[1] == '.')
				return fail(1, "unexpected answer from the daemon: '%.40s'", line);
			return handle_line(line);
		}
		if (line[0] == '=') {
			n = strtoul(line + 1, &end, 10);
			if (*end || !n || n > IO_CHUNK)
				return fail(1, "unexpected frame from the daemon: '%.40s'", line);
			s->data_left = n;
			continue;
		}
		if (!strcmp(line, ".eof")) {
			/* The remote closed its side: so does our output. */
			fflush(stdout);
			close(STDOUT_FILENO);
			continue;
		}
		*used = pos;
		if (line[0] != '.' || line[1] == '.')
			return fail(1, "unexpected line from the daemon: '%.40s'", line);
		return handle_line(line);
	}
	*used = pos;
	return -1;
}

/* connect: stdin to the daemon (raw; EOF becomes shutdown(SHUT_WR), the
 * remote's FIN), the daemon's frames to stdout, until the final status. */
static int run_connect(int fd)
{
	static char in[2 * IO_CHUNK], up[IO_CHUNK];
	size_t inlen = 0, uplen = 0, upoff = 0, used = 0;
	int stdin_open = 1, shut = 0, rc, np;
	struct stream s = {0};
	struct pollfd p[2];
	ssize_t n;

	for (;;) {
		if (interrupted)
			return 130; /* closing the socket resets the connection */
		np = 1;
		p[0] = (struct pollfd){.fd = fd, .events = POLLIN};
		if (uplen > upoff)
			p[0].events |= POLLOUT;
		else if (s.connected && stdin_open)
			p[np++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail(1, "poll failed (%s)", strerror(errno));
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, in + inlen, sizeof(in) - inlen, MSG_DONTWAIT);
			if (n == 0)
				return fail(1, "the daemon closed the connection before the end of "
					       "its answer (did it exit?)");
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return fail(1, "reading from the daemon failed (%s)",
					    strerror(errno));
			if (n > 0) {
				inlen += (size_t)n;
				rc = stream_parse(&s, in, inlen, &used);
				if (rc >= 0)
					return rc;
				memmove(in, in + used, inlen - used);
				inlen -= used;
			}
		}
		if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(STDIN_FILENO, up, sizeof(up));
			if (n > 0) {
				uplen = (size_t)n;
				upoff = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				stdin_open = 0; /* EOF, or unreadable: nothing more to send */
			}
		}
		if (uplen > upoff) {
			n = send(fd, up + upoff, uplen - upoff, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				upoff += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				uplen = upoff = 0; /* the daemon is gone: its EOF tells */
			if (upoff == uplen)
				uplen = upoff = 0;
		}
		if (!stdin_open && uplen == 0 && !shut) {
			shut = 1;
			shutdown(fd, SHUT_WR);
		}
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_sigint};
	char path[256], req[REQ_MAX], abspath[PATH_MAX];
	const char *ctl = NULL;
	size_t len = 0;
	int json = 0, i, fd = -1, rc, connect_mode;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (!strcmp(argv[i], "--ctl")) {
			if (++i == argc)
				return fail(2, "option '--ctl' needs a PATH (see --help)");
			ctl = argv[i];
		} else if (!strncmp(argv[i], "--ctl=", 6)) {
			ctl = argv[i] + 6;
		} else {
			return fail(2, "unknown option '%s' (see --help)", argv[i]);
		}
	}
	if (i == argc)
		return fail(2, "missing COMMAND: addr, arp, neigh, route, ping, stats, conns, connect, "
			       "resolve, filter or help (see --help)");
	connect_mode = !strcmp(argv[i], "connect");
	if (ctl && !*ctl)
		return fail(2, "invalid --ctl '': expected a socket path");

	/* The request: "[--json] COMMAND ARG...\n", words without blanks. */
	if (json)
		len += (size_t)snprintf(req, sizeof(req), "--json ");
	for (; i < argc; i++) {
		const char *w = argv[i];

		/* A file the daemon opens: named from its point of view. */
		if (connect_mode && i > 0 && !strcmp(argv[i - 1], "--cafile") && w[0] != '/') {
			if (!realpath(w, abspath))
				return fail(2, "invalid --cafile '%s': %s", w, strerror(errno));
			w = abspath;
		}
		if (!*w || strpbrk(w, " \t\r\n"))
			return fail(2, "invalid argument '%s': empty or with blanks", w);
		if (len + strlen(w) + 2 > sizeof(req))
			return fail(2, "request too long (at most %d bytes)", REQ_MAX - 1);
		len += (size_t)snprintf(req + len, sizeof(req) - len, "%s%s", w,
					i + 1 < argc ? " " : "\n");
	}

	if (ctl)
		snprintf(path, sizeof(path), "%s", ctl);
	else if ((rc = default_path(path, sizeof(path))) != 0)
		return rc;
	rc = connect_daemon(path, &fd);
	if (rc)
		return rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	if (send_all(fd, req, len)) {
		close(fd);
		return fail(1, "cannot send the request to %s (%s)", path, strerror(errno));
	}
	rc = connect_mode ? run_connect(fd) : read_answer(fd);
	close(fd);
	return rc;
}
