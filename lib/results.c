/*
 * results.c: merge the workers' partial results files and write the three
 * EvalAI files, reproducing the reference scripts byte for byte
 * (reference/results-format.md has the rules this follows, section
 * numbers below point there).  Python's number semantics matter for the
 * bytes, so arithmetic goes through struct pynum: ints stay ints until a
 * float joins in, exactly as in the scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"

#define MAXFILE	(512L << 20)	/* larger partial files are refused */

/*
 * math.pow(diff, 2) is libm's pow at run time; a constant 2 would let
 * the compiler turn it into diff * diff, which can differ in the last bit.
 */
static volatile double two = 2;

/* A Python number: int or float. */
struct pynum {
	int		isint;
	long long	i;
	double		d;
};

static const char *const infr2[] = {
	"collisions_layout", "collisions_pedestrian", "collisions_vehicle",
	"red_light", "stop_infraction", "outside_route_lanes",
	"min_speed_infractions", "yield_emergency_vehicle_infractions",
	"scenario_timeouts", "route_dev", "vehicle_blocked", "route_timeout",
	NULL
};

static const char *const infr1[] = {
	"collisions_pedestrian", "collisions_vehicle", "collisions_layout",
	"red_light", "stop_infraction", "outside_route_lanes", "route_dev",
	"route_timeout", "vehicle_blocked", NULL
};

/* merged-file values/labels (2.0), value source paths in global_record */
static const char *const vsrc2[] = {
	"scores_mean.score_composed", "scores_mean.score_route",
	"scores_mean.score_penalty", "infractions.collisions_pedestrian",
	"infractions.collisions_vehicle", "infractions.collisions_layout",
	"infractions.red_light", "infractions.stop_infraction",
	"infractions.outside_route_lanes", "infractions.route_dev",
	"infractions.route_timeout", "infractions.vehicle_blocked",
	"infractions.yield_emergency_vehicle_infractions",
	"infractions.scenario_timeouts", "infractions.min_speed_infractions",
	NULL
};

static const char *const labels[] = {
	"Avg. driving score", "Avg. route completion",
	"Avg. infraction penalty", "Collisions with pedestrians",
	"Collisions with vehicles", "Collisions with layout",
	"Red lights infractions", "Stop sign infractions",
	"Off-road infractions", "Route deviations", "Route timeouts",
	"Agent blocked", "Yield emergency vehicles infractions",
	"Scenario timeouts", "Min speed infractions", NULL
};

/* EvalAI accuracy names, same order as vsrc2 */
static const char *const accnames[] = {
	"Driving score", "Route completion", "Infraction penalty",
	"Collisions pedestrians", "Collisions vehicles", "Collisions layout",
	"Red light infractions", "Stop sign infractions",
	"Off-road infractions", "Route deviations", "Route timeouts",
	"Agent blocked", "Yield emergency vehicle infractions",
	"Scenario timeouts", "Min speed infractions", NULL
};

static const char *const sensornames[][2] = {
	{ "carla_camera", "RGB Camera" },
	{ "carla_lidar", "LIDAR" },
	{ "carla_radar", "Radar" },
	{ "carla_gnss", "GNSS" },
	{ "carla_imu", "IMU" },
	{ "carla_opendrive_map", "OpenDrive Map" },
	{ "carla_speedometer", "Speedometer" },
	{ NULL, NULL }
};

/* Python numbers */

static struct pynum
pint(long long i)
{
	struct pynum n = { 1, i, (double)i };

	return n;
}

static struct pynum
pflt(double d)
{
	struct pynum n = { 0, 0, d };

	return n;
}

/* A JSON value as a Python number (bools are ints); -1 if not one. */
static int
pynum_of(const cJSON *it, struct pynum *out)
{
	char *end;

	if (cJSON_IsBool(it)) {
		*out = pint(cJSON_IsTrue(it));
		return 0;
	}
	if (!cJSON_IsNumber(it))
		return -1;
	if (it->valuestring != NULL) {
		/* up to 18 digits cannot overflow: no strtoll needed */
		const char *s = it->valuestring + (it->valuestring[0] == '-');
		long long v = 0;
		int nd;

		for (nd = 0; nd < 19 && s[nd] >= '0' && s[nd] <= '9'; nd++)
			v = v * 10 + (s[nd] - '0');
		if (nd > 0 && nd < 19 && s[nd] == '\0') {
			*out = pint(it->valuestring[0] == '-' ? -v : v);
			return 0;
		}
		errno = 0;
		out->i = strtoll(it->valuestring, &end, 10);
		if (errno == 0 && *end == '\0') {
			out->isint = 1;
			out->d = (double)out->i;
			return 0;
		}
		/* an int too big for us: carry on as a float */
	}
	*out = pflt(it->valuedouble);
	return 0;
}

static struct pynum
padd(struct pynum a, struct pynum b)
{
	long long r;

	if (a.isint && b.isint && !__builtin_add_overflow(a.i, b.i, &r))
		return pint(r);
	return pflt(a.d + b.d);
}

static struct pynum
psub(struct pynum a, struct pynum b)
{
	long long r;

	if (a.isint && b.isint && !__builtin_sub_overflow(a.i, b.i, &r))
		return pint(r);
	return pflt(a.d - b.d);
}

static struct pynum
pmul(struct pynum a, struct pynum b)
{
	long long r;

	if (a.isint && b.isint && !__builtin_mul_overflow(a.i, b.i, &r))
		return pint(r);
	return pflt(a.d * b.d);
}

/* True division; -1 on ZeroDivisionError. */
static int
pdiv(struct pynum a, struct pynum b, struct pynum *out)
{
	if (b.d == 0)
		return -1;
	*out = pflt(a.d / b.d);
	return 0;
}

static int
peq(struct pynum a, struct pynum b)
{
	if (a.isint && b.isint)
		return a.i == b.i;
	return a.d == b.d;
}

static cJSON *
pjson(struct pynum n)
{
	return n.isint ? lb_pyjson_int(n.i) : lb_pyjson_float(n.d);
}

/* round(x, n): ints come back unchanged */
static struct pynum
pround(struct pynum a, int nd)
{
	return a.isint ? a : pflt(lb_pyjson_round(a.d, nd));
}

/* Python truth value of a JSON value */
static int
truthy(const cJSON *it)
{
	if (it == NULL || cJSON_IsNull(it) || cJSON_IsFalse(it))
		return 0;
	if (cJSON_IsTrue(it))
		return 1;
	if (cJSON_IsNumber(it))
		return lb_pyjson_isint(it) ? strcmp(it->valuestring, "0") != 0 :
		    it->valuedouble != 0;
	if (cJSON_IsString(it))
		return it->valuestring[0] != '\0';
	return it->child != NULL;
}

/* Python == between two JSON values */
static int
pyequal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	struct pynum m, n;

	if (pynum_of(a, &m) == 0 && pynum_of(b, &n) == 0)
		return peq(m, n);
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNull(a) && cJSON_IsNull(b))
		return 1;
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		for (x = a->child, y = b->child; x != NULL && y != NULL;
		    x = x->next, y = y->next)
			if (!pyequal(x, y))
				return 0;
		return x == NULL && y == NULL;
	}
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		for (x = a->child; x != NULL; x = x->next) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (y == NULL || !pyequal(x, y))
				return 0;
		}
		return 1;
	}
	return 0;
}

static cJSON *
get(const cJSON *obj, const char *key)
{
	cJSON *c;

	if (obj == NULL || (obj->type & 0xff) != cJSON_Object)
		return NULL;
	for (c = obj->child; c != NULL; c = c->next)
		if (c->string != NULL && c->string[0] == key[0] &&
		    strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

/* get along a dotted path */
static cJSON *
getp(const cJSON *obj, const char *path)
{
	char key[64];
	const char *dot;
	cJSON *it = (cJSON *)obj;
	size_t n;

	while (it != NULL && *path != '\0') {
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		it = get(it, key);
		path += n + (dot != NULL);
	}
	return it;
}

static void
add(cJSON *obj, const char *key, cJSON *v)
{
	if (v == NULL)
		abort();
	cJSON_AddItemToObject(obj, key, v);
}

static cJSON *
jdup(const cJSON *it)
{
	cJSON *c;

	if ((c = cJSON_Duplicate(it, 1)) == NULL)
		abort();
	return c;
}

static cJSON *
newobj(void)
{
	cJSON *c;

	if ((c = cJSON_CreateObject()) == NULL)
		abort();
	return c;
}

static cJSON *
newarr(void)
{
	cJSON *c;

	if ((c = cJSON_CreateArray()) == NULL)
		abort();
	return c;
}

static cJSON *
newstr(const char *s)
{
	cJSON *c;

	if ((c = cJSON_CreateString(s)) == NULL)
		abort();
	return c;
}

/* obj[key] = v, keeping the key's place when it exists */
static void
put(cJSON *obj, const char *key, cJSON *v)
{
	cJSON *old = get(obj, key);

	if (old == NULL) {
		add(obj, key, v);
		return;
	}
	if (v == NULL)
		abort();
	if (v->string != NULL && !(v->type & cJSON_StringIsConst))
		free(v->string);
	v->type &= ~cJSON_StringIsConst;
	v->string = lb_xstrdup(key);
	cJSON_ReplaceItemViaPointer(obj, old, v);
}

/* Detach obj[key] (NULL if none); it keeps its key. */
static cJSON *
take(cJSON *obj, const char *key)
{
	cJSON *c = get(obj, key);

	return c != NULL ? cJSON_DetachItemViaPointer(obj, c) : NULL;
}

/*
 * Python int() of a str: surrounding whitespace, a sign, digits with
 * single underscores between them.  -1 when it would raise (or does not
 * fit a long long).
 */
static int
pyint(const char *s, size_t n, long long *out)
{
	const char *e = s + n;
	long long v = 0;
	int neg = 0, digits = 0;

	while (s < e && (*s == ' ' || (*s >= '\t' && *s <= '\r') ||
	    (*s >= 0x1c && *s <= 0x1f)))
		s++;
	while (e > s && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r') ||
	    (e[-1] >= 0x1c && e[-1] <= 0x1f)))
		e--;
	if (s < e && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	for (; s < e; s++) {
		if (*s == '_' && digits > 0 && s + 1 < e && s[1] >= '0' &&
		    s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, *s - '0', &v))
			return -1;
		digits++;
	}
	if (digits == 0)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* Python float() of a str (no hex, underscores between digits). */
static int
pyfloat(const char *s, size_t n, double *out)
{
	char *buf, *end, *q;
	size_t i;
	int ok;

	buf = lb_xmalloc(n + 1);
	q = buf;
	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (i == 0 || i + 1 == n || s[i - 1] < '0' ||
			    s[i - 1] > '9' || s[i + 1] < '0' ||
			    s[i + 1] > '9') {
				free(buf);
				return -1;
			}
			continue;
		}
		*q++ = s[i];
	}
	*q = '\0';
	q = buf;
	while (*q == ' ' || (*q >= '\t' && *q <= '\r'))
		q++;
	ok = *q != '\0' && strpbrk(q, "xX(") == NULL;
	if (ok) {
		*out = strtod(q, &end);
		while (*end == ' ' || (*end >= '\t' && *end <= '\r'))
			end++;
		ok = end != q && *end == '\0';
	}
	free(buf);
	return ok ? 0 : -1;
}

/* route and repetition numbers of an id like RouteScenario_12_rep0 */
static int
idkey(const char *id, int withrep, long long *route, long long *rep)
{
	const char *a, *b, *r, *p;

	*rep = 0;
	/* id.split('_')[1] */
	if ((a = strchr(id, '_')) == NULL)
		return -1;
	a++;
	b = strchr(a, '_');
	if (pyint(a, b != NULL ? (size_t)(b - a) : strlen(a), route) == -1)
		return -1;
	if (!withrep)
		return 0;
	/* id.split('_rep')[-1] */
	r = id;
	for (p = id; (p = strstr(p, "_rep")) != NULL; p += 4)
		r = p + 4;
	return pyint(r, strlen(r), rep);
}

/* Reading the partial files */

/* 1: read, 0: absent, -1: error */
static int
slurp(const char *path, char **out, size_t *len, struct lb_err *err)
{
	struct stat st;
	size_t cap = 65536, n = 0;
	ssize_t got;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return lb_err_set(err, errno == EACCES ? LB_EFAIL : LB_ETEMP,
		    0, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			close(fd);
			return lb_err_set(err, LB_EFAIL, 0,
			    "%s: is a directory", path);
		}
		/* one read into the right size (the file may still grow) */
		if (S_ISREG(st.st_mode) && st.st_size > 0 &&
		    st.st_size <= MAXFILE)
			cap = (size_t)st.st_size + 1;
	}
	p = lb_xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			p = lb_xrealloc(p, cap + 1);
		}
		if ((got = read(fd, p + n, cap - n)) == 0)
			break;
		if (got == -1) {
			if (errno == EINTR)
				continue;
			lb_err_set(err, LB_ETEMP, 0, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		n += (size_t)got;
		if (n > (size_t)MAXFILE) {
			lb_err_set(err, LB_EFAIL, 0, "%s: larger than %ld MiB",
			    path, MAXFILE >> 20);
			goto fail;
		}
	}
	close(fd);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 1;
fail:
	close(fd);
	free(p);
	return -1;
}

/* One route record gathered from a file. */
struct rec {
	cJSON		*src;		/* the input record */
	const char	*id;
	long long	 route, rep;
	long		 seq;		/* input order: stable sort */
};

static int
reccmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->route != y->route)
		return x->route < y->route ? -1 : 1;
	if (x->rep != y->rep)
		return x->rep < y->rep ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct merge {
	struct lb_results	*r;
	const struct lb_results_opts *opts;
	cJSON			**data;		/* parsed files */
	struct rec		*recs;
	long			 nrecs, caprecs;
	struct pynum		 total_progress;
	const cJSON		*sensors;	/* adopted list or NULL */
	struct lb_err		*err;
};

static int
merr(struct merge *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
merr(struct merge *m, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(m->err->msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lb_err_set(m->err, LB_EFAIL, 0, "%s", msg);
}

/* First pass (section 4.1): read every file, gather ids and totals. */
static int
gather(struct merge *m, const char *const *paths, int n)
{
	struct lb_results_file *f;
	struct lb_err perr;
	const cJSON *cp, *recs, *rec, *prog, *p1, *sens;
	struct pynum tp;
	size_t len;
	char *text;
	int i, rc;

	m->total_progress = pint(0);
	for (i = 0; i < n; i++) {
		f = &m->r->files[i];
		f->path = lb_xstrdup(paths[i]);
		if ((rc = slurp(paths[i], &text, &len, m->err)) == -1)
			return -1;
		if (rc == 0) {
			f->state = LB_RESULTS_ABSENT;
			continue;
		}
		m->data[i] = lb_pyjson_parse(text, len, &perr);
		free(text);
		if (m->data[i] == NULL) {
			/* empty, truncated or being written: not there yet */
			f->state = LB_RESULTS_UNREADABLE;
			continue;
		}
		if (!truthy(m->data[i])) {
			f->state = LB_RESULTS_NODATA;
			continue;
		}
		f->state = LB_RESULTS_USED;
		if (!cJSON_IsObject(m->data[i]))
			return merr(m, "%s: not a JSON object", paths[i]);
		if ((cp = get(m->data[i], "_checkpoint")) == NULL)
			return merr(m, "%s: no _checkpoint", paths[i]);
		if ((recs = get(cp, "records")) == NULL)
			return merr(m, "%s: no _checkpoint.records", paths[i]);
		if (!cJSON_IsArray(recs))
			return merr(m, "%s: _checkpoint.records is not a list",
			    paths[i]);
		cJSON_ArrayForEach(rec, recs) {
			const cJSON *id = get(rec, "route_id");

			if (id == NULL)
				return merr(m, "%s: a route record has no "
				    "route_id", paths[i]);
			if (!cJSON_IsString(id))
				return merr(m, "%s: a route_id is not a string",
				    paths[i]);
			if (m->nrecs == m->caprecs) {
				m->caprecs = m->caprecs ? m->caprecs * 2 : 64;
				m->recs = lb_xrealloc(m->recs,
				    sizeof(*m->recs) * (size_t)m->caprecs);
			}
			m->recs[m->nrecs].src = (cJSON *)rec;
			m->recs[m->nrecs].id = id->valuestring;
			m->recs[m->nrecs].seq = m->nrecs;
			m->nrecs++;
			f->records++;
		}
		prog = get(cp, "progress");
		if (!cJSON_IsArray(prog) || cJSON_GetArraySize(prog) < 2)
			return merr(m, "%s: _checkpoint.progress is not a list "
			    "of two numbers", paths[i]);
		p1 = cJSON_GetArrayItem(prog, 1);
		if (pynum_of(p1, &tp) == -1)
			return merr(m, "%s: _checkpoint.progress[1] is not a "
			    "number", paths[i]);
		m->total_progress = padd(m->total_progress, tp);
		f->total = tp.d;
		if ((sens = get(m->data[i], "sensors")) == NULL)
			return merr(m, "%s: no sensors", paths[i]);
		if (truthy(sens)) {
			if (!cJSON_IsArray(sens))
				return merr(m, "%s: sensors is not a list",
				    paths[i]);
			if (m->sensors == NULL)
				m->sensors = sens;
			else if (!pyequal(sens, m->sensors))
				return merr(m, "Stopping. Found two files with "
				    "different sensor configurations");
		}
	}
	return 0;
}

/* Sort keys of every record; the reference raises on a bad id. */
static int
sortkeys(struct merge *m)
{
	long i;
	int lb2 = m->r->format == LB_RESULTS_LB2;

	for (i = 0; i < m->nrecs; i++)
		if (idkey(m->recs[i].id, lb2, &m->recs[i].route,
		    &m->recs[i].rep) == -1)
			return merr(m, "route id '%s' is not of the form "
			    "%s", m->recs[i].id, lb2 ? "NAME_<int>_rep<int>" :
			    "NAME_<int>");
	if (m->nrecs > 0)
		qsort(m->recs, (size_t)m->nrecs, sizeof(*m->recs), reccmp);
	return 0;
}

/* Duplicate and gap checks (section 4.1), on the sorted ids. */
static int
checkids(struct merge *m)
{
	long i, j, lo, hi;
	/* Python ints do not overflow; 128 bits hold any product here */
	__int128 rep_num = 1, prev_rep = 0, prev_total = 0, total;
	const char *prev_id = "";

	for (i = 0; i < m->nrecs; i++) {
		/* equal ids have equal keys: look in the run of equal keys */
		for (lo = i; lo > 0 && m->recs[lo - 1].route ==
		    m->recs[i].route && m->recs[lo - 1].rep == m->recs[i].rep;
		    lo--)
			;
		for (hi = i; hi + 1 < m->nrecs && m->recs[hi + 1].route ==
		    m->recs[i].route && m->recs[hi + 1].rep == m->recs[i].rep;
		    hi++)
			;
		for (j = lo; j <= hi; j++)
			if (j != i && strcmp(m->recs[j].id, m->recs[i].id) == 0)
				return merr(m, "Stopping. Found that the route "
				    "%s has more than one record",
				    m->recs[i].id);
	}
	for (i = 0; i < m->nrecs; i++) {
		if (m->recs[i].rep < prev_rep)
			rep_num = prev_rep + 1;
		total = (__int128)m->recs[i].route * rep_num + m->recs[i].rep;
		if (total - prev_total > 1)
			return merr(m, "Stopping. Missing some data as the ids "
			    "jumped from %s to %s", prev_id, m->recs[i].id);
		prev_rep = m->recs[i].rep;
		prev_total = total;
		prev_id = m->recs[i].id;
	}
	return 0;
}

/* Against the expected counts: what is not there (not in the reference). */
static void
findmissing(struct merge *m)
{
	struct lb_results *r = m->r;
	static const char *const why[] = {
		"no file yet", "not complete JSON yet", "no data yet", ""
	};
	long long t, k, first = -1;
	long i;
	int w, wprob;
	char *seen;

	for (w = 0; w < m->opts->workers; w++) {
		if (w >= r->nfiles) {
			lb_buf_printf(&r->missing, "worker %d: no file given\n",
			    w + 1);
			r->nmissing++;
		} else if (r->files[w].state != LB_RESULTS_USED) {
			lb_buf_printf(&r->missing, "worker %d: %s: %s\n", w + 1,
			    r->files[w].path, why[r->files[w].state]);
			r->nmissing++;
		} else if (r->files[w].records < r->files[w].total) {
			lb_buf_printf(&r->missing, "worker %d: %s: %ld of %g "
			    "routes done\n", w + 1, r->files[w].path,
			    r->files[w].records, r->files[w].total);
			r->nmissing++;
		}
	}
	wprob = r->nmissing;
	if ((t = m->opts->routes) <= 0)
		return;
	if (r->format == LB_RESULTS_LB1) {
		if (m->nrecs < t) {
			lb_buf_printf(&r->missing, "%ld of %lld route records "
			    "present\n", m->nrecs, t);
			r->nmissing++;
		}
		return;
	}
	seen = calloc((size_t)t, 1);
	if (seen == NULL)
		abort();
	for (i = 0; i < m->nrecs; i++)
		if (m->recs[i].route >= 0 && m->recs[i].route < t)
			seen[m->recs[i].route] = 1;
	/* ranges of route numbers without a record */
	for (k = 0; k <= t; k++) {
		if (k < t && !seen[k]) {
			if (first == -1)
				first = k;
			continue;
		}
		if (first == -1)
			continue;
		if (first == k - 1)
			lb_buf_printf(&r->missing, "route %lld: no record\n",
			    first);
		else
			lb_buf_printf(&r->missing, "routes %lld-%lld: no "
			    "record\n", first, k - 1);
		r->nmissing += (int)(k - first);
		first = -1;
	}
	free(seen);
	/* the workers' own route counts should add up to the total */
	if (!peq(m->total_progress, pint(t)) && wprob == 0) {
		lb_buf_printf(&r->missing, "the files plan %g routes, not "
		    "%lld\n", m->total_progress.d, t);
		r->nmissing++;
	}
}

/*
 * A record with the reference defaults under the input's members (2.0):
 * the default members in their order, then the input's other members in
 * theirs.  The input's members are moved over, not copied: src is left
 * empty.
 */
static cJSON *
record2(cJSON *src)
{
	static const char *const keys[] = {
		"index", "route_id", "status", "num_infractions",
		"infractions", "scores", "meta", NULL
	};
	static const char *const sk[] = {
		"score_route", "score_penalty", "score_composed", NULL
	};
	static const char *const mk[] = {
		"route_length", "duration_game", "duration_system", NULL
	};
	cJSON *o, *c, *v;
	int i, k;

	o = newobj();
	for (i = 0; keys[i] != NULL; i++) {
		if ((c = take(src, keys[i])) != NULL) {
			cJSON_AddItemToArray(o, c);
			continue;
		}
		switch (i) {
		case 0:
			v = lb_pyjson_int(-1);
			break;
		case 1:
			v = cJSON_CreateNull();
			break;
		case 2:
			v = newstr("Started");
			break;
		case 3:
			v = lb_pyjson_int(0);
			break;
		case 4:
			v = newobj();
			for (k = 0; infr2[k] != NULL; k++)
				add(v, infr2[k], newarr());
			break;
		default:
			v = newobj();
			for (k = 0; k < 3; k++)
				add(v, (i == 5 ? sk : mk)[k],
				    lb_pyjson_int(0));
			break;
		}
		add(o, keys[i], v);
	}
	while ((c = src->child) != NULL)
		cJSON_AddItemToArray(o, cJSON_DetachItemViaPointer(src, c));
	return o;
}

/* A 1.0 RouteRecord built from an input record (resume()). */
static cJSON *
record1(const cJSON *src)
{
	cJSON *o, *inf, *sc;
	const cJSON *c;
	int i;

	o = newobj();
	add(o, "route_id", cJSON_CreateNull());
	add(o, "index", cJSON_CreateNull());
	add(o, "status", newstr("Started"));
	inf = newobj();
	for (i = 0; infr1[i] != NULL; i++)
		add(inf, infr1[i], newarr());
	add(o, "infractions", inf);
	sc = newobj();
	add(sc, "score_route", lb_pyjson_int(0));
	add(sc, "score_penalty", lb_pyjson_int(0));
	add(sc, "score_composed", lb_pyjson_int(0));
	add(o, "scores", sc);
	add(o, "meta", newobj());
	cJSON_ArrayForEach(c, src)
		put(o, c->string, jdup(c));
	return o;
}

/* A number member of a member of a record, or an error. */
static int
recnum(struct merge *m, const cJSON *rec, const char *obj, const char *key,
    struct pynum *out)
{
	const cJSON *o = get(rec, obj), *v, *id;

	if (cJSON_IsObject(o) && (v = get(o, key)) != NULL &&
	    pynum_of(v, out) == 0)
		return 0;
	id = get(rec, "route_id");
	if (!cJSON_IsObject(o))
		return merr(m, "route %s: %s is not an object",
		    cJSON_IsString(id) ? id->valuestring : "?", obj);
	if ((v = get(o, key)) == NULL)
		return merr(m, "route %s: no %s.%s",
		    cJSON_IsString(id) ? id->valuestring : "?", obj, key);
	if (pynum_of(v, out) == -1)
		return merr(m, "route %s: %s.%s is not a number",
		    cJSON_IsString(id) ? id->valuestring : "?", obj, key);
	return 0;
}

static const cJSON *
reclist(struct merge *m, const cJSON *rec, const char *key)
{
	const cJSON *inf = get(rec, "infractions"), *l, *id;

	l = get(inf, key);
	if (!cJSON_IsArray(l)) {
		id = get(rec, "route_id");
		merr(m, "route %s: infractions.%s is not a list",
		    cJSON_IsString(id) ? id->valuestring : "?", key);
		return NULL;
	}
	return l;
}

/*
 * A record's scores, meta and infractions objects, looked up once for
 * the passes of global2 (NULL where not an object).
 */
struct parts {
	const cJSON	*rec, *scores, *meta, *inf;
};

static struct parts *
getparts(const cJSON *records)
{
	struct parts *p;
	const cJSON *rec;
	int n = cJSON_GetArraySize(records), i = 0;

	p = lb_xmalloc(sizeof(*p) * (size_t)(n > 0 ? n : 1));
	cJSON_ArrayForEach(rec, records) {
		p[i].rec = rec;
		p[i].scores = get(rec, "scores");
		p[i].meta = get(rec, "meta");
		p[i].inf = get(rec, "infractions");
		i++;
	}
	return p;
}

/* recnum with the object at hand; recnum itself says what is wrong */
static int
partnum(struct merge *m, const struct parts *p, const cJSON *o,
    const char *obj, const char *key, struct pynum *out)
{
	const cJSON *v;

	if ((v = get(o, key)) != NULL && pynum_of(v, out) == 0)
		return 0;
	return recnum(m, p->rec, obj, key, out);
}

static const cJSON *
partlist(struct merge *m, const struct parts *p, const char *key)
{
	const cJSON *l = get(p->inf, key);

	if (l != NULL && (l->type & 0xff) == cJSON_Array)
		return l;
	return reclist(m, p->rec, key);
}

static const char *
recstatus(struct merge *m, const cJSON *rec)
{
	const cJSON *s = get(rec, "status"), *id;

	if (!cJSON_IsString(s)) {
		id = get(rec, "route_id");
		merr(m, "route %s: status is not a string",
		    cJSON_IsString(id) ? id->valuestring : "?");
		return NULL;
	}
	return s->valuestring;
}

/* Global record, values, labels, entry status (sections 4.3, 4.4). */
static int
global2(struct merge *m, cJSON *doc, cJSON *records)
{
	static const char *const sk[] = {
		"score_route", "score_penalty", "score_composed"
	};
	static const char *const outk[] = {
		"score_composed", "score_route", "score_penalty"
	};
	struct pynum N = m->total_progress, mean[3], sd[3], v, d, km, cnt;
	struct pynum len, game, sys, off;
	cJSON *g, *inf, *sm, *ssd, *meta, *exc, *e, *vals, *labs, *rec;
	const cJSON *l, *msg;
	const char *st, *gstatus = "Perfect", *entry = "Finished", *w;
	double word;
	int k, i, j, n = cJSON_GetArraySize(records);
	size_t wl;
	struct parts *pt = getparts(records), *p;

	for (k = 0; k < 3; k++)
		mean[k] = sd[k] = pint(0);
	len = game = sys = km = off = pint(0);
	exc = newarr();
	for (p = pt; p < pt + n; p++) {
		rec = (cJSON *)p->rec;
		for (k = 0; k < 3; k++) {
			if (partnum(m, p, p->scores, "scores", sk[k], &v) ==
			    -1)
				goto fail;
			if (pdiv(v, N, &d) == -1) {
				merr(m, "division by zero");
				goto fail;
			}
			mean[k] = padd(mean[k], d);
		}
		if (partnum(m, p, p->meta, "meta", "route_length", &v) == -1)
			goto fail;
		len = padd(len, v);
		if (partnum(m, p, p->meta, "meta", "duration_game", &v) == -1)
			goto fail;
		game = padd(game, v);
		if (partnum(m, p, p->meta, "meta", "duration_system", &v) ==
		    -1)
			goto fail;
		sys = padd(sys, v);
		if ((st = recstatus(m, rec)) == NULL)
			goto fail;
		if (strstr(st, "Failed") != NULL) {
			e = newarr();
			cJSON_AddItemToArray(e, jdup(get(rec, "route_id")));
			cJSON_AddItemToArray(e, jdup(get(rec, "index")));
			cJSON_AddItemToArray(e, newstr(st));
			cJSON_AddItemToArray(exc, e);
			gstatus = "Failed";
		} else if (strcmp(gstatus, "Perfect") == 0 &&
		    strcmp(st, "Perfect") != 0)
			gstatus = st;
	}
	for (k = 0; k < 3; k++)
		mean[k] = pround(mean[k], 6);
	if (peq(N, pint(1))) {
		for (k = 0; k < 3; k++)
			sd[k] = pint(0);
	} else {
		for (p = pt; p < pt + n; p++)
			for (k = 0; k < 3; k++) {
				if (partnum(m, p, p->scores, "scores", sk[k],
				    &v) == -1)
					goto fail;
				d = psub(v, mean[k]);
				sd[k] = padd(sd[k], pflt(pow(d.d, two)));
			}
		for (k = 0; k < 3; k++) {
			if (pdiv(sd[k], psub(N, pint(1)), &d) == -1) {
				merr(m, "division by zero");
				goto fail;
			}
			sd[k] = pround(pflt(sqrt(d.d)), 3);
		}
	}

	/* kilometres driven, and outside-lanes kilometres */
	for (p = pt; p < pt + n; p++) {
		struct pynum rl, sr;

		if (partnum(m, p, p->meta, "meta", "route_length", &rl) ==
		    -1 || partnum(m, p, p->scores, "scores", "score_route",
		    &sr) == -1)
			goto fail;
		pdiv(rl, pint(1000), &d);
		d = pmul(d, sr);
		pdiv(d, pint(100), &d);
		km = padd(km, d);
	}
	if (0.001 > km.d)
		km = pflt(0.001);

	g = newobj();
	add(g, "index", lb_pyjson_int(-1));
	add(g, "route_id", lb_pyjson_int(-1));
	add(g, "status", newstr(gstatus));
	inf = newobj();
	for (i = 0; infr2[i] != NULL; i++) {
		if (strcmp(infr2[i], "outside_route_lanes") == 0) {
			off = pint(0);
			for (j = 0; j < n; j++) {
				if ((l = partlist(m, &pt[j], infr2[i])) ==
				    NULL)
					goto failg;
				if ((msg = l->child) == NULL) {
					off = padd(off, pflt(0.0));
					continue;
				}
				if (!cJSON_IsString(msg)) {
					merr(m, "an outside_route_lanes "
					    "message is not a string");
					goto failg;
				}
				/* message.split(" ")[8] */
				w = msg->valuestring;
				for (k = 0; k < 8 && w != NULL; k++)
					if ((w = strchr(w, ' ')) != NULL)
						w++;
				if (w == NULL) {
					merr(m, "outside_route_lanes message "
					    "'%s' has no 9th word",
					    msg->valuestring);
					goto failg;
				}
				wl = strcspn(w, " ");
				if (pyfloat(w, wl, &word) == -1) {
					merr(m, "outside_route_lanes message "
					    "'%s': 9th word is not a number",
					    msg->valuestring);
					goto failg;
				}
				off = padd(off, pflt(word / 1000));
			}
			add(inf, infr2[i], pjson(pround(off, 3)));
			continue;
		}
		cnt = pint(0);
		for (j = 0; j < n; j++) {
			if ((l = partlist(m, &pt[j], infr2[i])) == NULL)
				goto failg;
			cnt = padd(cnt, pint(cJSON_GetArraySize(l)));
		}
		pdiv(cnt, km, &d);
		add(inf, infr2[i], pjson(pround(d, 3)));
	}
	add(g, "infractions", inf);
	sm = newobj();
	ssd = newobj();
	for (k = 0; k < 3; k++) {
		int src = outk[k][6] == 'c' ? 2 : outk[k][6] == 'r' ? 0 : 1;

		add(sm, outk[k], pjson(mean[src]));
		add(ssd, outk[k], pjson(sd[src]));
	}
	add(g, "scores_mean", sm);
	add(g, "scores_std_dev", ssd);
	meta = newobj();
	add(meta, "total_length", pjson(len));
	add(meta, "duration_game", pjson(game));
	add(meta, "duration_system", pjson(sys));
	add(meta, "exceptions", exc);
	exc = NULL;
	add(g, "meta", meta);
	put(get(doc, "_checkpoint"), "global_record", g);

	vals = newarr();
	labs = newarr();
	for (i = 0; vsrc2[i] != NULL; i++) {
		struct lb_buf b = { 0 };

		lb_buf_add(&b, "", 0);
		lb_pyjson_str(&b, getp(g, vsrc2[i]));
		cJSON_AddItemToArray(vals, newstr(b.p));
		lb_buf_free(&b);
		cJSON_AddItemToArray(labs, newstr(labels[i]));
	}
	put(doc, "values", vals);
	put(doc, "labels", labs);

	cJSON_ArrayForEach(rec, records) {
		st = get(rec, "status")->valuestring;
		if (strstr(st, "Simulation crashed") != NULL)
			entry = "Crashed";
		else if (strstr(st, "Agent's sensors were invalid") != NULL)
			entry = "Rejected";
	}
	if (!truthy(get(doc, "sensors")))
		m->r->invalid = lb_xstrdup("Missing 'sensors' data");
	else
		cJSON_ArrayForEach(rec, records)
			if (strcmp(get(rec, "status")->valuestring,
			    "Started") == 0) {
				m->r->invalid = lb_xstrdup("Found a route "
				    "record with missing data");
				break;
			}
	if (m->r->invalid != NULL)
		entry = "Invalid";
	put(doc, "entry_status", newstr(entry));
	put(doc, "eligible", cJSON_CreateBool(strcmp(entry, "Finished") == 0));
	free(pt);
	return 0;
failg:
	cJSON_Delete(g);
	cJSON_Delete(inf);
fail:
	cJSON_Delete(exc);
	free(pt);
	return -1;
}

static void
fmt3(char *buf, size_t len, struct pynum v)
{
	/* '{:.3f}'.format(v); Python spells the specials nan/inf/-inf */
	if (isnan(v.d))
		snprintf(buf, len, "nan");
	else
		snprintf(buf, len, "%.3f", v.d);
}

/* The 1.0 global record (section 4.6), from the files in argument order. */
static int
global1(struct merge *m, cJSON *doc)
{
	static const char *const sk[] = {
		"score_route", "score_penalty", "score_composed"
	};
	static const char *const vk[] = {
		"scores.score_composed", "scores.score_route",
		"scores.score_penalty", "infractions.collisions_pedestrian",
		"infractions.collisions_vehicle",
		"infractions.collisions_layout", "infractions.red_light",
		"infractions.stop_infraction",
		"infractions.outside_route_lanes", "infractions.route_dev",
		"infractions.route_timeout", "infractions.vehicle_blocked", NULL
	};
	struct pynum N = m->total_progress, sc[3], sd[3], inf[9], v, d, sr,
	    rl, kms, len, game, sys;
	cJSON *list, *rec, *g, *o, *exc = NULL, *e, *vals, *labs;
	const cJSON *recs, *l, *r;
	const char *entry = "Finished";
	char buf[64];
	int i, k, first = 1, ok = -1;	/* first: no record yet */

	list = newarr();
	for (i = 0; i < m->r->nfiles; i++) {
		if (m->r->files[i].state != LB_RESULTS_USED)
			continue;
		recs = getp(m->data[i], "_checkpoint.records");
		if (!truthy(recs))
			continue;
		cJSON_ArrayForEach(r, recs)
			cJSON_AddItemToArray(list, record1(r));
	}
	for (k = 0; k < 3; k++)
		sc[k] = sd[k] = pint(0);
	for (k = 0; k < 9; k++)
		inf[k] = pint(0);
	len = game = sys = pint(0);
	exc = newarr();
	cJSON_ArrayForEach(rec, list) {
		for (k = 0; k < 3; k++) {
			if (recnum(m, rec, "scores", sk[k], &v) == -1)
				goto out;
			sc[k] = padd(sc[k], v);
		}
		/*
		 * A sum of per-route rates over the routes that moved:
		 * count / (score_route / 100 * route_length / 1000.0).
		 */
		first = 0;
		if (recnum(m, rec, "scores", "score_route", &sr) == -1)
			goto out;
		for (k = 0; k < 9 && sr.d != 0; k++) {
			if (recnum(m, rec, "meta", "route_length", &rl) == -1)
				goto out;
			pdiv(sr, pint(100), &kms);
			kms = pmul(kms, rl);
			pdiv(kms, pflt(1000.0), &kms);
			if ((l = reclist(m, rec, infr1[k])) == NULL)
				goto out;
			if (pdiv(pint(cJSON_GetArraySize(l)), kms, &d) == -1) {
				merr(m, "route of length 0: division by zero");
				goto out;
			}
			inf[k] = padd(inf[k], d);
		}
		if (recnum(m, rec, "meta", "route_length", &v) == -1)
			goto out;
		len = padd(len, v);
		if (recnum(m, rec, "meta", "duration_game", &v) == -1)
			goto out;
		game = padd(game, v);
		if (recnum(m, rec, "meta", "duration_system", &v) == -1)
			goto out;
		sys = padd(sys, v);
		/* an identity test against a literal: always "not equal" */
		e = newarr();
		cJSON_AddItemToArray(e, jdup(get(rec, "route_id")));
		cJSON_AddItemToArray(e, jdup(get(rec, "index")));
		cJSON_AddItemToArray(e, jdup(get(rec, "status")));
		cJSON_AddItemToArray(exc, e);
	}
	for (k = 0; k < 3; k++)
		if (pdiv(sc[k], pflt(N.d), &sc[k]) == -1) {
			merr(m, "division by zero");
			goto out;
		}
	if (!peq(N, pint(1))) {
		cJSON_ArrayForEach(rec, list)
			for (k = 0; k < 3; k++) {
				recnum(m, rec, "scores", sk[k], &v);
				d = psub(v, sc[k]);
				sd[k] = padd(sd[k], pflt(pow(d.d, two)));
			}
		for (k = 0; k < 3; k++) {
			if (pdiv(sd[k], pflt(N.d - 1), &d) == -1) {
				merr(m, "division by zero");
				goto out;
			}
			sd[k] = pflt(sqrt(d.d));
		}
	}

	g = newobj();
	add(g, "route_id", lb_pyjson_int(-1));
	add(g, "index", lb_pyjson_int(-1));
	add(g, "status", newstr(list->child != NULL ? "Failed" :
	    "Completed"));
	o = newobj();
	for (k = 0; k < 9; k++)
		add(o, infr1[k], first ? newarr() : pjson(inf[k]));
	add(g, "infractions", o);
	o = newobj();
	for (k = 0; k < 3; k++)
		add(o, sk[k], pjson(sc[k]));
	add(g, "scores", o);
	o = newobj();
	add(o, "total_length", pjson(len));
	add(o, "duration_game", pjson(game));
	add(o, "duration_system", pjson(sys));
	if (exc->child != NULL) {
		add(o, "exceptions", exc);
		exc = NULL;
	}
	add(g, "meta", o);
	o = newobj();
	for (k = 0; k < 3; k++)
		add(o, sk[k], peq(N, pint(1)) ? newstr("NaN") : pjson(sd[k]));
	add(g, "scores_std_dev", o);
	put(get(doc, "_checkpoint"), "global_record", g);

	vals = newarr();
	labs = newarr();
	for (i = 0; vk[i] != NULL; i++) {
		const cJSON *x = getp(g, vk[i]);

		if (pynum_of(x, &v) == -1) {
			merr(m, "%s is not a number", vk[i]);
			cJSON_Delete(vals);
			cJSON_Delete(labs);
			goto out;
		}
		fmt3(buf, sizeof(buf), v);
		cJSON_AddItemToArray(vals, newstr(buf));
		cJSON_AddItemToArray(labs, newstr(labels[i]));
	}
	put(doc, "values", vals);
	put(doc, "labels", labs);
	cJSON_ArrayForEach(r, getp(doc, "_checkpoint.records")) {
		const char *st = recstatus(m, r);

		if (st == NULL)
			goto out;
		if (strstr(st, "Agent") != NULL) {
			entry = "Finished with agent errors";
			break;
		}
	}
	put(doc, "entry_status", newstr(entry));
	put(doc, "eligible", cJSON_CreateTrue());
	ok = 0;
out:
	cJSON_Delete(exc);
	cJSON_Delete(list);
	return ok;
}

void
lb_results_free(struct lb_results *r)
{
	int i;

	if (r == NULL)
		return;
	cJSON_Delete(r->doc);
	free(r->invalid);
	for (i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	lb_buf_free(&r->missing);
	free(r);
}

struct lb_results *
lb_results_merge(const char *const *paths, int n,
    const struct lb_results_opts *opts, struct lb_err *err)
{
	static const struct lb_results_opts defopts = { LB_RESULTS_LB2, 0, 0 };
	struct merge m = { 0 };
	struct lb_results *r;
	cJSON *doc, *cp, *prog, *records;
	long i;
	int global, ok = -1;

	if (opts == NULL)
		opts = &defopts;
	r = lb_xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->format = opts->format == LB_RESULTS_LB1 ? LB_RESULTS_LB1 :
	    LB_RESULTS_LB2;
	r->nfiles = n;
	r->files = lb_xmalloc(sizeof(*r->files) * (size_t)(n > 0 ? n : 1));
	memset(r->files, 0, sizeof(*r->files) * (size_t)(n > 0 ? n : 1));
	lb_buf_add(&r->missing, "", 0);
	m.r = r;
	m.opts = opts;
	m.err = err;
	m.data = lb_xmalloc(sizeof(*m.data) * (size_t)(n > 0 ? n : 1));
	memset(m.data, 0, sizeof(*m.data) * (size_t)(n > 0 ? n : 1));

	if (gather(&m, paths, n) == -1 || sortkeys(&m) == -1)
		goto out;
	findmissing(&m);
	global = !peq(m.total_progress, pint(0)) &&
	    peq(pint(m.nrecs), m.total_progress) && r->nmissing == 0;
	if (global && r->format == LB_RESULTS_LB2 && checkids(&m) == -1)
		goto out;

	/* the merged file without its global part (section 4.2) */
	doc = r->doc = newobj();
	cp = newobj();
	add(cp, "global_record", newobj());
	prog = newarr();
	cJSON_AddItemToArray(prog, lb_pyjson_int(m.nrecs));
	cJSON_AddItemToArray(prog, pjson(m.total_progress));
	add(cp, "progress", prog);
	records = newarr();
	for (i = 0; i < m.nrecs; i++) {
		cJSON *rec = r->format == LB_RESULTS_LB2 ?
		    record2(m.recs[i].src) : jdup(m.recs[i].src);

		/* the id now lives in rec (2.0) */
		m.recs[i].id = NULL;

		put(rec, "index", lb_pyjson_int(i));
		cJSON_AddItemToArray(records, rec);
	}
	add(cp, "records", records);
	add(doc, "_checkpoint", cp);
	add(doc, "entry_status", newstr("Started"));
	add(doc, "eligible", cJSON_CreateFalse());
	add(doc, "sensors", m.sensors != NULL ? jdup(m.sensors) : newarr());
	add(doc, "values", newarr());
	add(doc, "labels", newarr());
	if (global) {
		if ((r->format == LB_RESULTS_LB2 ?
		    global2(&m, doc, records) : global1(&m, doc)) == -1)
			goto out;
		r->global = 1;
	}
	ok = 0;
out:
	for (i = 0; i < n; i++)
		cJSON_Delete(m.data[i]);
	free(m.data);
	free(m.recs);
	if (ok == -1) {
		lb_results_free(r);
		return NULL;
	}
	return r;
}

char *
lb_results_merged(const struct lb_results *r, size_t *len)
{
	struct lb_buf b = { 0 };

	lb_buf_add(&b, "", 0);
	lb_pyjson_dump(&b, r->doc, r->format == LB_RESULTS_LB1);
	if (len != NULL)
		*len = b.len;
	return b.p;
}

/* generate_results.py (section 6) */
char *
lb_results_results(const cJSON *merged, int format, size_t *len,
    struct lb_err *err)
{
	struct lb_buf b = { 0 };
	cJSON *top, *o, *acc, *v;
	const cJSON *cp, *g = NULL;
	int i, n = format == LB_RESULTS_LB1 ? 12 : 15, zero;
	char path[64];

	cp = get(merged, "_checkpoint");
	zero = !truthy(merged) || cp == NULL;
	if (!zero) {
		if ((g = get(cp, "global_record")) == NULL) {
			lb_err_set(err, LB_EFAIL, 0, "merged file: "
			    "_checkpoint has no global_record");
			return NULL;
		}
		zero = !truthy(g);
	}
	acc = newobj();
	for (i = 0; i < n; i++) {
		if (zero)
			v = lb_pyjson_int(0);
		else {
			snprintf(path, sizeof(path), "%s", vsrc2[i]);
			if (format == LB_RESULTS_LB1 && i < 3)
				snprintf(path, sizeof(path), "scores%s",
				    strchr(vsrc2[i], '.'));
			if (getp(g, path) == NULL) {
				lb_err_set(err, LB_EFAIL, 0, "merged file: no "
				    "global_record.%s", path);
				cJSON_Delete(acc);
				return NULL;
			}
			v = jdup(getp(g, path));
		}
		add(acc, accnames[i], v);
	}
	o = newobj();
	add(o, "split", newstr("leaderboard"));
	add(o, "show_to_participant", cJSON_CreateTrue());
	add(o, "accuracies", acc);
	top = newarr();
	cJSON_AddItemToArray(top, o);
	lb_buf_add(&b, "", 0);
	lb_pyjson_dump(&b, top, format == LB_RESULTS_LB1);
	cJSON_Delete(top);
	if (len != NULL)
		*len = b.len;
	return b.p;
}

/* str() of a float that Python rounded to 4 digits */
static void
str4(struct lb_buf *b, struct pynum v)
{
	char buf[32];

	if (v.isint) {
		lb_buf_printf(b, "%lld", v.i);
		return;
	}
	if (isnan(v.d))
		lb_buf_puts(b, "nan");
	else if (isinf(v.d))
		lb_buf_puts(b, v.d > 0 ? "inf" : "-inf");
	else {
		lb_pyjson_repr(v.d, buf);
		lb_buf_puts(b, buf);
	}
}

static int
metanum(const cJSON *rec, const char *key, struct pynum *out,
    struct lb_err *err)
{
	if (pynum_of(getp(get(rec, "meta"), key), out) == -1)
		return lb_err_set(err, LB_EFAIL, 0, "merged file: a route "
		    "record has no number meta.%s", key);
	return 0;
}

/* generate_stdout.py (section 5) */
char *
lb_results_stdout(const cJSON *merged, int format, size_t *len,
    struct lb_err *err)
{
	struct lb_buf b = { 0 };
	const cJSON *cp, *sens, *prog, *recs, *g, *s, *t, *rec, *p0, *p1;
	struct pynum game, sys, v, R, ratio;
	int i, j, n, found, cnt;

	lb_buf_add(&b, "", 0);
	cp = get(merged, "_checkpoint");
	sens = get(merged, "sensors");
	prog = get(cp, "progress");
	recs = get(cp, "records");
	if (!truthy(merged) || sens == NULL || cp == NULL || prog == NULL ||
	    recs == NULL) {
		lb_buf_puts(&b, "Initializing the submission, no data "
		    "avaialable yet.\nMore information will be found here "
		    "once the submission starts running.\n");
		goto done;
	}
	g = get(cp, "global_record");
	lb_buf_printf(&b, "Here is a summary of the submission's %sresults\n"
	    "\nGeneral information:\n- Sensors:\n", truthy(g) ? "" :
	    "current ");
	n = cJSON_GetArraySize(sens);
	for (i = 0; i < n; i++) {
		s = cJSON_GetArrayItem(sens, i);
		found = 0;
		for (j = 0; j < i; j++)
			if (pyequal(cJSON_GetArrayItem(sens, j), s))
				found = 1;
		if (found)
			continue;
		cnt = 0;
		for (j = i; j < n; j++)
			if (pyequal(cJSON_GetArrayItem(sens, j), s))
				cnt++;
		for (j = 0; sensornames[j][0] != NULL; j++)
			if (cJSON_IsString(s) &&
			    strcmp(s->valuestring, sensornames[j][0]) == 0)
				break;
		if (sensornames[j][0] == NULL) {
			struct lb_buf nb = { 0 };

			lb_buf_add(&nb, "", 0);
			lb_pyjson_str(&nb, s);
			lb_err_set(err, LB_EFAIL, 0, "merged file: unknown "
			    "sensor '%.200s'", nb.p);
			lb_buf_free(&nb);
			goto fail;
		}
		lb_buf_printf(&b, "  - %d %s\n", cnt, sensornames[j][1]);
	}
	p0 = cJSON_GetArrayItem(prog, 0);
	p1 = cJSON_GetArrayItem(prog, 1);
	if (p0 == NULL || p1 == NULL) {
		lb_err_set(err, LB_EFAIL, 0, "merged file: short progress");
		goto fail;
	}
	if (pyequal(p0, p1)) {
		lb_buf_puts(&b, "- All ");
		lb_pyjson_str(&b, p1);
		lb_buf_puts(&b, " route have been completed\n");
	} else {
		lb_buf_puts(&b, "- Completed ");
		lb_pyjson_str(&b, p0);
		lb_buf_puts(&b, " out of the ");
		lb_pyjson_str(&b, p1);
		lb_buf_puts(&b, " routes\n");
	}
	game = sys = pint(0);
	cJSON_ArrayForEach(rec, recs) {
		if (metanum(rec, "duration_game", &v, err) == -1)
			goto fail;
		game = padd(game, v);
		if (metanum(rec, "duration_system", &v, err) == -1)
			goto fail;
		sys = padd(sys, v);
	}
	if (sys.d == 0)
		R = pflt(0.0);
	else {
		pdiv(game, sys, &R);
		R = pround(R, 4);
	}
	lb_buf_puts(&b, "- Submission ratio of ");
	str4(&b, R);
	lb_buf_puts(&b, "x\n- Submission FPS of ");
	str4(&b, pround(pmul(pint(20), R), 4));
	lb_buf_puts(&b, "\n");
	if (truthy(g)) {
		lb_buf_puts(&b, "- Results:\n");
		n = format == LB_RESULTS_LB1 ? 12 : 15;
		for (i = 0; i < n; i++) {
			char path[64];

			snprintf(path, sizeof(path), "%s", vsrc2[i]);
			if (format == LB_RESULTS_LB1 && i < 3)
				snprintf(path, sizeof(path), "scores%s",
				    strchr(vsrc2[i], '.'));
			if ((t = getp(g, path)) == NULL) {
				lb_err_set(err, LB_EFAIL, 0, "merged file: no "
				    "global_record.%s", path);
				goto fail;
			}
			lb_buf_printf(&b, "  - %s: ", accnames[i]);
			lb_pyjson_str(&b, t);
			lb_buf_puts(&b, "\n");
		}
	}
	lb_buf_puts(&b, "\n");
	if (recs->child != NULL)
		lb_buf_puts(&b, "Glossary of each route:\n");
	cJSON_ArrayForEach(rec, recs) {
		struct pynum rg, rs;

		if (metanum(rec, "duration_game", &rg, err) == -1 ||
		    metanum(rec, "duration_system", &rs, err) == -1)
			goto fail;
		if (rs.d == 0)
			ratio = pint(0);
		else
			pdiv(rg, rs, &ratio);
		lb_buf_puts(&b, "\n- Index: ");
		lb_pyjson_str(&b, get(rec, "index"));
		lb_buf_puts(&b, "\n  - Route ID: ");
		lb_pyjson_str(&b, get(rec, "route_id"));
		lb_buf_puts(&b, "\n  - Status: ");
		lb_pyjson_str(&b, get(rec, "status"));
		lb_buf_puts(&b, "\n  - Ratio: ");
		str4(&b, pround(ratio, 4));
		lb_buf_puts(&b, "x\n  - FPS: ");
		str4(&b, pround(pmul(pint(20), ratio), 4));
		lb_buf_puts(&b, "\n");
	}
done:
	if (len != NULL)
		*len = b.len;
	return b.p;
fail:
	lb_buf_free(&b);
	return NULL;
}

/* Writing the outputs */

struct out {
	const char	*name;
	char		*data;		/* NULL: leave the file be */
	size_t		 len;
	char		*path, *tmp;
};

#define CHUNK	65536

/* Does path hold exactly these bytes?  Compared a piece at a time. */
static int
same(const char *path, const char *data, size_t len)
{
	struct stat st;
	char *chunk;		/* on the heap: no new stack pages to fault */
	size_t off = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (off_t)len != st.st_size) {
		close(fd);
		return 0;
	}
	chunk = lb_xmalloc(CHUNK);
	for (;;) {
		n = read(fd, chunk, CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		if ((size_t)n > len - off ||
		    memcmp(chunk, data + off, (size_t)n) != 0)
			goto out;
		off += (size_t)n;
	}
	rc = off == len;
out:
	free(chunk);
	close(fd);
	return rc;
}

static int
puttmp(struct out *o, struct lb_err *err)
{
	const char *p = o->data;
	size_t left = o->len;
	ssize_t n;
	int fd;

	o->tmp = lb_xasprintf("%s.tmp.%ld", o->path, (long)getpid());
	fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return lb_err_set(err, LB_EFAIL, 0, "%s: %s", o->tmp,
		    strerror(errno));
	while (left > 0) {
		if ((n = write(fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	lb_err_set(err, errno == ENOSPC || errno == EIO ? LB_ETEMP : LB_EFAIL,
	    0, "%s: %s", o->tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return -1;
}

int
lb_results_write(const struct lb_results *r, const char *dir, int format,
    struct lb_err *err)
{
	struct out o[4] = {
		{ "merged.json", NULL, 0, NULL, NULL },
		{ "results.json", NULL, 0, NULL, NULL },
		{ "stdout.txt", NULL, 0, NULL, NULL },
		{ "metadata.json", NULL, 0, NULL, NULL },
	};
	struct lb_err gerr = { 0 };
	cJSON *stale = NULL;
	const cJSON *doc;
	char *text = NULL;
	size_t len;
	int i, rc = -1, generr = 0;

	for (i = 0; i < 4; i++)
		o[i].path = lb_xasprintf("%s/%s", dir, o[i].name);
	if (r != NULL) {
		format = r->format;
		o[0].data = lb_results_merged(r, &o[0].len);
		/* the same bytes: shared, freed once */
		o[3].data = o[0].data;
		o[3].len = o[0].len;
		doc = r->doc;
	} else {
		/* what the monitor republishes after a failed merge */
		switch (slurp(o[0].path, &text, &len, err)) {
		case -1:
			goto out;
		case 1:
			stale = lb_pyjson_parse(text, len, &gerr);
			o[3].data = text;
			o[3].len = len;
			break;
		}
		doc = stale;
	}
	if ((o[1].data = lb_results_results(doc, format, &o[1].len,
	    &gerr)) == NULL)
		generr = 1;
	if ((o[2].data = lb_results_stdout(doc, format, &o[2].len,
	    generr ? &(struct lb_err){ 0 } : &gerr)) == NULL)
		generr = 1;
	for (i = 0; i < 4; i++)
		if (o[i].data != NULL &&
		    !same(o[i].path, o[i].data, o[i].len) &&
		    puttmp(&o[i], err) == -1)
			goto out;
	for (i = 0; i < 4; i++)
		if (o[i].tmp != NULL) {
			if (rename(o[i].tmp, o[i].path) == -1) {
				lb_err_set(err, LB_EFAIL, 0, "%s: %s",
				    o[i].path, strerror(errno));
				goto out;
			}
			free(o[i].tmp);
			o[i].tmp = NULL;
		}
	if (generr) {
		*err = gerr;
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < 4; i++) {
		if (o[i].tmp != NULL) {
			unlink(o[i].tmp);
			free(o[i].tmp);
		}
		free(o[i].path);
		if (i != 3 || o[3].data != o[0].data)
			free(o[i].data);
	}
	cJSON_Delete(stale);
	return rc;
}
