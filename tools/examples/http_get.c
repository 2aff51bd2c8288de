/* Example: an HTTP/1.1 client on libxdpstack: fetches http://IP[:PORT]/PATH,
 * writes the body to stdout, exits 0 on a 2xx status. Public headers only. */
#include <unistd.h>

#include "example.h"

#define HDR_MAX 16384

struct get {
	struct xs_stack *st;
	struct xs_tcp h;
	char req[1024];
	size_t req_len, req_off;
	char hdr[HDR_MAX]; /* the response head, until the blank line */
	size_t hdr_len;
	int in_body, status, done, failed;
	unsigned long body;
};

static struct xs_stack *g_st; /* for the signal handler only */

static void on_alarm(int sig)
{
	(void)sig;
	xs_stop(g_st);
}

static void get_finish(struct get *g, int failed)
{
	g->done = 1;
	g->failed = failed;
	xs_tcp_close(g->st, g->h); /* from inside its own callback: allowed */
	xs_stop(g->st);
}

/* Head bytes until "\r\n\r\n"; the status from the first line. */
static int get_head(struct get *g, const char *p, size_t n, size_t *used)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (g->hdr_len == HDR_MAX - 1)
			return -1;
		g->hdr[g->hdr_len++] = p[i];
		if (g->hdr_len >= 4 && !memcmp(g->hdr + g->hdr_len - 4, "\r\n\r\n", 4)) {
			g->hdr[g->hdr_len] = 0;
			if (sscanf(g->hdr, "HTTP/1.%*d %d", &g->status) != 1)
				return -1;
			g->in_body = 1;
			*used = i + 1;
			return 0;
		}
	}
	*used = n;
	return 0;
}

static void on_tcp(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct get *g = ctx;
	char buf[16384];
	ssize_t n;

	if (g->done)
		return;
	if (events & XS_EV_ERROR) {
		fprintf(stderr, "http_get: connection failed: %s\n",
			strerror(-xs_tcp_error(st, h)));
		get_finish(g, 1);
		return;
	}
	while (g->req_off < g->req_len) {
		n = xs_tcp_send(st, h, g->req + g->req_off, g->req_len - g->req_off);
		if (n == -EAGAIN)
			break; /* connecting, or full: XS_EV_WRITABLE again */
		if (n < 0) {
			get_finish(g, 1);
			return;
		}
		g->req_off += (size_t)n;
	}
	while ((n = xs_tcp_recv(st, h, buf, sizeof(buf))) > 0) {
		size_t used = 0;

		if (!g->in_body && get_head(g, buf, (size_t)n, &used) != 0) {
			fprintf(stderr, "http_get: bad response head\n");
			get_finish(g, 1);
			return;
		}
		if (g->in_body && used < (size_t)n) {
			fwrite(buf + used, 1, (size_t)n - used, stdout);
			g->body += (size_t)n - used;
		}
	}
	if (n == 0) /* Connection: close: the body ends with the stream */
		get_finish(g, !g->in_body || g->status < 200 || g->status > 299);
	else if (n != -EAGAIN)
		get_finish(g, 1);
}

int main(int argc, char **argv)
{
	static struct get g;
	struct example ex;
	unsigned port = 80;
	char host[64], path[512] = "/";
	const char *p;
	uint32_t ip;
	int rc;

	ex_parse(&ex, argc, argv, "http://IP[:PORT]/PATH");
	if (!ex.arg || strncmp(ex.arg, "http://", 7) ||
	    sscanf(ex.arg + 7, "%63[0-9.]", host) != 1 || ex_ip(host, &ip) != 0) {
		fprintf(stderr, "%s: want a URL http://IP[:PORT]/PATH (no names: no DNS here)\n",
			argv[0]);
		return 2;
	}
	p = ex.arg + 7 + strlen(host);
	if (*p == ':') {
		char *end;

		port = (unsigned)strtoul(p + 1, &end, 10);
		if (port < 1 || port > 65535 || (*end && *end != '/')) {
			fprintf(stderr, "%s: bad port in '%s'\n", argv[0], ex.arg);
			return 2;
		}
		p = end;
	}
	if (*p == '/')
		snprintf(path, sizeof(path), "%s", p);
	else if (*p) {
		fprintf(stderr, "%s: bad URL '%s'\n", argv[0], ex.arg);
		return 2;
	}
	ex_create(&ex, argv[0]);
	g.st = ex.st;
	g.req_len =
	    (size_t)snprintf(g.req, sizeof(g.req),
			     "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: xdpstack-http_get\r\n"
			     "Connection: close\r\n\r\n",
			     path, host, port);
	g.h = xs_tcp_connect(ex.st, ip, (uint16_t)port);
	if (g.h.id < 0) {
		fprintf(stderr, "%s: connect: %s\n", argv[0], strerror(-g.h.id));
		return 1;
	}
	xs_tcp_set_event_cb(ex.st, g.h, on_tcp, &g);
	g_st = ex.st;
	signal(SIGALRM, on_alarm);
	alarm(10); /* the whole fetch, connect included */
	rc = xs_run(ex.st, NULL);
	fflush(stdout);
	if (!g.done)
		fprintf(stderr, "%s: timed out\n", argv[0]);
	else
		fprintf(stderr, "http_get: status %d, %lu body bytes\n", g.status, g.body);
	xs_stack_free(ex.st);
	return rc || !g.done || g.failed ? 1 : 0;
}
