"""tokviz.analysis.rank_prefix: a rank file's first k ranks encode as tiktoken does with its ranks cut at k, and the
one-pass curve counts what those tokenizers give at every size."""

from __future__ import annotations

import pydoc_data.topics
import random

import pytest

from tokviz import Tokenizer
from tokviz.analysis.rank_prefix import LONG_PIECE, prefix_curve, prefix_encode, prefix_range, rank_steps, rank_table
from tokviz.formats.pretrained import load_encoding

tiktoken = pytest.importorskip("tiktoken")

# Prose, code, numbers, emoji, CJK, a special token's text, and pieces longer than LONG_PIECE (runs of spaces and of
# one letter), which take the per-size path.
TEXT = (pydoc_data.topics.topics["assignment"][:6000] + "\nHéllo wörld 🌍 👩‍💻 🇯🇵 你好世界 1234567890 $3.50\r\n"
        + " " * (LONG_PIECE + 300) + "x" * (LONG_PIECE * 2) + "\n\n\n\tdef f(x):\n        return x ** 2\n")


def _reference(tok: Tokenizer, k: int):
    """tiktoken given the rank file cut at k (no special tokens)."""
    return tiktoken.Encoding(f"{tok.name}-first-{k}", pat_str=tok.pretokenizer.source,
                             mergeable_ranks={b: r for b, r in rank_table(tok).items() if r < k},
                             special_tokens={})


@pytest.fixture(scope="module", params=["gpt2", "cl100k_base", "o200k_base"])
def openai(request) -> Tokenizer:
    return load_encoding(request.param)


@pytest.mark.slow  # 1.7 s measured: the full run has it, the quick loop does not
def test_openai_rank_files_cut_at_k_equal_tiktoken(openai: Tokenizer) -> None:
    lo, hi = prefix_range(openai)
    assert lo == 256 and hi == max(rank_table(openai).values()) + 1
    sizes = (256, 257, 300, 1000, 4096, 30_000, hi)
    curve = prefix_curve(openai, TEXT, sizes=sizes)
    assert curve.sizes == sizes
    for k, n in zip(sizes, curve.tokens):
        want = _reference(openai, k).encode_ordinary(TEXT)
        assert prefix_encode(openai, TEXT, size=k) == want, k
        assert n == len(want), k
    # the full size is the tokenizer itself
    assert curve.tokens[-1] == len(openai.encode_ordinary(TEXT))
    assert len(set(curve.tokens)) == len(sizes)  # every one of these sizes cuts this text differently


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_the_default_curve_is_log_spaced_over_the_whole_range_and_never_rises(openai: Tokenizer) -> None:
    curve = prefix_curve(openai, TEXT[:3000], n_points=40)
    lo, hi = prefix_range(openai)
    assert curve.sizes[0] == lo and curve.sizes[-1] == hi and 30 <= len(curve.sizes) <= 40
    assert all(a >= b for a, b in zip(curve.tokens, curve.tokens[1:]))
    assert curve.tokens[0] == len(TEXT[:3000].encode("utf-8"))  # 256 ranks: every byte a token
    assert curve.label == openai.name and curve.pattern == openai.pretokenizer.label


@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("seed", range(12))
def test_random_rank_tables_at_every_size_equal_tiktoken(seed: int) -> None:
    """Tokens in random order, many of them not buildable by merges (the whole-piece shortcut), so the rank rule's
    paths are not monotone: the curve still counts what tiktoken gives at every k."""
    rng = random.Random(seed)
    alphabet = [b"a", b"b", b" ", b"c"]
    extra: list[bytes] = []
    while len(extra) < 40:
        t = b"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
        if t not in extra:
            extra.append(t)
    vocab = {i: bytes([i]) for i in range(256)} | {256 + i: t for i, t in enumerate(extra)}
    tok = Tokenizer(vocab, [], pattern="gpt2", name=f"random-{seed}", rule="ranks")
    text = "".join(rng.choice(["a", "b", " ", "c", "ab", "ba ", "abc"]) for _ in range(300))
    curve = prefix_curve(tok, text, sizes=range(256, 297))
    for k, n in zip(curve.sizes, curve.tokens):
        want = _reference(tok, k).encode_ordinary(text)
        assert prefix_encode(tok, text, size=k) == want, (seed, k)
        assert n == len(want), (seed, k)


def test_special_tokens_count_one_at_every_size() -> None:
    tok = load_encoding("gpt2")
    text = "hello<|endoftext|>hello"
    curve = prefix_curve(tok, text, sizes=[256, 50256])
    assert curve.tokens == (11, 3)
    hello = [rank_table(tok)[bytes([c])] for c in b"hello"]
    assert prefix_encode(tok, text, size=256) == [*hello, 50256, *hello]
    assert prefix_encode(tok, text, size=50256) == tok.encode(text, allowed_special="all")


def test_rank_steps_keep_the_running_maximum() -> None:
    ranks = {bytes([i]): i for i in range(256)} | {b"bc": 300, b"ab": 400, b"abc": 350}
    # bc (300) first, then a+bc = abc (350): the path's ranks rise
    assert rank_steps(b"abc", ranks) == [300, 350]
    ranks = {bytes([i]): i for i in range(256)} | {b"bc": 400, b"abc": 300}
    assert rank_steps(b"abc", ranks) == [400, 400]  # abc (300) only once bc (400) exists


@pytest.mark.parametrize(("bad", "message"), [(255, "from 256"), (10**6, "to 50,256"), ("300", "integer")])
def test_sizes_out_of_range_say_the_range(bad: object, message: str) -> None:
    tok = load_encoding("gpt2")
    with pytest.raises(ValueError, match=message):
        prefix_encode(tok, "hi", size=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        prefix_curve(tok, "hi", sizes=[bad])  # type: ignore[list-item]


def test_a_merge_list_tokenizer_is_refused_with_where_to_go() -> None:
    tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab"}, [(b"a", b"b")])
    with pytest.raises(ValueError, match="token_count_curve"):
        prefix_curve(tok, "ab")
