"""The named pre-tokenizer patterns: GPT-2's, GPT-4's (cl100k) and GPT-4o's (o200k), each with an ASCII twin for the
standard library's ``re`` (about twice as fast as ``regex``, used only on pure-ASCII text where both give the same
pieces), and the aliases users meet in other tools.

Example:
    >>> resolve_pattern("r50k_base")[1]
    'gpt2'
"""

from __future__ import annotations

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT4_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]"""
    r"""|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# ASCII twins for `re`. On ASCII text \p{L} is [A-Za-z], \p{N} is [0-9], and `regex`'s \s is [ \t\n\v\f\r]
# (unlike `re`'s \s, which also takes \x1c-\x1f, so it is spelled out). Lu/Ll/Lt/Lm/Lo/M reduce to A-Z / a-z.
_WS = r" \t\n\x0b\x0c\r"
_ASCII_GPT2 = rf"""'(?:[sdmt]|ll|ve|re)| ?[A-Za-z]+| ?[0-9]+| ?[^{_WS}A-Za-z0-9]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+"""
_ASCII_GPT4 = (
    rf"""'(?i:[sdmt]|ll|ve|re)|[^\r\nA-Za-z0-9]?+[A-Za-z]++|[0-9]{{1,3}}+| ?[^{_WS}A-Za-z0-9]++[\r\n]*+|[{_WS}]++\Z"""
    rf"""|[{_WS}]*[\r\n]|[{_WS}]+(?![^{_WS}])|[{_WS}]"""
)
_ASCII_O200K = "|".join(
    [
        r"""[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[0-9]{1,3}""",
        rf""" ?[^{_WS}A-Za-z0-9]+[\r\n/]*""",
        rf"""[{_WS}]*[\r\n]+""",
        rf"""[{_WS}]+(?![^{_WS}])""",
        rf"""[{_WS}]+""",
    ]
)

NAMED_PATTERNS: dict[str, str] = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN, "o200k": O200K_PATTERN}

# The patterns of other models' rank files, exactly as their loaders spell them (tokviz.formats.known_rank_files
# recognises the files). Their reference engine is tiktoken too, so they are read with its Unicode tables
# (tokviz.pre_tokenizers.unicode_pins) and may run on a native engine (tokviz.engines.plan).
WHISPER_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN3_5_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+"
                   r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
RANK_FILE_PATTERNS: dict[str, str] = {"whisper": WHISPER_PATTERN, "llama3": LLAMA3_PATTERN, "qwen": QWEN_PATTERN,
                                      "qwen3.5": QWEN3_5_PATTERN}
ASCII_TWINS: dict[str, str] = {"gpt2": _ASCII_GPT2, "gpt4": _ASCII_GPT4, "o200k": _ASCII_O200K}
# Aliases users meet in other tools.
_ALIASES = {"r50k": "gpt2", "r50k_base": "gpt2", "p50k_base": "gpt2", "cl100k": "gpt4", "cl100k_base": "gpt4",
            "o200k_base": "o200k"}


def resolve_pattern(pattern: str) -> tuple[str, str | None]:
    """Return ``(regex_source, name)`` for a named pattern or alias, ``(pattern, None)`` for a custom one.

    >>> resolve_pattern("cl100k_base")[1]
    'gpt4'
    """
    key = _ALIASES.get(pattern, pattern)
    if key in NAMED_PATTERNS:
        return NAMED_PATTERNS[key], key
    for name, source in NAMED_PATTERNS.items():
        if pattern == source:
            return source, name
    return pattern, None
