"""Training from the app against the CLI: the same 5 MB file trained to a 10k vocabulary.

Three paths, each timed as wall time, median of ``--repeats`` (3 by default), sides alternating in order:

- **cli**: ``tokviz train FILE --vocab-size 10000 --special-token '<|endoftext|>' -o OUT -q`` as a subprocess
  (interpreter start, imports, reading, counting, merging, saving).
- **job**: what the Train view does once the upload has arrived: ``read_corpus`` on the file's bytes (read from
  disk here), then :class:`tokviz.training.live.TrainingJob` from start to the ``done`` snapshot (``wait`` returns as it
  arrives). The job holds out the last tenth (it trains on 90 % of the text, then encodes the held-out tenth for
  the compression figure), so its work differs a little from the CLI's.
- **browser** (``--browser``, default on where Chromium is): the real page under ``streamlit run``: upload the file
  with Playwright, press Train, until the "Trained" message is drawn. The upload through the browser and the page's
  own redraws (the live panel re-runs every 0.4 s) are included; the part from pressing Train is reported too.

Usage::

    python bench/app_vs_cli.py               # 5 MB, 3 repeats
    python bench/app_vs_cli.py --no-browser  # cli and job only
    python bench/app_vs_cli.py --size 1000000 --repeats 1

The medians and their ratios to the CLI are printed and written to ``bench/_out/app_vs_cli.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench.corpus import ensure_corpus  # noqa: E402
from tokviz.training.live import TrainingJob, TrainSpec  # noqa: E402
from tokviz.viewmodels.uploads import read_corpus  # noqa: E402

EOT = "<|endoftext|>"
OUT = ROOT / "bench" / "_out" / "app_vs_cli.json"


def time_cli(path: Path, vocab: int, out_dir: Path) -> float:
    """Wall seconds of the ``tokviz train`` command on ``path``."""
    exe = shutil.which("tokviz")
    cmd = [exe] if exe else [sys.executable, "-c", "import sys; from tokviz.cli.main import main; sys.exit(main())"]
    cmd += ["train", str(path), "--vocab-size", str(vocab), "--special-token", EOT, "-o", str(out_dir / "cli.json"),
            "-q"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def time_job(path: Path, vocab: int) -> float:
    """Wall seconds from the file's bytes to the done snapshot of a TrainingJob, as the Train view runs it."""
    t0 = time.perf_counter()
    got = read_corpus(path.read_bytes(), name=path.name, max_bytes=1 << 40)
    snap = TrainingJob.start(TrainSpec(texts=(got.text,), vocab_size=vocab, special_tokens=(EOT,))).wait()
    seconds = time.perf_counter() - t0
    if snap.status != "done":
        raise RuntimeError(f"job ended as {snap.status}: {snap.message}")
    return seconds


def time_browser(path: Path, vocab: int, repeats: int, log_dir: Path) -> tuple[list[float], list[float]]:
    """Per repeat, wall seconds from handing the file to the page's uploader to the drawn "Trained" message, and
    the part of it from pressing Train."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server
    from playwright.sync_api import expect, sync_playwright

    total: list[float] = []
    train: list[float] = []
    with sync_playwright() as p, streamlit_server(env={"TOKVIZ_CACHE_DIR": str(log_dir / "cache")},
                                                  log=log_dir / "streamlit.log") as srv:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(repeats):
            ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
            page = ctx.new_page()
            page.set_default_timeout(180_000)
            page.goto(f"{srv.url}/?view=train")
            box = page.locator('[data-testid="stNumberInput"] input')
            box.fill(str(vocab))
            box.press("Enter")
            expect(box).to_have_value(str(vocab))
            page.wait_for_timeout(500)
            t0 = time.perf_counter()
            page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(path))
            expect(page.get_by_text("1 file, ")).to_be_visible()
            t1 = time.perf_counter()
            page.get_by_role("button", name="Train").first.click()
            expect(page.locator('[data-testid="stAlertContentSuccess"]', has_text="Trained")).to_be_visible()
            t2 = time.perf_counter()
            total.append(t2 - t0)
            train.append(t2 - t1)
            ctx.close()
        browser.close()
    return total, train


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=5_000_000, help="corpus size in bytes (default: %(default)s)")
    ap.add_argument("--vocab-size", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--browser", action=argparse.BooleanOptionalAction, default=None,
                    help="also time the real page (default: when Chromium is installed)")
    args = ap.parse_args(argv)
    path = ensure_corpus(args.size)
    samples: dict[str, list[float]] = {"cli": [], "job": []}
    with tempfile.TemporaryDirectory(prefix="tokviz-bench-") as tmp:
        for i in range(args.repeats):
            order = ("cli", "job") if i % 2 == 0 else ("job", "cli")
            for side in order:
                s = time_cli(path, args.vocab_size, Path(tmp)) if side == "cli" else time_job(path, args.vocab_size)
                samples[side].append(s)
        use_browser = args.browser
        if use_browser is None:
            from browser_support import CHROMIUM

            use_browser = CHROMIUM.exists()
        if use_browser:
            samples["browser"], samples["browser (from Train)"] = time_browser(path, args.vocab_size, args.repeats,
                                                                              Path(tmp))
    medians = {k: statistics.median(v) for k, v in samples.items()}
    ratios = {k: medians[k] / medians["cli"] for k in medians}
    print(f"{path.name}: {path.stat().st_size:,} bytes, vocab {args.vocab_size:,}, median of {args.repeats}")
    for k, median in medians.items():
        runs = ", ".join(f"{s:.2f}" for s in samples[k])
        print(f"  {k:20s} {median:6.2f} s   {ratios[k]:.2f} x cli   ({runs})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"corpus": path.name, "bytes": path.stat().st_size, "vocab_size": args.vocab_size,
                               "samples": samples, "medians": medians, "ratio_to_cli": ratios}, indent=2))


if __name__ == "__main__":
    main()
