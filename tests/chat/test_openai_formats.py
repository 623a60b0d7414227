"""OpenAI's formats built in: o200k_harmony equals tiktoken's encoding of that name, and a conversation in the harmony
format gives the ids openai-harmony renders (its own o200k vocabulary read from tokviz's built-in file, offline); ChatML
over cl100k_im equals tiktoken's extended cl100k.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.chat import apply_chat_template, chat_breakdown, cl100k_im, o200k_harmony
from tokviz.core.protocol import encode_as_shown
from tokviz.formats.pretrained import read_builtin
from tokviz.pre_tokenizers.patterns import resolve_pattern

harmony = pytest.importorskip("openai_harmony")
tiktoken = pytest.importorskip("tiktoken")


@pytest.fixture(scope="module")
def encodings(tmp_path_factory: pytest.TempPathFactory):
    """openai-harmony's gpt-oss encoding, reading o200k_base from a folder these tests fill (never the network)."""
    d = tmp_path_factory.mktemp("vocab")
    (d / "o200k_base.tiktoken").write_bytes(read_builtin("o200k_base"))
    mp = pytest.MonkeyPatch()
    mp.setenv("TIKTOKEN_ENCODINGS_BASE", str(d))
    mp.setenv("TIKTOKEN_RS_CACHE_DIR", str(d / "cache"))
    try:
        enc = harmony.load_harmony_encoding(harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
    finally:
        mp.undo()
    return o200k_harmony(), enc


def _message(m: dict):
    role = harmony.Role(m["role"])
    if m["role"] == "tool":
        msg = harmony.Message.from_author_and_content(harmony.Author.new(role, m["name"]), m["content"])
    else:
        msg = harmony.Message.from_role_and_content(role, m["content"])
    if m.get("channel"):
        msg = msg.with_channel(m["channel"])
    if m.get("recipient"):
        msg = msg.with_recipient(m["recipient"])
    return msg


CONVERSATION = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "developer", "content": "# Instructions\nAnswer in French."},
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "channel": "commentary", "recipient": "functions.get_weather",
     "content": "{\"location\": \"Paris\"}"},
    {"role": "tool", "name": "functions.get_weather", "recipient": "assistant", "channel": "commentary",
     "content": "{\"temperature\": 22}"},
    {"role": "assistant", "channel": "final", "content": "Il fait 22 degrés."},
    {"role": "user", "content": "Merci ! <|endoftext|> is just text here? No: a special token."},
]


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
def test_o200k_harmony_equals_tiktoken(encodings) -> None:
    ours, _ = encodings
    ref = tiktoken.Encoding(name="o200k_harmony_test", pat_str=resolve_pattern(ours.pattern)[0], mergeable_ranks={
        t: i for i, t in ours.vocab.items() if i < 199998}, special_tokens=dict(ours.special_ids))
    text = "<|start|>user<|message|>Héllo wörld 🌍 123<|end|><|reserved_200018|><|call|>"
    assert encode_as_shown(ours, text) == ref.encode(text, allowed_special="all")
    assert ours.special_ids["<|start|>"] == 200006 and ours.vocab_size == 201088


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("gen", [False, True])
def test_harmony_conversation_equals_openai_harmony(encodings, gen: bool) -> None:
    ours, enc = encodings
    conv = harmony.Conversation.from_messages([_message(m) for m in CONVERSATION])
    want = (enc.render_conversation_for_completion(conv, harmony.Role.ASSISTANT) if gen
            else enc.render_conversation(conv))
    assert apply_chat_template(ours, CONVERSATION, add_generation_prompt=gen) == list(want)


ROLES = st.sampled_from(["system", "developer", "user", "assistant", "tool"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<|>"), max_size=30)


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(turns=st.lists(st.tuples(ROLES, TEXT, st.sampled_from([None, "final", "commentary"])), min_size=1, max_size=5))
def test_drawn_harmony_conversations_equal_openai_harmony(encodings, turns) -> None:
    ours, enc = encodings
    messages = []
    for role, text, channel in turns:
        m = {"role": role, "content": text}
        if role == "tool":
            m |= {"name": "functions.lookup", "recipient": "assistant", "channel": "commentary"}
        elif role == "assistant" and channel:
            m["channel"] = channel
        messages.append(m)
    conv = harmony.Conversation.from_messages([_message(m) for m in messages])
    assert apply_chat_template(ours, messages) == list(enc.render_conversation(conv))


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_chatml_over_cl100k_im_equals_tiktoken() -> None:
    ours = cl100k_im()
    ranks = {t: i for i, t in ours.vocab.items() if i not in set(ours.special_ids.values())}
    ref = tiktoken.Encoding(name="cl100k_im_test", pat_str=resolve_pattern(ours.pattern)[0], mergeable_ranks=ranks,
                            special_tokens=dict(ours.special_ids))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there!"}]
    text = apply_chat_template(ours, messages, add_generation_prompt=True, tokenize=False)
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there!<|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert apply_chat_template(ours, messages, add_generation_prompt=True) == ref.encode(text, allowed_special="all")
    assert ours.special_ids["<|im_start|>"] == 100264


def test_harmony_breakdown_counts_each_message(encodings) -> None:
    ours, _ = encodings
    b = chat_breakdown(ours, CONVERSATION[:3], add_generation_prompt=True)
    assert b.owners == [0, 1, 2, None] and sum(b.tokens) == b.total
    assert b.tokens[-1] == 2  # <|start|> and "assistant"
    assert b.overhead == b.total - sum(len(ours.encode(m["content"])) for m in CONVERSATION[:3])


def test_harmony_refuses_what_it_cannot_write(encodings) -> None:
    ours, _ = encodings
    with pytest.raises(ValueError, match="tool message needs the tool's \"name\""):
        apply_chat_template(ours, [{"role": "tool", "content": "x"}])
    with pytest.raises(ValueError, match="role 'robot'"):
        apply_chat_template(ours, [{"role": "robot", "content": "x"}])
