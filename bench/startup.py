"""How long a user waits: ``streamlit run app.py`` launched to the first tokens drawn in a real browser.

Each run starts a fresh server process (on a free localhost port, the same flags as the browser tests) and, already
waiting in a headless Chromium launched before the clock starts, opens the default page and waits for the first
token span (``[data-token-id]``). Two kinds of run:

- **warm**: the cache folder already holds the built-in tokenizers trained by an earlier run (the usual restart);
- **cold**: an empty cache folder, so the first page run trains the built-ins.

Besides the total, each run records when ``/_stcore/health`` first answered (the server is up: interpreter and
Streamlit) and when the text box, the page's first input, was drawn (the browser has loaded Streamlit's frontend,
connected, and the app's script has imported its modules and started), so the rest is the script's first run up to
the first panel and the browser drawing it.
A separate line times ``import tokviz.pages.app`` (with its page modules) in a fresh interpreter, the part of the
first run that is pure imports. Two more lines put the figure in context: the same warm start with Python's bytecode
cache turned off (``PYTHONDONTWRITEBYTECODE=1``, which some machines set: every start then compiles the app's
modules), and a bare Streamlit app that draws a text box and one span, what any Streamlit app pays (the server's
start, the frontend loading in the browser, a first session). The app's warm runs let Python keep its bytecode cache,
as a user's machine does; the row "all 4 panels drawn" waits until every panel of the default choice holds tokens.

Usage::

    python bench/startup.py               # 5 warm, 3 cold, 2 without bytecode, 3 bare runs; medians printed
    python bench/startup.py --warm 9 --cold 0 --bare 0 --no-bytecode 0

Figures depend on the machine and on what else runs on it: quote medians, and the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, free_port, stop  # noqa: E402

#: What a warm start is measured against (seconds from launch to first tokens).
WARM_TARGET_S = 2.5
#: Panels the Tokenize page shows by default: our BPE, GPT-2, GPT-4 and GPT-4o.
DEFAULT_PANELS = 4


@dataclass(frozen=True)
class Start:
    """One launch: seconds from ``Popen`` to the health check answering, to the page's first element drawn by the
    app's script (the text box), and to the first token drawn."""

    healthy: float
    first_element: float
    first_tokens: float
    all_panels: float | None = None


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], t0: float) -> float:
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.perf_counter() - t0 > 120:
            raise SystemExit("streamlit did not answer within 120 s")
        time.sleep(0.02)


#: A Streamlit app that draws only a text box and one token span: what any Streamlit app pays before its own script
#: (the server's start, the frontend loading in the browser, the session's first run).
BARE_APP = """
import streamlit as st
st.text_area("Text", "hello world")
st.html('<span data-token-id="0">hello</span>')
"""


def launch(browser: object, cache: Path, log: Path, *, app: Path = ROOT / "app.py", bytecode: bool = True) -> Start:
    """Start a server on ``cache``, open the page in a new context, wait for the first token, stop the server.

    ``bytecode``: let Python keep its compiled-module cache (``__pycache__``), as it does on a user's machine; some
    machines set ``PYTHONDONTWRITEBYTECODE``, and then every start compiles the app's modules again."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TOKVIZ_CACHE_DIR": str(cache)}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    t0 = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        healthy = _wait_healthy(url, proc, t0)
        page.goto(url)
        page.wait_for_selector('[data-testid="stTextArea"]', timeout=120_000)
        element = time.perf_counter() - t0
        page.wait_for_selector("[data-token-id]", timeout=120_000)
        first = time.perf_counter() - t0
        every = None
        if app == ROOT / "app.py":  # every panel of the default choice holds its tokens
            page.wait_for_function(f"() => document.querySelectorAll('.tv-tokens').length >= {DEFAULT_PANELS}",
                                   timeout=120_000)
            every = time.perf_counter() - t0
    finally:
        context.close()
        stop(proc)
    return Start(healthy, element, first, every)


def import_seconds(repeats: int) -> list[float]:
    """``import tokviz.pages.app`` and the page modules, each in a fresh interpreter (imports only)."""
    code = ("import time; t = time.perf_counter(); import tokviz.pages.app, tokviz.pages.tokenize; "
            "print(time.perf_counter() - t)")
    out = []
    for _ in range(repeats):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env=env)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warm", type=int, default=5, help="warm-cache launches (default: %(default)s)")
    ap.add_argument("--cold", type=int, default=3, help="empty-cache launches (default: %(default)s)")
    ap.add_argument("--bare", type=int, default=3, help="launches of a bare Streamlit app, the floor (default: "
                    "%(default)s)")
    ap.add_argument("--no-bytecode", type=int, default=2, help="warm launches without Python's bytecode cache "
                    "(default: %(default)s)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        log = Path(tmp) / "streamlit.log"
        warm_cache = Path(tmp) / "warm"
        warm_cache.mkdir()
        launch(browser, warm_cache, log)  # fills the warm cache; not counted
        cold = [launch(browser, Path(tempfile.mkdtemp(dir=tmp)), log) for _ in range(args.cold)]
        warm = [launch(browser, warm_cache, log) for _ in range(args.warm)]
        no_pyc = [launch(browser, warm_cache, log, bytecode=False) for _ in range(args.no_bytecode)]
        bare_app = Path(tmp) / "bare_app.py"
        bare_app.write_text(BARE_APP, encoding="utf-8")
        bare = [launch(browser, warm_cache, log, app=bare_app) for _ in range(args.bare)]
        browser.close()
    imports = import_seconds(3)
    warm_first = [s.first_tokens for s in warm]
    met = bool(warm_first) and statistics.median(warm_first) < WARM_TARGET_S
    print(f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print("| launch to | warm cache | empty cache |")
    print("| --- | ---: | ---: |")
    print(f"| health check answers | {_fmt([s.healthy for s in warm])} | {_fmt([s.healthy for s in cold])} |")
    print(f"| the text box drawn (the script has started) | {_fmt([s.first_element for s in warm])} | "
          f"{_fmt([s.first_element for s in cold])} |")
    print(f"| first tokens in the browser | {_fmt(warm_first)} | {_fmt([s.first_tokens for s in cold])} |")
    print(f"| all {DEFAULT_PANELS} panels drawn | {_fmt([s.all_panels for s in warm if s.all_panels])} | "
          f"{_fmt([s.all_panels for s in cold if s.all_panels])} |")
    print(f"\nwarm, without Python's bytecode cache (PYTHONDONTWRITEBYTECODE=1): first tokens "
          f"{_fmt([s.first_tokens for s in no_pyc])}, "
          f"all panels {_fmt([s.all_panels for s in no_pyc if s.all_panels])}")
    print(f"a bare Streamlit app (a text box and one span), the floor: health {_fmt([s.healthy for s in bare])}, "
          f"its span drawn {_fmt([s.first_tokens for s in bare])}")
    print(f"\nimports of the app's modules alone (fresh interpreter): {_fmt(imports)}")
    print(f"warm start target: median under {WARM_TARGET_S} s: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
