#!/bin/sh
# tests/bench/s3.sh: lb-s3 against the aws CLI and plain curl on one moto,
# printed as markdown rows (median wall time over hyperfine runs).
#   RUNS   counted runs per command (default 5, at least 5)
LB_TOP=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
export LB_TOP
. "$LB_TOP/tests/lib.sh"
runs=${RUNS:-5}
[ "$runs" -ge 5 ] || runs=5
command -v hyperfine >/dev/null 2>&1 || skip_all "hyperfine not installed"
command -v aws >/dev/null 2>&1 || skip_all "aws CLI not installed"
# the interpreter itself: time the aws CLI, not a version-manager shim
py=$(python3 -c 'import sys; print(sys.executable)')
PATH=${py%/*}:$PATH
moto_start
awsx s3 mb s3://bench >/dev/null 2>&1 || { echo "cannot make a bucket"; exit 1; }
AUTH='Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00'
export AUTH

head -c 1024 /dev/urandom >k1
mkdir d200 d1000
i=0
while [ $i -lt 1000 ]; do
	# 100 to 2100 bytes, like the reference measurement
	head -c $((100 + (i * 37) % 2001)) /dev/urandom >d1000/f$i
	[ $i -lt 200 ] && cp d1000/f$i d200/f$i
	i=$((i + 1))
done
# curl's config for 200 parallel PUTs
i=0
while [ $i -lt 200 ]; do
	printf 'upload-file = "d200/f%d"\nurl = "%s/bench/CURLP/f%d"\n' \
	    $i "$MOTO_ENDPOINT" $i
	i=$((i + 1))
done >puts.cfg
echo 0 >ctr

# median NAME CMD: run CMD with hyperfine, print its median in ms
median() {
	hyperfine -N --runs "$runs" --warmup 1 --export-json "$1.json" \
	    "$2" >/dev/null 2>"$1.err" || { echo "# $1 failed:" >&2;
	    sed 's/^/# /' "$1.err" >&2; echo NaN; return; }
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % (r["median"] * 1000))' "$1.json"
}
# shmedian: the same through sh (for commands needing a fresh prefix)
shmedian() {
	hyperfine -S sh --runs "$runs" --warmup 1 --export-json "$1.json" \
	    "$2" >/dev/null 2>"$1.err" || { echo "# $1 failed:" >&2;
	    sed 's/^/# /' "$1.err" >&2; echo NaN; return; }
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % (r["median"] * 1000))' "$1.json"
}
# cpu NAME: mean user+system CPU time of NAME's runs, in ms
cpu() {
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % ((r["user"] + r["system"]) * 1000))' "$1.json" 2>/dev/null
}
ratio() { python3 -c "import sys
a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.1fx' % (a/b) if b else '-')" "$1" "$2"; }
row() {	# op lb aws curl lb-cpu
	echo "| $1 | $2 ms (CPU $5 ms) | $3 ms | $4 ms | aws/lb $(ratio "$3" "$2"), lb/curl $(ratio "$2" "$4") |"
}
# next prefix, for syncs that must start from nothing each run
cat >next.sh <<'EOF'
n=$(cat ctr); echo $((n + 1)) >ctr; echo "$1$n"
EOF

lb=$(median cp1k "lb-s3 cp k1 s3://bench/k1")
aw=$(median cp1k-aws "aws --endpoint-url $MOTO_ENDPOINT s3 cp k1 s3://bench/k1")
# curl through sh: its header holds spaces
cu=$(shmedian cp1k-curl "curl -s -o /dev/null -H \"\$AUTH\" -H 'Content-Type: application/octet-stream' -T k1 $MOTO_ENDPOINT/bench/k1")

echo "| operation | lb | aws CLI | curl | ratios |"
echo "|---|---|---|---|---|"
row "cp 1 KiB file (curl: one PUT)" "$lb" "$aw" "$cu" "$(cpu cp1k)"

lb=$(shmedian sync200 'lb-s3 sync d200 s3://bench/$(sh next.sh lb) >/dev/null')
aw=$(shmedian sync200-aws 'aws --endpoint-url '"$MOTO_ENDPOINT"' s3 sync d200 s3://bench/$(sh next.sh aws) >/dev/null')
cu=$(shmedian sync200-curl 'sed "s/CURLP/$(sh next.sh cu)/" puts.cfg | curl -s -o /dev/null --parallel --parallel-max 8 -H "$AUTH" -H "Content-Type: application/octet-stream" -K -')
row "sync 200 files, first (new prefix each run; curl: 200 PUTs, 8 at once)" "$lb" "$aw" "$cu" "$(cpu sync200)"

lb-s3 sync d200 s3://bench/u200 >/dev/null 2>&1
aws --endpoint-url "$MOTO_ENDPOINT" s3 sync d200 s3://bench/u200a >/dev/null 2>&1
lb=$(shmedian unch200 'lb-s3 sync d200 s3://bench/u200')
aw=$(shmedian unch200-aws "aws --endpoint-url $MOTO_ENDPOINT s3 sync d200 s3://bench/u200a")
cu=$(shmedian unch200-curl "curl -s -o /dev/null -H \"\$AUTH\" '$MOTO_ENDPOINT/bench?list-type=2&prefix=u200/'")
row "sync 200 files, unchanged (curl: one ListObjectsV2)" "$lb" "$aw" "$cu" "$(cpu unch200)"

lb-s3 sync d1000 s3://bench/u1000 >/dev/null 2>&1
aws --endpoint-url "$MOTO_ENDPOINT" s3 sync d1000 s3://bench/u1000a >/dev/null 2>&1
lb=$(shmedian unch1000 'lb-s3 sync d1000 s3://bench/u1000')
aw=$(shmedian unch1000-aws "aws --endpoint-url $MOTO_ENDPOINT s3 sync d1000 s3://bench/u1000a")
cu=$(shmedian unch1000-curl "curl -s -o /dev/null -H \"\$AUTH\" '$MOTO_ENDPOINT/bench?list-type=2&prefix=u1000/'")
row "sync 1000 files, unchanged (curl: one ListObjectsV2 of 1000 keys)" "$lb" "$aw" "$cu" "$(cpu unch1000)"
echo
echo "moto $(python3 -c 'import moto; print(moto.__version__)'), $(aws --version 2>&1), $runs runs each, median wall time (lb also mean CPU), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
