"""Standard Webhooks signatures (https://www.standardwebhooks.com), so receivers can use its libraries.

Each delivery carries three headers:

* ``webhook-id``: the message id, the same on every retry (receivers deduplicate on it);
* ``webhook-timestamp``: the attempt's time in Unix seconds (receivers refuse old ones);
* ``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")),
  where the key is the base64 part of the endpoint's secret ``whsec_<base64>``.

After a secret is rotated, ``webhook-signature`` holds a signature with each secret,
space-separated (as the standard allows), until the old one expires.

The body is sent exactly as signed. ``tests/api/test_webhooks.py`` verifies these headers with
the reference ``standardwebhooks`` library, and ``examples/webhook_receiver.py`` with either it
or the few lines of the standard library below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

SECRET_PREFIX: Final = "whsec_"


def new_secret() -> str:
    """A fresh endpoint secret: 32 random bytes, base64, with the Standard Webhooks prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers; with several secrets (a rotation in progress), one signature each, space-separated,
    as the standard allows: a receiver with either secret verifies the delivery."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets),
    }
