"""The pieces that keep a small model's tailoring useful: shortlists, sentence repair, partial answers."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tailor.pipeline.engine import skill_scorer
from tailor.pipeline.personalise import (
    TailorContext,
    apply_rewrites,
    apply_summary,
    lexical_scores,
    rewrite_model,
    skill_candidates,
    summary_model,
    whole_sentences,
)
from tailor.schema import Plan, Task
from tests.fixtures.plans import good_plan


def task(title: str, description: str = "Own it with the manager's guidance.") -> Task:
    return Task(
        id=title.lower().replace(" ", "-")[:40],
        title=title,
        description=description,
        owner="hire",
        due_week=6,
        success_criteria="Done.",
        sources=["role-backend-engineer"],
    )


TASKS = [
    task("Take ownership of Data modelling and PostgreSQL migrations"),
    task("Take ownership of Event publishing to Kafka topics"),
    task("Take ownership of Service reliability and on-call", "Keep paging alerts actionable and traced."),
]
SKILLS = ["Go", "PostgreSQL", "Kafka", "OpenTelemetry"]


@pytest.mark.parametrize("scorer", [None, skill_scorer], ids=["words", "embeddings"])
def test_each_task_gets_its_own_shortlist_led_by_the_skill_that_fits(scorer: object) -> None:
    lists = skill_candidates(TASKS, SKILLS, scorer)  # type: ignore[arg-type]
    assert [len(x) for x in lists] == [2, 2, 2]
    assert "PostgreSQL" in lists[0] and "Kafka" in lists[1]
    assert len({x[0] for x in lists}) == 3, "each list is led by a different skill"


def test_a_failing_scorer_falls_back_to_word_overlap() -> None:
    def broken(texts: object, skills: object) -> list[list[float]]:
        raise RuntimeError("embedder missing")

    assert skill_candidates(TASKS, SKILLS, broken) == skill_candidates(TASKS, SKILLS, None)
    assert lexical_scores(["Kafka topics"], ["Kafka", "Go"]) == [[0.5, 0.0]]


def test_sentences_cut_by_the_length_cap_keep_what_is_whole() -> None:
    assert whole_sentences("Owns the payments ledger. Leads the migration to") == "Owns the payments ledger."
    assert whole_sentences("Ends cleanly.") == "Ends cleanly."
    with pytest.raises(ValueError, match="cut off"):
        whole_sentences("A long answer with no full stop in it at all because")


def test_one_field_per_task_and_only_its_own_skills() -> None:
    model = rewrite_model([["PostgreSQL", "Go"], ["Kafka", "Go"]], TailorContext(allowed_urls=set()))
    schema = model.model_json_schema()
    assert set(schema["properties"]) == {"task_1", "task_2"}
    ok = model.model_validate(
        {
            "task_1": {"skill": "PostgreSQL", "how": "Write the expand-and-contract plan for the next migration."},
            "task_2": {"skill": "Go", "how": "Add an idempotent Go consumer for the ledger topic."},
        }
    )
    assert ok.task_1.skill == "PostgreSQL"  # type: ignore[attr-defined]
    # a skill from another task's list is not this task's choice: that task is dropped, not the answer
    partial = model.model_validate(
        {
            "task_1": {"skill": "Kafka", "how": "Write the expand-and-contract plan for the next migration."},
            "task_2": {"skill": "Go", "how": "Add an idempotent Go consumer for the ledger topic."},
        }
    )
    assert partial.task_1 is None and partial._dropped["task_1"]  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="no task sentence was usable"):
        model.model_validate({"task_1": None, "task_2": {"skill": "Go", "how": "He lists Go, Kafka here."}})


def test_refused_sentences_say_why_on_the_task() -> None:
    plan: Plan = good_plan()
    asked = plan.all_tasks()[:2]
    model = rewrite_model([["Go", "Kafka"], ["Go", "Kafka"]], TailorContext(allowed_urls=set()))
    answer = model.model_validate_json(
        json.dumps(
            {
                "task_1": {"skill": "Go", "how": "Pair with him on the Go service he owns."},
                "task_2": {"skill": "Kafka", "how": "Trace one Kafka event from producer to ledger."},
            }
        )
    )
    apply_rewrites(plan, answer, asked)
    assert not asked[0].tailored and "assumes the hire's gender" in (asked[0].review_reason or "")
    assert asked[1].tailored and asked[1].skills == ["Kafka"]
    assert asked[1].description.endswith(
        "Where your Kafka experience helps: Trace one Kafka event from producer to ledger."
    )


def test_the_model_writes_the_summary_and_the_policy_keeps_the_rationale() -> None:
    plan: Plan = good_plan()
    before = plan.rationale
    text = "The hire brings deep Go and PostgreSQL experience from payments to the team."
    model = summary_model(["Go"])
    assert "rationale" not in model.model_fields
    apply_summary(plan, model.model_validate({"summary": text, "focus_areas": ["Go"]}))
    assert plan.summary == text and plan.rationale == before and plan.focus_areas == ["Go"]
