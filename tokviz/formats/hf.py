"""Hugging Face ``tokenizer.json`` (byte-level BPE), read as ``tokenizers`` reads it, and written for it.

Any byte-level BPE file loads: its normalizer, pre-tokenizer and added tokens are run as ``tokenizers`` runs them
(:mod:`tokviz.pipelines.byte_level_tokenizer`). A file that needs none of that (no normalizer; ByteLevel alone or after
one isolating
Split; added tokens without options, each keeping the id of its text) loads as a plain, faster
:class:`~tokviz.models.bpe.Tokenizer`. A vocabulary may lack the 13 bytes that never occur in UTF-8 (0xC0, 0xC1,
0xF5-0xFF): no text can produce them, so they get ids past the end that are kept out of ``vocab``; lacking any
other byte is an error.

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

from tokviz.core.jsonfile import MAX_ID, parse_json
from tokviz.core.regex_budget import compile_budgeted
from tokviz.formats.file_checks import (
    WHOLE_TEXT_PATTERN,
    SaveResult,
    build_tokenizer,
    check_id,
    read_text,
    refuse_duplicates,
    type_name,
    where_in,
)
from tokviz.formats.hf_components import normalizer_from_json, onig_to_python, pre_tokenizers_from_json
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.added_tokens import AddedToken, assign_ids
from tokviz.pipelines.byte_level_tokenizer import ByteLevelStep, FileVocab, PipelineTokenizer
from tokviz.pre_tokenizers.byte_level import ByteLevel, decode_token, encode_token, lone_surrogate
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS
from tokviz.pre_tokenizers.splits import PatternSplit

__all__ = ["hf_from_dict", "hf_to_dict", "load_hf", "onig_to_python", "python_to_onig", "save_hf"]

# JSON keys to point at in error messages (f-string expressions cannot hold backslashes before Python 3.12).
_PRE, _TYPE = '"pre_tokenizer"', '"type": "'
_BYTE_FALLBACK, _DROPOUT, _NORMALIZER = '"byte_fallback"', '"dropout"', '"normalizer"'
#: The bytes that never occur in UTF-8 text: a vocabulary may lack them.
NEVER_UTF8 = frozenset([0xC0, 0xC1, *range(0xF5, 0x100)])

#: What :func:`hf_from_dict` returns: the plain tokenizer when the file allows it, else the pipeline.
HFTokenizer = Tokenizer | PipelineTokenizer


def python_to_onig(pattern: str) -> str:
    """The reverse for patterns we write: a possessive ``{n,m}+`` at the end of a branch is plain greedy ``{n,m}``.

    >>> python_to_onig(r"\\p{N}{1,3}+|\\s")
    '\\\\p{N}{1,3}|\\\\s'
    """
    return re.sub(r"(\{\d+(?:,\d*)?\})\+(?=\||\)|$)", r"\1", pattern)


def _plain_pattern(steps: list[ByteLevelStep]) -> tuple[str, bool] | None:
    """``(pattern, add_prefix_space)`` when the plain Tokenizer cuts text as these steps do, else None."""
    if len(steps) == 1 and isinstance(steps[0], ByteLevel):
        return ("gpt2" if steps[0].use_regex else WHOLE_TEXT_PATTERN), steps[0].add_prefix_space
    if len(steps) != 2:
        return None
    split, level = steps[0], steps[1]
    if not isinstance(split, PatternSplit) or not isinstance(level, ByteLevel):
        return None
    if split.behavior != "Isolated" or level.use_regex or level.add_prefix_space or not split.source:
        return None
    for named, src in NAMED_PATTERNS.items():
        if split.source in (src, onig_to_python(python_to_onig(src))):
            return named, False  # one of ours (as we write it): keep its name and its fast ASCII path
    return split.source, False


def _pattern_label(steps: list[ByteLevelStep]) -> str:
    for s in steps:
        if isinstance(s, PatternSplit):
            return s.source
        if isinstance(s, ByteLevel) and s.use_regex:
            return "gpt2"
    return WHOLE_TEXT_PATTERN


def hf_from_dict(data: Mapping[str, Any], *, source: str = "<dict>", text: str | None = None,
                 consume: bool = False) -> HFTokenizer:
    """A Hugging Face ``tokenizer.json`` for a byte-level BPE model; other models are refused saying why.

    ``text`` (the file's text) lets errors name the line of the offending entry. Ids equal `tokenizers`'
    ``encode(text, add_special_tokens=False)``: a post-processor's template (BOS/EOS around the text) is not applied.
    WordPiece, Unigram and SentencePiece-style (character) BPE are read by
    :func:`tokviz.formats.hf_families.family_from_dict`.

    ``consume`` (for a dict parsed from the file ``source`` that the caller holds for nothing else) lets the reader
    take the model's vocabulary and merges out of ``data`` once they are read, so the parsed JSON is not held while
    the tokenizer's tables are built (on a 2M-merge file that was a third of the peak); ``data`` is then not to be
    used again. Only a file read as a plain pattern-and-ranks tokenizer is consumed; should that tokenizer not
    build after all, the file is parsed again for the pipeline, which keeps it.
    """
    # Imported here: hf_families builds on this package's components, and only non-byte-level files need it.
    from tokviz.formats.hf_families import family_from_dict

    family = family_from_dict(data, source=source)
    if family is not None:
        return family  # type: ignore[return-value]  # a TokenizerLike of another family, not byte-level BPE
    try:
        return _hf_from_dict(data, source=source, text=text, consume=consume)
    except (AttributeError, TypeError, KeyError) as e:  # a value of the wrong JSON type somewhere
        raise ValueError(f"{source}: malformed tokenizer.json ({type(e).__name__}: {e}).") from e


def _check_model(model: Any, source: str, text: str | None) -> None:
    if not isinstance(model, dict):
        raise ValueError(f"{source}: no \"model\" object; not a Hugging Face tokenizer.json.")
    mtype = model.get("type", "BPE")
    if mtype != "BPE":
        raise ValueError(f"{where_in(source, text, _TYPE + str(mtype))}: model type {mtype} is not supported; "
                         "tokviz reads byte-level BPE models only (not WordPiece, Unigram or WordLevel).")
    if model.get("byte_fallback"):
        raise ValueError(f"{where_in(source, text, _BYTE_FALLBACK)}: a byte_fallback BPE (SentencePiece style) works "
                         "on characters, not bytes; only byte-level BPE (ByteLevel pre-tokenizer) is supported.")
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise ValueError(f"{where_in(source, text, key)}: BPE with {key}={model[key]!r} is not supported.")
    if model.get("dropout"):
        raise ValueError(f"{where_in(source, text, _DROPOUT)}: BPE dropout makes encoding random; set it to null.")


def _added_tokens(data: Mapping[str, Any], source: str) -> list[tuple[dict[str, Any], str, int]]:
    out = []
    entries = data.get("added_tokens") or []
    if not isinstance(entries, list):
        raise ValueError(f"{source}: \"added_tokens\" is {type_name(entries)}; it must be a list of objects.")
    for k, entry in enumerate(entries, 1):
        if not (isinstance(entry, dict) and isinstance(entry.get("content"), str)):
            raise ValueError(f"{source}: malformed added_tokens entry {entry!r:.80}.")
        what = f"{source}: added token {k} ({entry['content']!r:.40})"
        check_id(entry.get("id"), what=what)
        if not entry["content"]:
            raise ValueError(f"{what}: its content is the empty string, which no text can match; remove the entry.")
        surrogate = lone_surrogate(entry["content"])
        if surrogate is not None:
            raise ValueError(f"{what}: its content holds a lone surrogate {surrogate}, which is not text (UTF-8 cannot "
                             "hold it); fix or remove the entry.")
        for flag in ("special", "single_word", "lstrip", "rstrip", "normalized"):
            if not isinstance(entry.get(flag, False), bool):
                raise ValueError(f"{what}: \"{flag}\" is {type_name(entry[flag])}; it must be true or false.")
        out.append((entry, entry["content"], entry["id"]))
    return out


def _check_decoder_regexes(decoder: Any, source: str) -> None:
    """A byte-level file's decoder is not run (bytes decode one way), but a regex in it that does not compile, or
    would cost too much to, is an error naming it rather than ignored."""
    if isinstance(decoder, dict):
        pattern = decoder.get("pattern")
        if decoder.get("type") == "Replace" and isinstance(pattern, dict) and isinstance(pattern.get("Regex"), str):
            try:
                compile_budgeted(onig_to_python(pattern["Regex"]), what="Replace decoder pattern")
            except ValueError as e:
                raise ValueError(f"{source}: {e}") from e
        for inner in decoder.get("decoders") or []:
            _check_decoder_regexes(inner, source)


def _hf_from_dict(data: Mapping[str, Any], *, source: str, text: str | None, consume: bool) -> HFTokenizer:
    model = _checked_model(data, source, text)
    normalizer = normalizer_from_json(data.get("normalizer"), where=where_in(source, text, _NORMALIZER))
    steps = _byte_level_steps(data.get("pre_tokenizer"), source, text)
    added = _added_tokens(data, source)
    raw_vocab = model.get("vocab")
    if not isinstance(raw_vocab, dict):
        raise ValueError(f"{source}: model.vocab must be an object {{token: id}}.")
    vocab, literal = _byte_level_vocab(raw_vocab, {content for _, content, _ in added}, source, text)
    merges = _merges(model, source, text, {t: vocab[i] for t, i in raw_vocab.items() if i in vocab})
    tokens = _added_token_list(added, raw_vocab)
    missing = _missing_bytes(vocab, source)
    name = (Path(source).parent.name if Path(source).name == "tokenizer.json" else Path(source).stem) or "hf"
    ignore_merges = model.get("ignore_merges") or False
    if not isinstance(ignore_merges, bool):
        raise ValueError(f"{source}: model.ignore_merges is {type_name(ignore_merges)}; it must be true or false.")
    if normalizer is None and not missing and not literal and _plain_added(tokens) and _plain_pattern(steps):
        in_vocab = {t.content: raw_vocab.get(t.content) for t in tokens}  # all the plain reader needs of it
        if consume:  # read: the file's vocabulary and merges go before the tables are built, not after
            del raw_vocab
            model.pop("vocab", None)
            model.pop("merges", None)
        plain = _as_plain_tokenizer(steps, vocab, in_vocab, merges, tokens, ignore_merges=ignore_merges,
                                    name=name, source=source)
        if plain is not None:
            return plain
        if consume:  # the pipeline keeps the file (to save it), whose parts went above: read it again
            data = parse_json(read_text(Path(source)), source=source)
    # Ids for the missing never-UTF-8 bytes, past every id in use: the model needs all 256, text never reaches them.
    top = max([*vocab, *literal, *(t.id for t in tokens)], default=-1) + 1
    hidden = list(range(top, top + len(missing)))
    model_vocab = vocab | {i: bytes([b]) for i, b in zip(hidden, missing)}
    try:
        bpe = Tokenizer(model_vocab, merges, name=name)
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from e
    facts = FileVocab(ignore_merges, {b: i for i, b in vocab.items()}, literal, tuple(hidden))
    return PipelineTokenizer(bpe, normalizer=normalizer, pre_tokenizers=steps, added=tokens, vocab_facts=facts,
                             name=name, pattern=_pattern_label(steps), file_data=data)


def _checked_model(data: Mapping[str, Any], source: str, text: str | None) -> dict[str, Any]:
    """The model object, once every part the reader looks at has its JSON type (parts tokviz does not run must
    still have theirs: ids are tokenizers' encode without them) and the decoder's regexes compile."""
    model = data.get("model")
    _check_model(model, source, text)
    assert isinstance(model, dict)  # checked above; tells the type checker
    for key in ("decoder", "post_processor", "truncation", "padding"):
        if not isinstance(data.get(key), (dict, type(None))):
            raise ValueError(f"{source}: \"{key}\" is {type_name(data[key])}; it must be an object or null.")
    if not isinstance(model.get("unk_token"), (str, type(None))):
        raise ValueError(f"{source}: model.unk_token is {type_name(model['unk_token'])}; it must be a string or "
                         "null.")
    _check_decoder_regexes(data.get("decoder"), source)
    return model


def _byte_level_steps(pre: object, source: str, text: str | None) -> list[ByteLevelStep]:
    """The pre-tokenizer's steps, which must hold exactly one ByteLevel (tokviz reads byte-level BPE here)."""
    if pre is None:
        raise ValueError(f"{source}: no pre-tokenizer, so the model is not byte-level; only byte-level BPE "
                         "(a ByteLevel pre-tokenizer) is supported.")
    if not isinstance(pre, dict):
        raise ValueError(f"{where_in(source, text, _PRE)}: pre_tokenizer must be an object, got {pre!r:.60}.")
    steps = pre_tokenizers_from_json(pre, where=where_in(source, text, _PRE))
    n_level = sum(isinstance(s, ByteLevel) for s in steps)
    if n_level != 1:
        raise ValueError(f"{where_in(source, text, _PRE)}: the pre-tokenizer has {n_level} ByteLevel steps; tokviz "
                         "reads byte-level BPE, whose pre-tokenizer holds exactly one ByteLevel.")
    return steps


def _byte_level_vocab(raw_vocab: Mapping[str, Any], contents: set[str], source: str,
                      text: str | None) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """``(vocab, literal)``: what the model can produce (tokens written with GPT-2's byte table, as bytes), and the
    added tokens whose text sits in the vocabulary as it is."""
    vocab: dict[int, bytes] = {}
    literal: dict[int, bytes] = {}
    for tok_str, i in raw_vocab.items():
        if not isinstance(i, int) or isinstance(i, bool) or i < 0 or i > MAX_ID:
            check_id(i, what=f"{_at(source, text, tok_str)}: token {tok_str!r:.60}")  # says what is wrong
        if i in vocab or i in literal:
            raise ValueError(f"{_at(source, text, tok_str)}: id {i} is given twice.")
        try:
            vocab[i] = decode_token(tok_str)
        except ValueError as e:
            if tok_str not in contents:
                raise ValueError(f"{_at(source, text, tok_str)}: token {tok_str!r} is not written with GPT-2's "
                                 "byte-to-unicode table, so the model is not byte-level.") from e
            literal[i] = tok_str.encode("utf-8")
    return vocab, literal


def _added_token_list(added: list[tuple[dict[str, Any], str, Any]], raw_vocab: Mapping[str, Any]) -> list[AddedToken]:
    """The added tokens with their ids and options; a content given twice keeps the last entry's options."""
    ids = assign_ids([(c, i) for _, c, i in added], raw_vocab)
    tokens = [AddedToken(ids[c], c, special=bool(e.get("special")), single_word=bool(e.get("single_word")),
                         lstrip=bool(e.get("lstrip")), rstrip=bool(e.get("rstrip")),
                         normalized=bool(e.get("normalized", not e.get("special"))))
              for e, c, _ in added if c]
    return list({t.content: t for t in tokens}.values())


def _missing_bytes(vocab: Mapping[int, bytes], source: str) -> list[int]:
    """The single bytes the vocabulary lacks; only bytes UTF-8 text never holds may be missing."""
    present = {b[0] for b in vocab.values() if len(b) == 1}
    missing = [b for b in range(256) if b not in present]
    bad = next((b for b in missing if b not in NEVER_UTF8), None)
    if bad is not None:
        raise ValueError(f"{source}: the vocabulary lacks byte 0x{bad:02x}, which UTF-8 text can hold; a byte-level "
                         "BPE vocabulary needs every such byte so that any text can be encoded.")
    return missing


def _as_plain_tokenizer(steps: list[ByteLevelStep], vocab: dict[int, bytes], in_vocab: Mapping[str, Any],
                        merges: list[tuple[bytes, bytes]], tokens: list[AddedToken], *, ignore_merges: bool,
                        name: str, source: str) -> Tokenizer | None:
    """The file as a plain :class:`Tokenizer` when its pipeline is a pattern and ranks alone, else None;
    ``in_vocab`` is the id the file's model vocabulary gives each added token's text (None: not in it)."""
    plain = _plain_pattern(steps)
    if plain is None:
        return None
    specials = {t.content: t.id for t in tokens}
    # An added token sits in the vocabulary under its own text; read as GPT-2 bytes that text may differ from it
    # ("<|é|>"), and the plain Tokenizer keeps one token per id: the added token's text. Text could reach the other
    # reading only if it is valid UTF-8 and ignore_merges looks whole pieces up.
    plain_vocab = vocab  # copied only when an entry changes: a copy of a large vocabulary costs its size again
    for t in tokens:
        b = plain_vocab.get(t.id)
        if b is not None and b != t.content.encode("utf-8") and in_vocab.get(t.content) == t.id:
            if plain_vocab is vocab:
                plain_vocab = dict(vocab)
            plain_vocab[t.id] = t.content.encode("utf-8")
            if ignore_merges and _is_utf8(b):
                return None
    try:
        tok = build_tokenizer(plain_vocab, merges, specials, plain[0], name=name, source=source,
                              add_prefix_space=plain[1])
    except ValueError:
        return None  # e.g. an added token's id already holds another token: the pipeline keeps both
    if tok.special_ids != specials or (ignore_merges and _unbuildable(tok, vocab, set(specials.values()))):
        return None
    return tok


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _at(source: str, text: str | None, token: str) -> str:
    # Only on an error: finding the line searches the whole file.
    return where_in(source, text, json.dumps(token, ensure_ascii=False))


def _plain_added(tokens: list[AddedToken]) -> bool:
    """Added tokens the plain Tokenizer cuts out alike: no options, all matched in one pass."""
    if any(t.single_word or t.lstrip or t.rstrip for t in tokens):
        return False
    return len({t.normalized for t in tokens}) <= 1


def _unbuildable(tok: Tokenizer, vocab: Mapping[int, bytes], specials: set[int]) -> bool:
    """Whether a vocabulary token is neither a byte nor a merge's result (ignore_merges would still emit it)."""
    built = {bytes([b]) for b in range(256)}
    built.update(a + b for a, b in tok.merges)
    return any(t not in built and i not in specials for i, t in vocab.items())


def _merges(model: Mapping[str, Any], source: str, text: str | None,
            known: Mapping[str, bytes]) -> list[tuple[bytes, bytes]]:
    """The merges as byte pairs; ``known`` holds the vocabulary's tokens already decoded (merges name them)."""
    merges: list[tuple[bytes, bytes]] = []
    get = known.get
    for k, m in enumerate(model.get("merges") or []):
        if isinstance(m, str):
            parts = m.split(" ")
        elif isinstance(m, list):
            parts = m
        else:
            parts = []
        if len(parts) == 2 and type(parts[0]) is str and type(parts[1]) is str:
            a, b = get(parts[0]), get(parts[1])
            if a is not None and b is not None:
                merges.append((a, b))  # the common case: both halves are vocabulary tokens, already decoded
                continue
        if len(parts) != 2 or not all(isinstance(x, str) and x for x in parts):
            raise ValueError(f"{where_in(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1} must be "
                             f"\"a b\" or [\"a\", \"b\"], got {m!r:.80}.")
        try:
            merges.append((decode_token(parts[0]), decode_token(parts[1])))
        except ValueError as e:
            raise ValueError(f"{where_in(source, text, json.dumps(m, ensure_ascii=False))}: merge {k + 1}: {e}.") from e
    return merges


def load_hf(path: str | os.PathLike[str]) -> HFTokenizer:
    """Read a Hugging Face ``tokenizer.json`` (see :func:`hf_from_dict`)."""
    p = Path(path)
    text = read_text(p)
    data = parse_json(text, source=str(p))
    if not isinstance(data, dict):
        raise ValueError(f"{p}: not a Hugging Face tokenizer.json (not a JSON object).")
    return hf_from_dict(data, source=str(p), text=text)


def hf_to_dict(tok: HFTokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` of a tokenizer: ByteLevel BPE with ``ignore_merges`` (a piece that is a whole token
    is that token, our rule), the pattern as a Split pre-tokenizer unless it is GPT-2's, and the special tokens as
    added tokens with their ids. A pipeline read from a ``tokenizer.json`` gives back that file's content."""
    if isinstance(tok, PipelineTokenizer):
        if tok.file_data is None:
            raise ValueError(f"{tok.name}: this pipeline was not read from a tokenizer.json, so there is no file to "
                             "write back; build it from a tokenizer.json.")
        return json.loads(json.dumps(tok.file_data))
    refuse_duplicates(tok, "hf")
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


def save_hf(tok: HFTokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write a Hugging Face ``tokenizer.json`` (see :func:`hf_to_dict`)."""
    out = Path(path)
    out.write_text(json.dumps(hf_to_dict(tok), ensure_ascii=False, indent=2), encoding="utf-8")
    return SaveResult("hf", [out], [])
