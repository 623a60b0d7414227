"""Helpers shared by several test files: the repository and its shared data, the real-browser tests (run
``streamlit run app.py`` on a free port and drive Debian's Chromium), and a small HTML tree to read our markup.

No browser is ever downloaded (``playwright install`` needs the network): the tests use ``/usr/bin/chromium`` (or
``$TOKVIZ_CHROMIUM``). Where it is missing they skip with the install hint, except under ``CI=true``, where a missing
browser fails the run so that CI cannot pass without having looked.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tokviz.core.lifeline import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("TOKVIZ_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = "Chromium not found: apt-get install -y chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: Playwright's assertions wait 5 s by default; a 2-core machine running a server, a browser and training can take
#: longer to draw, and a slow draw is not what these tests check (the timing tests measure time themselves).
EXPECT_TIMEOUT_MS = 20_000

try:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=EXPECT_TIMEOUT_MS)
except ImportError:  # the browser tests skip (or fail under CI) on their own when Playwright is missing
    pass


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository, or ``$TOKVIZ_SHARED_DATA``."""
    env = os.environ.get("TOKVIZ_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def wait_healthy(url: str, process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> None:
    """Poll ``/_stcore/health`` until it answers 200; raise with the reason if the server dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")


@contextmanager
def streamlit_server(*, env: Mapping[str, str], log: Path, app: Path = ROOT / "app.py") -> Iterator[Server]:
    """Start ``streamlit run`` in its own process group on a free port; stop the whole group afterwards.

    The server also dies with the test process: a pytest killed outright (by a ``timeout``, say) runs no teardown,
    and its servers went on loading the machine under the next runs."""
    port = free_port()
    me = os.getpid()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=lambda: die_with_parent(me))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield Server(url, proc, log)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process group this helper started (and only it), then kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# Rank files' merge lists are derived in a child process by the app once their tokens are drawn; in the tests (AppTest
# runs and the servers started here) that would spend a core on lists no test reads. bench/anatomy_click.py turns it on.
os.environ.setdefault("TOKVIZ_WARM_MERGES", "0")


# -- browser tests --------------------------------------------------------------------------------------------------
# Screenshots go to a temporary folder (the test run writes nothing into the checkout); TOKVIZ_SCREENSHOT_DIR=docs
# retakes README's.
SHOTS = Path(os.environ.get("TOKVIZ_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "tokviz-screenshots")
SHOTS.mkdir(parents=True, exist_ok=True)
#: Playwright's default wait (ms): a cold first run trains two tokenizers, and a loaded 2-core machine draws slowly.
TIMEOUT = 30_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


@contextmanager
def new_page(browser, *, width: int = 1500, height: int = 1000, timeout: int = TIMEOUT) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies, light colours) with a window of ``width`` x ``height``, and
    ``timeout`` (ms) as its default wait; the context is closed after the block."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme="light")
    page = ctx.new_page()
    page.set_default_timeout(timeout)
    try:
        yield page
    finally:
        ctx.close()


def token_ids(page, name: str, scope: str = ".tv-tokens") -> list[int]:
    """The ids of tokenizer ``name``'s token chips drawn inside ``scope``, in order."""
    return page.eval_on_selector_all(f'{scope} .tok[data-tokenizer="{name}"]',
                                     "els => els.map(e => Number(e.dataset.tokenId))")


def assert_no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def wait_for_token_listeners(page) -> None:
    """Wait until the page's token listeners are mounted (a click opens a token's anatomy or a strip band's page; a
    hover card near the window's edge opens inwards). Streamlit mounts their script-only component a moment after
    the tokens can be drawn, and a click or hover in between gets nothing of them (a busy machine widens that)."""
    page.wait_for_function("() => typeof window.__tokvizClick === 'function'", timeout=TIMEOUT)


def charts_drawn(n: int) -> str:
    """A function for ``page.wait_for_function``: true once the page shows ``n`` plotly charts, each with a trace
    drawn."""
    return (f"() => document.querySelectorAll('.js-plotly-plot').length === {n} && "
            "[...document.querySelectorAll('.js-plotly-plot')].every(g => g.querySelector('.cartesianlayer .trace'))")


# Every text a plotly chart draws (titles, tick labels, axis titles, point labels, annotations, legend entries and
# their symbols), with its kind, its box and the legend entry it belongs to (-1 outside the legend), in page pixels,
# for each chart.
_CHART_TEXTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => {
  const svg = g.querySelector('svg.main-svg').getBoundingClientRect();
  const entries = [...g.querySelectorAll('.legend .traces')];
  const kinds = [['.gtitle, .gtitle-subtitle', 'title'],
                 ['.xtick text, .ytick text', 'tick'], ['.g-xtitle text, .g-ytitle text', 'axis title'],
                 ['.textpoint text', 'point label'], ['.annotation-text', 'annotation'],
                 ['.legendtext, .legendtitletext', 'legend'],
                 ['.legend .legendsymbols', 'legend symbol']];
  const boxes = kinds.flatMap(([sel, kind]) => [...g.querySelectorAll(sel)]
    .filter(t => kind === 'legend symbol' || t.textContent.trim())
    .map(t => { const r = t.getBoundingClientRect();
                return {kind, text: t.textContent || 'symbol', entry: entries.findIndex(e => e.contains(t)),
                        x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; }));
  return {right: svg.right, bottom: svg.bottom, boxes};
})"""


def _overlap(a: dict, b: dict) -> bool:
    return min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > 1 and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > 1


def chart_text_clashes(page) -> list[str]:
    """What a user would see as a drawing fault in the page's plotly charts: two texts drawn over each other (a
    legend entry into its neighbour's symbol, an axis title into the slanted tick labels, two point labels, a line's
    note into a point label), or a text cut at the chart's right or bottom edge. Empty when every chart reads
    cleanly. Tick labels are not checked against each other: slanted labels' boxes overlap while the labels do not,
    and plotly spaces them itself."""
    found: list[str] = []
    for chart in page.evaluate(_CHART_TEXTS):
        boxes = chart["boxes"]
        for t in boxes:
            if t["x1"] > chart["right"] + 1 or t["y1"] > chart["bottom"] + 1:
                found.append(f"{t['kind']} {t['text']!r} runs past the chart's edge")
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if (a["kind"] == b["kind"] == "tick") or (a["entry"] >= 0 and a["entry"] == b["entry"]):
                    continue
                if _overlap(a, b):
                    found.append(f"{a['kind']} {a['text']!r} is drawn over {b['kind']} {b['text']!r}")
    return found


def clipped_labels(page) -> list[str]:
    """Texts in the page's main area that the browser cuts short with "…" (a toggle's label squeezed by its column,
    a segmented control wider than its place): what a user reads as a truncated word."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] *')]
      .filter(e => (getComputedStyle(e).textOverflow === 'ellipsis' || e.dataset.testid === 'stButtonGroup')
                   && e.scrollWidth > e.clientWidth + 1 && e.offsetParent !== null && e.textContent.trim())
      .map(e => e.textContent)""")


_LAPTOP_FAULTS = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const shown = e => e.offsetParent !== null && e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && !(e.closest('details:not([open])') && !e.closest('summary'));
  const own = '.stDataFrame, [data-testid="stDataFrame"], .tv-tokens, pre, code, textarea, .js-plotly-plot';
  const texts = ['[data-testid="stWidgetLabel"]', 'label', 'button', '[role="tab"]', '[role="option"]',
                 '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', '[data-baseweb="tag"]',
                 '[data-testid="stMarkdownContainer"] p', '[data-testid="stCaptionContainer"]', 'summary',
                 '[role="radiogroup"]', '[role="group"]', '[role="tablist"]'];
  const name = e => (e.textContent || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 40);
  const out = [], seen = new Set();
  for (const e of main.querySelectorAll(texts.join(','))) {
    if (!shown(e) || !e.textContent.trim()) continue;
    for (const d of [e, ...e.querySelectorAll('*')]) {
      if (d.offsetParent === null || !d.textContent.trim() || d.closest(own)) continue;
      const cs = getComputedStyle(d);
      const hides = cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis';
      if (d.scrollWidth > d.clientWidth + 1 && hides) {
        const msg = `clipped: ${name(d)} (${d.scrollWidth} px in ${d.clientWidth})`;
        if (!seen.has(msg)) { seen.add(msg); out.push(msg); }
        break;
      }
    }
  }
  // a control drawn past the edge of a box that hides what overflows (a column, a bordered container)
  for (const e of main.querySelectorAll('button, [data-baseweb="tag"], [role="tab"], [data-testid="stWidgetLabel"]')) {
    if (!shown(e) || e.closest(own)) continue;
    const r = e.getBoundingClientRect();
    for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const box = a.getBoundingClientRect();
      if (r.right > box.right + 1 || r.left < box.left - 1) out.push(`cut by its box: ${name(e)}`);
      break;
    }
  }
  const controls = [...main.querySelectorAll(
      'button, [data-baseweb="tag"], [data-testid="stWidgetLabel"], [role="tab"], input')]
    .filter(shown).map(e => [e, e.getBoundingClientRect()]).filter(([, r]) => r.width > 0 && r.height > 0);
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const [a, ra] = controls[i], [b, rb] = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      const ox = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const oy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (ox > 2 && oy > 2) out.push(`overlap: ${name(a)} / ${name(b)}`);
    }
  }
  return out;
}"""


def laptop_faults(page) -> list[str]:
    """What reads as broken in a laptop window, over every label, option, button, tab, tag, metric, caption and
    paragraph shown in the page's main area (closed expanders and hidden tabs left out; tables, token areas, code
    and charts have their own checks): a text cut short (wider than its box where the box hides what overflows, or
    ends in "…"), and two controls drawn over each other (a chip under a clear button). Empty when none."""
    return page.evaluate(_LAPTOP_FAULTS)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _full_page_screenshot(page, path: Path) -> None:
    # A laptop window's width (1280, as the README says); Streamlit scrolls inside its main container, so the
    # viewport then grows to the content's height at that width before the screenshot.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_timeout(500)
    height = page.evaluate(
        "() => Math.max(...['[data-testid=\"stMain\"]', '[data-testid=\"stAppViewContainer\"]', 'body']"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": min(max(int(height), 800), 4000)})  # a laptop window
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)



# -- reading our markup ----------------------------------------------------------------------------------------------
@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, cls: str) -> list[Node]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if cls in c.classes:
                    out.append(c)
                out.extend(c.find_all(cls))
        return out

    def first(self, cls: str) -> Node:
        found = self.find_all(cls)
        assert found, f"no .{cls}"
        return found[0]


class TreeBuilder(HTMLParser):
    """Builds a tree and fails on unbalanced tags, so broken markup cannot pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.cur = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.cur)
        self.cur.children.append(node)
        self.cur = node

    def handle_endtag(self, tag: str) -> None:
        assert self.cur.tag == tag, f"</{tag}> closes <{self.cur.tag}>"
        assert self.cur.parent is not None
        self.cur = self.cur.parent

    def handle_data(self, data: str) -> None:
        self.cur.children.append(data)


def parse(markup: str) -> Node:
    b = TreeBuilder()
    b.feed(markup)
    b.close()
    assert b.cur is b.root, "unclosed tags"
    return b.root


def token_text(node: Node) -> str:
    return node.first("tv-text").text()




# -- Hugging Face tokenizer.json files trained by `tokenizers` itself -----------------------------------------------
HF_TRAIN_TEXT = (
    "Once upon a time, a little girl named Lily found a shiny red ball in the park. She was very happy! "
    "\"Can I play with it?\" asked her friend Tom. It's 1999 or 2024, isn't it? We'll see: 3.14159, 42.\n\n"
) * 8 + "你好世界，我们在学习。日本語もあります。Ünïcödé ÉCOLE ﬁne ﬂow\n" * 4 + "emoji 🌍🚀👍🏽 again\n" * 4 + \
    "tabs\tand   spaces\r\n" * 4


def train_hf_json(path: Path, *, normalizer=None, pre_tokenizer=None, added=(), specials=("<|endoftext|>",),
                  vocab_size: int = 400, ignore_merges: bool = False, texts=(HF_TRAIN_TEXT,)) -> Path:
    """Train a byte-level BPE with `tokenizers` (its ByteLevel alphabet, so every byte is a token), with the given
    normalizer and pre-tokenizer set on the ``tokenizers.Tokenizer`` (ByteLevel alone by default) and ``added``
    (``tokenizers.AddedToken`` or str) added after training; write its ``to_str()`` to ``path`` and return it."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    tok = HFTokenizer(models.BPE(ignore_merges=ignore_merges))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer if pre_tokenizer is not None else pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=list(specials), show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    if added:
        tok.add_tokens(list(added))
    path.write_text(tok.to_str(), encoding="utf-8")
    return path


def read_reference_merges(path: Path) -> list[tuple[bytes, bytes]]:
    """The CS336 reference merges file (GPT-2 byte characters, one ``left right`` pair a line) as byte pairs."""
    from tokviz.pre_tokenizers.byte_level import decode_token

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        left, right = line.split(" ")
        out.append((decode_token(left), decode_token(right)))
    return out


# -- reading Streamlit's Markdown -------------------------------------------------------------------------------------
def plain(md: str) -> str:
    """What a Markdown message says, for comparing it with words: backslash escapes and code-span fences removed.

    Messages quote user text escaped (tokviz.viewmodels.markdown), so ``a\\.txt`` and ```a.txt``` both read a.txt.
    """
    md = re.sub(r"(`+) ?(.*?) ?\1", r"\2", md)
    return re.sub(r"\\(.)", r"\1", md).replace("  \n", "\n")


def train_family_json(path: Path, family: str, *, texts=(HF_TRAIN_TEXT,), vocab_size: int = 300) -> Path:
    """Train a small tokenizer of another family with `tokenizers` and write its ``tokenizer.json`` to ``path``:
    ``"wordpiece"`` (BERT uncased: BertNormalizer, BertPreTokenizer, ``##``, ``[UNK]``), ``"unigram"`` (Metaspace,
    ``<unk>``, no byte fallback) or ``"bpe-sp"`` (Metaspace, byte fallback with the 256 ``<0xNN>`` pieces, as
    Llama 2's files have them)."""
    import json

    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    if family == "wordpiece":
        tok = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[UNK]", "[CLS]", "[SEP]"],
                                            show_progress=False)
    elif family == "unigram":
        tok = HFTokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                          unk_token="<unk>", show_progress=False)
    elif family == "bpe-sp":
        tok = HFTokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                      show_progress=False)
    else:
        raise ValueError(f"family must be wordpiece, unigram or bpe-sp, got {family!r}")
    tok.train_from_iterator(list(texts), trainer=trainer)
    data = json.loads(tok.to_str())
    if family == "bpe-sp":
        vocab = data["model"]["vocab"]
        for b in range(256):
            vocab.setdefault(f"<0x{b:02X}>", len(vocab))
        data["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, data["decoder"]]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def random_words(n_lines: int, *, seed: int = 0) -> str:
    """Lines of made-up words: so many distinct pre-tokens that merging to tens of thousands of tokens takes seconds,
    where a repetitive text runs out of pairs in a blink (a test that must catch a run while it merges, to cancel or
    kill it, trains on this)."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(12)) + "\n"
                   for _ in range(n_lines))


class _Drawn:
    """An element's markup with the ``proto.body`` that ``st.html`` elements have, for tests that read either."""

    def __init__(self, body: str) -> None:
        self.proto = type("Proto", (), {"body": body})()


def drawn_markup(app: Any) -> list[_Drawn]:
    """Every piece of markup an AppTest run drew, in page order: ``st.html`` bodies and the token panels drawn by
    :func:`tokviz.pages.widgets.draw_markup` (a component, whose markup travels as its data). Each item has
    ``.proto.body``.
    """
    import json

    out: list[_Drawn] = []

    def walk(node: Any) -> None:
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
            return
        kind = getattr(node, "type", "")
        if kind == "html":
            out.append(_Drawn(node.proto.body))
        elif kind == "bidi_component" and node.proto.component_name.endswith("tokviz_markup"):
            out.append(_Drawn(json.loads(node.proto.json).get("html", "")))

    walk(app._tree)
    return out


def distributed_or_skip() -> Any:
    """``dask.distributed``, or a skip naming the extra to install (a failure under ``CI=true``, where the scale
    tests must run)."""
    try:
        import distributed
    except ImportError:
        msg = "dask[distributed] is not installed: pip install 'tokviz[scale]'"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return distributed
