"""The compact merge loop learns exactly the merges (and counts, and messages) of the Python loop: CS336's reference,
a corpus where every pair ties, hypothesis-drawn tables, runs of one byte, long words, both symbol widths; and counts
files read straight into its arrays equal the loaded table."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
from helpers import read_reference_merges
from hypothesis import given, settings
from hypothesis import strategies as st

import tokviz.training.compact_merge as compact
from tokviz import train_bpe
from tokviz.training.compact_merge import WordArrays, load_counts_arrays, merge_counts_compact, pack, unpack
from tokviz.training.counts_shards import load_shards, save_shards, split_counts
from tokviz.training.counts_table import Counts, count_files, count_texts
from tokviz.training.merge_loop import Merge, merge_counts

pytest.importorskip("numpy")

EOT = "<|endoftext|>"
TIES = " ".join(a + b for a in "abcdefgh" for b in "ijklmnop") * 3 + " ab ba" * 7


def test_cs336_reference_merges(cs336_dir: Path) -> None:
    reference = read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    tok = train_bpe(cs336_dir / "corpus.en", vocab_size=500, special_tokens=[EOT], merge="compact")
    assert tok.merges == reference
    python = train_bpe(cs336_dir / "corpus.en", vocab_size=500, special_tokens=[EOT], merge="python")
    assert tok.training.merge_counts == python.training.merge_counts
    assert tok.vocab == python.vocab


@pytest.mark.slow  # 7.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize(("chunk", "batch"), [(1, 1), (7, 50), (1 << 16, 1 << 19)])
def test_built_and_merged_in_batches_gives_the_same_merges(cs336_dir: Path, chunk: int, batch: int) -> None:
    # The byte pairs' word lists are built a chunk of words at a time, each list continuing across chunks, and a
    # merge takes its words a batch of symbols at a time.
    counts = count_files([cs336_dir / "corpus.en", cs336_dir / "tinystories_sample.txt"], special_tokens=[EOT])
    with mock.patch.object(compact, "CHUNK_WORDS", chunk), mock.patch.object(compact, "BATCH_SYMBOLS", batch):
        result = merge_counts_compact(counts.counts, n_merges=400)
    assert result == merge_counts(counts.counts, n_merges=400)


def test_a_corpus_where_every_pair_ties() -> None:
    counts = count_texts([TIES]).counts
    expected = merge_counts(counts, n_merges=60)
    got = merge_counts_compact(counts, n_merges=60)
    assert got == expected
    assert Counter(got.counts).most_common(1)[0][1] >= 20  # many merges at one count: the tie rule orders them
    # The rule itself, independently of the other loop: among merges of one count (none of them makes a pair of
    # that count here), the greater pair of byte strings comes first, so (b" b", b"a") before (b" a", b"b").
    for count in set(got.counts):
        tied = [m for m, c in zip(got.merges, got.counts) if c == count]
        assert tied == sorted(tied, reverse=True)
    assert got.merges.index((b" b", b"a")) < got.merges.index((b" a", b"b"))
    assert got.merges.index((b"a", b"i")) < got.merges.index((b" h", b"p"))


WORDS = st.dictionaries(
    st.binary(min_size=1, max_size=10).map(lambda b: bytes(x % 4 + 97 for x in b)) | st.binary(min_size=1, max_size=6),
    st.integers(1, 5000) | st.integers(1, 3),
    max_size=30,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(words=WORDS, n=st.integers(0, 60))
def test_equals_the_python_loop_on_drawn_tables(words: dict[bytes, int], n: int) -> None:
    assert merge_counts_compact(words, n_merges=n) == merge_counts(words, n_merges=n)


LONG = st.dictionaries(
    st.binary(min_size=1, max_size=40).map(lambda b: bytes(x % 3 + 97 for x in b))
    | st.tuples(st.sampled_from([b"a", b"ab", b"\x00", b"aab", b"\xff"]), st.integers(1, 60))
    .map(lambda t: t[0] * t[1]),
    st.integers(1, 50),
    max_size=12,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(words=LONG, n=st.integers(0, 80))
def test_runs_and_long_words_equal_the_python_loop(words: dict[bytes, int], n: int) -> None:
    assert merge_counts_compact(words, n_merges=n) == merge_counts(words, n_merges=n)


def test_runs_of_one_byte_merge_left_to_right() -> None:
    result = merge_counts_compact({b"aaaa": 3, b"aaa": 1}, n_merges=4)
    assert result.merges == [(b"a", b"a"), (b"aa", b"aa"), (b"aa", b"a")]
    assert result.counts == [11, 3, 1]
    assert result.stopped_early and "no pair" in result.message


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
def test_wide_symbols_when_the_vocabulary_passes_65535() -> None:
    # 70,000 merges asked: symbols are int32 (padding -1) instead of uint16; the corpus runs out of pairs first.
    words = {bytes([i % 251, (i * 7) % 256, 3]) * 3: 1 + i % 17 for i in range(400)}
    result = merge_counts_compact(words, n_merges=70_000)
    assert result == merge_counts(words, n_merges=70_000) and result.stopped_early


def test_callback_cancel_and_empty_input() -> None:
    seen: list[Merge] = []
    result = merge_counts_compact({b"abcdefgh": 2}, n_merges=5, on_merge=seen.append,
                                  should_stop=lambda: len(seen) >= 2)
    assert [(m.left, m.right) for m in seen] == result.merges and len(seen) == 2
    assert result.stopped_early and "Cancelled after 2" in result.message
    assert merge_counts_compact({}, n_merges=3) == merge_counts({}, n_merges=3)
    assert merge_counts_compact({b"a": 5, b"bc": 0}, n_merges=3) == merge_counts({b"a": 5, b"bc": 0}, n_merges=3)
    with pytest.raises(ValueError, match=">= 0"):
        merge_counts_compact({b"ab": 1}, n_merges=-1)


def test_pack_orders_pairs_by_their_newer_token() -> None:
    assert unpack(pack(5, 300)) == (5, 300) and unpack(pack(300, 5)) == (300, 5) and unpack(pack(9, 9)) == (9, 9)
    assert pack(255, 255) < pack(256, 0) < pack(0, 256) < pack(256, 256) < pack(0, 257)


@pytest.mark.slow  # 2.1 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("n_shards", [0, 1, 2, 3])
def test_counts_files_read_into_arrays(cs336_dir: Path, tmp_path: Path, n_shards: int) -> None:
    # A counts TSV (0) or a folder of 1, 2 or 3 shards, read straight into arrays, holds what the loaders read.
    counts = count_files([cs336_dir / "corpus.en", cs336_dir / "tinystories_sample.txt"], special_tokens=[EOT])
    if n_shards:
        parts = split_counts(counts.counts, n_shards)
        path = save_shards([Counts(p, pattern="gpt2", special_tokens=(EOT,)) for p in parts], tmp_path / "shards")
        read = load_shards(path)
    else:
        path = counts.save(tmp_path / "counts.tsv")
        read = Counts.load(path)
    assert read == counts
    loaded = load_counts_arrays(path)
    assert (loaded.pattern, loaded.special_tokens) == (read.pattern, read.special_tokens) == ("gpt2", (EOT,))
    assert (loaded.words.distinct, loaded.words.total) == (len(read), read.total)
    table = loaded.words.to_dict()  # only pre-tokens with a pair are kept
    assert table == {k.encode("latin-1"): v for k, v in read.counts.items() if len(k) >= 2}
    assert len(table) < len(read)  # one-byte pre-tokens were there to leave out
    tok = train_bpe(load_counts_arrays(path), vocab_size=1000, merge="compact")
    python = train_bpe(read, vocab_size=1000, merge="python")
    assert (tok.merges, tok.training.merge_counts) == (python.merges, python.training.merge_counts)
    assert tok.training.n_distinct_pretokens == len(counts) and tok.training.n_pretokens == counts.total
    with pytest.raises(ValueError, match="special tokens"):
        train_bpe(load_counts_arrays(path), vocab_size=500, special_tokens=["<s>"])


def test_shards_of_different_settings_are_refused(tmp_path: Path) -> None:
    parts = split_counts(count_texts([TIES]).counts, 2)
    path = save_shards([Counts(parts[0], special_tokens=(EOT,)), Counts(parts[1])], tmp_path / "c")
    with pytest.raises(ValueError, match="special tokens"):
        load_counts_arrays(path)


def test_word_arrays_keep_what_has_a_pair() -> None:
    w = WordArrays.from_mapping(Counter({"ab": 2, "c": 5, "de": 0, "fgh": 1}))
    assert (len(w), w.distinct, w.total) == (2, 4, 8)
    assert w.to_dict() == {b"ab": 2, b"fgh": 1}


def test_merge_option_is_checked_and_auto_switches_on_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokviz.training.trainer as trainer

    with pytest.raises(ValueError, match="not a merge loop"):
        train_bpe(["ab"], vocab_size=300, merge="fast")  # type: ignore[typeddict-item]
    calls: list[str] = []
    monkeypatch.setattr(trainer, "merge_counts_compact", lambda *a, **k: calls.append("compact") or
                        merge_counts_compact(*a, **k))
    monkeypatch.setattr(trainer, "COMPACT_MIN_DISTINCT", 3)
    train_bpe(["ab ab"], vocab_size=260)  # 2 distinct: the Python loop
    assert calls == []
    tok = train_bpe(["ab cd ef"], vocab_size=260)  # 3 distinct: compact
    assert calls == ["compact"] and tok.merges == train_bpe(["ab cd ef"], vocab_size=260, merge="python").merges


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_the_library_trains_without_numpy() -> None:
    # numpy is the scale extra's: with it unimportable, importing tokviz (and its CLI) and training still work
    # (auto takes the Python loop), and only merge='compact' is refused, saying how to get it.
    script = """
import sys
sys.modules["numpy"] = None  # import numpy raises ImportError
import tokviz.cli.main
from tokviz import train_bpe
tok = train_bpe(["the cat sat on the mat " * 20], vocab_size=270)
print(repr(tok.merges))
try:
    train_bpe(["ab"], vocab_size=270, merge="compact")
except ValueError as e:
    print(e)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    merges = train_bpe(["the cat sat on the mat " * 20], vocab_size=270, merge="python").merges
    assert out.splitlines() == [repr(merges),
                                "merge='compact' needs numpy: pip install 'tokviz[scale]', or use merge='python'."]
