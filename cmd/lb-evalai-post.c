/*
 * lb-evalai-post: tell EvalAI about submissions: the final result
 * (PUT update_submission, read back until EvalAI shows it), partial
 * results (PUT on the partial endpoint), "running" (PATCH), or just
 * read the status.  Updates of one submission never overlap on a host:
 * each holds an flock(2) on a per-submission lock file.  Across hosts,
 * the conditional status move in DynamoDB decides who finalises.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "evalai.h"
#include "lb.h"

#define VERIFY_TRIES	5	/* PUT + GET rounds, as the reference */

enum mode { FINAL, PARTIAL, RUNNING, STATUS };

struct state {
	enum mode	 mode;
	int		 force;
	long		 wait_s;
	const char	*lockdir;
	const char	*url;		/* -u or LB_EVALAI_URL */
	const char	*cfg_url;	/* from lb.yaml */
	const char	*status;	/* -s */
	char		*result, *metadata, *out, *errtext; /* -RMOE */
	char		*token;
	struct lb_http	*http;
	struct lb_evalai *ev;
};

static volatile sig_atomic_t stop;

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: lb-evalai-post [-fv] [-c config] [-E stderr] "
	    "[-l lockdir] [-M metadata]\n"
	    "                      [-m final|partial|running|status] "
	    "[-O stdout] [-R result]\n"
	    "                      [-r rejects] [-s status] [-u url] "
	    "[-w seconds]\n");
	exit(status);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "lb-evalai-post: %s\n", line);
}

static void
onsig(int sig)
{
	stop = sig;
}

static char *
slurp(const char *path)
{
	struct lb_err e;
	char *s;

	if ((s = lb_util_readfile(path, NULL, &e)) == NULL)
		errx(LB_EUSAGE, "%s", e.msg);
	return s;
}

/* First of several dotted paths that holds a string or an integer. */
static const char *
first(const cJSON *rec, const char *const *paths, char *buf, size_t len)
{
	char tmp[64];
	const char *t;

	for (; *paths != NULL; paths++)
		if ((t = lb_json_text(lb_json_path(rec, *paths), tmp,
		    sizeof(tmp))) != NULL) {
			snprintf(buf, len, "%s", t);
			return buf;
		}
	return NULL;
}

static char *
lower(const char *s)
{
	char *l = lb_xstrdup(s), *p;

	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/*
 * A text to send: the option's text, else update.NAME (a string, or
 * any other JSON value as its JSON text), else the file named by
 * update.NAME_file, else dflt.  Returns a malloc'd string.
 */
static char *
text(const char *opt, const cJSON *upd, const char *name, const char *dflt,
    struct lb_err *e)
{
	const cJSON *v;
	char *f, *s;

	if (opt != NULL)
		return lb_xstrdup(opt);
	v = cJSON_GetObjectItemCaseSensitive(upd, name);
	if (cJSON_IsString(v))
		return lb_xstrdup(v->valuestring);
	if (v != NULL && !cJSON_IsNull(v))
		return lb_json_print(v);
	f = lb_xasprintf("%s_file", name);
	v = cJSON_GetObjectItemCaseSensitive(upd, f);
	free(f);
	if (cJSON_IsString(v)) {
		if ((s = lb_util_readfile(v->valuestring, NULL, e)) == NULL)
			lb_err_prefix(e, "update.%s_file", name);
		return s;
	}
	return lb_xstrdup(dflt);
}

/* Hold the submission's lock file; -1 with err when it stays busy. */
static int
lock(struct state *st, const char *sid, struct lb_err *e)
{
	char *path;
	long waited = 0;
	int fd;

	if (lb_util_mkdirs(st->lockdir, e) == -1)
		return -1;
	path = lb_xasprintf("%s/evalai-submission-%s.lock", st->lockdir, sid);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		lb_err_set(e, LB_EFAIL, 0, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return lb_err_set(e, LB_EFAIL, 0, "flock: %s",
			    strerror(errno));
		}
		if (stop || (st->wait_s >= 0 && waited >= st->wait_s * 10)) {
			close(fd);
			return lb_err_set(e, LB_ETEMP, 0, "another process is "
			    "updating this submission (lock held)");
		}
		lb_util_sleep_ms(100, NULL);
		waited++;
	}
	return fd;
}

static void
unlock(int fd)
{
	if (fd != -1) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

/* EvalAI's current status, lower case, malloc'd. */
static char *
current(struct state *st, const char *sid, struct lb_err *e)
{
	cJSON *sub;
	const char *s;
	char *l = NULL;

	if ((sub = lb_evalai_submission(st->ev, sid, e)) == NULL)
		return NULL;
	if ((s = lb_json_str(sub, "status")) == NULL)
		lb_err_set(e, LB_ETEMP, 200, "EvalAI's answer has no status");
	else
		l = lower(s);
	cJSON_Delete(sub);
	return l;
}

static int
terminal(const char *s)
{
	return strcmp(s, "finished") == 0 || strcmp(s, "failed") == 0 ||
	    strcmp(s, "cancelled") == 0;
}

/* Make sure the client talks to base. */
static int
client(struct state *st, const char *base, struct lb_err *e)
{
	if (st->ev != NULL && strcmp(lb_evalai_base(st->ev), base) == 0)
		return 0;
	lb_evalai_free(st->ev);
	st->ev = lb_evalai_new(st->http, base, st->token, e);
	return st->ev ? 0 : -1;
}

static cJSON *
body(const char *sid, const char *phase, const char *status,
    const char *result, const char *metadata, const char *out,
    const char *errtext)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddNumberToObject(b, "submission", strtod(sid, NULL));
	cJSON_AddNumberToObject(b, "challenge_phase", strtod(phase, NULL));
	cJSON_AddStringToObject(b, "submission_status", status);
	cJSON_AddStringToObject(b, "result", result);
	cJSON_AddStringToObject(b, "stdout", out);
	cJSON_AddStringToObject(b, "stderr", errtext);
	cJSON_AddStringToObject(b, "environment_log", "");
	cJSON_AddStringToObject(b, "metadata", metadata);
	return b;
}

static int
post(struct state *st, cJSON *rec, struct lb_err *e)
{
	static const char *const sidp[] = { "data.submission.submission_id",
	    "submission.submission_id", "submission_pk", NULL };
	static const char *const cidp[] = { "data.submission.challenge_id",
	    "submission.challenge_id", "challenge_pk", NULL };
	static const char *const pidp[] = { "data.submission.track_id",
	    "submission.track_id", "phase_pk", NULL };
	static const char *const urlp[] = { "data.evalai.api_server",
	    "evalai.api_server", NULL };
	const cJSON *upd = cJSON_GetObjectItemCaseSensitive(rec, "update");
	char sid[64], cid[64], pid[64], ubuf[1024];
	char *want = NULL, *now = NULL, *result = NULL, *meta = NULL;
	char *out = NULL, *errt = NULL, *ustatus = NULL;
	const char *base, *skipped = NULL, *sv;
	struct lb_err perr = { 0 };
	cJSON *b = NULL, *res;
	int fd = -1, tries = 0, rv = -1, verified = 0, lost = 0;

	if (first(rec, sidp, sid, sizeof(sid)) == NULL ||
	    !lb_evalai_pk_ok(sid))
		return lb_err_set(e, LB_EFAIL, 0, "no submission id "
		    "(data.submission.submission_id or submission_pk)");
	if ((base = st->url) == NULL &&
	    (base = first(rec, urlp, ubuf, sizeof(ubuf))) == NULL &&
	    (base = st->cfg_url) == NULL)
		return lb_err_set(e, LB_EUSAGE, 0, "no EvalAI URL: give -u, "
		    "LB_EVALAI_URL, data.evalai.api_server or a config");
	if (client(st, base, e) == -1)
		return -1;
	if (upd != NULL && !cJSON_IsObject(upd))
		return lb_err_set(e, LB_EFAIL, 0, "update must be an object");

	if (st->mode == STATUS) {
		if ((now = current(st, sid, e)) == NULL)
			goto out;
		goto emit;
	}
	if (first(rec, cidp, cid, sizeof(cid)) == NULL ||
	    !lb_evalai_pk_ok(cid)) {
		lb_err_set(e, LB_EFAIL, 0, "no challenge id "
		    "(data.submission.challenge_id or challenge_pk)");
		goto out;
	}
	sv = st->status ? st->status : lb_json_str(upd, "status");
	if (st->mode == FINAL) {
		if (sv == NULL) {
			lb_err_set(e, LB_EFAIL, 0, "no status: give -s or "
			    "update.status");
			goto out;
		}
		want = lower(sv);
		if (!terminal(want)) {
			lb_err_set(e, LB_EFAIL, 0, "a final status is "
			    "FINISHED, FAILED or CANCELLED, not %s", sv);
			goto out;
		}
	} else if (st->mode == PARTIAL)
		want = lower(sv ? sv : "partially_evaluated");
	else
		want = lower(sv ? sv : "running");
	if (st->mode != RUNNING && (first(rec, pidp, pid, sizeof(pid)) ==
	    NULL || !lb_evalai_pk_ok(pid))) {
		lb_err_set(e, LB_EFAIL, 0, "no phase id "
		    "(data.submission.track_id or phase_pk)");
		goto out;
	}
	if (st->mode != RUNNING) {
		if ((result = text(st->result, upd, "result", "", e)) == NULL ||
		    (meta = text(st->metadata, upd, "metadata", "", e)) ==
		    NULL || (out = text(st->out, upd, "stdout", "", e)) ==
		    NULL || (errt = text(st->errtext, upd, "stderr", "",
		    e)) == NULL)
			goto out;
		if (strcmp(want, "finished") == 0 && *result == '\0') {
			lb_err_set(e, LB_EFAIL, 0, "a FINISHED update needs a "
			    "result");
			goto out;
		}
	}

	if ((fd = lock(st, sid, e)) == -1)
		goto out;
	if ((now = current(st, sid, e)) == NULL)
		goto out;
	/* A participant's cancel wins; terminal states stay terminal. */
	if (!st->force && strcmp(now, want) == 0 && st->mode == FINAL) {
		skipped = "already";
		verified = 1;
		goto emit;
	}
	if (!st->force && strcmp(now, "cancelled") == 0) {
		skipped = "cancelled in EvalAI";
		goto emit;
	}
	/* The first final update wins: a second one would be a second row. */
	if (!st->force && terminal(now)) {
		skipped = "EvalAI shows a final status";
		goto emit;
	}
	if (st->mode == RUNNING) {
		if (lb_evalai_running(st->ev, cid, sid, want,
		    lb_json_str(upd, "job_name"), e) == -1)
			goto out;
		tries = 1;
		free(now);
		now = lb_xstrdup(want);
		goto emit;
	}
	ustatus = lb_xstrdup(want);
	for (char *p = ustatus; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	b = body(sid, pid, ustatus, result, meta, out, errt);
	/*
	 * The final PUT is one attempt.  Whatever its answer, the GET tells
	 * whether it landed: an answer lost after EvalAI applied the update
	 * must not become a second final update.
	 */
	do {
		tries++;
		if (lb_evalai_update(st->ev, cid, b, st->mode == PARTIAL,
		    e) == -1) {
			if (st->mode != FINAL || e->kind != LB_ETEMP)
				goto out;
			lost = 1;
			memcpy(&perr, e, sizeof(perr));
		} else
			lost = 0;
		free(now);
		if ((now = current(st, sid, e)) == NULL)
			goto out;
		verified = strcmp(now, want) == 0;
		if (!verified && lost && tries < VERIFY_TRIES && !stop)
			lb_util_sleep_ms(lb_http_backoff(st->http, tries),
			    &stop);
	} while (!verified && st->mode == FINAL && tries < VERIFY_TRIES &&
	    !stop);
	if (!verified && st->mode == FINAL) {
		if (lost) {
			memcpy(e, &perr, sizeof(*e));
			lb_err_prefix(e, "EvalAI shows %s after %d tries",
			    now, tries);
		} else
			lb_err_set(e, LB_ETEMP, 0, "EvalAI shows %s after %d "
			    "updates to %s", now, tries, want);
		goto out;
	}
emit:
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "mode", st->mode == FINAL ? "final" :
	    st->mode == PARTIAL ? "partial" : st->mode == RUNNING ?
	    "running" : "status");
	cJSON_AddStringToObject(res, "status", now ? now : want);
	if (want != NULL && st->mode != STATUS)
		cJSON_AddStringToObject(res, "sent", skipped ? "" : want);
	if (st->mode == FINAL)
		cJSON_AddBoolToObject(res, "verified", verified);
	cJSON_AddNumberToObject(res, "attempts", tries);
	if (skipped != NULL)
		cJSON_AddStringToObject(res, "skipped", skipped);
	lb_json_set(rec, "evalai_post", res);
	rv = 0;
out:
	unlock(fd);
	cJSON_Delete(b);
	free(ustatus);
	free(want);
	free(now);
	free(result);
	free(meta);
	free(out);
	free(errt);
	if (rv == -1)
		lb_err_prefix(e, "submission %s", sid);
	return rv;
}

int
main(int argc, char *argv[])
{
	struct lb_http_opts ho = { 0 };
	struct state st = { 0 };
	struct lb_config *cfg = NULL;
	struct lb_jsonl *in;
	struct lb_err e;
	struct stat sb;
	const char *cpath = NULL, *rejects = NULL, *raw, *v;
	char *lockdef = NULL;
	cJSON *rec = NULL;
	size_t rawlen;
	long n;
	int ch, status = 0, r, verbose = 0;

	st.wait_s = 300;
	while ((ch = getopt(argc, argv, "c:E:fhl:M:m:O:R:r:s:u:vw:")) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'E':
			st.errtext = slurp(optarg);
			break;
		case 'f':
			st.force = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'l':
			st.lockdir = optarg;
			break;
		case 'M':
			st.metadata = slurp(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "final") == 0)
				st.mode = FINAL;
			else if (strcmp(optarg, "partial") == 0)
				st.mode = PARTIAL;
			else if (strcmp(optarg, "running") == 0)
				st.mode = RUNNING;
			else if (strcmp(optarg, "status") == 0)
				st.mode = STATUS;
			else
				usage(stderr, LB_EUSAGE);
			break;
		case 'O':
			st.out = slurp(optarg);
			break;
		case 'R':
			st.result = slurp(optarg);
			break;
		case 'r':
			rejects = optarg;
			break;
		case 's':
			st.status = optarg;
			break;
		case 'u':
			st.url = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			if (lb_util_strtol(optarg, 0, 86400, &n) == -1)
				errx(LB_EUSAGE, "-w: not a number of seconds: "
				    "%s", optarg);
			st.wait_s = n;
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc)
		usage(stderr, LB_EUSAGE);
	if (st.url == NULL && (v = getenv("LB_EVALAI_URL")) != NULL &&
	    *v != '\0')
		st.url = v;
	/* The config is optional here: -c, LB_CONFIG or the default. */
	if (cpath != NULL || getenv("LB_CONFIG") != NULL ||
	    stat(LB_CONFIG_DEFAULT, &sb) == 0) {
		if ((cfg = lb_config_load(lb_config_path(cpath), &e)) == NULL)
			errx(LB_EUSAGE, "%s", e.msg);
		st.cfg_url = cfg->api_server;
	}
	if (st.lockdir == NULL) {
		v = getenv("LB_LOCK_DIR");
		if (v == NULL || *v == '\0') {
			v = getenv("TMPDIR");
			lockdef = lb_xasprintf("%s/lb-locks",
			    v && *v ? v : "/tmp");
			v = lockdef;
		}
		st.lockdir = v;
	}
	if (verbose)
		ho.trace = trace;
	if ((st.http = lb_http_new(&ho)) == NULL)
		errx(LB_EFAIL, "cannot start libcurl");
	if ((st.token = lb_evalai_token(cfg ? cfg->token_source : NULL,
	    st.http, &e)) == NULL)
		errx(e.kind == LB_ETEMP ? LB_ETEMP : LB_EUSAGE, "%s", e.msg);

	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	setvbuf(stdout, NULL, _IOLBF, 0);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while (!stop && (r = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (r == -2)
			errx(LB_EFAIL, "stdin: %s", e.msg);
		if (r == 1 && post(&st, rec, &e) == 0) {
			if (lb_jsonl_write(stdout, rec) == -1)
				err(LB_EFAIL, "stdout");
		} else {
			if (r == 1 && (lb_evalai_auth_failed(&e) ||
			    e.kind == LB_EUSAGE))
				errx(e.kind == LB_EUSAGE ? LB_EUSAGE : LB_EFAIL,
				    "stdin:%ld: %s", lb_jsonl_line(in), e.msg);
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
	lb_http_free(st.http);
	explicit_bzero(st.token, strlen(st.token));
	free(st.token);
	lb_config_free(cfg);
	free(lockdef);
	free(st.result);
	free(st.metadata);
	free(st.out);
	free(st.errtext);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(LB_EFAIL, "stdout");
	if (stop && status == 0)
		status = LB_ETEMP;
	return status;
}
