/*
 * lb-k8s-job: render, create, wait for, look at, read the logs of and
 * delete Kubernetes Jobs, one per input record (the Step Functions
 * eks:runJob.sync and eks:call DELETE steps).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lb.h"
#include "k8s.h"
#include "names.h"
#include "template.h"

#define SUB_LABEL	"lb.carla.org/submission"
#define ROLE_LABEL	"lb.carla.org/role"
#define MANAGER		"lb-k8s-job"

enum verb { RENDER, CREATE, WAIT, STATUS, LOGS, DELETE, RUN, TOKEN };

static const char *verbs[] = { "render", "create", "wait", "status", "logs",
    "delete", "run", "token", NULL };

struct tmpl {
	char			*role;	/* NULL: every record */
	struct lb_template	*t;
};

static struct {
	enum verb		 verb;
	struct lb_k8s_opts	 ko;
	struct lb_k8s		*k;
	const char		*ns;		/* -n */
	struct tmpl		*tmpls;
	int			 ntmpls;
	const char		*member;	/* --template-member */
	const char		*rejects;
	const char		*job;		/* -j */
	const char		*submission;	/* --submission */
	long			 interval;	/* seconds */
	long			 pending_timeout;
	long			 timeout;	/* 0: none */
	int			 early;
	int			 dry_run;
	const char		*propagation;
	int			 wait_gone;
	int			 rm;
	int			 follow;
	int			 verbose;
	int			 ns_given;
	int			 by_sub;	/* --submission */
} opt;

static volatile int stop;

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: lb-k8s-job render [-f [role=]file]... [-m member] [-r rejects]\n"
"       lb-k8s-job create [conn] [-f [role=]file]... [-m member] [--dry-run]\n"
"                  [-r rejects]\n"
"       lb-k8s-job wait [conn] [-i secs] [-p secs] [-t secs] [--early]\n"
"                  [-j job] [-r rejects]\n"
"       lb-k8s-job status [conn] [-p secs] [-j job | --submission id]\n"
"       lb-k8s-job logs [conn] [-f] [-j job]\n"
"       lb-k8s-job delete [conn] [--propagation policy] [--wait] [-t secs]\n"
"                  [-j job | --submission id]\n"
"       lb-k8s-job run [conn] [-f [role=]file]... [-m member] [-i secs]\n"
"                  [-p secs] [-t secs] [--rm]\n"
"       lb-k8s-job token --eks-cluster name\n"
"conn:  [-v] [-n namespace] [--kubeconfig files] [--context name]\n"
"       [--eks-cluster name] [--server url] [--certificate-authority file]\n");
	exit(status);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "lb-k8s-job: %s\n", line);
}

static void
onsig(int sig)
{
	stop = 1;
}

/* templates */

static void
add_template(const char *arg)
{
	struct lb_err e;
	const char *eq = strchr(arg, '='), *path = arg;
	struct tmpl *t;

	opt.tmpls = lb_xrealloc(opt.tmpls, sizeof(*opt.tmpls) *
	    (size_t)(opt.ntmpls + 1));
	t = &opt.tmpls[opt.ntmpls++];
	t->role = NULL;
	/* "role=file" unless the text before '=' looks like a path */
	if (eq != NULL && eq != arg && memchr(arg, '/', (size_t)(eq - arg)) ==
	    NULL) {
		t->role = strndup(arg, (size_t)(eq - arg));
		path = eq + 1;
	}
	if ((t->t = lb_template_load(path, &e)) == NULL)
		errx(LB_EUSAGE, "%s", e.msg);
}

/* The template for rec: its member, its role's file, or the default. */
static const struct lb_template *
pick(const cJSON *rec, struct lb_template **own, struct lb_err *e)
{
	const char *role = lb_json_str(rec, "role");
	const cJSON *m;
	int i;

	*own = NULL;
	if (opt.member != NULL) {
		m = lb_json_path(rec, opt.member);
		if (cJSON_IsString(m))
			*own = lb_template_load(m->valuestring, e);
		else if (cJSON_IsObject(m))
			*own = lb_template_from_json(m, opt.member, e);
		else {
			lb_err_set(e, LB_EFAIL, 0, "no template: %s must be a "
			    "file name or an object", opt.member);
			return NULL;
		}
		if (*own == NULL)
			e->kind = LB_EFAIL;
		return *own;
	}
	for (i = 0; i < opt.ntmpls; i++)
		if (opt.tmpls[i].role != NULL && role != NULL &&
		    strcmp(opt.tmpls[i].role, role) == 0)
			return opt.tmpls[i].t;
	for (i = 0; i < opt.ntmpls; i++)
		if (opt.tmpls[i].role == NULL)
			return opt.tmpls[i].t;
	lb_err_set(e, LB_EFAIL, 0, "no template for role %s",
	    role ? role : "(none)");
	return NULL;
}

static void
set_label(cJSON *obj, const char *path, const char *key, const char *val)
{
	cJSON *meta, *labels;
	char *p = lb_xstrdup(path), *s, *save = NULL;

	meta = obj;
	for (s = strtok_r(p, ".", &save); s != NULL && meta != NULL;
	    s = strtok_r(NULL, ".", &save)) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(meta, s);

		if (n == NULL)
			n = cJSON_AddObjectToObject(meta, s);
		meta = cJSON_IsObject(n) ? n : NULL;
	}
	free(p);
	if (meta == NULL)
		return;
	if ((labels = cJSON_GetObjectItemCaseSensitive(meta,
	    "labels")) == NULL)
		labels = cJSON_AddObjectToObject(meta, "labels");
	if (cJSON_IsObject(labels))
		lb_json_set_str(labels, key, val);
}

static const char *
label(const cJSON *obj, const char *key)
{
	const cJSON *l = lb_json_path(obj, "metadata.labels");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The submission id of a record as text, or NULL. */
static const char *
sub_id(const cJSON *rec, char *buf, size_t len)
{
	return lb_json_text(lb_json_path(rec, "submission.submission_id"), buf,
	    len);
}

/* Render rec into a Job and check what the API would refuse late. */
static cJSON *
render(const cJSON *rec, struct lb_err *e)
{
	struct lb_template *own;
	const struct lb_template *t;
	const char *name, *role, *v;
	char sb[64];
	cJSON *job;

	if ((t = pick(rec, &own, e)) == NULL)
		return NULL;
	job = lb_template_render(t, rec, e);
	lb_template_free(own);
	if (job == NULL)
		return NULL;
	if ((v = lb_json_str(job, "apiVersion")) == NULL ||
	    strcmp(v, "batch/v1") != 0 || (v = lb_json_str(job,
	    "kind")) == NULL || strcmp(v, "Job") != 0) {
		lb_err_set(e, LB_EFAIL, 0, "%s: not a batch/v1 Job",
		    lb_template_name(t));
		goto bad;
	}
	if ((name = lb_json_str(job, "metadata.name")) == NULL ||
	    !lb_names_valid(name)) {
		lb_err_set(e, LB_EFAIL, 0, "Job name %s%s%s is not a DNS-1123 "
		    "label of at most 63 characters", name ? "\"" : "",
		    name ? name : "(none)", name ? "\"" : "");
		goto bad;
	}
	if (!cJSON_IsObject(lb_json_path(job, "spec.template"))) {
		lb_err_set(e, LB_EFAIL, 0, "Job %s has no spec.template",
		    name);
		goto bad;
	}
	if ((v = sub_id(rec, sb, sizeof(sb))) != NULL) {
		if (!lb_k8s_label_value_ok(v) || *v == '\0') {
			lb_err_set(e, LB_EFAIL, 0, "submission_id \"%s\" "
			    "cannot be a label value", v);
			goto bad;
		}
		set_label(job, "metadata", SUB_LABEL, v);
		set_label(job, "spec.template.metadata", SUB_LABEL, v);
	}
	if ((role = lb_json_str(rec, "role")) != NULL &&
	    lb_k8s_label_value_ok(role) && *role != '\0') {
		set_label(job, "metadata", ROLE_LABEL, role);
		set_label(job, "spec.template.metadata", ROLE_LABEL, role);
	}
	return job;
bad:
	cJSON_Delete(job);
	return NULL;
}

/* connection */

static void
connect_k8s(void)
{
	struct lb_err e;

	if (opt.k != NULL)
		return;
	if (opt.verbose)
		opt.ko.trace = trace;
	opt.ko.sa_dir = getenv("LB_K8S_SA_DIR");
	opt.ko.stop = &stop;
	if ((opt.k = lb_k8s_new(&opt.ko, &e)) == NULL)
		errx(e.kind == LB_ETEMP ? LB_ETEMP : LB_EUSAGE, "%s", e.msg);
	if (opt.ns == NULL)
		opt.ns = lb_k8s_config(opt.k)->namespace;
	if (!lb_names_valid(opt.ns))
		errx(LB_EUSAGE, "namespace \"%s\" is not a DNS-1123 label",
		    opt.ns);
}

/* The namespace and name of the Job a record is about. */
static int
target(const cJSON *rec, char **ns, char **name, char **uid,
    struct lb_err *e)
{
	const char *n = NULL, *s = NULL, *u = NULL;
	cJSON *job = NULL;

	*ns = *name = *uid = NULL;
	if (opt.job != NULL)
		n = opt.job;
	else if ((n = lb_json_str(rec, "k8s.job")) != NULL) {
		s = lb_json_str(rec, "k8s.namespace");
		u = lb_json_str(rec, "k8s.uid");
	} else if (opt.ntmpls > 0 || opt.member != NULL) {
		if ((job = render(rec, e)) == NULL)
			return -1;
		n = lb_json_str(job, "metadata.name");
		s = lb_json_str(job, "metadata.namespace");
	} else if ((n = lb_json_str(rec, "submission.name")) == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "which Job? no k8s.job, "
		    "no submission.name and no template");
	if (!lb_names_valid(n)) {
		lb_err_set(e, LB_EFAIL, 0, "Job name \"%s\" is not a DNS-1123 "
		    "label", n);
		cJSON_Delete(job);
		return -1;
	}
	if (s != NULL && !lb_names_valid(s)) {
		lb_err_set(e, LB_EFAIL, 0, "namespace \"%s\" is not a DNS-1123 "
		    "label", s);
		cJSON_Delete(job);
		return -1;
	}
	*name = lb_xstrdup(n);
	/* -n wins, then the record's or template's, then the context's */
	*ns = lb_xstrdup(opt.ns_given || s == NULL ? opt.ns : s);
	*uid = u ? lb_xstrdup(u) : NULL;
	cJSON_Delete(job);
	return 0;
}

/* The record's k8s member, made fresh. */
static cJSON *
k8s_member(cJSON *rec, const char *ns, const char *name, const char *uid)
{
	cJSON *k = cJSON_CreateObject();

	cJSON_AddStringToObject(k, "job", name);
	cJSON_AddStringToObject(k, "namespace", ns);
	if (uid != NULL)
		cJSON_AddStringToObject(k, "uid", uid);
	lb_json_set(rec, "k8s", k);
	return k;
}

/* create */

static int
do_create(cJSON *rec, struct lb_err *e)
{
	const char *name, *jns, *uid, *theirs, *mine;
	cJSON *job, *got = NULL, *k;
	char *path, *q, sb[64];
	long st;

	if ((job = render(rec, e)) == NULL)
		return -1;
	name = lb_json_str(job, "metadata.name");
	jns = lb_json_str(job, "metadata.namespace");
	if (jns != NULL && strcmp(jns, opt.ns) != 0) {
		lb_err_set(e, LB_EFAIL, 0, "Job %s: metadata.namespace %s is "
		    "not the namespace %s", name, jns, opt.ns);
		cJSON_Delete(job);
		return -1;
	}
	path = lb_k8s_jobs_path(opt.ns, NULL);
	q = lb_xasprintf("%s?fieldManager=" MANAGER "%s", path,
	    opt.dry_run ? "&dryRun=All" : "");
	st = lb_k8s_call(opt.k, "POST", q, job, &got, e);
	free(q);
	free(path);
	if (st == 201 || (opt.dry_run && st == 200)) {
		k = k8s_member(rec, opt.ns, name,
		    opt.dry_run ? NULL : lb_json_str(got, "metadata.uid"));
		cJSON_AddBoolToObject(k, "created", !opt.dry_run);
		if (opt.dry_run)
			cJSON_AddBoolToObject(k, "dry_run", 1);
		cJSON_Delete(got);
		cJSON_Delete(job);
		return 0;
	}
	cJSON_Delete(got);
	got = NULL;
	if (st != 409 || strcmp(e->code, "AlreadyExists") != 0) {
		lb_err_prefix(e, "create Job %s", name);
		cJSON_Delete(job);
		return -1;
	}
	/* 409: ours (a redelivered message) or somebody else's */
	path = lb_k8s_jobs_path(opt.ns, name);
	st = lb_k8s_call(opt.k, "GET", path, NULL, &got, e);
	free(path);
	mine = sub_id(rec, sb, sizeof(sb));
	theirs = label(got, SUB_LABEL);
	if (st == 404) {
		lb_err_set(e, LB_ETEMP, 409, "create Job %s: it exists and "
		    "went away again; try again", name);
	} else if (st != 200) {
		lb_err_prefix(e, "create Job %s: after 409", name);
	} else if (mine == NULL || theirs == NULL || strcmp(mine,
	    theirs) != 0) {
		lb_err_set(e, LB_EFAIL, 409, "create Job %s: a Job of that "
		    "name exists and is not this submission's (%s=%s)",
		    name, SUB_LABEL, theirs ? theirs : "unset");
	} else if (lb_json_path(got, "metadata.deletionTimestamp") != NULL) {
		lb_err_set(e, LB_ETEMP, 409, "create Job %s: the old Job is "
		    "being deleted; try again when it is gone", name);
	} else {
		uid = lb_json_str(got, "metadata.uid");
		k = k8s_member(rec, opt.ns, name, uid);
		cJSON_AddBoolToObject(k, "created", 0);
		cJSON_Delete(got);
		cJSON_Delete(job);
		return 0;
	}
	cJSON_Delete(got);
	cJSON_Delete(job);
	return -1;
}

/* pods */

static cJSON *
list_pods(const cJSON *job, const char *ns, struct lb_err *e)
{
	char *sel, *esel, *path, *q;
	cJSON *got = NULL;
	long st;

	if ((sel = lb_k8s_job_selector(job)) == NULL) {
		const char *uid = lb_json_str(job, "metadata.uid");

		sel = lb_xasprintf("batch.kubernetes.io/controller-uid=%s",
		    uid ? uid : "none");
	}
	esel = lb_http_escape(sel, 0);
	path = lb_k8s_pods_path(ns, NULL);
	q = lb_xasprintf("%s?labelSelector=%s", path, esel);
	st = lb_k8s_call(opt.k, "GET", q, NULL, &got, e);
	free(q);
	free(path);
	free(esel);
	free(sel);
	if (st != 200) {
		cJSON_Delete(got);
		return NULL;
	}
	return got;
}

/* The first container of pod waiting on reason, for messages. */
static void
stuck_container(const cJSON *pod, const char *reason, char *buf, size_t len)
{
	static const char *lists[] = { "status.initContainerStatuses",
	    "status.containerStatuses", NULL };
	const cJSON *l, *c;
	const char *r, *n;
	int i;

	buf[0] = '\0';
	for (i = 0; lists[i] != NULL; i++) {
		l = lb_json_path(pod, lists[i]);
		cJSON_ArrayForEach(c, (cJSON_IsArray(l) ? l : NULL)) {
			r = lb_json_str(c, "state.waiting.reason");
			n = lb_json_str(c, "name");
			if (r != NULL && n != NULL && strcmp(r, reason) == 0) {
				snprintf(buf, len, "%s", n);
				return;
			}
		}
	}
}

/*
 * Refine a non-terminal outcome with the pods: running when a pod
 * runs, stuck when one is Pending hopelessly past the limit.
 */
static int
look_at_pods(const cJSON *job, const char *ns, struct lb_k8s_outcome *o,
    struct lb_err *e)
{
	const cJSON *items, *it;
	char reason[64];
	time_t since, now = time(NULL);
	cJSON *pods;
	int r;

	if (o->state != LB_K8S_PENDING && o->state != LB_K8S_RUNNING)
		return 0;
	if ((pods = list_pods(job, ns, e)) == NULL)
		return -1;
	items = cJSON_GetObjectItemCaseSensitive(pods, "items");
	cJSON_ArrayForEach(it, (cJSON_IsArray(items) ? items : NULL)) {
		if (lb_json_path(it, "metadata.deletionTimestamp") != NULL)
			continue;
		r = lb_k8s_pod_stuck(it, reason, sizeof(reason), &since);
		if (r == 2 && o->state == LB_K8S_PENDING)
			o->state = LB_K8S_RUNNING;
		if (r == 1 && since > 0 && now - since >=
		    opt.pending_timeout) {
			o->state = LB_K8S_STUCK;
			o->pending_seconds = (long)(now - since);
			stuck_container(it, reason, o->container,
			    sizeof(o->container));
			snprintf(o->reason, sizeof(o->reason), "%s", reason);
			snprintf(o->message, sizeof(o->message), "pod %s "
			    "Pending for %lds: %s", lb_json_str(it,
			    "metadata.name") ? lb_json_str(it,
			    "metadata.name") : "?", (long)(now - since),
			    reason);
			break;
		}
	}
	cJSON_Delete(pods);
	return 0;
}

/* watch */

struct watch {
	char		 rv[64];
	const char	*name;
	cJSON		*last;		/* last object seen */
	int		 deleted;
	int		 gone;		/* 410 */
	int		 early;
	struct lb_err	 err;
	int		 error;
};

static int
is_done(const struct lb_k8s_outcome *o, int early)
{
	if (o->state == LB_K8S_COMPLETE || o->state == LB_K8S_FAILED)
		return o->final || early;
	return 0;
}

static int
on_event(void *arg, const char *type, const cJSON *obj)
{
	struct watch *w = arg;
	struct lb_k8s_outcome o;
	const char *rv = lb_json_str(obj, "metadata.resourceVersion");
	const cJSON *code;

	if (strcmp(type, "ERROR") == 0) {
		code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		if (cJSON_IsNumber(code) && code->valueint == 410) {
			w->gone = 1;
			return 1;
		}
		w->error = 1;
		lb_err_set(&w->err, LB_ETEMP, cJSON_IsNumber(code) ?
		    code->valueint : 0, "watch: %s", lb_json_str(obj,
		    "message") ? lb_json_str(obj, "message") : "ERROR event");
		return 1;
	}
	if (rv != NULL)
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	if (strcmp(type, "BOOKMARK") == 0)
		return stop;
	/* a selector watch: only our Job, but check */
	if (lb_json_str(obj, "metadata.name") == NULL ||
	    strcmp(lb_json_str(obj, "metadata.name"), w->name) != 0)
		return stop;
	cJSON_Delete(w->last);
	w->last = cJSON_Duplicate(obj, 1);
	if (strcmp(type, "DELETED") == 0) {
		w->deleted = 1;
		return 1;
	}
	lb_k8s_job_outcome(obj, &o);
	return is_done(&o, w->early) || stop;
}

static int
wp_cb(void *arg, const char *p, size_t n)
{
	struct lb_k8s_wp *wp = arg;
	struct lb_err e;

	return lb_k8s_wp_feed(wp, p, n, &e) != 0 ? -1 : 0;
}

/*
 * Watch Job name from w->rv for up to secs.  Returns 0 when the watch
 * ended (cleanly, silently or with an event that decides), -1 on an
 * error that is not worth another round.
 */
static int
watch_job(const char *ns, const char *name, struct watch *w, long secs,
    struct lb_err *e)
{
	struct lb_k8s_wp *wp;
	char *path, *q, *fs;
	long st;

	w->name = name;
	w->gone = w->error = 0;
	fs = lb_xasprintf("metadata.name%%3D%s", name);
	path = lb_k8s_jobs_path(ns, NULL);
	q = lb_xasprintf("%s?watch=true&fieldSelector=%s&resourceVersion=%s"
	    "&allowWatchBookmarks=true&timeoutSeconds=%ld", path, fs, w->rv,
	    secs);
	free(path);
	free(fs);
	wp = lb_k8s_wp_new(on_event, w);
	/* the client gives up 5 s after the server should have ended */
	st = lb_k8s_stream(opt.k, q, (secs + 5) * 1000, wp_cb, wp, e);
	if (st >= 200 && st < 300)
		lb_k8s_wp_end(wp, e);
	lb_k8s_wp_free(wp);
	free(q);
	if (st == 410) {
		w->gone = 1;
		return 0;
	}
	if (st == -1)
		return e->kind == LB_ETEMP ? 0 : -1;	/* silent or dropped */
	if (st >= 300)
		return -1;
	if (w->error) {
		*e = w->err;
		return 0;
	}
	return 0;
}

/*
 * Look at one Job through a list with a field selector: the list's
 * resourceVersion is the current one, so the watch that follows starts
 * at "now" even when the Job itself has not changed for long.  Returns
 * 200 with *job, 404 when there is none, else the failed status.
 */
static long
get_job(const char *ns, const char *name, cJSON **job, char *rv, size_t rvlen,
    struct lb_err *e)
{
	char *path, *q;
	cJSON *list = NULL, *it;
	const char *v;
	long st;

	*job = NULL;
	path = lb_k8s_jobs_path(ns, NULL);
	q = lb_xasprintf("%s?fieldSelector=metadata.name%%3D%s", path, name);
	st = lb_k8s_call(opt.k, "GET", q, NULL, &list, e);
	free(q);
	free(path);
	if (st != 200) {
		cJSON_Delete(list);
		return st;
	}
	v = lb_json_str(list, "metadata.resourceVersion");
	snprintf(rv, rvlen, "%s", v ? v : "");
	it = cJSON_GetObjectItemCaseSensitive(list, "items");
	it = cJSON_IsArray(it) ? it->child : NULL;
	for (; it != NULL; it = it->next)
		if ((v = lb_json_str(it, "metadata.name")) != NULL &&
		    strcmp(v, name) == 0)
			break;
	if (it == NULL) {
		cJSON_Delete(list);
		lb_err_set(e, LB_EFAIL, 404, "Job %s not found", name);
		return 404;
	}
	*job = cJSON_Duplicate(it, 1);
	cJSON_Delete(list);
	return 200;
}

/* wait */

static int
wait_job(cJSON *rec, const char *ns, const char *name, const char *uid,
    int early, struct lb_k8s_outcome *o, struct lb_err *e)
{
	struct watch w;
	long long t0 = lb_util_now_ms();
	const char *u;
	char *path;
	cJSON *job = NULL;
	long st, secs;
	int fails = 0;

	memset(&w, 0, sizeof(w));
	w.early = early;
	path = lb_k8s_jobs_path(ns, name);
	for (;;) {
		/* 1: a fresh look (also after 410 and every round) */
		cJSON_Delete(job);
		job = NULL;
		st = get_job(ns, name, &job, w.rv, sizeof(w.rv), e);
		if (st == 404) {
			memset(o, 0, sizeof(*o));
			if (w.last != NULL)
				lb_k8s_job_outcome(w.last, o);
			if (!is_done(o, 1)) {
				memset(o, 0, sizeof(*o));
				o->state = LB_K8S_DELETED;
				snprintf(o->reason, sizeof(o->reason),
				    "NotFound");
				snprintf(o->message, sizeof(o->message),
				    "the Job was deleted before it finished");
			}
			break;
		}
		if (st != 200) {
			if (st == -1 || e->kind == LB_ETEMP) {
				if (++fails < 5 && !stop) {
					lb_util_sleep_ms(1000L * fails, &stop);
					continue;
				}
			}
			lb_err_prefix(e, "Job %s", name);
			goto fail;
		}
		fails = 0;
		u = lb_json_str(job, "metadata.uid");
		if (uid != NULL && u != NULL && strcmp(uid, u) != 0) {
			memset(o, 0, sizeof(*o));
			o->state = LB_K8S_DELETED;
			snprintf(o->reason, sizeof(o->reason), "Replaced");
			snprintf(o->message, sizeof(o->message), "the Job was "
			    "deleted and another of the same name made");
			break;
		}
		lb_k8s_job_outcome(job, o);
		if (is_done(o, early))
			break;
		if (look_at_pods(job, ns, o, e) == -1 && e->kind != LB_ETEMP)
			goto fail;
		if (o->state == LB_K8S_STUCK)
			break;
		if (stop) {
			lb_err_set(e, LB_ETEMP, 0, "Job %s: interrupted", name);
			goto fail;
		}
		if (opt.timeout > 0 && lb_util_now_ms() - t0 >=
		    opt.timeout * 1000) {
			lb_err_set(e, LB_ETEMP, 0, "Job %s: still %s after "
			    "%lds", name, lb_k8s_state_name(o->state),
			    opt.timeout);
			goto fail;
		}
		/* 2: watch from the list's version until something changes */
		secs = opt.interval;
		if (opt.timeout > 0 && (opt.timeout * 1000 -
		    (lb_util_now_ms() - t0)) / 1000 + 1 < secs)
			secs = (opt.timeout * 1000 - (lb_util_now_ms() -
			    t0)) / 1000 + 1;
		cJSON_Delete(w.last);
		w.last = NULL;
		lb_err_clear(e);
		if (watch_job(ns, name, &w, secs, e) == -1) {
			if (e->kind != LB_ETEMP || ++fails >= 5)
				goto fail;
			lb_util_sleep_ms(1000L * fails, &stop);
		}
		if (opt.verbose && w.gone)
			warnx("Job %s: watch expired (410), listing again",
			    name);
		else if (opt.verbose && e->msg[0] != '\0')
			warnx("Job %s: watch ended: %s; listing again", name,
			    e->msg);
		if (w.deleted) {
			lb_k8s_job_outcome(w.last, o);
			if (!is_done(o, 1)) {
				memset(o, 0, sizeof(*o));
				o->state = LB_K8S_DELETED;
				snprintf(o->reason, sizeof(o->reason),
				    "Deleted");
				snprintf(o->message, sizeof(o->message),
				    "the Job was deleted before it finished");
			}
			break;
		}
		if (w.last != NULL) {
			lb_k8s_job_outcome(w.last, o);
			if (is_done(o, early))
				break;
		}
	}
	free(path);
	cJSON_Delete(job);
	cJSON_Delete(w.last);
	return 0;
fail:
	free(path);
	cJSON_Delete(job);
	cJSON_Delete(w.last);
	return -1;
}

static int
bad_outcome(const struct lb_k8s_outcome *o)
{
	return o->state == LB_K8S_FAILED || o->state == LB_K8S_STUCK ||
	    o->state == LB_K8S_DELETED;
}

static int
do_wait(cJSON *rec, struct lb_err *e, int *bad)
{
	struct lb_k8s_outcome o;
	char *ns, *name, *uid;
	cJSON *k;

	if (target(rec, &ns, &name, &uid, e) == -1)
		return -1;
	if (wait_job(rec, ns, name, uid, opt.early, &o, e) == -1) {
		free(ns);
		free(name);
		free(uid);
		return -1;
	}
	k = k8s_member(rec, ns, name, uid);
	lb_k8s_outcome_json(&o, k);
	*bad = bad_outcome(&o);
	free(ns);
	free(name);
	free(uid);
	return 0;
}

/* status */

static int
status_of(cJSON *rec, const char *ns, const char *name, const char *uid,
    cJSON *job, struct lb_err *e)
{
	struct lb_k8s_outcome o;
	cJSON *k;

	memset(&o, 0, sizeof(o));
	if (job == NULL) {
		o.state = LB_K8S_DELETED;
		snprintf(o.reason, sizeof(o.reason), "NotFound");
	} else {
		lb_k8s_job_outcome(job, &o);
		if (look_at_pods(job, ns, &o, e) == -1)
			return -1;
		uid = lb_json_str(job, "metadata.uid");
	}
	k = k8s_member(rec, ns, name, uid);
	lb_k8s_outcome_json(&o, k);
	return 0;
}

static int
do_status(cJSON *rec, struct lb_err *e)
{
	char *ns, *name, *uid, *path;
	cJSON *job = NULL;
	long st;
	int rc;

	if (target(rec, &ns, &name, &uid, e) == -1)
		return -1;
	path = lb_k8s_jobs_path(ns, name);
	st = lb_k8s_call(opt.k, "GET", path, NULL, &job, e);
	free(path);
	if (st == 200 || st == 404) {
		if (st == 404) {
			cJSON_Delete(job);
			job = NULL;
		}
		rc = status_of(rec, ns, name, uid, job, e);
	} else {
		lb_err_prefix(e, "Job %s", name);
		rc = -1;
	}
	cJSON_Delete(job);
	free(ns);
	free(name);
	free(uid);
	return rc;
}

/* delete */

static int
wait_gone(const char *ns, const char *name, struct lb_err *e)
{
	struct watch w;
	long long t0 = lb_util_now_ms();
	char *path = lb_k8s_jobs_path(ns, name);
	cJSON *job = NULL;
	long st;

	memset(&w, 0, sizeof(w));
	for (;;) {
		st = get_job(ns, name, &job, w.rv, sizeof(w.rv), e);
		if (st == 404)
			break;
		if (st != 200) {
			free(path);
			cJSON_Delete(job);
			return -1;
		}
		cJSON_Delete(job);
		job = NULL;
		if (stop || (opt.timeout > 0 && lb_util_now_ms() - t0 >=
		    opt.timeout * 1000)) {
			free(path);
			return lb_err_set(e, LB_ETEMP, 0, "Job %s: still "
			    "there", name);
		}
		w.early = 0;
		watch_job(ns, name, &w, opt.interval, e);
		cJSON_Delete(w.last);
		w.last = NULL;
		if (w.deleted)
			break;
	}
	free(path);
	cJSON_Delete(job);
	return 0;
}

static int
delete_one(cJSON *rec, const char *ns, const char *name, const char *uid,
    struct lb_err *e)
{
	cJSON *body, *k, *got = NULL;
	char *path;
	long st;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "kind", "DeleteOptions");
	cJSON_AddStringToObject(body, "apiVersion", "v1");
	cJSON_AddStringToObject(body, "propagationPolicy", opt.propagation);
	if (uid != NULL)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(body,
		    "preconditions"), "uid", uid);
	path = lb_k8s_jobs_path(ns, name);
	st = lb_k8s_call(opt.k, "DELETE", path, body, &got, e);
	free(path);
	cJSON_Delete(body);
	cJSON_Delete(got);
	if (st != 200 && st != 202 && st != 404) {
		lb_err_prefix(e, "delete Job %s", name);
		return -1;
	}
	if (st != 404 && opt.wait_gone && wait_gone(ns, name, e) == -1)
		return -1;
	k = k8s_member(rec, ns, name, uid);
	cJSON_AddBoolToObject(k, "deleted", st != 404);
	if (st == 404)
		cJSON_AddBoolToObject(k, "already_gone", 1);
	cJSON_AddStringToObject(k, "propagation", opt.propagation);
	if (opt.wait_gone)
		cJSON_AddBoolToObject(k, "gone", 1);
	return 0;
}

static int
do_delete(cJSON *rec, struct lb_err *e)
{
	char *ns, *name, *uid;
	int rc;

	if (target(rec, &ns, &name, &uid, e) == -1)
		return -1;
	rc = delete_one(rec, ns, name, uid, e);
	free(ns);
	free(name);
	free(uid);
	return rc;
}

/* logs */

/* Print the lines of a log with a prefix; partial lines kept. */
struct logout {
	const char	*prefix;
	struct lb_buf	 part;
	int		 stamped;	/* strip "TIMESTAMP " */
	char		 last[64];	/* newest timestamp printed */
	char		 skip[64];	/* skip lines up to this one */
};

static void
emit(struct logout *l, const char *p, size_t n)
{
	struct lb_buf b = { 0 };
	const char *sp;

	if (l->stamped && (sp = memchr(p, ' ', n)) != NULL &&
	    (size_t)(sp - p) < sizeof(l->last)) {
		char ts[64];

		snprintf(ts, sizeof(ts), "%.*s", (int)(sp - p), p);
		if (l->skip[0] != '\0' && strcmp(ts, l->skip) <= 0)
			return;
		snprintf(l->last, sizeof(l->last), "%s", ts);
		n -= (size_t)(sp - p) + 1;
		p = sp + 1;
	}
	lb_buf_printf(&b, "%s: ", l->prefix);
	lb_buf_add(&b, p, n);
	lb_buf_add(&b, "\n", 1);
	/* one write per line: lines of parallel followers stay whole */
	if (write(1, b.p, b.len) == -1)
		stop = 1;
	lb_buf_free(&b);
}

static int
log_cb(void *arg, const char *p, size_t n)
{
	struct logout *l = arg;
	const char *nl;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			lb_buf_add(&l->part, p, n);
			return 0;
		}
		if (l->part.len > 0) {
			lb_buf_add(&l->part, p, (size_t)(nl - p));
			emit(l, l->part.p, l->part.len);
			l->part.len = 0;
		} else
			emit(l, p, (size_t)(nl - p));
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return stop ? -1 : 0;
}

static void
log_flush(struct logout *l)
{
	if (l->part.len > 0)
		emit(l, l->part.p, l->part.len);
	l->part.len = 0;
}

/* One container's log, once or followed across restarts. */
static int
log_container(const char *ns, const char *pod, const char *c, int follow,
    struct lb_err *e)
{
	struct logout l;
	char *path, *q, *pfx, *ec, *since;
	const char *phase;
	cJSON *p;
	long st;

	memset(&l, 0, sizeof(l));
	pfx = lb_xasprintf("%s/%s", pod, c);
	l.prefix = pfx;
	l.stamped = follow;
	path = lb_k8s_pods_path(ns, pod);
	ec = lb_http_escape(c, 0);
	for (;;) {
		since = l.last[0] ? lb_http_escape(l.last, 0) : NULL;
		q = lb_xasprintf("%s/log?container=%s%s%s%s", path, ec,
		    follow ? "&follow=true&timestamps=true" : "",
		    since ? "&sinceTime=" : "", since ? since : "");
		free(since);
		snprintf(l.skip, sizeof(l.skip), "%s", l.last);
		/* a followed stream lasts as long as the container */
		st = lb_k8s_stream(opt.k, q, follow ? 7 * 86400000L : 60000,
		    log_cb, &l, e);
		free(q);
		log_flush(&l);
		if (!follow || stop || st == 404)
			break;
		/* did the container end for good? */
		p = NULL;
		q = lb_xasprintf("%s", path);
		st = lb_k8s_call(opt.k, "GET", q, NULL, &p, e);
		free(q);
		phase = lb_json_str(p, "status.phase");
		if (st == 404 || (phase != NULL && (strcmp(phase,
		    "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) ||
		    lb_json_path(p, "metadata.deletionTimestamp") != NULL) {
			cJSON_Delete(p);
			break;
		}
		cJSON_Delete(p);
		lb_util_sleep_ms(500, &stop);
	}
	free(ec);
	free(path);
	free(pfx);
	lb_buf_free(&l.part);
	return 0;
}

/*
 * In a follower process: a client of its own, never the parent's
 * connection (a TLS session cannot be shared between processes).
 */
static void
follow_one(const char *ns, const char *pod, const char *c)
{
	struct lb_err e;

	if ((opt.k = lb_k8s_new(&opt.ko, &e)) == NULL) {
		warnx("%s/%s: %s", pod, c, e.msg);
		return;
	}
	log_container(ns, pod, c, 1, &e);
}

struct follower {
	char	*key;		/* pod/container */
	pid_t	 pid;
};

static int
do_logs(cJSON *rec, struct lb_err *e)
{
	static const char *lists[] = { "spec.initContainers",
	    "spec.containers", NULL };
	struct follower *fl = NULL;
	struct lb_k8s_outcome o;
	const cJSON *items, *it, *cl, *c;
	char *ns, *name, *uid, *path, *key;
	cJSON *job = NULL, *pods;
	int nfl = 0, i, j, running, status, done = 0;
	long st;
	pid_t pid;

	if (target(rec, &ns, &name, &uid, e) == -1)
		return -1;
	path = lb_k8s_jobs_path(ns, name);
	for (;;) {
		cJSON_Delete(job);
		job = NULL;
		st = lb_k8s_call(opt.k, "GET", path, NULL, &job, e);
		if (st != 200) {
			if (st == 404 && nfl > 0)
				done = 1;
			else {
				lb_err_prefix(e, "Job %s", name);
				goto fail;
			}
		} else {
			lb_k8s_job_outcome(job, &o);
			done = o.final || stop;
			if ((pods = list_pods(job, ns, e)) == NULL)
				goto fail;
			items = cJSON_GetObjectItemCaseSensitive(pods,
			    "items");
			cJSON_ArrayForEach(it, items) {
				const char *pn = lb_json_str(it,
				    "metadata.name");

				for (i = 0; pn != NULL && lists[i] != NULL;
				    i++) {
					cl = lb_json_path(it, lists[i]);
					cJSON_ArrayForEach(c, (cJSON_IsArray(cl)
					    ? cl : NULL)) {
						const char *cn = lb_json_str(c,
						    "name");

						if (cn == NULL)
							continue;
						if (!opt.follow) {
							log_container(ns, pn,
							    cn, 0, e);
							continue;
						}
						key = lb_xasprintf("%s/%s", pn,
						    cn);
						for (j = 0; j < nfl; j++)
							if (!strcmp(fl[j].key,
							    key))
								break;
						if (j < nfl) {
							free(key);
							continue;
						}
						fflush(stdout);
						if ((pid = fork()) == 0) {
							follow_one(ns, pn, cn);
							_exit(0);
						}
						fl = lb_xrealloc(fl,
						    sizeof(*fl) *
						    (size_t)(nfl + 1));
						fl[nfl].key = key;
						fl[nfl++].pid = pid;
					}
				}
			}
			cJSON_Delete(pods);
		}
		if (!opt.follow)
			break;
		/* reap; finish when the Job is over and no one follows */
		running = 0;
		for (j = 0; j < nfl; j++) {
			if (fl[j].pid > 0 && waitpid(fl[j].pid, &status,
			    WNOHANG) == fl[j].pid)
				fl[j].pid = 0;
			running += fl[j].pid > 0;
		}
		if (done && running == 0)
			break;
		lb_util_sleep_ms(done ? 200 : 1000, NULL);
		if (stop)
			for (j = 0; j < nfl; j++)
				if (fl[j].pid > 0)
					kill(fl[j].pid, SIGTERM);
	}
	for (j = 0; j < nfl; j++)
		free(fl[j].key);
	free(fl);
	free(path);
	cJSON_Delete(job);
	free(ns);
	free(name);
	free(uid);
	return 0;
fail:
	for (j = 0; j < nfl; j++) {
		if (fl[j].pid > 0)
			kill(fl[j].pid, SIGTERM);
		free(fl[j].key);
	}
	free(fl);
	free(path);
	cJSON_Delete(job);
	free(ns);
	free(name);
	free(uid);
	return -1;
}

/* run: create, wait, maybe delete */

static int
do_run(cJSON *rec, struct lb_err *e, int *bad)
{
	struct lb_k8s_outcome o;
	const char *ns, *name, *uid;
	char *sns, *sname, *suid;
	cJSON *k;
	int rc;

	if (do_create(rec, e) == -1)
		return -1;
	sns = lb_xstrdup(lb_json_str(rec, "k8s.namespace"));
	sname = lb_xstrdup(lb_json_str(rec, "k8s.job"));
	uid = lb_json_str(rec, "k8s.uid");
	suid = uid ? lb_xstrdup(uid) : NULL;
	ns = sns;
	name = sname;
	rc = wait_job(rec, ns, name, suid, opt.early, &o, e);
	if (opt.rm) {
		struct lb_err de;
		int saved = stop;

		stop = 0;	/* clean up even when interrupted */
		if (delete_one(rec, ns, name, suid, &de) == -1) {
			warnx("%s", de.msg);
			if (rc == 0) {
				*e = de;
				rc = -1;
			}
		}
		stop = saved;
	}
	if (rc == 0) {
		k = cJSON_GetObjectItemCaseSensitive(rec, "k8s");
		lb_k8s_outcome_json(&o, k);
		*bad = bad_outcome(&o);
	}
	free(sns);
	free(sname);
	free(suid);
	return rc;
}

/* token: an ExecCredential for kubectl */

static int
do_token(void)
{
	struct lb_err e;
	const char *t;
	time_t exp;
	char ts[32];
	cJSON *o, *st;

	opt.ko.token_only = 1;
	connect_k8s();
	if ((t = lb_k8s_token(opt.k, &exp, &e)) == NULL)
		errx(e.kind ? e.kind : LB_EUSAGE, "%s", e.msg[0] ? e.msg :
		    "no token in this configuration");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", "ExecCredential");
	cJSON_AddStringToObject(o, "apiVersion",
	    "client.authentication.k8s.io/v1beta1");
	cJSON_AddObjectToObject(o, "spec");
	st = cJSON_AddObjectToObject(o, "status");
	if (exp != 0) {
		lb_util_isotime(exp, ts);
		cJSON_AddStringToObject(st, "expirationTimestamp", ts);
	}
	cJSON_AddStringToObject(st, "token", t);
	if (lb_jsonl_write(stdout, o) == -1)
		err(LB_EFAIL, "stdout");
	cJSON_Delete(o);
	return 0;
}

/* submission mode: every Job of a submission, as one record */

/* The submission id of a record: ours, the reconciler's row, the doc's. */
static const char *
any_sub_id(const cJSON *rec, char *buf, size_t len)
{
	static const char *paths[] = { "submission.submission_id",
	    "submission_id", "data.submission.submission_id", NULL };
	const char *v;
	int i;

	for (i = 0; paths[i] != NULL; i++)
		if ((v = lb_json_text(lb_json_path(rec, paths[i]), buf,
		    len)) != NULL)
			return v;
	return NULL;
}

/* How bad an outcome is for the submission: the worst one decides. */
static int
rank(int state)
{
	switch (state) {
	case LB_K8S_STUCK:
		return 6;
	case LB_K8S_FAILED:
		return 5;
	case LB_K8S_DELETED:
		return 4;
	case LB_K8S_PENDING:
	case LB_K8S_RUNNING:
	case LB_K8S_SUSPENDED:
		return 3;
	default:
		return 1;	/* complete */
	}
}

/*
 * One look at every Job of submission id: *jobs gets one object per Job,
 * *agg the submission's state: stuck, failed or deleted as soon as one
 * Job is; running while any Job is not finished; complete when all are.
 * No Job at all is "deleted" (NoJobs).  rv gets the list's version.
 */
static int
sub_look(const char *ns, const char *id, cJSON **jobs, char *rv, size_t rvlen,
    struct lb_k8s_outcome *agg, struct lb_err *e)
{
	const cJSON *items, *it;
	struct lb_k8s_outcome o;
	char *sel, *esel, *path, *q;
	const char *name, *v;
	cJSON *list = NULL, *j;
	long st;
	int n = 0;

	sel = lb_xasprintf("%s=%s", SUB_LABEL, id);
	esel = lb_http_escape(sel, 0);
	path = lb_k8s_jobs_path(ns, NULL);
	q = lb_xasprintf("%s?labelSelector=%s", path, esel);
	st = lb_k8s_call(opt.k, "GET", q, NULL, &list, e);
	free(q);
	free(path);
	free(esel);
	free(sel);
	if (st != 200) {
		cJSON_Delete(list);
		lb_err_prefix(e, "Jobs of submission %s", id);
		return -1;
	}
	if (rv != NULL) {
		v = lb_json_str(list, "metadata.resourceVersion");
		snprintf(rv, rvlen, "%s", v ? v : "");
	}
	memset(agg, 0, sizeof(*agg));
	agg->state = LB_K8S_COMPLETE;
	agg->final = 1;
	*jobs = cJSON_CreateArray();
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	cJSON_ArrayForEach(it, items) {
		if ((name = lb_json_str(it, "metadata.name")) == NULL)
			continue;
		lb_k8s_job_outcome(it, &o);
		if (look_at_pods(it, ns, &o, e) == -1) {
			cJSON_Delete(list);
			cJSON_Delete(*jobs);
			*jobs = NULL;
			return -1;
		}
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "job", name);
		if (label(it, ROLE_LABEL) != NULL)
			cJSON_AddStringToObject(j, "role", label(it,
			    ROLE_LABEL));
		if ((v = lb_json_str(it, "metadata.uid")) != NULL)
			cJSON_AddStringToObject(j, "uid", v);
		lb_k8s_outcome_json(&o, j);
		cJSON_AddItemToArray(*jobs, j);
		if (n++ == 0 || rank(o.state) > rank(agg->state)) {
			agg->state = o.state;
			snprintf(agg->reason, sizeof(agg->reason), "%s",
			    o.reason);
			snprintf(agg->message, sizeof(agg->message), "%.*s%s%.*s",
			    100, name, o.message[0] ? ": " : "", 400,
			    o.message);
		}
		if (!o.final)
			agg->final = 0;
		agg->active += o.active;
		agg->succeeded += o.succeeded;
		agg->failed += o.failed;
		if (o.start_time[0] && (!agg->start_time[0] ||
		    strcmp(o.start_time, agg->start_time) < 0))
			snprintf(agg->start_time, sizeof(agg->start_time),
			    "%s", o.start_time);
		if (strcmp(o.end_time, agg->end_time) > 0)
			snprintf(agg->end_time, sizeof(agg->end_time), "%s",
			    o.end_time);
	}
	cJSON_Delete(list);
	if (n == 0) {
		agg->state = LB_K8S_DELETED;
		agg->final = 0;
		snprintf(agg->reason, sizeof(agg->reason), "NoJobs");
		snprintf(agg->message, sizeof(agg->message), "no Job has the "
		    "label %s=%s", SUB_LABEL, id);
	} else if (rank(agg->state) == 3)
		agg->state = LB_K8S_RUNNING;	/* not over yet */
	return 0;
}

/* Wake on any change of the submission's Jobs, for at most secs. */
static int
on_any(void *arg, const char *type, const cJSON *obj)
{
	int *changed = arg;

	if (strcmp(type, "BOOKMARK") == 0)
		return stop;
	*changed = 1;
	return 1;
}

static void
sub_watch(const char *ns, const char *id, const char *rv, long secs)
{
	struct lb_k8s_wp *wp;
	struct lb_err e;
	char *sel, *esel, *path, *q;
	int changed = 0;

	sel = lb_xasprintf("%s=%s", SUB_LABEL, id);
	esel = lb_http_escape(sel, 0);
	path = lb_k8s_jobs_path(ns, NULL);
	q = lb_xasprintf("%s?watch=true&labelSelector=%s&resourceVersion=%s"
	    "&allowWatchBookmarks=true&timeoutSeconds=%ld", path, esel, rv,
	    secs);
	wp = lb_k8s_wp_new(on_any, &changed);
	lb_k8s_stream(opt.k, q, (secs + 5) * 1000, wp_cb, wp, &e);
	lb_k8s_wp_free(wp);
	free(q);
	free(path);
	free(esel);
	free(sel);
}

static int
do_submission(cJSON *rec, struct lb_err *e, int *bad)
{
	struct lb_k8s_outcome agg;
	const cJSON *it;
	long long t0 = lb_util_now_ms();
	char idb[64], rv[64];
	const char *id;
	cJSON *jobs = NULL, *k, *names;
	int rc = 0;

	if ((id = any_sub_id(rec, idb, sizeof(idb))) == NULL)
		return lb_err_set(e, LB_EFAIL, 0, "no submission id "
		    "(submission.submission_id, submission_id)");
	if (*id == '\0' || !lb_k8s_label_value_ok(id))
		return lb_err_set(e, LB_EFAIL, 0, "submission id \"%s\" cannot "
		    "be a label value", id);
	for (;;) {
		cJSON_Delete(jobs);
		if (sub_look(opt.ns, id, &jobs, rv, sizeof(rv), &agg, e) == -1)
			return -1;
		if (opt.verb != WAIT || agg.state != LB_K8S_RUNNING)
			break;
		if (stop || (opt.timeout > 0 && lb_util_now_ms() - t0 >=
		    opt.timeout * 1000)) {
			cJSON_Delete(jobs);
			return lb_err_set(e, LB_ETEMP, 0, "submission %s: "
			    "still running%s", id, stop ? " (interrupted)" :
			    " at the time-out");
		}
		sub_watch(opt.ns, id, rv, opt.interval);
	}
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "submission", id);
	cJSON_AddStringToObject(k, "namespace", opt.ns);
	if (opt.verb == DELETE) {
		names = cJSON_AddArrayToObject(k, "deleted");
		cJSON_ArrayForEach(it, jobs) {
			cJSON *tmp = cJSON_CreateObject();
			const char *n = lb_json_str(it, "job");

			if (delete_one(tmp, opt.ns, n, lb_json_str(it, "uid"),
			    e) == -1) {
				cJSON_Delete(tmp);
				rc = -1;
				break;
			}
			if (cJSON_IsTrue(lb_json_path(tmp, "k8s.deleted")))
				cJSON_AddItemToArray(names,
				    cJSON_CreateString(n));
			cJSON_Delete(tmp);
		}
		cJSON_AddStringToObject(k, "propagation", opt.propagation);
		cJSON_AddItemToObject(k, "jobs", jobs);
	} else {
		lb_k8s_outcome_json(&agg, k);
		cJSON_AddItemToObject(k, "jobs", jobs);
		if (opt.verb == WAIT)
			*bad = bad_outcome(&agg);
	}
	lb_json_set(rec, "k8s", k);
	return rc;
}

static int
one(cJSON *rec, struct lb_err *e, int *bad)
{
	cJSON *job;

	*bad = 0;
	if (opt.by_sub)
		return do_submission(rec, e, bad);
	switch (opt.verb) {
	case RENDER:
		if ((job = render(rec, e)) == NULL)
			return -1;
		lb_json_set(rec, "job", job);
		return 0;
	case CREATE:
		return do_create(rec, e);
	case WAIT:
		return do_wait(rec, e, bad);
	case STATUS:
		return do_status(rec, e);
	case LOGS:
		return do_logs(rec, e);
	case DELETE:
		return do_delete(rec, e);
	case RUN:
		return do_run(rec, e, bad);
	default:
		abort();
	}
}

enum {
	O_CONTEXT = 256, O_KUBECONFIG, O_EKS, O_SERVER, O_CA, O_SUBMISSION,
	O_EARLY, O_DRY, O_PROP, O_WAIT, O_RM
};

static const struct option longopts[] = {
	{ "namespace", required_argument, NULL, 'n' },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
	{ "eks-cluster", required_argument, NULL, O_EKS },
	{ "server", required_argument, NULL, O_SERVER },
	{ "certificate-authority", required_argument, NULL, O_CA },
	{ "template-member", required_argument, NULL, 'm' },
	{ "job", required_argument, NULL, 'j' },
	{ "submission", optional_argument, NULL, O_SUBMISSION },
	{ "interval", required_argument, NULL, 'i' },
	{ "pending-timeout", required_argument, NULL, 'p' },
	{ "timeout", required_argument, NULL, 't' },
	{ "early", no_argument, NULL, O_EARLY },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "propagation", required_argument, NULL, O_PROP },
	{ "wait", no_argument, NULL, O_WAIT },
	{ "rm", no_argument, NULL, O_RM },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static long
seconds(const char *s, const char *what, long min)
{
	long v;

	if (lb_util_strtol(s, min, 30 * 86400, &v) == -1)
		errx(LB_EUSAGE, "%s: not a number of seconds from %ld", what,
		    min);
	return v;
}

int
main(int argc, char *argv[])
{
	struct lb_jsonl *in;
	struct lb_err e;
	struct sigaction sa;
	const char *raw;
	size_t rawlen;
	cJSON *rec = NULL;
	int ch, status = 0, r, i, bad;

	if (argc < 2)
		usage(stderr, LB_EUSAGE);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	for (i = 0; verbs[i] != NULL; i++)
		if (strcmp(argv[1], verbs[i]) == 0)
			break;
	if (verbs[i] == NULL) {
		warnx("unknown verb %s", argv[1]);
		usage(stderr, LB_EUSAGE);
	}
	opt.verb = (enum verb)i;
	opt.interval = 10;
	opt.pending_timeout = 1800;
	opt.propagation = "Foreground";
	argv++;
	argc--;
	/* logs: -f follows; elsewhere -f names a template */
	while ((ch = getopt_long(argc, argv, opt.verb == LOGS ?
	    "fhi:j:m:n:p:r:t:v" : "f:hi:j:m:n:p:r:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (opt.verb == LOGS)
				opt.follow = 1;	/* as tail -f */
			else
				add_template(optarg);
			break;
		case 'i':
			opt.interval = seconds(optarg, "-i", 1);
			break;
		case 'j':
			opt.job = optarg;
			break;
		case 'm':
			opt.member = optarg;
			break;
		case 'n':
			opt.ns = optarg;
			opt.ns_given = 1;
			break;
		case 'p':
			opt.pending_timeout = seconds(optarg, "-p", 0);
			break;
		case 'r':
			opt.rejects = optarg;
			break;
		case 't':
			opt.timeout = seconds(optarg, "-t", 1);
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case O_CONTEXT:
			opt.ko.context = optarg;
			break;
		case O_KUBECONFIG:
			opt.ko.kubeconfig = optarg;
			break;
		case O_EKS:
			opt.ko.eks_cluster = optarg;
			break;
		case O_SERVER:
			opt.ko.server = optarg;
			break;
		case O_CA:
			opt.ko.ca_file = optarg;
			break;
		case O_SUBMISSION:
			opt.by_sub = 1;
			opt.submission = optarg;
			break;
		case O_EARLY:
			opt.early = 1;
			break;
		case O_DRY:
			opt.dry_run = 1;
			break;
		case O_PROP:
			if (strcmp(optarg, "Foreground") != 0 &&
			    strcmp(optarg, "Background") != 0 &&
			    strcmp(optarg, "Orphan") != 0)
				errx(LB_EUSAGE, "--propagation: Foreground, "
				    "Background or Orphan");
			opt.propagation = optarg;
			break;
		case O_WAIT:
			opt.wait_gone = 1;
			break;
		case O_RM:
			opt.rm = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc)
		usage(stderr, LB_EUSAGE);
	if (opt.ns != NULL && !lb_names_valid(opt.ns))
		errx(LB_EUSAGE, "-n %s: not a DNS-1123 label", opt.ns);
	if (opt.job != NULL && !lb_names_valid(opt.job))
		errx(LB_EUSAGE, "-j %s: not a DNS-1123 label", opt.job);
	if ((opt.verb == RENDER || opt.verb == CREATE || opt.verb == RUN) &&
	    opt.ntmpls == 0 && opt.member == NULL)
		errx(LB_EUSAGE, "%s needs a template: -f FILE or -m MEMBER",
		    verbs[opt.verb]);
	if (opt.by_sub && opt.verb != STATUS && opt.verb != DELETE &&
	    opt.verb != WAIT)
		errx(LB_EUSAGE, "--submission goes with status, wait and "
		    "delete");
	if (opt.by_sub && opt.job != NULL)
		errx(LB_EUSAGE, "-j and --submission exclude each other");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (opt.verb == TOKEN)
		return do_token();
	if (opt.verb != RENDER)
		connect_k8s();
	if (opt.job != NULL || opt.submission != NULL) {
		/* one Job or submission on the command line: no input */
		rec = cJSON_CreateObject();
		if (opt.submission != NULL)
			cJSON_AddStringToObject(cJSON_AddObjectToObject(rec,
			    "submission"), "submission_id", opt.submission);
		if ((r = one(rec, &e, &bad)) == -1) {
			warnx("%s", e.msg);
			lb_err_fold(&status, e.kind);
		} else {
			if (opt.verb != LOGS && lb_jsonl_write(stdout,
			    rec) == -1)
				err(LB_EFAIL, "stdout");
			if (bad)
				lb_err_fold(&status, LB_EFAIL);
		}
		cJSON_Delete(rec);
		lb_k8s_free(opt.k);
		return status;
	}
	in = lb_jsonl_open(stdin, "stdin", 0);
	while ((r = lb_jsonl_next(in, &rec, &e)) != 0 && !stop) {
		if (r == -2)
			errx(LB_EFAIL, "%s", e.msg);
		if (r == 1 && one(rec, &e, &bad) == 0) {
			if (opt.verb != LOGS && lb_jsonl_write(stdout,
			    rec) == -1)
				err(LB_EFAIL, "stdout");
			if (bad)
				lb_err_fold(&status, LB_EFAIL);
			cJSON_Delete(rec);
			continue;
		}
		if (r == -1)	/* the reader's message names the line */
			warnx("%s", e.msg);
		else
			warnx("stdin:%ld: %s", lb_jsonl_line(in), e.msg);
		lb_err_fold(&status, e.kind);
		if (opt.rejects != NULL) {
			raw = lb_jsonl_raw(in, &rawlen);
			if (lb_jsonl_reject(opt.rejects, raw, rawlen) == -1)
				err(LB_EFAIL, "%s", opt.rejects);
		}
		cJSON_Delete(rec);
		rec = NULL;
	}
	lb_jsonl_close(in);
	lb_k8s_free(opt.k);
	if (stop && status == 0)
		status = LB_ETEMP;
	for (i = 0; i < opt.ntmpls; i++) {
		lb_template_free(opt.tmpls[i].t);
		free(opt.tmpls[i].role);
	}
	free(opt.tmpls);
	return status;
}
