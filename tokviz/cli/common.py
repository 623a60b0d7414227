"""What the ``tokviz`` commands share: the progress bar and how a tokenizer named on the command line is found.

Both :mod:`tokviz.cli.main` and :mod:`tokviz.cli.scale` import from here, so neither imports the other's helpers.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> ProgressBar(out, width=4, interval=0).update("counting", 1, 2)
    >>> out.getvalue()
    '\\rcounting [##..] 1/2'
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tokviz.formats import PatternGuessWarning, load_tokenizer, special_tokens_arg
from tokviz.formats.dispatch import Loaded
from tokviz.formats.pretrained import is_encoding_name, load_encoding


# -- progress ---------------------------------------------------------------------------------------------------
class ProgressBar:
    """A plain-text bar redrawn in place with ``\\r`` on a stream, at most every ``interval`` seconds.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(out, width=10, interval=0)
    >>> bar.update("merging", 5, 10)
    >>> out.getvalue().split("\\r")[-1]
    'merging [#####.....] 5/10'
    """

    def __init__(self, stream: TextIO, *, width: int = 30, interval: float = 0.1) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self._last = float("-inf")
        self._shown = False
        self._length = 0

    def update(self, label: str, done: int, total: int, *, unit: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return  # throttled: redrawing on every merge would cost more than the merge
        self._last = now
        frac = min(1.0, done / total) if total > 0 else 1.0
        filled = int(round(frac * self.width))
        line = f"{label} [{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,}{unit}"
        self.stream.write("\r" + line + " " * max(0, self._length - len(line)))
        self.stream.flush()
        self._shown = True
        self._length = len(line)

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


# -- loading ----------------------------------------------------------------------------------------------------
def resolve_tokenizer(specs: Sequence[str], *, pattern: str | None = None,
                      special_tokens: Sequence[str] | None = None) -> Loaded:
    """A tokenizer from file paths, or from one of OpenAI's named encodings (built in).

    A guessed pattern (a rank file tokviz does not know, given without --pattern) is said on stderr as a note.
    """
    if len(specs) == 1 and not Path(specs[0]).exists() and is_encoding_name(specs[0]):
        if pattern is not None or special_tokens:
            raise ValueError(f"{specs[0]} has its own pattern and special tokens; drop --pattern/--special-token.")
        return load_encoding(specs[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PatternGuessWarning)
        tok = load_tokenizer(*specs, pattern=pattern, special_tokens=special_tokens_arg(special_tokens))
    for w in caught:
        if issubclass(w.category, PatternGuessWarning):
            print(f"tokviz: note: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return tok
