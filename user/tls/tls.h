/* The TLS module: contexts (tls_ctx.c), sessions over TCP handles (tls_sess.c),
 * their handle numbers and ready list (tls_handle.c), TCP handle use (tls_tcp.c). */
#ifndef XS_TLS_TLS_H
#define XS_TLS_TLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include <xdpstack/tls.h>

#include "core/timer.h"

#define TLS_RECORD_MAX 16384	/* plaintext bytes per record (RFC 8446 5.1) */
#define TLS_OUT_MAX (64 * 1024) /* records the TCP send buffer has not taken yet */
#define TLS_ERR_LEN 192
#define TLS_CACHE_KEY 320 /* "name|ADDR|PORT", ADDR either family */

struct xs_stack;

/* Another certificate a server picks by SNI (xs_tls_ctx_add_cert). */
struct tls_sni_cert {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) * chain;
};

/* A client's last session with one server, for resumption. */
struct tls_cache_entry {
	char key[TLS_CACHE_KEY];
	SSL_SESSION *sess;
	uint64_t used; /* the context's clock when last stored: the oldest goes */
};

struct xs_tls_ctx {
	SSL_CTX *ssl;
	BIO_METHOD *bio;	  /* our BIO over a TCP handle */
	struct xs_tls_ctx_opts o; /* strings not kept: pointers are NULLed */
	unsigned char alpn[256];  /* wire form: length-prefixed names */
	unsigned alpn_len;
	unsigned handshaking;	   /* sessions in their handshake (max_handshakes) */
	struct tls_sess *sessions; /* every session, closing ones too */
	struct tls_sni_cert *sni;
	unsigned nsni;
	struct tls_cache_entry *cache; /* client: o.session_cache entries */
	unsigned ncache;
	uint64_t cache_clock;
};

/* One TLS connection over one TCP handle. */
struct tls_sess {
	struct xs_stack *st;
	struct xs_tls_ctx *ctx;
	struct tls_sess *prev, *next;	    /* ctx->sessions */
	struct tls_sess *st_prev, *st_next; /* the stack's, st->tls->all */
	int handle;			    /* its number; -1 once the application let go */
	uint32_t hgen;			    /* which opening of the number */
	struct tls_sess *ready_next;	    /* st->tls->ready or ->delivering */
	unsigned ev_pending;		    /* XS_EV_* raised, not yet delivered */
	SSL *ssl;
	struct xs_tcp tcp; /* the TCP handle; id -1 once released (tls_tcp.c) */
	xs_tls_cb cb;
	void *arg;
	struct xs_timer timer; /* the handshake's deadline, then a close's */
	xs_time_t timer_len;   /* set_deadline outside a poll: the length to arm */
	bool timer_start;      /* ... at the next poll, whose clock is current */
	uint8_t *out;	       /* records TCP did not take (allocated then) */
	size_t out_len, out_off;
	int err;     /* -errno once failed */
	int tcp_err; /* what the BIO met on the TCP handle */
	bool client, hs_done, counted, nospace, tcp_eof;
	bool fatal; /* OpenSSL's state is broken: no SSL_shutdown */
	bool shut_wanted, notify_sent, tcp_shut, closing, peer_closed;
	char errtext[TLS_ERR_LEN];
	char cache_key[TLS_CACHE_KEY]; /* client: where its session is kept */
	char sni[256];		       /* server: the name the ClientHello asked for */
};

/* A stack's sessions (st->tls, made with its first session). Numbers are
 * reused last in, first out; every session, closing ones included, is on
 * the all list so that xs_stack_free can end them. */
struct tls_table {
	struct tls_sess **handle; /* handle[0 .. nhandles) */
	uint32_t *hfree;	  /* free numbers (a stack) */
	uint32_t nhandles, nfree, hnext_unused;
	uint32_t hgen;		     /* generation of the last number given */
	struct tls_sess *ready;	     /* sessions with events to deliver */
	struct tls_sess *delivering; /* the rest of the list being delivered */
	struct tls_sess *all;
};

/* tls_sess.c: the session calls behind user/api/tls.c, with the returns of
 * the xs_tls_* calls they serve. Opens return a handle number (its
 * generation in *gen) or -errno. */
int tls_server(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp, xs_tls_cb cb,
	       void *arg, uint32_t *gen);
int tls_client(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp, const char *name,
	       xs_tls_cb cb, void *arg, uint32_t *gen);
ssize_t tls_send(struct tls_sess *t, const void *buf, size_t len);
ssize_t tls_recv(struct tls_sess *t, void *buf, size_t cap);
int tls_shutdown(struct tls_sess *t);
/* Both let go of the handle number at once (t may be freed). */
void tls_close(struct tls_sess *t);
void tls_abort(struct tls_sess *t);
int tls_poll_events(const struct tls_sess *t);
void tls_info(const struct tls_sess *t, struct xs_tls_info *out);
BIO_METHOD *tls_bio_method(void);
void tls_tcp_event(struct tls_sess *t, unsigned events);
void tls_timer_fired(struct tls_sess *t);

/* tls_handle.c: numbers, the stack's list, events. */
/* The session behind number h of generation gen, or NULL. */
struct tls_sess *tls_get(const struct xs_stack *st, int h, uint32_t gen);
/* A number for t, and t on the stack's list: 0, -ENOMEM. */
int tls_handle_alloc(struct xs_stack *st, struct tls_sess *t);
/* The application's number given back; nothing more is delivered to it. */
void tls_handle_release(struct tls_sess *t);
/* Off the stack's list (and the ready list) before t is freed. */
void tls_unlink(struct tls_sess *t);
/* Raises events for the application: delivered after the batch and TCP's
 * callbacks (user/api/events.c), merged into one call per poll. */
void tls_raise(struct tls_sess *t, unsigned events);
/* Delivery, as tcp_deliver_begin/next: a session closed meanwhile never
 * comes. */
void tls_deliver_begin(struct xs_stack *st);
struct tls_sess *tls_deliver_next(struct xs_stack *st, unsigned *events);
bool tls_events_pending(const struct xs_stack *st);
/* xs_stack_free: every session still there is aborted (its context forgets
 * it), then the table goes. Before TCP's own end. */
void tls_fini(struct xs_stack *st);

/* tls_ctx.c */
SSL_SESSION *tls_cache_get(struct xs_tls_ctx *c, const char *key);
/* Takes the text of OpenSSL's earliest queued error into buf; 0 if none. */
unsigned long tls_openssl_error(char *buf, size_t len);

/* tls_tcp.c: every use of the TCP handle. The handle is t->tcp. */
int tls_tcp_attach(struct tls_sess *t, struct xs_tcp tcp);
void tls_tcp_listen(struct tls_sess *t);
ssize_t tls_tcp_send(struct tls_sess *t, const void *buf, size_t len);
ssize_t tls_tcp_recv(struct tls_sess *t, void *buf, size_t cap);
void tls_tcp_shutdown(struct tls_sess *t);
void tls_tcp_release(struct tls_sess *t, bool abort);
int tls_tcp_error(const struct tls_sess *t);
int tls_tcp_events(const struct tls_sess *t);
int tls_tcp_peer(const struct tls_sess *t, struct xs_addr *addr, uint16_t *port);
/* The session's timer, on TCP's wheel. */
void tls_timer_arm(struct tls_sess *t, xs_time_t when);
void tls_timer_cancel(struct tls_sess *t);
xs_time_t tls_now(const struct tls_sess *t);
/* Inside xs_stack_poll (callbacks included): tls_now is this poll's time;
 * outside, the last poll's, maybe long ago (or 0 before the first). */
bool tls_in_poll(const struct tls_sess *t);

#endif
