#!/bin/sh
# 3600-lb-cwlogs-put.t: lines to CloudWatch Logs (moto): batches, long
# lines, timestamps, the time-based flush, SIGTERM, faults from faultd.
. "${0%/*}/lib.sh"
moto_start
plan 30

faultd() { faultd_start "$1" '{}'; F=$FAULTD_URL; }
py() { python3 -c "$@"; }
# events GROUP STREAM: every event as a JSON line {timestamp, message}
events() {
	awsx logs filter-log-events --log-group-name "$1" \
	    --log-stream-names "$2" --output json >ev.json 2>ev.err
	py 'import json
for e in json.load(open("ev.json")).get("events",[]):
    print(json.dumps({"timestamp":e["timestamp"],"message":e["message"]},ensure_ascii=False))'
}

HOSTILE='$(touch pwned); `id` | & ; < > "q" é€🚗 中文'
LONG=$(printf '%0300d' 0 | tr 0 l)
printf '%s\n' 'first line' "$HOSTILE" '' "$LONG" 'last line' >in
lb-cwlogs-put -c -g app/g1 -s s1 <in >out 2>err
[ $? -eq 0 ] && [ ! -s out ]; ok '-c, five lines: exit 0, nothing on stdout' $?
events app/g1 s1 >got
[ "$(wc -l <got)" -eq 4 ]; ok 'four events (the empty line is not sent)' $?
py 'import json,sys
m=[json.loads(l)["message"] for l in open("got")]
sys.exit(0 if m==["first line",sys.argv[1],sys.argv[2],"last line"] else 1)' "$HOSTILE" "$LONG"
ok 'in order, hostile and 300-character lines exact' $?
echo again | lb-cwlogs-put -c -g app/g1 -s s1 2>err
[ $? -eq 0 ]; ok '-c on an existing group and stream is fine' $?

# bytes that are not UTF-8, CR LF
printf 'bad \377\376 bytes\r\nnul\000inside\n' | lb-cwlogs-put -c -g g2 -s s 2>err
events g2 s >got
[ "$(jget 'd[0]["message"]' got)" = 'bad �� bytes' ]; ok 'invalid UTF-8 becomes U+FFFD, CR dropped' $?
[ "$(jget 'd[1]["message"]' got)" = 'nul�inside' ]; ok 'a NUL byte becomes U+FFFD' $?

# --time-format: timestamps from the lines, sorted within a batch
t1=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%S)
t2=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%S)
printf '%s\n' "$t1.250 later" "$t2 earlier" 'no stamp here' |
    lb-cwlogs-put -c -g g3 -s s --time-format '%Y-%m-%dT%H:%M:%S' 2>err
[ $? -eq 0 ]; ok '--time-format, out of order: exit 0 (sorted before sending)' $?
events g3 s >got
want1=$(( $(date -u -d "$t1" +%s) * 1000 + 250 ))
want2=$(( $(date -u -d "$t2" +%s) * 1000 ))
[ "$(jget '[r["timestamp"] for r in d if r["message"].endswith("later")][0]' got)" = "$want1" ]
ok 'timestamp with milliseconds from the line' $?
[ "$(jget '[r["timestamp"] for r in d if r["message"].endswith("earlier")][0]' got)" = "$want2" ]
ok 'timestamp without a fraction' $?
[ "$(wc -l <got)" -eq 3 ]; ok 'a line without a stamp is sent with the time read' $?

# sizes: a 300 KiB line, a 1 MiB line, a 20 MiB line (split into events)
py 'import sys
sys.stdout.write("a"*(300<<10)+"\n"+"b"*(1<<20)+"\n"+"c"*(20<<20)+"\nend\n")' >big
lb-cwlogs-put -c -g g4 -s s <big 2>err
[ $? -eq 0 ]; ok 'long lines: exit 0' $?
events g4 s >got
py 'import json,sys
m=[json.loads(l)["message"] for l in open("got")]
ok=all(len(x.encode())<=262144-26 for x in m)
j="".join(m)
sys.exit(0 if ok and j=="a"*(300<<10)+"b"*(1<<20)+"c"*(20<<20)+"end" else 1)'
ok 'split into events within 256 KiB, nothing lost' $?
[ "$(wc -l <got)" -eq $((2 + 5 + 81 + 1)) ]; ok 'as 2 + 5 + 81 + 1 events' $?

# many lines: more than one PutLogEvents (10000 events each)
py 'for i in range(12000): print("line %d" % i)' | lb-cwlogs-put -c -g g5 -s s 2>err
[ $? -eq 0 ]; ok '12000 lines: exit 0' $?
[ "$(events g5 s | wc -l)" -eq 12000 ]; ok "all 12000 events arrived" $?

# the time limit flushes while the input stays open
mkfifo fifo
lb-cwlogs-put -c -g g6 -s s -i 1 <fifo 2>ferr &
cpid=$!
exec 3>fifo
echo 'before the pause' >&3
i=0
while [ $i -lt 100 ] && ! events g6 s | grep -q 'before the pause'; do
	sleep 0.2; i=$((i + 1))
done
events g6 s | grep -q 'before the pause'
ok 'a line is sent on the time limit, input still open' $?
echo 'pending at SIGTERM' >&3
kill -TERM $cpid
wait $cpid
[ $? -eq 0 ]; ok 'SIGTERM: exit 0' $?
exec 3>&-
events g6 s | grep -q 'pending at SIGTERM'
ok 'lines read before SIGTERM were flushed' $?

# unknown group without -c
echo x | lb-cwlogs-put -g nope -s nope >/dev/null 2>err
[ $? -eq 1 ]; ok 'unknown group: exit 1' $?
expect_grep 'says what was not sent and why' '1 log events .* not sent: .*ResourceNotFoundException' err

# usage
lb-cwlogs-put -g g </dev/null 2>/dev/null; [ $? -eq 2 ]; ok 'no -s: exit 2' $?
lb-cwlogs-put -g g -s s -i 0 </dev/null 2>/dev/null; [ $? -eq 2 ]; ok '-i 0: exit 2' $?

# faults: throttled past lb_http's own retries, then accepted
faultd 400:ThrottlingException,400:ThrottlingException,400:ThrottlingException,400:ThrottlingException,400:ThrottlingException,400:ThrottlingException,200
printf '%s\n' one two three | AWS_ENDPOINT_URL=$F lb-cwlogs-put -g g -s s 2>err
[ $? -eq 0 ]; ok 'throttled six times, then accepted: exit 0' $?
expect_grep 'the batch was kept and tried again' 'trying again' err
py 'import json,sys
r=[json.loads(l) for l in open("faultd.log")]
sys.exit(0 if len(r)==7 and len(set(x["len"] for x in r))==1 else 1)'
ok 'the last try carried the same batch as the first' $?
curl -s -X POST --data-binary 500 "$F/_faultd/script" >/dev/null
printf '%s\n' one two | AWS_ENDPOINT_URL=$F lb-cwlogs-put -g g -s s 2>err
[ $? -eq 75 ]; ok 'persistent 500: exit 75' $?
expect_grep 'the lost lines are counted' '2 log events (.* bytes) not sent' err

# wrong credentials: moto in signature-checking mode
moto_auth
good() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=$CI_SK "$@"; }
wrong() { AWS_ACCESS_KEY_ID=$CI_AK AWS_SECRET_ACCESS_KEY=wrong "$@"; }
echo signed | good lb-cwlogs-put -g app/g1 -s s1 2>err
[ $? -eq 0 ]; ok 'signed with the right key: sent' $?
echo unsigned | wrong lb-cwlogs-put -g app/g1 -s s1 2>err
[ $? -eq 1 ]; ok 'wrong secret: exit 1' $?
expect_grep 'the event is counted as not sent' '1 log events .* not sent: .*SignatureDoesNotMatch' err
