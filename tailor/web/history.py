"""Comparing revisions on a page: what the viewer last saw, and the comparison to show first.

The rules are in :mod:`tailor.review.diff` (:func:`~tailor.review.diff.diff_choices`,
:func:`~tailor.review.diff.seen_through`) and the record of what a user saw is the review
service's (:meth:`~tailor.review.plans.Plans.mark_seen`); this module keeps a page's session
from asking again on every rerun and draws the picker. The Plan page's History tab and the
Review page both use it, so "since you last looked" means the same on each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from tailor.review.diff import DiffChoice
    from tailor.review.service import ReviewService
    from tailor.review.users import UserOut


def since_last_look(review: ReviewService, user: UserOut, plan_id: int, showing: int) -> int | None:
    """The revision the viewer had seen before this one (None: their first look), recording ``showing`` as seen.

    The service is asked once each time the revision on screen changes (a first open, a reload,
    a save), not on every rerun. After the viewer's own save the answer is that revision: they
    have seen what they wrote, so "since you last looked" then has nothing new to show.
    """
    key = f"seen_{plan_id}"
    held: tuple[int, int | None] | None = st.session_state.get(key)
    if held is None or held[0] != showing:
        held = (showing, review.mark_seen(user, plan_id, showing))
        st.session_state[key] = held
    return held[1]


def pick_revisions(choices: list[DiffChoice], numbers: list[int], key: str) -> tuple[int, int]:
    """The two revisions to compare: the first choice unless the viewer picks another.

    ``key`` should name the plan's current revision, so a save (a new current revision) starts
    the picker again at the default and the comparison is never left behind on an old revision.
    """
    picked = st.radio(
        "Compare",
        range(len(choices)),
        format_func=lambda i: choices[i].label,
        key=f"{key}_kind",
        horizontal=True,
    )
    choice = choices[picked]
    if choice.a is not None and choice.b is not None:
        return choice.a, choice.b
    c1, c2 = st.columns(2)
    a = c1.selectbox("From revision", numbers, index=len(numbers) - 2, key=f"{key}_a")
    b = c2.selectbox("To revision", numbers, index=len(numbers) - 1, key=f"{key}_b")
    return a, b
