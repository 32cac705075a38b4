/*
 * names.h: Kubernetes object names for submissions (DESIGN 3.5).
 */
#ifndef LB_NAMES_H
#define LB_NAMES_H

#include "lb.h"

#define LB_NAMES_MAX	63	/* a DNS-1123 label; pod labels copy it */

/*
 * The Job name of one role of a submission: a DNS-1123 label of at most
 * 63 characters, "TEAM-TRACK-SUBMISSION-ROLE", where ROLE is "workerN"
 * when worker > 0 and the sanitised role otherwise ("monitor").  Team
 * and track are lower-cased, every run of other characters becomes one
 * '-', and ends are trimmed; an empty team becomes "team".  When the
 * whole does not fit, the team and track part is cut and an 8-digit hash
 * of the original team, track and submission goes after it, so names
 * stay unique.  Any input gives a valid name; the same input gives the
 * same name (a resumed run finds its Jobs).  Returns a malloc'd string.
 */
char	*lb_names_job(const char *team, const char *track,
	    const char *submission, const char *role, int worker);
/* Is s a DNS-1123 label of at most 63 characters? */
int	 lb_names_valid(const char *s);

#endif
