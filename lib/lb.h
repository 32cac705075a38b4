/*
 * lb.h: the core of liblb, shared by every lb tool.
 * Sectioned by source file.  Services with more to say have their own
 * header (s3.h, k8s.h, evalai.h, results.h, ...) that includes this one.
 *
 * Rules: the library never prints and never exits.  Functions that can
 * fail take a struct lb_err * and return -1 (or NULL) after filling it.
 */
#ifndef LB_H
#define LB_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* err.c */

/* Exit statuses, also the error kinds (lb(7)). */
enum {
	LB_OK = 0,
	LB_EFAIL = 1,		/* failed for good */
	LB_EUSAGE = 2,		/* usage or configuration */
	LB_ETEMP = 75		/* temporary: a rerun may work */
};

struct lb_err {
	int	kind;		/* LB_EFAIL, LB_EUSAGE, LB_ETEMP */
	long	http;		/* HTTP status, 0 when none */
	char	code[96];	/* service error code, e.g. QueueDoesNotExist */
	char	msg[1024];
};

/* Fill err; returns -1 so callers can "return lb_err_set(...)". */
int	lb_err_set(struct lb_err *, int kind, long http, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Prefix err->msg with "what: ". */
void	lb_err_prefix(struct lb_err *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	lb_err_clear(struct lb_err *);
/*
 * Fold one outcome into a running exit status: any usage error gives 2,
 * else any permanent failure gives 1, else temporary failures give 75.
 */
void	lb_err_fold(int *status, int kind);

/* util.c */

void	*lb_xmalloc(size_t);	/* abort()s on ENOMEM: not recoverable */
void	*lb_xrealloc(void *, size_t);
char	*lb_xstrdup(const char *);
char	*lb_xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct lb_buf {
	char	*p;
	size_t	 len, cap;
};
void	lb_buf_add(struct lb_buf *, const void *, size_t);
void	lb_buf_puts(struct lb_buf *, const char *);
void	lb_buf_printf(struct lb_buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	lb_buf_free(struct lb_buf *);

/* Read a whole file; NULL with err on failure.  *lenp may be NULL. */
char	*lb_util_readfile(const char *path, size_t *lenp, struct lb_err *);
/* Write a file atomically (temporary name in the same directory, rename). */
int	lb_util_writefile(const char *path, const void *, size_t,
	    struct lb_err *);
/* mkdir -p */
int	lb_util_mkdirs(const char *path, struct lb_err *);
/* Current UTC time as ISO 8601 with seconds: 2026-11-28T07:36:43Z */
void	lb_util_isotime(time_t, char buf[32]);
/* Parse a whole decimal number; -1 when it is not one or out of range. */
int	lb_util_strtol(const char *, long min, long max, long *out);
/* Sleep for ms milliseconds, returning early when *stop becomes non-zero. */
void	lb_util_sleep_ms(long ms, volatile int *stop);
/* Monotonic clock in milliseconds. */
long long lb_util_now_ms(void);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void	lb_util_hex(const unsigned char *, size_t n, char *out);

/* json.c: small helpers over cJSON */

/* Member lookup by a dotted path ("data.submission.team_id"); NULL if absent. */
cJSON	*lb_json_path(const cJSON *, const char *dotted);
/* The string at a dotted path, or NULL when absent or not a string. */
const char *lb_json_str(const cJSON *, const char *dotted);
/*
 * A member as text: strings as is, integral numbers without a decimal
 * point, NULL for anything else.  Writes into buf.
 */
const char *lb_json_text(const cJSON *, char *buf, size_t len);
/*
 * The number at a dotted path, truncated to a long, or dflt when absent,
 * not a number, or outside [min, max] (a bare C cast of such a double is
 * undefined).
 */
long	lb_json_long(const cJSON *, const char *dotted, long min, long max,
	    long dflt);
/* Exactly one JSON text in p[0..n), no trailing garbage; NULL if not. */
cJSON	*lb_json_parse(const char *p, size_t n);
/* Replace or add obj[name] = item (takes ownership of item). */
void	lb_json_set(cJSON *obj, const char *name, cJSON *item);
/* Replace or add obj[name] = string. */
void	lb_json_set_str(cJSON *obj, const char *name, const char *s);
/* Compact text of item, malloc'd. */
char	*lb_json_print(const cJSON *);

/* jsonl.c: JSON lines in and out */

#define LB_JSONL_CAP	(16u << 20)	/* default per-record cap */

struct lb_jsonl;

/* name is used in messages ("stdin", a file name).  cap 0: default. */
struct lb_jsonl *lb_jsonl_open(FILE *, const char *name, size_t cap);
/*
 * Next record.  Returns 1 and sets *out (caller frees) for an object,
 * 0 at the end, -1 for a bad record (err says why, the reader goes on
 * with the next one) and -2 on a read error (stop).
 */
int	lb_jsonl_next(struct lb_jsonl *, cJSON **out, struct lb_err *);
/* Line number where the last record (good or bad) started, from 1. */
long	lb_jsonl_line(const struct lb_jsonl *);
/* Raw text of the last record, for reject files; valid until next call. */
const char *lb_jsonl_raw(const struct lb_jsonl *, size_t *len);
const char *lb_jsonl_name(const struct lb_jsonl *);
void	lb_jsonl_close(struct lb_jsonl *);
/* Write one compact record and a newline, then flush.  -1 on error. */
int	lb_jsonl_write(FILE *, const cJSON *);
/* Append raw text and a newline to a reject file (opened by name). */
int	lb_jsonl_reject(const char *path, const char *raw, size_t len);

/* http.c: every remote call goes through here */

struct lb_http;
struct lb_http_req;

/* Called before every attempt (re-signing, fresh tokens). */
typedef int (*lb_http_prep_fn)(void *arg, struct lb_http_req *,
    struct curl_slist **headers, struct lb_err *);
/* Receives trace lines (already redacted) when tracing is on. */
typedef void (*lb_http_trace_fn)(void *arg, const char *line);

struct lb_http_req {
	const char	*method;	/* GET, PUT, POST, DELETE, HEAD, PATCH */
	const char	*url;
	const char	*const *headers; /* "Name: value", NULL-terminated */
	const void	*body;		/* request body in memory, or */
	size_t		 bodylen;
	FILE		*upload;	/* a body read from this file */
	long long	 uploadlen;	/* ... of this many bytes */
	long long	 uploadoff;	/* ... starting here */
	FILE		*download;	/* write the body here, not to resp */
	int		 noretry;	/* one attempt, fresh connection */
	long		 timeout_ms;	/* 0: the handle's default */
	lb_http_prep_fn	 prep;		/* may add headers per attempt */
	void		*prep_arg;
	/* write callback for streams (watch); return 0 to go on, -1 to stop */
	int		(*stream)(void *arg, const char *, size_t);
	void		*stream_arg;
};

struct lb_http_resp {
	long		 status;
	struct lb_buf	 body;		/* unless req.download/stream */
	struct lb_buf	 headers;	/* raw header lines of the last answer */
	int		 attempts;
};

struct lb_http_opts {
	long	connect_timeout_ms;	/* default 5000 */
	long	timeout_ms;		/* whole request; default 60000 */
	int	max_attempts;		/* default 5 */
	long	backoff_base_ms;	/* default 200 */
	long	backoff_max_ms;		/* default 20000 */
	long	retry_after_max_ms;	/* cap on a server's Retry-After, 60000 */
	const char *ca_file;		/* CA bundle file */
	const char *ca_pem;		/* inline CA PEM */
	const char *cert_pem, *key_pem;	/* client certificate (k8s) */
	int	insecure;		/* skip TLS verification */
	lb_http_trace_fn trace;		/* NULL: no trace */
	void	*trace_arg;
	volatile int *stop;		/* backoff sleeps end when *stop */
};

/* NULL opts: defaults.  The handle keeps connections open for reuse. */
struct lb_http *lb_http_new(const struct lb_http_opts *);
void	lb_http_free(struct lb_http *);
/*
 * Perform req with retries on network errors, 5xx, 429 and throttling
 * answers, with full-jitter exponential backoff honouring Retry-After.
 * Returns 0 when an answer arrived (any status: check resp->status; a
 * final retryable status still returns 0 with err filled as LB_ETEMP
 * kind so callers can tell), -1 when none did.  Free resp with
 * lb_http_resp_free.
 */
int	lb_http_do(struct lb_http *, struct lb_http_req *,
	    struct lb_http_resp *, struct lb_err *);
void	lb_http_resp_free(struct lb_http_resp *);
/* Value of a response header (case-insensitive), malloc'd, or NULL. */
char	*lb_http_header(const struct lb_http_resp *, const char *name);
/* Is this status/body worth retrying (5xx, 429, AWS throttling codes)? */
int	lb_http_retryable(long status, const char *body, size_t len);
/* Error kind for a final HTTP status: LB_ETEMP or LB_EFAIL. */
int	lb_http_kind(long status);
/* Milliseconds to wait before attempt n (1-based), full jitter. */
long	lb_http_backoff(const struct lb_http *, int n);
/* Percent-encode s (RFC 3986 unreserved kept; '/' kept when keepslash). */
char	*lb_http_escape(const char *s, int keepslash);

/* sigv4.c: AWS Signature Version 4 */

struct lb_creds {
	char	*akid, *secret, *token;	/* token may be NULL */
	time_t	 expires;		/* 0: does not expire */
};
void	lb_creds_free(struct lb_creds *);

struct lb_sigv4 {
	const struct lb_creds *creds;
	const char	*region;
	const char	*service;	/* signing name: sqs, s3, sts, ... */
	time_t		 now;		/* 0: the current time */
	int		 s3;		/* S3 rules: no path normalising */
	const char	*payload_hash;	/* NULL: hash the body; or
					 * "UNSIGNED-PAYLOAD" */
};

/* Intermediate results, for tests and -v traces (no secrets inside). */
struct lb_sigv4_out {
	char	*canonical;		/* canonical request */
	char	*to_sign;		/* string to sign */
	char	*signature;		/* hex */
	char	*authorization;		/* full Authorization value */
	char	*amzdate;		/* X-Amz-Date value */
	char	*payload_hash;
};
void	lb_sigv4_out_free(struct lb_sigv4_out *);
/* Lower-case hex SHA-256 of n bytes (payload hashes). */
void	lb_sigv4_sha256_hex(const void *, size_t n, char out[65]);

/*
 * Sign a request.  headers is "Name: value" lines (host is taken from
 * the URL unless given).  Appends Authorization, X-Amz-Date,
 * X-Amz-Security-Token and (for S3) x-amz-content-sha256 to *list.
 * out may be NULL.
 */
int	lb_sigv4_sign(const struct lb_sigv4 *, const char *method,
	    const char *url, const char *const *headers, const void *body,
	    size_t bodylen, struct curl_slist **list,
	    struct lb_sigv4_out *out, struct lb_err *);
/*
 * Presign a URL (query authentication) valid for expires seconds,
 * signing the extra headers given (e.g. "x-k8s-aws-id: cluster").
 * Returns the malloc'd URL.
 */
char	*lb_sigv4_presign(const struct lb_sigv4 *, const char *method,
	    const char *url, const char *const *headers, int expires,
	    struct lb_sigv4_out *out, struct lb_err *);

/* aws.c: configuration, credentials and service calls */

/* One struct lb_aws per thread: it caches credentials unlocked. */
struct lb_aws;

/*
 * Reads region, profile and endpoints from the environment and files.
 * http may be NULL (a handle of its own is made).  Fails only on a
 * config file that exists but cannot be read.
 */
struct lb_aws *lb_aws_new(struct lb_http *, struct lb_err *);
void	lb_aws_free(struct lb_aws *);
/* AWS_REGION, AWS_DEFAULT_REGION, the profile's region; NULL if none. */
const char *lb_aws_region(const struct lb_aws *);
void	lb_aws_set_region(struct lb_aws *, const char *);
/*
 * Endpoint base URL (no trailing slash) of a service: id is the
 * signing name (sqs, dynamodb, s3, secretsmanager, logs, sts, eks).
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, else the regional one;
 * NULL when that needs a region and there is none.
 */
char	*lb_aws_endpoint(const struct lb_aws *, const char *id);
/* Is the endpoint a custom one (S3 then uses path style)? */
int	lb_aws_custom_endpoint(const struct lb_aws *, const char *id);
/*
 * URL of an S3 bucket or object (key may be NULL): path style on custom
 * endpoints and for bucket names with dots, else virtual-hosted style.
 * The key is percent-encoded ('/' kept).  NULL when there is no region.
 */
char	*lb_aws_s3_url(const struct lb_aws *, const char *bucket,
	    const char *key);
/*
 * Current credentials (cached, refreshed 5 minutes before they
 * expire).  Sources in order: environment, shared credentials and
 * config files (AWS_PROFILE), web identity, container, IMDSv2.  None:
 * NULL with an LB_EUSAGE error.
 */
const struct lb_creds *lb_aws_creds(struct lb_aws *, struct lb_err *);
/* Where the current credentials came from: "env", "profile",
 * "web-identity", "container", "imds"; NULL before any. */
const char *lb_aws_creds_source(const struct lb_aws *);
/*
 * Fill a signing configuration for service id with the current
 * credentials and region (for presigning, e.g. the EKS token).  The
 * pointers stay valid until the next lb_aws_creds or lb_aws_free.
 */
int	lb_aws_signer(struct lb_aws *, const char *id, struct lb_sigv4 *,
	    struct lb_err *);
/*
 * JSON protocol call (X-Amz-Target).  target "DynamoDB_20120810.PutItem",
 * ctype "application/x-amz-json-1.0".  Returns the parsed answer or
 * NULL with err (code = __type after '#', msg = message/Message).
 */
cJSON	*lb_aws_json(struct lb_aws *, const char *id, const char *target,
	    const char *ctype, const cJSON *body, struct lb_err *);
/* Query protocol (form POST).  Returns the raw XML answer, malloc'd. */
char	*lb_aws_query(struct lb_aws *, const char *id, const char *form,
	    struct lb_err *);
/*
 * A signed request of any shape (S3, EKS REST).  resp as for
 * lb_http_do; AWS XML/JSON error bodies are turned into err for
 * statuses >= 300.  Returns 0 on a 2xx answer.  Signed again on every
 * attempt.  S3 (id "s3") gets x-amz-content-sha256: the hash of the
 * body or upload, or the value of that header when the caller sets it
 * (e.g. UNSIGNED-PAYLOAD).  A prep the caller set runs first.
 */
int	lb_aws_request(struct lb_aws *, const char *id,
	    struct lb_http_req *, struct lb_http_resp *, struct lb_err *);
/*
 * Send each signed request's canonical request and string to sign, line
 * by line, to fn (a -v trace).  Session tokens are redacted.
 */
void	lb_aws_set_trace(struct lb_aws *, lb_http_trace_fn fn, void *arg);
/* Fill err from an AWS error answer (JSON __type or XML <Code>). */
void	lb_aws_error(long status, const char *body, size_t len,
	    struct lb_err *);
/*
 * Text of the first element of each name (namespace prefixes ignored)
 * in an XML document; vals[i] malloc'd or NULL.  -1 if not well formed.
 */
int	lb_aws_xml_get(const char *xml, size_t len, const char *const *names,
	    char **vals);

/* yaml.c: YAML to cJSON */

/*
 * YAML 1.2 core schema, applied to plain scalars only: ~ null Null NULL
 * and empty are null; true/True/TRUE/false/False/FALSE are bools;
 * [-+]?[0-9]+, 0o[0-7]+ and 0x[0-9a-fA-F]+ are integers; decimal floats,
 * [-+].inf and .nan (NaN, cJSON prints both as null) are numbers; all
 * else is a string (yes/no/on/off too).  Quoted, literal and folded
 * scalars are strings.  The tags !!str !!int !!float !!bool !!null
 * !!seq !!map and ! are honoured; any other tag is an error.
 * Integers beyond +-2^53 (not exact in a double) and floats that
 * overflow are errors ("integer out of range"), not silently rounded.
 * An alias is a deep copy of its anchored node.  Merge keys ("<<") are
 * not part of YAML 1.2: "<<" is an ordinary key.  Mapping keys must be
 * scalars and are used as text, as written (1: and '1': are the same
 * key; no range checks); a duplicate key is an error.  A scalar holding
 * a NUL byte is an error.
 * Limits, copies included: 1e6 nodes, 256 MiB of text, 512 levels.
 */
#define LB_YAML_MAXNODES	1000000
#define LB_YAML_MAXDEPTH	512

struct lb_yaml;

/*
 * Parse YAML text (all documents).  name is used in messages (a file
 * name).  NULL with err (kind LB_EUSAGE, "name:LINE: problem (context)")
 * on any error.  Empty text or only comments gives zero documents.
 */
struct lb_yaml *lb_yaml_parse(const char *text, size_t len,
	    const char *name, struct lb_err *);
/* The same for a file, named by its path in messages. */
struct lb_yaml *lb_yaml_load(const char *path, struct lb_err *);
int	lb_yaml_ndocs(const struct lb_yaml *);
/* Document i (owned by the lb_yaml), NULL when out of range. */
cJSON	*lb_yaml_doc(const struct lb_yaml *, int i);
/*
 * Source line (from 1) of a node of a document, 0 when unknown.  A node
 * starts at its anchor or tag when it has one; a member's line is its
 * value's.  An alias copy is at the alias, the nodes inside it where
 * the anchored originals were written.
 */
int	lb_yaml_line(const struct lb_yaml *, const cJSON *);
const char *lb_yaml_name(const struct lb_yaml *);
void	lb_yaml_free(struct lb_yaml *);

/* jsonpath.c: the JSONPath subset of Step Functions parameters */

/*
 * Evaluate a path ($, .name, ['name'], ["name"], [N]) on doc.  Returns the
 * node (owned by doc), or NULL with err: LB_EUSAGE for a malformed path,
 * LB_EFAIL when the path does not exist in doc.
 */
cJSON	*lb_jsonpath_get(const cJSON *doc, const char *path,
	    struct lb_err *);
/* Syntax check only. */
int	lb_jsonpath_check(const char *path, struct lb_err *);

#endif
