"""Token anatomy and the encode trace: trees that rebuild their token, traces whose ids are the encoder's own."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, train_bpe
from tokviz.analysis.anatomy import anatomy, bpe_model, merge_index, occurrences, trace, trace_text
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer

BYTES = {i: bytes([i]) for i in range(256)}
TEXT = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["Hello, world! 12345 don't", "  \n\n  x", "日本語のテキスト", "🌍👍🏽 naïve café", "aaaaaaaaaaaaaaaaaaaa"]
)


@pytest.fixture(scope="module")
def cl100k() -> Tokenizer:
    return load_tokenizer("cl100k_base")


@pytest.fixture(scope="module")
def trained() -> Tokenizer:
    corpus = ["the cat sat on the mat. the hat is flat; that cat chats. " * 20, "a a a aa aaa aaaa " * 10]
    return train_bpe(corpus, vocab_size=330, special_tokens=["<|endoftext|>"], pattern="gpt4")


def _pieces(tok: Tokenizer, text: str) -> list[str]:
    return [p.text for p in tok.encode_with_offsets(text).pieces]


def _check_trace(tok: Tokenizer, text: str) -> None:
    for piece in _pieces(tok, text):
        t = trace(tok, piece)
        assert list(t.ids) == tok.encode(piece), piece
        # The steps chain: each starts where the last ended, and they end in the merges' result.
        current = t.start
        for step in t.steps:
            assert step.before == current
            assert step.chosen == step.candidates[0]
            assert all(c.rank >= step.chosen.rank for c in step.candidates)
            current = step.after
        assert current == t.bpe_ids
        assert b"".join(t.tokens) == t.piece_bytes


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_trace_gives_the_encoders_ids_on_gpt2(gpt2_tokenizer: Tokenizer, text: str) -> None:
    _check_trace(gpt2_tokenizer, text)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_trace_gives_the_encoders_ids_on_cl100k(cl100k: Tokenizer, text: str) -> None:
    assert cl100k.rule == "ranks"
    _check_trace(cl100k, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_trace_gives_the_encoders_ids_on_a_trained_tokenizer(trained: Tokenizer, text: str) -> None:
    _check_trace(trained, text)


def test_trace_by_hand() -> None:
    # merges: 0 (a, b) -> 256 "ab"; 1 (ab, c) -> 257 "abc"; on "abcab" the candidates at step 0 are
    # (a,b)@0 rank 0, (b,c)@1 none, (c,a)@2 none, (a,b)@3 rank 0: two occurrences of rank 0, leftmost (0) wins.
    # step 1: [ab, c, a, b]: (ab,c)@0 rank 1, (a,b)@2 rank 0 -> rank 0 at position 2.
    # step 2: [ab, c, ab]: (ab,c)@0 rank 1 -> 257. Left: [abc, ab], no merge (abc, ab).
    tok = Tokenizer(BYTES | {256: b"ab", 257: b"abc"}, [(b"a", b"b"), (b"ab", b"c")])
    t = trace(tok, "abcab")
    assert [(s.chosen.position, s.chosen.rank, s.n_candidates, s.n_same_pair) for s in t.steps] == [
        (0, 0, 2, 2), (2, 0, 2, 1), (0, 1, 1, 1)]
    assert "leftmost" in t.steps[0].reason and "leftmost" not in t.steps[1].reason
    assert t.ids == (257, 256) and list(t.ids) == tok.encode("abcab")
    assert "no adjacent pair" in t.stop_reason


def test_rank_rule_trace_by_hand() -> None:
    # ranks: "ab" 256, "bc" 257, "abc" 258. On "abc": pairs a+b -> 256, b+c -> 257; lowest is 256 at 0.
    # then ab+c -> 258. The derived merges would be the same, but the rule reads ranks of concatenations.
    tok = Tokenizer(BYTES | {256: b"ab", 257: b"bc", 258: b"abc"}, [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c")],
                    rule="ranks")
    t = trace(tok, "abc")
    assert [(s.chosen.position, s.chosen.rank) for s in t.steps] == [(0, 256), (0, 258)]
    assert [c.rank for c in t.steps[0].candidates] == [256, 257]
    assert "lowest-ranked token" in t.steps[0].reason


def test_whole_token_shortcut_is_traced() -> None:
    # "abc" is a token (merge 2) but the merges alone cut "abc" into a + bc (merge 0 first, and no (a, bc) merge);
    # the encoder takes the whole token, and the trace says so.
    tok = Tokenizer(BYTES | {256: b"bc", 257: b"ab", 258: b"abc"}, [(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    t = trace(tok, "abc")
    assert t.bpe_ids == (97, 256) and t.ids == (258,) and list(t.ids) == tok.encode("abc")
    assert t.whole_token and "takes it whole" in t.stop_reason


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_trace_rejects_several_pieces_and_traces_special_tokens(gpt2_tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="2 pre-tokens.*trace_text"):
        trace(gpt2_tokenizer, "hello world")
    t = trace(gpt2_tokenizer, "<|endoftext|>")
    assert t.special and t.ids == (50256,) and not t.steps


def test_trace_text_finds_the_piece(gpt2_tokenizer: Tokenizer) -> None:
    text = "Hello tokenization world"
    t = trace_text(gpt2_tokenizer, text, text.index("ization"))
    assert (t.piece, t.char_start, t.char_end) == (" tokenization", 5, 18)
    assert list(t.ids) == gpt2_tokenizer.encode(" tokenization")
    with pytest.raises(ValueError, match="char_index must be in 0..23"):
        trace_text(gpt2_tokenizer, text, 24)


def _check_tree(tok: Tokenizer, token_id: int) -> None:
    a = anatomy(tok, token_id)
    assert a.tree is not None and a.tree.token_bytes == a.token_bytes
    leaves = [n for _, n in a.tree.walk() if n.is_leaf]
    assert all(len(n.token_bytes) == 1 for n in leaves)
    assert b"".join(n.token_bytes for n in leaves) == a.token_bytes
    for _, node in a.tree.walk():
        if not node.is_leaf:
            assert node.left is not None and node.right is not None and node.merge_index is not None
            assert tok.merges[node.merge_index] == (node.left.token_bytes, node.right.token_bytes)
            assert node.token_bytes == node.left.token_bytes + node.right.token_bytes
    for parent in a.used_by:
        left, right = merge_index(tok).parts[parent]
        assert token_id in (left, right)


def test_anatomy_on_gpt2(gpt2_tokenizer: Tokenizer) -> None:
    hello = gpt2_tokenizer.encode(" hello")
    assert len(hello) == 1
    a = anatomy(gpt2_tokenizer, hello[0])
    assert a.kind == "merge" and a.text == " hello" and a.hex == "20 68 65 6c 6c 6f"
    made = [r for r, (x, y) in enumerate(gpt2_tokenizer.merges) if x + y == b" hello"]
    assert a.rank == made[0] and a.rank == a.merge_index
    _check_tree(gpt2_tokenizer, hello[0])
    # Every longer token built from " the" starts with it (a merge's left part; nothing in GPT-2 ends in " the"
    # as a right part that starts with a space mid-token), and " there" is one of them.
    the = anatomy(gpt2_tokenizer, gpt2_tokenizer.encode(" the")[0])
    used = [gpt2_tokenizer.vocab[p] for p in the.used_by]
    assert b" there" in used and all(t.startswith(b" the") for t in used)
    byte = anatomy(gpt2_tokenizer, gpt2_tokenizer.encode("!")[0])
    assert byte.kind == "byte" and byte.rank is None and byte.tree is not None and byte.tree.is_leaf
    special = anatomy(gpt2_tokenizer, 50256)
    assert special.kind == "special" and special.tree is None and special.rank is None
    partial = anatomy(gpt2_tokenizer, gpt2_tokenizer.token_to_id(b"\xe4\xbd"))  # type: ignore[arg-type]
    assert partial.text is None and partial.display == "\\xe4\\xbd"


@pytest.mark.slow
def test_anatomy_on_cl100k_gives_ranks(cl100k: Tokenizer) -> None:
    i = cl100k.encode(" tokenization")[0]
    a = anatomy(cl100k, i)
    assert a.rank == i and a.rule == "ranks" and not a.outside_merges
    _check_tree(cl100k, i)
    assert all(node.rank == node.id for _, node in a.tree.walk())  # type: ignore[union-attr]
    assert cl100k.unbuildable_ids == []  # OpenAI's files have none, as the Tokenizer documents


def test_anatomy_counts_of_a_trained_tokenizer(trained: Tokenizer) -> None:
    assert trained.training is not None
    i = trained.encode(" cat")[0]
    a = anatomy(trained, i)
    assert a.merge_index is not None and a.pair_count == trained.training.merge_counts[a.merge_index]
    assert a.tree is not None
    for _, node in a.tree.walk():
        if not node.is_leaf:
            assert node.pair_count == trained.training.merge_counts[node.merge_index]  # type: ignore[index]
    _check_tree(trained, i)


def test_anatomy_of_a_token_outside_the_derived_merges() -> None:
    tok = Tokenizer(BYTES | {256: b"ab", 257: b"abc"}, [(b"a", b"b")], rule="ranks")
    a = anatomy(tok, 257)
    assert a.outside_merges and a.kind == "unbuildable" and a.tree is None and "rank rule" in a.note
    assert tok.encode("abc") == [257]  # the rank rule still makes it


def test_anatomy_and_trace_need_merges() -> None:
    for tok in (ByteTokenizer(), CharacterTokenizer()):
        with pytest.raises(ValueError, match="has no merges"):
            anatomy(tok, 1)
        with pytest.raises(ValueError, match="has no merges"):
            trace(tok, "a")
    with pytest.raises(ValueError, match="not in bpe's vocabulary"):
        anatomy(Tokenizer(BYTES, []), 256)


def test_occurrences(gpt2_tokenizer: Tokenizer) -> None:
    text = "the cat and the hat and the bat"
    the = gpt2_tokenizer.encode(" the")[0]
    assert occurrences(gpt2_tokenizer, the, text) == 2  # the first "the" has no leading space
    assert bpe_model(gpt2_tokenizer) is gpt2_tokenizer
