/* Bounded JSON writer and strict object parser for the iperf3 service: the
 * parser reads remote input, so every length and the nesting depth are checked. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/iperf3_json.h"

void jw_init(struct jw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
	if (cap)
		buf[0] = 0;
}

/* Appends n bytes, all or nothing; keeps the buffer NUL-terminated. */
static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void jw_putc(struct jw *w, char c)
{
	jw_put(w, &c, 1);
}

static void jw_escaped(struct jw *w, const char *s)
{
	jw_putc(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jw_put(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jw_put(w, esc, 6);
		} else {
			jw_putc(w, (char)c);
		}
	}
	jw_putc(w, '"');
}

/* A comma unless this is the first thing inside an object or array. */
static void jw_sep(struct jw *w, const char *key)
{
	if (w->len && w->buf[w->len - 1] != '{' && w->buf[w->len - 1] != '[')
		jw_putc(w, ',');
	if (key) {
		jw_escaped(w, key);
		jw_putc(w, ':');
	}
}

void jw_obj_begin(struct jw *w, const char *key)
{
	jw_sep(w, key);
	jw_putc(w, '{');
}

void jw_obj_end(struct jw *w)
{
	jw_putc(w, '}');
}

void jw_arr_begin(struct jw *w, const char *key)
{
	jw_sep(w, key);
	jw_putc(w, '[');
}

void jw_arr_end(struct jw *w)
{
	jw_putc(w, ']');
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", (long long)v);

	jw_sep(w, key);
	jw_put(w, b, (size_t)n);
}

void jw_double(struct jw *w, const char *key, double v)
{
	char b[64];
	int n;

	if (!isfinite(v))
		v = 0;
	n = snprintf(b, sizeof(b), "%.6f", v);
	if (n < 0 || (size_t)n >= sizeof(b)) /* beyond 1e56: not a figure we make */
		n = snprintf(b, sizeof(b), "0");
	jw_sep(w, key);
	jw_put(w, b, (size_t)n);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_sep(w, key);
	jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_sep(w, key);
	jw_escaped(w, s);
}

/* --- parser (RFC 8259 grammar) ----------------------------------------- */

struct ij {
	const char *p, *end;
};

static void ij_ws(struct ij *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int ij_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At the opening quote; leaves p after the closing one. */
static int ij_string(struct ij *j, const char **s, size_t *len)
{
	const char *start;

	j->p++;
	start = j->p;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			*s = start;
			*len = (size_t)(j->p - start);
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (++j->p >= j->end)
				return -EINVAL;
			c = (unsigned char)*j->p;
			if (c == 'u') {
				if (j->end - j->p < 5 || !ij_hex(j->p[1]) || !ij_hex(j->p[2]) ||
				    !ij_hex(j->p[3]) || !ij_hex(j->p[4]))
					return -EINVAL;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return -EINVAL;
			}
		}
		j->p++;
	}
	return -EINVAL;
}

static int ij_digits(struct ij *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -EINVAL;
}

static int ij_number(struct ij *j, double *out)
{
	const char *s = j->p;
	char buf[64];

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++; /* no leading zeros */
	else if (ij_digits(j))
		return -EINVAL;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (ij_digits(j))
			return -EINVAL;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (ij_digits(j))
			return -EINVAL;
	}
	if ((size_t)(j->p - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(j->p - s));
	buf[j->p - s] = 0;
	*out = strtod(buf, NULL);
	return isfinite(*out) ? 0 : -EINVAL;
}

static int ij_word(struct ij *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return -EINVAL;
	j->p += n;
	return 0;
}

static int ij_value(struct ij *j, int depth, struct ij_member *m);

/* Object or array at p (after its opening bracket is checked by the caller). */
static int ij_container(struct ij *j, int depth, char close)
{
	struct ij_member m;
	int err;

	if (depth >= IJ_MAX_DEPTH)
		return -EINVAL;
	j->p++;
	ij_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		ij_ws(j);
		if (close == '}') {
			const char *k;
			size_t kl;

			if (j->p >= j->end || *j->p != '"' || ij_string(j, &k, &kl))
				return -EINVAL;
			ij_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -EINVAL;
			j->p++;
		}
		err = ij_value(j, depth + 1, &m);
		if (err)
			return err;
		ij_ws(j);
		if (j->p >= j->end)
			return -EINVAL;
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return -EINVAL;
		j->p++;
	}
}

static int ij_value(struct ij *j, int depth, struct ij_member *m)
{
	ij_ws(j);
	if (j->p >= j->end)
		return -EINVAL;
	switch (*j->p) {
	case '{':
		m->type = IJ_OBJ;
		return ij_container(j, depth, '}');
	case '[':
		m->type = IJ_ARR;
		return ij_container(j, depth, ']');
	case '"':
		m->type = IJ_STR;
		return ij_string(j, &m->str, &m->str_len);
	case 't':
		m->type = IJ_BOOL;
		m->b = true;
		return ij_word(j, "true");
	case 'f':
		m->type = IJ_BOOL;
		m->b = false;
		return ij_word(j, "false");
	case 'n':
		m->type = IJ_NULL;
		return ij_word(j, "null");
	default:
		m->type = IJ_NUM;
		return ij_number(j, &m->num);
	}
}

int ij_parse_object(const char *s, size_t n, ij_member_cb cb, void *ctx)
{
	struct ij j = {.p = s, .end = s + n};
	int err;

	ij_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -EINVAL;
	j.p++;
	ij_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto tail;
	}
	for (;;) {
		struct ij_member m = {0};

		ij_ws(&j);
		if (j.p >= j.end || *j.p != '"' || ij_string(&j, &m.key, &m.key_len))
			return -EINVAL;
		ij_ws(&j);
		if (j.p >= j.end || *j.p != ':')
			return -EINVAL;
		j.p++;
		err = ij_value(&j, 1, &m);
		if (err)
			return err;
		err = cb(&m, ctx);
		if (err)
			return err;
		ij_ws(&j);
		if (j.p >= j.end)
			return -EINVAL;
		if (*j.p == '}') {
			j.p++;
			break;
		}
		if (*j.p != ',')
			return -EINVAL;
		j.p++;
	}
tail:
	ij_ws(&j);
	return j.p == j.end ? 0 : -EINVAL;
}

bool ij_key_is(const struct ij_member *m, const char *name)
{
	size_t n = strlen(name);

	return m->key_len == n && !memcmp(m->key, name, n);
}
