/* The daemon's control socket: a non-blocking AF_UNIX server run from the event
 * loop (ctl.c), its commands (ctl_cmd.c, ctl_conns.c) and sessions (ctl_ping.c, ctl_connect.c). */
#ifndef XS_APP_CTL_H
#define XS_APP_CTL_H

#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "app/app.h"

/* Protocol (also in docs/DESIGN.md): the client sends one request line,
 * "[--json] COMMAND [ARG...]\n"; the daemon answers with output lines (a line
 * that would start with '.' is sent with one more '.' in front) and ends with
 * one status line, then closes:
 *   .ok          success                       (xdpstack-ctl exits 0)
 *   .fail        the command ran and failed    (exit 1; ping without reply)
 *   .error MSG   the command could not be done (exit 1)
 *   .usage MSG   unknown command, bad argument (exit 2)
 * While a command streams (ping), a further line "stop" from the client ends
 * it early with its summary; a client that goes away ends it silently.
 * connect switches to a binary stream after ".connected LOCAL REMOTE": raw
 * bytes from the client (shutdown(SHUT_WR) = FIN), frames "=N\n" + N bytes,
 * ".eof" and a final status from the daemon (see ctl_connect.c). */
#define CTL_MAX_CLIENTS 32
#define CTL_REQ_MAX 512		     /* request line, newline included */
#define CTL_OUT_MAX (1u << 20)	     /* unsent output before a client is dropped */
#define CTL_REQ_TIMEOUT XS_SEC(5)    /* to send the request line */
#define CTL_DRAIN_TIMEOUT XS_SEC(10) /* to read the end of an answer */
#define CTL_MAX_ARGS 24 /* a full filter rule is 17 words */
/* Per loop turn, so that one local client cannot hold the loop: recv() calls
 * on one client (of at most CTL_REQ_MAX bytes each) and accepted connections. */
#define CTL_READS_PER_TURN 8
#define CTL_ACCEPTS_PER_TURN 8

enum ctl_status { CTL_OK, CTL_FAIL, CTL_ERROR, CTL_USAGE };

enum ctl_state {
	CL_FREE = 0,
	CL_READ,  /* waiting for the request line */
	CL_RUN,	  /* a streaming command (ping, connect) runs */
	CL_DRAIN, /* status written; sending the rest, then close */
};

struct ctl;
struct ctl_ping;
struct ctl_conn;

struct ctl_client {
	struct ctl *ctl;
	int fd;
	enum ctl_state state;
	int json;
	int eof;	    /* the client shut its side: input is over */
	int dead;	    /* gone or too slow: close at the next reap */
	int bol;	    /* the next output byte starts a line */
	int pfd;	    /* slot in the last pollfd array, -1 if none */
	xs_time_t deadline; /* CL_READ: request due; CL_DRAIN: answer read */
	char in[CTL_REQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	struct ctl_ping *ping;
	struct ctl_conn *conn;
	/* A name being resolved for the command (ctl_resolve.c): the query
	 * handle while dns_pending, and what to do with the result. */
	struct xs_dns_query dnsq;
	int dns_pending;
	void (*dns_done)(struct ctl_client *cl, const struct xs_dns_result *r);
	char dns_name[XS_DNS_NAME_LEN];
};

/* One queue as the control socket sees it (multi-queue). */
struct ctl_qview {
	struct xs_stack *st;
	struct xs_dev *hw;	    /* NULL: no AF_XDP device */
	const struct busy_poll *bp; /* NULL: none */
	unsigned nic_queue;
	int cpu;		    /* pinned to, -1: not pinned */
};

struct ctl_config {
	const char *path; /* socket path */
	const char *ifname;
	uint32_t ifindex;
	uint32_t queue;
	struct xs_stack *st;
	struct xs_dev *hw; /* the AF_XDP device, for XDP counters (NULL: none) */
	int filter_xdp_off; /* --filter-xdp off: the XDP program's table stays empty */
	const struct busy_poll *bp; /* the loop's busy-poll counters (NULL: none) */
	/* Multi-queue: nq stacks in all (0 or 1: st alone, the control socket's
	 * own). Queue i > 0 runs on another thread: hold stops that thread at a
	 * safe point and describes the queue, release lets it go on; the slow
	 * control path pays for it, never the stacks' fast path. */
	unsigned nq;
	void (*hold)(void *arg, unsigned i, struct ctl_qview *out);
	void (*release)(void *arg, unsigned i);
	void *qarg;
};

struct ctl {
	struct ctl_config cfg;
	char path[XS_CTL_PATH_MAX];
	char ifname[IF_NAMESIZE];
	dev_t sock_dev; /* the socket file we bound: unlinked at close only if */
	ino_t sock_ino; /* it is still ours */
	int lfd;
	int lpfd;
	xs_time_t now;
	/* Turns in which a client (or the listen queue) still had more when
	 * its budget ran out: shown by `stats` as ctl_read_budget and
	 * ctl_accept_budget. clients_refused: connections past CTL_MAX_CLIENTS
	 * (ctl_refused); clients_dropped: clients ended by a bound, a request
	 * line past CTL_REQ_MAX or later than CTL_REQ_TIMEOUT, an answer not
	 * read within CTL_DRAIN_TIMEOUT or output past CTL_OUT_MAX (ctl_dropped). */
	uint64_t read_budget_hits, accept_budget_hits;
	uint64_t clients_refused, clients_dropped;
	struct ctl_client cl[CTL_MAX_CLIENTS];
};

/* --- used by main.c -------------------------------------------------- */

/* Default socket path for an interface, into buf. */
void ctl_default_path(const char *ifname, char *buf, size_t len);
/* Creates the parent directory (0700) if missing, replaces a stale socket
 * (nobody accepts on it), refuses a live one, binds (0600) and listens.
 * NULL with one line in err on failure. */
struct ctl *ctl_open(const struct ctl_config *cfg, char *err, size_t errlen);
/* Ends every session, closes every connection, removes the socket file. */
void ctl_close(struct ctl *c);
/* The loop's time for this turn, before xs_stack_poll (ping callbacks use it). */
void ctl_set_time(struct ctl *c, xs_time_t now);
/* Fills up to max pollfds (listen socket, clients); returns how many. */
int ctl_pollfds(struct ctl *c, struct pollfd *pfd, int max);
/* Handles the events of the last poll (pfd/n as filled by ctl_pollfds, n = 0
 * for none), runs due ping sends, reaps finished clients. Frames it queues on
 * the stack leave with the caller's next xs_stack_poll (the loop calls this
 * first, then polls the stack). */
void ctl_process(struct ctl *c, const struct pollfd *pfd, int n);
/* Earliest time ctl_process has timer work (UINT64_MAX: none). */
xs_time_t ctl_next_deadline(const struct ctl *c);

/* --- shared by ctl*.c ------------------------------------------------ */

/* Stacks served (1 without multi-queue). */
unsigned ctl_nq(const struct ctl *c);
/* Queue i (0: the control socket's own); i > 0 stays stopped until
 * ctl_release: keep the hold short, and never across a loop turn. */
void ctl_hold(struct ctl *c, unsigned i, struct ctl_qview *out);
void ctl_release(struct ctl *c, unsigned i);
/* Runs fn on every other queue's stack in turn (after queue 0's change
 * succeeded, to keep them all alike: routes, ARP, filter rules). */
void ctl_each_other(struct ctl *c, void (*fn)(struct xs_stack *st, void *arg), void *arg);

void ctl_printf(struct ctl_client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes as they are (no dot-stuffing): a frame of a binary stream,
 * after which the next output starts a line. */
void ctl_write_raw(struct ctl_client *cl, const void *p, size_t n);
/* Output bytes not yet written to the client. */
size_t ctl_out_pending(const struct ctl_client *cl);
/* A JSON string literal, quoted and escaped. */
void ctl_json_str(struct ctl_client *cl, const char *s);
/* Ends the command with a status line; msg (printf) for CTL_ERROR/CTL_USAGE. */
void ctl_end(struct ctl_client *cl, enum ctl_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ctl_ip_str(uint32_t ip, char buf[16]);
/* "A.B.C.D" into host order; 0 or -1. */
int ctl_parse_ip(const char *s, uint32_t *ip);

typedef void (*ctl_cmd_fn)(struct ctl_client *cl, int argc, char **argv);
void ctl_cmd_addr(struct ctl_client *cl, int argc, char **argv);
void ctl_cmd_arp(struct ctl_client *cl, int argc, char **argv);
/* ctl_ip6.c: IPv6's part of addr, and the neighbor cache. */
void ctl_addr_ip6(struct ctl_client *cl);
bool ctl_ip6_is_ours(struct ctl_client *cl, const uint8_t a[16]);
void ctl_cmd_neigh(struct ctl_client *cl, int argc, char **argv);
void ctl_route6_show(struct ctl_client *cl);
/* route add|del with an IPv6 DST (argv[2]); add: 1 for add. */
void ctl_route6_change(struct ctl_client *cl, int argc, char **argv, int add);
void ctl_cmd_route(struct ctl_client *cl, int argc, char **argv);
void ctl_cmd_stats(struct ctl_client *cl, int argc, char **argv);
void ctl_cmd_help(struct ctl_client *cl, int argc, char **argv);
void ctl_cmd_conns(struct ctl_client *cl, int argc, char **argv);
/* The packet filter (ctl_filter.c). */
void ctl_cmd_filter(struct ctl_client *cl, int argc, char **argv);
/* For stats: the rules' counters (XDP ones harvested first); JSON: appends
 * ",\n \"filter\": [...]"; text: a "filter:" block of the rules that counted. */
void ctl_filter_stats(struct ctl_client *cl);
/* Starts a ping session (state CL_RUN) or ends the command with an error. */
void ctl_cmd_ping(struct ctl_client *cl, int argc, char **argv);

/* Name resolution (ctl_resolve.c): the resolve command, and names for the
 * HOST of ping and connect. ctl_resolve_host: 1 and *ip for an address
 * A.B.C.D; 0 when host is a name whose resolve started (state CL_RUN; done
 * gets the result from the stack's poll, with cl->dns_name the name); -1
 * after ending the command with an error. */
void ctl_cmd_resolve(struct ctl_client *cl, int argc, char **argv);
int ctl_resolve_host(struct ctl_client *cl, const char *cmd, const char *host, uint32_t *ip,
		     void (*done)(struct ctl_client *cl, const struct xs_dns_result *r));
void ctl_resolve_free(struct ctl_client *cl); /* cancels a query in flight */
/* "Name not found (NXDOMAIN)", ...: what a failed resolve says. */
const char *ctl_resolve_strerror(int err);

/* Ping sessions (ctl_ping.c). */
void ctl_ping_tick(struct ctl_client *cl); /* sends due, finishes */
void ctl_ping_stop(struct ctl_client *cl); /* "stop": summary now */
void ctl_ping_free(struct ctl_client *cl); /* closes the handle */
xs_time_t ctl_ping_deadline(const struct ctl_client *cl);

/* TCP client sessions (ctl_connect.c): connect starts one (state CL_RUN) or
 * ends the command with an error. */
void ctl_cmd_connect(struct ctl_client *cl, int argc, char **argv);
/* Bytes that came after the request line: the first bytes of the stream. */
void ctl_conn_take(struct ctl_client *cl, const char *p, size_t n);
int ctl_conn_wants_input(const struct ctl_client *cl); /* POLLIN wanted */
void ctl_conn_input(struct ctl_client *cl);	       /* POLLIN: read the client */
void ctl_conn_tick(struct ctl_client *cl);	       /* pump, timeouts, finish */
void ctl_conn_free(struct ctl_client *cl);	       /* aborts a live connection */
xs_time_t ctl_conn_deadline(const struct ctl_client *cl);

#endif
