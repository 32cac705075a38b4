#!/bin/sh
# 1100-lb-sqs-recv.t: receiving submission messages from SQS (moto), bad
# bodies left on the queue, -n, -f with SIGTERM, faults from faultd.
. "${0%/*}/lib.sh"
moto_start
plan 42

faultd() { faultd_start "$1" "$2"; F=$FAULTD_URL; }
py() { python3 -c "$@"; }

Q=$(awsx sqs create-queue --queue-name subs --query QueueUrl --output text)
send() { awsx sqs send-message --queue-url "$Q" --message-body "$1" \
    --query MessageId --output text; }

HOSTILE='$(touch pwned); `id` | & ; < > "q" '"'"'s'"'"' \\ é€🚗 中文'
LONG=$(printf '%0300d' 0 | tr 0 x)
good_int='{"challenge_pk":1,"phase_pk":2,"submission_pk":3,"submitted_image_uri":"img:1","is_static_dataset_code_upload_submission":false}'
good_str='{"challenge_pk":"10","phase_pk":"020","submission_pk":"30","submitted_image_uri":"img:2","is_static_dataset_code_upload_submission":true}'
hostile=$(py 'import json,sys
print(json.dumps({"challenge_pk":"4","phase_pk":5,"submission_pk":6,
 "submitted_image_uri":sys.argv[1],"team_name":sys.argv[2],
 "is_static_dataset_code_upload_submission":False}))' "$HOSTILE" "$LONG")

id1=$(send "$good_int")
id2=$(send "$good_str")
id3=$(send "$hostile")
bad1=$(send 'this is not JSON')
bad2=$(send '{"challenge_pk":1,"phase_pk":2,"submitted_image_uri":"x","is_static_dataset_code_upload_submission":false}')
bad3=$(send '{"challenge_pk":1,"phase_pk":2,"submission_pk":3,"submitted_image_uri":"x","is_static_dataset_code_upload_submission":"yes"}')

lb-sqs-recv -q "$Q" -w 0 -V 600 -r rej >out 2>err
[ $? -eq 1 ]; ok 'bad bodies among them: exit 1' $?
[ "$(wc -l <out)" -eq 3 ]; ok 'three good messages, three records' $?
sort_ids=$(jget '" ".join(sorted(r["sqs"]["message_id"] for r in d))' out)
want_ids=$(printf '%s\n' "$id1" "$id2" "$id3" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$sort_ids" = "$want_ids" ]; ok 'message ids are those the aws CLI got' $?
[ "$(jget '[r for r in d if r["sqs"]["message_id"]=="'"$id1"'"][0]["challenge_pk"]' out)" = 1 ]
ok 'integer pk becomes the string "1"' $?
[ "$(jget '[r for r in d if r["sqs"]["message_id"]=="'"$id2"'"][0]["phase_pk"]' out)" = 20 ]
ok 'string pk "020" is normalised to "20"' $?
[ "$(jget 'all(isinstance(r[k],str) for r in d for k in ("challenge_pk","phase_pk","submission_pk"))' out)" = true ]
ok 'every pk is a string' $?
[ "$(jget 'all(r["sqs"]["receive_count"]==1 and r["sqs"]["queue_url"]=="'"$Q"'" and len(r["sqs"]["receipt_handle"])>0 for r in d)' out)" = true ]
ok 'sqs member has queue_url, receipt_handle, receive_count' $?
expect_grep 'sent_at is ISO 8601 UTC' '"sent_at":"20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z"' out
py 'import json,sys
r=[json.loads(l) for l in open("out")]
h=[x for x in r if x["sqs"]["message_id"]==sys.argv[1]][0]
sys.exit(0 if h["submitted_image_uri"]==sys.argv[2] and h["team_name"]==sys.argv[3] else 1)' "$id3" "$HOSTILE" "$LONG"
ok 'hostile and 300-character strings arrive exactly' $?
expect_grep 'not-JSON body reported with its id' "message $bad1: body is not JSON" err
expect_grep 'missing member reported' "message $bad2: body lacks submission_pk" err
expect_grep 'wrong type reported' "message $bad3: is_static_dataset_code_upload_submission is not a boolean" err
[ "$(wc -l <rej)" -eq 3 ]; ok 'three bad messages saved with -r' $?
[ "$(jget '[r["body"] for r in d if r["sqs"]["message_id"]=="'"$bad1"'"][0]' rej)" = 'this is not JSON' ]
ok 'the reject file keeps the raw body' $?
# the good ones are acknowledged; the bad ones must still be on the queue
lb-sqs-ack <out >/dev/null 2>&1
nv=$(awsx sqs get-queue-attributes --queue-url "$Q" --attribute-names All \
    --query '[Attributes.ApproximateNumberOfMessagesNotVisible,Attributes.ApproximateNumberOfMessages]' \
    --output text | awk '{ print $1 + $2 }')
[ "$nv" = 3 ]; ok 'bad messages were not deleted (3 still on the queue)' $?

QE=$(awsx sqs create-queue --queue-name empty --query QueueUrl --output text)
lb-sqs-recv -q "$QE" -w 0 >eout 2>&1
[ $? -eq 0 ] && [ ! -s eout ]; ok 'empty queue: exit 0, nothing printed' $?

# exit status with a bad body: 1
awsx sqs send-message --queue-url "$QE" --message-body junk >/dev/null
lb-sqs-recv -q "$QE" -w 0 >/dev/null 2>&1
[ $? -eq 1 ]; ok 'a bad body makes the exit status 1' $?

# -n stops after MAX (over two receive calls)
Q2=$(awsx sqs create-queue --queue-name many --query QueueUrl --output text)
i=0
while [ $i -lt 15 ]; do
	awsx sqs send-message --queue-url "$Q2" --message-body "$good_int" >/dev/null
	i=$((i + 1))
done
lb-sqs-recv -q "$Q2" -w 0 -n 12 >out2 2>err2
[ $? -eq 0 ] && [ "$(wc -l <out2)" -eq 12 ]; ok '-n 12 gives exactly 12 records' $?
lb-sqs-recv -q "$Q2" -w 0 -V 30 >out3 2>&1
[ "$(wc -l <out3)" -eq 3 ]; ok 'the other 3 were left on the queue' $?

# redrive: a bad body left on the queue ends in the dead-letter queue
DLQ=$(awsx sqs create-queue --queue-name dlq --query QueueUrl --output text)
ARN=$(awsx sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn --query Attributes.QueueArn --output text)
RQ=$(awsx sqs create-queue --queue-name redriven --attributes \
    "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$ARN\\\",\\\"maxReceiveCount\\\":\\\"1\\\"}\"}" \
    --query QueueUrl --output text)
awsx sqs send-message --queue-url "$RQ" --message-body 'not json either' >/dev/null
lb-sqs-recv -q "$RQ" -w 0 -V 0 >/dev/null 2>&1
lb-sqs-recv -q "$RQ" -w 0 -V 0 >/dev/null 2>&1
awsx sqs receive-message --queue-url "$DLQ" --query 'Messages[0].Body' --output text >dl
expect_grep 'the bad message went to the dead-letter queue' '^not json either$' dl

# 1 MiB body (the largest SQS takes) is received whole
py 'import json
print(json.dumps({"challenge_pk":1,"phase_pk":2,"submission_pk":3,
 "submitted_image_uri":"u","is_static_dataset_code_upload_submission":False,
 "pad":"y"*(1048576-200)}),end="")' >bigbody
Q3=$(awsx sqs create-queue --queue-name big --query QueueUrl --output text)
awsx sqs send-message --queue-url "$Q3" --message-body file://bigbody >/dev/null 2>bigerr
lb-sqs-recv -q "$Q3" -w 0 >bigout 2>&1
[ "$(jget 'len(d[0]["pad"])' bigout)" = $((1048576 - 200)) ]
ok 'a 1 MiB message arrives whole' $?

# usage errors
expect_exit 'no -q: usage, exit 2' 2 lb-sqs-recv
lb-sqs-recv -q "$Q" -w 21 2>uerr; [ $? -eq 2 ]; ok '-w 21: exit 2' $?
expect_grep 'the usage error says why' 'not 0 to 20 seconds' uerr

# unknown queue
lb-sqs-recv -q "$MOTO_ENDPOINT/123456789012/nope" -w 0 >/dev/null 2>err
[ $? -eq 1 ]; ok 'unknown queue: exit 1' $?
expect_grep 'unknown queue is named' 'QueueDoesNotExist' err

# -f: SIGTERM ends it after the batch in hand, exit 0
QF=$(awsx sqs create-queue --queue-name follow --query QueueUrl --output text)
lb-sqs-recv -q "$QF" -f -w 1 >fout 2>ferr &
rpid=$!
awsx sqs send-message --queue-url "$QF" --message-body "$good_int" >/dev/null
i=0
while [ "$(wc -l <fout)" -lt 1 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $rpid
wait $rpid
[ $? -eq 0 ]; ok '-f: SIGTERM ends with exit 0' $?
[ "$(wc -l <fout)" -eq 1 ]; ok '-f: the message was written before the end' $?

# faults: the endpoint is the fault server
body='{"Messages":[{"MessageId":"m-1","ReceiptHandle":"rh-1","Body":"{\"challenge_pk\":7,\"phase_pk\":8,\"submission_pk\":9,\"submitted_image_uri\":\"u\",\"is_static_dataset_code_upload_submission\":false}","Attributes":{"ApproximateReceiveCount":"2","SentTimestamp":"1700000000000"}}]}'
faultd 503,503,200 "$body"
AWS_ENDPOINT_URL=$F lb-sqs-recv -q "$Q" -w 0 -n 1 >out 2>err
[ $? -eq 0 ] && [ "$(jget 'd[0]["submission_pk"]' out)" = 9 ]
ok '503 twice, then the message: delivered' $?
[ "$(wc -l <"$FAULTD_LOG")" -eq 3 ]; ok 'three requests were made' $?
expect_grep 'SentTimestamp becomes sent_at' '"sent_at":"2023-11-14T22:13:20Z"' out
faultd_script 400:ThrottlingException,200
AWS_ENDPOINT_URL=$F lb-sqs-recv -q "$Q" -w 0 -n 1 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'throttled, then delivered' $?
faultd_script trunc,200
AWS_ENDPOINT_URL=$F lb-sqs-recv -q "$Q" -w 0 -n 1 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'connection cut mid-body, retried, delivered' $?
faultd_script 500
AWS_ENDPOINT_URL=$F lb-sqs-recv -q "$Q" -w 0 -n 1 >out 2>err
[ $? -eq 75 ]; ok 'persistent 500: exit 75' $?
expect_grep 'the 500 is reported' '500' err
faultd_script reset
AWS_ENDPOINT_URL=$F lb-sqs-recv -q "$Q" -w 0 -n 1 >out 2>err
[ $? -eq 75 ] && [ ! -s out ]; ok 'connection reset every time: exit 75, no output' $?

# an endpoint where nobody listens
port=$(free_port)
AWS_ENDPOINT_URL=http://127.0.0.1:$port lb-sqs-recv -q "$Q" -w 0 >out 2>err
[ $? -eq 75 ]; ok 'unreachable endpoint: exit 75' $?

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
QA=$(good awsx sqs create-queue --queue-name authq --query QueueUrl --output text)
good awsx sqs send-message --queue-url "$QA" --message-body "$good_int" >/dev/null
good lb-sqs-recv -q "$QA" -w 0 >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: received' $?
wrong lb-sqs-recv -q "$QA" -w 0 >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret: exit 1, nothing received' $?
expect_grep 'wrong secret: SignatureDoesNotMatch' 'SignatureDoesNotMatch' err
AWS_ACCESS_KEY_ID=AKIANOBODY AWS_SECRET_ACCESS_KEY=x lb-sqs-recv -q "$QA" -w 0 >out 2>err
[ $? -eq 1 ]; ok 'unknown key id: exit 1' $?
expect_grep 'unknown key id: InvalidClientTokenId' 'InvalidClientTokenId' err
