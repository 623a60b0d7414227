"""Escaping for Markdown: every markup character is escaped, and removing the escapes gives the text back."""

from __future__ import annotations

import re

from tokviz.viewmodels.markdown import escape_markdown

HOSTILE = "**bold** _it_ `code` [link](http://x) $x^2$ :smile: <b>hi</b> # h1\n- item | a | b ~~s~~ C:\\dir\\f.json"


def test_no_markup_character_is_left_bare():
    out = escape_markdown(HOSTILE)
    bare = re.sub(r"\\.", "", out.replace("  \n", "\n"))  # drop every escaped pair
    assert not set(bare) & set("\\`*_{}[]()#+-.!|<>~$:="), bare


def test_round_trip_and_hard_line_breaks():
    out = escape_markdown(HOSTILE)
    assert "  \n" in out
    assert re.sub(r"\\(.)", r"\1", out.replace("  \n", "\n").replace("\u2060", "")) == HOSTILE
    assert escape_markdown("plain words") == "plain words"


def test_addresses_are_not_linked():
    # GitHub-flavoured Markdown links these after escapes are resolved (Streamlit drew them as <a>, a browser probe
    # showed): a zero-width word joiner inside each trigger stops it, and is the only change.
    for text in ("http://127.0.0.1:9/a", "https://x.org", "HTTPS://X.ORG", "www.example.com", "mail@example.com",
                 "mailto:a", "ftp://f", "xmpp:x"):
        out = escape_markdown(text)
        assert out.count("\u2060") == 1, out
        assert re.sub(r"\\(.)", r"\1", out.replace("\u2060", "")) == text
