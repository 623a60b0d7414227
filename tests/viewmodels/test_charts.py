"""tokviz.viewmodels.charts: the figures carry exactly the sweep's numbers, on the right axes (data, not pixels)."""

from __future__ import annotations

import json
import pydoc_data.topics

import pytest

from tokviz import Tokenizer, train_bpe
from tokviz.analysis.sweep import (
    SizeComparison,
    compression_curves,
    default_baselines,
    length_distribution,
    log_spaced_sizes,
    size_range,
    train_patterns,
)
from tokviz.training.holdout import split_holdout
from tokviz.viewmodels.charts import BYTE_LINE_NOTE, compression_figure, length_figure, token_count_figure


@pytest.fixture(scope="module")
def texts() -> tuple[str, str]:
    topics = pydoc_data.topics.topics
    return split_holdout("\n".join(topics[k] for k in sorted(topics))[:60_000])


@pytest.fixture(scope="module")
def comparison(texts: tuple[str, str]) -> SizeComparison:
    train, heldout = texts
    runs = train_patterns([train], vocab_size=700, patterns=("gpt2", "gpt4"))
    pretrained = train_bpe([heldout], vocab_size=300, name="pretrained-ish")
    return compression_curves(heldout, runs, baselines=default_baselines(train), pretrained=[pretrained])


def test_compression_figure_traces_equal_the_sweep(comparison: SizeComparison) -> None:
    fig = compression_figure(comparison)
    assert fig.layout.xaxis.type == "log"
    assert [t.name for t in fig.data[:2]] == ["bpe gpt2", "bpe gpt4"]
    for trace, curve in zip(fig.data, comparison.curves):
        assert trace.mode == "lines"
        assert list(trace.x) == list(curve.sizes)
        assert list(trace.y) == list(curve.ratios)
        assert list(trace.customdata) == list(curve.tokens)  # the hover's exact token counts
        assert "%{x:,}" in trace.hovertemplate and "%{y:.4f}" in trace.hovertemplate
    points = fig.data[len(comparison.curves):]
    assert len(points) == len(comparison.points) == 4
    for trace, point in zip(points, comparison.points):
        assert list(trace.x) == [point.vocab_size] and list(trace.y) == [point.ratio]
        assert point.label in trace.name and point.kind in trace.hovertemplate
    byte_lines = [s for s in fig.layout.shapes if s.y0 == 1.0 and s.y1 == 1.0]
    assert len(byte_lines) == 1
    assert [a.text for a in fig.layout.annotations] == [BYTE_LINE_NOTE]
    bare = compression_figure(comparison, byte_line=False)
    assert not bare.layout.shapes and not bare.layout.annotations
    json.loads(fig.to_json())  # serialisable for the app


def test_point_symbols_tell_baselines_from_pretrained(comparison: SizeComparison) -> None:
    fig = compression_figure(comparison)
    symbols = {p.kind: t.marker.symbol for t, p in zip(fig.data[len(comparison.curves):], comparison.points)}
    assert symbols["baseline"] != symbols["pretrained"]


def test_light_theme(comparison: SizeComparison) -> None:
    for fig in (compression_figure(comparison), token_count_figure(comparison)):
        assert fig.layout.paper_bgcolor == "white" and fig.layout.plot_bgcolor == "white"
        assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white, not the grey default


def test_token_count_figure(comparison: SizeComparison) -> None:
    fig = token_count_figure(comparison)
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.yaxis.title.text == "tokens"
    for trace, curve in zip(fig.data, comparison.curves):
        assert list(trace.x) == list(curve.sizes) and list(trace.y) == list(curve.tokens)
        assert list(trace.customdata) == list(curve.ratios)
    for trace, point in zip(fig.data[len(comparison.curves):], comparison.points):
        assert list(trace.y) == [point.tokens]


def test_figures_on_log_spaced_sizes(texts: tuple[str, str]) -> None:
    train, heldout = texts
    tok = train_bpe([train], vocab_size=2000)
    sizes = log_spaced_sizes(*size_range(tok), n=40)
    assert sizes[0] == 256 and sizes[-1] == 2000 and len(sizes) <= 40
    assert all(b / a < 1.1 for a, b in zip(sizes, sizes[1:]))  # even steps on a log scale
    fig = compression_figure(compression_curves(heldout, [tok], sizes=sizes))
    assert list(fig.data[0].x) == list(sizes)


@pytest.fixture(scope="module")
def tok900(texts: tuple[str, str]) -> Tokenizer:
    return train_bpe([texts[0]], vocab_size=900)


@pytest.mark.parametrize("share", [True, False])
def test_length_figure(texts: tuple[str, str], tok900: Tokenizer, share: bool) -> None:
    dist = length_distribution(tok900, [256, 500, 900], text=texts[1])
    fig = length_figure(dist, share=share, max_length=None)
    assert fig.layout.barmode == "group" and fig.layout.xaxis.type == "category"
    assert [t.name for t in fig.data] == ["vocab 256", "vocab 500", "vocab 900"]
    for trace, size, row in zip(fig.data, dist.sizes, dist.counts):
        assert trace.type == "bar"
        assert list(trace.x) == [str(n) for n in dist.lengths]
        expected = [100 * s for s in dist.shares(size)] if share else list(row)
        assert list(trace.y) == pytest.approx(expected)
        assert [c[0] for c in trace.customdata] == list(row)
    assert "tokens of the text" in fig.layout.title.text
    assert "vocabulary" in length_figure(length_distribution(tok900, [300])).layout.title.text


def test_length_figure_folds_long_tokens(tok900: Tokenizer) -> None:
    dist = length_distribution(tok900, [256, 900])
    longest = dist.lengths[-1]
    assert longest > 4  # the fold below has something to fold
    fig = length_figure(dist, share=False, max_length=4)
    for trace, row in zip(fig.data, dist.counts):
        assert list(trace.x) == [str(n) for n in dist.lengths if n < 4] + ["4+"]
        assert sum(trace.y) == sum(row)  # nothing lost
        assert trace.y[-1] == sum(c for n, c in zip(dist.lengths, row) if n >= 4)
    # a cap above the longest token changes nothing
    assert list(length_figure(dist, max_length=longest + 1).data[1].x) == [str(n) for n in dist.lengths]
    with pytest.raises(ValueError, match="max_length"):
        length_figure(dist, max_length=1)


def test_other_families_are_points_on_the_size_charts(tmp_path):
    """WordPiece, Unigram and SentencePiece BPE tokenizers join the charts as points at their vocabulary size, with
    their own token counts."""
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer
    from tokviz.viewmodels.size_runs import compare_on_text, series_kinds

    extras = {f: load_tokenizer(train_family_json(tmp_path / f"{f}.json", f)) for f in ("wordpiece", "unigram",
                                                                                        "bpe-sp")}
    text = "Hello world, the 1885 world says héllo 🌍 龘 again.\n" * 5
    assert series_kinds(extras) == dict.fromkeys(extras, "point")
    out = compare_on_text(text, {}, baselines=[], extras=extras)
    assert not out.problems
    points = {p.label: p for p in out.comparison.points}
    for name, tok in extras.items():
        p = points[name]
        assert (p.vocab_size, p.tokens) == (tok.vocab_size, len(tok.encode(text)))
        assert p.ratio == pytest.approx(len(text.encode("utf-8")) / p.tokens)
    fig = compression_figure(out.comparison)
    drawn = {t.text[0]: (t.x[0], t.y[0]) for t in fig.data if t.mode == "markers+text"}
    assert drawn == {n: (p.vocab_size, p.ratio) for n, p in points.items()}


def test_point_labels_are_short_and_neighbours_take_opposite_sides() -> None:
    from tokviz.analysis.sweep import SizeComparison, SizePoint
    from tokviz.viewmodels.charts import compression_figure

    names = ["GPT-4o · o200k_base", "GPT-2 · r50k_base", "GPT-4 · cl100k_base"]
    sizes = [200_019, 50_257, 100_277]
    points = tuple(SizePoint(label=n, vocab_size=v, tokens=10, n_bytes=40, kind="pretrained")
                   for n, v in zip(names, sizes, strict=True))
    fig = compression_figure(SizeComparison(curves=(), points=points))
    drawn = {t.text[0]: (t.x[0], t.textposition) for t in fig.data if t.mode == "markers+text"}
    # GPT-4o's label shares GPT-2's side less than a decade away: it starts at its marker instead of centred on it.
    assert drawn == {"GPT-2": (50_257, "top center"), "GPT-4": (100_277, "bottom center"),
                     "GPT-4o": (200_019, "top right")}
    assert {t.name for t in fig.data} == set(names)  # the legend keeps the whole name


def test_long_names_are_cut_in_the_legend_and_beside_the_point_but_not_in_the_hover_card() -> None:
    from tokviz.analysis.sweep import SizeComparison, SizeCurve, SizePoint
    from tokviz.viewmodels.charts import LEGEND_CHARS, compression_figure, token_count_figure

    long = "meta-llama/Llama-3.1-8B-Instruct tokenizer.json"
    point = SizePoint(label=long, vocab_size=128_256, tokens=10, n_bytes=40, kind="pretrained")
    curve = SizeCurve(label="bpe " + "x" * 40, pattern="gpt2", sizes=(256, 300), tokens=(40, 30), n_bytes=40)
    for make in (compression_figure, token_count_figure):
        fig = make(SizeComparison(curves=(curve,), points=(point,)))
        names = [t.name for t in fig.data]
        assert names == [curve.label[: LEGEND_CHARS - 1] + "…", long[: LEGEND_CHARS - 1] + "…"]
        assert all(len(n) == LEGEND_CHARS for n in names)
        star = fig.data[1]
        assert star.text == ("meta-llama/Ll…",) and long in star.hovertemplate
        assert curve.label in fig.data[0].hovertemplate


def test_labels_far_apart_are_centred_and_a_subtitle_makes_room_above_the_plot() -> None:
    from tokviz.analysis.sweep import SizeComparison, SizePoint
    from tokviz.viewmodels.charts import compression_figure, label_positions

    assert label_positions([256, 5_000, 1_000_000]) == ["top center", "bottom center", "top center"]
    assert label_positions([]) == []
    point = SizePoint(label="byte", vocab_size=256, tokens=40, n_bytes=40, kind="baseline")
    plain = compression_figure(SizeComparison(curves=(), points=(point,)), title="T")
    sub = compression_figure(SizeComparison(curves=(), points=(point,)), title="T", subtitle="46,502 characters")
    assert (sub.layout.title.text, sub.layout.title.subtitle.text) == ("T", "46,502 characters")
    assert sub.layout.margin.t > plain.layout.margin.t
