/* check_finalize.c: lb-finalize's decisions (lib/finalize.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "finalize.h"

/* Count names into m; returns how many counted. */
static int
feed(struct lb_finalize_markers *m, const char *const *names)
{
	int n = 0;

	for (; *names != NULL; names++)
		n += lb_finalize_marker(m, *names);
	return n;
}

static void
all_done(struct lb_finalize_markers *m, long workers)
{
	char name[64];
	long k;

	lb_finalize_marker(m, "monitor.done");
	for (k = 1; k <= workers; k++) {
		snprintf(name, sizeof(name), "agent-%ld.done", k);
		lb_finalize_marker(m, name);
		snprintf(name, sizeof(name), "simulator-%ld.done", k);
		lb_finalize_marker(m, name);
		snprintf(name, sizeof(name), "uploader-%ld.done", k);
		lb_finalize_marker(m, name);
	}
}

static char *
reason(const char *k8s, const struct lb_finalize_markers *m)
{
	struct lb_buf b = { 0 };
	cJSON *j = k8s ? cJSON_Parse(k8s) : NULL;

	if (k8s != NULL)
		ck_assert_ptr_nonnull(j);
	lb_finalize_reason(&b, j, m);
	cJSON_Delete(j);
	return b.p ? b.p : lb_xstrdup("");
}

START_TEST(all_markers_finish)
{
	struct lb_finalize_markers m;

	lb_finalize_markers_init(&m, 3);
	ck_assert_int_eq(m.expected, 10);
	all_done(&m, 3);
	ck_assert_int_eq(m.done, 10);
	ck_assert_int_eq(lb_finalize_status(&m), LB_FINALIZE_FINISHED);
	ck_assert_str_eq(lb_finalize_status_name(lb_finalize_status(&m)),
	    "FINISHED");
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(names_not_extensions_count)
{
	static const char *const junk[] = { "agent-1.done", "agent-1.done",
	    "agent-4.done", "agent-0.done", "agent-01.done", "x.done",
	    "agent-1.done.bak", "sub/monitor.done", "monitor.done2",
	    "simulator-1.done", "uploader-1.done", "uploader-2.done",
	    "agent-2.done", "simulator-2.done", "Agent-3.done",
	    "agent--3.done", "agent-3.Done", "agent-99999999.done", NULL };
	struct lb_finalize_markers m;

	lb_finalize_markers_init(&m, 3);
	/* 9 .done extensions (the reference's count for 3 workers would
	 * call it finished), but only 6 names count and no monitor */
	feed(&m, junk);
	ck_assert_int_eq(m.done, 6);
	ck_assert_int_eq(m.monitor_done, 0);
	ck_assert_int_eq(lb_finalize_status(&m), LB_FINALIZE_FAILED);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(one_missing_fails)
{
	struct lb_finalize_markers m;
	char *r;

	lb_finalize_markers_init(&m, 2);
	lb_finalize_marker(&m, "monitor.done");
	lb_finalize_marker(&m, "agent-1.done");
	lb_finalize_marker(&m, "simulator-1.done");
	lb_finalize_marker(&m, "uploader-1.done");
	lb_finalize_marker(&m, "agent-2.done");
	lb_finalize_marker(&m, "simulator-2.done");
	ck_assert_int_eq(lb_finalize_status(&m), LB_FINALIZE_FAILED);
	r = reason(NULL, &m);
	ck_assert_str_eq(r, "worker 2 did not finish");
	free(r);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(cancel_wins)
{
	static const char *const cancels[] = { "simulation.cancel",
	    "simulation-3.cancel", NULL };
	struct lb_finalize_markers m;
	int i;

	for (i = 0; cancels[i] != NULL; i++) {
		lb_finalize_markers_init(&m, 3);
		all_done(&m, 3);
		ck_assert_int_eq(lb_finalize_marker(&m, cancels[i]), 1);
		ck_assert_int_eq(lb_finalize_status(&m),
		    LB_FINALIZE_CANCELLED);
		ck_assert_str_eq(m.cancel, cancels[i]);
		lb_finalize_markers_free(&m);
	}
	lb_finalize_markers_init(&m, 1);
	ck_assert_int_eq(lb_finalize_marker(&m, "other.cancel"), 0);
	ck_assert_int_eq(lb_finalize_marker(&m, "simulation-x.cancel"), 0);
	ck_assert_int_eq(lb_finalize_status(&m), LB_FINALIZE_FAILED);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(crashes_are_counted_per_worker)
{
	static const char *const names[] = { "agent-3.crash0",
	    "agent-3.crash1", "agent-3.crash2", "agent-3.crash3",
	    "agent-3.crash4", "simulator-1.crash0", "agent-3.crashx",
	    "agent-3.crash01", "uploader-3.crash0", "worker-2.start",
	    "agent-2.start1", NULL };
	struct lb_finalize_markers m;
	char *r;

	lb_finalize_markers_init(&m, 3);
	feed(&m, names);
	ck_assert_int_eq(m.crashes, 6);
	ck_assert_int_eq(m.w[2].agent_crashes, 5);
	ck_assert_int_eq(m.w[0].simulator_crashes, 1);
	r = reason(NULL, &m);
	ck_assert_ptr_nonnull(strstr(r, "worker 3's agent crashed 5 times"));
	ck_assert_ptr_nonnull(strstr(r,
	    "worker 1's simulator crashed 1 time;"));
	ck_assert_ptr_nonnull(strstr(r, "worker 2 did not finish"));
	ck_assert_ptr_nonnull(strstr(r, "the monitor did not finish"));
	free(r);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(workers_are_bounded)
{
	struct lb_finalize_markers m;

	lb_finalize_markers_init(&m, 0);
	ck_assert_int_eq(m.workers, 1);
	lb_finalize_markers_free(&m);
	lb_finalize_markers_init(&m, 5000);
	ck_assert_int_eq(m.workers, LB_FINALIZE_MAXWORKERS);
	ck_assert_int_eq(m.expected, 1 + 3 * LB_FINALIZE_MAXWORKERS);
	all_done(&m, LB_FINALIZE_MAXWORKERS);
	ck_assert_int_eq(lb_finalize_status(&m), LB_FINALIZE_FINISHED);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(nothing_reported)
{
	struct lb_finalize_markers m;
	char *r;

	lb_finalize_markers_init(&m, 4);
	r = reason(NULL, &m);
	ck_assert_str_eq(r, "no part of the evaluation reported back");
	free(r);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(job_outcomes)
{
	static const struct {
		const char *k8s, *want;
	} t[] = {
		{ "{\"state\":\"failed\",\"jobs\":[{\"job\":\"a-b-1-worker2\","
		  "\"role\":\"worker\",\"state\":\"failed\",\"reason\":"
		  "\"BackoffLimitExceeded\",\"failed\":4,\"succeeded\":0}]}",
		  "worker 2 failed after 4 attempts (BackoffLimitExceeded)" },
		{ "{\"state\":\"stuck\",\"jobs\":[{\"job\":\"x-worker1\","
		  "\"state\":\"stuck\",\"reason\":\"ImagePullBackOff\","
		  "\"container\":\"agent\",\"seconds\":900}]}",
		  "the agent image of worker 1 could not be pulled "
		  "(ImagePullBackOff) for 900 s" },
		{ "{\"state\":\"stuck\",\"jobs\":[{\"job\":\"x-worker3\","
		  "\"state\":\"stuck\",\"reason\":\"Unschedulable\"}]}",
		  "worker 3 could not be given a machine (Unschedulable)" },
		{ "{\"state\":\"deleted\",\"jobs\":[{\"job\":\"x-worker1\","
		  "\"state\":\"deleted\"},{\"job\":\"x-worker2\",\"state\":"
		  "\"deleted\"},{\"job\":\"x-monitor\",\"role\":\"monitor\","
		  "\"state\":\"deleted\"}]}",
		  "the Jobs were deleted before the submission finished" },
		{ "{\"state\":\"failed\",\"reason\":\"DeadlineExceeded\"}",
		  "a Job ran out of its time limit (DeadlineExceeded)" },
		{ "{\"state\":\"failed\",\"jobs\":[{\"job\":\"x-monitor\","
		  "\"role\":\"monitor\",\"state\":\"failed\"}]}",
		  "the monitor failed" },
		{ "{\"state\":\"running\"}",
		  "the evaluation was stopped while it was still running" },
		{ "{\"state\":\"complete\",\"jobs\":[]}", "" },
		{ "{}", "" },
		{ "{\"state\":7,\"jobs\":{\"a\":1},\"reason\":[1]}", "" },
		{ "{\"jobs\":[1,\"x\",null,{\"state\":\"failed\"}]}",
		  "a worker failed" },
	};
	size_t i;
	char *r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = reason(t[i].k8s, NULL);
		ck_assert_msg(strcmp(r, t[i].want) == 0, "%zu: got \"%s\"",
		    i, r);
		free(r);
	}
}
END_TEST

START_TEST(no_free_text_leaks)
{
	char *r;

	/* a message, a hostile reason and a hostile container */
	r = reason("{\"state\":\"failed\",\"jobs\":[{\"job\":\"w-worker1\","
	    "\"state\":\"failed\",\"reason\":\"AWS_SECRET=abc; "
	    "Traceback (most recent call last)\",\"message\":\"token "
	    "s3cr3t\"},{\"job\":\"w-worker2\",\"state\":\"stuck\",\"reason\":"
	    "\"ErrImagePull\",\"container\":\"$(id)\",\"seconds\":\"12\"}]}",
	    NULL);
	ck_assert_str_eq(r, "worker 1 failed; an image of worker 2 could "
	    "not be pulled (ErrImagePull) for 12 s");
	free(r);
}
END_TEST

START_TEST(sentences_are_capped)
{
	struct lb_finalize_markers m;
	char name[32];
	char *r;
	long k;

	lb_finalize_markers_init(&m, 50);
	for (k = 1; k <= 50; k++) {
		snprintf(name, sizeof(name), "agent-%ld.crash0", k);
		lb_finalize_marker(&m, name);
	}
	r = reason(NULL, &m);
	ck_assert_ptr_nonnull(strstr(r, "; and "));
	free(r);
	lb_finalize_markers_free(&m);
	/* 20 workers that never reported: 8 named, the rest counted */
	lb_finalize_markers_init(&m, 20);
	lb_finalize_marker(&m, "monitor.done");
	r = reason(NULL, &m);
	ck_assert_str_eq(r, "worker 1 never reported back; worker 2 never "
	    "reported back; worker 3 never reported back; worker 4 never "
	    "reported back; worker 5 never reported back; worker 6 never "
	    "reported back; worker 7 never reported back; worker 8 never "
	    "reported back; 12 more workers did not finish");
	ck_assert_uint_lt(strlen(r), 1500);
	free(r);
	lb_finalize_markers_free(&m);
}
END_TEST

START_TEST(results_like_the_reference)
{
	static const char text[] = "[{\"split\":\"leaderboard\","
	    "\"accuracies\":{\"Driving score\":45.0,\"Route completion\":"
	    "100,\"Infraction penalty\":1e-05,\"Off-road infractions\":"
	    "0.30000000000000004,\"Agent blocked\":\"x\",\"Big\":1e16,"
	    "\"N\":NaN}},{\"accuracies\":{\"Other\":1}}]";
	struct lb_err e;
	cJSON *r;

	r = lb_finalize_results(text, strlen(text), &e);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(lb_json_str(r, "driving_score"), "45.0");
	ck_assert_str_eq(lb_json_str(r, "route_completion"), "100");
	ck_assert_str_eq(lb_json_str(r, "infraction_penalty"), "1e-05");
	ck_assert_str_eq(lb_json_str(r, "off-road_infractions"),
	    "0.30000000000000004");
	ck_assert_str_eq(lb_json_str(r, "agent_blocked"), "x");
	ck_assert_str_eq(lb_json_str(r, "big"), "1e+16");
	ck_assert_str_eq(lb_json_str(r, "n"), "nan");
	ck_assert_ptr_null(lb_json_str(r, "other"));
	cJSON_Delete(r);
}
END_TEST

START_TEST(bad_results)
{
	static const char *const bad[] = { "", "{}", "[]", "[1]",
	    "[{\"accuracies\":[]}]", "[{}]", "not json", "[{\"accuracies\":"
	    "{}}] trailing", NULL };
	struct lb_err e;
	cJSON *r;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		memset(&e, 0, sizeof(e));
		r = lb_finalize_results(bad[i], strlen(bad[i]), &e);
		ck_assert_msg(r == NULL, "accepted %s", bad[i]);
		ck_assert_int_eq(e.kind, LB_EFAIL);
	}
}
END_TEST

START_TEST(keys)
{
	char *k = lb_finalize_key("Collisions with Pedestrians");

	ck_assert_str_eq(k, "collisions_with_pedestrians");
	free(k);
}
END_TEST

static int
qual(const char *q, const char *track, const char *score,
    struct lb_finalize_qual *d)
{
	struct lb_err e;
	cJSON *j = cJSON_Parse(q);
	int rc;

	ck_assert_ptr_nonnull(j);
	memset(&e, 0, sizeof(e));
	rc = lb_finalize_qualifier(j, track, score, d, &e);
	cJSON_Delete(j);
	return rc;
}

START_TEST(qualifier_decisions)
{
	struct lb_finalize_qual d;
	struct lb_buf b = { 0 };

	/* the threshold of the track qualified to */
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"SENSORS\",\"threshold_map\":{\"sensors\":\"30\"}}",
	    "SENSORS_QUALIFIER", "30.0", &d), 0);
	ck_assert(d.applies && d.passed);
	ck_assert_str_eq(d.to, "SENSORS");
	ck_assert_str_eq(d.threshold, "30");
	lb_finalize_qual_text(&b, &d);
	ck_assert_ptr_nonnull(strstr(b.p, "qualified for the SENSORS track"));
	b.len = 0;
	/* below it */
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"sensors\",\"threshold_map\":{\"SENSORS\":30}}",
	    "SENSORS_QUALIFIER", "29.99", &d), 0);
	ck_assert(d.applies && !d.passed);
	lb_finalize_qual_text(&b, &d);
	ck_assert_ptr_nonnull(strstr(b.p, "29.99 is below the 30 needed"));
	lb_buf_free(&b);
	/* else the threshold of the qualifier track itself (lb.yaml(5)) */
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"SENSORS\",\"threshold_map\":{\"SENSORS_QUALIFIER\":\"1.0\"}}",
	    "SENSORS_QUALIFIER", "1.0", &d), 0);
	ck_assert(d.applies && d.passed);
	/* not a qualifier track, qualifying off, no threshold */
	ck_assert_int_eq(qual("{\"is_qualifying\":\"\",\"qualifying_to\":"
	    "\"\",\"threshold_map\":{\"X\":\"1\"}}", "SENSORS", "99", &d), 0);
	ck_assert(!d.qualifying && !d.applies);
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"SENSORS\",\"threshold_map\":{}}", "Q", "99", &d), 0);
	ck_assert(d.qualifying && !d.applies);
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"SENSORS\",\"threshold_map\":{\"MAP\":\"1\"}}", "Q", "99", &d),
	    0);
	ck_assert(!d.applies);
	/* a score that is no number, none at all, NaN */
	ck_assert_int_eq(qual("{\"is_qualifying\":true,\"qualifying_to\":"
	    "\"S\",\"threshold_map\":{\"S\":\"1\"}}", "Q", "None", &d), 0);
	ck_assert(d.applies && !d.passed);
	ck_assert_int_eq(qual("{\"is_qualifying\":true,\"qualifying_to\":"
	    "\"S\",\"threshold_map\":{\"S\":\"1\"}}", "Q", NULL, &d), 0);
	ck_assert(d.applies && !d.passed);
	ck_assert_int_eq(qual("{\"is_qualifying\":true,\"qualifying_to\":"
	    "\"S\",\"threshold_map\":{\"S\":\"1\"}}", "Q", "nan", &d), 0);
	ck_assert(d.applies && !d.passed);
	/* wrong types */
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"S\",\"threshold_map\":{\"S\":\"high\"}}", "Q", "1", &d), -1);
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "5,\"threshold_map\":{}}", "Q", "1", &d), -1);
	ck_assert_int_eq(qual("{\"is_qualifying\":\"1\",\"qualifying_to\":"
	    "\"S\",\"threshold_map\":[1]}", "Q", "1", &d), -1);
	ck_assert_int_eq(qual("[]", "Q", "1", &d), -1);
}
END_TEST

START_TEST(utf8)
{
	ck_assert_int_eq(lb_finalize_utf8("plain", 5), 1);
	ck_assert_int_eq(lb_finalize_utf8("\xc3\xa9\xe8\x87\xaa\xf0\x9f\x9a"
	    "\x97", 9), 1);
	ck_assert_int_eq(lb_finalize_utf8("\xff", 1), 0);
	ck_assert_int_eq(lb_finalize_utf8("a\0b", 3), 0);
	ck_assert_int_eq(lb_finalize_utf8("\xc3", 1), 0);
	ck_assert_int_eq(lb_finalize_utf8("\xed\xa0\x80", 3), 0);
	ck_assert_int_eq(lb_finalize_utf8("\xc0\xaf", 2), 0);
	ck_assert_int_eq(lb_finalize_utf8("", 0), 1);
}
END_TEST

static Suite *
finalize_suite(void)
{
	Suite *s = suite_create("finalize");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, all_markers_finish);
	tcase_add_test(tc, names_not_extensions_count);
	tcase_add_test(tc, one_missing_fails);
	tcase_add_test(tc, cancel_wins);
	tcase_add_test(tc, crashes_are_counted_per_worker);
	tcase_add_test(tc, workers_are_bounded);
	tcase_add_test(tc, nothing_reported);
	tcase_add_test(tc, job_outcomes);
	tcase_add_test(tc, no_free_text_leaks);
	tcase_add_test(tc, sentences_are_capped);
	tcase_add_test(tc, results_like_the_reference);
	tcase_add_test(tc, bad_results);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, qualifier_decisions);
	tcase_add_test(tc, utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(finalize_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
