/*
 * cwlogs.c: CloudWatch Logs: create a group and stream, put events.
 * Sequence tokens are no longer needed by the service and are not sent.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cwlogs.h"

#define CTYPE	"application/x-amz-json-1.1"

static cJSON *
call(struct lb_aws *aws, const char *op, const cJSON *body,
    struct lb_err *err)
{
	char target[64];

	snprintf(target, sizeof(target), "Logs_20140328.%s", op);
	return lb_aws_json(aws, "logs", target, CTYPE, body, err);
}

static int
create(struct lb_aws *aws, const char *op, const char *group,
    const char *stream, struct lb_err *err)
{
	cJSON *body, *ans;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "logGroupName", group);
	if (stream != NULL)
		cJSON_AddStringToObject(body, "logStreamName", stream);
	ans = call(aws, op, body, err);
	cJSON_Delete(body);
	if (ans != NULL) {
		cJSON_Delete(ans);
		return 0;
	}
	if (strcmp(err->code, "ResourceAlreadyExistsException") == 0) {
		lb_err_clear(err);
		return 0;
	}
	lb_err_prefix(err, "%s", op);
	return -1;
}

int
lb_cwlogs_create(struct lb_aws *aws, const char *group, const char *stream,
    struct lb_err *err)
{
	if (create(aws, "CreateLogGroup", group, NULL, err) == -1)
		return -1;
	return create(aws, "CreateLogStream", group, stream, err);
}

static int
idx(const cJSON *info, const char *name)
{
	return (int)lb_json_long(cJSON_GetObjectItemCaseSensitive(info, name),
	    NULL, 0, INT_MAX, -1);
}

int
lb_cwlogs_put(struct lb_aws *aws, const char *group, const char *stream,
    const struct lb_cwlogs_event *ev, int n, int *rejected,
    struct lb_err *err)
{
	cJSON *body, *arr, *e, *ans, *info;
	int i, old, exp, new;

	*rejected = 0;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "logGroupName", group);
	cJSON_AddStringToObject(body, "logStreamName", stream);
	arr = cJSON_AddArrayToObject(body, "logEvents");
	for (i = 0; i < n; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "timestamp", (double)ev[i].ts);
		cJSON_AddStringToObject(e, "message", ev[i].msg);
		cJSON_AddItemToArray(arr, e);
	}
	ans = call(aws, "PutLogEvents", body, err);
	cJSON_Delete(body);
	if (ans == NULL)
		return -1;
	info = cJSON_GetObjectItemCaseSensitive(ans, "rejectedLogEventsInfo");
	if (info != NULL) {
		old = idx(info, "tooOldLogEventEndIndex");
		exp = idx(info, "expiredLogEventEndIndex");
		new = idx(info, "tooNewLogEventStartIndex");
		if (exp > old)
			old = exp;
		if (old >= 0)
			*rejected += old + 1 < n ? old + 1 : n;
		if (new >= 0 && new < n)
			*rejected += n - new;
	}
	cJSON_Delete(ans);
	return 0;
}
