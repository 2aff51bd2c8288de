/* The control socket's request line: split into words and dispatched to its
 * command (ctl_req.c), apart from the socket so that it can be fuzzed alone. */
#ifndef XS_APP_CTL_REQ_H
#define XS_APP_CTL_REQ_H

#include "app/ctl.h"

/* Splits line (NUL-terminated, no newline) in place at spaces, tabs and
 * carriage returns into argv[0..argc), argv[argc] = NULL. "--json" anywhere
 * is no word: it sets *json. Returns argc (0: an empty line), or -E2BIG for
 * more than CTL_MAX_ARGS words (argv is then not terminated). */
int ctl_req_split(char *line, char *argv[CTL_MAX_ARGS + 1], int *json);
/* Runs one request line from cl (state CL_READ): the command answers and
 * ends with a status (CL_DRAIN) or starts a session (CL_RUN); an empty,
 * over-long or unknown request ends with .usage. line is modified. */
void ctl_request(struct ctl_client *cl, char *line);

#endif
