"""The corpus: Markdown documents with YAML front matter, for two readers.

People read the narrative body. The planner reads the structured front matter,
validated here by pydantic. Both live in one file so they cannot drift apart,
and ``tests/corpus/test_documents.py`` checks that what the front matter names is
also told in the body.

Run ``python -m tailor.corpus.documents check [DIR]`` to validate a corpus folder.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tailor.corpus.literals import (
    SENIORITY_ORDER,
    URL_RE,
    DocId,
    NonEmpty,
    Owner,
    Proficiency,
    RoleFamily,
    Seniority,
    Situation,
    SupportModel,
    Week,
)
from tailor.corpus.skills import ALIASES_FILE, AliasError, SkillTable, SkillVocabulary, load_skill_table
from tailor.corpus.teams import TeamProfileMeta, team_problems
from tailor.errors import BadInput

__all__ = [
    "SENIORITY_ORDER",
    "URL_RE",
    "DocId",
    "NonEmpty",
    "Owner",
    "Proficiency",
    "RoleFamily",
    "Seniority",
    "Situation",
    "SupportModel",
    "TeamProfileMeta",
    "Week",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- role profiles
class Responsibility(_Strict):
    name: NonEmpty
    primary: bool = False
    description: NonEmpty
    shadow_days: Annotated[int, Field(ge=0, le=30)] = Field(
        description="Days to shadow the current owner before taking it over."
    )
    success_metrics: list[NonEmpty] = Field(min_length=1)


class Capability(_Strict):
    name: NonEmpty
    targets: dict[Seniority, Proficiency] = Field(description="Target proficiency at the end of 90 days, by seniority.")


class Relationship(_Strict):
    role: NonEmpty
    purpose: NonEmpty
    meet_by_week: Annotated[int, Field(ge=1, le=13)]
    cadence: Literal["daily", "twice-weekly", "weekly", "biweekly", "monthly", "on-demand"]


class Artifact(_Strict):
    name: NonEmpty
    type: NonEmpty


class Resource(_Strict):
    name: NonEmpty
    url: str | None = None
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https://[^\s]+$", v):
            raise ValueError("resource urls must be absolute https:// links")
        return v


class Expectations(_Strict):
    day_30: list[NonEmpty] = Field(min_length=1)
    day_60: list[NonEmpty] = Field(min_length=1)
    day_90: list[NonEmpty] = Field(min_length=1)


class RoleProfileMeta(_Strict):
    id: DocId
    kind: Literal["role_profile"]
    title: NonEmpty
    roles: list[RoleFamily] = Field(min_length=1)
    seniority: list[Seniority] = Field(min_length=1)
    tags: list[NonEmpty] = Field(default_factory=list)
    aliases: list[NonEmpty] = Field(default_factory=list, description="Job titles that map to this role.")
    mission: NonEmpty
    responsibilities: list[Responsibility] = Field(min_length=3)
    capabilities: list[Capability] = Field(min_length=3)
    relationships: list[Relationship] = Field(min_length=3)
    artifacts: list[Artifact] = Field(min_length=2)
    resources: list[Resource] = Field(min_length=2)
    skills_vocabulary: list[NonEmpty] = Field(
        min_length=5, description="Skills and tools a hire for this role may bring; used by intake."
    )
    expectations: dict[Seniority, Expectations]

    @field_validator("expectations")
    @classmethod
    def _bands(cls, v: dict[Seniority, Expectations]) -> dict[Seniority, Expectations]:
        if not v:
            raise ValueError("at least one seniority band is required")
        return v


# --------------------------------------------------------------------------- case studies
class TaskTemplate(_Strict):
    title: NonEmpty
    description: NonEmpty
    owner: Owner
    due_week: Week
    success_criteria: NonEmpty


class Policy(_Strict):
    """The seniority policy a case study states, in numbers the planner uses."""

    applies_to: list[Seniority] = Field(min_length=1)
    support_model: SupportModel
    support_note: NonEmpty
    first_commit_day: Annotated[int, Field(ge=1, le=30)]
    first_pr_day: Annotated[int, Field(ge=1, le=45)]
    full_productivity_week: Annotated[int, Field(ge=1, le=26)]
    on_call_week: Annotated[int, Field(ge=1, le=52)] | None = Field(
        description="Week the hire joins on-call; null means not within the first 90 days."
    )
    first_leadership_week: Annotated[int, Field(ge=1, le=52)] | None = Field(
        description="Week leadership work starts (design review, mentoring); null means not in 90 days."
    )
    check_in_weeks: list[Week] = Field(min_length=3)


class Outcome(_Strict):
    metric: NonEmpty
    value: NonEmpty


class CaseStudyMeta(_Strict):
    id: DocId
    kind: Literal["case_study"]
    title: NonEmpty
    roles: list[RoleFamily] = Field(min_length=1)
    seniority: list[Seniority] = Field(min_length=1)
    tags: list[NonEmpty] = Field(default_factory=list)
    situation: Situation = "standard"
    policy: Policy
    tasks: list[TaskTemplate] = Field(
        min_length=3, description="Tasks that worked in this story and generalise to similar hires."
    )
    avoid: list[NonEmpty] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=2)


DocMeta = RoleProfileMeta | CaseStudyMeta | TeamProfileMeta


# --------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class Section:
    title: str
    text: str
    index: int


@dataclass(frozen=True)
class CorpusDoc:
    path: Path
    meta: DocMeta
    body: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def kind(self) -> str:
        return self.meta.kind

    def sections(self) -> list[Section]:
        return split_sections(self.body, self.meta.title)


@dataclass(frozen=True)
class CorpusError:
    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Corpus:
    docs: tuple[CorpusDoc, ...]
    errors: tuple[CorpusError, ...]
    skill_table: SkillTable = field(default_factory=SkillTable)

    def by_id(self) -> dict[str, CorpusDoc]:
        return {d.id: d for d in self.docs}

    def roles(self) -> list[RoleProfileMeta]:
        return [d.meta for d in self.docs if isinstance(d.meta, RoleProfileMeta)]

    def case_studies(self) -> list[CaseStudyMeta]:
        return [d.meta for d in self.docs if isinstance(d.meta, CaseStudyMeta)]

    def teams(self) -> list[TeamProfileMeta]:
        return [d.meta for d in self.docs if isinstance(d.meta, TeamProfileMeta)]

    def team(self, team_id: str) -> TeamProfileMeta | None:
        return next((t for t in self.teams() if t.id == team_id), None)

    def chosen_team(self, team_id: str | None) -> TeamProfileMeta | None:
        """The team a draft asks for (None for none); BadInput naming the valid ids for an unknown one."""
        if not team_id:
            return None
        team = self.team(team_id)
        if team is None:
            known = ", ".join(t.id for t in self.teams()) or "none"
            raise BadInput(f"no team profile {team_id!r} in the corpus; the teams are: {known}")
        return team

    @cached_property
    def skills(self) -> SkillVocabulary:
        """The role profiles' skill names with the aliases of ``skills.yaml`` (validated at load)."""
        names = [s for r in self.roles() for s in r.skills_vocabulary]
        try:
            return SkillVocabulary.build(names, self.skill_table)
        except AliasError:  # load_corpus reported it; a hand-built Corpus still gets the bare names
            return SkillVocabulary.build(names, SkillTable())

    @property
    def content_hash(self) -> str:
        """One hash over every document: plans and eval runs record it."""
        h = hashlib.sha256()
        for d in sorted(self.docs, key=lambda d: d.id):
            h.update(d.id.encode())
            h.update(d.content_hash.encode())
        if self.skill_table != SkillTable():
            h.update(self.skill_table.model_dump_json().encode())
        return h.hexdigest()[:16]

    def urls(self) -> set[str]:
        """Every URL the corpus mentions; a plan may use no other."""
        found: set[str] = set()
        for d in self.docs:
            found.update(URL_RE.findall(d.body))
            if isinstance(d.meta, RoleProfileMeta):
                found.update(r.url for r in d.meta.resources if r.url)
            elif isinstance(d.meta, TeamProfileMeta):
                found.update(r.url for r in d.meta.resources)
        return {u.rstrip(").,;") for u in found}


_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$", re.MULTILINE)


def split_sections(body: str, doc_title: str) -> list[Section]:
    """Split on level-1 to level-3 headings; text before the first heading is the intro."""
    sections: list[Section] = []
    matches = list(_HEADING.finditer(body))
    intro = body[: matches[0].start()] if matches else body
    if intro.strip():
        sections.append(Section(doc_title, intro.strip(), 0))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[m.end() : end].strip()
        if text:
            sections.append(Section(m.group(2).strip(), text, len(sections)))
    return sections


_FIELD_IN_MESSAGE = re.compile(r"^(?:Value error, )?([a-z_]+(?:\.[\w]+)*): (.+)$", re.DOTALL)


def _error_field(err: ValidationError) -> tuple[str, str]:
    """The field an error is about: pydantic's location, or the path a cross-field rule names in its message."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    m = _FIELD_IN_MESSAGE.match(first["msg"])
    if m:  # "rituals.0" + "day: use 'weekdays' …" names rituals.0.day
        return ".".join(p for p in (loc, m.group(1)) if p), m.group(2)
    return loc or "(front matter)", first["msg"]


_MODELS: dict[str, type[DocMeta]] = {
    "role_profile": RoleProfileMeta,
    "case_study": CaseStudyMeta,
    "team_profile": TeamProfileMeta,
}


def load_document(path: Path) -> CorpusDoc | CorpusError:
    """Parse and validate one document; return an error naming the file and field instead of raising."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return CorpusError(path, "(file)", f"cannot read: {exc}")
    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as exc:
        return CorpusError(path, "(front matter)", f"invalid YAML: {exc}".splitlines()[0])
    data = dict(post.metadata)
    if not data:
        return CorpusError(path, "(front matter)", "missing YAML front matter")
    kind = data.get("kind")
    model = _MODELS.get(str(kind))
    if model is None:
        return CorpusError(path, "kind", f"must be one of {', '.join(map(repr, _MODELS))}, got {kind!r}")
    try:
        meta = model.model_validate(data)
    except ValidationError as exc:
        field, msg = _error_field(exc)
        return CorpusError(path, field, msg)
    if not post.content.strip():
        return CorpusError(path, "(body)", "the narrative body is empty")
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return CorpusDoc(path=path, meta=meta, body=post.content, content_hash=digest)


def iter_paths(root: Path | str) -> Iterable[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def load_corpus(root: Path | str) -> Corpus:
    """Every valid document under ``root`` and an error for each invalid one (naming the file and field).

    A team profile is checked against the rest of the corpus too (:func:`tailor.corpus.teams.team_problems`);
    one that fails is left out, as an invalid document is.
    """
    root = Path(root)
    docs: list[CorpusDoc] = []
    errors: list[CorpusError] = []
    seen: dict[str, Path] = {}
    for path in iter_paths(root):
        result = load_document(path)
        if isinstance(result, CorpusError):
            errors.append(result)
        elif result.id in seen:
            errors.append(CorpusError(path, "id", f"duplicate id {result.id!r} (also in {seen[result.id]})"))
        else:
            seen[result.id] = path
            docs.append(result)
    table_path = root / ALIASES_FILE
    names = [s for d in docs if isinstance(d.meta, RoleProfileMeta) for s in d.meta.skills_vocabulary]
    try:
        table = load_skill_table(table_path)
        skills = SkillVocabulary.build(names, table)
    except AliasError as exc:
        errors.append(CorpusError(table_path, "(skills)", str(exc)))
        table = SkillTable()
        skills = SkillVocabulary.build(names, table)
    teams = [(d.path, d.meta, d.body) for d in docs if isinstance(d.meta, TeamProfileMeta)]
    bad = team_problems(teams, skills, corpus_hosts(docs))
    errors.extend(CorpusError(path, fld, msg) for path, fld, msg in bad)
    rejected = {path for path, _, _ in bad}
    return Corpus(tuple(d for d in docs if d.path not in rejected), tuple(errors), table)


def corpus_hosts(docs: Iterable[CorpusDoc]) -> set[str]:
    """Hosts of the public documentation the role profiles and case studies link to."""
    hosts: set[str] = set()
    for d in docs:
        if isinstance(d.meta, TeamProfileMeta):
            continue
        urls = URL_RE.findall(d.body)
        if isinstance(d.meta, RoleProfileMeta):
            urls += [r.url for r in d.meta.resources if r.url]
        hosts.update(h for h in (urlparse(u.rstrip(").,;")).hostname for u in urls) if h)
    return hosts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check":
        print("usage: python -m tailor.corpus.documents check [DIR]", file=sys.stderr)
        return 2
    root = Path(args[1]) if len(args) > 1 else Path("corpus")
    corpus = load_corpus(root)
    for err in corpus.errors:
        print(f"ERROR {err}", file=sys.stderr)
    print(f"{len(corpus.docs)} valid documents, {len(corpus.errors)} errors")
    return 1 if corpus.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
