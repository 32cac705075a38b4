#!/usr/bin/env python3
"""Reference side of tests/1010-sigv4-botocore.t (test-only).

  botocore-ref.py gen N SEED     random request specs as JSON lines
  botocore-ref.py ref            botocore's results for specs on stdin
  botocore-ref.py compare A B    compare reference and probe outputs

Specs and results have the shape lb-sigv4-probe reads and prints.  The
clock is botocore.auth.get_current_datetime, patched to the spec's time.
"""
import datetime
import json
import random
import sys
import types
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'


def ref(spec):
    t = datetime.datetime.fromtimestamp(spec['time'], datetime.timezone.utc)
    t = t.replace(tzinfo=None)
    creds = Credentials(spec['akid'], spec['secret'], spec.get('token'))
    body = spec.get('body')
    if body is not None:
        body = body.encode()
    elif spec.get('body_hex') is not None:
        body = bytes.fromhex(spec['body_hex'])
    req = AWSRequest(method=spec['method'], url=spec['url'], data=body)
    for h in spec.get('headers', []):
        name, _, value = h.partition(':')
        req.headers[name.strip()] = value
    s3 = spec.get('s3', False)
    presign = spec.get('presign', 0)
    if presign:
        cls = auth.S3SigV4QueryAuth if s3 else auth.SigV4QueryAuth
        signer = cls(creds, spec['service'], spec['region'], expires=presign)
    else:
        cls = auth.S3SigV4Auth if s3 else auth.SigV4Auth
        signer = cls(creds, spec['service'], spec['region'])
    if spec.get('payload_hash') == 'UNSIGNED-PAYLOAD':
        req.context['payload_signing_enabled'] = False
        req.context['client_config'] = types.SimpleNamespace(
            s3={'payload_signing_enabled': False})
    seen = {}

    def record(name):
        orig = getattr(signer, name)

        def f(*args):
            seen[name] = orig(*args)
            return seen[name]
        setattr(signer, name, f)
    for name in ('canonical_request', 'string_to_sign', 'signature'):
        record(name)
    with mock.patch.object(auth, 'get_current_datetime', lambda *a: t):
        signer.add_auth(req)
    canonical, to_sign = seen['canonical_request'], seen['string_to_sign']
    sig = seen['signature']
    out = {'canonical': canonical, 'to_sign': to_sign, 'signature': sig}
    if presign:
        out['url'] = req.url
    else:
        out['authorization'] = req.headers['Authorization']
    return out


PATH_ALPHABET = (['a', 'b', 'Z', '0', '-', '_', '.', '~', ' ', '%', '+',
                  '!', '$', '&', "'", '(', ')', '*', ',', ';', '=', ':', '@',
                  '\u00e9', '\u1234', '\u65e5\u672c', '"', '<', '#', '?']
                 + list('abcdefghijklmnop'))
QUERY_ALPHABET = PATH_ALPHABET + ['/', '&', '=', '[', ']', '\u00fc']
HEADER_NAMES = ['X-Amz-Meta-Foo', 'content-type', 'Content-Type', 'X-Custom',
                'My-Header', 'x-amz-target', 'Accept', 'X-MIXED-case',
                'User-Agent', 'Expect', 'X-Amz-Date', 'Content-MD5']
HOSTS = [('https', 'example.amazonaws.com'), ('http', '127.0.0.1:5000'),
         ('https', 'Sqs.US-West-2.AmazonAWS.com'), ('https', 'h.example:443'),
         ('http', 'localhost:80'), ('http', '[::1]:8080'),
         ('https', 's3.us-west-2.amazonaws.com:8443')]


def rstr(rng, alphabet, lo, hi):
    return ''.join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def gen_path(rng, s3):
    segs = []
    for _ in range(rng.randint(0, 5)):
        r = rng.random()
        if r < 0.08 and not s3:
            segs.append(rng.choice(['.', '..', '']))
        else:
            segs.append(rstr(rng, PATH_ALPHABET, 1, 8))
    path = '/' + '/'.join(segs)
    if rng.random() < 0.3:
        path += '/'
    # Mostly encoded as a client sends it; reserved sub-delimiters may
    # stay raw, which is legal in a path.
    if rng.random() < 0.6:
        return quote(path, safe='/~')
    return quote(path, safe="/~!$&'()*+,;=:@")


def gen_query(rng, presign):
    pairs = []
    keys = []
    for _ in range(rng.randint(0, 6)):
        if keys and rng.random() < 0.25 and not presign:
            k = rng.choice(keys)  # a repeated key
        else:
            k = rstr(rng, QUERY_ALPHABET, 1, 6)
            if presign and k in keys:
                continue
            keys.append(k)
        v = '' if rng.random() < 0.2 else rstr(rng, QUERY_ALPHABET, 1, 10)
        enc = quote(k, safe='-_.~')
        if v == '' and rng.random() < 0.5 and not presign:
            pairs.append(enc)  # "key" without '='
        else:
            pairs.append(enc + '=' + quote(v, safe='-_.~'))
    return '&'.join(pairs)


def gen(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        s3 = rng.random() < 0.3
        presign = rng.choice([0, 0, 0, 60, 900]) if i % 5 else 0
        scheme, host = rng.choice(HOSTS)
        url = f'{scheme}://{host}{gen_path(rng, s3)}'
        q = gen_query(rng, presign)
        if q:
            url += '?' + q
        headers = []
        for _ in range(rng.randint(0, 5)):
            name = rng.choice(HEADER_NAMES)
            if presign and name.lower() in ('content-type', 'x-amz-date'):
                continue
            value = rstr(rng, ['a', 'B', ' ', '  ', '\t', ',', '"', '=',
                               '/', '\u00e9', '1'], 0, 12)
            headers.append(f'{name}:{rng.choice(["", " ", "  "])}{value}')
        if rng.random() < 0.1:
            headers.append(f'Host: {host.lower()}')
        spec = {
            'method': rng.choice(['GET', 'POST', 'PUT', 'DELETE', 'HEAD',
                                  'PATCH']),
            'url': url,
            'headers': headers,
            'region': rng.choice(['us-east-1', 'us-west-2', 'eu-central-1']),
            'service': 's3' if s3 else rng.choice(['sqs', 'dynamodb', 'sts',
                                                   'logs', 'eks']),
            's3': s3,
            'time': rng.randint(1420070400, 2051222400),
            'akid': 'AKID' + rstr(rng, 'ABCDEFGHIJKLMNOP0123456789', 8, 16),
            'secret': SECRET if rng.random() < 0.5 else
            rstr(rng, 'abcXYZ0189+/', 20, 40),
            'token': None if rng.random() < 0.6 else
            rstr(rng, 'abcXYZ0189+/=', 10, 60),
            'payload_hash': None,
            'presign': presign,
        }
        if not presign:
            r = rng.random()
            if r < 0.3:
                spec['body'] = rstr(rng, QUERY_ALPHABET, 0, 200)
            elif r < 0.6:
                spec['body_hex'] = bytes(rng.randrange(256) for _ in
                                         range(rng.randint(0, 300))).hex()
            if rng.random() < 0.15:
                spec['payload_hash'] = 'UNSIGNED-PAYLOAD'
        print(json.dumps(spec))


def qset(url):
    return sorted(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def compare(refpath, outpath):
    bad = 0
    with open(refpath) as a, open(outpath) as b:
        for i, (la, lb) in enumerate(zip(a, b), 1):
            r, o = json.loads(la), json.loads(lb)
            keys = ['canonical', 'to_sign', 'signature']
            keys.append('url' if 'url' in r else 'authorization')
            for k in keys:
                x, y = r.get(k), o.get(k)
                if k == 'url' and x and y:
                    x, y = qset(x), qset(y)
                if x != y:
                    bad += 1
                    print(f'# spec {i}: {k} differs\n#  botocore: {x!r}\n'
                          f'#  lb:       {y!r}')
                    break
    return bad


def main():
    if sys.argv[1] == 'gen':
        gen(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == 'ref':
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(ref(json.loads(line))))
    elif sys.argv[1] == 'compare':
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)


if __name__ == '__main__':
    main()
