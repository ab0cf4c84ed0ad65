"""The skill vocabulary: one skill under every spelling people write, and no skill where there is none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tailor.corpus.documents import load_corpus
from tailor.corpus.skills import ALIASES_FILE, AliasError, SkillTable, SkillVocabulary, load_skill_table
from tests.conftest import CORPUS_DIR

CORPUS = load_corpus(CORPUS_DIR)
SKILLS = CORPUS.skills


def test_the_real_alias_table_loads_and_every_key_is_canonical() -> None:
    assert not [e for e in CORPUS.errors if e.path.name == ALIASES_FILE]
    table = load_skill_table(CORPUS_DIR / ALIASES_FILE)
    assert table == CORPUS.skill_table and table.aliases
    aliases = {a for alts in table.aliases.values() for a in alts}
    for key in [*table.aliases, *(k for group in table.related for k in group)]:
        assert key in SKILLS.canonical_names, key
    for key in table.match_as_written:  # an everyday-word alias ("Node") may be listed too
        assert key in SKILLS.canonical_names or key in aliases, key


def test_related_skills_carry_over_both_ways() -> None:
    assert "Cypress" in SKILLS.related("Playwright") and "Playwright" in SKILLS.related("cypress")
    assert SKILLS.related("Postgres") == ["MySQL", "SQLite"]
    assert SKILLS.related("Figma") == []


def test_a_negated_skill_is_not_claimed() -> None:
    assert SKILLS.find("Game servers in Go; has never written SQL, no Kafka either.") == ["Go"]
    assert SKILLS.find("Never used Kafka at work, but built a Kafka consumer at home.") == ["Kafka"]


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Postgres", "PostgreSQL"),
        ("postgres", "PostgreSQL"),
        ("PostgreSQL", "PostgreSQL"),
        ("postgresql", "PostgreSQL"),
        (" psql ", "PostgreSQL"),
        ("k8s", "Kubernetes"),
        ("K8s", "Kubernetes"),
        ("golang", "Go"),
        ("Golang", "Go"),
        ("Node", "Node.js"),
        ("sklearn", "scikit-learn"),
    ],
)
def test_aliases_and_case_name_the_canonical_skill(written: str, canonical: str) -> None:
    assert SKILLS.canonical(written) == canonical
    assert SKILLS.same(written, canonical)


def test_unknown_names_are_kept_as_typed_and_duplicates_dropped() -> None:
    assert SKILLS.canonical("COBOL on punch cards") is None
    assert SKILLS.normalise(["Postgres", "PostgreSQL", "k8s", "COBOL on punch cards", " "]) == [
        "PostgreSQL",
        "Kubernetes",
        "COBOL on punch cards",
    ]
    assert not SKILLS.same("Postgres", "MySQL")


def test_find_reads_skills_in_text_by_alias_in_order() -> None:
    text = "Eight years of golang services on k8s, backed by Postgres."
    assert SKILLS.find(text) == ["Go", "Kubernetes", "PostgreSQL"]


def test_go_in_lower_case_is_a_verb_not_the_language() -> None:
    assert "Go" not in SKILLS.find("Ready to go live and let go of the old system; good to go.")
    assert SKILLS.find("Wrote services in Go and Python") == ["Go", "Python"]
    # A short alias counts only as written: "ts" in lower case is not TypeScript.
    assert "TypeScript" not in SKILLS.find("the ts column holds timestamps")
    assert "TypeScript" in SKILLS.find("TS and React")


def test_node_is_not_found_again_inside_node_js() -> None:
    assert SKILLS.find("Built APIs in Node.js.") == ["Node.js"]
    node_patterns = [p for p, canonical in SKILLS._patterns if canonical == "Node.js"]
    hits = [m.group(0) for p in node_patterns for m in p.finditer("Built APIs in Node.js.")]
    assert hits == ["Node.js"], hits  # the "Node" alias does not match a second time inside "Node.js"
    assert SKILLS.find("a Node backend") == ["Node.js"]
    assert "Next.js" not in SKILLS.find("next, we shipped")


def test_an_alias_key_that_is_not_canonical_is_refused() -> None:
    with pytest.raises(AliasError, match=r"^aliases: 'Postgres' is not a skill in any role profile's"):
        SkillVocabulary.build(["PostgreSQL"], SkillTable(aliases={"Postgres": ("psql",)}))
    with pytest.raises(AliasError, match=r"'postgresql' is not a skill .* \(the vocabulary spells it 'PostgreSQL'\)"):
        SkillVocabulary.build(["PostgreSQL"], SkillTable(aliases={"postgresql": ("psql",)}))
    with pytest.raises(AliasError, match=r"match_as_written: 'Rust'"):
        SkillVocabulary.build(["Go"], SkillTable(match_as_written=("Rust",)))


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


def test_a_non_canonical_key_in_skills_yaml_is_a_load_error_naming_the_file(corpus_copy: Path) -> None:
    path = corpus_copy / ALIASES_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("  PostgreSQL: [", "  postgresql: ["), encoding="utf-8")
    corpus = load_corpus(corpus_copy)
    errors = [str(e) for e in corpus.errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}: (skills): aliases: 'postgresql' is not a skill")
    assert "spells it 'PostgreSQL'" in errors[0]
    # The documents still load; without the table, an alias no longer matches.
    assert corpus.roles() and corpus.skills.canonical("Postgres") is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [("aliases: [not, a, mapping]\n", "aliases"), ("aliases: {Go: [Golang]\nbroken", "invalid YAML")],
)
def test_a_malformed_skills_yaml_is_a_load_error(corpus_copy: Path, text: str, needle: str) -> None:
    (corpus_copy / ALIASES_FILE).write_text(text, encoding="utf-8")
    errors = [str(e) for e in load_corpus(corpus_copy).errors]
    assert len(errors) == 1 and ALIASES_FILE in errors[0] and needle in errors[0], errors
