/* Control socket server of the daemon: AF_UNIX stream, non-blocking, served from
 * the event loop; one request line per connection, output streamed, status, close. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/ctl.h"
#include "app/ctl_req.h"

void ctl_default_path(const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sock", XS_CTL_DIR, ifname);
}

void ctl_ip_str(uint32_t ip, char buf[16])
{
	struct in_addr a = {.s_addr = htonl(ip)};

	inet_ntop(AF_INET, &a, buf, 16);
}

int ctl_parse_ip(const char *s, uint32_t *ip)
{
	return cli_parse_ip4(s, ip);
}

/* ------------------------------------------------------------ queues */

unsigned ctl_nq(const struct ctl *c)
{
	return c->cfg.nq > 1 && c->cfg.hold ? c->cfg.nq : 1;
}

void ctl_hold(struct ctl *c, unsigned i, struct ctl_qview *out)
{
	if (ctl_nq(c) > 1) {
		c->cfg.hold(c->cfg.qarg, i, out);
		return;
	}
	*out = (struct ctl_qview){.st = c->cfg.st, .hw = c->cfg.hw, .bp = c->cfg.bp,
				  .nic_queue = c->cfg.queue, .cpu = -1};
}

void ctl_release(struct ctl *c, unsigned i)
{
	if (ctl_nq(c) > 1 && c->cfg.release)
		c->cfg.release(c->cfg.qarg, i);
}

void ctl_each_other(struct ctl *c, void (*fn)(struct xs_stack *st, void *arg), void *arg)
{
	struct ctl_qview v;
	unsigned i;

	for (i = 1; i < ctl_nq(c); i++) {
		ctl_hold(c, i, &v);
		fn(v.st, arg);
		ctl_release(c, i);
	}
}

/* ------------------------------------------------------------ output */

static int out_reserve(struct ctl_client *cl, size_t more)
{
	size_t need = cl->outlen + more, cap;
	char *p;

	if (need <= cl->outcap)
		return 0;
	if (cl->outoff) { /* slide what is left to the front first */
		memmove(cl->out, cl->out + cl->outoff, cl->outlen - cl->outoff);
		cl->outlen -= cl->outoff;
		cl->outoff = 0;
		need = cl->outlen + more;
		if (need <= cl->outcap)
			return 0;
	}
	if (need > CTL_OUT_MAX)
		return -ENOBUFS;
	cap = cl->outcap ? cl->outcap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(cl->out, cap);
	if (!p)
		return -ENOMEM;
	cl->out = p;
	cl->outcap = cap;
	return 0;
}

/* Appends text; a line that starts with '.' gets one more (the status lines
 * are the only lines that start with a single '.'). */
static void out_raw(struct ctl_client *cl, const char *s, size_t n, int stuff)
{
	size_t i;

	if (cl->dead)
		return;
	/* Worst case every byte is a '.' at a line start. */
	if (out_reserve(cl, stuff ? 2 * n : n)) {
		cl->dead = 1; /* a client that does not read loses its connection */
		cl->ctl->clients_dropped++;
		return;
	}
	for (i = 0; i < n; i++) {
		if (stuff && cl->bol && s[i] == '.')
			cl->out[cl->outlen++] = '.';
		cl->out[cl->outlen++] = s[i];
		cl->bol = s[i] == '\n';
	}
}

static void out_vprintf(struct ctl_client *cl, int stuff, const char *fmt, va_list ap)
{
	char small[512], *big;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		out_raw(cl, small, (size_t)n, stuff);
		return;
	}
	big = malloc((size_t)n + 1);
	if (!big) {
		cl->dead = 1;
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	out_raw(cl, big, (size_t)n, stuff);
	free(big);
}

void ctl_printf(struct ctl_client *cl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(cl, 1, fmt, ap);
	va_end(ap);
}

void ctl_write_raw(struct ctl_client *cl, const void *p, size_t n)
{
	out_raw(cl, p, n, 0);
	cl->bol = 1; /* the stream's framing says where lines start */
}

size_t ctl_out_pending(const struct ctl_client *cl)
{
	return cl->outlen - cl->outoff;
}

void ctl_json_str(struct ctl_client *cl, const char *s)
{
	char buf[8];

	out_raw(cl, "\"", 1, 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf[0] = '\\';
			buf[1] = (char)ch;
			out_raw(cl, buf, 2, 1);
		} else if (ch < 0x20) {
			snprintf(buf, sizeof(buf), "\\u%04x", ch);
			out_raw(cl, buf, 6, 1);
		} else {
			out_raw(cl, s, 1, 1);
		}
	}
	out_raw(cl, "\"", 1, 1);
}

void ctl_end(struct ctl_client *cl, enum ctl_status status, const char *fmt, ...)
{
	static const char *const tag[] = {".ok", ".fail", ".error ", ".usage "};
	va_list ap;

	if (!cl->bol)
		out_raw(cl, "\n", 1, 0);
	out_raw(cl, tag[status], strlen(tag[status]), 0);
	if (fmt && (status == CTL_ERROR || status == CTL_USAGE)) {
		va_start(ap, fmt);
		out_vprintf(cl, 0, fmt, ap);
		va_end(ap);
	}
	out_raw(cl, "\n", 1, 0);
	cl->state = CL_DRAIN;
	cl->deadline = cl->ctl->now + CTL_DRAIN_TIMEOUT;
}

/* Writes as much pending output as the socket takes now; never blocks. */
static void client_write(struct ctl_client *cl)
{
	ssize_t n;

	while (!cl->dead && cl->outoff < cl->outlen) {
		n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = 1; /* EPIPE, ECONNRESET: the client is gone */
			return;
		}
		cl->outoff += (size_t)n;
	}
	if (cl->outoff == cl->outlen)
		cl->outoff = cl->outlen = 0;
}

/* Reads what the client sent, at most CTL_READS_PER_TURN times: a client
 * that keeps writing is read again next turn, after the stack and the
 * other clients had theirs (poll() reports it readable at once). */
static void client_read(struct ctl_client *cl)
{
	char *nl;
	ssize_t n;
	int reads;

	for (reads = 0; reads < CTL_READS_PER_TURN; reads++) {
		if (cl->inlen == sizeof(cl->in)) {
			if (cl->state == CL_READ) {
				cl->ctl->clients_dropped++;
				ctl_end(cl, CTL_USAGE, "request line longer than %d bytes",
					CTL_REQ_MAX - 1);
				return;
			}
			cl->inlen = 0; /* after the request, only "stop" means something */
		}
		n = recv(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = 1;
			return;
		}
		if (n == 0) {
			/* Half-closed: input is over. A request cut short is an error;
			 * a running command goes on (a full close ends it: POLLHUP). */
			cl->eof = 1;
			if (cl->state == CL_READ)
				ctl_end(cl, CTL_USAGE, "request line not terminated by a newline");
			return;
		}
		cl->inlen += (size_t)n;
		while ((nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
			size_t used = (size_t)(nl - cl->in) + 1;

			*nl = 0;
			if (cl->state == CL_READ) {
				ctl_request(cl, cl->in);
			} else if (cl->state == CL_RUN) {
				if (!strncmp(cl->in, "stop", 4))
					ctl_ping_stop(cl);
			}
			memmove(cl->in, cl->in + used, cl->inlen - used);
			cl->inlen -= used;
			if (cl->conn && cl->state == CL_RUN) {
				/* A byte stream from here: what followed the
				 * request line is its beginning. */
				ctl_conn_take(cl, cl->in, cl->inlen);
				cl->inlen = 0;
				return;
			}
		}
	}
	cl->ctl->read_budget_hits++;
}

/* ------------------------------------------------------ connections */

static void client_close(struct ctl_client *cl)
{
	if (cl->ping)
		ctl_ping_free(cl);
	if (cl->conn)
		ctl_conn_free(cl);
	ctl_resolve_free(cl);
	close(cl->fd);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	cl->pfd = -1;
}

static void accept_all(struct ctl *c)
{
	struct ctl_client *cl;
	int fd, i, n;

	/* A bounded number per turn: the rest wait in the listen queue. */
	for (n = 0; n < CTL_ACCEPTS_PER_TURN; n++) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a transient error: retried next poll */
		for (i = 0; i < CTL_MAX_CLIENTS && c->cl[i].state != CL_FREE; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			static const char busy[] = ".error too many control connections; "
						   "try again\n";

			/* Best effort: a fresh socket has room for one line. */
			send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			c->clients_refused++;
			continue;
		}
		cl = &c->cl[i];
		memset(cl, 0, sizeof(*cl));
		cl->ctl = c;
		cl->fd = fd;
		cl->pfd = -1;
		cl->bol = 1;
		cl->state = CL_READ;
		cl->deadline = c->now + CTL_REQ_TIMEOUT;
	}
	c->accept_budget_hits++;
}

void ctl_set_time(struct ctl *c, xs_time_t now)
{
	c->now = now;
}

int ctl_pollfds(struct ctl *c, struct pollfd *pfd, int max)
{
	int n = 0, i;

	c->lpfd = -1;
	if (max < 1)
		return 0;
	c->lpfd = n;
	pfd[n++] = (struct pollfd){.fd = c->lfd, .events = POLLIN};
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		short ev = 0;

		cl->pfd = -1;
		if (cl->state == CL_FREE || n == max)
			continue;
		/* A TCP session reads its client only when it can pass the
		 * bytes on (flow control); others always read. */
		if (!cl->eof && (!cl->conn || cl->state != CL_RUN || ctl_conn_wants_input(cl)))
			ev |= POLLIN;
		if (cl->outoff < cl->outlen)
			ev |= POLLOUT;
		/* POLLHUP and POLLERR come whatever is asked: a client that closed
		 * is noticed even when nothing is read or written. */
		cl->pfd = n;
		pfd[n++] = (struct pollfd){.fd = cl->fd, .events = ev};
	}
	return n;
}

void ctl_process(struct ctl *c, const struct pollfd *pfd, int n)
{
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];
		short re;

		if (cl->state == CL_FREE || cl->pfd < 0 || cl->pfd >= n ||
		    pfd[cl->pfd].fd != cl->fd)
			continue;
		re = pfd[cl->pfd].revents;
		/* Input first: a request sent just before a close still counts. */
		if (re & POLLIN) {
			if (cl->conn && cl->state == CL_RUN)
				ctl_conn_input(cl);
			else
				client_read(cl);
		}
		if (re & (POLLHUP | POLLERR | POLLNVAL))
			cl->dead = 1; /* closed: no one to read what we would send */
	}
	if (c->lpfd >= 0 && c->lpfd < n && (pfd[c->lpfd].revents & POLLIN))
		accept_all(c);
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (cl->state == CL_READ && !cl->dead && c->now >= cl->deadline) {
			c->clients_dropped++;
			ctl_end(cl, CTL_USAGE, "no request line within %llu s",
				(unsigned long long)(CTL_REQ_TIMEOUT / XS_SEC(1)));
		} else if (cl->state == CL_DRAIN && !cl->dead && c->now >= cl->deadline) {
			c->clients_dropped++;
			cl->dead = 1; /* it does not read its answer: let it go */
		}
		if (cl->state == CL_RUN && !cl->dead && cl->ping)
			ctl_ping_tick(cl);
		if (cl->state == CL_RUN && !cl->dead && cl->conn) {
			/* Room made by the write lets the session read TCP again. */
			if (cl->outoff < cl->outlen)
				client_write(cl);
			ctl_conn_tick(cl);
		}
		if (cl->state != CL_FREE && cl->outoff < cl->outlen)
			client_write(cl);
		if (cl->state != CL_FREE &&
		    (cl->dead || (cl->state == CL_DRAIN && cl->outoff == cl->outlen)))
			client_close(cl);
	}
}

xs_time_t ctl_next_deadline(const struct ctl *c)
{
	xs_time_t t = UINT64_MAX, d;
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		const struct ctl_client *cl = &c->cl[i];

		/* A client marked dead or finished by a callback is reaped now;
		 * one with output waiting wakes the loop through POLLOUT. */
		if (cl->state != CL_FREE &&
		    (cl->dead || (cl->state == CL_DRAIN && cl->outoff == cl->outlen)))
			return c->now;
		if ((cl->state == CL_READ || cl->state == CL_DRAIN) && cl->deadline < t)
			t = cl->deadline;
		if (cl->state == CL_RUN) {
			d = cl->conn ? ctl_conn_deadline(cl) : ctl_ping_deadline(cl);
			if (d < t)
				t = d;
		}
	}
	return t;
}

/* ------------------------------------------------------- lifecycle */

/* 1 if a daemon accepts connections on path, 0 if not (stale), -errno. */
static int socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	r = r == 0 ? 1 : (errno == ECONNREFUSED || errno == ENOENT) ? 0 : -errno;
	close(fd);
	return r;
}

/* One directory on the way to the socket: a directory owned by root or by
 * us, that nobody else may write to (unless sticky, as /tmp: then others
 * cannot rename or remove what we create). Otherwise whoever may write there
 * could swap the socket for something else between our checks and uses. */
static int check_dir(const char *dir, const char *shown, char *err, size_t errlen)
{
	struct stat sb;
	uid_t me = geteuid();

	if (stat(dir, &sb) != 0) {
		snprintf(err, errlen,
			 "cannot check control socket directory %s (%s); pass --ctl PATH", shown,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen,
			 "control socket directory %s: %s is not a directory; "
			 "pass --ctl PATH",
			 shown, dir);
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != me) {
		snprintf(err, errlen,
			 "control socket directory %s: %s is owned by uid %u, not root; "
			 "chown it to root or pass --ctl PATH",
			 shown, dir, (unsigned)sb.st_uid);
		return -1;
	}
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) && !(sb.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "control socket directory %s: %s is writable by others "
			 "(mode %04o); chmod go-w it or pass --ctl PATH",
			 shown, dir, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* mkdir -m 0700 of path's directory when it does not exist (one level), then
 * the directory and every one above it must pass check_dir. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[XS_CTL_PATH_MAX], *real, *slash;
	int r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "cannot create control socket directory %s (%s); pass --ctl PATH", dir,
			 strerror(errno));
		return -1;
	}
	real = realpath(dir, NULL);
	if (!real) {
		snprintf(err, errlen,
			 "cannot check control socket directory %s (%s); pass --ctl PATH", dir,
			 strerror(errno));
		return -1;
	}
	/* From the directory up to /, symlinks resolved. */
	for (;;) {
		r = check_dir(real, dir, err, errlen);
		slash = strrchr(real, '/');
		if (r || !slash || slash == real)
			break;
		*slash = 0;
	}
	if (!r)
		r = check_dir("/", dir, err, errlen);
	free(real);
	return r;
}

/* The socket's name in its directory, and an fd of that directory: the
 * chmod and stat after bind go through it without following a symlink. */
static int open_parent(const char *path, const char **base)
{
	char dir[XS_CTL_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash) {
		*base = path;
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	*base = path + (slash - dir) + 1;
	if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int bind_listen(struct ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *base;
	struct stat sb;
	mode_t old;
	int r, dfd;

	if (lstat(c->path, &sb) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			snprintf(err, errlen,
				 "control socket path %s is a symlink (never followed); "
				 "remove it or pass --ctl PATH",
				 c->path);
			return -1;
		}
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen,
				 "control socket path %s exists and is not a socket; "
				 "remove it or pass --ctl PATH",
				 c->path);
			return -1;
		}
		r = socket_alive(c->path);
		if (r > 0) {
			snprintf(err, errlen,
				 "another xdpstack is running on %s (control socket %s "
				 "answers); stop it or pass --ctl PATH",
				 c->ifname, c->path);
			return -1;
		}
		/* Left by a daemon that died: nobody listens, replace it. */
		if (r == 0 && unlink(c->path) != 0 && errno != ENOENT)
			r = -errno;
		if (r < 0) {
			snprintf(err, errlen, "cannot replace stale control socket %s (%s)",
				 c->path, strerror(-r));
			return -1;
		}
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		goto fail;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	old = umask(0177); /* the file is born 0600: no window with wider rights */
	r = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0)
		goto fail;
	/* Already 0600 from the umask; made sure without following a symlink
	 * that might have taken the name since bind (fchmodat refuses one). */
	dfd = open_parent(c->path, &base);
	if (dfd < 0)
		goto fail;
	if (fchmodat(dfd, base, 0600, AT_SYMLINK_NOFOLLOW) != 0 ||
	    fstatat(dfd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISSOCK(sb.st_mode)) {
		close(dfd);
		snprintf(err, errlen,
			 "control socket %s was replaced after bind (a symlink or another file); "
			 "check who can write to its directory, or pass --ctl PATH",
			 c->path);
		return -1;
	}
	if (listen(c->lfd, 16) != 0) {
		int e = errno;

		unlinkat(dfd, base, 0);
		close(dfd);
		errno = e;
		goto fail;
	}
	close(dfd);
	c->sock_dev = sb.st_dev;
	c->sock_ino = sb.st_ino;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on control socket %s (%s); pass --ctl PATH", c->path,
		 strerror(errno));
	return -1;
}

struct ctl *ctl_open(const struct ctl_config *cfg, char *err, size_t errlen)
{
	struct ctl *c = calloc(1, sizeof(*c));
	int i;

	if (!c) {
		snprintf(err, errlen, "cannot set up the control socket (out of memory)");
		return NULL;
	}
	c->cfg = *cfg;
	c->lfd = -1;
	c->lpfd = -1;
	snprintf(c->path, sizeof(c->path), "%s", cfg->path);
	snprintf(c->ifname, sizeof(c->ifname), "%s", cfg->ifname);
	c->cfg.path = c->path;
	c->cfg.ifname = c->ifname;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		c->cl[i].fd = -1;
		c->cl[i].pfd = -1;
	}
	if (make_parent(c->path, err, errlen) || bind_listen(c, err, errlen)) {
		if (c->lfd >= 0)
			close(c->lfd);
		free(c);
		return NULL;
	}
	return c;
}

void ctl_close(struct ctl *c)
{
	struct stat sb;
	int i;

	if (!c)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->cl[i].state != CL_FREE)
			client_close(&c->cl[i]);
	/* Remove the file only if it is still the one we bound (a successor may
	 * have replaced it after deciding we were gone). */
	if (lstat(c->path, &sb) == 0 && sb.st_dev == c->sock_dev && sb.st_ino == c->sock_ino)
		unlink(c->path);
	close(c->lfd);
	free(c);
}
