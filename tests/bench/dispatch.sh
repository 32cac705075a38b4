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
# scripted controller completes them without running anything.  Each
# measurement of a run starts on a fresh stack where it matters.
#   RUNS           runs (default 5, at least 5)
#   DISPATCH_JOBS  lb-dispatch -j (default: its own)
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
	$PY - "$LB_EVALAI_URL" "$1" >msgs <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
body = json.dumps({"phase": 2350, "participant_team": 101,
                   "submitted_image_uri": "bench/agent:1"})
for _ in range(int(sys.argv[2])):
    c.request("POST", "/_emu/submissions", body,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    d = json.loads(r.read())
    if r.status != 200 and r.status != 201:
        sys.exit("seed: %s" % d)
    print(json.dumps(json.loads(d["message"])))
PY
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
	export LB_WORKER_TEMPLATE="$LB_TOP/examples/jobs/worker.yaml"
	export LB_MONITOR_TEMPLATE="$LB_TOP/examples/jobs/monitor.yaml"
	printf '{"team_id":"101","track_codename":"SENSORS"}\n' |
	    lb-ddb-put -t "$LB_QUALIFIER_TABLE" >/dev/null
}

# finished PK: the S3 state a finished 4-worker run leaves
finished() {
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

# ceiling N: N more submissions queued, then per submission the HTTP
# requests lb-dispatch makes for one (counted from the emulators' logs:
# SQS ReceiveMessage; EvalAI GET submission; DynamoDB GetItem of the
# qualifier and of the row, PutItem of the row; 5 Job POSTs; EvalAI GET
# and PATCH running; SQS DeleteMessage) sent by curl, one curl process
# per submission after the receive, 8 submissions at once.  Prints
# "N nanoseconds".  The request bodies are made beforehand, untimed.
ceiling() {
	seed "$1" >/dev/null
	rm -rf cfg
	mkdir cfg
	# the documents lb-dispatch would send, rendered offline
	lb-submission-enrich <msgs 2>/dev/null | jq -c '.row.doc = .data' >c.enr
	lb-submission-split <c.enr | lb-k8s-job render \
	    -f "worker=$LB_WORKER_TEMPLATE" -f "monitor=$LB_MONITOR_TEMPLATE" \
	    >c.jobs
	ktoken=$(sed -n 's/^ *token: *//p' "$KUBECONFIG" | head -n 1)
	$PY - "$LB_EVALAI_URL" "$(cat "$LB_EVALAI_TOKEN_FILE")" \
	    "$AWS_ENDPOINT_URL" "$LB_QUEUE_URL" "$LB_K8S_ENDPOINT" "$ktoken" \
	    "$LB_LOCAL_DIR/k8s-ca.pem" "$LB_SUBMISSIONS_TABLE" \
	    "$LB_QUALIFIER_TABLE" <<'PY'
import json, sys
ev, etok, moto, queue, k8s, ktok, ca, table, qtable = sys.argv[1:]
def av(v):
    if isinstance(v, dict):
        return {"M": {k: av(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"L": [av(x) for x in v]}
    if isinstance(v, bool):
        return {"BOOL": v}
    if isinstance(v, (int, float)):
        return {"N": str(v)}
    return {"S": str(v)}
def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
# every operation after "next" starts from scratch: its own options
def op(f, url, method="GET"):
    f.write("url = %s\nrequest = %s\n" % (q(url), method))
    f.write('silent\nshow-error\nfail\ncacert = %s\n' % q(ca))
def aws(f, svc, target, body, out=True):
    op(f, moto + "/", "POST")
    f.write("header = %s\n" % q("Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/%s/aws4_request, SignedHeaders=host, Signature=0" % svc))
    f.write("header = %s\n" % q("X-Amz-Target: " + target))
    f.write('header = "Content-Type: application/x-amz-json-1.0"\n')
    f.write("data-binary = %s\n" % q(json.dumps(body)))
    if out:
        f.write('output = "/dev/null"\nnext\n')
jobs = {}
for l in open("c.jobs"):
    r = json.loads(l)
    jobs.setdefault(r["submission"]["submission_id"], []).append(r["job"])
with open("cfg/recv.curl", "w") as f:
    aws(f, "sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": queue,
        "MaxNumberOfMessages": 1, "VisibilityTimeout": 300}, False)
for l in open("c.enr"):
    r = json.loads(l)
    sub = r["data"]["submission"]
    pk, ch = sub["submission_id"], sub["challenge_id"]
    with open("cfg/%s.curl" % pk, "w") as f:
        op(f, "%s/api/jobs/submission/%s" % (ev, pk))
        f.write("header = %s\n" % q("Authorization: Bearer " + etok))
        f.write('output = "/dev/null"\nnext\n')
        aws(f, "dynamodb", "DynamoDB_20120810.GetItem", {"TableName": qtable,
            "Key": {"team_id": {"S": "101"}, "track_codename": {"S": "SENSORS"}}})
        aws(f, "dynamodb", "DynamoDB_20120810.GetItem", {"TableName": table,
            "Key": {"team_id": {"S": "101"}, "submission_id": {"S": pk}}})
        aws(f, "dynamodb", "DynamoDB_20120810.PutItem", {"TableName": table,
            "Item": {k: av(v) for k, v in r["row"].items()},
            "ConditionExpression": "attribute_not_exists(team_id)"})
        for j in jobs[pk]:
            op(f, k8s + "/apis/batch/v1/namespaces/default/jobs?fieldManager=lb-k8s-job", "POST")
            f.write("header = %s\n" % q("Authorization: Bearer " + ktok))
            f.write('header = "Content-Type: application/json"\n')
            f.write("data-binary = %s\n" % q(json.dumps(j)))
            f.write('output = "/dev/null"\nnext\n')
        op(f, "%s/api/jobs/submission/%s" % (ev, pk))
        f.write("header = %s\n" % q("Authorization: Bearer " + etok))
        f.write('output = "/dev/null"\nnext\n')
        op(f, "%s/api/jobs/challenge/%s/update_submission/" % (ev, ch), "PATCH")
        f.write("header = %s\n" % q("Authorization: Bearer " + etok))
        f.write('header = "Content-Type: application/json"\n')
        f.write("data-binary = %s\n" % q(json.dumps({"submission": int(pk), "submission_status": "running"})))
        f.write('output = "/dev/null"\nnext\n')
        aws(f, "sqs", "AmazonSQS.DeleteMessage", {"QueueUrl": queue,
            "ReceiptHandle": "@HANDLE@"}, False)
PY
	jq -r '.data.submission.submission_id' c.enr >c.pks
	t0=$(now)
	# shellcheck disable=SC2016
	xargs -P 8 -n 1 sh -c 'h=$(curl -s -K cfg/recv.curl |
	    sed -n "s/.*\"ReceiptHandle\": *\"\([^\"]*\)\".*/\1/p")
	    sed "s|@HANDLE@|$h|" "cfg/$0.curl" | curl -K - >/dev/null' <c.pks
	t1=$(now)
	echo "$1 $((t1 - t0))"
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
	lb-dispatch -w 1 ${DISPATCH_JOBS:+-j "$DISPATCH_JOBS"} 2>>dispatch.log &
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

	# the ceiling: what lb-dispatch sent per submission, by curl, on a
	# fresh stack too (the Kubernetes emulator slows down as Jobs pile up)
	lb-local stop >/dev/null 2>&1
	stack
	ceiling "$subs" >>ceil || exit 1
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
