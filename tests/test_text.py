"""tailor.text: the one slug function behind task ids, case-study tags and export file names."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.text import slug, to_ascii, unique_slug

TASK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")  # the schema's pattern for a task id


def test_transliterates_what_decomposition_does_not() -> None:
    assert to_ascii("Zoë Łukasiewicz – Søren Æbelø, Straße") == "Zoe Lukasiewicz - Soren AEbelo, Strasse"
    assert to_ascii("日本") == ""  # no ASCII form: dropped, not replaced


def test_a_name_slugs_the_same_everywhere() -> None:
    # The app once dropped the Ł (zoe-ukasiewicz) while the exports kept it (zoe-lukasiewicz).
    assert slug("Zoë Łukasiewicz") == "zoe-lukasiewicz"
    assert slug("  --Senior  Backend/Engineer!! ") == "senior-backend-engineer"


def test_a_long_slug_is_cut_at_a_word_boundary() -> None:
    text = "Take ownership of the deployment pipeline and the release calendar"
    assert slug(text, max_len=48) == "take-ownership-of-the-deployment-pipeline-and"
    assert slug("x" * 70, max_len=60) == "x" * 60  # one long word: cut where it must be


def test_nothing_to_slug_gives_the_fallback() -> None:
    assert slug("日本 !!", fallback="hire") == "hire"
    assert slug("!!") == ""


def test_unique_slug_counts_up_past_taken_ids() -> None:
    assert unique_slug("Meet the team", set()) == "meet-the-team"
    assert unique_slug("Meet the team", {"meet-the-team"}) == "meet-the-team-2"
    assert unique_slug("Meet the team!", {"meet-the-team", "meet-the-team-2"}) == "meet-the-team-3"
    assert unique_slug("?", set()) == "task"


def _compose_slug_before_text_py(text: str) -> str:
    """How compose spelled task ids before tailor.text (ASCII only, no transliteration)."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(base) > 48:
        base = base[:48].rsplit("-", 1)[0]
    return base or "task"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=120))
def test_ascii_titles_keep_the_task_ids_they_had(title: str) -> None:
    """Corpus task titles are ASCII; their ids (and so the recorded eval prompts) must not move."""
    assert unique_slug(title, set()) == _compose_slug_before_text_py(title)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200), max_len=st.integers(min_value=1, max_value=60))
def test_a_slug_is_always_a_valid_id(text: str, max_len: int) -> None:
    made = slug(text, max_len=max_len)
    assert made == "" or TASK_ID.fullmatch(made)
    assert len(made) <= max_len and not made.endswith("-")
    assert TASK_ID.fullmatch(unique_slug(text, {made}, max_len=max_len))
