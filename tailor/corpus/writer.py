"""Writing corpus documents: the one place a file enters ``corpus/``, for the Corpus page and the CLI.

A document is written only after it validates exactly as ingest will read it, only under a
plain ``.md`` name that matches its id, and only inside its kind's folder of the corpus
(``roles/`` or ``case-studies/``). The checks run before anything touches the file system,
so a name like ``../x.md`` or one with a NUL byte never reaches it, and the resolved path is
checked again so a symlinked folder cannot lead outside. No Streamlit here: the pages and
``tailor corpus add`` call the same functions.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Literal

from tailor.corpus.documents import Corpus, CorpusDoc, CorpusError, load_corpus, load_document
from tailor.errors import BadInput

DocKind = Literal["role_profile", "case_study"]
CORPUS_FOLDERS: dict[str, str] = {"role_profile": "roles", "case_study": "case-studies"}
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


def validate_document_text(text: str) -> CorpusDoc:
    """The document as ingest will read it, or ``BadInput`` naming the field at fault.

    The loader reads files, so the text goes through a private temporary file; the user's
    file name plays no part in that, so it cannot reach the file system from here.
    """
    with tempfile.TemporaryDirectory(prefix="tailor-doc-") as tmp:
        path = Path(tmp) / "document.md"
        path.write_text(text, encoding="utf-8")
        result = load_document(path)
    if isinstance(result, CorpusError):
        raise BadInput(f"{result.field}: {result.message}")
    return result


def check_document(corpus_dir: Path, filename: str, text: str, kind: str | None = None) -> CorpusDoc:
    """Everything that can be known before saving: a plain name, valid front matter, a target inside the corpus.

    ``kind``, when given, is what the caller expects the front matter to say (``tailor corpus add --kind``).
    """
    plain_md_name(filename)
    if kind is not None and kind not in CORPUS_FOLDERS:
        raise BadInput(f"unknown document kind {kind!r}; choose from {', '.join(CORPUS_FOLDERS)}")
    doc = validate_document_text(text)
    if kind is not None and doc.kind != kind:
        raise BadInput(f"the front matter says kind: {doc.kind}, not {kind}")
    corpus_target(corpus_dir, filename, doc.kind)
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
    target = corpus_target(corpus_dir, filename, doc.kind)
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
    that kind yet, the bare minimum that names the id and the kind.
    """
    sample = next((d for d in corpus.docs if d.kind == kind), None)
    if sample is None:
        return f"---\nid: {new_id}\nkind: {kind}\n---\n"
    text = sample.path.read_text(encoding="utf-8")
    return text.replace(f"id: {sample.id}", f"id: {new_id}", 1)
