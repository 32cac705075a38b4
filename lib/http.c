/*
 * http.c: every remote call of lb goes through lb_http_do: connection
 * reuse, timeouts, bounded retries with full-jitter exponential backoff
 * (honouring Retry-After) and a redacted trace.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lb.h"

struct lb_http {
	CURL		*curl;
	struct lb_http_opts o;
	unsigned int	 seed;
	char		 errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct lb_http *
lb_http_new(const struct lb_http_opts *o)
{
	struct lb_http *h;

	pthread_once(&global_once, global_init);
	h = lb_xmalloc(sizeof(*h));
	memset(h, 0, sizeof(*h));
	if (o != NULL)
		h->o = *o;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = 5000;
	if (h->o.timeout_ms == 0)
		h->o.timeout_ms = 60000;
	if (h->o.max_attempts <= 0)
		h->o.max_attempts = 5;
	if (h->o.backoff_base_ms <= 0)
		h->o.backoff_base_ms = 200;
	if (h->o.backoff_max_ms <= 0)
		h->o.backoff_max_ms = 20000;
	if (h->o.retry_after_max_ms <= 0)
		h->o.retry_after_max_ms = 60000;
	h->seed = (unsigned int)(time(NULL) ^ (getpid() << 16) ^
	    (unsigned long)h);
	if ((h->curl = curl_easy_init()) == NULL)
		abort();
	return h;
}

void
lb_http_free(struct lb_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
lb_http_resp_free(struct lb_http_resp *r)
{
	lb_buf_free(&r->body);
	lb_buf_free(&r->headers);
}

int
lb_http_retryable(long status, const char *body, size_t len)
{
	static const char *throttle[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"RequestLimitExceeded", "RequestThrottled", "SlowDown",
		"RequestTimeout", "RequestTimeoutException",
		"PriorRequestNotComplete", "EC2ThrottledException",
		"TransactionInProgressException", NULL
	};
	char quoted[64];
	int i;

	if (status == 429 || (status >= 500 && status != 501))
		return 1;
	if (status != 400 || body == NULL || len == 0)
		return 0;
	/* JSON "__type":"...#Code" or "Code" and XML <Code>Code</Code> */
	for (i = 0; throttle[i] != NULL; i++) {
		snprintf(quoted, sizeof(quoted), "#%s\"", throttle[i]);
		if (memmem(body, len, quoted, strlen(quoted)))
			return 1;
		snprintf(quoted, sizeof(quoted), "\"%s\"", throttle[i]);
		if (memmem(body, len, quoted, strlen(quoted)))
			return 1;
		snprintf(quoted, sizeof(quoted), ">%s<", throttle[i]);
		if (memmem(body, len, quoted, strlen(quoted)))
			return 1;
	}
	return 0;
}

int
lb_http_kind(long status)
{
	return lb_http_retryable(status, NULL, 0) ? LB_ETEMP : LB_EFAIL;
}

long
lb_http_backoff(const struct lb_http *h, int n)
{
	long cap = h->o.backoff_base_ms;
	unsigned int seed;

	while (--n > 0 && cap < h->o.backoff_max_ms)
		cap *= 2;
	if (cap > h->o.backoff_max_ms)
		cap = h->o.backoff_max_ms;
	seed = ((struct lb_http *)h)->seed;
	((struct lb_http *)h)->seed = seed * 1103515245u + 12345u;
	return (long)(rand_r(&seed) % (unsigned long)(cap + 1));
}

char *
lb_http_escape(const char *s, int keepslash)
{
	static const char hex[] = "0123456789ABCDEF";
	struct lb_buf b = { 0 };
	const unsigned char *p;

	lb_buf_add(&b, "", 0);
	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' ||
		    *p == '~' || (keepslash && *p == '/'))
			lb_buf_add(&b, p, 1);
		else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			lb_buf_add(&b, e, 3);
		}
	}
	return b.p;
}

char *
lb_http_header(const struct lb_http_resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *p, *e, *v;

	for (p = r->headers.p; p != NULL && *p; p = e) {
		e = strchr(p, '\n');
		e = e ? e + 1 : p + strlen(p);
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		for (v = p + n + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			;
		while (e > v && isspace((unsigned char)e[-1]))
			e--;
		return strndup(v, (size_t)(e - v));
	}
	return NULL;
}

/* Retry-After in ms: delta-seconds or an HTTP date; -1 when absent. */
static long
retry_after(const struct lb_http_resp *r)
{
	char *v = lb_http_header(r, "Retry-After");
	long ms = -1, secs;
	time_t t;

	if (v == NULL)
		return -1;
	if (lb_util_strtol(v, 0, 86400, &secs) == 0)
		ms = secs * 1000;
	else if ((t = curl_getdate(v, NULL)) != -1)
		ms = t > time(NULL) ? (long)(t - time(NULL)) * 1000 : 0;
	free(v);
	return ms;
}

/* The URL without its query, for messages: queries can carry secrets. */
static char *
url_for_msg(const char *url)
{
	size_t n = strcspn(url, "?");

	return strndup(url, n);
}

/* Header names whose values never reach a trace. */
static int
secret_header(const char *line, size_t n)
{
	static const char *names[] = {
		"authorization:", "proxy-authorization:",
		"x-amz-security-token:", "cookie:", "set-cookie:",
		"x-aws-ec2-metadata-token:", "x-api-key:", NULL
	};
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (n >= strlen(names[i]) &&
		    strncasecmp(line, names[i], strlen(names[i])) == 0)
			return (int)strlen(names[i]);
	return 0;
}

static void
trace_line(struct lb_http *h, const char *dir, const char *p, size_t n)
{
	struct lb_buf b = { 0 };
	const char *q;
	int k;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	lb_buf_puts(&b, dir);
	if ((k = secret_header(p, n)) > 0) {
		lb_buf_add(&b, p, (size_t)k);
		lb_buf_puts(&b, " [redacted]");
	} else if ((q = memchr(p, '?', n)) != NULL &&
	    (!strncmp(p, "GET ", 4) || !strncmp(p, "POST ", 5) ||
	    !strncmp(p, "PUT ", 4) || !strncmp(p, "DELETE ", 7) ||
	    !strncmp(p, "HEAD ", 5) || !strncmp(p, "PATCH ", 6))) {
		/* the request line: queries can carry signatures */
		const char *sp = memchr(q, ' ', n - (size_t)(q - p));

		lb_buf_add(&b, p, (size_t)(q - p));
		lb_buf_puts(&b, "?[query redacted]");
		if (sp != NULL)
			lb_buf_add(&b, sp, n - (size_t)(sp - p));
	} else
		lb_buf_add(&b, p, n);
	h->o.trace(h->o.trace_arg, b.p);
	lb_buf_free(&b);
}

static int
debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct lb_http *h = arg;
	const char *dir, *p = data, *e, *end = data + size;

	switch (type) {
	case CURLINFO_TEXT:
		dir = "* ";
		break;
	case CURLINFO_HEADER_OUT:
		dir = "> ";
		break;
	case CURLINFO_HEADER_IN:
		dir = "< ";
		break;
	default:
		return 0;	/* bodies are never traced */
	}
	for (; p < end; p = e) {
		e = memchr(p, '\n', (size_t)(end - p));
		e = e ? e + 1 : end;
		trace_line(h, dir, p, (size_t)(e - p));
	}
	return 0;
}

struct xfer {
	struct lb_http_req	*req;
	struct lb_http_resp	*resp;
	int			 stopped;
	long long		 sent;		/* upload bytes handed to curl */
};

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= size;
	if (x->req->stream != NULL) {
		if (x->req->stream(x->req->stream_arg, p, n) != 0) {
			x->stopped = 1;
			return 0;
		}
	} else if (x->req->download != NULL) {
		if (fwrite(p, 1, n, x->req->download) != n)
			return 0;
	} else
		lb_buf_add(&x->resp->body, p, n);
	return n;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= size;
	/* a new status line starts a new answer (redirects, 100) */
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0)
		x->resp->headers.len = 0;
	lb_buf_add(&x->resp->headers, p, n);
	return n;
}

static size_t
read_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	long long left = x->req->uploadlen - x->sent;
	size_t got;

	n *= size;
	if (left <= 0)
		return 0;
	if ((long long)n > left)
		n = (size_t)left;
	got = fread(p, 1, n, x->req->upload);
	x->sent += (long long)got;
	return got;
}

/* curl rewinds by itself when it resends on a fresh connection */
static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || fseeko(x->req->upload,
	    (off_t)(x->req->uploadoff + off), SEEK_SET) == -1)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (long long)off;
	return CURL_SEEKFUNC_OK;
}

static int
net_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int
has_header(const char *const *hdrs, const char *name)
{
	size_t n = strlen(name);

	for (; hdrs != NULL && *hdrs != NULL; hdrs++)
		if (strncasecmp(*hdrs, name, n) == 0 && (*hdrs)[n] == ':')
			return 1;
	return 0;
}

static int
setup(struct lb_http *h, struct lb_http_req *req, struct xfer *x,
    struct curl_slist *list)
{
	CURL *c = h->curl;
	const char *m = req->method ? req->method : "GET";
	long timeout = req->timeout_ms ? req->timeout_ms : h->o.timeout_ms;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* S3 keys are signed exactly as written: keep "." and ".." */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout > 0 ? timeout : 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lb/1.0");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/*
	 * libcurl silently sends a request again when a reused connection
	 * dies before any answer; one attempt must mean one request.
	 */
	if (req->noretry)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.ca_pem != NULL) {
		struct curl_blob b = { (void *)h->o.ca_pem,
		    strlen(h->o.ca_pem), CURL_BLOB_COPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
	}
	if (h->o.cert_pem != NULL && h->o.key_pem != NULL) {
		struct curl_blob cb = { (void *)h->o.cert_pem,
		    strlen(h->o.cert_pem), CURL_BLOB_COPY };
		struct curl_blob kb = { (void *)h->o.key_pem,
		    strlen(h->o.key_pem), CURL_BLOB_COPY };
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
	}
	if (h->o.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->o.trace != NULL) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, h);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}
	if (req->upload != NULL) {
		if (fseeko(req->upload, req->uploadoff, SEEK_SET) == -1)
			return -1;
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		x->sent = 0;
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		if (strcmp(m, "POST") == 0) {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->uploadlen);
		} else {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)req->uploadlen);
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
		}
	} else if (req->body != NULL || strcmp(m, "POST") == 0 ||
	    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->bodylen);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    req->body ? req->body : "");
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	if (req->download != NULL) {
		fflush(req->download);
		if (ftruncate(fileno(req->download), 0) == -1)
			return -1;
		rewind(req->download);
	}
	return 0;
}

int
lb_http_do(struct lb_http *h, struct lb_http_req *req,
    struct lb_http_resp *resp, struct lb_err *err)
{
	struct curl_slist *list;
	const char *const *hp;
	const char *m = req->method ? req->method : "GET";
	struct xfer x = { req, resp, 0, 0 };
	int attempt, max = req->noretry ? 1 : h->o.max_attempts;
	CURLcode rc;
	long wait, ra;
	char *u;

	memset(resp, 0, sizeof(*resp));
	for (attempt = 1; ; attempt++) {
		list = curl_slist_append(NULL, "Expect:");
		for (hp = req->headers; hp != NULL && *hp != NULL; hp++)
			list = curl_slist_append(list, *hp);
		if ((req->body != NULL || req->upload != NULL) &&
		    !has_header(req->headers, "Content-Type"))
			list = curl_slist_append(list,
			    "Content-Type: application/octet-stream");
		if (req->prep != NULL &&
		    req->prep(req->prep_arg, req, &list, err) == -1) {
			curl_slist_free_all(list);
			return -1;
		}
		resp->body.len = 0;
		resp->headers.len = 0;
		lb_buf_add(&resp->body, "", 0);
		h->errbuf[0] = '\0';
		x.stopped = 0;
		if (setup(h, req, &x, list) == -1) {
			curl_slist_free_all(list);
			u = url_for_msg(req->url);
			lb_err_set(err, LB_EFAIL, 0, "%s %s: cannot rewind the "
			    "local file", m, u);
			free(u);
			return -1;
		}
		rc = curl_easy_perform(h->curl);
		curl_slist_free_all(list);
		resp->attempts = attempt;
		resp->status = 0;
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE,
		    &resp->status);
		if (x.stopped)
			return 0;	/* the stream reader had enough */
		if (rc != CURLE_OK) {
			if (net_retryable(rc) && attempt < max) {
				lb_util_sleep_ms(lb_http_backoff(h, attempt),
				    h->o.stop);
				if (h->o.stop == NULL || !*h->o.stop)
					continue;
			}
			u = url_for_msg(req->url);
			lb_err_set(err, net_retryable(rc) ? LB_ETEMP :
			    LB_EFAIL, 0, "%s %s: %s%s", m, u,
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc),
			    attempt > 1 ? " (after retries)" : "");
			free(u);
			return -1;
		}
		if (!lb_http_retryable(resp->status, resp->body.p,
		    resp->body.len))
			return 0;
		if (attempt >= max || (h->o.stop != NULL && *h->o.stop)) {
			u = url_for_msg(req->url);
			lb_err_set(err, LB_ETEMP, resp->status,
			    "%s %s: HTTP %ld after %d attempts", m, u,
			    resp->status, attempt);
			free(u);
			return 0;
		}
		wait = lb_http_backoff(h, attempt);
		if ((ra = retry_after(resp)) >= 0) {
			if (ra > h->o.retry_after_max_ms)
				ra = h->o.retry_after_max_ms;
			if (ra > wait)
				wait = ra;
		}
		lb_util_sleep_ms(wait, h->o.stop);
	}
}
