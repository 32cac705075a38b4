#!/usr/bin/env python3
"""Print the known-answer vectors of tests/unit/check_sigv4.c as C.

Run once with the local botocore (tests/data/sigv4/botocore-ref.py) and
paste the output into the C file; the unit test needs no python.
"""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
SUITE_T = 1440938160            # 20150830T123600Z, the AWS test suite's
EKS_T = 1704164645              # 2024-01-02T03:04:05Z (k8s.md 4.3)
S3_T = 1369353600               # 20130524T000000Z, the S3 docs' examples
AK, SK = 'AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
S3AK, S3SK = 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
STS_TOKEN = ('AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTw'
             'dQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi'
             '/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5V'
             'SXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPk'
             'UL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabI'
             'Qwj2ICCR/oLxBA==')
HOST = 'https://example.amazonaws.com'
UNRES = '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'


def suite(name, method, path, headers=(), body=None, token=None):
    return dict(name=name, method=method, url=HOST + path,
                headers=['Host: example.amazonaws.com',
                         'X-Amz-Date: 20150830T123600Z'] + list(headers),
                body=body, region='us-east-1', service='service', s3=False,
                time=SUITE_T, akid=AK, secret=SK, token=token, presign=0)


def eks(name, cluster, t, token=None):
    return dict(name=name, method='GET',
                url='https://sts.us-west-2.amazonaws.com/'
                '?Action=GetCallerIdentity&Version=2011-06-15',
                headers=['x-k8s-aws-id: ' + cluster], body=None,
                region='us-west-2', service='sts', s3=False, time=t,
                akid=AK, secret=SK, token=token, presign=60)


SPECS = [
    suite('get-vanilla', 'GET', '/'),
    suite('get-vanilla-query-order-key-case', 'GET',
          '/?Param2=value2&Param1=value1'),
    suite('get-vanilla-query-unreserved', 'GET', f'/?{UNRES}={UNRES}'),
    suite('get-space', 'GET', '/example space/'),
    suite('get-utf8', 'GET', '/\u1234'),
    suite('post-x-www-form-urlencoded', 'POST', '/',
          ['Content-Type: application/x-www-form-urlencoded'],
          'Param1=value1'),
    suite('post-vanilla', 'POST', '/'),
    suite('post-sts-token', 'POST', '/', token=STS_TOKEN),
    eks('eks-presign-mycluster', 'mycluster', SUITE_T),
    eks('eks-presign-my-cluster', 'my-cluster', EKS_T),
    eks('eks-presign-my-cluster-token', 'my-cluster', EKS_T,
        'FQoGZXIvYXdzEXAMPLE/+='),
    dict(name='s3-get-object', method='GET',
         url='https://examplebucket.s3.amazonaws.com/test.txt',
         headers=['Range: bytes=0-9'], body=None, region='us-east-1',
         service='s3', s3=True, time=S3_T, akid=S3AK, secret=S3SK,
         token=None, presign=0),
    dict(name='s3-presign', method='GET',
         url='https://examplebucket.s3.amazonaws.com/test.txt',
         headers=[], body=None, region='us-east-1', service='s3', s3=True,
         time=S3_T, akid=S3AK, secret=S3SK, token=None, presign=86400),
]


def cstr(s):
    if s is None:
        return 'NULL'
    out = '"'
    for b in s.encode():
        c = chr(b)
        if c == '\n':
            out += '\\n'
        elif c in '"\\':
            out += '\\' + c
        elif 32 <= b < 127:
            out += c
        else:
            out += '\\%03o' % b
    return out + '"'


def main():
    inp = '\n'.join(json.dumps(s) for s in SPECS) + '\n'
    res = subprocess.run([sys.executable, os.path.join(here,
                         'botocore-ref.py'), 'ref'], input=inp,
                         capture_output=True, text=True, check=True)
    for spec, line in zip(SPECS, res.stdout.splitlines()):
        r = json.loads(line)
        hdrs = ''.join(cstr(h) + ', ' for h in spec['headers'])
        print('\t{ %s, %s, %s,\n\t    { %sNULL },\n\t    %s, %s, %s, %s, '
              '%d, %d, %d, %s, %s,\n\t    %s,\n\t    %s,\n\t    %s,\n'
              '\t    %s },' % (
                  cstr(spec['name']), cstr(spec['method']), cstr(spec['url']),
                  hdrs, cstr(spec['body']), cstr(spec['region']),
                  cstr(spec['service']), cstr(spec['token']),
                  int(spec['s3']), spec['time'], spec['presign'],
                  cstr(spec['akid']), cstr(spec['secret']),
                  cstr(r['canonical']), cstr(r['to_sign']),
                  cstr(r['signature']),
                  cstr(r.get('authorization') or r.get('url'))))


if __name__ == '__main__':
    main()
