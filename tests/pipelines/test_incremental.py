"""Segmented encoding: the joined segments equal encoding the whole text for every tokenizer family, an edit
re-encodes only the segments it touches, and the page slices give back the whole encoding."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import pytest
from helpers import HF_TRAIN_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.core.encoding import Encoding
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.pipelines.incremental import (
    DEFAULT_TARGET,
    SegmentCache,
    SegmentedIds,
    find_anchors,
    join_encodings,
    segment_cuts,
    segment_spans,
    shift_encoding,
    slice_segments,
)
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

SPECIAL = "<|endoftext|>"
# Pieces of text chosen to meet every rule the cuts rely on: spaces after letters, digits, punctuation, apostrophes
# and special tokens; runs of spaces; whitespace that only one of `re`, `regex` and str.isspace() calls whitespace;
# newlines (GPT-4's \s*[\r\n] and \s++$); multi-byte characters; special tokens whole and in parts; a special token
# with a space inside.
FRAGMENTS = [
    "a", "word", "The", " ", " ", " ", "  ", "\n", "\r\n", "\t", "'s", "'ll", "123", "4567", ".", ",", "!?", "é",
    "naïve", "你好", "🌍", "👍🏽", "\xa0", "\u3000", "\x1c", "\x85", "\u2028", "\u200b", SPECIAL, "<|endof", "text|>",
    "<|a b|>", "<|", "|>", "x y",
]
TEXTS = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
# Lone and paired surrogates, which our BPE repairs to U+FFFD as tiktoken does (the baselines cannot encode them).
TEXTS_WITH_SURROGATES = st.lists(st.sampled_from([*FRAGMENTS, "\ud83d", "\ude43", "\ud83d\ude43"]),
                                 max_size=60).map("".join)
# Targets from "every safe space is a cut" (1) to a few cuts per text.
TARGETS = st.sampled_from([1, 8, 16, 64])


# -- the segmented encoding the pages build, spelled out for the tests (the pages go through viewmodels.paging) --
def encode_segments(tok: TokenizerLike, text: str, *, key: Hashable, cache: SegmentCache,
                    anchors: Sequence[int] | None = None, target: int = DEFAULT_TARGET) -> SegmentedIds:
    """``tok``'s ids of ``text`` by segment, each segment looked up in ``cache`` first.

    >>> from tokviz.models.baselines import WordTokenizer
    >>> w, text = WordTokenizer.from_corpus(["a b c"]), "a b c d " * 30
    >>> seg = encode_segments(w, text, key="w", cache=SegmentCache(), target=16)
    >>> seg.ids == w.encode(text), len(seg.spans) > 1
    (True, True)
    """
    spans = segment_spans(tok, text, anchors=anchors, target=target)
    return SegmentedIds(text, spans, [cache.ids(tok, key, text[s:e]) for s, e in spans])


def tokens_before(seg: SegmentedIds, pos: int, *, tok: TokenizerLike, key: Hashable, cache: SegmentCache) -> int:
    """How many tokens start before character ``pos`` (a token cut by ``pos`` counts on the side it starts on).

    At a segment boundary this is a sum of counts; inside a segment, that segment's offsets are looked at.
    """
    if pos <= 0 or not seg.spans:
        return 0
    if pos >= len(seg.text):
        return seg.n_tokens
    starts = [s for s, _ in seg.spans]
    k = bisect_right(starts, pos) - 1
    before = sum(len(seg.ids_by_segment[j]) for j in range(k))
    s, e = seg.spans[k]
    if pos == s:
        return before
    enc = cache.encoding(tok, key, seg.text[s:e])
    return before + bisect_left([a for a, _ in enc.char_spans], pos - s)


def encoding_between(seg: SegmentedIds, start: int, end: int, *, tok: TokenizerLike, key: Hashable,
                     cache: SegmentCache) -> tuple[int, Encoding]:
    """The tokens that start in characters ``[start, end)``, as ``(index of the first, encoding)``.

    The encoding's character spans (and pieces) are relative to ``start``; its byte spans to the first token's
    first byte. A token that starts before ``end`` may reach past it (where ``end`` is not a cut for ``tok``).
    """
    k, lo, page = slice_segments(seg.text, seg.spans, start, end, tok=tok, key=key, cache=cache)
    return sum(len(ids) for ids in seg.ids_by_segment[:k]) + lo, page


def _bpe(pattern: str, **kw: object) -> Tokenizer:
    return train_bpe([HF_TRAIN_TEXT], vocab_size=420, pattern=pattern, special_tokens=[SPECIAL, "<|a b|>"],
                     **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ours() -> dict[str, TokenizerLike]:
    """Our BPE under each named pattern and custom patterns (one streaming can verify, one it cannot), the
    prefix-space variant, and the baselines."""
    gpt2 = _bpe("gpt2")
    return {
        "bpe-gpt2": gpt2,
        "bpe-gpt4": _bpe("gpt4"),
        "bpe-o200k": _bpe("o200k"),
        "bpe-custom": _bpe(r"\w+|\s+|[^\w\s]+"),
        "bpe-lookahead": _bpe(r"\w+(?=\s)|\w+| ?[^\w\s]+|\s+"),
        "bpe-prefix-space": PrefixSpaceTokenizer(gpt2.vocab, gpt2.merges, gpt2.special_tokens, gpt2.pattern),
        "prefix-space-custom": PrefixSpaceTokenizer(gpt2.vocab, gpt2.merges, gpt2.special_tokens,
                                                    r"\w+|\s+|[^\w\s]+"),
        "byte": ByteTokenizer(),
        "character": CharacterTokenizer(),
        "word": WordTokenizer.from_corpus([HF_TRAIN_TEXT]),
    }


def _fields(enc: Encoding) -> tuple[object, ...]:
    return (enc.ids, enc.tokens, enc.byte_spans, enc.char_spans, enc.partial, enc.pieces, enc.special)


def _check_exact(tok: TokenizerLike, text: str, target: int) -> None:
    spans = segment_spans(tok, text, target=target)
    assert [s for s, _ in spans[1:]] == [e for _, e in spans[:-1]]
    if text:
        assert spans[0][0] == 0 and spans[-1][1] == len(text)
    cache = SegmentCache()
    seg = encode_segments(tok, text, key="k", cache=cache, target=target)
    assert seg.ids == encode_as_shown(tok, text)
    joined = join_encodings((s, tok.encode_with_offsets(text[s:e])) for s, e in spans)
    assert _fields(joined) == _fields(tok.encode_with_offsets(text))


def _edit(text: str, data: st.DataObject) -> str:
    """One character inserted, deleted or replaced."""
    pos = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    ch = data.draw(st.sampled_from(list("a Z1 .\n'é<|>") + ["🌍", "\xa0"]))
    if kind == "insert" or not text:
        return text[:pos] + ch + text[pos:]
    pos = min(pos, len(text) - 1)
    return text[:pos] + ("" if kind == "delete" else ch) + text[pos + 1:]


NAMES = ["bpe-gpt2", "bpe-gpt4", "bpe-o200k", "bpe-custom", "bpe-lookahead", "bpe-prefix-space",
         "prefix-space-custom", "byte", "character", "word"]


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, target=TARGETS)
def test_joined_segments_equal_the_whole_text(ours: dict[str, TokenizerLike], name: str, text: str,
                                              target: int) -> None:
    _check_exact(ours[name], text, target)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith(("bpe", "prefix"))])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS_WITH_SURROGATES, target=TARGETS)
def test_surrogates_are_repaired_as_in_one_pass(ours: dict[str, TokenizerLike], name: str, text: str,
                                                target: int) -> None:
    _check_exact(ours[name], text, target)


# Families whose cuts are chosen by content alone (not found from the previous cut, as for custom patterns).
LOCAL = ["bpe-gpt2", "bpe-gpt4", "bpe-o200k", "bpe-prefix-space", "byte", "character", "word"]


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", LOCAL + ["bpe-custom", "bpe-lookahead"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, data=st.data(), target=TARGETS)
def test_an_edit_reencodes_only_the_segments_it_touches(ours: dict[str, TokenizerLike], name: str, text: str,
                                                        data: st.DataObject, target: int) -> None:
    tok = ours[name]
    cache = SegmentCache()
    before = encode_segments(tok, text, key="k", cache=cache, target=target)
    edited = _edit(text, data)
    misses = cache.misses["ids"]
    after = encode_segments(tok, edited, key="k", cache=cache, target=target)
    assert after.ids == encode_as_shown(tok, edited)
    if name in LOCAL:
        # One word changes (two when a space is inserted or deleted): only the cuts at their ends can move.
        assert cache.misses["ids"] - misses <= 3, (before.spans, after.spans)
        new = {edited[s:e] for s, e in after.spans} - {text[s:e] for s, e in before.spans}
        assert len(new) <= 3


def _prose(n: int) -> str:
    from pydoc_data.topics import topics

    return "".join(topics[k] for k in sorted(topics))[:n]


def test_a_long_text_is_cut_by_content_and_one_edit_costs_one_segment(ours: dict[str, TokenizerLike]) -> None:
    text = _prose(60_000)
    tok = ours["bpe-gpt2"]
    cache = SegmentCache()
    seg = encode_segments(tok, text, key="k", cache=cache)
    assert 10 < len(seg.spans) < 120  # about DEFAULT_TARGET characters each
    assert seg.ids == encode_as_shown(tok, text)
    misses = cache.misses["ids"]
    edited = text[:30_000] + "Q" + text[30_000:]
    after = encode_segments(tok, edited, key="k", cache=cache)
    assert after.ids == encode_as_shown(tok, edited)
    assert 1 <= cache.misses["ids"] - misses <= 2
    # Segments after the edit are the same texts one character later.
    k = next(i for i, (s, _) in enumerate(after.spans) if s > 30_001)
    assert after.spans[k:] == [(s + 1, e + 1) for s, e in seg.spans if s > 30_000]


def test_a_repeating_text_is_cut_too(ours: dict[str, TokenizerLike]) -> None:
    text = "hello world " * 5000
    tok = ours["bpe-gpt4"]
    cache = SegmentCache()
    seg = encode_segments(tok, text, key="k", cache=cache)
    assert len(seg.spans) > 5 and seg.ids == encode_as_shown(tok, text)
    misses = cache.misses["ids"]
    edited = text[:100] + "x" + text[100:]
    assert encode_segments(tok, edited, key="k", cache=cache).ids == encode_as_shown(tok, edited)
    assert cache.misses["ids"] - misses <= 3


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, data=st.data(), target=TARGETS)
def test_pages_give_back_the_whole_encoding(ours: dict[str, TokenizerLike], name: str, text: str,
                                            data: st.DataObject, target: int) -> None:
    tok = ours[name]
    cache = SegmentCache()
    seg = encode_segments(tok, text, key="k", cache=cache, target=target)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=5)) if len(text) > 1 else set())
    bounds = [0, *cuts, len(text)]
    whole = tok.encode_with_offsets(text)
    ids: list[int] = []
    spans: list[tuple[int, int]] = []
    for a, b in zip(bounds, bounds[1:]):
        first, page = encoding_between(seg, a, b, tok=tok, key="k", cache=cache)
        assert first == len(ids) == tokens_before(seg, a, tok=tok, key="k", cache=cache)
        assert all(0 <= s < b - a or s == e == b - a for s, e in page.char_spans) or not page.ids
        ids += page.ids
        spans += [(s + a, e + a) for s, e in page.char_spans]
    assert ids == whole.ids and spans == whole.char_spans


def test_anchors_are_chosen_by_content() -> None:
    text = " ".join(f"w{i}" for i in range(5000))
    anchors = find_anchors(text, target=256)
    assert 20 < len(anchors) < 400
    assert find_anchors("abc " + text, target=256) == [a + 4 for a in anchors]
    assert find_anchors("", target=8) == [] and find_anchors("x" * 1000, target=8) == []
    with pytest.raises(ValueError, match="target"):
        find_anchors(text, target=0)


def test_cuts_avoid_special_tokens_and_respect_the_prefix_space(ours: dict[str, TokenizerLike]) -> None:
    text = "a <|a b|> b c"
    anchors = [1, 4, 9, 11]
    assert segment_cuts(ours["bpe-gpt2"], text, anchors=anchors) == [1, 9, 11]
    assert segment_cuts(ours["byte"], text, anchors=anchors) == anchors
    # The lookahead pattern cannot be cut except at a special token's start.
    assert segment_cuts(ours["bpe-lookahead"], text, anchors=anchors) == [2]


def test_the_prefix_space_variant_is_cut_only_before_a_space(ours: dict[str, TokenizerLike]) -> None:
    text = "ab.cd" + " ef" * 10
    plain, prefixed = ours["bpe-custom"], ours["prefix-space-custom"]
    # A proven cut of the pattern after "ab": fine for our BPE, but the prefix-space variant would put a space
    # before ".cd" there.
    assert segment_cuts(plain, text, anchors=[2]) == [2]
    assert segment_cuts(prefixed, text, anchors=[2]) == []
    assert prefixed.encode(text[:2]) + prefixed.encode(text[2:]) != prefixed.encode(text)
    assert segment_cuts(prefixed, text, anchors=[5, 8]) == [5, 8]


def test_families_that_cannot_be_bounded_are_encoded_whole(tmp_path: Path) -> None:
    from helpers import train_hf_json
    from tokenizers import normalizers

    # With a normalizer, a tokenizer.json is run as its own pipeline (plain byte-level BPE becomes our Tokenizer).
    tok = load_tokenizer(train_hf_json(tmp_path / "t.json", normalizer=normalizers.NFKC()))
    assert not isinstance(tok, Tokenizer)
    text = "hello world " * 100
    assert segment_spans(tok, text, target=8) == [(0, len(text))]
    seg = encode_segments(tok, text, key="hf", cache=SegmentCache(), target=8)
    assert seg.ids == encode_as_shown(tok, text)


def test_shift_and_join_move_spans_by_characters_and_bytes() -> None:
    b = ByteTokenizer()
    enc = shift_encoding(b.encode_with_offsets("é!"), chars=2, bytes_=3)
    assert enc.char_spans == [(2, 3), (2, 3), (3, 4)] and enc.byte_spans == [(3, 4), (4, 5), (5, 6)]
    assert [(p.start, p.end) for p in enc.pieces] == [(2, 3), (3, 4)]
    assert join_encodings([]).ids == []


def test_the_cache_is_bounded_and_keyed_by_tokenizer() -> None:
    cache = SegmentCache(max_chars=10, max_offset_chars=3)
    b, c = ByteTokenizer(), CharacterTokenizer()
    assert cache.ids(b, "b", "é") == [195, 169] and cache.ids(c, "c", "é") == [233]
    for word in ("hello", "world", "again"):
        cache.ids(b, "b", word)
    assert cache.misses["ids"] == 5 and len(cache) <= 3
    cache.ids(b, "b", "again")
    assert cache.misses["ids"] == 5
    cache.encoding(b, "b", "toolong")  # longer than the bound: returned, never held
    assert cache.misses["offsets"] == 1 and cache.encoding(b, "b", "toolong").ids == list(b"toolong")
    assert cache.misses["offsets"] == 2
    with pytest.raises(ValueError, match="bounds"):
        SegmentCache(max_chars=-1)


# -- the tokenizers of the menu read from real files (slow: reading GPT-4o's ranks takes seconds) ---------------


@pytest.fixture(scope="module")
def real() -> dict[str, Callable[[], TokenizerLike]]:
    from tokviz.formats.pretrained import load_encoding

    return {n: load_encoding(n) for n in ("gpt2", "cl100k_base", "o200k_base")}  # type: ignore[misc]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gpt2", "cl100k_base", "o200k_base"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS_WITH_SURROGATES, data=st.data(), target=TARGETS)
def test_openai_encodings_segment_exactly(real: dict[str, TokenizerLike], name: str, text: str,
                                         data: st.DataObject, target: int) -> None:
    tok = real[name]
    _check_exact(tok, text, target)
    cache = SegmentCache()
    encode_segments(tok, text, key=name, cache=cache, target=target)
    edited = _edit(text, data)
    assert encode_segments(tok, edited, key=name, cache=cache, target=target).ids == encode_as_shown(tok, edited)


@pytest.mark.slow
def test_openai_encodings_on_a_long_text_equal_tiktoken(real: dict[str, TokenizerLike], pretrained_dir: Path) -> None:
    pytest.importorskip("tiktoken")
    import tiktoken
    import tiktoken.load

    files = {"gpt2": "r50k_base", "cl100k_base": "cl100k_base", "o200k_base": "o200k_base"}

    text = _prose(80_000) + SPECIAL + HF_TRAIN_TEXT
    for name, tok in real.items():
        assert isinstance(tok, Tokenizer)
        ref = tiktoken.Encoding(name=f"{name}-local", pat_str=tok.pretokenizer.source,
                                mergeable_ranks=tiktoken.load.load_tiktoken_bpe(
                                    str(pretrained_dir / f"{files[name]}.tiktoken")),
                                special_tokens=tok.special_ids)
        seg = encode_segments(tok, text, key=name, cache=SegmentCache())
        assert len(seg.spans) > 10
        assert seg.ids == ref.encode(text, allowed_special="all")


@pytest.mark.slow
@pytest.mark.parametrize("family", ["wordpiece", "unigram", "bpe-sp", "byte-level", "nfkc-pipeline"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, data=st.data(), target=TARGETS)
def test_other_families_equal_their_whole_encoding(tmp_path_factory: pytest.TempPathFactory, family: str,
                                                   text: str, data: st.DataObject, target: int) -> None:
    tok = _family(tmp_path_factory, family)
    _check_exact(tok, text, target)
    cache = SegmentCache()
    encode_segments(tok, text, key=family, cache=cache, target=target)
    edited = _edit(text, data)
    assert encode_segments(tok, edited, key=family, cache=cache, target=target).ids == encode_as_shown(tok, edited)


_FAMILIES: dict[str, TokenizerLike] = {}


def _family(factory: pytest.TempPathFactory, family: str) -> TokenizerLike:
    from helpers import train_family_json, train_hf_json
    from tokenizers import normalizers

    if family not in _FAMILIES:
        d = factory.mktemp(family)
        if family == "byte-level":
            path = train_hf_json(d / "t.json")
        elif family == "nfkc-pipeline":
            path = train_hf_json(d / "t.json", normalizer=normalizers.NFKC())
        else:
            path = train_family_json(d / "t.json", family)
        _FAMILIES[family] = load_tokenizer(path)
    return _FAMILIES[family]
