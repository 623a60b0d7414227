"""Token-budget chunks as table rows and as JSONL (one JSON object per chunk, from :mod:`tokviz.analysis.budget`, which
the command line shares) to download.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> from tokviz.analysis.budget import chunk_by_tokens
    >>> chunks = chunk_by_tokens(ByteTokenizer(), "Hi. Bye.", max_tokens=4, boundary="sentence")
    >>> print(chunks_jsonl(chunks, tokenizer="byte"))
    {"index": 0, "start": 0, "end": 4, "n_tokens": 4, "cut": "sentence", "tokenizer": "byte", "text": "Hi. "}
    {"index": 1, "start": 4, "end": 8, "n_tokens": 4, "cut": "end", "tokenizer": "byte", "text": "Bye."}
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Iterable

from tokviz.analysis.budget import Chunk, chunk_record, chunks_jsonl

__all__ = ["JSONL_MIME", "chunk_record", "chunk_rows", "chunks_jsonl"]

JSONL_MIME = "application/jsonl"


def chunk_rows(chunks: Iterable[Chunk], *, preview: int = 80) -> list[dict[str, object]]:
    """One row per chunk: number, character span, own token count, where it was cut, and its start as a preview."""
    return [{"chunk": c.index + 1, "start": c.start, "end": c.end, "tokens": c.n_tokens, "cut": c.cut,
             "preview": c.text[:preview] + ("…" if len(c.text) > preview else "")} for c in chunks]
