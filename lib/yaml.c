/*
 * yaml.c: YAML text to cJSON trees, with the source line of every node.
 *
 * Built on libyaml's event parser.  libyaml leaves scalars untyped, so
 * plain scalars are typed here with the YAML 1.2 core schema; quoted,
 * literal and folded scalars are strings.  Anchors are resolved by deep
 * copies, counted against a node cap so that alias bombs fail early.
 * Merge keys ("<<") belong to YAML 1.1 only and are ordinary keys here.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lb.h"

#define MAXNODES	LB_YAML_MAXNODES /* nodes per stream, copies included */
#define MAXBYTES	(256u << 20)	/* scalar and key bytes, copies too */
#define MAXDEPTH	LB_YAML_MAXDEPTH /* nesting of collections */
#define KEYINDEX	32	/* mappings this big index their keys */
#define MAXINT		9007199254740992ULL	/* 2^53: exact in a double */
#define TAGPFX		"tag:yaml.org,2002:"

/* Side table: node pointer -> line, open addressing. */
struct line {
	const cJSON	*node;
	int		 line;
};

struct lb_yaml {
	char		*name;
	cJSON		**docs;
	int		 ndocs;
	struct line	*lines;
	size_t		 nlines, caplines;
};

/* An anchor: the node it names and how many nodes a copy costs. */
struct anchor {
	char		*name;
	cJSON		*node;
	char		*text;		/* scalar text (for use as a key) */
	size_t		 size;		/* nodes */
	size_t		 bytes;
	int		 height;	/* levels of nesting inside */
	int		 owned;		/* node is not in the tree */
};

struct parse {
	struct lb_yaml	*y;
	yaml_parser_t	 parser;
	const char	*src;
	size_t		 srclen;
	struct lb_err	*err;
	struct anchor	*anchors;
	size_t		 nanchors, capanchors;
	size_t		 nodes, bytes;
	int		 depth;
	int		 reach;		/* deepest level seen so far */
};

static size_t
hashptr(const void *p, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static void
line_put(struct lb_yaml *y, const cJSON *node, int line)
{
	size_t i;

	if (2 * (y->nlines + 1) > y->caplines) {
		struct line *old = y->lines;
		size_t oldcap = y->caplines, j;

		y->caplines = oldcap ? 2 * oldcap : 256;
		y->lines = lb_xmalloc(y->caplines * sizeof(*y->lines));
		memset(y->lines, 0, y->caplines * sizeof(*y->lines));
		y->nlines = 0;
		for (j = 0; j < oldcap; j++)
			if (old[j].node != NULL)
				line_put(y, old[j].node, old[j].line);
		free(old);
	}
	for (i = hashptr(node, y->caplines); y->lines[i].node != NULL;
	    i = (i + 1) & (y->caplines - 1))
		if (y->lines[i].node == node) {
			y->lines[i].line = line;
			return;
		}
	y->lines[i].node = node;
	y->lines[i].line = line;
	y->nlines++;
}

int
lb_yaml_line(const struct lb_yaml *y, const cJSON *node)
{
	size_t i;

	if (y == NULL || node == NULL || y->caplines == 0)
		return 0;
	for (i = hashptr(node, y->caplines); y->lines[i].node != NULL;
	    i = (i + 1) & (y->caplines - 1))
		if (y->lines[i].node == node)
			return y->lines[i].line;
	return 0;
}

/* Error "name:LINE: problem" (line from 1). */
static int
fail(struct parse *p, size_t line0, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct parse *p, size_t line0, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lb_err_set(p->err, LB_EUSAGE, 0, "%s:%zu: %s", p->y->name,
	    line0 + 1, msg);
}

/* Text fit for a message: at most 60 bytes, control bytes as '?'. */
static const char *
shown(const char *s, char buf[64])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 60; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

static int
parser_error(struct parse *p)
{
	yaml_parser_t *ps = &p->parser;
	const char *problem = ps->problem ? ps->problem : "syntax error";
	size_t line = ps->problem_mark.line, i;

	if (ps->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark. */
		line = 0;
		for (i = 0; i < ps->problem_offset && i < p->srclen; i++)
			if (p->src[i] == '\n')
				line++;
		return fail(p, line, "%s (byte %zu)", problem,
		    ps->problem_offset);
	}
	if (ps->error == YAML_MEMORY_ERROR)
		return fail(p, line, "out of memory");
	if (ps->context != NULL)
		return fail(p, line, "%s (%s at line %zu)", problem,
		    ps->context, ps->context_mark.line + 1);
	return fail(p, line, "%s", problem);
}

static int
next(struct parse *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->parser, ev))
		return parser_error(p);
	return 0;
}

/* Charge n nodes and len bytes against the caps. */
static int
count(struct parse *p, size_t n, size_t len, size_t line)
{
	if (n > MAXNODES - p->nodes)
		return fail(p, line, "too many nodes (more than %d; "
		    "aliases expanding too far?)", MAXNODES);
	if (len > MAXBYTES - p->bytes)
		return fail(p, line, "too much text (more than %u bytes; "
		    "aliases expanding too far?)", MAXBYTES);
	p->nodes += n;
	p->bytes += len;
	return 0;
}

static cJSON *
made(struct parse *p, cJSON *node, size_t line0)
{
	line_put(p->y, node, (int)line0 + 1);
	return node;
}

static struct anchor *
anchor_find(struct parse *p, const char *name)
{
	size_t i;

	/* The latest definition wins. */
	for (i = p->nanchors; i > 0; i--)
		if (strcmp(p->anchors[i - 1].name, name) == 0)
			return &p->anchors[i - 1];
	return NULL;
}

static void
anchor_add(struct parse *p, const char *name, cJSON *node,
    const char *text, size_t size, size_t bytes, int height, int owned)
{
	struct anchor *a;

	if (p->nanchors == p->capanchors) {
		p->capanchors = p->capanchors ? 2 * p->capanchors : 16;
		p->anchors = lb_xrealloc(p->anchors,
		    p->capanchors * sizeof(*p->anchors));
	}
	a = &p->anchors[p->nanchors++];
	a->name = lb_xstrdup(name);
	a->node = node;
	a->text = text ? lb_xstrdup(text) : NULL;
	a->size = size;
	a->bytes = bytes;
	a->height = height;
	a->owned = owned;
}

static void
anchors_free(struct parse *p)
{
	size_t i;

	for (i = 0; i < p->nanchors; i++) {
		free(p->anchors[i].name);
		free(p->anchors[i].text);
		if (p->anchors[i].owned)
			cJSON_Delete(p->anchors[i].node);
	}
	p->nanchors = 0;
}

/* Deep copy keeping the lines of the original nodes. */
static cJSON *
copy(struct parse *p, const cJSON *n, int line)
{
	cJSON *c, *k;
	const cJSON *e;
	int l = lb_yaml_line(p->y, n);

	if (l == 0)
		l = line;
	if (cJSON_IsArray(n) || cJSON_IsObject(n)) {
		c = cJSON_IsArray(n) ? cJSON_CreateArray() :
		    cJSON_CreateObject();
		cJSON_ArrayForEach(e, n) {
			k = copy(p, e, l);
			if (cJSON_IsArray(n))
				cJSON_AddItemToArray(c, k);
			else
				cJSON_AddItemToObject(c, e->string, k);
		}
	} else
		c = cJSON_Duplicate(n, 0);
	if (c == NULL)
		abort();	/* cJSON allocation failure */
	line_put(p->y, c, l);
	return c;
}

static int
isint(const char *s, int *base, const char **digits)
{
	const char *d = s;

	if (s[0] == '0' && s[1] == 'o') {
		*base = 8;
		d = s + 2;
		if (*d == '\0')
			return 0;
		for (; *d != '\0'; d++)
			if (*d < '0' || *d > '7')
				return 0;
		*digits = s + 2;
		return 1;
	}
	if (s[0] == '0' && s[1] == 'x') {
		*base = 16;
		d = s + 2;
		if (*d == '\0')
			return 0;
		for (; *d != '\0'; d++)
			if (!isxdigit((unsigned char)*d))
				return 0;
		*digits = s + 2;
		return 1;
	}
	*base = 10;
	if (*d == '-' || *d == '+')
		d++;
	if (*d == '\0')
		return 0;
	*digits = d;
	for (; *d != '\0'; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
isfloat(const char *s)
{
	const char *d = s;
	size_t n;

	if (*d == '-' || *d == '+')
		d++;
	if (*d == '.') {
		d++;
		for (n = 0; isdigit((unsigned char)*d); d++)
			n++;
		if (n == 0)
			return 0;
	} else {
		for (n = 0; isdigit((unsigned char)*d); d++)
			n++;
		if (n == 0)
			return 0;
		if (*d == '.')
			for (d++; isdigit((unsigned char)*d); d++)
				;
	}
	if (*d == 'e' || *d == 'E') {
		d++;
		if (*d == '-' || *d == '+')
			d++;
		for (n = 0; isdigit((unsigned char)*d); d++)
			n++;
		if (n == 0)
			return 0;
	}
	return *d == '\0';
}

/* .inf, .nan and friends: 1 when s is one, *v set. */
static int
isspecial(const char *s, double *v)
{
	const char *d = s;
	double sign = 1;

	if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 ||
	    strcmp(s, ".NAN") == 0) {
		*v = NAN;
		return 1;
	}
	if (*d == '-' || *d == '+')
		sign = *d++ == '-' ? -1 : 1;
	if (strcmp(d, ".inf") == 0 || strcmp(d, ".Inf") == 0 ||
	    strcmp(d, ".INF") == 0) {
		*v = sign * INFINITY;
		return 1;
	}
	return 0;
}

static int
isnull(const char *s)
{
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* 1 true, 0 false, -1 not a bool */
static int
isbool(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return 0;
	return -1;
}

/* An integer within +-2^53; -1 (err filled) when it is beyond. */
static int
intval(struct parse *p, const char *s, int base, const char *digits,
    size_t line, double *out)
{
	unsigned long long v = 0;
	const char *d;
	int x;
	char buf[64];

	for (d = digits; *d != '\0'; d++) {
		x = isdigit((unsigned char)*d) ? *d - '0' :
		    tolower((unsigned char)*d) - 'a' + 10;
		if (v > (MAXINT - (unsigned)x) / (unsigned)base)
			return fail(p, line, "integer out of range "
			    "(beyond +-2^53): %s", shown(s, buf));
		v = v * (unsigned)base + (unsigned)x;
	}
	*out = s[0] == '-' && v != 0 ? -(double)v : (double)v;
	return 0;
}

static int
floatval(struct parse *p, const char *s, size_t line, double *out)
{
	char buf[64];
	char *end;

	/* strtod follows LC_NUMERIC: a non-C locale would stop early */
	*out = strtod(s, &end);
	if (*end != '\0')
		return fail(p, line, "cannot convert number in this "
		    "locale: %s", shown(s, buf));
	if (isinf(*out))
		return fail(p, line, "number out of range: %s",
		    shown(s, buf));
	return 0;
}

/*
 * Type a scalar by the core schema or its explicit tag.  A plain key
 * out of a number's range is kept as text: keys are used as text.
 */
static cJSON *
scalar(struct parse *p, const yaml_event_t *ev, int iskey)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *digits;
	size_t line = ev->start_mark.line;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	int base, b;
	double v;
	char buf[64];

	if (strlen(s) != ev->data.scalar.length) {
		fail(p, line, "NUL character in a scalar");
		return NULL;
	}
	if (tag != NULL && strcmp(tag, "!") == 0) {
		tag = NULL;		/* non-specific: a string */
		plain = 0;
	}
	if (tag != NULL) {
		if (strncmp(tag, TAGPFX, strlen(TAGPFX)) != 0) {
			fail(p, line, "unsupported tag %s", shown(tag, buf));
			return NULL;
		}
		tag += strlen(TAGPFX);
		if (strcmp(tag, "str") == 0)
			return cJSON_CreateString(s);
		if (strcmp(tag, "null") == 0) {
			if (!isnull(s))
				goto bad;
			return cJSON_CreateNull();
		}
		if (strcmp(tag, "bool") == 0) {
			if ((b = isbool(s)) < 0)
				goto bad;
			return cJSON_CreateBool(b);
		}
		if (strcmp(tag, "int") == 0) {
			if (!isint(s, &base, &digits))
				goto bad;
			if (intval(p, s, base, digits, line, &v) == -1)
				return NULL;
			return cJSON_CreateNumber(v);
		}
		if (strcmp(tag, "float") == 0) {
			if (isspecial(s, &v))
				return cJSON_CreateNumber(v);
			if (isint(s, &base, &digits)) {
				if (intval(p, s, base, digits, line, &v) == -1)
					return NULL;
				return cJSON_CreateNumber(v);
			}
			if (!isfloat(s) || floatval(p, s, line, &v) == -1)
				goto bad;
			return cJSON_CreateNumber(v);
		}
		fail(p, line, "unsupported tag !!%s", shown(tag, buf));
		return NULL;
	}
	if (!plain)
		return cJSON_CreateString(s);
	if (isnull(s))
		return cJSON_CreateNull();
	if ((b = isbool(s)) >= 0)
		return cJSON_CreateBool(b);
	if (isint(s, &base, &digits)) {
		if (intval(p, s, base, digits, line, &v) == -1)
			goto range;
		return cJSON_CreateNumber(v);
	}
	if (isspecial(s, &v))
		return cJSON_CreateNumber(v);
	if (isfloat(s)) {
		if (floatval(p, s, line, &v) == -1)
			goto range;
		return cJSON_CreateNumber(v);
	}
	return cJSON_CreateString(s);
range:
	if (!iskey)
		return NULL;
	lb_err_clear(p->err);
	return cJSON_CreateString(s);
bad:
	if (p->err->msg[0] == '\0')
		fail(p, line, "not a valid !!%s: %s", tag, shown(s, buf));
	return NULL;
}

static int
collection_tag(struct parse *p, const char *tag, const char *want,
    size_t line)
{
	char buf[64];

	if (tag == NULL || strcmp(tag, "!") == 0)
		return 0;
	if (strncmp(tag, TAGPFX, strlen(TAGPFX)) == 0 &&
	    strcmp(tag + strlen(TAGPFX), want) == 0)
		return 0;
	return fail(p, line, "unsupported tag %s on a %s", shown(tag, buf),
	    strcmp(want, "seq") == 0 ? "sequence" : "mapping");
}

static cJSON *node(struct parse *, yaml_event_t *, char **);

/*
 * Keys of a big mapping, so that duplicate checks stay linear overall.
 * The strings belong to the mapping's items.
 */
struct keyset {
	const char	**k;
	size_t		  n, cap;
};

static size_t
hashstr(const char *s, size_t cap)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* Add s; 0 when it was there already. */
static int
keyset_add(struct keyset *ks, const char *s)
{
	const char **old = ks->k;
	size_t oldcap = ks->cap, i;

	if (2 * (ks->n + 1) > ks->cap) {
		ks->cap = oldcap ? 2 * oldcap : 4 * KEYINDEX;
		ks->k = lb_xmalloc(ks->cap * sizeof(*ks->k));
		memset(ks->k, 0, ks->cap * sizeof(*ks->k));
		ks->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i] != NULL)
				keyset_add(ks, old[i]);
		free(old);
	}
	for (i = hashstr(s, ks->cap); ks->k[i] != NULL;
	    i = (i + 1) & (ks->cap - 1))
		if (strcmp(ks->k[i], s) == 0)
			return 0;
	ks->k[i] = s;
	ks->n++;
	return 1;
}

static int
keyset_has(const struct keyset *ks, const char *s)
{
	size_t i;

	for (i = hashstr(s, ks->cap); ks->k[i] != NULL;
	    i = (i + 1) & (ks->cap - 1))
		if (strcmp(ks->k[i], s) == 0)
			return 1;
	return 0;
}

/* Is key new in obj (which has nkeys members)?  Indexes big ones. */
static int
newkey(struct keyset *ks, const cJSON *obj, size_t nkeys, const char *key)
{
	const cJSON *e;

	if (nkeys < KEYINDEX)
		return cJSON_GetObjectItemCaseSensitive(obj, key) == NULL;
	if (ks->cap == 0)
		cJSON_ArrayForEach(e, obj)
			keyset_add(ks, e->string);
	return !keyset_has(ks, key);
}

/* The rest of a sequence, after its start event. */
static int
sequence(struct parse *p, cJSON *arr)
{
	yaml_event_t ev;
	cJSON *item;

	for (;;) {
		if (next(p, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		item = node(p, &ev, NULL);
		yaml_event_delete(&ev);
		if (item == NULL)
			return -1;
		cJSON_AddItemToArray(arr, item);
	}
}

static int	mapping1(struct parse *, cJSON *, struct keyset *);

/* The rest of a mapping, after its start event. */
static int
mapping(struct parse *p, cJSON *obj)
{
	struct keyset ks = { NULL, 0, 0 };
	int r = mapping1(p, obj, &ks);

	free(ks.k);
	return r;
}

static int
mapping1(struct parse *p, cJSON *obj, struct keyset *ks)
{
	yaml_event_t ev;
	cJSON *key, *val;
	char *text, buf[64];
	size_t line, nkeys;

	for (nkeys = 0;; nkeys++) {
		if (next(p, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		line = ev.start_mark.line;
		if (ev.type != YAML_SCALAR_EVENT &&
		    ev.type != YAML_ALIAS_EVENT) {
			yaml_event_delete(&ev);
			return fail(p, line, "mapping key is not a scalar");
		}
		text = NULL;
		key = node(p, &ev, &text);
		yaml_event_delete(&ev);
		if (key == NULL) {
			free(text);
			return -1;
		}
		/* The key node is dropped unless an anchor holds it. */
		if (p->nanchors == 0 || p->anchors[p->nanchors - 1].node != key)
			cJSON_Delete(key);
		if (!newkey(ks, obj, nkeys, text)) {
			fail(p, line, "duplicate mapping key \"%s\"",
			    shown(text, buf));
			free(text);
			return -1;
		}
		if (next(p, &ev) == -1) {
			free(text);
			return -1;
		}
		val = node(p, &ev, NULL);
		yaml_event_delete(&ev);
		if (val == NULL) {
			free(text);
			return -1;
		}
		cJSON_AddItemToObject(obj, text, val);
		if (ks->cap != 0)
			keyset_add(ks, val->string);	/* the item's copy */
		free(text);
	}
}

/*
 * The node that starts with ev.  When keytext is not NULL the node is a
 * mapping key: *keytext gets its scalar text (NULL for a collection),
 * and an anchored key stays alive in the anchor table.
 */
static cJSON *
node(struct parse *p, yaml_event_t *ev, char **keytext)
{
	struct anchor *a;
	cJSON *n;
	const char *anchor = NULL;
	size_t line = ev->start_mark.line, before = p->nodes;
	size_t bbefore = p->bytes;
	int r, reach = p->reach;
	char buf[64];

	p->reach = p->depth;	/* to learn the height of this node */
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		a = anchor_find(p, (const char *)ev->data.alias.anchor);
		if (a == NULL) {
			fail(p, line, "unknown alias *%s",
			    shown((const char *)ev->data.alias.anchor, buf));
			return NULL;
		}
		if (keytext != NULL) {
			if (a->text == NULL) {
				fail(p, line, "mapping key is not a scalar");
				return NULL;
			}
			*keytext = lb_xstrdup(a->text);
		}
		if (count(p, a->size, a->bytes, line) == -1)
			return NULL;
		if (p->depth + a->height > MAXDEPTH) {
			fail(p, line, "nesting too deep (more than %d levels)",
			    MAXDEPTH);
			return NULL;
		}
		if (p->depth + a->height > p->reach)
			p->reach = p->depth + a->height;
		n = copy(p, a->node, (int)line + 1);
		line_put(p->y, n, (int)line + 1);
		if (reach > p->reach)
			p->reach = reach;
		return n;
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		if (count(p, 1, ev->data.scalar.length + 1, line) == -1 ||
		    (n = scalar(p, ev, keytext != NULL)) == NULL)
			return NULL;
		if (keytext != NULL)
			*keytext = lb_xstrdup((const char *)
			    ev->data.scalar.value);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = (const char *)ev->data.sequence_start.anchor;
			r = collection_tag(p, (const char *)
			    ev->data.sequence_start.tag, "seq", line);
		} else {
			anchor = (const char *)ev->data.mapping_start.anchor;
			r = collection_tag(p, (const char *)
			    ev->data.mapping_start.tag, "map", line);
		}
		if (r == -1 || count(p, 1, 0, line) == -1)
			return NULL;
		if (p->depth >= MAXDEPTH) {
			fail(p, line, "nesting too deep (more than %d levels)",
			    MAXDEPTH);
			return NULL;
		}
		p->depth++;
		if (p->depth > p->reach)
			p->reach = p->depth;
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			n = cJSON_CreateArray();
			r = sequence(p, n);
		} else {
			n = cJSON_CreateObject();
			r = mapping(p, n);
		}
		p->depth--;
		if (r == -1) {
			cJSON_Delete(n);
			return NULL;
		}
		break;
	default:
		fail(p, line, "unexpected event %d", (int)ev->type);
		return NULL;
	}
	if (n == NULL)
		abort();	/* cJSON allocation failure */
	/* Keys are not nodes of the tree: no line unless an alias may copy */
	if (keytext == NULL || anchor != NULL)
		made(p, n, line);
	if (anchor != NULL)
		anchor_add(p, anchor, n, keytext ? *keytext :
		    ev->type == YAML_SCALAR_EVENT ?
		    (const char *)ev->data.scalar.value : NULL,
		    p->nodes - before, p->bytes - bbefore,
		    p->reach > p->depth ? p->reach - p->depth : 0,
		    keytext != NULL);
	if (reach > p->reach)
		p->reach = reach;
	return n;
}

static int
document(struct parse *p)
{
	yaml_event_t ev;
	cJSON *doc;
	size_t line;

	if (next(p, &ev) == -1)
		return -1;
	doc = node(p, &ev, NULL);
	yaml_event_delete(&ev);
	if (doc == NULL)
		return -1;
	p->y->docs = lb_xrealloc(p->y->docs,
	    (size_t)(p->y->ndocs + 1) * sizeof(*p->y->docs));
	p->y->docs[p->y->ndocs++] = doc;
	anchors_free(p);
	if (next(p, &ev) == -1)
		return -1;
	if (ev.type != YAML_DOCUMENT_END_EVENT) {
		line = ev.start_mark.line;
		yaml_event_delete(&ev);
		return fail(p, line, "expected document end");
	}
	yaml_event_delete(&ev);
	return 0;
}

struct lb_yaml *
lb_yaml_parse(const char *text, size_t len, const char *name,
    struct lb_err *err)
{
	struct parse p;
	struct lb_err dummy;
	yaml_event_t ev;
	int done = 0, r = 0;

	if (err == NULL)
		err = &dummy;
	if (text == NULL) {
		text = "";
		len = 0;
	}
	memset(&p, 0, sizeof(p));
	p.y = lb_xmalloc(sizeof(*p.y));
	memset(p.y, 0, sizeof(*p.y));
	p.y->name = lb_xstrdup(name ? name : "-");
	p.src = text;
	p.srclen = len;
	p.err = err;
	lb_err_clear(err);
	if (!yaml_parser_initialize(&p.parser))
		abort();
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text,
	    len);
	while (!done && r == 0) {
		if ((r = next(&p, &ev)) == -1)
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			r = document(&p);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	anchors_free(&p);
	free(p.anchors);
	yaml_parser_delete(&p.parser);
	if (r == -1) {
		lb_yaml_free(p.y);
		return NULL;
	}
	return p.y;
}

struct lb_yaml *
lb_yaml_load(const char *path, struct lb_err *err)
{
	struct lb_yaml *y;
	char *text;
	size_t len;

	if ((text = lb_util_readfile(path, &len, err)) == NULL)
		return NULL;
	y = lb_yaml_parse(text, len, path, err);
	free(text);
	return y;
}

int
lb_yaml_ndocs(const struct lb_yaml *y)
{
	return y ? y->ndocs : 0;
}

cJSON *
lb_yaml_doc(const struct lb_yaml *y, int i)
{
	if (y == NULL || i < 0 || i >= y->ndocs)
		return NULL;
	return y->docs[i];
}

const char *
lb_yaml_name(const struct lb_yaml *y)
{
	return y ? y->name : NULL;
}

void
lb_yaml_free(struct lb_yaml *y)
{
	int i;

	if (y == NULL)
		return;
	for (i = 0; i < y->ndocs; i++)
		cJSON_Delete(y->docs[i]);
	free(y->docs);
	free(y->lines);
	free(y->name);
	free(y);
}
