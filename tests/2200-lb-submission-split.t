#!/bin/sh
# lb-submission-split: worker and monitor documents in the reference
# PreParallel/PreMonitor shapes, route subsets, Job names.
. "${0%/*}/lib.sh"
plan 26

# doc ROUTES WORKERS [TEAM]: an enriched document (python edits the
# hand-written expected one)
doc() {
	python3 - "$data/enriched-expected.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("row")
d["data"]["submission"]["routes"] = sys.argv[2]
d["data"]["cluster"]["parallelization_workers"] = sys.argv[3]
if len(sys.argv) > 4:
    d["data"]["submission"]["team_name"] = sys.argv[4]
print(json.dumps(d))
PY
}

doc 20 4 | lb-submission-split >a.out 2>err
ok "an eligible document is split (exit 0)" $?
is "20 routes, 4 workers: 4 worker documents and a monitor" \
    "$(jget '" ".join(x["role"] for x in d)' a.out)" \
    "worker worker worker worker monitor"
is "... route subsets as the reference computes them" \
    "$(jget '" ".join(x["submission"]["subset"] for x in d[:-1])' a.out)" \
    "0-4 5-9 10-14 15-19"
is "... worker ids 1..4" \
    "$(jget '" ".join(x["parallelization"]["worker_id"] for x in d[:-1])' a.out)" \
    "1 2 3 4"
is "... Job names like the reference's" \
    "$(jget '" ".join(x["submission"]["name"] for x in d)' a.out)" \
    "team-alpha-sensors-5001-worker1 team-alpha-sensors-5001-worker2 team-alpha-sensors-5001-worker3 team-alpha-sensors-5001-worker4 team-alpha-sensors-5001-monitor"
is "a worker document has the PreParallel members" \
    "$(jget '" ".join(k for k in d[0] if k != "sqs")' a.out)" \
    "cluster submission parallelization aws role"
is "... and submission members" \
    "$(jget '" ".join(d[0]["submission"])' a.out)" \
    "submission_id name resume submitted_image_uri track_codename subset"
is "the monitor document has the PreMonitor members" \
    "$(jget '" ".join(k for k in d[-1] if k != "sqs")' a.out)" \
    "cluster submission aws evalai role"
is "... and submission members" \
    "$(jget '" ".join(d[-1]["submission"])' a.out)" \
    "submission_id name challenge_id team_id track_id resume"
is "the cluster values reach every document" \
    "$(jget 'len(set(json.dumps(x["cluster"]) for x in d))' a.out)" 1
is "unknown members (sqs) are passed to every document" \
    "$(jget 'sum(1 for x in d if x["sqs"]["receipt_handle"] == "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a")' a.out)" 5

doc 10 3 | lb-submission-split >b.out
is "10 routes, 3 workers: 0-3 4-6 7-9" \
    "$(jget '" ".join(x["submission"]["subset"] for x in d[:-1])' b.out)" \
    "0-3 4-6 7-9"
doc 3 8 | lb-submission-split >c.out
is "fewer routes than workers: one worker per route" \
    "$(jget '" ".join(x["submission"]["subset"] for x in d[:-1])' c.out)" \
    "0-0 1-1 2-2"
is "... and the documents say 3 workers, not 8" \
    "$(jget '" ".join(x["cluster"]["parallelization_workers"] for x in d)' c.out)" \
    "3 3 3 3"

# every routes x workers pair against the reference formula
for r in 1 2 3 5 7 10 13 20 37 50 100; do
	for w in 1 2 3 4 6 7 9 12; do
		doc $r $w
	done
done >many.in
lb-submission-split <many.in >many.out
python3 - many.in many.out >many.err <<'PY'
import json, math, sys
docs = [json.loads(l) for l in open(sys.argv[2])]
i = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    routes = int(d["data"]["submission"]["routes"])
    workers = min(routes, int(d["data"]["cluster"]["parallelization_workers"]))
    step = float(routes) / float(workers)
    want = ["{}-{}".format(math.ceil(k * step), math.ceil((k + 1) * step) - 1)
            for k in range(workers)]
    got = [x["submission"]["subset"] for x in docs[i:i + workers]]
    if got != want or docs[i + workers]["role"] != "monitor":
        print(routes, workers, got, want)
    covered = []
    for s in got:
        a, b = map(int, s.split("-"))
        covered += range(a, b + 1)
    if covered != list(range(routes)):
        print("not a partition", routes, workers, got)
    i += workers + 1
if i != len(docs):
    print("extra documents")
PY
ok "88 route/worker pairs give the reference's subsets, a partition each" \
    $(( $(wc -c <many.err) != 0 ))

# Job names for hostile team names: valid DNS-1123 labels, unique
long=$(python3 -c 'print("L" * 300)')
: >h.out
for t in "" '$(rm -rf /)' '`id`;|&<>'"'"'"\ *' 'Équipe 自動運転 🚗' "$long" \
    '--leading-dashes' '.' 'UPPER_case.dots' '---'; do
	doc 20 4 "$t" | lb-submission-split >>h.out || echo "# failed: $t"
done
python3 - h.out >names.err <<'PY'
import json, re, sys
names = [json.loads(l)["submission"]["name"] for l in open(sys.argv[1])]
rx = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
for n in names:
    if not rx.fullmatch(n) or len(n) > 63:
        print("invalid", n)
if len(names) != 45:
    print("count", len(names))
for i in range(0, len(names), 5):
    if len(set(names[i:i + 5])) != 5:
        print("duplicate names", names[i:i + 5])
PY
sed 's/^/# /' names.err
ok "hostile team names: 45 valid DNS-1123 labels, unique per submission" \
    $(( $(wc -c <names.err) != 0 ))
is "the empty team name gets a placeholder" \
    "$(jget 'd[0]["submission"]["name"]' h.out)" "team-sensors-5001-worker1"
is "the 300-character name is cut to 63 with a hash, tail kept" \
    "$(jget 'str(len(d[20]["submission"]["name"])) + " " + d[20]["submission"]["name"][-13:]' h.out)" \
    "63 -5001-worker1"

# the monitor gets EvalAI's base URL, merged with lb-evalai-recv's receipt
doc 20 4 | python3 -c 'import json,sys
d = json.loads(sys.stdin.readline())
del d["sqs"]
d["evalai"] = {"queue": "leaderboard", "receipt_handle": "r1", "api_server": "x"}
print(json.dumps(d))' | lb-submission-split >m.out
is "the monitor's evalai member keeps api_server and the receipt" \
    "$(jget 'json.dumps(d[-1]["evalai"], sort_keys=True)' m.out)" \
    '{"api_server": "@EVALAI@", "queue": "leaderboard", "receipt_handle": "r1"}'

# bad documents
{
	doc 20 4 | sed 's/"is_eligible": true/"is_eligible": false/'
	echo 'not json'
	doc 0 4
	doc 20 abc
	doc 20 4 | python3 -c 'import json,sys
d = json.loads(sys.stdin.readline()); del d["data"]["submission"]["submission_id"]
print(json.dumps(d))'
	echo '{"is_eligible":true,"is_allowed":true}'
	doc 20 4 | sed 's/"is_allowed": true/"is_allowed": false/'
	doc 5 2
} | lb-submission-split -r rej >bad.out 2>err
ok "bad documents make the exit status 1" $(( $? != 1 ))
is "... the good one after them is still split" \
    "$(jget '" ".join(x["submission"]["subset"] for x in d[:-1])' bad.out)" "0-2 3-4"
is "... and every bad one is kept with -r" "$(wc -l <rej | tr -d ' ')" 7
expect_grep "a not eligible document is refused with its reason" \
    'stdin:1: not to be run' err
expect_grep "a route count of 0 is refused" \
    'stdin:3: submission.routes must be a whole number from 1' err
expect_grep "a non-numeric worker count is refused" \
    'stdin:4: cluster.parallelization_workers must be a whole number' err
lb-submission-split -x </dev/null 2>err
ok "an unknown option is a usage error (exit 2)" $(( $? != 2 ))
