#!/bin/sh
# 9100-crash.t: lb-dispatch and lb-reconcile killed with SIGKILL after each
# of their steps in turn (the LB_TEST_KILL_AT hook of both scripts), then
# started again: every submission still ends exactly once.  Checked with
# independent clients: the aws CLI (DynamoDB row, queue), the EvalAI
# emulator's record of updates, kubectl and the Kubernetes emulator's
# request log (Job creations).  One worker, five short routes.
. "${0%/*}/lib.sh"
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
command -v kubectl >/dev/null 2>&1 || skip_all "kubectl not installed"

dsteps="receive enrich put split workers monitor running ack"
rsteps="list look claim finalize post delete close"
plan 57
. "$top/tests/stack.sh"

export LB_PENDING_TIMEOUT=60 LB_CANCEL_GRACE=20 LB_CLAIM_SECONDS=2
k8s() { curl -sf --cacert "$LB_LOCAL_DIR/k8s-ca.pem" "$@"; }

# submit: a submission on the qualifier track (one worker, five routes)
# made in EvalAI, its message queued; prints the pk
submit() {
	curl -sf -X POST "$LB_EVALAI_URL/_emu/submissions" \
	    -H 'Content-Type: application/json' \
	    -d '{"phase": 2352, "participant_team": 101, "submitted_image_uri": "local/fake-agent:1"}' >sub.json
	jq -c '.message | fromjson' sub.json | lb-sqs-send -q "$LB_QUEUE_URL" >/dev/null
	jq -r '.submission.id' sub.json
}

terminal() { case $(status "$1") in FINISHED|FAILED|CANCELLED) return 0 ;; esac; return 1; }
# in the queue, visible or not
queued() {
	awsq sqs get-queue-attributes --queue-url "$1" --attribute-names \
	    ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible |
	    jq '.Attributes | (.ApproximateNumberOfMessages | tonumber) +
	    (.ApproximateNumberOfMessagesNotVisible | tonumber)'
}
# Job creations the Kubernetes emulator answered with 201 since the log
# was last cleared
creates() {
	k8s "$LB_K8S_ENDPOINT/_emu/requests" | jq '[.[] |
	    select(.method == "POST" and (.path | test("/jobs([?]|$)")) and
	    .status == 201)] | length'
}

# settle PK...: run lb-reconcile until every submission is over (120 s)
settle() {
	i=0
	while [ $i -lt 120 ]; do
		lb-reconcile 2>>reconcile.log || true
		left=0
		for pk in "$@"; do terminal "$pk" || left=1; done
		[ $left -eq 0 ] && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# ends_once PK WHAT: the submission ended once, everywhere: FINISHED in
# DynamoDB and EvalAI, one final update, out of the unfinished index, no
# Job left
ends_once() {
	bad=""
	[ "$(status "$1")" = FINISHED ] || bad="$bad row:$(status "$1")"
	[ "$(evalai_status "$1")" = finished ] || bad="$bad evalai:$(evalai_status "$1")"
	f=$(finals "$1")
	[ "$f" -eq 1 ] || bad="$bad finals:$f"
	row "$1" | jq -e '.unfinished == null' >/dev/null || bad="$bad unfinished"
	j=$(jobs_left "$1")
	[ "$j" -eq 0 ] || bad="$bad jobs:$j"
	[ -z "$bad" ] || echo "# submission $1:$bad"
	ok "$2: ends once (FINISHED, one final update, no Job left)" \
	    "$([ -z "$bad" ]; echo $?)"
}

printf '{"team_id":"101","track_codename":"SENSORS"}\n' |
    lb-ddb-put -t "$LB_QUALIFIER_TABLE" >/dev/null
setenv FAKE_ROUTE_SECONDS=1 FAKE_CRASH_ROUTE= FAKE_FAIL_ALWAYS=
dlq=$(awsq sqs get-queue-url --queue-name lb-submissions-dlq | jq -r .QueueUrl)

# 1. the dispatcher dies after each step; a reconciler runs while it is
# down; it is started again until the queue is empty
dpks=""
for s in $dsteps; do
	pk=$(submit)
	dpks="$dpks $pk"
	k8s -X DELETE "$LB_K8S_ENDPOINT/_emu/requests" >/dev/null
	rc=0
	LB_TEST_KILL_AT=$s lb-dispatch -1 -n 1 -w 1 -V 2 2>>dispatch.log || rc=$?
	[ $rc -eq 137 ] || echo "# lb-dispatch exited $rc"
	[ $rc -eq 137 ]; ok "dispatch killed after $s" $?
	lb-reconcile 2>>reconcile.log || true
	case $(status "$pk") in
	none|SUBMITTED|RUNNING) ok "$s: a reconciler leaves it being dispatched" 0 ;;
	*) echo "# status $(status "$pk")"; ok "$s: a reconciler leaves it being dispatched" 1 ;;
	esac
	i=0
	while [ "$(queued "$LB_QUEUE_URL")" -gt 0 ] && [ $i -lt 20 ]; do
		lb-dispatch -1 -w 3 2>>dispatch.log || true
		i=$((i + 1))
	done
	[ "$(queued "$LB_QUEUE_URL")" -eq 0 ]
	ok "$s: the message was consumed" $?
	c=$(creates)
	[ "$c" -eq 2 ] || echo "# $c Jobs created"
	[ "$c" -eq 2 ]; ok "$s: one worker and one monitor Job created, once" $?
done
# shellcheck disable=SC2086
settle $dpks
ok 'every submission ends' $?
# shellcheck disable=SC2086 # one pk a word
set -- $dpks
for s in $dsteps; do
	ends_once "$1" "dispatch killed after $s"
	shift
done

# 2. the reconciler dies after each step of finishing a submission whose
# Jobs are complete; the next ones take the stale claim over
for s in $rsteps; do
	pk=$(submit)
	lb-dispatch -1 -w 1 2>>dispatch.log
	printf '{"submission":{"submission_id":"%s"}}\n' "$pk" |
	    lb-k8s-job wait --submission --timeout 120 >/dev/null 2>&1
	rc=0
	LB_TEST_KILL_AT=$s lb-reconcile 2>>reconcile.log || rc=$?
	[ $rc -eq 137 ] || echo "# lb-reconcile exited $rc"
	[ $rc -eq 137 ]; ok "reconcile killed after $s" $?
	sleep 3		# the claim goes stale (LB_CLAIM_SECONDS=2)
	settle "$pk" || echo "# submission $pk not over"
	ends_once "$pk" "reconcile killed after $s"
done

[ "$(queued "$LB_QUEUE_URL")" -eq 0 ]; ok 'the queue is empty' $?
[ "$(queued "$dlq")" -eq 0 ]; ok 'no message went to the dead-letter queue' $?
