"""The plan schema: the contract between the engine, storage, exports, the UI and evals.

``tailor schema`` prints ``Plan.model_json_schema()``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tailor.corpus.documents import Owner, Proficiency, RoleFamily, Seniority, Situation, SupportModel

PlanStatus = Literal["draft", "in_review", "changes_requested", "approved"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
DueWeek = Annotated[int, Field(ge=0, le=13, description="0 = before day 1; 1-13 = the first 90 days.")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class HireProfile(_Model):
    name: ShortText | None = None
    role: ShortText = Field(description="The job title, e.g. 'Senior Backend Engineer'.")
    role_family: RoleFamily
    seniority: Seniority
    years_experience: Annotated[float, Field(ge=0, le=60)] = 0
    skills: list[ShortText] = Field(default_factory=list, max_length=40)
    summary: Text = Field(description="Two or three sentences about the hire, with personal data removed.")
    situation: Situation = "standard"
    start_date: date | None = None


class Support(_Model):
    model: SupportModel
    who: ShortText
    note: Text | None = None


class Targets(_Model):
    first_commit_day: Annotated[int, Field(ge=1, le=30)]
    first_pr_day: Annotated[int, Field(ge=1, le=45)]
    full_productivity_week: Annotated[int, Field(ge=1, le=26)]
    on_call_week: Annotated[int, Field(ge=1, le=52)] | None = None
    first_leadership_week: Annotated[int, Field(ge=1, le=52)] | None = None


class Task(_Model):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,80}$")]
    title: ShortText
    description: Text
    owner: Owner
    due_week: DueWeek
    success_criteria: Text
    sources: list[str] = Field(min_length=1, description="Corpus document ids this task came from.")
    skills: list[ShortText] = Field(default_factory=list, description="The hire's own skills this task uses.")
    owner_name: ShortText | None = Field(
        default=None, description="The named person who owns or leads the task (a team member), when the team says."
    )
    tailored: bool = Field(default=False, description="True when the model personalised this task.")
    needs_review: bool = False
    review_reason: str | None = None

    @model_validator(mode="after")
    def _reason_when_flagged(self) -> Task:
        if self.needs_review and not self.review_reason:
            raise ValueError("a task flagged needs_review must say why")
        return self


class Phase(_Model):
    name: ShortText
    start_week: DueWeek
    end_week: DueWeek
    goals: list[ShortText] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end_week < self.start_week:
            raise ValueError(f"phase {self.name!r} ends (week {self.end_week}) before it starts")
        return self


class PlanRelationship(_Model):
    role: ShortText
    name: ShortText | None = Field(default=None, description="The colleague's name, from the team profile.")
    purpose: Text
    meet_by_week: Annotated[int, Field(ge=1, le=13)]
    cadence: ShortText
    source: str


class PlanCapability(_Model):
    name: ShortText
    target_level: Proficiency
    plan: Text
    source: str


class CheckIn(_Model):
    week: Annotated[int, Field(ge=1, le=13)]
    with_: ShortText = Field(alias="with", serialization_alias="with")
    focus: Text

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class Risk(_Model):
    risk: Text
    mitigation: Text
    needs_review: bool = False
    review_reason: str | None = None


class SourceRef(_Model):
    id: str
    title: str
    kind: Literal["role_profile", "case_study", "team_profile"]
    score: float
    sections: list[str] = Field(default_factory=list)


class TeamRef(_Model):
    """The team the hire joins, as the plan names it."""

    id: str
    name: ShortText
    manager: ShortText
    timezone: ShortText


class FitStrength(_Model):
    """A skill the hire has and the team or role needs: work to hand them early."""

    skill: ShortText
    needed_for: list[ShortText] = Field(default_factory=list, description="Services, projects or the role needing it.")


class FitGap(_Model):
    """A skill the team or role needs and the hire lacks, with who and what closes it."""

    skill: ShortText
    needed_for: list[ShortText] = Field(default_factory=list)
    resource: ShortText | None = Field(default=None, description="The corpus or team resource to learn it from.")
    resource_url: str | None = None
    contact: ShortText | None = Field(default=None, description="The team member who knows the area.")
    contact_role: ShortText | None = None
    builds_on: list[ShortText] = Field(
        default_factory=list, description="Related skills the hire has that carry over (corpus/skills.yaml)."
    )
    task_id: str | None = Field(default=None, description="The plan task that closes the gap.")
    source: str


class SkippedBasic(_Model):
    """A role-profile or case-study step left out because the hire already has the skill."""

    title: ShortText
    reason: Text
    source: str


class Fit(_Model):
    """The deterministic skill-gap analysis: the hire's skills against the role's and the team's."""

    team: TeamRef | None = None
    strengths: list[FitStrength] = Field(default_factory=list)
    gaps: list[FitGap] = Field(default_factory=list)
    skipped: list[SkippedBasic] = Field(default_factory=list)
    chosen_tasks: list[str] = Field(
        default_factory=list, description="Ids of the team's starter and stretch tasks chosen for this hire."
    )


FlagKind = Literal[
    "model_unavailable",
    "model_slow",
    "model_crashed",
    "invalid_output",
    "not_tailored",
    "profile_uncertain",
    "retrieval_down",
    "validation",
    "draft_stopped",
    "note",
]
"""Why a flag was raised; ``tailor.review.flags`` turns each kind into a sentence and an action for people."""


class ReviewFlag(_Model):
    """A plan-level note of something the engine could not do and a human must check."""

    field: str
    reason: str = Field(description="For people: what happened and what it means for the plan.")
    kind: FlagKind | None = Field(default=None, description="Why; None on plans stored before flags had kinds.")
    detail: str | None = Field(
        default=None, description="Technical detail (the error, the model's answer): for the log and a details view."
    )


class StepTiming(_Model):
    step: str
    seconds: float
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Provenance(_Model):
    model: str
    prompt_version: str
    corpus_hash: str
    engine_version: str
    timings: list[StepTiming] = Field(default_factory=list)
    retries: int = 0
    fallbacks: list[str] = Field(default_factory=list)
    redactions: int = 0


class Plan(_Model):
    status: PlanStatus = "draft"
    hire: HireProfile
    summary: Text
    rationale: Text
    focus_areas: list[ShortText] = Field(default_factory=list)
    support: Support
    targets: Targets
    phases: list[Phase] = Field(min_length=1)
    relationships: list[PlanRelationship] = Field(default_factory=list)
    capabilities: list[PlanCapability] = Field(default_factory=list)
    check_ins: list[CheckIn] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    fit: Fit = Field(default_factory=Fit, description="Why this plan: strengths, gaps, skipped basics, the team.")
    review_flags: list[ReviewFlag] = Field(default_factory=list)
    provenance: Provenance

    def all_tasks(self) -> list[Task]:
        return [t for p in self.phases for t in p.tasks]

    @property
    def needs_review(self) -> bool:
        return bool(self.review_flags) or any(t.needs_review for t in self.all_tasks())

    @model_validator(mode="after")
    def _unique_task_ids(self) -> Plan:
        ids = [t.id for t in self.all_tasks()]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"task ids must be unique; repeated: {', '.join(dupes)}")
        return self


def plan_json_schema() -> dict[str, object]:
    return Plan.model_json_schema(by_alias=True)


# --------------------------------------------------------------------------- engine I/O
class DraftRequest(_Model):
    """What a manager gives the engine. Overrides win over what intake reads from the text."""

    background: str
    name: ShortText | None = None
    role: ShortText | None = None
    role_family: RoleFamily | None = None
    seniority: Seniority | None = None
    years_experience: float | None = None
    skills: list[ShortText] | None = None
    start_date: date | None = None
    team: str | None = Field(default=None, description="The id of the team profile the hire joins.")
    model: str | None = None


ProgressKind = Literal[
    "saved", "queued", "redacted", "profile", "retrieved", "skeleton", "tailored", "validated", "done", "warning"
]


class ProgressEvent(_Model):
    kind: ProgressKind
    message: str
    elapsed_s: float
    plan: Plan | None = None
    profile: HireProfile | None = None
    detail: dict[str, object] = Field(default_factory=dict)
