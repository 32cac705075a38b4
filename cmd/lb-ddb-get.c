/*
 * lb-ddb-get: read a DynamoDB table as plain JSON lines: GetItem for
 * keys (from records or -K), Query on a partition key, or Scan.
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

static const char *table, *index_name;
static int verbose, misses, status;
static long maxitems, nitems, pagesize;

static void
usage(void)
{
	fprintf(stderr, "usage: lb-ddb-get -t table [-mv] [-k keyattrs | "
	    "-K attr=value,... |\n"
	    "\t-q attr=value [--sk 'attr op value'] [-x index]] "
	    "[-f filter ...] [-l pagesize] [-n max]\n\t[-r file]\n");
	exit(2);
}

/* "attr=value" into a fresh attr and a pointer to value. */
static char *
attr_of(const char *s, const char *sep, const char **rest, const char *opt)
{
	const char *eq = strstr(s, sep);
	char *a;

	if (eq == NULL || eq == s)
		errx(2, "%s %s: not ATTR%sVALUE", opt, s, sep);
	a = lb_xmalloc((size_t)(eq - s) + 1);
	memcpy(a, s, (size_t)(eq - s));
	a[eq - s] = '\0';
	*rest = eq + strlen(sep);
	return a;
}

static cJSON *
sav(const char *v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "S", v);
	return o;
}

static int
print(const cJSON *item)
{
	if (lb_jsonl_write(stdout, item) == -1)
		err(1, "stdout");
	nitems++;
	return maxitems > 0 && nitems >= maxitems;
}

/* GetItem of one key (an item); 0 done, -1 with e. */
static int
getone(struct lb_aws *aws, const cJSON *key, const cJSON *plainkey,
    struct lb_err *e)
{
	cJSON *item, *o;
	char *txt;
	int rc;

	if ((rc = lb_ddb_get(aws, table, key, &item, e)) == -1)
		return -1;
	if (rc == 1) {
		print(item);
		cJSON_Delete(item);
		return 0;
	}
	if (verbose) {
		txt = lb_json_print(plainkey);
		warnx("%s: no item %s", table, txt);
		free(txt);
	}
	if (misses) {
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "key", cJSON_Duplicate(plainkey, 1));
		cJSON_AddFalseToObject(o, "found");
		print(o);
		cJSON_Delete(o);
	}
	return 0;
}

/* Query or Scan with paging; -1 with e. */
static int
pages(struct lb_aws *aws, const char *op, cJSON *body, struct lb_err *e)
{
	cJSON *ans, *c, *item, *lek;

	for (;;) {
		if ((ans = lb_ddb_call(aws, op, body, e)) == NULL)
			return -1;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ans,
		    "Items")) {
			if ((item = lb_ddb_from_item(c, e)) == NULL) {
				cJSON_Delete(ans);
				return -1;
			}
			if (print(item)) {
				cJSON_Delete(item);
				cJSON_Delete(ans);
				return 0;
			}
			cJSON_Delete(item);
		}
		lek = cJSON_GetObjectItemCaseSensitive(ans, "LastEvaluatedKey");
		if (lek == NULL || lek->child == NULL) {
			cJSON_Delete(ans);
			return 0;
		}
		cJSON_DetachItemViaPointer(ans, lek);
		lb_json_set(body, "ExclusiveStartKey", lek);
		cJSON_Delete(ans);
	}
}

/* --sk 'attr op value' into the key condition. */
static void
sortkey(struct lb_ddb_expr *x, struct lb_buf *b, const char *sk)
{
	static const char *ops[] = { "begins_with", "between", "<=", ">=",
	    "=", "<", ">", NULL };
	char *copy = lb_xstrdup(sk), *sp, *attr, *op, *val, *and;
	const char *n;
	int i;

	if ((sp = strchr(copy, ' ')) == NULL)
		errx(2, "--sk %s: not 'ATTR OP VALUE'", sk);
	*sp = '\0';
	attr = copy;
	op = sp + 1;
	if ((sp = strchr(op, ' ')) == NULL)
		errx(2, "--sk %s: not 'ATTR OP VALUE'", sk);
	*sp = '\0';
	val = sp + 1;
	for (i = 0; ops[i] != NULL; i++)
		if (strcmp(op, ops[i]) == 0)
			break;
	if (ops[i] == NULL || *attr == '\0')
		errx(2, "--sk %s: OP is one of =, <, <=, >, >=, begins_with, "
		    "between", sk);
	n = lb_ddb_expr_name(x, attr);
	if (strcmp(op, "begins_with") == 0) {
		lb_buf_printf(b, " AND begins_with(%s, ", n);
		lb_buf_printf(b, "%s)", lb_ddb_expr_value(x, sav(val)));
	} else if (strcmp(op, "between") == 0) {
		if ((and = strstr(val, " and ")) == NULL)
			errx(2, "--sk %s: between needs 'V1 and V2'", sk);
		*and = '\0';
		lb_buf_printf(b, " AND %s BETWEEN ", n);
		lb_buf_printf(b, "%s AND ", lb_ddb_expr_value(x, sav(val)));
		lb_buf_puts(b, lb_ddb_expr_value(x, sav(and + 5)));
	} else {
		lb_buf_printf(b, " AND %s %s ", n, op);
		lb_buf_puts(b, lb_ddb_expr_value(x, sav(val)));
	}
	free(copy);
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		{ "sk", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_err e;
	struct lb_ddb_expr x;
	struct lb_buf kc = { 0 }, fb = { 0 };
	const char *keyattrs = NULL, *keyarg = NULL, *query = NULL;
	const char *sk = NULL, *rfile = NULL, *filters[MAXLIST], *rest;
	int ch, nfilters = 0, i, rc;
	cJSON *body;
	char *a;

	while ((ch = getopt_long(argc, argv, "f:k:K:l:mn:q:r:t:vx:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (nfilters == MAXLIST)
				errx(2, "more than %d -f", MAXLIST);
			filters[nfilters++] = optarg;
			break;
		case 'k':
			keyattrs = optarg;
			break;
		case 'K':
			keyarg = optarg;
			break;
		case 'l':
			if (lb_util_strtol(optarg, 1, 1000000, &pagesize)
			    == -1)
				errx(2, "-l %s: not a count from 1", optarg);
			break;
		case 'm':
			misses = 1;
			break;
		case 'n':
			if (lb_util_strtol(optarg, 1, 1000000000, &maxitems)
			    == -1)
				errx(2, "-n %s: not a count from 1", optarg);
			break;
		case 'q':
			query = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		case 'S':
			sk = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'x':
			index_name = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || table == NULL || *table == '\0')
		usage();
	if ((keyattrs != NULL) + (keyarg != NULL) + (query != NULL) > 1)
		errx(2, "-k, -K and -q exclude each other");
	if ((sk != NULL || index_name != NULL) && query == NULL)
		errx(2, "--sk and -x need -q");
	if (nfilters > 0 && (keyattrs != NULL || keyarg != NULL))
		errx(2, "-f applies to a query or a scan, not to keys");
	signal(SIGPIPE, SIG_IGN);
	http = lb_http_new(NULL);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	lb_err_clear(&e);
	lb_ddb_expr_init(&x);

	if (keyarg != NULL) {
		/* one key given as attr=value,attr=value (strings) */
		cJSON *key = cJSON_CreateObject(), *plain = cJSON_CreateObject();
		char *copy = lb_xstrdup(keyarg), *p = copy, *c;

		for (;;) {
			if ((c = strchr(p, ',')) != NULL)
				*c = '\0';
			a = attr_of(p, "=", &rest, "-K");
			cJSON_AddItemToObject(key, a, sav(rest));
			cJSON_AddStringToObject(plain, a, rest);
			free(a);
			if (c == NULL)
				break;
			p = c + 1;
		}
		free(copy);
		if (getone(aws, key, plain, &e) == -1) {
			warnx("%s: %s", table, e.msg);
			lb_err_fold(&status, e.kind);
		}
		cJSON_Delete(key);
		cJSON_Delete(plain);
	} else if (keyattrs != NULL) {
		/* keys from records: the named members */
		struct lb_jsonl *in = lb_jsonl_open(stdin, "stdin", 0);
		char *names[MAXLIST], *copy = lb_xstrdup(keyattrs), *p, *c;
		int nn = 0;
		cJSON *rec, *key, *plain, *v, *av;
		const char *raw;
		size_t rawlen;

		for (p = copy; nn < MAXLIST; p = c + 1) {
			if ((c = strchr(p, ',')) != NULL)
				*c = '\0';
			if (*p == '\0')
				errx(2, "-k %s: empty name", keyattrs);
			names[nn++] = p;
			if (c == NULL)
				break;
		}
		while ((rc = lb_jsonl_next(in, &rec, &e)) != 0) {
			if (rc == -2) {
				warnx("%s", e.msg);
				lb_err_fold(&status, LB_EFAIL);
				break;
			}
			raw = lb_jsonl_raw(in, &rawlen);
			if (rc == -1) {
				warnx("%s", e.msg);
				goto reject;
			}
			lb_ddb_keep_numbers(rec, raw, rawlen);
			key = cJSON_CreateObject();
			plain = cJSON_CreateObject();
			for (i = 0; i < nn; i++) {
				v = cJSON_GetObjectItemCaseSensitive(rec,
				    names[i]);
				if (v == NULL || !(cJSON_IsString(v) ||
				    cJSON_IsNumber(v) || cJSON_IsRaw(v))) {
					lb_err_set(&e, LB_EFAIL, 0, "key member "
					    "%s is %s", names[i], v == NULL ?
					    "missing" : "not a string or number");
					break;
				}
				if ((av = lb_ddb_to_av(v, &e)) == NULL)
					break;
				cJSON_AddItemToObject(key, names[i], av);
				cJSON_AddItemToObject(plain, names[i],
				    cJSON_Duplicate(v, 1));
			}
			if (i == nn && getone(aws, key, plain, &e) == 0) {
				cJSON_Delete(key);
				cJSON_Delete(plain);
				cJSON_Delete(rec);
				if (maxitems > 0 && nitems >= maxitems)
					break;
				continue;
			}
			cJSON_Delete(key);
			cJSON_Delete(plain);
			warnx("%s:%ld: %s", lb_jsonl_name(in),
			    lb_jsonl_line(in), e.msg);
			if (e.http == 403 || strcmp(e.code,
			    "ResourceNotFoundException") == 0) {
				lb_err_fold(&status, LB_EFAIL);
				cJSON_Delete(rec);
				break;
			}
reject:
			if (rfile != NULL &&
			    lb_jsonl_reject(rfile, raw, rawlen) == -1)
				warn("%s", rfile);
			lb_err_fold(&status, rc == -1 ? LB_EFAIL : e.kind);
			cJSON_Delete(rec);
			lb_err_clear(&e);
		}
		free(copy);
		lb_jsonl_close(in);
	} else {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "TableName", table);
		if (query != NULL) {
			a = attr_of(query, "=", &rest, "-q");
			lb_buf_printf(&kc, "%s = ", lb_ddb_expr_name(&x, a));
			lb_buf_puts(&kc, lb_ddb_expr_value(&x, sav(rest)));
			free(a);
			if (sk != NULL)
				sortkey(&x, &kc, sk);
			cJSON_AddStringToObject(body, "KeyConditionExpression",
			    kc.p);
			if (index_name != NULL)
				cJSON_AddStringToObject(body, "IndexName",
				    index_name);
		}
		for (i = 0; i < nfilters; i++) {
			const char *ne = strstr(filters[i], "<>");
			const char *eq = strchr(filters[i], '=');
			const char *op = ne && (!eq || ne < eq) ? "<>" : "=";

			a = attr_of(filters[i], op, &rest, "-f");
			lb_buf_printf(&fb, "%s%s %s ", i ? " AND " : "",
			    lb_ddb_expr_name(&x, a), op);
			lb_buf_puts(&fb, lb_ddb_expr_value(&x, sav(rest)));
			free(a);
		}
		if (nfilters > 0)
			cJSON_AddStringToObject(body, "FilterExpression", fb.p);
		lb_ddb_expr_attach(&x, body);
		if (pagesize > 0)
			cJSON_AddNumberToObject(body, "Limit", (double)pagesize);
		if (pages(aws, query ? "Query" : "Scan", body, &e) == -1) {
			warnx("%s: %s", table, e.msg);
			lb_err_fold(&status, e.kind);
		}
		cJSON_Delete(body);
	}
	lb_buf_free(&kc);
	lb_buf_free(&fb);
	lb_ddb_expr_free(&x);
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
