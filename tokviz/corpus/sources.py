"""Read a corpus file wherever it is: a local path, or an fsspec URL (``s3://``, ``gs://``, ``https://``, ...).

A source is a path or a URL string; a string with ``://`` is a URL and is read through fsspec (imported only then,
so local files need no extra package). Byte ranges are cut at the same safe places as local files
(:mod:`tokviz.corpus.ranges`), reading only a small window of the file around each cut, so a cluster's client or a
worker
can plan a remote file of any size without downloading it.

Example:
    >>> import pathlib, tempfile
    >>> from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "a.txt"
    ...     _ = path.write_text("aa bb cc dd", encoding="utf-8")
    ...     url = path.as_uri()  # file:///...: read through fsspec like any remote file
    ...     source_ranges(url, target=4), read_range(url, 5, 11)
    ([(0, 5), (5, 11)], ' cc dd')
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from typing import Any

from tokviz.core.textfile import bad_utf8, refuse_special_file

# cut_ranges is the cutter behind file_ranges, given a window reader: a remote file is cut by the same rule.
from tokviz.corpus.ranges import cut_ranges, file_ranges

Source = str | os.PathLike[str]


def is_url(source: Source) -> bool:
    """Whether ``source`` is read through fsspec (a ``str`` holding ``://``)."""
    return isinstance(source, str) and "://" in source


def filesystem_of(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as e:
        raise ValueError(f"{url}: reading URLs needs fsspec; pip install 'tokviz[scale]' (or fsspec).") from e
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as e:  # an unknown protocol, or its package (s3fs, gcsfs) is missing
        raise ValueError(f"{url}: fsspec cannot open this URL ({e}); install the filesystem's package.") from e
    return fs, path


def source_size(source: Source) -> int:
    """The size of a source in bytes; ValueError if it does not exist."""
    if is_url(source):
        fs, path = filesystem_of(str(source))
        try:
            return int(fs.size(path))
        except FileNotFoundError as e:
            raise ValueError(f"{source}: no such file.") from e
    if not os.path.isfile(source):
        raise ValueError(f"{source}: no such file.")
    return os.path.getsize(source)


def source_ranges(source: Source, *, target: int, special_tokens: tuple[str, ...] | list[str] = ()) -> list[
        tuple[int, int]]:
    """Byte ranges of about ``target`` bytes covering the source, cut where :func:`tokviz.corpus.ranges.file_ranges`
    cuts."""
    if not is_url(source):
        source_size(source)  # a missing file is a ValueError naming it
        return file_ranges(source, target=target, special_tokens=special_tokens)
    fs, path = filesystem_of(str(source))
    size = source_size(source)

    def window(start: int, end: int) -> bytes:
        return bytes(fs.cat_file(path, start=start, end=min(end, size)))

    specials = [s.encode("utf-8") for s in special_tokens if s]
    return cut_ranges(size, window, target=target, specials=specials, space=b" ")


def read_range(source: Source, start: int, end: int, *, errors: str = "strict") -> str:
    """Bytes ``[start, end)`` of a source, decoded; a bad byte raises ValueError naming the source and offset."""
    if is_url(source):
        fs, path = filesystem_of(str(source))
        data = bytes(fs.cat_file(path, start=start, end=end))
    else:
        with open(source, "rb") as f:
            f.seek(start)
            data = f.read(end - start)
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        # A range starts mid-file: its line is not known here, only the byte.
        where = bad_utf8(str(source), data, e, offset=start, line=None if start == 0 else 0)
        raise ValueError(f"{where}. Convert the file to UTF-8 or count with errors='replace'.") from e


def iter_source(source: Source, *, errors: str = "strict", block: int = 1 << 20) -> Iterator[str]:
    """The text of a source in blocks, read with bounded memory."""
    if not is_url(source):
        yield from iter_file(source, errors=errors, block=block)
        return
    fs, path = filesystem_of(str(source))
    decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
    offset = 0
    with fs.open(path, "rb") as f:
        while True:
            raw = f.read(block)
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as e:
                where = bad_utf8(str(source), e.object, e, offset=offset, line=0)
                raise ValueError(f"{where}. Convert the file to UTF-8 or count with errors='replace'.") from e
            if text:
                yield text
            if not raw:
                return
            offset += len(raw)


def iter_file(path: str | os.PathLike[str], *, errors: str = "strict", block: int = 1 << 20) -> Iterator[str]:
    """Read a UTF-8 file in blocks; a decoding error names the file and the byte offset of the first bad byte.

    ``errors="replace"`` reads bad bytes as U+FFFD instead.
    """
    refuse_special_file(path)
    with open(path, "rb") as f:
        data_offset = 0
        line = 1
        decoder = codecs.getincrementaldecoder("utf-8")(errors=errors)
        while True:
            raw = f.read(block)
            final = not raw
            pending = len(decoder.getstate()[0])  # bytes of a character split across blocks, kept from before
            try:
                text = decoder.decode(raw, final=final)
            except UnicodeDecodeError as e:
                where = bad_utf8(str(path), e.object, e, offset=max(data_offset - pending, 0), line=line)
                raise ValueError(f"{where}. Convert the file to UTF-8 (the library's errors='replace' reads bad "
                                 "bytes as U+FFFD).") from e
            if text:
                line += text.count("\n")
                yield text
            if final:
                return
            data_offset += len(raw)
