#!/usr/bin/env python3
"""faultproxy: a loopback HTTP(S) reverse proxy that injects faults.

It sits in front of one upstream (moto, the EvalAI emulator, the
Kubernetes emulator) and forwards every request byte for byte: the
request line, every header as received (Host included, so SigV4
signatures still match) and the body.  With probability --rate a request
gets one fault, drawn from a generator seeded with --seed, among
--faults (a comma-separated list, default all of them), at most
--max-faults of them in all:

  5xx        answer 500 or 503 without forwarding
  throttle   answer the upstream's throttling error without forwarding:
             --kind aws: 400 ThrottlingException (JSON), or 503 SlowDown
             (XML) for S3; evalai and k8s: 429 with Retry-After
  reset      close the connection (TCP RST) without forwarding
  slow       sleep --slow seconds, then forward
  lost       forward (the upstream applies the request), then reset the
             connection instead of answering
  truncated  forward, then send the headers and half the body, and close

A watch or a followed log (watch= or follow= true) is a stream: it only
gets the faults that act before forwarding, never one once it started.

Control (never forwarded, never faulted), under /_faultproxy/:
  GET  /_faultproxy/health   {"ok": true, "pid": N}
  GET  /_faultproxy/stats    {"rate", "requests", "faults", "by_fault"}
  POST /_faultproxy/rate     body: a number or {"rate": R}
SIGUSR1 sets the rate to 0, SIGUSR2 back to --rate.

Every injected fault is one JSON line in --log: time, seq, method, path
(AWS signature query values blanked), fault, and for the faults after
forwarding the status the upstream answered.
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

FAULTS = ("5xx", "throttle", "reset", "slow", "lost", "truncated")
BEFORE = ("5xx", "throttle", "reset", "slow")
MAXLINE = 65536


class Bad(Exception):
    pass


class State:
    def __init__(self, a):
        self.a = a
        self.rate = a.rate
        self.rng = random.Random(a.seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.faults = 0
        self.by = {}
        self.seq = 0
        self.kinds = a.faults
        self.before = [f for f in a.faults if f in BEFORE]

    def draw(self, stream):
        """The fault for the next request, or None."""
        with self.lock:
            self.requests += 1
            pool = self.before if stream else self.kinds
            if self.rate <= 0 or self.rng.random() >= self.rate or \
                    not pool or (self.a.max_faults >= 0 and
                                 self.faults >= self.a.max_faults):
                return None
            f = self.rng.choice(pool)
            if f == "5xx":
                f = self.rng.choice(("500", "503"))
            self.faults += 1
            self.by[f] = self.by.get(f, 0) + 1
            return f

    def log(self, rec):
        with self.lock:
            self.seq += 1
            rec = dict(rec, seq=self.seq, t=round(time.time(), 3))
            if self.a.log:
                with open(self.a.log, "a") as f:
                    f.write(json.dumps(rec) + "\n")


def readline(f):
    line = f.readline(MAXLINE + 1)
    if len(line) > MAXLINE:
        raise Bad("line too long")
    return line


def read_head(f):
    """Raw header lines up to and including the blank line, and a dict
    of lower-case names to the last value."""
    raw, h = [], {}
    while True:
        line = readline(f)
        if not line:
            raise Bad("connection closed in the headers")
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            return raw, h
        if len(raw) > 200:
            raise Bad("too many headers")
        k, _, v = line.decode("latin-1").partition(":")
        h[k.strip().lower()] = v.strip()


def read_chunked(f, sink):
    """Copy a chunked body, framing included, to sink(bytes)."""
    while True:
        line = readline(f)
        if not line:
            raise Bad("connection closed in a chunk size")
        sink(line)
        try:
            n = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise Bad("bad chunk size")
        if n == 0:
            while True:
                t = readline(f)
                if not t:
                    return
                sink(t)
                if t in (b"\r\n", b"\n"):
                    return
        while n > 0:
            b = f.read1(min(n, 65536)) if hasattr(f, "read1") else \
                f.read(min(n, 65536))
            if not b:
                raise Bad("connection closed in a chunk")
            sink(b)
            n -= len(b)
        sink(readline(f))


def read_fixed(f, n, sink):
    while n > 0:
        b = f.read1(min(n, 65536)) if hasattr(f, "read1") else \
            f.read(min(n, 65536))
        if not b:
            raise Bad("connection closed in the body")
        sink(b)
        n -= len(b)


def read_close(f, sink):
    while True:
        b = f.read1(65536) if hasattr(f, "read1") else f.read(65536)
        if not b:
            return
        sink(b)


def aws_service(path, h):
    m = re.search(r"Credential=[^/,]*/[^/]*/[^/]*/([^/]*)/",
                  h.get("authorization", ""))
    if m:
        return m.group(1)
    q = urllib.parse.unquote(path)
    m = re.search(r"X-Amz-Credential=[^/&]*/[^/]*/[^/]*/([^/&]*)/", q)
    return m.group(1) if m else ""


def redact(path):
    return re.sub(r"(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)"
                  r"[^&]*", r"\1-", path)


def is_stream(path):
    q = urllib.parse.urlsplit(path).query
    for k, v in urllib.parse.parse_qsl(q):
        if k in ("watch", "follow") and v.lower() in ("true", "1"):
            return True
    return False


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        st = self.server.st
        self.sock = self.request
        if st.a.tls_cert:
            self.sock.settimeout(30)
            self.sock = st.sctx.wrap_socket(self.sock, server_side=True)
            self.sock.settimeout(None)
        self.rf = self.sock.makefile("rb")

    def finish(self):
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, b):
        self.sock.sendall(b)

    def answer(self, code, reason, body, ctype, extra=(), close=False):
        head = ["HTTP/1.1 %d %s" % (code, reason),
                "Content-Type: " + ctype,
                "Content-Length: %d" % len(body)]
        head += ["%s: %s" % kv for kv in extra]
        if close:
            head.append("Connection: close")
        self.send(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def rst(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            if isinstance(self.sock, ssl.SSLSocket):
                # no TLS close_notify: a plain RST on the raw socket
                raw = socket.socket(fileno=self.sock.detach())
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               struct.pack("ii", 1, 0))
                raw.close()
            else:
                self.sock.close()
        except OSError:
            pass

    def handle(self):
        try:
            while self.one():
                pass
        except (Bad, OSError, ssl.SSLError):
            pass

    def control(self, method, path, body):
        st = self.server.st
        if path == "/_faultproxy/health":
            out = {"ok": True, "pid": os.getpid()}
        elif path == "/_faultproxy/stats":
            with st.lock:
                out = {"rate": st.rate, "requests": st.requests,
                       "faults": st.faults, "by_fault": dict(st.by)}
        elif path == "/_faultproxy/rate" and method == "POST":
            try:
                v = json.loads(body or b"null")
                r = float(v["rate"] if isinstance(v, dict) else v)
                if not 0 <= r <= 1:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return self.answer(400, "Bad Request",
                                   b'{"error": "rate: a number 0..1"}\n',
                                   "application/json")
            with st.lock:
                st.rate = r
            out = {"rate": r}
        else:
            return self.answer(404, "Not Found", b'{"error": "no hook"}\n',
                               "application/json")
        self.answer(200, "OK", (json.dumps(out) + "\n").encode(),
                    "application/json")

    def fault_body(self, code, path, h):
        """An error as the upstream would write it."""
        kind = self.server.st.a.kind
        if kind == "aws":
            if aws_service(path, h) == "s3":
                c = "SlowDown" if code == 503 else "InternalError"
                b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
                     "<Code>%s</Code><Message>injected</Message></Error>"
                     % c).encode()
                return b, "application/xml", ()
            c = "ServiceUnavailable" if code == 503 else "InternalFailure"
            b = json.dumps({"__type": "com.amazonaws#" + c,
                            "message": "injected"}).encode()
            return b, "application/x-amz-json-1.0", ()
        if kind == "k8s":
            b = json.dumps({"kind": "Status", "apiVersion": "v1",
                            "status": "Failure", "message": "injected",
                            "reason": "InternalError", "code": code})
            return b.encode(), "application/json", ()
        return (b"<h1>Server Error (%d)</h1>" % code, "text/html", ())

    def throttle(self, path, h):
        kind = self.server.st.a.kind
        if kind == "aws":
            if aws_service(path, h) == "s3":
                b = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
                     b"<Code>SlowDown</Code><Message>Please reduce your "
                     b"request rate.</Message></Error>")
                return 503, "Slow Down", b, "application/xml", ()
            b = json.dumps({"__type": "com.amazonaws#ThrottlingException",
                            "message": "Rate exceeded"}).encode()
            return 400, "Bad Request", b, "application/x-amz-json-1.0", ()
        ra = (("Retry-After", "1"),)
        if kind == "k8s":
            b = json.dumps({"kind": "Status", "apiVersion": "v1",
                            "status": "Failure", "message": "injected",
                            "reason": "TooManyRequests", "code": 429,
                            "details": {"retryAfterSeconds": 1}})
            return 429, "Too Many Requests", b.encode(), \
                "application/json", ra
        b = b'{"detail": "Request was throttled. Expected available in ' \
            b'1 second."}'
        return 429, "Too Many Requests", b, "application/json", ra

    def upstream(self):
        a = self.server.st.a
        u = self.server.up
        s = socket.create_connection((u.hostname, u.port), timeout=30)
        if u.scheme == "https":
            s = self.server.cctx.wrap_socket(s, server_hostname=u.hostname)
        return s

    def one(self):
        st = self.server.st
        line = readline(self.rf)
        if not line:
            return False
        if line in (b"\r\n", b"\n"):
            return True
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise Bad("bad request line")
        method, path, version = parts
        raw, h = read_head(self.rf)
        if h.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = []
        if "chunked" in h.get("transfer-encoding", "").lower():
            read_chunked(self.rf, body.append)
        elif h.get("content-length"):
            read_fixed(self.rf, int(h["content-length"]), body.append)
        body = b"".join(body)
        keep = version == "HTTP/1.1" and \
            h.get("connection", "").lower() != "close"

        if path.startswith("/_faultproxy/"):
            self.control(method, path, body)
            return keep
        stream = is_stream(path)
        f = st.draw(stream)
        rec = {"method": method, "path": redact(path), "fault": f}
        if f in ("500", "503"):
            st.log(rec)
            b, ct, extra = self.fault_body(int(f), path, h)
            self.answer(int(f), "Service Unavailable" if f == "503" else
                        "Internal Server Error", b, ct, extra)
            return keep
        if f == "throttle":
            st.log(rec)
            code, reason, b, ct, extra = self.throttle(path, h)
            self.answer(code, reason, b, ct, extra)
            return keep
        if f == "reset":
            st.log(rec)
            self.rst()
            return False
        if f == "slow":
            st.log(rec)
            time.sleep(st.a.slow)

        # forward: the client's bytes, unchanged
        up = self.upstream()
        try:
            if not stream:
                up.settimeout(st.a.timeout)
            else:
                up.settimeout(None)
            if h.get("expect", "").lower() == "100-continue":
                raw = [x for x in raw if not
                       x.lower().startswith(b"expect:")]
            up.sendall(line + b"".join(raw) + body)
            uf = up.makefile("rb")
            while True:
                sline = readline(uf)
                if not sline:
                    raise Bad("upstream closed without an answer")
                uraw, uh = read_head(uf)
                sp = sline.decode("latin-1").split(None, 2)
                code = int(sp[1]) if len(sp) > 1 and sp[1].isdigit() else 0
                if not 100 <= code < 200 or code == 101:
                    break
            head = sline + b"".join(uraw)
            close = uh.get("connection", "").lower() == "close" or not keep
            nobody = method == "HEAD" or code in (204, 304)
            chunked = "chunked" in uh.get("transfer-encoding", "").lower()
            if f in ("lost", "truncated"):
                out = []
                if nobody:
                    pass
                elif chunked:
                    read_chunked(uf, out.append)
                elif uh.get("content-length"):
                    read_fixed(uf, int(uh["content-length"]), out.append)
                else:
                    read_close(uf, out.append)
                rec["status"] = code
                st.log(rec)
                if f == "lost":
                    self.rst()
                    return False
                b = b"".join(out)
                if b:
                    self.send(head + b[:len(b) // 2])
                else:
                    self.send(head[:len(head) // 2])
                self.sock.close()
                return False
            self.send(head)
            if nobody:
                pass
            elif chunked:
                read_chunked(uf, self.send)
            elif uh.get("content-length"):
                read_fixed(uf, int(uh["content-length"]), self.send)
            else:
                read_close(uf, self.send)
                close = True
            return not close
        finally:
            try:
                up.close()
            except OSError:
                pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if self.st.a.verbose:
            socketserver.ThreadingTCPServer.handle_error(self, request,
                                                         client_address)


def main():
    ap = argparse.ArgumentParser(description="fault-injecting proxy")
    ap.add_argument("--upstream", required=True, metavar="URL")
    ap.add_argument("--kind", choices=("aws", "evalai", "k8s"),
                    required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slow", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--log", metavar="FILE")
    ap.add_argument("--faults", metavar="LIST", default=",".join(FAULTS))
    ap.add_argument("--max-faults", type=int, default=-1, metavar="N")
    ap.add_argument("--tls-cert", metavar="PEM")
    ap.add_argument("--tls-key", metavar="PEM")
    ap.add_argument("--upstream-ca", metavar="PEM")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    up = urllib.parse.urlsplit(a.upstream)
    if up.scheme not in ("http", "https") or \
            up.hostname not in ("127.0.0.1", "localhost", "::1"):
        ap.error("--upstream must be an http(s) URL on the loopback")
    if not 0 <= a.rate <= 1:
        ap.error("--rate must be between 0 and 1")
    a.faults = a.faults.split(",")
    if not a.faults or any(f not in FAULTS for f in a.faults):
        ap.error("--faults: a comma-separated list of " + ",".join(FAULTS))
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    st = State(a)
    if a.tls_cert:
        st.sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        st.sctx.load_cert_chain(a.tls_cert, a.tls_key)
        st.sctx.set_alpn_protocols(["http/1.1"])
    try:
        srv = Server(("127.0.0.1", a.port), Handler)
    except OSError as e:
        sys.exit("faultproxy: 127.0.0.1:%d: %s" % (a.port, e.strerror))
    srv.st, srv.up = st, up
    if up.scheme == "https":
        if a.upstream_ca:
            srv.cctx = ssl.create_default_context(cafile=a.upstream_ca)
        else:
            srv.cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            srv.cctx.check_hostname = False
            srv.cctx.verify_mode = ssl.CERT_NONE
        srv.cctx.set_alpn_protocols(["http/1.1"])

    def setrate(r):
        with st.lock:
            st.rate = r
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGUSR1, lambda *_: setrate(0.0))
    signal.signal(signal.SIGUSR2, lambda *_: setrate(a.rate))
    print("%s://127.0.0.1:%d" % ("https" if a.tls_cert else "http",
                                 srv.server_address[1]), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
