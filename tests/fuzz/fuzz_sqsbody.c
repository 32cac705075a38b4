/*
 * fuzz_sqsbody.c: the SQS submission body parser (lb_sqs_parse), and the
 * AttributeValue conversion of whatever it accepts, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "sqs.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_err e;
	cJSON *rec, *item, *back;
	char *txt;

	rec = lb_sqs_parse((const char *)data, size, &e);
	if (rec == NULL) {
		/* the message must be a terminated string */
		if (strlen(e.msg) >= sizeof(e.msg))
			abort();
		return 0;
	}
	/* the pk fields always come out as strings of digits */
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec,
	    "submission_pk")))
		abort();
	lb_ddb_keep_numbers(rec, (const char *)data, size);
	if ((item = lb_ddb_to_item(rec, &e)) != NULL) {
		if ((back = lb_ddb_from_item(item, &e)) == NULL)
			abort();	/* what goes in must come out */
		txt = lb_json_print(back);
		free(txt);
		cJSON_Delete(back);
		cJSON_Delete(item);
	}
	cJSON_Delete(rec);
	return 0;
}
