#!/bin/sh
# 1300-lb-sqs-ack.t: deleting received messages and extending their
# visibility (moto), bad records and handles, faults from faultd.
. "${0%/*}/lib.sh"
moto_start
plan 27

faultd() { faultd_start "$1" '{}'; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
attr() {
	awsx sqs get-queue-attributes --queue-url "$1" --attribute-names All \
	    --query "Attributes.$2" --output text
}
msg='{"challenge_pk":1,"phase_pk":2,"submission_pk":3,"submitted_image_uri":"u","is_static_dataset_code_upload_submission":false}'
HOSTILE='$(touch pwned); `id` | & ; < > "q" é€🚗 中文'

Q=$(awsx sqs create-queue --queue-name acks --query QueueUrl --output text)
for i in 1 2 3; do
	awsx sqs send-message --queue-url "$Q" --message-body "$msg" >/dev/null
done
lb-sqs-recv -q "$Q" -w 0 -V 60 >recs 2>/dev/null
# a hostile member passes through untouched
py 'import json,sys
for l in open("recs"):
    r=json.loads(l); r["note"]=sys.argv[1]; print(json.dumps(r,ensure_ascii=False))' \
    "$HOSTILE" >in
lb-sqs-ack <in >out 2>err
[ $? -eq 0 ]; ok 'three acks: exit 0' $?
[ "$(wc -l <out)" -eq 3 ]; ok 'three records echoed' $?
py 'import json,sys
a=[json.loads(l) for l in open("in")]; b=[json.loads(l) for l in open("out")]
sys.exit(0 if a==b else 1)'
ok 'echoes are the input records, hostile member included' $?
[ "$(attr "$Q" ApproximateNumberOfMessages)" = 0 ] &&
    [ "$(attr "$Q" ApproximateNumberOfMessagesNotVisible)" = 0 ]
ok 'the aws CLI sees the queue empty: all deleted' $?

# -e extends (here: shortens to 0) the visibility instead of deleting
QE=$(awsx sqs create-queue --queue-name ext --query QueueUrl --output text)
awsx sqs send-message --queue-url "$QE" --message-body "$msg" >/dev/null
lb-sqs-recv -q "$QE" -w 0 -V 600 >rec1 2>/dev/null
lb-sqs-ack -e 0 <rec1 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok '-e 0: exit 0, echoed' $?
got=$(awsx sqs receive-message --queue-url "$QE" --visibility-timeout 0 \
    --query 'Messages[0].Body' --output text)
[ "$got" = "$msg" ]; ok '-e changed the visibility, the message was not deleted' $?
lb-sqs-recv -q "$QE" -w 0 -V 600 >rec1 2>/dev/null
lb-sqs-ack -e 600 <rec1 >/dev/null 2>&1 &&
    [ "$(attr "$QE" ApproximateNumberOfMessagesNotVisible)" = 1 ] &&
    lb-sqs-ack <rec1 >/dev/null 2>&1 &&
    [ "$(attr "$QE" ApproximateNumberOfMessagesNotVisible)" = 0 ] &&
    [ "$(attr "$QE" ApproximateNumberOfMessages)" = 0 ]
ok 'a heartbeat, then the delete works' $?

# -q overrides the record's queue
QQ=$(awsx sqs create-queue --queue-name override --query QueueUrl --output text)
awsx sqs send-message --queue-url "$QQ" --message-body "$msg" >/dev/null
lb-sqs-recv -q "$QQ" -w 0 >rec1 2>/dev/null
py 'import json
r=json.loads(open("rec1").read()); r["sqs"]["queue_url"]="http://nowhere/1/none"
print(json.dumps(r))' | lb-sqs-ack -q "$QQ" >out 2>err
[ $? -eq 0 ] && [ "$(attr "$QQ" ApproximateNumberOfMessagesNotVisible)" = 0 ]
ok '-q QUEUE_URL wins over sqs.queue_url' $?

# bad records
rh=$(jget 'd[0]["sqs"]["receipt_handle"]' rec1)
{
	echo '{"sqs":{"queue_url":"'"$Q"'"}}'
	echo '{"sqs":{"queue_url":"'"$Q"'","receipt_handle":42}}'
	echo '{"sqs":"x"}'
	echo '{"sqs":{"queue_url":"'"$Q"'","receipt_handle":"bogus"}}'
	echo '{"sqs":{"receipt_handle":"x"}}'
	echo '{broken'
	echo '[]'
} >bad
lb-sqs-ack -r rej <bad >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'bad records: exit 1, nothing echoed' $?
expect_grep 'missing receipt handle' 'stdin:1: no sqs.receipt_handle string' err
expect_grep 'wrongly typed receipt handle' 'stdin:2: no sqs.receipt_handle string' err
expect_grep 'sqs not an object' 'stdin:3: no sqs.queue_url' err
expect_grep 'invalid handle: a clear message' 'stdin:4: receipt handle invalid or expired' err
expect_grep 'no queue and no -q' 'stdin:5: no sqs.queue_url string (and no -q)' err
expect_grep 'malformed JSON' 'stdin:6: malformed JSON' err
[ "$(wc -l <rej)" -eq 7 ]; ok 'all seven saved with -r' $?

# unknown queue
echo '{"sqs":{"queue_url":"'"$MOTO_ENDPOINT"'/123456789012/nope","receipt_handle":"x"}}' |
    lb-sqs-ack >/dev/null 2>err
[ $? -eq 1 ]; ok 'unknown queue: exit 1' $?
expect_grep 'named' 'QueueDoesNotExist' err

# sizes
QB=$(awsx sqs create-queue --queue-name big --query QueueUrl --output text)
awsx sqs send-message --queue-url "$QB" --message-body "$msg" >/dev/null
lb-sqs-recv -q "$QB" -w 0 >rec1 2>/dev/null
py 'import json
r=json.loads(open("rec1").read())
print(json.dumps({"big":"x"*(20<<20)}))
r["pad"]="y"*(1<<20); print(json.dumps(r))' >big
lb-sqs-ack <big >out 2>err
[ $? -eq 1 ]; ok '20 MiB record: exit 1' $?
expect_grep '20 MiB rejected by the record cap' 'stdin:1: record larger than 16777216' err
[ "$(wc -l <out)" -eq 1 ] && [ "$(attr "$QB" ApproximateNumberOfMessagesNotVisible)" = 0 ]
ok 'the 1 MiB record after it was acknowledged' $?

# faults
echo '{"sqs":{"queue_url":"q","receipt_handle":"h"}}' >one
faultd 503,trunc,200
AWS_ENDPOINT_URL=$F lb-sqs-ack <one >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <"$FAULTD_LOG")" -eq 3 ]; ok '503 and a cut connection retried, then done' $?
curl -s -X POST --data-binary 400:ThrottlingException,200 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-sqs-ack <one >out 2>err
[ $? -eq 0 ]; ok 'throttled, then done' $?
curl -s -X POST --data-binary 500 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-sqs-ack <one >out 2>err
[ $? -eq 75 ] && [ ! -s out ]; ok 'persistent 500: exit 75, not echoed' $?

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
good awsx sqs send-message --queue-url "$QB" --message-body "$msg" >/dev/null
good lb-sqs-recv -q "$QB" -w 0 >rec1 2>/dev/null
wrong lb-sqs-ack <rec1 >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret: exit 1, not echoed' $?
expect_grep 'SignatureDoesNotMatch reported' 'stdin:1: .*SignatureDoesNotMatch' err
good lb-sqs-ack <rec1 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: deleted' $?
