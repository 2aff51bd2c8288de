/* The Toeplitz hash NICs use for RSS (Microsoft's "Verifying the RSS hash"
 * vectors are its unit tests): pure, no state. */
#include <xdpstack/mq.h>

uint32_t xs_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n)
{
	uint32_t hash = 0, window;
	size_t i, next = 4;
	int b;

	if (!key || key_len < 4)
		return 0;
	/* window: the 32 key bits starting at the current input bit */
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (i = 0; i < n; i++) {
		uint8_t nextk = next < key_len ? key[next] : 0;

		for (b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				hash ^= window;
			window = window << 1 | ((nextk >> b) & 1u);
		}
		next++;
	}
	return hash;
}
