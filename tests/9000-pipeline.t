#!/bin/sh
# 9000-pipeline.t: whole submissions through lb-dispatch and lb-reconcile
# on the local stack (moto, the EvalAI and Kubernetes emulators, fake
# simulator and agent containers), checked through EvalAI's record of
# updates, the aws CLI and kubectl.
. "${0%/*}/lib.sh"
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
plan 29
. "$top/tests/stack.sh"

export LB_PENDING_TIMEOUT=6 LB_CANCEL_GRACE=20 LB_CLAIM_SECONDS=600

# submit TEAM [IMAGE]: make a submission in EvalAI, queue its message;
# prints the pk
submit() {
	curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions" \
	    -H 'Content-Type: application/json' \
	    -d "{\"phase\": 2350, \"participant_team\": $1, \"submitted_image_uri\": \"${2:-local/fake-agent:1}\"}" >sub.json
	jq -c '.message | fromjson' sub.json | lb-sqs-send -q "$LB_QUEUE_URL" >/dev/null
	jq -r '.submission.id' sub.json
}

# settle PK...: run lb-reconcile until every submission is over (90 s)
settle() {
	i=0
	while [ $i -lt 45 ]; do
		lb-reconcile 2>>reconcile.log || true
		left=0
		for pk in "$@"; do
			case $(status "$pk") in
			FINISHED|FAILED|CANCELLED) ;;
			*) left=1 ;;
			esac
		done
		[ $left -eq 0 ] && return 0
		sleep 2
		i=$((i + 1))
	done
	return 1
}

# the team passed the qualifier of the SENSORS track
printf '{"team_id":"101","track_codename":"SENSORS"}\n' |
    lb-ddb-put -t "$LB_QUALIFIER_TABLE" >/dev/null

# 1. the happy path: four workers, FINISHED everywhere
setenv FAKE_ROUTE_SECONDS=0.3 FAKE_CRASH_ROUTE= FAKE_FAIL_ALWAYS=
a=$(submit 101)
lb-dispatch -1 -w 1 2>dispatch.log
expect_grep 'dispatch created the Jobs' "submission $a: Jobs created (4 workers)" dispatch.log
[ "$(kc get jobs -o name | grep -c "$a")" -eq 5 ]
ok 'kubectl sees 4 worker Jobs and a monitor' $?
settle "$a"
ok 'the submission ends' $?
[ "$(status "$a")" = FINISHED ]; ok 'DynamoDB row FINISHED' $?
[ "$(evalai_status "$a")" = finished ]; ok 'EvalAI shows finished' $?
[ "$(finals "$a")" -eq 1 ]; ok 'exactly one final update reached EvalAI' $?
curl -sf "$LB_EVALAI_URL/_emu/leaderboard?challenge=1&phase=2350" |
    jq -e --arg s "$a" 'map(select((.submission|tostring) == $s)) | length == 1' >/dev/null
ok 'one leaderboard row for it' $?
awsq s3 ls --recursive "s3://$LB_S3_BUCKET/$a/" >s3.txt
miss=0; for k in containers-status/monitor.done containers-status/agent-4.done \
    containers-status/simulator-4.done containers-status/uploader-4.done \
    agent/partial_agent_results1.json agent/partial_agent_results4.json \
    evalai/results.json evalai/stdout.txt evalai/metadata.json; do
	grep -q "$a/$k\$" s3.txt || { echo "# missing $k"; miss=1; }
done
ok 'S3 has the reference layout' $miss
row "$a" | jq -e '.unfinished == null and .end_time.S != "-"' >/dev/null
ok 'the row left the unfinished index and has an end time' $?
[ "$(jobs_left "$a")" -eq 0 ]; ok 'no Job is left' $?

# 2. an agent crash on one route: the pod restarts and resumes
setenv FAKE_CRASH_ROUTE=7
b=$(submit 101)
lb-dispatch -1 -w 1 2>>dispatch.log
settle "$b"
[ "$(status "$b")" = FINISHED ]; ok 'a crash and a resume still finish' $?
awsq s3 cp "s3://$LB_S3_BUCKET/$b/agent/partial_agent_results2.json" p2.json >/dev/null
[ "$(jq '._checkpoint.records | length' p2.json)" -eq 5 ]
ok 'the crashed worker has all its routes' $?
awsq s3 ls "s3://$LB_S3_BUCKET/$b/containers-status/" | grep -q 'agent-2.crash0'
ok 'its crash marker is in S3' $?

# 3. a worker that fails for good: FAILED with the reason, no Job left
setenv FAKE_CRASH_ROUTE= FAKE_FAIL_ALWAYS=1
c=$(submit 101)
lb-dispatch -1 -w 1 2>>dispatch.log
settle "$c"
[ "$(status "$c")" = FAILED ]; ok 'a failing worker makes the submission FAILED' $?
[ "$(evalai_status "$c")" = failed ]; ok 'EvalAI shows failed' $?
curl -sf "$LB_EVALAI_URL/_emu/submissions/$c" | jq -r '.stderr // .stderr_file // ""' >stderr.txt
[ "$(jobs_left "$c")" -eq 0 ]; ok 'no Job is left after a failure' $?
setenv FAKE_FAIL_ALWAYS=

# 4. an image that cannot be pulled: stuck, FAILED within the pending limit
d=$(submit 101 local/missing-agent:1)
lb-dispatch -1 -w 1 2>>dispatch.log
settle "$d"
[ "$(status "$d")" = FAILED ]; ok 'a stuck pod makes the submission FAILED' $?
row "$d" | jq -r '.reason.S // ""' >reason.txt
sed 's/^/# reason: /' reason.txt
grep -qi 'pull\|stuck\|pending' reason.txt
ok 'the reason names the image pull' $?
[ "$(jobs_left "$d")" -eq 0 ]; ok 'no Job is left after a stuck pod' $?

# 5. the participant cancels mid-run
setenv FAKE_ROUTE_SECONDS=2
e=$(submit 101)
lb-dispatch -1 -w 1 2>>dispatch.log
sleep 4
curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions/$e/cancel" >/dev/null
settle "$e"
[ "$(status "$e")" = CANCELLED ]; ok 'a cancel ends as CANCELLED' $?
[ "$(evalai_status "$e")" = cancelled ]; ok 'EvalAI still shows cancelled' $?
[ "$(jobs_left "$e")" -eq 0 ]; ok 'no Job is left after a cancel' $?
setenv FAKE_ROUTE_SECONDS=0.3

# 6. the same message twice, two dispatchers at once
f=$(submit 101)
curl -sf "$LB_EVALAI_URL/_emu/submissions/$f/message" | lb-sqs-send -q "$LB_QUEUE_URL" >/dev/null
lb-dispatch -1 -w 1 2>d1.log & p1=$!
lb-dispatch -1 -w 1 2>d2.log & p2=$!
wait $p1 $p2
lb-dispatch -1 -w 1 2>>dispatch.log
[ "$(kc get jobs -o name | grep -c "$f")" -eq 5 ]
ok 'one set of Jobs for a duplicated message' $?
settle "$f"
[ "$(finals "$f")" -eq 1 ]; ok 'one final update for a duplicated message' $?

# 8. malformed messages among good ones
printf '%s\n' 'not json' '{"challenge_pk": 1}' >bad.txt
while read -r l; do
	aws --endpoint-url "$AWS_ENDPOINT_URL" sqs send-message \
	    --queue-url "$LB_QUEUE_URL" --message-body "$l" >/dev/null
done <bad.txt
g=$(submit 101)
lb-dispatch -1 -w 1 2>>dispatch.log
settle "$g"
[ "$(status "$g")" = FINISHED ]; ok 'a good message among bad ones finishes' $?
[ "$(wc -l <"$LB_STATE_DIR/bad-messages.jsonl")" -ge 2 ]
ok 'the bad messages are kept in bad-messages.jsonl' $?
[ "$(awsq sqs get-queue-attributes --queue-url "$LB_QUEUE_URL" --attribute-names ApproximateNumberOfMessagesNotVisible | jq -r '.Attributes.ApproximateNumberOfMessagesNotVisible')" -ge 2 ]
ok 'and left on the queue for its redrive policy' $?

# 10. one submission end to end, blocking, without the queue
h=$(curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions" -H 'Content-Type: application/json' \
    -d '{"phase": 2350, "participant_team": 101, "submitted_image_uri": "local/fake-agent:1", "enqueue": true}' |
    jq -r '.submission.id')
curl -sf "$LB_EVALAI_URL/_emu/submissions/$h/message" >msg.json
lb-run-submission -T 120 msg.json 2>run.log
[ "$(status "$h")" = FINISHED ]; ok 'lb-run-submission runs one submission to FINISHED' $?
[ "$(finals "$h")" -eq 1 ]; ok 'and EvalAI gets one final update' $?
