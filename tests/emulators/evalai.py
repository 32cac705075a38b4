#!/usr/bin/env python3
"""EvalAI emulator for the lb tests.

Serves the subset of EvalAI's REST API that a challenge host's backend uses
(submission GET, update_submission, the partial update, phases, splits, the
queue API), with EvalAI's error bodies and check order, plus test hooks under
/_emu/.  Standard library only.  See tests/emulators/README.
"""

import argparse
import copy
import http.server
import json
import math
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

STATUSES = ("submitted", "running", "failed", "cancelled", "resuming",
            "queued", "finished", "submitting", "archived",
            "partially_evaluated")
TERMINAL = ("finished", "failed", "cancelled")
# --strict: which status may follow which (same-status repeats are allowed)
STRICT_NEXT = {
    "submitted": {"queued", "running", "partially_evaluated"} | set(TERMINAL),
    "resuming": {"queued", "running", "partially_evaluated"} | set(TERMINAL),
    "submitting": {"submitted"},
    "queued": {"running", "partially_evaluated"} | set(TERMINAL),
    "running": {"partially_evaluated"} | set(TERMINAL),
    "partially_evaluated": {"running"} | set(TERMINAL),
    "finished": set(), "failed": set(), "cancelled": set(), "archived": set(),
}
MAX_BODY = 200 * 1024 * 1024     # nginx client_max_body_size 200M
HTML404 = (b"<!DOCTYPE html>\n<html><head><title>404 - Page not found"
           b"</title></head><body><h1>404</h1><p>The page you are looking "
           b"for does not exist.</p></body></html>\n")
HTML500 = (b"<!DOCTYPE html>\n<html><head><title>500 - Internal server "
           b"error</title></head><body><h1>500</h1><p>Something went "
           b"wrong.</p></body></html>\n")
SUCCESS = {"success": "Submission result has been successfully updated"}
NOT_AUTH_REQ = {"error": "Sorry, you are not authorized to make this request!"}
NOT_AUTH_RES = {"error": "Sorry, you are not authorized to access this "
                "resource"}
PHASE_FIELDS = (
    "id", "name", "description", "leaderboard_public", "start_date",
    "end_date", "challenge", "max_submissions_per_day",
    "max_submissions_per_month", "max_submissions",
    "submission_artifact_retention_policy", "is_public", "is_active",
    "codename", "slug", "max_concurrent_submissions_allowed",
    "is_restricted_to_select_one_submission", "submission_meta_attributes",
    "is_partial_submission_evaluation_enabled",
    "allowed_submission_file_types", "default_submission_meta_attributes",
    "allowed_email_ids", "is_submission_public", "disable_logs",
    "is_submission_paused")
PHASE_HOST_FIELDS = ("annotations_uploaded_using_cli", "test_annotation",
                     "environment_image", "config_id")
PHASE_DEFAULTS = {
    "description": "", "leaderboard_public": True,
    "start_date": "2026-01-01T00:00:00Z", "end_date": "2099-12-31T23:59:59Z",
    "max_submissions_per_day": 100000, "max_submissions_per_month": 100000,
    "max_submissions": 100000, "submission_artifact_retention_policy": None,
    "is_public": True, "is_active": True,
    "max_concurrent_submissions_allowed": 3,
    "is_restricted_to_select_one_submission": False,
    "submission_meta_attributes": None,
    "is_partial_submission_evaluation_enabled": False,
    "allowed_submission_file_types": ".json, .zip, .txt, .tsv, .gz, .csv, "
    ".h5, .npy, .npz", "default_submission_meta_attributes": None,
    "allowed_email_ids": None, "is_submission_public": False,
    "disable_logs": False, "is_submission_paused": False,
    "annotations_uploaded_using_cli": False, "test_annotation": None,
    "environment_image": None, "config_id": None,
}
SUB_FIELDS = (
    "id", "participant_team", "participant_team_name", "execution_time",
    "challenge_phase", "created_by", "status", "input_file",
    "submission_input_file", "stdout_file", "stderr_file",
    "environment_log_file", "submitted_at", "started_at", "completed_at",
    "rerun_resumed_at", "method_name", "method_description", "project_url",
    "publication_url", "is_public", "is_flagged", "ignore_submission",
    "submission_result_file", "when_made_public", "is_baseline", "job_name",
    "submission_metadata", "is_verified_by_host")
FILE_FIELDS = ("input_file", "submission_input_file", "stdout_file",
               "stderr_file", "environment_log_file",
               "submission_result_file", "submission_metadata_file")
META_WRITABLE = ("status", "method_name", "method_description",
                 "project_url", "publication_url", "is_public",
                 "is_flagged", "submission_metadata", "is_baseline",
                 "ignore_submission", "is_verified_by_host")


class ServerError(Exception):
    """An unhandled exception in EvalAI: 500 with an HTML page."""


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(s):
    if s is None:
        return None
    return datetime.strptime(s.replace("Z", "+0000"),
                             "%Y-%m-%dT%H:%M:%S.%f%z")


def as_pk(v):
    """Django's int() of a lookup value; anything else is a 500."""
    if v is None:
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        raise ServerError("bad pk %r" % (v,))


def lower(v):
    """EvalAI calls .lower() on the status: non-strings crash."""
    if not isinstance(v, str):
        raise ServerError("status is not a string")
    return v.lower()


class State:
    def __init__(self, path=None):
        self.path = path
        self.lock = threading.RLock()
        self.d = self.empty()
        self.log = []
        self.seq = 0            # request log numbers, never reused
        self.faults = []
        self.throttle = 0
        self.windows = {}
        self.strict = False
        self.visibility = 30.0
        self.initial = None

    def next_seq(self):
        self.seq += 1
        return self.seq

    @staticmethod
    def empty():
        return {"users": {}, "tokens": {}, "host_teams": {},
                "participant_teams": {}, "challenges": {}, "phases": {},
                "splits": {}, "submissions": {}, "leaderboard": {},
                "artifacts": {}, "queues": {}, "next": {}}

    def next_pk(self, kind, floor=1):
        n = max(self.d["next"].get(kind, 1), floor)
        self.d["next"][kind] = n + 1
        return n

    def bump(self, kind, pk):
        if pk >= self.d["next"].get(kind, 1):
            self.d["next"][kind] = pk + 1

    # -- seed ---------------------------------------------------------
    def seed(self, s):
        d = self.d
        for u in s.get("users", []):
            uid = int(u["id"])
            rec = {"id": uid, "username": u.get("username", "user%d" % uid),
                   "email": u.get("email", "user%d@example.org" % uid),
                   "is_staff": bool(u.get("is_staff", False)),
                   "is_active": bool(u.get("is_active", True)),
                   "email_verified": bool(u.get("email_verified", True))}
            d["users"][str(uid)] = rec
            toks = u.get("token", [])
            for t in [toks] if isinstance(toks, str) else toks:
                d["tokens"][t] = {"user": uid, "blacklisted": False,
                                  "type": "refresh"}
        for t in s.get("tokens", []):
            d["tokens"][t["token"]] = {
                "user": int(t["user"]),
                "blacklisted": bool(t.get("blacklisted", False)),
                "type": t.get("type", "refresh")}
        for key in ("host_teams", "participant_teams"):
            for t in s.get(key, []):
                tid = int(t["id"])
                d[key][str(tid)] = {"id": tid, "team_name": t["team_name"],
                                    "members": [int(m) for m in
                                                t.get("members", [])]}
        for c in s.get("challenges", []):
            cid = int(c["id"])
            title = c.get("title", "Challenge %d" % cid)
            rec = {"id": cid, "title": title,
                   "slug": c.get("slug", re.sub(r"\W+", "-",
                                                title.lower()).strip("-")),
                   "creator": int(c["creator"]),
                   "queue": c.get("queue", "evalai_submission_queue"),
                   "is_docker_based": bool(c.get("is_docker_based", True)),
                   "is_static_dataset_code_upload": bool(
                       c.get("is_static_dataset_code_upload", False)),
                   "remote_evaluation": bool(c.get("remote_evaluation",
                                                   True)),
                   "allow_resuming_submissions": bool(
                       c.get("allow_resuming_submissions", True)),
                   "allow_participants_resubmissions": bool(
                       c.get("allow_participants_resubmissions", False)),
                   "is_active": bool(c.get("is_active", True)),
                   "image_registry": c.get(
                       "image_registry",
                       "342236305043.dkr.ecr.us-east-1.amazonaws.com")}
            d["challenges"][str(cid)] = rec
            self.bump("challenge", cid)
            for p in c.get("phases", []):
                pid = int(p["id"])
                ph = {k: v for k, v in p.items() if k != "splits"}
                ph["id"] = pid
                ph["challenge"] = cid
                ph.setdefault("name", "Phase %d" % pid)
                ph.setdefault("codename", "phase-%d" % pid)
                ph.setdefault("slug", "%s-%s" % (rec["slug"],
                                                 ph["codename"]))
                d["phases"][str(pid)] = ph
                for sp in p.get("splits", []):
                    sid = int(sp["id"])
                    ds = sp.get("dataset_split", {})
                    lb = sp.get("leaderboard", {})
                    d["splits"][str(sid)] = {
                        "id": sid, "challenge_phase": pid,
                        "dataset_split": {
                            "id": int(ds.get("id", sid)),
                            "name": ds.get("name", "Split"),
                            "codename": ds.get("codename", "split")},
                        "leaderboard": {"id": int(lb.get("id", sid)),
                                        "schema": lb.get("schema", {
                                            "labels": [],
                                            "default_order_by": None})},
                        "visibility": sp.get("visibility", 3),
                        "show_leaderboard_by_latest_submission": sp.get(
                            "show_leaderboard_by_latest_submission", False),
                        "show_execution_time": sp.get(
                            "show_execution_time", False),
                        "show_scores_on_leaderboard": sp.get(
                            "show_scores_on_leaderboard", True),
                        "is_multi_metric_leaderboard": sp.get(
                            "is_multi_metric_leaderboard", True)}
        for sub in s.get("submissions", []):
            self.create_submission(sub, enqueue=bool(sub.get("enqueue",
                                                             False)))

    # -- persistence --------------------------------------------------
    def load(self):
        with open(self.path) as f:
            self.d = json.load(f)

    def save(self):
        if not self.path:
            return
        tmp = "%s.tmp.%d" % (self.path, os.getpid())
        with open(tmp, "w") as f:
            json.dump(self.d, f)    # no fsync: a crash, not power loss
        os.replace(tmp, self.path)

    # -- lookups ------------------------------------------------------
    def challenge(self, pk):
        return self.d["challenges"].get(str(pk))

    def is_host(self, user, challenge_pk):
        c = self.challenge(challenge_pk)
        if c is None or user is None:
            return False
        team = self.d["host_teams"].get(str(c["creator"]))
        return team is not None and user["id"] in team["members"]

    def split_for(self, phase_pk, codename):
        for sp in self.d["splits"].values():
            if (sp["challenge_phase"] == phase_pk and
                    sp["dataset_split"]["codename"] == codename):
                return sp
        return None

    # -- submissions --------------------------------------------------
    def put_artifact(self, prefix, text, ext="txt"):
        name = "%s/%s.%s" % (prefix, uuid.uuid4(), ext)
        self.d["artifacts"][name] = text
        return name

    def create_submission(self, a, enqueue=True):
        """Create a submission from a hook or seed record; publish it."""
        phase = self.phase_by(a.get("phase", a.get("challenge_phase")))
        if phase is None:
            raise KeyError("unknown phase")
        c = self.challenge(phase["challenge"])
        team = self.d["participant_teams"].get(str(a["participant_team"]))
        if team is None:
            raise KeyError("unknown participant_team")
        pk = int(a["id"]) if "id" in a else self.next_pk("submission")
        self.bump("submission", pk)
        created_by = int(a.get("created_by", team["members"][0]
                               if team["members"] else 0))
        uri = a.get("submitted_image_uri")
        if uri is None and c["is_docker_based"]:
            repo = re.sub(r"[^a-z0-9._/-]", "-", "%s-participant-team-%d" %
                          (c["slug"], team["id"]))
            uri = "%s/%s:%s" % (c["image_registry"], repo, uuid.uuid4())
        inp = {"submitted_image_uri": uri} if uri is not None else {}
        sub = {k: None for k in SUB_FIELDS}
        sub.update({
            "id": pk, "participant_team": team["id"],
            "challenge_phase": phase["id"], "created_by": created_by,
            "status": a.get("status", "submitted"),
            "input_file": self.put_artifact("submission_files",
                                            json.dumps(inp), "json"),
            "submitted_at": a.get("submitted_at", now_iso()),
            "method_name": a.get("method_name", ""),
            "method_description": a.get("method_description", ""),
            "project_url": a.get("project_url", ""),
            "publication_url": a.get("publication_url", ""),
            "is_public": bool(a.get("is_public", False)),
            "is_flagged": False, "ignore_submission": False,
            "is_baseline": False, "job_name": [],
            "submission_metadata": a.get("submission_metadata"),
            "is_verified_by_host": False,
            # not serialized
            "challenge": c["id"], "submission_metadata_file": None,
            "submitted_image_uri": uri, "messages": [], "updates": []})
        if sub["status"] not in STATUSES:
            raise KeyError("bad status")
        self.d["submissions"][str(pk)] = sub
        if enqueue:
            msg = {"challenge_pk": str(c["id"]),
                   "phase_pk": str(phase["id"]),
                   "is_static_dataset_code_upload_submission":
                   c["is_static_dataset_code_upload"]}
            if c["is_docker_based"]:
                msg["submitted_image_uri"] = uri
            msg["submission_pk"] = pk
            self.publish(sub, msg)
        return sub

    def phase_by(self, ref):
        if ref is None:
            return None
        p = self.d["phases"].get(str(ref))
        if p is not None:
            return p
        for p in self.d["phases"].values():
            if ref in (p["codename"], p["slug"]):
                return p
        return None

    def publish(self, sub, msg):
        body = json.dumps(msg)
        c = self.challenge(sub["challenge"])
        q = self.d["queues"].setdefault(c["queue"] or
                                        "evalai_submission_queue", [])
        q.append({"id": str(uuid.uuid4()), "body": body, "handle": None,
                  "old_handles": [], "visible_at": 0.0,
                  "receive_count": 0, "sent_at": now_iso()})
        sub["messages"].append(body)
        return body

    def rerun(self, sub):
        c = self.challenge(sub["challenge"])
        new = copy.deepcopy(sub)
        pk = self.next_pk("submission")
        new.update({"id": pk, "status": "submitted",
                    "submitted_at": now_iso(), "started_at": None,
                    "completed_at": None, "rerun_resumed_at": now_iso(),
                    "stdout_file": None, "stderr_file": None,
                    "environment_log_file": None,
                    "submission_result_file": None,
                    "submission_metadata_file": None, "job_name": [],
                    "messages": [], "updates": []})
        self.d["submissions"][str(pk)] = new
        sub["status"] = "cancelled"
        self.publish(new, self.rr_msg(c, new))
        return new

    def resume(self, sub):
        c = self.challenge(sub["challenge"])
        sub["status"] = "resuming"
        sub["rerun_resumed_at"] = now_iso()
        self.publish(sub, self.rr_msg(c, sub))
        return sub

    @staticmethod
    def rr_msg(c, sub):
        msg = {"challenge_pk": c["id"], "phase_pk": sub["challenge_phase"],
               "submission_pk": sub["id"],
               "is_static_dataset_code_upload_submission":
               c["is_static_dataset_code_upload"]}
        if sub.get("submitted_image_uri") is not None:
            msg["submitted_image_uri"] = sub["submitted_image_uri"]
        return msg


def exec_time(sub):
    s, c = sub.get("started_at"), sub.get("completed_at")
    if s is None or c is None:
        return "None"
    return (parse_iso(c) - parse_iso(s)).total_seconds()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle on, the body of
    # an answer on a kept-alive connection waits for the client's
    # delayed ACK (40 ms), which no real server makes its clients do
    disable_nagle_algorithm = True
    server_version = "evalai-emulator"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    # -- plumbing -----------------------------------------------------
    @property
    def st(self):
        return self.server.state

    def base(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def url(self, name):
        if name is None:
            return None
        return "%s/_emu/artifacts/%s" % (self.base(), name)

    def reply(self, status, body=None, ctype="application/json",
              headers=None):
        if isinstance(body, (bytes, bytearray)):
            raw = bytes(body)
        elif body is None:
            raw = b""
        else:
            raw = json.dumps(body).encode()
        self.resp = (status, raw, ctype, headers or {})

    def send_resp(self, truncate=False):
        status, raw, ctype, headers = self.resp
        self.send_response(status)
        if raw or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if truncate:
            self.wfile.write(raw[:len(raw) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(raw)

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self):
        return self.server_version

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def handle_any(self):
        # one handler object serves every request of a keep-alive connection
        self.update_kind = self.user_id = None
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            # nginx in front of EvalAI; the body is not read
            self.reply(413, b"<html><head><title>413 Request Entity Too "
                       b"Large</title></head><body></body></html>\n",
                       "text/html")
            self.close_connection = True
            self.send_resp()
            return
        self.raw = self.read_body()
        u = urlsplit(self.path)
        # Django routes the decoded path
        self.p, self.qs = unquote(u.path), parse_qs(u.query)
        if self.p.startswith("/_emu/") or self.p == "/_emu":
            with self.st.lock:
                try:
                    self.hook()
                except Exception as e:      # bad hook input, whatever it was
                    self.reply(400, {"error": "hook: %s: %s" %
                                     (type(e).__name__, e)})
                self.st.save()
            self.send_resp()
            return
        fault = self.take_fault()
        if fault and fault.get("when", "before") == "before":
            if self.apply_fault(fault, before=True):
                return
        with self.st.lock:
            try:
                self.api()
            except ServerError:
                self.reply(500, HTML500, "text/html; charset=utf-8")
            except Exception:
                import traceback
                traceback.print_exc()
                self.reply(500, HTML500, "text/html; charset=utf-8")
            self.st.save()
            entry = {"seq": self.st.next_seq(), "time": now_iso(),
                     "method": self.command, "path": self.path,
                     "status": self.resp[0],
                     "body": self.raw.decode("utf-8", "replace"),
                     "response": self.resp[1].decode("utf-8", "replace"),
                     "user": getattr(self, "user_id", None)}
            if fault:
                entry["fault"] = fault["action"]
            uk = getattr(self, "update_kind", None)
            if uk:
                entry["submission"], entry["update"] = uk
            self.st.log.append(entry)
        if fault:
            self.apply_fault(fault, before=False)
            return
        self.send_resp()

    # -- faults -------------------------------------------------------
    def take_fault(self):
        with self.st.lock:
            for f in self.st.faults:
                if f.get("method") and f["method"] != self.command:
                    continue
                if f.get("path") and not re.search(f["path"], self.path):
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    self.st.faults.remove(f)
                return dict(f)
        return None

    def apply_fault(self, f, before):
        """Act out fault F; True if the request must not be handled."""
        a = str(f["action"])
        if a == "slow":
            time.sleep(float(f.get("sleep", 5)))
            if before:
                return False
            self.send_resp()
            return True
        if before:
            with self.st.lock:
                self.st.log.append({
                    "seq": self.st.next_seq(), "time": now_iso(),
                    "method": self.command, "path": self.path,
                    "status": int(a) if a.isdigit() else None,
                    "body": self.raw.decode("utf-8", "replace"),
                    "response": "", "user": None, "fault": a})
        if a == "reset":
            self.reset()
            return True
        if a == "truncate":
            if before:
                self.reply(200, SUCCESS)
            self.send_resp(truncate=True)
            return True
        code = int(a)
        hdr = {}
        if code == 429:
            hdr["Retry-After"] = str(f.get("retry_after", 1))
            self.reply(429, {"detail": "Request was throttled. Expected "
                             "available in %s second%s." %
                             (hdr["Retry-After"],
                              "" if hdr["Retry-After"] == "1" else "s")},
                       headers=hdr)
        else:
            self.reply(code, (b"<html><head><title>%d</title></head><body>"
                              b"<h1>%d</h1></body></html>\n") % (code, code),
                       "text/html")
        self.send_resp()
        return True

    # -- request body -------------------------------------------------
    def data(self):
        if not self.raw:
            return {}
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct in ("", "application/json"):
            try:
                v = json.loads(self.raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise Reply(400, {"detail": "JSON parse error - %s" % e})
            return v
        if ct == "application/x-www-form-urlencoded":
            q = parse_qs(self.raw.decode("utf-8", "replace"),
                         keep_blank_values=True)
            return {k: v[-1] for k, v in q.items()}
        if ct == "multipart/form-data":
            return self.multipart()
        raise Reply(415, {"detail": "Unsupported media type \"%s\" in "
                          "request." % self.headers.get("Content-Type")})

    def body_object(self):
        """request.data.get(...): a body that is no object crashes."""
        d = self.data()
        if not isinstance(d, dict):
            raise ServerError("body is not an object")
        return d

    def multipart(self):
        import email.parser
        import email.policy
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() +
            b"\r\n\r\n" + self.raw)
        out = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[name] = part.get_payload(decode=True).decode(
                    "utf-8", "replace")
        return out

    # -- authentication, throttle --------------------------------------
    def authenticate(self):
        """DRF: JWT, then the legacy token backend; None if anonymous."""
        h = self.headers.get("Authorization")
        if not h:
            return None
        parts = h.split()
        if not parts:
            return None
        if parts[0] == "Bearer":
            if len(parts) != 2:
                raise Reply(401, {"detail": "Authorization header must "
                                  "contain two space-delimited values",
                                  "code": "bad_authorization_header"},
                            headers={"WWW-Authenticate":
                                     'Bearer realm="api"'})
            t = self.st.d["tokens"].get(parts[1])
            why = None
            if t is None:
                why = "Token is invalid or expired"
            elif t.get("blacklisted"):
                why = "Token is blacklisted"
            elif t.get("type", "refresh") != "refresh":
                why = "Token has wrong type"
            if why:
                raise Reply(401, {
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{"token_class": "RefreshToken",
                                  "token_type": "refresh",
                                  "message": why}]},
                    headers={"WWW-Authenticate": 'Bearer realm="api"'})
            u = self.st.d["users"].get(str(t["user"]))
            if u is None:
                raise Reply(401, {"detail": "User not found",
                                  "code": "user_not_found"},
                            headers={"WWW-Authenticate":
                                     'Bearer realm="api"'})
            if not u["is_active"]:
                raise Reply(401, {"detail": "User is inactive",
                                  "code": "user_inactive"},
                            headers={"WWW-Authenticate":
                                     'Bearer realm="api"'})
            return u
        if parts[0].lower() == "token":
            # DRF's TokenAuthentication: it knows no JWT, so all fail
            why = "Invalid token"
            if len(parts) == 1:
                why = "Invalid token header. No credentials provided."
            elif len(parts) > 2:
                why = ("Invalid token header. Token string should not "
                       "contain spaces.")
            raise Reply(401, {"detail": why},
                        headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return None         # an unknown scheme ("bearer" too): anonymous

    def throttle(self, user):
        rate = self.st.throttle
        if not rate or user is None:
            return
        now = time.time()
        hist = [t for t in self.st.windows.get(user["id"], [])
                if t > now - 60]
        if len(hist) >= rate:
            wait = (60 - (now - hist[0])) / float(rate - len(hist) + 1)
            w = max(1, int(math.ceil(wait)))
            self.st.windows[user["id"]] = hist
            raise Reply(429, {"detail": "Request was throttled. Expected "
                              "available in %d second%s." %
                              (w, "" if w == 1 else "s")},
                        headers={"Retry-After": str(w)})
        hist.append(now)
        self.st.windows[user["id"]] = hist

    # -- routing ------------------------------------------------------
    def api(self):
        try:
            self.route()
        except Reply as r:
            self.reply(r.status, r.body, headers=r.headers)

    def route(self):
        p = self.p
        for rx, slash, methods, public in ROUTES:
            m = re.fullmatch(rx, p)
            if m is None and slash and not p.endswith("/"):
                if re.fullmatch(rx, p + "/"):
                    q = urlsplit(self.path).query
                    self.reply(301, b"", "text/html; charset=utf-8",
                               {"Location": p + "/" + ("?" + q if q
                                                       else "")})
                    return
            if m is None:
                continue
            user = self.authenticate()
            self.user_id = user and user["id"]
            if not public:
                if user is None:
                    raise Reply(401, {"detail": "Authentication "
                                      "credentials were not provided."},
                                headers={"WWW-Authenticate":
                                         'Bearer realm="api"'})
                if not user["email_verified"]:
                    raise Reply(403, {"detail": "Please verify your email!"})
            self.throttle(user)
            fn = methods.get(self.command)
            if fn is None:
                raise Reply(405, {"detail": "Method \"%s\" not allowed." %
                                  self.command})
            fn(self, user, *m.groups())
            return
        self.reply(404, HTML404, "text/html; charset=utf-8")

    # -- serializers --------------------------------------------------
    def ser_sub(self, sub, host):
        team = self.st.d["participant_teams"].get(
            str(sub["participant_team"]), {})
        out = {}
        for k in SUB_FIELDS:
            if k == "participant_team_name":
                out[k] = team.get("team_name")
            elif k == "execution_time":
                out[k] = exec_time(sub)
            elif k == "environment_log_file" and not host:
                continue
            elif k in FILE_FIELDS:
                out[k] = self.url(sub[k])
            else:
                out[k] = sub[k]
        return out

    def ser_phase(self, ph, host):
        out = {}
        for k in PHASE_FIELDS + (PHASE_HOST_FIELDS if host else ()):
            out[k] = ph.get(k, PHASE_DEFAULTS.get(k))
        return out

    def sub_or_404(self, pk, key="detail"):
        sub = self.st.d["submissions"].get(str(as_pk(pk)))
        if sub is None:
            raise Reply(404, {key: "Submission %s does not exist" % (pk,)})
        return sub

    # -- handlers: jobs -------------------------------------------------
    def get_submission(self, user, pk):
        sub = self.sub_or_404(pk, "error")
        host = self.st.is_host(user, sub["challenge"])
        if not host and sub["created_by"] != user["id"]:
            raise Reply(401, {"error": "Sorry, you are not authorized to "
                              "access this submission."})
        self.reply(200, self.ser_sub(sub, host))

    def hide_submission(self, user, pk):
        sub = self.sub_or_404(pk, "error")
        host = self.st.is_host(user, sub["challenge"])
        if not host and sub["created_by"] != user["id"]:
            raise Reply(401, {"error": "Sorry, you are not authorized to "
                              "access this submission."})
        sub["ignore_submission"] = True
        self.reply(204)

    def strict_check(self, sub, new, challenge_pk, phase_pk):
        if not self.st.strict:
            return
        if sub["challenge"] != int(challenge_pk):
            raise Reply(400, {"error": "Submission %d does not belong to "
                              "challenge %s" % (sub["id"], challenge_pk)})
        if phase_pk is not None and sub["challenge_phase"] != phase_pk:
            raise Reply(400, {"error": "Submission %d does not belong to "
                              "challenge phase %s" % (sub["id"], phase_pk)})
        old = sub["status"]
        if new != old and new not in STRICT_NEXT.get(old, ()):
            raise Reply(400, {"error": "Submission status transition %s -> "
                              "%s is not allowed" % (old, new)})

    def record(self, sub, kind, status):
        self.update_kind = (sub["id"], kind)
        sub["updates"].append({"time": now_iso(), "kind": kind,
                               "method": self.command, "path": self.p,
                               "status": status})

    def check_results(self, d, phase_pk, partial):
        """Steps 5-8 of the PUT: parse result, check every entry."""
        try:
            results = json.loads(d.get("result", ""))
        except (ValueError, TypeError) as e:
            raise Reply(400, {"error": "`result` key contains invalid data "
                              "with error %s.Please try again with correct "
                              "format." % e})
        out = []
        try:
            for entry in results:
                split = entry.get("split")
                acc = entry.get("accuracies")
                show = entry.get("show_to_participant", False)
                sp = self.st.split_for(as_pk(phase_pk), split)
                if sp is None:
                    raise Reply(400, {"error": "Challenge Phase Split does "
                                      "not exist with phase_id: %s andsplit "
                                      "codename: %s" % (phase_pk, split)})
                labels = sp["leaderboard"]["schema"].get("labels")
                missing, bad = [], []
                for k, v in acc.items():
                    if k not in labels:
                        missing.append(k)
                    if not isinstance(v, (int, float)):
                        bad.append((k, type(v)))
                ph = self.st.d["phases"][str(sp["challenge_phase"])]
                lenient = partial and ph.get(
                    "is_partial_submission_evaluation_enabled", False)
                if missing and not lenient:
                    tail = (" of challenge phase: %s" % phase_pk
                            if partial else "")
                    raise Reply(400, {"error": "Following metrics are "
                                      "missing in theleaderboard data: "
                                      "%s%s" % (missing, tail)})
                if bad:
                    raise Reply(400, {"error": "Values for following "
                                      "metrics are not offloat/int: %s" %
                                      bad})
                for v in acc.values():
                    if isinstance(v, float) and not math.isfinite(v):
                        raise ServerError("not finite")
                out.append((sp, acc, show))
        except (AttributeError, TypeError, KeyError):
            raise ServerError("malformed result")
        return out

    def write_rows(self, sub, rows):
        for sp, acc, show in rows:
            key = "%d:%d" % (sub["id"], sp["id"])
            lb = self.st.d["leaderboard"]
            if key in lb:
                lb[key]["result"] = acc
                lb[key]["updated_at"] = now_iso()
            else:
                lb[key] = {"id": self.st.next_pk("leaderboard"),
                           "submission": sub["id"],
                           "challenge_phase_split": sp["id"],
                           "leaderboard": sp["leaderboard"]["id"],
                           "result": acc, "error": None,
                           "created_at": now_iso(),
                           "updated_at": now_iso()}

    def result_file(self, rows):
        return repr([acc for sp, acc, show in rows if show])

    def update_put(self, user, challenge_pk, partial):
        host = self.st.is_host(user, challenge_pk)
        if not host and (partial or not user["is_staff"]):
            raise Reply(400, NOT_AUTH_REQ)
        d = self.body_object()
        status = lower(d.get("submission_status", ""))
        for k in ("stdout", "stderr") + (() if partial else
                                          ("environment_log",)):
            if not isinstance(d.get(k, ""), str):
                raise ServerError("%s is not a string" % k)
        sub = self.sub_or_404(d.get("submission"))
        allowed = TERMINAL + (("partially_evaluated",) if partial else ())
        if status not in allowed:
            raise Reply(400, {"error": "Sorry, submission status is "
                              "invalid"})
        phase_pk = d.get("challenge_phase")
        rows = []
        if status in ("finished", "partially_evaluated"):
            rows = self.check_results(d, phase_pk, partial)
        self.strict_check(sub, status, challenge_pk,
                          as_pk(phase_pk) if rows else None)
        # everything checked: write
        sub["status"] = status
        sub["completed_at"] = now_iso()
        sub["stdout_file"] = self.st.put_artifact(
            "submission_files/stdout", d.get("stdout", ""))
        sub["stderr_file"] = self.st.put_artifact(
            "submission_files/stderr", d.get("stderr", ""))
        if not partial:
            sub["environment_log_file"] = self.st.put_artifact(
                "submission_files/environment_log",
                d.get("environment_log", ""))
        sub["submission_result_file"] = self.st.put_artifact(
            "submission_files/result", self.result_file(rows), "json")
        sub["submission_metadata_file"] = self.st.put_artifact(
            "submission_files/metadata", str(d.get("metadata", "")), "json")
        self.write_rows(sub, rows)
        self.record(sub, "final" if status in TERMINAL else "partial",
                    status)
        self.reply(200, SUCCESS)

    def update_patch_running(self, user, sub, status, d, challenge_pk):
        self.strict_check(sub, status, challenge_pk, None)
        sub["status"] = status
        sub["started_at"] = now_iso()
        jn = d.get("job_name")
        if jn:
            sub["job_name"] = (sub["job_name"] or []) + [str(jn).lower()]
        self.record(sub, "running", status)
        self.reply(200, self.ser_sub(sub, True))

    def update_submission_put(self, user, challenge_pk):
        self.update_put(user, challenge_pk, False)

    def update_submission_patch(self, user, challenge_pk):
        if not self.st.is_host(user, challenge_pk) and not user["is_staff"]:
            raise Reply(400, NOT_AUTH_REQ)
        d = self.body_object()
        status = lower(d.get("submission_status", ""))
        sub = self.sub_or_404(d.get("submission"))
        if status not in ("queued", "running"):
            raise Reply(400, {"error": "Sorry, submission status is "
                              "invalid"})
        self.update_patch_running(user, sub, status, d, challenge_pk)

    def partial_put(self, user, challenge_pk):
        self.update_put(user, challenge_pk, True)

    def partial_patch(self, user, challenge_pk):
        if not self.st.is_host(user, challenge_pk):
            raise Reply(400, NOT_AUTH_REQ)
        d = self.body_object()
        status = lower(d.get("submission_status", ""))
        for k in ("stdout", "stderr"):
            if not isinstance(d.get(k, ""), str):
                raise ServerError("%s is not a string" % k)
        sub = self.sub_or_404(d.get("submission"))
        if status not in ("running", "partially_evaluated", "finished"):
            raise Reply(400, {"error": "Sorry, submission status is "
                              "invalid"})
        if status == "running":
            self.update_patch_running(user, sub, status, d, challenge_pk)
            return
        phase_pk = d.get("challenge_phase")
        rows = self.check_results(d, phase_pk, True)
        lb = self.st.d["leaderboard"]
        for sp, acc, show in rows:
            if "%d:%d" % (sub["id"], sp["id"]) not in lb:
                raise Reply(400, {"error": "Leaderboard Data does not exist "
                                  "with phase_id: %s andsubmission id: %s" %
                                  (phase_pk, d.get("submission"))})
        self.strict_check(sub, status, challenge_pk, as_pk(phase_pk))
        for sp, acc, show in rows:
            row = lb["%d:%d" % (sub["id"], sp["id"])]
            row["result"] = dict(row["result"], **acc)
            row["updated_at"] = now_iso()
        sub["status"] = status
        sub["stdout_file"] = self.st.put_artifact(
            "submission_files/stdout", d.get("stdout", ""))
        sub["stderr_file"] = self.st.put_artifact(
            "submission_files/stderr", d.get("stderr", ""))
        sub["submission_result_file"] = self.st.put_artifact(
            "submission_files/result", self.result_file(rows), "json")
        self.record(sub, "final" if status in TERMINAL else "partial",
                    status)
        self.reply(200, SUCCESS)

    def started_at(self, user, pk):
        sub = self.st.d["submissions"].get(str(as_pk(pk)))
        if sub is None:
            raise Reply(403, {"error": "Submission does not exist"})
        sub["started_at"] = now_iso()
        self.reply(200, self.ser_sub(sub, self.st.is_host(
            user, sub["challenge"])))

    def submission_meta(self, user, challenge_pk, pk):
        if self.st.challenge(challenge_pk) is None:
            raise Reply(404, {"detail": "Challenge %s does not exist" %
                              challenge_pk})
        sub = self.sub_or_404(pk)
        host = self.st.is_host(user, challenge_pk)
        if not host and sub["created_by"] != user["id"]:
            raise Reply(400, {"error": "Sorry, you are not authorized to "
                              "make this request"})
        d = self.body_object()
        if "status" in d and d["status"] not in STATUSES:
            raise Reply(400, {"status": ["\"%s\" is not a valid choice." %
                                         d["status"]]})
        for k in META_WRITABLE:
            if k in d:
                sub[k] = d[k]
        self.reply(200, self.ser_sub(sub, host))

    def list_submissions(self, user, challenge_pk):
        if self.st.challenge(challenge_pk) is None:
            raise Reply(404, {"detail": "Challenge %s does not exist" %
                              challenge_pk})
        if not self.st.is_host(user, challenge_pk) and not user["is_staff"]:
            raise Reply(400, {"error": "Sorry, you are not authorized to "
                              "make this request"})
        subs = [s for s in self.st.d["submissions"].values()
                if s["challenge"] == int(challenge_pk)]
        want = self.qs.get("status", [None])[-1]
        if want is not None:
            if want not in ("submitted", "running", "queued", "resuming",
                            "failed", "cancelled", "finished", "submitting"):
                raise Reply(400, {"error": "Invalid submission status %s" %
                                  want})
            subs = [s for s in subs if s["status"] == want]
        for key, cmp in (("submitted_after", 1), ("submitted_before", -1)):
            v = self.qs.get(key, [None])[-1]
            if v is None:
                continue
            try:
                t = datetime.fromisoformat(v.replace("Z", "+00:00"))
                if t.tzinfo is None:
                    t = t.replace(tzinfo=timezone.utc)
            except ValueError:
                raise Reply(400, {"error": "Invalid %s datetime %s" %
                                  (key, v)})
            subs = [s for s in subs
                    if (parse_iso(s["submitted_at"]) - t).total_seconds() *
                    cmp > 0]
        subs.sort(key=lambda s: s["id"])
        self.reply(200, [self.ser_sub(s, True) for s in subs])

    def rerun_rest(self, user, pk):
        sub = self.sub_or_404(pk)
        c = self.st.challenge(sub["challenge"])
        host = self.st.is_host(user, c["id"])
        if not host and not c["allow_participants_resubmissions"]:
            raise Reply(403, {"error": "Only challenge hosts are allowed to "
                              "re-run a submission"})
        if not c["is_active"]:
            raise Reply(403, {"error": "Challenge is not active"})
        self.st.rerun(sub)
        self.reply(200, {"success": "Submission is successfully submitted "
                         "for re-running"})

    def resume_rest(self, user, pk):
        sub = self.sub_or_404(pk)
        c = self.st.challenge(sub["challenge"])
        host = self.st.is_host(user, c["id"])
        if not host and not c["allow_participants_resubmissions"]:
            raise Reply(403, {"error": "Only challenge hosts are allowed to "
                              "resume a submission"})
        if not c["is_active"]:
            raise Reply(403, {"error": "Challenge is not active"})
        if sub["status"] != "failed":
            raise Reply(400, {"error": "Only failed submissions can be "
                              "resumed"})
        if not (c["remote_evaluation"] and c["allow_resuming_submissions"]):
            raise Reply(400, {"error": "Challenge does not allow resuming "
                              "submissions"})
        self.st.resume(sub)
        self.reply(200, {"success": "Submission is successfully submitted "
                         "for resuming"})

    # -- queue API ------------------------------------------------------
    def queue_challenge(self, q):
        for c in self.st.d["challenges"].values():
            if c["queue"] == q:
                return c
        return None

    def queue_receive(self, user, q):
        c = self.queue_challenge(q)
        if c is None:
            raise Reply(400, {"error": "Challenge with queue name %s does "
                              "not exist" % q})
        if not self.st.is_host(user, c["id"]):
            raise Reply(401, NOT_AUTH_RES)
        now = time.time()
        for m in self.st.d["queues"].setdefault(q, []):
            if m["visible_at"] <= now:
                try:
                    body = json.loads(m["body"])
                except ValueError:
                    raise ServerError("message body is not JSON")
                if m["handle"]:
                    m["old_handles"].append(m["handle"])
                m["handle"] = "AQEB%s/%s+%d==" % (
                    uuid.uuid4().hex, uuid.uuid4().hex[:12],
                    m["receive_count"])
                m["receive_count"] += 1
                m["visible_at"] = now + self.st.visibility
                self.reply(200, {"body": body, "receipt_handle": m["handle"]})
                return
        self.reply(200, {"body": None, "receipt_handle": None})

    def queue_delete(self, user, q):
        c = self.queue_challenge(q)
        if c is None:
            raise Reply(400, {"error": "Challenge with queue name %s does "
                              "not exists" % q})
        if not self.st.is_host(user, c["id"]):
            raise Reply(401, NOT_AUTH_RES)
        d = self.data()
        if not isinstance(d, dict) or "receipt_handle" not in d:
            raise ServerError("KeyError: receipt_handle")
        h = d["receipt_handle"]
        if not h:
            raise Reply(400, {"error": "Please add message receipt handle "
                              "in the body"})
        msgs = self.st.d["queues"].setdefault(q, [])
        for m in msgs:
            if m["handle"] == h:
                msgs.remove(m)
                break
            if h in m["old_handles"]:
                break           # stale handle: SQS accepts it, no effect
        else:
            raise ServerError("ReceiptHandleIsInvalid")
        self.reply(200, {"success": "Message deleted successfully from the "
                         "queue: %s" % q})

    # -- handlers: challenges --------------------------------------------
    def phase_by_pk(self, user, pk):
        ph = self.st.d["phases"].get(str(int(pk)))
        if ph is None:
            raise Reply(404, {"detail": "ChallengePhase %s does not exist" %
                              pk})
        self.reply(200, self.ser_phase(ph, False))

    def phase_by_slug(self, user, slug):
        for ph in self.st.d["phases"].values():
            if ph["slug"] == slug:
                self.reply(200, self.ser_phase(ph, False))
                return
        raise Reply(404, {"detail": "ChallengePhase %s does not exist" %
                          slug})

    def phase_detail(self, user, challenge_pk, pk):
        if self.st.challenge(challenge_pk) is None:
            raise Reply(406, {"error": "Challenge does not exist"})
        ph = self.st.d["phases"].get(str(int(pk)))
        if ph is None or ph["challenge"] != int(challenge_pk):
            raise Reply(406, {"error": "Challenge phase %s does not exist "
                              "for challenge %s" % (pk, challenge_pk)})
        self.reply(200, self.ser_phase(ph, self.st.is_host(user,
                                                           challenge_pk)))

    def phases(self, user, challenge_pk):
        if self.st.challenge(challenge_pk) is None:
            raise Reply(404, {"detail": "Challenge %s does not exist" %
                              challenge_pk})
        if not self.st.is_host(user, challenge_pk):
            raise Reply(401, {"error": "Sorry, you are not authorized to "
                              "access these challenge phases."})
        out = [self.ser_phase(p, True)
               for p in sorted(self.st.d["phases"].values(),
                               key=lambda p: p["id"])
               if p["challenge"] == int(challenge_pk)]
        self.reply(200, out)

    def phase_splits(self, user, challenge_pk):
        out = []
        for sp in sorted(self.st.d["splits"].values(), key=lambda s: s["id"]):
            ph = self.st.d["phases"].get(str(sp["challenge_phase"]))
            if ph is None or ph["challenge"] != int(challenge_pk):
                continue
            out.append({
                "id": sp["id"], "dataset_split": sp["dataset_split"]["id"],
                "challenge_phase": ph["id"], "challenge_phase_name":
                ph["name"], "dataset_split_name":
                sp["dataset_split"]["name"], "visibility": sp["visibility"],
                "show_leaderboard_by_latest_submission":
                sp["show_leaderboard_by_latest_submission"],
                "show_execution_time": sp["show_execution_time"],
                "show_scores_on_leaderboard":
                sp["show_scores_on_leaderboard"],
                "leaderboard_schema": sp["leaderboard"]["schema"],
                "is_multi_metric_leaderboard":
                sp["is_multi_metric_leaderboard"]})
        self.reply(200, out)

    def challenge_by_queue(self, user, q):
        c = self.queue_challenge(q)
        if c is None:
            raise Reply(400, {"error": "Challenge with queue name %s does "
                              "not exist" % q})
        if not self.st.is_host(user, c["id"]):
            raise Reply(401, NOT_AUTH_RES)
        team = self.st.d["host_teams"].get(str(c["creator"]), {})
        self.reply(200, {
            "id": c["id"], "title": c["title"], "slug": c["slug"],
            "creator": {"id": c["creator"],
                        "team_name": team.get("team_name")},
            "is_active": c["is_active"], "queue": c["queue"],
            "is_docker_based": c["is_docker_based"],
            "is_static_dataset_code_upload":
            c["is_static_dataset_code_upload"],
            "remote_evaluation": c["remote_evaluation"]})

    # -- hooks ----------------------------------------------------------
    def hook(self):
        p, m, st = self.p, self.command, self.st
        body = json.loads(self.raw.decode("utf-8")) if self.raw else {}
        subm = re.fullmatch(r"/_emu/submissions/([0-9]+)(/[a-z]+)?", p)
        qm = re.fullmatch(r"/_emu/queues/([\w.-]+)(/[a-z]+)?", p)
        if p == "/_emu/health":
            self.reply(200, {"ok": True, "pid": os.getpid()})
        elif p == "/_emu/state" and m == "GET":
            self.reply(200, st.d)
        elif p == "/_emu/seed" and m == "POST":
            if self.qs.get("reset"):
                st.d = st.empty()
            st.seed(body)
            self.reply(200, {"ok": True})
        elif p == "/_emu/reset" and m == "POST":
            st.d = copy.deepcopy(st.initial)
            st.log, st.faults, st.windows = [], [], {}
            self.reply(200, {"ok": True})
        elif p == "/_emu/submissions" and m == "POST":
            try:
                sub = st.create_submission(body, body.get("enqueue", True))
            except KeyError as e:
                self.reply(400, {"error": str(e)})
                return
            self.reply(201, {"submission": self.ser_sub(sub, True),
                             "message": sub["messages"][-1]
                             if sub["messages"] else None})
        elif subm:
            self.hook_submission(int(subm.group(1)), subm.group(2), m, body)
        elif p == "/_emu/log" and m == "GET":
            since = int(self.qs.get("since", ["0"])[-1])
            self.reply(200, [e for e in st.log if e["seq"] > since])
        elif p == "/_emu/log" and m == "DELETE":
            st.log = []
            self.reply(200, {"ok": True})
        elif p == "/_emu/faults" and m == "POST":
            f = {"count": int(body.get("count", 1)),
                 "action": str(body["action"]),
                 "path": body.get("path"), "method": body.get("method"),
                 "sleep": float(body.get("sleep", 5)),
                 "when": body.get("when", "before"),
                 "retry_after": int(body.get("retry_after", 1))}
            a = f["action"]
            if a not in ("reset", "slow", "truncate") and not a.isdigit():
                raise ValueError("unknown action %s" % a)
            if f["path"]:
                re.compile(f["path"])
            st.faults.append(f)
            self.reply(200, f)
        elif p == "/_emu/faults" and m == "GET":
            self.reply(200, st.faults)
        elif p == "/_emu/faults" and m == "DELETE":
            st.faults = []
            self.reply(200, {"ok": True})
        elif p == "/_emu/config" and m == "POST":
            if "throttle" in body:
                st.throttle = int(body["throttle"])
            if body.get("throttle_reset"):
                st.windows = {}
            if "strict" in body:
                st.strict = bool(body["strict"])
            if "visibility" in body:
                st.visibility = float(body["visibility"])
            self.reply(200, self.config())
        elif p == "/_emu/config" and m == "GET":
            self.reply(200, self.config())
        elif p == "/_emu/tokens" and m == "POST":
            t = st.d["tokens"].get(body["token"])
            if t is None:
                t = st.d["tokens"][body["token"]] = {
                    "user": int(body["user"]), "blacklisted": False,
                    "type": "refresh"}
            for k in ("user", "blacklisted", "type"):
                if k in body:
                    t[k] = body[k]
            self.reply(200, {"ok": True})
        elif p == "/_emu/users" and m == "POST":
            u = st.d["users"][str(int(body["id"]))]
            for k in ("is_active", "email_verified", "is_staff"):
                if k in body:
                    u[k] = bool(body[k])
            self.reply(200, u)
        elif p == "/_emu/leaderboard" and m == "GET":
            self.reply(200, self.leaderboard())
        elif p.startswith("/_emu/artifacts/") and m == "GET":
            a = st.d["artifacts"].get(p[len("/_emu/artifacts/"):])
            if a is None:
                self.reply(404, {"error": "no such artifact"})
            else:
                self.reply(200, a.encode(), "text/plain; charset=utf-8")
        elif qm:
            self.hook_queue(qm.group(1), qm.group(2), m, body)
        else:
            self.reply(404, {"error": "no such hook %s %s" % (m, p)})

    def config(self):
        st = self.st
        return {"throttle": st.throttle, "strict": st.strict,
                "visibility": st.visibility}

    def leaderboard(self):
        st = self.st
        want_c = self.qs.get("challenge", [None])[-1]
        want_p = self.qs.get("phase", [None])[-1]
        out = []
        for row in sorted(st.d["leaderboard"].values(),
                          key=lambda r: r["id"]):
            sp = st.d["splits"][str(row["challenge_phase_split"])]
            ph = st.d["phases"][str(sp["challenge_phase"])]
            sub = st.d["submissions"][str(row["submission"])]
            if want_c and str(ph["challenge"]) != want_c:
                continue
            if want_p and want_p not in (str(ph["id"]), ph["codename"]):
                continue
            r = dict(row)
            r.update({"challenge": ph["challenge"], "phase": ph["id"],
                      "phase_codename": ph["codename"],
                      "split": sp["dataset_split"]["codename"],
                      "submission_status": sub["status"],
                      "participant_team": sub["participant_team"]})
            out.append(r)
        return out

    def hook_submission(self, pk, what, m, body):
        st = self.st
        sub = st.d["submissions"].get(str(pk))
        if sub is None:
            self.reply(404, {"error": "no submission %d" % pk})
            return
        if what is None and m == "GET":
            full = self.ser_sub(sub, True)
            full.update({k: sub[k] for k in ("challenge", "messages",
                                              "updates",
                                              "submitted_image_uri")})
            full["submission_metadata_file"] = self.url(
                sub["submission_metadata_file"])
            self.reply(200, full)
        elif what == "/message" and m == "GET":
            if not sub["messages"]:
                self.reply(404, {"error": "no message for %d" % pk})
            elif self.qs.get("all"):
                self.reply(200, sub["messages"])
            else:
                self.reply(200, sub["messages"][-1].encode())
        elif what == "/updates" and m == "GET":
            ups = sub["updates"]
            self.reply(200, {"final": [u for u in ups if u["kind"] ==
                                       "final"],
                             "partial": [u for u in ups if u["kind"] ==
                                         "partial"],
                             "running": [u for u in ups if u["kind"] ==
                                         "running"]})
        elif what == "/status" and m == "POST":
            if body.get("status") not in STATUSES:
                raise ValueError("bad status %r" % body.get("status"))
            sub["status"] = body["status"]
            self.reply(200, self.ser_sub(sub, True))
        elif what == "/cancel" and m == "POST":
            sub["status"] = "cancelled"
            self.reply(200, self.ser_sub(sub, True))
        elif what == "/rerun" and m == "POST" and body.get("same_pk"):
            sub["status"] = "submitted"
            sub["rerun_resumed_at"] = now_iso()
            st.publish(sub, st.rr_msg(st.challenge(sub["challenge"]), sub))
            self.reply(200, {"submission": self.ser_sub(sub, True),
                             "message": sub["messages"][-1]})
        elif what == "/rerun" and m == "POST":
            new = st.rerun(sub)
            self.reply(200, {"submission": self.ser_sub(new, True),
                             "message": new["messages"][-1]})
        elif what == "/resume" and m == "POST":
            st.resume(sub)
            self.reply(200, {"submission": self.ser_sub(sub, True),
                             "message": sub["messages"][-1]})
        elif what == "/publish" and m == "POST":
            c = st.challenge(sub["challenge"])
            body = (st.rr_msg(c, sub) if body.get("ints")
                    else json.loads(sub["messages"][0]))
            st.publish(sub, body)
            self.reply(200, {"message": sub["messages"][-1]})
        else:
            self.reply(404, {"error": "no such hook %s %s" % (m, self.p)})

    def hook_queue(self, q, what, m, body):
        msgs = self.st.d["queues"].setdefault(q, [])
        if what is None and m == "GET":
            now = time.time()
            self.reply(200, [{"id": x["id"], "body": x["body"],
                              "receipt_handle": x["handle"],
                              "receive_count": x["receive_count"],
                              "in_flight": x["visible_at"] > now}
                             for x in msgs])
        elif what == "/expire" and m == "POST":
            for x in msgs:
                x["visible_at"] = 0.0
            self.reply(200, {"ok": True})
        elif what == "/send" and m == "POST":
            # any body text, e.g. a hostile or malformed message
            msgs.append({"id": str(uuid.uuid4()), "body": body["body"],
                         "handle": None, "old_handles": [],
                         "visible_at": 0.0, "receive_count": 0,
                         "sent_at": now_iso()})
            self.reply(200, {"id": msgs[-1]["id"]})
        elif what == "/purge" and m == "POST":
            del msgs[:]
            self.reply(200, {"ok": True})
        else:
            self.reply(404, {"error": "no such hook %s %s" % (m, self.p)})


class Reply(Exception):
    def __init__(self, status, body, headers=None):
        Exception.__init__(self, status)
        self.status, self.body, self.headers = status, body, headers or {}


H = Handler
NUM = r"([0-9]+)"
QN = r"([\w.-]+)"
# (regex, ends with slash, {method: handler}, public)
ROUTES = [
    (r"/api/jobs/submission/" + NUM, False,
     {"GET": H.get_submission, "DELETE": H.hide_submission}, False),
    (r"/api/jobs/challenge/" + NUM + "/update_submission/", True,
     {"PUT": H.update_submission_put, "PATCH": H.update_submission_patch},
     False),
    (r"/api/jobs/challenges/" + NUM +
     "/update_partially_evaluated_submission/", True,
     {"PUT": H.partial_put, "PATCH": H.partial_patch}, False),
    (r"/api/jobs/submission/" + NUM + "/update_started_at/", True,
     {"PATCH": H.started_at}, False),
    (r"/api/jobs/challenges/" + NUM + "/submissions/" + NUM +
     "/update_submission_meta/", True, {"PATCH": H.submission_meta}, False),
    (r"/api/jobs/challenge/" + NUM + "/submission/", True,
     {"GET": H.list_submissions}, False),
    (r"/api/jobs/submissions/" + NUM + "/re-run/", True,
     {"POST": H.rerun_rest}, False),
    (r"/api/jobs/submissions/" + NUM + "/resume/", True,
     {"POST": H.resume_rest}, False),
    (r"/api/jobs/challenge/queues/" + QN + "/", True,
     {"GET": H.queue_receive}, False),
    (r"/api/jobs/queues/" + QN + "/", True, {"POST": H.queue_delete}, False),
    (r"/api/challenges/challenge/phase/" + NUM + "/", True,
     {"GET": H.phase_by_pk}, True),
    (r"/api/challenges/challenge/" + NUM + "/challenge_phase/" + NUM, False,
     {"GET": H.phase_detail}, True),
    (r"/api/challenges/" + NUM + "/phases/", True, {"GET": H.phases}, False),
    (r"/api/challenges/phase/([\w-]+)/", True, {"GET": H.phase_by_slug},
     True),
    (r"/api/challenges/" + NUM + "/challenge_phase_split", False,
     {"GET": H.phase_splits}, True),
    (r"/api/challenges/challenge/queues/" + QN + "/", True,
     {"GET": H.challenge_by_queue}, False),
]


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass            # a reset connection is not worth a traceback


def main():
    ap = argparse.ArgumentParser(description="EvalAI emulator for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state")
    ap.add_argument("--seed")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--token-file")
    ap.add_argument("--visibility", type=float, default=30.0)
    a = ap.parse_args()
    st = State(a.state)
    st.strict, st.throttle, st.visibility = a.strict, a.throttle, a.visibility
    if a.state and os.path.exists(a.state):
        st.load()
    elif a.seed:
        with open(a.seed) as f:
            st.seed(json.load(f))
    if a.token_file:
        with open(a.token_file) as f:
            tok = f.readline().strip()
        c = sorted(st.d["challenges"].values(), key=lambda c: c["id"])
        team = c and st.d["host_teams"].get(str(c[0]["creator"]))
        if not tok or not team or not team["members"]:
            sys.exit("evalai.py: --token-file: no token or no host user")
        st.d["tokens"][tok] = {"user": team["members"][0],
                               "blacklisted": False, "type": "refresh"}
    st.initial = copy.deepcopy(st.d)
    st.save()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = st
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    srv.server_close()


if __name__ == "__main__":
    main()
