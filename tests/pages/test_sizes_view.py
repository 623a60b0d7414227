"""The "Vocab sizes" view under Streamlit's AppTest: three charts with the library's own numbers, the side by side
with the prefix tokenizers' ids and the changed marks, no retraining on reruns, and messages for bad input."""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path

import pytest
from helpers import drawn_markup, plain, random_words
from streamlit.testing.v1 import AppTest

import tokviz.viewmodels.size_runs
from tokviz import train_bpe
from tokviz.analysis.sweep import default_baselines, sizes_side_by_side
from tokviz.models.baselines import ByteTokenizer
from tokviz.pages.sizes import DEFAULT_TEXT, builtin_runs
from tokviz.viewmodels.defaults import GPT2_NAME, default_corpus, gpt2_files_dir
from tokviz.viewmodels.samples import SAMPLES
from tokviz.viewmodels.size_curves import DEFAULT_MAX_SIZE
from tokviz.viewmodels.size_runs import PatternRuns, compare_on_text, pattern_runs

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')


@pytest.fixture
def at(cache_dir) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["view"] = "sizes"
    return app


@pytest.fixture(scope="module")
def runs(cache_dir) -> PatternRuns:
    """The view's runs, read back from the same cache folder (so they are the very merges the app used)."""
    corpus = default_corpus()
    return pattern_runs(corpus.text, source=corpus.source, max_size=DEFAULT_MAX_SIZE, directory=cache_dir)


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def trained(app: AppTest, *, timeout: float = 120) -> AppTest:
    """Re-run the page (as the progress fragment's timer does; AppTest runs no timers) until the upload's training
    job is gone."""
    end = time.monotonic() + timeout
    while "_sizes_job" in app.session_state and time.monotonic() < end:
        time.sleep(0.1)
        ok(app.run())
    assert "_sizes_job" not in app.session_state, "the upload's training did not finish"
    return app


def figures(app: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in app.get("plotly_chart")]


def traces(fig: dict) -> dict[str, dict]:
    return {t["name"]: t for t in fig["data"]}


def spans(app: AppTest) -> list[tuple[str, int, str]]:
    """(tokenizer, id, classes) of every token span drawn, in order."""
    return [(html.unescape(n), int(i), c) for el in drawn_markup(app) for c, i, n in TOKEN_RE.findall(el.proto.body)]


def test_three_charts_carry_the_librarys_numbers(at, runs, cache_dir):
    ok(at.run())
    figs = figures(at)
    assert [f["layout"]["title"]["text"].split(" (")[0] for f in figs] == [
        "Compression on held-out text", "Tokens in your text", "Token lengths"]
    held = compare_on_text(runs.heldout, runs.runs, baselines=default_baselines(runs.train_text)).comparison
    shown = traces(figs[0])
    for curve in held.curves:
        assert shown[curve.label]["x"] == list(curve.sizes)
        assert shown[curve.label]["y"] == pytest.approx(list(curve.ratios))
        assert len(curve.sizes) <= 200  # log-spaced: light figures
    for point in held.points:
        assert shown[point.label]["y"] == pytest.approx([point.ratio])
    if gpt2_files_dir() is not None:  # the pretrained GPT-2 from the registry is a point by default
        assert GPT2_NAME in shown
    counted = compare_on_text(DEFAULT_TEXT, runs.runs).comparison
    for curve in counted.curves:
        assert traces(figs[1])[curve.label]["y"] == list(curve.tokens)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Compression CSV", "Token counts CSV", "Lengths CSV", "Side by side CSV"]
    assert not at.error and not at.warning


def test_side_by_side_draws_each_prefix_and_marks_the_changes(at, runs):
    ok(at.run())
    sizes = at.multiselect(key="sizes_pick").value
    assert sizes == [256, 512, 1024, 4096, 8192]
    tok = runs.run("gpt2")
    views = sizes_side_by_side(tok, DEFAULT_TEXT, sizes)
    drawn = spans(at)
    for v in views:
        mine = [(i, c) for n, i, c in drawn if n == f"bpe gpt2@{v.vocab_size}"]
        assert [i for i, _ in mine] == tok.prefix(v.vocab_size).encode(DEFAULT_TEXT)
        assert [("tv-changed" in c.split()) for _, c in mine] == list(v.changed)
    assert sum(v.n_changed for v in views) > 0
    body = "".join(el.proto.body for el in drawn_markup(at))
    assert "tv-legend" in body and f"<b>{views[1].n_changed:,}</b> changed" in body
    # Another run and other sizes: the same checks hold for gpt4.
    ok(at.segmented_control(key="sizes_run").set_value("gpt4").run())
    ok(at.multiselect(key="sizes_pick").set_value([384, 2048]).run())
    gpt4 = runs.run("gpt4")
    for s in (384, 2048):
        assert [i for n, i, _ in spans(at) if n == f"bpe gpt4@{s}"] == gpt4.prefix(s).encode(DEFAULT_TEXT)
    assert "gpt4" in figures(at)[2]["layout"]["title"]["subtitle"]["text"]


@pytest.mark.slow  # trains one more set of runs (2k) and reruns the page nine times: ~2-4 s
def test_reruns_never_retrain(at, cache_dir, monkeypatch):
    calls: list[tuple[str, int]] = []
    real = tokviz.viewmodels.size_runs.load_or_train

    def counting(*args, **kwargs):
        calls.append((kwargs["pattern"], kwargs["vocab_size"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tokviz.viewmodels.size_runs, "load_or_train", counting)
    builtin_runs.clear()  # the view's runs must come back from the disk cache (once per pattern) ...
    ok(at.run())
    assert sorted(calls) == [("gpt2", 65536), ("gpt4", 65536), ("o200k", 65536)]
    # ... and no widget of the view asks for them again.
    ok(at.multiselect(key="sizes_pick").set_value([256, 3072]).run())
    ok(at.segmented_control(key="sizes_run").set_value("o200k").run())
    ok(at.segmented_control(key="sizes_lengths").set_value("usage").run())
    ok(at.text_area(key="sizes_text").set_value("it's 1234567 o'clock").run())
    assert len(calls) == 3
    ok(at.run())
    assert len(calls) == 3  # a plain rerun only redraws: nothing is trained again
    # A smaller largest size is one new run per pattern, and the chosen sizes are clipped to it.
    ok(at.multiselect(key="sizes_pick").set_value([256, 512, 1024, 4096, 8192]).run())
    ok(at.selectbox(key="sizes_max").set_value(2048).run())
    assert sorted(calls[3:]) == [("gpt2", 2048), ("gpt4", 2048), ("o200k", 2048)]
    assert at.multiselect(key="sizes_pick").value == [256, 512, 1024, 2048]
    assert at.multiselect(key="sizes_pick").options[-1] == "2,048"
    for name, trace in traces(figures(at)[0]).items():
        if name.startswith("bpe "):
            assert max(trace["x"]) == 2048
    assert {n for n, _, _ in spans(at)} == {f"bpe o200k@{s}" for s in (256, 512, 1024, 2048)}
    ok(at.selectbox(key="sizes_max").set_value(65536).run())
    assert len(calls) == 6  # back to a size seen before: from memory


def test_only_some_patterns(at):
    ok(at.run())
    ok(at.multiselect(key="sizes_patterns").set_value(["gpt2", "o200k"]).run())
    assert [n for n in traces(figures(at)[0]) if n.startswith("bpe ")] == ["bpe gpt2", "bpe o200k"]
    assert at.segmented_control(key="sizes_run").options == ["gpt2", "o200k"]
    ok(at.multiselect(key="sizes_patterns").set_value([]).run())
    assert any("Pick at least one pre-tokenizer pattern" in plain(i.value) for i in at.info)
    assert figures(at) == []


def test_text_edits_samples_empty_and_hostile(at, runs):
    ok(at.run())
    ok(at.pills(key="sizes_sample").set_value("numbers").run())
    text = SAMPLES["numbers"].text
    assert at.text_area(key="sizes_text").value == text
    assert at.pills(key="sizes_sample").value is None  # a pill is an action, not a lasting choice
    assert traces(figures(at)[1])["bpe gpt4"]["y"][-1] == len(runs.run("gpt4").encode(text))

    ok(at.text_area(key="sizes_text").set_value("").run())
    assert len(figures(at)) == 2  # compression and lengths; the text's own chart waits for text
    assert sum("Type or paste" in plain(i.value) for i in at.info) == 2
    assert spans(at) == []

    ok(at.text_area(key="sizes_text").set_value(XSS).run())
    body = "".join(el.proto.body for el in drawn_markup(at) if not el.proto.body.startswith("<style>"))
    assert "<script" not in body and "<img" not in body
    # At 256 every byte is a token: the drawn token texts spell the input, escaped.
    first = body[body.index('data-tokenizer="bpe gpt2@256"'):]
    texts = re.findall(r'<span class="tv-text">([^<]*)</span>', first)[: len(XSS.encode())]
    assert html.unescape("".join(texts)) == XSS


def test_session_tokenizers_join_as_a_curve_and_a_point(at, runs):
    mine = train_bpe([runs.train_text[:50_000]], vocab_size=600, pattern="gpt4")
    at.session_state["user_tokenizers"] = {"my bpe": mine, "my bytes": ByteTokenizer(name="b")}
    at.session_state["user_heldout"] = {"my bpe": "held out by the train view\n"}
    ok(at.run())
    assert set(at.multiselect(key="sizes_extras").value) >= {"my bpe", "my bytes"}
    shown = traces(figures(at)[0])
    assert "my bpe (own held-out)" in shown and max(shown["my bpe (own held-out)"]["x"]) == 600
    assert shown["my bytes"]["y"] == [1.0]
    # On the typed text every extra curve is measured on that text.
    text_traces = traces(figures(at)[1])
    assert text_traces["my bpe"]["y"][-1] == len(mine.encode(DEFAULT_TEXT))
    ok(at.multiselect(key="sizes_extras").set_value([]).run())
    assert not any(n.startswith("my ") for n in traces(figures(at)[0]))


def test_uploaded_corpus_and_its_problems(at):
    lines = "".join(f"upload line {i}: the 42 cats' {i * 7} naps\n" for i in range(400))

    def upload(name: str, data: bytes) -> AppTest:
        return trained(ok(at.file_uploader(key="sizes_upload").set_value((name, data, "text/plain")).run()))

    ok(at.run())
    upload("mine.txt", lines.encode())
    assert any("`mine.txt` (uploaded)" in c.value for c in at.caption)
    assert [n for n in traces(figures(at)[0]) if n.startswith("bpe ")] == ["bpe gpt2", "bpe gpt4", "bpe o200k"]
    assert any("Not every run reaches 65,536" in plain(i.value) for i in at.info)  # a small corpus runs out of pairs
    upload("flat.txt", b"one line, no break")
    assert any("Cannot train on flat.txt" in plain(e.value) and "line break" in plain(e.value) for e in at.error)
    assert len(figures(at)) == 3 and any("(built in)" in c.value for c in at.caption)
    upload("empty.txt", b"")
    assert any("empty.txt is empty" in plain(e.value) and "built-in corpus instead" in plain(e.value) for e in at.error)
    assert len(figures(at)) == 3
    upload("latin.txt", lines.encode() + b"caf\xe9\n")
    assert any("1 byte was not UTF-8" in plain(w.value) for w in at.warning)
    # Leaving the view empties the uploader, not the choice; the button goes back to the built-in corpus.
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.switch_page("tokviz/pages/sizes.py").run())
    assert any("`latin.txt` (uploaded)" in c.value for c in at.caption)
    ok(at.button[0].click().run())  # "Use the built-in corpus"
    assert any("(built in)" in c.value for c in at.caption)


def test_switching_views_keeps_the_choices(at):
    ok(at.run())
    ok(at.selectbox(key="sizes_max").set_value(4096).run())
    ok(at.text_area(key="sizes_text").set_value("keep me 123").run())
    ok(at.multiselect(key="sizes_pick").set_value([512, 4096]).run())
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    assert not figures(at)
    ok(at.switch_page("tokviz/pages/sizes.py").run())
    assert at.selectbox(key="sizes_max").value == 4096
    assert at.text_area(key="sizes_text").value == "keep me 123"
    assert at.multiselect(key="sizes_pick").value == [512, 4096]
    assert at.session_state["view"] == "sizes"


def _upload_corpus(n_lines: int) -> bytes:
    return "".join(f"upload line {i}: the {i % 97} cats' {i * 7919 % 10007} naps, {i * 31 % 101} dreams\n"
                   for i in range(n_lines)).encode()


def test_an_upload_trains_in_child_processes_with_progress_then_draws(at, monkeypatch):
    ok(at.run())  # the built-in runs are drawn (trained or read here, before the trainer is taken away below)

    def refuse(*args, **kwargs):
        raise AssertionError("the server process trained")

    # Nothing in this process may count or merge: the runs must come from child processes.
    import tokviz.training.trainer

    for name in ("count_corpus", "train_from_counts", "train_bpe"):
        monkeypatch.setattr(tokviz.training.trainer, name, refuse)
    monkeypatch.setattr(tokviz.viewmodels.size_runs, "train_bpe", refuse)
    data = _upload_corpus(4000)
    ok(at.file_uploader(key="sizes_upload").set_value(("big.txt", data, "text/plain")).run())
    assert "_sizes_job" in at.session_state and at.get("progress")  # drawn while it runs, charts not yet
    # Which run the bar names depends on how fast the first one trains here (the page waits a moment for it).
    shown = [p.proto.text for p in at.get("progress")]
    assert any(re.match(r"Training [123] of 3 \((gpt2|gpt4|o200k)\): ", t) for t in shown), shown
    assert not figures(at)
    trained(at)
    assert any("`big.txt` (uploaded)" in c.value for c in at.caption) and len(figures(at)) == 3
    # The same merges as one training in this process would give.
    monkeypatch.undo()
    want = pattern_runs(data.decode(), source="big.txt", max_size=DEFAULT_MAX_SIZE)
    got = at.session_state["_sizes_corpus"]
    assert got.name == "big.txt"
    shown = traces(figures(at)[0])
    for tok in want.runs:
        curve = compare_on_text(want.heldout, [tok]).comparison.curves[0]
        assert shown[curve.label]["y"] == pytest.approx(list(curve.ratios))


def test_an_upload_can_be_cancelled_and_a_killed_child_ends_with_a_message(at):
    import signal

    ok(at.run())
    # Words that keep BPE merging for seconds: a repetitive upload can finish while the page waits for it, before
    # Cancel is pressed (as it did on a quiet machine).
    data = random_words(12_500).encode()
    ok(at.file_uploader(key="sizes_upload").set_value(("slow.txt", data, "text/plain")).run())
    ok(at.button(key="sizes_cancel").click().run())
    trained(at)
    assert any("Training on slow.txt was cancelled" in plain(i.value) for i in at.info), [i.value for i in at.info]
    assert len(figures(at)) == 3 and any("(built in)" in c.value for c in at.caption)
    # Train again; then the child dies as the out-of-memory killer would end it.
    ok(at.button(key="sizes_retrain").click().run())
    job = at.session_state["_sizes_job"]
    os.kill(job._job._process.pid, signal.SIGKILL)
    trained(at)
    errors = [plain(e.value) for e in at.error]
    assert any("Cannot train on slow.txt: The training process ended unexpectedly" in e and "killed by signal 9" in e
               and "Using the built-in corpus instead" in e for e in errors), errors
    assert len(figures(at)) == 3


def test_the_openai_tokenizers_are_curves_to_their_full_size_and_the_character_sits_apart(at, runs):
    """GPT-2, GPT-4 and GPT-4o are drawn over every size from 256 to their full size (their first k ranks), with the
    counts of tiktoken's rule cut at k; the character baseline's 1.1M sits in a panel of its own, so the curves use
    the axis; one legend for the two charts; each curve named at its end; and the page says where our runs stop."""
    from tokviz.analysis.rank_prefix import prefix_curve
    from tokviz.formats.pretrained import load_encoding
    from tokviz.viewmodels.menu import BUILTIN_ENCODINGS

    ok(at.run())
    assert set(at.multiselect(key="sizes_extras").value) >= set(BUILTIN_ENCODINGS)
    held, counted = figures(at)[:2]
    for shown_name, encoding in BUILTIN_ENCODINGS.items():
        tok = load_encoding(encoding)
        trace = traces(held)[shown_name]
        assert trace["mode"] == "lines" and trace["x"][0] == 256 and trace["x"][-1] == max(tok.vocab.keys() - set(
            tok.special_ids.values())) + 1
        assert trace["customdata"] == list(prefix_curve(tok, runs.heldout, sizes=trace["x"]).tokens)
        assert traces(counted)[shown_name]["y"] == list(prefix_curve(tok, DEFAULT_TEXT, sizes=trace["x"]).tokens)
    for fig in (held, counted):
        character = traces(fig)["character"]
        assert character.get("xaxis") == "x2" and fig["layout"]["xaxis2"]["ticktext"] == ["1.1M"]
        # the main axis ends near the largest tokenizer, not at 1.1M
        assert 10 ** fig["layout"]["xaxis"]["range"][1] < 400_000
        labels = [html.unescape(a["text"]) for a in fig["layout"]["annotations"]]
        for name in [n for n in traces(fig) if n != "character"]:
            assert name.split(" · ")[0] in labels, name
    assert held["layout"].get("showlegend", True) is True and counted["layout"]["showlegend"] is False
    assert any("Not every run reaches 65,536 tokens on this corpus" in plain(i.value) for i in at.info)
