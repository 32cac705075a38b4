/*
 * check_aws.c: configuration files and profiles, region, endpoint
 * selection, S3 URLs, credential caching and refresh (through the
 * environment source), error bodies and the XML helper of lib/aws.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "lb.h"

static char dir[64];

static const char *const aws_vars[] = {
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3",
	"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL_EKS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL
};

/* Each test runs in its own process (CK_FORK): the environment is its. */
static void
setup(void)
{
	int i;

	for (i = 0; aws_vars[i] != NULL; i++)
		unsetenv(aws_vars[i]);
	snprintf(dir, sizeof(dir), "/tmp/check_aws.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("HOME", dir, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void
put(const char *name, const char *text, const char *envvar)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	if (envvar != NULL)
		setenv(envvar, path, 1);
}

static struct lb_aws *
new_aws(void)
{
	struct lb_err err = { 0 };
	struct lb_aws *a = lb_aws_new(NULL, &err);

	ck_assert_msg(a != NULL, "%s", err.msg);
	return a;
}

static const char config[] =
    "[default]\n"
    "region = eu-west-1\n"
    "; comment\n"
    "# comment\n"
    "[profile dev]\n"
    "region=ap-south-1\n"
    "s3 =\n"
    "  region = nested-not-this\n"
    "  addressing_style = path\n"
    "AWS_Access_Key_ID = AKIDCONFIG\n"
    "aws_secret_access_key = configsecret\n"
    "[dev]\n"
    "region = not-a-config-profile\n"
    "[profile   spaced  ]\n"
    "region = us-east-2\n"
    "[sso-session x]\n"
    "region = not-a-profile\n"
    "[profile empty]\n"
    "region =\n"
    "[profile proc]\n"
    "credential_process = /bin/false\n"
    "[profile role]\n"
    "role_arn = arn:aws:iam::1:role/r\n"
    "source_profile = default\n";

static const char credentials[] =
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = defaultsecret\n"
    "[dev]\r\n"
    "aws_access_key_id = AKIDCREDS\r\n"
    "aws_secret_access_key = credssecret\r\n"
    "aws_session_token = credstoken\r\n"
    "[profile dev]\n"
    "aws_access_key_id = AKIDWRONG\n";

START_TEST(test_profiles)
{
	struct lb_aws *a;
	struct lb_err err = { 0 };
	const struct lb_creds *c;

	put("config", config, "AWS_CONFIG_FILE");
	put("credentials", credentials, "AWS_SHARED_CREDENTIALS_FILE");
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "eu-west-1");
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKIDDEFAULT");
	ck_assert_str_eq(c->secret, "defaultsecret");
	ck_assert_ptr_null(c->token);
	ck_assert_str_eq(lb_aws_creds_source(a), "profile");
	lb_aws_free(a);

	/* the credentials file wins over the config file; CRLF is fine */
	setenv("AWS_PROFILE", "dev", 1);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "ap-south-1");
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKIDCREDS");
	ck_assert_str_eq(c->secret, "credssecret");
	ck_assert_str_eq(c->token, "credstoken");
	lb_aws_free(a);

	setenv("AWS_PROFILE", "spaced", 1);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "us-east-2");
	lb_aws_free(a);

	/* an empty value is no value */
	setenv("AWS_PROFILE", "empty", 1);
	a = new_aws();
	ck_assert_ptr_null(lb_aws_region(a));
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "no AWS credentials"));
	lb_aws_free(a);

	setenv("AWS_PROFILE", "proc", 1);
	a = new_aws();
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "credential_process"));
	lb_aws_free(a);

	setenv("AWS_PROFILE", "role", 1);
	a = new_aws();
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "role_arn"));
	lb_aws_free(a);

	setenv("AWS_PROFILE", "sso-session x", 1);
	a = new_aws();
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "not found"));
	lb_aws_free(a);

	/* AWS_DEFAULT_PROFILE when AWS_PROFILE is not set */
	unsetenv("AWS_PROFILE");
	setenv("AWS_DEFAULT_PROFILE", "dev", 1);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "ap-south-1");
	lb_aws_free(a);
}
END_TEST

START_TEST(test_files_default_and_missing)
{
	struct lb_aws *a;
	struct lb_err err = { 0 };
	const struct lb_creds *c;
	char path[128];

	/* no files at all: fine, nothing found */
	a = new_aws();
	ck_assert_ptr_null(lb_aws_region(a));
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	lb_aws_free(a);
	/* $HOME/.aws/ by default */
	snprintf(path, sizeof(path), "%s/.aws", dir);
	ck_assert_int_eq(lb_util_mkdirs(path, &err), 0);
	put(".aws/credentials", credentials, NULL);
	put(".aws/config", config, NULL);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "eu-west-1");
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKIDDEFAULT");
	lb_aws_free(a);
	/* a config file that exists but cannot be read is an error */
	setenv("AWS_CONFIG_FILE", dir, 1);	/* a directory */
	ck_assert_ptr_null(lb_aws_new(NULL, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
}
END_TEST

START_TEST(test_env_and_region)
{
	struct lb_aws *a;
	struct lb_err err = { 0 };
	const struct lb_creds *c;

	put("config", config, "AWS_CONFIG_FILE");
	setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "us-east-2");
	lb_aws_free(a);
	setenv("AWS_REGION", "ca-central-1", 1);
	a = new_aws();
	ck_assert_str_eq(lb_aws_region(a), "ca-central-1");
	lb_aws_set_region(a, "sa-east-1");
	ck_assert_str_eq(lb_aws_region(a), "sa-east-1");
	lb_aws_free(a);

	put("credentials", credentials, "AWS_SHARED_CREDENTIALS_FILE");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SECURITY_TOKEN", "oldtoken", 1);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKIDENV");
	ck_assert_str_eq(c->token, "oldtoken");
	ck_assert_int_eq(c->expires, 0);
	ck_assert_str_eq(lb_aws_creds_source(a), "env");
	lb_aws_free(a);

	setenv("AWS_SESSION_TOKEN", "newtoken", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2026-11-28T08:47:28.135174Z", 1);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->token, "newtoken");
	ck_assert_int_eq(c->expires, 1795855648);
	lb_aws_free(a);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2026-11-28T09:47:28+01:00", 1);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_int_eq(c->expires, 1795855648);
	lb_aws_free(a);

	/* half a key pair is a usage error, not a fall through */
	unsetenv("AWS_ACCESS_KEY_ID");
	a = new_aws();
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
	lb_aws_free(a);
}
END_TEST

static void
set_expiring(const char *akid, long in)
{
	char buf[32];

	lb_util_isotime(time(NULL) + in, buf);
	setenv("AWS_ACCESS_KEY_ID", akid, 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", buf, 1);
}

/* Cached until 5 minutes before Expiration, then looked up again. */
START_TEST(test_refresh)
{
	struct lb_aws *a;
	struct lb_err err = { 0 };
	const struct lb_creds *c;

	set_expiring("AKID1", 3600);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKID1");
	set_expiring("AKID2", 3600);
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKID1");	/* cached */
	lb_aws_free(a);

	set_expiring("AKID1", 200);	/* inside the 5 minutes */
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKID1");
	set_expiring("AKID2", 3600);
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKID2");	/* refreshed */
	lb_aws_free(a);

	/* a failed refresh keeps what is still valid */
	set_expiring("AKID1", 200);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	ck_assert_str_eq(c->akid, "AKID1");
	lb_aws_free(a);

	/* ... but not what has expired */
	set_expiring("AKID1", -10);
	a = new_aws();
	ck_assert_ptr_nonnull(c = lb_aws_creds(a, &err));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ck_assert_ptr_null(lb_aws_creds(a, &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	lb_aws_free(a);
}
END_TEST

static void
endpoint_is(struct lb_aws *a, const char *id, const char *want, int custom)
{
	char *s = lb_aws_endpoint(a, id);

	if (want == NULL)
		ck_assert_ptr_null(s);
	else {
		ck_assert_ptr_nonnull(s);
		ck_assert_str_eq(s, want);
	}
	ck_assert_int_eq(lb_aws_custom_endpoint(a, id), custom);
	free(s);
}

START_TEST(test_endpoints)
{
	struct lb_aws *a;

	a = new_aws();
	/* no region: only STS has a global endpoint */
	endpoint_is(a, "sqs", NULL, 0);
	endpoint_is(a, "sts", "https://sts.amazonaws.com", 0);
	lb_aws_set_region(a, "us-west-2");
	endpoint_is(a, "sqs", "https://sqs.us-west-2.amazonaws.com", 0);
	endpoint_is(a, "dynamodb", "https://dynamodb.us-west-2.amazonaws.com",
	    0);
	endpoint_is(a, "s3", "https://s3.us-west-2.amazonaws.com", 0);
	endpoint_is(a, "secretsmanager",
	    "https://secretsmanager.us-west-2.amazonaws.com", 0);
	endpoint_is(a, "logs", "https://logs.us-west-2.amazonaws.com", 0);
	endpoint_is(a, "sts", "https://sts.us-west-2.amazonaws.com", 0);
	endpoint_is(a, "eks", "https://eks.us-west-2.amazonaws.com", 0);
	lb_aws_set_region(a, "cn-north-1");
	endpoint_is(a, "sqs", "https://sqs.cn-north-1.amazonaws.com.cn", 0);
	lb_aws_set_region(a, "us-west-2");

	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000//", 1);
	setenv("AWS_ENDPOINT_URL_SQS", "http://sqs.local:1", 1);
	setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb.local:2", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://s3.local:3", 1);
	setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.local:4", 1);
	setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://logs.local:5", 1);
	setenv("AWS_ENDPOINT_URL_STS", "http://sts.local:6", 1);
	endpoint_is(a, "sqs", "http://sqs.local:1", 1);
	endpoint_is(a, "dynamodb", "http://ddb.local:2", 1);
	endpoint_is(a, "s3", "http://s3.local:3", 1);
	endpoint_is(a, "secretsmanager", "http://sm.local:4", 1);
	endpoint_is(a, "logs", "http://logs.local:5", 1);
	endpoint_is(a, "sts", "http://sts.local:6", 1);
	/* no EKS-specific one: the general one */
	endpoint_is(a, "eks", "http://127.0.0.1:5000", 1);
	/* services outside the table: upper case, '-' to '_' */
	setenv("AWS_ENDPOINT_URL_STEP_FUNCTIONS", "http://sfn.local:7", 1);
	endpoint_is(a, "step-functions", "http://sfn.local:7", 1);
	unsetenv("AWS_ENDPOINT_URL_STEP_FUNCTIONS");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	endpoint_is(a, "sqs", "https://sqs.us-west-2.amazonaws.com", 0);
	lb_aws_free(a);
}
END_TEST

START_TEST(test_s3_url)
{
	struct lb_aws *a = new_aws();
	char *u;

	ck_assert_ptr_null(lb_aws_s3_url(a, "b", "k"));
	lb_aws_set_region(a, "us-west-2");
	u = lb_aws_s3_url(a, "bucket", "dir/a b+c\xc3\xa9.json");
	ck_assert_str_eq(u, "https://bucket.s3.us-west-2.amazonaws.com/"
	    "dir/a%20b%2Bc%C3%A9.json");
	free(u);
	u = lb_aws_s3_url(a, "bucket", NULL);
	ck_assert_str_eq(u, "https://bucket.s3.us-west-2.amazonaws.com/");
	free(u);
	/* dots in the name break the TLS wildcard: path style */
	u = lb_aws_s3_url(a, "my.bucket", "k");
	ck_assert_str_eq(u, "https://s3.us-west-2.amazonaws.com/my.bucket/k");
	free(u);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/", 1);
	u = lb_aws_s3_url(a, "bucket", "a/b");
	ck_assert_str_eq(u, "http://127.0.0.1:5000/bucket/a/b");
	free(u);
	u = lb_aws_s3_url(a, "bucket", "");
	ck_assert_str_eq(u, "http://127.0.0.1:5000/bucket");
	free(u);
	lb_aws_free(a);
}
END_TEST

START_TEST(test_signer)
{
	struct lb_aws *a;
	struct lb_sigv4 cfg;
	struct lb_err err = { 0 };

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	a = new_aws();
	ck_assert_int_eq(lb_aws_signer(a, "sqs", &cfg, &err), -1);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "region"));
	ck_assert_int_eq(lb_aws_signer(a, "sts", &cfg, &err), 0);
	ck_assert_str_eq(cfg.region, "us-east-1");
	lb_aws_set_region(a, "eu-west-1");
	ck_assert_int_eq(lb_aws_signer(a, "s3", &cfg, &err), 0);
	ck_assert_str_eq(cfg.region, "eu-west-1");
	ck_assert_str_eq(cfg.service, "s3");
	ck_assert_int_eq(cfg.s3, 1);
	ck_assert_str_eq(cfg.creds->akid, "AKID");
	lb_aws_free(a);
}
END_TEST

struct errcase {
	long		 status;
	const char	*body;
	int		 kind;
	const char	*code;
	const char	*msg;	/* a part of err.msg */
};

static const struct errcase errcases[] = {
	{ 400, "{\"__type\": \"com.amazonaws.sqs#QueueDoesNotExist\", "
	    "\"message\": \"The specified queue does not exist.\"}",
	    LB_EFAIL, "QueueDoesNotExist",
	    "QueueDoesNotExist: The specified queue does not exist. "
	    "(HTTP 400)" },
	{ 400, "{\"__type\": \"com.amazonaws.dynamodb.v20120810#"
	    "ConditionalCheckFailedException\", \"Message\": \"The "
	    "conditional request failed\", \"Item\": {\"a\": {\"S\": "
	    "\"b\"}}}", LB_EFAIL, "ConditionalCheckFailedException",
	    "The conditional request failed" },
	{ 400, "{\"__type\": \"com.amazonaws.dynamodb.v20120810#"
	    "ProvisionedThroughputExceededException\", \"message\": \"x\"}",
	    LB_ETEMP, "ProvisionedThroughputExceededException", "x" },
	{ 400, "{\"__type\":\"ThrottlingException\"}", LB_ETEMP,
	    "ThrottlingException", "ThrottlingException (HTTP 400)" },
	{ 404, "{\"__type\": \"ResourceNotFoundException\", \"message\": "
	    "\"Secrets Manager can't find the specified secret.\"}",
	    LB_EFAIL, "ResourceNotFoundException", "can't find" },
	{ 400, "{\"__type\": \"ValidationException:http://internal.amazon"
	    ".com/coral/\", \"message\": \"bad\"}", LB_EFAIL,
	    "ValidationException", "ValidationException: bad" },
	{ 404, "{\"clusterName\": null, \"message\": \"No cluster found for "
	    "name: nope.\"}", LB_EFAIL, "", "No cluster found" },
	{ 400, "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://queue."
	    "amazonaws.com/doc/2012-11-05/\"><Error><Type>Sender</Type>"
	    "<Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>"
	    "The specified queue does not exist.</Message></Error>"
	    "</ErrorResponse>", LB_EFAIL,
	    "AWS.SimpleQueueService.NonExistentQueue", "does not exist" },
	{ 404, "<Error><Code>NoSuchKey</Code><Message>The specified key "
	    "does not exist.</Message><Key>a&amp;b</Key></Error>",
	    LB_EFAIL, "NoSuchKey", "NoSuchKey: The specified key" },
	{ 403, "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch"
	    "</Code><Message>nope</Message></Error></Errors></ErrorResponse>",
	    LB_EFAIL, "SignatureDoesNotMatch", "SignatureDoesNotMatch: nope" },
	{ 503, "<Error><Code>SlowDown</Code><Message>Reduce your request "
	    "rate.</Message></Error>", LB_ETEMP, "SlowDown", "Reduce" },
	{ 404, "", LB_EFAIL, "", "HTTP 404" },
	{ 500, "<!doctype html><html><title>500 Internal Server Error"
	    "</title></html>", LB_ETEMP, "", "HTTP 500" },
	{ 502, "{ not json", LB_ETEMP, "", "HTTP 502" },
	{ 400, "<!DOCTYPE e [<!ENTITY x \"y\">]><Error><Code>&x;</Code>"
	    "</Error>", LB_EFAIL, "", "HTTP 400" },
	{ 400, "{\"__type\": 7, \"message\": [1]}", LB_EFAIL, "",
	    "HTTP 400" },
	{ 429, NULL, LB_ETEMP, "", "HTTP 429" },
};

START_TEST(test_error)
{
	const struct errcase *e = &errcases[_i];
	struct lb_err err = { 0 };

	lb_aws_error(e->status, e->body, e->body ? strlen(e->body) : 0,
	    &err);
	ck_assert_int_eq(err.kind, e->kind);
	ck_assert_int_eq(err.http, e->status);
	ck_assert_str_eq(err.code, e->code);
	ck_assert_msg(strstr(err.msg, e->msg) != NULL, "msg '%s' lacks '%s'",
	    err.msg, e->msg);
}
END_TEST

START_TEST(test_error_huge)
{
	struct lb_err err = { 0 };
	size_t n = 1 << 20, i;
	char *body = malloc(n + 64);

	strcpy(body, "{\"__type\":\"x#");
	for (i = strlen(body); i < n; i++)
		body[i] = 'A';
	strcpy(body + n, "\",\"message\":\"m\"}");
	lb_aws_error(400, body, strlen(body), &err);
	ck_assert_int_eq(strlen(err.code), sizeof(err.code) - 1);
	ck_assert_int_lt(strlen(err.msg), sizeof(err.msg));
	free(body);
}
END_TEST

START_TEST(test_xml_get)
{
	static const char *const names[] = { "AccessKeyId", "Expiration",
	    "Missing", NULL };
	const char *xml = "<?xml version=\"1.0\"?><r:Resp xmlns:r=\"u\">"
	    "<r:Credentials><r:AccessKeyId>AK&amp;1</r:AccessKeyId>"
	    "<r:AccessKeyId>second</r:AccessKeyId>"
	    "<Expiration>2026-<b>11</b>-28</Expiration></r:Credentials>"
	    "</r:Resp>";
	char *vals[3];

	ck_assert_int_eq(lb_aws_xml_get(xml, strlen(xml), names, vals), 0);
	ck_assert_str_eq(vals[0], "AK&1");
	ck_assert_str_eq(vals[1], "2026-11-28");
	ck_assert_ptr_null(vals[2]);
	free(vals[0]);
	free(vals[1]);
	ck_assert_int_eq(lb_aws_xml_get("<a><b></a>", 10, names, vals), -1);
	ck_assert_ptr_null(vals[0]);
	ck_assert_int_eq(lb_aws_xml_get("", 0, names, vals), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("aws");
	TCase *tc = tcase_create("aws");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_profiles);
	tcase_add_test(tc, test_files_default_and_missing);
	tcase_add_test(tc, test_env_and_region);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_s3_url);
	tcase_add_test(tc, test_signer);
	tcase_add_loop_test(tc, test_error, 0,
	    (int)(sizeof(errcases) / sizeof(errcases[0])));
	tcase_add_test(tc, test_error_huge);
	tcase_add_test(tc, test_xml_get);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
