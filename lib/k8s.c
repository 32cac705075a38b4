/*
 * k8s.c: a Kubernetes API client for Jobs (reference/k8s.md):
 * kubeconfig, in-cluster and EKS configuration, bearer tokens (static,
 * token files, exec plugins, EKS presigned URLs, all renewed), calls,
 * streams, the watch parser and the Job outcome decision.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lb.h"
#include "k8s.h"

extern char **environ;

#define EXEC_V1BETA1	"client.authentication.k8s.io/v1beta1"
#define EXEC_V1		"client.authentication.k8s.io/v1"
#define SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define EKS_RENEW	(14 * 60)	/* tokens live 15 minutes */
#define FILE_REREAD	60		/* token files rotate */

/* The array a, or NULL: for cJSON_ArrayForEach over maybe-arrays. */
static const cJSON *
arr(const cJSON *a)
{
	return cJSON_IsArray(a) ? a : NULL;
}

/* base64 */

char *
lb_k8s_b64dec(const char *s, size_t *lenp)
{
	size_t n = 0, i, pad = 0;
	char *clean, *out;
	int r;

	clean = lb_xmalloc(strlen(s) + 4);
	for (i = 0; s[i] != '\0'; i++)
		if (!isspace((unsigned char)s[i]))
			clean[n++] = s[i];
	while (n % 4 != 0)
		clean[n++] = '=';
	clean[n] = '\0';
	if (n >= 1 && clean[n - 1] == '=')
		pad++;
	if (n >= 2 && clean[n - 2] == '=')
		pad++;
	out = lb_xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean,
	    (int)n);
	free(clean);
	if (r < 0 || (size_t)r < pad) {
		free(out);
		return NULL;
	}
	out[r - (int)pad] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)r - pad;
	return out;
}

char *
lb_k8s_b64url(const void *p, size_t n)
{
	char *out = lb_xmalloc(4 * ((n + 2) / 3) + 1), *q;
	int len;

	len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	out[len] = '\0';
	for (q = out; *q != '\0'; q++) {
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=') {
			*q = '\0';
			break;
		}
	}
	return out;
}

time_t
lb_k8s_time(const char *s)
{
	struct tm tm;
	const char *p;
	int off = 0;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		    ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '+')
			off = -off;
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	return timegm(&tm) + off;
}

/* names and labels */

int
lb_k8s_label_value_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0)
		return 1;
	if (n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* PREFIX/namespaces/NS/KIND[/NAME], the names escaped */
static char *
ns_path(const char *prefix, const char *kind, const char *ns,
    const char *name)
{
	char *e, *n, *p;

	e = lb_http_escape(ns, 0);
	n = name != NULL ? lb_http_escape(name, 0) : NULL;
	p = lb_xasprintf("%s/namespaces/%s/%s%s%s", prefix, e, kind,
	    n != NULL ? "/" : "", n != NULL ? n : "");
	free(e);
	free(n);
	return p;
}

char *
lb_k8s_jobs_path(const char *ns, const char *name)
{
	return ns_path("/apis/batch/v1", "jobs", ns, name);
}

char *
lb_k8s_pods_path(const char *ns, const char *name)
{
	return ns_path("/api/v1", "pods", ns, name);
}

char *
lb_k8s_job_selector(const cJSON *job)
{
	const cJSON *ml = lb_json_path(job, "spec.selector.matchLabels"), *it;
	struct lb_buf b = { 0 };

	if (!cJSON_IsObject(ml) || ml->child == NULL)
		return NULL;
	lb_buf_add(&b, "", 0);
	cJSON_ArrayForEach(it, ml) {
		if (!cJSON_IsString(it))
			continue;
		lb_buf_printf(&b, "%s%s=%s", b.len ? "," : "", it->string,
		    it->valuestring);
	}
	return b.p;
}

/* configuration */

static void
freev(char **v)
{
	char **p;

	for (p = v; p != NULL && *p != NULL; p++)
		free(*p);
	free(v);
}

void
lb_k8s_config_free(struct lb_k8s_config *c)
{
	free(c->source);
	free(c->context);
	free(c->server);
	free(c->namespace);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_pem);
	free(c->key_pem);
	free(c->tls_server_name);
	free(c->token);
	free(c->token_file);
	free(c->exec_api);
	free(c->exec_cmd);
	freev(c->exec_argv);
	freev(c->exec_env);
	free(c->eks_cluster);
	memset(c, 0, sizeof(*c));
}

struct kfile {
	const cJSON	*doc;
	const char	*name;
	char		*dir;
};

/* The first named entry of list key (clusters, users, contexts). */
static const cJSON *
find_named(struct kfile *f, int nf, const char *list, const char *name,
    const char *inner, struct kfile **from)
{
	const cJSON *l, *it, *n;
	int i;

	for (i = 0; i < nf; i++) {
		l = cJSON_GetObjectItemCaseSensitive(f[i].doc, list);
		cJSON_ArrayForEach(it, arr(l)) {
			n = cJSON_GetObjectItemCaseSensitive(it, "name");
			if (!cJSON_IsString(n) ||
			    strcmp(n->valuestring, name) != 0)
				continue;
			*from = &f[i];
			n = cJSON_GetObjectItemCaseSensitive(it, inner);
			return cJSON_IsObject(n) ? n : NULL;
		}
	}
	return NULL;
}

static const char *
sget(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ?
	    v->valuestring : NULL;
}

static char *
resolve(const struct kfile *f, const char *path)
{
	if (path[0] == '/' || f->dir == NULL)
		return lb_xstrdup(path);
	return lb_xasprintf("%s/%s", f->dir, path);
}

/* PEM from NAME-data (base64) or the file NAME. */
static int
pem(const struct kfile *f, const cJSON *o, const char *key, char **out,
    struct lb_err *err)
{
	char *k, *path;
	const char *v;
	size_t n;

	k = lb_xasprintf("%s-data", key);
	v = sget(o, k);
	free(k);
	if (v != NULL) {
		if ((*out = lb_k8s_b64dec(v, &n)) == NULL || n == 0)
			return lb_err_set(err, LB_EUSAGE, 0, "%s: %s-data is "
			    "not base64", f->name, key);
		return 0;
	}
	if ((v = sget(o, key)) == NULL)
		return 0;
	path = resolve(f, v);
	*out = lb_util_readfile(path, NULL, err);
	free(path);
	if (*out == NULL) {
		err->kind = LB_EUSAGE;
		lb_err_prefix(err, "%s: %s", f->name, key);
		return -1;
	}
	return 0;
}

static char **
strlist(const cJSON *a)
{
	const cJSON *it;
	char **v;
	int n = 0;

	v = lb_xmalloc(sizeof(*v) * ((size_t)cJSON_GetArraySize(a) + 2));
	cJSON_ArrayForEach(it, arr(a))
		if (cJSON_IsString(it))
			v[n++] = lb_xstrdup(it->valuestring);
	v[n] = NULL;
	return v;
}

static int
exec_user(struct lb_k8s_config *c, const struct kfile *f, const cJSON *ex,
    struct lb_err *err)
{
	const cJSON *args, *env, *it;
	const char *api, *cmd, *mode;
	char **v;
	int n = 0, i;

	if ((api = sget(ex, "apiVersion")) == NULL ||
	    (strcmp(api, EXEC_V1BETA1) != 0 && strcmp(api, EXEC_V1) != 0))
		return lb_err_set(err, LB_EUSAGE, 0, "%s: exec apiVersion "
		    "must be %s or %s", f->name, EXEC_V1BETA1, EXEC_V1);
	if ((cmd = sget(ex, "command")) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: exec has no "
		    "command", f->name);
	mode = sget(ex, "interactiveMode");
	if (strcmp(api, EXEC_V1) == 0 && mode == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: exec "
		    "interactiveMode is required with %s", f->name, api);
	if (mode != NULL && strcmp(mode, "Never") != 0 &&
	    strcmp(mode, "IfAvailable") != 0 && strcmp(mode, "Always") != 0)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: exec "
		    "interactiveMode must be Never, IfAvailable or Always",
		    f->name);
	c->exec_interactive = mode != NULL && strcmp(mode, "Always") == 0;
	c->exec_api = lb_xstrdup(api);
	c->exec_cmd = strchr(cmd, '/') ? resolve(f, cmd) : lb_xstrdup(cmd);
	args = cJSON_GetObjectItemCaseSensitive(ex, "args");
	v = strlist(args);
	for (n = 0; v[n] != NULL; n++)
		;
	c->exec_argv = lb_xmalloc(sizeof(char *) * (size_t)(n + 2));
	c->exec_argv[0] = lb_xstrdup(c->exec_cmd);
	for (i = 0; i < n; i++)
		c->exec_argv[i + 1] = v[i];
	c->exec_argv[n + 1] = NULL;
	free(v);
	env = cJSON_GetObjectItemCaseSensitive(ex, "env");
	c->exec_env = lb_xmalloc(sizeof(char *) *
	    ((size_t)cJSON_GetArraySize(env) + 1));
	/* Terminated at each step: a bad entry returns with it half built. */
	c->exec_env[0] = NULL;
	n = 0;
	cJSON_ArrayForEach(it, arr(env)) {
		const char *name = sget(it, "name");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(it,
		    "value");

		if (name == NULL || strchr(name, '=') != NULL ||
		    !cJSON_IsString(val))
			return lb_err_set(err, LB_EUSAGE, 0, "%s: exec env "
			    "entries need a name and a string value",
			    f->name);
		c->exec_env[n++] = lb_xasprintf("%s=%s", name,
		    val->valuestring);
		c->exec_env[n] = NULL;
	}
	it = cJSON_GetObjectItemCaseSensitive(ex, "provideClusterInfo");
	c->exec_cluster_info = cJSON_IsTrue(it);
	return 0;
}

static int
merge(struct lb_k8s_config *c, struct kfile *f, int nf, const char *context,
    struct lb_err *err)
{
	const cJSON *ctx, *cl, *us, *v;
	struct kfile *fc = NULL, *fu = NULL, *fx = NULL;
	const char *cname, *uname, *s;
	int i;

	if (context == NULL)
		for (i = 0; i < nf && context == NULL; i++)
			context = sget(f[i].doc, "current-context");
	if (context == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: no current-context "
		    "(use --context)", nf ? f[0].name : "kubeconfig");
	if ((ctx = find_named(f, nf, "contexts", context, "context",
	    &fx)) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: no context \"%s\"",
		    nf ? f[0].name : "kubeconfig", context);
	c->source = lb_xstrdup("kubeconfig");
	c->context = lb_xstrdup(context);
	s = sget(ctx, "namespace");
	c->namespace = lb_xstrdup(s ? s : "default");
	if ((cname = sget(ctx, "cluster")) == NULL ||
	    (cl = find_named(f, nf, "clusters", cname, "cluster",
	    &fc)) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: context \"%s\": no "
		    "such cluster", fx->name, context);
	if ((s = sget(cl, "server")) == NULL ||
	    (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
		return lb_err_set(err, LB_EUSAGE, 0, "%s: cluster \"%s\": "
		    "server must be an http(s) URL", fc->name, cname);
	c->server = lb_xstrdup(s);
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] ==
	    '/')
		c->server[strlen(c->server) - 1] = '\0';
	if ((s = sget(cl, "certificate-authority-data")) != NULL) {
		if ((c->ca_pem = lb_k8s_b64dec(s, NULL)) == NULL ||
		    c->ca_pem[0] == '\0')
			return lb_err_set(err, LB_EUSAGE, 0, "%s: cluster "
			    "\"%s\": certificate-authority-data is not "
			    "base64", fc->name, cname);
	} else if ((s = sget(cl, "certificate-authority")) != NULL)
		c->ca_file = resolve(fc, s);
	v = cJSON_GetObjectItemCaseSensitive(cl, "insecure-skip-tls-verify");
	c->insecure = cJSON_IsTrue(v);
	if ((s = sget(cl, "tls-server-name")) != NULL)
		c->tls_server_name = lb_xstrdup(s);
	if (sget(cl, "proxy-url") != NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: cluster \"%s\": "
		    "proxy-url is not supported", fc->name, cname);
	if ((uname = sget(ctx, "user")) == NULL)
		return 0;	/* anonymous */
	if ((us = find_named(f, nf, "users", uname, "user", &fu)) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: context \"%s\": no "
		    "user \"%s\"", fx->name, context, uname);
	if (cJSON_GetObjectItemCaseSensitive(us, "auth-provider") != NULL ||
	    sget(us, "username") != NULL || sget(us, "as") != NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: user \"%s\": "
		    "auth-provider, username/password and impersonation are "
		    "not supported", fu->name, uname);
	if (pem(fu, us, "client-certificate", &c->cert_pem, err) == -1 ||
	    pem(fu, us, "client-key", &c->key_pem, err) == -1)
		return -1;
	if ((c->cert_pem == NULL) != (c->key_pem == NULL))
		return lb_err_set(err, LB_EUSAGE, 0, "%s: user \"%s\": a "
		    "client certificate needs its key and the other way "
		    "round", fu->name, uname);
	if ((s = sget(us, "token")) != NULL)
		c->token = lb_xstrdup(s);
	else if ((s = sget(us, "tokenFile")) != NULL)
		c->token_file = resolve(fu, s);
	v = cJSON_GetObjectItemCaseSensitive(us, "exec");
	if (cJSON_IsObject(v) && c->token == NULL && c->token_file == NULL &&
	    exec_user(c, fu, v, err) == -1)
		return -1;
	return 0;
}

static char *
dirof(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return lb_xstrdup(".");
	if (s == path)
		return lb_xstrdup("/");
	return strndup(path, (size_t)(s - path));
}

int
lb_k8s_config_parse(struct lb_k8s_config *c, const char *text, size_t len,
    const char *name, const char *dir, const char *context,
    struct lb_err *err)
{
	struct lb_yaml *y;
	struct kfile f;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((y = lb_yaml_parse(text, len, name, err)) == NULL)
		return -1;
	f.doc = lb_yaml_doc(y, 0);
	f.name = name;
	f.dir = (char *)dir;
	if (!cJSON_IsObject(f.doc)) {
		lb_yaml_free(y);
		return lb_err_set(err, LB_EUSAGE, 0, "%s: not a kubeconfig "
		    "mapping", name);
	}
	rc = merge(c, &f, 1, context, err);
	lb_yaml_free(y);
	if (rc == -1)
		lb_k8s_config_free(c);
	return rc;
}

int
lb_k8s_config_load(struct lb_k8s_config *c, const char *files,
    const char *context, struct lb_err *err)
{
	struct lb_yaml **ys = NULL;
	struct kfile *f = NULL;
	char *list, *p, *save = NULL;
	int nf = 0, i, rc = -1;

	memset(c, 0, sizeof(*c));
	list = lb_xstrdup(files);
	for (p = strtok_r(list, ":", &save); p != NULL;
	    p = strtok_r(NULL, ":", &save)) {
		struct lb_yaml *y;

		if (access(p, F_OK) == -1 && errno == ENOENT)
			continue;	/* as client-go: missing files skipped */
		if ((y = lb_yaml_load(p, err)) == NULL)
			goto out;
		ys = lb_xrealloc(ys, sizeof(*ys) * (size_t)(nf + 1));
		f = lb_xrealloc(f, sizeof(*f) * (size_t)(nf + 1));
		ys[nf] = y;
		f[nf].doc = lb_yaml_doc(y, 0);
		f[nf].name = lb_yaml_name(y);
		f[nf].dir = dirof(p);
		nf++;
		if (!cJSON_IsObject(f[nf - 1].doc)) {
			lb_err_set(err, LB_EUSAGE, 0, "%s: not a kubeconfig "
			    "mapping", p);
			goto out;
		}
	}
	if (nf == 0) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: no kubeconfig file found",
		    files);
		goto out;
	}
	rc = merge(c, f, nf, context, err);
out:
	for (i = 0; i < nf; i++) {
		lb_yaml_free(ys[i]);
		free(f[i].dir);
	}
	free(ys);
	free(f);
	free(list);
	if (rc == -1)
		lb_k8s_config_free(c);
	return rc;
}

int
lb_k8s_config_incluster(struct lb_k8s_config *c, const char *dir,
    struct lb_err *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *path, *ns;

	memset(c, 0, sizeof(*c));
	if (host == NULL || port == NULL || *host == '\0' || *port == '\0')
		return 1;
	if (dir == NULL)
		dir = SA_DIR;
	c->source = lb_xstrdup("in-cluster");
	c->server = lb_xasprintf(strchr(host, ':') ? "https://[%s]:%s" :
	    "https://%s:%s", host, port);
	c->token_file = lb_xasprintf("%s/token", dir);
	c->ca_file = lb_xasprintf("%s/ca.crt", dir);
	if (access(c->token_file, R_OK) == -1) {
		lb_err_set(err, LB_EUSAGE, 0, "%s: %s (in-cluster "
		    "configuration)", c->token_file, strerror(errno));
		lb_k8s_config_free(c);
		return -1;
	}
	path = lb_xasprintf("%s/namespace", dir);
	ns = lb_util_readfile(path, NULL, NULL);
	free(path);
	if (ns != NULL)
		ns[strcspn(ns, " \t\r\n")] = '\0';
	c->namespace = ns != NULL && ns[0] != '\0' ? ns :
	    (free(ns), lb_xstrdup("default"));
	return 0;
}

/* exec credential plugins */

int
lb_k8s_exec_parse(const char *out, size_t len, const char *api,
    char **token, char **cert, char **key, time_t *expires,
    struct lb_err *err)
{
	const cJSON *st;
	const char *t, *c, *k, *x;
	cJSON *j;

	*token = *cert = *key = NULL;
	*expires = 0;
	if ((j = lb_json_parse(out, len)) == NULL ||
	    !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_EUSAGE, 0, "exec plugin: the output "
		    "is not a JSON object");
	}
	if (lb_json_str(j, "kind") == NULL ||
	    strcmp(lb_json_str(j, "kind"), "ExecCredential") != 0 ||
	    lb_json_str(j, "apiVersion") == NULL ||
	    strcmp(lb_json_str(j, "apiVersion"), api) != 0) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_EUSAGE, 0, "exec plugin: the output "
		    "is not an ExecCredential of %s", api);
	}
	if (!cJSON_IsObject(st = cJSON_GetObjectItemCaseSensitive(j,
	    "status"))) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_EUSAGE, 0, "exec plugin: no status");
	}
	t = sget(st, "token");
	c = sget(st, "clientCertificateData");
	k = sget(st, "clientKeyData");
	if ((c == NULL) != (k == NULL) || (t == NULL && c == NULL)) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_EUSAGE, 0, "exec plugin: status "
		    "needs a token or a client certificate and key");
	}
	if ((x = sget(st, "expirationTimestamp")) != NULL &&
	    (*expires = lb_k8s_time(x)) == -1) {
		cJSON_Delete(j);
		*expires = 0;
		return lb_err_set(err, LB_EUSAGE, 0, "exec plugin: bad "
		    "expirationTimestamp");
	}
	*token = t ? lb_xstrdup(t) : NULL;
	*cert = c ? lb_xstrdup(c) : NULL;
	*key = k ? lb_xstrdup(k) : NULL;
	cJSON_Delete(j);
	return 0;
}

/* Does the kubeconfig's env set the variable of entry e? */
static int
env_overridden(char **ours, const char *e)
{
	size_t n = strcspn(e, "=");

	for (; *ours != NULL; ours++)
		if (strncmp(*ours, e, n) == 0 && (*ours)[n] == '=')
			return 1;
	return 0;
}

/* Run the plugin without a shell; its stdout is the answer. */
static char *
exec_run(const struct lb_k8s_config *c, size_t *lenp, struct lb_err *err)
{
	struct lb_buf out = { 0 };
	cJSON *info, *spec, *cl;
	char *infos, **env, buf[4096];
	int fd[2], status, n = 0, i, devnull;
	ssize_t r;
	pid_t pid;

	info = cJSON_CreateObject();
	cJSON_AddStringToObject(info, "kind", "ExecCredential");
	cJSON_AddStringToObject(info, "apiVersion", c->exec_api);
	spec = cJSON_AddObjectToObject(info, "spec");
	cJSON_AddBoolToObject(spec, "interactive", 0);
	if (c->exec_cluster_info) {
		cl = cJSON_AddObjectToObject(spec, "cluster");
		cJSON_AddStringToObject(cl, "server", c->server);
		if (c->insecure)
			cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify",
			    1);
	}
	infos = lb_json_print(info);
	cJSON_Delete(info);
	for (i = 0; environ[i] != NULL; i++)
		;
	for (n = 0; c->exec_env[n] != NULL; n++)
		;
	env = lb_xmalloc(sizeof(char *) * (size_t)(i + n + 2));
	n = 0;
	for (i = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) != 0 &&
		    !env_overridden(c->exec_env, environ[i]))
			env[n++] = environ[i];
	for (i = 0; c->exec_env[i] != NULL; i++)
		env[n++] = c->exec_env[i];
	env[n++] = lb_xasprintf("KUBERNETES_EXEC_INFO=%s", infos);
	env[n] = NULL;
	free(infos);
	if (pipe(fd) == -1) {
		free(env[n - 1]);
		free(env);
		lb_err_set(err, LB_ETEMP, 0, "pipe: %s", strerror(errno));
		return NULL;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		free(env[n - 1]);
		free(env);
		lb_err_set(err, LB_ETEMP, 0, "fork: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull != -1)
			dup2(devnull, 0);
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		environ = env;
		execvp(c->exec_argv[0], c->exec_argv);
		_exit(127);
	}
	close(fd[1]);
	free(env[n - 1]);
	free(env);
	while ((r = read(fd[0], buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (out.len + (size_t)r > (1u << 20))
			break;	/* a credential is small */
		lb_buf_add(&out, buf, (size_t)r);
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		lb_buf_free(&out);
		lb_err_set(err, LB_EUSAGE, 0, "exec plugin %s: %s %d",
		    c->exec_cmd, WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		return NULL;
	}
	lb_buf_add(&out, "", 0);
	*lenp = out.len;
	return out.p;
}

/* EKS tokens */

char *
lb_k8s_eks_token(const struct lb_creds *creds, const char *region,
    const char *cluster, time_t now, struct lb_err *err)
{
	struct lb_sigv4 sig;
	char *url, *hdr, *signed_url, *b, *tok;
	const char *hdrs[2];

	url = lb_xasprintf("https://sts.%s.amazonaws.com%s/?Action="
	    "GetCallerIdentity&Version=2011-06-15", region,
	    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	hdr = lb_xasprintf("x-k8s-aws-id: %s", cluster);
	hdrs[0] = hdr;
	hdrs[1] = NULL;
	memset(&sig, 0, sizeof(sig));
	sig.creds = creds;
	sig.region = region;
	sig.service = "sts";
	sig.now = now;
	signed_url = lb_sigv4_presign(&sig, "GET", url, hdrs, 60, NULL, err);
	free(url);
	free(hdr);
	if (signed_url == NULL)
		return NULL;
	b = lb_k8s_b64url(signed_url, strlen(signed_url));
	tok = lb_xasprintf("k8s-aws-v1.%s", b);
	free(b);
	free(signed_url);
	return tok;
}

int
lb_k8s_eks_stale(time_t signed_at, time_t creds_expire, time_t now)
{
	if (signed_at == 0 || now - signed_at >= EKS_RENEW ||
	    now < signed_at - 60)
		return 1;
	/* the token dies with the session that signed it */
	return creds_expire != 0 && creds_expire - now < 60;
}

/* the client */

struct lb_k8s {
	struct lb_k8s_opts	 o;
	struct lb_k8s_config	 c;
	struct lb_http_opts	 hopts;
	struct lb_http		*http;
	struct lb_aws		*aws;
	char			*token;
	time_t			 token_at;	/* made or read */
	time_t			 token_exp;	/* 0: none known */
	char			*exec_cert, *exec_key;
};

static int
make_http(struct lb_k8s *k, struct lb_err *err)
{
	struct lb_http_opts *h = &k->hopts;

	lb_http_free(k->http);
	memset(h, 0, sizeof(*h));
	h->connect_timeout_ms = 5000;
	h->timeout_ms = k->o.timeout_ms ? k->o.timeout_ms : 30000;
	h->max_attempts = k->o.max_attempts ? k->o.max_attempts : 5;
	h->backoff_base_ms = 200;
	h->backoff_max_ms = 10000;
	h->retry_after_max_ms = 30000;
	h->ca_file = k->c.ca_file;
	h->ca_pem = k->c.ca_pem;
	h->cert_pem = k->exec_cert ? k->exec_cert : k->c.cert_pem;
	h->key_pem = k->exec_key ? k->exec_key : k->c.key_pem;
	h->insecure = k->c.insecure;
	h->trace = k->o.trace;
	h->trace_arg = k->o.trace_arg;
	h->stop = k->o.stop;
	if ((k->http = lb_http_new(h)) == NULL)
		return lb_err_set(err, LB_EFAIL, 0, "cannot make an HTTP "
		    "handle");
	return 0;
}

static int
eks_config(struct lb_k8s *k, struct lb_err *err)
{
	struct lb_http_req req;
	struct lb_http_resp resp;
	const char *ep, *ca, *st;
	char *base, *n, *url;
	cJSON *j;
	int rc;

	if ((k->aws = lb_aws_new(NULL, err)) == NULL)
		return -1;
	if (lb_aws_region(k->aws) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "--eks-cluster needs an "
		    "AWS region: set AWS_REGION");
	k->c.source = lb_xstrdup("eks");
	k->c.eks_cluster = lb_xstrdup(k->o.eks_cluster);
	k->c.namespace = lb_xstrdup("default");
	if (k->o.token_only) {
		k->c.server = lb_xstrdup("https://localhost");
		return 0;
	}
	if (k->o.server != NULL)
		return 0;	/* endpoint and CA given: no DescribeCluster */
	if ((base = lb_aws_endpoint(k->aws, "eks")) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "no EKS endpoint");
	n = lb_http_escape(k->o.eks_cluster, 0);
	url = lb_xasprintf("%s/clusters/%s", base, n);
	free(n);
	free(base);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	rc = lb_aws_request(k->aws, "eks", &req, &resp, err);
	free(url);
	if (rc == -1) {
		lb_err_prefix(err, "EKS DescribeCluster %s",
		    k->o.eks_cluster);
		lb_http_resp_free(&resp);
		return -1;
	}
	j = lb_json_parse(resp.body.p, resp.body.len);
	lb_http_resp_free(&resp);
	ep = lb_json_str(j, "cluster.endpoint");
	ca = lb_json_str(j, "cluster.certificateAuthority.data");
	st = lb_json_str(j, "cluster.status");
	if (ep == NULL || strncmp(ep, "https://", 8) != 0) {
		lb_err_set(err, st && strcmp(st, "ACTIVE") != 0 ? LB_ETEMP :
		    LB_EFAIL, 0, "EKS DescribeCluster %s: no https endpoint "
		    "(status %s)", k->o.eks_cluster, st ? st : "unknown");
		cJSON_Delete(j);
		return -1;
	}
	k->c.server = lb_xstrdup(ep);
	if (ca != NULL && (k->c.ca_pem = lb_k8s_b64dec(ca, NULL)) == NULL) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_EFAIL, 0, "EKS DescribeCluster %s: "
		    "the CA is not base64", k->o.eks_cluster);
	}
	cJSON_Delete(j);
	return 0;
}

struct lb_k8s *
lb_k8s_new(const struct lb_k8s_opts *o, struct lb_err *err)
{
	struct lb_k8s *k;
	const char *files, *home;
	char *def = NULL;
	int r;

	k = lb_xmalloc(sizeof(*k));
	memset(k, 0, sizeof(*k));
	k->o = *o;
	if (o->eks_cluster != NULL) {
		if (eks_config(k, err) == -1)
			goto fail;
	} else {
		files = o->kubeconfig ? o->kubeconfig : getenv("KUBECONFIG");
		if (files == NULL || *files == '\0') {
			home = getenv("HOME");
			def = lb_xasprintf("%s/.kube/config", home ? home : "");
			files = access(def, F_OK) == 0 ? def : NULL;
		}
		if (files == NULL) {
			r = lb_k8s_config_incluster(&k->c, o->sa_dir, err);
			if (r == 1)
				lb_err_set(err, LB_EUSAGE, 0, "no Kubernetes "
				    "configuration: no kubeconfig (KUBECONFIG, "
				    "~/.kube/config), not in a cluster, no "
				    "--eks-cluster");
			if (r != 0)
				goto fail;
		} else if (lb_k8s_config_load(&k->c, files, o->context,
		    err) == -1)
			goto fail;
	}
	if (o->server != NULL) {
		free(k->c.server);
		k->c.server = lb_xstrdup(o->server);
	}
	if (o->ca_file != NULL) {
		free(k->c.ca_file);
		free(k->c.ca_pem);
		k->c.ca_pem = NULL;
		k->c.ca_file = lb_xstrdup(o->ca_file);
	}
	if (k->c.server == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "no server URL");
		goto fail;
	}
	if (k->c.tls_server_name != NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "tls-server-name is not "
		    "supported");
		goto fail;
	}
	if (make_http(k, err) == -1)
		goto fail;
	free(def);
	return k;
fail:
	free(def);
	lb_k8s_free(k);
	return NULL;
}

void
lb_k8s_free(struct lb_k8s *k)
{
	if (k == NULL)
		return;
	lb_http_free(k->http);
	lb_aws_free(k->aws);
	lb_k8s_config_free(&k->c);
	free(k->token);
	free(k->exec_cert);
	free(k->exec_key);
	free(k);
}

const struct lb_k8s_config *
lb_k8s_config(const struct lb_k8s *k)
{
	return &k->c;
}

static void
forget(struct lb_k8s *k)
{
	free(k->token);
	k->token = NULL;
	k->token_at = 0;
	k->token_exp = 0;
}

/* Can a 401 be cured by making the credentials again? */
static int
renewable(const struct lb_k8s *k)
{
	return k->c.token_file != NULL || k->c.exec_cmd != NULL ||
	    k->c.eks_cluster != NULL;
}

const char *
lb_k8s_token(struct lb_k8s *k, time_t *expires, struct lb_err *err)
{
	time_t now = time(NULL);
	char *t, *cert, *key, *out;
	size_t len;

	if (expires != NULL)
		*expires = 0;
	if (k->c.token != NULL)
		return k->c.token;
	if (k->c.token_file != NULL) {
		if (k->token == NULL || now - k->token_at >= FILE_REREAD) {
			if ((t = lb_util_readfile(k->c.token_file, NULL,
			    err)) == NULL)
				return NULL;
			t[strcspn(t, "\r\n")] = '\0';
			forget(k);
			k->token = t;
			k->token_at = now;
		}
		return k->token;
	}
	if (k->c.eks_cluster != NULL) {
		struct lb_sigv4 sig;

		if (k->token != NULL &&
		    !lb_k8s_eks_stale(k->token_at, k->token_exp, now))
			goto done;
		if (lb_aws_signer(k->aws, "sts", &sig, err) == -1)
			return NULL;
		if ((t = lb_k8s_eks_token(sig.creds, sig.region,
		    k->c.eks_cluster, now, err)) == NULL)
			return NULL;
		forget(k);
		k->token = t;
		k->token_at = now;
		k->token_exp = sig.creds->expires;
		goto done;
	}
	if (k->c.exec_cmd != NULL) {
		if ((k->token != NULL || k->exec_cert != NULL) &&
		    (k->token_exp == 0 || k->token_exp - now > 10))
			goto done;
		if ((out = exec_run(&k->c, &len, err)) == NULL)
			return NULL;
		if (lb_k8s_exec_parse(out, len, k->c.exec_api, &t, &cert,
		    &key, &k->token_exp, err) == -1) {
			free(out);
			return NULL;
		}
		free(out);
		free(k->token);
		k->token = t;
		k->token_at = now;
		if (cert != NULL) {
			free(k->exec_cert);
			free(k->exec_key);
			k->exec_cert = cert;
			k->exec_key = key;
			if (make_http(k, err) == -1)
				return NULL;
		}
		goto done;
	}
	return NULL;
done:
	if (expires != NULL)
		*expires = k->c.eks_cluster ? k->token_at + EKS_RENEW :
		    k->token_exp;
	return k->token;
}

/* Before every attempt: a current token. */
static int
auth_prep(void *arg, struct lb_http_req *req, struct curl_slist **list,
    struct lb_err *err)
{
	struct lb_k8s *k = arg;
	const char *t;
	char *h;

	lb_err_clear(err);
	if ((t = lb_k8s_token(k, NULL, err)) == NULL) {
		if (err->msg[0] != '\0')
			return -1;
		return 0;	/* no token: client certificate or none */
	}
	h = lb_xasprintf("Authorization: Bearer %s", t);
	*list = curl_slist_append(*list, h);
	explicit_bzero(h, strlen(h));
	free(h);
	return 0;
}

/* err from a Status answer. */
static void
status_err(long status, const char *method, const char *path,
    const cJSON *j, struct lb_err *err)
{
	const char *m = lb_json_str(j, "message");
	const char *r = lb_json_str(j, "reason");
	size_t n = strcspn(path, "?");

	lb_err_set(err, lb_http_kind(status), status, "%s %.*s: HTTP %ld%s%s",
	    method, (int)n, path, status, m ? ": " : "", m ? m : "");
	if (status == 401 || status == 403)
		err->kind = LB_EFAIL;
	if (r != NULL)
		snprintf(err->code, sizeof(err->code), "%s", r);
}

long
lb_k8s_call(struct lb_k8s *k, const char *method, const char *path,
    const cJSON *body, cJSON **out, struct lb_err *err)
{
	struct lb_http_req req;
	struct lb_http_resp resp;
	const char *hdrs[3];
	char *url, *text = NULL;
	int try;
	long status = -1;
	cJSON *j;

	if (out != NULL)
		*out = NULL;
	url = lb_xasprintf("%s%s", k->c.server, path);
	text = body ? lb_json_print(body) : NULL;
	hdrs[0] = "Accept: application/json";
	hdrs[1] = body ? "Content-Type: application/json" : NULL;
	hdrs[2] = NULL;
	for (try = 0; try < 2; try++) {
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.url = url;
		req.headers = hdrs;
		req.body = text;
		req.bodylen = text ? strlen(text) : 0;
		req.prep = auth_prep;
		req.prep_arg = k;
		lb_err_clear(err);
		if (lb_http_do(k->http, &req, &resp, err) == -1) {
			lb_http_resp_free(&resp);
			status = -1;
			break;
		}
		status = resp.status;
		if (status == 401 && try == 0 && renewable(k)) {
			lb_http_resp_free(&resp);
			forget(k);
			continue;
		}
		j = lb_json_parse(resp.body.p, resp.body.len);
		lb_http_resp_free(&resp);
		if (status >= 300)
			status_err(status, method, path, j, err);
		else
			lb_err_clear(err);
		if (out != NULL)
			*out = j;
		else
			cJSON_Delete(j);
		break;
	}
	free(url);
	free(text);
	return status;
}

struct gate {
	struct lb_http_resp	*resp;
	long			 status;
	struct lb_buf		 errbody;
	int			(*fn)(void *, const char *, size_t);
	void			*arg;
};

/* The status of the answer being received, from its header lines. */
static long
resp_status(const struct lb_http_resp *r)
{
	const char *p = r->headers.p, *sp;

	if (p == NULL || strncmp(p, "HTTP/", 5) != 0 ||
	    (sp = strchr(p, ' ')) == NULL)
		return 0;
	return strtol(sp + 1, NULL, 10);
}

static int
gate_cb(void *arg, const char *p, size_t n)
{
	struct gate *g = arg;

	if (g->status == 0)
		g->status = resp_status(g->resp);
	if (g->status >= 200 && g->status < 300)
		return g->fn(g->arg, p, n);
	if (g->errbody.len < 65536)
		lb_buf_add(&g->errbody, p, n);
	return 0;
}

long
lb_k8s_stream(struct lb_k8s *k, const char *path, long timeout_ms,
    int (*fn)(void *, const char *, size_t), void *arg, struct lb_err *err)
{
	struct lb_http_req req;
	struct lb_http_resp resp;
	struct gate g;
	const char *hdrs[2] = { "Accept: application/json, */*", NULL };
	char *url;
	long status = -1;
	int try, rc;
	cJSON *j;

	url = lb_xasprintf("%s%s", k->c.server, path);
	for (try = 0; try < 2; try++) {
		memset(&req, 0, sizeof(req));
		memset(&g, 0, sizeof(g));
		g.resp = &resp;
		g.fn = fn;
		g.arg = arg;
		req.method = "GET";
		req.url = url;
		req.headers = hdrs;
		req.noretry = 1;
		req.timeout_ms = timeout_ms;
		req.prep = auth_prep;
		req.prep_arg = k;
		req.stream = gate_cb;
		req.stream_arg = &g;
		lb_err_clear(err);
		rc = lb_http_do(k->http, &req, &resp, err);
		status = resp.status ? resp.status : g.status;
		lb_http_resp_free(&resp);
		if (rc == -1) {
			lb_buf_free(&g.errbody);
			status = -1;
			break;
		}
		if (status == 401 && try == 0 && renewable(k)) {
			lb_buf_free(&g.errbody);
			forget(k);
			continue;
		}
		if (status >= 300) {
			j = lb_json_parse(g.errbody.p, g.errbody.len);
			status_err(status, "GET", path, j, err);
			cJSON_Delete(j);
		}
		lb_buf_free(&g.errbody);
		break;
	}
	free(url);
	return status;
}

/* the watch stream parser */

struct lb_k8s_wp {
	lb_k8s_event_fn	 fn;
	void		*arg;
	struct lb_buf	 line;
	int		 stopped;
};

#define WP_MAXLINE	(64u << 20)

struct lb_k8s_wp *
lb_k8s_wp_new(lb_k8s_event_fn fn, void *arg)
{
	struct lb_k8s_wp *w = lb_xmalloc(sizeof(*w));

	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	return w;
}

void
lb_k8s_wp_free(struct lb_k8s_wp *w)
{
	if (w == NULL)
		return;
	lb_buf_free(&w->line);
	free(w);
}

static int
wp_line(struct lb_k8s_wp *w, const char *p, size_t n, struct lb_err *err)
{
	const cJSON *obj, *type;
	cJSON *j;
	int rc;

	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	if ((j = lb_json_parse(p, n)) == NULL ||
	    !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_ETEMP, 0, "watch: a line that is "
		    "not a JSON object");
	}
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	obj = cJSON_GetObjectItemCaseSensitive(j, "object");
	if (lb_json_str(j, "kind") != NULL &&
	    strcmp(lb_json_str(j, "kind"), "Status") == 0 && type == NULL)
		rc = w->fn(w->arg, "ERROR", j);	/* an error answer */
	else if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		cJSON_Delete(j);
		return lb_err_set(err, LB_ETEMP, 0, "watch: an event without "
		    "type and object");
	} else
		rc = w->fn(w->arg, type->valuestring, obj);
	cJSON_Delete(j);
	if (rc != 0)
		w->stopped = 1;
	return rc != 0;
}

int
lb_k8s_wp_feed(struct lb_k8s_wp *w, const char *p, size_t n,
    struct lb_err *err)
{
	const char *nl;
	size_t k;
	int rc;

	if (w->stopped)
		return 1;
	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if (w->line.len + n > WP_MAXLINE)
				return lb_err_set(err, LB_ETEMP, 0, "watch: "
				    "an event of more than 64 MiB");
			lb_buf_add(&w->line, p, n);
			return 0;
		}
		k = (size_t)(nl - p);
		if (w->line.len > 0) {
			lb_buf_add(&w->line, p, k);
			rc = wp_line(w, w->line.p, w->line.len, err);
			w->line.len = 0;
		} else
			rc = wp_line(w, p, k, err);
		if (rc != 0)
			return rc;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

int
lb_k8s_wp_end(struct lb_k8s_wp *w, struct lb_err *err)
{
	int rc;

	if (w->stopped)
		return 1;
	if (w->line.len == 0)
		return 0;
	rc = wp_line(w, w->line.p, w->line.len, err);
	w->line.len = 0;
	return rc;
}

/* outcomes */

const char *
lb_k8s_state_name(int s)
{
	static const char *names[] = { "pending", "running", "complete",
	    "failed", "suspended", "stuck", "deleted" };

	return s >= 0 && s <= LB_K8S_DELETED ? names[s] : "unknown";
}

static const cJSON *
cond(const cJSON *job, const char *type)
{
	const cJSON *c = lb_json_path(job, "status.conditions"), *it;
	const char *t, *s;

	cJSON_ArrayForEach(it, arr(c)) {
		t = lb_json_str(it, "type");
		s = lb_json_str(it, "status");
		if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
			return it;
	}
	return NULL;
}

static long
num(const cJSON *o, const char *path)
{
	return lb_json_long(o, path, 0, LONG_MAX / 2, 0);
}

static void
take(const cJSON *c, struct lb_k8s_outcome *r, const char *timefield)
{
	const char *s;

	if ((s = lb_json_str(c, "reason")) != NULL)
		snprintf(r->reason, sizeof(r->reason), "%s", s);
	if ((s = lb_json_str(c, "message")) != NULL)
		snprintf(r->message, sizeof(r->message), "%s", s);
	if (timefield != NULL && r->end_time[0] == '\0' &&
	    (s = lb_json_str(c, timefield)) != NULL)
		snprintf(r->end_time, sizeof(r->end_time), "%s", s);
}

void
lb_k8s_job_outcome(const cJSON *job, struct lb_k8s_outcome *r)
{
	const cJSON *c;
	const char *s;

	memset(r, 0, sizeof(*r));
	r->active = num(job, "status.active");
	r->ready = num(job, "status.ready");
	r->succeeded = num(job, "status.succeeded");
	r->failed = num(job, "status.failed");
	r->terminating = num(job, "status.terminating");
	if ((s = lb_json_str(job, "status.startTime")) != NULL)
		snprintf(r->start_time, sizeof(r->start_time), "%s", s);
	if ((s = lb_json_str(job, "status.completionTime")) != NULL)
		snprintf(r->end_time, sizeof(r->end_time), "%s", s);
	/* the order of k8s.md 2.6; never the last condition in the list */
	if ((c = cond(job, "Complete")) != NULL) {
		r->state = LB_K8S_COMPLETE;
		r->final = 1;
		take(c, r, "lastTransitionTime");
	} else if ((c = cond(job, "Failed")) != NULL) {
		r->state = LB_K8S_FAILED;
		r->final = 1;
		take(c, r, "lastTransitionTime");
	} else if ((c = cond(job, "FailureTarget")) != NULL) {
		r->state = LB_K8S_FAILED;
		take(c, r, NULL);
	} else if ((c = cond(job, "SuccessCriteriaMet")) != NULL) {
		r->state = LB_K8S_COMPLETE;
		take(c, r, NULL);
	} else if ((c = cond(job, "Suspended")) != NULL) {
		r->state = LB_K8S_SUSPENDED;
		take(c, r, NULL);
	} else
		r->state = r->ready > 0 ? LB_K8S_RUNNING : LB_K8S_PENDING;
}

int
lb_k8s_pod_stuck(const cJSON *pod, char *reason, size_t len, time_t *since)
{
	static const char *hopeless[] = { "ErrImagePull", "ImagePullBackOff",
	    "InvalidImageName", "CreateContainerConfigError",
	    "CreateContainerError", NULL };
	static const char *lists[] = { "status.initContainerStatuses",
	    "status.containerStatuses", NULL };
	const cJSON *l, *it;
	const char *phase = lb_json_str(pod, "status.phase"), *r, *t;
	int i, j;

	*since = 0;
	if (phase == NULL || strcmp(phase, "Pending") != 0)
		return phase != NULL && strcmp(phase, "Running") == 0 ? 2 : 0;
	if ((t = lb_json_str(pod, "metadata.creationTimestamp")) != NULL)
		*since = lb_k8s_time(t);
	if (*since == -1)
		*since = 0;
	for (i = 0; lists[i] != NULL; i++) {
		l = lb_json_path(pod, lists[i]);
		cJSON_ArrayForEach(it, arr(l)) {
			r = lb_json_str(it, "state.waiting.reason");
			for (j = 0; r != NULL && hopeless[j] != NULL; j++)
				if (strcmp(r, hopeless[j]) == 0) {
					snprintf(reason, len, "%s", r);
					return 1;
				}
		}
	}
	l = lb_json_path(pod, "status.conditions");
	cJSON_ArrayForEach(it, arr(l)) {
		if ((t = lb_json_str(it, "type")) == NULL ||
		    strcmp(t, "PodScheduled") != 0)
			continue;
		if ((t = lb_json_str(it, "status")) != NULL &&
		    strcmp(t, "False") == 0 &&
		    (r = lb_json_str(it, "reason")) != NULL &&
		    strcmp(r, "Unschedulable") == 0) {
			snprintf(reason, len, "%s", r);
			return 1;
		}
	}
	return 0;
}

void
lb_k8s_outcome_json(const struct lb_k8s_outcome *r, cJSON *o)
{
	lb_json_set_str(o, "state", lb_k8s_state_name(r->state));
	lb_json_set(o, "final", cJSON_CreateBool(r->final));
	lb_json_set(o, "reason", r->reason[0] ? cJSON_CreateString(r->reason) :
	    cJSON_CreateNull());
	if (r->message[0] != '\0')
		lb_json_set_str(o, "message", r->message);
	lb_json_set(o, "active", cJSON_CreateNumber((double)r->active));
	lb_json_set(o, "succeeded", cJSON_CreateNumber((double)r->succeeded));
	lb_json_set(o, "failed", cJSON_CreateNumber((double)r->failed));
	lb_json_set(o, "start_time", r->start_time[0] ?
	    cJSON_CreateString(r->start_time) : cJSON_CreateNull());
	lb_json_set(o, "end_time", r->end_time[0] ?
	    cJSON_CreateString(r->end_time) : cJSON_CreateNull());
	if (r->container[0] != '\0')
		lb_json_set_str(o, "container", r->container);
	if (r->state == LB_K8S_STUCK)
		lb_json_set(o, "pending_seconds",
		    cJSON_CreateNumber((double)r->pending_seconds));
}
