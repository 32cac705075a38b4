/*
 * lb-finalize: the reference PostEKS as a filter.  For each enriched
 * submission document decide the final status from the status markers
 * in S3 (and the Kubernetes Job outcome when the record carries one),
 * read the EvalAI files, make the qualifier decision and write its row,
 * and add what lb-evalai-post sends ("update") and what the submission
 * row gets ("final").
 */
#include <ctype.h>
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lb.h"
#include "config.h"
#include "ddb.h"
#include "evalai.h"
#include "finalize.h"
#include "s3.h"

/* The reference's sentence for a team kept out by the qualifier gate. */
#define NOT_ALLOWED	"You are not allowed to submit to this track. " \
			"Please, run the qualifier track first."

struct state {
	struct lb_config *cfg;
	struct lb_s3	*s3;
	struct lb_aws	*aws;
	struct lb_http	*http;
	int		 noqwrite;
	int		 verbose;
	long		 line;
};

/* What one record needs, checked before any request. */
struct sub {
	char		 id[32], challenge[32], track_id[32];
	char		 team[2049];	/* 2048 bytes: a DynamoDB key's limit */
	char		 track[128];
	const char	*bucket, *qtable;
	const cJSON	*qualifier;
	long		 workers;
	int		 allowed;
	const char	*reason;	/* the enrich reason, participant's */
	const cJSON	*k8s;
	cJSON		*own;		/* a qualifier member made from -c */
};

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: lb-finalize [-v] [-c config] [-r rejects] "
	    "[--no-qualifier-write]\n");
	exit(status);
}

static void
trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "lb-finalize: %s\n", line);
}

/* A string or whole number member as text, into buf; -1 if neither. */
static int
member_text(const cJSON *rec, const char *path, char *buf, size_t len,
    int need, struct lb_err *e)
{
	const cJSON *v = lb_json_path(rec, path);
	const char *t;

	if (v == NULL || cJSON_IsNull(v)) {
		buf[0] = '\0';
		return need ? lb_err_set(e, LB_EFAIL, 0, "%s is missing",
		    path) : 0;
	}
	if ((t = lb_json_text(v, buf, len)) == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "%s must be a string or a "
		    "whole number", path);
	if (strlen(t) >= len)
		return lb_err_set(e, LB_EFAIL, 0, "%s is longer than %zu "
		    "bytes", path, len - 1);
	if (t != buf)
		memcpy(buf, t, strlen(t) + 1);
	return 0;
}

static const char *
member_str(const cJSON *rec, const char *path, int need, struct lb_err *e)
{
	const cJSON *v = lb_json_path(rec, path);

	if ((v == NULL || cJSON_IsNull(v)) && !need)
		return NULL;
	if (!cJSON_IsString(v) || *v->valuestring == '\0') {
		lb_err_set(e, LB_EFAIL, 0, "%s must be a non-empty string",
		    path);
		return NULL;
	}
	return v->valuestring;
}

/* The cluster named by data.cluster.id in the configuration, if any. */
static const struct lb_config_cluster *
cluster_of(struct state *st, const cJSON *rec)
{
	const char *id = lb_json_str(rec, "data.cluster.id");

	if (st->cfg == NULL || id == NULL)
		return NULL;
	return lb_config_cluster(st->cfg, id);
}

/* data.qualifier as lb-submission-enrich makes it, from the cluster. */
static cJSON *
qualifier_of(const struct lb_config_cluster *cl, const char *track)
{
	const cJSON *it, *to = NULL;
	cJSON *q = cJSON_CreateObject();
	char *up, *p;

	cJSON_ArrayForEach(it, cl->qualifier_map)
		if (it->string != NULL && strcasecmp(it->string, track) == 0)
			to = it;
	cJSON_AddStringToObject(q, "is_qualifying", to != NULL ? "1" : "");
	up = lb_xstrdup(cJSON_IsString(to) ? to->valuestring : "");
	for (p = up; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	cJSON_AddStringToObject(q, "qualifying_to", up);
	free(up);
	cJSON_AddItemToObject(q, "threshold_map",
	    cJSON_Duplicate(cl->threshold_map, 1));
	return q;
}

static int
check(struct state *st, const cJSON *rec, struct sub *s, struct lb_err *e)
{
	const struct lb_config_cluster *cl = cluster_of(st, rec);
	const cJSON *v;
	char buf[32];
	long routes;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(lb_json_path(rec, "data")))
		return lb_err_set(e, LB_EFAIL, 0, "no \"data\" object (not an "
		    "enriched submission document)");
	v = cJSON_GetObjectItemCaseSensitive(rec, "is_eligible");
	if (v != NULL && !cJSON_IsBool(v))
		return lb_err_set(e, LB_EFAIL, 0, "is_eligible must be true "
		    "or false");
	if (cJSON_IsFalse(v))
		return lb_err_set(e, LB_EFAIL, 0, "not eligible, nothing to "
		    "finalise%s%.200s", lb_json_str(rec, "reason") ? ": " :
		    "", lb_json_str(rec, "reason") ? lb_json_str(rec,
		    "reason") : "");
	v = cJSON_GetObjectItemCaseSensitive(rec, "is_allowed");
	if (v != NULL && !cJSON_IsBool(v))
		return lb_err_set(e, LB_EFAIL, 0, "is_allowed must be true "
		    "or false");
	s->allowed = !cJSON_IsFalse(v);
	v = cJSON_GetObjectItemCaseSensitive(rec, "reason");
	if (v != NULL && !cJSON_IsString(v) && !cJSON_IsNull(v))
		return lb_err_set(e, LB_EFAIL, 0, "reason must be a string");
	s->reason = cJSON_GetStringValue(v);
	v = cJSON_GetObjectItemCaseSensitive(rec, "k8s");
	if (v != NULL && !cJSON_IsObject(v) && !cJSON_IsNull(v))
		return lb_err_set(e, LB_EFAIL, 0, "k8s must be an object");
	s->k8s = cJSON_IsObject(v) ? v : NULL;

	if (member_text(rec, "data.submission.submission_id", s->id,
	    sizeof(s->id), 1, e) == -1 ||
	    member_text(rec, "data.submission.challenge_id", s->challenge,
	    sizeof(s->challenge), 1, e) == -1 ||
	    member_text(rec, "data.submission.track_id", s->track_id,
	    sizeof(s->track_id), 1, e) == -1 ||
	    member_text(rec, "data.submission.team_id", s->team,
	    sizeof(s->team), 0, e) == -1 ||
	    member_text(rec, "data.submission.track_codename", s->track,
	    sizeof(s->track), 0, e) == -1)
		return -1;
	/* the id becomes an S3 prefix: digits only, never "../x" */
	if (!lb_evalai_pk_ok(s->id))
		return lb_err_set(e, LB_EFAIL, 0, "data.submission."
		    "submission_id must be a whole number, not \"%.40s\"",
		    s->id);

	lb_err_clear(e);
	if ((s->bucket = member_str(rec, "data.aws.s3_bucket", cl == NULL,
	    e)) == NULL && cl == NULL)
		return -1;
	if (s->bucket == NULL)
		s->bucket = cl->s3_bucket;
	lb_err_clear(e);
	if ((s->qtable = member_str(rec, "data.aws.dynamodb_qualifier_table",
	    0, e)) == NULL && e->kind != 0)
		return -1;
	if (s->qtable == NULL && cl != NULL)
		s->qtable = cl->qualifier_table;
	s->qualifier = lb_json_path(rec, "data.qualifier");
	if (s->qualifier == NULL && cl != NULL)
		s->qualifier = s->own = qualifier_of(cl, s->track);

	if (!s->allowed)
		return 0;
	if (member_text(rec, "data.cluster.parallelization_workers", buf,
	    sizeof(buf), 1, e) == -1)
		return -1;
	if (lb_util_strtol(buf, 1, LB_FINALIZE_MAXWORKERS, &s->workers) == -1)
		return lb_err_set(e, LB_EFAIL, 0, "data.cluster."
		    "parallelization_workers must be a whole number from 1 "
		    "to %d", LB_FINALIZE_MAXWORKERS);
	/* as lb-submission-split: never more workers than routes */
	if (member_text(rec, "data.submission.routes", buf, sizeof(buf), 0,
	    e) == 0 && buf[0] != '\0' &&
	    lb_util_strtol(buf, 1, 1000000, &routes) == 0 &&
	    routes < s->workers)
		s->workers = routes;
	lb_err_clear(e);
	return 0;
}

struct listing {
	struct lb_finalize_markers *m;
	size_t		 plen;
};

static int
one_marker(void *arg, const struct lb_s3_obj *o, struct lb_err *e)
{
	struct listing *l = arg;

	(void)e;
	if (o->is_prefix || strlen(o->key) <= l->plen)
		return 0;
	lb_finalize_marker(l->m, o->key + l->plen);
	return 0;
}

/*
 * Read SUBMISSION/evalai/NAME into *out (malloc'd, "" when the object
 * does not exist, as the reference).  Text that is not UTF-8 is empty
 * too (the reference's decode fails and it sends "").
 */
static int
read_text(struct state *st, const struct sub *s, const char *name,
    char **out, struct lb_err *e)
{
	char *key, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	*out = NULL;
	key = lb_xasprintf("%s/evalai/%s", s->id, name);
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(LB_EFAIL, "open_memstream");
	rc = lb_s3_get_fp(st->s3, s->bucket, key, f, NULL, e);
	if (fclose(f) == EOF)
		err(LB_EFAIL, "memstream");
	if (rc == -1 && (e->http == 404 || strcmp(e->code, "NoSuchKey") == 0)
	    && strcmp(e->code, "NoSuchBucket") != 0) {
		lb_err_clear(e);
		buf[0] = '\0';
		len = 0;
		rc = 0;
	} else if (rc == -1)
		lb_err_prefix(e, "s3://%s/%s", s->bucket, key);
	else if (!lb_finalize_utf8(buf, len)) {
		warnx("stdin:%ld: submission %s: %s is not UTF-8 text; "
		    "sending it empty", st->line, s->id, key);
		buf[0] = '\0';
	}
	free(key);
	if (rc == -1) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* PutItem of the qualifier row: team_id, track_codename (the track
 * qualified to), submission_id, driving_score, time. */
static int
put_qualifier(struct state *st, const struct sub *s,
    const struct lb_finalize_qual *q, const char *now, struct lb_err *e)
{
	cJSON *item, *body, *av, *ans;

	if (s->qtable == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "no qualifier table "
		    "(data.aws.dynamodb_qualifier_table)");
	if (s->team[0] == '\0')
		return lb_err_set(e, LB_EFAIL, 0, "no team_id for the "
		    "qualifier row");
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "team_id", s->team);
	cJSON_AddStringToObject(item, "track_codename", q->to);
	cJSON_AddStringToObject(item, "submission_id", s->id);
	cJSON_AddStringToObject(item, "driving_score", q->score);
	cJSON_AddStringToObject(item, "qualified_time", now);
	if ((av = lb_ddb_to_item(item, e)) == NULL) {
		cJSON_Delete(item);
		return -1;
	}
	cJSON_Delete(item);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "TableName", s->qtable);
	cJSON_AddItemToObject(body, "Item", av);
	ans = lb_ddb_call(st->aws, "PutItem", body, e);
	cJSON_Delete(body);
	if (ans == NULL) {
		lb_err_prefix(e, "qualifier table %s: PutItem", s->qtable);
		return -1;
	}
	cJSON_Delete(ans);
	return 0;
}

static void
add_text(struct lb_buf *b, const char *sep, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	if (b->len > 0)
		lb_buf_puts(b, sep);
	lb_buf_puts(b, text);
}

static int
finalize(struct state *st, cJSON *rec, struct lb_err *e)
{
	struct lb_finalize_markers m;
	struct lb_finalize_qual q;
	struct listing l;
	struct sub s;
	struct lb_buf why = { 0 }, out = { 0 }, errtxt = { 0 }, qt = { 0 };
	char *result = NULL, *stdout_t = NULL, *meta = NULL, *prefix;
	char now[32];
	const char *score = NULL;
	cJSON *results = NULL, *upd, *fin, *o;
	int status, rv = -1, have_markers = 0;

	lb_util_isotime(time(NULL), now);
	memset(&q, 0, sizeof(q));
	if (check(st, rec, &s, e) == -1) {
		cJSON_Delete(s.own);
		return -1;
	}
	lb_finalize_markers_init(&m, s.allowed ? s.workers : 1);

	if (!s.allowed) {
		/* nothing ran: no markers, no files to read */
		status = LB_FINALIZE_FAILED;
		lb_buf_puts(&why, s.reason != NULL && *s.reason != '\0' ?
		    s.reason : "the team is not allowed on this track");
		if (s.reason != NULL && *s.reason != '\0')
			lb_buf_printf(&errtxt, "This submission was not run: "
			    "%s.", s.reason);
		else
			lb_buf_puts(&errtxt, NOT_ALLOWED);
		result = lb_xstrdup("");
		stdout_t = lb_xstrdup("");
		meta = lb_xstrdup("");
		goto build;
	}

	prefix = lb_xasprintf("%s/containers-status/", s.id);
	l.m = &m;
	l.plen = strlen(prefix);
	if (lb_s3_list(st->s3, s.bucket, prefix, NULL, one_marker, &l,
	    e) == -1) {
		lb_err_prefix(e, "s3://%s/%s", s.bucket, prefix);
		free(prefix);
		goto out;
	}
	free(prefix);
	have_markers = 1;
	if (read_text(st, &s, "results.json", &result, e) == -1 ||
	    read_text(st, &s, "stdout.txt", &stdout_t, e) == -1 ||
	    read_text(st, &s, "metadata.json", &meta, e) == -1)
		goto out;

	status = lb_finalize_status(&m);
	if (status == LB_FINALIZE_FINISHED || *result != '\0') {
		results = lb_finalize_results(result, strlen(result), e);
		if (results == NULL && status == LB_FINALIZE_FINISHED) {
			/* EvalAI refuses FINISHED without results */
			status = LB_FINALIZE_FAILED;
			lb_buf_puts(&why, "the evaluation ended but its "
			    "results could not be read");
			if (st->verbose)
				warnx("stdin:%ld: submission %s: %s", st->line,
				    s.id, e->msg);
		}
		lb_err_clear(e);
	}
	if (results != NULL)
		score = lb_json_str(results, "driving_score");

	if (lb_finalize_qualifier(s.qualifier, s.track, score, &q, e) == -1)
		goto out;
	if (status != LB_FINALIZE_FINISHED && q.applies) {
		/* the reference decides on finished submissions only */
		q.applies = q.passed = 0;
		q.why = "the submission did not finish";
	}
	if (status == LB_FINALIZE_FINISHED) {
		if (q.applies && q.passed && !st->noqwrite &&
		    put_qualifier(st, &s, &q, now, e) == -1)
			goto out;
		lb_finalize_qual_text(&qt, &q);
		lb_buf_printf(&why, "all %ld status markers are present",
		    m.expected);
	} else if (status == LB_FINALIZE_CANCELLED)
		lb_buf_printf(&why, "cancelled (%s)", m.cancel);
	else {
		if (why.len == 0)
			lb_finalize_reason(&why, s.k8s, &m);
		if (why.len == 0)
			lb_buf_puts(&why, "the evaluation did not finish");
		lb_buf_printf(&errtxt, "The submission failed: %s.", why.p);
	}

build:
	add_text(&out, "", stdout_t);
	add_text(&out, "\n\n", qt.p);

	upd = cJSON_CreateObject();
	cJSON_AddStringToObject(upd, "status",
	    lb_finalize_status_name(status));
	cJSON_AddStringToObject(upd, "result", result);
	cJSON_AddStringToObject(upd, "metadata", meta);
	cJSON_AddStringToObject(upd, "stdout", out.p ? out.p : "");
	cJSON_AddStringToObject(upd, "stderr", errtxt.p ? errtxt.p : "");
	lb_json_set(rec, "update", upd);

	fin = cJSON_CreateObject();
	cJSON_AddStringToObject(fin, "team_id", s.team);
	cJSON_AddStringToObject(fin, "submission_id", s.id);
	cJSON_AddStringToObject(fin, "status",
	    lb_finalize_status_name(status));
	cJSON_AddStringToObject(fin, "reason", why.p ? why.p : "");
	cJSON_AddStringToObject(fin, "end_time", now);
	cJSON_AddStringToObject(fin, "driving_score", score ? score : "-");
	cJSON_AddItemToObject(fin, "results", results ? results :
	    cJSON_CreateObject());
	results = NULL;
	o = cJSON_AddObjectToObject(fin, "markers");
	cJSON_AddNumberToObject(o, "done", (double)m.done);
	cJSON_AddNumberToObject(o, "expected", have_markers ?
	    (double)m.expected : 0);
	if (m.cancel[0] != '\0')
		cJSON_AddStringToObject(o, "cancel", m.cancel);
	else
		cJSON_AddNullToObject(o, "cancel");
	cJSON_AddNumberToObject(o, "crashes", (double)m.crashes);
	cJSON_AddNumberToObject(o, "workers", have_markers ?
	    (double)m.workers : 0);
	o = cJSON_AddObjectToObject(fin, "qualifier");
	cJSON_AddBoolToObject(o, "is_qualifying", q.qualifying);
	cJSON_AddStringToObject(o, "qualifying_to", q.to);
	cJSON_AddBoolToObject(o, "applies", q.applies);
	if (q.threshold[0] != '\0')
		cJSON_AddStringToObject(o, "threshold", q.threshold);
	else
		cJSON_AddNullToObject(o, "threshold");
	cJSON_AddBoolToObject(o, "passed", q.passed);
	cJSON_AddBoolToObject(o, "written", q.applies && q.passed &&
	    !st->noqwrite);
	if (q.why != NULL)
		cJSON_AddStringToObject(o, "why", q.why);
	lb_json_set(rec, "final", fin);
	rv = 0;
out:
	cJSON_Delete(s.own);
	cJSON_Delete(results);
	lb_finalize_markers_free(&m);
	lb_buf_free(&why);
	lb_buf_free(&out);
	lb_buf_free(&errtxt);
	lb_buf_free(&qt);
	free(result);
	free(stdout_t);
	free(meta);
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "no-qualifier-write", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct state st;
	struct lb_http_opts h;
	struct lb_s3_opts so;
	struct lb_jsonl *in;
	struct lb_err e;
	const char *cpath = NULL, *rejects = NULL, *raw;
	cJSON *rec = NULL;
	size_t rawlen;
	int ch, status = 0, r;

	memset(&st, 0, sizeof(st));
	while ((ch = getopt_long(argc, argv, "c:hr:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'Q':
			st.noqwrite = 1;
			break;
		case 'r':
			rejects = optarg;
			break;
		case 'v':
			st.verbose = 1;
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc)
		usage(stderr, LB_EUSAGE);

	memset(&e, 0, sizeof(e));
	if (cpath != NULL &&
	    (st.cfg = lb_config_load(lb_config_path(cpath), &e)) == NULL)
		errx(LB_EUSAGE, "%s", e.msg);
	memset(&h, 0, sizeof(h));
	h.connect_timeout_ms = 5000;
	h.timeout_ms = 60000;
	h.max_attempts = 5;
	h.backoff_base_ms = 200;
	h.backoff_max_ms = 20000;
	h.retry_after_max_ms = 60000;
	if (st.verbose)
		h.trace = trace;
	memset(&so, 0, sizeof(so));
	so.http = &h;
	if ((st.s3 = lb_s3_new(&so, &e)) == NULL)
		errx(e.kind ? e.kind : LB_EUSAGE, "%s", e.msg);
	st.http = lb_http_new(&h);
	if ((st.aws = lb_aws_new(st.http, &e)) == NULL)
		errx(e.kind ? e.kind : LB_EUSAGE, "%s", e.msg);

	setvbuf(stdout, NULL, _IOLBF, 0);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while ((r = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (r == -2)
			errx(LB_EFAIL, "stdin: %s", e.msg);
		st.line = lb_jsonl_line(in);
		if (r == 1) {
			lb_err_clear(&e);
			r = finalize(&st, rec, &e);
		}
		if (r == 0) {
			if (lb_jsonl_write(stdout, rec) == -1)
				err(LB_EFAIL, "stdout");
		} else {
			warnx("stdin:%ld: %s", st.line, e.msg);
			lb_err_fold(&status, e.kind ? e.kind : LB_EFAIL);
			/* missing credentials stop at once */
			if (e.kind == LB_EUSAGE)
				break;
			raw = lb_jsonl_raw(in, &rawlen);
			if (rejects != NULL &&
			    lb_jsonl_reject(rejects, raw, rawlen) == -1)
				err(LB_EFAIL, "%s", rejects);
		}
		cJSON_Delete(rec);
		rec = NULL;
	}
	cJSON_Delete(rec);
	lb_jsonl_close(in);
	lb_s3_free(st.s3);
	lb_aws_free(st.aws);
	lb_http_free(st.http);
	lb_config_free(st.cfg);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(LB_EFAIL, "stdout");
	return status;
}
