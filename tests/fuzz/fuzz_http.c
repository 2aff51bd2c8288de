/* libFuzzer target: arbitrary bytes as a client's request heads through the
 * HTTP parser (user/wire/http.c) and the target decoder, with small bounds.
 *
 * The input is copied to a heap buffer of exactly its size so ASan sees any
 * read past it; heads are parsed one after another as a pipelining server
 * would. Checks: a complete head lies within the bytes given and its target
 * within the head; no outcome but 0, a length or one of the documented
 * statuses; nothing is "needs more" once the head bound is passed; a
 * decoded path is relative, NUL-free and has no "." or ".." segment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire/http.h"

static void check_path(const char *t, size_t n)
{
	char out[256];
	ssize_t len = http_path_decode(t, n, out, sizeof(out));
	const char *p;

	if (len < 0) {
		FUZZ_CHECK(len == -400 || len == -403);
		return;
	}
	FUZZ_CHECK((size_t)len < sizeof(out) && strlen(out) == (size_t)len);
	FUZZ_CHECK(!len || (out[0] != '/' && out[len - 1] != '/'));
	for (p = out; *p;) {
		size_t seg = strcspn(p, "/");

		FUZZ_CHECK(seg != 0 && !(seg == 1 && p[0] == '.') &&
			   !(seg == 2 && !memcmp(p, "..", 2)));
		p += seg;
		if (*p == '/')
			p++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits lim = {.max_line = 256, .max_head = 1024};
	uint8_t *b = malloc(size ? size : 1);
	size_t off = 0;

	memcpy(b, data, size);
	while (off < size) {
		struct http_req r;
		ssize_t n = http_req_parse(b + off, size - off, &lim, &r);

		if (n == 0) {
			FUZZ_CHECK(size - off <= lim.max_head);
			break;
		}
		if (n < 0) {
			FUZZ_CHECK(n == -400 || n == -414 || n == -431 || n == -505);
			break;
		}
		FUZZ_CHECK((size_t)n <= size - off && (size_t)n <= lim.max_head);
		FUZZ_CHECK((const uint8_t *)r.target >= b + off &&
			   (const uint8_t *)r.target + r.target_len <= b + off + n && r.target_len);
		FUZZ_CHECK(r.method >= HTTP_GET && r.method <= HTTP_OTHER && r.minor <= 1);
		FUZZ_CHECK(r.minor == 0 || r.have_host);
		check_path(r.target, r.target_len);
		off += (size_t)n;
	}
	/* The decoder alone, on the raw bytes as a target. */
	check_path((const char *)b, size < 512 ? size : 512);
	free(b);
	return 0;
}
