"""The offline MiniLM embedder: pinned vectors, a numpy cross-check, batching, Chroma glue."""

from __future__ import annotations

import math
import os

import numpy as np
import numpy.typing as npt
import pytest
from safetensors.numpy import load_file

from tailor.config import get_settings
from tailor.corpus.embeddings import (
    DIM,
    MAX_TOKENS,
    MiniLMEmbedder,
    TailorMiniLM,
    get_embedder,
    model_files,
)

# Computed once with tailor.corpus.embeddings and agreeing with ``numpy_reference`` below to 1e-7:
# the first eight dimensions of three unit vectors.
PINNED = {
    "backend engineer": [-0.080168, -0.008221, -0.018499, -0.016203, -0.042018, -0.08763, 0.052753, 0.049638],
    "server-side developer": [
        -0.031891,
        -0.051441,
        0.00667,
        0.020589,
        -0.011686,
        -0.069152,
        0.01007,
        0.011943,
    ],
    "pastry chef": [-0.046052, 0.026083, -0.007519, 0.05042, -0.12829, 0.022486, 0.08174, -0.018952],
}
PINNED_IDS = {
    "backend engineer": [101, 2067, 10497, 3992, 102],
    "pastry chef": [101, 27060, 10026, 102],
}

_erf = np.vectorize(math.erf)


def numpy_reference(ids: list[int]) -> npt.NDArray[np.float64]:
    """BERT + mean pooling + L2 norm, written out plainly in float64 for one unpadded text."""
    w = {k: v.astype(np.float64) for k, v in load_file(str(model_files().weights)).items()}

    def ln(x: npt.NDArray[np.float64], p: str) -> npt.NDArray[np.float64]:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def lin(x: npt.NDArray[np.float64], p: str) -> npt.NDArray[np.float64]:
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    t = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:t]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = ln(x, "embeddings.LayerNorm")
    for i in range(6):
        p = f"encoder.layer.{i}"
        q, k, v = (
            lin(x, f"{p}.attention.self.{n}").reshape(t, 12, 32).transpose(1, 0, 2) for n in ("query", "key", "value")
        )
        s = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(t, 384)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1 + _erf(h / math.sqrt(2)))
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


def test_pinned_reference_vectors(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(list(PINNED))
    assert vectors.shape == (3, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for row, expected in zip(vectors, PINNED.values(), strict=True):
        np.testing.assert_allclose(row[:8], expected, atol=2e-5)


def test_tokenizer_is_the_shipped_uncased_wordpiece(embedder: MiniLMEmbedder) -> None:
    for text, ids in PINNED_IDS.items():
        assert embedder.token_ids([text])[0] == ids
    assert embedder.token_ids(["BACKEND Engineer"])[0] == PINNED_IDS["backend engineer"]


def test_matches_a_plain_numpy_forward_pass(embedder: MiniLMEmbedder) -> None:
    texts = [
        "backend engineer",
        "Zoë moved from Zürich to 東京 and builds résumé parsers 🚀",
        "An onboarding plan for a senior engineer. " * 60,  # longer than 256 tokens: truncated
    ]
    ids = embedder.token_ids(texts)
    assert len(ids[2]) == MAX_TOKENS
    got = embedder.embed(texts)
    for row, seq in zip(got, ids, strict=True):
        ref = numpy_reference(seq)
        assert np.abs(row - ref).max() < 1e-5
        assert float(row @ ref) > 0.99999


def test_cosine_similarity_is_sensible(embedder: MiniLMEmbedder) -> None:
    backend, server, chef = embedder.embed(["backend engineer", "server-side developer", "pastry chef"])
    assert float(backend @ server) > float(backend @ chef) + 0.2
    assert float(server @ chef) < 0.3


def test_batches_pad_to_their_longest_text_without_changing_results(embedder: MiniLMEmbedder) -> None:
    texts = ["a", "a mid-length sentence about onboarding plans", "word " * 120, "b c", "ünïcödé"]
    batched = embedder.embed(texts)
    one_by_one = np.stack([embedder.embed([t])[0] for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIM)


def test_query_embedding_is_cached_and_read_only(embedder: MiniLMEmbedder) -> None:
    before = embedder.texts_embedded
    first = embedder.embed_query("a query asked twice")
    second = embedder.embed_query("a query asked twice")
    assert first is second
    assert embedder.texts_embedded == before + 1
    with pytest.raises(ValueError):
        first[0] = 1.0


def test_graph_is_cached_under_model_dir_keyed_by_weights_hash() -> None:
    embedder = get_embedder()
    assert get_embedder() is embedder  # one per process
    cache = get_settings().model_dir / "minilm"
    assert embedder.graph_path.parent == cache
    import hashlib

    digest = hashlib.sha256(model_files().weights.read_bytes()).hexdigest()
    assert embedder.graph_path.name.startswith(f"minilm-{digest[:16]}")
    mtime = os.stat(embedder.graph_path).st_mtime_ns
    again = MiniLMEmbedder(cache)  # a new process would do the same: load, not rebuild
    assert again.graph_path == embedder.graph_path
    assert os.stat(again.graph_path).st_mtime_ns == mtime


def test_registered_as_a_chroma_embedding_function(embedder: MiniLMEmbedder) -> None:
    from chromadb.utils.embedding_functions import known_embedding_functions

    assert known_embedding_functions[TailorMiniLM.name()] is TailorMiniLM
    ef = TailorMiniLM.build_from_config(TailorMiniLM().get_config())
    assert not ef.is_legacy()
    assert ef.default_space() == "cosine"
    vectors = ef(["backend engineer"])
    np.testing.assert_allclose(np.asarray(vectors[0]), embedder.embed(["backend engineer"])[0], atol=1e-6)
    with pytest.raises(ValueError):
        TailorMiniLM.validate_config({"model": "some-other-model"})
