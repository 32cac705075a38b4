/*
 * fuzz_aws_error.c: AWS error answers (JSON __type/message, XML
 * <Code>/<Message> through expat) as lb_aws_error and lb_aws_xml_get
 * read them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "AccessKeyId", "Expiration",
	    NULL };
	struct lb_err err = { 0 };
	char *vals[2];
	int i;

	lb_aws_error(size > 0 ? 400 + data[0] % 200 : 400,
	    (const char *)data, size, &err);
	if (strlen(err.msg) >= sizeof(err.msg) ||
	    strlen(err.code) >= sizeof(err.code))
		abort();
	if (lb_aws_xml_get((const char *)data, size, names, vals) == 0)
		for (i = 0; i < 2; i++)
			free(vals[i]);
	return 0;
}
