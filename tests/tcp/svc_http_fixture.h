/* What the HTTP service's tests share (test_svc_http.c, test_svc_https.c):
 * files under the service's root, and one turn of the daemon's loop. */
#ifndef XS_TESTS_SVC_HTTP_FIXTURE_H
#define XS_TESTS_SVC_HTTP_FIXTURE_H

/* Include after pair_fixture.h and app/svc_http.c. */

/* root/name holding len bytes of pattern(7, 0). */
static void write_file(const char *root, const char *name, size_t len)
{
	char path[128];
	uint8_t *b = malloc(len ? len : 1);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	pattern(7, 0, b, len);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
	free(b);
}

/* One turn of the daemon's loop: the service's time, then the stacks; the
 * clock jumps to the next timer, the service's deadline or limit, whichever
 * is first, when nothing moves. */
static void svc_turn(struct pair *p, struct svc_http *s, xs_time_t limit)
{
	svc_http_tick(s, p->now);
	pair_poll(p);
	p->app_next = svc_http_next_deadline(s);
	if (limit < p->app_next)
		p->app_next = limit;
	pair_advance(p);
}

#endif
