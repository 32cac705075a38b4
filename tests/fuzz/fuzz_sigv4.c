/*
 * fuzz_sigv4.c: the signer's parsing of URLs (authority, port, path dot
 * segments, query pairs and percent escapes) and header lines.  Input:
 * the first line is the URL, the others header lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_creds creds = { "AKID", "secret", "token", 0 };
	struct lb_sigv4 cfg = { 0 };
	struct lb_sigv4_out out;
	struct lb_err err = { 0 };
	struct curl_slist *list = NULL;
	const char *hdrs[16];
	char *text, *line, *next, *url;
	size_t n = 0;

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	line = text;
	if ((next = strchr(line, '\n')) != NULL)
		*next++ = '\0';
	url = line;
	for (line = next; line != NULL && n < 15; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		hdrs[n++] = line;
	}
	hdrs[n] = NULL;
	cfg.creds = &creds;
	cfg.region = "us-west-2";
	cfg.service = "sqs";
	cfg.now = 1440938160;
	cfg.s3 = size > 0 && data[size - 1] & 1;
	if (lb_sigv4_sign(&cfg, "POST", url, hdrs, data, size, &list, &out,
	    &err) == 0) {
		if (out.canonical == NULL || strlen(out.signature) != 64)
			abort();
		lb_sigv4_out_free(&out);
	}
	curl_slist_free_all(list);
	free(lb_sigv4_presign(&cfg, "GET", url, hdrs, 60, NULL, &err));
	free(text);
	return 0;
}
