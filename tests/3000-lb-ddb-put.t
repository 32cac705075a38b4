#!/bin/sh
# 3000-lb-ddb-put.t: PutItem and UpdateItem from records (moto), types,
# conditions, bad input, sizes, faults from faultd.
. "${0%/*}/lib.sh"
moto_start
plan 56

faultd() { faultd_start "$1" '{}'; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
# item T S: the stored item (AttributeValues) as the aws CLI sees it
item() {
	awsx dynamodb get-item --table-name T --output json --key \
	    "{\"team_id\":{\"S\":\"$1\"},\"submission_id\":{\"S\":\"$2\"}}" >item.json
	cat item.json
}
# check PYEXPR: evaluate on the stored item i (dict of AttributeValues)
check() {
	py 'import json,sys
d=json.load(open("item.json")) if open("item.json").read().strip() else {}
i=d.get("Item",{})
sys.exit(0 if eval(sys.argv[1]) else 1)' "$@"
}

awsx dynamodb create-table --table-name T \
    --attribute-definitions AttributeName=team_id,AttributeType=S \
	AttributeName=submission_id,AttributeType=S \
    --key-schema AttributeName=team_id,KeyType=HASH \
	AttributeName=submission_id,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null

# PutItem: every type
echo '{"team_id":"t1","submission_id":"s1","big":12345678901234567890,"f":0.25,"i":-7,"e":1e21,"b":true,"z":null,"l":[1,"a",[false]],"m":{"k":{"kk":"v"}},"bin":{"$base64":"AAH/"},"empty":""}' >in
lb-ddb-put -t T <in >out 2>err
[ $? -eq 0 ]; ok 'PutItem: exit 0' $?
py 'import json,sys
sys.exit(0 if json.load(open("in"))==json.load(open("out")) else 1)' &&
    grep -q '"big":12345678901234567890,' out
ok 'the record is echoed, the long number with all its digits' $?
item t1 s1 >/dev/null
check 'i["big"]=={"N":"12345678901234567890"}'; ok 'a 20-digit number is stored exactly' $?
check 'i["f"]=={"N":"0.25"} and i["i"]=={"N":"-7"}'; ok 'fractions and negatives' $?
check 'i["e"]=={"N":"1000000000000000000000"}'; ok '1e21 stored without an exponent' $?
check 'i["b"]=={"BOOL":True} and i["z"]=={"NULL":True} and i["empty"]=={"S":""}'
ok 'BOOL, NULL and the empty string' $?
check 'i["l"]=={"L":[{"N":"1"},{"S":"a"},{"L":[{"BOOL":False}]}]}'; ok 'lists nest' $?
check 'i["m"]=={"M":{"k":{"M":{"kk":{"S":"v"}}}}}'; ok 'maps nest' $?
check 'i["bin"]=={"B":"AAH/"}'; ok '{"$base64":...} is stored as B' $?

# -i MEMBER: the item is one member of the record
echo '{"doc":{"team_id":"t1","submission_id":"s2","v":1},"other":"not stored"}' |
    lb-ddb-put -t T -i doc >out 2>err
item t1 s2 >/dev/null
[ $? -eq 0 ] && check 'i.get("v")=={"N":"1"} and "other" not in i and "doc" not in i'
ok '-i doc: only the member is stored' $?

# conditions on PutItem
echo '{"team_id":"t1","submission_id":"s3","v":"first"}' |
    lb-ddb-put -t T -k team_id,submission_id --if-absent >/dev/null 2>&1
echo '{"team_id":"t1","submission_id":"s3","v":"second"}' >second
lb-ddb-put -t T -k team_id,submission_id --if-absent <second >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok '--if-absent on an existing item: exit 1, not echoed' $?
expect_grep 'condition failure is reported per record' 'stdin:1: condition failed' err
item t1 s3 >/dev/null; check 'i["v"]=={"S":"first"}'; ok 'the item was not overwritten' $?
lb-ddb-put -t T -k team_id,submission_id --if-absent --ok-if-exists <second >out 2>err
[ $? -eq 0 ]; ok '--ok-if-exists: exit 0' $?
expect_grep 'echoed with ddb.condition failed' '"ddb":{"condition":"failed"}' out

# update mode: SET from JSONPath, with placeholders
echo '{"team_id":"t1","submission_id":"s4","submission_status":"RUNNING","keep":"me"}' |
    lb-ddb-put -t T >/dev/null
HOSTILE='$(touch pwned); `id` | & ; < > "q" :v0 #n0 ) OR ( é€🚗'
py 'import json,sys
print(json.dumps({"team_id":"t1","submission_id":"s4","r":{"status":"FINISHED","score":{"x y":97.5},"note":sys.argv[1]}}))' "$HOSTILE" >upd
lb-ddb-put -t T -k team_id,submission_id -s 'submission_status=$.r.status' \
    -s 'score=$.r.score["x y"]' -s 'status=$.r.note' -s 'a b=$.r.score' \
    --if submission_status=RUNNING <upd >out 2>err
[ $? -eq 0 ]; ok 'UpdateItem with --if on the current value: exit 0' $?
item t1 s4 >/dev/null
check 'i["submission_status"]=={"S":"FINISHED"} and i["score"]=={"N":"97.5"} and i["keep"]=={"S":"me"}'
ok 'values set from JSONPath, other attributes kept' $?
py 'import json,sys
i=json.load(open("item.json"))["Item"]
sys.exit(0 if i["status"]=={"S":sys.argv[1]} and i["a b"]=={"M":{"x y":{"N":"97.5"}}} else 1)' "$HOSTILE"
ok 'reserved words, spaces and hostile values go through placeholders' $?
lb-ddb-put -t T -k team_id,submission_id -s 'submission_status=$.r.status' \
    --if submission_status=RUNNING <upd >out 2>err
[ $? -eq 0 ] && [ -s out ]
ok 'the same write again, condition now false but the item holds it: done' $?
sed 's/"FINISHED"/"FAILED"/' upd >upd2
lb-ddb-put -t T -k team_id,submission_id -s 'submission_status=$.r.status' \
    --if submission_status=RUNNING <upd2 >out 2>err
[ $? -eq 1 ]; ok '--if on a changed value: ConditionalCheckFailed, exit 1' $?
lb-ddb-put -t T -k team_id,submission_id -s 'submission_status=$.r.status' \
    --if-in submission_status=QUEUED,FINISHED <upd >out 2>err
[ $? -eq 0 ]; ok '--if-in with a matching value: exit 0' $?
lb-ddb-put -t T -k team_id,submission_id -s 'submission_status=$.r.status' \
    --if-in submission_status=QUEUED,RUNNING <upd2 >out 2>err
[ $? -eq 1 ]; ok '--if-in without a matching value: exit 1' $?

# hostile keys and 300-character names round-trip
LONG=$(printf '%0300d' 0 | tr 0 n)
py 'import json,sys
print(json.dumps({"team_id":sys.argv[1],"submission_id":"é€🚗 中文","x"*300:sys.argv[2]},ensure_ascii=False))' \
    "$HOSTILE" "$LONG" | lb-ddb-put -t T >/dev/null 2>&1
py 'import json,sys
print(json.dumps({"team_id":{"S":sys.argv[1]},"submission_id":{"S":"é€🚗 中文"}}))' "$HOSTILE" >key.json
awsx dynamodb get-item --table-name T --key file://key.json --output json >item.json
check 'i.get("x"*300)=={"S":"'"$LONG"'"} and i["submission_id"]=={"S":"é€🚗 中文"}'
ok 'hostile key values and a 300-character name round-trip' $?

# bad records
{
	echo '{"team_id":"t1","submission_id":"s5","r":{}}'
	echo '{"team_id":"t1"'
	echo '[1]'
	echo '{"team_id":"t1","r":{"status":"x"}}'
	echo '{"team_id":{"o":1},"submission_id":"s5","r":{"status":"x"}}'
	echo '{"team_id":"t1","submission_id":"s6","r":{"status":"ok"}}'
} >bad
lb-ddb-put -t T -k team_id,submission_id -s 'st=$.r.status' -r rej <bad >out 2>err
[ $? -eq 1 ]; ok 'bad records: exit 1' $?
expect_grep 'missing JSONPath value named' 'stdin:1: st=\$.r.status' err
expect_grep 'malformed JSON' 'stdin:2: ' err
expect_grep 'non-object' 'stdin:3: not a JSON object' err
expect_grep 'missing key attribute' 'stdin:4: key attribute submission_id is missing' err
expect_grep 'wrongly typed key attribute' 'stdin:5: key attribute team_id is not a string or number' err
[ "$(wc -l <out)" -eq 1 ] && [ "$(wc -l <rej)" -eq 5 ]
ok 'the good record was written, five saved with -r' $?
echo '{"x":{"team_id":"a"}}' | lb-ddb-put -t T -i doc 2>err >/dev/null
[ $? -eq 1 ]; ok '-i member missing: exit 1' $?
expect_grep '-i member missing, stated' 'stdin:1: no member doc' err

# sizes
py 'import json
print(json.dumps({"team_id":"t9","submission_id":"big","pad":"x"*(1<<20)}))
print(json.dumps({"team_id":"t9","submission_id":"huge","pad":"x"*(20<<20)}))
print(json.dumps({"team_id":"t9","submission_id":"small"}))' >big
lb-ddb-put -t T <big >out 2>err
[ $? -eq 1 ]; ok '1 MiB and 20 MiB: exit 1' $?
expect_grep '1 MiB: the service limit, stated' 'stdin:1: .*[Ii]tem size' err
expect_grep '20 MiB: the record cap' 'stdin:2: record larger than 16777216' err
[ "$(wc -l <out)" -eq 1 ]; ok 'the small record after them was written' $?

# unknown table: stop at once
printf '%s\n' '{"team_id":"a","submission_id":"b"}' '{"team_id":"a","submission_id":"c"}' |
    lb-ddb-put -t nope >out 2>err
[ $? -eq 1 ]; ok 'unknown table: exit 1' $?
expect_grep 'unknown table named once' 'nope: .*ResourceNotFoundException.*giving up' err

# usage
expect_exit 'no -t: exit 2' 2 lb-ddb-put </dev/null
lb-ddb-put -t T -s 'a=$.b' </dev/null 2>/dev/null; [ $? -eq 2 ]; ok '-s without -k: exit 2' $?
lb-ddb-put -t T -k a -s 'a=$.[' </dev/null 2>/dev/null; [ $? -eq 2 ]; ok 'bad JSONPath: exit 2' $?
lb-ddb-put -t T --if-absent </dev/null 2>/dev/null; [ $? -eq 2 ]; ok '--if-absent without -k: exit 2' $?

# faults
echo '{"team_id":"a","submission_id":"b"}' >one
faultd 503,trunc,200
AWS_ENDPOINT_URL=$F lb-ddb-put -t T <one >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <"$FAULTD_LOG")" -eq 3 ]; ok '503 and a cut connection retried, then written' $?
faultd_script 400:ProvisionedThroughputExceededException,200
AWS_ENDPOINT_URL=$F lb-ddb-put -t T <one >out 2>err
[ $? -eq 0 ]; ok 'throttled, then written' $?
faultd_script 500
AWS_ENDPOINT_URL=$F lb-ddb-put -t T <one >out 2>err
[ $? -eq 75 ] && [ ! -s out ]; ok 'persistent 500: exit 75, not echoed' $?

# wrong credentials: moto in signature-checking mode
# -d: REMOVE, as a submission leaves the sparse "unfinished" index
echo '{"team_id":"rm","submission_id":"1","unfinished":"lb2","st":"RUNNING"}' |
    lb-ddb-put -t T >/dev/null
echo '{"team_id":"rm","submission_id":"1","new":"FINISHED"}' |
    lb-ddb-put -t T -k team_id,submission_id -s 'st=$.new' -d unfinished \
    --if st=RUNNING >out 2>err
ok '-s with -d: written' $?
awsx dynamodb get-item --table-name T \
    --key '{"team_id":{"S":"rm"},"submission_id":{"S":"1"}}' >item.json
jq -e '.Item.st.S == "FINISHED" and .Item.unfinished == null' item.json >/dev/null
ok 'the aws CLI sees the attribute removed and the other set' $?
echo '{"team_id":"rm","submission_id":"1"}' |
    lb-ddb-put -t T -d unfinished -d st >/dev/null 2>err
[ $? -eq 2 ] && grep -q 'need -k' err; ok '-d without -k is a usage error' $?

# a conditional write that landed but whose answer was lost: the HTTP
# layer sends it again, that fails the condition, and the item shows the
# write is there: a success, not an error
fproxy() {
	: >fp.url
	: >fp.log
	"$PY" "$top/tests/emulators/faultproxy.py" --upstream "$MOTO_ENDPOINT" \
	    --kind aws --rate 1 --max-faults 1 --faults lost --log fp.log \
	    >fp.url 2>fp.err &
	srv_started $!
	i=0
	while [ ! -s fp.url ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	P=$(head -n 1 fp.url)
}
echo '{"team_id":"lost","submission_id":"1","st":"RUNNING"}' | lb-ddb-put -t T >/dev/null
fproxy
echo '{"team_id":"lost","submission_id":"1","new":"FINALIZING","by":"me"}' |
    AWS_ENDPOINT_URL=$P lb-ddb-put -t T -k team_id,submission_id -s 'st=$.new' \
    -s 'by=$.by' --if-in st=SUBMITTED,RUNNING >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]
ok 'a conditional update applied, its answer lost, the retry refused: success' $?
[ "$(jq -r '"\(.fault) \(.status)"' fp.log)" = "lost 200" ]
ok '... (the proxy lost the answer to the first attempt)' $?
item lost 1 >/dev/null
check 'i["st"]["S"] == "FINALIZING" and i["by"]["S"] == "me"'
ok '... the aws CLI sees the write' $?
echo '{"team_id":"lost","submission_id":"1","new":"FINALIZING","by":"other"}' |
    lb-ddb-put -t T -k team_id,submission_id -s 'st=$.new' -s 'by=$.by' \
    --if-in st=SUBMITTED,RUNNING >out 2>err
[ $? -eq 1 ] && [ ! -s out ]
ok '... while a condition that fails for another writer still fails' $?
fproxy
echo '{"team_id":"lost","submission_id":"2","a":"x"}' |
    AWS_ENDPOINT_URL=$P lb-ddb-put -t T -k team_id,submission_id --if-absent >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ] && ! grep -q condition out
ok 'the same for a PutItem --if-absent whose answer was lost' $?

moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
echo '{"team_id":"auth","submission_id":"1"}' | good lb-ddb-put -t T >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: written' $?
printf '%s\n' '{"team_id":"auth","submission_id":"2"}' '{"team_id":"auth","submission_id":"3"}' |
    wrong lb-ddb-put -t T >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret: exit 1, nothing echoed' $?
expect_grep 'SignatureDoesNotMatch, giving up' 'SignatureDoesNotMatch.*giving up' err
