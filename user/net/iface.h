/* The interface layer: Ethernet demux of received frames, and the one place
 * where outgoing frames are borrowed, padded, counted and submitted. */
#ifndef XS_NET_IFACE_H
#define XS_NET_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include "dev/dev.h"

struct xs_stack;

#define ETH_MIN_FRAME 60 /* without FCS: shorter frames are zero-padded */

void iface_input(struct xs_stack *st, const uint8_t *b, size_t n);
/* Borrows a tx frame; counts XS_DROP_TX_NO_FRAME and returns -ENOBUFS if none. */
int iface_tx_alloc(struct xs_stack *st, struct xs_frame *f);
/* Pads to the Ethernet minimum, counts, and queues len bytes of f. */
void iface_tx_submit(struct xs_stack *st, struct xs_frame *f, size_t len);
/* Writes an Ethernet header (our MAC as source) and returns its length. */
size_t iface_eth_header(struct xs_stack *st, uint8_t *b, const uint8_t *dst, uint16_t type);

#endif
