/* The daemon's log: one line per event, to stderr or syslog, filtered by the
 * level -q/-v chose. The library never prints; it reports through callbacks. */
#ifndef XS_APP_LOG_H
#define XS_APP_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Levels are syslog's: LOG_ERR (-q) .. LOG_NOTICE (default) .. LOG_INFO (-v)
 * .. LOG_DEBUG (-vv, with libbpf's own debug narration). */
void log_init(int level, int use_syslog);
int log_level(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int prio, const char *fmt, va_list ap);
/* Status the operator and scripts wait for ("serving ..."): stdout unless
 * -q, and the log too when it is syslog. Not flushed: the caller flushes
 * stdout once the lines that belong together are out. */
void log_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Routes libbpf's and libxdp's diagnostics into this log. */
void log_hook_libs(void);
/* For the library's log callback (struct xs_afxdp_config.log). */
void log_from_lib(void *arg, int prio, const char *line);

#endif
