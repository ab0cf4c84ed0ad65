"""Team profiles: the third kind of corpus document (``kind: team_profile``, in ``corpus/teams/``).

A team profile says who a hire will work with and on what: the manager and members (who can be
a buddy or a mentor), the stack and services as corpus skills, current projects and pain points,
scoped starter tasks, rituals, the on-call rotation and the team's own runbooks, dashboards,
channels and repos. The planner reads the front matter validated here; people read the narrative,
and ``tests/corpus/test_teams.py`` checks that both tell the same story.

Rules that need the rest of the corpus (skill names from the vocabulary, people and starter task
ids unique across teams, the id equal to the file name) are checked by :func:`team_problems`
when the corpus loads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tailor.corpus.literals import URL_RE, NonEmpty, RoleFamily, Seniority
from tailor.corpus.skills import SkillVocabulary

# Internal links (runbooks, dashboards, channels, repos) live on the company's domain. ``.example``
# is reserved (RFC 2606), so the fictional company's links can never point at a real site.
COMPANY_DOMAIN = "northwind.example"
CHANNEL_URL = "https://chat." + COMPANY_DOMAIN + "/channels/{name}"

Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
Cadence = Literal["daily", "weekly", "biweekly", "monthly", "quarterly"]
Skill = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]  # checked against the vocabulary
Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
TeamId = Annotated[str, StringConstraints(pattern=r"^team-[a-z0-9][a-z0-9-]{1,60}$")]
TaskId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,60}$")]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s]+$")]

BUDDY_LEVELS = {"mid", "senior", "staff", "principal"}  # interns and juniors are not buddies
MENTOR_LEVELS = {"senior", "staff", "principal", "manager", "director"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for v in values:
        if v.lower() in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v.lower())
    return values


class Manager(_Strict):
    name: NonEmpty
    role: NonEmpty
    why_meet: NonEmpty


class Member(_Strict):
    name: NonEmpty
    role: NonEmpty = Field(description="Job title, e.g. 'Senior Backend Engineer'.")
    role_family: RoleFamily | None = Field(default=None, description="None for non-engineers (e.g. a designer).")
    seniority: Seniority
    knows: list[Skill] = Field(min_length=1)
    buddy: bool
    mentor: bool
    why_meet: NonEmpty

    # Field validators rather than one model validator, so an error's location names the field
    # (``members.4.buddy``), not just the member. ``seniority`` is declared first, so it is in ``info.data``.
    @field_validator("buddy", "mentor")
    @classmethod
    def _support_levels(cls, v: bool, info: ValidationInfo) -> bool:
        level = info.data.get("seniority")
        allowed = BUDDY_LEVELS if info.field_name == "buddy" else MENTOR_LEVELS
        if v and level is not None and level not in allowed:
            raise ValueError(f"a {level} cannot be a {info.field_name} (needs one of {sorted(allowed)})")
        return v

    @field_validator("knows")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        return _unique(v, "skill")


class Service(_Strict):
    name: NonEmpty
    description: NonEmpty
    tier: Literal[1, 2, 3] | None = None
    skills: list[Skill] = Field(min_length=1)


class Project(_Strict):
    name: NonEmpty
    description: NonEmpty
    skills: list[Skill] = Field(default_factory=list)


class PainPoint(_Strict):
    title: NonEmpty
    description: NonEmpty
    service: NonEmpty | None = None
    skills: list[Skill] = Field(default_factory=list)


class StarterTask(_Strict):
    id: TaskId
    title: NonEmpty
    description: NonEmpty
    skills: list[Skill] = Field(min_length=1)
    size: Literal["S", "M", "L"]
    stretch: bool
    roles: list[RoleFamily] = Field(default_factory=list, description="Empty means every family the team hires.")
    seniority: list[Seniority] = Field(default_factory=list, description="Empty means every level.")
    contact: NonEmpty | None = None


class Ritual(_Strict):
    name: NonEmpty
    day: Weekday | Literal["weekdays"]
    cadence: Cadence
    time: Clock
    duration_minutes: Annotated[int, Field(ge=5, le=480)]
    purpose: NonEmpty

    @model_validator(mode="after")
    def _day_fits_cadence(self) -> Ritual:
        if (self.cadence == "daily") != (self.day == "weekdays"):
            raise ValueError("day: use 'weekdays' exactly when cadence is 'daily'")
        return self


class Handover(_Strict):
    day: Weekday
    time: Clock


class OnCall(_Strict):
    name: NonEmpty
    kind: Literal["pager", "release-duty", "release-captain"]
    hours: Literal["24x7", "business-hours", "business-hours-and-tier-1"]
    rotation_length_days: Annotated[int, Field(ge=1, le=28)]
    handover: Handover
    eligible_seniority: list[Seniority] = Field(min_length=1)
    earliest_week: Annotated[int, Field(ge=1, le=13)]
    shadow_shifts: Annotated[int, Field(ge=0, le=6)]
    paging_tool: NonEmpty
    ack_minutes: Annotated[int, Field(ge=1, le=60)]
    escalation: list[NonEmpty] = Field(min_length=1)


class Resource(_Strict):
    title: NonEmpty
    kind: Literal["runbook", "dashboard", "channel", "repo", "doc"]
    url: HttpsUrl
    note: NonEmpty | None = None

    @model_validator(mode="after")
    def _channel_title(self) -> Resource:
        if self.kind == "channel" and not re.fullmatch(r"#[a-z0-9][a-z0-9-]*", self.title):
            raise ValueError("title: a channel title is '#name' (lowercase letters, digits, hyphens)")
        return self


class TeamProfileMeta(_Strict):
    id: TeamId
    kind: Literal["team_profile"]
    title: NonEmpty
    team: NonEmpty
    mission: NonEmpty
    roles: list[RoleFamily] = Field(min_length=1, description="Role families the team hires.")
    tags: list[NonEmpty] = Field(default_factory=list)
    timezone: NonEmpty
    reviewed_on: date | None = None
    manager: Manager
    members: list[Member] = Field(min_length=3, max_length=6)
    stack: list[Skill] = Field(min_length=3)
    services: list[Service] = Field(min_length=1)
    current_projects: list[Project] = Field(min_length=1)
    pain_points: list[PainPoint] = Field(min_length=1)
    starter_tasks: list[StarterTask] = Field(min_length=3)
    rituals: list[Ritual] = Field(min_length=2)
    on_call: OnCall | None = None
    resources: list[Resource] = Field(min_length=4)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"not an IANA time zone: {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TeamProfileMeta:
        _unique(list(self.roles), "role family")
        _unique(self.stack, "stack skill")
        people = [name for name, _ in self.people()]
        _unique(people, "person")
        if not any(m.buddy for m in self.members):
            raise ValueError("members: at least one member must have buddy: true")
        if not any(m.mentor for m in self.members):
            raise ValueError("members: at least one member must have mentor: true")
        _unique([s.name for s in self.services], "service")
        services = {s.name for s in self.services}
        for i, p in enumerate(self.pain_points):
            if p.service is not None and p.service not in services:
                raise ValueError(f"pain_points.{i}.service: {p.service!r} is not one of the team's services")
        _unique([t.id for t in self.starter_tasks], "starter task id")
        _unique([t.title for t in self.starter_tasks], "starter task title")
        for i, t in enumerate(self.starter_tasks):
            extra = set(t.roles) - set(self.roles)
            if extra:
                raise ValueError(f"starter_tasks.{i}.roles: {sorted(extra)} are not families the team hires")
            if t.contact is not None and t.contact not in people:
                raise ValueError(f"starter_tasks.{i}.contact: {t.contact!r} is not the manager or a member")
        if not any(t.stretch for t in self.starter_tasks):
            raise ValueError("starter_tasks: at least one task must be a stretch task")
        if all(t.stretch for t in self.starter_tasks):
            raise ValueError("starter_tasks: at least one task must not be a stretch task")
        _unique([r.name for r in self.rituals], "ritual")
        kinds = {r.kind for r in self.resources}
        missing = {"runbook", "dashboard", "channel", "repo"} - kinds
        if missing:
            raise ValueError(f"resources: missing kinds {sorted(missing)}")
        _unique([r.url for r in self.resources], "resource url")
        return self

    def people(self) -> list[tuple[str, str]]:
        """``(name, job title)`` of everyone the profile names: the manager, then the members."""
        return [(self.manager.name, self.manager.role), *((m.name, m.role) for m in self.members)]

    def skill_fields(self) -> list[tuple[str, str]]:
        """(field path, skill) for every skill name the document uses."""
        out: list[tuple[str, str]] = [(f"stack.{i}", s) for i, s in enumerate(self.stack)]
        for i, m in enumerate(self.members):
            out += [(f"members.{i}.knows", s) for s in m.knows]
        for i, sv in enumerate(self.services):
            out += [(f"services.{i}.skills", s) for s in sv.skills]
        for i, pr in enumerate(self.current_projects):
            out += [(f"current_projects.{i}.skills", s) for s in pr.skills]
        for i, pp in enumerate(self.pain_points):
            out += [(f"pain_points.{i}.skills", s) for s in pp.skills]
        for i, t in enumerate(self.starter_tasks):
            out += [(f"starter_tasks.{i}.skills", s) for s in t.skills]
        return out


# --------------------------------------------------------------------------- rules across documents
def host_allowed(url: str, hosts: set[str]) -> bool:
    """A team may link to its company's domain and to public documentation the corpus already cites."""
    host = urlparse(url).hostname or ""
    return host in hosts or host == COMPANY_DOMAIN or host.endswith("." + COMPANY_DOMAIN)


def team_problems(
    teams: Sequence[tuple[Path, TeamProfileMeta, str]], skills: SkillVocabulary, hosts: set[str]
) -> list[tuple[Path, str, str]]:
    """``(file, field, message)`` for each rule a team profile breaks that needs the rest of the corpus.

    Skill names must be canonical (an alias or a case slip names the right spelling), people and
    starter task ids are unique across teams, links stay on the company domain or a host the corpus
    already cites, and the id is the file name.
    """
    problems: list[tuple[Path, str, str]] = []
    people: dict[str, str] = {}
    task_ids: dict[str, str] = {}
    for path, meta, body in teams:
        if meta.id != path.stem:
            problems.append((path, "id", f"{meta.id!r} must equal the file name {path.stem!r}"))
        for where, skill in meta.skill_fields():
            if skill in skills.canonical_names:
                continue
            canonical = skills.canonical(skill)
            hint = f"; write {canonical!r}" if canonical else ""
            problems.append((path, where, f"{skill!r} is not a canonical skill of the corpus vocabulary{hint}"))
        stackish = set(meta.stack) | {s for sv in meta.services for s in sv.skills}
        for i, m in enumerate(meta.members):
            if not set(m.knows) & stackish:
                problems.append((path, f"members.{i}.knows", f"nothing {m.name} knows is in the team's stack"))
        for i, res in enumerate(meta.resources):
            if not host_allowed(res.url, hosts):
                problems.append(
                    (path, f"resources.{i}.url", f"{res.url} is neither on {COMPANY_DOMAIN} nor a corpus host")
                )
            if res.kind == "channel" and res.url != CHANNEL_URL.format(name=res.title[1:]):
                problems.append(
                    (path, f"resources.{i}.url", f"a channel's url is {CHANNEL_URL.format(name=res.title[1:])}")
                )
        for url in URL_RE.findall(body):
            if not host_allowed(url.rstrip(").,;"), hosts):
                problems.append((path, "(body)", f"the link {url} is neither on {COMPANY_DOMAIN} nor a corpus host"))
        named = [
            ("manager.name", meta.manager.name),
            *((f"members.{i}.name", m.name) for i, m in enumerate(meta.members)),
        ]
        for where, person in named:
            if people.get(person, meta.id) != meta.id:
                problems.append((path, where, f"{person!r} is also on {people[person]}; a person is on one team"))
            people.setdefault(person, meta.id)
        for i, t in enumerate(meta.starter_tasks):
            if task_ids.get(t.id, meta.id) != meta.id:
                problems.append((path, f"starter_tasks.{i}.id", f"{t.id!r} is also used by {task_ids[t.id]}"))
            task_ids.setdefault(t.id, meta.id)
    return problems
