/* check_s3.c: S3 XML readers, sync filters, local ETags, sync state. */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3.h"

struct got {
	char	keys[8][128];
	long long sizes[8];
	char	etags[8][72];
	int	prefix[8];
	time_t	mtime[8];
	int	n;
};

static int
collect(void *arg, const struct lb_s3_obj *o, struct lb_err *err)
{
	struct got *g = arg;

	if (g->n == 8)
		return lb_err_set(err, LB_EFAIL, 0, "too many");
	snprintf(g->keys[g->n], sizeof(g->keys[0]), "%s", o->key);
	snprintf(g->etags[g->n], sizeof(g->etags[0]), "%s", o->etag);
	g->sizes[g->n] = o->size;
	g->prefix[g->n] = o->is_prefix;
	g->mtime[g->n] = o->mtime;
	g->n++;
	return 0;
}

static int
parse(const char *xml, struct got *g, char **next, struct lb_err *err)
{
	memset(g, 0, sizeof(*g));
	memset(err, 0, sizeof(*err));
	return lb_s3_xml_list(xml, strlen(xml), collect, g, next, err);
}

START_TEST(list_page_with_token_and_url_encoding)
{
	/* EncodingType comes after the entries, as moto sends it */
	const char *x = "<?xml version=\"1.0\"?><ListBucketResult xmlns="
	    "\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>true"
	    "</IsTruncated><Contents><Key>a%20b%2Bc+d%25/%C3%A9</Key>"
	    "<LastModified>2026-11-28T07:44:49.000Z</LastModified><ETag>"
	    "&quot;9dd4e461268c8034f5c8564e155c67a6&quot;</ETag><Size>12345"
	    "</Size></Contents><CommonPrefixes><Prefix>p%2Fq/</Prefix>"
	    "</CommonPrefixes><NextContinuationToken>tok+/=</Next"
	    "ContinuationToken><EncodingType>url</EncodingType>"
	    "</ListBucketResult>";
	struct lb_err err;
	struct got g;
	char *next;

	ck_assert_int_eq(parse(x, &g, &next, &err), 0);
	ck_assert_int_eq(g.n, 2);
	ck_assert_str_eq(g.keys[0], "a b+c d%/\xc3\xa9");
	ck_assert_int_eq(g.sizes[0], 12345);
	ck_assert_str_eq(g.etags[0], "9dd4e461268c8034f5c8564e155c67a6");
	ck_assert_int_eq(g.mtime[0], 1795851889);
	ck_assert_int_eq(g.prefix[1], 1);
	ck_assert_str_eq(g.keys[1], "p/q/");
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(next, "tok+/=");
	free(next);
}
END_TEST

START_TEST(list_last_page_plain_keys)
{
	const char *x = "<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "<Contents><Key>a+b &amp; c</Key><Size>0</Size><ETag>\"x-2\""
	    "</ETag></Contents><NextContinuationToken>ignored"
	    "</NextContinuationToken></ListBucketResult>";
	struct lb_err err;
	struct got g;
	char *next;

	ck_assert_int_eq(parse(x, &g, &next, &err), 0);
	ck_assert_ptr_null(next);
	ck_assert_int_eq(g.n, 1);
	ck_assert_str_eq(g.keys[0], "a+b & c");
	ck_assert_str_eq(g.etags[0], "x-2");
}
END_TEST

START_TEST(list_rejects_bad_answers)
{
	struct lb_err err;
	struct got g;
	char *next;

	ck_assert_int_eq(parse("<ListBucketResult><IsTruncated>true"
	    "</IsTruncated></ListBucketResult>", &g, &next, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "continuation"));
	ck_assert_int_eq(parse("<ListBucketResult><Contents><Key>k</Key>"
	    "</Contents></ListBucketResult>", &g, &next, &err), -1);
	ck_assert_int_eq(parse("<ListBucketResult><Contents><Key>k</Key>"
	    "<Size>-1</Size></Contents></ListBucketResult>", &g, &next,
	    &err), -1);
	ck_assert_int_eq(parse("<ListBucketResult><Contents>", &g, &next,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad XML"));
	ck_assert_int_eq(parse("", &g, &next, &err), -1);
	ck_assert_int_eq(parse("{\"json\":1}", &g, &next, &err), -1);
	ck_assert_int_eq(parse("<Other/>", &g, &next, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a ListObjectsV2"));
}
END_TEST

START_TEST(list_refuses_dtd)
{
	struct lb_err err;
	struct got g;
	char *next;

	ck_assert_int_eq(parse("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY"
	    " a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><ListBucketResult>"
	    "<Contents><Key>&b;</Key><Size>1</Size></Contents>"
	    "</ListBucketResult>", &g, &next, &err), -1);
	ck_assert_int_eq(g.n, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "DTD"));
}
END_TEST

START_TEST(list_error_document)
{
	struct lb_err err;
	struct got g;
	char *next;

	ck_assert_int_eq(parse("<Error><Code>NoSuchBucket</Code><Message>"
	    "The specified bucket does not exist</Message></Error>", &g,
	    &next, &err), -1);
	ck_assert_str_eq(err.code, "NoSuchBucket");
}
END_TEST

START_TEST(error_documents)
{
	struct lb_err err;
	const char *e1 = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey"
	    "</Code><Message>The specified key does not exist.</Message>"
	    "<Key>k</Key></Error>";
	const char *e2 = "<ErrorResponse><Error><Type>Sender</Type><Code>"
	    "SignatureDoesNotMatch</Code><Message>no</Message></Error>"
	    "</ErrorResponse>";
	const char *e3 = "<Error><Code>InternalError</Code></Error>";

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_xml_error(e1, strlen(e1), 404, &err), 1);
	ck_assert_str_eq(err.code, "NoSuchKey");
	ck_assert_str_eq(err.msg,
	    "NoSuchKey: The specified key does not exist.");
	ck_assert_int_eq(err.kind, LB_EFAIL);
	ck_assert_int_eq(err.http, 404);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_xml_error(e2, strlen(e2), 403, &err), 1);
	ck_assert_str_eq(err.code, "SignatureDoesNotMatch");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_xml_error(e1, strlen(e1), 503, &err), 1);
	ck_assert_int_eq(err.kind, LB_ETEMP);
	/* 200 with an InternalError body (CompleteMultipartUpload) */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_xml_error(e3, strlen(e3), 0, &err), 1);
	ck_assert_int_eq(err.kind, LB_ETEMP);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_xml_error("<ListBucketResult/>", 19, 200,
	    &err), 0);
	ck_assert_int_eq(lb_s3_xml_error("not xml", 7, 500, &err), 0);
	ck_assert_int_eq(lb_s3_xml_error(NULL, 0, 404, &err), 0);
	ck_assert_str_eq(err.msg, "");
}
END_TEST

START_TEST(parse_url)
{
	struct lb_err err;
	char *b, *k;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_parse_url("s3://bkt/a/b c", &b, &k, &err), 0);
	ck_assert_str_eq(b, "bkt");
	ck_assert_str_eq(k, "a/b c");
	free(b);
	free(k);
	ck_assert_int_eq(lb_s3_parse_url("s3://bkt", &b, &k, &err), 0);
	ck_assert_str_eq(k, "");
	free(b);
	free(k);
	ck_assert_int_eq(lb_s3_parse_url("s3:///k", &b, &k, &err), -1);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	ck_assert_int_eq(lb_s3_parse_url("http://x/y", &b, &k, &err), -1);
	ck_assert_int_eq(lb_s3_parse_url("s3://", &b, &k, &err), -1);
}
END_TEST

START_TEST(filters_later_wins)
{
	struct lb_s3_filter f[] = {
		{ 0, "*" }, { 1, "logs/*" }, { 0, "*.tmp" }
	};

	ck_assert_int_eq(lb_s3_selected(NULL, 0, "any/thing"), 1);
	ck_assert_int_eq(lb_s3_selected(f, 1, "a"), 0);
	ck_assert_int_eq(lb_s3_selected(f, 3, "logs/run.log"), 1);
	ck_assert_int_eq(lb_s3_selected(f, 3, "logs/deep/x.log"), 1);
	ck_assert_int_eq(lb_s3_selected(f, 3, "logs/run.tmp"), 0);
	ck_assert_int_eq(lb_s3_selected(f, 3, "other.log"), 0);
	ck_assert_int_eq(lb_s3_selected(f + 2, 1, "a/b.tmp"), 0);
}
END_TEST

START_TEST(local_etags)
{
	char path[] = "/tmp/check_s3.XXXXXX", etag[72];
	struct lb_err err;
	FILE *f;
	int fd, i;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	/* 11 MiB of a pattern: parts of 5 MiB give 3 */
	for (i = 0; i < 11 * 1024 * 1024; i++)
		fputc(i % 251, f);
	fclose(f);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_file_etag(path, 0, etag, &err), 0);
	ck_assert_int_eq(strlen(etag), 32);
	ck_assert_int_eq(lb_s3_file_etag(path, 5LL << 20, etag, &err), 0);
	ck_assert_str_eq(etag + 32, "-3");
	ck_assert_int_eq(lb_s3_file_etag(path, 11LL << 20, etag, &err), 0);
	ck_assert_str_eq(etag + 32, "-1");
	unlink(path);
	/* md5("") */
	strcpy(path, "/tmp/check_s3.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(lb_s3_file_etag(path, 0, etag, &err), 0);
	ck_assert_str_eq(etag, "d41d8cd98f00b204e9800998ecf8427e");
	unlink(path);
	ck_assert_int_eq(lb_s3_file_etag(path, 0, etag, &err), -1);
}
END_TEST

START_TEST(known_multipart_etag)
{
	/* md5 of the part md5s, as S3 computes it: "abc" in parts of 2 */
	char path[] = "/tmp/check_s3.XXXXXX", etag[72];
	struct lb_err err;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lb_s3_file_etag(path, 2, etag, &err), 0);
	/* md5(md5("ab") || md5("c")) */
	ck_assert_str_eq(etag, "d833159094d1d7ad96ffcc78414e3682-2");
	unlink(path);
}
END_TEST

/* A stat as a file of that size last changed at t would have. */
static struct stat
fake_stat(long long size, time_t t, long ns, unsigned long ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = size;
	st.st_mtim.tv_sec = t;
	st.st_mtim.tv_nsec = ns;
	st.st_ctim = st.st_mtim;
	st.st_ino = ino;
	return st;
}

static const char md5a[] = "0123456789abcdef0123456789abcdef";

START_TEST(state_notices_changes)
{
	char dir[] = "/tmp/check_s3.XXXXXX", *path, etag[72];
	struct lb_s3_state *s;
	struct lb_err err = { 0 };
	struct stat st = fake_stat(100, 1000, 5, 7), st2;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = lb_xasprintf("%s/.lb-s3-state.t", dir);
	s = lb_s3_state_load(path);		/* no file yet: empty */
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st, etag), 0);
	ck_assert_int_eq(lb_s3_state_listed(s), 0);
	lb_s3_state_set_listed(s, 4000);
	lb_s3_state_put(s, "a.log", &st, md5a, 5000);
	lb_s3_state_put(s, "b c.log", &st, NULL, 5000);
	ck_assert_int_eq(lb_s3_state_save(s, path, &err), 0);
	lb_s3_state_free(s);

	s = lb_s3_state_load(path);
	ck_assert_int_eq(lb_s3_state_listed(s), 4000);
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st, etag), 1);
	ck_assert_str_eq(etag, md5a);
	/* a name with a space, MD5 unknown */
	ck_assert_int_eq(lb_s3_state_get(s, "b c.log", &st, etag), 1);
	ck_assert_str_eq(etag, "");
	ck_assert_int_eq(lb_s3_state_get(s, "c.log", &st, etag), 0);
	/* same size, new mtime (a second or a nanosecond later) */
	st2 = st;
	st2.st_mtim.tv_sec++;
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st2, etag), 0);
	st2 = st;
	st2.st_mtim.tv_nsec++;
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st2, etag), 0);
	/* mtime set back by hand: the ctime still moved */
	st2 = st;
	st2.st_ctim.tv_sec += 60;
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st2, etag), 0);
	/* replaced by another file (rename) */
	st2 = st;
	st2.st_ino++;
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st2, etag), 0);
	st2 = st;
	st2.st_size++;
	ck_assert_int_eq(lb_s3_state_get(s, "a.log", &st2, etag), 0);
	lb_s3_state_free(s);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

START_TEST(state_skips_racy_and_odd_names)
{
	struct lb_s3_state *s = lb_s3_state_load("/nonexistent/x");
	struct stat old = fake_stat(1, 1000, 0, 1), fresh;
	char etag[72];

	/* changed within two seconds of the walk: not recorded */
	fresh = fake_stat(1, 4999, 0, 2);
	lb_s3_state_put(s, "a", &fresh, md5a, 5000);
	ck_assert_int_eq(lb_s3_state_get(s, "a", &fresh, etag), 0);
	fresh = old;
	fresh.st_ctim.tv_sec = 4999;	/* chmod, or a write with mtime reset */
	lb_s3_state_put(s, "b", &fresh, md5a, 5000);
	ck_assert_int_eq(lb_s3_state_get(s, "b", &fresh, etag), 0);
	/* a newline would break the file */
	lb_s3_state_put(s, "c\nd", &old, md5a, 5000);
	ck_assert_int_eq(lb_s3_state_get(s, "c\nd", &old, etag), 0);
	lb_s3_state_put(s, "e", &old, "not an md5", 5000);
	ck_assert_int_eq(lb_s3_state_get(s, "e", &old, etag), 1);
	ck_assert_str_eq(etag, "");
	/* out of order: dropped, the lookups stay sorted */
	lb_s3_state_put(s, "d", &old, md5a, 5000);
	ck_assert_int_eq(lb_s3_state_get(s, "d", &old, etag), 0);
	ck_assert_int_eq(lb_s3_state_get(s, "e", &old, etag), 1);
	lb_s3_state_free(s);
}
END_TEST

START_TEST(state_bad_files_are_empty)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"lb-s3-state 2 5\n",
		"lb-s3-state 1 5\n- 1 2.0 3.0 4 a",	/* cut short */
		"lb-s3-state 1 5\nzz 1 2.0 3.0 4 a\n",
		"lb-s3-state 1 5\n- 1 2.0 3.0 4\n",
		"lb-s3-state 1 5\n- 1 2.0 3.0 4 b\n- 1 2.0 3.0 4 a\n",
		NULL
	};
	char path[] = "/tmp/check_s3.XXXXXX", etag[72];
	struct lb_s3_state *s;
	struct stat st = fake_stat(1, 2, 0, 4);
	int fd, i;

	for (i = 0; bad[i] != NULL; i++) {
		strcpy(path, "/tmp/check_s3.XXXXXX");
		fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])),
		    (ssize_t)strlen(bad[i]));
		close(fd);
		s = lb_s3_state_load(path);
		ck_assert_msg(lb_s3_state_listed(s) == 0 &&
		    lb_s3_state_get(s, "a", &st, etag) == 0 &&
		    lb_s3_state_get(s, "b", &st, etag) == 0, "case %d", i);
		lb_s3_state_free(s);
		unlink(path);
	}
	/* and a good one, to show the cases above differ from it */
	strcpy(path, "/tmp/check_s3.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_eq(write(fd, "lb-s3-state 1 5\n- 1 2.0 2.0 4 a\n", 32),
	    32);
	close(fd);
	s = lb_s3_state_load(path);
	ck_assert_int_eq(lb_s3_state_get(s, "a", &st, etag), 1);
	lb_s3_state_free(s);
	unlink(path);
}
END_TEST

static Suite *
s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("xml");

	tcase_add_test(tc, list_page_with_token_and_url_encoding);
	tcase_add_test(tc, list_last_page_plain_keys);
	tcase_add_test(tc, list_rejects_bad_answers);
	tcase_add_test(tc, list_refuses_dtd);
	tcase_add_test(tc, list_error_document);
	tcase_add_test(tc, error_documents);
	suite_add_tcase(s, tc);
	tc = tcase_create("sync");
	tcase_add_test(tc, parse_url);
	tcase_add_test(tc, filters_later_wins);
	tcase_add_test(tc, local_etags);
	tcase_add_test(tc, known_multipart_etag);
	tcase_add_test(tc, state_notices_changes);
	tcase_add_test(tc, state_skips_racy_and_odd_names);
	tcase_add_test(tc, state_bad_files_are_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(s3_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
