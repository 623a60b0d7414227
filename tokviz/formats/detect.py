"""Recognise tokenizer files by their content (never by name alone): one file, a GPT-2 pair, or a directory.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ranks.txt"
    >>> _ = path.write_bytes(b"YQ== 0\\nYg== 1\\n")
    >>> detect_format(path)[0]
    'tiktoken'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json
from tokviz.core.textfile import refuse_special_file
from tokviz.formats.bert_vocab import looks_like_bert_vocab
from tokviz.formats.clip import looks_like_clip_merges
from tokviz.formats.file_checks import read_text
from tokviz.formats.tekken import looks_like_tekken

_HELP = ("pass a tokviz .json, tokenizer.json, Mistral's tekken.json, a .tiktoken rank file, a minbpe .model, GPT-2 "
         "vocab.json + merges.txt, a BERT vocab.txt, CLIP's merges file, or a directory holding them")


def detect_format(*paths: str | os.PathLike[str]) -> tuple[str, list[Path], Any]:
    """``(format, files, parsed JSON or None)`` for the given paths; raises ValueError saying what was expected.

    GPT-2 files come back as ``[vocab.json, merges.txt]`` whatever order they were given in.
    """
    if not paths:
        raise ValueError(f"No tokenizer file given: {_HELP}.")
    ps = [Path(p) for p in paths]
    for p in ps:
        if not p.exists():
            raise ValueError(f"{p}: no such file or directory.")
        refuse_special_file(p)
    if len(ps) == 1 and ps[0].is_dir():
        return _detect_dir(ps[0])
    for p in ps:
        if p.is_dir():
            raise ValueError(f"{p}: is a directory; give it alone, or give files only.")
    if len(ps) > 2:
        raise ValueError(f"Too many tokenizer files ({len(ps)}): {_HELP}.")
    kinds = [_sniff(p) for p in ps]
    if len(ps) == 2:
        by_kind = {k: (p, data) for p, (k, data) in zip(ps, kinds, strict=True)}
        if set(by_kind) == {"gpt2-vocab", "gpt2-merges"}:
            return "gpt2", [by_kind["gpt2-vocab"][0], by_kind["gpt2-merges"][0]], None
        if set(by_kind) == {"json", "gpt2-merges"}:
            # JSON beside a merges.txt is meant as its vocab.json: its reader says what is wrong with it.
            return "gpt2", [by_kind["json"][0], by_kind["gpt2-merges"][0]], None
        raise ValueError(
            f"{ps[0]}, {ps[1]}: two files must be a GPT-2 vocab.json and merges.txt; got "
            f"{_describe(kinds[0][0])} and {_describe(kinds[1][0])}."
        )
    kind, data = kinds[0]
    if kind == "gpt2-vocab":
        raise ValueError(f"{ps[0]}: a GPT-2 vocab.json needs its merges.txt too: give both files (or their directory).")
    if kind == "gpt2-merges":
        raise ValueError(f"{ps[0]}: a GPT-2 merges.txt needs its vocab.json too: give both files (or their directory).")
    if kind in ("unknown", "json"):
        raise ValueError(f"{ps[0]}: not a tokenizer file this version recognises; {_HELP}.")
    return kind, ps, data


def _describe(kind: str) -> str:
    return {"gpt2-vocab": "a GPT-2 vocab.json", "gpt2-merges": "a GPT-2 merges.txt",
            "json": "a JSON file of no tokenizer format"}.get(kind, f"a {kind} file")


def _detect_dir(d: Path) -> tuple[str, list[Path], Any]:
    # tokenizer.json first: where a model folder holds both, it is the complete description (specials, pattern).
    if (d / "tokenizer.json").is_file():
        return detect_format(d / "tokenizer.json")
    if (d / "tekken.json").is_file():  # Mistral's own format, where a repo has no tokenizer.json
        return detect_format(d / "tekken.json")
    for vocab_name, merges_name in (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")):
        if (d / vocab_name).is_file() and (d / merges_name).is_file():
            return "gpt2", [d / vocab_name, d / merges_name], None
    # Other names (gpt2_vocab.json + gpt2_merges.txt): accept them when each is unambiguous.
    vocabs, merges = sorted(d.glob("*vocab.json")), sorted(d.glob("*merges.txt"))
    if len(vocabs) == 1 and len(merges) == 1:
        return "gpt2", [vocabs[0], merges[0]], None
    if (d / "vocab.txt").is_file():  # a BERT vocabulary alone (its tokenizer_config.json may say the casing)
        return detect_format(d / "vocab.txt")
    for pattern in ("*.tiktoken", "*.model"):
        found = sorted(d.glob(pattern))
        if len(found) == 1:
            return detect_format(found[0])
    if len(vocabs) > 1 or len(merges) > 1:
        raise ValueError(f"{d}: several *vocab.json / *merges.txt files; give the two files of one tokenizer instead.")
    raise ValueError(f"{d}: no tokenizer.json, tekken.json, vocab.json + merges.txt, vocab.txt, single .tiktoken or "
                     "single .model in it.")


# One base64 token (whole 4-character groups, as b64encode writes) and a rank.
_RANK_LINE = re.compile(rb"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4}) \d+\s*$")


def _sniff(path: Path) -> tuple[str, Any]:
    """Recognise one file by its content (never by its name alone)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror}).") from e
    # A SentencePiece model is binary protobuf starting with a newline byte (field 1): look before stripping.
    from tokviz.formats.sentencepiece_model import looks_like_sentencepiece

    if looks_like_sentencepiece(head):
        return "sentencepiece", None
    if looks_like_clip_merges(head):  # OpenCLIP's merges, read alone (gzip-compressed as it ships, or not)
        return "clip-merges", None
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 BOM (some editors write one) is accepted
    if stripped.startswith(b"[") and not looks_like_bert_vocab(head):  # a vocab.txt starts with [PAD] too
        return "json", None
    if stripped.startswith(b"{"):
        text = read_text(path)
        data = parse_json(text, source=str(path))
        if not isinstance(data, dict):
            return "json", None
        if data.get("format") == "tokviz":
            return "tokviz", data
        if looks_like_tekken(data):
            return "tekken", data
        if isinstance(data.get("model"), dict):
            return "hf", data
        if data and all(isinstance(v, int) for v in data.values()):
            return "gpt2-vocab", None
        return "json", None
    lines = [ln.rstrip(b"\r") for ln in stripped.split(b"\n")[:6]][:5]
    first = lines[0]
    if first.strip() == b"minbpe v1":
        return "minbpe", None
    if _RANK_LINE.match(first):
        return "tiktoken", None
    if looks_like_bert_vocab(head):
        return "bert-vocab", None
    # merges.txt: "#version" first, or (as some copies have it) straight to lines of two tokens
    if first.startswith(b"#version") or all(len(ln.split(b" ")) == 2 for ln in lines if ln):
        return "gpt2-merges", None
    return "unknown", None
