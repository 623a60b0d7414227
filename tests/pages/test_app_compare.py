"""The "Load & diff" view under AppTest: loading by path puts a tokenizer in every view's choices, the diff draws
for any pair, and bad paths or files are messages, not exceptions.
(Uploads need a browser: tests/browser/test_browser_compare.py.)"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from helpers import drawn_markup, plain
from streamlit.testing.v1 import AppTest

from tokviz import save_tokenizer
from tokviz.formats.pretrained import NAMED_ENCODINGS
from tokviz.training.trainer import train_bpe
from tokviz.viewmodels.compare import DIFF_SAMPLE, compare
from tokviz.viewmodels.defaults import GPT2_NAME, build_defaults, default_corpus
from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')
XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def tokenizers(cache_dir):
    return build_defaults(directory=cache_dir).tokenizers


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    """A small tokenizer in our own format: quick to load where the test is not about GPT-2."""
    path = tmp_path_factory.mktemp("small") / "small.json"
    save_tokenizer(train_bpe(["low lower lowest " * 20], vocab_size=270), path)
    return path


@pytest.fixture
def at(cache_dir, cs336_dir, tmp_path_factory, monkeypatch) -> AppTest:
    # The Local path field is off unless the server names folders it may read: these tests name the shared data
    # and their own temporary folder.
    monkeypatch.setenv("TOKVIZ_LOCAL_PATHS", os.pathsep.join([str(cs336_dir.parent),
                                                          str(tmp_path_factory.getbasetemp())]))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["view"] = "compare"
    return app


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


unescape = plain


def spans(app: AppTest) -> list[tuple[str, int, str]]:
    """(tokenizer, id, classes) of every token span drawn."""
    return [(html.unescape(n), int(i), c) for el in drawn_markup(app) for c, i, n in TOKEN_RE.findall(el.proto.body)]


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def load_by_path(app: AppTest, text: str) -> AppTest:
    app.text_input(key="cmp_path").set_value(text)
    return ok(button(app, "Load from path").click().run())


def test_load_gpt2_by_path_and_use_it_in_tokenize(at, cs336_dir, gpt2_tokenizer, small_file):
    ok(at.run())
    load_by_path(at, f"{cs336_dir / 'gpt2_vocab.json'}; {cs336_dir / 'gpt2_merges.txt'}")
    assert next(unescape(s.value) for s in at.success).startswith("Loaded **gpt2** (50,257 tokens)")
    chosen = at.multiselect(key="chosen")
    assert "gpt2" in chosen.options and chosen.value[-1] == "gpt2"  # offered and chosen
    assert at.text_input(key="cmp_path").value == ""
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    text = SAMPLES[DEFAULT_SAMPLE].text
    assert [i for n, i, _ in spans(at) if n == "gpt2"] == gpt2_tokenizer.encode(text)
    ok(at.switch_page("tokviz/pages/observations.py").run())
    assert any('data-tokenizer="gpt2"' in el.proto.body for el in drawn_markup(at))
    # A second tokenizer asking for a taken name gets a distinct one; Remove takes one out of every choice.
    ok(at.switch_page("tokviz/pages/compare.py").run())
    at.text_input(key="cmp_name").set_value("gpt2")
    load_by_path(at, str(small_file))
    assert "gpt2 (2)" in at.multiselect(key="chosen").options
    ok(at.button(key="cmp_rm_gpt2").click().run())
    assert "gpt2" not in at.multiselect(key="chosen").options
    assert "gpt2" not in at.multiselect(key="chosen").value and "gpt2 (2)" in at.multiselect(key="chosen").value


def test_bad_paths_and_files_are_messages(at, tmp_path, cs336_dir):
    (tmp_path / "broken.json").write_text('{"model": {"type": "BPE",', encoding="utf-8")
    (tmp_path / "wp.json").write_text('{"model": {"type": "WordLevel", "vocab": {}}}', encoding="utf-8")
    ok(at.run())
    before = list(at.multiselect(key="chosen").options)
    for path, expected in (
        (str(tmp_path / "missing.json"), "missing.json: no such file or directory"),
        # A server file's own failure is not quoted (it may show what the file holds); an upload's is.
        (str(tmp_path / "broken.json"), "broken.json: not a tokenizer file tokviz can read"),
        (str(tmp_path / "wp.json"), "model type WordLevel is not supported"),
        (str(cs336_dir / "gpt2_vocab.json"), "needs its merges.txt too"),
        ("", "No path given"),
    ):
        load_by_path(at, path)
        errors = [unescape(e.value) for e in at.error]
        assert len(errors) == 1 and expected in errors[0], (path, errors)
        assert at.text_input(key="cmp_path").value == path  # kept, to fix it
    assert list(at.multiselect(key="chosen").options) == before
    assert any(el.proto.body.count('class="tv-tokens') == 1 for el in drawn_markup(at))  # the diff is still drawn


def test_diff_of_the_default_pair_matches_tokviz(at, tokenizers):
    ok(at.run())
    a, b = at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value
    assert (a, b) == (("bpe-gpt2-8k", GPT2_NAME) if GPT2_NAME in tokenizers else ("bpe-gpt2-8k", "bpe-gpt4-8k"))
    expected = compare(tokenizers[a], tokenizers[b], name_a=a, name_b=b, corpus=default_corpus().text,
                       text=DIFF_SAMPLE)
    shared = next(m for m in at.metric if m.label == "Shared tokens")
    assert shared.value == f"{expected.diff.vocab.shared:,}"
    assert any("merge lists differ" in m.value or "merges are the same" in m.value for m in at.markdown)
    drawn = spans(at)
    for name, marked in ((a, expected.marked_a), (b, expected.marked_b)):
        side = [(i, c) for n, i, c in drawn if n == name]
        assert [i for i, _ in side] == tokenizers[name].encode(DIFF_SAMPLE)
        assert {k for k, (_, c) in enumerate(side) if "tv-changed" in c.split()} == marked
    assert expected.marked_a  # the sample does show differences


def test_baselines_and_no_corpus(at):
    ok(at.run())
    ok(at.selectbox(key="cmp_a").set_value("byte").run())
    assert any("A is a baseline (one token per byte)" in unescape(i.value) for i in at.info)
    assert {n for n, _, _ in spans(at)} == {"byte", at.selectbox(key="cmp_b").value}
    ok(at.selectbox(key="cmp_a").set_value("bpe-gpt2-512").run())
    ok(at.selectbox(key="cmp_b").set_value("bpe-gpt4-8k").run())
    ok(at.radio(key="cmp_corpus").set_value("none").run())
    assert any("Choose a corpus" in m.value for m in at.markdown)
    ok(at.text_area(key="cmp_text").set_value("").run())
    assert spans(at) == []
    # The choices survive a visit to another view.
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.switch_page("tokviz/pages/compare.py").run())
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == ("bpe-gpt2-512", "bpe-gpt4-8k")
    assert at.radio(key="cmp_corpus").value == "none"


def test_hostile_name_is_escaped(at, small_file):
    ok(at.run())
    at.text_input(key="cmp_name").set_value(XSS)
    load_by_path(at, str(small_file))
    assert XSS in at.multiselect(key="chosen").options
    ok(at.selectbox(key="cmp_b").set_value(XSS).run())
    body = "".join(el.proto.body for el in drawn_markup(at))
    assert "<script" not in body and html.escape(XSS) in body


def test_named_encodings_unavailable_offline_and_loadable_from_the_cache(at, cs336_dir, monkeypatch, tmp_path):
    # As if the built-in package data were missing, so that tiktoken's cache (the second source) is what counts.
    import tokviz.formats.pretrained

    monkeypatch.setattr(tokviz.formats.pretrained, "builtin_file",
                        lambda name: tmp_path / "no-data" / f"{name}.tiktoken.gz")
    import tokviz.viewmodels.menu

    monkeypatch.setattr(tokviz.viewmodels.menu, "BUILTIN_ENCODINGS", {})  # nor offered in every list
    monkeypatch.setattr(tokviz.pages.compare, "BUILTIN_ENCODINGS", {})
    ok(at.run())
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("**unavailable**") == len(NAMED_ENCODINGS)
    assert "to provide it" in unescape(captions)
    # A cache holding GPT-2's two original files (the shared files, with vocab.bpe's version line).
    gpt2 = next(e for e in NAMED_ENCODINGS if e.name == "gpt2")
    vocab_bpe, encoder_json = gpt2.files
    (tmp_path / vocab_bpe.cache_key).write_bytes(b"#version: 0.2\n" + (cs336_dir / "gpt2_merges.txt").read_bytes())
    (tmp_path / encoder_json.cache_key).write_bytes((cs336_dir / "gpt2_vocab.json").read_bytes())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    ok(at.run())
    ok(at.button(key="cmp_named_gpt2").click().run())
    assert "gpt2" in at.multiselect(key="chosen").value
    assert any("tiktoken's cache" in unescape(s.value) for s in at.success)


def test_link_to_a_session_tokenizer_in_a_fresh_session(at):
    at.query_params["tok"] = ["gpt2-uploaded", "byte"]
    ok(at.run())
    assert at.multiselect(key="chosen").value == ["byte"]


def test_built_in_encodings_are_offered_without_any_upload(at, tiktoken_gpt2):
    ok(at.run())
    ok(at.button(key="cmp_named_o200k_base").click().run())
    assert at.multiselect(key="chosen").value[-1] == "GPT-4o · o200k_base"
    ok(at.button(key="cmp_named_p50k_base").click().run())  # built in, not in every list: loaded on request
    assert "p50k_base" in at.multiselect(key="chosen").options
    assert any("built-in copy" in unescape(s.value) for s in at.success)
    # GPT-2 against our BPE in the diff, with GPT-2's own ids.
    ok(at.selectbox(key="cmp_b").set_value("GPT-2 · r50k_base").run())
    drawn = [i for n, i, _ in spans(at) if n == "GPT-2 · r50k_base"]
    assert drawn == tiktoken_gpt2.encode(at.text_area(key="cmp_text").value, allowed_special="all")


def test_the_diff_says_where_a_rank_file_has_tokens_no_merge_builds(at, tmp_path):
    import base64

    # Bytes 0-255, then "abc" at 256: no merge of two tokens makes it ("ab" and "bc" are not tokens), but the rank
    # rule reaches it directly, as tiktoken does.
    lines = [f"{base64.b64encode(bytes([i])).decode()} {i}" for i in range(256)]
    lines.append(f"{base64.b64encode(b'abc').decode()} 256")
    path = tmp_path / "odd.tiktoken"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(at.run())
    load_by_path(at, str(path))
    # An unrecognised rank file got GPT-2's pattern by guess: the page says so and where to pick another.
    assert any("does not recognise" in plain(w.value) and "Options" in plain(w.value) for w in at.warning)
    name = at.multiselect(key="chosen").value[-1]
    ok(at.selectbox(key="cmp_b").set_value(name).run())
    assert any("1 token that no derived merge builds" in plain(c.value) for c in at.caption)
    assert at.session_state["user_tokenizers"][name].encode("abc") == [256]
