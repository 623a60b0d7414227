"""Live training: a training run in its own process, watched through snapshots, cancellable at any point.

Pure-Python training holds the GIL, so a run inside a web server's process would stall every other session; here it
runs in a child Python process (``python -m tokviz.training.live``; a plain subprocess, so it does not depend on how the
server's own main module was started), which sends pickled frames on its stdout: batches of merges at most every
``interval`` seconds, then the result. A reader thread queues the frames; the caller polls :meth:`TrainingJob.poll`
whenever it redraws and gets a :class:`JobSnapshot` (it blocks only if asked to wait for the end). Any byte
written to the child's stdin cancels the run, which then returns the merges learned so far. :func:`prewarm` keeps
one such process started and waiting (Python started, trainer imported), so a page that may train soon does not
make its run wait for that.

The run holds out the last tenth of the corpus (cut at a line break) to measure compression on text it did not see.

Example:
    >>> job = TrainingJob.start(TrainSpec(texts=("low lower lowest\\n" * 50,), vocab_size=260))
    >>> snap = job.wait(timeout=60)
    >>> snap.status, len(snap.merges), snap.tokenizer.vocab_size
    ('done', 4, 260)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tokviz.core.ratios import compression_ratio
from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.training.merge_loop import Merge

#: Seconds a run's process may be gone before its final message is given up on.
_EXIT_GRACE = 1.0


@dataclass(frozen=True)
class TrainSpec:
    """What to train: corpus texts (joined with a newline), target size, specials, pre-tokenizer pattern."""

    texts: tuple[str, ...]
    vocab_size: int
    special_tokens: tuple[str, ...] = ()
    pattern: str = "gpt2"
    name: str = "trained"
    holdout: float = 0.1


@dataclass(frozen=True)
class JobSnapshot:
    """Where a run stands. ``merges`` are all merges learned so far, in order; ``tokenizer`` is set when done.

    A cancelled run keeps what it learned: its ``tokenizer`` holds the merges up to the cancel.
    """

    status: str
    merges: tuple[Merge, ...]
    n_target_merges: int
    chars_counted: int
    total_chars: int
    seconds: float
    message: str = ""
    tokenizer: Tokenizer | None = None
    heldout_ratio: float | None = None
    counts: Counter[str] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "error")

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1]: counting is weighted as the first fifth. It never goes back as the status
        moves on: a run that is only starting has done nothing yet.

        >>> [JobSnapshot(s, (), 10, 0, 100, 0.0).fraction for s in ("starting", "counting", "merging", "done")]
        [0.0, 0.0, 0.2, 1.0]
        """
        if self.status == "done":
            return 1.0
        if self.status == "starting":
            return 0.0
        # Once merging has begun, counting is over, whatever share of the text it covered (the held-out part is
        # never counted).
        counted = 1.0 if self.status != "counting" else (
            self.chars_counted / self.total_chars if self.total_chars else 0.0)
        merged = len(self.merges) / self.n_target_merges if self.n_target_merges else 0.0
        return min(1.0, 0.2 * min(counted, 1.0) + 0.8 * merged)


def split_corpus(texts: tuple[str, ...] | list[str], *, holdout: float) -> tuple[str, str]:
    r"""The run's training text and held-out text: the texts joined by newlines, the last ``holdout`` fraction cut off
    at a line break; all of it is training text when there is no line break to cut at (or ``holdout`` is 0).

    >>> split_corpus(["one\ntwo\n", "three\nfour\n"], holdout=0.3)
    ('one\ntwo\n\nthree\n', 'four\n')
    >>> split_corpus(["no line break"], holdout=0.1)
    ('no line break', '')
    """
    from tokviz.training.holdout import split_holdout

    text = "\n".join(texts)
    if not holdout:
        return text, ""
    try:
        return split_holdout(text, fraction=holdout)
    except ValueError:  # no line break with text on both sides: nothing can be held out
        return text, ""


class _Cancelled(Exception):
    pass


# -- messages from the training process (one frame each, in order) ---------------------------------------------------
@dataclass(frozen=True)
class Counting:
    """Counting pre-tokens: ``done`` of ``total`` characters."""

    done: int
    total: int


@dataclass(frozen=True)
class MergingStarted:
    """Counting is over; merges follow."""


@dataclass(frozen=True)
class MergesLearned:
    """The merges learned since the last message, as (rank, left, right, count)."""

    merges: tuple[tuple[int, bytes, bytes, int], ...]


@dataclass(frozen=True)
class TrainedParts:
    """What the child learned, as plain data for the pipe: the parent builds the :class:`Tokenizer` from it."""

    vocab: dict[int, bytes]
    merges: list[tuple[bytes, bytes]]
    special_tokens: list[str]
    pattern: str
    name: str

    @classmethod
    def of(cls, tok: Tokenizer) -> TrainedParts:
        return cls(tok.vocab, tok.merges, list(tok.special_tokens), tok.pattern, tok.name)

    def build(self) -> Tokenizer:
        return Tokenizer(self.vocab, self.merges, self.special_tokens, self.pattern, name=self.name)


@dataclass(frozen=True)
class Finished:
    """The run ended with a tokenizer (done, or cancelled after some merges); ``tokenizer`` holds its parts, None
    when it was cancelled before the first merge."""

    status: Literal["done", "cancelled"]
    tokenizer: TrainedParts | None = None
    report: TrainingReport | None = None
    heldout_ratio: float | None = None
    counts: Counter[str] | None = None


@dataclass(frozen=True)
class Failed:
    """The run failed; ``message`` says why and what to try."""

    message: str


#: Every message a training process sends; its last one is a Finished or a Failed.
Message = Counting | MergingStarted | MergesLearned | Finished | Failed


def _run(spec: TrainSpec, out: Any, cancel: Any, interval: float) -> None:
    """The child process: count, merge, report. Every outcome ends with one final message on ``out``."""
    from tokviz.training.trainer import count_corpus, train_from_counts

    try:
        train_text, heldout = split_corpus(spec.texts, holdout=spec.holdout)
        out.put(Counting(0, len(train_text)))

        def on_count(done: int) -> None:
            if cancel.is_set():
                raise _Cancelled
            out.put(Counting(done, len(train_text)))

        t0 = time.perf_counter()
        counts = count_corpus([train_text], special_tokens=spec.special_tokens, pattern=spec.pattern,
                              count_progress=on_count)
        counting_seconds = time.perf_counter() - t0
        out.put(MergingStarted())
        batch: list[tuple[int, bytes, bytes, int]] = []
        last = time.perf_counter()

        def on_merge(m: Merge) -> None:
            nonlocal last
            batch.append((m.rank, m.left, m.right, m.count))
            now = time.perf_counter()
            if now - last >= interval:
                out.put(MergesLearned(tuple(batch)))
                batch.clear()
                last = now

        tok = train_from_counts(counts, vocab_size=spec.vocab_size, special_tokens=spec.special_tokens,
                                pattern=spec.pattern, progress=on_merge, should_stop=cancel.is_set, name=spec.name,
                                counting_seconds=counting_seconds)
        if batch:
            out.put(MergesLearned(tuple(batch)))
        ratio = compression_ratio(heldout, tok) if heldout.strip() else None
        assert tok.training is not None  # set by train_from_counts
        out.put(Finished("cancelled" if cancel.is_set() else "done", TrainedParts.of(tok), tok.training, ratio,
                                counts))
    except _Cancelled:
        out.put(Finished("cancelled"))
    except ChildProcessError as e:  # a counting worker was killed (e.g. out of memory): say so, not "unexpectedly"
        out.put(Failed(f"Training stopped: {e} Try again, perhaps with a smaller corpus."))
    except ValueError as e:
        out.put(Failed(str(e)))
    except Exception as e:  # noqa: BLE001 - a crash must reach the UI as a message, not vanish with the process
        out.put(Failed(f"Training failed unexpectedly: {type(e).__name__}: {e}"))


_HEADER = struct.Struct("<Q")


def _write_frame(stream: Any, obj: object, lock: threading.Lock) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    with lock:
        stream.write(_HEADER.pack(len(data)) + data)
        stream.flush()


def _read_frame(stream: Any) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (n,) = _HEADER.unpack(head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - frames come from our own child process


class _ReadExactly:
    """Reads exactly n bytes from an unbuffered file (which may return fewer per call)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0:
            chunk = self._raw.read(n)
            if not chunk:
                break
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)


class _FrameWriter:
    """The child's ``out``: ``put`` sends one frame to the parent."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def put(self, item: object) -> None:
        _write_frame(self._stream, item, self._lock)


def main() -> None:
    """Entry point of the child process: read the spec, train, report; any byte on stdin cancels."""
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing else may write into the frame stream
    # Own the stdin pipe through an unbuffered file: counting forks workers, and multiprocessing closes sys.stdin
    # in each of them, which would deadlock on the buffer lock the watcher thread below holds while it waits.
    control = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - replaces the process-wide stdin for its lifetime
    import tokviz.training.trainer  # noqa: F401 - imported before the spec arrives: a spare process waits warm
    spec, interval = _read_frame(_ReadExactly(control))
    cancel = threading.Event()

    def watch_stdin() -> None:
        control.read(1)  # a byte, or EOF when the parent goes away: stop either way
        cancel.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    _run(spec, _FrameWriter(frames), cancel, interval)
    frames.close()


@dataclass
class TrainingJob:
    """A training run in another process. Use :meth:`start`, then :meth:`poll` (or :meth:`wait`) and :meth:`cancel`."""

    spec: TrainSpec
    _process: subprocess.Popen[bytes] = field(repr=False)
    _queue: queue.Queue[Any] = field(repr=False)
    _started: float = 0.0
    _snapshot: JobSnapshot | None = None
    _merges: list[Merge] = field(default_factory=list, repr=False)
    _exited_at: float | None = field(default=None, repr=False)

    @classmethod
    def start(cls, spec: TrainSpec, *, interval: float = 0.1) -> TrainingJob:
        """Validate the spec (raising ValueError with the reason) and start the run."""
        from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
        from tokviz.pre_tokenizers.specials import validate_special_tokens
        from tokviz.training.trainer import validate_vocab_size

        validate_vocab_size(spec.vocab_size, len(set(validate_special_tokens(spec.special_tokens))))
        PreTokenizer.create(spec.pattern, special_tokens=list(spec.special_tokens))  # bad regex: fail here, clearly
        if not any(t.strip() for t in spec.texts):
            raise ValueError("The corpus is empty: upload a text file or pick the built-in corpus.")
        started = time.perf_counter()
        proc = _take_spare()
        try:
            if proc is None:
                raise BrokenPipeError
            _write_frame(proc.stdin, (spec, interval), threading.Lock())
        except (BrokenPipeError, OSError):  # no spare, or it died just now: a fresh process
            if proc is not None:
                _discard(proc)
            proc = _spawn()
            _write_frame(proc.stdin, (spec, interval), threading.Lock())
        frames: queue.Queue[Any] = queue.Queue()
        job = cls(spec, proc, frames, started)
        n_target = spec.vocab_size - 256 - len(set(spec.special_tokens))
        job._snapshot = JobSnapshot("starting", (), n_target, 0, sum(map(len, spec.texts)), 0.0)
        assert proc.stdout is not None  # a pipe, by construction in _spawn

        def read_all(stream: Any = proc.stdout) -> None:
            try:
                while True:
                    frames.put(_read_frame(stream))
            except (EOFError, OSError, pickle.UnpicklingError):
                frames.put(None)  # end of stream

        threading.Thread(target=read_all, daemon=True).start()
        return job

    def cancel(self) -> None:
        """Ask the run to stop; it keeps the merges learned so far."""
        try:
            assert self._process.stdin is not None  # a pipe, by construction
            self._process.stdin.write(b"x")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # already finished

    def poll(self, *, finish_within: float = 0.0) -> JobSnapshot:
        """Drain what the run has sent and return the current snapshot.

        Never blocks by default. With ``finish_within`` it waits up to that many seconds for the run to finish (and
        returns as soon as it does), so a page that redraws every fraction of a second shows the result the moment it
        arrives instead of at its next redraw.
        """
        snap = self._snapshot
        assert snap is not None  # set in start()
        if snap.finished:
            return snap
        deadline = time.perf_counter() + finish_within
        while True:
            try:
                left = deadline - time.perf_counter()
                # Wake at least every 0.2 s while waiting, to notice a process that died without a word.
                item = self._queue.get(timeout=min(left, 0.2)) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                if self._died_silently():
                    snap = self._died(snap)
                    break
                if deadline - time.perf_counter() > 0:
                    continue
                break
            if item is None:  # the child closed its stream without a final message: it died
                snap = self._died(snap)
                break
            snap = self._apply(snap, item)
            if snap.finished:
                break
        if not snap.finished:
            snap = replace(snap, seconds=time.perf_counter() - self._started)
        self._snapshot = snap
        return snap

    def _died_silently(self) -> bool:
        """Whether the process has exited a while ago with no final message: its stream may stay open (a process
        it forked may still hold it), so its end is not waited for. The grace lets frames it wrote arrive."""
        if self._process.poll() is None:
            return False
        if self._exited_at is None:
            self._exited_at = time.perf_counter()
        return time.perf_counter() - self._exited_at > _EXIT_GRACE

    def _died(self, snap: JobSnapshot) -> JobSnapshot:
        """The error snapshot of a run whose process ended without a final message (killed, out of memory)."""
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        _close_pipes(self._process)
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        phase = {"starting": "while starting", "counting": "while counting pre-tokens",
                 "merging": "while merging"}.get(snap.status, "")
        return replace(snap, status="error", seconds=time.perf_counter() - self._started,
                       message=f"The training process ended unexpectedly {phase} ({how}); the system may have run "
                               "out of memory. Nothing was saved; start the run again, perhaps with a smaller corpus.")

    def _apply(self, snap: JobSnapshot, msg: Message) -> JobSnapshot:
        elapsed = time.perf_counter() - self._started
        if isinstance(msg, Counting):
            return replace(snap, status="counting", chars_counted=msg.done, total_chars=msg.total, seconds=elapsed)
        if isinstance(msg, MergingStarted):
            return replace(snap, status="merging", chars_counted=snap.total_chars, seconds=elapsed)
        if isinstance(msg, MergesLearned):
            self._merges.extend(Merge(*m) for m in msg.merges)
            return replace(snap, merges=tuple(self._merges), seconds=elapsed)
        self._close()
        if isinstance(msg, Failed):
            return replace(snap, status="error", message=msg.message, seconds=elapsed)
        if msg.tokenizer is None:
            return replace(snap, status=msg.status, seconds=elapsed,
                           message="Cancelled while counting pre-tokens; nothing was learned yet.")
        tok = msg.tokenizer.build()
        tok.training = msg.report
        said = msg.report.message if msg.report is not None else ""
        return replace(snap, status=msg.status, tokenizer=tok, heldout_ratio=msg.heldout_ratio, counts=msg.counts,
                       message=said, merges=tuple(self._merges), seconds=elapsed)

    def _close(self) -> None:
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
        _close_pipes(self._process)

    def wait(self, *, timeout: float = 600.0) -> JobSnapshot:
        """Block until the run finishes (for scripts and tests); raises TimeoutError past ``timeout``."""
        snap = self.poll(finish_within=timeout)
        if not snap.finished:
            raise TimeoutError(f"training did not finish within {timeout:g} s")
        return snap

    def kill(self) -> None:
        """Stop the process at once (e.g. when a session ends)."""
        if self._process.poll() is None:
            self._process.kill()
        self._close()


# -- a warm spare process ------------------------------------------------------------------------------------------
# Starting Python and importing the trainer takes ~0.15 s, a quarter of a 5 MB training run. A page that may soon
# train calls prewarm(); the next TrainingJob.start then hands its spec to that already-started process.
_spare: subprocess.Popen[bytes] | None = None
_spare_lock = threading.Lock()


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tokviz.training.live"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )


def prewarm() -> None:
    """Start one spare training process (per server process) if none is waiting; cheap to call on every page run.

    The spare waits for a spec and exits by itself when this process goes away (its stdin closes).

    >>> prewarm(); prewarm()  # at most one spare
    >>> spare = _take_spare()
    >>> spare is not None and _take_spare() is None
    True
    >>> spare.kill(); spare.communicate()
    (b'', None)
    """
    global _spare
    with _spare_lock:
        if _spare is None or _spare.poll() is not None:
            _spare = _spawn()


def _discard(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process at once and close its pipes."""
    proc.kill()
    proc.wait()
    _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    # A pipe that broke may refuse its last flush; it is closed all the same.
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _take_spare() -> subprocess.Popen[bytes] | None:
    """The spare process, if one is alive; each is handed out once."""
    global _spare
    with _spare_lock:
        proc, _spare = _spare, None
    return proc if proc is not None and proc.poll() is None else None


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: the messages it sends are then pickled as
    # tokviz.training.live classes, which the parent can read back.
    from tokviz.training.live import main as _main

    _main()
