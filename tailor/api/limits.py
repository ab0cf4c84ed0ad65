"""Request limits: the body size (the upload limit in the settings), no NUL characters, and a per-token rate limit.

The body limit is ASGI middleware, so an oversized body is refused from its
``Content-Length`` before it is read, and a chunked one as soon as it passes the limit,
never buffered whole. The limit is ``settings.max_upload_bytes`` plus room for the
multipart framing and form fields; the background text itself is held to
``settings.max_background_chars`` by the review service, as in the app.

Text may not contain NUL characters (``\\0``): PostgreSQL cannot store them in text columns,
and a driver error would otherwise be a 500 deep inside a write. :func:`refuse_nul`, a
dependency of every route, refuses them in the path, query, form fields and JSON bodies (400).

The rate limit is a token bucket per API token, in this process's memory (``tailor api`` is
one process): ``settings.api_rate_limit_per_minute`` on average, bursts of a tenth of that.
"""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from typing import Any, Final

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tailor.errors import BadInput

MULTIPART_SLACK_BYTES: Final = 64 * 1024


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the app, so its handler turns it into a problem response.
                    raise HTTPException(413, self._detail(seen, more=True))
            return message

        await self.app(scope, counted, send)

    def _detail(self, size: int, *, more: bool = False) -> str:
        over = "more than " if more else ""
        return f"the request body is {over}{size:,} bytes; the limit is {self.max_bytes:,}"

    async def _refuse(self, scope: Scope, send: Send, size: int) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": HTTPStatus(413).phrase,
                "status": 413,
                "detail": self._detail(size),
                "instance": scope.get("path"),
                "code": "too_large",
            }
        ).encode()
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute on average, bursts of a tenth."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 10.0)
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> float:
        """Spend one request; 0 when allowed, else the seconds until one is allowed."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


NUL_REFUSED: Final = "text may not contain NUL characters (\\0)"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


async def refuse_nul(request: Request) -> None:
    """A dependency of every route: 400 for a NUL character in the path, query, form fields or JSON body."""
    if "\x00" in request.url.path or _has_nul(list(request.query_params.multi_items())):
        raise BadInput(f"{NUL_REFUSED} in the URL")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        body = await request.body()  # already read (and cached) by FastAPI for the body parameter
        # A JSON string can only hold NUL as the escape \u0000; parse only when that appears.
        if b"\\u0000" in body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # FastAPI reports the malformed JSON itself
            if _has_nul(parsed):
                raise BadInput(f"{NUL_REFUSED} in the request body")
    elif media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()  # cached: the route's Form and File parameters read the same
        if any(_has_nul(v) for _, v in form.multi_items() if not isinstance(v, UploadFile)):
            raise BadInput(f"{NUL_REFUSED} in a form field")
