"""Hugging Face ``tokenizer.json`` (byte-level BPE only), including Oniguruma <-> Python pattern translation.

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> data = hf_to_dict(tok)
    >>> data["model"]["type"], data["pre_tokenizer"]["type"]
    ('BPE', 'ByteLevel')
    >>> hf_from_dict(data).encode("lowest") == tok.encode("lowest")
    True
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokviz.formats.common import (
    WHOLE_TEXT_PATTERN,
    SaveResult,
    _build,
    _read_text,
    _refuse_duplicates,
    _where,
)
from tokviz.gpt2_files import decode_token, encode_token
from tokviz.jsonfile import parse_json
from tokviz.pretokenize import NAMED_PATTERNS
from tokviz.tokenizer import Tokenizer

# JSON keys to point at in error messages (f-string expressions cannot hold backslashes before Python 3.12).
_PRE, _SPLIT, _TYPE = '"pre_tokenizer"', '"Split"', '"type": "'
_BYTE_FALLBACK, _DROPOUT, _NORMALIZER = '"byte_fallback"', '"dropout"', '"normalizer"'
# Oniguruma (which `tokenizers` uses) reads "X{n,m}+" as "(X{n,m})+", a repetition, where Python's `regex` reads a
# possessive interval; rewriting keeps the meaning `tokenizers` gives a file's pattern.
_ONIG_REPEATED_INTERVAL = re.compile(r"(\\p\{\w+\}|\\[A-Za-z]|\[(?:\\.|[^\]\\])*\]|\((?:\\.|[^()\\])*\)|[^\\()\[\]{}])"
                                     r"(\{\d+(?:,\d*)?\})\+")


def onig_to_python(pattern: str) -> str:
    """A `tokenizers` (Oniguruma) regex in Python ``regex`` terms: ``X{n,m}+`` becomes ``(?:X{n,m})+``.

    >>> onig_to_python(r"\\p{N}{1,3}+|\\s+")
    '(?:\\\\p{N}{1,3})+|\\\\s+'
    """
    return _ONIG_REPEATED_INTERVAL.sub(r"(?:\1\2)+", pattern)


def python_to_onig(pattern: str) -> str:
    """The reverse for patterns we write: a possessive ``{n,m}+`` at the end of a branch is plain greedy ``{n,m}``.

    >>> python_to_onig(r"\\p{N}{1,3}+|\\s")
    '\\\\p{N}{1,3}|\\\\s'
    """
    return re.sub(r"(\{\d+(?:,\d*)?\})\+(?=\||\)|$)", r"\1", pattern)


def _hf_pretokenizer(pre: Any, source: str, text: str | None) -> tuple[str, bool]:
    """``(pattern, add_prefix_space)`` of a byte-level pre-tokenizer, or ValueError saying what is unsupported."""
    if pre is None:
        raise ValueError(f"{source}: no pre-tokenizer, so the model is not byte-level; only byte-level BPE "
                         "(a ByteLevel pre-tokenizer) is supported.")
    if not isinstance(pre, dict):
        raise ValueError(f"{_where(source, text, _PRE)}: pre_tokenizer must be an object, got {pre!r:.60}.")
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{_where(source, text, _PRE)}: an empty pre-tokenizer Sequence is not supported.")
    kinds = [s.get("type") if isinstance(s, dict) else None for s in steps]
    if kinds[-1] != "ByteLevel" or any(k not in ("Split", "ByteLevel") for k in kinds) or len(steps) > 2 or (
        len(steps) == 2 and kinds[0] != "Split"
    ):
        raise ValueError(
            f"{_where(source, text, _PRE)}: pre-tokenizer {' + '.join(map(str, kinds))} is not supported; "
            "tokviz reads byte-level BPE: ByteLevel alone, or Split (regex, Isolated) followed by ByteLevel."
        )
    byte_level = steps[-1]
    prefix = bool(byte_level.get("add_prefix_space", True))
    use_regex = bool(byte_level.get("use_regex", True))
    if len(steps) == 1:
        return ("gpt2" if use_regex else WHOLE_TEXT_PATTERN), prefix
    split = steps[0]
    where = _where(source, text, _SPLIT)
    if use_regex:
        raise ValueError(f"{where}: Split followed by ByteLevel(use_regex=true) splits twice; not supported.")
    if prefix:
        raise ValueError(f"{where}: Split followed by ByteLevel(add_prefix_space=true) adds a space to every piece; "
                         "not supported.")
    if split.get("behavior") != "Isolated" or split.get("invert"):
        raise ValueError(f"{where}: Split with behavior {split.get('behavior')!r} (invert={split.get('invert')}) is "
                         "not supported; only Isolated, not inverted.")
    pat = split.get("pattern")
    if isinstance(pat, dict) and isinstance(pat.get("Regex"), str):
        for named, src in NAMED_PATTERNS.items():
            if pat["Regex"] in (src, python_to_onig(src)):
                return named, False  # one of ours (as we write it): keep its name and its fast ASCII path
        return onig_to_python(pat["Regex"]), False
    if isinstance(pat, dict) and isinstance(pat.get("String"), str):
        return re.escape(pat["String"]), False
    raise ValueError(f"{where}: Split pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}, got {pat!r:.80}.")


def hf_from_dict(data: Mapping[str, Any], *, source: str = "<dict>", text: str | None = None) -> Tokenizer:
    """A Hugging Face ``tokenizer.json`` for a byte-level BPE model; other models are refused saying why.

    ``text`` (the file's text) lets errors name the line of the offending entry. Ids equal `tokenizers`'
    ``encode(text, add_special_tokens=False)``: a post-processor's template (BOS/EOS around the text) is not applied.
    All added tokens, special or not, split the text first, as in `tokenizers`.
    """
    try:
        return _hf_from_dict(data, source=source, text=text)
    except (AttributeError, TypeError, KeyError) as e:  # a value of the wrong JSON type somewhere
        raise ValueError(f"{source}: malformed tokenizer.json ({type(e).__name__}: {e}).") from e


def _hf_from_dict(data: Mapping[str, Any], *, source: str, text: str | None) -> Tokenizer:
    model = data.get("model")
    if not isinstance(model, dict):
        raise ValueError(f"{source}: no \"model\" object; not a Hugging Face tokenizer.json.")
    mtype = model.get("type", "BPE")
    if mtype != "BPE":
        raise ValueError(f"{_where(source, text, _TYPE + str(mtype))}: model type {mtype} is not supported; "
                         "tokviz reads byte-level BPE models only (not WordPiece, Unigram or WordLevel).")
    if model.get("byte_fallback"):
        raise ValueError(f"{_where(source, text, _BYTE_FALLBACK)}: a byte_fallback BPE (SentencePiece style) works "
                         "on characters, not bytes; only byte-level BPE (ByteLevel pre-tokenizer) is supported.")
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise ValueError(f"{_where(source, text, key)}: BPE with {key}={model[key]!r} is not supported.")
    if model.get("dropout"):
        raise ValueError(f"{_where(source, text, _DROPOUT)}: BPE dropout makes encoding random; set it to null.")
    normalizer = data.get("normalizer")
    if normalizer is not None and not (isinstance(normalizer, dict) and normalizer.get("type") == "Sequence"
                                       and not normalizer.get("normalizers")):
        kind = normalizer.get("type") if isinstance(normalizer, dict) else normalizer
        raise ValueError(f"{_where(source, text, _NORMALIZER)}: normalizer {kind} is not "
                         "supported (tokviz does not normalize text); only a null normalizer is.")
    pattern, add_prefix_space = _hf_pretokenizer(data.get("pre_tokenizer"), source, text)

    added = data.get("added_tokens") or []
    specials: dict[str, int] = {}
    for entry in added:
        if not (isinstance(entry, dict) and isinstance(entry.get("content"), str) and isinstance(entry.get("id"), int)):
            raise ValueError(f"{source}: malformed added_tokens entry {entry!r:.80}.")
        for flag in ("lstrip", "rstrip", "single_word"):
            if entry.get(flag):
                raise ValueError(f"{_where(source, text, json.dumps(entry['content']))}: added token "
                                 f"{entry['content']!r} has {flag}=true, which tokviz does not support.")
        specials[entry["content"]] = entry["id"]

    raw_vocab = model.get("vocab")
    if not isinstance(raw_vocab, dict):
        raise ValueError(f"{source}: model.vocab must be an object {{token: id}}.")
    vocab: dict[int, bytes] = {}
    for tok_str, i in raw_vocab.items():
        if not isinstance(i, int) or isinstance(i, bool):
            where = _where(source, text, json.dumps(tok_str, ensure_ascii=False))
            raise ValueError(f"{where}: id of {tok_str!r} is {i!r}, not an integer.")
        if specials.get(tok_str) == i:
            b = tok_str.encode("utf-8")  # an added token sits in the vocabulary as its literal text
        else:
            try:
                b = decode_token(tok_str)
            except ValueError as e:
                raise ValueError(
                    f"{_where(source, text, json.dumps(tok_str, ensure_ascii=False))}: token {tok_str!r} is not "
                    "written with GPT-2's byte-to-unicode table, so the model is not byte-level."
                ) from e
        if i in vocab:
            raise ValueError(f"{_where(source, text, json.dumps(tok_str, ensure_ascii=False))}: id {i} is given twice.")
        vocab[i] = b

    merges: list[tuple[bytes, bytes]] = []
    for k, m in enumerate(model.get("merges") or []):
        if isinstance(m, str):
            parts = m.split(" ")
        elif isinstance(m, list):
            parts = m
        else:
            parts = []
        if len(parts) != 2 or not all(isinstance(x, str) and x for x in parts):
            raise ValueError(f"{_where(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1} must be "
                             f"\"a b\" or [\"a\", \"b\"], got {m!r:.80}.")
        try:
            merges.append((decode_token(parts[0]), decode_token(parts[1])))
        except ValueError as e:
            raise ValueError(f"{_where(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1}: {e}.") from e
    name = Path(source).parent.name if Path(source).name == "tokenizer.json" else Path(source).stem
    return _build(vocab, merges, specials, pattern, name=name or "hf", source=source,
                  add_prefix_space=add_prefix_space)


def load_hf(path: str | os.PathLike[str]) -> Tokenizer:
    """Read a Hugging Face ``tokenizer.json`` (see :func:`hf_from_dict`)."""
    p = Path(path)
    text = _read_text(p)
    data = parse_json(text, source=str(p))
    if not isinstance(data, dict):
        raise ValueError(f"{p}: not a Hugging Face tokenizer.json (not a JSON object).")
    return hf_from_dict(data, source=str(p), text=text)


def hf_to_dict(tok: Tokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` of a tokenizer: ByteLevel BPE with ``ignore_merges`` (a piece that is a whole token
    is that token, our rule), the pattern as a Split pre-tokenizer unless it is GPT-2's, and the special tokens as
    added tokens with their ids."""
    _refuse_duplicates(tok, "hf")
    prefix = bool(getattr(tok, "add_prefix_space", False))
    name = tok.pretokenizer.name
    if name == "gpt2" or tok.pretokenizer.source == WHOLE_TEXT_PATTERN:
        pre: dict[str, Any] = {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True,
                               "use_regex": name == "gpt2"}
    else:
        if prefix:
            raise ValueError("tokenizer.json cannot combine a custom pattern with add_prefix_space (Hugging Face "
                             "would add a space to every piece); save as tokviz instead.")
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": python_to_onig(tok.pretokenizer.source)}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]}
    special_ids = tok.special_ids
    specials_set = set(special_ids.values())
    vocab = {encode_token(t): i for i, t in sorted(tok.vocab.items()) if i not in specials_set}
    # Special tokens also go in the model's vocabulary as their literal text, as `tokenizers`' trainer writes them:
    # an added token found there keeps its id, one missing from it would be given a new id.
    for s, i in special_ids.items():
        if vocab.setdefault(s, i) != i:
            raise ValueError(f"special token {s!r} reads as another token in GPT-2's byte table, so tokenizer.json "
                             "cannot hold both; rename the special token.")
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s, i in special_ids.items()],
        "normalizer": None,
        "pre_tokenizer": pre,
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
            "vocab": vocab,
            "merges": [f"{encode_token(a)} {encode_token(b)}" for a, b in tok.merges],
        },
    }


def save_hf(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write a Hugging Face ``tokenizer.json`` (see :func:`hf_to_dict`)."""
    out = Path(path)
    out.write_text(json.dumps(hf_to_dict(tok), ensure_ascii=False, indent=2), encoding="utf-8")
    return SaveResult("hf", [out], [])
