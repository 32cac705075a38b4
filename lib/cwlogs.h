/* cwlogs.h: CloudWatch Logs (Logs_20140328.*, JSON 1.1). */
#ifndef LB_CWLOGS_H
#define LB_CWLOGS_H

#include "lb.h"

/* PutLogEvents limits. */
#define LB_CWLOGS_MAXEVENTS	10000
#define LB_CWLOGS_MAXBYTES	1048576	/* messages plus overhead */
#define LB_CWLOGS_OVERHEAD	26	/* counted per event */
#define LB_CWLOGS_MAXEVENT	262144	/* one event, overhead included */
#define LB_CWLOGS_SPAN_MS	(24LL * 3600 * 1000)

struct lb_cwlogs_event {
	long long	 ts;		/* milliseconds since the epoch */
	char		*msg;		/* UTF-8, at most MAXEVENT - OVERHEAD */
	size_t		 len;
};

/* CreateLogGroup and CreateLogStream; "already exists" is success. */
int	lb_cwlogs_create(struct lb_aws *, const char *group,
	    const char *stream, struct lb_err *);
/*
 * PutLogEvents of n events in chronological order, within the limits.
 * Returns 0 and the number of events the service refused (too old, too
 * new, expired) in *rejected, or -1 with err.
 */
int	lb_cwlogs_put(struct lb_aws *, const char *group, const char *stream,
	    const struct lb_cwlogs_event *, int n, int *rejected,
	    struct lb_err *);

#endif
