/* Names for xdpstack-ctl: the resolve command, and the resolve that ping and
 * connect run first when their HOST is a name, on the stack's own resolver. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/ctl.h"

const char *ctl_resolve_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "name not found (NXDOMAIN)";
	case -ENODATA:
		return "the name has no IPv4 address";
	case -ETIMEDOUT:
		return "no DNS server answered";
	case -ELOOP:
		return "CNAME chain too long";
	case -EAGAIN:
		return "DNS server failure (SERVFAIL)";
	case -EPROTO:
		return "DNS server refused or answered wrongly";
	default:
		return strerror(-err);
	}
}

static void on_dns(struct xs_stack *st, struct xs_dns_query q, const struct xs_dns_result *r,
		   void *ctx)
{
	struct ctl_client *cl = ctx;

	if (!cl->dns_pending || cl->dnsq.id != q.id || cl->dnsq.gen != q.gen)
		return;
	cl->dns_pending = 0;
	if (cl->dead || cl->state != CL_RUN)
		return;
	cl->dns_done(cl, r);
	(void)st;
}

void ctl_resolve_free(struct ctl_client *cl)
{
	if (cl->dns_pending)
		xs_dns_cancel(cl->ctl->cfg.st, cl->dnsq);
	cl->dns_pending = 0;
}

int ctl_resolve_host(struct ctl_client *cl, const char *cmd, const char *host, uint32_t *ip,
		     void (*done)(struct ctl_client *cl, const struct xs_dns_result *r))
{
	struct xs_dns_query q;

	if (!ctl_parse_ip(host, ip))
		return 1;
	if (strlen(host) >= sizeof(cl->dns_name)) {
		ctl_end(cl, CTL_USAGE, "%s: invalid HOST '%.64s': too long for a name", cmd, host);
		return -1;
	}
	q = xs_dns_resolve(cl->ctl->cfg.st, host, on_dns, cl);
	if (q.id == -EINVAL) {
		ctl_end(cl, CTL_USAGE,
			"%s: invalid HOST '%.64s': expected an IPv4 address A.B.C.D or a host "
			"name (letters, digits, '-', '_', labels of 1-63, 253 in all)",
			cmd, host);
		return -1;
	}
	if (q.id == -EDESTADDRREQ) {
		ctl_end(cl, CTL_ERROR,
			"%s: cannot resolve '%.64s': no DNS server (start the "
			"daemon with --dns ADDR)",
			cmd, host);
		return -1;
	}
	if (q.id < 0) {
		ctl_end(cl, CTL_ERROR, "%s: cannot resolve '%.64s' (%s)%s", cmd, host, strerror(-q.id),
			q.id == -EBUSY ? ": too many names being resolved" : "");
		return -1;
	}
	snprintf(cl->dns_name, sizeof(cl->dns_name), "%s", host);
	cl->dnsq = q;
	cl->dns_pending = 1;
	cl->dns_done = done;
	cl->state = CL_RUN;
	return 0;
}

static void resolve_done(struct ctl_client *cl, const struct xs_dns_result *r)
{
	char ip[16];

	if (cl->json) {
		ctl_printf(cl, "{\"name\": ");
		ctl_json_str(cl, cl->dns_name);
		if (r->error) {
			ctl_printf(cl, ", \"error\": ");
			ctl_json_str(cl, ctl_resolve_strerror(r->error));
			ctl_printf(cl, ", \"errno\": %d, \"ttl\": %u, \"cached\": %s}\n", -r->error,
				   r->ttl, r->from_cache ? "true" : "false");
		} else {
			ctl_printf(cl, ", \"canonical\": ");
			ctl_json_str(cl, r->canon);
			ctl_printf(cl, ", \"cnames\": %u, \"addresses\": [", r->cnames);
			for (unsigned i = 0; i < r->naddrs; i++) {
				ctl_ip_str(r->addrs[i], ip);
				ctl_printf(cl, "%s\"%s\"", i ? ", " : "", ip);
			}
			ctl_printf(cl, "], \"ttl\": %u, \"cached\": %s, \"tcp\": %s}\n", r->ttl,
				   r->from_cache ? "true" : "false", r->tcp ? "true" : "false");
		}
	} else if (r->error) {
		ctl_printf(cl, "%s: %s%s\n", cl->dns_name, ctl_resolve_strerror(r->error),
			   r->from_cache ? " (cached)" : "");
	} else {
		if (r->cnames)
			ctl_printf(cl, "%s is an alias for %s (%u CNAME%s)\n", cl->dns_name,
				   r->canon, r->cnames, r->cnames > 1 ? "s" : "");
		for (unsigned i = 0; i < r->naddrs; i++) {
			ctl_ip_str(r->addrs[i], ip);
			ctl_printf(cl, "%s has address %s\n", r->canon, ip);
		}
		ctl_printf(cl, "ttl %u s, %s%s\n", r->ttl,
			   r->from_cache ? "from the cache" : "from the server",
			   r->tcp ? " over TCP" : "");
	}
	ctl_end(cl, r->error ? CTL_FAIL : CTL_OK, NULL);
}

void ctl_cmd_resolve(struct ctl_client *cl, int argc, char **argv)
{
	uint32_t ip;
	int rc;

	if (argc != 2) {
		ctl_end(cl, CTL_USAGE, "resolve: usage: resolve NAME");
		return;
	}
	rc = ctl_resolve_host(cl, "resolve", argv[1], &ip, resolve_done);
	if (rc == 1) {
		/* An address is its own answer, as getaddrinfo gives it. */
		char a[16];

		ctl_ip_str(ip, a);
		if (cl->json)
			ctl_printf(cl,
				   "{\"name\": \"%s\", \"canonical\": \"%s\", \"cnames\": 0, "
				   "\"addresses\": [\"%s\"], \"ttl\": null, \"cached\": false, "
				   "\"tcp\": false}\n",
				   a, a, a);
		else
			ctl_printf(cl, "%s has address %s\n", a, a);
		ctl_end(cl, CTL_OK, NULL);
	}
}
