/* The daemon's log (see log.h): stderr lines "xdpstack: ..." or syslog(3),
 * and the bridge that brings libbpf's and libxdp's messages into it. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>

#include "app/log.h"

/* One process, one stderr, one syslog connection; and libbpf's print hook
 * takes no context. So the log's two settings are the daemon's only
 * file-level state (nothing per packet lives here). */
static int log_lvl = LOG_NOTICE;
static int log_to_syslog;

void log_init(int level, int use_syslog)
{
	log_lvl = level;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog("xdpstack", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_level(void)
{
	return log_lvl;
}

void log_vmsg(int prio, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (prio > log_lvl)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n') /* libbpf ends its lines; we add our own */
		line[--n] = 0;
	if (!n)
		return;
	if (log_to_syslog)
		syslog(prio, "%s", line);
	else
		fprintf(stderr, "xdpstack: %s\n", line);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

void log_status(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl >= LOG_NOTICE) {
		va_start(ap, fmt);
		fputs("xdpstack: ", stdout);
		vprintf(fmt, ap);
		fputc('\n', stdout);
		va_end(ap);
	}
	if (log_to_syslog) {
		va_start(ap, fmt);
		log_vmsg(LOG_NOTICE, fmt, ap);
		va_end(ap);
	}
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int prio = level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG;

	/* libbpf's warnings carry the verifier log: shown from -v; its info
	 * and debug narrate every relocation: -vv. */
	log_vmsg(prio, fmt, ap);
	return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	log_vmsg(level == LIBXDP_WARN ? LOG_INFO : LOG_DEBUG, fmt, ap);
	return 0;
}

void log_hook_libs(void)
{
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}

void log_from_lib(void *arg, int prio, const char *line)
{
	(void)arg;
	log_msg(prio, "%s", line);
}
