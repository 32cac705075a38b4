/* err.c: the error struct every library call fills, and exit statuses. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lb.h"

int
lb_err_set(struct lb_err *err, int kind, long http, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->kind = kind;
	err->http = http;
	err->code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
lb_err_prefix(struct lb_err *err, const char *fmt, ...)
{
	char pre[512];
	size_t n, old, cap = sizeof(err->msg);
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	n = strlen(pre);
	if (n + 2 >= cap)
		return;
	old = strlen(err->msg);
	if (old > cap - n - 3)
		old = cap - n - 3;	/* the end of the old text goes */
	memmove(err->msg + n + 2, err->msg, old);
	err->msg[n + 2 + old] = '\0';
	memcpy(err->msg, pre, n);
	err->msg[n] = ':';
	err->msg[n + 1] = ' ';
}

void
lb_err_clear(struct lb_err *err)
{
	if (err == NULL)
		return;
	err->kind = LB_OK;
	err->http = 0;
	err->code[0] = '\0';
	err->msg[0] = '\0';
}

void
lb_err_fold(int *status, int kind)
{
	switch (kind) {
	case LB_OK:
		break;
	case LB_EUSAGE:
		*status = LB_EUSAGE;
		break;
	case LB_ETEMP:
		if (*status == LB_OK)
			*status = LB_ETEMP;
		break;
	default:
		if (*status != LB_EUSAGE)
			*status = LB_EFAIL;
		break;
	}
}
