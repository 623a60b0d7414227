"""The rules of :meth:`~tokviz.engines.piece_offsets.OffsetTables.encoding` for long texts, as array operations.

On a megabyte of multilingual text a SentencePiece BPE with byte fallback gives about 900,000 tokens, most of them
byte pieces; settling each in Python (a byte piece is partial; neighbours that
share a character are partial) took half of ``encode_with_offsets``. Here those rules are masks over the ids and
their spans (numpy comes with the engines extra); what needs the text (the characters under a lone mark, the
unknown token's text, added tokens) is read one token at a time, for those tokens only. The result equals the
token-by-token one field for field (``tests/engines/test_piece_offsets.py`` and ``test_tokenizers_engine.py`` run
every rule both ways).

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
    any_byte: NDArray[np.bool_]
    watched: NDArray[np.bool_]

    @classmethod
    def of(cls, tables: OffsetTables) -> PieceArrays:
        size = len(tables.shown)
        byte = np.zeros(size, dtype=np.bool_)
        byte[[i for i, b in tables.byte_pieces.items() if b >= 0x80]] = True
        any_byte = np.zeros(size, dtype=np.bool_)
        any_byte[list(tables.byte_pieces)] = True
        watched = np.zeros(size, dtype=np.bool_)
        watched[list(tables.mark_ids)] = True
        if tables.tok.unk_id is not None:
            watched[tables.tok.unk_id] = True
        return cls(np.fromiter(map(len, tables.shown), dtype=np.int64, count=size), byte, any_byte, watched)


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
    arrays = tables.arrays
    assert arrays is not None  # the caller takes this path only with numpy's tables
    ids: list[int] = native.ids
    n = len(ids)
    at = np.fromiter(ids, dtype=np.int64, count=n)
    flat = offset_array(native)
    added = tables.added_indices(text, ids, ArraySpans(flat[:, 0], flat[:, 1]),
                                 among=lambda found: np.flatnonzero(np.isin(at, found)).tolist())
    if added is None:
        return None
    # A byte piece spanning more than one character: the piece spelled in the text, or a byte of a fused run.
    if np.any(arrays.any_byte[at] & (flat[:, 1] - flat[:, 0] > 1)):
        return None
    cut = arrays.byte[at]
    shown = tables.shown
    tokens = list(map(shown.__getitem__, ids))
    lengths = arrays.lengths[at]
    watched = np.flatnonzero(arrays.watched[at]).tolist()
    if watched and not _settle_watched(tables, text, ids, flat, watched, added, tokens, lengths):
        return None
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


def _settle_watched(tables: OffsetTables, text: str, ids: list[int], flat: NDArray[np.int64], watched: list[int],
                    added: set[int], tokens: list[bytes], lengths: NDArray[np.int64]) -> bool:
    """The lone-mark and unknown-token rules on the tokens ``watched``, with the results the token-by-token
    encoding gets: spans set in ``flat``, the unknown tokens' text in ``tokens`` and ``lengths``; False where a
    rule declines the text.

    A mark reads only its own span and the next token's, which no rule has changed yet when the tokens are settled
    in order, so all marks are settled at once (a multilingual megabyte has tens of thousands); an unknown token
    reads the span before it as settled and the one after it as it was."""
    at = np.array(watched, dtype=np.int64)
    is_mark = np.isin(np.array([ids[i] for i in watched], dtype=np.int64), list(tables.mark_ids))
    marks = at[is_mark]
    unk = tables.tok.unk_id
    unks = np.array([i for i in at[~is_mark].tolist() if ids[i] == unk and i not in added], dtype=np.int64)
    if len(unks) and not tables.unk_shown:
        return False
    last = len(flat) - 1
    after_unk = flat[np.minimum(unks + 1, last)].copy()  # as it was, before any mark is settled
    if len(marks):
        s, e = flat[marks, 0], flat[marks, 1]
        nxt = flat[np.minimum(marks + 1, last)]
        shares = (marks < last) & (nxt[:, 0] < e) & (nxt[:, 1] > nxt[:, 0])
        rules = [tables.mark_rule(text[a:b]) for a, b in zip(s.tolist(), e.tolist())]
        owned = np.array([r[0] for r in rules], dtype=np.bool_)
        inserted = np.array([r[1] for r in rules], dtype=np.bool_)
        live = e > s  # an empty mark keeps its span
        if np.any(live & ((shares & ~inserted) | (~shares & ~owned))):
            return False
        flat[marks[live & shares], 1] = s[live & shares]
    if not len(unks):
        return True
    # As OffsetTables._unk_text: a token over characters it shares with neither neighbour.
    s, e = flat[unks, 0], flat[unks, 1]
    before = flat[np.maximum(unks - 1, 0)]
    shares_before = (unks > 0) & (before[:, 1] > s) & (before[:, 1] > before[:, 0])
    shares_after = (unks < last) & (after_unk[:, 0] < e) & (after_unk[:, 1] > after_unk[:, 0])
    if np.any((e <= s) | shares_before | shares_after):
        return False
    for i, a, b in zip(unks.tolist(), s.tolist(), e.tolist()):
        shown = tables.unk_shown_text(text[a:b])
        if shown is None:
            return False
        tokens[i], lengths[i] = shown, len(shown)
    return True
