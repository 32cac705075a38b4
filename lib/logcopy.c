/*
 * logcopy.c: marker accounting, end rules and the partial update body of
 * the in-pod loops.  No I/O but one readdir.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logcopy.h"
#include "evalai.h"

void
lb_logcopy_marks_init(struct lb_logcopy_marks *m, int nworkers)
{
	memset(m, 0, sizeof(*m));
	if (nworkers < 0)
		nworkers = 0;
	if (nworkers > LB_LOGCOPY_MAXWORKERS)
		nworkers = LB_LOGCOPY_MAXWORKERS;
	m->nworkers = nworkers;
	m->w = lb_xmalloc(((size_t)nworkers + 1) * sizeof(*m->w));
	memset(m->w, 0, ((size_t)nworkers + 1) * sizeof(*m->w));
}

void
lb_logcopy_marks_free(struct lb_logcopy_marks *m)
{
	free(m->w);
	m->w = NULL;
}

/* "DIGITS" with no sign, no leading zero, within 1..max; else 0. */
static int
worker_id(const char *s, size_t len, int max)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 4 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? (int)v : 0;
}

/* Is s empty or all digits? */
static int
digits_or_empty(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

void
lb_logcopy_marks_add(struct lb_logcopy_marks *m, const char *name)
{
	static const char *const roles[] = {
		"agent-", "simulator-", "uploader-", "worker-", "simulation-"
	};
	struct lb_logcopy_worker *w;
	const char *dot, *rest, *suf;
	size_t i, rl;
	int id;

	/* what the reference's find -name '*.done*' etc. would count */
	if (strstr(name, ".done") != NULL)
		m->done++;
	if (strstr(name, ".crash") != NULL)
		m->crash++;
	if (strstr(name, ".start") != NULL)
		m->start++;
	if (strcmp(name, "simulation.cancel") == 0) {
		m->cancel = 1;
		return;
	}
	if (strcmp(name, "monitor.done") == 0) {
		m->monitor_done = 1;
		return;
	}
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		rl = strlen(roles[i]);
		if (strncmp(name, roles[i], rl) == 0)
			break;
	}
	if (i == sizeof(roles) / sizeof(roles[0]))
		return;
	rest = name + rl;
	if ((dot = strchr(rest, '.')) == NULL)
		return;
	if ((id = worker_id(rest, (size_t)(dot - rest), m->nworkers)) == 0)
		return;
	w = &m->w[id];
	suf = dot + 1;
	switch (i) {
	case 0:		/* agent */
	case 1:		/* simulator */
		if (strcmp(suf, "done") == 0) {
			if (i == 0)
				w->agent_done = 1;
			else
				w->simulator_done = 1;
		} else if (strncmp(suf, "crash", 5) == 0 &&
		    digits_or_empty(suf + 5)) {
			if (i == 0)
				w->agent_crashes++;
			else
				w->simulator_crashes++;
		} else if (strncmp(suf, "start", 5) == 0 &&
		    digits_or_empty(suf + 5))
			w->start = 1;
		break;
	case 2:		/* uploader */
		if (strcmp(suf, "done") == 0)
			w->uploader_done = 1;
		break;
	case 3:		/* worker */
		if (strcmp(suf, "start") == 0)
			w->start = 1;
		break;
	case 4:		/* simulation-ID.cancel */
		if (strcmp(suf, "cancel") == 0)
			w->cancel = 1;
		break;
	}
}

int
lb_logcopy_marks_scan(struct lb_logcopy_marks *m, const char *dir,
    struct lb_err *err)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return lb_err_set(err, LB_EFAIL, 0, "%s: %s", dir,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			lb_logcopy_marks_add(m, de->d_name);
	closedir(d);
	return 0;
}

int
lb_logcopy_worker_over(const struct lb_logcopy_marks *m, int id,
    int max_crashes, int uploader)
{
	const struct lb_logcopy_worker *w;

	if (id < 1 || id > m->nworkers)
		return 0;
	w = &m->w[id];
	if (max_crashes > 0 &&
	    w->agent_crashes + w->simulator_crashes >= max_crashes)
		return 1;
	if (uploader)
		return w->uploader_done;
	return w->agent_done && w->simulator_done;
}

int
lb_logcopy_pending(const struct lb_logcopy_marks *m, int rule,
    int max_crashes)
{
	long over;
	int id, n = 0;

	if (rule == LB_LOGCOPY_RULE_REFERENCE) {
		over = m->done / 3 + (max_crashes > 0 ?
		    m->crash / max_crashes : 0);
		return over >= m->nworkers ? 0 : m->nworkers - (int)over;
	}
	for (id = 1; id <= m->nworkers; id++)
		if (!lb_logcopy_worker_over(m, id, max_crashes, 1))
			n++;
	return n;
}

int
lb_logcopy_monitor_end(const struct lb_logcopy_marks *m, int rule,
    int max_crashes)
{
	return m->nworkers > 0 &&
	    lb_logcopy_pending(m, rule, max_crashes) == 0;
}

/* Text as $(cat FILE) gives it: trailing newlines gone. */
static cJSON *
shell_text(const char *s)
{
	cJSON *j;
	char *t;
	size_t n;

	if (s == NULL)
		return cJSON_CreateString("");
	n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		n--;
	t = lb_xmalloc(n + 1);
	memcpy(t, s, n);
	t[n] = '\0';
	j = cJSON_CreateString(t);
	free(t);
	return j;
}

cJSON *
lb_logcopy_partial_body(const char *submission, const char *phase,
    const char *result, const char *stdout_text, const char *metadata,
    struct lb_err *err)
{
	cJSON *b;

	if (submission == NULL || !lb_evalai_pk_ok(submission)) {
		lb_err_set(err, LB_EUSAGE, 0, "submission id is not a number");
		return NULL;
	}
	if (phase == NULL || !lb_evalai_pk_ok(phase)) {
		lb_err_set(err, LB_EUSAGE, 0, "track (phase) id is not a "
		    "number");
		return NULL;
	}
	/* the member order of run_monitor.sh's body */
	b = cJSON_CreateObject();
	cJSON_AddItemToObject(b, "submission", cJSON_CreateRaw(submission));
	cJSON_AddStringToObject(b, "submission_status",
	    "PARTIALLY_EVALUATED");
	cJSON_AddItemToObject(b, "challenge_phase", cJSON_CreateRaw(phase));
	cJSON_AddItemToObject(b, "stdout", shell_text(stdout_text));
	cJSON_AddItemToObject(b, "result", shell_text(result));
	cJSON_AddStringToObject(b, "stderr", "");
	cJSON_AddItemToObject(b, "metadata", shell_text(metadata));
	return b;
}

void
lb_logcopy_body_hash(const cJSON *body, char out[65])
{
	char *t;

	t = lb_json_print(body);
	lb_sigv4_sha256_hex(t, strlen(t), out);
	free(t);
}

long
lb_logcopy_delay_ms(long period_ms, int fails)
{
	int shift;

	if (period_ms < 1)
		period_ms = 1;
	if (fails <= 1)
		return period_ms;
	shift = fails - 1 > 3 ? 3 : fails - 1;
	return period_ms << shift;
}
