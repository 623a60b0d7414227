"""The rules of :meth:`~tokviz.engines.piece_offsets.OffsetTables.encoding` for long texts, as array operations.

On a megabyte of multilingual text a SentencePiece BPE with byte fallback gives about 900,000 tokens, most of them
byte pieces; settling each in Python (a byte piece is partial, unless the text spells the piece out; neighbours that
share a character are partial) took half of ``encode_with_offsets``. Here those rules are masks over the ids and
their spans (numpy comes with the engines extra); the rules that need the text (a lone mark, the unknown token, a
byte piece whose span is wider than one character, added tokens) still run one token at a time, on those tokens
only. The result equals the token-by-token one field for field (``tests/engines/test_piece_offsets.py`` and
``test_tokenizers_engine.py`` run every rule both ways).

Example:
    >>> import json
    >>> from tokenizers import Tokenizer as HF
    >>> from tokviz.engines.piece_offsets import OffsetTables
    >>> from tokviz.formats.hf_families import family_from_dict
    >>> data = {"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": False,
    ...                   "vocab": [["<unk>", 0.0], ["▁", -2.0], ["a", -1.0], ["b", -1.0], ["▁a", -1.0]]},
    ...         "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
    ...                           "split": True}}
    >>> tok = family_from_dict(data, source="t.json"); tok.engine = None
    >>> tables = OffsetTables.of(tok)
    >>> enc = encoding_from_arrays(tables, "b a", HF.from_str(json.dumps(data)).encode("b a", add_special_tokens=False))
    >>> enc.char_spans, enc == tok.pure_encoding("b a")
    ([(0, 0), (0, 1), (1, 3)], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tokviz.core.array_offsets import ArraySpans
from tokviz.core.encoding import Encoding, LazyPieces

if TYPE_CHECKING:
    from tokviz.engines.piece_offsets import OffsetTables


@dataclass(frozen=True)
class PieceArrays:
    """Per id: the length of its shown bytes, whether it is a byte piece of a byte >= 0x80, and whether a rule that
    needs the text watches it (a lone insertable mark, the unknown token)."""

    lengths: NDArray[np.int64]
    byte: NDArray[np.bool_]
    watched: NDArray[np.bool_]

    @classmethod
    def of(cls, tables: OffsetTables) -> PieceArrays:
        size = len(tables.shown)
        byte = np.zeros(size, dtype=np.bool_)
        byte[list(tables.byte_pieces)] = True
        watched = np.zeros(size, dtype=np.bool_)
        watched[list(tables.mark_ids)] = True
        if tables.tok.unk_id is not None:
            watched[tables.tok.unk_id] = True
        return cls(np.fromiter(map(len, tables.shown), dtype=np.int64, count=size), byte, watched)


def offset_array(native: Any) -> NDArray[np.int64]:
    """``native``'s character offsets as an (n, 2) array; a text encoded in parts (``native.shifted``: each part's
    Encoding with the characters before it) is shifted part by part, with no tuple made."""
    parts = getattr(native, "shifted", None) or [(0, native)]
    return np.concatenate([_flat(part.offsets) + shift for shift, part in parts]).reshape(-1, 2)


def _flat(offsets: list[tuple[int, int]]) -> NDArray[np.int64]:
    return np.fromiter(chain.from_iterable(offsets), dtype=np.int64, count=2 * len(offsets))


def encoding_from_arrays(tables: OffsetTables, text: str, native: Any) -> Encoding | None:
    """What ``tables.encoding(text, native)`` gives (the caller has checked ``tables.takes(text)``), built with
    masks: None where a rule declines the text."""
    arrays: PieceArrays = tables.arrays
    ids: list[int] = native.ids
    n = len(ids)
    at = np.fromiter(ids, dtype=np.int64, count=n)
    flat = offset_array(native)
    spans = ArraySpans(flat[:, 0], flat[:, 1])  # views: a mark's span set in ``flat`` is read by the next rule
    added = _added(tables, text, ids, at, flat)
    if added is None:
        return None
    cut = arrays.byte[at]
    # A byte piece spanning more than one character may be the piece's own characters spelled in the text.
    for i in np.flatnonzero(cut & (flat[:, 1] - flat[:, 0] > 1)).tolist():
        s, e = spans[i]
        if text[s:e] == tables.byte_pieces[ids[i]]:
            return None
    shown = tables.shown
    tokens = list(map(shown.__getitem__, ids))
    lengths = arrays.lengths[at]
    unk = tables.tok.unk_id
    for i in np.flatnonzero(arrays.watched[at]).tolist():
        tid = ids[i]
        if tid == unk:
            if i in added:
                continue
            unk_text = tables._unk_text(text, spans, i)
            if unk_text is None:
                return None
            tokens[i], lengths[i] = unk_text, len(unk_text)
        elif tid in tables.mark_ids:
            span = tables._mark_span(text, spans, i)
            if span is None:
                return None
            flat[i] = span
    special = [False] * n
    for i in added:
        special[i] = tables.specials.get(ids[i], False)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    starts, ends = flat[:, 0].copy(), flat[:, 1].copy()
    # Token i + 1 starts before token i ends, and neither is empty: they share a character, both are partial.
    shared = (starts[1:] < ends[:-1]) & (starts[:-1] < ends[:-1]) & (starts[1:] < ends[1:])
    partial = cut.copy()
    partial[:-1] |= shared
    partial[1:] |= shared
    tok = tables.tok
    return Encoding(ids, tokens, ArraySpans(bounds[:-1], bounds[1:]), ArraySpans(starts, ends), partial.tolist(),
                    LazyPieces(lambda: tok.pieces_of(text)), special)


def _added(tables: OffsetTables, text: str, ids: list[int], at: NDArray[np.int64],
           flat: NDArray[np.int64]) -> set[int] | None:
    """As :meth:`~tokviz.engines.piece_offsets.OffsetTables._added`, looking only at the tokens whose id is one of
    the added tokens found (the others never match)."""
    if not tables.has_added:
        return set()
    found = [(tid, s, e) for tid, s, e in tables.tok.find_added(text) if tid is not None]
    out: set[int] = set()
    if not found:
        return out
    k = 0
    for i in np.flatnonzero(np.isin(at, [tid for tid, _, _ in found])).tolist():
        if k < len(found) and ids[i] == found[k][0] and (int(flat[i, 0]), int(flat[i, 1])) == found[k][1:]:
            out.add(i)
            k += 1
    return out if k == len(found) else None
