"""SentencePiece-style BPE over characters (Llama 2, Mistral): a piece starts as its characters and the best-ranked
adjacent pair is merged first (leftmost among equals); with byte fallback a character outside the vocabulary becomes
its UTF-8 bytes as ``<0xNN>`` pieces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokviz.models.bpe_rules import merge_by_pairs
from tokviz.models.piece_model import TokenCut, piece_bytes


class CharBPEModel:
    """BPE over characters: ``vocab`` (piece -> id), ``merges`` as pairs of pieces in rank order."""

    def __init__(self, vocab: Mapping[str, int], merges: Sequence[tuple[str, str]], *, byte_fallback: bool = False,
                 unk_id: int | None = None, fuse_unk: bool = False, ignore_merges: bool = False) -> None:
        self.vocab = dict(vocab)
        self.byte_fallback = byte_fallback
        self.unk_id = unk_id
        self.fuse_unk = fuse_unk
        self.ignore_merges = ignore_merges
        self.merge_pieces = [(a, b) for a, b in merges]
        self._rank: dict[tuple[int, int], int] = {}
        self._merged: list[int] = []
        for k, (a, b) in enumerate(self.merge_pieces):
            ia, ib, iab = self.vocab.get(a), self.vocab.get(b), self.vocab.get(a + b)
            if ia is None or ib is None or iab is None:
                missing = next(x for x, i in ((a, ia), (b, ib), (a + b, iab)) if i is None)
                raise ValueError(f"merge {k + 1} ({a!r} {b!r}) names {missing!r}, which is not in the vocabulary.")
            self._rank[(ia, ib)] = len(self._merged)  # a pair given twice: the later rank, as tokenizers keeps it
            self._merged.append(iab)
        self._bytes = {b: self.vocab.get(f"<0x{b:02X}>") for b in range(256)}
        self._length = {i: len(piece_bytes(p)) for p, i in self.vocab.items()}

    def _symbols(self, piece: str) -> tuple[list[int], list[int]]:
        """Initial symbols and the UTF-8 length of each."""
        ids: list[int] = []
        lengths: list[int] = []
        unk = self.unk_id
        pending = 0  # bytes of the unknown run not yet added
        vocab = self.vocab
        for ch in piece:
            tid = vocab.get(ch)
            n = len(ch.encode("utf-8"))
            if tid is not None:
                if pending:
                    ids.append(unk)  # type: ignore[arg-type]  # pending > 0 only when unk is set
                    lengths.append(pending)
                    pending = 0
                ids.append(tid)
                lengths.append(n)
                continue
            if self.byte_fallback:
                byte_ids = [self._bytes[b] for b in ch.encode("utf-8")]
                if all(b is not None for b in byte_ids):
                    ids.extend(byte_ids)  # type: ignore[arg-type]  # checked just above
                    lengths.extend([1] * n)
                    continue
            if unk is None:
                continue  # no unknown token: tokenizers drops the character
            if pending and self.fuse_unk:
                pending += n
            else:
                if pending:
                    ids.append(unk)
                    lengths.append(pending)
                pending = n
        if pending:
            ids.append(unk)  # type: ignore[arg-type]
            lengths.append(pending)
        return ids, lengths

    def tokenize(self, piece: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each token of ``piece``."""
        if self.ignore_merges:
            whole = self.vocab.get(piece)
            if whole is not None:
                return [(whole, 0, len(piece.encode("utf-8")))]
        ids, lengths = self._symbols(piece)
        merged, _ = merge_by_pairs(list(ids), self._rank, self._merged)
        out: list[TokenCut] = []
        pos = k = 0
        for tid in merged:
            # A final token spans the initial symbols whose bytes add up to its own (an unknown token: one symbol).
            if tid == self.unk_id or k < len(ids) and ids[k] == tid:
                n = lengths[k]
                k += 1
            else:
                want, n = self._length[tid], 0
                while n < want and k < len(ids):
                    n += lengths[k]
                    k += 1
            out.append((tid, pos, pos + n))
            pos += n
        return out
