#!/bin/sh
# 3500-lb-secret-get.t: secrets from Secrets Manager (moto) as records;
# JSON, strings, binaries, -k, -m, errors that never show a secret.
. "${0%/*}/lib.sh"
moto_start
plan 32

faultd() { faultd_start "$1" "$2"; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
mk() { awsx secretsmanager create-secret --name "$1" "$2" "$3" >/dev/null; }

PW='p4$$w0rd`id`;|&<>"é€🚗'
py 'import json,sys; print(json.dumps({"user":"evalai","password":sys.argv[1],"n":5}))' "$PW" >s1.json
mk app/json --secret-string file://s1.json
mk plain --secret-string 'hunter2 is not json {'
mk digits --secret-string '0012345'
printf 'bin\000\001\377' >bin1
mk binary --secret-binary fileb://bin1
printf '{"k":"from binary"}' >bin2
mk binjson --secret-binary fileb://bin2
py 'print("s"*65536,end="")' >s64k
mk big --secret-string file://s64k

lb-secret-get app/json >out 2>err
[ $? -eq 0 ]; ok 'a JSON secret: exit 0' $?
py 'import json,sys
d=json.load(open("out"))
sys.exit(0 if d=={"id":"app/json","secret":json.load(open("s1.json"))} else 1)'
ok 'parsed JSON under "secret", hostile characters exact' $?
lb-secret-get -k password app/json >out 2>err
py 'import json,sys; sys.exit(0 if json.load(open("out"))["secret"]==sys.argv[1] else 1)' "$PW"
ok '-k picks one key' $?
lb-secret-get plain digits >out 2>err
[ "$(jget 'd[0]["secret"]' out)" = 'hunter2 is not json {' ]; ok 'a non-JSON secret is a string' $?
[ "$(jget 'd[1]["secret"]' out)" = '0012345' ]; ok 'digits stay a string (leading zeros kept)' $?
lb-secret-get binary binjson >out 2>err
[ "$(jget 'd[0]["secret"]' out)" = '{"$base64": "YmluAAH/"}' ]
ok 'a binary secret that is not text comes as {"$base64":...}' $?
[ "$(jget 'd[1]["secret"]["k"]' out)" = 'from binary' ]; ok 'a binary secret that is JSON text is parsed' $?
lb-secret-get big >out 2>err
[ "$(jget 'len(d[0]["secret"])' out)" = 65536 ]; ok 'a 64 KiB secret whole' $?

# several ids, one missing
lb-secret-get plain nope digits >out 2>err
[ $? -eq 1 ]; ok 'a missing secret: exit 1' $?
[ "$(lines() { wc -l <"$1"; }; lines out | tr -d ' ')" = 2 ]; ok 'the others are printed' $?
expect_grep 'the missing one is named' "nope: .*ResourceNotFoundException" err

# records with -m
printf '%s\n' '{"sid":"app/json","x":1}' '{"x":2}' '{"sid":7}' '{"sid":' '{"sid":"plain"}' >recs
lb-secret-get -m sid -k user -r rej <recs >out 2>err
[ $? -eq 1 ]; ok '-m: bad records make exit 1' $?
[ "$(jget 'd[0]["secret"]' out)" = evalai ] && [ "$(jget 'd[0]["x"]' out)" = 1 ]
ok '-m: the record with its secret added' $?
expect_grep 'missing member' 'stdin:2: member sid is missing' err
expect_grep 'wrongly typed member' 'stdin:3: member sid is missing or not a non-empty string' err
expect_grep 'malformed record' 'stdin:4: ' err
expect_grep '-k on a non-JSON secret' 'stdin:5: secret plain is not a JSON object' err
[ "$(wc -l <rej)" -eq 4 ]; ok 'bad records saved with -r' $?
lb-secret-get -k nokey app/json >out 2>err
[ $? -eq 1 ]; ok "a missing key: exit 1" $?
expect_grep "a missing key is named" "secret app/json has no key nokey" err

# never a secret in stderr or the reject file
cat err >allerr
lb-secret-get -m sid -k user -r rej <recs >/dev/null 2>>allerr
lb-secret-get -k password plain nope >/dev/null 2>>allerr
py 'import sys
e=open("allerr").read()+open("rej").read()
bad=[s for s in (sys.argv[1],"hunter2","evalai","0012345") if s in e]
print("# leaked:",bad) if bad else None
sys.exit(1 if bad else 0)' "$PW"
ok 'no secret value in any error message or reject file' $?

# sizes
py 'import json
print(json.dumps({"sid":"digits","pad":"p"*(1<<20)}))
print(json.dumps({"sid":"digits","pad":"p"*(20<<20)}))
print(json.dumps({"sid":"digits"}))' >big
lb-secret-get -m sid <big >out 2>err
[ $? -eq 1 ]; ok '20 MiB record: exit 1' $?
expect_grep 'the record cap, stated' 'stdin:2: record larger than 16777216' err
[ "$(jget '[r["secret"] for r in d]' out)" = '["0012345", "0012345"]' ]
ok 'the 1 MiB record and the one after it were served' $?

# usage
expect_exit 'neither ids nor -m: exit 2' 2 lb-secret-get
lb-secret-get -m sid plain </dev/null 2>/dev/null; [ $? -eq 2 ]; ok 'both ids and -m: exit 2' $?

# faults
faultd 503,trunc,200 '{"Name":"x","SecretString":"s3cr3t-value"}'
AWS_ENDPOINT_URL=$F lb-secret-get x >out 2>err
[ $? -eq 0 ] && [ "$(jget 'd[0]["secret"]' out)" = s3cr3t-value ]
ok '503 and a cut connection retried, then the secret' $?
curl -s -X POST --data-binary 500 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-secret-get x >out 2>err
[ $? -eq 75 ] && [ ! -s out ]; ok 'persistent 500: exit 75' $?
port=$(free_port)
AWS_ENDPOINT_URL=http://127.0.0.1:$port lb-secret-get x >out 2>err
[ $? -eq 75 ]; ok 'unreachable endpoint: exit 75' $?

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
good lb-secret-get plain >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: read' $?
wrong lb-secret-get plain >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret key: exit 1, nothing printed' $?
expect_grep 'SignatureDoesNotMatch' 'SignatureDoesNotMatch' err
