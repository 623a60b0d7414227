"""The WordPiece model (BERT): greedy longest-match-first pieces, ``##`` on every piece but a word's first; a word
with no cut, or longer than ``max_input_chars_per_word``, is one unknown token. Ids equal Hugging Face
``tokenizers``' WordPiece.

Example:
    >>> WordPieceModel({"[UNK]": 0, "un": 1, "##able": 2}).tokenize("unable")
    [(1, 0, 2), (2, 2, 6)]
"""

from __future__ import annotations

from collections.abc import Mapping

from tokviz.models.piece_model import TokenCut


class WordPieceModel:
    """The WordPiece model: ``vocab`` (piece -> id), the unknown token, the continuation prefix, the word limit."""

    def __init__(self, vocab: Mapping[str, int], *, unk_token: str = "[UNK]", continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100) -> None:
        self.vocab = dict(vocab)
        self.unk_token = unk_token
        self.prefix = continuing_subword_prefix
        self.max_chars = max_input_chars_per_word
        self.unk_id = self.vocab.get(unk_token)
        self._longest = max((len(p) for p in self.vocab), default=0)

    def _unk(self, word: str) -> list[TokenCut]:
        if self.unk_id is None:
            raise ValueError(f"the word {word!r:.40} needs the unknown token {self.unk_token!r}, which is not in the "
                             "vocabulary; add it to the vocabulary (as tokenizers requires).")
        return [(self.unk_id, 0, len(word.encode("utf-8")))]

    def tokenize(self, word: str) -> list[TokenCut]:
        """``(id, start byte, end byte)`` of each piece of ``word`` (one ``[UNK]`` over all of it if it fails)."""
        if len(word) > self.max_chars:
            return self._unk(word)
        out: list[TokenCut] = []
        vocab = self.vocab
        start, n, pos = 0, len(word), 0
        while start < n:
            found = None
            end = min(n, start + self._longest)
            while end > start:
                sub = word[start:end] if start == 0 else self.prefix + word[start:end]
                tid = vocab.get(sub)
                if tid is not None:
                    found = tid
                    break
                end -= 1
            if found is None:
                return self._unk(word)
            nbytes = len(word[start:end].encode("utf-8"))
            out.append((found, pos, pos + nbytes))
            pos += nbytes
            start = end
        return out
