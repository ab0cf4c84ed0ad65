"""`tailor model check`: one tiny real generation of the local model, in a child process.

Why a child: a llama.cpp build that does not suit the CPU does not raise, it kills the
process (SIGSEGV in ggml's AMX path on Sapphire-Rapids-class Xeons, llama.cpp #20824;
SIGILL for instructions the CPU lacks). Run in the caller, that would take down the CLI,
``scripts/setup`` or the Streamlit server. Run in a child, it becomes a ``ModelCheck`` with a
one-line cause and its fix.

The child is ``python -m tailor.models.modelcheck --name NAME --model PATH ...``. It verifies the
model file's sha256 itself, so a missing file is reported like any other failure. It prints
one JSON line per stage (``build`` before the model loads, ``loaded``, then ``done`` with the
figures), so a crash after the ``build`` line still tells the parent what the build was.

The last result is kept in ``settings.data_dir / "model-check.json"``; ``last_check`` reads it
so the app can show the model's state without loading a model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tailor.config import Settings, get_settings
from tailor.errors import BadInput, ModelUnavailable
from tailor.models import localmodel

log = logging.getLogger(__name__)

CHECK_FILE = "model-check.json"
CPUINFO = Path("/proc/cpuinfo")
CHECK_TOKENS = 16
# Load plus 2 x 16 tokens takes seconds on an idle machine; the margin is for a busy one
# (with other jobs on the cores, the 1.5B model has needed minutes for a short answer).
DEFAULT_TIMEOUT_S = 180.0
CHECK_CONTEXT = 512
CHILD_PROGRAM: tuple[str, ...] = (sys.executable, "-m", "tailor.models.modelcheck")

# The CPU features that decide which llama.cpp build runs here.
CPU_FLAGS: tuple[str, ...] = ("avx", "avx2", "fma", "f16c", "avx512f", "amx_tile", "amx_int8", "amx_bf16")
# llama_print_system_info() feature -> the /proc/cpuinfo flag it needs (to name what a SIGILL lacked).
_BUILD_NEEDS: dict[str, str] = {
    "SSSE3": "ssse3",
    "AVX": "avx",
    "AVX_VNNI": "avx_vnni",
    "AVX2": "avx2",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
}

REBUILD = "rebuild portably: scripts/setup (see docs/models.md)"
AMX_CRASH = (
    "llama.cpp crashed (SIGSEGV) — this build uses the AMX path, which crashes on this CPU "
    f"(llama.cpp #20824); {REBUILD}"
)

AMX_BUILD = (
    "this build has llama.cpp's AMX path compiled in and this CPU has AMX, which crashes "
    f"(SIGSEGV in ggml_backend_amx_mul_mat, llama.cpp #20824); {REBUILD}"
)

Failure = Literal[
    "segfault", "illegal_instruction", "killed", "timeout", "model_missing", "not_installed", "amx_build", "error"
]

# A tiny prompt any instruct or base model continues; the JSON schema is the smallest one
# that still exercises llama.cpp's grammar sampler, which the app uses for every call.
PROMPT = "List three colours of the rainbow:"
GRAMMAR_PROMPT = "A JSON object naming one colour of the rainbow: "
GRAMMAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"colour": {"type": "string"}},
    "required": ["colour"],
    "additionalProperties": False,
}


class CpuInfo(BaseModel):
    model_name: str | None
    flags: frozenset[str]

    def relevant(self) -> dict[str, bool]:
        return {flag: flag in self.flags for flag in CPU_FLAGS}

    @property
    def has_amx(self) -> bool:
        return any(flag.startswith("amx") for flag in self.flags)


class ModelCheck(BaseModel):
    """The result of one check, pass or fail; what the CLI prints and the app shows."""

    ok: bool
    model: str = Field(description="The local model's short name, e.g. qwen2.5-coder-0.5b.")
    checked_at: datetime
    cpu_model: str | None = None
    cpu_flags: dict[str, bool] = Field(default_factory=dict)
    program: str = Field(description="The command that ran the generation.")
    llama_cpp_version: str | None = None
    system_info: str | None = Field(default=None, description="llama_print_system_info() of the build.")
    build_has_amx: bool | None = Field(default=None, description="ggml's AMX path is compiled in; None: unknown.")
    threads: int
    tokens_per_s: float | None = Field(default=None, description="Decode tokens/s, no grammar.")
    grammar_tokens_per_s: float | None = Field(default=None, description="Decode tokens/s under a JSON grammar.")
    completion_tokens: int | None = None
    seconds: float | None = Field(default=None, description="The ungrammared generation, prompt included.")
    load_seconds: float | None = None
    returncode: int | None = None
    failure: Failure | None = None
    cause: str | None = Field(default=None, description="One line: what went wrong and the fix.")
    warnings: list[str] = Field(default_factory=list)

    @property
    def headline(self) -> str:
        """One line for a sidebar, a log or the top of the report."""
        if not self.ok:
            return f"model check failed: {self.cause}"
        speed = f"{self.tokens_per_s:.1f} tokens/s" if self.tokens_per_s is not None else "speed unknown"
        if self.grammar_tokens_per_s is not None:
            speed += f" ({self.grammar_tokens_per_s:.1f} under a JSON grammar)"
        build = f"llama-cpp-python {self.llama_cpp_version}, " if self.llama_cpp_version else ""
        amx = "AMX path compiled in" if self.build_has_amx else "no AMX path"
        return f"model check passed: {self.model}, {speed}, {build}{amx}"


# --------------------------------------------------------------------------- parent side
def read_cpuinfo(path: Path = CPUINFO) -> CpuInfo:
    """The first CPU's model name and flags (every core of a machine reports the same)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return CpuInfo(model_name=None, flags=frozenset())
    name = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.M)
    return CpuInfo(
        model_name=name.group(1).strip() if name else None,
        flags=frozenset(flags.group(1).split()) if flags else frozenset(),
    )


def build_has_amx(system_info: str | None) -> bool | None:
    """Whether llama_print_system_info() reports ggml's AMX path (``AMX_INT8 = 1``)."""
    if system_info is None:
        return None
    return "AMX" in system_info


def build_features(system_info: str | None) -> set[str]:
    """The features a build reports as on (``AVX2 = 1`` -> ``AVX2``)."""
    return set(re.findall(r"([A-Z][A-Z0-9_]*) = 1", system_info or ""))


def default_model(settings: Settings) -> str:
    """The local model to check: the configured one, else the small one."""
    model = settings.model.removeprefix("local/")
    return model if settings.is_local_model and model in localmodel.MODELS else "qwen2.5-coder-0.5b"


def model_for(which: str | None, settings: Settings) -> str:
    if which is None:
        return default_model(settings)
    names = localmodel.names_for(which)
    if len(names) != 1:
        raise BadInput("check one model at a time: --which 0.5b or --which 1.5b")
    return names[0]


def child_command(
    name: str,
    model_path: Path,
    *,
    threads: int,
    tokens: int = CHECK_TOKENS,
    program: Sequence[str] = CHILD_PROGRAM,
) -> list[str]:
    """The child's command line. ``program`` runs the generation: by default this interpreter's
    ``-m tailor.models.modelcheck``; another one checks another environment's build, and anything that
    prints the same JSON lines (or dies the same ways) can stand in for it."""
    return [
        *program,
        "--name",
        name,
        "--model",
        str(model_path),
        "--threads",
        str(threads),
        "--tokens",
        str(tokens),
        "--context",
        str(CHECK_CONTEXT),
    ]


def child_env() -> dict[str, str]:
    """The child's environment: the model worker's (short OpenMP spins), so the check measures what a draft gets."""
    from tailor.models.localworker import worker_env

    return worker_env()


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _as_text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def _stages(stdout: str) -> dict[str, dict[str, Any]]:
    """The child's JSON lines by stage; anything else on stdout is ignored."""
    stages: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("stage"), str):
            stages[record["stage"]] = record
    return stages


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return _one_line(lines[-1]) if lines else "no output"


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def classify(
    *,
    returncode: int | None,
    timed_out: bool,
    timeout_s: float,
    stages: dict[str, dict[str, Any]],
    stderr: str,
    cpu: CpuInfo,
    tokens: int,
) -> tuple[Failure | None, str | None]:
    """(failure kind, one-line cause with the fix), or (None, None) when the child succeeded."""
    system_info = stages.get("build", {}).get("system_info")
    amx_build = build_has_amx(system_info)
    if timed_out:
        where = "loading the model" if "loaded" not in stages else "generating"
        if "build" not in stages:
            where = "importing llama_cpp"
        return "timeout", (
            f"llama.cpp hung: no {tokens}-token answer within {timeout_s:.0f} s (stuck {where}); "
            "check the machine's load (uptime) and TAILOR_LOCAL_THREADS, or rebuild: scripts/setup"
        )
    assert returncode is not None
    if returncode == -signal.SIGSEGV:
        # A build known to lack the AMX path cannot have crashed in it, whatever the CPU has;
        # when the child died before reporting its build, AMX on the CPU is the known cause.
        if amx_build or (amx_build is None and cpu.has_amx):
            return "segfault", AMX_CRASH
        return "segfault", (
            f"llama.cpp crashed (SIGSEGV) while generating; {REBUILD}; "
            "if it persists, report the output of `tailor model check --json`"
        )
    if returncode == -signal.SIGILL:
        missing = sorted(
            f for f in build_features(system_info) if f in _BUILD_NEEDS and _BUILD_NEEDS[f] not in cpu.flags
        )
        lacking = f" ({', '.join(missing)})" if missing else ""
        return "illegal_instruction", (
            f"llama.cpp was killed by SIGILL: the build uses instructions this CPU lacks{lacking}; "
            "rebuild with scripts/setup (it picks the flags from /proc/cpuinfo)"
        )
    if returncode == -signal.SIGKILL:
        return "killed", (
            "the model check was killed (SIGKILL), most likely out of memory; "
            "free memory or check the 0.5B model (--which 0.5b)"
        )
    if returncode < 0:
        return "error", f"llama.cpp died from {_signal_name(returncode)}: {_last_line(stderr)}; {REBUILD}"
    error = stages.get("error")
    if error and error.get("kind") == "model_missing":  # the message already names `tailor model fetch`
        return "model_missing", _one_line(str(error.get("detail", "")))
    if error and error.get("kind") == "not_installed":
        return "not_installed", (
            f"llama-cpp-python is not installed ({_one_line(str(error.get('detail', '')), 120)}); "
            "install it with scripts/setup"
        )
    if error:
        return "error", f"the model check failed: {_one_line(str(error.get('detail', '')), 160)}"
    if returncode != 0:
        return "error", f"the model check exited with status {returncode}: {_last_line(stderr)}"
    if "done" not in stages:
        return "error", "the model check printed no result; run `tailor model check --json` to see what it did"
    return None, None


def run_check(
    settings: Settings | None = None,
    *,
    which: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    program: Sequence[str] = CHILD_PROGRAM,
    tokens: int = CHECK_TOKENS,
    cpuinfo: Path = CPUINFO,
    save: bool = True,
) -> ModelCheck:
    """Check the local model runtime in a child process; never raises for a failed check.

    ``program`` is the command that runs the generation (see ``child_command``). ``save``
    writes the result where ``last_check`` finds it. Raises ``BadInput`` only for a bad ``which``.
    """
    settings = settings or get_settings()
    name = model_for(which, settings)
    cpu = read_cpuinfo(cpuinfo)
    threads = localmodel.thread_count(settings)
    base: dict[str, Any] = {
        "model": name,
        "checked_at": datetime.now(UTC),
        "cpu_model": cpu.model_name,
        "cpu_flags": cpu.relevant(),
        "program": " ".join(program),
        "threads": threads,
    }
    # The child verifies the file (sha256, cached beside it): one code path for every failure.
    cmd = child_command(name, localmodel.model_path(name, settings), threads=threads, tokens=tokens, program=program)
    timed_out = False
    returncode: int | None = None
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, env=child_env(), check=False
        )
        stdout, stderr, returncode = _as_text(proc.stdout), _as_text(proc.stderr), proc.returncode
    except subprocess.TimeoutExpired as exc:
        # subprocess.run has killed and reaped the child; keep what it said before it hung.
        timed_out = True
        stdout, stderr = _as_text(exc.stdout), _as_text(exc.stderr)
    except OSError as exc:
        reason = f"could not start the model check ({_one_line(str(exc), 120)}); run scripts/setup"
        return _finish(ModelCheck(ok=False, failure="error", cause=reason, **base), settings, save)

    stages = _stages(stdout)
    failure, cause = classify(
        returncode=returncode,
        timed_out=timed_out,
        timeout_s=timeout_s,
        stages=stages,
        stderr=stderr,
        cpu=cpu,
        tokens=tokens,
    )
    build = stages.get("build", {})
    done = stages.get("done", {})
    amx_build = build_has_amx(build.get("system_info"))
    warnings: list[str] = []
    if failure is None and amx_build:
        if cpu.has_amx:
            # It ran 16 tokens, but the crash depends on the matrix shapes of longer prompts.
            failure, cause = "amx_build", AMX_BUILD
        else:
            warnings.append(f"the build has llama.cpp's AMX path compiled in; on an AMX CPU it crashes: {REBUILD}")
    check = ModelCheck(
        ok=failure is None,
        llama_cpp_version=build.get("llama_cpp_version"),
        system_info=build.get("system_info"),
        build_has_amx=amx_build,
        tokens_per_s=done.get("tokens_per_s"),
        grammar_tokens_per_s=done.get("grammar_tokens_per_s"),
        completion_tokens=done.get("completion_tokens"),
        seconds=done.get("seconds"),
        load_seconds=stages.get("loaded", {}).get("load_seconds"),
        returncode=returncode,
        failure=failure,
        cause=cause,
        warnings=warnings,
        **base,
    )
    return _finish(check, settings, save)


def check_file(settings: Settings) -> Path:
    return settings.data_dir / CHECK_FILE


def _finish(check: ModelCheck, settings: Settings, save: bool) -> ModelCheck:
    if save:
        save_check(check, settings)
    return check


def save_check(check: ModelCheck, settings: Settings) -> None:
    """Write the result atomically: the app may read it while a check is being saved."""
    path = check_file(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(check.model_dump_json(indent=2))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data dir must not turn a check into a crash
        log.warning("could not save the model check to %s: %s", path, exc)


def last_check(settings: Settings | None = None) -> ModelCheck | None:
    """The last saved result, or None when there is none (or it is unreadable)."""
    settings = settings or get_settings()
    try:
        return ModelCheck.model_validate_json(check_file(settings).read_text())
    except (OSError, ValidationError, ValueError):
        return None


# --------------------------------------------------------------------------- child side
def _emit(**record: Any) -> None:
    print(json.dumps(record), flush=True)


def _generate(llm: Any, prompt: str, tokens: int, grammar: Any = None) -> tuple[int, float, float | None]:
    """Greedy-decode up to ``tokens`` tokens: (count, seconds incl. prompt, decode tokens/s).

    Decode speed is timed from the first token to the last, so the prompt's evaluation
    (which the first token waits for) does not dilute it.
    """
    prompt_tokens = llm.tokenize(prompt.encode(), add_bos=True, special=False)
    eos = llm.token_eos()
    started = time.perf_counter()
    stamps: list[float] = []
    for token in llm.generate(prompt_tokens, temp=0.0, top_k=1, reset=True, grammar=grammar):
        stamps.append(time.perf_counter())
        if token == eos or len(stamps) >= tokens:
            break
    seconds = (stamps[-1] if stamps else time.perf_counter()) - started
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) >= 2 and stamps[-1] > stamps[0] else None
    return len(stamps), seconds, rate


def child_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tailor.models.modelcheck", description="Run one tiny generation.")
    parser.add_argument("--name", required=True, help="The local model's short name (its pinned sha256).")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=CHECK_TOKENS)
    parser.add_argument("--context", type=int, default=CHECK_CONTEXT)
    args = parser.parse_args(argv)
    try:
        import llama_cpp
    except ImportError as exc:
        _emit(stage="error", kind="not_installed", detail=str(exc))
        return 3
    # Printed before the model loads: if llama.cpp crashes, the parent still knows the build.
    _emit(
        stage="build",
        llama_cpp_version=llama_cpp.__version__,
        system_info=llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
    )
    try:
        path = localmodel.require_model(args.name, Settings(model_dir=args.model.parent))
    except ModelUnavailable as exc:
        _emit(stage="error", kind="model_missing", detail=exc.message)
        return 4
    try:
        started = time.perf_counter()
        llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=args.context,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            verbose=False,
        )
        _emit(stage="loaded", load_seconds=round(time.perf_counter() - started, 3))
        count, seconds, rate = _generate(llm, PROMPT, args.tokens)
        grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(GRAMMAR_SCHEMA), verbose=False)
        _, _, grammar_rate = _generate(llm, GRAMMAR_PROMPT, args.tokens, grammar)
    except Exception as exc:  # a Python-level failure (bad file, bad args): one line, no traceback
        _emit(stage="error", kind="error", detail=f"{type(exc).__name__}: {exc}")
        return 1
    _emit(
        stage="done",
        completion_tokens=count,
        seconds=round(seconds, 3),
        tokens_per_s=round(rate, 2) if rate is not None else None,
        grammar_tokens_per_s=round(grammar_rate, 2) if grammar_rate is not None else None,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(child_main())
