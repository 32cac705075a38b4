/* check_config.c: the lb.yaml loader (lb.yaml(5)). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char base[] =
    "evalai:\n"					/* 1 */
    "  api_server: https://eval.ai\n"		/* 2 */
    "  token: env:MY_TOKEN\n"			/* 3 */
    "  queue: leaderboard\n"			/* 4 */
    "tracks:\n"					/* 5 */
    "  \"31\": c1:SENSORS\n"			/* 6 */
    "  \"32\": c1:SENSORS_QUALIFIER\n"		/* 7 */
    "clusters:\n"				/* 8 */
    "  c1:\n"					/* 9 */
    "    name: lb20\n"				/* 10 */
    "    endpoint: https://k8s.example\n"	/* 11 */
    "    certificate_authority: \"\"\n"		/* 12 */
    "    region: us-west-2\n"			/* 13 */
    "    images:\n"				/* 14 */
    "      simulator: r/sim:1\n"		/* 15 */
    "      leaderboard: r/lb:1\n"		/* 16 */
    "      uploader: r/up:1\n"			/* 17 */
    "      monitor: r/mon:1\n"			/* 18 */
    "    allowed_image_prefixes: [\"123.dkr.ecr.us-east-1.amazonaws.com/\"]\n"
    "    tracks:\n"				/* 20 */
    "      SENSORS:\n"				/* 21 */
    "        instance_type: g5.12xlarge\n"	/* 22 */
    "        workers: 4\n"			/* 23 */
    "        routes: 20\n"			/* 24 */
    "      SENSORS_QUALIFIER:\n"		/* 25 */
    "        instance_type: g5.2xlarge\n"	/* 26 */
    "        workers: 1\n"			/* 27 */
    "        routes: 5\n"			/* 28 */
    "    qualifier:\n"			/* 29 */
    "      map: {SENSORS_QUALIFIER: SENSORS}\n"	/* 30 */
    "      thresholds: {SENSORS_QUALIFIER: 1.5}\n"	/* 31 */
    "    aws:\n"				/* 32 */
    "      s3_bucket: b\n"			/* 33 */
    "      submissions_table: s\n"		/* 34 */
    "      qualifier_table: q\n"		/* 35 */
    "    jobs:\n"				/* 36 */
    "      worker: jobs/worker.yaml\n"		/* 37 */
    "      monitor: /abs/monitor.yaml\n";	/* 38 */

/* base with the first occurrence of from replaced by to. */
static char *
edit(const char *from, const char *to)
{
	const char *p = strstr(base, from);
	char *out;

	ck_assert_msg(p != NULL, "%s not in the base text", from);
	out = malloc(sizeof(base) + strlen(to));
	memcpy(out, base, (size_t)(p - base));
	strcpy(out + (p - base), to);
	strcat(out, p + strlen(from));
	return out;
}

/* Load text; NULL and the message in err on failure. */
static struct lb_config *
load(const char *text, struct lb_err *err)
{
	return lb_config_parse(text, strlen(text), "/etc/lb/lb.yaml", err);
}

/* Loading the edited text must fail with a message holding want. */
static void
bad(const char *from, const char *to, const char *want)
{
	struct lb_err err;
	struct lb_config *cfg;
	char *t = edit(from, to);

	cfg = load(t, &err);
	ck_assert_msg(cfg == NULL, "loaded with %s -> %s", from, to);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_msg(strstr(err.msg, want) != NULL, "message \"%s\" lacks "
	    "\"%s\"", err.msg, want);
	free(t);
}

START_TEST(base_loads)
{
	struct lb_err err;
	struct lb_config *cfg = load(base, &err);
	const struct lb_config_phase *ph;
	const struct lb_config_cluster *cl;

	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(cfg->api_server, "https://eval.ai");
	ck_assert_str_eq(cfg->token_source, "env:MY_TOKEN");
	ck_assert_str_eq(cfg->queue, "leaderboard");
	ck_assert_int_eq(cfg->nphases, 2);
	ph = lb_config_phase(cfg, "31");
	ck_assert_ptr_nonnull(ph);
	ck_assert_str_eq(ph->cluster->id, "c1");
	ck_assert_str_eq(ph->track->codename, "SENSORS");
	ck_assert_int_eq(ph->track->workers, 4);
	ck_assert_int_eq(ph->track->routes, 20);
	ck_assert_str_eq(ph->track->instance_type, "g5.12xlarge");
	ck_assert_ptr_null(lb_config_phase(cfg, "33"));
	cl = lb_config_cluster(cfg, "c1");
	ck_assert_ptr_nonnull(cl);
	ck_assert_str_eq(cl->certificate_authority, "");
	ck_assert_str_eq(cl->monitor_image, "r/mon:1");
	ck_assert_str_eq(cl->worker_template, "/etc/lb/jobs/worker.yaml");
	ck_assert_str_eq(cl->monitor_template, "/abs/monitor.yaml");
	ck_assert_int_eq(cl->pending_timeout, 1800);
	ck_assert_str_eq(cJSON_GetObjectItem(cl->threshold_map,
	    "SENSORS_QUALIFIER")->valuestring, "1.5");
	ck_assert_str_eq(cJSON_GetObjectItem(cl->qualifier_map,
	    "SENSORS_QUALIFIER")->valuestring, "SENSORS");
	ck_assert_str_eq(cl->qualifier_table, "q");
	ck_assert_ptr_null(lb_config_cluster(cfg, "c2"));
	lb_config_free(cfg);
}
END_TEST

START_TEST(missing_keys_name_key_and_line)
{
	bad("    name: lb20\n", "", "lb.yaml:10: clusters.c1: missing key "
	    "name");
	bad("      s3_bucket: b\n", "", "clusters.c1.aws: missing key "
	    "s3_bucket");
	bad("        routes: 5\n", "", "clusters.c1.tracks.SENSORS_QUALIFIER:"
	    " missing key routes");
	bad("  token: env:MY_TOKEN\n", "", "evalai: missing key token");
	bad("      monitor: r/mon:1\n", "", "clusters.c1.images: missing key "
	    "monitor");
	bad("    jobs:\n      worker: jobs/worker.yaml\n      monitor: "
	    "/abs/monitor.yaml\n", "", "missing key jobs");
}
END_TEST

START_TEST(ill_typed_keys_name_key_and_line)
{
	bad("        workers: 4\n", "        workers: four\n",
	    "lb.yaml:23: clusters.c1.tracks.SENSORS.workers: must be a whole "
	    "number");
	bad("        workers: 4\n", "        workers: 0\n", "lb.yaml:23:");
	bad("        workers: 4\n", "        workers: 2.5\n", "lb.yaml:23:");
	bad("        workers: 4\n", "        workers: [4]\n",
	    "must be a whole number, not a list");
	bad("    name: lb20\n", "    name: 20\n", "lb.yaml:10: clusters.c1."
	    "name: must be a string, not a number");
	bad("    name: lb20\n", "    name:\n", "must be a string, not empty");
	bad("    name: lb20\n", "    name: \"\"\n", "must not be empty");
	bad("    images:\n      simulator: r/sim:1\n      leaderboard: "
	    "r/lb:1\n      uploader: r/up:1\n      monitor: r/mon:1\n",
	    "    images: none\n", "lb.yaml:14: clusters.c1.images: must be "
	    "a mapping, not a string");
	bad("    allowed_image_prefixes: [\"123.dkr.ecr.us-east-1.amazonaws."
	    "com/\"]\n", "    allowed_image_prefixes: []\n",
	    "list at least one prefix");
	bad("    allowed_image_prefixes: [\"123.dkr.ecr.us-east-1.amazonaws."
	    "com/\"]\n", "    allowed_image_prefixes: [1]\n",
	    "each prefix must be a string");
	bad("      thresholds: {SENSORS_QUALIFIER: 1.5}\n",
	    "      thresholds: {SENSORS_QUALIFIER: [1]}\n",
	    "lb.yaml:31: clusters.c1.qualifier.thresholds.SENSORS_QUALIFIER:"
	    " must be a number");
}
END_TEST

START_TEST(unknown_keys_are_errors)
{
	bad("    region: us-west-2\n", "    region: us-west-2\n"
	    "    pending_timout: 5\n", "lb.yaml:14: clusters.c1."
	    "pending_timout: unknown key");
	bad("evalai:\n", "evalia: 1\nevalai:\n", "lb.yaml:1: evalia: unknown "
	    "key");
	/* found by fuzzing: an error after the prefixes freed one twice */
	bad("      worker: jobs/worker.yaml\n", "      wroker: x\n",
	    "lb.yaml:37: clusters.c1.jobs.wroker: unknown key");
}
END_TEST

START_TEST(track_map_is_checked)
{
	bad("  \"31\": c1:SENSORS\n", "  \"31\": c2:SENSORS\n",
	    "lb.yaml:6: tracks.31: no cluster c2");
	bad("  \"31\": c1:SENSORS\n", "  \"31\": c1:MAP\n",
	    "lb.yaml:6: tracks.31: cluster c1 has no track MAP");
	bad("  \"31\": c1:SENSORS\n", "  \"31\": SENSORS\n",
	    "must be CLUSTER:TRACK");
	bad("  \"31\": c1:SENSORS\n", "  abc: c1:SENSORS\n",
	    "tracks.abc: a phase pk is a number");
	bad("      map: {SENSORS_QUALIFIER: SENSORS}\n",
	    "      map: {SENSORS_QUALIFIER: MAP}\n", "MAP is not a track");
	bad("tracks:\n  \"31\": c1:SENSORS\n  \"32\": c1:SENSORS_QUALIFIER\n",
	    "tracks: {}\n", "no phase is mapped");
}
END_TEST

START_TEST(evalai_values_are_checked)
{
	bad("  token: env:MY_TOKEN\n", "  token: eyJhbGciOi.secret\n",
	    "lb.yaml:3: evalai.token: must be env:NAME");
	bad("  api_server: https://eval.ai\n", "  api_server: eval.ai\n",
	    "lb.yaml:2: evalai.api_server: must be an http");
	bad("  queue: leaderboard\n", "  queue: \"a/b\"\n", "evalai.queue");
}
END_TEST

START_TEST(environment_expansion)
{
	struct lb_err err;
	struct lb_config *cfg;
	char *t;

	setenv("LBT_URL", "http://127.0.0.1:9", 1);
	unsetenv("LBT_UNSET");
	t = edit("  api_server: https://eval.ai\n",
	    "  api_server: ${LBT_URL}\n");
	cfg = load(t, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(cfg->api_server, "http://127.0.0.1:9");
	lb_config_free(cfg);
	free(t);

	t = edit("    name: lb20\n",
	    "    name: a-${LBT_UNSET:-dflt}-$${x}-$$\n");
	cfg = load(t, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(cfg->clusters[0].name, "a-dflt-${x}-$");
	lb_config_free(cfg);
	free(t);

	setenv("LBT_W", "7", 1);
	t = edit("        workers: 4\n", "        workers: ${LBT_W}\n");
	cfg = load(t, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_int_eq(cfg->clusters[0].tracks[0].workers, 7);
	lb_config_free(cfg);
	free(t);

	bad("    name: lb20\n", "    name: ${LBT_UNSET}\n",
	    "lb.yaml:10: clusters.c1.name: environment variable LBT_UNSET is "
	    "not set");
	bad("    name: lb20\n", "    name: ${LBT_UNSET\n", "unclosed ${");
	bad("    name: lb20\n", "    name: ${1X}\n", "bad variable name");
	bad("    name: lb20\n", "    name: ${X:=y}\n", "only ${NAME}");
}
END_TEST

START_TEST(not_a_mapping_or_many_documents)
{
	struct lb_err err;

	ck_assert_ptr_null(load("", &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_null(load("- a\n- b\n", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "must be a mapping"));
	ck_assert_ptr_null(load("a: 1\n---\nb: 2\n", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "exactly one YAML document"));
	ck_assert_ptr_null(load("a: [1, 2\n", &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_null(lb_config_load("/nonexistent/lb.yaml", &err));
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/lb.yaml"));
}
END_TEST

START_TEST(image_allowlist)
{
	struct lb_err err;
	struct lb_config *cfg = load(base, &err);
	const struct lb_config_cluster *cl = &cfg->clusters[0];

	ck_assert(lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com/team-1:5f0c"));
	ck_assert(!lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com/"));
	ck_assert(!lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com.evil.org/x:1"));
	ck_assert(!lb_config_image_allowed(cl, "docker.io/library/x:1"));
	ck_assert(!lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com/x:1 --privileged"));
	ck_assert(!lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com/../x:1"));
	ck_assert(!lb_config_image_allowed(cl,
	    "123.dkr.ecr.us-east-1.amazonaws.com/x:$(id)"));
	ck_assert(!lb_config_image_allowed(cl, ""));
	ck_assert(!lb_config_image_allowed(cl, NULL));
	lb_config_free(cfg);
}
END_TEST

START_TEST(config_path_precedence)
{
	setenv("LB_CONFIG", "/from/env.yaml", 1);
	ck_assert_str_eq(lb_config_path("/from/opt.yaml"), "/from/opt.yaml");
	ck_assert_str_eq(lb_config_path(NULL), "/from/env.yaml");
	unsetenv("LB_CONFIG");
	ck_assert_str_eq(lb_config_path(NULL), "/etc/lb/lb.yaml");
}
END_TEST

START_TEST(check_reads_templates)
{
	struct lb_err err;
	struct lb_config *cfg = load(base, &err);

	ck_assert_int_eq(lb_config_check(cfg, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "jobs.worker: cannot read "
	    "/etc/lb/jobs/worker.yaml"));
	lb_config_free(cfg);
}
END_TEST

START_TEST(the_example_loads)
{
	struct lb_err err;
	struct lb_config *cfg;
	const char *top = getenv("LB_TOP");
	char path[4096];

	snprintf(path, sizeof(path), "%s/examples/lb.yaml", top ? top : ".");
	unsetenv("LB_EVALAI_URL");
	unsetenv("LB_K8S_ENDPOINT");
	cfg = lb_config_load(path, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(cfg->api_server, "https://eval.ai");
	ck_assert_int_eq(cfg->nphases, 4);
	lb_config_free(cfg);
	setenv("LB_EVALAI_URL", "http://127.0.0.1:1234", 1);
	cfg = lb_config_load(path, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(cfg->api_server, "http://127.0.0.1:1234");
	lb_config_free(cfg);
	unsetenv("LB_EVALAI_URL");
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, base_loads);
	tcase_add_test(tc, missing_keys_name_key_and_line);
	tcase_add_test(tc, ill_typed_keys_name_key_and_line);
	tcase_add_test(tc, unknown_keys_are_errors);
	tcase_add_test(tc, track_map_is_checked);
	tcase_add_test(tc, evalai_values_are_checked);
	tcase_add_test(tc, environment_expansion);
	tcase_add_test(tc, not_a_mapping_or_many_documents);
	tcase_add_test(tc, image_allowlist);
	tcase_add_test(tc, config_path_precedence);
	tcase_add_test(tc, check_reads_templates);
	tcase_add_test(tc, the_example_loads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
