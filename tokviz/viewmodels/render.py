"""Tokenizations drawn as HTML: pure functions from an :class:`~tokviz.core.encoding.Encoding` to markup strings.

Every token is a ``<span class="tok" data-token-id=".." data-tokenizer="..">`` holding its text (``.tv-text``) and a
hover card (``.tv-card``: index, id, bytes in hex, repr) shown by CSS alone, so the markup works wherever HTML is
shown and tests can read it. Tokens that hold only part of a character are drawn as one group under that character
(``.tv-group``), each byte piece still its own token span: a split emoji is never printed as "�". Every piece of
token text, and every name, goes through :func:`html.escape`, so hostile input shows as text.

The styles live in ``tokviz.css`` (:data:`CSS`), to be injected once per page (:func:`style_tag`).

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> html_ = render_tokens(ByteTokenizer().encode_with_offsets("hi"), "hi", tokenizer="byte")
    >>> html_.count('class="tok '), 'data-token-id="104"' in html_
    (2, True)
"""

from __future__ import annotations

import html
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal, NamedTuple

from tokviz.core.encoding import Encoding
from tokviz.viewmodels.display import (
    TokenView,
    char_names,
    code_points,
    control_pictures,
    decode_whole,
    has_invisible,
    hex_bytes,
    invisible_runs,
    mixed_label,
    token_label,
    visible_whitespace,
)
from tokviz.viewmodels.family_views import FamilyDescriber
from tokviz.viewmodels.graphemes import grapheme_groups
from tokviz.viewmodels.summary import TokenCounts

ColorBy = Literal["position", "id"]
COLOR_MODES: tuple[str, ...] = ("position", "id")

#: Light pastel backgrounds (Tailwind's 200 shades), ordered so that neighbours differ in hue. With the dark text
#: colour every pair has a contrast ratio above 12:1 (WCAG AAA asks for 7:1).
PALETTE: tuple[str, ...] = (
    "#bfdbfe", "#fde68a", "#fbcfe8", "#bbf7d0", "#ddd6fe", "#fed7aa",
    "#a5f3fc", "#fecdd3", "#d9f99d", "#c7d2fe", "#f5d0fe", "#99f6e4",
)
TEXT_COLOR = "#111827"
#: Above this many characters the token area scrolls instead of growing the page.
SCROLL_AFTER_CHARS = 3000
#: The bar under a token that changed from the previous vocabulary size (orange: apart from every palette colour).
CHANGED_COLOR = "#ea580c"

#: The styles of every view's markup, from ``tokviz.css`` beside this module (package data). The palette and colour
#: constants above are written into it; a test checks that they agree.
CSS = (resources.files("tokviz.viewmodels") / "tokviz.css").read_text(encoding="utf-8")


def style_tag() -> str:
    """The ``<style>`` element with :data:`CSS`, to put on the page once."""
    return f"<style>{CSS}</style>"


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How tokens are drawn: colours by position or by id, visible whitespace, the pre-tokenizer's chunks, and the
    number of the first token in the hover cards (a page of a long text starts mid-text)."""

    color_by: ColorBy = "position"
    show_whitespace: bool = False
    show_chunks: bool = False
    first_index: int = 0

    def __post_init__(self) -> None:
        if self.color_by not in COLOR_MODES:
            raise ValueError(f"color_by must be one of {', '.join(COLOR_MODES)}, got {self.color_by!r}.")


def id_color(token_id: int) -> int:
    """Palette index for an id: a stable multiplicative hash (the same id gets the same colour in every process).

    >>> id_color(995) == id_color(995), 0 <= id_color(12345) < len(PALETTE)
    (True, True)
    """
    # Knuth's multiplicative hash; the high bits of the 32-bit product mix all bits of the id.
    return (((token_id * 2654435761) & 0xFFFFFFFF) >> 16) % len(PALETTE)


def color_index(*, position: int, token_id: int, color_by: ColorBy) -> int:
    """Palette index of a token: cycling with its position, or fixed by its id."""
    return position % len(PALETTE) if color_by == "position" else id_color(token_id)


def _esc(text: str) -> str:
    """Escape for an attribute value or text: ``& < > " '``."""
    return html.escape(text, quote=True)


def _esc_text(text: str) -> str:
    """Escape for element text, where quotes are harmless: ``& < >`` (shorter markup for big texts)."""
    return html.escape(text, quote=False)


def _shown(text: str, *, show_whitespace: bool) -> str:
    # Control characters become pictures; in whitespace mode marks are drawn, and a newline keeps its line break.
    text = control_pictures(text)
    return visible_whitespace(text, keep_newlines=True) if show_whitespace else text


def _text_html(text: str, *, show_whitespace: bool) -> str:
    """Escaped token text; a character that would draw nothing there (ZWJ, ZWSP, U+FE0F alone, a soft hyphen, a
    bidi control, a lone combining mark) becomes a chip with its name, so that its token has a box to see and hover.

    >>> _text_html("a\u200bb", show_whitespace=False)
    'a<span class="tv-inv">ZWSP</span>b'
    """
    return "".join(
        _esc_text(_shown(run, show_whitespace=show_whitespace)) if label is None
        else f'<span class="tv-inv">{_esc_text(label)}</span>'
        for run, label in invisible_runs(text))


def _piece_html(token: bytes) -> str:
    # A token under a grapheme: its text (invisible characters as chips) if whole, else its bytes mixed with text.
    whole = decode_whole(token)
    return _text_html(whole, show_whitespace=True) if whole is not None else _esc_text(mixed_label(token))


def _card(rows: Sequence[tuple[str, str]]) -> str:
    # One text node with a line per row (``label value``): a long text draws tens of thousands of cards, and one
    # node per card instead of two per row keeps the page quick. ``hidden`` keeps the card out of sight until the
    # stylesheet's hover rule shows it, even where the markup is drawn before (or without) the stylesheet.
    lines = "\n".join(f"{k} {v}" for k, v in rows)
    return f'<span class="tv-card" hidden>{_esc_text(lines)}</span>'


def _token_span(
    enc: Encoding, i: int, *, tokenizer: str, options: RenderOptions, inner: str, classes: str,
    extra: Sequence[tuple[str, str]],
) -> str:
    tid = enc.ids[i]
    token = enc.tokens[i]
    color = color_index(position=i, token_id=tid, color_by=options.color_by)
    rows = [("id", f"{tid}  (token #{i + options.first_index})"), ("bytes", hex_bytes(token) or "(none)"),
            ("repr", repr(token)), *extra]
    if b"\n" in token:
        classes += " tv-nl"  # holds a line break: it must flow with the text, not stand as one block
    return (
        f'<span class="tok tv-c{color}{classes}" data-token-id="{tid}" data-tokenizer="{_esc(tokenizer)}" '
        f'data-char="{enc.char_spans[i][0]}">'
        f'<span class="tv-text">{inner}</span>{_card(rows)}</span>'
    )


class _Changed(NamedTuple):
    """Token indices marked as changed, and the card line that says what the mark means in this view."""

    indices: Collection[int] = frozenset()
    row: tuple[str, str] | None = None


_NOTHING_CHANGED = _Changed()


def _group_html(
    enc: Encoding, group: list[int], text: str, *, tokenizer: str, options: RenderOptions, unknown_id: int | None,
    marks: _Changed = _NOTHING_CHANGED, describe: FamilyDescriber | None = None,
) -> str:
    changed = marks.indices
    row = marks.row or _CHANGED_ROW
    first = group[0]
    if len(group) == 1 and not enc.partial[first]:
        token_text = enc.text_of(first) or ""
        classes = _CHANGED_CLASS if first in changed else ""
        extra: list[tuple[str, str]] = [row] if first in changed else []
        if describe is not None:
            return _family_span(enc, first, text, describe, tokenizer=tokenizer, options=options, classes=classes,
                                extra=extra)
        if enc.special and enc.special[first]:
            classes += " tv-special"
            extra.append(("kind", "special token"))
        elif unknown_id is not None and enc.ids[first] == unknown_id:
            classes += " tv-unk"
            extra.append(("kind", "unknown word: its text is lost"))
        if has_invisible(token_text):
            extra.append(("chars", char_names(token_text)))
        inner = _text_html(token_text, show_whitespace=options.show_whitespace)
        return _token_span(enc, first, tokenizer=tokenizer, options=options, inner=inner, classes=classes, extra=extra)
    # Tokens of one grapheme (byte pieces of one character, or 👩 | ZWJ | 💻): the grapheme once, its tokens beneath.
    start = min(enc.char_spans[i][0] for i in group)
    end = max(enc.char_spans[i][1] for i in group)
    chars = text[start:end]
    extra = [_part_of_row(chars), ("code points", code_points(chars))]
    parts = "".join(
        _token_span(enc, i, tokenizer=tokenizer, options=options,
                    inner=_piece_html(enc.tokens[i]),
                    classes=" tv-part" + (_CHANGED_CLASS if i in changed else ""),
                    # another family's byte-fallback piece: its rule and its name (<0xF0>) in its card
                    extra=extra + (describe.note(enc, i, text).card_rows() if describe is not None else [])
                    + ([row] if i in changed else []))
        for i in group
    )
    return _group_span(chars, parts)


def _family_span(enc: Encoding, i: int, text: str, describe: FamilyDescriber, *, tokenizer: str,
                 options: RenderOptions, classes: str, extra: list[tuple[str, str]]) -> str:
    # Another family's token: the user's own characters, with the piece's mark (▁, ##) drawn apart, not as text.
    note = describe.note(enc, i, text)
    mark = f'<span class="tv-mark-piece">{_esc_text(note.mark)}</span>' if note.mark else ""
    if note.unknown:
        classes += " tv-unk"
    elif enc.special and enc.special[i]:
        classes += " tv-special"
    inner = mark + _text_html(note.text, show_whitespace=options.show_whitespace)
    return _token_span(enc, i, tokenizer=tokenizer, options=options, inner=inner, classes=classes,
                       extra=[*note.card_rows(), *extra])


def _gap(chars: str, options: RenderOptions) -> str:
    # Characters no token holds (dropped by the tokenizer): plain text, so the user's words stay apart.
    shown = _text_html(chars, show_whitespace=options.show_whitespace)
    return f'<span class="tv-gap" title="in no token">{shown}</span>'


def _part_of_row(chars: str) -> tuple[str, str]:
    """The hover card's row saying which character(s) a byte piece belongs to."""
    return "part of", f"{chars!r} = {hex_bytes(chars.encode('utf-8'))}"


def _group_span(chars: str, parts: str) -> str:
    """The byte pieces of ``chars`` (already drawn as ``parts``) under the character itself."""
    glyph = _text_html(chars, show_whitespace=True)
    return (
        f'<span class="tv-group" data-chars="{_esc(chars)}"><span class="tv-glyph">{glyph}</span>'
        f'<span class="tv-parts">{parts}</span></span>'
    )


#: A long page is drawn in blocks of whole lines of at least this many characters: the browser lays out and paints
#: only the blocks near the screen (``content-visibility:auto``), so a keystroke redraws what is seen, not every line.
LINE_BLOCK_CHARS = 400
#: Height of a drawn line (the token area's 15 px font at line-height 2.1) and the characters one holds in a
#: half-width panel: a block not yet drawn reserves about its height.
_LINE_PX, _LINE_CHARS = 31.5, 52


def _line_blocks(parts: list[str], ends: list[int], text: str) -> list[str]:
    """``parts`` (one per group, ending at character ``ends[i]``) cut after line breaks into ``.tv-lines`` blocks of
    at least :data:`LINE_BLOCK_CHARS` characters; unchanged when the text is too short to cut.

    >>> _line_blocks(["<a>", "<b>"], [2, 4], "a\\nb\\n")
    ['<a>', '<b>']
    >>> blocks = _line_blocks(["<a>", "<b>"], [401, 403], "a" * 400 + "\\nb\\n")
    >>> [b.count("tv-lines") for b in blocks], blocks[0].endswith("<a></div>")
    ([1, 1], True)
    """
    out: list[str] = []
    start = begin = 0
    for i, end in enumerate(ends):
        if end - begin >= LINE_BLOCK_CHARS and text[end - 1 : end] == "\n" and i + 1 < len(ends):
            out.append(_line_block(parts[start : i + 1], text[begin:end]))
            start, begin = i + 1, end
    if not out:
        return parts
    out.append(_line_block(parts[start:], text[begin:]))
    return out


def _line_block(parts: list[str], text: str) -> str:
    lines = sum(max(1, -(-len(line) // _LINE_CHARS)) for line in text.rstrip("\n").split("\n"))
    size = round(lines * _LINE_PX)
    return f'<div class="tv-lines" style="contain-intrinsic-size:auto {size}px">{"".join(parts)}</div>'


def render_tokens(
    encoding: Encoding,
    text: str,
    *,
    tokenizer: str,
    options: RenderOptions | None = None,
    unknown_id: int | None = None,
    changed: Collection[int] = (),
    changed_note: str | None = None,
    describe: FamilyDescriber | None = None,
) -> str:
    """The tokens of ``text`` (encoded as ``encoding``) as coloured spans in one ``<div class="tv-tokens">``.

    ``unknown_id`` marks a word tokenizer's ``<unk>`` tokens. With ``options.show_chunks`` each pre-tokenizer piece
    is wrapped in a ``.tv-chunk`` span drawn as a bracket under its tokens. ``changed`` holds token indices to mark
    as changed (class ``tv-changed``, a bar under the token, a line in its card), e.g. the tokens that are new at
    this vocabulary size (:func:`tokviz.analysis.sweep.sizes_side_by_side`); :func:`render_changed_legend` explains the
    mark.
    ``changed_note`` replaces that card line's text where the mark means something else (e.g. "cut differently" in
    a diff of two tokenizers). ``describe`` (:func:`tokviz.viewmodels.family_views.describer`) draws another
    family's tokens over the user's characters with their ``▁``/``##`` mark apart, and names the rule in each card.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> out = render_tokens(ByteTokenizer().encode_with_offsets("<b>"), "<b>", tokenizer="byte")
    >>> "<b>" in out, "&lt;" in out
    (False, True)
    >>> render_tokens(ByteTokenizer().encode_with_offsets("ab"), "ab", tokenizer="b", changed={1}).count("tv-changed")
    1
    """
    options = options or RenderOptions()
    # A set, so the per-token membership test stays O(1) whatever collection the caller passes.
    marks = _Changed(frozenset(changed), None if changed_note is None else (_CHANGED_ROW[0], changed_note))
    groups = grapheme_groups(encoding, text)
    pieces = encoding.pieces if options.show_chunks else []
    out: list[str] = []
    piece_i = -1
    covered = 0  # another family may drop characters (WordPiece: spaces); they are drawn between its tokens
    for group in groups:
        html_ = _group_html(encoding, group, text, tokenizer=tokenizer, options=options, unknown_id=unknown_id,
                            marks=marks, describe=describe)
        if describe is not None:
            start = min(encoding.char_spans[i][0] for i in group)
            if start > covered:
                html_ = _gap(text[covered:start], options) + html_
            covered = max(covered, *(encoding.char_spans[i][1] for i in group))
        if pieces:
            start = encoding.char_spans[group[0]][0]
            # Advance to the piece holding this group's first character; open a new chunk when it changes.
            j = max(piece_i, 0)
            while j < len(pieces) - 1 and pieces[j].end <= start:
                j += 1
            if j != piece_i:
                if piece_i >= 0:
                    out.append("</span>")
                piece = pieces[j]
                special = " tv-special-chunk" if piece.special else ""
                out.append(f'<span class="tv-chunk{special}" data-chunk="{j}">')
                piece_i = j
        out.append(html_)
    if describe is not None and covered < len(text):
        out.append(_gap(text[covered:], options))
    if piece_i >= 0:
        out.append("</span>")
    elif not pieces:
        out = _line_blocks(out, [encoding.char_spans[g[-1]][1] for g in groups], text)
    classes = "tv-tokens" + (" tv-chunks" if options.show_chunks else "") + (
        " tv-long" if len(text) > SCROLL_AFTER_CHARS else "")
    return f'<div class="{classes}" data-tokenizer="{_esc(tokenizer)}">{"".join(out)}</div>'


def render_header(
    name: str, counts: TokenCounts, *, vocab_size: int | None = None, extra: Sequence[tuple[str, str]] = ()
) -> str:
    """The name of a tokenizer with its vocabulary size and the counts (tokens, characters, bytes, bytes/token).

    ``extra`` adds ``(value, label)`` counts after those, e.g. ``("12", "changed")``.

    >>> from tokviz.viewmodels.summary import TokenCounts
    >>> "1.50" in render_header("x", TokenCounts(tokens=2, characters=3, bytes=3))
    True
    """
    vocab = f'<span class="tv-vocab">vocab {vocab_size:,}</span>' if vocab_size is not None else ""
    stats = [
        (f"{counts.tokens:,}", "tokens" if counts.tokens != 1 else "token"),
        (f"{counts.characters:,}", "chars"),
        (f"{counts.bytes:,}", "bytes"),
        (f"{counts.bytes_per_token:.2f}", "bytes/token"),
        *extra,
    ]
    # Spaces around the separators let the line wrap between two counts in a narrow column.
    chips = ' <span class="tv-sep">·</span> '.join(
        f'<span class="tv-stat"><b>{_esc_text(v)}</b> {_esc_text(k)}</span>' for v, k in stats)
    return (
        f'<div class="tv-head" data-tokenizer="{_esc(name)}"><span class="tv-name">{_esc(name)}</span>{vocab}</div>'
        f'<div class="tv-stats" data-tokenizer="{_esc(name)}">{chips}</div>'
    )


_CHANGED_CLASS = " tv-changed"
_CHANGED_ROW = ("changed", "new at this size: not a token of the size before")


def render_changed_legend(
    text: str = "changed from the size before: a token that was not there at the smaller size",
) -> str:
    """One line explaining the mark :func:`render_tokens` draws under ``changed`` tokens.

    >>> 'class="tv-swatch"' in render_changed_legend()
    True
    """
    return f'<div class="tv-legend"><span class="tv-swatch"></span>{_esc_text(text)}</div>'


def render_chips(tokens: Sequence[TokenView], *, tokenizer: str) -> str:
    """A compact row of token chips (whitespace always visible), e.g. for the observation cards.

    >>> from tokviz.viewmodels.display import TokenView
    >>> 'data-token-id="995"' in render_chips([TokenView.of(995, b" world")], tokenizer="gpt2")
    True
    """
    out: list[str] = []
    i = 0
    while i < len(tokens):
        # Byte pieces of one character go in one group under that character, as in render_tokens.
        j = i + 1
        while tokens[i].part_of is not None and j < len(tokens) and tokens[j].part_of == tokens[i].part_of:
            j += 1
        chips = "".join(_chip(k, t, tokenizer=tokenizer) for k, t in enumerate(tokens[i:j], start=i))
        part_of = tokens[i].part_of
        out.append(chips if part_of is None else _group_span(part_of[1], chips))
        i = j
    return f'<div class="tv-chips" data-tokenizer="{_esc(tokenizer)}">{"".join(out)}</div>'


def _chip(i: int, t: TokenView, *, tokenizer: str) -> str:
    rows = [("id", str(t.id)), ("bytes", hex_bytes(t.token) or "(none)"), ("repr", repr(t.token))]
    if t.part_of is not None:
        rows.append(_part_of_row(t.part_of[1]))
    return (
        f'<span class="tok tv-c{i % len(PALETTE)}" data-token-id="{t.id}" data-tokenizer="{_esc(tokenizer)}">'
        f'<span class="tv-text">{_esc(t.label)}</span>{_card(rows)}</span>'
    )


Mark = Literal["yes", "no", "partly", "lost"]
_MARKS = {"yes": "✓", "no": "✗", "partly": "◐", "lost": "!"}


def render_observation(name: str, tokens: Sequence[TokenView], verdict: str, *, mark: Mark) -> str:
    """One tokenizer's row in an observation card: name, token chips, and the verdict with a mark.

    ``mark`` says whether the lecture's observation shows ("yes"), does not ("no"), shows only in part ("partly"),
    or text is lost ("lost").
    """
    if mark not in _MARKS:
        raise ValueError(f"mark must be one of {', '.join(_MARKS)}, got {mark!r}.")
    return (
        f'<div class="tv-obs" data-tokenizer="{_esc(name)}"><div class="tv-name">{_esc(name)}</div>'
        f"{render_chips(tokens, tokenizer=name)}"
        f'<div class="tv-verdict"><span class="tv-mark tv-{mark}">{_MARKS[mark]}</span>{_esc(verdict)}</div></div>'
    )


def render_pattern_chunks(label: str, chunks: Sequence[str]) -> str:
    """A pre-tokenizer's pieces of a text as brackets, e.g. the gpt2 and gpt4 patterns on '1234567890'.

    >>> render_pattern_chunks("gpt4", ["123", "4"]).count('class="tv-chunk"')
    2
    """
    inner = "".join(f'<span class="tv-chunk">{_esc(visible_whitespace(control_pictures(c)))}</span>' for c in chunks)
    return f'<div class="tv-pchunks"><span class="tv-k">{_esc(label)}</span> {inner}</div>'


def token_rows(encoding: Encoding, text: str) -> list[dict[str, object]]:
    """One record per token for a table: index, id, readable token, hex bytes, character span, and the
    character(s) a partial token belongs to.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> token_rows(ByteTokenizer().encode_with_offsets("é"), "é")[0]["part of"]
    'é'
    """
    rows: list[dict[str, object]] = []
    for i, (tid, tok, (s, e), part) in enumerate(
        zip(encoding.ids, encoding.tokens, encoding.char_spans, encoding.partial)
    ):
        rows.append({
            "#": i,
            "id": tid,
            "token": token_label(tok),
            "bytes": hex_bytes(tok),
            "chars": f"{s}–{e}",
            "part of": text[s:e] if part else "",
        })
    return rows


def preview_length(text: str, *, limit: int) -> int:
    """How much of ``text`` to draw: all of it up to ``limit`` characters, else a cut at or before ``limit``.

    The cut falls before a space that follows a non-space character: none of the named pre-tokenizer patterns (nor
    the word baseline's) joins those two, so the tokens before the cut are those of the whole text. With no such
    place in the second half of the window, the cut is at ``limit``.

    >>> preview_length("aaaa bbbb cccc", limit=11)
    9
    """
    if limit < 1:
        raise ValueError(f"limit must be a positive number of characters, got {limit}.")
    if len(text) <= limit:
        return len(text)
    i = text.rfind(" ", limit // 2, limit + 1)
    while i > limit // 2:
        if not text[i - 1].isspace():
            return i
        i = text.rfind(" ", limit // 2, i)
    return limit
