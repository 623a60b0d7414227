"""Pre-token counting: chunked and parallel counting equals one pass; file reading names bad bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokviz.training.counting as counting
from tokviz.corpus.sources import iter_file
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.counting import count_chunks, count_text

TEXT = (
    "Hello  world!\n\n  It's 2024<|endoftext|>   spaces   \t\ttabs<|endoftext|><|endoftext|>"
    "naïve café 🙃 1234567 don't\r\n\r\n"
) * 300


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", ["gpt2", "gpt4", "o200k"])
@pytest.mark.parametrize("workers", [1, 2])
def test_chunked_counting_equals_one_pass(pattern: str, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pt = PreTokenizer.create(pattern, special_tokens=["<|endoftext|>"])
    expected = count_text(TEXT, pt)
    monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", 2_000)
    progress: list[int] = []
    # Input pieces of 13 characters cut through whitespace runs, multi-byte characters' neighbours and specials.
    parts = [TEXT[i : i + 13] for i in range(0, len(TEXT), 13)]
    got = count_chunks(iter(parts), pt, workers=workers, chunk_chars=1_000, on_progress=progress.append)
    assert got == expected
    assert len(progress) > 10 and progress[-1] == len(TEXT)  # many chunks were counted, all characters
    assert "<|endoftext|>" not in got  # special tokens are not counted


def test_counts_are_keyed_by_utf8_bytes_as_latin1() -> None:
    counts = count_text("é é", PreTokenizer.create("gpt2"))
    assert counts == {"é".encode().decode("latin-1"): 1, " é".encode().decode("latin-1"): 1}


def test_iter_file_reads_across_block_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    text = "añb🙃c" * 100
    path.write_text(text, encoding="utf-8")
    assert "".join(iter_file(path, block=7)) == text


@pytest.mark.parametrize("block", [3, 1 << 20])
def test_iter_file_names_the_first_bad_byte(tmp_path: Path, block: int) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes("héllo wörld ".encode() * 3 + b"\xc3(" + b" tail")
    expected = len("héllo wörld ".encode() * 3)
    with pytest.raises(ValueError, match=rf"the first bad byte is 0xc3 at byte {expected} "):
        "".join(iter_file(path, block=block))
    assert "\ufffd" in "".join(iter_file(path, errors="replace", block=block))


def test_parallel_path_is_taken_for_large_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    real = counting.count_into

    def spy(counts, text: str, pt: PreTokenizer) -> None:  # runs in the workers: report their pid via the counts
        real(counts, text, pt)
        counts[f"__pid{os.getpid()}"] = 1

    monkeypatch.setattr(counting, "count_into", spy)
    monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", 2_000)
    got = count_chunks([TEXT], PreTokenizer.create("gpt2"), workers=2, chunk_chars=1_000)
    pids = {k for k in got if k.startswith("__pid")}
    assert f"__pid{os.getpid()}" not in pids and len(pids) >= 1


# -- workers that read ranges themselves (one file, one text) ---------------------------------------------------
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the range path run on small inputs, cut into many ranges."""
    monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", 2_000)
    monkeypatch.setattr(counting, "RANGE_BYTES", 700)


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", ["gpt2", "gpt4", "o200k"])
def test_file_counted_by_range_workers_equals_one_pass(
    pattern: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8", newline="")
    pt = PreTokenizer.create(pattern, special_tokens=["<|endoftext|>"])
    small_ranges(monkeypatch)
    progress: list[int] = []
    got = counting.count_file(path, pt, workers=2, on_progress=progress.append)
    assert got == count_text(TEXT, pt)
    assert len(progress) > 10 and progress[-1] == len(TEXT)  # many ranges, every character counted once


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", ["gpt2", "gpt4"])
def test_text_counted_by_range_workers_equals_one_pass(pattern: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pt = PreTokenizer.create(pattern, special_tokens=["<|endoftext|>", "<|endoftext|><|endoftext|>"])
    small_ranges(monkeypatch)
    progress: list[int] = []
    assert counting.count_large_text(TEXT, pt, workers=2, on_progress=progress.append) == count_text(TEXT, pt)
    assert len(progress) > 10 and progress[-1] == len(TEXT)


def test_range_workers_are_other_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    real = counting.count_into

    def spy(counts, text: str, pt: PreTokenizer) -> None:
        real(counts, text, pt)
        counts[f"__pid{os.getpid()}"] = 1

    monkeypatch.setattr(counting, "count_into", spy)
    small_ranges(monkeypatch)
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    got = counting.count_file(path, PreTokenizer.create("gpt2"), workers=2)
    pids = {k for k in got if k.startswith("__pid")}
    assert f"__pid{os.getpid()}" not in pids and len(pids) == 2


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_range_workers_report_the_files_first_bad_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = TEXT.encode("utf-8")
    path = tmp_path / "bad.txt"
    # Two bad bytes, the first far into the file: whichever worker meets one first, the message names the first.
    path.write_bytes(good + b" \xff " + good + b" \xc3( " + good)
    small_ranges(monkeypatch)
    pt = PreTokenizer.create("gpt2", special_tokens=["<|endoftext|>"])
    with pytest.raises(ValueError, match=rf"the first bad byte is 0xff at byte {len(good) + 1} "):
        counting.count_file(path, pt, workers=2)
    replaced = counting.count_file(path, pt, workers=2, errors="replace")
    assert replaced == count_text(path.read_bytes().decode("utf-8", "replace"), pt)


def test_custom_patterns_are_streamed_not_cut_into_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Range cuts are proven safe only for the named patterns; a custom one must take the streaming path.
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    small_ranges(monkeypatch)
    monkeypatch.setattr(counting, "file_ranges", lambda *a, **k: pytest.fail("custom pattern cut into ranges"))
    pt = PreTokenizer.create(r"\S+ ?|\s")
    assert counting.count_file(path, pt, workers=2) == count_text(TEXT, pt)


def test_a_file_without_safe_cuts_for_long_stretches_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Megabytes without a space would make one huge range that a worker reads whole; such a file is streamed instead.
    path = tmp_path / "minified.txt"
    text = "a b " + "x" * 5_000 + " c d" + TEXT
    path.write_text(text, encoding="utf-8")
    small_ranges(monkeypatch)
    monkeypatch.setattr(counting, "MAX_RANGE_BYTES", 4_000)
    streamed: list[int] = []
    real = counting.count_chunks
    monkeypatch.setattr(counting, "count_chunks", lambda *a, **k: streamed.append(1) or real(*a, **k))
    pt = PreTokenizer.create("gpt2", special_tokens=["<|endoftext|>"])
    assert counting.count_file(path, pt, workers=2) == count_text(text, pt)
    assert streamed == [1]


def test_a_worker_that_dies_is_a_clear_error_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("no fork start method on this platform")

    def die(counts, text: str, pt: PreTokenizer) -> None:  # runs in the worker, as an out-of-memory kill would
        os._exit(9)

    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    small_ranges(monkeypatch)
    monkeypatch.setattr(counting, "count_into", die)
    with pytest.raises(ChildProcessError, match=r"ended unexpectedly \(exit code 9\)"):
        counting.count_file(path, PreTokenizer.create("gpt2"), workers=2)


# Custom patterns that read context (lookahead, lookbehind, anchors, boundaries) and ones that do not.
STREAM_PATTERNS = [r"\w+(?=\s)|\w|\s|.", r"(?<=a)b+|\w|\s|.", r"^\w+|\w|\s|.", r"\w+$|\w|\s|.", r"\b\w\w|\w|\s|.",
                   r"a+b|a|\s|.", r"\w+|\s+|[^\w\s]+"]
_PRETOKENIZERS = {p: PreTokenizer.create(p, special_tokens=["<s>"]) for p in STREAM_PATTERNS}


@pytest.mark.parametrize("pattern", STREAM_PATTERNS)
@settings(max_examples=60, deadline=None)
@given(text=st.lists(st.sampled_from(["a", "b", "ab", " ", "\n", "aaa", "é", "<s>", "x y"]), max_size=60).map("".join),
       chunk_chars=st.integers(1, 16))
@pytest.mark.slow
def test_counting_equals_one_pass_for_any_pattern(pattern: str, text: str, chunk_chars: int,
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    pt = _PRETOKENIZERS[pattern]
    expected = count_text(text, pt)
    path = tmp_path_factory.mktemp("c") / "t.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(counting, "CHUNK_CHARS", chunk_chars)
        assert counting.count_large_text(text, pt, workers=1) == expected
        assert counting.count_file(path, pt, workers=1) == expected
        assert count_chunks(iter(text), pt, workers=1, chunk_chars=chunk_chars) == expected


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", [r"\w+(?=\s)|\w|\s|.", r"a+b|a|\s|."])
def test_parallel_counting_equals_one_pass_for_a_context_pattern(pattern: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    text = ("xab xab <s>aaab aaa\n" * 400 + "tail") * 3
    pt = _PRETOKENIZERS[pattern]
    monkeypatch.setattr(counting, "PARALLEL_MIN_CHARS", 1_000)
    monkeypatch.setattr(counting, "CHUNK_CHARS", 300)
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    expected = count_text(text, pt)
    assert counting.count_large_text(text, pt, workers=2) == expected
    assert counting.count_file(path, pt, workers=2) == expected
