"""Sample texts: the lecture's example first, each sample with a purpose, lookups that explain a bad key."""

from __future__ import annotations

import pytest

from tokviz.viewmodels.samples import DEFAULT_SAMPLE, SAMPLES, get_sample


def test_lecture_example_is_the_default():
    assert next(iter(SAMPLES)) == DEFAULT_SAMPLE
    assert SAMPLES[DEFAULT_SAMPLE].text == "Hello, 🌍! 你好!"


def test_samples_cover_the_issue():
    texts = {k: s.text for k, s in SAMPLES.items()}
    assert texts["repeat"] == "hello hello"
    assert any(c.isdigit() for c in texts["numbers"])
    assert "def " in texts["code"] and "\n    " in texts["code"]
    scripts = {"Latin": "ö", "Cyrillic": "ж", "Greek": "ψ", "Han": "玻", "Hangul": "다", "Arabic": "ع"}
    assert all(ch in texts["languages"] for ch in scripts.values())
    for s in SAMPLES.values():
        assert s.key and s.label and s.text and s.shows
        # one line, saying what to look for
        assert "\n" not in s.shows and len(s.shows) <= 110 and s.shows.split()[0] in ("Look", "Turn"), s.shows
    assert "\u200d" in texts["emoji"] and "\u200b" in texts["emoji"]  # a joiner, and a character that draws nothing


def test_unknown_sample():
    assert get_sample("code") is SAMPLES["code"]
    with pytest.raises(ValueError, match="choose one of: lecture"):
        get_sample("nope")
