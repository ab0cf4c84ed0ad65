"""Writing corpus documents: the one place a file enters ``corpus/``, for the Corpus page and the CLI.

A document is written only after it validates exactly as ingest will read it, only under a
plain ``.md`` name that matches its id, and only inside its kind's folder of the corpus
(``roles/``, ``case-studies/`` or ``teams/``). The checks run before anything touches the file
system, so a name like ``../x.md`` or one with a NUL byte never reaches it, and the resolved path
is checked again so a symlinked folder cannot lead outside. A team profile is also checked against
the rest of the corpus, by the same :func:`tailor.corpus.teams.team_problems` that ingest runs. No
Streamlit here: the pages and ``tailor corpus add`` call the same functions.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Literal, get_args

from tailor.corpus.documents import (
    Corpus,
    CorpusDoc,
    CorpusError,
    TeamProfileMeta,
    corpus_hosts,
    load_corpus,
    load_document,
)
from tailor.corpus.teams import team_problems
from tailor.errors import BadInput

# The kinds of corpus document and the folder each lives in (cheap to import: no chromadb here).
DocKind = Literal["role_profile", "case_study", "team_profile"]
DOC_KINDS: tuple[DocKind, ...] = get_args(DocKind)
CORPUS_FOLDERS: dict[str, str] = {"role_profile": "roles", "case_study": "case-studies", "team_profile": "teams"}
_FILENAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}\.md$")


def plain_md_name(filename: str) -> str:
    """The name, checked before anything touches the file system (a NUL byte must never reach it)."""
    name = filename.strip()
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise BadInput(f"{filename!r} is not a plain file name: no folders, no '..'")
    if not name.endswith(".md"):
        raise BadInput(f"{filename!r} must end in .md")
    if not _FILENAME.match(name):
        raise BadInput(f"{filename!r}: use lowercase letters, digits and dashes, like 'case-my-story.md'")
    return name


def corpus_target(corpus_dir: Path, filename: str, kind: str) -> Path:
    """Where a document of ``kind`` named ``filename`` may be saved: inside the corpus folder, nowhere else.

    The name must pass :func:`plain_md_name`; the resolved path is checked against the folder
    too, because a kind's folder may be a symlink.
    """
    name = plain_md_name(filename)
    if kind not in CORPUS_FOLDERS:
        raise BadInput(f"unknown document kind {kind!r}")
    root = corpus_dir.resolve()
    target = (root / CORPUS_FOLDERS[kind] / name).resolve()
    if not target.is_relative_to(root):
        raise BadInput(f"{filename!r} would be written outside the corpus folder")
    return target


def validate_document_text(text: str, name: str = "document.md") -> CorpusDoc:
    """The document as ingest will read it, or ``BadInput`` naming the file and the field at fault.

    The loader reads files, so the text goes through a private temporary file; ``name`` only
    labels the message (the user's file name never reaches the file system from here).
    """
    with tempfile.TemporaryDirectory(prefix="tailor-doc-") as tmp:
        path = Path(tmp) / "document.md"
        path.write_text(text, encoding="utf-8")
        result = load_document(path)
    if isinstance(result, CorpusError):
        raise BadInput(f"{name}: {result.field}: {result.message}")
    return result


def cross_document_problems(corpus_dir: Path, doc: CorpusDoc) -> list[str]:
    """``field: message`` for each rule ``doc`` breaks against the rest of the corpus, as ingest checks them.

    Only team profiles have such rules (:func:`tailor.corpus.teams.team_problems`). ``doc.path``
    is where it will be saved: a document already at that path is the one being replaced. The new
    team goes last, so a person or starter task it shares with another team is reported on it.
    """
    if not isinstance(doc.meta, TeamProfileMeta):
        return []
    corpus = load_corpus(corpus_dir)
    target = doc.path.resolve()
    docs = [d for d in corpus.docs if d.path.resolve() != target] + [doc]
    teams = [(d.path, d.meta, d.body) for d in docs if isinstance(d.meta, TeamProfileMeta)]
    problems = team_problems(teams, corpus.skills, corpus_hosts(docs))
    return [f"{field}: {message}" for path, field, message in problems if path == doc.path]


def check_document(corpus_dir: Path, filename: str, text: str, kind: str | None = None) -> CorpusDoc:
    """Everything that can be known before saving: a plain name, valid front matter, the rules across
    documents, a target inside the corpus. Errors name the file and the field.

    ``kind``, when given, is what the caller expects the front matter to say (``tailor corpus add --kind``).
    """
    name = plain_md_name(filename)
    if kind is not None and kind not in CORPUS_FOLDERS:
        raise BadInput(f"unknown document kind {kind!r}; choose from {', '.join(CORPUS_FOLDERS)}")
    doc = validate_document_text(text, name)
    if kind is not None and doc.kind != kind:
        raise BadInput(f"{name}: the front matter says kind: {doc.kind}, not {kind}")
    target = corpus_target(corpus_dir, name, doc.kind)
    doc = dataclasses.replace(doc, path=target)
    problems = cross_document_problems(corpus_dir, doc)
    if problems:
        raise BadInput("\n".join(f"{name}: {p}" for p in problems))
    return doc


def save_document(
    corpus_dir: Path,
    filename: str,
    text: str,
    *,
    overwrite: bool,
    kind: str | None = None,
    how_to_overwrite: str = "choose to replace it",
) -> Path:
    """Validate, then write a document into its kind's folder, atomically. Ids stay unique.

    ``how_to_overwrite`` ends the message when the file exists: each front end names its own
    switch (the page's checkbox, the CLI's ``--overwrite``).
    """
    doc = check_document(corpus_dir, filename, text, kind)
    target = doc.path
    if target.stem != doc.id:
        raise BadInput(f"the file name must match the document id: save it as {doc.id}.md")
    existing = load_corpus(corpus_dir).by_id().get(doc.id)
    if existing is not None and existing.path.resolve() != target:
        raise BadInput(f"the id {doc.id!r} is already used by {existing.path.name}")
    if target.exists() and not overwrite:
        raise BadInput(f"{target.name} already exists; {how_to_overwrite}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def new_document_text(corpus: Corpus, kind: DocKind, new_id: str) -> str:
    """A new document starts as a copy of an existing one of its kind, with a fresh id.

    Copying a real document shows every front-matter field the planner reads; with none of
    that kind yet, the bare minimum that names the id and the kind. (A copied team profile still
    names the other team's people and starter tasks: validation asks for new ones, since a person
    is on one team.)
    """
    sample = next((d for d in corpus.docs if d.kind == kind), None)
    if sample is None:
        return f"---\nid: {new_id}\nkind: {kind}\n---\n"
    text = sample.path.read_text(encoding="utf-8")
    return text.replace(f"id: {sample.id}", f"id: {new_id}", 1)
