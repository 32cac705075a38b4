#!/bin/sh
# 3100-lb-ddb-get.t: GetItem, Query (sort-key conditions, index, paging)
# and Scan as plain JSON lines (moto), misses, bad input, faults.
. "${0%/*}/lib.sh"
moto_start
plan 41

faultd() { faultd_start "$1" "$2"; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
lines() { wc -l <"$1" | tr -d ' '; }

awsx dynamodb create-table --table-name T \
    --attribute-definitions AttributeName=team_id,AttributeType=S \
	AttributeName=submission_id,AttributeType=S \
	AttributeName=submission_status,AttributeType=S \
    --key-schema AttributeName=team_id,KeyType=HASH \
	AttributeName=submission_id,KeyType=RANGE \
    --global-secondary-indexes \
	'IndexName=by_status,KeySchema=[{AttributeName=submission_status,KeyType=HASH}],Projection={ProjectionType=ALL}' \
    --billing-mode PAY_PER_REQUEST >/dev/null
# 25 items for team t1 written by the aws CLI: s1..s25, every third FINISHED
i=1
while [ $i -le 25 ]; do
	st=RUNNING; [ $((i % 3)) -eq 0 ] && st=FINISHED
	awsx dynamodb put-item --table-name T --item \
	    "{\"team_id\":{\"S\":\"t1\"},\"submission_id\":{\"S\":\"s$i\"},\"submission_status\":{\"S\":\"$st\"},\"n\":{\"N\":\"$i\"}}"
	i=$((i + 1))
done
awsx dynamodb put-item --table-name T --item '{"team_id":{"S":"t2"},"submission_id":{"S":"x"},"big":{"N":"12345678901234567890"},"f":{"N":"0.5"},"bin":{"B":"AAH/"},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false}]}}}}'

# GetItem by -K
lb-ddb-get -t T -K team_id=t2,submission_id=x >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 1 ]; ok '-K: one item, exit 0' $?
grep -q '"big":12345678901234567890[,}]' out; ok 'a 20-digit number comes back exactly' $?
py 'import json,sys
d=json.load(open("out"))
# the aws CLI (v1) takes "B" text as the bytes themselves: AAH/ is stored
# as the four bytes A A H /, whose base64 is QUFILw==
sys.exit(0 if d["f"]==0.5 and d["bin"]=={"$base64":"QUFILw=="} and sorted(d["ss"])==["a","b"]
 and sorted(d["ns"])==[1,2.5] and d["m"]=={"l":[None,False]} and d["team_id"]=="t2" else 1)'
ok 'plain JSON: numbers, B as $base64, sets as arrays, nesting' $?

# misses
lb-ddb-get -t T -K team_id=t2,submission_id=nope >out 2>err
[ $? -eq 0 ] && [ ! -s out ] && [ ! -s err ]; ok 'a miss: nothing printed, exit 0' $?
lb-ddb-get -t T -v -K team_id=t2,submission_id=nope >out 2>err
[ ! -s out ]; ok '-v miss: still nothing on stdout' $?
expect_grep '-v reports the miss' 'no item {"team_id":"t2","submission_id":"nope"}' err
lb-ddb-get -t T -m -K team_id=t2,submission_id=nope >out 2>err
expect_grep '-m prints found:false with the key' '^{"key":{"team_id":"t2","submission_id":"nope"},"found":false}$' out

# GetItem for key records
printf '%s\n' '{"team_id":"t1","submission_id":"s1","other":1}' \
    '{"team_id":"t1","submission_id":"none"}' '{"team_id":"t1","submission_id":"s2"}' >keys
lb-ddb-get -t T -k team_id,submission_id <keys >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 2 ]; ok '-k: two hits of three keys' $?
[ "$(jget '[r["n"] for r in d]' out)" = '[1, 2]' ]; ok 'in input order' $?
lb-ddb-get -t T -m -k team_id,submission_id <keys >out 2>err
[ "$(lines out)" = 3 ] && [ "$(jget 'd[1]["found"]' out)" = false ]
ok '-m -k: the miss in its place' $?

# Query
lb-ddb-get -t T -q team_id=t1 >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 25 ]; ok 'Query: all 25 items of t1' $?
lb-ddb-get -t T -q team_id=t1 -l 3 >out 2>err
[ "$(lines out)" = 25 ] && [ "$(jget 'len(set(r["submission_id"] for r in d))' out)" = 25 ]
ok 'pages of 3 followed to the end, no duplicates' $?
lb-ddb-get -t T -q team_id=t1 --sk 'submission_id begins_with s1' >out 2>err
[ "$(lines out)" = 11 ]; ok "--sk begins_with: s1, s10..s19" $?
lb-ddb-get -t T -q team_id=t1 --sk 'submission_id between s20 and s22' >out 2>err
[ "$(lines out)" = 3 ]; ok '--sk between' $?
lb-ddb-get -t T -q team_id=t1 --sk 'submission_id < s11' >out 2>err
[ "$(jget 'sorted(r["submission_id"] for r in d)' out)" = '["s1", "s10"]' ]
ok "--sk '<'" $?
lb-ddb-get -t T -q team_id=t1 --sk 'submission_id = s7' >out 2>err
[ "$(jget 'd[0]["n"]' out)" = 7 ] && [ "$(lines out)" = 1 ]; ok "--sk '='" $?
lb-ddb-get -t T -x by_status -q submission_status=FINISHED >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 8 ]; ok '-x index: 8 FINISHED' $?
lb-ddb-get -t T -q team_id=t1 -f submission_status=FINISHED >out 2>err
[ "$(lines out)" = 8 ]; ok 'Query with a filter' $?

# Scan
lb-ddb-get -t T >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 26 ]; ok 'Scan: every item' $?
lb-ddb-get -t T -f 'submission_status<>FINISHED' -f team_id=t1 >out 2>err
[ "$(lines out)" = 17 ]; ok "Scan with '<>' and '=' filters" $?
lb-ddb-get -t T -n 5 -l 2 >out 2>err
[ $? -eq 0 ] && [ "$(lines out)" = 5 ]; ok '-n 5 stops after five' $?

# hostile strings round-trip
HOSTILE='$(touch pwned); `id` | & ; < > "q" é€🚗 中文'
LONG=$(printf '%0300d' 0 | tr 0 z)
py 'import json,sys
print(json.dumps({"team_id":{"S":sys.argv[1]},"submission_id":{"S":"é"},"x"*300:{"S":sys.argv[2]}}))' \
    "$HOSTILE" "$LONG" >hitem.json
awsx dynamodb put-item --table-name T --item file://hitem.json
py 'import json,sys; print(json.dumps({"team_id":sys.argv[1],"submission_id":"é"}))' "$HOSTILE" |
    lb-ddb-get -t T -k team_id,submission_id >out 2>err
py 'import json,sys
d=json.load(open("out"))
sys.exit(0 if d["team_id"]==sys.argv[1] and d["x"*300]==sys.argv[2] else 1)' "$HOSTILE" "$LONG"
ok 'hostile key and 300-character name come back exactly' $?

# bad key records
py 'import json
print("{\"team_id\":}")
print("[]")
print(json.dumps({"team_id":"t1"}))
print(json.dumps({"team_id":"t1","submission_id":{"a":1}}))
print(json.dumps({"team_id":"t1","submission_id":"s3","pad":"p"*(1<<20)}))
print(json.dumps({"team_id":"t1","submission_id":"s4","pad":"p"*(20<<20)}))
print(json.dumps({"team_id":"t1","submission_id":"s5"}))' >bad
lb-ddb-get -t T -k team_id,submission_id -r rej <bad >out 2>err
[ $? -eq 1 ]; ok 'bad key records: exit 1' $?
expect_grep 'malformed JSON' 'stdin:1: ' err
expect_grep 'non-object' 'stdin:2: not a JSON object' err
expect_grep 'missing key member' 'stdin:3: key member submission_id is missing' err
expect_grep 'wrongly typed key member' 'stdin:4: key member submission_id is not a string or number' err
expect_grep '20 MiB: the record cap' 'stdin:6: record larger than 16777216' err
[ "$(jget '[r["n"] for r in d]' out)" = '[3, 5]' ]
ok 'the 1 MiB key record and the last one were looked up' $?

# unknown table, usage
lb-ddb-get -t nope -K a=b >out 2>err
[ $? -eq 1 ]; ok 'unknown table: exit 1' $?
expect_grep 'named' 'ResourceNotFoundException' err
lb-ddb-get -t T -k a -q a=b </dev/null 2>/dev/null; [ $? -eq 2 ]; ok '-k with -q: exit 2' $?
lb-ddb-get -t T --sk 'a = b' 2>/dev/null; [ $? -eq 2 ]; ok '--sk without -q: exit 2' $?
lb-ddb-get -t T -q a=b --sk 'a like b' 2>err; [ $? -eq 2 ]; ok 'unknown --sk operator: exit 2' $?

# faults
faultd 503,trunc,200 '{"Items":[{"a":{"S":"x"},"n":{"N":"1"}}]}'
AWS_ENDPOINT_URL=$F lb-ddb-get -t T >out 2>err
[ $? -eq 0 ] && [ "$(cat out)" = '{"a":"x","n":1}' ]; ok '503 and a cut connection retried, then the page' $?
curl -s -X POST --data-binary 500 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-ddb-get -t T >out 2>err
[ $? -eq 75 ] && [ ! -s out ]; ok 'persistent 500: exit 75' $?
faultd 200 '{"Items":[{"a":{"Q":"x"}}]}'
AWS_ENDPOINT_URL=$F lb-ddb-get -t T >out 2>err
[ $? -eq 1 ]; ok 'an AttributeValue of unknown type: exit 1' $?
expect_grep 'and says so' 'unknown AttributeValue type Q' err

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
good lb-ddb-get -t T -K team_id=t1,submission_id=s1 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: read' $?
wrong lb-ddb-get -t T -K team_id=t1,submission_id=s1 >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret: exit 1, nothing printed' $?
expect_grep 'SignatureDoesNotMatch' 'SignatureDoesNotMatch' err
