r"""Plain text made safe for a Markdown body (Streamlit's ``st.error``, ``st.success``, ``st.markdown``…).

Messages about user files quote what the user gave: file names, paths, a bad line. In Markdown a ``*`` starts
emphasis, ``$`` starts a formula and ``[x](y)`` is a link, so such text is escaped to show exactly as written.

Example:
    >>> print(escape_markdown("vocab_1.json, line 3: got '$x*2'"))
    vocab\_1\.json, line 3\: got '\$x\*2'
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the characters that can start markup in
# Streamlit's Markdown (GitHub flavour, math, and :shortcode: emoji and icons).
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def escape_markdown(text: str) -> str:
    """``text`` with Markdown markup escaped, addresses kept from becoming links, and each newline a hard line break.

    >>> escape_markdown("a\\nb")
    'a  \\nb'
    """
    return _unlinked(_MARKUP.sub(r"\\\1", text)).replace("\n", "  \n")


# GitHub-flavoured Markdown turns www., http://, https://, ftp://, mailto:, xmpp: and e-mail addresses in plain text
# into links after escapes are resolved, so a backslash cannot stop it: a word joiner (U+2060, zero width) inside
# each trigger does. A name or token holding an address then shows it, unlinked.
_AUTOLINK = re.compile(r"(?i)(?<=ww)(?=w\\\.)|(?:(?<=http)|(?<=https)|(?<=ftp)|(?<=mailto)|(?<=xmpp))(?=\\:)|(?=@)")


def _unlinked(escaped: str) -> str:
    """Escaped Markdown with a word joiner inside every autolink trigger.

    >>> _unlinked(r"www\\.a\\.org, https\\://b, c@d\\.e").count("\u2060")
    3
    """
    return _AUTOLINK.sub("\u2060", escaped)


def code_span(text: str) -> str:
    """``text`` as a Markdown code span that shows it exactly, backticks included (the fence is longer than any run
    of backticks in it); newlines become spaces, since a code span is one line.

    >>> code_span("a.txt"), code_span("x`y"), code_span("`q")
    ('`a.txt`', '``x`y``', '`` `q ``')
    """
    text = text.replace("\r", " ").replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
__all__ = ["code_span", "escape_markdown"]
