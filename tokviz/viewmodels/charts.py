"""Plotly figures for the vocabulary-size sweep: pure functions from :mod:`tokviz.analysis.sweep` results to figures.

- :func:`compression_figure`: UTF-8 bytes per token against vocabulary size (log x): one line per BPE run (e.g. one
  per pre-tokenizer pattern), baselines and pretrained tokenizers as labelled points, bytes (1.0) as a dotted line.
- :func:`token_count_figure`: the token count of a text against vocabulary size, same layout.
- :func:`length_figure`: token lengths in bytes at chosen sizes, as grouped bars.

Every hover shows the exact numbers; the same numbers download with each result's ``to_csv()``. Light theme.

Example:
    >>> from tokviz.analysis.sweep import SizeComparison, SizeCurve
    >>> fig = compression_figure(SizeComparison((SizeCurve("bpe", "gpt2", (256, 300), (10, 8), 10),), ()))
    >>> fig.layout.xaxis.type, list(fig.data[0].y)
    ('log', [1.0, 1.25])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from tokviz.analysis.sweep import LengthDistribution, SizeComparison, SizeCurve, SizePoint
from tokviz.viewmodels.plot_text import plot_text, template_text

# Okabe-Ito colours (distinguishable with colour blindness), led by the app's primary colour.
PALETTE = ("#4f46e5", "#e69f00", "#009e73", "#cc79a7", "#0072b2", "#d55e00", "#56b4e9", "#000000")
# Curves of different patterns can lie on top of each other; dashes keep each one visible.
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_POINT_SYMBOLS = {"baseline": "diamond", "pretrained": "star"}
_FONT = {"family": "sans-serif", "size": 14, "color": "#1f2937"}


def _layout(fig: go.Figure, *, title: str, x_title: str, y_title: str, log_x: bool, subtitle: str = "") -> go.Figure:
    # A subtitle holds what varies (the text's length, the run's name): in one long title it was cut at the right
    # edge of a half-page chart in a narrower window.
    fig.update_layout(
        template="plotly_white",
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=_FONT,
        title={"text": plot_text(title), "x": 0.0, "xanchor": "left",
               "subtitle": {"text": plot_text(subtitle), "font": {"size": 13, "color": "#4b5563"}}},
        hovermode="closest",
        legend={"title": {"text": ""}, "bgcolor": "rgba(255,255,255,0.8)"},
        margin={"l": 60, "r": 20, "t": 80 if subtitle else 60, "b": 60},
    )
    # the main x axis only: a far point's panel (xaxis2) has its own settings and no title
    fig.update_layout(xaxis={"title": {"text": x_title}, "type": "log" if log_x else "linear", "showgrid": True,
                             "gridcolor": "#e5e7eb"})
    fig.update_yaxes(title_text=y_title, showgrid=True, gridcolor="#e5e7eb", rangemode="tozero")
    return fig


def _curve_trace(curve: SizeCurve, color: str, dash: str, *, y_is_ratio: bool) -> go.Scatter:
    # customdata carries only the value not on the y axis (bytes are constant, so they go in the template):
    # a curve over every size has thousands of points and the figure's JSON stays small.
    y: list[float]
    other: list[float]
    if y_is_ratio:
        y, other = list(curve.ratios), list(curve.tokens)
        lines = "%{customdata:,} tokens<br>%{y:.4f} bytes per token"
    else:
        y, other = list(curve.tokens), list(curve.ratios)
        lines = "%{y:,} tokens<br>%{customdata:.4f} bytes per token"
    return go.Scatter(
        x=list(curve.sizes),
        y=y,
        mode="lines",
        name=plot_text(legend_name(curve.label)),
        line={"color": color, "width": 2.5, "dash": dash},
        customdata=other,
        hovertemplate=(
            f"<b>{template_text(curve.label)}</b> ({template_text(curve.pattern)})<br>vocab size %{{x:,}}<br>{lines}"
            f"<br>text: {curve.n_bytes:,} bytes<extra></extra>"
        ),
    )


def short_label(label: str, *, width: int = 14) -> str:
    """The name drawn beside a point: the part before " · " ("GPT-4o · o200k_base" -> "GPT-4o"), at most ``width``
    characters; the hover card keeps the whole name, the legend up to :data:`LEGEND_CHARS` of it. Points of
    neighbouring sizes (GPT-4 at 100k, GPT-4o at 200k) sit close on a log axis, and their whole names ran into each
    other.

    >>> short_label("GPT-4o · o200k_base"), short_label("bpe-gpt2-8k"), short_label("meta-llama/Llama-3 tokenizer")
    ('GPT-4o', 'bpe-gpt2-8k', 'meta-llama/Ll…')
    """
    return legend_name(label.split(" · ", 1)[0], width=width)


#: Legend entries longer than this are cut (the hover card keeps the whole name): the size charts lay their legend
#: out under a half-page plot in entries of a fixed width, and a longer name ran under its neighbour's marker.
LEGEND_CHARS = 24
#: What the marker shapes mean, for a note beside the size charts, so that legend entries can be the names alone (a
#: legend title saying it ran past the edge of a half-page chart).
POINT_KINDS_NOTE = ("Lines: BPE runs trained here, and rank files (GPT-2, GPT-4, GPT-4o) from 256 tokens to their full "
                    "size: their first k ranks are a tokenizer of k tokens. ◆ a baseline (character, byte, word); "
                    "the character baseline's 1.1M code points sit apart, right of the break. ★ a tokenizer of one "
                    "size (pretrained or loaded). One legend, under the left chart; every line is named at its end.")


#: The legend's font size, and the width of one entry's text: the longest name at about 0.57 em a character (the
#: average glyph of the sans-serif font), so that a name never runs under the next entry's symbol.
LEGEND_FONT_PX = 12
LEGEND_ENTRY_PX = math.ceil(LEGEND_CHARS * LEGEND_FONT_PX * 0.57)


def half_page(fig: go.Figure, *, height: int = 540) -> go.Figure:
    """Fit a chart of this module into half a page: the legend under the plot (a side legend takes a third of a
    half-width chart) and point labels allowed past the axes (the character baseline sits at the right edge).

    The legend's entries have a fixed width, as many to a row as fit (plotly's own wrapping gives one entry per
    line), and the legend sits at the bottom of the figure, so it stays below the axis title whatever the plot's
    height.

    >>> half_page(go.Figure(go.Scatter(x=[1], y=[1]))).layout.legend.entrywidth == LEGEND_ENTRY_PX
    True
    """
    fig.update_layout(height=height, margin={"r": 40, "b": 40},
                      legend={"orientation": "h", "yref": "container", "y": 0, "x": 0, "yanchor": "bottom",
                              "entrywidth": LEGEND_ENTRY_PX, "entrywidthmode": "pixels",
                              "font": {"size": LEGEND_FONT_PX}})
    fig.update_traces(cliponaxis=False, selector={"type": "scatter"})
    return fig


def legend_name(name: str, *, width: int = LEGEND_CHARS) -> str:
    """``name`` as a legend shows it: at most ``width`` characters, the cut marked with "…".

    >>> legend_name("GPT-4 · cl100k_base"), legend_name("meta-llama/Llama-3.1-8B-Instruct tokenizer.json")
    ('GPT-4 · cl100k_base', 'meta-llama/Llama-3.1-8B…')
    """
    return name if len(name) <= width else name[: width - 1].rstrip() + "…"


def _point_trace(point: SizePoint, y: float | int, color: str, *, xaxis: str = "x") -> go.Scatter:
    return go.Scatter(
        x=[point.vocab_size],
        y=[y],
        mode="markers",
        name=plot_text(legend_name(point.label)),
        xaxis=xaxis,
        marker={"color": color, "size": 13, "symbol": _POINT_SYMBOLS.get(point.kind, "circle"),
                "line": {"color": "white", "width": 1}},
        customdata=[[point.tokens, point.n_bytes, point.ratio]],
        hovertemplate=(
            f"<b>{template_text(point.label)}</b> ({point.kind})<br>vocab size %{{x:,}}<br>%{{customdata[0]:,}} tokens"
            " for %{customdata[1]:,} bytes<br>%{customdata[2]:.4f} bytes per token<extra></extra>"
        ),
    )


#: The plot area a half-page chart gets at the narrowest (a 1280-pixel window, the charts side by side; narrower
#: windows stack them at full width), for placing labels; gaps only grow in a bigger plot. Measured in Chromium: 350
#: px wide at 1280 (1024: 576, stacked; 1500: 460), 222 px high with the legend under it (298 at 1024 and 1500) and
#: 403 without one.
PLOT_PX = (300, 220)
PLOT_PX_NO_LEGEND = (300, 400)
_LABEL_FONT_PX = 12
_LABEL_H = 16
#: Where a label may go around its anchor, in pixels (label box left edge or centre, and its middle's offset).
_STEPS = (0, -16, 16, -32, 32, -48, 48, -64, 64, -80, 80, -96, 96)


@dataclass(frozen=True)
class LabelSpot:
    """Where one label goes: ``side`` "right" (its box starts right of the anchor), "left" or "center" (centred
    above or below), and how many pixels its middle sits above (negative) or below the anchor."""

    side: str
    dy: int


def _text_px(text: str) -> float:
    return len(text) * _LABEL_FONT_PX * 0.6 + 4


def _box(px: float, py: float, width: float, spot: LabelSpot) -> tuple[float, float, float, float]:
    x0 = px + 7 if spot.side == "right" else px - 7 - width if spot.side == "left" else px - width / 2
    y0 = py + spot.dy - _LABEL_H / 2
    return x0, y0, x0 + width, y0 + _LABEL_H


Box = tuple[float, float, float, float]


def _clear(box: Box, taken: list[Box], size: tuple[float, float]) -> bool:
    x0, y0, x1, y1 = box
    if x0 < 2 or y0 < 0 or x1 > size[0] or y1 > size[1]:
        return False
    return all(min(x1, b[2]) - max(x0, b[0]) <= -2 or min(y1, b[3]) - max(y0, b[1]) <= -1 for b in taken)


def place_labels(anchors: Sequence[tuple[float, float, str, bool]], *, size: tuple[float, float] = PLOT_PX,
                 taken: Sequence[tuple[float, float, float, float]] = ()) -> list[LabelSpot]:
    """A spot for each label so that no two overlap, none covers a taken box and all stay in the plot.

    ``anchors`` are ``(x px, y px, text, at_end)`` in the plot area (y downwards): a curve's end (``at_end``) is
    labelled to its right first, then left, nudged up or down in steps of a line; a point above or below first.
    Labels are placed in order, each where it first fits; one that fits nowhere takes its first spot.

    >>> place_labels([(200, 100, "GPT-2", True), (200, 104, "GPT-4", True)])  # two curves ending together
    [LabelSpot(side='right', dy=-16), LabelSpot(side='right', dy=16)]
    """
    placed: list[tuple[float, float, float, float]] = list(taken)
    # every marker and line end is kept clear of the labels around it
    placed += [(x - 6, y - 6, x + 6, y + 6) for x, y, _, _ in anchors]
    out: list[LabelSpot] = []
    for x, y, text, at_end in anchors:
        width = _text_px(text)
        mine = (x - 6, y - 6, x + 6, y + 6)
        others = [b for b in placed if b != mine]
        sides = ("right", "left") if at_end else ("center",)
        spots = [LabelSpot(side, dy) for dy in _STEPS for side in sides if side != "center" or abs(dy) >= 16]
        if not at_end:
            spots += [LabelSpot(side, dy) for dy in _STEPS for side in ("right", "left")]
        spot = next((sp for sp in spots if _clear(_box(x, y, width, sp), others, size)), spots[0])
        out.append(spot)
        placed.append(_box(x, y, width, spot))
    return out


def _colors(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


#: A point above FAR_SIZE and this many times beyond every other series (the character baseline's 1.1M code points
#: beside vocabularies of 256-200k) is drawn in a narrow panel of its own at the right, so that it does not squash
#: the axis; a real tokenizer's point stays on the axis, however far from short curves.
FAR = 3
FAR_SIZE = 500_000
#: The main plot's and the far panel's shares of the width.
_MAIN_DOMAIN, _FAR_DOMAIN = (0.0, 0.8), (0.88, 1.0)


def _size_text(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1_000_000 else f"{n / 1e3:.0f}k" if n >= 10_000 else f"{n:,}"


def _comparison_figure(comparison: SizeComparison, *, y_is_ratio: bool, legend: bool = True) -> go.Figure:
    """Curves (one color and dash each) then points (the next colors), as bytes per token or as token counts; each
    curve's end and each point labelled beside it, no two labels over each other."""
    fig = go.Figure()
    colors = _colors(len(comparison.curves) + len(comparison.points))
    curve_colors, point_colors = colors[: len(comparison.curves)], colors[len(comparison.curves):]
    for i, (curve, color) in enumerate(zip(comparison.curves, curve_colors)):
        fig.add_trace(_curve_trace(curve, color, _DASHES[i % len(_DASHES)], y_is_ratio=y_is_ratio))
    far = _far_points(comparison)
    for k, (point, color) in enumerate(zip(comparison.points, point_colors)):
        y = point.ratio if y_is_ratio else point.tokens
        fig.add_trace(_point_trace(point, y, color, xaxis="x2" if k in far else "x"))
    fig.update_layout(showlegend=legend)
    ys = [v for c in comparison.curves for v in (c.ratios if y_is_ratio else c.tokens)]
    ys += [p.ratio if y_is_ratio else p.tokens for p in comparison.points]
    if not ys:
        return fig
    xs = [s for c in comparison.curves for s in c.sizes] + [p.vocab_size for k, p in enumerate(comparison.points)
                                                             if k not in far]
    lo, hi = math.log10(min(xs)), math.log10(max(xs))
    x_range = (lo - 0.08, hi + max(0.12, (hi - lo) * 0.06))
    y_top = max(ys) * 1.15 or 1.0
    fig.update_yaxes(range=[0, y_top])
    fig.update_layout(xaxis={"range": list(x_range)})
    if far:
        _add_far_panel(fig, comparison.points[next(iter(far))].vocab_size)
    plot_px = PLOT_PX if legend else PLOT_PX_NO_LEGEND
    frame = _Frame(x_range, y_top, plot_px[0] * (_MAIN_DOMAIN[1] if far else 1.0), plot_px[1])
    owners = _label_owners(comparison, curve_colors, point_colors, far=far, y_is_ratio=y_is_ratio, fig=fig)
    _add_labels(fig, owners, frame, y_is_ratio=y_is_ratio)
    return fig


def _far_points(comparison: SizeComparison) -> set[int]:
    """The index of the one point drawn in the far panel (far beyond every other size), or none."""
    near_sizes = [s for c in comparison.curves for s in (c.sizes[0], c.sizes[-1])]
    near_sizes += [p.vocab_size for p in comparison.points]
    return {k for k, p in enumerate(comparison.points)
            if len(near_sizes) > 1 and p.vocab_size > max(FAR_SIZE, FAR * sorted(near_sizes)[-2])
            and p.vocab_size == max(near_sizes)}


def _add_far_panel(fig: go.Figure, v: int) -> None:
    """The narrow right-hand panel for a point of vocabulary size ``v``, and the break mark between the panels."""
    fig.update_layout(
        xaxis={"domain": list(_MAIN_DOMAIN)},
        xaxis2={"domain": list(_FAR_DOMAIN), "type": "log", "anchor": "y",
                "range": [math.log10(v) - 0.5, math.log10(v) + 0.5], "tickvals": [v], "ticktext": [_size_text(v)],
                "showgrid": False, "zeroline": False, "showline": False},
    )
    # the gap between the two: a break in the axis, said where the eye looks for it
    fig.add_annotation(text="//", showarrow=False, xref="paper", x=(_MAIN_DOMAIN[1] + _FAR_DOMAIN[0]) / 2,
                       yref="y domain", y=0, yanchor="middle", font={"size": 14, "color": "#6b7280"})


@dataclass(frozen=True)
class _Frame:
    """The main plot's data ranges and its size in pixels, to place labels in pixels."""

    x_range: tuple[float, float]
    y_top: float
    width_px: float
    height_px: float

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        lo, hi = self.x_range
        return (math.log10(x) - lo) / (hi - lo) * self.width_px, self.height_px * (1 - y / self.y_top)


#: A label to place: the data x and y it names, its text, its colour, and whether it ends a line.
_Owner = tuple[float, float, str, str, bool]


def _label_owners(comparison: SizeComparison, curve_colors: list[str], point_colors: list[str], *, far: set[int],
                  y_is_ratio: bool, fig: go.Figure) -> list[_Owner]:
    """Each curve's end and each point on the main plot, to be labelled; the far point is named in its panel here."""
    owners: list[_Owner] = []
    for curve, color in zip(comparison.curves, curve_colors):
        y = (curve.ratios if y_is_ratio else curve.tokens)[-1]
        owners.append((curve.sizes[-1], y, short_label(curve.label), color, True))
    for k, (point, color) in enumerate(zip(comparison.points, point_colors)):
        y = point.ratio if y_is_ratio else point.tokens
        if k in far:
            # alone in its panel: the name above it, centred
            fig.add_annotation(x=math.log10(point.vocab_size), y=y, xref="x2", yref="y", text=plot_text(
                short_label(point.label, width=10)), showarrow=False, yshift=14, font={"size": 12, "color": color})
            continue
        owners.append((point.vocab_size, y, short_label(point.label), color, False))
    return owners


def _add_labels(fig: go.Figure, owners: list[_Owner], frame: _Frame, *, y_is_ratio: bool) -> None:
    """The labels placed off each other (and off the byte line's note), with a thin leader where one moved."""
    anchors = [(*frame.to_px(x, y), text, is_end) for x, y, text, _, is_end in owners]
    # the byte line's note, at the foot of the plot on the left
    h = frame.height_px
    taken = [(0.0, h - 18, _text_px(BYTE_LINE_NOTE) * 11 / 12, h)] if y_is_ratio else []
    for (x, y, text, color, _), spot in zip(owners, place_labels(anchors, size=(frame.width_px, h), taken=taken)):
        shift = 7 if spot.side == "right" else -7 if spot.side == "left" else 0
        # a label moved off its line's end or its point gets a thin leader to it, in the line's colour
        lead = abs(spot.dy) >= _LABEL_H and spot.side != "center" or abs(spot.dy) > _LABEL_H
        fig.add_annotation(
            x=math.log10(x), y=y, xref="x", yref="y", text=plot_text(text), showarrow=lead,
            xanchor={"right": "left", "left": "right", "center": "center"}[spot.side], yanchor="middle",
            font={"size": _LABEL_FONT_PX, "color": color}, bgcolor="rgba(255,255,255,0.7)",
            **({"ax": shift, "ay": spot.dy, "axref": "pixel", "ayref": "pixel", "arrowhead": 0, "arrowwidth": 1,
                "arrowcolor": color, "standoff": 2} if lead else {"xshift": shift, "yshift": -spot.dy}),
        )


#: The byte baseline's line across the compression chart, and what its note says.
BYTE_LINE = {"color": "#6b7280", "dash": "dot", "width": 1.5}
BYTE_LINE_NOTE = "dotted line: 1 byte per token"


def compression_figure(
    comparison: SizeComparison, *, title: str = "Compression against vocabulary size", subtitle: str = "",
    byte_line: bool = True, legend: bool = True,
) -> go.Figure:
    """Bytes per token (higher is better compression) against vocabulary size on a log axis.

    ``byte_line`` draws the byte baseline, exactly 1.0 byte per token, across the chart; ``legend`` False leaves the
    legend to a chart beside it (the labels at the curves' ends name them).
    """
    fig = _comparison_figure(comparison, y_is_ratio=True, legend=legend)
    if byte_line:
        # A layout line, not a trace, so it spans the whole x range whatever the data. Its note sits at the foot of
        # the plot, left: on the line it ran into the character baseline's label in a narrow window, while the band
        # under the line is empty (every token holds at least one byte of the text).
        fig.add_hline(y=1.0, line=BYTE_LINE)
        fig.add_annotation(text=BYTE_LINE_NOTE, showarrow=False, xref="x domain", x=0, xanchor="left", xshift=4,
                           yref="y domain", y=0, yanchor="bottom", yshift=3,
                           font={"size": 11, "color": BYTE_LINE["color"]})
    return _layout(fig, title=title, x_title="vocabulary size (log scale)", y_title="UTF-8 bytes per token",
                   log_x=True, subtitle=subtitle)


def token_count_figure(
    comparison: SizeComparison, *, title: str = "Tokens in this text by vocabulary size", subtitle: str = "",
    legend: bool = True,
) -> go.Figure:
    """The token count of the measured text (fewer is better) against vocabulary size on a log axis."""
    fig = _comparison_figure(comparison, y_is_ratio=False, legend=legend)
    return _layout(fig, title=title, x_title="vocabulary size (log scale)", y_title="tokens", log_x=True,
                   subtitle=subtitle)


def _fold_lengths(
    lengths: Sequence[int], row: Sequence[int], max_length: int | None
) -> tuple[list[str], list[int]]:
    """Bar labels and counts, lengths above ``max_length`` summed into one "N+" bar."""
    if max_length is None or not lengths or lengths[-1] <= max_length:
        return [str(n) for n in lengths], list(row)
    labels = [str(n) for n in lengths if n < max_length] + [f"{max_length}+"]
    counts = [c for n, c in zip(lengths, row) if n < max_length]
    counts.append(sum(c for n, c in zip(lengths, row) if n >= max_length))
    return labels, counts


def length_figure(
    distribution: LengthDistribution, *, title: str | None = None, subtitle: str = "", share: bool = True,
    max_length: int | None = 16,
) -> go.Figure:
    """Grouped bars: how many tokens have each length in bytes, one colour per vocabulary size.

    With ``share`` the bars are percentages, so sizes with very different totals compare; the hover always gives
    the count and the share. Lengths of ``max_length`` bytes and more share one bar: a few very long tokens (runs
    of spaces in code) would otherwise stretch the axis to a hundred mostly empty bars. The CSV keeps every length.
    """
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2):
        raise ValueError(f"max_length must be an integer >= 2 or None (no folding), got {max_length!r}.")
    if title is None:
        what = "vocabulary" if distribution.kind == "vocabulary" else "tokens of the text"
        title = f"Token lengths in the {what} at each size"
    fig = go.Figure()
    for size, row, color in zip(distribution.sizes, distribution.counts, _colors(len(distribution.sizes))):
        labels, counts = _fold_lengths(distribution.lengths, row, max_length)
        total = sum(counts)
        shares = [100 * c / total if total else 0.0 for c in counts]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=shares if share else counts,
                name=f"vocab {size:,}",
                marker={"color": color},
                customdata=[[c, sh] for c, sh in zip(counts, shares)],
                hovertemplate=(
                    f"<b>vocab size {size:,}</b><br>%{{x}} bytes long: %{{customdata[0]:,}} tokens"
                    " (%{customdata[1]:.2f}%)<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group", bargap=0.15)
    _layout(fig, title=title, x_title="token length (bytes)", y_title="% of tokens" if share else "tokens",
            log_x=False, subtitle=subtitle)
    # lengths are labels, in order, so an empty length still keeps its place
    fig.update_xaxes(type="category")
    return fig


def merge_count_figure(counts: Sequence[int], *, title: str = "Count of each merged pair") -> go.Figure:
    """The pair count of every merge, in the order learned, on a log scale: how fast the frequent pairs run out.

    Long runs are thinned to at most 2,000 points (every k-th merge, the last one kept), so a live redraw stays
    small.

    >>> fig = merge_count_figure([900, 400, 400, 12])
    >>> list(fig.data[0].x), list(fig.data[0].y), fig.layout.yaxis.type
    ([1, 2, 3, 4], [900, 400, 400, 12], 'log')
    """
    n = len(counts)
    step = max(1, -(-n // 2000))
    xs = list(range(1, n + 1, step))
    if xs and xs[-1] != n:
        xs.append(n)
    fig = go.Figure(go.Scatter(x=xs, y=[counts[x - 1] for x in xs], mode="lines", line={"color": "#4f46e5"},
                               hovertemplate="merge %{x:,}: pair seen %{y:,} times<extra></extra>"))
    fig.update_layout(title=title, height=260, margin={"l": 50, "r": 20, "t": 40, "b": 40}, template="plotly_white",
                      xaxis_title="merge", yaxis_title="pair count", showlegend=False)
    fig.update_yaxes(type="log", dtick=1)  # powers of ten only: the 2 and 5 between crowd a short chart
    return fig
