/* A stack from one config struct: the device chosen, made and wrapped here,
 * routes added; the daemon's set-up without the daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"

static struct xs_dev *create_dev(const struct xs_stack_opts *o, char *err, size_t errlen)
{
	static const uint8_t mem_mac[6] = {0x02, 0x78, 0x73, 0x00, 0x00, 0x01};
	struct xs_afxdp_config xc;
	struct xs_dev *d;

	switch (o->dev_kind) {
	case XS_DEV_AFXDP:
		if (!o->ifname || !*o->ifname) {
			snprintf(err, errlen, "afxdp device: no interface name");
			errno = EINVAL;
			return NULL;
		}
		memset(&xc, 0, sizeof(xc));
		xc.ifname = o->ifname;
		xc.queue = o->queue;
		xc.mode = o->xdp_mode;
		xc.ip = o->cfg.ip;
		xc.nframes = o->nframes;
		xc.verbose = o->verbose;
		return xs_afxdp_dev_new(&xc, err, errlen);
	case XS_DEV_MEM:
		d = xs_mem_dev_new(o->mac ? o->mac : mem_mac, o->mtu, o->nframes);
		if (!d)
			snprintf(err, errlen, "mem device: %s", strerror(errno));
		return d;
	case XS_DEV_TAP:
		return xs_tap_dev_new(o->ifname, o->mac, o->mtu, o->nframes, NULL, err, errlen);
	case XS_DEV_CUSTOM:
		if (!o->dev || !o->dev->ops) {
			snprintf(err, errlen, "custom device: no device or no ops");
			errno = EINVAL;
			return NULL;
		}
		return o->dev;
	}
	snprintf(err, errlen, "no device kind chosen (afxdp, mem, tap or custom)");
	errno = EINVAL;
	return NULL;
}

/* Capture outermost, so the file shows what the stack saw and sent. *d is
 * always the outermost device made so far (the one to free on failure). */
static int wrap_dev(const struct xs_stack_opts *o, struct xs_dev **d, char *err, size_t errlen)
{
	struct xs_dev *w;

	if (o->fault) {
		w = xs_fault_dev_new(*d, o->fault);
		if (!w) {
			snprintf(err, errlen, "fault device: %s", strerror(errno));
			return -1;
		}
		*d = w;
	}
	if (o->pcap_path) {
		w = xs_pcap_dev_new(*d, o->pcap_path, err, errlen);
		if (!w)
			return -1;
		*d = w;
	}
	return 0;
}

struct xs_stack *xs_stack_create(const struct xs_stack_opts *o, char *err, size_t errlen)
{
	struct xs_stack *st;
	struct xs_dev *d;
	size_t i;
	int e;

	if (!o || !o->cfg.ip) {
		snprintf(err, errlen, "no IPv4 address for the stack");
		if (o && o->dev_kind == XS_DEV_CUSTOM)
			xs_dev_free(o->dev);
		errno = EINVAL;
		return NULL;
	}
	d = create_dev(o, err, errlen);
	if (!d)
		return NULL;
	if (wrap_dev(o, &d, err, errlen) != 0) {
		e = errno;
		goto err_dev;
	}
	st = xs_stack_new(&o->cfg, d);
	if (!st) {
		e = errno;
		snprintf(err, errlen, "stack: %s (check the address, prefix and budgets)",
			 strerror(e));
		goto err_dev;
	}
	st->owns_dev = true;
	for (i = 0; i < o->nroutes; i++) {
		const struct xs_route *r = &o->routes[i];

		e = -xs_route_add(st, r->dst, r->prefix_len, r->gateway);
		if (e) {
			snprintf(err, errlen, "route %u.%u.%u.%u/%u via %u.%u.%u.%u: %s",
				 r->dst >> 24, r->dst >> 16 & 255, r->dst >> 8 & 255, r->dst & 255,
				 r->prefix_len, r->gateway >> 24, r->gateway >> 16 & 255,
				 r->gateway >> 8 & 255, r->gateway & 255, strerror(e));
			xs_stack_free(st);
			errno = e;
			return NULL;
		}
	}
	return st;

err_dev:
	xs_dev_free(d);
	errno = e;
	return NULL;
}

int xs_stack_opts_dev(struct xs_stack_opts *o, const char *spec, char *err, size_t errlen)
{
	const char *at;
	char *end;
	unsigned long q;

	if (!strcmp(spec, "mem")) {
		o->dev_kind = XS_DEV_MEM;
		return 0;
	}
	if (!strncmp(spec, "tap:", 4) && spec[4] && strlen(spec + 4) < sizeof(o->ifname_buf)) {
		o->dev_kind = XS_DEV_TAP;
		snprintf(o->ifname_buf, sizeof(o->ifname_buf), "%s", spec + 4);
		o->ifname = o->ifname_buf;
		return 0;
	}
	if (!strncmp(spec, "afxdp:", 6) && spec[6] && spec[6] != '@') {
		size_t n;

		at = strchr(spec + 6, '@');
		n = at ? (size_t)(at - spec - 6) : strlen(spec + 6);
		q = 0;
		if (at) {
			errno = 0;
			q = strtoul(at + 1, &end, 10);
			if (!at[1] || *end || errno || q >= 4096)
				n = sizeof(o->ifname_buf); /* refused below */
		}
		if (n < sizeof(o->ifname_buf)) {
			o->dev_kind = XS_DEV_AFXDP;
			memcpy(o->ifname_buf, spec + 6, n);
			o->ifname_buf[n] = 0;
			o->ifname = o->ifname_buf;
			o->queue = (uint32_t)q;
			return 0;
		}
	}
	snprintf(err, errlen, "bad device '%s': want afxdp:IFNAME[@QUEUE], tap:IFNAME or mem",
		 spec);
	return -EINVAL;
}

struct xs_dev *xs_stack_dev(const struct xs_stack *st)
{
	return st->dev;
}
