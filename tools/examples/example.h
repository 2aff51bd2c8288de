/* What the example programs share: the command line that makes a stack
 * (--dev, --ip, --gw, --pcap) through the public API only, and Ctrl-C. */
#ifndef XS_EXAMPLE_H
#define XS_EXAMPLE_H

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

struct example {
	struct xs_stack_opts opts;
	struct xs_stack *st;
	uint16_t port;	 /* --port */
	const char *arg; /* the one positional argument, if any */
	const char *cafile; /* --cafile: CAs a TLS server is verified against */
	const char *name;   /* --name: the TLS server's name (SNI, checked) */
};

static inline int ex_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static inline void ex_usage(const char *prog, const char *extra)
{
	fprintf(stderr,
		"usage: %s --dev afxdp:IF[@Q]|tap:NAME --ip A.B.C.D[/LEN] [--gw A.B.C.D] "
		"[--pcap FILE] %s\n",
		prog, extra);
	exit(2);
}

/* Parses the common options; exits with one line on a bad one. */
static inline void ex_parse(struct example *ex, int argc, char **argv, const char *extra)
{
	char err[256], *slash;
	int i;

	memset(ex, 0, sizeof(*ex));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			ex_usage(argv[0], extra);
		if (a[0] != '-') {
			ex->arg = a;
			continue;
		}
		if (!v) {
			fprintf(stderr, "%s: %s needs a value\n", argv[0], a);
			exit(2);
		}
		i++;
		if (!strcmp(a, "--dev")) {
			if (xs_stack_opts_dev(&ex->opts, v, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s: %s\n", argv[0], err);
				exit(2);
			}
		} else if (!strcmp(a, "--ip")) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%s", v);
			slash = strchr(buf, '/');
			if (slash) {
				*slash = 0;
				ex->opts.cfg.prefix_len = (uint8_t)atoi(slash + 1);
			}
			if (ex_ip(buf, &ex->opts.cfg.ip) != 0 ||
			    (slash &&
			     (ex->opts.cfg.prefix_len < 1 || ex->opts.cfg.prefix_len > 32))) {
				fprintf(stderr, "%s: bad --ip '%s': want A.B.C.D[/1-32]\n", argv[0],
					v);
				exit(2);
			}
		} else if (!strcmp(a, "--gw")) {
			if (ex_ip(v, &ex->opts.cfg.gateway) != 0) {
				fprintf(stderr, "%s: bad --gw '%s'\n", argv[0], v);
				exit(2);
			}
		} else if (!strcmp(a, "--pcap")) {
			ex->opts.pcap_path = v;
		} else if (!strcmp(a, "--cafile")) {
			ex->cafile = v;
		} else if (!strcmp(a, "--name")) {
			ex->name = v;
		} else if (!strcmp(a, "--port")) {
			char *end;
			long p = strtol(v, &end, 10);

			if (*end || p < 1 || p > 65535) {
				fprintf(stderr, "%s: bad --port '%s': want 1-65535\n", argv[0], v);
				exit(2);
			}
			ex->port = (uint16_t)p;
		} else {
			fprintf(stderr, "%s: unknown option %s\n", argv[0], a);
			exit(2);
		}
	}
	if (!ex->opts.dev_kind || !ex->opts.cfg.ip)
		ex_usage(argv[0], extra);
}

static inline void ex_create(struct example *ex, const char *prog)
{
	char err[256];

	ex->st = xs_stack_create(&ex->opts, err, sizeof(err));
	if (!ex->st) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(1);
	}
}

#endif
