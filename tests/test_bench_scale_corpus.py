"""bench/scale.py's corpora past the machine's text: rot-k copies keep the separators, the non-letters and UTF-8, and
the streamed copy equals the copy made in one piece, whatever the block size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bench.scale import EOT, build_variant_corpus, rotate_letters, write_rotated

DOC = "The café's 42 naïve Zebras—ok?\r\n\tüber\x00 end".encode()
TEXT = EOT.encode().join([DOC, b"x", b"", ("é" * 9 + "AbZ").encode(), DOC * 3])


def test_rotation_moves_ascii_letters_only() -> None:
    out = rotate_letters(TEXT, 3)
    out.decode("utf-8")
    parts, rotated = TEXT.split(EOT.encode()), out.split(EOT.encode())
    assert len(rotated) == len(parts) == 5
    for part, rot in zip(parts, rotated, strict=True):
        assert len(rot) == len(part)
        for a, b in zip(part, rot, strict=True):
            if chr(a).isascii() and chr(a).isalpha():
                assert chr(b).isupper() == chr(a).isupper() and (b - a) % 26 == 3
            else:
                assert b == a
    assert rotate_letters(out, 23) == TEXT and rotate_letters(TEXT, 26) == TEXT
    assert rotate_letters(b"Zz<|endoftext|>a", 1) == b"Aa<|endoftext|>b"


@pytest.mark.parametrize("block", [1, 5, 13, 14, 40, 1 << 20])
def test_streamed_rotation_equals_whole(tmp_path: Path, block: int) -> None:
    src = tmp_path / "base.txt"
    src.write_bytes(TEXT)
    out = io.BytesIO()
    assert write_rotated(src, out, 5, 10**9, block=block) == len(TEXT)
    assert out.getvalue() == rotate_letters(TEXT, 5)
    cut = io.BytesIO()
    n = write_rotated(src, cut, 5, TEXT.index("é".encode()) + 1, block=block)  # inside a 2-byte character
    assert n == TEXT.index("é".encode()) and cut.getvalue() == rotate_letters(TEXT, 5)[:n]


def test_variant_corpus_is_base_then_rotated_copies(tmp_path: Path) -> None:
    base = tmp_path / "base.txt"
    base.write_bytes(TEXT)
    sep = EOT.encode()
    target = 2 * len(TEXT) + 2 * len(sep) + 50
    data = build_variant_corpus(target, tmp_path / "out.txt", base).read_bytes()
    assert len(data) == target
    whole = TEXT + sep + rotate_letters(TEXT, 1) + sep + rotate_letters(TEXT, 2)
    assert data == whole[:target]
    with pytest.raises(SystemExit, match="ask for a smaller size"):
        build_variant_corpus(27 * len(TEXT) + 27 * len(sep), tmp_path / "big.txt", base)
