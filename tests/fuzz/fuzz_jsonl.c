/* fuzz_jsonl.c: the JSON-lines reader on arbitrary bytes, small cap. */
#include <stdint.h>
#include <stdio.h>

#include "lb.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct lb_jsonl *r;
	struct lb_err err;
	cJSON *j;
	FILE *fp;
	int rc, n = 0;

	if (len == 0 || (fp = fmemopen((void *)data, len, "r")) == NULL)
		return 0;
	/* a small cap so the over-long path is reached too */
	r = lb_jsonl_open(fp, "fuzz", 256);
	while ((rc = lb_jsonl_next(r, &j, &err)) != 0 && rc != -2 &&
	    n++ < 100000) {
		if (rc == 1)
			cJSON_Delete(j);
		(void)lb_jsonl_raw(r, NULL);
	}
	lb_jsonl_close(r);
	fclose(fp);
	return 0;
}
