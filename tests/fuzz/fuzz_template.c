/*
 * fuzz_template.c: the first half of the input is a template, the rest a
 * JSON record; parse, check and render.  Also every line of the input as
 * a lone .$ expression.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *sep;
	struct lb_template *t;
	struct lb_err err;
	size_t tl = len;
	cJSON *doc = NULL, *out, *v;
	char *s;

	/* "TEMPLATE\n---json\nRECORD" */
	if ((sep = memmem(p, len, "\n---json\n", 9)) != NULL) {
		tl = (size_t)(sep - p);
		s = strndup(sep + 9, len - tl - 9);
		doc = cJSON_Parse(s);
		free(s);
	}
	if ((t = lb_template_parse(p, tl, "fuzz", &err)) != NULL) {
		if (doc != NULL && (out = lb_template_render(t, doc,
		    &err)) != NULL)
			cJSON_Delete(out);
		lb_template_free(t);
	}
	s = strndup(p, tl);
	if ((v = lb_template_expr(s, doc, &err)) != NULL)
		cJSON_Delete(v);
	if ((v = lb_template_expr(s, NULL, &err)) != NULL)
		cJSON_Delete(v);
	free(s);
	cJSON_Delete(doc);
	return 0;
}
