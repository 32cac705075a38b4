/*
 * lb-cwlogs-put: send lines on stdin to a CloudWatch Logs stream in
 * PutLogEvents batches, flushing on size and every few seconds so that
 * a follow (lb-k8s-job logs -f) streams.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lb.h"
#include "cwlogs.h"

#define CHUNK	(LB_CWLOGS_MAXEVENT - LB_CWLOGS_OVERHEAD)
#define ROUNDS	4	/* tries of one batch (each with lb_http's retries) */

struct ev {
	long long	 ts;
	char		*msg;
	size_t		 len;
	long		 seq;		/* arrival order, for a stable sort */
};

static const char *group, *stream, *timefmt;
static struct ev *batch;
static int nbatch, capbatch, create, status, gaveup;
static size_t bbytes;
static long long bmin, bmax, bfirst, seq, notsent;
static long flush_ms = 5000;
static volatile int stop;
static struct lb_aws *aws;

static void
onsig(int sig)
{
	stop = sig;
}

static void
usage(void)
{
	fprintf(stderr, "usage: lb-cwlogs-put -g group -s stream [-c] "
	    "[-i seconds] [--time-format fmt]\n");
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
bycreate(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
drop(const char *why, int kind)
{
	int i;

	warnx("%s/%s: %d log events (%zu bytes) not sent: %s", group, stream,
	    nbatch, bbytes, why);
	lb_err_fold(&status, kind);
	for (i = 0; i < nbatch; i++)
		free(batch[i].msg);
	nbatch = 0;
	bbytes = 0;
}

static void
flush(void)
{
	struct lb_cwlogs_event *v;
	struct lb_err e;
	int i, round, rej, created = 0;
	long pause = 1000;

	if (nbatch == 0)
		return;
	qsort(batch, (size_t)nbatch, sizeof(*batch), bycreate);
	v = lb_xmalloc(sizeof(*v) * (size_t)nbatch);
	for (i = 0; i < nbatch; i++) {
		v[i].ts = batch[i].ts;
		v[i].msg = batch[i].msg;
		v[i].len = batch[i].len;
	}
	for (round = 1; ; round++) {
		lb_err_clear(&e);
		if (lb_cwlogs_put(aws, group, stream, v, nbatch, &rej,
		    &e) == 0) {
			if (rej > 0) {
				warnx("%s/%s: the service refused %d of %d "
				    "log events (too old or too new)", group,
				    stream, rej, nbatch);
				lb_err_fold(&status, LB_EFAIL);
			}
			break;
		}
		if (strcmp(e.code, "DataAlreadyAcceptedException") == 0)
			break;
		if (strcmp(e.code, "ResourceNotFoundException") == 0 &&
		    create && !created) {
			/* the stream went away: make it again, once */
			created = 1;
			if (lb_cwlogs_create(aws, group, stream, &e) == 0)
				continue;
		}
		/* throttling may come as a plain 400 error */
		if (strstr(e.code, "Throttl") != NULL || e.http == 429)
			e.kind = LB_ETEMP;
		if (e.kind != LB_ETEMP || round == ROUNDS || gaveup) {
			if (e.kind == LB_ETEMP)
				gaveup = 1;	/* do not wait again */
			drop(e.msg, e.kind);
			if (strcmp(e.code, "ResourceNotFoundException") == 0 ||
			    e.http == 403)
				stop = -1;	/* every batch would fail */
			free(v);
			return;
		}
		warnx("%s/%s: %s (trying again)", group, stream, e.msg);
		lb_util_sleep_ms(pause, NULL);
		if (pause < 30000)
			pause *= 2;
	}
	free(v);
	for (i = 0; i < nbatch; i++)
		free(batch[i].msg);
	nbatch = 0;
	bbytes = 0;
}

/* Valid UTF-8 of p (invalid bytes and NUL become U+FFFD), malloc'd. */
static char *
clean(const unsigned char *p, size_t n, size_t *outlen)
{
	struct lb_buf b = { 0 };
	size_t i = 0, k, need;
	unsigned int cp;

	while (i < n) {
		if (p[i] != 0 && p[i] < 0x80) {
			lb_buf_add(&b, p + i, 1);
			i++;
			continue;
		}
		need = (p[i] & 0xe0) == 0xc0 ? 1 : (p[i] & 0xf0) == 0xe0 ? 2 :
		    (p[i] & 0xf8) == 0xf0 ? 3 : 0;
		cp = need == 1 ? p[i] & 0x1fu : need == 2 ? p[i] & 0x0fu :
		    p[i] & 0x07u;
		for (k = 1; need > 0 && k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | (p[i + k] & 0x3fu);
		}
		if (need == 0 || k <= need || (need == 1 && cp < 0x80) ||
		    (need == 2 && cp < 0x800) || (need == 3 &&
		    (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			lb_buf_add(&b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		lb_buf_add(&b, p + i, need + 1);
		i += need + 1;
	}
	*outlen = b.len;
	if (b.p == NULL)
		return lb_xstrdup("");
	return b.p;
}

/* Timestamp from the start of the line, or the time it was read. */
static long long
stamp(const char *line)
{
	struct tm tm;
	const char *end;
	long long ms = 0;
	int digits = 0;
	time_t t;

	if (timefmt == NULL)
		return now_ms();
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(line, timefmt, &tm)) == NULL)
		return now_ms();
	/* fractional seconds right after the seconds: .123 */
	if (*end == '.' || *end == ',')
		for (end++; *end >= '0' && *end <= '9'; end++)
			if (digits++ < 3)
				ms = ms * 10 + (*end - '0');
	while (digits > 0 && digits < 3)
		ms *= 10, digits++;
	if ((t = timegm(&tm)) == (time_t)-1)
		return now_ms();
	return (long long)t * 1000 + ms;
}

static void
add(char *msg, size_t len, long long ts)
{
	if (stop == -1) {
		/* a fatal error: count what is no longer sent */
		notsent++;
		free(msg);
		return;
	}
	if (nbatch > 0 && (nbatch == LB_CWLOGS_MAXEVENTS ||
	    bbytes + len + LB_CWLOGS_OVERHEAD > LB_CWLOGS_MAXBYTES ||
	    ts - bmin > LB_CWLOGS_SPAN_MS || bmax - ts > LB_CWLOGS_SPAN_MS))
		flush();
	if (nbatch == capbatch) {
		capbatch = capbatch ? capbatch * 2 : 64;
		batch = lb_xrealloc(batch, sizeof(*batch) * (size_t)capbatch);
	}
	if (nbatch == 0) {
		bmin = bmax = ts;
		bfirst = lb_util_now_ms();
	}
	if (ts < bmin)
		bmin = ts;
	if (ts > bmax)
		bmax = ts;
	batch[nbatch].ts = ts;
	batch[nbatch].msg = msg;
	batch[nbatch].len = len;
	batch[nbatch].seq = seq++;
	nbatch++;
	bbytes += len + LB_CWLOGS_OVERHEAD;
}

/* One line (or a piece of a long one) becomes one or more events. */
static void
line(const char *p, size_t n)
{
	char *s, *piece;
	size_t len, off = 0, take;
	long long ts;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;		/* the service takes no empty events */
	s = clean((const unsigned char *)p, n, &len);
	ts = stamp(s);
	/* longer than an event may be: split at character boundaries */
	while (off < len) {
		take = len - off;
		if (take > CHUNK) {
			take = CHUNK;
			while (take > 0 &&
			    ((unsigned char)s[off + take] & 0xc0) == 0x80)
				take--;
		}
		piece = lb_xmalloc(take + 1);
		memcpy(piece, s + off, take);
		piece[take] = '\0';
		add(piece, take, ts);
		off += take;
	}
	free(s);
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		{ "time-format", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_http_opts ho = { 0 };
	struct lb_http *http;
	struct lb_err e;
	struct lb_buf pend = { 0 };
	struct sigaction sa;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char buf[65536], *nl;
	long secs;
	long long left;
	ssize_t r;
	size_t used;
	int ch, timeout, eof = 0;

	while ((ch = getopt_long(argc, argv, "cg:i:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			create = 1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'i':
			if (lb_util_strtol(optarg, 1, 3600, &secs) == -1)
				errx(2, "-i %s: not 1 to 3600 seconds", optarg);
			flush_ms = secs * 1000;
			break;
		case 's':
			stream = optarg;
			break;
		case 'T':
			timefmt = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || group == NULL || stream == NULL ||
	    *group == '\0' || *stream == '\0')
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	http = lb_http_new(&ho);
	if ((aws = lb_aws_new(http, &e)) == NULL)
		errx(2, "%s", e.msg);
	if (create && lb_cwlogs_create(aws, group, stream, &e) == -1)
		errx(e.kind == LB_ETEMP ? 75 : 1, "%s/%s: %s", group, stream,
		    e.msg);

	while (!eof && !stop) {
		timeout = -1;
		if (nbatch > 0) {
			left = bfirst + flush_ms - lb_util_now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		if (timeout != 0 && poll(&pfd, 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (timeout == 0 || !(pfd.revents & (POLLIN | POLLHUP |
		    POLLERR))) {
			flush();	/* the time limit */
			continue;
		}
		if ((r = read(0, buf, sizeof(buf))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			warn("stdin");
			lb_err_fold(&status, LB_EFAIL);
			break;
		}
		if (r == 0) {
			eof = 1;
			break;
		}
		lb_buf_add(&pend, buf, (size_t)r);
		used = 0;
		while ((nl = memchr(pend.p + used, '\n', pend.len - used))) {
			line(pend.p + used, (size_t)(nl - (pend.p + used)));
			used = (size_t)(nl - pend.p) + 1;
		}
		/* a line without an end yet: cap what is held */
		while (pend.len - used >= CHUNK) {
			size_t take = CHUNK;

			while (take > 1 && ((unsigned char)pend.p[used + take]
			    & 0xc0) == 0x80)
				take--;
			line(pend.p + used, take);
			used += take;
		}
		memmove(pend.p, pend.p + used, pend.len - used);
		pend.len -= used;
		pend.p[pend.len] = '\0';
		if (nbatch > 0 && lb_util_now_ms() - bfirst >= flush_ms)
			flush();
	}
	if (pend.len > 0)
		line(pend.p, pend.len);
	flush();
	if (stop == -1 && (notsent > 0 || !eof))
		warnx("%s/%s: gave up; %lld more log events not sent%s", group,
		    stream, notsent, eof ? "" : ", nor the rest of the input");
	lb_buf_free(&pend);
	free(batch);
	lb_aws_free(aws);
	lb_http_free(http);
	return status;
}
