"""The Edit tab's changes to a plan: one task, a new task, a removed task, the text, the hire's details.

Each function takes the plan as stored and what a form holds, and returns an :class:`Edit`: the
whole plan, validated by the schema, with a note for the revision saying what changed. A
refusal is a ``BadInput`` naming the field by the label the form shows, so the page can say
what to fix. An edit that changes nothing is refused, so a stray click makes no revision.

Task ids are never edited: a task keeps its id (comments and diffs follow it), and a new task
gets one from its title that no other task has. The fields a form does not show (the skills a
task uses, whether the model tailored it) are kept as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tailor.corpus.documents import Owner
from tailor.errors import BadInput
from tailor.schema import Plan, Task, TeamRef
from tailor.text import unique_slug

# Who can own a task, in the schema's order: the editor's choices come from the one definition.
OWNERS: tuple[str, ...] = get_args(Owner)

# The labels the task form shows; a refusal names the field by the same words.
LABELS: dict[str, str] = {
    "phase": "Phase",
    "title": "Title",
    "description": "What to do",
    "success_criteria": "Done when",
    "owner": "Owner",
    "owner_name": "Owner's name",
    "due_week": "Week",
    "sources": "Sources",
}
# What a task says: changing any of these makes its review flag likely settled (the form's default).
_TEXT = ("title", "description", "success_criteria")


@dataclass(frozen=True)
class Edit:
    """A changed plan and the note its revision gets (what a reader of the History tab sees)."""

    plan: Plan
    note: str


class TaskFields(BaseModel):
    """What the task form edits: everything a person decides about a task, never its id."""

    model_config = ConfigDict(frozen=True)

    phase: str
    title: str
    description: str
    owner: str
    owner_name: str | None = None
    due_week: int
    success_criteria: str
    sources: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan, task_id: str) -> TaskFields:
        """The task's fields as the form starts them."""
        phase, task = _find(plan, task_id)
        return cls(phase=phase, **task.model_dump(include=set(cls.model_fields) - {"phase"}))


def text_changed(plan: Plan, task_id: str, fields: TaskFields) -> bool:
    """Whether the form changed what the task says (title, what to do, done when), spaces aside."""
    before = TaskFields.of(plan, task_id)
    return any(_squash(getattr(before, f)) != _squash(getattr(fields, f)) for f in _TEXT)


def edit_task(plan: Plan, task_id: str, fields: TaskFields, *, clear_flag: bool, known_sources: set[str]) -> Edit:
    """The plan with one task changed, in place (or moved to the end of another phase).

    ``clear_flag`` settles the task's review flag: the person has read the reason and acted on it.
    """
    phase, task = _find(plan, task_id)
    changed = _task(fields, task_id, task, known_sources, needs_review=task.needs_review and not clear_flag)
    edited = _changed_fields(task, changed) or phase != fields.phase
    cleared = task.needs_review and not changed.needs_review
    if not (edited or cleared):
        raise BadInput("nothing changed; edit a field first")
    if edited:
        note = f"edited the task “{changed.title}”" + (" and cleared its review flag" if cleared else "")
    else:
        note = f"cleared the review flag of “{changed.title}”"
    return Edit(_put(plan, fields.phase, changed), note)


def add_task(plan: Plan, fields: TaskFields, known_sources: set[str]) -> Edit:
    """The plan with a new task, whose id is made from its title and is unused in the plan."""
    task_id = unique_slug(fields.title, {t.id for t in plan.all_tasks()})
    task = _task(fields, task_id, None, known_sources, needs_review=False)
    return Edit(_put(plan, fields.phase, task), f"added the task “{task.title}”")


def remove_task(plan: Plan, task_id: str) -> Edit:
    """The plan without one task; the last task cannot go (a plan needs at least one)."""
    _, task = _find(plan, task_id)
    if len(plan.all_tasks()) == 1:
        raise BadInput("this is the plan's only task; add another before removing it")
    return Edit(_without(plan, task_id), f"removed the task “{task.title}”")


def edit_text(plan: Plan, summary: str, rationale: str) -> Edit:
    """The plan with a new summary and rationale ("Why this plan")."""
    if not summary.strip() or not rationale.strip():
        raise BadInput("the summary and the rationale must not be empty")
    changed = [
        what
        for what, before, after in (("summary", plan.summary, summary), ("rationale", plan.rationale, rationale))
        if after.strip() != before
    ]
    if not changed:
        raise BadInput("nothing changed; edit the text first")
    updated = plan.model_copy(deep=True)
    updated.summary, updated.rationale = summary, rationale
    return Edit(updated, "edited the " + " and the ".join(changed))


def edit_hire(plan: Plan, name: str | None, start_date: date | None, team: TeamRef | None) -> Edit:
    """The plan with the hire's name, start date and team as the form holds them.

    A new team is recorded as the team the hire joins; the tasks, people and rituals still come
    from the team the plan was drafted for, which is why the page suggests drafting again.
    """
    name = (name or "").strip() or None
    updated = plan.model_copy(deep=True)
    try:
        updated.hire.name = name
    except ValidationError:
        raise BadInput("Name: at most 300 characters") from None
    updated.hire.start_date = start_date
    updated.fit.team = team
    notes: list[str] = []
    if name != plan.hire.name:
        notes.append(f"set the name to {name}" if name else "removed the name")
    if start_date != plan.hire.start_date:
        notes.append(f"set the start date to {start_date:%Y-%m-%d}" if start_date else "removed the start date")
    if (team.id if team else None) != (plan.fit.team.id if plan.fit.team else None):
        notes.append(f"changed the team to {team.name}" if team else "removed the team")
    if not notes:
        raise BadInput("nothing changed; edit the name, the start date or the team first")
    return Edit(updated, "; ".join(notes))


def task_label(plan: Plan, task_id: str) -> str:
    """How the task picker names a task: its week, title, who owns it, and whether it is to check."""
    _, task = _find(plan, task_id)
    who = f"{task.owner} ({task.owner_name})" if task.owner_name else task.owner
    flag = " · to check" if task.needs_review else ""
    return f"Week {task.due_week} · {task.title} · {who}{flag}"


# --------------------------------------------------------------------------- helpers
def _squash(value: object) -> str:
    return " ".join(str(value or "").split())


def _find(plan: Plan, task_id: str) -> tuple[str, Task]:
    for phase in plan.phases:
        for task in phase.tasks:
            if task.id == task_id:
                return phase.name, task
    raise BadInput(f"the plan has no task {task_id!r} any more; reload to see the latest revision")


def _changed_fields(before: Task, after: Task) -> bool:
    keep = {"needs_review", "review_reason"}
    return before.model_dump(exclude=keep) != after.model_dump(exclude=keep)


def _task(fields: TaskFields, task_id: str, original: Task | None, known: set[str], *, needs_review: bool) -> Task:
    """The form as a ``Task``: checked against the corpus and the schema, hidden fields kept."""
    unknown = [s for s in fields.sources if s not in known]
    if unknown:
        raise BadInput(f"{LABELS['sources']}: {', '.join(unknown)} is not a corpus document")
    data: dict[str, Any] = fields.model_dump(exclude={"phase"}) | {
        "id": task_id,
        "owner_name": (fields.owner_name or "").strip() or None,
        "skills": list(original.skills) if original else [],
        "tailored": original.tailored if original else False,
        "needs_review": needs_review,
        "review_reason": original.review_reason if (original and needs_review) else None,
    }
    try:
        return Task.model_validate(data)
    except ValidationError as exc:
        raise BadInput(_problem(exc)) from None


def _problem(exc: ValidationError) -> str:
    """The first thing the schema refused, named by the form's label ("What to do: ...")."""
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    if err.get("type") == "string_too_short":
        message = "write something here"
    elif err.get("type") == "too_short" and where == "sources":
        message = "cite at least one corpus document"
    return f"{LABELS.get(where, where or 'the task')}: {message}"


def _without(plan: Plan, task_id: str) -> Plan:
    updated = plan.model_copy(deep=True)
    for phase in updated.phases:
        phase.tasks = [t for t in phase.tasks if t.id != task_id]
    return updated


def _put(plan: Plan, phase_name: str, task: Task) -> Plan:
    """The plan with ``task`` in the named phase (where it was, if it was there; else last), validated whole.

    Each phase keeps its tasks in due-week order; the sort is stable, so tasks due the same week
    keep the order they had.
    """
    names = [p.name for p in plan.phases]
    if phase_name not in names:
        raise BadInput(f"{LABELS['phase']}: choose one of {', '.join(names)}")
    data: dict[str, Any] = plan.model_dump(mode="json", by_alias=True)
    for phase in data["phases"]:
        ids = [t["id"] for t in phase["tasks"]]
        here = ids.index(task.id) if task.id in ids else None
        phase["tasks"] = [t for t in phase["tasks"] if t["id"] != task.id]
        if phase["name"] == phase_name:
            phase["tasks"].insert(len(phase["tasks"]) if here is None else here, task.model_dump(mode="json"))
            phase["tasks"].sort(key=lambda t: t["due_week"])
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise BadInput(f"the edited plan is not valid: {_problem(exc)}") from None
