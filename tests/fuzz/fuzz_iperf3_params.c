/* libFuzzer target: arbitrary bytes as an iperf3 client's parameter message
 * through the service's intake, and every accepted test's results re-parsed.
 *
 * The input is what follows the 4-byte length on the control connection; it is
 * copied to a heap buffer of exactly its size so ASan sees any read past it.
 * When the parameters are accepted, the results message for that test (with
 * server output) is written and must parse again as strict JSON. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/iperf3_json.c"
#include "app/svc_iperf3_json.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int any_member(const struct ij_member *m, void *ctx)
{
	/* Touch what the parser hands out, within the input. */
	volatile char c = 0;

	if (m->key_len)
		c ^= m->key[m->key_len - 1];
	if (m->type == IJ_STR && m->str_len)
		c ^= m->str[m->str_len - 1];
	(void)c;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[1 << 17];
	struct svc_iperf3 *s;
	char *in;
	struct jw w;
	unsigned i;

	if (size > 8192) /* the service's default bound */
		return 0;
	in = malloc(size ? size : 1);
	s = calloc(1, sizeof(*s));
	if (!in || !s)
		abort();
	memcpy(in, data, size);
	ij_parse_object(in, size, any_member, NULL);
	s->cfg.max_streams = 32;
	s->cfg.max_duration_s = 3600;
	if (ip3_params_take(s, in, size) == 0) {
		if (!s->t.streams || s->t.parallel < 1 || s->t.want_streams > 32 ||
		    s->t.duration < 1 || s->t.duration > 3600)
			abort();
		for (i = 0; i < s->t.want_streams; i++) {
			struct ip3_stream *sp = &s->t.streams[s->t.nstreams++];

			sp->id = i ? (int)i + 2 : 1;
			sp->sender = s->t.bidir ? i >= s->t.parallel : s->t.reverse;
			sp->bytes = (uint64_t)size << i;
			sp->jitter = 1e-3 * i;
		}
		s->t.get_server_output = true;
		s->t.end = XS_SEC(2);
		jw_init(&w, out, sizeof(out));
		ip3_results_json(s, &w);
		if (w.overflow || ij_parse_object(out, w.len, any_member, NULL))
			abort();
	}
	free(s->t.streams);
	free(s);
	free(in);
	return 0;
}
