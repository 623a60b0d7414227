"""train_bpe: the CS336 reference run, special tokens, input validation, early stop."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from helpers import read_reference_merges

from tokviz import train_bpe
from tokviz.pre_tokenizers.byte_level import decode_token


def test_reproduces_cs336_reference_merges_in_order(cs336_dir: Path) -> None:
    tok = train_bpe(cs336_dir / "corpus.en", vocab_size=500, special_tokens=["<|endoftext|>"])
    reference = read_reference_merges(cs336_dir / "train-bpe-reference-merges.txt")
    assert len(reference) == 243
    assert tok.merges == reference
    ref_vocab = json.loads((cs336_dir / "train-bpe-reference-vocab.json").read_text(encoding="utf-8"))
    ref_bytes = {b"<|endoftext|>" if k == "<|endoftext|>" else decode_token(k) for k in ref_vocab}
    assert set(tok.vocab.values()) == ref_bytes
    assert set(tok.vocab) == set(ref_vocab.values())
    assert tok.vocab[0] == b"<|endoftext|>"  # layout: specials, then bytes, then merges
    assert not tok.training.stopped_early


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_parallel_counting_gives_the_same_merges(cs336_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tokviz.training.counting as counting

    text = (cs336_dir / "corpus.en").read_text(encoding="utf-8")
    serial = train_bpe([text], vocab_size=400, special_tokens=["<|endoftext|>"], workers=1)
    monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", 10_000)
    monkeypatch.setattr(counting, "CHUNK_CHARS", 5_000)
    # Small chunks fed one line at a time: many seams, inside whitespace runs and inside special tokens.
    lines = [text[i : i + 777] for i in range(0, len(text), 777)]
    parallel = train_bpe(iter(lines), vocab_size=400, special_tokens=["<|endoftext|>"], workers=2)
    assert parallel.merges == serial.merges
    assert parallel.training.n_pretokens == serial.training.n_pretokens


def test_nothing_merges_across_special_tokens() -> None:
    tok = train_bpe(["xa<s>bx<s>xa"], vocab_size=270, special_tokens=["<s>"])
    # (a, b) would only form across "<s>"; ties go to the greater pair, so (x, a) comes before (b, x).
    assert tok.merges == [(b"x", b"a"), (b"b", b"x")]
    assert tok.training.merge_counts == [2, 1]
    assert tok.training.stopped_early


def test_stops_cleanly_when_no_pair_is_left() -> None:
    tok = train_bpe(["ab ab"], vocab_size=1000)
    assert tok.vocab_size == 258  # 256 bytes + "ab" + " ab"
    assert tok.training.stopped_early
    assert "no pair" in tok.training.message and "smaller vocabulary" in tok.training.message


@pytest.mark.parametrize("size", [255, 0, -5])
def test_vocab_size_below_bytes_plus_specials_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="at least 257"):
        train_bpe(["hello"], vocab_size=size, special_tokens=["<|endoftext|>"])


def test_non_integer_vocab_size_is_refused() -> None:
    with pytest.raises(ValueError, match="integer"):
        train_bpe(["hello"], vocab_size="500")  # type: ignore[arg-type]


def test_missing_file_and_bad_utf8_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        train_bpe(str(tmp_path / "nope.txt"), vocab_size=300)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hello \xff world")
    with pytest.raises(ValueError, match=r"the first bad byte is 0xff at byte 6 "):
        train_bpe(bad, vocab_size=300)
    tok = train_bpe(bad, vocab_size=300, errors="replace")
    assert tok.training.n_pretokens == 3


def test_progress_gets_every_merge_in_order() -> None:
    seen = []
    tok = train_bpe(["the cat sat on the mat " * 10], vocab_size=270, progress=seen.append)
    assert [m.rank for m in seen] == list(range(len(tok.merges)))
    assert [(m.left, m.right) for m in seen] == tok.merges
    assert [m.count for m in seen] == tok.training.merge_counts


def _files_ending_in_whitespace(folder: Path, *, big: bool = False) -> list[Path]:
    # Whitespace runs at both sides of every boundary, a special token cut in two by one, a file of spaces only.
    texts = ["hello world  \n\n", "  \n foo bar\t", "\t\tbaz <|endof", "text|> qux   ", "     ", "\n\nend"]
    if big:  # over the parallel threshold, so a file's own ranges are counted by workers too
        texts = [t * 1 + ("lorem ipsum dolor  sit amet\n " * 40_000) + t for t in texts]
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"doc{i}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.slow  # 7.4 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("big", [False, True])
def test_a_list_of_files_is_a_list_of_documents(tmp_path: Path, big: bool) -> None:
    # One meaning for a list of files: train_bpe([paths]) counts what count_files counts, each file one document,
    # so a whitespace run or a special token never spans two files.
    from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    from tokviz.training.counting import count_text
    from tokviz.training.counts_table import count_files
    from tokviz.training.trainer import count_corpus

    paths = _files_ending_in_whitespace(tmp_path, big=big)
    specials = ["<|endoftext|>"]
    pretok = PreTokenizer.create("gpt2", special_tokens=specials)
    each: Counter[str] = Counter()
    for p in paths:
        each.update(count_text(p.read_text(encoding="utf-8"), pretok))
    joined = count_text("".join(p.read_text(encoding="utf-8") for p in paths), pretok)
    assert joined != each  # the corpus is one where the two readings differ
    assert count_corpus(paths, special_tokens=specials, workers=2) == each
    assert count_corpus(iter(paths), special_tokens=specials, workers=1) == each
    assert count_files(paths, special_tokens=specials).counts == each
    tok = train_bpe(paths, vocab_size=300, special_tokens=specials)
    assert tok.merges == train_bpe(count_files(paths, special_tokens=specials), vocab_size=300).merges
    assert tok.training is not None and tok.training.n_pretokens == sum(each.values())


def test_texts_between_paths_are_one_document_each_run(tmp_path: Path) -> None:
    from tokviz.training.trainer import count_corpus

    path = tmp_path / "a.txt"
    path.write_text("x  ", encoding="utf-8")
    got = count_corpus(["a ", " b", path, "  c"])
    assert got == Counter({"a": 1, " ": 2, " b": 1, "x": 1, "  ": 1, " c": 1})  # "a  b", "x  ", "  c"
    with pytest.raises(ValueError, match="no such file"):
        count_corpus(["a", tmp_path / "missing.txt"])
