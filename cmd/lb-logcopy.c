/*
 * lb-logcopy: the in-pod loops of a submission's Jobs.
 *
 *   uploader  one per worker pod: mirror the shared volume to
 *             s3://BUCKET/SUBMISSION/, relay a cancel from S3 to the
 *             pod's containers, end when the worker's simulator and
 *             agent are done or crashed out.
 *   monitor   one per submission: pull the workers' markers and partial
 *             results, merge them, publish the EvalAI files, send
 *             partial updates, relay a cancel from EvalAI, end when
 *             every worker is over.
 *
 * All state is in the volume and in S3, so a restarted container picks
 * up where the last one stopped.  A failed iteration is logged and
 * retried after a backoff; only the end condition, a cancel or SIGTERM
 * end a loop.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ddb.h"
#include "evalai.h"
#include "logcopy.h"
#include "results.h"
#include "s3.h"

enum { UPLOADER = 1, MONITOR };
enum { IT_OK = 0, IT_FAIL = -1, IT_END = 1 };

static struct {
	int		 role;
	const char	*dir;
	long		 period_ms;
	int		 once;
	const char	*bucket, *sub;
	long		 worker, nworkers, max_crashes;
	int		 rule, format;
	const char	*challenge, *track, *team, *table, *api;
} cf;

static volatile int wake, term;
static FILE *logfp;
static char who[32];
static char *logrel;			/* our own log, relative to dir */

static struct lb_http *s3http, *http;
static struct lb_s3 *s3;
static struct lb_aws *aws;
static struct lb_evalai *ev;

/* monitor state */
static int ddb_done;
static int hash_known;
static char last_hash[65];
static int last_pending = -1;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lb-logcopy uploader [-1] [-b bucket] [-c max-crashes] "
	    "[-d dir] [-p seconds]\n"
	    "                  [-s submission] [-w worker]\n"
	    "       lb-logcopy monitor [-1] [-b bucket] [-c max-crashes] "
	    "[-d dir] [-E rule]\n"
	    "                  [-L version] [-n workers] [-p seconds] "
	    "[-s submission]\n");
	exit(2);
}

static void
logmsg(const char *fmt, ...)
{
	char ts[32], line[2048];
	va_list ap;

	lb_util_isotime(time(NULL), ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s: %s\n", ts, who, line);
	if (logfp != NULL) {
		fprintf(logfp, "%s %s: %s\n", ts, who, line);
		fflush(logfp);
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		term = 1;
	wake = 1;
}

/* Sleep ms, ending early on SIGUSR1 or SIGTERM. */
static void
nap(long ms)
{
	struct timespec ts;

	while (ms > 0 && !wake && !term) {
		long step = ms > 50 ? 50 : ms;

		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	wake = 0;
}

static char *
path_of(const char *rel)
{
	return lb_xasprintf("%s/%s", cf.dir, rel);
}

static char *
key_of(const char *rel)
{
	return lb_xasprintf("%s/%s", cf.sub, rel);
}

static int
exists(const char *rel)
{
	struct stat st;
	char *p = path_of(rel);
	int rc = stat(p, &st) == 0;

	free(p);
	return rc;
}

/* Create an empty marker file dir/rel (kept if it is there). */
static int
touch(const char *rel)
{
	struct lb_err e = { 0 };
	char *p = path_of(rel);
	int rc = 0;

	if (access(p, F_OK) != 0 &&
	    lb_util_writefile(p, "", 0, &e) == -1) {
		logmsg("%s", e.msg);
		rc = -1;
	}
	free(p);
	return rc;
}

/* push, pull */

struct syncstat {
	long	 others;	/* transfers other than our own log */
	long	 failed;	/* failures of files that still exist */
	char	 first[1024];
};

static void
sync_ev(void *arg, const struct lb_s3_event *ev_)
{
	struct syncstat *ss = arg;
	const char *rel;
	size_t dl = strlen(cf.dir);

	rel = ev_->path != NULL && strncmp(ev_->path, cf.dir, dl) == 0 &&
	    ev_->path[dl] == '/' ? ev_->path + dl + 1 : NULL;
	if (ev_->err != NULL) {
		/* a file that went away since the walk is no failure */
		if (strcmp(ev_->op, "upload") == 0 && ev_->path != NULL &&
		    access(ev_->path, F_OK) != 0)
			return;
		if (ss->failed++ == 0)
			snprintf(ss->first, sizeof(ss->first), "%s",
			    ev_->err->msg);
		return;
	}
	if (rel == NULL || logrel == NULL || strcmp(rel, logrel) != 0)
		ss->others++;
}

/*
 * Between listings of the whole prefix (every TRUST_S seconds, and for
 * every last push), a push trusts its state file: files not changed
 * since they were last known in S3 cost a stat, no request.  This loop
 * is the only writer of the keys it pushes.
 */
#define TRUST_S		600

/* Mirror dir to s3://bucket/sub/ (new and changed files only). */
static int
push_sync(int trust)
{
	static const struct lb_s3_filter flt[] = {
		{ 0, "*.tmp" },		/* files others are writing */
		{ 0, "*.tmp.*" },
		{ 0, "partial/*" },	/* the monitor's copies of S3 */
	};
	struct lb_s3_sync_opts so;
	struct lb_s3_counts n;
	struct syncstat ss;
	struct lb_err e = { 0 };
	int rc;

	memset(&so, 0, sizeof(so));
	memset(&ss, 0, sizeof(ss));
	so.direction = LB_S3_UP;
	so.filters = flt;
	so.nfilters = cf.role == MONITOR ? 3 : 2;
	so.fn = sync_ev;
	so.arg = &ss;
	so.state = cf.role == MONITOR ? ".lb-s3-state.monitor" :
	    ".lb-s3-state.uploader";
	so.trust_s = trust ? TRUST_S : 0;
	rc = lb_s3_sync(s3, &so, cf.dir, cf.bucket, cf.sub, &n, &e);
	if (rc == -1 && n.failed == 0) {
		logmsg("push to s3://%s/%s/: %s", cf.bucket, cf.sub, e.msg);
		return -1;
	}
	if (ss.failed > 0) {
		logmsg("push to s3://%s/%s/: %ld files failed, first: %s",
		    cf.bucket, cf.sub, ss.failed, ss.first);
		return -1;
	}
	if (ss.others > 0)
		logmsg("pushed %ld files (%ld unchanged)", n.uploaded,
		    n.unchanged);
	return 0;
}

static int
push(void)
{
	return push_sync(1);
}

/* Mirror s3://bucket/sub/rel/ to dir/partial/rel (monitor). */
static int
pull(const char *rel, const struct lb_s3_filter *flt, size_t nflt)
{
	struct lb_s3_sync_opts so;
	struct lb_s3_counts n;
	struct syncstat ss;
	struct lb_err e = { 0 };
	char *local, *pfx;
	int rc = 0;

	memset(&so, 0, sizeof(so));
	memset(&ss, 0, sizeof(ss));
	so.direction = LB_S3_DOWN;
	so.filters = flt;
	so.nfilters = nflt;
	so.fn = sync_ev;
	so.arg = &ss;
	local = lb_xasprintf("%s/partial/%s", cf.dir, rel);
	pfx = key_of(rel);
	if (lb_util_mkdirs(local, &e) == -1 ||
	    lb_s3_sync(s3, &so, local, cf.bucket, pfx, &n, &e) == -1) {
		logmsg("pull s3://%s/%s/: %s", cf.bucket, pfx,
		    ss.failed ? ss.first : e.msg);
		rc = -1;
	}
	free(local);
	free(pfx);
	return rc;
}

/* Push until it works (or SIGTERM, then a few tries). */
static int
push_hard(void)
{
	int i;

	for (i = 1;; i++) {
		/* the last push: against a listing, whatever the state says */
		if (push_sync(0) == 0)
			return 0;
		if (term && i >= 3)
			return -1;
		if (!term)
			nap(lb_logcopy_delay_ms(cf.period_ms, i));
	}
}

/*
 * Does s3://bucket/sub/rel exist?  1 yes, 0 no, -1 unknown (logged).
 */
static int
s3_exists(const char *rel)
{
	struct lb_http_req req;
	struct lb_http_resp resp;
	struct lb_err e = { 0 };
	char *key, *url;
	int rc;

	key = key_of(rel);
	if ((url = lb_aws_s3_url(aws, cf.bucket, key)) == NULL) {
		logmsg("s3://%s/%s: no S3 endpoint (no region?)", cf.bucket,
		    key);
		free(key);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.method = "HEAD";
	req.url = url;
	if (lb_aws_request(aws, "s3", &req, &resp, &e) == 0)
		rc = 1;
	else if (e.http == 404)
		rc = 0;
	else {
		logmsg("HEAD s3://%s/%s: %s", cf.bucket, key, e.msg);
		rc = -1;
	}
	lb_http_resp_free(&resp);
	free(url);
	free(key);
	return rc;
}

/*
 * Fetch s3://bucket/sub/rel to dir/rel when the local file is missing
 * (a new pod after a failed one).  1 fetched or there, 0 not in S3,
 * -1 unknown.
 */
static int
restore(const char *rel)
{
	struct lb_err e = { 0 };
	char *key, *path;
	int rc = 1;

	if (exists(rel))
		return 1;
	key = key_of(rel);
	path = path_of(rel);
	if (lb_s3_get_file(s3, cf.bucket, key, path, NULL, &e) == -1)
		rc = e.http == 404 ? 0 : -1;
	free(key);
	free(path);
	return rc;
}

/* uploader */

static int
uploader_iteration(void)
{
	struct lb_logcopy_marks m;
	struct lb_err e = { 0 };
	char *dir, *rel;
	int over, c;

	dir = path_of("containers-status");
	lb_logcopy_marks_init(&m, (int)cf.worker);
	if (lb_logcopy_marks_scan(&m, dir, &e) == -1)
		logmsg("%s", e.msg);
	free(dir);
	/* markers read before the push: what they say is in S3 after it */
	over = lb_logcopy_worker_over(&m, (int)cf.worker,
	    (int)cf.max_crashes, 0);
	lb_logcopy_marks_free(&m);
	if (push() == -1)
		return IT_FAIL;

	if ((c = s3_exists("containers-status/simulation.cancel")) == 1) {
		logmsg("the submission was cancelled: telling the worker's "
		    "containers");
		rel = lb_xasprintf("containers-status/simulation-%ld.cancel",
		    cf.worker);
		touch(rel);
		free(rel);
		push_hard();
		/* one more period for the containers' last words */
		nap(cf.period_ms);
		push_hard();
		return IT_END;
	}

	if (over) {
		logmsg("the simulator and the agent are over: last push");
		if (push_hard() == -1)
			return IT_FAIL;
		rel = lb_xasprintf("containers-status/uploader-%ld.done",
		    cf.worker);
		touch(rel);
		free(rel);
		logmsg("done");
		if (push_hard() == -1)
			return IT_FAIL;
		return IT_END;
	}
	return c == -1 ? IT_FAIL : IT_OK;
}

/* monitor */

static cJSON *
av_s(const char *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "S", s);
	return o;
}

/*
 * One conditional UpdateItem of the submission row: SET each name to
 * its value when submission_status is "from".  names/vals end in NULL.
 */
static int
ddb_update(const char *from, const char *const *names,
    const char *const *vals, struct lb_err *e)
{
	struct lb_ddb_expr x;
	struct lb_buf set = { 0 }, cond = { 0 };
	cJSON *body, *key, *ans;
	size_t i;

	lb_ddb_expr_init(&x);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "TableName", cf.table);
	key = cJSON_AddObjectToObject(body, "Key");
	cJSON_AddItemToObject(key, "team_id", av_s(cf.team));
	cJSON_AddItemToObject(key, "submission_id", av_s(cf.sub));
	lb_buf_puts(&set, "SET ");
	for (i = 0; names[i] != NULL; i++) {
		lb_buf_printf(&set, "%s%s = ", i ? ", " : "",
		    lb_ddb_expr_name(&x, names[i]));
		lb_buf_puts(&set, lb_ddb_expr_value(&x, av_s(vals[i])));
	}
	lb_buf_printf(&cond, "%s = ", lb_ddb_expr_name(&x,
	    "submission_status"));
	lb_buf_puts(&cond, lb_ddb_expr_value(&x, av_s(from)));
	cJSON_AddStringToObject(body, "UpdateExpression", set.p);
	cJSON_AddStringToObject(body, "ConditionExpression", cond.p);
	lb_ddb_expr_attach(&x, body);
	ans = lb_ddb_call(aws, "UpdateItem", body, e);
	cJSON_Delete(ans);
	cJSON_Delete(body);
	lb_ddb_expr_free(&x);
	lb_buf_free(&set);
	lb_buf_free(&cond);
	return ans != NULL ? 0 : -1;
}

/*
 * The row goes RUNNING with start_time and results, only from
 * SUBMITTED; a RUNNING row (a restarted monitor) keeps its start_time;
 * any other status (terminal, or no row) is never touched.
 * 0 settled, -1 to be tried again.
 */
static int
ddb_running(void)
{
	static const char *const n1[] = { "submission_status", "results",
	    "start_time", NULL };
	static const char *const n2[] = { "results", NULL };
	struct lb_err e = { 0 };
	const char *v[4];
	char now[32], *res;
	int rc = 0;

	if (cf.table == NULL || *cf.table == '\0') {
		logmsg("DYNAMODB_SUBMISSIONS_TABLE is not set: the submission "
		    "row is left alone");
		return 0;
	}
	lb_util_isotime(time(NULL), now);
	res = lb_xasprintf("s3://%s/%s", cf.bucket, cf.sub);
	v[0] = "RUNNING";
	v[1] = res;
	v[2] = now;
	v[3] = NULL;
	if (ddb_update("SUBMITTED", n1, v, &e) == 0)
		logmsg("submission row RUNNING since %s", now);
	else if (strcmp(e.code, "ConditionalCheckFailedException") != 0) {
		logmsg("DynamoDB %s: %s", cf.table, e.msg);
		rc = -1;
	} else {
		v[0] = res;
		v[1] = NULL;
		memset(&e, 0, sizeof(e));
		if (ddb_update("RUNNING", n2, v, &e) == 0)
			logmsg("submission row already RUNNING");
		else if (strcmp(e.code, "ConditionalCheckFailedException") ==
		    0)
			logmsg("submission row is neither SUBMITTED nor "
			    "RUNNING (finished, or missing): left alone");
		else {
			logmsg("DynamoDB %s: %s", cf.table, e.msg);
			rc = -1;
		}
	}
	free(res);
	return rc;
}

/* The last posted hash: the volume's file, else S3's copy. */
#define HASH_REL	"monitor/partial-update.sha256"

static void
load_hash(void)
{
	struct lb_err e = { 0 };
	char *p, *t;
	size_t n;
	int r;

	if (hash_known)
		return;
	if ((r = restore(HASH_REL)) == -1)
		return;		/* unknown: no post until it is known */
	hash_known = 1;
	last_hash[0] = '\0';
	if (r == 0)
		return;
	p = path_of(HASH_REL);
	if ((t = lb_util_readfile(p, &n, &e)) != NULL) {
		while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == ' '))
			t[--n] = '\0';
		if (n == 64)
			memcpy(last_hash, t, 65);
		free(t);
	}
	free(p);
}

static void
save_hash(const char *h)
{
	struct lb_err e = { 0 };
	char *p, *key, line[66];

	snprintf(line, sizeof(line), "%s\n", h);
	memcpy(last_hash, h, 65);
	p = path_of(HASH_REL);
	if (lb_util_writefile(p, line, 65, &e) == -1)
		logmsg("%s", e.msg);
	free(p);
	/* at once, so that a new pod does not post the same again */
	key = key_of(HASH_REL);
	memset(&e, 0, sizeof(e));
	if (lb_s3_put_mem(s3, cf.bucket, key, line, 65, "text/plain", NULL,
	    &e) == -1)
		logmsg("s3://%s/%s: %s (the next push sends it)", cf.bucket,
		    key, e.msg);
	free(key);
}

static char *
read_rel(const char *rel)
{
	struct lb_err e = { 0 };
	char *p = path_of(rel), *t;

	t = lb_util_readfile(p, NULL, &e);
	free(p);
	return t;
}

/* Post a partial update when the EvalAI files changed since the last. */
static int
post_partial(void)
{
	struct lb_err e = { 0 };
	cJSON *body;
	char *res, *out, *meta, h[65];
	int rc = 0;

	load_hash();
	if (!hash_known) {
		logmsg("the last posted results are unknown (S3): partial "
		    "update put off");
		return -1;
	}
	if ((res = read_rel("evalai/results.json")) == NULL)
		return 0;	/* no merge yet: nothing to tell */
	out = read_rel("evalai/stdout.txt");
	meta = read_rel("evalai/metadata.json");
	body = lb_logcopy_partial_body(cf.sub, cf.track, res, out, meta, &e);
	free(res);
	free(out);
	free(meta);
	if (body == NULL) {
		logmsg("%s", e.msg);
		return -1;
	}
	lb_logcopy_body_hash(body, h);
	if (strcmp(h, last_hash) != 0) {
		if (lb_evalai_update(ev, cf.challenge, body, 1, &e) == -1) {
			logmsg("partial update: %s", e.msg);
			rc = -1;
		} else {
			logmsg("partial update sent (%.12s)", h);
			save_hash(h);
		}
	}
	cJSON_Delete(body);
	return rc;
}

/* Merge the pulled partial files into dir/evalai/. */
static int
merge(int final)
{
	struct lb_results_opts o;
	struct lb_results *r;
	struct lb_err e = { 0 };
	char **paths, *edir;
	long i;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.format = cf.format;
	paths = lb_xmalloc((size_t)cf.nworkers * sizeof(*paths));
	/* all N names, present or not, as run_monitor.sh passes them */
	for (i = 0; i < cf.nworkers; i++)
		paths[i] = lb_xasprintf("%s/partial/agent/"
		    "partial_agent_results%ld.json", cf.dir, i + 1);
	edir = path_of("evalai");
	r = lb_results_merge((const char *const *)paths, (int)cf.nworkers,
	    &o, &e);
	if (r != NULL && !final)
		for (i = 0; i < r->nfiles; i++)
			if (r->files[i].state == LB_RESULTS_UNREADABLE) {
				/* caught mid-write: wait for a whole one */
				logmsg("partial_agent_results%ld.json is not "
				    "whole JSON yet: results kept as they are",
				    i + 1);
				goto out;
			}
	if (r == NULL)
		logmsg("merge: %s (the EvalAI files are made again from the "
		    "last merged file)", e.msg);
	memset(&e, 0, sizeof(e));
	if (lb_util_mkdirs(edir, &e) == -1 ||
	    lb_results_write(r, edir, cf.format, &e) == -1) {
		logmsg("EvalAI files: %s", e.msg);
		rc = -1;
	}
out:
	lb_results_free(r);
	for (i = 0; i < cf.nworkers; i++)
		free(paths[i]);
	free(paths);
	free(edir);
	return rc;
}

static int
monitor_iteration(void)
{
	static const struct lb_s3_filter aflt[] = {
		{ 0, "*" },
		{ 1, "partial_agent_results*.json" },
	};
	struct lb_logcopy_marks m;
	struct lb_err e = { 0 };
	cJSON *sj;
	const char *st;
	char *dir;
	int ok = 1, pulled, end, pending, cancelled = 0;

	if (!ddb_done && ddb_running() == 0)
		ddb_done = 1;
	if (!ddb_done)
		ok = 0;

	/* markers first: results they announce are in S3 already */
	pulled = pull("containers-status", NULL, 0) == 0 &&
	    pull("agent", aflt, 2) == 0;
	if (!pulled)
		ok = 0;
	lb_logcopy_marks_init(&m, (int)cf.nworkers);
	dir = lb_xasprintf("%s/partial/containers-status", cf.dir);
	if (lb_logcopy_marks_scan(&m, dir, &e) == -1)
		logmsg("%s", e.msg);
	free(dir);
	dir = path_of("containers-status");
	if (lb_logcopy_marks_scan(&m, dir, &e) == -1)
		logmsg("%s", e.msg);
	free(dir);

	if (m.monitor_done) {
		logmsg("monitor.done is there: the monitor had finished");
		lb_logcopy_marks_free(&m);
		push_hard();
		return IT_END;
	}
	if (m.cancel) {
		logmsg("simulation.cancel is there: the submission was "
		    "cancelled");
		lb_logcopy_marks_free(&m);
		push_hard();
		return IT_END;
	}
	end = pulled && lb_logcopy_monitor_end(&m, cf.rule,
	    (int)cf.max_crashes);
	pending = lb_logcopy_pending(&m, cf.rule, (int)cf.max_crashes);
	if (m.start > 0 && merge(end) == -1)
		ok = 0;
	if (push() == -1)
		ok = 0;

	if ((sj = lb_evalai_submission(ev, cf.sub, &e)) == NULL) {
		logmsg("EvalAI status: %s", e.msg);
		st = NULL;
		ok = 0;
	} else if ((st = lb_json_str(sj, "status")) == NULL) {
		logmsg("EvalAI status: the submission has no status");
		ok = 0;
	}
	if (st != NULL && strcmp(st, "cancelled") == 0) {
		logmsg("the submission was cancelled in EvalAI: telling the "
		    "workers");
		touch("containers-status/simulation.cancel");
		cancelled = 1;
	} else if (st != NULL && (strcmp(st, "finished") == 0 ||
	    strcmp(st, "failed") == 0)) {
		logmsg("the submission is %s in EvalAI: no partial update",
		    st);
	} else if (st != NULL && m.start > 0 && post_partial() == -1)
		ok = 0;
	cJSON_Delete(sj);
	lb_logcopy_marks_free(&m);
	if (cancelled) {
		push_hard();
		return IT_END;
	}

	if (end) {
		logmsg("every worker is over: done");
		touch("containers-status/monitor.done");
		push_hard();
		return IT_END;
	}
	if (pending != last_pending)
		logmsg("%d of %ld workers still running", pending,
		    cf.nworkers);
	last_pending = pending;
	return ok ? IT_OK : IT_FAIL;
}

/* setup */

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static long
number(const char *s, long min, long max, const char *what)
{
	long v;

	if (lb_util_strtol(s, min, max, &v) == -1) {
		warnx("%s: %s must be a number from %ld to %ld", s, what, min,
		    max);
		usage();
	}
	return v;
}

static void
need(const char *v, const char *what)
{
	if (v == NULL)
		errx(2, "%s is not set", what);
}

static void
setup_log(void)
{
	struct lb_err e = { 0 };
	char *p, *d;

	if (cf.role == UPLOADER) {
		logrel = lb_xasprintf("logs/uploader-%ld.log", cf.worker);
		snprintf(who, sizeof(who), "uploader-%ld", cf.worker);
	} else {
		logrel = lb_xstrdup("monitor/monitor.log");
		snprintf(who, sizeof(who), "monitor");
	}
	d = path_of(cf.role == UPLOADER ? "logs" : "monitor");
	if (lb_util_mkdirs(d, &e) == -1)
		errx(1, "%s", e.msg);
	free(d);
	d = path_of("containers-status");
	if (lb_util_mkdirs(d, &e) == -1)
		errx(1, "%s", e.msg);
	free(d);
	/* a new pod: carry on the log the last one left in S3 */
	if (restore(logrel) == -1)
		warnx("%s: not restored from S3", logrel);
	p = path_of(logrel);
	if ((logfp = fopen(p, "a")) == NULL)
		warn("%s", p);
	free(p);
}

static void
setup_clients(void)
{
	static struct lb_http_opts ho, eo;
	struct lb_s3_opts so;
	struct lb_err e = { 0 };
	char *tok;

	memset(&ho, 0, sizeof(ho));
	ho.connect_timeout_ms = 5000;
	ho.timeout_ms = 120000;
	ho.max_attempts = 3;
	ho.backoff_base_ms = 200;
	ho.backoff_max_ms = 2000;
	ho.retry_after_max_ms = 10000;
	ho.stop = &term;
	eo = ho;
	eo.timeout_ms = 30000;
	memset(&so, 0, sizeof(so));
	so.http = &ho;
	so.jobs = 4;
	if ((s3 = lb_s3_new(&so, &e)) == NULL)
		errx(e.kind == LB_EUSAGE ? 2 : 1, "%s", e.msg);
	s3http = lb_http_new(&ho);
	if ((aws = lb_aws_new(s3http, &e)) == NULL)
		errx(e.kind == LB_EUSAGE ? 2 : 1, "%s", e.msg);
	if (cf.role != MONITOR)
		return;
	http = lb_http_new(&eo);
	/* LB_EVALAI_TOKEN(_FILE), else the reference's variable */
	if ((tok = lb_evalai_token("env:EVALAI_AUTH_TOKEN", http, &e)) ==
	    NULL)
		errx(2, "%s", e.msg);
	if ((ev = lb_evalai_new(http, cf.api, tok, &e)) == NULL)
		errx(2, "%s", e.msg);
	memset(tok, 0, strlen(tok));
	free(tok);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "once",	no_argument,		NULL, '1' },
		{ "bucket",	required_argument,	NULL, 'b' },
		{ "max-crashes", required_argument,	NULL, 'c' },
		{ "dir",	required_argument,	NULL, 'd' },
		{ "end-rule",	required_argument,	NULL, 'E' },
		{ "leaderboard", required_argument,	NULL, 'L' },
		{ "workers",	required_argument,	NULL, 'n' },
		{ "period",	required_argument,	NULL, 'p' },
		{ "submission",	required_argument,	NULL, 's' },
		{ "worker",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct sigaction sa;
	const char *period = NULL, *workers = NULL, *worker = NULL;
	const char *crashes = NULL;
	int ch, rc, fails = 0;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "uploader") == 0)
		cf.role = UPLOADER;
	else if (strcmp(argv[1], "monitor") == 0)
		cf.role = MONITOR;
	else
		usage();
	argc--;
	argv++;
	cf.dir = "/logs";
	cf.format = LB_RESULTS_LB2;
	while ((ch = getopt_long(argc, argv, "1b:c:d:E:L:n:p:s:w:", longopts,
	    NULL)) != -1)
		switch (ch) {
		case '1':
			cf.once = 1;
			break;
		case 'b':
			cf.bucket = optarg;
			break;
		case 'c':
			crashes = optarg;
			break;
		case 'd':
			cf.dir = optarg;
			break;
		case 'E':
			if (strcmp(optarg, "worker") == 0)
				cf.rule = LB_LOGCOPY_RULE_WORKER;
			else if (strcmp(optarg, "reference") == 0)
				cf.rule = LB_LOGCOPY_RULE_REFERENCE;
			else {
				warnx("%s: the end rule is worker or "
				    "reference", optarg);
				usage();
			}
			break;
		case 'L':
			if (strcmp(optarg, "1") == 0 ||
			    strcmp(optarg, "1.0") == 0)
				cf.format = LB_RESULTS_LB1;
			else if (strcmp(optarg, "2") == 0 ||
			    strcmp(optarg, "2.0") == 0 ||
			    strcmp(optarg, "2.1") == 0)
				cf.format = LB_RESULTS_LB2;
			else {
				warnx("%s: the leaderboard version is 1 or 2",
				    optarg);
				usage();
			}
			break;
		case 'n':
			workers = optarg;
			break;
		case 'p':
			period = optarg;
			break;
		case 's':
			cf.sub = optarg;
			break;
		case 'w':
			worker = optarg;
			break;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	if ((cf.role == UPLOADER && workers != NULL) ||
	    (cf.role == MONITOR && worker != NULL))
		usage();

	if (period == NULL)
		period = env(cf.role == UPLOADER ? "UPLOADER_PERIOD" :
		    "MONITOR_PERIOD");
	cf.period_ms = period != NULL ?
	    number(period, 1, 86400, "the period") * 1000 : 30000;
	if (crashes == NULL)
		crashes = env("MAX_CRASHES");
	cf.max_crashes = crashes != NULL ?
	    number(crashes, 1, 1000000, "max-crashes") : LB_LOGCOPY_MAXCRASHES;
	if (cf.bucket == NULL)
		cf.bucket = env("S3_BUCKET");
	need(cf.bucket, "S3_BUCKET (-b)");
	if (cf.sub == NULL)
		cf.sub = env("SUBMISSION_ID");
	need(cf.sub, "SUBMISSION_ID (-s)");
	if (!lb_evalai_pk_ok(cf.sub))
		errx(2, "%s: the submission id must be a number", cf.sub);
	if (cf.role == UPLOADER) {
		if (worker == NULL)
			worker = env("WORKER_ID");
		need(worker, "WORKER_ID (-w)");
		cf.worker = number(worker, 1, LB_LOGCOPY_MAXWORKERS,
		    "the worker id");
	} else {
		if (workers == NULL)
			workers = env("SUBMISSION_WORKERS");
		need(workers, "SUBMISSION_WORKERS (-n)");
		cf.nworkers = number(workers, 1, LB_LOGCOPY_MAXWORKERS,
		    "the worker count");
		cf.challenge = env("CHALLENGE_ID");
		need(cf.challenge, "CHALLENGE_ID");
		cf.track = env("TRACK_ID");
		need(cf.track, "TRACK_ID");
		if (!lb_evalai_pk_ok(cf.challenge) ||
		    !lb_evalai_pk_ok(cf.track))
			errx(2, "CHALLENGE_ID and TRACK_ID must be numbers");
		cf.api = env("EVALAI_API_SERVER");
		need(cf.api, "EVALAI_API_SERVER");
		cf.table = env("DYNAMODB_SUBMISSIONS_TABLE");
		cf.team = env("TEAM_ID");
		if (cf.table != NULL)
			need(cf.team, "TEAM_ID");
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		errx(1, "cannot initialise libcurl");
	setup_clients();
	setup_log();
	if (cf.role == UPLOADER) {
		char *rel = lb_xasprintf("containers-status/worker-%ld.start",
		    cf.worker);

		if (touch(rel) == -1)
			exit(1);
		free(rel);
		logmsg("started: s3://%s/%s/ every %lds", cf.bucket, cf.sub,
		    cf.period_ms / 1000);
	} else
		logmsg("started: %ld workers, s3://%s/%s/ every %lds",
		    cf.nworkers, cf.bucket, cf.sub, cf.period_ms / 1000);

	for (;;) {
		rc = cf.role == UPLOADER ? uploader_iteration() :
		    monitor_iteration();
		if (rc == IT_END)
			break;
		if (cf.once)
			exit(rc == IT_OK ? 0 : 75);
		fails = rc == IT_FAIL ? fails + 1 : 0;
		if (!term)
			nap(lb_logcopy_delay_ms(cf.period_ms, fails));
		if (term) {
			logmsg("SIGTERM: last push");
			push_hard();
			break;
		}
	}
	if (logfp != NULL)
		fclose(logfp);
	lb_evalai_free(ev);
	lb_aws_free(aws);
	lb_s3_free(s3);
	lb_http_free(http);
	lb_http_free(s3http);
	free(logrel);
	curl_global_cleanup();
	return 0;
}
