"""OpenAI's chat-extended encodings built in the formats layer: ``o200k_harmony`` gives the ids of tiktoken's own
``tiktoken.get_encoding("o200k_harmony")`` (its o200k_base file put in a private tiktoken cache from tokviz's
built-in copy, so nothing is downloaded), and ``tokviz.chat`` hands out the same builder."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokviz.chat
import tokviz.chat.openai_formats
from tokviz.formats import chat_encodings
from tokviz.formats.chat_encodings import CHAT_ENCODINGS, HARMONY_SPECIALS, cl100k_im, o200k_harmony
from tokviz.formats.pretrained import read_builtin

tiktoken = pytest.importorskip("tiktoken")
# tiktoken's own address for the file (tiktoken_ext/openai_public.py), whose sha1 names its cache entry.
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    """tiktoken's o200k_harmony, read from a cache folder these tests fill (tiktoken checks the file's sha256)."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    (cache / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(read_builtin("o200k_base"))
    import tiktoken.registry

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        mp.delitem(tiktoken.registry.ENCODINGS, "o200k_harmony", raising=False)
        enc = tiktoken.get_encoding("o200k_harmony")
        mp.delitem(tiktoken.registry.ENCODINGS, "o200k_harmony", raising=False)  # no other test gets this copy
    return enc


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_the_specials_are_tiktokens(reference) -> None:
    theirs = dict(reference._special_tokens)
    # tiktoken also keeps o200k_base's <|endofprompt|> at 200018, the id of <|reserved_200018|>: one name per id here.
    assert theirs.pop("<|endofprompt|>") == 200018 == HARMONY_SPECIALS["<|reserved_200018|>"]
    assert o200k_harmony().special_ids == theirs
    assert o200k_harmony().vocab_size == reference.n_vocab == 201088


SPECIALS = st.sampled_from(["<|start|>", "<|message|>", "<|end|>", "<|channel|>", "<|call|>", "<|return|>",
                            "<|constrain|>", "<|endoftext|>", "<|startoftext|>", "<|reserved_200018|>",
                            "<|reserved_201087|>"])
PIECES = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), SPECIALS,
                   st.sampled_from([" ", "\n\n", "  x", "'s", "123456", "héllo wörld", "🌍🌍"]))


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(PIECES, max_size=8))
def test_ids_equal_tiktokens_o200k_harmony(reference, pieces: list[str]) -> None:
    text = "".join(pieces)
    ours = o200k_harmony()
    assert ours.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")
    assert ours.encode(text, allowed_special=set(), disallowed_special=()) == reference.encode_ordinary(text)
    assert ours.decode(reference.encode(text, allowed_special="all")) == text


def test_the_chat_package_hands_out_the_same_builders() -> None:
    assert tokviz.chat.o200k_harmony is tokviz.chat.openai_formats.o200k_harmony is chat_encodings.o200k_harmony
    assert tokviz.chat.cl100k_im is cl100k_im
    assert CHAT_ENCODINGS == {"o200k_harmony": o200k_harmony, "cl100k_im": cl100k_im}


def test_each_call_gets_its_own_copy() -> None:
    a, b = o200k_harmony(), o200k_harmony()
    a.name = "renamed"
    assert b.name == "o200k_harmony" and a is not b
