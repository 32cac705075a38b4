/*
 * finalize.c: the decisions of lb-finalize.  See finalize.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "finalize.h"
#include "results.h"

#define MAXSENTENCES	12	/* a participant reads a few, not 1000 */
#define MAXLISTED	8	/* workers named one by one */

void
lb_finalize_markers_init(struct lb_finalize_markers *m, long workers)
{
	memset(m, 0, sizeof(*m));
	if (workers < 1)
		workers = 1;
	if (workers > LB_FINALIZE_MAXWORKERS)
		workers = LB_FINALIZE_MAXWORKERS;
	m->workers = workers;
	m->w = lb_xmalloc((size_t)workers * sizeof(*m->w));
	memset(m->w, 0, (size_t)workers * sizeof(*m->w));
	m->expected = 1 + 3 * workers;
}

void
lb_finalize_markers_free(struct lb_finalize_markers *m)
{
	free(m->w);
	m->w = NULL;
}

/* Digits without a leading zero, at most 7 of them; -1 otherwise. */
static long
number(const char *s, const char **end)
{
	long n = 0;
	int i;

	if (*s < '1' || *s > '9')
		return -1;
	for (i = 0; isdigit((unsigned char)s[i]); i++) {
		if (i == 7)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*end = s + i;
	return n;
}

/* "0" or digits without a leading zero, up to the end of s. */
static int
counter(const char *s)
{
	const char *end;

	if (strcmp(s, "0") == 0)
		return 1;
	return number(s, &end) > 0 && *end == '\0';
}

int
lb_finalize_marker(struct lb_finalize_markers *m, const char *name)
{
	static const char *const roles[] = { "agent", "simulator",
	    "uploader", "worker", NULL };
	struct lb_finalize_worker *w;
	const char *p, *end;
	size_t rl;
	long k;
	int r;

	m->seen++;
	if (strchr(name, '/') != NULL)
		return 0;
	if (strcmp(name, "monitor.done") == 0) {
		if (!m->monitor_done)
			m->done++;
		m->monitor_done = 1;
		return 1;
	}
	if (strcmp(name, "simulation.cancel") == 0 ||
	    (strncmp(name, "simulation-", 11) == 0 &&
	    number(name + 11, &end) > 0 && strcmp(end, ".cancel") == 0)) {
		if (m->cancel[0] == '\0')
			snprintf(m->cancel, sizeof(m->cancel), "%s", name);
		return 1;
	}
	for (r = 0; roles[r] != NULL; r++) {
		rl = strlen(roles[r]);
		if (strncmp(name, roles[r], rl) == 0 && name[rl] == '-')
			break;
	}
	if (roles[r] == NULL)
		return 0;
	p = name + strlen(roles[r]) + 1;
	if ((k = number(p, &end)) < 1 || k > m->workers || *end != '.')
		return 0;
	w = &m->w[k - 1];
	p = end + 1;
	if (r == 3)			/* worker-K.start */
		return strcmp(p, "start") == 0 ? (w->seen = 1) : 0;
	if (strcmp(p, "done") == 0) {
		int *flag = r == 0 ? &w->agent_done : r == 1 ?
		    &w->simulator_done : &w->uploader_done;

		if (!*flag)
			m->done++;
		*flag = w->seen = 1;
		return 1;
	}
	if (r < 2 && strncmp(p, "crash", 5) == 0 && counter(p + 5)) {
		if (r == 0)
			w->agent_crashes++;
		else
			w->simulator_crashes++;
		m->crashes++;
		return w->seen = 1;
	}
	if (r < 2 && strncmp(p, "start", 5) == 0 && counter(p + 5))
		return w->seen = 1;
	return 0;
}

int
lb_finalize_status(const struct lb_finalize_markers *m)
{
	if (m->cancel[0] != '\0')
		return LB_FINALIZE_CANCELLED;
	if (m->done == m->expected)
		return LB_FINALIZE_FINISHED;
	return LB_FINALIZE_FAILED;
}

const char *
lb_finalize_status_name(int s)
{
	return s == LB_FINALIZE_FINISHED ? "FINISHED" :
	    s == LB_FINALIZE_CANCELLED ? "CANCELLED" : "FAILED";
}

char *
lb_finalize_key(const char *k)
{
	char *s = lb_xstrdup(k), *p;

	for (p = s; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

cJSON *
lb_finalize_results(const char *text, size_t len, struct lb_err *e)
{
	cJSON *doc, *acc, *it, *out;
	struct lb_buf b = { 0 };
	char *k;

	if (len == 0)
		return lb_err_set(e, LB_EFAIL, 0, "evalai/results.json is "
		    "missing or empty"), NULL;
	if ((doc = lb_pyjson_parse(text, len, e)) == NULL) {
		lb_err_prefix(e, "evalai/results.json");
		return NULL;
	}
	acc = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_IsArray(doc) ? doc : NULL, 0), "accuracies");
	if (!cJSON_IsObject(acc)) {
		cJSON_Delete(doc);
		return lb_err_set(e, LB_EFAIL, 0, "evalai/results.json is not "
		    "an array whose first entry has \"accuracies\""), NULL;
	}
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(it, acc) {
		b.len = 0;
		lb_pyjson_str(&b, it);
		k = lb_finalize_key(it->string);
		/* a later key wins, as in a Python dict */
		lb_json_set_str(out, k, b.p != NULL ? b.p : "");
		free(k);
	}
	lb_buf_free(&b);
	cJSON_Delete(doc);
	return out;
}

int
lb_finalize_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned long c;
	int n, i;

	while (p < end) {
		if (*p == 0)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, c = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, c = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, c = *p & 0x07;
		else
			return 0;
		if (end - p <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* A member as text: strings as they are, numbers printed. */
static int
text(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		snprintf(buf, len, "%.15g", v->valuedouble);
	else
		return -1;
	return 0;
}

/* Python's float() of a text, roughly: whole text, spaces around. */
static int
pyfloat(const char *s, double *out)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || strchr(s, 'x') != NULL || strchr(s, 'X') != NULL)
		return -1;
	*out = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' ? 0 : -1;
}

static int
truthy(const cJSON *v)
{
	return cJSON_IsTrue(v) || (cJSON_IsString(v) && *v->valuestring) ||
	    (cJSON_IsNumber(v) && v->valuedouble != 0);
}

static const cJSON *
find_ci(const cJSON *map, const char *key)
{
	const cJSON *it;

	if (key == NULL || *key == '\0')
		return NULL;
	cJSON_ArrayForEach(it, map)
		if (it->string != NULL && strcasecmp(it->string, key) == 0)
			return it;
	return NULL;
}

int
lb_finalize_qualifier(const cJSON *q, const char *track, const char *score,
    struct lb_finalize_qual *d, struct lb_err *e)
{
	const cJSON *isq, *to, *map, *th;
	double s, t;
	char *p;

	memset(d, 0, sizeof(*d));
	if (q == NULL || cJSON_IsNull(q)) {
		d->why = "no qualifier member";
		return 0;
	}
	if (!cJSON_IsObject(q))
		return lb_err_set(e, LB_EFAIL, 0, "data.qualifier is not an "
		    "object");
	isq = cJSON_GetObjectItemCaseSensitive(q, "is_qualifying");
	to = cJSON_GetObjectItemCaseSensitive(q, "qualifying_to");
	map = cJSON_GetObjectItemCaseSensitive(q, "threshold_map");
	if (isq != NULL && !cJSON_IsString(isq) && !cJSON_IsBool(isq) &&
	    !cJSON_IsNumber(isq) && !cJSON_IsNull(isq))
		return lb_err_set(e, LB_EFAIL, 0, "data.qualifier."
		    "is_qualifying must be a string or a boolean");
	if (to != NULL && !cJSON_IsString(to) && !cJSON_IsNull(to))
		return lb_err_set(e, LB_EFAIL, 0, "data.qualifier."
		    "qualifying_to must be a string");
	if (map != NULL && !cJSON_IsObject(map) && !cJSON_IsNull(map) &&
	    !(cJSON_IsString(map) && *map->valuestring == '\0'))
		return lb_err_set(e, LB_EFAIL, 0, "data.qualifier."
		    "threshold_map must be an object");
	d->qualifying = truthy(isq);
	if (cJSON_IsString(to))
		snprintf(d->to, sizeof(d->to), "%s", to->valuestring);
	for (p = d->to; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (score != NULL)
		snprintf(d->score, sizeof(d->score), "%s", score);
	if (!d->qualifying) {
		d->why = "not a qualifier track";
		return 0;
	}
	if (!cJSON_IsObject(map) || cJSON_GetArraySize(map) == 0) {
		d->why = "qualifying is off (no thresholds)";
		return 0;
	}
	if (d->to[0] == '\0') {
		d->why = "no track to qualify to";
		return 0;
	}
	if ((th = find_ci(map, d->to)) == NULL)
		th = find_ci(map, track);
	if (th == NULL) {
		d->why = "no threshold for the track";
		return 0;
	}
	if (text(th, d->threshold, sizeof(d->threshold)) == -1 ||
	    pyfloat(d->threshold, &t) == -1)
		return lb_err_set(e, LB_EFAIL, 0, "data.qualifier."
		    "threshold_map.%s is not a number", th->string);
	d->applies = 1;
	if (score == NULL) {
		d->why = "no driving score";
		return 0;
	}
	if (pyfloat(score, &s) == -1) {
		d->why = "the driving score is not a number";
		return 0;
	}
	d->passed = s >= t;
	return 0;
}

void
lb_finalize_qual_text(struct lb_buf *b, const struct lb_finalize_qual *d)
{
	if (!d->applies)
		return;
	if (d->passed)
		lb_buf_printf(b, "Congratulations: your team has qualified "
		    "for the %s track (driving score %s, needed %s). You "
		    "can now submit to it.", d->to, d->score, d->threshold);
	else if (d->score[0] == '\0')
		lb_buf_printf(b, "Your team has not qualified for the %s "
		    "track: the submission has no driving score (needed %s).",
		    d->to, d->threshold);
	else
		lb_buf_printf(b, "Your team has not qualified for the %s "
		    "track yet: the driving score %s is below the %s needed.",
		    d->to, d->score, d->threshold);
}

/* Sentences, joined by "; ", at most MAXSENTENCES. */
struct say {
	struct lb_buf	*b;
	int		 n, dropped;
	int		 deleted;	/* said "deleted" once */
};

static void
say(struct say *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct say *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (s->n == MAXSENTENCES) {
		s->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	lb_buf_printf(s->b, "%s%s", s->n++ ? "; " : "", line);
}

/*
 * An enumerated word from the outcome (a Kubernetes reason, a container
 * name): letters, digits, '-', '_' and '.', at most 63; else "".  Free
 * text (messages, stack traces, URLs) never reaches the participant.
 */
static void
word(const cJSON *v, char *buf, size_t len)
{
	const char *s = cJSON_GetStringValue(v);
	size_t i;

	buf[0] = '\0';
	if (s == NULL || strlen(s) >= len || strlen(s) > 63)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return;
	memcpy(buf, s, i + 1);
}

static long
count(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e9)
		return (long)v->valuedouble;
	if (cJSON_IsString(v)) {
		long n;

		if (lb_util_strtol(v->valuestring, 0, 999999999, &n) == 0)
			return n;
	}
	return -1;
}

/* "worker 2", "the monitor", "a Job" for one entry of k8s.jobs. */
static void
who(const cJSON *job, char *buf, size_t len)
{
	const char *role = lb_json_str(job, "role");
	const char *name = lb_json_str(job, "job"), *p, *end;
	long k = count(job, "worker");

	if (k < 1 && name != NULL && (p = strrchr(name, '-')) != NULL &&
	    strncmp(p, "-worker", 7) == 0 &&
	    ((k = number(p + 7, &end)) < 1 || *end != '\0'))
		k = -1;
	if (role != NULL && strcmp(role, "monitor") == 0)
		snprintf(buf, len, "the monitor");
	else if (k >= 1)
		snprintf(buf, len, "worker %ld", k);
	else
		snprintf(buf, len, "a worker");
}

static int
image_reason(const char *r)
{
	return strcmp(r, "ImagePullBackOff") == 0 ||
	    strcmp(r, "ErrImagePull") == 0 ||
	    strcmp(r, "InvalidImageName") == 0 ||
	    strcmp(r, "ErrImageNeverPull") == 0;
}

/* One Job (or the whole outcome when job is the k8s member itself). */
static void
job_reason(struct say *s, const cJSON *job, const char *subject)
{
	char reason[64], ctr[64], why[80], dur[40];
	const char *state = lb_json_str(job, "state");
	long failed = count(job, "failed"), secs;

	if (state == NULL)
		return;
	word(cJSON_GetObjectItemCaseSensitive(job, "reason"), reason,
	    sizeof(reason));
	word(cJSON_GetObjectItemCaseSensitive(job, "container"), ctr,
	    sizeof(ctr));
	if ((secs = count(job, "seconds")) < 0)
		secs = count(job, "pending_seconds");
	snprintf(why, sizeof(why), reason[0] ? " (%s)" : "%s", reason);
	dur[0] = '\0';
	if (secs >= 0)
		snprintf(dur, sizeof(dur), " for %ld s", secs);
	if (strcmp(state, "failed") == 0) {
		if (strcmp(reason, "BackoffLimitExceeded") == 0 && failed > 0)
			say(s, "%s failed after %ld attempt%s%s", subject,
			    failed, failed == 1 ? "" : "s", why);
		else if (strcmp(reason, "DeadlineExceeded") == 0)
			say(s, "%s ran out of its time limit%s", subject, why);
		else
			say(s, "%s failed%s", subject, why);
	} else if (strcmp(state, "stuck") == 0) {
		if (image_reason(reason) && ctr[0] != '\0')
			say(s, "the %s image of %s could not be pulled%s%s",
			    ctr, subject, why, dur);
		else if (image_reason(reason))
			say(s, "an image of %s could not be pulled%s%s",
			    subject, why, dur);
		else if (strcmp(reason, "Unschedulable") == 0)
			say(s, "%s could not be given a machine%s%s", subject,
			    why, dur);
		else if (strncmp(reason, "CreateContainer", 15) == 0)
			say(s, "the containers of %s could not be created%s%s",
			    subject, why, dur);
		else
			say(s, "%s could not start%s%s", subject, why, dur);
	} else if (strcmp(state, "deleted") == 0 && !s->deleted) {
		s->deleted = 1;
		say(s, "the Jobs were deleted before the submission finished");
	}
}

static void
k8s_reason(struct say *s, const cJSON *k8s)
{
	const cJSON *jobs, *job, *list;
	const char *state;
	char subject[32];
	int before = s->n;

	if (!cJSON_IsObject(k8s))
		return;
	jobs = cJSON_GetObjectItemCaseSensitive(k8s, "jobs");
	list = cJSON_IsArray(jobs) ? jobs : NULL;
	cJSON_ArrayForEach(job, list) {
		if (!cJSON_IsObject(job))
			continue;
		who(job, subject, sizeof(subject));
		job_reason(s, job, subject);
	}
	if (s->n > before || s->dropped)
		return;
	state = lb_json_str(k8s, "state");
	if (state != NULL && strcmp(state, "running") == 0)
		say(s, "the evaluation was stopped while it was still "
		    "running");
	else
		job_reason(s, k8s, "a Job");
}

static void
marker_reason(struct say *s, const struct lb_finalize_markers *m)
{
	const struct lb_finalize_worker *w;
	long k, missing = 0, listed = 0;

	if (m->seen == 0 || (m->done == 0 && m->crashes == 0)) {
		for (k = 0; k < m->workers; k++)
			if (m->w[k].seen)
				break;
		if (k == m->workers && !m->monitor_done) {
			say(s, "no part of the evaluation reported back");
			return;
		}
	}
	for (k = 1; k <= m->workers; k++) {
		w = &m->w[k - 1];
		if (w->agent_crashes > 0)
			say(s, "worker %ld's agent crashed %ld time%s", k,
			    w->agent_crashes, w->agent_crashes == 1 ? "" : "s");
		if (w->simulator_crashes > 0)
			say(s, "worker %ld's simulator crashed %ld time%s", k,
			    w->simulator_crashes,
			    w->simulator_crashes == 1 ? "" : "s");
	}
	for (k = 1; k <= m->workers; k++) {
		w = &m->w[k - 1];
		if (w->agent_done && w->simulator_done && w->uploader_done)
			continue;
		if (listed++ >= MAXLISTED)
			missing++;
		else if (w->seen)
			say(s, "worker %ld did not finish", k);
		else
			say(s, "worker %ld never reported back", k);
	}
	if (missing > 0)
		say(s, "%ld more worker%s did not finish", missing,
		    missing == 1 ? "" : "s");
	if (!m->monitor_done)
		say(s, "the monitor did not finish");
}

void
lb_finalize_reason(struct lb_buf *b, const cJSON *k8s,
    const struct lb_finalize_markers *m)
{
	struct say s = { b, 0, 0, 0 };

	k8s_reason(&s, k8s);
	if (m != NULL)
		marker_reason(&s, m);
	if (s.dropped > 0)
		lb_buf_printf(b, "; and %d more", s.dropped);
}
