"""Hugging Face ``tokenizers`` decoders for the character-level families: vocabulary pieces back to text.

Readable from a ``tokenizer.json`` ``"decoder"``: ``WordPiece`` (``##`` continuations joined, other pieces after a
space, optional clean-up of spaces before punctuation), ``Metaspace`` (``▁`` to a space, the first piece's dropped
unless nothing was prepended), ``Replace``, ``ByteFallback`` (runs of ``<0xNN>`` pieces to the characters they
spell, or one U+FFFD per piece if they do not spell valid UTF-8), ``Fuse``, ``Strip`` and ``Sequence``. No decoder
joins the pieces with spaces, as ``tokenizers`` does.

Example:
    >>> WordPieceDecoder().decode(["un", "##believ", "##able", "!"])
    'unbelievable!'
    >>> DecoderSequence([ReplaceDecoder("▁", " "), ByteFallbackDecoder(), FuseDecoder(),
    ...                  StripDecoder(" ", 1, 0)]).decode(["▁hi", "▁", "<0xF0>", "<0x9F>", "<0x8C>", "<0x8D>"])
    'hi 🌍'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tokviz.core.onig import onig_to_python
from tokviz.normalizers import components as nz
from tokviz.normalizers.components import Normalizer
from tokviz.pre_tokenizers.metaspace import SPACE_MARK, Metaspace
from tokviz.pre_tokenizers.steps import PreTokenizerStep


class Decoder(Protocol):
    """Turns the vocabulary pieces of some ids back into text (a ``tokenizer.json`` decoder)."""

    def decode(self, pieces: list[str]) -> str: ...


_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def byte_of_piece(piece: str) -> int | None:
    """The byte a byte-fallback piece ``<0xNN>`` stands for, else None.

    >>> byte_of_piece("<0xF0>"), byte_of_piece("<0xf0>"), byte_of_piece("F0")
    (240, 240, None)
    """
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return int(piece[3:5], 16)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class JoinDecoder:
    """No decoder in the file: pieces joined by spaces."""

    def decode(self, pieces: list[str]) -> str:
        return " ".join(pieces)


@dataclass(frozen=True)
class WordPieceDecoder:
    """``WordPiece``: a piece with ``prefix`` continues the previous one; any other starts after a space."""

    prefix: str = "##"
    cleanup: bool = True

    def chain(self, pieces: list[str]) -> list[str]:
        out = []
        for i, p in enumerate(pieces):
            if i:
                p = p.replace(self.prefix, "", 1) if p.startswith(self.prefix) else " " + p
            if self.cleanup:
                for a, b in _CLEANUP:
                    p = p.replace(a, b)
            out.append(p)
        return out

    def decode(self, pieces: list[str]) -> str:
        return "".join(self.chain(pieces))


@dataclass(frozen=True)
class MetaspaceDecoder:
    """``Metaspace``: ``▁`` to a space; in the first piece ``▁`` is dropped unless the scheme is ``never``."""

    replacement: str = SPACE_MARK
    prepend_scheme: str = "always"

    def chain(self, pieces: list[str]) -> list[str]:
        out = []
        for i, p in enumerate(pieces):
            drop = i == 0 and self.prepend_scheme != "never"
            out.append(p.replace(self.replacement, "" if drop else " "))
        return out

    def decode(self, pieces: list[str]) -> str:
        return "".join(self.chain(pieces))


@dataclass(frozen=True)
class ReplaceDecoder:
    """``Replace``: a string or regex (Python ``regex`` terms) replaced in every piece, as ``tokenizers`` runs its
    Replace normalizer as a decoder (Oniguruma's matching, one budget for all the pieces)."""

    pattern: str
    content: str
    is_regex: bool = False
    _replace: nz.Replace = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once, under the budget: a pattern that does not compile is an error naming it, at load time.
        object.__setattr__(self, "_replace", nz.Replace(self.pattern, self.content, self.is_regex,
                                                        what="Replace decoder pattern"))

    def chain(self, pieces: list[str]) -> list[str]:
        return self._replace.replaced_all(pieces)

    def decode(self, pieces: list[str]) -> str:
        return "".join(self.chain(pieces))


@dataclass(frozen=True)
class ByteFallbackDecoder:
    """``ByteFallback``: runs of ``<0xNN>`` pieces become the text they spell (one U+FFFD per piece if invalid)."""

    def chain(self, pieces: list[str]) -> list[str]:
        out: list[str] = []
        run: list[int] = []

        def flush() -> None:
            if run:
                try:
                    out.append(bytes(run).decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in run)
                run.clear()

        for p in pieces:
            b = byte_of_piece(p)
            if b is not None:
                run.append(b)
                continue
            flush()
            out.append(p)
        flush()
        return out

    def decode(self, pieces: list[str]) -> str:
        return "".join(self.chain(pieces))


@dataclass(frozen=True)
class FuseDecoder:
    """``Fuse``: all pieces into one."""

    def chain(self, pieces: list[str]) -> list[str]:
        return ["".join(pieces)]

    def decode(self, pieces: list[str]) -> str:
        return "".join(pieces)


@dataclass(frozen=True)
class StripDecoder:
    """``Strip``: up to ``start`` leading and ``stop`` trailing ``content`` characters off every piece."""

    content: str = " "
    start: int = 0
    stop: int = 0

    def chain(self, pieces: list[str]) -> list[str]:
        out = []
        for p in pieces:
            a = 0
            while a < min(self.start, len(p)) and p[a] == self.content:
                a += 1
            b = 0
            while b < min(self.stop, len(p) - a) and p[len(p) - 1 - b] == self.content:
                b += 1
            out.append(p[a:len(p) - b])
        return out

    def decode(self, pieces: list[str]) -> str:
        return "".join(self.chain(pieces))


@dataclass(frozen=True)
class DecoderSequence:
    """``Sequence``: each decoder's pieces feed the next."""

    steps: Sequence[Any]

    def decode(self, pieces: list[str]) -> str:
        for s in self.steps:
            pieces = s.chain(pieces)
        return "".join(pieces)


def keeps_text(normalizer: Normalizer | None, steps: Sequence[PreTokenizerStep], decoder: Decoder, *,
               byte_fallback: bool) -> bool:
    """Whether ``decoder`` gives back every text (without added tokens) that this pipeline encodes: byte fallback
    (nothing unknown), a decoder that turns byte pieces back into characters, and spaces kept. Two pipelines keep
    spaces: Metaspace never prepending, decoded by a ``never`` Metaspace decoder; and Llama 2's Prepend("▁") +
    Replace(" ", "▁") with no pre-tokenizer, decoded by Replace, ByteFallback, Fuse and Strip(" ", 1, 0), which
    strips the one space the Prepend added. (After an added token the text starts a new stretch with its own
    prepended ``▁``, which decodes to a space: text with added tokens may not come back.)

    >>> never = DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder(prepend_scheme="never")])
    >>> keeps_text(None, [Metaspace(prepend_scheme="never")], never, byte_fallback=True)
    True
    >>> keeps_text(None, [Metaspace()], DecoderSequence([ByteFallbackDecoder(), MetaspaceDecoder()]),
    ...            byte_fallback=True)
    False
    """
    if not byte_fallback:
        return False
    if normalizer is None:
        parts = list(decoder.steps) if isinstance(decoder, DecoderSequence) else [decoder]
        return (bool(steps) and all(isinstance(s, Metaspace) and s.prepend_scheme == "never" for s in steps)
                and ByteFallbackDecoder() in parts
                and any(isinstance(p, MetaspaceDecoder) and p.prepend_scheme == "never" for p in parts))
    return not steps and normalizer == LLAMA2_NORMALIZER and decoder == LLAMA2_DECODER


#: Llama 2's normalizer and decoder, as its tokenizer.json writes them.
LLAMA2_NORMALIZER = nz.Sequence([nz.Prepend(SPACE_MARK), nz.Replace(" ", SPACE_MARK)])
LLAMA2_DECODER = DecoderSequence([ReplaceDecoder(SPACE_MARK, " "), ByteFallbackDecoder(), FuseDecoder(),
                                  StripDecoder(" ", 1, 0)])


def decoder_from_json(obj: Any, *, where: str) -> Decoder:
    """The decoder of a ``"decoder"`` value (null: pieces joined by spaces); ValueError naming an unknown one."""
    if obj is None:
        return JoinDecoder()
    steps = _steps(obj, where)
    return steps[0] if len(steps) == 1 else DecoderSequence(steps)


def _steps(obj: Any, where: str) -> list[Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: decoder must be an object or null, got {obj!r:.60}.")
    kind = obj.get("type")
    if kind == "Sequence":
        return [s for x in obj.get("decoders") or [] for s in _steps(x, where)]
    if kind == "WordPiece":
        return [WordPieceDecoder(str(obj.get("prefix", "##")), bool(obj.get("cleanup", True)))]
    if kind == "Metaspace":
        scheme = obj.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if obj.get("add_prefix_space", True) else "never"
        return [MetaspaceDecoder(str(obj.get("replacement", SPACE_MARK)), str(scheme))]
    if kind == "Replace":
        pat = obj.get("pattern")
        if isinstance(pat, dict) and isinstance(pat.get("String"), str):
            return [ReplaceDecoder(pat["String"], str(obj.get("content", "")))]
        if isinstance(pat, dict) and isinstance(pat.get("Regex"), str):
            try:
                return [ReplaceDecoder(onig_to_python(pat["Regex"]), str(obj.get("content", "")), is_regex=True)]
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from e
        raise ValueError(f"{where}: Replace decoder pattern must be {{\"String\": ...}} or {{\"Regex\": ...}}.")
    if kind == "ByteFallback":
        return [ByteFallbackDecoder()]
    if kind == "Fuse":
        return [FuseDecoder()]
    if kind == "Strip":
        return [StripDecoder(str(obj.get("content", " ")), int(obj.get("start", 0)), int(obj.get("stop", 0)))]
    raise ValueError(f"{where}: decoder {kind} is not supported; tokviz decodes WordPiece, Metaspace, Replace, "
                     "ByteFallback, Fuse, Strip and Sequences of them.")
