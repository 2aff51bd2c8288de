/* The iperf3 service's JSON messages: the client's parameters (remote input,
 * parsed strictly) and our results, in the shapes iperf3 3.x exchanges. */
#include <errno.h>
#include <stdlib.h>

#include "app/svc_iperf3_int.h"

/* --- parameters ------------------------------------------------------- */

struct ip3_params {
	struct ip3_test *t;
	bool sctp, bytes_limit, omit;
	double parallel, duration;
};

static int ip3_param(const struct ij_member *m, void *ctx)
{
	struct ip3_params *p = ctx;
	struct ip3_test *t = p->t;
	bool num = m->type == IJ_NUM;

	if (ij_key_is(m, "tcp"))
		t->udp = false;
	else if (ij_key_is(m, "udp"))
		t->udp = true;
	else if (ij_key_is(m, "sctp"))
		p->sctp = true;
	else if (ij_key_is(m, "reverse"))
		t->reverse = true;
	else if (ij_key_is(m, "bidirectional"))
		t->bidir = true;
	else if (ij_key_is(m, "get_server_output"))
		t->get_server_output = true;
	else if (ij_key_is(m, "udp_counters_64bit"))
		t->udp64 = true;
	else if (ij_key_is(m, "parallel") && num)
		p->parallel = m->num;
	else if (ij_key_is(m, "time") && num)
		p->duration = m->num;
	else if (ij_key_is(m, "omit") && num)
		p->omit = m->num != 0;
	else if ((ij_key_is(m, "num") || ij_key_is(m, "blockcount")) && num)
		p->bytes_limit |= m->num != 0;
	else if (ij_key_is(m, "len") && num && m->num >= 0 && m->num <= 1e9)
		t->blksize = (uint64_t)m->num;
	else if (ij_key_is(m, "bandwidth") && num && m->num >= 0 && m->num <= 1e15)
		t->bandwidth = (uint64_t)m->num;
	else if (ij_key_is(m, "parallel") || ij_key_is(m, "time"))
		return -EINVAL; /* present but not a number */
	return 0;
}

/* Checks the client's parameters; 0, or an iperf3 error number to send. */
int ip3_params_take(struct svc_iperf3 *s, const char *json, size_t n)
{
	struct ip3_params p = {.t = &s->t, .parallel = 1, .duration = 10};
	unsigned total;

	if (ij_parse_object(json, n, ip3_param, &p)) {
		s->stats.iperf3_bad_param++;
		return IP3_IERECVPARAMS;
	}
	/* -n/-k send time 0: the client ends the test by its byte count, and
	 * the test's deadline is then the longest duration we accept. */
	if (p.duration == 0 && p.bytes_limit)
		p.duration = s->cfg.max_duration_s;
	if (p.parallel < 1 || p.parallel > 128 || p.duration < 1 ||
	    p.duration > s->cfg.max_duration_s) {
		s->stats.iperf3_bad_param++;
		return p.parallel > 128			    ? IP3_IENUMSTREAMS
		       : p.duration > s->cfg.max_duration_s ? IP3_IEDURATION
							    : IP3_IERECVPARAMS;
	}
	s->t.parallel = (unsigned)p.parallel;
	s->t.duration = (unsigned)p.duration;
	total = s->t.parallel * (s->t.bidir ? 2 : 1);
	if (total > s->cfg.max_streams) {
		s->stats.iperf3_bad_param++;
		return IP3_IENUMSTREAMS;
	}
	/* What this server does not do: SCTP, --omit (its figures would include
	 * the omitted seconds), -n/-k when we send (the end would be ours to
	 * find). */
	if (p.sctp || p.omit || (p.bytes_limit && (s->t.reverse || s->t.bidir))) {
		s->stats.iperf3_unsupported++;
		return IP3_IEUNIMP;
	}
	if (s->t.udp) {
		if (!s->t.blksize)
			s->t.blksize = IP3_UDP_DEFAULT_LEN;
		if (s->t.blksize < 16 || s->t.blksize > IP3_UDP_MAX_LEN) {
			s->stats.iperf3_bad_param++;
			return IP3_IEUDPBLOCKSIZE;
		}
		if (!s->t.bandwidth)
			s->t.bandwidth = 1 << 20; /* iperf3's UDP default, 1 Mbit/s */
	}
	s->t.want_streams = total;
	s->t.streams = calloc(total, sizeof(*s->t.streams));
	if (!s->t.streams)
		return IP3_IERECVPARAMS;
	return 0;
}

/* --- results ---------------------------------------------------------- */

static double ip3_secs(xs_time_t a, xs_time_t b)
{
	return b > a ? (double)(b - a) / 1e9 : 0;
}

/* Our side's summary in the shape of iperf3's own -J "end" section. */
static void ip3_server_output(struct svc_iperf3 *s, struct jw *w)
{
	double secs = ip3_secs(s->t.start, s->t.end);
	uint64_t sent = 0, rcvd = 0, pkts = 0, lost = 0;
	unsigned i;

	jw_obj_begin(w, "server_output_json");
	jw_obj_begin(w, "start");
	jw_str(w, "version", "xdpstack iperf3 service");
	jw_str(w, "cookie", (const char *)s->t.cookie);
	jw_obj_begin(w, "test_start");
	jw_str(w, "protocol", s->t.udp ? "UDP" : "TCP");
	jw_int(w, "num_streams", s->t.parallel);
	jw_int(w, "duration", s->t.duration);
	jw_int(w, "reverse", s->t.reverse);
	jw_int(w, "bidir", s->t.bidir);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_arr_begin(w, "intervals");
	jw_arr_end(w);
	jw_obj_begin(w, "end");
	jw_arr_begin(w, "streams");
	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		jw_obj_begin(w, NULL);
		jw_obj_begin(w, s->t.udp ? "udp" : sp->sender ? "sender" : "receiver");
		jw_int(w, "id", sp->id);
		jw_double(w, "start", 0);
		jw_double(w, "end", secs);
		jw_double(w, "seconds", secs);
		jw_int(w, "bytes", (int64_t)sp->bytes);
		jw_double(w, "bits_per_second", secs > 0 ? sp->bytes * 8 / secs : 0);
		if (sp->sender && !sp->udp)
			jw_int(w, "retransmits", sp->retransmits);
		if (s->t.udp) {
			jw_double(w, "jitter_ms", sp->jitter * 1000);
			jw_int(w, "lost_packets", (int64_t)sp->cnt_error);
			jw_int(w, "packets", (int64_t)sp->packet_count);
			jw_int(w, "out_of_order", (int64_t)sp->outoforder);
		}
		jw_bool(w, "sender", sp->sender);
		jw_obj_end(w);
		jw_obj_end(w);
		if (sp->sender) {
			sent += sp->bytes;
		} else {
			rcvd += sp->bytes;
			pkts += sp->packet_count;
			lost += sp->cnt_error;
		}
	}
	jw_arr_end(w);
	for (i = 0; i < 2; i++) {
		uint64_t b = i ? rcvd : sent;

		jw_obj_begin(w, i ? "sum_received" : "sum_sent");
		jw_double(w, "start", 0);
		jw_double(w, "end", secs);
		jw_double(w, "seconds", secs);
		jw_int(w, "bytes", (int64_t)b);
		jw_double(w, "bits_per_second", secs > 0 ? b * 8 / secs : 0);
		if (s->t.udp && i) {
			jw_int(w, "lost_packets", (int64_t)lost);
			jw_int(w, "packets", (int64_t)pkts);
		}
		jw_bool(w, "sender", !i);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

/* send_results: what the client prints as the server's side of each stream. */
void ip3_results_json(struct svc_iperf3 *s, struct jw *w)
{
	bool server_sends = s->t.reverse || s->t.bidir;
	unsigned i;

	jw_obj_begin(w, NULL);
	jw_double(w, "cpu_util_total", 0);
	jw_double(w, "cpu_util_user", 0);
	jw_double(w, "cpu_util_system", 0);
	/* -1: we only received; 1: our TCP senders report retransmissions. */
	jw_int(w, "sender_has_retransmits", !server_sends ? -1 : s->t.udp ? 0 : 1);
	if (!s->t.udp)
		jw_str(w, "congestion_used", "cubic");
	if (s->t.get_server_output)
		ip3_server_output(s, w);
	jw_arr_begin(w, "streams");
	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		jw_obj_begin(w, NULL);
		jw_int(w, "id", sp->id);
		jw_int(w, "bytes", (int64_t)sp->bytes);
		jw_int(w, "retransmits", sp->sender && !sp->udp ? (int64_t)sp->retransmits : -1);
		jw_double(w, "jitter", sp->jitter);
		jw_int(w, "errors", (int64_t)sp->cnt_error);
		jw_int(w, "packets", (int64_t)sp->packet_count);
		jw_double(w, "start_time", 0);
		jw_double(w, "end_time", ip3_secs(s->t.start, s->t.end));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}
