/*
 * fuzz_s3xml: the S3 XML readers (ListObjectsV2 pages and <Error>
 * documents) on arbitrary bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
count(void *arg, const struct lb_s3_obj *o, struct lb_err *err)
{
	size_t *n = arg;

	/* touch everything the reader hands out */
	*n += strlen(o->key) + strlen(o->etag) + strlen(o->last_modified) +
	    (size_t)o->is_prefix + (size_t)(o->size & 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct lb_err err;
	char *next = NULL;
	size_t n = 0;

	memset(&err, 0, sizeof(err));
	if (lb_s3_xml_list((const char *)data, len, count, &n, &next,
	    &err) == 0 && next != NULL)
		n += strlen(next);
	free(next);
	memset(&err, 0, sizeof(err));
	lb_s3_xml_error((const char *)data, len, 503, &err);
	return 0;
}
