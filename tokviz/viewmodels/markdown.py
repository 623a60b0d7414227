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
    """``text`` with Markdown markup escaped and each newline a hard line break.

    >>> escape_markdown("a\\nb")
    'a  \\nb'
    """
    return _MARKUP.sub(r"\\\1", text).replace("\n", "  \n")


__all__ = ["escape_markdown"]
