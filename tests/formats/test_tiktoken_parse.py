"""The two readers of a rank file's lines (the C-level one for files laid out as OpenAI's, the line-by-line one for
the rest and for errors) give the same ranks wherever the fast one answers."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.formats import tiktoken_file
from tokviz.formats.known_rank_files import OPENAI_RANK_FILES, KnownRankFile
from tokviz.formats.pretrained import read_builtin
from tokviz.formats.tiktoken_file import _parse_canonical, parse_rank_file

tokens = st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=40, unique=True)


def _slow(data: bytes) -> dict[bytes, int]:
    saved = tiktoken_file._parse_canonical
    tiktoken_file._parse_canonical = lambda _: None  # type: ignore[assignment]
    try:
        return parse_rank_file(data, source="t.tiktoken")
    finally:
        tiktoken_file._parse_canonical = saved


def _file(toks: list[bytes], ranks: list[int], *, sep: bytes = b" ", end: bytes = b"\n") -> bytes:
    return b"".join(base64.b64encode(t) + sep + str(r).encode() + end for t, r in zip(toks, ranks, strict=True))


@settings(max_examples=60, deadline=None)
@given(toks=tokens, data=st.data())
def test_canonical_files_read_alike(toks: list[bytes], data: st.DataObject) -> None:
    ranks = data.draw(st.permutations(range(len(toks) + data.draw(st.integers(0, 3)))))[: len(toks)]
    content = _file(toks, list(ranks))
    fast = _parse_canonical(content)
    assert fast is not None and fast == _slow(content) == dict(zip(toks, ranks, strict=True))


@pytest.mark.parametrize("content", [
    _file([b"a", b"b"], [0, 1], end=b"\r\n"),  # CRLF
    _file([b"a", b"b"], [0, 1], sep=b"\t"),  # a tab between the fields
    _file([b"a", b"b"], [0, 1], sep=b"  "),  # two spaces
    _file([b"a"], [0]) + b"\n" + _file([b"b"], [1]),  # an empty line
    _file([b"a", b"b"], [0, 1])[:-1],  # no newline at the end
    b"= 0\n" + _file([b"a"], [1]),  # the empty token (Whisper)
    b"YR== 0\n",  # a non-canonical encoding of b"a"
    _file([b"a", b"b"], [0, 10]),
    b"YQ== 007\n",  # leading zeros
])
def test_other_layouts_fall_back_and_read_the_same(content: bytes) -> None:
    slow = _slow(content)
    fast = _parse_canonical(content)
    assert fast is None or fast == slow
    assert parse_rank_file(content, source="t.tiktoken") == slow


@pytest.mark.parametrize("content, message", [
    (_file([b"a", b"a"], [0, 1]), "appears twice"),
    (_file([b"a", b"b"], [0, 0]), "given to two tokens"),
    (_file([b"a"], [2**40]), "larger than any"),
    (b"YQ== x\n", "is not an integer"),
])
def test_bad_files_are_refused_with_the_line(content: bytes, message: str) -> None:
    assert _parse_canonical(content) is None
    with pytest.raises(ValueError, match=message):
        parse_rank_file(content, source="t.tiktoken")


@pytest.mark.slow  # 1.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("known", [k for k in OPENAI_RANK_FILES if k.builtin], ids=lambda k: k.name)
def test_known_files_read_without_checks_give_the_checked_ranks(known: KnownRankFile) -> None:
    # The unchecked reader is used only for these files' exact bytes (by SHA-256), so it must agree on each.
    data = read_builtin(known.name)
    assert hashlib.sha256(data).hexdigest() in tiktoken_file._CANONICAL_FILES
    checked = _parse_canonical(data)
    assert checked is not None and checked == _slow(data)
    assert list(checked.values()) == sorted(checked.values())  # ranks only rise, as the unchecked reader assumes
    assert tiktoken_file._known_vocab(data) == {r: t for t, r in checked.items()}


def test_a_file_that_is_not_known_is_read_with_the_checks() -> None:
    # Same ranks as a canonical file would have, but another SHA-256: the checked reader decides (here: refuses).
    content = _file([b"a", b"b"], [0, 0])
    with pytest.raises(ValueError, match="given to two tokens"):
        tiktoken_file.tiktoken_from_bytes(content, source="t.tiktoken", pattern="gpt2")
