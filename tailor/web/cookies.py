"""The session cookie: a signed-in session survives a reload, and the token stays out of reach of scripts.

Streamlit talks to the browser over a websocket, so a page cannot send ``Set-Cookie``. The
app therefore serves two small HTTP endpoints next to Streamlit (``app.py`` builds an
``st.App`` with :func:`routes`; ``streamlit run app.py`` serves it):

* ``POST /_tailor/session`` with ``{"code": ...}`` sets the cookie. The code is a one-time
  handoff made at sign-in (:data:`HANDOFFS`): random, usable once, for
  :data:`HANDOFF_SECONDS`, and held only in this process's memory. The session token itself
  never appears in the page, in a script or in a URL.
* ``POST /_tailor/session/end`` clears it (the token is already revoked in the database by
  then, so a cookie that survives anyway no longer signs anyone in).

The cookie holds the session token that :class:`tailor.review.auth.AuthService` issued
(only its SHA-256 is stored, it expires with the session, and signing out, deactivation, a
role or a password change revoke it). It is ``HttpOnly`` (no script can read it),
``SameSite=Strict`` (no other site's page or websocket carries it), ``Secure`` when the
request came over HTTPS, and lives no longer than the session. A new browser session
reads it from the websocket's request (``st.context.cookies``) in
:func:`tailor.web.session.current_user`.

Both endpoints refuse a request whose ``Origin`` is another site.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

COOKIE_NAME: Final = "tailor_session"
HANDOFF_SECONDS: Final = 120.0
_MAX_PENDING: Final = 10_000  # a bound on memory if sign-ins never fetch their code


@dataclass(frozen=True)
class _Handoff:
    token: str
    expires_at: datetime  # the session's expiry: the cookie's too
    deadline: float  # monotonic seconds: when the code itself expires


class Handoffs:
    """One-time codes that carry a session token from the websocket to the cookie endpoint."""

    def __init__(self) -> None:
        self._codes: dict[str, _Handoff] = {}
        self._lock = threading.Lock()

    def issue(self, token: str, expires_at: datetime) -> str:
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._codes = {c: h for c, h in self._codes.items() if h.deadline > now}
            if len(self._codes) >= _MAX_PENDING:
                self._codes.pop(next(iter(self._codes)))
            self._codes[code] = _Handoff(token, expires_at, now + HANDOFF_SECONDS)
        return code

    def redeem(self, code: str) -> _Handoff | None:
        """The handoff, once: a second use, an unknown code or an expired one gets None."""
        with self._lock:
            handoff = self._codes.pop(code, None)
        if handoff is None or handoff.deadline <= time.monotonic():
            return None
        return handoff

    def waiting(self, code: str) -> bool:
        """True while the code is neither used nor expired (the page keeps offering it until then)."""
        with self._lock:
            handoff = self._codes.get(code)
        return handoff is not None and handoff.deadline > time.monotonic()


HANDOFFS = Handoffs()


def _base_path() -> str:
    """Streamlit's ``server.baseUrlPath``, as ``/prefix`` or empty."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def endpoint(kind: Literal["set", "end"]) -> str:
    """The path of the endpoint that sets (``set``) or clears (``end``) the cookie."""
    return f"{_base_path()}/_tailor/session" + ("/end" if kind == "end" else "")


def script(kind: Literal["set", "end"], code: str | None = None) -> str:
    """The few lines of JavaScript that call an endpoint from the page (see :mod:`tailor.web.session`)."""
    body = json.dumps({"code": code}) if code else "{}"
    url = json.dumps(endpoint(kind))
    # A JSON body makes a cross-site request need a CORS preflight, which this server never grants.
    return (
        f"<script>fetch({url}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}});</script>"
    )


def _same_site(request: Request) -> bool:
    """No ``Origin`` (not a browser's cross-site request) or the server's own."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


def _https(request: Request) -> bool:
    # Behind a TLS-terminating proxy the request arrives as http; the proxy says so in a header.
    # A forged header only adds the Secure flag, which cannot weaken the cookie.
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _cookie_args(request: Request) -> dict[str, object]:
    return {"path": _base_path() or "/", "httponly": True, "samesite": "strict", "secure": _https(request)}


async def _set_cookie(request: Request) -> Response:
    from starlette.responses import Response

    if not _same_site(request):
        return Response(status_code=403)
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        return Response(status_code=400)
    code = payload.get("code") if isinstance(payload, dict) else None
    handoff = HANDOFFS.redeem(code) if isinstance(code, str) else None
    if handoff is None:
        return Response(status_code=400)
    seconds = int((handoff.expires_at - datetime.now(UTC)).total_seconds())
    if seconds <= 0:
        return Response(status_code=400)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE_NAME, handoff.token, max_age=seconds, **_cookie_args(request))  # type: ignore[arg-type]
    return response


async def _end_cookie(request: Request) -> Response:
    from starlette.responses import Response

    if not _same_site(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, **_cookie_args(request))  # type: ignore[arg-type]
    return response


def routes() -> list[BaseRoute]:
    """The two endpoints, for ``st.App(..., routes=routes())``."""
    from starlette.routing import Route

    return [
        Route(endpoint("set"), _set_cookie, methods=["POST"]),
        Route(endpoint("end"), _end_cookie, methods=["POST"]),
    ]
