"""A BERT ``vocab.txt`` on its own: WordPiece with BERT's defaults, as ``tokenizers``' ``BertWordPieceTokenizer``
(and transformers' ``BertTokenizerFast``) builds it from that file.

One piece a line, its line number its id (trailing whitespace trimmed; a piece given twice keeps its later line, as
``tokenizers`` reads the file). The pipeline: ``BertNormalizer`` (clean text, Chinese characters spaced, accents
stripped when lowercasing, lowercase or not), ``BertPreTokenizer``, WordPiece with ``##`` continuations, ``[UNK]``
and 100 characters a word at most; ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]`` and ``[MASK]``, where the vocabulary
has them, are special tokens.

Casing: ``lowercase=None`` infers it, from a ``tokenizer_config.json`` beside the file (its ``do_lower_case``) or else
from the vocabulary (an uncased vocabulary has almost no uppercase pieces: lowercase when fewer than 1% of its pieces,
brackets such as ``[CLS]`` and ``<S>`` aside, hold an uppercase letter). Pass ``lowercase=`` to decide.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocab.txt"
    >>> _ = path.write_text("[PAD]\\n[UNK]\\n[CLS]\\n[SEP]\\nhello\\n##s\\nworld\\n", encoding="utf-8")
    >>> tok = load_bert_vocab(path)
    >>> tok.encode("Hellos, world!"), tok.family
    ([4, 5, 1, 6, 1], 'wordpiece')
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import regex

from tokviz.formats.file_checks import read_text
from tokviz.formats.hf_families import FamilyTokenizer, family_from_dict

#: BERT's special tokens, made special where the vocabulary has them (BertWordPieceTokenizer's list).
BERT_SPECIALS = ("[SEP]", "[CLS]", "[PAD]", "[MASK]", "[UNK]")
_UPPER = regex.compile(r"\p{Lu}")
_BRACKETED = regex.compile(r"^(?:\[[^\]]*\]|<[^>]*>)$")


def looks_like_bert_vocab(head: bytes) -> bool:
    """Whether the first bytes of a file read as a BERT vocab.txt: lines without spaces, and ``[UNK]``, ``[PAD]``
    or a ``##`` piece among them.

    >>> looks_like_bert_vocab(b"[PAD]\\n[unused0]\\n[UNK]\\nthe\\n"), looks_like_bert_vocab(b"a b\\nc d\\n")
    (True, False)
    """
    lines = head.split(b"\n")[:-1] or head.split(b"\n")
    if not lines or any(b" " in ln.strip() or b"\t" in ln.strip() for ln in lines):
        return False
    return any(ln.strip() in (b"[UNK]", b"[PAD]") or ln.startswith(b"##") for ln in lines)


def read_vocab_lines(text: str) -> dict[str, int]:
    """piece -> id as ``tokenizers`` reads a vocab.txt (line number; trailing whitespace trimmed; last line wins).

    >>> read_vocab_lines("a\\nb \\na\\n")
    {'a': 2, 'b': 1}
    """
    vocab: dict[str, int] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        vocab[line.rstrip()] = i
    return vocab


def infer_lowercase(vocab: dict[str, int]) -> bool:
    """Whether a vocabulary looks uncased (see the module docstring).

    >>> infer_lowercase({"[CLS]": 0, "the": 1, "##s": 2}), infer_lowercase({"The": 0, "the": 1})
    (True, False)
    """
    words = [p for p in vocab if p and not _BRACKETED.match(p)]
    upper = sum(1 for p in words if _UPPER.search(p))
    return upper < max(1, len(words) // 100)


def _config_lowercase(folder: Path) -> bool | None:
    """``do_lower_case`` of a ``tokenizer_config.json`` in ``folder``, if it states one."""
    cfg = folder / "tokenizer_config.json"
    if not cfg.is_file():
        return None
    try:
        data: Any = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = data.get("do_lower_case") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else None


def load_bert_vocab(path: str | os.PathLike[str], *, lowercase: bool | None = None,
                    name: str | None = None) -> FamilyTokenizer:
    """The WordPiece tokenizer of a BERT ``vocab.txt`` (see the module docstring); ValueError naming the file."""
    p = Path(path)
    vocab = read_vocab_lines(read_text(p))
    if "[UNK]" not in vocab:
        raise ValueError(f"{p}: a BERT vocab.txt needs the piece [UNK] (the unknown token) on a line of its own.")
    if lowercase is None:
        lowercase = _config_lowercase(p.parent)
    if lowercase is None:
        lowercase = infer_lowercase(vocab)
    data = {
        "added_tokens": [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s in BERT_SPECIALS if s in vocab],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    tok = family_from_dict(data, source=str(p))
    if tok is None:  # pragma: no cover - a WordPiece model is always read by family_from_dict
        raise ValueError(f"{p}: could not read the vocabulary as WordPiece.")
    tok.name = name or (p.parent.name if p.name == "vocab.txt" and p.parent.name else p.stem)
    return tok
