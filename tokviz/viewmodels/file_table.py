"""The Files page's table: uploaded files x chosen tokenizers, with tokens, ratios, the share of a context window,
totals per tokenizer, and the same table as CSV.

Counting is :func:`tokviz.analysis.file_tokens.count_file`, one stream per (file, tokenizer): an upload is read from
its buffer where it lies, never copied whole. Progress is reported as the share of all bytes to read.

Example:
    >>> import io
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> t = count_table([FileInput("a.txt", lambda: io.BytesIO(b"hi there"), 8)], {"byte": ByteTokenizer()},
    ...                 contexts={"byte": 4})
    >>> [(r["file"], r["tokens"], r["of context"]) for r in t.rows()]
    [('a.txt', 8, '200.0% of 4')]
"""

from __future__ import annotations

import csv
import io
import multiprocessing as mp
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import BinaryIO

from tokviz.analysis.file_tokens import Kind, TextCount, count_file, detect_kind
from tokviz.core.protocol import TokenizerLike


@dataclass(frozen=True)
class FileInput:
    """One file to count: its name, a way to get it as a binary stream at its start (the caller owns and closes
    it: an upload's buffer is rewound and read again), its size, and the column that holds the text (JSONL, CSV)."""

    name: str
    open: Callable[[], BinaryIO]
    size: int
    column: str | None = None

    @property
    def kind(self) -> Kind:
        return detect_kind(self.name)


@dataclass(frozen=True)
class Cell:
    file: str
    tokenizer: str
    count: TextCount | None
    context: int | None
    error: str = ""


@dataclass(frozen=True)
class CountTable:
    """Counts per (file, tokenizer) in input order, and per tokenizer over all files that could be read."""

    cells: tuple[Cell, ...]
    totals: tuple[Cell, ...]

    def rows(self, *, with_totals: bool = False) -> list[dict[str, object]]:
        """Table rows: file, tokenizer, tokens, bytes/token, chars/token, words/token, of context (and the error of
        a file that could not be read)."""
        out = []
        for c in self.cells + (self.totals if with_totals else ()):
            row: dict[str, object] = {"file": c.file, "tokenizer": c.tokenizer}
            if c.count is None:
                row.update({"tokens": None, "bytes/token": None, "chars/token": None, "words/token": None,
                            "of context": "", "problem": c.error})
            else:
                n = c.count
                row.update({"tokens": n.tokens, "bytes/token": round(n.bytes_per_token, 3),
                            "chars/token": round(n.chars_per_token, 3), "words/token": round(n.words_per_token, 3),
                            "of context": f"{n.share_of(c.context):.1%} of {c.context:,}" if c.context else "",
                            "problem": ""})
            out.append(row)
        if not any(r["problem"] for r in out):
            for r in out:
                del r["problem"]
        return out

    def csv(self) -> str:
        """The table with totals as CSV (raw counts too: bytes, characters, words, records)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", "tokenizer", "tokens", "bytes", "chars", "words", "records", "bytes_per_token",
                    "chars_per_token", "words_per_token", "context", "share_of_context", "problem"])
        for c in self.cells + self.totals:
            n = c.count
            if n is None:
                w.writerow([c.file, c.tokenizer, "", "", "", "", "", "", "", "", c.context or "", "", c.error])
                continue
            w.writerow([c.file, c.tokenizer, n.tokens, n.bytes, n.chars, n.words, n.records,
                        f"{n.bytes_per_token:.4f}", f"{n.chars_per_token:.4f}", f"{n.words_per_token:.4f}",
                        c.context or "", f"{n.share_of(c.context):.6f}" if c.context else "", ""])
        return buf.getvalue()


def count_table(files: Sequence[FileInput], tokenizers: Mapping[str, TokenizerLike], *,
                contexts: Mapping[str, int | None] | None = None,
                on_progress: Callable[[float, str], None] | None = None) -> CountTable:
    """Count every file with every tokenizer; a file that cannot be read gets its message in its row (the others
    are still counted). ``on_progress(share done, what)`` is called as bytes are read."""
    contexts = contexts or {}
    total = max(1, sum(f.size for f in files) * len(tokenizers))
    base = 0
    cells, totals = [], []
    for name, tok in tokenizers.items():
        context = contexts.get(name)
        sum_count: TextCount | None = None
        for f in files:
            def progress(done: int, base: int = base, what: str = f"{name}: {f.name}") -> None:
                if on_progress is not None:
                    on_progress(min(1.0, (base + done) / total), what)
            try:
                # Not closed here: an upload's buffer is read again for the next tokenizer.
                n = count_file(f.open(), tok, kind=f.kind, column=f.column, name=f.name, on_progress=progress)
            except ValueError as e:
                cells.append(Cell(f.name, name, None, context, str(e)))
            else:
                cells.append(Cell(f.name, name, n, context))
                sum_count = n if sum_count is None else sum_count + n
            base += f.size
        totals.append(Cell("(total)", name, sum_count, context, "" if sum_count else "no file could be read"))
    return CountTable(tuple(cells), tuple(totals))


def _child(conn: Connection, files: Sequence[FileInput], tokenizers: Mapping[str, TokenizerLike],
           contexts: Mapping[str, int | None]) -> None:
    last = [0.0]

    def progress(share: float, what: str) -> None:
        if share - last[0] >= 0.01 or share >= 1.0:  # a hundred messages at most
            last[0] = share
            conn.send(("progress", (share, what)))

    try:
        conn.send(("done", count_table(files, tokenizers, contexts=contexts, on_progress=progress)))
    except Exception as e:  # noqa: BLE001 - the parent shows it as a message
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def count_table_in_child(files: Sequence[FileInput], tokenizers: Mapping[str, TokenizerLike], *,
                         contexts: Mapping[str, int | None] | None = None,
                         on_progress: Callable[[float, str], None] | None = None) -> CountTable:
    """:func:`count_table` in a forked child process, so pure-Python encoding does not hold the server's GIL while
    other sessions wait; the child sees the uploads and tokenizers as they are in memory (fork copies nothing up
    front), and sends back progress and the table. Where fork is not available, counts here.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> t = count_table_in_child([FileInput("a.txt", lambda: io.BytesIO(b"abc"), 3)], {"byte": ByteTokenizer()})
    >>> t.cells[0].count.tokens
    3
    """
    if "fork" not in mp.get_all_start_methods():
        return count_table(files, tokenizers, contexts=contexts, on_progress=on_progress)
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, files, tokenizers, contexts or {}), daemon=True,
                       name=f"tokviz-files-{os.getpid()}")
    proc.start()
    child.close()
    try:
        while True:
            try:
                kind, payload = parent.recv()
            except EOFError:
                raise ValueError(f"the counting process ended without a result (exit code {proc.exitcode}); the "
                                 "server may be short of memory: try fewer or smaller files.") from None
            if kind == "progress" and on_progress is not None:
                on_progress(*payload)
            elif kind == "done":
                return payload
            elif kind == "error":
                raise ValueError(f"counting failed: {payload}")
    finally:
        parent.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
