"""Where encoded ids go: one ``.npy``, one raw ``.bin`` in nanoGPT's layout, or shards of either with a manifest.

- ``X.npy``: numpy's format (a 128-byte header, then the ids), read with ``numpy.load(path, mmap_mode="r")``.
- ``X.bin``: the ids alone, little-endian ``uint16`` (or ``uint32`` when an id does not fit), as nanoGPT's
  ``prepare.py`` writes and its ``np.memmap("train.bin", dtype=np.uint16, mode="r")`` reads; the dtype and count,
  which a raw file cannot hold, go in the sidecar ``X.bin.json``.
- sharded (``shard_tokens=N``): ``X-00000.bin``, ``X-00001.bin``, ... (or ``.npy``), each of at most N ids, in
  corpus order, and ``X.manifest.json`` listing every shard with its count; a ``.bin`` shard has its own sidecar too.

Every file is written as ``NAME.partial`` and renamed when complete, sidecars before their data file and the
manifest last, so a file that looks finished is finished.

Example:
    >>> import json, pathlib, tempfile, numpy
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = IdsOutput(pathlib.Path(folder) / "train.bin", "uint16", shard_tokens=3)
    ...     out.append([1, 2]); out.append([3, 4, 5, 6, 7])
    ...     manifest = json.loads(out.close({"documents": 1}).read_text())
    ...     [s["count"] for s in manifest["shards"]], numpy.fromfile(pathlib.Path(folder) / "train-00002.bin", "<u2")
    ([3, 3, 1], array([7], dtype=uint16))
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

#: The ``.npy`` header's fixed size: room for any length, so it can be rewritten in place at the end.
HEADER_BYTES = 128
#: Output kinds, by file suffix.
SUFFIXES = (".bin", ".npy")


def npy_header(dtype_str: str, n: int) -> bytes:
    """A version 1.0 ``.npy`` header of :data:`HEADER_BYTES` for a one-dimensional array of ``n`` items."""
    body = f"{{'descr': '{dtype_str}', 'fortran_order': False, 'shape': ({n},), }}".encode("latin-1")
    pad = HEADER_BYTES - 10 - len(body) - 1
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", HEADER_BYTES - 10) + body + b" " * pad + b"\n"


def check_output(output: str | os.PathLike[str]) -> Path:
    """``output`` as a Path, if its folder exists and it ends in ``.bin`` or ``.npy``; else ValueError."""
    out = Path(output)
    if not out.parent.is_dir():
        raise ValueError(f"{out.parent}: the output folder does not exist; create it or choose another output.")
    if out.suffix not in SUFFIXES:
        raise ValueError(f"{out.name}: name the output X.bin (raw little-endian ids, nanoGPT's layout, with X.bin.json "
                         "giving dtype and count) or X.npy (numpy's format).")
    return out


class _File:
    """One output file of ids, raw or ``.npy``, written to ``path.partial`` and renamed by :meth:`finish`."""

    def __init__(self, path: Path, dtype: Any) -> None:
        self.path = path
        self.dtype = dtype
        self.n = 0
        self.partial = path.with_name(path.name + ".partial")
        self._file: BinaryIO = open(self.partial, "wb")  # noqa: SIM115 - closed by finish() or abort()
        if path.suffix == ".npy":
            self._file.write(npy_header(dtype.str, 0))

    def write(self, arr: Any) -> None:
        self._file.write(arr.tobytes())
        self.n += int(arr.size)

    def finish(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Close, write the sidecar of a ``.bin``, rename; returns what the manifest says of this file."""
        if self.path.suffix == ".npy":
            self._file.seek(0)
            self._file.write(npy_header(self.dtype.str, self.n))
        self._file.close()
        entry = {"path": self.path.name, "count": self.n}
        if self.path.suffix == ".bin":
            sidecar = {"format": "tokviz-ids", "version": 1, "dtype": self.dtype.name, "byteorder": "little",
                       "count": self.n, **meta}
            _write_json(self.path.with_name(self.path.name + ".json"), sidecar)
        os.replace(self.partial, self.path)
        return entry

    def abort(self) -> None:
        self._file.close()
        self.partial.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


class IdsOutput:
    """Appends ids to the output named by ``output`` (see the module docstring), one shard after another.

    ``dtype`` is ``"uint16"`` or ``"uint32"``; an id that does not fit raises ValueError.
    """

    def __init__(self, output: str | os.PathLike[str], dtype: str, *, shard_tokens: int | None = None) -> None:
        import numpy as np

        self._np = np
        self.output = check_output(output)
        if shard_tokens is not None and (isinstance(shard_tokens, bool) or not isinstance(shard_tokens, int)
                                         or shard_tokens < 1):
            raise ValueError(f"shard_tokens must be a positive number of ids, got {shard_tokens!r}.")
        self.shard_tokens = shard_tokens
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self._limit = int(np.iinfo(self.dtype).max)
        self.n = 0
        self.done: list[dict[str, Any]] = []
        self.shards: list[Path] = []
        self._current: _File | None = None

    def _shard_path(self, k: int) -> Path:
        return self.output.with_name(f"{self.output.stem}-{k:05d}{self.output.suffix}")

    def _file(self) -> _File:
        if self._current is None:
            path = self.output if self.shard_tokens is None else self._shard_path(len(self.shards))
            self._current = _File(path, self.dtype)
            self.shards.append(path)
        return self._current

    def append(self, ids: Any) -> None:
        """Append ids (a sequence of ints or an integer numpy array), in order."""
        arr = self._np.asarray(ids)
        if arr.size == 0:
            return
        if arr.dtype != self.dtype:
            top = int(arr.max())
            if top > self._limit or int(arr.min()) < 0:
                raise ValueError(f"token id {top} does not fit {self.dtype.name}; the tokenizer emits ids beyond its "
                                 "vocabulary size, so write uint32.")
            arr = arr.astype(self.dtype)
        while arr.size:
            f = self._file()
            room = arr.size if self.shard_tokens is None else self.shard_tokens - f.n
            f.write(arr[:room])
            self.n += min(room, int(arr.size))
            arr = arr[room:]
            if self.shard_tokens is not None and f.n == self.shard_tokens:
                self.done.append(f.finish({}))
                self._current = None

    def close(self, meta: dict[str, Any] | None = None) -> Path:
        """Finish the last file, and the manifest when sharded; returns the output (the manifest when sharded).

        ``meta`` (JSON values: the tokenizer's name, the EOT id, the number of documents) goes in the sidecar or the
        manifest.
        """
        meta = dict(meta or {})
        if self.shard_tokens is None:
            self._file().finish(meta)
            return self.output
        if self._current is not None:
            self.done.append(self._current.finish({}))
            self._current = None
        manifest = self.output.with_name(f"{self.output.stem}.manifest.json")
        _write_json(manifest, {"format": "tokviz-ids-shards", "version": 1, "dtype": self.dtype.name,
                               "byteorder": "little", "kind": self.output.suffix[1:], "count": self.n,
                               "shard_tokens": self.shard_tokens, **meta, "shards": self.done})
        return manifest

    def abort(self) -> None:
        """Delete the unfinished file (shards already finished stay, but no manifest names them)."""
        if self._current is not None:
            self._current.abort()
            self._current = None
