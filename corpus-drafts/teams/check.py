"""Validate the draft team profiles (kind: team_profile) in this folder.

Run:  .venv/bin/python corpus-drafts/teams/check.py [TEAMS_DIR] [--corpus CORPUS_DIR]

What it checks, in this order, for every ``team-*.md`` file:

1. The front matter parses with python-frontmatter and validates against ``TeamProfileMeta``
   (the pydantic model below, which is the one SCHEMA.md describes field by field).
2. Cross-document rules a single-document model cannot see: the id equals the file name,
   every skill name is in the corpus skill vocabulary (the union of ``skills_vocabulary`` in
   the front matter of ``corpus/roles/*.md``), every URL's host is a host the corpus already
   uses or the declared company domain, channel URLs have the canonical form, and people
   and starter-task ids are unique across all teams.
3. The narrative tells what the front matter says ("two readers, one story", as
   ``tests/test_corpus_docs.py`` does for role profiles): every person, buddy and mentor,
   service, project, pain point (title and every number in its description), starter task,
   ritual (name with its day, cadence and time in one paragraph), on-call fact and resource.

Exit code 0 when every file passes, 1 otherwise. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import frontmatter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "corpus"

# The corpus has no host of its own for internal links: every URL in corpus/roles and
# corpus/case-studies is public documentation (postgresql.org, react.dev, ...), and internal
# resources there carry a note ("Internal; ...") and no URL. Team profiles need internal links
# (runbooks, dashboards, channels, repos), so they use one declared company domain under the
# reserved .example TLD (RFC 2606), which can never belong to a real company. Change it here
# and in SCHEMA.md together if the project picks another.
COMPANY_DOMAIN = "northwind.example"
CHANNEL_URL = "https://chat." + COMPANY_DOMAIN + "/channels/{name}"

# --------------------------------------------------------------------------- vocabularies
# Copied from tailor/corpus.py so this script does not import the package being restructured.
Seniority = Literal["intern", "junior", "mid", "senior", "staff", "principal", "manager", "director"]
RoleFamily = Literal[
    "backend", "frontend", "fullstack", "mobile", "data", "ml", "platform", "qa", "security", "management"
]
Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
Cadence = Literal["daily", "weekly", "biweekly", "monthly", "quarterly"]

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
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

    @model_validator(mode="after")
    def _support_levels(self) -> Member:
        if self.buddy and self.seniority not in BUDDY_LEVELS:
            raise ValueError(f"buddy: a {self.seniority} cannot be a buddy (needs one of {sorted(BUDDY_LEVELS)})")
        if self.mentor and self.seniority not in MENTOR_LEVELS:
            raise ValueError(f"mentor: a {self.seniority} cannot be a mentor (needs one of {sorted(MENTOR_LEVELS)})")
        _unique(self.knows, "skill")
        return self


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
        people = [self.manager.name] + [m.name for m in self.members]
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


# --------------------------------------------------------------------------- corpus facts
def skill_vocabulary(corpus: Path) -> tuple[dict[str, str], list[Path]]:
    """Canonical skill spellings from the role profiles' front matter (lowercase -> canonical)."""
    vocab: dict[str, str] = {}
    paths = sorted((corpus / "roles").glob("*.md"))
    for p in paths:
        skills = frontmatter.load(p).metadata.get("skills_vocabulary") or []
        if not isinstance(skills, list):
            raise SystemExit(f"{p}: skills_vocabulary is not a list")
        for s in skills:
            vocab.setdefault(str(s).lower(), str(s))
    return vocab, paths


URL_RE = re.compile(r"https?://[^\s)>\]\"']+")


def corpus_hosts(corpus: Path) -> set[str]:
    """Hosts of every URL in corpus/roles and corpus/case-studies, front matter and body."""
    hosts: set[str] = set()
    for p in sorted(corpus.rglob("*.md")):
        for url in URL_RE.findall(p.read_text(encoding="utf-8")):
            host = urlparse(url.rstrip(").,;")).hostname
            if host:
                hosts.add(host)
    return hosts


def host_allowed(url: str, hosts: set[str]) -> bool:
    host = urlparse(url).hostname or ""
    return host in hosts or host == COMPANY_DOMAIN or host.endswith("." + COMPANY_DOMAIN)


# --------------------------------------------------------------------------- narrative checks
def _norm(s: str) -> str:
    """The normalisation tests/test_corpus_docs.py uses: lowercase, Markdown emphasis and runs of space folded."""
    return re.sub(r"[\s*_`]+", " ", s.lower())


def _paragraphs(body: str) -> list[str]:
    return [_norm(p) for p in re.split(r"\n\s*\n", body) if p.strip()]


NUMBER_WORDS = {0: "no", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
CADENCE_WORDS: dict[str, tuple[str, ...]] = {
    "daily": ("daily", "every weekday", "every morning", "each weekday"),
    "weekly": ("weekly", "every {day}", "each {day}"),
    "biweekly": ("biweekly", "every other {day}", "every second {day}", "fortnightly"),
    "monthly": ("monthly", "of the month", "every month"),
    "quarterly": ("quarterly", "every quarter", "each quarter"),
}
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def narrative_problems(meta: TeamProfileMeta, body: str) -> list[str]:
    text = _norm(body)
    paras = _paragraphs(body)
    problems: list[str] = []

    def told(phrase: str) -> bool:
        return _norm(phrase) in text

    def together(*phrases: str) -> bool:
        ps = [_norm(p) for p in phrases]
        return any(all(p in para for p in ps) for para in paras)

    def need(phrase: str, where: str) -> None:
        if not told(phrase):
            problems.append(f"{where}: the narrative never says {phrase!r}")

    need(meta.team, "team")
    need(meta.manager.name, "manager.name")
    for i, m in enumerate(meta.members):
        need(m.name, f"members.{i}.name")
        # the full name and the support word in one paragraph ("budd" matches buddy and buddies)
        if m.buddy and not together(m.name, "budd"):
            problems.append(f"members.{i}.buddy: no paragraph names {m.name} together with 'buddy'")
        if m.mentor and not together(m.name, "mentor"):
            problems.append(f"members.{i}.mentor: no paragraph names {m.name} together with 'mentor'")
    for i, s in enumerate(meta.services):
        need(s.name, f"services.{i}.name")
    for i, pr in enumerate(meta.current_projects):
        need(pr.name, f"current_projects.{i}.name")
    for i, pp in enumerate(meta.pain_points):
        need(pp.title, f"pain_points.{i}.title")
        for n in _NUMBER.findall(pp.description):
            if n not in body:
                problems.append(f"pain_points.{i}.description: the number {n!r} is not in the narrative")
    for i, t in enumerate(meta.starter_tasks):
        need(t.title, f"starter_tasks.{i}.title")
    for i, r in enumerate(meta.rituals):
        need(r.name, f"rituals.{i}.name")
        day = "" if r.day == "weekdays" else r.day
        cadence_options = [w.format(day=r.day.lower()) for w in CADENCE_WORDS[r.cadence]]
        if not any(together(r.name, r.time, day, c) for c in cadence_options):
            problems.append(
                f"rituals.{i}: no paragraph gives {r.name!r} with its time {r.time}"
                + (f", day {r.day}" if day else "")
                + f" and cadence {r.cadence}"
            )
    oc = meta.on_call
    if oc is not None:
        need(oc.name, "on_call.name")
        need(oc.paging_tool, "on_call.paging_tool")
        if not re.search(rf"\bweek {oc.earliest_week}\b", text):
            problems.append(f"on_call.earliest_week: the narrative never says 'week {oc.earliest_week}'")
        n = oc.rotation_length_days
        lengths = [f"{n}-day", f"{n} days", f"{n} day"]
        if n == 7:
            lengths += ["one week", "a week", "one-week", "week-long"]
        if n == 14:
            lengths += ["two weeks", "two-week", "fortnight"]
        if not any(told(x) for x in lengths):
            problems.append(f"on_call.rotation_length_days: the narrative never gives the {n}-day rotation length")
        word = NUMBER_WORDS.get(oc.shadow_shifts, str(oc.shadow_shifts))
        if not re.search(rf"\b({oc.shadow_shifts}|{word}) shadow shifts?\b", text):
            problems.append(f"on_call.shadow_shifts: the narrative never says '{word} shadow shift(s)'")
        if not re.search(rf"\b{oc.ack_minutes} minutes\b", text):
            problems.append(f"on_call.ack_minutes: the narrative never says '{oc.ack_minutes} minutes'")
        if not together(oc.handover.day, oc.handover.time):
            problems.append(f"on_call.handover: no paragraph gives {oc.handover.day} {oc.handover.time}")
        for j, step in enumerate(oc.escalation):
            need(step, f"on_call.escalation.{j}")
    for i, res in enumerate(meta.resources):
        need(res.title, f"resources.{i}.title")
    return problems


# --------------------------------------------------------------------------- driver
def _field_of(err: ValidationError) -> str:
    first = err.errors()[0]
    return (".".join(str(p) for p in first["loc"]) or "(front matter)") + ": " + first["msg"]


def check(teams_dir: Path, corpus: Path) -> int:
    vocab, vocab_paths = skill_vocabulary(corpus)
    hosts = corpus_hosts(corpus)
    print(f"skill vocabulary: {len(vocab)} names, the union of 'skills_vocabulary' in the front matter of")
    for p in vocab_paths:
        print(f"  {p}")
    print("  matching is exact on the canonical spelling (a case-only difference is reported as an error)")
    print(f"corpus URL hosts ({len(hosts)}): {', '.join(sorted(hosts))}")
    print(f"declared company domain for internal links: {COMPANY_DOMAIN} (the corpus has no internal host)")
    print()

    files = sorted(teams_dir.glob("team-*.md"))
    if not files:
        print(f"no team-*.md files in {teams_dir}")
        return 1
    failures = 0
    seen_people: dict[str, str] = {}
    seen_tasks: dict[str, str] = {}
    used_skills: dict[str, int] = {}
    for path in files:
        errors: list[str] = []
        post = frontmatter.load(path)
        try:
            meta = TeamProfileMeta.model_validate(dict(post.metadata))
        except ValidationError as exc:
            print(f"FAIL {path.name}: {_field_of(exc)}")
            failures += 1
            continue
        body = post.content
        if meta.id != path.stem:
            errors.append(f"id: {meta.id!r} does not match the file name {path.stem!r}")
        for where, skill in meta.skill_fields():
            if skill in vocab.values():
                used_skills[skill] = used_skills.get(skill, 0) + 1
            elif skill.lower() in vocab:
                errors.append(f"{where}: {skill!r} is spelled {vocab[skill.lower()]!r} in the vocabulary")
            else:
                errors.append(f"{where}: {skill!r} is not in the corpus skill vocabulary")
        stackish = set(meta.stack) | {s for sv in meta.services for s in sv.skills}
        for i, m in enumerate(meta.members):
            if not set(m.knows) & stackish:
                errors.append(f"members.{i}.knows: nothing {m.name} knows is in the team's stack or services")
        for i, res in enumerate(meta.resources):
            if not host_allowed(res.url, hosts):
                errors.append(f"resources.{i}.url: host of {res.url} is neither a corpus host nor {COMPANY_DOMAIN}")
            if res.kind == "channel" and res.url != CHANNEL_URL.format(name=res.title[1:]):
                errors.append(f"resources.{i}.url: a channel's url is {CHANNEL_URL.format(name=res.title[1:])}")
        for url in URL_RE.findall(body):
            if not host_allowed(url.rstrip(").,;"), hosts):
                errors.append(f"(body): URL {url} is on a host the corpus does not use")
        for person in [meta.manager.name] + [m.name for m in meta.members]:
            if person in seen_people and seen_people[person] != meta.id:
                errors.append(f"{person!r} is also listed in {seen_people[person]}")
            seen_people[person] = meta.id
        for t in meta.starter_tasks:
            if t.id in seen_tasks:
                errors.append(f"starter task id {t.id!r} is also used in {seen_tasks[t.id]}")
            seen_tasks[t.id] = meta.id
        errors += narrative_problems(meta, body)
        words = len(re.findall(r"\b\w[\w'’-]*\b", body))
        if not 600 <= words <= 1100:
            errors.append(f"(body): {words} words; aim for 600-1000")
        if errors:
            failures += 1
            print(f"FAIL {path.name}")
            for e in errors:
                print(f"  {e}")
        else:
            print(
                f"ok   {path.name}: {meta.team}; roles {','.join(meta.roles)}; {len(meta.members)} members; "
                f"{len(meta.starter_tasks)} starter tasks; {len(meta.rituals)} rituals; {words} words"
            )
    print()
    print(f"{len(used_skills)} distinct skill names used: {', '.join(sorted(used_skills, key=str.lower))}")
    print(f"{len(files) - failures} of {len(files)} team profiles pass")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("teams_dir", nargs="?", type=Path, default=HERE)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args(argv)
    return check(args.teams_dir, args.corpus)


if __name__ == "__main__":
    sys.exit(main())
