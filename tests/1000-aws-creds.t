#!/bin/sh
# The AWS credential chain, region and endpoints of lib/aws.c, through
# lb-aws-probe: environment, profile files, web identity against moto's
# STS, container credentials and IMDSv2 against a fake endpoint, refresh
# before expiry, no credentials, and signed calls checked by moto's
# SigV4 verification.
. "${0%/*}/lib.sh"

moto_start
plan 59

home=$scratch/home
mkdir -p "$home"
noimds=AWS_EC2_METADATA_DISABLED=true
# clean VAR=VALUE... CMD...: CMD in an environment of only these
clean() { env -i PATH="$PATH" HOME="$home" "$@"; }
# cmoto VAR=VALUE... CMD...: clean, against moto
cmoto() {
	clean AWS_REGION=us-west-2 AWS_ENDPOINT_URL="$MOTO_ENDPOINT" "$@"
}
# every probe output goes to all.log too, to check no secret leaks
log() { cat "$1" >>all.log; }

# --- no credentials anywhere ---------------------------------------
clean $noimds lb-aws-probe >out 2>&1
st=$?; log out
ok "no credentials: exit 2" $((st != 2))
expect_grep "no credentials: says so" "no AWS credentials" out
# IMDS enabled but nobody listening: still a quick usage error
dead=$(free_port)
clean AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$dead" \
    lb-aws-probe >out 2>&1
st=$?; log out
ok "IMDS unreachable: exit 2" $((st != 2))
expect_grep "IMDS unreachable: named in the message" "IMDS at http://127" out

# --- environment ------------------------------------------------------
clean $noimds AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=envsecret \
    lb-aws-probe >out 2>&1
log out
expect_grep "env credentials" "^source=env akid=AKIDENV token=no" out
clean $noimds AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=envsecret \
    AWS_SESSION_TOKEN=envtoken lb-aws-probe >out 2>&1
log out
expect_grep "env session token" "^source=env akid=AKIDENV token=yes" out
clean $noimds AWS_ACCESS_KEY_ID=AKIDENV lb-aws-probe >out 2>&1
st=$?; log out
ok "key id without secret: exit 2" $((st != 2))
expect_grep "key id without secret: says which" "AWS_SECRET_ACCESS_KEY" out

# --- shared credentials and config files --------------------------------
cat >creds <<'EOF'
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = defaultsecret

[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=devsecret
aws_session_token = devtoken
EOF
cat >config <<'EOF'
[default]
region = eu-west-1
[profile dev]
region = ap-south-1
s3 =
    addressing_style = path
[profile cfgonly]
aws_access_key_id = AKIDCFG
aws_secret_access_key = cfgsecret
[dev]
region = wrong-not-a-profile-section
[profile partial]
aws_access_key_id = AKIDPARTIAL
EOF
# cfiles VAR=VALUE... CMD...: clean, with the two files above
cfiles() {
	clean AWS_SHARED_CREDENTIALS_FILE="$scratch/creds" \
	    AWS_CONFIG_FILE="$scratch/config" "$@"
}
cfiles $noimds lb-aws-probe >out 2>&1
log out
expect_grep "profile default" "^source=profile akid=AKIDDEFAULT token=no" out
cfiles $noimds AWS_PROFILE=dev lb-aws-probe >out 2>&1
log out
expect_grep "AWS_PROFILE=dev" "^source=profile akid=AKIDDEV token=yes" out
cfiles $noimds AWS_PROFILE=dev lb-aws-probe -R >out 2>&1
expect_grep "region from [profile dev]" "^ap-south-1$" out
cfiles $noimds lb-aws-probe -R >out 2>&1
expect_grep "region from [default]" "^eu-west-1$" out
cfiles $noimds AWS_DEFAULT_REGION=us-east-2 lb-aws-probe -R >out 2>&1
expect_grep "AWS_DEFAULT_REGION beats the file" "^us-east-2$" out
cfiles $noimds AWS_DEFAULT_REGION=us-east-2 AWS_REGION=ca-central-1 \
    lb-aws-probe -R >out 2>&1
expect_grep "AWS_REGION beats AWS_DEFAULT_REGION" "^ca-central-1$" out
cfiles $noimds AWS_PROFILE=cfgonly lb-aws-probe >out 2>&1
log out
expect_grep "keys in the config file" "^source=profile akid=AKIDCFG" out
cfiles $noimds AWS_PROFILE=nope lb-aws-probe >out 2>&1
st=$?; log out
ok "unknown profile: exit 2" $((st != 2))
expect_grep "unknown profile: named" "profile nope not found" out
cfiles $noimds AWS_PROFILE=partial lb-aws-probe >out 2>&1
st=$?; log out
ok "profile with a key id only: exit 2" $((st != 2))
cfiles $noimds AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=x \
    lb-aws-probe >out 2>&1
log out
expect_grep "env beats the profile" "^source=env akid=AKIDENV" out
mkdir -p "$home/.aws"
cp creds "$home/.aws/credentials"
clean $noimds AWS_PROFILE=dev lb-aws-probe >out 2>&1
log out
expect_grep "default file under HOME/.aws" "^source=profile akid=AKIDDEV" out
rm -rf "$home/.aws"

# --- endpoints ------------------------------------------------------------
clean AWS_REGION=us-west-2 lb-aws-probe -e logs >out 2>&1
expect_grep "regional endpoint" \
    "^https://logs.us-west-2.amazonaws.com custom=0$" out
clean AWS_REGION=us-west-2 AWS_ENDPOINT_URL=http://127.0.0.1:1/ \
    AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:2 \
    lb-aws-probe -e secretsmanager >out 2>&1
expect_grep "AWS_ENDPOINT_URL_SECRETS_MANAGER" "^http://127.0.0.1:2 custom=1$" out
clean AWS_REGION=us-west-2 AWS_ENDPOINT_URL=http://127.0.0.1:1/ \
    AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:2 \
    lb-aws-probe -e logs >out 2>&1
expect_grep "AWS_ENDPOINT_URL, slash dropped" "^http://127.0.0.1:1 custom=1$" out

# --- web identity against moto's STS ---------------------------------------
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2ln\n' >webtoken
role=AWS_ROLE_ARN=arn:aws:iam::123456789012:role/lb-web
cmoto $noimds AWS_WEB_IDENTITY_TOKEN_FILE="$scratch/webtoken" $role \
    AWS_ROLE_SESSION_NAME=lbsess lb-aws-probe -c sts >out 2>&1
st=$?; log out
ok "web identity: exit 0" $st
expect_grep "web identity: temporary credentials from STS" \
    "^source=web-identity akid=ASIA.* token=yes expires=yes" out
# The independent side: moto knows these keys as the assumed role.
expect_grep "web identity: the keys are the assumed role's" \
    "^arn=arn:aws:sts::123456789012:assumed-role/lb-web/lbsess" out
cmoto $noimds AWS_WEB_IDENTITY_TOKEN_FILE="$scratch/missing" $role \
    lb-aws-probe >out 2>&1
st=$?; log out
ok "web identity token file missing: exit 2" $((st != 2))
# From a profile too (role_arn + web_identity_token_file).
cat >webconfig <<EOF
[profile irsa]
role_arn = arn:aws:iam::123456789012:role/from-profile
web_identity_token_file = $scratch/webtoken
role_session_name = profsess
EOF
cmoto $noimds AWS_CONFIG_FILE="$scratch/webconfig" AWS_PROFILE=irsa \
    lb-aws-probe -c sts >out 2>&1
log out
expect_grep "web identity from a profile" \
    "assumed-role/from-profile/profsess" out

# --- container credentials and IMDSv2 (fake endpoint) ----------------------
python3 "$data/aws/fake-creds.py" port 2>fake.log &
srv_started $!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fake=http://127.0.0.1:$(cat port)
count() { curl -s "$fake/count"; }
printf 'sekrit-token\n' >ctoken
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?token=sekrit-token" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$scratch/ctoken" \
    lb-aws-probe >out 2>&1
log out
expect_grep "container credentials (token from file)" \
    "^source=container akid=ASIACONTAINER.* token=yes expires=yes" out
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?token=tok2" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=tok2 lb-aws-probe >out 2>&1
log out
expect_grep "container credentials (token from env)" \
    "^source=container akid=ASIACONTAINER" out
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?token=right" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong lb-aws-probe >out 2>&1
st=$?; log out
ok "container refuses the token: exit 2" $((st != 2))
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/garbage" \
    lb-aws-probe >out 2>&1
st=$?; log out
ok "container answers garbage: not 0 ($st)" $((st == 0))
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds \
    lb-aws-probe >out 2>&1
st=$?; log out
ok "container over plain http to a remote host: exit 2" $((st != 2))
# Refresh: an Expiration inside the 5-minute window is fetched again
# each time; a later one is fetched once.
before=$(count)
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?exp=120" \
    lb-aws-probe -n 3 >out 2>&1
log out
after=$(count)
ok "short Expiration: fetched on each of 3 uses ($before -> $after)" \
    $((after - before != 3))
before=$after
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?exp=3600" \
    lb-aws-probe -n 3 >out 2>&1
log out
after=$(count)
ok "long Expiration: fetched once for 3 uses ($before -> $after)" \
    $((after - before != 1))
# A retried call is signed again per attempt (one Authorization header
# each time) with credentials looked up again (short Expiration).
before=$(count)
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds?exp=120" \
    AWS_REGION=us-west-2 AWS_ENDPOINT_URL_SQS="$fake" \
    lb-aws-probe -c sqs >out 2>&1
log out
after=$(count)
expect_grep "retried JSON call answered" "^queues=1$" out
curl -s "$fake/posts" >posts
printf '1,1' >want
expect_same "one Authorization header on each of 2 attempts" want posts
ok "credentials looked up for each attempt ($before -> $after)" \
    $((after - before != 3))
# -v: the canonical request and string to sign, the token redacted
clean $noimds AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds" \
    AWS_REGION=us-west-2 AWS_ENDPOINT_URL_SQS="$fake" \
    lb-aws-probe -v -c sqs >out 2>&1
log out
expect_grep "trace: canonical request" \
    "^sigv4 canonical request: x-amz-target:AmazonSQS.ListQueues$" out
expect_grep "trace: string to sign" \
    "^sigv4 string to sign: .*/us-west-2/sqs/aws4_request$" out
expect_grep "trace: session token redacted" \
    "^sigv4 canonical request: x-amz-security-token:\[redacted\]$" out
clean AWS_EC2_METADATA_SERVICE_ENDPOINT="$fake/" lb-aws-probe >out 2>&1
log out
expect_grep "IMDSv2" "^source=imds akid=ASIAIMDS.* token=yes expires=yes" out
clean $noimds AWS_EC2_METADATA_SERVICE_ENDPOINT="$fake" lb-aws-probe >out 2>&1
st=$?; log out
ok "AWS_EC2_METADATA_DISABLED=true skips IMDS: exit 2" $((st != 2))
clean AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=x \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$fake/creds" \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="$fake" lb-aws-probe >out 2>&1
log out
expect_grep "env comes before container and IMDS" "^source=env" out

# --- S3 through lb_aws_request: awkward key, body from memory and file --------
key=$(printf 'dir/a b+c \303\251=&;:(1).txt')
cmoto $noimds AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    lb-aws-probe -c s3 -k "$key" >out 2>&1
ok "S3 put and get with an awkward key" $?
expect_grep "S3 object from a file read back" "^s3 from-file.txt=from a file$" out
awsx s3api get-object --bucket lb-probe --key "$key" got.txt >/dev/null 2>&1
printf 'from memory' >want.txt
expect_same "aws CLI reads the object under the exact key" want.txt got.txt

# --- signed calls under moto's SigV4 verification ----------------------------
# Any Authorization header routes a raw call while moto checks nothing.
iam() {
	curl -sf -X POST "$MOTO_ENDPOINT/" -H "Authorization: AWS4-HMAC-SHA256 \
Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, \
Signature=00" --data-urlencode Version=2010-05-08 "$@" >/dev/null
}
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
iam --data-urlencode Action=CreateUser --data-urlencode UserName=ci &&
iam --data-urlencode Action=PutUserPolicy --data-urlencode UserName=ci \
    --data-urlencode PolicyName=all --data-urlencode "PolicyDocument=$policy" &&
awsx iam create-access-key --user-name ci --output text \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' >key.txt
read -r ak sk <key.txt
ok "IAM user and key made with the aws CLI" $(( ${#ak} < 16 || ${#sk} < 16 ))
curl -s -X POST "$MOTO_ENDPOINT/moto-api/reset-auth" \
    -H 'Content-Type: text/plain' --data-binary 0 >auth.out
expect_grep "moto checks signatures now" '"status": "ok"' auth.out
# The aws CLI with a wrong secret is refused: the check is really on.
AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=wrong awsx sqs list-queues \
    >/dev/null 2>&1
ok "aws CLI with a wrong secret refused" $(($? == 0))
cmoto $noimds AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
    lb-aws-probe -c sts >out 2>&1
st=$?
ok "signed STS query accepted" $st
expect_grep "signed STS query: the caller is the IAM user" \
    "^arn=arn:aws:iam::123456789012:user/ci$" out
cmoto $noimds AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
    lb-aws-probe -c sqs >out 2>&1
ok "signed SQS JSON call accepted" $?
cmoto $noimds AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY=wrong \
    lb-aws-probe -c sqs >out 2>&1
st=$?
ok "wrong secret: exit 1" $((st != 1))
expect_grep "wrong secret: SignatureDoesNotMatch" \
    "code=SignatureDoesNotMatch" out
# S3 rules (x-amz-content-sha256, unnormalised path); moto's own check
# fails on keys with '+', '=', ':' or non-ASCII even for the aws CLI, so
# this key keeps to a space.
cmoto $noimds AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
    lb-aws-probe -c s3 -k 'dir/a b.txt' >out 2>&1
ok "signed S3 requests accepted (memory and file bodies)" $?
expect_grep "signed S3: object read back" "^s3 dir/a b.txt=from memory$" out
cmoto $noimds AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY=wrong \
    lb-aws-probe -c s3 >out 2>&1
ok "S3 with a wrong secret: exit 1" $(($? != 1))

# --- secrets never printed -------------------------------------------------
expect_nogrep "no secret in any output" \
    "$sk\|envsecret\|defaultsecret\|devsecret\|cfgsecret\|sekrit\|fake-secret\|fake-session-token\|envtoken\|devtoken\|eyJhbGci" \
    all.log
