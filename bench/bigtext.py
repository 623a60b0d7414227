"""Big texts on the Tokenize page: a one-character edit of a 100 KB text, and a 1 MB paste to first tokens.

Four tokenizers, the page's default choice: our BPE (``bpe-gpt2-8k``, trained on ``pydoc_data.topics``), GPT-2,
GPT-4 and GPT-4o (the built-in rank files). The text is the benchmark corpus (``bench/corpus.py``: the standard
library's docstrings), cut to 100,000 and 1,000,000 characters.

Measured, as wall time, medians of ``--repeats`` runs:

- **view-model path** (``tokviz.viewmodels.paging``, what the page calls, no Streamlit), in the page's order: find
  the cut places, cut the pages, draw page 1 of each panel (its segments with offsets, its token HTML, both kept in
  one :class:`tokviz.pipelines.incremental.SegmentCache`) -- the *first tokens* -- then count every segment of every
  tokenizer for the headers and build the bytes-per-token strip -- *all*.

  - *edit*: the 100 KB text is drawn once, then one character is inserted at a random place (a new place each
    repeat, seeded) and the whole path runs again with the warm cache: what a keystroke costs.
  - *paste*: the 1 MB text with an empty cache: what a paste costs until the first page can be drawn.
  - *old*: what the page did before, for the same edit: every tokenizer encodes the whole text for the counts and
    the first page with offsets (the page's caches were keyed by the whole text, so an edit missed them).
  - *tiktoken*: tiktoken encoding the whole edited text with the three OpenAI encodings (built offline from the
    same rank files), the least any page that re-encodes everything would pay.

- **browser** (``--browser``, on by default where Chromium and Playwright are): the real page under
  ``streamlit run``, Chromium headless: paste the 1 MB text (the text area's value set at once, then Ctrl+Enter) until
  all four panels show its character count; paste 100 KB, then insert one character (again the whole value set, as a
  keystroke leaves it) until all four panels show the new count, once at a random place and once on the page in view
  (whose tokens are then drawn again); and the same for a 200-character text, Streamlit's own round trip; and one
  key typed at the start of a 10 KB and a 100 KB text with no Ctrl+Enter (the page commits the first key after a
  pause at once), until all four panels count it: keystroke to tokens; and five keys typed 60 ms apart, from the last
  key (the page commits a burst 150 ms after its last key). The
  server's caches are warm from the first load; each run's time inside the server is logged, to tell it from the
  browser's.

Usage::

    python bench/bigtext.py                 # both, 5 repeats
    python bench/bigtext.py --no-browser --repeats 9
    python bench/bigtext.py --browser-only --typed-only     # keystroke to tokens alone

Medians, ratios and every sample are printed and written to ``bench/_out/bigtext.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests", ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from corpus import ensure_corpus  # noqa: E402

from tokviz.core.protocol import TokenizerLike, encode_as_shown  # noqa: E402
from tokviz.pipelines.incremental import SegmentCache, find_anchors  # noqa: E402
from tokviz.viewmodels.paging import (  # noqa: E402
    draw_page,
    encode_panel,
    page_bounds,
    plan_panel,
    strip_points,
)
from tokviz.viewmodels.render import render_header, render_tokens  # noqa: E402
from tokviz.viewmodels.strip import strip_html  # noqa: E402
from tokviz.viewmodels.summary import count_tokens  # noqa: E402

NAMES = ("bpe-gpt2-8k", "GPT-2 · r50k_base", "GPT-4 · cl100k_base", "GPT-4o · o200k_base")
#: What the page draws per panel with four panels (tokviz.pages.tokenize: max(2,000, 8,000 // 4)).
PAGE_CHARS = 2000
OPENAI = {"GPT-2 · r50k_base": "r50k_base", "GPT-4 · cl100k_base": "cl100k_base", "GPT-4o · o200k_base": "o200k_base"}


def corpus_text(n_chars: int) -> str:
    text = ensure_corpus(2_000_000).read_text(encoding="utf-8")
    return (text * (n_chars // len(text) + 1))[:n_chars]


def tokenizers() -> dict[str, TokenizerLike]:
    from tokviz.viewmodels.defaults import build_defaults

    menu = build_defaults().tokenizers
    return {n: menu[n] for n in NAMES}


def redraw(text: str, toks: Mapping[str, TokenizerLike], cache: SegmentCache) -> tuple[float, float]:
    """The page's work for one run, in the page's order; returns the seconds to the first page's tokens (places,
    pages, each panel's page drawn) and to the end (every segment counted, headers, the strip)."""
    t0 = time.perf_counter()
    anchors = find_anchors(text)
    pages = page_bounds(text, page_chars=PAGE_CHARS, anchors=anchors)
    panels = {n: plan_panel(t, text, key=n, cache=cache, anchors=anchors) for n, t in toks.items()}
    for name, panel in panels.items():
        page = draw_page(panel, pages[0])
        # As the page does: the markup is kept with the page it was drawn from.
        cache.memo(("html", name, page.source[0]), page.source[1],
                   partial(render_tokens, page.encoding, page.text, tokenizer=name))
    first = time.perf_counter() - t0
    for name, panel in panels.items():
        render_header(name, count_tokens(text, range(panel.n_tokens)))
    points = strip_points(panels)
    strip_html(points, pages=pages, current=0)
    return first, time.perf_counter() - t0


def old_redraw(text: str, toks: Mapping[str, TokenizerLike]) -> int:
    """What the page did before segments: the whole text encoded for the counts, the first part with offsets."""
    from tokviz.viewmodels.render import preview_length

    cut = preview_length(text, limit=PAGE_CHARS)
    size = 0
    for name, tok in toks.items():
        n = len(encode_as_shown(tok, text))
        enc = tok.encode_with_offsets(text[:cut])
        size += len(render_header(name, count_tokens(text, range(n))) + render_tokens(enc, text[:cut], tokenizer=name))
    return size


def timed(fn: Callable[..., object], *args: object) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def fresh(text: str, rng: random.Random) -> str:
    """``text`` with one letter in every 300 characters changed: a text no segment cache has seen (each segment
    differs), of the same kind as the corpus (the encoders' per-piece caches stay as warm as a server's)."""
    chars = list(text)
    for i in range(rng.randrange(300), len(chars), 300):
        if chars[i].isalpha():
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


def insert_at(text: str, rng: random.Random) -> str:
    pos = rng.randrange(len(text))
    return text[:pos] + rng.choice("aeZ.,") + text[pos:]


def view_model(repeats: int, toks: Mapping[str, TokenizerLike]) -> dict[str, list[float]]:
    import tiktoken
    import tiktoken.load

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "pretrained"
    refs = {}
    for name, file in OPENAI.items():
        tok = toks[name]
        pat = tok.pretokenizer.source  # type: ignore[attr-defined]
        ranks = tiktoken.load.load_tiktoken_bpe(str(shared / f"{file}.tiktoken"))
        refs[name] = tiktoken.Encoding(name=f"{file}-local", pat_str=pat, mergeable_ranks=ranks,
                                       special_tokens=tok.special_ids)  # type: ignore[attr-defined]
    rng = random.Random(13)
    small, big = corpus_text(100_000), corpus_text(1_000_000)
    samples: dict[str, list[float]] = {"edit": [], "old": [], "tiktoken": [], "paste_first": [], "paste_all": []}
    # Warm the per-piece caches of the encoders as the app's long-running server has them.
    redraw(small, toks, SegmentCache())
    for _ in range(repeats):
        cache = SegmentCache()
        redraw(small, toks, cache)
        edited = insert_at(small, rng)
        samples["edit"].append(redraw(edited, toks, cache)[1])
        samples["old"].append(timed(old_redraw, edited, toks))
        samples["tiktoken"].append(timed(lambda t: [r.encode(t, allowed_special="all") for r in refs.values()], edited))
        first, whole = redraw(fresh(big, rng), toks, SegmentCache())
        samples["paste_first"].append(first)
        samples["paste_all"].append(whole)
        # Exact, not only quick: the segments' ids equal a fresh encode of the edited text.
        for name, tok in toks.items():
            assert encode_panel(tok, edited, key=name, cache=cache).segments.ids == encode_as_shown(tok, edited)
            if name in refs:
                assert encode_as_shown(tok, edited) == refs[name].encode(edited, allowed_special="all")
    return samples


#: The entry script the browser run starts: the app itself, with each run's server-side time written to a log, so
#: the browser's own share (layout and paint) can be told apart.
TIMED_ENTRY = """
import json, os, time
import tokviz.pages.tokenize as page
from tokviz.pages import app as frame

LOG = os.environ["TOKVIZ_BENCH_LOG"]


def _log(kind, t0):
    with open(LOG, "a") as f:
        f.write(json.dumps({kind: time.perf_counter() - t0, "at": time.time()}) + "\\n")


if not getattr(page, "_bench_timed", False):
    _view, _draw = page.view, page.draw_page

    def view(*args, **kwargs):
        t0 = time.perf_counter()
        _log("before_view", page._bench_run_t0)
        try:
            return _view(*args, **kwargs)
        finally:
            _log("view", t0)

    def draw_page(*args, **kwargs):  # the last panel's page drawn: the first tokens are on their way
        try:
            return _draw(*args, **kwargs)
        finally:
            _log("to_page_drawn", page._bench_run_t0)

    page.view, page.draw_page, page._bench_timed = view, draw_page, True
t0 = page._bench_run_t0 = time.perf_counter()
try:
    frame.main()
finally:
    _log("run", t0)
"""


def browser(repeats: int, *, typed_only: bool = False) -> dict[str, list[float]]:
    from helpers import CHROMIUM, CHROMIUM_ARGS, streamlit_server
    from playwright.sync_api import expect, sync_playwright

    small, big = corpus_text(100_000), corpus_text(1_000_000)
    rng = random.Random(7)
    samples = {k: [] for k in (
        "browser_paste_1mb", "browser_edit_100kb", "server_paste_1mb", "server_edit_100kb", "view_paste_1mb",
        "view_edit_100kb", "browser_paste_1mb_first", "browser_edit_100kb_page1", "server_edit_100kb_page1",
        "view_edit_100kb_page1", "browser_edit_short", "server_edit_short", "view_edit_short",
        "browser_typed_10kb", "browser_typed_100kb")}
    set_value = ("(el, v) => { Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')"
                 ".set.call(el, v); el.dispatchEvent(new Event('input', {bubbles: true})); }")
    with tempfile.TemporaryDirectory() as d:
        entry, log = Path(d) / "app_timed.py", Path(d) / "runs.jsonl"
        entry.write_text(TIMED_ENTRY, encoding="utf-8")
        log.touch()
        with streamlit_server(env={"TOKVIZ_CACHE_DIR": d, "TOKVIZ_BENCH_LOG": str(log)},
                              log=Path(d) / "streamlit.log", app=entry) as srv, sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(srv.url)
            page.wait_for_selector("[data-token-id]", timeout=120_000)
            area = page.locator('[data-testid="stTextArea"] textarea')

            def commit(text: str, name: str | None = None) -> None:
                area.evaluate(set_value, text)
                before = len(log.read_text().splitlines())
                t0 = time.perf_counter()
                area.press("Control+Enter")
                if name == "paste_1mb":  # the first page's tokens: far more than the short text before had
                    page.wait_for_function("() => document.querySelectorAll('.tv-tokens .tok').length > 1000",
                                           timeout=120_000)
                    samples["browser_paste_1mb_first"].append(time.perf_counter() - t0)
                stats = page.locator(".tv-stats")
                for i in range(len(NAMES)):
                    expect(stats.nth(i)).to_contain_text(f"{len(text):,} chars", timeout=120_000)
                took = time.perf_counter() - t0
                if name is None:
                    return
                time.sleep(0.5)  # let the run's log line land
                runs = [json.loads(x) for x in log.read_text().splitlines()[before:]]
                samples[f"browser_{name}"].append(took)
                samples[f"server_{name}"].append(sum(r.get("run", 0.0) for r in runs))
                samples[f"view_{name}"].append(sum(r.get("view", 0.0) for r in runs))
                samples.setdefault(f"before_view_{name}", []).append(
                    sum(r.get("before_view", 0.0) for r in runs))
                drawn = [r["to_page_drawn"] for r in runs if "to_page_drawn" in r]
                samples.setdefault(f"page_drawn_{name}", []).append(max(drawn) if drawn else 0.0)

            def counted(n_chars: int) -> None:
                # Every header counts the new text and every panel's first token starts with the "Z" typed at the
                # start (a panel's markup is set by its component a moment after the headers' update). Checked on
                # every animation frame: expect()'s retries back off to a second apart, which the first version of
                # the typed rows measured instead of the page.
                page.wait_for_function(
                    "([n, want]) => { const s = [...document.querySelectorAll('.tv-stats')];"
                    " const p = [...document.querySelectorAll('.tv-tokens')];"
                    " return s.length >= n && s.every(e => e.textContent.includes(want)) && p.length >= n"
                    " && p.every(e => (e.querySelector('.tok .tv-text') || {textContent: ''}).textContent"
                    ".startsWith('Z')); }",
                    arg=[len(NAMES), f"{n_chars:,} chars"], polling="raf", timeout=120_000)

            def typed(text: str, name: str) -> None:
                # One key typed at the start of the text (the page in view changes), no Ctrl+Enter: the page
                # commits a key after a pause at once; timed until all four panels count the new character.
                commit(text)
                area.focus()
                area.evaluate("el => el.setSelectionRange(0, 0)")
                time.sleep(0.3)
                before = len(log.read_text().splitlines())
                t0 = time.perf_counter()
                page.keyboard.type("Z")
                counted(len(text) + 1)
                samples[f"browser_typed_{name}"].append(time.perf_counter() - t0)
                time.sleep(0.5)  # let the run's log line land
                runs = [json.loads(x) for x in log.read_text().splitlines()[before:]]
                for kind in ("run", "view", "before_view"):
                    samples.setdefault(f"{kind}_typed_{name}", []).append(sum(r.get(kind, 0.0) for r in runs))
                samples.setdefault(f"runs_typed_{name}", []).append(sum("run" in r for r in runs))

            def burst(text: str, name: str) -> None:
                # Five keys 60 ms apart (fast typing) at the start of the text: timed from the last key until all
                # four panels count all five, which waits for the pause after a burst.
                commit(text)
                area.focus()
                area.evaluate("el => el.setSelectionRange(0, 0)")
                time.sleep(0.6)
                page.keyboard.type("Zebr", delay=60)
                page.wait_for_timeout(60)
                t0 = time.perf_counter()
                page.keyboard.type("a")
                counted(len(text) + 5)
                samples.setdefault(f"browser_burst_{name}", []).append(time.perf_counter() - t0)

            for _ in range(repeats):
                typed(fresh(small[:10_000], rng), "10kb")
                typed(fresh(small, rng), "100kb")
                burst(fresh(small[:10_000], rng), "10kb")
                burst(fresh(small, rng), "100kb")
                if typed_only:
                    continue
                commit("warm up " * 10)
                commit(fresh(big, rng), "paste_1mb")
                commit(small)
                commit(insert_at(small, rng), "edit_100kb")
                commit(small)  # back to the 100 KB text, so the edit's new length is what shows it is drawn
                at = rng.randrange(PAGE_CHARS // 2)  # on the page in view: its tokens are drawn again
                commit(small[:at] + "Z" + small[at:], "edit_100kb_page1")
                short = small[:200]
                commit(short)
                commit(insert_at(short, rng), "edit_short")  # Streamlit's own round trip, for reference
            b.close()
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--browser-only", action="store_true")
    ap.add_argument("--typed-only", action="store_true", help="in the browser, only the typed keys")
    args = ap.parse_args()
    samples = {} if args.browser_only else view_model(args.repeats, tokenizers())
    if not args.no_browser:
        samples |= browser(args.repeats, typed_only=args.typed_only)
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    print(f"four tokenizers: {', '.join(NAMES)}; {args.repeats} repeats; medians (s)")
    rows = [
        ("100 KB, one-character edit, view-model path", "edit", "target < 0.5 s"),
        ("  the same edit, the page's old path (whole text again)", "old", ""),
        ("  tiktoken, the three OpenAI encodings, whole edited text", "tiktoken", ""),
        ("1 MB paste to first tokens, view-model path", "paste_first", "target < 2 s"),
        ("1 MB paste to all counts and the strip, view-model path", "paste_all", ""),
        ("1 MB paste to first tokens, browser", "browser_paste_1mb_first", "target < 2 s"),
        ("1 MB paste to all counts, browser", "browser_paste_1mb", ""),
        ("  of which the server's script run (the page's view alone)", "server_paste_1mb", ""),
        ("  the server's run until the page's view starts", "before_view_paste_1mb", ""),
        ("  the server's run until the four pages are drawn", "page_drawn_paste_1mb", ""),
        ("100 KB, one-character edit, browser", "browser_edit_100kb", "target < 0.5 s"),
        ("  of which the server's script run (the page's view alone)", "server_edit_100kb", ""),
        ("100 KB, one-character edit on the page in view, browser", "browser_edit_100kb_page1", ""),
        ("  of which the server's script run (the page's view alone)", "server_edit_100kb_page1", ""),
        ("200 characters, one-character edit, browser (the floor)", "browser_edit_short", ""),
        ("10 KB, one key typed (no Ctrl+Enter) to tokens, browser", "browser_typed_10kb", "target < 0.3 s"),
        ("  of which the server's script run (the page's view alone)", "run_typed_10kb", ""),
        ("  the server's run until the page's view starts", "before_view_typed_10kb", ""),
        ("100 KB, one key typed (no Ctrl+Enter) to tokens, browser", "browser_typed_100kb",
         "target < 0.6 s"),
        ("  of which the server's script run (the page's view alone)", "run_typed_100kb", ""),
        ("  the server's run until the page's view starts", "before_view_typed_100kb", ""),
        ("10 KB, five keys 60 ms apart, last key to tokens (waits the 150 ms pause)", "browser_burst_10kb", ""),
        ("100 KB, five keys 60 ms apart, last key to tokens (waits the 150 ms pause)", "browser_burst_100kb", ""),
        ("  of which the server's script run (the page's view alone)", "server_edit_short", ""),
    ]
    for label, key, target in rows:
        if key in med:
            view = (med.get(key.replace("server", "view"), 0.0) if key.startswith("server")
                    else med.get(key.replace("run", "view"), 0.0) if key.startswith("run") else None)
            extra = f"  ({view:.3f})" if view is not None else ""
            print(f"{label:62s} {med[key]:7.3f}{extra}  {target}")
    if "edit" in med:
        print(f"edit: old path / new path = {med['old'] / med['edit']:.1f}x; "
              f"new path / tiktoken re-encoding everything = {med['edit'] / med['tiktoken']:.2f}")
    out = ROOT / "bench" / "_out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bigtext.json").write_text(json.dumps({"medians": med, "samples": samples}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
