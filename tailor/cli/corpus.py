"""`tailor ingest`, `tailor search`, `tailor corpus check` and `tailor corpus add`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tailor.config import get_settings
from tailor.corpus.documents import SENIORITY_ORDER, Corpus, RoleFamily, load_corpus
from tailor.corpus.writer import DOC_KINDS
from tailor.errors import BadInput, TailorError

# tailor.corpus.documents and .writer are cheap to import (no chromadb), so the choices come from
# the one definition.
_KINDS: tuple[str, ...] = DOC_KINDS
_ROLES: tuple[str, ...] = get_args(RoleFamily)
_LEVELS: tuple[str, ...] = SENIORITY_ORDER

out = Console()
err = Console(stderr=True)


def _load(corpus_dir: Path | None) -> Corpus:
    root = corpus_dir or get_settings().corpus_dir
    if not root.is_dir():
        raise BadInput(f"no corpus folder at {root}")
    corpus = load_corpus(root)
    for problem in corpus.errors:
        err.print(f"ERROR {problem}", markup=False, highlight=False, soft_wrap=True)
    return corpus


CorpusOpt = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus folder (default: settings.corpus_dir).", file_okay=False),
]


def ingest(corpus_dir: CorpusOpt = None) -> None:
    """Embed the corpus into the index; only changed documents are re-embedded."""
    from tailor.corpus.index import CorpusIndex

    corpus = _load(corpus_dir)
    index = CorpusIndex.open()
    with Progress(
        TextColumn("embedding chunks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = index.ingest(corpus, progress=tick)
    out.print(f"ingested {len(corpus.docs)} documents into {index.location}: {report.summary()}", highlight=False)
    if corpus.errors:
        raise TailorError(
            f"{len(corpus.errors)} document(s) have front-matter errors (listed above) and were not ingested"
        )


def _split(values: list[str] | None) -> list[str] | None:
    # Accept both `--role backend --role data` and `--role backend,data`.
    if not values:
        return None
    return [v.strip() for raw in values for v in raw.split(",") if v.strip()]


def _choose(name: str, values: list[str] | None, allowed: tuple[str, ...]) -> None:
    # Checked here rather than by click so the message and exit code (2) are ours on every path.
    bad = [v for v in values or [] if v not in allowed]
    if bad:
        raise BadInput(f"unknown {name} {', '.join(map(repr, bad))}; choose from {', '.join(allowed)}")


def search(
    query: Annotated[str, typer.Argument(help="What to look for, e.g. a job title or a question.")],
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind: " + " | ".join(_KINDS))] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="Role family, repeatable (any of them): " + ", ".join(_ROLES)),
    ] = None,
    seniority: Annotated[
        list[str] | None,
        typer.Option("--seniority", help="Seniority, repeatable (any of them): " + ", ".join(_LEVELS)),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many results (1-50).")] = 5,
    chunks: Annotated[bool, typer.Option("--chunks", help="List matching chunks instead of documents.")] = False,
) -> None:
    """Search the corpus index by meaning."""
    from tailor.corpus.index import CorpusIndex

    roles, levels = _split(role), _split(seniority)
    _choose("kind", [kind] if kind is not None else None, _KINDS)
    _choose("role family", roles, _ROLES)
    _choose("seniority", levels, _LEVELS)
    if not 1 <= k <= 50:
        raise BadInput(f"-k must be between 1 and 50, got {k}")
    if not query.strip():
        raise BadInput("the search query is empty")
    index = CorpusIndex.open()
    table = Table(title=f"results for {query!r}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("doc id", no_wrap=True)
    table.add_column("kind")
    table.add_column("section" if chunks else "best sections")
    table.add_column("score", justify="right")
    if chunks:
        for rank, hit in enumerate(index.search(query, k=k, kind=kind, roles=roles, seniority=levels), 1):
            table.add_row(str(rank), hit.doc_id, hit.kind, hit.section, f"{hit.score:.3f}")
    else:
        docs = index.search_docs(query, k=k, kind=kind, roles=roles, seniority=levels)
        for rank, doc in enumerate(docs, 1):
            table.add_row(str(rank), doc.doc_id, doc.kind, "; ".join(doc.sections), f"{doc.score:.3f}")
    if not table.row_count:
        out.print("no matching documents")
        return
    out.print(table)


def check(
    corpus_dir: Annotated[Path | None, typer.Argument(help="Corpus folder (default: settings.corpus_dir).")] = None,
) -> None:
    """Validate the corpus front matter without touching the index."""
    corpus = _load(corpus_dir)
    out.print(f"{len(corpus.docs)} valid documents, {len(corpus.errors)} errors", highlight=False)
    if corpus.errors:
        raise TailorError(f"{len(corpus.errors)} document(s) have front-matter errors (listed above)")


def add(
    file: Annotated[Path, typer.Argument(help="The document: Markdown with YAML front matter, named <id>.md.")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Refuse the file unless its front matter is this kind: " + " | ".join(_KINDS)),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a document of the same name.")] = False,
    corpus_dir: CorpusOpt = None,
) -> None:
    """Validate a document and write it into the corpus (roles/, case-studies/ or teams/, by its kind).

    The same checks and the same writer as the Corpus page: the front matter as ingest reads
    it, a team profile's rules across the corpus (canonical skills, a person on one team, allowed
    link hosts), a plain file name that matches the document id, a unique id, nowhere outside the
    corpus. An error names the file and the field.
    """
    from tailor.corpus.writer import save_document

    _choose("kind", [kind] if kind is not None else None, _KINDS)
    from tailor.cli.app import read_text_file

    text = read_text_file(file)
    root = corpus_dir or get_settings().corpus_dir
    target = save_document(
        root,
        file.name,
        text,
        overwrite=overwrite,
        kind=kind,
        how_to_overwrite="pass --overwrite to replace it",
    )
    out.print(f"saved {target}; run `tailor ingest` to make it searchable", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("search")(search)
    corpus_app = typer.Typer(help="Corpus tools.", no_args_is_help=True)
    corpus_app.command("check")(check)
    corpus_app.command("add")(add)
    app.add_typer(corpus_app, name="corpus")
