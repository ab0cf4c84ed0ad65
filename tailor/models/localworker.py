"""The local model runs in a supervised child process, never in the process that serves people.

llama.cpp is native code: a crash in it (SIGSEGV on some CPUs, see docs/models.md), a kill
or a hang would otherwise take the web server, every signed-in session and any draft in
flight down with it. So the GGUF model is loaded once per serving process into a worker
(``python -m tailor.models.localworker``) on 127.0.0.1, and this module is its supervisor:

* ``worker_for(path, n_ctx, n_threads)`` returns the one ``LocalWorker`` for that model
  shape in this process; every session shares its model load.
* ``LocalWorker.generate`` starts the worker if it is not running (so the draft after a
  crash restarts it), sends one chat completion, and turns a dead or hung worker into
  ``WorkerCrashed`` or ``WorkerHung`` with the cause (the signal that killed it).
* ``LocalWorker.queue`` is a first-come, first-served queue of drafts: one draft holds the
  model at a time and the others can show their place in line. With a shared lock file the
  drafts of other processes (the app, the API, the CLI) take turns with this one's too.

The worker also makes grammar-constrained decoding nearly free (``GrammarCheckedSampler``).

Run by hand: ``python -m tailor.models.localworker --model PATH --port 0`` prints ``{"port": N}``
once the model is loaded, then serves ``GET /health`` and ``POST /generate``.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import fcntl
import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

START_TIMEOUT_S = 180.0
"""Loading the 1.5B model takes a few seconds idle, far longer on a loaded machine."""
PROMPT_CACHE_BYTES = 256 << 20
"""States kept for prefix reuse: tens of prompts' worth for the 0.5B and 1.5B models."""
HANG_GRACE_S = 15.0
"""How long past its own deadline a worker may stay silent before it counts as hung."""


# =========================================================================== wire format
class GenerateRequest(BaseModel):
    messages: list[dict[str, str]]
    max_tokens: int = Field(default=512, ge=1, le=8192)
    temperature: float = 0.2
    grammar: str | None = Field(default=None, description="GBNF; decoding may only produce what it allows.")
    deadline_s: float | None = Field(default=None, description="Stop generating after this many seconds.")
    options: dict[str, Any] = Field(default_factory=dict, description="top_p, seed, stop, penalties.")


class GenerateResult(BaseModel):
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    decode_seconds: float = Field(description="Time from the first generated token to the last.")
    grammar_fallbacks: int = Field(default=0, description="Tokens the grammar refused, resampled in full.")


class WorkerError(RuntimeError):
    """The worker could not answer; ``reason`` is one line a reviewer can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerCrashed(WorkerError):
    """The worker process died during the call (a signal, an abort, a kill)."""


class WorkerHung(WorkerError):
    """The worker stopped answering; it was killed so the next draft gets a fresh one."""


class WorkerDeadline(WorkerError):
    """The generation hit its own deadline; the worker is healthy."""


# =========================================================================== the worker side
class GrammarCheckedSampler:
    """Sample first, then ask the grammar about that one token; only on a refusal pay for the full pass.

    llama-cpp-python 0.3.36 puts the grammar sampler in front of top-k, so every token runs
    the grammar over the whole vocabulary (151k tokens for Qwen2.5): measured, that halves
    decoding speed. Upstream llama.cpp's own sampler checks the sampled token first and
    resamples under the grammar only when it is refused; this does the same. A model that
    follows the JSON it was asked for is refused on under one token in ten.
    """

    def __init__(self, llama: Llama, grammar: Any, chain: Any) -> None:
        import llama_cpp
        import numpy as np

        self._lib = llama_cpp
        self.chain = chain  # llama_cpp._internals.LlamaSampler: penalties, top-k/p, temperature, dist
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self.n_vocab = int(llama._n_vocab)
        self._full = (llama_cpp.llama_token_data * self.n_vocab)()
        self._view = np.ctypeslib.as_array(self._full)
        self._ids = np.arange(self.n_vocab, dtype=np.int32)
        self._one = (llama_cpp.llama_token_data * 1)()
        self.fallbacks = 0

    def sample(self, ctx: Any, idx: int) -> int:
        lib = self._lib
        token = int(lib.llama_sampler_sample(self.chain.sampler, ctx.ctx, idx))
        self._one[0].id = token  # type: ignore[assignment]
        self._one[0].logit = 0.0
        self._one[0].p = 0.0
        single = lib.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)
        lib.llama_sampler_apply(self.grammar, ctypes.byref(single))
        if math.isinf(self._one[0].logit):
            token = self._resample_under_grammar(ctx, idx)
        lib.llama_sampler_accept(self.grammar, token)
        return token

    def _resample_under_grammar(self, ctx: Any, idx: int) -> int:
        import numpy as np

        lib = self._lib
        self.fallbacks += 1
        logits = lib.llama_get_logits_ith(ctx.ctx, idx)
        self._view["id"] = self._ids
        self._view["logit"] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self._view["p"] = 0.0
        full = lib.llama_token_data_array(data=self._full, size=self.n_vocab, selected=-1, sorted=False)
        lib.llama_sampler_apply(self.grammar, ctypes.byref(full))
        lib.llama_sampler_apply(self.chain.sampler, ctypes.byref(full))
        return int(self._full[full.selected].id)

    def close(self) -> None:
        if self.grammar is not None:
            self._lib.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()


def _fast_llama_class() -> type[Llama]:
    from llama_cpp import Llama

    class GrammarCheckedLlama(Llama):
        """``Llama`` whose grammar runs after sampling (see ``GrammarCheckedSampler``)."""

        last_sampler: GrammarCheckedSampler | None = None

        def _init_sampler(self, grammar: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
            # llama-cpp-python calls this with keyword arguments only.
            chain = super()._init_sampler(grammar=None, **kwargs)
            if grammar is None:
                return chain
            previous, self.last_sampler = self.last_sampler, GrammarCheckedSampler(self, grammar, chain)
            if previous is not None:
                previous.close()
            return self.last_sampler

    return GrammarCheckedLlama


class _Model:
    """One loaded model; generations run one at a time (a llama.cpp context is not thread-safe)."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int) -> None:
        started = time.perf_counter()
        self.llama = _fast_llama_class()(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False
        )
        # Prompts share long prefixes (each call kind has one system prompt), but calls of different
        # kinds alternate, so the context's own prefix reuse rarely applies. A small RAM cache of
        # states keyed by tokens lets every call start from the longest prefix it has seen.
        from llama_cpp import LlamaRAMCache

        self.llama.set_cache(LlamaRAMCache(capacity_bytes=PROMPT_CACHE_BYTES))
        self.load_seconds = time.perf_counter() - started
        self.path = path
        self.lock = threading.Lock()

    def generate(self, req: GenerateRequest) -> GenerateResult:
        from llama_cpp import LlamaGrammar

        kwargs: dict[str, Any] = {"max_tokens": req.max_tokens, "temperature": req.temperature, **req.options}
        if req.grammar:
            kwargs["grammar"] = LlamaGrammar.from_string(req.grammar, verbose=False)
        with self.lock:
            # One line per call in the worker's log: what an operator (or a test) watches for.
            print(f"generate: {len(req.messages)} messages, max_tokens {req.max_tokens}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            deadline = started + req.deadline_s if req.deadline_s else None
            pieces: list[str] = []
            finish = "stop"
            first: float | None = None
            stream: Any = self.llama.create_chat_completion(messages=req.messages, stream=True, **kwargs)  # type: ignore[arg-type]
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    piece = str(choice["delta"].get("content") or "")
                    if piece and first is None:
                        first = time.perf_counter()
                    pieces.append(piece)
                    finish = str(choice.get("finish_reason") or finish)
                    # llama.cpp cannot be interrupted from outside; checking between tokens is the only stop.
                    if deadline is not None and time.perf_counter() > deadline:
                        finish = "deadline"
                        break
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            ended = time.perf_counter()
            text = "".join(pieces)
            completion = len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
            print(f"done: {finish} in {ended - started:.1f}s", file=sys.stderr, flush=True)
            sampler = getattr(self.llama, "last_sampler", None)
            fallbacks = sampler.fallbacks if (req.grammar and sampler is not None) else 0
            return GenerateResult(
                text=text,
                finish_reason=finish,
                prompt_tokens=max(0, self.llama.n_tokens - completion),
                completion_tokens=completion,
                seconds=round(ended - started, 3),
                decode_seconds=round(ended - first, 3) if first is not None else 0.0,
                grammar_fallbacks=fallbacks,
            )


def _handler(model: _Model) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: the supervisor logs what matters
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path != "/health":
                self._reply(404, {"error": "not found"})
                return
            self._reply(200, {"ok": True, "pid": os.getpid(), "model": str(model.path), "busy": model.lock.locked()})

        def do_POST(self) -> None:
            if self.path != "/generate":
                self._reply(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                req = GenerateRequest.model_validate_json(self.rfile.read(length))
            except ValueError as exc:
                self._reply(400, {"error": f"bad request: {exc}"[:300]})
                return
            try:
                result = model.generate(req)
            except ValueError as exc:  # llama-cpp reports an over-long prompt as ValueError
                kind = "context" if "context window" in str(exc) else "bad_request"
                self._reply(400, {"error": str(exc)[:300], "kind": kind})
                return
            self._reply(200, result.model_dump())

    return Handler


def _exit_with_parent(parent: int) -> None:
    """The worker must not outlive the process it serves (a killed web server leaves no orphan)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(path: Path, *, port: int, n_ctx: int, n_threads: int, parent: int | None) -> None:
    model = _Model(path, n_ctx, n_threads)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(model))
    server.daemon_threads = True
    if parent:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # The supervisor waits for this line: the model is loaded and the port is bound.
    print(json.dumps({"port": server.server_address[1], "load_seconds": round(model.load_seconds, 3)}), flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tailor.models.localworker", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--n-threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    serve(args.model, port=args.port, n_ctx=args.n_ctx, n_threads=args.n_threads, parent=args.parent)


# =========================================================================== the supervisor side
class Ticket:
    """A place in a ``FairQueue``; ``position`` 0 means it is this holder's turn."""

    def __init__(self, queue: FairQueue, shared_lock: Path | None = None) -> None:
        self._queue = queue
        self.left = False
        self.shared_lock = shared_lock
        self._fd: int | None = None  # open on ``shared_lock`` and flock-ed while this ticket has the turn

    @property
    def position(self) -> int:
        return self._queue.position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is this ticket's turn, or ``timeout`` seconds; True when it is."""
        return self._queue.wait(self, timeout)

    def leave(self) -> None:
        self._queue.leave(self)

    # ------------------------------------------------------------------ the turn across processes
    @property
    def holds_shared_turn(self) -> bool:
        return self.shared_lock is None or self._fd is not None

    def try_shared_turn(self) -> bool:
        """Take the lock every process drafting in this data directory shares; False if another has it.

        ``flock`` is released by the kernel when its holder dies, so a crashed app or API never
        leaves the others waiting.
        """
        if self.holds_shared_turn:
            return True
        assert self.shared_lock is not None
        self.shared_lock.parent.mkdir(parents=True, exist_ok=True)
        # Not inheritable (PEP 446), so a worker started while this is held cannot keep the lock alive.
        fd = os.open(self.shared_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release_shared_turn(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


SHARED_TURN_POLL_S = 0.1
"""How often a draft at the head of its own process's line asks for the shared turn again."""


class FairQueue:
    """First come, first served: drafts take the model in the order they asked for it.

    Within a process the order is exact. The web app, the API and the CLI are separate processes
    that may draft at once on the same cores; a ticket joined with ``shared_lock`` (a file in the
    data directory) also waits, once at the head of its own line, for the drafts of the others.
    Between processes the order is whoever asks first after the lock frees, not arrival.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: deque[Ticket] = deque()

    def join(self, shared_lock: Path | None = None) -> Ticket:
        ticket = Ticket(self, shared_lock)
        with self._cond:
            self._line.append(ticket)
        return ticket

    def position(self, ticket: Ticket) -> int:
        """Drafts ahead of this one: this process's, plus one if another process has the model."""
        with self._cond:
            try:
                ahead = self._line.index(ticket)
            except ValueError:
                return 0
        return ahead + (0 if ticket.holds_shared_turn else 1)

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if not self._cond.wait_for(lambda: not self._line or self._line[0] is ticket or ticket.left, timeout):
                return False
        while True:
            # Under the condition, so a ticket that leaves from another thread never takes the lock after.
            with self._cond:
                if ticket.left or ticket.try_shared_turn():
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(SHARED_TURN_POLL_S)

    def leave(self, ticket: Ticket) -> None:
        with self._cond:
            ticket.left = True
            ticket.release_shared_turn()
            if ticket in self._line:
                self._line.remove(ticket)
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._line)

    @contextmanager
    def turn(self, shared_lock: Path | None = None) -> Iterator[Ticket]:
        ticket = self.join(shared_lock)
        try:
            ticket.wait()
            yield ticket
        finally:
            ticket.leave()


SPIN_COUNT = "2000"
"""How long an idle OpenMP thread spins before it sleeps (libgomp's default is 300,000).

Measured on 2 cores, 0.5B model, decode tokens/s idle / with one core kept busy
(docs/benchmarks.md): libgomp's default 23.9 / 4.4 (it collapses); OMP_WAIT_POLICY=PASSIVE
15.5 / 12.1; GOMP_SPINCOUNT=2000 23.6 / 9.9.

A short spin keeps the idle speed and avoids the collapse when another process wants a core.
"""


def worker_env() -> dict[str, str]:
    """The environment of a process that runs llama.cpp: short OpenMP spins (see ``SPIN_COUNT``).

    OpenMP reads these when the library loads, so they are set before the process starts.
    An operator's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    """
    env = dict(os.environ)
    if "OMP_WAIT_POLICY" not in env:
        env.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
    return env


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def exit_cause(returncode: int | None) -> str:
    """One line on how a worker ended: 'was killed by SIGSEGV', 'exited with status 1'."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        return f"was killed by {_signal_name(returncode)}"
    return f"exited with status {returncode}"


@dataclass
class LocalWorker:
    """Starts, health-checks, restarts and talks to one worker process (one model, one shape)."""

    model_path: Path
    n_ctx: int
    n_threads: int
    log_path: Path | None = None
    queue: FairQueue = field(default_factory=FairQueue)
    hang_grace_s: float = HANG_GRACE_S
    start_timeout_s: float = START_TIMEOUT_S
    restarts: int = 0
    last_exit: int | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _url: str | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _busy: bool = field(default=False, repr=False)

    # ------------------------------------------------------------------ state
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def busy(self) -> bool:
        """True while a generation is in flight (tests use it to kill a worker mid-draft)."""
        return self._busy

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "tailor.models.localworker",
            "--model",
            str(self.model_path),
            "--n-ctx",
            str(self.n_ctx),
            "--n-threads",
            str(self.n_threads),
            "--parent",
            str(os.getpid()),
        ]

    # ------------------------------------------------------------------ lifecycle
    def ensure_running(self) -> float:
        """Start the worker if it is not running; the seconds spent loading the model (0 if it was up)."""
        with self._lock:
            if self.running:
                return 0.0
            if self._proc is not None:  # it ran before and died: this is a restart
                self.last_exit = self._proc.returncode
                self.restarts += 1
                log.warning("local model worker %s; restarting it", exit_cause(self.last_exit))
            return self._start()

    def _start(self) -> float:
        started = time.perf_counter()
        sink: Any = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            sink = self.log_path.open("ab")
        try:
            proc = subprocess.Popen(
                self.command(), stdout=subprocess.PIPE, stderr=sink, stdin=subprocess.DEVNULL, env=worker_env()
            )
        finally:
            if sink is not subprocess.DEVNULL:
                sink.close()
        self._proc = proc
        line = _read_line(proc, self.start_timeout_s)
        if line is None:
            code = proc.poll()
            self._kill()
            if code is not None:
                raise WorkerCrashed(f"the local model worker {exit_cause(code)} while loading the model")
            raise WorkerHung(f"the local model worker did not load the model within {self.start_timeout_s:.0f}s")
        port = int(json.loads(line)["port"])
        self._url = f"http://127.0.0.1:{port}"
        seconds = time.perf_counter() - started
        log.info(
            "local model worker pid %d serving %s on port %d (%.1fs)", proc.pid, self.model_path.name, port, seconds
        )
        return seconds

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.error("local model worker pid %d did not die after SIGKILL", proc.pid)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    def stop(self) -> None:
        with self._lock:
            self._kill()
            self._proc = None
            self._url = None

    def health(self, timeout_s: float = 2.0) -> dict[str, Any] | None:
        """The worker's /health answer, or None if it is not running or not answering."""
        url = self._url
        if url is None or not self.running:
            return None
        try:
            return dict(httpx.get(f"{url}/health", timeout=timeout_s).json())
        except (httpx.HTTPError, ValueError):
            return None

    # ------------------------------------------------------------------ calls
    def generate(self, request: GenerateRequest) -> GenerateResult:
        """One completion. Raises WorkerCrashed, WorkerHung, WorkerDeadline or WorkerError, never hangs."""
        with self._lock:  # one request in flight: the queue orders drafts, this orders calls
            self.ensure_running()
            assert self._url is not None
            wait_s = (request.deadline_s or 600.0) + self.hang_grace_s
            self._busy = True
            try:
                response = httpx.post(f"{self._url}/generate", content=request.model_dump_json(), timeout=wait_s)
            except httpx.TimeoutException:
                self._kill()
                raise WorkerHung(f"the local model stopped answering for {wait_s:.0f}s and was restarted") from None
            except httpx.TransportError as exc:
                raise self._crashed(exc) from None
            finally:
                self._busy = False
            if response.status_code != 200:
                try:
                    detail = str(response.json().get("error"))
                except ValueError:
                    detail = response.text[:200]
                raise WorkerError(detail)
            result = GenerateResult.model_validate(response.json())
            if result.finish_reason == "deadline":
                raise WorkerDeadline(f"the local model did not finish within {request.deadline_s:g}s")
            return result

    def _crashed(self, exc: Exception) -> WorkerError:
        proc = self._proc
        code: int | None = None
        if proc is not None:
            try:  # a crashed process is reaped within moments; a live one means the socket failed
                code = proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                code = None
        if code is None:
            self._kill()
            return WorkerCrashed(f"the worker process dropped the connection ({type(exc).__name__}) and was restarted")
        self.last_exit = code
        return WorkerCrashed(f"the worker process {exit_cause(code)}; the next draft restarts it")


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> str | None:
    """The worker's first stdout line, or None if it exits or stays silent for ``timeout_s``."""
    out: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.readline().decode("utf-8", "replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not out or not out[0].strip():
        return None
    return out[0]


_WORKERS: dict[tuple[str, int, int], LocalWorker] = {}
_WORKERS_LOCK = threading.Lock()


def worker_for(model_path: Path, n_ctx: int, n_threads: int, log_dir: Path | None = None) -> LocalWorker:
    """This process's worker for that model file and shape (created, not started)."""
    key = (str(model_path), n_ctx, n_threads)
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is None:
            log_path = log_dir / f"model-worker-{model_path.stem}.log" if log_dir is not None else None
            worker = LocalWorker(model_path, n_ctx, n_threads, log_path=log_path)
            _WORKERS[key] = worker
        return worker


def workers() -> list[LocalWorker]:
    with _WORKERS_LOCK:
        return list(_WORKERS.values())


def stop_all() -> None:
    """Stop every worker of this process (exit, tests, switching models)."""
    for worker in workers():
        worker.stop()


atexit.register(stop_all)


if __name__ == "__main__":
    main()
