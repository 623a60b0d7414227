"""Popular open models whose tokenizers people ask about, grouped by family: Hub id, whether the repository is gated
(a licence to accept on its page, then a token: see :mod:`tokviz.formats.hub`), its licence's name, and which
tokenizer file tokviz reads from it.

Data only, as the model pages stated them when this list was written (the page is the authority: a repository can
become gated, or change its licence). Every id loads with ``load_tokenizer("hf:" + id)``.

Example:
    >>> len(GALLERY) >= 25, len({m.family for m in GALLERY}) >= 12
    (True, True)
    >>> by_id("Qwen/Qwen3-8B").licence, by_id("meta-llama/Llama-3.1-8B-Instruct").gated
    ('Apache 2.0', True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GalleryModel:
    """One model: its family, a short name, the Hub id, gated or not, licence name and the tokenizer it ships."""

    family: str
    name: str
    repo_id: str
    gated: bool
    licence: str
    tokenizer: str

    @property
    def spec(self) -> str:
        """The id as :func:`tokviz.load_tokenizer` takes it: ``hf:owner/name``."""
        return f"hf:{self.repo_id}"


_BPE = "byte-level BPE (tokenizer.json)"
_SP = "SentencePiece BPE, byte fallback (tokenizer.json / .model)"
GALLERY: tuple[GalleryModel, ...] = (
    GalleryModel("Llama 3.x", "Llama 3.1 8B Instruct", "meta-llama/Llama-3.1-8B-Instruct", True,
                 "Llama 3.1 Community License", _BPE),
    GalleryModel("Llama 3.x", "Llama 3.2 1B Instruct", "meta-llama/Llama-3.2-1B-Instruct", True,
                 "Llama 3.2 Community License", _BPE),
    GalleryModel("Llama 3.x", "Llama 3.3 70B Instruct", "meta-llama/Llama-3.3-70B-Instruct", True,
                 "Llama 3.3 Community License", _BPE),
    GalleryModel("Mistral (SentencePiece)", "Mistral 7B Instruct v0.3", "mistralai/Mistral-7B-Instruct-v0.3", True,
                 "Apache 2.0", _SP),
    GalleryModel("Mistral (Tekken)", "Mistral Nemo Instruct 2407", "mistralai/Mistral-Nemo-Instruct-2407", True,
                 "Apache 2.0", "Tekken (tekken.json; tokenizer.json beside it)"),
    GalleryModel("Mistral (Tekken)", "Mistral Small 24B Instruct 2501", "mistralai/Mistral-Small-24B-Instruct-2501",
                 True, "Apache 2.0", "Tekken (tekken.json; tokenizer.json beside it)"),
    GalleryModel("Qwen 2.5 / 3", "Qwen2.5 7B Instruct", "Qwen/Qwen2.5-7B-Instruct", False, "Apache 2.0", _BPE),
    GalleryModel("Qwen 2.5 / 3", "Qwen2.5 Coder 7B Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", False, "Apache 2.0",
                 _BPE),
    GalleryModel("Qwen 2.5 / 3", "Qwen3 8B", "Qwen/Qwen3-8B", False, "Apache 2.0", _BPE),
    GalleryModel("Gemma 2 / 3", "Gemma 2 9B it", "google/gemma-2-9b-it", True, "Gemma Terms of Use", _SP),
    GalleryModel("Gemma 2 / 3", "Gemma 3 4B it", "google/gemma-3-4b-it", True, "Gemma Terms of Use", _SP),
    GalleryModel("DeepSeek V3 / R1", "DeepSeek V3", "deepseek-ai/DeepSeek-V3", False, "DeepSeek Model License",
                 _BPE),
    GalleryModel("DeepSeek V3 / R1", "DeepSeek R1", "deepseek-ai/DeepSeek-R1", False, "MIT", _BPE),
    GalleryModel("Phi-3 / 4", "Phi-3 mini 4k instruct", "microsoft/Phi-3-mini-4k-instruct", False, "MIT", _SP),
    GalleryModel("Phi-3 / 4", "Phi-4", "microsoft/phi-4", False, "MIT", _BPE),
    GalleryModel("gpt-oss", "gpt-oss 20b", "openai/gpt-oss-20b", False, "Apache 2.0", _BPE),
    GalleryModel("gpt-oss", "gpt-oss 120b", "openai/gpt-oss-120b", False, "Apache 2.0", _BPE),
    GalleryModel("OLMo 2", "OLMo 2 7B Instruct", "allenai/OLMo-2-1124-7B-Instruct", False, "Apache 2.0", _BPE),
    GalleryModel("SmolLM", "SmolLM2 1.7B Instruct", "HuggingFaceTB/SmolLM2-1.7B-Instruct", False, "Apache 2.0",
                 _BPE),
    GalleryModel("SmolLM", "SmolLM3 3B", "HuggingFaceTB/SmolLM3-3B", False, "Apache 2.0", _BPE),
    GalleryModel("GPT-2", "GPT-2", "openai-community/gpt2", False, "MIT", _BPE),
    GalleryModel("BERT", "BERT base uncased", "google-bert/bert-base-uncased", False, "Apache 2.0",
                 "WordPiece (tokenizer.json, vocab.txt)"),
    GalleryModel("BERT", "BERT base multilingual cased", "google-bert/bert-base-multilingual-cased", False,
                 "Apache 2.0", "WordPiece (tokenizer.json, vocab.txt)"),
    GalleryModel("T5", "T5 base", "google-t5/t5-base", False, "Apache 2.0", "Unigram (tokenizer.json, spiece.model)"),
    GalleryModel("T5", "Flan-T5 base", "google/flan-t5-base", False, "Apache 2.0",
                 "Unigram (tokenizer.json, spiece.model)"),
    GalleryModel("XLM-R", "XLM-RoBERTa base", "FacebookAI/xlm-roberta-base", False, "MIT",
                 "Unigram (tokenizer.json, sentencepiece.bpe.model)"),
)


def families() -> list[str]:
    """The families in gallery order.

    >>> families()[:3]
    ['Llama 3.x', 'Mistral (SentencePiece)', 'Mistral (Tekken)']
    """
    return list(dict.fromkeys(m.family for m in GALLERY))


def by_id(repo_id: str) -> GalleryModel | None:
    """The gallery entry of a Hub id (with or without ``hf:``), None when it is not in the gallery."""
    repo_id = repo_id.removeprefix("hf:").partition("@")[0]
    return next((m for m in GALLERY if m.repo_id == repo_id), None)
