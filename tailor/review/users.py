"""Who a user is, as every part of tailor sees one: a role, a name, and the check that they still exist.

Kept apart from :mod:`tailor.review.auth` (passwords, sessions, user management) because
everything else needs only this: the pages and the CLI pass a :class:`UserOut` around,
the review service re-reads it with :func:`load_actor`, and the permissions table is
keyed by :data:`ROLE_NAMES`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from tailor.errors import BadInput, PermissionDenied
from tailor.store.records import UserRecord

Role = Literal["manager", "hr", "admin"]
ROLE_NAMES: tuple[Role, ...] = ("manager", "hr", "admin")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserOut(BaseModel):
    """A user as the services see it. Pass it back as the acting user of every operation."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    can_sign_in: bool
    created_at: datetime

    @classmethod
    def of(cls, row: UserRecord) -> UserOut:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            active=row.active,
            can_sign_in=row.password_hash is not None,
            created_at=row.created_at,
        )


def load_actor(session: Session, user: UserOut) -> UserRecord:
    """The acting user as stored now: roles are read from the database, never trusted from the caller."""
    row = session.get(UserRecord, user.id)
    if row is None or row.username != user.username:
        raise PermissionDenied(f"user {user.username!r} does not exist")
    if not row.active:
        raise PermissionDenied(f"user {user.username!r} is deactivated")
    return row


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise BadInput(
            f"invalid username {username!r}: use 2-64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> Role:
    if role not in ROLE_NAMES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLE_NAMES)}")
    return role
