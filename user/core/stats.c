/* Names and descriptions of drop reasons, generated from the one table in
 * include/xdpstack/stats.h so the daemon, tools and docs never disagree. */
#include <xdpstack/stats.h>

static const char *const drop_names[XS_DROP_MAX] = {
#define XS_DROP_NAME(name, desc) #name,
	XS_DROP_REASONS(XS_DROP_NAME)
#undef XS_DROP_NAME
};

static const char *const drop_descs[XS_DROP_MAX] = {
#define XS_DROP_DESC(name, desc) desc,
	XS_DROP_REASONS(XS_DROP_DESC)
#undef XS_DROP_DESC
};

/* Names are the enum suffixes as written (upper case); printers show them
 * lower-cased, e.g. drop_ip_csum. */
const char *xs_drop_name(enum xs_drop reason)
{
	return (unsigned)reason < XS_DROP_MAX ? drop_names[reason] : "UNKNOWN";
}

const char *xs_drop_desc(enum xs_drop reason)
{
	return (unsigned)reason < XS_DROP_MAX ? drop_descs[reason] : "unknown reason";
}
