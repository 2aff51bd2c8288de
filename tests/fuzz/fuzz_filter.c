/* libFuzzer target: bytes as one filter rule line through filter_rule_parse,
 * every accepted rule formatted and parsed again.
 *
 * Checks: the result is 1, 0 or -EINVAL; an accepted repr is well formed
 * (a direction, port ranges low <= high, no host bits under a prefix, set
 * flags within the mask, a burst exactly when a rate); its canonical text is
 * within FILTER_LINE_MAX and parses back to the same repr; an error names a
 * field and an expectation, and what it quotes is printable. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "wire/filter_rule.h"

static void check_rule(const struct filter_rule *r)
{
	char buf[FILTER_LINE_MAX + 1];
	struct filter_rule r2;
	struct filter_err e;
	int n;

	FUZZ_CHECK(r->action <= FILTER_REJECT);
	FUZZ_CHECK(r->dirs && !(r->dirs & ~(FILTER_DIR_IN | FILTER_DIR_OUT)));
	FUZZ_CHECK(r->action != FILTER_REJECT || r->dirs == FILTER_DIR_IN);
	FUZZ_CHECK(r->proto == 0 || r->proto == 1 || r->proto == 6 || r->proto == 17);
	FUZZ_CHECK(r->src_len <= 32 && r->dst_len <= 32);
	FUZZ_CHECK(!(r->src & ~filter_prefix_mask(r->src_len)));
	FUZZ_CHECK(!(r->dst & ~filter_prefix_mask(r->dst_len)));
	FUZZ_CHECK(r->sport_lo <= r->sport_hi && r->dport_lo <= r->dport_hi);
	FUZZ_CHECK(!(r->flags_set & ~r->flags_mask));
	FUZZ_CHECK(!r->flags_mask || r->proto == 6);
	FUZZ_CHECK(!!r->rate == !!r->burst);
	FUZZ_CHECK(r->rate <= FILTER_RATE_MAX && r->burst <= FILTER_BURST_MAX);
	n = filter_rule_format(r, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
	FUZZ_CHECK(filter_rule_parse(buf, (size_t)n, &r2, &e) == 1);
	FUZZ_CHECK(!memcmp(r, &r2, sizeof(r2)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	struct filter_rule r;
	struct filter_err e;
	char msg[512];
	size_t i;
	int rc;

	if (!b)
		return 0;
	memcpy(b, data, size);
	memset(&e, 0, sizeof(e));
	rc = filter_rule_parse(b, size, &r, &e);
	FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EINVAL);
	if (rc == 1)
		check_rule(&r);
	if (rc == -EINVAL) {
		FUZZ_CHECK(e.field && e.expected);
		for (i = 0; e.got[i]; i++)
			FUZZ_CHECK(e.got[i] >= 0x20 && e.got[i] < 0x7f);
		FUZZ_CHECK(i < sizeof(e.got));
		FUZZ_CHECK(filter_err_format(&e, msg, sizeof(msg)) < (int)sizeof(msg));
	}
	free(b);
	return 0;
}
