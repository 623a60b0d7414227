"""Token labels: never a replacement character, whitespace visible, hex that reads back as the bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tokviz.viewmodels.display import (
    TokenView,
    control_pictures,
    decode_whole,
    hex_bytes,
    mixed_label,
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
    assert token_label(b, show_whitespace=False) == control_pictures(s)


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
