#!/bin/sh
# 7000-lb-finalize.t: lb-finalize against moto: status from the markers
# put with the aws CLI, the Job-outcome reasons, the EvalAI texts, the
# qualifier row read back with the aws CLI, bad records, S3 and DynamoDB
# faults from faultd, hostile team names.
. "${0%/*}/lib.sh"
plan 121

py=$(python3 -c 'import sys; print(sys.executable)')
PATH=${py%/*}:$PATH
moto_start
awsx s3 mb s3://bkt >/dev/null 2>&1
ok 'bucket made with the aws CLI' $?
mktable() {
	awsx dynamodb create-table --table-name "$1" \
	    --attribute-definitions AttributeName=team_id,AttributeType=S \
	    "AttributeName=$2,AttributeType=S" \
	    --key-schema AttributeName=team_id,KeyType=HASH \
	    "AttributeName=$2,KeyType=RANGE" \
	    --billing-mode PAY_PER_REQUEST >/dev/null
}
mktable qual track_codename && mktable subs submission_id
ok 'tables made with the aws CLI' $?

# mkdoc SUB [PATH=JSON|PATH=DEL ...]: an enriched document (the shape
# lb-submission-enrich writes) for submission SUB, two workers, bucket bkt
mkdoc() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
d["data"]["submission"]["submission_id"]=sys.argv[2]
d["data"]["cluster"]["parallelization_workers"]="2"
d["data"]["aws"]["s3_bucket"]="bkt"
d["data"]["aws"]["dynamodb_qualifier_table"]="qual"
for a in sys.argv[3:]:
    k,v=a.split("=",1)
    o=d; ks=k.split(".")
    for p in ks[:-1]: o=o.setdefault(p,{})
    if v=="DEL": o.pop(ks[-1],None)
    else: o[ks[-1]]=json.loads(v)
print(json.dumps(d))' "$data/enriched-expected.json" "$@"
}
# Everything the tests read from S3 is laid out in tree/ first and put
# into the bucket with one aws CLI call (the CLI is slow to start).
# markers SUB NAME...: empty marker objects under SUB/containers-status/
markers() {
	mkdir -p "tree/$1/containers-status"
	sub=$1
	shift
	for name in "$@"; do : >"tree/$sub/containers-status/$name"; done
}
# done_all W: the names of every done marker for W workers
done_all() {
	echo monitor.done
	k=1
	while [ "$k" -le "$1" ]; do
		echo "agent-$k.done simulator-$k.done uploader-$k.done"
		k=$((k + 1))
	done
}
# evalai SUB: the three EvalAI files, score $2 (default 45.5)
evalai() {
	mkdir -p "tree/$1/evalai"
	printf '[{"split": "leaderboard", "show_to_participant": true, "accuracies": {"Driving score": %s, "Route completion": 90.0, "Infraction penalty": 0.5, "Off-road infractions": 0.1}}]' \
	    "${2:-45.5}" >"tree/$1/evalai/results.json"
	printf 'Driving score | %s\n\xc3\xa9t\xc3\xa9 \xf0\x9f\x9a\x97\n' \
	    "${2:-45.5}" >"tree/$1/evalai/stdout.txt"
	printf '{"global_record": {"Avg. driving score": %s}}' "${2:-45.5}" \
	    >"tree/$1/evalai/metadata.json"
}
# run: lb-finalize on stdin; out, err and the exit status in rc
run() { lb-finalize "$@" >out 2>err; rc=$?; }
j() { jget "$1" out; }
# scan TABLE: the table's items, as the aws CLI reads them, into TABLE.json
scan() {
	awsx dynamodb scan --table-name "$1" --output json >"$1.json" 2>scan.err
}
# row TABLE TEAM RANGE-VALUE ATTR: an attribute of a scanned item, or ""
row() {
	python3 -c 'import json,sys
t,team,rv,a=sys.argv[1:5]
for it in json.load(open(t+".json"))["Items"]:
    if it["team_id"]["S"]==team and rv in [v.get("S") for k,v in it.items() if k!="team_id"]:
        print(it.get(a,{}).get("S",""))
        break
else:
    print("")' "$@"
}

# --- what the containers left in S3 ------------------------------------------
markers 101 $(done_all 2) worker-1.start agent-1.start1
evalai 101
markers 106 $(done_all 1)
evalai 106
markers 102 monitor.done agent-1.done simulator-1.done uploader-1.done \
    agent-2.done simulator-2.done
evalai 102
markers 103 $(done_all 2) simulation-1.cancel
markers 104 simulation.cancel
markers 105 monitor.done agent-1.done simulator-1.done x.done
markers 107 monitor.done agent-1.done simulator-1.done uploader-1.done \
    agent-2.done simulator-2.done uploader-2.done.bak other.cancel
markers 1070
mkdir -p tree/1070/containers-status/sub tree/1070/containers-status-old
: >tree/1070/containers-status/sub/monitor.done
: >tree/1070/containers-status-old/monitor.done
markers 110 monitor.done agent-1.done simulator-1.done uploader-1.done
markers 112 worker-1.start agent-1.start1 simulator-1.start1
markers 113 agent-1.done simulator-1.done uploader-1.done agent-2.crash0 \
    agent-2.crash1 agent-2.crash2 agent-2.crash3 agent-2.crash4 \
    simulator-2.crash0
markers 120 $(done_all 2)
evalai 120 45.5
markers 121 $(done_all 2)
evalai 121 29.99
markers 122 $(done_all 2)
evalai 122 30
markers 123 monitor.done
evalai 123 99
markers 124 $(done_all 2)
evalai 124 50
markers 140 $(done_all 2)
markers 141 monitor.done
markers 142 $(done_all 2)
mkdir -p tree/142/evalai
printf '{"not": "an array"}' >tree/142/evalai/results.json
printf 'bad \377\376 utf-8' >tree/142/evalai/stdout.txt
markers 143 $(done_all 2)
mkdir -p tree/143/evalai
python3 -c 'print("x" * 2000000)' >tree/143/evalai/stdout.txt
printf '[{"accuracies": {"Driving score": 1}}]' >tree/143/evalai/results.json
markers 160 $(done_all 1)
evalai 160
markers 161 $(done_all 1)
evalai 161
markers 5001 $(done_all 2)
evalai 5001 42.5
markers 5004 monitor.done agent-1.done simulator-1.done uploader-1.done \
    agent-2.crash0 agent-2.crash1
evalai 5004 12.5
# hostile team names, one a line
python3 -c 'import sys
sys.stdout.buffer.write("\n".join(["$(touch pwned); `id` | rm -rf / && echo \"x\"",
    "\u00e9quipe \u00e9t\u00e9 \u65e5\u672c \U0001F697", "T" * 300,
    "a\x27b\"c\\\\d\ttab {\"S\": \"x\"}"]).encode() + b"\n")' >teams.txt
i=0
while IFS= read -r team; do
	i=$((i + 1))
	markers $((180 + i)) $(done_all 2)
	evalai $((180 + i)) 88
done <teams.txt
awsx s3 sync tree s3://bkt/ >/dev/null
ok 'markers and EvalAI files put with the aws CLI' $?

# --- usage --------------------------------------------------------------
exec 3>&2 2>usage.err
expect_exit 'unknown option: usage' 2 lb-finalize -x
expect_exit 'an operand: usage' 2 lb-finalize foo
exec 2>&3 3>&-
expect_grep 'usage mirrors the synopsis' \
    '^usage: lb-finalize \[-v\] \[-c config\] \[-r rejects\] \[--no-qualifier-write\]' \
    usage.err
LB_TEST_EVALAI=http://127.0.0.1:9 lb-finalize -c /nonexistent </dev/null \
    >/dev/null 2>err
ok 'unreadable configuration exits 2' $(($? != 2))
[ ! -s out ] || : >out

# --- FINISHED ------------------------------------------------------------
mkdoc 101 >in
run <in
ok 'all markers: exit 0' $rc
expect_same 'one record out' /dev/null err
[ "$(j 'd[0]["update"]["status"]')" = FINISHED ]
ok 'update.status FINISHED' $?
[ "$(j 'd[0]["final"]["status"]')" = FINISHED ]
ok 'final.status FINISHED' $?
j 'd[0]["update"]["result"]' >got
{ cat tree/101/evalai/results.json; echo; } >want
expect_same 'update.result is results.json as it is' want got
j 'd[0]["update"]["stdout"]' >got
{ cat tree/101/evalai/stdout.txt; echo; } >want
expect_same 'update.stdout is stdout.txt (UTF-8 kept)' want got
j 'd[0]["update"]["metadata"]' >got
{ cat tree/101/evalai/metadata.json; echo; } >want
expect_same 'update.metadata is metadata.json' want got
[ "$(j 'd[0]["update"]["stderr"]')" = "" ]
ok 'update.stderr empty, as the reference' $?
[ "$(j 'd[0]["final"]["driving_score"]')" = 45.5 ]
ok 'final.driving_score from results.json, as text' $?
[ "$(j 'json.dumps(d[0]["final"]["results"],sort_keys=True)')" = \
    '{"driving_score": "45.5", "infraction_penalty": "0.5", "off-road_infractions": "0.1", "route_completion": "90.0"}' ]
ok 'final.results: the reference lower_snake keys, str() values' $?
[ "$(j 'json.dumps(d[0]["final"]["markers"],sort_keys=True)')" = \
    '{"cancel": null, "crashes": 0, "done": 7, "expected": 7, "workers": 2}' ]
ok 'final.markers counts 7 of 7' $?
j 'd[0]["final"]["end_time"]' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
ok 'final.end_time is UTC ISO 8601' $?
[ "$(j 'd[0]["data"]["cluster"]["name"]')" = leaderboard-20 ]
ok 'input members passed through' $?
# the row update of the pipeline, read back with the aws CLI
lb-ddb-put -t subs -i final -k team_id,submission_id \
    -s 'submission_status=$.final.status' -s 'end_time=$.final.end_time' \
    -s 'driving_score=$.final.driving_score' <out >/dev/null 2>ddb.err
ok 'lb-ddb-put takes final as it is' $?
scan subs
[ "$(row subs 101 101 submission_status)/$(row subs 101 101 driving_score)" = FINISHED/45.5 ]
ok 'the submission row holds the status and score (aws CLI)' $?

# 4 workers on a 1-route track: one worker runs, 4 markers expected
mkdoc 106 'data.cluster.parallelization_workers=4' 'data.submission.routes=1' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["status"]')" = FINISHED ] &&
    [ "$(j 'd[0]["final"]["markers"]["expected"]')" = 4 ]
ok 'workers capped by routes as lb-submission-split does' $?
# numbers instead of strings are accepted
mkdoc 106 'data.cluster.parallelization_workers=1' \
    'data.submission.submission_id=106' 'data.submission.challenge_id=17' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["status"]')" = FINISHED ]
ok 'whole numbers accepted for ids and counts' $?

# --- FAILED and CANCELLED --------------------------------------------------
mkdoc 102 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = FAILED ]
ok 'one marker missing: FAILED' $?
[ "$(j 'd[0]["update"]["stderr"]')" = \
    'The submission failed: worker 2 did not finish.' ]
ok 'stderr says which worker' $?
[ "$(j 'd[0]["final"]["reason"]')" = 'worker 2 did not finish' ]
ok 'final.reason says the same' $?
[ "$(j 'd[0]["final"]["markers"]["done"]')" = 6 ]
ok '6 of 7 counted' $?
[ -n "$(j 'd[0]["update"]["result"]')" ]
ok 'the partial result is still sent' $?

mkdoc 103 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = CANCELLED ] &&
    [ "$(j 'd[0]["final"]["markers"]["cancel"]')" = simulation-1.cancel ]
ok 'a worker cancel marker wins over all done: CANCELLED' $?
[ "$(j 'd[0]["update"]["stderr"]')" = "" ]
ok 'no failure text for a cancel' $?
mkdoc 104 >in
run <in
[ "$(j 'd[0]["update"]["status"]')" = CANCELLED ]
ok 'simulation.cancel: CANCELLED' $?

# names, not extensions: 4 .done files for one worker, one of them stray
mkdoc 105 'data.cluster.parallelization_workers=1' >in
run <in
[ "$(j 'd[0]["update"]["status"]')" = FAILED ] &&
    [ "$(j 'd[0]["final"]["markers"]["done"]')" = 3 ]
ok 'a stray x.done does not make it FINISHED' $?
mkdoc 107 >in
run <in
[ "$(j 'd[0]["update"]["status"]')" = FAILED ]
ok 'uploader-2.done.bak and other.cancel count for nothing' $?
mkdoc 1070 'data.cluster.parallelization_workers=1' >in
run <in
[ "$(j 'd[0]["final"]["markers"]["done"]')" = 0 ]
ok 'keys in sub-folders and next to the folder do not count' $?

# --- the Job outcome ---------------------------------------------------------
mkdoc 110 'k8s={"state":"failed","reason":"BackoffLimitExceeded","jobs":[{"job":"team-101-sensors-110-worker1","role":"worker","state":"complete","succeeded":1,"failed":0},{"job":"team-101-sensors-110-worker2","role":"worker","state":"failed","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit; AWS_SECRET_ACCESS_KEY=leak","failed":4,"succeeded":0}]}' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["stderr"]')" = \
    'The submission failed: worker 2 failed after 4 attempts (BackoffLimitExceeded); worker 2 never reported back.' ]
ok 'failed Job: worker and attempts in stderr' $?
j 'd[0]["update"]' >got
j 'd[0]["final"]' >>got
expect_nogrep 'no message text of the outcome in update or final' 'leak' got
expect_nogrep 'the Job message is not sent to EvalAI' 'backoff limit' got

mkdoc 111 'k8s={"state":"stuck","jobs":[{"job":"t-111-worker1","role":"worker","state":"stuck","reason":"ImagePullBackOff","container":"agent","seconds":900,"message":"Back-off pulling image \"123.dkr.ecr/x:secret\""},{"job":"t-111-worker2","role":"worker","state":"running"}]}' >in
run <in
[ "$(j 'd[0]["update"]["stderr"]')" = \
    'The submission failed: the agent image of worker 1 could not be pulled (ImagePullBackOff) for 900 s; no part of the evaluation reported back.' ]
ok 'stuck pod: the image, the reason and how long' $?
j 'd[0]["update"]' >got
expect_nogrep 'no image reference in the texts' 'dkr.ecr' got

mkdoc 112 'k8s={"state":"deleted","jobs":[{"job":"a-worker1","state":"deleted"},{"job":"a-worker2","state":"deleted"},{"job":"a-monitor","role":"monitor","state":"deleted"}]}' >in
run <in
[ "$(j 'd[0]["update"]["stderr"]')" = \
    'The submission failed: the Jobs were deleted before the submission finished; worker 1 did not finish; worker 2 never reported back; the monitor did not finish.' ]
ok 'deleted Jobs said once, then the markers' $?

mkdoc 113 'k8s={"state":"failed","reason":"DeadlineExceeded"}' >in
run <in
[ "$(j 'd[0]["final"]["reason"]')" = \
    "a Job ran out of its time limit (DeadlineExceeded); worker 2's agent crashed 5 times; worker 2's simulator crashed 1 time; worker 2 did not finish; the monitor did not finish" ]
ok 'crash markers counted per container' $?
[ "$(j 'd[0]["final"]["markers"]["crashes"]')" = 6 ]
ok 'final.markers.crashes' $?

mkdoc 114 'k8s={"state":7,"jobs":"x","reason":{"a":1}}' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["reason"]')" = \
    'no part of the evaluation reported back' ]
ok 'a k8s member of odd types is taken gracefully' $?
mkdoc 114 'k8s={}' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = FAILED ]
ok 'an empty k8s member' $?
mkdoc 114 'k8s={"state":"running"}' >in
run <in
[ "$(j 'd[0]["final"]["reason"]')" = \
    'the evaluation was stopped while it was still running; no part of the evaluation reported back' ]
ok 'still running when finalised' $?

# --- the qualifier -----------------------------------------------------------
Q='data.qualifier={"is_qualifying":"1","qualifying_to":"SENSORS","threshold_map":{"SENSORS":"30"}}'
QT='data.submission.track_codename="SENSORS_QUALIFIER"'
mkdoc 120 "$Q" "$QT" 'data.submission.team_id="q1"' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["qualifier"]["written"]')" = true ]
ok 'qualifier pass: exit 0, written' $?
j 'd[0]["update"]["stdout"]' >got
expect_grep 'the participant is told in stdout' \
    'qualified for the SENSORS track (driving score 45.5, needed 30)' got
expect_grep 'after the stdout.txt text' '^Driving score | 45.5' got

mkdoc 121 "$Q" "$QT" 'data.submission.team_id="q2"' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["qualifier"]["passed"]')" = false ]
ok 'qualifier fail: not passed' $?
j 'd[0]["update"]["stdout"]' >got
expect_grep 'the participant is told why' \
    'not qualified for the SENSORS track yet: the driving score 29.99 is below the 30 needed' got
[ "$(j 'd[0]["update"]["status"]')" = FINISHED ]
ok 'still FINISHED' $?

mkdoc 122 "$Q" "$QT" 'data.submission.team_id="q3"' >in
run --no-qualifier-write <in
[ "$(j 'd[0]["final"]["qualifier"]["passed"]')/$(j 'd[0]["final"]["qualifier"]["written"]')" = true/false ]
ok '--no-qualifier-write: passed (30 >= 30) but not written' $?

# the threshold of the qualifier track itself, as lb.yaml(5) shows
mkdoc 122 'data.qualifier={"is_qualifying":"1","qualifying_to":"SENSORS","threshold_map":{"SENSORS_QUALIFIER":"31"}}' \
    "$QT" 'data.submission.team_id="q4"' >in
run <in
[ "$(j 'd[0]["final"]["qualifier"]["threshold"]')/$(j 'd[0]["final"]["qualifier"]["passed"]')" = 31/false ]
ok 'threshold of the qualifier track when the target has none' $?
# a qualifier track that failed writes nothing
mkdoc 123 "$Q" "$QT" 'data.submission.team_id="q5"' >in
run <in
mkdoc 120 'data.qualifier={"is_qualifying":"1","qualifying_to":"SENSORS","threshold_map":{"SENSORS":"high"}}' \
    "$QT" >in
run <in
[ $rc -eq 1 ] && [ ! -s out ]
ok 'a threshold that is no number: record refused' $?
expect_grep 'and named' 'threshold_map.SENSORS is not a number' err
mkdoc 120 "$Q" "$QT" 'data.submission.team_id=""' >in
run <in
[ $rc -eq 1 ] && grep -q 'no team_id for the qualifier row' err
ok 'no team_id: no row, record refused' $?
mkdoc 120 "$Q" "$QT" 'data.aws.dynamodb_qualifier_table="nosuchtable"' >in
run <in
[ $rc -eq 1 ] && grep -q 'ResourceNotFoundException' err && [ ! -s out ]
ok 'unknown qualifier table: exit 1, named' $?

# --- not allowed ------------------------------------------------------------
mkdoc 130 'is_allowed=false' \
    'reason="the team has not passed the SENSORS_QUALIFIER qualifier needed for track SENSORS"' \
    'data.aws.s3_bucket="no-such-bucket"' >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = FAILED ]
ok 'not allowed: FAILED without touching S3' $?
[ "$(j 'd[0]["update"]["stderr"]')" = \
    'This submission was not run: the team has not passed the SENSORS_QUALIFIER qualifier needed for track SENSORS.' ]
ok 'not allowed: the reason for the participant' $?
mkdoc 130 'is_allowed=false' 'data.cluster.parallelization_workers=DEL' >in
run <in
[ "$(j 'd[0]["update"]["stderr"]')" = \
    'You are not allowed to submit to this track. Please, run the qualifier track first.' ]
ok "not allowed without a reason: the reference's sentence" $?

# --- EvalAI files ------------------------------------------------------------
mkdoc 140 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = FAILED ]
ok 'all markers but no results.json: FAILED (EvalAI refuses FINISHED)' $?
[ "$(j 'd[0]["update"]["result"]+d[0]["update"]["stdout"]+d[0]["update"]["metadata"]')" = "" ]
ok 'missing files are empty texts' $?
expect_grep 'and the participant is told' \
    'the evaluation ended but its results could not be read' out
mkdoc 141 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["metadata"]')" = "" ]
ok 'FAILED without files: exit 0' $?
mkdoc 142 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["update"]["status"]')" = FAILED ] &&
    [ "$(j 'd[0]["update"]["result"]')" = '{"not": "an array"}' ]
ok 'malformed results.json: FAILED, the text still sent' $?
[ "$(j 'd[0]["update"]["stdout"]')" = "" ]
ok 'stdout.txt that is not UTF-8 is sent empty' $?
expect_grep 'with a warning' 'stdin:1: submission 142: 142/evalai/stdout.txt is not UTF-8' err
# a big stdout.txt goes through whole
mkdoc 143 >in
run <in
[ $rc -eq 0 ] && [ "$(j 'len(d[0]["update"]["stdout"])')" = 2000001 ] &&
    [ "$(j 'd[0]["final"]["driving_score"]')" = 1 ]
ok 'a 2 MB stdout.txt is passed whole' $?

# --- bad records --------------------------------------------------------------
{
	echo 'not json'
	echo '[1,2]'
	echo '{"is_allowed": true}'
	mkdoc 150 'data.cluster.parallelization_workers=DEL'
	mkdoc 150 'data.cluster.parallelization_workers="0"'
	mkdoc 150 'data.cluster.parallelization_workers="abc"'
	mkdoc 150 'data.cluster.parallelization_workers="1001"'
	mkdoc 150 'data.submission.submission_id="../150"'
	mkdoc 150 'data.submission.submission_id=DEL'
	mkdoc 150 'data.submission.challenge_id=[1]'
	mkdoc 150 'is_allowed="yes"'
	mkdoc 150 'is_eligible=false' 'reason="submission 150 is FINISHED in EvalAI"'
	mkdoc 150 'k8s="failed"'
	mkdoc 150 'data.aws.s3_bucket=DEL'
	mkdoc 150 'data.aws.s3_bucket=""'
	mkdoc 150 'data.submission.team_id=1.5'
	mkdoc 150 'data=[]'
	mkdoc 101
} >in
run -r rej <in
[ $rc -eq 1 ]
ok 'bad records: exit 1' $?
[ "$(wc -l <out)" -eq 1 ] && [ "$(j 'd[0]["final"]["submission_id"]')" = 101 ]
ok 'the good record among them is written' $?
[ "$(wc -l <err)" -eq 17 ]
ok 'one message per bad record' $?
head -n 17 in >want
expect_same 'rejects hold the bad records unchanged' want rej
expect_grep 'line numbers' '^lb-finalize: stdin:1: ' err
expect_grep 'missing workers named' \
    'stdin:4: data.cluster.parallelization_workers is missing' err
expect_grep 'workers range' \
    'stdin:5: data.cluster.parallelization_workers must be a whole number from 1 to 1000' err
expect_grep 'a path in the id refused' \
    'stdin:8: data.submission.submission_id must be a whole number' err
expect_grep 'is_allowed type' 'stdin:11: is_allowed must be true or false' err
expect_grep 'not eligible' 'stdin:12: not eligible, nothing to finalise: submission 150 is FINISHED' err
expect_grep 'no data' 'stdin:17: no "data" object' err
[ -z "$(awsx s3 ls s3://bkt/ | grep -F '..')" ]
ok 'nothing was read or made outside the bucket prefix' $?
run </dev/null
[ $rc -eq 0 ] && [ ! -s out ]
ok 'empty input: exit 0, nothing out' $?
python3 -c 'print("{\"a\": \"" + "y" * 17000000 + "\"}")' >in
run <in
[ $rc -eq 1 ] && [ ! -s out ]
ok 'a record over the 16 MiB cap is refused' $?

# --- the configuration ---------------------------------------------------------
mkdoc 160 'data.cluster.parallelization_workers=1' 'data.aws=DEL' >in
sed 's/lb-test-bucket/bkt/' "$data/lb-test.yaml" >lb.yaml
LB_TEST_EVALAI=http://127.0.0.1:9 run -c lb.yaml <in
[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["status"]')" = FINISHED ]
ok '-c: the bucket of the cluster named by data.cluster.id' $?
run <in
[ $rc -eq 1 ] && grep -q 'data.aws.s3_bucket must be a non-empty string' err
ok 'without -c that record has no bucket' $?
# and the qualifier rules of the cluster when the record has none
mkdoc 161 'data.cluster.parallelization_workers=1' 'data.aws=DEL' \
    'data.qualifier=DEL' 'data.submission.track_codename="SENSORS_QUALIFIER"' \
    'data.submission.team_id="q7"' >in
LB_TEST_EVALAI=http://127.0.0.1:9 run -c lb.yaml --no-qualifier-write <in
[ $rc -eq 0 ] &&
    [ "$(j 'd[0]["final"]["qualifier"]["qualifying_to"]+"/"+d[0]["final"]["qualifier"]["threshold"]+"/"+str(d[0]["final"]["qualifier"]["passed"])')" = SENSORS/1.5/True ]
ok '-c: the qualifier map and thresholds of the cluster' $?

# --- unknown bucket, faults ------------------------------------------------------
mkdoc 170 'data.aws.s3_bucket="no-such-bucket-here"' >in
run <in
[ $rc -eq 1 ] && [ ! -s out ]
ok 'unknown bucket: exit 1, no record' $?
expect_grep 'the message names the bucket and the code' \
    's3://no-such-bucket-here/170/containers-status/: .*NoSuchBucket' err

faultd_start 503
mkdoc 101 >in
AWS_ENDPOINT_URL_S3=$FAULTD_URL run <in
[ $rc -eq 75 ] && [ ! -s out ]
ok 'S3 answering 503: exit 75, no record' $?
[ "$(wc -l <"$FAULTD_LOG")" -eq 5 ]
ok 'five attempts' $?
expect_grep 'the record is named' 'stdin:1: s3://bkt/101/containers-status/' err
curl -s -X POST --data-binary reset "$FAULTD_URL/_faultd/script" >/dev/null
AWS_ENDPOINT_URL_S3=$FAULTD_URL run <in
[ $rc -eq 75 ] && [ ! -s out ]
ok 'S3 dropping connections: exit 75' $?
curl -s -X POST --data-binary 403 "$FAULTD_URL/_faultd/script" >/dev/null
AWS_ENDPOINT_URL_S3=$FAULTD_URL run <in
[ $rc -eq 1 ] && [ ! -s out ]
ok 'S3 answering 403: exit 1' $?
{ mkdoc 101; mkdoc 102; } >in
curl -s -X POST --data-binary 500 "$FAULTD_URL/_faultd/script" >/dev/null
AWS_ENDPOINT_URL_DYNAMODB=$FAULTD_URL run <in
[ $rc -eq 0 ] && [ "$(wc -l <out)" -eq 2 ]
ok 'DynamoDB down does not matter without a qualifier row' $?
mkdoc 124 "$Q" "$QT" 'data.submission.team_id="q6"' >in
AWS_ENDPOINT_URL_DYNAMODB=$FAULTD_URL run <in
[ $rc -eq 75 ] && [ ! -s out ]
ok 'qualifier write failing with 500: exit 75, no record' $?
{ mkdoc 101; echo '{}'; } >in
AWS_ENDPOINT_URL_S3=$FAULTD_URL run <in
[ $rc -eq 1 ]
ok 'temporary and permanent failures together: exit 1' $?

# --- no credentials: stop at once -------------------------------------------------
{ mkdoc 101; mkdoc 102; } >in
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY lb-finalize <in >out 2>err
[ $? -eq 2 ] && [ ! -s out ] && [ "$(wc -l <err)" -eq 1 ]
ok 'no AWS credentials: exit 2 after the first record, one message' $?

# --- tracing never shows the secret --------------------------------------------
mkdoc 101 >in
AWS_SECRET_ACCESS_KEY=Sup3rSecretValue9 run -v <in
[ $rc -eq 0 ] && grep -q 'GET' err
ok '-v traces the requests' $?
expect_nogrep 'no secret key in the trace' 'Sup3rSecretValue9' err
expect_nogrep 'no secret key in the output' 'Sup3rSecretValue9' out

# --- into lb-evalai-post, against the EvalAI emulator ----------------------------
if [ -f "$top/tests/emulators/evalai.py" ] && command -v flock >/dev/null 2>&1
then
	"$py" "$top/tests/emulators/evalai.py" --port 0 \
	    --seed "$data/evalai-tools-seed.json" >emu.url 2>emu.log &
	srv_started $!
	i=0
	while [ ! -s emu.url ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	EMU=$(head -n 1 emu.url)
	wait_url "$EMU/_emu/health" "$!"
	ok 'EvalAI emulator started' $?
	ev=$(python3 -c 'import json,sys; print(json.dumps({"api_server": sys.argv[1]}))' "$EMU")
	{ mkdoc 5001 "data.evalai=$ev"; mkdoc 5004 "data.evalai=$ev"; } >in
	run <in
	LB_EVALAI_TOKEN=host-token-0001 LB_LOCK_DIR=$scratch/locks \
	    lb-evalai-post <out >posted 2>post.err
	ok 'lb-evalai-post takes both records (exit 0)' $?
	st() {
		curl -s -H "Authorization: Bearer host-token-0001" \
		    "$EMU/api/jobs/submission/$1" | python3 -c \
		    'import json, sys; print(json.load(sys.stdin)["status"])'
	}
	art() {
		u=$(curl -s "$EMU/_emu/submissions/$1" | python3 -c \
		    'import json, sys; print(json.load(sys.stdin)[sys.argv[1]] or "")' "$2")
		[ -n "$u" ] && curl -s "$u"
	}
	[ "$(st 5001)/$(st 5004)" = finished/failed ]
	ok 'EvalAI shows finished and failed (curl)' $?
	art 5004 stderr_file >got
	expect_grep 'the participant reads why it failed' \
	    "worker 2's agent crashed 2 times; worker 2 did not finish" got
	art 5001 stdout_file >got
	expect_grep 'and the stdout of the finished one' '^Driving score | 42.5' got
else
	for i in 1 2 3 4 5; do ok '# SKIP no EvalAI emulator or flock' 0; done
fi

# --- hostile team names --------------------------------------------------------
i=0
while IFS= read -r team; do
	i=$((i + 1))
	tj=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$team")
	mkdoc $((180 + i)) "$Q" "$QT" "data.submission.team_id=$tj" \
	    "data.submission.team_name=$tj" >in
	run <in
	[ $rc -eq 0 ] && [ "$(j 'd[0]["final"]["team_id"]')" = "$team" ]
	ok "hostile team $i: finalised, team_id kept" $?
done <teams.txt
[ ! -e pwned ]
ok 'nothing was run from a team name' $?

# --- the qualifier table, read back with the aws CLI ---------------------------
scan qual
ok 'qualifier table scanned' $?
[ "$(row qual q1 SENSORS submission_id)/$(row qual q1 SENSORS driving_score)" = 120/45.5 ]
ok 'a pass: the row (team_id, track_codename SENSORS) is there' $?
[ -z "$(row qual q2 SENSORS submission_id)" ]
ok 'a fail below the threshold: no row' $?
[ -z "$(row qual q3 SENSORS submission_id)" ]
ok '--no-qualifier-write: no row' $?
[ -z "$(row qual q5 SENSORS submission_id)" ]
ok 'a FAILED qualifier run: no row' $?
[ -z "$(row qual q6 SENSORS submission_id)" ]
ok 'a write that failed left no row' $?
i=0
while IFS= read -r team; do
	i=$((i + 1))
	[ "$(row qual "$team" SENSORS submission_id)" = $((180 + i)) ]
	ok "hostile team $i: its qualifier row under the exact team_id" $?
done <teams.txt
python3 -c 'import json
for it in json.load(open("qual.json"))["Items"]: print(it["team_id"]["S"][:20])' >rows
[ "$(wc -l <rows)" -eq 5 ] || sed 's/^/# row: /' rows
ok "no other qualifier rows" $?
