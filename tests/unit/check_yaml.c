/* check_yaml.c: YAML to cJSON, typing, anchors, documents, lines, errors. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"

static struct lb_yaml *y;
static struct lb_err err;

static void
teardown(void)
{
	lb_yaml_free(y);
	y = NULL;
}

static struct lb_yaml *
parse(const char *s)
{
	lb_yaml_free(y);
	y = lb_yaml_parse(s, strlen(s), "t.yaml", &err);
	ck_assert_msg(y != NULL, "parse failed: %s", err.msg);
	return y;
}

/* Document 0 of s as compact JSON. */
static const char *
json(const char *s)
{
	static char out[4096];
	char *p;

	parse(s);
	ck_assert_int_ge(lb_yaml_ndocs(y), 1);
	p = cJSON_PrintUnformatted(lb_yaml_doc(y, 0));
	snprintf(out, sizeof(out), "%s", p);
	free(p);
	return out;
}

/* The error message for s, which must fail. */
static const char *
error(const char *s)
{
	lb_yaml_free(y);
	memset(&err, 0, sizeof(err));
	y = lb_yaml_parse(s, strlen(s), "t.yaml", &err);
	ck_assert_msg(y == NULL, "parsed but should not: %s", s);
	ck_assert_int_eq(err.kind, LB_EUSAGE);
	return err.msg;
}

static cJSON *
get(const char *s, const char *key)
{
	cJSON *j;

	parse(s);
	j = cJSON_GetObjectItemCaseSensitive(lb_yaml_doc(y, 0), key);
	ck_assert_msg(j != NULL, "no member %s", key);
	return j;
}

START_TEST(nulls)
{
	ck_assert_str_eq(json("a: ~\nb: null\nc: Null\nd: NULL\ne:\n"
	    "f: nUll\ng: 'null'\nh: \"~\"\n"),
	    "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	    "\"f\":\"nUll\",\"g\":\"null\",\"h\":\"~\"}");
	ck_assert_str_eq(json("[~, null, {a: }, {? b}]"),
	    "[null,null,{\"a\":null},{\"b\":null}]");
}
END_TEST

START_TEST(bools)
{
	ck_assert_str_eq(json("[true, True, TRUE, false, False, FALSE]"),
	    "[true,true,true,false,false,false]");
	/* YAML 1.1 booleans are strings in 1.2 */
	ck_assert_str_eq(json("[yes, no, on, off, y, n, tRue, 'true']"),
	    "[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"tRue\",\"true\"]");
}
END_TEST

START_TEST(ints)
{
	ck_assert_str_eq(json("[0, -17, +42, 007, 0o17, 0x1F, 0xff, -0]"),
	    "[0,-17,42,7,15,31,255,0]");
	/* not core-schema ints: strings */
	ck_assert_str_eq(json("[0o8, 0x, 0xG, 1_000, -0x1, +0o7, 0b101, 1:20]"),
	    "[\"0o8\",\"0x\",\"0xG\",\"1_000\",\"-0x1\",\"+0o7\",\"0b101\","
	    "\"1:20\"]");
	ck_assert(cJSON_IsNumber(get("n: 1700000000123\n", "n")));
	ck_assert(get("n: 1700000000123\n", "n")->valuedouble ==
	    1700000000123.0);
}
END_TEST

START_TEST(int_range)
{
	ck_assert(get("n: 9007199254740992\n", "n")->valuedouble ==
	    9007199254740992.0);
	ck_assert(get("n: -9007199254740992\n", "n")->valuedouble ==
	    -9007199254740992.0);
	ck_assert(get("n: 0x20000000000000\n", "n")->valuedouble ==
	    9007199254740992.0);
	ck_assert_str_eq(error("a: 1\nn: 9007199254740993\n"),
	    "t.yaml:2: integer out of range (beyond +-2^53): "
	    "9007199254740993");
	ck_assert_str_eq(error("n: -9007199254740993\n"),
	    "t.yaml:1: integer out of range (beyond +-2^53): "
	    "-9007199254740993");
	ck_assert_ptr_nonnull(strstr(error("n: 0x20000000000001\n"),
	    "out of range"));
	ck_assert_ptr_nonnull(strstr(error(
	    "n: 123456789012345678901234567890\n"), "out of range"));
	/* quoted: a string, no range check */
	ck_assert_str_eq(json("n: '9007199254740993'"),
	    "{\"n\":\"9007199254740993\"}");
}
END_TEST

START_TEST(floats)
{
	ck_assert_str_eq(json("[1.5, -2.5e3, .5, +1., 1e3, 6.5E+2, -.25e-1]"),
	    "[1.5,-2500,0.5,1,1000,650,-0.025]");
	ck_assert_str_eq(json("[1e, ., 1.2.3, e3, 1.5x, '1.5', 1,5]"),
	    "[\"1e\",\".\",\"1.2.3\",\"e3\",\"1.5x\",\"1.5\",1,5]");
	ck_assert_ptr_nonnull(strstr(error("x: 1e999\n"),
	    "t.yaml:1: number out of range"));
	ck_assert(get("x: 1e-999\n", "x")->valuedouble == 0);
}
END_TEST

START_TEST(inf_nan)
{
	const char *s = "[.inf, .Inf, .INF, -.inf, +.Inf, -.INF, .nan, .NaN,"
	    " .NAN, .iNf, .infinity, .Nan, -.nan]";
	cJSON *a, *e;
	int i = 0;

	parse(s);
	a = lb_yaml_doc(y, 0);
	cJSON_ArrayForEach(e, a) {
		if (i < 3 || i == 4)
			ck_assert(isinf(e->valuedouble) &&
			    e->valuedouble > 0);
		else if (i < 6)
			ck_assert(isinf(e->valuedouble) &&
			    e->valuedouble < 0);
		else if (i < 9)
			ck_assert(isnan(e->valuedouble));
		else
			ck_assert(cJSON_IsString(e));
		i++;
	}
	ck_assert_int_eq(i, 13);
}
END_TEST

START_TEST(non_plain_scalars_are_strings)
{
	ck_assert_str_eq(json("a: 'true'\nb: \"12\"\nc: |\n  42\nd: >\n"
	    "  3.5\n  x\ne: \"\"\nf: ''\n"),
	    "{\"a\":\"true\",\"b\":\"12\",\"c\":\"42\\n\","
	    "\"d\":\"3.5 x\\n\",\"e\":\"\",\"f\":\"\"}");
	ck_assert_str_eq(json("s: \"caf\\u00e9 \\t\""),
	    "{\"s\":\"caf\xc3\xa9 \\t\"}");
}
END_TEST

START_TEST(explicit_tags)
{
	ck_assert_str_eq(json("[!!str 123, !!str true, !!str ~, !!int '42',"
	    " !!int 0x10, !!float 1, !!float '2.5', !!float .inf,"
	    " !!bool 'false', !!null '', !!null ~, ! 12, !!str '']"),
	    "[\"123\",\"true\",\"~\",42,16,1,2.5,null,false,null,null,"
	    "\"12\",\"\"]");
	ck_assert_str_eq(json("!!map {a: !!seq [1]}"), "{\"a\":[1]}");
	ck_assert_str_eq(json("%TAG !e! tag:yaml.org,2002:\n---\n!e!int '7'"),
	    "7");
	ck_assert_str_eq(error("- 1\n- !!int abc\n"),
	    "t.yaml:2: not a valid !!int: abc");
	ck_assert_str_eq(error("!!bool yes"),
	    "t.yaml:1: not a valid !!bool: yes");
	ck_assert_str_eq(error("!!float 1.x"),
	    "t.yaml:1: not a valid !!float: 1.x");
	ck_assert_str_eq(error("!!null 0"), "t.yaml:1: not a valid !!null: 0");
	ck_assert_str_eq(error("x: !foo bar"),
	    "t.yaml:1: unsupported tag !foo");
	ck_assert_str_eq(error("x: !!binary aGk="),
	    "t.yaml:1: unsupported tag !!binary");
	ck_assert_ptr_nonnull(strstr(error("!!seq {a: 1}"),
	    "unsupported tag tag:yaml.org,2002:seq on a mapping"));
	ck_assert_ptr_nonnull(strstr(error("x: !!int 9007199254740993"),
	    "out of range"));
}
END_TEST

START_TEST(anchors_and_aliases)
{
	cJSON *d, *a, *b;

	ck_assert_str_eq(json("base: &b {x: 1, y: [a, {z: true}]}\n"
	    "copy: *b\ns: &s hello\nt: *s\nl: [*s, *b]\n"),
	    "{\"base\":{\"x\":1,\"y\":[\"a\",{\"z\":true}]},"
	    "\"copy\":{\"x\":1,\"y\":[\"a\",{\"z\":true}]},"
	    "\"s\":\"hello\",\"t\":\"hello\","
	    "\"l\":[\"hello\",{\"x\":1,\"y\":[\"a\",{\"z\":true}]}]}");
	/* deep copies, not shared nodes */
	d = lb_yaml_doc(y, 0);
	a = cJSON_GetObjectItemCaseSensitive(d, "base");
	b = cJSON_GetObjectItemCaseSensitive(d, "copy");
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(a->child, b->child);
	ck_assert(cJSON_Compare(a, b, 1));
	/* an anchor keeps its type; redefinition: the latest wins */
	ck_assert_str_eq(json("- &n 12\n- *n\n- &n x\n- *n\n"),
	    "[12,12,\"x\",\"x\"]");
	/* an anchored key, and an alias used as a key */
	ck_assert_str_eq(json("&k 12: a\nb: *k\nc: {*k : d}\n"),
	    "{\"12\":\"a\",\"b\":12,\"c\":{\"12\":\"d\"}}");
	ck_assert_str_eq(error("a: 1\nb: *nope\n"),
	    "t.yaml:2: unknown alias *nope");
	/* anchors do not cross documents */
	ck_assert_str_eq(error("a: &x 1\n---\nb: *x\n"),
	    "t.yaml:3: unknown alias *x");
	/* an alias to a node still open is unknown */
	ck_assert_str_eq(error("a: &r [1, *r]\n"),
	    "t.yaml:1: unknown alias *r");
	ck_assert_str_eq(error("a: &m {x: 1}\n*m : 2\n"),
	    "t.yaml:2: mapping key is not a scalar");
}
END_TEST

START_TEST(alias_as_key_duplicates)
{
	ck_assert_str_eq(error("&k a: 1\n*k : 2\n"),
	    "t.yaml:2: duplicate mapping key \"a\"");
}
END_TEST

START_TEST(merge_key_is_ordinary)
{
	ck_assert_str_eq(json("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n"),
	    "{\"base\":{\"x\":1},\"derived\":{\"<<\":{\"x\":1},\"y\":2}}");
}
END_TEST

START_TEST(documents)
{
	parse("a: 1\n---\nb: 2\n...\n---\n- x\n--- plain\n");
	ck_assert_int_eq(lb_yaml_ndocs(y), 4);
	ck_assert_int_eq(cJSON_GetObjectItem(lb_yaml_doc(y, 0), "a")->
	    valuedouble, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(lb_yaml_doc(y, 1), "b")->
	    valuedouble, 2);
	ck_assert(cJSON_IsArray(lb_yaml_doc(y, 2)));
	ck_assert_str_eq(lb_yaml_doc(y, 3)->valuestring, "plain");
	ck_assert_ptr_null(lb_yaml_doc(y, 4));
	ck_assert_ptr_null(lb_yaml_doc(y, -1));
	ck_assert_str_eq(lb_yaml_name(y), "t.yaml");
}
END_TEST

START_TEST(empty_documents)
{
	parse("");
	ck_assert_int_eq(lb_yaml_ndocs(y), 0);
	ck_assert_ptr_null(lb_yaml_doc(y, 0));
	parse("# only a comment\n\n");
	ck_assert_int_eq(lb_yaml_ndocs(y), 0);
	parse("---\n");
	ck_assert_int_eq(lb_yaml_ndocs(y), 1);
	ck_assert(cJSON_IsNull(lb_yaml_doc(y, 0)));
	parse("---\n...\n---\n# nothing\n");
	ck_assert_int_eq(lb_yaml_ndocs(y), 2);
	ck_assert(cJSON_IsNull(lb_yaml_doc(y, 1)));
	ck_assert_int_eq(lb_yaml_ndocs(NULL), 0);
	lb_yaml_free(y);
	y = lb_yaml_parse(NULL, 0, NULL, NULL);
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(lb_yaml_ndocs(y), 0);
	ck_assert_str_eq(lb_yaml_name(y), "-");
	ck_assert_ptr_null(lb_yaml_doc(NULL, 0));
}
END_TEST

START_TEST(lines)
{
	cJSON *d, *spec, *c, *l, *e;

	parse("# comment\n"
	    "kind: Job\n"
	    "spec:\n"
	    "  containers:\n"
	    "  - name: a\n"
	    "    args: [x,\n"
	    "      y]\n"
	    "  - name: b\n"
	    "list: &l\n"
	    "  - 1\n");
	d = lb_yaml_doc(y, 0);
	ck_assert_int_eq(lb_yaml_line(y, d), 2);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetObjectItem(d, "kind")), 2);
	spec = cJSON_GetObjectItem(d, "spec");
	ck_assert_int_eq(lb_yaml_line(y, spec), 4);
	c = cJSON_GetObjectItem(spec, "containers");
	ck_assert_int_eq(lb_yaml_line(y, c), 5);
	e = cJSON_GetArrayItem(c, 0);
	ck_assert_int_eq(lb_yaml_line(y, e), 5);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetObjectItem(e, "name")), 5);
	e = cJSON_GetObjectItem(e, "args");
	ck_assert_int_eq(lb_yaml_line(y, e), 6);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetArrayItem(e, 1)), 7);
	e = cJSON_GetArrayItem(c, 1);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetObjectItem(e, "name")), 8);
	l = cJSON_GetObjectItem(d, "list");
	/* a node starts at its properties: the anchor */
	ck_assert_int_eq(lb_yaml_line(y, l), 9);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetArrayItem(l, 0)), 10);
	ck_assert_int_eq(lb_yaml_line(y, NULL), 0);
	ck_assert_int_eq(lb_yaml_line(NULL, d), 0);
}
END_TEST

START_TEST(alias_lines)
{
	cJSON *d, *c;

	parse("list: &l\n"
	    "  - 1\n"
	    "  - [2]\n"
	    "copy:\n"
	    "    *l\n");
	d = lb_yaml_doc(y, 0);
	c = cJSON_GetObjectItem(d, "copy");
	/* the copy is at the alias; what it holds, where it was written */
	ck_assert_int_eq(lb_yaml_line(y, c), 5);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetArrayItem(c, 0)), 2);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetArrayItem(c, 1)), 3);
	ck_assert_int_eq(lb_yaml_line(y,
	    cJSON_GetArrayItem(cJSON_GetArrayItem(c, 1), 0)), 3);
}
END_TEST

START_TEST(many_nodes_lines)
{
	char *s, *p;
	cJSON *e;
	int i;

	/* enough nodes to grow the line table many times */
	s = malloc(20 * 5000 + 1);
	p = s;
	for (i = 0; i < 5000; i++)
		p += sprintf(p, "- k%d: %d\n", i, i);
	parse(s);
	free(s);
	i = 0;
	cJSON_ArrayForEach(e, lb_yaml_doc(y, 0)) {
		ck_assert_int_eq(lb_yaml_line(y, e), i + 1);
		ck_assert_int_eq(lb_yaml_line(y, e->child), i + 1);
		i++;
	}
	ck_assert_int_eq(i, 5000);
}
END_TEST

START_TEST(syntax_errors)
{
	const char *m;

	m = error("a: 1\nb: [1, 2\nc: 3\n");
	ck_assert_msg(strncmp(m, "t.yaml:", 7) == 0, "%s", m);
	ck_assert_ptr_nonnull(strstr(m, "flow sequence at line 2)"));
	m = error("a: [1, 2");
	ck_assert_ptr_nonnull(strstr(m, "flow sequence"));
	m = error("a: {x: 1\n");
	ck_assert_ptr_nonnull(strstr(m, "flow mapping"));
	/* bad indentation */
	m = error("a:\n  b: 1\n c: 2\n");
	ck_assert_msg(strncmp(m, "t.yaml:3: ", 10) == 0, "%s", m);
	/* a tab where indentation is expected */
	m = error("a:\n\tb: 1\n");
	ck_assert_msg(strncmp(m, "t.yaml:2: ", 10) == 0, "%s", m);
	ck_assert_ptr_nonnull(strstr(m, "cannot start any token"));
	m = error("a: 'open\n");
	ck_assert_ptr_nonnull(strstr(m, "quoted scalar"));
	m = error("- a\nb: c\n");
	ck_assert_msg(strncmp(m, "t.yaml:2: ", 10) == 0, "%s", m);
	m = error("a: b: c\n");
	ck_assert_msg(strncmp(m, "t.yaml:1: ", 10) == 0, "%s", m);
}
END_TEST

START_TEST(reader_errors)
{
	const char *m;

	/* invalid UTF-8 on line 3 */
	m = error("a: 1\nb: 2\nc: \xff\xfe\x80\n");
	ck_assert_msg(strncmp(m, "t.yaml:3: invalid", 17) == 0, "%s", m);
	m = error("a: \"x\\0y\"\n");
	ck_assert_str_eq(m, "t.yaml:1: NUL character in a scalar");
	m = error("a: 1\n\x01: 2\n");
	ck_assert_msg(strncmp(m, "t.yaml:2: ", 10) == 0, "%s", m);
}
END_TEST

START_TEST(duplicate_keys)
{
	ck_assert_str_eq(error("a: 1\nb: 2\na: 3\n"),
	    "t.yaml:3: duplicate mapping key \"a\"");
	ck_assert_str_eq(error("x:\n  - {k: 1, j: 2, k: 3}\n"),
	    "t.yaml:2: duplicate mapping key \"k\"");
	/* keys are compared as text */
	ck_assert_str_eq(error("1: a\n'1': b\n"),
	    "t.yaml:2: duplicate mapping key \"1\"");
	/* case matters */
	ck_assert_str_eq(json("a: 1\nA: 2\n"), "{\"a\":1,\"A\":2}");
	/* hostile keys are shortened and control bytes masked */
	ck_assert_str_eq(error("\"a\\nb\": 1\n\"a\\nb\": 2\n"),
	    "t.yaml:2: duplicate mapping key \"a?b\"");
}
END_TEST

START_TEST(keys)
{
	ck_assert_str_eq(json("1: a\ntrue: b\n~: c\n0x10: d\n"
	    "\"caf\xc3\xa9\": e\n? \n: f\n"),
	    "{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\",\"0x10\":\"d\","
	    "\"caf\xc3\xa9\":\"e\",\"\":\"f\"}");
	/* keys are text: no range errors, but tags are checked */
	ck_assert_str_eq(json("9007199254740993: a\n1e999: b\n"
	    "&k 123456789012345678901234567890: c\nd: *k\n"),
	    "{\"9007199254740993\":\"a\",\"1e999\":\"b\","
	    "\"123456789012345678901234567890\":\"c\","
	    "\"d\":\"123456789012345678901234567890\"}");
	ck_assert_str_eq(error("!!int x: 1\n"),
	    "t.yaml:1: not a valid !!int: x");
	ck_assert_str_eq(error("a: 1\n? [1, 2]\n: x\n"),
	    "t.yaml:2: mapping key is not a scalar");
	ck_assert_str_eq(error("{a: 1}: x\n"),
	    "t.yaml:1: mapping key is not a scalar");
	ck_assert_str_eq(error("? {a: 1}\n: x\n"),
	    "t.yaml:1: mapping key is not a scalar");
}
END_TEST

START_TEST(alias_bomb)
{
	const char *m;

	m = error("a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n");
	ck_assert_msg(strncmp(m, "t.yaml:6: too many nodes", 24) == 0,
	    "%s", m);
	/* a smaller expansion is fine */
	parse("a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
	    lb_yaml_doc(y, 0), "d")), 10);
}
END_TEST

START_TEST(text_bomb)
{
	size_t big = 1 << 20, i;
	char *s, *p;
	const char *m;

	/* 1 MiB aliased 300 times: more text than the cap */
	s = malloc(big + 4000);
	p = s + sprintf(s, "a: &a \"");
	memset(p, 'x', big);
	p += big;
	p += sprintf(p, "\"\nb: [");
	for (i = 0; i < 300; i++)
		p += sprintf(p, "*a,");
	strcpy(p - 1, "]\n");
	m = error(s);
	free(s);
	ck_assert_msg(strncmp(m, "t.yaml:2: too much text", 23) == 0,
	    "%s", m);
}
END_TEST

/* "a: &a [[..]]\nb: [[..*a..]]\n" with the given depths */
static const char *
aliased(int da, int db)
{
	static char s[8192];
	char *p = s;
	int i;

	p += sprintf(p, "a: &a ");
	for (i = 0; i < da; i++)
		*p++ = '[';
	for (i = 0; i < da; i++)
		*p++ = ']';
	p += sprintf(p, "\nb: ");
	for (i = 0; i < db; i++)
		*p++ = '[';
	p += sprintf(p, "*a");
	for (i = 0; i < db; i++)
		*p++ = ']';
	strcpy(p, "\n");
	return s;
}

START_TEST(alias_depth)
{
	const char *m;

	/* 300 levels copied under 300 more: too deep */
	m = error(aliased(300, 300));
	ck_assert_msg(strncmp(m, "t.yaml:2: nesting too deep", 26) == 0,
	    "%s", m);
	/* the root mapping is one level: 1 + 300 + 211 = 512 */
	parse(aliased(300, 211));
	m = error(aliased(300, 212));
	ck_assert_msg(strstr(m, "nesting too deep") != NULL, "%s", m);
	/* the same limit without aliases */
	parse(aliased(511, 0));
	m = error(aliased(512, 0));
	ck_assert_msg(strncmp(m, "t.yaml:1: nesting too deep", 26) == 0,
	    "%s", m);
}
END_TEST

START_TEST(big_mapping)
{
	char *s, *p;
	const char *m;
	int i;

	/* duplicate checks must not be quadratic */
	s = malloc(200000 * 20);
	p = s;
	for (i = 0; i < 200000; i++)
		p += sprintf(p, "k%d: %d\n", i, i);
	parse(s);
	ck_assert_int_eq(cJSON_GetArraySize(lb_yaml_doc(y, 0)), 200000);
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetObjectItem(lb_yaml_doc(y,
	    0), "k199999")), 200000);
	sprintf(p, "k123456: dup\n");
	m = error(s);
	free(s);
	ck_assert_str_eq(m, "t.yaml:200001: duplicate mapping key \"k123456\"");
	/* a duplicate right after the index is built */
	ck_assert_str_eq(error("{a0: 0, a1: 1, a2: 2, a3: 3, a4: 4, a5: 5,"
	    " a6: 6, a7: 7, a8: 8, a9: 9, b0: 0, b1: 1, b2: 2, b3: 3, b4: 4,"
	    " b5: 5, b6: 6, b7: 7, b8: 8, b9: 9, c0: 0, c1: 1, c2: 2, c3: 3,"
	    " c4: 4, c5: 5, c6: 6, c7: 7, c8: 8, c9: 9, d0: 0, d1: 1, a0: x}"),
	    "t.yaml:1: duplicate mapping key \"a0\"");
}
END_TEST

START_TEST(deep_nesting)
{
	char s[4096];
	const char *m;

	memset(s, '[', 2000);
	s[2000] = '\0';
	m = error(s);
	ck_assert_msg(strstr(m, "nesting too deep") != NULL, "%s", m);
	memset(s, '[', 500);
	memset(s + 500, ']', 500);
	s[1000] = '\0';
	parse(s);
	ck_assert(cJSON_IsArray(lb_yaml_doc(y, 0)));
}
END_TEST

START_TEST(long_and_unicode_strings)
{
	char s[2048], want[1024];
	cJSON *v;

	memset(want, 'x', 300);
	want[300] = '\0';
	snprintf(s, sizeof(s), "k: %s$(rm -rf /);`x` \xe2\x9c\x93\n", want);
	v = get(s, "k");
	ck_assert(cJSON_IsString(v));
	ck_assert_int_eq(strlen(v->valuestring), 300 + 19);
	ck_assert_ptr_nonnull(strstr(v->valuestring, "`x` \xe2\x9c\x93"));
}
END_TEST

static const char job_yaml[] =
"# A CARLA leaderboard evaluation job\n"
"apiVersion: batch/v1\n"
"kind: Job\n"
"metadata:\n"
"  name: eval-1234\n"
"  namespace: leaderboard\n"
"  labels: &labels\n"
"    app: carla-eval\n"
"    submission: \"1234\"\n"
"spec:\n"
"  backoffLimit: 0\n"
"  ttlSecondsAfterFinished: 3600\n"
"  activeDeadlineSeconds: 86400\n"
"  template:\n"
"    metadata:\n"
"      labels: *labels\n"
"    spec:\n"
"      restartPolicy: Never\n"
"      nodeSelector: {gpu: \"true\"}\n"
"      volumes:\n"
"        - name: shared\n"
"          emptyDir: {}\n"
"      containers:\n"
"        - name: simulator\n"
"          image: carlasim/carla:0.9.15\n"
"          command: [\"/bin/bash\", \"-c\"]\n"
"          args:\n"
"            - |\n"
"              ./CarlaUE4.sh -RenderOffScreen \\\n"
"                -carla-rpc-port=2000\n"
"          resources:\n"
"            limits:\n"
"              nvidia.com/gpu: 1\n"
"              memory: 16Gi\n"
"          securityContext:\n"
"            privileged: false\n"
"            runAsUser: 1000\n"
"        - name: agent\n"
"          image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/sub:latest\n"
"          env:\n"
"            - name: PORT\n"
"              value: \"2000\"\n"
"            - name: DEBUG\n"
"              value: 'false'\n"
"            - name: RATIO\n"
"              value: '0.5'\n"
"          volumeMounts:\n"
"            - {name: shared, mountPath: /shared}\n";

static const char job_json[] =
"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\","
"\"metadata\":{\"name\":\"eval-1234\",\"namespace\":\"leaderboard\","
"\"labels\":{\"app\":\"carla-eval\",\"submission\":\"1234\"}},"
"\"spec\":{\"backoffLimit\":0,\"ttlSecondsAfterFinished\":3600,"
"\"activeDeadlineSeconds\":86400,"
"\"template\":{\"metadata\":{\"labels\":{\"app\":\"carla-eval\","
"\"submission\":\"1234\"}},"
"\"spec\":{\"restartPolicy\":\"Never\",\"nodeSelector\":{\"gpu\":\"true\"},"
"\"volumes\":[{\"name\":\"shared\",\"emptyDir\":{}}],"
"\"containers\":[{\"name\":\"simulator\",\"image\":\"carlasim/carla:0.9.15\","
"\"command\":[\"/bin/bash\",\"-c\"],"
"\"args\":[\"./CarlaUE4.sh -RenderOffScreen \\\\\\n"
"  -carla-rpc-port=2000\\n\"],"
"\"resources\":{\"limits\":{\"nvidia.com/gpu\":1,\"memory\":\"16Gi\"}},"
"\"securityContext\":{\"privileged\":false,\"runAsUser\":1000}},"
"{\"name\":\"agent\","
"\"image\":\"123456789012.dkr.ecr.us-west-2.amazonaws.com/sub:latest\","
"\"env\":[{\"name\":\"PORT\",\"value\":\"2000\"},"
"{\"name\":\"DEBUG\",\"value\":\"false\"},"
"{\"name\":\"RATIO\",\"value\":\"0.5\"}],"
"\"volumeMounts\":[{\"name\":\"shared\",\"mountPath\":\"/shared\"}]}]}}}}";

START_TEST(kubernetes_job)
{
	cJSON *want;
	char *a, *b;

	want = cJSON_ParseWithLengthOpts(job_json, sizeof(job_json), NULL,
	    1);
	ck_assert_ptr_nonnull(want);
	parse(job_yaml);
	ck_assert_int_eq(lb_yaml_ndocs(y), 1);
	a = cJSON_PrintUnformatted(lb_yaml_doc(y, 0));
	b = cJSON_PrintUnformatted(want);
	/* same members in the same order */
	ck_assert_str_eq(a, b);
	ck_assert(cJSON_Compare(lb_yaml_doc(y, 0), want, 1));
	free(a);
	free(b);
	cJSON_Delete(want);
	/* the second container's image line */
	ck_assert_int_eq(lb_yaml_line(y, cJSON_GetObjectItem(cJSON_GetArrayItem(
	    lb_json_path(lb_yaml_doc(y, 0), "spec.template.spec.containers"),
	    1), "image")), 39);
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/check_yaml.XXXXXX";
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "a: 1\nb: [1, 2\n", 14), 14);
	close(fd);
	y = lb_yaml_load(path, &err);
	ck_assert_ptr_null(y);
	ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0 &&
	    strncmp(err.msg + strlen(path), ":", 1) == 0, "%s", err.msg);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "a: 1\n", 5), 5);
	close(fd);
	y = lb_yaml_load(path, &err);
	ck_assert_ptr_nonnull(y);
	ck_assert_str_eq(lb_yaml_name(y), path);
	unlink(path);
	lb_yaml_free(y);
	y = lb_yaml_load(path, &err);
	ck_assert_ptr_null(y);
	ck_assert_str_ne(err.msg, "");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("yaml");
	TCase *t = tcase_create("core");

	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, nulls);
	tcase_add_test(t, bools);
	tcase_add_test(t, ints);
	tcase_add_test(t, int_range);
	tcase_add_test(t, floats);
	tcase_add_test(t, inf_nan);
	tcase_add_test(t, non_plain_scalars_are_strings);
	tcase_add_test(t, explicit_tags);
	tcase_add_test(t, anchors_and_aliases);
	tcase_add_test(t, alias_as_key_duplicates);
	tcase_add_test(t, merge_key_is_ordinary);
	tcase_add_test(t, documents);
	tcase_add_test(t, empty_documents);
	tcase_add_test(t, lines);
	tcase_add_test(t, alias_lines);
	tcase_add_test(t, many_nodes_lines);
	tcase_add_test(t, syntax_errors);
	tcase_add_test(t, reader_errors);
	tcase_add_test(t, duplicate_keys);
	tcase_add_test(t, keys);
	tcase_add_test(t, alias_bomb);
	tcase_add_test(t, deep_nesting);
	tcase_add_test(t, text_bomb);
	tcase_add_test(t, alias_depth);
	tcase_add_test(t, big_mapping);
	tcase_add_test(t, long_and_unicode_strings);
	tcase_add_test(t, kubernetes_job);
	tcase_add_test(t, load_file);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
