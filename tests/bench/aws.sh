#!/bin/sh
# tests/bench/aws.sh: single AWS calls against one moto server: lb vs the
# aws CLI vs the same request by curl (a fake Authorization header routes
# it in moto), and the peak RSS of one call.  Prints markdown rows:
# | operation | lb | aws CLI | curl | lb/curl | aws/lb |
# Times are medians (min-max) in ms over RUNS (default 10) runs.
set -u
top=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
runs=${RUNS:-10}
[ "$runs" -ge 5 ] || runs=5
for b in lb-sqs-recv lb-ddb-put; do
	[ -x "$top/cmd/$b" ] || { echo "aws.sh: build cmd/$b first" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "aws.sh: no hyperfine" >&2; exit 2; }
command -v aws >/dev/null || { echo "aws.sh: no aws CLI" >&2; exit 2; }
# lib.sh: moto_start, awsx, a scratch directory and cleanup by PID
# shellcheck disable=SC1091
. "$top/tests/lib.sh"
moto_start >/dev/null

Q=$(awsx sqs create-queue --queue-name bench --query QueueUrl --output text)
awsx dynamodb create-table --table-name bench \
    --attribute-definitions AttributeName=id,AttributeType=S \
    --key-schema AttributeName=id,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST >/dev/null
echo '{"id":"k1","submission_status":"RUNNING","score":97.5}' >rec.json
auth="Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/SVC/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
sqsauth=$(echo "$auth" | sed 's/SVC/sqs/')
ddbauth=$(echo "$auth" | sed 's/SVC/dynamodb/')
printf '{"QueueUrl":"%s","MaxNumberOfMessages":10,"WaitTimeSeconds":0}' "$Q" >recv.json
echo '{"TableName":"bench","Item":{"id":{"S":"k1"},"submission_status":{"S":"RUNNING"},"score":{"N":"97.5"}}}' >put.json

# row NAME JSON: one table row from a hyperfine export of lb, aws, curl
row() {
	python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
def cell(x):
    ms = [t * 1000 for t in x["times"]]
    return "%.1f (%.1f-%.1f)" % (x["median"] * 1000, min(ms), max(ms))
lb, aws, curl = r
print("| %s | %s | aws CLI %s | curl %s | lb/curl %.2fx, aws/lb %.0fx |" % (
      sys.argv[1], cell(lb), cell(aws), cell(curl),
      lb["median"] / curl["median"], aws["median"] / lb["median"]))
PY
}

hyperfine -w 1 -r "$runs" --export-json recv.bench.json \
    "lb-sqs-recv -q '$Q' -w 0" \
    "aws --endpoint-url $MOTO_ENDPOINT --region us-west-2 sqs receive-message --queue-url '$Q' --wait-time-seconds 0" \
    "curl -s -o /dev/null -X POST $MOTO_ENDPOINT/ -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ReceiveMessage' -H '$sqsauth' --data-binary @recv.json" \
    >/dev/null 2>hf.err || { cat hf.err >&2; exit 1; }
row 'sqs ReceiveMessage, empty queue, wait 0' recv.bench.json

hyperfine -w 1 -r "$runs" --export-json put.bench.json \
    "lb-ddb-put -t bench <rec.json >/dev/null" \
    "aws --endpoint-url $MOTO_ENDPOINT --region us-west-2 dynamodb put-item --cli-input-json file://put.json" \
    "curl -s -o /dev/null -X POST $MOTO_ENDPOINT/ -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.PutItem' -H '$ddbauth' --data-binary @put.json" \
    >/dev/null 2>hf.err || { cat hf.err >&2; exit 1; }
row 'dynamodb PutItem, one item' put.bench.json

# peak RSS (KiB) of one call each, the median of 5
rss() {
	i=0
	while [ $i -lt 5 ]; do
		/usr/bin/time -f %M -o rss.out sh -c "$1" >/dev/null 2>&1
		tail -n 1 rss.out
		i=$((i + 1))
	done | sort -n | sed -n 3p
}
l=$(rss "exec lb-sqs-recv -q '$Q' -w 0")
a=$(rss "exec aws --endpoint-url $MOTO_ENDPOINT --region us-west-2 sqs receive-message --queue-url '$Q' --wait-time-seconds 0")
c=$(rss "exec curl -s -o /dev/null -X POST $MOTO_ENDPOINT/ -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ReceiveMessage' -H '$sqsauth' --data-binary @recv.json")
awk -v l="$l" -v a="$a" -v c="$c" 'BEGIN {
	printf "| peak RSS, one sqs ReceiveMessage (MiB) | %.1f | aws CLI %.1f | curl %.1f | lb/curl %.2fx, aws/lb %.0fx |\n",
	    l / 1024, a / 1024, c / 1024, l / c, a / l }'
