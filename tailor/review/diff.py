"""A structured diff of two revisions, and which two revisions a viewer wants compared.

Pure (no database): :meth:`tailor.review.plans.Plans.diff_revisions` loads the two
revisions and calls :func:`diff_plans`; the History tab and ``tailor plans`` show the result.
:func:`diff_choices` is the one rule for the default comparison ("since you last looked",
else "generated → now"), and :func:`seen_through` the one rule for what a viewer has
already seen of a plan (their own edits count as seen), for every page that compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tailor.review.results import FieldChange, RevisionDiff, RevisionOut, TaskChange
from tailor.schema import Plan, Task

DiffKind = Literal["since_last_look", "generated", "pick"]


class DiffChoice(BaseModel):
    """One way to compare revisions, as a page offers it: from ``a`` to ``b`` (None: the viewer picks)."""

    model_config = ConfigDict(frozen=True)

    kind: DiffKind
    label: str
    a: int | None = None
    b: int | None = None


def diff_choices(current: int, last_seen: int | None) -> list[DiffChoice]:
    """The comparisons worth offering, the default first.

    "Since you last looked" comes first when the viewer has seen an earlier revision than the
    current one; "generated → now" always (it is the default on a first look); picking two
    revisions by hand last. A plan with one revision has nothing to compare.
    """
    if current < 2:
        return []
    choices: list[DiffChoice] = []
    if last_seen is not None and 1 <= last_seen < current:
        label = f"Since you last looked (revision {last_seen} → {current})"
        choices.append(DiffChoice(kind="since_last_look", label=label, a=last_seen, b=current))
    choices.append(DiffChoice(kind="generated", label=f"Generated → now (revision 1 → {current})", a=1, b=current))
    choices.append(DiffChoice(kind="pick", label="Two revisions of your choice"))
    return choices


def seen_through(opened: int, revisions: Sequence[RevisionOut], username: str) -> int:
    """The revision a viewer has seen: the one they opened, moved past each next revision they wrote.

    Saving revision N means having seen N (and N - 1, which the save was based on), so a
    reviewer's own edit never reads as "the plan changed while you were reviewing it". A
    revision someone else wrote after that stops the walk: that one the viewer has not seen.
    """
    authors = {r.number: r.author for r in revisions}
    seen = opened
    while authors.get(seen + 1) == username:
        seen += 1
    return seen


def diff_plans(plan_id: int, a: int, b: int, plan_a: Plan, plan_b: Plan) -> RevisionDiff:
    """A structured diff of two plans: tasks by id, fields by dotted path."""

    def tasks(plan: Plan) -> dict[str, tuple[str, Task]]:
        return {t.id: (phase.name, t) for phase in plan.phases for t in phase.tasks}

    tasks_a, tasks_b = tasks(plan_a), tasks(plan_b)
    added = [tasks_b[i][1] for i in tasks_b if i not in tasks_a]
    removed = [tasks_a[i][1] for i in tasks_a if i not in tasks_b]
    changed: list[TaskChange] = []
    for task_id in (i for i in tasks_b if i in tasks_a):
        (phase_a, task_a), (phase_b, task_b) = tasks_a[task_id], tasks_b[task_id]
        fields = _changes(
            {"phase": phase_a, **task_a.model_dump(mode="json")},
            {"phase": phase_b, **task_b.model_dump(mode="json")},
        )
        if fields:
            changed.append(TaskChange(task_id=task_id, title=task_b.title, changes=fields))

    def rest(plan: Plan) -> dict[str, Any]:
        data = plan.model_dump(mode="json", by_alias=True, exclude={"status"})
        data["phases"] = [{k: v for k, v in p.items() if k != "tasks"} for p in data["phases"]]
        return data

    return RevisionDiff(
        plan_id=plan_id,
        a=a,
        b=b,
        added=added,
        removed=removed,
        changed=changed,
        plan_changes=_changes(rest(plan_a), rest(plan_b)),
    )


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, out)
    else:
        out[prefix] = value


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    flat_a: dict[str, Any] = {}
    flat_b: dict[str, Any] = {}
    _flatten(before, "", flat_a)
    _flatten(after, "", flat_b)
    return [
        FieldChange(path=path, before=flat_a.get(path), after=flat_b.get(path))
        for path in sorted(set(flat_a) | set(flat_b))
        if flat_a.get(path) != flat_b.get(path)
    ]
