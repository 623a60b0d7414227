"""The record of each finished Train run, kept on the server beside its tokenizer, so a refresh, a restart or a link
brings back the run's summary, merges and replay, not only the tokenizer.

The tokenizer itself lives in :mod:`tokviz.viewmodels.store`; a run's record is keyed by the same hash and holds
what the tokenizer file does not: the pre-token counts the merges were learned from (``<hash>.counts.tsv``, the TSV
of :mod:`tokviz.training.counts_table`), and ``<hash>.run.json`` with each merge's pair count, the wall time, the
held-out
compression and share, the run's report (requested size, why it stopped), the description of the corpus, the
SHA-256 of the counts file, the hashes of the corpus texts and a SHA-256 of all of that. The corpus texts go to the
shared :class:`~tokviz.viewmodels.text_store.TextStore` (content-addressed, so the built-in corpus is kept once for
every run on it); a text too big for that store is not kept, and the record says so (:attr:`StoredRun.texts_kept`:
the replay then has no corpus line to show).

Data only, as the tokenizer store: JSON and TSV, parsed, never executed or unpickled. A record that is damaged
(checksum off, counts file changed or missing, fields of the wrong type, merge counts that do not fit the tokenizer)
is removed and reported through ``notice``, never raised. Bounded: past ``max_bytes`` the least recently used
records go first; :meth:`RunStore.remove` drops one with its tokenizer.

Example:
    >>> import tempfile
    >>> from collections import Counter
    >>> from tokviz import train_bpe
    >>> from tokviz.training.merge_loop import Merge
    >>> from tokviz.viewmodels.text_store import TextStore
    >>> from tokviz.viewmodels.training_summary import TrainedRun, summarize
    >>> tok = train_bpe(["low lower lowest\\n" * 20], vocab_size=259)
    >>> merges = tuple(Merge(i, a, b, c) for i, ((a, b), c) in enumerate(zip(tok.merges, tok.training.merge_counts)))
    >>> run = TrainedRun(id=1, tokenizer=tok, counts=Counter({" low": 20, "low": 1}), merges=merges,
    ...                  summary=summarize(tok, seconds=0.5, heldout_ratio=None), texts=("low lower\\n",),
    ...                  described="a test")
    >>> runs = RunStore(tempfile.mkdtemp(), texts=TextStore(tempfile.mkdtemp()))
    >>> runs.put("ab" * 32, run, holdout=0.0).corpus_kept
    True
    >>> back = runs.get("ab" * 32, tokenizer=tok)
    >>> back.counts == run.counts, back.merge_counts == tuple(m.count for m in merges), back.texts
    (True, True, ('low lower\\n',))
    >>> runs.get("cd" * 32, tokenizer=tok) is None
    True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json
from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.training.counts_table import Counts
from tokviz.training.merge_loop import Merge
from tokviz.viewmodels.store import is_hash, least_recently_used, sweep_partial, write_atomically
from tokviz.viewmodels.text_store import TextStore
from tokviz.viewmodels.training_summary import TrainedRun, summarize

#: Default bound of the run records on disk (counts files dominate: a few MB for a large corpus).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
#: Environment variable that sets the bound, in megabytes.
MAX_MB_ENV = "TOKVIZ_RUN_STORE_MAX_MB"
FORMAT = "tokviz-run"
VERSION = 1
_lock = threading.Lock()

#: Told what was damaged and dropped (one sentence); a page shows it.
Notice = Callable[[str], None]


@dataclass(frozen=True)
class RunKept:
    """What :meth:`RunStore.put` could keep: the record at all, and the corpus texts with it."""

    kept: bool
    corpus_kept: bool


@dataclass(frozen=True)
class StoredRun:
    """A run's record read back: everything a :class:`TrainedRun` needs besides its tokenizer.

    ``texts`` is the corpus (all of it) when :attr:`texts_kept`, else empty.
    """

    id: int
    counts: Counter[str]
    merge_counts: tuple[int, ...]
    seconds: float
    heldout_ratio: float | None
    holdout: float
    described: str
    texts: tuple[str, ...]
    texts_kept: bool
    report: TrainingReport | None

    def trained_run(self, tok: Tokenizer, *, id: int) -> TrainedRun:
        """The run as the Train page keeps it, for ``tok`` (the stored tokenizer this record belongs to). ``tok``
        gets back its training report (the file format does not hold it), which the summary and the anatomy read."""
        if tok.training is None and self.report is not None:
            tok.training = self.report
        merges = tuple(Merge(i, a, b, c) for i, ((a, b), c) in enumerate(zip(tok.merges, self.merge_counts)))
        return TrainedRun(id=id, tokenizer=tok, counts=self.counts, merges=merges,
                          summary=summarize(tok, seconds=self.seconds, heldout_ratio=self.heldout_ratio),
                          texts=self.texts, described=self.described, texts_kept=self.texts_kept)


class RunStore:
    """Run records on disk under ``directory``, keyed by their tokenizer's store hash (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike[str], *, texts: TextStore, max_bytes: int | None = None) -> None:
        self.directory = Path(directory)
        self.texts = texts
        env = os.environ.get(MAX_MB_ENV, "")
        self.max_bytes = max_bytes if max_bytes is not None else (
            int(env) * 1024 * 1024 if env.isdigit() else DEFAULT_MAX_BYTES)
        sweep_partial(self.directory)  # what a server killed mid-write left

    def _paths(self, h: str) -> tuple[Path, Path]:
        return self.directory / f"{h}.run.json", self.directory / f"{h}.counts.tsv"

    def put(self, h: str, run: TrainedRun, *, holdout: float) -> RunKept:
        """Keep the record of ``run``, whose tokenizer is stored as ``h``; nothing is kept (``kept`` False) for a
        run without counts, a name that is not a hash, or a store that cannot be written."""
        if not is_hash(h) or run.counts is None:
            return RunKept(False, False)
        text_hashes = [self.texts.put(t) for t in run.texts]
        corpus_kept = bool(text_hashes) and all(t is not None for t in text_hashes)
        tok = run.tokenizer
        record, counts_path = self._paths(h)
        try:
            with _lock:
                self.directory.mkdir(parents=True, exist_ok=True)
                counts = Counts(Counter(run.counts), pattern=tok.pattern,
                                special_tokens=tuple(tok.special_tokens or ()))
                write_atomically(counts_path, counts.save)
                counts_sum = hashlib.sha256(counts_path.read_bytes()).hexdigest()
                body = _body(h, run, holdout=holdout, counts_sum=counts_sum,
                             texts=text_hashes if corpus_kept else None)
                text = json.dumps({**body, "sha256": _checksum(body)})
                write_atomically(record, lambda tmp: tmp.write_text(text, encoding="utf-8"))
                self._evict(keep=h)
        except (OSError, ValueError):
            return RunKept(False, corpus_kept)
        return RunKept(True, corpus_kept)

    def get(self, h: str, *, tokenizer: Tokenizer, notice: Notice | None = None) -> StoredRun | None:
        """The record of the run that made ``tokenizer`` (stored as ``h``), or None when there is none (a tokenizer
        loaded, not trained here), or it was damaged (then it is removed, and ``notice`` is told)."""
        if not is_hash(h):
            return None
        record, counts_path = self._paths(h)
        try:
            raw = record.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            raw = ""
        try:
            run = self._read(h, raw, counts_path, tokenizer)
        except ValueError as e:
            self.remove(h)  # never half-read, never shown again
            if notice is not None:
                notice(f"The record of the training run of {tokenizer.name} was damaged in the server's store "
                       f"({e}); it was removed, so its summary, merges and replay are not shown. The tokenizer itself "
                       "is back.")
            return None
        try:
            os.utime(record)  # used now: the last to go
        except OSError:
            pass  # a read-only store still serves what it holds
        return run

    def remove(self, h: str) -> None:
        """Forget the record of ``h`` (the corpus texts stay in the text store, which other runs may share)."""
        if not is_hash(h):
            return
        for p in self._paths(h):
            p.unlink(missing_ok=True)

    def _read(self, h: str, raw: str, counts_path: Path, tok: Tokenizer) -> StoredRun:
        data: Any = parse_json(raw, source=f"{h[:12]}….run.json") if raw else None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError("not a run record of this version")
        body = {k: v for k, v in data.items() if k != "sha256"}
        if data.get("sha256") != _checksum(body) or body.get("tokenizer") != h:
            raise ValueError("its checksum no longer matches")
        merge_counts = _ints(body.get("merge_counts"), "merge_counts")
        if len(merge_counts) != len(tok.merges):
            raise ValueError("its merge counts do not fit the tokenizer")
        try:
            counts_bytes = counts_path.read_bytes()
        except OSError as e:
            raise ValueError("its pre-token counts are missing") from e
        if hashlib.sha256(counts_bytes).hexdigest() != body.get("counts_sha256"):
            raise ValueError("its pre-token counts no longer match the record")
        try:
            counts = Counts.load(counts_path)
            counts.check_same_settings(tok.pattern, tok.special_tokens or [])
        except (ValueError, UnicodeDecodeError) as e:  # the message names a server path: not for the page
            raise ValueError("its pre-token counts do not read, or were made with other settings") from e
        report = body.get("report")
        if not isinstance(report, dict):
            raise ValueError("its report is missing")
        texts, texts_kept = self._texts(body.get("texts"))
        return StoredRun(
            id=_int(body.get("id"), "id"), counts=counts.counts, merge_counts=tuple(merge_counts),
            seconds=_number(body.get("seconds"), "seconds"),
            heldout_ratio=None if body.get("heldout_ratio") is None else _number(body["heldout_ratio"], "ratio"),
            holdout=_number(body.get("holdout"), "holdout"), described=_str(body.get("described"), "described"),
            texts=texts, texts_kept=texts_kept,
            report=TrainingReport(
                requested_vocab_size=_int(report.get("requested_vocab_size"), "requested_vocab_size"),
                vocab_size=tok.vocab_size, merge_counts=merge_counts,
                seconds=_number(report.get("seconds"), "report seconds"),
                stopped_early=_bool(report.get("stopped_early"), "stopped_early"),
                message=_str(report.get("message"), "message"),
                counting_seconds=_number(report.get("counting_seconds"), "counting_seconds"),
                n_pretokens=_int(report.get("n_pretokens"), "n_pretokens"),
                n_distinct_pretokens=_int(report.get("n_distinct_pretokens"), "n_distinct_pretokens")))

    def _texts(self, hashes: object) -> tuple[tuple[str, ...], bool]:
        """The corpus, whole or not at all (a sample from part of it could say "no line shows this step" wrongly)."""
        if hashes is None:
            return (), False
        if not isinstance(hashes, list) or not all(isinstance(t, str) and is_hash(t) for t in hashes):
            raise ValueError("its corpus hashes are malformed")
        texts = [self.texts.get(t) for t in hashes]
        if not texts or any(t is None for t in texts):
            return (), False  # dropped from the text store since: the replay offers only the user's own text
        return tuple(t for t in texts if t is not None), True

    def _evict(self, *, keep: str) -> None:
        sweep_partial(self.directory)
        sizes: dict[str, int] = {}
        used: dict[str, float] = {}
        for path in self.directory.iterdir():
            h, _, kind = path.name.partition(".")
            if not is_hash(h) or kind not in ("run.json", "counts.tsv"):
                continue
            st = path.stat()
            sizes[h] = sizes.get(h, 0) + st.st_size
            # The record's time is when the run was last brought back; a counts file alone (no record) ages out.
            if kind == "run.json" or h not in used:
                used[h] = st.st_mtime
        entries = [(used[h], h, size) for h, size in sizes.items()]
        for h in least_recently_used(entries, max_bytes=self.max_bytes, keep=keep):
            self.remove(h)


def _body(h: str, run: TrainedRun, *, holdout: float, counts_sum: str, texts: list[str | None] | None
          ) -> dict[str, Any]:
    tok = run.tokenizer
    report = tok.training
    s = run.summary
    return {
        "format": FORMAT, "version": VERSION, "tokenizer": h, "id": run.id,
        "merge_counts": [m.count for m in run.merges], "seconds": s.seconds,
        # A ratio of no tokens (an empty held-out text) is not a number JSON holds: then there is none.
        "heldout_ratio": s.heldout_ratio if s.heldout_ratio is not None and math.isfinite(s.heldout_ratio) else None,
        "holdout": holdout, "described": run.described, "counts_sha256": counts_sum, "texts": texts,
        "report": {
            "requested_vocab_size": s.requested_vocab_size, "seconds": report.seconds if report else s.seconds,
            "stopped_early": s.stopped_early, "message": s.message, "counting_seconds": s.counting_seconds,
            "n_pretokens": report.n_pretokens if report else 0,
            "n_distinct_pretokens": report.n_distinct_pretokens if report else 0,
        },
    }


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"its {what} is not a count")
    return value


def _ints(value: object, what: str) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"its {what} is not a list")
    return [_int(v, what) for v in value]


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"its {what} is not a number")
    return float(value)


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"its {what} is not true or false")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"its {what} is not text")
    return value
