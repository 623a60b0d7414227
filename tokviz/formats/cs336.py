"""CS336 assignment 1's ``Tokenizer`` interface over tokviz's byte-level BPE.

The course's tokenizer reads every special token it was given as that token's id (its tests encode text holding
``<|endoftext|>`` with a plain ``encode(text)``), where :class:`tokviz.Tokenizer` follows tiktoken and refuses a
special token it was not told to allow. ``CS336Tokenizer`` is the same tokenizer with the course's default, plus
the course's ``from_files`` (GPT-2 ``vocab.json`` and ``merges.txt``).

>>> tok = CS336Tokenizer({i: bytes([i]) for i in range(256)}, [], ["<|endoftext|>"])
>>> tok.encode("hi<|endoftext|>")
[104, 105, 256]
"""

from __future__ import annotations

import os
from collections.abc import Collection
from collections.abc import Set as AbstractSet
from typing import Literal

from tokviz.formats.gpt2 import read_gpt2_files
from tokviz.models.bpe import Tokenizer


class CS336Tokenizer(Tokenizer):
    """:class:`tokviz.Tokenizer` whose ``encode`` reads every special token as its id unless told otherwise.

    >>> vocab = {i: bytes([i]) for i in range(256)}
    >>> CS336Tokenizer(vocab, [], ["<s>"]).encode("a<s>"), CS336Tokenizer(vocab, [], ["<s>"]).encode_ordinary("<s>")
    ([97, 256], [60, 115, 62])
    """

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | AbstractSet[str] = "all",
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        return super().encode(text, allowed_special=allowed_special, disallowed_special=disallowed_special)

    @classmethod
    def from_files(
        cls,
        vocab_filepath: str | os.PathLike[str],
        merges_filepath: str | os.PathLike[str],
        special_tokens: list[str] | None = None,
    ) -> CS336Tokenizer:
        """The course's constructor from GPT-2 ``vocab.json`` and ``merges.txt`` files; a special token the
        vocabulary lacks is appended with the next id, as the course's tests do.

        >>> import json, tempfile, pathlib
        >>> from tokviz.pre_tokenizers.byte_level import BYTE_TO_UNICODE
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "v.json").write_text(json.dumps({BYTE_TO_UNICODE[i]: i for i in range(256)}))
        >>> _ = (d / "m.txt").write_text("#version: 0.2\\n")
        >>> CS336Tokenizer.from_files(d / "v.json", d / "m.txt", ["<|endoftext|>"]).encode("a<|endoftext|>")
        [97, 256]
        """
        vocab, merges = read_gpt2_files(vocab_filepath, merges_filepath)
        known = set(vocab.values())
        for s in special_tokens or []:
            if s.encode("utf-8") not in known:
                vocab[max(vocab, default=-1) + 1] = s.encode("utf-8")
                known.add(s.encode("utf-8"))
        return cls(vocab, merges, special_tokens)
