#!/bin/sh
# lb-evalai-recv against the EvalAI emulator's queue API: records of the
# lb-sqs-recv shape, acknowledgement, redelivery and faults.
. "${0%/*}/lib.sh"

emu=$top/tests/emulators/evalai.py
[ -f "$emu" ] || skip_all "no EvalAI emulator ($emu)"
plan 40

# emu_start ARGS: the emulator on a free port, seeded; sets EMU, EMU_PID
emu_start() {
	evalai_start --seed "$data/evalai-tools-seed.json" "$@" ||
	    { echo "Bail out! emulator did not start"; cat "$scratch/evalai.err"; exit 1; }
	EMU=$EVALAI_URL EMU_PID=$EVALAI_PID
}
fault() { curl -s -X POST "$EMU/_emu/faults" -d "$1" >/dev/null; }
# queued: messages in the queue (in flight or not), read with curl
queued() {
	curl -s "$EMU/_emu/queues/leaderboard" | python3 -c \
	    'import json, sys; print(len(json.load(sys.stdin)))'
}
submit() {
	curl -s -X POST "$EMU/_emu/submissions" \
	    -d "{\"phase\":$1,\"participant_team\":$2}" >/dev/null
}

emu_start
LB_EVALAI_TOKEN=host-token-0001
export LB_EVALAI_TOKEN
unset LB_EVALAI_TOKEN_FILE LB_EVALAI_URL
recv() { lb-evalai-recv -u "$EMU" -q leaderboard "$@"; }

recv >e.out 2>err
ok "an empty queue: no record, exit 0" $(( $? != 0 || $(wc -c <e.out) != 0 ))

submit 2350 101                 # published as EvalAI's push path does
curl -s -X POST "$EMU/_emu/submissions/5003/resume" >/dev/null  # ints
recv >a.out 2>err
ok "the queue is drained (exit 0)" $?
is "... one record per message" "$(wc -l <a.out | tr -d ' ')" 2
is "the pks come out as strings, from strings and integers" \
    "$(jget '" ".join(x["challenge_pk"] + "/" + x["phase_pk"] + "/" + x["submission_pk"] for x in d)' a.out)" \
    "17/2350/5013 17/2350/5003"
curl -s "$EMU/_emu/submissions/5013/message" >m.json
python3 - m.json a.out >cmp <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
r = json.loads(open(sys.argv[2]).readline())
for k, v in m.items():
    if k.endswith("_pk"):
        v = str(v)
    if r.get(k) != v:
        print(k, r.get(k), v)
PY
ok "... with every member of the published body" $(( $(wc -c <cmp) != 0 ))
is "the receipt is under \"evalai\"" \
    "$(jget '" ".join(sorted(d[0]["evalai"]))' a.out)" \
    "api_server queue receipt_handle"
is "... naming the queue and EvalAI" \
    "$(jget 'd[0]["evalai"]["queue"] + " " + d[0]["evalai"]["api_server"]' a.out)" \
    "leaderboard $EMU"
recv >again.out
ok "received messages are in flight: not received again at once" \
    $(( $(wc -c <again.out) != 0 ))
is "... still in the queue" "$(queued)" 2

lb-evalai-recv --ack <a.out >ack.out 2>err
ok "--ack deletes them (exit 0)" $?
is "... the queue is empty (read with curl)" "$(queued)" 0
expect_same "... and echoes the records" a.out ack.out

# -n, redelivery, stale handles
submit 2350 101
submit 2351 103
recv -n 1 >n.out
is "-n 1 takes one message" "$(wc -l <n.out | tr -d ' ')" 1
curl -s -X POST "$EMU/_emu/queues/leaderboard/expire" >/dev/null
recv >r.out
is "after the visibility timeout both come (again)" \
    "$(wc -l <r.out | tr -d ' ')" 2
lb-evalai-recv -a <n.out >stale.out 2>err
ok "an ack with a stale handle does no harm (exit 0)" $?
is "... the message stays" "$(queued)" 2
lb-evalai-recv -a <r.out >/dev/null 2>err
is "the latest handles delete them" "$(queued)" 0

# into lb-submission-enrich
submit 2350 101
LB_TEST_EVALAI=$EMU LB_TEST_TOKEN=host-token-0001
export LB_TEST_EVALAI LB_TEST_TOKEN
recv | lb-submission-enrich -n -c "$data/lb-test.yaml" >en.out 2>err
is "records feed lb-submission-enrich, the receipt passed through" \
    "$(jget 'str(d[0]["is_eligible"]) + " " + d[0]["evalai"]["queue"]' en.out)" \
    "True leaderboard"
lb-evalai-recv -a <en.out >/dev/null 2>err
is "... and the enriched record can be acked" "$(queued)" 0

# bad bodies among good ones: left for another look, or saved and deleted
send() {
	python3 -c 'import json, sys; print(json.dumps({"body": sys.argv[1]}))' "$1" |
	    curl -s -X POST "$EMU/_emu/queues/leaderboard/send" -d @- >/dev/null
}
submit 2350 101
send '[1, 2]'
send '{"challenge_pk": 17, "phase_pk": "2350", "submitted_image_uri": "x;$(reboot)", "is_static_dataset_code_upload_submission": false}'
submit 2351 103
recv -r bad.rej >bad.out 2>err
ok "bad bodies: exit 1" $(( $? != 1 ))
is "... the good ones still come out" "$(wc -l <bad.out | tr -d ' ')" 2
expect_grep "... a non-object is named" 'not a JSON object (left in the queue)' err
expect_grep "... a missing pk is named" 'body lacks submission_pk (left in the queue)' err
is "... both saved to -r" "$(wc -l <bad.rej | tr -d ' ')" 2
is "... and left in the queue" "$(queued)" 4
lb-evalai-recv -a <bad.out >/dev/null 2>&1
curl -s -X POST "$EMU/_emu/queues/leaderboard/expire" >/dev/null
recv -d >/dev/null 2>err
ok "-d without -r is a usage error" $(( $? != 2 ))
rm -f bad.rej
recv -d -r bad.rej >d.out 2>err
ok "-d: exit 1 for the bad ones" $(( $? != 1 ))
expect_grep "... saved and deleted" 'saved to bad.rej and deleted' err
is "... two saved" "$(wc -l <bad.rej | tr -d ' ')" 2
is "... the queue is empty: no poison message comes back" "$(queued)" 0

# follow
submit 2350 101
recv -f -p 1 -n 2 >fo.out 2>err &
fp=$!
submit 2350 101
i=0
while kill -0 $fp 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill $fp 2>/dev/null
is "-f keeps polling until -n messages came" "$(wc -l <fo.out | tr -d ' ')" 2

# faults and errors
submit 2350 101
fault '{"action":"429","count":3,"path":"/api/jobs/challenge/queues/","retry_after":1}'
recv >t.out 2>err
ok "a 429 storm is waited out" $(( $? != 0 || $(wc -l <t.out) != 1 ))
lb-evalai-recv -u "$EMU" -q nosuch >/dev/null 2>err
ok "an unknown queue fails (exit 1)" $(( $? != 1 ))
expect_grep "... with EvalAI's message" \
    'Challenge with queue name nosuch does not exist' err
lb-evalai-recv -u "$EMU" -q 'bad/name?' >/dev/null 2>err
ok "a queue name EvalAI cannot route is a usage error (exit 2)" $(( $? != 2 ))
LB_EVALAI_TOKEN=participant-token-0002 recv >/dev/null 2>err
ok "a participant's token is refused (exit 1)" $(( $? != 1 ))
expect_grep "... with EvalAI's message" 'not authorized' err
{
	echo '{"submission_pk":"1"}'
	echo 'not json'
	echo '{"evalai":{"queue":"leaderboard","receipt_handle":""}}'
} | lb-evalai-recv -a -u "$EMU" -r rej >bad.out 2>err
ok "bad records to --ack: exit 1" $(( $? != 1 ))
is "... all kept with -r" "$(wc -l <rej | tr -d ' ')" 3
expect_grep "... a missing receipt is named" \
    'stdin:1: no evalai.queue or evalai.receipt_handle' err
