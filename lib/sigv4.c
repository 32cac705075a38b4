/*
 * sigv4.c: AWS Signature Version 4, header signing and query presigning.
 *
 * The steps follow AWS's description and are named after it: canonical
 * URI, canonical query string, canonical headers, payload hash,
 * canonical request, string to sign, signing key, signature.  Where AWS
 * leaves room, the behaviour matches botocore's SigV4Auth (and
 * S3SigV4Auth when s3 is set), which tests/1010-sigv4-botocore.t checks.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lb.h"

#define ALGORITHM	"AWS4-HMAC-SHA256"
#define UNSIGNED	"UNSIGNED-PAYLOAD"

/* The parts of a URL that signing needs, all malloc'd. */
struct url {
	char	*scheme;	/* lower case */
	char	*authority;	/* as given, for rebuilding a presigned URL */
	char	*host;		/* Host header value: lower case, port if
				 * not the scheme's default */
	char	*path;		/* as given, "" when absent */
	char	*query;		/* as given without '?', NULL when absent */
};

struct param {
	char	*key, *value;	/* both URI-encoded the canonical way */
};

struct header {
	char	*name;		/* lower case */
	char	*value;		/* trimmed, inner runs of space folded */
	size_t	 order;		/* position in the input, for stable sort */
};

/* Everything one signing computes, freed by ctx_free. */
struct ctx {
	const struct lb_sigv4 *cfg;
	struct url	 url;
	char		 amzdate[17];	/* 20150830T123600Z */
	char		 date[9];	/* 20150830 */
	char		*scope;
	struct param	*params;
	size_t		 nparams;
	struct header	*hdrs;
	size_t		 nhdrs;
	char		*signed_headers;
	char		*payload_hash;
	int		 add_content_sha; /* send x-amz-content-sha256 */
	char		*canonical;
	char		*to_sign;
	char		 signature[65];
};

void
lb_creds_free(struct lb_creds *c)
{
	if (c == NULL)
		return;
	if (c->secret != NULL)
		OPENSSL_cleanse(c->secret, strlen(c->secret));
	free(c->akid);
	free(c->secret);
	free(c->token);
	c->akid = c->secret = c->token = NULL;
	c->expires = 0;
}

void
lb_sigv4_out_free(struct lb_sigv4_out *o)
{
	if (o == NULL)
		return;
	free(o->canonical);
	free(o->to_sign);
	free(o->signature);
	free(o->authorization);
	free(o->amzdate);
	free(o->payload_hash);
	memset(o, 0, sizeof(*o));
}

/*
 * SHA-256 fetched from the provider once: OpenSSL 3's one-shot SHA256()
 * and HMAC() look the algorithm up on every call, most of the cost of
 * signing a request.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_fetched;

static void
md_fetch(void)
{
	md_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
sha256(const void *p, size_t n, unsigned char out[32])
{
	EVP_MD_CTX *c;
	unsigned int len = 32;

	pthread_once(&md_once, md_fetch);
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, md_fetched != NULL ? md_fetched :
	    EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, p, n) != 1 ||
	    EVP_DigestFinal_ex(c, out, &len) != 1)
		abort();
	EVP_MD_CTX_free(c);
}

void
lb_sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	sha256(p != NULL ? p : (const void *)"", n, md);
	lb_util_hex(md, sizeof(md), out);
}

/* HMAC-SHA256 (RFC 2104); out may be key. */
static void
hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned char k[64], pad[64 + 32];
	size_t i, n = strlen(msg);
	unsigned char *buf;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		sha256(key, keylen, k);
	else
		memcpy(k, key, keylen);
	buf = lb_xmalloc(64 + n);
	for (i = 0; i < 64; i++)
		buf[i] = k[i] ^ 0x36;
	memcpy(buf + 64, msg, n);
	sha256(buf, 64 + n, pad + 64);
	OPENSSL_cleanse(buf, 64 + n);
	free(buf);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256(pad, sizeof(pad), out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static int
unreserved(unsigned char c)
{
	return isascii(c) && (isalnum(c) || c == '-' || c == '_' ||
	    c == '.' || c == '~');
}

/* URI-encode n bytes the SigV4 way: %XX in upper case. */
static void
uri_encode(struct lb_buf *b, const char *s, size_t n, int keepslash)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char esc[3];
	size_t i;

	lb_buf_add(b, "", 0);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c) || (keepslash && c == '/')) {
			lb_buf_add(b, &s[i], 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		lb_buf_add(b, esc, 3);
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode n bytes; a '%' not followed by two hex digits stays. */
static void
uri_decode(struct lb_buf *b, const char *s, size_t n)
{
	size_t i;
	char c;

	lb_buf_add(b, "", 0);
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			lb_buf_add(b, &c, 1);
			i += 2;
		} else
			lb_buf_add(b, &s[i], 1);
	}
}

/* Decode then encode again, so every client spells a value one way. */
static char *
reencode(const char *s, size_t n)
{
	struct lb_buf raw = { 0 }, enc = { 0 };

	uri_decode(&raw, s, n);
	uri_encode(&enc, raw.p, raw.len, 0);
	lb_buf_free(&raw);
	return enc.p;
}

static void
url_free(struct url *u)
{
	free(u->scheme);
	free(u->authority);
	free(u->host);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = lb_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * Split an absolute http(s) URL.  The path and query are kept exactly as
 * given: they are what goes on the wire, so they are what gets signed.
 */
static int
url_parse(const char *s, struct url *u, struct lb_err *err)
{
	const char *p, *auth, *end, *host, *hend, *port;
	long pn;

	memset(u, 0, sizeof(*u));
	if ((p = strstr(s, "://")) == NULL || p == s)
		return lb_err_set(err, LB_EUSAGE, 0, "not an absolute URL: %.200s",
		    s);
	u->scheme = xstrndup(s, (size_t)(p - s));
	lower(u->scheme);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	u->authority = xstrndup(auth, (size_t)(end - auth));
	host = auth;
	for (p = auth; p < end; p++)	/* drop user info */
		if (*p == '@')
			host = p + 1;
	if (*host == '[') {
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
			goto bad;
		hend++;
	} else
		hend = host + strcspn(host, ":/?#");
	if (hend > end || hend == host)
		goto bad;
	port = NULL;
	if (hend < end) {
		if (*hend != ':')
			goto bad;
		port = hend + 1;
	}
	u->host = xstrndup(host, (size_t)(hend - host));
	lower(u->host);
	if (port != NULL && port < end) {
		char *pp = xstrndup(port, (size_t)(end - port));
		int bad = lb_util_strtol(pp, 0, 65535, &pn) == -1;

		free(pp);
		if (bad)
			goto bad;
		if (!((strcmp(u->scheme, "http") == 0 && pn == 80) ||
		    (strcmp(u->scheme, "https") == 0 && pn == 443))) {
			char *h = lb_xasprintf("%s:%ld", u->host, pn);

			free(u->host);
			u->host = h;
		}
	}
	p = end;
	end = p + strcspn(p, "?#");
	u->path = xstrndup(p, (size_t)(end - p));
	if (*end == '?') {
		p = end + 1;
		end = p + strcspn(p, "#");
		u->query = xstrndup(p, (size_t)(end - p));
	}
	return 0;
bad:
	url_free(u);
	return lb_err_set(err, LB_EUSAGE, 0, "bad host in URL: %.200s", s);
}

/*
 * Canonical URI.  Other services: dot segments and empty segments
 * removed, then every byte but unreserved ones and '/' encoded, which
 * encodes an already encoded path a second time.  S3: the path as sent.
 */
static char *
canonical_uri(const struct ctx *c)
{
	const char *path = c->url.path, *seg, *next;
	struct lb_buf out = { 0 };
	char **segs;
	size_t n = 0, i, len = strlen(path);

	if (len == 0)
		return lb_xstrdup("/");
	if (c->cfg->s3)
		return lb_xstrdup(path);
	segs = lb_xmalloc((len + 1) * sizeof(*segs));
	for (seg = path; seg != NULL; seg = next) {
		const char *e = strchr(seg, '/');
		size_t sl = e != NULL ? (size_t)(e - seg) : strlen(seg);

		next = e != NULL ? e + 1 : NULL;
		if (sl == 0 || (sl == 1 && seg[0] == '.'))
			continue;
		if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			if (n > 0)
				free(segs[--n]);
			continue;
		}
		segs[n++] = xstrndup(seg, sl);
	}
	if (path[0] == '/')
		lb_buf_puts(&out, "/");
	for (i = 0; i < n; i++) {
		if (i > 0)
			lb_buf_puts(&out, "/");
		uri_encode(&out, segs[i], strlen(segs[i]), 1);
		free(segs[i]);
	}
	if (path[len - 1] == '/' && n > 0)
		lb_buf_puts(&out, "/");
	free(segs);
	lb_buf_add(&out, "", 0);
	return out.p;
}

static int
param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int r;

	if ((r = strcmp(x->key, y->key)) != 0)
		return r;
	return strcmp(x->value, y->value);
}

static void
param_add(struct ctx *c, char *key, char *value)
{
	c->params = lb_xrealloc(c->params,
	    (c->nparams + 1) * sizeof(*c->params));
	c->params[c->nparams].key = key;
	c->params[c->nparams].value = value;
	c->nparams++;
}

/* Query parameters of the URL, decoded and encoded again. */
static void
query_params(struct ctx *c)
{
	const char *p = c->url.query, *amp, *eq;
	size_t n;

	if (p == NULL)
		return;
	for (; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		n = (size_t)(amp - p);
		if (n == 0)
			continue;
		if ((eq = memchr(p, '=', n)) == NULL)
			param_add(c, reencode(p, n), lb_xstrdup(""));
		else
			param_add(c, reencode(p, (size_t)(eq - p)),
			    reencode(eq + 1, (size_t)(amp - eq - 1)));
	}
}

/* Canonical query string: sorted by encoded key, then encoded value. */
static char *
canonical_query(struct ctx *c)
{
	struct lb_buf b = { 0 };
	size_t i;

	if (c->nparams > 1)
		qsort(c->params, c->nparams, sizeof(*c->params), param_cmp);
	lb_buf_add(&b, "", 0);
	for (i = 0; i < c->nparams; i++)
		lb_buf_printf(&b, "%s%s=%s", i ? "&" : "", c->params[i].key,
		    c->params[i].value);
	return b.p;
}

static int
header_cmp(const void *a, const void *b)
{
	const struct header *x = a, *y = b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Value with leading and trailing space dropped and inner runs folded. */
static char *
trimall(const char *s)
{
	char *out = lb_xmalloc(strlen(s) + 1), *o = out;
	int space = 0;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			space = o != out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = 0;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static int
has_header(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (strcmp(c->hdrs[i].name, name) == 0)
			return 1;
	return 0;
}

static const char *
header_value(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (strcmp(c->hdrs[i].name, name) == 0)
			return c->hdrs[i].value;
	return NULL;
}

static void
header_add(struct ctx *c, const char *name, size_t namelen,
    const char *value)
{
	struct header *h;
	char *raw;

	c->hdrs = lb_xrealloc(c->hdrs, (c->nhdrs + 1) * sizeof(*c->hdrs));
	h = &c->hdrs[c->nhdrs];
	h->name = xstrndup(name, namelen);
	lower(h->name);
	raw = lb_xstrdup(value);
	h->value = trimall(raw);
	free(raw);
	h->order = c->nhdrs++;
}

static void
header_drop(struct ctx *c, const char *name)
{
	size_t i, j;

	for (i = j = 0; i < c->nhdrs; i++) {
		if (strcmp(c->hdrs[i].name, name) == 0) {
			free(c->hdrs[i].name);
			free(c->hdrs[i].value);
			continue;
		}
		c->hdrs[j++] = c->hdrs[i];
	}
	c->nhdrs = j;
}

/* Hop-by-hop and proxy-mangled headers that are never signed. */
static int
unsignable(const char *name)
{
	static const char *const skip[] = {
		"authorization", "connection", "expect", "keep-alive",
		"proxy-authenticate", "proxy-authorization", "te", "trailer",
		"transfer-encoding", "upgrade", "user-agent",
		"x-amzn-trace-id", NULL
	};
	size_t i;

	for (i = 0; skip[i] != NULL; i++)
		if (strcmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

/* The caller's "Name: value" lines, less the ones never signed. */
static int
collect_headers(struct ctx *c, const char *const *headers,
    struct lb_err *err)
{
	const char *h, *colon;
	size_t nl;

	for (; headers != NULL && *headers != NULL; headers++) {
		h = *headers;
		/* a line break would smuggle a header past the signature */
		if (strpbrk(h, "\r\n") != NULL)
			return lb_err_set(err, LB_EUSAGE, 0,
			    "header line with a line break: %.40s", h);
		if ((colon = strchr(h, ':')) == NULL) {
			/* curl's "Name;" form: an empty header */
			if ((colon = strchr(h, ';')) == NULL ||
			    colon[1] != '\0')
				return lb_err_set(err, LB_EUSAGE, 0,
				    "bad header line: %.100s", h);
		}
		nl = (size_t)(colon - h);
		while (nl > 0 && isspace((unsigned char)h[nl - 1]))
			nl--;
		if (nl == 0)
			return lb_err_set(err, LB_EUSAGE, 0,
			    "bad header line: %.100s", h);
		header_add(c, h, nl, *colon == ';' ? "" : colon + 1);
		if (unsignable(c->hdrs[c->nhdrs - 1].name)) {
			c->nhdrs--;
			free(c->hdrs[c->nhdrs].name);
			free(c->hdrs[c->nhdrs].value);
		}
	}
	return 0;
}

/* Canonical headers (each "name:value\n", values of a name joined). */
static char *
canonical_headers(struct ctx *c)
{
	struct lb_buf b = { 0 }, sh = { 0 };
	size_t i;

	if (c->nhdrs > 1)
		qsort(c->hdrs, c->nhdrs, sizeof(*c->hdrs), header_cmp);
	lb_buf_add(&b, "", 0);
	lb_buf_add(&sh, "", 0);
	for (i = 0; i < c->nhdrs; i++) {
		if (i > 0 && strcmp(c->hdrs[i].name, c->hdrs[i - 1].name) == 0) {
			lb_buf_printf(&b, ",%s", c->hdrs[i].value);
			continue;
		}
		if (i > 0)
			lb_buf_puts(&b, "\n");
		lb_buf_printf(&b, "%s:%s", c->hdrs[i].name, c->hdrs[i].value);
		lb_buf_printf(&sh, "%s%s", i ? ";" : "", c->hdrs[i].name);
	}
	lb_buf_puts(&b, "\n");
	c->signed_headers = sh.p;
	return b.p;
}

/*
 * Payload hash: the one configured (a hash or UNSIGNED-PAYLOAD), else an
 * x-amz-content-sha256 header the caller set (it knows the hash of a
 * body it streams), else the SHA-256 of the body.  S3 always sends the
 * header; presigned URLs do not, and S3's sign no payload.
 */
static void
payload_hash(struct ctx *c, const void *body, size_t len, int presign)
{
	char hex[65];
	const char *given = presign ? NULL :
	    header_value(c, "x-amz-content-sha256");

	if (c->cfg->payload_hash != NULL) {
		c->payload_hash = lb_xstrdup(c->cfg->payload_hash);
		c->add_content_sha = !presign && (given == NULL ||
		    strcmp(given, c->payload_hash) != 0);
		return;
	}
	if (presign && c->cfg->s3) {
		c->payload_hash = lb_xstrdup(UNSIGNED);
		return;
	}
	if (given != NULL) {
		c->payload_hash = lb_xstrdup(given);
		return;
	}
	lb_sigv4_sha256_hex(body, body != NULL ? len : 0, hex);
	c->payload_hash = lb_xstrdup(hex);
	c->add_content_sha = c->cfg->s3 && !presign;
}

static char *
canonical_request(struct ctx *c, const char *method, const char *uri,
    const char *query, const char *headers)
{
	char *m = lb_xstrdup(method), *s;
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		m[i] = (char)toupper((unsigned char)m[i]);
	s = lb_xasprintf("%s\n%s\n%s\n%s\n%s\n%s", m, uri, query, headers,
	    c->signed_headers, c->payload_hash);
	free(m);
	return s;
}

static char *
string_to_sign(const struct ctx *c)
{
	char hex[65];

	lb_sigv4_sha256_hex(c->canonical, strlen(c->canonical), hex);
	return lb_xasprintf("%s\n%s\n%s\n%s", ALGORITHM, c->amzdate, c->scope,
	    hex);
}

/*
 * The last signing key of this thread: it holds for a day, a region,
 * a service and a secret (known by its hash, not kept).
 */
static _Thread_local struct {
	int		 ok;
	unsigned char	 who[32];
	char		 date[9], region[64], service[64];
	unsigned char	 key[32];
} kcache;

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), ...)) */
static void
signing_key(const struct ctx *c, unsigned char key[32])
{
	const char *secret = c->cfg->creds->secret;
	char *k0;
	unsigned char who[32];
	int fits;

	sha256(secret, strlen(secret), who);
	fits = strlen(c->cfg->region) < sizeof(kcache.region) &&
	    strlen(c->cfg->service) < sizeof(kcache.service);
	if (fits && kcache.ok && memcmp(who, kcache.who, 32) == 0 &&
	    strcmp(c->date, kcache.date) == 0 &&
	    strcmp(c->cfg->region, kcache.region) == 0 &&
	    strcmp(c->cfg->service, kcache.service) == 0) {
		memcpy(key, kcache.key, 32);
		return;
	}
	k0 = lb_xasprintf("AWS4%s", secret);
	hmac(k0, strlen(k0), c->date, key);
	OPENSSL_cleanse(k0, strlen(k0));
	free(k0);
	hmac(key, 32, c->cfg->region, key);
	hmac(key, 32, c->cfg->service, key);
	hmac(key, 32, "aws4_request", key);
	if (fits) {
		memcpy(kcache.who, who, 32);
		snprintf(kcache.date, sizeof(kcache.date), "%s", c->date);
		snprintf(kcache.region, sizeof(kcache.region), "%s",
		    c->cfg->region);
		snprintf(kcache.service, sizeof(kcache.service), "%s",
		    c->cfg->service);
		memcpy(kcache.key, key, 32);
		kcache.ok = 1;
	}
	OPENSSL_cleanse(who, sizeof(who));
}

static void
signature(struct ctx *c)
{
	unsigned char key[32], sig[32];

	signing_key(c, key);
	hmac(key, sizeof(key), c->to_sign, sig);
	OPENSSL_cleanse(key, sizeof(key));
	lb_util_hex(sig, sizeof(sig), c->signature);
}

static void
ctx_free(struct ctx *c)
{
	size_t i;

	url_free(&c->url);
	free(c->scope);
	for (i = 0; i < c->nparams; i++) {
		free(c->params[i].key);
		free(c->params[i].value);
	}
	free(c->params);
	for (i = 0; i < c->nhdrs; i++) {
		free(c->hdrs[i].name);
		free(c->hdrs[i].value);
	}
	free(c->hdrs);
	free(c->signed_headers);
	free(c->payload_hash);
	free(c->canonical);
	free(c->to_sign);
}

/* What both ways of signing share: checks, URL, dates, headers. */
static int
ctx_init(struct ctx *c, const struct lb_sigv4 *cfg, const char *method,
    const char *url, const char *const *headers, struct lb_err *err)
{
	time_t now;
	struct tm tm;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	if (cfg->creds == NULL || cfg->creds->akid == NULL ||
	    cfg->creds->secret == NULL || *cfg->creds->akid == '\0')
		return lb_err_set(err, LB_EUSAGE, 0, "no AWS credentials");
	if (cfg->region == NULL || *cfg->region == '\0')
		return lb_err_set(err, LB_EUSAGE, 0, "no AWS region");
	if (cfg->service == NULL || *cfg->service == '\0')
		return lb_err_set(err, LB_EUSAGE, 0, "no signing service");
	if (method == NULL || *method == '\0')
		return lb_err_set(err, LB_EUSAGE, 0, "no HTTP method");
	if (url == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "no URL");
	if (url_parse(url, &c->url, err) == -1)
		return -1;
	now = cfg->now != 0 ? cfg->now : time(NULL);
	if (gmtime_r(&now, &tm) == NULL)
		return lb_err_set(err, LB_EUSAGE, 0, "bad signing time");
	strftime(c->amzdate, sizeof(c->amzdate), "%Y%m%dT%H%M%SZ", &tm);
	memcpy(c->date, c->amzdate, 8);
	c->date[8] = '\0';
	c->scope = lb_xasprintf("%s/%s/%s/aws4_request", c->date,
	    cfg->region, cfg->service);
	if (collect_headers(c, headers, err) == -1)
		return -1;
	if (!has_header(c, "host"))
		header_add(c, "host", 4, c->url.host);
	return 0;
}

static void
fill_out(const struct ctx *c, struct lb_sigv4_out *out, char *authorization)
{
	if (out == NULL) {
		free(authorization);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->canonical = lb_xstrdup(c->canonical);
	out->to_sign = lb_xstrdup(c->to_sign);
	out->signature = lb_xstrdup(c->signature);
	out->authorization = authorization;
	out->amzdate = lb_xstrdup(c->amzdate);
	out->payload_hash = lb_xstrdup(c->payload_hash);
}

int
lb_sigv4_sign(const struct lb_sigv4 *cfg, const char *method,
    const char *url, const char *const *headers, const void *body,
    size_t bodylen, struct curl_slist **list, struct lb_sigv4_out *out,
    struct lb_err *err)
{
	struct ctx c;
	struct curl_slist *l;
	char *uri = NULL, *query = NULL, *chdrs = NULL, *auth = NULL, *line;
	const char *token;
	int rc = -1;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ctx_init(&c, cfg, method, url, headers, err) == -1)
		goto out;
	/* What this function sets replaces whatever the caller gave. */
	header_drop(&c, "x-amz-date");
	header_add(&c, "x-amz-date", 10, c.amzdate);
	token = cfg->creds->token;
	if (token != NULL && *token != '\0') {
		header_drop(&c, "x-amz-security-token");
		header_add(&c, "x-amz-security-token", 20, token);
	}
	payload_hash(&c, body, bodylen, 0);
	if (c.add_content_sha) {
		header_drop(&c, "x-amz-content-sha256");
		header_add(&c, "x-amz-content-sha256", 20, c.payload_hash);
	}
	query_params(&c);
	uri = canonical_uri(&c);
	query = canonical_query(&c);
	chdrs = canonical_headers(&c);
	c.canonical = canonical_request(&c, method, uri, query, chdrs);
	c.to_sign = string_to_sign(&c);
	signature(&c);
	auth = lb_xasprintf("%s Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", ALGORITHM, cfg->creds->akid, c.scope,
	    c.signed_headers, c.signature);

	if (list != NULL) {
		l = *list;
		line = lb_xasprintf("Authorization: %s", auth);
		l = curl_slist_append(l, line);
		free(line);
		line = lb_xasprintf("X-Amz-Date: %s", c.amzdate);
		l = curl_slist_append(l, line);
		free(line);
		if (token != NULL && *token != '\0') {
			line = lb_xasprintf("X-Amz-Security-Token: %s", token);
			l = curl_slist_append(l, line);
			free(line);
		}
		if (c.add_content_sha) {
			line = lb_xasprintf("x-amz-content-sha256: %s",
			    c.payload_hash);
			l = curl_slist_append(l, line);
			free(line);
		}
		if (l == NULL)
			abort();
		*list = l;
	}
	fill_out(&c, out, auth);
	auth = NULL;
	rc = 0;
out:
	free(uri);
	free(query);
	free(chdrs);
	free(auth);
	ctx_free(&c);
	return rc;
}

char *
lb_sigv4_presign(const struct lb_sigv4 *cfg, const char *method,
    const char *url, const char *const *headers, int expires,
    struct lb_sigv4_out *out, struct lb_err *err)
{
	struct ctx c;
	struct lb_buf cred = { 0 };
	char *uri = NULL, *query = NULL, *chdrs = NULL, *signed_url = NULL;
	const char *token;
	char num[32];

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (expires < 1 || expires > 604800) {
		memset(&c, 0, sizeof(c));
		lb_err_set(err, LB_EUSAGE, 0, "presign expiry %d out of range",
		    expires);
		goto out;
	}
	if (ctx_init(&c, cfg, method, url, headers, err) == -1)
		goto out;
	query_params(&c);
	/* The signed headers name goes into the query, so do them first. */
	chdrs = canonical_headers(&c);
	lb_buf_printf(&cred, "%s/%s", cfg->creds->akid, c.scope);
	param_add(&c, lb_xstrdup("X-Amz-Algorithm"), lb_xstrdup(ALGORITHM));
	param_add(&c, lb_xstrdup("X-Amz-Credential"), reencode(cred.p,
	    cred.len));
	param_add(&c, lb_xstrdup("X-Amz-Date"), lb_xstrdup(c.amzdate));
	snprintf(num, sizeof(num), "%d", expires);
	param_add(&c, lb_xstrdup("X-Amz-Expires"), lb_xstrdup(num));
	param_add(&c, lb_xstrdup("X-Amz-SignedHeaders"),
	    reencode(c.signed_headers, strlen(c.signed_headers)));
	token = cfg->creds->token;
	if (token != NULL && *token != '\0') {
		struct lb_buf t = { 0 };

		uri_encode(&t, token, strlen(token), 0);
		param_add(&c, lb_xstrdup("X-Amz-Security-Token"), t.p);
	}
	payload_hash(&c, NULL, 0, 1);
	uri = canonical_uri(&c);
	query = canonical_query(&c);
	c.canonical = canonical_request(&c, method, uri, query, chdrs);
	c.to_sign = string_to_sign(&c);
	signature(&c);
	signed_url = lb_xasprintf("%s://%s%s?%s&X-Amz-Signature=%s",
	    c.url.scheme, c.url.authority, *c.url.path ? c.url.path : "/",
	    query, c.signature);
	fill_out(&c, out, NULL);
out:
	lb_buf_free(&cred);
	free(uri);
	free(query);
	free(chdrs);
	ctx_free(&c);
	return signed_url;
}
