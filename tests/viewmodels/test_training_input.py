"""The train view's inputs: uploads gathered with the reasons they cannot be used, specials, patterns, run names."""

from __future__ import annotations

import pytest

from tokviz.viewmodels.training_input import (
    DEFAULT_MAX_MB,
    chosen_pattern,
    file_stem,
    gather_corpus,
    heldout_text,
    pattern_label,
    size_text,
    trained_name,
    training_special_tokens,
    upload_limit,
)


def test_good_files_are_read_in_order() -> None:
    batch = gather_corpus([("a.txt", "héllo\n".encode()), ("b.txt", b"world\n")], max_bytes=100)
    assert batch.ok and batch.texts == ("héllo\n", "world\n") and batch.names == ("a.txt", "b.txt")
    assert batch.n_bytes == 13 and batch.n_chars == 12 and batch.problems == () and not batch.fixable


def test_no_files_is_not_ok() -> None:
    assert not gather_corpus([], max_bytes=100).ok


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(b"", "e.txt is empty"), (b" \n", "only whitespace"), (b"x" * 200, "over the limit of 0.1 KB")],
)
def test_unusable_files_block_the_batch_with_a_reason(data: bytes, fragment: str) -> None:
    batch = gather_corpus([("ok.txt", b"fine\n"), ("e.txt", data)], max_bytes=100)
    assert not batch.ok and len(batch.problems) == 1 and fragment in batch.problems[0]
    assert batch.n_fixable == 0 and not batch.fixable
    assert not gather_corpus([("ok.txt", b"fine\n"), ("e.txt", data)], max_bytes=100, replace=True).ok


def test_bad_utf8_is_located_and_fixable_by_replacement() -> None:
    data = b"one\ntw\xff\xfeo\n"
    batch = gather_corpus([("latin.txt", data)], max_bytes=100)
    assert not batch.ok and batch.fixable and batch.n_fixable == 1
    assert "first bad byte is 0xff at byte 6 (line 2, column 3)" in batch.problems[0]
    assert "2 bytes in all" in batch.problems[0]
    fixed = gather_corpus([("latin.txt", data)], max_bytes=100, replace=True)
    assert fixed.ok and fixed.n_replaced == 2 and fixed.replaced_in == ("latin.txt",)
    assert fixed.texts == ("one\ntw\ufffd\ufffdo\n",)


def test_replacement_does_not_fix_an_empty_file_beside_a_bad_one() -> None:
    files = [("bad.txt", b"\xff ok\n"), ("empty.txt", b"")]
    batch = gather_corpus(files, max_bytes=100)
    assert batch.n_fixable == 1 and not batch.fixable and len(batch.problems) == 2
    after = gather_corpus(files, max_bytes=100, replace=True)
    assert not after.ok and after.problems == ("empty.txt is empty: upload a text file with some content.",)


def test_upload_limit_from_the_environment() -> None:
    assert upload_limit({}) == DEFAULT_MAX_MB * 1_000_000
    assert upload_limit({"TOKVIZ_TRAIN_MAX_MB": "2"}) == 2_000_000
    assert upload_limit({"TOKVIZ_TRAIN_MAX_MB": "-1"}) == upload_limit({"TOKVIZ_TRAIN_MAX_MB": ""})


def test_special_tokens_and_patterns() -> None:
    assert training_special_tokens("") == ()
    assert training_special_tokens("<a>,<b> , <a>") == ("<a>", "<b>")
    # The same parser as the Load view's field: TOKEN=ID is read as an id there, and refused for training here,
    # never taken as a literal token "<a>=3".
    with pytest.raises(ValueError, match="without =ID"):
        training_special_tokens("<a>=3")
    assert chosen_pattern("o200k", "ignored") == "o200k"
    assert chosen_pattern("custom", "") == ""  # the trainer refuses it with its own message
    with pytest.raises(ValueError, match="pattern choice"):
        chosen_pattern("gpt3", "")
    assert [pattern_label(p) for p in ("gpt2", "gpt4", "o200k", r"\w+")] == ["gpt2", "gpt4", "o200k", "custom"]


def test_names_are_unique_and_file_safe() -> None:
    assert size_text(1000) == "1k" and size_text(999) == "999" and size_text(12_345) == "12,345"
    first = trained_name(1, pattern="gpt4", vocab_size=2000)
    assert first == "trained-1 (gpt4, 2k)"
    assert trained_name(1, pattern="gpt4", vocab_size=2000, taken=[first]) == first + " #2"
    assert trained_name(1, pattern="gpt4", vocab_size=2000, taken=[first, first + " #2"]) == first + " #3"
    assert trained_name(3, pattern=r"\S+", vocab_size=300, cancelled=True) == "trained-3 (custom, 300, cancelled)"
    assert file_stem("trained-3 (custom, 300, cancelled)") == "trained-3-custom-300-cancelled"
    assert file_stem("???") == "tokenizer"



def test_heldout_text_is_the_part_the_live_run_did_not_train_on() -> None:
    from tokviz.training.holdout import split_holdout

    texts = ["".join(f"line {i}\n" for i in range(100)), "last file\n"]
    assert heldout_text(texts) == split_holdout("\n".join(texts), fraction=0.1)[1] != ""
    assert heldout_text(["one line only"]) == ""


@pytest.mark.parametrize("typed", ["<|endoftext|>, <pad>", "<|endoftext|> <pad>", " <|endoftext|>,<pad> ,, <pad>"])
def test_train_and_load_views_read_typed_special_tokens_alike(typed: str) -> None:
    from tokviz.viewmodels.upload_tokenizer import parse_special_tokens as load_view

    assert training_special_tokens(typed) == ("<|endoftext|>", "<pad>")
    assert load_view(typed) == ["<|endoftext|>", "<pad>"]
