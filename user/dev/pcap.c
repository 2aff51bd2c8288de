/* Capture device: wraps another device and writes every frame it receives or
 * sends to a pcap file (libpcap's dump API), then forwards the call unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev/dev.h"

#define PCAP_SNAPLEN 65535
#define PCAP_FLUSH_NS 100000000ull /* buffered records reach the file within ~100 ms */

struct pcap_dev {
	struct xs_dev dev;
	struct xs_dev *inner; /* owned: destroyed with the wrapper */
	pcap_t *dead;	      /* a "dead" handle: link type and snap length only */
	pcap_dumper_t *dumper;
	uint64_t last_flush; /* CLOCK_MONOTONIC ns of the last pcap_dump_flush */
	int dirty;	     /* records written since then */
};

static struct pcap_dev *to_pcap(const struct xs_dev *d)
{
	return (struct pcap_dev *)d->priv;
}

/* The capture is I/O, not stack logic: it reads the wall clock itself for
 * record timestamps (the stack never does; its time is passed in). */
static void pcap_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pcap_record(struct pcap_dev *p, const struct timeval *tv, const uint8_t *data,
			uint32_t len)
{
	struct pcap_pkthdr h;

	h.ts = *tv;
	h.len = len;
	h.caplen = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	pcap_dump((u_char *)p->dumper, &h, data);
	p->dirty = 1;
}

static int pcap_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	struct pcap_dev *p = to_pcap(d);
	struct timeval tv;
	int n, i;

	n = xs_dev_rx_burst(p->inner, f, max);
	if (n <= 0)
		return n;
	pcap_now(&tv); /* one timestamp per batch: they arrived together */
	for (i = 0; i < n; i++)
		pcap_record(p, &tv, f[i].data, f[i].len);
	return n;
}

static void pcap_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	xs_dev_rx_release(to_pcap(d)->inner, f, n);
}

static int pcap_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	return xs_dev_tx_alloc(to_pcap(d)->inner, f);
}

static void pcap_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct pcap_dev *p = to_pcap(d);
	struct timeval tv;

	pcap_now(&tv);
	pcap_record(p, &tv, f->data, len);
	xs_dev_tx_submit(p->inner, f, len);
}

static void pcap_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	xs_dev_tx_abort(to_pcap(d)->inner, f);
}

static int pcap_flush(struct xs_dev *d)
{
	struct pcap_dev *p = to_pcap(d);
	uint64_t now;

	if (p->dirty) {
		now = mono_ns();
		if (now - p->last_flush >= PCAP_FLUSH_NS) {
			pcap_dump_flush(p->dumper);
			p->last_flush = now;
			p->dirty = 0;
		}
	}
	return xs_dev_flush(p->inner);
}

static void pcap_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct xs_dev *inner = to_pcap(d)->inner;

	inner->ops->frames(inner, out);
}

static void pcap_destroy(struct xs_dev *d)
{
	struct pcap_dev *p = to_pcap(d);

	pcap_dump_close(p->dumper); /* flushes and closes the file */
	pcap_close(p->dead);
	xs_dev_free(p->inner);
	free(p);
}

static const struct xs_dev_ops pcap_ops = {
    .rx_burst = pcap_rx_burst,
    .rx_release = pcap_rx_release,
    .tx_alloc = pcap_tx_alloc,
    .tx_submit = pcap_tx_submit,
    .tx_abort = pcap_tx_abort,
    .flush = pcap_flush,
    .frames = pcap_frames,
    .destroy = pcap_destroy,
};

struct xs_dev *xs_pcap_dev_new(struct xs_dev *inner, const char *path, char *err, size_t errlen)
{
	struct pcap_dev *p;
	FILE *f = NULL;
	int fd, e;

	if (!inner || !path || !*path) {
		snprintf(err, errlen, "cannot create capture: no device or file name");
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		e = ENOMEM;
		goto err_msg;
	}
	/* 0600: a capture holds whatever the stack saw. Opened here rather than by
	 * pcap_dump_open so that the error names the real cause (errno). */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		goto err_free;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		e = errno;
		close(fd);
		goto err_free;
	}
	p->dead = pcap_open_dead(DLT_EN10MB, PCAP_SNAPLEN);
	if (!p->dead) {
		e = ENOMEM;
		goto err_file;
	}
	p->dumper = pcap_dump_fopen(p->dead, f);
	if (!p->dumper) {
		snprintf(err, errlen, "cannot create %s: %s", path, pcap_geterr(p->dead));
		pcap_close(p->dead);
		fclose(f);
		free(p);
		errno = EIO;
		return NULL;
	}
	/* The file header reaches the disk now: a capture is readable at once. */
	pcap_dump_flush(p->dumper);
	p->last_flush = mono_ns();
	p->inner = inner;
	p->dev.ops = &pcap_ops;
	memcpy(p->dev.mac, inner->mac, sizeof(p->dev.mac));
	p->dev.mtu = inner->mtu;
	p->dev.ifindex = inner->ifindex;
	p->dev.fd = inner->fd;
	p->dev.priv = p;
	return &p->dev;

err_file:
	fclose(f);
err_free:
	free(p);
err_msg:
	snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
	errno = e;
	return NULL;
}
