/*
 * template.c: Step Functions parameter templates: keys ending in ".$"
 * take a JSONPath value or States.Format(...) of the input record.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "template.h"

struct lb_template {
	struct lb_yaml	*yaml;		/* NULL when made from JSON */
	cJSON		*json;		/* owned copy when made from JSON */
	const cJSON	*root;
	char		*name;
};

#define FMT	"States.Format("

static const char *
skipws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * A quoted intrinsic-function string at p (p at the opening quote).
 * Escapes \' \{ \} \\ give the character; an unescaped { must be
 * followed by } (a placeholder, kept as \001 in the output) when
 * fmt is set.  Returns the position after the closing quote.
 */
static const char *
literal(const char *p, int fmt, struct lb_buf *out, int *nph,
    const char *expr, struct lb_err *err)
{
	p++;
	for (;;) {
		switch (*p) {
		case '\0':
			lb_err_set(err, LB_EUSAGE, 0, "%s: unterminated "
			    "string", expr);
			return NULL;
		case '\'':
			return p + 1;
		case '\\':
			if (p[1] != '\'' && p[1] != '{' && p[1] != '}' &&
			    p[1] != '\\') {
				lb_err_set(err, LB_EUSAGE, 0, "%s: only \\' "
				    "\\{ \\} and \\\\ may be escaped", expr);
				return NULL;
			}
			lb_buf_add(out, p + 1, 1);
			p += 2;
			break;
		case '{':
			if (fmt && p[1] == '}') {
				lb_buf_add(out, "\001", 1);
				(*nph)++;
				p += 2;
				break;
			}
			lb_err_set(err, LB_EUSAGE, 0, "%s: a literal { must "
			    "be written \\{", expr);
			return NULL;
		case '}':
			lb_err_set(err, LB_EUSAGE, 0, "%s: a literal } must "
			    "be written \\}", expr);
			return NULL;
		case '\001':
			/* The placeholder mark: refused so it stays unique. */
			lb_err_set(err, LB_EUSAGE, 0, "%s: control character "
			    "\\001 in a string", expr);
			return NULL;
		default:
			lb_buf_add(out, p, 1);
			p++;
		}
	}
}

/* The end of a JSONPath argument: a top-level ',' or ')'. */
static const char *
path_end(const char *p)
{
	int depth = 0;
	char q;

	for (; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if ((*p == '\'' || *p == '"') && depth > 0) {
			for (q = *p++; *p != '\0' && *p != q; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				return p;
		} else if (depth <= 0 && (*p == ',' || *p == ')' ||
		    *p == ' '))
			return p;
	}
	return p;
}

/* A value as Format text; -1 for objects and arrays. */
static int
format_value(const cJSON *v, struct lb_buf *out)
{
	char nb[64];

	if (cJSON_IsString(v))
		lb_buf_puts(out, v->valuestring);
	else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			snprintf(nb, sizeof(nb), "%.0f", d);
		else
			snprintf(nb, sizeof(nb), "%.17g", d);
		lb_buf_puts(out, nb);
	} else if (cJSON_IsTrue(v))
		lb_buf_puts(out, "true");
	else if (cJSON_IsFalse(v))
		lb_buf_puts(out, "false");
	else if (cJSON_IsNull(v))
		lb_buf_puts(out, "null");
	else
		return -1;
	return 0;
}

static cJSON *
format(const char *expr, const cJSON *doc, struct lb_err *err)
{
	struct lb_buf tmpl = { 0 }, res = { 0 }, arg = { 0 };
	struct lb_buf *args = NULL;
	const char *p = expr + strlen(FMT), *e, *t;
	cJSON *out = NULL;
	int nph = 0, nargs = 0, i, dummy;

	lb_buf_add(&tmpl, "", 0);
	p = skipws(p);
	if (*p != '\'') {
		lb_err_set(err, LB_EUSAGE, 0, "%s: the first argument must "
		    "be a quoted string", expr);
		goto out;
	}
	if ((p = literal(p, 1, &tmpl, &nph, expr, err)) == NULL)
		goto out;
	for (;;) {
		p = skipws(p);
		if (*p == ')')
			break;
		if (*p != ',') {
			lb_err_set(err, LB_EUSAGE, 0, "%s: expected , or ) "
			    "after an argument", expr);
			goto out;
		}
		p = skipws(p + 1);
		memset(&arg, 0, sizeof(arg));
		lb_buf_add(&arg, "", 0);
		if (*p == '\'') {
			if ((p = literal(p, 0, &arg, &dummy, expr,
			    err)) == NULL)
				goto bad;
		} else if (*p == '$') {
			const cJSON *v;
			char *path;
			int bad;

			if (p[1] == '$') {
				lb_err_set(err, LB_EUSAGE, 0, "%s: context "
				    "paths ($$) are not supported", expr);
				goto bad;
			}
			e = path_end(p);
			path = strndup(p, (size_t)(e - p));
			if (doc == NULL)
				bad = lb_jsonpath_check(path, err) == -1;
			else if ((v = lb_jsonpath_get(doc, path, err)) == NULL)
				bad = 1;
			else if ((bad = format_value(v, &arg) == -1))
				lb_err_set(err, LB_EFAIL, 0, "%s: %s is an "
				    "object or array, not a value", expr, path);
			free(path);
			if (bad)
				goto bad;
			p = e;
		} else if (*p == '-' || isdigit((unsigned char)*p)) {
			t = p;
			if (*p == '-')
				p++;
			while (isdigit((unsigned char)*p) || *p == '.')
				p++;
			if (p == t || (p == t + 1 && *t == '-')) {
				lb_err_set(err, LB_EUSAGE, 0, "%s: bad number",
				    expr);
				goto bad;
			}
			lb_buf_add(&arg, t, (size_t)(p - t));
		} else if (strncmp(p, "States.", 7) == 0) {
			lb_err_set(err, LB_EUSAGE, 0, "%s: nested intrinsic "
			    "functions are not supported", expr);
			goto bad;
		} else {
			lb_err_set(err, LB_EUSAGE, 0, "%s: an argument must "
			    "be a quoted string, a number or a JSONPath",
			    expr);
			goto bad;
		}
		args = lb_xrealloc(args, sizeof(*args) * (size_t)(nargs + 1));
		args[nargs++] = arg;
		continue;
bad:
		lb_buf_free(&arg);
		goto out;
	}
	if (*skipws(p + 1) != '\0') {
		lb_err_set(err, LB_EUSAGE, 0, "%s: text after the closing )",
		    expr);
		goto out;
	}
	if (nph != nargs) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: %d placeholder%s but %d "
		    "argument%s", expr, nph, nph == 1 ? "" : "s", nargs,
		    nargs == 1 ? "" : "s");
		goto out;
	}
	lb_buf_add(&res, "", 0);
	for (i = 0, t = tmpl.p; *t != '\0'; t++) {
		if (*t == '\001')
			lb_buf_puts(&res, args[i++].p);
		else
			lb_buf_add(&res, t, 1);
	}
	out = doc == NULL ? cJSON_CreateNull() : cJSON_CreateString(res.p);
out:
	for (i = 0; i < nargs; i++)
		lb_buf_free(&args[i]);
	free(args);
	lb_buf_free(&tmpl);
	lb_buf_free(&res);
	return out;
}

cJSON *
lb_template_expr(const char *expr, const cJSON *doc, struct lb_err *err)
{
	const cJSON *v;

	lb_err_clear(err);
	if (strncmp(expr, "$$", 2) == 0) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: context paths ($$) are not "
		    "supported", expr);
		return NULL;
	}
	if (expr[0] == '$') {
		if (doc == NULL)
			return lb_jsonpath_check(expr, err) == -1 ? NULL :
			    cJSON_CreateNull();
		if ((v = lb_jsonpath_get(doc, expr, err)) == NULL)
			return NULL;
		return cJSON_Duplicate(v, 1);
	}
	if (strncmp(expr, FMT, strlen(FMT)) == 0)
		return format(expr, doc, err);
	if (strncmp(expr, "States.", 7) == 0)
		lb_err_set(err, LB_EUSAGE, 0, "%s: only States.Format is "
		    "supported", expr);
	else
		lb_err_set(err, LB_EUSAGE, 0, "\"%s\": a .$ value must be a "
		    "JSONPath ($...) or States.Format(...)", expr);
	return NULL;
}

static int
line_of(const struct lb_template *t, const cJSON *n)
{
	return t->yaml != NULL ? lb_yaml_line(t->yaml, n) : 0;
}

static void
where(const struct lb_template *t, const cJSON *n, struct lb_err *err)
{
	int line = line_of(t, n);

	if (line > 0)
		lb_err_prefix(err, "%s:%d", t->name, line);
	else
		lb_err_prefix(err, "%s", t->name);
}

/* Render (doc != NULL) or check (doc == NULL) node n. */
static cJSON *
render(const struct lb_template *t, const cJSON *n, const cJSON *doc,
    int depth, struct lb_err *err)
{
	const cJSON *it;
	cJSON *out, *v;
	size_t kl;
	char *key;

	if (depth > 200) {
		lb_err_set(err, LB_EUSAGE, 0, "nested too deeply");
		where(t, n, err);
		return NULL;
	}
	if (cJSON_IsArray(n)) {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(it, n) {
			if ((v = render(t, it, doc, depth + 1, err)) == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToArray(out, v);
		}
		return out;
	}
	if (!cJSON_IsObject(n))
		return cJSON_Duplicate(n, 1);
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(it, n) {
		kl = strlen(it->string);
		if (kl < 2 || strcmp(it->string + kl - 2, ".$") != 0) {
			if (cJSON_GetObjectItemCaseSensitive(out,
			    it->string) != NULL)
				goto twice;
			if ((v = render(t, it, doc, depth + 1, err)) == NULL)
				goto fail0;
			cJSON_AddItemToObject(out, it->string, v);
			continue;
		}
		key = strndup(it->string, kl - 2);
		if (key[0] == '\0') {
			free(key);
			lb_err_set(err, LB_EUSAGE, 0, "\".$\": empty key");
			where(t, it, err);
			goto fail0;
		}
		if (cJSON_GetObjectItemCaseSensitive(n, key) != NULL ||
		    cJSON_GetObjectItemCaseSensitive(out, key) != NULL) {
			free(key);
			goto twice;
		}
		if (!cJSON_IsString(it)) {
			lb_err_set(err, LB_EUSAGE, 0, "%s: the value of a .$ "
			    "key must be a string", it->string);
			free(key);
			where(t, it, err);
			goto fail0;
		}
		if ((v = lb_template_expr(it->valuestring, doc,
		    err)) == NULL) {
			lb_err_prefix(err, "%s", it->string);
			free(key);
			where(t, it, err);
			goto fail0;
		}
		cJSON_AddItemToObject(out, key, v);
		free(key);
	}
	return out;
twice:
	lb_err_set(err, LB_EUSAGE, 0, "%s: the key is given twice (with and "
	    "without .$)", it->string);
	where(t, it, err);
	goto fail0;
fail0:
	cJSON_Delete(out);
	return NULL;
}

static struct lb_template *
finish(struct lb_template *t, struct lb_err *err)
{
	cJSON *chk;

	if (!cJSON_IsObject(t->root)) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: the template must be a "
		    "mapping", t->name);
		lb_template_free(t);
		return NULL;
	}
	if ((chk = render(t, t->root, NULL, 0, err)) == NULL) {
		err->kind = LB_EUSAGE;
		lb_template_free(t);
		return NULL;
	}
	cJSON_Delete(chk);
	return t;
}

struct lb_template *
lb_template_parse(const char *text, size_t len, const char *name,
    struct lb_err *err)
{
	struct lb_template *t;

	t = lb_xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->name = lb_xstrdup(name);
	if ((t->yaml = lb_yaml_parse(text, len, name, err)) == NULL) {
		lb_template_free(t);
		return NULL;
	}
	if (lb_yaml_ndocs(t->yaml) < 1) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: empty template", name);
		lb_template_free(t);
		return NULL;
	}
	t->root = lb_yaml_doc(t->yaml, 0);
	return finish(t, err);
}

struct lb_template *
lb_template_load(const char *path, struct lb_err *err)
{
	struct lb_template *t;
	size_t len;
	char *text;

	if ((text = lb_util_readfile(path, &len, err)) == NULL) {
		err->kind = LB_EUSAGE;
		return NULL;
	}
	t = lb_template_parse(text, len, path, err);
	free(text);
	return t;
}

struct lb_template *
lb_template_from_json(const cJSON *j, const char *name, struct lb_err *err)
{
	struct lb_template *t;

	t = lb_xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->name = lb_xstrdup(name);
	t->json = cJSON_Duplicate(j, 1);
	t->root = t->json;
	return finish(t, err);
}

const char *
lb_template_name(const struct lb_template *t)
{
	return t->name;
}

cJSON *
lb_template_render(const struct lb_template *t, const cJSON *doc,
    struct lb_err *err)
{
	cJSON *out;

	lb_err_clear(err);
	if ((out = render(t, t->root, doc, 0, err)) == NULL &&
	    err->kind == LB_EUSAGE && doc != NULL)
		err->kind = LB_EFAIL;	/* syntax was checked at load */
	return out;
}

void
lb_template_free(struct lb_template *t)
{
	if (t == NULL)
		return;
	lb_yaml_free(t->yaml);
	cJSON_Delete(t->json);
	free(t->name);
	free(t);
}
