# tests/lib.sh: TAP helpers for the shell tests.  Source it, then plan N.
# shellcheck disable=SC2034  # variables used by the test files
# Each test file runs in its own scratch directory, removed at the end, and
# every server it started (srv_start) is stopped by PID.
n=0
top=${LB_TOP:-$(cd "${0%/*}/.." && pwd)}
data=$top/tests/data
PATH="$top/cmd:$top/scripts:$top/tests/tools:$PATH"
export PATH LB_TOP="$top"
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
    AWS_ENDPOINT_URL AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    KUBECONFIG LB_CONFIG
AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_DISABLED

# PY: the real interpreter, so that $! is a server's own PID (a pyenv-style
# wrapper in front of python3 costs seconds per start on a loaded machine)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=python3

# is DESC GOT WANT: one test, passing when the two strings are equal
is() {
	[ "$2" = "$3" ] || echo "# got '$2', wanted '$3'"
	ok "$1" "$([ "$2" = "$3" ]; echo $?)"
}

# note: n is the test counter; do not use it as a loop variable
plan() { echo "1..$1"; }

# ok DESC STATUS: report one test; STATUS 0 means it passed
ok() {
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
	fi
}

# skip_all WHY: nothing in this file can run here
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# expect_exit DESC WANT CMD...: run CMD, pass if it exits WANT
expect_exit() {
	desc=$1 want=$2
	shift 2
	"$@"
	got=$?
	[ "$got" -eq "$want" ] || echo "# exit status $got, wanted $want"
	ok "$desc" $((got != want))
}

# expect_same DESC WANT GOT: pass if the files are equal, else show a diff
expect_same() {
	diff -u "$2" "$3" | head -n 40 | sed 's/^/# /'
	cmp -s "$2" "$3"
	ok "$1" $?
}

# expect_grep DESC PATTERN FILE: pass if FILE has a line matching PATTERN
expect_grep() {
	if grep -q -- "$2" "$3"; then
		ok "$1" 0
	else
		echo "# no line matching '$2' in $3:"
		head -n 20 "$3" | sed 's/^/#   /'
		ok "$1" 1
	fi
}

# expect_nogrep DESC PATTERN FILE: pass if no line of FILE matches PATTERN
expect_nogrep() {
	if grep -q -- "$2" "$3"; then
		echo "# unexpected line matching '$2' in $3:"
		grep -- "$2" "$3" | head -n 5 | sed 's/^/#   /'
		ok "$1" 1
	else
		ok "$1" 0
	fi
}

# jget FILTER FILE: print a value of a JSON file (python, for the tests only)
jget() {
	"$PY" -c 'import json,sys
d=[json.loads(l) for l in open(sys.argv[2]) if l.strip()]
r=eval(sys.argv[1],{"d":d,"json":json})
print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"
}

srv_pids=""
scratch=$(mktemp -d "${TMPDIR:-/tmp}/lb-t.XXXXXX") || exit 1
cleanup() {
	for p in $srv_pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $srv_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	cd / && rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$scratch" || exit 1

# srv_started PID: remember a server to stop at the end
srv_started() { srv_pids="$srv_pids $1"; }

# free_port: a loopback TCP port nobody listens on now
free_port() {
	"$PY" -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_url URL PID: wait until URL answers while PID lives (15 s at most)
wait_url() {
	i=0
	while [ $i -lt 150 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		curl -s -o /dev/null -k --max-time 1 "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# evalai_start ARGS: start tests/emulators/evalai.py (default seed
# tests/data/evalai-seed.json); sets EVALAI_URL and EVALAI_PID
evalai_start() {
	: >"$scratch/evalai.out"
	"$PY" "$top/tests/emulators/evalai.py" "$@" >"$scratch/evalai.out" \
	    2>>"$scratch/evalai.err" &
	EVALAI_PID=$!
	srv_started $EVALAI_PID
	_i=0
	while [ ! -s "$scratch/evalai.out" ] && [ $_i -lt 150 ]; do
		kill -0 $EVALAI_PID 2>/dev/null || return 1
		sleep 0.1; _i=$((_i + 1))
	done
	EVALAI_URL=$(head -n 1 "$scratch/evalai.out")
	export EVALAI_URL EVALAI_PID
	wait_url "$EVALAI_URL/_emu/health" $EVALAI_PID
}

# faultd_start SCRIPT [BODY]: start the fault server answering BODY; sets
# FAULTD_URL, FAULTD_PID and FAULTD_LOG (one JSON line per request)
faultd_start() {
	FAULTD_LOG=$scratch/faultd.log
	: >"$FAULTD_LOG"
	: >"$scratch/faultd.out"
	"$PY" "$top/tests/emulators/faultd.py" --log "$FAULTD_LOG" \
	    --script "$1" ${2+--body "$2"} >"$scratch/faultd.out" \
	    2>>"$scratch/faultd.err" &
	FAULTD_PID=$!
	srv_started $FAULTD_PID
	_i=0
	while [ ! -s "$scratch/faultd.out" ] && [ $_i -lt 150 ]; do
		kill -0 $FAULTD_PID 2>/dev/null || return 1
		sleep 0.1; _i=$((_i + 1))
	done
	FAULTD_URL=$(head -n 1 "$scratch/faultd.out")
	export FAULTD_URL FAULTD_PID FAULTD_LOG
}

# faultproxy_start NAME ARGS...: start tests/emulators/faultproxy.py with
# ARGS, its faults logged to NAME.faults; sets FAULTPROXY_URL once it
# answers (its health check, over TLS too)
faultproxy_start() {
	_n=$1
	shift
	"$PY" "$top/tests/emulators/faultproxy.py" --log "$_n.faults" "$@" \
	    >"$_n.url" 2>"$_n.err" &
	srv_started $!
	_i=0
	while [ $_i -lt 150 ]; do
		FAULTPROXY_URL=$(head -n 1 "$_n.url" 2>/dev/null)
		[ -n "$FAULTPROXY_URL" ] &&
		    curl -sfk "$FAULTPROXY_URL/_faultproxy/health" >/dev/null &&
		    return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# faultd_script SCRIPT: give the running fault server a new script and
# empty its request log
faultd_script() {
	curl -s -X POST --data-binary "$1" "$FAULTD_URL/_faultd/script" \
	    >/dev/null
	: >"$FAULTD_LOG"
}

# moto_start: start moto_server on a free loopback port; sets MOTO_ENDPOINT
# and the AWS environment.  Skips the file when moto is not installed.
moto_start() {
	command -v moto_server >/dev/null 2>&1 ||
	    skip_all "moto_server not installed (pip install 'moto[server]')"
	MOTO_LOG=$scratch/moto.log
	for try in 1 2 3 4 5; do
		MOTO_PORT=$(free_port)
		moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
		MOTO_PID=$!
		srv_started $MOTO_PID
		if wait_url "http://127.0.0.1:$MOTO_PORT/moto-api/" $MOTO_PID &&
		    grep -q "Running on http://127.0.0.1:$MOTO_PORT" "$MOTO_LOG"
		then
			MOTO_ENDPOINT=http://127.0.0.1:$MOTO_PORT
			AWS_ENDPOINT_URL=$MOTO_ENDPOINT
			AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
			AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2
			AWS_PAGER=
			export MOTO_PORT MOTO_PID MOTO_ENDPOINT AWS_ENDPOINT_URL \
			    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION \
			    AWS_DEFAULT_REGION AWS_PAGER
			return 0
		fi
		kill "$MOTO_PID" 2>/dev/null
		echo "# moto start $try failed" >&2
	done
	echo "Bail out! moto_server did not start; log:"
	sed 's/^/# /' "$MOTO_LOG"
	exit 1
}

# moto_auth: from now on moto checks SigV4 signatures; CI_AK/CI_SK is a
# real key pair of an IAM user allowed everything (reference/stack.md 2.4)
moto_auth() {
	awsx iam create-user --user-name ci >/dev/null
	awsx iam put-user-policy --user-name ci --policy-name all \
	    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
	awsx iam create-access-key --user-name ci \
	    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text >ak
	read -r CI_AK CI_SK <ak
	curl -s -X POST "$MOTO_ENDPOINT/moto-api/reset-auth" \
	    -H 'Content-Type: text/plain' --data-binary 0 >/dev/null
}

# moto_reset: wipe moto's state
moto_reset() { curl -s -X POST "$MOTO_ENDPOINT/moto-api/reset" >/dev/null; }

# awsx ARGS: the aws CLI against moto, the independent client
awsx() { aws --endpoint-url "$MOTO_ENDPOINT" --region us-west-2 "$@"; }
