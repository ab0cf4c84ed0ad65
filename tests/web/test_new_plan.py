"""The New plan page's team picker through ``AppTest``: the choice is saved, restored and drafted with.

The page runs for real against SQLite and the real engine with the model unreachable
(connection refused on 127.0.0.1:9). A spy on ``Engine.draft_events`` records the request the
page sends, so the test sees the team the engine was asked to draft for (until the engine uses
the team, the plan itself does not show it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tailor.config import get_settings, reset_settings
from tailor.corpus.documents import load_corpus
from tailor.pipeline.engine import Engine
from tailor.schema import DraftRequest, ProgressEvent
from tests.web.test_app_pages import BACKGROUND, World, app_as, fill_background, texts
from tests.web.test_app_pages import world as world  # the fixture: a database with a user per role

PICKER = "np_team"


@pytest.fixture
def drafted(monkeypatch: pytest.MonkeyPatch) -> list[DraftRequest]:
    """Every request the page hands the real engine, whose model is down."""
    monkeypatch.setenv("TAILOR_MODEL", "openai/none")
    monkeypatch.setenv("TAILOR_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TAILOR_API_KEY", "unused")
    monkeypatch.setenv("TAILOR_MODEL_RETRIES", "0")
    reset_settings()
    asked: list[DraftRequest] = []
    real = Engine.draft_events

    def recording(self: Engine, request: DraftRequest) -> Iterator[ProgressEvent]:
        asked.append(request)
        return real(self, request)

    monkeypatch.setattr(Engine, "draft_events", recording)
    return asked


def test_the_team_is_picked_saved_restored_and_drafted_with(world: World, drafted: list[DraftRequest]) -> None:
    manager = world.users["maria"]
    teams = load_corpus(get_settings().corpus_dir).teams()
    at = app_as(world, "maria")
    picker = at.selectbox(key=PICKER)
    assert picker.label == "Team the hire joins"
    assert picker.value == "" and picker.options[0] == "No team" and len(picker.options) == len(teams) + 1
    assert "Orders squad · hires backend · manager Aylin Demir" in picker.options

    # Picked before the background is read: saved with the background, before any model call.
    picker.set_value("team-storefront").run()
    fill_background(at, BACKGROUND)
    [intake] = world.review.list_intakes(manager)
    assert intake.overrides == {"team": "team-storefront"}
    assert drafted == []

    # Once the profile is read (backend), the teams that hire backend engineers come first.
    backend = sorted(t.team for t in teams if "backend" in t.roles)
    options = at.selectbox(key=PICKER).options
    assert [o.split(" · ")[0] for o in options[1 : 1 + len(backend)]] == backend
    assert "Storefront squad hires fullstack; this hire reads as backend" in texts(at.caption)

    # The manager changes the team after reading the profile: saved on the input at once.
    at.selectbox(key=PICKER).set_value("team-orders").run()
    assert not at.exception, at.exception
    assert world.review.get_intake(manager, intake.id).overrides == {"team": "team-orders"}

    # Reopened later, the unfinished draft comes back with its team.
    at = app_as(world, "maria")
    assert at.selectbox(key=PICKER).value == ""
    assert "team-orders" in at.selectbox(key="np_resume_pick").options[0]
    at.button(key="np_resume").click().run()
    assert at.selectbox(key=PICKER).value == "team-orders"
    at.button(key="np_read").click().run()
    assert not at.exception, at.exception
    [resumed] = world.review.list_intakes(manager)
    assert resumed.id != intake.id and resumed.overrides == {"team": "team-orders"}

    # Confirm and generate: the request carries the team, and the used input keeps it with the profile.
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    assert "For Orders squad (manager Aylin Demir)" in texts(at.caption)
    at.button(key="np_generate").click().run()
    assert not at.exception, at.exception
    assert "Saved plan #" in texts(at.success)
    assert [r.team for r in drafted] == ["team-orders"]
    used = world.review.get_intake(manager, resumed.id)
    assert used.status == "used" and used.plan_id is not None
    assert used.overrides["team"] == "team-orders" and used.overrides["role_family"] == "backend"
    assert used.draft_request().team == "team-orders"


def test_no_team_drafts_without_one(world: World, drafted: list[DraftRequest]) -> None:
    at = app_as(world, "maria")
    fill_background(at, BACKGROUND)
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    assert "No team chosen" in texts(at.caption)
    at.button(key="np_generate").click().run()
    assert not at.exception, at.exception
    assert [r.team for r in drafted] == [None]
    [used] = world.review.list_intakes(world.users["maria"], include_closed=True)
    assert "team" not in used.overrides


def test_after_a_draft_a_new_team_is_used_by_draft_again_and_the_used_input_is_kept(
    world: World, drafted: list[DraftRequest]
) -> None:
    manager = world.users["maria"]
    at = app_as(world, "maria")
    fill_background(at, BACKGROUND)
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    at.button(key="np_generate").click().run()
    [used] = world.review.list_intakes(manager, include_closed=True)

    at.selectbox(key=PICKER).set_value("team-orders").run()
    assert not at.exception, at.exception
    # The used input is not changed (it records what its plan was drafted from), and that is no error.
    assert "only open drafts can be changed" not in texts(at.error)
    assert "team" not in world.review.get_intake(manager, used.id).overrides
    at.radio(key="np_again_choice").set_value("replace").run()
    at.button(key="np_draft_again").click().run()
    assert not at.exception, at.exception
    assert [r.team for r in drafted] == [None, "team-orders"]
    assert world.review.get_plan(manager, used.plan_id or 0).revision == 2
