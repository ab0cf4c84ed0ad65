"""The review service on both backends: lifecycle, intakes, history, diff, sign-in."""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import itertools
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from icalendar import Calendar
from sqlalchemy import func, select, update

from tailor.errors import BadInput, Conflict, IllegalTransition, NotFound, PermissionDenied
from tailor.review import auth
from tailor.review import service as service_module
from tailor.review.acting import Part
from tailor.review.auth import AuthService, UserOut
from tailor.review.service import PlanDetail, ReviewService
from tailor.schema import Plan, Task
from tailor.store.records import AuditRecord, RevisionRecord, SessionRecord, UserRecord
from tests.fixtures.db import PASSWORD
from tests.review.approving import checked


def _draft(service: ReviewService, manager: UserOut, plan: Plan) -> PlanDetail:
    intake = service.save_intake(manager, "Eight years of payments work; prefers pairing.", "Zoë", date(2025, 10, 6))
    return service.create_plan_from_draft(manager, intake, plan)


def _edited(plan: Plan, summary: str) -> Plan:
    copy = plan.model_copy(deep=True)
    copy.summary = summary
    return copy


def _counts(service: ReviewService, plan_id: int) -> tuple[int, int]:
    with service.db.read() as s:
        revisions = s.scalar(select(func.count()).where(RevisionRecord.plan_id == plan_id))
        audits = s.scalar(select(func.count()).select_from(AuditRecord))
    return int(revisions or 0), int(audits or 0)


# --------------------------------------------------------------------------- the whole flow
def test_done_means_full_review_cycle(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    """Draft, submit, request changes with a comment, edit, resubmit, approve by a second HR user."""
    detail = _draft(service, manager, sample_plan)
    plan_id = detail.id
    assert (detail.status, detail.revision) == ("draft", 1)

    assert service.submit(manager, plan_id, 1).status == "in_review"
    assert service.request_changes(hr, plan_id, 1, "The first week is too full").status == "changes_requested"
    service.comment(hr, plan_id, "Move the first PR to week 2", task_id="first-pr")

    current = service.get_plan(manager, plan_id).plan
    edited = current.model_copy(deep=True)
    edited.phases[0].tasks[2].due_week = 2
    after_edit = service.save_revision(manager, plan_id, edited, 1, note="moved the first PR")
    assert (after_edit.status, after_edit.revision) == ("changes_requested", 2)

    assert service.submit(manager, plan_id, 2).status == "in_review"
    # HR user 1 took part in the review but did not author revision 2, so either HR may approve;
    # the second one does, as the issue describes.
    approved = service.approve(hr2, plan_id, 2, "Looks right now", checked(service, hr2, plan_id))
    assert approved.status == "approved"
    assert approved.reviewer == "hr2"  # the reviewer is whoever decided last

    actions = [(e.actor, e.action) for e in service.audit_log(hr, plan_id)]
    assert actions == [
        ("manager", "plan.create"),
        ("manager", "plan.submit"),
        ("hr", "plan.request_changes"),
        ("hr", "plan.comment"),
        ("manager", "plan.revise"),
        ("manager", "plan.submit"),
        ("hr2", "plan.approve"),
    ]
    # Every state change hashes the state on both sides, and the hashes chain.
    changes = [e for e in service.audit_log(hr, plan_id) if e.action != "plan.comment"]
    for prev, nxt in itertools.pairwise(changes):
        assert nxt.before_sha256 == prev.after_sha256

    history = service.history(hr, plan_id)
    assert [r.reason for r in history.revisions] == ["generated", "edited"]
    assert [d.decision for d in history.decisions] == ["request_changes", "approve"]
    assert history.comments[0].task_id == "first-pr" and history.comments[0].revision == 1

    markdown = service.export(hr, plan_id, "markdown").content.decode()
    assert "Approved by Harry HR" in markdown
    assert markdown.count("- [ ] **") >= len(sample_plan.all_tasks())

    content = service.export(hr, plan_id, "csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == len(sample_plan.all_tasks())
    first_pr = next(r for r in rows if r["Summary"] == "Ship a first small pull request")
    assert first_pr["Due Date"] == "2025-10-17"  # moved to week 2 by the edit

    calendar = Calendar.from_ical(service.export(hr, plan_id, "ics").content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(sample_plan.check_ins) + len(sample_plan.relationships) + 5
    assert [e.action for e in service.audit_log(hr, plan_id)][-3:] == ["plan.export"] * 3


# --------------------------------------------------------------------------- intakes
def test_intake_is_saved_before_generation_and_survives_failure(
    service: ReviewService, manager: UserOut, manager2: UserOut, sample_plan: Plan
) -> None:
    intake_id = service.save_intake(
        manager, "  Background typed by the manager.  ", "Zoë", date(2025, 10, 6), {"seniority": "senior"}
    )
    # Committed already: a brand-new service (another process, after a crash) sees it.
    fresh = ReviewService(service.settings)
    [saved] = fresh.list_intakes(manager)
    assert saved.id == intake_id and saved.background == "Background typed by the manager."
    assert saved.draft_request().seniority == "senior"

    service.record_intake_failure(manager, intake_id, "model timed out")
    [failed] = service.list_intakes(manager)
    assert (failed.status, failed.error) == ("failed", "model timed out")
    assert service.list_intakes(manager2) == []
    with pytest.raises(PermissionDenied):
        service.get_intake(manager2, intake_id)

    plan_without_date = sample_plan.model_copy(deep=True)
    plan_without_date.hire.start_date = None
    detail = service.create_plan_from_draft(manager, intake_id, plan_without_date)
    assert detail.plan.hire.start_date == date(2025, 10, 6)  # filled from the intake
    assert service.list_intakes(manager) == []
    assert service.get_background(manager, detail.id) == "Background typed by the manager."
    with pytest.raises(IllegalTransition, match="already used"):
        service.create_plan_from_draft(manager, intake_id, sample_plan)


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("   ", None, "background text is empty"),
        ("ok", {"colour": "blue"}, "unknown override"),
        ("ok", {"seniority": "wizard"}, "seniority"),
    ],
)
def test_bad_intake_is_refused(
    service: ReviewService, manager: UserOut, text: str, overrides: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        service.save_intake(manager, text, overrides=overrides)


def test_background_over_the_limit_is_refused(service: ReviewService, manager: UserOut) -> None:
    limit = service.settings.max_background_chars
    with pytest.raises(BadInput, match=f"limit is {limit}"):
        service.save_intake(manager, "x" * (limit + 1))


# --------------------------------------------------------------------------- lifecycle
def test_edit_keeps_draft_and_changes_requested_but_reopens_approved(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    assert service.save_revision(manager, plan_id, _edited(sample_plan, "v2"), 1).status == "draft"
    service.submit(manager, plan_id, 2)
    service.approve(hr, plan_id, 2, "fine", checked(service, hr, plan_id))

    reopened = service.save_revision(manager, plan_id, _edited(sample_plan, "v3"), 2, note="new team")
    assert (reopened.status, reopened.revision) == ("in_review", 3)
    assert reopened.plan.status == "in_review"

    service.request_changes(hr2, plan_id, 3, "explain the new team")
    assert service.save_revision(manager, plan_id, _edited(sample_plan, "v4"), 3).status == "changes_requested"


@pytest.mark.parametrize(
    ("state", "operation", "message"),
    [
        ("approved", "submit", "plan {id} is approved; only an edit can reopen it"),
        ("in_review", "submit", "plan {id} is already in review"),
        ("draft", "approve", "plan {id} is a draft; its manager must submit it"),
        ("changes_requested", "approve", "waiting for changes from its manager"),
        ("approved", "approve", "plan {id} is already approved"),
        ("approved", "request_changes", "plan {id} is approved; only an edit can reopen it"),
        ("draft", "request_changes", "plan {id} is a draft"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(
    service: ReviewService,
    manager: UserOut,
    hr: UserOut,
    hr2: UserOut,
    sample_plan: Plan,
    state: str,
    operation: str,
    message: str,
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    if state != "draft":
        service.submit(manager, plan_id, 1)
    if state == "approved":
        service.approve(hr, plan_id, 1, "ok", checked(service, hr, plan_id))
    if state == "changes_requested":
        service.request_changes(hr, plan_id, 1, "more")
    before = _counts(service, plan_id)
    with pytest.raises(IllegalTransition, match=message.format(id=plan_id)):
        if operation == "submit":
            service.submit(manager, plan_id, 1)
        elif operation == "approve":
            service.approve(hr2, plan_id, 1, "ok")
        else:
            service.request_changes(hr2, plan_id, 1, "again")
    assert _counts(service, plan_id) == before
    assert service.get_plan(hr, plan_id).status == state


def test_submit_refuses_a_plan_without_tasks(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    empty = sample_plan.model_copy(deep=True)
    for phase in empty.phases:
        phase.tasks = []
    plan_id = service.import_plan(manager, empty).id
    with pytest.raises(BadInput, match="no tasks"):
        service.submit(manager, plan_id, 1)
    assert service.get_plan(manager, plan_id).status == "draft"


# --------------------------------------------------------------------------- optimistic locking
def test_stale_revision_is_a_conflict_and_writes_nothing(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    service.save_revision(hr, plan_id, _edited(sample_plan, "HR's edit"), 1)
    before = _counts(service, plan_id)
    expected = f"plan {plan_id} changed since you opened it (revision 1 is now 2); reload and reapply your edit"
    with pytest.raises(Conflict) as info:
        service.save_revision(manager, plan_id, _edited(sample_plan, "manager's edit"), 1)
    assert str(info.value) == expected
    for call in (
        lambda: service.submit(manager, plan_id, 1),
        lambda: service.request_changes(hr, plan_id, 1, "stale"),
        lambda: service.restore_revision(manager, plan_id, 1, 1),
    ):
        with pytest.raises(Conflict):
            call()
    assert _counts(service, plan_id) == before
    assert service.get_plan(manager, plan_id).plan.summary == "HR's edit"


# --------------------------------------------------------------------------- four-eyes
def test_four_eyes_hr_editor_needs_a_second_hr_user(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    service.save_revision(hr, plan_id, _edited(sample_plan, "tightened by HR"), 1)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        service.approve(hr, plan_id, 2, "my own edit is fine")
    assert service.get_plan(hr, plan_id).status == "in_review"
    assert service.approve(hr2, plan_id, 2, "checked HR's edit", checked(service, hr2, plan_id)).status == "approved"


def test_four_eyes_follows_the_latest_revision(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    service.save_revision(hr, plan_id, _edited(sample_plan, "HR edit"), 1)
    service.save_revision(hr2, plan_id, _edited(sample_plan, "second HR edit"), 2)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        service.approve(hr2, plan_id, 3, "mine")
    assert service.approve(hr, plan_id, 3, "hr2's edit checked", checked(service, hr, plan_id)).status == "approved"


# --------------------------------------------------------------------------- bad input / not found
def test_unknown_plan_and_revision_are_not_found(service: ReviewService, hr: UserOut) -> None:
    with pytest.raises(NotFound, match="no plan with id 404"):
        service.get_plan(hr, 404)
    with pytest.raises(NotFound):
        service.approve(hr, 404, 1, "x")


def test_comments_validate_text_and_task(
    service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    audits = _counts(service, plan_id)
    with pytest.raises(BadInput, match="comment is empty"):
        service.comment(hr, plan_id, "   \n ")
    with pytest.raises(BadInput, match="no task 'nope'"):
        service.comment(hr, plan_id, "hi", task_id="nope")
    assert _counts(service, plan_id) == audits
    service.comment(manager, plan_id, "plan-level note")
    service.comment(hr, plan_id, "task note", task_id="dev-environment")
    assert [c.text for c in service.list_comments(manager, plan_id)] == ["plan-level note", "task note"]
    assert [c.author for c in service.list_comments(hr, plan_id, task_id="dev-environment")] == ["hr"]


def test_decisions_need_a_reason(service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    with pytest.raises(BadInput, match="reason is empty"):
        service.request_changes(hr, plan_id, 1, " ")


# --------------------------------------------------------------------------- reading
def test_list_plans_filters_and_scopes(
    service: ReviewService,
    manager: UserOut,
    manager2: UserOut,
    hr: UserOut,
    admin: UserOut,
    sample_plan: Plan,
) -> None:
    mine = _draft(service, manager, sample_plan).id
    other_plan = sample_plan.model_copy(deep=True)
    other_plan.hire.name = "Ravi 100%_Sharma"
    other_plan.hire.role = "Data Engineer"
    other_plan.hire.role_family = "data"
    theirs = service.import_plan(manager2, other_plan).id
    service.submit(manager2, theirs, 1)

    assert [p.id for p in service.list_plans(manager)] == [mine]
    assert {p.id for p in service.list_plans(hr)} == {mine, theirs}
    assert {p.id for p in service.list_plans(admin)} == {mine, theirs}
    assert [p.id for p in service.list_plans(hr, status="in_review")] == [theirs]
    assert [p.id for p in service.list_plans(hr, manager="manager")] == [mine]
    assert [p.id for p in service.list_plans(hr, role="data")] == [theirs]
    assert [p.id for p in service.list_plans(hr, role="backend eng")] == [mine]
    assert [p.id for p in service.list_plans(hr, search="Zoë")] == [mine]
    assert [p.id for p in service.list_plans(hr, search="100%_")] == [theirs]  # wildcards are literal
    assert [p.id for p in service.list_plans(hr, search="%")] == [theirs]
    assert [p.id for p in service.list_plans(hr, search=f"#{theirs}")] == [theirs]
    summary = service.list_plans(hr, search="Zoë")[0]
    assert (summary.task_count, summary.needs_review) == (len(sample_plan.all_tasks()), 1)


def test_background_is_for_the_manager_and_hr_and_every_read_is_audited(
    service: ReviewService,
    manager: UserOut,
    manager2: UserOut,
    hr: UserOut,
    admin: UserOut,
    sample_plan: Plan,
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    assert service.get_background(manager, plan_id) == "Eight years of payments work; prefers pairing."
    assert service.get_background(hr, plan_id) is not None
    with pytest.raises(PermissionDenied, match="admins cannot read"):
        service.get_background(admin, plan_id)
    with pytest.raises(PermissionDenied, match="another manager"):
        service.get_background(manager2, plan_id)
    reads = [e.actor for e in service.audit_log(hr, plan_id) if e.action == "hire.background_read"]
    assert reads == ["manager", "hr"]
    # The plan detail never carries the background text.
    assert "payments work" not in service.get_plan(admin, plan_id).model_dump_json()


def test_diff_and_restore(service: ReviewService, manager: UserOut, hr: UserOut, sample_plan: Plan) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    edited = sample_plan.model_copy(deep=True)
    edited.phases[0].tasks[1].title = "Set up the dev environment with the buddy"
    edited.phases[0].tasks[1].owner = "buddy"
    moved = edited.phases[2].tasks.pop()
    edited.phases[1].tasks.append(moved)
    removed = edited.phases[0].tasks.pop(0)
    new_task = Task(
        id="security-training",
        title="Security training",
        description="Complete the secure coding course.",
        owner="hire",
        due_week=2,
        success_criteria="Certificate uploaded.",
        sources=["backend-engineer"],
    )
    edited.phases[0].tasks.append(new_task)
    edited.targets.first_pr_day = 7
    service.save_revision(manager, plan_id, edited, 1)

    diff = service.diff_revisions(hr, plan_id, 1, 2)
    assert [t.id for t in diff.added] == ["security-training"]
    assert [t.id for t in diff.removed] == [removed.id]
    changed = {c.task_id: {f.path: (f.before, f.after) for f in c.changes} for c in diff.changed}
    assert changed["dev-environment"] == {
        "title": ("Set up the development environment", "Set up the dev environment with the buddy"),
        "owner": ("hire", "buddy"),
    }
    assert changed[moved.id] == {"phase": ("Days 61-90: Ownership", "Days 31-60: Integration")}
    assert {c.path: (c.before, c.after) for c in diff.plan_changes} == {"targets.first_pr_day": (5, 7)}
    assert service.diff_revisions(hr, plan_id, 2, 2).is_empty

    restored = service.restore_revision(manager, plan_id, 1, 2)
    assert restored.revision == 3 and restored.revisions[-1].reason == "restored"
    assert restored.plan.model_dump(exclude={"status"}) == sample_plan.model_dump(exclude={"status"})
    assert service.get_revision(hr, plan_id, 2).plan.targets.first_pr_day == 7
    with pytest.raises(NotFound):
        service.get_revision(hr, plan_id, 9)


def test_revisions_are_exact_snapshots(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    detail = _draft(service, manager, sample_plan)
    with service.db.read() as s:
        row = s.scalar(select(RevisionRecord).where(RevisionRecord.plan_id == detail.id))
        assert row is not None
        stored = Plan.model_validate_json(row.plan_json)
    assert hashlib.sha256(row.plan_json.encode()).hexdigest() == detail.revisions[0].sha256
    assert stored.model_dump(exclude={"status"}) == sample_plan.model_dump(exclude={"status"})


def test_assign_reviewer(
    service: ReviewService, manager: UserOut, hr: UserOut, hr2: UserOut, admin: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    assert service.assign_reviewer(admin, plan_id, "hr2").reviewer == "hr2"
    with pytest.raises(BadInput, match="not an active HR user"):
        service.assign_reviewer(hr, plan_id, "manager")
    with pytest.raises(NotFound):
        service.assign_reviewer(hr, plan_id, "ghost")
    assert service.assign_reviewer(hr, plan_id, None).reviewer is None
    assert [r.username for r in service.list_reviewers(manager)] == ["hr", "hr2"]


# --------------------------------------------------------------------------- users and sign-in
def test_sign_in_session_expiry_and_sign_out(auth_service: AuthService, service: ReviewService, hr: UserOut) -> None:
    session = auth_service.authenticate("HR", PASSWORD)
    assert session.user == hr
    assert auth_service.user_for_token(session.token) == hr
    ttl = service.settings.session_ttl_minutes
    assert timedelta(minutes=ttl - 1) < session.expires_at - auth.utcnow() <= timedelta(minutes=ttl)

    with service.db.write() as s:  # let the session run out, as time would
        s.execute(update(SessionRecord).values(expires_at=auth.utcnow() - timedelta(seconds=1)))
    with pytest.raises(PermissionDenied, match="expired"):
        auth_service.user_for_token(session.token)

    second = auth_service.authenticate("hr", PASSWORD)
    auth_service.sign_out(second.token)
    with pytest.raises(PermissionDenied, match="signed out"):
        auth_service.user_for_token(second.token)
    with pytest.raises(PermissionDenied, match="signed out"):
        auth_service.user_for_token("made-up-token")
    with service.db.read() as s:  # only hashes are stored
        stored = set(s.scalars(select(SessionRecord.token_sha256)))
    assert second.token not in stored and auth.hash_token(second.token) in stored


@pytest.mark.parametrize(("username", "password"), [("hr", "wrong password"), ("nobody", PASSWORD)])
def test_failed_sign_in_says_the_same_thing(
    auth_service: AuthService, service: ReviewService, hr: UserOut, username: str, password: str
) -> None:
    with pytest.raises(PermissionDenied) as info:
        auth_service.authenticate(username, password)
    assert str(info.value) == "wrong username or password"
    assert [e.action for e in service.audit_log(hr)][-1] == "session.sign_in_failed"


def test_deactivation_ends_sessions_and_blocks_the_service(
    auth_service: AuthService, service: ReviewService, admin: UserOut, manager: UserOut, sample_plan: Plan
) -> None:
    session = auth_service.authenticate("manager", PASSWORD)
    plan_id = _draft(service, manager, sample_plan).id
    auth_service.set_active(admin, "manager", False)
    with pytest.raises(PermissionDenied):
        auth_service.user_for_token(session.token)
    with pytest.raises(PermissionDenied, match="deactivated"):
        service.get_plan(manager, plan_id)
    with pytest.raises(PermissionDenied):
        auth_service.authenticate("manager", PASSWORD)
    with pytest.raises(BadInput, match="deactivate yourself"):
        auth_service.set_active(admin, "admin", False)


def test_roles_come_from_the_database_not_the_caller(
    service: ReviewService, manager: UserOut, sample_plan: Plan
) -> None:
    plan_id = _draft(service, manager, sample_plan).id
    service.submit(manager, plan_id, 1)
    forged = manager.model_copy(update={"role": "hr"})
    with pytest.raises(PermissionDenied, match="only hr users"):
        service.approve(forged, plan_id, 1, "self-approval")
    impostor = manager.model_copy(update={"username": "hr"})
    with pytest.raises(PermissionDenied):
        service.get_plan(impostor, plan_id)


def test_user_management_rules(auth_service: AuthService, admin: UserOut, hr: UserOut) -> None:
    with pytest.raises(PermissionDenied, match="an admin already exists"):
        auth_service.bootstrap_admin("second", PASSWORD)
    with pytest.raises(PermissionDenied, match="only an admin"):
        auth_service.add_user(hr, "newbie", "manager", PASSWORD)
    with pytest.raises(BadInput, match="already exists"):
        auth_service.add_user(admin, "HR", "hr", PASSWORD)
    with pytest.raises(BadInput, match="at least 8"):
        auth_service.add_user(admin, "newbie", "manager", "short")
    with pytest.raises(BadInput, match="invalid username"):
        auth_service.add_user(admin, "no spaces", "manager", PASSWORD)
    with pytest.raises(BadInput, match="unknown role"):
        auth_service.add_user(admin, "newbie", "boss", PASSWORD)
    with pytest.raises(BadInput, match="reserved"):
        auth_service.add_user(admin, "cli-operator", "admin", PASSWORD)
    auth_service.set_password(hr, "hr", "a new long password", current_password=PASSWORD)
    with pytest.raises(PermissionDenied, match="another user's password"):
        auth_service.set_password(hr, "admin", "a new long password")
    assert auth_service.authenticate("hr", "a new long password").user.username == "hr"
    assert auth_service.set_role(admin, "hr", "manager").role == "manager"


def test_bootstrap_on_an_empty_database(service: ReviewService) -> None:
    auth_service = AuthService(service.settings, db=service.db)
    assert auth_service.bootstrap_needed()
    operator = auth_service.operator_user()  # the CLI account does not count as an admin who can sign in
    assert auth_service.bootstrap_needed() and not operator.can_sign_in
    admin = auth_service.bootstrap_admin("root", PASSWORD, "Root")
    assert not auth_service.bootstrap_needed()
    assert [u.username for u in auth_service.list_users(admin)] == ["cli-operator", "root"]
    with pytest.raises(PermissionDenied):
        auth_service.authenticate("cli-operator", "")


def test_production_password_hashing(
    auth_service: AuthService, admin: UserOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argon2id with argon2-cffi's defaults; a cheaper old hash is upgraded at sign-in."""
    cheap_user = auth_service.add_user(admin, "legacy", "manager", PASSWORD)
    monkeypatch.setattr(auth, "PASSWORD_HASHER", PasswordHasher())
    auth_service.add_user(admin, "modern", "manager", PASSWORD)
    auth_service.authenticate("legacy", PASSWORD)
    with auth_service.db.read() as s:
        hashes = dict(s.execute(select(UserRecord.username, UserRecord.password_hash)).all())
    for name in ("modern", "legacy"):
        assert str(hashes[name]).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in hashes.values() and cheap_user.can_sign_in


# --------------------------------------------------------------------------- the service's parts
def test_each_public_method_lives_in_one_part_and_the_doc_says_which() -> None:
    doc = service_module.__doc__ or ""
    parts = [c for c in ReviewService.__mro__[1:] if issubclass(c, Part) and c is not Part]
    owners: dict[str, str] = {}
    for part in parts:
        module = part.__module__.rsplit(".", 1)[1]
        row = doc.split(f"``{module}``", 1)[1].split("``", 1)[0]  # up to the next module's row
        for name, _ in inspect.getmembers(part, inspect.isfunction):
            if not name.startswith("_") and name in vars(part):
                assert name not in owners, f"{name} is in both {owners.get(name)} and {module}"
                owners[name] = module
                assert name in row, f"the service doc does not list {name} under {module}"
    public = {n for n, _ in inspect.getmembers(ReviewService, inspect.isfunction) if not n.startswith("_")}
    assert set(owners) == public
