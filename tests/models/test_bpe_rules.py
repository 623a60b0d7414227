"""BPE inside one piece: the heap algorithms equal the plain list algorithms they replace, on any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, train_bpe
from tokviz.models import bpe_rules as piece_bpe
from tokviz.models.bpe_rules import NO_RANK, merge_by_pairs, split_by_ranks


def reference_merge_path(ids: list[int], ranks: dict[tuple[int, int], int], merged: list[int],
                         limit: int = NO_RANK) -> tuple[list[int], list[int]]:
    """The encoder's former algorithm (quadratic): lowest rank first, leftmost on ties."""
    ids = list(ids)
    steps: list[int] = []
    while len(ids) > 1:
        pr = [ranks.get(p, NO_RANK) for p in zip(ids, ids[1:], strict=False)]
        r = min(pr)
        if r >= limit:
            break
        i = pr.index(r)
        ids[i : i + 2] = [merged[r]]
        steps.append(r)
    return ids, steps


def reference_split_by_ranks(piece: bytes, ranks: dict[bytes, int], limit: int = NO_RANK) -> list[bytes]:
    """tiktoken's rule written plainly: merge the adjacent pair whose concatenation ranks lowest, leftmost on ties."""
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        pr = [ranks.get(a + b, NO_RANK) for a, b in zip(parts, parts[1:], strict=False)]
        r = min(pr)
        if r >= limit:
            break
        i = pr.index(r)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    return parts


ALPHABET = b"abc"


@st.composite
def merge_tables(draw: st.DrawFn) -> tuple[list[bytes], dict[tuple[int, int], int], list[int]]:
    """Random merge lists over a tiny alphabet (so pieces hit many merges), duplicates of a result allowed."""
    tokens = [bytes([c]) for c in ALPHABET]
    ranks: dict[tuple[int, int], int] = {}
    merged: list[int] = []
    for _ in range(draw(st.integers(0, 40))):
        a = draw(st.integers(0, len(tokens) - 1))
        b = draw(st.integers(0, len(tokens) - 1))
        if (a, b) in ranks:
            continue
        ranks[(a, b)] = len(merged)
        merged.append(len(tokens))
        tokens.append(tokens[a] + tokens[b])
    return tokens, ranks, merged


PIECES = st.one_of(
    st.binary(max_size=400).map(lambda b: bytes(ALPHABET[x % 3] for x in b)),
    st.tuples(st.sampled_from([b"a", b"ab", b"abc", b"aab"]), st.integers(1, 300)).map(lambda t: t[0] * t[1]),
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(table=merge_tables(), piece=PIECES, limit=st.one_of(st.just(NO_RANK), st.integers(0, 45)))
def test_merge_by_pairs_equals_the_list_algorithm(table, piece: bytes, limit: int) -> None:
    _tokens, ranks, merged = table
    ids = [ALPHABET.index(c) for c in piece]
    expected = reference_merge_path(ids, ranks, merged, limit)
    assert merge_by_pairs(list(ids), ranks, merged, limit=limit) == expected
    # both algorithms on every length, whichever one the length threshold would pick
    assert piece_bpe._pairs_heap(list(ids), ranks, merged, limit) == expected
    assert piece_bpe._pairs_short(list(ids), ranks, merged, limit) == expected


@settings(max_examples=400, deadline=None)
@given(table=merge_tables(), piece=PIECES, limit=st.one_of(st.just(NO_RANK), st.integers(0, 45)),
       shuffle=st.randoms(use_true_random=False))
@pytest.mark.slow
def test_split_by_ranks_equals_the_plain_rule(table, piece: bytes, limit: int, shuffle) -> None:
    tokens, _, _ = table
    distinct = list(dict.fromkeys(tokens))
    order = list(range(3, len(distinct)))
    shuffle.shuffle(order)  # ranks need not follow any merge order: the rule only looks at concatenations
    ranks = {t: r for r, t in enumerate(distinct[:3])} | {distinct[i]: 3 + k for k, i in enumerate(order)}
    expected = reference_split_by_ranks(piece, ranks, limit)
    for bounds in (split_by_ranks(piece, ranks, limit=limit), piece_bpe._ranks_heap(piece, ranks, limit),
                   piece_bpe._ranks_short(piece, ranks, limit)):
        assert bounds[0] == 0 and bounds[-1] == len(piece)
        assert [piece[a:b] for a, b in zip(bounds, bounds[1:], strict=False)] == expected


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.sampled_from("ab c\u00e9\U0001f643"), min_size=1, max_size=200),
       piece=st.text(st.sampled_from("abc\u00e9\U0001f643"), max_size=200))
def test_tokenizer_merge_path_equals_the_list_algorithm(text: str, piece: str) -> None:
    tok = train_bpe([text * 3], vocab_size=300)
    raw = piece.encode("utf-8")
    ids = [tok.token_to_id(bytes([b])) for b in raw]
    ranks = {(tok.token_to_id(a), tok.token_to_id(b)): r for r, (a, b) in enumerate(tok.merges)}
    merged = [tok.token_to_id(a + b) for a, b in tok.merges]
    for n in (None, len(tok.merges) // 2):
        expected = reference_merge_path(ids, ranks, merged, NO_RANK if n is None else n)  # type: ignore[arg-type]
        assert tok.merge_path(raw, n_merges=n) == expected


def test_a_long_run_is_not_quadratic_in_steps() -> None:
    # Not a timing test: a 100k-byte run needs ~100k merges; the result is checked against its closed form.
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"xx", 257: b"xxxx"}
    tok = Tokenizer(vocab, [(b"x", b"x"), (b"xx", b"xx")])
    ids, steps = tok.merge_path(b"x" * 100_001)
    assert ids == [257] * 25_000 + [120]
    assert steps == [0] * 50_000 + [1] * 25_000


# DENSE_ROUND 0: never a bulk round (the incremental loop alone); 10**9: every round in bulk while it can be.
@pytest.mark.slow
@pytest.mark.parametrize("dense", [0, piece_bpe.DENSE_ROUND, 10**9])
@settings(max_examples=150, deadline=None)
@given(table=merge_tables(), piece=PIECES, shuffle=st.randoms(use_true_random=False))
def test_bulk_rounds_equal_the_plain_rules(dense: int, table, piece: bytes, shuffle) -> None:
    tokens, ranks, merged = table
    ids = [ALPHABET.index(c) for c in piece]
    distinct = list(dict.fromkeys(tokens))
    order = list(range(3, len(distinct)))
    shuffle.shuffle(order)
    by_rank = {t: r for r, t in enumerate(distinct[:3])} | {distinct[i]: 3 + k for k, i in enumerate(order)}
    saved = piece_bpe.DENSE_ROUND
    piece_bpe.DENSE_ROUND = dense
    try:
        expected_ids, expected_steps = reference_merge_path(ids, ranks, merged)
        assert piece_bpe._pairs_heap(list(ids), ranks, merged, NO_RANK) == (expected_ids, expected_steps)
        assert piece_bpe.encode_pairs(list(ids), ranks, merged) == expected_ids
        expected = reference_split_by_ranks(piece, by_rank)
        bounds = piece_bpe._ranks_heap(piece, by_rank, NO_RANK)
        assert [piece[a:b] for a, b in zip(bounds, bounds[1:], strict=False)] == expected
        assert piece_bpe.encode_ranks(piece, by_rank) == expected
    finally:
        piece_bpe.DENSE_ROUND = saved


@pytest.mark.parametrize("dense", [0, 10**9])
@pytest.mark.parametrize("piece", [b"aabaa" * 10, b"aabaac" * 10])  # with runs of "a" (overlaps), and without
def test_a_bulk_round_stops_where_a_merge_makes_a_better_pair(dense: int, piece: bytes) -> None:
    # "aa" merges everywhere at once only if no merge of the round makes a better pair; here "aa" + "b" is "aab",
    # which ranks better, so after the first "aa" the rule takes "aab", then "aaba", before any other "aa".
    ranks = {b"a": 0, b"b": 1, b"c": 2, b"aab": 3, b"aaba": 4, b"aa": 5}
    saved = piece_bpe.DENSE_ROUND
    piece_bpe.DENSE_ROUND = dense
    try:
        tokens = piece_bpe.encode_ranks(piece, ranks)
    finally:
        piece_bpe.DENSE_ROUND = saved
    assert tokens == reference_split_by_ranks(piece, ranks)
    assert tokens[0] == b"aaba"  # "aa" everywhere at once would have begun with "aab", "aa"


@pytest.mark.parametrize("dense", [0, 10**9])
def test_a_run_merges_in_rounds_as_one_merge_at_a_time_would(dense: int) -> None:
    # The closed form of a run: "x" * 100_001 with "xx" and "xxxx" is 25,000 "xxxx" and one "x" (odd lengths and
    # the three-in-a-row overlaps are where a round must take every other pair).
    ranks = {b"x": 0, b"xx": 1, b"xxx": 3, b"xxxx": 2}
    saved = piece_bpe.DENSE_ROUND
    piece_bpe.DENSE_ROUND = dense
    try:
        tokens = piece_bpe.encode_ranks(b"x" * 100_001, ranks)
        ids, steps = piece_bpe._pairs_heap([0] * 100_001, {(0, 0): 0, (1, 1): 1}, [1, 2], NO_RANK)
    finally:
        piece_bpe.DENSE_ROUND = saved
    assert tokens == [b"xxxx"] * 25_000 + [b"x"]
    assert ids == [2] * 25_000 + [0]
    assert steps == [0] * 50_000 + [1] * 25_000
