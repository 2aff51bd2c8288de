/* HTTP/1.1 request heads (RFC 9112): bounded parsing with no allocation and
 * no copy, and target-to-path decoding that cannot name anything above the root. */
#include <string.h>

#include "wire/http.h"

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 5.5: field-vchar, SP, HTAB (obs-text allowed). */
static bool is_field_char(uint8_t c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool ieq(const uint8_t *a, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower(a[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

/* The end of the line starting at p: the index of its CR (CRLF follows), 0
 * with *more set when the buffer ends first, or -400 for a bare CR or LF
 * (RFC 9112 2.2: we do not take a bare LF as a line end). */
static ssize_t line_end(const uint8_t *b, size_t p, size_t n, bool *more)
{
	*more = false;
	for (; p < n; p++) {
		if (b[p] == '\n')
			return -400;
		if (b[p] == '\r') {
			if (p + 1 == n) {
				*more = true;
				return 0;
			}
			return b[p + 1] == '\n' ? (ssize_t)p : -400;
		}
	}
	*more = true;
	return 0;
}

/* RFC 9112 3: method SP request-target SP HTTP-version. */
static ssize_t parse_request_line(const uint8_t *b, size_t p, size_t e, struct http_req *r)
{
	size_t s = p;

	while (p < e && is_tchar(b[p]))
		p++;
	if (p == s || p >= e || b[p] != ' ')
		return -400;
	r->method_str = (const char *)b + s;
	r->method_len = p - s;
	if (r->method_len == 3 && !memcmp(b + s, "GET", 3))
		r->method = HTTP_GET;
	else if (r->method_len == 4 && !memcmp(b + s, "HEAD", 4))
		r->method = HTTP_HEAD; /* methods are case-sensitive (RFC 9110 9.1) */
	else
		r->method = HTTP_OTHER;
	s = ++p;
	while (p < e && b[p] > 0x20 && b[p] < 0x7f)
		p++;
	if (p == s || p >= e || b[p] != ' ')
		return -400;
	r->target = (const char *)b + s;
	r->target_len = p - s;
	p++;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) */
	if (e - p != 8 || memcmp(b + p, "HTTP/", 5) || b[p + 6] != '.' || b[p + 5] < '0' ||
	    b[p + 5] > '9' || b[p + 7] < '0' || b[p + 7] > '9')
		return -400;
	if (b[p + 5] != '1' || b[p + 7] > '1')
		return -505;
	r->minor = (uint8_t)(b[p + 7] - '0');
	return 0;
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6); a list or a value that differs
 * from an earlier one is refused (RFC 9112 6.3 item 5). */
static int take_length(const uint8_t *v, size_t n, struct http_req *r, bool *seen)
{
	uint64_t x = 0;
	size_t i;

	if (!n || n > 18)
		return -400;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -400;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (*seen && x != r->content_length)
		return -400;
	*seen = true;
	r->content_length = x;
	return 0;
}

/* Connection = #connection-option (RFC 9110 7.6.1): look for close and
 * keep-alive among the comma-separated tokens. */
static void take_connection(const uint8_t *v, size_t n, bool *close, bool *keep)
{
	size_t i = 0, s;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (ieq(v + s, i - s, "close"))
			*close = true;
		else if (ieq(v + s, i - s, "keep-alive"))
			*keep = true;
	}
}

ssize_t http_req_parse(const uint8_t *b, size_t n, const struct http_limits *lim,
		       struct http_req *out)
{
	bool more, close = false, keep = false, have_len = false, have_te = false;
	unsigned hosts = 0;
	size_t p = 0;
	ssize_t e;

	memset(out, 0, sizeof(*out));
	/* RFC 9112 2.2: at least one empty line before the request line SHOULD
	 * be ignored; they count against the head's bound. */
	while (p + 1 < n && b[p] == '\r' && b[p + 1] == '\n')
		p += 2;
	if (p > lim->max_head)
		return -431;
	e = line_end(b, p, n, &more);
	if (e < 0)
		return e;
	if (more)
		return n - p > lim->max_line ? -414 : n > lim->max_head ? -431 : 0;
	if ((size_t)e - p > lim->max_line)
		return -414;
	if ((size_t)e + 2 > lim->max_head)
		return -431;
	if ((size_t)e == p)
		return -400;
	{
		ssize_t err = parse_request_line(b, p, (size_t)e, out);

		if (err)
			return err;
	}
	p = (size_t)e + 2;
	for (;;) {
		size_t s, c, ve;
		int err = 0;

		e = line_end(b, p, n, &more);
		if (e < 0)
			return e;
		if (more)
			return n > lim->max_head ? -431 : 0;
		if ((size_t)e + 2 > lim->max_head)
			return -431;
		if ((size_t)e == p)
			break; /* the empty line ends the head */
		/* RFC 9112 5.2: obs-fold is refused; 2.2: so is whitespace
		 * between the start line and the first field. */
		if (b[p] == ' ' || b[p] == '\t')
			return -400;
		s = p;
		while (p < (size_t)e && is_tchar(b[p]))
			p++;
		/* RFC 9112 5.1: no whitespace between name and colon. */
		if (p == s || p >= (size_t)e || b[p] != ':')
			return -400;
		c = p++;
		while (p < (size_t)e && (b[p] == ' ' || b[p] == '\t'))
			p++;
		ve = (size_t)e;
		while (ve > p && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
			ve--;
		for (size_t i = p; i < ve; i++)
			if (!is_field_char(b[i]))
				return -400;
		out->nheaders++;
		if (ieq(b + s, c - s, "content-length"))
			err = take_length(b + p, ve - p, out, &have_len);
		else if (ieq(b + s, c - s, "transfer-encoding"))
			have_te = true;
		else if (ieq(b + s, c - s, "connection"))
			take_connection(b + p, ve - p, &close, &keep);
		else if (ieq(b + s, c - s, "host"))
			hosts++;
		if (err)
			return err;
		p = (size_t)e + 2;
	}
	/* RFC 9112 6.1: Content-Length with Transfer-Encoding is a smuggling
	 * attempt; 3.2: a 1.1 request has exactly one Host, never two. */
	if ((have_te && have_len) || hosts > 1 || (out->minor == 1 && hosts != 1))
		return -400;
	out->have_host = hosts == 1;
	out->has_body = have_te || out->content_length > 0;
	out->keep_alive = !close && (out->minor == 1 || keep);
	return (ssize_t)e + 2;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower((uint8_t)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Ends the segment out[seg..*len): drops it if empty or ".", refuses "..". */
static int end_segment(char *out, size_t seg, size_t *len)
{
	size_t n = *len - seg;

	if (n == 0 || (n == 1 && out[seg] == '.')) {
		*len = seg;
		return 0;
	}
	if (n == 2 && out[seg] == '.' && out[seg + 1] == '.')
		return -403;
	return 0;
}

ssize_t http_path_decode(const char *t, size_t n, char *out, size_t cap)
{
	size_t i = 0, len = 0, seg = 0;
	int err;

	if (!cap)
		return -400;
	/* absolute-form (RFC 9112 3.2.2): a server MUST accept it; the path
	 * starts after the authority. */
	if (n >= 7 && ieq((const uint8_t *)t, 7, "http://")) {
		i = 7;
		while (i < n && t[i] != '/' && t[i] != '?')
			i++;
		if (i == n || t[i] != '/') {
			out[0] = 0;
			return 0;
		}
	}
	if (i >= n || t[i] != '/')
		return -400;
	for (; i < n && t[i] != '?' && t[i] != '#'; i++) {
		char c = t[i];

		if ((uint8_t)c <= 0x20 || (uint8_t)c >= 0x7f)
			return -400; /* not a character of a URI (RFC 3986 2) */
		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = hexval(t[i + 1])) < 0 ||
			    (lo = hexval(t[i + 2])) < 0)
				return -400;
			c = (char)(hi << 4 | lo);
			i += 2;
			if (!c)
				return -400;
		}
		/* An escaped slash separates segments as a literal one does, so
		 * "%2e%2e%2f" is caught as "..". */
		if (c == '/') {
			err = end_segment(out, seg, &len);
			if (err)
				return err;
			if (len > seg) { /* a segment was kept: separate the next */
				if (len + 1 >= cap)
					return -400;
				out[len++] = '/';
			}
			seg = len;
			continue;
		}
		if (len + 1 >= cap)
			return -400;
		out[len++] = c;
	}
	err = end_segment(out, seg, &len);
	if (err)
		return err;
	if (len && out[len - 1] == '/')
		len--;
	out[len] = 0;
	return (ssize_t)len;
}

const char *http_content_type(const char *name)
{
	static const char *const types[][2] = {
	    {"html", "text/html; charset=utf-8"},
	    {"htm", "text/html; charset=utf-8"},
	    {"txt", "text/plain; charset=utf-8"},
	    {"css", "text/css"},
	    {"js", "text/javascript"},
	    {"json", "application/json"},
	    {"xml", "application/xml"},
	    {"svg", "image/svg+xml"},
	    {"png", "image/png"},
	    {"jpg", "image/jpeg"},
	    {"jpeg", "image/jpeg"},
	    {"gif", "image/gif"},
	    {"webp", "image/webp"},
	    {"ico", "image/x-icon"},
	    {"pdf", "application/pdf"},
	    {"wasm", "application/wasm"},
	    {"gz", "application/gzip"},
	    {"tar", "application/x-tar"},
	    {"zip", "application/zip"},
	};
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
	size_t i;

	if (dot && (!slash || dot > slash))
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (ieq((const uint8_t *)dot + 1, strlen(dot + 1), types[i][0]))
				return types[i][1];
	return "application/octet-stream";
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}
