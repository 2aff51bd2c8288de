/* TLS sessions inside the library: the context and session structs shared by
 * tls_ctx.c (OpenSSL contexts), tls.c (sessions) and tls_tcp.c (TCP handles). */
#ifndef XS_API_TLS_INT_H
#define XS_API_TLS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <xdpstack/tls.h>

#include "core/timer.h"

#define TLS_RECORD_MAX 16384	/* plaintext bytes per record (RFC 8446 5.1) */
#define TLS_OUT_MAX (64 * 1024) /* records the TCP send buffer has not taken yet */
#define TLS_ERR_LEN 192
#define TLS_CACHE_KEY 300 /* "name|A.B.C.D:PORT" */

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
	unsigned handshaking;	 /* sessions in their handshake (max_handshakes) */
	struct xs_tls *sessions; /* every session, closing ones too */
	struct tls_sni_cert *sni;
	unsigned nsni;
	struct tls_cache_entry *cache; /* client: o.session_cache entries */
	unsigned ncache;
	uint64_t cache_clock;
};

struct xs_tls {
	struct xs_stack *st;
	struct xs_tls_ctx *ctx;
	struct xs_tls *prev, *next; /* ctx->sessions */
	SSL *ssl;
	struct xs_tcp tcp; /* the TCP handle; id -1 once released (tls_tcp.c) */
	xs_tls_cb cb;
	void *arg;
	struct xs_timer timer; /* the handshake's deadline, then a close's */
	xs_time_t timer_len;   /* set_deadline outside a poll: the length to arm */
	bool timer_start;      /* ... at the next poll, whose clock is current */
	uint8_t *out;	       /* records TCP did not take (allocated then) */
	size_t out_len, out_off;
	int err;	     /* -errno once failed */
	int tcp_err;	     /* what the BIO met on the TCP handle */
	unsigned pending_ev; /* raised outside the TCP callback */
	bool client, hs_done, counted, nospace, tcp_eof;
	bool fatal; /* OpenSSL's state is broken: no SSL_shutdown */
	bool shut_wanted, notify_sent, tcp_shut, closing, peer_closed;
	char errtext[TLS_ERR_LEN];
	char cache_key[TLS_CACHE_KEY]; /* client: where its session is kept */
	char sni[256];		       /* server: the name the ClientHello asked for */
};

/* tls.c */
BIO_METHOD *tls_bio_method(void);
void tls_tcp_event(struct xs_tls *t, unsigned events);
void tls_timer_fired(struct xs_tls *t);

/* tls_ctx.c */
SSL_SESSION *tls_cache_get(struct xs_tls_ctx *c, const char *key);
/* Takes the text of OpenSSL's earliest queued error into buf; 0 if none. */
unsigned long tls_openssl_error(char *buf, size_t len);

/* tls_tcp.c: every use of the TCP handle. The handle is t->tcp. */
int tls_tcp_attach(struct xs_tls *t, struct xs_tcp tcp);
void tls_tcp_listen(struct xs_tls *t);
ssize_t tls_tcp_send(struct xs_tls *t, const void *buf, size_t len);
ssize_t tls_tcp_recv(struct xs_tls *t, void *buf, size_t cap);
void tls_tcp_shutdown(struct xs_tls *t);
void tls_tcp_release(struct xs_tls *t, bool abort);
int tls_tcp_error(const struct xs_tls *t);
int tls_tcp_events(const struct xs_tls *t);
int tls_tcp_peer(const struct xs_tls *t, uint32_t *ip, uint16_t *port);
/* The TCP callback runs at the next delivery (events raised from a timer or
 * an API call reach the application from there). */
void tls_tcp_wake(struct xs_tls *t);
/* The session's timer, on TCP's wheel. */
void tls_timer_arm(struct xs_tls *t, xs_time_t when);
void tls_timer_cancel(struct xs_tls *t);
xs_time_t tls_now(const struct xs_tls *t);
/* Inside xs_stack_poll (callbacks included): tls_now is this poll's time;
 * outside, the last poll's, maybe long ago (or 0 before the first). */
bool tls_in_poll(const struct xs_tls *t);

#endif
