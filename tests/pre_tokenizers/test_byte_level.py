"""GPT-2's byte-to-unicode table and its vocab.json + merges.txt files."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference import write_gpt2_files

from tokviz.formats.gpt2 import read_gpt2_files
from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE, decode_token, encode_token


def test_table_is_a_printable_bijection() -> None:
    assert len(BYTE_TO_UNICODE) == 256 and len(set(BYTE_TO_UNICODE.values())) == 256
    assert all(c.isprintable() and not c.isspace() for c in BYTE_TO_UNICODE.values())
    assert BYTE_TO_UNICODE[ord(" ")] == "Ġ" and BYTE_TO_UNICODE[ord("\n")] == "Ċ"
    every = bytes(range(256))
    assert decode_token(encode_token(every)) == every


def test_decode_rejects_characters_outside_the_table() -> None:
    with pytest.raises(ValueError, match="not in GPT-2's byte-to-unicode table"):
        decode_token("€")


def test_write_then_read_roundtrip(tmp_path: Path) -> None:
    vocab = {i: bytes([i]) for i in range(256)} | {256: b" t", 257: b"<|endoftext|>"}
    merges = [(b" ", b"t")]
    write_gpt2_files(vocab, merges, tmp_path / "vocab.json", tmp_path / "merges.txt", special_tokens=["<|endoftext|>"])
    assert (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines() == ["#version: 0.2", "Ġ t"]
    assert read_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt") == (vocab, merges)


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
def test_shared_gpt2_files_parse(cs336_dir: Path) -> None:
    vocab, merges = read_gpt2_files(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt")
    assert len(vocab) == 50257 and len(merges) == 50000
    assert vocab[50256] == b"<|endoftext|>" and merges[0] == (b" ", b"t")


def test_malformed_files_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "vocab.json").write_text('{"a": "x"}', encoding="utf-8")
    (tmp_path / "merges.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="not an integer"):
        read_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    (tmp_path / "vocab.json").write_text('{"a": 0,', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab.json \(GPT-2 vocab.json\), line 1: invalid JSON"):
        read_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    (tmp_path / "vocab.json").write_text('{"a": 0}', encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b\na  b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="merges.txt, line 3"):
        read_gpt2_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    with pytest.raises(ValueError, match="no such file"):
        read_gpt2_files(tmp_path / "nope.json", tmp_path / "merges.txt")
