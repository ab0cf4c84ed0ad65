"""A small webhook receiver for tailor: verifies each delivery's signature, then logs the event.

tailor signs deliveries with Standard Webhooks (https://www.standardwebhooks.com): headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of
``{id}.{timestamp}.{body}``, keyed with the base64 part of the endpoint's ``whsec_...`` secret).
This receiver uses the ``standardwebhooks`` library when it is installed, and otherwise the same
check written out with the standard library below. It refuses a bad signature or a timestamp more
than five minutes off (401), answers 204 to a verified event, and ignores a ``webhook-id`` it has
already handled (tailor delivers at least once and retries with the same id).

    # register it (an admin token), keep the secret it prints once:
    curl -s -X POST http://127.0.0.1:8000/v1/webhooks -H "Authorization: Bearer $ADMIN_TOKEN" \\
         -H 'Content-Type: application/json' \\
         -d '{"url": "http://127.0.0.1:9000/tailor", "events": ["plan.approved"]}'
    TAILOR_WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 9000

Each verified event is one line on stdout, e.g.
``verified plan.approved: plan 12 (Senior Backend Engineer), revision 3, by hugo``.
Replace :func:`handle` with what your system does (open an IT ticket, book the calendar ...).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import sys
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


class InvalidSignature(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The event, if the headers prove tailor sent exactly this body recently; else InvalidSignature."""
    try:
        from standardwebhooks import Webhook  # the reference implementation, if installed
        from standardwebhooks.webhooks import WebhookVerificationError
    except ImportError:
        return _verify_stdlib(secret, headers, body)
    try:
        event: dict[str, Any] = Webhook(secret).verify(body, headers)
    except WebhookVerificationError as exc:
        raise InvalidSignature(str(exc)) from None
    return event


def _verify_stdlib(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    msg_id, stamp, signatures = (headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_S:
        raise InvalidSignature("timestamp missing or more than five minutes off")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in signatures.split():  # a rotated secret sends several; any valid one will do
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected):
            event: dict[str, Any] = json.loads(body)
            return event
    raise InvalidSignature("no matching signature")


def handle(event: dict[str, Any]) -> str:
    """What to do with a verified event; here, one line for the log."""
    data = event.get("data", {})
    plan = data.get("plan") or {}
    line = (
        f"verified {event.get('type')}: plan {data.get('plan_id')} ({plan.get('role', '?')}), "
        f"revision {data.get('revision')}, by {data.get('actor')}"
    )
    print(line, flush=True)
    return line


def make_server(secret: str, host: str = "127.0.0.1", port: int = 9000) -> ThreadingHTTPServer:
    seen: OrderedDict[str, None] = OrderedDict()  # recent message ids, for at-least-once delivery

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1_000_000:
                self._reply(413)
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                event = verify(secret, headers, body)
            except (InvalidSignature, ValueError) as exc:
                print(f"refused a delivery: {exc}", file=sys.stderr, flush=True)
                self._reply(401)
                return
            msg_id = headers["webhook-id"]
            if msg_id not in seen:
                seen[msg_id] = None
                if len(seen) > 10_000:
                    seen.popitem(last=False)
                handle(event)
            self._reply(204)

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return ThreadingHTTPServer((host, port), Receiver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    secret = os.environ.get("TAILOR_WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        sys.exit("set TAILOR_WEBHOOK_SECRET to the endpoint's secret (whsec_...), shown when it was registered")
    server = make_server(secret, args.host, args.port)
    print(f"listening on http://{args.host}:{server.server_address[1]}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
