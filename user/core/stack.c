/* Stack instance lifecycle and the poll loop body: one batch of rx, due
 * timers, tx flush. The caller passes the time; nothing here reads a clock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/api.h"
#include "core/mq.h"
#include "core/stack.h"
#include "net/arp.h"
#include "net/dhcp_stack.h"
#include "net/dns.h"
#include "net/icmp.h"
#include "net/iface.h"
#include "net/ip4.h"
#include "net/udp.h"
#include "net6/ip6.h"
#include "tcp/tcp.h"
#include "tls/tls.h"

static void config_defaults(struct xs_config *c)
{
	if (c->dhcp)
		c->prefix_len = 32; /* unbound: no subnet until the lease */
	else if (!c->prefix_len || c->prefix_len > 32)
		c->prefix_len = 24;
	if (!c->arp_lifetime_ms)
		c->arp_lifetime_ms = 60000;
	if (!c->arp_retry_ms)
		c->arp_retry_ms = 1000;
	if (!c->arp_retries)
		c->arp_retries = 3;
	if (!c->gratuitous_arps)
		c->gratuitous_arps = 2;
	if (!c->frag_timeout_ms)
		c->frag_timeout_ms = 30000;
	if (!c->frag_max_datagrams)
		c->frag_max_datagrams = 64;
	if (!c->frag_max_bytes)
		c->frag_max_bytes = 4u << 20;
	if (!c->icmp_rate)
		c->icmp_rate = 100;
	if (!c->icmp_burst)
		c->icmp_burst = 50;
	if (!c->tcp_rto_min_us)
		c->tcp_rto_min_us = 200000;
	if (!c->ip_ttl)
		c->ip_ttl = IP4_DEFAULT_TTL;
	if (!c->dns_max_queries)
		c->dns_max_queries = 64;
	if (!c->dns_cache_size)
		c->dns_cache_size = 256;
	if (!c->dns_timeout_ms)
		c->dns_timeout_ms = 2000;
	if (!c->dns_attempts)
		c->dns_attempts = 2;
	if (!c->dns_ttl_max)
		c->dns_ttl_max = 86400;
	if (!c->tcp_max_orphans)
		c->tcp_max_orphans = 4096;
	if (!c->tcp_orphan_mem)
		c->tcp_orphan_mem = 64ull << 20;
	if (!c->tcp_orphan_retries)
		c->tcp_orphan_retries = 8;
	if (!c->tcp_synack_retries)
		c->tcp_synack_retries = TCP_SYNACK_RETRIES;
	if (!c->tcp_persist_span_ms)
		c->tcp_persist_span_ms = 300000;
	if (!c->tcp_max_conns)
		c->tcp_max_conns = 262144;
	if (!c->tcp_buf_idle_ms)
		c->tcp_buf_idle_ms = 200;
	if (!c->tcp_mem[0] && !c->tcp_mem[1] && !c->tcp_mem[2]) {
		c->tcp_mem[0] = 384ull << 20;
		c->tcp_mem[1] = 512ull << 20;
		c->tcp_mem[2] = 768ull << 20;
	}
}

/* Secrets from the kernel's CSPRNG; should it fail (it does not block once
 * the pool is initialised), the PRNG stream is a last resort, not a key. */
static void keys_init(struct xs_stack *st)
{
	uint8_t *k = (uint8_t *)&st->keys;
	size_t n = sizeof(st->keys), i;

	if (getrandom(k, n, 0) == (ssize_t)n)
		return;
	for (i = 0; i < n; i += 8) {
		uint64_t r = xs_random(st);

		memcpy(k + i, &r, n - i < 8 ? n - i : 8);
	}
}

/* The TCP budgets a caller set must make sense: 0 means the default. */
static bool config_tcp_ok(const struct xs_config *c)
{
	const uint64_t *m = c->tcp_mem;

	if (c->tcp_orphan_retries > 255 || c->tcp_synack_retries > 255)
		return false;
	if (c->tcp_persist_span_ms && (c->tcp_persist_span_ms < 100 ||
				       c->tcp_persist_span_ms > 86400000))
		return false;
	if (c->tcp_max_conns && (c->tcp_max_conns < 16 || c->tcp_max_conns > 16777216))
		return false;
	if (c->tcp_buf_idle_ms > 60000 && c->tcp_buf_idle_ms != XS_TCP_BUF_IDLE_NOW)
		return false;
	if (!m[0] && !m[1] && !m[2])
		return true;
	return m[0] && m[0] <= m[1] && m[1] <= m[2];
}

struct xs_stack *xs_stack_new(const struct xs_config *cfg, struct xs_dev *dev)
{
	struct xs_stack *st;
	int err;

	/* RFC 791: every IPv4 link carries at least 68-byte datagrams. */
	if (!cfg || !dev || (!cfg->ip == !cfg->dhcp) ||
	    (cfg->dhcp && (cfg->prefix_len || cfg->gateway)) || (dev->mtu && dev->mtu < 68) ||
	    (cfg->tcp_rto_min_us && (cfg->tcp_rto_min_us < 1000 || cfg->tcp_rto_min_us > 1000000)) ||
	    !config_tcp_ok(cfg) || cfg->dns_max_queries > 4096 || cfg->dns_cache_size > 65536 ||
	    (cfg->dns_timeout_ms && (cfg->dns_timeout_ms < 10 || cfg->dns_timeout_ms > 60000)) ||
	    cfg->dns_attempts > 10) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->cfg = *cfg;
	config_defaults(&st->cfg);
	st->dev = dev;
	st->wake_fd = st->ep_fd = -1;
	memcpy(st->mac, dev->mac, sizeof(st->mac));
	st->mtu = dev->mtu ? dev->mtu : 1500;
	st->ip = cfg->ip;
	st->netmask = st->cfg.prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> st->cfg.prefix_len);
	st->bcast = st->ip | ~st->netmask;
	if (getrandom(&st->rng, sizeof(st->rng), 0) != sizeof(st->rng) || !st->rng)
		st->rng = 0x9e3779b97f4a7c15ull ^ (uintptr_t)st;
	st->ip_id = (uint16_t)xs_random(st);
	keys_init(st);
	st->garp_left = st->ip ? st->cfg.gratuitous_arps : 0;
	icmp_init(st);
	st->scratch = malloc(XS_SCRATCH_LEN);
	if (!st->scratch) {
		err = -ENOMEM;
		goto err_scratch;
	}
	filter_table_init(&st->filter);
	err = route_table_init(st);
	if (err)
		goto err_arp;
	err = arp_cache_init(&st->arp);
	if (err)
		goto err_arp;
	err = udp_table_init(&st->udp);
	if (err)
		goto err_udp;
	err = frag_table_init(st);
	if (err)
		goto err_frag;
	err = tcp_init(st);
	if (err)
		goto err_tcp;
	err = dns_init(st);
	if (err)
		goto err_dns;
	err = dhcp_stack_init(st);
	if (err)
		goto err_dhcp;
	return st;

err_dhcp:
	dns_fini(st);
err_dns:
	tcp_fini(st);
err_tcp:
	frag_table_fini(st);
err_frag:
	udp_table_fini(&st->udp);
err_udp:
	arp_cache_fini(&st->arp);
err_arp:
	free(st->scratch);
err_scratch:
	free(st);
	errno = -err;
	return NULL;
}

void xs_stack_free(struct xs_stack *st)
{
	if (!st)
		return;
	tls_fini(st); /* first: its sessions reset their TCP handles */
	mq_detach(st);
	dhcp_stack_fini(st);
	dns_fini(st);
	ip6_fini(st);
	xs_loop_fini(st);
	tcp_fini(st);
	frag_table_fini(st);
	udp_table_fini(&st->udp);
	arp_cache_fini(&st->arp);
	free(st->scratch);
	if (st->owns_dev)
		xs_dev_free(st->dev);
	free(st);
}

uint64_t xs_random(struct xs_stack *st)
{
	/* xorshift64*: cheap, per-stack; not for secrets (ISNs get a keyed hash). */
	uint64_t x = st->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void stack_timers(struct xs_stack *st)
{
	if (st->garp_left && st->now >= st->garp_next) {
		/* RFC 5227 announcement: a request with sender = target = our IP. */
		if (arp_send_request(st, st->ip, NULL) == 0) {
			st->garp_left--;
			st->garp_next = st->now + XS_SEC(1);
		}
	}
	if (st->now >= st->next_tick) {
		arp_tick(st);
		frag_tick(st);
		if (st->ip6)
			ip6_tick(st);
		tcp_mem_tick(st);
		st->next_tick = st->now + XS_TICK_NS;
	}
}

static bool stack_events_pending(const struct xs_stack *st)
{
	return st->udp.ready_head >= 0 || st->icmp.pq_len || tcp_events_pending(st) ||
	       tls_events_pending(st) || dns_events_pending(st);
}

int xs_stack_poll(struct xs_stack *st, xs_time_t now)
{
	struct xs_frame rx[XS_RX_BATCH];
	int n, i;

	/* From inside a callback: refused (the batch in progress owns rx[]). */
	if (st->in_poll)
		return -EBUSY;
	st->now = now;
	/* Buffers the application emptied since the last poll, before new
	 * segments arrive (tcp_reap does it again for the rest): one
	 * comparison unless a release is due. */
	tcp_mem_idle_run(st, st->tcp, st->now);
	st->in_poll = true;
	if (st->kicked)
		xs_loop_drain(st);
	/* What other queues' stacks received for this one (multi-queue): ARP
	 * learned there first, before this batch needs it. */
	mq_poll(st);
	for (i = 0; i < XS_RX_BATCH; i++)
		rx[i].meta = 0;
	n = xs_dev_rx_burst(st->dev, rx, XS_RX_BATCH);
	if (n < 0) {
		st->in_poll = false;
		return n;
	}
	tcp_batch_begin(st);
	for (i = 0; i < n; i++) {
		st->rx_meta = rx[i].meta;
		iface_input(st, rx[i].data, rx[i].len);
	}
	st->rx_meta = 0;
	/* The ACKs the batch owes, one per connection (RFC 9293 3.10.7.4). */
	tcp_batch_end(st);
	if (n)
		xs_dev_rx_release(st->dev, rx, n);
	stack_timers(st);
	tcp_timers_run(st);
	dns_timers_run(st);
	dhcp_stack_timers(st);
	api_deliver_events(st);
	tcp_reap(st);
	xs_dev_flush(st->dev);
	mq_flush(st);
	st->tx_unflushed = false;
	st->in_poll = false;
	/* Events callbacks raised wait for the next poll: keep the fd readable. */
	if (stack_events_pending(st))
		xs_stack_kick(st);
	return n;
}

xs_time_t xs_stack_next_timer(const struct xs_stack *st)
{
	xs_time_t t = st->next_tick, tcp_t;

	/* Events raised by callbacks or API calls wait for the next poll, and
	 * frames sent from outside a poll for its flush: it is due now (else
	 * the caller sleeps on them until some timer). */
	if (stack_events_pending(st) || st->tx_unflushed || mq_pending(st))
		return 0;

	if (st->garp_left && st->garp_next < t)
		t = st->garp_next;
	tcp_t = tcp_next_timer(st);
	if (tcp_t < t)
		t = tcp_t;
	tcp_t = tcp_mem_idle_next(st->tcp);
	if (tcp_t < t)
		t = tcp_t;
	tcp_t = dns_next_timer(st);
	if (tcp_t < t)
		t = tcp_t;
	tcp_t = dhcp_stack_next(st);
	return tcp_t < t ? tcp_t : t;
}

const struct xs_stats *xs_stack_stats(const struct xs_stack *st)
{
	return &st->stats;
}

uint32_t xs_stack_ip(const struct xs_stack *st)
{
	return st->ip;
}

void xs_stack_get_info(const struct xs_stack *st, struct xs_stack_info *out)
{
	out->ip = st->ip;
	out->prefix_len = st->cfg.prefix_len;
	memcpy(out->mac, st->mac, sizeof(out->mac));
	out->mtu = st->mtu;
}

void xs_stack_arp_flush(struct xs_stack *st)
{
	arp_cache_flush(st);
}
