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
#include <float.h>
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

/*
 * The shortcuts below rely on each double operation being rounded once,
 * to double; not so with x87 excess precision.
 */
#define EXACTFP	(FLT_EVAL_METHOD == 0)

/* Exact powers of ten as doubles (10^22 is the last exact one). */
static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static int
perr(struct parser *ps, const char *what)
{
	return lb_err_set(ps->err, LB_EFAIL, 0, "%s at byte %ld", what,
	    (long)(ps->p - ps->start));
}

static inline void
skipws(struct parser *ps)
{
	const unsigned char *p = ps->p, *end = ps->end;
	uint64_t w, x;

	while (p < end) {
		/* indented input: eight spaces at a time */
		if (end - p >= 8) {
			memcpy(&w, p, 8);
			if ((x = w ^ 0x2020202020202020ULL) == 0) {
				p += 8;
				continue;
			}
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the spaces before the first other byte */
			p += __builtin_ctzll(x) >> 3;
#endif
		}
		if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
			break;
		p++;
	}
	ps->p = p;
}

/* Bytes that stand for themselves in a JSON string, in and out. */
static const unsigned char plain[256] = {
	['\x20'] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \\ */, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2 /* DEL */
};

/*
 * The end of the run of bytes from p that are plain[] == 1 (no quote,
 * backslash, control, DEL or non-ASCII byte), eight bytes at a time
 * while none of them is special: the usual string is one such run.
 */
static inline const unsigned char *
plainspan(const unsigned char *p, const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	uint64_t x, q, bs, hit;

	while (end - p >= 8) {
		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		bs = x ^ (ones * '\\');
		/* a byte below 0x20, a zero byte in q or bs, >= 0x7f */
		hit = (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		    ((bs - ones) & ~bs) | x | (x + ones)) & highs;
		if (hit != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* borrows and carries only spoil the bytes above */
			return p + (__builtin_ctzll(hit) >> 3);
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && plain[*p] == 1)
		p++;
	return p;
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
	const unsigned char *q = ps->p;
	uint32_t c, lo;
	size_t len;
	char *s;
	int n;

	/* the common case: printable ASCII up to the quote, one copy */
	q = plainspan(q, ps->end);
	if (q < ps->end && *q == '"') {
		len = (size_t)(q - ps->p);
		s = lb_xmalloc(len + 1);
		memcpy(s, ps->p, len);
		s[len] = '\0';
		ps->p = q + 1;
		return s;
	}
	lb_buf_add(&b, ps->p, (size_t)(q - ps->p));
	ps->p = q;
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
		if (*ps->p != '\\' && *ps->p < 0x80) {
			for (q = ps->p + 1; q < ps->end && plain[*q]; q++)
				;
			lb_buf_add(&b, ps->p, (size_t)(q - ps->p));
			ps->p = q;
			continue;
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

/*
 * The member names of results files, shared by every parsed tree instead
 * of a copy per member (cJSON_StringIsConst: never freed).  In one
 * parse a name is either always shared or never, so two shared names
 * are equal only when they are the same pointer.
 */
static const char *
knownkey(const unsigned char *s, size_t n)
{
	const char *k;

	switch (n) {
	case 4:
		k = "meta";
		break;
	case 5:
		k = "index";
		break;
	case 6:
		switch (s[2]) {
		case 'l': k = "values"; break;
		case 'b': k = "labels"; break;
		case 'a': k = "status"; break;
		case 'o': k = "scores"; break;
		default: return NULL;
		}
		break;
	case 7:
		switch (s[0]) {
		case 'r': k = "records"; break;
		case 's': k = "sensors"; break;
		default: return NULL;
		}
		break;
	case 8:
		switch (s[0]) {
		case 'p': k = "progress"; break;
		case 'e': k = "eligible"; break;
		case 'r': k = "route_id"; break;
		default: return NULL;
		}
		break;
	case 9:
		switch (s[1]) {
		case 'e': k = "red_light"; break;
		case 'o': k = "route_dev"; break;
		default: return NULL;
		}
		break;
	case 10:
		k = "exceptions";
		break;
	case 11:
		switch (s[5]) {
		case 'k': k = "_checkpoint"; break;
		case 'c': k = "infractions"; break;
		case '_': k = "score_route"; break;
		case 's': k = "scores_mean"; break;
		default: return NULL;
		}
		break;
	case 12:
		switch (s[0]) {
		case 'e': k = "entry_status"; break;
		case 'r': k = "route_length"; break;
		case 't': k = "total_length"; break;
		default: return NULL;
		}
		break;
	case 13:
		switch (s[0]) {
		case 'g': k = "global_record"; break;
		case 's': k = "score_penalty"; break;
		case 'd': k = "duration_game"; break;
		case 'r': k = "route_timeout"; break;
		default: return NULL;
		}
		break;
	case 14:
		switch (s[5]) {
		case '_': k = "score_composed"; break;
		case 's': k = "scores_std_dev"; break;
		default: return NULL;
		}
		break;
	case 15:
		switch (s[0]) {
		case 'n': k = "num_infractions"; break;
		case 'd': k = "duration_system"; break;
		case 's': k = "stop_infraction"; break;
		case 'v': k = "vehicle_blocked"; break;
		default: return NULL;
		}
		break;
	case 17:
		switch (s[0]) {
		case 'c': k = "collisions_layout"; break;
		case 's': k = "scenario_timeouts"; break;
		default: return NULL;
		}
		break;
	case 18:
		k = "collisions_vehicle";
		break;
	case 19:
		k = "outside_route_lanes";
		break;
	case 21:
		switch (s[0]) {
		case 'c': k = "collisions_pedestrian"; break;
		case 'm': k = "min_speed_infractions"; break;
		default: return NULL;
		}
		break;
	case 35:
		k = "yield_emergency_vehicle_infractions";
		break;
	default:
		return NULL;
	}
	return memcmp(s, k, n) == 0 ? k : NULL;
}

/* A member name after its opening quote; *shared when from knownkey. */
static char *
parse_key(struct parser *ps, int *shared)
{
	const unsigned char *q = ps->p;
	const char *k;
	char *s;

	q = plainspan(q, ps->end);
	if (q < ps->end && *q == '"' &&
	    (k = knownkey(ps->p, (size_t)(q - ps->p))) != NULL) {
		ps->p = q + 1;
		*shared = 1;
		return (char *)k;
	}
	*shared = 0;
	if ((s = parse_string(ps)) != NULL &&
	    (k = knownkey((unsigned char *)s, strlen(s))) != NULL) {
		free(s);
		*shared = 1;
		return (char *)k;
	}
	return s;
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

/* An int node owning txt, its digits (Python drops a minus on zero). */
static cJSON *
int_node(char *txt)
{
	cJSON *it;
	const char *s = txt;
	unsigned long long v = 0;
	double d;
	size_t n;

	if (*s == '-')
		s++;
	n = strlen(s);
	if (s[strspn(s, "0")] == '\0' && s != txt) {
		memmove(txt, s, n + 1);
		s = txt;
	}
	if (n <= 15 && strspn(s, "0123456789") == n) {
		/* exact in a double: no strtod needed */
		for (; *s != '\0'; s++)
			v = v * 10 + (unsigned long long)(*s - '0');
		d = txt[0] == '-' ? -(double)v : (double)v;
	} else
		d = strtod(txt, NULL);
	if ((it = cJSON_CreateNumber(d)) == NULL)
		abort();
	it->valuestring = txt;
	return it;
}

cJSON *
lb_pyjson_int_text(const char *digits)
{
	return int_node(lb_xstrdup(digits));
}

/*
 * A JSON float's text (already checked) as strtod reads it: with at
 * most 2^53 as digits and a power of ten up to 22, one correctly
 * rounded multiplication or division gives the same double.
 */
static double
float_of(const unsigned char *s, size_t len)
{
	const unsigned char *e = s + len;
	char buf[64], *txt;
	unsigned long long m = 0;
	int neg = 0, frac = 0, exp = 0, eneg = 0, many = 0, dot = 0;
	double d;

	if (s < e && *s == '-') {
		neg = 1;
		s++;
	}
	for (; s < e && (isdigit(*s) || *s == '.'); s++) {
		if (*s == '.') {
			dot = 1;
			continue;
		}
		if (m >= (1ULL << 53) / 10)
			many = 1;
		m = m * 10 + (unsigned long long)(*s - '0');
		frac += dot;
	}
	if (s < e) {	/* e or E */
		s++;
		if (*s == '+' || *s == '-')
			eneg = *s++ == '-';
		for (; s < e && exp < 1000; s++)
			exp = exp * 10 + (*s - '0');
		if (s < e)
			many = 1;
	}
	exp = (eneg ? -exp : exp) - frac;
	if (EXACTFP && !many && exp >= -22 && exp <= 22) {
		d = exp < 0 ? (double)m / pow10tab[-exp] :
		    (double)m * pow10tab[exp];
		return neg ? -d : d;
	}
	s = e - len;
	txt = len < sizeof(buf) ? buf : lb_xmalloc(len + 1);
	memcpy(txt, s, len);
	txt[len] = '\0';
	d = strtod(txt, NULL);
	if (txt != buf)
		free(txt);
	return d;
}

static cJSON *
parse_number(struct parser *ps)
{
	const unsigned char *s = ps->p;
	char *txt;
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
	if (isfloat)
		return lb_pyjson_float(float_of(s, (size_t)(ps->p - s)));
	txt = lb_xmalloc((size_t)(ps->p - s) + 1);
	memcpy(txt, s, (size_t)(ps->p - s));
	txt[ps->p - s] = '\0';
	return int_node(txt);
}

static cJSON *
parse_container(struct parser *ps, int obj)
{
	cJSON *c, *v, *old;
	char *key;
	int shared = 0;

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
			if ((key = parse_key(ps, &shared)) == NULL)
				goto fail;
			skipws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				perr(ps, "expecting ':'");
				if (!shared)
					free(key);
				goto fail;
			}
			ps->p++;
			skipws(ps);
		}
		if ((v = parse_value(ps)) == NULL) {
			if (!shared)
				free(key);
			goto fail;
		}
		if (obj) {
			/* the key is handed over, not copied */
			for (old = c->child; old != NULL; old = old->next)
				if (old->string == key || (!shared &&
				    old->string[0] == key[0] &&
				    strcmp(old->string, key) == 0))
					break;
			v->string = key;
			if (shared)
				v->type |= cJSON_StringIsConst;
			if (old != NULL)
				cJSON_ReplaceItemViaPointer(c, old, v);
			else
				cJSON_AddItemToArray(c, v);
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
		if ((it = cJSON_CreateNull()) == NULL)
			abort();
		it->type = cJSON_String;
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
	char buf[24], *txt;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v :
	    (unsigned long long)v;
	int i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	txt = lb_xmalloc(sizeof(buf) - (size_t)i + 1);
	memcpy(txt, buf + i, sizeof(buf) - (size_t)i);
	txt[sizeof(buf) - i] = '\0';
	return int_node(txt);
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

/* Decimal digits of v (> 0) into s, returns their count. */
static int
utoa(char *s, unsigned long long v)
{
	char t[24];
	int n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		s[i] = t[n - 1 - i];
	return n;
}

/*
 * The common case of repr, without printf: a = |d| in [1e-4, 1e15) with
 * at most 15 significant digits.  Two decimals of 15 digits or fewer
 * never read as the same double, so a 15-digit-or-shorter n * 10^-p
 * that reads back as d is the shortest repr, and the one with the
 * fewest decimals has no trailing zero.  n / 10^p with n < 2^53 and
 * p <= 22 is one correctly rounded division: exactly what strtod gives.
 * Returns the length written, 0 when the slow path must decide.
 */
static int
repr_fast(double a, char *out)
{
	unsigned long long n, ip, fp;
	double y;
	int p, o, k;

	if (!EXACTFP || !(a >= 1e-4 && a < 1e15))
		return 0;
	for (p = 0; p <= 22; p++) {
		y = a * pow10tab[p];
		if (y >= 1e15)
			return 0;
		n = (unsigned long long)(y + 0.5);
		if ((double)n / pow10tab[p] != a)
			continue;
		if (p == 0) {
			o = utoa(out, n);
			out[o++] = '.';
			out[o++] = '0';
			return o;
		}
		ip = n / (unsigned long long)pow10tab[p];
		fp = n % (unsigned long long)pow10tab[p];
		if (ip == 0 && fp == 0)
			return 0;
		o = utoa(out, ip);
		out[o++] = '.';
		/* the fraction's leading zeros */
		for (k = p - 1; k > 0 && fp < (unsigned long long)
		    pow10tab[k]; k--)
			out[o++] = '0';
		o += utoa(out + o, fp);
		return o;
	}
	return 0;
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
	o = 0;
	if (d < 0)
		out[o++] = '-';
	if ((i = repr_fast(fabs(d), out + o)) > 0) {
		out[o + i] = '\0';
		return;
	}
	/*
	 * The shortest precision that reads back as the same double.  Had
	 * 15 digits or fewer read back, the 15-digit rounding shows them
	 * (padded with zeros): only 15, 16 and 17 need a try.  Not so for
	 * subnormals, which hold fewer digits.
	 */
	for (prec = fabs(d) < DBL_MIN ? 0 : 14; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* split "-d.ddde+XX" into sign, digits and exponent */
	i = buf[0] == '-';
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
	double y, n, e;

	if (!isfinite(d))
		return d;
	/*
	 * Fast path: n, the integer nearest d * 10^ndigits, is certain
	 * when the exact remainder (one fma) is clearly below one half;
	 * n / 10^ndigits is then one correctly rounded division, as
	 * strtod would read the decimal.
	 */
	if (EXACTFP && ndigits >= 0 && ndigits <= 22) {
		y = d * pow10tab[ndigits];
		if (fabs(y) < 4503599627370496.0) {	/* 2^52 */
			n = nearbyint(y);
			e = fma(d, pow10tab[ndigits], -n);
			if (fabs(e) < 0.4999)
				return copysign(n / pow10tab[ndigits], d);
		}
	}
	/* glibc prints the exact binary value rounded half to even,
	 * which is what Python's round() computes */
	snprintf(buf, sizeof(buf), "%.*f", ndigits, d);
	return strtod(buf, NULL);
}

/*
 * Appending without lb_buf_add's per-call bookkeeping: room first, then
 * plain stores.  The NUL that lb_buf promises is put back by the
 * exported functions once they are done.
 */
static void
room(struct lb_buf *b, size_t more)
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

static void
put(struct lb_buf *b, const void *p, size_t n)
{
	room(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
putc1(struct lb_buf *b, char c)
{
	room(b, 1);
	b->p[b->len++] = c;
}

static void
end(struct lb_buf *b)
{
	room(b, 0);
	b->p[b->len] = '\0';
}

static const char hexdig[] = "0123456789abcdef";

static void
put_u(struct lb_buf *b, uint32_t c)
{
	char esc[6];

	esc[0] = '\\';
	esc[1] = 'u';
	esc[2] = hexdig[(c >> 12) & 0xf];
	esc[3] = hexdig[(c >> 8) & 0xf];
	esc[4] = hexdig[(c >> 4) & 0xf];
	esc[5] = hexdig[c & 0xf];
	put(b, esc, 6);
}

static void
dump_string(struct lb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *q;
	size_t n = strlen(s);
	uint32_t c;
	int len;

	/* the common case: nothing to escape, one copy */
	q = plainspan(p, p + n);
	if (q == p + n) {
		room(b, n + 2);
		b->p[b->len] = '"';
		memcpy(b->p + b->len + 1, s, n);
		b->p[b->len + n + 1] = '"';
		b->len += n + 2;
		return;
	}
	putc1(b, '"');
	while (n > 0) {
		/* a run that goes out as it is */
		q = plainspan(p, p + n);
		if (q > p) {
			put(b, p, (size_t)(q - p));
			n -= (size_t)(q - p);
			p = q;
			continue;
		}
		if ((len = get_cp(p, n, &c, 0)) == 0) {
			/* not from our parser: show the byte as Latin-1 */
			c = *p;
			len = 1;
		}
		p += len;
		n -= (size_t)len;
		switch (c) {
		case '"':  put(b, "\\\"", 2); continue;
		case '\\': put(b, "\\\\", 2); continue;
		case '\n': put(b, "\\n", 2); continue;
		case '\r': put(b, "\\r", 2); continue;
		case '\t': put(b, "\\t", 2); continue;
		case '\b': put(b, "\\b", 2); continue;
		case '\f': put(b, "\\f", 2); continue;
		}
		if (c >= 0x20 && c < 0x7f)
			putc1(b, (char)c);
		else if (c < 0x10000)
			put_u(b, c);
		else {
			put_u(b, 0xd800 + ((c - 0x10000) >> 10));
			put_u(b, 0xdc00 + ((c - 0x10000) & 0x3ff));
		}
	}
	putc1(b, '"');
}

static void
indent(struct lb_buf *b, int level)
{
	size_t n = (size_t)level * 4;

	room(b, n);
	memset(b->p + b->len, ' ', n);
	b->len += n;
}

static int
keycmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static void
scalar(struct lb_buf *b, const cJSON *it)
{
	char buf[32];

	if ((it->type & 0xff) == cJSON_Number) {
		if (it->valuestring != NULL)
			put(b, it->valuestring, strlen(it->valuestring));
		else {
			lb_pyjson_repr(it->valuedouble, buf);
			put(b, buf, strlen(buf));
		}
	} else if (cJSON_IsString(it))
		dump_string(b, it->valuestring);
	else if (cJSON_IsTrue(it))
		put(b, "true", 4);
	else if (cJSON_IsFalse(it))
		put(b, "false", 5);
	else
		put(b, "null", 4);
}

void
lb_pyjson_scalar(struct lb_buf *b, const cJSON *it)
{
	scalar(b, it);
	end(b);
}

static void
dump(struct lb_buf *b, const cJSON *it, int sort, int level)
{
	const cJSON *c, **kids = NULL;
	int type = it->type & 0xff, obj, n = 0, i;
	size_t ind;

	if (type != cJSON_Array && type != cJSON_Object) {
		scalar(b, it);
		return;
	}
	obj = type == cJSON_Object;
	if (it->child == NULL) {
		put(b, obj ? "{}" : "[]", 2);
		return;
	}
	c = it->child;
	if (obj && sort) {
		n = cJSON_GetArraySize(it);
		kids = lb_xmalloc(sizeof(*kids) * (size_t)n);
		for (i = 0; c != NULL; c = c->next)
			kids[i++] = c;
		qsort(kids, (size_t)n, sizeof(*kids), keycmp);
		c = kids[0];
	}
	putc1(b, obj ? '{' : '[');
	ind = (size_t)(level + 1) * 4;
	for (i = 1; c != NULL; i++) {
		/* the separator and the indentation in one go */
		room(b, ind + 2);
		if (i > 1)
			b->p[b->len++] = ',';
		b->p[b->len++] = '\n';
		memset(b->p + b->len, ' ', ind);
		b->len += ind;
		if (obj) {
			dump_string(b, c->string);
			put(b, ": ", 2);
		}
		dump(b, c, sort, level + 1);
		c = kids != NULL ? (i < n ? kids[i] : NULL) : c->next;
	}
	putc1(b, '\n');
	indent(b, level);
	putc1(b, obj ? '}' : ']');
	if (kids != NULL)
		free(kids);
}

void
lb_pyjson_dump(struct lb_buf *b, const cJSON *it, int sort_keys)
{
	dump(b, it, sort_keys, 0);
	end(b);
}

void
lb_pyjson_text(struct lb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	const unsigned char *q;

	/* internal form to plain UTF-8: only C0 80 differs */
	for (;;) {
		for (q = p; *q != '\0' && *q != 0xc0; q++)
			;
		put(b, p, (size_t)(q - p));
		if (*q == '\0')
			break;
		if (q[1] == 0x80) {
			putc1(b, '\0');
			p = q + 2;
		} else {
			putc1(b, (char)*q);
			p = q + 1;
		}
	}
	end(b);
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
