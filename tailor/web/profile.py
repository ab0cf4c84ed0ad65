"""Steps 1 to 3 of the New plan page: the background in, the profile read and confirmed, the grounding shown.

The background is saved before anything else happens, so nothing a manager types is lost;
the profile is read by the engine's own first step (rules only, no model), so the form
shows exactly what a draft will use; the grounding is the engine's own retrieval query.
The functions take plain values and the review service, so tests call them without Streamlit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit as st

from tailor.config import get_settings
from tailor.errors import BadInput, TailorError
from tailor.web.errors import first_problem
from tailor.web.services import corpus_signature, index, settings_key

if TYPE_CHECKING:
    from tailor.corpus.documents import Corpus
    from tailor.corpus.index import DocHit
    from tailor.pipeline.intake import ProfileReading
    from tailor.review.auth import UserOut
    from tailor.review.service import ReviewService
    from tailor.schema import HireProfile


def background_from(upload_name: str | None, upload_data: bytes | None, pasted: str, max_bytes: int) -> str:
    """The background text: an uploaded file wins over pasted text. Raises BadInput with a next step."""
    from tailor.pipeline.uploads import extract_text

    if upload_name is not None and upload_data is not None:
        return extract_text(upload_data, upload_name, max_bytes)
    if not pasted.strip():
        raise BadInput("paste the hire's background or upload a file first")
    return pasted


def save_background(
    review: ReviewService,
    user: UserOut,
    background: str,
    name: str | None,
    start_date: date | None,
    replaces: int | None = None,
) -> int:
    """Save the background as a new draft input; the one it ``replaces`` (read earlier) is discarded.

    Reading the profile again supersedes the earlier save; discarding it keeps the list of
    unfinished drafts short. A failure to discard costs nothing, so it is not reported.
    """
    intake_id = review.save_intake(user, background, name=name or None, start_date=start_date)
    if replaces is not None and replaces != intake_id:
        with contextlib.suppress(TailorError):
            review.discard_intake(user, replaces)
    return intake_id


def read_profile(background: str, name: str | None, start_date: date | None, corpus_: Corpus) -> ProfileReading:
    """The hire profile from rules alone (no model): instant, deterministic, for the confirm form.

    The engine's own first step (``pipeline.intake.read_profile``), so the form shows what a draft will use.
    """
    from tailor.pipeline.intake import Vocabulary
    from tailor.pipeline.intake import read_profile as read
    from tailor.schema import DraftRequest

    request = DraftRequest(background=background, name=name or None, start_date=start_date)
    reading = read(request, Vocabulary.from_corpus(corpus_), corpus_.urls())
    # The rules-only summary is a stand-in; the engine writes the real one. Its flag is noise here.
    reading.flags = [f for f in reading.flags if f.field != "hire.summary"]
    return reading


def read_saved_profile(
    review: ReviewService,
    user: UserOut,
    intake_id: int,
    background: str,
    name: str | None,
    start_date: date | None,
    corpus_: Corpus,
) -> ProfileReading:
    """:func:`read_profile` for a saved draft input; a failure is recorded on the input, then raised."""
    try:
        return read_profile(background, name, start_date, corpus_)
    except TailorError as exc:
        review.record_intake_failure(user, intake_id, exc.message)
        raise


def skill_options(corpus_: Corpus, current: Sequence[str]) -> list[str]:
    """The profile's skills first, then every skill the corpus knows, for the multiselect."""
    from tailor.pipeline.intake import Vocabulary

    known = sorted(set(Vocabulary.from_corpus(corpus_).skills.values()), key=str.lower)
    return list(dict.fromkeys([*current, *known]))


def confirmed_profile(profile: HireProfile, **changes: Any) -> HireProfile:
    """The read profile with the manager's corrections, validated; ``BadInput`` names the field at fault."""
    from pydantic import ValidationError

    from tailor.schema import HireProfile

    data: dict[str, Any] = profile.model_dump()
    data.update(changes)
    try:
        return HireProfile.model_validate(data)
    except ValidationError as exc:
        raise BadInput(f"the profile is not valid: {first_problem(exc)}") from None


def retrieve(hire: HireProfile) -> tuple[list[DocHit], list[DocHit]]:
    """Role profiles (2) and case studies (3) most like this hire, with their best passages."""
    from tailor.pipeline.engine import retrieval_query

    idx = index()
    query = retrieval_query(hire)
    return idx.search_docs(query, k=2, kind="role_profile"), idx.search_docs(query, k=3, kind="case_study")


@st.cache_data(show_spinner=False, ttl=900, max_entries=64)
def _retrieve_cached(key: str, corpus_sig: str, hire_json: str) -> tuple[list[DocHit], list[DocHit]]:
    from tailor.schema import HireProfile

    return retrieve(HireProfile.model_validate_json(hire_json))


def retrieve_cached(hire: HireProfile) -> tuple[list[DocHit], list[DocHit]]:
    """:func:`retrieve`, cached per settings, corpus version and profile: every rerun of the page asks again."""
    settings = get_settings()
    return _retrieve_cached(settings_key(settings), corpus_signature(settings.corpus_dir), hire.model_dump_json())
