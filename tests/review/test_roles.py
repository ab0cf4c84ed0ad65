"""Role x operation matrix: every role-gated operation called as every kind of user.

Actors: ``owner`` (the manager whose hire it is), ``other`` (another manager), ``hr``
and ``admin``. Each row sets up a fresh plan in the state the operation needs, so the
role is the only thing deciding; a denied call must raise PermissionDenied and write
nothing (not even an audit entry). The rules themselves are one table,
``tailor/review/permissions.py``, read directly by ``tests/review/test_permissions.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tailor.errors import PermissionDenied
from tailor.review.auth import AuthService, UserOut
from tailor.review.flags import acknowledge_all, open_flags
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tailor.store.records import AuditRecord
from tests.fixtures.db import PASSWORD

ACTORS = ("owner", "other", "hr", "admin")
MANAGERS = {"owner", "other"}
READERS = {"owner", "hr", "admin"}
EDITORS = {"owner", "hr"}
EVERYONE = set(ACTORS)


@dataclass
class World:
    service: ReviewService
    auth: AuthService
    users: dict[str, UserOut]
    plan: Plan
    plan_id: int = 0
    intake_id: int = 0

    def make_plan(self, state: str | None) -> None:
        owner = self.users["owner"]
        self.intake_id = self.service.save_intake(owner, "Background for the matrix.", "Matrix Hire")
        if state is None:
            return
        self.plan_id = self.service.create_plan_from_draft(owner, self.intake_id, self.plan).id
        self.intake_id = self.service.save_intake(owner, "Another background.", "Matrix Hire 2")
        if state == "in_review":
            self.service.submit(owner, self.plan_id, 1)


Operation = Callable[[World, UserOut], Any]

# name: (plan state to set up, the call, who may do it)
MATRIX: dict[str, tuple[str | None, Operation, set[str]]] = {
    # ---- drafts in progress
    "save_intake": (None, lambda w, u: w.service.save_intake(u, "Some background."), MANAGERS),
    "list_intakes": (None, lambda w, u: w.service.list_intakes(u), MANAGERS),
    "get_intake": (None, lambda w, u: w.service.get_intake(u, w.intake_id), {"owner"}),
    "record_intake_failure": (
        None,
        lambda w, u: w.service.record_intake_failure(u, w.intake_id, "x"),
        {"owner"},
    ),
    "update_intake": (None, lambda w, u: w.service.update_intake(u, w.intake_id, {"team": "team-orders"}), {"owner"}),
    "discard_intake": (None, lambda w, u: w.service.discard_intake(u, w.intake_id), {"owner"}),
    "create_plan_from_draft": (
        None,
        lambda w, u: w.service.create_plan_from_draft(u, w.intake_id, w.plan),
        {"owner"},
    ),
    "import_plan": (None, lambda w, u: w.service.import_plan(u, w.plan), MANAGERS),
    "replace_draft": ("draft", lambda w, u: w.service.replace_draft(u, w.intake_id - 1, w.plan, 1), {"owner"}),
    "mark_seen": ("draft", lambda w, u: w.service.mark_seen(u, w.plan_id, 1), READERS),
    "inbox": ("in_review", lambda w, u: w.service.inbox(u), EVERYONE),
    "mark_inbox_read": ("in_review", lambda w, u: w.service.mark_inbox_read(u, w.plan_id), READERS),
    # ---- reading
    "list_plans": ("draft", lambda w, u: w.service.list_plans(u), EVERYONE),
    "list_reviewers": ("draft", lambda w, u: w.service.list_reviewers(u), EVERYONE),
    "get_plan": ("draft", lambda w, u: w.service.get_plan(u, w.plan_id), READERS),
    "get_revision": ("draft", lambda w, u: w.service.get_revision(u, w.plan_id, 1), READERS),
    "history": ("draft", lambda w, u: w.service.history(u, w.plan_id), READERS),
    "list_comments": ("draft", lambda w, u: w.service.list_comments(u, w.plan_id), READERS),
    "list_decisions": ("draft", lambda w, u: w.service.list_decisions(u, w.plan_id), READERS),
    "diff_revisions": ("draft", lambda w, u: w.service.diff_revisions(u, w.plan_id, 1, 1), READERS),
    "export": ("in_review", lambda w, u: w.service.export(u, w.plan_id, "markdown"), READERS),
    "audit_log(plan)": ("draft", lambda w, u: w.service.audit_log(u, w.plan_id), READERS),
    "audit_log(all)": ("draft", lambda w, u: w.service.audit_log(u), {"hr", "admin"}),
    "get_background": ("draft", lambda w, u: w.service.get_background(u, w.plan_id), EDITORS),
    # ---- changing plans
    "save_revision(draft)": (
        "draft",
        lambda w, u: w.service.save_revision(u, w.plan_id, w.plan, 1),
        {"owner"},
    ),
    "save_revision(in_review)": (
        "in_review",
        lambda w, u: w.service.save_revision(u, w.plan_id, w.plan, 1),
        EDITORS,
    ),
    "restore_revision": ("in_review", lambda w, u: w.service.restore_revision(u, w.plan_id, 1, 1), EDITORS),
    "submit": ("draft", lambda w, u: w.service.submit(u, w.plan_id, 1), {"owner"}),
    "approve": (
        "in_review",
        lambda w, u: w.service.approve(u, w.plan_id, 1, "ok", acknowledge_all(open_flags(w.plan), "checked")),
        {"hr"},
    ),
    "request_changes": ("in_review", lambda w, u: w.service.request_changes(u, w.plan_id, 1, "more"), {"hr"}),
    "comment": ("draft", lambda w, u: w.service.comment(u, w.plan_id, "a note"), EDITORS),
    "assign_reviewer": ("draft", lambda w, u: w.service.assign_reviewer(u, w.plan_id, "hr"), {"hr", "admin"}),
    # ---- users
    "add_user": (None, lambda w, u: w.auth.add_user(u, f"new-{u.username}", "manager", PASSWORD), {"admin"}),
    "list_users": (None, lambda w, u: w.auth.list_users(u), {"admin"}),
    "set_active": (None, lambda w, u: w.auth.set_active(u, "hr2", False), {"admin"}),
    "set_role": (None, lambda w, u: w.auth.set_role(u, "hr2", "manager"), {"admin"}),
    "set_password(other user)": (
        None,
        lambda w, u: w.auth.set_password(u, "hr2", "another password"),
        {"admin"},
    ),
}


def _audit_count(service: ReviewService) -> int:
    with service.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecord)) or 0)


@pytest.mark.parametrize("operation", list(MATRIX))
def test_role_matrix(
    operation: str,
    service: ReviewService,
    auth_service: AuthService,
    users: dict[str, UserOut],
    sample_plan: Plan,
) -> None:
    state, call, allowed = MATRIX[operation]
    actors = {
        "owner": users["manager"],
        "other": users["manager2"],
        "hr": users["hr"],
        "admin": users["admin"],
    }
    outcome: dict[str, str] = {}
    for name, user in actors.items():
        world = World(service, auth_service, {"owner": users["manager"]}, sample_plan)
        world.make_plan(state)
        before = _audit_count(service)
        try:
            call(world, user)
        except PermissionDenied as exc:
            outcome[name] = "denied"
            assert str(exc), "a denial must say why"
            assert _audit_count(service) == before, f"{operation} as {name} was denied but wrote to the audit log"
        else:
            outcome[name] = "allowed"
        # Undo what user-management rows changed, so the next actor starts from the same users.
        if operation in ("set_active", "set_role") and outcome[name] == "allowed":
            auth_service.set_active(users["admin"], "hr2", True)
            auth_service.set_role(users["admin"], "hr2", "hr")
    expected = {name: "allowed" if name in allowed else "denied" for name in ACTORS}
    assert outcome == expected


def test_matrix_covers_every_role_gated_operation() -> None:
    """A new service method must get a row here before it ships."""
    covered = {name.split("(")[0] for name in MATRIX}
    public = {n for n, _ in inspect.getmembers(ReviewService, inspect.isfunction) if not n.startswith("_")}
    assert public - covered == set()
    not_role_gated = {
        "bootstrap_needed",
        "bootstrap_admin",
        "operator_user",
        "get_user",
        "authenticate",
        "user_for_token",
        "sign_out",
    }
    auth_public = {n for n, _ in inspect.getmembers(AuthService, inspect.isfunction) if not n.startswith("_")}
    assert auth_public - covered - not_role_gated == set()


def test_a_manager_sees_only_their_own_plans(
    service: ReviewService, manager: UserOut, manager2: UserOut, sample_plan: Plan
) -> None:
    service.import_plan(manager, sample_plan)
    assert service.list_plans(manager2) == []
    assert len(service.list_plans(manager)) == 1


def test_admin_reads_plans_but_never_background_or_decides(
    service: ReviewService, manager: UserOut, admin: UserOut, sample_plan: Plan
) -> None:
    intake = service.save_intake(manager, "Private background text.", "Pat")
    plan_id = service.create_plan_from_draft(manager, intake, sample_plan).id
    service.submit(manager, plan_id, 1)
    assert service.get_plan(admin, plan_id).id == plan_id
    for call in (
        lambda: service.get_background(admin, plan_id),
        lambda: service.approve(admin, plan_id, 1, "ok"),
        lambda: service.request_changes(admin, plan_id, 1, "no"),
        lambda: service.save_revision(admin, plan_id, sample_plan, 1),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert "Private background" not in service.history(admin, plan_id).model_dump_json()
