"""Unicode decompositions are aligned to the original text exactly as Hugging Face ``tokenizers`` aligns them."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.normalizers.components import UnicodeForm

tokenizers = pytest.importorskip("tokenizers")

#: Characters whose decomposition is long, reordered or compatibility-only, and marks of several classes.
POOL = list("aeÀéḋÅΐﬁ①한ǅẛ̣x ") + ["\u0301", "\u0323", "\u0300", "\u0307", "\u0345", "\u1100", "\u1161", "\u0f73",
                                    "\u0344", "\u0958", "\u1e9b", "\u2126", "\u0340", "\u00e0\u0323"]
TEXT = st.lists(st.sampled_from(POOL), min_size=1, max_size=8).map("".join) | st.text(max_size=12)


def _hf(form: str, text: str) -> tuple[str, list[tuple[int, int]]]:
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    tk = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tk.normalizer = getattr(normalizers, form)()
    tk.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")  # one token per normalized character
    return tk.normalizer.normalize_str(text), [tuple(o) for o in tk.encode(text).offsets]


@pytest.mark.parametrize("form", ["NFD", "NFKD"])
def test_reordered_marks_are_aligned_as_tokenizers_aligns_them(form: str) -> None:
    for text in ["\u00c0\u0301", "\u00e9\u0323", "a\u0301\u0323", "\u1e0b\u0323", "\u00c0\u0301b x\u0323\u0301"]:
        normalized, align = UnicodeForm(form).normalize(text)  # type: ignore[arg-type]
        hf_text, hf_offsets = _hf(form, text)
        assert normalized == hf_text == unicodedata.normalize(form, text)
        assert align == hf_offsets, text


@pytest.mark.slow  # 0.7 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(text=TEXT, form=st.sampled_from(["NFD", "NFKD"]))
def test_decompositions_align_like_tokenizers(text: str, form: str) -> None:
    normalized, align = UnicodeForm(form).normalize(text)  # type: ignore[arg-type]
    hf_text, hf_offsets = _hf(form, text)
    assert normalized == hf_text
    assert align == hf_offsets
