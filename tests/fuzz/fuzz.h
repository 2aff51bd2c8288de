/* Shared by the fuzz targets: the entry point's prototype and an invariant
 * check that names the failed condition before aborting (libFuzzer keeps the input). */
#ifndef XS_TESTS_FUZZ_H
#define XS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_check_at(int ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	abort();
}

#define FUZZ_CHECK(cond) fuzz_check_at(!!(cond), #cond, __FILE__, __LINE__)

#endif
