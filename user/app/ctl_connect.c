/* TCP and TLS client sessions for xdpstack-ctl connect: the stack opens a
 * connection and the daemon pipes bytes between it and the control connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <xdpstack/tls.h>

#include "app/ctl.h"

/* Stream protocol after the request line (docs/DESIGN.md, "connect"):
 *   daemon -> client   ".connected LIP:LPORT RIP:RPORT\n", then frames
 *                      "=N\n" + N bytes (1 <= N <= CONN_CHUNK) of the remote's
 *                      data, ".eof\n" when the remote closed its side, and a
 *                      final status: ".ok\n" (both sides closed, everything we
 *                      sent acknowledged) or ".error MSG\n"; then close.
 *   client -> daemon   raw bytes for the remote; shutdown(SHUT_WR) sends our
 *                      FIN once they are all queued; closing the socket before
 *                      the status aborts the connection (RST).
 * Flow control: at most CONN_CHUNK bytes from the client wait in the daemon
 * (the client is not read while the TCP send buffer refuses them), and the
 * TCP receive buffer is not read while more than CONN_OUT_HIGH bytes wait
 * for the client, so the stack's window closes on a slow reader.
 * With --tls the bytes are a TLS session's plaintext: ".connected" waits for
 * the handshake (the server's certificate verified against --cafile, or the
 * system's CAs, and its name: --servername, else HOST) and adds the version,
 * cipher, ALPN and the certificate's subject; the client's EOF sends
 * close_notify, ".eof" is the server's close_notify. */
#define CONN_CHUNK 65536
#define CONN_OUT_HIGH (128u * 1024)
#define CONN_READS_PER_TURN 8 /* client reads per event (64 KiB each) */
#define CONN_TIMEOUT_DEFAULT XS_SEC(10)

struct ctl_conn {
	struct xs_tcp h; /* id -1 once released */
	uint32_t dst;
	struct xs_addr dst6; /* an IPv6 HOST (v6 set) */
	int v6;
	uint16_t port;
	char name[56];	     /* "A.B.C.D:PORT" or "[IPV6]:PORT" for messages */
	char host[XS_DNS_NAME_LEN]; /* HOST as given: an address or a name */
	xs_time_t timeout;	    /* to establish the connection */
	xs_time_t deadline;	    /* start + timeout while not connected */
	int connected;		    /* ".connected" sent */
	int up_eof;		    /* the client half-closed: no more bytes */
	int up_shut;		    /* our FIN is queued */
	int down_eof;		    /* the remote's FIN passed on (".eof") */
	size_t uplen, upoff;	    /* client bytes not yet taken by the TCP send buffer */

	/* --tls */
	int tls_on;
	struct xs_tls_ctx *tctx; /* this session's client context */
	struct xs_tls tls;	 /* the session over h (owns h), else id -1 */
	char cafile[256], servername[256], alpn[128];
	uint8_t up[CONN_CHUNK];
	uint8_t down[CONN_CHUNK];
};

static struct xs_stack *ST(const struct ctl_client *cl)
{
	return cl->ctl->cfg.st;
}

static void conn_release(struct ctl_client *cl, int abort)
{
	struct ctl_conn *k = cl->conn;

	if (k->tls.id >= 0 && abort)
		xs_tls_abort(ST(cl), k->tls);
	else if (k->tls.id >= 0)
		xs_tls_close(ST(cl), k->tls);
	else if (k->h.id >= 0 && abort)
		xs_tcp_abort(ST(cl), k->h);
	else if (k->h.id >= 0)
		xs_tcp_close(ST(cl), k->h);
	k->tls = (struct xs_tls)XS_NO_HANDLE;
	k->h = (struct xs_tcp)XS_NO_HANDLE;
	/* Its last session is closed (or resetting): nothing lingers on it. */
	xs_tls_ctx_free(k->tctx);
	k->tctx = NULL;
}

/* The stream's bytes: TCP's, or the TLS session's plaintext. */
static ssize_t conn_send(struct ctl_client *cl, const void *b, size_t n)
{
	struct ctl_conn *k = cl->conn;

	return k->tls.id >= 0 ? xs_tls_send(ST(cl), k->tls, b, n) : xs_tcp_send(ST(cl), k->h, b, n);
}

static ssize_t conn_recv(struct ctl_client *cl, void *b, size_t n)
{
	struct ctl_conn *k = cl->conn;

	return k->tls.id >= 0 ? xs_tls_recv(ST(cl), k->tls, b, n) : xs_tcp_recv(ST(cl), k->h, b, n);
}

/* The connection's failure, -errno or 0, in words into msg: TCP's own as
 * strerror, TLS's as OpenSSL says it. */
static int conn_error(struct ctl_client *cl, char *msg, size_t len)
{
	struct ctl_conn *k = cl->conn;
	int err = xs_tcp_error(ST(cl), k->h);

	if (err || k->tls.id < 0 || !(err = xs_tls_error(ST(cl), k->tls))) {
		snprintf(msg, len, "%s", err ? strerror(-err) : "");
		return err;
	}
	snprintf(msg, len, "TLS%s: %s", k->connected ? "" : " handshake failed",
		 xs_tls_strerror(ST(cl), k->tls));
	return err;
}

/* Ends the session with ".error connect HOST:PORT: MSG" and a reset. */
static void conn_fail(struct ctl_client *cl, const char *msg)
{
	conn_release(cl, 1);
	ctl_end(cl, CTL_ERROR, "connect %s: %s", cl->conn->name, msg);
}

/* Our own connect timeout: name the likely cause. The stack keeps an ICMP or
 * ARP failure in SYN-SENT as a soft error (RFC 1122 4.2.3.9) that the API does
 * not show, so an unresolved next hop is looked up in the ARP cache. */
static void conn_timeout(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;
	struct xs_arp_entry_info *e;
	struct xs_tcp_info in;
	char msg[128], nhs[16];
	int resolved = 0;
	uint32_t nh;
	size_t n, i;

	if (k->tls.id >= 0 && xs_tcp_get_info(ST(cl), k->h, &in) == 0 &&
	    in.state != XS_TCP_SYN_SENT) {
		snprintf(msg, sizeof(msg), "TLS handshake not done within %g s",
			 (double)k->timeout / 1e9);
		conn_fail(cl, msg);
		return;
	}
	if (!k->v6 && xs_route_lookup(ST(cl), k->dst, &nh) == 0 &&
	    (e = calloc(XS_ARP_CACHE_SIZE, sizeof(*e))) != NULL) {
		n = xs_stack_arp_list(ST(cl), cl->ctl->now, e, XS_ARP_CACHE_SIZE);
		for (i = 0; i < n; i++)
			if (e[i].ip == nh && e[i].resolved)
				resolved = 1;
		free(e);
		if (!resolved) {
			ctl_ip_str(nh, nhs);
			snprintf(msg, sizeof(msg), "%s (no ARP reply from %s within %g s)",
				 strerror(EHOSTUNREACH), nhs, (double)k->timeout / 1e9);
			conn_fail(cl, msg);
			return;
		}
	}
	snprintf(msg, sizeof(msg), "%s (no answer within %g s)", strerror(ETIMEDOUT),
		 (double)k->timeout / 1e9);
	conn_fail(cl, msg);
}

static int conn_check_connected(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;
	struct xs_tls_info ti;
	struct xs_tcp_info in;
	char line[768], l[XS_ADDR_STRLEN], r[XS_ADDR_STRLEN], msg[300];
	int n;

	if (conn_error(cl, msg, sizeof(msg))) {
		conn_fail(cl, msg);
		return -1;
	}
	if (xs_tcp_get_info(ST(cl), k->h, &in) != 0 || in.state == XS_TCP_SYN_SENT ||
	    in.state == XS_TCP_SYN_RECEIVED)
		return -1; /* not yet */
	if (k->tls.id >= 0 && (xs_tls_get_info(ST(cl), k->tls, &ti) || !ti.handshake_done))
		return -1; /* the handshake goes on */
	k->connected = 1;
	xs_addr_format(&in.laddr, l, sizeof(l));
	xs_addr_format(&in.raddr, r, sizeof(r));
	if (in.raddr.family == XS_AF_INET6)
		n = snprintf(line, sizeof(line), ".connected [%s]:%u [%s]:%u", l, in.lport, r,
			     in.rport);
	else
		n = snprintf(line, sizeof(line), ".connected %s:%u %s:%u", l, in.lport, r,
			     in.rport);
	if (k->tls.id >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      " tls %s %s alpn=%s resumed=%s peer=%s", ti.version, ti.cipher,
			      ti.alpn[0] ? ti.alpn : "-", ti.resumed ? "yes" : "no",
			      ti.peer[0] ? ti.peer : "-");
	line[n++] = '\n';
	ctl_write_raw(cl, line, (size_t)n);
	return 0;
}

/* Moves bytes both ways as far as both sides allow, then sees whether the
 * session is over. Called from TCP events and from every loop turn. */
static void conn_pump(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;
	struct xs_stack *st = ST(cl);
	struct xs_tcp_info in;
	char hdr[16], msg[300];
	ssize_t n;
	int err;

	if (!k || k->h.id < 0 || cl->dead || cl->state != CL_RUN)
		return;
	if (!k->connected && conn_check_connected(cl))
		return;
	/* Client -> remote: what the send buffer takes; the rest waits for
	 * XS_EV_WRITABLE, and the client is not read meanwhile. */
	while (k->upoff < k->uplen) {
		n = conn_send(cl, k->up + k->upoff, k->uplen - k->upoff);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_error(cl, msg, sizeof(msg));
			conn_fail(cl, msg[0] ? msg : strerror((int)-n));
			return;
		}
		k->upoff += (size_t)n;
	}
	if (k->upoff == k->uplen) {
		k->upoff = k->uplen = 0;
		if (k->up_eof && !k->up_shut) {
			k->up_shut = 1;
			/* RFC 9293 3.10.4: FIN after the data (TLS: close_notify first) */
			if (k->tls.id >= 0)
				xs_tls_shutdown(st, k->tls);
			else
				xs_tcp_shutdown(st, k->h);
		}
	}
	/* Remote -> client while the client keeps up; what is left stays in the
	 * stack's receive buffer and the window shrinks. */
	while (!k->down_eof && ctl_out_pending(cl) < CONN_OUT_HIGH) {
		n = conn_recv(cl, k->down, sizeof(k->down));
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_error(cl, msg, sizeof(msg));
			conn_fail(cl, msg[0] ? msg : strerror((int)-n));
			return;
		}
		if (n == 0) {
			k->down_eof = 1;
			ctl_write_raw(cl, ".eof\n", 5);
			break;
		}
		ctl_write_raw(cl, hdr, (size_t)snprintf(hdr, sizeof(hdr), "=%zd\n", n));
		ctl_write_raw(cl, k->down, (size_t)n);
	}
	if (cl->dead)
		return;
	/* A failure after the last byte we could read (reset, user timeout). */
	err = conn_error(cl, msg, sizeof(msg));
	if (xs_tcp_get_info(st, k->h, &in) != 0)
		return;
	if (err && (k->down_eof || in.rcv_queue == 0)) {
		conn_fail(cl, msg);
		return;
	}
	/* Done: both FINs exchanged and ours acknowledged. */
	if (k->down_eof && k->up_shut &&
	    (in.state == XS_TCP_TIME_WAIT || in.state == XS_TCP_CLOSED)) {
		conn_release(cl, 0);
		ctl_end(cl, CTL_OK, NULL);
	}
}

static void on_tcp_event(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct ctl_client *cl = ctx;

	(void)st;
	(void)events; /* the pump looks at the connection's whole state */
	if (cl->conn && cl->conn->h.id == h.id && cl->conn->h.gen == h.gen)
		conn_pump(cl);
}

static void on_tls_event(struct xs_stack *st, struct xs_tls t, unsigned events, void *ctx)
{
	struct ctl_client *cl = ctx;

	(void)st;
	(void)events;
	if (cl->conn && cl->conn->tls.id == t.id && cl->conn->tls.gen == t.gen)
		conn_pump(cl);
}

int ctl_conn_wants_input(const struct ctl_client *cl)
{
	const struct ctl_conn *k = cl->conn;

	return k && k->h.id >= 0 && !k->up_eof && k->uplen == 0;
}

void ctl_conn_take(struct ctl_client *cl, const char *p, size_t n)
{
	struct ctl_conn *k = cl->conn;

	if (!n)
		return;
	memcpy(k->up, p, n); /* n < CTL_REQ_MAX < CONN_CHUNK, and up is empty */
	k->uplen = n;
	conn_pump(cl);
}

void ctl_conn_input(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;
	ssize_t n;
	int i;

	for (i = 0; i < CONN_READS_PER_TURN && ctl_conn_wants_input(cl) && cl->state == CL_RUN;
	     i++) {
		n = recv(cl->fd, k->up, sizeof(k->up), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = 1;
			return;
		}
		if (n == 0) {
			/* shutdown(SHUT_WR) by the client: our FIN follows its data. */
			k->up_eof = 1;
			cl->eof = 1;
		} else {
			k->uplen = (size_t)n;
		}
		conn_pump(cl);
	}
}

void ctl_conn_tick(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;

	if (!k || k->h.id < 0)
		return;
	if (!k->connected && cl->ctl->now >= k->deadline && xs_tcp_error(ST(cl), k->h) == 0) {
		conn_timeout(cl);
		return;
	}
	conn_pump(cl);
}

xs_time_t ctl_conn_deadline(const struct ctl_client *cl)
{
	const struct ctl_conn *k = cl->conn;

	return k && k->h.id >= 0 && !k->connected ? k->deadline : UINT64_MAX;
}

void ctl_conn_free(struct ctl_client *cl)
{
	if (!cl->conn)
		return;
	/* The client went away before the end: the remote must not take a
	 * cut stream for a complete one, so it gets a reset, not a FIN. */
	conn_release(cl, 1);
	free(cl->conn);
	cl->conn = NULL;
}

/* --tls and its options: one word, or one with a value. 1 when argv[*i]
 * was one of them (*i moved past its value), 0 when not, -1 after a usage
 * answer. */
static int parse_tls_opt(struct ctl_client *cl, struct ctl_conn *k, int argc, char **argv, int *i)
{
	static const struct {
		const char *name;
		size_t off, len;
	} opts[] = {
	    {"--cafile", offsetof(struct ctl_conn, cafile), sizeof(k->cafile)},
	    {"--servername", offsetof(struct ctl_conn, servername), sizeof(k->servername)},
	    {"--alpn", offsetof(struct ctl_conn, alpn), sizeof(k->alpn)},
	};
	size_t j;

	if (!strcmp(argv[*i], "--tls")) {
		k->tls_on = 1;
		return 1;
	}
	for (j = 0; j < sizeof(opts) / sizeof(opts[0]); j++) {
		if (strcmp(argv[*i], opts[j].name))
			continue;
		if (*i + 1 == argc) {
			ctl_end(cl, CTL_USAGE, "connect: option '%s' needs a value", opts[j].name);
			return -1;
		}
		if (strlen(argv[*i + 1]) >= opts[j].len) {
			ctl_end(cl, CTL_USAGE, "connect: %s: too long", opts[j].name);
			return -1;
		}
		strcpy((char *)k + opts[j].off, argv[++*i]);
		return 1;
	}
	return 0;
}

/* Seconds as "10" or "0.5" into ns, within [1 ms, 3600 s]; 0 or -1. */
static int parse_timeout(const char *s, xs_time_t *out)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	v = strtod(s, &end);
	if (*end || !(v >= 0.001) || v > 3600)
		return -1;
	*out = (xs_time_t)(v * 1e9 + 0.5);
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

#define CONNECT_USAGE                                                                              \
	"usage: connect [--tls [--cafile FILE] [--servername NAME] [--alpn LIST]] HOST PORT "      \
	"[-w SECONDS]"

static void connect_begin(struct ctl_client *cl);
static void connect_resolved(struct ctl_client *cl, const struct xs_dns_result *r);

void ctl_cmd_connect(struct ctl_client *cl, int argc, char **argv)
{
	struct ctl_conn *k;
	const char *pos[2];
	int i, npos = 0, rc;

	k = calloc(1, sizeof(*k));
	if (!k) {
		ctl_end(cl, CTL_ERROR, "connect: out of memory");
		return;
	}
	k->h = (struct xs_tcp)XS_NO_HANDLE;
	k->tls = (struct xs_tls)XS_NO_HANDLE;
	k->timeout = CONN_TIMEOUT_DEFAULT;
	if (cl->json) {
		ctl_end(cl, CTL_USAGE,
			"connect: --json does not apply (the output is the "
			"remote's bytes)");
		goto err;
	}
	for (i = 1; i < argc; i++) {
		rc = parse_tls_opt(cl, k, argc, argv, &i);
		if (rc < 0)
			goto err;
		if (rc)
			continue;
		if (!strcmp(argv[i], "-w")) {
			if (i + 1 == argc) {
				ctl_end(cl, CTL_USAGE, "connect: option '-w' needs a value");
				goto err;
			}
			if (parse_timeout(argv[++i], &k->timeout)) {
				ctl_end(cl, CTL_USAGE,
					"connect: invalid -w '%.64s': expected seconds 0.001-3600",
					argv[i]);
				goto err;
			}
		} else if (argv[i][0] == '-') {
			ctl_end(cl, CTL_USAGE,
				"connect: unknown option '%.64s' (" CONNECT_USAGE ")", argv[i]);
			goto err;
		} else if (npos == 2) {
			ctl_end(cl, CTL_USAGE,
				"connect: unexpected argument '%.64s' (" CONNECT_USAGE ")",
				argv[i]);
			goto err;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos < 2) {
		ctl_end(cl, CTL_USAGE, "connect: missing %s (" CONNECT_USAGE ")",
			npos ? "PORT" : "HOST and PORT");
		goto err;
	}
	if (parse_port(pos[1], &k->port)) {
		ctl_end(cl, CTL_USAGE, "connect: invalid PORT '%.64s': expected 1-65535", pos[1]);
		goto err;
	}
	if (!k->tls_on && (k->cafile[0] || k->servername[0] || k->alpn[0])) {
		ctl_end(cl, CTL_USAGE, "connect: --cafile, --servername and --alpn need --tls");
		goto err;
	}
	if (k->tls_on) {
		/* The client context now: a CA file that cannot be used is
		 * this command's error, before any connection. */
		struct xs_tls_ctx_opts to = {.client = 1,
					     .ca_file = k->cafile[0] ? k->cafile : NULL,
					     .alpn = k->alpn[0] ? k->alpn : NULL,
					     .handshake_timeout_ms =
						 (unsigned)((k->timeout + XS_MS(1) - 1) / XS_MS(1)),
					     .max_handshakes = 1,
					     .session_cache = 1};
		char why[400];

		k->tctx = xs_tls_ctx_new(&to, why, sizeof(why));
		if (!k->tctx) {
			ctl_end(cl, CTL_ERROR, "connect: %s", why);
			goto err;
		}
	}
	snprintf(k->host, sizeof(k->host), "%.*s", (int)sizeof(k->host) - 1, pos[0]);
	cl->conn = k;
	/* An IPv6 literal: no resolver involved (it asks for A records only). */
	if (strchr(pos[0], ':')) {
		if (xs_addr_parse(pos[0], &k->dst6) || k->dst6.family != XS_AF_INET6) {
			cl->conn = NULL;
			ctl_end(cl, CTL_USAGE, "connect: invalid HOST '%.64s': expected a unicast "
				"IPv6 address", pos[0]);
			goto err;
		}
		k->v6 = 1;
		connect_begin(cl);
		return;
	}
	rc = ctl_resolve_host(cl, "connect", pos[0], &k->dst, connect_resolved);
	if (rc == 1)
		connect_begin(cl);
	return;
err:
	xs_tls_ctx_free(k->tctx);
	free(k);
}

static void connect_resolved(struct ctl_client *cl, const struct xs_dns_result *r)
{
	if (r->error) {
		ctl_end(cl, CTL_ERROR, "connect: %.64s: %s", cl->dns_name,
			ctl_resolve_strerror(r->error));
		return;
	}
	cl->conn->dst = r->addrs[0];
	connect_begin(cl);
}

/* After the parse (and the resolve when HOST is a name): opens the
 * connection, or ends the command. */
static void connect_begin(struct ctl_client *cl)
{
	struct ctl_conn *k = cl->conn;
	char host[XS_ADDR_STRLEN];
	uint32_t nh;
	struct xs_tcp h;

	if (k->v6) {
		xs_addr_format(&k->dst6, host, sizeof(host));
		snprintf(k->name, sizeof(k->name), "[%s]:%u", host, k->port);
		if (ctl_ip6_is_ours(cl, k->dst6.a)) {
			ctl_end(cl, CTL_ERROR,
				"connect %s: %s is the stack's own address (it has no loopback)",
				k->name, host);
			return;
		}
		h = xs_tcp_connect_addr(ST(cl), &k->dst6, k->port, NULL);
		goto opened;
	}
	if (!k->dst || k->dst >= 0xe0000000u) {
		ctl_end(cl, CTL_USAGE,
			"connect: invalid HOST '%.64s': expected a unicast IPv4 address "
			"A.B.C.D or a name",
			k->host);
		return;
	}
	ctl_ip_str(k->dst, host);
	snprintf(k->name, sizeof(k->name), "%s:%u", host, k->port);
	if (k->dst == xs_stack_ip(ST(cl))) {
		ctl_end(cl, CTL_ERROR,
			"connect %s: %s is the stack's own address (it has no loopback)", k->name,
			host);
		return;
	}
	if (xs_route_lookup(ST(cl), k->dst, &nh)) {
		ctl_end(cl, CTL_ERROR, "connect %s: no route to %s (see route show)", k->name,
			host);
		return;
	}
	h = xs_tcp_connect(ST(cl), k->dst, k->port);
opened:
	if (h.id < 0) {
		ctl_end(cl, CTL_ERROR, "connect %s: %s%s", k->name, strerror(-h.id),
			h.id == -EMFILE		 ? " (no free TCP handle)"
			: h.id == -EADDRNOTAVAIL ? " (no free local port)"
			: h.id == -ENETUNREACH	 ? " (no route; see route show)"
			: h.id == -EINVAL ? " (not a unicast host address: a broadcast? ours?)"
					  : "");
		return;
	}
	k->h = h;
	k->deadline = cl->ctl->now + k->timeout;
	if (k->tls_on) {
		/* The name checked and sent as SNI: --servername, else HOST
		 * when it is a name; an address is checked as one. */
		const char *name = k->servername[0] ? k->servername : k->host;
		struct in_addr a;

		if (!k->servername[0] && inet_pton(AF_INET, k->host, &a) == 1)
			name = NULL;
		k->tls = xs_tls_client(ST(cl), k->tctx, h, name, on_tls_event, cl);
		if (k->tls.id < 0) {
			int e = -k->tls.id;

			k->tls = (struct xs_tls)XS_NO_HANDLE;
			conn_release(cl, 1);
			ctl_end(cl, CTL_ERROR, "connect %s: TLS: %s", k->name, strerror(e));
			return;
		}
	} else {
		xs_tcp_set_event_cb(ST(cl), h, on_tcp_event, cl);
	}
	cl->state = CL_RUN;
}
