"""Retrieval benchmark: quality on the real corpus, latency and throughput at synthetic scale.

    .venv/bin/python scripts/bench_retrieval.py                    # real corpus only
    .venv/bin/python scripts/bench_retrieval.py --scale 10000 100000

Everything runs in a temporary directory; ./data is never touched. Quality is measured with
``CorpusIndex.search_docs`` (what the plan engine calls) on the labelled queries in
evals/retrieval_queries.yaml: recall@5 and MRR at document level, unfiltered, plus top-1 accuracy
with the kind filter the engine uses. At scale, synthetic chunks recombined from real section
text are added next to the real corpus and the same queries are timed again.

Up to ``--embed-limit`` synthetic chunks are embedded for real (that is the honest embedding
throughput); beyond it, a 1,000-chunk sample is embedded (and timed) and its vectors, perturbed
with noise, stand in for the rest, so only Chroma's write throughput is measured at that size.
Recall is not measured at scale: the synthetic chunks are recombined copies of real text under
made-up ids, so they are distractors by construction, not labelled documents.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tailor.config import Settings  # noqa: E402
from tailor.corpus.documents import Corpus, RoleFamily, load_corpus  # noqa: E402
from tailor.corpus.embeddings import FloatArray, MiniLMEmbedder, get_embedder  # noqa: E402
from tailor.corpus.index import Chunk, CorpusIndex, build_chunks  # noqa: E402


@dataclass
class Query:
    text: str
    type: str
    expected: list[str]


@dataclass
class Quality:
    recall_at_5: float
    mrr: float
    role_top1: float
    case_top1: float
    misses: list[str] = field(default_factory=list)


def load_queries(path: Path) -> list[Query]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    return [Query(q["query"].strip(), q.get("type", "other"), list(q["expected"])) for q in raw]


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p)) if values else float("nan")


def evaluate(index: CorpusIndex, queries: list[Query], known: set[str]) -> Quality:
    recalls: list[float] = []
    rranks: list[float] = []
    role_hits: list[float] = []
    case_hits: list[float] = []
    misses: list[str] = []
    for q in queries:
        expected = [d for d in q.expected if d in known]
        if not expected:
            continue  # the labelled document is not in the corpus (yet)
        ranked = [d.doc_id for d in index.search_docs(q.text, k=5)]
        found = [d for d in expected if d in ranked]
        recalls.append(len(found) / len(expected))
        first = next((i for i, d in enumerate(ranked) if d in expected), None)
        rranks.append(0.0 if first is None else 1.0 / (first + 1))
        if len(found) < len(expected):
            misses.append(f"{q.text[:70]!r}: expected {expected}, got {ranked}")
        for kind, bucket in (("role_profile", role_hits), ("case_study", case_hits)):
            want = [d for d in expected if d.startswith("role-" if kind == "role_profile" else "case-")]
            if want:
                top = index.search_docs(q.text, k=1, kind=kind)
                bucket.append(1.0 if top and top[0].doc_id in want else 0.0)
    return Quality(
        recall_at_5=statistics.mean(recalls),
        mrr=statistics.mean(rranks),
        role_top1=statistics.mean(role_hits) if role_hits else float("nan"),
        case_top1=statistics.mean(case_hits) if case_hits else float("nan"),
        misses=misses,
    )


def time_queries(index: CorpusIndex, queries: list[Query], rounds: int) -> dict[str, float]:
    """Latency of ``search_docs`` (embedding included: the query cache is cleared every round)."""
    index.search_docs("warm up the embedder and the HNSW index", k=5)
    total: list[float] = []
    embed: list[float] = []
    filtered: list[float] = []
    for _ in range(rounds):
        index.embedder.clear_query_cache()
        for q in queries:
            t0 = time.perf_counter()
            index.embedder.embed_query(q.text)
            t1 = time.perf_counter()
            index.search_docs(q.text, k=5)  # the vector is cached now: this is Chroma + grouping
            t2 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            total.append((t2 - t0) * 1000)
            # What the plan engine asks: the best role profile and case studies, by kind.
            for kind in ("role_profile", "case_study"):
                t3 = time.perf_counter()
                index.search_docs(q.text, k=3, kind=kind)
                filtered.append((time.perf_counter() - t3) * 1000)
    return {
        "p50_ms": pct(total, 50),
        "p95_ms": pct(total, 95),
        "embed_p50_ms": pct(embed, 50),
        "chroma_p50_ms": pct([t - e for t, e in zip(total, embed, strict=True)], 50),
        "chroma_p95_ms": pct([t - e for t, e in zip(total, embed, strict=True)], 95),
        "kind_filtered_p50_ms": pct(filtered, 50),
        "kind_filtered_p95_ms": pct(filtered, 95),
        "samples": len(total),
    }


# --------------------------------------------------------------------------- synthetic chunks
ROLES: tuple[str, ...] = get_args(RoleFamily)


def synthetic_chunks(corpus: Corpus, n: int, seed: int = 7) -> list[Chunk]:
    """Chunks recombined from real sentences, sized like real chunks, under made-up doc ids."""
    rng = random.Random(seed)
    real = [c for doc in corpus.docs for c in build_chunks(doc)]
    sentences = [s.strip() for c in real for s in c.text.replace("\n", " ").split(". ") if len(s.strip()) > 20]
    lengths = [len(c.text) for c in real]
    titles = [c.metadata["title"] for c in real]
    out: list[Chunk] = []
    for i in range(n):
        target = rng.choice(lengths)
        parts: list[str] = []
        while sum(len(p) + 2 for p in parts) < target:
            words = rng.choice(sentences).split()
            if len(words) > 6 and rng.random() < 0.3:  # perturb: drop a word so texts are not copies
                del words[rng.randrange(len(words))]
            parts.append(" ".join(words))
        doc_no = i // 15
        family = ROLES[doc_no % len(ROLES)]
        kind = "case_study" if doc_no % 3 else "role_profile"
        title = f"Synthetic {rng.choice(titles)} #{doc_no}"
        md: dict[str, str | int | bool] = {
            "doc_id": f"syn-{doc_no:06d}",
            "kind": kind,
            "title": title,
            "section": f"Section {i % 15}",
            "roles": family,
            f"role_{family}": True,
            "seniority": "mid",
            "sen_mid": True,
            "doc_hash": "synthetic",
            "chunk_kind": "section",
            "body_offset": len(title) + 2,
        }
        out.append(Chunk(id=f"syn-{i:07d}", text=f"{title}\n\n" + ". ".join(parts) + ".", metadata=md))
    return out


def perturbed(vectors: FloatArray, n: int, seed: int = 11) -> FloatArray:
    """``n`` unit vectors near the given ones (for scale beyond what we embed for real)."""
    rng = np.random.default_rng(seed)
    base = vectors[rng.integers(0, len(vectors), size=n)]
    noisy = base + rng.normal(0.0, 0.03, size=base.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def token_count(embedder: MiniLMEmbedder, texts: list[str]) -> int:
    return sum(len(ids) for ids in embedder.token_ids(texts))


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--queries", type=Path, default=ROOT / "evals" / "retrieval_queries.yaml")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="Synthetic chunk counts, e.g. 10000 100000.")
    parser.add_argument("--embed-limit", type=int, default=10000, help="Embed at most this many synthetic chunks.")
    parser.add_argument("--rounds", type=int, default=3, help="Timing rounds over the query set.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args(argv)

    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    corpus = load_corpus(args.corpus)
    if not corpus.docs:
        print(f"no documents in {args.corpus}", file=sys.stderr)
        return 1
    queries = load_queries(args.queries)
    known = {d.id for d in corpus.docs}
    results: dict[str, Any] = {"docs": len(corpus.docs), "queries": len(queries), "cpus": os.cpu_count()}
    # Other work on the machine slows the model down: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    embedder = get_embedder()

    with tempfile.TemporaryDirectory(prefix="tailor-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        index = CorpusIndex.open(settings, embedder=embedder)
        chunks = [c for doc in corpus.docs for c in build_chunks(doc)]
        tokens = token_count(embedder, [c.text for c in chunks])
        report = index.ingest(corpus)
        results["real_ingest"] = {
            "chunks": report.chunks_embedded,
            "tokens": tokens,
            "seconds": report.seconds,
            "chunks_per_s": report.chunks_embedded / report.seconds,
            "tokens_per_s": tokens / report.seconds,
        }
        print(
            f"real corpus: {len(corpus.docs)} docs, {report.chunks_embedded} chunks ({tokens} tokens) "
            f"ingested in {report.seconds:.1f}s = {report.chunks_embedded / report.seconds:.1f} chunks/s, "
            f"{tokens / report.seconds:.0f} tokens/s"
        )
        quality = evaluate(index, queries, known)
        results["quality"] = {k: v for k, v in vars(quality).items() if k != "misses"}
        print(
            f"quality ({len(queries)} queries): recall@5 {quality.recall_at_5:.3f}  MRR {quality.mrr:.3f}  "
            f"role top-1 (kind filter) {quality.role_top1:.3f}  case top-1 {quality.case_top1:.3f}"
        )
        for miss in quality.misses:
            print(f"  miss: {miss}")
        lat = time_queries(index, queries, args.rounds)
        results["latency_real"] = lat
        print(
            f"query latency at {report.chunks_total} chunks: "
            f"p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms "
            f"(embed p50 {lat['embed_p50_ms']:.1f} ms, chroma p50 {lat['chroma_p50_ms']:.1f} ms); "
            f"kind-filtered, vector cached: p50 {lat['kind_filtered_p50_ms']:.1f} / "
            f"p95 {lat['kind_filtered_p95_ms']:.1f} ms"
        )

        vectors: FloatArray | None = None
        real_vectors = embedder.embed([c.text for c in chunks]) if args.scale else None
        for n in sorted(args.scale):
            label = f"scale_{n}"
            sub = Settings(data_dir=Path(tmp) / label)
            big = CorpusIndex.open(sub, embedder=embedder)
            big.upsert_chunks(chunks, embeddings=real_vectors)  # the real corpus, as ingest writes it
            syn = synthetic_chunks(corpus, n)
            entry: dict[str, Any] = {"chunks": n + len(chunks)}
            if n <= args.embed_limit:
                syn_tokens = token_count(embedder, [c.text for c in syn])
                t0 = time.perf_counter()
                vectors = embedder.embed([c.text for c in syn])
                t1 = time.perf_counter()
                big.upsert_chunks(syn, embeddings=vectors)
                t2 = time.perf_counter()
                entry.update(
                    embedded=n,
                    embed_chunks_per_s=n / (t1 - t0),
                    embed_tokens_per_s=syn_tokens / (t1 - t0),
                    write_chunks_per_s=n / (t2 - t1),
                    ingest_chunks_per_s=n / (t2 - t0),
                )
                print(
                    f"{n} synthetic chunks ({syn_tokens / n:.0f} tokens avg): "
                    f"embedded at {n / (t1 - t0):.1f} chunks/s "
                    f"({syn_tokens / (t1 - t0):.0f} tokens/s); Chroma write {n / (t2 - t1):.0f} chunks/s; "
                    f"end to end {n / (t2 - t0):.1f} chunks/s"
                )
            else:
                if vectors is None:
                    # Measure the model on a sample all the same, so every run reports it honestly.
                    sample = syn[: min(1000, n)]
                    sample_tokens = token_count(embedder, [c.text for c in sample])
                    t0 = time.perf_counter()
                    vectors = embedder.embed([c.text for c in sample])
                    dt = time.perf_counter() - t0
                    entry.update(
                        embed_sample=len(sample),
                        embed_chunks_per_s=len(sample) / dt,
                        embed_tokens_per_s=sample_tokens / dt,
                    )
                    print(
                        f"embedded a sample of {len(sample)} synthetic chunks: "
                        f"{len(sample) / dt:.1f} chunks/s ({sample_tokens / dt:.0f} tokens/s)"
                    )
                fake = perturbed(vectors, n)
                t0 = time.perf_counter()
                big.upsert_chunks(syn, embeddings=fake)
                t1 = time.perf_counter()
                entry.update(embedded=0, write_chunks_per_s=n / (t1 - t0))
                print(
                    f"{n} synthetic chunks (precomputed, perturbed vectors): Chroma write {n / (t1 - t0):.0f} chunks/s"
                )
            lat = time_queries(big, queries, args.rounds)
            entry.update(latency=lat)
            results[label] = entry
            print(
                f"query latency at {big.count()} chunks: "
                f"p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms "
                f"(embed p50 {lat['embed_p50_ms']:.1f} ms, chroma p50 {lat['chroma_p50_ms']:.1f} / "
                f"p95 {lat['chroma_p95_ms']:.1f} ms); kind-filtered, vector cached: "
                f"p50 {lat['kind_filtered_p50_ms']:.1f} / p95 {lat['kind_filtered_p95_ms']:.1f} ms"
            )

    results["load_average_end"] = os.getloadavg()[0]
    print(f"load average at end {results['load_average_end']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
