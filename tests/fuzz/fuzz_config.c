/* fuzz_config.c: the lb.yaml loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	struct lb_config *cfg;
	struct lb_err err;
	size_t i, j;

	if (!init) {
		/* variables the corpus refers to: ${} expansion is covered */
		setenv("LB_TEST_EVALAI", "http://127.0.0.1:1", 1);
		setenv("LB_FUZZ_EMPTY", "", 1);
		unsetenv("LB_EVALAI_URL");
		init = 1;
	}
	cfg = lb_config_parse((const char *)data, len, "/fuzz/lb.yaml", &err);
	if (cfg == NULL) {
		if (err.kind != LB_EUSAGE || strlen(err.msg) >= sizeof(err.msg))
			__builtin_trap();
		return 0;
	}
	/* everything a tool reads must be there and consistent */
	for (i = 0; i < cfg->nphases; i++) {
		const struct lb_config_phase *ph = &cfg->phases[i];

		if (lb_config_phase(cfg, ph->phase_pk) == NULL ||
		    lb_config_track(ph->cluster, ph->track->codename) !=
		    ph->track || ph->track->workers < 1 ||
		    ph->track->routes < 1)
			__builtin_trap();
	}
	for (i = 0; i < cfg->nclusters; i++) {
		const struct lb_config_cluster *cl = &cfg->clusters[i];

		if (lb_config_cluster(cfg, cl->id) != cl ||
		    cl->nimage_prefixes == 0 || cl->worker_template == NULL ||
		    cl->name == NULL || cl->s3_bucket == NULL)
			__builtin_trap();
		for (j = 0; j < cl->nimage_prefixes; j++)
			(void)lb_config_image_allowed(cl,
			    cl->image_prefixes[j]);
		(void)lb_config_image_allowed(cl, "a/b:c");
	}
	lb_config_free(cfg);
	return 0;
}
