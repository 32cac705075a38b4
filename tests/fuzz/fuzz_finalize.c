/*
 * fuzz_finalize.c: lb-finalize's readers of outside input on arbitrary
 * bytes: marker names (S3 keys the containers write), results.json (a
 * file the monitor builds from participant-influenced results) and the
 * Job outcome member.  The input is split at the first two NUL bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "finalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Is the reason free of anything but the words lb-finalize writes? */
static void
check_reason(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("$`\"\\<>{}", *s) != NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_finalize_markers m;
	struct lb_buf b = { 0 };
	struct lb_err e;
	const char *p = (const char *)data, *end = p + size, *z1, *z2;
	char *names, *line, *save;
	cJSON *r, *k8s;

	z1 = memchr(p, '\0', size);
	z2 = z1 ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;

	/* marker names, one a line */
	names = lb_xmalloc((z1 ? (size_t)(z1 - p) : size) + 1);
	memcpy(names, p, z1 ? (size_t)(z1 - p) : size);
	names[z1 ? (size_t)(z1 - p) : size] = '\0';
	lb_finalize_markers_init(&m, (long)(size % 7) + 1);
	for (line = strtok_r(names, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		lb_finalize_marker(&m, line);
	if (m.done > m.expected || m.done < 0)
		abort();
	if (lb_finalize_status(&m) == LB_FINALIZE_FINISHED &&
	    !(m.monitor_done && m.cancel[0] == '\0'))
		abort();
	free(names);

	/* results.json */
	if (z1 != NULL) {
		size_t n = z2 ? (size_t)(z2 - z1 - 1) : (size_t)(end - z1 - 1);

		if ((r = lb_finalize_results(z1 + 1, n, &e)) != NULL &&
		    !cJSON_IsObject(r))
			abort();
		cJSON_Delete(r);
		(void)lb_finalize_utf8(z1 + 1, n);
	}

	/* the k8s member */
	k8s = z2 ? cJSON_ParseWithLength(z2 + 1, (size_t)(end - z2 - 1)) :
	    NULL;
	lb_finalize_reason(&b, k8s, &m);
	if (b.p != NULL)
		check_reason(b.p);
	lb_buf_free(&b);
	cJSON_Delete(k8s);
	lb_finalize_markers_free(&m);
	return 0;
}
