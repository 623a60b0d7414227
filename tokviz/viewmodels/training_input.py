"""What the train view reads from its widgets: uploaded files, special tokens, the pattern, names for trained runs.

Everything here is a pure function of the widget values, so the rules (what blocks training, what is offered as a
fix, how a run is named) are tested without a browser. Each uploaded file goes through
:func:`tokviz.viewmodels.uploads.read_corpus`; a batch is usable only when every file is, since training silently
without one of the files the user chose would be a surprise.

Example:
    >>> batch = gather_corpus([("a.txt", b"hello\\n"), ("b.txt", b"caf\\xe9\\n")], max_bytes=1000)
    >>> batch.ok, batch.fixable, batch.problems[0].splitlines()[0]
    (False, True, 'b.txt is not valid UTF-8: the first bad byte is 0xe9 at byte 3 (line 1, column 4).')
    >>> fixed = gather_corpus([("a.txt", b"hello\\n"), ("b.txt", b"caf\\xe9\\n")], max_bytes=1000, replace=True)
    >>> fixed.ok, fixed.n_replaced, fixed.texts
    (True, 1, ('hello\\n', 'caf\\ufffd\\n'))
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS, resolve_pattern
from tokviz.training.live import split_corpus
from tokviz.viewmodels.upload_tokenizer import parse_special_tokens
from tokviz.viewmodels.uploads import read_corpus

#: Largest upload the train view accepts, per file (Streamlit's own ``server.maxUploadSize`` is higher, 200 MB, so
#: this limit is the one users meet, with our own message). ``$TOKVIZ_TRAIN_MAX_MB`` overrides it.
DEFAULT_MAX_MB = 50
MAX_MB_ENV = "TOKVIZ_TRAIN_MAX_MB"
#: The patterns offered by name; anything else is a custom regex.
PATTERN_CHOICES: tuple[str, ...] = (*NAMED_PATTERNS, "custom")


def upload_limit(env: Mapping[str, str] | None = None) -> int:
    """Bytes allowed per uploaded file: ``$TOKVIZ_TRAIN_MAX_MB`` megabytes (10^6 bytes), else 50 MB.

    A value that is not a positive number is ignored (a typo in the environment must not break the page).

    >>> upload_limit({}), upload_limit({"TOKVIZ_TRAIN_MAX_MB": "0.5"}), upload_limit({"TOKVIZ_TRAIN_MAX_MB": "x"})
    (50000000, 500000, 50000000)
    """
    raw = (os.environ if env is None else env).get(MAX_MB_ENV, "")
    try:
        mb = float(raw)
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int((mb if mb > 0 else DEFAULT_MAX_MB) * 1_000_000)


@dataclass(frozen=True)
class CorpusBatch:
    """The texts of the chosen files, or why they cannot be used yet.

    ``problems`` holds one message per unusable file; ``n_fixable`` counts those that are bad UTF-8, which reading
    with replacement characters fixes (``fixable``: all of them are); ``n_replaced`` counts the bytes that became
    U+FFFD, in the files ``replaced_in``.
    """

    names: tuple[str, ...]
    texts: tuple[str, ...]
    n_bytes: int
    problems: tuple[str, ...] = ()
    n_fixable: int = 0
    n_replaced: int = 0
    replaced_in: tuple[str, ...] = ()

    @property
    def fixable(self) -> bool:
        return bool(self.problems) and self.n_fixable == len(self.problems)

    @property
    def ok(self) -> bool:
        return bool(self.texts) and not self.problems

    @property
    def n_chars(self) -> int:
        return sum(map(len, self.texts))


def gather_corpus(files: Iterable[tuple[str, bytes]], *, max_bytes: int, replace: bool = False) -> CorpusBatch:
    """Read every ``(name, data)`` upload; with ``replace`` bad UTF-8 bytes become U+FFFD instead of a problem.

    >>> gather_corpus([("e.txt", b"")], max_bytes=10).problems
    ('e.txt is empty: upload a text file with some content.',)
    """
    names: list[str] = []
    texts: list[str] = []
    problems: list[str] = []
    n_bytes = n_replaced = n_fixable = 0
    replaced_in: list[str] = []
    for name, data in files:
        got = read_corpus(data, name=name, max_bytes=max_bytes, replace=replace)
        names.append(name)
        n_bytes += got.n_bytes
        if got.ok:
            texts.append(got.text)
            if got.n_replaced:
                n_replaced += got.n_replaced
                replaced_in.append(name)
        else:
            problems.append(got.problem or f"{name} cannot be read.")
            n_fixable += got.fixable
    return CorpusBatch(tuple(names), tuple(texts), n_bytes, tuple(problems), n_fixable, n_replaced, tuple(replaced_in))


def training_special_tokens(text: str) -> tuple[str, ...]:
    """Special tokens to train with, read by the same parser as every view's special-token field; training gives
    them ids itself (0, 1, … in order), so ``TOKEN=ID`` is refused with how to fix it.

    >>> training_special_tokens(" <|endoftext|>, <pad>,, <|endoftext|> <unk>")
    ('<|endoftext|>', '<pad>', '<unk>')
    >>> training_special_tokens("<|endoftext|>=5")
    Traceback (most recent call last):
    ...
    ValueError: Training numbers special tokens itself (0, 1, … in the order typed): give them without =ID.
    """
    parsed = parse_special_tokens(text)
    if isinstance(parsed, dict):
        raise ValueError("Training numbers special tokens itself (0, 1, … in the order typed): give them without =ID.")
    return tuple(parsed or ())


def chosen_pattern(choice: str, custom: str) -> str:
    """The pattern to train with: a named one, or the custom regex (an empty one is refused by the trainer).

    >>> chosen_pattern("gpt4", r"\\w+"), chosen_pattern("custom", r"\\w+|\\s+")
    ('gpt4', '\\\\w+|\\\\s+')
    """
    if choice not in PATTERN_CHOICES:
        raise ValueError(f"pattern choice must be one of {', '.join(PATTERN_CHOICES)}, got {choice!r}.")
    return custom if choice == "custom" else choice


def pattern_label(pattern: str) -> str:
    """A short name for a pattern in a run's name: ``gpt2``, ``gpt4``, ``o200k`` or ``custom``.

    >>> pattern_label("cl100k_base"), pattern_label(r"\\S+|\\s+")
    ('gpt4', 'custom')
    """
    return resolve_pattern(pattern)[1] or "custom"


def size_text(n: int) -> str:
    """A vocabulary size for a name: whole thousands as ``10k``, others with separators.

    >>> size_text(10_000), size_text(50_257), size_text(512)
    ('10k', '50,257', '512')
    """
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def trained_name(index: int, *, pattern: str, vocab_size: int, cancelled: bool = False,
                 taken: Iterable[str] = ()) -> str:
    """The name a trained tokenizer gets in the session's list, unique among ``taken``.

    >>> trained_name(1, pattern="gpt2", vocab_size=10_000)
    'trained-1 (gpt2, 10k)'
    >>> trained_name(2, pattern="gpt4", vocab_size=3_141, cancelled=True, taken=["trained-2 (gpt4, 3,141, cancelled)"])
    'trained-2 (gpt4, 3,141, cancelled) #2'
    """
    base = f"trained-{index} ({pattern_label(pattern)}, {size_text(vocab_size)}{', cancelled' if cancelled else ''})"
    used = set(taken)
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base} #{k}"
    return name


def file_stem(name: str) -> str:
    """A file-name-safe stem for a tokenizer name: letters, digits, dots and dashes only.

    >>> file_stem("trained-1 (gpt2, 10k)")
    'trained-1-gpt2-10k'
    """
    stem = re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-.")
    return stem or "tokenizer"



def heldout_text(texts: Iterable[str], *, fraction: float = 0.1) -> str:
    """The held-out part of a live run's corpus, cut by the same function the run uses ("" when it holds none), so other
    views can measure the tokenizer on the text it did not see.

    >>> heldout_text(["one\\ntwo\\n", "three\\nfour\\n"], fraction=0.3), heldout_text(["no line break"])
    ('four\\n', '')
    """
    return split_corpus(tuple(texts), holdout=fraction)[1]
