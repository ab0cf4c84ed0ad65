"""Personal API tokens: each acts as its user, under that user's role, for the HTTP API.

A token is ``tailor_pat_`` plus 43 random URL-safe characters (256 bits). It is shown once,
when it is made; only its SHA-256 is stored (as for sign-in sessions in
:mod:`tailor.review.auth`), with a name, an expiry, and when it was last used.

Who may do what:

* every active user makes, lists and revokes their own tokens (the app and ``tailor users
  token --as USER``);
* the CLI's ``cli-operator`` account may make a token for any user: the CLI is the server's
  operator tool, which can read the database anyway (see :mod:`tailor.review.auth`), and
  ``tailor users token create maria`` is how an operator sets up an integration;
* admins list and revoke anyone's tokens, but cannot make one for someone else: a token is
  that person's identity, and an admin who could mint an HR token could approve plans.

A token stops working when it expires, is revoked, its user is deactivated, or its user's
role changes (as sign-in sessions end then). Every make and revoke is in the audit log.
The API itself never sees a user's password.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tailor.config import Settings, get_settings
from tailor.errors import BadInput, NotFound, PermissionDenied
from tailor.review.auth import OPERATOR_USERNAME, hash_token
from tailor.review.users import UserOut, load_actor
from tailor.store.api_records import ApiTokenRecord
from tailor.store.db import Database, ensure_schema
from tailor.store.records import UserRecord, append_audit, utcnow

TOKEN_PREFIX: Final = "tailor_pat_"
MAX_NAME_CHARS: Final = 100
MAX_TTL_DAYS: Final = 365
# A token's last use is written at most this often: a write per request would queue every
# API call behind SQLite's single writer for a timestamp nobody needs to the second.
LAST_USED_RESOLUTION: Final = timedelta(minutes=1)


class InvalidToken(PermissionDenied):
    """The bearer token is unknown, expired, revoked or no longer valid for its user (HTTP 401)."""


class TokenOut(BaseModel):
    """A token as its user (or an admin) sees it: never the token itself."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    name: str
    prefix: str
    role: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class NewToken(BaseModel):
    """What making a token returns. ``token`` is shown this once and never stored."""

    model_config = ConfigDict(frozen=True)

    token: str
    info: TokenOut


class TokenUse(BaseModel):
    """Who a valid token acts as."""

    model_config = ConfigDict(frozen=True)

    user: UserOut
    token_id: int


def _out(row: ApiTokenRecord, creator: UserRecord | None) -> TokenOut:
    return TokenOut(
        id=row.id,
        username=row.user.username,
        name=row.name,
        prefix=row.prefix,
        role=row.role,
        created_by=creator.username if creator else "?",
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _state(row: ApiTokenRecord) -> dict[str, object]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "name": row.name,
        "expires_at": row.expires_at,
        "revoked": bool(row.revoked_at),
    }


class TokenService:
    """Make, list, revoke and check personal API tokens. Construct once per process; thread-safe."""

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or ensure_schema(self.settings)

    def create_token(
        self, actor: UserOut, name: str, *, username: str | None = None, expires_days: int | None = None
    ) -> NewToken:
        """A new token for ``username`` (default: the actor). See the module docstring for who may."""
        label = (name or "").strip()
        if not label or len(label) > MAX_NAME_CHARS:
            raise BadInput(f"a token needs a name of 1 to {MAX_NAME_CHARS} characters (what it is for)")
        days = self.settings.api_token_ttl_days if expires_days is None else expires_days
        if not 1 <= days <= MAX_TTL_DAYS:
            raise BadInput(f"a token lasts 1 to {MAX_TTL_DAYS} days, not {days}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as s:
            acting = load_actor(s, actor)
            owner = acting if username is None else _find(s, username)
            if owner.id != acting.id and acting.username != OPERATOR_USERNAME:
                raise PermissionDenied(
                    f"only {owner.username} can make their own API tokens (an admin may revoke them); "
                    f"on the server, `tailor users token create {owner.username}` can"
                )
            if not owner.active or owner.username == OPERATOR_USERNAME:
                raise BadInput(f"{owner.username} cannot have API tokens (deactivated, or the CLI's own account)")
            row = ApiTokenRecord(
                user_id=owner.id,
                name=label,
                token_sha256=hash_token(token),
                prefix=token[: len(TOKEN_PREFIX) + 4],
                role=owner.role,
                created_by_id=acting.id,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(days=days),
            )
            s.add(row)
            s.flush()
            detail = {"name": label, "for": owner.username, "expires_at": row.expires_at.isoformat()}
            append_audit(
                s,
                actor=acting,
                action="token.create",
                entity_type="api_token",
                entity_id=row.id,
                after=_state(row),
                detail=detail,
            )
            return NewToken(token=token, info=_out(row, acting))

    def list_tokens(
        self, actor: UserOut, *, username: str | None = None, include_inactive: bool = False
    ) -> list[TokenOut]:
        """The actor's own tokens; an admin may name anyone (``username``) or pass ``"*"`` for everyone's."""
        with self.db.read() as s:
            acting = load_actor(s, actor)
            query = select(ApiTokenRecord).order_by(ApiTokenRecord.id)
            if username != "*":
                owner = acting if username is None else _find(s, username)
                if owner.id != acting.id:
                    _require_admin(acting, "list other users' API tokens")
                query = query.where(ApiTokenRecord.user_id == owner.id)
            else:
                _require_admin(acting, "list every API token")
            rows = list(s.scalars(query))
            creators = {
                u.id: u for u in s.scalars(select(UserRecord).where(UserRecord.id.in_({r.created_by_id for r in rows})))
            }
            found = [_out(r, creators.get(r.created_by_id)) for r in rows]
        return found if include_inactive else [t for t in found if t.active]

    def revoke_token(self, actor: UserOut, token_id: int) -> TokenOut:
        """Revoke a token at once (its user, or an admin). Revoking twice is harmless."""
        with self.db.write() as s:
            acting = load_actor(s, actor)
            row = s.get(ApiTokenRecord, token_id)
            if row is None:
                raise NotFound(f"no API token with id {token_id}")
            if row.user_id != acting.id and acting.role != "admin":
                # Someone else's token is reported as missing, so ids reveal nothing.
                raise NotFound(f"no API token with id {token_id}")
            if row.revoked_at is None:
                before = _state(row)
                row.revoked_at = utcnow()
                detail = {"name": row.name, "for": row.user.username}
                append_audit(
                    s,
                    actor=acting,
                    action="token.revoke",
                    entity_type="api_token",
                    entity_id=row.id,
                    before=before,
                    after=_state(row),
                    detail=detail,
                )
            return _out(row, s.get(UserRecord, row.created_by_id))

    def authenticate(self, token: str) -> TokenUse:
        """Who the token acts as, or :class:`InvalidToken` saying why not (one message per cause)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise InvalidToken("not a tailor API token (expected 'Authorization: Bearer tailor_pat_...')")
        digest = hash_token(token)
        now = utcnow()
        with self.db.read() as s:
            row = s.scalar(select(ApiTokenRecord).where(ApiTokenRecord.token_sha256 == digest))
            if row is None:
                raise InvalidToken("unknown API token")
            if row.revoked_at is not None:
                raise InvalidToken("this API token was revoked")
            if row.expires_at <= now:
                raise InvalidToken("this API token expired; make a new one")
            user = row.user
            if not user.active:
                raise InvalidToken(f"user {user.username!r} is deactivated")
            if user.role != row.role:
                raise InvalidToken(f"{user.username}'s role changed since this token was made; make a new one")
            use = TokenUse(user=UserOut.of(user), token_id=row.id)
            stale = row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION
        if stale:
            with self.db.write() as s:
                fresh = s.get(ApiTokenRecord, use.token_id)
                if fresh is not None:
                    fresh.last_used_at = now
        return use


def _find(s: Session, username: str) -> UserRecord:
    row = s.scalar(select(UserRecord).where(UserRecord.username == username.strip().lower()))
    if row is None:
        raise NotFound(f"no user named {username!r}")
    return row


def _require_admin(acting: UserRecord, what: str) -> None:
    if acting.role != "admin":
        raise PermissionDenied(f"only an admin can {what} (you are {acting.username}, {acting.role})")
