"""Language cost: the built-in parallel text, user texts and TSVs, the premium table, its CSV and its chart."""

from __future__ import annotations

import csv
import io

import pytest

from tokviz import Tokenizer
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer
from tokviz.viewmodels.language_chart import language_cost_figure
from tokviz.viewmodels.languages import (
    COLUMNS,
    builtin_parallel_text,
    cost_rows,
    costs_csv,
    has_word_spaces,
    language_costs,
    parallel_from_texts,
    parse_parallel_tsv,
)


def test_builtin_text_covers_12_languages_over_8_scripts_and_says_what_it_is() -> None:
    par = builtin_parallel_text()
    assert len(par.languages) >= 12 and len({t.script for t in par.languages}) >= 8
    assert par.source == "written for tokviz; translations are approximate"
    assert par.reference == "English" and par.names[0] == "English"
    assert {t.name for t in par.languages if not t.spaces} == {"Thai", "Chinese", "Japanese"}
    for t in par.languages:
        assert t.text.strip() and t.code and t.script
        # The flag in the data agrees with what the script says, so user texts get the same treatment.
        assert has_word_spaces(t.name.lower() + "?", t.text) == t.spaces, t.name


def test_premium_bytes_per_token_and_fertility_by_hand() -> None:
    # Bytes: "ab cd" is 5 bytes -> 5 tokens, 2 words; "αβγ" is 6 bytes -> 6 tokens, 1 word.
    # premium 6 / 5 = 1.2; bytes per token 1.0 for both; fertility 5 / 2 = 2.5 and 6 / 1 = 6.0.
    par = parallel_from_texts({"English": "ab cd", "Greek": "αβγ"})
    en, el = language_costs([ByteTokenizer()], par)
    assert (en.n_tokens, en.premium, en.bytes_per_token, en.fertility, en.is_reference) == (5, 1.0, 1.0, 2.5, True)
    assert (el.n_tokens, el.premium, el.bytes_per_token, el.fertility, el.n_words) == (6, 1.2, 1.0, 6.0, 1)
    # Characters: 5 and 3 tokens: premium 3 / 5 = 0.6; bytes per token 6 / 3 = 2.0.
    _, el = language_costs([CharacterTokenizer()], par)
    assert (el.premium, el.bytes_per_token) == (0.6, 2.0)


def test_costs_on_real_tokenizers(gpt2_tokenizer: Tokenizer) -> None:
    par = builtin_parallel_text()
    costs = language_costs([gpt2_tokenizer], par)
    assert [c.language for c in costs] == par.names
    for c in costs:
        text = par.by_name(c.language).text
        assert c.n_tokens == len(gpt2_tokenizer.encode(text))
        assert c.premium == pytest.approx(c.n_tokens / costs[0].n_tokens)
    thai = next(c for c in costs if c.language == "Thai")
    assert "without spaces" in thai.note and costs[0].note == ""


def test_rows_and_csv() -> None:
    costs = language_costs([ByteTokenizer(), CharacterTokenizer()], builtin_parallel_text())
    rows = cost_rows(costs)
    assert len(rows) == 2 * len(builtin_parallel_text().languages)
    assert list(rows[0]) == [h for _, h in COLUMNS]
    parsed = list(csv.DictReader(io.StringIO(costs_csv(costs))))
    assert len(parsed) == len(rows)
    assert parsed[0]["Tokenizer"] == "byte" and parsed[0]["Premium (x reference)"] == "1.0"
    assert [r["Tokens"] for r in parsed] == [str(c.n_tokens) for c in costs]


def test_chart_groups_bars_by_tokenizer() -> None:
    costs = language_costs([ByteTokenizer(), CharacterTokenizer()], builtin_parallel_text())
    fig = language_cost_figure(costs, measure="fertility")
    assert fig.layout.barmode == "group" and [t.name for t in fig.data] == ["byte", "character"]
    assert list(fig.data[1].y) == [c.fertility for c in costs if c.tokenizer == "character"]
    hatched = [x for x, s in zip(fig.data[0].x, fig.data[0].marker.pattern.shape) if s]
    assert set(hatched) == {"Thai", "Chinese", "Japanese"}
    with pytest.raises(ValueError, match="measure must be one of premium"):
        language_cost_figure(costs, measure="speed")


def test_tsv_parsing() -> None:
    par = parse_parallel_tsv("English\tFrench\tThai\r\nHello.\tBonjour.\tสวัสดี\nBye.\tAu revoir.\tลาก่อน\n\n".encode())
    assert par.names == ["English", "French", "Thai"] and par.reference == "English"
    assert par.by_name("French").text == "Bonjour.\nAu revoir."
    assert [t.spaces for t in par.languages] == [True, True, False]
    assert parse_parallel_tsv("\ufeffA\tB\nx\ty\n", reference="B").reference == "B"


@pytest.mark.parametrize(("data", "message"), [
    ("", "empty; the first line names the languages"),
    ("English\n", "line 1: one column only"),
    ("English\t\nx\ty\n", "line 1: column 2 has no language name"),
    ("English\tEnglish\nx\ty\n", "line 1: the language 'English' is named twice"),
    ("English\tGerman\n", "only a header"),
    ("English\tGerman\na\tb\nc\n", "line 3: 1 columns, but the header names 2 languages"),
    ("English\tGerman\na\t \n", "the German column is empty"),
    (b"English\tGerman\n\xff\tb\n", "not UTF-8"),
])
def test_tsv_errors_say_how_to_fix_the_file(data: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_parallel_tsv(data, source="langs.tsv")
    assert str(info.value).startswith("langs.tsv")


def test_texts_errors() -> None:
    with pytest.raises(ValueError, match="the Greek text is empty"):
        parallel_from_texts({"English": "a", "Greek": " "})
    with pytest.raises(ValueError, match="reference language 'Klingon' is not among"):
        parallel_from_texts({"English": "a"}, reference="Klingon")
    with pytest.raises(ValueError, match="at least one text"):
        parallel_from_texts({})
    assert parallel_from_texts({"Deutsch": "a", "Français": "b"}).reference == "Deutsch"


def test_other_families_have_language_costs(tmp_path):
    """The language-cost view takes WordPiece, Unigram and SentencePiece BPE tokenizers like any other."""
    pytest.importorskip("tokenizers")
    from helpers import train_family_json

    from tokviz import load_tokenizer

    toks = [load_tokenizer(train_family_json(tmp_path / f"{f}.json", f)) for f in ("wordpiece", "unigram", "bpe-sp")]
    par = builtin_parallel_text()
    costs = language_costs(toks, par)
    assert len(costs) == len(toks) * len(par.languages)
    for c in costs:
        tok = next(t for t in toks if t.name == c.tokenizer)
        text = par.by_name(c.language).text
        assert c.n_tokens == len(tok.encode(text))
    fig = language_cost_figure(costs)
    assert {t.name for t in fig.data} == {t.name for t in toks}
