/*
 * lb-secret-get: read secrets from AWS Secrets Manager and print them as
 * records.  A secret value is written to stdout only: never to stderr,
 * a reject file or a trace.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "secrets.h"

static const char *key;

static void
usage(void)
{
	fprintf(stderr, "usage: lb-secret-get [-k key] [-r file] "
	    "-m member | id ...\n");
	exit(2);
}

/* The value of one secret (with -k, of one key of it); NULL with e. */
static cJSON *
fetch(struct lb_aws *aws, const char *id, struct lb_err *e)
{
	cJSON *v, *k;

	if (lb_secrets_get(aws, id, &v, e) == -1)
		return NULL;
	if (key == NULL)
		return v;
	if (!cJSON_IsObject(v)) {
		lb_err_set(e, LB_EFAIL, 0, "secret %s is not a JSON object, "
		    "so it has no key %s", id, key);
		cJSON_Delete(v);
		return NULL;
	}
	if ((k = cJSON_DetachItemFromObjectCaseSensitive(v, key)) == NULL) {
		lb_err_set(e, LB_EFAIL, 0, "secret %s has no key %s", id, key);
		cJSON_Delete(v);
		return NULL;
	}
	cJSON_Delete(v);
	return k;
}

int
main(int argc, char *argv[])
{
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_err e;
	const char *member = NULL, *rfile = NULL, *id, *raw;
	int ch, i, rc, status = 0;
	size_t rawlen;
	cJSON *v, *rec;

	while ((ch = getopt(argc, argv, "k:m:r:")) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
			break;
		case 'm':
			member = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((member == NULL) == (argc == 0))
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* no trace: it would carry the answer */
	http = lb_http_new(NULL);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	for (i = 0; i < argc; i++) {
		lb_err_clear(&e);
		if ((v = fetch(aws, argv[i], &e)) == NULL) {
			warnx("%s: %s", argv[i], e.msg);
			lb_err_fold(&status, e.kind);
			continue;
		}
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "id", argv[i]);
		cJSON_AddItemToObject(rec, "secret", v);
		if (lb_jsonl_write(stdout, rec) == -1)
			err(1, "stdout");
		cJSON_Delete(rec);
	}
	if (member != NULL) {
		struct lb_jsonl *in = lb_jsonl_open(stdin, "stdin", 0);

		while ((rc = lb_jsonl_next(in, &rec, &e)) != 0) {
			if (rc == -2) {
				warnx("%s", e.msg);
				lb_err_fold(&status, LB_EFAIL);
				break;
			}
			if (rc == -1) {
				warnx("%s", e.msg);
				goto reject;
			}
			lb_err_clear(&e);
			id = lb_json_str(rec, member);
			if (id == NULL || *id == '\0') {
				lb_err_set(&e, LB_EFAIL, 0, "member %s is "
				    "missing or not a non-empty string", member);
				goto bad;
			}
			if ((v = fetch(aws, id, &e)) == NULL)
				goto bad;
			lb_json_set(rec, "secret", v);
			if (lb_jsonl_write(stdout, rec) == -1)
				err(1, "stdout");
			cJSON_Delete(rec);
			continue;
bad:
			warnx("%s:%ld: %s", lb_jsonl_name(in),
			    lb_jsonl_line(in), e.msg);
reject:
			/* the input record, which holds no secret */
			raw = lb_jsonl_raw(in, &rawlen);
			if (rfile != NULL &&
			    lb_jsonl_reject(rfile, raw, rawlen) == -1)
				warn("%s", rfile);
			lb_err_fold(&status, rc == -1 ? LB_EFAIL : e.kind);
			cJSON_Delete(rec);
		}
		lb_jsonl_close(in);
	}
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
