"""The model box's input rules, the gallery, and the link's ``model`` values."""

from __future__ import annotations

import pytest
from hub_server import Repo, hub_server, point_client_at
from tokenizers import Tokenizer, models, pre_tokenizers

from tokviz.formats.hub import parse_hub_ref
from tokviz.formats.hub_gallery import GALLERY, by_id, families
from tokviz.viewmodels.hub_picker import gallery_choices, gallery_rows, load_model, model_spec
from tokviz.viewmodels.share import ShareState, read_state, to_params


@pytest.mark.parametrize(("typed", "spec"), [
    ("Qwen/Qwen3-8B", "hf:Qwen/Qwen3-8B"),
    ("hf:Qwen/Qwen3-8B@main", "hf:Qwen/Qwen3-8B@main"),
    ("  gpt-4o ", "gpt-4o"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"),
    ("o200k_base", "o200k_base"),
    ("https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct", "hf:meta-llama/Llama-3.1-8B-Instruct"),
    ("https://huggingface.co/acme/x/tree/v2?x=1", "hf:acme/x@v2"),
    ("huggingface.co/google-bert/bert-base-uncased/", "hf:google-bert/bert-base-uncased"),
])
def test_what_is_typed_becomes_a_loadable_name(typed: str, spec: str) -> None:
    assert model_spec(typed) == spec


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Type a Hub model id"),
    ("llama", "not an OpenAI model name or a Hub id: type owner/name"),
    ("gpt4o", "did you mean gpt-4o"),
    ("acme/na me", "is not a Hub model id"),
    ("<script>/x", "is not a Hub model id"),
    ("https://huggingface.co/datasets/acme/x", "is not a Hub model id"),
])
def test_what_cannot_load_is_said(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model_spec(typed)


def test_the_gallery_covers_the_families_people_ask_for() -> None:
    assert len(GALLERY) >= 25
    for family in ("Llama 3.x", "Mistral (SentencePiece)", "Mistral (Tekken)", "Qwen 2.5 / 3", "Gemma 2 / 3",
                   "DeepSeek V3 / R1", "Phi-3 / 4", "gpt-oss", "OLMo 2", "SmolLM", "BERT", "T5", "XLM-R"):
        assert family in families()
    assert len({m.repo_id for m in GALLERY}) == len(GALLERY)
    for m in GALLERY:
        assert parse_hub_ref(m.spec) is not None and m.licence and by_id(m.spec) == m
    # Families stay together, so the picker reads as groups.
    assert [m.family for m in GALLERY] == sorted((m.family for m in GALLERY), key=families().index)
    labels = list(gallery_choices())
    assert len(labels) == len(GALLERY) and any(label.endswith("(gated)") for label in labels)
    assert {r["Hub id"] for r in gallery_rows()} == {m.repo_id for m in GALLERY}


def test_models_travel_in_the_link() -> None:
    s = ShareState(text="hi", tokenizers=("hf:acme/x@v1",), models=("hf:acme/x@v1", "gpt-4o"))
    params = to_params(s)
    assert params["model"] == ["hf:acme/x@v1", "gpt-4o"]
    back = read_state(params, tokenizers=["hf:acme/x@v1"], default_tokenizers=[])
    assert back == s
    # A hand-made value that could not be a name is dropped before anything loads it.
    odd = read_state({"model": ["<b>x</b>", "a b", "x" * 400, "gpt-4", "hf:a/b#xyz", "hf:a/b#" + "a" * 40]},
                     tokenizers=[], default_tokenizers=[])
    assert odd.models == ("gpt-4", "hf:a/b#" + "a" * 40)


def test_a_hub_model_travels_with_its_commit() -> None:
    from tokviz.models.baselines import ByteTokenizer
    from tokviz.viewmodels.hub_picker import LoadedModel, from_link_value, link_value

    sha = "0123456789abcdef0123456789abcdef01234567"
    value = link_value(LoadedModel("hf:acme/x@main", ByteTokenizer(), 512, sha))
    assert value == f"hf:acme/x@main#{sha}" and from_link_value(value) == ("hf:acme/x@main", sha)
    assert from_link_value("hf:acme/x#nothex") == ("hf:acme/x#nothex", None)
    assert link_value(LoadedModel("gpt-4o", ByteTokenizer(), None, None)) == "gpt-4o"


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
def test_sessions_share_one_copy_of_a_hub_tokenizer(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    hf = Tokenizer(models.BPE(vocab={"a": 0, "b": 1, "ab": 2}, merges=[("a", "b")]))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    with hub_server() as server:
        server.repos["acme/ab"] = Repo({"tokenizer.json": hf.to_str().encode(),
                                        "config.json": b'{"max_position_embeddings": 128}'})
        point_client_at(monkeypatch, server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        first, second = load_model("hf:acme/ab"), load_model("hf:acme/ab")
        other = load_model(f"hf:acme/ab@{server.repos['acme/ab'].sha}")
    assert first.tokenizer is second.tokenizer  # read once, shared
    assert other.tokenizer is not first.tokenizer and other.tokenizer.name == other.name
    assert first.context == 128 and first.commit == server.repos["acme/ab"].sha
    assert first.tokenizer.encode("ab a b") == hf.encode("ab a b").ids
