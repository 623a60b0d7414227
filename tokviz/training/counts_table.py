"""Pre-token counts as a value you keep: count once, save to a file, train (again and again) from the file.

A :class:`Counts` maps each distinct pre-token (its UTF-8 bytes) to how often it occurs, and remembers the pattern
and special tokens it was counted with, since merges learned from counts of one pattern mean nothing for another.
:func:`count_files` and :func:`count_texts` make one; ``train_bpe(counts, vocab_size=...)`` trains from it.

The file is a TSV in SentencePiece's ``piece<TAB>count`` layout, one distinct pre-token a line, most frequent
first. TSV rather than Parquet because it needs no dependency (the library depends on ``regex`` only), can be read
with ``head`` and ``grep``, and streams line by line. A pre-token is any bytes (a piece of a multi-byte character
included), so each piece is written with GPT-2's byte-to-unicode table (:mod:`tokviz.pre_tokenizers.byte_level`): every
byte is
one printable character (``Ġ`` for a space, ``Ċ`` for a newline), so no piece holds a tab, a newline or a space,
every byte string survives exactly, and the file reads like a GPT-2 ``vocab.json``. A few header lines come first,
``#pattern<TAB>"gpt2"`` and ``#special_tokens<TAB>["<|endoftext|>"]`` (JSON values): a data line's count is always
a plain integer, so a header line can never be mistaken for a piece that starts with ``#``.

Several files are counted as separate documents (no pre-token spans two files), summed.

Example:
    >>> c = count_texts(["the cat the"])
    >>> c.total, len(c), c.pieces()[b" cat"]
    (3, 3, 1)
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = c.save(pathlib.Path(folder) / "counts.tsv")
    ...     lines = path.read_text(encoding="utf-8").splitlines()
    ...     Counts.load(path) == c
    True
    >>> lines
    ['#tokviz-counts\\t1', '#pattern\\t"gpt2"', '#special_tokens\\t[]', 'Ġcat\\t1', 'Ġthe\\t1', 'the\\t1']
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokviz.corpus.checks import require_utf8
from tokviz.corpus.sources import source_size
from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE
from tokviz.pre_tokenizers.patterns import resolve_pattern
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.counting import count_large_text
from tokviz.training.source_counts import count_source

#: The first line of a counts file, and the layout version it names.
MAGIC = "#tokviz-counts"
VERSION = 1
# Keys are bytes held as latin-1 str (one character a byte), so str.translate maps them to GPT-2's characters.
_TO_PRINTABLE = {b: ord(c) for b, c in BYTE_TO_UNICODE.items()}
_FROM_PRINTABLE = {ord(c): b for b, c in BYTE_TO_UNICODE.items()}


@dataclass(frozen=True, eq=False)
class Counts(Mapping[str, int]):
    """Distinct pre-token -> count, with the pattern and special tokens they were counted with.

    As a ``Mapping`` its keys are the pre-tokens' UTF-8 bytes held as latin-1 ``str`` (one character a byte), the
    keys :func:`tokviz.training.merge_loop.merge_counts` works on; :meth:`pieces` gives them as ``bytes``.

    >>> a = Counts(Counter({"ab": 2}), pattern="gpt2")
    >>> (a + Counts(Counter({"ab": 1, "c": 4}), pattern="gpt2")).pieces()
    {b'ab': 3, b'c': 4}
    """

    counts: Counter[str]
    pattern: str = "gpt2"
    special_tokens: tuple[str, ...] = ()
    _source: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "special_tokens", tuple(dict.fromkeys(self.special_tokens)))
        object.__setattr__(self, "_source", resolve_pattern(self.pattern)[0])

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Counts):
            return NotImplemented
        return (self._source == other._source and set(self.special_tokens) == set(other.special_tokens)
                and self.counts == other.counts)

    __hash__ = None  # type: ignore[assignment]  # mutable contents: not hashable, like a dict

    @property
    def total(self) -> int:
        """The number of pre-tokens counted (with repeats)."""
        return sum(self.counts.values())

    def pieces(self) -> dict[bytes, int]:
        """The counts keyed by ``bytes``."""
        return {k.encode("latin-1"): v for k, v in self.counts.items()}

    def __add__(self, other: Counts) -> Counts:
        self.check_same_settings(other.pattern, other.special_tokens)
        small, big = sorted((self.counts, other.counts), key=len)
        total = Counter(big)
        total.update(small)  # costs the size of the smaller table
        return Counts(total, pattern=self.pattern, special_tokens=self.special_tokens)

    def check_same_settings(self, pattern: str, special_tokens: Sequence[str]) -> None:
        """Raise ValueError unless ``pattern`` and ``special_tokens`` are the ones these counts were made with."""
        if resolve_pattern(pattern)[0] != self._source:
            raise ValueError(f"these counts were made with pattern {self.pattern!r}, not {pattern!r}; train with "
                             f"pattern={self.pattern!r} or count again with the pattern you want.")
        if set(special_tokens) != set(self.special_tokens):
            raise ValueError(f"these counts were made with special tokens {list(self.special_tokens)!r}, not "
                             f"{list(special_tokens)!r}; pass the same special tokens or count again.")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the TSV described in the module docstring; returns the path."""
        out = Path(path)
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"{MAGIC}\t{VERSION}\n")
            f.write(f"#pattern\t{json.dumps(self.pattern)}\n")
            f.write(f"#special_tokens\t{json.dumps(list(self.special_tokens), ensure_ascii=False)}\n")
            # Most frequent first, then by bytes: the same counts always give the same file.
            ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
            f.writelines(f"{k.translate(_TO_PRINTABLE)}\t{v}\n" for k, v in ordered)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Counts:
        """Read a file written by :meth:`save`; a malformed line raises ValueError naming the file and line."""
        header: dict[str, object] = {}
        counts: Counter[str] = Counter()
        for n, piece, key, value in iter_counts_file(path, header):
            if key in counts:
                raise ValueError(f"{path}, line {n}: the piece {piece!r} is repeated; was the file edited by hand?")
            counts[key] = value
        pattern, specials = header_settings(path, header)
        return cls(counts, pattern=pattern, special_tokens=specials)


def iter_counts_file(path: str | os.PathLike[str], header: dict[str, object]) -> Iterator[tuple[int, str, str, int]]:
    """The data lines of a counts file, checked, one at a time: (line number, piece as written, pre-token as a latin-1
    ``str``, count). ``header`` gets the header's values as they are read (before the first data line). A repeated
    piece is left to the caller (it takes a table of what was read).
    """
    with open(path, encoding="utf-8", newline="\n") as f:
        seen_data = False
        for n, line in enumerate(f, start=1):
            piece, tab, value = line.rstrip("\n").partition("\t")
            where = f"{path}, line {n}"
            if n == 1:
                if piece != MAGIC:
                    raise ValueError(f"{where}: not a tokviz counts file (it should start with {MAGIC!r}); "
                                     "make one with `tokviz count`.")
                if value != str(VERSION):
                    raise ValueError(f"{where}: counts file version {value!r}; this tokviz reads {VERSION}.")
                continue
            if not tab:
                raise ValueError(f"{where}: expected piece<TAB>count, found no tab.")
            if not seen_data and piece.startswith("#") and not value.isdigit():
                try:
                    header[piece[1:]] = json.loads(value)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{where}: the header value of {piece!r} is not JSON ({e}).") from e
                continue
            if not value.isdigit() or not value.isascii():
                raise ValueError(f"{where}: the count {value!r} is not a non-negative integer.")
            key = piece.translate(_FROM_PRINTABLE)
            if not piece or not all(ord(c) < 256 for c in key):
                why = "empty" if not piece else "not GPT-2 byte characters"
                raise ValueError(f"{where}: the piece {piece!r} is {why}; was the file edited by hand?")
            seen_data = True
            yield n, piece, key, int(value)


def header_settings(path: str | os.PathLike[str], header: Mapping[str, object]) -> tuple[str, tuple[str, ...]]:
    """The pattern and special tokens a counts file's header gives (``gpt2`` and none when it gives none)."""
    pattern = header.get("pattern", "gpt2")
    specials = header.get("special_tokens", [])
    if not isinstance(pattern, str) or not isinstance(specials, list) or not all(
            isinstance(s, str) for s in specials):
        raise ValueError(f"{path}: the header's pattern must be a string and special_tokens a list of strings.")
    return pattern, tuple(specials)


def count_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    pattern: str = "gpt2",
    special_tokens: Sequence[str] = (),
    workers: int | None = None,
    errors: str = "strict",
    on_progress: Callable[[int], object] | None = None,
) -> Counts:
    """Count the pre-tokens of UTF-8 files (local paths, or fsspec URLs such as ``s3://bucket/x.txt``), one
    document each, on this machine's cores. ``on_progress`` gets the bytes (local files: characters) done so far.
    Every file is checked first (:func:`tokviz.corpus.checks.require_utf8`): one error names each missing file and,
    with ``errors="strict"``, each one that is not UTF-8, before any counting.

    For a cluster, see :func:`tokviz.scale.count_on_dask`, which gives the same counts.
    """
    pretok = PreTokenizer.create(pattern, special_tokens=list(special_tokens))
    paths = list(paths)
    require_utf8(paths, errors=errors, workers=workers)  # every bad file named at once, before counting starts
    total: Counter[str] = Counter()
    done = 0
    for p in paths:
        size = source_size(p)

        def progress(n: int, base: int = done, size: int = size) -> None:
            if on_progress is not None:
                on_progress(base + min(n, size))

        _add(total, count_source(p, pretok, workers=workers, errors=errors, on_progress=progress))
        done += size
        progress(size)
    return Counts(total, pattern=pattern, special_tokens=tuple(special_tokens))


def count_texts(
    texts: Iterable[str], *, pattern: str = "gpt2", special_tokens: Sequence[str] = (), workers: int | None = None
) -> Counts:
    """Count the pre-tokens of texts held in memory, one document each."""
    pretok = PreTokenizer.create(pattern, special_tokens=list(special_tokens))
    total: Counter[str] = Counter()
    for text in texts:
        if not isinstance(text, str):
            raise ValueError(f"texts must be str, got {type(text).__name__}; for files use count_files.")
        _add(total, count_large_text(text, pretok, workers=workers))
    return Counts(total, pattern=pattern, special_tokens=tuple(special_tokens))


def _add(total: Counter[str], part: Mapping[str, int]) -> None:
    total.update(part)
