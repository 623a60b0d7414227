"""OpenAI model names (``gpt-4o``, ``gpt-3.5-turbo``, ``o3``, ``text-embedding-3-small``...) mapped to encodings.

The two tables are copied as data from tiktoken 0.14.0 (``tiktoken/model.py``: ``MODEL_TO_ENCODING`` and
``MODEL_PREFIX_TO_ENCODING``) and read the way its ``encoding_name_for_model`` reads them: an exact name first, then
the first prefix in table order that the name starts with (``gpt-4o-2024-05-13`` is ``gpt-4o-``). A name neither
table knows gets close matches (:func:`close_names`), so a typo is answered with what was meant.

Example:
    >>> encoding_name_for_model("gpt-4o"), encoding_name_for_model("gpt-4-0314"), encoding_name_for_model("o3")
    ('o200k_base', 'cl100k_base', 'o200k_base')
    >>> encoding_name_for_model("gpt-oss-120b"), encoding_name_for_model("llama")
    ('o200k_harmony', None)
    >>> close_names("gpt-4-o")[:2]
    ['gpt-4o', 'gpt-4']
"""

from __future__ import annotations

import difflib

#: Where the tables come from, for a reader checking them against a newer tiktoken.
SOURCE = "tiktoken 0.14.0, tiktoken/model.py"

#: Prefixes, tried in this order (tiktoken's order: ``gpt-4o-`` before ``gpt-4-``).
MODEL_PREFIX_TO_ENCODING: dict[str, str] = {
    "o1-": "o200k_base",
    "o3-": "o200k_base",
    "o4-mini-": "o200k_base",
    # chat
    "gpt-5": "o200k_base",
    "gpt-4.5-": "o200k_base",
    "gpt-4.1-": "o200k_base",
    "chatgpt-4o-": "o200k_base",
    "gpt-4o-": "o200k_base",
    "gpt-4-": "cl100k_base",
    "gpt-3.5-turbo-": "cl100k_base",
    "gpt-35-turbo-": "cl100k_base",  # Azure deployment name
    "gpt-oss-": "o200k_harmony",
    # fine-tuned
    "ft:gpt-4o": "o200k_base",
    "ft:gpt-4": "cl100k_base",
    "ft:gpt-3.5-turbo": "cl100k_base",
    "ft:davinci-002": "cl100k_base",
    "ft:babbage-002": "cl100k_base",
}

MODEL_TO_ENCODING: dict[str, str] = {
    # reasoning
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4-mini": "o200k_base",
    # chat
    "gpt-5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-35-turbo": "cl100k_base",  # Azure deployment name
    # base
    "davinci-002": "cl100k_base",
    "babbage-002": "cl100k_base",
    # embeddings
    "text-embedding-ada-002": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
    # text (deprecated)
    "text-davinci-003": "p50k_base",
    "text-davinci-002": "p50k_base",
    "text-davinci-001": "r50k_base",
    "text-curie-001": "r50k_base",
    "text-babbage-001": "r50k_base",
    "text-ada-001": "r50k_base",
    "davinci": "r50k_base",
    "curie": "r50k_base",
    "babbage": "r50k_base",
    "ada": "r50k_base",
    # code (deprecated)
    "code-davinci-002": "p50k_base",
    "code-davinci-001": "p50k_base",
    "code-cushman-002": "p50k_base",
    "code-cushman-001": "p50k_base",
    "davinci-codex": "p50k_base",
    "cushman-codex": "p50k_base",
    # edit (deprecated)
    "text-davinci-edit-001": "p50k_edit",
    "code-davinci-edit-001": "p50k_edit",
    # old embeddings (deprecated)
    "text-similarity-davinci-001": "r50k_base",
    "text-similarity-curie-001": "r50k_base",
    "text-similarity-babbage-001": "r50k_base",
    "text-similarity-ada-001": "r50k_base",
    "text-search-davinci-doc-001": "r50k_base",
    "text-search-curie-doc-001": "r50k_base",
    "text-search-babbage-doc-001": "r50k_base",
    "text-search-ada-doc-001": "r50k_base",
    "code-search-babbage-code-001": "r50k_base",
    "code-search-ada-code-001": "r50k_base",
    # open source
    "gpt2": "gpt2",
    "gpt-2": "gpt2",
}

#: Names a user is likely to pick from a list: the current models first (the deprecated ones still load by name).
POPULAR_MODELS: tuple[str, ...] = (
    "gpt-5", "gpt-4.1", "gpt-4o", "o1", "o3", "o4-mini", "gpt-4", "gpt-3.5-turbo", "text-embedding-3-small",
    "text-embedding-3-large", "gpt-2",
)


def encoding_name_for_model(name: str) -> str | None:
    """The encoding tiktoken uses for the model ``name`` (exact name, else the first matching prefix), or None.

    >>> encoding_name_for_model("gpt-3.5-turbo-0613"), encoding_name_for_model("ft:gpt-4o:org::id")
    ('cl100k_base', 'o200k_base')
    """
    if name in MODEL_TO_ENCODING:
        return MODEL_TO_ENCODING[name]
    return next((enc for prefix, enc in MODEL_PREFIX_TO_ENCODING.items() if name.startswith(prefix)), None)


def close_names(name: str, *, extra: tuple[str, ...] = (), n: int = 5) -> list[str]:
    """Model names (and ``extra`` names, such as encodings) that look like ``name``, best first.

    >>> close_names("gpt4o", extra=("o200k_base",))[:1]
    ['gpt-4o']
    """
    # A prefix without its dash is offered only where it names a model itself ("gpt-5"; not "gpt-4.5"), and the
    # fine-tuned prefixes ("ft:gpt-4") are no names to suggest.
    prefixes = (p.rstrip("-") for p in MODEL_PREFIX_TO_ENCODING if not p.startswith("ft:"))
    candidates = [*MODEL_TO_ENCODING, *(p for p in prefixes if encoding_name_for_model(p)), *extra]
    return difflib.get_close_matches(name, list(dict.fromkeys(candidates)), n=n, cutoff=0.6)
