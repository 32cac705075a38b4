#!/bin/sh
# tests/bench/k8s.sh: lb-k8s-job against the Kubernetes emulator, printed
# as markdown rows (median, min-max over RUNS runs):
#   - how long after the emulator marks a Job complete (POST
#     /_emu/jobs/NS/NAME/complete) `lb-k8s-job wait` returns;
#   - a create + delete round trip, lb-k8s-job against kubectl.
#   RUNS   runs per measurement (default 7, at least 5)
LB_TOP=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
export LB_TOP
# shellcheck source=tests/lib.sh
. "$LB_TOP/tests/lib.sh"
runs=${RUNS:-7}
[ "$runs" -ge 5 ] || runs=5
command -v kubectl >/dev/null 2>&1 || skip_all "kubectl not installed"
printf 'bench-token\n' >tokens
$PY "$LB_TOP/tests/emulators/k8s.py" --kubeconfig-out kc --ca-out ca.crt \
    --no-sandbox --token-file tokens --duration-ms 300 --grace-ms 50 \
    >emu.out 2>emu.err &
srv_started $!
i=0
while [ ! -s emu.out ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(head -n 1 emu.out)
[ -n "$URL" ] || { echo "emulator did not start" >&2; exit 1; }
KUBECONFIG=$PWD/kc
export KUBECONFIG
KC="kubectl --cache-dir $PWD/kcache --request-timeout=20s"
cat >tmpl.yaml <<'EOT'
apiVersion: batch/v1
kind: Job
metadata:
  name.$: $.submission.name
  annotations:
    emu.lb/script.$: $.script
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: agent, image: repo/agent:1}
EOT
now() { date +%s%N; }
rec() { printf '{"submission":{"submission_id":"1","name":"%s"},"script":"%s"}\n' "$1" "$2"; }
# stats FILE: "median ms (min-max)" of nanosecond figures, one a line
stats() {
	$PY -c 'import statistics,sys
v=[int(l)/1e6 for l in open(sys.argv[1]) if l.strip()]
print("%.1f ms (%.1f-%.1f)" % (statistics.median(v), min(v), max(v)))' "$1"
}
seen() { curl -s --cacert ca.crt "$URL/_emu/requests" | grep -q "$1"; }

# 1: completion to wait returning
: >lat
i=0
while [ $i -lt "$runs" ]; do
	rec "lat-$i" hang | lb-k8s-job create -f tmpl.yaml >c.out
	curl -s --cacert ca.crt -X DELETE "$URL/_emu/requests" >/dev/null
	lb-k8s-job wait -i 30 <c.out >w.out 2>w.err &
	wp=$!
	j=0
	until seen "watch=true[^\"]*lat-$i"; do
		sleep 0.02; j=$((j + 1)); [ $j -lt 500 ] || break
	done
	# the request log has the watch once it is open: give it a moment
	sleep 0.2
	t0=$(now)
	curl -s --cacert ca.crt -X POST \
	    "$URL/_emu/jobs/default/lat-$i/complete" >/dev/null
	wait $wp
	t1=$(now)
	echo $((t1 - t0)) >>lat
	i=$((i + 1))
done

# 2: create + delete round trips
: >lbrt; : >kcrt
i=0
while [ $i -lt "$runs" ]; do
	rec "rt-lb-$i" hang >r.json
	t0=$(now)
	lb-k8s-job create -f tmpl.yaml <r.json >c.out &&
	    lb-k8s-job delete <c.out >/dev/null
	t1=$(now)
	echo $((t1 - t0)) >>lbrt
	lb-k8s-job render -f tmpl.yaml <r.json | $PY -c 'import json,sys
j=json.loads(sys.stdin.readline())["job"]; j["metadata"]["name"]="rt-kc-'$i'"
print(json.dumps(j))' >kc.json
	t0=$(now)
	$KC create -f kc.json --validate=false >/dev/null 2>&1 &&
	    $KC delete job "rt-kc-$i" --cascade=foreground --wait=false \
	    >/dev/null 2>&1
	t1=$(now)
	echo $((t1 - t0)) >>kcrt
	i=$((i + 1))
done

# 3: the emulator's floor: one GET by lb-k8s-job and by curl
: >lbget; : >cuget
tok=$(cat tokens)
i=0
while [ $i -lt "$runs" ]; do
	t0=$(now)
	lb-k8s-job status -j rt-lb-0 >/dev/null
	t1=$(now)
	echo $((t1 - t0)) >>lbget
	t0=$(now)
	curl -s -o /dev/null --cacert ca.crt -H "Authorization: Bearer $tok" \
	    "$URL/apis/batch/v1/namespaces/default/jobs/rt-lb-0"
	t1=$(now)
	echo $((t1 - t0)) >>cuget
	i=$((i + 1))
done

echo "| measurement ($runs runs) | lb-k8s-job | reference |"
echo "|---|---|---|"
echo "| Job marked complete -> \`wait\` returns | $(stats lat) | Step Functions .sync polls every 1-5 min |"
echo "| create + delete (Foreground) | $(stats lbrt) | kubectl create + delete: $(stats kcrt) |"
echo "| status -j of a gone Job (one GET, 404) | $(stats lbget) | curl, one GET: $(stats cuget) |"
