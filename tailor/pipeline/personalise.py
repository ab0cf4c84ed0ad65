"""Tailor: the model personalises a grounded skeleton, in calls small enough for a local model.

Response models are built at run time so the grammar itself limits the model
to what is real: one field per asked task, each with a ``Literal`` of the hire's
own skills that fit it. Validators reject text that links outside the corpus,
leaks personal data, echoes instructions or assumes the hire's gender; a hosted
model is re-asked, and what still fails keeps the skeleton text, flagged for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    field_validator,
    model_validator,
)

from tailor.pipeline.validate import text_problems
from tailor.review.flags import flag, model_kind, task_reason
from tailor.schema import Plan, Task


@dataclass
class CallOutcome:
    """What one model call gave back, as the engine records it."""

    value: BaseModel | None
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    error: str | None = None
    """Why the call failed, technically (for the log and a flag's detail)."""
    failure: str | None = None
    """The failure's kind (``ModelCallFailed.kind``), which picks the flag's sentence for people."""


@dataclass
class TailorContext:
    allowed_urls: set[str]
    instructions: list[str] = field(default_factory=list)


def _literal(values: Sequence[str]) -> Any:
    return Literal[tuple(values)]


def _checker(ctx: TailorContext | None) -> Callable[[str], str]:
    def check(text: str) -> str:
        text = whole_sentences(text)
        if ctx is None:
            return text
        problems = text_problems(text, allowed_urls=ctx.allowed_urls, instructions=ctx.instructions)
        if _GENDERED.search(text):
            problems.append("assumes the hire's gender; write 'you' or 'the hire'")
        if problems:
            raise ValueError("; ".join(problems))
        return text

    return check


_GENDERED = re.compile(r"(?i)\b(?:he|she|his|him|hers|himself|herself)\b")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_WORD = re.compile(r"[\w+#.]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def whole_sentences(text: str, min_chars: int = 20) -> str:
    """Drop a trailing fragment: the grammar's length cap cuts a long answer mid-word.

    A cut answer whose first sentence is complete keeps its complete sentences; one
    with no complete sentence is refused rather than shown to a reviewer half-finished.
    """
    text = text.strip()
    if text.endswith((".", "!", "?")):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] >= min_chars:
        return text[: ends[-1]]
    raise ValueError("is cut off mid-sentence")


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
    # No rationale: why the plan's pace suits the hire is the corpus policy's to say, and the
    # grounded rationale says it exactly. Small models wrote it as a second copy of the summary
    # (flagged on 1 draft in 3), at half the call's tokens.
    return create_model(
        "PlanSummary",
        summary=(str, Field(min_length=40, max_length=400)),
        focus_areas=focus,
        __validators__={"clean": field_validator("summary")(clean)},
    )


# --------------------------------------------------------------------------- tasks
MAX_SKILLS = 12  # skills offered to the task call; more only lengthen the prompt
PROMINENCE_PENALTY = 0.02  # per place in the hire's skill list (cosine scores span roughly 0.1-0.6)
SkillScorer = Callable[[Sequence[str], Sequence[str]], Sequence[Sequence[float]]]
"""``scorer(task_texts, skills)`` -> one row of similarity scores per task, one column per skill."""


def lexical_scores(task_texts: Sequence[str], skills: Sequence[str]) -> list[list[float]]:
    """Word overlap, for when the embedder cannot load: crude, but it never fails."""
    rows = []
    for text in task_texts:
        words = set(_words(text))
        rows.append([len(words & set(_words(s))) / (1 + len(s.split())) for s in skills])
    return rows


def skill_candidates(
    tasks: Sequence[Task], skills: Sequence[str], scorer: SkillScorer | None = None, k: int = 2
) -> list[list[str]]:
    """For each task, the few hire skills that fit it best, the grammar's only choices for that task.

    Ranking is ours, the choice is the model's. Small models pick the first skill in a
    list whatever the task (measured: Go, gRPC, Protocol Buffers, Java for four unrelated
    tasks, in list order), so each task gets its own short list, led by the best-fitting
    skill that does not already lead an earlier task's list: the plan does not lean on one skill.
    """
    skills = list(dict.fromkeys(skills))
    if not tasks or not skills:
        return [[] for _ in tasks]
    texts = [f"{t.title}. {t.description}" for t in tasks]
    try:
        scores = scorer(texts, skills) if scorer else lexical_scores(texts, skills)
    except Exception:  # ranking is a nicety: any failure falls back to word overlap
        scores = lexical_scores(texts, skills)
    led: dict[int, int] = {}  # how many lists each skill already leads
    out: list[list[str]] = []
    for row in scores:
        # The hire's skills come most prominent first; a small rank penalty keeps a
        # side skill that happens to share a word with the task from outranking the core stack.
        by_score = sorted(range(len(skills)), key=lambda j: -(float(row[j]) - PROMINENCE_PENALTY * j))
        first = min(by_score, key=lambda j: (led.get(j, 0), by_score.index(j)))
        led[first] = led.get(first, 0) + 1
        out.append([skills[first], *[skills[j] for j in by_score if j != first][: k - 1]])
    return out


def scripted_task_answer(
    tasks: Sequence[Task], skills: Sequence[str], how: str, scorer: SkillScorer | None = None
) -> dict[str, dict[str, str]]:
    """A valid answer to the task call, for mocked models (tests, the load test, demos).

    Each task takes the first skill of the shortlist the engine will offer it; ``how`` may use
    ``{n}`` (task number) and ``{skill}``. Pass the engine's scorer to match its shortlists.
    """
    lists = skill_candidates(tasks, list(skills)[:MAX_SKILLS], scorer)
    return {f"task_{n}": {"skill": c[0], "how": how.format(n=n, skill=c[0])} for n, c in enumerate(lists, start=1)}


def rewrite_model(candidates: Sequence[Sequence[str]], ctx: TailorContext | None = None) -> type[BaseModel]:
    """The task call's response model: one field per task (``task_1`` ...), each with its own skill ``Literal``.

    A field whose sentence fails validation becomes ``None`` instead of failing the
    whole answer: a small model often gets three of four right, and the fourth task
    keeps its grounded text, flagged by :func:`apply_rewrites`.
    """
    check = _checker(ctx)
    dropped: dict[str, str] = {}  # this class serves one call; the reasons go to the reviewer

    def clean(cls: type[BaseModel], v: str) -> str:
        return check(v)

    def keep_or_drop(v: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if v is None:  # dropped on an earlier pass (a cached answer is validated again on replay)
            return None
        try:
            return handler(v)
        except ValidationError as exc:
            dropped[str(info.field_name)] = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            return None

    fields: dict[str, Any] = {}
    for i, skills in enumerate(candidates, start=1):
        own_words = _own_words_check(skills)
        item = create_model(
            f"Task{i}Tailoring",
            skill=(_literal(list(skills)), ...),
            how=(str, Field(min_length=20, max_length=220)),
            __validators__={
                "clean": field_validator("how")(clean),
                "own_words": field_validator("how")(own_words),
            },
        )
        fields[f"task_{i}"] = (Annotated[item, WrapValidator(keep_or_drop)], ...)

    def some_kept(self: TaskRewritesBase) -> TaskRewritesBase:
        if all(getattr(self, name) is None for name in fields):
            raise ValueError("no task sentence was usable: " + "; ".join(f"{k}: {v}" for k, v in dropped.items()))
        self._dropped = dict(dropped)
        return self

    return create_model(
        "TaskRewrites",
        __base__=TaskRewritesBase,
        __validators__=cast(dict[str, Any], {"some_kept": model_validator(mode="after")(some_kept)}),
        **fields,
    )


def _own_words_check(skills: Sequence[str]) -> Callable[[type[BaseModel], str], str]:
    """Small models fill "how" with the whole skill list, which says nothing about the task.

    Repeating the task's title is bland, not wrong (the 0.5B model starts almost every
    sentence with it while its skill choice is apt), so that is left to the reviewer.
    """

    def check(cls: type[BaseModel], text: str) -> str:
        if len(skills) > 1 and all(k.lower() in text.lower() for k in skills):
            raise ValueError("lists the skills instead of using one")
        return text

    return check


class TaskRewritesBase(BaseModel):
    """What every task response model shares: why a task's sentence was dropped (not sent to the model)."""

    _dropped: dict[str, str] = PrivateAttr(default_factory=dict)


def pick_tasks_to_tailor(plan: Plan, limit: int) -> list[Task]:
    """The hire's own work in days 1-90: the team's starter and stretch tasks (chosen for the hire's
    skills), then learning and ownership: where personal skills matter most."""
    candidates = [t for t in plan.all_tasks() if t.owner == "hire" and t.due_week >= 1]
    starters = set(plan.fit.chosen_tasks)
    learning = {g.task_id for g in plan.fit.gaps}

    def rank(t: Task) -> tuple[int, int]:
        title = t.title.lower()
        if t.id in starters:
            return (-1, t.due_week)
        if t.id in learning or title.startswith("take ownership"):
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


def fit_line(plan: Plan, limit: int = 3) -> str:
    """The fit section in one line for the summary prompt: the team, strengths, gaps. No names."""
    fit = plan.fit
    parts = []
    if fit.team is not None:
        parts.append(f"joins the {fit.team.name}")
    if fit.strengths:
        parts.append("strengths to use: " + ", ".join(s.skill for s in fit.strengths[:limit]))
    if fit.gaps:
        parts.append("to learn: " + ", ".join(g.skill for g in fit.gaps[:limit]))
    return "; ".join(parts) or "no team chosen"


def apply_summary(plan: Plan, value: BaseModel) -> None:
    """The model's summary replaces the grounded one; the grounded rationale (the policy) stays."""
    data = value.model_dump()
    plan.summary = data["summary"]
    plan.focus_areas = list(data.get("focus_areas") or [])


def apply_rewrites(plan: Plan, value: BaseModel, asked: Sequence[Task]) -> None:
    """Add the model's sentence to each task it tailored; the grounded description stays in front.

    The skill is named by construction, so the sentence reads as the hire's own way into
    the task and the corpus text it came from is never lost.
    """
    for i, task in enumerate(asked, start=1):
        item = getattr(value, f"task_{i}", None)
        if item is None:
            why = getattr(value, "_dropped", {}).get(f"task_{i}", "it failed validation")
            # reason first: validate_assignment checks that a flagged task says why
            task.review_reason = task_reason("invalid_output", why)[:500]
            task.needs_review = True
            continue
        how = item.how.strip()
        how = how[:1].upper() + how[1:]
        if not how.endswith((".", "!", "?")):
            how += "."
        task.description = f"{task.description.rstrip()} Where your {item.skill} experience helps: {how}"
        task.skills = [item.skill]
        task.tailored = True


def flag_failure(plan: Plan, section: str, asked: Sequence[Task], outcome: CallOutcome) -> None:
    """The model call for ``asked`` failed: each task says so in words, the plan flag keeps the technical detail.

    The plan flag and the task flags are one cause; ``tailor.review.flags.open_flags`` counts them once.
    """
    kind = model_kind(outcome.failure)
    plan.review_flags.append(flag(section, kind, detail=outcome.error or "the model call failed"))
    for task in asked:
        task.review_reason = task_reason(kind)
        task.needs_review = True
