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
from tokviz.viewmodels.charts import (
    BYTE_LINE_NOTE,
    PLOT_PX,
    PLOT_PX_NO_LEGEND,
    LabelSpot,
    compression_figure,
    length_figure,
    place_labels,
    token_count_figure,
)


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


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
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
    notes = [a.text for a in fig.layout.annotations]
    assert notes.count(BYTE_LINE_NOTE) == 1
    bare = compression_figure(comparison, byte_line=False)
    assert not bare.layout.shapes and BYTE_LINE_NOTE not in [a.text for a in bare.layout.annotations]
    # every curve's end and every point is named on the chart (the character baseline in its own panel)
    assert sorted(n for n in notes if n != BYTE_LINE_NOTE and n != "//") == sorted(
        [c.label for c in comparison.curves] + [p.label for p in comparison.points])
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


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
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
    drawn = {t.name: (t.x[0], t.y[0]) for t in fig.data if t.mode == "markers"}
    assert drawn == {n: (p.vocab_size, p.ratio) for n, p in points.items()}
    assert {a.text for a in fig.layout.annotations} >= set(points)


def _label_boxes(fig) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each label annotation's box in the plot's estimated pixels (as the placer sees them)."""
    from tokviz.viewmodels.charts import _MAIN_DOMAIN, _text_px

    xa, ya = fig.layout.xaxis, fig.layout.yaxis
    plot = PLOT_PX if fig.layout.showlegend else PLOT_PX_NO_LEGEND
    width = plot[0] * (_MAIN_DOMAIN[1] if fig.layout.xaxis2.domain else 1.0)
    out = []
    for a in fig.layout.annotations:
        if a.xref != "x" or a.yref != "y":
            continue
        dx, dy = (a.ax, a.ay) if a.showarrow else (a.xshift or 0, -(a.yshift or 0))
        px = (a.x - xa.range[0]) / (xa.range[1] - xa.range[0]) * width + dx
        py = plot[1] * (1 - a.y / ya.range[1]) + dy
        w = _text_px(a.text)
        x0 = px if a.xanchor == "left" else px - w if a.xanchor == "right" else px - w / 2
        out.append((a.text, (x0, py - 8, x0 + w, py + 8)))
    return out


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_labels_of_curves_ending_together_and_of_close_points_never_overlap() -> None:
    """The three OpenAI curves end at 50k, 100k and 200k (a third of a decade apart on the log axis) and our three
    runs end together: every end is named, and no two names (nor a name and a marker) are drawn over each other."""
    from tokviz.analysis.sweep import SizeComparison, SizeCurve, SizePoint

    def curve(name: str, top: int, end: int) -> SizeCurve:
        sizes = tuple(sorted({256, *(s for s in (512, 1024, 4096, 8192, 32768) if s < top), top}))
        return SizeCurve(name, "gpt2", sizes, tuple(max(end, 1000 - 40 * i) for i in range(len(sizes))), 4000)

    curves = (curve("bpe gpt2", 8827, 990), curve("bpe gpt4", 9584, 985), curve("bpe o200k", 9514, 988),
              curve("GPT-2 · r50k_base", 50256, 900), curve("GPT-4 · cl100k_base", 100256, 880),
              curve("GPT-4o · o200k_base", 199998, 875))
    points = (SizePoint("byte", "baseline", 256, 4000, 4000), SizePoint("word", "baseline", 5000, 900, 4000),
              SizePoint("character", "baseline", 1_114_112, 3900, 4000))
    for make, legend in ((compression_figure, True), (token_count_figure, False)):
        fig = make(SizeComparison(curves, points), legend=legend)
        boxes = _label_boxes(fig)
        assert {t for t, _ in boxes} == {"bpe gpt2", "bpe gpt4", "bpe o200k", "GPT-2", "GPT-4", "GPT-4o", "byte",
                                         "word"}
        for i, (a, ba) in enumerate(boxes):
            plot = PLOT_PX if legend else PLOT_PX_NO_LEGEND
            assert ba[0] >= 0 and ba[2] <= plot[0] and 0 <= ba[1] and ba[3] <= plot[1], a  # inside the plot
            for b, bb in boxes[i + 1:]:
                apart = min(ba[2], bb[2]) <= max(ba[0], bb[0]) or min(ba[3], bb[3]) <= max(ba[1], bb[1])
                assert apart, (a, b)
        # the character point sits right of a break, on an axis of its own; the main axis stops short of it
        char = next(t for t in fig.data if t.name == "character")
        assert char.xaxis == "x2" and fig.layout.xaxis2.ticktext == ("1.1M",)
        assert 10 ** fig.layout.xaxis.range[1] < 300_000


def test_place_labels_moves_a_label_off_a_taken_box_and_keeps_it_in_the_plot() -> None:
    spots = place_labels([(290, 100, "GPT-4o", True)], size=(300, 300))
    assert spots == [LabelSpot("left", 0)]  # no room on the right: the name goes left of the end
    spots = place_labels([(100, 100, "byte", False)], taken=[(60, 70, 140, 100)])
    assert spots[0] == LabelSpot("center", 16)  # above is taken: below


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
        assert "meta-llama/Ll…" in [a.text for a in fig.layout.annotations]
        assert long in fig.data[1].hovertemplate
        assert curve.label in fig.data[0].hovertemplate


def test_a_subtitle_makes_room_above_the_plot_and_the_legend_can_be_left_to_the_chart_beside() -> None:
    from tokviz.analysis.sweep import SizeComparison, SizePoint
    from tokviz.viewmodels.charts import compression_figure

    point = SizePoint(label="byte", vocab_size=256, tokens=40, n_bytes=40, kind="baseline")
    plain = compression_figure(SizeComparison(curves=(), points=(point,)), title="T")
    sub = compression_figure(SizeComparison(curves=(), points=(point,)), title="T", subtitle="46,502 characters")
    assert (sub.layout.title.text, sub.layout.title.subtitle.text) == ("T", "46,502 characters")
    assert sub.layout.margin.t > plain.layout.margin.t
    assert plain.layout.showlegend is True
    assert token_count_figure(SizeComparison(curves=(), points=(point,)), legend=False).layout.showlegend is False
