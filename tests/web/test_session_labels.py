"""The words the sign-in and Plans pages use: times in the viewer's zone, codes as words, inbox lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tailor.web.text import code_label, inbox_sentence, when

NOW = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (datetime(2026, 12, 3, 9, 5, tzinfo=UTC), "Europe/Berlin", "today 10:05"),
        (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), "Europe/Berlin", "today 00:30"),  # already the 3rd there
        (datetime(2026, 12, 2, 8, 0, tzinfo=UTC), "America/New_York", "yesterday 03:00"),
        (datetime(2026, 11, 20, 8, 0, tzinfo=UTC), "Asia/Tokyo", "20 Nov 17:00"),
        (datetime(2025, 11, 20, 8, 0, tzinfo=UTC), "Asia/Tokyo", "20 Nov 2025"),
        (datetime(2026, 12, 3, 9, 5, tzinfo=UTC), None, "today 09:05 UTC"),  # the browser did not say
        (datetime(2026, 12, 3, 9, 5, tzinfo=UTC), "Not/AZone", "today 09:05 UTC"),
        (datetime(2026, 12, 3, 9, 5), "UTC", "today 09:05"),  # a naive time is UTC, as stored
    ],
)
def test_times_read_in_the_viewers_zone_without_offsets(moment: datetime, zone: str | None, shown: str) -> None:
    text = when(moment, zone, now=NOW)
    assert text == shown
    assert "+00:00" not in text


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("in_review", "In review"),
        ("fullstack", "Full-stack"),
        ("ml", "Machine learning"),
        ("senior", "Senior"),
        ("changes_requested", "Changes requested"),
        ("some_new_code", "Some new code"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_codes_are_shown_as_words_and_nothing_as_a_dash(code: str | None, shown: str) -> None:
    assert code_label(code) == shown


def test_inbox_lines_name_who_did_what_to_which_plan() -> None:
    assert inbox_sentence("changes_requested", "Hana HR", 3, "Zoë Quast") == (
        "Hana HR asked for changes to plan #3 (Zoë Quast)"
    )
    assert inbox_sentence("submitted", "Maria Manager", 3, "Zoë Quast").endswith("for review")
    assert inbox_sentence("approved", "Hana HR", 3, "Zoë Quast") == "Hana HR approved plan #3 (Zoë Quast)"
