/*
 * lb-sqs-send: send each record (minus its "sqs" member) as an SQS
 * message, in batches of up to ten, and echo what was sent with
 * sqs.message_id.
 */
#include <err.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "sqs.h"

#define BATCH_BYTES	(256 * 1024)	/* SendMessageBatch payload cap */

struct pending {
	cJSON		*rec;
	char		*raw;		/* the record's text for -r */
	long		 line;
	char		*body;
	char		*dedup;
};

static const char *url, *rfile, *group;
static struct lb_jsonl *in;
static struct lb_sqs_entry ent[LB_SQS_BATCH];
static struct pending pend[LB_SQS_BATCH];
static int npend, status;
static size_t pbytes;

static void
usage(void)
{
	fprintf(stderr, "usage: lb-sqs-send -q queue_url [-d delay] "
	    "[-D dedup_member] [-g group_id] [-r file]\n");
	exit(2);
}

/*
 * Is more input there without blocking?  Then keep filling the batch.
 * Records already in stdio's buffer count too; only glibc lets us look,
 * elsewhere a short batch goes out early, which costs a request, not data.
 */
static int
more_input(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

#ifdef __GLIBC__
	if (stdin->_IO_read_ptr < stdin->_IO_read_end)
		return 1;
#endif
	return poll(&p, 1, 0) == 1;
}

static void
fail(long line, const char *raw, const char *why, int kind)
{
	warnx("%s:%ld: %s", lb_jsonl_name(in), line, why);
	if (rfile != NULL && lb_jsonl_reject(rfile, raw, strlen(raw)) == -1)
		warn("%s", rfile);
	lb_err_fold(&status, kind);
}

static void
flush(struct lb_aws *aws)
{
	struct lb_err e;
	cJSON *s;
	int i;

	if (npend == 0)
		return;
	lb_err_clear(&e);
	if (lb_sqs_send(aws, url, ent, npend, &e) == -1) {
		for (i = 0; i < npend; i++)
			fail(pend[i].line, pend[i].raw, e.msg, e.kind);
	} else {
		for (i = 0; i < npend; i++) {
			if (!ent[i].ok) {
				fail(pend[i].line, pend[i].raw, ent[i].err.msg,
				    ent[i].err.kind);
				continue;
			}
			s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "queue_url", url);
			cJSON_AddStringToObject(s, "message_id",
			    ent[i].message_id);
			if (ent[i].sequence != NULL)
				cJSON_AddStringToObject(s, "sequence_number",
				    ent[i].sequence);
			lb_json_set(pend[i].rec, "sqs", s);
			if (lb_jsonl_write(stdout, pend[i].rec) == -1)
				err(1, "stdout");
		}
	}
	for (i = 0; i < npend; i++) {
		lb_sqs_entry_clear(&ent[i]);
		cJSON_Delete(pend[i].rec);
		free(pend[i].raw);
		free(pend[i].body);
		free(pend[i].dedup);
	}
	npend = 0;
	pbytes = 0;
}

int
main(int argc, char *argv[])
{
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_err e;
	const char *dmember = NULL, *t;
	long delay = -1;
	int ch, rc;
	char buf[64];
	cJSON *rec, *copy;
	size_t rawlen;

	while ((ch = getopt(argc, argv, "d:D:g:q:r:")) != -1) {
		switch (ch) {
		case 'd':
			if (lb_util_strtol(optarg, 0, 900, &delay) == -1)
				errx(2, "-d %s: not 0 to 900 seconds", optarg);
			break;
		case 'D':
			dmember = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'q':
			url = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || url == NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);
	http = lb_http_new(NULL);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	in = lb_jsonl_open(stdin, "stdin", 0);
	for (;;) {
		lb_err_clear(&e);
		rc = lb_jsonl_next(in, &rec, &e);
		if (rc == 0)
			break;
		if (rc == -2) {
			warnx("%s", e.msg);
			lb_err_fold(&status, LB_EFAIL);
			break;
		}
		if (rc == -1) {
			const char *raw = lb_jsonl_raw(in, &rawlen);

			warnx("%s", e.msg);
			if (rfile != NULL &&
			    lb_jsonl_reject(rfile, raw, rawlen) == -1)
				warn("%s", rfile);
			lb_err_fold(&status, LB_EFAIL);
			if (!more_input())
				flush(aws);
			continue;
		}
		struct pending *p = &pend[npend];

		memset(p, 0, sizeof(*p));
		p->line = lb_jsonl_line(in);
		p->raw = lb_xstrdup(lb_jsonl_raw(in, NULL));
		if (dmember != NULL) {
			t = lb_json_text(cJSON_GetObjectItemCaseSensitive(rec,
			    dmember), buf, sizeof(buf));
			if (t == NULL || *t == '\0') {
				char *why = lb_xasprintf("member %s (the "
				    "deduplication id) is missing, empty or "
				    "not a string or integer", dmember);

				fail(p->line, p->raw, why, LB_EFAIL);
				free(why);
				free(p->raw);
				cJSON_Delete(rec);
				if (!more_input())
					flush(aws);
				continue;
			}
			p->dedup = lb_xstrdup(t);
		}
		copy = cJSON_Duplicate(rec, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "sqs");
		p->body = lb_json_print(copy);
		cJSON_Delete(copy);
		p->rec = rec;
		/* a big message goes alone, so one cannot sink nine */
		if (npend > 0 && pbytes + strlen(p->body) > BATCH_BYTES) {
			struct pending keep = *p;

			flush(aws);
			pend[0] = keep;
			p = &pend[0];
		}
		memset(&ent[npend], 0, sizeof(ent[npend]));
		ent[npend].body = p->body;
		ent[npend].group = group;
		ent[npend].dedup = p->dedup;
		ent[npend].delay = (int)delay;
		pbytes += strlen(p->body);
		npend++;
		if (npend == LB_SQS_BATCH || pbytes >= BATCH_BYTES ||
		    !more_input())
			flush(aws);
	}
	flush(aws);
	lb_jsonl_close(in);
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
