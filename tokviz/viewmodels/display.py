"""How a token's bytes are shown as text: readable labels, hex, and visible whitespace.

A byte-level token need not be valid UTF-8 (it can hold part of an emoji), so a label never decodes with
replacement characters: such a token is shown as its bytes, ``⟨f0 9f⟩``, never as "�".

Example:
    >>> token_label(b" world"), token_label(b"\\xf0\\x9f"), hex_bytes(b"hi")
    ('·world', '⟨f0 9f⟩', '68 69')
    >>> visible_whitespace("a b\\tc\\n")
    'a·b→c↵'
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

# The marks drawn for whitespace; a newline keeps a real line break after its mark where the caller asks for it.
SPACE_MARK = "·"
TAB_MARK = "→"
NEWLINE_MARK = "↵"
CR_MARK = "␍"
_CONTROL_PICTURES = {c: chr(0x2400 + c) for c in range(32) if chr(c) not in "\t\n\r"} | {0x7F: "␡"}


def hex_bytes(token: bytes) -> str:
    """Bytes as lowercase hex pairs separated by spaces.

    >>> hex_bytes(b"\\xf0\\x9f\\x8c\\x8d")
    'f0 9f 8c 8d'
    """
    return " ".join(f"{b:02x}" for b in token)


def decode_whole(token: bytes) -> str | None:
    """The token's text if its bytes are valid UTF-8 on their own, else None (part of a character).

    >>> decode_whole(b"caf\\xc3\\xa9"), decode_whole(b"\\xc3")
    ('café', None)
    """
    try:
        return token.decode("utf-8")
    except UnicodeDecodeError:
        return None


def control_pictures(text: str) -> str:
    """Replace C0 control characters other than tab, newline and CR by their Unicode control pictures.

    Raw control characters are invisible or garble a page; U+2400 + code shows which one it was.

    >>> control_pictures("a\\x00b\\x1b")
    'a␀b␛'
    """
    return text.translate(_CONTROL_PICTURES)


def visible_whitespace(text: str, *, keep_newlines: bool = False) -> str:
    """Space → ``·``, tab → ``→``, newline → ``↵``, CR → ``␍``; with ``keep_newlines`` a real newline follows ``↵``.

    >>> visible_whitespace("x\\ny", keep_newlines=True)
    'x↵\\ny'
    """
    newline = NEWLINE_MARK + "\n" if keep_newlines else NEWLINE_MARK
    return text.replace(" ", SPACE_MARK).replace("\t", TAB_MARK).replace("\r", CR_MARK).replace("\n", newline)


def token_label(token: bytes, *, show_whitespace: bool = True) -> str:
    """A one-line label for a token: its text (whitespace made visible) or, if not valid UTF-8, its hex bytes.

    >>> token_label(b"\\n\\n"), token_label(b"\\xe4\\xbd", show_whitespace=False)
    ('↵↵', '⟨e4 bd⟩')
    """
    text = decode_whole(token)
    if text is None:
        return f"⟨{hex_bytes(token)}⟩"
    text = control_pictures(text)
    return visible_whitespace(text) if show_whitespace else text


@dataclass(frozen=True)
class TokenView:
    """One token as shown: its id, its bytes, and a one-line label (see :func:`token_label`).

    ``part_of`` is set on a token that holds only part of a character: ``(position, characters)`` of the character
    (or neighbouring characters) its bytes belong to, the same for every piece of it, so they can be drawn together.

    >>> TokenView.of(995, b" world")
    TokenView(id=995, token=b' world', label='·world', part_of=None)
    """

    id: int
    token: bytes
    label: str
    part_of: tuple[int, str] | None = None

    @classmethod
    def of(cls, token_id: int, token: bytes) -> TokenView:
        return cls(token_id, token, token_label(token))


def mixed_label(token: bytes) -> str:
    """A byte piece as text where its bytes form whole characters and as hex where they do not.

    Used under a split character, where a token such as GPT-2's ``b' \\xf0\\x9f'`` (a space and half an emoji) reads
    best as the space mark followed by the two bytes.

    >>> mixed_label(b" \\xf0\\x9f"), mixed_label(b"\\x8d"), mixed_label(b"ab")
    ('· f0 9f', '8d', 'ab')
    """
    whole = decode_whole(token)
    if whole is not None:
        return visible_whitespace(control_pictures(whole))
    parts: list[str] = []
    i = 0
    while i < len(token):
        for n in (1, 2, 3, 4):  # the first length that decodes is the character's own (UTF-8 is prefix-free)
            ch = decode_whole(token[i:i + n])
            if ch is not None:
                parts.append(visible_whitespace(control_pictures(ch)))
                i += n
                break
        else:
            parts.append(f"{token[i]:02x}")
            i += 1
    # Separate hex from text so that 'f0' the byte never reads as the letters f and 0.
    out = parts[0]
    for prev, cur in pairwise(parts):
        out += " " + cur if _is_hex(prev) or _is_hex(cur) else cur
    return out


def _is_hex(part: str) -> bool:
    return len(part) == 2 and all(c in "0123456789abcdef" for c in part)
