/* util.c: memory, buffers, files and time. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"

/* Out of memory is not something a tool here can recover from. */
void *
lb_xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	return p;
}

void *
lb_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		abort();
	return p;
}

char *
lb_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(lb_xmalloc(n), s, n);
}

char *
lb_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	s = lb_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static void
buf_grow(struct lb_buf *b, size_t more)
{
	size_t want = b->len + more + 1;

	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < want)
		b->cap *= 2;
	b->p = lb_xrealloc(b->p, b->cap);
}

void
lb_buf_add(struct lb_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
lb_buf_puts(struct lb_buf *b, const char *s)
{
	lb_buf_add(b, s, strlen(s));
}

void
lb_buf_printf(struct lb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
lb_buf_free(struct lb_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *
lb_util_readfile(const char *path, size_t *lenp, struct lb_err *err)
{
	struct lb_buf b = { 0 };
	char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		lb_err_set(err, errno == ENOENT ? LB_EFAIL : LB_EFAIL, 0,
		    "%s: %s", path, strerror(errno));
		return NULL;
	}
	lb_buf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			lb_err_set(err, LB_EFAIL, 0, "%s: %s", path,
			    strerror(errno));
			close(fd);
			lb_buf_free(&b);
			return NULL;
		}
		lb_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return b.p;
}

int
lb_util_writefile(const char *path, const void *p, size_t len,
    struct lb_err *err)
{
	char *tmp;
	const char *q = p;
	ssize_t n;
	int fd;

	tmp = lb_xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		lb_err_set(err, LB_EFAIL, 0, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (len > 0) {
		if ((n = write(fd, q, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		q += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	lb_err_set(err, LB_EFAIL, 0, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int
lb_util_mkdirs(const char *path, struct lb_err *err)
{
	char *p, *s;

	s = lb_xstrdup(path);
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(s, 0755) == -1 && errno != EEXIST) {
			lb_err_set(err, LB_EFAIL, 0, "mkdir %s: %s", s,
			    strerror(errno));
			free(s);
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return 0;
}

void
lb_util_isotime(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
lb_util_strtol(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
lb_util_sleep_ms(long ms, volatile int *stop)
{
	struct timespec ts;

	while (ms > 0 && (stop == NULL || !*stop)) {
		long step = ms > 100 ? 100 : ms;

		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

long long
lb_util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
lb_util_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}
