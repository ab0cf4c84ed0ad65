"""Review flags for people: what each one means, what to do about it, and one cause counted once.

The engine flags what it could not do: a :class:`tailor.schema.ReviewFlag` on the plan, or
``needs_review`` with a ``review_reason`` on a task. This module is the one place that says
what a flag means to a person. The engine writes its flag texts with :func:`flag` and
:func:`task_reason`; the review and plan pages, the exports and the approval check read them
back with :func:`open_flags` and :func:`group_flags`.

* A flag's text is a sentence a person can act on ("The model was not reachable, so this task
  keeps the role profile's wording"). The technical detail (the error with its errno, the
  model id) goes in ``ReviewFlag.detail`` and the log: a page shows it in a collapsed details
  block, and no export prints it.
* :func:`open_flags` lists the open flags of a plan as :class:`FlagItem` values, each with a
  kind, a sentence, a suggested action and a key. A task flag that the plan also records once
  for all tasks ("tasks: the model was not reachable") is one item, not two, so the count on
  the page is the count a reviewer works through. Plans stored before flags had kinds are read
  by their old wording.
* :func:`group_flags` puts items with the same cause on one line with a count ("10 tasks keep
  the role profile's wording because the model was not reachable").
* :func:`settle` checks an approval's choice for every open flag (resolved, or acknowledged with
  a reason) and returns what the audit log records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from tailor.errors import BadInput
from tailor.schema import FlagKind, Plan, ReviewFlag, Risk, Task

Subject = Literal["profile", "summary", "sources", "tasks", "task", "risk", "plan"]
"""What a flag is about: the hire's profile, the plan summary, the cited documents, the tasks as a
whole, one task, one risk, or the plan."""
FlagChoice = Literal["resolved", "acknowledged"]

MODEL_KINDS: Final[frozenset[FlagKind]] = frozenset(
    {"model_unavailable", "model_slow", "model_crashed", "invalid_output"}
)
MAX_NOTE_CHARS: Final = 1000

_CAUSE: Final[dict[FlagKind, str]] = {
    "model_unavailable": "the model was not reachable",
    "model_slow": "the model took too long to answer",
    "model_crashed": "the local model stopped during the draft",
    "invalid_output": "the model's text did not pass the checks",
}
_KEPT = "the role profile's wording"
_CONSEQUENCE: Final[dict[Subject, str]] = {
    "task": f"this task keeps {_KEPT}",
    "tasks": f"the tasks keep {_KEPT}",
    "summary": "the plan summary keeps its standard wording",
    "profile": "the hire's profile was read by rules only",
}
_FIXED: Final[dict[tuple[Subject, FlagKind], str]] = {
    ("tasks", "not_tailored"): "No skills were read from the background, so no task is personalised.",
    ("sources", "retrieval_down"): "Document search was not available, so the plan uses the documents the rules chose.",
    ("plan", "draft_stopped"): "Drafting stopped early, so the plan was not fully personalised or checked.",
}
_ACTION: Final[dict[FlagKind, str]] = {
    "not_tailored": "Add the hire's skills and draft again, or personalise the tasks by hand.",
    "profile_uncertain": "Confirm the hire's level and role with the manager.",
    "retrieval_down": "Check that the cited documents fit this hire, or draft again when search is back.",
    "validation": "Correct it in the plan editor.",
    "draft_stopped": "Check the whole plan, or draft it again.",
    "note": "Check it, then mark it resolved when you approve.",
}
_TASK_NOTE_ACTION = "Clear the task's flag in the plan editor once it is dealt with."
_MODEL_ACTION: Final[dict[Subject, str]] = {
    "summary": "Read the summary and adjust it to the hire if needed.",
    "profile": "Check the hire's level, role and skills at the top of the plan.",
}
_PROFILE_PARTS: Final = {
    "seniority": "level",
    "role_family": "role",
    "years_experience": "years of experience",
    "summary": "background summary",
    "skills": "skills",
}
# pydantic's own messages ("String should have at least 20 characters") are for developers, not reviewers
_SCHEMA_MESSAGE: Final = re.compile(r"(?i)^(?:string|input|list|value|field|object)\b.*\b(?:should|required)\b")
_NAMED: Final[frozenset[FlagKind]] = frozenset({"note", "validation", "profile_uncertain"})
_RULES_SUMMARY = "Written by the rules; the model did not read the background."
_ECHO_MITIGATION = "Manager confirms the profile before submitting."  # risks older engines made from flags


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlagItem(_Frozen):
    """One open flag, as a reviewer works through it."""

    key: str
    """Stable within a revision: ``task:<id>``, ``risk:<n>`` or ``plan:<n>`` (the n-th plan flag)."""
    subject: Subject
    about: str
    """What it is about, for people: "Task: Land your first commit", "Plan summary"."""
    kind: FlagKind
    sentence: str
    action: str
    detail: str | None = None
    """Technical detail for the details block and the log; never printed in an export."""
    task_id: str | None = None


class FlagGroup(_Frozen):
    """Open flags with the same cause: one line with a count, one action, their details."""

    subject: Subject
    kind: FlagKind
    line: str
    action: str
    items: tuple[FlagItem, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def details(self) -> list[str]:
        """The distinct technical details of the group's items, in order."""
        return list(dict.fromkeys(i.detail for i in self.items if i.detail))

    def decide(self, choice: FlagChoice, reason: str | None = None) -> list[FlagDecision]:
        """The same choice for every flag in the group (the review page asks once per group)."""
        return [FlagDecision(key=i.key, choice=choice, reason=reason) for i in self.items]


class FlagDecision(_Frozen):
    """A reviewer's choice for one open flag when approving: resolved, or acknowledged with a reason."""

    key: str
    choice: FlagChoice
    reason: str | None = None


# =========================================================================== writing flags (the engine)
def model_kind(failure: str | None) -> FlagKind:
    """The flag kind for a failed model call, from its ``ModelCallFailed.kind`` (None: a plain ModelUnavailable)."""
    return {
        "crashed": "model_crashed",
        "timeout": "model_slow",
        "validation": "invalid_output",
        "truncated": "invalid_output",
    }.get(failure or "", "model_unavailable")  # type: ignore[return-value]  # the values are FlagKinds


def flag(field: str, kind: FlagKind, *, reason: str | None = None, detail: str | None = None) -> ReviewFlag:
    """A new plan flag whose text is a sentence for people.

    Model failures, missing skills, search being down and a stopped draft have standard sentences;
    for the other kinds (a validation finding, an uncertain profile, a note) ``reason`` is the
    finding itself, written for people. ``detail`` is the technical detail.
    """
    sentence = _standard_sentence(subject_of(field), kind) or tidy(reason or "")
    if not sentence:
        raise ValueError(f"a {kind} flag on {field} needs a reason")
    return ReviewFlag(field=field, kind=kind, reason=sentence, detail=detail)


def task_reason(kind: FlagKind, why: str | None = None) -> str:
    """A task's ``review_reason`` when the model did not personalise it (``why``: which check its sentence failed)."""
    why = " ".join((why or "").split()).rstrip(".")
    if kind == "invalid_output" and why and not _SCHEMA_MESSAGE.match(why):
        return f"The model's sentence for this task was not used ({why}), so it keeps {_KEPT}."
    sentence = _standard_sentence("task", kind)
    if sentence is None:
        raise ValueError(f"no standard task sentence for {kind}")
    return sentence


def _standard_sentence(subject: Subject, kind: FlagKind) -> str | None:
    if (subject, kind) in _FIXED:
        return _FIXED[(subject, kind)]
    if kind in MODEL_KINDS and subject in _CONSEQUENCE:
        cause = _CAUSE[kind]
        return f"{cause[0].upper()}{cause[1:]}, so {_CONSEQUENCE[subject]}."
    return None


def tidy(text: str) -> str:
    """One line, a capital first letter and a full stop: how a flag's sentence reads."""
    line = " ".join(text.split())
    if not line:
        return ""
    line = line[0].upper() + line[1:]
    return line if line.endswith((".", "!", "?")) else line + "."


def subject_of(field: str) -> Subject:
    if field == "hire" or field.startswith("hire."):
        return "profile"
    if field.startswith("task."):
        return "task"
    if field in ("summary", "sources", "tasks"):
        return field  # type: ignore[return-value]  # one of the Subject literals
    return "plan"


# =========================================================================== reading flags (pages, exports, approval)
def open_flags(plan: Plan) -> list[FlagItem]:
    """Every open flag of the plan, plan flags first, then tasks, then risks; repeats folded in."""
    tasks = {t.id: t for t in plan.all_tasks()}
    plan_items = [_plan_item(i, f, tasks) for i, f in enumerate(plan.review_flags)]
    task_items = [_task_item(t) for t in plan.all_tasks() if t.needs_review]
    risk_items = [
        item for i, r in enumerate(plan.risks) if r.needs_review and (item := _risk_item(i, r, plan)) is not None
    ]
    # "tasks: the model was not reachable" on the plan says once what each flagged task says again:
    # it is not a flag of its own, and its technical detail belongs to those tasks. Once every one
    # of those tasks was checked and cleared, nothing of it is left open.
    kept: list[FlagItem] = []
    for item in plan_items:
        if item.subject != "tasks" or item.kind not in MODEL_KINDS:
            kept.append(item)
            continue
        task_items = [
            t.model_copy(update={"detail": t.detail or item.detail}) if t.kind == item.kind else t for t in task_items
        ]
    return [*kept, *task_items, *risk_items]


def group_flags(items: Iterable[FlagItem]) -> list[FlagGroup]:
    """Items with the same cause on one line with a count, in order of first appearance by subject."""
    buckets: dict[tuple[Subject, FlagKind, str | None], list[FlagItem]] = {}
    for item in items:
        same_cause = item.subject == "task" and item.kind in MODEL_KINDS  # the sentence differs only by the check
        key = (item.subject, item.kind, None if same_cause else item.sentence)
        buckets.setdefault(key, []).append(item)
    groups = [_group(subject, kind, members) for (subject, kind, _), members in buckets.items()]
    order: dict[Subject, int] = {"profile": 0, "summary": 1, "sources": 2, "tasks": 3, "task": 4, "plan": 5, "risk": 6}
    return sorted(groups, key=lambda g: order[g.subject])


def headline(items: Sequence[FlagItem]) -> str:
    """ "13 items to check (10 tasks)": the count a page shows above the groups (their counts add up to it)."""
    if not items:
        return "Nothing to check"
    n = len(items)
    tasks = len({i.task_id for i in items if i.task_id})
    text = f"{n} item{'s' if n != 1 else ''} to check"
    if tasks and tasks != n:
        text += f" ({tasks} task{'s' if tasks != 1 else ''})"
    return text


def _group(subject: Subject, kind: FlagKind, members: list[FlagItem]) -> FlagGroup:
    n = len(members)
    first = members[0]
    if subject == "task" and kind in MODEL_KINDS:
        verb = "keeps" if n == 1 else "keep"
        line = f"{n} task{'s' if n != 1 else ''} {verb} {_KEPT} because {_CAUSE[kind]}."
        action = _task_action(n)
    elif kind in _NAMED:
        # A finding or a note says nothing about where it is: the line names the task, risk or field.
        line = f"{first.about} — {first.sentence}" if n == 1 else f"{first.sentence} ({n} times)"
        action = first.action
    else:
        line = first.sentence if n == 1 else f"{first.sentence} ({n} times)"
        action = first.action
    return FlagGroup(subject=subject, kind=kind, line=line, action=action, items=tuple(members))


def _task_action(n: int) -> str:
    which = "the task" if n == 1 else "these tasks"
    return f"Read {which} and add the hire's angle where it matters, or draft again later."


def _action(subject: Subject, kind: FlagKind) -> str:
    if kind in MODEL_KINDS:
        if subject in ("task", "tasks"):
            return _task_action(1 if subject == "task" else 2)
        return _MODEL_ACTION.get(subject, _ACTION["note"])
    if kind == "note" and subject == "task":  # a task's flag is a checkbox in the editor; other flags are not
        return _TASK_NOTE_ACTION
    return _ACTION[kind]


def _about(subject: Subject, field: str, tasks: dict[str, Task]) -> tuple[str, str | None]:
    """What a plan flag is about, for people, and the task it names (if any)."""
    if subject == "task":
        task_id = field.split(".")[1] if field.count(".") >= 1 else ""
        task = tasks.get(task_id)
        return (f"Task: {task.title}" if task else f"Task {task_id}"), task_id or None
    if subject == "profile":
        part = _PROFILE_PARTS.get(field.partition(".")[2])
        return (f"Hire profile: {part}" if part else "Hire profile"), None
    labels = {"summary": "Plan summary", "sources": "Sources", "tasks": "Tasks"}
    return labels.get(subject, "Phases" if field == "phases" else "Plan"), None


def _plan_item(index: int, f: ReviewFlag, tasks: dict[str, Task]) -> FlagItem:
    subject = subject_of(f.field)
    if f.kind is not None:
        kind, sentence, detail = f.kind, tidy(f.reason), f.detail
    else:
        kind, sentence, detail = _legacy_plan_flag(subject, f)
    about, task_id = _about(subject, f.field, tasks)
    return FlagItem(
        key=f"plan:{index}",
        subject=subject,
        about=about,
        kind=kind,
        sentence=sentence,
        action=_action(subject, kind),
        detail=detail,
        task_id=task_id,
    )


def _task_item(task: Task) -> FlagItem:
    kind, sentence, detail = _read_task_reason(task.review_reason or "")
    return FlagItem(
        key=f"task:{task.id}",
        subject="task",
        about=f"Task: {task.title}",
        kind=kind,
        sentence=sentence,
        action=_action("task", kind),
        detail=detail,
        task_id=task.id,
    )


def _risk_item(index: int, risk: Risk, plan: Plan) -> FlagItem | None:
    if is_flag_echo(risk):
        # An older engine copied profile flags into the risks; the flag itself is listed already.
        if any(f.reason == risk.review_reason for f in plan.review_flags):
            return None
        sentence = tidy(risk.review_reason or risk.risk)
        return FlagItem(
            key=f"risk:{index}",
            subject="profile",
            about="Hire profile",
            kind="profile_uncertain",
            sentence=sentence,
            action=_ACTION["profile_uncertain"],
        )
    return FlagItem(
        key=f"risk:{index}",
        subject="risk",
        about=f"Risk: {_short(risk.risk)}",
        kind="note",
        sentence=tidy(risk.review_reason or "This risk is marked for review."),
        action=_ACTION["note"],
    )


def is_flag_echo(risk: Risk) -> bool:
    """A risk an older engine made from a profile flag ("written from rules; ..."): a flag, not a risk."""
    return risk.needs_review and risk.mitigation == _ECHO_MITIGATION and risk.risk == risk.review_reason


def _short(text: str, limit: int = 60) -> str:
    line = " ".join(text.split()).rstrip(".")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------- plans stored before flags had kinds
# What older engines wrote, so a stored plan reads the same as a new one. Most specific first.
_FAILURE_WORDS: Final[tuple[tuple[re.Pattern[str], FlagKind], ...]] = (
    (re.compile(r"(?i)crash"), "model_crashed"),
    (re.compile(r"(?i)did not answer in time|\(timeout\)|timed out"), "model_slow"),
    (
        re.compile(r"(?i)did not match the schema|not valid JSON|could not be parsed|\((?:validation|truncated)\)"),
        "invalid_output",
    ),
)
_LEGACY_DETAIL: Final = re.compile(
    r"^(?:not tailored, the grounded summary stands|profile read by rules only|not tailored)\s*:\s*(?P<detail>.+)$",
    re.DOTALL,
)
_LEGACY_SOURCES: Final = re.compile(r"retrieval unavailable \((?P<detail>.*)\);", re.DOTALL)
_LEGACY_STOPPED: Final = re.compile(r"^drafting stopped after the grounded plan \((?P<detail>.*?)\)", re.DOTALL)
_LEGACY_INVALID: Final = re.compile(r"^not tailored \((?P<why>.*)\); the grounded text stands$", re.DOTALL)
_INVALID_TASK: Final = re.compile(r"^The model's sentence for this task was not used \((?P<why>.*)\), so it keeps")


def _failure_kind(text: str) -> FlagKind:
    return next((kind for rx, kind in _FAILURE_WORDS if rx.search(text)), "model_unavailable")


def _legacy_plan_flag(subject: Subject, f: ReviewFlag) -> tuple[FlagKind, str, str | None]:
    """(kind, sentence, detail) of a flag stored without a kind, read from its old wording."""
    reason = f.reason.strip()
    if subject == "sources":
        m = _LEGACY_SOURCES.search(reason)
        return "retrieval_down", _FIXED[("sources", "retrieval_down")], m.group("detail") if m else reason
    if subject == "plan" and (m := _LEGACY_STOPPED.match(reason)):
        return "draft_stopped", _FIXED[("plan", "draft_stopped")], m.group("detail")
    if subject == "tasks" and reason.startswith("no skills read"):
        return "not_tailored", _FIXED[("tasks", "not_tailored")], None
    if f.field == "hire.summary":
        return "profile_uncertain", _RULES_SUMMARY, None
    if subject in ("summary", "tasks") or f.field == "hire":
        m = _LEGACY_DETAIL.match(reason)
        detail = m.group("detail") if m else reason
        kind = _failure_kind(detail)
        return kind, _standard_sentence(subject, kind) or tidy(reason), detail
    if subject == "profile":
        return "profile_uncertain", tidy(reason), None
    if subject == "task" or f.field == "phases" or (f.field == "plan" and "URL" in reason):
        return "validation", tidy(reason), None
    return "note", tidy(reason), None


def _read_task_reason(reason: str) -> tuple[FlagKind, str, str | None]:
    """(kind, sentence, detail) of a task's review_reason: this module's own sentences, old wording, or a note."""
    text = " ".join(reason.split())
    for kind in MODEL_KINDS:
        if text == _standard_sentence("task", kind):
            return kind, text, None
    if m := _INVALID_TASK.match(text):
        return "invalid_output", text, m.group("why")
    if m := _LEGACY_INVALID.match(text):
        return "invalid_output", task_reason("invalid_output", m.group("why")), m.group("why")
    if m := _LEGACY_DETAIL.match(text):
        kind = _failure_kind(m.group("detail"))
        return kind, task_reason(kind), m.group("detail")
    return "note", tidy(text) or "This task is marked for review.", None


# =========================================================================== approval
def settle(items: Sequence[FlagItem], decisions: Sequence[FlagDecision]) -> list[dict[str, str | None]]:
    """What the audit log records for approving with these open flags; BadInput unless each has a valid choice.

    A flag is *resolved* when the reviewer checked it and nothing is left to do; it is
    *acknowledged* when the plan goes out with it as it is, which needs a reason.
    """
    chosen: dict[str, FlagDecision] = {}
    for d in decisions:
        if d.key in chosen:
            raise BadInput(f"the open flag {d.key} has more than one choice; give one")
        chosen[d.key] = d
    open_keys = {i.key for i in items}
    unknown = [k for k in chosen if k not in open_keys]
    if unknown:
        raise BadInput(
            f"there is no open flag {unknown[0]} on this revision; reload the plan and choose again for its open flags"
        )
    missing = [i for i in items if i.key not in chosen]
    if missing:
        raise BadInput(_missing_message(missing))
    records: list[dict[str, str | None]] = []
    for item in items:
        d = chosen[item.key]
        note = " ".join((d.reason or "").split()) or None
        if d.choice == "acknowledged" and note is None:
            raise BadInput(
                f"acknowledging the flag on {item.about} needs a reason: say why the plan can go out with it"
            )
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise BadInput(f"the reason for the flag on {item.about} is {len(note)} characters; the limit is 1000")
        records.append({"key": item.key, "about": item.about, "kind": item.kind, "choice": d.choice, "reason": note})
    return records


def acknowledge_all(items: Sequence[FlagItem], reason: str) -> list[FlagDecision]:
    """Every open flag acknowledged with the same reason (for a caller that decides for all at once)."""
    return [FlagDecision(key=i.key, choice="acknowledged", reason=reason) for i in items]


def _missing_message(missing: Sequence[FlagItem]) -> str:
    n = len(missing)
    lines = "; ".join(g.line.rstrip(".") for g in group_flags(missing))
    keys = ", ".join(i.key for i in missing)  # for a caller that sends choices by key (the CLI, the API)
    return (
        f"{n} open flag{'s' if n != 1 else ''} need{'s' if n == 1 else ''} a choice before the plan can be approved: "
        f"mark each one resolved, or acknowledge it with a reason. Still open: {lines} (keys: {keys})"
    )
