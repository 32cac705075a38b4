/*
 * secrets.c: AWS Secrets Manager GetSecretValue.  Nothing of a secret
 * value ever goes into an error message.
 */
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *
lb_secrets_b64decode(const char *s, size_t *len)
{
	size_t n = strlen(s), i, k = 0;
	unsigned char *out;
	unsigned int acc = 0;
	int bits = 0, v;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (strlen(s) - n > 2 || n % 4 == 1)
		return NULL;
	out = lb_xmalloc(n * 3 / 4 + 1);
	for (i = 0; i < n; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[k] = '\0';
	if (len != NULL)
		*len = k;
	return out;
}

/* Well-formed UTF-8 without NUL? */
static int
utf8text(const unsigned char *p, size_t n)
{
	size_t i = 0, k, need;
	unsigned int cp;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			need = 1, cp = p[i] & 0x1f;
		else if ((p[i] & 0xf0) == 0xe0)
			need = 2, cp = p[i] & 0x0f;
		else if ((p[i] & 0xf8) == 0xf0)
			need = 3, cp = p[i] & 0x07;
		else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A secret string as a value: JSON objects and arrays parsed. */
static cJSON *
value(const char *s, size_t n)
{
	const char *end = NULL;
	cJSON *j;
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
		if (j != NULL) {
			while (end < s + n && (*end == ' ' || *end == '\t' ||
			    *end == '\n' || *end == '\r'))
				end++;
			if (end == s + n)
				return j;
			cJSON_Delete(j);
		}
	}
	return cJSON_CreateString(s);
}

int
lb_secrets_get(struct lb_aws *aws, const char *id, cJSON **out,
    struct lb_err *err)
{
	cJSON *body, *ans;
	const char *s;
	unsigned char *bin;
	size_t n;
	int rc = -1;

	*out = NULL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "SecretId", id);
	ans = lb_aws_json(aws, "secretsmanager", "secretsmanager.GetSecretValue",
	    "application/x-amz-json-1.1", body, err);
	cJSON_Delete(body);
	if (ans == NULL)
		return -1;
	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ans,
	    "SecretString"))) != NULL) {
		*out = value(s, strlen(s));
		rc = 0;
	} else if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    ans, "SecretBinary"))) != NULL) {
		if ((bin = lb_secrets_b64decode(s, &n)) == NULL) {
			lb_err_set(err, LB_EFAIL, 0,
			    "SecretBinary is not base64");
			goto out;
		}
		if (utf8text(bin, n))
			*out = value((char *)bin, n);
		else {
			*out = cJSON_CreateObject();
			cJSON_AddStringToObject(*out, "$base64", s);
		}
		free(bin);
		rc = 0;
	} else
		lb_err_set(err, LB_EFAIL, 0,
		    "the answer has neither SecretString nor SecretBinary");
out:
	cJSON_Delete(ans);
	return rc;
}
