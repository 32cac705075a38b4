/*
 * jsonpath.c: the JSONPath subset Step Functions parameters use:
 * $, .name, ['name'], ["name"] and [N].  No filters or wildcards: a
 * reference path names exactly one node.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

/*
 * Walk path; with doc NULL only the syntax is checked.  Names are
 * copied into a buffer as large as the path, so any length works.
 */
static int
walk(const cJSON *doc, const char *path, const cJSON **out,
    struct lb_err *err)
{
	const char *p = path;
	char *name;
	size_t n;
	int rc = -1;

	if (*p++ != '$')
		return lb_err_set(err, LB_EUSAGE, 0, "JSONPath %s: must "
		    "start with $", path);
	name = lb_xmalloc(strlen(path) + 1);
	while (*p != '\0') {
		int idx = -1;

		if (*p == '.') {
			p++;
			n = strcspn(p, ".[");
			if (n == 0) {
				lb_err_set(err, LB_EUSAGE, 0, "JSONPath %s: "
				    "empty name", path);
				goto out;
			}
			memcpy(name, p, n);
			name[n] = '\0';
			p += n;
		} else if (*p == '[' && (p[1] == '\'' || p[1] == '"')) {
			char q = p[1];
			size_t i = 0;

			p += 2;
			while (*p != '\0' && *p != q) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				name[i++] = *p++;
			}
			name[i] = '\0';
			if (*p != q || p[1] != ']') {
				lb_err_set(err, LB_EUSAGE, 0, "JSONPath %s: "
				    "unterminated ['name']", path);
				goto out;
			}
			p += 2;
		} else if (*p == '[' && isdigit((unsigned char)p[1])) {
			char *end;
			long v = strtol(p + 1, &end, 10);

			if (*end != ']' || v > 1000000) {
				lb_err_set(err, LB_EUSAGE, 0, "JSONPath %s: "
				    "bad index", path);
				goto out;
			}
			idx = (int)v;
			p = end + 1;
		} else {
			lb_err_set(err, LB_EUSAGE, 0, "JSONPath %s: "
			    "unexpected '%c'", path, *p);
			goto out;
		}
		if (doc == NULL)
			continue;
		if (idx >= 0) {
			if (!cJSON_IsArray(doc) ||
			    (doc = cJSON_GetArrayItem(doc, idx)) == NULL) {
				lb_err_set(err, LB_EFAIL, 0, "JSONPath %s: no "
				    "element %d", path, idx);
				goto out;
			}
		} else if (!cJSON_IsObject(doc) || (doc =
		    cJSON_GetObjectItemCaseSensitive(doc, name)) == NULL) {
			lb_err_set(err, LB_EFAIL, 0, "JSONPath %s: no member "
			    "'%s'", path, name);
			goto out;
		}
	}
	if (out != NULL)
		*out = doc;
	rc = 0;
out:
	free(name);
	return rc;
}

cJSON *
lb_jsonpath_get(const cJSON *doc, const char *path, struct lb_err *err)
{
	const cJSON *j = NULL;

	if (doc == NULL)
		return lb_err_set(err, LB_EFAIL, 0, "JSONPath %s: no "
		    "document", path), NULL;
	if (walk(doc, path, &j, err) == -1)
		return NULL;
	return (cJSON *)j;
}

int
lb_jsonpath_check(const char *path, struct lb_err *err)
{
	return walk(NULL, path, NULL, err);
}
