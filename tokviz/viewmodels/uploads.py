"""Reading an uploaded corpus: size limits, empty files, and non-UTF-8 bytes, each with words a user can act on.

Example:
    >>> read_corpus(b"caf\\xe9 ok", name="notes.txt").problem.splitlines()[0]
    'notes.txt is not valid UTF-8: the first bad byte is 0xe9 at byte 3 (line 1, column 4).'
    >>> read_corpus(b"caf\\xe9 ok", name="notes.txt", replace=True).text
    'caf\\ufffd ok'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tokviz.core.textfile import bad_utf8

#: Default upper limit for one upload; the app may configure another.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024



@dataclass(frozen=True)
class CorpusText:
    """Decoded text of one upload, or the reason it cannot be used as is.

    ``problem`` is None when ``text`` is ready; ``n_replaced`` counts bytes that became U+FFFD (with ``replace``).
    ``fixable`` is True when training with replacement characters would work.
    """

    name: str
    text: str
    n_bytes: int
    n_replaced: int = 0
    problem: str | None = None
    fixable: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


def read_corpus(data: bytes, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES, replace: bool = False) -> CorpusText:
    """Decode an upload as UTF-8 (a leading BOM is dropped), reporting problems instead of raising."""
    n = len(data)
    if n == 0:
        return CorpusText(name, "", 0, problem=f"{name} is empty: upload a text file with some content.")
    if n > max_bytes:
        return CorpusText(
            name, "", n,
            problem=f"{name} is {_mb(n)}, over the limit of {_mb(max_bytes)}: upload a smaller file or a sample of it.",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if not replace:
            bad = bad_byte_count(data)
            return CorpusText(
                name, "", n, fixable=True,
                problem=(
                    f"{bad_utf8(name, data, e)}.\n{bad} byte{'s' if bad != 1 else ''} in all cannot be decoded; "
                    "convert the file to UTF-8, or train with replacement characters (each bad byte becomes U+FFFD)."
                ),
            )
        text = data.decode("utf-8", errors="replace")
        return CorpusText(name, text, n, n_replaced=bad_byte_count(data))
    if not text.strip():
        return CorpusText(name, text, n, problem=f"{name} holds only whitespace: upload a file with some text.")
    return CorpusText(name, text, n)


def bad_byte_count(data: bytes) -> int:
    r"""How many bytes of ``data`` are not part of a valid UTF-8 sequence.

    With ``surrogateescape`` each bad byte decodes to one lone surrogate U+DC80..U+DCFF, which valid UTF-8 can
    never produce, so counting those counts the bad bytes.

    >>> bad_byte_count(b"a\xff\xfeb")
    2
    """
    return len(_ESCAPED.findall(data.decode("utf-8", errors="surrogateescape")))


_ESCAPED = re.compile("[\udc80-\udcff]")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} KB"
