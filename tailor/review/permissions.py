"""Who may do what to which plan, and when: the one table of rules.

The review service asks :func:`require` before it changes or shows anything, and the
pages ask :func:`allowed_actions` which buttons and forms to show. Both read
:data:`TABLE`, so a page can never offer what the service would refuse, and a rule is
changed in one place. ``tests/review/test_permissions.py`` checks the table itself;
``tests/review/test_roles.py`` calls every service method as every kind of user.

Roles come from :mod:`tailor.review.users`. A cell says how far a role's grant goes:

* ``any``: on every plan;
* ``own``: a manager, on the plans (and draft inputs) of their own hires only;
* ``submitted``: on every plan its manager has submitted (not while it is a draft);
* ``no``: never. The refusal names who may, or says why not.

===============  =======  =========  =====  ========================  =====================
action           manager  hr         admin  legal from status         leads to
===============  =======  =========  =====  ========================  =====================
start_draft      any      no         no     -                         -
list_drafts      any      no         no     -                         -
create_plan      any      no         no     -                         -
use_draft        own      no         no     -                         -
read_audit_log   no       any        any    -                         -
read             own      any        any    any                       -
read_background  own      any        no     any                       -
edit             own      submitted  no     any                       approved -> in_review
submit           own      no         no     draft, changes_requested  in_review
approve          no       any [1]    no     in_review                 approved
request_changes  no       any        no     in_review                 changes_requested
comment          own      any        no     any                       -
assign_reviewer  no       any        any    any                       -
===============  =======  =========  =====  ========================  =====================

[1] four-eyes: never the author of the plan's latest revision.

``read`` covers get_plan, get_revision, history, list_comments, list_decisions,
diff_revisions, export and audit_log(plan_id); it also scopes list_plans (a manager
lists their own plans). ``use_draft`` covers get_intake, update_intake, record_intake_failure,
discard_intake and create_plan_from_draft. Anyone signed in may list the HR reviewers.

Two kinds of "no": a role or ownership refusal is :class:`tailor.errors.PermissionDenied`
(raised by :func:`require`); a move from the wrong status is
:class:`tailor.errors.IllegalTransition` (raised by :mod:`tailor.review.lifecycle`, which
reads the status columns here). :func:`allowed_actions` applies both, because a page
should not offer a button whose click can only fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, Literal, Protocol, get_args

from tailor.errors import PermissionDenied
from tailor.review.results import PlanDetail, PlanSummary
from tailor.review.users import ROLE_NAMES, Role
from tailor.schema import PlanStatus

ALL_STATUSES: Final[frozenset[PlanStatus]] = frozenset(get_args(PlanStatus))


class Action(StrEnum):
    """Everything the rules decide. Several service methods can share one action (see the module doc)."""

    START_DRAFT = "start_draft"
    LIST_DRAFTS = "list_drafts"
    CREATE_PLAN = "create_plan"
    USE_DRAFT = "use_draft"
    READ_AUDIT_LOG = "read_audit_log"
    READ = "read"
    READ_BACKGROUND = "read_background"
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    COMMENT = "comment"
    ASSIGN_REVIEWER = "assign_reviewer"


class Grant(Enum):
    """How far one role's permission for one action goes (a cell of the table)."""

    ANY = "any"
    OWN = "own"
    SUBMITTED = "submitted"
    NO = "no"


ANY, OWN, SUBMITTED, NO = Grant.ANY, Grant.OWN, Grant.SUBMITTED, Grant.NO


class Actor(Protocol):
    """Whoever acts: a signed-in :class:`UserOut` (pages) or the stored user row (the service)."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Target:
    """What the rules need to know about the plan (or draft input) acted on.

    ``latest_author`` is the username of whoever wrote the current revision; None when the
    caller does not know it, and then the four-eyes rule is left to the service.
    ``status`` is None for a draft input, which has no plan status.
    """

    id: int
    manager: str
    status: PlanStatus | None = None
    revision: int | None = None
    latest_author: str | None = None

    @classmethod
    def of(cls, plan: PlanSummary | PlanDetail) -> Target:
        """The target for a plan a page already holds (a detail also knows the latest author)."""
        summary = plan if isinstance(plan, PlanSummary) else plan.summary
        author = None
        if isinstance(plan, PlanDetail):
            author = next((r.author for r in plan.revisions if r.number == summary.revision), None)
        return cls(summary.id, summary.manager, summary.status, summary.revision, author)


ActsOn = Literal["nothing", "plan", "draft"]  # what an action needs to be decided: no target, a plan, a draft input
_BELONGS = "plan {id} belongs to another manager"
_ONLY = "only {roles} users can {what} (you are {username}, {role})"
_FOUR_EYES = "you wrote revision {revision} of plan {id}; another HR reviewer must approve it (four-eyes rule)"


@dataclass(frozen=True)
class Rule:
    """One row of the table: the grant of each role, and the conditions that go with it.

    ``what`` completes "only hr users can ..."; ``refusals`` replaces that sentence for a
    role that deserves a better one. ``not_owner`` refuses a manager's ``own`` grant on
    someone else's plan, ``while_draft`` a ``submitted`` grant on a draft. ``statuses`` are
    the plan statuses the action may start from, and ``leads_to`` where it takes the plan
    from each (a status it does not name stays as it is).
    """

    what: str
    grants: Mapping[str, Grant]
    on: ActsOn = "plan"
    refusals: Mapping[str, str] = field(default_factory=dict)
    not_owner: str = _BELONGS
    while_draft: str = ""
    four_eyes: bool = False
    statuses: frozenset[PlanStatus] = ALL_STATUSES
    leads_to: Mapping[str, str] = field(default_factory=dict)

    def allowed_roles(self) -> list[Role]:
        return [role for role in ROLE_NAMES if self.grants.get(role, NO) is not NO]


def _grants(manager: Grant, hr: Grant, admin: Grant) -> dict[str, Grant]:
    return {"manager": manager, "hr": hr, "admin": admin}


_NOT_YOUR_DRAFT = "draft input {id} belongs to another user"

TABLE: Final[Mapping[Action, Rule]] = {
    Action.START_DRAFT: Rule("start a draft", _grants(ANY, NO, NO), on="nothing"),
    Action.LIST_DRAFTS: Rule("list drafts in progress", _grants(ANY, NO, NO), on="nothing"),
    Action.CREATE_PLAN: Rule("create plans", _grants(ANY, NO, NO), on="nothing"),
    Action.USE_DRAFT: Rule(
        "use draft inputs",
        _grants(OWN, NO, NO),
        on="draft",
        refusals={"hr": _NOT_YOUR_DRAFT, "admin": _NOT_YOUR_DRAFT},
        not_owner=_NOT_YOUR_DRAFT,
    ),
    Action.READ_AUDIT_LOG: Rule("read the whole audit log", _grants(NO, ANY, ANY), on="nothing"),
    Action.READ: Rule("read plans", _grants(OWN, ANY, ANY)),
    Action.READ_BACKGROUND: Rule(
        "read a hire's background text",
        _grants(OWN, ANY, NO),
        refusals={"admin": "admins cannot read a hire's background text; ask HR or the manager"},
    ),
    Action.EDIT: Rule(
        "edit plans",
        _grants(OWN, SUBMITTED, NO),
        refusals={"admin": "admins cannot edit plans (plan {id}); HR and the hire's manager can"},
        while_draft="plan {id} is still a draft with its manager; HR can edit it once it is submitted",
        leads_to={"approved": "in_review"},
    ),
    Action.SUBMIT: Rule(
        "submit plans",
        _grants(OWN, NO, NO),
        refusals={
            "hr": "only the hire's manager can submit plan {id} (you are {role})",
            "admin": "only the hire's manager can submit plan {id} (you are {role})",
        },
        statuses=frozenset({"draft", "changes_requested"}),
        leads_to={"draft": "in_review", "changes_requested": "in_review"},
    ),
    Action.APPROVE: Rule(
        "approve plans",
        _grants(NO, ANY, NO),
        four_eyes=True,
        statuses=frozenset({"in_review"}),
        leads_to={"in_review": "approved"},
    ),
    Action.REQUEST_CHANGES: Rule(
        "request changes",
        _grants(NO, ANY, NO),
        statuses=frozenset({"in_review"}),
        leads_to={"in_review": "changes_requested"},
    ),
    Action.COMMENT: Rule(
        "comment on plans",
        _grants(OWN, ANY, NO),
        refusals={"admin": "admins cannot comment on plans; HR and the hire's manager can"},
    ),
    Action.ASSIGN_REVIEWER: Rule("assign reviewers", _grants(NO, ANY, ANY)),
}


def grant(user: Actor, action: Action) -> Grant:
    """The user's cell for ``action`` (an unknown role gets ``no``). Also scopes listings."""
    return TABLE[action].grants.get(user.role, NO)


def denial(user: Actor, action: Action, target: Target | None = None) -> str | None:
    """Why ``user`` may not do ``action`` (to ``target``), or None when they may.

    Without a target only the role is checked: the service does that before it loads a
    plan, so a role that may never approve hears so even about a plan that does not exist.
    Statuses are not checked here (see :func:`status_allows`).
    """
    rule = TABLE[action]
    cell = grant(user, action)
    values = {"id": target.id if target else "?", "username": user.username, "role": user.role}
    if cell is NO:
        roles = " or ".join(rule.allowed_roles())
        return rule.refusals.get(user.role, _ONLY).format(roles=roles, what=rule.what, **values)
    if target is None:
        return None
    if cell is OWN and target.manager != user.username:
        return rule.not_owner.format(**values)
    if cell is SUBMITTED and target.status == "draft":
        return rule.while_draft.format(**values)
    if rule.four_eyes and target.latest_author == user.username:
        return _FOUR_EYES.format(revision=target.revision, **values)
    return None


def require(user: Actor, action: Action, target: Target | None = None) -> None:
    """Raise PermissionDenied, saying why, unless ``user`` may do ``action`` (to ``target``)."""
    message = denial(user, action, target)
    if message is not None:
        raise PermissionDenied(message)


def status_allows(action: Action, status: PlanStatus | str) -> bool:
    """Whether the lifecycle lets ``action`` start from ``status``."""
    return status in TABLE[action].statuses


def next_status(action: Action, status: str) -> str:
    """The plan's status after ``action`` from ``status`` (unchanged unless the table moves it)."""
    return TABLE[action].leads_to.get(status, status)


def allowed_actions(user: Actor, plan: PlanSummary | PlanDetail | Target | None = None) -> frozenset[Action]:
    """Everything ``user`` may do to ``plan`` right now (role, ownership, status, four-eyes).

    Pages show a button or form only for what is in here. Without a plan: the actions
    that need none (start a draft, read the whole audit log, ...). Pass a
    :class:`PlanDetail` where approval matters: a summary does not say who wrote the
    latest revision, so four-eyes cannot be applied to it.
    """
    if plan is None:
        return frozenset(a for a, rule in TABLE.items() if rule.on == "nothing" and denial(user, a) is None)
    target = plan if isinstance(plan, Target) else Target.of(plan)
    return frozenset(
        action
        for action, rule in TABLE.items()
        if rule.on == "plan"
        and denial(user, action, target) is None
        and (target.status is None or status_allows(action, target.status))
    )


def describe() -> str:
    """The table as the module docstring shows it, rebuilt from :data:`TABLE` (a test compares the two)."""
    header = ["action", *ROLE_NAMES, "legal from status", "leads to"]
    rows = [header]
    for action, rule in TABLE.items():
        cells = [rule.grants.get(role, NO).value for role in ROLE_NAMES]
        if rule.four_eyes:
            cells = [f"{cell} [1]" if cell != NO.value else cell for cell in cells]
        about_plan = rule.on == "plan"
        rows.append([action.value, *cells, _statuses(rule.statuses) if about_plan else "-", _moves(rule)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    rule_line = "  ".join("=" * w for w in widths)
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([rule_line, lines[0], rule_line, *lines[1:], rule_line])


def _statuses(statuses: frozenset[PlanStatus]) -> str:
    if statuses == ALL_STATUSES:
        return "any"
    return ", ".join(s for s in get_args(PlanStatus) if s in statuses)


def _moves(rule: Rule) -> str:
    targets = set(rule.leads_to.values())
    if not targets:
        return "-"
    if set(rule.leads_to) == set(rule.statuses) and len(targets) == 1:
        return targets.pop()
    return ", ".join(f"{a} -> {b}" for a, b in rule.leads_to.items())
