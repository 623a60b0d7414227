"""The note for a text box whose lone surrogates the page replaced: shown while the box holds that text only."""

from __future__ import annotations

import pytest

from tokviz.viewmodels.pasted import repaired_note, utf16_units


@pytest.mark.parametrize("text", ["", "abc", "a🙃b", "\U0001f469\u200d\U0001f4bb", "中文", "\ufffd"])
def test_utf16_units_counts_as_a_browser_does(text):
    assert utf16_units(text) == len(text.encode("utf-16-le")) // 2


def test_the_note_says_how_many_while_the_box_holds_that_text():
    text = "smile \ufffd and \ufffd end 🙃"
    report = {"key": "text", "count": 2, "units": utf16_units(text), "seq": 1}
    note = repaired_note(report, key="text", text=text)
    assert note is not None and note.startswith("2 lone surrogates") and "U+FFFD" in note
    one = "a\ufffd"
    assert repaired_note({"key": "text", "count": 1, "units": 2}, key="text", text=one).startswith("1 lone surrogate ")


@pytest.mark.parametrize("report, text", [
    (None, "a\ufffd"),
    ({"key": "cmp_text", "count": 1, "units": 2}, "a\ufffd"),  # another box's repair
    ({"key": "text", "count": 1, "units": 2}, "ab\ufffd"),  # edited since: another length
    ({"key": "text", "count": 2, "units": 2}, "\ufffdb"),  # the replacement characters are gone
    ({"key": "text", "count": 0, "units": 1}, "a"),
    ({"key": "text", "count": "1", "units": 2}, "a\ufffd"),  # not what the script sends
    ("text", "a\ufffd"),
])
def test_no_note_for_another_box_an_edited_text_or_a_malformed_report(report, text):
    assert repaired_note(report, key="text", text=text) is None
