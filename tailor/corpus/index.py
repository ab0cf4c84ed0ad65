"""The corpus index: Markdown sections as Chroma chunks, searched by meaning.

Local by default (``chromadb.PersistentClient`` at ``settings.resolved_chroma_path``); set
``TAILOR_CHROMA_URL`` to use a ``chroma run`` server instead. Vectors come from
``tailor.corpus.embeddings`` (offline MiniLM), computed here and handed to Chroma, so ingest can
batch and count them and a query never waits on Chroma's own embedding path.

Each document becomes one *summary* chunk built from its front matter (title, aliases,
mission or opening context, tags, seniority, situation; for a team profile its name, mission,
stack and services: what a manager's query names) plus one chunk per Markdown section, long
sections split at paragraph boundaries. Every chunk text starts with the document and section
titles, so it stands on its own. Team profiles carry role families but no seniority (a team hires
at every level), so a seniority filter never matches them; the engine always filters by kind.

Re-ingest is incremental: each chunk records its document's hash, so unchanged documents are
skipped, changed ones replaced and deleted ones removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args
from urllib.parse import urlparse

import numpy as np
from pydantic import BaseModel, Field

from tailor.config import Settings, get_settings
from tailor.corpus.documents import (
    CaseStudyMeta,
    Corpus,
    CorpusDoc,
    RoleFamily,
    RoleProfileMeta,
    Seniority,
    TeamProfileMeta,
)
from tailor.corpus.embeddings import MODEL_NAME, FloatArray, MiniLMEmbedder, TailorMiniLM, get_embedder
from tailor.corpus.writer import DOC_KINDS as DOC_KINDS  # re-exported: the kinds have one home
from tailor.corpus.writer import DocKind as DocKind
from tailor.errors import BadInput, IndexUnavailable, TailorError

log = logging.getLogger(__name__)

ROLE_FAMILIES: tuple[str, ...] = get_args(RoleFamily)
SENIORITIES: tuple[str, ...] = get_args(Seniority)

# Bump when chunking changes: every document then counts as changed and is re-embedded.
CHUNK_VERSION = 3
# About 150 tokens: MiniLM was trained on 128-token passages, and shorter chunks embed faster.
MAX_CHUNK_CHARS = 700
EMBED_BATCH = 256
NOT_INGESTED = "the corpus index is empty: run `tailor ingest`"
# Chunk metadata and text kept per process (a few hundred bytes each).
CHUNK_CACHE_SIZE = 50_000
# How many unfiltered candidates to scan before letting Chroma apply a filter itself.
FAST_PATH_LIMIT = 640

ProgressFn = Callable[[int, int], None]


# --------------------------------------------------------------------------- public models
class Hit(BaseModel):
    chunk_id: str
    doc_id: str
    kind: DocKind
    title: str
    section: str
    text: str = Field(description="The chunk's own text, without the title prefix.")
    score: float = Field(ge=0.0, le=1.0, description="Cosine similarity clipped to 0..1; higher is better.")


class DocHit(BaseModel):
    doc_id: str
    kind: DocKind
    title: str
    score: float = Field(ge=0.0, le=1.0, description="The best chunk's score.")
    passages: list[Hit] = Field(default_factory=list, description="Best chunks first.")

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(p.section for p in self.passages))


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = Field(default=0, description="Chunks of changed documents whose text was unchanged.")
    chunks_total: int = 0
    skipped_invalid: int = Field(default=0, description="Documents left out for front-matter errors.")
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed; {self.chunks_embedded} chunks embedded, {self.chunks_reused} reused "
            f"({self.chunks_total} in the index) in {self.seconds:.1f}s"
        )


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    metadata: dict[str, str | int | bool]


# --------------------------------------------------------------------------- chunking
def doc_hash(doc: CorpusDoc) -> str:
    """The hash a chunk records: content plus how it was chunked and embedded."""
    h = hashlib.sha256(f"{doc.content_hash}|chunks-v{CHUNK_VERSION}|{MODEL_NAME}".encode())
    return h.hexdigest()[:24]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _split_long(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Pack paragraphs (then sentences, then words) into pieces of at most ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            units.append(para)
            continue
        for sentence in _SENTENCE_END.split(para):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                units.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if sentence:
                units.append(sentence)
    pieces: list[str] = []
    current = ""
    for unit in units:
        joined = f"{current}\n\n{unit}" if current else unit
        if len(joined) <= limit:
            current = joined
        else:
            if current:
                pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _base_metadata(doc: CorpusDoc, digest: str) -> dict[str, str | int | bool]:
    meta = doc.meta
    md: dict[str, str | int | bool] = {
        "doc_id": doc.id,
        "kind": meta.kind,
        "title": meta.title,
        "roles": ",".join(meta.roles),
        "doc_hash": digest,
    }
    # Chroma filters on scalar metadata only, so list membership becomes one flag per value.
    for family in meta.roles:
        md[f"role_{family}"] = True
    if not isinstance(meta, TeamProfileMeta):  # a team hires at every level: no seniority
        md["seniority"] = ",".join(meta.seniority)
        for level in meta.seniority:
            md[f"sen_{level}"] = True
    if isinstance(meta, CaseStudyMeta):
        md["situation"] = meta.situation
    return md


def _summary_text(doc: CorpusDoc) -> str:
    meta = doc.meta
    lines = [meta.title]
    if isinstance(meta, TeamProfileMeta):
        if meta.team != meta.title:
            lines.append("Team: " + meta.team + ".")
        lines.append(meta.mission)
        lines.append("Stack: " + ", ".join(meta.stack) + ".")
        lines.append("Services: " + ", ".join(s.name for s in meta.services) + ".")
    elif isinstance(meta, RoleProfileMeta):
        if meta.aliases:
            lines.append("Also known as: " + ", ".join(meta.aliases) + ".")
        lines.append(meta.mission)
    else:
        sections = doc.sections()
        if sections:
            lines.append(_split_long(sections[0].text, 400)[0])
        if meta.situation != "standard":
            lines.append("Situation: " + meta.situation.replace("_", " ") + ".")
    roles = "Roles: " + ", ".join(meta.roles) + "."
    # A team hires at every level, so it has no seniority to name.
    lines.append(
        roles if isinstance(meta, TeamProfileMeta) else roles + " Seniority: " + ", ".join(meta.seniority) + "."
    )
    if meta.tags:
        lines.append("Tags: " + ", ".join(meta.tags) + ".")
    return "\n".join(lines)


def build_chunks(doc: CorpusDoc) -> list[Chunk]:
    """The summary chunk and the section chunks of one document."""
    digest = doc_hash(doc)
    base = _base_metadata(doc, digest)
    chunks: list[Chunk] = []

    def add(section: str, prefix: str, body: str, kind: str) -> None:
        text = prefix + body
        md = {
            **base,
            "section": section,
            "chunk_kind": kind,
            "body_offset": len(prefix),
            # Text and model: a stored vector may be reused only for exactly this pair.
            "chunk_hash": hashlib.sha256(f"{MODEL_NAME}|{text}".encode()).hexdigest()[:16],
        }
        # The id names the document version, so an id never changes meaning: readers cache by it.
        chunks.append(Chunk(id=f"{doc.id}#{digest[:12]}#{len(chunks)}", text=text, metadata=md))

    add("Summary", "", _summary_text(doc), "summary")
    for section in doc.sections():
        heading = doc.meta.title if section.title == doc.meta.title else f"{doc.meta.title} — {section.title}"
        for piece in _split_long(section.text):
            add(section.title, heading + "\n\n", piece, "section")
    return chunks


# --------------------------------------------------------------------------- the index
def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _check_choices(name: str, values: Sequence[str] | None, allowed: tuple[str, ...]) -> list[str]:
    chosen = list(values or [])
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise BadInput(f"unknown {name} {', '.join(map(repr, bad))}; choose from {', '.join(allowed)}")
    return chosen


def build_where(
    kind: str | None = None, roles: Sequence[str] | None = None, seniority: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """A Chroma ``where`` filter: the kind, any of the roles, and any of the seniority levels."""
    clauses: list[dict[str, Any]] = []
    if kind is not None:
        _check_choices("kind", [kind], DOC_KINDS)
        if kind == "team_profile" and seniority:
            raise BadInput("team profiles have no seniority (a team hires at every level); filter them by role family")
        clauses.append({"kind": kind})
    for prefix, name, values, allowed in (
        ("role_", "role family", roles, ROLE_FAMILIES),
        ("sen_", "seniority", seniority, SENIORITIES),
    ):
        flags = [{f"{prefix}{v}": True} for v in _check_choices(name, values, allowed)]
        if len(flags) == 1:
            clauses.append(flags[0])
        elif flags:
            clauses.append({"$or": flags})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class CorpusIndex:
    """A Chroma collection of corpus chunks. Open with ``CorpusIndex.open(settings)``."""

    def __init__(
        self, client: Any, collection: Any, embedder: MiniLMEmbedder, where: str, settings: Settings | None = None
    ) -> None:
        self._client = client
        self._collection = collection
        self.embedder = embedder
        self.location = where
        self._cache: OrderedDict[str, _ChunkInfo] = OrderedDict()
        self._cache_lock = threading.Lock()
        # On disk only (a Chroma server sees every writer): see ``_fresh``.
        self._settings = settings
        self._stamp = _stamp_path(settings) if settings is not None and not settings.chroma_url else None
        self._seen_stamp = _read_stamp(self._stamp)
        self._reopen_lock = threading.Lock()

    # -- opening ----------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings | None = None, embedder: MiniLMEmbedder | None = None) -> CorpusIndex:
        import chromadb

        settings = settings or get_settings()
        chroma_settings = _chroma_settings()
        if settings.chroma_url:
            url = urlparse(settings.chroma_url if "//" in settings.chroma_url else f"http://{settings.chroma_url}")
            where = settings.chroma_url
            try:
                client: Any = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            except Exception as exc:
                log.debug("cannot reach chroma", exc_info=True)
                raise IndexUnavailable(
                    f"cannot reach the Chroma server at {where} ({_one_line(exc)}); "
                    "start it with `chroma run` or unset TAILOR_CHROMA_URL"
                ) from None
        else:
            path = settings.resolved_chroma_path
            where = str(path)
            try:
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as exc:
                log.debug("cannot open chroma", exc_info=True)
                raise IndexUnavailable(f"cannot open the index at {where}: {_one_line(exc)}") from None
        embedder = embedder or get_embedder()
        index = cls(client, None, embedder, where, settings)
        index._collection = index._open_collection(client)
        return index

    def _open_collection(self, client: Any) -> Any:
        assert self._settings is not None
        with self._guard("opening the collection"):
            return client.get_or_create_collection(
                self._settings.collection,
                embedding_function=cast(Any, TailorMiniLM()),
                configuration=cast(Any, {"hnsw": {"space": "cosine"}}),
            )

    # -- other processes' writes ------------------------------------------------------
    def _fresh(self) -> None:
        """Reopen the collection if another process wrote to the index on disk since this one looked.

        Chroma on disk loads a collection's vector index once per process and never sees another
        process's writes: after `tailor ingest`, the running app and API would search without
        the new document until restarted (chroma-core/chroma#3792). Every writer here stamps a
        file beside the index; a reader that finds a stamp it did not see reopens the client.
        A Chroma server has no such gap, and no stamp.
        """
        if self._stamp is None:
            return
        stamp = _read_stamp(self._stamp)
        if stamp == self._seen_stamp:
            return
        with self._reopen_lock:
            if stamp == self._seen_stamp:
                return
            import chromadb

            _forget_cached_system(self._client)
            try:
                client = chromadb.PersistentClient(path=self.location, settings=_chroma_settings())
            except Exception as exc:
                log.debug("cannot reopen chroma", exc_info=True)
                raise IndexUnavailable(f"cannot open the index at {self.location}: {_one_line(exc)}") from None
            self._collection = self._open_collection(client)
            self._client = client
            self._seen_stamp = stamp
            with self._cache_lock:
                self._cache.clear()
        log.info("the index at %s changed in another process; reopened it", self.location)

    def _wrote(self) -> None:
        """Stamp a write, so the other processes reading this index reopen it (see ``_fresh``)."""
        if self._stamp is None:
            return
        stamp = f"{os.getpid()}-{time.time_ns()}"
        self._stamp.write_text(stamp, encoding="utf-8")
        self._seen_stamp = stamp

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Chroma and HTTP failures become one-line ``IndexUnavailable`` errors."""
        try:
            yield
        except TailorError:
            raise
        except Exception as exc:
            log.debug("%s failed", action, exc_info=True)
            raise IndexUnavailable(f"{action} failed for the index at {self.location}: {_one_line(exc)}") from None

    # -- writing ----------------------------------------------------------------------
    def count(self) -> int:
        self._fresh()
        with self._guard("counting chunks"):
            return int(self._collection.count())

    def _doc_state(self) -> dict[str, tuple[set[str], list[str]]]:
        """doc id -> (hashes recorded, chunk ids) for everything in the collection."""
        self._fresh()
        state: dict[str, tuple[set[str], list[str]]] = {}
        with self._guard("reading the index"):
            got = self._collection.get(include=["metadatas"])
        for cid, md in zip(got["ids"], got["metadatas"] or [], strict=False):
            doc_id = str((md or {}).get("doc_id", ""))
            hashes, ids = state.setdefault(doc_id, (set(), []))
            hashes.add(str((md or {}).get("doc_hash", "")))
            ids.append(cid)
        return state

    def upsert_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: FloatArray | None = None,
        progress: ProgressFn | None = None,
    ) -> int:
        """Embed (unless given vectors) and write chunks in batches; returns how many were embedded."""
        embedded = 0
        total = len(chunks)
        max_batch = self._max_batch()
        # Embedding in groups of EMBED_BATCH lets the embedder sort texts by length within a
        # group (less padding) while progress still moves; given vectors go in Chroma-sized batches.
        step = EMBED_BATCH if embeddings is None else max_batch
        for start in range(0, total, step):
            batch = chunks[start : start + step]
            if embeddings is None:
                vectors = self.embedder.embed([c.text for c in batch])
                embedded += len(batch)
            else:
                vectors = embeddings[start : start + len(batch)]
            self._write(batch, vectors, max_batch)
            if progress:
                progress(start + len(batch), total)
        return embedded

    def _max_batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:
            return 5000

    def _write(self, batch: Sequence[Chunk], vectors: FloatArray, max_batch: int) -> None:
        for i in range(0, len(batch), max_batch):
            part = batch[i : i + max_batch]
            with self._guard("writing chunks"):
                self._collection.upsert(
                    ids=[c.id for c in part],
                    documents=[c.text for c in part],
                    metadatas=cast(Any, [c.metadata for c in part]),
                    embeddings=cast(Any, np.ascontiguousarray(vectors[i : i + len(part)])),
                )
            self._wrote()

    def _delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 5000):
            with self._guard("deleting chunks"):
                self._collection.delete(ids=list(ids[i : i + 5000]))
            self._wrote()

    def _stored_vectors(self, ids: Sequence[str]) -> dict[str, FloatArray]:
        """chunk hash -> stored vector, for the given chunk ids."""
        found: dict[str, FloatArray] = {}
        for i in range(0, len(ids), 1000):
            with self._guard("reading the index"):
                got = self._collection.get(ids=list(ids[i : i + 1000]), include=["metadatas", "embeddings"])
            vectors = got.get("embeddings")
            if vectors is None:
                continue
            for md, vec in zip(got["metadatas"] or [], vectors, strict=False):
                chunk_hash = str((md or {}).get("chunk_hash", ""))
                if chunk_hash:
                    found[chunk_hash] = np.asarray(vec, dtype=np.float32)
        return found

    def ingest(self, corpus: Corpus, progress: ProgressFn | None = None) -> IngestReport:
        """Bring the index in line with the corpus, embedding only what changed."""
        started = time.perf_counter()
        report = IngestReport(skipped_invalid=len(corpus.errors))
        state = self._doc_state()
        to_write: list[Chunk] = []
        stale: list[str] = []
        previous: list[str] = []
        for doc in corpus.docs:
            digest = doc_hash(doc)
            known = state.pop(doc.id, None)
            if known is not None and known[0] == {digest}:
                report.unchanged += 1
                continue
            chunks = build_chunks(doc)
            to_write.extend(chunks)
            if known is None:
                report.added += 1
            else:
                report.updated += 1
                previous.extend(known[1])
                fresh = {c.id for c in chunks}
                stale.extend(cid for cid in known[1] if cid not in fresh)
        # What is left in ``state`` is no longer in the corpus.
        for _hashes, ids in state.values():
            stale.extend(ids)
        report.removed = sum(1 for doc_id in state if doc_id)

        # In a changed document most sections are usually untouched: a chunk whose exact text
        # is already stored keeps its vector instead of going through the model again.
        stored = self._stored_vectors(previous) if previous else {}
        reused = [c for c in to_write if c.metadata["chunk_hash"] in stored]
        novel = [c for c in to_write if c.metadata["chunk_hash"] not in stored]
        # Write new chunks before deleting old ones, so a crash mid-way never loses a document.
        report.chunks_embedded = self.upsert_chunks(novel, progress=progress)
        if reused:
            vectors = np.stack([stored[str(c.metadata["chunk_hash"])] for c in reused])
            self.upsert_chunks(reused, embeddings=vectors)
        report.chunks_reused = len(reused)
        self._delete(stale)
        if progress and not novel:
            progress(0, 0)
        report.chunks_total = self.count()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    # -- reading ----------------------------------------------------------------------
    # Chroma's ``where`` filters cost 30-80 ms at 10k chunks and fetching documents and metadata
    # for every candidate costs more than the vector search itself. So a query asks Chroma for
    # ids and distances only, reads each chunk's metadata and text once into a process cache
    # (chunk ids embed the document hash, so an id never changes meaning), filters in Python,
    # and falls back to a Chroma ``where`` query only when too few candidates pass the filter.

    def _infos(self, ids: Sequence[str]) -> dict[str, _ChunkInfo]:
        with self._cache_lock:
            known = {cid: info for cid in ids if (info := self._cache.get(cid)) is not None}
        missing = [cid for cid in ids if cid not in known]
        if missing:
            with self._guard("reading chunks"):
                got = self._collection.get(ids=missing, include=["documents", "metadatas"])
            for cid, doc, md in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False):
                known[cid] = self._remember(cid, doc or "", md or {})
        return known

    def _remember(self, chunk_id: str, document: str, md: Mapping[str, Any]) -> _ChunkInfo:
        info = _ChunkInfo.from_chroma(document, md)
        with self._cache_lock:  # Streamlit calls in from several threads
            self._cache[chunk_id] = info
            if len(self._cache) > CHUNK_CACHE_SIZE:
                self._cache.popitem(last=False)
        return info

    def _vector(self, query: str) -> FloatArray:
        if not query.strip():
            raise BadInput("the search query is empty")
        return self.embedder.embed_query(query)

    def _nearest(self, vector: FloatArray, n: int, flt: _Filter) -> tuple[list[_Found], bool]:
        """Up to ``n`` nearest chunks passing ``flt`` (unfiltered search), and whether the index ran out."""
        with self._guard("searching"):
            res = self._collection.query(query_embeddings=cast(Any, [vector]), n_results=n, include=["distances"])
        ids = res["ids"][0]
        if not ids and self.count() == 0:
            raise IndexUnavailable(NOT_INGESTED)
        dists = (res.get("distances") or [[]])[0]
        infos = self._infos(ids)
        found = [
            _Found(cid, d, infos[cid])
            for cid, d in zip(ids, dists, strict=False)
            if cid in infos and flt.accepts(infos[cid])
        ]
        return found, len(ids) < n

    def _nearest_where(self, vector: FloatArray, n: int, flt: _Filter) -> list[_Found]:
        """The slow but exact path: let Chroma apply the filter."""
        with self._guard("searching"):
            res = self._collection.query(
                query_embeddings=cast(Any, [vector]),
                n_results=n,
                where=cast(Any, flt.where),
                include=["documents", "metadatas", "distances"],
            )
        ids = res["ids"][0]
        if not ids and self.count() == 0:
            raise IndexUnavailable(NOT_INGESTED)
        docs = (res.get("documents") or [[]])[0]
        metas = (res.get("metadatas") or [[]])[0]
        dists = (res.get("distances") or [[]])[0]
        return [
            _Found(cid, d, self._remember(cid, doc or "", md or {}))
            for cid, doc, md, d in zip(ids, docs, metas, dists, strict=False)
        ]

    def search(
        self,
        query: str,
        k: int = 5,
        kind: str | None = None,
        roles: Sequence[str] | None = None,
        seniority: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks closest in meaning to ``query``, best first."""
        if not 1 <= k <= 200:
            raise BadInput(f"k must be between 1 and 200, got {k}")
        flt = _Filter.make(kind, roles, seniority)
        vector = self._vector(query)
        self._fresh()
        found, exhausted = self._nearest(vector, k if flt.where is None else max(50, 10 * k), flt)
        if len(found) < k and not exhausted:
            found = self._nearest_where(vector, k, flt)
        return [f.hit() for f in found[:k]]

    def search_docs(
        self,
        query: str,
        k: int = 3,
        kind: str | None = None,
        roles: Sequence[str] | None = None,
        seniority: Sequence[str] | None = None,
        passages: int = 3,
    ) -> list[DocHit]:
        """The ``k`` documents whose chunks best match ``query``, each with its top passages."""
        if not 1 <= k <= 100:
            raise BadInput(f"k must be between 1 and 100, got {k}")
        flt = _Filter.make(kind, roles, seniority)
        vector = self._vector(query)
        self._fresh()
        # A few documents own most chunks near a query; widen the pool until k documents appear.
        n = max(40, 10 * k)
        while True:
            found, exhausted = self._nearest(vector, n, flt)
            grouped = _group(found, passages)
            if len(grouped) >= k or exhausted:
                break
            if flt.where is not None and n >= FAST_PATH_LIMIT:
                grouped = _group(self._nearest_where(vector, n, flt), passages)
                if len(grouped) >= k:
                    break
            n *= 4
        return [
            DocHit(
                doc_id=best[0].info.doc_id,
                kind=best[0].info.kind,
                title=best[0].info.title,
                score=_score(best[0].distance),
                passages=[f.hit() for f in best],
            )
            for best in grouped[:k]
        ]


STAMP_FILE = "tailor-last-write"


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def _stamp_path(settings: Settings) -> Path:
    return settings.resolved_chroma_path / STAMP_FILE


def _read_stamp(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _forget_cached_system(client: Any) -> None:
    """Drop chromadb's per-path cache of this client's system, so a new client loads the index afresh.

    A private part of chromadb (pinned in requirements.lock); without it, a new client would share
    the stale one and nothing worse happens than today's stale view.
    """
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(client._identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(client._identifier, None)
    except (ImportError, AttributeError):
        log.warning("could not reset chromadb's cached system; the index may not show other processes' writes")


def _score(distance: float) -> float:
    # Cosine distance is 1 - cosine similarity; clip to 0..1.
    return float(min(1.0, max(0.0, 1.0 - float(distance))))


@dataclass(frozen=True)
class _ChunkInfo:
    doc_id: str
    kind: DocKind
    title: str
    section: str
    text: str
    flags: frozenset[str]

    @classmethod
    def from_chroma(cls, document: str, md: Mapping[str, Any]) -> _ChunkInfo:
        offset = int(md.get("body_offset", 0) or 0)
        kind = str(md.get("kind", ""))
        return cls(
            doc_id=str(md.get("doc_id", "")),
            kind=cast(DocKind, kind if kind in DOC_KINDS else "role_profile"),
            title=str(md.get("title", "")),
            section=str(md.get("section", "")),
            text=document[offset:],
            flags=frozenset(k for k, v in md.items() if v is True and k.startswith(("role_", "sen_"))),
        )

    def hit(self, chunk_id: str, distance: float) -> Hit:
        return Hit(
            chunk_id=chunk_id,
            doc_id=self.doc_id,
            kind=self.kind,
            title=self.title,
            section=self.section,
            text=self.text,
            score=_score(distance),
        )


@dataclass(frozen=True)
class _Found:
    chunk_id: str
    distance: float
    info: _ChunkInfo

    def hit(self) -> Hit:
        return self.info.hit(self.chunk_id, self.distance)


@dataclass(frozen=True)
class _Filter:
    kind: str | None
    roles: frozenset[str]
    levels: frozenset[str]
    where: dict[str, Any] | None

    @classmethod
    def make(cls, kind: str | None, roles: Sequence[str] | None, seniority: Sequence[str] | None) -> _Filter:
        where = build_where(kind, roles, seniority)  # validates the values too
        return cls(
            kind=kind,
            roles=frozenset(f"role_{r}" for r in roles or ()),
            levels=frozenset(f"sen_{s}" for s in seniority or ()),
            where=where,
        )

    def accepts(self, info: _ChunkInfo) -> bool:
        return (
            (self.kind is None or info.kind == self.kind)
            and (not self.roles or bool(self.roles & info.flags))
            and (not self.levels or bool(self.levels & info.flags))
        )


def _group(found: Sequence[_Found], passages: int) -> list[list[_Found]]:
    """Each document's best chunks, documents in order of their best chunk."""
    by_doc: dict[str, list[_Found]] = {}
    for f in found:  # nearest first, so insertion order is the ranking
        chunks = by_doc.setdefault(f.info.doc_id, [])
        if len(chunks) < passages:
            chunks.append(f)
    return list(by_doc.values())
