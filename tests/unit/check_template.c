/* check_template.c: Step Functions parameter templates. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "template.h"

static cJSON *doc;

static void
setup(void)
{
	doc = cJSON_Parse("{\"submission\":{\"name\":\"w-1\",\"id\":42,"
	    "\"team\":\"$(rm -rf /); `x` 'q' \\\"d\\\"\",\"ok\":true,"
	    "\"none\":null,\"pi\":3.5,\"list\":[\"a\",\"b\"],\"obj\":{}},"
	    "\"a.b\":{\"c\":\"dotted\"},\"n\":7}");
}

static void
teardown(void)
{
	cJSON_Delete(doc);
}

/* Evaluate expr on doc: the string, the compact JSON of a non-string, or
 * "ERR:" + the message. */
static char *
ev(const char *expr)
{
	static char buf[2048];
	struct lb_err err;
	cJSON *v;
	char *s;

	memset(&err, 0, sizeof(err));
	if ((v = lb_template_expr(expr, doc, &err)) == NULL) {
		snprintf(buf, sizeof(buf), "ERR:%s", err.msg);
		return buf;
	}
	if (cJSON_IsString(v))
		snprintf(buf, sizeof(buf), "%s", v->valuestring);
	else {
		s = cJSON_PrintUnformatted(v);
		snprintf(buf, sizeof(buf), "%s", s);
		free(s);
	}
	cJSON_Delete(v);
	return buf;
}

START_TEST(jsonpath_values)
{
	ck_assert_str_eq(ev("$.submission.name"), "w-1");
	ck_assert_str_eq(ev("$.submission.id"), "42");
	ck_assert_str_eq(ev("$.submission.list"), "[\"a\",\"b\"]");
	ck_assert_str_eq(ev("$.submission.list[1]"), "b");
	ck_assert_str_eq(ev("$['a.b'].c"), "dotted");
	ck_assert_str_eq(ev("$.submission.team"),
	    "$(rm -rf /); `x` 'q' \"d\"");
	ck_assert_str_eq(ev("$.submission.ok"), "true");
	ck_assert_str_eq(ev("$.submission.none"), "null");
}
END_TEST

START_TEST(jsonpath_errors)
{
	ck_assert_ptr_nonnull(strstr(ev("$.submission.nope"), "ERR:"));
	ck_assert_ptr_nonnull(strstr(ev("$.submission.list[9]"), "ERR:"));
	ck_assert_ptr_nonnull(strstr(ev("$$.Execution.Id"),
	    "context paths"));
	ck_assert_ptr_nonnull(strstr(ev("submission.name"), "must be a "
	    "JSONPath"));
	ck_assert_ptr_nonnull(strstr(ev("States.JsonToString($.n)"),
	    "only States.Format"));
}
END_TEST

START_TEST(format_basic)
{
	ck_assert_str_eq(ev("States.Format('{}-{}', $.submission.name, "
	    "$.n)"), "w-1-7");
	ck_assert_str_eq(ev("States.Format('no placeholders')"),
	    "no placeholders");
	ck_assert_str_eq(ev("States.Format( '{} {} {} {}' , 'lit', 12, "
	    "$.submission.pi,$.submission.ok )"), "lit 12 3.5 true");
	ck_assert_str_eq(ev("States.Format('{}', $.submission.none)"),
	    "null");
	ck_assert_str_eq(ev("States.Format('{}', $['a.b'].c)"), "dotted");
	ck_assert_str_eq(ev("States.Format('{}', $.submission.team)"),
	    "$(rm -rf /); `x` 'q' \"d\"");
}
END_TEST

START_TEST(format_escapes)
{
	ck_assert_str_eq(ev("States.Format('\\{\\} {} \\'q\\' \\\\', $.n)"),
	    "{} 7 'q' \\");
	ck_assert_str_eq(ev("States.Format('{}', 'a\\'b\\{c\\}')"),
	    "a'b{c}");
	ck_assert_ptr_nonnull(strstr(ev("States.Format('\\n', $.n)"),
	    "may be escaped"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{ }', $.n)"),
	    "written \\{"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('}', $.n)"),
	    "written \\}"));
}
END_TEST

START_TEST(format_errors)
{
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{} {}', $.n)"),
	    "2 placeholders but 1 argument"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}', $.n, $.n)"),
	    "1 placeholder but 2 arguments"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}'"),
	    "expected , or )"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('abc"),
	    "unterminated"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format($.n)"),
	    "quoted string"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}', $.submission."
	    "obj)"), "object or array"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}', $.nope)"),
	    "ERR:"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}', "
	    "States.Format('x'))"), "nested"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('x') trailing"),
	    "after the closing"));
	ck_assert_ptr_nonnull(strstr(ev("States.Format('{}', bare)"),
	    "an argument must be"));
	/* \001 marks placeholders inside; a literal one would add one */
	ck_assert_ptr_nonnull(strstr(ev("States.Format('\001{}', 'a')"),
	    "control character"));
}
END_TEST

static const char tmpl[] =
"apiVersion: batch/v1\n"
"kind: Job\n"
"metadata:\n"
"  name.$: $.submission.name\n"
"  labels:\n"
"    literal: \"$.submission.name\"\n"
"spec:\n"
"  backoffLimit.$: $.n\n"
"  template:\n"
"    spec:\n"
"      nodeSelector:\n"
"        node.kubernetes.io/instance-type.$: $['a.b'].c\n"
"      containers:\n"
"        - name: a\n"
"          env:\n"
"            - name: T\n"
"              value.$: $.submission.team\n"
"            - name: F\n"
"              value.$: States.Format('x{}', $.n)\n";

START_TEST(render_template)
{
	struct lb_template *t;
	struct lb_err err;
	cJSON *j;

	t = lb_template_parse(tmpl, sizeof(tmpl) - 1, "t.yaml", &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	j = lb_template_render(t, doc, &err);
	ck_assert_msg(j != NULL, "%s", err.msg);
	ck_assert_str_eq(lb_json_str(j, "metadata.name"), "w-1");
	ck_assert_str_eq(lb_json_str(j, "metadata.labels.literal"),
	    "$.submission.name");
	ck_assert_int_eq((int)lb_json_path(j, "spec.backoffLimit")->valuedouble,
	    7);
	ck_assert_str_eq(cJSON_GetObjectItem(lb_json_path(j,
	    "spec.template.spec.nodeSelector"),
	    "node.kubernetes.io/instance-type")->valuestring, "dotted");
	ck_assert_str_eq(cJSON_GetArrayItem(lb_json_path(cJSON_GetArrayItem(
	    lb_json_path(j, "spec.template.spec.containers"), 0), "env"),
	    1)->child->next->valuestring, "x7");
	ck_assert_ptr_null(cJSON_GetObjectItem(lb_json_path(j, "metadata"),
	    "name.$"));
	cJSON_Delete(j);
	lb_template_free(t);
}
END_TEST

START_TEST(render_errors_have_lines)
{
	struct lb_template *t;
	struct lb_err err;
	cJSON *j, *d2;

	t = lb_template_parse(tmpl, sizeof(tmpl) - 1, "t.yaml", &err);
	ck_assert_ptr_nonnull(t);
	d2 = cJSON_Parse("{\"submission\":{\"name\":\"x\",\"team\":\"t\"},"
	    "\"a.b\":{\"c\":\"d\"}}");
	j = lb_template_render(t, d2, &err);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(err.kind, LB_EFAIL);
	ck_assert_msg(strncmp(err.msg, "t.yaml:8: backoffLimit.$: ", 26) == 0,
	    "%s", err.msg);
	cJSON_Delete(d2);
	lb_template_free(t);
}
END_TEST

START_TEST(load_errors)
{
	static const char *bad[][2] = {
		{ "a:\n  b.$: 3\n", "t.yaml:2: b.$: the value of a .$ key" },
		{ "a:\n  b.$: x\n", "t.yaml:2: b.$: \"x\": a .$ value" },
		{ "a: 1\nb:\n  - c.$: \"States.Format('{}')\"\n",
		    "t.yaml:3: c.$: States.Format('{}'): 1 placeholder" },
		{ "x: 1\nx.$: $.n\n", "t.yaml:2: x.$: the key is given twice" },
		{ ".$: $.n\n", "t.yaml:1: \".$\": empty key" },
		{ "- a\n", "t.yaml: the template must be a mapping" },
		{ "a: [\n", "t.yaml:" },
		{ "", "t.yaml: empty template" },
	};
	struct lb_template *t;
	struct lb_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		t = lb_template_parse(bad[i][0], strlen(bad[i][0]), "t.yaml",
		    &err);
		ck_assert_msg(t == NULL, "case %zu parsed", i);
		ck_assert_int_eq(err.kind, LB_EUSAGE);
		ck_assert_msg(strncmp(err.msg, bad[i][1],
		    strlen(bad[i][1])) == 0, "case %zu: %s", i, err.msg);
	}
}
END_TEST

START_TEST(from_json)
{
	struct lb_template *t;
	struct lb_err err;
	cJSON *src, *j;

	src = cJSON_Parse("{\"kind\":\"Job\",\"metadata\":{\"name.$\":"
	    "\"$.submission.name\"}}");
	t = lb_template_from_json(src, "data.tmpl", &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	j = lb_template_render(t, doc, &err);
	ck_assert_str_eq(lb_json_str(j, "metadata.name"), "w-1");
	cJSON_Delete(j);
	lb_template_free(t);
	cJSON_Delete(src);
	src = cJSON_Parse("{\"a.$\":\"$.nope\"}");
	t = lb_template_from_json(src, "data.tmpl", &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(lb_template_render(t, doc, &err));
	ck_assert_msg(strncmp(err.msg, "data.tmpl: a.$: ", 16) == 0, "%s",
	    err.msg);
	lb_template_free(t);
	cJSON_Delete(src);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, jsonpath_values);
	tcase_add_test(tc, jsonpath_errors);
	tcase_add_test(tc, format_basic);
	tcase_add_test(tc, format_escapes);
	tcase_add_test(tc, format_errors);
	tcase_add_test(tc, render_template);
	tcase_add_test(tc, render_errors_have_lines);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, from_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
