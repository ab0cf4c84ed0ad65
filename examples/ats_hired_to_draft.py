"""Turn an applicant tracking system's "candidate hired" webhook into a tailor draft request.

Greenhouse (and ATS products like it) POST a signed JSON event when a candidate is marked
hired: ``{"action": "candidate_hired", "payload": {"application": {...}, "candidate": {...}}}``
with the header ``Signature: sha256 <hex HMAC-SHA256 of the body>``. This bridge verifies that
signature, takes the job title, start date, name and résumé, and asks tailor for a draft:

* with a résumé attachment (an https URL in the payload): ``POST /v1/drafts/upload``;
* without one: ``POST /v1/drafts`` with a background written from the candidate's fields.

It answers the ATS 202 with the draft job's URL; tailor drafts in the background and, when HR
approves, tells the systems registered for ``plan.approved`` (see examples/webhook_receiver.py).

    export ATS_WEBHOOK_SECRET=...            # the secret the ATS showed when you made the webhook
    export TAILOR_API_TOKEN=tailor_pat_...   # a manager's token: `tailor users token create maria`
    python examples/ats_hired_to_draft.py --port 9100 --api http://127.0.0.1:8000
    python examples/ats_hired_to_draft.py --payload hired.json --api http://127.0.0.1:8000  # one event, no server

The draft belongs to the token's manager. A real bridge would map each job's hiring manager
to their own token; this one uses one token for every hire.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx

RESUME_TYPES = (".txt", ".md", ".pdf", ".docx")


class BadEvent(Exception):
    """The event is not signed by the ATS, or is not a hire tailor can draft from."""


def verify(secret: str, body: bytes, signature_header: str | None) -> None:
    """Greenhouse's scheme: ``Signature: sha256 <hex HMAC-SHA256(secret, body)>``."""
    scheme, _, received = (signature_header or "").partition(" ")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if scheme != "sha256" or not hmac.compare_digest(received.strip(), expected):
        raise BadEvent("the Signature header does not match the body")


def draft_fields(event: dict[str, Any]) -> tuple[dict[str, Any], str | None, str]:
    """(the draft's fields, a résumé URL or None, a background written from the event)."""
    if event.get("action") not in ("candidate_hired", "hire_candidate"):
        raise BadEvent(f"not a hire event: {event.get('action')!r}")
    payload = event.get("payload") or {}
    application = payload.get("application") or {}
    candidate = payload.get("candidate") or application.get("candidate") or {}
    jobs = application.get("jobs") or payload.get("jobs") or []
    job = (jobs[0] or {}).get("name", "") if jobs else ""
    offer = payload.get("offer") or application.get("offer") or {}
    name = " ".join(p for p in (candidate.get("first_name"), candidate.get("last_name")) if p) or None
    fields: dict[str, Any] = {"name": name, "start_date": (offer.get("starts_at") or offer.get("start_date") or None)}
    if job:
        fields["role"] = job.split(" - ")[0].strip()  # "Senior Backend Engineer - Berlin"
    resume = next(
        (
            a.get("url")
            for a in candidate.get("attachments") or []
            if a.get("type") == "resume" and str(a.get("filename", "")).lower().endswith(RESUME_TYPES)
        ),
        None,
    )
    parts = [f"{name or 'The candidate'} was hired as {job or 'a new team member'}."]
    if candidate.get("title"):
        at = f" at {candidate['company']}" if candidate.get("company") else ""
        parts.append(f"Most recently {candidate['title']}{at}.")
    return {k: v for k, v in fields.items() if v}, resume, " ".join(parts)


def request_draft(api: str, token: str, event: dict[str, Any]) -> dict[str, Any]:
    """Ask tailor for the draft; the accepted job (``id``, ``status``; follow ``/v1/drafts/{id}``)."""
    fields, resume_url, background = draft_fields(event)
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as tailor:
        if resume_url and urlsplit(resume_url).scheme == "https":
            resume = httpx.get(resume_url, timeout=60, follow_redirects=True)
            resume.raise_for_status()
            filename = urlsplit(resume_url).path.rsplit("/", 1)[-1] or "resume.pdf"
            answer = tailor.post("/v1/drafts/upload", files={"file": (filename, resume.content)}, data=fields)
        else:
            answer = tailor.post("/v1/drafts", json={**fields, "background": background})
    if answer.status_code != 202:
        problem = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
        raise BadEvent(f"tailor refused the draft ({answer.status_code}): {problem.get('detail', answer.text[:200])}")
    job: dict[str, Any] = answer.json()
    return job


def make_server(secret: str, api: str, token: str, host: str = "127.0.0.1", port: int = 9100) -> ThreadingHTTPServer:
    class Bridge(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 5_000_000))
            try:
                verify(secret, body, self.headers.get("Signature"))
            except BadEvent as exc:
                self._reply(401, {"error": str(exc)})
                return
            try:
                job = request_draft(api, token, json.loads(body))
            except (BadEvent, ValueError, httpx.HTTPError) as exc:
                print(f"hire not drafted: {exc}", file=sys.stderr, flush=True)
                self._reply(422, {"error": str(exc)})
                return
            print(f"draft job {job['id']} accepted: {api}/v1/drafts/{job['id']}", flush=True)
            self._reply(202, {"job": f"{api}/v1/drafts/{job['id']}"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return ThreadingHTTPServer((host, port), Bridge)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="tailor's API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--payload", help="Draft from this saved event (JSON) once, without a server or signature.")
    args = parser.parse_args()
    token = os.environ.get("TAILOR_API_TOKEN", "")
    if not token:
        sys.exit("set TAILOR_API_TOKEN to a manager's API token (`tailor users token create USER`)")
    if args.payload:
        with open(args.payload, encoding="utf-8") as f:
            job = request_draft(args.api, token, json.load(f))
        print(f"{args.api}/v1/drafts/{job['id']}")
        return
    secret = os.environ.get("ATS_WEBHOOK_SECRET", "")
    if not secret:
        sys.exit("set ATS_WEBHOOK_SECRET to the secret key the ATS showed for this webhook")
    server = make_server(secret, args.api, token, args.host, args.port)
    print(f"listening on http://{args.host}:{server.server_address[1]}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
