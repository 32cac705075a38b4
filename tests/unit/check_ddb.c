/* check_ddb.c: plain JSON <-> DynamoDB AttributeValue, and the SQS body. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "sqs.h"
#include "secrets.h"

/* plain text -> AttributeValue text ("ERR" on failure) */
static char *
to_av(const char *plain)
{
	static char out[4096];
	struct lb_err e;
	cJSON *j, *av;
	char *s;

	j = cJSON_Parse(plain);
	ck_assert_ptr_nonnull(j);
	lb_ddb_keep_numbers(j, plain, strlen(plain));
	av = lb_ddb_to_av(j, &e);
	cJSON_Delete(j);
	if (av == NULL)
		return strcpy(out, "ERR");
	s = lb_json_print(av);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	cJSON_Delete(av);
	return out;
}

/* AttributeValue text -> plain text ("ERR" on failure) */
static char *
from_av(const char *avtext)
{
	static char out[4096];
	struct lb_err e;
	cJSON *j, *p;
	char *s;

	j = cJSON_Parse(avtext);
	ck_assert_ptr_nonnull(j);
	p = lb_ddb_from_av(j, &e);
	cJSON_Delete(j);
	if (p == NULL)
		return strcpy(out, "ERR");
	s = lb_json_print(p);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	cJSON_Delete(p);
	return out;
}

static char *
num(double d)
{
	static char buf[700];

	if (lb_ddb_number(d, buf, sizeof(buf)) == -1)
		strcpy(buf, "ERR");
	return buf;
}

START_TEST(scalars)
{
	ck_assert_str_eq(to_av("\"x\""), "{\"S\":\"x\"}");
	ck_assert_str_eq(to_av("\"\""), "{\"S\":\"\"}");
	ck_assert_str_eq(to_av("true"), "{\"BOOL\":true}");
	ck_assert_str_eq(to_av("false"), "{\"BOOL\":false}");
	ck_assert_str_eq(to_av("null"), "{\"NULL\":true}");
	ck_assert_str_eq(to_av("42"), "{\"N\":\"42\"}");
	ck_assert_str_eq(to_av("-0.5"), "{\"N\":\"-0.5\"}");
}
END_TEST

START_TEST(numbers_are_plain_decimal)
{
	ck_assert_str_eq(num(0), "0");
	ck_assert_str_eq(num(-0.0), "0");
	ck_assert_str_eq(num(1e21), "1000000000000000000000");
	ck_assert_str_eq(num(1e-7), "0.0000001");
	ck_assert_str_eq(num(0.1), "0.1");
	ck_assert_str_eq(num(123.456), "123.456");
	ck_assert_str_eq(num(-1700000000123.0), "-1700000000123");
	ck_assert_str_eq(num(9007199254740992.0), "9007199254740992");
	ck_assert_str_eq(num(0.30000000000000004), "0.30000000000000004");
	ck_assert_str_eq(num(INFINITY), "ERR");
	ck_assert_str_eq(num(NAN), "ERR");
	ck_assert_int_eq(lb_ddb_isnumber("1.5e3"), 1);
	ck_assert_int_eq(lb_ddb_isnumber("01"), 0);
	ck_assert_int_eq(lb_ddb_isnumber("1."), 0);
	ck_assert_int_eq(lb_ddb_isnumber("+1"), 0);
	ck_assert_int_eq(lb_ddb_isnumber(""), 0);
}
END_TEST

START_TEST(long_numbers_keep_their_text)
{
	/* more digits than a double holds: the text goes as is */
	ck_assert_str_eq(to_av("12345678901234567890"),
	    "{\"N\":\"12345678901234567890\"}");
	ck_assert_str_eq(to_av("[9007199254740993]"),
	    "{\"L\":[{\"N\":\"9007199254740993\"}]}");
	ck_assert_str_eq(to_av("{\"a\":\"x\",\"b\":0.12345678901234567890123}"),
	    "{\"M\":{\"a\":{\"S\":\"x\"},"
	    "\"b\":{\"N\":\"0.12345678901234567890123\"}}}");
	/* and back: printed exactly */
	ck_assert_str_eq(from_av("{\"N\":\"12345678901234567890\"}"),
	    "12345678901234567890");
	ck_assert_str_eq(from_av("{\"N\":\"99999999999999999999999999999999999999\"}"),
	    "99999999999999999999999999999999999999");
	ck_assert_str_eq(from_av("{\"N\":\"1700000000123\"}"),
	    "1700000000123");
	ck_assert_str_eq(from_av("{\"N\":\"0.1\"}"), "0.1");
	ck_assert_str_eq(from_av("{\"N\":\"-7\"}"), "-7");
}
END_TEST

START_TEST(short_numbers_stay_numbers)
{
	struct lb_err e;
	cJSON *av, *p;

	av = cJSON_Parse("{\"N\":\"42\"}");
	p = lb_ddb_from_av(av, &e);
	ck_assert(cJSON_IsNumber(p));
	ck_assert(p->valuedouble == 42);
	cJSON_Delete(p);
	cJSON_Delete(av);
}
END_TEST

START_TEST(non_finite_rejected)
{
	struct lb_err e;
	cJSON *j = cJSON_CreateNumber(INFINITY), *av;

	av = lb_ddb_to_av(j, &e);
	ck_assert_ptr_null(av);
	ck_assert_ptr_nonnull(strstr(e.msg, "NaN or infinite"));
	cJSON_Delete(j);
}
END_TEST

START_TEST(nested)
{
	ck_assert_str_eq(to_av("{\"m\":{\"l\":[1,\"a\",null,[true]]}}"),
	    "{\"M\":{\"m\":{\"M\":{\"l\":{\"L\":[{\"N\":\"1\"},{\"S\":\"a\"},"
	    "{\"NULL\":true},{\"L\":[{\"BOOL\":true}]}]}}}}}");
	ck_assert_str_eq(from_av("{\"M\":{\"m\":{\"M\":{\"l\":{\"L\":["
	    "{\"N\":\"1\"},{\"S\":\"a\"},{\"NULL\":true},"
	    "{\"L\":[{\"BOOL\":true}]}]}}}}}"),
	    "{\"m\":{\"l\":[1,\"a\",null,[true]]}}");
	ck_assert_str_eq(to_av("{}"), "{\"M\":{}}");
	ck_assert_str_eq(to_av("[]"), "{\"L\":[]}");
}
END_TEST

START_TEST(binary_round_trip)
{
	ck_assert_str_eq(to_av("{\"$base64\":\"aGk=\"}"), "{\"B\":\"aGk=\"}");
	ck_assert_str_eq(from_av("{\"B\":\"aGk=\"}"), "{\"$base64\":\"aGk=\"}");
	ck_assert_str_eq(to_av("{\"$base64\":\"not base64!\"}"), "ERR");
	ck_assert_str_eq(to_av("{\"$base64\":5}"), "ERR");
	/* with another member it is an ordinary map */
	ck_assert_str_eq(to_av("{\"$base64\":\"aGk=\",\"x\":1}"),
	    "{\"M\":{\"$base64\":{\"S\":\"aGk=\"},\"x\":{\"N\":\"1\"}}}");
}
END_TEST

START_TEST(sets_become_arrays)
{
	ck_assert_str_eq(from_av("{\"SS\":[\"a\",\"b\"]}"), "[\"a\",\"b\"]");
	ck_assert_str_eq(from_av("{\"NS\":[\"1\",\"2.5\"]}"), "[1,2.5]");
	ck_assert_str_eq(from_av("{\"BS\":[\"aGk=\"]}"),
	    "[{\"$base64\":\"aGk=\"}]");
	ck_assert_str_eq(from_av("{\"NS\":[\"x\"]}"), "ERR");
	ck_assert_str_eq(from_av("{\"SS\":[1]}"), "ERR");
}
END_TEST

START_TEST(bad_attribute_values)
{
	ck_assert_str_eq(from_av("{}"), "ERR");
	ck_assert_str_eq(from_av("{\"S\":\"a\",\"N\":\"1\"}"), "ERR");
	ck_assert_str_eq(from_av("{\"Q\":\"a\"}"), "ERR");
	ck_assert_str_eq(from_av("{\"S\":1}"), "ERR");
	ck_assert_str_eq(from_av("{\"N\":\"abc\"}"), "ERR");
	ck_assert_str_eq(from_av("{\"N\":\"\"}"), "ERR");
	ck_assert_str_eq(from_av("\"S\""), "ERR");
	ck_assert_str_eq(from_av("{\"L\":[{\"S\":1}]}"), "ERR");
	/* a normalisable number is accepted */
	ck_assert_str_eq(from_av("{\"N\":\"+5\"}"), "5");
}
END_TEST

START_TEST(hostile_strings_round_trip)
{
	static const char *v[] = {
		"$(rm -rf /); `id` | & ; < > \\\" '",
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x97 \xe4\xb8\xad",
		"line\nbreak\ttab\x01",
		NULL
	};
	struct lb_err e;
	char long300[301];
	cJSON *j, *av, *back;
	int i;

	memset(long300, 'x', 300);
	long300[300] = '\0';
	for (i = 0; i < 4; i++) {
		const char *s = i < 3 ? v[i] : long300;

		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, s, s);
		av = lb_ddb_to_item(j, &e);
		ck_assert_ptr_nonnull(av);
		back = lb_ddb_from_item(av, &e);
		ck_assert_ptr_nonnull(back);
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, s)
		    ->valuestring, s);
		cJSON_Delete(j);
		cJSON_Delete(av);
		cJSON_Delete(back);
	}
}
END_TEST

START_TEST(expression_placeholders)
{
	struct lb_ddb_expr x;
	cJSON *body = cJSON_CreateObject();
	char *s;

	lb_ddb_expr_init(&x);
	ck_assert_str_eq(lb_ddb_expr_name(&x, "a b"), "#n0");
	ck_assert_str_eq(lb_ddb_expr_name(&x, "c"), "#n1");
	ck_assert_str_eq(lb_ddb_expr_name(&x, "a b"), "#n0");
	ck_assert_str_eq(lb_ddb_expr_value(&x, cJSON_CreateString("v")),
	    ":v0");
	lb_ddb_expr_attach(&x, body);
	s = lb_json_print(body);
	ck_assert_str_eq(s, "{\"ExpressionAttributeNames\":{\"#n0\":\"a b\","
	    "\"#n1\":\"c\"},\"ExpressionAttributeValues\":{\":v0\":\"v\"}}");
	free(s);
	cJSON_Delete(body);
	lb_ddb_expr_free(&x);
}
END_TEST

/* SQS body: the record or the first words of the error */
static char *
body(const char *b)
{
	static char out[2048];
	struct lb_err e;
	cJSON *j;
	char *s;

	if ((j = lb_sqs_parse(b, strlen(b), &e)) == NULL) {
		snprintf(out, sizeof(out), "ERR %s", e.msg);
		return out;
	}
	s = lb_json_print(j);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	cJSON_Delete(j);
	return out;
}

#define GOODTAIL "\"submitted_image_uri\":\"u\"," \
	"\"is_static_dataset_code_upload_submission\":false}"

START_TEST(sqs_body)
{
	ck_assert_str_eq(body("{\"challenge_pk\":1,\"phase_pk\":\"02\","
	    "\"submission_pk\":\"3\"," GOODTAIL),
	    "{\"challenge_pk\":\"1\",\"phase_pk\":\"2\","
	    "\"submission_pk\":\"3\"," GOODTAIL);
	ck_assert_str_eq(body("{\"challenge_pk\":1.5,\"phase_pk\":1,"
	    "\"submission_pk\":3," GOODTAIL),
	    "ERR challenge_pk is not a non-negative integer or a string of "
	    "digits");
	ck_assert_str_eq(body("{\"challenge_pk\":-1,\"phase_pk\":1,"
	    "\"submission_pk\":3," GOODTAIL),
	    "ERR challenge_pk is not a non-negative integer or a string of "
	    "digits");
	ck_assert_str_eq(body("{\"challenge_pk\":\"x\",\"phase_pk\":1,"
	    "\"submission_pk\":3," GOODTAIL),
	    "ERR challenge_pk is not a non-negative integer or a string of "
	    "digits");
	ck_assert_str_eq(body("{\"challenge_pk\":1,\"phase_pk\":1}"),
	    "ERR body lacks submission_pk");
	ck_assert_str_eq(body("{\"challenge_pk\":1234567890123456789,"
	    "\"phase_pk\":1,\"submission_pk\":3,\"big\":1.00000000000000000001,"
	    GOODTAIL),
	    "{\"challenge_pk\":\"1234567890123456789\",\"phase_pk\":\"1\","
	    "\"submission_pk\":\"3\",\"big\":1.00000000000000000001,"
	    GOODTAIL);
	ck_assert_str_eq(body("[1]"), "ERR body is not a JSON object");
	ck_assert_str_eq(body("{\"a\":1} x"), "ERR body is not JSON");
	ck_assert_str_eq(body(""), "ERR body is not JSON");
	ck_assert_str_eq(body("{\"challenge_pk\":1,\"phase_pk\":1,"
	    "\"submission_pk\":3,\"submitted_image_uri\":\"u\","
	    "\"is_static_dataset_code_upload_submission\":\"false\"}"),
	    "ERR is_static_dataset_code_upload_submission is not a boolean");
	ck_assert_str_eq(body("{\"challenge_pk\":1,\"phase_pk\":1,"
	    "\"submission_pk\":3,\"submitted_image_uri\":\"\","
	    "\"is_static_dataset_code_upload_submission\":true}"),
	    "ERR submitted_image_uri is not a non-empty string");
}
END_TEST

START_TEST(base64_decode)
{
	size_t n;
	unsigned char *p;

	p = lb_secrets_b64decode("aGk=", &n);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq((char *)p, "hi");
	free(p);
	p = lb_secrets_b64decode("YmluAf8=", &n);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(p[4], 0xff);
	free(p);
	p = lb_secrets_b64decode("", &n);
	ck_assert_int_eq(n, 0);
	free(p);
	ck_assert_ptr_null(lb_secrets_b64decode("a", &n));
	ck_assert_ptr_null(lb_secrets_b64decode("a!==", &n));
	ck_assert_ptr_null(lb_secrets_b64decode("a===", &n));
}
END_TEST

static Suite *
ddb_suite(void)
{
	Suite *s = suite_create("ddb");
	TCase *tc = tcase_create("attributevalue");

	tcase_add_test(tc, scalars);
	tcase_add_test(tc, numbers_are_plain_decimal);
	tcase_add_test(tc, long_numbers_keep_their_text);
	tcase_add_test(tc, short_numbers_stay_numbers);
	tcase_add_test(tc, non_finite_rejected);
	tcase_add_test(tc, nested);
	tcase_add_test(tc, binary_round_trip);
	tcase_add_test(tc, sets_become_arrays);
	tcase_add_test(tc, bad_attribute_values);
	tcase_add_test(tc, hostile_strings_round_trip);
	tcase_add_test(tc, expression_placeholders);
	suite_add_tcase(s, tc);
	tc = tcase_create("sqs");
	tcase_add_test(tc, sqs_body);
	tcase_add_test(tc, base64_decode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ddb_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
