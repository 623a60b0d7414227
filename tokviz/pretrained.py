"""OpenAI's named encodings (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base) from tiktoken's local cache.

tiktoken downloads each encoding's file once and caches it under ``$TIKTOKEN_CACHE_DIR``, else
``$DATA_GYM_CACHE_DIR``, else ``<tempdir>/data-gym-cache``, named by the sha1 hex of the file's URL (an empty cache
dir setting turns the cache off). This module only looks there: it never touches the network, so offline an encoding
whose file is not cached is listed as unavailable, with a hint saying how to provide it. A cached file is used only
if its sha256 is the one tiktoken expects, so a truncated download is reported, not half-loaded.

Example:
    >>> import tempfile
    >>> [e.name for e in list_encodings(cache_dir=tempfile.mkdtemp())]
    ['gpt2', 'r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base']
    >>> list_encodings(cache_dir=tempfile.mkdtemp())[0].available
    False
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tokviz.formats import ENDOFTEXT, KNOWN_RANK_FILES, load_gpt2, load_tiktoken
from tokviz.tokenizer import Tokenizer

_BLOB = "https://openaipublic.blob.core.windows.net"


@dataclass(frozen=True)
class RemoteFile:
    """A file tiktoken downloads: its URL (whose sha1 names the cache entry) and its expected sha256."""

    url: str
    sha256: str

    @property
    def cache_key(self) -> str:
        return hashlib.sha1(self.url.encode()).hexdigest()


@dataclass(frozen=True)
class NamedEncoding:
    """One of tiktoken's named encodings: the files it needs (GPT-2 needs two) and what it is."""

    name: str
    files: tuple[RemoteFile, ...]
    description: str


# URLs and hashes from tiktoken_ext/openai_public.py.
NAMED_ENCODINGS: tuple[NamedEncoding, ...] = (
    NamedEncoding("gpt2", (
        RemoteFile(f"{_BLOB}/gpt-2/encodings/main/vocab.bpe",
                   "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
        RemoteFile(f"{_BLOB}/gpt-2/encodings/main/encoder.json",
                   "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
    ), "GPT-2 (50,257 tokens), from its original vocab.bpe + encoder.json"),
    *(
        NamedEncoding(k.name, (RemoteFile(f"{_BLOB}/encodings/{k.name}.tiktoken", k.sha256),), desc)
        for k, desc in zip(KNOWN_RANK_FILES, (
            "GPT-3 (50,257 tokens; the same tokens as gpt2)",
            "Codex (50,281 tokens: gpt2 plus runs of spaces)",
            "GPT-4 / GPT-3.5 (100,277 tokens)",
            "GPT-4o (200,019 tokens)",
        ))
    ),
)


@dataclass(frozen=True)
class EncodingStatus:
    """Whether a named encoding can be loaded now, where from, and otherwise how to provide it."""

    name: str
    description: str
    available: bool
    paths: tuple[Path, ...]
    hint: str


def tiktoken_cache_dir() -> Path | None:
    """tiktoken's cache directory as tiktoken chooses it, or None when caching is turned off (set to "")."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            value = os.environ[var]
            return Path(value) if value else None
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def _encoding(name: str) -> NamedEncoding:
    for enc in NAMED_ENCODINGS:
        if enc.name == name:
            return enc
    names = ", ".join(e.name for e in NAMED_ENCODINGS)
    raise ValueError(f"unknown encoding {name!r}; the named encodings are: {names}.")


def status(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> EncodingStatus:
    """Availability of one named encoding in the cache (``cache_dir`` overrides tiktoken's choice)."""
    enc = _encoding(name)
    root = Path(cache_dir) if cache_dir is not None else tiktoken_cache_dir()
    if root is None:
        return EncodingStatus(enc.name, enc.description, False, (),
                              "tiktoken's cache is turned off (TIKTOKEN_CACHE_DIR is empty); " + _how(enc, None))
    paths = tuple(root / f.cache_key for f in enc.files)
    for f, p in zip(enc.files, paths):
        if not p.is_file():
            return EncodingStatus(enc.name, enc.description, False, paths,
                                  f"not in the local cache {root}; " + _how(enc, root))
        if hashlib.sha256(p.read_bytes()).hexdigest() != f.sha256:
            return EncodingStatus(enc.name, enc.description, False, paths,
                                  f"the cached {p.name} is damaged (sha256 differs from tiktoken's); delete it, then "
                                  + _how(enc, root))
    return EncodingStatus(enc.name, enc.description, True, paths, f"cached in {root}")


def _how(enc: NamedEncoding, root: Path | None) -> str:
    where = str(root) if root is not None else "$TIKTOKEN_CACHE_DIR"
    files = "; ".join(f"{f.url} as {where}/{f.cache_key}" for f in enc.files)
    return (f"to provide it, run tiktoken.get_encoding({enc.name!r}) once on a machine with internet and copy its "
            f"cache folder here (or set TIKTOKEN_CACHE_DIR to it), or save {files}. A .tiktoken file you already "
            "have can also be loaded directly as a tokenizer file.")


def list_encodings(*, cache_dir: str | os.PathLike[str] | None = None) -> list[EncodingStatus]:
    """Every named encoding with its availability and a hint; reads the cache only, never the network."""
    return [status(e.name, cache_dir=cache_dir) for e in NAMED_ENCODINGS]


def is_encoding_name(name: str) -> bool:
    """True for a named encoding (whether or not it is cached)."""
    return any(e.name == name for e in NAMED_ENCODINGS)


def load_encoding(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Tokenizer:
    """Our Tokenizer for a named encoding, from the cached file; ValueError with the hint when it is not cached.

    Ids equal tiktoken's: the rank files' ranks are the ids and their merges are derived from the ranks; ``gpt2``
    is read from its original GPT-2 files (its merge list and vocabulary).
    """
    st = status(name, cache_dir=cache_dir)
    if not st.available:
        raise ValueError(f"encoding {name!r} is not available offline: {st.hint}")
    if name == "gpt2":
        merges_path, vocab_path = st.paths
        tok = load_gpt2(vocab_path, merges_path, pattern="gpt2", special_tokens={ENDOFTEXT: 50256})
    else:
        tok = load_tiktoken(st.paths[0])
    tok.name = name
    return tok


__all__ = ["EncodingStatus", "NAMED_ENCODINGS", "NamedEncoding", "RemoteFile", "is_encoding_name",
           "list_encodings", "load_encoding", "status", "tiktoken_cache_dir"]
