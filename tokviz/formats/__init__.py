"""Tokenizer files of other tools: recognise, load and save GPT-2, tiktoken, Hugging Face, minbpe and our own.

| format     | files                                    | carries                             | written as           |
|------------|------------------------------------------|-------------------------------------|----------------------|
| ``tokviz`` | one JSON file                            | everything                          | the given file       |
| ``gpt2``   | ``vocab.json`` + ``merges.txt``          | ids, merges, special tokens' ids    | a **directory**      |
| ``tiktoken``| ``base64 rank`` per line                | ids of non-special tokens only      | the given file       |
| ``hf``     | Hugging Face ``tokenizer.json`` (BPE)    | everything                          | the given file       |
| ``minbpe`` | karpathy/minbpe ``.model``               | merges, pattern, special tokens     | the given file       |

GPT-2 files are saved to a directory (created if needed) holding ``vocab.json`` and ``merges.txt``, the layout
:func:`load_gpt2` and Hugging Face's ``GPT2Tokenizer`` read; a directory rather than a zip keeps both files
readable and diffable. Load it back from the directory or from the two files.

What a format cannot carry is filled in on loading: a GPT-2 or tiktoken file has no pre-tokenizer pattern
(``pattern=`` keyword, default ``"gpt2"``, with a warning for a rank file), and a rank file has no special tokens
(``special_tokens=``, a list or ``{token: id}``). Rank files tokviz knows get both: OpenAI's (r50k/p50k, cl100k,
o200k; recognised by content hash or size) and Whisper's, Llama 3/4's and Qwen's (by content hash). A rank file
also has no merge list: merges are derived from the ranks, as Hugging Face
converts tiktoken files (:func:`merges_from_ranks`).

The package has one module per idea (the common entry points are importable from here):

| module                | holds                                                                                |
|-----------------------|--------------------------------------------------------------------------------------|
| ``dispatch``          | :func:`load_tokenizer` (files, encodings, model names, ``hf:`` ids), :func:`save` |
| ``detect``            | :func:`detect_format`: recognising files by content                                 |
| ``file_checks``       | :class:`SaveResult`, ``SpecialTokens``, building the Tokenizer, shared error helpers |
| ``ours``              | our JSON format: :func:`save_ours`, :func:`load_ours`, :func:`to_dict`, :func:`from_dict` |
| ``gpt2``              | ``vocab.json`` + ``merges.txt``: read, :func:`load_gpt2`, :func:`save_gpt2`          |
| ``tiktoken_file``     | rank files: read, write, recognise, :func:`merges_from_ranks` and its cache         |
| ``known_rank_files``  | the rank files recognised by SHA-256 (OpenAI, Whisper, Llama, Qwen): pattern, specials |
| ``pretrained``        | the built-in encodings (r50k, p50k, cl100k, o200k and their variants), read on first use |
| ``model_names``       | OpenAI model names to encodings (tiktoken's table), close matches for a typo        |
| ``hf``                | byte-level BPE ``tokenizer.json``, with Oniguruma pattern translation               |
| ``hf_components``     | a ``tokenizer.json``'s normalizers and pre-tokenizers                               |
| ``hf_families``       | WordPiece, Unigram and SentencePiece-style BPE ``tokenizer.json`` files             |
| ``json_floats``       | Unigram scores read as ``tokenizers`` (serde_json) reads them                       |
| ``sentencepiece_model``| SentencePiece ``.model`` files, run by ``sentencepiece``                          |
| ``tekken``            | Mistral's ``tekken.json``                                                           |
| ``bert_vocab``        | a BERT ``vocab.txt`` alone (WordPiece with BERT's defaults)                          |
| ``clip``              | CLIP-style BPE with an end-of-word suffix (``</w>``), from OpenCLIP's merges file     |
| ``minbpe``            | :func:`load_minbpe`, :func:`save_minbpe`                                             |
| ``cs336``             | :class:`CS336Tokenizer`: CS336 assignment 1's interface (specials as ids, ``from_files``) |
| ``hub``               | ``hf:owner/name[@revision]``: tokenizer files of a Hub model through huggingface_hub |
| ``hub_gallery``       | popular open models by family: Hub id, gated or not, licence                         |
| ``chat_config``       | a model's chat templates and context length from ``tokenizer_config.json``          |

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tok.tiktoken"
    >>> save(tok, path, format="tiktoken").format
    'tiktoken'
    >>> load_tokenizer(path, pattern="gpt2").encode("lowest") == tok.encode("lowest")
    True
"""

from __future__ import annotations

from tokviz.formats.detect import detect_format
from tokviz.formats.dispatch import FORMATS, load_tokenizer, save
from tokviz.formats.file_checks import (
    WHOLE_TEXT_PATTERN,
    SaveResult,
    SpecialTokens,
    special_tokens_arg,
    split_special_tokens,
)
from tokviz.formats.gpt2 import load_gpt2, save_gpt2
from tokviz.formats.hf import (
    hf_from_dict,
    hf_to_dict,
    load_hf,
    onig_to_python,
    python_to_onig,
    save_hf,
)
from tokviz.formats.known_rank_files import (
    ENDOFTEXT,
    KNOWN_RANK_FILES,
    OPENAI_RANK_FILES,
    OTHER_RANK_FILES,
    KnownRankFile,
)
from tokviz.formats.minbpe import load_minbpe, save_minbpe
from tokviz.formats.ours import (
    Saveable,
    from_dict,
    load_ours,
    save_ours,
    to_dict,
    tokenizer_from_dict,
    tokviz_from_dict,
)
from tokviz.formats.tiktoken_file import (
    PatternGuessWarning,
    identify_rank_file,
    load_tiktoken,
    merges_from_ranks,
    parse_rank_file,
    read_rank_file,
    save_tiktoken,
    tiktoken_from_bytes,
)

__all__ = [
    "ENDOFTEXT",
    "FORMATS",
    "KNOWN_RANK_FILES",
    "OPENAI_RANK_FILES",
    "OTHER_RANK_FILES",
    "WHOLE_TEXT_PATTERN",
    "KnownRankFile",
    "PatternGuessWarning",
    "SaveResult",
    "Saveable",
    "SpecialTokens",
    "detect_format",
    "from_dict",
    "hf_from_dict",
    "hf_to_dict",
    "identify_rank_file",
    "load_gpt2",
    "load_hf",
    "load_minbpe",
    "load_ours",
    "load_tiktoken",
    "load_tokenizer",
    "merges_from_ranks",
    "onig_to_python",
    "parse_rank_file",
    "python_to_onig",
    "read_rank_file",
    "save",
    "save_gpt2",
    "save_hf",
    "save_minbpe",
    "save_ours",
    "save_tiktoken",
    "special_tokens_arg",
    "split_special_tokens",
    "tiktoken_from_bytes",
    "to_dict",
    "tokenizer_from_dict",
    "tokviz_from_dict",
]
