"""The corpus index against a real Chroma (a temp dir, or a real `chroma run` server)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from typer.testing import CliRunner

from tailor.cli import corpus as cli_corpus
from tailor.cli import main as cli_main
from tailor.cli.app import app
from tailor.config import PROJECT_ROOT, get_settings, reset_settings
from tailor.corpus import index as index_module
from tailor.corpus.documents import Corpus, DocMeta, RoleFamily, Seniority, TeamProfileMeta, load_corpus
from tailor.corpus.embeddings import MiniLMEmbedder
from tailor.corpus.index import MAX_CHUNK_CHARS, Chunk, CorpusIndex, build_chunks, build_where
from tailor.corpus.writer import CORPUS_FOLDERS
from tailor.errors import BadInput, IndexUnavailable
from tests.fixtures.index import WriteDoc

BACKEND_BODY = """
# API Engineer

The API engineer builds and runs the server-side services behind the product.

## What the role does

Designs HTTP APIs, owns PostgreSQL schemas and migrations, and keeps services fast and reliable.

## On-call

Engineers join the on-call rotation once they have shipped to production a few times.
"""

FRONTEND_BODY = """
# Web Engineer

The web engineer builds the browser user interface in React and TypeScript.

## Accessibility

Every screen meets WCAG AA: keyboard navigation, focus order and screen-reader labels.
"""

NEW_GRAD_BODY = """
A new-grad junior backend developer in their first job.

## Context

Fresh from university with two internships; a buddy pairs with them every day.

## Policy

No on-call in the first 90 days for juniors: they shadow an incident review instead.
"""

RETURNER_BODY = """
A senior web engineer coming back after three years caring for family.

## Context

She returns part-time at first, with a mentor, and relearns the React tooling that changed.
"""


@pytest.fixture
def small_corpus(tmp_path: Path, write_doc: WriteDoc) -> Path:
    root = tmp_path / "corpus"
    write_doc(
        root,
        "role_profile",
        "role-api-engineer",
        "API Engineer",
        BACKEND_BODY,
        roles=["backend"],
        seniority=["junior", "mid", "senior"],
        aliases=["Server-Side Developer"],
        mission="Build and operate the company's HTTP services and databases.",
    )
    write_doc(
        root,
        "role_profile",
        "role-web-engineer",
        "Web Engineer",
        FRONTEND_BODY,
        roles=["frontend"],
        seniority=["junior", "mid", "senior"],
        aliases=["React Developer"],
        mission="Build accessible, fast browser interfaces.",
    )
    write_doc(
        root,
        "case_study",
        "case-new-grad",
        "New-grad junior backend developer",
        NEW_GRAD_BODY,
        roles=["backend"],
        seniority=["junior"],
        tags=["new-grad", "no-on-call"],
    )
    write_doc(
        root,
        "case_study",
        "case-returner",
        "Senior web engineer after a career break",
        RETURNER_BODY,
        roles=["frontend"],
        seniority=["senior"],
        situation="career_break",
        tags=["returner"],
    )
    return root


@pytest.fixture
def index(embedder: MiniLMEmbedder) -> CorpusIndex:
    return CorpusIndex.open(embedder=embedder)


def _doc_ids(index: CorpusIndex, query: str, **kw: object) -> list[str]:
    return [d.doc_id for d in index.search_docs(query, k=4, **kw)]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- chunking
def test_chunks_stand_on_their_own_and_carry_filterable_metadata(small_corpus: Path) -> None:
    corpus = load_corpus(small_corpus)
    doc = corpus.by_id()["role-api-engineer"]
    chunks = build_chunks(doc)
    summary, *sections = chunks
    assert summary.metadata["chunk_kind"] == "summary"
    assert "API Engineer" in summary.text and "Server-Side Developer" in summary.text
    assert "Build and operate" in summary.text
    on_call = next(c for c in sections if c.metadata["section"] == "On-call")
    assert on_call.text.startswith("API Engineer — On-call\n\n")
    md = on_call.metadata
    assert md["doc_id"] == "role-api-engineer" and md["kind"] == "role_profile"
    assert md["roles"] == "backend" and md["role_backend"] is True
    assert md["seniority"] == "junior,mid,senior" and md["sen_mid"] is True and "sen_staff" not in md
    assert len({c.id for c in chunks}) == len(chunks)


def test_long_sections_are_split_at_paragraphs(small_corpus: Path, write_doc: WriteDoc) -> None:
    paragraphs = [f"Paragraph {i} talks about deploying service number {i} safely. " * 4 for i in range(12)]
    body = "## Deployments\n\n" + "\n\n".join(paragraphs)
    write_doc(small_corpus, "role_profile", "role-long", "Long Role", body)
    doc = load_corpus(small_corpus).by_id()["role-long"]
    pieces = [c for c in build_chunks(doc) if c.metadata["section"] == "Deployments"]
    assert len(pieces) > 1
    for piece in pieces:
        body_text = piece.text[int(piece.metadata["body_offset"]) :]
        assert len(body_text) <= MAX_CHUNK_CHARS
        assert piece.text.startswith("Long Role — Deployments")
    joined = " ".join(p.text for p in pieces)
    assert all(f"service number {i} " in joined for i in range(12))


# --------------------------------------------------------------------------- ingest and search
def test_ingest_then_search_ranks_the_right_documents(small_corpus: Path, index: CorpusIndex) -> None:
    report = index.ingest(load_corpus(small_corpus))
    assert (report.added, report.updated, report.unchanged, report.removed) == (4, 0, 0, 0)
    assert report.chunks_embedded == report.chunks_total == index.count() > 4

    assert _doc_ids(index, "server-side developer, PostgreSQL")[0] == "role-api-engineer"
    assert _doc_ids(index, "React developer, WCAG accessibility")[0] == "role-web-engineer"
    assert _doc_ids(index, "when does a junior join on-call?", kind="case_study")[0] == "case-new-grad"

    hits = index.search("returning after a career break", k=3)
    assert hits[0].doc_id == "case-returner"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert not hits[0].text.startswith(hits[0].title + " —")  # the title prefix is stripped

    docs = index.search_docs("web engineer", k=4, passages=2)
    assert len({d.doc_id for d in docs}) == len(docs) == 4
    assert all(1 <= len(d.passages) <= 2 and d.score == d.passages[0].score for d in docs)


def test_a_reader_sees_what_another_process_ingested_without_a_restart(
    small_corpus: Path, index: CorpusIndex, write_doc: WriteDoc
) -> None:
    """The app and the API read the index on disk while `tailor ingest` writes it in another process."""
    index.ingest(load_corpus(small_corpus))
    query = "keeping the harbour lighthouse lit through winter storms"
    assert "case-lighthouse" not in _doc_ids(index, query)  # the vectors are loaded in this process now
    write_doc(
        small_corpus,
        "case_study",
        "case-lighthouse",
        "A lighthouse keeper joins the harbour team",
        "\n## Context\n\nShe kept the harbour lighthouse lit through winter storms for twelve years.\n",
        roles=["backend"],
        seniority=["senior"],
    )
    done = subprocess.run(
        [sys.executable, "-m", "tailor.cli", "ingest", "--corpus", str(small_corpus)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _doc_ids(index, query)[0] == "case-lighthouse"
    assert index.count() > 0 and "case-lighthouse" in {h.doc_id for h in index.search(query, k=3)}


def test_filters_by_kind_role_and_seniority(small_corpus: Path, index: CorpusIndex) -> None:
    index.ingest(load_corpus(small_corpus))
    assert {h.kind for h in index.search("engineer", k=20, kind="case_study")} == {"case_study"}
    assert set(_doc_ids(index, "engineer", roles=["frontend"])) == {"role-web-engineer", "case-returner"}
    assert set(_doc_ids(index, "engineer", seniority=["junior"])) == {
        "role-api-engineer",
        "role-web-engineer",
        "case-new-grad",
    }
    both = _doc_ids(index, "engineer", kind="case_study", roles=["backend", "frontend"], seniority=["senior"])
    assert both == ["case-returner"]
    assert index.search("engineer", roles=["security"]) == []  # no match is not an error
    with pytest.raises(BadInput, match="unknown role family 'cook'"):
        index.search("engineer", roles=["cook"])
    with pytest.raises(BadInput, match="unknown kind"):
        index.search("engineer", kind="recipe")
    with pytest.raises(BadInput):
        index.search("   ")


def test_filters_still_exact_when_the_nearest_chunks_all_fail_them(
    small_corpus: Path, index: CorpusIndex, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filtering happens on unfiltered candidates first; when too few pass, Chroma's `where` decides."""
    index.ingest(load_corpus(small_corpus))
    query = "deploying backend services"
    near = embedder.embed([query])[0]
    rng = np.random.default_rng(0)
    vectors = near + rng.normal(0, 0.01, size=(120, near.shape[0])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    crowd = [
        Chunk(
            id=f"crowd#{i}",
            text=f"crowd chunk {i}",
            metadata={
                "doc_id": f"crowd-{i // 10}",
                "kind": "role_profile",
                "title": "Crowd",
                "section": "S",
                "roles": "backend",
                "role_backend": True,
                "seniority": "mid",
                "sen_mid": True,
                "body_offset": 0,
                "doc_hash": "x",
                "chunk_hash": f"c{i}",
            },
        )
        for i in range(120)
    ]
    index.upsert_chunks(crowd, embeddings=vectors)
    # The 120 nearest chunks are all backend; the frontend ones are found all the same.
    assert all(h.doc_id.startswith("crowd-") for h in index.search(query, k=120))
    hits = index.search(query, k=3, roles=["frontend"])
    assert len(hits) == 3 and {h.doc_id for h in hits} <= {"role-web-engineer", "case-returner"}
    monkeypatch.setattr(index_module, "FAST_PATH_LIMIT", 40)
    docs = index.search_docs(query, k=2, roles=["frontend"])
    assert sorted(d.doc_id for d in docs) == ["case-returner", "role-web-engineer"]
    assert all(p.doc_id == d.doc_id for d in docs for p in d.passages)


def test_where_clauses() -> None:
    assert build_where() is None
    assert build_where(kind="case_study") == {"kind": "case_study"}
    assert build_where(roles=["qa", "ml"], seniority=["mid"]) == {
        "$and": [{"$or": [{"role_qa": True}, {"role_ml": True}]}, {"sen_mid": True}]
    }
    assert build_where(kind="team_profile", roles=["data"]) == {"$and": [{"kind": "team_profile"}, {"role_data": True}]}
    # A team hires at every level, so a seniority filter would silently find no team.
    with pytest.raises(BadInput, match="team profiles have no seniority"):
        build_where(kind="team_profile", seniority=["senior"])


def test_reingest_only_embeds_what_changed(small_corpus: Path, index: CorpusIndex, embedder: MiniLMEmbedder) -> None:
    index.ingest(load_corpus(small_corpus))
    total = index.count()

    before = embedder.texts_embedded
    report = index.ingest(load_corpus(small_corpus))
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 4, 0)
    assert report.chunks_embedded == 0
    assert embedder.texts_embedded == before  # nothing went through the model

    path = small_corpus / "roles" / "role-web-engineer.md"
    path.write_text(
        path.read_text().replace("## Accessibility", "## Performance\n\nCore Web Vitals budgets.\n\n## Accessibility")
    )
    corpus = load_corpus(small_corpus)
    expected_chunks = len(build_chunks(corpus.by_id()["role-web-engineer"]))
    before = embedder.texts_embedded
    report = index.ingest(corpus)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    # Only the new section goes through the model; the doc's untouched chunks keep their vectors.
    assert (report.chunks_embedded, report.chunks_reused) == (1, expected_chunks - 1)
    assert embedder.texts_embedded - before == 1
    assert index.count() == total + 1
    assert index.search("Core Web Vitals budgets", k=1)[0].doc_id == "role-web-engineer"
    # Reused vectors landed on the right chunks: each stored vector is its own text's embedding.
    got = index._collection.get(where={"doc_id": "role-web-engineer"}, include=["documents", "embeddings"])
    expected = embedder.embed(got["documents"])
    assert np.abs(np.asarray(got["embeddings"]) - expected).max() < 1e-5

    # A change to the front matter alone re-embeds only the summary chunk.
    path.write_text(path.read_text().replace("Build accessible, fast", "Build accessible and fast"))
    report = index.ingest(load_corpus(small_corpus))
    assert (report.updated, report.chunks_embedded, report.chunks_reused) == (1, 1, expected_chunks - 1)


def test_deleted_and_shrunk_documents_leave_no_chunks(small_corpus: Path, index: CorpusIndex) -> None:
    index.ingest(load_corpus(small_corpus))
    (small_corpus / "case-studies" / "case-returner.md").unlink()
    path = small_corpus / "roles" / "role-api-engineer.md"
    text = path.read_text()
    path.write_text(text[: text.index("## On-call")])
    report = index.ingest(load_corpus(small_corpus))
    assert (report.removed, report.updated) == (1, 1)
    assert "case-returner" not in _doc_ids(index, "career break returner")
    sections = {h.section for h in index.search("API engineer", k=50) if h.doc_id == "role-api-engineer"}
    assert "On-call" not in sections and "What the role does" in sections
    assert index.count() == sum(len(build_chunks(d)) for d in load_corpus(small_corpus).docs)


def test_non_ascii_documents(tmp_path: Path, write_doc: WriteDoc, index: CorpusIndex) -> None:
    body = "## Contexte\n\nZoë rejoint l'équipe à Zürich ; elle a travaillé à 東京 sur des systèmes de paiement. ✅"
    write_doc(
        tmp_path / "c",
        "case_study",
        "case-zoe",
        "Ingénieure back-end confirmée — Zürich",
        body,
        tags=["paiements", "日本"],
    )
    report = index.ingest(load_corpus(tmp_path / "c"))
    assert report.added == 1
    hit = index.search("ingénieure à Zürich, paiements à 東京", k=1)[0]
    assert hit.doc_id == "case-zoe"
    assert hit.title == "Ingénieure back-end confirmée — Zürich"
    assert any("東京" in h.text for h in index.search("東京", k=5))


def test_empty_corpus_and_empty_index(tmp_path: Path, index: CorpusIndex) -> None:
    (tmp_path / "empty").mkdir()
    report = index.ingest(load_corpus(tmp_path / "empty"))
    assert report.model_dump(exclude={"seconds"}) == {
        "added": 0,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "chunks_embedded": 0,
        "chunks_reused": 0,
        "chunks_total": 0,
        "skipped_invalid": 0,
    }
    with pytest.raises(IndexUnavailable, match="run `tailor ingest`"):
        index.search("anything")
    with pytest.raises(IndexUnavailable, match="run `tailor ingest`"):
        index.search_docs("anything", kind="role_profile")


def test_reopened_in_a_new_process(small_corpus: Path, index: CorpusIndex) -> None:
    index.ingest(load_corpus(small_corpus))
    script = """
import json
import chromadb
from chromadb.config import Settings
from tailor.config import get_settings
from tailor.corpus.index import CorpusIndex
s = get_settings()
hits = CorpusIndex.open(s).search_docs("React developer", k=2)
# Opened without an embedding function, the collection rebuilds ours from its stored
# config (Chroma's own default would try to download a model and fail offline).
path = str(s.resolved_chroma_path)
client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
col = client.get_collection(s.collection)
res = col.query(query_texts=["server-side developer"], n_results=1)
print(json.dumps({"docs": [h.doc_id for h in hits], "ef": col.configuration["embedding_function"].name(),
                  "raw": res["metadatas"][0][0]["doc_id"]}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {
        "docs": ["role-web-engineer", "case-returner"],
        "ef": "tailor_minilm",
        "raw": "role-api-engineer",
    }


# --------------------------------------------------------------------------- server mode
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not come up: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_server_mode_ingests_and_searches(
    chroma_server: str, small_corpus: Path, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAILOR_CHROMA_URL", chroma_server)
    reset_settings()
    index = CorpusIndex.open(embedder=embedder)
    assert index.location == chroma_server
    report = index.ingest(load_corpus(small_corpus))
    assert report.added == 4
    assert _doc_ids(index, "server-side developer, PostgreSQL")[0] == "role-api-engineer"
    assert index.ingest(load_corpus(small_corpus)).unchanged == 4
    # Nothing was written locally: the server holds the index.
    assert not get_settings().resolved_chroma_path.exists()


def test_server_down_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAILOR_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    reset_settings()
    with pytest.raises(IndexUnavailable, match="cannot reach the Chroma server"):
        CorpusIndex.open()


# --------------------------------------------------------------------------- CLI
@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliResult:
    """Run `tailor ARGS` through ``tailor.cli.app``, as the console script does (exit codes included)."""
    monkeypatch.setattr(sys, "argv", ["tailor", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli_main()
        raise SystemExit(0)
    captured = capsys.readouterr()
    return CliResult(int(exited.value.code or 0), captured.out, captured.err)


CliRun = Callable[[list[str]], CliResult]


@pytest.fixture
def tailor_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRun:
    return lambda args: run_cli(args, capsys, monkeypatch)


def test_cli_ingest_reports_bad_front_matter_and_ingests_the_rest(small_corpus: Path, tailor_cli: CliRun) -> None:
    bad = small_corpus / "roles" / "role-broken.md"
    text = (small_corpus / "roles" / "role-api-engineer.md").read_text()
    bad.write_text(text.replace("id: role-api-engineer", "id: role-broken").replace("- senior", "- wizard"))
    result = tailor_cli(["ingest", "--corpus", str(small_corpus)])
    assert result.code == 1
    assert re.search(r"ERROR .*role-broken\.md: seniority\.\d+: ", result.stderr), result.stderr
    assert "have front-matter errors" in result.stderr
    assert "4 added" in result.stdout
    index = CorpusIndex.open()
    assert index.count() > 0
    assert "role-broken" not in _doc_ids(index, "server-side developer")

    check = tailor_cli(["corpus", "check", str(small_corpus)])
    assert check.code == 1
    assert "4 valid documents, 1 errors" in check.stdout
    assert "role-broken.md: seniority" in check.stderr


def test_cli_search_prints_a_table_and_rejects_bad_options(small_corpus: Path, tailor_cli: CliRun) -> None:
    assert tailor_cli(["ingest", "--corpus", str(small_corpus)]).code == 0
    result = tailor_cli(["search", "server-side developer", "-k", "2"])
    assert result.code == 0, result.stderr
    rows = re.findall(r"\b((?:role|case)-[a-z0-9-]+)\b", result.stdout)
    assert rows[0] == "role-api-engineer" and len(rows) == 2
    chunks = tailor_cli(["search", "on-call", "--chunks", "--role", "backend", "--seniority", "junior"])
    assert chunks.code == 0 and "On-call" in chunks.stdout and "role-web-engineer" not in chunks.stdout
    for bad, message in (
        (["--kind", "recipe"], "unknown kind 'recipe'"),
        (["--role", "cook"], "unknown role family 'cook'"),
        (["--seniority", "wizard"], "unknown seniority 'wizard'"),
        (["-k", "0"], "-k must be between 1 and 50"),
    ):
        res = tailor_cli(["search", "engineer", *bad])
        assert res.code == 2, bad
        assert message in res.stderr and "Traceback" not in res.stderr


def test_cli_choices_match_the_corpus_schema() -> None:
    assert get_args(RoleFamily) == cli_corpus._ROLES
    assert get_args(Seniority) == cli_corpus._LEVELS
    # The kinds have one home (the writer, which knows each kind's folder); the loader reads the same ones.
    assert cli_corpus._KINDS == index_module.DOC_KINDS == tuple(CORPUS_FOLDERS)
    loaded = {get_args(m.model_fields["kind"].annotation)[0] for m in get_args(DocMeta)}
    assert loaded == set(index_module.DOC_KINDS)


def test_cli_search_on_an_empty_index_says_to_ingest(tailor_cli: CliRun) -> None:
    result = tailor_cli(["search", "anything"])
    assert result.code == IndexUnavailable.exit_code
    assert "run `tailor ingest`" in result.stderr


# --------------------------------------------------------------------------- the real corpus
REAL_IDS = ("role-backend-engineer", "case-senior-fast-track")


def test_real_corpus_fintech_query_via_cli(ingested_index: CorpusIndex) -> None:
    known = {d.doc_id for d in ingested_index.search_docs("engineer", k=100)}
    if not set(REAL_IDS) <= known:
        pytest.skip("the real corpus does not have both documents yet")
    result = CliRunner().invoke(app, ["search", "senior backend engineer from a fintech"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    ranked = list(dict.fromkeys(re.findall(r"\b((?:role|case)-[a-z0-9-]+)\b", result.stdout)))
    assert set(REAL_IDS) <= set(ranked[:3]), ranked


def test_team_profiles_are_chunked_by_section_with_role_flags_and_no_seniority(real_corpus: Corpus) -> None:
    doc = real_corpus.by_id()["team-orders"]
    assert isinstance(doc.meta, TeamProfileMeta)
    summary, *sections = build_chunks(doc)
    assert summary.metadata["kind"] == "team_profile" and summary.metadata["role_backend"] is True
    assert "Stack: Python, FastAPI" in summary.text and "orders-api" in summary.text
    assert doc.meta.mission in summary.text
    assert "Who to meet and why" in {c.metadata["section"] for c in sections}
    assert all(c.text.startswith("Orders squad") for c in sections)
    flags = {k for c in (summary, *sections) for k in c.metadata}
    assert "seniority" not in flags and not any(k.startswith("sen_") for k in flags)


def test_search_docs_finds_teams_by_kind_and_keeps_them_out_of_other_kinds(ingested_index: CorpusIndex) -> None:
    top = ingested_index.search_docs(
        "order-to-cash: the orders API, invoices and the Kafka outbox", k=1, kind="team_profile"
    )
    assert [(d.doc_id, d.kind) for d in top] == [("team-orders", "team_profile")]
    mobile = ingested_index.search_docs(
        "offline sync for the field sales app", k=3, kind="team_profile", roles=["mobile"]
    )
    assert [d.doc_id for d in mobile] == ["team-field-mobile"]
    # What the engine asks (by kind) never returns a team, however team-like the query.
    for kind in ("role_profile", "case_study"):
        hits = ingested_index.search_docs("who is the buddy on the Orders squad", k=10, kind=kind)
        assert hits and {h.kind for h in hits} == {kind}
    result = CliRunner().invoke(
        app, ["search", "orders API on-call rotation", "--kind", "team_profile", "-k", "2"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert re.findall(r"\b(team-[a-z0-9-]+)\b", result.stdout)[0] == "team-orders"
