#!/bin/sh
# 0100-http.t: retries, backoff, Retry-After, faults and trace redaction
# of lib/http.c, against the loopback fault server.
. "${0%/*}/lib.sh"
plan 22

faultd() {
	faultd_start "$1"
	U=$FAULTD_URL fpid=$FAULTD_PID
	ln -sf "$FAULTD_LOG" log
}
set_script() { curl -s -X POST --data-binary "$1" "$U/_faultd/script" >/dev/null; : >"$FAULTD_LOG"; }
count() { wc -l <log | tr -d ' '; }

faultd 200
lb-http-probe "$U/x" >out 2>err
expect_grep 'plain 200' '^status=200 attempts=1 kind=0' out

set_script 503,503,200
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep '503 twice then 200: three attempts' '^status=200 attempts=3 kind=0' out
[ "$(count)" -eq 3 ]; ok 'the server saw three requests' $?

set_script 500
lb-http-probe -a 4 -b 10 "$U/x" >out 2>err
expect_grep 'persistent 500: gives up after 4, temporary' '^status=500 attempts=4 kind=75' out
[ "$(count)" -eq 4 ]; ok 'the server saw exactly four requests' $?
expect_grep 'the message names the status and attempts' 'HTTP 500 after 4 attempts' err

set_script 404
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep '404 is not retried' '^status=404 attempts=1 kind=0' out

set_script 429:1,200
lb-http-probe -b 1 "$U/x" >out 2>err
expect_grep '429 then 200' '^status=200 attempts=2' out
gap=$(python3 -c 'import json
t=[json.loads(l)["t"] for l in open("log")]; print(int((t[1]-t[0])*1000))')
[ "$gap" -ge 950 ]; ok "Retry-After: 1 was honoured (gap ${gap} ms)" $?

set_script 400:ThrottlingException,200
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep 'AWS throttling error is retried' '^status=200 attempts=2' out

set_script 400:ValidationException
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep 'AWS validation error is not retried' '^status=400 attempts=1 kind=0' out

set_script reset,reset,200
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep 'connection reset twice, then 200' '^status=200 attempts=3' out

set_script reset
lb-http-probe -a 3 -b 10 "$U/x" >out 2>err
expect_grep 'reset every time: temporary failure' 'kind=75' out

set_script trunc,200
lb-http-probe -b 10 "$U/x" >out 2>err
expect_grep 'truncated body is retried' '^status=200 attempts=2' out

set_script slow:3,200
lb-http-probe -t 500 -b 10 "$U/x" >out 2>err
expect_grep 'slow answer times out and is retried' '^status=200 attempts=2' out

set_script 200
SECRET_TOKEN='s3cr3t-value-xyz'; export SECRET_TOKEN
lb-http-probe -v -H Authorization=SECRET_TOKEN -H X-Amz-Security-Token=SECRET_TOKEN \
    "$U/x?X-Amz-Signature=s3cr3t-value-xyz" >out 2>err
expect_grep 'trace shows the request' '^> GET /x' err
expect_nogrep 'trace never shows the secret' 's3cr3t' err
expect_grep 'trace marks redacted headers' 'Authorization: \[redacted\]' err
python3 -c 'import json,sys
h=[json.loads(l)["headers"] for l in open("log")][-1]
sys.exit(0 if h.get("Authorization")=="s3cr3t-value-xyz" else 1)'
ok 'the header itself was sent' $?

kill "$fpid"; wait "$fpid" 2>/dev/null
lb-http-probe -a 2 -b 10 "$U/x" >out 2>err
expect_grep 'refused connection: retried, then temporary' '^status=0 attempts=2 kind=75' out

lb-http-probe -a 1 "https://127.0.0.1:1/x" >out 2>err
expect_grep 'nothing listening on https' 'kind=75' out

lb-http-probe -a 1 "ftp://127.0.0.1/x" >out 2>err
expect_grep 'other protocols are refused for good' 'kind=1' out
