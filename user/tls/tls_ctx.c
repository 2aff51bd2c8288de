/* TLS contexts: OpenSSL's SSL_CTX set up from xs_tls_ctx_opts (certificates,
 * verification, versions, ALPN, SNI certificates, session caches). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

unsigned long tls_openssl_error(char *buf, size_t len)
{
	unsigned long e, first = 0;
	const char *reason;

	/* The earliest error says what went wrong; later ones say where. */
	while ((e = ERR_get_error()) != 0)
		if (!first)
			first = e;
	if (!first) {
		if (len)
			buf[0] = 0;
		return 0;
	}
	reason = ERR_reason_error_string(first);
	if (ERR_SYSTEM_ERROR(first))
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(first)));
	else if (reason)
		snprintf(buf, len, "%s", reason);
	else
		ERR_error_string_n(first, buf, len);
	return first;
}

static int ctx_fail(char *err, size_t errlen, int e, const char *what, const char *arg)
{
	char why[TLS_ERR_LEN];

	if (!tls_openssl_error(why, sizeof(why)))
		snprintf(why, sizeof(why), "%s", strerror(e));
	snprintf(err, errlen, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", why);
	errno = e;
	return -e;
}

/* "h2,http/1.1" into ALPN's wire form (RFC 7301 3.1): each name 1-255
 * bytes, all of them in 255 bytes here. */
static int alpn_parse(struct xs_tls_ctx *c, const char *s)
{
	size_t n = 0;
	const char *p = s, *comma;

	while (*p) {
		size_t l;

		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (!l || l > 255 || n + 1 + l > sizeof(c->alpn) - 1)
			return -1;
		c->alpn[n++] = (unsigned char)l;
		memcpy(c->alpn + n, p, l);
		n += l;
		p += l;
		if (comma && !*++p)
			return -1; /* a trailing comma */
	}
	c->alpn_len = (unsigned)n;
	return n ? 0 : -1;
}

/* RFC 7301 3.2: the server's choice, the first of its own list that the
 * client offers; a client offering none of them gets the fatal
 * no_application_protocol alert. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	struct xs_tls_ctx *c = arg;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, c->alpn, c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Runs once the ClientHello's SNI is known: a certificate added for that
 * name replaces the context's own for this connection. */
static int sni_cert(SSL *ssl, void *arg)
{
	struct xs_tls_ctx *c = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	unsigned i;

	if (!name || !c->nsni)
		return 1;
	for (i = 0; i < c->nsni; i++)
		if (X509_check_host(c->sni[i].cert, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
				    NULL) == 1)
			return SSL_use_cert_and_key(ssl, c->sni[i].cert, c->sni[i].key,
						    c->sni[i].chain, 1) == 1;
	return 1;
}

/* Every ClientHello's SNI, resumed or not (OpenSSL forgets it on a TLS 1.2
 * resumption). */
static int sni_seen(SSL *ssl, int *alert, void *arg)
{
	struct tls_sess *t = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	(void)arg;
	if (t && name)
		snprintf(t->sni, sizeof(t->sni), "%s", name);
	return SSL_TLSEXT_ERR_OK;
}

/* A client's new session (after a TLS 1.2 handshake, or with each TLS 1.3
 * ticket) replaces what the cache held for its server. */
static int session_new(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_sess *t = SSL_get_app_data(ssl);
	struct xs_tls_ctx *c = t ? t->ctx : NULL;
	struct tls_cache_entry *e = NULL;
	unsigned i;

	if (!c || !c->cache || !t->cache_key[0] || !SSL_SESSION_is_resumable(sess))
		return 0;
	/* The same server's entry; else a free one; else the least recently
	 * stored makes room. */
	for (i = 0; i < c->ncache && !e; i++)
		if (!strcmp(c->cache[i].key, t->cache_key))
			e = &c->cache[i];
	if (!e && c->ncache < c->o.session_cache)
		e = &c->cache[c->ncache++];
	if (!e) {
		e = &c->cache[0];
		for (i = 1; i < c->ncache; i++)
			if (c->cache[i].used < e->used)
				e = &c->cache[i];
	}
	if (e->sess)
		SSL_SESSION_free(e->sess);
	snprintf(e->key, sizeof(e->key), "%s", t->cache_key);
	e->sess = sess;
	e->used = ++c->cache_clock;
	return 1; /* the reference is ours */
}

SSL_SESSION *tls_cache_get(struct xs_tls_ctx *c, const char *key)
{
	unsigned i;

	for (i = 0; c->cache && i < c->ncache; i++)
		if (c->cache[i].sess && !strcmp(c->cache[i].key, key))
			return SSL_SESSION_is_resumable(c->cache[i].sess) ? c->cache[i].sess : NULL;
	return NULL;
}

static int load_cert_key(SSL_CTX *ssl, const char *cert, const char *key, char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1)
		return ctx_fail(err, errlen, ENOENT, "cannot load the certificate", cert);
	if (SSL_CTX_use_PrivateKey_file(ssl, key ? key : cert, SSL_FILETYPE_PEM) != 1)
		return ctx_fail(err, errlen, ENOENT, "cannot load the private key",
				key ? key : cert);
	if (SSL_CTX_check_private_key(ssl) != 1)
		return ctx_fail(err, errlen, EINVAL,
				"the private key does not match the certificate", cert);
	return 0;
}

static int version_ok(unsigned v)
{
	return v == XS_TLS_1_2 || v == XS_TLS_1_3;
}

static int ctx_setup(struct xs_tls_ctx *c, const struct xs_tls_ctx_opts *o, char *err,
		     size_t errlen)
{
	SSL_CTX *ssl = c->ssl;
	int rc;

	if (!SSL_CTX_set_min_proto_version(ssl, (int)c->o.min_version) ||
	    !SSL_CTX_set_max_proto_version(ssl, (int)c->o.max_version))
		return ctx_fail(err, errlen, EINVAL, "cannot set the TLS versions", NULL);
	/* Renegotiation (TLS 1.2) lets a client make the server sign again for
	 * the price of one record: refused, as nginx does. */
	SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				     (o->client ? 0 : SSL_OP_CIPHER_SERVER_PREFERENCE));
	/* Records leave one at a time and may move between calls; buffers are
	 * freed while a session is idle. */
	SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	/* Read whole records (and more) from TCP in one call, not 5 bytes of
	 * header then the body. */
	SSL_CTX_set_read_ahead(ssl, 1);
	if (o->cert_file && (rc = load_cert_key(ssl, o->cert_file, o->key_file, err, errlen)))
		return rc;
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(ssl, o->ca_file, NULL) != 1)
			return ctx_fail(err, errlen, ENOENT, "cannot load the CA file", o->ca_file);
	} else if (o->client && !o->no_verify && SSL_CTX_set_default_verify_paths(ssl) != 1) {
		return ctx_fail(err, errlen, ENOENT, "cannot load the system's CA store", NULL);
	}
	if (o->client) {
		SSL_CTX_set_verify(ssl, o->no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_CLIENT |
							SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ssl, session_new);
		c->cache = calloc(c->o.session_cache, sizeof(*c->cache));
		if (!c->cache)
			return ctx_fail(err, errlen, ENOMEM, "out of memory", NULL);
		if (c->alpn_len && SSL_CTX_set_alpn_protos(ssl, c->alpn, c->alpn_len) != 0)
			return ctx_fail(err, errlen, ENOMEM, "cannot set ALPN", NULL);
		return 0;
	}
	if (!o->cert_file) {
		snprintf(err, errlen, "a TLS server needs a certificate and its key");
		errno = EINVAL;
		return -EINVAL;
	}
	if (o->ca_file) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);

		if (names)
			SSL_CTX_set_client_CA_list(ssl, names);
		SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	SSL_CTX_set_session_id_context(ssl, (const unsigned char *)"xdpstack", 8);
	SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ssl, (long)c->o.session_cache);
	if (c->alpn_len)
		SSL_CTX_set_alpn_select_cb(ssl, alpn_select, c);
	SSL_CTX_set_cert_cb(ssl, sni_cert, c);
	SSL_CTX_set_tlsext_servername_callback(ssl, sni_seen);
	return 0;
}

struct xs_tls_ctx *xs_tls_ctx_new(const struct xs_tls_ctx_opts *o, char *err, size_t errlen)
{
	struct xs_tls_ctx *c;

	ERR_clear_error();
	if (!o) {
		snprintf(err, errlen, "no TLS options");
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->o = *o;
	c->o.cert_file = c->o.key_file = c->o.ca_file = c->o.alpn = NULL;
	if (!c->o.min_version)
		c->o.min_version = XS_TLS_1_2;
	if (!c->o.max_version)
		c->o.max_version = XS_TLS_1_3;
	if (!c->o.handshake_timeout_ms)
		c->o.handshake_timeout_ms = 10000;
	if (!c->o.max_handshakes)
		c->o.max_handshakes = 256;
	if (!c->o.session_cache)
		c->o.session_cache = 1024;
	if (!version_ok(c->o.min_version) || !version_ok(c->o.max_version) ||
	    c->o.min_version > c->o.max_version) {
		snprintf(err, errlen, "invalid TLS versions: expected 1.2 or 1.3, min <= max");
		goto err_inval;
	}
	if (c->o.handshake_timeout_ms > 3600000 || c->o.max_handshakes > 1000000 ||
	    c->o.session_cache > 1000000) {
		snprintf(err, errlen,
			 "invalid TLS budget: handshake timeout 1-3600000 ms, "
			 "handshakes 1-1000000, session cache 1-1000000");
		goto err_inval;
	}
	if (o->alpn && alpn_parse(c, o->alpn)) {
		snprintf(err, errlen,
			 "invalid ALPN list '%.64s': expected names of 1-255 bytes "
			 "separated by commas",
			 o->alpn);
		goto err_inval;
	}
	c->ssl = SSL_CTX_new(o->client ? TLS_client_method() : TLS_server_method());
	c->bio = tls_bio_method();
	if (!c->ssl || !c->bio) {
		ctx_fail(err, errlen, ENOMEM, "cannot make an OpenSSL context", NULL);
		goto err;
	}
	if (ctx_setup(c, o, err, errlen))
		goto err;
	return c;
err_inval:
	errno = EINVAL;
err : {
	int e = errno;

	xs_tls_ctx_free(c);
	errno = e;
}
	return NULL;
}

int xs_tls_ctx_add_cert(struct xs_tls_ctx *c, const char *cert_file, const char *key_file,
			char *err, size_t errlen)
{
	struct tls_sni_cert *n, s = {0};
	BIO *b = NULL;
	X509 *x;

	ERR_clear_error();
	if (!c || c->o.client || !cert_file) {
		snprintf(err, errlen, "SNI certificates are for server contexts");
		return -EINVAL;
	}
	b = BIO_new_file(cert_file, "r");
	if (!b || !(s.cert = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		goto err_cert;
	s.chain = sk_X509_new_null();
	if (!s.chain)
		goto err_cert;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(s.chain, x)) {
			X509_free(x);
			goto err_cert;
		}
	ERR_clear_error(); /* the end of the file */
	BIO_free(b);
	b = BIO_new_file(key_file ? key_file : cert_file, "r");
	if (!b || !(s.key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		ctx_fail(err, errlen, ENOENT, "cannot load the private key",
			 key_file ? key_file : cert_file);
		goto err;
	}
	if (X509_check_private_key(s.cert, s.key) != 1) {
		ctx_fail(err, errlen, EINVAL, "the private key does not match the certificate",
			 cert_file);
		goto err;
	}
	n = realloc(c->sni, (c->nsni + 1) * sizeof(*n));
	if (!n) {
		ctx_fail(err, errlen, ENOMEM, "out of memory", NULL);
		goto err;
	}
	c->sni = n;
	c->sni[c->nsni++] = s;
	BIO_free(b);
	return 0;
err_cert:
	ctx_fail(err, errlen, ENOENT, "cannot load the certificate", cert_file);
err:
	BIO_free(b);
	X509_free(s.cert);
	EVP_PKEY_free(s.key);
	sk_X509_pop_free(s.chain, X509_free);
	return -errno;
}

void xs_tls_ctx_free(struct xs_tls_ctx *c)
{
	unsigned i;

	if (!c)
		return;
	while (c->sessions)
		tls_abort(c->sessions);
	for (i = 0; i < c->ncache; i++)
		SSL_SESSION_free(c->cache[i].sess);
	free(c->cache);
	for (i = 0; i < c->nsni; i++) {
		X509_free(c->sni[i].cert);
		EVP_PKEY_free(c->sni[i].key);
		sk_X509_pop_free(c->sni[i].chain, X509_free);
	}
	free(c->sni);
	SSL_CTX_free(c->ssl);
	BIO_meth_free(c->bio);
	free(c);
}
