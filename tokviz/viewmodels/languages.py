"""What each language costs: one passage in many languages, and each tokenizer's tokens for it.

The built-in passage (``parallel_text.json`` beside this module) is three plain sentences written for tokviz in 17
languages over 12 scripts; the translations are approximate, and the data says so. Users bring their own parallel
texts as one text per language (:func:`parallel_from_texts`) or as a TSV with a header row of language names and a
column per language (:func:`parse_parallel_tsv`).

For every tokenizer and language (:func:`language_costs`): tokens, the **premium** (tokens over the reference
language's tokens for the same content, Petrov et al. 2023), bytes per token, and fertility (tokens per
whitespace-separated word). Thai, Chinese and Japanese do not put spaces between words, so their "words" are
clauses or whole sentences and their fertility is flagged as not comparable.

Example:
    >>> from tokviz.models.baselines import ByteTokenizer
    >>> par = builtin_parallel_text()
    >>> len(par.languages) >= 12, len({t.script for t in par.languages}) >= 8, par.source
    (True, True, 'written for tokviz; translations are approximate')
    >>> costs = language_costs([ByteTokenizer()], par)
    >>> [(c.language, c.premium) for c in costs][:1]
    [('English', 1.0)]
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tokviz.analysis.measures import fertility, word_spans
from tokviz.core.protocol import TokenizerLike, encode_as_shown
from tokviz.core.ratios import bytes_per_token

DATA_FILE = "parallel_text.json"
#: Languages written without spaces between words (by name, for texts a user brings).
NO_SPACE_LANGUAGES = frozenset({"thai", "chinese", "japanese", "lao", "khmer", "burmese", "myanmar", "tibetan",
                                "cantonese", "mandarin", "zh", "ja", "th", "lo", "km", "my"})
# Code point ranges of scripts without spaces between words: Thai, Lao, Tibetan, Myanmar, Khmer, kana, CJK.
_NO_SPACE_RANGES = ((0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF),
                    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
FERTILITY_NOTE = ("written without spaces between words: its 'words' are clauses or sentences, so its fertility "
                  "is not comparable with spaced scripts")


@dataclass(frozen=True)
class LanguageText:
    """One language's version of the passage; ``spaces`` is False for scripts without spaces between words."""

    name: str
    text: str
    code: str = ""
    script: str = ""
    spaces: bool = True


@dataclass(frozen=True)
class ParallelText:
    """The same content in several languages; ``reference`` names the language premiums are relative to."""

    title: str
    source: str
    reference: str
    languages: tuple[LanguageText, ...]

    def by_name(self, name: str) -> LanguageText:
        for t in self.languages:
            if t.name == name:
                return t
        raise ValueError(f"no language named {name!r}; the texts are in {', '.join(self.names)}.")

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.languages]


def builtin_parallel_text() -> ParallelText:
    """The passage that ships with tokviz (17 languages, 12 scripts), labelled as written for the project."""
    raw = importlib.resources.files("tokviz.viewmodels").joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = json.loads(raw)
    langs = tuple(LanguageText(d["name"], d["text"], d.get("code", ""), d.get("script", ""), bool(d["spaces"]))
                  for d in data["languages"])
    return ParallelText(data["title"], data["source"], data["reference"], langs)


def has_word_spaces(name: str, text: str) -> bool:
    """Whether a language separates words by spaces, by its name or else by its script (most letters in Thai, Lao,
    Khmer, Myanmar, Tibetan, kana or CJK: no).

    >>> has_word_spaces("Thai", "x"), has_word_spaces("Mine", "これは日本語です"), has_word_spaces("Mine", "a b")
    (False, False, True)
    """
    if name.strip().casefold() in NO_SPACE_LANGUAGES:
        return False
    letters = [ord(c) for c in text if c.isalpha()]
    if not letters:
        return True
    unspaced = sum(1 for o in letters if any(a <= o <= b for a, b in _NO_SPACE_RANGES))
    return unspaced * 2 < len(letters)


def _reference(names: Sequence[str], reference: str | None) -> str:
    if reference is None:
        return "English" if "English" in names else names[0]
    if reference not in names:
        raise ValueError(f"the reference language {reference!r} is not among the texts ({', '.join(names)}); "
                         "name one of them.")
    return reference


def parallel_from_texts(texts: Mapping[str, str], *, reference: str | None = None, source: str = "your texts",
                        title: str = "Your parallel texts") -> ParallelText:
    """Parallel texts from ``{language name: text}`` (one upload per language); premiums are relative to
    ``reference`` (default English if present, else the first).

    >>> par = parallel_from_texts({"English": "Good morning.", "Thai": "สวัสดีตอนเช้า"})
    >>> par.reference, [t.spaces for t in par.languages]
    ('English', [True, False])
    """
    if len(texts) < 1:
        raise ValueError("give at least one text (one per language, the same content in each).")
    langs = []
    for name, text in texts.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("every text needs a language name; name each upload after its language.")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {name} text is empty; give the same content in every language.")
        langs.append(LanguageText(name.strip(), text, script="", spaces=has_word_spaces(name, text)))
    names = [t.name for t in langs]
    if len(set(names)) != len(names):
        raise ValueError("two texts have the same language name; give each language once.")
    return ParallelText(title, source, _reference(names, reference), tuple(langs))


def parse_parallel_tsv(data: str | bytes, *, source: str = "the TSV file",
                       reference: str | None = None) -> ParallelText:
    """Parallel texts from a TSV: a header row of language names, then rows of aligned segments (a column per
    language). Each language's text is its segments joined by line breaks. Errors name the file and line.

    >>> par = parse_parallel_tsv("English\\tGerman\\nGood day.\\tGuten Tag.\\nThanks.\\tDanke.\\n")
    >>> par.names, par.by_name("German").text
    (['English', 'German'], 'Guten Tag.\\nDanke.')
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{source}: not UTF-8 text (bad byte at offset {e.start}); save it as UTF-8.") from e
    data = data.removeprefix("\ufeff")
    lines = data.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"{source}: empty; the first line names the languages, separated by tabs.")
    header = [h.strip() for h in lines[0].split("\t")]
    if len(header) < 2:
        raise ValueError(f"{source}, line 1: one column only; separate the language names with tabs "
                         "(a TSV needs a column per language).")
    for k, h in enumerate(header):
        if not h:
            raise ValueError(f"{source}, line 1: column {k + 1} has no language name; name every column.")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise ValueError(f"{source}, line 1: the language {dup!r} is named twice; give each language one column.")
    columns: list[list[str]] = [[] for _ in header]
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise ValueError(f"{source}, line {n}: {len(cells)} columns, but the header names {len(header)} "
                             "languages; every row needs one cell per language (tabs inside a text are not allowed).")
        for col, cell in zip(columns, cells):
            col.append(cell.strip())
    if not columns[0]:
        raise ValueError(f"{source}: only a header; add rows with the texts below it.")
    texts = {}
    for name, col in zip(header, columns):
        text = "\n".join(c for c in col if c)
        if not text:
            raise ValueError(f"{source}: the {name} column is empty; give the same content in every language.")
        texts[name] = text
    return parallel_from_texts(texts, reference=reference, source=source, title="Your parallel texts")


@dataclass(frozen=True)
class LanguageCost:
    """One tokenizer on one language: tokens, bytes, words, and the measures derived from them. ``premium`` is the
    tokens over the reference language's tokens (None when the reference has no tokens)."""

    tokenizer: str
    language: str
    script: str
    n_tokens: int
    n_bytes: int
    n_words: int
    premium: float | None
    bytes_per_token: float
    fertility: float
    spaces: bool
    is_reference: bool

    @property
    def note(self) -> str:
        """Why a number needs care ("" when none does)."""
        return "" if self.spaces else f"{self.language} is {FERTILITY_NOTE}."


def language_costs(tokenizers: Iterable[TokenizerLike], parallel: ParallelText) -> list[LanguageCost]:
    """Every tokenizer on every language of ``parallel``, tokenizer by tokenizer, languages in the text's order."""
    out: list[LanguageCost] = []
    for tok in tokenizers:
        counts = {t.name: len(encode_as_shown(tok, t.text)) for t in parallel.languages}
        ref = counts[parallel.reference]
        for t in parallel.languages:
            n = counts[t.name]
            n_bytes = len(t.text.encode("utf-8"))
            n_words = len(word_spans(t.text))
            out.append(LanguageCost(tok.name, t.name, t.script, n, n_bytes, n_words, n / ref if ref else None,
                                    bytes_per_token(n_bytes, n), fertility(n, n_words), t.spaces,
                                    t.name == parallel.reference))
    return out


#: The table's columns: (field of :class:`LanguageCost` or "note", header).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("tokenizer", "Tokenizer"), ("language", "Language"), ("script", "Script"), ("n_tokens", "Tokens"),
    ("premium", "Premium (x reference)"), ("bytes_per_token", "Bytes per token"), ("fertility", "Tokens per word"),
    ("n_words", "Words"), ("n_bytes", "Bytes"), ("note", "Note"),
)


def cost_rows(costs: Iterable[LanguageCost]) -> list[dict[str, object]]:
    """Table rows keyed by the :data:`COLUMNS` headers; ratios rounded to 3 places.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> par = parallel_from_texts({"English": "ab cd", "Greek": "αβ"})
    >>> [r["Premium (x reference)"] for r in cost_rows(language_costs([ByteTokenizer()], par))]
    [1.0, 0.8]
    """
    rows = []
    for c in costs:
        row: dict[str, object] = {}
        for key, header in COLUMNS:
            value: object = c.note if key == "note" else getattr(c, key)
            row[header] = round(value, 3) if isinstance(value, float) else value
        rows.append(row)
    return rows


def costs_csv(costs: Iterable[LanguageCost]) -> str:
    """The table as CSV text (a header row, then one row per tokenizer and language).

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> print(costs_csv(language_costs([ByteTokenizer()], parallel_from_texts({"English": "hi"}))).splitlines()[1])
    byte,English,,2,1.0,1.0,2.0,1,2,
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([h for _, h in COLUMNS])
    for row in cost_rows(costs):
        w.writerow(["" if v is None else v for v in row.values()])
    return buf.getvalue()
