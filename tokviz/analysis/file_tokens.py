"""Token counts of whole files, per tokenizer: text read as a stream, JSONL and CSV by a chosen column.

A text file is one document: it is decoded a block at a time and handed to the tokenizer's ``encode_iterable``
(the same ids as encoding the whole text; a byte-level BPE cuts the stream at safe places, so only a block is held at
once). A JSONL or CSV file is a list of records: the chosen column of each record is encoded on its own, as a dataset
is fed to a model, and the counts are summed. Beside the tokens, the same pass counts UTF-8 bytes, characters and
words (runs of non-space characters), so the ratios need no second read. ``on_progress`` is called with the bytes
read so far, for a progress bar.

Example:
    >>> import io
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> c = count_file(io.BytesIO("héllo world\\n".encode()), ByteTokenizer())
    >>> c.tokens, c.bytes, c.chars, c.words, c.bytes_per_token
    (13, 13, 12, 2, 1.0)
    >>> rows = io.BytesIO(b'{"text": "a b"}\\n{"text": "cd"}\\n')
    >>> count_file(rows, ByteTokenizer(), kind="jsonl", column="text").tokens
    5
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from tokviz.core.protocol import TokenizerLike, encode_as_shown, id_batches

Kind = Literal["text", "jsonl", "csv"]
#: Bytes read at a time from a text file.
BLOCK = 1 << 20
#: Longest CSV field read (csv's own default is 128 KiB, less than one long document).
CSV_FIELD_LIMIT = 1 << 28
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class TextCount:
    """Tokens, UTF-8 bytes, characters, words and records (documents) of a file or a set of files."""

    tokens: int
    bytes: int
    chars: int
    words: int
    records: int = 1

    def _per(self, n: int) -> float:
        return n / self.tokens if self.tokens else 0.0

    @property
    def bytes_per_token(self) -> float:
        return self._per(self.bytes)

    @property
    def chars_per_token(self) -> float:
        return self._per(self.chars)

    @property
    def words_per_token(self) -> float:
        return self._per(self.words)

    def share_of(self, context: int) -> float:
        """The tokens as a share of a context window of ``context`` tokens (1.0 fills it exactly).

        >>> TextCount(tokens=3000, bytes=0, chars=0, words=0).share_of(2000)
        1.5
        """
        if context <= 0:
            raise ValueError(f"a context window holds at least one token; got {context}.")
        return self.tokens / context

    def __add__(self, other: TextCount) -> TextCount:
        return TextCount(self.tokens + other.tokens, self.bytes + other.bytes, self.chars + other.chars,
                         self.words + other.words, self.records + other.records)


def detect_kind(name: str) -> Kind:
    """How a file is read, by its name: ``.jsonl`` / ``.ndjson`` as JSON lines, ``.csv`` / ``.tsv`` as CSV, else text.

    >>> detect_kind("data.JSONL"), detect_kind("a.csv"), detect_kind("notes.md")
    ('jsonl', 'csv', 'text')
    """
    low = name.lower()
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith((".csv", ".tsv")):
        return "csv"
    return "text"


class _Tally:
    """Bytes, characters and words of the text that passes through, across chunk boundaries."""

    def __init__(self) -> None:
        self.bytes = self.chars = self.words = 0
        self._in_word = False

    def see(self, text: str) -> str:
        self.chars += len(text)
        self.bytes += len(text.encode("utf-8", "surrogatepass"))
        if text:
            self.words += len(_WORD.findall(text))
            if self._in_word and not text[0].isspace():
                self.words -= 1  # the chunk goes on with the word the last one ended in
            self._in_word = not text[-1].isspace()
        return text

    def reset_word(self) -> None:
        self._in_word = False


def _decoded(stream: BinaryIO, *, name: str, on_progress: Callable[[int], None] | None) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    done = 0
    while True:
        block = stream.read(BLOCK)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as e:
            raise ValueError(f"{name}: not UTF-8 text (byte {done + e.start:,}); save it as UTF-8, or count the "
                             "file it was exported from.") from None
        done += len(block)
        if on_progress is not None:
            on_progress(done)
        if text:
            yield text
        if not block:
            return


def _records(stream: BinaryIO, *, kind: Kind, column: str, name: str,
             on_progress: Callable[[int], None] | None) -> Iterator[str]:
    """The chosen column of each record, as text."""
    counted = io.BufferedReader(_Counted(stream, on_progress), buffer_size=1 << 16)
    lines = io.TextIOWrapper(counted, encoding="utf-8", errors="strict", newline="" if kind == "csv" else None)
    try:
        if kind == "jsonl":
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{name}, line {n}: not JSON ({e.msg}); each line must be one JSON object.") \
                        from None
                if not isinstance(record, dict) or column not in record:
                    raise ValueError(f"{name}, line {n}: no field {column!r}; choose a field every line has.")
                value = record[column]
                yield value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        else:
            old = csv.field_size_limit(CSV_FIELD_LIMIT)
            try:
                delimiter = "\t" if name.lower().endswith(".tsv") else ","
                reader = csv.DictReader(lines, delimiter=delimiter)
                if reader.fieldnames is None or column not in reader.fieldnames:
                    raise ValueError(f"{name}: no column {column!r} in the header; choose one of "
                                     f"{', '.join(reader.fieldnames or [])}.")
                for row in reader:
                    yield row.get(column) or ""
            except csv.Error as e:
                raise ValueError(f"{name}, line {reader.line_num}: not CSV ({e}).") from None
            finally:
                csv.field_size_limit(old)
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text; save it as UTF-8.") from None
    finally:
        lines.detach()


class _Counted(io.RawIOBase):
    """A binary stream that reports the bytes read from it."""

    def __init__(self, stream: BinaryIO, on_progress: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._done = 0
        self._on_progress = on_progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._done += n
        if self._on_progress is not None:
            self._on_progress(self._done)
        return n


def columns(stream: BinaryIO, *, kind: Kind, name: str = "file") -> list[str]:
    """The columns a JSONL (the first record's fields) or CSV (its header) file offers; the stream is read from
    where it is and not rewound.

    >>> jsonl, table = io.BytesIO(b'{"id": 1, "text": "hi"}\\n'), io.BytesIO(b"a,b\\n1,2\\n")
    >>> columns(jsonl, kind="jsonl"), columns(table, kind="csv")
    (['id', 'text'], ['a', 'b'])
    """
    head = stream.read(1 << 20).decode("utf-8", "replace")
    if kind == "jsonl":
        first = next((ln for ln in head.splitlines() if ln.strip()), "")
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            raise ValueError(f"{name}: the first line is not JSON; each line must be one JSON object.") from None
        if not isinstance(record, dict):
            raise ValueError(f"{name}: the first line is not a JSON object; each line must be one.")
        return [str(k) for k in record]
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    header = next(csv.reader(io.StringIO(head.partition("\n")[0]), delimiter=delimiter), [])
    return [h for h in header if h]


def count_file(stream: BinaryIO, tok: TokenizerLike, *, kind: Kind = "text", column: str | None = None,
               name: str = "file", on_progress: Callable[[int], None] | None = None) -> TextCount:
    """Count ``tok``'s tokens in a file read from ``stream`` (binary, from where it is), with its bytes, characters
    and words; ValueError (saying how to fix it) for text that is not UTF-8 or a record without ``column``."""
    tally = _Tally()
    if kind == "text":
        chunks = (tally.see(c) for c in _decoded(stream, name=name, on_progress=on_progress))
        tokens = sum(map(len, id_batches(tok, chunks)))
        return TextCount(tokens, tally.bytes, tally.chars, tally.words)
    if column is None:
        raise ValueError(f"{name}: choose the {'field' if kind == 'jsonl' else 'column'} that holds the text.")
    tokens = records = 0
    for text in _records(stream, kind=kind, column=column, name=name, on_progress=on_progress):
        tally.reset_word()
        tokens += len(encode_as_shown(tok, tally.see(text)))
        records += 1
    return TextCount(tokens, tally.bytes, tally.chars, tally.words, records)


def count_texts(texts: Iterable[str], tok: TokenizerLike) -> TextCount:
    """Counts of documents given as strings, each encoded on its own.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> count_texts(["a b", "c"], ByteTokenizer())
    TextCount(tokens=4, bytes=4, chars=4, words=3, records=2)
    """
    tally = _Tally()
    tokens = records = 0
    for text in texts:
        tally.reset_word()
        tokens += len(encode_as_shown(tok, tally.see(text)))
        records += 1
    return TextCount(tokens, tally.bytes, tally.chars, tally.words, records)
