"""The corpus skill vocabulary: canonical skill names and the other spellings people write for them.

Canonical names are the role profiles' ``skills_vocabulary``. ``corpus/skills.yaml`` adds aliases
("Postgres" and "psql" are PostgreSQL, "k8s" is Kubernetes), so intake, team profiles and the
skill-gap analysis all compare skills by meaning rather than by exact string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ALIASES_FILE = "skills.yaml"
# Aliases this short are ordinary letters in lower case ("ts", "js"): they match only as written.
_SHORT_ALIAS = 4
# "never written SQL", "no Kafka", "sin experiencia en Java": a skill named after a negation in the
# same clause is not a skill the text claims.
_NEGATED = re.compile(
    r"(?i)\b(?:never|not|no|without|hasn't|haven't|has not|have not|lacks?|nunca|sin|kein(?:e|en)?|nie|jamais|sans)"
    r"\b[^.;,:\n]{0,30}$"
)


class AliasError(ValueError):
    """``skills.yaml`` is malformed or names a skill the vocabulary does not have."""


class SkillTable(BaseModel):
    """What ``skills.yaml`` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match_as_written: tuple[str, ...] = Field(default=(), description="Names that are also everyday words.")
    aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    related: tuple[tuple[str, ...], ...] = Field(
        default=(), description="Groups of skills where knowing one makes the others quicker to learn."
    )


def load_skill_table(path: Path) -> SkillTable:
    """The table in ``path``; an absent file means no aliases."""
    if not path.is_file():
        return SkillTable()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return SkillTable.model_validate(data)
    except yaml.YAMLError as exc:
        raise AliasError(f"invalid YAML: {str(exc).splitlines()[0]}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AliasError(f"{where}: {first['msg']}") from exc


@dataclass(frozen=True)
class SkillVocabulary:
    """Every spelling the corpus knows, mapped to its canonical skill name."""

    canonical_names: tuple[str, ...]
    table: SkillTable = field(default_factory=SkillTable)

    @classmethod
    def build(cls, names: Iterable[str], table: SkillTable) -> SkillVocabulary:
        """The vocabulary; raises :class:`AliasError` when the table names a skill the vocabulary lacks."""
        canonical = tuple(dict.fromkeys(names))
        known = {n.lower(): n for n in canonical}
        aliases = {a for alts in table.aliases.values() for a in alts}
        for where, key in [
            *(("aliases", k) for k in table.aliases),
            *(("match_as_written", k) for k in table.match_as_written),
            *(("related", k) for group in table.related for k in group),
        ]:
            if key not in canonical and not (where == "match_as_written" and key in aliases):
                hint = f" (the vocabulary spells it {known[key.lower()]!r})" if key.lower() in known else ""
                raise AliasError(f"{where}: {key!r} is not a skill in any role profile's skills_vocabulary{hint}")
        return cls(canonical, table)

    @cached_property
    def _spellings(self) -> dict[str, str]:
        """lowercase spelling -> canonical name (canonical spellings first, so an alias never shadows one)."""
        out = {n.lower(): n for n in self.canonical_names}
        for name, alts in self.table.aliases.items():
            for alt in alts:
                out.setdefault(alt.lower(), name)
        return out

    def canonical(self, name: str) -> str | None:
        """The canonical name for ``name`` (any case, any known alias), or None if the corpus does not know it."""
        return self._spellings.get(name.strip().lower())

    def normalise(self, names: Iterable[str]) -> list[str]:
        """``names`` with known spellings made canonical and duplicates removed; unknown names kept as typed."""
        out: dict[str, str] = {}
        for n in names:
            c = self.canonical(n) or n.strip()
            if c:
                out.setdefault(c.lower(), c)
        return list(out.values())

    def related(self, skill: str) -> list[str]:
        """The skills ``skills.yaml`` groups with ``skill`` (not itself), canonical names."""
        name = (self.canonical(skill) or skill).lower()
        out: list[str] = []
        for group in self.table.related:
            if name in {g.lower() for g in group}:
                out += [g for g in group if g.lower() != name and g not in out]
        return out

    def same(self, a: str, b: str) -> bool:
        return (self.canonical(a) or a.strip()).lower() == (self.canonical(b) or b.strip()).lower()

    def find(self, text: str) -> list[str]:
        """The canonical skills ``text`` names, in the order it first names them (not where it says it lacks them)."""
        found: dict[str, int] = {}
        for pattern, canonical in self._patterns:
            for m in pattern.finditer(text):
                if _NEGATED.search(text[max(0, m.start() - 40) : m.start()]):
                    continue
                if canonical not in found or m.start() < found[canonical]:
                    found[canonical] = m.start()
                break
        return sorted(found, key=lambda c: found[c])

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        as_written = set(self.table.match_as_written)
        spellings: list[tuple[str, str, bool]] = [(n, n, n in as_written) for n in self.canonical_names]
        for name, alts in self.table.aliases.items():
            spellings += [(alt, name, len(alt) < _SHORT_ALIAS or alt in as_written) for alt in alts]
        pats = []
        for spelling, canonical, exact in spellings:
            # Not inside a longer word, a C#/C++ name or a dotted name ("Node" is not "Node.js"'s prefix).
            body = rf"(?<![\w+#.]){re.escape(spelling)}(?![\w+#]|\.\w)"
            pats.append((re.compile(body, 0 if exact else re.IGNORECASE), canonical))
        return pats
