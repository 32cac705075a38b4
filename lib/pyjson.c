/*
 * pyjson.c: JSON read and written the way Python's json module does it,
 * byte for byte: json.load (strict, NaN/Infinity accepted, duplicate keys
 * keep the first position and the last value) and json.dump with indent=4
 * and ensure_ascii (optionally sort_keys).
 *
 * Values live in cJSON trees.  cJSON has one number type, so the int/float
 * distinction Python keeps is carried here: an int has its decimal digits
 * in valuestring (cJSON_Delete and cJSON_Duplicate handle it), a float has
 * valuestring NULL.  Strings are stored as UTF-8 where U+0000 is the
 * two-byte form C0 80 and lone surrogates are three-byte sequences, so every
 * Python string survives a round trip.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

#define MAXDEPTH	512

struct parser {
	const unsigned char	*p, *end, *start;
	int			 depth;
	struct lb_err		*err;
};

static cJSON	*parse_value(struct parser *);

static int
perr(struct parser *ps, const char *what)
{
	return lb_err_set(ps->err, LB_EFAIL, 0, "%s at byte %ld", what,
	    (long)(ps->p - ps->start));
}

static void
skipws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Append code point c in the internal UTF-8 form. */
static void
put_cp(struct lb_buf *b, uint32_t c)
{
	unsigned char s[4];

	if (c == 0) {
		s[0] = 0xc0;
		s[1] = 0x80;
		lb_buf_add(b, s, 2);
	} else if (c < 0x80) {
		s[0] = (unsigned char)c;
		lb_buf_add(b, s, 1);
	} else if (c < 0x800) {
		s[0] = 0xc0 | (c >> 6);
		s[1] = 0x80 | (c & 0x3f);
		lb_buf_add(b, s, 2);
	} else if (c < 0x10000) {
		s[0] = 0xe0 | (c >> 12);
		s[1] = 0x80 | ((c >> 6) & 0x3f);
		s[2] = 0x80 | (c & 0x3f);
		lb_buf_add(b, s, 3);
	} else {
		s[0] = 0xf0 | (c >> 18);
		s[1] = 0x80 | ((c >> 12) & 0x3f);
		s[2] = 0x80 | ((c >> 6) & 0x3f);
		s[3] = 0x80 | (c & 0x3f);
		lb_buf_add(b, s, 4);
	}
}

/*
 * Decode one code point of the internal form at s (n bytes left).
 * strict: input text, where surrogates and the C0 80 form are invalid.
 * Returns the length used, 0 when invalid.
 */
static int
get_cp(const unsigned char *s, size_t n, uint32_t *cp, int strict)
{
	uint32_t c;
	int len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (!strict && n >= 2 && s[0] == 0xc0 && s[1] == 0x80) {
		*cp = 0;
		return 2;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if ((size_t)len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	if (strict && c >= 0xd800 && c <= 0xdfff)
		return 0;
	*cp = c;
	return len;
}

static int
hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parse a string after its opening quote; malloc'd internal UTF-8. */
static char *
parse_string(struct parser *ps)
{
	struct lb_buf b = { 0 };
	uint32_t c, lo;
	int n;

	lb_buf_add(&b, "", 0);
	for (;;) {
		if (ps->p >= ps->end) {
			perr(ps, "unterminated string");
			goto fail;
		}
		if (*ps->p == '"') {
			ps->p++;
			return b.p;
		}
		if (*ps->p < 0x20) {
			perr(ps, "control character in string");
			goto fail;
		}
		if (*ps->p != '\\') {
			if ((n = get_cp(ps->p, (size_t)(ps->end - ps->p), &c,
			    1)) == 0) {
				perr(ps, "invalid UTF-8");
				goto fail;
			}
			lb_buf_add(&b, ps->p, (size_t)n);
			ps->p += n;
			continue;
		}
		if (ps->end - ps->p < 2) {
			perr(ps, "unterminated string");
			goto fail;
		}
		ps->p++;
		switch (*ps->p++) {
		case '"':  lb_buf_add(&b, "\"", 1); break;
		case '\\': lb_buf_add(&b, "\\", 1); break;
		case '/':  lb_buf_add(&b, "/", 1); break;
		case 'b':  lb_buf_add(&b, "\b", 1); break;
		case 'f':  lb_buf_add(&b, "\f", 1); break;
		case 'n':  lb_buf_add(&b, "\n", 1); break;
		case 'r':  lb_buf_add(&b, "\r", 1); break;
		case 't':  lb_buf_add(&b, "\t", 1); break;
		case 'u':
			if (ps->end - ps->p < 4 || hex4(ps->p, &c) == -1) {
				perr(ps, "invalid \\u escape");
				goto fail;
			}
			ps->p += 4;
			/* a high surrogate followed by a low one pairs up */
			if (c >= 0xd800 && c <= 0xdbff &&
			    ps->end - ps->p >= 6 &&
			    ps->p[0] == '\\' && ps->p[1] == 'u' &&
			    hex4(ps->p + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				ps->p += 6;
			}
			put_cp(&b, c);
			break;
		default:
			ps->p--;
			perr(ps, "invalid escape");
			goto fail;
		}
	}
fail:
	lb_buf_free(&b);
	return NULL;
}

static int
match(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
		ps->p += n;
		return 1;
	}
	return 0;
}

cJSON *
lb_pyjson_int_text(const char *digits)
{
	cJSON *it;
	const char *s = digits;
	char *txt;

	/* Python's int() drops a minus sign on zero */
	if (*s == '-' && s[strspn(s + 1, "0") + 1] == '\0')
		s++;
	txt = lb_xstrdup(s);
	it = cJSON_CreateNumber(strtod(txt, NULL));
	if (it == NULL)
		abort();
	it->valuestring = txt;
	return it;
}

static cJSON *
parse_number(struct parser *ps)
{
	const unsigned char *s = ps->p;
	char *txt;
	cJSON *it;
	int isfloat = 0;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !isdigit(*ps->p)) {
		perr(ps, "expecting value");
		return NULL;
	}
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && isdigit(*ps->p))
			ps->p++;
	/* like Python: "1." or "1e" end the number before the dot/e */
	if (ps->end - ps->p >= 2 && *ps->p == '.' && isdigit(ps->p[1])) {
		isfloat = 1;
		ps->p++;
		while (ps->p < ps->end && isdigit(*ps->p))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		const unsigned char *q = ps->p + 1;

		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q < ps->end && isdigit(*q)) {
			isfloat = 1;
			while (q < ps->end && isdigit(*q))
				q++;
			ps->p = q;
		}
	}
	txt = lb_xmalloc((size_t)(ps->p - s) + 1);
	memcpy(txt, s, (size_t)(ps->p - s));
	txt[ps->p - s] = '\0';
	if (isfloat)
		it = lb_pyjson_float(strtod(txt, NULL));
	else
		it = lb_pyjson_int_text(txt);
	free(txt);
	return it;
}

static cJSON *
parse_container(struct parser *ps, int obj)
{
	cJSON *c, *v, *old;
	char *key;

	if (++ps->depth > MAXDEPTH) {
		perr(ps, "nested too deeply");
		return NULL;
	}
	c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
	if (c == NULL)
		abort();
	ps->p++;
	skipws(ps);
	if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return c;
	}
	for (;;) {
		key = NULL;
		skipws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				perr(ps, "expecting property name");
				goto fail;
			}
			ps->p++;
			if ((key = parse_string(ps)) == NULL)
				goto fail;
			skipws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				perr(ps, "expecting ':'");
				free(key);
				goto fail;
			}
			ps->p++;
			skipws(ps);
		}
		if ((v = parse_value(ps)) == NULL) {
			free(key);
			goto fail;
		}
		if (obj) {
			old = cJSON_GetObjectItemCaseSensitive(c, key);
			if (old != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(c, key,
				    v);
			else
				cJSON_AddItemToObject(c, key, v);
			free(key);
		} else
			cJSON_AddItemToArray(c, v);
		skipws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
			ps->p++;
			break;
		}
		perr(ps, obj ? "expecting ',' or '}'" : "expecting ',' or ']'");
		goto fail;
	}
	ps->depth--;
	return c;
fail:
	cJSON_Delete(c);
	return NULL;
}

static cJSON *
parse_value(struct parser *ps)
{
	cJSON *it;
	char *s;

	skipws(ps);
	if (ps->p >= ps->end) {
		perr(ps, "expecting value");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, 1);
	case '[':
		return parse_container(ps, 0);
	case '"':
		ps->p++;
		if ((s = parse_string(ps)) == NULL)
			return NULL;
		it = cJSON_CreateString("");
		if (it == NULL)
			abort();
		free(it->valuestring);
		it->valuestring = s;
		return it;
	}
	if (match(ps, "true"))
		return cJSON_CreateTrue();
	if (match(ps, "false"))
		return cJSON_CreateFalse();
	if (match(ps, "null"))
		return cJSON_CreateNull();
	if (match(ps, "NaN"))
		return lb_pyjson_float(NAN);
	if (match(ps, "Infinity"))
		return lb_pyjson_float(INFINITY);
	if (match(ps, "-Infinity"))
		return lb_pyjson_float(-INFINITY);
	return parse_number(ps);
}

cJSON *
lb_pyjson_parse(const char *text, size_t len, struct lb_err *err)
{
	struct parser ps;
	cJSON *v;

	ps.start = ps.p = (const unsigned char *)text;
	ps.end = ps.p + len;
	ps.depth = 0;
	ps.err = err;
	if ((v = parse_value(&ps)) == NULL)
		return NULL;
	skipws(&ps);
	if (ps.p != ps.end) {
		perr(&ps, "extra data");
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

int
lb_pyjson_isint(const cJSON *it)
{
	return cJSON_IsNumber(it) && it->valuestring != NULL;
}

cJSON *
lb_pyjson_int(long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return lb_pyjson_int_text(buf);
}

cJSON *
lb_pyjson_float(double d)
{
	cJSON *it;

	if ((it = cJSON_CreateNumber(0)) == NULL)
		abort();
	/* cJSON_CreateNumber clamps valueint; the double is what counts */
	it->valuedouble = d;
	return it;
}

void
lb_pyjson_repr(double d, char out[32])
{
	char buf[40], digits[24], *e;
	int prec, exp, nd, i, o;

	if (isnan(d)) {
		strcpy(out, "NaN");
		return;
	}
	if (isinf(d)) {
		strcpy(out, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (d == 0) {
		strcpy(out, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	/* the shortest precision that reads back as the same double */
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* split "-d.ddde+XX" into sign, digits and exponent */
	o = 0;
	i = 0;
	if (buf[0] == '-') {
		out[o++] = '-';
		i = 1;
	}
	nd = 0;
	for (; buf[i] != 'e'; i++)
		if (buf[i] != '.')
			digits[nd++] = buf[i];
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp = (int)strtol(buf + i + 1, &e, 10);
	if (exp < -4 || exp >= 16) {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		snprintf(out + o, 32 - (size_t)o, "e%c%02d",
		    exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -exp - 1; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)nd);
		o += nd;
	} else if (nd <= exp + 1) {
		memcpy(out + o, digits, (size_t)nd);
		o += nd;
		for (i = nd; i < exp + 1; i++)
			out[o++] = '0';
		out[o++] = '.';
		out[o++] = '0';
	} else {
		memcpy(out + o, digits, (size_t)exp + 1);
		o += exp + 1;
		out[o++] = '.';
		memcpy(out + o, digits + exp + 1, (size_t)(nd - exp - 1));
		o += nd - exp - 1;
	}
	out[o] = '\0';
}

double
lb_pyjson_round(double d, int ndigits)
{
	char buf[400];

	if (!isfinite(d))
		return d;
	/* glibc prints the exact binary value rounded half to even,
	 * which is what Python's round() computes */
	snprintf(buf, sizeof(buf), "%.*f", ndigits, d);
	return strtod(buf, NULL);
}

static void
dump_string(struct lb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t c, hi, lo;
	char esc[16];
	int len;

	lb_buf_add(b, "\"", 1);
	while (n > 0) {
		if ((len = get_cp(p, n, &c, 0)) == 0) {
			/* not from our parser: show the byte as Latin-1 */
			c = *p;
			len = 1;
		}
		p += len;
		n -= (size_t)len;
		switch (c) {
		case '"':  lb_buf_add(b, "\\\"", 2); continue;
		case '\\': lb_buf_add(b, "\\\\", 2); continue;
		case '\n': lb_buf_add(b, "\\n", 2); continue;
		case '\r': lb_buf_add(b, "\\r", 2); continue;
		case '\t': lb_buf_add(b, "\\t", 2); continue;
		case '\b': lb_buf_add(b, "\\b", 2); continue;
		case '\f': lb_buf_add(b, "\\f", 2); continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			lb_buf_add(b, esc, 1);
		} else if (c < 0x10000) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			lb_buf_add(b, esc, 6);
		} else {
			hi = 0xd800 + ((c - 0x10000) >> 10);
			lo = 0xdc00 + ((c - 0x10000) & 0x3ff);
			snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", hi, lo);
			lb_buf_add(b, esc, 12);
		}
	}
	lb_buf_add(b, "\"", 1);
}

static void
indent(struct lb_buf *b, int level)
{
	static const char sp[] = "                                ";
	int n = level * 4;

	while (n > 0) {
		lb_buf_add(b, sp, n > 32 ? 32 : (size_t)n);
		n -= 32;
	}
}

static int
keycmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

void
lb_pyjson_scalar(struct lb_buf *b, const cJSON *it)
{
	char buf[32];

	if (cJSON_IsNumber(it)) {
		if (it->valuestring != NULL)
			lb_buf_puts(b, it->valuestring);
		else {
			lb_pyjson_repr(it->valuedouble, buf);
			lb_buf_puts(b, buf);
		}
	} else if (cJSON_IsString(it))
		dump_string(b, it->valuestring);
	else if (cJSON_IsTrue(it))
		lb_buf_puts(b, "true");
	else if (cJSON_IsFalse(it))
		lb_buf_puts(b, "false");
	else
		lb_buf_puts(b, "null");
}

static void
dump(struct lb_buf *b, const cJSON *it, int sort, int level)
{
	const cJSON *c, **kids;
	int obj, n, i;

	if (!cJSON_IsArray(it) && !cJSON_IsObject(it)) {
		lb_pyjson_scalar(b, it);
		return;
	}
	obj = cJSON_IsObject(it);
	n = cJSON_GetArraySize(it);
	if (n == 0) {
		lb_buf_puts(b, obj ? "{}" : "[]");
		return;
	}
	kids = lb_xmalloc(sizeof(*kids) * (size_t)n);
	i = 0;
	for (c = it->child; c != NULL; c = c->next)
		kids[i++] = c;
	if (obj && sort)
		qsort(kids, (size_t)n, sizeof(*kids), keycmp);
	lb_buf_add(b, obj ? "{\n" : "[\n", 2);
	for (i = 0; i < n; i++) {
		indent(b, level + 1);
		if (obj) {
			dump_string(b, kids[i]->string);
			lb_buf_add(b, ": ", 2);
		}
		dump(b, kids[i], sort, level + 1);
		if (i + 1 < n)
			lb_buf_add(b, ",\n", 2);
	}
	lb_buf_add(b, "\n", 1);
	indent(b, level);
	lb_buf_add(b, obj ? "}" : "]", 1);
	free(kids);
}

void
lb_pyjson_dump(struct lb_buf *b, const cJSON *it, int sort_keys)
{
	dump(b, it, sort_keys, 0);
}

void
lb_pyjson_text(struct lb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	/* internal form to plain UTF-8: only C0 80 differs */
	for (; *p != '\0'; p++) {
		if (p[0] == 0xc0 && p[1] == 0x80) {
			lb_buf_add(b, "", 1);
			p++;
		} else
			lb_buf_add(b, p, 1);
	}
}

void
lb_pyjson_str(struct lb_buf *b, const cJSON *it)
{
	if (cJSON_IsString(it))
		lb_pyjson_text(b, it->valuestring);
	else if (cJSON_IsTrue(it))
		lb_buf_puts(b, "True");
	else if (cJSON_IsFalse(it))
		lb_buf_puts(b, "False");
	else if (cJSON_IsNull(it) || it == NULL)
		lb_buf_puts(b, "None");
	else if (cJSON_IsNumber(it) && it->valuestring == NULL &&
	    !isfinite(it->valuedouble))
		lb_buf_puts(b, isnan(it->valuedouble) ? "nan" :
		    it->valuedouble > 0 ? "inf" : "-inf");
	else if (cJSON_IsNumber(it))
		lb_pyjson_scalar(b, it);
	else {
		/* containers: close enough to Python's repr for a message */
		char *s = cJSON_PrintUnformatted(it);

		lb_buf_puts(b, s != NULL ? s : "?");
		free(s);
	}
}
