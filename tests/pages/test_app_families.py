"""The other families in the app, under AppTest: WordPiece, Unigram and SentencePiece BPE tokenizer.json files loaded
by path are drawn on Tokenize (marks apart from the text, the family and rule in each card, the note on decoding),
say what their family does on Observations, and are diffed against byte-level BPE as plain text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers import drawn_markup, train_family_json
from streamlit.testing.v1 import AppTest

from tokviz import load_tokenizer
from tokviz.analysis.diff import mapped_overlap
from tokviz.viewmodels.family_views import round_trip
from tokviz.viewmodels.observations import OBSERVATIONS

# Slow: the quick loop (-m 'not browser and not slow') stays under a minute; CI runs these too.
pytestmark = pytest.mark.slow
pytest.importorskip("tokenizers")

ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r'<span class="(tok[^"]*)" data-token-id="(-?\d+)" data-tokenizer="([^"]*)"')
TEXT = "Héllo  world, hello! 龘 1234"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("families")
    return {f: train_family_json(d / f"{f}.json", f) for f in ("wordpiece", "unigram", "bpe-sp")}


@pytest.fixture
def at(cache_dir, files, monkeypatch) -> AppTest:
    monkeypatch.setenv("TOKVIZ_LOCAL_PATHS", str(next(iter(files.values())).parent))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["view"] = "compare"
    return app


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def bodies(app: AppTest) -> str:
    return "".join(el.proto.body for el in drawn_markup(app))


def load_all(app: AppTest, files: dict[str, Path]) -> dict[str, str]:
    """Load each file by path; the name each was given, by family."""
    ok(app.run())
    names = {}
    for family, path in files.items():
        app.text_input(key="cmp_path").set_value(str(path))
        ok(next(b for b in app.button if b.label == "Load from path").click().run())
        names[family] = app.multiselect(key="chosen").value[-1]
    return names


def test_tokenize_draws_each_family(at, files) -> None:
    names = load_all(at, files)
    ok(at.multiselect(key="chosen").set_value(list(names.values())).run())
    ok(at.switch_page("tokviz/pages/tokenize.py").run())
    ok(at.text_area(key="text").set_value(TEXT).run())
    body = bodies(at)
    for family, name in names.items():
        tok = load_tokenizer(files[family])
        ids = [int(i) for _, i, n in TOKEN_RE.findall(body) if html.unescape(n) == name]
        assert ids == tok.encode(TEXT), family
        rt = round_trip(tok, TEXT, tok.encode_with_offsets(TEXT))
        assert rt is not None and html.escape(rt.sentence) in body, family
    label = {"wordpiece": "WordPiece", "unigram": "Unigram", "bpe-sp": "SentencePiece BPE"}
    for family in names:
        assert f"<b>{label[family]}</b> family" in body
    assert '<span class="tv-mark-piece">##</span>' in body and '<span class="tv-mark-piece">▁</span>' in body
    assert "rule WordPiece · continuation of a word (##)" in body
    assert "rule Unigram · best-scoring segmentation" in body
    assert "rule SentencePiece BPE · byte fallback for a character not in the vocabulary" in body
    assert 'class="tok tv-c' in body and "tv-unk" in body  # WordPiece's [UNK] for 龘


def test_observations_say_what_each_family_does(at, files) -> None:
    names = load_all(at, files)
    ok(at.multiselect(key="chosen").set_value(list(names.values())).run())
    ok(at.switch_page("tokviz/pages/observations.py").run())
    body = bodies(at)
    for family, name in names.items():
        tok = load_tokenizer(files[family])
        for obs in OBSERVATIONS:
            assert html.escape(obs.run(tok, obs.default_example, name=name).verdict) in body, (family, obs.key)
    caption = " ".join(c.value for c in at.caption)
    assert "Other families than byte-level BPE" in caption and "is WordPiece" in caption


def test_diff_across_families_counts_shared_tokens(at, files) -> None:
    names = load_all(at, files)
    ok(at.selectbox(key="cmp_a").set_value(names["wordpiece"]).run())
    ok(at.selectbox(key="cmp_b").set_value(names["bpe-sp"]).run())
    want = mapped_overlap(load_tokenizer(files["wordpiece"]), load_tokenizer(files["bpe-sp"]))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shared once mapped"] == f"{want.shared:,}"
    assert metrics["Only in A"] == f"{len(want.only_a):,}" and metrics["Only in B"] == f"{len(want.only_b):,}"
    assert any("A is WordPiece and B is SentencePiece BPE" in i.value for i in at.info)
    assert "compared as the plain text they stand for" in " ".join(c.value for c in at.caption)
