#!/bin/sh
# 9500-faults.t: many submissions through the whole pipeline (EvalAI
# emulator -> queue -> lb-dispatch -> Jobs -> lb-reconcile -> EvalAI,
# DynamoDB, S3) while faultproxy.py in front of moto, the EvalAI emulator
# and the Kubernetes emulator breaks a share of the requests: errors,
# throttling, resets, slow answers, and answers lost after the request
# was applied.  Setup and the final checks use the direct URLs.
#
# FAULTS_N (submissions, 50), FAULTS_RATE (0.2), FAULTS_SEED (1),
# FAULTS_DEADLINE (seconds for the whole run, 600).
. "${0%/*}/../lib.sh"
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
command -v kubectl >/dev/null 2>&1 || skip_all "kubectl not installed"
plan 8

nsub=${FAULTS_N:-50}
rate=${FAULTS_RATE:-0.2}
seed=${FAULTS_SEED:-1}
deadline=$(($(date +%s) + ${FAULTS_DEADLINE:-600}))
t0=$(date +%s)

export LB_LOCAL_DIR="$scratch/stack"
lb-local start >env 2>start.err ||
    { sed 's/^/# /' start.err; echo "Bail out! lb-local start failed"; exit 1; }
. ./env
for f in "$LB_LOCAL_DIR"/*.pid; do srv_started "$(cat "$f")"; done
moto=$AWS_ENDPOINT_URL evalai=$LB_EVALAI_URL k8s=$LB_K8S_ENDPOINT
kube=$KUBECONFIG
token=$(cat "$LB_EVALAI_TOKEN_FILE")
kc() { kubectl --kubeconfig "$kube" --cache-dir "$scratch/kcache" "$@"; }
awsd() { aws --endpoint-url "$moto" --region us-west-2 "$@"; }

# proxy NAME KIND UPSTREAM [ARGS]: start a faultproxy, at rate 0 for now;
# sets purl
proxy() {
	name=$1 kind=$2 up=$3
	shift 3
	faultproxy_start "$name" --upstream "$up" --kind "$kind" \
	    --rate "$rate" --seed "$seed" "$@" &&
	    purl=$FAULTPROXY_URL &&
	    curl -sfk -X POST "$purl/_faultproxy/rate" -d 0 >/dev/null ||
	    { echo "Bail out! faultproxy $name did not start"; exit 1; }
}
setrate() {
	for u in "$pmoto" "$pevalai" "$pk8s"; do
		curl -sfk -X POST "$u/_faultproxy/rate" -d "$1" >/dev/null
	done
}
proxy moto aws "$moto"; pmoto=$purl
proxy evalai evalai "$evalai"; pevalai=$purl
proxy k8s k8s "$k8s" --tls-cert "$LB_LOCAL_DIR/k8s/srv.crt" \
    --tls-key "$LB_LOCAL_DIR/k8s/srv.key" --upstream-ca "$LB_LOCAL_DIR/k8s/ca.crt"
pk8s=$purl

# the control plane and the pods talk to the proxies
sed "s|server: .*|server: $pk8s|" "$kube" >kubeconfig.proxy
chmod 600 kubeconfig.proxy
export AWS_ENDPOINT_URL="$pmoto" LB_EVALAI_URL="$pevalai" LB_K8S_ENDPOINT="$pk8s"
export KUBECONFIG="$scratch/kubeconfig.proxy"
export LB_PENDING_TIMEOUT=120 LB_CANCEL_GRACE=20 LB_CLAIM_SECONDS=600
# a message whose receive answer was lost comes back after 90 s
export LB_VISIBILITY=90 LB_DISPATCH_GRACE=200
patch=$(jq -n -c --arg a "$pmoto" --arg e "$pevalai" \
    '{data: {AWS_ENDPOINT_URL: $a, EVALAI_API_SERVER: $e,
      FAKE_ROUTE_SECONDS: "0.2", UPLOADER_PERIOD: "1", MONITOR_PERIOD: "1"}}')
kc patch configmap lb-local-env --type merge -p "$patch" >/dev/null

# the submissions: the qualifier track, one worker, five short routes;
# made in EvalAI and queued, all with the faults off
: >pks
i=0
while [ $i -lt "$nsub" ]; do
	curl -sf -X POST "$evalai/_emu/submissions" -H 'Content-Type: application/json' \
	    -d '{"phase": 2352, "participant_team": 101, "submitted_image_uri": "local/fake-agent:1"}' >sub.json ||
	    { echo "Bail out! cannot make a submission"; exit 1; }
	jq -r '.submission.id' sub.json >>pks
	jq -c '.message | fromjson' sub.json
	i=$((i + 1))
done >msgs
lb-sqs-send -q "$LB_QUEUE_URL" <msgs >sent 2>send.err
[ "$(wc -l <sent)" -eq "$nsub" ] ||
    { sed 's/^/# /' send.err; echo "Bail out! lb-sqs-send"; exit 1; }
t_setup=$(($(date +%s) - t0))

# status_all: "PK STATUS" for every row, from moto directly
status_all() {
	awsd dynamodb scan --table-name "$LB_SUBMISSIONS_TABLE" \
	    --projection-expression 'submission_id, submission_status' \
	    --output json |
	    jq -r '.Items[] | "\(.submission_id.S) \(.submission_status.S)"'
}

# the operator's timers: dispatch and reconcile in loops, with faults
setrate "$rate"
(
	while [ ! -e stop ]; do
		lb-dispatch -1 -w 1 -n 10 2>>dispatch.log || echo "exit $?" >>dispatch.log
		sleep 1
	done
) &
dpid=$!
done_all=1
while :; do
	lb-reconcile 2>>reconcile.log || echo "exit $?" >>reconcile.log
	status_all >rows 2>/dev/null || true
	if [ "$(grep -c ' \(FINISHED\|FAILED\|CANCELLED\)$' rows)" -ge "$nsub" ]; then
		done_all=0
		break
	fi
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep 2
done
touch stop
wait $dpid
setrate 0
t_run=$(($(date +%s) - t0 - t_setup))

# 1. every submission terminal, once, in DynamoDB and in EvalAI
ok "every submission ended before the deadline (${t_run}s)" $done_all
status_all >rows
sort -u pks >pks.sorted
cut -d' ' -f1 rows | sort >rowpks
[ "$(sort -u rowpks | wc -l)" -eq "$nsub" ] && [ "$(wc -l <rowpks)" -eq "$nsub" ] &&
    cmp -s pks.sorted rowpks
ok "one DynamoDB row per submission ($(wc -l <rowpks) rows)" $?
bad=0 nterm=0
while read -r pk; do
	st=$(grep "^$pk " rows | cut -d' ' -f2)
	es=$(curl -sf "$evalai/api/jobs/submission/$pk" \
	    -H "Authorization: Bearer $token" | jq -r .status)
	case "$st/$es" in
	FINISHED/finished|FAILED/failed|CANCELLED/cancelled)
		nterm=$((nterm + 1)) ;;
	*)	echo "# submission $pk: DynamoDB $st, EvalAI $es"; bad=1 ;;
	esac
done <pks
ok "DynamoDB and EvalAI agree on a terminal status for each ($nterm)" $bad

# 2. EvalAI got exactly one final update per submission (its own record
# of successful updates; a second final would be a second row here)
bad=0 nfinal=0
while read -r pk; do
	c=$(curl -sf "$evalai/_emu/submissions/$pk/updates" | jq '.final | length')
	[ "$c" = 1 ] || { echo "# submission $pk: $c final updates"; bad=1; }
	nfinal=$((nfinal + ${c:-0}))
done <pks
ok "EvalAI received exactly one final update per submission ($nfinal)" $bad
# ... and its request log agrees: one successful final PUT each
curl -sf "$evalai/_emu/log" | jq -r '.[] | select(.update == "final") |
    .submission | tostring' | sort | uniq -c | awk '$1 != 1' >dup.finals
[ ! -s dup.finals ] && [ "$(curl -sf "$evalai/_emu/log" |
    jq '[.[] | select(.update == "final")] | length')" -eq "$nsub" ]
ok "EvalAI's request log shows $nsub final updates, one each" $?
sed 's/^/# twice: /' dup.finals

# 3. no message lost: the queue and the dead-letter queue are empty, or
# a dead-lettered message has its submission's row anyway
qattr() {
	awsd sqs get-queue-attributes --queue-url "$1" --attribute-names All |
	    jq -r '.Attributes | "\(.ApproximateNumberOfMessages) \(.ApproximateNumberOfMessagesNotVisible)"'
}
dlq=$(awsd sqs get-queue-url --queue-name lb-submissions-dlq | jq -r .QueueUrl)
q=$(qattr "$LB_QUEUE_URL") d=$(qattr "$dlq")
echo "# queue visible/in flight: $q; dead-letter queue: $d"
lost=0
# every message sent was processed into a row (checked above), so a
# message still around is one that was never acknowledged
[ "$q" = "0 0" ] || lost=1
ndl=$(echo "$d" | awk '{print $1 + $2}')
ok "no message lost or left: queue empty, $ndl dead-lettered" $((lost || ndl != 0))

# 4. no Job left behind
kc get jobs -o json >jobs.json
njobs=$(jq '.items | length' jobs.json)
ok "no Job left behind ($njobs)" $([ "$njobs" -eq 0 ]; echo $?)
jq -r '.items[].metadata.name' jobs.json | sed 's/^/# left: /'

# 5. the faults really happened, in every proxy, of every sort
cat moto.faults evalai.faults k8s.faults >all.faults
ninj=$(wc -l <all.faults | tr -d ' ')
kinds=$(jq -r .fault all.faults | sed 's/^50[03]$/5xx/' | sort -u | tr '\n' ' ')
echo "# injected: moto $(wc -l <moto.faults), evalai $(wc -l <evalai.faults), k8s $(wc -l <k8s.faults): $kinds"
[ -s moto.faults ] && [ -s evalai.faults ] && [ -s k8s.faults ] &&
    [ "$kinds" = "5xx lost reset slow throttle truncated " ]
ok "faults of every kind hit moto, EvalAI and Kubernetes ($ninj)" $?
jq -r 'select(.fault == "lost" or .fault == "truncated") |
    select(.method == "PUT" and (.path | test("update_submission/$"))) |
    .path' evalai.faults | wc -l | sed 's/^ */# final PUTs whose answer was lost: /'

pct=$(echo "$rate" | awk '{printf "%d", $1 * 100}')
echo "# faults: $nsub submissions, $pct% faults ($ninj injected): $nterm terminal exactly once, $nfinal final updates (1 each), $((lost + ndl)) messages lost, $njobs Jobs left; setup ${t_setup}s, run ${t_run}s"
grep -h 'exit\|error\|cannot' dispatch.log reconcile.log 2>/dev/null | sort | uniq -c |
    sort -rn | head -n 15 | sed 's/^/# /'
if [ -n "${FAULTS_KEEP:-}" ]; then
	mkdir -p "$FAULTS_KEEP" && cp -r "$scratch"/* "$FAULTS_KEEP"/ 2>/dev/null
fi
