/*
 * sqs.c: Amazon SQS (JSON protocol) and the submission message body.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "sqs.h"

#define CTYPE	"application/x-amz-json-1.0"

static cJSON *
call(struct lb_aws *aws, const char *op, const cJSON *body,
    struct lb_err *err)
{
	char target[64];

	snprintf(target, sizeof(target), "AmazonSQS.%s", op);
	return lb_aws_json(aws, "sqs", target, CTYPE, body, err);
}

static char *
dupstr(const cJSON *o, const char *name)
{
	const char *s;

	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
	return s ? lb_xstrdup(s) : NULL;
}

int
lb_sqs_receive(struct lb_aws *aws, const char *url, int max, int wait,
    int visibility, struct lb_sqs_msg **msgs, struct lb_err *err)
{
	cJSON *body, *ans, *arr, *m, *attrs;
	struct lb_sqs_msg *v = NULL;
	const char *s;
	int n = 0, rc = -1;

	*msgs = NULL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "QueueUrl", url);
	cJSON_AddNumberToObject(body, "MaxNumberOfMessages", max);
	cJSON_AddNumberToObject(body, "WaitTimeSeconds", wait);
	if (visibility >= 0)
		cJSON_AddNumberToObject(body, "VisibilityTimeout", visibility);
	arr = cJSON_AddArrayToObject(body, "AttributeNames");
	cJSON_AddItemToArray(arr, cJSON_CreateString("ApproximateReceiveCount"));
	cJSON_AddItemToArray(arr, cJSON_CreateString("SentTimestamp"));
	if ((ans = call(aws, "ReceiveMessage", body, err)) == NULL)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(ans, "Messages");
	if (arr != NULL && !cJSON_IsArray(arr)) {
		lb_err_set(err, LB_ETEMP, 0,
		    "ReceiveMessage: Messages is not an array");
		goto out;
	}
	v = lb_xmalloc(sizeof(*v) * (size_t)(cJSON_GetArraySize(arr) + 1));
	cJSON_ArrayForEach(m, arr) {
		struct lb_sqs_msg *x = &v[n];

		memset(x, 0, sizeof(*x));
		x->id = dupstr(m, "MessageId");
		x->receipt = dupstr(m, "ReceiptHandle");
		x->body = dupstr(m, "Body");
		if (x->id == NULL || x->receipt == NULL || x->body == NULL) {
			/* keep what we have so the caller frees it */
			n++;
			lb_err_set(err, LB_ETEMP, 0, "ReceiveMessage: a "
			    "message lacks MessageId, ReceiptHandle or Body");
			lb_sqs_msgs_free(v, n);
			v = NULL;
			goto out;
		}
		attrs = cJSON_GetObjectItemCaseSensitive(m, "Attributes");
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    attrs, "ApproximateReceiveCount"))) != NULL)
			x->count = strtol(s, NULL, 10);
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    attrs, "SentTimestamp"))) != NULL)
			x->sent_ms = strtoll(s, NULL, 10);
		n++;
	}
	*msgs = v;
	rc = n;
out:
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}

void
lb_sqs_msgs_free(struct lb_sqs_msg *v, int n)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].receipt);
		free(v[i].body);
	}
	free(v);
}

/* A pk as canonical decimal text; -1 when it is not a non-negative int. */
static int
pk(const cJSON *j, char *buf, size_t len)
{
	const char *s;
	size_t n;

	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;

		if (!isfinite(d) || d < 0 || d != floor(d) ||
		    d > 9007199254740991.0)
			return -1;
		snprintf(buf, len, "%.0f", d);
		return 0;
	}
	/* a long number kept as its text (lb_ddb_keep_numbers) */
	if (!cJSON_IsString(j) && !cJSON_IsRaw(j))
		return -1;
	s = j->valuestring;
	for (n = 0; s[n] != '\0'; n++)
		if (!isdigit((unsigned char)s[n]))
			return -1;
	if (n == 0)
		return -1;
	while (*s == '0' && s[1] != '\0')
		s++, n--;
	if (n >= len || n > 19)
		return -1;
	memcpy(buf, s, n + 1);
	return 0;
}

cJSON *
lb_sqs_parse(const char *body, size_t len, struct lb_err *err)
{
	static const char *pks[] = {
		"challenge_pk", "phase_pk", "submission_pk", NULL
	};
	const char *end = NULL;
	cJSON *j, *m;
	char buf[32];
	int i;

	j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (j == NULL || end == NULL || (size_t)(end - body) != len) {
		/* trailing blanks are fine, anything else is not */
		while (j != NULL && end != NULL && end < body + len &&
		    (*end == ' ' || *end == '\n' || *end == '\t' ||
		    *end == '\r'))
			end++;
		if (j == NULL || end != body + len) {
			cJSON_Delete(j);
			lb_err_set(err, LB_EFAIL, 0, "body is not JSON");
			return NULL;
		}
	}
	if (!cJSON_IsObject(j)) {
		lb_err_set(err, LB_EFAIL, 0, "body is not a JSON object");
		goto bad;
	}
	/* numbers cJSON cannot hold exactly keep their text */
	lb_ddb_keep_numbers(j, body, len);
	for (i = 0; pks[i] != NULL; i++) {
		m = cJSON_GetObjectItemCaseSensitive(j, pks[i]);
		if (m == NULL) {
			lb_err_set(err, LB_EFAIL, 0, "body lacks %s", pks[i]);
			goto bad;
		}
		if (pk(m, buf, sizeof(buf)) == -1) {
			lb_err_set(err, LB_EFAIL, 0, "%s is not a "
			    "non-negative integer or a string of digits",
			    pks[i]);
			goto bad;
		}
		lb_json_set_str(j, pks[i], buf);
	}
	m = cJSON_GetObjectItemCaseSensitive(j, "submitted_image_uri");
	if (m == NULL) {
		lb_err_set(err, LB_EFAIL, 0, "body lacks submitted_image_uri");
		goto bad;
	}
	if (!cJSON_IsString(m) || m->valuestring[0] == '\0') {
		lb_err_set(err, LB_EFAIL, 0,
		    "submitted_image_uri is not a non-empty string");
		goto bad;
	}
	m = cJSON_GetObjectItemCaseSensitive(j,
	    "is_static_dataset_code_upload_submission");
	if (m == NULL) {
		lb_err_set(err, LB_EFAIL, 0, "body lacks "
		    "is_static_dataset_code_upload_submission");
		goto bad;
	}
	if (!cJSON_IsBool(m)) {
		lb_err_set(err, LB_EFAIL, 0,
		    "is_static_dataset_code_upload_submission is not a "
		    "boolean");
		goto bad;
	}
	return j;
bad:
	cJSON_Delete(j);
	return NULL;
}

void
lb_sqs_entry_clear(struct lb_sqs_entry *e)
{
	free(e->message_id);
	free(e->sequence);
	e->message_id = e->sequence = NULL;
	e->ok = 0;
}

int
lb_sqs_send(struct lb_aws *aws, const char *url, struct lb_sqs_entry *v,
    int n, struct lb_err *err)
{
	cJSON *body, *arr, *e, *ans = NULL, *c;
	const char *id, *code, *msg;
	char idbuf[16];
	int i, rc = -1, k;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "QueueUrl", url);
	arr = cJSON_AddArrayToObject(body, "Entries");
	for (i = 0; i < n; i++) {
		lb_sqs_entry_clear(&v[i]);
		lb_err_clear(&v[i].err);
		e = cJSON_CreateObject();
		snprintf(idbuf, sizeof(idbuf), "m%d", i);
		cJSON_AddStringToObject(e, "Id", idbuf);
		cJSON_AddStringToObject(e, "MessageBody", v[i].body);
		if (v[i].delay >= 0)
			cJSON_AddNumberToObject(e, "DelaySeconds", v[i].delay);
		if (v[i].group != NULL)
			cJSON_AddStringToObject(e, "MessageGroupId",
			    v[i].group);
		if (v[i].dedup != NULL)
			cJSON_AddStringToObject(e, "MessageDeduplicationId",
			    v[i].dedup);
		cJSON_AddItemToArray(arr, e);
	}
	if ((ans = call(aws, "SendMessageBatch", body, err)) == NULL)
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ans,
	    "Successful")) {
		id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Id"));
		if (id == NULL || id[0] != 'm' ||
		    (k = atoi(id + 1)) < 0 || k >= n)
			continue;
		v[k].ok = 1;
		v[k].message_id = dupstr(c, "MessageId");
		v[k].sequence = dupstr(c, "SequenceNumber");
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ans,
	    "Failed")) {
		id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Id"));
		if (id == NULL || id[0] != 'm' ||
		    (k = atoi(id + 1)) < 0 || k >= n)
			continue;
		code = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Code"));
		msg = cJSON_GetStringValue(cJSON_GetObjectItem(c, "Message"));
		lb_err_set(&v[k].err, cJSON_IsTrue(cJSON_GetObjectItem(c,
		    "SenderFault")) ? LB_EFAIL : LB_ETEMP, 0, "%s%s%s",
		    code ? code : "failed", msg ? ": " : "", msg ? msg : "");
		snprintf(v[k].err.code, sizeof(v[k].err.code), "%s",
		    code ? code : "");
		v[k].ok = 0;
	}
	for (i = 0; i < n; i++)
		if (!v[i].ok && v[i].err.msg[0] == '\0')
			lb_err_set(&v[i].err, LB_ETEMP, 0, "SendMessageBatch "
			    "answered neither success nor failure");
		else if (v[i].ok && v[i].message_id == NULL) {
			v[i].ok = 0;
			lb_err_set(&v[i].err, LB_ETEMP, 0,
			    "SendMessageBatch: no MessageId");
		}
	rc = 0;
out:
	cJSON_Delete(body);
	cJSON_Delete(ans);
	return rc;
}

int
lb_sqs_delete(struct lb_aws *aws, const char *url, const char *receipt,
    struct lb_err *err)
{
	cJSON *body, *ans;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "QueueUrl", url);
	cJSON_AddStringToObject(body, "ReceiptHandle", receipt);
	ans = call(aws, "DeleteMessage", body, err);
	cJSON_Delete(body);
	if (ans == NULL)
		return -1;
	cJSON_Delete(ans);
	return 0;
}

int
lb_sqs_extend(struct lb_aws *aws, const char *url, const char *receipt,
    int seconds, struct lb_err *err)
{
	cJSON *body, *ans;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "QueueUrl", url);
	cJSON_AddStringToObject(body, "ReceiptHandle", receipt);
	cJSON_AddNumberToObject(body, "VisibilityTimeout", seconds);
	ans = call(aws, "ChangeMessageVisibility", body, err);
	cJSON_Delete(body);
	if (ans == NULL)
		return -1;
	cJSON_Delete(ans);
	return 0;
}
