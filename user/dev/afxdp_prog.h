/* The XDP steering program of one interface and its maps, shared by the AF_XDP
 * devices of every queue served there (one per queue, each holding a reference). */
#ifndef XS_DEV_AFXDP_PROG_H
#define XS_DEV_AFXDP_PROG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <xdp/libxdp.h>

#include <xdpstack/dev.h>

#include "bpf/steer.h"
#include "dev/afxdp_filter.h"

struct afxdp_prog {
	char ifname[IF_NAMESIZE];
	uint32_t ifindex;
	unsigned refs; /* devices using it: detached when the last one goes */

	void (*log)(void *arg, int prio, const char *line); /* NULL: silent */
	void *log_arg;

	struct bpf_object *obj;
	struct xdp_program *prog;
	enum xdp_attach_mode mode;
	bool attached;
	int cfg_fd;
	int cfg6_fd; /* IPv6 addresses (user/net6/) */
	int xsks_fd;
	int stats_fd;
	struct afxdp_filter filter; /* the program's filter tables */
	struct xs_steer_cfg cfg;
	struct xs_steer_cfg6 cfg6;
};

/* One human line into err (cause and fix), like every setup error here. */
void afxdp_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Loads the embedded program and attaches it to ifname (replacing one left
 * by a killed xdpstack, refusing a live one or a foreign program); one
 * reference. NULL and one line in err on failure. Not thread-safe: devices
 * are made and freed by one thread. */
struct afxdp_prog *afxdp_prog_open(const char *ifname, uint32_t ifindex, enum xs_xdp_mode want,
				   int verbose, void (*log)(void *arg, int prio, const char *line),
				   void *log_arg, char *err, size_t errlen);
/* Another device shares the program. */
void afxdp_prog_get(struct afxdp_prog *p);
/* Drops a reference; the last one stops steering and detaches. */
void afxdp_prog_put(struct afxdp_prog *p);
/* p->cfg into the config map (steering starts once ip4 or F_DHCP is set). */
int afxdp_prog_write_cfg(struct afxdp_prog *p);
/* p->cfg6 into the IPv6 config map (IPv6 steering starts once naddr > 0). */
int afxdp_prog_write_cfg6(struct afxdp_prog *p);
/* The program's per-CPU counters summed (redirected, passed, filter_dropped). */
int afxdp_prog_counters(const struct afxdp_prog *p, struct xs_xdp_counters *out);
/* The socket of rx queue q out of the XSKMAP (xsk_socket__update_xskmap put it in). */
void afxdp_prog_del_xsk(struct afxdp_prog *p, uint32_t q);

#endif
