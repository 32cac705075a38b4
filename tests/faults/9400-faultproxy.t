#!/bin/sh
# 9400-faultproxy.t: the fault-injecting proxy itself, in front of the
# EvalAI emulator, moto (with signature checks) and the Kubernetes
# emulator: each fault does what it says, signed requests go through
# untouched, streams are never cut, the same seed gives the same faults.
. "${0%/*}/../lib.sh"
plan 17

# proxy NAME ARGS: start a proxy; sets PURL
proxy() {
	faultproxy_start "$@" ||
	    { echo "Bail out! faultproxy $1"; cat "$1.err"; exit 1; }
	PURL=$FAULTPROXY_URL
}

evalai_start --seed "$data/evalai-seed.json" ||
    { echo "Bail out! EvalAI emulator"; exit 1; }
auth='Authorization: Bearer host-token-0001'
finals() { curl -s "$EVALAI_URL/_emu/submissions/$1/updates" | jq '.final | length'; }
put() {
	curl -s -o "$2" -w '%{http_code}' -X PUT -H "$auth" \
	    -H 'Content-Type: application/json' \
	    -d "{\"submission\": $3, \"challenge_phase\": 31, \"submission_status\": \"FAILED\", \"result\": \"\", \"stdout\": \"\", \"stderr\": \"x\", \"metadata\": \"\"}" \
	    "$1/api/jobs/challenge/17/update_submission/"
}

# lost: the upstream applied it, the client saw a reset
proxy lost --upstream "$EVALAI_URL" --kind evalai --rate 1 --faults lost
code=$(put "$PURL" lost.body 1001); rc=$?
is "lost: the client gets no answer" "$code $rc" "000 56"
is "... but EvalAI applied the final update" "$(finals 1001)" 1
is "... and the log says so, with the upstream's status" \
    "$(jq -r '"\(.fault) \(.method) \(.status)"' lost.faults)" "lost PUT 200"

# reset: nothing reaches the upstream
n0=$(curl -s "$EVALAI_URL/_emu/log" | jq length)
proxy reset --upstream "$EVALAI_URL" --kind evalai --rate 1 --faults reset
code=$(put "$PURL" reset.body 1003)
is "reset: no answer, nothing applied, nothing reached EvalAI" \
    "$code $(finals 1003) $(curl -s "$EVALAI_URL/_emu/log" | jq length)" "000 0 $n0"

# truncated: the headers and half the body, then close
proxy trunc --upstream "$EVALAI_URL" --kind evalai --rate 1 --faults truncated
curl -s -H "$auth" "$PURL/api/jobs/submission/1002" >trunc.body
is "truncated: curl sees a cut answer (exit 18)" "$?" 18
full=$(curl -s -H "$auth" "$EVALAI_URL/api/jobs/submission/1002" | wc -c)
got=$(wc -c <trunc.body)
ok "... half the body came ($got of $full bytes)" \
    $([ "$got" -gt 0 ] && [ "$got" -lt "$full" ]; echo $?)

# throttle and 5xx, EvalAI-shaped
proxy thr --upstream "$EVALAI_URL" --kind evalai --rate 1 --faults throttle
curl -s -D thr.h -o thr.body -H "$auth" "$PURL/api/jobs/submission/1002"
grep -qi '^retry-after: 1' thr.h && grep -q '^HTTP/1.1 429' thr.h &&
    jq -e '.detail | test("throttled")' thr.body >/dev/null
ok "throttle: 429 with Retry-After and DRF's text" $?

# the control endpoint: rate 0 lets everything through
curl -sf -X POST "$PURL/_faultproxy/rate" -d '{"rate": 0}' >/dev/null
is "rate 0 through the control endpoint: the answer is EvalAI's" \
    "$(curl -s -H "$auth" "$PURL/api/jobs/submission/1002" | jq -r .id)" 1002
is "... stats count requests and faults" \
    "$(curl -s "$PURL/_faultproxy/stats" | jq -c '[.requests, .faults, .by_fault]')" \
    '[2,1,{"throttle":1}]'
curl -s -X POST "$PURL/_faultproxy/rate" -d 2 >bad.rate
expect_grep "a rate outside 0..1 is refused" 'rate: a number' bad.rate

# the same seed, the same faults
for s in a b; do
	proxy "seed$s" --upstream "$EVALAI_URL" --kind evalai --rate 0.5 --seed 7
	i=0
	while [ $i -lt 30 ]; do
		curl -s -o /dev/null --max-time 5 -H "$auth" "$PURL/api/jobs/submission/1002"
		i=$((i + 1))
	done
	jq -r '"\(.seq) \(.fault)"' "seed$s.faults" >"seed$s.seq"
done
expect_same "the same seed gives the same faults" seeda.seq seedb.seq
ok "... and some of them ($(wc -l <seeda.seq))" $([ -s seeda.seq ]; echo $?)

# moto with signature checks: SigV4 made for the proxy's address passes
if command -v moto_server >/dev/null 2>&1; then
	moto_start
	moto_auth
	proxy aws --upstream "$MOTO_ENDPOINT" --kind aws --rate 0
	awsp() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK \
	    AWS_MAX_ATTEMPTS=1 aws --endpoint-url "$PURL" --region us-west-2 "$@"; }
	awsp sqs create-queue --queue-name fq >/dev/null 2>aws.err &&
	    awsp s3api create-bucket --bucket fq-bucket \
	    --create-bucket-configuration LocationConstraint=us-west-2 >/dev/null 2>>aws.err
	ok "signed aws CLI requests go through unchanged (moto checks them)" $?
	curl -sf -X POST "$PURL/_faultproxy/rate" -d 1 >/dev/null
	awsp sqs list-queues >/dev/null 2>aws.err
	grep -q 'Throttling\|ServiceUnavailable\|InternalFailure\|reset\|Connection\|ended\|timed out\|Read timeout\|Could not connect' aws.err
	ok "at rate 1 the aws CLI sees a fault" $?
	faultproxy_start s3 --upstream "$MOTO_ENDPOINT" --kind aws --rate 1 \
	    --faults throttle
	S3P=$FAULTPROXY_URL
	AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK AWS_MAX_ATTEMPTS=1 \
	    aws --endpoint-url "$S3P" --region us-west-2 s3api list-objects-v2 \
	    --bucket fq-bucket >/dev/null 2>s3.err
	AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK AWS_MAX_ATTEMPTS=1 \
	    aws --endpoint-url "$S3P" --region us-west-2 dynamodb list-tables \
	    >/dev/null 2>>s3.err
	grep -q 'SlowDown' s3.err && grep -q 'ThrottlingException' s3.err
	ok "aws throttling: SlowDown for S3, ThrottlingException for JSON services" $?
else
	ok "# SKIP moto_server not installed" 0
	ok "# SKIP moto_server not installed" 0
	ok "# SKIP moto_server not installed" 0
fi

# a Kubernetes watch is a stream: never cut once started
"$PY" "$top/tests/emulators/k8s.py" --port 0 --http --no-auth --no-sandbox \
    >k8s.url 2>k8s.err &
srv_started $!
i=0
while [ ! -s k8s.url ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
K8S=$(head -n 1 k8s.url)
wait_url "$K8S/healthz" $! || { echo "Bail out! k8s emulator"; exit 1; }
proxy kw --upstream "$K8S" --kind k8s --rate 1 --faults lost,truncated
curl -s -X POST -H 'Content-Type: application/json' \
    "$K8S/apis/batch/v1/namespaces/default/jobs" -d '{"metadata":{"name":"w1"},
    "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}' >/dev/null
curl -s --max-time 20 \
    "$PURL/apis/batch/v1/namespaces/default/jobs?watch=true&timeoutSeconds=2" >watch.out
rc=$?
is "a watch through a proxy that would cut every answer: complete (exit $rc)" \
    "$rc $(jq -r 'select(.object.metadata.name == "w1") | .type' watch.out | head -n 1)" "0 ADDED"
is "... and not faulted" "$(cat kw.faults 2>/dev/null | wc -l | tr -d ' ')" 0
