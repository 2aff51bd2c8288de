/* DHCP client state machine (RFC 2131 4.4, fig. 5) with the ARP probe of RFC 5227
 * 2.1.1: pure, driven by the caller with messages, ARP sightings and `now`. */
#ifndef XS_NET_DHCP_H
#define XS_NET_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>
#include "wire/dhcp.h"

#define DHCP_BACKOFF_MIN_S 4 /* RFC 2131 4.1: 4, 8, 16, 32, 64 s, each +-1 s */
#define DHCP_BACKOFF_MAX_S 64
#define DHCP_REQUEST_TRIES 4	/* REQUESTs before going back to INIT */
#define DHCP_RETRY_MIN_S 60	/* RFC 2131 4.4.5: renew/rebind retransmit floor */
#define DHCP_DECLINE_WAIT_S 10	/* RFC 2131 3.1.5 */
#define DHCP_LEASE_MIN_S 10	/* shorter leases are taken as this (a budget) */
#define DHCP_PROBE_WAIT_MS 1000 /* RFC 5227 1.1: PROBE_WAIT */
#define DHCP_PROBE_NUM 3
#define DHCP_PROBE_MIN_MS 1000
#define DHCP_PROBE_MAX_MS 2000
#define DHCP_ANNOUNCE_WAIT_MS 2000

enum dhcp_state {
	DHCP_STOPPED,
	DHCP_INIT,
	DHCP_SELECTING,
	DHCP_REQUESTING,
	DHCP_PROBING, /* RFC 5227: the ACKed address probed before use */
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING,
};

struct dhcp_lease {
	uint32_t ip, mask, router, server; /* host order; mask/router 0: none */
	uint32_t dns[DHCP_MAX_DNS];
	unsigned dns_n;
	uint32_t lease_s, t1_s, t2_s; /* lease_s DHCP_LEASE_INFINITE: no timers */
};

/* Events since the caller last cleared dhcp_client.ev. */
#define DHCP_EV_BOUND (1u << 0)	   /* lease.ip is ours now: configure it */
#define DHCP_EV_RENEWED (1u << 1)  /* the lease was extended */
#define DHCP_EV_LOST (1u << 2)	   /* the address was lost (expiry or NAK) */
#define DHCP_EV_NAK (1u << 3)	   /* a NAK moved us back to INIT */
#define DHCP_EV_DECLINED (1u << 4) /* the offered address was in use */

struct dhcp_client {
	enum dhcp_state state;
	uint8_t mac[6];
	uint32_t xid;
	uint64_t rng;
	unsigned ev;
	unsigned tries;
	unsigned backoff_s;
	unsigned probes;   /* ARP probes sent for the address on probation */
	xs_time_t started; /* of this acquisition: the secs field */
	xs_time_t next;	   /* retransmit, probe or restart */
	xs_time_t bound_at, t1_at, t2_at, expire_at;
	struct dhcp_lease offer; /* SELECTING..PROBING: what is on offer */
	struct dhcp_lease lease; /* BOUND..REBINDING */
	uint64_t offers, acks, naks, declines, expiries;
};

/* What the caller sends: a DHCP message over UDP 68 -> 67 from src to dst
 * (0 and 255.255.255.255 until bound), or an ARP probe / announcement
 * (RFC 5227 2.1.1, 2.3) for ip. */
enum dhcp_out_kind { DHCP_OUT_MSG = 1, DHCP_OUT_PROBE, DHCP_OUT_ANNOUNCE };
struct dhcp_out {
	enum dhcp_out_kind kind;
	uint32_t src, dst, ip;
	size_t len;
	uint8_t b[576];
};

void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6], uint64_t seed);
/* INIT: DISCOVER at once (at `now`). */
void dhcp_client_start(struct dhcp_client *c, xs_time_t now);
/* A UDP payload to port 68: XS_DROP_NONE when taken, or why it was refused. */
enum xs_drop dhcp_client_input(struct dhcp_client *c, const uint8_t *b, size_t n, xs_time_t now);
/* An ARP packet seen (sender, target addresses; sender MAC): while probing,
 * a conflict (RFC 5227 2.1.1) DECLINEs the offer. */
void dhcp_client_arp(struct dhcp_client *c, uint32_t sip, uint32_t tip, const uint8_t sha[6],
		     xs_time_t now);
/* Timers: fills *o and returns 1 when something is to be sent, else 0; call
 * until 0. dhcp_client_next says when to call again. */
int dhcp_client_poll(struct dhcp_client *c, xs_time_t now, struct dhcp_out *o);
xs_time_t dhcp_client_next(const struct dhcp_client *c);
/* Our address now (0 unless BOUND, RENEWING or REBINDING). */
uint32_t dhcp_client_addr(const struct dhcp_client *c);
/* Gives the lease back (RFC 2131 4.4.6): 1 with a RELEASE in *o, else 0; STOPPED. */
int dhcp_client_release(struct dhcp_client *c, struct dhcp_out *o);
const char *dhcp_state_name(enum dhcp_state s);

#endif
