/*
 * lb-http-probe: one request through lb_http_do, for the HTTP tests.
 * Prints "status=N attempts=N kind=N" on stdout; -v traces to stderr.
 * Header values may come from the environment (-H NAME=ENVVAR) so that
 * tests can check a secret never reaches the trace.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

int
main(int argc, char *argv[])
{
	struct lb_http_opts o = { 0 };
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp;
	struct lb_err e = { 0 };
	const char *hdrs[16];
	char *eq;
	long v;
	int c, nh = 0, rc;

	while ((c = getopt(argc, argv, "a:b:d:H:m:t:v")) != -1) {
		switch (c) {
		case 'a':
			lb_util_strtol(optarg, 1, 100, &v);
			o.max_attempts = (int)v;
			break;
		case 'b':
			lb_util_strtol(optarg, 1, 100000, &o.backoff_base_ms);
			break;
		case 'd':
			req.body = optarg;
			req.bodylen = strlen(optarg);
			break;
		case 'H':
			if (nh >= 15 || (eq = strchr(optarg, '=')) == NULL)
				errx(2, "bad -H");
			*eq = '\0';
			hdrs[nh++] = lb_xasprintf("%s: %s", optarg,
			    getenv(eq + 1) ? getenv(eq + 1) : "");
			break;
		case 'm':
			req.method = optarg;
			break;
		case 't':
			lb_util_strtol(optarg, 1, 600000, &o.timeout_ms);
			break;
		case 'v':
			o.trace = trace;
			break;
		default:
			fprintf(stderr, "usage: lb-http-probe [-v] [-a attempts] "
			    "[-b backoff_ms] [-d body] [-H name=envvar] "
			    "[-m method] [-t timeout_ms] url\n");
			return 2;
		}
	}
	if (optind + 1 != argc)
		errx(2, "one url");
	hdrs[nh] = NULL;
	req.url = argv[optind];
	req.headers = hdrs;
	struct lb_http *h = lb_http_new(&o);
	rc = lb_http_do(h, &req, &resp, &e);
	printf("status=%ld attempts=%d kind=%d\n", resp.status, resp.attempts,
	    rc == -1 || e.kind ? e.kind : 0);
	if (e.kind)
		fprintf(stderr, "lb-http-probe: %s\n", e.msg);
	printf("%s\n", resp.body.p ? resp.body.p : "");
	lb_http_resp_free(&resp);
	lb_http_free(h);
	while (nh > 0)
		free((char *)hdrs[--nh]);
	return 0;
}
