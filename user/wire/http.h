/* HTTP/1.1 request heads (RFC 9112 2-6, RFC 9110 5): a bounded parser that
 * never allocates nor copies, and the decoding of a target into a safe path. */
#ifndef XS_WIRE_HTTP_H
#define XS_WIRE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum http_method { HTTP_GET = 1, HTTP_HEAD, HTTP_OTHER };

/* A parsed request head; pointers point into the caller's buffer. */
struct http_req {
	enum http_method method;
	const char *method_str;
	size_t method_len;
	const char *target; /* request-target as sent (origin-form expected) */
	size_t target_len;
	uint8_t minor;	 /* HTTP/1.minor: 0 or 1 */
	bool keep_alive; /* 1.1 unless "close"; 1.0 only with "keep-alive" */
	bool has_body;	 /* Content-Length > 0 or any Transfer-Encoding */
	bool have_host;
	uint64_t content_length;
	unsigned nheaders;
};

/* Bounds of one head: a request line longer than max_line is 414, a head
 * longer than max_head (request line, fields and the empty line) is 431. */
struct http_limits {
	size_t max_line;
	size_t max_head;
};

/* Parses the request head at the start of b[0..n).
 * Returns its length (through the empty line) when complete, 0 when more
 * bytes are needed (and none of the limits is exceeded yet), or -STATUS:
 * -400 malformed, -414 request line too long, -431 head too long,
 * -505 an HTTP version other than 1.0 and 1.1. Leading empty lines are
 * skipped (RFC 9112 2.2) and count in the returned length. Lines end in
 * CRLF; a bare CR or LF, obsolete line folding, whitespace before a
 * field's colon, a bad or conflicting Content-Length, or a 1.1 request
 * without exactly one Host are 400 (RFC 9112 2.2, 3.2, 5.1, 5.2, 6.3). */
ssize_t http_req_parse(const uint8_t *b, size_t n, const struct http_limits *lim,
		       struct http_req *out);

/* Decodes an origin-form target ("/a/b%20c?query") into a path relative to
 * the root, "a/b c", NUL-terminated in out (cap bytes): the query is
 * dropped, %XX decoded, empty and "." segments removed. Returns its length
 * (0: the root itself), -400 for a target that is not origin-form, a bad
 * escape, a raw byte outside printable ASCII, %00, or one that does not
 * fit, and -403 for a ".." segment (even
 * escaped: %2e%2e), which could climb out of the root. */
ssize_t http_path_decode(const char *target, size_t len, char *out, size_t cap);

/* The Content-Type for a file name, by its extension (octet-stream else). */
const char *http_content_type(const char *name);

/* The reason phrase of a status this server sends ("" if unknown). */
const char *http_reason(int status);

#endif
