/* Making and unmaking one queue of the daemon (qsetup.c): device, stack in the
 * multi-queue group, services. Called on the main thread, before and after the threads. */
#ifndef XS_APP_QSETUP_H
#define XS_APP_QSETUP_H

#include "app/app.h"
#include "app/queues.h"

/* Device (queue 0's loads the steering program; the others share it), stack
 * (attached to the group), filter, DNS servers and services. 0, or -1 with
 * one line in err; what was made stays in q for queue_close. */
int queue_open(struct queue *q, const struct xs_opts *o, const char *ifname, char *err,
	       size_t errlen);
/* Stops the services, frees the stack, then (report) prints the device's
 * frame accounting: 0, or 3 when frames did not come home. */
int queue_close(struct queue *q, int report);
/* The device last (the steering program goes with the last one). */
void queue_free_device(struct queue *q);

#endif
