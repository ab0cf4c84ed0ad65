"""The task editor's rows back into a ``Plan``: each cell read by its column's rule, then the schema decides.

``st.data_editor`` hands back loose cells: ``None``, ``NaN``, blank strings, floats for
weeks, numpy booleans. :class:`EditedRow` is the table of column rules that turns one row
into plain values; the rules that span rows (a known phase, unique ids, known sources) come
next; the ``Task`` and ``Plan`` schemas have the last word, so the editor can never save a
plan the engine could not have written. Every refusal is a ``BadInput`` naming the row and
the field, so the page can say what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tailor.corpus.documents import Owner
from tailor.errors import BadInput
from tailor.schema import Plan, Task
from tailor.text import unique_slug
from tailor.web.errors import first_problem
from tailor.web.tables import TASK_COLUMNS

# Who can own a task, in the schema's order: the editor's choices come from the one definition.
OWNERS: tuple[str, ...] = get_args(Owner)


def _blank(value: object) -> bool:
    """None, NaN/NaT (what pandas puts in an empty cell) or a string of spaces."""
    import pandas as pd

    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):  # a list-like cell: not blank
        pass
    return isinstance(value, str) and not value.strip()


# --------------------------------------------------------------------------- one rule per column kind
def _text(value: object) -> str:
    return "" if _blank(value) else str(value)


def _trimmed(value: object) -> str:
    return "" if _blank(value) else str(value).strip()


def _optional(value: object) -> str | None:
    return None if _blank(value) else str(value).strip()


def _week(value: object) -> int | None:
    """A week number; the editor's number column hands over floats (``3.0``)."""
    if _blank(value):
        return None
    try:
        return int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a week number") from None


def _ids(value: object) -> list[str]:
    """Comma-separated document ids, spaces and empty entries dropped."""
    return [] if _blank(value) else [s.strip() for s in str(value).split(",") if s.strip()]


def _flag(value: object) -> bool:
    return not _blank(value) and bool(value)


class EditedRow(BaseModel):
    """One row of the task editor, each cell read by its column's rule (the table of rules).

    A missing cell reads as a blank one. The values are plain but not yet checked: the
    ``Task`` schema checks them once the row's id, sources and hidden fields are settled.
    """

    model_config = ConfigDict(extra="ignore")

    phase: Annotated[str, BeforeValidator(_text)] = ""
    id: Annotated[str, BeforeValidator(_trimmed)] = ""
    title: Annotated[str, BeforeValidator(_trimmed)] = ""
    description: Annotated[str, BeforeValidator(_text)] = ""
    owner: Annotated[str, BeforeValidator(_text)] = ""
    due_week: Annotated[int | None, BeforeValidator(_week)] = None
    success_criteria: Annotated[str, BeforeValidator(_text)] = ""
    sources: Annotated[list[str], BeforeValidator(_ids)] = Field(default_factory=list)
    needs_review: Annotated[bool, BeforeValidator(_flag)] = False
    review_reason: Annotated[str | None, BeforeValidator(_optional)] = None


def row_is_empty(row: Mapping[str, Any]) -> bool:
    """A row the editor added and left: every cell blank (an unticked checkbox is still blank)."""
    return all(_blank(row.get(c)) for c in TASK_COLUMNS if c != "needs_review")


def row_label(number: int, row: Mapping[str, Any]) -> str:
    """How a refusal names the row: its number, and its title when it has one."""
    title = _trimmed(row.get("title"))
    return f"row {number}" + (f" ({title[:40]})" if title else "")


# --------------------------------------------------------------------------- the rules across rows
@dataclass
class _Rows:
    """What a row is checked against: the plan's phases and tasks, the ids used so far, the corpus."""

    plan: Plan
    known_sources: set[str] | None
    by_phase: dict[str, list[Task]] = field(init=False)
    originals: dict[str, Task] = field(init=False)
    taken: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_phase = {p.name: [] for p in self.plan.phases}
        self.originals = {t.id: t for t in self.plan.all_tasks()}

    def add(self, row: EditedRow, label: str) -> None:
        """Check the row against the others and the plan, then file its task under its phase."""
        if row.phase not in self.by_phase:
            raise BadInput(f"{label}: choose a phase ({', '.join(self.by_phase)})")
        # A new row gets an id from its title that no other row (kept or not yet seen) uses.
        task_id = row.id or unique_slug(row.title, self.taken | self.originals.keys())
        if task_id in self.taken:
            raise BadInput(f"{label}: the id {task_id!r} is used by another row; ids must be unique")
        self.taken.add(task_id)
        unknown = [s for s in row.sources if self.known_sources is not None and s not in self.known_sources]
        if unknown:
            raise BadInput(f"{label}: unknown source {', '.join(unknown)}; cite corpus document ids")
        self.by_phase[row.phase].append(self._task(row, task_id, label))

    def _task(self, row: EditedRow, task_id: str, label: str) -> Task:
        """The row as a ``Task``, keeping the hidden fields (skills, tailored) of the task it edits."""
        original = self.originals.get(task_id)
        data = row.model_dump(exclude={"phase"}) | {
            "id": task_id,
            "skills": list(original.skills) if original else [],
            "tailored": original.tailored if original else False,
            "review_reason": row.review_reason if row.needs_review else None,
        }
        try:
            return Task.model_validate(data)
        except ValidationError as exc:
            raise BadInput(f"{label}: {first_problem(exc)}") from None

    def plan_with_tasks(self) -> Plan:
        """The plan with each phase's tasks replaced, in due-week order, validated as a whole."""
        if not any(self.by_phase.values()):
            raise BadInput("the plan has no tasks left; add at least one row")
        data: dict[str, Any] = self.plan.model_dump(mode="json", by_alias=True)
        for phase in data["phases"]:
            tasks = sorted(self.by_phase[phase["name"]], key=lambda t: t.due_week)
            phase["tasks"] = [t.model_dump(mode="json") for t in tasks]
        try:
            return Plan.model_validate(data)
        except ValidationError as exc:
            raise BadInput(f"the edited plan is not valid: {first_problem(exc)}") from None


def plan_from_rows(plan: Plan, rows: Sequence[Mapping[str, Any]], known_sources: set[str] | None = None) -> Plan:
    """The plan with its tasks replaced by the edited table rows, validated by the Plan schema.

    Rows keep their task's hidden fields (skills, tailored) by id; a new row gets an id from its
    title. Raises ``BadInput`` naming the row and the field, so the editor can say what to fix.
    ``known_sources``, when given, are the only document ids a task may cite.
    """
    checked = _Rows(plan, known_sources)
    for number, raw in enumerate(rows, 1):
        if row_is_empty(raw):
            continue
        label = row_label(number, raw)
        try:
            row = EditedRow.model_validate(dict(raw))
        except ValidationError as exc:
            raise BadInput(f"{label}: {first_problem(exc)}") from None
        checked.add(row, label)
    return checked.plan_with_tasks()


def table_rows(edited: object) -> list[dict[str, Any]]:
    """What ``st.data_editor`` returned, as a list of row dicts (a DataFrame, or already a list)."""
    import pandas as pd

    if isinstance(edited, pd.DataFrame):
        return edited.to_dict("records")
    return [dict(r) for r in edited]  # type: ignore[attr-defined]


def edited_plan(
    plan: Plan, rows: Iterable[Mapping[str, Any]], summary: str, rationale: str, known_sources: set[str]
) -> Plan:
    """The plan as the Edit tab left it: the task table, the summary and the rationale, or ``BadInput``.

    An edit that changes nothing is refused, so a stray click does not make a revision.
    """
    data = plan_from_rows(plan, list(rows), known_sources).model_dump(mode="json", by_alias=True)
    data["summary"], data["rationale"] = summary, rationale
    try:
        updated = Plan.model_validate(data)
    except ValueError:
        raise BadInput("the summary and the rationale must not be empty") from None
    if updated.model_dump(mode="json") == plan.model_dump(mode="json"):
        raise BadInput("nothing changed; edit the text or the table first")
    return updated
