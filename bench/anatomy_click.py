"""A click on a GPT-4o token to its anatomy drawn, in a real browser against ``streamlit run``.

GPT-4o's rank file has no merge list; the anatomy panel needs one, and deriving it from 200k ranks costs seconds.
The page now derives it in a child process as soon as it has drawn a rank file's tokens
(:mod:`tokviz.pages.anatomy_warm`). Measured, medians of ``--repeats`` clicks on distinct tokens (each a new
anatomy, not a cached one):

- **after the warm-up**: the page opened, then ``--wait`` seconds (the derivation's time on this machine) before the
  clicks: what a user who reads the tokens first sees;
- **at once**: a fresh server, the first click as soon as the tokens are drawn (the warm-up may still run: the click
  then derives the list itself, as before);
- the derivation alone (``merges_from_ranks`` on o200k_base's ranks), for scale.

Usage::

    python bench/anatomy_click.py --repeats 5 --wait 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

NAME = "GPT-4o · o200k_base"
TEXT = "The anatomy of a token: a click opens its merge tree, how often it occurs, and BPE replayed step by step."


def clicks(n: int, *, wait_s: float) -> list[float]:
    from urllib.parse import quote

    from helpers import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_token_listeners
    from playwright.sync_api import sync_playwright

    out: list[float] = []
    with tempfile.TemporaryDirectory() as d, streamlit_server(env={"TOKVIZ_CACHE_DIR": d, "TOKVIZ_WARM_MERGES": "1"},
                                                              log=Path(d) / "streamlit.log") as srv, \
            sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(f"{srv.url}/?text={quote(TEXT)}&tok={quote(NAME)}")
        page.wait_for_selector(".tv-tokens .tok", timeout=180_000)
        wait_for_token_listeners(page)
        time.sleep(wait_s)
        toks = page.locator(f'.tv-tokens .tok[data-tokenizer="{NAME}"]')
        ids = toks.evaluate_all("els => els.map(e => e.dataset.tokenId)")
        seen: set[str] = set()
        for k, tid in enumerate(ids):
            if len(out) >= n:
                break
            if tid in seen:
                continue
            seen.add(tid)
            t0 = time.perf_counter()
            toks.nth(k).click()
            page.locator('[data-testid="stSidebar"]').get_by_text(f"Token {int(tid):,}", exact=False).first \
                .wait_for(timeout=120_000)
            page.locator('[data-testid="stSidebar"] .tv-merge-tree').wait_for(timeout=120_000)
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stSidebar\"] "
                                   "[data-testid=\"stSpinner\"]')", timeout=120_000)
            out.append(time.perf_counter() - t0)
        b.close()
    return out


def derivation() -> float:
    from tokviz.formats.pretrained import load_encoding
    from tokviz.formats.tiktoken_file import merges_from_ranks

    tok = load_encoding("o200k_base")
    specials = set(tok.special_ids.values())
    ranks = {t: r for r, t in tok.vocab.items() if r not in specials}
    t0 = time.perf_counter()
    merges_from_ranks(ranks)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--wait", type=float, default=20.0)
    args = ap.parse_args()
    warm = clicks(args.repeats, wait_s=args.wait)
    cold = clicks(1, wait_s=0.0)
    took = derivation()
    print(f"click to anatomy drawn, {NAME}, medians of {len(warm)} clicks (s)")
    print(f"  after the warm-up ({args.wait:g} s after the tokens)   {statistics.median(warm):7.3f}   target < 1 s")
    print(f"  first click at once, fresh server           {cold[0]:7.3f}")
    print(f"  merges_from_ranks(o200k_base) alone          {took:7.3f}")
    print("  every click:", ", ".join(f"{x:.3f}" for x in warm))


if __name__ == "__main__":
    main()
