/*
 * lb-aws-probe: show what lib/aws.c makes of the environment.  Test-only.
 *
 *   lb-aws-probe [-v] [-n count] [-c sts|sqs|s3] [-k key]
 *                                          credentials, then one call
 *   lb-aws-probe -e id                     the endpoint of service id
 *   lb-aws-probe -R                        the region
 *
 * Prints "source=SRC akid=AKID token=yes|no expires=yes|no" after
 * getting credentials count times (never the secret), then the call's
 * result; -v traces the signing on stderr.  Exits with the error kind:
 * 1, 2 or 75.
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

static void
usage(void)
{
	fprintf(stderr, "usage: lb-aws-probe [-v] [-n count] [-c sts|sqs|s3] "
	    "[-k key]\n"
	    "       lb-aws-probe -e id\n       lb-aws-probe -R\n");
	exit(2);
}

/* One signed S3 request; the answer's body in resp. */
static int
s3(struct lb_aws *a, const char *method, const char *bucket, const char *key,
    const char *body, FILE *upload, struct lb_http_resp *resp,
    struct lb_err *e)
{
	struct lb_http_req req = { 0 };
	char *url = lb_aws_s3_url(a, bucket, key);
	int rc;

	req.method = method;
	req.url = url;
	req.body = body;
	req.bodylen = body != NULL ? strlen(body) : 0;
	if (upload != NULL) {
		req.upload = upload;
		fseek(upload, 0, SEEK_END);
		req.uploadlen = ftell(upload);
	}
	rc = lb_aws_request(a, "s3", &req, resp, e);
	if (rc == -1) {
		lb_err_prefix(e, "%s %s/%s", method, bucket, key ? key : "");
		lb_http_resp_free(resp);
	}
	free(url);
	return rc;
}

/* Bucket lb-probe, an object (key) from memory and one from a file, both
 * read back. */
static int
s3_roundtrip(struct lb_aws *a, const char *key, struct lb_err *e)
{
	const char *keys[] = { key, "from-file.txt", NULL };
	struct lb_http_resp resp = { 0 };
	FILE *f;
	char *cfg;
	int i, rc;

	cfg = lb_xasprintf("<CreateBucketConfiguration xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"><LocationConstraint>%s"
	    "</LocationConstraint></CreateBucketConfiguration>",
	    lb_aws_region(a));
	rc = s3(a, "PUT", "lb-probe", NULL, cfg, NULL, &resp, e);
	free(cfg);
	if (rc == -1 && strcmp(e->code, "BucketAlreadyOwnedByYou") != 0)
		return -1;
	lb_http_resp_free(&resp);
	if ((f = tmpfile()) == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "tmpfile");
	fputs("from a file", f);
	if (s3(a, "PUT", "lb-probe", keys[0], "from memory", NULL, &resp,
	    e) == -1 ||
	    (lb_http_resp_free(&resp), s3(a, "PUT", "lb-probe", keys[1],
	    NULL, f, &resp, e)) == -1) {
		fclose(f);
		lb_http_resp_free(&resp);
		return -1;
	}
	fclose(f);
	lb_http_resp_free(&resp);
	for (i = 0; keys[i] != NULL; i++) {
		if (s3(a, "GET", "lb-probe", keys[i], NULL, NULL, &resp,
		    e) == -1)
			return -1;
		printf("s3 %s=%s\n", keys[i], resp.body.p);
		lb_http_resp_free(&resp);
	}
	return 0;
}

static int
call(struct lb_aws *a, const char *what, const char *key, struct lb_err *e)
{
	static const char *const names[] = { "Arn", "Account", NULL };
	char *xml, *vals[2];
	cJSON *res, *q;

	if (strcmp(what, "sts") == 0) {
		xml = lb_aws_query(a, "sts",
		    "Action=GetCallerIdentity&Version=2011-06-15", e);
		if (xml == NULL)
			return -1;
		if (lb_aws_xml_get(xml, strlen(xml), names, vals) == -1 ||
		    vals[0] == NULL) {
			free(xml);
			return lb_err_set(e, LB_EFAIL, 0, "no Arn in answer");
		}
		printf("arn=%s\n", vals[0]);
		free(vals[0]);
		free(vals[1]);
		free(xml);
		return 0;
	}
	if (strcmp(what, "sqs") == 0) {
		res = lb_aws_json(a, "sqs", "AmazonSQS.ListQueues",
		    "application/x-amz-json-1.0", NULL, e);
		if (res == NULL)
			return -1;
		q = cJSON_GetObjectItem(res, "QueueUrls");
		printf("queues=%d\n", cJSON_GetArraySize(q));
		cJSON_Delete(res);
		return 0;
	}
	if (strcmp(what, "s3") == 0)
		return s3_roundtrip(a, key, e);
	usage();
	return -1;
}

int
main(int argc, char *argv[])
{
	struct lb_err e = { 0 };
	struct lb_aws *a;
	const struct lb_creds *c = NULL;
	const char *callwhat = NULL, *endpoint = NULL, *key = "dir/a b.txt";
	long count = 1;
	int ch, region = 0, verbose = 0, i;
	char *s;

	while ((ch = getopt(argc, argv, "c:e:k:n:Rv")) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
			break;
		case 'c':
			callwhat = optarg;
			break;
		case 'e':
			endpoint = optarg;
			break;
		case 'n':
			if (lb_util_strtol(optarg, 1, 1000, &count) == -1)
				usage();
			break;
		case 'R':
			region = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((a = lb_aws_new(NULL, &e)) == NULL)
		errx(e.kind, "%s", e.msg);
	if (verbose)
		lb_aws_set_trace(a, trace, NULL);
	if (endpoint != NULL) {
		s = lb_aws_endpoint(a, endpoint);
		printf("%s custom=%d\n", s ? s : "(none)",
		    lb_aws_custom_endpoint(a, endpoint));
		free(s);
		lb_aws_free(a);
		return 0;
	}
	if (region) {
		printf("%s\n", lb_aws_region(a) ? lb_aws_region(a) : "(none)");
		lb_aws_free(a);
		return 0;
	}
	for (i = 0; i < count; i++)
		if ((c = lb_aws_creds(a, &e)) == NULL)
			errx(e.kind, "%s", e.msg);
	printf("source=%s akid=%s token=%s expires=%s\n",
	    lb_aws_creds_source(a), c->akid, c->token ? "yes" : "no",
	    c->expires ? "yes" : "no");
	fflush(stdout);
	if (callwhat != NULL && call(a, callwhat, key, &e) == -1) {
		fprintf(stderr, "lb-aws-probe: %s%s%s\n", e.msg,
		    *e.code ? " code=" : "", e.code);
		lb_aws_free(a);
		return e.kind;
	}
	lb_aws_free(a);
	return 0;
}
