"""``train_bpe``: corpus in, trained :class:`~tokviz.models.bpe.Tokenizer` out.

Counting pre-tokens (streamed, over both cores for large inputs) is separate from the merge loop
(:mod:`tokviz.training.merge_loop`), so the same counts can feed several runs. The vocabulary is laid out as the CS336
reference:
special tokens first, then the 256 single bytes, then one token per merge in learned order.

Example:
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> tok.merges[:2], tok.vocab_size
    ([(b'o', b'w'), (b'l', b'ow')], 260)
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

if TYPE_CHECKING:
    from typing_extensions import Unpack

from tokviz.corpus.checks import require_utf8
from tokviz.corpus.sources import iter_file
from tokviz.models.bpe import Tokenizer, TrainingReport
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.specials import validate_special_tokens
from tokviz.training.compact_merge import CountsArrays, WordArrays, merge_counts_compact, numpy_available
from tokviz.training.counting import count_chunks, count_file, count_large_text
from tokviz.training.counts_table import Counts
from tokviz.training.merge_loop import CancelCheck, Merge, MergeResult, merge_counts

Corpus = str | os.PathLike[str] | Iterable[str] | Iterable[os.PathLike[str]]


def corpus_chunks(corpus: Corpus | Sequence[str | os.PathLike[str]], *, errors: str = "strict") -> Iterator[str]:
    """Text chunks of a corpus given as a path, a list of paths, or an iterable of text chunks.

    A plain ``str`` is a path (pass ``[text]`` to train on a string); ``errors="replace"`` reads non-UTF-8 files
    with replacement characters instead of failing.
    """
    validate_corpus(corpus)
    errors = validate_errors(errors)
    if isinstance(corpus, (str, os.PathLike)):
        path = Path(corpus)
        if not path.is_file():
            raise ValueError(
                f"{corpus!s:.80}: no such file. A str is read as a path; to train on text, pass [text] instead."
            )
        yield from iter_file(path, errors=errors)
        return
    for item in corpus:
        if isinstance(item, os.PathLike):
            yield from corpus_chunks(item, errors=errors)
        elif isinstance(item, str):
            yield item
        else:
            raise ValueError(f"corpus items must be text (str) or paths, got {type(item).__name__}.")


#: Ways of reading bytes that are not UTF-8: fail, or stand in U+FFFD, drop them, or keep them escaped.
DECODE_ERRORS = ("strict", "replace", "ignore", "backslashreplace", "surrogateescape")


def validate_errors(errors: object) -> str:
    """Return ``errors`` if it names a way of decoding bad bytes, else raise ValueError listing them."""
    if errors not in DECODE_ERRORS:
        raise ValueError(f"errors={errors!r:.40} is not a way of reading bad bytes; use one of "
                         f"{', '.join(map(repr, DECODE_ERRORS))}.")
    return str(errors)


def validate_corpus(corpus: object) -> None:
    """Raise ValueError unless ``corpus`` is a path, or an iterable of texts or paths (checked as they are read)."""
    if isinstance(corpus, (str, os.PathLike)):
        return
    if corpus is None or isinstance(corpus, (bytes, bytearray)) or not isinstance(corpus, Iterable):
        raise ValueError(f"corpus must be a file path, a list of paths or an iterable of texts, got "
                         f"{type(corpus).__name__}; to train on a string, pass [text].")


def validate_vocab_size(vocab_size: object, n_special: int) -> int:
    """Return ``vocab_size`` if usable, else raise ValueError saying what would be."""
    base = 256 + n_special
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise ValueError(f"vocab_size must be an integer, got {vocab_size!r}.")
    if vocab_size < base:
        raise ValueError(
            f"vocab_size {vocab_size} is too small: it must be at least {base} "
            f"(256 single bytes + {n_special} special token{'s' if n_special != 1 else ''})."
        )
    return vocab_size


def count_corpus(
    corpus: Corpus,
    *,
    special_tokens: Sequence[str] | None = None,
    pattern: str = "gpt2",
    workers: int | None = None,
    errors: str = "strict",
    count_progress: Callable[[int], object] | None = None,
) -> Counter[str]:
    """Pre-token counts of a corpus (keys: UTF-8 bytes as latin-1 ``str``), the input of :func:`train_from_counts`.

    Keeping the counts lets one counting pass feed several runs, or a replay of the merge steps.
    """
    validate_corpus(corpus)
    errors = validate_errors(errors)
    pretok = PreTokenizer.create(pattern, special_tokens=validate_special_tokens(special_tokens))
    if isinstance(corpus, (list, tuple)) and len(corpus) == 1 and isinstance(corpus[0], str):
        # One text, the common case in the app: workers take ranges of it themselves.
        return count_large_text(corpus[0], pretok, workers=workers, on_progress=count_progress)
    require_utf8(_listed_paths(corpus), errors=errors, workers=workers)  # every bad file named before counting
    total: Counter[str] = Counter()
    done = 0  # characters counted in the documents before this one
    for document in corpus_documents(corpus):
        here = 0

        def progress(n: int, base: int = done) -> None:
            nonlocal here
            here = n
            if count_progress is not None:
                count_progress(base + n)

        if isinstance(document, Path):
            part = count_file(document, pretok, workers=workers, errors=errors, on_progress=progress)
        else:
            part = count_chunks(document, pretok, workers=workers, on_progress=progress)
        done += here
        small, total = sorted((part, total), key=len)
        total.update(small)  # costs the size of the smaller table
    return total


def corpus_documents(corpus: Corpus) -> Iterator[Path | Iterator[str]]:
    """The documents of a corpus, in order: each path is one document; each run of text chunks between paths is one
    document read as their concatenation (a stream of lines or blocks). No pre-token spans two documents, so a list
    of files counts the same here as in :func:`tokviz.training.counts_table.count_files` and on a Dask cluster.

    A plain ``str`` corpus is a path. A path that is not a file raises ValueError when its turn comes.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     [d.name == Path(f.name).name if isinstance(d, Path) else "".join(d)
    ...      for d in corpus_documents(["a ", "b", Path(f.name), "c"])]
    ['a b', True, 'c']
    """
    validate_corpus(corpus)
    items: Iterable[object] = [Path(corpus)] if isinstance(corpus, (str, os.PathLike)) else corpus
    for is_path, group in groupby(items, key=lambda item: isinstance(item, os.PathLike)):
        if is_path:
            for item in group:
                path = Path(cast(os.PathLike[str], item))
                if not path.is_file():
                    raise ValueError(f"{path!s:.80}: no such file. A str corpus is read as a path; to train on text, "
                                     "pass [text] instead.")
                yield path
        else:
            yield (_text_item(item) for item in group)


def _listed_paths(corpus: Corpus) -> list[Path]:
    """The files of a corpus known in full before reading (a path, or the paths in a list or tuple); a stream's
    files are checked as they are read. A ``str`` corpus that is not a file is left to :func:`corpus_documents`,
    whose message says a ``str`` is read as a path."""
    if isinstance(corpus, (str, os.PathLike)):
        return [Path(corpus)] if Path(corpus).is_file() else []
    if isinstance(corpus, (list, tuple)):
        return [Path(p) for p in corpus if isinstance(p, os.PathLike)]
    return []


def _text_item(item: object) -> str:
    if not isinstance(item, str):
        raise ValueError(f"corpus items must be text (str) or paths, got {type(item).__name__}.")
    return item


#: The merge loops: ``python`` (:mod:`tokviz.training.merge_loop`, objects per pre-token, fastest on small tables),
#: ``compact`` (:mod:`tokviz.training.compact_merge`: numpy arrays, about a quarter of the memory, the same merges,
#: slower) and ``auto``: compact from :data:`COMPACT_MIN_DISTINCT` distinct pre-tokens when numpy is installed (below
#: that the Python loop needs under about 0.7 GB, so its speed matters more than its memory).
MERGE_LOOPS = ("auto", "python", "compact")
COMPACT_MIN_DISTINCT = 1_000_000


def choose_merge_loop(merge: object, distinct: int) -> str:
    """``python`` or ``compact`` for ``merge`` (one of :data:`MERGE_LOOPS`) on a table of ``distinct`` pre-tokens.

    >>> choose_merge_loop("auto", 10), choose_merge_loop("python", 10**9)
    ('python', 'python')
    """
    if merge not in MERGE_LOOPS:
        raise ValueError(f"merge={merge!r:.40} is not a merge loop; use one of {', '.join(map(repr, MERGE_LOOPS))}.")
    if merge == "compact" and not numpy_available():
        raise ValueError("merge='compact' needs numpy: pip install 'tokviz[scale]', or use merge='python'.")
    if merge == "auto":
        return "compact" if distinct >= COMPACT_MIN_DISTINCT and numpy_available() else "python"
    return str(merge)


class MergeOptions(TypedDict, total=False):
    """The keyword options of :func:`train_from_counts`, each optional; the defaults are in brackets."""

    special_tokens: Sequence[str] | None  # [none]
    pattern: str  # the pattern the counts were made with, kept by the tokenizer ['gpt2']
    progress: Callable[[Merge], object] | None  # gets every merge as it is learned
    should_stop: CancelCheck | None  # polled every merge; True ends training early
    name: str  # the tokenizer's name ['bpe']
    counting_seconds: float  # the counting's time, for the training report [0.0]
    merge: str  # the merge loop: 'auto', 'python' or 'compact' ['auto']


def vocab_of(specials: Sequence[str], merges: Sequence[tuple[bytes, bytes]]) -> dict[int, bytes]:
    """A trained vocabulary's ids: the special tokens first, then the 256 bytes, then one token per merge.

    >>> vocab = vocab_of(["<|endoftext|>"], [(b"t", b"h")])
    >>> vocab[0], vocab[1 + 104], vocab[257]
    (b'<|endoftext|>', b'h', b'th')
    """
    vocab: dict[int, bytes] = {i: s.encode("utf-8") for i, s in enumerate(specials)}
    base = len(specials)
    vocab.update({base + b: bytes([b]) for b in range(256)})
    for k, (a, b) in enumerate(merges):
        vocab[base + 256 + k] = a + b
    return vocab


def train_from_counts(counts: Mapping[str, int] | WordArrays, *, vocab_size: int,
                      **options: Unpack[MergeOptions]) -> Tokenizer:
    """Run the merge loop on pre-token counts and lay out the vocabulary: specials, 256 bytes, merges. The options
    are :class:`MergeOptions`; ``merge`` picks the loop (:data:`MERGE_LOOPS`); ``counts`` may be
    :class:`~tokviz.training.compact_merge.WordArrays` read from files.

    >>> train_from_counts({"aa": 3}, vocab_size=257).merges
    [(b'a', b'a')]
    """
    unknown = set(options) - set(MergeOptions.__annotations__)
    if unknown:
        raise TypeError(f"train_from_counts() got unexpected keyword arguments {sorted(unknown)}; the options are "
                        f"{sorted(MergeOptions.__annotations__)}.")
    special_tokens, pattern = options.get("special_tokens"), options.get("pattern", "gpt2")
    progress, should_stop = options.get("progress"), options.get("should_stop")
    name, counting_seconds = options.get("name", "bpe"), options.get("counting_seconds", 0.0)
    merge = options.get("merge", "auto")
    specials = list(dict.fromkeys(validate_special_tokens(special_tokens)))
    validate_vocab_size(vocab_size, len(specials))
    t0 = time.perf_counter()
    if isinstance(counts, WordArrays):
        n_pretokens, n_distinct = counts.total, counts.distinct
    else:
        n_pretokens, n_distinct = sum(counts.values()), len(counts)
    n_merges = vocab_size - 256 - len(specials)
    result: MergeResult
    if choose_merge_loop(merge, n_distinct) == "compact":
        result = merge_counts_compact(counts, n_merges=n_merges, on_merge=progress, should_stop=should_stop)
    else:
        table = counts.to_dict() if isinstance(counts, WordArrays) else counts
        result = merge_counts(table, n_merges=n_merges, on_merge=progress, should_stop=should_stop)
    vocab = vocab_of(specials, result.merges)
    tok = Tokenizer(vocab, result.merges, specials, pattern, name=name)
    tok.training = TrainingReport(
        requested_vocab_size=vocab_size,
        vocab_size=len(vocab),
        merge_counts=result.counts,
        seconds=counting_seconds + time.perf_counter() - t0,
        stopped_early=result.stopped_early,
        message=result.message,
        counting_seconds=counting_seconds,
        n_pretokens=n_pretokens,
        n_distinct_pretokens=n_distinct,
    )
    return tok


class TrainOptions(TypedDict, total=False):
    """The keyword options of :func:`train_bpe`, each optional; the defaults are in brackets."""

    special_tokens: Sequence[str] | None  # [none]
    pattern: str  # a named pattern ('gpt2', 'gpt4', 'o200k') or a regex ['gpt2']
    progress: Callable[[Merge], object] | None  # gets every merge as it is learned
    should_stop: CancelCheck | None  # polled every merge; True ends training early
    workers: int | None  # counting processes [as many as the machine has cores]
    errors: str  # undecodable bytes in files: 'strict', 'replace' or 'ignore' ['strict']
    count_progress: Callable[[int], object] | None  # gets the characters counted so far
    name: str  # the tokenizer's name ['bpe']
    merge: str  # the merge loop: 'auto', 'python' or 'compact' (numpy arrays, far less memory) ['auto']


def train_bpe(corpus: Corpus | CountsArrays, *, vocab_size: int, **options: Unpack[TrainOptions]) -> Tokenizer:
    """Train a byte-level BPE tokenizer of ``vocab_size`` tokens (specials + 256 bytes + merges); the options are
    :class:`TrainOptions`.

    ``progress`` gets every :class:`~tokviz.training.merge_loop.Merge` as it is learned; ``should_stop`` is polled
    every merge and
    ends training early; ``count_progress`` gets the number of characters counted so far. If the corpus runs out of
    pairs first, training stops early and ``tok.training.message`` says so. ``corpus`` may also be
    :class:`~tokviz.training.counts_table.Counts` counted before: only the merge loop runs (``special_tokens`` default
    to theirs), or :class:`~tokviz.training.compact_merge.CountsArrays` read from a counts file for the compact loop.
    ``merge`` picks the merge loop (:data:`MERGE_LOOPS`; both learn the same merges). Each path in ``corpus`` is one
    document: a file's end ends a pre-token (a whitespace run at the end of one file does not join the next file's),
    as in ``tokviz count`` and on Dask (:func:`corpus_documents`).
    """
    unknown = set(options) - set(TrainOptions.__annotations__)
    if unknown:
        raise TypeError(f"train_bpe() got unexpected keyword arguments {sorted(unknown)}; the options are "
                        f"{sorted(TrainOptions.__annotations__)}.")
    special_tokens = options.get("special_tokens")
    pattern = options.get("pattern", "gpt2")
    progress, should_stop = options.get("progress"), options.get("should_stop")
    name = options.get("name", "bpe")
    merge = options.get("merge", "auto")
    choose_merge_loop(merge, 0)  # a wrong name is refused before any counting
    validate_special_tokens(special_tokens)  # a str would pass below as a list of one-character tokens
    if isinstance(corpus, (Counts, CountsArrays)):
        specials = list(corpus.special_tokens if special_tokens is None else dict.fromkeys(special_tokens))
        corpus.check_same_settings(pattern, specials)
        table = corpus.counts if isinstance(corpus, Counts) else corpus.words
        return train_from_counts(table, vocab_size=vocab_size, special_tokens=specials, pattern=pattern,
                                 progress=progress, should_stop=should_stop, name=name, merge=merge)
    validate_corpus(corpus)
    errors = validate_errors(options.get("errors", "strict"))
    specials = list(dict.fromkeys(validate_special_tokens(special_tokens)))
    validate_vocab_size(vocab_size, len(specials))
    t0 = time.perf_counter()
    counts = count_corpus(corpus, special_tokens=specials, pattern=pattern, workers=options.get("workers"),
                          errors=errors, count_progress=options.get("count_progress"))
    return train_from_counts(counts, vocab_size=vocab_size, special_tokens=specials, pattern=pattern,
                             progress=progress, should_stop=should_stop, name=name,
                             counting_seconds=time.perf_counter() - t0, merge=merge)
