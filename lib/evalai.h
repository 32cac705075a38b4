/*
 * evalai.h: the EvalAI REST client (the host's side of the contract,
 * /work/shared/reference/evalai.md section 3).
 */
#ifndef LB_EVALAI_H
#define LB_EVALAI_H

#include "lb.h"

struct lb_evalai;

/*
 * A client for base (e.g. https://eval.ai, no trailing slash needed)
 * with a host token; both are copied.  Calls go through h (retries,
 * backoff, Retry-After on 429).
 */
struct lb_evalai *lb_evalai_new(struct lb_http *h, const char *base,
	    const char *token, struct lb_err *);
void	lb_evalai_free(struct lb_evalai *);
const char *lb_evalai_base(const struct lb_evalai *);

/*
 * The host token: LB_EVALAI_TOKEN, else the file named by
 * LB_EVALAI_TOKEN_FILE, else source ("env:NAME", "file:PATH" or
 * "secretsmanager:ID#KEY", as in lb.yaml(5)); NULL source and neither
 * variable is a usage error.  h is used for Secrets Manager only.
 * Returns a malloc'd token (trailing newline stripped) or NULL.
 */
char	*lb_evalai_token(const char *source, struct lb_http *h,
	    struct lb_err *);

/* Is s a whole decimal number that fits a pk? */
int	lb_evalai_pk_ok(const char *s);
/* Is s a queue name EvalAI routes ([A-Za-z0-9_.-]+)? */
int	lb_evalai_queue_ok(const char *s);

/*
 * GET /api/jobs/submission/PK.  Returns the parsed submission, or NULL
 * with err (err->http 404 when EvalAI does not know it).
 */
cJSON	*lb_evalai_submission(struct lb_evalai *, const char *pk,
	    struct lb_err *);
/*
 * PUT the final result to /api/jobs/challenge/C/update_submission/
 * (partial == 0) or to the plural
 * /api/jobs/challenges/C/update_partially_evaluated_submission/
 * (partial == 1).  body is sent as is: submission, challenge_phase,
 * submission_status and the result, metadata, stdout, stderr strings.
 * The final PUT is tried once: when its answer is lost EvalAI may have
 * applied it, so the caller reads the submission back before sending it
 * again.  The partial PUT (an upsert) is retried as any call.
 */
int	lb_evalai_update(struct lb_evalai *, const char *challenge,
	    const cJSON *body, int partial, struct lb_err *);
/* PATCH update_submission: status "running" (or "queued"), job_name. */
int	lb_evalai_running(struct lb_evalai *, const char *challenge,
	    const char *submission, const char *status, const char *job_name,
	    struct lb_err *);
/*
 * GET /api/jobs/challenge/queues/Q/: one message or none.  Returns
 * the answer ({"body":..., "receipt_handle":...}, both null when the
 * queue is empty) or NULL with err.
 */
cJSON	*lb_evalai_queue_recv(struct lb_evalai *, const char *queue,
	    struct lb_err *);
/* POST /api/jobs/queues/Q/ {"receipt_handle": h}: delete a message. */
int	lb_evalai_queue_delete(struct lb_evalai *, const char *queue,
	    const char *handle, struct lb_err *);

/*
 * Fill err from an EvalAI answer: its "error" or "detail" text (HTML
 * and other bodies are not quoted), kind from the status, code from
 * "code" (e.g. token_not_valid).
 */
void	lb_evalai_error(long status, const char *body, size_t len,
	    struct lb_err *);
/* Did EvalAI refuse the credentials (401, 403)? Such errors stop a tool. */
int	lb_evalai_auth_failed(const struct lb_err *);

#endif
