"""Reading uploads: empty, too big, whitespace-only and non-UTF-8 files each get a message a user can act on."""

from __future__ import annotations

from tokviz.viewmodels.uploads import bad_byte_count, read_corpus


def test_good_utf8_is_read_and_bom_dropped() -> None:
    got = read_corpus("\ufeffhéllo".encode(), name="a.txt")
    assert got.ok and got.text == "héllo" and got.n_replaced == 0


def test_empty_and_whitespace_only_files() -> None:
    assert "is empty" in (read_corpus(b"", name="e.txt").problem or "")
    assert "only whitespace" in (read_corpus(b" \n\t", name="w.txt").problem or "")


def test_over_the_limit() -> None:
    got = read_corpus(b"x" * 2000, name="big.txt", max_bytes=1000)
    assert not got.ok and "over the limit of 1.0 KB" in (got.problem or "")


def test_non_utf8_names_position_and_offers_replacement() -> None:
    data = "line one\nlíne two ".encode() + b"\xff\xfe" + b" end\n"
    got = read_corpus(data, name="latin.txt")
    assert not got.ok and got.fixable
    assert "0xff at byte 19 (line 2, column 11)" in (got.problem or "")
    assert "2 bytes in all" in (got.problem or "")
    fixed = read_corpus(data, name="latin.txt", replace=True)
    assert fixed.ok and fixed.n_replaced == 2 and fixed.text.count("\ufffd") == 2


def test_bad_byte_count_counts_bytes_not_replacement_characters() -> None:
    assert bad_byte_count(b"ok") == 0
    assert bad_byte_count(b"\xe2\x82") == 2  # a truncated 3-byte character: two bad bytes
