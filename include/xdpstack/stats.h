/* Counters of one stack instance: traffic per layer and every drop by reason.
 * Part of libxdpstack's public API (the daemon and the control tool print them). */
#ifndef XDPSTACK_STATS_H
#define XDPSTACK_STATS_H

#include <stdint.h>

/* X(name, description): the reason a received or outgoing packet was dropped. */
#define XS_DROP_REASONS(X)                                                        \
	X(NONE, "not dropped")                                                    \
	X(ETH_SHORT, "frame shorter than an Ethernet header")                     \
	X(ETH_DST, "destination MAC is not ours nor broadcast")                   \
	X(ETH_TYPE, "unsupported EtherType")                                      \
	X(ETH_VLAN, "VLAN tag not configured")                                    \
	X(ARP_SHORT, "ARP packet truncated")                                      \
	X(ARP_FORMAT, "ARP hardware/protocol type or length wrong")               \
	X(ARP_OP, "ARP opcode not request or reply")                              \
	X(ARP_SRC, "ARP sender address invalid")                                  \
	X(ARP_NOT_OURS, "ARP target is not our address")                          \
	X(ARP_CONFLICT, "another host claims our address")                        \
	X(ARP_UNSOLICITED, "ARP reply from a host we did not ask (not learned)")  \
	X(ARP_UNRESOLVED, "next hop did not answer ARP")                          \
	X(ARP_QUEUE_FULL, "too many packets waiting for ARP")                     \
	X(IP_SHORT, "IPv4 packet shorter than its header")                        \
	X(IP_VERSION, "IP version is not 4")                                      \
	X(IP_HDR_LEN, "IPv4 header length below 20 or beyond the packet")          \
	X(IP_TOTAL_LEN, "IPv4 total length beyond the frame or below the header") \
	X(IP_CSUM, "IPv4 header checksum wrong")                                  \
	X(IP_DST, "IPv4 destination is not ours")                                 \
	X(IP_SRC, "IPv4 source address invalid (martian)")                        \
	X(IP_FRAG, "IPv4 fragment malformed (bad length or offset)")              \
	X(FRAG_OVERLAP, "overlapping fragment: whole datagram dropped")           \
	X(FRAG_DUP, "duplicate fragment")                                         \
	X(FRAG_TOO_BIG, "fragment past 65535 bytes: datagram dropped")            \
	X(FRAG_TINY, "first fragment too small to hold the transport header")     \
	X(FRAG_TIMEOUT, "datagram not completed before the reassembly timeout")   \
	X(FRAG_LIMIT, "reassembly limits reached: oldest datagram evicted")       \
	X(FRAG_TOO_MANY, "too many fragments in one datagram")                    \
	X(IP_PROTO, "IP protocol not supported")                                  \
	X(IP_NO_ROUTE, "no route to the destination")                             \
	X(FILTER_IN, "inbound packet dropped by a filter rule or the in policy")  \
	X(FILTER_OUT, "outgoing packet dropped by a filter rule or the out policy") \
	X(FILTER_REJECT, "inbound packet rejected by a filter rule (RST/ICMP sent)") \
	X(ICMP_SHORT, "ICMP message truncated")                                   \
	X(ICMP_CSUM, "ICMP checksum wrong")                                       \
	X(ICMP_TYPE, "ICMP type not handled")                                     \
	X(ICMP_BCAST, "ICMP echo to a broadcast address ignored")                 \
	X(ICMP_ERR_BAD, "ICMP error quoting a truncated or invalid header")       \
	X(ICMP_ERR_NOSOCK, "ICMP error about traffic no socket sent")             \
	X(ICMP_RATE, "ICMP error not sent: rate limit")                           \
	X(ICMP_PING_QUEUE, "ping result lost: delivery queue full")               \
	X(UDP_SHORT, "UDP datagram shorter than its header")                      \
	X(UDP_LEN, "UDP length field disagrees with the IP payload")              \
	X(UDP_CSUM, "UDP checksum wrong")                                         \
	X(UDP_NO_PORT, "no socket bound to the UDP port")                         \
	X(UDP_RCVBUF, "UDP socket receive queue full")                            \
	X(TCP_SHORT, "TCP segment shorter than its header")                       \
	X(TCP_HDR_LEN, "TCP data offset below 20 or beyond the segment")          \
	X(TCP_CSUM, "TCP checksum wrong")                                         \
	X(TCP_DST, "TCP segment to a broadcast address")                          \
	X(TCP_NO_CONN, "TCP segment for no connection (a RST unless it is one)")  \
	X(TCP_FLAGS, "TCP flag combination invalid in this state")                \
	X(TCP_SEQ, "TCP segment outside the receive window")                      \
	X(TCP_PAWS, "TCP timestamp older than the last (PAWS)")                   \
	X(TCP_ACK, "TCP acknowledgment outside the send window")                  \
	X(TCP_RST, "TCP reset not exactly at the expected sequence")              \
	X(TCP_SYN_QUEUE, "SYN dropped: no memory for a half-open connection")     \
	X(TCP_ACCEPT_FULL, "handshake done but the accept queue is full")         \
	X(TCP_OOO_FULL, "out-of-order segment beyond what is tracked")            \
	X(TCP_COOKIE, "ACK with an invalid SYN cookie")                           \
	X(TCP_COOKIE_UNEXPECTED, "ACK to a listener with no SYN cookies out")     \
	X(TCP_MEM, "TCP memory above its high limit: connection refused")        \
	X(TCP_MAX_CONNS, "TCP connections at tcp_max_conns: connection refused") \
	X(TCP_BUF_ALLOC, "TCP segment dropped: no memory for the receive ring")  \
	X(DNS_SHORT, "DNS message shorter than its header or a record")          \
	X(DNS_COUNT, "DNS section counts larger than the records present")      \
	X(DNS_PTR_PAST_END, "DNS compression pointer past the message end")     \
	X(DNS_PTR_FORWARD, "DNS compression pointer not pointing backward")     \
	X(DNS_PTR_LOOP, "DNS compression pointers in a loop")                   \
	X(DNS_LABEL_LONG, "DNS label over 63 bytes or of a reserved type")      \
	X(DNS_NAME_LONG, "DNS name over 255 bytes")                             \
	X(DNS_RDLEN, "DNS RDLENGTH runs past the message")                      \
	X(DNS_RDATA, "DNS record data malformed for its type")                  \
	X(DNS_QDCOUNT, "DNS reply without exactly one question")                \
	X(DNS_NOT_REPLY, "DNS message not a standard query reply")              \
	X(DNS_ID, "DNS reply ID matches no query in flight")                    \
	X(DNS_SRC, "DNS reply from another address or port than asked")         \
	X(DNS_QUESTION, "DNS reply for another question than asked")            \
	X(DNS_TCP_LEN, "DNS reply over TCP with a bad length prefix")           \
	X(DHCP_SHORT, "DHCP message shorter than the BOOTP header and cookie")    \
	X(DHCP_COOKIE, "DHCP message without the magic cookie")                  \
	X(DHCP_HTYPE, "DHCP message not for Ethernet (htype/hlen)")              \
	X(DHCP_OPT_LEN, "DHCP option runs past the message")                     \
	X(DHCP_NO_END, "DHCP options without an END option")                     \
	X(DHCP_OPT_BAD, "DHCP option of the wrong length or repeated")           \
	X(DHCP_TYPE, "DHCP message type missing or unknown")                     \
	X(DHCP_NOT_OURS, "DHCP reply with another xid or chaddr, or not a reply") \
	X(DHCP_YIADDR, "DHCP offer of an address a host cannot take")            \
	X(DHCP_UNEXPECTED, "DHCP message of a type not expected in this state")  \
	X(DHCP_NO_SERVER, "DHCP offer or ACK without a server identifier")       \
	/* IPv6 (user/net6/, docs/DESIGN.md "IPv6") */                            \
	X(IP6_SHORT, "IPv6 packet shorter than its 40-byte header")               \
	X(IP6_VERSION, "IPv6 EtherType but IP version is not 6")                  \
	X(IP6_LEN, "IPv6 payload length beyond the frame")                        \
	X(IP6_DST, "IPv6 destination is not ours (or still tentative)")           \
	X(IP6_SRC, "IPv6 source invalid (multicast, loopback, ours, v4-mapped)")  \
	X(IP6_EXT_ORDER, "IPv6 extension headers out of order or repeated")       \
	X(IP6_EXT_LIMIT, "IPv6 extension headers or options past the limits")     \
	X(IP6_EXT_BAD, "IPv6 extension header or option truncated or overlong")   \
	X(IP6_OPT_UNKNOWN, "IPv6 option unknown, its action bits say discard")    \
	X(IP6_NEXT_HDR, "IPv6 next header unrecognized")                          \
	X(IP6_ROUTING, "IPv6 routing header with segments left (we route nothing)") \
	X(IP6_FRAG, "IPv6 fragment malformed (length or offset)")                 \
	X(ICMP6_SHORT, "ICMPv6 message truncated")                                \
	X(ICMP6_CSUM, "ICMPv6 checksum wrong")                                    \
	X(ICMP6_TYPE, "ICMPv6 type not handled")                                  \
	X(ICMP6_ERR_BAD, "ICMPv6 error quoting a truncated or foreign packet")    \
	X(ICMP6_PTB_SMALL, "Packet Too Big with an MTU below 1280 ignored")       \
	X(ICMP6_RATE, "ICMPv6 error not sent: rate limit")                        \
	X(ND_HOP_LIMIT, "NDP message with a hop limit other than 255")            \
	X(ND_BAD, "NDP message malformed (code, length, target)")                 \
	X(ND_SRC, "NDP message from a source its type forbids")                   \
	X(ND_OPT, "NDP option of length 0, wrong length, or past the end")        \
	X(ND_NOT_OURS, "Neighbor Solicitation for a target that is not ours")     \
	X(ND_CONFLICT, "Neighbor Advertisement from another host for our address") \
	X(ND_UNSOLICITED, "Neighbor Advertisement for an address not in the cache") \
	X(ND_UNRESOLVED, "next hop did not answer Neighbor Solicitations")        \
	X(ND_QUEUE_FULL, "too many packets waiting for neighbor discovery")       \
	X(ND_RA_IGNORED, "Router Advertisement not wanted (no SLAAC, or bad values)") \
	X(ND_FRAG, "NDP message in fragments or behind a Fragment header (RFC 6980)") \
	X(MLD_BAD, "MLD query malformed (hop limit, source, length, group)")      \
	X(TX_NO_FRAME, "no free transmit frame")                                  \
	X(MQ_RING_FULL, "packet for another queue's stack lost: the ring to it was full") \
	X(TX_TOO_BIG, "packet larger than the MTU")

enum xs_drop {
#define XS_DROP_ENUM(name, desc) XS_DROP_##name,
	XS_DROP_REASONS(XS_DROP_ENUM)
#undef XS_DROP_ENUM
	XS_DROP_MAX
};

/* X(name): plain traffic counters, in the order tools print them. The
 * *_chain_max are high-water marks: the longest hash chain each keyed table
 * has had since start. arp_refused_* count requests for us that were
 * answered but not learned: sender off the connected subnet, or the cache
 * full of entries in use (gateways, entries with packets waiting or that we
 * sent through).
 * The TCP budget counters: tcp_orphan_overflow / tcp_orphan_mem_overflow (closing
 * connections reset: too many orphans / orphan memory), tcp_orphan_timeouts
 * (orphans dropped after tcp_orphan_retries), tcp_persist_aborts (a zero
 * window outlived tcp_persist_span_ms), tcp_mem_pressure (times pressure was
 * entered), tcp_mem_shrunk (idle connections' buffers shrunk), tcp_mem_aborts
 * (orphans reset above the high limit), tcp_buf_alloc / tcp_buf_released
 * (send and receive rings allocated at first use / freed once empty and
 * idle; with tcp_ooo_alloc, tcp_rack_released: the out-of-order and RACK
 * records likewise), tcp_buf_clamped (send rings allocated at the smallest
 * size, 4 KiB, above the high limit), tcp_sndbuf_alloc_fail (a send ring
 * that could not be allocated: the send fails with ENOMEM; the receive side
 * counts drop TCP_BUF_ALLOC). Three are gauges, not counters: tcp_mem_bytes (what
 * TCP holds now), tcp_orphans (orphans now) and tcp_conns (connections now).
 * The resolver: dns_queries (resolves asked), dns_tx / dns_rx (messages to
 * and accepted from servers), dns_tcp_fallback (truncated replies retried over
 * TCP), dns_timeouts (a server that did not answer in time), dns_cache_hits /
 * dns_cache_neg_hits (answered from the cache, positive / RFC 2308 negative),
 * dns_cache_evictions (live entries pushed out by the entry budget), dns_busy
 * (resolves refused: queries in flight at their budget); gauges dns_inflight
 * and dns_cache_entries.
 * Multi-queue (xdpstack/mq.h): mq_handoff_tx / mq_handoff_rx (packets given
 * to / taken from another queue's stack, ARP copies included in rx),
 * mq_arp_replicas (ARP packets copied to the other stacks), mq_nd_replicas
 * (IPv6 Neighbor Solicitations, Advertisements and Router Advertisements
 * copied to the other stacks), mq_ip6_follow (stack 0's IPv6 addresses and
 * routes copied to the others after a change) and mq_search (TCP segments
 * for no connection passed on to the next queue's stack: a flow that moved
 * queues).
 * TLS sessions (include/xdpstack/tls.h): tls_handshakes (completed, of which
 * tls_resumed resumed a session), tls_handshake_failed (a protocol error, an
 * alert, a peer gone; tls_verify_failed of them refused the peer's
 * certificate), tls_handshake_timeouts (not done within the context's
 * handshake_timeout_ms), tls_handshake_refused (sessions not made: the
 * context's max_handshakes were in progress), tls_close_notify_tx / _rx,
 * tls_close_aborts (a closed session that could not send its close_notify in
 * time: reset); gauges tls_sessions (open now) and tls_handshaking (in their
 * handshake now). */
#define XS_COUNTERS(X)                                                             \
	X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes)                          \
	X(arp_rx_request) X(arp_rx_reply) X(arp_tx_request) X(arp_tx_reply)        \
	X(arp_refused_offlink) X(arp_refused_in_use) X(arp_chain_max)              \
	X(ip_rx) X(ip_tx) X(ip_frag_rx) X(ip_reassembled) X(ip_frag_tx)            \
	X(frag_chain_max)                                                          \
	X(icmp_rx) X(icmp_tx) X(icmp_echo_rx) X(icmp_echo_reply_tx)                \
	X(icmp_echo_tx) X(icmp_echo_reply_rx) X(icmp_err_rx) X(icmp_err_tx)        \
	X(udp_rx) X(udp_tx)                                                        \
	X(tcp_rx) X(tcp_tx) X(tcp_rst_rx) X(tcp_rst_tx)                            \
	X(tcp_active_opens) X(tcp_passive_opens) X(tcp_retransmits)                \
	X(tcp_rto_expired) X(tcp_tlp) X(tcp_fast_recovery) X(tcp_sack_recovery)   \
	X(tcp_rack_lost) X(tcp_challenge_acks) X(tcp_syncookies_sent)              \
	X(tcp_syncookies_ok) X(tcp_hash_chain_max) X(tcp_sack_unaligned) X(tcp_rack_work) \
	X(tcp_orphan_overflow) X(tcp_orphan_mem_overflow) X(tcp_orphan_timeouts)   \
	X(tcp_persist_aborts) X(tcp_mem_pressure) X(tcp_mem_shrunk) X(tcp_mem_aborts) \
	X(tcp_buf_alloc) X(tcp_buf_released) X(tcp_buf_clamped) X(tcp_ooo_alloc)  \
	X(tcp_rack_released) X(tcp_sndbuf_alloc_fail)                              \
	X(tcp_mem_bytes) X(tcp_orphans) X(tcp_conns) \
	X(dns_queries) X(dns_tx) X(dns_rx) X(dns_tcp_fallback) X(dns_timeouts)     \
	X(dns_cache_hits) X(dns_cache_neg_hits) X(dns_cache_evictions)             \
	X(dns_busy) X(dns_inflight) X(dns_cache_entries)                           \
	X(mq_handoff_tx) X(mq_handoff_rx) X(mq_arp_replicas) X(mq_search)          \
	X(mq_nd_replicas) X(mq_ip6_follow)                                         \
	X(tls_handshakes) X(tls_resumed) X(tls_handshake_failed) X(tls_verify_failed) \
	X(tls_handshake_timeouts) X(tls_handshake_refused) X(tls_close_notify_tx)  \
	X(tls_close_notify_rx) X(tls_close_aborts) X(tls_sessions) X(tls_handshaking) \
	XS_COUNTERS_IP6(X)

/* IPv6 (user/net6/): ip6_atomic_frag (atomic fragments taken whole, RFC
 * 6946), nd_refused_in_use (a solicitation answered but its sender not
 * learned: the cache full of entries in use), nd_chain_max and
 * pmtu_chain_max (longest chains of the keyed tables), nd_dad_conflicts
 * (addresses found duplicate), ip6_pmtu_updates (Packet Too Big that lowered
 * a path MTU), nd_ra_rx / nd_ra_used (Router Advertisements received /
 * taken by SLAAC), mld_reports_tx (MLDv2 Listener Reports sent, RFC 3810),
 * mld_joins / mld_leaves (solicited-node groups joined / left), mld_queries
 * (queries that reached the stack: only unicast ones do). */
#define XS_COUNTERS_IP6(X)                                                         \
	X(ip6_rx) X(ip6_tx) X(ip6_frag_rx) X(ip6_reassembled) X(ip6_frag_tx)      \
	X(ip6_atomic_frag) X(ip6_pmtu_updates) X(pmtu_chain_max)                 \
	X(icmp6_rx) X(icmp6_tx) X(icmp6_echo_rx) X(icmp6_echo_reply_tx)            \
	X(icmp6_echo_tx) X(icmp6_echo_reply_rx) X(icmp6_err_rx) X(icmp6_err_tx)    \
	X(nd_ns_rx) X(nd_ns_tx) X(nd_na_rx) X(nd_na_tx) X(nd_rs_tx) X(nd_ra_rx)    \
	X(nd_ra_used) X(nd_refused_in_use) X(nd_chain_max) X(nd_dad_conflicts) \
	X(mld_reports_tx) X(mld_joins) X(mld_leaves) X(mld_queries)

struct xs_stats {
#define XS_COUNTER_FIELD(name) uint64_t name;
	XS_COUNTERS(XS_COUNTER_FIELD)
#undef XS_COUNTER_FIELD
	uint64_t drop[XS_DROP_MAX];
};

/* Short machine name ("ip_csum") and description of a drop reason. */
const char *xs_drop_name(enum xs_drop reason);
const char *xs_drop_desc(enum xs_drop reason);

#endif
