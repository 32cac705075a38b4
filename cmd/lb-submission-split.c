/*
 * lb-submission-split: one enriched submission document in, one
 * document per worker Job and one for the monitor Job out (the
 * reference PreParallel and PreMonitor outputs), with valid, unique,
 * stable Job names and the route subset of each worker.
 */
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "names.h"

/* Members of the enriched document: consumed, not passed through. */
static const char *const inkeys[] = { "is_eligible", "is_allowed", "data",
    "reason", "row", NULL };
/* Members this tool writes. */
static const char *const ourkeys[] = { "cluster", "submission",
    "parallelization", "aws", "evalai", "role", NULL };

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: lb-submission-split [-r rejects]\n");
	exit(status);
}

static int
member_is(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

/* A count given as a string or a number, from 1 to max. */
static int
count(const cJSON *doc, const char *path, long max, long *out,
    struct lb_err *e)
{
	const cJSON *v = lb_json_path(doc, path);
	const char *t;
	char buf[64];

	if (v == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "no member %s", path);
	if ((t = lb_json_text(v, buf, sizeof(buf))) == NULL ||
	    lb_util_strtol(t, 1, max, out) == -1)
		return lb_err_set(e, LB_EFAIL, 0, "%s must be a whole number "
		    "from 1 to %ld", path, max);
	return 0;
}

static const char *
need_str(const cJSON *doc, const char *path, struct lb_err *e)
{
	const char *s = lb_json_str(doc, path);

	if (s == NULL)
		lb_err_set(e, LB_EFAIL, 0, "%s must be a string", path);
	return s;
}

static void
copy_str(cJSON *to, const char *name, const cJSON *from, const char *path)
{
	const char *s = lb_json_str(from, path);

	cJSON_AddStringToObject(to, name, s ? s : "");
}

/* Pass the record's own members (sqs, ...) through to a document. */
static void
pass(cJSON *out, const cJSON *in)
{
	const cJSON *it, *m;
	cJSON *ev;

	cJSON_ArrayForEach(it, in) {
		if (member_is(it->string, inkeys))
			continue;
		if (!member_is(it->string, ourkeys)) {
			cJSON_AddItemToObject(out, it->string,
			    cJSON_Duplicate(it, 1));
			continue;
		}
		/*
		 * "evalai" is both lb-evalai-recv's receipt and the
		 * monitor's {api_server}: merge, ours first.
		 */
		if (strcmp(it->string, "evalai") != 0 || !cJSON_IsObject(it))
			continue;
		if ((ev = cJSON_GetObjectItemCaseSensitive(out,
		    "evalai")) == NULL)
			ev = cJSON_AddObjectToObject(out, "evalai");
		cJSON_ArrayForEach(m, it)
			if (cJSON_GetObjectItemCaseSensitive(ev,
			    m->string) == NULL)
				cJSON_AddItemToObject(ev, m->string,
				    cJSON_Duplicate(m, 1));
	}
}

static int
split(const cJSON *in, struct lb_err *e)
{
	const cJSON *data, *v;
	cJSON *out, *o, *cluster;
	const char *sid, *team, *track, *reason;
	char *name, wid[32], nbuf[32];
	long routes, want, n, i;
	double step;

	v = cJSON_GetObjectItemCaseSensitive(in, "is_eligible");
	reason = lb_json_str(in, "reason");
	if (!cJSON_IsBool(v))
		return lb_err_set(e, LB_EFAIL, 0, "is_eligible must be true "
		    "or false");
	if (!cJSON_IsTrue(v) || !cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(in, "is_allowed")))
		return lb_err_set(e, LB_EFAIL, 0, "not to be run: %s",
		    reason ? reason : "is_eligible or is_allowed is false");
	if (!cJSON_IsObject(data = cJSON_GetObjectItemCaseSensitive(in,
	    "data")) || !cJSON_IsObject(lb_json_path(data, "cluster")) ||
	    !cJSON_IsObject(lb_json_path(data, "submission")) ||
	    !cJSON_IsObject(lb_json_path(data, "aws")))
		return lb_err_set(e, LB_EFAIL, 0, "data.cluster, "
		    "data.submission and data.aws must be objects");
	if ((sid = need_str(data, "submission.submission_id", e)) == NULL ||
	    (team = need_str(data, "submission.team_name", e)) == NULL ||
	    (track = need_str(data, "submission.track_codename", e)) == NULL ||
	    count(data, "submission.routes", 1000000, &routes, e) == -1 ||
	    count(data, "cluster.parallelization_workers", 1000, &want,
	    e) == -1)
		return -1;
	if (sid[0] == '\0')
		return lb_err_set(e, LB_EFAIL, 0, "empty submission_id");

	/* The reference's plan: contiguous subsets, ceil of i * step. */
	n = routes < want ? routes : want;
	step = (double)routes / (double)n;
	cluster = cJSON_Duplicate(lb_json_path(data, "cluster"), 1);
	snprintf(nbuf, sizeof(nbuf), "%ld", n);
	lb_json_set_str(cluster, "parallelization_workers", nbuf);

	for (i = 0; i < n; i++) {
		out = cJSON_CreateObject();
		cJSON_AddItemToObject(out, "cluster",
		    cJSON_Duplicate(cluster, 1));
		o = cJSON_AddObjectToObject(out, "submission");
		cJSON_AddStringToObject(o, "submission_id", sid);
		name = lb_names_job(team, track, sid, "worker", (int)i + 1);
		cJSON_AddStringToObject(o, "name", name);
		free(name);
		copy_str(o, "resume", data, "submission.resume");
		copy_str(o, "submitted_image_uri", data,
		    "submission.submitted_image_uri");
		cJSON_AddStringToObject(o, "track_codename", track);
		snprintf(wid, sizeof(wid), "%.0f-%.0f", ceil((double)i * step),
		    ceil((double)(i + 1) * step) - 1);
		cJSON_AddStringToObject(o, "subset", wid);
		o = cJSON_AddObjectToObject(out, "parallelization");
		snprintf(wid, sizeof(wid), "%ld", i + 1);
		cJSON_AddStringToObject(o, "worker_id", wid);
		o = cJSON_AddObjectToObject(out, "aws");
		copy_str(o, "s3_bucket", data, "aws.s3_bucket");
		cJSON_AddStringToObject(out, "role", "worker");
		pass(out, in);
		if (lb_jsonl_write(stdout, out) == -1)
			err(LB_EFAIL, "stdout");
		cJSON_Delete(out);
	}

	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "cluster", cluster);
	o = cJSON_AddObjectToObject(out, "submission");
	cJSON_AddStringToObject(o, "submission_id", sid);
	name = lb_names_job(team, track, sid, "monitor", 0);
	cJSON_AddStringToObject(o, "name", name);
	free(name);
	copy_str(o, "challenge_id", data, "submission.challenge_id");
	copy_str(o, "team_id", data, "submission.team_id");
	copy_str(o, "track_id", data, "submission.track_id");
	copy_str(o, "resume", data, "submission.resume");
	cJSON_AddItemToObject(out, "aws",
	    cJSON_Duplicate(lb_json_path(data, "aws"), 1));
	v = lb_json_path(data, "evalai");
	cJSON_AddItemToObject(out, "evalai", cJSON_IsObject(v) ?
	    cJSON_Duplicate(v, 1) : cJSON_CreateObject());
	cJSON_AddStringToObject(out, "role", "monitor");
	pass(out, in);
	if (lb_jsonl_write(stdout, out) == -1)
		err(LB_EFAIL, "stdout");
	cJSON_Delete(out);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct lb_jsonl *in;
	struct lb_err e;
	const char *rejects = NULL, *raw;
	cJSON *rec = NULL;
	size_t rawlen;
	int ch, status = 0, r;

	while ((ch = getopt(argc, argv, "hr:")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'r':
			rejects = optarg;
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc)
		usage(stderr, LB_EUSAGE);

	setvbuf(stdout, NULL, _IOLBF, 0);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while ((r = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (r == -2)
			errx(LB_EFAIL, "stdin: %s", e.msg);
		if (r == -1 || split(rec, &e) == -1) {
			warnx("stdin:%ld: %s", lb_jsonl_line(in), e.msg);
			lb_err_fold(&status, LB_EFAIL);
			raw = lb_jsonl_raw(in, &rawlen);
			if (rejects != NULL &&
			    lb_jsonl_reject(rejects, raw, rawlen) == -1)
				err(LB_EFAIL, "%s", rejects);
		}
		cJSON_Delete(rec);
	}
	lb_jsonl_close(in);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(LB_EFAIL, "stdout");
	return status;
}
