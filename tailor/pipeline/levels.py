"""Which seniority level to use when the corpus states none for the hire's own: one rule for the
plan's expectations, capability targets, policy cases and the fit analysis."""

from __future__ import annotations

from collections.abc import Sequence

from tailor.corpus.literals import SENIORITY_ORDER, Seniority

# Where to look when the corpus has nothing for the hire's own level: the nearest levels first,
# in the direction a hire of that level is most like (a principal is planned like a staff engineer).
LEVEL_FALLBACK: dict[Seniority, tuple[Seniority, ...]] = {
    "intern": ("intern", "junior", "mid"),
    "junior": ("junior", "intern", "mid"),
    "mid": ("mid", "junior", "senior"),
    "senior": ("senior", "mid", "staff"),
    "staff": ("staff", "principal", "senior"),
    "principal": ("principal", "staff", "senior"),
    "manager": ("manager", "director", "senior"),
    "director": ("director", "manager", "staff"),
}


def nearest(mapping_keys: Sequence[Seniority], level: Seniority) -> Seniority | None:
    """The level among ``mapping_keys`` closest to ``level``: its fallback order first, then rank distance.

    Role profiles state expectations and capability targets for some levels only; a hire of
    another level is planned against the nearest one rather than getting none.
    """
    for candidate in LEVEL_FALLBACK[level]:
        if candidate in mapping_keys:
            return candidate
    ordered = sorted(mapping_keys, key=lambda k: abs(SENIORITY_ORDER.index(k) - SENIORITY_ORDER.index(level)))
    return ordered[0] if ordered else None
