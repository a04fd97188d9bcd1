"""A local HTTP receiver for the webhook and chat notification tests: records every POST it
gets and checks webhook signatures with the reference Standard Webhooks library (PyPI
`standardwebhooks`), not with JITEA's code.

Usage: webhook_sink.py DIR [PORT]. It binds 127.0.0.1 on PORT (0 or absent: any free port)
and prints "listening PORT" once ready; it runs until killed. Started again with the same DIR
and PORT it goes on where it left off (the tests stop it to play a receiver that is down).

Files in DIR:
  secret       (written by the test) the subscription's `whsec_` secret; a POST to a path
               under /hooks is verified with it and refused with 400 if the signature fails.
  status.json  (optional, written by the test) {"/path": 410, ...}: answer these paths with
               that status instead of 200 (and record nothing), e.g. a gone receiver.
  received.jsonl  one JSON object per accepted POST, in arrival order: path, headers (lower
               case), body (text), verified (true, or null when the path is not under /hooks).
  target.json  the state of a `webhook` target (JITEA's target contract, TargetWebhookCall /
               TargetWebhookAnswer) served under /target, verified like /hooks:
               {"entitlements": {"writer": ["alice", ...], ...}}; the test writes the
               entitlements that exist, the sink keeps the members.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DIR = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
LOCK = Lock()


def read(name):
    try:
        with open(os.path.join(DIR, name), encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        forced = json.loads(read("status.json") or "{}").get(self.path)
        if forced:
            self.answer(int(forced), "forced answer")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = None
        if self.path.startswith("/hooks") or self.path.startswith("/target"):
            secret = read("secret")
            try:
                if not secret:
                    raise WebhookVerificationError("no secret written yet")
                Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError as e:
                self.answer(400, "signature check failed: %s" % e)
                return
        with LOCK:
            with open(os.path.join(DIR, "received.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": self.path, "headers": headers, "body": body,
                                    "verified": verified}) + "\n")
            if self.path.startswith("/target"):
                status, answer = target_call(json.loads(body))
                self.answer_json(status, answer)
                return
        self.answer(200, "ok")

    def answer_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def target_call(call):
    """One operation of the target contract on the state in target.json (under LOCK)."""
    path = os.path.join(DIR, "target.json")
    state = json.loads(read("target.json") or '{"entitlements": {}}')
    ents = state.setdefault("entitlements", {})
    op, ent, who = call.get("op"), call.get("entitlement"), call.get("principal")
    if op == "ping":
        return 200, {}
    if op == "end_sessions":
        return 501, {"error": "no sessions here"}
    if ent not in ents:
        if op == "entitlement_exists":
            return 200, {"exists": False}
        return 404, {"error": "no such entitlement"}
    if op == "entitlement_exists":
        return 200, {"exists": True}
    if op == "members":
        return 200, {"members": sorted(ents[ent])}
    if op == "add" and who not in ents[ent]:
        ents[ent].append(who)
    elif op == "drop" and who in ents[ent]:
        ents[ent].remove(who)
    elif op not in ("add", "drop"):
        return 400, {"error": "unknown op"}
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)
    return 200, {}


ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening %d" % server.server_address[1], flush=True)
server.serve_forever()
