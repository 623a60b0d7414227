"""Pre-token counts as a sharded dataset: each distinct pre-token in exactly one shard, chosen by a hash of its bytes.

At 100 GB of text the distinct pre-token table is tens of millions of entries: several GB as one Python ``Counter``,
too much for the one Dask worker that would sum every partial table and for the client that would receive it. Split
by a stable hash (CRC-32 of the pre-token's bytes, the same in every process, unlike Python's salted ``hash``), each
partial table becomes ``n`` parts; part ``k`` of every table goes to the worker that sums shard ``k``, so no
process ever holds more than about ``1/n`` of the final table, and the shards' keys never overlap: the whole table is
their plain union, and a sharded count equals the one-process count exactly.

On disk: a folder of shards, each a counts TSV (:mod:`tokviz.training.counts_table`, with its own header, so any
shard reads alone), and ``manifest.json``, written last, naming them with their distinct and total counts.

Example:
    >>> import pathlib, tempfile
    >>> from collections import Counter
    >>> from tokviz.training.counts_table import count_texts
    >>> whole = count_texts(["the cat sat on the mat, the end"])
    >>> parts = split_counts(whole.counts, 3)
    >>> sum(map(len, parts)) == len(whole), sum(parts, Counter()) == whole.counts
    (True, True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = save_shards([Counts(p, pattern="gpt2") for p in parts], pathlib.Path(folder) / "counts")
    ...     load_shards(manifest) == whole, manifest.name
    (True, 'manifest.json')
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

from tokviz.training.counts_table import Counts

#: The manifest's name inside a shards folder, and its layout version.
MANIFEST = "manifest.json"
FORMAT = "tokviz-counts-shards"
VERSION = 1


def shard_of(piece: str, n_shards: int) -> int:
    """The shard of a pre-token (bytes held as a latin-1 ``str``): CRC-32 of its bytes, modulo ``n_shards``.

    >>> shard_of(" the", 4), shard_of(" the", 1)  # the same in every process and on every machine
    (2, 0)
    """
    return zlib.crc32(piece.encode("latin-1")) % n_shards


def split_counts(counts: Mapping[str, int], n_shards: int) -> list[Counter[str]]:
    """``counts`` cut into ``n_shards`` tables by :func:`shard_of`; their keys never overlap."""
    if isinstance(n_shards, bool) or not isinstance(n_shards, int) or n_shards < 1:
        raise ValueError(f"the number of shards must be a positive integer, got {n_shards!r}.")
    parts: list[Counter[str]] = [Counter() for _ in range(n_shards)]
    if n_shards == 1:
        parts[0].update(counts)
        return parts
    crc = zlib.crc32
    for piece, c in counts.items():
        parts[crc(piece.encode("latin-1")) % n_shards][piece] = c
    return parts


def shard_name(k: int) -> str:
    """The file name of shard ``k``."""
    return f"counts-{k:05d}.tsv"


def save_shard(counts: Counts, folder: str | os.PathLike[str], k: int) -> dict[str, object]:
    """Write shard ``k`` into ``folder`` (made if missing); returns its manifest entry."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / shard_name(k)
    partial = path.with_name(path.name + ".partial")
    counts.save(partial)
    os.replace(partial, path)
    return {"path": path.name, "distinct": len(counts), "total": counts.total}


def write_manifest(folder: str | os.PathLike[str], entries: Sequence[Mapping[str, object]], *, pattern: str,
                   special_tokens: Sequence[str]) -> Path:
    """Write ``manifest.json`` (last, so its presence means every shard it names is complete); returns its path."""
    path = Path(folder) / MANIFEST
    data = {"format": FORMAT, "version": VERSION, "hash": "crc32(piece bytes) % shards", "shards": len(entries),
            "pattern": pattern, "special_tokens": list(special_tokens),
            "distinct": sum(int(str(e["distinct"])) for e in entries),
            "total": sum(int(str(e["total"])) for e in entries), "files": list(entries)}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def save_shards(parts: Sequence[Counts], folder: str | os.PathLike[str]) -> Path:
    """Write each part as a shard and the manifest; returns the manifest's path."""
    if not parts:
        raise ValueError("no shards to save; count something first.")
    entries = [save_shard(p, folder, k) for k, p in enumerate(parts)]
    return write_manifest(folder, entries, pattern=parts[0].pattern, special_tokens=parts[0].special_tokens)


def is_shards(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a shards folder or its manifest."""
    p = Path(path)
    return (p.is_dir() and (p / MANIFEST).is_file()) or (p.name == MANIFEST and p.is_file())


def read_manifest(path: str | os.PathLike[str]) -> tuple[Path, dict[str, object]]:
    """The folder and the manifest's contents; ValueError naming the file if it is not a shards manifest."""
    p = Path(path)
    manifest = p / MANIFEST if p.is_dir() else p
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{manifest}: cannot read the shards manifest ({e}); make one with `tokviz count "
                         "--shards N`.") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), list):
        raise ValueError(f"{manifest}: not a tokviz counts shards manifest; make one with `tokviz count --shards N`.")
    if data.get("version") != VERSION:
        raise ValueError(f"{manifest}: shards manifest version {data.get('version')!r}; this tokviz reads {VERSION}.")
    return manifest.parent, data


def manifest_entries(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """The manifest's entries, each with ``path`` made absolute: what a process that reads one shard needs.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     m = save_shards([Counts(Counter({"ab": 2}))], Path(folder) / "c")
    ...     [(Path(str(e["path"])).name, e["distinct"], e["total"]) for e in manifest_entries(m)]
    [('counts-00000.tsv', 1, 2)]
    """
    folder, data = read_manifest(path)
    return [{**entry, "path": str((folder / str(entry["path"])).resolve())}
            for entry in cast(list[dict[str, object]], data["files"])]


def load_shard(entry: Mapping[str, object]) -> Counts:
    """One shard, from its manifest entry (as :func:`manifest_entries` gives it), checked against the entry."""
    shard = Counts.load(str(entry["path"]))
    if len(shard) != entry["distinct"] or shard.total != entry["total"]:
        raise ValueError(f"{entry['path']}: holds {len(shard)} pieces and {shard.total} pre-tokens, "
                         f"the manifest says {entry['distinct']} and {entry['total']}; count again.")
    return shard


def iter_shards(path: str | os.PathLike[str]) -> Iterable[Counts]:
    """Each shard of a dataset in turn (one in memory at a time), checked against the manifest."""
    for entry in manifest_entries(path):
        yield load_shard(entry)


def load_shards(path: str | os.PathLike[str]) -> Counts:
    """The whole table of a shards dataset (their union: no pre-token is in two shards)."""
    total: Counter[str] = Counter()
    pattern = "gpt2"
    specials: tuple[str, ...] = ()
    for k, shard in enumerate(iter_shards(path)):
        if k == 0:
            pattern, specials = shard.pattern, shard.special_tokens
        else:
            shard.check_same_settings(pattern, specials)
        total.update(shard.counts)
    return Counts(total, pattern=pattern, special_tokens=tuple(specials))
