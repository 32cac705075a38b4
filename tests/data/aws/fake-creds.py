#!/usr/bin/env python3
"""A fake container-credentials endpoint and IMDSv2 for tests (loopback).

  fake-creds.py PORTFILE

Binds 127.0.0.1 on a free port and writes it to PORTFILE.
  GET /creds?exp=SECS[&token=T]   container credentials; with token=T the
                                  Authorization header must be T (else 401)
  GET /garbage                    200 with a body that is not JSON
  PUT /latest/api/token           IMDSv2 session token
  GET /latest/meta-data/iam/security-credentials/[ROLE]
  GET /count                      how many credential answers were given
  POST /                          an SQS-like JSON service that fails every
                                  other call with 503 (a retry)
  GET /posts                      Authorization headers per POST: "1,1"
"""
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

IMDS_TOKEN = 'imds-session-token'
ROLE = 'lb-test-role'
lock = threading.Lock()
count = 0
posts = []


def creds(akid, exp):
    global count
    with lock:
        count += 1
        n = count
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=exp)
    return {'Code': 'Success', 'AccessKeyId': f'{akid}{n:04d}',
            'SecretAccessKey': 'fake-secret-never-printed',
            'Token': 'fake-session-token',
            'Expiration': t.strftime('%Y-%m-%dT%H:%M:%SZ')}


class H(BaseHTTPRequestHandler):
    def reply(self, status, body, ctype='application/json'):
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path == '/latest/api/token' and \
                self.headers.get('X-aws-ec2-metadata-token-ttl-seconds'):
            self.reply(200, IMDS_TOKEN, 'text/plain')
        else:
            self.reply(400, 'bad token request', 'text/plain')

    def do_POST(self):
        n = len(self.headers.get_all('Authorization') or [])
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with lock:
            posts.append(n)
            odd = len(posts) % 2 == 1
        if odd:
            self.reply(503, '{"__type": "ServiceUnavailable"}')
        else:
            self.reply(200, '{"QueueUrls": ["http://q/123456789012/q"]}')

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        base = '/latest/meta-data/iam/security-credentials/'
        if u.path == '/count':
            self.reply(200, str(count), 'text/plain')
        elif u.path == '/posts':
            self.reply(200, ','.join(map(str, posts)), 'text/plain')
        elif u.path == '/creds':
            want = q.get('token')
            if want is not None and self.headers.get('Authorization') != want:
                self.reply(401, '{"message":"bad token"}')
                return
            self.reply(200, json.dumps(creds('ASIACONTAINER',
                                             int(q.get('exp', 3600)))))
        elif u.path == '/garbage':
            self.reply(200, 'this is { not json')
        elif u.path.startswith(base):
            if self.headers.get('X-aws-ec2-metadata-token') != IMDS_TOKEN:
                self.reply(401, '', 'text/plain')
            elif u.path == base:
                self.reply(200, ROLE + '\n', 'text/plain')
            elif u.path == base + ROLE:
                self.reply(200, json.dumps(creds('ASIAIMDS', 3600)))
            else:
                self.reply(404, '', 'text/plain')
        else:
            self.reply(404, '', 'text/plain')

    def log_message(self, fmt, *args):
        sys.stderr.write('fake-creds: ' + fmt % args + '\n')


def main():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
    with open(sys.argv[1] + '.tmp', 'w') as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + '.tmp', sys.argv[1])
    srv.serve_forever()


if __name__ == '__main__':
    main()
