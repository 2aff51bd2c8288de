/* The TLS tests' certificates on the disk: made once per test binary by
 * tls_certs.sh (openssl) in a fresh directory, removed at the end. */
#ifndef XS_TEST_TLS_FIXTURE_H
#define XS_TEST_TLS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tls_certdir[64];

/* The path of one of tls_certs.sh's files (eight in use at once at most). */
static inline const char *tls_cert(const char *name)
{
	static char path[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tls_certdir, name);
	return path[i];
}

/* cmocka group setup: runs tests/tcp/tls_certs.sh (next to this file). */
static inline int tls_certs_make(void **state)
{
	char cmd[256], dir[64];
	const char *f = __FILE__, *slash = strrchr(f, '/');

	(void)state;
	strcpy(tls_certdir, "/tmp/xs-tls-XXXXXX");
	if (!mkdtemp(tls_certdir))
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - f) : 1, slash ? f : ".");
	snprintf(cmd, sizeof(cmd), "sh %s/tls_certs.sh %s", dir, tls_certdir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline int tls_certs_remove(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_certdir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
