"""Model names map to encodings as tiktoken's own table does; an unknown name is answered with close matches."""

from __future__ import annotations

import pytest
import tiktoken.model

from tokviz.core.protocol import encode_as_shown
from tokviz.formats.dispatch import load_tokenizer
from tokviz.formats.model_names import MODEL_PREFIX_TO_ENCODING, MODEL_TO_ENCODING, close_names, encoding_name_for_model
from tokviz.formats.pretrained import load_encoding


def test_tables_equal_the_installed_tiktoken():
    # The tables are a copy; a newer tiktoken with more names makes this fail, which says to copy them again.
    assert MODEL_TO_ENCODING == tiktoken.model.MODEL_TO_ENCODING
    assert list(MODEL_PREFIX_TO_ENCODING.items()) == list(tiktoken.model.MODEL_PREFIX_TO_ENCODING.items())


@pytest.mark.parametrize("name", [
    *MODEL_TO_ENCODING, "gpt-4o-2024-05-13", "gpt-4-0314", "gpt-4-32k", "gpt-3.5-turbo-0613", "gpt-4.1-mini",
    "gpt-5-nano", "o1-preview", "o3-mini", "o4-mini-2025-04-16", "chatgpt-4o-latest", "gpt-oss-120b", "gpt-oss-20b",
    "ft:gpt-4o:org::abc", "ft:gpt-3.5-turbo:my-org:custom:id", "gpt-35-turbo-16k",
])
def test_a_name_maps_as_tiktoken_maps_it(name):
    assert encoding_name_for_model(name) == tiktoken.model.encoding_name_for_model(name)


@pytest.mark.parametrize("name", ["llama", "gpt-4.5", "gpt4", "o2", ""])
def test_unknown_names_are_unknown_to_both(name):
    assert encoding_name_for_model(name) is None
    with pytest.raises(KeyError):
        tiktoken.model.encoding_name_for_model(name)


@pytest.mark.parametrize("name", ["gpt-4o", "gpt-4", "gpt-3.5-turbo", "gpt-4.1", "o1", "o3",
                                  "text-embedding-3-small", "gpt-2", "text-davinci-003", "gpt-4o-mini"])
def test_load_by_model_name_gives_its_encodings_ids(name):
    # The encoding tiktoken names for the model, loaded by its own name (tests/formats/test_pretrained.py checks
    # those ids against tiktoken's): tiktoken.encoding_for_model itself would download the rank file.
    tok = load_tokenizer(name)
    ref = load_encoding(tiktoken.model.encoding_name_for_model(name))
    text = "Hello world! 12345 héllo  wörld\n\tcafé 🙂 <|endoftext|>"
    assert tok.name == name
    assert encode_as_shown(tok, text) == encode_as_shown(ref, text)
    assert tok.vocab_size == ref.vocab_size


def test_an_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"gpt4o: no such file, encoding or model name; did you mean gpt-4o"):
        load_tokenizer("gpt4o")
    with pytest.raises(ValueError, match="did you mean cl100k_base"):
        load_tokenizer("cl100k-base")
    # Suggestions are names that load: not a bare prefix such as "gpt-4.5", not a fine-tune prefix.
    for near in close_names("gpt-4.5") + close_names("ft-gpt-4"):
        assert encoding_name_for_model(near) is not None
        assert not near.startswith("ft:")


def test_a_name_whose_encoding_is_not_built_says_so():
    with pytest.raises(ValueError, match="p50k_edit encoding, which this version of tokviz does not build"):
        load_tokenizer("text-davinci-edit-001")


@pytest.mark.parametrize("name", ["gpt-oss-120b", "gpt-oss-20b", "o200k_harmony"])
def test_gpt_oss_opens_its_encoding_by_name(name):
    from tokviz.chat import o200k_harmony

    tok = load_tokenizer(name)
    text = "<|start|>user<|message|>Héllo wörld<|end|><|start|>assistant"
    assert tok.name == name and tok.vocab_size == 201088
    assert tok.special_ids == o200k_harmony().special_ids and tok.special_ids["<|start|>"] == 200006
    assert tok.encode(text, allowed_special="all") == o200k_harmony().encode(text, allowed_special="all")


def test_chatml_cl100k_im_opens_by_name_and_near_names_include_the_chat_encodings():
    assert load_tokenizer("cl100k_im").special_ids["<|im_start|>"] == 100264
    with pytest.raises(ValueError, match="did you mean .*o200k_harmony"):
        load_tokenizer("o200k_harmoni")


def test_the_cli_and_the_app_build_gpt_oss_encoding(capsys):
    from tokviz.chat.openai_formats import o200k_harmony
    from tokviz.cli.main import main
    from tokviz.viewmodels.hub_picker import load_model, model_spec

    text = "<|start|>user<|message|>Hello<|end|>"
    want = encode_as_shown(o200k_harmony(), text)
    assert want[0] == 200006 and want[2] == 200008  # gpt-oss's <|start|> and <|message|>, as tiktoken has them
    assert main(["encode", text, "-t", "gpt-oss-20b"]) == 0
    assert capsys.readouterr().out.split() == [str(i) for i in want]
    loaded = load_model(model_spec("gpt-oss-120b"))
    assert loaded.name == loaded.tokenizer.name == "gpt-oss-120b" and encode_as_shown(loaded.tokenizer, text) == want


def test_a_path_keeps_its_plain_message():
    with pytest.raises(ValueError, match=r"^no/such/gpt-4o: no such file or directory\.$"):
        load_tokenizer("no/such/gpt-4o")
