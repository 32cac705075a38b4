#!/bin/sh
# 9200-resume.t: EvalAI's resume on the local stack.  A submission whose
# agent fails for good on its fourth route ends FAILED with three routes
# in S3; the host resumes it (EvalAI status "resuming", the message
# published again); the new worker starts from that checkpoint, runs only
# the two routes left, and the submission ends FINISHED with all five.
# Checked with the aws CLI (S3, DynamoDB), EvalAI's record of updates and
# the agent's own log as the uploader left it in S3.
. "${0%/*}/lib.sh"
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
command -v kubectl >/dev/null 2>&1 || skip_all "kubectl not installed"
plan 20
. "$top/tests/stack.sh"

export LB_PENDING_TIMEOUT=60 LB_CLAIM_SECONDS=600

settle() {
	i=0
	while [ $i -lt 120 ]; do
		lb-reconcile 2>>reconcile.log || true
		case $(status "$1") in FINISHED|FAILED|CANCELLED) return 0 ;; esac
		sleep 1
		i=$((i + 1))
	done
	return 1
}
get() { awsq s3 cp "s3://$LB_S3_BUCKET/$1/$2" "$3" >/dev/null; }

printf '{"team_id":"101","track_codename":"SENSORS"}\n' |
    lb-ddb-put -t "$LB_QUALIFIER_TABLE" >/dev/null

# 1. the first run: one worker, routes 0-4; the agent crashes on route 3
# on every attempt, so the Job runs out of retries
setenv FAKE_ROUTE_SECONDS=0.5 FAKE_FAIL_FROM_ROUTE=3
curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions" -H 'Content-Type: application/json' \
    -d '{"phase": 2352, "participant_team": 101, "submitted_image_uri": "local/fake-agent:1"}' >sub.json
a=$(jq -r '.submission.id' sub.json)
jq -c '.message | fromjson' sub.json | lb-sqs-send -q "$LB_QUEUE_URL" >/dev/null
lb-dispatch -1 -w 1 2>dispatch.log
settle "$a"
row "$a" | jq -r '"# reason: \(.reason.S // "")"'
[ "$(status "$a")" = FAILED ]; ok 'the first run ends FAILED' $?
[ "$(evalai_status "$a")" = failed ]; ok 'EvalAI shows failed' $?
get "$a" agent/partial_agent_results1.json first.json
jq -c '._checkpoint.records | map(.route_id)' first.json >first.ids
echo "# routes done in the first run: $(cat first.ids)"
[ "$(cat first.ids)" = '["RouteScenario_0_rep0","RouteScenario_1_rep0","RouteScenario_2_rep0"]' ]
ok 'S3 has the three routes done before the crash' $?
awsq s3 ls "s3://$LB_S3_BUCKET/$a/containers-status/" >markers1.txt
grep -q 'agent-1.crash' markers1.txt; ok 'and the crash markers' $?

# 2. the host resumes it: status resuming, the message published again
setenv FAKE_FAIL_FROM_ROUTE=
curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions/$a/resume" >resume.json
[ "$(evalai_status "$a")" = resuming ]; ok 'EvalAI shows resuming' $?
jq -r '.message' resume.json | lb-sqs-send -q "$LB_QUEUE_URL" >/dev/null
# the dispatcher dies after clearing the old markers, then after opening
# the row again (before any Job); a reconciler runs meanwhile; the
# message comes back each time (visibility 2 s)
r1=0 r2=0
LB_TEST_KILL_AT=clear lb-dispatch -1 -n 1 -w 1 -V 2 2>>dispatch.log || r1=$?
sleep 3
LB_TEST_KILL_AT=reopen lb-dispatch -1 -n 1 -w 5 -V 2 2>>dispatch.log || r2=$?
echo "# exit statuses $r1 $r2"
[ $r1 -eq 137 ] && [ $r2 -eq 137 ]
ok 'the dispatcher was killed after clearing the markers and after reopening' $?
lb-reconcile 2>>reconcile.log || true
[ "$(status "$a")" = SUBMITTED ]
ok 'a reconciler leaves the reopened row without Jobs alone' $?
sleep 3
lb-dispatch -1 -n 1 -w 5 2>>dispatch.log
[ "$(grep -c "submission $a: Jobs created (1 workers)" dispatch.log)" -eq 2 ]
ok 'the resumed submission gets its Jobs again' $?
case $(status "$a") in SUBMITTED|RUNNING) r=0 ;; *) r=1 ;; esac
ok 'its DynamoDB row is open again' $r
settle "$a"
[ "$(status "$a")" = FINISHED ]; ok 'the resumed run ends FINISHED' $?
[ "$(evalai_status "$a")" = finished ]; ok 'EvalAI shows finished' $?
curl -sf "$LB_EVALAI_URL/_emu/submissions/$a/updates" >updates.json
jq -r '[.final[] | (.body.status // .status // "?")] | join(" ")' updates.json >finals.txt
echo "# final updates: $(cat finals.txt)"
[ "$(jq '.final | length' updates.json)" -eq 2 ]
ok 'one final update per run' $?
[ "$(jobs_left "$a")" -eq 0 ]; ok 'no Job is left' $?

# 3. only the unfinished routes ran again
get "$a" agent/partial_agent_results1.json second.json
[ "$(jq '._checkpoint.records | length' second.json)" -eq 5 ]
ok 'the checkpoint has all five routes' $?
jq -c '._checkpoint.records[0:3]' first.json >a.json
jq -c '._checkpoint.records[0:3]' second.json >b.json
expect_same 'the three routes of the first run are kept as they were' a.json b.json
jq -r '._checkpoint.records | map(.route_id) | join(" ")' second.json >ids.txt
[ "$(cat ids.txt)" = 'RouteScenario_0_rep0 RouteScenario_1_rep0 RouteScenario_2_rep0 RouteScenario_3_rep0 RouteScenario_4_rep0' ]
ok 'in route order, each once' $?
get "$a" logs/agent-1.log agent.log
sed 's/^/# /' agent.log | tail -n 12
expect_grep 'the resumed agent started from the checkpoint' \
    'resuming from 3 finished routes' agent.log
bad=0
for r in 0 1 2 3 4; do
	c=$(grep -c "route $r done" agent.log)
	[ "$c" -eq 1 ] || { echo "# route $r done $c times"; bad=1; }
done
ok 'every route was driven to its end exactly once over both runs' $bad
get "$a" evalai/merged.json merged.json 2>/dev/null ||
    get "$a" evalai/results.json merged.json
jq -e '._checkpoint.progress == [5, 5] or (._checkpoint.records | length) == 5' \
    merged.json >/dev/null
ok 'the final merge has all five routes' $?
awsq s3 ls "s3://$LB_S3_BUCKET/$a/containers-status/" >markers2.txt
expect_nogrep 'the markers of the failed run are gone' 'crash' markers2.txt
