"""The note a text box gets when the page repaired lone surrogates in it (a browser string may hold half of an
emoji's UTF-16 pair; UTF-8, and so the message that carries the text to the server, cannot).

The page's script replaces each one with U+FFFD in the box itself before the text is sent, and reports the box's key,
how many it replaced and the box's length then, in UTF-16 code units; the note is shown while the box still holds
text of that length with at least that many U+FFFD, so it goes away with the next edit that changes either.

Example:
    >>> repaired_note({"key": "text", "count": 1, "units": 3}, key="text", text="a\\ufffdb")[:19]
    '1 lone surrogate in'
"""

from __future__ import annotations

from collections.abc import Mapping

REPLACEMENT = "\ufffd"


def utf16_units(text: str) -> int:
    """The length of ``text`` as a browser counts it: characters beyond U+FFFF take two UTF-16 code units.

    >>> utf16_units("a🙃")
    3
    """
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def repaired_note(report: object, *, key: str, text: str) -> str | None:
    """The one-line note for box ``key`` now holding ``text``, given the page's last repair ``report`` (``None`` when
    there is nothing to say: another box, a malformed report, or text edited since)."""
    if not isinstance(report, Mapping) or report.get("key") != key:
        return None
    count, units = report.get("count"), report.get("units")
    if not isinstance(count, (int, float)) or not isinstance(units, (int, float)) or count < 1:
        return None
    count = int(count)
    if utf16_units(text) != units or text.count(REPLACEMENT) < count:
        return None
    what = "1 lone surrogate" if count == 1 else f"{count:,} lone surrogates"
    return (f"{what} in the text (half of an emoji's UTF-16 pair, as a cut copy leaves) "
            f"{'was' if count == 1 else 'were'} replaced with U+FFFD (\N{REPLACEMENT CHARACTER}): UTF-8 has no form "
            "for it. The box shows the text the tokens are of.")
