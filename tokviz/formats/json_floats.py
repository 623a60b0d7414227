"""Numbers of a ``tokenizer.json`` as Hugging Face ``tokenizers`` reads them (Rust's ``serde_json``, default build).

``serde_json`` without its ``float_roundtrip`` feature does not round a decimal number correctly: it collects the
digits into a 64-bit integer (digits past 19 are dropped), converts that integer to a double (one rounding) and
divides or multiplies it by a power of ten from a table of doubles (a second rounding). For a number with 17
significant digits, such as the log probabilities a Unigram trainer writes, the result is often one unit in the
last place away from the correctly rounded value that Python's :mod:`json` gives. Viterbi compares sums of those
scores, so a tie between two cuts can go the other way; reading the scores as ``tokenizers`` does keeps the ids
equal to its ids.

Example:
    >>> serde_f64("-7.2217645489529705"), float("-7.2217645489529705")
    (-7.221764548952971, -7.2217645489529705)
    >>> serde_f64("0.5"), serde_f64("-1e-5"), serde_f64(repr(-3.25))
    (0.5, -1e-05, -3.25)
"""

from __future__ import annotations

import math

import regex

_U64_MAX = (1 << 64) - 1
_NUMBER = regex.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?")
# serde_json's table: 1e0 .. 1e308, each the double nearest to the power of ten (as a Rust literal is).
_POW10 = [float(f"1e{k}") for k in range(309)]


def serde_f64(text: str) -> float:
    """The double ``serde_json`` reads for the JSON number ``text``; ValueError if it is not one (or overflows).

    >>> serde_f64("12345678901234567890123")  # digits past u64 are dropped, the exponent kept
    1.2345678901234568e+22
    >>> serde_f64("1e400")
    Traceback (most recent call last):
    ...
    ValueError: JSON number '1e400' is out of the range of a double.
    """
    m = _NUMBER.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r:.40} is not a JSON number.")
    sign, whole, frac, exp_sign, exp_digits = m.groups()
    significand, exponent = 0, 0
    for k, c in enumerate(whole):
        nxt = significand * 10 + (ord(c) - 48)
        if nxt > _U64_MAX:
            exponent += len(whole) - k  # the integer part's remaining digits are dropped but still scale it
            break
        significand = nxt
    for c in frac or "":
        nxt = significand * 10 + (ord(c) - 48)
        if nxt > _U64_MAX:
            break  # the fraction's remaining digits are dropped
        significand = nxt
        exponent -= 1
    if exp_digits is not None:
        e = int(exp_digits)
        exponent = exponent - e if exp_sign == "-" else exponent + e
    return _from_parts(sign != "-", significand, exponent, text)


def _from_parts(positive: bool, significand: int, exponent: int, text: str) -> float:
    f = float(significand)  # round to nearest, ties to even, as Rust's `as f64`
    while True:
        k = abs(exponent)
        if k < len(_POW10):
            if exponent >= 0:
                f *= _POW10[k]
                if math.isinf(f):
                    raise ValueError(f"JSON number {text!r:.40} is out of the range of a double.")
            else:
                f /= _POW10[k]
            break
        if f == 0.0:
            break
        if exponent >= 0:
            raise ValueError(f"JSON number {text!r:.40} is out of the range of a double.")
        f /= 1e308
        exponent += 308
    return f if positive else -f


def score_as_tokenizers_reads_it(value: float | int) -> float:
    """A score that Python's :mod:`json` parsed, as ``tokenizers`` would have parsed the file's text.

    Exact when the file writes the number as its shortest round-trip form (what ``tokenizers``, ``serde_json`` and
    Python's :mod:`json` write); an integer is converted exactly, as ``serde_json`` reads an integer token.

    >>> score_as_tokenizers_reads_it(-7.2217645489529705), score_as_tokenizers_reads_it(-2)
    (-7.221764548952971, -2.0)
    """
    if isinstance(value, int):
        return float(value)
    if not math.isfinite(value):
        return value
    return serde_f64(repr(value))
