"""The "Why this plan" block and the named owners in every export, on a plan for a hire joining the Orders squad.

Each format is read back by a real reader (pypdf, csv, icalendar, pydantic) and checked for the
words a manager or HR reads: the team, strengths, gaps with their resource, contact and closing
task, skipped basics with the reason, and the people's names next to their roles.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from tailor.exports import render
from tailor.exports.fit_text import (
    NO_CLOSING_TASK,
    NO_TEAM,
    NO_TEAM_ROLE_ONLY,
    check_in_with,
    owner_text,
    person_text,
    web_url,
    why_this_plan,
)
from tailor.schema import CheckIn, Fit, Plan
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import export_context
from tests.fixtures.plans import EXPLAIN_URL, INVOICING_RUNBOOK_URL, team_plan

CTX = export_context()


def markdown(plan: Plan) -> str:
    return render(plan, CTX, "markdown").content.decode()


def section(text: str, heading: str) -> str:
    """One ``## heading`` section, up to the next ``## `` (without the blank line that ends it)."""
    lines = text.splitlines()
    start = lines.index(f"## {heading}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def without_team(plan: Plan) -> Plan:
    plan = plan.model_copy(deep=True)
    plan.fit = plan.fit.model_copy(update={"team": None})
    return plan


# --------------------------------------------------------------------------- the words
def test_owners_and_people_read_as_names_with_roles() -> None:
    tasks = {t.id: t for t in team_plan().all_tasks()}
    assert owner_text(tasks["mentor-pairing"]) == "mentor (Kenji Watanabe)"
    assert owner_text(tasks["local-setup"]) == "team (Yusuf Kaya)"
    # The hire owns it and a colleague leads it with them: not "hire (Kenji Watanabe)".
    assert owner_text(tasks["orders-n-plus-one"]) == "hire, with Kenji Watanabe"
    assert owner_text(tasks["accounts"]) == "it"
    assert person_text("Backend Engineer", "Diego Salazar") == "Diego Salazar (Backend Engineer)"
    assert person_text("Product Manager", None) == "the Product Manager"
    assert (
        person_text("Staff Backend Engineer (peer)", "Folake Adeyemi")
        == "Folake Adeyemi, Staff Backend Engineer (peer)"
    )


def test_a_check_in_with_the_manager_names_the_teams_manager_once() -> None:
    plan = team_plan()
    named = CheckIn.model_validate({"week": 2, "with": "Aylin Demir, manager", "focus": "x"})
    peer = CheckIn.model_validate({"week": 2, "with": "Kenji Watanabe", "focus": "x"})
    assert check_in_with(plan, plan.check_ins[0]) == "manager (Aylin Demir)"
    assert check_in_with(plan, named) == "Aylin Demir, manager"
    assert check_in_with(plan, peer) == "Kenji Watanabe"
    assert check_in_with(without_team(plan), plan.check_ins[0]) == "manager"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (EXPLAIN_URL, EXPLAIN_URL),
        ("  https://handbook.northwind.example/x  ", "https://handbook.northwind.example/x"),
        ("javascript:alert(1)", None),
        ("https://evil.example/a)[b](javascript:x", None),
        ("ftp://files.example/x", None),
        (None, None),
    ],
)
def test_only_plain_web_addresses_become_links(url: str | None, shown: str | None) -> None:
    assert web_url(url) == shown


def test_a_gap_without_its_task_or_link_says_so_and_prints_no_none() -> None:
    plan = team_plan()
    gaps = [
        plan.fit.gaps[0].model_copy(update={"task_id": "removed-in-review", "resource_url": "javascript:alert(1)"}),
        plan.fit.gaps[1].model_copy(update={"resource": None, "contact": None, "task_id": None}),
    ]
    plan.fit = plan.fit.model_copy(update={"gaps": gaps})
    first, second = why_this_plan(plan).gaps
    assert [(d.label, d.plain) for d in first.details] == [
        ("Learn from", "PostgreSQL documentation: Using EXPLAIN"),
        ("Ask", "Kenji Watanabe (Senior Backend Engineer)"),
        ("Closed by", NO_CLOSING_TASK),
        ("Source", "Orders squad (team-orders)"),
    ]
    assert [(d.label, d.plain) for d in second.details] == [
        ("Learn from", INVOICING_RUNBOOK_URL),
        ("Ask", "the Staff Backend Engineer"),
        ("Closed by", NO_CLOSING_TASK),
        ("Source", "Orders squad (team-orders)"),
    ]
    text = section(markdown(plan), "Why this plan")
    assert "None" not in text and "javascript" not in text and "task_id" not in text


# --------------------------------------------------------------------------- markdown
def test_markdown_shows_why_this_plan_after_the_overview() -> None:
    text = markdown(team_plan())
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[:3] == ["## Overview", "## Why this plan", "## Before day 1 (weeks 0-0)"]
    assert section(text, "Why this plan").splitlines() == [
        "## Why this plan",
        "",
        "A mid-level hire with a mentor: strong in Python and PostgreSQL, new to SQLAlchemy and the outbox.",
        "",
        "**Team**: Orders squad, managed by Aylin Demir, in the Europe/Amsterdam time zone",
        "",
        "### Strengths to use",
        "",
        "- **PostgreSQL**: needed for orders-api and N+1 queries on the orders list",
        "- **pytest**: needed for Add a query-count test to the orders list",
        "",
        "### Gaps to close",
        "",
        "- **SQLAlchemy**: needed for orders-api and N+1 queries on the orders list",
        f"  - Learn from: PostgreSQL documentation: Using EXPLAIN - {EXPLAIN_URL}",
        "  - Ask: Kenji Watanabe (Senior Backend Engineer)",
        "  - Closed by: Learn SQLAlchemy loading strategies on the orders list, due Fri 13 Mar 2026 (week 2)",
        "  - Source: Orders squad (team-orders)",
        "- **transactional outbox**: needed for invoicing-service, orders-outbox-relay and Partial shipments",
        f"  - Learn from: Invoicing runbook - {INVOICING_RUNBOOK_URL}",
        "  - Ask: Folake Adeyemi (Staff Backend Engineer)",
        "  - Closed by: Walk through the transactional outbox with Folake, due Fri 27 Mar 2026 (week 4)",
        "  - Source: Orders squad (team-orders)",
        "",
        "### Basics skipped",
        "",
        "- **Git and pull request basics**: Four years of pull requests and code review; "
        "the mid-level policy skips junior tutorials.",
        "  - Source: Mid-level hire (case-mid-level-hire)",
    ]
    # The rationale is said once, in its section, not again in the overview.
    assert text.count(team_plan().rationale) == 1


def test_markdown_names_the_owners_the_people_and_the_manager() -> None:
    text = markdown(team_plan())
    assert (
        "- [ ] **Weekly pairing with your mentor** (owner: mentor (Kenji Watanabe); due Fri 13 Mar 2026 (week 2))"
        in text
    )
    assert "- [ ] **Run orders-api locally with Yusuf** (owner: team (Yusuf Kaya); due Fri 6 Mar 2026 (week 1))" in text
    assert "**Remove the N+1 queries behind GET /v4/orders** (owner: hire, with Kenji Watanabe; due" in text
    assert "- [ ] **Own the partial-shipments invoices end to end** (owner: hire; due" in text
    people = section(text, "Relationship Building")
    assert "- [ ] **Meet Aylin Demir (Engineering Manager)**" in people
    assert "- [ ] **Meet Folake Adeyemi (Staff Backend Engineer)**" in people
    assert "- [ ] **Meet the Product Manager**" in people
    assert "- [ ] **Fri 27 Mar 2026 (week 4)** with manager (Aylin Demir): 30-day review" in text
    assert "- **Orders squad** (team-orders, team profile)" in text


def test_markdown_without_a_team_still_shows_the_fit() -> None:
    block = section(markdown(without_team(team_plan())), "Why this plan")
    assert "**Team**" not in block and "Aylin Demir" not in block
    assert f"*{NO_TEAM_ROLE_ONLY}*" in block
    assert "### Strengths to use" in block and "### Gaps to close" in block and "### Basics skipped" in block


def test_markdown_with_an_empty_fit_says_only_that_no_team_was_chosen() -> None:
    plan = make_plan()
    assert plan.fit == Fit()
    assert section(markdown(plan), "Why this plan").splitlines() == [
        "## Why this plan",
        "",
        plan.rationale,
        "",
        f"*{NO_TEAM}*",
    ]


def test_markdown_shows_only_the_parts_a_fit_has() -> None:
    plan = team_plan()
    plan.fit = plan.fit.model_copy(update={"strengths": [], "skipped": []})
    block = section(markdown(plan), "Why this plan")
    assert "**Team**: Orders squad" in block and "### Gaps to close" in block
    assert "Strengths to use" not in block and "Basics skipped" not in block and "No team" not in block


# --------------------------------------------------------------------------- pdf
def test_pdf_shows_why_this_plan_and_the_named_owners() -> None:
    content = render(team_plan(), CTX, "pdf").content
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    block = text[text.index("Why this plan") : text.index("Before day 1 (weeks 0-0)")]
    for words in (
        "Team: Orders squad, managed by Aylin Demir, in the Europe/Amsterdam time zone",
        "Strengths to use",
        "PostgreSQL Needed for orders-api and N+1 queries on the orders list",
        "Gaps to close",
        "Learn from: Invoicing runbook - https://handbook.northwind.example/runbooks/invoicing-service",
        "Ask: Folake Adeyemi (Staff Backend Engineer)",
        "Closed by: Walk through the transactional outbox with Folake, due Fri 27 Mar 2026 (week 4)",
        "Basics skipped",
        "Git and pull request basics Four years of pull requests and code review",
    ):
        assert words in block, words
    assert "owner: mentor (Kenji Watanabe)" in text
    assert "owner: hire, with Folake Adeyemi" in text
    assert "Meet Kenji Watanabe (Senior Backend Engineer) - within Fri 6 Mar 2026 (week 1)" in text
    assert "with manager (Aylin Demir): 60-day review" in text
    assert "None" not in text


# --------------------------------------------------------------------------- csv
def test_csv_carries_the_named_owner_in_its_own_column_and_the_description() -> None:
    content = render(team_plan(), CTX, "csv").content.decode("utf-8-sig")
    rows = {r["Summary"]: r for r in csv.DictReader(io.StringIO(content))}
    pairing = rows["Weekly pairing with your mentor"]
    assert (pairing["Assignee Role"], pairing["Owner Name"]) == ("mentor", "Kenji Watanabe")
    assert "Owner: mentor (Kenji Watanabe)" in pairing["Description"].splitlines()
    n_plus_one = rows["Remove the N+1 queries behind GET /v4/orders"]
    assert (n_plus_one["Assignee Role"], n_plus_one["Owner Name"]) == ("hire", "Kenji Watanabe")
    # A task nobody is named for: an empty cell and no owner line, not "None".
    unnamed = rows["Own the partial-shipments invoices end to end"]
    assert unnamed["Owner Name"] == ""
    assert not any(line.startswith("Owner:") for line in unnamed["Description"].splitlines())
    assert "None" not in content
    # Names never go into labels: Jira labels are slugs for filtering, not people.
    assert all("kenji" not in r["Labels"] for r in rows.values())


# --------------------------------------------------------------------------- ics
def test_calendar_events_name_the_manager_and_the_people_to_meet() -> None:
    cal = Calendar.from_ical(render(team_plan(), CTX, "ics").content)
    events = {str(e["uid"]).split("-plan-7-")[1].split("@")[0]: e for e in cal.walk("VEVENT")}
    intro = {k: e for k, e in events.items() if k.startswith("intro-")}
    assert [str(e["summary"]) for e in intro.values()] == [
        "Onboarding introduction (week 1): Amara Okafor meets Aylin Demir (Engineering Manager)",
        "Onboarding introduction (week 1): Amara Okafor meets Kenji Watanabe (Senior Backend Engineer)",
        "Onboarding introduction (week 2): Amara Okafor meets Folake Adeyemi (Staff Backend Engineer)",
        "Onboarding introduction (week 2): Amara Okafor meets the Product Manager",
    ]
    kenji = intro["intro-2"]
    assert kenji.decoded("dtstart") == date(2026, 3, 6)
    assert "CATEGORIES:Introduction" in kenji.to_ical().decode().splitlines()
    assert str(kenji["description"]).splitlines() == [
        "Wrote most of orders-api and reviews every migration.",
        "Meet by this day; after that: weekly pairing.",
    ]
    assert (
        str(events["checkin-2"]["summary"]) == "Onboarding check-in (week 4): Amara Okafor with manager (Aylin Demir)"
    )
    # Reminders in the hire's own calendar: no attendee lines that would send invitations.
    assert all("attendee" not in e for e in events.values())


# --------------------------------------------------------------------------- json
def test_json_round_trips_the_fit_section_and_the_names() -> None:
    plan = team_plan()
    content = render(plan, CTX, "json").content
    assert Plan.model_validate_json(content) == plan
    data = json.loads(content)
    assert data["fit"]["team"] == {
        "id": "team-orders",
        "name": "Orders squad",
        "manager": "Aylin Demir",
        "timezone": "Europe/Amsterdam",
    }
    assert [g["task_id"] for g in data["fit"]["gaps"]] == ["learn-sqlalchemy-loading", "learn-the-outbox"]
    assert data["fit"]["skipped"][0]["source"] == "case-mid-level-hire"
    assert data["relationships"][1]["name"] == "Kenji Watanabe"
    tasks = {t["id"]: t for p in data["phases"] for t in p["tasks"]}
    assert tasks["mentor-pairing"]["owner_name"] == "Kenji Watanabe"


def test_every_gap_in_the_fixture_is_closed_by_a_task_in_the_plan() -> None:
    """The fixture is what the composer promises (issue #12): each gap names a task the plan has."""
    plan = team_plan()
    ids = {t.id for t in plan.all_tasks()}
    assert all(g.task_id in ids for g in plan.fit.gaps)
