#!/bin/sh
# tests/bench/monitor.sh: one monitor iteration (4 workers x 5 routes, 200
# unchanged log files in the volume) done by `lb-logcopy monitor --once`
# against the same work done the reference's way (run_monitor.sh: three
# `aws s3 sync` calls and one curl PUT), on moto and the EvalAI
# emulator.  Prints one markdown row: medians, min-max, ratio.
#   RUNS   counted runs per side (default 5, at least 5)
LB_TOP=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
export LB_TOP
. "$LB_TOP/tests/lib.sh"
runs=${RUNS:-5}
[ "$runs" -ge 5 ] || runs=5
command -v hyperfine >/dev/null 2>&1 || skip_all "hyperfine not installed"
command -v aws >/dev/null 2>&1 || skip_all "aws CLI not installed"
py=$(python3 -c 'import sys; print(sys.executable)')
PATH=${py%/*}:$PATH
moto_start
evalai_start --seed "$data/evalai-seed.json" || { echo "no emulator"; exit 1; }
awsx s3 mb s3://bench >/dev/null 2>&1 || { echo "cannot make a bucket"; exit 1; }
g=$data/golden/lb2_four_workers_complete

new_sub() {
	curl -s -X POST -H 'Content-Type: application/json' \
	    -d '{"phase": 31, "participant_team": 101, "enqueue": false}' \
	    "$EVALAI_URL/_emu/submissions" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["submission"]["id"])'
}

# seed DIR: what four running workers left in S3 under a new submission,
# and a monitor volume DIR holding 200 log files already in S3
seed() {
	_s=$(new_sub)
	mkdir -p "seed$_s/agent" "seed$_s/containers-status" "$1/logs"
	for w in 1 2 3 4; do
		cp "$g/partial_agent_results$w.json" "seed$_s/agent/"
		for m in worker-$w.start agent-$w.start0 simulator-$w.start0; do
			: >"seed$_s/containers-status/$m"
		done
	done
	i=0
	while [ $i -lt 200 ]; do
		head -c $((2000 + (i * 97) % 20000)) /dev/urandom | base64 \
		    >"$1/logs/simulator-$i.log"
		i=$((i + 1))
	done
	awsx s3 sync "seed$_s" "s3://bench/$_s" --no-progress >/dev/null
	awsx s3 sync "$1" "s3://bench/$_s" --no-progress >/dev/null
	echo "$_s"
}

export S3_BUCKET=bench CHALLENGE_ID=17 TRACK_ID=31 SUBMISSION_WORKERS=4 \
    EVALAI_API_SERVER=$EVALAI_URL LB_EVALAI_TOKEN=host-token-0001
unset DYNAMODB_SUBMISSIONS_TABLE

# lb: one warm-up iteration makes the EvalAI files; each counted run
# forgets the last posted hash (outside the timing) so that it PUTs too
SL=$(seed lbvol)
SUBMISSION_ID=$SL lb-logcopy monitor --once -d lbvol 2>lb.err ||
    { echo "lb-logcopy failed:"; cat lb.err; exit 1; }
cat >forget.sh <<EOF
rm -f lbvol/monitor/partial-update.sha256
aws --endpoint-url $MOTO_ENDPOINT s3 rm s3://bench/$SL/monitor/partial-update.sha256 >/dev/null
EOF

# the reference: the same volume content, evalai files from lb's run
SR=$(seed refvol)
mkdir -p refvol/evalai refvol/monitor refpartial
cp lbvol/evalai/results.json lbvol/evalai/stdout.txt \
    lbvol/evalai/metadata.json refvol/evalai/
python3 -c 'import json,sys
t=lambda f: open(f).read().rstrip("\n")
print(json.dumps({"submission": int(sys.argv[1]),
    "submission_status": "PARTIALLY_EVALUATED", "challenge_phase": 31,
    "stdout": t("refvol/evalai/stdout.txt"),
    "result": t("refvol/evalai/results.json"), "stderr": "",
    "metadata": t("refvol/evalai/metadata.json")}))' "$SR" >body.json
A="aws --endpoint-url $MOTO_ENDPOINT"
cat >ref.sh <<EOF
$A s3 sync s3://bench/$SR/agent refpartial/agent --no-progress >/dev/null
$A s3 sync s3://bench/$SR/containers-status refpartial/containers-status --no-progress >/dev/null
$A s3 sync refvol s3://bench/$SR --no-progress >/dev/null
curl -s -o /dev/null --location --request PUT \
    "$EVALAI_URL/api/jobs/challenges/17/update_partially_evaluated_submission/" \
    --header "Authorization: Bearer host-token-0001" \
    --header 'Content-Type: application/json' --data-binary @body.json
EOF
sh ref.sh

# stats NAME: "median (min-max)" in ms from hyperfine's JSON
stats() {
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.0f ms (%.0f-%.0f)" % (r["median"]*1e3, r["min"]*1e3, r["max"]*1e3))' "$1.json"
}
med() {
	python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1.json"
}
hyperfine -S sh --runs "$runs" --warmup 1 --prepare "sh forget.sh" \
    --export-json lb.json \
    "SUBMISSION_ID=$SL lb-logcopy monitor --once -d lbvol 2>>lb.err" \
    >/dev/null 2>hf-lb.err || { echo "lb runs failed:"; cat hf-lb.err lb.err; exit 1; }
hyperfine -S sh --runs "$runs" --warmup 1 --export-json ref.json \
    "sh ref.sh" >/dev/null 2>hf-ref.err ||
    { echo "reference runs failed:"; cat hf-ref.err; exit 1; }
posts=$(curl -s "$EVALAI_URL/_emu/submissions/$SL/updates" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["partial"]))')
ratio=$(python3 -c 'import sys
print("%.1fx" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(med ref)" "$(med lb)")
echo "| one monitor iteration (4 workers x 5 routes, 200 unchanged logs; $runs runs, $posts lb PUTs) | lb-logcopy monitor --once: $(stats lb) | 3 x aws s3 sync + curl PUT: $(stats ref) | | reference/lb $ratio |"
