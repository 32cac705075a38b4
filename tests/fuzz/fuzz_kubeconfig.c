/* fuzz_kubeconfig.c: kubeconfig text, with and without a context. */
#include <stddef.h>
#include <stdint.h>

#include "lb.h"
#include "k8s.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct lb_k8s_config c;
	struct lb_err err;

	if (lb_k8s_config_parse(&c, (const char *)data, len, "fuzz", "/nowhere",
	    NULL, &err) == 0)
		lb_k8s_config_free(&c);
	if (lb_k8s_config_parse(&c, (const char *)data, len, "fuzz", NULL, "x",
	    &err) == 0)
		lb_k8s_config_free(&c);
	return 0;
}
