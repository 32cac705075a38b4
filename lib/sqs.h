/*
 * sqs.h: Amazon SQS over the JSON protocol (AmazonSQS.*,
 * application/x-amz-json-1.0), and the submission message body.
 */
#ifndef LB_SQS_H
#define LB_SQS_H

#include "lb.h"

#define LB_SQS_BATCH	10	/* most messages per receive or batch */

struct lb_sqs_msg {
	char		*id;		/* MessageId */
	char		*receipt;	/* ReceiptHandle */
	char		*body;
	long		 count;		/* ApproximateReceiveCount, 0 unknown */
	long long	 sent_ms;	/* SentTimestamp, 0 unknown */
};

/*
 * ReceiveMessage: at most max (1..10) messages, long polling wait
 * seconds, visibility -1 for the queue's default.  Sets *msgs (free
 * with lb_sqs_msgs_free) and returns the count (0 when none), -1 with
 * err.
 */
int	lb_sqs_receive(struct lb_aws *, const char *url, int max, int wait,
	    int visibility, struct lb_sqs_msg **msgs, struct lb_err *);
void	lb_sqs_msgs_free(struct lb_sqs_msg *, int n);

/*
 * Parse a submission message body (DESIGN 3.1) into a record: a JSON
 * object with challenge_pk, phase_pk, submission_pk (strings of digits
 * or non-negative integers, emitted as strings), submitted_image_uri
 * (string) and is_static_dataset_code_upload_submission (boolean);
 * other members are kept.  NULL with err (LB_EFAIL) saying why.
 */
cJSON	*lb_sqs_parse(const char *body, size_t len, struct lb_err *);

/* One entry of SendMessageBatch. */
struct lb_sqs_entry {
	const char	*body;
	const char	*group;		/* MessageGroupId or NULL */
	const char	*dedup;		/* MessageDeduplicationId or NULL */
	int		 delay;		/* DelaySeconds, -1 none */
	/* results */
	int		 ok;
	char		*message_id;	/* malloc'd when ok */
	char		*sequence;	/* SequenceNumber (FIFO) or NULL */
	struct lb_err	 err;		/* when !ok */
};

/*
 * SendMessageBatch of n (1..10) entries.  Returns -1 with err when the
 * call as a whole failed (no entry sent); else 0 with every entry's ok,
 * message_id or err filled.
 */
int	lb_sqs_send(struct lb_aws *, const char *url, struct lb_sqs_entry *,
	    int n, struct lb_err *);
void	lb_sqs_entry_clear(struct lb_sqs_entry *);

/* DeleteMessage. */
int	lb_sqs_delete(struct lb_aws *, const char *url, const char *receipt,
	    struct lb_err *);
/* ChangeMessageVisibility (a heartbeat). */
int	lb_sqs_extend(struct lb_aws *, const char *url, const char *receipt,
	    int seconds, struct lb_err *);

#endif
