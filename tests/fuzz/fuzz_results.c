/*
 * fuzz_results.c: a partial results file from the outside, through the
 * Python-exact JSON parser, the merge (both formats) and the generators.
 * Checks that dumping is stable: dump(parse(dump(x))) == dump(x).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[64];

static void
roundtrip(const cJSON *j, int sort)
{
	struct lb_buf a = { 0 }, b = { 0 };
	struct lb_err e;
	cJSON *k;

	lb_buf_add(&a, "", 0);
	lb_pyjson_dump(&a, j, sort);
	if ((k = lb_pyjson_parse(a.p, a.len, &e)) == NULL)
		abort();		/* we wrote something we cannot read */
	lb_buf_add(&b, "", 0);
	lb_pyjson_dump(&b, k, sort);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();
	cJSON_Delete(k);
	lb_buf_free(&a);
	lb_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *paths[2];
	struct lb_results_opts o = { LB_RESULTS_LB2, 0, 0 };
	struct lb_results *r;
	struct lb_err e;
	FILE *fp;
	cJSON *j;
	char *s;
	int fmt;

	if ((j = lb_pyjson_parse((const char *)data, size, &e)) != NULL) {
		roundtrip(j, 0);
		roundtrip(j, 1);
		for (fmt = 1; fmt <= 2; fmt++) {
			free(lb_results_results(j, fmt, NULL, &e));
			free(lb_results_stdout(j, fmt, NULL, &e));
		}
		cJSON_Delete(j);
	}

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_results.%ld.json",
		    (long)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	paths[0] = path;
	paths[1] = path;		/* the same file twice: duplicates */
	for (fmt = 1; fmt <= 2; fmt++) {
		o.format = fmt;
		o.workers = fmt == 1 ? 0 : 2;
		o.routes = fmt == 1 ? 0 : 3;
		if ((r = lb_results_merge(paths, 1 + (size & 1), &o,
		    &e)) != NULL) {
			size_t len;

			s = lb_results_merged(r, &len);
			j = lb_pyjson_parse(s, len, &e);
			if (j == NULL)
				abort();
			free(lb_results_results(j, fmt, NULL, &e));
			free(lb_results_stdout(j, fmt, NULL, &e));
			cJSON_Delete(j);
			free(s);
			lb_results_free(r);
		}
	}
	unlink(path);
	return 0;
}
