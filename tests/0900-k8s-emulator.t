#!/bin/sh
# The Kubernetes API emulator (tests/emulators/k8s.py): API shapes, watch
# and 410 in both forms, EKS tokens, the scripted Job controller, the local
# kubelet (bubblewrap), faults, and interop with the real kubectl.
. "${0%/*}/lib.sh"
emu=$top/tests/emulators/k8s.py
command -v python3 >/dev/null 2>&1 || skip_all "python3 missing"
command -v openssl >/dev/null 2>&1 || skip_all "openssl missing"
# the pyenv shim is slow: find the interpreter once
PY=$(python3 -c 'import sys; print(sys.executable)')
$PY -c 'import botocore.auth' 2>/dev/null || skip_all "botocore missing"
plan 127

AKID=AKIDEMU0000000000001
printf '%s\n' "$AKID:emu/secret+key0000000000000000000000" >ekscreds
printf '%s\n' static-token-1 >tokens
# LB_TEST_NO_SANDBOX=1 forces the plain-subprocess kubelet
sandbox=${LB_TEST_NO_SANDBOX:+--no-sandbox}
if [ -z "$sandbox" ] && ! bwrap --die-with-parent --unshare-all --share-net --ro-bind /usr /usr \
    --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
    -- /bin/true 2>/dev/null; then
	sandbox=--no-sandbox
	echo "# bubblewrap does not work here: running with --no-sandbox"
fi

# start_emu ARGS: start the emulator, set URL, EPID, KC (kubeconfig)
start_emu() {
	$PY "$emu" --kubeconfig-out kc --ca-out ca.crt \
	    --token-file tokens --eks-cred-file ekscreds \
	    --eks-cluster emu-cluster --duration-ms 300 --grace-ms 300 \
	    --state-dir "$scratch/state" $sandbox "$@" >emu.out 2>emu.err &
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

TOK=static-token-1
# api METHOD PATH [CURL ARGS]: the response body on stdout, the HTTP code
# in the file code
api() {
	m=$1 p=$2
	shift 2
	curl -s --cacert ca.crt -X "$m" -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/json' -o body -w '%{http_code}' \
	    "$@" "$URL$p" >code
	cat body
}
admin() { curl -s --cacert ca.crt -X "$1" "$URL/_emu/$2" ${3:+-d "$3"}; }
J=/apis/batch/v1/namespaces/default/jobs
P=/api/v1/namespaces/default/pods

# wait_for CMD...: run CMD until it succeeds (30 s at most)
wait_for() {
	i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
# jobcond NAME TYPE: the Job has condition TYPE=True
jobcond() {
	api GET "$J/$1" | grep -q "\"type\":\"$2\",\"status\":\"True\""
}
# py EXPR FILE: evaluate EXPR over the JSON in FILE bound to o
py() {
	$PY -c 'import json,sys
o=json.load(open(sys.argv[2]))
r=eval(sys.argv[1])
print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"
}
# job NAME SCRIPT RESTART [EXTRA SPEC JSON]: a scripted Job body
job() {
	$PY -c 'import json,sys
n,s,r=sys.argv[1:4]
extra=json.loads(sys.argv[4]) if len(sys.argv)>4 else {}
j={"apiVersion":"batch/v1","kind":"Job","metadata":{"name":n,
 "annotations":{"emu.lb/script":s,"emu.lb/duration-ms":"200"}},
 "spec":{"template":{"spec":{"restartPolicy":r,
 "containers":[{"name":"main","image":"example.org/img:1"}]}}}}
j["spec"].update(extra)
print(json.dumps(j))' "$@"
}

start_emu

# --- API shapes
api GET /version >v.json
py 'o["major"]+"."+o["minor"]+" "+o["gitVersion"]' v.json >got
echo "1.31 v1.31.0" >want
expect_same "/version answers 1.31" want got
curl -s --cacert ca.crt "$URL$J" -o unauth.json -w '%{http_code}' >code
expect_grep "no token: 401" '^401$' code
cat >want <<'EOF'
{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}
EOF
expect_same "401 body is the Unauthorized Status" want unauth.json
TOK=wrong api GET "$J" >/dev/null
expect_grep "wrong static token: 401" '^401$' code
api GET /apis >apis.json
expect_grep "discovery lists batch/v1" '"groupVersion":"batch/v1"' apis.json
api GET /api/v1 >v1.json
expect_grep "core discovery lists pods/log" '"pods/log"' v1.json

job j1 succeed Never >j1.json
api POST "$J?fieldManager=lb-test&fieldValidation=Strict" -d @j1.json >j1.out
expect_grep "create: 201" '^201$' code
py 'o["spec"]["template"]["metadata"]["labels"]["job-name"]+" "+str(o["spec"]["backoffLimit"])+" "+o["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]+" "+o["metadata"]["managedFields"][0]["manager"]+" "+str(o["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"]==o["metadata"]["uid"])' j1.out >got
echo "j1 6 IfNotPresent lb-test True" >want
expect_same "create applies the server defaults" want got
api POST "$J" -d @j1.json >dup.json
expect_grep "create again: 409" '^409$' code
cat >want <<'EOF'
{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch \"j1\" already exists","reason":"AlreadyExists","details":{"name":"j1","group":"batch","kind":"jobs"},"code":409}
EOF
expect_same "409 body is AlreadyExists" want dup.json
api GET "$J/nope" >nf.json
cat >want <<'EOF'
{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"batch","kind":"jobs"},"code":404}
EOF
expect_same "404 body is NotFound" want nf.json
job bad succeed Always >bad.json
api POST "$J" -d @bad.json >bad.out
expect_grep "restartPolicy Always: 422" '^422$' code
expect_grep "422 names the field and the Kind" '"kind":"Job","causes":\[{"reason":"FieldValueNotSupported"' bad.out
long=$(printf 'a%.0s' $(seq 1 70))
job "$long" succeed Never >long.json
api POST "$J" -d @long.json >long.out
expect_grep "70-character name: 63 bytes rule" 'spec.template.labels: Invalid value.*must be no more than 63 bytes' long.out
printf '{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x"}' >trunc.json
api POST "$J" -d @trunc.json >trunc.out
expect_grep "truncated JSON: 400 BadRequest" '"reason":"BadRequest"' trunc.out
job strict succeed Never '{"bogus":1}' >strict.json
api POST "$J?fieldValidation=Strict" -d @strict.json >strict.out
expect_grep "Strict: unknown field is 400" 'strict decoding error: unknown field \\"spec.bogus\\"' strict.out
hostile='$(touch pwned);`id`;"\\ ünï'
api GET "$J?labelSelector=$($PY -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "job-name=$hostile")" >hl.out
expect_grep "hostile label selector is answered" '^[24]00$' code
[ ! -e pwned ]; ok "no shell ran the selector" $?

# hostile bodies: wrong types everywhere, huge and odd values; never a 500
$PY - "$URL" "$TOK" >fuzz.out 2>&1 <<'EOF'
import copy, json, random, ssl, sys, urllib.request, urllib.error
url, tok = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile="ca.crt")
base = {"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "fz", "labels": {"a": "b"}},
        "spec": {"backoffLimit": 1, "template": {"metadata": {"labels": {}},
                 "spec": {"restartPolicy": "Never",
                          "volumes": [{"name": "v", "emptyDir": {}}],
                          "containers": [{"name": "c", "image": "i:1",
                                          "command": ["x"], "env": [
                                              {"name": "E", "value": "v"}],
                                          "volumeMounts": [{"name": "v",
                                              "mountPath": "/v"}]}]}}}}
paths = []
def walk(o, p):
    paths.append(p)
    if isinstance(o, dict):
        for k, v in o.items():
            walk(v, p + [k])
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, p + [i])
walk(base, [])
odd = [None, 7, -1, 2**40, 1.5, True, "", "x" * 300, [], {}, [1, "a"],
       {"k": [None]}, "$(touch pwned)", "\u00fc\u0000\ud7ff"]
random.seed(4)
codes = {}
bodies = [b"", b"{", b"[]", b"null", b'"str"', b"{}" * 3, b"\xff\xfe",
          b'{"metadata":' * 200, json.dumps(base).encode() * 2,
          json.dumps(dict(base, metadata={"name": "x" * 100000})).encode()]
for p in paths[1:]:
    for v in random.sample(odd, 4):
        j = copy.deepcopy(base)
        o = j
        for k in p[:-1]:
            o = o[k]
        o[p[-1]] = v
        bodies.append(json.dumps(j).encode())
for i, b in enumerate(bodies):
    req = urllib.request.Request(url + "/apis/batch/v1/namespaces/default/jobs?dryRun=All",
        data=b, method="POST", headers={"Authorization": "Bearer " + tok,
                                        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
            c = r.status
    except urllib.error.HTTPError as e:
        c = e.code
        st = json.loads(e.read())
        assert st["kind"] == "Status" and st["code"] == c, st
    codes[c] = codes.get(c, 0) + 1
    if c >= 500:
        print("500 for body", b[:300])
print(len(bodies), "bodies", sorted(codes.items()))
EOF
rc=$?
sed 's/^/# /' fuzz.out
ok "hostile Job bodies get 201/400/422 Status answers, never 5xx" $(( rc != 0 ))
expect_nogrep "no 500 in the hostile run" '^500 for body' fuzz.out
[ ! -e pwned ]; ok "nothing ran from a hostile body" $?
api GET /version >/dev/null
expect_grep "the server still answers" '^200$' code

wait_for jobcond j1 Complete
ok "j1 completes" $?
api GET "$J/j1" >j1.done
py '[c["type"] for c in o["status"]["conditions"]]' j1.done >got
echo '["SuccessCriteriaMet", "Complete"]' >want
expect_same "1.31 sequence: SuccessCriteriaMet then Complete" want got
py 'str(o["status"]["succeeded"])+" "+str("completionTime" in o["status"])+" "+str(o["status"].get("active",0))' j1.done >got
echo "1 True 0" >want
expect_same "counters of a complete Job" want got

# list with selectors and paging
for jn in j2 j3 j4; do job $jn hang Never >$jn.json; api POST "$J" -d @$jn.json >/dev/null; done
api GET "$J?labelSelector=job-name%3Dj3" >l.json
py '[i["metadata"]["name"] for i in o["items"]]' l.json >got
echo '["j3"]' >want
expect_same "labelSelector job-name=j3" want got
api GET "$J?labelSelector=job-name%20in%20(j2,j4),job-name!%3Dj4" >l.json
py '[i["metadata"]["name"] for i in o["items"]]' l.json >got
echo '["j2"]' >want
expect_same "set-based and != selectors" want got
api GET "$J?fieldSelector=metadata.name%3Dj4" >l.json
py '[i["metadata"]["name"] for i in o["items"]]+["kind" in o["items"][0]]' l.json >got
echo '["j4", false]' >want
expect_same "fieldSelector; list items carry no kind" want got
api GET "$J?limit=2" >p1.json
c=$(py 'o["metadata"]["continue"]' p1.json)
api GET "$J?limit=2&continue=$c" >p2.json
py '[i["metadata"]["name"] for i in o["items"]]' p1.json >got
py '[i["metadata"]["name"] for i in o["items"]]' p2.json >>got
printf '%s\n' '["j1", "j2"]' '["j3", "j4"]' >want
expect_same "limit and continue page the list" want got
api GET "$J?fieldSelector=spec.bogus%3D1" >/dev/null
expect_grep "unsupported field selector: 400" '^400$' code

# --- watch
api GET "$J/j2" >j2.get
rv=$(py 'o["metadata"]["resourceVersion"]' j2.get)
api GET "$J?watch=true&fieldSelector=metadata.name%3Dj2&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=1" >w1
expect_grep "watch ends at timeoutSeconds with a BOOKMARK" '^{"type":"BOOKMARK","object":{"kind":"Job","apiVersion":"batch/v1","metadata":{"resourceVersion":"[0-9]*"}}}$' w1
api GET "$J?watch=true&fieldSelector=metadata.name%3Dj2&timeoutSeconds=1" >w2
expect_grep "watch without RV starts with a synthetic ADDED" '^{"type":"ADDED","object":{"apiVersion":"batch/v1","kind":"Job","metadata":{.*"name":"j2"' w2
curl -s --cacert ca.crt -H "Authorization: Bearer $TOK" -o w3 \
    "$URL$J?watch=true&labelSelector=job-name%3Dj3&resourceVersion=$rv&timeoutSeconds=60" &
wpid=$!
api DELETE "$J/j3" -d '{"propagationPolicy":"Background"}' >bg.json
wait_for sh -c "curl -s --cacert ca.crt '$URL/_emu/info' | grep -q '\"watches\":1,'"
admin POST watches/close >/dev/null
wait $wpid 2>/dev/null
expect_grep "Background delete: DELETED event on the watch" '^{"type":"DELETED","object":{.*"name":"j3"' w3
py 'o["status"]+" "+o["details"]["kind"]+" "+str(o["code"])' bg.json >got
echo "Success jobs 200" >want
expect_same "Background delete answers a Success Status" want got
api GET "$J/j3" >/dev/null
expect_grep "Background: the Job is gone at once" '^404$' code
admin POST compact >/dev/null
api GET "$J?watch=true&resourceVersion=$rv&timeoutSeconds=5" >g1
expect_grep "compacted RV, event form: 200" '^200$' code
expect_grep "compacted RV: ERROR event 410 Expired" '^{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: [0-9]* ([0-9]*)","reason":"Expired","code":410}}$' g1
admin POST config '{"gone_mode":"http"}' >/dev/null
api GET "$J?watch=true&resourceVersion=$rv&timeoutSeconds=5" >g2
expect_grep "compacted RV, http form: HTTP 410" '^410$' code
expect_grep "HTTP 410 body is an Expired Status" '"reason":"Expired","code":410' g2
admin POST config '{"gone_reason":"Gone"}' >/dev/null
api GET "$J?watch=true&resourceVersion=$rv&timeoutSeconds=5" >g3
expect_grep "gone_reason Gone: older servers' reason" '"reason":"Gone","code":410' g3
admin POST config '{"gone_mode":"event","gone_reason":"Expired"}' >/dev/null
# a pod watch by label sees the pods of a new Job through to Succeeded
prv=$(api GET "$P" | $PY -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
curl -s --cacert ca.crt -H "Authorization: Bearer $TOK" -o pw.out \
    "$URL$P?watch=true&labelSelector=job-name%3Dpw&resourceVersion=$prv&timeoutSeconds=60" &
pwpid=$!
wait_for sh -c "curl -s --cacert ca.crt '$URL/_emu/info' | grep -q '\"watches\":1,'"
job pw succeed Never >pw.json
api POST "$J" -d @pw.json >/dev/null
wait_for jobcond pw Complete
admin POST watches/close >/dev/null
wait $pwpid
cut -c1-60 pw.out | sed 's/{"type":"\([A-Z]*\)".*/\1/' | uniq >got
printf '%s\n' ADDED MODIFIED >want
expect_same "pod watch: ADDED, then MODIFIED events" want got
expect_grep "pod watch reached Succeeded" '"phase":"Succeeded"' pw.out

# --- delete policies
api DELETE "$J/j4" >orph.json
curl -s -i --cacert ca.crt -X DELETE -H "Authorization: Bearer $TOK" \
    "$URL$J/j2" >orph.hdr
expect_grep "no policy: Orphan warning header" '^Warning: 299 - "child pods are preserved by default' orph.hdr
py 'o["metadata"]["finalizers"]' orph.json >got
echo '["orphan"]' >want
expect_same "Orphan: the Job carries the orphan finalizer" want got
wait_for sh -c "! curl -sf --cacert ca.crt -H 'Authorization: Bearer $TOK' $URL$J/j4"
ok "Orphan: the Job goes away" $?
api GET "$P?labelSelector=job-name%3Dj4" >op.json
py '[len(o["items"]), o["items"][0]["metadata"].get("ownerReferences",[]), o["items"][0]["status"]["phase"]]' op.json >got
echo '[1, [], "Running"]' >want
expect_same "Orphan: the pod keeps running without owner" want got
job fg hang Never >fg0.json
sed 's/"emu.lb\/script"/"emu.lb\/grace-ms":"4000","emu.lb\/script"/' fg0.json >fg.json
api POST "$J" -d @fg.json >fg.out
uid=$(py 'o["metadata"]["uid"]' fg.out)
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' '$URL$P?labelSelector=controller-uid%3D$uid' | grep -q Running"
api DELETE "$J/fg" -d '{"propagationPolicy":"Foreground","preconditions":{"uid":"wrong"}}' >pc.json
expect_grep "uid precondition mismatch: 409 Conflict" 'Precondition failed: UID in precondition: wrong.*"reason":"Conflict"' pc.json
api DELETE "$J/fg?propagationPolicy=Background" -d "{\"propagationPolicy\":\"Foreground\",\"preconditions\":{\"uid\":\"$uid\"}}" >fgd.json
py '[o["metadata"]["finalizers"], "deletionTimestamp" in o["metadata"]]' fgd.json >got
echo '[["foregroundDeletion"], true]' >want
expect_same "Foreground (body wins over query): deletionTimestamp + finalizer" want got
api POST "$J" -d @fg.json >/dev/null
expect_grep "create during Foreground deletion: 409" '^409$' code
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' -o /dev/null -w '%{http_code}' $URL$J/fg | grep -q 404"
ok "Foreground: the Job goes once its pods are gone" $?
api GET "$P?labelSelector=controller-uid%3D$uid" >fgp.json
py 'len(o["items"])' fgp.json >got
echo 0 >want
expect_same "Foreground: no pod left" want got

# --- scripted controller
job fn fail-never Never '{"backoffLimit":1}' >fn.json
api POST "$J" -d @fn.json >/dev/null
wait_for jobcond fn Failed
ok "fail-never: the Job fails" $?
api GET "$J/fn" >fn.done
py '[[c["type"],c["reason"]] for c in o["status"]["conditions"]]+[o["status"]["failed"], "completionTime" in o["status"]]' fn.done >got
echo '[["FailureTarget", "BackoffLimitExceeded"], ["Failed", "BackoffLimitExceeded"], 2, false]' >want
expect_same "Never: failed > backoffLimit; FailureTarget first" want got
job fo fail-onfailure OnFailure '{"backoffLimit":2}' >fo.json
api POST "$J" -d @fo.json >/dev/null
wait_for jobcond fo Failed
ok "fail-onfailure: the Job fails" $?
api GET "$P?labelSelector=job-name%3Dfo" >fop.json
py 'len(o["items"])' fop.json >got
echo 0 >want
expect_same "OnFailure: the restarting pod is deleted at the limit" want got
admin POST config '{"conditions":"legacy"}' >/dev/null
job dl deadline Never '{"activeDeadlineSeconds":1}' >dl.json
api POST "$J" -d @dl.json >/dev/null
wait_for jobcond dl Failed
ok "deadline: the Job fails" $?
api GET "$J/dl" >dl.done
py '[[c["type"],c["reason"]] for c in o["status"]["conditions"]]' dl.done >got
echo '[["Failed", "DeadlineExceeded"]]' >want
expect_same "legacy: Failed at once, DeadlineExceeded" want got
job lc succeed Never >lc.json
api POST "$J" -d @lc.json >/dev/null
wait_for jobcond lc Complete
api GET "$J/lc" >lc.done
py '[[c["type"],c["reason"]] for c in o["status"]["conditions"]]' lc.done >got
echo '[["Complete", ""]]' >want
expect_same "legacy: Complete alone, empty reason" want got
admin POST config '{"conditions":"1.31"}' >/dev/null
job si stuck-image Never >si.json
api POST "$J" -d @si.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' '$URL$P?labelSelector=job-name%3Dsi' | grep -q ImagePullBackOff"
ok "stuck-image: container waiting ImagePullBackOff" $?
pod=$(api GET "$P?labelSelector=job-name%3Dsi" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
api GET "$P/$pod/log" >wl
expect_grep "log of a waiting container: 400 waiting to start" 'is waiting to start: ImagePullBackOff' wl
job us unschedulable Never >us.json
api POST "$J" -d @us.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' '$URL$P?labelSelector=job-name%3Dus' | grep -q Unschedulable"
api GET "$P?labelSelector=job-name%3Dus" >us.out
py '[[c["type"],c["status"],c["reason"]] for c in o["items"][0]["status"]["conditions"]]' us.out >got
echo '[["PodScheduled", "False", "Unschedulable"]]' >want
expect_same "unschedulable: PodScheduled=False Unschedulable" want got
upod=$(py 'o["items"][0]["metadata"]["name"]' us.out)
api GET "$P/$upod/log?container=main" >ul
ok "log of an unscheduled pod: 200 and empty" $(( $(cat code) != 200 || $(wc -c <ul) != 0 ))
job ev evict Never >ev.json
api POST "$J" -d @ev.json >/dev/null
wait_for jobcond ev Complete
api GET "$P?labelSelector=job-name%3Dev" >ev.out
py 'sorted([p["status"]["phase"], p["status"].get("reason",""), [c["type"] for c in p["status"]["conditions"] if c["type"]=="DisruptionTarget"]] for p in o["items"])' ev.out >got
echo '[["Failed", "Evicted", ["DisruptionTarget"]], ["Succeeded", "", []]]' >want
expect_same "evict: first pod Evicted with DisruptionTarget, then a new pod" want got
job fc hang Never >fc.json
api POST "$J" -d @fc.json >/dev/null
admin POST jobs/default/fc/fail >/dev/null
wait_for jobcond fc Failed
ok "admin fail ends a hanging Job" $?
job tt succeed Never '{"ttlSecondsAfterFinished":0}' >tt.json
api POST "$J" -d @tt.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' -o /dev/null -w '%{http_code}' $URL$J/tt | grep -q 404"
ok "ttlSecondsAfterFinished: 0 deletes the finished Job" $?

# --- EKS tokens
# eks_token CLUSTER [AGE_SECONDS]: a token signed with botocore
eks_token() {
	$PY - "$@" <<'EOF'
import base64, datetime, sys
import botocore.auth, botocore.awsrequest, botocore.credentials
akid, secret = open("ekscreds").read().strip().split(":", 1)
cluster = sys.argv[1]
age = int(sys.argv[2]) if len(sys.argv) > 2 else 0
t = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
    datetime.timedelta(seconds=age)
botocore.auth.get_current_datetime = lambda: t
req = botocore.awsrequest.AWSRequest(method="GET",
    url="https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
    headers={"x-k8s-aws-id": cluster})
botocore.auth.SigV4QueryAuth(botocore.credentials.Credentials(akid, secret),
    "sts", "us-west-2", expires=60).add_auth(req)
print("k8s-aws-v1." + base64.urlsafe_b64encode(req.url.encode()).decode().rstrip("="))
EOF
}
TOK=$(eks_token emu-cluster) api GET "$J" >/dev/null
expect_grep "fresh EKS token: 200" '^200$' code
TOK=$(eks_token emu-cluster 600) api GET "$J" >/dev/null
expect_grep "10-minute-old token (X-Amz-Expires 60 ignored): 200" '^200$' code
TOK=$(eks_token emu-cluster 960) api GET "$J" >eks1
expect_grep "16-minute-old token: 401" '^401$' code
expect_grep "expired token: Unauthorized Status" '"reason":"Unauthorized"' eks1
TOK=$(eks_token other-cluster) api GET "$J" >/dev/null
expect_grep "token for another cluster: 401" '^401$' code
t=$(eks_token emu-cluster)
tampered=$($PY -c 'import base64,sys
t=sys.argv[1][11:]; u=base64.urlsafe_b64decode(t+"="*(-len(t)%4)).decode()
u=u.replace("Version=2011-06-15","Version=2011-06-16")
print("k8s-aws-v1."+base64.urlsafe_b64encode(u.encode()).decode().rstrip("="))' "$t")
TOK=$tampered api GET "$J" >/dev/null
expect_grep "tampered token: 401" '^401$' code
TOK=k8s-aws-v1.%%%notbase64 api GET "$J" >/dev/null
expect_grep "garbage EKS token: 401" '^401$' code
# the known-answer vector of reference/k8s.md 4.3, with the clock set near it
printf '%s\n' "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" >>ekscreds
kat_url='https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=96ddda09e9523f6363892f52e5828dd6265b22ec87d8c91e28200a0ba6b77a30'
kat=$($PY -c 'import base64,sys; print("k8s-aws-v1."+base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$kat_url")
ok "known-answer token is 481 characters" $(( ${#kat} != 481 ))
$PY -c 'import sys; sys.path.insert(0, sys.argv[1])
import k8s, time
ident, why = k8s.eks_verify(sys.argv[2], {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    "my-cluster", k8s.parse_time("2024-01-02T03:10:00Z"))
print(ident, why)' "$top/tests/emulators" "$kat" >kat.out
expect_grep "known-answer token verifies" '^arn:aws:iam::000000000000:user/AKIDEXAMPLE None$' kat.out
$PY -c 'import sys; sys.path.insert(0, sys.argv[1])
import k8s
print(k8s.eks_verify(sys.argv[2], {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    "my-cluster", k8s.parse_time("2024-01-02T03:19:06Z"))[1])' "$top/tests/emulators" "$kat" >kat2.out
expect_grep "known-answer token 15 min 1 s later: expired" '^token expired$' kat2.out
admin GET requests >reqs.json
expect_nogrep "request log holds no token" 'k8s-aws-v1\|static-token' reqs.json

# --- faults
admin POST fault '{"count":1,"status":429,"retry_after":2,"path_regex":"/jobs/j1$"}' >/dev/null
curl -s -i --cacert ca.crt -H "Authorization: Bearer $TOK" "$URL$J/j1" >f1
expect_grep "fault 429 with Retry-After" '^Retry-After: 2' f1
expect_grep "fault 429 body is TooManyRequests" '"reason":"TooManyRequests","details":{"retryAfterSeconds":2}' f1
api GET "$J/j1" >/dev/null
expect_grep "fault count spent: next request 200" '^200$' code
admin POST fault '{"count":1,"status":403,"method":"POST","path_regex":"/jobs"}' >/dev/null
api POST "$J" -d @j1.json >f403
expect_grep "fault 403 has the RBAC wording" '"message":"jobs.batch is forbidden: User \\"emu-user\\" cannot create resource \\"jobs\\" in API group \\"batch\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"group":"batch","kind":"jobs"},"code":403' f403
admin POST fault '{"count":1,"status":500,"method":"POST","path_regex":"/jobs$"}' >/dev/null
# the refused POST's body is drained: the kept-alive connection's next
# request is answered as itself
$PY - "$URL" "$TOK" "$J" >ka.out 2>&1 <<'EOF'
import http.client, json, ssl, sys, urllib.parse
url, tok, j = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
c = http.client.HTTPSConnection(u.hostname, u.port,
    context=ssl.create_default_context(cafile="ca.crt"))
h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
c.request("POST", j, body=json.dumps({"apiVersion": "batch/v1",
          "kind": "Job", "metadata": {"name": "ka"}, "spec": {}}), headers=h)
r = c.getresponse(); r.read(); print("first", r.status)
c.request("GET", j, headers=h)
r = c.getresponse(); b = r.read(); print("second", r.status, json.loads(b)["kind"])
EOF
expect_grep "a POST refused by a fault keeps the connection in step" '^second 200 JobList$' ka.out
admin POST fault '{"count":1,"mode":"reset","path_regex":"/jobs/j1$"}' >/dev/null
curl -s --cacert ca.crt -H "Authorization: Bearer $TOK" "$URL$J/j1" >/dev/null 2>&1
rc=$?
ok "fault reset drops the connection (curl exit $rc)" $((rc == 0))
admin POST fault '{"count":1,"mode":"silent-watch","path_regex":"/jobs"}' >/dev/null
rv=$(api GET "$J" | $PY -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
curl -s --max-time 2 --cacert ca.crt -H "Authorization: Bearer $TOK" "$URL$J?watch=true&resourceVersion=$rv" >sw
rc=$?
ok "silent-watch: no event, client times out (curl exit $rc)" $(( rc != 28 || $(wc -c <sw) != 0 ))

# --- local kubelet (bubblewrap unless unavailable)
mp=$scratch/vol
cat >lk.json <<EOF
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"lk"},
 "spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never",
 "volumes":[{"name":"shared","emptyDir":{}}],
 "initContainers":[{"name":"init","image":"local/init:1",
   "command":["/bin/sh","-c","echo from-init >$mp/init.txt"],
   "volumeMounts":[{"name":"shared","mountPath":"$mp"}]}],
 "containers":[
  {"name":"writer","image":"local/writer:1","command":["/bin/sh","-c"],
   "args":["printf '%s %s\\\\n' \"\$PW\" \"\$ME\" >$mp/tmp.txt && mv $mp/tmp.txt $mp/out.txt"],
   "env":[{"name":"PW","valueFrom":{"secretKeyRef":{"name":"lks","key":"pw"}}},
          {"name":"ME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
   "volumeMounts":[{"name":"shared","mountPath":"$mp"}]},
  {"name":"reader","image":"local/reader:1","command":["/bin/sh","-c",
   "while [ ! -f $mp/out.txt ]; do sleep 0.05; done; cat $mp/out.txt $mp/init.txt"],
   "volumeMounts":[{"name":"shared","mountPath":"$mp"}]}]}}}}
EOF
api POST /api/v1/namespaces/default/secrets -d '{"metadata":{"name":"lks"},"stringData":{"pw":"s3cr$t `x`"}}' >/dev/null
expect_grep "create a Secret: 201" '^201$' code
api POST "$J" -d @lk.json >/dev/null
wait_for jobcond lk Complete
ok "local pod with init container and shared emptyDir completes" $?
lpod=$(api GET "$P?labelSelector=job-name%3Dlk" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
api GET "$P/$lpod/log?container=reader" >rl
printf '%s\n' "s3cr\$t \`x\` $lpod" from-init >want
expect_same "reader sees writer's file (secret env, fieldRef) and init's file" want rl
api GET "$P/$lpod/log" >nl
expect_grep "log without container on a 2-container pod: 400" 'a container name must be specified for pod .*, choose one of: \[writer reader\] or one of the init containers: \[init\]' nl
api GET "$P/$lpod/log?container=nope" >nl
expect_grep "unknown container: 400" 'container nope is not valid for pod' nl
api GET "$P/$lpod/log?container=reader&timestamps=true&tailLines=1" >tl
expect_grep "timestamps and tailLines" '^20[0-9-]*T[0-9:]*\.[0-9]\{9\}Z from-init$' tl
ok "tailLines=1 gives one line" $(( $(wc -l <tl) != 1 ))
api GET "$P/$lpod/log?container=reader&limitBytes=4" >lb4
printf 's3cr' >want
expect_same "limitBytes=4 cuts the log" want lb4
api GET "$P/$lpod/log?container=reader&sinceTime=2999-01-01T00:00:00Z" >st
ok "sinceTime in the future: empty log" $(( $(wc -c <st) != 0 ))

cat >lr.json <<EOF
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"lr"},
 "spec":{"backoffLimit":3,"template":{"spec":{"restartPolicy":"OnFailure",
 "volumes":[{"name":"v","emptyDir":{}}],
 "containers":[{"name":"flaky","image":"local/flaky:1","command":["/bin/sh","-c",
  "if [ -f $mp-r/tried ]; then echo second; exit 0; fi; touch $mp-r/tried; echo first; exit 3"],
  "volumeMounts":[{"name":"v","mountPath":"$mp-r"}]}]}}}}
EOF
api POST "$J" -d @lr.json >/dev/null
wait_for jobcond lr Complete
ok "OnFailure: a container failing once is restarted and the Job completes" $?
rpod=$(api GET "$P?labelSelector=job-name%3Dlr" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
api GET "$P/$rpod" >rp.json
py '[o["status"]["containerStatuses"][0]["restartCount"], o["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"]]' rp.json >got
echo '[1, 3]' >want
expect_same "restartCount 1, lastState exit code 3" want got
api GET "$P/$rpod/log?previous=true" >prev
echo first >want
expect_same "previous=true gives the first instance's log" want prev

cat >lb.json <<'EOF'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"lb"},
 "spec":{"backoffLimit":1,"template":{"spec":{"restartPolicy":"Never",
 "containers":[{"name":"bad","image":"local/bad:1","command":["/bin/sh","-c","echo failing; exit 7"]}]}}}}
EOF
api POST "$J" -d @lb.json >/dev/null
wait_for jobcond lb Failed
ok "backoffLimit exhausted by local failures" $?
api GET "$J/lb" >lb.done
api GET "$P?labelSelector=job-name%3Dlb" >lbp.json
py '[o["status"]["failed"], o["status"]["conditions"][-1]["reason"]]' lb.done >got
py '[[p["status"]["phase"], p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]] for p in o["items"]]' lbp.json >>got
printf '%s\n' '[2, "BackoffLimitExceeded"]' '[["Failed", 7], ["Failed", 7]]' >want
expect_same "two failed pods with exit code 7" want got

# follow a log until the container instance ends
cat >lf.json <<'EOF'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"lf"},
 "spec":{"template":{"spec":{"restartPolicy":"Never",
 "containers":[{"name":"main","image":"local/f:1","command":["/bin/sh","-c","for i in 1 2 3; do echo line$i; sleep 0.2; done"]}]}}}}
EOF
api POST "$J" -d @lf.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' '$URL$P?labelSelector=job-name%3Dlf' | grep -q '\"running\":\|\"terminated\":'"
fpod=$(api GET "$P?labelSelector=job-name%3Dlf" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
api GET "$P/$fpod/log?follow=true" --max-time 30 >fl
printf '%s\n' line1 line2 line3 >want
expect_same "follow=true streams every line and ends with the container" want fl

# deleting a pod kills its processes; the Job replaces the pod
cat >pk.json <<'EOF'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pk"},
 "spec":{"template":{"spec":{"restartPolicy":"Never",
 "containers":[{"name":"main","image":"local/s:1","command":["/bin/sh","-c","trap '' TERM; echo up; while :; do sleep 1; done"]}]}}}}
EOF
api POST "$J" -d @pk.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt '$URL/_emu/info' | grep -q '\"processes\":\[[0-9]'"
kpod=$(api GET "$P?labelSelector=job-name%3Dpk" | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
pgids=$(admin GET info | $PY -c 'import json,sys; print(" ".join(str(p) for p in json.load(sys.stdin)["processes"]))')
api DELETE "$P/$kpod" >/dev/null
expect_grep "DELETE pod: 200" '^200$' code
left=0
for g in $pgids; do
	wait_for sh -c "! pgrep -g $g >/dev/null" || left=$((left + 1))
done
ok "a pod ignoring SIGTERM is killed after the grace period" $(( left != 0 || ${#pgids} == 0 ))
wait_for sh -c "curl -s --cacert ca.crt -H 'Authorization: Bearer $TOK' '$URL$J/pk' | grep -q '\"failed\":1'"
ok "the deleted pod counts as failed" $?
api GET "$P/$kpod" >/dev/null
expect_grep "the deleted pod is gone: 404" '^404$' code
api DELETE "$J/pk?propagationPolicy=Background" >/dev/null
admin POST fault '{"count":1,"mode":"drop-watch","path_regex":"/pods"}' >/dev/null
curl -s --max-time 10 --cacert ca.crt -H "Authorization: Bearer $TOK" "$URL$P?watch=true" >dw 2>&1
rc=$?
ok "drop-watch: the stream is cut, not ended (curl exit $rc)" $(( rc == 0 || rc == 28 ))

# --- kubectl interop
KC="kubectl --kubeconfig kc --cache-dir $scratch/kcache --request-timeout=20s"
cat >kj.yaml <<'EOF'
apiVersion: batch/v1
kind: Job
metadata:
  name: kj
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: local/sleeper:1
        command: ["/bin/sh", "-c", "echo kubectl-log-line; exec sleep 300"]
EOF
$KC create -f kj.yaml --validate=false >kc1 2>&1
expect_grep "kubectl create -f" '^job.batch/kj created$' kc1
$KC create -f kj.yaml --validate=false >kc2 2>&1
expect_grep "kubectl create again: AlreadyExists" '^Error from server (AlreadyExists).*jobs.batch "kj" already exists' kc2
$KC get jobs >kc3 2>&1
expect_grep "kubectl get jobs lists kj" '^kj ' kc3
$KC get job nope >kc4 2>&1
expect_grep "kubectl get missing job: NotFound" '^Error from server (NotFound): jobs.batch "nope" not found' kc4
wait_for sh -c "$KC logs job/kj | grep -q kubectl-log-line"
$KC logs job/kj >kc5 2>&1
expect_grep "kubectl logs job/kj" '^kubectl-log-line$' kc5
admin GET info >info.json
pgids=$(py '" ".join(str(p) for p in o["processes"])' info.json)
alive=0
for g in $pgids; do kill -0 "$g" 2>/dev/null && alive=$((alive + 1)); done
ok "the sleeping container runs as a process ($alive)" $((alive == 0))
cat >sj.yaml <<'EOF'
apiVersion: batch/v1
kind: Job
metadata:
  name: sj
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: "example.org/x:1"}]
EOF
$KC create -f sj.yaml --validate=false >/dev/null 2>&1
wait_for jobcond sj Suspended
ok "suspend: condition Suspended=True" $?
api GET "$P?labelSelector=job-name%3Dsj" | grep -c '"name":"sj-' >got
echo 0 >want
expect_same "suspend: no pod" want got
$KC patch job sj -p '{"spec":{"suspend":false}}' >kp 2>&1
expect_grep "kubectl patch (strategic merge)" '^job.batch/sj patched$' kp
wait_for jobcond sj Complete
ok "resumed Job completes" $?
$KC label job sj team=a-b >kp 2>&1
$KC get job sj -o 'jsonpath={.metadata.labels.team} {.metadata.generation}{"\n"}' >got 2>&1
echo "a-b 2" >want
expect_same "kubectl label; generation moved with the spec" want got
$KC patch job sj -p '{"spec":{"template":{"spec":{"restartPolicy":"OnFailure"}}}}' >kp 2>&1
expect_grep "patching the template: immutable" 'spec.template: Invalid value: field is immutable' kp

( $KC get jobs -w >kw.out 2>&1; echo "rc=$?" >>kw.out ) &
kwpid=$!
wait_for grep -q '^kj ' kw.out
admin POST watches/close >/dev/null
wait $kwpid
expect_grep "kubectl get -w exits 0 when the server ends the watch" '^rc=0$' kw.out
$KC delete job kj --cascade=foreground >kc6 2>&1
expect_grep "kubectl delete --cascade=foreground" '^job.batch "kj" deleted$' kc6
left=0
for g in $pgids; do
	wait_for sh -c "! pgrep -g $g >/dev/null" || left=$((left + 1))
done
ok "deleting the Job killed its processes" $left
admin GET requests >reqs.json
expect_grep "kubectl sent the Foreground DeleteOptions body" '"method":"DELETE","path":"/apis/batch/v1/namespaces/default/jobs/kj?[^"]*","status":200,"auth":"bearer","note":"propagationPolicy=Foreground"' reqs.json
api GET "$J/kj" >/dev/null
expect_grep "after kubectl delete: 404" '^404$' code

# --- SIGTERM kills every process the emulator started
cat >ks.json <<'EOF'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"ks"},
 "spec":{"template":{"spec":{"restartPolicy":"Never",
 "containers":[{"name":"main","image":"local/s:1","command":["/bin/sh","-c","echo up; exec sleep 300"]}]}}}}
EOF
api POST "$J" -d @ks.json >/dev/null
wait_for sh -c "curl -s --cacert ca.crt '$URL/_emu/info' | grep -q '\"processes\":\[[0-9]'"
admin GET info >info.json
pgids=$(py '" ".join(str(p) for p in o["processes"])' info.json)
kill -TERM $EPID
wait $EPID
rc=$?
ok "emulator exits 0 on SIGTERM" $rc
left=0
for g in $pgids; do
	wait_for sh -c "! pgrep -g $g >/dev/null" || left=$((left + 1))
done
ok "SIGTERM killed the container processes ($pgids)" $(( left != 0 || ${#pgids} == 0 ))
expect_nogrep "no Python traceback on stderr" 'Traceback' emu.err

# --- plain http
rm -f emu.out
start_emu --http
case $URL in http://127.0.0.1:*) r=0 ;; *) r=1 ;; esac
ok "--http: the first line is an http URL" $r
curl -s -o /dev/null -w '%{http_code}' "$URL$J" >code
expect_grep "--http still needs a token" '^401$' code
curl -s -H "Authorization: Bearer $TOK" "$URL$J" >hl.json
expect_grep "--http with a token lists Jobs" '"kind":"JobList"' hl.json
expect_nogrep "--http kubeconfig has no CA data" 'certificate-authority-data' kc
