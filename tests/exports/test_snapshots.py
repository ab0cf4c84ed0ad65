"""Snapshots of the Markdown and CSV exports of one fixed plan, compared byte for byte.

The plan, the context and the dates are fixed here (not taken from shared fixtures), so a
snapshot changes only when an export does. The Markdown is what HR sends and the CSV is what
Jira and Linear import: a change to either should be seen in review, line by line. The approved
files carry no review notes; the Markdown of the plan in review shows its open flags grouped, in
words for people, and never their technical detail.

To accept an intended change, regenerate the files and review the diff:

    TAILOR_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/exports/test_snapshots.py
    git diff tests/exports/snapshots/
"""

from __future__ import annotations

import difflib
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tailor.exports import ExportContext, render
from tailor.review.flags import task_reason
from tailor.schema import Plan

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TAILOR_UPDATE_SNAPSHOTS") == "1"
ROLE, CASE, TEAM = "backend-engineer", "case-senior-peer-network", "team-orders"


def _task(tid: str, title: str, week: int, owner: str = "hire", **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "title": title,
        "description": f"{title}, with the team's usual tools.",
        "owner": owner,
        "due_week": week,
        "success_criteria": f"The manager agrees that '{title}' is done.",
        "sources": [ROLE],
        **extra,
    }


def fixed_plan() -> Plan:
    """Every section an export prints: a week-0 task, a tailored task, flags (a note, a profile
    flag, two tasks the model could not reach, with the error as detail), a risk for review, the
    fit section with a team, and named owners and people (one of each left unnamed)."""
    data: dict[str, Any] = {
        "hire": {
            "name": "Zoë Łukasiewicz",
            "role": "Senior Backend Engineer",
            "role_family": "backend",
            "seniority": "senior",
            "years_experience": 8,
            "skills": ["Go", "PostgreSQL"],
            "summary": "A payments backend engineer moving to the platform team.",
            "situation": "standard",
            "start_date": date(2026, 3, 2).isoformat(),  # a Monday
        },
        "summary": "Own the billing API by day 90, starting from a first change in week 1.",
        "rationale": "Peer network support, first pull request by day 5, on-call from week 6.",
        "focus_areas": ["API design", "Query performance"],
        "support": {"model": "peer_network", "who": "The platform team's senior engineers", "note": "Weekly pairing"},
        "targets": {
            "first_commit_day": 3,
            "first_pr_day": 5,
            "full_productivity_week": 8,
            "on_call_week": 6,
            "first_leadership_week": 10,
        },
        "phases": [
            {"name": "Before day 1", "start_week": 0, "end_week": 0, "goals": ["Access ready"], "tasks": [
                _task("laptop-and-access", "Laptop and access ready", 0, owner="it"),
            ]},
            {"name": "Days 1-30: Foundation", "start_week": 1, "end_week": 4, "goals": ["First PR merged"], "tasks": [
                _task("land-your-first-commit", "Land your first commit", 1, sources=[CASE, ROLE],
                      owner_name="Kenji Watanabe", needs_review=True, review_reason=task_reason("model_unavailable")),
                _task("pair-with-your-peer", "Pair with your peer on the orders list", 2, owner="team",
                      owner_name="Sofia Lindqvist", sources=[TEAM]),
                _task("tune-a-slow-query", "Tune a slow PostgreSQL query", 3, skills=["PostgreSQL"], tailored=True),
            ]},
            {"name": "Days 31-60: Integration", "start_week": 5, "end_week": 8, "goals": [], "tasks": [
                _task("learn-the-outbox", "Walk through the transactional outbox", 5, owner="mentor",
                      owner_name="Folake Adeyemi", sources=[TEAM]),
                _task("join-the-on-call-rotation", "Join the on-call rotation", 6, needs_review=True,
                      review_reason="Check the rotation has a free slot in week 6."),
            ]},
            {"name": "Days 61-90: Ownership", "start_week": 9, "end_week": 13, "goals": ["Owns the billing API"],
             "tasks": [_task("take-ownership-of-the-billing-api", "Take ownership of the billing API", 12,
                             needs_review=True, review_reason=task_reason("model_unavailable"))]},
        ],
        "relationships": [
            {"role": "Product Manager", "purpose": "Roadmap and priorities.", "meet_by_week": 1, "cadence": "weekly",
             "source": ROLE},
            {"role": "Staff Backend Engineer", "name": "Folake Adeyemi", "purpose": "Owns the outbox relay.",
             "meet_by_week": 2, "cadence": "at the design review", "source": TEAM},
        ],
        "capabilities": [
            {"name": "API design", "target_level": "advanced", "plan": "Review two API changes with a peer.",
             "source": ROLE},
        ],
        "check_ins": [
            {"week": 1, "with": "manager", "focus": "Settling in, access and first tasks"},
            {"week": 4, "with": "manager", "focus": "30-day review: first PR merged"},
        ],
        "risks": [
            {"risk": "Taking on-call before knowing the services.", "mitigation": "Shadow one shift first.",
             "needs_review": True, "review_reason": "The team's rotation may be full."},
        ],
        "sources": [
            {"id": ROLE, "title": "Backend Engineer", "kind": "role_profile", "score": 0.9,
             "sections": ["Responsibilities"]},
            {"id": CASE, "title": "A senior joins a peer network", "kind": "case_study", "score": 0.0},
            {"id": TEAM, "title": "Orders squad", "kind": "team_profile", "score": 1.0},
        ],
        "fit": {
            "team": {"id": TEAM, "name": "Orders squad", "manager": "Aylin Demir", "timezone": "Europe/Amsterdam"},
            "strengths": [{"skill": "PostgreSQL", "needed_for": ["orders-api", "N+1 queries on the orders list"]}],
            "gaps": [
                {"skill": "transactional outbox", "needed_for": ["invoicing-service"], "resource": "Invoicing runbook",
                 "resource_url": "https://handbook.northwind.example/runbooks/invoicing-service",
                 "contact": "Folake Adeyemi", "contact_role": "Staff Backend Engineer",
                 "task_id": "learn-the-outbox", "source": TEAM},
            ],
            "skipped": [{"title": "Git and pull request basics", "reason": "Eight years of code review.",
                         "source": CASE}],
        },
        "review_flags": [
            {"field": "hire.seniority", "reason": "Confirm the level."},
            {"field": "tasks", "kind": "model_unavailable", "reason": "The model was not reachable.",
             "detail": "model call to snapshot/model failed (connection): [Errno 111] Connection refused"},
        ],
        "provenance": {"model": "snapshot/model", "prompt_version": "v1", "corpus_hash": "0" * 12,
                       "engine_version": "snapshot"},
    }  # fmt: skip
    return Plan.model_validate(data)


CONTEXT = ExportContext(
    plan_id=42,
    status="approved",
    revision=3,
    current_revision=3,
    manager="Maria Manager",
    reviewer="Hana HR",
    approved_by="Hana HR",
    approved_at=datetime(2026, 2, 20, 15, 30, tzinfo=UTC),
    generated_at=datetime(2026, 2, 21, 9, 0, tzinfo=UTC),
)


IN_REVIEW = CONTEXT.model_copy(update={"status": "in_review", "approved_by": None, "approved_at": None})


@pytest.mark.parametrize(
    ("fmt", "snapshot", "context"),
    [
        ("markdown", "plan.md", CONTEXT),  # approved: no review notes at all
        ("csv", "plan.csv", CONTEXT),
        ("markdown", "plan-in-review.md", IN_REVIEW),  # in review: the open flags, grouped, in words for people
    ],
)
def test_export_matches_its_snapshot(fmt: str, snapshot: str, context: ExportContext) -> None:
    result = render(fixed_plan(), context, fmt)
    assert result.filename == f"onboarding-plan-42-zoe-lukasiewicz-r3.{snapshot.split('.')[1]}"
    path = SNAPSHOTS / snapshot
    if UPDATE:
        path.write_bytes(result.content)
        return
    assert path.exists(), f"no snapshot {path}: run TAILOR_UPDATE_SNAPSHOTS=1 .venv/bin/pytest {__file__}"
    expected = path.read_bytes()
    if result.content != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.decode("utf-8").splitlines(keepends=True),
                result.content.decode("utf-8").splitlines(keepends=True),
                f"{snapshot} (snapshot)",
                f"{snapshot} (now)",
            )
        )
        pytest.fail(
            f"the {fmt} export changed:\n{diff or '(only line endings or a byte-order mark differ)'}\n"
            f"If the change is intended: TAILOR_UPDATE_SNAPSHOTS=1 .venv/bin/pytest {__file__}, "
            "then review git diff tests/exports/snapshots/.",
            pytrace=False,
        )
