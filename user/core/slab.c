/* Fixed-size objects from 64 KiB slabs of their own (see slab.h): a free list
 * per slab, the slabs with room on a list, an empty slab unmapped at once. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/slab.h"

struct xs_slab {
	struct xs_slab *next, *prev; /* on the partial list */
	void *free;		     /* freed objects, linked through their first word */
	uint32_t used;		     /* objects handed out */
	uint32_t fresh;		     /* objects from this index on were never handed out */
	bool listed;		     /* on the partial list */
};

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

void slab_cache_init(struct xs_slab_cache *c, size_t size, size_t align)
{
	memset(c, 0, sizeof(*c));
	if (align < sizeof(void *))
		align = sizeof(void *);
	c->obj = round_up(size < sizeof(void *) ? sizeof(void *) : size, align);
	c->first = round_up(sizeof(struct xs_slab), align);
	c->per = (uint32_t)((XS_SLAB_SIZE - c->first) / c->obj);
}

static struct xs_slab *slab_of(const void *p)
{
	return (struct xs_slab *)((uintptr_t)p & ~(uintptr_t)(XS_SLAB_SIZE - 1));
}

/* XS_SLAB_SIZE bytes aligned to their size: twice as much mapped, the
 * ends either side of the aligned part unmapped again. The pages are
 * touched only as objects are handed out. */
static struct xs_slab *slab_map(struct xs_slab_cache *c)
{
	uint8_t *p = mmap(NULL, 2 * XS_SLAB_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = round_up((uintptr_t)p, XS_SLAB_SIZE);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((uint8_t *)a + XS_SLAB_SIZE, (uintptr_t)p + XS_SLAB_SIZE - a);
	c->nslabs++;
	return (struct xs_slab *)a;
}

static void slab_unmap(struct xs_slab_cache *c, struct xs_slab *s)
{
	munmap(s, XS_SLAB_SIZE);
	c->nslabs--;
}

static void list_add(struct xs_slab_cache *c, struct xs_slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial)
		c->partial->prev = s;
	c->partial = s;
	s->listed = true;
}

static void list_del(struct xs_slab_cache *c, struct xs_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->listed = false;
}

void *slab_zalloc(struct xs_slab_cache *c)
{
	struct xs_slab *s;
	void *p;

	if (!XS_SLAB_MMAP) {
		p = calloc(1, c->obj);
		if (p)
			c->nobjs++;
		return p;
	}
	s = c->partial;
	if (!s) {
		if (c->spare) {
			s = c->spare;
			c->spare = NULL;
		} else if (!(s = slab_map(c))) {
			return NULL;
		}
		memset(s, 0, sizeof(*s));
		list_add(c, s);
	}
	if (s->free) {
		p = s->free;
		s->free = *(void **)p;
	} else {
		p = (uint8_t *)s + c->first + (size_t)s->fresh++ * c->obj;
	}
	if (++s->used == c->per)
		list_del(c, s);
	c->nobjs++;
	memset(p, 0, c->obj);
	return p;
}

void slab_free(struct xs_slab_cache *c, void *p)
{
	struct xs_slab *s;

	if (!p)
		return;
	c->nobjs--;
	if (!XS_SLAB_MMAP) {
		free(p);
		return;
	}
	s = slab_of(p);
	*(void **)p = s->free;
	s->free = p;
	if (!s->listed)
		list_add(c, s);
	if (--s->used)
		return;
	list_del(c, s);
	if (c->spare) {
		slab_unmap(c, s);
	} else {
		c->spare = s;
	}
}

void slab_cache_fini(struct xs_slab_cache *c)
{
	if (c->spare)
		slab_unmap(c, c->spare);
	c->spare = NULL;
}
