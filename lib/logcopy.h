/*
 * logcopy.h: the decisions of the in-pod loops (lb-logcopy uploader and
 * monitor), kept apart from the I/O so they can be tested alone: the
 * status markers of a containers-status/ directory, the end rules, the
 * body of an EvalAI partial update and its hash, the loop backoff.
 */
#ifndef LB_LOGCOPY_H
#define LB_LOGCOPY_H

#include "lb.h"

#define LB_LOGCOPY_MAXWORKERS	1000
#define LB_LOGCOPY_MAXCRASHES	4	/* reference backoffLimit */

/* One worker's markers (agent-ID.*, simulator-ID.*, uploader-ID.*). */
struct lb_logcopy_worker {
	int	start;			/* worker-ID.start, .startN */
	int	agent_done, simulator_done, uploader_done;
	int	agent_crashes, simulator_crashes; /* .crashN files */
	int	cancel;			/* simulation-ID.cancel */
};

/* What a containers-status/ directory holds. */
struct lb_logcopy_marks {
	int	 nworkers;		/* workers 1..nworkers are kept */
	struct lb_logcopy_worker *w;	/* w[0] unused */
	/* names holding .done, .crash, .start (the reference's find) */
	long	 done, crash, start;
	int	 cancel;		/* simulation.cancel */
	int	 monitor_done;		/* monitor.done */
};

/* End rules of the monitor. */
enum {
	LB_LOGCOPY_RULE_WORKER = 0,	/* every worker over, one by one */
	LB_LOGCOPY_RULE_REFERENCE	/* done/3 + crash/limit >= workers */
};

void	lb_logcopy_marks_init(struct lb_logcopy_marks *, int nworkers);
void	lb_logcopy_marks_free(struct lb_logcopy_marks *);
/* Account for one file name of the directory. */
void	lb_logcopy_marks_add(struct lb_logcopy_marks *, const char *name);
/* Read a directory (a missing one holds nothing). */
int	lb_logcopy_marks_scan(struct lb_logcopy_marks *, const char *dir,
	    struct lb_err *);

/*
 * Is worker id over: its uploader said so, or (uploader 0) its agent
 * and simulator are done, or its crash markers (agent and simulator
 * together: each is one container restart) reached max_crashes, the
 * Job's backoffLimit.  uploader 1 asks the monitor's question (the
 * uploader's done marker is what says the worker's files are all in
 * S3); 0 the uploader's own.
 */
int	lb_logcopy_worker_over(const struct lb_logcopy_marks *, int id,
	    int max_crashes, int uploader);
/* Workers not over yet (for the monitor's log), by rule. */
int	lb_logcopy_pending(const struct lb_logcopy_marks *, int rule,
	    int max_crashes);
/* Has the monitor reached its end condition? */
int	lb_logcopy_monitor_end(const struct lb_logcopy_marks *, int rule,
	    int max_crashes);

/*
 * The partial update run_monitor.sh sends: submission and
 * challenge_phase as JSON numbers, status PARTIALLY_EVALUATED, stdout,
 * result and metadata the files' texts as JSON strings (NULL: ""),
 * trailing newlines dropped as the shell's $(cat FILE) drops them,
 * stderr "".  NULL with err when a pk is not a number.
 */
cJSON	*lb_logcopy_partial_body(const char *submission, const char *phase,
	    const char *result, const char *stdout_text, const char *metadata,
	    struct lb_err *);
/* Lower-case hex SHA-256 of the body's compact text. */
void	lb_logcopy_body_hash(const cJSON *body, char out[65]);

/*
 * Milliseconds to wait before the next loop after fails consecutive
 * failed iterations: the period, doubled per failure, at most 8
 * periods and at least the period.
 */
long	lb_logcopy_delay_ms(long period_ms, int fails);

#endif
