/* TLS sessions over TCP handles: OpenSSL driven by the handle's events through
 * a BIO of ours (no kernel socket), a handshake deadline, close_notify. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/stack.h"
#include "tls/tls.h"

/* --- the BIO: OpenSSL's reads and writes on the TCP handle -------------------
 * Reads take from the TCP receive buffer straight into OpenSSL's record
 * buffer. Writes go straight into the TCP send buffer; what it cannot take
 * waits in t->out (at most TLS_OUT_MAX: a send stops at a full buffer), so a
 * write never fails for lack of room and OpenSSL never holds a half-written
 * record that would have to be retried with the same arguments. */

/* Pushes t->out into TCP: 0 (maybe some left), -1 on a TCP error. */
static int out_flush(struct tls_sess *t)
{
	while (t->out_off < t->out_len) {
		ssize_t n = tls_tcp_send(t, t->out + t->out_off, t->out_len - t->out_off);

		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			t->tcp_err = (int)n;
			return -1;
		}
		t->out_off += (size_t)n;
	}
	free(t->out);
	t->out = NULL;
	t->out_len = t->out_off = 0;
	return 0;
}

static int bio_write(BIO *b, const char *data, int len)
{
	struct tls_sess *t = BIO_get_data(b);
	size_t off = 0, need;
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (t->tcp_err || out_flush(t) < 0)
		return -1;
	if (!t->out) {
		n = tls_tcp_send(t, data, (size_t)len);
		if (n > 0)
			off = (size_t)n;
		else if (n != -EAGAIN) {
			t->tcp_err = (int)n;
			return -1;
		}
		if (off == (size_t)len)
			return len;
		t->out = malloc(TLS_OUT_MAX);
		if (!t->out) {
			t->tcp_err = -ENOMEM;
			return -1;
		}
	}
	if (t->out_off) {
		memmove(t->out, t->out + t->out_off, t->out_len - t->out_off);
		t->out_len -= t->out_off;
		t->out_off = 0;
	}
	need = (size_t)len - off;
	if (need > TLS_OUT_MAX - t->out_len) {
		t->tcp_err = -ENOBUFS;
		return -1;
	}
	memcpy(t->out + t->out_len, data + off, need);
	t->out_len += need;
	return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct tls_sess *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	n = tls_tcp_recv(t, buf, (size_t)len);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		t->tcp_eof = true;
		return 0;
	}
	if (n == -EAGAIN) {
		BIO_set_retry_read(b);
		return -1;
	}
	t->tcp_err = (int)n;
	return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Writes are in TCP's hands at once: a flush has nothing to do. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO_METHOD *tls_bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xdpstack tcp");

	if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
		  !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))) {
		BIO_meth_free(m);
		m = NULL;
	}
	return m;
}

/* --- state -------------------------------------------------------------------- */

/* The session's deadline, ms from now. Outside a poll the stack's clock is the
 * last poll's (0 before the first), so the timer fires at the next poll and
 * the deadline is counted from that poll's time (tls_timer_fired). */
static void set_deadline(struct tls_sess *t, unsigned ms)
{
	t->timer_len = XS_MS(ms);
	t->timer_start = !tls_in_poll(t);
	tls_timer_arm(t, tls_now(t) + (t->timer_start ? 0 : t->timer_len));
}

static struct xs_stats *stats(struct tls_sess *t)
{
	return &t->st->stats;
}

/* The session leaves the handshake budget (done, failed or timed out). */
static void uncount(struct tls_sess *t)
{
	if (!t->counted)
		return;
	t->counted = false;
	t->ctx->handshaking--;
	stats(t)->tls_handshaking--;
}

static void tls_free(struct tls_sess *t, bool abort)
{
	tls_timer_cancel(t);
	uncount(t);
	tls_tcp_release(t, abort);
	tls_unlink(t);
	if (t->prev)
		t->prev->next = t->next;
	else
		t->ctx->sessions = t->next;
	if (t->next)
		t->next->prev = t->prev;
	SSL_free(t->ssl);
	free(t->out);
	stats(t)->tls_sessions--;
	free(t);
}

/* The first failure stays: its error and its reason, in OpenSSL's words. */
static void set_error(struct tls_sess *t, int err, const char *text)
{
	t->fatal = true;
	if (t->err)
		return;
	t->err = err;
	snprintf(t->errtext, sizeof(t->errtext), "%s", text);
	if (!t->hs_done) {
		tls_timer_cancel(t);
		uncount(t);
		if (err == -ETIMEDOUT && !t->tcp_err)
			stats(t)->tls_handshake_timeouts++;
		else
			stats(t)->tls_handshake_failed++;
	}
}

/* OpenSSL refused to go on (sslerr from SSL_get_error): name why. */
static void tls_fail(struct tls_sess *t, int sslerr)
{
	char why[TLS_ERR_LEN], text[TLS_ERR_LEN + 64];
	unsigned long e = tls_openssl_error(why, sizeof(why));
	int reason = e ? ERR_GET_REASON(e) : 0;
	long v = SSL_get_verify_result(t->ssl);

	if (t->tcp_err) {
		snprintf(text, sizeof(text), "TCP: %s", strerror(-t->tcp_err));
		set_error(t, t->tcp_err, text);
	} else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK) {
		snprintf(text, sizeof(text), "%s: %s", why, X509_verify_cert_error_string(v));
		if (!t->err)
			stats(t)->tls_verify_failed++;
		set_error(t, -EKEYREJECTED, text);
	} else if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
		set_error(t, -ECONNABORTED, why); /* the peer's alert */
	} else if (t->tcp_eof) {
		set_error(t, -ECONNRESET,
			  t->hs_done ? "the peer closed the connection without close_notify"
				     : "the peer closed the connection during the handshake");
	} else if (e) {
		set_error(t, -EPROTO, why);
	} else {
		snprintf(text, sizeof(text), "TLS error (OpenSSL error %d)", sslerr);
		set_error(t, -EPROTO, text);
	}
}

/* The connection underneath failed (reset, timeout). */
static void tcp_failed(struct tls_sess *t, int err)
{
	char text[TLS_ERR_LEN];

	t->tcp_err = err;
	snprintf(text, sizeof(text), "TCP: %s", strerror(-err));
	set_error(t, err, text);
}

static void handshake_done(struct tls_sess *t, unsigned *ev)
{
	t->hs_done = true;
	tls_timer_cancel(t);
	uncount(t);
	stats(t)->tls_handshakes++;
	if (SSL_session_reused(t->ssl))
		stats(t)->tls_resumed++;
	*ev |= XS_EV_WRITABLE;
	/* Data that came with the last flight: no TCP event will say so. */
	if (SSL_has_pending(t->ssl) || (tls_tcp_events(t) & XS_EV_READABLE))
		*ev |= XS_EV_READABLE;
}

/* As far as the bytes at hand allow. */
static void handshake(struct tls_sess *t, unsigned *ev)
{
	int r, e;

	/* A client waits for its TCP connection; SYN-SENT is neither. */
	if (!(tls_tcp_events(t) & (XS_EV_READABLE | XS_EV_WRITABLE | XS_EV_HUP)))
		return;
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		handshake_done(t, ev);
		return;
	}
	e = SSL_get_error(t->ssl, r);
	if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !t->tcp_eof && !t->tcp_err)
		return;
	tls_fail(t, e);
	*ev |= XS_EV_ERROR;
}

/* Moves a shutdown along: what TCP has not taken, then close_notify, then
 * the FIN. 1 when done, 0 while waiting for send room, -1 on failure. */
static int shut_step(struct tls_sess *t)
{
	if (out_flush(t) < 0)
		return -1;
	if (t->out)
		return 0;
	if (!t->notify_sent) {
		t->notify_sent = true;
		if (t->hs_done && !t->fatal) {
			ERR_clear_error();
			if (SSL_shutdown(t->ssl) >= 0)
				stats(t)->tls_close_notify_tx++;
			ERR_clear_error();
			if (t->tcp_err)
				return -1;
			if (t->out)
				return 0;
		}
	}
	if (!t->tcp_shut) {
		t->tcp_shut = true;
		tls_tcp_shutdown(t);
	}
	return 1;
}

/* A closed session, still sending its last records and close_notify. */
static void closing_event(struct tls_sess *t, unsigned events)
{
	int r;

	if (events & XS_EV_ERROR) {
		tls_free(t, true);
		return;
	}
	r = shut_step(t);
	if (r)
		tls_free(t, r < 0);
}

/* Every TCP event of the handle (tls_tcp.c, from TCP's delivery): drive the
 * handshake, flush, and raise the session's events, which the application
 * gets after TCP's callbacks (tls_raise). */
void tls_tcp_event(struct tls_sess *t, unsigned events)
{
	unsigned ev = 0;
	int err;

	if (t->closing) {
		closing_event(t, events);
		return;
	}
	if ((events & XS_EV_ERROR) && !t->err && (err = tls_tcp_error(t)) != 0) {
		tcp_failed(t, err);
		ev |= XS_EV_ERROR;
	}
	if (!t->err && !t->hs_done) {
		handshake(t, &ev);
	} else if (!t->err) {
		if (events & (XS_EV_READABLE | XS_EV_HUP))
			ev |= XS_EV_READABLE;
		if (events & XS_EV_WRITABLE) {
			if (out_flush(t) < 0 || (!t->out && t->shut_wanted && shut_step(t) < 0)) {
				tls_fail(t, SSL_ERROR_SYSCALL);
				ev |= XS_EV_ERROR;
			} else if (!t->out && t->nospace) {
				t->nospace = false;
				ev |= XS_EV_WRITABLE;
			}
		}
	}
	if (events & XS_EV_HUP)
		ev |= XS_EV_HUP;
	tls_raise(t, ev);
}

void tls_timer_fired(struct tls_sess *t)
{
	char text[TLS_ERR_LEN];

	if (t->timer_start) {
		t->timer_start = false;
		tls_timer_arm(t, tls_now(t) + t->timer_len);
		return;
	}
	if (t->closing) {
		/* The close_notify could not leave in time (a closed window). */
		stats(t)->tls_close_aborts++;
		tls_free(t, true);
		return;
	}
	if (t->hs_done || t->err)
		return;
	snprintf(text, sizeof(text), "handshake not done within %u ms",
		 t->ctx->o.handshake_timeout_ms);
	set_error(t, -ETIMEDOUT, text);
	tls_raise(t, XS_EV_ERROR);
}

/* --- sessions ----------------------------------------------------------------- */

/* A session on tcp, not yet counted anywhere: 0 and *out, or -errno. */
static int tls_new(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp, bool client,
		   xs_tls_cb cb, void *arg, struct tls_sess **out)
{
	struct tls_sess *t;
	BIO *b;
	int rc;

	if (!c || (c->o.client != 0) != client)
		return -EINVAL;
	if (c->handshaking >= c->o.max_handshakes) {
		st->stats.tls_handshake_refused++;
		return -EBUSY;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->st = st;
	t->ctx = c;
	t->cb = cb;
	t->arg = arg;
	t->client = client;
	t->handle = -1;
	t->tcp = (struct xs_tcp)XS_NO_HANDLE;
	rc = tls_tcp_attach(t, tcp);
	if (rc) {
		free(t);
		return rc;
	}
	ERR_clear_error();
	t->ssl = SSL_new(c->ssl);
	b = t->ssl ? BIO_new(c->bio) : NULL;
	if (!b) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(b, t);
	SSL_set_bio(t->ssl, b, b);
	SSL_set_app_data(t->ssl, t);
	if (client)
		SSL_set_connect_state(t->ssl);
	else
		SSL_set_accept_state(t->ssl);
	*out = t;
	return 0;
}

/* Undoes tls_new: the TCP handle stays the caller's. */
static int tls_drop(struct tls_sess *t, int err)
{
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
	return err;
}

/* The session counts from here: its number, in the context's list and
 * budget, its deadline armed, and the TCP handle reporting to it. */
static int tls_start(struct tls_sess *t, uint32_t *gen)
{
	struct xs_tls_ctx *c = t->ctx;
	int h = tls_handle_alloc(t->st, t);

	if (h < 0)
		return tls_drop(t, h);
	t->next = c->sessions;
	if (c->sessions)
		c->sessions->prev = t;
	c->sessions = t;
	c->handshaking++;
	t->counted = true;
	stats(t)->tls_sessions++;
	stats(t)->tls_handshaking++;
	set_deadline(t, c->o.handshake_timeout_ms);
	tls_tcp_listen(t);
	*gen = t->hgen;
	return h;
}

int tls_server(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp, xs_tls_cb cb,
	       void *arg, uint32_t *gen)
{
	struct tls_sess *t;
	int rc = tls_new(st, c, tcp, false, cb, arg, &t);

	return rc ? rc : tls_start(t, gen);
}

/* RFC 6066 3: SNI carries host names, never a literal address; the
 * certificate must then name the address (RFC 6125 6.2.1 via OpenSSL). */
static int client_name(struct tls_sess *t, const char *name)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
	char text[XS_ADDR_STRLEN];
	struct in6_addr a6;
	struct xs_addr peer;
	struct in_addr a;
	uint16_t port = 0;
	int ok;

	if (name && (!*name || strlen(name) > 253))
		return -EINVAL;
	if (tls_tcp_peer(t, &peer, &port))
		return -EBADF;
	/* The session cache is keyed by name and the peer's address of
	 * either family: an IPv6 peer has its own entry. */
	snprintf(t->cache_key, sizeof(t->cache_key), "%s|%s|%u", name ? name : "",
		 xs_addr_format(&peer, text, sizeof(text)), port);
	if (!name) {
		if (peer.family == XS_AF_INET6)
			ok = X509_VERIFY_PARAM_set1_ip(vp, peer.a, 16);
		else
			ok = X509_VERIFY_PARAM_set1_ip(vp, peer.a + 12, 4);
		return ok == 1 ? 0 : -ENOMEM;
	}
	if (inet_pton(AF_INET, name, &a) == 1 || inet_pton(AF_INET6, name, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1 ? 0 : -EINVAL;
	if (SSL_set_tlsext_host_name(t->ssl, name) != 1 || SSL_set1_host(t->ssl, name) != 1)
		return -EINVAL;
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

int tls_client(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp, const char *name,
	       xs_tls_cb cb, void *arg, uint32_t *gen)
{
	struct tls_sess *t;
	SSL_SESSION *sess;
	int rc = tls_new(st, c, tcp, true, cb, arg, &t);

	if (rc)
		return rc;
	rc = client_name(t, name);
	if (rc)
		return tls_drop(t, rc);
	sess = tls_cache_get(c, t->cache_key);
	if (sess)
		SSL_set_session(t->ssl, sess);
	return tls_start(t, gen);
}

ssize_t tls_send(struct tls_sess *t, const void *buf, size_t len)
{
	size_t done = 0;
	int n;

	if (t->err)
		return t->err;
	if (t->shut_wanted)
		return -EPIPE;
	if (!t->hs_done)
		return -EAGAIN;
	if (out_flush(t) < 0) {
		tls_fail(t, SSL_ERROR_SYSCALL);
		return t->err;
	}
	/* A record at a time, while TCP takes them: at most one waits in
	 * t->out when the send buffer fills. */
	while (done < len && !t->out) {
		size_t chunk = len - done < TLS_RECORD_MAX ? len - done : TLS_RECORD_MAX;

		ERR_clear_error();
		n = SSL_write(t->ssl, (const uint8_t *)buf + done, (int)chunk);
		if (n <= 0) {
			tls_fail(t, SSL_get_error(t->ssl, n));
			return done ? (ssize_t)done : t->err;
		}
		done += (size_t)n;
	}
	if (!done && len) {
		t->nospace = true;
		return -EAGAIN;
	}
	return (ssize_t)done;
}

ssize_t tls_recv(struct tls_sess *t, void *buf, size_t cap)
{
	int n, e;

	if (t->err)
		return t->err;
	if (!t->hs_done)
		return -EAGAIN;
	if (t->peer_closed)
		return 0;
	if (!cap)
		return -EINVAL;
	ERR_clear_error();
	n = SSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
	if (n > 0)
		return n;
	e = SSL_get_error(t->ssl, n);
	if (e == SSL_ERROR_ZERO_RETURN) {
		t->peer_closed = true;
		stats(t)->tls_close_notify_rx++;
		return 0;
	}
	if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !t->tcp_eof && !t->tcp_err)
		return -EAGAIN;
	tls_fail(t, e);
	return t->err;
}

int tls_shutdown(struct tls_sess *t)
{
	if (t->err)
		return t->err;
	t->shut_wanted = true;
	if (shut_step(t) < 0) {
		tls_fail(t, SSL_ERROR_SYSCALL);
		return t->err;
	}
	return 0;
}

void tls_close(struct tls_sess *t)
{
	int r;

	if (t->err || !t->hs_done) {
		/* A failed handshake's alert leaves with a graceful close; a
		 * stalled peer or a broken connection gets a reset. */
		tls_free(t, t->err == -ETIMEDOUT || t->tcp_err);
		return;
	}
	/* The number is free at once; the session lingers without it. */
	tls_handle_release(t);
	t->closing = true;
	t->cb = NULL;
	t->shut_wanted = true;
	r = shut_step(t);
	if (r) {
		tls_free(t, r < 0);
		return;
	}
	set_deadline(t, t->ctx->o.handshake_timeout_ms);
}

void tls_abort(struct tls_sess *t)
{
	tls_free(t, true);
}

int tls_poll_events(const struct tls_sess *t)
{
	int tev = tls_tcp_events(t);
	int ev = tev & XS_EV_HUP;

	if (tev < 0)
		return tev;
	if (t->err)
		return ev | XS_EV_ERROR | XS_EV_READABLE | XS_EV_WRITABLE;
	if (!t->hs_done)
		return ev;
	if (t->peer_closed || SSL_has_pending(t->ssl) || (tev & XS_EV_READABLE))
		ev |= XS_EV_READABLE;
	if (t->shut_wanted || (!t->out && (tev & XS_EV_WRITABLE)))
		ev |= XS_EV_WRITABLE;
	return ev;
}

void tls_info(const struct tls_sess *t, struct xs_tls_info *o)
{
	const unsigned char *alpn = NULL;
	unsigned alen = 0;
	const char *sni;
	X509 *peer;

	memset(o, 0, sizeof(*o));
	o->handshake_done = t->hs_done;
	o->version = t->hs_done ? SSL_get_version(t->ssl) : "";
	o->cipher = t->hs_done ? SSL_get_cipher_name(t->ssl) : "";
	if (!o->cipher)
		o->cipher = "";
	SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
	if (alpn && alen < sizeof(o->alpn)) {
		memcpy(o->alpn, alpn, alen);
		o->alpn[alen] = 0;
	}
	sni = t->client ? SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name) : t->sni;
	if (sni)
		snprintf(o->server_name, sizeof(o->server_name), "%s", sni);
	peer = SSL_get0_peer_certificate(t->ssl);
	if (peer)
		X509_NAME_oneline(X509_get_subject_name(peer), o->peer, sizeof(o->peer));
	o->peer_verified = t->hs_done && peer && SSL_get_verify_result(t->ssl) == X509_V_OK &&
			   (SSL_get_verify_mode(t->ssl) & SSL_VERIFY_PEER);
	o->resumed = t->hs_done && SSL_session_reused(t->ssl);
	o->close_notify_rcvd = t->peer_closed;
}
