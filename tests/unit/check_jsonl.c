/* check_jsonl.c: the JSON-lines reader and writer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

/* Read all of s; returns "o" per good record and "x" per bad one. */
static char *
shape(const char *s, size_t cap, long *lines)
{
	static char out[256];
	struct lb_jsonl *r;
	struct lb_err err;
	cJSON *j;
	FILE *fp;
	int rc, i = 0;

	fp = fmemopen((void *)s, strlen(s), "r");
	ck_assert_ptr_nonnull(fp);
	r = lb_jsonl_open(fp, "t", cap);
	while ((rc = lb_jsonl_next(r, &j, &err)) != 0 && i < 250) {
		ck_assert_int_ne(rc, -2);
		if (lines != NULL)
			lines[i] = lb_jsonl_line(r);
		out[i++] = rc == 1 ? 'o' : 'x';
		cJSON_Delete(j);
	}
	out[i] = '\0';
	lb_jsonl_close(r);
	fclose(fp);
	return out;
}

START_TEST(one_object_per_line)
{
	long l[8];

	ck_assert_str_eq(shape("{\"a\":1}\n{\"b\":2}\n", 0, l), "oo");
	ck_assert_int_eq(l[0], 1);
	ck_assert_int_eq(l[1], 2);
}
END_TEST

START_TEST(blank_lines_are_skipped)
{
	long l[8];

	ck_assert_str_eq(shape("\n\n  {\"a\":1}\n\n\t\n{\"b\":2}", 0, l), "oo");
	ck_assert_int_eq(l[0], 3);
	ck_assert_int_eq(l[1], 6);
}
END_TEST

START_TEST(missing_final_newline)
{
	ck_assert_str_eq(shape("{\"a\":1}", 0, NULL), "o");
}
END_TEST

START_TEST(concatenated_objects)
{
	ck_assert_str_eq(shape("{\"a\":1}{\"b\":\"}{\"} {\"c\":[{}]}\n", 0,
	    NULL), "ooo");
}
END_TEST

START_TEST(non_objects_are_bad_records)
{
	ck_assert_str_eq(shape("42\n\"s\"\n[1,2]\nnull\nnot json\n{\"a\":1}\n",
	    0, NULL), "xxxxxo");
}
END_TEST

START_TEST(trailing_garbage_rejects_the_line)
{
	long l[8];

	ck_assert_str_eq(shape("{\"a\":1} trailing\n{\"b\":2}\n", 0, l), "xo");
	ck_assert_int_eq(l[1], 2);
}
END_TEST

START_TEST(malformed_object_does_not_swallow_the_next)
{
	long l[8];

	ck_assert_str_eq(shape("{\"a\": 1\n{\"b\":2}\n{\"c\":3}\n", 0, l),
	    "xoo");
	ck_assert_int_eq(l[0], 1);
	ck_assert_int_eq(l[1], 2);
	ck_assert_int_eq(l[2], 3);
	ck_assert_str_eq(shape("{\"a\": tru}\n{\"b\":2}\n", 0, NULL), "xo");
}
END_TEST

START_TEST(pretty_printed_object)
{
	long l[8];

	ck_assert_str_eq(shape("{\n  \"a\": {\n    \"b\": 1\n  }\n}\n"
	    "{\"c\":2}\n", 0, l), "oo");
	ck_assert_int_eq(l[1], 6);
}
END_TEST

START_TEST(truncated_at_end)
{
	ck_assert_str_eq(shape("{\"a\":1}\n{\"b\":", 0, NULL), "ox");
}
END_TEST

START_TEST(record_cap)
{
	char *big = malloc(5000);

	memset(big, 0, 5000);
	strcpy(big, "{\"a\":\"");
	memset(big + 6, 'x', 3000);
	strcat(big, "\"}\n{\"b\":1}\n");
	ck_assert_str_eq(shape(big, 1000, NULL), "xo");
	ck_assert_str_eq(shape(big, 0, NULL), "oo");
	free(big);
}
END_TEST

START_TEST(error_names_file_and_line)
{
	const char *s = "{\"a\":1}\n\nbad\n";
	struct lb_jsonl *r;
	struct lb_err err;
	cJSON *j;
	FILE *fp = fmemopen((void *)s, strlen(s), "r");

	r = lb_jsonl_open(fp, "stdin", 0);
	ck_assert_int_eq(lb_jsonl_next(r, &j, &err), 1);
	cJSON_Delete(j);
	ck_assert_int_eq(lb_jsonl_next(r, &j, &err), -1);
	ck_assert_ptr_null(j);
	ck_assert_str_eq(err.msg, "stdin:3: not a JSON object");
	ck_assert_str_eq(lb_jsonl_raw(r, NULL), "bad");
	ck_assert_int_eq(lb_jsonl_next(r, &j, &err), 0);
	lb_jsonl_close(r);
	fclose(fp);
}
END_TEST

START_TEST(deep_nesting_is_a_bad_record)
{
	char *s = malloc(5000);
	int i;

	for (i = 0; i < 2000; i++)
		s[i] = '[';
	s[0] = '{';
	s[1] = '"';
	s[2] = 'a';
	s[3] = '"';
	s[4] = ':';
	s[i] = '\0';
	for (i = 0; i < 1995; i++)
		strcat(s + 1990, "");
	strcpy(s + 2000, "\n{\"ok\":1}\n");
	/* never closed: runs to the end, then the good record is re-read */
	ck_assert_str_eq(shape(s, 0, NULL), "xo");
	free(s);
}
END_TEST

START_TEST(writer_is_compact_with_newline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cJSON *j = cJSON_Parse("{ \"a\" : [1, 2], \"b\": \"\\u00e9\" }");

	ck_assert_int_eq(lb_jsonl_write(fp, j), 0);
	fclose(fp);
	ck_assert_str_eq(buf, "{\"a\":[1,2],\"b\":\"\xc3\xa9\"}\n");
	cJSON_Delete(j);
	free(buf);
}
END_TEST

START_TEST(err_fold_order)
{
	int st = 0;

	lb_err_fold(&st, LB_OK);
	ck_assert_int_eq(st, 0);
	lb_err_fold(&st, LB_ETEMP);
	ck_assert_int_eq(st, 75);
	lb_err_fold(&st, LB_EFAIL);
	ck_assert_int_eq(st, 1);
	lb_err_fold(&st, LB_ETEMP);
	ck_assert_int_eq(st, 1);
	lb_err_fold(&st, LB_EUSAGE);
	ck_assert_int_eq(st, 2);
	lb_err_fold(&st, LB_EFAIL);
	ck_assert_int_eq(st, 2);
}
END_TEST

START_TEST(err_prefix_keeps_message)
{
	struct lb_err err;

	lb_err_set(&err, LB_EFAIL, 404, "not %s", "found");
	lb_err_prefix(&err, "submission %d", 7);
	ck_assert_str_eq(err.msg, "submission 7: not found");
	ck_assert_int_eq(err.http, 404);
}
END_TEST

START_TEST(json_path_and_text)
{
	cJSON *j = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"x\"}},\"n\":42,"
	    "\"f\":1.5,\"big\":1e300}");
	char buf[64];

	ck_assert_str_eq(lb_json_str(j, "a.b.c"), "x");
	ck_assert_ptr_null(lb_json_str(j, "a.b"));
	ck_assert_ptr_null(lb_json_path(j, "a.z.c"));
	ck_assert_str_eq(lb_json_text(cJSON_GetObjectItem(j, "n"), buf,
	    sizeof(buf)), "42");
	ck_assert_ptr_null(lb_json_text(cJSON_GetObjectItem(j, "f"), buf,
	    sizeof(buf)));
	ck_assert_ptr_null(lb_json_text(cJSON_GetObjectItem(j, "big"), buf,
	    sizeof(buf)));
	cJSON_Delete(j);
}
END_TEST

static Suite *
jsonl_suite(void)
{
	Suite *s = suite_create("jsonl");
	TCase *tc = tcase_create("reader");

	tcase_add_test(tc, one_object_per_line);
	tcase_add_test(tc, blank_lines_are_skipped);
	tcase_add_test(tc, missing_final_newline);
	tcase_add_test(tc, concatenated_objects);
	tcase_add_test(tc, non_objects_are_bad_records);
	tcase_add_test(tc, trailing_garbage_rejects_the_line);
	tcase_add_test(tc, malformed_object_does_not_swallow_the_next);
	tcase_add_test(tc, pretty_printed_object);
	tcase_add_test(tc, truncated_at_end);
	tcase_add_test(tc, record_cap);
	tcase_add_test(tc, error_names_file_and_line);
	tcase_add_test(tc, deep_nesting_is_a_bad_record);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_add_test(tc, writer_is_compact_with_newline);
	suite_add_tcase(s, tc);
	tc = tcase_create("err");
	tcase_add_test(tc, err_fold_order);
	tcase_add_test(tc, err_prefix_keeps_message);
	tcase_add_test(tc, json_path_and_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jsonl_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
