#!/bin/sh
# lb-logcopy: the uploader and monitor loops against moto and the EvalAI
# emulator, with the fake simulator and agent as the worker containers.
# Each scenario has its own submission (its own S3 prefix); each pod's
# volume is a directory.
. "${0%/*}/lib.sh"
moto_start
evalai_start --seed "$data/evalai-seed.json" || skip_all "EvalAI emulator"
plan 113

B=lbtest
T=subs
awsx s3 mb "s3://$B" >/dev/null
awsx dynamodb create-table --table-name $T \
    --attribute-definitions AttributeName=team_id,AttributeType=S \
    AttributeName=submission_id,AttributeType=S \
    --key-schema AttributeName=team_id,KeyType=HASH \
    AttributeName=submission_id,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null

TOKEN=host-token-0001
export S3_BUCKET=$B CHALLENGE_ID=17 TRACK_ID=31 TEAM_ID=101 \
    DYNAMODB_SUBMISSIONS_TABLE=$T EVALAI_API_SERVER=$EVALAI_URL \
    LB_EVALAI_TOKEN=$TOKEN
unset EVALAI_AUTH_TOKEN LB_EVALAI_TOKEN_FILE MAX_CRASHES UPLOADER_PERIOD \
    MONITOR_PERIOD WORKER_ID SUBMISSION_ID SUBMISSION_WORKERS
fakes=$top/examples/local

# new_sub: a fresh EvalAI submission (team 101, SENSORS); prints its pk
new_sub() {
	curl -s -X POST -H 'Content-Type: application/json' \
	    -d '{"phase": 31, "participant_team": 101, "enqueue": false}' \
	    "$EVALAI_URL/_emu/submissions" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["submission"]["id"])'
}

# row SUB STATUS: the submission's DynamoDB row as lb-submission-enrich
# leaves it
row() {
	awsx dynamodb put-item --table-name $T --item '{"team_id":{"S":"101"},
	    "submission_id":{"S":"'"$1"'"},"submission_status":{"S":"'"$2"'"},
	    "start_time":{"S":"-"}}'
}
# getrow SUB FIELD
getrow() {
	awsx dynamodb get-item --table-name $T --key '{"team_id":{"S":"101"},
	    "submission_id":{"S":"'"$1"'"}}' --output json |
	    python3 -c 'import json,sys
t=sys.stdin.read()
d=json.loads(t).get("Item") if t.strip() else None
print(d[sys.argv[1]]["S"] if d and sys.argv[1] in d else "NONE")' "$2"
}

# keys SUB: every key under the submission, one a line, prefix cut
keys() {
	awsx s3api list-objects-v2 --bucket $B --prefix "$1/" \
	    --query 'Contents[].Key' --output text | tr '\t' '\n' |
	    sed "s|^$1/||" | grep -v '^None$' | sort
}
has() { keys "$1" | grep -qx -- "$2"; }
s3cat() { awsx s3 cp "s3://$B/$1/$2" - 2>/dev/null; }

# updates SUB: the bodies of the successful partial updates, one a line
partials() {
	curl -s "$EVALAI_URL/_emu/log" | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if r.get("update") == "partial" and str(r.get("submission")) == sys.argv[1]:
        print(json.dumps(json.loads(r["body"]), sort_keys=True))' "$1"
}
# distinct_runs FILE: exit 0 when no two consecutive lines are the same
distinct_runs() { [ "$(uniq "$1" | wc -l)" -eq "$(wc -l <"$1")" ]; }

# worker DIR ID FIRST LAST [ENV...]: the fake containers of one pod,
# restarted like OnFailure does until they exit 0 or 2 attempts crashed
worker() {
	_d=$1 _id=$2 _a=$3 _b=$4
	shift 4
	(
		export WORKER_ID=$_id STATUS_DIR=$_d/containers-status \
		    AGENT_DIR=$_d/agent LOG_DIR=$_d/logs \
		    ROUTES_SUBSET=$_a-$_b FAKE_POLL=0.1
		for _v in "$@"; do export "$_v"; done
		for _try in 0 1; do
			"$fakes/fake-simulator" >/dev/null 2>&1 &
			_sp=$!
			"$fakes/fake-agent" >/dev/null 2>&1
			_rc=$?
			wait $_sp
			[ $_rc -eq 0 ] && break
		done
	) &
}

# waitpid PID SECONDS: wait for a child, 124 when it outlived SECONDS
waitpid() {
	_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $_i -ge $(($2 * 10)) ] && return 124
		sleep 0.1; _i=$((_i + 1))
	done
	wait "$1"
}
# until_true SECONDS CMD...: poll CMD every 0.2 s
until_true() {
	_n=$(($1 * 5))
	shift
	while [ $_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2; _n=$((_n - 1))
	done
	return 1
}

###########################################################################
# 1. a whole run: two workers of three routes each
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S
mkdir w1 w2 mon
worker "$PWD/w1" 1 0 2 FAKE_ROUTE_SECONDS=0.7
f1=$!
worker "$PWD/w2" 2 3 5 FAKE_ROUTE_SECONDS=0.5
f2=$!
lb-logcopy uploader -p 1 -d w1 -w 1 2>up1.err &
u1=$!
WORKER_ID=2 UPLOADER_PERIOD=1 lb-logcopy uploader -d w2 2>up2.err &
u2=$!
SUBMISSION_WORKERS=2 lb-logcopy monitor -p 1 -d mon 2>mon.err &
m=$!
waitpid $m 120
ok "monitor ends by itself, exit 0" $?
waitpid $u1 30
ok "uploader 1 ends, exit 0" $?
waitpid $u2 30
ok "uploader 2 (settings from the environment) ends, exit 0" $?
wait $f1 $f2
keys "$S" >keys1
for k in worker-1.start worker-2.start agent-1.done simulator-1.done \
    uploader-1.done uploader-2.done monitor.done; do
	grep -qx "containers-status/$k" keys1
	ok "S3 has containers-status/$k" $?
done
for k in agent/partial_agent_results1.json agent/partial_agent_results2.json \
    evalai/results.json evalai/stdout.txt evalai/metadata.json \
    logs/uploader-1.log logs/agent-2.log logs/simulator-1.log \
    monitor/monitor.log monitor/partial-update.sha256; do
	grep -qx "$k" keys1
	ok "S3 has $k" $?
done
expect_nogrep "no temporary file went to S3" 'tmp' keys1
expect_nogrep "the monitor's copies of S3 stay local" '^partial/' keys1
# the final EvalAI files are the merge of what is in S3
mkdir chk
s3cat "$S" agent/partial_agent_results1.json >chk/p1.json
s3cat "$S" agent/partial_agent_results2.json >chk/p2.json
s3cat "$S" evalai/results.json >chk/results.json
s3cat "$S" evalai/stdout.txt >chk/stdout.txt
python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
p=[json.load(open(f)) for f in sys.argv[2:]]
n=sum(len(x["_checkpoint"]["records"]) for x in p)
sys.exit(0 if n == 6 and isinstance(r, list) and r else 1)' \
    chk/results.json chk/p1.json chk/p2.json
ok "final results.json covers all six routes" $?
expect_grep "final stdout.txt is the finished run's" 'All 6 route' chk/stdout.txt
[ "$(getrow "$S" submission_status)" = RUNNING ]
ok "DynamoDB row RUNNING" $?
getrow "$S" start_time | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
ok "start_time is UTC ISO 8601" $?
[ "$(getrow "$S" results)" = "s3://$B/$S" ]
ok "results points at the S3 folder" $?
partials "$S" >p1
[ "$(wc -l <p1)" -ge 2 ]
ok "partial updates were sent ($(wc -l <p1 | tr -d ' '))" $?
distinct_runs p1
ok "one partial update per distinct result state" $?
tail -n 1 p1 | python3 -c 'import json,sys
b=json.loads(sys.stdin.read())
r=open(sys.argv[1]).read().rstrip("\n")
ok=(b["result"]==r and b["submission_status"]=="PARTIALLY_EVALUATED"
    and b["submission"]==int(sys.argv[2]) and b["challenge_phase"]==31
    and b["stderr"]=="")
sys.exit(0 if ok else 1)' chk/results.json "$S"
ok "last partial update carries the final files, as run_monitor.sh" $?
expect_grep "uploader log says done" 'uploader-1: done' w1/logs/uploader-1.log
s3cat "$S" monitor/monitor.log >chk/mon.log
expect_grep "monitor log in S3 has the end" 'every worker is over' chk/mon.log
cat up1.err up2.err mon.err chk/mon.log w1/logs/*.log >alllogs
expect_nogrep "the token is in no log" "$TOKEN" alllogs

# a monitor started again after the end does nothing twice
n0=$(wc -l <p1)
mkdir mon2
SUBMISSION_WORKERS=2 lb-logcopy monitor -p 1 -d mon2 2>mon2.err
ok "a monitor after monitor.done exits 0" $?
partials "$S" >p1b
[ "$(wc -l <p1b)" -eq "$n0" ]
ok "... and posts nothing" $?
expect_grep "... saying why" 'monitor.done is there' mon2.err

###########################################################################
# 2. the merge: all N names, missing workers included, byte for byte
g=$data/golden/lb2_in_progress
S=$(new_sub)
row "$S" SUBMITTED
for i in 1 2 3; do
	awsx s3 cp "$g/partial_agent_results$i.json" \
	    "s3://$B/$S/agent/partial_agent_results$i.json" >/dev/null
	printf '' | awsx s3 cp - "s3://$B/$S/containers-status/worker-$i.start" \
	    >/dev/null
done
mkdir gm
SUBMISSION_ID=$S SUBMISSION_WORKERS=4 lb-logcopy monitor --once -d gm \
    2>gm.err
ok "monitor --once on a run in progress: exit 0" $?
for f in results.json stdout.txt metadata.json; do
	s3cat "$S" "evalai/$f" >"gm.$f"
	expect_same "S3 evalai/$f is the reference's (worker 4 missing)" \
	    "$g/$f" "gm.$f"
done
partials "$S" >p2
[ "$(wc -l <p2)" -eq 1 ]
ok "one partial update" $?
SUBMISSION_ID=$S SUBMISSION_WORKERS=4 lb-logcopy monitor --once -d gm \
    2>>gm.err
partials "$S" >p2
[ "$(wc -l <p2)" -eq 1 ]
ok "same results again: no second update" $?
# a new pod (empty volume) learns the last hash from S3
mkdir gm2
SUBMISSION_ID=$S SUBMISSION_WORKERS=4 lb-logcopy monitor --once -d gm2 \
    2>>gm.err
partials "$S" >p2
[ "$(wc -l <p2)" -eq 1 ]
ok "a monitor with a new volume does not post them again" $?
expect_grep "... and carries on the monitor log from S3" 'partial update sent' \
    gm2/monitor/monitor.log

###########################################################################
# 3. a truncated partial file keeps the last results
g=$data/golden/lb2_single_worker_complete
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S SUBMISSION_WORKERS=1
printf '' | awsx s3 cp - "s3://$B/$S/containers-status/worker-1.start" \
    >/dev/null
python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
d["_checkpoint"]["records"]=d["_checkpoint"]["records"][:2]
d["_checkpoint"]["progress"][0]=2
d["_checkpoint"]["global_record"]={}
d["entry_status"]="Started"
json.dump(d,open("early.json","w"),indent=4)' "$g/partial_agent_results1.json"
awsx s3 cp early.json "s3://$B/$S/agent/partial_agent_results1.json" \
    >/dev/null
mkdir tm
lb-logcopy monitor --once -d tm 2>tm.err
s3cat "$S" evalai/results.json >tm.r1
head -c 3000 "$g/partial_agent_results1.json" >trunc.json
awsx s3 cp trunc.json "s3://$B/$S/agent/partial_agent_results1.json" \
    >/dev/null
lb-logcopy monitor --once -d tm 2>>tm.err
ok "a truncated partial file fails no iteration" $?
s3cat "$S" evalai/results.json >tm.r2
expect_same "results.json kept as it was" tm.r1 tm.r2
expect_grep "... saying why" 'not whole JSON yet' tm.err
partials "$S" >p3
[ "$(wc -l <p3)" -eq 1 ]
ok "no partial update for a half-written file" $?
awsx s3 cp "$g/partial_agent_results1.json" \
    "s3://$B/$S/agent/partial_agent_results1.json" >/dev/null
lb-logcopy monitor --once -d tm 2>>tm.err
s3cat "$S" evalai/results.json >tm.r3
expect_same "the whole file merges again" "$g/results.json" tm.r3
partials "$S" >p3
[ "$(wc -l <p3)" -eq 2 ]
ok "... and is posted" $?

###########################################################################
# 4. the DynamoDB row: never from a terminal status, start_time kept
S=$(new_sub)
row "$S" FINISHED
mkdir dm
SUBMISSION_ID=$S lb-logcopy monitor --once -d dm 2>dm.err
[ "$(getrow "$S" submission_status)" = FINISHED ]
ok "a FINISHED row stays FINISHED" $?
[ "$(getrow "$S" start_time)" = "-" ]
ok "... its start_time untouched" $?
expect_grep "... with a note" 'left alone' dm.err
S=$(new_sub)
SUBMISSION_ID=$S lb-logcopy monitor --once -d dm 2>dm.err
[ "$(getrow "$S" submission_status)" = NONE ]
ok "a missing row is not created" $?
S=$(new_sub)
row "$S" SUBMITTED
SUBMISSION_ID=$S lb-logcopy monitor --once -d dm 2>dm.err
t1=$(getrow "$S" start_time)
sleep 1.1
SUBMISSION_ID=$S lb-logcopy monitor --once -d dm 2>dm.err
[ "$(getrow "$S" start_time)" = "$t1" ] && [ "$t1" != "-" ]
ok "a restarted monitor keeps the start_time" $?

###########################################################################
# 5. cancel mid-run: EvalAI -> monitor -> S3 -> uploader -> containers.
# EvalAI refuses no status change, so a partial update that lands just
# after a cancel overwrites it; the strict emulator refuses that PUT, so
# this part tests the chain, not the luck of that race.
curl -s -X POST -d '{"strict": true}' "$EVALAI_URL/_emu/config" >/dev/null
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S SUBMISSION_WORKERS=1
mkdir c1 cm
worker "$PWD/c1" 1 0 9 FAKE_ROUTE_SECONDS=3
cf=$!
lb-logcopy uploader -p 1 -d c1 -w 1 2>cu.err &
cu=$!
lb-logcopy monitor -p 1 -d cm 2>cm.err &
cmp=$!
until_true 60 test -s cm/evalai/results.json
curl -s -X POST "$EVALAI_URL/_emu/submissions/$S/cancel" >/dev/null
waitpid $cmp 60
ok "monitor ends on cancel, exit 0" $?
has "$S" containers-status/simulation.cancel
ok "simulation.cancel in S3" $?
waitpid $cu 60
ok "uploader ends on cancel, exit 0" $?
[ -e c1/containers-status/simulation-1.cancel ]
ok "uploader wrote simulation-1.cancel in the pod" $?
has "$S" containers-status/simulation-1.cancel
ok "... and pushed it" $?
waitpid $cf 30
ok "the fake containers stopped" $?
expect_grep "the agent saw the cancel" 'cancelled' c1/logs/agent-1.log
has "$S" containers-status/monitor.done
ok "no monitor.done after a cancel" $((!$?))
has "$S" containers-status/uploader-1.done
ok "no uploader-1.done after a cancel" $((!$?))
curl -s -X POST -d '{"strict": false}' "$EVALAI_URL/_emu/config" >/dev/null

###########################################################################
# 6. kill -9 of both loops mid-run, then a restart (OnFailure)
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S SUBMISSION_WORKERS=2
mkdir k1 k2 km
worker "$PWD/k1" 1 0 4 FAKE_ROUTE_SECONDS=1
kf1=$!
worker "$PWD/k2" 2 5 7 FAKE_ROUTE_SECONDS=1.5
kf2=$!
lb-logcopy uploader -p 1 -d k1 -w 1 2>ku1.err &
ku1=$!
lb-logcopy uploader -p 1 -d k2 -w 2 2>ku2.err &
ku2=$!
lb-logcopy monitor -p 1 -d km 2>km.err &
km=$!
until_true 60 test -s km/monitor/partial-update.sha256
kill -9 $km $ku1
wait $km $ku1 2>/dev/null
lb-logcopy uploader -p 1 -d k1 -w 1 2>>ku1.err &
ku1=$!
lb-logcopy monitor -p 1 -d km 2>>km.err &
km=$!
waitpid $km 120
ok "restarted monitor ends, exit 0" $?
waitpid $ku1 30
ok "restarted uploader ends, exit 0" $?
waitpid $ku2 30
ok "the other uploader ends, exit 0" $?
wait $kf1 $kf2
keys "$S" >keys6
for k in containers-status/uploader-1.done containers-status/uploader-2.done \
    containers-status/monitor.done agent/partial_agent_results1.json \
    agent/partial_agent_results2.json; do
	grep -qx "$k" keys6
	ok "after the restart S3 has $k" $?
done
s3cat "$S" agent/partial_agent_results1.json >k.p1
cmp -s k.p1 k1/agent/partial_agent_results1.json
ok "the last partial file of worker 1 reached S3" $?
partials "$S" >p6
distinct_runs p6
ok "no results posted twice across the restart" $?
[ "$(grep -c 'started: 2 workers' km/monitor/monitor.log)" -eq 2 ]
ok "the monitor log holds both runs" $?

###########################################################################
# 7. crashes: a worker that crashes on every attempt is over at the limit
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S SUBMISSION_WORKERS=1
mkdir x1 xm
worker "$PWD/x1" 1 0 2 FAKE_ROUTE_SECONDS=0.3 FAKE_FAIL_ALWAYS=1
xf=$!
MAX_CRASHES=4 lb-logcopy uploader -p 1 -d x1 -w 1 2>xu.err &
xu=$!
lb-logcopy monitor -p 1 -d xm --max-crashes 4 2>xm.err &
xm=$!
waitpid $xu 60
ok "uploader ends after 2 crashed attempts (4 restarts)" $?
waitpid $xm 60
ok "monitor ends with the crashed-out worker" $?
wait $xf
keys "$S" >keys7
[ "$(grep -c 'crash' keys7)" -eq 4 ] && grep -qx containers-status/monitor.done keys7
ok "four crash markers and monitor.done in S3" $?

###########################################################################
# 8. faults: EvalAI errors and S3 down never end a loop
S=$(new_sub)
row "$S" SUBMITTED
export SUBMISSION_ID=$S SUBMISSION_WORKERS=1
printf '' | awsx s3 cp - "s3://$B/$S/containers-status/worker-1.start" \
    >/dev/null
awsx s3 cp "$data/golden/lb2_single_worker_complete/partial_agent_results1.json" \
    "s3://$B/$S/agent/partial_agent_results1.json" >/dev/null
curl -s -X POST -d '{"action": "reset", "count": 3, "path": "submission/'"$S"'$"}' \
    "$EVALAI_URL/_emu/faults" >/dev/null
mkdir fm
lb-logcopy monitor --once -d fm 2>fm.err
[ $? -eq 75 ]
ok "EvalAI unreachable: --once says temporary (75)" $?
partials "$S" >p8
[ "$(wc -l <p8)" -eq 0 ]
ok "... nothing posted without the status" $?
expect_grep "... the failure is on stderr" 'EvalAI status' fm.err
curl -s -X POST -d '{"action": "503", "count": 3, "path": "update_partially"}' \
    "$EVALAI_URL/_emu/faults" >/dev/null
lb-logcopy monitor --once -d fm 2>>fm.err
[ $? -eq 75 ]
ok "EvalAI answers 503 to the update: 75 again" $?
expect_grep "... the failure is on stderr" 'partial update:' fm.err
lb-logcopy monitor --once -d fm 2>>fm.err
ok "the next iteration goes through" $?
partials "$S" >p8
[ "$(wc -l <p8)" -eq 1 ]
ok "... and posts once" $?

faultd_start 503
mkdir fu
AWS_ENDPOINT_URL_S3=$FAULTD_URL lb-logcopy uploader -p 1 -d fu -w 1 \
    2>fu.err &
fu=$!
until_true 60 sh -c '[ "$(grep -c "push to s3" fu.err)" -ge 3 ]'
ok "S3 down: the uploader reports failed pushes" $?
kill -0 $fu
ok "... and keeps looping" $?
kill -TERM $fu
waitpid $fu 60
ok "... SIGTERM ends it with 0 even so" $?
lb-logcopy uploader --once -p 1 -d fu -w 1 2>>fu.err
ok "once S3 is back the same volume pushes" $?
has "$S" containers-status/worker-1.start && has "$S" logs/uploader-1.log
ok "... everything the outage held back" $?

###########################################################################
# 9. SIGUSR1 wakes a loop, SIGTERM pushes a last time
S=$(new_sub)
export SUBMISSION_ID=$S
mkdir sg
lb-logcopy uploader -p 3600 -d sg -w 1 2>sg.err &
sp=$!
until_true 30 has "$S" containers-status/worker-1.start
ok "the first push is at once" $?
mkdir -p sg/logs && echo one >sg/logs/extra.log
kill -USR1 $sp
until_true 30 has "$S" logs/extra.log
ok "SIGUSR1: pushed without waiting for the period" $?
echo two >sg/logs/last.log
kill -TERM $sp
waitpid $sp 30
ok "SIGTERM: exit 0" $?
has "$S" logs/last.log
ok "SIGTERM: last push made" $?

###########################################################################
# 10a. pushes between listings: a stat per unchanged file, no listing;
# every last push, and a state that cannot be read, list again
S=$(new_sub)
export SUBMISSION_ID=$S
mkdir -p ps/logs
printf aaaa >ps/logs/a.log
printf cccc >ps/logs/c.log
sleep 3		# older than the two seconds the state does not trust
lb-logcopy uploader --once -d ps -w 1 2>ps.err
ok "state: the first push" $?
[ "$(awsx s3 cp "s3://$B/$S/logs/a.log" -)" = aaaa ]
ok "... sends the files" $?
[ -s ps/.lb-s3-state.uploader ] && ! has "$S" .lb-s3-state.uploader
ok "... keeps its state in the volume, never in S3" $?
n0=$(wc -l <"$MOTO_LOG")
lb-logcopy uploader --once -d ps -w 1 2>>ps.err
ok "state: the next push" $?
lists=$(sed -n "$((n0 + 1)),\$p" "$MOTO_LOG" | grep -c 'list-type=2')
[ "$lists" -eq 0 ]
ok "... lists nothing ($lists listings)" $?
printf bbbb >ps/logs/a.log
touch -d '2 hours ago' ps/logs/a.log
lb-logcopy uploader --once -d ps -w 1 2>>ps.err &&
    [ "$(awsx s3 cp "s3://$B/$S/logs/a.log" -)" = bbbb ]
ok "... sends a change of the same size with its mtime set back" $?
awsx s3 rm "s3://$B/$S/logs/c.log" >/dev/null
lb-logcopy uploader -p 3600 -d ps -w 1 2>ps2.err &
pp=$!
until_true 30 grep -q started ps2.err
kill -TERM $pp
waitpid $pp 60
ok "state: SIGTERM ends the loop with 0" $?
has "$S" logs/c.log
ok "... its last push lists, and sends what S3 lost" $?
awsx s3 rm "s3://$B/$S/logs/c.log" >/dev/null
printf 'lb-s3-state 1 oops\n- 4 x\n' >ps/.lb-s3-state.uploader
lb-logcopy uploader --once -d ps -w 1 2>>ps.err && has "$S" logs/c.log
ok "a state file that cannot be read: the push lists again" $?

###########################################################################
# 10. usage and settings
unset SUBMISSION_ID
expect_exit "no role" 2 lb-logcopy
expect_exit "unknown role" 2 lb-logcopy pusher -s 1
expect_exit "no SUBMISSION_ID" 2 lb-logcopy uploader -w 1 -d sg
expect_exit "hostile WORKER_ID" 2 env WORKER_ID='1;touch pwned' \
    lb-logcopy uploader -s 5 -d sg
[ ! -e pwned ]
ok "... runs nothing" $?
expect_exit "submission id not a number" 2 lb-logcopy uploader -w 1 \
    -s '../../etc' -d sg
expect_exit "period 0" 2 lb-logcopy uploader -w 1 -s 5 -p 0 -d sg
expect_exit "bad end rule" 2 lb-logcopy monitor -n 1 -s 5 -E sometimes
expect_exit "monitor without a token" 2 env -u LB_EVALAI_TOKEN \
    lb-logcopy monitor -n 1 -s 5 -d sg --once
env -u LB_EVALAI_TOKEN EVALAI_AUTH_TOKEN=$TOKEN SUBMISSION_WORKERS=1 \
    lb-logcopy monitor --once \
    -s "$(new_sub)" -d ref 2>ref.err </dev/null &&
    ! grep -q 'token' ref.err
ok "the reference's EVALAI_AUTH_TOKEN is accepted" $?
