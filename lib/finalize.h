/*
 * finalize.h: the decisions of lb-finalize (the reference PostEKS):
 * the final status from the containers' status markers, the results
 * from evalai/results.json, the qualifier decision and the texts the
 * participant reads.  No I/O: the tool lists and reads S3 and writes
 * DynamoDB, this file only decides.
 */
#ifndef LB_FINALIZE_H
#define LB_FINALIZE_H

#include "lb.h"

#define LB_FINALIZE_MAXWORKERS	1000

enum {
	LB_FINALIZE_FINISHED,
	LB_FINALIZE_FAILED,
	LB_FINALIZE_CANCELLED
};

struct lb_finalize_worker {
	int	 agent_done, simulator_done, uploader_done;
	long	 agent_crashes, simulator_crashes;
	int	 seen;			/* any marker of this worker */
};

struct lb_finalize_markers {
	long	 workers;
	struct lb_finalize_worker *w;	/* w[k - 1] is worker k */
	int	 monitor_done;
	char	 cancel[64];		/* the first cancel marker, or "" */
	long	 done;			/* done markers that count */
	long	 expected;		/* 1 + 3 * workers */
	long	 crashes;
	long	 seen;			/* names looked at */
};

/* workers from 1 to LB_FINALIZE_MAXWORKERS. */
void	lb_finalize_markers_init(struct lb_finalize_markers *, long workers);
void	lb_finalize_markers_free(struct lb_finalize_markers *);
/*
 * Count one marker by its name (the part of the key after
 * containers-status/; names holding a '/' are ignored).  Only exact
 * names count: monitor.done, agent-K.done, simulator-K.done,
 * uploader-K.done for K in 1..workers, agent-K.crashN and
 * simulator-K.crashN, simulation.cancel and simulation-K.cancel.
 * Returns 1 when the name counted for something, 0 when ignored.
 */
int	lb_finalize_marker(struct lb_finalize_markers *, const char *name);
/* CANCELLED on a cancel marker, FINISHED when all expected are done. */
int	lb_finalize_status(const struct lb_finalize_markers *);
const char *lb_finalize_status_name(int);

/* "Driving score" -> "driving_score", as the reference (ASCII lower). */
char	*lb_finalize_key(const char *);
/*
 * The reference's results: the accuracies of the first entry of the
 * results.json array, keys lower_snake, values as Python's str().
 * NULL with err when the text is not such an array.
 */
cJSON	*lb_finalize_results(const char *text, size_t len, struct lb_err *);

/* Is s valid UTF-8 without NUL bytes (so it can go into JSON)? */
int	lb_finalize_utf8(const char *s, size_t len);

/* The qualifier decision of a FINISHED submission. */
struct lb_finalize_qual {
	int	 qualifying;		/* the track is a qualifier track */
	int	 applies;		/* ... with a threshold to compare */
	int	 passed;		/* score >= threshold */
	char	 to[128];		/* the track it opens (upper case) */
	char	 threshold[64];		/* as text, "" when none */
	char	 score[64];		/* the driving score as text, "" */
	const char *why;		/* when it does not apply */
};
/*
 * qualifier is data.qualifier ({is_qualifying, qualifying_to,
 * threshold_map}), track data.submission.track_codename, score the
 * driving score text (NULL when none).  The threshold is the map's
 * value for the track qualified to, else for the qualifier track
 * itself (keys compared without regard to case).  -1 with err when a
 * member has a wrong type.
 */
int	lb_finalize_qualifier(const cJSON *qualifier, const char *track,
	    const char *score, struct lb_finalize_qual *, struct lb_err *);
/* The participant's sentence about the decision (appended to b). */
void	lb_finalize_qual_text(struct lb_buf *, const struct lb_finalize_qual *);

/*
 * Why a submission failed, for the participant: sentences built from
 * the Job outcome (k8s may be NULL) and the markers (may be NULL),
 * joined by "; ", without a final period.  Only enumerated reasons,
 * container names and numbers are taken from k8s, never free text.
 * Appends nothing when there is nothing to say.
 */
void	lb_finalize_reason(struct lb_buf *, const cJSON *k8s,
	    const struct lb_finalize_markers *);

#endif
