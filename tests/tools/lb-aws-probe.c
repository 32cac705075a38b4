/*
 * lb-aws-probe: show what lib/aws.c makes of the environment.  Test-only.
 *
 *   lb-aws-probe [-n count] [-c sts|sqs]   credentials, then one call
 *   lb-aws-probe -e id                     the endpoint of service id
 *   lb-aws-probe -R                        the region
 *
 * Prints "source=SRC akid=AKID token=yes|no expires=yes|no" after
 * getting credentials count times (never the secret), then the call's
 * result.  Exits with the error kind: 1, 2 or 75.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"

static void
usage(void)
{
	fprintf(stderr, "usage: lb-aws-probe [-n count] [-c sts|sqs]\n"
	    "       lb-aws-probe -e id\n       lb-aws-probe -R\n");
	exit(2);
}

static int
call(struct lb_aws *a, const char *what, struct lb_err *e)
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
	usage();
	return -1;
}

int
main(int argc, char *argv[])
{
	struct lb_err e = { 0 };
	struct lb_aws *a;
	const struct lb_creds *c = NULL;
	const char *callwhat = NULL, *endpoint = NULL;
	long count = 1;
	int ch, region = 0, i;
	char *s;

	while ((ch = getopt(argc, argv, "c:e:n:R")) != -1) {
		switch (ch) {
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
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((a = lb_aws_new(NULL, &e)) == NULL)
		errx(e.kind, "%s", e.msg);
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
	if (callwhat != NULL && call(a, callwhat, &e) == -1) {
		fprintf(stderr, "lb-aws-probe: %s%s%s\n", e.msg,
		    *e.code ? " code=" : "", e.code);
		lb_aws_free(a);
		return e.kind;
	}
	lb_aws_free(a);
	return 0;
}
