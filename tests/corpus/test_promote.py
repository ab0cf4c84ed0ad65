"""An approved plan becomes a case study without the names of the hire or of the colleagues it names."""

from __future__ import annotations

from tailor.corpus.promote import case_study_from_plan, people_named
from tailor.corpus.writer import validate_document_text
from tailor.schema import FitGap, PlanRelationship, TeamRef
from tests.fixtures.db import make_plan

COLLEAGUES = ("Kenji Watanabe", "Aylin Demir", "Sofia Lindqvist", "Folake Adeyemi")


def test_colleagues_named_by_a_team_plan_are_removed_like_the_hire() -> None:
    plan = make_plan(name="Zoë Quast")
    plan.status = "approved"
    kenji, aylin, sofia, folake = COLLEAGUES
    first = plan.all_tasks()[0]
    first.owner_name = kenji
    first.description = f"Pair with {kenji} on the query-count test; {aylin} signs it off."
    plan.relationships.append(
        PlanRelationship(
            role="Backend Engineer",
            name=sofia,
            purpose=f"{sofia} is your buddy.",
            meet_by_week=1,
            cadence="weekly",
            source="team-orders",
        )
    )
    plan.fit.team = TeamRef(id="team-orders", name="Orders squad", manager=aylin, timezone="Europe/Amsterdam")
    plan.fit.gaps.append(FitGap(skill="Kafka", contact=folake, source="team-orders"))
    plan.risks[0].risk = f"{folake} is away in week 3; ask {sofia}."

    assert set(people_named(plan)) == {"Zoë Quast", *COLLEAGUES}
    case = case_study_from_plan(plan, 7)
    for person in ("Zoë", "Quast", *(part for name in COLLEAGUES for part in name.split())):
        assert person not in case.text, person
    assert "Pair with [NAME] [NAME] on the query-count test" in case.text
    assert validate_document_text(case.text).id == case.meta.id


def test_a_plan_without_a_team_names_only_the_hire() -> None:
    assert people_named(make_plan(name="Zoë Quast")) == ["Zoë Quast"]
    assert people_named(make_plan(name=None)) == []
