/* json.c: small helpers over cJSON used by every tool. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

cJSON *
lb_json_path(const cJSON *j, const char *dotted)
{
	const char *p = dotted, *dot;
	char name[256];
	size_t n;

	while (j != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(name) || !cJSON_IsObject(j))
			return NULL;
		memcpy(name, p, n);
		name[n] = '\0';
		j = cJSON_GetObjectItemCaseSensitive(j, name);
		p += n + (dot != NULL);
	}
	return (cJSON *)j;
}

const char *
lb_json_str(const cJSON *j, const char *dotted)
{
	return cJSON_GetStringValue(lb_json_path(j, dotted));
}

const char *
lb_json_text(const cJSON *j, char *buf, size_t len)
{
	double d;

	if (cJSON_IsString(j))
		return j->valuestring;
	if (!cJSON_IsNumber(j))
		return NULL;
	d = j->valuedouble;
	/* 2^53: beyond it a double no longer names one integer */
	if (d != floor(d) || fabs(d) > 9007199254740992.0)
		return NULL;
	snprintf(buf, len, "%.0f", d);
	return buf;
}

cJSON *
lb_json_parse(const char *p, size_t n)
{
	char *c;
	cJSON *j;

	if (p == NULL)
		return NULL;
	/* cJSON wants the NUL inside the length to reject trailing text */
	c = lb_xmalloc(n + 1);
	memcpy(c, p, n);
	c[n] = '\0';
	j = cJSON_ParseWithLengthOpts(c, n + 1, NULL, 1);
	free(c);
	return j;
}

long
lb_json_long(const cJSON *j, const char *dotted, long min, long max,
    long dflt)
{
	const cJSON *v = dotted == NULL ? j : lb_json_path(j, dotted);
	double d;

	if (!cJSON_IsNumber(v))
		return dflt;
	d = v->valuedouble;
	if (!(d >= (double)min && d <= (double)max))
		return dflt;
	return (long)d;
}

void
lb_json_set(cJSON *obj, const char *name, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item);
	else
		cJSON_AddItemToObject(obj, name, item);
}

void
lb_json_set_str(cJSON *obj, const char *name, const char *s)
{
	lb_json_set(obj, name, cJSON_CreateString(s));
}

char *
lb_json_print(const cJSON *j)
{
	char *s;

	if ((s = cJSON_PrintUnformatted(j)) == NULL)
		abort();
	return s;
}
