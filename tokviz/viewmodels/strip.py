"""The bytes-per-token strip as markup: a row per tokenizer along the whole text, each stretch coloured by how many
bytes its tokens hold (pale: few, badly compressed; dark: many), the page in view outlined; clicking a stretch opens
the page it lies in.

Plain HTML inside the page's markup, not a chart widget: a keystroke in a long text redraws the strip, and a chart
library's redraw cost the browser more than everything else an edit changes. (Streamlit's HTML element drops SVG, so
the rows are boxes whose widths follow the text.) A click is heard by the page's click listener
(``tokviz/pages/token_click.js``), which hands Python the stretch's ``data-tv-page``.

Example:
    >>> from tokviz.viewmodels.paging import StripPoint
    >>> points = [StripPoint("a", 0, 50, 50, 25), StripPoint("a", 50, 100, 50, 10)]
    >>> markup = strip_html(points, pages=[(0, 50), (50, 100)], current=0)
    >>> markup.count('data-tv-page="'), 'data-tv-page="2"' in markup, markup.count("tv-bin-current")
    (2, True, 1)
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from tokviz.viewmodels.paging import StripPoint, strip_pages

#: From few bytes per token to many (a sequential blue scale: a dark stretch compresses well).
SHADES: tuple[str, ...] = ("#eff6ff", "#dbeafe", "#bfdbfe", "#93c5fd", "#60a5fa", "#3b82f6", "#2563eb", "#1d4ed8",
                           "#1e40af", "#1e3a8a")


def strip_html(points: Sequence[StripPoint], *, pages: Sequence[tuple[int, int]], current: int) -> str:
    """The strip for ``points`` (from :func:`~tokviz.viewmodels.paging.strip_points`) over a text cut into
    ``pages``, page ``current`` (from 0) outlined. Shades share one scale across the rows, so rows compare; each
    stretch says, on hover, its tokenizer, bytes per token, characters and page."""
    names = list(dict.fromkeys(p.tokenizer for p in points))
    values = [p.bytes_per_token for p in points if p.n_tokens]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    span = (high - low) or 1.0
    mine = {name: [p for p in points if p.tokenizer == name] for name in names}
    # The page (from 1) each stretch opens; a text of one page (no cuts) opens page 1 everywhere.
    numbers = strip_pages(points, pages=pages) if pages else [[1] * len(mine[n]) for n in names]
    rows = []
    for name, page_numbers in zip(names, numbers, strict=True):
        bins = []
        for p, number in zip(mine[name], page_numbers, strict=True):
            shade = SHADES[min(len(SHADES) - 1, int((p.bytes_per_token - low) / span * len(SHADES)))]
            tip = (f"{name}: {p.bytes_per_token:.2f} bytes/token\ncharacters {p.start:,}–{p.end:,}\n"
                   f"page {number} (click to open)")
            cls = "tv-bin tv-bin-current" if number == current + 1 else "tv-bin"
            bins.append(f'<span class="{cls}" data-tv-page="{number}" style="flex:{max(p.end - p.start, 1)};'
                        f'background:{shade}" title="{html.escape(tip)}"></span>')
        rows.append(f'<div class="tv-strip-row"><span class="tv-strip-name">{html.escape(name)}</span>'
                    f'<span class="tv-strip-bins">{"".join(bins)}</span></div>')
    scale = "".join(f'<span style="background:{c}"></span>' for c in SHADES)
    return (
        f'<div class="tv-strip">{"".join(rows)}'
        f'<div class="tv-strip-scale">bytes/token: {low:.2f} <span class="tv-strip-shades">{scale}</span> '
        f"{high:.2f} · outlined: the page in view</div></div>"
    )
