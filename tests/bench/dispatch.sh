#!/bin/sh
# tests/bench/dispatch.sh: the control plane on the local stack (lb-local),
# printed as markdown rows (median, min-max over RUNS runs, one fresh
# stack per run):
#   - dispatch throughput: N submissions (DISPATCH_SUBS, default 200,
#     SENSORS track: 4 worker Jobs + 1 monitor each) made in the EvalAI
#     emulator and queued in SQS, one lb-dispatch from its start to the
#     last Job the Kubernetes emulator created, in submissions per
#     second; against the ceiling of the same servers: the same HTTP
#     requests per submission sent by curl, 8 submissions at once
#     (xargs -P 8);
#   - one message to its created Jobs (lb-dispatch -1, one message);
#   - a finished submission (markers and results in S3, Jobs complete)
#     to its final EvalAI update (one lb-reconcile pass).
# The Jobs use images outside local/, so the Kubernetes emulator's
# scripted controller completes them without running anything.
#   RUNS   runs (default 5, at least 5)
LB_TOP=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
export LB_TOP
. "$LB_TOP/tests/lib.sh"
runs=${RUNS:-5}
[ "$runs" -ge 5 ] || runs=5
subs=${DISPATCH_SUBS:-200}
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
command -v aws >/dev/null 2>&1 || skip_all "aws CLI not installed"
g=$data/golden/lb2_four_workers_complete
export LB_LOCAL_DIR="$scratch/stack"
trap 'lb-local stop >/dev/null 2>&1; cleanup' EXIT

now() { date +%s%N; }
k8s() { curl -sf --cacert "$LB_LOCAL_DIR/k8s-ca.pem" "$@"; }
# jobs_created: Job creations the Kubernetes emulator answered with 201
jobs_created() {
	k8s "$LB_K8S_ENDPOINT/_emu/requests" | jq '[.[] | select(.method ==
	    "POST" and (.path | test("/jobs([?]|$)")) and .status == 201)] |
	    length'
}
# last_created: the time of the last one, in nanoseconds since the epoch
last_created() {
	k8s "$LB_K8S_ENDPOINT/_emu/requests" | jq -r '[.[] | select(.method ==
	    "POST" and (.path | test("/jobs([?]|$)")) and .status == 201) |
	    .time] | max' |
	    $PY -c 'import sys, datetime
t = sys.stdin.read().strip()
d, frac = t.rstrip("Z").split(".")
s = datetime.datetime.strptime(d, "%Y-%m-%dT%H:%M:%S").replace(
    tzinfo=datetime.timezone.utc).timestamp()
print(int(s) * 10**9 + int((frac + "000000000")[:9]))'
}
# aws_json SERVICE TARGET BODY: one JSON-protocol call to moto by curl
# (moto routes on the credential scope; it does not check signatures)
aws_hdr() {
	printf -- '-H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/%s/aws4_request, SignedHeaders=host, Signature=0"\n-H "X-Amz-Target: %s"\n-H "Content-Type: application/x-amz-json-1.0"\n' "$1" "$2"
}

# seed N: N new submissions in EvalAI, their messages in SQS; prints pks
seed() {
	: >msgs
	i=0
	while [ $i -lt "$1" ]; do
		echo '{"phase": 2350, "participant_team": 101, "submitted_image_uri": "bench/agent:1"}'
		i=$((i + 1))
	done | while read -r body; do
		curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions" \
		    -H 'Content-Type: application/json' -d "$body"
		echo
	done | jq -c '.message | fromjson' >msgs
	lb-sqs-send -q "$LB_QUEUE_URL" <msgs >/dev/null
	jq -r '.submission_pk' msgs
}

stack() {
	lb-local start >env 2>start.err ||
	    { cat start.err >&2; echo "lb-local start failed" >&2; exit 1; }
	. ./env
	export LB_SIMULATOR_IMAGE=bench/simulator:1 LB_LEADERBOARD_IMAGE=bench/lb:1
	export LB_UPLOADER_IMAGE=bench/lb:1 LB_MONITOR_IMAGE=bench/lb:1
	export LB_IMAGE_PREFIX=bench/
	export LB_WORKER_TEMPLATE=$LB_TOP/examples/jobs/worker.yaml
	export LB_MONITOR_TEMPLATE=$LB_TOP/examples/jobs/monitor.yaml
	printf '{"team_id":"101","track_codename":"SENSORS"}\n' |
	    lb-ddb-put -t "$LB_QUALIFIER_TABLE" >/dev/null
}

# finished PK: the S3 state a finished 4-worker run leaves
finished() {
	mkdir -p "fin/$1"
	for f in monitor.done agent-1.done agent-2.done agent-3.done \
	    agent-4.done simulator-1.done simulator-2.done simulator-3.done \
	    simulator-4.done uploader-1.done uploader-2.done uploader-3.done \
	    uploader-4.done; do
		: | lb-s3 cp - "s3://$LB_S3_BUCKET/$1/containers-status/$f" >/dev/null
	done
	for f in results.json stdout.txt metadata.json merged.json; do
		lb-s3 cp "$g/$f" "s3://$LB_S3_BUCKET/$1/evalai/$f" >/dev/null
	done
}

: >rate; : >ceil; : >one; : >fin
r=0
while [ $r -lt "$runs" ]; do
	stack
	# a finished submission to its final update: one reconcile pass
	pk=$(seed 1)
	lb-dispatch -1 -w 1 2>>dispatch.log
	printf '{"submission":{"submission_id":"%s"}}\n' "$pk" |
	    lb-k8s-job wait --submission --timeout 60 >/dev/null 2>&1
	finished "$pk"
	t0=$(now)
	lb-reconcile 2>>reconcile.log
	t1=$(now)
	curl -sf "$LB_EVALAI_URL/_emu/submissions/$pk/updates" |
	    jq -e '.final | length == 1' >/dev/null ||
	    { echo "dispatch.sh: no final update for $pk" >&2; exit 1; }
	echo $((t1 - t0)) >>fin

	# one message to its Jobs
	pk=$(seed 1)
	t0=$(now)
	lb-dispatch -1 -w 1 2>>dispatch.log
	t1=$(now)
	echo $((t1 - t0)) >>one

	# throughput
	seed "$subs" >pks
	want=$((subs * 5))
	k8s -X DELETE "$LB_K8S_ENDPOINT/_emu/requests" >/dev/null
	t0=$(now)
	lb-dispatch -w 1 2>>dispatch.log &
	dp=$!
	i=0
	while [ "$(jobs_created)" -lt $want ] && [ $i -lt 600 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	c=$(jobs_created)
	t1=$(last_created)
	kill -TERM $dp
	wait $dp
	[ "$c" -eq $want ] ||
	    { echo "dispatch.sh: $c Jobs created, wanted $want" >&2; exit 1; }
	echo "$subs $((t1 - t0))" >>rate

	# the ceiling: what lb-dispatch sent per submission, by curl
	sh "$LB_TOP/tests/bench/dispatch-ceiling.sh" "$subs" >>ceil || exit 1
	lb-local stop >/dev/null 2>&1
	r=$((r + 1))
done

$PY - "$subs" <<'PY'
import statistics, sys
subs = int(sys.argv[1])
def rows(f, conv):
    return [conv(l.split()) for l in open(f) if l.strip()]
rate = rows("rate", lambda w: int(w[0]) / (int(w[1]) / 1e9))
ceil = rows("ceil", lambda w: int(w[0]) / (int(w[1]) / 1e9))
one = rows("one", lambda w: int(w[0]) / 1e6)
fin = rows("fin", lambda w: int(w[0]) / 1e6)
m = statistics.median
def f(v, u=""):
    return "%.1f%s (%.1f-%.1f)" % (m(v), u, min(v), max(v))
print("| lb-dispatch throughput, %d queued submissions to their 5 Jobs each "
      "(submissions/s, higher is better) | %s | | curl, the same requests "
      "8 at once %s | lb/ceiling %.2f |" % (subs, f(rate, "/s"), f(ceil, "/s"),
                                            m(rate) / m(ceil)))
print("| lb-dispatch, one message to its 5 created Jobs (lb-dispatch -1) "
      "| %s | | | |" % f(one))
print("| lb-reconcile, a finished submission to its final EvalAI update "
      "(one pass) | %s | | | |" % f(fin))
PY
