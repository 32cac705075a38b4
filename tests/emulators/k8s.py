#!/usr/bin/env python3
# k8s.py: a Kubernetes API emulator for tests.  It serves the subset lb needs
# (Jobs, Pods, logs, Secrets, watch, delete propagation, discovery), checks
# static and EKS bearer tokens, drives Jobs with a scripted controller, runs
# containers of local/ images as sandboxed processes, and injects faults.
# Standard library only.  See tests/emulators/README-k8s.
import argparse
import base64
import collections
import copy
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import secrets as pysecrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROG = "k8s-emu"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUB = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
LABEL_VALUE_RE = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
SUB_RE = ("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]"
          "([-a-z0-9]*[a-z0-9])?)*")
LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SCRIPTS = ("succeed", "fail", "fail-never", "fail-onfailure", "deadline",
           "hang", "stuck-image", "unschedulable", "evict", "slow", "local")
ANN_SCRIPT = "emu.lb/script"
ANN_DURATION = "emu.lb/duration-ms"
ANN_EXIT = "emu.lb/exit-code"
ANN_GRACE = "emu.lb/grace-ms"

# resource -> (group, version, kind, shortNames)
RES = {
    "jobs": ("batch", "v1", "Job", []),
    "pods": ("", "v1", "Pod", ["po"]),
    "secrets": ("", "v1", "Secret", []),
    "configmaps": ("", "v1", "ConfigMap", ["cm"]),
}


def log(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.stderr.flush()


def iso(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_nano(t):
    s = datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return "%s.%09dZ" % (s, int((t % 1) * 1e9))


def parse_time(s):
    s = s.strip()
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                 s)
    if not m:
        raise ValueError("bad time %r" % s)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = m.group(3)
    off = 0
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        off = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    t = base.replace(tzinfo=datetime.timezone.utc).timestamp() - off
    if m.group(2):
        t += float(m.group(2))
    return t


def dumps(o):
    return json.dumps(o, separators=(",", ":"))


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure", "message": message, "reason": reason}
    if details is not None:
        s["details"] = details
    s["code"] = code
    return s


def gk(res):
    g = RES[res][0]
    return res + "." + g if g else res


def res_details(res, name=None, kind=None, **kw):
    d = {}
    if name is not None:
        d["name"] = name
    if RES[res][0]:
        d["group"] = RES[res][0]
    d["kind"] = kind or res
    d.update(kw)
    return d


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        Exception.__init__(self, message)
        self.status = status_obj(code, reason, message, details)
        self.code = code
        self.headers = headers or []


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (gk(res), name),
                    res_details(res, name))


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


# ---------------------------------------------------------------- selectors

def split_top(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out if x.strip()]


def parse_label_selector(s):
    """Return a list of (op, key, values) terms; raise ApiError if bad."""
    terms = []
    for t in split_top(s or ""):
        m = re.match(r"^([^\s!=(),]+)\s+(in|notin)\s+\((.*)\)$", t)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            terms.append((m.group(2), m.group(1), vals))
            continue
        m = re.match(r"^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$", t)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            terms.append((op, m.group(1), [m.group(3)]))
            continue
        m = re.match(r"^!\s*([^\s!=(),]+)$", t)
        if m:
            terms.append(("!", m.group(1), []))
            continue
        m = re.match(r"^([^\s!=(),]+)$", t)
        if m:
            terms.append(("exists", m.group(1), []))
            continue
        raise bad_request("unable to parse requirement: %s" % t)
    return terms


def labels_match(terms, labels):
    labels = labels or {}
    for op, k, vals in terms:
        if op == "=" and labels.get(k) != vals[0]:
            return False
        if op == "!=" and labels.get(k) == vals[0]:
            return False
        if op == "in" and labels.get(k) not in vals:
            return False
        if op == "notin" and k in labels and labels[k] in vals:
            return False
        if op == "exists" and k not in labels:
            return False
        if op == "!" and k in labels:
            return False
    return True


FIELDS = {
    "jobs": ("metadata.name", "metadata.namespace", "status.successful"),
    "pods": ("metadata.name", "metadata.namespace", "status.phase",
             "spec.nodeName", "spec.restartPolicy"),
    "secrets": ("metadata.name", "metadata.namespace", "type"),
    "configmaps": ("metadata.name", "metadata.namespace"),
}


def parse_field_selector(res, s):
    terms = []
    for t in split_top(s or ""):
        m = re.match(r"^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$", t)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'"
                              % (s, t))
        if m.group(1) not in FIELDS[res]:
            raise bad_request(
                'field label not supported: %s' % m.group(1))
        terms.append(("!=" if m.group(2) == "!=" else "=", m.group(1),
                      m.group(3)))
    return terms


def field_value(obj, path):
    if path == "status.successful":
        return str((obj.get("status") or {}).get("succeeded", 0))
    cur = obj
    for p in path.split("."):
        cur = (cur or {}).get(p) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def fields_match(terms, obj):
    for op, k, v in terms:
        got = field_value(obj, k)
        if (op == "=") != (got == v):
            return False
    return True


# ------------------------------------------------------------------- store

class Store:
    """All objects, the resourceVersion counter and the event history."""

    def __init__(self, history):
        self.lock = threading.RLock()
        self.cv = threading.Condition(self.lock)
        self.rv = 100
        self.objs = {r: {} for r in RES}
        self.events = collections.deque()
        self.history = history
        self.compacted = 0      # newest rv whose event was dropped

    def bump(self):
        self.rv += 1
        return self.rv

    def get(self, res, ns, name):
        return self.objs[res].get((ns, name))

    def put(self, res, obj, etype):
        rv = self.bump()
        obj["metadata"]["resourceVersion"] = str(rv)
        m = obj["metadata"]
        self.objs[res][(m["namespace"], m["name"])] = obj
        self._event(rv, res, etype, obj)

    def remove(self, res, ns, name):
        obj = self.objs[res].pop((ns, name), None)
        if obj is None:
            return None
        rv = self.bump()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._event(rv, res, "DELETED", obj)
        return obj

    def _event(self, rv, res, etype, obj):
        self.events.append((rv, res, etype, copy.deepcopy(obj)))
        while len(self.events) > self.history:
            self.compacted = self.events.popleft()[0]
        self.cv.notify_all()

    def compact(self):
        with self.lock:
            self.events.clear()
            self.compacted = self.rv
            self.cv.notify_all()


# ---------------------------------------------------------------- EKS auth

EKS_PARAMS = ("action", "version", "x-amz-algorithm", "x-amz-credential",
              "x-amz-date", "x-amz-expires", "x-amz-security-token",
              "x-amz-signature", "x-amz-signedheaders")
STS_HOST = re.compile(
    r"sts(-fips)?(\.[a-z0-9-]+)?\.(amazonaws\.com|api\.aws)(\.cn)?\Z")


def sigv4_quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def hsign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def eks_verify(token, creds, cluster, now, lifetime=900):
    """Check an EKS bearer token offline.  Return (identity, None) or
    (None, why)."""
    if len(token) > 4096:
        return None, "token too long"
    b = token[len("k8s-aws-v1."):]
    if "=" in b:
        return None, "padding in token"
    try:
        url = base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode()
    except Exception:
        return None, "token is not base64url"
    try:
        u = urllib.parse.urlsplit(url)
        host = u.netloc
    except ValueError:
        return None, "token is not a URL"
    if u.scheme != "https":
        return None, "scheme is not https"
    if not STS_HOST.match(host):
        return None, "host is not an STS endpoint"
    if u.path != "/":
        return None, "path is not /"
    try:
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True,
                                       strict_parsing=True)
    except ValueError:
        return None, "bad query string"
    q = {}
    for k, v in pairs:
        kl = k.lower()
        if kl not in EKS_PARAMS:
            return None, "parameter %r not allowed" % k
        if kl in q:
            return None, "duplicate parameter %r" % k
        q[kl] = v
    if q.get("action") != "GetCallerIdentity":
        return None, "action is not GetCallerIdentity"
    if q.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        return None, "bad algorithm"
    for p in ("x-amz-credential", "x-amz-date", "x-amz-expires",
              "x-amz-signature", "x-amz-signedheaders"):
        if p not in q:
            return None, "missing %s" % p
    sh = q["x-amz-signedheaders"].split(";")
    if "x-k8s-aws-id" not in sh:
        return None, "x-k8s-aws-id not signed"
    if sorted(sh) != ["host", "x-k8s-aws-id"]:
        return None, "unexpected signed headers"
    cp = q["x-amz-credential"].split("/")
    if len(cp) != 5 or cp[3] != "sts" or cp[4] != "aws4_request":
        return None, "bad credential scope"
    akid, day, region = cp[0], cp[1], cp[2]
    secret = creds.get(akid)
    if secret is None:
        return None, "unknown access key"
    try:
        exp = int(q["x-amz-expires"])
        signed = datetime.datetime.strptime(
            q["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None, "bad date or expiry"
    if exp < 0 or exp > 900:
        return None, "X-Amz-Expires out of range"
    if q["x-amz-date"][:8] != day:
        return None, "date does not match scope"
    if now - signed > lifetime:
        return None, "token expired"
    if signed - now > 300:
        return None, "token signed in the future"
    cq = "&".join(sorted("%s=%s" % (sigv4_quote(k), sigv4_quote(v))
                         for k, v in pairs if k != "X-Amz-Signature"))
    creq = "\n".join(["GET", "/", cq, "host:" + host.lower(),
                      "x-k8s-aws-id:" + cluster, "", "host;x-k8s-aws-id",
                      EMPTY_SHA256])
    scope = "%s/%s/sts/aws4_request" % (day, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", q["x-amz-date"], scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = hsign(("AWS4" + secret).encode(), day)
    k = hsign(k, region)
    k = hsign(k, "sts")
    k = hsign(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, q["x-amz-signature"]):
        return None, "signature mismatch"
    return "arn:aws:iam::000000000000:user/" + akid, None


# ------------------------------------------------------------- validation

def label_value_errs(field, v):
    errs = []
    if not isinstance(v, str):
        return [("FieldValueInvalid", field, 'Invalid value: %s: must be a '
                 'string' % dumps(v))]
    if len(v) > 63:
        errs.append(("FieldValueInvalid", field,
                     'Invalid value: "%s": must be no more than 63 bytes'
                     % v))
    if not LABEL_VALUE.match(v):
        errs.append(("FieldValueInvalid", field,
                     'Invalid value: "%s": a valid label must be an empty '
                     "string or consist of alphanumeric characters, '-', "
                     "'_' or '.', and must start and end with an "
                     "alphanumeric character (e.g. 'MyValue',  or "
                     "'my_value',  or '12345', regex used for validation is "
                     "'%s')" % (v, LABEL_VALUE_RE)))
    return errs


GO_TYPES = {dict: "object", list: "array", str: "string", bool: "bool",
            int: "number", float: "number", type(None): "null"}


def check_types(job):
    """Reject wrong-typed members the way the Go decoder does (400)."""
    def bad(v, field, want):
        raise bad_request('Job in version "v1" cannot be handled as a Job: '
                          'json: cannot unmarshal %s into Go struct field '
                          '%s of type %s' % (GO_TYPES.get(type(v), "value"),
                                             field, want))

    def want(o, key, typ, field):
        if not isinstance(o, dict) or key not in o or o[key] is None:
            return None
        v = o[key]
        ok = isinstance(v, typ) and not (typ is int and isinstance(v, bool))
        if not ok:
            bad(v, field, {dict: "map", list: "slice", str: "string",
                           int: "int32", bool: "bool"}[typ])
        return v

    def strmap(o, key, field):
        m = want(o, key, dict, field)
        for v in (m or {}).values():
            if not isinstance(v, str):
                bad(v, field, "string")

    md = want(job, "metadata", dict, "Job.metadata") or {}
    for k in ("name", "generateName", "namespace"):
        want(md, k, str, "ObjectMeta.metadata." + k)
    strmap(md, "labels", "ObjectMeta.metadata.labels")
    strmap(md, "annotations", "ObjectMeta.metadata.annotations")
    spec = want(job, "spec", dict, "Job.spec") or {}
    for k in ("parallelism", "completions", "backoffLimit",
              "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        want(spec, k, int, "JobSpec.spec." + k)
    for k in ("suspend", "manualSelector"):
        want(spec, k, bool, "JobSpec.spec." + k)
    t = want(spec, "template", dict, "JobSpec.spec.template") or {}
    tm = want(t, "metadata", dict, "PodTemplateSpec.spec.template."
              "metadata") or {}
    strmap(tm, "labels", "ObjectMeta.spec.template.metadata.labels")
    strmap(tm, "annotations", "ObjectMeta.spec.template.metadata."
           "annotations")
    ps = want(t, "spec", dict, "PodTemplateSpec.spec.template.spec") or {}
    want(ps, "restartPolicy", str, "PodSpec.spec.template.spec."
         "restartPolicy")
    strmap(ps, "nodeSelector", "PodSpec.spec.template.spec.nodeSelector")
    for v in want(ps, "volumes", list, "PodSpec.spec.template.spec."
                  "volumes") or []:
        if not isinstance(v, dict):
            bad(v, "PodSpec.spec.template.spec.volumes", "v1.Volume")
        want(v, "name", str, "Volume.spec.template.spec.volumes.name")
    for where in ("initContainers", "containers"):
        f = "PodSpec.spec.template.spec." + where
        for c in want(ps, where, list, f) or []:
            if not isinstance(c, dict):
                bad(c, f, "v1.Container")
            for k in ("name", "image", "workingDir"):
                want(c, k, str, "Container.%s.%s" % (f[8:], k))
            for k in ("command", "args"):
                for x in want(c, k, list, "Container.%s.%s" % (f[8:], k)) \
                        or []:
                    if not isinstance(x, str):
                        bad(x, "Container.%s.%s" % (f[8:], k), "string")
            for e in want(c, "env", list, "Container.%s.env" % f[8:]) or []:
                if not isinstance(e, dict):
                    bad(e, "Container.%s.env" % f[8:], "v1.EnvVar")
                want(e, "name", str, "EnvVar.%s.env.name" % f[8:])
                want(e, "value", str, "EnvVar.%s.env.value" % f[8:])
                want(e, "valueFrom", dict, "EnvVar.%s.env.valueFrom"
                     % f[8:])
            for m in want(c, "volumeMounts", list, "Container.%s."
                          "volumeMounts" % f[8:]) or []:
                if not isinstance(m, dict):
                    bad(m, "Container.volumeMounts", "v1.VolumeMount")
                want(m, "name", str, "VolumeMount.name")
                want(m, "mountPath", str, "VolumeMount.mountPath")


def validate_job(job, name):
    errs = []
    md = job.get("metadata") or {}
    spec = job.get("spec") or {}
    if not isinstance(spec, dict):
        return [("FieldValueRequired", "spec", "Required value")]
    if name and (len(name) > 253 or not DNS1123_SUB.match(name)):
        errs.append(("FieldValueInvalid", "metadata.name",
                     'Invalid value: "%s": a lowercase RFC 1123 subdomain '
                     "must consist of lower case alphanumeric characters, "
                     "'-' or '.', and must start and end with an "
                     "alphanumeric character (e.g. 'example.com', regex "
                     "used for validation is '%s')" % (name, SUB_RE)))
    for k, v in (md.get("labels") or {}).items():
        errs += label_value_errs("metadata.labels", v)
    tmpl = spec.get("template") or {}
    tl = (tmpl.get("metadata") or {}).get("labels") or {}
    for k, v in tl.items():
        errs += label_value_errs("spec.template.labels", v)
    ps = tmpl.get("spec") or {}
    rp = ps.get("restartPolicy")
    if rp is None:
        errs.append(("FieldValueRequired", "spec.template.spec.restartPolicy",
                     'Required value: valid values: "OnFailure", "Never"'))
    elif rp not in ("Never", "OnFailure"):
        errs.append(("FieldValueNotSupported",
                     "spec.template.spec.restartPolicy",
                     'Unsupported value: "%s": supported values: '
                     '"OnFailure", "Never"' % rp))
    if spec.get("podFailurePolicy") and rp != "Never":
        errs.append(("FieldValueInvalid", "spec.template.spec.restartPolicy",
                     'Invalid value: "%s": only "Never" is supported when '
                     "podFailurePolicy is specified" % rp))
    cs = ps.get("containers")
    if not isinstance(cs, list) or not cs:
        errs.append(("FieldValueRequired", "spec.template.spec.containers",
                     "Required value"))
        cs = []
    allc = [("initContainers", c) for c in ps.get("initContainers") or []]
    allc += [("containers", c) for c in cs]
    seen = set()
    for i, (where, c) in enumerate(allc):
        idx = i if where == "initContainers" else \
            i - len(ps.get("initContainers") or [])
        f = "spec.template.spec.%s[%d]" % (where, idx)
        if not isinstance(c, dict):
            errs.append(("FieldValueInvalid", f, "Invalid value: not an "
                         "object"))
            continue
        n = c.get("name")
        if not n:
            errs.append(("FieldValueRequired", f + ".name", "Required value"))
        elif not isinstance(n, str) or len(n) > 63 or \
                not DNS1123_LABEL.match(n):
            errs.append(("FieldValueInvalid", f + ".name",
                         'Invalid value: "%s": a lowercase RFC 1123 label '
                         "must consist of lower case alphanumeric "
                         "characters or '-', and must start and end with an "
                         "alphanumeric character (e.g. 'my-name',  or "
                         "'123-abc', regex used for validation is '%s')"
                         % (n, LABEL_RE)))
        elif n in seen:
            errs.append(("FieldValueDuplicate", f + ".name",
                         'Duplicate value: "%s"' % n))
        seen.add(n)
        if not c.get("image"):
            errs.append(("FieldValueRequired", f + ".image",
                         "Required value"))
        for j, e in enumerate(c.get("env") or []):
            if isinstance(e, dict) and "value" in e and \
                    not isinstance(e["value"], str):
                raise bad_request(
                    'Job in version "v1" cannot be handled as a Job: json: '
                    "cannot unmarshal %s into Go struct field "
                    "EnvVar.spec.template.spec.%s.env.value of type string"
                    % ("number" if isinstance(e["value"], (int, float))
                       else "object", where))
    for k, v in (ps.get("nodeSelector") or {}).items():
        errs += label_value_errs("spec.template.spec.nodeSelector", v)
    for fld in ("backoffLimit", "activeDeadlineSeconds", "parallelism",
                "completions", "ttlSecondsAfterFinished"):
        v = spec.get(fld)
        if v is not None and (not isinstance(v, int) or v < 0 or
                              (fld == "activeDeadlineSeconds" and v == 0)):
            errs.append(("FieldValueInvalid", "spec." + fld,
                         "Invalid value: %s: must be greater than or equal "
                         "to 0" % dumps(v)))
    return errs


KNOWN = {
    "": ("apiVersion", "kind", "metadata", "spec", "status"),
    "spec": ("activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex",
             "completionMode", "completions", "managedBy", "manualSelector",
             "maxFailedIndexes", "parallelism", "podFailurePolicy",
             "podReplacementPolicy", "selector", "successPolicy", "suspend",
             "template", "ttlSecondsAfterFinished"),
    "metadata": ("annotations", "creationTimestamp", "deletionTimestamp",
                 "finalizers", "generateName", "generation", "labels",
                 "managedFields", "name", "namespace", "ownerReferences",
                 "resourceVersion", "uid", "deletionGracePeriodSeconds",
                 "selfLink"),
}


def unknown_fields(job):
    out = []
    for sect, keys in KNOWN.items():
        o = job if sect == "" else job.get(sect)
        if isinstance(o, dict):
            for k in o:
                if k not in keys:
                    out.append((sect + "." if sect else "") + k)
    return out


def pull_policy(image):
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_pod_spec(ps):
    ps.setdefault("dnsPolicy", "ClusterFirst")
    ps.setdefault("schedulerName", "default-scheduler")
    ps.setdefault("terminationGracePeriodSeconds", 30)
    ps.setdefault("securityContext", {})
    for c in (ps.get("initContainers") or []) + (ps.get("containers") or []):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("imagePullPolicy", pull_policy(c.get("image", "")))
        c.setdefault("resources", {})


# --------------------------------------------------------- pod runtimes

class CRT:
    """One container of a pod: its instances (logs) and k8s state."""

    def __init__(self, spec, init):
        self.spec = spec
        self.name = spec["name"]
        self.init = init
        self.instances = []     # each {"lines": [(t, bytes)], "done": bool}
        self.restarts = 0
        self.state = {"waiting": {"reason": "ContainerCreating"}}
        self.last = {}
        self.proc = None
        self.cid = ""

    def start(self, t, emu):
        self.instances.append({"lines": [], "done": False})
        self.cid = "emu://" + uuid.uuid4().hex
        self.state = {"running": {"startedAt": iso(t)}}

    def add_line(self, t, line):
        if self.instances:
            self.instances[-1]["lines"].append((t, line))

    def finish(self, t, code, reason=None):
        started = (self.state.get("running") or {}).get("startedAt", iso(t))
        self.state = {"terminated": {
            "exitCode": code, "reason": reason or
            ("Completed" if code == 0 else "Error"),
            "startedAt": started, "finishedAt": iso(t),
            "containerID": self.cid}}
        if self.instances:
            self.instances[-1]["done"] = True

    def restart(self, t):
        self.last = self.state
        self.restarts += 1

    def status(self):
        running = "running" in self.state
        s = {"name": self.name, "image": self.spec.get("image", ""),
             "imageID": "", "ready": running, "restartCount": self.restarts,
             "started": running, "state": self.state, "lastState": self.last}
        if self.cid:
            s["containerID"] = self.cid
        return s


class PodRT:
    """Runtime of one pod: scripted timeline or local processes."""

    def __init__(self, pod, script, dur, exit_code, first):
        self.script = script
        self.dur = dur
        self.exit_code = exit_code
        self.first = first
        self.t0 = time.time()
        self.tstep = self.t0
        self.stage = "created"
        ps = pod["spec"]
        self.restart_policy = ps.get("restartPolicy", "Never")
        self.cs = [CRT(c, True) for c in ps.get("initContainers") or []]
        self.cs += [CRT(c, False) for c in ps.get("containers") or []]
        self.phase = "Pending"
        self.reason = self.message = None
        self.scheduled = None       # None: not yet; True; or (reason, msg)
        self.node = None
        self.started = None
        self.disruption = False
        self.del_at = None          # time deletion was asked
        self.grace = 0
        self.done = False           # all processes gone / terminal
        self.kubelet = None
        self.pod_ip = "10.244.0.%d" % random.randint(2, 254)

    def app(self):
        return [c for c in self.cs if not c.init]

    def inits(self):
        return [c for c in self.cs if c.init]

    def find(self, name):
        for c in self.cs:
            if c.name == name:
                return c
        return None


def render_pod_status(pod, rt):
    st = {"phase": rt.phase}
    conds = []
    t = iso(rt.t0)
    if rt.scheduled is True:
        conds.append({"type": "PodScheduled", "status": "True",
                      "lastProbeTime": None, "lastTransitionTime": t})
    elif rt.scheduled:
        conds.append({"type": "PodScheduled", "status": "False",
                      "lastProbeTime": None, "lastTransitionTime": t,
                      "reason": rt.scheduled[0], "message": rt.scheduled[1]})
    if rt.scheduled is True:
        inited = all("terminated" in c.state and
                     c.state["terminated"]["exitCode"] == 0
                     for c in rt.inits())
        ready = rt.phase == "Running" and all("running" in c.state
                                              for c in rt.app())
        conds.append({"type": "Initialized",
                      "status": "True" if inited else "False",
                      "lastProbeTime": None, "lastTransitionTime": t})
        for ty in ("ContainersReady", "Ready"):
            conds.append({"type": ty, "status": "True" if ready else "False",
                          "lastProbeTime": None, "lastTransitionTime": t})
        st["hostIP"] = "127.0.0.1"
        st["podIP"] = rt.pod_ip
        st["podIPs"] = [{"ip": rt.pod_ip}]
        st["startTime"] = iso(rt.t0)
        if rt.inits():
            st["initContainerStatuses"] = [c.status() for c in rt.inits()]
        st["containerStatuses"] = [c.status() for c in rt.app()]
        st["qosClass"] = "BestEffort"
    if rt.disruption:
        conds.append({"type": "DisruptionTarget", "status": "True",
                      "lastProbeTime": None, "lastTransitionTime": iso(),
                      "reason": "TerminationByKubelet",
                      "message": rt.message or ""})
    st["conditions"] = conds
    if rt.reason:
        st["reason"] = rt.reason
    if rt.message:
        st["message"] = rt.message
    pod["status"] = st
    if rt.node:
        pod["spec"]["nodeName"] = rt.node


# ------------------------------------------------------------ local kubelet

class Kubelet:
    """Runs the containers of one local/ pod as processes."""

    def __init__(self, emu, ns, name, rt):
        self.emu = emu
        self.ns, self.name, self.rt = ns, name, rt
        self.stop = threading.Event()
        self.lock = emu.store.lock
        self.th = threading.Thread(target=self.run, daemon=True)

    def update(self):
        with self.lock:
            pod = self.emu.store.get("pods", self.ns, self.name)
            if pod is None:
                return
            render_pod_status(pod, self.rt)
            self.emu.store.put("pods", pod, "MODIFIED")

    def pod(self):
        return self.emu.store.get("pods", self.ns, self.name)

    def run(self):
        try:
            self._run()
        except Exception:
            log("kubelet %s/%s: %s" % (self.ns, self.name,
                                       traceback.format_exc()))
        finally:
            with self.lock:
                self.rt.done = True
                if self.rt.phase not in ("Succeeded", "Failed"):
                    self.rt.phase = "Failed"
            self.update()

    def volumes(self):
        pod = self.pod()
        uid = pod["metadata"]["uid"]
        base = os.path.join(self.emu.state_dir, "pods", uid, "volumes")
        vols = {}
        for v in pod["spec"].get("volumes") or []:
            n = v.get("name")
            if "emptyDir" in v:
                d = os.path.join(base, n)
                os.makedirs(d, exist_ok=True)
                vols[n] = (d, False)
            elif "hostPath" in v:
                vols[n] = ((v["hostPath"] or {}).get("path", ""), False)
            elif "secret" in v or "configMap" in v:
                d = os.path.join(base, n)
                os.makedirs(d, exist_ok=True)
                res = "secrets" if "secret" in v else "configmaps"
                src = v.get("secret") or v.get("configMap") or {}
                on = src.get("secretName") or src.get("name")
                with self.lock:
                    o = self.emu.store.get(res, self.ns, on)
                    data = self.emu.obj_data(res, o) if o else {}
                for k, b in data.items():
                    with open(os.path.join(d, k), "wb") as f:
                        f.write(b)
                vols[n] = (d, True)
        self.base = base
        return vols

    def env(self, c):
        """Return (env dict, None) or (None, why) for a container."""
        pod = self.pod()
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
               "/sbin:/bin", "HOSTNAME": self.name, "HOME": "/tmp",
               "KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(self.emu.port)}

        def ref(res, r):
            with self.lock:
                o = self.emu.store.get(res, self.ns, r.get("name", ""))
                data = self.emu.obj_data(res, o) if o else None
            what = "secret" if res == "secrets" else "configmap"
            if data is None:
                if r.get("optional"):
                    return None, None
                return None, '%s "%s" not found' % (what, r.get("name"))
            if "key" not in r:
                return data, None
            if r["key"] not in data:
                if r.get("optional"):
                    return None, None
                return None, "couldn't find key %s in %s %s/%s" % (
                    r["key"], what.capitalize(), self.ns, r.get("name"))
            return data[r["key"]], None

        for ef in c.get("envFrom") or []:
            for res, k in (("secrets", "secretRef"),
                           ("configmaps", "configMapRef")):
                if k in ef:
                    d, why = ref(res, ef[k])
                    if why:
                        return None, why
                    for kk, vv in (d or {}).items():
                        env[ef.get("prefix", "") + kk] = vv.decode(
                            "utf-8", "replace")
        for e in c.get("env") or []:
            n = e.get("name")
            if "value" in e:
                env[n] = str(e["value"])
                continue
            vf = e.get("valueFrom") or {}
            if "secretKeyRef" in vf or "configMapKeyRef" in vf:
                res = "secrets" if "secretKeyRef" in vf else "configmaps"
                b, why = ref(res, vf.get("secretKeyRef") or
                             vf.get("configMapKeyRef"))
                if why:
                    return None, why
                if b is not None:
                    env[n] = b.decode("utf-8", "replace")
            elif "fieldRef" in vf:
                fp = vf["fieldRef"].get("fieldPath", "")
                m = re.match(r"metadata\.(labels|annotations)\['(.*)'\]$", fp)
                if m:
                    env[n] = (pod["metadata"].get(m.group(1)) or {}).get(
                        m.group(2), "")
                else:
                    env[n] = {
                        "metadata.name": self.name,
                        "metadata.namespace": self.ns,
                        "metadata.uid": pod["metadata"]["uid"],
                        "spec.nodeName": "emu-node",
                        "spec.serviceAccountName": "default",
                        "status.podIP": self.rt.pod_ip,
                        "status.hostIP": "127.0.0.1",
                    }.get(fp, "")
            else:
                env[n] = ""
        return env, None

    def argv(self, c, vols, env):
        cmd = list(c.get("command") or []) + list(c.get("args") or [])
        cmd = [str(x) for x in cmd]
        cwd = c.get("workingDir") or "/"
        mounts = []
        for m in c.get("volumeMounts") or []:
            v = vols.get(m.get("name"))
            if v and v[0] and m.get("mountPath"):
                host = v[0]
                sub = str(m.get("subPath") or "").strip("/")
                if sub and ".." not in sub.split("/"):
                    # as the kubelet: the sub-directory is made on first use
                    host = os.path.join(v[0], sub)
                    os.makedirs(host, exist_ok=True)
                mounts.append((host, m["mountPath"],
                               v[1] or bool(m.get("readOnly"))))
        if not self.emu.sandbox:
            for host, mp, ro in mounts:
                if os.path.lexists(mp):
                    continue
                try:
                    os.makedirs(os.path.dirname(mp), exist_ok=True)
                    os.symlink(host, mp)
                    self.emu.symlinks.append(mp)
                except OSError as e:
                    log("no sandbox: cannot link %s: %s" % (mp, e))
            if not os.path.isdir(cwd):
                cwd = self.base
            return cmd, cwd
        a = [self.emu.bwrap, "--die-with-parent", "--unshare-all",
             "--share-net", "--hostname", self.name[:63]]
        a += sandbox_root()
        for d in self.emu.ro_binds:
            a += ["--ro-bind", d, d]
        for host, mp, ro in mounts:
            a += ["--ro-bind" if ro else "--bind", host, mp]
        a += ["--chdir", cwd, "--clearenv"]
        for k, v in env.items():
            a += ["--setenv", k, v]
        return a + ["--"] + cmd, None

    def backoff(self, n):
        return min(self.emu.restart_backoff * (2 ** max(n - 1, 0)), 5.0)

    def run_one(self, c, vols):
        """Run container c until it succeeds, fails for good or we stop.
        Return its last exit code (None when stopped before start)."""
        while not self.stop.is_set():
            env, why = self.env(c.spec)
            if why:
                with self.lock:
                    c.state = {"waiting": {
                        "reason": "CreateContainerConfigError",
                        "message": why}}
                self.update()
                self.stop.wait(0.5)
                continue
            argv, cwd = self.argv(c.spec, vols, env)
            if not argv or (self.emu.sandbox and argv[-1] == "--"):
                code = 127
                with self.lock:
                    c.start(time.time(), self.emu)
                    c.add_line(time.time(),
                               b"emu: no command or args for local image\n")
            else:
                code = self.exec_one(c, argv, cwd, env)
            if code is None:
                return None
            if code == 0 or self.rt.restart_policy != "OnFailure" or \
                    self.stop.is_set():
                return code
            with self.lock:
                c.restart(time.time())
                c.state = {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": "back-off restarting "
                                       "failed container %s" % c.name}}
            self.update()
            self.stop.wait(self.backoff(c.restarts))
            if self.stop.is_set():
                return code
        return None

    def exec_one(self, c, argv, cwd, env):
        try:
            p = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, cwd=cwd,
                env=env if not self.emu.sandbox else None,
                start_new_session=True)
        except OSError as e:
            with self.lock:
                c.start(time.time(), self.emu)
                c.add_line(time.time(), ("emu: exec: %s\n" % e).encode())
                c.finish(time.time(), 128, "StartError")
            self.update()
            return 128
        with self.lock:
            c.proc = p
            self.emu.procs[p.pid] = p
            c.start(time.time(), self.emu)
        if self.stop.is_set():
            # the pod was deleted while this container was starting
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        self.update()
        keep = None
        if self.emu.log_dir:
            # like the kubelet's /var/log/pods: kept after the pod is gone
            keep = open(os.path.join(self.emu.log_dir, "%s_%s_%s.log" % (
                self.ns, self.name, c.name)), "ab")
        for line in iter(p.stdout.readline, b""):
            with self.lock:
                c.add_line(time.time(), line)
                self.emu.store.cv.notify_all()
            if keep:
                keep.write(line)
                keep.flush()
        if keep:
            keep.close()
        p.stdout.close()
        code = p.wait()
        if code < 0:
            code = 128 - code
        with self.lock:
            self.emu.procs.pop(p.pid, None)
            c.proc = None
            c.finish(time.time(), code)
            self.emu.store.cv.notify_all()
        self.update()
        return code

    def _run(self):
        with self.lock:
            vols = self.volumes()
            rt = self.rt
            rt.scheduled = True
            rt.node = "emu-node"
            for c in rt.cs:
                c.state = {"waiting": {"reason": "PodInitializing" if
                                       not c.init else "ContainerCreating"}}
        self.update()
        for c in rt.inits():
            code = self.run_one(c, vols)
            if code != 0:
                with self.lock:
                    rt.phase = "Failed"
                    for a in rt.app():
                        a.state = {"waiting": {"reason": "PodInitializing"}}
                return
        with self.lock:
            rt.phase = "Running"
        codes = {}
        ths = []
        for c in rt.app():
            th = threading.Thread(
                target=lambda c=c: codes.__setitem__(c.name,
                                                     self.run_one(c, vols)),
                daemon=True)
            th.start()
            ths.append(th)
        for th in ths:
            th.join()
        with self.lock:
            if all(v == 0 for v in codes.values()):
                rt.phase = "Succeeded"
            else:
                rt.phase = "Failed"

    def kill(self, grace):
        """Stop every process of the pod: SIGTERM, then SIGKILL."""
        self.stop.set()
        threading.Thread(target=self._kill, args=(grace,),
                         daemon=True).start()

    def _kill(self, grace):
        def signal_all(sig):
            with self.lock:
                ps = [c.proc for c in self.rt.cs if c.proc]
            for p in ps:
                try:
                    os.killpg(p.pid, sig)
                except OSError:
                    pass
            return ps
        ps = signal_all(signal.SIGTERM)
        end = time.time() + grace
        while ps and time.time() < end:
            time.sleep(0.02)
            ps = [p for p in ps if p.poll() is None]
        signal_all(signal.SIGKILL)


def sandbox_root():
    a = []
    for d in ("/usr", "/etc", "/opt"):
        if os.path.isdir(d):
            a += ["--ro-bind", d, d]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            a += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            a += ["--ro-bind", d, d]
    return a + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


# -------------------------------------------------------------- controller

class JobRT:
    def __init__(self):
        self.pods = set()        # uids of pods created
        self.counted = {}        # uid -> "succeeded" | "failed"
        self.created = 0
        self.next_create = 0
        self.outcome = None      # (ok, reason, message)
        self.forced = None
        self.finished_at = None


class Emu:
    def __init__(self, a):
        self.a = a
        self.store = Store(a.history)
        self.lock = self.store.lock
        self.conditions = a.conditions
        self.gone_mode = a.gone_mode
        self.gone_reason = a.gone_reason
        self.tokens = set()
        self.eks_creds = {}
        self.eks_cluster = a.eks_cluster
        self.eks_offset = 0.0
        self.eks_clock = None
        self.jrt = {}
        self.prt = {}
        self.procs = {}
        self.faults = []
        self.reqlog = collections.deque(maxlen=10000)
        self.watch_gen = 0
        self.open_watches = 0
        self.stopping = False
        self.sandbox = not a.no_sandbox
        self.bwrap = a.bwrap
        self.ro_binds = a.ro_bind or []
        self.log_dir = a.log_dir
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
        self.restart_backoff = a.restart_backoff_ms / 1000.0
        self.grace_max = a.grace_ms / 1000.0
        self.duration = a.duration_ms / 1000.0
        self.bookmark_interval = a.bookmark_interval
        self.symlinks = []
        self.port = 0

    # ---- helpers
    def obj_data(self, res, o):
        out = {}
        if res == "secrets":
            for k, v in (o.get("data") or {}).items():
                try:
                    out[k] = base64.b64decode(v)
                except Exception:
                    pass
            for k, v in (o.get("stringData") or {}).items():
                out[k] = str(v).encode()
        else:
            for k, v in (o.get("data") or {}).items():
                out[k] = str(v).encode()
        return out

    def owned_pods(self, juid):
        out = []
        for p in self.store.objs["pods"].values():
            for r in p["metadata"].get("ownerReferences") or []:
                if r.get("uid") == juid and r.get("controller"):
                    out.append(p)
        return out

    # ---- pods
    def create_pod(self, job, jrt):
        md = job["metadata"]
        tmpl = copy.deepcopy(job["spec"]["template"])
        tm = tmpl.get("metadata") or {}
        base = (md["name"] + "-")[:58]
        while True:
            name = base + "".join(random.choice(NAME_CHARS)
                                  for _ in range(5))
            if not self.store.get("pods", md["namespace"], name):
                break
        uid = str(uuid.uuid4())
        pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {
            "name": name, "generateName": base,
            "namespace": md["namespace"], "uid": uid,
            "creationTimestamp": iso(),
            "labels": dict(tm.get("labels") or {}),
            "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "Job",
                "name": md["name"], "uid": md["uid"], "controller": True,
                "blockOwnerDeletion": True}],
            "finalizers": ["batch.kubernetes.io/job-tracking"]},
            "spec": tmpl.get("spec") or {}}
        if tm.get("annotations"):
            pod["metadata"]["annotations"] = dict(tm["annotations"])
        pod["spec"].setdefault("serviceAccountName", "default")
        ann = md.get("annotations") or {}
        imgs = [c.get("image", "") for c in
                (pod["spec"].get("initContainers") or []) +
                (pod["spec"].get("containers") or [])]
        local = imgs and all(i.startswith("local/") for i in imgs)
        script = "local" if local else ann.get(ANN_SCRIPT, "succeed")
        if script not in SCRIPTS or (script == "local" and not local):
            script = "succeed"
        if any(i.startswith("local/missing") for i in imgs):
            script = "stuck-image"	# an image nobody can pull
        try:
            dur = int(ann.get(ANN_DURATION)) / 1000.0
        except (TypeError, ValueError):
            dur = self.duration
        try:
            ec = int(ann.get(ANN_EXIT, 1))
        except ValueError:
            ec = 1
        rt = PodRT(pod, script, dur, ec, jrt.created == 0)
        try:
            rt.grace_ms = int(ann[ANN_GRACE]) if ANN_GRACE in ann else None
        except ValueError:
            rt.grace_ms = None
        jrt.created += 1
        jrt.pods.add(uid)
        self.prt[uid] = rt
        render_pod_status(pod, rt)
        self.store.put("pods", pod, "ADDED")
        if script == "local":
            rt.kubelet = Kubelet(self, md["namespace"], name, rt)
            rt.kubelet.th.start()
        return pod

    def delete_pod(self, pod, grace=None):
        """Mark a pod for deletion; the controller finishes the job."""
        md = pod["metadata"]
        if md.get("deletionTimestamp"):
            return
        rt = self.prt.get(md["uid"])
        g = pod["spec"].get("terminationGracePeriodSeconds", 30)
        if grace is not None:
            g = grace
        g = min(float(g), self.grace_max)
        if rt and getattr(rt, "grace_ms", None) is not None and \
                grace is None:
            g = rt.grace_ms / 1000.0
        md["deletionTimestamp"] = iso()
        md["deletionGracePeriodSeconds"] = int(g)
        if rt:
            rt.del_at = time.time()
            rt.grace = g
            if rt.kubelet:
                rt.kubelet.kill(g)
        self.store.put("pods", pod, "MODIFIED")

    def finish_pod(self, pod, rt, now):
        """Remove a pod marked for deletion once it is allowed to go."""
        if rt is None:
            self.store.remove("pods", pod["metadata"]["namespace"],
                              pod["metadata"]["name"])
            return
        if rt.kubelet:
            if not rt.done:
                return
        elif rt.phase not in ("Succeeded", "Failed"):
            if now < rt.del_at + rt.grace:
                return
            for c in rt.cs:
                if "terminated" not in c.state:
                    if "running" in c.state:
                        c.finish(now, 143)
                    else:
                        c.state = {"terminated": {
                            "exitCode": 137,
                            "reason": "ContainerStatusUnknown",
                            "finishedAt": iso(now)}}
            rt.phase = "Failed"
        render_pod_status(pod, rt)
        pod["metadata"]["finalizers"] = [
            f for f in pod["metadata"].get("finalizers") or []
            if f != "batch.kubernetes.io/job-tracking"]
        if not pod["metadata"]["finalizers"]:
            del pod["metadata"]["finalizers"]
        self.store.put("pods", pod, "MODIFIED")
        self.store.remove("pods", pod["metadata"]["namespace"],
                          pod["metadata"]["name"])

    def step_scripted(self, pod, rt, now):
        """Advance a scripted pod; return True if its status changed."""
        if rt.script == "local" or rt.phase in ("Succeeded", "Failed") or \
                rt.del_at is not None:
            return False
        s = rt.script
        if rt.stage == "created":
            if s == "unschedulable":
                rt.scheduled = ("Unschedulable",
                                "0/3 nodes are available: 3 Insufficient "
                                "nvidia.com/gpu. preemption: 0/3 nodes are "
                                "available: 3 No preemption victims found "
                                "for incoming pod.")
                rt.stage = "stuck"
                return True
            rt.scheduled = True
            rt.node = "emu-node"
            for c in rt.cs:
                if s == "stuck-image" and not c.init:
                    c.state = {"waiting": {
                        "reason": "ErrImagePull",
                        "message": 'failed to pull and unpack image "%s": '
                        "not found" % c.spec.get("image")}}
                else:
                    c.state = {"waiting": {"reason": "ContainerCreating"}}
            rt.stage = "pending"
            rt.tstep = now
            return True
        if rt.stage == "pending":
            if s == "stuck-image":
                c = rt.app()[0]
                if now - rt.tstep >= rt.dur and \
                        c.state["waiting"]["reason"] == "ErrImagePull":
                    for c in rt.app():
                        c.state = {"waiting": {
                            "reason": "ImagePullBackOff",
                            "message": 'Back-off pulling image "%s"'
                            % c.spec.get("image")}}
                    return True
                return False
            if s == "slow" and now - rt.tstep < rt.dur:
                return False
            for c in rt.inits():
                c.start(now, self)
                c.add_line(now, b"emu: init container %s done\n"
                           % c.name.encode())
                c.finish(now, 0)
            for c in rt.app():
                c.start(now, self)
                c.add_line(now, ("emu: container %s started (script %s)\n"
                                 % (c.name, s)).encode())
            rt.phase = "Running"
            rt.stage = "running"
            rt.tstep = now
            return True
        if rt.stage == "running":
            if s in ("deadline", "hang") or now - rt.tstep < rt.dur:
                return False
            if s == "evict" and rt.first:
                rt.phase = "Failed"
                rt.reason = "Evicted"
                rt.message = ("The node was low on resource: memory. "
                              "Threshold quantity: 100Mi, available: 50Mi.")
                rt.disruption = True
                for c in rt.app():
                    c.finish(now, 137)
                return True
            if s in ("fail", "fail-never", "fail-onfailure"):
                if rt.restart_policy == "OnFailure":
                    c = rt.app()[0]
                    c.add_line(now, ("emu: exiting with code %d\n"
                                     % rt.exit_code).encode())
                    c.finish(now, rt.exit_code)
                    c.restart(now)
                    c.start(now, self)
                    c.add_line(now, b"emu: restarted\n")
                    rt.tstep = now
                    return True
                for c in rt.app():
                    c.add_line(now, ("emu: exiting with code %d\n"
                                     % rt.exit_code).encode())
                    c.finish(now, rt.exit_code)
                rt.phase = "Failed"
                return True
            for c in rt.app():
                c.add_line(now, b"emu: exiting with code 0\n")
                c.finish(now, 0)
            rt.phase = "Succeeded"
            return True
        return False

    # ---- jobs
    def set_cond(self, job, ty, reason, message, now):
        conds = job["status"].setdefault("conditions", [])
        for c in conds:
            if c["type"] == ty:
                return
        conds.append({"type": ty, "status": "True",
                      "lastProbeTime": iso(now),
                      "lastTransitionTime": iso(now),
                      "reason": reason, "message": message})

    def put_cond(self, job, ty, status, reason, message, now):
        conds = job["status"].setdefault("conditions", [])
        for c in conds:
            if c["type"] == ty:
                if c["status"] != status:
                    c.update(status=status, reason=reason, message=message,
                             lastProbeTime=iso(now),
                             lastTransitionTime=iso(now))
                return
        conds.append({"type": ty, "status": status,
                      "lastProbeTime": iso(now),
                      "lastTransitionTime": iso(now),
                      "reason": reason, "message": message})

    def has_cond(self, job, ty):
        return any(c["type"] == ty and c["status"] == "True"
                   for c in (job.get("status") or {}).get("conditions", []))

    def reconcile_job(self, job, now):
        md = job["metadata"]
        juid = md["uid"]
        jrt = self.jrt.setdefault(juid, JobRT())
        before = dumps(job.get("status") or {})
        spec = job["spec"]
        pods = self.owned_pods(juid)
        if md.get("deletionTimestamp"):
            fins = md.get("finalizers") or []
            if "orphan" in fins:
                for p in pods:
                    p["metadata"]["ownerReferences"] = [
                        r for r in p["metadata"]["ownerReferences"]
                        if r.get("uid") != juid]
                    self.store.put("pods", p, "MODIFIED")
                self.store.remove("jobs", md["namespace"], md["name"])
                return
            for p in pods:
                self.delete_pod(p)
            if not pods:
                self.store.remove("jobs", md["namespace"], md["name"])
            return
        st = job.setdefault("status", {})
        if self.has_cond(job, "Complete") or self.has_cond(job, "Failed"):
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None and jrt.finished_at is not None and \
                    now >= jrt.finished_at + ttl:
                self.store.remove("jobs", md["namespace"], md["name"])
            return
        if spec.get("suspend"):
            for p in pods:
                rt = self.prt.get(p["metadata"]["uid"])
                if rt and rt.phase not in ("Succeeded", "Failed"):
                    self.delete_pod(p)
            self.put_cond(job, "Suspended", "True", "JobSuspended",
                          "Job suspended", now)
            st.pop("active", None)
            st["ready"] = 0
            jrt.suspended = True
            if hasattr(jrt, "t_start"):
                del jrt.t_start
            if dumps(st) != before:
                self.store.put("jobs", job, "MODIFIED")
            return
        if getattr(jrt, "suspended", False):
            jrt.suspended = False
            self.put_cond(job, "Suspended", "False", "JobResumed",
                          "Job resumed", now)
            st["startTime"] = iso(now)
        st.setdefault("startTime", iso(now))
        if not hasattr(jrt, "t_start"):
            jrt.t_start = now
        # count finished pods, once each
        live = {p["metadata"]["uid"]: p for p in pods}
        for uid in list(jrt.pods):
            if uid in jrt.counted:
                continue
            p = live.get(uid)
            rt = self.prt.get(uid)
            if p is None:
                if jrt.outcome is None:
                    jrt.counted[uid] = ("succeeded" if rt and
                                        rt.phase == "Succeeded" else "failed")
                    if jrt.counted[uid] == "failed":
                        jrt.next_create = now + self.a.pod_backoff_ms / 1e3
            elif rt and rt.phase in ("Succeeded", "Failed") and \
                    jrt.outcome is None:
                jrt.counted[uid] = rt.phase.lower()
                if rt.phase == "Failed":
                    jrt.next_create = now + self.a.pod_backoff_ms / 1e3
        succ = sum(1 for v in jrt.counted.values() if v == "succeeded")
        fail = sum(1 for v in jrt.counted.values() if v == "failed")
        active = [p for p in pods if not p["metadata"].get(
            "deletionTimestamp") and self.prt.get(p["metadata"]["uid"]) and
            self.prt[p["metadata"]["uid"]].phase not in
            ("Succeeded", "Failed")]
        terminating = [p for p in pods if p["metadata"].get(
            "deletionTimestamp") and self.prt.get(p["metadata"]["uid"]) and
            self.prt[p["metadata"]["uid"]].phase not in
            ("Succeeded", "Failed")]
        comps = spec.get("completions", 1)
        if comps is None:
            comps = 1
        par = spec.get("parallelism", 1)
        bl = spec.get("backoffLimit", 6)
        if jrt.forced == "complete":
            succ = max(succ, comps)
        if jrt.outcome is None:
            if jrt.forced == "complete":
                jrt.outcome = (True, "CompletionsReached",
                               "Reached expected number of succeeded pods")
            elif jrt.forced == "fail":
                jrt.outcome = (False, "BackoffLimitExceeded",
                               "Job has reached the specified backoff limit")
            elif succ >= comps:
                jrt.outcome = (True, "CompletionsReached",
                               "Reached expected number of succeeded pods")
            elif fail > bl:
                jrt.outcome = (False, "BackoffLimitExceeded",
                               "Job has reached the specified backoff limit")
            elif spec["template"]["spec"].get("restartPolicy") == \
                    "OnFailure" and (lambda r: r >= bl if bl > 0 else r > 0)(
                        sum(c.restarts for p in active for c in
                            self.prt[p["metadata"]["uid"]].cs)):
                jrt.outcome = (False, "BackoffLimitExceeded",
                               "Job has reached the specified backoff limit")
            elif spec.get("activeDeadlineSeconds") is not None and \
                    now - jrt.t_start >= spec["activeDeadlineSeconds"]:
                jrt.outcome = (False, "DeadlineExceeded",
                               "Job was active longer than specified "
                               "deadline")
            if jrt.outcome:
                for p in active:
                    self.delete_pod(p)
                terminating += active
                active = []
        if jrt.outcome is None:
            want = min(par, comps - succ) - len(active)
            while want > 0 and now >= jrt.next_create:
                active.append(self.create_pod(job, jrt))
                want -= 1
        ready = sum(1 for p in active if self.prt[p["metadata"]["uid"]]
                    .phase == "Running" and all(
                        "running" in c.state for c in
                        self.prt[p["metadata"]["uid"]].app()))
        st["active"] = len(active)
        st["ready"] = ready
        st["succeeded"] = succ
        st["failed"] = fail
        st["terminating"] = len(terminating)
        st["uncountedTerminatedPods"] = {}
        if jrt.outcome:
            ok, reason, msg = jrt.outcome
            legacy = self.conditions == "legacy"
            interim = "SuccessCriteriaMet" if ok else "FailureTarget"
            fresh = False
            if not legacy and not self.has_cond(job, interim):
                self.set_cond(job, interim, reason, msg, now)
                fresh = True
            if legacy or (not terminating and not fresh):
                if ok:
                    self.set_cond(job, "Complete",
                                  "" if legacy else reason,
                                  "" if legacy else msg, now)
                    st["completionTime"] = iso(now)
                else:
                    self.set_cond(job, "Failed", reason, msg, now)
                jrt.finished_at = now
                st["active"] = 0
                st["ready"] = 0
        for k in ("active", "succeeded", "failed"):
            if st.get(k) == 0:
                st.pop(k, None)
        if dumps(st) != before:
            self.store.put("jobs", job, "MODIFIED")

    def tick(self):
        now = time.time()
        with self.lock:
            for pod in list(self.store.objs["pods"].values()):
                rt = self.prt.get(pod["metadata"]["uid"])
                if pod["metadata"].get("deletionTimestamp"):
                    self.finish_pod(pod, rt, now)
                elif rt and self.step_scripted(pod, rt, now):
                    render_pod_status(pod, rt)
                    self.store.put("pods", pod, "MODIFIED")
            juids = set()
            for job in list(self.store.objs["jobs"].values()):
                juids.add(job["metadata"]["uid"])
                try:
                    self.reconcile_job(job, now)
                except Exception:
                    log("controller: %s" % traceback.format_exc())
            # garbage collection: pods whose owner Job is gone
            for pod in list(self.store.objs["pods"].values()):
                refs = pod["metadata"].get("ownerReferences") or []
                if refs and not any(r.get("uid") in juids for r in refs):
                    self.delete_pod(pod)
            for uid in list(self.jrt):
                if uid not in juids:
                    del self.jrt[uid]

    def controller(self):
        while not self.stopping:
            try:
                self.tick()
            except Exception:
                log("controller: %s" % traceback.format_exc())
            time.sleep(self.a.tick_ms / 1000.0)

    def shutdown(self):
        self.stopping = True
        with self.lock:
            ps = list(self.procs.values())
            self.store.cv.notify_all()
        for p in ps:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        end = time.time() + 2
        while time.time() < end and any(p.poll() is None for p in ps):
            time.sleep(0.05)
        for p in ps:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        for mp in self.symlinks:
            try:
                os.unlink(mp)
            except OSError:
                pass


# ------------------------------------------------------------------ HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8s-emu"
    sys_version = ""

    def version_string(self):
        return "k8s-emu"

    def log_message(self, fmt, *args):
        if self.server.emu.a.verbose:
            log(fmt % args)

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self.warnings = []

    # -- low-level responses
    def send_json(self, code, obj, extra=None):
        body = (dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for w in self.warnings:
            self.send_header("Warning", '299 - "%s"' % w)
        for k, v in extra or []:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.rstatus = code

    def send_err(self, e):
        self.send_json(e.code, e.status, e.headers)

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self.rstatus = 200

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def body(self):
        self.body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                ln = self.rfile.readline().strip()
                sz = int(ln.split(b";")[0], 16)
                if sz == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(sz)
                self.rfile.readline()
            return data
        if n > 64 * 1024 * 1024:
            raise ApiError(413, "RequestEntityTooLarge",
                           "request entity too large")
        return self.rfile.read(n) if n else b""

    def json_body(self, what="Job"):
        raw = self.body()
        try:
            o = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request('%s in version "v1" cannot be handled as a '
                              '%s: %s' % (what, what, e))
        if not isinstance(o, dict):
            raise bad_request('%s in version "v1" cannot be handled as a '
                              '%s: json: cannot unmarshal into Go value of '
                              'type struct' % (what, what))
        return o

    # -- dispatch
    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def dispatch(self):
        emu = self.server.emu
        t0 = time.time()
        self.rstatus = 0
        self.warnings = []
        self.fault = None
        self.body_read = False
        self.auth_kind = "none"
        self.auth_note = ""
        u = urllib.parse.urlsplit(self.path)
        self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(
            u.query, keep_blank_values=True).items()}
        path = u.path
        try:
            if path.startswith("/_emu/"):
                self.admin(path)
                return
            fault = self.match_fault(path)
            if fault and fault.get("mode") == "reset":
                self.reset_conn()
                return
            if fault and fault.get("mode") == "slow":
                time.sleep(fault.get("delay_ms", 1000) / 1000.0)
                fault = None
            self.authenticate()
            if fault and fault.get("mode", "status") == "status":
                raise self.fault_error(fault)
            self.fault = fault
            self.route(path)
        except ApiError as e:
            try:
                # an error answered before the body was read (injected
                # faults, auth): drain it, or the next request on this
                # kept-alive connection starts inside it
                if not self.body_read and e.code != 413:
                    self.body()
                self.send_err(e)
            except (OSError, ValueError, ApiError):
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            log("internal error: %s" % traceback.format_exc())
            try:
                self.send_err(ApiError(500, "InternalError",
                                       "Internal error occurred"))
            except OSError:
                pass
        finally:
            if not path.startswith("/_emu/"):
                with emu.lock:
                    emu.reqlog.append({
                        "time": iso_nano(t0), "method": self.command,
                        "path": self.path, "status": self.rstatus,
                        "auth": self.auth_kind, "note": self.auth_note,
                        "accept": self.headers.get("Accept", ""),
                        "content_type": self.headers.get("Content-Type", ""),
                        "user_agent": self.headers.get("User-Agent", ""),
                        "ms": int((time.time() - t0) * 1000)})

    def match_fault(self, path):
        emu = self.server.emu
        with emu.lock:
            for f in emu.faults:
                if f["count"] <= 0:
                    continue
                if f.get("method") and f["method"] != self.command:
                    continue
                if not re.search(f.get("path_regex", ""), self.path):
                    continue
                if f.get("mode") in ("silent-watch", "drop-watch") and \
                        self.q.get("watch") not in ("true", "1"):
                    continue
                f["count"] -= 1
                f["hits"] = f.get("hits", 0) + 1
                return dict(f)
        return None

    def fault_error(self, f):
        code = int(f.get("status", 500))
        reason = {429: "TooManyRequests", 500: "InternalError",
                  503: "ServiceUnavailable", 504: "Timeout",
                  401: "Unauthorized", 403: "Forbidden",
                  409: "Conflict", 410: "Expired"}.get(code, "InternalError")
        msg = f.get("message") or {
            429: "Too many requests, please try again later.",
            401: "Unauthorized",
            503: "the server is currently unable to handle the request"}.get(
            code, "Internal error occurred: injected fault")
        hdr = []
        det = None
        if code == 403 and not f.get("message"):
            verb = {"GET": "get", "POST": "create", "DELETE": "delete",
                    "PATCH": "patch", "PUT": "update"}.get(self.command,
                                                           "get")
            m = re.match(r"/apis?/(?:(batch)/)?v1/(?:namespaces/([^/]+)/)?"
                         r"([a-z]+)(?:/([^/?]+))?(?:/([a-z]+))?",
                         self.path)
            if m:
                grp, ns, res, name, sub = m.groups()
                if res == "namespaces":
                    res = None
                if not name and verb == "get":
                    verb = "watch" if self.q.get("watch") in ("true", "1") \
                        else "list"
                res = (res or "") + ("/" + sub if sub else "")
                msg = ('%s%s is forbidden: User "emu-user" cannot %s '
                       'resource "%s" in API group "%s"%s' % (
                           res, "." + grp if grp else "",
                           verb, res, grp or "",
                           ' in the namespace "%s"' % ns if ns else
                           " at the cluster scope"))
                det = {"group": grp, "kind": res} if grp else {"kind": res}
                if name:
                    det["name"] = name
        if code in (429, 503) and f.get("retry_after") is not None:
            hdr.append(("Retry-After", str(f["retry_after"])))
            det = {"retryAfterSeconds": int(f["retry_after"])}
        return ApiError(code, reason, msg, det, hdr)

    def reset_conn(self):
        self.rstatus = -1
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

    def authenticate(self):
        emu = self.server.emu
        if emu.a.no_auth or self.path.split("?")[0] in ("/healthz", "/livez",
                                                         "/readyz"):
            self.auth_kind = "anonymous"
            return
        h = self.headers.get("Authorization", "")
        if h[:7].lower() == "bearer ":
            tok = h[7:].strip()
            if tok.startswith("k8s-aws-v1."):
                now = emu.eks_clock if emu.eks_clock is not None else \
                    time.time()
                ident, why = eks_verify(tok, emu.eks_creds, emu.eks_cluster,
                                        now + emu.eks_offset,
                                        emu.a.eks_lifetime)
                if ident and emu.eks_creds:
                    self.auth_kind = "eks"
                    self.auth_note = ident
                    return
                self.auth_kind = "eks-rejected"
                self.auth_note = why or "no EKS credentials configured"
                log("EKS token rejected: %s" % self.auth_note)
            elif any(hmac.compare_digest(tok, t) for t in emu.tokens):
                self.auth_kind = "bearer"
                return
            else:
                self.auth_kind = "bearer-rejected"
        raise ApiError(401, "Unauthorized", "Unauthorized")

    # -- admin API
    def admin(self, path):
        emu = self.server.emu
        parts = path.strip("/").split("/")[1:]
        m = self.command
        if m == "GET" and parts == ["info"]:
            with emu.lock:
                return self.send_json(200, {
                    "url": emu.url, "sandbox": emu.sandbox,
                    "conditions": emu.conditions, "gone_mode": emu.gone_mode,
                    "resourceVersion": str(emu.store.rv),
                    "compacted": str(emu.store.compacted),
                    "processes": sorted(emu.procs),
                    "watches": emu.open_watches,
                    "state_dir": emu.state_dir})
        if parts == ["requests"]:
            with emu.lock:
                if m == "DELETE":
                    emu.reqlog.clear()
                    return self.send_json(200, {"cleared": True})
                return self.send_json(200, list(emu.reqlog))
        if m == "GET" and parts == ["dump"]:
            with emu.lock:
                out = {}
                for r, objs in emu.store.objs.items():
                    items = [copy.deepcopy(o) for _, o in sorted(objs.items())]
                    if r == "secrets":
                        for o in items:
                            for k in ("data", "stringData"):
                                if k in o:
                                    o[k] = {x: "<redacted>" for x in o[k]}
                    out[r] = items
                return self.send_json(200, out)
        if parts == ["fault"]:
            if m == "DELETE":
                with emu.lock:
                    emu.faults = []
                return self.send_json(200, {"faults": []})
            if m == "GET":
                with emu.lock:
                    return self.send_json(200, {"faults": emu.faults})
            f = self.json_body("Fault")
            f.setdefault("count", 1)
            f.setdefault("mode", "status")
            f.setdefault("path_regex", "")
            if f["mode"] not in ("status", "reset", "silent-watch",
                                 "drop-watch", "slow"):
                raise bad_request("unknown fault mode")
            try:
                re.compile(f["path_regex"])
                f["count"] = int(f["count"])
            except (re.error, ValueError, TypeError) as e:
                raise bad_request("bad fault: %s" % e)
            with emu.lock:
                emu.faults.append(f)
            return self.send_json(201, f)
        if m == "POST" and parts == ["compact"]:
            emu.store.compact()
            return self.send_json(200, {"compacted": str(emu.store.compacted)})
        if m == "POST" and parts == ["watches", "close"]:
            with emu.lock:
                emu.watch_gen += 1
                emu.store.cv.notify_all()
            return self.send_json(200, {"closed": True})
        if m == "POST" and parts == ["config"]:
            c = self.json_body("Config")
            with emu.lock:
                if c.get("conditions") in ("legacy", "1.31"):
                    emu.conditions = c["conditions"]
                if c.get("gone_mode") in ("event", "http"):
                    emu.gone_mode = c["gone_mode"]
                if c.get("gone_reason") in ("Expired", "Gone"):
                    emu.gone_reason = c["gone_reason"]
                if "history" in c:
                    emu.store.history = max(1, int(c["history"]))
                if "eks_clock_offset_s" in c:
                    emu.eks_offset = float(c["eks_clock_offset_s"])
                if "eks_clock" in c:
                    emu.eks_clock = None if c["eks_clock"] is None else \
                        parse_time(c["eks_clock"])
                if "bookmark_interval_s" in c:
                    emu.bookmark_interval = float(c["bookmark_interval_s"])
            return self.send_json(200, {"conditions": emu.conditions,
                                        "gone_mode": emu.gone_mode})
        if m == "POST" and len(parts) == 4 and parts[0] == "jobs" and \
                parts[3] in ("complete", "fail"):
            with emu.lock:
                job = emu.store.get("jobs", parts[1], parts[2])
                if job is None:
                    raise not_found("jobs", parts[2])
                jrt = emu.jrt.setdefault(job["metadata"]["uid"], JobRT())
                jrt.forced = parts[3]
                emu.reconcile_job(job, time.time())
                return self.send_json(200, job)
        raise ApiError(404, "NotFound", "the server could not find the "
                       "requested resource")

    # -- API routes
    def route(self, path):
        emu = self.server.emu
        p = [urllib.parse.unquote(x) for x in path.strip("/").split("/")]
        if path in ("/healthz", "/livez", "/readyz"):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(body)
            self.rstatus = 200
            return
        if path == "/version":
            ma, mi = emu.a.k8s_version.split(".")[:2]
            return self.send_json(200, {
                "major": ma, "minor": mi,
                "gitVersion": "v%s.%s.0" % (ma, mi),
                "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22.0",
                "compiler": "gc", "platform": "linux/amd64"})
        if path == "/api":
            return self.send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": "127.0.0.1:%d" % emu.port}]})
        if path == "/apis":
            return self.send_json(200, {
                "kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                    "name": "batch", "versions": [{
                        "groupVersion": "batch/v1", "version": "v1"}],
                    "preferredVersion": {"groupVersion": "batch/v1",
                                         "version": "v1"}}]})
        if path == "/apis/batch":
            return self.send_json(200, {
                "kind": "APIGroup", "apiVersion": "v1", "name": "batch",
                "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "batch/v1",
                                     "version": "v1"}})
        if path in ("/api/v1", "/apis/batch/v1"):
            return self.send_json(200, discovery(path == "/api/v1"))
        if p[:2] == ["api", "v1"]:
            rest = p[2:]
            core = True
        elif p[:3] == ["apis", "batch", "v1"]:
            rest = p[3:]
            core = False
        else:
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces":
            ns = rest[1]
            rest = rest[2:]
        if not rest:
            if ns is not None and len(rest) == 0 and core:
                raise ApiError(404, "NotFound", "the server could not find "
                               "the requested resource")
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        res = rest[0]
        if res not in RES or (RES[res][0] == "batch") == core:
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub and not (res == "pods" and sub == "log")
                             and not (res == "jobs" and sub == "status")):
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        m = self.command
        if name is None:
            if m == "GET" and self.q.get("watch") in ("true", "1"):
                return self.watch(res, ns, None)
            if m == "GET":
                return self.list(res, ns)
            if m == "POST" and ns is not None:
                return self.create(res, ns)
        else:
            if ns is None:
                raise ApiError(404, "NotFound", "the server could not find "
                               "the requested resource")
            if sub == "log" and m == "GET":
                return self.pod_log(ns, name)
            if m == "GET" and self.q.get("watch") in ("true", "1") and \
                    not sub:
                return self.watch(res, ns, name)
            if m == "GET":
                with emu.lock:
                    o = emu.store.get(res, ns, name)
                    if o is None:
                        raise not_found(res, name)
                    return self.send_json(200, o)
            if m == "DELETE" and not sub:
                return self.delete(res, ns, name)
            if m == "PATCH" and not sub:
                return self.patch(res, ns, name)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow "
                       "this method on the requested resource")

    def list(self, res, ns):
        emu = self.server.emu
        ls = parse_label_selector(self.q.get("labelSelector", ""))
        fs = parse_field_selector(res, self.q.get("fieldSelector", ""))
        try:
            limit = int(self.q.get("limit") or 0)
        except ValueError:
            raise bad_request("invalid limit")
        cont = self.q.get("continue")
        start = None
        with emu.lock:
            rv = emu.store.rv
            if cont:
                try:
                    c = json.loads(base64.urlsafe_b64decode(cont.encode()))
                    start = tuple(c["start"])
                    crv = int(c["rv"])
                except Exception:
                    raise bad_request("invalid continue token")
                if crv < emu.store.compacted:
                    raise ApiError(
                        410, "Expired", "The provided continue parameter is "
                        "too old to display a consistent list result. You "
                        "can start a new list without the continue parameter.")
            items = []
            for key, o in sorted(emu.store.objs[res].items()):
                if ns is not None and key[0] != ns:
                    continue
                if start is not None and key <= start:
                    continue
                if not labels_match(ls, o["metadata"].get("labels")) or \
                        not fields_match(fs, o):
                    continue
                items.append((key, o))
            meta = {"resourceVersion": str(rv)}
            if limit and len(items) > limit:
                rest = len(items) - limit
                items = items[:limit]
                meta["continue"] = base64.urlsafe_b64encode(dumps({
                    "rv": rv, "start": list(items[-1][0])}).encode()).decode()
                if not ls and not fs:
                    meta["remainingItemCount"] = rest
            out = []
            for _, o in items:
                o = copy.deepcopy(o)
                o.pop("kind", None)
                o.pop("apiVersion", None)
                out.append(o)
            g, v, kind, _ = RES[res]
            self.send_json(200, {"kind": kind + "List",
                                 "apiVersion": (g + "/" + v) if g else v,
                                 "metadata": meta, "items": out})

    # -- watch
    def watch(self, res, ns, name):
        emu = self.server.emu
        ls = parse_label_selector(self.q.get("labelSelector", ""))
        fs = parse_field_selector(res, self.q.get("fieldSelector", ""))
        if name:
            fs.append(("=", "metadata.name", name))
        rvq = self.q.get("resourceVersion", "")
        bookmarks = self.q.get("allowWatchBookmarks") in ("true", "1")
        try:
            tmo = float(self.q["timeoutSeconds"]) if \
                self.q.get("timeoutSeconds") else emu.a.watch_timeout
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        if rvq not in ("", "0"):
            try:
                since = int(rvq)
            except ValueError:
                raise ApiError(400, "BadRequest", 'invalid resource version: '
                               '%s' % rvq)
        else:
            since = None
        fault = getattr(self, "fault", None)

        def match(o):
            mo = o["metadata"]
            return (ns is None or mo["namespace"] == ns) and \
                labels_match(ls, mo.get("labels")) and fields_match(fs, o)

        with emu.lock:
            gone = since is not None and since < emu.store.compacted
            if gone and emu.gone_mode == "http":
                raise ApiError(410, emu.gone_reason,
                               "too old resource version: %d (%d)" % (
                                   since, emu.store.compacted + 1))
            initial = []
            if since is None:
                for _, o in sorted(emu.store.objs[res].items()):
                    if match(o):
                        initial.append(dumps({"type": "ADDED", "object": o}))
                since = emu.store.rv
            gen = emu.watch_gen
            emu.open_watches += 1
        try:
            self.watch_stream(res, match, since, gone, initial, gen, fault,
                              bookmarks, tmo)
        finally:
            with emu.lock:
                emu.open_watches -= 1

    def watch_stream(self, res, match, since, gone, initial, gen, fault,
                     bookmarks, tmo):
        emu = self.server.emu
        self.close_connection = True
        self.start_chunked("application/json")
        if gone:
            self.chunk((dumps({"type": "ERROR", "object": status_obj(
                410, emu.gone_reason, "too old resource version: %d (%d)"
                % (since, emu.store.compacted + 1))}) + "\n").encode())
            self.end_chunked()
            return
        for ev in initial:
            self.chunk((ev + "\n").encode())
        if fault and fault["mode"] == "silent-watch":
            end = time.time() + tmo
            with emu.lock:
                while not emu.stopping and time.time() < end and \
                        gen == emu.watch_gen:
                    emu.store.cv.wait(0.5)
            return
        if fault and fault["mode"] == "drop-watch":
            self.reset_conn()
            return
        g, v, kind, _ = RES[res]
        deadline = time.time() + tmo
        next_bm = time.time() + emu.bookmark_interval
        last = since
        closing = False
        while True:
            out = []
            with emu.lock:
                # on close, still send what happened before it
                closing = emu.stopping or gen != emu.watch_gen
                if last < emu.store.compacted:
                    out.append(dumps({"type": "ERROR", "object": status_obj(
                        410, emu.gone_reason,
                        "too old resource version: %d (%d)"
                        % (last, emu.store.compacted + 1))}))
                    last = None
                else:
                    for erv, eres, etype, o in emu.store.events:
                        if erv <= last or eres != res:
                            continue
                        if match(o):
                            out.append(dumps({"type": etype, "object": o}))
                    if emu.store.events:
                        last = max(last, emu.store.events[-1][0])
                now = time.time()
                if not out and not closing:
                    if now >= deadline:
                        break
                    emu.store.cv.wait(min(0.5, max(deadline - now, 0.01),
                                          max(next_bm - now, 0.01)))
                if bookmarks and not closing and last and \
                        (time.time() >= next_bm or time.time() >= deadline):
                    out.append(dumps({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": (g + "/" + v) if g else v,
                        "metadata": {"resourceVersion": str(last)}}}))
                    next_bm = time.time() + emu.bookmark_interval
                    if time.time() >= deadline:
                        deadline = 0
            if out:
                self.chunk(("\n".join(out) + "\n").encode())
            if closing or last is None or deadline == 0:
                break
        self.end_chunked()

    # -- create
    def create(self, res, ns):
        emu = self.server.emu
        if res == "pods":
            raise ApiError(405, "MethodNotAllowed", "pods are created by the "
                           "Job controller of this emulator")
        o = self.json_body(RES[res][2])
        dry = self.q.get("dryRun") == "All"
        fv = self.q.get("fieldValidation", "Warn")
        md = o.get("metadata")
        if md is None:
            md = o["metadata"] = {}
        if not isinstance(md, dict):
            raise bad_request('%s in version "v1" cannot be handled as a %s: '
                              'metadata is not an object'
                              % (RES[res][2], RES[res][2]))
        if res == "jobs":
            check_types(o)
        for k in ("name", "generateName", "namespace"):
            if md.get(k) is not None and not isinstance(md[k], str):
                raise bad_request('%s in version "v1" cannot be handled as '
                                  'a %s: json: cannot unmarshal %s into Go '
                                  'struct field ObjectMeta.metadata.%s of '
                                  'type string' % (RES[res][2], RES[res][2],
                                                   GO_TYPES.get(type(md[k]),
                                                                "value"), k))
        if res in ("secrets", "configmaps"):
            for k in ("data", "stringData"):
                d = o.get(k)
                if d is not None and (not isinstance(d, dict) or not all(
                        isinstance(v, str) for v in d.values())):
                    raise bad_request('%s in version "v1" cannot be handled '
                                      'as a %s: %s must be a map of strings'
                                      % (RES[res][2], RES[res][2], k))
        if md.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not "
                              "match the namespace sent on the request")
        if res == "jobs":
            unk = unknown_fields(o)
            if unk and fv == "Strict":
                raise bad_request('strict decoding error: ' + ", ".join(
                    'unknown field "%s"' % u for u in unk))
            if unk and fv == "Warn":
                for u in unk:
                    self.warnings.append('unknown field "%s"' % u)
        with emu.lock:
            name = md.get("name")
            if not name and md.get("generateName"):
                name = md["generateName"][:58] + "".join(
                    random.choice(NAME_CHARS) for _ in range(5))
            if not name:
                raise ApiError(422, "Invalid", "%s \"\" is invalid: "
                               "metadata.name: Required value: name or "
                               "generateName is required" % ("%s.%s" % (
                                   RES[res][2], RES[res][0]) if RES[res][0]
                                   else RES[res][2]),
                               {"kind": RES[res][2], "causes": [{
                                   "reason": "FieldValueRequired",
                                   "message": "Required value: name or "
                                   "generateName is required",
                                   "field": "metadata.name"}]})
            if res == "jobs":
                self.prepare_job(o, ns, name)
            else:
                if not DNS1123_SUB.match(name) or len(name) > 253:
                    raise ApiError(422, "Invalid", '%s "%s" is invalid: '
                                   "metadata.name: Invalid value: \"%s\""
                                   % (RES[res][2], name, name),
                                   {"name": name, "kind": RES[res][2]})
                if res == "secrets":
                    o.setdefault("type", "Opaque")
                    for k, v in (o.get("data") or {}).items():
                        try:
                            base64.b64decode(v, validate=True)
                        except Exception:
                            raise bad_request(
                                'Secret in version "v1" cannot be handled as '
                                'a Secret: illegal base64 data')
            if emu.store.get(res, ns, name):
                raise ApiError(409, "AlreadyExists",
                               '%s "%s" already exists' % (gk(res), name),
                               res_details(res, name))
            md = o["metadata"]
            md["name"] = name
            md["namespace"] = ns
            if res != "jobs":
                md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = iso()
            if res == "jobs":
                md["generation"] = 1
            md["managedFields"] = [{
                "manager": self.q.get("fieldManager") or
                self.headers.get("User-Agent", "unknown").split("/")[0],
                "operation": "Update", "apiVersion": "batch/v1" if
                res == "jobs" else "v1", "time": iso(),
                "fieldsType": "FieldsV1", "fieldsV1": {}}]
            g, v, kind, _ = RES[res]
            o["kind"] = kind
            o["apiVersion"] = (g + "/" + v) if g else v
            if res == "jobs":
                o["status"] = {}
            for k in ("resourceVersion", "deletionTimestamp"):
                md.pop(k, None)
            if dry:
                md["resourceVersion"] = str(emu.store.rv)
                return self.send_json(201, o)
            if res == "secrets" and "stringData" in o:
                d = o.setdefault("data", {})
                for k, val in o.pop("stringData").items():
                    d[k] = base64.b64encode(str(val).encode()).decode()
            emu.store.put(res, o, "ADDED")
            if res == "jobs":
                emu.jrt[md["uid"]] = JobRT()
            return self.send_json(201, o)

    def prepare_job(self, o, ns, name):
        check_types(o)
        if o.get("kind") not in (None, "Job") or \
                o.get("apiVersion") not in (None, "batch/v1"):
            raise bad_request('the API version in the data (%s) does not '
                              'match the expected API version (batch/v1)'
                              % o.get("apiVersion"))
        md = o["metadata"]
        uid = str(uuid.uuid4())
        md["uid"] = uid
        spec = o.get("spec")
        if not isinstance(spec, dict):
            spec = o["spec"] = {}
        tmpl = spec.get("template")
        if not isinstance(tmpl, dict):
            tmpl = spec["template"] = {}
        tm = tmpl.get("metadata")
        if not isinstance(tm, dict):
            tm = tmpl["metadata"] = {}
        user_tl = bool(tm.get("labels"))
        tl = tm.setdefault("labels", {})
        if not isinstance(tl, dict):
            raise bad_request('Job in version "v1" cannot be handled as a '
                              'Job: labels is not an object')
        if not spec.get("manualSelector"):
            tl["batch.kubernetes.io/controller-uid"] = uid
            tl["batch.kubernetes.io/job-name"] = name
            tl["controller-uid"] = uid
            tl["job-name"] = name
        errs = validate_job(o, name)
        if not errs and len(name) > 63:
            errs.append(("FieldValueInvalid", "spec.template.labels",
                         'Invalid value: "%s": must be no more than 63 '
                         'bytes' % name))
            if user_tl:
                errs.append(("FieldValueInvalid", "metadata.labels",
                             'Invalid value: "%s": must be no more than 63 '
                             'bytes' % name))
        # de-duplicate identical errors
        seen, uniq = set(), []
        for e in errs:
            if e not in seen:
                seen.add(e)
                uniq.append(e)
        errs = uniq
        if errs:
            msgs = ["%s: %s" % (f, m) for _, f, m in errs]
            text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
            raise ApiError(422, "Invalid", 'Job.batch "%s" is invalid: %s'
                           % (name, text), {
                               "name": name, "group": "batch", "kind": "Job",
                               "causes": [{"reason": r, "message": m,
                                           "field": f} for r, f, m in errs]})
        if "." in name:
            self.warnings.append(
                "metadata.name: this is used in Pod names and hostnames, "
                "which can result in surprising behavior; a DNS label is "
                "recommended: [must not contain dots]")
        if not md.get("labels"):
            md["labels"] = dict(tl)
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
            spec["parallelism"] = 1
        spec.setdefault("parallelism", 1)
        spec.setdefault("backoffLimit", 2147483647 if
                        spec.get("backoffLimitPerIndex") is not None else 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("manualSelector", False)
        spec.setdefault("podReplacementPolicy", "Failed" if
                        spec.get("podFailurePolicy") else
                        "TerminatingOrFailed")
        if not spec.get("manualSelector"):
            spec["selector"] = {"matchLabels": {
                "batch.kubernetes.io/controller-uid": uid}}
        default_pod_spec(tmpl.setdefault("spec", {}))

    # -- patch
    def patch(self, res, ns, name):
        emu = self.server.emu
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct not in ("application/merge-patch+json",
                      "application/strategic-merge-patch+json",
                      "application/json-patch+json"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the "
                           "request was in an unknown format - accepted "
                           "media types include: application/json-patch+"
                           "json, application/merge-patch+json, application/"
                           "strategic-merge-patch+json")
        raw = self.body()
        try:
            patch = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request("error decoding patch: %s" % e)
        with emu.lock:
            o = emu.store.get(res, ns, name)
            if o is None:
                raise not_found(res, name)
            new = copy.deepcopy(o)
            try:
                if ct == "application/json-patch+json":
                    new = json_patch(new, patch)
                else:
                    if not isinstance(patch, dict):
                        raise ValueError("patch is not an object")
                    new = merge_patch(new, patch)
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise ApiError(422, "Invalid", "the server rejected our "
                               "request due to an error in our request: %s"
                               % e)
            if not isinstance(new, dict) or \
                    not isinstance(new.get("metadata"), dict):
                raise ApiError(422, "Invalid", "metadata: Required value")
            for k in ("name", "namespace", "uid", "creationTimestamp"):
                if new["metadata"].get(k) != o["metadata"].get(k):
                    raise ApiError(422, "Invalid", '%s "%s" is invalid: '
                                   'metadata.%s: Invalid value: field is '
                                   'immutable' % (RES[res][2], name, k))
            if res == "jobs":
                for k in ("template", "selector", "completionMode"):
                    if new.get("spec", {}).get(k) != o["spec"].get(k):
                        raise ApiError(
                            422, "Invalid", 'Job.batch "%s" is invalid: '
                            'spec.%s: Invalid value: field is immutable'
                            % (name, k), {"name": name, "group": "batch",
                                          "kind": "Job", "causes": [{
                                              "reason": "FieldValueInvalid",
                                              "message": "Invalid value: "
                                              "field is immutable",
                                              "field": "spec." + k}]})
                new["status"] = o["status"]
                if new["spec"] != o["spec"]:
                    new["metadata"]["generation"] = \
                        o["metadata"].get("generation", 1) + 1
            if res == "pods":
                new["spec"] = o["spec"]
                new["status"] = o["status"]
            new["metadata"]["resourceVersion"] = \
                o["metadata"]["resourceVersion"]
            if new == o:
                return self.send_json(200, o)
            o.clear()
            o.update(new)
            emu.store.put(res, o, "MODIFIED")
            return self.send_json(200, o)

    # -- delete
    def delete(self, res, ns, name):
        emu = self.server.emu
        raw = self.body()
        opts = {}
        if raw.strip():
            try:
                opts = json.loads(raw)
            except ValueError as e:
                raise bad_request("DeleteOptions in version \"v1\" cannot be "
                                  "handled as a DeleteOptions: %s" % e)
            if not isinstance(opts, dict):
                raise bad_request("DeleteOptions must be an object")
        else:
            for k in ("propagationPolicy", "gracePeriodSeconds", "dryRun"):
                if k in self.q:
                    opts[k] = self.q[k]
            if "dryRun" in opts:
                opts["dryRun"] = [opts["dryRun"]]
        pol = opts.get("propagationPolicy")
        self.auth_note = (self.auth_note + " " if self.auth_note else "") + \
            "propagationPolicy=%s" % pol
        if pol is None and opts.get("orphanDependents") is not None:
            pol = "Orphan" if opts["orphanDependents"] else "Background"
        if pol not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", 'DeleteOptions.meta.k8s.io "" is '
                           'invalid: propagationPolicy: Unsupported value: '
                           '"%s": supported values: "Foreground", '
                           '"Background", "Orphan", "nil"' % pol)
        dry = "All" in (opts.get("dryRun") or [])
        with emu.lock:
            o = emu.store.get(res, ns, name)
            if o is None:
                raise not_found(res, name)
            pre = opts.get("preconditions") or {}
            md = o["metadata"]
            if pre.get("uid") and pre["uid"] != md["uid"]:
                raise ApiError(409, "Conflict", 'Operation cannot be '
                               'fulfilled on %s "%s": Precondition failed: '
                               'UID in precondition: %s, UID in object '
                               'meta: %s' % (gk(res), name, pre["uid"],
                                             md["uid"]),
                               res_details(res, name))
            if pre.get("resourceVersion") and \
                    pre["resourceVersion"] != md["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be '
                               'fulfilled on %s "%s": Precondition failed: '
                               'ResourceVersion in precondition: %s, '
                               'ResourceVersion in object meta: %s' % (
                                   gk(res), name, pre["resourceVersion"],
                                   md["resourceVersion"]),
                               res_details(res, name))
            if dry:
                return self.send_json(200, o)
            if res == "pods":
                g = opts.get("gracePeriodSeconds")
                emu.delete_pod(o, None if g is None else int(g))
                return self.send_json(200, o)
            if res != "jobs":
                emu.store.remove(res, ns, name)
                st = status_obj(200, "", "", res_details(res, name,
                                                         uid=md["uid"]))
                st["status"] = "Success"
                del st["reason"], st["message"]
                return self.send_json(200, st)
            if md.get("deletionTimestamp"):
                return self.send_json(200, o)
            if pol is None:
                self.warnings.append(
                    "child pods are preserved by default when jobs are "
                    "deleted; set propagationPolicy=Background to remove "
                    "them or set propagationPolicy=Orphan to suppress this "
                    "warning")
                pol = "Orphan"
            if pol == "Background":
                emu.store.remove("jobs", ns, name)
                st = status_obj(200, "", "", res_details(res, name,
                                                         uid=md["uid"]))
                st["status"] = "Success"
                del st["reason"], st["message"]
                return self.send_json(200, st)
            md["deletionTimestamp"] = iso()
            md["deletionGracePeriodSeconds"] = 0
            md["finalizers"] = (md.get("finalizers") or []) + [
                "orphan" if pol == "Orphan" else "foregroundDeletion"]
            md["generation"] = md.get("generation", 1) + 1
            emu.store.put("jobs", o, "MODIFIED")
            return self.send_json(200, o)

    # -- logs
    def pod_log(self, ns, name):
        emu = self.server.emu
        q = self.q
        try:
            tail = int(q["tailLines"]) if q.get("tailLines") else None
            limit = int(q["limitBytes"]) if q.get("limitBytes") else None
            since_s = int(q["sinceSeconds"]) if q.get("sinceSeconds") \
                else None
            since_t = parse_time(q["sinceTime"]) if q.get("sinceTime") \
                else None
        except ValueError as e:
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: '
                           '%s' % (name, e))
        if (tail is not None and tail < 0) or (limit is not None and
                                                limit < 1):
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: '
                           'tailLines or limitBytes out of range' % name)
        if since_s is not None and since_t is not None:
            raise ApiError(422, "Invalid", 'PodLogOptions "%s" is invalid: '
                           'sinceSeconds: Forbidden: at most one of '
                           '`sinceTime` or `sinceSeconds` may be specified'
                           % name)
        if since_s is not None:
            since_t = time.time() - since_s
        follow = q.get("follow") in ("true", "1")
        prev = q.get("previous") in ("true", "1")
        stamps = q.get("timestamps") in ("true", "1")
        with emu.lock:
            pod = emu.store.get("pods", ns, name)
            if pod is None:
                raise not_found("pods", name)
            rt = emu.prt.get(pod["metadata"]["uid"])
            cname = q.get("container")
            app = [c["name"] for c in pod["spec"].get("containers") or []]
            ini = [c["name"] for c in pod["spec"].get("initContainers") or []]
            if not cname:
                if len(app) != 1:
                    msg = ("a container name must be specified for pod %s, "
                           "choose one of: [%s]" % (name, " ".join(app)))
                    if ini:
                        msg += " or one of the init containers: [%s]" % \
                            " ".join(ini)
                    raise bad_request(msg)
                cname = app[0]
            c = rt.find(cname) if rt else None
            if cname not in app + ini or c is None:
                raise bad_request("container %s is not valid for pod %s"
                                  % (cname, name))
            if not pod["spec"].get("nodeName"):
                body = b""
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.rstatus = 200
                return
            if prev:
                if len(c.instances) < 2:
                    raise bad_request('previous terminated container "%s" in '
                                      'pod "%s" not found' % (cname, name))
                inst = c.instances[-2]
            else:
                if not c.instances:
                    raise bad_request('container "%s" in pod "%s" is waiting '
                                      'to start: %s' % (
                                          cname, name, (c.state.get(
                                              "waiting") or {}).get(
                                              "reason", "ContainerCreating")))
                inst = c.instances[-1]
            lines = list(inst["lines"])
        uid = pod["metadata"]["uid"]

        def fmt(t, ln):
            return (iso_nano(t).encode() + b" " + ln) if stamps else ln

        if since_t is not None:
            lines = [x for x in lines if x[0] >= since_t]
        if tail is not None:
            lines = lines[-tail:] if tail else []
        data = b"".join(fmt(t, ln) for t, ln in lines)
        if not follow:
            if limit is not None:
                data = data[:limit]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.rstatus = 200
            return
        self.close_connection = True
        self.start_chunked("text/plain")
        sent = 0

        def emit(d):
            nonlocal sent
            if limit is not None:
                d = d[:max(limit - sent, 0)]
            self.chunk(d)
            sent += len(d)

        emit(data)
        pos = len(inst["lines"]) if since_t is None and tail is None else None
        if pos is None:
            with emu.lock:
                pos = len(inst["lines"])
        while limit is None or sent < limit:
            with emu.lock:
                new = inst["lines"][pos:]
                pos += len(new)
                done = inst["done"] or emu.stopping or \
                    emu.store.get("pods", ns, name) is None or \
                    emu.store.get("pods", ns, name)["metadata"]["uid"] != uid
                if not new and not done:
                    emu.store.cv.wait(0.5)
                    continue
            if new:
                emit(b"".join(fmt(t, ln) for t, ln in new))
            elif done:
                break
        self.end_chunked()


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (also used for strategic merge)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def json_patch(doc, ops):
    """RFC 6902 JSON patch: add, replace, remove, test."""
    if not isinstance(ops, list):
        raise ValueError("json patch is not a list")
    for op in ops:
        path = op["path"]
        parts = [p.replace("~1", "/").replace("~0", "~")
                 for p in path.split("/")[1:]]
        if not parts:
            raise ValueError("empty path")
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else \
                parent[p]
        last = parts[-1]
        kind = op["op"]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(idx, op["value"])
            elif kind == "replace":
                parent[idx] = op["value"]
            elif kind == "remove":
                del parent[idx]
            elif kind == "test":
                if parent[idx] != op["value"]:
                    raise ValueError("test failed at %s" % path)
            else:
                raise ValueError("unsupported op %s" % kind)
        else:
            if kind in ("add", "replace"):
                if kind == "replace" and last not in parent:
                    raise KeyError(path)
                parent[last] = op["value"]
            elif kind == "remove":
                del parent[last]
            elif kind == "test":
                if parent.get(last) != op["value"]:
                    raise ValueError("test failed at %s" % path)
            else:
                raise ValueError("unsupported op %s" % kind)
    return doc


def discovery(core):
    verbs = ["create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch"]
    if core:
        return {"kind": "APIResourceList", "groupVersion": "v1",
                "resources": [
                    {"name": "pods", "singularName": "pod",
                     "namespaced": True, "kind": "Pod", "verbs": verbs,
                     "shortNames": ["po"], "categories": ["all"]},
                    {"name": "pods/log", "singularName": "",
                     "namespaced": True, "kind": "Pod", "verbs": ["get"]},
                    {"name": "secrets", "singularName": "secret",
                     "namespaced": True, "kind": "Secret", "verbs": verbs},
                    {"name": "configmaps", "singularName": "configmap",
                     "namespaced": True, "kind": "ConfigMap", "verbs": verbs,
                     "shortNames": ["cm"]}]}
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "batch/v1", "resources": [
                {"name": "jobs", "singularName": "job", "namespaced": True,
                 "kind": "Job", "verbs": verbs, "categories": ["all"]},
                {"name": "jobs/status", "singularName": "",
                 "namespaced": True, "kind": "Job",
                 "verbs": ["get", "patch", "update"]}]}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def finish_request(self, request, client_address):
        # TLS handshakes happen here, in the request's own thread
        if self.ctx is not None:
            request.settimeout(10)
            try:
                request = self.ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            request.settimeout(None)
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.ctx is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (OSError, ValueError)) and not self.emu.a.verbose:
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


def make_tls(d):
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = (os.path.join(d, x) for x in ("srv.key", "srv.csr",
                                                  "srv.crt"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    run = lambda a: subprocess.run(["openssl"] + a, check=True,
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    run(["req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca_crt,
                                 "-days", "3", "-subj", "/CN=k8s-emu-ca",
                                 "-addext",
                                 "basicConstraints=critical,CA:TRUE",
                                 "-addext",
                                 "keyUsage=critical,keyCertSign,cRLSign"])
    run(["req", "-new"] + ec + ["-keyout", key, "-out", csr,
                                "-subj", "/CN=127.0.0.1"])
    run(["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "3", "-extfile", ext])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx, ca_crt


def write_kubeconfig(path, url, ca_pem, token):
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: emu",
             "  cluster:", "    server: %s" % url]
    if ca_pem:
        lines.append("    certificate-authority-data: %s" %
                     base64.b64encode(ca_pem).decode())
    lines += ["contexts:", "- name: emu", "  context:", "    cluster: emu",
              "    user: emu", "    namespace: default",
              "current-context: emu", "users:", "- name: emu", "  user:",
              "    token: %s" % token, "preferences: {}", ""]
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.rename(tmp, path)


def probe_bwrap(bwrap):
    try:
        r = subprocess.run([bwrap, "--die-with-parent", "--unshare-all",
                            "--share-net"] + sandbox_root() +
                           ["--", "/bin/sh", "-c", "exit 0"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode != 0:
        return r.stdout.decode("utf-8", "replace").strip() or \
            "exit status %d" % r.returncode
    return None


def main():
    ap = argparse.ArgumentParser(
        prog="k8s.py", description="Kubernetes API emulator for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--http", action="store_true",
                    help="plain http instead of TLS")
    ap.add_argument("--kubeconfig-out", metavar="FILE")
    ap.add_argument("--ca-out", metavar="FILE")
    ap.add_argument("--token-file", metavar="FILE", action="append",
                    help="accepted static bearer tokens, one a line")
    ap.add_argument("--token", action="append",
                    help="an accepted static token (tests only)")
    ap.add_argument("--no-auth", action="store_true")
    ap.add_argument("--eks-cluster", default="emu-cluster")
    ap.add_argument("--eks-cred", action="append", metavar="AKID:SECRET")
    ap.add_argument("--eks-cred-file", metavar="FILE")
    ap.add_argument("--eks-lifetime", type=float, default=900.0)
    ap.add_argument("--conditions", choices=("legacy", "1.31"),
                    default="1.31")
    ap.add_argument("--k8s-version", default="1.31")
    ap.add_argument("--gone-mode", choices=("event", "http"),
                    default="event")
    ap.add_argument("--gone-reason", choices=("Expired", "Gone"),
                    default="Expired")
    ap.add_argument("--history", type=int, default=10000)
    ap.add_argument("--watch-timeout", type=float, default=1800.0)
    ap.add_argument("--bookmark-interval", type=float, default=60.0)
    ap.add_argument("--tick-ms", type=int, default=50)
    ap.add_argument("--duration-ms", type=int, default=300)
    ap.add_argument("--grace-ms", type=int, default=300)
    ap.add_argument("--pod-backoff-ms", type=int, default=0)
    ap.add_argument("--restart-backoff-ms", type=int, default=200)
    ap.add_argument("--no-sandbox", action="store_true")
    ap.add_argument("--bwrap", default="/usr/bin/bwrap")
    ap.add_argument("--ro-bind", action="append", metavar="DIR")
    ap.add_argument("--state-dir", metavar="DIR")
    ap.add_argument("--log-dir", metavar="DIR",
                    help="also append each container's output to "
                    "DIR/NAMESPACE_POD_CONTAINER.log")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.k8s_version.count(".") < 1:
        ap.error("--k8s-version wants MAJOR.MINOR")

    emu = Emu(a)
    own_state = a.state_dir is None
    emu.state_dir = a.state_dir or tempfile.mkdtemp(prefix="k8s-emu.")
    os.makedirs(emu.state_dir, exist_ok=True)
    for f in a.token_file or []:
        with open(f) as fh:
            emu.tokens.update(x.strip() for x in fh if x.strip())
    emu.tokens.update(a.token or [])
    creds = list(a.eks_cred or [])
    if a.eks_cred_file:
        with open(a.eks_cred_file) as fh:
            creds += [x.strip() for x in fh if x.strip()]
    for c in creds:
        if ":" not in c:
            ap.error("--eks-cred wants AKID:SECRET")
        k, s = c.split(":", 1)
        emu.eks_creds[k] = s
    token = "emu-" + pysecrets.token_hex(16)
    emu.tokens.add(token)
    if emu.sandbox:
        why = probe_bwrap(a.bwrap)
        if why:
            log("bubblewrap does not work here (%s); use --no-sandbox" % why)
            sys.exit(2)
    ctx = None
    ca_pem = None
    if not a.http:
        try:
            ctx, ca_path = make_tls(os.path.join(emu.state_dir))
        except (subprocess.CalledProcessError, OSError) as e:
            log("cannot make TLS certificates: %s" % e)
            sys.exit(2)
        with open(ca_path, "rb") as f:
            ca_pem = f.read()
        if a.ca_out:
            shutil.copyfile(ca_path, a.ca_out)
    try:
        srv = Server(("127.0.0.1", a.port), Handler)
    except OSError as e:
        log("cannot listen on 127.0.0.1:%d: %s" % (a.port, e))
        sys.exit(2)
    srv.ctx = ctx
    srv.emu = emu
    emu.port = srv.server_address[1]
    emu.url = "%s://127.0.0.1:%d" % ("http" if a.http else "https", emu.port)
    if a.kubeconfig_out:
        write_kubeconfig(a.kubeconfig_out, emu.url, ca_pem, token)

    def stop(sig, frm):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=emu.controller, daemon=True).start()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    sys.stdout.write(emu.url + "\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        emu.shutdown()
        try:
            srv.socket.close()
        except OSError:
            pass
        if own_state:
            shutil.rmtree(emu.state_dir, ignore_errors=True)
    os._exit(0)


if __name__ == "__main__":
    main()
