#!/bin/sh
# tests/bench/evalai.sh: time one final EvalAI update against the EvalAI
# emulator: lb-evalai-post -f (lock, GET, PUT, GET to read back) versus
# the bare PUT sent by curl.  Prints one markdown table row:
# | name | median ms lb (curl) | min-max lb (curl) |
set -eu
top=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
bin=$top/cmd/lb-evalai-post
emu=$top/tests/emulators/evalai.py
[ -x "$bin" ] || { echo "evalai.sh: build cmd/lb-evalai-post first" >&2; exit 2; }
[ -f "$emu" ] || { echo "evalai.sh: no $emu" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "evalai.sh: no hyperfine" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lb-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 2' INT TERM
cd "$work"

py=$(python3 -c 'import sys; print(sys.executable)')
"$py" "$emu" --port 0 --seed "$top/tests/data/evalai-tools-seed.json" \
    >url 2>emu.log &
pid=$!
i=0
while [ ! -s url ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
url=$(head -n 1 url)
[ -n "$url" ] || { echo "evalai.sh: the emulator did not start" >&2; exit 2; }

result='[{"split": "leaderboard", "show_to_participant": true, "accuracies": {"Driving score": 42.5, "Route completion": 80.25}}]'
python3 - "$result" <<'PY'
import json, sys
r = sys.argv[1]
rec = {"submission_pk": 5001, "challenge_pk": "17", "phase_pk": "2350",
       "update": {"status": "FINISHED", "result": json.loads(r),
                  "stdout": "Driving score 42.5", "metadata": {"a": 1}}}
open("rec.json", "w").write(json.dumps(rec) + "\n")
body = {"submission": 5001, "challenge_phase": 2350,
        "submission_status": "FINISHED", "result": r,
        "stdout": "Driving score 42.5", "stderr": "", "environment_log": "",
        "metadata": json.dumps({"a": 1})}
open("body.json", "w").write(json.dumps(body))
PY
# the token stays in a file, as in production (not on a command line)
printf 'host-token-0001\n' >token
printf 'Authorization: Bearer host-token-0001\n' >auth
LB_EVALAI_TOKEN_FILE=$work/token LB_LOCK_DIR=$work/locks
export LB_EVALAI_TOKEN_FILE LB_LOCK_DIR
"$bin" -f -u "$url" <rec.json >/dev/null
hyperfine -w 2 -m 10 --export-json lb.json \
    "$bin -f -u $url <rec.json" >/dev/null 2>&1
hyperfine -w 2 -m 10 --export-json curl.json \
    "curl -sf -o /dev/null -X PUT -H @auth -H 'Content-Type: application/json' --data-binary @body.json $url/api/jobs/challenge/17/update_submission/" \
    >/dev/null 2>&1
python3 - <<'PY'
import json
def get(f):
    r = json.load(open(f))["results"][0]
    ms = [t * 1000 for t in r["times"]]
    return r["median"] * 1000, min(ms), max(ms)
a, b = get("lb.json"), get("curl.json")
print("| lb-evalai-post final update (lock, GET, PUT, read back) "
      "| %.1f (%.1f-%.1f) | | curl, the PUT alone %.1f (%.1f-%.1f) "
      "| lb/curl %.2fx |" % (a[0], a[1], a[2], b[0], b[1], b[2], a[0] / b[0]))
PY
