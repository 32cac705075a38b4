/*
 * check_logcopy: marker accounting, end rules, the partial update body.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logcopy.h"

static void
add_all(struct lb_logcopy_marks *m, const char *const *names)
{
	for (; *names != NULL; names++)
		lb_logcopy_marks_add(m, *names);
}

START_TEST(names_are_parsed)
{
	static const char *const n[] = {
		"worker-1.start", "agent-1.start0", "agent-1.crash0",
		"simulator-1.crash0", "agent-1.start1", "agent-1.done",
		"simulator-1.done", "uploader-1.done", "agent-2.crash0",
		"simulation-2.cancel", "simulation.cancel", "monitor.done",
		"agent-3.done",		/* beyond the worker count */
		"agent-01.done",	/* leading zero: not worker 1 */
		"agent-x.done", "agent-2.crashy", "uploader-2.done.tmp",
		"agent-2.done~", NULL
	};
	struct lb_logcopy_marks m;

	lb_logcopy_marks_init(&m, 2);
	add_all(&m, n);
	ck_assert_int_eq(m.w[1].start, 1);
	ck_assert_int_eq(m.w[1].agent_crashes, 1);
	ck_assert_int_eq(m.w[1].simulator_crashes, 1);
	ck_assert_int_eq(m.w[1].agent_done, 1);
	ck_assert_int_eq(m.w[1].simulator_done, 1);
	ck_assert_int_eq(m.w[1].uploader_done, 1);
	ck_assert_int_eq(m.w[2].agent_crashes, 1);
	ck_assert_int_eq(m.w[2].agent_done, 0);
	ck_assert_int_eq(m.w[2].uploader_done, 0);
	ck_assert_int_eq(m.w[2].cancel, 1);
	ck_assert_int_eq(m.cancel, 1);
	ck_assert_int_eq(m.monitor_done, 1);
	/* the reference's find counts every name with .done in it */
	ck_assert_int_eq(m.done, 9);
	ck_assert_int_eq(m.crash, 4);
	ck_assert_int_eq(m.start, 3);
	lb_logcopy_marks_free(&m);
}
END_TEST

START_TEST(uploader_end)
{
	struct lb_logcopy_marks m;

	lb_logcopy_marks_init(&m, 3);
	lb_logcopy_marks_add(&m, "agent-3.done");
	ck_assert(!lb_logcopy_worker_over(&m, 3, 4, 0));
	lb_logcopy_marks_add(&m, "simulator-3.done");
	ck_assert(lb_logcopy_worker_over(&m, 3, 4, 0));
	/* the monitor wants the uploader's word */
	ck_assert(!lb_logcopy_worker_over(&m, 3, 4, 1));
	lb_logcopy_marks_add(&m, "uploader-3.done");
	ck_assert(lb_logcopy_worker_over(&m, 3, 4, 1));
	/* crashes: agent and simulator markers together */
	lb_logcopy_marks_add(&m, "agent-2.crash0");
	lb_logcopy_marks_add(&m, "simulator-2.crash0");
	lb_logcopy_marks_add(&m, "agent-2.crash1");
	ck_assert(!lb_logcopy_worker_over(&m, 2, 4, 0));
	ck_assert(lb_logcopy_worker_over(&m, 2, 3, 0));
	lb_logcopy_marks_add(&m, "simulator-2.crash1");
	ck_assert(lb_logcopy_worker_over(&m, 2, 4, 0));
	ck_assert(lb_logcopy_worker_over(&m, 2, 4, 1));
	ck_assert(!lb_logcopy_worker_over(&m, 0, 4, 0));
	ck_assert(!lb_logcopy_worker_over(&m, 4, 4, 0));
	lb_logcopy_marks_free(&m);
}
END_TEST

START_TEST(monitor_end_rules)
{
	static const char *const all_done[] = {
		"agent-1.done", "simulator-1.done", "uploader-1.done",
		"agent-2.done", "simulator-2.done", "uploader-2.done", NULL
	};
	static const char *const spread[] = {
		/* worker 1 crashed once then finished; 2 crashed once */
		"agent-1.crash0", "simulator-1.crash0", "agent-1.done",
		"simulator-1.done", "uploader-1.done",
		"agent-2.crash0", "simulator-2.crash0", NULL
	};
	static const char *const crashed_out[] = {
		"agent-1.done", "simulator-1.done", "uploader-1.done",
		"agent-2.crash0", "simulator-2.crash0", "agent-2.crash1",
		"simulator-2.crash1", NULL
	};
	struct lb_logcopy_marks m;

	lb_logcopy_marks_init(&m, 2);
	ck_assert(!lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_WORKER, 4));
	ck_assert(!lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_REFERENCE, 4));
	ck_assert_int_eq(lb_logcopy_pending(&m, LB_LOGCOPY_RULE_WORKER, 4),
	    2);
	add_all(&m, all_done);
	ck_assert(lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_WORKER, 4));
	ck_assert(lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_REFERENCE, 4));
	lb_logcopy_marks_free(&m);

	/* the reference formula ends too early here; the worker rule not */
	lb_logcopy_marks_init(&m, 2);
	add_all(&m, spread);
	ck_assert(!lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_WORKER, 4));
	ck_assert(lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_REFERENCE, 4));
	ck_assert_int_eq(lb_logcopy_pending(&m, LB_LOGCOPY_RULE_WORKER, 4),
	    1);
	lb_logcopy_marks_free(&m);

	lb_logcopy_marks_init(&m, 2);
	add_all(&m, crashed_out);
	ck_assert(lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_WORKER, 4));
	ck_assert(lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_REFERENCE, 4));
	lb_logcopy_marks_free(&m);

	/* done markers of one worker never stand for another */
	lb_logcopy_marks_init(&m, 2);
	add_all(&m, all_done);
	lb_logcopy_marks_free(&m);
	lb_logcopy_marks_init(&m, 2);
	lb_logcopy_marks_add(&m, "agent-1.done");
	lb_logcopy_marks_add(&m, "simulator-1.done");
	lb_logcopy_marks_add(&m, "uploader-1.done");
	lb_logcopy_marks_add(&m, "agent-3.done");
	lb_logcopy_marks_add(&m, "simulator-3.done");
	lb_logcopy_marks_add(&m, "uploader-3.done");
	ck_assert(!lb_logcopy_monitor_end(&m, LB_LOGCOPY_RULE_WORKER, 4));
	lb_logcopy_marks_free(&m);
}
END_TEST

START_TEST(scan_directory)
{
	struct lb_logcopy_marks m;
	struct lb_err e = { 0 };
	char dir[] = "/tmp/check_logcopy.XXXXXX", path[256];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent-1.done", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/.hidden.done", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	lb_logcopy_marks_init(&m, 1);
	ck_assert_int_eq(lb_logcopy_marks_scan(&m, dir, &e), 0);
	ck_assert_int_eq(m.w[1].agent_done, 1);
	ck_assert_int_eq(m.done, 1);
	lb_logcopy_marks_free(&m);
	unlink(path);
	snprintf(path, sizeof(path), "%s/agent-1.done", dir);
	unlink(path);
	rmdir(dir);
	/* a missing directory holds nothing */
	lb_logcopy_marks_init(&m, 1);
	ck_assert_int_eq(lb_logcopy_marks_scan(&m, dir, &e), 0);
	ck_assert_int_eq(m.done, 0);
	lb_logcopy_marks_free(&m);
}
END_TEST

START_TEST(partial_body)
{
	struct lb_err e = { 0 };
	cJSON *b;
	char *t, h1[65], h2[65];

	b = lb_logcopy_partial_body("1001", "31", "[{\"a\": 1}]\n\n",
	    "line \"1\"\nline 2\n", NULL, &e);
	ck_assert_ptr_nonnull(b);
	t = lb_json_print(b);
	ck_assert_str_eq(t, "{\"submission\":1001,"
	    "\"submission_status\":\"PARTIALLY_EVALUATED\","
	    "\"challenge_phase\":31,"
	    "\"stdout\":\"line \\\"1\\\"\\nline 2\","
	    "\"result\":\"[{\\\"a\\\": 1}]\","
	    "\"stderr\":\"\",\"metadata\":\"\"}");
	free(t);
	lb_logcopy_body_hash(b, h1);
	ck_assert_int_eq(strlen(h1), 64);
	cJSON_Delete(b);
	/* the same texts give the same hash; another text another */
	b = lb_logcopy_partial_body("1001", "31", "[{\"a\": 1}]",
	    "line \"1\"\nline 2", "", &e);
	lb_logcopy_body_hash(b, h2);
	ck_assert_str_eq(h1, h2);
	cJSON_Delete(b);
	b = lb_logcopy_partial_body("1001", "31", "[{\"a\": 2}]",
	    "line \"1\"\nline 2", "", &e);
	lb_logcopy_body_hash(b, h2);
	ck_assert_str_ne(h1, h2);
	cJSON_Delete(b);
	/* hostile ids never reach the body */
	ck_assert_ptr_null(lb_logcopy_partial_body("1; rm -rf /", "31", "",
	    "", "", &e));
	ck_assert_ptr_null(lb_logcopy_partial_body("1001", "31,\"x\":1", "",
	    "", "", &e));
	ck_assert_ptr_null(lb_logcopy_partial_body("1001", "", "", "", "",
	    &e));
}
END_TEST

START_TEST(backoff)
{
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 0), 1000);
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 1), 1000);
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 2), 2000);
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 3), 4000);
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 4), 8000);
	ck_assert_int_eq(lb_logcopy_delay_ms(1000, 50), 8000);
	ck_assert_int_eq(lb_logcopy_delay_ms(0, 0), 1);
}
END_TEST

static Suite *
logcopy_suite(void)
{
	Suite *s = suite_create("logcopy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, names_are_parsed);
	tcase_add_test(tc, uploader_end);
	tcase_add_test(tc, monitor_end_rules);
	tcase_add_test(tc, scan_directory);
	tcase_add_test(tc, partial_body);
	tcase_add_test(tc, backoff);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(logcopy_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
