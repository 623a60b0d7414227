"""Vocabulary health as tables: a summary (one row per check) and the browsable list of each check.

Example:
    >>> from tokviz import Tokenizer
    >>> from tokviz.analysis.health import vocab_health
    >>> tok = Tokenizer({i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b" ab"}, [(b"a", b"b"), (b" ", b"ab")])
    >>> h = vocab_health(tok, corpus="ab")
    >>> [(r["check"], r["count"]) for r in summary_rows(h)][:3]
    [('Not round-trip', 128), ('Not whole UTF-8', 128), ('Never produced', 257)]
    >>> [(r["group"], r["id"], r["token"], r["hex"]) for r in check_rows(h, "near_duplicates", tok.vocab)]
    [(1, 256, "'ab'", '61 62'), (1, 257, "' ab'", '20 61 62')]
"""

from __future__ import annotations

from collections.abc import Mapping

from tokviz.analysis.anatomy import quoted
from tokviz.analysis.health import DuplicateGroups, HealthList, VocabHealth


def summary_rows(h: VocabHealth) -> list[dict[str, object]]:
    """One row per computed check: its title, count, share of the checked tokens, and definition."""
    rows: list[dict[str, object]] = []
    for c in h.checks:
        n = c.count if isinstance(c, HealthList) else len(c.ids)
        rows.append({"check": c.title, "key": c.key, "count": c.count,
                     "share": round(n / h.n_regular, 4) if h.n_regular else 0.0, "definition": c.definition})
    return rows


def _row(i: int, vocab: Mapping[int, bytes]) -> dict[str, object]:
    b = vocab[i]
    return {"id": i, "token": quoted(b), "hex": b.hex(" "), "bytes": len(b)}


def check_rows(h: VocabHealth, key: str, vocab: Mapping[int, bytes], *, limit: int = 500) -> list[dict[str, object]]:
    """The first ``limit`` tokens a check flags, with text, hex and length (and the check's value, or the group
    number for near-duplicates); ``vocab`` is the tokenizer's id -> bytes. A list without values puts single-byte
    tokens after the others."""
    check = next((c for c in h.checks if c.key == key), None)
    if check is None:
        keys = ", ".join(c.key for c in h.checks)
        raise ValueError(f"no check {key!r} was computed (computed: {keys}); the corpus checks need a corpus.")
    if isinstance(check, DuplicateGroups):
        out: list[dict[str, object]] = []
        for g, group in enumerate(check.groups, start=1):
            for i in group:
                if len(out) >= limit:
                    return out
                out.append({"group": g, **_row(i, vocab)})
        return out
    rows = []
    if check.values:  # ranked by their value: kept in that order
        for k, i in enumerate(check.ids[:limit]):
            rows.append({**_row(i, vocab), "value": check.values[k]})
        return rows
    # Lone bytes last: every byte-level vocabulary has them (the 128 bytes 0x80-0xFF are never whole UTF-8, nor
    # round-trip), so the list opens on the tokens this vocabulary made.
    ordered = sorted(check.ids, key=lambda i: len(vocab[i]) == 1)
    return [_row(i, vocab) for i in ordered[:limit]]
