"""Redact personal data before any text reaches a model.

Patterns are deliberately greedy: a false positive costs a word in a prompt, a
false negative leaks a résumé. Redaction runs on every model call's input, and
the plan validators reject model output that still carries personal data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, Field

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+\s?(?:@|\(at\)|\[at\])\s?[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# A profile link, not documentation on a subdomain of the same site (docs.github.com is not a person).
_HANDLE_URL = re.compile(
    r"(?<![\w.-])(?:www\.)?(?:linkedin\.com|github\.com|gitlab\.com|twitter\.com|x\.com|medium\.com)/[^\s<>\"')\]]+",
    re.IGNORECASE,
)
# IBAN before phone and ID: it contains long digit runs the others would split.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_ID_LABELLED = re.compile(
    r"(?i)\b(?:ssn|social security(?: number)?|passport(?: no\.?| number)?|national id(?: number)?|"
    r"id(?: no\.?| number)|tax id|driver'?s licen[cs]e(?: no\.?| number)?|personalausweis|dni|nie|nif)"
    r"\s*[:#]?\s*[A-Z0-9][A-Z0-9\-]{4,20}"
)
_PHONE = re.compile(
    r"(?<![\w/])(?:\+|00)?\d{1,3}?[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{2,4}[\s.\-]?\d{2,4}[\s.\-]?\d{2,5}(?![\w/])"
)
_STREET_WORDS = (
    r"street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|court|ct\.?|"
    r"way|place|pl\.?|terrace|square|sq\.?|strasse|straße|str\.?|weg|gasse|calle|rue|via|avenida"
)
_ADDRESS = re.compile(
    rf"(?i)\b\d{{1,5}}[A-Za-z]?\s+(?:[A-ZÄÖÜa-zäöüß][\w'.\-]*\s+){{0,4}}(?:{_STREET_WORDS})\b"
    rf"(?:[ ,]+(?:apt|suite|unit|#)\s*\w+)?"
    rf"|\b(?:[A-ZÄÖÜ][\wäöüß\-]*)(?:{_STREET_WORDS})\s+\d{{1,5}}[a-z]?\b"
    rf"|\b(?:calle|rue|via|avenida)\s+[\w\s]{{2,30}}?\s+\d{{1,5}}\b"
)
_POSTCODE_CITY = re.compile(r"\b\d{5}(?:-\d{4})?\s+[A-ZÄÖÜ][a-zäöüß]+(?:\s[A-ZÄÖÜ][a-zäöüß]+)?\b")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
_UK_NI = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")
_DOB = re.compile(r"(?i)\b(?:born|date of birth|dob|geboren|fecha de nacimiento)\s*[:\-]?\s*[\w ,./\-]{4,20}\d{2,4}")

# Order matters: each pattern sees the text the earlier ones left.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", _EMAIL),
    ("URL", _HANDLE_URL),
    ("URL", _URL),
    ("ID", _ID_LABELLED),
    ("IBAN", _IBAN),
    ("ID", _SSN),
    ("ID", _UK_NI),
    ("ADDRESS", _UK_POSTCODE),
    ("DOB", _DOB),
    ("ADDRESS", _ADDRESS),
    ("ADDRESS", _POSTCODE_CITY),
    ("PHONE", _PHONE),
)
PLACEHOLDER = re.compile(r"\[(?:EMAIL|URL|ID|IBAN|DOB|ADDRESS|PHONE|NAME)\]")


class Redaction(BaseModel):
    text: str
    counts: dict[str, int] = Field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    # Years ("2019-2023"), percentages and versions are not phone numbers.
    if len(digits) < 7 or len(digits) > 15:
        return False
    return not re.fullmatch(r"(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}", candidate.strip())


def redact(text: str, names: Iterable[str] = (), keep_urls: Iterable[str] = ()) -> Redaction:
    """Replace personal data with placeholders like ``[EMAIL]``.

    ``names`` are the hire's known names (from the manager's form); each word of
    three or more letters is replaced wherever it appears. ``keep_urls`` are
    URLs that are public documentation (from the corpus) and may stay.
    """
    counts: Counter[str] = Counter()
    keep = set(keep_urls)
    out = text
    for label, pattern in _PATTERNS:

        def _sub(m: re.Match[str], label: str = label) -> str:
            value = m.group(0)
            if label == "URL" and value.rstrip(".,;") in keep:
                return value
            if label == "PHONE" and not _is_phone(value):
                return value
            counts[label] += 1
            return f"[{label}]"

        out = pattern.sub(_sub, out)
    for name in names:
        for part in {p for p in re.split(r"[\s,]+", name.strip()) if len(p) >= 3}:
            out, n = re.subn(rf"\b{re.escape(part)}\b", "[NAME]", out, flags=re.IGNORECASE)
            if n:
                counts["NAME"] += n
    return Redaction(text=out, counts=dict(counts))


def find_personal_data(text: str) -> list[str]:
    """Return the kinds of personal data still present (used to reject model output)."""
    found: list[str] = []
    for label, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if label == "PHONE" and not _is_phone(m.group(0)):
                continue
            if label == "URL":
                continue  # URLs are judged against the corpus by the grounding validator
            found.append(label)
            break
    return found


class PeopleMask:
    """Colleagues' names swapped for their roles in prompts, and swapped back in the answers.

    Team members' names are personal data too: a prompt to a hosted model says "the team's Staff
    Backend Engineer", and the composer's text keeps the name. Two people with one title get a
    number ("the team's Backend Engineer 2") so the way back is unambiguous.
    """

    def __init__(self, people: Iterable[tuple[str, str]]) -> None:
        self.pairs: list[tuple[str, str]] = []
        seen: Counter[str] = Counter()
        for name, role in people:
            seen[role] += 1
            stand_in = f"the team's {role}" + (f" {seen[role]}" if seen[role] > 1 else "")
            self.pairs.append((name, stand_in))
        # longest first, so "Ana Li" never eats part of "Ana Lima"; first names after full names
        self._hide = sorted(
            [(re.compile(rf"\b{re.escape(n)}\b"), s) for n, s in self.pairs]
            + [(re.compile(rf"\b{re.escape(n.split()[0])}\b"), s) for n, s in self.pairs if len(n.split()) > 1],
            key=lambda p: -len(p[0].pattern),
        )
        self._restore = sorted(
            ((re.compile(re.escape(s) + r"(?!\s?\d)"), n) for n, s in self.pairs), key=lambda p: -len(p[0].pattern)
        )

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def hide(self, text: str) -> str:
        for pattern, stand_in in self._hide:
            text = pattern.sub(stand_in, text)
        return text

    def restore(self, text: str) -> str:
        for pattern, name in self._restore:
            text = pattern.sub(name, text)
        return text
