"""The app under Streamlit's AppTest: every view, sample and toggle runs without an exception, and what it draws
matches tokviz's own output."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers import drawn_markup
from streamlit.testing.v1 import AppTest

from tokviz.models.baselines import ByteTokenizer
from tokviz.viewmodels.defaults import build_defaults, default_selection
from tokviz.viewmodels.observations import OBSERVATIONS
from tokviz.viewmodels.render import PALETTE, id_color
from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES
from tokviz.viewmodels.share import TEXT_LIMIT

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')


@pytest.fixture
def at(cache_dir) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


@pytest.fixture(scope="module")
def tokenizers(cache_dir):
    return build_defaults(directory=cache_dir).tokenizers


def tokens(app: AppTest) -> list[tuple[str, int, str]]:
    """(tokenizer, id, classes) of every token span the app drew, in order."""
    out = []
    for el in drawn_markup(app):
        for classes, tid, name in TOKEN_RE.findall(el.proto.body):
            out.append((html.unescape(name), int(tid), classes))
    return out


def ids_of(app: AppTest, name: str) -> list[int]:
    return [tid for n, tid, _ in tokens(app) if n == name]


def bodies(app: AppTest) -> str:
    """The drawn markup, without the page's one <style> element."""
    return "\n".join(el.proto.body for el in drawn_markup(app) if not el.proto.body.startswith("<style>"))


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def with_byte(app: AppTest) -> AppTest:
    """Add the byte baseline to the chosen tokenizers: its ids are the text's UTF-8 bytes, easy to check."""
    chosen = app.multiselect(key="chosen")
    return ok(chosen.set_value([*chosen.value, "byte"]).run())


def test_default_view_draws_every_default_tokenizer(at, tokenizers):
    ok(at.run())
    text = SAMPLES[DEFAULT_SAMPLE].text
    assert at.text_area(key="text").value == text
    chosen = default_selection(list(tokenizers))
    assert at.multiselect(key="chosen").value == chosen
    assert len(chosen) >= 3
    for name in chosen:
        assert ids_of(at, name) == tokenizers[name].encode(text), name
    assert at.query_params["tok"] == chosen and at.query_params["text"] == text
    assert at.session_state["view"] == "tokenize"


def test_every_sample(at):
    with_byte(ok(at.run()))
    for key, sample in SAMPLES.items():
        ok(at.pills(key="sample").set_value(key).run())
        assert at.text_area(key="text").value == sample.text, key
        assert at.pills(key="sample").value is None  # a pill is an action, not a lasting choice
        assert ids_of(at, "byte") == list(sample.text.encode()), key
        assert sample.shows in [c.value for c in at.caption], key  # what to look for, under the text


def test_toggles(at, tokenizers):
    ok(at.run())
    plain = bodies(at)
    assert '<span class="tv-text">·</span>' not in plain and "tv-chunk" not in plain

    ok(at.toggle(key="show_ws").set_value(True).run())
    assert '<span class="tv-text">·</span>' in bodies(at)  # the space token, drawn as a mark

    ok(at.toggle(key="show_chunks").set_value(True).run())
    body = bodies(at)
    assert "tv-tokens tv-chunks" in body
    pieces = tokenizers["bpe-gpt2-8k"].pretokenizer.findall(SAMPLES[DEFAULT_SAMPLE].text)
    gpt2_panel = [el.proto.body for el in drawn_markup(at) if 'class="tv-tokens tv-chunks" data-tokenizer="bpe-gpt2-8k"'
                  in el.proto.body]
    assert gpt2_panel and gpt2_panel[0].count('class="tv-chunk') == len(pieces)

    ok(at.segmented_control(key="color_by").set_value("id").run())
    for _, tid, classes in tokens(at):
        assert f"tv-c{id_color(tid)}" in classes.split()

    ok(at.segmented_control(key="color_by").set_value("position").run())
    for name in at.multiselect(key="chosen").value:
        for i, (_, _, classes) in enumerate(t for t in tokens(at) if t[0] == name):
            assert f"tv-c{i % len(PALETTE)}" in classes.split()

    ok(at.toggle(key="show_table").set_value(True).run())
    chosen = at.multiselect(key="chosen").value
    assert len(at.dataframe) == len(chosen)
    for frame, name in zip(at.dataframe, chosen):
        assert list(frame.value["id"]) == ids_of(at, name)
    assert [c.value for c in at.code] == [str(ids_of(at, n)).replace(" ", "").replace(",", ", ") for n in chosen]


def test_empty_text_shows_a_hint(at):
    ok(at.run())
    ok(at.text_area(key="text").set_value("").run())
    assert any("Type or paste" in i.value for i in at.info)
    assert tokens(at) == []
    assert "text" not in at.query_params or at.query_params["text"] == ""


def test_no_tokenizer_chosen_shows_a_hint(at):
    ok(at.run())
    ok(at.multiselect(key="chosen").set_value([]).run())
    assert any("Pick at least one tokenizer" in i.value for i in at.info)


def test_one_megabyte(at, monkeypatch):
    with_byte(ok(at.run()))
    unit = "The year 1885 saw 1234567 people 🌍 say hello, 你好!\n\tdef f(x): return x\n"
    text = (unit * (2**20 // len(unit.encode()) + 1))[: 2**20]
    ok(at.text_area(key="text").set_value(text).run())  # how long it takes is measured in bench/
    notices = [i.value for i in at.info if "Long text" in i.value]
    assert notices and f"{len(text):,} characters" in notices[0]
    body = bodies(at)
    assert f"<b>{len(text):,}</b> chars" in body
    assert f"<b>{len(text.encode()):,}</b> tokens" in body  # the byte tokenizer: counts cover all of it
    drawn = ids_of(at, "byte")
    assert 0 < len(drawn) < len(text.encode()) and drawn == list(text.encode())[: len(drawn)]
    assert "text" not in at.query_params  # too long for a link
    # Switching the whitespace toggle on such a text only redraws: the encodings come from the cache (checked by
    # counting encoder calls, not by timing, which a busy machine would make flaky).
    from tokviz.models.bpe import Tokenizer

    calls: list[str] = []
    for method in ("encode", "encode_with_offsets"):
        real = getattr(Tokenizer, method)
        monkeypatch.setattr(Tokenizer, method,
                            lambda self, *a, _real=real, _m=method, **k: calls.append(_m) or _real(self, *a, **k))
    ok(at.toggle(key="show_ws").set_value(True).run())
    assert at.toggle(key="show_ws").value and calls == []


def test_hostile_text_is_escaped(at):
    with_byte(ok(at.run()))
    ok(at.text_area(key="text").set_value(XSS).run())
    body = bodies(at)
    assert "<script" not in body and "<img" not in body
    # Each tokenizer's drawn token texts, unescaped and joined, give the text back: it was escaped, not dropped.
    for name in at.multiselect(key="chosen").value:
        panel = body[body.index(f'data-tokenizer="{html.escape(name)}"'):]
        texts = re.findall(r'<span class="tv-text">(.*?)</span>', panel)
        assert "&lt;script&gt;" in "".join(texts) or "&lt;" in texts, name
    assert ids_of(at, "byte") == list(XSS.encode())


def test_observations_view(at, tokenizers):
    ok(at.run())
    ok(at.switch_page("tokviz/pages/observations.py").run())
    assert at.session_state["view"] == "observations"
    # The page's own inputs (the sidebar holds the model box).
    assert [t.value for t in at.main.text_input] == [o.default_example for o in OBSERVATIONS]
    chosen = at.multiselect(key="chosen").value
    body = bodies(at)
    for obs in OBSERVATIONS:
        for name in chosen:
            verdict = obs.run(tokenizers[name], obs.default_example, name=name).verdict
            assert html.escape(verdict) in body, (obs.key, name)
    # Editing an example re-runs that card with the tokenizers' own output.
    ok(at.text_input(key="obs_repetition").set_value("world world").run())
    for name in chosen:  # every chosen tokenizer's card now says what its own output does with "world world"
        verdict = OBSERVATIONS[1].run(tokenizers[name], "world world", name=name).verdict
        assert html.escape(verdict) in bodies(at), name
    assert html.escape(OBSERVATIONS[1].run(tokenizers[chosen[0]], "hello hello", name=chosen[0]).verdict) \
        not in bodies(at)  # the old example's verdict is gone
    # A bad example is a warning in its card, not an exception.
    ok(at.text_input(key="obs_digits").set_value("no digits").run())
    assert any("no number" in w.value for w in at.warning)


def test_switching_views_keeps_the_text_and_options(at):
    ok(at.run())
    ok(at.text_area(key="text").set_value("keep me").run())
    ok(at.toggle(key="show_ws").set_value(True).run())
    ok(at.switch_page("tokviz/pages/observations.py").run())
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    assert at.text_area(key="text").value == "keep me"
    assert at.toggle(key="show_ws").value is True
    assert at.query_params["text"] == "keep me"


def test_link_reproduces_the_view(at):
    at.query_params["text"] = "hello hello"
    at.query_params["tok"] = ["word", "byte", "nonexistent"]
    ok(at.run())
    assert at.text_area(key="text").value == "hello hello"
    assert at.multiselect(key="chosen").value == ["word", "byte"]
    assert next(n for n, _, _ in tokens(at)) == "word"
    assert ids_of(at, "byte") == list(b"hello hello")


def test_hand_made_link_with_a_long_text_is_cut(at):
    at.query_params["text"] = "z" * (TEXT_LIMIT + 10)
    ok(at.run())
    assert at.text_area(key="text").value == "z" * TEXT_LIMIT


def test_session_tokenizers_join_the_choices(at):
    at.session_state["user_tokenizers"] = {"mine": ByteTokenizer(name="mine")}
    ok(at.run())
    assert "mine" in at.multiselect(key="chosen").options
    ok(at.multiselect(key="chosen").set_value(["mine"]).run())
    assert ids_of(at, "mine") == list(SAMPLES[DEFAULT_SAMPLE].text.encode())


def test_a_link_carries_every_setting_of_the_view(at):
    # Change the toggles, colours and an observation example; the link then holds them, and a fresh session opened
    # with that link (another browser, a colleague) draws the same.
    ok(at.run())
    ok(at.toggle(key="show_ws").set_value(True).run())
    ok(at.toggle(key="show_chunks").set_value(True).run())
    ok(at.segmented_control(key="color_by").set_value("id").run())
    params = {k: at.query_params[k] for k in at.query_params}
    assert params["show_ws"] == "1" and params["show_chunks"] == "1" and params["color_by"] == "id"
    ok(at.switch_page("tokviz/pages/observations.py").run())
    ok(at.text_input(key="obs_digits").set_value("in 2024, 3.14159").run())
    params = {k: at.query_params[k] for k in at.query_params}
    assert params["obs_digits"] == "in 2024, 3.14159"
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in params.items():
        fresh.query_params[k] = v
    ok(fresh.run())
    assert fresh.toggle(key="show_ws").value and fresh.toggle(key="show_chunks").value
    assert fresh.segmented_control(key="color_by").value == "id"
    assert bodies(fresh) == bodies(at.switch_page("tokviz/pages/tokenize.py").run())  # the same tokens, drawn alike
    ok(fresh.switch_page("tokviz/pages/observations.py").run())
    assert fresh.text_input(key="obs_digits").value == "in 2024, 3.14159"


def test_panels_say_their_pattern_and_the_word_baseline_its_unknown_rate(at, tokenizers):
    ok(at.run())
    ok(at.multiselect(key="chosen").set_value(["bpe-gpt4-8k", "word"]).run())
    body = bodies(at)
    assert "<b>gpt4</b> pattern" in body
    rate = tokenizers["word"].unknown_rate(at.text_area(key="text").value)
    assert f"<b>{rate:.1%}</b> unknown words" in body
