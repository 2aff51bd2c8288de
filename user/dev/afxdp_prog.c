/* The XDP steering program of an interface: loads it from the object embedded in
 * the binary, replaces a leftover, attaches, and shares its maps among the queues. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dev/afxdp_prog.h"
#include "xdp_steer.skel.h"

#define AFXDP_PROG_NAME "xs_steer"
#define AFXDP_PROG_SEC "xdp"
#define AFXDP_MAX_MAP_IDS 8

void afxdp_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
#define errf afxdp_errf

/* The library never prints: its messages go to the caller's log callback,
 * if any (syslog priorities, one line each). */
static void __attribute__((format(printf, 3, 4)))
afxdp_log(const struct afxdp_prog *a, int prio, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->log(a->log_arg, prio, line);
}

static int print_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int xdp_print_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_NATIVE ? "native" : mode == XDP_MODE_SKB ? "generic" : "offload";
}

/* ---- setup: leftover programs ---- */

/* Does process pid hold an fd on BPF program prog_id? */
static bool pid_holds_prog(pid_t pid, uint32_t prog_id)
{
	char path[64], line[128], want[32];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	snprintf(want, sizeof(want), "prog_id:\t%u\n", prog_id);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char fpath[320];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		f = fopen(fpath, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strcmp(line, want)) {
				found = true;
				break;
			}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* The pid of the running xdpstack that owns an attached xs_steer program,
 * or 0 if its owner is gone (a leftover). The owner wrote its pid into the
 * program's xs_cfg map and keeps the program open while it runs. */
static pid_t steer_owner(uint32_t prog_id)
{
	__u32 map_ids[AFXDP_MAX_MAP_IDS], i, key = 0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	pid_t owner = 0;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = AFXDP_MAX_MAP_IDS;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	for (i = 0; i < info.nr_map_ids && i < AFXDP_MAX_MAP_IDS && !owner; i++) {
		struct bpf_map_info minfo;
		__u32 mlen = sizeof(minfo);
		struct xs_steer_cfg cfg;
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);

		if (mfd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		memset(&cfg, 0, sizeof(cfg));
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) && !strcmp(minfo.name, "xs_cfg") &&
		    minfo.value_size == sizeof(cfg) && !bpf_map_lookup_elem(mfd, &key, &cfg))
			owner = (pid_t)cfg.owner_pid;
		close(mfd);
	}
	if (owner && !pid_holds_prog(owner, prog_id))
		owner = 0;
out:
	close(fd);
	return owner;
}

/* Removes one xs_steer program left by a killed xdpstack. */
static int replace_leftover(struct afxdp_prog *a, struct xdp_program *p, enum xdp_attach_mode mode,
			    char *err, size_t errlen)
{
	uint32_t id = xdp_program__id(p);
	pid_t owner = steer_owner(id);
	int ret;

	if (owner) {
		errf(err, errlen,
		     "%s already runs an xdpstack (pid %d, XDP program %s id %u); stop it first",
		     a->ifname, (int)owner, AFXDP_PROG_NAME, id);
		return -EBUSY;
	}
	ret = xdp_program__detach(p, (int)a->ifindex, mode, 0);
	if (ret) {
		errf(err, errlen,
		     "cannot remove XDP program %s (id %u) left on %s by a previous xdpstack (%s); "
		     "remove it with 'xdp-loader unload %s --all'",
		     AFXDP_PROG_NAME, id, a->ifname, strerror(-ret), a->ifname);
		return ret;
	}
	afxdp_log(a, XS_LOG_NOTICE,
		  "replacing XDP program %s (id %u) left on %s by a previous xdpstack",
		  AFXDP_PROG_NAME, id, a->ifname);
	return 0;
}

/* Before attaching: replace our own leftovers, refuse foreign programs that
 * we cannot share the interface with (anything not behind a dispatcher). */
static int check_attached(struct afxdp_prog *a, char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	enum xdp_attach_mode mode;
	long ret;

	mp = xdp_multiprog__get_from_ifindex((int)a->ifindex);
	ret = libxdp_get_error(mp);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		errf(err, errlen, "cannot read the XDP programs attached to %s (%s)%s", a->ifname,
		     strerror((int)-ret), ret == -EPERM ? "; run as root" : "");
		return (int)ret;
	}
	mode = xdp_multiprog__attach_mode(mp);
	p = xdp_multiprog__main_prog(mp);
	if (!p)
		goto out; /* only an offloaded program: not in our way */
	if (xdp_multiprog__is_legacy(mp)) {
		const char *name = xdp_program__name(p);

		if (name && !strcmp(name, AFXDP_PROG_NAME)) {
			ret = replace_leftover(a, p, mode, err, errlen);
		} else {
			errf(err, errlen,
			     "XDP program %s (id %u) is already attached to %s in %s mode; remove "
			     "it first ('xdp-loader unload %s --all') or use another interface",
			     name ? name : "?", xdp_program__id(p), a->ifname, mode_name(mode),
			     a->ifname);
			ret = -EBUSY;
		}
		goto out;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !ret;
	     p = xdp_multiprog__next_prog(p, mp)) {
		const char *name = xdp_program__name(p);

		if (name && !strcmp(name, AFXDP_PROG_NAME))
			ret = replace_leftover(a, p, mode, err, errlen);
	}
out:
	xdp_multiprog__close(mp);
	return (int)ret;
}

/* ---- setup: program ---- */

static int attach_mode(struct afxdp_prog *a, enum xdp_attach_mode mode)
{
	int ret = xdp_program__attach(a->prog, (int)a->ifindex, mode, 0);

	if (!ret) {
		a->mode = mode;
		a->attached = true;
	}
	return ret;
}

static int load_and_attach(struct afxdp_prog *a, enum xs_xdp_mode want, int verbose, char *err,
			   size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "xdp_steer");
	const void *bytes;
	size_t sz = 0;
	struct bpf_map *cfg, *xsks, *stats, *ftab, *fidx, *fcnt, *fbkt, *cfg6;
	int ret;

	bytes = xdp_steer__elf_bytes(&sz);
	a->obj = bpf_object__open_mem(bytes, sz, &opts);
	ret = (int)libbpf_get_error(a->obj);
	if (ret) {
		a->obj = NULL;
		errf(err, errlen, "cannot open the embedded XDP program (%s)", strerror(-ret));
		return ret;
	}
	cfg = bpf_object__find_map_by_name(a->obj, "xs_cfg");
	xsks = bpf_object__find_map_by_name(a->obj, "xs_xsks");
	stats = bpf_object__find_map_by_name(a->obj, "xs_stats");
	ftab = bpf_object__find_map_by_name(a->obj, "xs_ftab");
	fidx = bpf_object__find_map_by_name(a->obj, "xs_fidx");
	fcnt = bpf_object__find_map_by_name(a->obj, "xs_fcnt");
	fbkt = bpf_object__find_map_by_name(a->obj, "xs_fbkt");
	cfg6 = bpf_object__find_map_by_name(a->obj, "xs_cfg6");
	if (!cfg || !xsks || !stats || !ftab || !fidx || !fcnt || !fbkt || !cfg6) {
		errf(err, errlen, "the embedded XDP program lacks its maps; rebuild xdpstack");
		return -ENOENT;
	}
	a->prog = xdp_program__from_bpf_obj(a->obj, AFXDP_PROG_SEC);
	ret = (int)libxdp_get_error(a->prog);
	if (ret) {
		a->prog = NULL;
		errf(err, errlen, "cannot find XDP program %s in the embedded object (%s)",
		     AFXDP_PROG_NAME, strerror(-ret));
		return ret;
	}

	ret = check_attached(a, err, errlen);
	if (ret)
		return ret;

	/* libxdp uses its dispatcher where the kernel and a mounted bpffs allow,
	 * and otherwise falls back to attaching this program alone. */
	switch (want) {
	case XS_XDP_MODE_NATIVE:
		ret = attach_mode(a, XDP_MODE_NATIVE);
		break;
	case XS_XDP_MODE_GENERIC:
		ret = attach_mode(a, XDP_MODE_SKB);
		break;
	default:
		ret = attach_mode(a, XDP_MODE_NATIVE);
		if (ret && ret != -EPERM && ret != -EACCES && ret != -EBUSY && ret != -EEXIST)
			ret = attach_mode(a, XDP_MODE_SKB);
		break;
	}
	if (ret) {
		const char *tried = want == XS_XDP_MODE_NATIVE	  ? "native"
				    : want == XS_XDP_MODE_GENERIC ? "generic"
								  : "native and generic";

		if (ret == -EPERM || ret == -EACCES)
			errf(err, errlen, "XDP attach on %s not permitted (%s); run as root",
			     a->ifname, strerror(-ret));
		else if (ret == -EBUSY || ret == -EEXIST)
			errf(err, errlen,
			     "XDP attach refused on %s: another XDP program is attached (%s); "
			     "remove it with 'xdp-loader unload %s --all'",
			     a->ifname, strerror(-ret), a->ifname);
		else if (want == XS_XDP_MODE_NATIVE)
			errf(err, errlen,
			     "XDP attach refused on %s in %s mode (%s); try --mode generic",
			     a->ifname, tried, strerror(-ret));
		else
			errf(err, errlen, "XDP attach refused on %s in %s mode (%s)%s", a->ifname,
			     tried, strerror(-ret),
			     verbose ? "" : "; run with --verbose for the loader's log");
		return ret;
	}
	/* Loaded now (alone or as a dispatcher extension): the maps exist. */
	a->cfg_fd = bpf_map__fd(cfg);
	a->cfg6_fd = bpf_map__fd(cfg6);
	a->xsks_fd = bpf_map__fd(xsks);
	a->stats_fd = bpf_map__fd(stats);
	a->filter.ftab_fd = bpf_map__fd(ftab);
	a->filter.fidx_fd = bpf_map__fd(fidx);
	a->filter.fcnt_fd = bpf_map__fd(fcnt);
	a->filter.fbkt_fd = bpf_map__fd(fbkt);
	if (a->log) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)a->ifindex);

		if (!libxdp_get_error(mp)) {
			afxdp_log(a, XS_LOG_INFO, "%s (id %u) attached to %s in %s mode %s",
				  AFXDP_PROG_NAME, xdp_program__id(a->prog), a->ifname,
				  mode_name(a->mode),
				  xdp_multiprog__is_legacy(mp) ? "alone (no dispatcher)"
							       : "behind the libxdp dispatcher");
			xdp_multiprog__close(mp);
		}
	}
	return 0;
}

/* ---- public (to afxdp.c) ---- */

struct afxdp_prog *afxdp_prog_open(const char *ifname, uint32_t ifindex, enum xs_xdp_mode want,
				   int verbose, void (*log)(void *arg, int prio, const char *line),
				   void *log_arg, char *err, size_t errlen)
{
	struct afxdp_prog *a = calloc(1, sizeof(*a));
	int ret;

	if (!a) {
		errf(err, errlen, "out of memory setting up %s", ifname);
		errno = ENOMEM;
		return NULL;
	}
	/* Quiet unless asked: then the process's own libbpf/libxdp printers
	 * (their defaults, or what the application installed) speak. */
	if (!verbose) {
		libbpf_set_print(print_quiet);
		libxdp_set_print(xdp_print_quiet);
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->ifindex = ifindex;
	a->refs = 1;
	a->log = log;
	a->log_arg = log_arg;
	a->cfg_fd = a->cfg6_fd = a->xsks_fd = a->stats_fd = -1;
	ret = load_and_attach(a, want, verbose, err, errlen);
	if (ret) {
		afxdp_prog_put(a);
		errno = -ret;
		return NULL;
	}
	return a;
}

void afxdp_prog_get(struct afxdp_prog *p)
{
	p->refs++;
}

void afxdp_prog_put(struct afxdp_prog *a)
{
	if (!a || --a->refs)
		return;
	if (a->cfg_fd >= 0 && a->attached) {
		struct xs_steer_cfg off = {0};
		__u32 key = 0;

		bpf_map_update_elem(a->cfg_fd, &key, &off, BPF_ANY);
	}
	if (a->cfg6_fd >= 0 && a->attached) {
		struct xs_steer_cfg6 off6 = {0};
		__u32 key = 0;

		bpf_map_update_elem(a->cfg6_fd, &key, &off6, BPF_ANY);
	}
	if (a->attached)
		xdp_program__detach(a->prog, (int)a->ifindex, a->mode, 0);
	xdp_program__close(a->prog);
	bpf_object__close(a->obj);
	free(a);
}

int afxdp_prog_write_cfg(struct afxdp_prog *p)
{
	__u32 key = 0;

	if (bpf_map_update_elem(p->cfg_fd, &key, &p->cfg, BPF_ANY))
		return -errno;
	return 0;
}

int afxdp_prog_write_cfg6(struct afxdp_prog *p)
{
	__u32 key = 0;

	if (bpf_map_update_elem(p->cfg6_fd, &key, &p->cfg6, BPF_ANY))
		return -errno;
	return 0;
}

void afxdp_prog_del_xsk(struct afxdp_prog *p, uint32_t q)
{
	bpf_map_delete_elem(p->xsks_fd, &q);
}

int afxdp_prog_counters(const struct afxdp_prog *a, struct xs_xdp_counters *out)
{
	__u64 *vals;
	__u32 key;
	int ncpu, i, ret = 0;

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (key = 0; key < XS_STEER_NCOUNTERS; key++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(a->stats_fd, &key, vals)) {
			ret = -errno;
			break;
		}
		for (i = 0; i < ncpu; i++)
			sum += vals[i];
		if (key == XS_STEER_REDIRECTED)
			out->redirected = sum;
		else if (key == XS_STEER_PASSED)
			out->passed = sum;
		else if (key == XS_STEER_FILTER_DROPPED)
			out->filter_dropped = sum;
	}
	free(vals);
	return ret;
}
