/* Daemon services: per-connection tables indexed by TCP handle id, grown to
 * the largest id accepted (ids go as high as the connections the stack holds). */
#ifndef XS_APP_SVC_TABLE_H
#define XS_APP_SVC_TABLE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The table tab of *cap elements of esz bytes, grown (by doubling, new
 * elements zeroed) so that index id is in it: the table to use from now on,
 * or NULL (out of memory, or id < 0) with tab and *cap unchanged. */
static inline void *svc_table_fit(void *tab, unsigned *cap, size_t esz, int32_t id)
{
	unsigned n = *cap ? *cap : 64;
	char *t;

	if (id < 0)
		return NULL;
	if ((unsigned)id < *cap)
		return tab;
	while (n <= (unsigned)id)
		n *= 2;
	t = realloc(tab, (size_t)n * esz);
	if (!t)
		return NULL;
	memset(t + (size_t)*cap * esz, 0, (size_t)(n - *cap) * esz);
	*cap = n;
	return t;
}

#endif
