"""The two entry points: :func:`load_tokenizer` (recognise the format, then parse) and :func:`save` (pick the writer).

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save(tok, d / "tok.json").format, save(tok, d / "gpt2", format="gpt2").format
    ('tokviz', 'gpt2')
    >>> load_tokenizer(d / "gpt2").merges == load_tokenizer(d / "tok.json").merges == tok.merges
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.bert_vocab import load_bert_vocab
from tokviz.formats.chat_config import attach_chat_config, read_chat_config
from tokviz.formats.chat_encodings import CHAT_ENCODINGS
from tokviz.formats.clip import clip_from_dict, is_clip_json, load_clip_merges
from tokviz.formats.detect import detect_format
from tokviz.formats.file_checks import SaveResult, SpecialTokens, read_text
from tokviz.formats.gpt2 import load_gpt2, save_gpt2
from tokviz.formats.hf import hf_from_dict, save_hf
from tokviz.formats.hub import HubFiles, fetch_tokenizer_files, parse_hub_ref
from tokviz.formats.minbpe import load_minbpe, save_minbpe
from tokviz.formats.model_names import close_names, encoding_name_for_model
from tokviz.formats.ours import Saveable, save_ours, tokenizer_from_dict
from tokviz.formats.pretrained import NAMED_ENCODINGS, is_encoding_name, load_encoding
from tokviz.formats.tekken import tekken_from_dict
from tokviz.formats.tiktoken_file import load_tiktoken, save_tiktoken
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

#: What :func:`load_tokenizer` returns: our byte-level BPE (the common case, with merges and a pre-tokenizer), or a
#: tokenizer of another pipeline or family, which every view draws through :class:`~tokviz.core.protocol.TokenizerLike`.
Loaded = Tokenizer | TokenizerLike

FORMATS: tuple[str, ...] = ("tokviz", "gpt2", "tiktoken", "hf", "minbpe")


# ---------------------------------------------------------------------------------------------------------------
# Loading: recognise the format, then parse
# ---------------------------------------------------------------------------------------------------------------
def load_tokenizer(
    *paths: str | os.PathLike[str],
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    name: str | None = None,
) -> Loaded:
    """Load a tokenizer from one file, a pair of GPT-2 files, or a directory, recognising the format by content; or
    one of OpenAI's named encodings (``"cl100k_base"``, ``"o200k_base"``, ``"gpt2"``...: built in, offline; also
    ``"o200k_harmony"`` and ``"cl100k_im"``, extended with chat tokens), or a model name as tiktoken maps it
    (``"gpt-4o"``, ``"gpt-oss-120b"``).

    ``pattern`` and ``special_tokens`` fill in what GPT-2 and tiktoken files lack (given for a format that carries
    its own, they raise ValueError). Malformed files raise ValueError naming the file and line. A file whose name
    is also an encoding's wins over the encoding.

    >>> load_tokenizer("cl100k_base").encode("Hello world")
    [9906, 1917]
    >>> load_tokenizer("no/such/tokenizer.json")
    Traceback (most recent call last):
    ...
    ValueError: no/such/tokenizer.json: no such file or directory.
    """
    if len(paths) == 1 and not os.path.exists(paths[0]):
        named = _load_named(os.fspath(paths[0]), pattern=pattern, special_tokens=special_tokens, name=name)
        if named is not None:
            return named
    kind, files, payload = detect_format(*paths)
    if kind in _OWN_RULES and (pattern is not None or special_tokens is not None):
        raise ValueError(
            f"{files[0]}: a {kind} file carries its own pattern and special tokens; drop the pattern/special-token "
            "options (they are for GPT-2 and tiktoken files)."
        )
    tok = _read_file(kind, files, payload, pattern=pattern, special_tokens=special_tokens)
    if name is not None:
        tok.name = name
    if len(paths) == 1 and os.path.isdir(paths[0]):
        # A model folder's chat templates and special-token names (tokenizer_config.json, chat_template.jinja).
        chat = read_chat_config(paths[0])
        if chat is not None:
            attach_chat_config(tok, chat)
    return tok


#: Formats whose files carry their own pattern and special tokens.
_OWN_RULES = ("tokviz", "hf", "minbpe", "tekken", "bert-vocab", "clip-merges", "sentencepiece")


def _load_named(spec: str, *, pattern: str | None, special_tokens: SpecialTokens | None,
                name: str | None) -> Loaded | None:
    """What a name that is not a path stands for: a Hub id (``hf:``), an encoding or a model name; None when it
    is none of them and nothing is close (the caller then reports the missing file)."""
    if spec.startswith("hf:"):
        return load_hub_tokenizer(spec, pattern=pattern, special_tokens=special_tokens, name=name)[0]
    encoding = spec if is_encoding_name(spec) or spec in CHAT_ENCODINGS else encoding_name_for_model(spec)
    if encoding is None:
        names = (*(e.name for e in NAMED_ENCODINGS), *CHAT_ENCODINGS)
        if not os.path.dirname(spec) and (near := close_names(spec, extra=names)):
            raise ValueError(f"{spec}: no such file, encoding or model name; did you mean {', '.join(near)}?")
        return None
    if pattern is not None or special_tokens is not None:
        raise ValueError(f"{spec} has its own pattern and special tokens; drop the pattern/special-token options.")
    tok: Loaded
    if encoding in CHAT_ENCODINGS:  # gpt-oss's o200k_harmony (tiktoken's), ChatML's cl100k_im
        tok = CHAT_ENCODINGS[encoding]()
    elif not is_encoding_name(encoding):
        raise ValueError(f"{spec} uses the {encoding} encoding, which this version of tokviz does not build; "
                         "load its tokenizer file instead.")
    else:
        tok = load_encoding(encoding)
    if name is not None or encoding != spec:
        tok.name = name or spec
    return tok


def _read_file(kind: str, files: list[Path], payload: Any, *, pattern: str | None,
               special_tokens: SpecialTokens | None) -> Loaded:
    """The tokenizer in ``files``, read by the reader of its ``kind`` (as :func:`detect_format` found it)."""
    source = str(files[0])
    if kind == "tokviz":
        return tokenizer_from_dict(payload, source=source)
    if kind == "hf":
        if is_clip_json(payload):  # CLIP-style BPE: an end-of-word suffix
            return clip_from_dict(payload, source=source)
        return _read_hf(payload, files[0])
    if kind == "minbpe":
        return load_minbpe(files[0])
    if kind == "tekken":
        return tekken_from_dict(payload, source=source)
    if kind == "bert-vocab":
        return load_bert_vocab(files[0])
    if kind == "clip-merges":
        return load_clip_merges(files[0])
    if kind == "sentencepiece":
        # Imported here: the reader needs the optional sentencepiece package only when such a file is loaded.
        from tokviz.formats.sentencepiece_model import load_sentencepiece

        return load_sentencepiece(files[0])
    if kind == "tiktoken":
        return load_tiktoken(files[0], pattern=pattern, special_tokens=special_tokens)
    return load_gpt2(files[0], files[1], pattern=pattern, special_tokens=special_tokens)


def _read_hf(payload: Any, path: Path) -> Loaded:
    # The file's text only names the line in a message: read again for an error, not held (a 65 MB file is about
    # 90 MB of text) while a large vocabulary is built. The parsed file is held for nothing else, so the reader may
    # take its vocabulary and merges out once read (consume); an error reads the file anew, whole.
    try:
        return hf_from_dict(payload, source=str(path), consume=True)
    except ValueError:
        pass
    del payload
    # Outside the handler, so the message with its line is not chained to the first one.
    text = read_text(path)
    return hf_from_dict(parse_json(text, source=str(path)), source=str(path), text=text)


def load_hub_tokenizer(
    spec: str,
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    name: str | None = None,
) -> tuple[Loaded, HubFiles]:
    """The tokenizer of a Hugging Face Hub model (``hf:owner/name[@revision]``), read from its tokenizer files with
    tokviz's own loaders, and the files it came from (their revision, folder in the client's cache, and the context
    length they state). Raises :class:`~tokviz.formats.hub.HubError` (a ValueError) with a one-line message.
    """
    ref = parse_hub_ref(spec)
    if ref is None:
        raise ValueError(f"{spec!r} is not a Hub model id: write hf:owner/name, or hf:owner/name@revision.")
    files = fetch_tokenizer_files(ref)
    tok = load_tokenizer(files.folder, pattern=pattern, special_tokens=special_tokens, name=name or ref.spec)
    return tok, files


# -- dispatch -----------------------------------------------------------------------------------------------------
def save(tok: Saveable, path: str | os.PathLike[str], *, format: str = "tokviz") -> SaveResult:  # noqa: A002
    """Write ``tok`` in ``format`` (one of :data:`FORMATS`); ``gpt2`` writes a directory, the others one file.

    The result's ``notes`` say what the format could not carry (a pattern, special tokens, ids). Only our own
    format holds the baselines (byte, character, word).
    """
    fmt = {"huggingface": "hf", "tokenizer.json": "hf", "tiktoken_bpe": "tiktoken"}.get(format, format)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}.")
    if fmt == "tokviz":
        return save_ours(tok, path)
    if not isinstance(tok, Tokenizer):
        raise ValueError(f"the {fmt} format holds BPE tokenizers only; save the {type(tok).__name__} baseline in the "
                         "tokviz format instead.")
    if fmt == "gpt2":
        return save_gpt2(tok, path)
    if fmt == "hf":
        return save_hf(tok, path)
    if fmt == "minbpe":
        return save_minbpe(tok, path)
    result = save_tiktoken(tok, path)
    if isinstance(tok, PrefixSpaceTokenizer) and tok.add_prefix_space:
        result.notes.append("a rank file has no add_prefix_space; the saved file does not add the prefix space.")
    return result
