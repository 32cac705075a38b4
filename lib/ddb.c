/*
 * ddb.c: DynamoDB: plain JSON <-> AttributeValue (see ddb.h for the
 * mapping), expression placeholders and calls.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

int
lb_ddb_number(double d, char *buf, size_t len)
{
	char tmp[64], digits[32], *e, *p;
	int prec, exp10, n, pos, neg, i;
	size_t need, k = 0;

	if (!isfinite(d))
		return -1;
	if (d == 0) {
		if (len < 2)
			return -1;
		strcpy(buf, "0");
		return 0;
	}
	/* the shortest digits that read back as the same double */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	neg = tmp[0] == '-';
	n = 0;
	for (p = tmp + neg; *p != 'e' && *p != '\0'; p++)
		if (isdigit((unsigned char)*p) && n < (int)sizeof(digits) - 1)
			digits[n++] = *p;
	digits[n] = '\0';
	if (*p != 'e')
		return -1;
	exp10 = (int)strtol(p + 1, &e, 10);
	while (n > 1 && digits[n - 1] == '0')
		digits[--n] = '\0';
	pos = exp10 + 1;	/* digits before the decimal point */
	need = (size_t)neg + (size_t)n + 3 +
	    (size_t)(pos < 0 ? -pos : pos);
	if (need > len)
		return -1;
	if (neg)
		buf[k++] = '-';
	if (pos <= 0) {
		buf[k++] = '0';
		buf[k++] = '.';
		for (i = 0; i < -pos; i++)
			buf[k++] = '0';
		for (i = 0; i < n; i++)
			buf[k++] = digits[i];
	} else if (pos >= n) {
		for (i = 0; i < n; i++)
			buf[k++] = digits[i];
		for (i = n; i < pos; i++)
			buf[k++] = '0';
	} else {
		for (i = 0; i < n; i++) {
			if (i == pos)
				buf[k++] = '.';
			buf[k++] = digits[i];
		}
	}
	buf[k] = '\0';
	return 0;
}

int
lb_ddb_isnumber(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

struct scan {
	const char	*p, *end;
};

static void
skipws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
skipstr(struct scan *s)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\')
			s->p++;
		else if (*s->p == '"') {
			s->p++;
			return 0;
		}
	}
	return -1;
}

static int
keep(cJSON *j, struct scan *s)
{
	const char *start;
	cJSON *c;
	int sig = 0, lead = 1;
	char *txt;

	skipws(s);
	if (s->p >= s->end)
		return -1;
	if (cJSON_IsString(j))
		return skipstr(s);
	if (cJSON_IsNumber(j)) {
		start = s->p;
		if (*s->p == '-')
			s->p++;
		for (; s->p < s->end && strchr("0123456789.eE+-", *s->p);
		    s->p++) {
			if (*s->p == 'e' || *s->p == 'E')
				lead = -1;	/* the exponent does not count */
			if (lead == -1 || !isdigit((unsigned char)*s->p))
				continue;
			if (*s->p != '0' || !lead)
				lead = 0, sig++;
		}
		if (sig <= 15)
			return 0;
		txt = lb_xmalloc((size_t)(s->p - start) + 1);
		memcpy(txt, start, (size_t)(s->p - start));
		txt[s->p - start] = '\0';
		if (!lb_ddb_isnumber(txt)) {
			free(txt);
			return -1;
		}
		j->type = cJSON_Raw;
		j->valuestring = txt;
		return 0;
	}
	if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
		s->p++;		/* { or [ */
		cJSON_ArrayForEach(c, j) {
			skipws(s);
			if (cJSON_IsObject(j)) {
				if (skipstr(s) == -1)
					return -1;
				skipws(s);
				if (s->p >= s->end || *s->p != ':')
					return -1;
				s->p++;
			}
			if (keep(c, s) == -1)
				return -1;
			skipws(s);
			if (s->p < s->end && *s->p == ',')
				s->p++;
		}
		skipws(s);
		if (s->p >= s->end)
			return -1;
		s->p++;		/* } or ] */
		return 0;
	}
	/* true, false, null */
	while (s->p < s->end && isalpha((unsigned char)*s->p))
		s->p++;
	return 0;
}

int
lb_ddb_keep_numbers(cJSON *j, const char *text, size_t len)
{
	struct scan s = { text, text + len };

	return keep(j, &s);
}

static int
isbase64(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i < n - 2)
				return 0;
			pad++;
		} else if (pad > 0 || !(isalnum((unsigned char)s[i]) ||
		    s[i] == '+' || s[i] == '/'))
			return 0;
	}
	return 1;
}

static int
isb64obj(const cJSON *j)
{
	return cJSON_IsObject(j) && j->child != NULL &&
	    j->child->next == NULL && j->child->string != NULL &&
	    strcmp(j->child->string, LB_DDB_B64) == 0;
}

static cJSON *
wrap(const char *type, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, type, v);
	return o;
}

cJSON *
lb_ddb_to_av(const cJSON *j, struct lb_err *err)
{
	char num[700];
	cJSON *c, *out;

	if (cJSON_IsNull(j))
		return wrap("NULL", cJSON_CreateTrue());
	if (cJSON_IsBool(j))
		return wrap("BOOL", cJSON_CreateBool(cJSON_IsTrue(j)));
	if (cJSON_IsString(j))
		return wrap("S", cJSON_CreateString(j->valuestring));
	if (cJSON_IsRaw(j)) {
		/* a number kept as text by lb_ddb_from_av */
		if (!lb_ddb_isnumber(j->valuestring)) {
			lb_err_set(err, LB_EFAIL, 0, "not a number: %.40s",
			    j->valuestring);
			return NULL;
		}
		return wrap("N", cJSON_CreateString(j->valuestring));
	}
	if (cJSON_IsNumber(j)) {
		if (lb_ddb_number(j->valuedouble, num, sizeof(num)) == -1) {
			lb_err_set(err, LB_EFAIL, 0,
			    "number out of range (NaN or infinite)");
			return NULL;
		}
		return wrap("N", cJSON_CreateString(num));
	}
	if (cJSON_IsArray(j)) {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(c, j) {
			cJSON *v = lb_ddb_to_av(c, err);

			if (v == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToArray(out, v);
		}
		return wrap("L", out);
	}
	if (isb64obj(j)) {
		if (!cJSON_IsString(j->child) ||
		    !isbase64(j->child->valuestring)) {
			lb_err_set(err, LB_EFAIL, 0,
			    "\"%s\" is not a base64 string", LB_DDB_B64);
			return NULL;
		}
		return wrap("B", cJSON_CreateString(j->child->valuestring));
	}
	if (cJSON_IsObject(j)) {
		if ((out = lb_ddb_to_item(j, err)) == NULL)
			return NULL;
		return wrap("M", out);
	}
	lb_err_set(err, LB_EFAIL, 0, "value of unknown type");
	return NULL;
}

cJSON *
lb_ddb_to_item(const cJSON *obj, struct lb_err *err)
{
	cJSON *out, *c, *v;

	if (!cJSON_IsObject(obj)) {
		lb_err_set(err, LB_EFAIL, 0, "item is not an object");
		return NULL;
	}
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(c, obj) {
		if ((v = lb_ddb_to_av(c, err)) == NULL) {
			lb_err_prefix(err, "%.100s", c->string);
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToObject(out, c->string, v);
	}
	return out;
}

/* N text to a node that prints as the same text. */
static cJSON *
number(const char *s, struct lb_err *err)
{
	char num[700], *txt;
	double d;
	cJSON *j;

	if (!lb_ddb_isnumber(s)) {
		/* DynamoDB normalises; accept what strtod takes */
		char *end;

		d = strtod(s, &end);
		if (*s == '\0' || *end != '\0' ||
		    lb_ddb_number(d, num, sizeof(num)) == -1) {
			lb_err_set(err, LB_EFAIL, 0, "N is not a number: %.40s",
			    s);
			return NULL;
		}
		s = num;
	}
	j = cJSON_CreateNumber(strtod(s, NULL));
	txt = cJSON_PrintUnformatted(j);
	if (txt == NULL || strcmp(txt, s) != 0) {
		cJSON_Delete(j);
		j = cJSON_CreateRaw(s);
	}
	cJSON_free(txt);
	return j;
}

static cJSON *
set(const cJSON *arr, const char *type, struct lb_err *err)
{
	cJSON *out, *c, *v;

	if (!cJSON_IsArray(arr)) {
		lb_err_set(err, LB_EFAIL, 0, "%s is not an array", type);
		return NULL;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c)) {
			lb_err_set(err, LB_EFAIL, 0, "%s member is not a string",
			    type);
			cJSON_Delete(out);
			return NULL;
		}
		if (type[0] == 'N')
			v = number(c->valuestring, err);
		else if (type[0] == 'B') {
			v = cJSON_CreateObject();
			cJSON_AddStringToObject(v, LB_DDB_B64, c->valuestring);
		} else
			v = cJSON_CreateString(c->valuestring);
		if (v == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, v);
	}
	return out;
}

cJSON *
lb_ddb_from_av(const cJSON *av, struct lb_err *err)
{
	const cJSON *v;
	const char *t;
	cJSON *out, *c, *x;

	if (!cJSON_IsObject(av) || (v = av->child) == NULL ||
	    v->next != NULL || (t = v->string) == NULL) {
		lb_err_set(err, LB_EFAIL, 0,
		    "not an AttributeValue (one typed member)");
		return NULL;
	}
	if (strcmp(t, "S") == 0 && cJSON_IsString(v))
		return cJSON_CreateString(v->valuestring);
	if (strcmp(t, "N") == 0 && cJSON_IsString(v))
		return number(v->valuestring, err);
	if (strcmp(t, "BOOL") == 0 && cJSON_IsBool(v))
		return cJSON_CreateBool(cJSON_IsTrue(v));
	if (strcmp(t, "NULL") == 0)
		return cJSON_CreateNull();
	if (strcmp(t, "B") == 0 && cJSON_IsString(v)) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, LB_DDB_B64, v->valuestring);
		return out;
	}
	if (strcmp(t, "M") == 0 && cJSON_IsObject(v))
		return lb_ddb_from_item(v, err);
	if (strcmp(t, "L") == 0 && cJSON_IsArray(v)) {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(c, v) {
			if ((x = lb_ddb_from_av(c, err)) == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToArray(out, x);
		}
		return out;
	}
	if (strcmp(t, "SS") == 0 || strcmp(t, "NS") == 0 ||
	    strcmp(t, "BS") == 0)
		return set(v, t, err);
	lb_err_set(err, LB_EFAIL, 0, "unknown AttributeValue type %.20s", t);
	return NULL;
}

cJSON *
lb_ddb_from_item(const cJSON *item, struct lb_err *err)
{
	cJSON *out, *c, *v;

	if (!cJSON_IsObject(item)) {
		lb_err_set(err, LB_EFAIL, 0, "item is not an object");
		return NULL;
	}
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(c, item) {
		if ((v = lb_ddb_from_av(c, err)) == NULL) {
			lb_err_prefix(err, "%.100s", c->string);
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToObject(out, c->string, v);
	}
	return out;
}

void
lb_ddb_expr_init(struct lb_ddb_expr *e)
{
	e->names = cJSON_CreateObject();
	e->values = cJSON_CreateObject();
	e->nn = e->nv = 0;
}

void
lb_ddb_expr_free(struct lb_ddb_expr *e)
{
	cJSON_Delete(e->names);
	cJSON_Delete(e->values);
	e->names = e->values = NULL;
}

const char *
lb_ddb_expr_name(struct lb_ddb_expr *e, const char *attr)
{
	static char ph[32];
	cJSON *c;

	/* the same name gets the same placeholder */
	cJSON_ArrayForEach(c, e->names)
		if (strcmp(c->valuestring, attr) == 0) {
			snprintf(ph, sizeof(ph), "%s", c->string);
			return ph;
		}
	snprintf(ph, sizeof(ph), "#n%d", e->nn++);
	cJSON_AddStringToObject(e->names, ph, attr);
	return ph;
}

const char *
lb_ddb_expr_value(struct lb_ddb_expr *e, cJSON *av)
{
	static char ph[32];

	snprintf(ph, sizeof(ph), ":v%d", e->nv++);
	cJSON_AddItemToObject(e->values, ph, av);
	return ph;
}

void
lb_ddb_expr_attach(struct lb_ddb_expr *e, cJSON *body)
{
	if (e->names->child != NULL)
		cJSON_AddItemToObject(body, "ExpressionAttributeNames",
		    cJSON_Duplicate(e->names, 1));
	if (e->values->child != NULL)
		cJSON_AddItemToObject(body, "ExpressionAttributeValues",
		    cJSON_Duplicate(e->values, 1));
}

cJSON *
lb_ddb_call(struct lb_aws *aws, const char *op, const cJSON *body,
    struct lb_err *err)
{
	char target[64];

	snprintf(target, sizeof(target), "%s%s", LB_DDB_TARGET, op);
	return lb_aws_json(aws, "dynamodb", target,
	    "application/x-amz-json-1.0", body, err);
}

int
lb_ddb_get(struct lb_aws *aws, const char *table, const cJSON *key,
    cJSON **item, struct lb_err *err)
{
	cJSON *body, *ans;
	const cJSON *it;
	int rc = -1;

	*item = NULL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "TableName", table);
	cJSON_AddItemToObject(body, "Key", cJSON_Duplicate(key, 1));
	if ((ans = lb_ddb_call(aws, "GetItem", body, err)) == NULL)
		goto out;
	it = cJSON_GetObjectItemCaseSensitive(ans, "Item");
	if (it == NULL) {
		rc = 0;
		goto out;
	}
	if ((*item = lb_ddb_from_item(it, err)) != NULL)
		rc = 1;
out:
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}
