/*
 * s3.h: the S3 engine shared by lb-s3 and lb-logcopy.
 *
 * One struct lb_s3 holds the configuration and a pool of connections
 * (an lb_http and an lb_aws each), so transfers can run in parallel
 * threads.  Object listings, downloads, uploads (single or multipart),
 * deletes and a whole-directory sync in either direction.  Like the
 * rest of liblb it never prints: errors come back in struct lb_err,
 * per-file outcomes of a sync through a callback.
 */
#ifndef LB_S3_H
#define LB_S3_H

#include "lb.h"

#define LB_S3_PART_MIN		(5LL << 20)	/* S3's smallest non-last part */
#define LB_S3_PART_DEFAULT	(8LL << 20)
#define LB_S3_MAX_PARTS		10000
#define LB_S3_DELETE_BATCH	1000

struct lb_s3_opts {
	const struct lb_http_opts *http; /* NULL: lb_http defaults */
	long long	 threshold;	/* multipart from this size; 0: 8 MiB */
	long long	 part_size;	/* 0: 8 MiB; raised to at least 5 MiB
					 * and to stay within 10000 parts */
	int		 jobs;		/* parallel parts or files; 0: 8 */
	int		 page_size;	/* max-keys of a listing page; 0: 1000 */
};

struct lb_s3;

struct lb_s3 *lb_s3_new(const struct lb_s3_opts *, struct lb_err *);
void	lb_s3_free(struct lb_s3 *);

/* Split "s3://BUCKET/KEY" (KEY may be empty); malloc'd parts. */
int	lb_s3_parse_url(const char *url, char **bucket, char **key,
	    struct lb_err *);

/* One listed object, or a common prefix when is_prefix is set. */
struct lb_s3_obj {
	const char	*key;		/* the key (or the prefix) */
	int		 is_prefix;
	long long	 size;
	char		 etag[72];	/* without the quotes */
	char		 last_modified[40]; /* as S3 wrote it */
	time_t		 mtime;		/* last_modified parsed, 0 if not */
};

/* Called per entry in key order; return -1 (err filled) to stop. */
typedef int (*lb_s3_list_fn)(void *arg, const struct lb_s3_obj *,
    struct lb_err *);

/*
 * List the keys under prefix with ListObjectsV2, following
 * continuation tokens.  delim NULL lists recursively; "/" gives the
 * common prefixes as entries with is_prefix set.
 */
int	lb_s3_list(struct lb_s3 *, const char *bucket, const char *prefix,
	    const char *delim, lb_s3_list_fn, void *arg, struct lb_err *);

/*
 * Download an object to path: written under a temporary name in the
 * same directory, renamed over path only once complete, its mtime set
 * to the object's LastModified.  out (may be NULL) gets size and ETag.
 */
int	lb_s3_get_file(struct lb_s3 *, const char *bucket, const char *key,
	    const char *path, struct lb_s3_obj *out, struct lb_err *);
/* Download to a stream (stdout): spooled, written once complete. */
int	lb_s3_get_fp(struct lb_s3 *, const char *bucket, const char *key,
	    FILE *, struct lb_s3_obj *out, struct lb_err *);

/*
 * Upload a file: one PUT below the threshold, else a multipart upload
 * with parts sent in parallel (aborted on failure).  ctype NULL:
 * application/octet-stream.  out (may be NULL) gets size and ETag.
 */
int	lb_s3_put_file(struct lb_s3 *, const char *bucket, const char *key,
	    const char *path, const char *ctype, struct lb_s3_obj *out,
	    struct lb_err *);
/* Upload what a stream (stdin) holds: spooled to a temporary file. */
int	lb_s3_put_fp(struct lb_s3 *, const char *bucket, const char *key,
	    FILE *, const char *ctype, struct lb_s3_obj *out,
	    struct lb_err *);
/* Upload bytes in memory (markers, small results). */
int	lb_s3_put_mem(struct lb_s3 *, const char *bucket, const char *key,
	    const void *, size_t, const char *ctype, struct lb_s3_obj *out,
	    struct lb_err *);

/* Delete one key (a missing key is no error, as in S3). */
int	lb_s3_delete(struct lb_s3 *, const char *bucket, const char *key,
	    struct lb_err *);
/* Per-key outcome of a batch delete: e is NULL when the key went. */
typedef void (*lb_s3_del_fn)(void *arg, const char *key,
    const struct lb_err *e);
/*
 * Delete many keys with DeleteObjects, 1000 a request.  Returns 0
 * when every key went, -1 otherwise (err: the first failure).
 */
int	lb_s3_delete_many(struct lb_s3 *, const char *bucket,
	    const char *const *keys, size_t n, lb_s3_del_fn, void *arg,
	    struct lb_err *);

/* sync */

enum { LB_S3_UP = 1, LB_S3_DOWN = 2 };	/* local->S3, S3->local */

struct lb_s3_filter {
	int		 include;	/* 1 include, 0 exclude */
	const char	*glob;		/* fnmatch(3), '*' matches '/' too */
};

/* What happened to one file.  Calls are serialised by the engine. */
struct lb_s3_event {
	const char	*op;		/* "upload", "download", "delete" */
	const char	*key;		/* full key */
	const char	*path;		/* local path */
	long long	 size;
	int		 dryrun;	/* it would have happened */
	const struct lb_err *err;	/* NULL: done; else why it failed */
};
typedef void (*lb_s3_sync_fn)(void *arg, const struct lb_s3_event *);

struct lb_s3_sync_opts {
	int		 direction;	/* LB_S3_UP or LB_S3_DOWN */
	int		 delete;	/* remove what the source lacks */
	int		 dryrun;	/* report, change nothing */
	int		 jobs;		/* files at once; 0: the engine's */
	const struct lb_s3_filter *filters; /* later ones win */
	size_t		 nfilters;
	lb_s3_sync_fn	 fn;		/* may be NULL */
	void		*arg;
	/*
	 * Up only: the name of a state file in dir (its name begins with
	 * ".lb-s3-", so it is never synced itself), recording per file
	 * the stat it had when its content was last known to be in S3,
	 * and its MD5.  A file whose stat is the recorded one is not read
	 * again to compare it.  With trust_s > 0 and a listing done less
	 * than trust_s seconds ago, no listing is made: files whose stat
	 * is the recorded one count as unchanged, the others are sent.
	 * Meant for a sync that is the only writer of what it sends.
	 */
	const char	*state;
	long		 trust_s;
};

struct lb_s3_counts {
	long		 uploaded, downloaded, deleted, unchanged, failed;
	long long	 bytes;		/* transferred */
};

/*
 * Make bucket/prefix (taken as a directory: a '/' is added when
 * missing) and the local dir hold the same files, transferring those
 * whose size or content differ (ETag against the local MD5, multipart
 * ETags recomputed with the matching part size, else size and mtime
 * as aws s3 sync does).  Returns 0 when every file went well; -1 when
 * the listing failed or some file failed (err: the worst of them,
 * counts->failed says how many).
 */
int	lb_s3_sync(struct lb_s3 *, const struct lb_s3_sync_opts *,
	    const char *dir, const char *bucket, const char *prefix,
	    struct lb_s3_counts *, struct lb_err *);

/*
 * The sync state (above), exposed for tests.  A stat changed less than
 * two seconds before "now" is not recorded: a write within the
 * filesystem's timestamp granularity could go unseen.
 */
struct stat;
struct lb_s3_state;
/* Never NULL: a missing or malformed file gives an empty state. */
struct lb_s3_state *lb_s3_state_load(const char *path);
/* 1 with its MD5 in etag ("" when unknown) when st is rel's recorded stat */
int	lb_s3_state_get(const struct lb_s3_state *, const char *rel,
	    const struct stat *, char etag[72]);
/* Record rel as in S3 with this stat (rels in increasing order). */
void	lb_s3_state_put(struct lb_s3_state *, const char *rel,
	    const struct stat *, const char *etag, time_t now);
/* When the last listing was done (0: never), and setting it. */
time_t	lb_s3_state_listed(const struct lb_s3_state *);
void	lb_s3_state_set_listed(struct lb_s3_state *, time_t);
int	lb_s3_state_save(const struct lb_s3_state *, const char *path,
	    struct lb_err *);
void	lb_s3_state_free(struct lb_s3_state *);

/* Is rel (a path relative to the sync root) selected by filters? */
int	lb_s3_selected(const struct lb_s3_filter *, size_t n,
	    const char *rel);

/* ETag an upload of the file would get with this part size (0: single) */
int	lb_s3_file_etag(const char *path, long long part_size, char out[72],
	    struct lb_err *);

/* XML answers (expat); exposed for tests and fuzzing. */

/*
 * One ListObjectsV2 page: fn per object and common prefix (keys
 * decoded when EncodingType is url).  *next gets the continuation
 * token (malloc'd) or NULL on the last page.
 */
int	lb_s3_xml_list(const char *xml, size_t len, lb_s3_list_fn, void *arg,
	    char **next, struct lb_err *);
/*
 * An <Error> document: fills err (code, msg, kind from status) and
 * returns 1; 0 when xml is no error document (err untouched).
 */
int	lb_s3_xml_error(const char *xml, size_t len, long status,
	    struct lb_err *);

#endif
