"""Steps 1 to 3 of the New plan page: the background and team in, the profile read and confirmed, the grounding shown.

The background is saved before anything else happens, so nothing a manager types is lost,
and with it the team the hire joins (changed later with :func:`save_team`);
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
from tailor.corpus.signature import corpus_signature
from tailor.errors import BadInput, TailorError
from tailor.web.errors import first_problem
from tailor.web.services import index, settings_key

if TYPE_CHECKING:
    from tailor.corpus.documents import Corpus
    from tailor.corpus.index import DocHit
    from tailor.corpus.teams import TeamProfileMeta
    from tailor.pipeline.intake import ProfileReading
    from tailor.review.auth import UserOut
    from tailor.review.service import ReviewService
    from tailor.schema import HireProfile


def upload_types() -> list[str]:
    """The file types an upload may be, as the uploader wants them ("txt", "pdf", ...)."""
    from tailor.pipeline.uploads import SUPPORTED

    return [ext.lstrip(".") for ext in SUPPORTED]


def input_limits(max_chars: int, max_bytes: int) -> tuple[str, str]:
    """What the background inputs accept, said next to them: (the text box's, the uploader's)."""
    from tailor.pipeline.uploads import SUPPORTED

    megabytes = f"{max_bytes / 1_000_000:g} MB" if max_bytes >= 1_000_000 else f"{max_bytes:,} bytes"
    return (
        f"Up to {max_chars:,} characters.",
        f"{', '.join(SUPPORTED)}; up to {megabytes}, and up to {max_chars:,} characters of text in it.",
    )


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
    team: str | None = None,
) -> int:
    """Save the background (and the team chosen) as a new draft input; the one it ``replaces`` is discarded.

    Reading the profile again supersedes the earlier save; discarding it keeps the list of
    unfinished drafts short. A failure to discard costs nothing, so it is not reported.
    """
    intake_id = review.save_intake(
        user, background, name=name or None, start_date=start_date, overrides={"team": team or None}
    )
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


NO_TEAM = ""  # the picker's "No team"; a selectbox shows a None value as an empty box, not as an option


def team_choices(corpus_: Corpus, family: str | None, current: str | None = None) -> list[str]:
    """``NO_TEAM``, then the teams that hire ``family``, then the rest, each by name.

    A team the manager chose earlier that is no longer in the corpus stays listed, so the choice
    is not silently dropped; drafting with it is refused with the teams that exist.
    """
    hiring = sorted(corpus_.teams(), key=lambda t: (family not in t.roles, t.team.lower()))
    ids = [t.id for t in hiring]
    stale = [current] if current and current not in ids else []
    return [NO_TEAM, *stale, *ids]


def team_label(team: TeamProfileMeta) -> str:
    """How a team reads in the picker: its name, the role families it hires and its manager."""
    return f"{team.team} · hires {', '.join(team.roles)} · manager {team.manager.name}"


def team_labels(corpus_: Corpus) -> dict[str, str]:
    """The picker's label for each choice the corpus has (see :func:`label_for` for the others)."""
    labels = {t.id: team_label(t) for t in corpus_.teams()}
    return {NO_TEAM: "No team", **labels}


def label_for(labels: dict[str, str], choice: str) -> str:
    """A choice's label; a team id the corpus no longer has says so."""
    return labels.get(choice, f"{choice} (no longer in the corpus)")


def team_note(corpus_: Corpus, team: str | None, family: str | None) -> str | None:
    """A word when the chosen team does not hire the hire's role family (allowed: people move across)."""
    meta = corpus_.team(team) if team else None
    if meta is None or family is None or family in meta.roles:
        return None
    hires = ", ".join(meta.roles)
    return f"{meta.team} hires {hires}; this hire reads as {family}. Pick another team if that is a slip."


def team_line(corpus_: Corpus, team: str | None) -> str:
    """What the chosen team (or none) means for the plan, said before generating."""
    if not team:
        return "No team chosen: the plan follows the role profile alone. Pick a team in step 1 to name the peers."
    meta = corpus_.team(team)
    if meta is None:
        return f"{team} is no longer in the corpus, so drafting with it is refused: pick another team in step 1."
    return f"For {meta.team} (manager {meta.manager.name}): its people, starter tasks and rituals shape the plan."


def save_team(review: ReviewService, user: UserOut, intake_id: int, team: str | None) -> None:
    """Save a changed team on the draft input at once, so it is there when the input is resumed."""
    review.update_intake(user, intake_id, {"team": team or None})


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
