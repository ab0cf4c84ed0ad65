"""Validate: semantic checks on model text and on whole plans.

The pydantic schema checks shape. These check meaning: text that repeats
itself or copies the prompt, links the corpus does not have, personal data,
echoes of instructions hidden in a résumé, tasks that claim a skill they don't
use, due weeks out of order. Model output that fails keeps the skeleton's
text and is flagged ``needs_review`` with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from tailor.corpus.documents import URL_RE
from tailor.pipeline.privacy import PLACEHOLDER, find_personal_data
from tailor.review.flags import flag
from tailor.schema import Plan, ReviewFlag

_INJECTION_ECHO = re.compile(
    r"(?i)\b(ignore (?:all |any )?(?:previous|prior|above) instructions|system prompt|mark (?:this|the) (?:plan )?"
    r"(?:as )?approved|status\s*[:=]\s*approved|as an ai|i cannot|language model)\b"
)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def is_degenerate(text: str) -> str | None:
    """A reason if the text repeats itself the way small models do when they lose the thread."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 4:
        return "too short to be useful"
    top = _ngrams(words, 3).most_common(1)
    if top and top[0][1] >= 3:
        return f"repeats the phrase {' '.join(top[0][0])!r}"
    if len(words) >= 12 and len(set(words)) / len(words) < 0.35:
        return "repeats the same few words"
    return None


def copies_prompt(text: str, prompt_texts: Iterable[str], span: int = 12) -> bool:
    """True if the text reproduces a run of ``span`` words of the instructions."""
    words = [w.lower() for w in _WORD.findall(text)]
    grams = {tuple(words[i : i + span]) for i in range(len(words) - span + 1)}
    if not grams:
        return False
    for prompt in prompt_texts:
        pw = [w.lower() for w in _WORD.findall(prompt)]
        if grams & {tuple(pw[i : i + span]) for i in range(len(pw) - span + 1)}:
            return True
    return False


def text_problems(
    text: str,
    *,
    allowed_urls: set[str],
    instructions: Iterable[str] = (),
    must_mention: str | None = None,
) -> list[str]:
    """Every reason this model-written text may not stand in a plan (empty list: it may)."""
    problems: list[str] = []
    degenerate = is_degenerate(text)
    if degenerate:
        problems.append(degenerate)
    for url in URL_RE.findall(text):
        if url.rstrip(").,;") not in allowed_urls:
            # The reason must not carry the link itself into the plan.
            problems.append("links to a URL that is not in the corpus")
    if PLACEHOLDER.search(text):
        problems.append("carries a redaction placeholder (personal data)")
    kinds = find_personal_data(text)
    if kinds:
        problems.append(f"contains personal data ({', '.join(sorted(set(kinds)))})")
    if _INJECTION_ECHO.search(text):
        problems.append("echoes an instruction instead of describing onboarding work")
    if instructions and copies_prompt(text, instructions):
        problems.append("copies the prompt's instructions")
    if must_mention and must_mention.lower() not in text.lower():
        problems.append(f"does not use the skill {must_mention!r} it claims")
    return problems


def plan_problems(plan: Plan, *, corpus_ids: set[str], allowed_urls: set[str]) -> list[ReviewFlag]:
    """Plan-wide checks that the schema cannot express, each a sentence a reviewer can act on."""
    flags: list[ReviewFlag] = []
    cited = {s.id for s in plan.sources}
    for phase in plan.phases:
        for task in phase.tasks:
            if not phase.start_week <= task.due_week <= phase.end_week:
                flags.append(
                    flag(
                        f"task.{task.id}.due_week",
                        "validation",
                        reason=f"due in week {task.due_week}, outside its phase {phase.name} "
                        f"(weeks {phase.start_week}-{phase.end_week})",
                    )
                )
            unknown = [s for s in task.sources if s not in corpus_ids]
            if unknown:
                flags.append(
                    flag(
                        f"task.{task.id}.sources",
                        "validation",
                        reason=f"cites documents that are not in the corpus: {', '.join(unknown)}",
                    )
                )
            uncited = [s for s in task.sources if s not in cited]
            if uncited:
                flags.append(
                    flag(
                        f"task.{task.id}.sources",
                        "validation",
                        reason=f"cites documents the plan's sources do not list: {', '.join(uncited)}",
                    )
                )
            for skill in task.skills:
                if skill.lower() not in f"{task.title} {task.description}".lower():
                    flags.append(
                        flag(
                            f"task.{task.id}.skills",
                            "validation",
                            reason=f"names the skill {skill!r} but does not use it",
                        )
                    )
    starts = [p.start_week for p in plan.phases]
    if starts != sorted(starts):
        flags.append(flag("phases", "validation", reason="the phases are not in week order"))
    blob = plan.model_dump_json()
    for url in set(URL_RE.findall(blob)):
        if url.rstrip(').,;\\"') not in allowed_urls:
            # The sentence must not carry the link itself into the plan.
            flags.append(flag("plan", "validation", reason="the plan links to an address that is not in the corpus"))
    return flags
