"""A trained tokenizer as downloadable files: our own JSON, GPT-2 ``vocab.json`` + ``merges.txt`` (one zip), and a
tiktoken rank file, each with its file name, MIME type, and the command that loads it back.

The bytes come from :func:`tokviz.formats.save` (written to a temporary folder and read back), so a download is
exactly what ``tokviz convert`` would write. GPT-2 files are a directory in :mod:`tokviz.formats`; a browser
downloads one file, so here the two files go into a zip (unzip it, then load the folder). A format that cannot hold
the tokenizer (a rank file needs ids in merge order) gives an :class:`ExportFailure` with the reason instead of
raising, so the page can say why that one button is missing.

Example:
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260, name="demo")
    >>> [d.file_name for d in downloads(tok, stem="demo")]
    ['demo.json', 'demo-tokenizer.json', 'demo-gpt2.zip', 'demo.tiktoken', 'demo.model']
"""

from __future__ import annotations

import io
import shlex
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tokviz.formats import save
from tokviz.models.bpe import Tokenizer

#: The download formats, in the order the page offers them.
EXPORT_FORMATS: tuple[str, ...] = ("tokviz", "hf", "gpt2", "tiktoken", "minbpe")
_LABELS = {"tokviz": "tokviz JSON", "hf": "Hugging Face tokenizer.json", "gpt2": "GPT-2 vocab.json + merges.txt (zip)",
           "tiktoken": "tiktoken rank file", "minbpe": "minbpe .model"}
_MIME = {"tokviz": "application/json", "hf": "application/json", "gpt2": "application/zip", "tiktoken": "text/plain",
         "minbpe": "text/plain"}
# A fixed timestamp makes the zip the same bytes for the same tokenizer (zip stores times; 1980 is its epoch).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Download:
    """One file to download: what it is, its name and MIME type, its bytes, what it cannot carry, how to load it."""

    format: str
    label: str
    file_name: str
    mime: str
    data: bytes
    notes: tuple[str, ...]
    load_command: str


@dataclass(frozen=True)
class ExportFailure:
    """A format that cannot hold this tokenizer, and why."""

    format: str
    label: str
    message: str


def _suffix(fmt: str) -> str:
    return {"tokviz": ".json", "hf": "-tokenizer.json", "gpt2": "-gpt2.zip", "tiktoken": ".tiktoken",
            "minbpe": ".model"}[fmt]


def _pattern_arg(tok: Tokenizer) -> str | None:
    """What to pass as the pattern when loading a format that stores none (None: the default, gpt2, is right)."""
    return None if tok.pretokenizer.name == "gpt2" else (tok.pretokenizer.name or tok.pattern)


def load_command(tok: Tokenizer, fmt: str, file_name: str, *, text: str = "hello world") -> str:
    """The shell command that loads a download back and prints the ids of ``text`` (a zip is unpacked first).

    GPT-2 and tiktoken files store no pattern, so a pattern other than gpt2 is passed. A rank file also stores no
    special tokens; they are passed as ``--special-token TOKEN=ID`` so they get back the ids training gave them.

    >>> from tokviz import train_bpe
    >>> load_command(train_bpe(["ab ab"], vocab_size=258), "gpt2", "t-gpt2.zip")
    "unzip -o t-gpt2.zip -d t-gpt2 && tokviz encode 'hello world' -t t-gpt2"
    >>> load_command(train_bpe(["ab ab"], vocab_size=258, pattern="gpt4"), "tiktoken", "t.tiktoken")
    "tokviz encode 'hello world' -t t.tiktoken --pattern gpt4"
    >>> load_command(train_bpe(["ab ab"], vocab_size=259, special_tokens=["<s>"]), "tiktoken", "t.tiktoken")
    "tokviz encode 'hello world' -t t.tiktoken --special-token '<s>=0'"
    """
    # Our format, tokenizer.json and minbpe files carry their own pattern and special tokens.
    pattern = None if fmt in ("tokviz", "hf", "minbpe") else _pattern_arg(tok)
    specials: list[str] = []
    if fmt == "tiktoken":
        for token, i in tok.special_ids.items():
            specials += ["--special-token", f"{token}={i}"]
    target, prefix = file_name, ""
    if fmt == "gpt2":
        target = file_name.removesuffix(".zip")
        prefix = f"unzip -o {shlex.quote(file_name)} -d {shlex.quote(target)} && "
    # The text goes first: ``-t`` takes several tokenizers, so a text after it would be read as one more.
    args = ["tokviz", "encode", text, "-t", target, *(["--pattern", pattern] if pattern else []), *specials]
    return prefix + shlex.join(args)


def zip_folder(folder: Path) -> bytes:
    """The files directly in ``folder`` as a zip (names sorted, fixed timestamps), built in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            info = zipfile.ZipInfo(path.name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def export(tok: Tokenizer, *, format: str, stem: str) -> Download:  # the word tokviz.formats.save uses
    """One download of ``tok`` in ``format`` (one of :data:`EXPORT_FORMATS`); ValueError if the format cannot hold it.

    >>> from tokviz import train_bpe
    >>> export(train_bpe(["ab ab"], vocab_size=258), format="gpt2", stem="t").data[:2]
    b'PK'
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown download format {format!r}; choose one of: {', '.join(EXPORT_FORMATS)}.")
    file_name = stem + _suffix(format)
    with tempfile.TemporaryDirectory(prefix="tokviz-export-") as tmp:
        target = Path(tmp) / ("gpt2" if format == "gpt2" else file_name)
        result = save(tok, target, format=format)
        data = zip_folder(target) if format == "gpt2" else target.read_bytes()
    return Download(format, _LABELS[format], file_name, _MIME[format], data, tuple(result.notes),
                    load_command(tok, format, file_name))


def downloads(tok: Tokenizer, *, stem: str) -> tuple[Download | ExportFailure, ...]:
    """Every download format for ``tok``, in :data:`EXPORT_FORMATS` order; a format that cannot hold it is an
    :class:`ExportFailure` carrying the reason."""
    out: list[Download | ExportFailure] = []
    for fmt in EXPORT_FORMATS:
        try:
            out.append(export(tok, format=fmt, stem=stem))
        except ValueError as e:
            out.append(ExportFailure(fmt, _LABELS[fmt], str(e)))
    return tuple(out)
