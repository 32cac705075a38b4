/*
 * lb-sqs-recv: receive submission messages from an SQS queue and print
 * one record per message.  Bad bodies are reported and left on the
 * queue for its redrive policy.
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "sqs.h"

static volatile int stop;

static void
onsig(int sig)
{
	stop = sig;
}

static void
usage(void)
{
	fprintf(stderr, "usage: lb-sqs-recv -q queue_url [-fv] [-n max] "
	    "[-r file] [-V visibility] [-w wait]\n");
	exit(2);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "lb-sqs-recv: %s\n", line);
}

/* A rejected message: its raw body and ids, one JSON line. */
static void
reject(const char *path, const char *url, const struct lb_sqs_msg *m,
    const char *why)
{
	cJSON *j, *s;
	char *txt;

	if (path == NULL)
		return;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "error", why);
	cJSON_AddStringToObject(j, "body", m->body);
	s = cJSON_AddObjectToObject(j, "sqs");
	cJSON_AddStringToObject(s, "queue_url", url);
	cJSON_AddStringToObject(s, "message_id", m->id);
	cJSON_AddStringToObject(s, "receipt_handle", m->receipt);
	cJSON_AddNumberToObject(s, "receive_count", m->count);
	txt = lb_json_print(j);
	if (lb_jsonl_reject(path, txt, strlen(txt)) == -1)
		warn("%s", path);
	free(txt);
	cJSON_Delete(j);
}

int
main(int argc, char *argv[])
{
	struct lb_http_opts ho = { 0 };
	struct lb_http *http;
	struct lb_aws *aws;
	struct lb_err e;
	struct lb_sqs_msg *msgs;
	struct sigaction sa;
	const char *url = NULL, *rfile = NULL;
	long max = 0, wait = -1, vis = -1, got = 0, pause_ms = 0;
	int ch, follow = 0, verbose = 0, status = 0, n, i, want;
	char when[32];
	cJSON *rec, *s;

	while ((ch = getopt(argc, argv, "fn:q:r:V:vw:")) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'n':
			if (lb_util_strtol(optarg, 1, 1000000000, &max) == -1)
				errx(2, "-n %s: not a count from 1", optarg);
			break;
		case 'q':
			url = optarg;
			break;
		case 'r':
			rfile = optarg;
			break;
		case 'V':
			if (lb_util_strtol(optarg, 0, 43200, &vis) == -1)
				errx(2, "-V %s: not 0 to 43200 seconds", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			if (lb_util_strtol(optarg, 0, 20, &wait) == -1)
				errx(2, "-w %s: not 0 to 20 seconds", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || url == NULL)
		usage();
	if (wait < 0)
		wait = follow ? 20 : 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;	/* no SA_RESTART: a sleep ends early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ho.stop = &stop;
	ho.timeout_ms = (wait + 30) * 1000;
	if (verbose)
		ho.trace = trace;
	http = lb_http_new(&ho);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);

	while (!stop) {
		want = LB_SQS_BATCH;
		if (max > 0 && max - got < want)
			want = (int)(max - got);
		lb_err_clear(&e);
		n = lb_sqs_receive(aws, url, want, (int)wait, (int)vis, &msgs,
		    &e);
		if (n == -1) {
			if (stop)
				break;
			warnx("%s: %s", url, e.msg);
			if (!follow || e.kind != LB_ETEMP) {
				lb_err_fold(&status, e.kind);
				break;
			}
			/* following: wait out an outage, never give up */
			pause_ms = pause_ms ? pause_ms * 2 : 1000;
			if (pause_ms > 60000)
				pause_ms = 60000;
			lb_util_sleep_ms(pause_ms, &stop);
			continue;
		}
		pause_ms = 0;
		for (i = 0; i < n; i++) {
			const struct lb_sqs_msg *m = &msgs[i];

			if ((rec = lb_sqs_parse(m->body, strlen(m->body),
			    &e)) == NULL) {
				warnx("message %s: %s (left on the queue)",
				    m->id, e.msg);
				reject(rfile, url, m, e.msg);
				lb_err_fold(&status, LB_EFAIL);
				got++;
				continue;
			}
			s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "queue_url", url);
			cJSON_AddStringToObject(s, "message_id", m->id);
			cJSON_AddStringToObject(s, "receipt_handle",
			    m->receipt);
			cJSON_AddNumberToObject(s, "receive_count", m->count);
			if (m->sent_ms > 0) {
				lb_util_isotime((time_t)(m->sent_ms / 1000),
				    when);
				cJSON_AddStringToObject(s, "sent_at", when);
			}
			lb_json_set(rec, "sqs", s);
			if (lb_jsonl_write(stdout, rec) == -1) {
				/* not deleted: it comes back after the
				 * visibility timeout */
				warn("stdout");
				cJSON_Delete(rec);
				lb_sqs_msgs_free(msgs, n);
				lb_aws_free(aws);
				lb_http_free(http);
				return 1;
			}
			cJSON_Delete(rec);
			got++;
		}
		lb_sqs_msgs_free(msgs, n);
		if (max > 0 && got >= max)
			break;
		if (n == 0 && !follow)
			break;
	}
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
