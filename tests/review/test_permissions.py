"""The permissions table itself, the service agreeing with it, and the plan page following it.

``tests/review/test_roles.py`` calls every service method as every kind of user; here the
table is read directly (every cell, every refusal's words), then checked against the
service in every plan status: whatever :func:`allowed_actions` offers, the service does,
and whatever it leaves out, the service refuses. Last, the plan page shows only the
forms and buttons the table allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

import pytest
from streamlit.testing.v1 import AppTest

from tailor.config import PROJECT_ROOT
from tailor.errors import IllegalTransition, PermissionDenied
from tailor.review import permissions
from tailor.review.auth import ROLE_NAMES, AuthService, UserOut
from tailor.review.flags import acknowledge_all, open_flags
from tailor.review.permissions import (
    TABLE,
    Action,
    Target,
    allowed_actions,
    denial,
    describe,
    next_status,
    require,
)
from tailor.review.service import ReviewService
from tailor.schema import Plan, PlanStatus
from tailor.web.session import TOKEN_KEY
from tests.fixtures.db import PASSWORD

A = Action
PLAN_ACTIONS = frozenset(a for a, rule in TABLE.items() if rule.on == "plan")


@dataclass(frozen=True)
class Person:
    """An actor as the rules see one: a name and a role."""

    username: str
    role: str


MARIA, MO = Person("maria", "manager"), Person("mo", "manager")
HANA, HARRY, ADA = Person("hana", "hr"), Person("harry", "hr"), Person("ada", "admin")


def target(status: PlanStatus, *, manager: str = "maria", latest_author: str | None = "maria") -> Target:
    return Target(7, manager, status, 3, latest_author)


# =========================================================================== the table
# action: (manager, hr, admin). Changing a cell here and in TABLE is changing a rule.
GRID = {
    "start_draft": ("any", "no", "no"),
    "list_drafts": ("any", "no", "no"),
    "create_plan": ("any", "no", "no"),
    "use_draft": ("own", "no", "no"),
    "read_audit_log": ("no", "any", "any"),
    "read": ("own", "any", "any"),
    "read_background": ("own", "any", "no"),
    "edit": ("own", "submitted", "no"),
    "submit": ("own", "no", "no"),
    "approve": ("no", "any", "no"),
    "request_changes": ("no", "any", "no"),
    "comment": ("own", "any", "no"),
    "assign_reviewer": ("no", "any", "any"),
}


def test_every_cell_of_the_table() -> None:
    assert ROLE_NAMES == ("manager", "hr", "admin")
    cells = {a.value: tuple(rule.grants[role].value for role in ROLE_NAMES) for a, rule in TABLE.items()}
    assert cells == GRID
    assert set(TABLE) == set(Action)
    assert [a for a, rule in TABLE.items() if rule.four_eyes] == [A.APPROVE]


def test_the_status_machine_in_the_table() -> None:
    everywhere = set(get_args(PlanStatus))
    legal_from = {a: set(rule.statuses) for a, rule in TABLE.items() if rule.on == "plan"}
    assert legal_from == {
        A.READ: everywhere,
        A.READ_BACKGROUND: everywhere,
        A.EDIT: everywhere,
        A.SUBMIT: {"draft", "changes_requested"},
        A.APPROVE: {"in_review"},
        A.REQUEST_CHANGES: {"in_review"},
        A.COMMENT: everywhere,
        A.ASSIGN_REVIEWER: everywhere,
    }
    assert next_status(A.SUBMIT, "draft") == next_status(A.SUBMIT, "changes_requested") == "in_review"
    assert next_status(A.APPROVE, "in_review") == "approved"
    assert next_status(A.REQUEST_CHANGES, "in_review") == "changes_requested"
    assert [next_status(A.EDIT, s) for s in get_args(PlanStatus)] == [
        "draft",
        "in_review",
        "changes_requested",
        "in_review",  # an edit of an approved plan reopens its review
    ]
    assert next_status(A.COMMENT, "approved") == "approved"


def test_the_module_doc_shows_the_table_as_it_is() -> None:
    assert describe() in (permissions.__doc__ or "")


# =========================================================================== refusals, word for word
@pytest.mark.parametrize(
    ("who", "action", "on", "message"),
    [
        (HANA, A.START_DRAFT, None, "only manager users can start a draft (you are hana, hr)"),
        (ADA, A.LIST_DRAFTS, None, "only manager users can list drafts in progress (you are ada, admin)"),
        (HANA, A.CREATE_PLAN, None, "only manager users can create plans (you are hana, hr)"),
        (MARIA, A.READ_AUDIT_LOG, None, "only hr or admin users can read the whole audit log (you are maria, manager)"),
        (MARIA, A.APPROVE, None, "only hr users can approve plans (you are maria, manager)"),
        (ADA, A.REQUEST_CHANGES, None, "only hr users can request changes (you are ada, admin)"),
        (MARIA, A.ASSIGN_REVIEWER, None, "only hr or admin users can assign reviewers (you are maria, manager)"),
        (MO, A.READ, target("draft"), "plan 7 belongs to another manager"),
        (MO, A.EDIT, target("in_review"), "plan 7 belongs to another manager"),
        (MO, A.SUBMIT, target("draft"), "plan 7 belongs to another manager"),
        (MO, A.COMMENT, target("draft"), "plan 7 belongs to another manager"),
        (MO, A.READ_BACKGROUND, target("draft"), "plan 7 belongs to another manager"),
        (HANA, A.SUBMIT, target("draft"), "only the hire's manager can submit plan 7 (you are hr)"),
        (ADA, A.SUBMIT, target("draft"), "only the hire's manager can submit plan 7 (you are admin)"),
        (
            HANA,
            A.EDIT,
            target("draft"),
            "plan 7 is still a draft with its manager; HR can edit it once it is submitted",
        ),
        (ADA, A.EDIT, target("in_review"), "admins cannot edit plans (plan 7); HR and the hire's manager can"),
        (ADA, A.READ_BACKGROUND, target("draft"), "admins cannot read a hire's background text; ask HR or the manager"),
        (ADA, A.COMMENT, target("draft"), "admins cannot comment on plans; HR and the hire's manager can"),
        (
            HANA,
            A.APPROVE,
            target("in_review", latest_author="hana"),
            "you wrote revision 3 of plan 7; another HR reviewer must approve it (four-eyes rule)",
        ),
        (HANA, A.USE_DRAFT, Target(5, "maria"), "draft input 5 belongs to another user"),
        (ADA, A.USE_DRAFT, Target(5, "maria"), "draft input 5 belongs to another user"),
        (MO, A.USE_DRAFT, Target(5, "maria"), "draft input 5 belongs to another user"),
    ],
)
def test_each_refusal_says_why(who: Person, action: Action, on: Target | None, message: str) -> None:
    assert denial(who, action, on) == message
    with pytest.raises(PermissionDenied) as refused:
        require(who, action, on)
    assert str(refused.value) == message


def test_what_is_allowed_is_not_refused() -> None:
    assert denial(MARIA, A.USE_DRAFT, Target(5, "maria")) is None
    assert denial(HANA, A.EDIT, target("changes_requested")) is None
    assert denial(HARRY, A.APPROVE, target("in_review", latest_author="hana")) is None
    # Without a target only the role is asked: the service checks it before loading anything.
    assert denial(HANA, A.APPROVE) is None
    assert denial(MO, A.READ) is None
    require(MARIA, A.SUBMIT, target("draft"))


def test_an_unknown_role_may_do_nothing() -> None:
    intruder = Person("eve", "owner")
    assert allowed_actions(intruder) == frozenset()
    assert allowed_actions(intruder, target("in_review", manager="eve")) == frozenset()
    assert (
        denial(intruder, A.READ, target("draft"))
        == "only manager or hr or admin users can read plans (you are eve, owner)"
    )


# =========================================================================== allowed_actions
def test_allowed_actions_without_a_plan() -> None:
    assert allowed_actions(MARIA) == {A.START_DRAFT, A.LIST_DRAFTS, A.CREATE_PLAN}
    assert allowed_actions(HANA) == allowed_actions(ADA) == {A.READ_AUDIT_LOG}


@pytest.mark.parametrize(
    ("who", "status", "latest_author", "expected"),
    [
        (MARIA, "draft", "maria", {A.READ, A.READ_BACKGROUND, A.EDIT, A.SUBMIT, A.COMMENT}),
        (MARIA, "in_review", "maria", {A.READ, A.READ_BACKGROUND, A.EDIT, A.COMMENT}),
        (MARIA, "changes_requested", "maria", {A.READ, A.READ_BACKGROUND, A.EDIT, A.SUBMIT, A.COMMENT}),
        (MARIA, "approved", "maria", {A.READ, A.READ_BACKGROUND, A.EDIT, A.COMMENT}),
        (MO, "draft", "maria", set()),
        (MO, "in_review", "maria", set()),
        (HANA, "draft", "maria", {A.READ, A.READ_BACKGROUND, A.COMMENT, A.ASSIGN_REVIEWER}),
        (
            HANA,
            "in_review",
            "maria",
            {A.READ, A.READ_BACKGROUND, A.EDIT, A.APPROVE, A.REQUEST_CHANGES, A.COMMENT, A.ASSIGN_REVIEWER},
        ),
        (
            HANA,
            "in_review",
            "hana",
            {A.READ, A.READ_BACKGROUND, A.EDIT, A.REQUEST_CHANGES, A.COMMENT, A.ASSIGN_REVIEWER},
        ),
        (HANA, "approved", "maria", {A.READ, A.READ_BACKGROUND, A.EDIT, A.COMMENT, A.ASSIGN_REVIEWER}),
        (ADA, "draft", "maria", {A.READ, A.ASSIGN_REVIEWER}),
        (ADA, "in_review", "maria", {A.READ, A.ASSIGN_REVIEWER}),
    ],
)
def test_allowed_actions_on_a_plan(who: Person, status: PlanStatus, latest_author: str, expected: set[Action]) -> None:
    assert allowed_actions(who, target(status, latest_author=latest_author)) == expected


@pytest.mark.parametrize("status", get_args(PlanStatus))
@pytest.mark.parametrize("who", [MARIA, HANA, ADA], ids=lambda p: p.role)
def test_the_plan_page_rules_it_replaced_agree_with_the_table(who: Person, status: PlanStatus) -> None:
    """pages/plan.py used to compute these itself, for any plan the user could open; same answers."""
    allowed = allowed_actions(who, target(status))
    assert (A.EDIT in allowed) == ((who.role == "manager") or (who.role == "hr" and status != "draft"))
    assert (A.SUBMIT in allowed) == (who.role == "manager" and status in ("draft", "changes_requested"))
    assert (A.COMMENT in allowed) == (who.role in ("manager", "hr"))
    assert (A.READ_BACKGROUND in allowed) == (who.role in ("manager", "hr"))


# =========================================================================== the service agrees
Call = Callable[[ReviewService, UserOut, int, int, Plan], object]
CALLS: dict[Action, Call] = {
    A.READ: lambda svc, u, pid, rev, plan: svc.get_plan(u, pid),
    A.READ_BACKGROUND: lambda svc, u, pid, rev, plan: svc.get_background(u, pid),
    A.EDIT: lambda svc, u, pid, rev, plan: svc.save_revision(u, pid, plan, rev),
    A.SUBMIT: lambda svc, u, pid, rev, plan: svc.submit(u, pid, rev),
    A.APPROVE: lambda svc, u, pid, rev, plan: svc.approve(u, pid, rev, "ok", acknowledge_all(open_flags(plan), "ok")),
    A.REQUEST_CHANGES: lambda svc, u, pid, rev, plan: svc.request_changes(u, pid, rev, "one more pass"),
    A.COMMENT: lambda svc, u, pid, rev, plan: svc.comment(u, pid, "a note"),
    A.ASSIGN_REVIEWER: lambda svc, u, pid, rev, plan: svc.assign_reviewer(u, pid, "hr2"),
}
CHANGES_STATE = {A.EDIT, A.SUBMIT, A.APPROVE, A.REQUEST_CHANGES}
SCENARIOS = ["draft", "in_review", "in_review, last edited by hr", "changes_requested", "approved"]


def plan_in(service: ReviewService, users: dict[str, UserOut], plan: Plan, scenario: str) -> int:
    """A new plan of ``manager`` in the scenario's state (decisions by hr2, so hr stays free to act)."""
    manager, hr, hr2 = users["manager"], users["hr"], users["hr2"]
    plan_id = service.import_plan(manager, plan).id
    if scenario != "draft":
        service.submit(manager, plan_id, 1)
    if scenario == "in_review, last edited by hr":
        edited = plan.model_copy(deep=True)
        edited.summary = "HR's wording."
        service.save_revision(hr, plan_id, edited, 1)
    if scenario == "changes_requested":
        service.request_changes(hr2, plan_id, 1, "more detail")
    if scenario == "approved":
        service.approve(hr2, plan_id, 1, "fine", acknowledge_all(open_flags(plan), "checked"))
    return plan_id


def test_every_plan_action_is_covered() -> None:
    assert set(CALLS) == PLAN_ACTIONS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_service_does_exactly_what_allowed_actions_offers(
    scenario: str, service: ReviewService, users: dict[str, UserOut], sample_plan: Plan
) -> None:
    disagree: dict[str, tuple[bool, bool]] = {}
    plan_id: int | None = None
    for name in ("manager", "manager2", "hr", "hr2", "admin"):
        user = users[name]
        for action, call in CALLS.items():
            if plan_id is None:
                plan_id = plan_in(service, users, sample_plan, scenario)
            detail = service.get_plan(users["hr"], plan_id)
            offered = action in allowed_actions(user, detail)
            try:
                call(service, user, plan_id, detail.revision, sample_plan)
            except (PermissionDenied, IllegalTransition):
                done = False
            else:
                done = True
                if action in CHANGES_STATE:
                    plan_id = None  # the next call starts from the scenario again
            if offered != done:
                disagree[f"{name} {action}"] = (offered, done)
    assert disagree == {}


def test_a_summary_cannot_apply_four_eyes_but_a_detail_does(
    service: ReviewService, users: dict[str, UserOut], sample_plan: Plan
) -> None:
    plan_id = plan_in(service, users, sample_plan, "in_review, last edited by hr")
    detail = service.get_plan(users["hr"], plan_id)
    assert A.APPROVE not in allowed_actions(users["hr"], detail)
    assert A.APPROVE in allowed_actions(users["hr2"], detail)
    assert allowed_actions(users["hr"], detail.summary) - allowed_actions(users["hr"], detail) == {A.APPROVE}


# =========================================================================== the plan page follows the table
def plan_page(auth_service: AuthService, username: str, plan_id: int) -> AppTest:
    """pages/plan.py for ``plan_id``, signed in (with a real session token) as ``username``."""
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
    at.session_state[TOKEN_KEY] = auth_service.authenticate(username, PASSWORD).token
    at.run()  # the role's home page (HR's Review page picks a plan of its own)
    at.session_state["plan_id"] = plan_id
    at.query_params["id"] = str(plan_id)  # opened as a link would: ?id= wins over the page's last pick
    at.switch_page("pages/plan.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith(f"Plan #{plan_id}:")
    return at


def shown(at: AppTest) -> set[str]:
    """What the page offers: the Edit tab, the submit button, the comment form, the background."""
    offered = set()
    if "Edit" in [t.label for t in at.tabs]:
        offered.add("edit")
    keys = {b.key for b in at.button}
    if "pv_submit" in keys:
        offered.add("submit")
    if any(b.label == "Add comment" for b in at.button):
        offered.add("comment")
    if any("background text" in e.label for e in at.expander):
        offered.add("background")
    return offered


def test_the_plan_page_shows_only_what_the_table_allows(
    service: ReviewService, auth_service: AuthService, users: dict[str, UserOut], sample_plan: Plan
) -> None:
    draft = plan_in(service, users, sample_plan, "draft")
    in_review = plan_in(service, users, sample_plan, "in_review")
    # HR reads and comments on a draft but cannot edit it until its manager submits it.
    assert shown(plan_page(auth_service, "hr", draft)) == {"comment", "background"}
    assert shown(plan_page(auth_service, "hr", in_review)) == {"edit", "comment", "background"}
    assert shown(plan_page(auth_service, "manager", draft)) == {"edit", "submit", "comment", "background"}
    assert shown(plan_page(auth_service, "admin", draft)) == set()
