"""The regex budget: costly compiles refused (measured in a child, never in this process), cheap ones compiled at
once without a child, matches stopped with a message naming the pattern, and the bound never below the real cost."""

from __future__ import annotations

import subprocess
import time

import pytest
import regex

from tokviz.core import regex_budget
from tokviz.core.onig import onig_spans, onig_to_python
from tokviz.core.regex_budget import compile_bound, compile_budgeted, stopped_with_message
from tokviz.normalizers.components import Replace
from tokviz.pipelines.decoders import ReplaceDecoder
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.pre_tokenizers.splits import Split

# The two patterns of the report: minutes of compiling holding the GIL, and a MemoryError.
SLOW_COMPILE = r"(?:a{3000}){3000}|\S+|\s+"
HUGE_COMPILE = r"(?:a{65535}){65535}"
BACKTRACKS = r"(?:a|aa)+$"


@pytest.fixture
def quick_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regex_budget, "MATCH_SECONDS", 0.2)


@pytest.mark.slow  # 2.1 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("pattern", [SLOW_COMPILE, HUGE_COMPILE, r"(?:(?:a{100}){100}){100}"])
def test_a_costly_compile_is_refused_naming_the_pattern(pattern: str) -> None:
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"too costly to compile .*Lower counts") as info:
        compile_budgeted(pattern, what="Split pattern")
    assert repr(pattern)[:40] in str(info.value)
    assert time.monotonic() - start < regex_budget.COMPILE_WALL_SECONDS + 5


@pytest.mark.parametrize("pattern", [r"\p{N}{1,3}", r"[^\s]{1,100}", r"a{1,65535}", r"(?:a{1,3000}){1,3000}",
                                     r"\p{Han}{2}\{300}",
                                     r"'(?i:[sdmt]|ll|ve|re)|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"])
def test_real_patterns_compile_at_once_without_a_child(pattern: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cheap pattern started a child")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert compile_budgeted(pattern, what="Split pattern").pattern == pattern


def test_a_high_bound_that_compiles_cheaply_is_accepted() -> None:
    # Three counts multiply in the bound (27 million) but not in the compiler (900 copies): the child says so.
    assert compile_bound("a{300}b{300}c{300}") > regex_budget.FAST_UNITS
    assert compile_budgeted("a{300}b{300}c{300}", what="Split pattern").fullmatch("a" * 300 + "b" * 300 + "c" * 300)


@pytest.mark.parametrize("pattern", [r"(?:a{20}){30}", r"(?:(?:ab{7}){9}|c){11}", r"(?:a{2,9}){40,50}x{3}",
                                     r"[a-z]{40}(?:\d{3}-){25}"])
def test_the_bound_is_never_below_what_the_compiler_builds(pattern: str) -> None:
    assert compile_bound(pattern) >= pattern_size(pattern)


def pattern_size(pattern: str) -> int:
    """Copies the compiler makes: every atom times the product of the minimum counts around it (by expansion)."""
    expanded = regex.sub(r"(\((?:[^()]|\([^()]*\))*\)|\[[^\]]*\]|\\.|.)\{(\d+)(?:,\d*)?\}",
                         lambda m: m.group(1) * int(m.group(2)), pattern)
    while expanded != pattern:
        pattern, expanded = expanded, regex.sub(r"(\((?:[^()]|\([^()]*\))*\))\{(\d+)(?:,\d*)?\}",
                                                lambda m: m.group(1) * int(m.group(2)), expanded)
    return len(expanded)


def test_a_pattern_that_does_not_compile_is_named() -> None:
    with pytest.raises(ValueError, match=r"The Split pattern '\(a' does not compile"):
        compile_budgeted("(a", what="Split pattern")
    with pytest.raises(ValueError, match=r"does not compile .*check brackets"):
        compile_budgeted("(a{300}){300}(", what="Split pattern")  # refused by the child, which compiles it first


def test_deep_nesting_is_refused_before_compiling() -> None:
    with pytest.raises(ValueError, match=r"nests groups 500 deep"):
        compile_budgeted("(" * 500 + "a" + ")" * 500, what="Split pattern")


def test_the_budget_grows_with_the_text() -> None:
    assert regex_budget.match_budget(0) == regex_budget.MATCH_SECONDS
    assert regex_budget.match_budget(10_000_000) == regex_budget.MATCH_SECONDS + 10.0


def test_a_timeout_becomes_a_message_naming_the_pattern(quick_matches: None) -> None:
    with pytest.raises(ValueError, match=r"The Split pattern '\(\?:a\|aa\)\+\$' took over 0\.2 s on 41 characters"):
        with stopped_with_message(BACKTRACKS, what="Split pattern", length=41) as budget:
            regex.compile(BACKTRACKS).search("a" * 40 + "!", timeout=budget)


def test_onig_spans_stops_at_its_deadline() -> None:
    with pytest.raises(TimeoutError):
        onig_spans(regex.compile(BACKTRACKS), "a" * 40 + "!", timeout=0.1)
    with pytest.raises(TimeoutError):  # the walk after an empty match keeps the deadline too
        onig_spans(regex.compile(r"(?:b|bb)+$|(?=x)"), "x" + "b" * 40 + "!", timeout=0.1)


@pytest.mark.parametrize("make", [
    lambda: Split(BACKTRACKS).split("a" * 40 + "!"),
    lambda: Replace(BACKTRACKS, "x", is_regex=True).normalize_text("a" * 40 + "!"),
    lambda: Replace(BACKTRACKS, "x", is_regex=True).normalize("a" * 40 + "!"),
    lambda: ReplaceDecoder(BACKTRACKS, "x", is_regex=True).decode(["a", "a" * 40 + "!"]),
    lambda: PreTokenizer.create(r"(x|x)+y|.", timeout=0.2).findall("x" * 40),
], ids=["Split", "Replace normalizer", "Replace normalizer with offsets", "Replace decoder", "custom pre-tokenizer"])
@pytest.mark.slow  # 1.0 s measured: the full run has it, the quick loop does not
def test_every_user_regex_is_stopped_with_a_message(make: object, quick_matches: None) -> None:
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"took over .* characters and was stopped \(catastrophic backtracking\)"):
        make()  # type: ignore[operator]
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("make", [
    lambda: Split(SLOW_COMPILE),
    lambda: Replace(SLOW_COMPILE, "x", is_regex=True),
    lambda: ReplaceDecoder(SLOW_COMPILE, "x", is_regex=True),
    lambda: PreTokenizer.create(SLOW_COMPILE),
], ids=["Split", "Replace normalizer", "Replace decoder", "custom pre-tokenizer"])
@pytest.mark.slow  # 1.1 s measured: the full run has it, the quick loop does not
def test_every_user_regex_is_compiled_under_the_budget(make: object) -> None:
    with pytest.raises(ValueError, match=r"too costly to compile"):
        make()  # type: ignore[operator]


def test_a_decoder_regex_that_does_not_compile_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"The Replace decoder pattern '\[a' does not compile"):
        ReplaceDecoder("[a", "x", is_regex=True)


def test_reading_a_hostile_oniguruma_pattern_is_stopped(quick_matches: None) -> None:
    with pytest.raises(ValueError, match=r"while reading it as Oniguruma does.*was stopped"):
        onig_to_python("[" * 20_000 + "a]x{1}+")
    assert onig_to_python(r"\p{N}{1,3}+") == r"(?:\p{N}{1,3})+"
