"""Hand-built teams and plans for the tailoring tests (test_tailoring.py, test_pairs.py).

``team_meta()``    a small team profile (manager Grace, members Kofi, Ines and Tom, widgets-api).
``team_corpus()``  the small corpus of ``tests/fixtures/plans.py`` plus two such teams, with an alias.
``with_tasks()``   a junior backend plan whose tasks after day 1 are exactly the ones given.
``generic()``      tasks any plan could have.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tailor.corpus.documents import Corpus, CorpusDoc
from tailor.corpus.skills import SkillTable
from tailor.corpus.teams import TeamProfileMeta
from tailor.schema import Fit, Phase, Plan, Task
from tests.fixtures.plans import good_plan, small_corpus, task

TEAM = "team-widgets"
RUNBOOK_URL = "https://handbook.northwind.example/runbooks/widgets"


def team_meta(team_id: str = TEAM, name: str = "Widgets squad") -> TeamProfileMeta:
    """A small team: manager Grace, members Kofi, Ines and Tom; widgets-api; a "Stand-up" like every squad."""
    person = {"role_family": "backend", "buddy": False, "mentor": False, "why_meet": "Knows the code."}
    prefix = team_id.removeprefix("team-")
    return TeamProfileMeta.model_validate(
        {
            "id": team_id,
            "kind": "team_profile",
            "title": name,
            "team": name,
            "mission": "Ship widgets.",
            "roles": ["backend"],
            "timezone": "Europe/Amsterdam",
            "manager": {"name": f"Grace {prefix.title()}", "role": "Engineering Manager", "why_meet": "Check-ins."},
            "members": [
                {**person, "name": f"Kofi {prefix.title()}", "role": "Senior Backend Engineer", "seniority": "senior",
                 "knows": ["Kafka"], "mentor": True},
                {**person, "name": f"Ines {prefix.title()}", "role": "Backend Engineer", "seniority": "mid",
                 "knows": ["PostgreSQL"], "buddy": True},
                {**person, "name": f"Tom {prefix.title()}", "role": "Junior Backend Engineer", "seniority": "junior",
                 "knows": ["Python"]},
            ],
            "stack": ["Python", "PostgreSQL", "Kafka"],
            "services": [{"name": f"{prefix}-api", "description": "The API.", "skills": ["Python"]}],
            "current_projects": [{"name": f"{prefix.title()} sharding", "description": "Split the table."}],
            "pain_points": [{"title": f"Slow {prefix} search", "description": "p95 is 2 s."}],
            "starter_tasks": [
                {"id": f"{prefix}-count-test", "title": f"Add a count test to {prefix} search",
                 "description": "Count queries.", "skills": ["PostgreSQL"], "size": "S", "stretch": False},
                {"id": f"{prefix}-cache", "title": f"Cache {prefix} lookups", "description": "Use Redis.",
                 "skills": ["Redis"], "size": "M", "stretch": False},
                {"id": f"{prefix}-events", "title": f"Publish {prefix} events", "description": "Through Kafka.",
                 "skills": ["Kafka"], "size": "M", "stretch": True},
            ],
            "rituals": [
                {"name": "Stand-up", "day": "weekdays", "cadence": "daily", "time": "09:30",
                 "duration_minutes": 15, "purpose": "Blockers."},
                {"name": f"{prefix.title()} review", "day": "Thursday", "cadence": "weekly", "time": "14:00",
                 "duration_minutes": 30, "purpose": "Designs."},
            ],
            "resources": [
                {"title": f"{prefix.title()} runbook", "kind": "runbook",
                 "url": f"https://handbook.northwind.example/runbooks/{prefix}"},
                {"title": f"{prefix.title()} dashboard", "kind": "dashboard",
                 "url": f"https://grafana.northwind.example/d/{prefix}"},
                {"title": f"#{prefix}", "kind": "channel", "url": f"https://chat.northwind.example/channels/{prefix}"},
                {"title": f"{prefix} repo", "kind": "repo", "url": f"https://git.northwind.example/{prefix}"},
                # the role profile of the small corpus lists a "Handbook" too: not the team's own
                {"title": "Handbook", "kind": "doc", "url": f"https://handbook.northwind.example/{prefix}"},
            ],
        }
    )  # fmt: skip


def team_corpus() -> Corpus:
    """The small corpus plus two teams, and "Postgres" as an alias of PostgreSQL."""
    docs = list(small_corpus().docs)
    for meta in (team_meta(), team_meta("team-gadgets", "Gadgets squad")):
        body = f"The {meta.team}."
        docs.append(CorpusDoc(Path(f"{meta.id}.md"), meta, body, hashlib.sha256(body.encode()).hexdigest()))
    return Corpus(tuple(docs), (), SkillTable(aliases={"PostgreSQL": ("Postgres",)}))


def with_tasks(*tasks: Task, fit: Fit | None = None) -> Plan:
    """A junior backend plan whose tasks after day 1 are exactly ``tasks`` (one set-up task before day 1)."""
    plan = good_plan()
    plan.phases = [
        Phase(name="Before day 1", start_week=0, end_week=0, tasks=[task("accounts", 0, "Set up accounts")]),
        Phase(name="Days 1-90", start_week=1, end_week=13, tasks=list(tasks)),
    ]
    if fit is not None:
        plan.fit = fit
    return plan


def generic(n: int) -> list[Task]:
    return [task(f"generic-{i}", 2, "Read the team handbook", "A generic onboarding step.") for i in range(n)]
