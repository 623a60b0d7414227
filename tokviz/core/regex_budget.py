"""A cost budget for every regex that user-supplied data reaches: compiling and matching alike.

Compiling. The ``regex`` compiler unrolls a repeat's minimum count into copies of its body, so nested counts multiply:
``(?:a{3000}){3000}`` is nine million copies (minutes of compiling while holding the GIL, gigabytes of memory) and
``(?:a{65535}){65535}`` raises ``MemoryError``. Measured on this machine, a compiled pattern costs about 0.45 s and
260 MB per million copies. :func:`compile_budgeted` therefore works in two steps:

1. A bound that cannot be too low: ``len(source) * product of every count written as {m`` (a count ``m`` counts as
   ``m`` copies of what it repeats; nesting multiplies at most that much). At or below :data:`FAST_UNITS` (100,000,
   about 45 ms and 26 MB to compile) the pattern is compiled at once. Every real pattern is: ``\\p{N}{1,3}`` bounds
   at 10, GPT-4o's pattern at a few hundred.
2. A pattern over that bound is first compiled in a child process limited to :data:`COMPILE_MEMORY` bytes of
   address space and killed after :data:`COMPILE_WALL_SECONDS`; it is refused unless the child compiled it within
   :data:`COMPILE_SECONDS` of CPU time. Only then is it compiled here, which takes about as long. So what is refused
   is what was measured to cost too much, not what a guess about the syntax flagged (``a{300}b{300}c{300}`` bounds
   high but compiles in a millisecond and is accepted); the price is one interpreter start (0.1 to 0.3 s here) per
   such pattern, once per process.

Deep nesting is refused before compiling too: the compiler recurses once per level and overflows near 500.

Matching. ``regex`` supports ``timeout=`` and releases the GIL while it matches a ``str``, so a stopped match never
freezes other threads. :func:`match_budget` gives a call :data:`MATCH_SECONDS` plus a microsecond per character; the
context manager :func:`stopped_with_message` turns the ``TimeoutError`` into a ``ValueError`` naming the pattern.

Example:
    >>> compile_budgeted(r"\\p{N}{1,3}", what="Split pattern").findall("12345")
    ['123', '45']
    >>> compile_bound(r"(?:a{30}){20}")
    7800
    >>> with stopped_with_message("(x|x)+y", what="Split pattern", length=3) as budget:
    ...     budget > 0
    True
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import regex

#: The bound (pattern length times the product of its written counts) up to which a pattern is compiled at once.
FAST_UNITS = 100_000
#: CPU seconds a pattern may take to compile (measured in a child process) before it is refused.
COMPILE_SECONDS = 0.25
#: Wall seconds after which the child compiling a pattern is killed.
COMPILE_WALL_SECONDS = 3.0
#: Address space of the child compiling a pattern (a MemoryError there means the pattern is refused).
COMPILE_MEMORY = 768 * 2**20
#: Seconds every match call may take, plus :data:`MATCH_SECONDS_PER_CHAR` per character of its text.
MATCH_SECONDS = 2.0
MATCH_SECONDS_PER_CHAR = 1e-6
#: Deepest group nesting accepted (the `regex` compiler recurses per level; 500 overflow it).
MAX_NESTING = 100

_COUNT = re.compile(r"\{(\d+)")

_CHILD = """
import resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import regex
source = sys.stdin.buffer.read().decode("utf-8", "surrogatepass")
start = time.process_time()
try:
    regex.compile(source, int(sys.argv[2]))
except MemoryError:
    print("memory")
except BaseException as e:
    print("error", type(e).__name__, e)
else:
    print("ok", time.process_time() - start)
"""


def shown(source: str) -> str:
    """A pattern as messages quote it: ``repr``, cut at 80 characters.

    >>> shown("a" * 100)[-2:]
    "…'"
    """
    r = repr(source)
    return r if len(r) <= 80 else r[:78] + "…" + r[0]


def compile_bound(source: str) -> int:
    """An upper bound on the copies the compiler makes: ``len(source)`` times the product of every ``{m`` count.

    >>> compile_bound(r"\\p{N}{1,3}"), compile_bound("a{300}b{300}")
    (10, 1080000)
    """
    return max(1, len(source)) * math.prod(max(1, int(m)) for m in _COUNT.findall(source))


def nesting(source: str) -> int:
    """The deepest nesting of parentheses in a regex, not counting escaped ones or ones inside a class.

    >>> nesting("((a)(b))|[(]")
    2
    """
    depth = deepest = 0
    i, n = 0, len(source)
    in_class = False
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if source.startswith("]", i + 1) or source.startswith("^]", i + 1):
                i += 2 if source[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
        i += 1
    return deepest


def compile_budgeted(source: str, *, what: str, flags: int = 0) -> Any:
    """``regex.compile(source, flags)`` within the budget; a ValueError naming the pattern (``what`` says which one
    it is, e.g. "Split pattern") if it does not compile or would cost too much to."""
    depth = nesting(source)
    too_deep = (f"The {what} {shown(source)} nests groups {depth} deep (at most {MAX_NESTING} are accepted); "
                "simplify the pattern, e.g. drop redundant parentheses.")
    if depth > MAX_NESTING:
        raise ValueError(too_deep)
    if compile_bound(source) > FAST_UNITS:
        _refuse_if_costly(source, what, flags)
    try:
        return regex.compile(source, flags)
    except regex.error as e:
        raise ValueError(f"The {what} {shown(source)} does not compile ({e}); check brackets and escapes.") from e
    except RecursionError as e:  # nesting that is not made of parentheses ([a] then (?: ... is caught above)
        raise ValueError(too_deep) from e
    except (MemoryError, OverflowError) as e:
        raise ValueError(_too_costly(source, what, "it ran out of memory")) from e


def _too_costly(source: str, what: str, why: str) -> str:
    return (f"The {what} {shown(source)} is too costly to compile ({why}): the compiler copies a repeat's body as "
            "many times as its minimum count, and nested counts multiply. Lower counts such as {3000} or nest fewer "
            "of them (a{3000,} is as costly as a{3000}; a+ or a{1,3000} are cheap).")


@functools.lru_cache(maxsize=256)
def _trial(source: str, flags: int) -> tuple[str, str]:
    """Compile in a child with a memory and time limit: ``("ok", "")``, or ``(kind, detail)`` of what went wrong."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, str(COMPILE_MEMORY), str(flags)],
            input=source.encode("utf-8", "surrogatepass"), capture_output=True, timeout=COMPILE_WALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "costly", f"over {COMPILE_WALL_SECONDS:g} s"
    said = done.stdout.decode("utf-8", "replace").strip()
    if said.startswith("ok "):
        seconds = float(said.split()[1])
        if seconds > COMPILE_SECONDS:
            return "costly", f"{seconds:.2f} s of compiling, over the {COMPILE_SECONDS:g} s allowed"
        return "ok", ""
    if said == "memory" or not said:  # no answer: the child died of its memory limit before it could print
        return "costly", f"over {COMPILE_MEMORY >> 20} MB of memory"
    return "error", said.split(" ", 2)[-1] if said.startswith("error ") else said


def _refuse_if_costly(source: str, what: str, flags: int) -> None:
    kind, detail = _trial(source, flags)
    if kind == "costly":
        raise ValueError(_too_costly(source, what, detail))
    if kind == "error":
        raise ValueError(f"The {what} {shown(source)} does not compile ({detail}); check brackets and escapes.")


def match_budget(length: int, *, base: float | None = None) -> float:
    """Seconds one match call over ``length`` characters may take: ``base`` (default :data:`MATCH_SECONDS`) plus a
    microsecond per character.

    >>> match_budget(1_000_000)
    3.0
    """
    return (MATCH_SECONDS if base is None else base) + length * MATCH_SECONDS_PER_CHAR


@contextmanager
def stopped_with_message(source: str, *, what: str, length: int, base: float | None = None) -> Iterator[float]:
    """Yield the budget for matching ``length`` characters; a ``TimeoutError`` inside becomes a ValueError that
    names the pattern and says what to change."""
    budget = match_budget(length, base=base)
    try:
        yield budget
    except TimeoutError as e:
        raise ValueError(
            f"The {what} {shown(source)} took over {budget:.1f} s on {length:,} characters and was stopped "
            "(catastrophic backtracking); rewrite it without nested or overlapping repeats such as (a|aa)+ or (a+)+."
        ) from e


def deadline_left(deadline: float) -> float:
    """Seconds left until a ``time.monotonic()`` deadline, at least a millisecond (so a call still times out)."""
    return max(0.001, deadline - time.monotonic())
