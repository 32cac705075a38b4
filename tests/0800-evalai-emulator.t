#!/bin/sh
# The EvalAI emulator (tests/emulators/evalai.py) against
# reference/evalai.md: routes, auth, error bodies and check order, queue API,
# leaderboard upsert, hooks, faults, throttle, state file.  curl is the client.
. "${0%/*}/lib.sh"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
plan 141

# the interpreter itself, not a wrapper script, so that $! is the server
py=$(python3 -c 'import sys; print(sys.executable)') ||
    skip_all "python3 not installed"
emu=$top/tests/emulators/evalai.py
seed=$data/evalai-seed.json
HOST=host-token-0001
OTHER=other-host-token-0004
ALICE=participant-token-0002
MALLORY=participant-token-0003
STAFF=staff-token-0005

# emu_start ARGS: start the emulator, set U and EMU_PID
emu_start() {
	: >emu.out
	"$py" "$emu" "$@" >emu.out 2>>emu.err &
	EMU_PID=$!
	srv_started $EMU_PID
	i=0
	while [ ! -s emu.out ] && [ $i -lt 150 ]; do
		kill -0 $EMU_PID 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	U=$(head -n 1 emu.out)
	wait_url "$U/_emu/health" $EMU_PID
}

# req METHOD PATH TOKEN [JSON]: body to out, headers to hdr, status to $code
req() {
	m=$1 p=$2 t=$3
	auth="X-No-Auth: 1"
	[ -n "$t" ] && auth="Authorization: Bearer $t"
	if [ $# -ge 4 ]; then
		code=$(curl -s -o out -D hdr -w '%{http_code}' -X "$m" \
		    -H "$auth" -H 'Content-Type: application/json' \
		    --data-binary "$4" "$U$p")
	else
		code=$(curl -s -o out -D hdr -w '%{http_code}' -X "$m" \
		    -H "$auth" "$U$p")
	fi
}

# rawreq METHOD PATH AUTHHEADER: like req with a literal header
rawreq() {
	code=$(curl -s -o out -D hdr -w '%{http_code}' -X "$1" -H "$3" "$U$2")
}

# is DESC CODE BODY: the last request answered CODE with exactly BODY
is() {
	printf '%s' "$3" >want
	if [ "$code" = "$2" ] && cmp -s want out; then
		ok "$1" 0
	else
		echo "# status $code (wanted $2), body:"
		head -c 400 out | sed 's/^/#   /'; echo
		echo "# wanted: $3"
		ok "$1" 1
	fi
}

# has DESC CODE PYEXPR: status CODE and PYEXPR true of the JSON body j
has() {
	if [ "$code" = "$2" ] && "$py" -c 'import json,sys
j=json.load(open("out"))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$3" 2>/dev/null; then
		ok "$1" 0
	else
		echo "# status $code (wanted $2), body:"
		head -c 400 out | sed 's/^/#   /'; echo
		ok "$1" 1
	fi
}

html() { [ "$code" = "$1" ] && grep -qi '^content-type: text/html' hdr; }

emu_start --seed "$seed" --state state.json
echo "$U" | grep -q '^http://127\.0\.0\.1:[0-9][0-9]*$'
ok "prints its loopback URL first" $?

# -- authentication (§3.0) ---------------------------------------------
S=/api/jobs/submission/1001
req GET $S ""
is "no Authorization: 401" 401 \
    '{"detail": "Authentication credentials were not provided."}'
grep -qi '^www-authenticate: Bearer realm="api"' hdr
ok "401 carries WWW-Authenticate" $?
rawreq GET $S "Authorization: Bearer"
is "Bearer alone: bad header" 401 '{"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}'
rawreq GET $S "Authorization: Bearer a b"
is "Bearer with three parts: bad header" 401 '{"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}'
req GET $S nosuchtoken
is "unknown token: token_not_valid" 401 '{"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "RefreshToken", "token_type": "refresh", "message": "Token is invalid or expired"}]}'
req GET $S blacklisted-token-0001
has "blacklisted token" 401 'j["messages"][0]["message"]=="Token is blacklisted"'
req GET $S access-token-0001
has "access token: wrong type" 401 'j["messages"][0]["message"]=="Token has wrong type"'
rawreq GET $S "Authorization: Token $HOST"
is "Token scheme: Invalid token" 401 '{"detail": "Invalid token"}'
rawreq GET $S "Authorization: token"
is "Token without a key" 401 \
    '{"detail": "Invalid token header. No credentials provided."}'
rawreq GET $S "Authorization: bearer $HOST"
is "lower-case bearer: anonymous" 401 \
    '{"detail": "Authentication credentials were not provided."}'
req GET $S inactive-token-0006
is "inactive user" 401 '{"detail": "User is inactive", "code": "user_inactive"}'
req GET $S deleted-user-token-0099
is "deleted user" 401 '{"detail": "User not found", "code": "user_not_found"}'
req GET $S unverified-token-0007
is "unverified email: 403" 403 '{"detail": "Please verify your email!"}'
curl -s -o /dev/null -X POST -d '{"token":"spare-0001","user":1}' \
    "$U/_emu/tokens"
req GET $S spare-0001
c1=$code
curl -s -o /dev/null -X POST -d '{"token":"spare-0001","blacklisted":true}' \
    "$U/_emu/tokens"
req GET $S spare-0001
[ "$c1" = 200 ] && grep -q 'Token is blacklisted' out
ok "token hook adds a token, then blacklists it" $?

# -- GET submission (§3.1) ---------------------------------------------
req GET $S $HOST
has "host reads a submission, fields in EvalAI's order" 200 'list(j)==["id","participant_team","participant_team_name","execution_time","challenge_phase","created_by","status","input_file","submission_input_file","stdout_file","stderr_file","environment_log_file","submitted_at","started_at","completed_at","rerun_resumed_at","method_name","method_description","project_url","publication_url","is_public","is_flagged","ignore_submission","submission_result_file","when_made_public","is_baseline","job_name","submission_metadata","is_verified_by_host"]'
has "fresh submission: submitted, execution_time \"None\"" 200 \
    'j["status"]=="submitted" and j["execution_time"]=="None" and j["job_name"]==[] and j["participant_team"]==101'
inp=$("$py" -c 'import json; print(json.load(open("out"))["input_file"])')
curl -s "$inp" | grep -q '"submitted_image_uri": "342236305043.dkr.ecr'
ok "input_file URL serves the image uri" $?
req GET $S $ALICE
has "creator reads it without environment_log_file" 200 \
    '"environment_log_file" not in j and j["id"]==1001'
req GET $S $MALLORY
is "other participant: 401" 401 \
    '{"error": "Sorry, you are not authorized to access this submission."}'
req GET $S $OTHER
is "host of another challenge: 401" 401 \
    '{"error": "Sorry, you are not authorized to access this submission."}'
req GET /api/jobs/submission/9999 $HOST
is "unknown submission: 404 error key" 404 \
    '{"error": "Submission 9999 does not exist"}'
req GET $S/ $HOST
html 404
ok "trailing slash on submission/<pk>: HTML 404" $?
req GET /api/jobs/nothing/ $HOST
html 404
ok "unrouted path: HTML 404" $?
req GET /api/jobs/submission/1002 $HOST
"$py" -c 'import json,sys
j=json.load(open("out")); s=json.load(open(sys.argv[1]))
t=[x["team_name"] for x in s["participant_teams"] if x["id"]==102][0]
sys.exit(j["participant_team_name"]!=t)' "$seed"
ok "hostile team name comes back intact" $?
req GET /api/jobs/submission/1004 $OTHER
has "300-character team name intact" 200 \
    'len(j["participant_team_name"])==300'
req GET /api/jobs/submission/1003 $HOST
has "unicode team name intact" 200 \
    'j["participant_team_name"]=="\u00c9quipe \u81ea\u52d5\u904b\u8ee2 \U0001f697"'
req DELETE /api/jobs/submission/1004 $OTHER
[ "$code" = 204 ]
ok "DELETE submission hides it" $?

# -- PUT update_submission (§3.2): check order and bodies ---------------
C=/api/jobs/challenge/17/update_submission/
UNAUTH='{"error": "Sorry, you are not authorized to make this request!"}'
req PUT $C $OTHER '{"submission":9999,"submission_status":5}'
is "non-host: 400 before anything else" 400 "$UNAUTH"
req PUT /api/jobs/challenge/99/update_submission/ $HOST '{}'
is "unknown challenge: 400 not authorized" 400 "$UNAUTH"
req PUT $C $STAFF '{"submission":9999,"submission_status":"finished"}'
is "staff passes the host check" 404 \
    '{"detail": "Submission 9999 does not exist"}'
req PUT /api/jobs/challenge/17/update_submission $HOST '{}'
[ "$code" = 301 ] && grep -qi "^location: /api/jobs/challenge/17/update_submission/" hdr
ok "missing trailing slash: 301 to the slashed URL" $?
req PUT $C $HOST '{"submission":9999,"submission_status":5}'
html 500
ok "non-string status: 500 before the lookup" $?
req PUT $C $HOST '{"submission":1001,"submission_status":"failed","stdout":null}'
html 500
ok "null stdout: 500" $?
req PUT $C $HOST '{"submission":1001,"submission_status":"failed","environment_log":3}'
html 500
ok "numeric environment_log: 500" $?
req PUT $C $HOST '{"submission":"abc","submission_status":"failed"}'
html 500
ok "non-numeric submission pk: 500" $?
req PUT $C $HOST '{"submission_status":"failed"}'
is "missing submission key" 404 '{"detail": "Submission None does not exist"}'
req PUT $C $HOST '{"submission":9999,"submission_status":"bogus"}'
is "unknown submission checked before status" 404 \
    '{"detail": "Submission 9999 does not exist"}'
req PUT $C $HOST '{"submission":1001,"submission_status":"running"}'
is "PUT running: invalid status" 400 \
    '{"error": "Sorry, submission status is invalid"}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"FINISHED","result":[{"split":"leaderboard"}]}'
is "unstringified result" 400 '{"error": "`result` key contains invalid data with error the JSON object must be str, bytes or bytearray, not list.Please try again with correct format."}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished"}'
is "missing result" 400 '{"error": "`result` key contains invalid data with error Expecting value: line 1 column 1 (char 0).Please try again with correct format."}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":32,"submission_status":"finished","result":"[{\"split\":\"validation\",\"accuracies\":{}}]"}'
is "split not in phase: andsplit" 400 \
    '{"error": "Challenge Phase Split does not exist with phase_id: 32 andsplit codename: validation"}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":"31","submission_status":"finished","result":"[{\"split\":\"Leaderboard\",\"accuracies\":{}}]"}'
is "split codename is case-sensitive" 400 \
    '{"error": "Challenge Phase Split does not exist with phase_id: 31 andsplit codename: Leaderboard"}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished","result":"[{\"split\":\"leaderboard\",\"accuracies\":{\"Foo\":\"x\",\"Driving score\":1,\"bar\":2}}]"}'
is "unknown metrics listed, before value types" 400 \
    "{\"error\": \"Following metrics are missing in theleaderboard data: ['Foo', 'bar']\"}"
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished","result":"[{\"split\":\"leaderboard\",\"accuracies\":{\"Driving score\":\"1\",\"Agent blocked\":null,\"Route completion\":true}}]"}'
is "non-numeric values: offloat/int" 400 \
    "{\"error\": \"Values for following metrics are not offloat/int: [('Driving score', <class 'str'>), ('Agent blocked', <class 'NoneType'>)]\"}"
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished","result":"{\"a\":1}"}'
html 500
ok "result object instead of array: 500" $?
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished","result":"[{\"split\":\"leaderboard\"}]"}'
html 500
ok "entry without accuracies: 500" $?
req PUT $C $HOST 'not json'
is "unparsable body" 400 \
    '{"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"}'
req PUT $C $OTHER 'not json'
is "host check before the body is parsed" 400 "$UNAUTH"
req PUT $C $HOST '[1]'
html 500
ok "body that is not an object: 500" $?
code=$(curl -s -o out -D hdr -w '%{http_code}' -X PUT \
    -H "Authorization: Bearer $HOST" -H 'Content-Length: 209715201' \
    -H 'Content-Type: application/json' --data-binary '{}' "$U$C")
html 413
ok "Content-Length over 200 MB: 413" $?
req GET $C $HOST
is "GET on update_submission: 405" 405 '{"detail": "Method \"GET\" not allowed."}'
req GET $C ""
[ "$code" = 401 ]
ok "405 only after authentication" $?
req GET /api/jobs/submission/1001 $HOST
has "failed checks wrote nothing" 200 \
    'j["status"]=="submitted" and j["completed_at"] is None'

# success paths
CARLA='[{\"split\":\"leaderboard\",\"show_to_participant\":true,\"accuracies\":{\"Driving score\":41.5,\"Route completion\":80,\"Infraction penalty\":0.52}}]'
req PUT $C $HOST "{\"submission\":1001,\"challenge_phase\":31,\"submission_status\":\"FINISHED\",\"result\":\"$CARLA\",\"stdout\":\"out \$(rm -rf /)\",\"stderr\":\"\",\"metadata\":\"{\\\"k\\\": 1}\"}"
is "finished with CARLA labels: 200" 200 \
    '{"success": "Submission result has been successfully updated"}'
req GET /api/jobs/submission/1001 $HOST
has "status finished, completed_at set, artefact URLs" 200 \
    'j["status"]=="finished" and j["completed_at"] and j["stdout_file"] and j["environment_log_file"] and j["execution_time"]=="None"'
so=$("$py" -c 'import json; print(json.load(open("out"))["stdout_file"])')
[ "$(curl -s "$so")" = 'out $(rm -rf /)' ]
ok "stdout artefact stored verbatim" $?
curl -s "$U/_emu/leaderboard?challenge=17" >lb1
"$py" -c 'import json,sys
r=json.load(open("lb1"))
sys.exit(not (len(r)==1 and r[0]["submission"]==1001 and r[0]["split"]=="leaderboard" and r[0]["result"]["Driving score"]==41.5))'
ok "one leaderboard row for (1001, leaderboard)" $?
req PUT $C $HOST '{"submission":"1001","challenge_phase":31,"submission_status":"finished","result":"[{\"split\":\"leaderboard\",\"accuracies\":{\"Driving score\":50}},{\"split\":\"validation\",\"accuracies\":{\"Driving score\":7}}]"}'
curl -s "$U/_emu/leaderboard?phase=sensors-2-0" >lb2
"$py" -c 'import json,sys
r=json.load(open("lb2"))
d={x["split"]:x for x in r}
sys.exit(not (len(r)==2 and d["leaderboard"]["result"]=={"Driving score":50} and d["leaderboard"]["id"]==1 and d["validation"]["result"]=={"Driving score":7}))'
ok "repeat PUT upserts in place, second split adds a row" $?
curl -s "$U/_emu/submissions/1001/updates" >up
"$py" -c 'import json,sys
u=json.load(open("up")); sys.exit(len(u["final"])!=2)'
ok "two successful final updates recorded" $?
req PUT $C $HOST '{"submission":1001,"submission_status":"cancelled"}'
req PUT $C $HOST '{"submission":1001,"challenge_phase":31,"submission_status":"finished","result":"[]"}'
is "cancelled -> finished accepted (no transition rules)" 200 \
    '{"success": "Submission result has been successfully updated"}'
code=$(curl -s -o out -w '%{http_code}' -X PUT -H "Authorization: Bearer $HOST" \
    --data-urlencode submission=1002 --data-urlencode submission_status=failed \
    --data-urlencode 'stderr=boom' "$U$C")
is "form-encoded body accepted" 200 \
    '{"success": "Submission result has been successfully updated"}'

code=$(printf '{"submission":1002,"submission_status":"failed"}' |
    curl -s -o out -w '%{http_code}' -X PUT -H "Authorization: Bearer $HOST" \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data-binary @- "$U$C")
is "chunked body accepted" 200 \
    '{"success": "Submission result has been successfully updated"}'
code=$(curl -s -o out -w '%{http_code}' -X PUT -H "Authorization: Bearer $HOST" \
    -H 'Content-Type: text/plain' --data-binary 'x' "$U$C")
is "unsupported Content-Type: 415" 415 \
    '{"detail": "Unsupported media type \"text/plain\" in request."}'

code=$(curl -s -o out -w '%{http_code}' -X PUT -H "Authorization: Bearer $HOST" \
    -F submission=1002 -F submission_status=failed -F 'stdout=multi' "$U$C")
is "multipart body accepted" 200 \
    '{"success": "Submission result has been successfully updated"}'

# -- PATCH update_submission (§3.3) ------------------------------------
req PATCH $C $HOST '{"submission":1002,"submission_status":"RUNNING","job_name":"Submission-1002"}'
has "PATCH running: full submission back" 200 \
    'j["status"]=="running" and j["started_at"] and j["job_name"]==["submission-1002"]'
req PATCH $C $HOST '{"submission":1002,"submission_status":"finished"}'
is "PATCH finished: invalid" 400 '{"error": "Sorry, submission status is invalid"}'
req PATCH $C $OTHER '{"submission":1002,"submission_status":"running"}'
is "PATCH by a non-host" 400 "$UNAUTH"

# -- partial update (§3.4) ---------------------------------------------
P=/api/jobs/challenges/17/update_partially_evaluated_submission/
sub=$(curl -s -X POST -d '{"phase":"map-2-0","participant_team":103}' \
    "$U/_emu/submissions" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["submission"]["id"])')
[ "$sub" -gt 1004 ]
ok "hook creates a submission by phase codename" $?
req PUT $P $STAFF "{\"submission\":$sub,\"submission_status\":\"partially_evaluated\"}"
is "partial PUT: staff is not enough" 400 "$UNAUTH"
req PUT $P $HOST "{\"submission\":$sub,\"challenge_phase\":32,\"submission_status\":\"PARTIALLY_EVALUATED\",\"result\":\"[{\\\"split\\\":\\\"leaderboard\\\",\\\"accuracies\\\":{\\\"Zap\\\":1}}]\"}"
is "unknown label rejected when the phase is not lenient" 400 \
    "{\"error\": \"Following metrics are missing in theleaderboard data: ['Zap'] of challenge phase: 32\"}"
req PATCH $P $HOST "{\"submission\":$sub,\"challenge_phase\":32,\"submission_status\":\"partially_evaluated\",\"result\":\"[{\\\"split\\\":\\\"leaderboard\\\",\\\"accuracies\\\":{\\\"Driving score\\\":1}}]\"}"
is "partial PATCH without a row" 400 \
    "{\"error\": \"Leaderboard Data does not exist with phase_id: 32 andsubmission id: $sub\"}"
req PUT $P $HOST "{\"submission\":$sub,\"challenge_phase\":32,\"submission_status\":\"partially_evaluated\",\"result\":\"[{\\\"split\\\":\\\"leaderboard\\\",\\\"accuracies\\\":{\\\"Driving score\\\":10,\\\"Route completion\\\":20}}]\",\"stdout\":\"s\",\"stderr\":\"\",\"metadata\":\"{}\"}"
is "partial PUT: 200" 200 '{"success": "Submission result has been successfully updated"}'
req PATCH $P $HOST "{\"submission\":$sub,\"challenge_phase\":32,\"submission_status\":\"partially_evaluated\",\"result\":\"[{\\\"split\\\":\\\"leaderboard\\\",\\\"accuracies\\\":{\\\"Driving score\\\":15}}]\"}"
curl -s "$U/_emu/leaderboard?phase=32" >lb3
"$py" -c 'import json,sys
r=json.load(open("lb3"))
sys.exit(not (len(r)==1 and r[0]["result"]=={"Driving score":15,"Route completion":20} and r[0]["submission_status"]=="partially_evaluated"))'
ok "partial PATCH merges into the row" $?
req PUT $P $HOST "{\"submission\":$sub,\"submission_status\":\"running\"}"
is "partial PUT running: invalid" 400 '{"error": "Sorry, submission status is invalid"}'
req PUT $P $HOST "{\"submission\":1003,\"challenge_phase\":31,\"submission_status\":\"partially_evaluated\",\"result\":\"[{\\\"split\\\":\\\"leaderboard\\\",\\\"accuracies\\\":{\\\"Zap\\\":1}}]\"}"
is "unknown label accepted on a lenient phase" 200 \
    '{"success": "Submission result has been successfully updated"}'
req PUT $P $HOST "{\"submission\":$sub,\"submission_status\":\"failed\",\"stdout\":\"\",\"stderr\":\"x\"}"
curl -s "$U/_emu/submissions/$sub/updates" >up
"$py" -c 'import json,sys
u=json.load(open("up")); sys.exit(not (len(u["final"])==1 and len(u["partial"])==2 and u["final"][0]["status"]=="failed"))'
ok "updates hook: one final, two partials" $?

# -- other jobs endpoints ----------------------------------------------
req PATCH /api/jobs/submission/9999/update_started_at/ $ALICE
is "update_started_at unknown: 403" 403 '{"error": "Submission does not exist"}'
req PATCH /api/jobs/submission/1004/update_started_at/ $ALICE
has "update_started_at by anyone authenticated" 200 'j["started_at"] is not None'
req PATCH /api/jobs/challenges/17/submissions/1001/update_submission_meta/ $ALICE '{"status":"cancelled"}'
has "update_submission_meta: creator cancels" 200 'j["status"]=="cancelled"'
req GET "/api/jobs/challenge/17/submission/?status=cancelled" $HOST
has "host list filtered by status" 200 '[s["id"] for s in j]==[1001]'
req GET "/api/jobs/challenge/17/submission/?status=partially_evaluated" $HOST
is "host list: partially_evaluated not a filter" 400 \
    '{"error": "Invalid submission status partially_evaluated"}'
req GET "/api/jobs/challenge/17/submission/" $OTHER
[ "$code" = 400 ]
ok "host list: non-host 400" $?

# -- phases and splits (§3.5) ------------------------------------------
req GET /api/challenges/challenge/phase/31/ ""
has "phase by pk, public, with codename" 200 \
    'j["codename"]=="sensors-2-0" and j["challenge"]==17 and j["is_partial_submission_evaluation_enabled"] is True and "environment_image" not in j'
req GET /api/challenges/challenge/phase/31/ nosuchtoken
[ "$code" = 401 ]
ok "public route with an invalid token: 401" $?
req GET /api/challenges/challenge/phase/77/ ""
is "unknown phase" 404 '{"detail": "ChallengePhase 77 does not exist"}'
req GET /api/challenges/challenge/17/challenge_phase/32 $HOST
has "phase detail for a host: create serializer" 200 \
    'j["codename"]=="map-2-0" and "environment_image" in j'
req GET /api/challenges/challenge/17/challenge_phase/33 $HOST
is "foreign phase: 406" 406 \
    '{"error": "Challenge phase 33 does not exist for challenge 17"}'
req GET /api/challenges/challenge/99/challenge_phase/33 $HOST
is "unknown challenge: 406" 406 '{"error": "Challenge does not exist"}'
req GET /api/challenges/17/phases/ $HOST
has "host lists both phases" 200 \
    '[p["codename"] for p in j]==["sensors-2-0","map-2-0"]'
req GET /api/challenges/17/phases/ $OTHER
is "phases: non-host 401" 401 \
    '{"error": "Sorry, you are not authorized to access these challenge phases."}'
req GET /api/challenges/17/challenge_phase_split ""
has "splits carry the leaderboard labels" 200 \
    'len(j)==3 and len(j[0]["leaderboard_schema"]["labels"])==15 and j[0]["dataset_split_name"]=="Leaderboard"'
req GET /api/challenges/phase/carla-map-2-0/ ""
has "phase by slug" 200 'j["id"]==32'
req GET /api/challenges/challenge/queues/leaderboard/ $HOST
has "challenge by queue name" 200 'j["id"]==17'

# -- SQS body and the queue API (§2, §3.6) -----------------------------
Q=/api/jobs/challenge/queues/leaderboard/
D=/api/jobs/queues/leaderboard/
curl -s -X POST "$U/_emu/queues/leaderboard/purge" >/dev/null
curl -s -X POST -d '{"phase":31,"participant_team":102,"submitted_image_uri":"r.example/x:y"}' \
    "$U/_emu/submissions" >new.json
sub=$("$py" -c 'import json; print(json.load(open("new.json"))["submission"]["id"])')
curl -s "$U/_emu/submissions/$sub/message" >msg
printf '{"challenge_pk": "17", "phase_pk": "31", "is_static_dataset_code_upload_submission": false, "submitted_image_uri": "r.example/x:y", "submission_pk": %s}' "$sub" >want
cmp -s want msg
ok "message hook: EvalAI's exact body (string pks)" $?
req GET $Q $HOST
"$py" -c 'import json,sys
j=json.load(open("out")); m=json.load(open("msg"))
sys.exit(not (j["body"]==m and j["receipt_handle"]))'
ok "queue receive returns the body and a handle" $?
h1=$("$py" -c 'import json; print(json.load(open("out"))["receipt_handle"])')
req GET $Q $HOST
is "in flight: empty receive" 200 '{"body": null, "receipt_handle": null}'
curl -s -X POST "$U/_emu/queues/leaderboard/expire" >/dev/null
req GET $Q $HOST
h2=$("$py" -c 'import json; print(json.load(open("out"))["receipt_handle"])')
[ -n "$h2" ] && [ "$h2" != "$h1" ]
ok "after the visibility timeout: redelivered, new handle" $?
req POST $D $HOST "{\"receipt_handle\":\"$h1\"}"
curl -s "$U/_emu/queues/leaderboard" >ql
[ "$code" = 200 ] && grep -q "$sub" ql
ok "stale handle: 200, message stays" $?
req POST $D $HOST "{\"receipt_handle\":\"$h2\"}"
is "delete with the latest handle" 200 \
    '{"success": "Message deleted successfully from the queue: leaderboard"}'
curl -s "$U/_emu/queues/leaderboard" >ql
[ "$(cat ql)" = "[]" ]
ok "queue empty after delete" $?
req POST $D $HOST '{"receipt_handle":""}'
is "empty handle" 400 '{"error": "Please add message receipt handle in the body"}'
req POST $D $HOST '{}'
html 500
ok "missing handle key: 500" $?
req POST /api/jobs/queues/nope/ $OTHER '{}'
is "unknown queue checked before host (sic exists)" 400 \
    '{"error": "Challenge with queue name nope does not exists"}'
req POST $D $OTHER '{"receipt_handle":"x"}'
is "delete by non-host" 401 \
    '{"error": "Sorry, you are not authorized to access this resource"}'
req DELETE $D $HOST
is "DELETE on the queue route: 405" 405 '{"detail": "Method \"DELETE\" not allowed."}'
curl -s -o /dev/null -X POST -d '{"body":"not json $(rm -rf /)"}' \
    "$U/_emu/queues/leaderboard/send"
req GET $Q $HOST
html 500
ok "a message body that is not JSON: 500" $?
curl -s -o /dev/null -X POST "$U/_emu/queues/leaderboard/purge"
req GET /api/jobs/challenge/queues/leader%62oard/ $HOST
is "percent-encoded path decoded before routing" 200 \
    '{"body": null, "receipt_handle": null}'
req GET /api/jobs/challenge/queues/nope/ $HOST
is "receive from an unknown queue" 400 \
    '{"error": "Challenge with queue name nope does not exist"}'
req GET $Q $OTHER
is "receive by non-host" 401 \
    '{"error": "Sorry, you are not authorized to access this resource"}'

# -- out-of-band hooks -------------------------------------------------
curl -s -X POST "$U/_emu/submissions/$sub/cancel" >/dev/null
req GET /api/jobs/submission/$sub $HOST
has "cancel hook" 200 'j["status"]=="cancelled"'
curl -s -X POST "$U/_emu/submissions/$sub/rerun" >rr.json
new=$("$py" -c 'import json; print(json.load(open("rr.json"))["submission"]["id"])')
req GET /api/jobs/submission/$new $HOST
has "re-run: new pk in submitted" 200 "j['status']=='submitted' and j['id']==$new and $new!=$sub"
curl -s "$U/_emu/submissions/$new/message" >msg
printf '{"challenge_pk": 17, "phase_pk": 31, "submission_pk": %s, "is_static_dataset_code_upload_submission": false, "submitted_image_uri": "r.example/x:y"}' "$new" >want
cmp -s want msg
ok "re-run message: integer pks, EvalAI's key order" $?
curl -s -X POST -d '{"status":"failed"}' "$U/_emu/submissions/$new/status" >/dev/null
curl -s -X POST "$U/_emu/submissions/$new/resume" >/dev/null
req GET /api/jobs/submission/$new $HOST
has "resume hook: resuming, same pk" 200 "j['status']=='resuming'"
curl -s "$U/_emu/queues/leaderboard" >ql
"$py" -c 'import json,sys
q=json.load(open("ql")); sys.exit(len(q)!=2)'
ok "re-run and resume each published a message" $?
req POST /api/jobs/submissions/$new/resume/ $HOST
is "REST resume of a non-failed submission" 400 \
    '{"error": "Only failed submissions can be resumed"}'
curl -s -o /dev/null -X POST -d '{"status":"failed"}' "$U/_emu/submissions/1003/status"
req POST /api/jobs/submissions/1003/resume/ $HOST
has "REST resume of a failed one" 200 '"success" in j'

# -- strict mode -------------------------------------------------------
curl -s -X POST -d '{"strict":true}' "$U/_emu/config" >/dev/null
req PUT $C $HOST '{"submission":1002,"submission_status":"failed"}'
c1=$code
req PUT $C $HOST '{"submission":1002,"submission_status":"cancelled"}'
is "strict: failed -> cancelled refused" 400 \
    '{"error": "Submission status transition failed -> cancelled is not allowed"}'
req PUT $C $HOST '{"submission":1002,"submission_status":"failed"}'
[ "$c1" = 200 ] && [ "$code" = 200 ]
ok "strict: running -> failed and a repeat are fine" $?
req PUT $C $HOST '{"submission":1004,"submission_status":"failed"}'
is "strict: submission of another challenge refused" 400 \
    '{"error": "Submission 1004 does not belong to challenge 17"}'
curl -s -X POST -d '{"strict":false}' "$U/_emu/config" >/dev/null

# -- throttle ----------------------------------------------------------
curl -s -X POST -d '{"throttle":3,"throttle_reset":true}' "$U/_emu/config" >/dev/null
for i in 1 2 3; do req GET $S $HOST; done
c1=$code
req GET $S $HOST
[ "$c1" = 200 ] && [ "$code" = 429 ]
ok "throttle: 4th request in the minute is 429" $?
grep -qi '^retry-after: [1-9][0-9]*' hdr
ok "429 carries Retry-After" $?
has "429 body" 429 'j["detail"].startswith("Request was throttled. Expected available in ")'
req GET $S $ALICE
[ "$code" = 200 ]
ok "throttle is per user" $?
curl -s -X POST -d '{"throttle":0}' "$U/_emu/config" >/dev/null
req GET $S $HOST
[ "$code" = 200 ]
ok "throttle off again" $?

# -- faults ------------------------------------------------------------
fault() { curl -s -o /dev/null -X POST -d "$1" "$U/_emu/faults"; }
fault '{"action":"500","count":2,"path":"/submission/1001$"}'
req GET /api/jobs/submission/1002 $HOST
c0=$code
req GET $S $HOST; c1=$code
req GET $S $HOST; c2=$code
req GET $S $HOST
[ "$c0" = 200 ] && [ "$c1" = 500 ] && [ "$c2" = 500 ] && [ "$code" = 200 ]
ok "500 fault: next 2 matching requests only" $?
fault '{"action":"503","method":"PUT"}'
req GET $S $HOST; c1=$code
req PUT $C $HOST '{"submission":1002,"submission_status":"failed"}'
[ "$c1" = 200 ] && [ "$code" = 503 ]
ok "503 fault filtered by method" $?
fault '{"action":"reset"}'
curl -s -o /dev/null -H "Authorization: Bearer $HOST" "$U$S"
rc=$?
[ "$rc" = 56 ] || [ "$rc" = 52 ]
ok "reset fault drops the connection (curl $rc)" $?
fault '{"action":"truncate"}'
curl -s -o /dev/null -H "Authorization: Bearer $HOST" "$U$S"
ok "truncate fault: short body (curl 18)" $(($? != 18))
fault '{"action":"slow","sleep":4}'
curl -s -o /dev/null --max-time 0.5 -H "Authorization: Bearer $HOST" "$U$S"
ok "slow fault: client times out" $(($? != 28))
fault '{"action":"429","retry_after":7}'
req GET $S $HOST
[ "$code" = 429 ] && grep -qi '^retry-after: 7' hdr
ok "429 fault with Retry-After" $?
req PUT $C $HOST '{"submission":1003,"submission_status":"running"}'
before=$(curl -s "$U/_emu/submissions/1003/updates" | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)["final"]))')
fault '{"action":"reset","when":"after","path":"update_submission"}'
req PUT $C $HOST '{"submission":1003,"submission_status":"failed"}'
after=$(curl -s "$U/_emu/submissions/1003/updates" | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)["final"]))')
[ "$code" = 000 ] && [ $((after - before)) = 1 ]
ok "after-fault: update applied, answer lost" $?
curl -s "$U/_emu/log" >log.json
"$py" -c 'import json,sys
l=json.load(open("log.json"))
f=[e for e in l if e["method"]=="PUT" and e["path"].endswith("update_submission/") and "1003" in e["body"]]
sys.exit(not (len(f)==2 and f[-1]["status"]==200 and f[-1]["fault"]=="reset" and f[-1]["submission"]==1003 and f[-1]["update"]=="final" and "update" not in f[0] and all("/_emu/" not in e["path"] for e in l)))'
ok "request log: method, path, status, body, fault, update kind" $?
last=$("$py" -c 'import json; print(json.load(open("log.json"))[-1]["seq"])')
curl -s -o /dev/null -X DELETE "$U/_emu/log"
req GET /api/jobs/submission/1003 $HOST
curl -s "$U/_emu/log?since=$last" >log2.json
"$py" -c 'import json,sys
l=json.load(open("log2.json"))
g=[e for e in l if e["path"]=="/api/jobs/submission/1003"]
sys.exit(not (l and all(e["seq"]>int(sys.argv[1]) for e in l) and len(g)==1 and g[0]["user"]==1))' "$last"
ok "log cleared, seq goes on, ?since filters" $?

# -- SIGTERM, state file, token file -----------------------------------
kill -TERM $EMU_PID
wait $EMU_PID
ok "SIGTERM: exit 0" $?
[ -s state.json ] && "$py" -c 'import json; json.load(open("state.json"))'
ok "state file is JSON" $?
umask 077
printf 'file-token-0042\n' >tok
emu_start --state state.json --token-file tok --strict --throttle 100
req GET /api/jobs/submission/1001 file-token-0042
has "restart: state reloaded, token file works" 200 'j["status"]=="cancelled"'
curl -s "$U/_emu/leaderboard?challenge=17" >lb4
"$py" -c 'import json,sys
r=json.load(open("lb4")); sys.exit(len(r)!=4)'
ok "leaderboard rows survive a restart" $?
curl -s "$U/_emu/config" >cfg
"$py" -c 'import json,sys
c=json.load(open("cfg")); sys.exit(not (c["strict"] and c["throttle"]==100))'
ok "--strict and --throttle set" $?
req GET /api/jobs/submission/1001 spare-0001
has "hook-made token changes persisted" 401 \
    'j["messages"][0]["message"]=="Token is blacklisted"'
curl -s -X POST "$U/_emu/reset" >/dev/null
req GET /api/jobs/submission/1001 $HOST
has "reset hook restores the start state" 200 'j["status"]=="cancelled"'
