/* check_results.c: Python-exact JSON and the results merge library. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"

static const char *
repr(double d)
{
	static char out[32];

	lb_pyjson_repr(d, out);
	return out;
}

/* parse then dump: what json.dump(json.loads(s), indent=4) writes */
static char *
redump(const char *s, int sort)
{
	static char out[4096];
	struct lb_buf b = { 0 };
	struct lb_err e;
	cJSON *j;

	j = lb_pyjson_parse(s, strlen(s), &e);
	if (j == NULL)
		return NULL;
	lb_buf_add(&b, "", 0);
	lb_pyjson_dump(&b, j, sort);
	cJSON_Delete(j);
	ck_assert_uint_lt(b.len, sizeof(out));
	memcpy(out, b.p, b.len + 1);
	lb_buf_free(&b);
	return out;
}

START_TEST(float_repr)
{
	ck_assert_str_eq(repr(0.1), "0.1");
	ck_assert_str_eq(repr(1e-05), "1e-05");
	ck_assert_str_eq(repr(0.0001), "0.0001");
	ck_assert_str_eq(repr(0.00012), "0.00012");
	ck_assert_str_eq(repr(123456789012345678.0), "1.2345678901234568e+17");
	ck_assert_str_eq(repr(0.1 + 0.2), "0.30000000000000004");
	ck_assert_str_eq(repr(1e16), "1e+16");
	ck_assert_str_eq(repr(1.5e16), "1.5e+16");
	ck_assert_str_eq(repr(1e15), "1000000000000000.0");
	ck_assert_str_eq(repr(9999999999999998.0), "9999999999999998.0");
	ck_assert_str_eq(repr(-0.0), "-0.0");
	ck_assert_str_eq(repr(0.0), "0.0");
	ck_assert_str_eq(repr(100.0), "100.0");
	ck_assert_str_eq(repr(86802.61000000002), "86802.61000000002");
	ck_assert_str_eq(repr(5e-324), "5e-324");
	ck_assert_str_eq(repr(1.7976931348623157e308),
	    "1.7976931348623157e+308");
	ck_assert_str_eq(repr(1e100), "1e+100");
	ck_assert_str_eq(repr(-2.5e-7), "-2.5e-07");
	ck_assert_str_eq(repr(0.0 / 0.0), "NaN");
	ck_assert_str_eq(repr(1.0 / 0.0), "Infinity");
	ck_assert_str_eq(repr(-1.0 / 0.0), "-Infinity");
}
END_TEST

START_TEST(python_str)
{
	struct lb_buf b = { 0 };
	struct lb_err e;
	cJSON *j;
	const char *in = "[NaN, -Infinity, 1.0, 7, \"s\", true, null]";

	j = lb_pyjson_parse(in, strlen(in), &e);
	ck_assert_ptr_nonnull(j);
	lb_buf_add(&b, "", 0);
	for (const cJSON *c = j->child; c != NULL; c = c->next) {
		lb_pyjson_str(&b, c);
		lb_buf_puts(&b, " ");
	}
	ck_assert_str_eq(b.p, "nan -inf 1.0 7 s True None ");
	lb_buf_free(&b);
	cJSON_Delete(j);
}
END_TEST

START_TEST(python_round)
{
	/* exact binary values, ties to even */
	ck_assert_str_eq(repr(lb_pyjson_round(2.675, 2)), "2.67");
	ck_assert_str_eq(repr(lb_pyjson_round(0.125, 2)), "0.12");
	ck_assert_str_eq(repr(lb_pyjson_round(0.375, 2)), "0.38");
	ck_assert_str_eq(repr(lb_pyjson_round(70.98108549999, 6)),
	    "70.981085");
	ck_assert_str_eq(repr(lb_pyjson_round(-0.0001, 3)), "-0.0");
	ck_assert_str_eq(repr(lb_pyjson_round(1e300, 3)), "1e+300");
}
END_TEST

START_TEST(ints_stay_ints)
{
	ck_assert_str_eq(redump("[100, 100.0, -0, 1e2, 1E+2, 0.5e-6, "
	    "123456789012345678901234567890, -7]", 0),
	    "[\n    100,\n    100.0,\n    0,\n    100.0,\n    100.0,\n"
	    "    5e-07,\n    123456789012345678901234567890,\n    -7\n]");
}
END_TEST

START_TEST(ensure_ascii)
{
	/* é, a CJK character, an emoji (surrogate pair), DEL, controls */
	ck_assert_str_eq(redump("\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"
	    " \x7f \\u0001 \\/ \\\" \\\\ \\b\\f\\n\\r\\t\"", 0),
	    "\"caf\\u00e9 \\u4e2d \\ud83d\\ude00 \\u007f \\u0001 / \\\" "
	    "\\\\ \\b\\f\\n\\r\\t\"");
	/* lone surrogates and NUL survive a round trip */
	ck_assert_str_eq(redump("\"\\ud800x\\udc00\\u0000y\"", 0),
	    "\"\\ud800x\\udc00\\u0000y\"");
	/* an escaped pair is joined back into one character */
	ck_assert_str_eq(redump("\"\\uD83D\\uDE00\"", 0),
	    "\"\\ud83d\\ude00\"");
}
END_TEST

/* Strings are scanned eight bytes at a time: a special byte anywhere,
 * at any alignment, in and out, and a high byte before an ASCII one. */
START_TEST(escapes_at_every_offset)
{
	static const struct {
		const char	*in, *out;
	} sp[] = {
		{ "\\\"", "\\\"" }, { "\\\\", "\\\\" }, { "\\n", "\\n" },
		{ "\\u0001", "\\u0001" }, { "\x7f", "\\u007f" },
		{ "\xc3\xa9", "\\u00e9" }, { "\\u0000", "\\u0000" },
		{ "\xff" "A", NULL },		/* not UTF-8: refused */
	};
	char in[128], want[128];
	size_t k;
	int len, pos, off;
	const char *got;

	for (k = 0; k < sizeof(sp) / sizeof(sp[0]); k++)
		for (len = 1; len <= 19; len++)
			for (pos = 0; pos < len; pos++)
				for (off = 0; off < 3; off++) {
					snprintf(in, sizeof(in), "%*s\"%.*s%s%.*s\"",
					    off, "", pos, "aaaaaaaaaaaaaaaaaaaa",
					    sp[k].in, len - pos - 1,
					    "bbbbbbbbbbbbbbbbbbbb");
					got = redump(in, 0);
					if (sp[k].out == NULL) {
						ck_assert_ptr_null(got);
						continue;
					}
					snprintf(want, sizeof(want),
					    "\"%.*s%s%.*s\"", pos,
					    "aaaaaaaaaaaaaaaaaaaa", sp[k].out,
					    len - pos - 1,
					    "bbbbbbbbbbbbbbbbbbbb");
					ck_assert_ptr_nonnull(got);
					ck_assert_str_eq(got, want);
				}
}
END_TEST

/* The results' member names are shared between nodes, not copied:
 * duplicates among them still keep the first place and the last value,
 * and trees with them are copied and freed like any other. */
START_TEST(shared_member_names)
{
	struct lb_err e;
	cJSON *j, *d;
	char *a, *b;

	ck_assert_str_eq(redump("{\"status\": 1, \"meta\": 2, \"status\": 3, "
	    "\"st\\u0061tus\": 4}", 0), "{\n    \"status\": 4,\n    \"meta\": 2"
	    "\n}");
	ck_assert_str_eq(redump("{\"index\": 1, \"indez\": 2, \"inde\": 3}",
	    0), "{\n    \"index\": 1,\n    \"indez\": 2,\n    \"inde\": 3\n}");
	j = lb_pyjson_parse("{\"scores\": {\"score_route\": 1}, \"x\": 2}", 38,
	    &e);
	ck_assert_ptr_nonnull(j);
	d = cJSON_Duplicate(j, 1);
	cJSON_DeleteItemFromObject(j, "scores");
	a = cJSON_PrintUnformatted(d);
	ck_assert_str_eq(a, "{\"scores\":{\"score_route\":1},\"x\":2}");
	cJSON_Delete(j);
	b = cJSON_PrintUnformatted(d);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	cJSON_Delete(d);
}
END_TEST

START_TEST(containers_and_keys)
{
	ck_assert_str_eq(redump("{\"b\": {}, \"a\": [], \"c\": [{}]}", 0),
	    "{\n    \"b\": {},\n    \"a\": [],\n    \"c\": [\n        {}\n"
	    "    ]\n}");
	ck_assert_str_eq(redump("{\"b\": 1, \"a\": 2}", 1),
	    "{\n    \"a\": 2,\n    \"b\": 1\n}");
	/* duplicate keys: first place, last value */
	ck_assert_str_eq(redump("{\"a\": 1, \"b\": 2, \"a\": 3}", 0),
	    "{\n    \"a\": 3,\n    \"b\": 2\n}");
	ck_assert_str_eq(redump(" [NaN, Infinity, -Infinity, true, false, "
	    "null] \n", 0), "[\n    NaN,\n    Infinity,\n    -Infinity,\n"
	    "    true,\n    false,\n    null\n]");
}
END_TEST

START_TEST(bad_json_rejected)
{
	static const char *const bad[] = {
		"", " ", "{", "{\"a\":1", "[1,]", "{\"a\":1,}", "01", "1.",
		".5", "+1", "[1] x", "\"a\nb\"", "\"\\x\"", "\"\\u12\"",
		"\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "nan", "[-]",
		"{1:2}", "\xef\xbb\xbf{}", "tru", NULL
	};
	struct lb_err e;
	char deep[2100];
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		cJSON *j = lb_pyjson_parse(bad[i], strlen(bad[i]), &e);

		ck_assert_msg(j == NULL, "accepted '%s'", bad[i]);
	}
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	ck_assert_ptr_null(lb_pyjson_parse(deep, 2000, &e));
}
END_TEST

static char dir[64];

static void
wfile(const char *name, const char *text)
{
	char *p = lb_xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(p, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	free(p);
}

static void
mkdir_scratch(void)
{
	strcpy(dir, "/tmp/check_results.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* A finished 2.0 worker file with routes lo..hi (score 100, 1 km each). */
static void
worker(const char *name, int lo, int hi, int total)
{
	struct lb_buf b = { 0 };
	int i;

	lb_buf_printf(&b, "{\"_checkpoint\": {\"global_record\": {}, "
	    "\"progress\": [%d, %d], \"records\": [", hi - lo + 1, total);
	for (i = lo; i <= hi; i++)
		lb_buf_printf(&b, "%s{\"index\": %d, \"route_id\": "
		    "\"RouteScenario_%d_rep0\", \"status\": \"Perfect\", "
		    "\"infractions\": {\"collisions_layout\": [], "
		    "\"collisions_pedestrian\": [], "
		    "\"collisions_vehicle\": [], "
		    "\"red_light\": [], \"stop_infraction\": [], "
		    "\"outside_route_lanes\": [], "
		    "\"min_speed_infractions\": [], "
		    "\"yield_emergency_vehicle_infractions\": [], "
		    "\"scenario_timeouts\": [], \"route_dev\": [], "
		    "\"vehicle_blocked\": [], \"route_timeout\": []}, "
		    "\"scores\": {\"score_route\": 100, "
		    "\"score_penalty\": 1.0, "
		    "\"score_composed\": 100.0}, \"meta\": {\"route_length\": "
		    "1000.0, \"duration_game\": 10.0, \"duration_system\": "
		    "40.0}}", i > lo ? ", " : "", i - lo, i);
	lb_buf_puts(&b, "]}, \"entry_status\": \"Finished\", \"eligible\": "
	    "true, \"sensors\": [\"carla_camera\"], \"values\": [], "
	    "\"labels\": []}");
	wfile(name, b.p);
	lb_buf_free(&b);
}

static struct lb_results *
merge(int n, const struct lb_results_opts *o, struct lb_err *e)
{
	static char *paths[8];
	int i;

	for (i = 0; i < n; i++) {
		free(paths[i]);
		paths[i] = lb_xasprintf("%s/p%d.json", dir, i + 1);
	}
	return lb_results_merge((const char *const *)paths, n, o, e);
}

static void
rmscratch(void)
{
	char *cmd = lb_xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

START_TEST(merge_complete_and_missing_last)
{
	struct lb_results_opts o = { LB_RESULTS_LB2, 0, 0 };
	struct lb_results *r;
	struct lb_err e;
	char *p2;

	mkdir_scratch();
	worker("p1.json", 0, 2, 3);
	worker("p2.json", 3, 5, 3);
	r = merge(2, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->global, 1);
	ck_assert_str_eq(lb_json_str(r->doc, "entry_status"), "Finished");
	lb_results_free(r);

	/* the reference's blind spot: the last file missing */
	p2 = lb_xasprintf("%s/p2.json", dir);
	unlink(p2);
	free(p2);
	r = merge(2, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->global, 1);
	ck_assert_int_eq(r->files[1].state, LB_RESULTS_ABSENT);
	lb_results_free(r);

	/* told the counts, it is not Finished and says what is missing */
	o.workers = 2;
	o.routes = 6;
	r = merge(2, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->global, 0);
	ck_assert_str_eq(lb_json_str(r->doc, "entry_status"), "Started");
	ck_assert_int_gt(r->nmissing, 0);
	ck_assert_ptr_nonnull(strstr(r->missing.p, "worker 2:"));
	ck_assert_ptr_nonnull(strstr(r->missing.p, "routes 3-5: no record"));
	lb_results_free(r);
	rmscratch();
}
END_TEST

START_TEST(merge_truncated_is_not_there)
{
	struct lb_results_opts o = { LB_RESULTS_LB2, 2, 0 };
	struct lb_results *r;
	struct lb_err e;

	mkdir_scratch();
	worker("p1.json", 0, 2, 3);
	wfile("p2.json", "{\"_checkpoint\": {\"global_record\": {}, \"pro");
	r = merge(2, &o, &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->files[1].state, LB_RESULTS_UNREADABLE);
	ck_assert_ptr_nonnull(strstr(r->missing.p, "not complete JSON"));
	lb_results_free(r);
	rmscratch();
}
END_TEST

START_TEST(merge_aborts_like_reference)
{
	struct lb_results_opts o = { LB_RESULTS_LB2, 0, 0 };
	struct lb_err e;

	mkdir_scratch();
	worker("p1.json", 0, 2, 3);
	worker("p2.json", 2, 4, 3);
	ck_assert_ptr_null(merge(2, &o, &e));
	ck_assert_str_eq(e.msg, "Stopping. Found that the route "
	    "RouteScenario_2_rep0 has more than one record");
	worker("p2.json", 4, 6, 3);
	ck_assert_ptr_null(merge(2, &o, &e));
	ck_assert_str_eq(e.msg, "Stopping. Missing some data as the ids "
	    "jumped from RouteScenario_2_rep0 to RouteScenario_4_rep0");
	wfile("p2.json", "{\"_checkpoint\": {\"records\": [{\"route_id\": "
	    "\"bad\"}], \"progress\": [1, 1]}, \"sensors\": []}");
	ck_assert_ptr_null(merge(2, &o, &e));
	wfile("p2.json", "{\"_checkpoint\": {\"records\": [], \"progress\": "
	    "[0, 1]}, \"sensors\": [\"carla_lidar\"]}");
	ck_assert_ptr_null(merge(2, &o, &e));
	ck_assert_ptr_nonnull(strstr(e.msg, "different sensor"));
	rmscratch();
}
END_TEST

/* 1.0: routes that did not move add no infractions; rates are summed */
START_TEST(lb1_rates)
{
	static const char rec[] = "{\"route_id\": \"RouteScenario_%d\", "
	    "\"index\": %d, \"status\": \"Completed\", \"infractions\": "
	    "{\"collisions_pedestrian\": [], \"collisions_vehicle\": [\"c\"], "
	    "\"collisions_layout\": [], \"red_light\": [], "
	    "\"stop_infraction\": [], \"outside_route_lanes\": [], "
	    "\"route_dev\": [], \"route_timeout\": [], "
	    "\"vehicle_blocked\": []}, \"scores\": {\"score_route\": %s, "
	    "\"score_penalty\": 1.0, \"score_composed\": %s}, \"meta\": "
	    "{\"route_length\": 500.0, \"duration_game\": 1.0, "
	    "\"duration_system\": 2.0}}";
	struct lb_results_opts o = { LB_RESULTS_LB1, 0, 0 };
	struct lb_results *r;
	struct lb_err e;
	struct lb_buf b = { 0 };
	const cJSON *g;

	mkdir_scratch();
	lb_buf_printf(&b, "{\"_checkpoint\": {\"records\": [");
	lb_buf_printf(&b, rec, 0, 0, "0", "0");
	lb_buf_puts(&b, ", ");
	lb_buf_printf(&b, rec, 1, 1, "50.0", "50.0");
	lb_buf_puts(&b, "], \"progress\": [2, 2]}, \"sensors\": "
	    "[\"carla_gnss\"]}");
	wfile("p1.json", b.p);
	lb_buf_free(&b);
	r = merge(1, &o, &e);
	ck_assert_ptr_nonnull(r);
	g = lb_json_path(r->doc, "_checkpoint.global_record");
	/* 1 collision over 0.25 km from the route that moved only */
	ck_assert_double_eq(lb_json_path(g,
	    "infractions.collisions_vehicle")->valuedouble, 4.0);
	ck_assert_str_eq(lb_json_str(g, "status"), "Failed");
	ck_assert_int_eq(cJSON_GetArraySize(lb_json_path(g,
	    "meta.exceptions")), 2);
	ck_assert_str_eq(lb_json_str(r->doc, "entry_status"), "Finished");
	ck_assert_str_eq(cJSON_GetArrayItem(lb_json_path(r->doc, "values"),
	    4)->valuestring, "4.000");
	lb_results_free(r);
	rmscratch();
}
END_TEST

START_TEST(generators_without_merged_file)
{
	struct lb_err e;
	char *s;

	s = lb_results_stdout(NULL, LB_RESULTS_LB2, NULL, &e);
	ck_assert_str_eq(s, "Initializing the submission, no data avaialable "
	    "yet.\nMore information will be found here once the submission "
	    "starts running.\n");
	free(s);
	s = lb_results_results(NULL, LB_RESULTS_LB2, NULL, &e);
	ck_assert_ptr_nonnull(strstr(s, "\"Min speed infractions\": 0\n"));
	free(s);
	s = lb_results_results(NULL, LB_RESULTS_LB1, NULL, &e);
	ck_assert_ptr_null(strstr(s, "Min speed"));
	ck_assert_ptr_nonnull(strstr(s, "\"accuracies\": {\n"
	    "            \"Agent blocked\": 0,"));
	free(s);
}
END_TEST

static Suite *
results_suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, float_repr);
	tcase_add_test(tc, python_str);
	tcase_add_test(tc, python_round);
	tcase_add_test(tc, ints_stay_ints);
	tcase_add_test(tc, ensure_ascii);
	tcase_add_test(tc, escapes_at_every_offset);
	tcase_add_test(tc, shared_member_names);
	tcase_add_test(tc, containers_and_keys);
	tcase_add_test(tc, bad_json_rejected);
	tcase_add_test(tc, merge_complete_and_missing_last);
	tcase_add_test(tc, merge_truncated_is_not_there);
	tcase_add_test(tc, merge_aborts_like_reference);
	tcase_add_test(tc, lb1_rates);
	tcase_add_test(tc, generators_without_merged_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(results_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
