/*
 * names.c: valid, unique, stable Kubernetes names from hostile input.
 * Team names come from EvalAI participants: anything goes, including
 * empty strings, 300 characters, unicode and shell metacharacters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define HASHLEN	8

/* Lower-case s, every run outside [a-z0-9] as one '-', ends trimmed. */
static void
sanitise(struct lb_buf *b, const char *s)
{
	int dash = 0;
	unsigned char c;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && b->len > 0)
				lb_buf_add(b, "-", 1);
			dash = 0;
			lb_buf_add(b, &c, 1);
		} else
			dash = 1;
	}
	lb_buf_add(b, "", 0);
}

/* FNV-1a, 64 bits, over the parts with a separator no part can fake. */
static uint64_t
fnv(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;		/* never a byte of UTF-8 text */
	h *= 0x100000001b3ULL;
	return h;
}

char *
lb_names_job(const char *team, const char *track, const char *submission,
    const char *role, int worker)
{
	struct lb_buf t = { 0 }, k = { 0 }, s = { 0 }, r = { 0 };
	char hash[HASHLEN + 1], *out, *tail, *head;
	uint64_t h;
	size_t room, n;

	sanitise(&t, team);
	sanitise(&k, track);
	sanitise(&s, submission);
	sanitise(&r, role);
	if (t.len == 0)
		lb_buf_puts(&t, "team");
	if (r.len == 0)
		lb_buf_puts(&r, "job");
	if (worker > 0)
		lb_buf_printf(&r, "%d", worker);
	h = fnv(fnv(fnv(fnv(0xcbf29ce484222325ULL, team), track),
	    submission), role);
	snprintf(hash, sizeof(hash), "%08llx",
	    (unsigned long long)(h & 0xffffffffULL));

	/* The tail (submission and role) is what makes a name unique. */
	if (s.len == 0 || s.len > 20)
		tail = lb_xasprintf("-%s-%.20s", hash, r.p);
	else
		tail = lb_xasprintf("-%s-%.20s", s.p, r.p);
	if (k.len > 0)
		out = lb_xasprintf("%s-%s%s", t.p, k.p, tail);
	else
		out = lb_xasprintf("%s%s", t.p, tail);
	if (strlen(out) > LB_NAMES_MAX) {
		free(out);
		if (strncmp(tail + 1, hash, HASHLEN) == 0) {
			free(tail);	/* the hash goes in once */
			tail = lb_xasprintf("-%.20s", r.p);
		}
		if (k.len > 0)
			head = lb_xasprintf("%s-%s", t.p, k.p);
		else
			head = lb_xstrdup(t.p);
		room = LB_NAMES_MAX - strlen(tail) - 1 - HASHLEN;
		if (strlen(head) > room)
			head[room] = '\0';
		n = strlen(head);
		while (n > 0 && head[n - 1] == '-')
			head[--n] = '\0';
		out = lb_xasprintf("%s-%s%s", n > 0 ? head : "t", hash, tail);
		free(head);
	}
	free(tail);
	lb_buf_free(&t);
	lb_buf_free(&k);
	lb_buf_free(&s);
	lb_buf_free(&r);
	return out;
}

int
lb_names_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LB_NAMES_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '-' && i > 0 && i < n - 1)
			continue;
		return 0;
	}
	return 1;
}
