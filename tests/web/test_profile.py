"""Steps 1 to 3 of the New plan page without Streamlit: background in, profile read and confirmed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tailor.errors import BadInput
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.web.profile import (
    NO_TEAM,
    background_from,
    confirmed_profile,
    input_limits,
    label_for,
    read_profile,
    read_saved_profile,
    save_background,
    save_team,
    skill_options,
    team_choices,
    team_labels,
    team_line,
    team_note,
    upload_types,
)
from tests.fixtures.drafting import BACKGROUND, CORPUS


def test_an_upload_wins_over_pasted_text_and_bad_files_say_what_to_do() -> None:
    assert background_from("cv.txt", b"Senior engineer, 8 years.", "ignored", 1000) == "Senior engineer, 8 years."
    assert background_from(None, None, "pasted text", 1000) == "pasted text"
    with pytest.raises(BadInput, match="paste the hire's background or upload a file"):
        background_from(None, None, "   ", 1000)
    with pytest.raises(BadInput, match="unsupported file type"):
        background_from("cv.exe", b"MZ\x90\x00", "", 1000)
    with pytest.raises(BadInput, match="limit"):
        background_from("cv.txt", b"x" * 2000, "", 1000)


def test_the_profile_is_read_by_rules_with_the_typed_name_and_date() -> None:
    reading = read_profile(BACKGROUND, "Priya Raman", date(2026, 1, 5), CORPUS)
    assert reading.profile.seniority == "senior" and reading.profile.role_family == "backend"
    assert reading.profile.start_date == date(2026, 1, 5)
    assert all(f.field != "hire.summary" for f in reading.flags)  # the stand-in summary is not flagged


def test_skill_options_put_the_hire_skills_first() -> None:
    options = skill_options(CORPUS, ["Zig", "Python"])
    assert options[:2] == ["Zig", "Python"] and len(options) == len(set(options)) > 2


def test_a_confirmed_profile_is_validated() -> None:
    read = read_profile(BACKGROUND, None, None, CORPUS).profile
    assert confirmed_profile(read, years_experience=9.5).years_experience == 9.5
    with pytest.raises(BadInput, match="the profile is not valid: role_family"):
        confirmed_profile(read, role_family="astronaut")


def test_a_new_save_replaces_the_earlier_one(service: ReviewService, manager: UserOut) -> None:
    first = save_background(service, manager, BACKGROUND, "Priya", None)
    second = save_background(service, manager, BACKGROUND + " More.", "Priya", None, replaces=first)
    assert [i.id for i in service.list_intakes(manager)] == [second]
    # Replacing one that is gone already is not an error.
    third = save_background(service, manager, BACKGROUND, None, None, replaces=first)
    assert {i.id for i in service.list_intakes(manager)} == {second, third}


def test_a_profile_that_cannot_be_read_is_recorded_on_the_saved_input(
    service: ReviewService, manager: UserOut, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    intake = save_background(service, manager, BACKGROUND, None, None)

    def refuse(*args: object) -> None:
        raise BadInput("no role could be read")

    monkeypatch.setattr("tailor.web.profile.read_profile", refuse)
    with pytest.raises(BadInput):
        read_saved_profile(service, manager, intake, BACKGROUND, None, None, CORPUS)
    saved = service.list_intakes(manager, include_closed=True)
    assert [(i.id, i.status, i.error) for i in saved] == [(intake, "failed", "no role could be read")]


# --------------------------------------------------------------------------- the team the hire joins
def test_teams_hiring_the_family_come_first_after_no_team() -> None:
    choices = team_choices(CORPUS, "backend")
    hiring = [t for t in CORPUS.teams() if "backend" in t.roles]
    assert choices[0] == NO_TEAM and len(choices) == len(CORPUS.teams()) + 1
    assert set(choices[1 : 1 + len(hiring)]) == {t.id for t in hiring} and hiring
    # Before the profile is read there is no family: every team, by name.
    name_of = {t.id: t.team.lower() for t in CORPUS.teams()}
    names = [name_of[c] for c in team_choices(CORPUS, None)[1:]]
    assert names == sorted(names)


def test_team_labels_name_the_team_its_families_and_manager() -> None:
    labels = team_labels(CORPUS)
    assert labels[NO_TEAM] == "No team"
    assert labels["team-orders"] == "Orders squad · hires backend · manager Aylin Demir"
    # A team chosen earlier that the corpus lost stays listed, and says so.
    assert team_choices(CORPUS, "backend", "team-gone")[:2] == [NO_TEAM, "team-gone"]
    assert label_for(labels, "team-gone") == "team-gone (no longer in the corpus)"
    assert "no longer in the corpus" in team_line(CORPUS, "team-gone")
    assert team_line(CORPUS, NO_TEAM).startswith("No team chosen")


def test_a_team_that_does_not_hire_the_family_gets_a_note() -> None:
    assert team_note(CORPUS, "team-orders", "backend") is None
    assert team_note(CORPUS, NO_TEAM, "backend") is None
    assert team_note(CORPUS, "team-orders", "frontend") == (
        "Orders squad hires backend; this hire reads as frontend. Pick another team if that is a slip."
    )


def test_the_team_is_saved_with_the_background_and_changed_on_it(service: ReviewService, manager: UserOut) -> None:
    intake_id = save_background(service, manager, BACKGROUND, None, None, team="team-orders")
    assert service.get_intake(manager, intake_id).overrides == {"team": "team-orders"}
    save_team(service, manager, intake_id, NO_TEAM)
    assert service.get_intake(manager, intake_id).overrides == {}


def test_the_limits_said_next_to_the_inputs_come_from_the_settings() -> None:
    from tailor.config import get_settings

    settings = get_settings()
    paste, upload = input_limits(settings.max_background_chars, settings.max_upload_bytes)
    assert paste == "Up to 50,000 characters."
    assert upload == ".txt, .md, .pdf, .docx; up to 5 MB, and up to 50,000 characters of text in it."
    assert upload_types() == ["txt", "md", "pdf", "docx"]
    assert input_limits(1_000, 512_000)[1].startswith(".txt, .md, .pdf, .docx; up to 512,000 bytes")


def test_gibberish_is_refused_before_a_profile_is_read_and_recorded_on_its_input(
    service: ReviewService, manager: UserOut
) -> None:
    gibberish = "qwrtzp xkcdv brrrmf zzzt plkmnb " * 40
    intake = save_background(service, manager, gibberish, None, None)
    with pytest.raises(BadInput, match="does not read as text about a person"):
        read_saved_profile(service, manager, intake, gibberish, None, None, CORPUS)
    assert service.get_intake(manager, intake).status == "failed"
