/* Small JSON for the iperf3 service: a bounded writer, and a strict parser of
 * one object that hands its top-level members to a callback (remote input). */
#ifndef XS_IPERF3_JSON_H
#define XS_IPERF3_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writer into a caller's buffer. Commas are placed automatically: every
 * value or key after the first in an object or array gets one. A value that
 * does not fit sets overflow and leaves len where it was; check at the end. */
struct jw {
	char *buf;
	size_t cap, len;
	bool overflow;
};

void jw_init(struct jw *w, char *buf, size_t cap);
/* key NULL inside an array (or for the outermost value). */
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_double(struct jw *w, const char *key, double v); /* non-finite: 0 */
void jw_bool(struct jw *w, const char *key, bool v);
void jw_str(struct jw *w, const char *key, const char *s); /* escaped */

/* One member of the parsed object. Strings (and keys) are the raw bytes
 * between the quotes, escapes validated but not decoded. */
enum ij_type { IJ_NULL, IJ_BOOL, IJ_NUM, IJ_STR, IJ_OBJ, IJ_ARR };
struct ij_member {
	const char *key;
	size_t key_len;
	enum ij_type type;
	bool b;
	double num;
	const char *str;
	size_t str_len;
};
typedef int (*ij_member_cb)(const struct ij_member *m, void *ctx);

/* Nesting deeper than this is refused. */
#define IJ_MAX_DEPTH 16

/* Parses exactly one JSON object filling s[0..n) (whitespace around it
 * allowed), calling cb for each top-level member in order. Nested objects
 * and arrays are validated and reported only by type. Returns 0, -EINVAL for
 * anything that is not strict JSON (or too deep), or what cb returned when
 * it returned non-zero (which stops the parse). */
int ij_parse_object(const char *s, size_t n, ij_member_cb cb, void *ctx);

/* True when the member's key is exactly name. */
bool ij_key_is(const struct ij_member *m, const char *name);

#endif
