"""Text matching shared by the evaluators and the tailoring measures.

Its own module so that ``tailoring`` (the measures) and ``evaluators`` (the verdicts) can both
use it without importing each other.
"""

from __future__ import annotations

import re
import unicodedata

_WORD_RE = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case- and whitespace-insensitive form for substring checks."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", text)


def mentions(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive match that treats C++, C# and Node.js as words."""
    return re.search(rf"(?<![\w+#]){re.escape(fold(phrase))}(?![\w+#])", fold(text)) is not None


def names(text: str, name: str) -> bool:
    """Whole-word, case-sensitive match: a person's name ("Grace") is not the word "grace"."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def word_key(word: str) -> str:
    """One key for a word's common forms: folded, with a plural "s" dropped ("pipelines" = "pipeline")."""
    w = fold(word)
    return w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w


def word_keys(text: str, min_len: int = 4) -> set[str]:
    """The keys of the words in ``text`` (letters and digits; hyphens and dots split words) of ``min_len`` or more.

    Words that start with a digit (versions, figures) are left out: they say nothing about a person.
    """
    return {word_key(w) for w in _WORD_RE.findall(text) if len(w) >= min_len and not w[0].isdigit()}


def normalised(text: str) -> str:
    """The words of ``text`` only: folded, punctuation dropped, one space between words."""
    return " ".join(_WORD_RE.findall(fold(text)))
