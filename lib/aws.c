/*
 * aws.c: AWS configuration (region, profile, endpoints), the credential
 * chain, and signed calls in the JSON, query and REST protocols.
 *
 * The environment and files are read the way the AWS CLI reads them, so
 * a setup that works for `aws` works here.  Credentials are looked for
 * in this order: environment, shared credentials and config files,
 * web identity (IRSA), container (ECS/EKS Pod Identity), IMDSv2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <expat.h>
#include <openssl/evp.h>

#include "lb.h"

#define REFRESH_S	300	/* refresh credentials this long before */
#define STS_VERSION	"2011-06-15"
#define FORM_CTYPE	"application/x-www-form-urlencoded; charset=utf-8"
#define IMDS_DEFAULT	"http://169.254.169.254"
#define ECS_HOST	"http://169.254.170.2"

/* One key = value of an INI file, under its (normalised) profile. */
struct ini_ent {
	char	*profile, *key, *value;
};

struct ini {
	struct ini_ent	*e;
	size_t		 n;
	int		 present;	/* the file exists */
};

struct lb_aws {
	struct lb_http	*http;
	int		 own_http;
	char		*region;
	char		*profile;
	int		 profile_set;	/* named by AWS_PROFILE */
	char		*config_path, *creds_path;
	struct ini	 config, credfile;
	struct lb_creds	 creds;
	const char	*source;
	lb_http_trace_fn trace;
	void		*trace_arg;
};

/* Service ids (signing names) and their AWS_ENDPOINT_URL_ suffixes. */
static const struct {
	const char	*id, *env;
} services[] = {
	{ "sqs", "SQS" },
	{ "dynamodb", "DYNAMODB" },
	{ "s3", "S3" },
	{ "secretsmanager", "SECRETS_MANAGER" },
	{ "logs", "CLOUDWATCH_LOGS" },
	{ "sts", "STS" },
	{ "eks", "EKS" },
	{ NULL, NULL }
};

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
env_true(const char *name)
{
	const char *v = env(name);

	return v != NULL && strcasecmp(v, "true") == 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The path of a file, "~/" expanded. */
static char *
expand_home(const char *path)
{
	const char *home = env("HOME");

	if (strncmp(path, "~/", 2) == 0 && home != NULL)
		return lb_xasprintf("%s/%s", home, path + 2);
	return lb_xstrdup(path);
}

static void
ini_free(struct ini *ini)
{
	size_t i;

	for (i = 0; i < ini->n; i++) {
		free(ini->e[i].profile);
		free(ini->e[i].key);
		free(ini->e[i].value);
	}
	free(ini->e);
	memset(ini, 0, sizeof(*ini));
}

/*
 * Parse an AWS INI file.  In the config file (isconfig) profiles are
 * "[default]" and "[profile NAME]", other sections are skipped; in the
 * credentials file they are "[NAME]".  Indented lines after a key are a
 * nested block (s3 = ...) and are skipped.  Keys are case-insensitive.
 */
static void
ini_parse(struct ini *ini, char *text, int isconfig)
{
	char *line, *next, *p, *section = NULL, *eq;
	int nested = 0;

	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (isspace((unsigned char)*line) && nested && *trim(line))
			continue;
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		nested = 0;
		if (*p == '[') {
			char *end = strchr(p, ']');

			free(section);
			section = NULL;
			if (end == NULL)
				continue;
			*end = '\0';
			p = trim(p + 1);
			if (!isconfig)
				section = lb_xstrdup(p);
			else if (strcmp(p, "default") == 0)
				section = lb_xstrdup(p);
			else if (strncmp(p, "profile", 7) == 0 &&
			    isspace((unsigned char)p[7]))
				section = lb_xstrdup(trim(p + 7));
			continue;
		}
		if ((eq = strpbrk(p, "=:")) == NULL || section == NULL)
			continue;
		*eq = '\0';
		ini->e = lb_xrealloc(ini->e, (ini->n + 1) * sizeof(*ini->e));
		ini->e[ini->n].profile = lb_xstrdup(section);
		ini->e[ini->n].key = lb_xstrdup(trim(p));
		for (p = ini->e[ini->n].key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		ini->e[ini->n].value = lb_xstrdup(trim(eq + 1));
		nested = *ini->e[ini->n].value == '\0';
		ini->n++;
	}
	free(section);
}

/* The last value of key in profile (later lines win), or NULL. */
static const char *
ini_get(const struct ini *ini, const char *profile, const char *key)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].profile, profile) == 0 &&
		    strcmp(ini->e[i].key, key) == 0)
			v = ini->e[i].value;
	return v != NULL && *v != '\0' ? v : NULL;
}

static int
ini_has(const struct ini *ini, const char *profile)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].profile, profile) == 0)
			return 1;
	return 0;
}

static int
ini_load(struct ini *ini, const char *path, int isconfig, struct lb_err *err)
{
	char *text;

	memset(ini, 0, sizeof(*ini));
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if ((text = lb_util_readfile(path, NULL, err)) == NULL) {
		err->kind = LB_EUSAGE;
		return -1;
	}
	ini->present = 1;
	ini_parse(ini, text, isconfig);
	free(text);
	return 0;
}

struct lb_aws *
lb_aws_new(struct lb_http *http, struct lb_err *err)
{
	struct lb_aws *a = lb_xmalloc(sizeof(*a));
	const char *v, *home = env("HOME");

	memset(a, 0, sizeof(*a));
	a->http = http;
	if (a->http == NULL) {
		a->http = lb_http_new(NULL);
		a->own_http = 1;
	}
	if ((v = env("AWS_PROFILE")) != NULL ||
	    (v = env("AWS_DEFAULT_PROFILE")) != NULL) {
		a->profile = lb_xstrdup(v);
		a->profile_set = 1;
	} else
		a->profile = lb_xstrdup("default");
	if ((v = env("AWS_CONFIG_FILE")) != NULL)
		a->config_path = expand_home(v);
	else
		a->config_path = lb_xasprintf("%s/.aws/config",
		    home != NULL ? home : "");
	if ((v = env("AWS_SHARED_CREDENTIALS_FILE")) != NULL)
		a->creds_path = expand_home(v);
	else
		a->creds_path = lb_xasprintf("%s/.aws/credentials",
		    home != NULL ? home : "");
	if (ini_load(&a->config, a->config_path, 1, err) == -1 ||
	    ini_load(&a->credfile, a->creds_path, 0, err) == -1) {
		lb_aws_free(a);
		return NULL;
	}
	if ((v = env("AWS_REGION")) != NULL ||
	    (v = env("AWS_DEFAULT_REGION")) != NULL ||
	    (v = ini_get(&a->config, a->profile, "region")) != NULL)
		a->region = lb_xstrdup(v);
	return a;
}

void
lb_aws_free(struct lb_aws *a)
{
	if (a == NULL)
		return;
	if (a->own_http)
		lb_http_free(a->http);
	free(a->region);
	free(a->profile);
	free(a->config_path);
	free(a->creds_path);
	ini_free(&a->config);
	ini_free(&a->credfile);
	lb_creds_free(&a->creds);
	free(a);
}

const char *
lb_aws_region(const struct lb_aws *a)
{
	return a->region;
}

void
lb_aws_set_region(struct lb_aws *a, const char *region)
{
	free(a->region);
	a->region = region != NULL ? lb_xstrdup(region) : NULL;
}

/* AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL, unless ignored. */
static const char *
custom_endpoint(const char *id)
{
	char name[96], *p;
	const char *v;
	size_t i;

	if (env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
		return NULL;
	for (i = 0; services[i].id != NULL; i++)
		if (strcmp(services[i].id, id) == 0)
			break;
	if (services[i].id != NULL)
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s",
		    services[i].env);
	else {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", id);
		for (p = name; *p; p++)
			*p = *p == '-' ? '_' :
			    (char)toupper((unsigned char)*p);
	}
	if ((v = env(name)) != NULL)
		return v;
	return env("AWS_ENDPOINT_URL");
}

char *
lb_aws_endpoint(const struct lb_aws *a, const char *id)
{
	const char *v = custom_endpoint(id);
	char *s;
	size_t n;

	if (v != NULL) {
		s = lb_xstrdup(v);
		n = strlen(s);
		while (n > 0 && s[n - 1] == '/')
			s[--n] = '\0';
		return s;
	}
	if (a->region == NULL)
		return strcmp(id, "sts") == 0 ?
		    lb_xstrdup("https://sts.amazonaws.com") : NULL;
	return lb_xasprintf("https://%s.%s.%s", id, a->region,
	    strncmp(a->region, "cn-", 3) == 0 ? "amazonaws.com.cn" :
	    "amazonaws.com");
}

int
lb_aws_custom_endpoint(const struct lb_aws *a, const char *id)
{
	return custom_endpoint(id) != NULL;
}

char *
lb_aws_s3_url(const struct lb_aws *a, const char *bucket, const char *key)
{
	char *base, *k, *url;
	const char *slash = "/";

	if (key == NULL || *key == '\0') {
		k = lb_xstrdup("");
		slash = "";
	} else
		k = lb_http_escape(key, 1);
	if (lb_aws_custom_endpoint(a, "s3") || strchr(bucket, '.') != NULL) {
		if ((base = lb_aws_endpoint(a, "s3")) == NULL) {
			free(k);
			return NULL;
		}
		url = lb_xasprintf("%s/%s%s%s", base, bucket, slash, k);
		free(base);
	} else if (a->region == NULL)
		url = NULL;
	else
		url = lb_xasprintf("https://%s.s3.%s.%s/%s", bucket, a->region,
		    strncmp(a->region, "cn-", 3) == 0 ? "amazonaws.com.cn" :
		    "amazonaws.com", k);
	free(k);
	return url;
}

/* "2026-11-28T08:47:28.135174Z" or "...+01:00" to a time_t; 0 if bad. */
static time_t
parse_iso(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	time_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d,
	    &h, &mi, &sec, &n) != 6 || n == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
		t += (*p == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	return t;
}

static void
creds_set(struct lb_creds *c, const char *akid, const char *secret,
    const char *token, time_t expires)
{
	c->akid = lb_xstrdup(akid);
	c->secret = lb_xstrdup(secret);
	c->token = token != NULL && *token != '\0' ? lb_xstrdup(token) : NULL;
	c->expires = expires;
}

/* Returns 1 with creds, 0 when the source is not configured, -1. */
static int
from_env(struct lb_creds *c, struct lb_err *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk;
	const char *tok = env("AWS_SESSION_TOKEN");

	sk = env("AWS_SECRET_ACCESS_KEY");
	if (ak == NULL && sk == NULL)
		return 0;
	if (ak == NULL || sk == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s is set but %s is "
		    "not", ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (tok == NULL)
		tok = env("AWS_SECURITY_TOKEN");
	creds_set(c, ak, sk, tok, parse_iso(env("AWS_CREDENTIAL_EXPIRATION")));
	return 1;
}

static int web_identity(struct lb_aws *, const char *, const char *,
    const char *, struct lb_creds *, struct lb_err *);

/* A profile value: the credentials file first, then the config file. */
static const char *
profile_get(const struct lb_aws *a, const char *key)
{
	const char *v = ini_get(&a->credfile, a->profile, key);

	return v != NULL ? v : ini_get(&a->config, a->profile, key);
}

static int
from_profile(struct lb_aws *a, struct lb_creds *c, struct lb_err *err)
{
	const char *ak, *sk, *tok, *role, *tokfile;

	if (!ini_has(&a->credfile, a->profile) &&
	    !ini_has(&a->config, a->profile)) {
		if (a->profile_set)
			return lb_err_set(err, LB_EUSAGE, 0, "AWS profile %s "
			    "not found in %s or %s", a->profile, a->creds_path,
			    a->config_path);
		return 0;
	}
	ak = profile_get(a, "aws_access_key_id");
	sk = profile_get(a, "aws_secret_access_key");
	tok = profile_get(a, "aws_session_token");
	if (ak != NULL && sk != NULL) {
		creds_set(c, ak, sk, tok, 0);
		return 1;
	}
	if (ak != NULL || sk != NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "AWS profile %s: %s "
		    "without %s", a->profile, ak ? "aws_access_key_id" :
		    "aws_secret_access_key", ak ? "aws_secret_access_key" :
		    "aws_access_key_id");
	role = profile_get(a, "role_arn");
	tokfile = profile_get(a, "web_identity_token_file");
	if (role != NULL && tokfile != NULL)
		return web_identity(a, role, tokfile,
		    profile_get(a, "role_session_name"), c, err);
	if (role != NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "AWS profile %s: "
		    "role_arn without web_identity_token_file is not "
		    "supported (use source credentials directly)", a->profile);
	if (profile_get(a, "credential_process") != NULL ||
	    profile_get(a, "sso_session") != NULL ||
	    profile_get(a, "sso_start_url") != NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "AWS profile %s: "
		    "credential_process and SSO are not supported",
		    a->profile);
	return 0;
}

/* A credential source that answered badly: say which, keep the kind
 * temporary when it is, else it is a configuration problem. */
static int
source_failed(struct lb_err *err, const char *what)
{
	if (err->kind != LB_ETEMP)
		err->kind = LB_EUSAGE;
	lb_err_prefix(err, "%s", what);
	return -1;
}

static char *
read_token_file(const char *path, struct lb_err *err)
{
	char *tok, *t;

	if ((tok = lb_util_readfile(path, NULL, err)) == NULL) {
		err->kind = LB_EUSAGE;
		return NULL;
	}
	t = trim(tok);
	memmove(tok, t, strlen(t) + 1);
	if (*tok == '\0' || strpbrk(tok, "\r\n") != NULL) {
		free(tok);
		lb_err_set(err, LB_EUSAGE, 0, "%s: empty or not one line",
		    path);
		return NULL;
	}
	return tok;
}

/*
 * STS AssumeRoleWithWebIdentity.  The call is not signed: the token is
 * the proof.  moto routes requests by the credential scope of the
 * Authorization header, and unsigned ones to S3, except a form POST
 * (form content type) whose Action is AssumeRoleWithWebIdentity: that
 * goes to STS.  The Host header plays no part.  With moto's signature
 * checking on, every unsigned request fails with 500 there.
 */
static int
web_identity(struct lb_aws *a, const char *role, const char *tokfile,
    const char *session, struct lb_creds *c, struct lb_err *err)
{
	static const char *const names[] = { "AccessKeyId",
	    "SecretAccessKey", "SessionToken", "Expiration", NULL };
	const char *hdrs[] = { "Content-Type: " FORM_CTYPE,
	    "Accept: text/xml", NULL };
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp = { 0 };
	char *tok = NULL, *ep = NULL, *url = NULL, *e1, *e2, *e3, *form = NULL;
	char *vals[4] = { NULL, NULL, NULL, NULL }, defsession[64];
	int rc = -1, i;

	if ((tok = read_token_file(tokfile, err)) == NULL) {
		lb_err_prefix(err, "web identity token");
		return -1;
	}
	if (session == NULL) {
		snprintf(defsession, sizeof(defsession), "lb-%lld",
		    (long long)time(NULL));
		session = defsession;
	}
	e1 = lb_http_escape(role, 0);
	e2 = lb_http_escape(session, 0);
	e3 = lb_http_escape(tok, 0);
	form = lb_xasprintf("Action=AssumeRoleWithWebIdentity&Version="
	    STS_VERSION "&RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s",
	    e1, e2, e3);
	free(e1);
	free(e2);
	OPENSSL_cleanse(e3, strlen(e3));
	free(e3);
	ep = lb_aws_endpoint(a, "sts");
	url = lb_xasprintf("%s/", ep);
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = form;
	req.bodylen = strlen(form);
	if (lb_http_do(a->http, &req, &resp, err) == -1) {
		source_failed(err, "web identity (STS)");
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		lb_aws_error(resp.status, resp.body.p, resp.body.len, err);
		source_failed(err, "web identity (AssumeRoleWithWebIdentity)");
		goto out;
	}
	if (lb_aws_xml_get(resp.body.p, resp.body.len, names, vals) == -1 ||
	    vals[0] == NULL || vals[1] == NULL) {
		lb_err_set(err, LB_ETEMP, resp.status, "web identity: no "
		    "credentials in the STS answer");
		goto out;
	}
	creds_set(c, vals[0], vals[1], vals[2], parse_iso(vals[3]));
	rc = 1;
out:
	for (i = 0; i < 4; i++) {
		if (vals[i] != NULL)
			OPENSSL_cleanse(vals[i], strlen(vals[i]));
		free(vals[i]);
	}
	OPENSSL_cleanse(form, strlen(form));
	OPENSSL_cleanse(tok, strlen(tok));
	free(form);
	free(tok);
	free(ep);
	free(url);
	lb_http_resp_free(&resp);
	return rc;
}

static int
from_web_identity(struct lb_aws *a, struct lb_creds *c, struct lb_err *err)
{
	const char *tokfile = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env("AWS_ROLE_ARN");

	if (tokfile == NULL || role == NULL)
		return 0;
	return web_identity(a, role, tokfile, env("AWS_ROLE_SESSION_NAME"),
	    c, err);
}

/* Credentials JSON of the container endpoint and IMDS. */
static int
creds_json(const struct lb_http_resp *resp, struct lb_creds *c,
    const char *what, struct lb_err *err)
{
	cJSON *j;
	const char *ak, *sk, *code;
	int rc = -1;

	j = lb_json_parse(resp->body.p, resp->body.len);
	ak = lb_json_str(j, "AccessKeyId");
	sk = lb_json_str(j, "SecretAccessKey");
	code = lb_json_str(j, "Code");
	if (code != NULL && strcmp(code, "Success") != 0)
		lb_err_set(err, LB_EUSAGE, resp->status, "%s: Code %.100s",
		    what, code);
	else if (ak == NULL || sk == NULL)
		lb_err_set(err, LB_ETEMP, resp->status, "%s: no credentials "
		    "in the answer", what);
	else {
		creds_set(c, ak, sk, lb_json_str(j, "Token"),
		    parse_iso(lb_json_str(j, "Expiration")));
		rc = 1;
	}
	cJSON_Delete(j);
	return rc;
}

/* Plain http is only for the link-local container hosts and loopback. */
static int
container_host_ok(const char *url)
{
	static const char *const ok[] = { "http://169.254.170.2",
	    "http://169.254.170.23", "http://[fd00:ec2::23]",
	    "http://127.", "http://localhost", "http://[::1]", NULL };
	size_t i, n;

	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	for (i = 0; ok[i] != NULL; i++) {
		n = strlen(ok[i]);
		if (strncasecmp(url, ok[i], n) == 0 &&
		    (ok[i][n - 1] == '.' || url[n] == '\0' || url[n] == ':' ||
		    url[n] == '/'))
			return 1;
	}
	return 0;
}

static int
from_container(struct lb_aws *a, struct lb_creds *c, struct lb_err *err)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *hdrs[3] = { "Accept: application/json", NULL, NULL };
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp = { 0 };
	char *url, *tok = NULL, *auth = NULL;
	int rc = -1;

	if (rel != NULL)
		url = lb_xasprintf("%s%s%s", ECS_HOST, *rel == '/' ? "" : "/",
		    rel);
	else if (full != NULL)
		url = lb_xstrdup(full);
	else
		return 0;
	if (rel == NULL && !container_host_ok(url)) {
		lb_err_set(err, LB_EUSAGE, 0, "AWS_CONTAINER_CREDENTIALS_"
		    "FULL_URI: plain http only to loopback or the container "
		    "host");
		goto out;
	}
	if (tokfile != NULL) {
		if ((tok = read_token_file(tokfile, err)) == NULL) {
			lb_err_prefix(err, "container credentials token");
			goto out;
		}
	} else if (tokenv != NULL) {
		if (strpbrk(tokenv, "\r\n") != NULL) {
			lb_err_set(err, LB_EUSAGE, 0, "AWS_CONTAINER_"
			    "AUTHORIZATION_TOKEN is not one line");
			goto out;
		}
		tok = lb_xstrdup(tokenv);
	}
	if (tok != NULL) {
		auth = lb_xasprintf("Authorization: %s", tok);
		hdrs[1] = auth;
	}
	req.method = "GET";
	req.url = url;
	req.headers = hdrs;
	req.timeout_ms = 5000;
	if (lb_http_do(a->http, &req, &resp, err) == -1) {
		source_failed(err, "container credentials");
		goto out;
	}
	if (resp.status != 200) {
		lb_aws_error(resp.status, resp.body.p, resp.body.len, err);
		source_failed(err, "container credentials");
		goto out;
	}
	if ((rc = creds_json(&resp, c, "container credentials", err)) == -1)
		source_failed(err, "container credentials");
out:
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	if (auth != NULL)
		OPENSSL_cleanse(auth, strlen(auth));
	free(tok);
	free(auth);
	free(url);
	lb_http_resp_free(&resp);
	return rc;
}

/* One IMDS request, one attempt, short timeout.  0 with resp, or -1. */
static int
imds_do(struct lb_aws *a, const char *method, const char *url,
    const char *hdr, long timeout_ms, struct lb_http_resp *resp,
    struct lb_err *err)
{
	const char *hdrs[2] = { hdr, NULL };
	struct lb_http_req req = { 0 };

	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.noretry = 1;
	req.timeout_ms = timeout_ms;
	if (strcmp(method, "PUT") == 0) {
		req.body = "";
		req.bodylen = 0;
	}
	lb_http_resp_free(resp);
	if (lb_http_do(a->http, &req, resp, err) == -1)
		return -1;
	if (resp->status != 200)
		return lb_err_set(err, lb_http_kind(resp->status),
		    resp->status, "HTTP %ld", resp->status);
	return 0;
}

/*
 * IMDSv2: a session token (PUT), the role name, then the role's
 * credentials.  Off EC2 nothing answers: that is "no credentials", fast.
 */
static int
from_imds(struct lb_aws *a, struct lb_creds *c, char *why, size_t whylen,
    struct lb_err *err)
{
	const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct lb_http_resp resp = { 0 };
	char *base, *url = NULL, *tokhdr = NULL, *role = NULL;
	long timeout = 1000, secs;
	size_t n;
	int rc = -1;

	if (env_true("AWS_EC2_METADATA_DISABLED")) {
		snprintf(why, whylen, "IMDS disabled by "
		    "AWS_EC2_METADATA_DISABLED");
		return 0;
	}
	if (env("AWS_METADATA_SERVICE_TIMEOUT") != NULL &&
	    lb_util_strtol(env("AWS_METADATA_SERVICE_TIMEOUT"), 1, 60,
	    &secs) == 0)
		timeout = secs * 1000;
	base = lb_xstrdup(ep != NULL ? ep : IMDS_DEFAULT);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';

	url = lb_xasprintf("%s/latest/api/token", base);
	if (imds_do(a, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: "
	    "21600", timeout, &resp, err) == -1) {
		/* nobody there: not on EC2, not an error of its own */
		snprintf(why, whylen, "IMDS at %.100s: %.300s", base,
		    err->msg);
		rc = 0;
		goto out;
	}
	tokhdr = lb_xasprintf("X-aws-ec2-metadata-token: %s",
	    trim(resp.body.p));
	free(url);
	url = lb_xasprintf("%s/latest/meta-data/iam/security-credentials/",
	    base);
	if (imds_do(a, "GET", url, tokhdr, timeout, &resp, err) == -1) {
		if (resp.status == 404) {
			snprintf(why, whylen, "IMDS: no IAM role attached to "
			    "this instance");
			rc = 0;
		} else
			source_failed(err, "IMDS role");
		goto out;
	}
	role = lb_xstrdup(trim(resp.body.p));
	role[strcspn(role, "\r\n")] = '\0';
	if (*role == '\0' || strchr(role, '/') != NULL) {
		lb_err_set(err, LB_ETEMP, 0, "IMDS: bad role name");
		goto out;
	}
	free(url);
	url = lb_xasprintf("%s/latest/meta-data/iam/security-credentials/%s",
	    base, role);
	if (imds_do(a, "GET", url, tokhdr, timeout, &resp, err) == -1) {
		source_failed(err, "IMDS credentials");
		goto out;
	}
	if ((rc = creds_json(&resp, c, "IMDS credentials", err)) == -1)
		source_failed(err, "IMDS credentials");
out:
	if (tokhdr != NULL)
		OPENSSL_cleanse(tokhdr, strlen(tokhdr));
	lb_http_resp_free(&resp);
	free(tokhdr);
	free(role);
	free(url);
	free(base);
	return rc;
}

/* The chain: the first source that is configured decides. */
static int
resolve(struct lb_aws *a, struct lb_creds *c, const char **src,
    struct lb_err *err)
{
	char why[512] = "";
	int r;

	if ((r = from_env(c, err)) != 0) {
		*src = "env";
		return r < 0 ? -1 : 0;
	}
	if ((r = from_profile(a, c, err)) != 0) {
		*src = "profile";
		return r < 0 ? -1 : 0;
	}
	if ((r = from_web_identity(a, c, err)) != 0) {
		*src = "web-identity";
		return r < 0 ? -1 : 0;
	}
	if ((r = from_container(a, c, err)) != 0) {
		*src = "container";
		return r < 0 ? -1 : 0;
	}
	if ((r = from_imds(a, c, why, sizeof(why), err)) != 0) {
		*src = "imds";
		return r < 0 ? -1 : 0;
	}
	return lb_err_set(err, LB_EUSAGE, 0, "no AWS credentials: set "
	    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
	    "or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (%s)", why);
}

const struct lb_creds *
lb_aws_creds(struct lb_aws *a, struct lb_err *err)
{
	struct lb_creds fresh = { 0 };
	const char *src = NULL;
	time_t now = time(NULL);

	if (a->creds.akid != NULL && (a->creds.expires == 0 ||
	    now < a->creds.expires - REFRESH_S))
		return &a->creds;
	if (resolve(a, &fresh, &src, err) == -1) {
		lb_creds_free(&fresh);
		/* a failed refresh: what we have is good for a while */
		if (a->creds.akid != NULL && now < a->creds.expires)
			return &a->creds;
		return NULL;
	}
	lb_creds_free(&a->creds);
	a->creds = fresh;
	a->source = src;
	return &a->creds;
}

const char *
lb_aws_creds_source(const struct lb_aws *a)
{
	return a->source;
}

int
lb_aws_signer(struct lb_aws *a, const char *id, struct lb_sigv4 *cfg,
    struct lb_err *err)
{
	const struct lb_creds *c;
	const char *region = a->region;

	memset(cfg, 0, sizeof(*cfg));
	if (region == NULL && strcmp(id, "sts") == 0 &&
	    !lb_aws_custom_endpoint(a, id))
		region = "us-east-1";	/* the global STS endpoint */
	if (region == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "no AWS region: set "
		    "AWS_REGION or a region in the profile");
	if ((c = lb_aws_creds(a, err)) == NULL)
		return -1;
	cfg->creds = c;
	cfg->region = region;
	cfg->service = id;
	cfg->s3 = strcmp(id, "s3") == 0;
	return 0;
}

void
lb_aws_set_trace(struct lb_aws *a, lb_http_trace_fn fn, void *arg)
{
	a->trace = fn;
	a->trace_arg = arg;
}

/* One trace line per line of text, the session token redacted. */
static void
trace_text(const struct lb_aws *a, const char *what, const char *text)
{
	const char *p, *e;
	char *line;

	for (p = text; p != NULL; p = *e ? e + 1 : NULL) {
		e = p + strcspn(p, "\n");
		if (strncmp(p, "x-amz-security-token:", 21) == 0)
			line = lb_xasprintf("%s: x-amz-security-token:"
			    "[redacted]", what);
		else
			line = lb_xasprintf("%s: %.*s", what, (int)(e - p), p);
		a->trace(a->trace_arg, line);
		free(line);
	}
}

/* Signing per attempt: fresh date, fresh credentials. */
struct sign_arg {
	struct lb_aws	*aws;
	const char	*id;
	const char	*payload_hash;	/* of an upload, or NULL */
	lb_http_prep_fn	 inner;		/* the caller's own prep */
	void		*inner_arg;
};

static int
sign_prep(void *arg, struct lb_http_req *req, struct curl_slist **list,
    struct lb_err *err)
{
	struct sign_arg *s = arg;
	struct lb_sigv4 cfg;
	struct lb_sigv4_out out;

	if (s->inner != NULL && s->inner(s->inner_arg, req, list, err) == -1)
		return -1;
	if (lb_aws_signer(s->aws, s->id, &cfg, err) == -1)
		return -1;
	cfg.payload_hash = s->payload_hash;
	if (s->aws->trace == NULL)
		return lb_sigv4_sign(&cfg, req->method ? req->method : "GET",
		    req->url, req->headers, req->body,
		    req->body ? req->bodylen : 0, list, NULL, err);
	if (lb_sigv4_sign(&cfg, req->method ? req->method : "GET", req->url,
	    req->headers, req->body, req->body ? req->bodylen : 0, list, &out,
	    err) == -1)
		return -1;
	trace_text(s->aws, "sigv4 canonical request", out.canonical);
	trace_text(s->aws, "sigv4 string to sign", out.to_sign);
	lb_sigv4_out_free(&out);
	return 0;
}

static int
has_header(const char *const *hdrs, const char *name)
{
	size_t n = strlen(name);

	for (; hdrs != NULL && *hdrs != NULL; hdrs++)
		if (strncasecmp(*hdrs, name, n) == 0 && (*hdrs)[n] == ':')
			return 1;
	return 0;
}

/* SHA-256 of len bytes of f from off (an upload's payload hash). */
static int
hash_file(FILE *f, long long off, long long len, char hex[65],
    struct lb_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], out[32];
	unsigned int outlen = 32;
	size_t n, want;
	int rc = -1;

	if (md == NULL)
		abort();
	if (fseeko(f, (off_t)off, SEEK_SET) == -1) {
		lb_err_set(err, LB_EFAIL, 0, "upload: %s", strerror(errno));
		goto out;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while (len > 0) {
		want = len > (long long)sizeof(buf) ? sizeof(buf) :
		    (size_t)len;
		if ((n = fread(buf, 1, want, f)) == 0) {
			lb_err_set(err, LB_EFAIL, 0, "upload: %s", ferror(f) ?
			    strerror(errno) : "file shorter than the upload");
			goto out;
		}
		EVP_DigestUpdate(md, buf, n);
		len -= (long long)n;
	}
	EVP_DigestFinal_ex(md, out, &outlen);
	lb_util_hex(out, 32, hex);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int
lb_aws_request(struct lb_aws *a, const char *id, struct lb_http_req *req,
    struct lb_http_resp *resp, struct lb_err *err)
{
	struct sign_arg s = { a, id, NULL, req->prep, req->prep_arg };
	char hex[65];
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (req->upload != NULL &&
	    !has_header(req->headers, "x-amz-content-sha256")) {
		if (hash_file(req->upload, req->uploadoff, req->uploadlen, hex,
		    err) == -1)
			return -1;
		s.payload_hash = hex;
	}
	req->prep = sign_prep;
	req->prep_arg = &s;
	rc = lb_http_do(a->http, req, resp, err);
	req->prep = s.inner;
	req->prep_arg = s.inner_arg;
	if (rc == -1)
		return -1;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	lb_aws_error(resp->status, resp->body.p, resp->body.len, err);
	return -1;
}

cJSON *
lb_aws_json(struct lb_aws *a, const char *id, const char *target,
    const char *ctype, const cJSON *body, struct lb_err *err)
{
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp = { 0 };
	const char *hdrs[3];
	char *ep, *url = NULL, *text = NULL, *h1, *h2;
	cJSON *out = NULL;

	if ((ep = lb_aws_endpoint(a, id)) == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: no AWS region: set "
		    "AWS_REGION or a region in the profile", target);
		return NULL;
	}
	url = lb_xasprintf("%s/", ep);
	text = body != NULL ? cJSON_PrintUnformatted(body) : lb_xstrdup("{}");
	if (text == NULL)
		abort();
	h1 = lb_xasprintf("Content-Type: %s", ctype);
	h2 = lb_xasprintf("X-Amz-Target: %s", target);
	hdrs[0] = h1;
	hdrs[1] = h2;
	hdrs[2] = NULL;
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = text;
	req.bodylen = strlen(text);
	if (lb_aws_request(a, id, &req, &resp, err) == -1) {
		lb_err_prefix(err, "%s", target);
		goto out;
	}
	if (resp.body.len == 0)
		out = cJSON_CreateObject();
	else if ((out = lb_json_parse(resp.body.p, resp.body.len)) == NULL ||
	    !cJSON_IsObject(out)) {
		cJSON_Delete(out);
		out = NULL;
		lb_err_set(err, LB_EFAIL, resp.status, "%s: the answer is "
		    "not a JSON object", target);
	}
out:
	lb_http_resp_free(&resp);
	free(ep);
	free(url);
	free(text);
	free(h1);
	free(h2);
	return out;
}

char *
lb_aws_query(struct lb_aws *a, const char *id, const char *form,
    struct lb_err *err)
{
	const char *hdrs[] = { "Content-Type: " FORM_CTYPE, NULL };
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp = { 0 };
	char *ep, *url, *out = NULL, action[64] = "query";
	const char *p;

	if ((p = strstr(form, "Action=")) != NULL &&
	    (p == form || p[-1] == '&'))
		snprintf(action, sizeof(action), "%.*s",
		    (int)strcspn(p + 7, "&"), p + 7);
	if ((ep = lb_aws_endpoint(a, id)) == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: no AWS region: set "
		    "AWS_REGION or a region in the profile", action);
		return NULL;
	}
	url = lb_xasprintf("%s/", ep);
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = form;
	req.bodylen = strlen(form);
	if (lb_aws_request(a, id, &req, &resp, err) == -1)
		lb_err_prefix(err, "%s", action);
	else
		out = lb_xstrdup(resp.body.p != NULL ? resp.body.p : "");
	lb_http_resp_free(&resp);
	free(ep);
	free(url);
	return out;
}

/* Expat collector for lb_aws_xml_get. */
struct xml_grab {
	XML_Parser		 p;
	const char *const	*names;
	char			**vals;
	int			 cur;	/* index being collected, or -1 */
	int			 depth;	/* nesting inside it */
	struct lb_buf		 text;
};

static const char *
local_name(const char *name)
{
	const char *c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void XMLCALL
xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_grab *g = arg;
	int i;

	if (g->cur >= 0) {
		g->depth++;
		return;
	}
	for (i = 0; g->names[i] != NULL; i++)
		if (g->vals[i] == NULL &&
		    strcmp(local_name(name), g->names[i]) == 0) {
			g->cur = i;
			g->depth = 0;
			g->text.len = 0;
			lb_buf_add(&g->text, "", 0);
			return;
		}
}

static void XMLCALL
xml_end(void *arg, const XML_Char *name)
{
	struct xml_grab *g = arg;

	if (g->cur < 0)
		return;
	if (g->depth-- > 0)
		return;
	g->vals[g->cur] = lb_xstrdup(g->text.p);
	g->cur = -1;
}

static void XMLCALL
xml_text(void *arg, const XML_Char *s, int len)
{
	struct xml_grab *g = arg;

	if (g->cur >= 0 && len > 0)
		lb_buf_add(&g->text, s, (size_t)len);
}

/* No DTDs: no entity tricks in answers. */
static void XMLCALL
xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	struct xml_grab *g = arg;

	XML_StopParser(g->p, XML_FALSE);
}

int
lb_aws_xml_get(const char *xml, size_t len, const char *const *names,
    char **vals)
{
	struct xml_grab g;
	int i, ok;

	for (i = 0; names[i] != NULL; i++)
		vals[i] = NULL;
	if (xml == NULL || len > (size_t)0x7fffffff)
		return -1;
	memset(&g, 0, sizeof(g));
	g.names = names;
	g.vals = vals;
	g.cur = -1;
	if ((g.p = XML_ParserCreate("UTF-8")) == NULL)
		abort();
	XML_SetUserData(g.p, &g);
	XML_SetElementHandler(g.p, xml_start, xml_end);
	XML_SetCharacterDataHandler(g.p, xml_text);
	XML_SetStartDoctypeDeclHandler(g.p, xml_doctype);
	ok = XML_Parse(g.p, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
	XML_ParserFree(g.p);
	lb_buf_free(&g.text);
	if (!ok) {
		for (i = 0; names[i] != NULL; i++) {
			free(vals[i]);
			vals[i] = NULL;
		}
		return -1;
	}
	return 0;
}

void
lb_aws_error(long status, const char *body, size_t len, struct lb_err *err)
{
	static const char *const names[] = { "Code", "Message", NULL };
	char code[96] = "", msg[512] = "", *vals[2] = { NULL, NULL };
	const char *p = body, *t, *m;
	size_t skip = 0;
	cJSON *j;
	int kind = lb_http_retryable(status, body, len) ? LB_ETEMP : LB_EFAIL;

	while (p != NULL && skip < len && isspace((unsigned char)p[skip]))
		skip++;
	if (p != NULL && skip < len && p[skip] == '{') {
		j = lb_json_parse(p, len);
		if ((t = lb_json_str(j, "__type")) == NULL &&
		    (t = lb_json_str(j, "code")) == NULL)
			t = lb_json_str(j, "Code");
		if (t != NULL) {
			if (strchr(t, '#') != NULL)
				t = strrchr(t, '#') + 1;
			snprintf(code, sizeof(code), "%.*s",
			    (int)strcspn(t, ":"), t);
		}
		if ((m = lb_json_str(j, "message")) == NULL &&
		    (m = lb_json_str(j, "Message")) == NULL)
			m = lb_json_str(j, "errorMessage");
		if (m != NULL)
			snprintf(msg, sizeof(msg), "%s", m);
		cJSON_Delete(j);
	} else if (p != NULL && skip < len && p[skip] == '<' &&
	    lb_aws_xml_get(p, len, names, vals) == 0) {
		if (vals[0] != NULL)
			snprintf(code, sizeof(code), "%s", trim(vals[0]));
		if (vals[1] != NULL)
			snprintf(msg, sizeof(msg), "%s", trim(vals[1]));
		free(vals[0]);
		free(vals[1]);
	}
	if (*code != '\0' && *msg != '\0')
		lb_err_set(err, kind, status, "%s: %s (HTTP %ld)", code, msg,
		    status);
	else if (*code != '\0' || *msg != '\0')
		lb_err_set(err, kind, status, "%s (HTTP %ld)",
		    *code ? code : msg, status);
	else
		lb_err_set(err, kind, status, "HTTP %ld", status);
	if (err != NULL)
		snprintf(err->code, sizeof(err->code), "%s", code);
}
