/*
 * config.c: read lb.yaml into a checked structure.
 *
 * Every value is checked at load time, so a tool either starts with a
 * configuration it can use or stops with one message that names the key
 * and the line ("lb.yaml:12: clusters.lb2.tracks.SENSORS.workers: ...").
 * Unknown keys are errors too: a misspelt optional key would otherwise
 * be silently ignored.
 */
#include <ctype.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "evalai.h"

struct ctx {
	struct lb_yaml	*y;
	const char	*name;
	char		*dir;		/* for relative paths */
	struct lb_err	*err;
};

static int
fail(struct ctx *c, const cJSON *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *c, const cJSON *node, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	int line = node ? lb_yaml_line(c->y, node) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return lb_err_set(c->err, LB_EUSAGE, 0, "%s:%d: %s", c->name,
		    line, msg);
	return lb_err_set(c->err, LB_EUSAGE, 0, "%s: %s", c->name, msg);
}

static const char *
tname(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "empty";
	if (cJSON_IsArray(j))
		return "a list";
	if (cJSON_IsObject(j))
		return "a mapping";
	return "of no known type";
}

static char *
join(const char *path, const char *key)
{
	return *path ? lb_xasprintf("%s.%s", path, key) : lb_xstrdup(key);
}

/* Unknown keys of obj are errors; allowed is NULL-terminated. */
static int
known(struct ctx *c, const cJSON *obj, const char *path,
    const char *const *allowed)
{
	const cJSON *it;
	const char *const *a;

	cJSON_ArrayForEach(it, obj) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, it->string) == 0)
				break;
		if (*a == NULL)
			return fail(c, it, "%s%s%s: unknown key", path,
			    *path ? "." : "", it->string);
	}
	return 0;
}

/*
 * Expand ${NAME}, ${NAME:-word} and $$ in s.  Returns a malloc'd string
 * or NULL after fail().
 */
static char *
expand(struct ctx *c, const cJSON *node, const char *path, const char *s)
{
	struct lb_buf b = { 0 };
	const char *p, *e, *v, *dflt;
	char *name;
	size_t n;

	lb_buf_add(&b, "", 0);
	for (p = s; *p != '\0'; p++) {
		if (p[0] != '$') {
			lb_buf_add(&b, p, 1);
			continue;
		}
		if (p[1] == '$') {
			lb_buf_add(&b, "$", 1);
			p++;
			continue;
		}
		if (p[1] != '{') {
			lb_buf_add(&b, p, 1);
			continue;
		}
		if ((e = strchr(p + 2, '}')) == NULL) {
			fail(c, node, "%s: unclosed ${ in the value", path);
			goto bad;
		}
		n = strcspn(p + 2, ":}");
		dflt = p[2 + n] == ':' ? p + 2 + n : NULL;
		if (dflt != NULL && dflt[1] != '-') {
			fail(c, node, "%s: only ${NAME} and ${NAME:-word} are "
			    "understood", path);
			goto bad;
		}
		name = strndup(p + 2, n);
		if (name == NULL || n == 0 || !(isalpha((unsigned char)*name) ||
		    *name == '_') || name[strspn(name, "ABCDEFGHIJKLMNOPQRSTU"
		    "VWXYZabcdefghijklmnopqrstuvwxyz0123456789_")] != '\0') {
			fail(c, node, "%s: bad variable name in ${...}", path);
			free(name);
			goto bad;
		}
		v = getenv(name);
		if (v == NULL || (*v == '\0' && dflt != NULL)) {
			if (dflt == NULL) {
				fail(c, node, "%s: environment variable %s is "
				    "not set", path, name);
				free(name);
				goto bad;
			}
			lb_buf_add(&b, dflt + 2, (size_t)(e - dflt - 2));
		} else
			lb_buf_puts(&b, v);
		free(name);
		p = e;
	}
	return b.p;
bad:
	lb_buf_free(&b);
	return NULL;
}

/* obj[key] must be present (when required) and of the wanted kind. */
static const cJSON *
member(struct ctx *c, const cJSON *obj, const char *path, const char *key,
    int required, int (*is)(const cJSON *), const char *want, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;

	if (v == NULL) {
		if (required) {
			fail(c, obj, "%s%smissing key %s", path,
			    *path ? ": " : "", key);
			*bad = 1;
		}
		return NULL;
	}
	if (!is(v)) {
		p = join(path, key);
		fail(c, v, "%s: must be %s, not %s", p, want, tname(v));
		free(p);
		*bad = 1;
		return NULL;
	}
	return v;
}

static int
get_map(struct ctx *c, const cJSON *obj, const char *path, const char *key,
    int required, const cJSON **out)
{
	int bad = 0;

	*out = member(c, obj, path, key, required, cJSON_IsObject,
	    "a mapping", &bad);
	return bad ? -1 : 0;
}

/* A string; non-empty unless empty_ok.  *out stays NULL when optional. */
static int
get_str(struct ctx *c, const cJSON *obj, const char *path, const char *key,
    int required, int empty_ok, char **out)
{
	const cJSON *v;
	char *p;
	int bad = 0;

	*out = NULL;
	v = member(c, obj, path, key, required, cJSON_IsString, "a string",
	    &bad);
	if (v == NULL)
		return bad ? -1 : 0;
	p = join(path, key);
	*out = expand(c, v, p, v->valuestring);
	if (*out != NULL && !empty_ok && **out == '\0') {
		fail(c, v, "%s: must not be empty", p);
		free(*out);
		*out = NULL;
	}
	free(p);
	return *out ? 0 : -1;
}

static int
isintlike(const cJSON *j)
{
	return cJSON_IsNumber(j) || cJSON_IsString(j);
}

/* A whole number in [min, max]; a string holding one is accepted. */
static int
get_int(struct ctx *c, const cJSON *obj, const char *path, const char *key,
    int required, long min, long max, long *out)
{
	const cJSON *v;
	char *p, *s;
	double d;
	int bad = 0, rv = -1;

	v = member(c, obj, path, key, required, isintlike, "a whole number",
	    &bad);
	if (v == NULL)
		return bad ? -1 : 0;
	p = join(path, key);
	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (d == (double)(long)d && d >= (double)min &&
		    d <= (double)max) {
			*out = (long)d;
			rv = 0;
		}
	} else if ((s = expand(c, v, p, v->valuestring)) != NULL) {
		if (lb_util_strtol(s, min, max, out) == 0)
			rv = 0;
		free(s);
	} else {
		free(p);
		return -1;
	}
	if (rv == -1)
		fail(c, v, "%s: must be a whole number from %ld to %ld", p,
		    min, max);
	free(p);
	return rv;
}

static int
word_ok(const char *s)
{
	size_t i;

	if (*s == '\0' || strlen(s) > 100)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

static char *
abspath(struct ctx *c, const char *p)
{
	if (*p == '/' || c->dir == NULL)
		return lb_xstrdup(p);
	return lb_xasprintf("%s/%s", c->dir, p);
}

static struct lb_config_track *
find_track(struct lb_config_cluster *cl, const char *codename)
{
	size_t i;

	for (i = 0; i < cl->ntracks; i++)
		if (strcmp(cl->tracks[i].codename, codename) == 0)
			return &cl->tracks[i];
	return NULL;
}

static int
load_tracks(struct ctx *c, struct lb_config_cluster *cl, const cJSON *m,
    const char *path)
{
	static const char *const keys[] = { "instance_type", "workers",
	    "routes", NULL };
	struct lb_config_track *t;
	const cJSON *it;
	char *p;
	int rv;

	cl->tracks = lb_xmalloc(sizeof(*cl->tracks) *
	    ((size_t)cJSON_GetArraySize(m) + 1));
	memset(cl->tracks, 0, sizeof(*cl->tracks) *
	    ((size_t)cJSON_GetArraySize(m) + 1));
	if (cJSON_GetArraySize(m) == 0)
		return fail(c, m, "%s: no track", path);
	cJSON_ArrayForEach(it, m) {
		p = join(path, it->string);
		t = &cl->tracks[cl->ntracks++];
		t->codename = lb_xstrdup(it->string);
		rv = -1;
		if (!word_ok(it->string))
			fail(c, it, "%s: a track codename is letters, digits, "
			    "'_' and '-'", p);
		else if (!cJSON_IsObject(it))
			fail(c, it, "%s: must be a mapping, not %s", p,
			    tname(it));
		else if (known(c, it, p, keys) == 0 &&
		    get_str(c, it, p, "instance_type", 1, 0,
		    &t->instance_type) == 0 &&
		    get_int(c, it, p, "workers", 1, 1, 1000,
		    &t->workers) == 0 &&
		    get_int(c, it, p, "routes", 1, 1, 100000, &t->routes) == 0)
			rv = 0;
		free(p);
		if (rv == -1)
			return -1;
	}
	return 0;
}

/* A mapping of track -> scalar, kept as strings (the reference's form). */
static int
load_trackmap(struct ctx *c, struct lb_config_cluster *cl, const cJSON *m,
    const char *path, int want_track, cJSON **out)
{
	const cJSON *it;
	char *p, *v;
	int rv = 0;

	*out = cJSON_CreateObject();
	if (m == NULL)
		return 0;
	cJSON_ArrayForEach(it, m) {
		p = join(path, it->string);
		v = NULL;
		if (find_track(cl, it->string) == NULL)
			rv = fail(c, it, "%s: %s is not a track of cluster %s",
			    p, it->string, cl->id);
		else if (want_track && !cJSON_IsString(it))
			rv = fail(c, it, "%s: must be a track codename, not %s",
			    p, tname(it));
		else if (!want_track && !cJSON_IsNumber(it) &&
		    !cJSON_IsString(it))
			rv = fail(c, it, "%s: must be a number, not %s", p,
			    tname(it));
		else if (cJSON_IsString(it)) {
			if ((v = expand(c, it, p, it->valuestring)) == NULL)
				rv = -1;
			else if (want_track && find_track(cl, v) == NULL)
				rv = fail(c, it, "%s: %s is not a track of "
				    "cluster %s", p, v, cl->id);
		} else
			v = cJSON_PrintUnformatted(it);
		if (rv == 0)
			cJSON_AddStringToObject(*out, it->string, v);
		free(v);
		free(p);
		if (rv == -1)
			return -1;
	}
	return 0;
}

static int
load_cluster(struct ctx *c, struct lb_config_cluster *cl, const cJSON *m,
    const char *path)
{
	static const char *const keys[] = { "name", "endpoint",
	    "certificate_authority", "region", "images",
	    "allowed_image_prefixes", "tracks", "qualifier", "aws", "jobs",
	    "pending_timeout", NULL };
	static const char *const ikeys[] = { "simulator", "leaderboard",
	    "uploader", "monitor", NULL };
	static const char *const qkeys[] = { "map", "thresholds", NULL };
	static const char *const akeys[] = { "s3_bucket", "submissions_table",
	    "qualifier_table", NULL };
	static const char *const jkeys[] = { "worker", "monitor", NULL };
	const cJSON *images, *tracks, *q = NULL, *qm = NULL, *qt = NULL, *aws,
	    *jobs, *pre, *it;
	char *p, *w = NULL, *mo = NULL;
	int bad = 0;

	if (!cJSON_IsObject(m))
		return fail(c, m, "%s: must be a mapping, not %s", path,
		    tname(m));
	if (known(c, m, path, keys) == -1 ||
	    get_str(c, m, path, "name", 1, 0, &cl->name) == -1 ||
	    get_str(c, m, path, "endpoint", 1, 0, &cl->endpoint) == -1 ||
	    get_str(c, m, path, "certificate_authority", 1, 1,
	    &cl->certificate_authority) == -1 ||
	    get_str(c, m, path, "region", 1, 0, &cl->region) == -1 ||
	    get_map(c, m, path, "images", 1, &images) == -1)
		return -1;
	p = join(path, "images");
	if (known(c, images, p, ikeys) == -1 ||
	    get_str(c, images, p, "simulator", 1, 0, &cl->simulator_image) ||
	    get_str(c, images, p, "leaderboard", 1, 0,
	    &cl->leaderboard_image) ||
	    get_str(c, images, p, "uploader", 1, 0, &cl->uploader_image) ||
	    get_str(c, images, p, "monitor", 1, 0, &cl->monitor_image))
		bad = 1;
	free(p);
	if (bad)
		return -1;

	pre = member(c, m, path, "allowed_image_prefixes", 1, cJSON_IsArray,
	    "a list", &bad);
	if (bad)
		return -1;
	p = join(path, "allowed_image_prefixes");
	if (cJSON_GetArraySize(pre) == 0) {
		fail(c, pre, "%s: list at least one prefix", p);
		free(p);
		return -1;
	}
	cl->image_prefixes = lb_xmalloc(sizeof(char *) *
	    (size_t)cJSON_GetArraySize(pre));
	cJSON_ArrayForEach(it, pre) {
		if (!cJSON_IsString(it)) {
			fail(c, it, "%s: each prefix must be a string, not %s",
			    p, tname(it));
			free(p);
			return -1;
		}
		if ((w = expand(c, it, p, it->valuestring)) == NULL) {
			free(p);
			return -1;
		}
		cl->image_prefixes[cl->nimage_prefixes++] = w;
		w = NULL;
	}
	free(p);

	if (get_map(c, m, path, "tracks", 1, &tracks) == -1)
		return -1;
	p = join(path, "tracks");
	bad = load_tracks(c, cl, tracks, p) == -1;
	free(p);
	if (bad || get_map(c, m, path, "qualifier", 0, &q) == -1)
		return -1;
	p = join(path, "qualifier");
	if (q != NULL && (known(c, q, p, qkeys) == -1 ||
	    get_map(c, q, p, "map", 1, &qm) == -1 ||
	    get_map(c, q, p, "thresholds", 1, &qt) == -1))
		bad = 1;
	free(p);
	if (bad)
		return -1;
	p = join(path, "qualifier.map");
	bad = load_trackmap(c, cl, qm, p, 1, &cl->qualifier_map) == -1;
	free(p);
	if (bad)
		return -1;
	p = join(path, "qualifier.thresholds");
	bad = load_trackmap(c, cl, qt, p, 0, &cl->threshold_map) == -1;
	free(p);
	if (bad || get_map(c, m, path, "aws", 1, &aws) == -1)
		return -1;
	p = join(path, "aws");
	if (known(c, aws, p, akeys) == -1 ||
	    get_str(c, aws, p, "s3_bucket", 1, 0, &cl->s3_bucket) ||
	    get_str(c, aws, p, "submissions_table", 1, 0,
	    &cl->submissions_table) ||
	    get_str(c, aws, p, "qualifier_table", 1, 0, &cl->qualifier_table))
		bad = 1;
	free(p);
	if (bad || get_map(c, m, path, "jobs", 1, &jobs) == -1)
		return -1;
	p = join(path, "jobs");
	if (known(c, jobs, p, jkeys) == -1 ||
	    get_str(c, jobs, p, "worker", 1, 0, &w) ||
	    get_str(c, jobs, p, "monitor", 1, 0, &mo))
		bad = 1;
	free(p);
	if (!bad) {
		cl->worker_template = abspath(c, w);
		cl->monitor_template = abspath(c, mo);
	}
	free(w);
	free(mo);
	if (bad)
		return -1;
	cl->pending_timeout = 1800;
	return get_int(c, m, path, "pending_timeout", 0, 1, 7 * 86400,
	    &cl->pending_timeout);
}

static int
load_phases(struct lb_config *cfg, struct ctx *c, const cJSON *m)
{
	struct lb_config_phase *ph;
	const cJSON *it;
	char *p, *v, *colon;
	int rv;

	cfg->phases = lb_xmalloc(sizeof(*cfg->phases) *
	    ((size_t)cJSON_GetArraySize(m) + 1));
	cJSON_ArrayForEach(it, m) {
		p = join("tracks", it->string);
		v = NULL;
		rv = -1;
		ph = &cfg->phases[cfg->nphases];
		ph->phase_pk = NULL;
		if (!lb_evalai_pk_ok(it->string))
			fail(c, it, "%s: a phase pk is a number", p);
		else if (!cJSON_IsString(it))
			fail(c, it, "%s: must be CLUSTER:TRACK, not %s", p,
			    tname(it));
		else if ((v = expand(c, it, p, it->valuestring)) == NULL)
			;
		else if ((colon = strchr(v, ':')) == NULL)
			fail(c, it, "%s: must be CLUSTER:TRACK", p);
		else {
			*colon = '\0';
			ph->cluster = (struct lb_config_cluster *)
			    lb_config_cluster(cfg, v);
			if (ph->cluster == NULL)
				fail(c, it, "%s: no cluster %s under clusters",
				    p, v);
			else if ((ph->track = find_track(ph->cluster,
			    colon + 1)) == NULL)
				fail(c, it, "%s: cluster %s has no track %s", p,
				    v, colon + 1);
			else {
				ph->phase_pk = lb_xstrdup(it->string);
				cfg->nphases++;
				rv = 0;
			}
		}
		free(v);
		free(p);
		if (rv == -1)
			return -1;
	}
	return 0;
}

struct lb_config *
lb_config_parse(const char *text, size_t len, const char *name,
    struct lb_err *err)
{
	static const char *const keys[] = { "evalai", "tracks", "clusters",
	    NULL };
	static const char *const ekeys[] = { "api_server", "token", "queue",
	    NULL };
	struct lb_config *cfg;
	struct ctx c = { 0 };
	const cJSON *doc, *ev, *tracks, *cls, *it;
	char *dup;
	int rv = -1;

	if ((c.y = lb_yaml_parse(text, len, name, err)) == NULL) {
		err->kind = LB_EUSAGE;
		return NULL;
	}
	c.name = name;
	c.err = err;
	dup = lb_xstrdup(name);
	c.dir = lb_xstrdup(dirname(dup));
	free(dup);
	cfg = lb_xmalloc(sizeof(*cfg));
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = lb_xstrdup(name);

	if (lb_yaml_ndocs(c.y) != 1) {
		fail(&c, NULL, "want exactly one YAML document, not %d",
		    lb_yaml_ndocs(c.y));
		goto out;
	}
	doc = lb_yaml_doc(c.y, 0);
	if (!cJSON_IsObject(doc)) {
		fail(&c, doc, "the file must be a mapping, not %s", tname(doc));
		goto out;
	}
	if (known(&c, doc, "", keys) == -1 ||
	    get_map(&c, doc, "", "evalai", 1, &ev) == -1 ||
	    known(&c, ev, "evalai", ekeys) == -1 ||
	    get_str(&c, ev, "evalai", "api_server", 1, 0,
	    &cfg->api_server) == -1 ||
	    get_str(&c, ev, "evalai", "token", 1, 0,
	    &cfg->token_source) == -1 ||
	    get_str(&c, ev, "evalai", "queue", 0, 0, &cfg->queue) == -1)
		goto out;
	if (strncmp(cfg->api_server, "http://", 7) != 0 &&
	    strncmp(cfg->api_server, "https://", 8) != 0) {
		fail(&c, cJSON_GetObjectItemCaseSensitive(ev, "api_server"),
		    "evalai.api_server: must be an http:// or https:// URL");
		goto out;
	}
	if (strncmp(cfg->token_source, "env:", 4) != 0 &&
	    strncmp(cfg->token_source, "file:", 5) != 0 &&
	    strncmp(cfg->token_source, "secretsmanager:", 15) != 0) {
		fail(&c, cJSON_GetObjectItemCaseSensitive(ev, "token"),
		    "evalai.token: must be env:NAME, file:PATH or "
		    "secretsmanager:ID#KEY (never the token itself)");
		goto out;
	}
	if (cfg->queue != NULL && !lb_evalai_queue_ok(cfg->queue)) {
		fail(&c, cJSON_GetObjectItemCaseSensitive(ev, "queue"),
		    "evalai.queue: letters, digits, '_', '.' and '-' only");
		goto out;
	}
	if (get_map(&c, doc, "", "clusters", 1, &cls) == -1)
		goto out;
	if (cJSON_GetArraySize(cls) == 0) {
		fail(&c, cls, "clusters: no cluster");
		goto out;
	}
	cfg->clusters = lb_xmalloc(sizeof(*cfg->clusters) *
	    (size_t)cJSON_GetArraySize(cls));
	memset(cfg->clusters, 0, sizeof(*cfg->clusters) *
	    (size_t)cJSON_GetArraySize(cls));
	cJSON_ArrayForEach(it, cls) {
		struct lb_config_cluster *cl = &cfg->clusters[cfg->nclusters++];
		char *p = join("clusters", it->string);
		int r;

		cl->id = lb_xstrdup(it->string);
		if (!word_ok(it->string))
			r = fail(&c, it, "%s: a cluster id is letters, digits, "
			    "'_' and '-'", p);
		else
			r = load_cluster(&c, cl, it, p);
		free(p);
		if (r == -1)
			goto out;
	}
	if (get_map(&c, doc, "", "tracks", 1, &tracks) == -1 ||
	    load_phases(cfg, &c, tracks) == -1)
		goto out;
	if (cfg->nphases == 0) {
		fail(&c, tracks, "tracks: no phase is mapped to a track");
		goto out;
	}
	rv = 0;
out:
	lb_yaml_free(c.y);
	free(c.dir);
	if (rv == -1) {
		lb_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct lb_config *
lb_config_load(const char *path, struct lb_err *err)
{
	struct lb_config *cfg;
	char *text;
	size_t len;

	if ((text = lb_util_readfile(path, &len, err)) == NULL) {
		err->kind = LB_EUSAGE;
		return NULL;
	}
	cfg = lb_config_parse(text, len, path, err);
	free(text);
	return cfg;
}

const char *
lb_config_path(const char *opt)
{
	const char *v;

	if (opt != NULL)
		return opt;
	if ((v = getenv("LB_CONFIG")) != NULL && *v != '\0')
		return v;
	return LB_CONFIG_DEFAULT;
}

int
lb_config_check(const struct lb_config *cfg, struct lb_err *err)
{
	const struct lb_config_cluster *cl;
	size_t i;

	for (i = 0; i < cfg->nclusters; i++) {
		cl = &cfg->clusters[i];
		if (access(cl->worker_template, R_OK) == -1)
			return lb_err_set(err, LB_EUSAGE, 0, "%s: clusters.%s."
			    "jobs.worker: cannot read %s", cfg->path, cl->id,
			    cl->worker_template);
		if (access(cl->monitor_template, R_OK) == -1)
			return lb_err_set(err, LB_EUSAGE, 0, "%s: clusters.%s."
			    "jobs.monitor: cannot read %s", cfg->path, cl->id,
			    cl->monitor_template);
	}
	return 0;
}

static void
cluster_free(struct lb_config_cluster *cl)
{
	size_t i;

	free(cl->id);
	free(cl->name);
	free(cl->endpoint);
	free(cl->certificate_authority);
	free(cl->region);
	free(cl->simulator_image);
	free(cl->leaderboard_image);
	free(cl->uploader_image);
	free(cl->monitor_image);
	for (i = 0; i < cl->ntracks; i++) {
		free(cl->tracks[i].codename);
		free(cl->tracks[i].instance_type);
	}
	free(cl->tracks);
	cJSON_Delete(cl->qualifier_map);
	cJSON_Delete(cl->threshold_map);
	free(cl->s3_bucket);
	free(cl->submissions_table);
	free(cl->qualifier_table);
	free(cl->worker_template);
	free(cl->monitor_template);
	for (i = 0; i < cl->nimage_prefixes; i++)
		free(cl->image_prefixes[i]);
	free(cl->image_prefixes);
}

void
lb_config_free(struct lb_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->api_server);
	free(cfg->token_source);
	free(cfg->queue);
	for (i = 0; i < cfg->nphases; i++)
		free(cfg->phases[i].phase_pk);
	free(cfg->phases);
	for (i = 0; i < cfg->nclusters; i++)
		cluster_free(&cfg->clusters[i]);
	free(cfg->clusters);
	free(cfg);
}

const struct lb_config_cluster *
lb_config_cluster(const struct lb_config *cfg, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->nclusters; i++)
		if (strcmp(cfg->clusters[i].id, id) == 0)
			return &cfg->clusters[i];
	return NULL;
}

const struct lb_config_track *
lb_config_track(const struct lb_config_cluster *cl, const char *codename)
{
	return find_track((struct lb_config_cluster *)cl, codename);
}

const struct lb_config_phase *
lb_config_phase(const struct lb_config *cfg, const char *phase_pk)
{
	size_t i;

	for (i = 0; i < cfg->nphases; i++)
		if (strcmp(cfg->phases[i].phase_pk, phase_pk) == 0)
			return &cfg->phases[i];
	return NULL;
}

int
lb_config_image_allowed(const struct lb_config_cluster *cl,
    const char *image)
{
	size_t i, n;

	if (image == NULL || *image == '\0')
		return 0;
	/* the characters of a docker image reference, nothing else */
	for (i = 0; image[i] != '\0'; i++)
		if (!isalnum((unsigned char)image[i]) &&
		    strchr("._-/:@", image[i]) == NULL)
			return 0;
	if (strstr(image, "..") != NULL || strstr(image, "//") != NULL)
		return 0;
	for (i = 0; i < cl->nimage_prefixes; i++) {
		n = strlen(cl->image_prefixes[i]);
		if (strncmp(image, cl->image_prefixes[i], n) == 0 &&
		    image[n] != '\0')
			return 1;
	}
	return 0;
}
