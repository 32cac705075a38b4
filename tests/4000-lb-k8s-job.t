#!/bin/sh
# lb-k8s-job against the Kubernetes API emulator: every verb, every
# outcome (legacy and 1.31 condition sequences), 410 in both forms,
# silent watches, faults, kubeconfig variants, exec plugins, in-cluster,
# EKS tokens, hostile input, and kubectl seeing what the tool did.
. "${0%/*}/lib.sh"
emu=$top/tests/emulators/k8s.py
command -v python3 >/dev/null 2>&1 || skip_all "python3 missing"
command -v openssl >/dev/null 2>&1 || skip_all "openssl missing"
command -v kubectl >/dev/null 2>&1 || skip_all "kubectl missing"
plan 138

T=$data/k8s-job
J=/apis/batch/v1/namespaces/default/jobs
AKID=AKIDEMU0000000000001
SECRET=emu/secret+key0000000000000000000000
printf '%s\n' "$AKID:$SECRET" >ekscreds
printf '%s\n' static-token-1 >tokens

# start_emu ARGS: the emulator; sets URL and KUBECONFIG (kc)
start_emu() {
	$PY "$emu" --kubeconfig-out kc --ca-out ca.crt --no-sandbox \
	    --token-file tokens --eks-cred-file ekscreds \
	    --eks-cluster emu-cluster --duration-ms 300 --grace-ms 200 \
	    "$@" >emu.out 2>emu.err &
	EPID=$!
	srv_started $EPID
	i=0
	while [ ! -s emu.out ] && [ $i -lt 200 ]; do
		kill -0 $EPID 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	URL=$(head -n 1 emu.out)
	[ -n "$URL" ] || { echo "Bail out! emulator did not start"
		sed 's/^/# /' emu.err; exit 1; }
}
start_emu
KUBECONFIG=$scratch/kc
export KUBECONFIG
admin() { curl -s --cacert ca.crt -X "$1" "$URL/_emu/$2" ${3:+-d "$3"}; }
api() {
	curl -s --cacert ca.crt -H "Authorization: Bearer static-token-1" \
	    -o body -w '%{http_code}' "$URL$1"
}
KC="kubectl --kubeconfig $scratch/kc --cache-dir $scratch/kcache --request-timeout=20s"
K=lb-k8s-job

# quiet CMD...: CMD with its standard output thrown away
quiet() { "$@" >/dev/null; }
# rec NAME SCRIPT RESTART BACKOFF [SID]: a record for scripted.yaml
rec() {
	printf '{"submission":{"submission_id":"%s","name":"%s","team_name":"t","submitted_image_uri":"repo/agent:1"},"parallelization":{"worker_id":"1"},"role":"worker","test":{"script":"%s","restart":"%s","backoff":%s,"duration":"300"}}\n' \
	    "${5:-100}" "$1" "$2" "$3" "$4"
}
# jq1 EXPR FILE: EXPR over the records of FILE as d (the real interpreter:
# the pyenv shim is slow)
jq1() {
	$PY -c 'import json,sys
d=[json.loads(l) for l in open(sys.argv[2]) if l.strip()]
r=eval(sys.argv[1],{"d":d,"json":json})
print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"
}
# k8s FIELD FILE: a member of the k8s result of the first record
k8s() { jq1 "d[0]['k8s'].get('$1')" "$2"; }
# wait_for CMD...: until CMD succeeds (30 s at most)
wait_for() {
	i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# --- render (no cluster needed)
env -u KUBECONFIG $K render -f "$top/examples/jobs/worker.yaml" \
    <"$T/worker.json" >r1 2>r1.err
ok "render the worker template" $?
jq1 'd[0]["job"]["metadata"]["name"]+" "+d[0]["job"]["spec"]["template"]["spec"]["nodeSelector"]["node.kubernetes.io/instance-type"]+" "+d[0]["job"]["spec"]["template"]["spec"]["containers"][1]["image"]' r1 >got
echo "team-a-sensors-4242-worker1 g5.2xlarge repo/agent:1" >want
expect_same "render: .$ keys take the document's values" want got
jq1 '[e["value"] for e in d[0]["job"]["spec"]["template"]["spec"]["containers"][1]["env"]]' r1 >got
echo '["1", "SENSORS", "0-4", "1", ""]' >want
expect_same "render: env values are strings, literals kept" want got
jq1 'd[0]["sqs"]["message_id"]+" "+str("name.$" in json.dumps(d[0]["job"]))' r1 >got
echo "m-1 False" >want
expect_same "render: the record passes through, no .$ key is left" want got
$K render -f "$top/examples/jobs/monitor.yaml" <"$T/monitor.json" >r2
jq1 'd[0]["job"]["spec"]["template"]["spec"]["containers"][0]["env"][-1]' r2 >got
echo '{"name": "EVALAI_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": "lb-evalai", "key": "token"}}}' >want
expect_same "render monitor: the EvalAI token is a secretKeyRef" want got
for f in worker-hardened.yaml local/worker.yaml; do
	$K render -f "$top/examples/jobs/$f" <"$T/worker.json" >/dev/null ||
	    echo "# $f failed"
done
for f in monitor-hardened.yaml local/monitor.yaml; do
	$K render -f "$top/examples/jobs/$f" <"$T/monitor.json" >/dev/null ||
	    echo "# $f failed"
done
$K render -f worker="$top/examples/jobs/worker-hardened.yaml" \
    -f monitor="$top/examples/jobs/monitor-hardened.yaml" \
    <"$T/worker.json" >r3 && $K render \
    -f worker="$top/examples/jobs/worker-hardened.yaml" \
    -f monitor="$top/examples/jobs/monitor-hardened.yaml" \
    <"$T/monitor.json" >>r3
jq1 '[r["job"]["metadata"]["labels"]["lb.carla.org/role"] for r in d]+[d[0]["job"]["spec"]["template"]["spec"]["automountServiceAccountToken"], d[0]["job"]["spec"]["activeDeadlineSeconds"]]' r3 >got
echo '["worker", "monitor", false, 43200]' >want
expect_same "render: -f role=FILE picks the template by the record's role" want got
expect_exit "render: a template with a bad States.Format is a usage error" 2 \
    $K render -f "$T/bad-syntax.yaml" </dev/null 2>r4.err
expect_grep "render: the error names the file and line" 'bad-syntax.yaml:10: image.\$: .*1 argument' r4.err
printf '%s\n' '{"submission":{"name":"x"}}' 'not json' \
    '{"submission":{"submission_id":"1","name":"ok-1","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"test":{"script":"succeed","restart":"Never","backoff":0,"duration":"1"}}' \
    >in5
$K render -f "$T/scripted.yaml" -r rej5 <in5 >r5 2>r5.err
ok "render: bad records give exit 1" $(($? != 1))
expect_grep "render: missing member named with file:line" \
    '^lb-k8s-job: stdin:1: .*scripted.yaml:8: emu.lb/script.\$: .*test' r5.err
expect_grep "render: the good record still comes out" '"name":"ok-1"' r5
wc -l <rej5 | tr -d ' ' >got
echo 2 >want
expect_same "render: -r keeps both bad lines" want got
jq1 'd[0]["job"]["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"]' r5 >got
echo 'worker 1 of 1 {ok}' >want
expect_same "render: States.Format with escaped braces" want got
jq1 'd[0]["job"]["metadata"]["labels"]' r5 >got
echo '{"lb.carla.org/submission": "1"}' >want
expect_same "render: the submission label is added" want got

# --- create, 409, dry run, kubectl sees it
rec ok-1 succeed Never 0 4242 >in
$K create -f "$T/scripted.yaml" <in >c1 2>c1.err
ok "create: exit 0" $?
k8s created c1 >got; echo true >want
expect_same "create: created true" want got
UID1=$(k8s uid c1)
$KC get job ok-1 -o jsonpath='{.metadata.uid} {.metadata.labels.lb\.carla\.org/submission} {.spec.template.metadata.labels.lb\.carla\.org/role}' >got
echo >>got
echo "$UID1 4242 worker" >want
expect_same "kubectl sees the Job, its uid and labels" want got
$KC get job ok-1 -o jsonpath='{.spec.template.spec.containers[0].env[1].value}' >got
echo 'worker 1 of 4242 {ok}' >want
echo >>got
expect_same "kubectl sees the rendered States.Format value" want got
$K create -f "$T/scripted.yaml" <in >c2 2>c2.err
ok "create again (same submission): exit 0" $?
jq1 'str(d[0]["k8s"]["created"])+" "+d[0]["k8s"]["uid"]' c2 >got
echo "False $UID1" >want
expect_same "create again: already created, same uid" want got
rec ok-1 succeed Never 0 9999 >in
$K create -f "$T/scripted.yaml" <in >c3 2>c3.err
ok "create: a same-named Job of another submission is an error" $(($? != 1))
expect_grep "create: the 409 is explained" 'exists and is not this submission' c3.err
rec dry-1 succeed Never 0 >in
$K create --dry-run -f "$T/scripted.yaml" <in >c4
k8s dry_run c4 >got; echo true >want
expect_same "create --dry-run: validated by the server" want got
code=$(api "$J/dry-1")
[ "$code" = 404 ]; ok "create --dry-run: GET is 404" $?

# every example template is accepted by the server (validated, not stored)
for f in worker worker-hardened local/worker; do
	$K create --dry-run -f "$top/examples/jobs/$f.yaml" <"$T/worker.json" \
	    >/dev/null 2>dry.err
	ok "create --dry-run examples/jobs/$f.yaml" $?
done
for f in monitor monitor-hardened local/monitor; do
	$K create --dry-run -f "$top/examples/jobs/$f.yaml" <"$T/monitor.json" \
	    >/dev/null 2>dry.err
	ok "create --dry-run examples/jobs/$f.yaml" $?
done

# --- wait: outcomes (1.31 sequence)
$K wait <c1 >w1 2>w1.err
ok "wait: success exits 0" $?
jq1 '[d[0]["k8s"][k] for k in ("state","final","reason","succeeded","failed")]' w1 >got
echo '["complete", true, "CompletionsReached", 1, 0]' >want
expect_same "wait 1.31 success: complete, CompletionsReached" want got
jq1 'd[0]["k8s"]["end_time"] is not None and d[0]["k8s"]["start_time"] is not None' w1 >got
echo true >want
expect_same "wait: start and end times" want got

rec fail-n fail-never Never 1 >in
$K run -f "$T/scripted.yaml" <in >w2 2>w2.err
ok "run fail-never: exit 1" $(($? != 1))
jq1 '[d[0]["k8s"][k] for k in ("state","final","reason","failed")]' w2 >got
echo '["failed", true, "BackoffLimitExceeded", 2]' >want
expect_same "Never: failed after backoffLimit+1 pods" want got

rec fail-o fail-onfailure OnFailure 2 >in
$K run -f "$T/scripted.yaml" <in >w3 2>w3.err
ok "run fail-onfailure: exit 1" $(($? != 1))
jq1 '[d[0]["k8s"][k] for k in ("state","reason")]' w3 >got
echo '["failed", "BackoffLimitExceeded"]' >want
expect_same "OnFailure: failed on restart count" want got

printf '{"submission":{"submission_id":"5","name":"dl-1"}}\n' >in
$K run -f "$T/deadline.yaml" <in >w4 2>w4.err
jq1 '[d[0]["k8s"][k] for k in ("state","reason")]' w4 >got
echo '["failed", "DeadlineExceeded"]' >want
expect_same "activeDeadlineSeconds: failed, DeadlineExceeded" want got

rec stuck-1 stuck-image Never 0 >in
$K run --rm -p 0 -i 1 -f "$T/scripted.yaml" <in >w5 2>w5.err
ok "stuck image: exit 1" $(($? != 1))
jq1 'd[0]["k8s"]["state"]+" "+str(d[0]["k8s"]["reason"] in ("ErrImagePull","ImagePullBackOff"))' w5 >got
echo "stuck True" >want
expect_same "stuck image: state stuck, image pull reason" want got
jq1 'str(d[0]["k8s"]["container"] in ("simulator","agent"))+" "+str(d[0]["k8s"]["pending_seconds"] >= 0)' w5 >got
echo "True True" >want
expect_same "stuck image: the container and the time Pending, for lb-finalize" want got
wait_for sh -c "[ \"\$(curl -s --cacert ca.crt -H 'Authorization: Bearer static-token-1' -o /dev/null -w '%{http_code}' $URL$J/stuck-1)\" = 404 ]"
ok "run --rm deleted the stuck Job" $?

rec unsched-1 unschedulable Never 0 >in
$K run --rm -p 0 -i 1 -f "$T/scripted.yaml" <in >w6 2>w6.err
jq1 'd[0]["k8s"]["state"]+" "+d[0]["k8s"]["reason"]' w6 >got
echo "stuck Unschedulable" >want
expect_same "unschedulable pod: stuck, Unschedulable" want got

rec pend-1 stuck-image Never 0 >in
$K create -f "$T/scripted.yaml" <in >c7
$K status <c7 >s7
jq1 'd[0]["k8s"]["state"]' s7 >got
echo "pending" >want
expect_same "status: a pod Pending within --pending-timeout is pending" want got
$K delete -j pend-1 >/dev/null

# status of a Job whose pod runs: running
rec run-1 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c7b
runs() { $K status <c7b | grep -q '"state":"running"'; }
wait_for runs
ok "status: a Job whose pod runs is running" $?
# run --rm interrupted: the Job is deleted all the same
rec int-1 hang Never 0 >in
$K run --rm -i 2 -f "$T/scripted.yaml" <in >w7c 2>w7c.err &
RP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'fieldSelector=metadata.name%3Dint-1'"
kill -TERM $RP
wait $RP
ok "run --rm interrupted: temporary failure (75)" $(($? != 75))
# Foreground: the Job goes once its pods are gone
gone() { [ "$(api "$J/$1")" = 404 ]; }
wait_for gone int-1
ok "run --rm interrupted: the Job was deleted" $?
# the template from a member of the record: a file name or the object
$PY -c 'import json,sys
print(json.dumps({"tmpl":sys.argv[1],"submission":{"submission_id":"8","name":"m-1"}}))
print(json.dumps({"tmpl":{"apiVersion":"batch/v1","kind":"Job",
 "metadata":{"name.$":"$.submission.name"},"spec":{"template":{"spec":{
 "restartPolicy":"Never","containers":[{"name":"a","image":"r/a:1"}]}}}},
 "submission":{"submission_id":"8","name":"m-2"}}))
print(json.dumps({"tmpl":7,"submission":{"submission_id":"8","name":"m-3"}}))' \
    "$T/deadline.yaml" >in
$K render -m tmpl <in >m1 2>m1.err
ok "render -m: a bad member is a bad record (exit 1)" $(($? != 1))
jq1 '[r["job"]["metadata"]["name"] for r in d]' m1 >got
echo '["m-1", "m-2"]' >want
expect_same "render -m: file name or inline template" want got
expect_grep "render -m: the bad member is explained" 'stdin:3: no template: tmpl must be' m1.err

# --- legacy sequence
admin POST config '{"conditions":"legacy"}' >/dev/null
rec leg-ok succeed Never 0 >in
$K run -f "$T/scripted.yaml" <in >w8 2>w8.err
jq1 '[d[0]["k8s"][k] for k in ("state","final","reason")]' w8 >got
echo '["complete", true, null]' >want
expect_same "legacy success: complete, empty reason" want got
rec leg-fail fail-never Never 0 >in
$K run -f "$T/scripted.yaml" <in >w9 2>w9.err
jq1 '[d[0]["k8s"][k] for k in ("state","final","reason")]' w9 >got
echo '["failed", true, "BackoffLimitExceeded"]' >want
expect_same "legacy failure: failed at once" want got
admin POST config '{"conditions":"1.31"}' >/dev/null

# --early stops at FailureTarget / SuccessCriteriaMet (1.31)
rec early-1 fail-never Never 0 >in
$K run --early -f "$T/scripted.yaml" <in >w10 2>w10.err
jq1 'd[0]["k8s"]["state"]' w10 >got
echo failed >want
expect_same "--early: failed decided" want got

# --- outcomes decided from outside
rec hang-1 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c11
$K wait <c11 >w11 2>w11.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'fieldSelector=metadata.name%3Dhang-1'"
admin POST jobs/default/hang-1/complete >/dev/null
wait $WP
ok "wait returns when the Job is completed from outside" $?
jq1 'd[0]["k8s"]["state"]' w11 >got
echo complete >want
expect_same "completed from outside: complete" want got

rec hang-2 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c12
$K wait <c12 >w12 2>w12.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'fieldSelector=metadata.name%3Dhang-2'"
$KC delete job hang-2 --cascade=foreground >kd12 2>&1
wait $WP
ok "wait after kubectl delete: exit 1" $(($? != 1))
jq1 'd[0]["k8s"]["state"]' w12 >got
echo deleted >want
expect_same "deleted by hand: state deleted" want got

# --- 410 in both forms, silent watch, dropped watch
rec hang-3 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c13
admin DELETE requests >/dev/null
admin POST fault '{"mode":"status","status":410,"path_regex":"watch=true.*hang-3","count":1}' >/dev/null
$K wait -i 2 <c13 >w13 2>w13.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q '\"status\":410'"
ok "HTTP 410 on the watch was sent" $?
admin POST jobs/default/hang-3/complete >/dev/null
wait $WP
jq1 'd[0]["k8s"]["state"]' w13 >got
echo complete >want
expect_same "HTTP 410: relisted, then complete" want got
admin GET requests >reqs13
python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
r=r.get("requests",r) if isinstance(r,dict) else r
p=[x["path"] for x in r if "hang-3" in x["path"]]
i=[k for k,x in enumerate(p) if "watch=true" in x][0]
print("relist" if any("watch" not in x for x in p[i+1:]) else "no relist")' reqs13 >got
echo relist >want
expect_same "HTTP 410: a fresh list after the refused watch" want got

# the ERROR event form: the watch is held back, history dropped meanwhile
rec hang-4 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c14
admin POST config '{"gone_mode":"event"}' >/dev/null
admin POST fault '{"mode":"slow","delay_ms":3000,"path_regex":"watch=true.*hang-4","count":1}' >/dev/null
admin DELETE requests >/dev/null
$K wait -v -i 2 <c14 >w14 2>w14.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'fieldSelector=metadata.name%3Dhang-4'"
rec other-4 succeed Never 0 | $K create -f "$T/scripted.yaml" >/dev/null
admin POST compact >/dev/null
wait_for grep -q 'watch expired (410)' w14.err
ok "ERROR 410 event: noticed" $?
admin POST jobs/default/hang-4/complete >/dev/null
wait $WP
jq1 'd[0]["k8s"]["state"]' w14 >got
echo complete >want
expect_same "ERROR 410 event: relisted, then complete" want got

rec hang-5 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c15
admin POST fault '{"mode":"slow","delay_ms":9000,"path_regex":"watch=true.*hang-5","count":1}' >/dev/null
admin DELETE requests >/dev/null
$K wait -v -i 1 <c15 >w15 2>w15.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'fieldSelector=metadata.name%3Dhang-5'"
admin POST jobs/default/hang-5/complete >/dev/null
wait $WP
ok "silent watch: wait returns" $?
expect_grep "silent watch: the client gave up on it" 'watch ended: .*[Tt]imed\? out' w15.err
jq1 'd[0]["k8s"]["state"]' w15 >got
echo complete >want
expect_same "silent watch: complete" want got

rec hang-6 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c16
admin POST fault '{"mode":"drop-watch","path_regex":"watch=true.*hang-6","count":2}' >/dev/null
$K wait -i 2 <c16 >w16 2>w16.err &
WP=$!
admin POST jobs/default/hang-6/complete >/dev/null
wait $WP
jq1 'd[0]["k8s"]["state"]' w16 >got
echo complete >want
expect_same "dropped watch connections: complete" want got

# --- 429 and 5xx (GETs: the emulator's injected answers do not read a
# request body, so a POST fault would desynchronise the connection)
rec retry-1 succeed Never 0 >in
$K create -f "$T/scripted.yaml" <in >c17 2>c17.err
admin DELETE requests >/dev/null
admin POST fault '{"mode":"status","status":429,"retry_after":1,"path_regex":"jobs/retry-1$","method":"GET","count":1}' >/dev/null
admin POST fault '{"mode":"status","status":503,"path_regex":"jobs/retry-1$","method":"GET","count":1}' >/dev/null
$K status <c17 >s17a 2>s17a.err
ok "status through 429 and 503: exit 0" $?
admin GET requests | $PY -c 'import json,sys
r=json.load(sys.stdin)
print(" ".join(str(x["status"]) for x in r if x["path"].endswith("jobs/retry-1")))' >got
echo "429 503 200" >want
expect_same "429 and 503 retried, then 200" want got
admin POST fault '{"mode":"status","status":500,"path_regex":"jobs/retry-1","count":20}' >/dev/null
expect_exit "status: 500 for good is a temporary failure (75)" 75 \
    quiet $K status <c17 2>s17.err
admin DELETE fault >/dev/null
expect_exit "status: 403 is a failure (1)" 1 sh -c \
    "curl -s --cacert ca.crt -X POST $URL/_emu/fault -d '{\"mode\":\"status\",\"status\":403,\"path_regex\":\"jobs/retry-1\"}' >/dev/null; $K status <c17 >/dev/null 2>s18.err"
admin DELETE fault >/dev/null

# --- status and delete by submission, logs
rec sub-w1 hang Never 0 777 >in
rec sub-w2 hang Never 0 777 >>in
printf '{"submission":{"submission_id":"777","name":"sub-mon","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"role":"monitor","test":{"script":"hang","restart":"Never","backoff":0,"duration":"300"}}\n' >>in
$K create -f "$T/scripted.yaml" <in >c20
$K status --submission=777 >s20
jq1 'sorted(j["job"]+":"+j.get("role","") for j in d[0]["k8s"]["jobs"])' s20 >got
echo '["sub-mon:monitor", "sub-w1:worker", "sub-w2:worker"]' >want
expect_same "status --submission=ID: every Job of the submission" want got
printf '{"team_id":"11","submission_id":"777","row":{"x":1}}\n' |
    $K status --submission >s20b
jq1 'd[0]["k8s"]["state"]+" "+d[0]["row"]["x"].__str__()+" "+str(len(d[0]["k8s"]["jobs"]))' s20b >got
echo "running 1 3" >want
expect_same "status --submission on a reconciler's record: one record, running" want got
rec sub-s1 hang Never 0 778 >in
rec sub-s2 stuck-image Never 0 778 >>in
$K create -f "$T/scripted.yaml" <in >/dev/null
stuck778() { $K status --submission=778 -p 0 | grep -q '"state":"stuck"'; }
wait_for stuck778
ok "status --submission: one stuck Job makes the submission stuck" $?
$K status --submission=999 >s20c
jq1 'd[0]["k8s"]["state"]+" "+d[0]["k8s"]["reason"]' s20c >got
echo "deleted NoJobs" >want
expect_same "status --submission: no Jobs at all" want got
printf '{"submission":{"submission_id":"777"}}\n' >in
$K wait --submission -i 2 <in >w20 2>w20.err &
WP=$!
wait_for sh -c "curl -s --cacert ca.crt $URL/_emu/requests | grep -q 'watch=true&labelSelector=lb.carla.org%2Fsubmission%3D777'"
for j in sub-w1 sub-w2 sub-mon; do
	admin POST "jobs/default/$j/complete" >/dev/null
done
wait $WP
ok "wait --submission: exit 0 when every Job completed" $?
jq1 'd[0]["k8s"]["state"]+" "+str(sorted(j["state"] for j in d[0]["k8s"]["jobs"]))' w20 >got
echo "complete ['complete', 'complete', 'complete']" >want
expect_same "wait --submission: complete" want got
$K delete --submission=777 --wait >d20
$KC get jobs -l lb.carla.org/submission=777 -o name >got 2>&1
expect_same "delete --submission --wait: kubectl finds none" /dev/null got
jq1 'sorted(d[0]["k8s"]["deleted"])' d20 >got
echo '["sub-mon", "sub-w1", "sub-w2"]' >want
expect_same "delete --submission: three deleted" want got
printf '{"submission_id":"778"}\n' | $K delete --submission --wait >/dev/null
$KC get jobs -l lb.carla.org/submission=778 -o name >got 2>&1
expect_same "delete --submission on records" /dev/null got

rec logs-1 succeed Never 0 >in
$K run -f "$T/scripted.yaml" <in >c21
$K logs <c21 >l21
expect_grep "logs: lines prefixed pod/container" '^logs-1-[a-z0-9]*/simulator: emu: container simulator started' l21
expect_grep "logs: every container" '^logs-1-[a-z0-9]*/agent: ' l21
$KC logs job/logs-1 -c agent >kl21
sed -n 's/^logs-1-[a-z0-9]*\/agent: //p' l21 >got
expect_same "logs: the same lines as kubectl logs" kl21 got
rec logs-2 slow Never 0 >in
$K create -f "$T/scripted.yaml" <in >c22
$K logs -f <c22 >l22
ok "logs -f: ends with the Job" $?
expect_grep "logs -f: the container's last line" '^logs-2-[a-z0-9]*/agent: emu: exiting with code 0' l22

# --- delete details
$K delete -j nope-1 >d23
ok "delete: 404 is already gone (exit 0)" $?
k8s already_gone d23 >got; echo true >want
expect_same "delete: already_gone" want got
rec del-1 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c24
admin DELETE requests >/dev/null
$K delete --wait <c24 >d24
admin GET requests >reqs24
expect_grep "delete: Foreground by default" '"method":"DELETE","path":"/apis/batch/v1/namespaces/default/jobs/del-1","status":200,[^}]*propagationPolicy=Foreground' reqs24
code=$(api "$J/del-1")
[ "$code" = 404 ]; ok "delete --wait: gone when it returns" $?
rec del-2 hang Never 0 >in
$K create -f "$T/scripted.yaml" <in >c25
jq1 'd[0]' c25 | sed 's/"uid": "[^"]*"/"uid": "00000000-0000-0000-0000-000000000000"/' >c25b
expect_exit "delete: a uid precondition that does not match is an error" 1 \
    quiet $K delete <c25b 2>d25.err
expect_grep "delete: the conflict is reported" 'HTTP 409' d25.err
$K delete --propagation Background <c25 >d25
code=$(api "$J/del-2")
[ "$code" = 404 ]; ok "delete --propagation Background: gone at once" $?

# --- hostile names and values
rm -f pwned
printf '{"submission":{"submission_id":"1","name":"$(touch pwned)","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"test":{"script":"succeed","restart":"Never","backoff":0,"duration":"1"}}\n' >in
expect_exit "create: a name with shell syntax is refused" 1 \
    quiet $K create -f "$T/scripted.yaml" <in 2>h1.err
expect_grep "create: the bad name is explained" 'not a DNS-1123 label' h1.err
long=$(python3 -c 'print("a"*300)')
printf '{"submission":{"submission_id":"1","name":"%s","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"test":{"script":"succeed","restart":"Never","backoff":0,"duration":"1"}}\n' "$long" >in
expect_exit "create: a 300-character name is refused" 1 \
    quiet $K create -f "$T/scripted.yaml" <in 2>h2.err
printf '{"submission":{"submission_id":"1","name":"\\u00e9quipe-1","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"test":{"script":"succeed","restart":"Never","backoff":0,"duration":"1"}}\n' >in
expect_exit "create: a unicode name is refused" 1 \
    quiet $K create -f "$T/scripted.yaml" <in 2>h3.err
printf '{"submission":{"submission_id":"1; rm -rf /","name":"h-4","team_name":"t","submitted_image_uri":"r/a:1"},"parallelization":{"worker_id":"1"},"test":{"script":"succeed","restart":"Never","backoff":0,"duration":"1"}}\n' >in
expect_exit "create: a submission id that is no label value is refused" 1 \
    quiet $K create -f "$T/scripted.yaml" <in 2>h4.err
$PY -c 'import json
t="$(touch pwned) `touch pwned` ; touch pwned \" \x27 \n \u00e9\u4e2d | & > /tmp/x"
print(json.dumps({"submission":{"submission_id":"5","name":"h-5",
    "team_name":t,"submitted_image_uri":"r/a:1"},
    "parallelization":{"worker_id":"1"},"test":{"script":"succeed",
    "restart":"Never","backoff":0,"duration":"1"}}))' >in
$K create -f "$T/scripted.yaml" <in >h5 2>h5.err
jq1 'd[0]["submission"]["team_name"]' in >want
$KC get job h-5 -o jsonpath='{.spec.template.spec.containers[0].env[0].value}' >got
echo >>got
expect_same "hostile team name reaches the Job byte for byte" want got
[ ! -e pwned ]; ok "no shell ever ran the hostile strings" $?
expect_exit "-n with a bad namespace is a usage error" 2 $K status -n 'a/b' -j x
expect_exit "-j with a bad name is a usage error" 2 $K status -j 'A;B'

# --- kubeconfig variants
CA64=$(base64 -w0 ca.crt)
cat >kc-a <<EOF
current-context: second
contexts:
- name: second
  context: {cluster: emu2, user: u2, namespace: team-a}
EOF
cat >kc-b <<EOF
current-context: ignored
clusters:
- name: emu2
  cluster: {server: "$URL", certificate-authority: ca.crt}
users:
- name: u2
  user: {tokenFile: tok.txt}
EOF
mkdir -p kdir && cp ca.crt kdir/ && mv kc-b kdir/ && printf 'static-token-1\n' >kdir/tok.txt
rec ns-1 succeed Never 0 >in
KUBECONFIG=$scratch/kc-a:$scratch/kdir/kc-b $K create -f "$T/scripted.yaml" <in >k1 2>k1.err
ok "KUBECONFIG with two files: first current-context, relative CA and tokenFile" $?
$KC get job ns-1 -n team-a -o name >got 2>&1
echo job.batch/ns-1 >want
expect_same "the context's namespace is used" want got
cat >kc-c <<EOF
current-context: emu
clusters:
- name: emu
  cluster: {server: "https://127.0.0.1:1", certificate-authority-data: $CA64}
contexts:
- name: emu
  context: {cluster: emu, user: emu}
EOF
expect_exit "merge: the first file's cluster wins (a dead server)" 75 \
    env KUBECONFIG=$scratch/kc-c:$scratch/kc $K status -j ns-1 2>k2.err
cat >kc-d <<EOF
current-context: dead
clusters:
- name: dead
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: dead
  context: {cluster: dead, user: emu}
- name: other
  context: {cluster: emu, user: emu}
EOF
expect_exit "--context with a cluster found in a later file" 0 \
    quiet env KUBECONFIG=$scratch/kc-d:$scratch/kc $K status --context other \
    -j ok-1 2>k3b.err
expect_exit "--context that does not exist is a usage error" 2 \
    $K status --context nowhere -j ok-1 2>k4.err
expect_grep "the missing context is named" 'no context "nowhere"' k4.err

# exec plugins: run without a shell, env passed, output checked
cat >plugin <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$PLUGIN_OUT.args"
printf '%s\n' "$KUBERNETES_EXEC_INFO" >"$PLUGIN_OUT.info"
echo call >>"$PLUGIN_OUT.calls"
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' "${PLUGIN_API:-client.authentication.k8s.io/v1beta1}" "$PLUGIN_TOKEN"
EOF
chmod +x plugin
# kcexec API EXTRA: a kubeconfig with an exec user
kcexec() {
	cat <<EOF
current-context: x
clusters:
- name: x
  cluster: {server: "$URL", certificate-authority-data: $CA64}
contexts:
- name: x
  context: {cluster: x, user: x}
users:
- name: x
  user:
    exec:
      apiVersion: $1
      command: ./plugin
      args: ["--cluster", "\$(touch pwned)", "a b"]
      env:
      - {name: PLUGIN_TOKEN, value: static-token-1}
      - {name: PLUGIN_OUT, value: $scratch/pl}
$2
EOF
}
kcexec client.authentication.k8s.io/v1beta1 >kc-e
# the kubeconfig's env wins over the caller's
env PLUGIN_TOKEN=wrong KUBECONFIG=$scratch/kc-e $K status -j ok-1 >e1 2>e1.err
ok "exec plugin v1beta1: token accepted (kubeconfig env wins)" $?
printf '%s\n' --cluster '$(touch pwned)' 'a b' >want
expect_same "exec plugin: argv as written, no shell" want pl.args
[ ! -e pwned ]; ok "exec plugin: no shell expanded the arguments" $?
jq1 'd[0]["apiVersion"]+" "+str(d[0]["spec"]["interactive"])' pl.info >got
echo "client.authentication.k8s.io/v1beta1 False" >want
expect_same "exec plugin: KUBERNETES_EXEC_INFO" want got
kcexec client.authentication.k8s.io/v1 >kc-f
expect_exit "exec v1 without interactiveMode: usage error" 2 \
    env KUBECONFIG=$scratch/kc-f $K status -j ok-1 2>e2.err
kcexec client.authentication.k8s.io/v1 '      interactiveMode: Never' >kc-g
expect_exit "exec v1 with interactiveMode Never" 0 \
    quiet env PLUGIN_API=client.authentication.k8s.io/v1 KUBECONFIG=$scratch/kc-g \
    $K status -j ok-1
expect_exit "exec plugin answering another apiVersion: refused" 2 \
    env PLUGIN_API=client.authentication.k8s.io/v1 KUBECONFIG=$scratch/kc-e \
    $K status -j ok-1 2>e4.err
expect_grep "exec: the mismatch is explained" 'not an ExecCredential of client.authentication.k8s.io/v1beta1' e4.err
rm -f pl.calls
kcexec client.authentication.k8s.io/v1beta1 | sed 's/value: static-token-1/value: wrong-token/' >kc-h
expect_exit "exec plugin with a bad token: 401 is a failure" 1 \
    env KUBECONFIG=$scratch/kc-h $K status -j ok-1 2>e5.err
wc -l <pl.calls | tr -d ' ' >got
echo 2 >want
expect_same "exec plugin: run again once after a 401" want got

# in-cluster service account
port=${URL##*:}
mkdir -p sa && cp ca.crt sa/ca.crt && printf 'static-token-1\n' >sa/token &&
    printf 'team-a\n' >sa/namespace
mkdir -p home
env -u KUBECONFIG HOME=$scratch/home KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT=$port LB_K8S_SA_DIR=$scratch/sa \
    $K status -j ns-1 >i1 2>i1.err
ok "in-cluster: token, CA and namespace from the service account" $?
k8s state i1 >got; echo complete >want
expect_same "in-cluster: the Job in the account's namespace" want got
expect_exit "no configuration at all: usage error" 2 env -u KUBECONFIG \
    -u KUBERNETES_SERVICE_HOST HOME=$scratch/home $K status -j x 2>i2.err

# --- EKS
faultd_body=$scratch/describe.json
printf '{"cluster":{"name":"emu-cluster","status":"ACTIVE","endpoint":"%s","certificateAuthority":{"data":"%s"}}}' "$URL" "$CA64" >"$faultd_body"
FLOG=$scratch/faultd.log
: >faultd.out
$PY "$top/tests/emulators/faultd.py" --log "$FLOG" --script 200 \
    --body "$(cat "$faultd_body")" >faultd.out 2>faultd.err &
srv_started $!
wait_for test -s faultd.out
FURL=$(head -n 1 faultd.out)
# eks CMD...: with the emulator's AWS key, DescribeCluster from faultd
eks() {
	env -u KUBECONFIG HOME=$scratch/home AWS_ACCESS_KEY_ID=$AKID \
	    AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-west-2 \
	    AWS_ENDPOINT_URL_EKS=$FURL "$@"
}
admin DELETE requests >/dev/null
eks $K status --eks-cluster emu-cluster -j ok-1 >x1 2>x1.err
ok "EKS: DescribeCluster, then a token the cluster accepts" $?
expect_grep "EKS: DescribeCluster asked for the cluster" '"path": "/clusters/emu-cluster"' "$FLOG"
admin GET requests >xr1
expect_grep "EKS: the emulator verified an EKS token" '"auth":"eks"' xr1
eks $K status -v --eks-cluster emu-cluster -j ok-1 >/dev/null 2>x2.err
expect_grep "-v: the Authorization header is redacted" 'Authorization: \[redacted\]' x2.err
expect_nogrep "-v: no token in the trace" 'k8s-aws-v1\.' x2.err
eks $K token --eks-cluster emu-cluster >tokjson
jq1 'd[0]["status"]["token"]' tokjson >tok
curl -s --cacert ca.crt -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat tok)" "$URL$J/ok-1" >got
echo 200 >want
expect_same "token: the ExecCredential's token works with curl" want got
python3 -c 'import sys
t=open(sys.argv[1]).read().strip()
i=len(t)-5
print(t[:i]+("A" if t[i]!="A" else "B")+t[i+1:])' tok >tok2
curl -s --cacert ca.crt -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat tok2)" "$URL$J/ok-1" >got
echo 401 >want
expect_same "a tampered EKS token is refused" want got
cat >kc-x <<EOF
current-context: x
clusters:
- name: x
  cluster: {server: "$URL", certificate-authority-data: $CA64}
contexts:
- name: x
  context: {cluster: x, user: x}
users:
- name: x
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: lb-k8s-job
      args: [token, --eks-cluster, emu-cluster]
EOF
eks kubectl --kubeconfig kc-x --cache-dir $scratch/kcache2 \
    --request-timeout=20s get job ok-1 -o name >got 2>kx.err
echo job.batch/ok-1 >want
expect_same "kubectl with lb-k8s-job token as its exec plugin" want got
admin POST config '{"eks_clock_offset_s":1000}' >/dev/null
admin DELETE requests >/dev/null
expect_exit "EKS: an expired token is refused (exit 1)" 1 \
    eks $K status --eks-cluster emu-cluster -j ok-1 2>x3.err
admin GET requests | grep -o '"auth":"eks-rejected"' | wc -l | tr -d ' ' >got
echo 2 >want
expect_same "EKS: a new token was made once after the 401" want got
admin POST config '{"eks_clock_offset_s":0}' >/dev/null
expect_exit "EKS: another cluster's name is refused" 1 \
    eks $K status --eks-cluster not-this-one --server "$URL" \
    --certificate-authority ca.crt -j ok-1 2>x4.err
expect_exit "EKS without a region: usage error" 2 env -u AWS_REGION \
    -u AWS_DEFAULT_REGION HOME=$scratch/home AWS_ACCESS_KEY_ID=$AKID \
    AWS_SECRET_ACCESS_KEY=$SECRET $K status --eks-cluster emu-cluster -j x \
    2>x5.err

# --- usage
expect_exit "no verb: usage" 2 $K
expect_exit "unknown verb: usage" 2 $K frobnicate
expect_exit "create without a template: usage" 2 $K create </dev/null
expect_exit "a missing template file: usage" 2 $K render -f nope.yaml </dev/null

# --- the local stack's worker Job really runs (bubblewrap kubelet): the
# fake simulator and agent meet through the subPath mounts of "logs"
if bwrap --die-with-parent --unshare-all --share-net --ro-bind /usr /usr \
    --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
    -- /bin/true 2>/dev/null; then
	$PY "$emu" --kubeconfig-out kcl --ca-out cal.crt --token-file tokens \
	    --ro-bind "$top" --duration-ms 300 >emul.out 2>emul.err &
	srv_started $!
	wait_for test -s emul.out
	LURL=$(head -n 1 emul.out)
	$PY -c 'import json,sys
print(json.dumps({"metadata":{"name":"lb-local-env"},"data":{"PATH":
 sys.argv[1]+"/cmd:"+sys.argv[1]+"/examples/local:/usr/bin:/bin",
 "FAKE_ROUTE_SECONDS":"0.1"}}))' "$top" |
	    curl -s --cacert cal.crt -H "Authorization: Bearer static-token-1" \
	    -H 'Content-Type: application/json' -X POST --data-binary @- \
	    "$LURL/api/v1/namespaces/default/configmaps" >/dev/null
	# without the uploader: lb-logcopy has its own tests
	# the participant's image runs here only under local/
	jq -c '.submission.submitted_image_uri = "local/fake-agent:1"' \
	    "$T/worker.json" >lwdoc.json
	$K render -f "$top/examples/jobs/local/worker.yaml" <lwdoc.json |
	    $PY -c 'import json,sys
r=json.loads(sys.stdin.readline()); j=r.pop("job")
s=j["spec"]["template"]["spec"]
s["containers"]=[c for c in s["containers"] if c["name"]!="uploader"]
r["tmpl"]=j; print(json.dumps(r))' >lw.json
	KUBECONFIG=$scratch/kcl $K run -i 2 -m tmpl <lw.json >lw.out 2>lw.err
	ok "local/worker.yaml: the fake simulator and agent complete" $?
	KUBECONFIG=$scratch/kcl $K logs <lw.out >lw.log
	expect_grep "local: the agent drove its routes" '/agent: .*all 5 routes done' lw.log
	expect_grep "local: the simulator saw the agent's done marker" '/simulator: .*the agent is done' lw.log
else
	for t in 1 2 3; do ok "# SKIP bubblewrap does not work here" 0; done
fi
