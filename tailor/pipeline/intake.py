"""Intake: read a hire profile from a background text.

Deterministic rules read what text reliably says (years, the current title's
seniority words, skills from the corpus vocabulary, situation keywords). The
model's reading is cross-checked against them, so a 9-year "Senior" is never an
intern, whatever a small model says. Manager overrides win over both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, Field

from tailor.corpus.documents import SENIORITY_ORDER, Corpus, RoleFamily, RoleProfileMeta, Seniority, Situation
from tailor.corpus.skills import SkillVocabulary
from tailor.errors import BadInput
from tailor.pipeline.privacy import Redaction, redact
from tailor.schema import DraftRequest, HireProfile, ReviewFlag

MIN_BACKGROUND_CHARS = 20

# Title words -> seniority, most specific first. Matched on the current title only.
_TITLE_LEVELS: tuple[tuple[str, Seniority], ...] = (
    (r"\b(?:vp|vice president|director|head of engineering|head of)\b", "director"),
    (r"\b(?:engineering manager|eng manager|team lead manager|manager of engineering|em)\b", "manager"),
    (r"\bprincipal\b", "principal"),
    (r"\bstaff\b", "staff"),
    (r"\b(?:senior|sr\.?|lead|tech lead|iii)\b", "senior"),
    (r"\b(?:mid|mid-level|intermediate|ii)\b", "mid"),
    (r"\b(?:junior|jr\.?|associate|entry[- ]level|graduate|new grad|i)\b", "junior"),
    (r"\b(?:intern|internship|trainee|apprentice|werkstudent|praktikant|becario)\b", "intern"),
)

_SITUATIONS: tuple[tuple[str, Situation], ...] = (
    (
        r"\b(?:re-?hire|rejoin(?:ing|s)?|returning to northwind|boomerang|previously (?:worked|at) northwind)\b",
        "rehire",
    ),
    (
        r"\b(?:career break|caregiving|parental leave of|sabbatical|returning to (?:work|the workforce)|"
        r"years? away from (?:work|the industry)|back to work after)\b",
        "career_break",
    ),
    (
        r"\b(?:bootcamp|career (?:change|changer|switch(?:er)?)|former (?:teacher|nurse|chef|accountant|"
        r"musician|lawyer)|previously (?:a|an) (?:teacher|nurse|chef|accountant))\b",
        "career_switcher",
    ),
    (
        r"\b(?:acqui(?:red|sition)|joining (?:via|through) (?:the )?acquisition|acqui-hire)\b",
        "acquisition_transfer",
    ),
    (
        r"\b(?:contractor|contract(?:ing)? (?:role|engineer|basis)|convert(?:ing|ed)? to (?:full[- ]time|"
        r"employee|fte)|freelance[rd]? for northwind)\b",
        "contractor_conversion",
    ),
    (
        r"\b(?:utc ?[+\-] ?\d{1,2}|fully remote|remote (?:from|in)|time ?zone|gmt ?[+\-] ?\d{1,2})\b",
        "remote_far_timezone",
    ),
)

_YEARS = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?|jahre|años|ans)\b(?:\s+of)?(?:\s+\w+){0,3}?\s*"
    r"(?:experience|exp\b|in (?:software|industry|engineering|tech)|professional|building|as|working)?",
    re.IGNORECASE,
)
_SINCE = re.compile(r"\bsince\s+((?:19|20)\d{2})\b", re.IGNORECASE)
_RANGE = re.compile(r"\b((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2}|present|now|today|heute|actualidad)\b", re.IGNORECASE)


class RuleReading(BaseModel):
    """What the deterministic rules found, with the evidence for each."""

    title: str | None = None
    title_seniority: Seniority | None = None
    years: float | None = None
    role_family: RoleFamily | None = None
    role_evidence: str | None = None
    skills: list[str] = Field(default_factory=list)
    situation: Situation = "standard"
    name: str | None = Field(default=None, description="A name the résumé opens with, to redact.")

    @property
    def certain(self) -> bool:
        """A clear title word, stated years and a role from the title: nothing left for a model to read.

        The model's reading then only costs time (about 29 s on the 0.5B model) and, when
        it disagrees, can only be wrong: measured, it read a 9-year senior as an intern.
        """
        return (
            self.title_seniority is not None
            and self.years is not None
            and self.role_family is not None
            and (self.role_evidence or "").startswith("title ")
        )


_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’\-]+"
_NAME_LINE = re.compile(
    rf"^\s*(?:name\s*:\s*)?({_NAME_WORD}(?:\s+{_NAME_WORD}){{1,2}})\s*(?:$|[—–|,·(]|\s-\s)", re.IGNORECASE
)
_NOT_NAME = re.compile(
    r"(?i)\b(engineer|developer|manager|senior|junior|staff|lead|intern|current|title|role|summary|profile|"
    r"experience|curriculum|resume|résumé|about|skills|data|software|backend|frontend|mobile|platform)\b"
)


def guess_name(text: str) -> str | None:
    """The name a résumé opens with ("Priya Raman — Senior Backend Engineer"), so it can be redacted.

    Only the first three lines are read, and only two or three capitalised words that are not job
    words count: a miss leaves the name to the manager's form, a false hit redacts a harmless phrase.
    """
    for line in text.splitlines()[:3]:
        m = _NAME_LINE.match(line)
        # "Tidepool Analytics (2021-present)" is an employer with its dates, not a person
        dated = re.match(r"\s*\(\s*(?:19|20)\d\d", line[m.end(1) :]) if m else None
        if m and not dated and not _NOT_NAME.search(m.group(1)) and m.group(1)[0].isupper():
            return m.group(1)
    return None


@dataclass
class Vocabulary:
    """Role aliases and skills drawn from the corpus role profiles."""

    roles: Sequence[RoleProfileMeta]
    words: SkillVocabulary = field(default_factory=lambda: SkillVocabulary(()))

    @classmethod
    def from_corpus(cls, corpus: Corpus) -> Vocabulary:
        return cls(roles=corpus.roles(), words=corpus.skills)

    @property
    def skills(self) -> dict[str, str]:
        """lowercase -> canonical spelling of every canonical skill name."""
        return {n.lower(): n for n in self.words.canonical_names}


def normalise_text(text: str) -> str:
    """Validate and normalise a background; raise BadInput with a reason a person can act on."""
    if "\x00" in text:
        raise BadInput("the background contains NUL bytes: it looks like a binary file, not text")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.strip()
    if not stripped:
        raise BadInput("the background is empty: paste a résumé summary or upload a file")
    letters = sum(ch.isalpha() for ch in stripped)
    if len(stripped) < MIN_BACKGROUND_CHARS or (letters < 0.4 * len(stripped) and letters < 200):
        raise BadInput(
            "the background is too short or has too few words to read a profile from "
            f"({len(stripped)} characters, {letters} letters): paste a few sentences about the hire"
        )
    words = re.findall(r"[^\W\d_]{2,}", stripped)
    if len(words) < 4 or len(set(w.lower() for w in words)) < 3:
        raise BadInput("the background does not read as text about a person: paste a résumé summary")
    controls = sum(1 for ch in stripped if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if controls > 0.01 * len(stripped):
        raise BadInput("the background contains control characters: it looks like a binary file, not text")
    why = not_prose(stripped)
    if why:
        raise BadInput(
            f"the background does not read as text about a person: {why}. "
            "Paste a résumé summary or a few sentences about the hire"
        )
    return stripped


# What no background about a person looks like, measured on every background in evals/cases and
# examples/ (worst legitimate value in brackets): a share of unpronounceable words (4 %), a run of
# words with no full stop, comma or line break (27 words), few distinct words in a long text (30 %).
# The limits sit far from those, so only random letters, word salad and repeated filler trip them.
# Random real words written as sentences still pass: telling those apart needs a model.
_GIBBERISH_SHARE = 0.2
_MIN_WORDS_TO_JUDGE = 12
_LONGEST_RUN = 60
_MIN_DISTINCT_SHARE = 0.08
_VOWELS = set("aeiouyæøœ")
_PAUSES = re.compile(r"[.,;:!?\n•·()\[\]|/\\\-–—\"“”„«»]+")


def _unpronounceable(word: str) -> bool:
    """No vowel, five consonants in a row, or one letter three times: "xkqjv", "asdfghjk", "zzzop"."""
    bare = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))
    if not any(c in _VOWELS for c in bare):
        return True
    return bool(re.search(r"[^aeiouyæøœ]{5,}", bare) or re.search(r"(.)\1\1", bare))


def not_prose(text: str) -> str | None:
    """Why ``text`` is not prose or notes in a language (random letters, word salad, filler), or None.

    Only words in Latin script are judged for pronounceability, and only lower-case or capitalised
    ones: acronyms (SQL, gRPC) and other scripts (日本語) are never counted against a text.
    """
    if re.match(r"(?i)\s*lorem ipsum\b", text):
        return "it is placeholder text (lorem ipsum)"
    words = re.findall(r"[^\W\d_]+", text)
    judged = [w for w in words if len(w) >= 3 and max(w) < "\u0250" and (w.islower() or w.istitle())]
    if len(judged) >= _MIN_WORDS_TO_JUDGE:
        odd = [w for w in judged if _unpronounceable(w)]
        if len(odd) > _GIBBERISH_SHARE * len(judged):
            examples = ", ".join(dict.fromkeys(odd[:3]))
            return f"{len(odd) * 100 // len(judged)} % of its words do not look like words (such as {examples})"
    run = max((len(re.findall(r"[^\W\d_]+", part)) for part in _PAUSES.split(text)), default=0)
    if run > _LONGEST_RUN:
        return f"it runs {run} words without a full stop, comma or line break, like a list of random words"
    distinct = len({w.lower() for w in words})
    if len(words) >= 100 and distinct < _MIN_DISTINCT_SHARE * len(words):
        return f"it repeats the same {distinct} words over and over ({len(words)} words in all)"
    return None


_LABELLED_TITLE = re.compile(r"(?im)^\s*(?:current (?:title|role|position)|title|role|position)\s*[:\-]\s*(.+)$")
# German compounds ("Softwareentwicklerin") and feminine forms carry the title word inside a longer word.
_TITLE_WORDS = (
    r"(?i)(?:\b(?:engineer|developer|programmer|manager|scientist|architect|sre|analyst|tester|intern|lead|"
    r"director|ingeniera?|ing[ée]nieure?|desarrollador[a]?|d[ée]veloppeu(?:r|se))\b|(?:ingenieur|entwickler)(?:in)?\b)"
)
_HEAD_LINES = 8  # a résumé states the current title at the top
# "Joins as Senior Data Engineer", "Se incorpora como …", "Kommt als … zu uns", "Rejoint l'équipe en tant que …":
# the role the hire is hired into is the title to plan for, wherever the text states it.
_JOINS_AS = re.compile(
    r"(?i)\b(?:joins?|joining|hired|starts?|starting|comes on board|se incorpora|incorporándose|entra|kommt|"
    r"wechselt|tritt|rejoint|rejoindra|arrive)\b[^.\n]{0,40}?\b(?:as|como|als|en tant que|comme)\s+"
    r"(?:an?\s+|una?\s+|el\s+|la\s+|un\s+|une\s+)?([^.\n;,(]{3,80})"
)
_AMBITION = re.compile(r"(?i)\b(aspir|want|hope|goal|looking to|ambition|next step|become)\w*")


def _current_title(text: str) -> str | None:
    """The current job title: a labelled line or a title-like line near the top, else a labelled line anywhere.

    Ambitions ("aspiring staff engineer") are skipped. A "Title:" line deep in a long CV
    (an appendix, a past project) must not beat the headline.
    """
    head = "\n".join(text.splitlines()[:_HEAD_LINES])
    labelled = _LABELLED_TITLE.search(head)
    if labelled:
        return labelled.group(1).strip()[:120]
    for joins in _JOINS_AS.finditer(text):
        title = re.split(r"\s+(?:at|en|bei|in|on|chez|to|zu)\s+", joins.group(1).strip())[0]
        if re.search(_TITLE_WORDS, title) and not _AMBITION.search(joins.group(0)):
            return title.strip()[:120]
    for line in text.splitlines()[:_HEAD_LINES]:
        line = line.strip(" -*#\t")
        if len(line) > 120:
            # One paragraph: "Senior Backend Engineer, 9 years of …" states the title in its first clause.
            line = re.split(r"[.;:]\s|,\s", line, maxsplit=1)[0]
        if not line or len(line) > 120 or _AMBITION.search(line):
            continue
        if re.search(_TITLE_WORDS, line):
            # "Jane Doe — Senior Backend Engineer": keep the part with the title words
            for part in re.split(r"\s[—–|\-]\s|,\s", line):
                if re.search(_TITLE_WORDS, part):
                    return part.strip()
            return line
    labelled = _LABELLED_TITLE.search(text)
    return labelled.group(1).strip()[:120] if labelled else None


def seniority_from_title(title: str) -> Seniority | None:
    lowered = title.lower()
    for pattern, level in _TITLE_LEVELS:
        if re.search(pattern, lowered):
            if level == "manager" and re.search(r"\b(?:product|project|program) manager\b", lowered):
                continue
            return level
    return None


def seniority_from_years(years: float) -> Seniority:
    if years < 1:
        return "junior"
    if years < 3:
        return "junior"
    if years < 6:
        return "mid"
    if years < 11:
        return "senior"
    return "staff"


def read_years(text: str, today: date | None = None) -> float | None:
    """Years of experience: an explicit statement wins; otherwise the span of dated roles."""
    explicit = [float(m.group(1)) for m in _YEARS.finditer(text) if 0 < float(m.group(1)) <= 50]
    if explicit:
        return max(explicit)
    year_now = (today or date.today()).year
    starts = [int(m.group(1)) for m in _SINCE.finditer(text)]
    for m in _RANGE.finditer(text):
        starts.append(int(m.group(1)))
    starts = [s for s in starts if 1970 <= s <= year_now]
    if starts:
        return float(year_now - min(starts))
    return None


def _match_skills(text: str, vocab: Vocabulary) -> list[str]:
    """The corpus skills the text names, by any known spelling ("Postgres" is PostgreSQL), in order."""
    return vocab.words.find(text)


def _match_role(
    title: str | None, text: str, skills: list[str], vocab: Vocabulary
) -> tuple[RoleFamily | None, str | None]:
    """Role family from title aliases first, then from skill overlap with each profile's vocabulary."""
    lowered_title = (title or "").lower()
    best: tuple[int, RoleProfileMeta] | None = None
    for role in vocab.roles:
        for alias in [role.title, *role.aliases]:
            a = alias.lower()
            if a and re.search(rf"\b{re.escape(a)}\b", lowered_title):
                score = len(a)
                if best is None or score > best[0]:
                    best = (score, role)
    if best is not None:
        return best[1].roles[0], f"title {title!r} matches {best[1].title!r}"
    skill_set = {s.lower() for s in skills}
    scored: list[tuple[int, RoleProfileMeta]] = []
    for role in vocab.roles:
        overlap = len(skill_set & {s.lower() for s in role.skills_vocabulary})
        alias_hits = sum(1 for a in role.aliases if a.lower() in text.lower())
        scored.append((overlap + 2 * alias_hits, role))
    scored.sort(key=lambda x: -x[0])
    if scored and scored[0][0] > 0:
        return scored[0][1].roles[0], f"skills overlap {scored[0][0]} with {scored[0][1].title!r}"
    return None, None


def read_rules(text: str, vocab: Vocabulary, today: date | None = None) -> RuleReading:
    title = _current_title(text)
    skills = _match_skills(text, vocab)
    family, evidence = _match_role(title, text, skills, vocab)
    situation: Situation = "standard"
    lowered = text.lower()
    for pattern, sit in _SITUATIONS:
        if re.search(pattern, lowered):
            situation = sit
            break
    return RuleReading(
        title=title,
        title_seniority=seniority_from_title(title) if title else None,
        years=read_years(text, today),
        role_family=family,
        role_evidence=evidence,
        skills=skills,
        situation=situation,
        name=guess_name(text),
    )


class ModelReading(BaseModel):
    """What the model is asked for at intake: small enough for a 0.5B model under a grammar."""

    current_title: str = Field(max_length=120, description="The hire's current or most recent job title.")
    seniority: Seniority = Field(description="From the current title, not from ambitions.")
    years_experience: float = Field(ge=0, le=50)
    skills: list[str] = Field(max_length=12, description="Technical skills the text names.")
    summary: str = Field(
        min_length=20,
        max_length=300,
        description="One sentence on the hire's background, in the third person, no names or contacts.",
    )


@dataclass
class IntakeResult:
    profile: HireProfile
    flags: list[ReviewFlag]
    rules: RuleReading


def _level_index(level: Seniority) -> int:
    return SENIORITY_ORDER.index(level)


def resolve_profile(
    request: DraftRequest,
    rules: RuleReading,
    model: ModelReading | None,
    redacted_text: str,
    vocab: Vocabulary,
) -> IntakeResult:
    """Combine overrides, rules and the model. Precedence: manager override > rules > model > defaults.

    What the rules read with certainty (a title word, stated years, a role from the title) is
    final: the model only fills what the rules left open, and where its reading disagrees with
    the rules' the rules stand and the disagreement becomes a review flag, never a silent change.
    """
    flags: list[ReviewFlag] = []
    years = _resolve_years(request, rules, model, flags)
    seniority = _resolve_seniority(request, rules, model, years, flags)
    family = _resolve_family(request, rules, seniority, flags, vocab)
    skills = _resolve_skills(request, rules, model, redacted_text, vocab)
    role_title = request.role or rules.title or (model.current_title if model else None)
    if not role_title:
        role_title = f"{seniority.title()} {family} engineer"
    summary = model.summary if model is not None else _fallback_summary(seniority, family, years, skills)
    if model is None:
        flags.append(ReviewFlag(field="hire.summary", reason="written from rules; the model did not summarise"))
    profile = HireProfile(
        name=request.name,
        role=role_title[:300],
        role_family=family,
        seniority=seniority,
        years_experience=years,
        skills=skills,
        summary=summary,
        situation=rules.situation,
        start_date=request.start_date,
    )
    return IntakeResult(profile=profile, flags=flags, rules=rules)


def _resolve_years(
    request: DraftRequest, rules: RuleReading, model: ModelReading | None, flags: list[ReviewFlag]
) -> float:
    if request.years_experience is not None:
        return float(request.years_experience)
    if rules.years is not None:
        if model is not None and abs(model.years_experience - rules.years) >= 2:
            flags.append(
                ReviewFlag(
                    field="hire.years_experience",
                    reason=f"the text states {rules.years:g} years; the model read {model.years_experience:g}. "
                    f"Kept {rules.years:g}.",
                )
            )
        return float(rules.years)
    if model is not None:
        flags.append(ReviewFlag(field="hire.years_experience", reason="years read by the model only; confirm"))
        return float(model.years_experience)
    return 0.0


def _resolve_seniority(
    request: DraftRequest, rules: RuleReading, model: ModelReading | None, years: float, flags: list[ReviewFlag]
) -> Seniority:
    """The level: the override, else the title word (checked against the years), else the years, else the model."""
    if request.seniority:
        return request.seniority
    stated_years = rules.years is not None or request.years_experience is not None
    years_level = seniority_from_years(years) if stated_years else None
    title_level = rules.title_seniority
    if title_level is None:
        return _level_without_title_word(rules, model, years, years_level, flags)
    if model is not None and model.seniority != title_level:
        flags.append(
            ReviewFlag(
                field="hire.seniority",
                reason=f"the title {rules.title!r} says {title_level}; the model read {model.seniority}. "
                f"Kept {title_level}.",
            )
        )
    if years_level is None or title_level in ("intern", "manager", "director"):
        return title_level
    gap = _level_index(title_level) - _level_index(years_level)
    if gap >= 2:
        planned = SENIORITY_ORDER[_level_index(years_level) + 1]
        flags.append(
            ReviewFlag(
                field="hire.seniority",
                reason=f"the title says {title_level} but the text gives {years:g} years of experience; "
                f"planned as {planned}. Confirm the level.",
            )
        )
        return planned
    if gap <= -2 and title_level in ("junior", "mid"):
        flags.append(
            ReviewFlag(
                field="hire.seniority",
                reason=f"{years:g} years of experience but the title says {title_level}; kept the title",
            )
        )
    return title_level


def _level_without_title_word(
    rules: RuleReading,
    model: ModelReading | None,
    years: float,
    years_level: Seniority | None,
    flags: list[ReviewFlag],
) -> Seniority:
    """No seniority word in the title: stated years decide; the model may fill in only when nothing is stated.

    A model level far from what the years say is the small model misreading (measured: a 6-year
    data engineer read as an intern), so the years stand and the disagreement is flagged.
    """
    # Said about the title the form shows: the one read from the text, or, when the text names none,
    # the stand-in resolve_profile makes from the level and family ("Senior backend engineer").
    where = (
        f"the title {rules.title!r} has no seniority word"
        if rules.title
        else "no job title was read from the text, so the title shown is a stand-in made from the level and role"
    )
    if years_level is not None:
        if model is not None and abs(_level_index(model.seniority) - _level_index(years_level)) >= 2:
            flags.append(
                ReviewFlag(
                    field="hire.seniority",
                    reason=f"{where}; the model read {model.seniority}, but {years:g} years of experience "
                    f"read as {years_level}. Planned as {years_level}; confirm the level.",
                )
            )
        else:
            flags.append(
                ReviewFlag(field="hire.seniority", reason=f"{where}; planned as {years_level} from {years:g} years")
            )
        return years_level
    if model is not None and rules.title is None:
        flags.append(
            ReviewFlag(field="hire.seniority", reason=f"{where}; the model read {model.seniority}. Confirm the level.")
        )
        return model.seniority
    flags.append(ReviewFlag(field="hire.seniority", reason=f"{where} and no years stated; planned as mid"))
    return "mid"


def _resolve_family(
    request: DraftRequest, rules: RuleReading, seniority: Seniority, flags: list[ReviewFlag], vocab: Vocabulary
) -> RoleFamily:
    if request.role_family is not None:
        return request.role_family
    if seniority in ("manager", "director"):
        return "management"
    family = rules.role_family
    if family is None:
        flags.append(
            ReviewFlag(
                field="hire.role_family",
                reason="the corpus has no role profile that matches this background; "
                "planned against the backend profile. Pick the right role.",
            )
        )
        return "backend"
    if (rules.role_evidence or "").startswith("skills overlap"):
        # A title the corpus does not know (a technical writer, a designer), or none at all,
        # would otherwise be planned as whichever profile shares the most skills, silently.
        # Name the profile the skills matched: the grounding step shows it as the closest one, and a
        # warning that said "matches no role profile" beside it would contradict the page.
        profile = next((r.title for r in vocab.roles if r.roles[0] == family), family)
        said = "without a job title, the background matches no role profile by name"
        if rules.title:
            said = f"the title {rules.title!r} matches no role profile in the corpus"
        flags.append(
            ReviewFlag(
                field="hire.role_family",
                reason=f"{said}; planned as {family} because the skills named are closest to the {profile} "
                "profile. Confirm the role or pick another.",
            )
        )
    return family


def _resolve_skills(
    request: DraftRequest, rules: RuleReading, model: ModelReading | None, redacted_text: str, vocab: Vocabulary
) -> list[str]:
    """The manager's list (canonical spellings), else the rules', plus model skills the text really names."""
    if request.skills is not None:
        return vocab.words.normalise(request.skills)[:20]
    skills = list(rules.skills)
    if model is not None:
        known = {s.lower() for s in skills}
        for s in model.skills:
            canonical = vocab.words.canonical(s) or s
            # A skill the model names counts only if the text names it too: small models invent.
            if canonical.lower() not in known and re.search(rf"(?i)(?<!\w){re.escape(s)}(?!\w)", redacted_text):
                skills.append(canonical)
                known.add(canonical.lower())
    return skills[:20]


def _fallback_summary(seniority: str, family: str, years: float, skills: list[str]) -> str:
    skill_text = ", ".join(skills[:5]) if skills else "no listed tools"
    return f"A {seniority} {family} engineer with about {years:g} years of experience; skills include {skill_text}."


@dataclass
class ProfileReading:
    """What the rules alone read from a background: the first step of every draft, and the confirm form."""

    text: str
    """The background, normalised."""
    rules: RuleReading
    redaction: Redaction
    profile: HireProfile
    flags: list[ReviewFlag]


def read_profile(request: DraftRequest, vocab: Vocabulary, allowed_urls: set[str]) -> ProfileReading:
    """Normalise, read by rules, redact (the typed name and the name the rules found), resolve. No model."""
    text = normalise_text(request.background)
    rules = read_rules(text, vocab)
    names = [n for n in (request.name, rules.name) if n]
    redaction = redact(text, names=names, keep_urls=allowed_urls)
    result = resolve_profile(request, rules, None, redaction.text, vocab)
    return ProfileReading(text=text, rules=rules, redaction=redaction, profile=result.profile, flags=result.flags)
