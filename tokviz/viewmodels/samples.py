"""Sample texts for the viewer, each chosen to show one thing tokenizers do.

The first is the lecture's own example; the others cover repetition, numbers, code, several languages and
whitespace, so a new user can see in a click where tokenizers differ.

Example:
    >>> SAMPLES[DEFAULT_SAMPLE].text
    'Hello, 🌍! 你好!'
    >>> get_sample("numbers").label
    'Numbers'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """A sample text: a stable ``key`` (used in code and tests), a short ``label`` for buttons, and what it shows:
    one line, drawn under the text box while the sample is the text, saying what to look for."""

    key: str
    label: str
    text: str
    shows: str


_SAMPLES = (
    Sample("lecture", "Hello, 🌍! 你好!", "Hello, 🌍! 你好!",
           "Look at 🌍: one character, several byte tokens, drawn as one group under it."),
    Sample("repeat", "hello hello", "hello hello",
           "Look at the two ids: the second hello carries its leading space, so it is another token."),
    Sample("numbers", "Numbers",
           "In 1885 the population was 1234567890? No: 12,345 people paid $3.50 each, i.e. 43207.5 in total.",
           "Look at 1234567890: GPT-4's pattern cuts digits in threes, GPT-2's lets merges cut any run."),
    Sample("code", "Code",
           "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n"
           "        return n\n    return fib(n - 1) + fib(n - 2)\n\n\nprint([fib(i) for i in range(10)])\n",
           "Look at the indentation: GPT-4's pattern keeps a run of spaces as one token, GPT-2's splits it."),
    Sample("languages", "Languages",
           "English: The quick brown fox jumps over the lazy dog.\n"
           "Deutsch: Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.\n"
           "Français: Portez ce vieux whisky au juge blond qui fume.\n"
           "Русский: Съешь же ещё этих мягких французских булок, да выпей чаю.\n"
           "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.\n"
           "中文: 我能吞下玻璃而不伤身体。\n"
           "日本語: いろはにほへと ちりぬるを\n"
           "한국어: 다람쥐 헌 쳇바퀴에 타고파\n"
           "العربية: نص حكيم له سر قاطع وذو شأن عظيم\n",
           "Look at the counts: a tokenizer trained on English spends many more tokens on other scripts."),
    Sample("whitespace", "Whitespace",
           "one space, two  spaces, a\ttab,\nnew line,\n\n\nthree new lines,   trailing   \n",
           "Turn on Show whitespace: look at how runs of spaces, tabs and newlines become tokens."),
    Sample("emoji", "Emoji", "👩\u200d💻 🇯🇵 1\ufe0f\u20e3 👍🏽 ❤\ufe0f zero\u200bwidth",
           "Look at the groups: 👩‍💻 is woman + ZWJ + laptop; a dashed chip is a character that draws nothing."),
)

#: Samples by key, in display order.
SAMPLES: dict[str, Sample] = {s.key: s for s in _SAMPLES}
#: The sample a new user sees first.
DEFAULT_SAMPLE = "lecture"


def get_sample(key: str) -> Sample:
    """The sample with this key; an unknown key raises ValueError listing the known ones.

    >>> get_sample("repeat").text
    'hello hello'
    """
    try:
        return SAMPLES[key]
    except KeyError:
        raise ValueError(f"No sample named {key!r}; choose one of: {', '.join(SAMPLES)}.") from None
