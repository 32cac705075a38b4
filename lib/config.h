/*
 * config.h: the lb configuration file (lb.yaml(5), DESIGN 3.3).
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include "lb.h"

#define LB_CONFIG_DEFAULT	"/etc/lb/lb.yaml"

struct lb_config_track {
	char	*codename;		/* as written in the file */
	char	*instance_type;
	long	 workers;		/* parallel workers wanted */
	long	 routes;		/* routes of the track */
};

struct lb_config_cluster {
	char	*id;			/* its key under "clusters" */
	char	*name, *endpoint, *certificate_authority, *region;
	char	*simulator_image, *leaderboard_image, *uploader_image;
	char	*monitor_image;
	struct lb_config_track *tracks;
	size_t	 ntracks;
	cJSON	*qualifier_map;		/* track -> track it opens */
	cJSON	*threshold_map;		/* track -> threshold (text) */
	char	*s3_bucket, *submissions_table, *qualifier_table;
	char	*worker_template;	/* absolute paths */
	char	*monitor_template;
	char	**image_prefixes;
	size_t	 nimage_prefixes;
	long	 pending_timeout;	/* seconds a pod may be Pending */
};

struct lb_config_phase {
	char	*phase_pk;
	struct lb_config_cluster *cluster;
	struct lb_config_track *track;
};

struct lb_config {
	char	*path;
	char	*api_server;
	/* env:NAME, file:PATH or secretsmanager:ID#KEY */
	char	*token_source;
	char	*queue;			/* EvalAI queue, or NULL */
	struct lb_config_phase *phases;
	size_t	 nphases;
	struct lb_config_cluster *clusters;
	size_t	 nclusters;
};

/* The file to read: opt (-c) if given, else LB_CONFIG, else the default. */
const char *lb_config_path(const char *opt);
/*
 * Load and check a configuration.  Every missing, unknown or ill-typed
 * key is an LB_EUSAGE error naming the key and FILE:LINE.  ${NAME} in a
 * string is replaced by the environment variable NAME (${NAME:-word}
 * gives word when NAME is unset or empty; $$ is a dollar sign).
 */
struct lb_config *lb_config_load(const char *path, struct lb_err *);
struct lb_config *lb_config_parse(const char *text, size_t len,
	    const char *name, struct lb_err *);
/* Further checks for --check: the Job templates can be read. */
int	lb_config_check(const struct lb_config *, struct lb_err *);
void	lb_config_free(struct lb_config *);

const struct lb_config_cluster *lb_config_cluster(const struct lb_config *,
	    const char *id);
const struct lb_config_track *lb_config_track(
	    const struct lb_config_cluster *, const char *codename);
/* The cluster and track of a phase pk; NULL when the phase is not mapped. */
const struct lb_config_phase *lb_config_phase(const struct lb_config *,
	    const char *phase_pk);
/* Is image under one of the cluster's allowed prefixes? */
int	lb_config_image_allowed(const struct lb_config_cluster *,
	    const char *image);

#endif
