/*
 * lb-sqs-ack: delete the SQS message behind each record (sqs.receipt_handle),
 * or with -e extend its visibility (a heartbeat); echo what succeeded.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "sqs.h"

static void
usage(void)
{
	fprintf(stderr, "usage: lb-sqs-ack [-e seconds] [-q queue_url] "
	    "[-r file]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_jsonl *in;
	struct lb_err e;
	const char *url = NULL, *rfile = NULL, *qu, *rh, *raw;
	long ext = -1;
	int ch, rc, status = 0;
	size_t rawlen;
	cJSON *rec;

	while ((ch = getopt(argc, argv, "e:q:r:")) != -1) {
		switch (ch) {
		case 'e':
			if (lb_util_strtol(optarg, 0, 43200, &ext) == -1)
				errx(2, "-e %s: not 0 to 43200 seconds", optarg);
			break;
		case 'q':
			url = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	http = lb_http_new(NULL);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while ((rc = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (rc == -2) {
			warnx("%s", e.msg);
			lb_err_fold(&status, LB_EFAIL);
			break;
		}
		if (rc == -1) {
			warnx("%s", e.msg);
			goto rejected;
		}
		qu = url ? url : lb_json_str(rec, "sqs.queue_url");
		rh = lb_json_str(rec, "sqs.receipt_handle");
		if (qu == NULL || *qu == '\0') {
			lb_err_set(&e, LB_EFAIL, 0, "no sqs.queue_url string "
			    "(and no -q)");
			goto bad;
		}
		if (rh == NULL || *rh == '\0') {
			lb_err_set(&e, LB_EFAIL, 0,
			    "no sqs.receipt_handle string");
			goto bad;
		}
		lb_err_clear(&e);
		if ((ext >= 0 ? lb_sqs_extend(aws, qu, rh, (int)ext, &e) :
		    lb_sqs_delete(aws, qu, rh, &e)) == -1) {
			if (strcmp(e.code, "ReceiptHandleIsInvalid") == 0 ||
			    strcmp(e.code, "InvalidParameterValue") == 0 ||
			    strcmp(e.code, "MessageNotInflight") == 0)
				lb_err_prefix(&e, "receipt handle invalid or "
				    "expired (receive the message again)");
			goto bad;
		}
		if (lb_jsonl_write(stdout, rec) == -1)
			err(1, "stdout");
		cJSON_Delete(rec);
		continue;
bad:
		warnx("%s:%ld: %s", lb_jsonl_name(in), lb_jsonl_line(in),
		    e.msg);
rejected:
		raw = lb_jsonl_raw(in, &rawlen);
		if (rfile != NULL && lb_jsonl_reject(rfile, raw, rawlen) == -1)
			warn("%s", rfile);
		lb_err_fold(&status, rc == -1 ? LB_EFAIL : e.kind);
		cJSON_Delete(rec);
	}
	lb_jsonl_close(in);
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
