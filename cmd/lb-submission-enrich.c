/*
 * lb-submission-enrich: turn queue messages into enriched submission
 * documents (DESIGN 3.2, the reference PreEKS output): EvalAI's view of
 * the submission, the cluster and track from lb.yaml, eligibility, the
 * qualifier gate, the image allowlist, and the DynamoDB row to write.
 */
#include <ctype.h>
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "evalai.h"
#include "lb.h"

struct state {
	struct lb_config *cfg;
	struct lb_http	*http;
	struct lb_evalai *ev;
	struct lb_aws	*aws;
	int		 noddb;
};

/* The message's own members: consumed here, not passed through. */
static const char *const msgkeys[] = { "challenge_pk", "phase_pk",
    "submission_pk", "submitted_image_uri",
    "is_static_dataset_code_upload_submission", NULL };
/* Members this tool writes. */
static const char *const ourkeys[] = { "is_eligible", "is_allowed", "data",
    "reason", "row", NULL };

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: lb-submission-enrich [-nv] [-c config] "
	    "[-r rejects]\n"
	    "       lb-submission-enrich [-c config] --check\n");
	exit(status);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "lb-submission-enrich: %s\n", line);
}

/* A string or integral member as text in buf; NULL for other kinds. */
static const char *
copytext(const cJSON *v, char *buf, size_t len)
{
	char tmp[64];
	const char *t = lb_json_text(v, tmp, sizeof(tmp));

	if (t == NULL)
		return NULL;
	snprintf(buf, len, "%s", t);
	return buf;
}

/* A pk member: a JSON integer or a string of digits, as text. */
static int
pk(const cJSON *rec, const char *name, char *buf, size_t len,
    struct lb_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);

	if (v == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "no member %s", name);
	if ((cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e15 &&
	    v->valuedouble == (double)(long long)v->valuedouble) ||
	    (cJSON_IsString(v) && lb_evalai_pk_ok(v->valuestring))) {
		copytext(v, buf, len);
		return 0;
	}
	return lb_err_set(e, LB_EFAIL, 0, "%s must be a whole number or a "
	    "string of digits", name);
}

static char *
upper(const char *s)
{
	char *u = lb_xstrdup(s), *p;

	for (p = u; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

static cJSON *
ddb_key(const char *k1, const char *v1, const char *k2, const char *v2)
{
	cJSON *key = cJSON_CreateObject(), *a;

	a = cJSON_AddObjectToObject(key, k1);
	cJSON_AddStringToObject(a, "S", v1);
	a = cJSON_AddObjectToObject(key, k2);
	cJSON_AddStringToObject(a, "S", v2);
	return key;
}

/* GetItem; *item gets the Item (or NULL when there is none). */
static int
ddb_get(struct state *st, const char *table, cJSON *key, cJSON **item,
    struct lb_err *e)
{
	cJSON *req, *ans;

	*item = NULL;
	if (st->aws == NULL && (st->aws = lb_aws_new(st->http, e)) == NULL) {
		cJSON_Delete(key);
		return -1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "TableName", table);
	cJSON_AddItemToObject(req, "Key", key);
	cJSON_AddTrueToObject(req, "ConsistentRead");
	ans = lb_aws_json(st->aws, "dynamodb", "DynamoDB_20120810.GetItem",
	    "application/x-amz-json-1.0", req, e);
	cJSON_Delete(req);
	if (ans == NULL) {
		lb_err_prefix(e, "DynamoDB table %s", table);
		return -1;
	}
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ans, "Item")))
		*item = cJSON_DetachItemFromObjectCaseSensitive(ans, "Item");
	cJSON_Delete(ans);
	return 0;
}

/*
 * The worker count: a count stored in the submission's row wins, so
 * that a resumed run keeps its shard plan (as the reference does).
 */
static int
workers(struct state *st, const struct lb_config_phase *ph,
    const char *team, const char *sid, long line, char *out, size_t len,
    struct lb_err *e)
{
	cJSON *item, *a;
	const char *v = NULL;
	long n;

	snprintf(out, len, "%ld", ph->track->workers);
	if (st->noddb)
		return 0;
	if (ddb_get(st, ph->cluster->submissions_table,
	    ddb_key("team_id", team, "submission_id", sid), &item, e) == -1)
		return -1;
	a = cJSON_GetObjectItemCaseSensitive(item, "parallelization_workers");
	if (a != NULL && (v = lb_json_str(a, "S")) == NULL)
		v = lb_json_str(a, "N");
	if (v != NULL && *v != '\0') {
		if (lb_util_strtol(v, 1, 1000, &n) == 0)
			snprintf(out, len, "%ld", n);
		else
			warnx("stdin:%ld: submission %s: ignoring the stored "
			    "worker count", line, sid);
	}
	cJSON_Delete(item);
	return 0;
}

/* Is the team allowed on this track by the qualifier gate? */
static int
qualified(struct state *st, const struct lb_config_phase *ph,
    const char *team, const char *track_uc, int *yes, struct lb_err *e)
{
	cJSON *item;

	*yes = 1;
	if (cJSON_GetArraySize(ph->cluster->threshold_map) == 0 ||
	    cJSON_GetObjectItemCaseSensitive(ph->cluster->qualifier_map,
	    ph->track->codename) != NULL || st->noddb)
		return 0;
	if (ddb_get(st, ph->cluster->qualifier_table,
	    ddb_key("team_id", team, "track_codename", track_uc), &item,
	    e) == -1)
		return -1;
	*yes = item != NULL;
	cJSON_Delete(item);
	return 0;
}

/* The qualifier track that opens this one, for the participant's reason. */
static const char *
opener(const struct lb_config_phase *ph)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, ph->cluster->qualifier_map)
		if (cJSON_IsString(it) &&
		    strcmp(it->valuestring, ph->track->codename) == 0)
			return it->string;
	return NULL;
}

static int
member_is(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static int
enrich(struct state *st, const cJSON *rec, long line, cJSON **outp,
    struct lb_err *e)
{
	const struct lb_config_phase *ph;
	const struct lb_config_cluster *cl;
	const cJSON *v, *it;
	cJSON *sub = NULL, *out, *data, *o, *row;
	char cpk[32], ppk[32], spk[32], team[64], workers_s[32], buf[64];
	char *status = NULL, *track_uc = NULL, *reason = NULL, *to;
	const char *uri = NULL, *team_name = "", *gate;
	int eligible, allowed = 1, yes, rv = -1;

	if (pk(rec, "challenge_pk", cpk, sizeof(cpk), e) == -1 ||
	    pk(rec, "phase_pk", ppk, sizeof(ppk), e) == -1 ||
	    pk(rec, "submission_pk", spk, sizeof(spk), e) == -1)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(rec, "submitted_image_uri");
	if (v != NULL && !cJSON_IsString(v) && !cJSON_IsNull(v))
		return lb_err_set(e, LB_EFAIL, 0, "submitted_image_uri must be "
		    "a string");
	uri = cJSON_GetStringValue(v);
	v = cJSON_GetObjectItemCaseSensitive(rec,
	    "is_static_dataset_code_upload_submission");
	if (v != NULL && !cJSON_IsBool(v))
		return lb_err_set(e, LB_EFAIL, 0, "is_static_dataset_code_"
		    "upload_submission must be true or false");
	if ((ph = lb_config_phase(st->cfg, ppk)) == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "submission %s: phase %s is "
		    "not mapped to a track in %s", spk, ppk, st->cfg->path);
	cl = ph->cluster;

	if ((sub = lb_evalai_submission(st->ev, spk, e)) == NULL) {
		if (e->http != 404) {
			lb_err_prefix(e, "submission %s", spk);
			return -1;
		}
		status = lb_xstrdup("FAILED");
		reason = lb_xasprintf("submission %s does not exist in EvalAI",
		    spk);
		team[0] = '\0';
	} else {
		status = upper(lb_json_str(sub, "status") ?
		    lb_json_str(sub, "status") : "");
		if (copytext(cJSON_GetObjectItemCaseSensitive(sub,
		    "participant_team"), team, sizeof(team)) == NULL)
			team[0] = '\0';
		if (lb_json_str(sub, "participant_team_name") != NULL)
			team_name = lb_json_str(sub, "participant_team_name");
		v = cJSON_GetObjectItemCaseSensitive(sub, "challenge_phase");
		if (copytext(v, buf, sizeof(buf)) != NULL &&
		    strcmp(buf, ppk) != 0)
			reason = lb_xasprintf("submission %s belongs to phase "
			    "%s in EvalAI, not to phase %s", spk, buf, ppk);
	}
	eligible = reason == NULL && (strcmp(status, "SUBMITTED") == 0 ||
	    strcmp(status, "RESUMING") == 0);
	if (reason == NULL && !eligible)
		reason = lb_xasprintf("submission %s is %s in EvalAI", spk,
		    *status ? status : "without a status");
	track_uc = upper(ph->track->codename);
	snprintf(workers_s, sizeof(workers_s), "%ld", ph->track->workers);

	if (eligible && !lb_config_image_allowed(cl, uri)) {
		allowed = 0;
		reason = uri == NULL || *uri == '\0' ?
		    lb_xstrdup("the submission has no image") :
		    lb_xasprintf("the image is not from a registry this "
		    "challenge accepts (%.200s)", uri);
	}
	if (eligible && allowed) {
		if (workers(st, ph, team, spk, line, workers_s,
		    sizeof(workers_s), e) == -1 ||
		    qualified(st, ph, team, track_uc, &yes, e) == -1) {
			lb_err_prefix(e, "submission %s", spk);
			goto out;
		}
		if (!yes) {
			allowed = 0;
			gate = opener(ph);
			reason = gate ? lb_xasprintf("the team has not passed "
			    "the %s qualifier needed for track %s", gate,
			    track_uc) : lb_xasprintf("the team has not "
			    "qualified for track %s", track_uc);
		}
	}

	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "is_eligible", eligible);
	cJSON_AddBoolToObject(out, "is_allowed", eligible && allowed);
	data = cJSON_AddObjectToObject(out, "data");
	o = cJSON_AddObjectToObject(data, "cluster");
	cJSON_AddStringToObject(o, "id", cl->id);
	cJSON_AddStringToObject(o, "name", cl->name);
	cJSON_AddStringToObject(o, "endpoint", cl->endpoint);
	cJSON_AddStringToObject(o, "certificate_authority",
	    cl->certificate_authority);
	cJSON_AddStringToObject(o, "instance_type", ph->track->instance_type);
	cJSON_AddStringToObject(o, "parallelization_workers", workers_s);
	cJSON_AddStringToObject(o, "simulator_image", cl->simulator_image);
	cJSON_AddStringToObject(o, "leaderboard_image", cl->leaderboard_image);
	cJSON_AddStringToObject(o, "uploader_image", cl->uploader_image);
	cJSON_AddStringToObject(o, "monitor_image", cl->monitor_image);
	o = cJSON_AddObjectToObject(data, "submission");
	cJSON_AddStringToObject(o, "submission_id", spk);
	cJSON_AddStringToObject(o, "challenge_id", cpk);
	cJSON_AddStringToObject(o, "team_id", team);
	cJSON_AddStringToObject(o, "team_name", team_name);
	cJSON_AddStringToObject(o, "submission_status", status);
	cJSON_AddStringToObject(o, "track_id", ppk);
	cJSON_AddStringToObject(o, "track_codename", track_uc);
	cJSON_AddStringToObject(o, "resume",
	    strcmp(status, "RESUMING") == 0 ? "1" : "");
	snprintf(buf, sizeof(buf), "%ld", ph->track->routes);
	cJSON_AddStringToObject(o, "routes", buf);
	cJSON_AddStringToObject(o, "submitted_image_uri", uri ? uri : "");
	o = cJSON_AddObjectToObject(data, "qualifier");
	to = NULL;
	v = cJSON_GetObjectItemCaseSensitive(cl->qualifier_map,
	    ph->track->codename);
	cJSON_AddStringToObject(o, "is_qualifying", v ? "1" : "");
	if (cJSON_IsString(v))
		to = upper(v->valuestring);
	cJSON_AddStringToObject(o, "qualifying_to", to ? to : "");
	free(to);
	cJSON_AddItemToObject(o, "threshold_map",
	    cJSON_Duplicate(cl->threshold_map, 1));
	o = cJSON_AddObjectToObject(data, "aws");
	cJSON_AddStringToObject(o, "s3_bucket", cl->s3_bucket);
	cJSON_AddStringToObject(o, "dynamodb_submissions_table",
	    cl->submissions_table);
	cJSON_AddStringToObject(o, "dynamodb_qualifier_table",
	    cl->qualifier_table);
	o = cJSON_AddObjectToObject(data, "evalai");
	cJSON_AddStringToObject(o, "api_server", lb_evalai_base(st->ev));
	cJSON_AddObjectToObject(data, "results");
	if (reason != NULL)
		cJSON_AddStringToObject(out, "reason", reason);
	if (eligible && allowed) {
		char now[32];

		lb_util_isotime(time(NULL), now);
		row = cJSON_AddObjectToObject(out, "row");
		cJSON_AddStringToObject(row, "submission_id", spk);
		cJSON_AddStringToObject(row, "team_id", team);
		cJSON_AddStringToObject(row, "team_name", team_name);
		cJSON_AddStringToObject(row, "submission_status", "SUBMITTED");
		cJSON_AddStringToObject(row, "track_id", ppk);
		cJSON_AddStringToObject(row, "track_name", track_uc);
		cJSON_AddStringToObject(row, "submitted_image_uri", uri);
		cJSON_AddStringToObject(row, "parallelization_workers",
		    workers_s);
		cJSON_AddStringToObject(row, "submitted_time", now);
		cJSON_AddStringToObject(row, "start_time", "-");
		cJSON_AddStringToObject(row, "end_time", "-");
		cJSON_AddStringToObject(row, "challenge_id", cpk);
		/* the sparse index lb-reconcile reads (examples/tables) */
		cJSON_AddStringToObject(row, "unfinished", cl->id);
	}
	cJSON_ArrayForEach(it, rec)
		if (!member_is(it->string, msgkeys) &&
		    !member_is(it->string, ourkeys))
			cJSON_AddItemToObject(out, it->string,
			    cJSON_Duplicate(it, 1));
	*outp = out;
	rv = 0;
out:
	free(reason);
	free(status);
	free(track_uc);
	cJSON_Delete(sub);
	return rv;
}

static volatile sig_atomic_t stop;

static void
onsig(int sig)
{
	stop = sig;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_http_opts ho = { 0 };
	struct state st = { 0 };
	struct lb_jsonl *in;
	struct lb_err e;
	const char *cpath = NULL, *rejects = NULL, *raw;
	char *token;
	cJSON *rec = NULL, *out = NULL;
	size_t rawlen;
	int ch, check = 0, verbose = 0, status = 0, r;

	while ((ch = getopt_long(argc, argv, "c:hnr:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			check = 1;
			break;
		case 'c':
			cpath = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'n':
			st.noddb = 1;
			break;
		case 'r':
			rejects = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc)
		usage(stderr, LB_EUSAGE);

	cpath = lb_config_path(cpath);
	if ((st.cfg = lb_config_load(cpath, &e)) == NULL)
		errx(LB_EUSAGE, "%s", e.msg);
	if (check) {
		if (lb_config_check(st.cfg, &e) == -1)
			errx(LB_EUSAGE, "%s", e.msg);
		lb_config_free(st.cfg);
		return 0;
	}
	if (verbose)
		ho.trace = trace;
	if ((st.http = lb_http_new(&ho)) == NULL)
		errx(LB_EFAIL, "cannot start libcurl");
	if ((token = lb_evalai_token(st.cfg->token_source, st.http,
	    &e)) == NULL)
		errx(e.kind == LB_ETEMP ? LB_ETEMP : LB_EUSAGE, "%s", e.msg);
	st.ev = lb_evalai_new(st.http, st.cfg->api_server, token, &e);
	explicit_bzero(token, strlen(token));
	free(token);
	if (st.ev == NULL)
		errx(LB_EUSAGE, "%s", e.msg);

	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	setvbuf(stdout, NULL, _IOLBF, 0);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while (!stop && (r = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (r == -2)
			errx(LB_EFAIL, "stdin: %s", e.msg);
		if (r == 1 && enrich(&st, rec, lb_jsonl_line(in), &out,
		    &e) == 0) {
			if (lb_jsonl_write(stdout, out) == -1)
				err(LB_EFAIL, "stdout");
			cJSON_Delete(out);
		} else {
			if (r == 1 && lb_evalai_auth_failed(&e))
				errx(LB_EFAIL, "stdin:%ld: %s",
				    lb_jsonl_line(in), e.msg);
			if (r == 1 && e.kind == LB_EUSAGE)
				errx(LB_EUSAGE, "stdin:%ld: %s",
				    lb_jsonl_line(in), e.msg);
			warnx("stdin:%ld: %s", lb_jsonl_line(in), e.msg);
			lb_err_fold(&status, r == 1 ? e.kind : LB_EFAIL);
			raw = lb_jsonl_raw(in, &rawlen);
			if (rejects != NULL &&
			    lb_jsonl_reject(rejects, raw, rawlen) == -1)
				err(LB_EFAIL, "%s", rejects);
		}
		cJSON_Delete(rec);
	}
	lb_jsonl_close(in);
	lb_evalai_free(st.ev);
	lb_aws_free(st.aws);
	lb_http_free(st.http);
	lb_config_free(st.cfg);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(LB_EFAIL, "stdout");
	return status;
}
