"""The Unigram model (T5, ALBERT, XLNet, many SentencePiece models): the cut of a piece whose pieces' scores sum
highest, found by Viterbi. A character no piece starts with becomes the unknown token, scored ``UNK_PENALTY`` below
the lowest score; neighbouring unknown characters fuse; with ``byte_fallback`` an unknown stretch becomes its UTF-8
bytes as ``<0xNN>`` pieces. Ties go to the path found first, as in Hugging Face ``tokenizers``.

Example:
    >>> model = UnigramModel([("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5)], unk_id=0)
    >>> model.tokenize("abc")
    [(3, 0, 2), (0, 2, 3)]
"""

from __future__ import annotations

from collections.abc import Sequence

from tokviz.models.piece_model import TokenCut

#: How far below the lowest piece score an unknown character is scored (``tokenizers``' and SentencePiece's 10).
UNK_PENALTY = 10.0


class UnigramModel:
    """Pieces with scores (``vocab[i] = (piece, score)``, id = position), an unknown id, optional byte fallback."""

    def __init__(self, vocab: Sequence[tuple[str, float]], *, unk_id: int | None = None,
                 byte_fallback: bool = False) -> None:
        if not vocab:
            raise ValueError("a Unigram vocabulary needs at least one piece.")
        if unk_id is not None and not 0 <= unk_id < len(vocab):
            raise ValueError(f"unk_id {unk_id} is outside the vocabulary (0..{len(vocab) - 1}).")
        self.pieces = [p for p, _ in vocab]
        self.scores = [float(s) for _, s in vocab]
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.ids: dict[str, int] = {}
        for i, p in enumerate(self.pieces):
            self.ids[p] = i  # a piece given twice: the last id, as tokenizers' map keeps it
        # Every prefix of a piece, so the search from a position stops as soon as no piece can continue.
        self._prefixes = {p[:k] for p in self.pieces for k in range(1, len(p) + 1)}
        self.min_score = min(self.scores)

    def _viterbi(self, text: str) -> list[tuple[int, int, int]]:
        """``(id, start char, end char)`` of the best path (unknown runs not yet fused)."""
        n = len(text)
        ids, scores, prefixes = self.ids, self.scores, self._prefixes
        unk_score = self.min_score - UNK_PENALTY
        best = [0.0] * (n + 1)
        start = [-1] * (n + 1)
        token = [-1] * (n + 1)
        start[0] = 0
        for i in range(n):
            here = best[i]
            single = False
            j = i + 1
            while j <= n:
                sub = text[i:j]
                if sub not in prefixes:
                    break
                tid = ids.get(sub)
                if tid is not None:
                    cand = scores[tid] + here
                    if start[j] < 0 or cand > best[j]:
                        best[j], start[j], token[j] = cand, i, tid
                    if j == i + 1:
                        single = True
                j += 1
            if not single:
                cand = unk_score + here
                if start[i + 1] < 0 or cand > best[i + 1]:
                    best[i + 1], start[i + 1], token[i + 1] = cand, i, -1  # -1: unknown
        out = []
        end = n
        while end > 0:
            s = start[end]
            out.append((token[end], s, end))
            end = s
        out.reverse()
        return out

    def tokenize(self, piece: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each token of ``piece``."""
        path = self._viterbi(piece)
        # Fuse neighbouring unknown characters, then look each piece up (an unknown run may still be a piece).
        fused: list[tuple[int, int, int]] = []
        unk = self.unk_id
        for tid, s, e in path:
            if tid == -1 and unk is None:
                raise ValueError(f"{piece[s:e]!r} has no piece and the Unigram model has no unknown token; give "
                                 "the model an unk_id.")
            if tid == unk:
                tid = -1  # the unknown piece matched as text fuses with its unknown neighbours, as in tokenizers
            if tid == -1 and fused and fused[-1][0] == -1:
                fused[-1] = (-1, fused[-1][1], e)
            else:
                fused.append((tid, s, e))
        out: list[TokenCut] = []
        pos = 0
        for tid, s, e in fused:
            text = piece[s:e]
            data = text.encode("utf-8")
            if tid == -1:
                got = self.ids.get(text)
                if got is not None:
                    tid = got
                elif self.byte_fallback and all(f"<0x{b:02X}>" in self.ids for b in data):
                    for k, b in enumerate(data):
                        out.append((self.ids[f"<0x{b:02X}>"], pos + k, pos + k + 1))
                    pos += len(data)
                    continue
                else:
                    tid = unk if unk is not None else -1
            out.append((tid, pos, pos + len(data)))
            pos += len(data)
        return out
