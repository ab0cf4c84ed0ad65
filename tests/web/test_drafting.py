"""Step 4 of the New plan page without Streamlit: the real engine drafts, the page's helper saves.

The engine is the real one with a ``ScriptedModel``; only the failure paths that no model
answer can produce (a crash before or after the skeleton) hand ``run_draft`` events directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tailor.errors import BadInput, StorageUnavailable
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.schema import DraftRequest, HireProfile, ProgressEvent
from tailor.web.drafting import (
    SavedDraft,
    draft_and_save,
    draft_request,
    ensure_intake,
    event_line,
    intake_overrides,
    run_draft,
)
from tailor.web.profile import save_background
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import BACKGROUND, CORPUS, model_settings, valid_answers

HIRE = HireProfile(
    role="Senior Backend Engineer",
    role_family="backend",
    seniority="senior",
    years_experience=9,
    skills=["Go", "Python", "PostgreSQL", "Kafka"],
    summary="A payments backend engineer.",
)


def event(kind: str, **extra: object) -> ProgressEvent:
    return ProgressEvent.model_validate({"kind": kind, "message": f"{kind} <b>", "elapsed_s": 1.25, **extra})


def test_the_request_carries_the_confirmed_profile_and_team() -> None:
    request = draft_request(BACKGROUND, HIRE, "", model="openai/x")
    assert request.name is None and request.model == "openai/x" and request.team is None
    assert {k: getattr(request, k) for k in intake_overrides(HIRE)} == intake_overrides(HIRE)
    assert draft_request(BACKGROUND, HIRE, None, "team-orders").team == "team-orders"
    assert draft_request(BACKGROUND, HIRE, None, "").team is None  # the picker's "No team"


def test_an_event_line_is_literal_and_timed() -> None:
    assert event_line(event("skeleton")) == ":material/account_tree: skeleton \\<b\\> · 1.2 s"


def test_a_failure_before_any_plan_is_raised() -> None:
    def events() -> Iterator[ProgressEvent]:
        yield event("redacted")
        raise StorageUnavailable("the database is down")

    with pytest.raises(StorageUnavailable):
        run_draft(events(), lambda e: None)


def test_a_failure_after_the_skeleton_keeps_the_plan_with_a_flag() -> None:
    seen: list[str] = []

    def events() -> Iterator[ProgressEvent]:
        yield event("skeleton", plan=make_plan())
        raise RuntimeError("boom")

    run = run_draft(events(), lambda e: seen.append(e.kind))
    assert seen == ["skeleton"] and run.plan is not None
    assert run.error == "unexpected RuntimeError" and run.model_unavailable
    assert run.warnings[0] == "drafting stopped early: unexpected RuntimeError"
    assert "drafting stopped after the grounded plan" in run.plan.review_flags[-1].reason
    assert run.seconds == 1.25


def engine_with(answers: list[object]) -> tuple[Engine, DraftRequest]:
    settings = model_settings()
    request = draft_request(BACKGROUND, HIRE, "Priya Raman")
    return Engine(settings, corpus=CORPUS, model=ScriptedModel(answers or valid_answers(settings, request))), request


def test_a_tailored_draft_is_saved(service: ReviewService, manager: UserOut) -> None:
    engine, request = engine_with([])
    intake = ensure_intake(service, manager, None, BACKGROUND, HIRE, "Priya Raman")
    kinds: list[str] = []
    saved = draft_and_save(service, engine, manager, intake, request, lambda e: kinds.append(e.kind))
    assert isinstance(saved, SavedDraft) and not saved.model_unavailable
    assert kinds[-1] == "done" and len(saved.events) == len(kinds)
    plan = service.get_plan(manager, saved.plan_id).plan
    assert saved.tasks == len(plan.all_tasks()) and any(t.tailored for t in plan.all_tasks())
    assert service.list_intakes(manager) == []  # the input became a plan


def test_with_the_model_down_the_grounded_plan_is_saved_and_says_why(service: ReviewService, manager: UserOut) -> None:
    engine, request = engine_with([RuntimeError("server down"), RuntimeError("server down")])
    intake = ensure_intake(service, manager, None, BACKGROUND, HIRE, None)
    saved = draft_and_save(service, engine, manager, intake, request, lambda e: None)
    assert saved.model_unavailable and saved.to_check > 0
    assert saved.why_unavailable == saved.warnings[0]
    assert not any(t.tailored for t in service.get_plan(manager, saved.plan_id).plan.all_tasks())


def test_generating_again_reuses_the_saved_input_or_saves_a_new_one(service: ReviewService, manager: UserOut) -> None:
    intake = ensure_intake(service, manager, None, BACKGROUND, HIRE, "Priya")
    saved = service.get_intake(manager, intake)
    assert saved.name == "Priya" and saved.overrides["skills"] == HIRE.skills
    assert "team" not in saved.overrides  # no team chosen


def test_the_input_the_profile_was_read_from_gets_the_confirmed_profile_and_team(
    service: ReviewService, manager: UserOut
) -> None:
    read_from = save_background(service, manager, BACKGROUND, "Priya", None, team="team-live-stock")
    assert ensure_intake(service, manager, read_from, BACKGROUND, HIRE, "Priya", "team-orders") == read_from
    saved = service.get_intake(manager, read_from)
    assert saved.overrides == {**intake_overrides(HIRE), "team": "team-orders"}
    # Resuming it drafts the same hire for the same team.
    assert saved.draft_request() == draft_request(BACKGROUND, HIRE, "Priya", "team-orders")
    # "No team" clears an earlier choice.
    ensure_intake(service, manager, read_from, BACKGROUND, HIRE, "Priya", None)
    assert "team" not in service.get_intake(manager, read_from).overrides


def test_a_failed_draft_is_recorded_on_its_input(service: ReviewService, manager: UserOut) -> None:
    class Broken:
        def draft_events(self, request: DraftRequest) -> Iterator[ProgressEvent]:
            raise BadInput("the background is not about a person")
            yield  # a generator, as the engine's is

    intake = ensure_intake(service, manager, None, BACKGROUND, HIRE, None)
    with pytest.raises(BadInput):
        draft_and_save(service, Broken(), manager, intake, draft_request(BACKGROUND, HIRE, None), lambda e: None)  # type: ignore[arg-type]
    failed = service.get_intake(manager, intake)
    assert (failed.status, failed.error) == ("failed", "the background is not about a person")
