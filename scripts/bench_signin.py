"""Sign-in page speed in a real browser: first contentful paint and the form on screen.

    .venv/bin/python scripts/bench_signin.py                      # 5 servers x 6 page loads
    .venv/bin/python scripts/bench_signin.py --servers 3 --loads 4 --json out.json

Each server is a fresh ``streamlit run app.py`` (the same command ``scripts/run`` uses) over an
empty data directory in a temp folder, so ./data is never touched. The first load on a server is
"cold" (the first session it serves); the others are "warm", each in a new browser context (no
cache, no cookies), as a new visitor would arrive. Per load it records the browser's own
first-contentful-paint and the time from ``page.goto`` to the "Sign in" button being visible.

Needs Debian's Chromium (``/usr/bin/chromium``); never ``playwright install``. The figures depend
on the machine's load, so the run prints the load average before and after: compare runs only at
similar loads. Results are in docs/ui.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@dataclass(frozen=True)
class Load:
    server: int
    cold: bool
    first_contentful_paint_s: float | None
    form_visible_s: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "TAILOR_DATA_DIR": str(data_dir), "TAILOR_CONFIG": str(data_dir / "absent.toml")}
    log = (data_dir / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}; see {data_dir / 'streamlit.log'}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("streamlit did not become healthy within 60 s")


def _first_contentful_paint(page: Page) -> float | None:
    """The browser's own first-contentful-paint, in seconds. Chromium can report the entry a frame
    after the content is on screen, so this waits a little for it rather than count it missing."""
    for _ in range(20):
        paints = json.loads(page.evaluate("JSON.stringify(performance.getEntriesByType('paint'))"))
        found = next((p["startTime"] / 1000 for p in paints if p["name"] == "first-contentful-paint"), None)
        if found is not None:
            return float(found)
        page.wait_for_timeout(50)
    return None


def _measure(server: int, url: str, loads: int) -> list[Load]:
    from playwright.sync_api import sync_playwright

    measured: list[Load] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        for i in range(loads):
            context = browser.new_context(viewport={"width": 1400, "height": 1200})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            form = time.perf_counter() - started
            fcp = _first_contentful_paint(page)
            measured.append(Load(server, i == 0, None if fcp is None else round(fcp, 3), round(form, 3)))
            context.close()
        browser.close()
    return measured


def _summary(values: list[float]) -> str:
    if not values:
        return "no data"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, range {ordered[0]:.2f}-{ordered[-1]:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=5, help="fresh servers, one after another")
    parser.add_argument("--loads", type=int, default=6, help="page loads per server (the first is cold)")
    parser.add_argument("--json", type=Path, help="also write every load here")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2

    load_before = os.getloadavg()
    loads: list[Load] = []
    for server in range(args.servers):
        with tempfile.TemporaryDirectory(prefix="tailor-bench-signin-") as tmp:
            proc, url = _start_server(Path(tmp))
            try:
                loads += _measure(server, url, args.loads)
            finally:
                proc.terminate()
                proc.wait(timeout=15)
    load_after = os.getloadavg()

    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; {len(loads)} page loads")
    groups = {"all": loads, "cold": [x for x in loads if x.cold], "warm": [x for x in loads if not x.cold]}
    for label, chosen in groups.items():
        fcp = [x.first_contentful_paint_s for x in chosen if x.first_contentful_paint_s is not None]
        print(f"{label:>4}: first contentful paint {_summary(fcp)} ({len(fcp)} loads)")
        print(f"{'':>4}  sign-in form visible   {_summary([x.form_visible_s for x in chosen])}")
    if args.json:
        args.json.write_text(json.dumps([asdict(x) for x in loads], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
