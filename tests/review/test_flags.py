"""Review flags written for people: one line per cause with a count, a suggested action, no technical
text in what people read, counts that agree, and plans stored with the old wording read the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tailor.errors import BadInput
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.pipeline.result import DraftDone
from tailor.review.flags import (
    FlagDecision,
    FlagItem,
    flag,
    group_flags,
    headline,
    open_flags,
    settle,
    task_reason,
)
from tailor.schema import DraftRequest, Plan
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import BACKGROUND, CONFIRMED, CORPUS, model_settings
from tests.fixtures.faults import connection_error

# What a person must never read in a flag's sentence, line or action: errors, addresses, model ids.
TECHNICAL = re.compile(
    r"(?i)errno|https?://|\bmodel call\b|\((?:connection|timeout|server|validation|truncated|unavailable)\)"
    r"|mock-model|openai/|scripted/|traceback|exception|at the model server|should have at least"
)


def human_texts(plan: Plan) -> list[str]:
    """Everything the pages and the exports show of a plan's flags."""
    items = open_flags(plan)
    groups = group_flags(items)
    return [
        headline(items),
        *(i.sentence for i in items),
        *(i.action for i in items),
        *(g.line for g in groups),
        *(g.action for g in groups),
        *(f.reason for f in plan.review_flags),
        *(t.review_reason or "" for t in plan.all_tasks()),
    ]


@pytest.fixture
def model_down(isolated_settings: Path) -> tuple[Plan, list[str]]:
    """A draft while the model is unreachable: the plan and the engine's progress messages."""
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([connection_error()] * 4))
    events = list(engine.draft_events(DraftRequest(background=BACKGROUND)))
    done = events[-1]
    assert isinstance(done, DraftDone) and done.plan is not None
    return done.plan, [e.message for e in events]


# =========================================================================== grouping, wording, counts
def test_a_model_down_draft_reads_as_a_few_grouped_lines(model_down: tuple[Plan, list[str]]) -> None:
    plan, _ = model_down
    flagged = [t for t in plan.all_tasks() if t.needs_review]
    groups = group_flags(open_flags(plan))
    lines = [g.line for g in groups]
    assert len(flagged) >= 2
    assert f"{len(flagged)} tasks keep the role profile's wording because the model was not reachable." in lines
    assert "The model was not reachable, so the plan summary keeps its standard wording." in lines
    assert "Document search was not available, so the plan uses the documents the rules chose." in lines
    assert len(lines) == len(set(lines)), "one line per cause"
    # Every line says what to do.
    assert all(g.action.endswith(".") and len(g.action) > 20 for g in groups)
    [tasks] = [g for g in groups if g.subject == "task"]
    assert tasks.action.startswith("Read these tasks")
    assert {i.task_id for i in tasks.items} == {t.id for t in flagged}


def test_people_never_read_technical_detail_but_the_details_block_has_it(model_down: tuple[Plan, list[str]]) -> None:
    plan, _ = model_down
    for text in human_texts(plan):
        assert not TECHNICAL.search(text), text
    details = [d for g in group_flags(open_flags(plan)) for d in g.details]
    assert any("(connection)" in d and "mock-model" in d for d in details), details


def test_counts_agree_between_the_header_the_groups_and_the_tasks(model_down: tuple[Plan, list[str]]) -> None:
    plan, messages = model_down
    items = open_flags(plan)
    flagged = sum(t.needs_review for t in plan.all_tasks())
    groups = group_flags(items)
    assert sum(g.count for g in groups) == len(items)
    # The plan notes "tasks: the model was not reachable" once for all tasks: not an item of its own.
    assert [i.subject for i in items].count("tasks") == 0
    assert len(items) == flagged + sum(1 for i in items if i.subject != "task")
    assert headline(items) == f"{len(items)} items to check ({flagged} tasks)"
    assert headline(items) in messages, "the engine's progress says the same count as the pages"


def test_once_each_task_is_checked_the_plans_note_about_them_is_not_open(model_down: tuple[Plan, list[str]]) -> None:
    plan, _ = model_down
    assert any(f.field == "tasks" for f in plan.review_flags)
    for task in plan.all_tasks():
        task.needs_review, task.review_reason = False, None
    assert sorted(i.subject for i in open_flags(plan)) == ["sources", "summary"]


def test_risks_are_only_real_risks(model_down: tuple[Plan, list[str]], isolated_settings: Path) -> None:
    plan, _ = model_down
    reasons = {f.reason for f in plan.review_flags}
    assert not [r for r in plan.risks if r.risk in reasons or r.needs_review]
    # Also when the rules were unsure and the model could not read the profile either.
    unsure = BACKGROUND.replace("9 years of experience building", "Builds")
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([connection_error()] * 6))
    unsure_plan = engine.draft(DraftRequest(background=unsure)).plan
    profile = [f for f in unsure_plan.review_flags if f.field.startswith("hire")]
    assert profile, "the profile is flagged for the manager"
    assert not [r for r in unsure_plan.risks if r.needs_review or r.risk in {f.reason for f in profile}]
    # "Read by rules only" says it once: no second flag that the rules wrote the summary.
    assert [f.field for f in profile].count("hire.summary") == 0
    assert any(
        f.reason == "The model was not reachable, so the hire's profile was read by rules only." for f in profile
    )


def test_the_server_address_is_never_doubled_or_kept(isolated_settings: Path) -> None:
    """A real refused connection: the detail says "could not reach the model server", once, without an address."""
    engine = Engine(model_settings(model_retries=0), corpus=CORPUS)  # the real litellm path, to a closed port
    plan = engine.draft(DraftRequest(background=BACKGROUND, **CONFIRMED)).plan
    summary = next(f for f in plan.review_flags if f.field == "summary")
    assert summary.kind == "model_unavailable" and summary.detail
    assert "could not reach the model server" in summary.detail
    assert "at the model server" not in summary.detail
    assert "http" not in summary.detail and "127.0.0.1" not in summary.detail


# =========================================================================== each kind in words
def test_invalid_answers_are_one_line_and_each_task_says_which_check_failed() -> None:
    plan = make_plan()
    first, second, third = plan.all_tasks()[:3]
    first.review_reason = task_reason("invalid_output", "repeats the phrase 'the billing api'")
    second.review_reason = task_reason("invalid_output", "assumes the hire's gender; write 'you' or 'the hire'")
    third.review_reason = task_reason("invalid_output", "String should have at least 20 characters")
    for task in (first, second, third):
        task.needs_review = True
    groups = [g for g in group_flags(open_flags(plan)) if g.kind == "invalid_output"]
    assert [g.line for g in groups] == [
        "3 tasks keep the role profile's wording because the model's text did not pass the checks."
    ]
    sentences = {i.task_id: i.sentence for i in groups[0].items}
    assert "(repeats the phrase 'the billing api')" in sentences[first.id]
    assert "assumes the hire's gender" in sentences[second.id]
    assert sentences[third.id] == task_reason("invalid_output"), "pydantic's wording is not for reviewers"


def test_a_note_a_person_wrote_is_kept_and_says_where_it_is() -> None:
    plan = make_plan()
    [note] = open_flags(plan)  # the sample plan has one task a manager flagged by hand
    assert (note.kind, note.subject) == ("note", "task")
    assert note.sentence == "Check that the billing database is in scope for a new hire."
    [group] = group_flags([note])
    assert group.line == f"Task: Review slow queries on the billing database — {note.sentence}"
    assert headline([note]) == "1 item to check"


def test_validation_findings_name_the_task_and_read_as_sentences() -> None:
    plan = make_plan()
    task = plan.all_tasks()[1]
    plan.review_flags.append(
        flag(f"task.{task.id}.due_week", "validation", reason="due in week 9, outside its phase Days 1-30 (weeks 0-4)")
    )
    [item] = [i for i in open_flags(plan) if i.kind == "validation"]
    assert item.about == f"Task: {task.title}" and item.task_id == task.id
    assert item.sentence == "Due in week 9, outside its phase Days 1-30 (weeks 0-4)."
    assert item.action == "Correct it in the plan editor."


# =========================================================================== plans stored with the old wording
OLD_ERROR = (
    "model call to local/qwen2.5-coder-1.5b failed (connection): could not reach the model server at the model "
    "server: [Errno 111] Connection refused"
)


def legacy_plan() -> Plan:
    """A plan as engines before flag kinds stored it, with the model down (the issue's walk-through)."""
    data = make_plan().model_dump(mode="json", by_alias=True)
    tasks = [t for p in data["phases"] for t in p["tasks"]]
    for task in tasks[:3]:
        task.update(needs_review=True, review_reason=f"not tailored: {OLD_ERROR}")
    data["review_flags"] = [
        {"field": "hire.summary", "reason": "written from rules; the model did not summarise"},
        {"field": "sources", "reason": "retrieval unavailable (cannot reach the Chroma server); the plan uses the "
         "role and policy documents chosen by rules"},
        {"field": "summary", "reason": f"not tailored, the grounded summary stands: {OLD_ERROR}"},
        {"field": "tasks", "reason": OLD_ERROR},
    ]  # fmt: skip
    data["risks"].append(
        {
            "risk": "written from rules; the model did not summarise",
            "mitigation": "Manager confirms the profile before submitting.",
            "needs_review": True,
            "review_reason": "written from rules; the model did not summarise",
        }
    )
    return Plan.model_validate(data)


def test_a_plan_stored_with_the_old_wording_reads_like_a_new_one() -> None:
    plan = legacy_plan()
    items = open_flags(plan)
    groups = group_flags(items)
    assert [g.line for g in groups] == [
        "Hire profile: background summary — Written by the rules; the model did not read the background.",
        "The model was not reachable, so the plan summary keeps its standard wording.",
        "Document search was not available, so the plan uses the documents the rules chose.",
        "3 tasks keep the role profile's wording because the model was not reachable.",
        "Task: Review slow queries on the billing database — Check that the billing database is in scope for a "
        "new hire.",
    ]
    # 7, not 9: the plan's "tasks" note and the risk copied from a profile flag are not items of their own.
    assert headline(items) == "7 items to check (4 tasks)"
    assert not any(i.subject == "risk" for i in items)
    for text in (*(g.line for g in groups), *(i.sentence for i in items)):
        assert not TECHNICAL.search(text), text
    [tasks] = [g for g in groups if g.kind == "model_unavailable" and g.subject == "task"]
    assert tasks.details == [OLD_ERROR]


def test_old_crash_and_timeout_wording_keeps_its_cause() -> None:
    plan = make_plan()
    first, second = plan.all_tasks()[:2]
    first.review_reason = "not tailored: local model crashed: the worker died (SIGSEGV)"
    second.review_reason = "not tailored (it failed validation); the grounded text stands"
    first.needs_review = second.needs_review = True
    kinds = {i.task_id: i.kind for i in open_flags(plan)}
    assert kinds[first.id] == "model_crashed" and kinds[second.id] == "invalid_output"


# =========================================================================== approving with open flags
def items_of(plan: Plan) -> list[FlagItem]:
    items = open_flags(plan)
    assert len(items) >= 3
    return items


def test_every_open_flag_needs_a_choice() -> None:
    items = items_of(legacy_plan())
    with pytest.raises(BadInput, match=r"7 open flags need a choice.*resolved, or acknowledge it with a reason"):
        settle(items, [])
    some = [FlagDecision(key=items[0].key, choice="resolved")]
    with pytest.raises(BadInput, match=r"6 open flags need a choice") as refused:
        settle(items, some)
    assert items[1].key in str(refused.value) and items[0].key not in str(refused.value)


def test_acknowledging_needs_a_reason_and_resolving_does_not() -> None:
    items = items_of(legacy_plan())
    n, summary = next((n, i) for n, i in enumerate(items) if i.about == "Plan summary")
    choices = [FlagDecision(key=i.key, choice="resolved") for i in items]
    choices[n] = FlagDecision(key=summary.key, choice="acknowledged", reason="   ")
    with pytest.raises(BadInput, match="acknowledging the flag on Plan summary needs a reason"):
        settle(items, choices)
    choices[n] = FlagDecision(key=summary.key, choice="acknowledged", reason=" The standard summary is fine. ")
    records = settle(items, choices)
    assert len(records) == len(items)
    assert records[n] == {
        "key": summary.key,
        "about": "Plan summary",
        "kind": "model_unavailable",
        "choice": "acknowledged",
        "reason": "The standard summary is fine.",
    }
    assert {r["choice"] for r in records} == {"resolved", "acknowledged"}


def test_a_choice_for_a_flag_that_is_not_open_or_twice_is_refused() -> None:
    items = items_of(legacy_plan())
    every = [FlagDecision(key=i.key, choice="resolved") for i in items]
    with pytest.raises(BadInput, match="no open flag task:gone"):
        settle(items, [*every, FlagDecision(key="task:gone", choice="resolved")])
    with pytest.raises(BadInput, match="more than one choice"):
        settle(items, [*every, every[0]])
