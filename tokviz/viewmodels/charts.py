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
    fig.update_xaxes(title_text=x_title, type="log" if log_x else "linear", showgrid=True, gridcolor="#e5e7eb")
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
POINT_KINDS_NOTE = ("Lines: BPE runs trained here, one value per vocabulary size. ◆ a baseline (character, byte, "
                    "word). ★ a tokenizer of one size (pretrained or loaded).")


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


def _point_trace(point: SizePoint, y: float | int, color: str, *, position: str = "top center") -> go.Scatter:
    return go.Scatter(
        x=[point.vocab_size],
        y=[y],
        mode="markers+text",
        name=plot_text(legend_name(point.label)),
        text=[plot_text(short_label(point.label))],
        textposition=position,
        marker={"color": color, "size": 13, "symbol": _POINT_SYMBOLS.get(point.kind, "circle"),
                "line": {"color": "white", "width": 1}},
        customdata=[[point.tokens, point.n_bytes, point.ratio]],
        hovertemplate=(
            f"<b>{template_text(point.label)}</b> ({point.kind})<br>vocab size %{{x:,}}<br>%{{customdata[0]:,}} tokens"
            " for %{customdata[1]:,} bytes<br>%{customdata[2]:.4f} bytes per token<extra></extra>"
        ),
    )


def label_positions(sizes: Sequence[int]) -> list[str]:
    """Where each point's label goes, for points at these vocabulary sizes on a log axis.

    In order of size the labels go above and below in turn, so that two neighbours never share a side. A label
    whose side's previous label is less than a decade away (GPT-2 at 50k, GPT-4o at 200k, both above GPT-4 at 100k)
    starts at its marker and runs right instead of being centred on it: centred, the two ran into each other in a
    narrow window.

    >>> label_positions([200_019, 50_257, 100_277])  # GPT-4o, GPT-2, GPT-4
    ['top right', 'top center', 'bottom center']
    """
    order = sorted(range(len(sizes)), key=lambda k: sizes[k])
    out = [""] * len(sizes)
    last: dict[str, int] = {}  # side -> size of the last label put there
    for n, k in enumerate(order):
        side = "bottom" if n % 2 else "top"
        near = side in last and sizes[k] < 10 * last[side]
        out[k] = f"{side} {'right' if near else 'center'}"
        last[side] = sizes[k]
    return out


def _colors(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _comparison_figure(comparison: SizeComparison, *, y_is_ratio: bool) -> go.Figure:
    """Curves (one color and dash each) then points (the next colors), as bytes per token or as token counts."""
    fig = go.Figure()
    colors = _colors(len(comparison.curves) + len(comparison.points))
    for i, (curve, color) in enumerate(zip(comparison.curves, colors)):
        fig.add_trace(_curve_trace(curve, color, _DASHES[i % len(_DASHES)], y_is_ratio=y_is_ratio))
    positions = label_positions([p.vocab_size for p in comparison.points])
    for k, (point, color) in enumerate(zip(comparison.points, colors[len(comparison.curves):])):
        fig.add_trace(_point_trace(point, point.ratio if y_is_ratio else point.tokens, color, position=positions[k]))
    return fig


#: The byte baseline's line across the compression chart, and what its note says.
BYTE_LINE = {"color": "#6b7280", "dash": "dot", "width": 1.5}
BYTE_LINE_NOTE = "dotted line: 1 byte per token"


def compression_figure(
    comparison: SizeComparison, *, title: str = "Compression against vocabulary size", subtitle: str = "",
    byte_line: bool = True,
) -> go.Figure:
    """Bytes per token (higher is better compression) against vocabulary size on a log axis.

    ``byte_line`` draws the byte baseline, exactly 1.0 byte per token, across the chart.
    """
    fig = _comparison_figure(comparison, y_is_ratio=True)
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
    comparison: SizeComparison, *, title: str = "Tokens in this text by vocabulary size", subtitle: str = ""
) -> go.Figure:
    """The token count of the measured text (fewer is better) against vocabulary size on a log axis."""
    fig = _comparison_figure(comparison, y_is_ratio=False)
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
    fig.update_yaxes(type="log")
    return fig
