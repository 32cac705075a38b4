/*
 * lb-evalai-recv: read submission messages through EvalAI's own queue
 * API (no AWS account needed, only the host token) and write records of
 * the lb-sqs-recv shape, the receipt under "evalai".  With -a (--ack)
 * it reads such records instead and deletes their messages.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "evalai.h"
#include "lb.h"
#include "sqs.h"

static volatile int stop;

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: lb-evalai-recv [-dfv] [-c config] [-n max] "
	    "[-p seconds] [-q queue]\n"
	    "                      [-r rejects] [-u url]\n"
	    "       lb-evalai-recv -a [-v] [-c config] [-r rejects] "
	    "[-u url]\n");
	exit(status);
}

static void
trace(void *arg, const char *line)
{
	fprintf(stderr, "lb-evalai-recv: %s\n", line);
}

static void
onsig(int sig)
{
	stop = sig;
}

/*
 * A body that is not a submission message: reported, saved, and with
 * drop deleted, since EvalAI's queue has no redrive policy to take a
 * poison message away.
 */
static void
bad_body(struct lb_evalai *ev, const char *queue, const char *h,
    const char *raw, const char *why, const char *rejects, int drop)
{
	struct lb_err e;

	if (rejects != NULL && lb_jsonl_reject(rejects, raw,
	    strlen(raw)) == -1)
		err(LB_EFAIL, "%s", rejects);
	if (!drop) {
		warnx("queue %s: %s (left in the queue)", queue, why);
		return;
	}
	if (lb_evalai_queue_delete(ev, queue, h, &e) == -1)
		warnx("queue %s: %s; deleting it: %s", queue, why, e.msg);
	else
		warnx("queue %s: %s (saved to %s and deleted)", queue, why,
		    rejects);
}

static int
recv_loop(struct lb_evalai *ev, const char *queue, int follow, long max,
    long poll_s, const char *rejects, int drop)
{
	struct lb_err e;
	cJSON *ans, *body, *rec, *meta;
	const char *h;
	char *raw;
	long got = 0;
	int status = 0;

	while (!stop && (max == 0 || got < max)) {
		if ((ans = lb_evalai_queue_recv(ev, queue, &e)) == NULL) {
			if (lb_evalai_auth_failed(&e) || e.kind != LB_ETEMP ||
			    !follow)
				errx(e.kind, "queue %s: %s", queue, e.msg);
			warnx("queue %s: %s", queue, e.msg);
			lb_util_sleep_ms(poll_s * 1000, &stop);
			continue;
		}
		body = cJSON_GetObjectItemCaseSensitive(ans, "body");
		h = lb_json_str(ans, "receipt_handle");
		if (body == NULL || cJSON_IsNull(body) || h == NULL) {
			cJSON_Delete(ans);
			if (!follow)
				break;
			lb_util_sleep_ms(poll_s * 1000, &stop);
			continue;
		}
		got++;
		/* the same check as an SQS body (DESIGN 3.1) */
		raw = lb_json_print(body);
		if ((rec = lb_sqs_parse(raw, strlen(raw), &e)) == NULL) {
			bad_body(ev, queue, h, raw, e.msg, rejects, drop);
			free(raw);
			lb_err_fold(&status, LB_EFAIL);
			cJSON_Delete(ans);
			continue;
		}
		free(raw);
		meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "queue", queue);
		cJSON_AddStringToObject(meta, "receipt_handle", h);
		cJSON_AddStringToObject(meta, "api_server", lb_evalai_base(ev));
		lb_json_set(rec, "evalai", meta);
		if (lb_jsonl_write(stdout, rec) == -1)
			err(LB_EFAIL, "stdout");
		cJSON_Delete(rec);
		cJSON_Delete(ans);
	}
	return status;
}

static int
ack_loop(struct lb_http *http, const char *token, const char *url,
    const char *cfg_url, const char *rejects)
{
	struct lb_evalai *ev = NULL;
	struct lb_jsonl *in;
	struct lb_err e;
	const char *q, *h, *base, *raw;
	cJSON *rec = NULL;
	size_t rawlen;
	int r, status = 0, ok;

	in = lb_jsonl_open(stdin, "stdin", 0);
	while (!stop && (r = lb_jsonl_next(in, &rec, &e)) != 0) {
		if (r == -2)
			errx(LB_EFAIL, "stdin: %s", e.msg);
		ok = 0;
		if (r == 1) {
			q = lb_json_str(rec, "evalai.queue");
			h = lb_json_str(rec, "evalai.receipt_handle");
			base = url ? url :
			    lb_json_str(rec, "evalai.api_server");
			if (base == NULL)
				base = cfg_url;
			if (q == NULL || h == NULL)
				lb_err_set(&e, LB_EFAIL, 0, "no evalai.queue "
				    "or evalai.receipt_handle string");
			else if (base == NULL)
				lb_err_set(&e, LB_EUSAGE, 0, "no EvalAI URL: "
				    "give -u, LB_EVALAI_URL, "
				    "evalai.api_server or a config");
			else if (ev != NULL &&
			    strcmp(lb_evalai_base(ev), base) == 0)
				ok = 1;
			else {
				lb_evalai_free(ev);
				ev = lb_evalai_new(http, base, token, &e);
				ok = ev != NULL;
			}
			if (ok && lb_evalai_queue_delete(ev, q, h, &e) == -1)
				ok = 0;
		}
		if (ok) {
			if (lb_jsonl_write(stdout, rec) == -1)
				err(LB_EFAIL, "stdout");
		} else {
			if (r == 1 && (lb_evalai_auth_failed(&e) ||
			    e.kind == LB_EUSAGE))
				errx(e.kind == LB_EUSAGE ? LB_EUSAGE : LB_EFAIL,
				    "stdin:%ld: %s", lb_jsonl_line(in), e.msg);
			warnx("stdin:%ld: %s", lb_jsonl_line(in), e.msg);
			lb_err_fold(&status, r == 1 ? e.kind : LB_EFAIL);
			raw = lb_jsonl_raw(in, &rawlen);
			if (rejects != NULL &&
			    lb_jsonl_reject(rejects, raw, rawlen) == -1)
				err(LB_EFAIL, "%s", rejects);
		}
		cJSON_Delete(rec);
	}
	lb_jsonl_close(in);
	lb_evalai_free(ev);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ack", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_http_opts ho = { 0 };
	struct lb_config *cfg = NULL;
	struct lb_http *http;
	struct lb_evalai *ev;
	struct lb_err e;
	const char *cpath = NULL, *url = NULL, *queue = NULL, *v;
	const char *rejects = NULL;
	char *token;
	long max = 0, poll_s = 10;
	int ch, ack = 0, drop = 0, follow = 0, verbose = 0, status;

	while ((ch = getopt_long(argc, argv, "ac:dfhn:p:q:r:u:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			ack = 1;
			break;
		case 'c':
			cpath = optarg;
			break;
		case 'd':
			drop = 1;
			break;
		case 'f':
			follow = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'n':
			if (lb_util_strtol(optarg, 1, 1000000000L, &max) == -1)
				errx(LB_EUSAGE, "-n: not a count: %s", optarg);
			break;
		case 'p':
			if (lb_util_strtol(optarg, 1, 3600, &poll_s) == -1)
				errx(LB_EUSAGE, "-p: not a number of seconds "
				    "from 1 to 3600: %s", optarg);
			break;
		case 'q':
			queue = optarg;
			break;
		case 'r':
			rejects = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(stderr, LB_EUSAGE);
		}
	}
	if (optind != argc || (ack && (follow || max || queue || drop)))
		usage(stderr, LB_EUSAGE);
	if (drop && rejects == NULL)
		errx(LB_EUSAGE, "-d deletes bad messages only once saved: give "
		    "-r");
	if (url == NULL && (v = getenv("LB_EVALAI_URL")) != NULL && *v)
		url = v;
	if (cpath != NULL || getenv("LB_CONFIG") != NULL ||
	    access(LB_CONFIG_DEFAULT, F_OK) == 0) {
		if ((cfg = lb_config_load(lb_config_path(cpath), &e)) == NULL)
			errx(LB_EUSAGE, "%s", e.msg);
		if (queue == NULL)
			queue = cfg->queue;
	}
	if (!ack && url == NULL && cfg != NULL)
		url = cfg->api_server;
	if (!ack && url == NULL)
		errx(LB_EUSAGE, "no EvalAI URL: give -u, LB_EVALAI_URL or a "
		    "config");
	if (!ack && queue == NULL)
		errx(LB_EUSAGE, "no queue: give -q or evalai.queue in the "
		    "config");
	if (!ack && !lb_evalai_queue_ok(queue))
		errx(LB_EUSAGE, "-q: a queue name is letters, digits, '_', "
		    "'.' and '-'");
	if (verbose)
		ho.trace = trace;
	if ((http = lb_http_new(&ho)) == NULL)
		errx(LB_EFAIL, "cannot start libcurl");
	if ((token = lb_evalai_token(cfg ? cfg->token_source : NULL, http,
	    &e)) == NULL)
		errx(e.kind == LB_ETEMP ? LB_ETEMP : LB_EUSAGE, "%s", e.msg);

	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ack)
		status = ack_loop(http, token, url, cfg ? cfg->api_server :
		    NULL, rejects);
	else {
		if ((ev = lb_evalai_new(http, url, token, &e)) == NULL)
			errx(LB_EUSAGE, "%s", e.msg);
		status = recv_loop(ev, queue, follow, max, poll_s, rejects,
		    drop);
		lb_evalai_free(ev);
	}
	explicit_bzero(token, strlen(token));
	free(token);
	lb_http_free(http);
	lb_config_free(cfg);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(LB_EFAIL, "stdout");
	return status;
}
