/*
 * fuzz_watch.c: a watch stream fed in chunks whose sizes come from the
 * first byte; every event's object goes through the outcome decision and
 * the stuck-pod check.  Also the input as an ExecCredential answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lb.h"
#include "k8s.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
on_event(void *arg, const char *type, const cJSON *obj)
{
	struct lb_k8s_outcome o;
	char reason[64];
	time_t since;
	cJSON *j;

	lb_k8s_job_outcome(obj, &o);
	if (lb_k8s_state_name(o.state) == NULL)
		__builtin_trap();
	lb_k8s_pod_stuck(obj, reason, sizeof(reason), &since);
	j = cJSON_CreateObject();
	lb_k8s_outcome_json(&o, j);
	cJSON_Delete(j);
	free(lb_k8s_job_selector(obj));
	return type[0] == 'X';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct lb_k8s_wp *w;
	struct lb_err err;
	size_t step, off = 1;
	char *t, *c, *k;
	time_t exp;

	if (len == 0)
		return 0;
	step = (size_t)(data[0] % 64) + 1;
	w = lb_k8s_wp_new(on_event, NULL);
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		if (lb_k8s_wp_feed(w, (const char *)data + off, n, &err) != 0)
			break;
		off += n;
	}
	lb_k8s_wp_end(w, &err);
	lb_k8s_wp_free(w);
	if (lb_k8s_exec_parse((const char *)data + 1, len - 1,
	    "client.authentication.k8s.io/v1beta1", &t, &c, &k, &exp,
	    &err) == 0) {
		free(t);
		free(c);
		free(k);
	}
	return 0;
}
