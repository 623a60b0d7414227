"""The data behind the app's "Vocab sizes" view: one training run per pattern on a held-out split, and every series.

One BPE run per pre-tokenizer pattern is trained on the first 90 % of a corpus, to the largest size asked for; every
smaller size is a prefix of that run (:meth:`~tokviz.models.bpe.Tokenizer.prefix`), so changing sizes never retrains.
The runs of the built-in corpus are kept on disk with the built-in tokenizers' cache
(:func:`tokviz.viewmodels.defaults.load_or_train`, keyed by the training text's hash, the pattern and the size), so a
restart reads them back instead of training.
The last 10 % of the corpus is the held-out text the compression curves are measured on.

Other tokenizers join the charts through :func:`series_kinds` (a BPE with a training report becomes a curve, any
other tokenizer a point) and :func:`compare_on_text`.

Example:
    >>> runs = pattern_runs("the cat sat on the mat\\n" * 30 + "the cat\\n" * 5, source="demo", max_size=300,
    ...                     patterns=("gpt2", "gpt4"))
    >>> [(t.name, t.vocab_size) for t in runs.runs], runs.heldout.count("\\n")
    ([('bpe gpt2', 268), ('bpe gpt4', 268)], 6)
    >>> default_sizes(runs.common_max, wanted=(256, 512))
    (256, 268)
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from tokviz.analysis.sweep import (
    SizeComparison,
    SizeCurve,
    SizePoint,
    log_spaced_sizes,
    measure_point,
    size_range,
    token_count_curve,
)
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.models.bpe import Tokenizer
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.holdout import split_holdout
from tokviz.training.trainer import train_bpe
from tokviz.viewmodels.defaults import DefaultCorpus, load_or_train, size_label

#: The patterns compared on one corpus: GPT-2's, GPT-4's (cl100k) and GPT-4o's (o200k).
PATTERNS: tuple[str, ...] = ("gpt2", "gpt4", "o200k")
#: Largest sizes a user can train to; 16k on the built-in corpus takes about a second for all three patterns.
MAX_SIZES: tuple[int, ...] = (2048, 4096, 8192, 16384)
DEFAULT_MAX_SIZE = 8192
#: Sizes drawn side by side at first (clipped to what the runs reached).
SIDE_BY_SIDE_SIZES: tuple[int, ...] = (256, 512, 1024, 4096, 8192)
#: Sizes offered for the side by side and the length histograms: powers of two and the halfway steps between them.
NICE_SIZES: tuple[int, ...] = (256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384)
#: Points per curve: enough for a smooth line on a log axis, few enough to keep each figure light.
CURVE_POINTS = 200
HOLDOUT_FRACTION = 0.1

SeriesKind = Literal["curve", "point"]


@dataclass(frozen=True)
class PatternRuns:
    """BPE runs that differ only in their pattern, trained on ``train_text``; ``heldout`` is the rest of the corpus.

    ``requested`` is the size asked for; a run stops earlier when every pre-token of the training text is already a
    single token (no adjacent pair is left to merge).
    """

    source: str
    train_text: str
    heldout: str
    requested: int
    runs: tuple[Tokenizer, ...]
    from_cache: bool
    seconds: float
    #: Damaged cache files that were discarded and retrained (see :func:`tokviz.viewmodels.defaults.load_or_train`).
    notices: tuple[str, ...] = ()

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(t.pattern for t in self.runs)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the whole corpus (training and held-out text), e.g. for a cache key; computed once."""
        return hashlib.sha256((self.train_text + self.heldout).encode("utf-8")).hexdigest()

    @property
    def key(self) -> str:
        """A string that tells these runs apart from any other: corpus hash, size asked for and patterns."""
        return f"{self.digest[:16]}-{self.requested}-{'+'.join(self.patterns)}"

    @property
    def common_max(self) -> int:
        """The largest size every run can give (the smallest reached size)."""
        return min(t.vocab_size for t in self.runs)

    def run(self, pattern: str) -> Tokenizer:
        """The run trained with ``pattern``; ValueError naming the patterns there are otherwise."""
        for t in self.runs:
            if t.pattern == pattern:
                return t
        raise ValueError(f"No run with pattern {pattern!r}; these were trained: {', '.join(self.patterns)}.")

    def early_stop_note(self) -> str | None:
        """One notice naming the runs that did not reach :attr:`requested` and where they stopped, or None.

        >>> runs = pattern_runs("ab ab\\n" * 4, source="x", max_size=300, patterns=("gpt2",))
        >>> runs.early_stop_note().split(":")[0]
        'Not every run reaches 300 tokens on this corpus'
        """
        short = [t for t in self.runs if t.vocab_size < self.requested]
        if not short:
            return None
        where = ", ".join(f"{t.name} at {t.vocab_size:,}" for t in short)
        return (f"Not every run reaches {self.requested:,} tokens on this corpus: {where}. By then every pre-token of "
                "the training text is a single token, so nothing is left to merge; a bigger corpus goes further.")


def check_run_inputs(max_size: object, patterns: Sequence[str]) -> None:
    """ValueError with the reason for a largest size or a pattern list that cannot be trained, before any training.

    >>> check_run_inputs(100, ("gpt2",))
    Traceback (most recent call last):
    ...
    ValueError: max_size must be an integer >= 256 (the 256 byte tokens come first), got 100.
    """
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 256:
        raise ValueError(f"max_size must be an integer >= 256 (the 256 byte tokens come first), got {max_size!r}.")
    if not patterns:
        raise ValueError("patterns is empty; name at least one, e.g. ('gpt2', 'gpt4').")
    for p in patterns:
        # A pattern that is neither a known name nor a usable regex fails here, before any training.
        PreTokenizer.create(p)


def pattern_runs(
    text: str,
    *,
    source: str,
    max_size: int = DEFAULT_MAX_SIZE,
    patterns: Sequence[str] = PATTERNS,
    fraction: float = HOLDOUT_FRACTION,
    directory: str | os.PathLike[str] | None = None,
) -> PatternRuns:
    """Split ``text`` (:func:`tokviz.analysis.sweep.split_holdout`) and train one BPE per pattern on the first part.

    With ``directory`` each run is read from, or written to, the disk cache there; without it they are trained in
    memory (for uploads: the user's text stays off the disk). Runs are named ``"bpe <pattern>"``.
    Bad input (a pattern that is neither a name nor a usable regex, a size below 256, a text without a line break
    to split at) raises ValueError with a message for the user.

    >>> pattern_runs("ab ab\\n" * 4, source="x", max_size=258, patterns=("gpt2",)).runs[0].vocab_size
    258
    """
    check_run_inputs(max_size, patterns)
    train, heldout = split_holdout(text, fraction=fraction)
    t0 = time.perf_counter()
    runs: list[Tokenizer] = []
    cached: list[bool] = []
    notices: list[str] = []
    for p in dict.fromkeys(patterns):
        name = f"bpe {p}"
        if directory is None:
            runs.append(train_bpe([train], vocab_size=max_size, pattern=p, name=name))
            cached.append(False)
        else:
            got = load_or_train(DefaultCorpus(train, source), pattern=p, vocab_size=max_size,
                                directory=Path(directory), name=name)
            runs.append(got.tokenizer)
            cached.append(got.from_cache)
            notices += [got.notice] if got.notice else []
    return PatternRuns(source, train, heldout, max_size, tuple(runs), all(cached), time.perf_counter() - t0,
                       tuple(notices))


# -- training an upload in child processes -------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeJobSnapshot:
    """Where a :class:`SizeJob` stands: ``status`` is ``"running"``, ``"done"`` (``runs`` set), ``"cancelled"`` or
    ``"error"`` (``message`` says why); ``fraction`` is the overall progress in [0, 1] and ``text`` one line for a
    progress bar."""

    status: Literal["running", "done", "cancelled", "error"]
    fraction: float
    text: str
    message: str = ""
    runs: PatternRuns | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"


class SizeJob:
    """:func:`pattern_runs` for an uploaded corpus, one :class:`tokviz.training.live.TrainingJob` (a child process) per
    pattern, one after the other, so that the server process that polls it never trains (pure-Python training holds
    the GIL: other sessions would wait).

    The runs equal :func:`pattern_runs` on the same text (the child counts and merges as :func:`train_bpe` does).
    Start with :meth:`start`, then :meth:`poll` on every redraw; :meth:`cancel` stops the pattern being trained and
    drops the runs (a partial set of sizes would mislead the charts). A child that dies (killed, out of memory)
    ends the job with ``"error"`` and the reason.

    >>> job = SizeJob.start("low lower lowest\\n" * 40, source="demo", max_size=260, patterns=("gpt2", "gpt4"))
    >>> snap = job.wait(timeout=120)
    >>> snap.status, [t.vocab_size for t in snap.runs.runs], snap.fraction
    ('done', [260, 260], 1.0)
    """

    def __init__(self, key: str, source: str, train: str, heldout: str, max_size: int,
                 patterns: tuple[str, ...]) -> None:
        self.key = key
        self.source = source
        self._train, self._heldout = train, heldout
        self._max_size = max_size
        self.patterns = patterns
        self._done: list[Tokenizer] = []
        self._job: Any = None
        self._t0 = time.perf_counter()
        self._snapshot = SizeJobSnapshot("running", 0.0, "Starting the training process…")

    @classmethod
    def start(cls, text: str, *, source: str, max_size: int = DEFAULT_MAX_SIZE, patterns: Sequence[str] = PATTERNS,
              fraction: float = HOLDOUT_FRACTION) -> SizeJob:
        """Check the input as :func:`pattern_runs` does (ValueError with the reason, before any process starts),
        split off the held-out text and start training the first pattern."""
        check_run_inputs(max_size, patterns)
        train, heldout = split_holdout(text, fraction=fraction)
        unique = tuple(dict.fromkeys(patterns))
        job = cls(upload_key(text, max_size=max_size, patterns=unique), source, train, heldout, max_size, unique)
        job._next()
        return job

    def _next(self) -> None:
        from tokviz.training.live import TrainingJob, TrainSpec

        p = self.patterns[len(self._done)]
        # holdout=0: the held-out text is already split off, so the child trains on exactly ``train``.
        self._job = TrainingJob.start(TrainSpec(texts=(self._train,), vocab_size=self._max_size, pattern=p,
                                                name=f"bpe {p}", holdout=0.0))

    def poll(self, *, finish_within: float = 0.0) -> SizeJobSnapshot:
        """Drain what the running child sent, start the next pattern when one ends, and return the snapshot; waits
        up to ``finish_within`` seconds for the whole job to end."""
        from tokviz.viewmodels.training_summary import progress_text

        deadline = time.perf_counter() + finish_within
        while not self._snapshot.finished:
            snap = self._job.poll(finish_within=max(0.0, deadline - time.perf_counter()))
            n, i = len(self.patterns), len(self._done)
            where = f"Training {i + 1} of {n} ({self.patterns[i]})"
            if not snap.finished:
                # A run that is only starting has done nothing yet (its own fraction counts it as counted); and the
                # bar never goes back.
                part = 0.0 if snap.status == "starting" else snap.fraction
                fraction = max(self._snapshot.fraction, (i + part) / n)
                self._snapshot = SizeJobSnapshot("running", fraction, f"{where}: {progress_text(snap)}")
                if time.perf_counter() >= deadline:
                    break
                continue
            if snap.status == "done" and snap.tokenizer is not None:
                self._done.append(snap.tokenizer)
                if len(self._done) < n:
                    self._next()
                    continue
                runs = PatternRuns(self.source, self._train, self._heldout, self._max_size, tuple(self._done),
                                   False, time.perf_counter() - self._t0)
                self._snapshot = SizeJobSnapshot("done", 1.0, f"Done: {n} run{'s' if n != 1 else ''}", runs=runs)
            elif snap.status == "cancelled":
                self._snapshot = SizeJobSnapshot("cancelled", self._snapshot.fraction, "Cancelled",
                                                 message="Cancelled: nothing was kept.")
            else:
                self._snapshot = SizeJobSnapshot("error", self._snapshot.fraction, "Training failed",
                                                 message=snap.message or "Training ended without a tokenizer.")
        return self._snapshot

    def wait(self, *, timeout: float = 600.0) -> SizeJobSnapshot:
        """Block until the job ends (for scripts and tests); TimeoutError past ``timeout``."""
        snap = self.poll(finish_within=timeout)
        if not snap.finished:
            raise TimeoutError(f"training did not finish within {timeout:g} s")
        return snap

    def cancel(self) -> None:
        """Stop the pattern being trained; the job ends as ``"cancelled"`` at its next poll."""
        if not self._snapshot.finished:
            self._job.cancel()

    def kill(self) -> None:
        """Stop the child at once (the corpus was replaced, or the session gave up on it)."""
        if self._job is not None:
            self._job.kill()


def upload_key(text: str, *, max_size: int, patterns: Sequence[str]) -> str:
    """What tells one upload's runs apart: the corpus hash, the size and the patterns (in order).

    >>> upload_key("abc", max_size=512, patterns=("gpt2",))[-9:]
    '-512-gpt2'
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return f"{digest}-{max_size}-{'+'.join(dict.fromkeys(patterns))}"


# -- sizes ---------------------------------------------------------------------------------------------------------
def offered_sizes(reached: int, *, nice: Sequence[int] = NICE_SIZES) -> tuple[int, ...]:
    """The sizes to pick from: the nice sizes up to ``reached``, and ``reached`` itself.

    >>> offered_sizes(5000)
    (256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 5000)
    """
    return tuple(sorted({s for s in nice if s <= reached} | {reached}))


def default_sizes(reached: int, *, wanted: Sequence[int] = SIDE_BY_SIDE_SIZES) -> tuple[int, ...]:
    """``wanted`` clipped to ``reached`` (a size above it becomes ``reached``, once).

    >>> default_sizes(2048), default_sizes(8192)
    ((256, 512, 1024, 2048), (256, 512, 1024, 4096, 8192))
    """
    return tuple(sorted({min(s, reached) for s in wanted}))


def size_text(n: int) -> str:
    """A size for labels: ``8k`` for multiples of 1024, else with a thousands separator.

    >>> size_text(8192), size_text(8827), size_text(384)
    ('8k', '8,827', '384')
    """
    label = size_label(n)
    return label if label.endswith("k") else f"{n:,}"


# -- other tokenizers on the charts --------------------------------------------------------------------------------
def series_kinds(tokenizers: Mapping[str, Any]) -> dict[str, SeriesKind]:
    """How each tokenizer can join the charts: ``"curve"`` for a trained BPE (it has a training report and merges,
    so every smaller size is a prefix of it), ``"point"`` for any other tokenizer (one size only). Objects that
    cannot encode are left out.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> series_kinds({"b": ByteTokenizer(), "junk": object()})
    {'b': 'point'}
    """
    kinds: dict[str, SeriesKind] = {}
    for name, tok in tokenizers.items():
        if isinstance(tok, Tokenizer) and tok.training is not None and tok.merges:
            kinds[name] = "curve"
        elif all(hasattr(tok, a) for a in ("encode", "vocab_size")):
            kinds[name] = "point"
    return kinds


@dataclass(frozen=True)
class Comparison:
    """A :class:`~tokviz.analysis.sweep.SizeComparison` and the tokenizers that could not be measured, with the
    reason."""

    comparison: SizeComparison
    problems: tuple[str, ...]


def compare_on_text(
    text: str,
    runs: Sequence[Tokenizer],
    *,
    baselines: Sequence[Any] = (),
    extras: Mapping[str, Any] | None = None,
    own_texts: Mapping[str, str] | None = None,
    n_points: int = CURVE_POINTS,
) -> Comparison:
    """Every series on one text: the pattern runs as curves, baselines as points, and ``extras`` by their kind.

    Curves are measured at about ``n_points`` log-spaced sizes in one pass each
    (:func:`tokviz.analysis.sweep.token_count_curve`). ``extras`` are labelled by their key; an extra curve is measured
    on
    ``own_texts[name]`` when given (its own held-out text; its label then says so), else on ``text``. A tokenizer
    that fails on the text (ValueError) is left out and named in ``problems`` instead of failing the whole chart.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> runs = pattern_runs("low lower lowest\\n" * 20, source="x", max_size=264, patterns=("gpt2",)).runs
    >>> out = compare_on_text("lower", runs, baselines=[ByteTokenizer()], extras={"mine": ByteTokenizer()})
    >>> [c.tokens[-1] for c in out.comparison.curves], [(p.label, p.kind) for p in out.comparison.points]
    ([2], [('byte', 'baseline'), ('mine', 'pretrained')])
    """
    extras = dict(extras or {})
    own_texts = dict(own_texts or {})
    curves: list[SizeCurve] = []
    points: list[SizePoint] = []
    problems: list[str] = []
    for tok in runs:
        curves.append(token_count_curve(tok, text, sizes=log_spaced_sizes(*size_range(tok), n=n_points)))
    for b in baselines:
        points.append(measure_point(b, text, kind="baseline"))
    for name, kind in series_kinds(extras).items():
        tok = extras[name]
        try:
            if kind == "curve":
                own = own_texts.get(name)
                label = name if own is None else f"{name} (own held-out)"
                curve = token_count_curve(tok, text if own is None else own,
                                          sizes=log_spaced_sizes(*size_range(tok), n=n_points))
                curves.append(replace(curve, label=label))
            else:
                point = measure_point(_Named(tok, name), text, kind="pretrained")
                points.append(point)
        except ValueError as e:
            problems.append(f"{name}: {e}")
    for name in extras.keys() - series_kinds(extras).keys():
        problems.append(f"{name}: not a tokenizer (it has no encode or vocab_size), so it is left out.")
    return Comparison(SizeComparison(tuple(curves), tuple(points)), tuple(problems))


class _Named:
    """A tokenizer seen under its registry name (the key a user picked it by), for :func:`measure_point`."""

    def __init__(self, tok: TokenizerLike, name: str) -> None:
        self._tok = tok
        self.name = name
        self.vocab_size = tok.vocab_size

    def encode(self, text: str) -> list[int]:
        return list(encode_as_shown(self._tok, text))
