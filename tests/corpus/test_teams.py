"""Team profiles: the narrative tells what the front matter says, and a bad field is refused by name.

The "two readers" rules below were the drafting checker's (``narrative_problems``); they hold the
team profiles to what ``tests/corpus/test_documents.py`` holds the role profiles and case studies
to. A bad field is refused the same way at ingest (``load_corpus``), by ``tailor corpus add`` and
by the Corpus page, because all three run the package's checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from streamlit.testing.v1 import AppTest

from tailor.config import PROJECT_ROOT, get_settings, reset_settings
from tailor.corpus.documents import CorpusDoc, TeamProfileMeta, load_corpus, load_document
from tailor.corpus.teams import COMPANY_DOMAIN
from tailor.corpus.writer import check_document, new_document_text, save_document, validate_document_text
from tailor.errors import BadInput
from tailor.review.auth import AuthService
from tailor.web.corpus_page import TEAM_COLUMNS, teams_frame
from tailor.web.session import TOKEN_KEY
from tests.conftest import CORPUS_DIR
from tests.fixtures.db import PASSWORD

CORPUS = load_corpus(CORPUS_DIR)
TEAMS = {d.id: d for d in CORPUS.docs if isinstance(d.meta, TeamProfileMeta)}


# =========================================================================== the two readers
def _norm(s: str) -> str:
    """Lowercase, with Markdown emphasis and runs of space folded (as test_documents compares)."""
    return re.sub(r"[\s*_`]+", " ", s.lower())


def _paragraphs(body: str) -> list[str]:
    return [_norm(p) for p in re.split(r"\n\s*\n", body) if p.strip()]


NUMBER_WORDS = {0: "no", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
CADENCE_WORDS: dict[str, tuple[str, ...]] = {
    "daily": ("daily", "every weekday", "every morning", "each weekday"),
    "weekly": ("weekly", "every {day}", "each {day}"),
    "biweekly": ("biweekly", "every other {day}", "every second {day}", "fortnightly"),
    "monthly": ("monthly", "of the month", "every month"),
    "quarterly": ("quarterly", "every quarter", "each quarter"),
}
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
WORDS = (600, 1100)  # aim for 600-1000: long enough to tell the story, short enough to read


def narrative_problems(meta: TeamProfileMeta, body: str) -> list[str]:
    """Each structured fact the narrative does not tell, as ``field: what is missing``."""
    text = _norm(body)
    paras = _paragraphs(body)
    problems: list[str] = []

    def told(phrase: str) -> bool:
        return _norm(phrase) in text

    def together(*phrases: str) -> bool:
        ps = [_norm(p) for p in phrases]
        return any(all(p in para for p in ps) for para in paras)

    def need(phrase: str, where: str) -> None:
        if not told(phrase):
            problems.append(f"{where}: the narrative never says {phrase!r}")

    need(meta.team, "team")
    need(meta.manager.name, "manager.name")
    for i, m in enumerate(meta.members):
        need(m.name, f"members.{i}.name")
        # The full name and the support word in one paragraph ("budd" matches buddy and buddies).
        if m.buddy and not together(m.name, "budd"):
            problems.append(f"members.{i}.buddy: no paragraph names {m.name} together with 'buddy'")
        if m.mentor and not together(m.name, "mentor"):
            problems.append(f"members.{i}.mentor: no paragraph names {m.name} together with 'mentor'")
    for i, s in enumerate(meta.services):
        need(s.name, f"services.{i}.name")
    for i, pr in enumerate(meta.current_projects):
        need(pr.name, f"current_projects.{i}.name")
    for i, pp in enumerate(meta.pain_points):
        need(pp.title, f"pain_points.{i}.title")
        for n in _NUMBER.findall(pp.description):
            if n not in body:
                problems.append(f"pain_points.{i}.description: the number {n!r} is not in the narrative")
    for i, t in enumerate(meta.starter_tasks):
        need(t.title, f"starter_tasks.{i}.title")
    for i, r in enumerate(meta.rituals):
        need(r.name, f"rituals.{i}.name")
        day = "" if r.day == "weekdays" else r.day
        cadences = [w.format(day=r.day.lower()) for w in CADENCE_WORDS[r.cadence]]
        if not any(together(r.name, r.time, day, c) for c in cadences):
            problems.append(
                f"rituals.{i}: no paragraph gives {r.name!r} with its time {r.time}"
                + (f", day {r.day}" if day else "")
                + f" and cadence {r.cadence}"
            )
    oc = meta.on_call
    if oc is not None:
        need(oc.name, "on_call.name")
        need(oc.paging_tool, "on_call.paging_tool")
        if not re.search(rf"\bweek {oc.earliest_week}\b", text):
            problems.append(f"on_call.earliest_week: the narrative never says 'week {oc.earliest_week}'")
        n = oc.rotation_length_days
        lengths = [f"{n}-day", f"{n} days", f"{n} day"]
        if n == 7:
            lengths += ["one week", "a week", "one-week", "week-long"]
        if n == 14:
            lengths += ["two weeks", "two-week", "fortnight"]
        if not any(told(x) for x in lengths):
            problems.append(f"on_call.rotation_length_days: the narrative never gives the {n}-day rotation length")
        word = NUMBER_WORDS.get(oc.shadow_shifts, str(oc.shadow_shifts))
        if not re.search(rf"\b({oc.shadow_shifts}|{word}) shadow shifts?\b", text):
            problems.append(f"on_call.shadow_shifts: the narrative never says '{word} shadow shift(s)'")
        if not re.search(rf"\b{oc.ack_minutes} minutes\b", text):
            problems.append(f"on_call.ack_minutes: the narrative never says '{oc.ack_minutes} minutes'")
        if not together(oc.handover.day, oc.handover.time):
            problems.append(f"on_call.handover: no paragraph gives {oc.handover.day} {oc.handover.time}")
        for j, step in enumerate(oc.escalation):
            need(step, f"on_call.escalation.{j}")
    for i, res in enumerate(meta.resources):
        need(res.title, f"resources.{i}.title")
    words = len(re.findall(r"\b\w[\w'’-]*\b", body))
    if not WORDS[0] <= words <= WORDS[1]:
        problems.append(f"(body): {words} words; aim for {WORDS[0]}-1000")
    return problems


@pytest.mark.parametrize("team_id", sorted(TEAMS))
def test_team_profile_body_tells_what_its_front_matter_says(team_id: str) -> None:
    doc = TEAMS[team_id]
    assert isinstance(doc.meta, TeamProfileMeta)
    problems = narrative_problems(doc.meta, doc.body)
    assert not problems, f"{team_id}:\n" + "\n".join(problems)


def test_the_narrative_check_notices_a_fact_the_body_drops() -> None:
    doc = TEAMS["team-orders"]
    assert isinstance(doc.meta, TeamProfileMeta)
    buddy = next(m for m in doc.meta.members if m.buddy)
    body = doc.body.replace(buddy.name, "someone").replace("09:45", "9.45")
    problems = narrative_problems(doc.meta, body)
    assert any(p.startswith(f"members.{doc.meta.members.index(buddy)}.name") for p in problems), problems
    assert any(p.startswith("rituals.0: no paragraph gives 'Stand-up'") for p in problems), problems


def test_there_are_enough_teams_for_every_role_family() -> None:
    assert not [e for e in CORPUS.errors if "teams" in e.path.parts], CORPUS.errors
    assert len(TEAMS) >= 8
    hired = {family for team in CORPUS.teams() for family in team.roles}
    profiled = {family for role in CORPUS.roles() for family in role.roles}
    assert profiled <= hired, f"no team hires {sorted(profiled - hired)}"
    assert {t.id for t in CORPUS.teams()} == set(TEAMS) and all(d.path.parent.name == "teams" for d in TEAMS.values())


def test_team_links_become_allowed_corpus_urls_on_the_company_domain() -> None:
    urls = CORPUS.urls()
    for team in CORPUS.teams():
        for res in team.resources:
            assert res.url in urls
            assert res.kind == "doc" or res.url.split("/")[2].endswith(COMPANY_DOMAIN), res.url


# =========================================================================== bad fields, refused by name
Mutation = Callable[[dict[str, Any]], None]


def mutate(text: str, change: Mutation) -> str:
    """The document with its front matter changed by ``change``; the body as it was."""
    post = frontmatter.loads(text)
    change(post.metadata)
    return frontmatter.dumps(post) + "\n"


def _set(*path: str | int, value: Any) -> Mutation:
    def change(meta: dict[str, Any]) -> None:
        node: Any = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


# (what is wrong, the change to team-orders, the field the error names, what it says)
BAD_FIELDS: list[tuple[str, Mutation, str, str]] = [
    ("unknown seniority", _set("members", 2, "seniority", value="wizard"), "members.2.seniority", "Input should be"),
    (
        "an alias, not the canonical skill",
        _set("stack", 3, value="Postgres"),
        "stack.3",
        "'Postgres' is not a canonical skill of the corpus vocabulary; write 'PostgreSQL'",
    ),
    (
        "a case slip in a skill",
        _set("members", 0, "knows", 3, value="postgresql"),
        "members.0.knows",
        "write 'PostgreSQL'",
    ),
    ("a junior buddy", _set("members", 4, "buddy", value=True), "members.4.buddy", "a junior cannot be a buddy"),
    (
        "a starter-task contact not on the team",
        _set("starter_tasks", 0, "contact", value="Ada Lovelace"),
        "starter_tasks.0.contact",
        "'Ada Lovelace' is not the manager or a member",
    ),
    (
        "a link on a foreign host",
        _set("resources", 0, "url", value="https://runbooks.example.com/orders-api"),
        "resources.0.url",
        f"https://runbooks.example.com/orders-api is neither on {COMPANY_DOMAIN} nor a corpus host",
    ),
    ("an unknown field", _set("mision", value="typo"), "mision", "Extra inputs are not permitted"),
]
BAD_IDS = [case[0] for case in BAD_FIELDS]


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the real corpus, so nothing is ever written to ./corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.mark.parametrize(("what", "change", "field", "message"), BAD_FIELDS, ids=BAD_IDS)
def test_a_bad_field_is_refused_at_load_naming_the_file_and_the_field(
    corpus_copy: Path, what: str, change: Mutation, field: str, message: str
) -> None:
    path = corpus_copy / "teams" / "team-orders.md"
    path.write_text(mutate(path.read_text(encoding="utf-8"), change), encoding="utf-8")
    corpus = load_corpus(corpus_copy)
    errors = [str(e) for e in corpus.errors]
    assert len(errors) == 1 and errors[0].startswith(f"{path}: {field}: "), errors
    assert message in errors[0], errors
    assert corpus.team("team-orders") is None and len(corpus.teams()) == len(TEAMS) - 1


def test_a_person_on_two_teams_is_refused_on_the_second(corpus_copy: Path) -> None:
    orders = TEAMS["team-orders"].meta
    assert isinstance(orders, TeamProfileMeta)
    person = orders.members[0].name
    storefront = TEAMS["team-storefront"].meta
    assert isinstance(storefront, TeamProfileMeta)
    path = corpus_copy / "teams" / "team-storefront.md"
    # Everywhere the file names its second member (starter task contacts too), it now names the person.
    path.write_text(path.read_text(encoding="utf-8").replace(storefront.members[1].name, person), "utf-8")
    errors = [str(e) for e in load_corpus(corpus_copy).errors]
    assert errors == [f"{path}: members.1.name: {person!r} is also on team-orders; a person is on one team"]


def test_a_team_whose_id_is_not_its_file_name_is_refused(corpus_copy: Path) -> None:
    moved = corpus_copy / "teams" / "team-order-squad.md"
    (corpus_copy / "teams" / "team-orders.md").rename(moved)
    errors = [str(e) for e in load_corpus(corpus_copy).errors]
    assert errors == [f"{moved}: id: 'team-orders' must equal the file name 'team-order-squad'"]


# --------------------------------------------------------------------------- the add path
NEW_ID = "team-new-squad"


def new_team_text() -> str:
    """A valid new team: team-orders with its own id, people and starter task ids."""
    doc = TEAMS["team-orders"]
    assert isinstance(doc.meta, TeamProfileMeta)
    text = doc.path.read_text(encoding="utf-8").replace("id: team-orders", f"id: {NEW_ID}", 1)
    people = [doc.meta.manager.name, *(m.name for m in doc.meta.members)]
    for i, person in enumerate(people):
        text = text.replace(person, f"Newcomer Person{chr(ord('A') + i)}")
    for task in doc.meta.starter_tasks:
        text = text.replace(f"id: {task.id}", f"id: new-{task.id}")
    return text


def test_a_valid_team_is_added_into_teams(corpus_copy: Path) -> None:
    path = save_document(corpus_copy, f"{NEW_ID}.md", new_team_text(), overwrite=False, kind="team_profile")
    assert path == (corpus_copy / "teams" / f"{NEW_ID}.md").resolve()
    corpus = load_corpus(corpus_copy)
    assert corpus.errors == () and corpus.team(NEW_ID) is not None
    # Replacing it is checked against the other teams, not against the file it replaces.
    save_document(corpus_copy, f"{NEW_ID}.md", new_team_text() + "\nRevised.\n", overwrite=True)


@pytest.mark.parametrize(("what", "change", "field", "message"), BAD_FIELDS, ids=BAD_IDS)
def test_adding_a_team_with_a_bad_field_names_the_file_and_the_field(
    corpus_copy: Path, what: str, change: Mutation, field: str, message: str
) -> None:
    with pytest.raises(BadInput) as refused:
        save_document(corpus_copy, f"{NEW_ID}.md", mutate(new_team_text(), change), overwrite=False)
    assert refused.value.message.startswith(f"{NEW_ID}.md: {field}: ") and message in refused.value.message
    assert not (corpus_copy / "teams" / f"{NEW_ID}.md").exists()


def test_adding_a_team_checks_it_against_the_rest_of_the_corpus(corpus_copy: Path) -> None:
    orders = TEAMS["team-orders"].meta
    assert isinstance(orders, TeamProfileMeta)
    taken = mutate(new_team_text(), _set("manager", "name", value=orders.manager.name))
    with pytest.raises(
        BadInput, match=rf"^{NEW_ID}\.md: manager\.name: '{orders.manager.name}' is also on team-orders"
    ):
        check_document(corpus_copy, f"{NEW_ID}.md", taken)
    task = mutate(new_team_text(), _set("starter_tasks", 0, "id", value=orders.starter_tasks[0].id))
    with pytest.raises(BadInput, match=rf"^{NEW_ID}\.md: starter_tasks\.0\.id: .* is also used by team-orders"):
        check_document(corpus_copy, f"{NEW_ID}.md", task)
    with pytest.raises(BadInput, match=rf"^team-other\.md: id: '{NEW_ID}' must equal the file name 'team-other'"):
        check_document(corpus_copy, "team-other.md", new_team_text())
    # Every problem is listed, one per line, each naming the file.
    both = mutate(taken, _set("stack", 3, value="Postgres"))
    with pytest.raises(BadInput) as refused:
        check_document(corpus_copy, f"{NEW_ID}.md", both)
    lines = refused.value.message.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{NEW_ID}.md: ") for line in lines), lines


def test_a_new_team_starts_from_a_copy_that_asks_for_its_own_people(corpus_copy: Path) -> None:
    text = new_document_text(load_corpus(corpus_copy), "team_profile", "team-new-team")
    assert "id: team-new-team" in text and "kind: team_profile" in text
    assert validate_document_text(text).id == "team-new-team"  # valid on its own...
    with pytest.raises(BadInput, match="is also on team-"):  # ...but its people are on another team
        check_document(corpus_copy, "team-new-team.md", text)


def tailor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tailor.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        cwd=PROJECT_ROOT,
    )


def test_tailor_corpus_add_takes_a_team_and_refuses_a_bad_field(corpus_copy: Path, tmp_path: Path) -> None:
    source = tmp_path / f"{NEW_ID}.md"
    source.write_text(mutate(new_team_text(), _set("members", 2, "seniority", value="wizard")), encoding="utf-8")
    bad = tailor("corpus", "add", str(source), "--kind", "team_profile", "--corpus", str(corpus_copy))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"error: {NEW_ID}.md: members.2.seniority: Input should be" in bad.stderr
    assert not (corpus_copy / "teams" / source.name).exists()

    source.write_text(new_team_text(), encoding="utf-8")
    added = tailor("corpus", "add", str(source), "--kind", "team_profile", "--corpus", str(corpus_copy))
    assert added.returncode == 0, added.stderr
    assert (corpus_copy / "teams" / source.name).read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    written = load_document(corpus_copy / "teams" / source.name)
    assert isinstance(written, CorpusDoc) and written.kind == "team_profile"


# =========================================================================== the Corpus page
def test_the_teams_frame_lists_each_team_with_its_manager_and_families() -> None:
    frame = teams_frame(CORPUS)
    assert tuple(frame.columns) == TEAM_COLUMNS and len(frame) == len(TEAMS)
    row = frame[frame["id"] == "team-runtime"].iloc[0]
    runtime = CORPUS.team("team-runtime")
    assert runtime is not None
    assert row["manager"] == runtime.manager.name and row["role families"] == "platform, management"
    empty = load_corpus(PROJECT_ROOT / "no-such-corpus")
    assert tuple(teams_frame(empty).columns) == TEAM_COLUMNS


@pytest.fixture
def admin_app(
    isolated_settings: Path, fast_hashing: None, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> AppTest:
    """The app signed in as an admin, on a copy of the corpus, with the Corpus page open."""
    monkeypatch.setenv("TAILOR_CORPUS_DIR", str(corpus_copy))
    reset_settings()
    auth = AuthService(get_settings())
    auth.bootstrap_admin("admin", PASSWORD, "Ada Admin")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
    at.session_state[TOKEN_KEY] = auth.authenticate("admin", PASSWORD).token
    at.run()
    at.switch_page("pages/corpus.py").run()
    assert not at.exception, at.exception
    return at


def _shown(elements: object) -> str:
    joined = " | ".join(str(e.value) for e in elements)  # type: ignore[attr-defined]
    return re.sub(r"\\(.)", r"\1", joined)  # without safe()'s Markdown escapes


def test_the_corpus_page_lists_teams_and_adds_one_with_the_same_checks(admin_app: AppTest, corpus_copy: Path) -> None:
    at = admin_app
    teams = next(df.value for df in at.dataframe if "manager" in df.value.columns)
    assert set(teams["id"]) == set(TEAMS)
    orders = CORPUS.team("team-orders")
    assert orders is not None
    assert teams[teams["id"] == "team-orders"].iloc[0]["manager"] == orders.manager.name

    choice = "(new team profile)"
    at.selectbox(key="co_edit_pick").set_value(choice).run()
    assert "kind: team_profile" in str(at.text_area(key=f"co_text_{choice}").value)
    at.text_input(key=f"co_name_{choice}").input(f"{NEW_ID}.md")
    at.text_area(key=f"co_text_{choice}").input(mutate(new_team_text(), _set("members", 4, "buddy", value=True)))
    at.button(key="co_validate").click().run()
    assert f"{NEW_ID}.md: members.4.buddy: " in _shown(at.error), _shown(at.error)
    at.button(key="co_save").click().run()
    assert not (corpus_copy / "teams" / f"{NEW_ID}.md").exists()

    at.text_area(key=f"co_text_{choice}").input(new_team_text())
    at.button(key="co_save").click().run()
    assert not at.exception, at.exception
    saved = corpus_copy / "teams" / f"{NEW_ID}.md"
    assert saved.is_file() and load_corpus(corpus_copy).team(NEW_ID) is not None
