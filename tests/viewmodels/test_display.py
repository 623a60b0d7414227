"""Token labels: never a replacement character, whitespace visible, hex that reads back as the bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tokviz.viewmodels.display import (
    TokenView,
    control_pictures,
    decode_whole,
    hex_bytes,
    invisible_runs,
    mixed_label,
    name_invisibles,
    token_label,
    visible_whitespace,
)


@given(st.binary(max_size=12))
def test_labels_never_show_replacement_characters(b):
    for label in (token_label(b), mixed_label(b), token_label(b, show_whitespace=False)):
        assert "\ufffd" not in label or "\ufffd" in b.decode("utf-8", "ignore")


@given(st.binary(max_size=16))
def test_hex_reads_back(b):
    assert bytes.fromhex(hex_bytes(b)) == b


@given(st.text(max_size=30))
def test_whole_text_decodes_and_shows_its_text(s):
    b = s.encode("utf-8")
    assert decode_whole(b) == s
    assert token_label(b, show_whitespace=False) == control_pictures(name_invisibles(s))


def test_partial_bytes():
    assert decode_whole(b"\xf0\x9f") is None
    assert token_label(b"\xf0\x9f") == "⟨f0 9f⟩"
    assert mixed_label(b" \xf0\x9f") == "· f0 9f"
    assert mixed_label("é".encode() + b"\xe4") == "é e4"


def test_whitespace_and_controls():
    assert visible_whitespace(" \t\r\n") == "·→␍↵"
    assert visible_whitespace("a\nb", keep_newlines=True) == "a↵\nb"
    assert control_pictures("\x00\x07\x1f\x7f\t\n") == "␀␇␟␡\t\n"


def test_token_view():
    v = TokenView.of(5, b"a b")
    assert (v.id, v.token, v.label) == (5, b"a b", "a·b")


# Characters that draw nothing on their own: every one gets a label wherever it would draw nothing.
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u202a",
             "\u202e", "\u2066", "\u2069", "\ufe0f", "\ufe0e", "\U000e0067", "\U000e007f", "\u0301", "\u20e3",
             "\u0085", "\u2028", "\u3164", "\U000e0100"]


def test_every_invisible_character_alone_gets_a_label():
    for ch in INVISIBLE:
        runs = invisible_runs(ch)
        assert len(runs) == 1 and runs[0][1], (ch, runs)
        label = token_label(ch.encode())
        assert label.startswith("\u25cc") if ch in "\u0301\u20e3" else ch not in label, (ch, label)


def test_attached_characters_stay_text_after_what_they_change():
    # the variation selector makes the heart an emoji, the joiner joins two emoji, the accent sits on its letter,
    # the tags spell England's flag: drawn as they are
    england = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    for s in ["\u2764\ufe0f", "👩\u200d💻", "e\u0301", "1\ufe0f\u20e3", england]:
        assert invisible_runs(s) == [(s, None)], s
    # the same characters after whitespace, between letters or at the start draw nothing and are named
    assert invisible_runs(" \u0301") == [(" ", None), ("\u0301", "\u25cc\u0301")]
    assert name_invisibles("a\u200db") == "a⟨ZWJ⟩b"
    assert name_invisibles("\ufe0f\u20e3") == "⟨VS16⟩◌\u20e3"
    assert name_invisibles("x\u00ady\u202eabc") == "x⟨SHY⟩y⟨RLO⟩abc"


@given(st.text(max_size=30))
def test_runs_keep_every_character(s):
    assert "".join(run for run, _ in invisible_runs(s)) == s
