from __future__ import annotations

import contextlib
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.corpus.documents import load_corpus
from tailor.errors import BadInput
from tailor.pipeline.intake import (
    ModelReading,
    Vocabulary,
    normalise_text,
    read_rules,
    read_years,
    resolve_profile,
    seniority_from_title,
)
from tailor.schema import DraftRequest
from tests.conftest import CORPUS_DIR

VOCAB = Vocabulary.from_corpus(load_corpus(CORPUS_DIR))

SENIOR = """Priya — Senior Backend Engineer at Paylane (payments)
9 years of experience building payment APIs in Go and Python, PostgreSQL, Kafka and Kubernetes.
Led the migration to gRPC. Wants to become a staff engineer."""


def _profile(text: str, model: ModelReading | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    req = DraftRequest(background=text, **overrides)  # type: ignore[arg-type]
    return resolve_profile(req, read_rules(text, VOCAB), model, text, VOCAB)


def test_rules_read_title_years_skills() -> None:
    r = read_rules(SENIOR, VOCAB)
    assert r.title_seniority == "senior"
    assert r.years == 9
    assert r.role_family == "backend"
    assert {"Go", "Python", "PostgreSQL", "Kafka"} <= set(r.skills)


def test_seniority_comes_from_the_title_not_the_ambition() -> None:
    assert _profile(SENIOR).profile.seniority == "senior"


def test_a_nine_year_senior_is_never_an_intern_whatever_the_model_says() -> None:
    wrong = ModelReading(
        current_title="Intern",
        seniority="intern",
        years_experience=0,
        skills=["Go"],
        summary="An intern who is new to software engineering and wants to learn.",
    )
    result = _profile(SENIOR, wrong)
    assert result.profile.seniority == "senior"
    assert result.profile.years_experience == 9


def test_contradiction_is_resolved_and_flagged() -> None:
    text = "Senior Software Engineer (backend)\n1 year of experience with Python and Django after university."
    result = _profile(text)
    assert result.profile.seniority in ("junior", "mid")
    assert any(f.field == "hire.seniority" for f in result.flags)


def test_model_skills_count_only_when_the_text_names_them() -> None:
    reading = ModelReading(
        current_title="Senior Backend Engineer",
        seniority="senior",
        years_experience=9,
        skills=["Go", "Rust", "COBOL"],
        summary="Builds payment APIs for a fintech company.",
    )
    skills = _profile(SENIOR, reading).profile.skills
    assert "Go" in skills and "Rust" not in skills and "COBOL" not in skills


def test_manager_overrides_win() -> None:
    p = _profile(SENIOR, seniority="staff", role_family="platform", skills=["Terraform"]).profile
    assert (p.seniority, p.role_family, p.skills) == ("staff", "platform", ["Terraform"])


def test_unknown_role_is_flagged() -> None:
    result = _profile("Pastry chef with 6 years of experience making croissants and sourdough in Lyon bakeries.")
    assert any(f.field == "hire.role_family" for f in result.flags)


def test_the_headline_title_beats_a_labelled_line_deep_in_the_cv() -> None:
    cv = "Staff Data Engineer\n12 years of experience.\n" + "Built pipelines.\n" * 30 + "Title: Junior Analyst (2009)\n"
    assert read_rules(cv, VOCAB).title == "Staff Data Engineer"
    assert read_rules("Title: Senior QA Engineer\nTests things for 8 years.", VOCAB).title == "Senior QA Engineer"
    assert read_rules("Summary\n" * 9 + "Role: Platform Engineer", VOCAB).title == "Platform Engineer"


@pytest.mark.parametrize(
    "title", ["Backend-Entwicklerin", "Senior Softwareentwickler", "Ingeniera de datos", "Desarrolladora móvil"]
)
def test_compound_and_feminine_titles_are_read(title: str) -> None:
    assert read_rules(f"{title}\nSeit 2016 in der Softwareentwicklung, 8 Jahre.", VOCAB).title == title


def test_a_title_the_corpus_lacks_is_flagged_even_when_skills_pick_a_profile() -> None:
    writer = "Technical Writer\n6 years writing API docs with OpenAPI, Git, Python and PostgreSQL examples."
    result = _profile(writer)
    flags = [f for f in result.flags if f.field == "hire.role_family"]
    assert flags and "matches no role profile" in flags[0].reason
    assert result.profile.role_family in flags[0].reason, "the reviewer sees what it was planned as"
    # a title the corpus knows is not flagged
    assert not [f for f in _profile(SENIOR).flags if f.field == "hire.role_family"]


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Staff Engineer", "staff"),
        ("Sr. Data Engineer", "senior"),
        ("Junior Developer", "junior"),
        ("Software Engineering Intern", "intern"),
        ("Engineering Manager", "manager"),
        ("Principal Engineer", "principal"),
        ("Product Manager", None),
    ],
)
def test_title_levels(title: str, level: str | None) -> None:
    assert seniority_from_title(title) == level


def test_years_from_ranges_when_not_stated() -> None:
    assert read_years("Acme 2016-2020; Globex 2020-present", today=date(2026, 1, 1)) == 10


@pytest.mark.parametrize("text", ["", "   \n\t", "\x00\x01binary", "!!!! ???? 1234 5678 ---- ....", "hi"])
def test_bad_backgrounds_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(BadInput) as exc:
        normalise_text(text)
    assert exc.value.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_rules_never_crash(text: str) -> None:
    read_rules(text, VOCAB)
    with contextlib.suppress(BadInput):
        normalise_text(text)


# --------------------------------------------------------------------------- the rules' certain fields are final
NAME_LINE_SENIOR = """Jordan Reyes — jordan.reyes@example.com — +1 415 555 0199
Senior Backend Engineer, 9 years. Built payment APIs in Go and PostgreSQL, owned Kafka consumers."""
SPANISH_SENIOR = (
    "Lucía Fernández. Ingeniera de datos con 6 años de experiencia en pipelines con Spark, Airflow y dbt "
    "sobre Snowflake. Ha liderado la migración de un data warehouse a la nube. Se incorpora como Senior Data Engineer."
)
ONE_PARAGRAPH = (
    "Senior backend engineer, 9 years of experience with Go, PostgreSQL and Kafka at a payments company, "
    "where she led the REST to gRPC migration."
)


def _intern(title: str = "Intern", years: float = 0) -> ModelReading:
    return ModelReading(
        current_title=title, seniority="intern", years_experience=years, skills=[], summary="An intern who is new."
    )


@pytest.mark.parametrize(
    ("text", "level", "family"),
    [(NAME_LINE_SENIOR, "senior", "backend"), (SPANISH_SENIOR, "senior", "data"), (ONE_PARAGRAPH, "senior", "backend")],
)
def test_the_rules_read_these_shapes_with_certainty(text: str, level: str, family: str) -> None:
    rules = read_rules(normalise_text(text), VOCAB)
    assert (rules.title_seniority, rules.role_family, rules.certain) == (level, family, True)


@pytest.mark.parametrize("text", [NAME_LINE_SENIOR, SPANISH_SENIOR])
def test_a_model_that_reads_an_intern_never_downgrades_a_senior(text: str) -> None:
    rules = read_rules(normalise_text(text), VOCAB)
    read = resolve_profile(DraftRequest(background=text), rules, _intern(), text, VOCAB)
    assert read.profile.seniority == "senior"
    assert any("the model read intern" in f.reason and f.field == "hire.seniority" for f in read.flags)


def test_without_a_title_word_stated_years_stand_against_the_model_and_the_disagreement_is_flagged() -> None:
    text = "Data engineer who has spent 6 years building pipelines with dbt, Airflow and Snowflake for retailers."
    rules = read_rules(normalise_text(text), VOCAB)
    assert rules.title_seniority is None and rules.years == 6
    read = resolve_profile(DraftRequest(background=text), rules, _intern(years=6), text, VOCAB)
    assert read.profile.seniority == "senior"
    assert any("the model read intern" in f.reason for f in read.flags)


def test_the_model_fills_the_level_only_when_the_rules_have_nothing() -> None:
    text = "Builds internal tools in Python and Django for a logistics company; enjoys pairing and code review."
    rules = read_rules(normalise_text(text), VOCAB)
    assert rules.title is None and rules.years is None
    read = resolve_profile(DraftRequest(background=text), rules, _intern(), text, VOCAB)
    assert read.profile.seniority == "intern"
    assert any(f.field == "hire.seniority" and "Confirm the level" in f.reason for f in read.flags)


def test_skill_aliases_are_read_as_the_corpus_spelling() -> None:
    rules = read_rules(normalise_text("Backend developer, 5 years: Postgres, k8s and golang; ready to go live."), VOCAB)
    assert rules.skills == ["PostgreSQL", "Kubernetes", "Go"]


# --------------------------------------------------------------------------- text that is not about a person
def _every_eval_background() -> list[str]:
    """Every background the eval cases draft from (the bad-input cases, which must be refused, aside)."""
    import yaml

    from tailor.config import PROJECT_ROOT

    found = []
    for path in sorted((PROJECT_ROOT / "evals" / "cases").glob("*.yaml")):
        if path.stem == "bad-input":
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")).get("cases", []):
            background = (case.get("inputs") or {}).get("background")
            if background:
                found.append(background)
    found += [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "examples").glob("*.txt"))]
    return found


def _random_letters(seed: int, words: int) -> str:
    import random
    import string

    rng = random.Random(seed)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9))) for _ in range(words))


def test_every_real_background_reads_as_text_about_a_person() -> None:
    backgrounds = _every_eval_background()
    assert len(backgrounds) > 40
    for text in [*backgrounds, SENIOR, NAME_LINE_SENIOR, SPANISH_SENIOR, ONE_PARAGRAPH]:
        assert normalise_text(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_random_letters(1, 6000)[:40_000], r"\d+ % of its words do not look like words \(such as "),
        (_random_letters(2, 40), r"do not look like words"),
        (" ".join(["payments", "river", "Kafka", "violin", "engineer", "orange", "ledger"] * 20), r"runs 140 words"),
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.", r"placeholder text"),
        ("Backend engineer. Python. " * 60, r"repeats the same 3 words over and over"),
    ],
)
def test_text_that_is_not_about_a_person_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(BadInput, match=r"^the background does not read as text about a person: ") as refused:
        normalise_text(text)
    assert re.search(reason, refused.value.message), refused.value.message
    assert refused.value.message.endswith("Paste a résumé summary or a few sentences about the hire")


def test_acronyms_and_other_scripts_are_not_counted_as_gibberish() -> None:
    stack = "Skills: SQL, gRPC, AWS, GCP, K8s, CI/CD, HTML, CSS, PHP, dbt, Kafka, Łukasiewicz, Strzelczyk."
    assert normalise_text(f"Senior Backend Engineer, 8 years. {stack}")
    assert normalise_text("山田太郎 — シニアバックエンドエンジニア。Python と Go で 8 years of experience。")


# --------------------------------------------------------------------------- warnings that agree with the form
def test_without_a_title_the_warnings_say_the_title_is_a_stand_in_and_name_the_closest_profile() -> None:
    text = "Priya has 8 years of experience building payment systems in Python and PostgreSQL at a fintech."
    result = _profile(text)
    assert result.profile.role == "Senior backend engineer"  # what the form's title field shows
    reasons = {f.field: f.reason for f in result.flags}
    assert "no seniority word" not in reasons["hire.seniority"]
    assert "the title shown is a stand-in" in reasons["hire.seniority"]
    assert "closest to the Backend Engineer profile" in reasons["hire.role_family"]


def test_a_title_without_a_level_word_is_quoted_as_the_form_shows_it() -> None:
    result = _profile("Backend engineer, 8 years of Python and PostgreSQL.")
    [flag] = [f for f in result.flags if f.field == "hire.seniority"]
    assert f"the title {result.profile.role!r} has no seniority word" in flag.reason
