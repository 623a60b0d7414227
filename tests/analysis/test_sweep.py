"""tokviz.analysis.sweep: token counts at every size equal prefix encodes; curves, held-out split, lengths, side by
side."""

from __future__ import annotations

import csv
import io
import pydoc_data.topics
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import length_histogram

from tokviz import Tokenizer, train_bpe
from tokviz.analysis.sweep import (
    changed_tokens,
    compression_curves,
    default_baselines,
    length_distribution,
    log_spaced_sizes,
    merge_steps,
    side_by_side_rows,
    size_range,
    sizes_side_by_side,
    token_count_curve,
    train_patterns,
)
from tokviz.core.encoding import Encoding
from tokviz.core.protocol import encode_as_shown
from tokviz.core.ratios import compression_ratio
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.training.holdout import split_holdout

SPECIAL = "<|endoftext|>"
EXTRA = f"{SPECIAL}Ünïcödé 🌍 你好 — naïve café\r\n\t  x{SPECIAL}"


@pytest.fixture(scope="module")
def pydoc_text() -> str:
    topics = pydoc_data.topics.topics
    return "\n".join(topics[k] for k in sorted(topics))[:150_000]


@pytest.fixture(scope="module")
def split(pydoc_text: str) -> tuple[str, str]:
    return split_holdout(pydoc_text)


@pytest.fixture(scope="module", params=["gpt2", "gpt4", "o200k"])
def trained(request: pytest.FixtureRequest, split: tuple[str, str]) -> Tokenizer:
    return train_bpe([split[0]], vocab_size=2000, pattern=request.param, special_tokens=[SPECIAL])


def prefix_count(tok: Tokenizer, text: str, size: int) -> int:
    return len(encode_as_shown(tok.prefix(size), text))


# -- token_count_curve -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_curve_equals_prefix_encodes_on_heldout_text(trained: Tokenizer, split: tuple[str, str]) -> None:
    text = split[1] + EXTRA
    curve = token_count_curve(trained, text)
    lo, hi = size_range(trained)
    assert curve.sizes == tuple(range(lo, hi + 1))
    sizes = sorted({lo, lo + 1, hi - 1, hi, *random.Random(5).sample(curve.sizes, 20)})
    assert [curve.at(s) for s in sizes] == [prefix_count(trained, text, s) for s in sizes]
    assert curve.n_bytes == len(text.encode("utf-8"))
    assert curve.tokens[0] == len(text.encode("utf-8")) - EXTRA.count(SPECIAL) * (len(SPECIAL) - 1)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_curve_at_chosen_sizes_equals_full_curve(trained: Tokenizer, split: tuple[str, str]) -> None:
    full = token_count_curve(trained, split[1])
    chosen = token_count_curve(trained, split[1], sizes=[1999, 300, 300, 257])
    assert chosen.sizes == (257, 300, 1999)  # sorted, duplicates dropped
    assert chosen.tokens == tuple(full.at(s) for s in chosen.sizes)


def test_curve_is_monotone_and_drops_by_the_merge_counts_on_training_text(pydoc_text: str) -> None:
    text = pydoc_text[:50_000]
    tok = train_bpe([text], vocab_size=1200, pattern="gpt4")
    curve = token_count_curve(tok, text)
    drops = [a - b for a, b in zip(curve.tokens, curve.tokens[1:])]
    assert all(d >= 1 for d in drops)  # every learned merge occurs in its own training text
    assert all(a <= b for a, b in zip(curve.ratios, curve.ratios[1:]))  # compression never gets worse
    counts = tok.training.merge_counts
    for (left, right), drop, count in zip(tok.merges, drops, counts):
        if left == right:
            # a run like "aaa" counts (a, a) twice in training but merges it once: at most the count
            assert drop <= count
        else:
            assert drop == count


def test_curve_follows_merges_not_the_whole_token_shortcut() -> None:
    # A hand-made vocabulary whose token "abc" cannot be reached by its merges: (b, c) outranks (a, b), and
    # ("a", "bc") is no merge. The encoder maps the piece "abc" straight to the token; BPE gives "a" + "bc".
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"bc", 257: b"ab", 258: b"abc"}
    tok = Tokenizer(vocab, [(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    assert merge_steps(tok, b"abc") == [0]
    assert token_count_curve(tok, "abc").tokens == (3, 2, 2, 2)
    assert [prefix_count(tok, "abc", s) for s in (256, 257, 258, 259)] == [3, 2, 2, 1]
    # inside a longer piece the shortcut does not apply and the two agree again
    assert token_count_curve(tok, "abcc", sizes=[259]).tokens == (prefix_count(tok, "abcc", 259),)


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
def test_curve_on_pretrained_gpt2_equals_prefix_encodes(gpt2_tokenizer: Tokenizer, cs336_dir) -> None:
    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")[:12_000]
    curve = token_count_curve(gpt2_tokenizer, text)
    sizes = sorted(random.Random(9).sample(curve.sizes, 4)) + [curve.sizes[-1]]
    assert [curve.at(s) for s in sizes] == [prefix_count(gpt2_tokenizer, text, s) for s in sizes]
    assert curve.at(curve.sizes[-1]) == len(gpt2_tokenizer.encode(text))


@settings(max_examples=30, deadline=None)
@given(
    corpus=st.text(alphabet="ab c\nd'é1🌍", min_size=1, max_size=200),
    probe=st.text(alphabet="ab c\nd'é1🌍xZ", max_size=80),
    pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]),
)
def test_curve_equals_prefix_encodes_on_random_text(corpus: str, probe: str, pattern: str) -> None:
    tok = train_bpe([corpus], vocab_size=300, pattern=pattern)
    curve = token_count_curve(tok, probe)
    assert list(curve.tokens) == [prefix_count(tok, probe, s) for s in curve.sizes]


def test_curve_of_empty_text() -> None:
    tok = train_bpe(["hello hello"], vocab_size=260)
    curve = token_count_curve(tok, "")
    assert set(curve.tokens) == {0} and set(curve.ratios) == {0.0}


def test_curve_rejects_bad_input() -> None:
    tok = train_bpe(["hello hello"], vocab_size=260)
    lo, hi = size_range(tok)
    with pytest.raises(ValueError, match=f"{lo}..{hi}"):
        token_count_curve(tok, "hi", sizes=[hi + 1])
    with pytest.raises(ValueError, match="integers"):
        token_count_curve(tok, "hi", sizes=[300.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="empty"):
        token_count_curve(tok, "hi", sizes=[])
    with pytest.raises(ValueError, match="str"):
        token_count_curve(tok, b"hi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baselines"):
        token_count_curve(ByteTokenizer(), "hi")  # type: ignore[arg-type]


def test_curve_rows_and_csv(trained: Tokenizer, split: tuple[str, str]) -> None:
    curve = token_count_curve(trained, split[1], sizes=[257, 1000, 2000])
    parsed = list(csv.DictReader(io.StringIO(curve.to_csv())))
    assert [int(r["vocab_size"]) for r in parsed] == list(curve.sizes)
    assert [int(r["tokens"]) for r in parsed] == list(curve.tokens)
    assert [float(r["bytes_per_token"]) for r in parsed] == list(curve.ratios)
    assert {r["series"] for r in parsed} == {trained.name}
    assert curve.ratios == tuple(curve.n_bytes / t for t in curve.tokens)
    assert len(curve.rows()) == 3


# -- split_holdout ---------------------------------------------------------------------------------------------
def test_split_holdout_cuts_at_a_line_boundary(pydoc_text: str) -> None:
    train, heldout = split_holdout(pydoc_text, fraction=0.1)
    assert train + heldout == pydoc_text
    assert train.endswith("\n")
    assert abs(len(heldout) - 0.1 * len(pydoc_text)) < 0.01 * len(pydoc_text)
    assert split_holdout(pydoc_text, fraction=0.1) == (train, heldout)
    train3, heldout3 = split_holdout(pydoc_text, fraction=0.3)
    assert len(heldout3) > len(heldout) and heldout3.endswith(heldout)


def test_split_holdout_falls_back_to_an_earlier_line_break() -> None:
    text = "first line\n" + "x" * 100  # no line break after the target position
    assert split_holdout(text, fraction=0.1) == ("first line\n", "x" * 100)


@pytest.mark.parametrize("text,fraction", [("no line breaks at all", 0.1), ("a\nb", 0.0), ("a\nb", 1.0),
                                           ("a\nb", True), ("only a trailing break\n", 0.5)])
def test_split_holdout_rejects_what_it_cannot_split(text: str, fraction: float) -> None:
    with pytest.raises(ValueError):
        split_holdout(text, fraction=fraction)


# -- comparisons ------------------------------------------------------------------------------------------------
def test_compression_curves_patterns_baselines_and_pretrained(split: tuple[str, str]) -> None:
    train, heldout = split
    runs = train_patterns([train[:60_000]], vocab_size=800)
    assert [t.name for t in runs] == ["bpe gpt2", "bpe gpt4", "bpe o200k"]
    pretrained = train_bpe([train[60_000:]], vocab_size=500, name="other corpus")
    cmp = compression_curves(heldout, runs, baselines=default_baselines(train), pretrained=[pretrained])
    assert [c.pattern for c in cmp.curves] == ["gpt2", "gpt4", "o200k"]
    for run, curve in zip(runs, cmp.curves):
        assert curve.tokens == token_count_curve(run, heldout).tokens
    by_label = {p.label: p for p in cmp.points}
    assert by_label["byte"].ratio == 1.0 and by_label["byte"].vocab_size == 256
    words = by_label["word"]
    assert words.vocab_size == WordTokenizer.from_corpus([train]).vocab_size
    assert words.ratio == compression_ratio(heldout, WordTokenizer.from_corpus([train]))
    assert by_label["character"].ratio == compression_ratio(heldout, CharacterTokenizer())
    other = by_label["other corpus"]
    assert other.kind == "pretrained" and other.tokens == len(pretrained.encode(heldout))
    rows = cmp.rows()
    assert len(rows) == sum(len(c.sizes) for c in cmp.curves) + 4
    parsed = list(csv.DictReader(io.StringIO(cmp.to_csv())))
    assert [r["series"] for r in parsed] == [r["series"] for r in rows]
    assert [int(r["tokens"]) for r in parsed] == [r["tokens"] for r in rows]


def test_compression_curves_clips_sizes_per_run_and_checks_names() -> None:
    small = train_bpe(["the cat sat on the mat " * 5], vocab_size=262, name="small")
    big = train_bpe(["the cat sat on the mat " * 5], vocab_size=266, name="big")
    cmp = compression_curves("the mat", [small, big], sizes=[256, 262, 266])
    assert [c.sizes for c in cmp.curves] == [(256, 262), (256, 262, 266)]
    with pytest.raises(ValueError, match="distinct name"):
        compression_curves("x", [small, small])
    with pytest.raises(ValueError, match="range"):
        compression_curves("x", [small], sizes=[300])
    with pytest.raises(ValueError, match="no 'encode'"):
        compression_curves("x", [small], baselines=[object()])


# -- token lengths ----------------------------------------------------------------------------------------------
def test_length_distribution_of_the_vocabulary(trained: Tokenizer) -> None:
    sizes = [257, 600, 2000]
    dist = length_distribution(trained, sizes)
    assert dist.kind == "vocabulary" and dist.sizes == tuple(sizes)
    specials = set(trained.special_ids.values())
    for s in sizes:
        sub = trained.prefix(s)
        expected = length_histogram(b for i, b in sub.vocab.items() if i not in specials)
        assert dist.histogram(s) == expected
        assert sum(dist.histogram(s).values()) == s - 1
        assert sum(dist.shares(s)) == pytest.approx(1.0)
    assert dist.histogram(257) == {1: 256}
    parsed = list(csv.DictReader(io.StringIO(dist.to_csv())))
    assert len(parsed) == len(sizes) * len(dist.lengths)
    assert sum(int(r["count"]) for r in parsed) == sum(s - 1 for s in sizes)


def test_length_distribution_weighted_by_usage(trained: Tokenizer, split: tuple[str, str]) -> None:
    text = split[1][:20_000] + EXTRA
    dist = length_distribution(trained, [400, 1500], text=text)
    assert dist.kind == "usage"
    for s in (400, 1500):
        sub = trained.prefix(s)
        ids = [i for i in encode_as_shown(sub, text) if i not in set(sub.special_ids.values())]
        assert dist.histogram(s) == length_histogram(sub.vocab[i] for i in ids)
        # lengths times counts cover every byte of the text outside special tokens
        assert sum(n * c for n, c in dist.histogram(s).items()) == len(text.encode()) - 2 * len(SPECIAL)
    with pytest.raises(ValueError, match="not in this distribution"):
        dist.histogram(999)


# -- side by side -----------------------------------------------------------------------------------------------
def test_changed_tokens_by_byte_span() -> None:
    prev = Encoding([1, 2, 3, 4], [b"a", b"b", b"c", b"d"], [(0, 1), (1, 2), (2, 3), (3, 4)],
                    [(0, 1), (1, 2), (2, 3), (3, 4)], [False] * 4)
    nxt = Encoding([5, 3, 4], [b"ab", b"c", b"d"], [(0, 2), (2, 3), (3, 4)], [(0, 2), (2, 3), (3, 4)], [False] * 3)
    assert changed_tokens(prev, nxt) == [True, False, False]
    assert changed_tokens(nxt, nxt) == [False] * 3
    shorter = Encoding([1], [b"a"], [(0, 1)], [(0, 1)], [False])
    with pytest.raises(ValueError, match="different texts"):
        changed_tokens(shorter, nxt)


def test_sizes_side_by_side(trained: Tokenizer, split: tuple[str, str]) -> None:
    text = split[1][:3000] + EXTRA
    views = sizes_side_by_side(trained, text, [2000, 256 + 1, 512, 1024])
    assert [v.vocab_size for v in views] == [257, 512, 1024, 2000]
    assert views[0].n_changed == 0
    for prev, view in zip(views, views[1:]):
        assert view.encoding.ids == encode_as_shown(trained.prefix(view.vocab_size), text)
        before = set(prev.encoding.byte_spans)
        starts = {s for s, _ in prev.encoding.byte_spans}
        for span, flag in zip(view.encoding.byte_spans, view.changed):
            assert flag == (span not in before)
            # a bigger vocabulary only joins tokens: every token starts where a smaller-size token started
            assert span[0] in starts
        # each changed token joins at least two tokens of the smaller size
        assert prev.n_tokens - view.n_tokens >= view.n_changed
        assert 0 < view.n_changed <= view.n_tokens
    rows = side_by_side_rows(views)
    assert len(rows) == sum(v.n_tokens for v in views)
    assert sum(r["changed"] for r in rows) == sum(v.n_changed for v in views)


def test_log_spaced_sizes() -> None:
    sizes = log_spaced_sizes(257, 50257, n=100)
    assert sizes[0] == 257 and sizes[-1] == 50257
    assert list(sizes) == sorted(set(sizes)) and 90 <= len(sizes) <= 100
    assert log_spaced_sizes(300, 300) == (300,)
    for bad in [(0, 10, 5), (10, 5, 5), (256, 512, 1), (256.0, 512, 5)]:
        with pytest.raises(ValueError):
            log_spaced_sizes(bad[0], bad[1], n=bad[2])  # type: ignore[arg-type]
