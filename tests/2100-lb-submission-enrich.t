#!/bin/sh
# lb-submission-enrich against the EvalAI emulator (and moto for DynamoDB
# and Secrets Manager): the reference PreEKS shape, eligibility, the
# qualifier gate, the image allowlist, bad records and EvalAI faults.
. "${0%/*}/lib.sh"

emu=$top/tests/emulators/evalai.py
[ -f "$emu" ] || skip_all "no EvalAI emulator ($emu)"
plan 60

# emu_start ARGS: the emulator on a free port, seeded; sets EMU, EMU_PID
emu_start() {
	evalai_start --seed "$data/evalai-tools-seed.json" "$@" ||
	    { echo "Bail out! emulator did not start"; cat "$scratch/evalai.err"; exit 1; }
	EMU=$EVALAI_URL EMU_PID=$EVALAI_PID
}
fault() { curl -s -X POST "$EMU/_emu/faults" -d "$1" >/dev/null; }
# emu_count METHOD PATH [STATUS]: requests the emulator logged
emu_count() {
	curl -s "$EMU/_emu/log" | python3 -c 'import json, sys
a = sys.argv[1:]
print(sum(1 for e in json.load(sys.stdin) if e["method"] == a[0] and
    e["path"] == a[1] and (len(a) < 3 or str(e["status"]) == a[2])))' "$@"
}
# msg SUB [PHASE] [URI]: a message as EvalAI publishes it (string pks)
reg=342236305043.dkr.ecr.us-east-1.amazonaws.com
msg() {
	printf '{"challenge_pk": "17", "phase_pk": "%s", ' "${2:-2350}"
	printf '"is_static_dataset_code_upload_submission": false, '
	printf '"submitted_image_uri": "%s", "submission_pk": %s}\n' \
	    "${3:-$reg/carla-participant-team-101:t}" "$1"
}

emu_start
LB_TEST_EVALAI=$EMU LB_TEST_TOKEN=host-token-0001
export LB_TEST_EVALAI LB_TEST_TOKEN
unset LB_EVALAI_TOKEN LB_EVALAI_TOKEN_FILE LB_EVALAI_URL
cfg=$data/lb-test.yaml
enrich() { lb-submission-enrich -c "$cfg" "$@"; }

# --check and configuration errors
mkdir -p conf/jobs && cp "$cfg" conf/lb.yaml
expect_exit "--check without the Job templates is a usage error" 2 \
    lb-submission-enrich -c conf/lb.yaml --check 2>err
expect_grep "... naming the template key" 'jobs.worker: cannot read' err
: >conf/jobs/worker.yaml
: >conf/jobs/monitor.yaml
expect_exit "--check accepts a complete configuration" 0 \
    lb-submission-enrich -c conf/lb.yaml --check
sed 's/^    region: us-west-2$//' "$cfg" >conf/bad.yaml
expect_exit "a missing key is a usage error" 2 \
    lb-submission-enrich -c conf/bad.yaml --check 2>err
expect_grep "... naming file, line and key" \
    'conf/bad.yaml:[0-9]*: clusters.lb2: missing key region' err
sed 's/workers: 4$/workers: many/' "$cfg" >conf/bad2.yaml
msg 5001 | lb-submission-enrich -c conf/bad2.yaml >out 2>err
ok "an ill-typed key stops the tool before any record (exit 2)" \
    $(( $? != 2 || $(wc -c <out) != 0 ))
expect_grep "... naming file, line and key" \
    'bad2.yaml:26: clusters.lb2.tracks.SENSORS.workers: must be a whole' err
LB_CONFIG=/nonexistent/lb.yaml lb-submission-enrich </dev/null 2>err
ok "LB_CONFIG names the file; a missing one is exit 2" $(( $? != 2 ))
expect_grep "... and says which" '/nonexistent/lb.yaml' err

# string and integer pks give the same document
msg 5001 | enrich -n >s.out 2>err
ok "a message with string pks is enriched (exit 0)" $?
printf '{"challenge_pk":17,"phase_pk":2350,"submission_pk":5001,"submitted_image_uri":"%s"}\n' \
    "$reg/carla-participant-team-101:t" | enrich -n >i.out 2>>err
ok "a message with integer pks is enriched (exit 0)" $?
jget 'd[0]["data"]' s.out >s.data
jget 'd[0]["data"]' i.out >i.data
expect_same "integer and string pks give the same data" s.data i.data
is "the pks come out as strings" "$(jget 'd[0]["data"]["submission"]["submission_id"]' i.out)" 5001

# the reference PreEKS shape, member by member, with DynamoDB (moto)
moto_start
awsx dynamodb create-table --table-name lb-test-submissions \
    --attribute-definitions AttributeName=team_id,AttributeType=S \
    AttributeName=submission_id,AttributeType=S \
    --key-schema AttributeName=team_id,KeyType=HASH \
    AttributeName=submission_id,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null
awsx dynamodb create-table --table-name lb-test-qualifier \
    --attribute-definitions AttributeName=team_id,AttributeType=S \
    AttributeName=track_codename,AttributeType=S \
    --key-schema AttributeName=team_id,KeyType=HASH \
    AttributeName=track_codename,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null
awsx dynamodb put-item --table-name lb-test-qualifier --item \
    '{"team_id":{"S":"101"},"track_codename":{"S":"SENSORS"}}'
enrich <"$data/enrich-message.json" >doc.out 2>err
ok "the realistic message is enriched against EvalAI and DynamoDB" $?
python3 - "$data/enriched-expected.json" doc.out "$EMU" >cmp.out <<'PY'
import json, re, sys
want = json.load(open(sys.argv[1]))
got = json.loads(open(sys.argv[2]).readline())
want["data"]["evalai"]["api_server"] = sys.argv[3]
t = got.get("row", {}).get("submitted_time", "")
if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t):
    got["row"]["submitted_time"] = "@TIME@"
def walk(w, g, path):
    if isinstance(w, dict) and isinstance(g, dict):
        if list(w) != list(g):
            print("%s: members %s, wanted %s" % (path, list(g), list(w)))
        for k in w:
            if k in g:
                walk(w[k], g[k], path + "." + k)
    elif w != g or type(w) != type(g):
        print("%s: %r, wanted %r" % (path, g, w))
walk(want, got, "$")
PY
cat cmp.out | sed 's/^/# /'
ok "... matching tests/data/enriched-expected.json member by member" \
    $(( $(wc -c <cmp.out) != 0 ))

awsx dynamodb put-item --table-name lb-test-submissions --item \
    '{"team_id":{"S":"101"},"submission_id":{"S":"5003"},"parallelization_workers":{"S":"2"}}'
msg 5003 | enrich >r.out 2>err
ok "a resuming submission is enriched" $?
is "... with resume \"1\" and status RESUMING" \
    "$(jget 'd[0]["data"]["submission"]["resume"]+d[0]["data"]["submission"]["submission_status"]' r.out)" 1RESUMING
is "... keeping the worker count stored in its DynamoDB row" "$(jget 'd[0]["data"]["cluster"]["parallelization_workers"]+d[0]["row"]["parallelization_workers"]' r.out)" 22
is "... and it is eligible" "$(jget 'd[0]["is_eligible"]' r.out)" true

msg 5009 2351 | enrich >q.out 2>err
is "a team without a qualifier row is not allowed on a gated track" "$(jget 'd[0]["is_allowed"]' q.out)" false
expect_grep "... with a reason the participant can read" \
    '"reason":"the team has not qualified for track MAP"' q.out
expect_nogrep "... and no row to store" '"row"' q.out
msg 5005 2352 | enrich >q2.out 2>err
is "the qualifier track itself is always allowed" "$(jget 'd[0]["is_allowed"]' q2.out)" true
is "... marked qualifying, to SENSORS" "$(jget 'd[0]["data"]["qualifier"]["is_qualifying"]+d[0]["data"]["qualifier"]["qualifying_to"]' q2.out)" 1SENSORS
msg 5001 | enrich >g.out 2>err
is "a team with a qualifier row is allowed on the gated track" "$(jget 'd[0]["is_allowed"]' g.out)" true

# the token from Secrets Manager
awsx secretsmanager create-secret --name lb-evalai \
    --secret-string '{"api_server":"x","auth_token":"host-token-0001"}' >/dev/null
sed 's|token: env:LB_TEST_TOKEN|token: secretsmanager:lb-evalai#auth_token|' \
    "$cfg" >conf/sm.yaml
msg 5001 | lb-submission-enrich -n -c conf/sm.yaml >sm.out 2>err
rc=$?; is "the token can come from Secrets Manager (secretsmanager:ID#KEY)" "$rc $(jget 'd[0]["is_eligible"]' sm.out)" "0 true"
sed 's|token: env:LB_TEST_TOKEN|token: secretsmanager:lb-evalai#nokey|' \
    "$cfg" >conf/sm2.yaml
msg 5001 | lb-submission-enrich -n -c conf/sm2.yaml >/dev/null 2>err
ok "... a missing key in the secret is a usage error" $(( $? != 2 ))

# the token from a file
printf 'host-token-0001\n' >tok
msg 5001 | LB_TEST_TOKEN= LB_EVALAI_TOKEN_FILE=tok enrich -n >f.out 2>err
rc=$?; is "LB_EVALAI_TOKEN_FILE is read (newline stripped)" "$rc $(jget 'd[0]["is_eligible"]' f.out)" "0 true"
msg 5001 | LB_TEST_TOKEN= enrich -n >/dev/null 2>err
ok "no token at all is a usage error" $(( $? != 2 ))

# eligibility
msg 5002 | enrich -n >c.out 2>err
rc=$?; is "a cancelled submission is not eligible (exit 0)" "$rc $(jget 'd[0]["is_eligible"]' c.out)" "0 false"
expect_grep "... the reason says so" 'is CANCELLED in EvalAI' c.out
expect_nogrep "... and there is no row" '"row"' c.out
msg 5010 | enrich -n >fin.out 2>err
is "a finished submission is not eligible" "$(jget 'd[0]["is_eligible"]' fin.out)" false
msg 5012 | enrich -n >run.out 2>err
is "a running one (a duplicate message) is not eligible" "$(jget 'd[0]["is_eligible"]' run.out)" false
msg 9999 | enrich -n >nf.out 2>err
rc=$?; is "an unknown submission gives a not-eligible record (exit 0)" "$rc $(jget 'd[0]["is_eligible"]' nf.out)" "0 false"
expect_grep "... whose reason names it" 'submission 9999 does not exist' nf.out
msg 5001 2350 docker.io/evil/agent:latest | enrich -n >img.out 2>err
is "an image outside the allowed prefixes is not allowed" "$(jget 'd[0]["is_allowed"]' img.out)" false
expect_grep "... with a participant-facing reason" \
    'not from a registry this challenge accepts' img.out
msg 5001 2350 "$reg.evil.org/x:1" | enrich -n >img2.out 2>err
is "... a look-alike registry is refused too" "$(jget 'd[0]["is_allowed"]' img2.out)" false

# hostile team names travel as data
for s in 5006 5007 5008 5011; do msg $s; done | enrich -n >h.out 2>err
ok "hostile team names are enriched (exit 0)" $?
python3 - "$data/evalai-tools-seed.json" h.out >hc.out <<'PY'
import json, sys
seed = json.load(open(sys.argv[1]))
names = {str(t["id"]): t["team_name"] for t in seed["participant_teams"]}
for l in open(sys.argv[2]):
    d = json.loads(l)
    s = d["data"]["submission"]
    if s["team_name"] != names[s["team_id"]] or d["row"]["team_name"] != s["team_name"]:
        print("team %s: %r" % (s["team_id"], s["team_name"]))
PY
ok "... byte for byte as EvalAI has them" $(( $(wc -c <hc.out) != 0 || $(wc -l <h.out) != 4 ))

# bad records: reported, kept with -r, the stream goes on
{
	echo '{"challenge_pk":"17","phase_pk":"2350"}'
	echo 'this is not json'
	echo '{"challenge_pk":"17","phase_pk":[2350],"submission_pk":5001}'
	echo '{"challenge_pk":"17","phase_pk":"2350","submission_pk":"50x1"}'
	echo '{"challenge_pk":"17","phase_pk":"2350","submission_pk":5001,"submitted_image_uri":7}'
	echo '{"challenge_pk":"17","phase_pk":"2350","submission_pk":-5}'
	msg 5001 4242
	msg 5001
} | enrich -n -r rej >b.out 2>err
ok "bad records make the exit status 1" $(( $? != 1 ))
ok "... and the good one after them still comes out" $(( $(wc -l <b.out) != 1 ))
ok "... every bad record is kept in the reject file" $(( $(wc -l <rej) != 7 ))
expect_grep "a missing member is named with its line" \
    'lb-submission-enrich: stdin:1: no member submission_pk' err
expect_grep "a wrong type is named" \
    'stdin:3: phase_pk must be a whole number or a string of digits' err
expect_grep "an unknown phase is named" \
    'stdin:7: submission 5001: phase 4242 is not mapped to a track' err
is "nothing is written to EvalAI for bad records" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/)" 0

# unknown members pass through
echo '{"challenge_pk":"17","phase_pk":"2350","submission_pk":5001,"submitted_image_uri":"'$reg'/x:1","sqs":{"receipt_handle":"h+/="},"extra":[1,{"a":null}]}' |
    enrich -n >p.out 2>err
is "unknown members (sqs, extra) pass through unchanged" \
    "$(jget 'json.dumps([d[0]["sqs"],d[0]["extra"]])' p.out | tr -d ' ')" \
    '[{"receipt_handle":"h+/="},[1,{"a":null}]]' 
is "... and the message's own members are consumed" "$(jget '"challenge_pk" in d[0] or "submission_pk" in d[0]' p.out)" false

# EvalAI faults
msg 5001 | LB_TEST_TOKEN=not-a-token enrich -n >bt.out 2>err
ok "a bad token stops the tool at once (exit 1)" $(( $? != 1 || $(wc -c <bt.out) != 0 ))
expect_grep "... with EvalAI's own message" 'Given token not valid for any token type' err
fault '{"action":"429","count":3,"path":"/api/jobs/submission/5001","retry_after":1}'
msg 5001 | enrich -n >t.out 2>err
ok "a storm of 429 answers is waited out (Retry-After)" \
    $(( $? != 0 || $(wc -l <t.out) != 1 ))
is "... three of them answered 429" \
    "$(emu_count GET /api/jobs/submission/5001 429)" 3
fault '{"action":"503","count":50,"path":"/api/jobs/submission/5001"}'
msg 5001 | enrich -n >u.out 2>err
ok "EvalAI down through every retry is a temporary failure (75)" \
    $(( $? != 75 || $(wc -c <u.out) != 0 ))
curl -s -X DELETE "$EMU/_emu/faults" >/dev/null
fault '{"action":"reset","count":2,"path":"/api/jobs/submission/5001"}'
msg 5001 | enrich -n >rs.out 2>err
ok "dropped connections are retried" $(( $? != 0 || $(wc -l <rs.out) != 1 ))

# the token stays secret, even in -v traces
msg 5001 | enrich -n -v >v.out 2>v.err
ok "-v traces the requests" $(( $(grep -c 'GET' v.err) == 0 ))
expect_nogrep "... without the token on stderr" 'host-token-0001' v.err
expect_nogrep "... or on stdout" 'host-token-0001' v.out
: | enrich -n >e.out
ok "empty input: no output, exit 0" $(( $? != 0 || $(wc -c <e.out) != 0 ))
