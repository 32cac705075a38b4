#!/usr/bin/env python3
"""faultd: a loopback HTTP server that misbehaves on purpose.

Each request takes the next step of a script (comma separated, the last
step repeats):
  200 / 404 / 500 / 503 ...   answer with that status (body from --body)
  429:S                       429 with Retry-After: S
  400:CODE                    400 with an AWS JSON error body of that code
  reset                       close the connection without an answer
  slow:S                      sleep S seconds, then answer 200
  trunc                       announce a longer body than sent, then close
Every request is logged to --log as a JSON line (time, method, path,
headers, body length) so tests can count attempts and gaps.
POST /_faultd/script with a new script (text body) replaces it.
"""
import argparse, json, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"script": ["200"], "i": 0}


def next_step():
    with lock:
        s = state["script"]
        step = s[min(state["i"], len(s) - 1)]
        state["i"] += 1
        return step


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/_faultd/script":
            with lock:
                state["script"] = body.decode().strip().split(",")
                state["i"] = 0
            return self.answer(200, b"ok\n")
        rec = {"t": time.time(), "method": self.command, "path": self.path,
               "headers": dict(self.headers.items()), "len": len(body)}
        with open(args.log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        step = next_step()
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            self.close_connection = True
            return
        if step.startswith("slow:"):
            time.sleep(float(step[5:]))
            return self.answer(200, args.body.encode())
        if step == "trunc":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            self.close_connection = True
            return
        if step.startswith("429:"):
            return self.answer(429, b'{"message":"slow down"}',
                               {"Retry-After": step[4:]})
        if step.startswith("400:"):
            b = json.dumps({"__type": "com.amazonaws#" + step[4:],
                            "message": "injected"}).encode()
            return self.answer(400, b)
        return self.answer(int(step), args.body.encode())

    def answer(self, code, body, extra=None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = handle_any


p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=0)
p.add_argument("--script", default="200")
p.add_argument("--body", default='{"ok":true}')
p.add_argument("--log", default="/dev/null")
args = p.parse_args()
state["script"] = args.script.split(",")
srv = ThreadingHTTPServer(("127.0.0.1", args.port), H)
srv.daemon_threads = True
print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
