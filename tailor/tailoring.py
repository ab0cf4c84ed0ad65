"""Tailor: the model personalises a grounded skeleton, in calls small enough for a local model.

Response models are built at run time so the grammar itself limits the model
to what is real: a ``Literal`` of the skeleton's task ids and of the hire's own
skills. Validators reject text that links outside the corpus, leaks personal
data, echoes instructions or does not use the skill it claims; instructor
re-asks, and what still fails keeps the skeleton text, flagged for review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, create_model, field_validator

from tailor.schema import Plan, ReviewFlag, Risk, Task
from tailor.validate import text_problems


@dataclass
class CallOutcome:
    """What one model call gave back, as the engine records it."""

    value: BaseModel | None
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    error: str | None = None


ModelCaller = Callable[[type[BaseModel], list[dict[str, str]], int], CallOutcome]


@dataclass
class TailorContext:
    allowed_urls: set[str]
    instructions: list[str] = field(default_factory=list)


def _literal(values: Sequence[str]) -> Any:
    return Literal[tuple(values)]


def _checker(ctx: TailorContext | None, must_mention: str | None = None) -> Callable[[str], str]:
    def check(text: str) -> str:
        if ctx is None:
            return text
        problems = text_problems(
            text, allowed_urls=ctx.allowed_urls, instructions=ctx.instructions, must_mention=must_mention
        )
        if problems:
            raise ValueError("; ".join(problems))
        return text

    return check


# --------------------------------------------------------------------------- summary
def summary_model(skills: Sequence[str], ctx: TailorContext | None = None) -> type[BaseModel]:
    """The summary call's response model; its validators close over ``ctx`` (the corpus URLs, the prompt)."""
    check = _checker(ctx)

    def clean(cls: type[BaseModel], v: str) -> str:
        return check(v)

    focus: Any = (
        (list[_literal(list(dict.fromkeys(skills)))], Field(default_factory=list, max_length=3))  # type: ignore[misc]
        if skills
        else (list[str], Field(default_factory=list, max_length=0))
    )
    return create_model(
        "PlanSummary",
        summary=(str, Field(min_length=40, max_length=450)),
        rationale=(str, Field(min_length=40, max_length=450)),
        focus_areas=focus,
        __validators__={"clean": field_validator("summary", "rationale")(clean)},
    )


# --------------------------------------------------------------------------- tasks
def rewrite_model(task_ids: Sequence[str], skills: Sequence[str], ctx: TailorContext | None = None) -> type[BaseModel]:
    """The task call's response model: ids and skills are Literals, so the grammar offers only real ones."""

    def uses_skill(cls: type[BaseModel], v: str, info: ValidationInfo) -> str:
        skill = info.data.get("skill")
        return _checker(ctx, str(skill) if skill else None)(v)

    # Field order matters: task_id and skill are validated before the description check reads them.
    item = create_model(
        "TaskRewrite",
        task_id=(_literal(task_ids), ...),
        skill=(_literal(list(dict.fromkeys(skills))), ...),
        description=(str, Field(min_length=30, max_length=320)),
        __validators__={"uses_skill": field_validator("description")(uses_skill)},
    )
    return create_model("TaskRewrites", rewrites=(list[item], Field(min_length=1, max_length=len(task_ids))))


def pick_tasks_to_tailor(plan: Plan, limit: int) -> list[Task]:
    """The hire's own work in days 1-90, ownership first: where personal skills matter most."""
    candidates = [t for t in plan.all_tasks() if t.owner == "hire" and t.due_week >= 1]

    def rank(t: Task) -> tuple[int, int]:
        title = t.title.lower()
        if title.startswith("take ownership"):
            return (0, t.due_week)
        if title.startswith(("meet the", "review the", "shadow the")):
            return (2, t.due_week)
        return (1, t.due_week)

    return sorted(candidates, key=rank)[:limit]


def policy_line(plan: Plan) -> str:
    t = plan.targets
    return (
        f"support: {plan.support.model.replace('_', ' ')}; first PR by day {t.first_pr_day}; "
        f"full productivity by week {t.full_productivity_week}; "
        + (f"on-call from week {t.on_call_week}; " if t.on_call_week else "no on-call in 90 days; ")
        + (
            f"leadership work from week {t.first_leadership_week}"
            if t.first_leadership_week
            else "no leadership work in 90 days"
        )
    )


def apply_summary(plan: Plan, value: BaseModel) -> None:
    data = value.model_dump()
    plan.summary = data["summary"]
    plan.rationale = data["rationale"]
    plan.focus_areas = list(data.get("focus_areas") or [])


def apply_rewrites(plan: Plan, value: BaseModel, asked: Sequence[Task]) -> None:
    """Apply each valid rewrite; a task the model skipped keeps its grounded text and is flagged."""
    by_id = {t.id: t for t in plan.all_tasks()}
    done: set[str] = set()
    for rw in getattr(value, "rewrites", []):
        task = by_id.get(rw.task_id)
        if task is None or rw.task_id in done:
            continue
        task.description = rw.description
        task.skills = [rw.skill]
        task.tailored = True
        done.add(rw.task_id)
    for task in asked:
        if task.id not in done:
            # reason first: validate_assignment checks that a flagged task says why
            task.review_reason = "the model did not tailor this task; the grounded text stands"
            task.needs_review = True


def flag_failure(plan: Plan, section: str, asked: Sequence[Task], reason: str) -> None:
    plan.review_flags.append(ReviewFlag(field=section, reason=reason))
    for task in asked:
        task.review_reason = f"not tailored: {reason}"[:500]
        task.needs_review = True


def risks_from_flags(plan: Plan) -> None:
    """Make review flags visible among the plan's risks so the sendable document shows them too."""
    for f in plan.review_flags:
        if f.field.startswith("hire."):
            plan.risks.append(
                Risk(
                    risk=f.reason,
                    mitigation="Manager confirms the profile before submitting.",
                    needs_review=True,
                    review_reason=f.reason,
                )
            )
