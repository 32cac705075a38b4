/*
 * lb-sigv4-probe: sign request specs read as JSON lines and print what
 * the signer computed, one JSON line each.  Test-only.
 *
 * In:  {"method":"GET","url":"https://h/p?q","headers":["A: b"],
 *       "body":"text" or "body_hex":"00ff", "region":"us-east-1",
 *       "service":"sqs", "s3":false, "time":1440938160,
 *       "akid":"AK", "secret":"SK", "token":null,
 *       "payload_hash":null, "presign":0 (or the expiry in seconds)}
 * Out: {"canonical":..., "to_sign":..., "signature":...,
 *       "authorization":..., "url":..., "headers":[added lines]}
 * A spec that cannot be signed gives {"error":"why"}.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

static const char *
str(const cJSON *j, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static unsigned char *
unhex(const char *s, size_t *lenp)
{
	size_t n = strlen(s) / 2, i;
	unsigned char *p = lb_xmalloc(n + 1);
	unsigned int v;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			errx(2, "bad body_hex");
		p[i] = (unsigned char)v;
	}
	*lenp = n;
	return p;
}

static cJSON *
probe(const cJSON *spec)
{
	struct lb_creds creds = { 0 };
	struct lb_sigv4 cfg = { 0 };
	struct lb_sigv4_out out = { 0 };
	struct lb_err err = { 0 };
	struct curl_slist *list = NULL, *l;
	const cJSON *h, *m;
	const char **hdrs = NULL, *body = NULL;
	unsigned char *bin = NULL;
	size_t nh = 0, bodylen = 0;
	char *url = NULL;
	cJSON *res = cJSON_CreateObject(), *added;
	int rc, presign = 0;

	creds.akid = (char *)str(spec, "akid");
	creds.secret = (char *)str(spec, "secret");
	creds.token = (char *)str(spec, "token");
	cfg.creds = &creds;
	cfg.region = str(spec, "region");
	cfg.service = str(spec, "service");
	cfg.s3 = cJSON_IsTrue(cJSON_GetObjectItem(spec, "s3"));
	cfg.payload_hash = str(spec, "payload_hash");
	if (cJSON_IsNumber(m = cJSON_GetObjectItem(spec, "time")))
		cfg.now = (time_t)m->valuedouble;
	if (cJSON_IsNumber(m = cJSON_GetObjectItem(spec, "presign")))
		presign = m->valueint;
	hdrs = lb_xmalloc((cJSON_GetArraySize(cJSON_GetObjectItem(spec,
	    "headers")) + 1) * sizeof(*hdrs));
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(spec, "headers"))
		if (cJSON_IsString(h))
			hdrs[nh++] = h->valuestring;
	hdrs[nh] = NULL;
	if ((body = str(spec, "body")) != NULL)
		bodylen = strlen(body);
	else if (str(spec, "body_hex") != NULL) {
		bin = unhex(str(spec, "body_hex"), &bodylen);
		body = (const char *)bin;
	}

	if (presign > 0) {
		url = lb_sigv4_presign(&cfg, str(spec, "method"),
		    str(spec, "url"), hdrs, presign, &out, &err);
		rc = url == NULL ? -1 : 0;
	} else
		rc = lb_sigv4_sign(&cfg, str(spec, "method"), str(spec, "url"),
		    hdrs, body, bodylen, &list, &out, &err);
	if (rc == -1) {
		cJSON_AddStringToObject(res, "error", err.msg);
		goto out;
	}
	cJSON_AddStringToObject(res, "canonical", out.canonical);
	cJSON_AddStringToObject(res, "to_sign", out.to_sign);
	cJSON_AddStringToObject(res, "signature", out.signature);
	if (out.authorization != NULL)
		cJSON_AddStringToObject(res, "authorization",
		    out.authorization);
	if (url != NULL)
		cJSON_AddStringToObject(res, "url", url);
	added = cJSON_AddArrayToObject(res, "headers");
	for (l = list; l != NULL; l = l->next)
		cJSON_AddItemToArray(added, cJSON_CreateString(l->data));
out:
	lb_sigv4_out_free(&out);
	curl_slist_free_all(list);
	free(url);
	free(hdrs);
	free(bin);
	return res;
}

int
main(int argc, char *argv[])
{
	char *line = NULL, *s;
	size_t cap = 0;
	ssize_t n;
	cJSON *spec, *res;

	if (argc != 1) {
		fprintf(stderr, "usage: lb-sigv4-probe <specs.jsonl\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n <= 1)
			continue;
		spec = cJSON_ParseWithLengthOpts(line, (size_t)n, NULL, 0);
		if (spec == NULL)
			errx(2, "bad JSON line");
		res = probe(spec);
		s = cJSON_PrintUnformatted(res);
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		cJSON_Delete(res);
		cJSON_Delete(spec);
	}
	free(line);
	return 0;
}
