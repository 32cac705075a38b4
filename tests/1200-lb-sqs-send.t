#!/bin/sh
# 1200-lb-sqs-send.t: records become SQS messages (moto), batches of ten,
# FIFO ids, per-entry failures, bad input, faults from faultd.
. "${0%/*}/lib.sh"
moto_start
plan 36

faultd() { faultd_start "$1" "$2"; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
count() {
	awsx sqs get-queue-attributes --queue-url "$1" --attribute-names All \
	    --query Attributes.ApproximateNumberOfMessages --output text
}
# all bodies on queue $1 (received with the aws CLI), one per line, sorted
bodies() {
	: >"$2"
	while :; do
		awsx sqs receive-message --queue-url "$1" \
		    --max-number-of-messages 10 --visibility-timeout 60 \
		    --output json >rm.json
		py 'import json,sys
d=json.load(open("rm.json")) if open("rm.json").read().strip() else {}
m=d.get("Messages",[])
with open(sys.argv[1],"a") as f:
    for x in m: f.write(x["Body"]+"\n")
sys.exit(0 if m else 1)' "$2" || break
	done
	sort -o "$2" "$2"
}

Q=$(awsx sqs create-queue --queue-name out --query QueueUrl --output text)
HOSTILE='$(touch pwned); `id` | & ; < > "q" '"'"'s'"'"' \\ é€🚗 中文'
LONG=$(printf '%0300d' 0 | tr 0 x)
py 'import json,sys
print(json.dumps({"submission_pk":"1","sqs":{"queue_url":"old","message_id":"old"}}))
print(json.dumps({"submission_pk":"2","name":sys.argv[1],"long":sys.argv[2]}))
print(json.dumps({"submission_pk":"3","nested":{"a":[1,2,None,True]}}))' \
    "$HOSTILE" "$LONG" >in
lb-sqs-send -q "$Q" <in >out 2>err
[ $? -eq 0 ]; ok 'three records sent: exit 0' $?
[ "$(wc -l <out)" -eq 3 ]; ok 'three records echoed' $?
[ "$(jget 'all(r["sqs"]["queue_url"]=="'"$Q"'" and len(r["sqs"]["message_id"])>10 for r in d)' out)" = true ]
ok 'echoes carry sqs.queue_url and sqs.message_id' $?
bodies "$Q" got
py 'import json,sys
want=sorted(json.dumps({k:v for k,v in json.loads(l).items() if k!="sqs"},sort_keys=True) for l in open("in"))
got=sorted(json.dumps(json.loads(l),sort_keys=True) for l in open("got"))
sys.exit(0 if want==got else 1)'
ok 'the aws CLI receives each record minus its sqs member, exactly' $?
expect_nogrep 'no body carries the old sqs member' '"old"' got
py 'import json,sys
got=[json.loads(l) for l in open("got")]
sys.exit(0 if any(g.get("name")==sys.argv[1] and g.get("long")==sys.argv[2] for g in got) else 1)' "$HOSTILE" "$LONG"
ok 'hostile and 300-character strings arrive exactly' $?

# batches of ten: 25 records, 3 calls
Q2=$(awsx sqs create-queue --queue-name many --query QueueUrl --output text)
py 'import json
for i in range(25): print(json.dumps({"i":i}))' | lb-sqs-send -q "$Q2" >out2 2>err2
[ $? -eq 0 ] && [ "$(wc -l <out2)" -eq 25 ]; ok '25 records: 25 echoes' $?
[ "$(count "$Q2")" = 25 ]; ok 'and 25 messages on the queue' $?
[ "$(jget 'len(set(r["sqs"]["message_id"] for r in d))' out2)" = 25 ]
ok 'each with its own message id' $?

# bad input: the rest goes on
Q3=$(awsx sqs create-queue --queue-name bad --query QueueUrl --output text)
printf '%s\n' '{"a":1}' '{"a":' '[1,2]' '"str"' '{"a":2} trailing' '{"a":3}' >badin
lb-sqs-send -q "$Q3" -r rej <badin >out3 2>err3
[ $? -eq 1 ]; ok 'bad records: exit 1' $?
[ "$(wc -l <out3)" -eq 2 ] && [ "$(count "$Q3")" = 2 ]
ok 'the two good records were sent' $?
expect_grep 'malformed JSON named by line' 'stdin:2: malformed JSON' err3
expect_grep 'non-object named by line' 'stdin:3: not a JSON object' err3
expect_grep 'trailing garbage named by line' 'stdin:5: trailing garbage' err3
[ "$(wc -l <rej)" -eq 4 ]; ok 'four bad records saved with -r' $?

# FIFO: group id and deduplication id from a member
FQ=$(awsx sqs create-queue --queue-name jobs.fifo --attributes FifoQueue=true \
    --query QueueUrl --output text)
printf '%s\n' '{"id":"a","v":1}' '{"id":"b","v":2}' '{"id":"a","v":3}' |
    lb-sqs-send -q "$FQ" -g grp -D id >fout 2>ferr
[ $? -eq 0 ]; ok 'FIFO send: exit 0' $?
expect_grep 'FIFO echoes carry the sequence number' '"sequence_number":"' fout
[ "$(count "$FQ")" = 2 ]; ok 'the duplicate id was deduplicated by SQS' $?
echo '{"v":4}' | lb-sqs-send -q "$FQ" -g grp -D id >/dev/null 2>ferr
[ $? -eq 1 ]; ok 'missing deduplication member: exit 1' $?
expect_grep 'and says which member' 'member id (the deduplication id) is missing' ferr
echo '{"v":5}' | lb-sqs-send -q "$FQ" >/dev/null 2>ferr
[ $? -eq 1 ]; ok 'FIFO without a group id: exit 1' $?

# sizes: 1 MiB is over the SQS limit, 20 MiB over the record cap
py 'import json
print(json.dumps({"big":"x"*(1<<20)}))
print(json.dumps({"big":"x"*(20<<20)}))
print(json.dumps({"small":1}))' >bigin
lb-sqs-send -q "$Q3" <bigin >bout 2>berr
[ $? -eq 1 ]; ok '1 MiB and 20 MiB records: exit 1' $?
expect_grep '1 MiB: the service limit, stated' 'stdin:1: .*1048576 bytes' berr
expect_grep '20 MiB: the record cap, stated' 'stdin:2: record larger than 16777216 bytes' berr
expect_grep 'the small record after them was sent' '"small":1' bout

# unknown queue, usage
echo '{"a":1}' | lb-sqs-send -q "$MOTO_ENDPOINT/123456789012/nope" >/dev/null 2>err
[ $? -eq 1 ]; ok 'unknown queue: exit 1' $?
expect_grep 'unknown queue named' 'stdin:1: .*QueueDoesNotExist' err
echo '{}' | lb-sqs-send -q "$Q" -d 901 2>/dev/null; [ $? -eq 2 ]
ok '-d 901: exit 2' $?

# per-entry failure: one sent, one failed by the service
faultd 200 '{"Successful":[{"Id":"m0","MessageId":"mid-0"}],"Failed":[{"Id":"m1","Code":"InternalError","SenderFault":false,"Message":"boom"}]}'
printf '%s\n' '{"a":1}' '{"a":2}' >two
AWS_ENDPOINT_URL=$F lb-sqs-send -q "$Q" <two >out 2>err
[ $? -eq 75 ]; ok 'an entry failed by the server: exit 75' $?
[ "$(jget 'd[0]["sqs"]["message_id"]' out)" = mid-0 ] && [ "$(wc -l <out)" -eq 1 ]
ok 'the other entry was echoed' $?
expect_grep 'the failed entry is reported with its line' 'stdin:2: InternalError: boom' err
curl -s -X POST --data-binary 503,trunc,200 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-sqs-send -q "$Q" <two >out 2>err
[ $? -eq 75 ] && [ "$(wc -l <out)" -eq 1 ]
ok '503 and a cut connection are retried' $?
curl -s -X POST --data-binary 500 "$F/_faultd/script" >/dev/null
AWS_ENDPOINT_URL=$F lb-sqs-send -q "$Q" <two >out 2>err
[ $? -eq 75 ] && [ ! -s out ] && [ "$(grep -c 'stdin:[12]: .*500' err)" -eq 2 ]
ok 'persistent 500: exit 75, both records reported' $?

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
echo '{"signed":1}' | good lb-sqs-send -q "$Q" >out 2>err
[ $? -eq 0 ] && [ "$(wc -l <out)" -eq 1 ]; ok 'signed with the right key: sent' $?
echo '{"signed":2}' | wrong lb-sqs-send -q "$Q" >out 2>err
[ $? -eq 1 ] && [ ! -s out ]; ok 'wrong secret: exit 1, not echoed' $?
expect_grep 'the record is reported with SignatureDoesNotMatch' 'stdin:1: .*SignatureDoesNotMatch' err
