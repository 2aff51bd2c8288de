/* The daemon's IPv6 glue (ip6app.c): enable from the options, keep the XDP
 * program and the NIC's multicast groups in step, log address changes. */
#ifndef XS_APP_IP6APP_H
#define XS_APP_IP6APP_H

#include <net/if.h>
#include <stddef.h>

#include <xdpstack/stack.h>

struct xs_opts;

struct ip6app {
	int on;
	struct xs_stack *st;
	struct xs_dev *hw;
	char ifname[IF_NAMESIZE];
	int mcast_fd; /* holds the solicited-node groups, -1: none */
	struct xs_ip6_addr_info prev[XS_IP6_MAX_ADDRS];
	size_t nprev;
};

/* Before anything is attached: the kernel holds none of the --ip6 addresses
 * on ifname. 0, or -1 with one line in err. */
int ip6app_check(const struct xs_opts *o, const char *ifname, char *err, size_t len);
/* IPv6 on if the options ask (p->on then), steering set. 0, or -1 with err. */
int ip6app_start(struct ip6app *p, struct xs_stack *st, struct xs_dev *hw, const struct xs_opts *o,
		 const char *ifname, char *err, size_t len);
/* A multi-queue group's stack other than 0 (before any poll): IPv6 on with
 * the same options; it follows stack 0's addresses and routes. 0, or -1. */
int ip6app_follow(struct xs_stack *st, const struct xs_opts *o, const char *ifname, char *err,
		  size_t len);
/* Each loop turn, after the polls. */
void ip6app_events(struct ip6app *p);
void ip6app_stop(struct ip6app *p);

#endif
