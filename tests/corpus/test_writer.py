"""Writing corpus documents: only valid documents, only inside the corpus, from the page and the CLI alike."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tailor.config import PROJECT_ROOT
from tailor.corpus.documents import CorpusError, load_corpus, load_document
from tailor.corpus.writer import (
    CORPUS_FOLDERS,
    check_document,
    corpus_target,
    new_document_text,
    plain_md_name,
    save_document,
    validate_document_text,
)
from tailor.errors import BadInput
from tests.conftest import CORPUS_DIR


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the real corpus, so nothing is ever written to ./corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


def case_text(corpus_dir: Path, new_id: str = "case-new-story") -> str:
    return new_document_text(load_corpus(corpus_dir), "case_study", new_id)


# --------------------------------------------------------------------------- names and paths
@pytest.mark.parametrize(
    "name",
    [
        "../evil.md",
        "roles/x.md",
        "a\\b.md",
        "notes.txt",
        "..md",
        "UPPER.md",
        "x.md",
        "/etc/case-evil.md",
        "case-evil.md\x00.txt",
        "case-evil.md.py",
        "",
    ],
)
def test_only_plain_md_names_pass(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadInput):
        corpus_target(tmp_path, name, "case_study")


def test_a_plain_name_lands_in_its_kind_folder(tmp_path: Path) -> None:
    assert plain_md_name("  case-my-story.md ") == "case-my-story.md"
    for kind, folder in CORPUS_FOLDERS.items():
        assert corpus_target(tmp_path, "doc-one.md", kind) == (tmp_path / folder / "doc-one.md").resolve()
    with pytest.raises(BadInput, match="unknown document kind"):
        corpus_target(tmp_path, "doc-one.md", "memo")


def test_a_symlinked_folder_cannot_lead_outside(corpus_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(corpus_copy / "case-studies")
    (corpus_copy / "case-studies").symlink_to(outside, target_is_directory=True)
    with pytest.raises(BadInput, match="outside the corpus"):
        save_document(corpus_copy, "case-new-story.md", case_text(CORPUS_DIR), overwrite=True)
    assert list(outside.iterdir()) == []


# --------------------------------------------------------------------------- the document itself
def test_validation_reads_the_text_as_ingest_does(corpus_copy: Path) -> None:
    doc = validate_document_text(case_text(corpus_copy))
    assert doc.id == "case-new-story" and doc.kind == "case_study"
    with pytest.raises(BadInput, match="situation"):
        validate_document_text(case_text(corpus_copy).replace("situation:", "situation_typo:", 1))
    with pytest.raises(BadInput, match="missing YAML front matter"):
        validate_document_text("just prose")


def test_check_document_wants_the_kind_the_caller_expects(corpus_copy: Path) -> None:
    assert check_document(corpus_copy, "case-new-story.md", case_text(corpus_copy)).kind == "case_study"
    with pytest.raises(BadInput, match="the front matter says kind: case_study, not role_profile"):
        check_document(corpus_copy, "case-new-story.md", case_text(corpus_copy), kind="role_profile")
    with pytest.raises(BadInput, match="unknown document kind 'memo'"):
        check_document(corpus_copy, "case-new-story.md", case_text(corpus_copy), kind="memo")


def test_a_new_document_starts_from_one_of_its_kind(corpus_copy: Path) -> None:
    text = new_document_text(load_corpus(corpus_copy), "role_profile", "role-new-role")
    assert "id: role-new-role" in text and "kind: role_profile" in text
    empty = load_corpus(corpus_copy / "nothing-here")
    assert new_document_text(empty, "case_study", "case-x") == "---\nid: case-x\nkind: case_study\n---\n"


# --------------------------------------------------------------------------- saving
def test_a_valid_document_is_saved_where_ingest_finds_it(corpus_copy: Path) -> None:
    path = save_document(corpus_copy, "case-new-story.md", case_text(corpus_copy).rstrip("\n"), overwrite=False)
    assert path == (corpus_copy / "case-studies" / "case-new-story.md").resolve()
    assert path.read_text(encoding="utf-8").endswith("\n") and not path.with_suffix(".md.tmp").exists()
    assert not isinstance(load_document(path), CorpusError)
    assert "case-new-story" in load_corpus(corpus_copy).by_id()


def test_the_name_must_match_the_id(corpus_copy: Path) -> None:
    with pytest.raises(BadInput, match=r"save it as case-new-story\.md"):
        save_document(corpus_copy, "case-other-name.md", case_text(corpus_copy), overwrite=False)


def test_an_id_used_by_another_file_is_refused(corpus_copy: Path) -> None:
    taken = next(d for d in load_corpus(corpus_copy).docs if d.kind == "case_study")
    text = case_text(corpus_copy, taken.id)
    moved = taken.path.with_name("case-zzz-elsewhere.md")
    taken.path.rename(moved)
    (corpus_copy / "case-studies" / "extra").mkdir()
    moved.rename(corpus_copy / "case-studies" / "extra" / taken.path.name)  # same id, another file
    with pytest.raises(BadInput, match=f"the id '{taken.id}' is already used by {taken.path.name}"):
        save_document(corpus_copy, f"{taken.id}.md", text, overwrite=True)


def test_an_existing_file_is_replaced_only_when_asked(corpus_copy: Path) -> None:
    existing = next(d for d in load_corpus(corpus_copy).docs if d.kind == "role_profile")
    text = existing.path.read_text(encoding="utf-8") + "\nOne more line.\n"
    with pytest.raises(BadInput, match=f"{existing.path.name} already exists; pass --overwrite"):
        save_document(corpus_copy, existing.path.name, text, overwrite=False, how_to_overwrite="pass --overwrite")
    save_document(corpus_copy, existing.path.name, text, overwrite=True)
    assert existing.path.read_text(encoding="utf-8").endswith("One more line.\n")


# --------------------------------------------------------------------------- tailor corpus add
def tailor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tailor.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        cwd=PROJECT_ROOT,
    )


def test_corpus_add_writes_through_the_same_checks(corpus_copy: Path, tmp_path: Path) -> None:
    source = tmp_path / "case-new-story.md"
    source.write_text(case_text(corpus_copy), encoding="utf-8")
    target = corpus_copy / "case-studies" / "case-new-story.md"

    wrong_kind = tailor("corpus", "add", str(source), "--kind", "role_profile", "--corpus", str(corpus_copy))
    assert wrong_kind.returncode == 2 and "not role_profile" in wrong_kind.stderr and not target.exists()

    added = tailor("corpus", "add", str(source), "--kind", "case_study", "--corpus", str(corpus_copy))
    assert added.returncode == 0, added.stderr
    assert "tailor ingest" in added.stdout and target.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")

    again = tailor("corpus", "add", str(source), "--corpus", str(corpus_copy))
    assert again.returncode == 2 and "already exists; pass --overwrite to replace it" in again.stderr
    source.write_text(source.read_text(encoding="utf-8") + "\nRevised.\n", encoding="utf-8")
    replaced = tailor("corpus", "add", str(source), "--overwrite", "--corpus", str(corpus_copy))
    assert replaced.returncode == 0 and target.read_text(encoding="utf-8").endswith("Revised.\n")


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("Case New Story.md", "valid", "use lowercase letters"),
        ("case-new-story.md", "---\nid: case-new-story\nkind: case_study\n---\nBody.\n", "title"),
        ("missing.md", None, "no such file"),
    ],
)
def test_corpus_add_refuses_bad_files_with_exit_2(
    corpus_copy: Path, tmp_path: Path, name: str, text: str | None, needle: str
) -> None:
    source = tmp_path / name
    if text is not None:  # None: there is no such file
        source.write_text(case_text(corpus_copy) if text == "valid" else text, encoding="utf-8")
    before = sorted(p.name for p in corpus_copy.rglob("*"))
    out = tailor("corpus", "add", str(source), "--corpus", str(corpus_copy))
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr
    assert sorted(p.name for p in corpus_copy.rglob("*")) == before
    assert re.search(r"^error: ", out.stderr, re.M)
