"""The server's store of tokenizers users trained or loaded, so a refresh, a restart or a link brings them back.

Each tokenizer is kept as data only: its canonical file in our JSON format (``<hash>.json``, the SHA-256 of that
file names it) and a small JSON record beside it (``<hash>.meta.json``: display name, where it came from, when it
was last used, with a checksum of the name and source). Nothing in the store is executed or unpickled; a file whose
content no longer matches its name (truncated, edited) is discarded on reading, and rewritten when the same
tokenizer is stored again; a damaged record is rebuilt from the tokenizer. Each of these is reported through the
``notice`` callback of :meth:`TokenizerStore.get` and :meth:`TokenizerStore.put` (a page shows it), never raised.
The store is bounded: past ``max_bytes`` the least recently used entries go first. Nothing lists the store: a
session reaches only the hashes it made or that its link names.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.ours import from_dict, to_dict
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer

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


def least_recently_used(entries: Iterable[tuple[float, str, int]], *, max_bytes: int, keep: str) -> list[str]:
    """The keys to remove, oldest use first, until the entries left fit in ``max_bytes``; ``keep`` (the entry just
    written) is never one of them. ``entries`` are ``(last used, key, bytes)``; the three stores share this rule.

    >>> least_recently_used([(3.0, "c", 5), (1.0, "a", 5), (2.0, "b", 5)], max_bytes=6, keep="a")
    ['b', 'c']
    """
    listed = sorted(entries)
    total = sum(size for _, _, size in listed)
    out: list[str] = []
    for _used, key, size in listed:
        if total <= max_bytes:
            break
        if key != keep:
            out.append(key)
            total -= size
    return out


#: Seconds after which a partial file (``*.tmp``) that a failed or killed write left behind is swept; younger ones
#: may be another thread's or process's write in progress.
PARTIAL_AGE = 60.0


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then rename it over ``path``; if anything fails (a full
    disk, a read-only folder) the temporary file is removed and the error raised, so no partial file stays."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the folder itself refuses: nothing was left in it either
        raise


def sweep_partial(directory: Path, *, older_than: float = PARTIAL_AGE) -> int:
    """Remove the ``*.tmp`` files in ``directory`` older than ``older_than`` seconds (left by a write that was killed
    before it could clean up); how many went. Run at start-up and at every eviction.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / ".x.json.1.2.tmp").write_text("half")
    >>> sweep_partial(d, older_than=0), list(d.iterdir())
    (1, [])
    """
    now, n = time.time(), 0
    try:
        partial = list(directory.glob("*.tmp"))
    except OSError:
        return 0
    for p in partial:
        try:
            if now - p.stat().st_mtime >= older_than:
                p.unlink()
                n += 1
        except OSError:
            pass  # gone already, or the folder is read-only
    return n


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
        sweep_partial(self.directory)  # what a server killed mid-write left

    def _paths(self, h: str) -> tuple[Path, Path]:
        return self.directory / f"{h}.json", self.directory / f"{h}.meta.json"

    def put(self, tok: TokenizerLike, *, name: str, source: str, notice: Notice | None = None) -> str:
        """Store ``tok`` (ValueError if our format cannot hold it) and return its hash; storing it again only
        updates its record, and rewrites its file if that was damaged (saying so through ``notice``)."""
        data = canonical(tok)
        h = hashlib.sha256(data).hexdigest()
        body, meta = self._paths(h)
        with _lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            damaged = body.is_file() and not _sound(body, h)
            if damaged or not body.is_file():
                write_atomically(body, lambda tmp: tmp.write_bytes(data))
            if damaged and notice is not None:
                notice(f"The server's stored copy of {name} was damaged (its content no longer matched its hash); "
                       "it was written again.")
            write_atomically(meta, lambda tmp: _write_record(tmp, name=name, source=source))
            self._evict(keep=h)
        return h

    def get(self, h: str, *, notice: Notice | None = None) -> StoredTokenizer | None:
        """The stored tokenizer ``h``, or None when it is not here, or was damaged (then it is removed, and
        ``notice`` is told). A damaged record (name, source) is rebuilt from the tokenizer."""
        if not is_hash(h):
            return None
        body, meta = self._paths(h)
        try:
            data = body.read_bytes()
        except OSError:
            return None
        problem = None
        tok = None
        if hashlib.sha256(data).hexdigest() != h:
            problem = "its content no longer matches its hash (truncated or changed)"
        else:
            try:
                tok = from_dict(parse_json(data.decode("utf-8"), source=body.name), source=body.name)
            except (ValueError, UnicodeDecodeError) as e:
                problem = f"it does not read as a tokenizer ({e})"
        if tok is None:
            self.remove(h)  # never half-read, never shown again
            if notice is not None:
                notice(f"A tokenizer this link names ({h[:12]}…) was damaged in the server's store: {problem}. It "
                       "was removed; train or load it again to keep it.")
            return None
        record = _read_record(meta)
        if record is None:
            record = {"name": str(getattr(tok, "name", "") or h[:12]), "source": ""}
            if notice is not None and meta.is_file():
                notice(f"The record of the stored tokenizer {record['name']} was damaged; it was rebuilt from the "
                       "tokenizer (its name, without where it came from).")
        try:
            _write_record(meta, name=record["name"], source=record["source"])
        except OSError:
            pass  # a read-only store still serves what it holds
        return StoredTokenizer(h, tok, record["name"] or h[:12], record["source"])

    def remove(self, h: str) -> None:
        """Forget ``h`` (its file and record); nothing happens for an unknown hash."""
        if not is_hash(h):
            return
        for p in self._paths(h):
            p.unlink(missing_ok=True)

    def _evict(self, *, keep: str) -> None:
        sweep_partial(self.directory)
        entries = []
        for body in self.directory.glob("*.json"):
            h = body.name.removesuffix(".json")
            if not is_hash(h):
                continue
            meta = self._paths(h)[1]
            used = meta.stat().st_mtime if meta.is_file() else body.stat().st_mtime
            entries.append((used, h, body.stat().st_size))
        for h in least_recently_used(entries, max_bytes=self.max_bytes, keep=keep):
            self.remove(h)


#: Told what was damaged and repaired (one sentence); a page shows it.
Notice = Callable[[str], None]


def _sound(body: Path, h: str) -> bool:
    try:
        return hashlib.sha256(body.read_bytes()).hexdigest() == h
    except OSError:
        return False


def _record_sum(name: str, source: str) -> str:
    return hashlib.sha256(json.dumps([name, source]).encode("utf-8")).hexdigest()[:16]


def _write_record(meta: Path, *, name: str, source: str) -> None:
    record = {"name": name, "source": source, "used": time.time(), "sha256": _record_sum(name, source)}
    meta.write_text(json.dumps(record), encoding="utf-8")


def _read_record(meta: Path) -> dict[str, str] | None:
    """``{"name", "source"}`` of a sound record, else None (missing, not JSON, wrong types, checksum off).

    Records written before they had a checksum are taken when their types are right.
    """
    try:
        raw: Any = parse_json(meta.read_text(encoding="utf-8"), source=meta.name)
    except (OSError, ValueError):  # UnicodeDecodeError and too-deep nesting are ValueErrors here
        return None
    if not isinstance(raw, dict):
        return None
    name, source, check = raw.get("name"), raw.get("source", ""), raw.get("sha256")
    if not isinstance(name, str) or not isinstance(source, str) or not isinstance(raw.get("used", 0), (int, float)):
        return None
    if check is not None and check != _record_sum(name, source):
        return None
    return {"name": name, "source": source}
