/* check_jsonpath.c: the JSONPath subset. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

static cJSON *doc;

static void
setup(void)
{
	doc = cJSON_Parse("{\"data\":{\"submission\":{\"team_name\":\"$(rm)\","
	    "\"routes\":[\"r0\",\"r1\"],\"a.b\":1,\"q'x\":2}},\"n\":7}");
}

static void
teardown(void)
{
	cJSON_Delete(doc);
}

static const char *
str(const char *path)
{
	static struct lb_err err;
	cJSON *j = lb_jsonpath_get(doc, path, &err);

	return j ? (cJSON_IsString(j) ? j->valuestring : "<node>") : err.msg;
}

START_TEST(dotted)
{
	ck_assert_str_eq(str("$.data.submission.team_name"), "$(rm)");
}
END_TEST

START_TEST(root_is_the_document)
{
	struct lb_err err;

	ck_assert_ptr_eq(lb_jsonpath_get(doc, "$", &err), doc);
}
END_TEST

START_TEST(brackets_and_index)
{
	ck_assert_str_eq(str("$['data'][\"submission\"].routes[1]"), "r1");
	ck_assert_str_eq(str("$.data.submission['a.b']"), "<node>");
	ck_assert_str_eq(str("$.data.submission['q\\'x']"), "<node>");
}
END_TEST

START_TEST(missing_is_a_failure_not_usage)
{
	struct lb_err err;

	ck_assert_ptr_null(lb_jsonpath_get(doc, "$.data.nope", &err));
	ck_assert_int_eq(err.kind, LB_EFAIL);
	ck_assert_ptr_null(lb_jsonpath_get(doc, "$.data.submission.routes[5]",
	    &err));
	ck_assert_ptr_null(lb_jsonpath_get(doc, "$.n.x", &err));
	ck_assert_ptr_null(lb_jsonpath_get(doc, "$.n[0]", &err));
}
END_TEST

START_TEST(malformed_paths)
{
	static const char *bad[] = { "", "data", "$.", "$..a", "$[", "$['a",
	    "$['a'", "$[x]", "$[1", "$.a b[", "$*", NULL };
	struct lb_err err;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(lb_jsonpath_check(bad[i], &err) == -1, "%s",
		    bad[i]);
		ck_assert_int_eq(err.kind, LB_EUSAGE);
	}
	ck_assert_int_eq(lb_jsonpath_check("$.a['b'][0].c", &err), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jsonpath");
	TCase *tc = tcase_create("get");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dotted);
	tcase_add_test(tc, root_is_the_document);
	tcase_add_test(tc, brackets_and_index);
	tcase_add_test(tc, missing_is_a_failure_not_usage);
	tcase_add_test(tc, malformed_paths);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
