/*
 * jsonl.c: read a stream of JSON objects (one per line, concatenated or
 * spread over lines) and write compact records.
 *
 * The reader finds each object's end by counting braces outside strings,
 * so it never needs the whole stream in memory and can name the line a
 * record started on.  A pretty-printed object that turns out to be
 * broken costs only its first line: the rest is read again, so one bad
 * line cannot swallow the good records after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

struct lb_jsonl {
	FILE		*fp;
	char		*name;
	size_t		 cap;
	long		 line;		/* current line, from 1 */
	long		 start;		/* line the last record began on */
	struct lb_buf	 raw;		/* text of the last record */
	struct lb_buf	 pend;		/* text read again before fp */
	size_t		 pendpos;
	int		 ioerr;
};

struct lb_jsonl *
lb_jsonl_open(FILE *fp, const char *name, size_t cap)
{
	struct lb_jsonl *r;

	r = lb_xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = lb_xstrdup(name ? name : "stdin");
	r->cap = cap ? cap : LB_JSONL_CAP;
	r->line = 1;
	return r;
}

void
lb_jsonl_close(struct lb_jsonl *r)
{
	if (r == NULL)
		return;
	lb_buf_free(&r->raw);
	lb_buf_free(&r->pend);
	free(r->name);
	free(r);
}

long
lb_jsonl_line(const struct lb_jsonl *r)
{
	return r->start;
}

const char *
lb_jsonl_raw(const struct lb_jsonl *r, size_t *len)
{
	if (len != NULL)
		*len = r->raw.len;
	return r->raw.p ? r->raw.p : "";
}

const char *
lb_jsonl_name(const struct lb_jsonl *r)
{
	return r->name;
}

static int
get(struct lb_jsonl *r)
{
	int c;

	if (r->pendpos < r->pend.len) {
		c = (unsigned char)r->pend.p[r->pendpos++];
		if (r->pendpos == r->pend.len)
			r->pendpos = r->pend.len = 0;
	} else if ((c = getc(r->fp)) == EOF) {
		if (ferror(r->fp))
			r->ioerr = errno ? errno : EIO;
		return EOF;
	}
	if (c == '\n')
		r->line++;
	return c;
}

static void
unget(struct lb_jsonl *r, int c)
{
	if (c == EOF)
		return;
	if (c == '\n')
		r->line--;
	if (r->pendpos > 0)
		r->pend.p[--r->pendpos] = (char)c;
	else if (r->pend.len == 0)
		lb_buf_add(&r->pend, &(char){ (char)c }, 1);
	else {
		/* rare: put in front of what is pending */
		struct lb_buf b = { 0 };

		lb_buf_add(&b, &(char){ (char)c }, 1);
		lb_buf_add(&b, r->pend.p, r->pend.len);
		lb_buf_free(&r->pend);
		r->pend = b;
	}
}

/* Keep at most cap bytes of a record; note when more came. */
static void
keep(struct lb_jsonl *r, int c, int *big)
{
	if (r->raw.len < r->cap)
		lb_buf_add(&r->raw, &(char){ (char)c }, 1);
	else
		*big = 1;
}

/* The rest of the line goes with a bad record. */
static void
skip_line(struct lb_jsonl *r, int *big)
{
	int c;

	while ((c = get(r)) != EOF && c != '\n')
		keep(r, c, big);
}

static int
bad(struct lb_jsonl *r, struct lb_err *err, const char *fmt, const char *a)
{
	char why[256];

	snprintf(why, sizeof(why), fmt, a);
	lb_err_set(err, LB_EFAIL, 0, "%s:%ld: %s", r->name, r->start, why);
	return -1;
}

/* Put the record's text after its first line back in front of the input. */
static void
reread_after_first_line(struct lb_jsonl *r)
{
	char *nl = memchr(r->raw.p, '\n', r->raw.len);
	struct lb_buf b = { 0 };
	size_t i, n;

	if (nl == NULL)
		return;
	n = r->raw.len - (size_t)(nl + 1 - r->raw.p);
	lb_buf_add(&b, nl + 1, n);
	if (r->pendpos < r->pend.len)
		lb_buf_add(&b, r->pend.p + r->pendpos, r->pend.len - r->pendpos);
	lb_buf_free(&r->pend);
	r->pend = b;
	r->pendpos = 0;
	for (i = 0; i < n; i++)
		if (nl[1 + i] == '\n')
			r->line--;
	r->raw.len = (size_t)(nl - r->raw.p);
	r->raw.p[r->raw.len] = '\0';
}

int
lb_jsonl_next(struct lb_jsonl *r, cJSON **out, struct lb_err *err)
{
	int c, depth, instr, esc, big = 0, multiline = 0;
	const char *end;
	cJSON *j;

	*out = NULL;
	r->raw.len = 0;
	if (r->raw.p)
		r->raw.p[0] = '\0';
	do
		c = get(r);
	while (c == ' ' || c == '\t' || c == '\r' || c == '\n');
	r->start = r->line;
	if (c == EOF) {
		if (r->ioerr) {
			lb_err_set(err, LB_EFAIL, 0, "%s: read error: %s",
			    r->name, strerror(r->ioerr));
			return -2;
		}
		return 0;
	}
	keep(r, c, &big);
	if (c != '{') {
		skip_line(r, &big);
		return bad(r, err, "%s", "not a JSON object");
	}
	depth = 1;
	instr = esc = 0;
	while (depth > 0 && (c = get(r)) != EOF) {
		keep(r, c, &big);
		if (c == '\n')
			multiline = 1;
		if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
	}
	if (depth > 0) {
		if (r->ioerr) {
			lb_err_set(err, LB_EFAIL, 0, "%s: read error: %s",
			    r->name, strerror(r->ioerr));
			return -2;
		}
		if (multiline && !big) {
			reread_after_first_line(r);
			return bad(r, err, "%s", "malformed JSON");
		}
		return bad(r, err, "%s",
		    "truncated record (input ended inside an object)");
	}
	/* only blanks, a newline or the next object may follow */
	while ((c = get(r)) == ' ' || c == '\t' || c == '\r')
		;
	if (c != '\n' && c != EOF && c != '{') {
		keep(r, c, &big);
		skip_line(r, &big);
		if (!big)
			return bad(r, err, "%s",
			    "trailing garbage after the object");
	} else
		unget(r, c);
	if (big) {
		char cap[32];

		snprintf(cap, sizeof(cap), "%zu", r->cap);
		return bad(r, err, "record larger than %s bytes", cap);
	}
	j = cJSON_ParseWithLengthOpts(r->raw.p, r->raw.len, &end, 0);
	if (j == NULL || end != r->raw.p + r->raw.len) {
		cJSON_Delete(j);
		if (multiline)
			reread_after_first_line(r);
		return bad(r, err, "%s", "malformed JSON");
	}
	*out = j;
	return 1;
}

int
lb_jsonl_write(FILE *fp, const cJSON *j)
{
	char *s = lb_json_print(j);
	int rc = 0;

	if (fputs(s, fp) == EOF || putc('\n', fp) == EOF || fflush(fp) == EOF)
		rc = -1;
	free(s);
	return rc;
}

int
lb_jsonl_reject(const char *path, const char *raw, size_t len)
{
	FILE *fp;
	int rc = 0;

	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "a")) == NULL)
		return -1;
	if (fwrite(raw, 1, len, fp) != len || putc('\n', fp) == EOF)
		rc = -1;
	if (fclose(fp) == EOF)
		rc = -1;
	return rc;
}
