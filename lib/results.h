/*
 * results.h: the CARLA Leaderboard results merge and the three EvalAI
 * files (results.json, stdout.txt, metadata.json), byte for byte like the
 * reference scripts (merge_statistics.py, generate_*.py), for
 * Leaderboard 2.0 and 1.0.  Never prints, never exits.  Numbers are
 * printed and read with snprintf/strtod, so LC_NUMERIC must stay "C".
 */
#ifndef LB_RESULTS_H
#define LB_RESULTS_H

#include "lb.h"

/* pyjson.c: Python's json.load/json.dump over cJSON trees */

/*
 * Parse like json.loads (strict strings, NaN/Infinity, last duplicate
 * key wins).  Ints keep their digits in valuestring (lb_pyjson_isint);
 * floats have valuestring NULL.  NULL with err on invalid input.
 */
cJSON	*lb_pyjson_parse(const char *, size_t, struct lb_err *);
/* json.dump(v, f, indent=4[, sort_keys=True]): appends to b, no newline. */
void	lb_pyjson_dump(struct lb_buf *b, const cJSON *, int sort_keys);
/* One scalar as json.dump writes it. */
void	lb_pyjson_scalar(struct lb_buf *b, const cJSON *);
/* Python str() of a value (floats repr, ints digits, strings as UTF-8). */
void	lb_pyjson_str(struct lb_buf *b, const cJSON *);
/* A parsed string in plain UTF-8 (U+0000 is kept as a NUL byte). */
void	lb_pyjson_text(struct lb_buf *b, const char *);
/* Python repr(float): shortest round trip, 1e-05, 1e+16, 100.0, -0.0. */
void	lb_pyjson_repr(double, char out[32]);
/* Python round(x, n) for a float. */
double	lb_pyjson_round(double, int ndigits);
int	lb_pyjson_isint(const cJSON *);
cJSON	*lb_pyjson_int(long long);
cJSON	*lb_pyjson_int_text(const char *digits);
cJSON	*lb_pyjson_float(double);

/* results.c */

enum {
	LB_RESULTS_LB1 = 1,		/* Leaderboard 1.0 files */
	LB_RESULTS_LB2 = 2		/* Leaderboard 2.0 (and 2.1) files */
};

/* What became of one partial file. */
enum {
	LB_RESULTS_ABSENT,		/* no such file (yet) */
	LB_RESULTS_UNREADABLE,		/* empty, truncated or not JSON */
	LB_RESULTS_NODATA,		/* JSON that Python finds falsy */
	LB_RESULTS_USED
};

struct lb_results_file {
	char	*path;
	int	 state;			/* LB_RESULTS_* above */
	long	 records;		/* route records in it */
	double	 total;			/* its progress[1] */
};

struct lb_results_opts {
	int	 format;	/* LB_RESULTS_LB2 (0 too) or LB1 */
	int	 workers;	/* expected workers, 0: not checked */
	long	 routes;	/* expected routes, 0: not checked */
};

struct lb_results {
	int	 format;
	cJSON	*doc;			/* the merged document */
	int	 global;		/* global statistics were computed */
	char	*invalid;		/* why the entry is Invalid */
	int	 nfiles;
	struct lb_results_file *files;	/* one per path, in order */
	int	 nmissing;		/* problems against opts */
	struct lb_buf missing;		/* a line per problem */
};

/*
 * Merge the partial files like merge_statistics.py.  Paths that do not
 * exist or hold no complete JSON are skipped, never fatal.  Returns
 * NULL with err when the reference merge would abort (duplicate routes,
 * gaps, sensor mismatch, malformed records): it writes nothing then.
 * With opts->workers or opts->routes, missing workers' files and
 * routes are listed in missing; then no global statistics are computed
 * (the result reads as a run in progress, never Finished).
 */
struct lb_results *lb_results_merge(const char *const *paths, int n,
	    const struct lb_results_opts *, struct lb_err *);
void	lb_results_free(struct lb_results *);

/* The merged file's bytes (merged.json = metadata.json). */
char	*lb_results_merged(const struct lb_results *, size_t *len);
/*
 * generate_results.py / generate_stdout.py on a merged document (NULL:
 * the merged file is missing).  NULL with err where the reference
 * script raises (and writes no file).
 */
char	*lb_results_results(const cJSON *merged, int format, size_t *len,
	    struct lb_err *);
char	*lb_results_stdout(const cJSON *merged, int format, size_t *len,
	    struct lb_err *);

/*
 * The monitor's step in a directory: with r, write merged.json,
 * results.json, stdout.txt and metadata.json; with r NULL (a failed
 * merge), regenerate results.json and stdout.txt (and metadata.json)
 * from the merged.json already in dir, like the reference monitor that
 * runs the generators on the stale file.  Every file goes to a
 * temporary name first and is renamed only once all are written; files
 * whose content would not change are not touched.  Returns 0, or -1
 * with err (a generator's failure leaves that one file as it was and
 * is reported after the others are in place).
 */
int	lb_results_write(const struct lb_results *r, const char *dir,
	    int format, struct lb_err *);

#endif
