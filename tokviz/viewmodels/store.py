"""The server's store of tokenizers users trained or loaded, so a refresh, a restart or a link brings them back.

Each tokenizer is kept as data only: its canonical file in our JSON format (``<hash>.json``, the SHA-256 of that
file names it) and a small JSON record beside it (``<hash>.meta.json``: display name, where it came from, when it
was last used). Nothing in the store is executed or unpickled; a file whose content no longer matches its name
(truncated, edited) is discarded on reading. The store is bounded: past ``max_bytes`` the least recently used
entries go first. Nothing lists the store: a session reaches only the hashes it made or that its link names.

Example:
    >>> import tempfile
    >>> from tokviz import train_bpe
    >>> store = TokenizerStore(tempfile.mkdtemp())
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> h = store.put(tok, name="mine", source="trained here")
    >>> store.get(h).tokenizer.encode("lowest") == tok.encode("lowest"), store.get(h).name
    (True, 'mine')
    >>> store.get("0" * 64) is None
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tokviz.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.formats.ours import from_dict, to_dict
from tokviz.jsonfile import parse_json
from tokviz.protocol import TokenizerLike
from tokviz.tokenizer import Tokenizer

#: Default bound of the store on disk.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Environment variable that sets the bound, in megabytes.
MAX_MB_ENV = "TOKVIZ_STORE_MAX_MB"
_HASH = re.compile(r"[0-9a-f]{64}")
_lock = threading.Lock()


@dataclass(frozen=True)
class StoredTokenizer:
    """A tokenizer read back from the store, with its display name and where it came from."""

    hash: str
    tokenizer: TokenizerLike
    name: str
    source: str


def canonical(tok: TokenizerLike) -> bytes:
    """The tokenizer's file in our format, written the same way every time (sorted keys, no spaces); ValueError for
    a tokenizer our format cannot hold (a tokenizer.json pipeline, another family: those stay in the session)."""
    if not isinstance(tok, (Tokenizer, ByteTokenizer, CharacterTokenizer, WordTokenizer)):
        raise ValueError(f"{type(tok).__name__} cannot be written in tokviz's format; it is kept for this session.")
    return json.dumps(to_dict(tok), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def is_hash(text: str) -> bool:
    """True for a store name: 64 lowercase hex digits (nothing else is ever used as a path).

    >>> is_hash("ab" * 32), is_hash("../etc/passwd")
    (True, False)
    """
    return bool(_HASH.fullmatch(text))


class TokenizerStore:
    """Tokenizers on disk under ``directory``, content-addressed and bounded (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int | None = None) -> None:
        self.directory = Path(directory)
        env = os.environ.get(MAX_MB_ENV, "")
        self.max_bytes = max_bytes if max_bytes is not None else (
            int(env) * 1024 * 1024 if env.isdigit() else DEFAULT_MAX_BYTES)

    def _paths(self, h: str) -> tuple[Path, Path]:
        return self.directory / f"{h}.json", self.directory / f"{h}.meta.json"

    def put(self, tok: TokenizerLike, *, name: str, source: str) -> str:
        """Store ``tok`` (ValueError if our format cannot hold it) and return its hash; storing it again only
        updates its record."""
        data = canonical(tok)
        h = hashlib.sha256(data).hexdigest()
        body, meta = self._paths(h)
        with _lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not body.is_file():
                tmp = body.with_name(f".{body.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_bytes(data)
                tmp.replace(body)
            meta.write_text(json.dumps({"name": name, "source": source, "used": time.time()}), encoding="utf-8")
            self._evict(keep=h)
        return h

    def get(self, h: str) -> StoredTokenizer | None:
        """The stored tokenizer ``h``, or None when it is not here, or was damaged (then it is removed)."""
        if not is_hash(h):
            return None
        body, meta = self._paths(h)
        try:
            data = body.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != h:
            self.remove(h)  # truncated or changed: never half-read
            return None
        try:
            tok = from_dict(parse_json(data.decode("utf-8"), source=body.name), source=body.name)
            record = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        except (ValueError, OSError):
            self.remove(h)
            return None
        name = str(record.get("name") or getattr(tok, "name", h[:12]))
        record["used"] = time.time()
        try:
            meta.write_text(json.dumps(record), encoding="utf-8")
        except OSError:
            pass  # a read-only store still serves what it holds
        return StoredTokenizer(h, tok, name, str(record.get("source", "")))

    def remove(self, h: str) -> None:
        """Forget ``h`` (its file and record); nothing happens for an unknown hash."""
        if not is_hash(h):
            return
        for p in self._paths(h):
            p.unlink(missing_ok=True)

    def _evict(self, *, keep: str) -> None:
        entries = []
        total = 0
        for body in self.directory.glob("*.json"):
            h = body.name.removesuffix(".json")
            if not is_hash(h):
                continue
            size = body.stat().st_size
            total += size
            meta = self._paths(h)[1]
            used = meta.stat().st_mtime if meta.is_file() else body.stat().st_mtime
            entries.append((used, h, size))
        for _used, h, size in sorted(entries):
            if total <= self.max_bytes:
                break
            if h != keep:
                self.remove(h)
                total -= size
