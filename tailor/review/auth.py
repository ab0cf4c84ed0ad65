"""Users, passwords and sign-in sessions.

Roles: ``manager`` drafts and submits plans for their own hires; ``hr`` reviews,
edits, comments, approves or requests changes; ``admin`` manages users and the
corpus, can list and read plans, but never reads a hire's background text and
never approves. Who may do what to a plan is the table in :mod:`tailor.review.permissions`;
user management (admins only) is checked here. Neither lives in the UI. Users themselves
(:class:`UserOut`, :func:`load_actor`) are :mod:`tailor.review.users`, re-exported here.

Passwords are hashed with argon2id (argon2-cffi defaults, RFC 9106 low-memory
profile); a hash made with older parameters is upgraded at the next sign-in.
Sessions are random tokens shown to the client once; only their SHA-256 is
stored, and they expire ``settings.session_ttl_minutes`` after sign-in.

Who may create users:

* On an empty database (no active admin who can sign in), :meth:`AuthService.bootstrap_admin`
  (``tailor users add NAME --role admin``) creates the first admin without anyone signed in.
* After that only an admin may create or change users.
* The CLI is an operator tool run on the server by someone who can already read the
  database file or URL, so it cannot be a security boundary. Without ``--as`` it acts
  as the built-in ``cli-operator`` account: an admin that has no password (it can never
  sign in to the UI) and whose every write is in the audit log under that name. With
  ``--as USER`` it acts as that user with that user's role, so role and four-eyes checks
  apply exactly as in the UI. Setting ``TAILOR_CLI_REQUIRE_PASSWORD=1`` makes ``--as``
  mandatory for writes and asks for that user's password (see ``tailor.cli.plans``).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tailor.config import Settings, get_settings
from tailor.errors import BadInput, NotFound, PermissionDenied
from tailor.review.users import ROLE_NAMES, Role, UserOut, check_role, load_actor, normalise_username
from tailor.store.db import Database, ensure_schema
from tailor.store.records import SessionRecord, UserRecord, append_audit, utcnow

__all__ = [
    "OPERATOR_USERNAME",
    "PASSWORD_HASHER",
    "ROLE_NAMES",
    "AuthService",
    "Role",
    "SessionToken",
    "UserOut",
    "hash_token",
    "load_actor",
    "normalise_username",
    "utcnow",
]

OPERATOR_USERNAME = "cli-operator"
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024

# Module-level so tests can swap in argon2's cheapest profile (still real argon2) to keep
# fixtures fast; production always uses the defaults.
PASSWORD_HASHER = PasswordHasher()
# Verified against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH: str | None = None


class SessionToken(BaseModel):
    """What a successful sign-in returns. ``token`` is shown once; keep it client-side only."""

    token: str
    user: UserOut
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadInput(f"the password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadInput(f"the password must be at most {MAX_PASSWORD_CHARS} characters")


def _admins_who_can_sign_in(s: Session) -> int:
    query = select(func.count()).select_from(UserRecord).where(UserRecord.role == "admin")
    return int(s.scalar(query.where(UserRecord.active.is_(True), UserRecord.password_hash.is_not(None))) or 0)


def _user_state(row: UserRecord) -> dict[str, object]:
    # The hash itself never enters the audit log; only whether it changed.
    return {
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "active": row.active,
        "password_sha256": hash_token(row.password_hash) if row.password_hash else None,
    }


class AuthService:
    """User management and sign-in. Construct once per process; it is thread-safe."""

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or ensure_schema(self.settings)

    # ------------------------------------------------------------------ users
    def bootstrap_needed(self) -> bool:
        """True when nobody could sign in as an admin, so the first admin may be created freely."""
        with self.db.read() as s:
            return not _admins_who_can_sign_in(s)

    def bootstrap_admin(self, username: str, password: str, display_name: str | None = None) -> UserOut:
        """Create the first admin on a database nobody can administer yet."""
        name = normalise_username(username)
        _check_password(password)
        password_hash = PASSWORD_HASHER.hash(password)
        with self.db.write() as s:
            # Checked inside the write transaction, so two racing bootstraps cannot both win.
            if _admins_who_can_sign_in(s):
                raise PermissionDenied("an admin already exists; sign in as an admin to add users")
            row = self._insert(s, name, "admin", password_hash, display_name)
            append_audit(
                s,
                actor=row,
                action="user.bootstrap",
                entity_type="user",
                entity_id=row.id,
                after=_user_state(row),
                detail={"username": name, "role": "admin"},
            )
            return UserOut.of(row)

    def add_user(
        self,
        actor: UserOut,
        username: str,
        role: str,
        password: str,
        display_name: str | None = None,
    ) -> UserOut:
        """Create a user (admins only)."""
        name = normalise_username(username)
        checked_role = check_role(role)
        _check_password(password)
        password_hash = PASSWORD_HASHER.hash(password)
        with self.db.write() as s:
            acting = self._admin(s, actor, "create users")
            row = self._insert(s, name, checked_role, password_hash, display_name)
            append_audit(
                s,
                actor=acting,
                action="user.create",
                entity_type="user",
                entity_id=row.id,
                after=_user_state(row),
                detail={"username": name, "role": checked_role},
            )
            return UserOut.of(row)

    def _insert(
        self, s: Session, name: str, role: Role, password_hash: str | None, display_name: str | None
    ) -> UserRecord:
        if name == OPERATOR_USERNAME and password_hash is not None:
            raise BadInput(f"the username {OPERATOR_USERNAME!r} is reserved for the CLI")
        if s.scalar(select(UserRecord.id).where(UserRecord.username == name)) is not None:
            raise BadInput(f"a user named {name!r} already exists")
        shown = (display_name or "").strip() or name
        row = UserRecord(username=name, display_name=shown[:200], role=role, password_hash=password_hash, active=True)
        s.add(row)
        s.flush()
        return row

    def operator_user(self) -> UserOut:
        """The CLI's own admin account (no password: it can never sign in). Created on first use."""
        with self.db.write() as s:
            row = s.scalar(select(UserRecord).where(UserRecord.username == OPERATOR_USERNAME))
            if row is None:
                row = self._insert(s, OPERATOR_USERNAME, "admin", None, "CLI operator")
                append_audit(
                    s,
                    actor=row,
                    action="user.create",
                    entity_type="user",
                    entity_id=row.id,
                    after=_user_state(row),
                    detail={"username": OPERATOR_USERNAME, "role": "admin", "note": "created by the CLI"},
                )
            elif not row.active:
                raise PermissionDenied(f"the {OPERATOR_USERNAME!r} account is deactivated; use --as USER")
            return UserOut.of(row)

    def get_user(self, username: str) -> UserOut:
        name = username.strip().lower()
        with self.db.read() as s:
            row = s.scalar(select(UserRecord).where(UserRecord.username == name))
            if row is None:
                raise NotFound(f"no user named {username!r}")
            return UserOut.of(row)

    def list_users(self, actor: UserOut, *, include_inactive: bool = True) -> list[UserOut]:
        """Every user (admins only)."""
        with self.db.read() as s:
            self._admin(s, actor, "list users")
            query = select(UserRecord).order_by(UserRecord.username)
            if not include_inactive:
                query = query.where(UserRecord.active.is_(True))
            return [UserOut.of(r) for r in s.scalars(query)]

    def set_active(self, actor: UserOut, username: str, active: bool) -> UserOut:
        """Deactivate (signs them out everywhere) or reactivate a user (admins only)."""
        with self.db.write() as s:
            acting = self._admin(s, actor, "change users")
            row = self._find(s, username)
            if row.id == acting.id and not active:
                raise BadInput("you cannot deactivate yourself; ask another admin")
            before = _user_state(row)
            row.active = active
            if not active:
                self._revoke_all(s, row.id)
            append_audit(
                s,
                actor=acting,
                action="user.activate" if active else "user.deactivate",
                entity_type="user",
                entity_id=row.id,
                before=before,
                after=_user_state(row),
                detail={"username": row.username},
            )
            return UserOut.of(row)

    def set_role(self, actor: UserOut, username: str, role: str) -> UserOut:
        """Change a user's role (admins only; not your own, so there is always an admin left)."""
        checked = check_role(role)
        with self.db.write() as s:
            acting = self._admin(s, actor, "change roles")
            row = self._find(s, username)
            if row.id == acting.id:
                raise BadInput("you cannot change your own role; ask another admin")
            before = _user_state(row)
            row.role = checked
            self._revoke_all(s, row.id)
            append_audit(
                s,
                actor=acting,
                action="user.role",
                entity_type="user",
                entity_id=row.id,
                before=before,
                after=_user_state(row),
                detail={"username": row.username, "from": before["role"], "to": checked},
            )
            return UserOut.of(row)

    def set_password(
        self, actor: UserOut, username: str, new_password: str, *, current_password: str | None = None
    ) -> None:
        """Admins reset anyone's password; everyone else changes their own with the current one."""
        _check_password(new_password)
        new_hash = PASSWORD_HASHER.hash(new_password)
        with self.db.write() as s:
            acting = load_actor(s, actor)
            row = self._find(s, username)
            if acting.role != "admin":
                if row.id != acting.id:
                    raise PermissionDenied("only an admin can change another user's password")
                if current_password is None or not self._verify(row, current_password):
                    raise PermissionDenied("the current password is wrong")
            before = _user_state(row)
            row.password_hash = new_hash
            self._revoke_all(s, row.id)
            append_audit(
                s,
                actor=acting,
                action="user.password",
                entity_type="user",
                entity_id=row.id,
                before=before,
                after=_user_state(row),
                detail={"username": row.username},
            )

    # ------------------------------------------------------------------ sessions
    def authenticate(self, username: str, password: str) -> SessionToken:
        """Sign in. The same message for an unknown user, a wrong password or a deactivated account."""
        denied = PermissionDenied("wrong username or password")
        name = username.strip().lower()
        with self.db.read() as s:
            row = s.scalar(select(UserRecord).where(UserRecord.username == name))
            ok = row is not None and row.active and self._verify(row, password)
            if row is None:
                self._verify_dummy(password)
        if not ok or row is None:
            with self.db.write() as s:
                append_audit(
                    s,
                    actor=None,
                    actor_username=name[:64] or "anonymous",
                    action="session.sign_in_failed",
                    entity_type="user",
                    entity_id=row.id if row is not None else "-",
                )
            raise denied
        token = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(minutes=self.settings.session_ttl_minutes)
        with self.db.write() as s:
            user = s.get(UserRecord, row.id)
            if user is None or not user.active:
                raise denied
            if user.password_hash and PASSWORD_HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = PASSWORD_HASHER.hash(password)
            record = SessionRecord(token_sha256=hash_token(token), user_id=user.id, expires_at=expires)
            s.add(record)
            s.flush()
            append_audit(s, actor=user, action="session.sign_in", entity_type="session", entity_id=record.id)
            return SessionToken(token=token, user=UserOut.of(user), expires_at=expires)

    def user_for_token(self, token: str) -> UserOut:
        """The signed-in user, or PermissionDenied when the token is unknown, expired or revoked."""
        with self.db.read() as s:
            record = s.scalar(select(SessionRecord).where(SessionRecord.token_sha256 == hash_token(token)))
            if record is None or record.revoked_at is not None:
                raise PermissionDenied("you are signed out; sign in again")
            if record.expires_at <= utcnow():
                raise PermissionDenied("your session expired; sign in again")
            if not record.user.active:
                raise PermissionDenied("your account is deactivated")
            return UserOut.of(record.user)

    def sign_out(self, token: str) -> None:
        with self.db.write() as s:
            record = s.scalar(select(SessionRecord).where(SessionRecord.token_sha256 == hash_token(token)))
            if record is None or record.revoked_at is not None:
                return
            record.revoked_at = utcnow()
            append_audit(s, actor=record.user, action="session.sign_out", entity_type="session", entity_id=record.id)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _verify(row: UserRecord, password: str) -> bool:
        if row.password_hash is None:
            return False
        try:
            return PASSWORD_HASHER.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _verify_dummy(password: str) -> None:
        global _DUMMY_HASH
        if _DUMMY_HASH is None:
            _DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_hex(16))
        with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
            PASSWORD_HASHER.verify(_DUMMY_HASH, password)

    @staticmethod
    def _admin(s: Session, actor: UserOut, what: str) -> UserRecord:
        acting = load_actor(s, actor)
        if acting.role != "admin":
            raise PermissionDenied(f"only an admin can {what} (you are {acting.username}, {acting.role})")
        return acting

    @staticmethod
    def _find(s: Session, username: str) -> UserRecord:
        row = s.scalar(select(UserRecord).where(UserRecord.username == username.strip().lower()))
        if row is None:
            raise NotFound(f"no user named {username!r}")
        return row

    @staticmethod
    def _revoke_all(s: Session, user_id: int) -> None:
        now = utcnow()
        for record in s.scalars(
            select(SessionRecord).where(SessionRecord.user_id == user_id, SessionRecord.revoked_at.is_(None))
        ):
            record.revoked_at = now
