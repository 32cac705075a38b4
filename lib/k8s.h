/*
 * k8s.h: a Kubernetes API client for batch/v1 Jobs, their pods and logs
 * (reference/k8s.md): configuration from kubeconfig, the in-cluster
 * service account or an EKS cluster name; watch streams; the Job
 * outcome decision.
 */
#ifndef LB_K8S_H
#define LB_K8S_H

#include "lb.h"

/* Configuration: where the API is and how to authenticate. */
struct lb_k8s_config {
	char	*source;	/* "kubeconfig", "in-cluster", "eks" */
	char	*context;	/* the context used */
	char	*server;	/* base URL, no trailing slash */
	char	*namespace;	/* the context's, else "default" */
	char	*ca_file, *ca_pem;
	char	*cert_pem, *key_pem;
	char	*tls_server_name;
	int	 insecure;
	char	*token;		/* static bearer token */
	char	*token_file;	/* re-read (tokenFile, service account) */
	/* exec credential plugin */
	char	*exec_api;	/* client.authentication.k8s.io/v1beta1|v1 */
	char	*exec_cmd;
	char	**exec_argv;	/* NULL-terminated, [0] = command */
	char	**exec_env;	/* "NAME=value", NULL-terminated */
	int	 exec_cluster_info;
	int	 exec_interactive;	/* interactiveMode Always */
	/* EKS */
	char	*eks_cluster;
};

void	lb_k8s_config_free(struct lb_k8s_config *);
/*
 * Load kubeconfig: files is a ':'-separated list (KUBECONFIG); the
 * first file to set a key wins; relative paths are resolved against
 * the file that named them.  context NULL: current-context.
 * LB_EUSAGE errors name the file.
 */
int	lb_k8s_config_load(struct lb_k8s_config *, const char *files,
	    const char *context, struct lb_err *);
/* The same from one text (tests, fuzzing); dir resolves relative paths. */
int	lb_k8s_config_parse(struct lb_k8s_config *, const char *text,
	    size_t len, const char *name, const char *dir,
	    const char *context, struct lb_err *);
/*
 * In-cluster configuration: KUBERNETES_SERVICE_HOST and _PORT and the
 * service account directory (dir NULL: the standard one).  Returns 1
 * when not in a cluster, 0 when configured.
 */
int	lb_k8s_config_incluster(struct lb_k8s_config *, const char *dir,
	    struct lb_err *);

/* Base64 (standard alphabet, whitespace ignored); malloc'd, NUL-ended. */
char	*lb_k8s_b64dec(const char *, size_t *lenp);
/* base64url without padding. */
char	*lb_k8s_b64url(const void *, size_t);

/* Parse an ExecCredential answer; sets token or cert/key and expiry. */
int	lb_k8s_exec_parse(const char *out, size_t len, const char *api,
	    char **token, char **cert, char **key, time_t *expires,
	    struct lb_err *);
/* RFC 3339 time to time_t; -1 when malformed. */
time_t	lb_k8s_time(const char *);

/*
 * The EKS token for cluster at time now with creds and region:
 * "k8s-aws-v1." + base64url of the presigned GetCallerIdentity URL.
 */
char	*lb_k8s_eks_token(const struct lb_creds *, const char *region,
	    const char *cluster, time_t now, struct lb_err *);
/* Should a token signed at signed_at be made again (14 minutes)? */
int	lb_k8s_eks_stale(time_t signed_at, time_t creds_expire, time_t now);

/* The client. */
struct lb_k8s;

struct lb_k8s_opts {
	const char	*kubeconfig;	/* NULL: KUBECONFIG, ~/.kube/config */
	const char	*context;
	const char	*eks_cluster;	/* EKS by name (AWS region needed) */
	const char	*server;	/* override the server URL */
	const char	*ca_file;	/* override the CA */
	const char	*sa_dir;	/* service account dir (in-cluster) */
	lb_http_trace_fn trace;
	void		*trace_arg;
	volatile int	*stop;
	long		 timeout_ms;	/* per request; 0: 30 s */
	int		 max_attempts;	/* 0: 5 */
	int		 token_only;	/* EKS: no DescribeCluster */
};

struct lb_k8s *lb_k8s_new(const struct lb_k8s_opts *, struct lb_err *);
void	lb_k8s_free(struct lb_k8s *);
const struct lb_k8s_config *lb_k8s_config(const struct lb_k8s *);
/* The current bearer token (made or renewed as needed); NULL when none. */
const char *lb_k8s_token(struct lb_k8s *, time_t *expires, struct lb_err *);

/*
 * One API call: path (with query) relative to the server, body NULL or
 * JSON.  Returns the HTTP status (a 401 makes the credentials again
 * once) and the parsed answer in *out (NULL when not JSON), or -1 when
 * no answer came.  For statuses >= 300 err is filled from the Status
 * (message, reason in code, kind from the status).
 */
long	lb_k8s_call(struct lb_k8s *, const char *method, const char *path,
	    const cJSON *body, cJSON **out, struct lb_err *);
/*
 * A streamed GET (logs, watch): bytes go to fn as they come.  timeout_ms
 * bounds the whole request.  Returns the HTTP status or -1 (a time-out
 * is -1 with LB_ETEMP).  Error answers are passed to fn too.
 */
long	lb_k8s_stream(struct lb_k8s *, const char *path, long timeout_ms,
	    int (*fn)(void *, const char *, size_t), void *arg,
	    struct lb_err *);

/* Paths. */
char	*lb_k8s_jobs_path(const char *ns, const char *name);
char	*lb_k8s_pods_path(const char *ns, const char *name);

/* Is s a valid label value (at most 63, [A-Za-z0-9][-A-Za-z0-9_.]*)? */
int	lb_k8s_label_value_ok(const char *s);
/* The label selector "k=v,k2=v2" of a Job's spec.selector.matchLabels. */
char	*lb_k8s_job_selector(const cJSON *job);

/* Watch streams: one JSON document per line. */
struct lb_k8s_wp;
/*
 * fn gets each event: type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR)
 * and object.  A bare Status document (an error answer) comes as type
 * "ERROR".  fn returns 0 to go on, 1 to stop.
 */
typedef int (*lb_k8s_event_fn)(void *arg, const char *type,
	    const cJSON *object);
struct lb_k8s_wp *lb_k8s_wp_new(lb_k8s_event_fn, void *arg);
/* 0: go on; 1: fn said stop; -1: a malformed line (err). */
int	lb_k8s_wp_feed(struct lb_k8s_wp *, const char *, size_t,
	    struct lb_err *);
/* End of stream: a last line without a newline is parsed. */
int	lb_k8s_wp_end(struct lb_k8s_wp *, struct lb_err *);
void	lb_k8s_wp_free(struct lb_k8s_wp *);

/* The Job outcome (reference/k8s.md 2.6). */
enum {
	LB_K8S_PENDING,		/* no pod running yet */
	LB_K8S_RUNNING,
	LB_K8S_COMPLETE,
	LB_K8S_FAILED,
	LB_K8S_SUSPENDED,
	LB_K8S_STUCK,		/* a pod Pending on a hopeless reason */
	LB_K8S_DELETED		/* gone without a terminal condition */
};

struct lb_k8s_outcome {
	int	 state;
	int	 final;		/* Complete/Failed (not only the target) */
	char	 reason[128];
	char	 message[512];
	long	 active, ready, succeeded, failed, terminating;
	char	 start_time[40], end_time[40];
	char	 container[64];		/* stuck: the container waiting */
	long	 pending_seconds;	/* stuck: how long Pending */
};

const char *lb_k8s_state_name(int);
/* Decide from a Job object.  Never fails: no status is "pending". */
void	lb_k8s_job_outcome(const cJSON *job, struct lb_k8s_outcome *);
/*
 * Look at a pod: 1 and a reason ("ImagePullBackOff", "Unschedulable")
 * when it is Pending on a reason that will not go away by itself, with
 * *since the time the pod was created; 0 otherwise.  2 when the pod is
 * running (a container running).
 */
int	lb_k8s_pod_stuck(const cJSON *pod, char *reason, size_t,
	    time_t *since);
/* The outcome as JSON members added to obj. */
void	lb_k8s_outcome_json(const struct lb_k8s_outcome *, cJSON *obj);

#endif
