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

import unicodedata
from dataclasses import dataclass
from itertools import pairwise

import regex

# The marks drawn for whitespace; a newline keeps a real line break after its mark where the caller asks for it.
SPACE_MARK = "·"
TAB_MARK = "→"
NEWLINE_MARK = "↵"
CR_MARK = "␍"
_CONTROL_PICTURES = {c: chr(0x2400 + c) for c in range(32) if chr(c) not in "\t\n\r"} | {0x7F: "␡"}


#: Short names of the characters that draw nothing on their own (zero-width, format and bidi controls, separators).
INVISIBLE_NAMES: dict[int, str] = {
    0x00AD: "SHY", 0x034F: "CGJ", 0x061C: "ALM", 0x115F: "HF", 0x1160: "HJF", 0x180E: "MVS", 0x200B: "ZWSP",
    0x200C: "ZWNJ", 0x200D: "ZWJ", 0x200E: "LRM", 0x200F: "RLM", 0x2028: "LSEP", 0x2029: "PSEP", 0x202A: "LRE",
    0x202B: "RLE", 0x202C: "PDF", 0x202D: "LRO", 0x202E: "RLO", 0x2060: "WJ", 0x2061: "FA", 0x2062: "ITIMES",
    0x2063: "ISEP", 0x2064: "IPLUS", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI", 0x3164: "HF",
    0xFEFF: "BOM", 0xFFA0: "HWHF", 0xE0001: "LANG TAG", 0xE007F: "CANCEL TAG",
}
# Characters that may draw nothing: format (Cf) and C1 control characters, line and paragraph separators, combining
# marks (Mn, Me: variation selectors among them) and the Hangul fillers, which are letters that draw blank.
_MAYBE_INVISIBLE = regex.compile(r"[\p{Cf}\x80-\x9f\p{Zl}\p{Zp}\p{Mn}\p{Me}\u115f\u1160\u3164\uffa0]")
# Those that change the character before them (a variation selector makes ❤ an emoji, tags spell a flag's region, a
# combining mark accents a letter): drawn as the text they are when that character is in the same token. A joiner
# does so only after an emoji (👩 ZWJ 💻 draw one glyph); between letters it draws nothing.
_ATTACHING = regex.compile(r"[\p{Mn}\p{Me}\U000e0020-\U000e007f]")
_JOINS = regex.compile(r"\p{Extended_Pictographic}")


def invisible_label(ch: str) -> str:
    """What stands for a character that draws nothing: its short name, ``VS16`` for a variation selector, the tag
    letter for a tag character, a lone combining mark on a dotted circle, else ``U+XXXX``.

    >>> invisible_label("\u200d"), invisible_label("\ufe0f"), invisible_label("\U000e0067"), invisible_label("\u0301")
    ('ZWJ', 'VS16', 'TAG g', '◌́')
    """
    cp = ord(ch)
    if cp in INVISIBLE_NAMES:
        return INVISIBLE_NAMES[cp]
    if 0xFE00 <= cp <= 0xFE0F:
        return f"VS{cp - 0xFE00 + 1}"
    if 0xE0100 <= cp <= 0xE01EF:
        return f"VS{cp - 0xE0100 + 17}"
    if 0xE0020 <= cp <= 0xE007E:
        return f"TAG {chr(cp - 0xE0000)}"
    if unicodedata.category(ch) in ("Mn", "Me") and not 0x180B <= cp <= 0x180F:
        return "\u25cc" + ch
    return f"U+{cp:04X}"


def invisible_runs(text: str) -> list[tuple[str, str | None]]:
    """``text`` cut into runs drawn as they are, ``(run, None)``, and characters that would draw nothing there,
    ``(char, label)`` (see :func:`invisible_label`), so that a view can draw those as a visible chip.

    A combining mark, variation selector or tag character after a visible character of the same text (and a joiner
    after an emoji) is drawn as it is: it changes that character. At the start, after whitespace or after a labelled
    character it would draw nothing (or draw on the wrong box) and gets a label. Format characters such as ZWSP,
    the soft hyphen, BOM and bidi controls always do.

    >>> invisible_runs("a\u200bb"), invisible_runs("\u2764\ufe0f"), invisible_runs("\ufe0f")
    ([('a', None), ('\u200b', 'ZWSP'), ('b', None)], [('❤️', None)], [('\ufe0f', 'VS16')])
    """
    if _MAYBE_INVISIBLE.search(text) is None:
        return [(text, None)] if text else []
    out: list[tuple[str, str | None]] = []
    run: list[str] = []
    base = ""  # the visible character the ones after it attach to, "" where there is none
    for ch in text:
        if _MAYBE_INVISIBLE.match(ch) is None:
            run.append(ch)
            base = "" if ch.isspace() else ch
            continue
        if base and (_ATTACHING.match(ch) is not None or (ch == "\u200d" and _JOINS.match(base) is not None)):
            run.append(ch)
            continue
        if run:
            out.append(("".join(run), None))
            run = []
        out.append((ch, invisible_label(ch)))
        base = ""
    if run:
        out.append(("".join(run), None))
    return out


def name_invisibles(text: str) -> str:
    """``text`` with each character that would draw nothing written as its label in angle brackets (a lone
    combining mark on its dotted circle), for tables and one-line labels.

    >>> name_invisibles("a\u200db"), name_invisibles("\u0301")
    ('a⟨ZWJ⟩b', '◌́')
    """
    return "".join(run if label is None else label if label.startswith("\u25cc") else f"⟨{label}⟩"
                   for run, label in invisible_runs(text))


def code_points(text: str) -> str:
    """The code points of ``text``, e.g. for a grapheme cluster's hover card.

    >>> code_points("👩\u200d💻")
    'U+1F469 U+200D U+1F4BB'
    """
    return " ".join(f"U+{ord(c):04X}" for c in text)


def char_names(text: str, *, limit: int = 6) -> str:
    """Code points with their Unicode names, for a card of a token that holds characters that draw nothing.

    >>> char_names("\u200b")
    'U+200B ZERO WIDTH SPACE'
    """
    out = [f"U+{ord(c):04X} {unicodedata.name(c, '(no name)')}" for c in text[:limit]]
    return ", ".join(out) + (f", … ({len(text) - limit} more)" if len(text) > limit else "")


def has_invisible(text: str) -> bool:
    """Whether some character of ``text`` would draw nothing on its own (see :func:`invisible_runs`).

    >>> has_invisible("a\u00adb"), has_invisible("café")
    (True, False)
    """
    return any(label is not None for _, label in invisible_runs(text))


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
    """A one-line label for a token: its text (whitespace made visible, a character that draws nothing named, as
    in :func:`name_invisibles`) or, if not valid UTF-8, its hex bytes.

    >>> token_label(b"\\n\\n"), token_label(b"\\xe4\\xbd", show_whitespace=False)
    ('↵↵', '⟨e4 bd⟩')
    """
    text = decode_whole(token)
    if text is None:
        return f"⟨{hex_bytes(token)}⟩"
    text = control_pictures(name_invisibles(text))
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
        return visible_whitespace(control_pictures(name_invisibles(whole)))
    parts: list[str] = []
    i = 0
    while i < len(token):
        for n in (1, 2, 3, 4):  # the first length that decodes is the character's own (UTF-8 is prefix-free)
            ch = decode_whole(token[i:i + n])
            if ch is not None:
                parts.append(visible_whitespace(control_pictures(name_invisibles(ch))))
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
