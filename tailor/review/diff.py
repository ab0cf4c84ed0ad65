"""A structured diff of two revisions: tasks matched by id, every other field by dotted path.

Pure (no database): :meth:`tailor.review.plans.Plans.diff_revisions` loads the two
revisions and calls :func:`diff_plans`; the History tab and ``tailor plans`` show the result.
"""

from __future__ import annotations

from typing import Any

from tailor.review.results import FieldChange, RevisionDiff, TaskChange
from tailor.schema import Plan, Task


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
