# tests/stack.sh: the local stack for the whole-pipeline tests.  Source it
# after lib.sh: starts lb-local in the scratch directory (its servers are
# stopped with the test) and defines the independent readers the tests
# check through.
# shellcheck shell=sh disable=SC1091,SC2154
export LB_LOCAL_DIR="$scratch/stack"
lb-local start >"$scratch/stack.env" 2>start.err ||
    { cat start.err; echo "Bail out! lb-local start failed"; exit 1; }
. "$scratch/stack.env"
for f in "$LB_LOCAL_DIR"/*.pid; do srv_started "$(cat "$f")"; done

kc() { kubectl --cache-dir "$scratch/kcache" "$@"; }
awsq() { aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-west-2 "$@"; }

# setenv NAME=VALUE...: what the fake containers of the next Jobs see
setenv() {
	patch=$(for kv in "$@"; do printf '%s\n' "$kv"; done |
	    jq -R -s -c 'split("\n") | map(select(length > 0) | split("=") |
	    {(.[0]): (.[1:] | join("="))}) | add | {data: .}')
	kc patch configmap lb-local-env --type merge -p "$patch" >/dev/null
}

# row PK: the submission's DynamoDB row (any team), as the aws CLI reads it
row() {
	awsq dynamodb scan --table-name "$LB_SUBMISSIONS_TABLE" \
	    --filter-expression 'submission_id = :s' \
	    --expression-attribute-values "{\":s\":{\"S\":\"$1\"}}" --output json |
	    jq -c '.Items[0] // {}'
}
status() { row "$1" | jq -r '.submission_status.S // "none"'; }
# finals PK: the final updates EvalAI recorded for the submission
finals() { curl -sf "$LB_EVALAI_URL/_emu/submissions/$1/updates" | jq '.final | length'; }
# evalai_status PK: the status EvalAI's own API shows
evalai_status() { curl -sf "$LB_EVALAI_URL/api/jobs/submission/$1" \
    -H "Authorization: Bearer $(cat "$LB_EVALAI_TOKEN_FILE")" | jq -r .status; }
# jobs_left PK: the submission's Jobs kubectl still sees
jobs_left() { kc get jobs -o json | jq --arg s "$1" \
    '[.items[] | select(.metadata.labels["lb.carla.org/submission"] == $s)] | length'; }
