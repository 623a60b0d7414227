"""Measures as a table with help text, and the Zipf plot of token frequencies (plotly, log-log axes).

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz.analysis.measures import measure_text, zipf
    >>> rows = measure_rows([measure_text(ByteTokenizer(), "hello")])
    >>> rows[0]["Tokenizer"], rows[0]["Compression (bytes per token)"]
    ('byte', 1.0)
    >>> fig = zipf_figure({"byte": zipf(ByteTokenizer().encode("hello"))})
    >>> fig.layout.xaxis.type, list(fig.data[0].y)
    ('log', [2, 1, 1, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from tokviz.analysis.measures import MEASURES, TextMeasures, ZipfData
from tokviz.viewmodels.plot_text import plot_text, template_text

#: The table's measure columns, in order (keys of :data:`tokviz.analysis.measures.MEASURES`).
TABLE_MEASURES: tuple[str, ...] = ("bytes_per_token", "fertility", "split_share", "renyi_efficiency", "vocab_share")


def measure_help(key: str) -> str:
    """The help text of one measure (definition, formula, caveat) for a tooltip."""
    if key not in MEASURES:
        raise ValueError(f"no measure {key!r}; the measures are {', '.join(MEASURES)}.")
    return MEASURES[key].help


def measure_rows(measures: Sequence[TextMeasures], *, digits: int = 4) -> list[dict[str, object]]:
    """One row per tokenizer: tokens, words, then each measure under its display name (rounded)."""
    rows: list[dict[str, object]] = []
    for m in measures:
        row: dict[str, object] = {"Tokenizer": m.tokenizer, "Tokens": m.n_tokens, "Words": m.n_words,
                                  "Distinct tokens": m.n_distinct}
        for key in TABLE_MEASURES:
            row[MEASURES[key].name] = round(float(getattr(m, key)), digits)
        rows.append(row)
    return rows


def zipf_figure(data: Mapping[str, ZipfData], *, max_points: int = 5000) -> go.Figure:
    """Frequency against rank on log-log axes, one line per tokenizer; a dotted 1/r line through each top token
    shows what an ideal Zipf law would give. Ranks beyond ``max_points`` are left out (the tail is flat)."""
    fig = go.Figure()
    for name, z in data.items():
        n = min(len(z), max_points)
        fig.add_trace(go.Scatter(x=z.ranks[:n], y=z.frequencies[:n], mode="lines", name=plot_text(name),
                                 customdata=z.ids[:n],
                                 hovertemplate=(f"{template_text(name)}<br>rank %{{x}}: %{{y}}× "
                                                "(id %{customdata})<extra></extra>")))
    tops = [z.frequencies[0] for z in data.values() if len(z)]
    longest = max((min(len(z), max_points) for z in data.values()), default=0)
    if tops and longest > 1:
        top = max(tops)
        fig.add_trace(go.Scatter(x=[1, longest], y=[top, top / longest], mode="lines", name="1/r",
                                 line={"dash": "dot", "color": "#999"}, hoverinfo="skip"))
    fig.update_layout(title="Zipf plot: token frequency by rank", height=420,
                      margin={"t": 50, "r": 20, "b": 40, "l": 60})
    fig.update_xaxes(type="log", title="rank")
    fig.update_yaxes(type="log", title="frequency")
    return fig
