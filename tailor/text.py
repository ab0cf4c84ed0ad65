"""Text helpers every layer shares: ASCII transliteration, the one slug function, and lists in words.

Slugs name task ids, case-study ids and export files. They are spelled the same way
everywhere, so "Zoë Łukasiewicz" is ``zoe-lukasiewicz`` in the app, the CLI and the exports.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Letters and punctuation that Unicode decomposition does not reduce to ASCII.
ASCII_EXTRA = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "ss", "Æ": "AE", "æ": "ae",
        "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "ı": "i", "–": "-", "—": "-", "‘": "'", "’": "'",
        "“": '"', "”": '"', "…": "...", "•": "*", "·": "-", "☐": "[ ]",
    }
)  # fmt: skip
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def to_ascii(text: str) -> str:
    """Transliterate to ASCII (``Łódź`` -> ``Lodz``); what has no ASCII form is dropped."""
    return unicodedata.normalize("NFKD", text.translate(ASCII_EXTRA)).encode("ascii", "ignore").decode()


def slug(text: str, max_len: int = 60, fallback: str = "") -> str:
    """Lowercase ASCII words joined by hyphens, at most ``max_len`` characters; ``fallback`` if none."""
    base = _NOT_SLUG.sub("-", to_ascii(text).lower()).strip("-")
    if len(base) > max_len:
        # Cut at a word boundary when there is one, so ids do not end mid-word.
        cut = base[:max_len]
        base = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return base or fallback


def unique_slug(text: str, taken: Iterable[str], max_len: int = 48, fallback: str = "task") -> str:
    """``slug(text)``, suffixed ``-2``, ``-3``... until it is not in ``taken``."""
    used = set(taken)
    base = slug(text, max_len, fallback)
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def join_and(items: Iterable[str]) -> str:
    """A list as a sentence says it: "a", "a and b", "a, b and c"."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
