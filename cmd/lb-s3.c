/*
 * lb-s3: list, copy, remove and sync S3 objects; JSON lines out.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3.h"

static int verbose;
static int status;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lb-s3 [-v] ls [-r] [-p count] s3://bucket[/prefix]\n"
	    "       lb-s3 [-v] cp [-j jobs] [-m size] source destination\n"
	    "       lb-s3 [-v] rm [-r] [-p count] s3://bucket/key\n"
	    "       lb-s3 [-v] sync [--delete] [--dry-run] [--exclude glob]"
	    " [--include glob]\n"
	    "                  [-j jobs] [-m size] [-p count] source "
	    "destination\n");
	exit(2);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

/* A size: bytes, or with a K, M or G suffix (powers of 1024). */
static long long
parse_size(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10;
		end++;
		break;
	case 'm': case 'M':
		v <<= 20;
		end++;
		break;
	case 'g': case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	return *end == '\0' ? v : -1;
}

static int
parse_count(const char *s, long max, const char *what)
{
	long v;

	if (lb_util_strtol(s, 1, max, &v) == -1) {
		warnx("%s: %s must be 1 to %ld", s, what, max);
		usage();
	}
	return (int)v;
}

static void
fail(const struct lb_err *e)
{
	warnx("%s", e->msg);
	lb_err_fold(&status, e->kind ? e->kind : LB_EFAIL);
}

static struct lb_s3 *
engine(struct lb_s3_opts *o)
{
	static struct lb_http_opts h;
	struct lb_err e;
	struct lb_s3 *s3;

	memset(&e, 0, sizeof(e));
	memset(&h, 0, sizeof(h));
	h.connect_timeout_ms = 5000;
	h.timeout_ms = 0;		/* big objects take their time */
	h.max_attempts = 5;
	h.backoff_base_ms = 200;
	h.backoff_max_ms = 20000;
	h.retry_after_max_ms = 60000;
	if (verbose)
		h.trace = trace;
	o->http = &h;
	if ((s3 = lb_s3_new(o, &e)) == NULL) {
		warnx("%s", e.msg);
		exit(e.kind ? e.kind : 1);
	}
	return s3;
}

static void
put_rec(const char *op, const char *key, long long size, const char *etag,
    const char *path)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddNumberToObject(o, "size", (double)size);
	if (etag != NULL && *etag != '\0')
		cJSON_AddStringToObject(o, "etag", etag);
	if (path != NULL)
		cJSON_AddStringToObject(o, "path", path);
	if (lb_jsonl_write(stdout, o) == -1)
		err(1, "stdout");
	cJSON_Delete(o);
}

static void
split_url(const char *url, char **bucket, char **key)
{
	struct lb_err e;

	memset(&e, 0, sizeof(e));
	if (lb_s3_parse_url(url, bucket, key, &e) == -1) {
		warnx("%s", e.msg);
		usage();
	}
}

/* ls */

static int
ls_fn(void *arg, const struct lb_s3_obj *ob, struct lb_err *e)
{
	cJSON *o = cJSON_CreateObject();

	if (ob->is_prefix)
		cJSON_AddStringToObject(o, "prefix", ob->key);
	else {
		cJSON_AddStringToObject(o, "key", ob->key);
		cJSON_AddNumberToObject(o, "size", (double)ob->size);
		cJSON_AddStringToObject(o, "etag", ob->etag);
		cJSON_AddStringToObject(o, "last_modified",
		    ob->last_modified);
	}
	if (lb_jsonl_write(stdout, o) == -1) {
		cJSON_Delete(o);
		return lb_err_set(e, LB_EFAIL, 0, "stdout: %s",
		    strerror(errno));
	}
	cJSON_Delete(o);
	return 0;
}

/* The options ls and rm share: -p page size, -r; then one s3:// URL. */
static int
parse_pr(int argc, char **argv, struct lb_s3_opts *o, char **bucket,
    char **key)
{
	int ch, recursive = 0;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "p:r")) != -1)
		switch (ch) {
		case 'p':
			o->page_size = parse_count(optarg, 1000, "page size");
			break;
		case 'r':
			recursive = 1;
			break;
		default:
			usage();
		}
	if (argc - optind != 1)
		usage();
	split_url(argv[optind], bucket, key);
	return recursive;
}

static void
cmd_ls(int argc, char **argv)
{
	struct lb_s3_opts o;
	struct lb_s3 *s3;
	struct lb_err e;
	char *bucket, *key;
	int recursive;

	recursive = parse_pr(argc, argv, &o, &bucket, &key);
	s3 = engine(&o);
	memset(&e, 0, sizeof(e));
	if (lb_s3_list(s3, bucket, key, recursive ? NULL : "/", ls_fn, NULL,
	    &e) == -1)
		fail(&e);
	lb_s3_free(s3);
	free(bucket);
	free(key);
}

/* cp */

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static void
cmd_cp(int argc, char **argv)
{
	struct lb_s3_opts o;
	struct lb_s3_obj ob;
	struct lb_s3 *s3;
	struct lb_err e;
	struct stat st;
	const char *src, *dst;
	char *bucket, *key, *path = NULL, *k2;
	long long v;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "j:m:")) != -1)
		switch (ch) {
		case 'j':
			o.jobs = parse_count(optarg, 64, "jobs");
			break;
		case 'm':
			if ((v = parse_size(optarg)) < LB_S3_PART_MIN) {
				warnx("%s: threshold must be at least 5M",
				    optarg);
				usage();
			}
			o.threshold = o.part_size = v;
			break;
		default:
			usage();
		}
	if (argc - optind != 2)
		usage();
	src = argv[optind];
	dst = argv[optind + 1];
	memset(&e, 0, sizeof(e));
	memset(&ob, 0, sizeof(ob));
	if (strncmp(src, "s3://", 5) != 0 && strncmp(dst, "s3://", 5) == 0) {
		split_url(dst, &bucket, &key);
		if (*key == '\0' || key[strlen(key) - 1] == '/') {
			if (strcmp(src, "-") == 0) {
				warnx("%s: a key is needed for stdin", dst);
				usage();
			}
			k2 = lb_xasprintf("%s%s", key, base_name(src));
			free(key);
			key = k2;
		}
		if (strcmp(src, "-") != 0 && stat(src, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			warnx("%s: is a directory (use sync)", src);
			exit(1);
		}
		s3 = engine(&o);
		if (strcmp(src, "-") == 0)
			rc = lb_s3_put_fp(s3, bucket, key, stdin, NULL, &ob,
			    &e);
		else
			rc = lb_s3_put_file(s3, bucket, key, src, NULL, &ob,
			    &e);
		if (rc == -1)
			fail(&e);
		else
			put_rec("upload", key, ob.size, ob.etag, NULL);
	} else if (strncmp(src, "s3://", 5) == 0 &&
	    strncmp(dst, "s3://", 5) != 0) {
		split_url(src, &bucket, &key);
		if (*key == '\0' || key[strlen(key) - 1] == '/') {
			warnx("%s: not an object key", src);
			usage();
		}
		s3 = engine(&o);
		if (strcmp(dst, "-") == 0) {
			if (lb_s3_get_fp(s3, bucket, key, stdout, &ob,
			    &e) == -1)
				fail(&e);
		} else {
			if (dst[strlen(dst) - 1] == '/' ||
			    (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)))
				path = lb_xasprintf("%s%s%s", dst,
				    dst[strlen(dst) - 1] == '/' ? "" : "/",
				    base_name(key));
			else
				path = lb_xstrdup(dst);
			if (lb_s3_get_file(s3, bucket, key, path, &ob,
			    &e) == -1)
				fail(&e);
			else
				put_rec("download", key, ob.size, ob.etag,
				    path);
		}
	} else {
		warnx("one of source and destination must be s3://, the "
		    "other local");
		usage();
	}
	lb_s3_free(s3);
	free(path);
	free(bucket);
	free(key);
}

/* rm */

struct rmctx {
	char	**keys;
	size_t	 n, cap;
};

static int
rm_list_fn(void *arg, const struct lb_s3_obj *ob, struct lb_err *e)
{
	struct rmctx *r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->keys = lb_xrealloc(r->keys, r->cap * sizeof(*r->keys));
	}
	r->keys[r->n++] = lb_xstrdup(ob->key);
	return 0;
}

static void
rm_del_fn(void *arg, const char *key, const struct lb_err *e)
{
	if (e != NULL)
		fail(e);
	else
		put_rec("delete", key, 0, NULL, NULL);
}

static void
cmd_rm(int argc, char **argv)
{
	struct lb_s3_opts o;
	struct rmctx r;
	struct lb_s3 *s3;
	struct lb_err e;
	char *bucket, *key;
	size_t i;
	int recursive;

	recursive = parse_pr(argc, argv, &o, &bucket, &key);
	if (!recursive && *key == '\0') {
		warnx("%s: no key (use -r for a prefix)", argv[optind]);
		usage();
	}
	s3 = engine(&o);
	memset(&e, 0, sizeof(e));
	if (!recursive) {
		if (lb_s3_delete(s3, bucket, key, &e) == -1)
			fail(&e);
		else
			put_rec("delete", key, 0, NULL, NULL);
	} else {
		memset(&r, 0, sizeof(r));
		if (lb_s3_list(s3, bucket, key, NULL, rm_list_fn, &r,
		    &e) == -1)
			fail(&e);
		else
			/* per-key failures were reported by rm_del_fn */
			lb_s3_delete_many(s3, bucket,
			    (const char *const *)r.keys, r.n, rm_del_fn, NULL,
			    &e);
		for (i = 0; i < r.n; i++)
			free(r.keys[i]);
		free(r.keys);
	}
	lb_s3_free(s3);
	free(bucket);
	free(key);
}

/* sync */

static void
sync_fn(void *arg, const struct lb_s3_event *ev)
{
	cJSON *o;

	if (ev->err != NULL) {
		fail(ev->err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", ev->op);
	cJSON_AddStringToObject(o, "key", ev->key);
	cJSON_AddNumberToObject(o, "size", (double)ev->size);
	if (ev->path != NULL)
		cJSON_AddStringToObject(o, "path", ev->path);
	if (ev->dryrun)
		cJSON_AddTrueToObject(o, "dryrun");
	if (lb_jsonl_write(stdout, o) == -1)
		err(1, "stdout");
	cJSON_Delete(o);
}

static void
cmd_sync(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delete",	no_argument,		NULL, 'D' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "exclude",	required_argument,	NULL, 'x' },
		{ "include",	required_argument,	NULL, 'i' },
		{ NULL,		0,			NULL, 0 }
	};
	struct lb_s3_sync_opts so;
	struct lb_s3_filter *f;
	struct lb_s3_counts n;
	struct lb_s3_opts o;
	struct lb_s3 *s3;
	struct lb_err e;
	const char *src, *dst, *dir;
	char *bucket, *key;
	long long v;
	int ch;

	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	f = lb_xmalloc((size_t)argc * sizeof(*f));
	while ((ch = getopt_long(argc, argv, "j:m:np:", longopts, NULL)) !=
	    -1)
		switch (ch) {
		case 'D':
			so.delete = 1;
			break;
		case 'n':
			so.dryrun = 1;
			break;
		case 'x':
		case 'i':
			f[so.nfilters].include = ch == 'i';
			f[so.nfilters++].glob = optarg;
			break;
		case 'j':
			o.jobs = parse_count(optarg, 64, "jobs");
			break;
		case 'm':
			if ((v = parse_size(optarg)) < LB_S3_PART_MIN) {
				warnx("%s: threshold must be at least 5M",
				    optarg);
				usage();
			}
			o.threshold = o.part_size = v;
			break;
		case 'p':
			o.page_size = parse_count(optarg, 1000, "page size");
			break;
		default:
			usage();
		}
	if (argc - optind != 2)
		usage();
	src = argv[optind];
	dst = argv[optind + 1];
	if (strncmp(src, "s3://", 5) != 0 && strncmp(dst, "s3://", 5) == 0) {
		so.direction = LB_S3_UP;
		dir = src;
		split_url(dst, &bucket, &key);
	} else if (strncmp(src, "s3://", 5) == 0 &&
	    strncmp(dst, "s3://", 5) != 0) {
		so.direction = LB_S3_DOWN;
		dir = dst;
		split_url(src, &bucket, &key);
	} else {
		warnx("one of source and destination must be s3://, the "
		    "other local");
		usage();
	}
	so.filters = f;
	so.fn = sync_fn;
	s3 = engine(&o);
	memset(&e, 0, sizeof(e));
	if (lb_s3_sync(s3, &so, dir, bucket, key, &n, &e) == -1) {
		if (n.failed == 0)
			fail(&e);	/* not reported per file */
		else
			lb_err_fold(&status, e.kind);
	}
	if (verbose)
		fprintf(stderr, "lb-s3: uploaded %ld, downloaded %ld, "
		    "deleted %ld, unchanged %ld, failed %ld\n", n.uploaded,
		    n.downloaded, n.deleted, n.unchanged, n.failed);
	lb_s3_free(s3);
	free(f);
	free(bucket);
	free(key);
}

int
main(int argc, char *argv[])
{
	const char *cmd;
	int ch;

	while ((ch = getopt(argc, argv, "+v")) != -1)
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	optind = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		errx(1, "cannot initialise libcurl");
	if (strcmp(cmd, "ls") == 0)
		cmd_ls(argc, argv);
	else if (strcmp(cmd, "cp") == 0)
		cmd_cp(argc, argv);
	else if (strcmp(cmd, "rm") == 0)
		cmd_rm(argc, argv);
	else if (strcmp(cmd, "sync") == 0)
		cmd_sync(argc, argv);
	else
		usage();
	curl_global_cleanup();
	return status;
}
