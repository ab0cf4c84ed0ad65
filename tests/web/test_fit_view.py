"""The "Why this plan" block as Streamlit draws it (``AppTest``), on the plan for a hire joining the Orders squad.

Each test runs a two-line script that calls :func:`tailor.web.fit_view.render_why_this_plan`, as the
plan and review pages do, and reads back the Markdown Streamlit was given.
"""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tailor.exports.fit_text import NO_TEAM, NO_TEAM_ROLE_ONLY
from tailor.web.plan_view import people_to_meet
from tailor.web.text import safe
from tests.fixtures.plans import EXPLAIN_URL, INVOICING_RUNBOOK_URL, team_plan

TIMEOUT = 30


def _team_plan_script() -> None:
    from tailor.web.fit_view import render_why_this_plan
    from tests.fixtures.plans import team_plan

    render_why_this_plan(team_plan())


def _no_team_script() -> None:
    from tailor.web.fit_view import render_why_this_plan
    from tests.fixtures.plans import team_plan

    plan = team_plan()
    plan.fit = plan.fit.model_copy(update={"team": None})
    render_why_this_plan(plan)


def _empty_fit_script() -> None:
    from tailor.web.fit_view import render_why_this_plan
    from tests.fixtures.db import make_plan

    render_why_this_plan(make_plan())


def _hostile_script() -> None:
    from tailor.web.fit_view import render_why_this_plan
    from tests.fixtures.plans import team_plan

    plan = team_plan()
    gap = plan.fit.gaps[0].model_copy(
        update={"resource": "[click](javascript:alert(1))", "resource_url": "javascript:alert(2)"}
    )
    plan.fit = plan.fit.model_copy(update={"gaps": [gap]})
    render_why_this_plan(plan)


def run(script: Callable[[], None]) -> AppTest:
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption)])


def test_the_block_shows_the_team_strengths_gaps_and_skipped_basics() -> None:
    text = shown(run(_team_plan_script))
    plan = team_plan()
    for words in (
        "**Why this plan**",
        safe(plan.rationale),
        "**Team:** " + safe("Orders squad, managed by Aylin Demir, in the Europe/Amsterdam time zone"),
        "**Strengths to use**",
        "- **PostgreSQL**: " + safe("needed for orders-api and N+1 queries on the orders list"),
        "- **pytest**: " + safe("needed for Add a query-count test to the orders list"),
        "**Gaps to close**",
        "- **SQLAlchemy**: " + safe("needed for orders-api and N+1 queries on the orders list"),
        f"    - Learn from: [PostgreSQL documentation: Using EXPLAIN]({EXPLAIN_URL})",
        f"    - Learn from: [Invoicing runbook]({INVOICING_RUNBOOK_URL})",
        "    - Ask: " + safe("Kenji Watanabe (Senior Backend Engineer)"),
        "    - Ask: " + safe("Folake Adeyemi (Staff Backend Engineer)"),
        "    - Closed by: " + safe("Walk through the transactional outbox with Folake, due Fri 27 Mar 2026 (week 4)"),
        "**Basics skipped**",
        "- **Git and pull request basics**: " + safe(plan.fit.skipped[0].reason),
    ):
        assert words in text, words
    assert "None" not in text and NO_TEAM not in text


def test_without_a_team_the_fit_shows_and_says_no_team_was_chosen() -> None:
    at = run(_no_team_script)
    text = shown(at)
    assert "**Team:**" not in text and "Aylin Demir" not in text
    assert [c.value for c in at.caption] == [safe(NO_TEAM_ROLE_ONLY)]
    assert "**Strengths to use**" in text and "**Gaps to close**" in text and "**Basics skipped**" in text


def test_an_empty_fit_shows_the_rationale_and_one_sentence() -> None:
    at = run(_empty_fit_script)
    assert at.markdown[0].value == "**Why this plan**"
    assert [c.value for c in at.caption] == [safe(NO_TEAM)]
    text = shown(at)
    assert "Strengths" not in text and "Gaps" not in text and "skipped" not in text


def test_a_hostile_resource_is_text_and_its_address_is_dropped() -> None:
    text = shown(run(_hostile_script))
    assert "javascript:alert(2)" not in text
    assert "- Learn from: \\[click\\]\\(javascript:alert\\(1\\)\\)" in text  # literal text, not a link


def test_people_to_meet_name_the_person_with_the_role() -> None:
    rows = people_to_meet(team_plan())
    assert [r["who"] for r in rows] == [
        "Aylin Demir (Engineering Manager)",
        "Kenji Watanabe (Senior Backend Engineer)",
        "Folake Adeyemi (Staff Backend Engineer)",
        "Product Manager",
    ]
    assert rows[1] == {
        "who": "Kenji Watanabe (Senior Backend Engineer)",
        "why": "Wrote most of orders-api and reviews every migration.",
        "meet by week": 1,
        "then": "weekly pairing",
    }
