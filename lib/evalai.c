/*
 * evalai.c: the EvalAI REST client.  Paths, methods and error bodies
 * follow EvalAI's own code (reference/evalai.md section 3): the
 * submission GET has no trailing slash, every other route has one, the
 * partial update lives under the plural "challenges", and the queue
 * delete is a POST with the receipt handle in the body.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "evalai.h"

struct lb_evalai {
	struct lb_http	*h;
	char		*base;
	char		*auth;		/* the whole header line */
};

struct lb_evalai *
lb_evalai_new(struct lb_http *h, const char *base, const char *token,
    struct lb_err *err)
{
	struct lb_evalai *ev;
	size_t n;

	if (base == NULL || (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0)) {
		lb_err_set(err, LB_EUSAGE, 0, "EvalAI URL %s is not http(s)",
		    base ? base : "(none)");
		return NULL;
	}
	if (token == NULL || *token == '\0' ||
	    strpbrk(token, " \t\r\n") != NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "the EvalAI token is empty or "
		    "has blanks in it");
		return NULL;
	}
	ev = lb_xmalloc(sizeof(*ev));
	ev->h = h;
	ev->base = lb_xstrdup(base);
	n = strlen(ev->base);
	while (n > 0 && ev->base[n - 1] == '/')
		ev->base[--n] = '\0';
	ev->auth = lb_xasprintf("Authorization: Bearer %s", token);
	return ev;
}

void
lb_evalai_free(struct lb_evalai *ev)
{
	if (ev == NULL)
		return;
	if (ev->auth != NULL) {
		explicit_bzero(ev->auth, strlen(ev->auth));
		free(ev->auth);
	}
	free(ev->base);
	free(ev);
}

const char *
lb_evalai_base(const struct lb_evalai *ev)
{
	return ev->base;
}

int
lb_evalai_pk_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
lb_evalai_queue_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 256)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("_.-", s[i]) == NULL)
			return 0;
	return 1;
}

/* Parse exactly len bytes as one JSON value (no trailing garbage). */
static cJSON *
parse(const char *p, size_t len)
{
	char *t = strndup(p, len);
	cJSON *j;

	if (t == NULL)
		return NULL;
	j = cJSON_ParseWithLengthOpts(t, strlen(t) + 1, NULL, 1);
	free(t);
	return j;
}

/* Strip one trailing newline (and CR) from a token read from a file. */
static char *
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static char *
token_file(const char *path, struct lb_err *err)
{
	char *t;

	if ((t = lb_util_readfile(path, NULL, err)) == NULL) {
		err->kind = LB_EUSAGE;
		lb_err_prefix(err, "EvalAI token file");
		return NULL;
	}
	return chomp(t);
}

/* secretsmanager:ID#KEY: the KEY member of the secret's JSON text. */
static char *
token_secret(const char *spec, struct lb_http *h, struct lb_err *err)
{
	struct lb_aws *aws;
	cJSON *req, *ans = NULL, *sec = NULL;
	const char *hash, *str, *v;
	char *id, *tok = NULL;

	hash = strchr(spec, '#');
	id = hash ? strndup(spec, (size_t)(hash - spec)) : lb_xstrdup(spec);
	if (id == NULL || *id == '\0') {
		free(id);
		lb_err_set(err, LB_EUSAGE, 0, "secretsmanager: no secret id");
		return NULL;
	}
	if ((aws = lb_aws_new(h, err)) == NULL) {
		free(id);
		return NULL;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "SecretId", id);
	ans = lb_aws_json(aws, "secretsmanager",
	    "secretsmanager.GetSecretValue", "application/x-amz-json-1.1",
	    req, err);
	cJSON_Delete(req);
	if (ans == NULL) {
		lb_err_prefix(err, "secret %s", id);
		goto out;
	}
	if ((str = lb_json_str(ans, "SecretString")) == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "secret %s has no SecretString",
		    id);
		goto out;
	}
	if (hash == NULL) {
		tok = chomp(lb_xstrdup(str));
		goto out;
	}
	sec = parse(str, strlen(str));
	v = cJSON_IsObject(sec) ?
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sec,
	    hash + 1)) : NULL;
	if (v == NULL)
		lb_err_set(err, LB_EUSAGE, 0, "secret %s has no string member "
		    "%s", id, hash + 1);
	else
		tok = lb_xstrdup(v);
out:
	cJSON_Delete(sec);
	cJSON_Delete(ans);
	lb_aws_free(aws);
	free(id);
	return tok;
}

char *
lb_evalai_token(const char *source, struct lb_http *h, struct lb_err *err)
{
	const char *v;

	if ((v = getenv("LB_EVALAI_TOKEN")) != NULL && *v != '\0')
		return lb_xstrdup(v);
	if ((v = getenv("LB_EVALAI_TOKEN_FILE")) != NULL && *v != '\0')
		return token_file(v, err);
	if (source == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "no EvalAI token: set "
		    "LB_EVALAI_TOKEN or LB_EVALAI_TOKEN_FILE, or evalai.token "
		    "in lb.yaml");
		return NULL;
	}
	if (strncmp(source, "env:", 4) == 0) {
		if ((v = getenv(source + 4)) == NULL || *v == '\0') {
			lb_err_set(err, LB_EUSAGE, 0, "no EvalAI token: %s is "
			    "not set", source + 4);
			return NULL;
		}
		return lb_xstrdup(v);
	}
	if (strncmp(source, "file:", 5) == 0)
		return token_file(source + 5, err);
	if (strncmp(source, "secretsmanager:", 15) == 0)
		return token_secret(source + 15, h, err);
	lb_err_set(err, LB_EUSAGE, 0, "EvalAI token source must be env:NAME, "
	    "file:PATH or secretsmanager:ID#KEY");
	return NULL;
}

/* Copy at most n bytes of s into buf, printable ASCII only. */
static void
clean(char *buf, size_t size, const char *s)
{
	size_t i, j;

	for (i = j = 0; s[i] != '\0' && j + 1 < size; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) || (s[i] & 0x80) ?
		    s[i] : ' ';
	buf[j] = '\0';
}

void
lb_evalai_error(long status, const char *body, size_t len,
    struct lb_err *err)
{
	cJSON *j = NULL, *m;
	const char *txt = NULL, *code;
	char buf[600];

	if (body != NULL && len > 0)
		j = parse(body, len);
	if (cJSON_IsObject(j)) {
		if ((m = cJSON_GetObjectItemCaseSensitive(j, "error")) ||
		    (m = cJSON_GetObjectItemCaseSensitive(j, "detail"))) {
			if (cJSON_IsString(m))
				txt = m->valuestring;
			else if (m != NULL) {
				char *p = cJSON_PrintUnformatted(m);

				clean(buf, sizeof(buf), p ? p : "");
				free(p);
				txt = buf;
			}
		}
	}
	if (txt != NULL && txt != buf) {
		clean(buf, sizeof(buf), txt);
		txt = buf;
	}
	lb_err_set(err, lb_http_kind(status), status, "EvalAI answered HTTP "
	    "%ld%s%s%s", status, txt ? ": \"" : "", txt ? txt : "",
	    txt ? "\"" : "");
	if (cJSON_IsObject(j) && (code = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(j, "code"))) != NULL)
		snprintf(err->code, sizeof(err->code), "%s", code);
	cJSON_Delete(j);
}

int
lb_evalai_auth_failed(const struct lb_err *err)
{
	return err->http == 401 || err->http == 403;
}

/*
 * One call.  path is appended to the base; body (may be NULL) is sent
 * as JSON.  On a 2xx answer *out (if out) gets the parsed body.
 */
static int
call(struct lb_evalai *ev, const char *method, const char *path,
    const cJSON *body, int once, cJSON **out, struct lb_err *err)
{
	struct lb_http_req req = { 0 };
	struct lb_http_resp resp;
	const char *hdrs[4];
	char *url, *text = NULL;
	int rv = -1, n = 0;

	if (out != NULL)
		*out = NULL;
	url = lb_xasprintf("%s%s", ev->base, path);
	hdrs[n++] = ev->auth;
	hdrs[n++] = "Accept: application/json";
	if (body != NULL) {
		hdrs[n++] = "Content-Type: application/json";
		text = lb_json_print(body);
		req.body = text;
		req.bodylen = strlen(text);
	}
	hdrs[n] = NULL;
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.noretry = once;
	if (lb_http_do(ev->h, &req, &resp, err) == -1)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		lb_evalai_error(resp.status, resp.body.p, resp.body.len, err);
		lb_err_prefix(err, "%s %s", method, path);
		goto out;
	}
	if (out != NULL) {
		*out = parse(resp.body.p, resp.body.len);
		if (*out == NULL) {
			lb_err_set(err, LB_ETEMP, resp.status, "%s %s: EvalAI "
			    "answered HTTP %ld with a body that is not JSON",
			    method, path, resp.status);
			goto out;
		}
	}
	rv = 0;
out:
	lb_http_resp_free(&resp);
	free(text);
	free(url);
	return rv;
}

cJSON *
lb_evalai_submission(struct lb_evalai *ev, const char *pk, struct lb_err *err)
{
	cJSON *j;
	char *path;

	if (!lb_evalai_pk_ok(pk)) {
		lb_err_set(err, LB_EFAIL, 0, "submission pk is not a number");
		return NULL;
	}
	path = lb_xasprintf("/api/jobs/submission/%s", pk);
	if (call(ev, "GET", path, NULL, 0, &j, err) == -1)
		j = NULL;
	else if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
		lb_err_set(err, LB_ETEMP, 200, "GET %s: the answer is not an "
		    "object", path);
	}
	free(path);
	return j;
}

int
lb_evalai_update(struct lb_evalai *ev, const char *challenge,
    const cJSON *body, int partial, struct lb_err *err)
{
	char *path;
	int rv;

	if (!lb_evalai_pk_ok(challenge))
		return lb_err_set(err, LB_EFAIL, 0, "challenge pk is not a "
		    "number");
	if (partial)
		path = lb_xasprintf("/api/jobs/challenges/%s/"
		    "update_partially_evaluated_submission/", challenge);
	else
		path = lb_xasprintf("/api/jobs/challenge/%s/update_submission/",
		    challenge);
	/* a final PUT whose answer was lost may have landed: no blind retry */
	rv = call(ev, "PUT", path, body, !partial, NULL, err);
	free(path);
	return rv;
}

int
lb_evalai_running(struct lb_evalai *ev, const char *challenge,
    const char *submission, const char *status, const char *job_name,
    struct lb_err *err)
{
	cJSON *body;
	char *path;
	int rv;

	if (!lb_evalai_pk_ok(challenge) || !lb_evalai_pk_ok(submission))
		return lb_err_set(err, LB_EFAIL, 0, "challenge or submission "
		    "pk is not a number");
	body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "submission", strtod(submission, NULL));
	cJSON_AddStringToObject(body, "submission_status",
	    status ? status : "running");
	if (job_name != NULL)
		cJSON_AddStringToObject(body, "job_name", job_name);
	path = lb_xasprintf("/api/jobs/challenge/%s/update_submission/",
	    challenge);
	rv = call(ev, "PATCH", path, body, 0, NULL, err);
	free(path);
	cJSON_Delete(body);
	return rv;
}

cJSON *
lb_evalai_queue_recv(struct lb_evalai *ev, const char *queue,
    struct lb_err *err)
{
	cJSON *j;
	char *path;

	if (!lb_evalai_queue_ok(queue)) {
		lb_err_set(err, LB_EUSAGE, 0, "bad queue name");
		return NULL;
	}
	path = lb_xasprintf("/api/jobs/challenge/queues/%s/", queue);
	if (call(ev, "GET", path, NULL, 0, &j, err) == -1)
		j = NULL;
	else if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
		lb_err_set(err, LB_ETEMP, 200, "GET %s: the answer is not an "
		    "object", path);
	}
	free(path);
	return j;
}

int
lb_evalai_queue_delete(struct lb_evalai *ev, const char *queue,
    const char *handle, struct lb_err *err)
{
	cJSON *body;
	char *path;
	int rv;

	if (!lb_evalai_queue_ok(queue))
		return lb_err_set(err, LB_EUSAGE, 0, "bad queue name");
	if (handle == NULL || *handle == '\0')
		return lb_err_set(err, LB_EFAIL, 0, "empty receipt handle");
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "receipt_handle", handle);
	path = lb_xasprintf("/api/jobs/queues/%s/", queue);
	rv = call(ev, "POST", path, body, 0, NULL, err);
	free(path);
	cJSON_Delete(body);
	return rv;
}
