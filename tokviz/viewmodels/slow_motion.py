"""Slow motion: a finished run's merges played back one by one at a chosen pace, for watching BPE learn.

Training is over in a second or two, far too fast to see; a run keeps every merge in order, so the Train page plays
them back: at each frame ``shown`` merges have been applied, and everything drawn (the progress line, the chart of
pair counts, the merge table, the sample text) is made from that one number, so no two parts can disagree.

:class:`PlayState` is the player (position, playing or paused, pace) and moves only through the pure functions here
(:func:`advance` on each tick of the page's timer, :func:`step`, :func:`toggle`...); :func:`frame` is what one
position looks like.

Example:
    >>> s = start(pace=2, now=0.0)
    >>> s = advance(s, now=1.2, n=10); s.shown, s.playing
    (2, True)
    >>> advance(s, now=60.0, n=10).shown, advance(s, now=60.0, n=10).playing  # the end stops the player
    (10, False)
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tokviz.analysis.replay import StepEffect, step_effect
from tokviz.models.bpe import Tokenizer
from tokviz.training.merge_loop import Merge
from tokviz.viewmodels.display import token_label
from tokviz.viewmodels.replay_display import render_step_effect
from tokviz.viewmodels.training_summary import merge_rows

#: Merges per second offered: from one every two seconds (each merge read as it happens) to a fast forward.
PACES: tuple[float, ...] = (0.5, 1, 2, 5, 10, 50, 200)
DEFAULT_PACE: float = 2
#: Seconds between two frames while playing: a pace below 4 merges a second shows each merge on its own frame.
TICK_SECONDS = 0.25
#: A text where early merges show: "t" + "h" becoming "th", " " + "t" becoming " t", "e" + "r"...
WATCH_TEXT = "the other three think that these theories are the truth"


@dataclass(frozen=True)
class PlayState:
    """Where the player is: ``shown`` merges applied (0 to the run's count), playing or paused, ``pace`` merges a
    second, and ``since``, the clock time the position was last moved to (what a fraction of a merge carries over);
    None until the first frame is drawn, so a page slow to draw its first frame skips no merge."""

    shown: int
    playing: bool
    pace: float
    since: float | None


def _check_pace(pace: float) -> float:
    if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not 0 < pace <= 10_000 or math.isnan(pace):
        raise ValueError(f"pace must be a number of merges per second in (0, 10000], e.g. {DEFAULT_PACE:g}; got "
                         f"{pace!r}.")
    return float(pace)


def start(*, pace: float = DEFAULT_PACE, now: float | None = None) -> PlayState:
    """A player at the start (no merge applied yet), playing; its clock starts at ``now``, or with ``now=None`` at
    the first :func:`advance` (the first frame drawn).

    >>> s = start(pace=1)
    >>> s = advance(s, now=50.0, n=9); s.shown, s.since  # the first frame: the clock starts here
    (0, 50.0)
    >>> advance(s, now=52.0, n=9).shown
    2
    """
    return PlayState(0, True, _check_pace(pace), now)


def advance(state: PlayState, *, now: float, n: int) -> PlayState:
    """Move a playing player by the merges due since it last moved (``pace`` a second); it stops at ``n``.

    >>> advance(PlayState(3, True, 1.0, 10.0), now=10.9, n=9).shown  # not yet a whole merge
    3
    """
    if not state.playing:
        return state
    if state.since is None:
        return replace(state, since=now)
    due = int((now - state.since) * state.pace + 1e-9)
    if due <= 0:
        return state
    shown = min(n, state.shown + due)
    return replace(state, shown=shown, playing=shown < n, since=state.since + due / state.pace)


def step(state: PlayState, *, by: int, n: int, now: float) -> PlayState:
    """One merge forward (``by=1``) or back (``by=-1``), paused: for looking at each merge as long as one likes.

    >>> step(PlayState(3, True, 1.0, 0.0), by=-1, n=9, now=5.0)
    PlayState(shown=2, playing=False, pace=1.0, since=5.0)
    """
    return replace(state, shown=min(n, max(0, state.shown + by)), playing=False, since=now)


def toggle(state: PlayState, *, n: int, now: float) -> PlayState:
    """Play or pause; playing at the end starts over.

    >>> toggle(PlayState(9, False, 1.0, 0.0), n=9, now=4.0)
    PlayState(shown=0, playing=True, pace=1.0, since=4.0)
    """
    if state.playing:
        return replace(state, playing=False, since=now)
    return replace(state, shown=0 if state.shown >= n else state.shown, playing=True, since=now)


def with_pace(state: PlayState, pace: float, *, now: float) -> PlayState:
    """Another pace from now on (the time already waited is not counted at the new pace)."""
    return replace(state, pace=_check_pace(pace), since=now)


@dataclass(frozen=True)
class Frame:
    """What the page draws at one position: every field comes from ``shown``.

    ``merge`` is the newest merge applied (None before the first), ``counts`` the pair count of each merge applied
    so far (the chart), ``rows`` the merge table (newest first), ``effect`` the sample before and after the newest
    merge (at ``shown`` 0 both are the sample as bytes).
    """

    shown: int
    total: int
    merge: Merge | None
    counts: tuple[int, ...]
    rows: list[dict[str, object]]
    effect: StepEffect

    @property
    def fraction(self) -> float:
        return self.shown / self.total if self.total else 1.0

    @property
    def progress(self) -> str:
        """The progress line, e.g. ``"Merge 3 of 1,744"``."""
        return f"Merge {self.shown:,} of {self.total:,}"

    @property
    def headline(self) -> str:
        """The newest merge in words, as Markdown with code spans (labels show a space as ·, a newline as ↵).

        >>> from tokviz import train_bpe
        >>> tok = train_bpe(["the then this " * 5], vocab_size=258)
        >>> frame(tok, merges_of(tok, [9, 7]), "the", shown=1).headline
        'Merge **1**: `t` + `h` → `th` (the pair was seen 9 times)'
        """
        if self.merge is None:
            return "Before the first merge: every byte is a token of its own."
        m = self.merge
        return (f"Merge **{m.rank + 1:,}**: `{token_label(m.left)}` + `{token_label(m.right)}` → "
                f"`{token_label(m.token)}` (the pair was seen {m.count:,} times)")


def merges_of(tok: Tokenizer, counts: Sequence[int]) -> tuple[Merge, ...]:
    """The run's merges as :class:`~tokviz.training.merge_loop.Merge` records, with the pair counts given (for a
    tokenizer whose run did not keep them; a finished run's own records are used as they are)."""
    if len(counts) != len(tok.merges):
        raise ValueError(f"Need one count per merge: {len(tok.merges):,} merges, {len(counts):,} counts.")
    return tuple(Merge(r, a, b, c) for r, ((a, b), c) in enumerate(zip(tok.merges, counts)))


def frame(tok: Tokenizer, merges: Sequence[Merge], text: str, *, shown: int, table_rows: int = 200) -> Frame:
    """The frame after ``shown`` of the run's ``merges``: the sample ``text`` cut before and after the newest one.

    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["the then this " * 5], vocab_size=259)
    >>> f = frame(tok, merges_of(tok, [9, 7, 5]), " the", shown=2)  # merge 2 joins " " + "th"
    >>> f.progress, f.counts, [r["rank"] for r in f.rows], [len(f.effect.before), len(f.effect.after)]
    ('Merge 2 of 3', (9, 7), [2, 1], [3, 2])
    """
    n = len(merges)
    if isinstance(shown, bool) or not isinstance(shown, int) or not 0 <= shown <= n:
        raise ValueError(f"shown must be a whole number of merges from 0 to {n:,}, got {shown!r}.")
    if shown == 0:
        base = 256 + len(tok.special_tokens or [])
        at_start = tok.prefix(base).encode_with_offsets(text)
        effect = StepEffect(at_start, at_start, [False] * len(at_start))
    else:
        effect = step_effect(tok, text, step=shown - 1)
    applied = merges[:shown]
    return Frame(shown, n, applied[-1] if applied else None, tuple(m.count for m in applied),
                 merge_rows(applied, last=table_rows), effect)


# -- one frame as one piece of HTML ----------------------------------------------------------------------------------
#: Styles of a frame; the token chips take the page's own ``.tok`` styles. The chart needs 440 px to keep its
#: labels readable (it scales as an image), so a narrower page puts the table under it rather than beside it.
FRAME_CSS = (
    ".tv-slow{font:14px/1.5 sans-serif;color:#1f2937}"
    ".tv-slow-bar{height:8px;border-radius:4px;background:#e5e7eb;overflow:hidden;margin:6px 0 2px}"
    ".tv-slow-bar>div{height:100%;background:#4f46e5}"
    ".tv-slow-progress{font-size:13px;color:#4b5563;margin:0 0 6px}"
    ".tv-slow-head{margin:4px 0 8px}.tv-slow code{background:#eef2ff;border-radius:4px;padding:0 4px;"
    "font:13px ui-monospace,Menlo,Consolas,monospace;white-space:pre}"
    ".tv-slow-row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}"
    ".tv-slow-row>img{flex:3 1 440px;max-width:100%;min-width:0;height:auto}"
    ".tv-slow-row>div{flex:2 1 260px;min-width:0;max-height:250px;overflow:auto}"
    ".tv-slow table{border-collapse:collapse;font-size:12px;width:100%}"
    ".tv-slow th,.tv-slow td{border-bottom:1px solid #e5e7eb;padding:2px 6px;text-align:left;white-space:pre}"
    ".tv-slow td.n,.tv-slow th.n{text-align:right}"
)
_W, _H, _L, _R, _T, _B = 600, 240, 56, 12, 30, 36


def _chart_svg(f: Frame, *, lo: int, hi: int) -> str:
    """The pair counts of the merges applied so far, on the whole run's axes (merge on x, count on a log y)."""
    n = max(f.total, 1)
    lo, hi = max(1, lo), max(hi, lo + 1)
    ly0, ly1 = math.log10(lo) - 0.05, math.log10(hi) + 0.05

    def px(i: int) -> float:
        return _L + (i / n) * (_W - _L - _R)

    def py(c: int) -> float:
        return _T + (1 - (math.log10(max(c, 1)) - ly0) / (ly1 - ly0)) * (_H - _T - _B)

    stride = max(1, -(-len(f.counts) // 600))
    idx = list(range(0, len(f.counts), stride))
    if f.counts and idx[-1] != len(f.counts) - 1:
        idx.append(len(f.counts) - 1)
    points = " ".join(f"{px(i + 1):.1f},{py(f.counts[i]):.1f}" for i in idx)
    ticks = []
    for e in range(math.ceil(ly0), math.floor(ly1) + 1):
        y = py(10**e)
        ticks.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{_L - 6}" y="{y + 4:.1f}" text-anchor="end">{10**e:,}</text>')
    for i in sorted({0, n // 2, n}):
        ticks.append(f'<text x="{px(i):.1f}" y="{_H - _B + 16}" text-anchor="middle">{i:,}</text>')
    line = (f'<polyline points="{points}" fill="none" stroke="#4f46e5" stroke-width="2"/>'
            if f.counts else "")
    dot = (f'<circle cx="{px(len(f.counts)):.1f}" cy="{py(f.counts[-1]):.1f}" r="4" fill="#dc2626"/>'
           if f.counts else "")
    title = f"Count of each merged pair: {f.shown:,} of {f.total:,} merges"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" font-family="sans-serif" '
           f'font-size="12" fill="#4b5563"><rect width="{_W}" height="{_H}" fill="white"/>'
           f'<text x="0" y="16" font-size="14" fill="#1f2937">{title}</text>'
           f'{"".join(ticks)}<line x1="{_L}" x2="{_W - _R}" y1="{_H - _B}" y2="{_H - _B}" stroke="#9ca3af"/>'
           f"{line}{dot}"
           f'<text x="{(_L + _W - _R) / 2}" y="{_H - 4}" text-anchor="middle">merge</text>'
           f'<text transform="translate(12 {(_T + _H - _B) / 2}) rotate(-90)" text-anchor="middle">pair count</text>'
           "</svg>")
    # An image: the page's HTML sanitizer removes inline SVG, and drawn this way it still arrives with the frame.
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img class="tv-slow-chart" alt="{title}" title="{title}" data-points="{len(f.counts)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def _table(f: Frame, *, rows: int) -> str:
    head = "".join(f'<th class="{"n" if c in ("rank", "count") else ""}">{c}</th>'
                   for c in ("rank", "left", "right", "new token", "count"))
    body = "".join(
        f'<tr><td class="n">{r["rank"]:,}</td><td>{html.escape(str(r["left"]))}</td>'
        f'<td>{html.escape(str(r["right"]))}</td><td>{html.escape(str(r["new token"]))}</td>'
        f'<td class="n">{r["count"]:,}</td></tr>'
        for r in f.rows[:rows]
    )
    caption = f"<b>{f.shown:,}</b> merges applied so far; the newest first."
    return f'<div><div class="tv-slow-progress">{caption}</div><table><tr>{head}</tr>{body}</table></div>'


def render_frame(f: Frame, *, tokenizer: str, lo: int, hi: int, rows: int = 50) -> str:
    """One frame as a single piece of HTML (progress, headline, sample before and after, chart, table), so that the
    browser draws all of it at once: no part can show another count than the rest. ``lo`` and ``hi`` are the run's
    smallest and largest pair counts (the chart's axes stay put while it grows). Every text is escaped.

    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["the then this " * 5], vocab_size=259)
    >>> page = render_frame(frame(tok, merges_of(tok, [9, 7, 5]), "<b>the</b>", shown=1), tokenizer="t", lo=5, hi=9)
    >>> 'data-shown="1"' in page, "Merge 1 of 3" in page, "<b>the" in page
    (True, True, False)
    """
    head = ("Before the first merge: every byte is a token of its own." if f.merge is None else
            f"Merge <b>{f.merge.rank + 1:,}</b>: <code>{html.escape(token_label(f.merge.left))}</code> + "
            f"<code>{html.escape(token_label(f.merge.right))}</code> → "
            f"<code>{html.escape(token_label(f.merge.token))}</code> (the pair was seen {f.merge.count:,} times)")
    return (
        f'<style>{FRAME_CSS}</style><div class="tv-slow" data-shown="{f.shown}" data-total="{f.total}">'
        f'<div class="tv-slow-bar" role="progressbar" aria-valuenow="{f.shown}" aria-valuemax="{f.total}">'
        f'<div style="width:{100 * f.fraction:.2f}%"></div></div>'
        f'<p class="tv-slow-progress">{f.progress}</p><p class="tv-slow-head">{head}</p>'
        f"{render_step_effect(f.effect, tokenizer=tokenizer)}"
        f'<div class="tv-slow-row">{_chart_svg(f, lo=lo, hi=hi)}{_table(f, rows=rows)}</div></div>'
    )
