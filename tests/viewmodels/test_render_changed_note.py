"""render_tokens' ``changed_note``: the card line of a marked token says what the mark means in that view."""

from __future__ import annotations

from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
from tokviz.viewmodels.render import render_tokens

DEFAULT_NOTE = "new at this size: not a token of the size before"


def test_note_replaces_the_card_line_of_marked_tokens_only() -> None:
    text = "ab🌍"
    enc = ByteTokenizer().encode_with_offsets(text)  # 'a', 'b', then the emoji's four byte pieces (a group)
    out = render_tokens(enc, text, tokenizer="byte", changed={0, 3}, changed_note="cut differently <here>")
    assert out.count("changed cut differently &lt;here&gt;") == 2  # a whole token and a byte piece, escaped
    assert DEFAULT_NOTE not in out and out.count("tv-changed") == 2


def test_without_a_note_the_output_is_unchanged() -> None:
    enc = CharacterTokenizer().encode_with_offsets("xy")
    plain = render_tokens(enc, "xy", tokenizer="c", changed={1})
    assert render_tokens(enc, "xy", tokenizer="c", changed={1}, changed_note=None) == plain
    assert plain.count(DEFAULT_NOTE) == 1
    assert "changed" not in render_tokens(enc, "xy", tokenizer="c", changed_note="unused")
