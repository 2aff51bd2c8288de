/* Fixed-size objects (TCBs) from slabs of their own, as Linux's kmem_cache
 * keeps tcp_sock apart from skbs: 64 KiB mmap()ed slabs, returned when empty. */
#ifndef XS_CORE_SLAB_H
#define XS_CORE_SLAB_H

#include <stddef.h>
#include <stdint.h>

/* A slab is XS_SLAB_SIZE bytes, aligned to its size, so an object's slab is
 * its address with the low bits cleared; a header, then the objects. */
#define XS_SLAB_SIZE (64 * 1024)

/* Under AddressSanitizer objects come from calloc (see below). */
#if defined(__SANITIZE_ADDRESS__)
#define XS_SLAB_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XS_SLAB_MMAP 0
#endif
#endif
#ifndef XS_SLAB_MMAP
#define XS_SLAB_MMAP 1
#endif

struct xs_slab;

/* Why objects that live long (a TCB lives as long as its connection) are
 * kept out of malloc's heap: there they sit among buffers that come and go
 * around them (rings, RACK storage), and a page keeps its RSS while any
 * object is left in it, so the holes the buffers leave stay resident; and
 * after connections close, their pages go back only if something calls
 * malloc_trim. In slabs of their own the objects are packed (a TCB costs
 * its size and 1/per of the header), and a slab whose last object is freed
 * is unmapped at once (one emptied slab is kept, so a connection opened and
 * closed at a slab's edge does not map and unmap every time).
 *
 * Under AddressSanitizer every object comes from calloc instead (so
 * overruns and use after free are caught); the counts stay true. */
struct xs_slab_cache {
	struct xs_slab *partial; /* slabs with free objects and used ones, doubly linked */
	struct xs_slab *spare;	 /* one empty slab kept, or NULL */
	size_t obj;		 /* object size, rounded up to the alignment */
	size_t first;		 /* offset of the first object in a slab */
	uint32_t per;		 /* objects per slab */
	uint32_t nslabs;	 /* slabs mapped, the spare too */
	uint64_t nobjs;		 /* objects in use */
};

/* size: the object's (at most XS_SLAB_SIZE / 4, so a slab holds several),
 * align: its alignment (a power of two). */
void slab_cache_init(struct xs_slab_cache *c, size_t size, size_t align);
/* A zeroed object, or NULL (no memory). O(1). */
void *slab_zalloc(struct xs_slab_cache *c);
/* Frees p (from slab_zalloc on c; NULL is ignored). O(1); unmaps the slab
 * if it is now empty and a spare is already kept. */
void slab_free(struct xs_slab_cache *c, void *p);
/* Unmaps the spare; every object must have been freed. */
void slab_cache_fini(struct xs_slab_cache *c);

#endif
