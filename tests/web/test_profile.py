"""Steps 1 to 3 of the New plan page without Streamlit: background in, profile read and confirmed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tailor.errors import BadInput
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.web.profile import (
    background_from,
    confirmed_profile,
    read_profile,
    read_saved_profile,
    save_background,
    skill_options,
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
