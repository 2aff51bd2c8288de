/* libxdpstack TLS: TLS 1.2 and 1.3 sessions (OpenSSL) over the stack's TCP
 * handles, non-blocking, in the event model of every other handle. */
#ifndef XDPSTACK_TLS_H
#define XDPSTACK_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xdpstack/stack.h>

/* A context holds what many sessions share: certificate and key, the CAs a
 * peer is verified against, versions, ALPN, the session cache and the
 * budgets. A session is one TLS connection over one TCP handle.
 *
 * A session is named by a handle of its own kind, struct xs_tls, as every
 * other handle (include/xdpstack/stack.h, "Handles"): { id, gen } by value,
 * id a small number unique among the stack's open sessions, reused after a
 * close; gen which opening of it the handle is. xs_tls_server and
 * xs_tls_client return one, or one whose id is -errno (gen 0); every other
 * call checks it and answers -EBADF for a handle that is not open (closed,
 * an error return, a number since reused). A TCP handle where a session is
 * expected, or a session where a TCP handle is, does not compile.
 *
 * No kernel socket is involved: OpenSSL reads and writes the TCP handle
 * through a BIO of ours (xs_tcp_recv straight into OpenSSL's record buffer,
 * records straight into the TCP send buffer), so a record costs one copy in
 * and one out besides the cipher, as a kernel socket's user-space TLS does;
 * there is no kTLS-style offload.
 *
 * Threads: a context and its sessions belong to one stack's thread (share
 * nothing, as the stack itself). A program running several stacks makes a
 * context per stack.
 *
 * Events (include/xdpstack/stack.h, "Events", holds for TLS too): a
 * session's callback (xs_tls_cb, given when it is made) runs from
 * xs_stack_poll after the batch, the timers and the TCP callbacks, never
 * from the middle of parsing, one merged call per session and poll. It may
 * call any xs_* function, close or abort any session (its own included) and
 * gets nothing more after closing it. Events a call raises come at the next
 * poll.
 *       XS_EV_WRITABLE   the handshake completed (the first one), then: send
 *                        room again after xs_tls_send said -EAGAIN
 *       XS_EV_READABLE   xs_tls_recv will not say -EAGAIN: data, the peer's
 *                        close_notify (0), an error (a record that carried
 *                        no data, a TLS 1.3 ticket say, may still give
 *                        -EAGAIN: -EAGAIN is always a possible answer)
 *       XS_EV_ERROR      the session failed: xs_tls_error, xs_tls_strerror
 *       XS_EV_HUP        the TCP connection underneath is over
 * Readiness can be queried (xs_tls_poll_events), level-triggered.
 *
 * Buffers: what xs_tls_send is given is encrypted before it returns; the
 * stack keeps no pointer given to it but ctx. */
struct xs_tls_ctx;
struct xs_tls {
	int32_t id;
	uint32_t gen;
};

#define XS_TLS_1_2 0x0303
#define XS_TLS_1_3 0x0304

struct xs_tls_ctx_opts {
	int client;		       /* 1: client sessions (xs_tls_client), 0: server */
	const char *cert_file;	       /* PEM certificate, then its chain: a server's
					* (required), a client's own (optional) */
	const char *key_file;	       /* PEM private key of cert_file (NULL: in cert_file) */
	const char *ca_file;	       /* PEM CAs. Client: the server is verified against
					* them (NULL: the system's store, OpenSSL's default
					* paths). Server: non-NULL asks every client for a
					* certificate these signed, and refuses one without */
	int no_verify;		       /* client: 1 = accept any server certificate
					* (tests only; the session says peer_verified 0) */
	unsigned min_version;	       /* XS_TLS_1_2 or XS_TLS_1_3 (0: 1.2) */
	unsigned max_version;	       /* (0: 1.3) */
	const char *alpn;	       /* ALPN protocols, comma-separated ("h2,http/1.1").
					* A client offers them; a server picks the first of
					* its own that the client offers, and refuses a
					* client that offers only others (RFC 7301 3.2:
					* no_application_protocol); a client offering none
					* is served without. NULL: no ALPN */
	unsigned handshake_timeout_ms; /* from a session's creation to the end of
					* its handshake (0: 10000), 1-3600000; then
					* XS_EV_ERROR, -ETIMEDOUT. Also how long a closed
					* session may wait to send its close_notify */
	unsigned max_handshakes;       /* sessions of this context in their handshake at
					* once (0: 256), 1-1000000; past it xs_tls_server
					* and xs_tls_client fail with -EBUSY (counted:
					* tls_handshake_refused) */
	unsigned session_cache;	       /* sessions kept for resumption (0: 1024), up to
					* 1000000. A server: its cache, for TLS 1.2 session
					* ids (tickets, TLS 1.3's among them, cost it no
					* memory); a client: the last session of each
					* server (name, address and port) */
};

/* NULL + errno, with one line in err naming the file or value and why
 * ("cannot load --cert x.pem: No such file or directory"). */
struct xs_tls_ctx *xs_tls_ctx_new(const struct xs_tls_ctx_opts *o, char *err, size_t errlen);
/* Server: one more certificate, served to a client whose SNI names one of its
 * names (its subject alternative names, as X509_check_host); the others get
 * the context's own. 0, or -errno with one line in err. */
int xs_tls_ctx_add_cert(struct xs_tls_ctx *c, const char *cert_file, const char *key_file,
			char *err, size_t errlen);
/* Aborts the sessions still open (their handles are no longer open) and
 * frees the context. xs_stack_free aborts a stack's sessions likewise, so
 * the two may come in either order. */
void xs_tls_ctx_free(struct xs_tls_ctx *c);

typedef void (*xs_tls_cb)(struct xs_stack *st, struct xs_tls t, unsigned events, void *ctx);

/* A server session on an accepted TCP handle (c a server context). From then
 * on the TCP handle is the session's: it sets the handle's event callback and
 * closes it with the session; do not send, recv, close or set its callback
 * yourself (options and xs_tcp_get_info are fine). The session, or (the TCP
 * handle then stays the caller's) id -EBUSY (max_handshakes in progress),
 * -EBADF (not a connection), -EINVAL (c is a client context), -ENOMEM. */
struct xs_tls xs_tls_server(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp,
			    xs_tls_cb cb, void *ctx);
/* A client session on a TCP handle from xs_tcp_connect, connected or still
 * connecting (the handshake starts when it is). name is the server's name:
 * sent as SNI and required in its certificate (a DNS name, or an IPv4
 * address written A.B.C.D, then checked as an IP address and not sent);
 * NULL: the certificate must name the TCP peer's address. The last session
 * of the same server is offered for resumption. Errors as xs_tls_server, and
 * -EINVAL for a server context or a name that is empty or too long. */
struct xs_tls xs_tls_client(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp,
			    const char *name, xs_tls_cb cb, void *ctx);

/* Encrypts and queues up to len bytes; how many (maybe fewer), -EAGAIN
 * (handshake not done, or the TCP send buffer full: XS_EV_WRITABLE follows),
 * -EPIPE after xs_tls_shutdown, -EBADF, or the session's error. */
ssize_t xs_tls_send(struct xs_stack *st, struct xs_tls t, const void *buf, size_t len);
/* Up to cap bytes of plaintext; 0 after the peer's close_notify; -EAGAIN;
 * -EBADF; or the error (-ECONNRESET when the TCP stream ended without
 * close_notify: the data may have been cut short). */
ssize_t xs_tls_recv(struct xs_stack *st, struct xs_tls t, void *buf, size_t cap);
/* Half close: close_notify after what was sent, then the TCP FIN. Reading
 * goes on until the peer's close_notify. 0, -EBADF or the error. */
int xs_tls_shutdown(struct xs_stack *st, struct xs_tls t);
/* Releases the session: close_notify and a graceful TCP close once what was
 * sent is out (waiting at most handshake_timeout_ms for send room, then a
 * reset); a session that failed or never finished its handshake is closed
 * as it is (a timed-out one with a reset). The handle is not open from the
 * call on. 0 or -EBADF. */
int xs_tls_close(struct xs_stack *st, struct xs_tls t);
/* Resets the TCP connection and frees the session at once. 0 or -EBADF. */
int xs_tls_abort(struct xs_stack *st, struct xs_tls t);

/* XS_EV_* true now, or -EBADF. */
int xs_tls_poll_events(const struct xs_stack *st, struct xs_tls t);
/* The session's error, 0 if none: -ETIMEDOUT (handshake timeout),
 * -EKEYREJECTED (the peer's certificate failed verification), -ECONNABORTED
 * (the peer sent a fatal alert), -EPROTO (not TLS, or a protocol error),
 * -ECONNRESET (the peer closed mid-handshake, or without close_notify), or
 * TCP's own error (-ECONNREFUSED, -ETIMEDOUT, ...); -EBADF for a handle that
 * is not open. */
int xs_tls_error(const struct xs_stack *st, struct xs_tls t);
/* The reason as a line of text, OpenSSL's words ("certificate verify
 * failed: certificate has expired", "tlsv1 alert unknown ca", "wrong
 * version number"), "" when there is no error, or "not an open TLS
 * session". Valid until the session is closed. */
const char *xs_tls_strerror(const struct xs_stack *st, struct xs_tls t);

struct xs_tls_info {
	int handshake_done;
	const char *version;   /* "TLSv1.3", "TLSv1.2" ("" before the handshake) */
	const char *cipher;    /* OpenSSL's name ("TLS_AES_256_GCM_SHA384") */
	char alpn[256];	       /* the protocol ALPN chose, "" if none */
	char server_name[256]; /* SNI: the name sent (client) or received (server) */
	char peer[256];	       /* the peer certificate's subject ("/CN=host"), "" if none */
	int peer_verified;     /* the peer's certificate was verified (and its name) */
	int resumed;	       /* the handshake resumed an earlier session */
	int close_notify_rcvd; /* the peer's close_notify arrived */
};
/* 0 or -EBADF. */
int xs_tls_get_info(const struct xs_stack *st, struct xs_tls t, struct xs_tls_info *out);
/* The TCP handle underneath (xs_tcp_get_info, xs_tcp_setopt), or id -EBADF. */
struct xs_tcp xs_tls_tcp(const struct xs_stack *st, struct xs_tls t);

#endif
