/* Control request lines: split into words, "--json" taken out, the command
 * looked up and run; every way a line can fail ends with one .usage status. */
#include <errno.h>
#include <string.h>

#include "app/ctl_req.h"

static const struct {
	const char *name;
	ctl_cmd_fn fn;
} commands[] = {
    {"addr", ctl_cmd_addr},   {"arp", ctl_cmd_arp},	    {"route", ctl_cmd_route},
    {"ping", ctl_cmd_ping},   {"stats", ctl_cmd_stats},	    {"help", ctl_cmd_help},
    {"conns", ctl_cmd_conns}, {"connect", ctl_cmd_connect}, {"resolve", ctl_cmd_resolve},
    {"filter", ctl_cmd_filter}, {"neigh", ctl_cmd_neigh},
};

int ctl_req_split(char *line, char *argv[CTL_MAX_ARGS + 1], int *json)
{
	char *save = NULL, *w;
	int argc = 0;

	for (w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (!strcmp(w, "--json")) {
			*json = 1;
			continue;
		}
		if (argc == CTL_MAX_ARGS)
			return -E2BIG;
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return argc;
}

void ctl_request(struct ctl_client *cl, char *line)
{
	char *argv[CTL_MAX_ARGS + 1];
	int argc;
	size_t i;

	argc = ctl_req_split(line, argv, &cl->json);
	if (argc < 0) {
		ctl_end(cl, CTL_USAGE, "too many arguments (at most %d)", CTL_MAX_ARGS);
		return;
	}
	if (!argc) {
		ctl_end(cl, CTL_USAGE,
			"empty request: expected addr, arp, route, ping, stats, conns, connect, resolve or filter");
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[0], commands[i].name)) {
			commands[i].fn(cl, argc, argv);
			if (cl->state == CL_READ) /* a command forgot its status */
				ctl_end(cl, CTL_OK, NULL);
			return;
		}
	}
	ctl_end(cl, CTL_USAGE,
		"unknown command '%.64s' (expected addr, arp, route, ping, stats, conns, connect, "
		"resolve, filter)",
		argv[0]);
}
