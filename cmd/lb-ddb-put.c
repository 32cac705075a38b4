/*
 * lb-ddb-put: write each record to a DynamoDB table: PutItem of the
 * record (or one member of it), or UpdateItem SET of values picked by
 * JSONPath, optionally conditional; echo the records written.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "ddb.h"

#define MAXLIST	64

struct assign {
	char	*attr;
	char	*path;
};

struct cond {
	char	*attr;
	char	*vals[MAXLIST];
	int	 nvals;		/* 1: =, more: IN */
};

static const char *table, *member, *rfile;
static char *keys[MAXLIST], *removes[MAXLIST];
static int nkeys, nremoves, ifabsent, okexists, nassign, nconds;
static struct assign assign[MAXLIST];
static struct cond conds[MAXLIST];

static void
usage(void)
{
	fprintf(stderr, "usage: lb-ddb-put -t table [-i member] [-k keyattrs "
	    "[-s attr=path ...] [-d attr ...]]\n\t[-r file]"
	    "\t[--if attr=value ...] [--if-in attr=v1,v2 ...] [--if-absent] "
	    "[--ok-if-exists]\n");
	exit(2);
}

/* Split s at commas into v (strings malloc'd); returns the count. */
static int
split(const char *s, char **v, const char *opt)
{
	char *copy = lb_xstrdup(s), *p = copy, *c;
	int n = 0;

	for (;;) {
		c = strchr(p, ',');
		if (c != NULL)
			*c = '\0';
		if (*p == '\0')
			errx(2, "%s %s: empty name or value", opt, s);
		if (n == MAXLIST)
			errx(2, "%s %s: more than %d", opt, s, MAXLIST);
		v[n++] = lb_xstrdup(p);
		if (c == NULL)
			break;
		p = c + 1;
	}
	free(copy);
	return n;
}

/* "attr=rest": the attribute malloc'd, *rest points into s. */
static char *
attr_of(const char *s, const char **rest, const char *opt)
{
	const char *eq = strchr(s, '=');
	char *a;

	if (eq == NULL || eq == s)
		errx(2, "%s %s: not ATTR=VALUE", opt, s);
	a = lb_xmalloc((size_t)(eq - s) + 1);
	memcpy(a, s, (size_t)(eq - s));
	a[eq - s] = '\0';
	*rest = eq + 1;
	return a;
}

/* Fatal for every record alike: stop rather than repeat it. */
static int
fatal(const struct lb_err *e)
{
	return e->http == 403 || e->kind == LB_EUSAGE ||
	    strcmp(e->code, "ResourceNotFoundException") == 0 ||
	    strcmp(e->code, "UnrecognizedClientException") == 0 ||
	    strcmp(e->code, "InvalidSignatureException") == 0;
}

/* Build the condition expression into b; empty when none. */
static void
condition(struct lb_ddb_expr *x, struct lb_buf *b)
{
	int i, k;

	if (ifabsent) {
		lb_buf_printf(b, "attribute_not_exists(%s)",
		    lb_ddb_expr_name(x, keys[0]));
	}
	for (i = 0; i < nconds; i++) {
		if (b->len > 0)
			lb_buf_puts(b, " AND ");
		lb_buf_puts(b, lb_ddb_expr_name(x, conds[i].attr));
		if (conds[i].nvals == 1) {
			cJSON *s = cJSON_CreateString(conds[i].vals[0]);

			lb_buf_printf(b, " = %s", lb_ddb_expr_value(x,
			    lb_ddb_to_av(s, NULL)));
			cJSON_Delete(s);
			continue;
		}
		lb_buf_puts(b, " IN (");
		for (k = 0; k < conds[i].nvals; k++) {
			cJSON *s = cJSON_CreateString(conds[i].vals[k]);

			lb_buf_printf(b, "%s%s", k ? ", " : "",
			    lb_ddb_expr_value(x, lb_ddb_to_av(s, NULL)));
			cJSON_Delete(s);
		}
		lb_buf_puts(b, ")");
	}
}

/*
 * A condition failed: does the item already hold everything this record
 * writes?  Then it is this very write, applied by an attempt whose
 * answer was lost and refused when the HTTP layer sent it again.  1 yes,
 * 0 no or cannot tell.
 */
static int
landed(struct lb_aws *aws, const cJSON *rec, const cJSON *body)
{
	const cJSON *item, *key, *put, *v;
	struct lb_err e;
	cJSON *req, *ans, *k = NULL, *av;
	int i, same = 0;

	if (nkeys == 0)
		return 0;
	put = cJSON_GetObjectItemCaseSensitive(body, "Item");
	if ((key = cJSON_GetObjectItemCaseSensitive(body, "Key")) == NULL) {
		key = k = cJSON_CreateObject();
		for (i = 0; i < nkeys; i++)
			cJSON_AddItemToObject(k, keys[i], cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(put, keys[i]),
			    1));
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "TableName", table);
	cJSON_AddItemToObject(req, "Key", cJSON_Duplicate(key, 1));
	cJSON_AddTrueToObject(req, "ConsistentRead");
	lb_err_clear(&e);
	ans = lb_ddb_call(aws, "GetItem", req, &e);
	cJSON_Delete(req);
	cJSON_Delete(k);
	item = cJSON_GetObjectItemCaseSensitive(ans, "Item");
	if (item == NULL)
		goto out;
	if (put != NULL) {
		same = cJSON_Compare(item, put, 1);
		goto out;
	}
	same = 1;
	for (i = 0; i < nassign && same; i++) {
		lb_err_clear(&e);
		if ((v = lb_jsonpath_get(rec, assign[i].path, &e)) == NULL ||
		    (av = lb_ddb_to_av(v, &e)) == NULL) {
			same = 0;
			break;
		}
		same = cJSON_Compare(av, cJSON_GetObjectItemCaseSensitive(item,
		    assign[i].attr), 1);
		cJSON_Delete(av);
	}
	for (i = 0; i < nremoves && same; i++)
		if (cJSON_GetObjectItemCaseSensitive(item, removes[i]) != NULL)
			same = 0;
out:
	cJSON_Delete(ans);
	return same;
}

/* The request for one record; NULL with e for a bad record. */
static cJSON *
request(const cJSON *rec, const char **op, struct lb_err *e)
{
	const cJSON *src = rec, *v;
	struct lb_ddb_expr x;
	struct lb_buf b = { 0 };
	cJSON *body = NULL, *item, *key, *av;
	int i;

	lb_ddb_expr_init(&x);
	if (member != NULL) {
		src = cJSON_GetObjectItemCaseSensitive(rec, member);
		if (src == NULL) {
			lb_err_set(e, LB_EFAIL, 0, "no member %s", member);
			goto out;
		}
		if (!cJSON_IsObject(src)) {
			lb_err_set(e, LB_EFAIL, 0, "member %s is not an object",
			    member);
			goto out;
		}
	}
	for (i = 0; i < nkeys; i++) {
		v = cJSON_GetObjectItemCaseSensitive(src, keys[i]);
		if (v == NULL || !(cJSON_IsString(v) || cJSON_IsNumber(v) ||
		    cJSON_IsRaw(v))) {
			lb_err_set(e, LB_EFAIL, 0, "key attribute %s is %s",
			    keys[i], v == NULL ? "missing" :
			    "not a string or number");
			goto out;
		}
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "TableName", table);
	if (nassign == 0 && nremoves == 0) {
		*op = "PutItem";
		if ((item = lb_ddb_to_item(src, e)) == NULL)
			goto bad;
		cJSON_AddItemToObject(body, "Item", item);
	} else {
		*op = "UpdateItem";
		key = cJSON_AddObjectToObject(body, "Key");
		for (i = 0; i < nkeys; i++) {
			v = cJSON_GetObjectItemCaseSensitive(src, keys[i]);
			if ((av = lb_ddb_to_av(v, e)) == NULL)
				goto bad;
			cJSON_AddItemToObject(key, keys[i], av);
		}
		if (nassign > 0)
			lb_buf_puts(&b, "SET ");
		for (i = 0; i < nassign; i++) {
			lb_err_clear(e);
			v = lb_jsonpath_get(rec, assign[i].path, e);
			if (v == NULL) {
				lb_err_prefix(e, "%s=%s", assign[i].attr,
				    assign[i].path);
				goto bad;
			}
			if ((av = lb_ddb_to_av(v, e)) == NULL) {
				lb_err_prefix(e, "%s", assign[i].path);
				goto bad;
			}
			lb_buf_printf(&b, "%s%s = ", i ? ", " : "",
			    lb_ddb_expr_name(&x, assign[i].attr));
			lb_buf_puts(&b, lb_ddb_expr_value(&x, av));
		}
		/* REMOVE: e.g. leaving a sparse index */
		for (i = 0; i < nremoves; i++)
			lb_buf_printf(&b, "%s%s", i ? ", " : (nassign ?
			    " REMOVE " : "REMOVE "),
			    lb_ddb_expr_name(&x, removes[i]));
		cJSON_AddStringToObject(body, "UpdateExpression", b.p);
	}
	b.len = 0;
	if (b.p != NULL)
		b.p[0] = '\0';
	condition(&x, &b);
	if (b.len > 0)
		cJSON_AddStringToObject(body, "ConditionExpression", b.p);
	lb_ddb_expr_attach(&x, body);
	goto out;
bad:
	cJSON_Delete(body);
	body = NULL;
out:
	lb_buf_free(&b);
	lb_ddb_expr_free(&x);
	return body;
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		{ "if", required_argument, NULL, 'I' },
		{ "if-in", required_argument, NULL, 'N' },
		{ "if-absent", no_argument, NULL, 'A' },
		{ "ok-if-exists", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_jsonl *in;
	struct lb_err e;
	const char *rest, *op, *raw;
	int ch, rc, i, status = 0, stopped = 0;
	size_t rawlen;
	cJSON *rec, *body, *ans, *d;

	while ((ch = getopt_long(argc, argv, "d:i:k:r:s:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (nremoves == MAXLIST)
				errx(2, "more than %d -d", MAXLIST);
			if (*optarg == '\0')
				errx(2, "-d: empty attribute name");
			removes[nremoves++] = optarg;
			break;
		case 'i':
			member = optarg;
			break;
		case 'k':
			nkeys = split(optarg, keys, "-k");
			break;
		case 'r':
			rfile = optarg;
			break;
		case 's':
			if (nassign == MAXLIST)
				errx(2, "more than %d -s", MAXLIST);
			assign[nassign].attr = attr_of(optarg, &rest, "-s");
			assign[nassign].path = lb_xstrdup(rest);
			if (lb_jsonpath_check(rest, &e) == -1)
				errx(2, "-s %s: %s", optarg, e.msg);
			nassign++;
			break;
		case 't':
			table = optarg;
			break;
		case 'I':
		case 'N':
			if (nconds == MAXLIST)
				errx(2, "more than %d conditions", MAXLIST);
			conds[nconds].attr = attr_of(optarg, &rest,
			    ch == 'I' ? "--if" : "--if-in");
			if (ch == 'I') {
				conds[nconds].vals[0] = lb_xstrdup(rest);
				conds[nconds].nvals = 1;
			} else
				conds[nconds].nvals = split(rest,
				    conds[nconds].vals, "--if-in");
			nconds++;
			break;
		case 'A':
			ifabsent = 1;
			break;
		case 'O':
			okexists = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || table == NULL || *table == '\0')
		usage();
	if ((nassign > 0 || nremoves > 0) && nkeys == 0)
		errx(2, "-s and -d need -k (the key attributes to update)");
	if (ifabsent && nkeys == 0)
		errx(2, "--if-absent needs -k (the key attributes)");
	signal(SIGPIPE, SIG_IGN);
	http = lb_http_new(NULL);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	in = lb_jsonl_open(stdin, "stdin", 0);
	while (!stopped && (rc = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (rc == -2) {
			warnx("%s", e.msg);
			lb_err_fold(&status, LB_EFAIL);
			break;
		}
		if (rc == -1) {
			warnx("%s", e.msg);
			goto reject;
		}
		raw = lb_jsonl_raw(in, &rawlen);
		lb_ddb_keep_numbers(rec, raw, rawlen);
		lb_err_clear(&e);
		if ((body = request(rec, &op, &e)) == NULL) {
			e.kind = LB_EFAIL;
			goto bad;
		}
		ans = lb_ddb_call(aws, op, body, &e);
		if (ans == NULL && strcmp(e.code,
		    "ConditionalCheckFailedException") == 0 &&
		    landed(aws, rec, body) == 1) {
			cJSON_Delete(body);
			goto echo;
		}
		cJSON_Delete(body);
		if (ans == NULL) {
			if (strcmp(e.code,
			    "ConditionalCheckFailedException") == 0) {
				if (okexists) {
					d = cJSON_CreateObject();
					cJSON_AddStringToObject(d, "condition",
					    "failed");
					lb_json_set(rec, "ddb", d);
					goto echo;
				}
				lb_err_set(&e, LB_EFAIL, e.http,
				    "condition failed: %s not written", table);
			} else if (fatal(&e)) {
				warnx("%s: %s (giving up)", table, e.msg);
				stopped = 1;
				lb_err_fold(&status, e.kind == LB_ETEMP ?
				    LB_EFAIL : e.kind);
				cJSON_Delete(rec);
				break;
			}
			goto bad;
		}
		cJSON_Delete(ans);
echo:
		if (lb_jsonl_write(stdout, rec) == -1)
			err(1, "stdout");
		cJSON_Delete(rec);
		continue;
bad:
		warnx("%s:%ld: %s", lb_jsonl_name(in), lb_jsonl_line(in),
		    e.msg);
reject:
		raw = lb_jsonl_raw(in, &rawlen);
		if (rfile != NULL && lb_jsonl_reject(rfile, raw, rawlen) == -1)
			warn("%s", rfile);
		lb_err_fold(&status, rc == -1 ? LB_EFAIL : e.kind);
		cJSON_Delete(rec);
	}
	lb_jsonl_close(in);
	lb_aws_free(aws);
	lb_http_free(http);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	return status;
}
