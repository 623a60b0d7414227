"""No markup from user strings in any figure: every figure builder, given tokenizer names, patterns and language
names that are plotly HTML, carries them escaped (and shown as typed), never as tags plotly would draw."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from tokviz import train_bpe
from tokviz.analysis.measures import zipf_by_tokenizer
from tokviz.analysis.sweep import SizeComparison, SizeCurve, SizePoint, length_distribution
from tokviz.viewmodels.charts import compression_figure, length_figure, token_count_figure
from tokviz.viewmodels.language_chart import language_cost_figure
from tokviz.viewmodels.languages import LanguageCost
from tokviz.viewmodels.measures_display import zipf_figure
from tokviz.viewmodels.plot_text import plot_text, template_text

# The names of the report (bold/italic, a live link to a local listener) and a hover-template reference.
HOSTILE = ['<b>B</b><i>I</i>', '<a href="//127.0.0.1:9/a">L</a>', "%{x} & <br>"]


def strings(fig: go.Figure) -> list[str]:
    """Every string in the figure's JSON (traces and layout)."""
    out: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(json.loads(fig.to_json()))
    return out


def assert_escaped(fig: go.Figure, names: list[str]) -> None:
    found = strings(fig)
    joined = "\n".join(found)
    for name in names:
        assert name not in joined, name  # never raw: plotly would draw its tags
        assert plot_text(name) in joined or template_text(name) in joined, name  # and still there, escaped


def test_plot_text_escapes_what_plotly_draws() -> None:
    assert plot_text("<b>a & b</b>") == "&lt;b&gt;a &amp; b&lt;/b&gt;"
    assert template_text("%{x}") == "%&#123;x}"
    assert plot_text("plain · name") == "plain · name"


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
def test_size_charts_escape_names_and_patterns() -> None:
    curves = tuple(SizeCurve(name, name, (256, 300), (10, 8), 10) for name in HOSTILE)
    points = tuple(SizePoint(name, "pretrained", 1000, 7, 10) for name in HOSTILE)
    comparison = SizeComparison(curves, points)
    for fig in (compression_figure(comparison, title=HOSTILE[0], subtitle=HOSTILE[1]),
                token_count_figure(comparison, title=HOSTILE[0], subtitle=HOSTILE[1])):
        assert_escaped(fig, HOSTILE)


def test_length_chart_escapes_its_subtitle() -> None:
    tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    fig = length_figure(length_distribution(tok, [260], text="low lower"), title="Token lengths",
                        subtitle=f"{HOSTILE[1]}, all")
    assert_escaped(fig, [HOSTILE[1]])


def test_language_chart_escapes_tokenizer_and_language_names() -> None:
    costs = [LanguageCost(name, lang, "Latin", 3, 10, 2, 1.0, 3.3, 1.5, True, False)
             for name in HOSTILE for lang in HOSTILE]
    fig = language_cost_figure(costs)
    assert_escaped(fig, HOSTILE)
    assert [t.name for t in fig.data] == [plot_text(n) for n in HOSTILE]


def test_zipf_chart_escapes_tokenizer_names() -> None:
    fig = zipf_figure(zipf_by_tokenizer({name: [1, 1, 2] for name in HOSTILE}))
    assert_escaped(fig, HOSTILE)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_with_a_template_reference_is_not_filled_in(name: str) -> None:
    fig = zipf_figure(zipf_by_tokenizer({name: [1, 1, 2]}))
    assert "%{x}" not in fig.data[0].hovertemplate.split("<br>")[0]
