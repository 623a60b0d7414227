"""Reading a ``tokenizer.json`` without holding the parsed file while the tokenizer's tables are built: the reader
takes the model's vocabulary and merges out of a dict it was given to consume, only once a plain tokenizer will be
made of them; ids stay those of ``tokenizers``, and a file that needs the pipeline after all keeps the whole file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import HF_TRAIN_TEXT, train_hf_json

from tokviz.formats import load_tokenizer
from tokviz.formats.hf import hf_from_dict, hf_to_dict
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.byte_level_tokenizer import PipelineTokenizer

TEXTS = [HF_TRAIN_TEXT, "Hello world! 你好 🌍 it's 2024\n\tdef f(x): return x**2", "<|endoftext|> after"]


def _hf_ids(path: Path, text: str) -> list[int]:
    from tokenizers import Tokenizer as HF

    return HF.from_file(str(path)).encode(text, add_special_tokens=False).ids


def test_a_consumed_dict_gives_the_same_tokenizer_and_loses_its_vocab_and_merges(tmp_path):
    path = train_hf_json(tmp_path / "tokenizer.json")
    kept = json.loads(path.read_text(encoding="utf-8"))
    consumed = json.loads(path.read_text(encoding="utf-8"))
    a = hf_from_dict(kept, source=str(path))
    b = hf_from_dict(consumed, source=str(path), consume=True)
    assert isinstance(b, Tokenizer) and not isinstance(b, PipelineTokenizer)
    assert a == b and a.special_ids == b.special_ids
    assert "vocab" in kept["model"] and "merges" in kept["model"]  # not asked: the caller's dict is left whole
    assert "vocab" not in consumed["model"] and "merges" not in consumed["model"]
    for text in TEXTS:
        assert b.encode(text, allowed_special="all") == _hf_ids(path, text), text


def test_a_file_read_as_a_pipeline_keeps_the_whole_file(tmp_path):
    from tokenizers import normalizers

    path = train_hf_json(tmp_path / "tokenizer.json", normalizer=normalizers.NFKC())
    tok = load_tokenizer(path)
    assert isinstance(tok, PipelineTokenizer)
    assert hf_to_dict(tok) == json.loads(path.read_text(encoding="utf-8"))  # saved as it was read


def test_a_plain_file_that_does_not_build_plain_is_read_again_for_the_pipeline(tmp_path):
    path = train_hf_json(tmp_path / "tokenizer.json", ignore_merges=True)
    data = json.loads(path.read_text(encoding="utf-8"))
    # A token no merge makes, in a model that looks whole pieces up (ignore_merges): the plain tokenizer cannot say
    # so, which is found only as it is built, after the reader took the file's vocabulary and merges out.
    data["model"]["vocab"]["zqx"] = max(data["model"]["vocab"].values()) + 1
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tok = load_tokenizer(path)
    assert isinstance(tok, PipelineTokenizer)
    assert hf_to_dict(tok) == data  # the whole file, read again
    for text in ("zqx", "a zqx cat", *TEXTS[:2]):
        assert tok.encode(text) == _hf_ids(path, text), text


def test_an_error_after_the_file_was_consumed_still_names_the_file_and_the_merge(tmp_path):
    path = train_hf_json(tmp_path / "tokenizer.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    merged = "".join(data["model"]["merges"][0].split(" ") if isinstance(data["model"]["merges"][0], str)
                     else data["model"]["merges"][0])
    del data["model"]["vocab"][merged]  # the first merge's result is no token now
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokenizer\.json.*merge 1 .*not in the vocabulary"):
        load_tokenizer(path)


def test_load_tokenizer_lets_the_reader_consume_the_file_it_parsed(tmp_path, monkeypatch):
    from tokviz.formats import dispatch

    seen: list[bool] = []
    real = dispatch.hf_from_dict

    def spy(data, **kwargs):
        seen.append(kwargs.get("consume", False))
        return real(data, **kwargs)

    monkeypatch.setattr(dispatch, "hf_from_dict", spy)
    load_tokenizer(train_hf_json(tmp_path / "tokenizer.json"))
    assert seen == [True]
