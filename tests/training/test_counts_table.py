"""Counts: counting files, URLs and texts, the TSV file round trip, and training from counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import read_reference_merges
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import train_bpe
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.counting import count_file
from tokviz.training.counts_table import Counts, count_files, count_texts

EOT = "<|endoftext|>"


def test_counts_of_the_cs336_corpus_train_the_reference_merges(cs336_dir: Path, tmp_path: Path) -> None:
    counts = count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])
    loaded = Counts.load(counts.save(tmp_path / "counts.tsv"))
    assert loaded == counts and loaded.special_tokens == (EOT,) and loaded.pattern == "gpt2"
    tok = train_bpe(loaded, vocab_size=500)
    assert tok.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    assert tok.vocab[0] == EOT.encode()
    # The same counts as today's counting of the file, and the same merges as training on the file itself.
    pt = PreTokenizer.create("gpt2", special_tokens=[EOT])
    assert dict(loaded.counts) == dict(count_file(cs336_dir / "corpus.en", pt))
    assert tok.merges == train_bpe(cs336_dir / "corpus.en", vocab_size=500, special_tokens=[EOT]).merges


texts = st.lists(st.sampled_from(list("ab cé\n\t 1!") + ["<s>", "🌍", "  ", "'s", "<", "s>"]),
                 max_size=120).map("".join)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(texts, min_size=1, max_size=4), pattern=st.sampled_from(["gpt2", "gpt4", "o200k"]))
def test_merges_from_counts_equal_merges_from_text(docs: list[str], pattern: str) -> None:
    counts = count_texts(docs, pattern=pattern, special_tokens=["<s>"])
    # Each text is its own document: train on them as separate chunks joined by the special token, which splits.
    joined = "<s>".join(docs)
    from_text = train_bpe([joined], vocab_size=300, special_tokens=["<s>"], pattern=pattern)
    from_counts = train_bpe(counts, vocab_size=300, pattern=pattern)
    assert from_counts.merges == from_text.merges
    assert from_counts.training.merge_counts == from_text.training.merge_counts


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=80, deadline=None)
@given(table=st.dictionaries(st.binary(min_size=1, max_size=12), st.integers(0, 10**15), max_size=40),
       pattern=st.sampled_from(["gpt2", "o200k", r"\w+|\s+|[^\w\s\t]+", "a\tb\nc"]),
       specials=st.lists(st.text(min_size=1, max_size=6), max_size=3, unique=True))
def test_save_load_round_trip_is_exact_for_any_bytes(tmp_path_factory: pytest.TempPathFactory, table: dict[bytes, int],
                                                     pattern: str, specials: list[str]) -> None:
    path = tmp_path_factory.mktemp("rt") / "c.tsv"
    counts = Counts(Counter({k.decode("latin-1"): v for k, v in table.items()}), pattern=pattern,
                    special_tokens=tuple(specials))
    loaded = Counts.load(counts.save(path))
    assert loaded.pieces() == table
    assert loaded.pattern == pattern and loaded.special_tokens == tuple(specials)
    assert loaded == counts


def test_pieces_that_look_like_header_lines_stay_pieces(tmp_path: Path) -> None:
    # A piece starting with '#' whose count is an integer is data, even at the top of the file.
    counts = Counts(Counter({"#pattern": 10**9, "#": 3, "\t\n": 2}))
    assert Counts.load(counts.save(tmp_path / "c.tsv")).counts == counts.counts


def test_files_are_separate_documents_and_urls_count_the_same(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("hello wor", encoding="utf-8")
    b.write_text("ld  again<|endoftext|>é é", encoding="utf-8")
    got = count_files([a, b], special_tokens=[EOT])
    assert got == count_texts(["hello wor", "ld  again<|endoftext|>é é"], special_tokens=[EOT])
    assert got.pieces()[b" wor"] == 1 and got.pieces()[b"ld"] == 1  # nothing joined across the two files
    assert b"<|endoftext|>" not in got.pieces()  # special tokens split, they are not counted
    pytest.importorskip("fsspec", reason="fsspec (the scale extra) reads URLs")
    assert count_files([a.as_uri(), str(b)], special_tokens=[EOT]) == got


def test_count_progress_reaches_the_total_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("é " * 1000, encoding="utf-8")
    seen: list[int] = []
    count_files([a, a], on_progress=seen.append)
    assert seen[-1] == 2 * a.stat().st_size and seen == sorted(seen)


def test_training_refuses_counts_of_another_pattern_or_special_tokens() -> None:
    counts = count_texts(["a b c"], pattern="gpt4", special_tokens=["<s>"])
    with pytest.raises(ValueError, match="pattern 'gpt4'"):
        train_bpe(counts, vocab_size=260)
    with pytest.raises(ValueError, match="special tokens"):
        train_bpe(counts, vocab_size=260, pattern="cl100k_base", special_tokens=["<t>"])
    assert train_bpe(counts, vocab_size=260, pattern="cl100k_base").special_tokens == ["<s>"]
    with pytest.raises(ValueError, match="pattern"):
        _ = counts + count_texts(["a"], pattern="gpt2", special_tokens=["<s>"])


@pytest.mark.parametrize(("content", "message"), [
    ("piece\t1\n", "not a tokviz counts file"),
    ("#tokviz-counts\t9\n", "version"),
    ("#tokviz-counts\t1\nab\n", "line 2: expected piece<TAB>count"),
    ("#tokviz-counts\t1\nab\t-1\n", "line 2: the count '-1'"),
    ("#tokviz-counts\t1\nab\t1\nab\t2\n", "line 3: the piece 'ab' is repeated"),
    ("#tokviz-counts\t1\n\u4e00\t1\n", "not GPT-2 byte characters"),
    ("#tokviz-counts\t1\n#pattern\t{oops\n", "line 2: the header value"),
    ("#tokviz-counts\t1\n#pattern\t[1]\n", "pattern must be a string"),
])
def test_malformed_files_name_the_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as e:
        Counts.load(path)
    assert str(path) in str(e.value)


def test_bad_inputs_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        count_files([tmp_path / "missing.txt"])
    with pytest.raises(ValueError, match="texts must be str"):
        count_texts([b"bytes"])  # type: ignore[list-item]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 ok")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        count_files([bad])


def test_cli_count_then_train_from_counts(cs336_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tokviz.cli.main import main

    counts = tmp_path / "counts.tsv"
    assert main(["count", str(cs336_dir / "corpus.en"), "--special-token", EOT, "-o", str(counts)]) == 0
    captured = capsys.readouterr()
    assert "pre-tokens" in captured.out and "counting [" in captured.err  # the summary on stdout, the bar on stderr
    assert Counts.load(counts) == count_files([cs336_dir / "corpus.en"], special_tokens=[EOT])
    out = tmp_path / "tok.json"
    assert main(["train", "--counts", str(counts), "--vocab-size", "500", "-o", str(out), "-q"]) == 0

    tok = load_ours_tokenizer(out)
    assert tok.merges == read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    assert tok.special_tokens == [EOT]  # taken from the counts file
    assert main(["train", str(cs336_dir / "corpus.en"), "--counts", str(counts), "--vocab-size", "500",
                 "-o", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["train", "--counts", str(tmp_path / "nope.tsv"), "--vocab-size", "500", "-o", str(out)]) == 2
    assert "no such counts file" in capsys.readouterr().err
