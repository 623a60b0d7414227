"""Held-out text: the last part of a corpus, cut at a line break, kept out of training so compression can be
measured on text the tokenizer never saw.

Example:
    >>> split_holdout("a\\nb\\nc\\n", fraction=0.4)
    ('a\\nb\\n', 'c\\n')
"""

from __future__ import annotations


def check_text(text: object, what: str = "text") -> str:
    """``text`` itself if it is a ``str``, else a ValueError naming ``what`` and saying how to fix it."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be str, got {type(text).__name__}; decode bytes as UTF-8 first.")
    return text


# -- held-out text -------------------------------------------------------------------------------------------------
def split_holdout(text: str, *, fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into ``(train, heldout)``: the last ``fraction`` of it, cut just after a line break.

    The cut is the first line break at or after the target position (else the last one before it), so no line is
    split; the same text always gives the same split and ``train + heldout == text``.

    >>> split_holdout("one\\ntwo\\nthree\\nfour\\n", fraction=0.3)
    ('one\\ntwo\\nthree\\n', 'four\\n')
    """
    check_text(text)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number strictly between 0 and 1 (e.g. 0.1), got {fraction!r}.")
    target = round(len(text) * (1 - fraction))
    cut = text.find("\n", max(target - 1, 0)) + 1
    if not 0 < cut < len(text):
        cut = text.rfind("\n", 0, max(target - 1, 0)) + 1
    if not 0 < cut < len(text):
        raise ValueError(
            "Cannot hold out part of this text at a line boundary: it needs a line break with text on both sides; "
            "join documents with newlines or pass a longer text."
        )
    return text[:cut], text[cut:]
