/*
 * s3.c: the S3 engine.  Listing, transfers, deletes and sync over the
 * REST API, signed by aws.c, XML answers read with expat.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <expat.h>
#include <openssl/evp.h>

#include "s3.h"

#define XML_DEPTH	16
#define XML_TEXT_MAX	(1u << 20)
#define WALK_DEPTH	64
#define TMP_TAG		".lb-s3-"
#define SMALL_FILE	(1LL << 20)	/* uploaded from memory */

struct conn {
	struct lb_http	*http;
	struct lb_aws	*aws;
	struct conn	*next;
};

struct lb_s3 {
	struct lb_s3_opts	 o;
	struct lb_http_opts	 hopts;
	int			 has_hopts;
	pthread_mutex_t		 mu;	/* the connection pool */
	struct conn		*idle;
	pthread_mutex_t		 evmu;	/* sync events and counts */
	char			*base;	/* endpoint, no trailing slash */
	int			 pathstyle;
	mode_t			 fmode;	/* of downloaded files */
};

/* Connections */

static struct conn *
conn_get(struct lb_s3 *s3, struct lb_err *err)
{
	struct conn *c;

	pthread_mutex_lock(&s3->mu);
	if ((c = s3->idle) != NULL)
		s3->idle = c->next;
	pthread_mutex_unlock(&s3->mu);
	if (c != NULL)
		return c;
	c = lb_xmalloc(sizeof(*c));
	c->next = NULL;
	if ((c->http = lb_http_new(s3->has_hopts ? &s3->hopts : NULL)) ==
	    NULL) {
		free(c);
		lb_err_set(err, LB_EFAIL, 0, "cannot make an HTTP handle");
		return NULL;
	}
	if ((c->aws = lb_aws_new(c->http, err)) == NULL) {
		lb_http_free(c->http);
		free(c);
		return NULL;
	}
	return c;
}

static void
conn_put(struct lb_s3 *s3, struct conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&s3->mu);
	c->next = s3->idle;
	s3->idle = c;
	pthread_mutex_unlock(&s3->mu);
}

struct lb_s3 *
lb_s3_new(const struct lb_s3_opts *o, struct lb_err *err)
{
	struct lb_s3 *s3;
	struct conn *c;

	/* before any thread makes a curl handle */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s3 = lb_xmalloc(sizeof(*s3));
	memset(s3, 0, sizeof(*s3));
	if (o != NULL)
		s3->o = *o;
	if (o != NULL && o->http != NULL) {
		s3->hopts = *o->http;
		s3->has_hopts = 1;
	}
	s3->o.http = NULL;
	if (s3->o.threshold <= 0)
		s3->o.threshold = LB_S3_PART_DEFAULT;
	if (s3->o.part_size <= 0)
		s3->o.part_size = LB_S3_PART_DEFAULT;
	if (s3->o.part_size < LB_S3_PART_MIN)
		s3->o.part_size = LB_S3_PART_MIN;
	if (s3->o.jobs <= 0)
		s3->o.jobs = 8;
	if (s3->o.page_size <= 0 || s3->o.page_size > 1000)
		s3->o.page_size = 1000;
	pthread_mutex_init(&s3->mu, NULL);
	pthread_mutex_init(&s3->evmu, NULL);
	s3->fmode = umask(022);
	umask(s3->fmode);
	s3->fmode = 0666 & ~s3->fmode;
	if ((c = conn_get(s3, err)) == NULL) {
		lb_s3_free(s3);
		return NULL;
	}
	s3->base = lb_aws_endpoint(c->aws, "s3");
	s3->pathstyle = lb_aws_custom_endpoint(c->aws, "s3");
	conn_put(s3, c);
	if (s3->base == NULL) {
		lb_err_set(err, LB_EUSAGE, 0, "no S3 endpoint");
		lb_s3_free(s3);
		return NULL;
	}
	while (s3->base[0] != '\0' && s3->base[strlen(s3->base) - 1] == '/')
		s3->base[strlen(s3->base) - 1] = '\0';
	return s3;
}

void
lb_s3_free(struct lb_s3 *s3)
{
	struct conn *c, *next;

	if (s3 == NULL)
		return;
	for (c = s3->idle; c != NULL; c = next) {
		next = c->next;
		lb_aws_free(c->aws);
		lb_http_free(c->http);
		free(c);
	}
	pthread_mutex_destroy(&s3->mu);
	pthread_mutex_destroy(&s3->evmu);
	free(s3->base);
	free(s3);
	curl_global_cleanup();
}

int
lb_s3_parse_url(const char *url, char **bucket, char **key,
    struct lb_err *err)
{
	const char *b, *slash;

	*bucket = *key = NULL;
	if (strncmp(url, "s3://", 5) != 0)
		return lb_err_set(err, LB_EUSAGE, 0, "%s: not an s3:// URL",
		    url);
	b = url + 5;
	slash = strchr(b, '/');
	if (slash == b || *b == '\0')
		return lb_err_set(err, LB_EUSAGE, 0, "%s: no bucket", url);
	if (slash == NULL) {
		*bucket = lb_xstrdup(b);
		*key = lb_xstrdup("");
	} else {
		*bucket = lb_xasprintf("%.*s", (int)(slash - b), b);
		*key = lb_xstrdup(slash + 1);
	}
	return 0;
}

/* URLs */

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static void
pct(struct lb_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', hex[c >> 4], hex[c & 15] };

	lb_buf_add(b, e, 3);
}

/*
 * A key as a URL path: everything but unreserved bytes and '/' is
 * escaped, and so are the dots of "." and ".." segments, which curl
 * would otherwise squash.
 */
static void
enc_key(struct lb_buf *b, const char *key)
{
	const unsigned char *p = (const unsigned char *)key, *seg = p;
	size_t sl;

	for (;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		sl = (size_t)(p - seg);
		if ((sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
			pct(b, '.');
			if (sl == 2)
				pct(b, '.');
		} else
			for (; seg < p; seg++)
				if (unreserved(*seg))
					lb_buf_add(b, seg, 1);
				else
					pct(b, *seg);
		if (*p == '\0')
			break;
		lb_buf_add(b, "/", 1);
		seg = p + 1;
	}
}

static void
enc_query(struct lb_buf *b, const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p; p++)
		if (unreserved(*p))
			lb_buf_add(b, p, 1);
		else
			pct(b, *p);
}

/* URL of bucket (key NULL) or of an object, query already encoded. */
static char *
url_for(const struct lb_s3 *s3, const char *bucket, const char *key,
    const char *query)
{
	struct lb_buf b = { 0 };
	const char *host;
	size_t sl;

	if (s3->pathstyle || strchr(bucket, '.') != NULL ||
	    (host = strstr(s3->base, "://")) == NULL) {
		lb_buf_puts(&b, s3->base);
		lb_buf_puts(&b, "/");
		enc_query(&b, bucket);
		if (key != NULL) {
			lb_buf_puts(&b, "/");
			enc_key(&b, key);
		}
	} else {
		host += 3;
		sl = (size_t)(host - s3->base);
		lb_buf_add(&b, s3->base, sl);
		enc_query(&b, bucket);
		lb_buf_puts(&b, ".");
		lb_buf_puts(&b, host);
		lb_buf_puts(&b, "/");
		if (key != NULL)
			enc_key(&b, key);
	}
	if (query != NULL) {
		lb_buf_puts(&b, "?");
		lb_buf_puts(&b, query);
	}
	lb_buf_add(&b, "", 0);
	return b.p;
}

/* XML */

typedef void (*xml_fn)(void *arg, int start, int depth,
    const char *const *names, const char *text, size_t len);

struct xml {
	XML_Parser	 p;
	xml_fn		 fn;
	void		*arg;
	int		 depth;
	const char	*names[XML_DEPTH + 1];
	char		*owned[XML_DEPTH + 1];
	struct lb_buf	 text;
	int		 toolong;
	int		 dtd;
};

/* Local name: drop a namespace prefix. */
static const char *
local_name(const char *n)
{
	const char *c = strrchr(n, ':');

	return c != NULL ? c + 1 : n;
}

static void XMLCALL
xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml *x = arg;

	x->depth++;
	x->text.len = 0;
	if (x->text.p != NULL)
		x->text.p[0] = '\0';
	if (x->depth > XML_DEPTH)
		return;
	x->owned[x->depth] = lb_xstrdup(local_name(name));
	x->names[x->depth] = x->owned[x->depth];
	x->fn(x->arg, 1, x->depth, x->names, NULL, 0);
}

static void XMLCALL
xml_end(void *arg, const XML_Char *name)
{
	struct xml *x = arg;

	if (x->depth <= XML_DEPTH) {
		lb_buf_add(&x->text, "", 0);
		x->fn(x->arg, 0, x->depth, x->names, x->text.p, x->text.len);
		free(x->owned[x->depth]);
		x->owned[x->depth] = NULL;
		x->names[x->depth] = NULL;
	}
	x->depth--;
	x->text.len = 0;
	if (x->text.p != NULL)
		x->text.p[0] = '\0';
}

static void XMLCALL
xml_chars(void *arg, const XML_Char *s, int len)
{
	struct xml *x = arg;

	if (x->text.len + (size_t)len > XML_TEXT_MAX) {
		x->toolong = 1;
		XML_StopParser(x->p, XML_FALSE);
		return;
	}
	lb_buf_add(&x->text, s, (size_t)len);
}

/* S3 never sends a DTD: refuse any, and with it entity games. */
static void XMLCALL
xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int internal)
{
	struct xml *x = arg;

	x->dtd = 1;
	XML_StopParser(x->p, XML_FALSE);
}

static int
xml_parse(const char *buf, size_t len, xml_fn fn, void *arg,
    struct lb_err *err)
{
	struct xml x;
	int rc = 0, i;

	memset(&x, 0, sizeof(x));
	x.fn = fn;
	x.arg = arg;
	if (len > INT_MAX)
		return lb_err_set(err, LB_EFAIL, 0, "XML answer too large");
	if ((x.p = XML_ParserCreate("UTF-8")) == NULL)
		abort();
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xml_start, xml_end);
	XML_SetCharacterDataHandler(x.p, xml_chars);
	XML_SetStartDoctypeDeclHandler(x.p, xml_doctype);
	if (XML_Parse(x.p, buf, (int)len, 1) != XML_STATUS_OK) {
		if (x.dtd)
			lb_err_set(err, LB_EFAIL, 0, "XML answer has a DTD");
		else if (x.toolong)
			lb_err_set(err, LB_EFAIL, 0, "XML text too long");
		else
			lb_err_set(err, LB_EFAIL, 0, "bad XML answer: line "
			    "%lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(x.p),
			    XML_ErrorString(XML_GetErrorCode(x.p)));
		rc = -1;
	}
	for (i = 0; i <= XML_DEPTH; i++)
		free(x.owned[i]);
	lb_buf_free(&x.text);
	XML_ParserFree(x.p);
	return rc;
}

/* The text of the first parent/name element, and the root's name. */
struct find {
	const char	*parent, *name;
	char		*found;
	char		 root[64];
};

static void
find_fn(void *arg, int start, int depth, const char *const *names,
    const char *text, size_t len)
{
	struct find *f = arg;

	if (start && depth == 1)
		snprintf(f->root, sizeof(f->root), "%s", names[1]);
	if (start || depth < 2 || f->found != NULL)
		return;
	if (strcmp(names[depth], f->name) == 0 &&
	    (f->parent == NULL || strcmp(names[depth - 1], f->parent) == 0))
		f->found = lb_xstrdup(text);
}

static char *
xml_find(const char *xml, size_t len, const char *parent, const char *name,
    char root[64], struct lb_err *err)
{
	struct find f = { parent, name, NULL, "" };

	if (xml_parse(xml, len, find_fn, &f, err) == -1) {
		free(f.found);
		return NULL;
	}
	if (root != NULL)
		memcpy(root, f.root, 64);
	if (f.found == NULL)
		lb_err_set(err, LB_EFAIL, 0, "no %s in the answer", name);
	return f.found;
}

struct errdoc {
	int		 is_error;
	char		 code[96];
	struct lb_buf	 msg;
};

static void
err_fn(void *arg, int start, int depth, const char *const *names,
    const char *text, size_t len)
{
	struct errdoc *e = arg;

	if (start && depth == 1 && (strcmp(names[1], "Error") == 0 ||
	    strcmp(names[1], "ErrorResponse") == 0))
		e->is_error = 1;
	if (start || depth < 2 || strcmp(names[depth - 1], "Error") != 0)
		return;
	if (strcmp(names[depth], "Code") == 0 && e->code[0] == '\0')
		snprintf(e->code, sizeof(e->code), "%s", text);
	else if (strcmp(names[depth], "Message") == 0 && e->msg.len == 0)
		lb_buf_add(&e->msg, text, len > 512 ? 512 : len);
}

int
lb_s3_xml_error(const char *xml, size_t len, long status, struct lb_err *err)
{
	struct errdoc e;
	struct lb_err perr;

	memset(&e, 0, sizeof(e));
	if (xml == NULL || len == 0 ||
	    xml_parse(xml, len, err_fn, &e, &perr) == -1 || !e.is_error) {
		lb_buf_free(&e.msg);
		return 0;
	}
	lb_err_set(err, status >= 300 ? lb_http_kind(status) :
	    (strcmp(e.code, "InternalError") == 0 ||
	    strcmp(e.code, "SlowDown") == 0 ? LB_ETEMP : LB_EFAIL), status,
	    "%s%s%s", e.code[0] ? e.code : "error", e.msg.len ? ": " : "",
	    e.msg.len ? e.msg.p : "");
	snprintf(err->code, sizeof(err->code), "%s", e.code);
	lb_buf_free(&e.msg);
	return 1;
}

/* ListObjectsV2 */

struct entry {
	char		*key;
	int		 is_prefix;
	long long	 size;
	char		 etag[72];
	char		 lm[40];
};

struct listdoc {
	struct entry	*v;
	size_t		 n, cap;
	struct entry	 cur;
	int		 root_ok, truncated, urlenc, bad;
	char		*next;
};

static void
strip_quotes(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	} else if (n >= 12 && strncmp(s, "&quot;", 6) == 0) {
		s += 6;
		n -= 12;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
list_fn(void *arg, int start, int depth, const char *const *names,
    const char *text, size_t len)
{
	struct listdoc *d = arg;
	const char *n = names[depth];
	long v;

	if (depth == 1) {
		if (start && strcmp(n, "ListBucketResult") == 0)
			d->root_ok = 1;
		return;
	}
	if (!d->root_ok)
		return;
	if (depth == 2) {
		if (start && (strcmp(n, "Contents") == 0 ||
		    strcmp(n, "CommonPrefixes") == 0)) {
			free(d->cur.key);
			memset(&d->cur, 0, sizeof(d->cur));
			d->cur.is_prefix = n[0] == 'C' && n[1] == 'o' &&
			    n[2] == 'm';
			d->cur.size = -1;
		} else if (!start && (strcmp(n, "Contents") == 0 ||
		    strcmp(n, "CommonPrefixes") == 0)) {
			if (d->cur.key == NULL || (!d->cur.is_prefix &&
			    d->cur.size < 0)) {
				d->bad = 1;
				return;
			}
			if (d->n == d->cap) {
				d->cap = d->cap ? d->cap * 2 : 64;
				d->v = lb_xrealloc(d->v,
				    d->cap * sizeof(*d->v));
			}
			d->v[d->n++] = d->cur;
			memset(&d->cur, 0, sizeof(d->cur));
		} else if (!start && strcmp(n, "IsTruncated") == 0)
			d->truncated = strcmp(text, "true") == 0;
		else if (!start && strcmp(n, "NextContinuationToken") == 0) {
			free(d->next);
			d->next = lb_xstrdup(text);
		} else if (!start && strcmp(n, "EncodingType") == 0)
			d->urlenc = strcmp(text, "url") == 0;
		return;
	}
	if (start || depth != 3)
		return;
	if (strcmp(names[2], "Contents") == 0) {
		if (strcmp(n, "Key") == 0) {
			free(d->cur.key);
			d->cur.key = lb_xstrdup(text);
		} else if (strcmp(n, "Size") == 0) {
			if (lb_util_strtol(text, 0, LONG_MAX, &v) == -1)
				d->bad = 1;
			else
				d->cur.size = v;
		} else if (strcmp(n, "ETag") == 0)
			strip_quotes(d->cur.etag, sizeof(d->cur.etag), text);
		else if (strcmp(n, "LastModified") == 0)
			snprintf(d->cur.lm, sizeof(d->cur.lm), "%s", text);
	} else if (strcmp(names[2], "CommonPrefixes") == 0 &&
	    strcmp(n, "Prefix") == 0) {
		free(d->cur.key);
		d->cur.key = lb_xstrdup(text);
	}
	(void)len;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* EncodingType=url: %XX and '+' for a space (what botocore undoes). */
static void
url_decode(char *s)
{
	char *w = s;
	int h, l;

	for (; *s; s++) {
		if (*s == '+')
			*w++ = ' ';
		else if (*s == '%' && (h = hexval(s[1])) >= 0 &&
		    (l = hexval(s[2])) >= 0) {
			*w++ = (char)(h * 16 + l);
			s += 2;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

static time_t
parse_iso(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi,
	    &sec) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

int
lb_s3_xml_list(const char *xml, size_t len, lb_s3_list_fn fn, void *arg,
    char **next, struct lb_err *err)
{
	struct listdoc d;
	struct lb_s3_obj o;
	size_t i;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	*next = NULL;
	if (xml_parse(xml, len, list_fn, &d, err) == -1)
		rc = -1;
	else if (!d.root_ok) {
		if (lb_s3_xml_error(xml, len, 200, err) == 0)
			lb_err_set(err, LB_EFAIL, 0, "not a ListObjectsV2 "
			    "answer");
		rc = -1;
	} else if (d.bad)
		rc = lb_err_set(err, LB_EFAIL, 0, "ListObjectsV2 answer "
		    "with an entry lacking Key or Size");
	else if (d.truncated && (d.next == NULL || d.next[0] == '\0'))
		rc = lb_err_set(err, LB_EFAIL, 0, "truncated listing "
		    "without a continuation token");
	for (i = 0; i < d.n; i++) {
		if (rc == 0) {
			if (d.urlenc)
				url_decode(d.v[i].key);
			memset(&o, 0, sizeof(o));
			o.key = d.v[i].key;
			o.is_prefix = d.v[i].is_prefix;
			o.size = d.v[i].is_prefix ? 0 : d.v[i].size;
			memcpy(o.etag, d.v[i].etag, sizeof(o.etag));
			memcpy(o.last_modified, d.v[i].lm,
			    sizeof(o.last_modified));
			o.mtime = parse_iso(o.last_modified);
			if (fn != NULL && fn(arg, &o, err) == -1)
				rc = -1;
		}
		free(d.v[i].key);
	}
	free(d.v);
	free(d.cur.key);
	if (rc == 0 && d.truncated)
		*next = d.next;
	else
		free(d.next);
	return rc;
}

/* Requests */

struct call {
	const char	*method;
	const char	*url;
	const char	*const *headers;
	const void	*body;
	size_t		 bodylen;
	FILE		*upload;
	long long	 uploadoff, uploadlen;
	FILE		*download;
};

/* Read back (a bounded part of) an error answer written to a file. */
static char *
slurp_download(FILE *f, size_t *lenp)
{
	struct lb_buf b = { 0 };
	char chunk[4096];
	size_t n;

	fflush(f);
	rewind(f);
	while (b.len < 65536 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		lb_buf_add(&b, chunk, n);
	lb_buf_add(&b, "", 0);
	*lenp = b.len;
	return b.p;
}

/*
 * Perform a signed request; on an error answer err gets S3's Code and
 * Message.  what prefixes messages ("s3://b/k").  Returns 0 on 2xx.
 */
static int
s3_call(struct conn *c, const struct call *k, struct lb_http_resp *resp,
    const char *what, struct lb_err *err)
{
	struct lb_http_req req;
	char *body;
	size_t len;
	int rc;

	memset(&req, 0, sizeof(req));
	req.method = k->method;
	req.url = k->url;
	req.headers = k->headers;
	req.body = k->body;
	req.bodylen = k->bodylen;
	req.upload = k->upload;
	req.uploadoff = k->uploadoff;
	req.uploadlen = k->uploadlen;
	req.download = k->download;
	rc = lb_aws_request(c->aws, "s3", &req, resp, err);
	if (rc == 0 && resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status >= 300) {
		if (k->download != NULL) {
			body = slurp_download(k->download, &len);
			if (lb_s3_xml_error(body, len, resp->status, err) == 0)
				lb_err_set(err, lb_http_kind(resp->status),
				    resp->status, "HTTP %ld", resp->status);
			free(body);
		} else if (lb_s3_xml_error(resp->body.p, resp->body.len,
		    resp->status, err) == 0) {
			if (resp->status == 404)
				lb_err_set(err, LB_EFAIL, 404, "not found "
				    "(HTTP 404)");
			else
				lb_err_set(err, lb_http_kind(resp->status),
				    resp->status, "HTTP %ld%s", resp->status,
				    resp->attempts > 1 ? " after retries" :
				    "");
		}
		if (resp->attempts > 1 && err->kind == LB_ETEMP &&
		    strstr(err->msg, "attempts") == NULL) {
			size_t l = strlen(err->msg);

			snprintf(err->msg + l, sizeof(err->msg) - l,
			    " (after %d attempts)", resp->attempts);
		}
	} else if (rc == 0)
		lb_err_set(err, LB_EFAIL, resp->status, "HTTP %ld",
		    resp->status);
	if (what != NULL)
		lb_err_prefix(err, "%s", what);
	return -1;
}

static void
etag_from(const struct lb_http_resp *resp, struct lb_s3_obj *out)
{
	char *v;

	if (out == NULL)
		return;
	if ((v = lb_http_header(resp, "ETag")) != NULL) {
		strip_quotes(out->etag, sizeof(out->etag), v);
		free(v);
	}
}

static char *
what_of(const char *bucket, const char *key)
{
	return lb_xasprintf("s3://%s/%s", bucket, key ? key : "");
}

/* Listing */

int
lb_s3_list(struct lb_s3 *s3, const char *bucket, const char *prefix,
    const char *delim, lb_s3_list_fn fn, void *arg, struct lb_err *err)
{
	struct lb_http_resp resp;
	struct lb_buf q = { 0 };
	struct call k;
	struct conn *c;
	char *next = NULL, *url, *what;
	int rc = 0;

	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	what = what_of(bucket, prefix);
	do {
		/* parameters in sorted order, as the signature wants */
		q.len = 0;
		lb_buf_add(&q, "", 0);
		if (next != NULL) {
			lb_buf_puts(&q, "continuation-token=");
			enc_query(&q, next);
			lb_buf_puts(&q, "&");
		}
		if (delim != NULL && *delim != '\0') {
			lb_buf_puts(&q, "delimiter=");
			enc_query(&q, delim);
			lb_buf_puts(&q, "&");
		}
		lb_buf_puts(&q, "encoding-type=url&list-type=2");
		lb_buf_printf(&q, "&max-keys=%d", s3->o.page_size);
		if (prefix != NULL && *prefix != '\0') {
			lb_buf_puts(&q, "&prefix=");
			enc_query(&q, prefix);
		}
		free(next);
		next = NULL;
		url = url_for(s3, bucket, NULL, q.p);
		memset(&k, 0, sizeof(k));
		k.method = "GET";
		k.url = url;
		rc = s3_call(c, &k, &resp, what, err);
		free(url);
		if (rc == 0 && lb_s3_xml_list(resp.body.p, resp.body.len, fn,
		    arg, &next, err) == -1) {
			lb_err_prefix(err, "%s", what);
			rc = -1;
		}
		lb_http_resp_free(&resp);
	} while (rc == 0 && next != NULL);
	free(next);
	free(what);
	lb_buf_free(&q);
	conn_put(s3, c);
	return rc;
}

/* Downloads */

static time_t
parse_http_date(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%a, %d %b %Y %H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static int
get_to(struct conn *c, struct lb_s3 *s3, const char *bucket,
    const char *key, FILE *f, struct lb_s3_obj *out, struct lb_err *err)
{
	struct lb_http_resp resp;
	struct call k;
	char *url, *what, *v;
	int rc;

	url = url_for(s3, bucket, key, NULL);
	what = what_of(bucket, key);
	memset(&k, 0, sizeof(k));
	k.method = "GET";
	k.url = url;
	k.download = f;
	rc = s3_call(c, &k, &resp, what, err);
	if (rc == 0 && fflush(f) != 0)
		rc = lb_err_set(err, LB_EFAIL, 0, "%s: write: %s", what,
		    strerror(errno));
	if (rc == 0 && out != NULL) {
		memset(out, 0, sizeof(*out));
		out->key = key;
		etag_from(&resp, out);
		out->size = ftello(f);
		if ((v = lb_http_header(&resp, "Last-Modified")) != NULL) {
			out->mtime = parse_http_date(v);
			snprintf(out->last_modified,
			    sizeof(out->last_modified), "%s", v);
			free(v);
		}
	}
	lb_http_resp_free(&resp);
	free(url);
	free(what);
	return rc;
}

/* A temporary file next to path: DIR/.NAME.lb-s3-XXXXXX */
static FILE *
tmp_near(const char *path, char **tmpp, struct lb_err *err)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *tmp;
	FILE *f;
	int fd;

	tmp = lb_xasprintf("%.*s.%.100s" TMP_TAG "XXXXXX",
	    slash ? (int)(slash - path + 1) : 0, path, name);
	if ((fd = mkstemp(tmp)) == -1) {
		lb_err_set(err, LB_EFAIL, 0, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	if ((f = fdopen(fd, "w+b")) == NULL) {
		lb_err_set(err, LB_EFAIL, 0, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	*tmpp = tmp;
	return f;
}

static int
get_file_c(struct conn *c, struct lb_s3 *s3, const char *bucket,
    const char *key, const char *path, struct lb_s3_obj *out,
    struct lb_err *err)
{
	struct lb_s3_obj o;
	struct timeval tv[2];
	char *tmp;
	FILE *f;
	int rc;

	if ((f = tmp_near(path, &tmp, err)) == NULL)
		return -1;
	rc = get_to(c, s3, bucket, key, f, &o, err);
	if (fclose(f) != 0 && rc == 0)
		rc = lb_err_set(err, LB_EFAIL, 0, "%s: %s", tmp,
		    strerror(errno));
	if (rc == 0) {
		chmod(tmp, s3->fmode);
		if (o.mtime > 0) {
			tv[0].tv_sec = tv[1].tv_sec = o.mtime;
			tv[0].tv_usec = tv[1].tv_usec = 0;
			utimes(tmp, tv);
		}
		if (rename(tmp, path) == -1)
			rc = lb_err_set(err, LB_EFAIL, 0, "%s: %s", path,
			    strerror(errno));
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	if (rc == 0 && out != NULL)
		*out = o;
	return rc;
}

int
lb_s3_get_file(struct lb_s3 *s3, const char *bucket, const char *key,
    const char *path, struct lb_s3_obj *out, struct lb_err *err)
{
	struct conn *c;
	int rc;

	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	rc = get_file_c(c, s3, bucket, key, path, out, err);
	conn_put(s3, c);
	return rc;
}

static int
copy_stream(FILE *from, FILE *to)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			return -1;
	if (ferror(from) || fflush(to) != 0)
		return -1;
	return 0;
}

int
lb_s3_get_fp(struct lb_s3 *s3, const char *bucket, const char *key,
    FILE *to, struct lb_s3_obj *out, struct lb_err *err)
{
	struct conn *c;
	FILE *f;
	int rc;

	if ((f = tmpfile()) == NULL)
		return lb_err_set(err, LB_EFAIL, 0, "temporary file: %s",
		    strerror(errno));
	if ((c = conn_get(s3, err)) == NULL) {
		fclose(f);
		return -1;
	}
	rc = get_to(c, s3, bucket, key, f, out, err);
	conn_put(s3, c);
	if (rc == 0) {
		rewind(f);
		if (copy_stream(f, to) == -1)
			rc = lb_err_set(err, LB_EFAIL, 0, "write: %s",
			    strerror(errno));
	}
	fclose(f);
	return rc;
}

/* Parallel tasks */

typedef int (*task_fn)(struct lb_s3 *, struct conn *, void *arg,
    size_t i, struct lb_err *);

struct run {
	struct lb_s3	*s3;
	task_fn		 fn;
	void		*arg;
	size_t		 n, next;
	int		 stop_on_fail, failed, status;
	struct lb_err	 err;
	pthread_mutex_t	 mu;
};

static void
run_failed(struct run *r, const struct lb_err *e)
{
	pthread_mutex_lock(&r->mu);
	if (r->failed++ == 0)
		r->err = *e;
	lb_err_fold(&r->status, e->kind);
	pthread_mutex_unlock(&r->mu);
}

static void *
run_thread(void *arg)
{
	struct run *r = arg;
	struct conn *c;
	struct lb_err e;
	size_t i;

	memset(&e, 0, sizeof(e));
	if ((c = conn_get(r->s3, &e)) == NULL) {
		run_failed(r, &e);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (r->next >= r->n || (r->stop_on_fail && r->failed)) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		i = r->next++;
		pthread_mutex_unlock(&r->mu);
		lb_err_clear(&e);
		if (r->fn(r->s3, c, r->arg, i, &e) == -1)
			run_failed(r, &e);
	}
	conn_put(r->s3, c);
	return NULL;
}

/*
 * Run fn for 0..n-1 on up to jobs threads, each with its own
 * connection (c is used when running in the calling thread).
 * Returns the number of failed tasks; err gets the first failure
 * with the folded kind.
 */
static int
run_parallel(struct lb_s3 *s3, struct conn *c, int jobs, size_t n,
    task_fn fn, void *arg, int stop_on_fail, struct lb_err *err)
{
	struct run r;
	pthread_t *th;
	size_t nth, i, started = 0;

	memset(&r, 0, sizeof(r));
	r.s3 = s3;
	r.fn = fn;
	r.arg = arg;
	r.n = n;
	r.stop_on_fail = stop_on_fail;
	pthread_mutex_init(&r.mu, NULL);
	nth = jobs < 1 ? 1 : (size_t)jobs;
	if (nth > n)
		nth = n;
	if (nth <= 1 && c != NULL) {
		for (i = 0; i < n; i++) {
			lb_err_clear(&r.err);
			if (fn(s3, c, arg, i, &r.err) == -1) {
				if (r.failed++ == 0)
					*err = r.err;
				lb_err_fold(&r.status, r.err.kind);
				if (stop_on_fail)
					break;
			}
		}
		if (r.failed)
			err->kind = r.status;
		pthread_mutex_destroy(&r.mu);
		return r.failed;
	}
	th = lb_xmalloc(nth * sizeof(*th));
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, run_thread, &r) == 0)
			started++;
		else
			break;
	if (started == 0) {
		/* no threads to be had: do it here */
		free(th);
		pthread_mutex_destroy(&r.mu);
		if (c != NULL)
			return run_parallel(s3, c, 1, n, fn, arg,
			    stop_on_fail, err);
		lb_err_set(err, LB_ETEMP, 0, "cannot start threads");
		return (int)n;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (r.failed) {
		*err = r.err;
		err->kind = r.status;
	}
	pthread_mutex_destroy(&r.mu);
	return r.failed;
}

/* Uploads */

/*
 * A window [off, off + len) of a file as a stream of its own: the
 * uploader may read as far as it likes and still sends only the part
 * (or, for a file that grows meanwhile, only the size announced).
 */
struct window {
	int	fd;
	off_t	off, len, pos;
};

static ssize_t
win_read(void *arg, char *buf, size_t n)
{
	struct window *w = arg;
	ssize_t r;

	if (w->pos >= w->len)
		return 0;
	if ((off_t)n > w->len - w->pos)
		n = (size_t)(w->len - w->pos);
	if ((r = pread(w->fd, buf, n, w->off + w->pos)) > 0)
		w->pos += r;
	return r;
}

static int
win_seek(void *arg, off64_t *to, int whence)
{
	struct window *w = arg;
	off_t pos;

	switch (whence) {
	case SEEK_SET:
		pos = *to;
		break;
	case SEEK_CUR:
		pos = w->pos + *to;
		break;
	case SEEK_END:
		pos = w->len + *to;
		break;
	default:
		return -1;
	}
	if (pos < 0 || pos > w->len)
		return -1;
	w->pos = pos;
	*to = pos;
	return 0;
}

static int
win_close(void *arg)
{
	struct window *w = arg;
	int rc = close(w->fd);

	free(w);
	return rc;
}

static FILE *
window_open(const char *path, long long off, long long len,
    struct lb_err *err)
{
	cookie_io_functions_t io = { win_read, NULL, win_seek, win_close };
	struct window *w;
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		lb_err_set(err, LB_EFAIL, 0, "%s: %s", path, strerror(errno));
		return NULL;
	}
	w = lb_xmalloc(sizeof(*w));
	w->fd = fd;
	w->off = (off_t)off;
	w->len = (off_t)len;
	w->pos = 0;
	if ((f = fopencookie(w, "rb", io)) == NULL) {
		lb_err_set(err, LB_EFAIL, 0, "%s: %s", path, strerror(errno));
		close(fd);
		free(w);
	}
	return f;
}

static int
put_single(struct conn *c, struct lb_s3 *s3, const char *bucket,
    const char *key, FILE *f, long long size, const void *mem,
    size_t memlen, const char *ctype, struct lb_s3_obj *out,
    struct lb_err *err)
{
	struct lb_http_resp resp;
	struct call k;
	char *url, *what, *ct;
	const char *hdrs[2];
	int rc;

	url = url_for(s3, bucket, key, NULL);
	what = what_of(bucket, key);
	ct = lb_xasprintf("Content-Type: %s",
	    ctype ? ctype : "application/octet-stream");
	hdrs[0] = ct;
	hdrs[1] = NULL;
	memset(&k, 0, sizeof(k));
	k.method = "PUT";
	k.url = url;
	k.headers = hdrs;
	if (f != NULL) {
		k.upload = f;
		k.uploadoff = 0;
		k.uploadlen = size;
	} else {
		/* an empty body still needs a pointer to be a body */
		k.body = mem != NULL ? mem : "";
		k.bodylen = memlen;
	}
	rc = s3_call(c, &k, &resp, what, err);
	if (rc == 0 && out != NULL) {
		memset(out, 0, sizeof(*out));
		out->key = key;
		out->size = f != NULL ? size : (long long)memlen;
		etag_from(&resp, out);
	}
	lb_http_resp_free(&resp);
	free(ct);
	free(url);
	free(what);
	return rc;
}

/* Part size for a file of this size: the configured one, grown so the
 * upload stays within 10000 parts. */
static long long
part_for(const struct lb_s3 *s3, long long size)
{
	long long ps = s3->o.part_size;

	while ((size + ps - 1) / ps > LB_S3_MAX_PARTS)
		ps *= 2;
	return ps;
}

struct mpu {
	const char	*bucket, *key, *path;
	char		*upload_id;
	long long	 size, psize;
	size_t		 nparts;
	char		(*etags)[72];
};

static char *
mpu_query(const char *upload_id, size_t part)
{
	struct lb_buf q = { 0 };

	lb_buf_add(&q, "", 0);
	if (part > 0)
		lb_buf_printf(&q, "partNumber=%zu&", part);
	lb_buf_puts(&q, "uploadId=");
	enc_query(&q, upload_id);
	return q.p;
}

static int
part_task(struct lb_s3 *s3, struct conn *c, void *arg, size_t i,
    struct lb_err *err)
{
	struct mpu *m = arg;
	struct lb_http_resp resp;
	struct lb_s3_obj o;
	struct call k;
	const char *hdrs[] = { "Content-Type: application/octet-stream",
	    NULL };
	char *q, *url, *what;
	long long off, len;
	FILE *f;
	int rc;

	off = (long long)i * m->psize;
	len = m->size - off < m->psize ? m->size - off : m->psize;
	if ((f = window_open(m->path, off, len, err)) == NULL)
		return -1;
	q = mpu_query(m->upload_id, i + 1);
	url = url_for(s3, m->bucket, m->key, q);
	what = lb_xasprintf("s3://%s/%s part %zu", m->bucket, m->key, i + 1);
	memset(&k, 0, sizeof(k));
	k.method = "PUT";
	k.url = url;
	k.headers = hdrs;
	k.upload = f;
	k.uploadoff = 0;
	k.uploadlen = len;
	rc = s3_call(c, &k, &resp, what, err);
	memset(&o, 0, sizeof(o));
	if (rc == 0) {
		etag_from(&resp, &o);
		if (o.etag[0] == '\0')
			rc = lb_err_set(err, LB_EFAIL, resp.status,
			    "%s: answer without an ETag", what);
		else
			memcpy(m->etags[i], o.etag, sizeof(o.etag));
	}
	lb_http_resp_free(&resp);
	fclose(f);
	free(q);
	free(url);
	free(what);
	return rc;
}

static void
mpu_abort(struct conn *c, struct lb_s3 *s3, struct mpu *m)
{
	struct lb_http_resp resp;
	struct lb_err e;
	struct call k;
	char *q, *url;

	q = mpu_query(m->upload_id, 0);
	url = url_for(s3, m->bucket, m->key, q);
	memset(&k, 0, sizeof(k));
	k.method = "DELETE";
	k.url = url;
	memset(&e, 0, sizeof(e));
	s3_call(c, &k, &resp, NULL, &e);
	lb_http_resp_free(&resp);
	free(q);
	free(url);
}

static int
put_multi(struct conn *c, struct lb_s3 *s3, const char *bucket,
    const char *key, const char *path, long long size, const char *ctype,
    int jobs, struct lb_s3_obj *out, struct lb_err *err)
{
	struct lb_http_resp resp;
	struct lb_buf x = { 0 };
	struct mpu m;
	struct call k;
	char *url, *what, *q, *ct, *etag = NULL, root[64];
	const char *hdrs[2], *xhdrs[] = { "Content-Type: application/xml",
	    NULL };
	size_t i;
	int rc;

	memset(&m, 0, sizeof(m));
	m.bucket = bucket;
	m.key = key;
	m.path = path;
	m.size = size;
	m.psize = part_for(s3, size);
	m.nparts = (size_t)((size + m.psize - 1) / m.psize);
	what = what_of(bucket, key);

	url = url_for(s3, bucket, key, "uploads=");
	ct = lb_xasprintf("Content-Type: %s",
	    ctype ? ctype : "application/octet-stream");
	hdrs[0] = ct;
	hdrs[1] = NULL;
	memset(&k, 0, sizeof(k));
	k.method = "POST";
	k.url = url;
	k.headers = hdrs;
	k.body = "";
	rc = s3_call(c, &k, &resp, what, err);
	free(url);
	free(ct);
	if (rc == 0 && (m.upload_id = xml_find(resp.body.p, resp.body.len,
	    NULL, "UploadId", NULL, err)) == NULL) {
		lb_err_prefix(err, "%s: starting a multipart upload", what);
		rc = -1;
	}
	lb_http_resp_free(&resp);
	if (rc == -1) {
		free(what);
		return -1;
	}

	m.etags = lb_xmalloc(m.nparts * sizeof(*m.etags));
	memset(m.etags, 0, m.nparts * sizeof(*m.etags));
	if (run_parallel(s3, c, jobs, m.nparts, part_task, &m, 1, err) > 0) {
		mpu_abort(c, s3, &m);
		rc = -1;
		goto out;
	}

	lb_buf_puts(&x, "<CompleteMultipartUpload xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < m.nparts; i++)
		lb_buf_printf(&x, "<Part><PartNumber>%zu</PartNumber>"
		    "<ETag>&quot;%s&quot;</ETag></Part>", i + 1, m.etags[i]);
	lb_buf_puts(&x, "</CompleteMultipartUpload>");
	q = mpu_query(m.upload_id, 0);
	url = url_for(s3, bucket, key, q);
	memset(&k, 0, sizeof(k));
	k.method = "POST";
	k.url = url;
	k.headers = xhdrs;
	k.body = x.p;
	k.bodylen = x.len;
	rc = s3_call(c, &k, &resp, what, err);
	free(q);
	free(url);
	/* a 200 answer may still carry an <Error> */
	if (rc == 0 && lb_s3_xml_error(resp.body.p, resp.body.len, 0,
	    err) == 1) {
		lb_err_prefix(err, "%s", what);
		rc = -1;
	}
	if (rc == 0 && (etag = xml_find(resp.body.p, resp.body.len, NULL,
	    "ETag", root, err)) == NULL) {
		lb_err_prefix(err, "%s: completing a multipart upload", what);
		rc = -1;
	}
	lb_http_resp_free(&resp);
	if (rc == -1)
		mpu_abort(c, s3, &m);
	else if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->key = key;
		out->size = size;
		strip_quotes(out->etag, sizeof(out->etag), etag);
	}
out:
	free(etag);
	lb_buf_free(&x);
	free(m.etags);
	free(m.upload_id);
	free(what);
	return rc;
}

static int
put_file_c(struct conn *c, struct lb_s3 *s3, const char *bucket,
    const char *key, const char *path, const char *ctype, int jobs,
    struct lb_s3_obj *out, struct lb_err *err)
{
	struct stat st;
	char *mem;
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL)
		return lb_err_set(err, LB_EFAIL, 0, "%s: %s", path,
		    strerror(errno));
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return lb_err_set(err, LB_EFAIL, 0, "%s: not a regular file",
		    path);
	}
	if (st.st_size >= s3->o.threshold && st.st_size > 0) {
		fclose(f);
		return put_multi(c, s3, bucket, key, path, st.st_size, ctype,
		    jobs, out, err);
	}
	if (st.st_size <= SMALL_FILE) {
		/* from memory: curl can resend it on a stale connection */
		mem = lb_xmalloc((size_t)st.st_size + 1);
		if (fread(mem, 1, (size_t)st.st_size, f) !=
		    (size_t)st.st_size) {
			free(mem);
			fclose(f);
			return lb_err_set(err, LB_EFAIL, 0, "%s: read error",
			    path);
		}
		fclose(f);
		rc = put_single(c, s3, bucket, key, NULL, 0, mem,
		    (size_t)st.st_size, ctype, out, err);
		free(mem);
		return rc;
	}
	fclose(f);
	if ((f = window_open(path, 0, st.st_size, err)) == NULL)
		return -1;
	rc = put_single(c, s3, bucket, key, f, st.st_size, NULL, 0, ctype,
	    out, err);
	fclose(f);
	return rc;
}

int
lb_s3_put_file(struct lb_s3 *s3, const char *bucket, const char *key,
    const char *path, const char *ctype, struct lb_s3_obj *out,
    struct lb_err *err)
{
	struct conn *c;
	int rc;

	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	rc = put_file_c(c, s3, bucket, key, path, ctype, s3->o.jobs, out,
	    err);
	conn_put(s3, c);
	return rc;
}

int
lb_s3_put_fp(struct lb_s3 *s3, const char *bucket, const char *key,
    FILE *from, const char *ctype, struct lb_s3_obj *out,
    struct lb_err *err)
{
	const char *tmpdir = getenv("TMPDIR");
	char *tmp;
	FILE *f;
	int fd, rc;

	tmp = lb_xasprintf("%s/lb-s3-XXXXXX",
	    tmpdir != NULL && *tmpdir ? tmpdir : "/tmp");
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "wb")) == NULL) {
		rc = lb_err_set(err, LB_EFAIL, 0, "%s: %s", tmp,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return rc;
	}
	rc = copy_stream(from, f);
	if (fclose(f) != 0 || rc == -1)
		rc = lb_err_set(err, LB_EFAIL, 0, "spooling the input: %s",
		    strerror(errno));
	else
		rc = lb_s3_put_file(s3, bucket, key, tmp, ctype, out, err);
	unlink(tmp);
	free(tmp);
	return rc;
}

int
lb_s3_put_mem(struct lb_s3 *s3, const char *bucket, const char *key,
    const void *p, size_t len, const char *ctype, struct lb_s3_obj *out,
    struct lb_err *err)
{
	struct conn *c;
	int rc;

	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	rc = put_single(c, s3, bucket, key, NULL, 0, p, len, ctype, out,
	    err);
	conn_put(s3, c);
	return rc;
}

/* Deletes */

int
lb_s3_delete(struct lb_s3 *s3, const char *bucket, const char *key,
    struct lb_err *err)
{
	struct lb_http_resp resp;
	struct conn *c;
	struct call k;
	char *url, *what;
	int rc;

	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	url = url_for(s3, bucket, key, NULL);
	what = what_of(bucket, key);
	memset(&k, 0, sizeof(k));
	k.method = "DELETE";
	k.url = url;
	rc = s3_call(c, &k, &resp, what, err);
	lb_http_resp_free(&resp);
	free(url);
	free(what);
	conn_put(s3, c);
	return rc;
}

static void
xml_escape(struct lb_buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			lb_buf_puts(b, "&amp;");
			break;
		case '<':
			lb_buf_puts(b, "&lt;");
			break;
		case '>':
			lb_buf_puts(b, "&gt;");
			break;
		case '"':
			lb_buf_puts(b, "&quot;");
			break;
		case '\'':
			lb_buf_puts(b, "&apos;");
			break;
		case '\r':
			lb_buf_puts(b, "&#13;");
			break;
		case '\n':
			lb_buf_puts(b, "&#10;");
			break;
		case '\t':
			lb_buf_puts(b, "&#9;");
			break;
		default:
			lb_buf_add(b, s, 1);
		}
}

struct deldoc {
	lb_s3_del_fn	 fn;
	void		*arg;
	const char	*bucket;
	char		*key, code[96];
	struct lb_buf	 msg;
	int		 root_ok, failed;
	struct lb_err	 first;
	size_t		 done;
};

static void
del_fn(void *arg, int start, int depth, const char *const *names,
    const char *text, size_t len)
{
	struct deldoc *d = arg;
	struct lb_err e;

	if (depth == 1) {
		if (start && strcmp(names[1], "DeleteResult") == 0)
			d->root_ok = 1;
		return;
	}
	if (!d->root_ok)
		return;
	if (depth == 2 && start) {
		free(d->key);
		d->key = NULL;
		d->code[0] = '\0';
		d->msg.len = 0;
		return;
	}
	if (depth == 2 && strcmp(names[2], "Deleted") == 0) {
		if (d->key != NULL) {
			d->done++;
			if (d->fn != NULL)
				d->fn(d->arg, d->key, NULL);
		}
		return;
	}
	if (depth == 2 && strcmp(names[2], "Error") == 0) {
		lb_buf_add(&d->msg, "", 0);
		memset(&e, 0, sizeof(e));
		lb_err_set(&e, strcmp(d->code, "InternalError") == 0 ||
		    strcmp(d->code, "SlowDown") == 0 ? LB_ETEMP : LB_EFAIL,
		    0, "s3://%s/%s: %s%s%s", d->bucket, d->key ? d->key : "",
		    d->code, d->msg.len ? ": " : "", d->msg.p);
		snprintf(e.code, sizeof(e.code), "%s", d->code);
		if (d->failed++ == 0)
			d->first = e;
		d->done++;
		if (d->fn != NULL)
			d->fn(d->arg, d->key ? d->key : "", &e);
		return;
	}
	if (depth != 3 || start)
		return;
	if (strcmp(names[3], "Key") == 0) {
		free(d->key);
		d->key = lb_xstrdup(text);
	} else if (strcmp(names[3], "Code") == 0)
		snprintf(d->code, sizeof(d->code), "%s", text);
	else if (strcmp(names[3], "Message") == 0) {
		d->msg.len = 0;
		lb_buf_add(&d->msg, text, len > 512 ? 512 : len);
	}
}

static void
md5_b64(const void *p, size_t n, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

int
lb_s3_delete_many(struct lb_s3 *s3, const char *bucket,
    const char *const *keys, size_t n, lb_s3_del_fn fn, void *arg,
    struct lb_err *err)
{
	struct lb_http_resp resp;
	struct lb_buf x = { 0 };
	struct deldoc d;
	struct conn *c;
	struct call k;
	struct lb_err e;
	char md5[32], *md5h, *url, *what;
	const char *hdrs[3];
	size_t at, i, m;
	int rc, status = 0, failed = 0;

	if (n == 0)
		return 0;
	if ((c = conn_get(s3, err)) == NULL)
		return -1;
	what = what_of(bucket, "");
	url = url_for(s3, bucket, NULL, "delete=");
	for (at = 0; at < n; at += m) {
		m = n - at < LB_S3_DELETE_BATCH ? n - at : LB_S3_DELETE_BATCH;
		x.len = 0;
		lb_buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
		    "\"><Quiet>false</Quiet>");
		for (i = at; i < at + m; i++) {
			lb_buf_puts(&x, "<Object><Key>");
			xml_escape(&x, keys[i]);
			lb_buf_puts(&x, "</Key></Object>");
		}
		lb_buf_puts(&x, "</Delete>");
		md5_b64(x.p, x.len, md5);
		md5h = lb_xasprintf("Content-MD5: %s", md5);
		hdrs[0] = "Content-Type: application/xml";
		hdrs[1] = md5h;
		hdrs[2] = NULL;
		memset(&k, 0, sizeof(k));
		k.method = "POST";
		k.url = url;
		k.headers = hdrs;
		k.body = x.p;
		k.bodylen = x.len;
		memset(&e, 0, sizeof(e));
		rc = s3_call(c, &k, &resp, what, &e);
		free(md5h);
		memset(&d, 0, sizeof(d));
		d.fn = fn;
		d.arg = arg;
		d.bucket = bucket;
		if (rc == 0 && xml_parse(resp.body.p, resp.body.len, del_fn,
		    &d, &e) == -1) {
			lb_err_prefix(&e, "%s: DeleteObjects", what);
			rc = -1;
		} else if (rc == 0 && !d.root_ok) {
			if (lb_s3_xml_error(resp.body.p, resp.body.len, 0,
			    &e) == 0)
				lb_err_set(&e, LB_EFAIL, 0, "not a "
				    "DeleteObjects answer");
			lb_err_prefix(&e, "%s", what);
			rc = -1;
		}
		lb_http_resp_free(&resp);
		if (rc == 0 && d.failed) {
			if (failed++ == 0)
				*err = d.first;
			lb_err_fold(&status, d.first.kind);
		}
		if (rc == -1) {
			/* the whole batch failed: say so per key */
			for (i = at; i < at + m && fn != NULL; i++)
				fn(arg, keys[i], &e);
			if (failed++ == 0)
				*err = e;
			lb_err_fold(&status, e.kind);
		}
		free(d.key);
		lb_buf_free(&d.msg);
	}
	lb_buf_free(&x);
	free(url);
	free(what);
	conn_put(s3, c);
	if (failed) {
		err->kind = status;
		return -1;
	}
	return 0;
}

/* ETags of local files */

int
lb_s3_file_etag(const char *path, long long part_size, char out[72],
    struct lb_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int mdlen;
	EVP_MD_CTX *whole, *part;
	long long inpart = 0, nparts = 0;
	size_t n, take, off;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return lb_err_set(err, LB_EFAIL, 0, "%s: %s", path,
		    strerror(errno));
	whole = EVP_MD_CTX_new();
	part = EVP_MD_CTX_new();
	if (whole == NULL || part == NULL)
		abort();
	/* single: md5 of the bytes; multipart: md5 of the part md5s */
	EVP_DigestInit_ex(whole, EVP_md5(), NULL);
	EVP_DigestInit_ex(part, EVP_md5(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (part_size <= 0) {
			EVP_DigestUpdate(whole, buf, n);
			continue;
		}
		for (off = 0; off < n; off += take) {
			take = n - off;
			if ((long long)take > part_size - inpart)
				take = (size_t)(part_size - inpart);
			EVP_DigestUpdate(part, buf + off, take);
			inpart += (long long)take;
			if (inpart == part_size) {
				EVP_DigestFinal_ex(part, md, &mdlen);
				EVP_DigestUpdate(whole, md, mdlen);
				EVP_DigestInit_ex(part, EVP_md5(), NULL);
				inpart = 0;
				nparts++;
			}
		}
	}
	if (ferror(f))
		rc = lb_err_set(err, LB_EFAIL, 0, "%s: read error", path);
	if (part_size > 0 && (inpart > 0 || nparts == 0)) {
		EVP_DigestFinal_ex(part, md, &mdlen);
		EVP_DigestUpdate(whole, md, mdlen);
		nparts++;
	}
	EVP_DigestFinal_ex(whole, md, &mdlen);
	lb_util_hex(md, mdlen, out);
	if (part_size > 0)
		snprintf(out + 2 * mdlen, 72 - 2 * mdlen, "-%lld", nparts);
	EVP_MD_CTX_free(whole);
	EVP_MD_CTX_free(part);
	fclose(f);
	return rc;
}

/*
 * Sync state: a text file, "lb-s3-state 1 LISTED" then one line per
 * file, "MD5|- SIZE MTIME.NS CTIME.NS INODE REL", sorted by REL.
 */
#define STATE_MAGIC	"lb-s3-state 1"
#define STATE_RACY	2		/* seconds a stat must be old */

struct stent {
	char		*rel;
	long long	 size, mtime, mtime_ns, ctime, ctime_ns;
	unsigned long long ino;
	char		 etag[33];
};

struct lb_s3_state {
	struct stent	*v;
	size_t		 n, cap;
	time_t		 listed;
};

static int
stent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stent *)a)->rel,
	    ((const struct stent *)b)->rel);
}

static int
stent_same(const struct stent *e, const struct stat *st)
{
	return e->size == (long long)st->st_size &&
	    e->mtime == (long long)st->st_mtim.tv_sec &&
	    e->mtime_ns == (long long)st->st_mtim.tv_nsec &&
	    e->ctime == (long long)st->st_ctim.tv_sec &&
	    e->ctime_ns == (long long)st->st_ctim.tv_nsec &&
	    e->ino == (unsigned long long)st->st_ino;
}

static struct stent *
state_add(struct lb_s3_state *s, const char *rel)
{
	struct stent *e;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = lb_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->rel = lb_xstrdup(rel);
	return e;
}

static int
md5_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[32] == '\0';
}

struct lb_s3_state *
lb_s3_state_load(const char *path)
{
	struct lb_s3_state *s;
	struct stent *e;
	struct lb_err err = { 0 };
	char *text, *line, *nl, etag[40];
	long long listed;
	int n, sorted = 1;

	s = lb_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	if ((text = lb_util_readfile(path, NULL, &err)) == NULL)
		return s;
	if (strncmp(text, STATE_MAGIC " ", sizeof(STATE_MAGIC)) != 0 ||
	    sscanf(text + sizeof(STATE_MAGIC), "%lld", &listed) != 1 ||
	    (nl = strchr(text, '\n')) == NULL)
		goto bad;
	s->listed = (time_t)listed;
	for (line = nl + 1; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			goto bad;	/* cut short */
		*nl = '\0';
		e = state_add(s, "");
		n = 0;
		if (sscanf(line, "%39s %lld %lld.%lld %lld.%lld %llu%n", etag,
		    &e->size, &e->mtime, &e->mtime_ns, &e->ctime, &e->ctime_ns,
		    &e->ino, &n) != 7 || n == 0 || line[n] != ' ' ||
		    line[n + 1] == '\0')
			goto bad;
		free(e->rel);
		e->rel = lb_xstrdup(line + n + 1);
		if (md5_hex(etag))
			memcpy(e->etag, etag, 33);
		else if (strcmp(etag, "-") != 0)
			goto bad;
		if (s->n > 1 && strcmp(s->v[s->n - 2].rel, e->rel) >= 0)
			sorted = 0;
	}
	if (!sorted)
		goto bad;
	free(text);
	return s;
bad:
	/* only a cache: start again from nothing */
	free(text);
	while (s->n > 0)
		free(s->v[--s->n].rel);
	s->listed = 0;
	return s;
}

int
lb_s3_state_get(const struct lb_s3_state *s, const char *rel,
    const struct stat *st, char etag[72])
{
	struct stent key, *e;

	if (s == NULL || s->n == 0)
		return 0;
	key.rel = (char *)rel;
	if ((e = bsearch(&key, s->v, s->n, sizeof(*s->v), stent_cmp)) ==
	    NULL || !stent_same(e, st))
		return 0;
	snprintf(etag, 72, "%s", e->etag);
	return 1;
}

void
lb_s3_state_put(struct lb_s3_state *s, const char *rel,
    const struct stat *st, const char *etag, time_t now)
{
	struct stent *e;

	/* a newline would break the file; a racy stat could lie */
	if (strchr(rel, '\n') != NULL || *rel == '\0' ||
	    st->st_mtim.tv_sec > now - STATE_RACY ||
	    st->st_ctim.tv_sec > now - STATE_RACY)
		return;
	if (s->n > 0 && strcmp(s->v[s->n - 1].rel, rel) >= 0)
		return;		/* out of order: not recorded */
	e = state_add(s, rel);
	e->size = (long long)st->st_size;
	e->mtime = (long long)st->st_mtim.tv_sec;
	e->mtime_ns = (long long)st->st_mtim.tv_nsec;
	e->ctime = (long long)st->st_ctim.tv_sec;
	e->ctime_ns = (long long)st->st_ctim.tv_nsec;
	e->ino = (unsigned long long)st->st_ino;
	if (etag != NULL && md5_hex(etag))
		memcpy(e->etag, etag, 33);
}

time_t
lb_s3_state_listed(const struct lb_s3_state *s)
{
	return s->listed;
}

void
lb_s3_state_set_listed(struct lb_s3_state *s, time_t t)
{
	s->listed = t;
}

int
lb_s3_state_save(const struct lb_s3_state *s, const char *path,
    struct lb_err *err)
{
	struct lb_buf b = { 0 };
	size_t i;
	int rc;

	lb_buf_printf(&b, "%s %lld\n", STATE_MAGIC, (long long)s->listed);
	for (i = 0; i < s->n; i++)
		lb_buf_printf(&b, "%s %lld %lld.%09lld %lld.%09lld %llu %s\n",
		    s->v[i].etag[0] != '\0' ? s->v[i].etag : "-",
		    s->v[i].size, s->v[i].mtime, s->v[i].mtime_ns,
		    s->v[i].ctime, s->v[i].ctime_ns, s->v[i].ino,
		    s->v[i].rel);
	rc = lb_util_writefile(path, b.p, b.len, err);
	lb_buf_free(&b);
	return rc;
}

void
lb_s3_state_free(struct lb_s3_state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].rel);
	free(s->v);
	free(s);
}

/* Sync */

int
lb_s3_selected(const struct lb_s3_filter *f, size_t n, const char *rel)
{
	int sel = 1;
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(f[i].glob, rel, 0) == 0)
			sel = f[i].include;
	return sel;
}

struct item {
	char		*rel;
	long long	 size;
	time_t		 mtime;
	char		 etag[72];	/* local files: MD5 once known */
	struct stat	 st;		/* local files: their stat */
	int		 insync;	/* the state says it is in S3 */
};

struct items {
	struct item	*v;
	size_t		 n, cap;
};

static struct item *
items_add(struct items *it, const char *rel, long long size, time_t mtime,
    const char *etag)
{
	struct item *e;

	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 256;
		it->v = lb_xrealloc(it->v, it->cap * sizeof(*it->v));
	}
	e = &it->v[it->n++];
	memset(e, 0, sizeof(*e));
	e->rel = lb_xstrdup(rel);
	e->size = size;
	e->mtime = mtime;
	snprintf(e->etag, sizeof(e->etag), "%s", etag ? etag : "");
	return e;
}

static void
items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i].rel);
	free(it->v);
}

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->rel,
	    ((const struct item *)b)->rel);
}

static int
walk(const char *root, const char *rel, struct items *out, int depth,
    struct lb_err *err)
{
	struct dirent *de;
	struct stat st;
	char *dpath, *path, *r;
	DIR *d;
	int rc = 0;

	if (depth > WALK_DEPTH)
		return lb_err_set(err, LB_EFAIL, 0, "%s/%s: too deep", root,
		    rel);
	dpath = *rel ? lb_xasprintf("%s/%s", root, rel) : lb_xstrdup(root);
	if ((d = opendir(dpath)) == NULL) {
		rc = lb_err_set(err, LB_EFAIL, 0, "%s: %s", dpath,
		    strerror(errno));
		free(dpath);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* our own unfinished downloads */
		if (de->d_name[0] == '.' && strstr(de->d_name, TMP_TAG) !=
		    NULL)
			continue;
		path = lb_xasprintf("%s/%s", dpath, de->d_name);
		r = *rel ? lb_xasprintf("%s/%s", rel, de->d_name) :
		    lb_xstrdup(de->d_name);
		if (stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = walk(root, r, out, depth + 1, err);
			else if (S_ISREG(st.st_mode))
				items_add(out, r, st.st_size, st.st_mtime,
				    NULL)->st = st;
		}
		free(path);
		free(r);
	}
	closedir(d);
	free(dpath);
	return rc;
}

struct remote_ctx {
	struct items	*out;
	size_t		 plen;
};

static int
remote_fn(void *arg, const struct lb_s3_obj *o, struct lb_err *err)
{
	struct remote_ctx *r = arg;

	if (o->is_prefix || strlen(o->key) < r->plen)
		return 0;
	items_add(r->out, o->key + r->plen, o->size, o->mtime, o->etag);
	return 0;
}

/* May a key (relative to the prefix) become a local path? */
static int
safe_rel(const char *rel)
{
	const char *seg = rel, *e;
	size_t sl;

	if (*rel == '\0' || *rel == '/')
		return 0;
	for (;;) {
		e = strchr(seg, '/');
		sl = e ? (size_t)(e - seg) : strlen(seg);
		if (sl == 0 || (sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		seg = e + 1;
	}
}

enum { A_NONE, A_UP, A_DOWN, A_DELREMOTE, A_DELLOCAL, A_BAD };

struct job {
	int		 action;
	char		*rel, *key, *path;
	long long	 size;
	struct item	*local;		/* up: the local file */
	int		 ok;		/* the transfer went well */
};

struct syncrun {
	struct lb_s3		*s3;
	const struct lb_s3_sync_opts *o;
	const char		*bucket;
	struct lb_s3_counts	*counts;
	struct job		*jobs;
	size_t			 njobs;
	int			 part_jobs; /* parts at once within a file */
};

static void
emit(struct syncrun *sr, const char *op, const struct job *j,
    const struct lb_err *e)
{
	struct lb_s3_event ev;

	pthread_mutex_lock(&sr->s3->evmu);
	if (e != NULL)
		sr->counts->failed++;
	else if (strcmp(op, "upload") == 0)
		sr->counts->uploaded++;
	else if (strcmp(op, "download") == 0)
		sr->counts->downloaded++;
	else if (strcmp(op, "delete") == 0)
		sr->counts->deleted++;
	if (e == NULL && !sr->o->dryrun && (strcmp(op, "upload") == 0 ||
	    strcmp(op, "download") == 0))
		sr->counts->bytes += j->size;
	if (sr->o->fn != NULL) {
		memset(&ev, 0, sizeof(ev));
		ev.op = op;
		ev.key = j->key;
		ev.path = j->path;
		ev.size = j->size;
		ev.dryrun = sr->o->dryrun;
		ev.err = e;
		sr->o->fn(sr->o->arg, &ev);
	}
	pthread_mutex_unlock(&sr->s3->evmu);
}

static int
parent_dirs(const char *path, struct lb_err *err)
{
	char *d, *slash;
	int rc = 0;

	d = lb_xstrdup(path);
	if ((slash = strrchr(d, '/')) != NULL && slash != d) {
		*slash = '\0';
		rc = lb_util_mkdirs(d, err);
	}
	free(d);
	return rc;
}

static int
sync_task(struct lb_s3 *s3, struct conn *c, void *arg, size_t i,
    struct lb_err *err)
{
	struct syncrun *sr = arg;
	struct job *j = &sr->jobs[i];
	const char *op = j->action == A_UP ? "upload" : "download";
	int rc = 0;

	if (!sr->o->dryrun) {
		if (j->action == A_UP)
			rc = put_file_c(c, s3, sr->bucket, j->key, j->path,
			    NULL, sr->part_jobs, NULL, err);
		else if ((rc = parent_dirs(j->path, err)) == 0)
			rc = get_file_c(c, s3, sr->bucket, j->key, j->path,
			    NULL, err);
	}
	j->ok = rc == 0;
	emit(sr, op, j, rc == 0 ? NULL : err);
	return rc;
}

/* Does the local file differ from the remote object? */
static int
differs(struct lb_s3 *s3, int dir, const char *path, struct item *l,
    const struct item *r)
{
	struct lb_err e;
	char etag[72];
	const char *dash;
	long long cand[5], ps;
	long nparts;
	size_t i, j, hexlen;

	if (l->size != r->size)
		return 1;
	dash = strchr(r->etag, '-');
	hexlen = dash ? (size_t)(dash - r->etag) : strlen(r->etag);
	for (i = 0; i < hexlen; i++)
		if (!isxdigit((unsigned char)r->etag[i]))
			break;
	memset(&e, 0, sizeof(e));
	if (hexlen == 32 && i == 32 && dash == NULL) {
		/* the MD5 the state knows for this very stat, else read */
		if (l->etag[0] == '\0' &&
		    lb_s3_file_etag(path, 0, l->etag, &e) == -1) {
			l->etag[0] = '\0';
			return 1;
		}
		return strcasecmp(l->etag, r->etag) != 0;
	}
	if (hexlen == 32 && i == 32 &&
	    lb_util_strtol(dash + 1, 1, LB_S3_MAX_PARTS, &nparts) == 0) {
		/* the part sizes the upload could have used */
		cand[0] = part_for(s3, l->size);
		cand[1] = LB_S3_PART_DEFAULT;
		cand[2] = LB_S3_PART_MIN;
		cand[3] = (l->size + nparts - 1) / nparts;
		cand[3] = (cand[3] + (1 << 20) - 1) / (1 << 20) * (1 << 20);
		cand[4] = 16LL << 20;
		for (i = 0; i < 5; i++) {
			ps = cand[i];
			if (ps <= 0 || (l->size + ps - 1) / ps != nparts)
				continue;
			for (j = 0; j < i; j++)
				if (cand[j] == ps)
					break;
			if (j < i)
				continue;
			if (lb_s3_file_etag(path, ps, etag, &e) == 0 &&
			    strcasecmp(etag, r->etag) == 0)
				return 0;
		}
	}
	/* no content check possible: newer source means changed */
	if (dir == LB_S3_UP)
		return l->mtime > r->mtime;
	return r->mtime > l->mtime;
}

struct delctx {
	struct syncrun	*sr;
	struct job	*jobs;
	size_t		 n;
};

static void
sync_del_fn(void *arg, const char *key, const struct lb_err *e)
{
	struct delctx *d = arg;
	struct job j;
	size_t i;

	memset(&j, 0, sizeof(j));
	j.key = (char *)key;
	for (i = 0; i < d->n; i++)
		if (d->jobs[i].key != NULL && strcmp(d->jobs[i].key, key) ==
		    0) {
			j = d->jobs[i];
			break;
		}
	emit(d->sr, "delete", &j, e);
}

static void
fold_first(struct lb_err *err, int *status, int *have,
    const struct lb_err *e)
{
	if (!*have) {
		*err = *e;
		*have = 1;
	}
	lb_err_fold(status, e->kind);
}

/*
 * The new state: the local files now known to be in S3 (insync 2: the
 * same as listed, or sent; 1: trusted from the old state).  Written
 * only when it changed.  A state that cannot be written is only a
 * cache lost: the next sync lists and reads again.
 */
static void
state_update(const struct lb_s3_state *old, const struct items *loc,
    time_t listed, time_t now, const char *path)
{
	struct lb_s3_state *s;
	struct lb_err e = { 0 };
	const struct stent *a, *b;
	size_t i;
	int same;

	s = lb_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->listed = listed;
	for (i = 0; i < loc->n; i++)
		if (loc->v[i].insync)
			lb_s3_state_put(s, loc->v[i].rel, &loc->v[i].st,
			    loc->v[i].etag, now);
	same = s->listed == old->listed && s->n == old->n;
	for (i = 0; same && i < s->n; i++) {
		a = &s->v[i];
		b = &old->v[i];
		same = strcmp(a->rel, b->rel) == 0 && a->size == b->size &&
		    a->mtime == b->mtime && a->mtime_ns == b->mtime_ns &&
		    a->ctime == b->ctime && a->ctime_ns == b->ctime_ns &&
		    a->ino == b->ino && strcmp(a->etag, b->etag) == 0;
	}
	if (!same)
		(void)lb_s3_state_save(s, path, &e);
	lb_s3_state_free(s);
}

int
lb_s3_sync(struct lb_s3 *s3, const struct lb_s3_sync_opts *o,
    const char *dir, const char *bucket, const char *prefix,
    struct lb_s3_counts *counts, struct lb_err *err)
{
	struct items loc = { 0 }, rem = { 0 };
	struct remote_ctx rc_ctx;
	struct syncrun sr;
	struct delctx dc;
	struct job *xfer = NULL, *dels = NULL, *j;
	struct lb_err e;
	struct stat st;
	struct lb_s3_state *old = NULL;
	const char **keys;
	char *pfx, *spath = NULL;
	size_t li = 0, ri = 0, nx = 0, nd = 0, i;
	int cmp, status = 0, have = 0, up = o->direction == LB_S3_UP;
	int jobs = o->jobs > 0 ? o->jobs : s3->o.jobs, trusted = 0;
	time_t now = time(NULL);	/* before the walk: see state_put */

	memset(counts, 0, sizeof(*counts));
	if (o->direction != LB_S3_UP && o->direction != LB_S3_DOWN)
		return lb_err_set(err, LB_EUSAGE, 0, "sync: no direction");
	pfx = prefix != NULL && *prefix != '\0' &&
	    prefix[strlen(prefix) - 1] != '/' ?
	    lb_xasprintf("%s/", prefix) : lb_xstrdup(prefix ? prefix : "");

	if (up || stat(dir, &st) == 0) {
		if (walk(dir, "", &loc, 0, err) == -1)
			goto fail;
	}
	if (loc.n > 1)
		qsort(loc.v, loc.n, sizeof(*loc.v), item_cmp);
	if (up && o->state != NULL && !o->dryrun) {
		spath = lb_xasprintf("%s/%s", dir, o->state);
		old = lb_s3_state_load(spath);
		for (i = 0; i < loc.n; i++)
			loc.v[i].insync = lb_s3_state_get(old, loc.v[i].rel,
			    &loc.v[i].st, loc.v[i].etag);
		/* deleting needs to know what is there */
		trusted = o->trust_s > 0 && !o->delete &&
		    lb_s3_state_listed(old) > 0 &&
		    now >= lb_s3_state_listed(old) &&
		    now - lb_s3_state_listed(old) < o->trust_s;
		/* listing: the MD5s are kept, what is in sync is seen anew */
		for (i = 0; !trusted && i < loc.n; i++)
			loc.v[i].insync = 0;
	}
	rc_ctx.out = &rem;
	rc_ctx.plen = strlen(pfx);
	if (!trusted && lb_s3_list(s3, bucket, pfx, NULL, remote_fn, &rc_ctx,
	    err) == -1)
		goto fail;
	if (rem.n > 1)
		qsort(rem.v, rem.n, sizeof(*rem.v), item_cmp);

	xfer = lb_xmalloc((loc.n + rem.n + 1) * sizeof(*xfer));
	dels = lb_xmalloc((loc.n + rem.n + 1) * sizeof(*dels));
	while (li < loc.n || ri < rem.n) {
		struct item *l = NULL;
		const struct item *r = NULL, *it;
		struct job nj;

		if (li >= loc.n)
			cmp = 1;
		else if (ri >= rem.n)
			cmp = -1;
		else
			cmp = strcmp(loc.v[li].rel, rem.v[ri].rel);
		if (cmp <= 0)
			l = &loc.v[li++];
		if (cmp >= 0)
			r = &rem.v[ri++];
		it = l != NULL ? l : r;
		/* directory markers are not files */
		if (l == NULL && (it->rel[0] == '\0' ||
		    it->rel[strlen(it->rel) - 1] == '/'))
			continue;
		if (!lb_s3_selected(o->filters, o->nfilters, it->rel))
			continue;
		memset(&nj, 0, sizeof(nj));
		nj.rel = it->rel;
		nj.key = lb_xasprintf("%s%s", pfx, it->rel);
		nj.path = lb_xasprintf("%s/%s", dir, it->rel);
		/* the size of what would travel */
		nj.size = (up ? l : r) != NULL ? (up ? l : r)->size :
		    it->size;
		nj.local = up ? l : NULL;
		if (trusted && l != NULL && l->insync) {
			nj.action = A_NONE;
			counts->unchanged++;
		} else if (up && l != NULL && (r == NULL ||
		    differs(s3, o->direction, nj.path, l, r)))
			nj.action = A_UP;
		else if (up && l == NULL)
			nj.action = o->delete ? A_DELREMOTE : A_NONE;
		else if (!up && r != NULL && !safe_rel(r->rel))
			nj.action = A_BAD;
		else if (!up && r != NULL && (l == NULL ||
		    differs(s3, o->direction, nj.path, l, r)))
			nj.action = A_DOWN;
		else if (!up && r == NULL)
			nj.action = o->delete ? A_DELLOCAL : A_NONE;
		else {
			nj.action = A_NONE;
			counts->unchanged++;
		}
		if (nj.action == A_UP || nj.action == A_DOWN)
			xfer[nx++] = nj;
		else if (nj.action != A_NONE)
			dels[nd++] = nj;
		else {
			/* the same in S3 as here */
			if (l != NULL)
				l->insync = 2;
			free(nj.key);
			free(nj.path);
		}
	}

	memset(&sr, 0, sizeof(sr));
	sr.s3 = s3;
	sr.o = o;
	sr.bucket = bucket;
	sr.counts = counts;
	sr.jobs = xfer;
	sr.njobs = nx;
	/* few files: let their parts share the parallelism */
	sr.part_jobs = nx > 0 && (size_t)jobs > nx ? jobs / (int)nx : 1;
	memset(&e, 0, sizeof(e));
	if (nx > 0 && run_parallel(s3, NULL, jobs, nx, sync_task, &sr, 0,
	    &e) > 0)
		fold_first(err, &status, &have, &e);

	/* bad names and deletions, after the transfers like aws does */
	keys = lb_xmalloc((nd + 1) * sizeof(*keys));
	for (i = 0, cmp = 0; i < nd; i++) {
		j = &dels[i];
		lb_err_clear(&e);
		if (j->action == A_BAD) {
			lb_err_set(&e, LB_EFAIL, 0, "s3://%s/%s: key cannot "
			    "be a local file name", bucket, j->key);
			emit(&sr, "download", j, &e);
			fold_first(err, &status, &have, &e);
		} else if (j->action == A_DELLOCAL) {
			if (!o->dryrun && unlink(j->path) == -1) {
				lb_err_set(&e, LB_EFAIL, 0, "%s: %s", j->path,
				    strerror(errno));
				emit(&sr, "delete", j, &e);
				fold_first(err, &status, &have, &e);
			} else
				emit(&sr, "delete", j, NULL);
		} else if (o->dryrun)
			emit(&sr, "delete", j, NULL);
		else
			keys[cmp++] = j->key;
	}
	if (cmp > 0) {
		dc.sr = &sr;
		dc.jobs = dels;
		dc.n = nd;
		lb_err_clear(&e);
		if (lb_s3_delete_many(s3, bucket, keys, (size_t)cmp,
		    sync_del_fn, &dc, &e) == -1)
			fold_first(err, &status, &have, &e);
	}
	free(keys);

	for (i = 0; i < nx; i++)
		if (xfer[i].local != NULL && xfer[i].ok)
			xfer[i].local->insync = 2;
	if (old != NULL)
		state_update(old, &loc, trusted ? lb_s3_state_listed(old) : now,
		    now, spath);

	for (i = 0; i < nx; i++) {
		free(xfer[i].key);
		free(xfer[i].path);
	}
	for (i = 0; i < nd; i++) {
		free(dels[i].key);
		free(dels[i].path);
	}
	free(xfer);
	free(dels);
	items_free(&loc);
	items_free(&rem);
	free(pfx);
	lb_s3_state_free(old);
	free(spath);
	if (have) {
		err->kind = status;
		return -1;
	}
	return 0;
fail:
	items_free(&loc);
	items_free(&rem);
	free(pfx);
	lb_s3_state_free(old);
	free(spath);
	return -1;
}
