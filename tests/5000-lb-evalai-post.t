#!/bin/sh
# lb-evalai-post against the EvalAI emulator: final updates read back,
# partial updates, running, status, locking, faults and bad records.
. "${0%/*}/lib.sh"

emu=$top/tests/emulators/evalai.py
[ -f "$emu" ] || skip_all "no EvalAI emulator ($emu)"
command -v flock >/dev/null 2>&1 || skip_all "no flock(1)"
plan 70

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
# status SUB: the status EvalAI shows, read with curl as the host
status() {
	curl -s -H "Authorization: Bearer host-token-0001" \
	    "$EMU/api/jobs/submission/$1" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["status"])'
}
# artifact SUB FIELD: the text EvalAI stored for a file field
artifact() {
	u=$(curl -s "$EMU/_emu/submissions/$1" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)[sys.argv[1]] or "")' "$2")
	[ -n "$u" ] && curl -s "$u"
}
rec() {
	printf '{"data":{"submission":{"submission_id":"%s","challenge_id":"17","track_id":"%s"},"evalai":{"api_server":"%s"}}%s}\n' \
	    "$1" "${2:-2350}" "$EMU" "${3:+,$3}"
}

newsub() {
	curl -s -X POST "$EMU/_emu/submissions" -H 'Content-Type: application/json' \
	    -d '{"phase": 2350, "participant_team": 101, "enqueue": false}' |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["submission"]["id"])'
}
finals() {
	curl -s "$EMU/_emu/submissions/$1/updates" | python3 -c \
	    'import json, sys; print(len(json.load(sys.stdin)["final"]))'
}

emu_start
LB_EVALAI_TOKEN=host-token-0001 LB_LOCK_DIR=$scratch/locks
export LB_EVALAI_TOKEN LB_LOCK_DIR
unset LB_EVALAI_TOKEN_FILE LB_EVALAI_URL
result='[{"split": "leaderboard", "show_to_participant": true, "accuracies": {"Driving score": 42.5, "Route completion": 80.25, "Infraction penalty": 0.53}}]'

# the final update
rec 5001 2350 "\"update\":{\"status\":\"FINISHED\",\"result\":$result,\"metadata\":{\"values\":[1,2]},\"stdout\":\"Driving score 42.5\"}" >f.in
lb-evalai-post <f.in >f.out 2>err
ok "a final FINISHED update is sent (exit 0)" $?
is "... checked before and read back after with a GET" \
    "$(emu_count GET /api/jobs/submission/5001)" 2
is "EvalAI now shows finished (read with curl)" "$(status 5001)" finished
is "... the record says it was verified by reading back" \
    "$(jget 'd[0]["evalai_post"]["verified"]' f.out)" true
curl -s "$EMU/_emu/log" | python3 -c 'import json, sys
for e in json.load(sys.stdin):
    if e["method"] == "PUT":
        b = json.loads(e["body"])
        print(type(b["result"]).__name__, type(b["metadata"]).__name__,
              b["submission_status"], b["submission"], b["challenge_phase"])' >put.body
is "result and metadata went as JSON strings, pks as numbers" \
    "$(cat put.body)" "str str FINISHED 5001 2350"
curl -s "$EMU/_emu/leaderboard" | python3 -c 'import json, sys
r = [x for x in json.load(sys.stdin) if x["submission"] == 5001]
print(r[0]["result"]["Driving score"] if r else "none")' >lbrow
is "the scores reached the leaderboard" "$(cat lbrow)" 42.5
is "stdout reached EvalAI" "$(artifact 5001 stdout_file)" "Driving score 42.5"
is "the update went to /api/jobs/challenge/17/update_submission/" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/)" 1
lb-evalai-post <f.in >f2.out 2>err
ok "a repeated final update is a success" $?
is "... that sends nothing (EvalAI already shows it)" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/)" 1
is "... and says so" "$(jget 'd[0]["evalai_post"]["skipped"]' f2.out)" already
lb-evalai-post -f <f.in >/dev/null 2>err
is "-f sends it again" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/)" 2

# FAILED with stdout and stderr from files; the URL from -u
printf 'agent crashed\n\tat route 3 $(id) `x`\n' >stderr.txt
printf 'partial stdout\n' >stdout.txt
echo '{"submission_pk":5006,"challenge_pk":"17","phase_pk":"2350"}' |
    lb-evalai-post -u "$EMU" -s failed -E stderr.txt -O stdout.txt >fl.out 2>err
ok "a FAILED update with -s, -E and -O, message-shaped record" $?
is "EvalAI shows failed" "$(status 5006)" failed
artifact 5006 stderr_file >got.stderr
expect_same "stderr reached EvalAI byte for byte" stderr.txt got.stderr

# a participant's cancel wins
rec 5002 2350 "\"update\":{\"status\":\"FINISHED\",\"result\":$result}" |
    lb-evalai-post >c.out 2>err
ok "a final update of a cancelled submission succeeds" $?
is "... but leaves it cancelled" "$(status 5002)" cancelled
is "... and the record says why" \
    "$(jget 'd[0]["evalai_post"]["skipped"]' c.out)" "cancelled in EvalAI"

# EvalAI's own error message reaches stderr
rec 5007 2350 '"update":{"status":"FINISHED","result":[{"split":"nosuch","accuracies":{}}]}' |
    lb-evalai-post >e.out 2>err
ok "a result EvalAI refuses fails for good (exit 1)" $(( $? != 1 ))
expect_grep "... with EvalAI's message on stderr" \
    'andsplit codename: nosuch' err
rec 9999 | lb-evalai-post -s failed >/dev/null 2>err
ok "an unknown submission fails (exit 1)" $(( $? != 1 ))
expect_grep "... with EvalAI's message" 'Submission 9999 does not exist' err

# 429 storms are waited out
fault '{"action":"429","count":3,"method":"PUT","retry_after":1}'
rec 5008 2350 "\"update\":{\"status\":\"finished\",\"result\":$result}" |
    lb-evalai-post >t.out 2>err
ok "a 429 storm on the PUT is waited out (exit 0)" $?
is "... EvalAI shows finished" "$(status 5008)" finished
is "... after three throttled PUTs" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/ 429)" 3

# read back until EvalAI shows it: a PUT answered 200 without effect
fault '{"action":"200","count":2,"method":"PUT"}'
rec 5005 2352 '"update":{"status":"FAILED"}' | lb-evalai-post >rb.out 2>err
ok "a PUT that did not take is sent again until EvalAI shows it" $?
is "... after three PUTs" "$(jget 'd[0]["evalai_post"]["attempts"]' rb.out)" 3
fault '{"action":"200","count":20,"method":"PUT"}'
rec "$(newsub)" 2350 '"update":{"status":"FAILED"}' | lb-evalai-post >rb2.out 2>err
ok "... at most five times, then a temporary failure (75)" \
    $(( $? != 75 || $(wc -c <rb2.out) != 0 ))
expect_grep "... saying what EvalAI shows" \
    'EvalAI shows submitted after 5 updates to failed' err
curl -s -X DELETE "$EMU/_emu/faults" >/dev/null
puts=$(emu_count PUT /api/jobs/challenge/17/update_submission/)
rec 5010 2350 '"update":{"status":"FAILED"}' | lb-evalai-post >t2.out 2>err
is "a final update of a submission with another final status is skipped" \
    "$? $(status 5010) $(emu_count PUT /api/jobs/challenge/17/update_submission/)" \
    "0 finished $puts"
is "... and says what EvalAI shows" \
    "$(jget 'd[0]["evalai_post"]["skipped"] + " " + d[0]["evalai_post"]["status"]' t2.out)" \
    "EvalAI shows a final status finished"
curl -s -X DELETE "$EMU/_emu/faults" >/dev/null

# the answer to the final PUT is lost after EvalAI applied it: read back,
# never sent twice
for a in 500 503 reset truncate; do
	s=$(newsub)
	curl -s -X DELETE "$EMU/_emu/log" >/dev/null
	fault "{\"action\":\"$a\",\"when\":\"after\",\"method\":\"PUT\"}"
	rec "$s" 2350 '"update":{"status":"FAILED","stderr":"lost"}' |
	    lb-evalai-post >lost.out 2>err
	r=$?
	is "a final PUT applied but answered $a: success (exit $r)" \
	    "$r $(status "$s")" "0 failed"
	is "... EvalAI got exactly one final update" "$(finals "$s")" 1
	is "... one PUT, then the GET that found it (PUTs, attempts)" \
	    "$(emu_count PUT /api/jobs/challenge/17/update_submission/) $(jget 'd[0]["evalai_post"]["attempts"]' lost.out)" \
	    "1 1"
done
# the PUT lost before EvalAI saw it: read back, then sent again
s=$(newsub)
fault '{"action":"reset","when":"before","method":"PUT","count":2}'
rec "$s" 2350 '"update":{"status":"FAILED"}' | lb-evalai-post >lost.out 2>err
is "a final PUT that never arrived is sent again (exit, status, tries)" \
    "$? $(status "$s") $(jget 'd[0]["evalai_post"]["attempts"]' lost.out)" "0 failed 3"
is "... and lands once" "$(finals "$s")" 1
s=$(newsub)
fault '{"action":"503","when":"before","method":"PUT","count":9}'
rec "$s" 2350 '"update":{"status":"FAILED"}' | lb-evalai-post >lost.out 2>err
r=$?
is "a PUT refused five times is a temporary failure, nothing written" \
    "$r $(wc -c <lost.out | tr -d ' ') $(status "$s")" "75 0 submitted"
expect_grep "... saying what EvalAI shows and why" \
    'EvalAI shows submitted after 5 tries: PUT .*503' err
curl -s -X DELETE "$EMU/_emu/faults" >/dev/null

# partial updates
rec 5011 2350 "\"update\":{\"result\":$result,\"stdout\":\"so far\"}" |
    lb-evalai-post -m partial >p.out 2>err
ok "a partial update is sent (exit 0)" $?
is "... to the plural challenges path" \
    "$(emu_count PUT /api/jobs/challenges/17/update_partially_evaluated_submission/ 200)" 1
is "... EvalAI shows partially_evaluated" "$(status 5011)" partially_evaluated
rec 5002 | lb-evalai-post -m partial >pc.out 2>err
is "a partial update of a cancelled submission is skipped" \
    "$(jget 'd[0]["evalai_post"]["skipped"]' pc.out)" "cancelled in EvalAI"
rec 5001 2350 "\"update\":{\"result\":$result}" | lb-evalai-post -m partial >pf.out
is "... and of a finished one (no downgrade)" "$(status 5001)" finished

# running and status
rec 5012 | lb-evalai-post -m running >/dev/null 2>err
rec 5003 | lb-evalai-post -m running >r.out 2>err
ok "running is sent with a PATCH" $?
is "... EvalAI shows running" "$(status 5003)" running
rec 5003 | lb-evalai-post -m status >s.out 2>err
is "-m status reads the status" "$(jget 'd[0]["evalai_post"]["status"]' s.out)" running

# one writer per submission
mkdir -p locks
puts=$(emu_count PUT /api/jobs/challenge/17/update_submission/)
flock locks/evalai-submission-5009.lock sh -c '
	echo "{\"submission_pk\":5009,\"challenge_pk\":17,\"phase_pk\":2351}" |
	    lb-evalai-post -u "$1" -s failed -w 0 >held.out 2>held.err
	echo $? >held.rc' sh "$EMU"
is "while another process holds the lock, -w 0 gives up (75)" \
    "$(cat held.rc)" 75
is "... having sent nothing" \
    "$(emu_count PUT /api/jobs/challenge/17/update_submission/) $(status 5009)" \
    "$puts submitted"
expect_grep "... and says why" 'another process is updating' held.err
fault '{"action":"slow","count":2,"method":"PUT","sleep":1}'
curl -s -X DELETE "$EMU/_emu/log" >/dev/null
rec 5009 2351 '"update":{"status":"FAILED"}' >l.in
lb-evalai-post -f <l.in >l1.out 2>l1.err &
p1=$!
lb-evalai-post -f <l.in >l2.out 2>l2.err
wait $p1
curl -s "$EMU/_emu/log" | python3 -c 'import json, sys
print(" ".join(e["method"] for e in json.load(sys.stdin)))' >seq
is "two concurrent updates of one submission never overlap" \
    "$(cat seq)" "GET PUT GET GET PUT GET"

# bad records and usage
{
	echo '{"challenge_pk":"17"}'
	echo 'not json'
	rec 5010 2350 '"update":{"status":"DONE"}'
	rec 5010 2350 '"update":{"status":"FINISHED"}'
	rec 5010 2350 '"update":"x"'
	rec 5010 2350 '"update":{"status":"FAILED","stderr_file":"/nonexistent/x"}'
	rec 5004 2350 '"update":{"status":"FAILED"}'
} | lb-evalai-post -r rej >b.out 2>err
ok "bad records make the exit status 1" $(( $? != 1 ))
is "... the good one after them is still sent" "$(status 5004)" failed
is "... every bad one is kept with -r" "$(wc -l <rej | tr -d ' ')" 6
expect_grep "a missing submission id is named" 'stdin:1: no submission id' err
expect_grep "a bad status is named" 'a final status is FINISHED, FAILED or CANCELLED, not DONE' err
expect_grep "FINISHED without a result is refused" 'a FINISHED update needs a result' err
echo '{"submission_pk":5010,"challenge_pk":17,"phase_pk":2350}' |
    lb-evalai-post -s failed >/dev/null 2>err
ok "no EvalAI URL anywhere is a usage error (exit 2)" $(( $? != 2 ))
rec 5010 | LB_EVALAI_TOKEN=wrong lb-evalai-post -s failed >bt.out 2>err
ok "a bad token stops at once (exit 1)" $(( $? != 1 || $(wc -c <bt.out) != 0 ))
expect_grep "... with EvalAI's message" 'Given token not valid' err
rec 5010 | LB_EVALAI_TOKEN= lb-evalai-post -s failed 2>err
ok "no token is a usage error (exit 2)" $(( $? != 2 ))
rec 5010 | lb-evalai-post -v -s failed >v.out 2>v.err
expect_nogrep "the token never reaches a -v trace" 'host-token-0001' v.err
