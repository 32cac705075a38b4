/* fuzz_yaml.c: lb_yaml_parse on arbitrary bytes, walking every node. */
#include <stddef.h>
#include <stdint.h>

#include "lb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static long
walk(const struct lb_yaml *y, const cJSON *n)
{
	const cJSON *e;
	long sum = lb_yaml_line(y, n);

	cJSON_ArrayForEach(e, n)
		sum += walk(y, e);
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct lb_yaml *y;
	struct lb_err err;
	int i;

	y = lb_yaml_parse((const char *)data, len, "fuzz", &err);
	if (y != NULL) {
		for (i = 0; i < lb_yaml_ndocs(y); i++)
			if (walk(y, lb_yaml_doc(y, i)) < 0)
				__builtin_trap();	/* lines are >= 0 */
		lb_yaml_free(y);
	}
	return 0;
}
