# ruff: noqa: E501 - the templates keep the long lines their models ship them with
"""Chat templates rendered by tokviz give transformers' apply_chat_template text and ids, on templates of six model
families written here in the shape their models ship (Llama 3, Mistral v3, Qwen 2.5 / ChatML, Gemma 3, DeepSeek V3,
Phi-4), with system messages, tools, tool calls and tool results, with and without the generation prompt, and on
hypothesis-drawn message text. Each model folder (a byte-level BPE tokenizer.json that `tokenizers` trains here with
every family's special tokens, and a tokenizer_config.json with the template) is read by both libraries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz.chat import TemplateError, apply_chat_template, chat_breakdown, render_chat
from tokviz.formats.dispatch import load_tokenizer

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

LLAMA3 = """{{- bos_token }}
{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none %}
    {{- "You have access to the following functions.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if message.role == 'tool' or message.role == 'ipython' %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" + message.content | tojson + "<|eot_id|>" }}
    {%- elif 'tool_calls' in message %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
        {{- '{"name": "' + tool_call.name + '", "parameters": ' + tool_call.arguments | tojson + '}' }}
        {{- "<|eot_id|>" }}
    {%- else %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim
            + '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

MISTRAL_V3 = """{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {{- tool | tojson }}
                {%- if not loop.last %}{{- ", " }}{%- endif %}
            {%- endfor %}
            {{- "][/AVAILABLE_TOOLS]" }}
        {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "tool" %}
        {{- '[TOOL_RESULTS] {"content": ' + message.content|string + "}[/TOOL_RESULTS]" }}
    {%- elif message["role"] == "assistant" %}
        {%- if message.tool_calls is defined %}
            {{- "[TOOL_CALLS] " + message.tool_calls | map(attribute="function") | list | tojson + eos_token }}
        {%- else %}
            {{- " " + message["content"]|trim + eos_token }}
        {%- endif %}
    {%- else %}
        {{- raise_exception("Only user, assistant and tool roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

QWEN = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n<tools>" }}
    {%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
        {{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\\n' }}{%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""

GEMMA3 = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}{%- set role = "model" -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}
    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}
    {{ message['content'] | trim }}
    {{ '<end_of_turn>\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}
"""

DEEPSEEK_V3 = """{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments']|tojson + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments']|tojson + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}"""

PHI4 = """{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'assistant') %}{{'<|im_start|>assistant<|im_sep|>' + message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant<|im_sep|>' }}{% endif %}"""

FAMILIES = {  # template, bos, eos
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>"),
    "mistral_v3": (MISTRAL_V3, "<s>", "</s>"),
    "qwen": (QWEN, None, "<|im_end|>"),
    "gemma3": (GEMMA3, "<bos>", "<eos>"),
    "deepseek_v3": (DEEPSEEK_V3, "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "phi4": (PHI4, None, "<|im_end|>"),
}
SPECIALS = ["<s>", "</s>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
            "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]",
            "[TOOL_CALLS]", "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<bos>", "<eos>", "<start_of_turn>",
            "<end_of_turn>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
            "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",
            "<｜tool▁sep｜>", "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>",
            "<｜tool▁output▁end｜>"]
CORPUS = ("The quick brown fox jumps over the lazy dog. What is the weather in Paris today? It is sunny, 22 degrees.\n"
          "You are a helpful assistant. Answer briefly. {\"location\": \"Paris\", \"unit\": \"celsius\"}\n") * 20

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "City name"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["location"]}}}
CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}
CONVERSATIONS = {
    "plain": [{"role": "user", "content": "Hello! What is 2+2?"}],
    "system": [{"role": "system", "content": "You are a helpful assistant. Answer briefly."},
               {"role": "user", "content": "What is the weather in Paris?"},
               {"role": "assistant", "content": "  It is sunny, 22 degrees.  "},
               {"role": "user", "content": "Thanks <b>&</b> bye"}],
    "tools": [{"role": "user", "content": "What is the weather in Paris today?"},
              {"role": "assistant", "tool_calls": [CALL], "content": ""},
              {"role": "tool", "content": "{\"temperature\": 22}", "name": "get_weather"},
              {"role": "assistant", "content": "It is 22 degrees."},
              {"role": "user", "content": "And tomorrow?"}],
}
#: Conversations each family's template accepts (Gemma and Phi have no tool messages; Gemma alternates roles).
ACCEPTS = {"llama3": ["plain", "system", "tools"], "mistral_v3": ["plain", "system", "tools"],
           "qwen": ["plain", "system", "tools"], "gemma3": ["plain", "system"],
           "deepseek_v3": ["plain", "system", "tools"], "phi4": ["plain", "system"]}


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator([CORPUS], trainer=trainer)
    return tk.to_str()


def _folder(root: Path, family: str, tokenizer_json: str, *, chat_template: object = None) -> Path:
    template, bos, eos = FAMILIES[family]
    d = root / family
    d.mkdir(parents=True, exist_ok=True)
    (d / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    config = {"chat_template": template if chat_template is None else chat_template, "eos_token": eos,
              "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 8192}
    if bos is not None:
        config["bos_token"] = {"__type": "AddedToken", "content": bos, "lstrip": False, "normalized": False, "rstrip": False,
                               "single_word": False}
    (d / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def models(tokenizer_json: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, object]]:
    from transformers import AutoTokenizer

    root = tmp_path_factory.mktemp("models")
    out = {}
    for family in FAMILIES:
        d = _folder(root, family, tokenizer_json)
        out[family] = (load_tokenizer(d), AutoTokenizer.from_pretrained(str(d)))
    return out


def _theirs(ref, messages, **kw) -> tuple[str, list[int]]:
    text = ref.apply_chat_template(messages, tokenize=False, **kw)
    ids = ref.apply_chat_template(messages, tokenize=True, return_dict=False, **kw)
    return text, list(ids)


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("gen", [False, True])
def test_six_families_equal_transformers(models, family: str, gen: bool) -> None:
    ours, ref = models[family]
    for name in ACCEPTS[family]:
        messages = CONVERSATIONS[name]
        tools = [WEATHER_TOOL] if name == "tools" else None
        want_text, want_ids = _theirs(ref, messages, add_generation_prompt=gen, tools=tools)
        got_text = apply_chat_template(ours, messages, add_generation_prompt=gen, tools=tools, tokenize=False)
        assert got_text == want_text, (family, name)
        assert apply_chat_template(ours, messages, add_generation_prompt=gen, tools=tools) == want_ids, (family, name)
        # the special tokens the template writes are single tokens, as in transformers
        assert any(i in want_ids for i in ours.special_ids.values()), (family, name)


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_template_variables_given_as_keywords_reach_the_template(models) -> None:
    ours, ref = models["llama3"]
    messages = CONVERSATIONS["plain"]
    want, _ = _theirs(ref, messages, date_string="01 Jan 2030")
    assert apply_chat_template(ours, messages, tokenize=False, date_string="01 Jan 2030") == want
    assert "01 Jan 2030" in want


MESSAGE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(MESSAGE_TEXT, min_size=1, max_size=4), family=st.sampled_from(["qwen", "llama3", "phi4"]),
       gen=st.booleans())
def test_drawn_message_text_equals_transformers(models, texts: list[str], family: str, gen: bool) -> None:
    ours, ref = models[family]
    messages = [{"role": "user" if k % 2 == 0 else "assistant", "content": t} for k, t in enumerate(texts)]
    want_text, want_ids = _theirs(ref, messages, add_generation_prompt=gen)
    assert apply_chat_template(ours, messages, add_generation_prompt=gen, tokenize=False) == want_text
    assert apply_chat_template(ours, messages, add_generation_prompt=gen) == want_ids


def test_named_templates_choose_tool_use_when_tools_are_given(tokenizer_json: str, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    named = [{"name": "default", "template": PHI4}, {"name": "tool_use", "template": QWEN}]
    d = _folder(tmp_path, "phi4", tokenizer_json, chat_template=named)
    ours, ref = load_tokenizer(d), AutoTokenizer.from_pretrained(str(d))
    for tools in (None, [WEATHER_TOOL]):
        want, _ = _theirs(ref, CONVERSATIONS["plain"], tools=tools)
        assert apply_chat_template(ours, CONVERSATIONS["plain"], tools=tools, tokenize=False) == want
    want, _ = _theirs(ref, CONVERSATIONS["plain"], chat_template="tool_use")
    assert apply_chat_template(ours, CONVERSATIONS["plain"], chat_template="tool_use", tokenize=False) == want


def test_a_template_error_is_one_line(models) -> None:
    ours, ref = models["gemma3"]
    bad = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    with pytest.raises(Exception, match="Conversation roles must alternate"):
        ref.apply_chat_template(bad, tokenize=False)
    with pytest.raises(TemplateError, match=r"^chat template error: Conversation roles must alternate") as e:
        apply_chat_template(ours, bad)
    assert "\n" not in str(e.value)
    with pytest.raises(TemplateError, match=r"chat template error: .*line 1"):
        apply_chat_template(ours, bad, chat_template="{% for m in messages %}{{ m.content }")
    with pytest.raises(ValueError, match="empty"):
        apply_chat_template(ours, [])


def test_the_sandbox_blocks_what_transformers_blocks(models) -> None:
    ours, _ = models["qwen"]
    escape = "{{ messages.__class__.__mro__ }}"
    with pytest.raises(TemplateError, match="chat template error"):
        apply_chat_template(ours, CONVERSATIONS["plain"], chat_template=escape, tokenize=False)
    with pytest.raises(TemplateError, match="underscore|'_"):
        apply_chat_template(ours, CONVERSATIONS["plain"], chat_template="{% set ns = namespace(_x=1) %}",
                            tokenize=False)


def test_without_a_template_chatml_tokens_mean_chatml_and_others_say_how_to_get_one(tokenizer_json: str,
                                                                                  tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"  # the file alone: no tokenizer_config.json, but <|im_start|> and <|im_end|>
    path.write_text(tokenizer_json, encoding="utf-8")
    assert apply_chat_template(load_tokenizer(path), CONVERSATIONS["plain"], tokenize=False) == (
        "<|im_start|>user\nHello! What is 2+2?<|im_end|>\n")
    with pytest.raises(ValueError, match="has no chat template"):
        apply_chat_template(load_tokenizer("gpt2"), CONVERSATIONS["plain"])


def test_the_breakdown_splits_tokens_by_message(models) -> None:
    ours, ref = models["qwen"]
    messages = CONVERSATIONS["system"]
    b = chat_breakdown(ours, messages, add_generation_prompt=True)
    assert b.encoding.ids == _theirs(ref, messages, add_generation_prompt=True)[1]
    assert b.owners == [0, 1, 2, 3, None] and len(b.spans) == 5
    assert sum(b.tokens) == b.total and b.spans[-1][1] == len(b.text)
    assert b.text[b.spans[-1][0]:] == "<|im_start|>assistant\n"
    assert b.content_tokens[1] == len(ours.encode(messages[1]["content"]))
    assert b.overhead == b.total - sum(b.content_tokens) > 0
    assert render_chat(ours, messages) == b.text[:b.spans[-1][0]]


def test_a_chat_template_jinja_file_is_the_models_template(tokenizer_json: str, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    d = tmp_path / "jinja"
    d.mkdir()
    (d / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    (d / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|im_end|>",
                                                         "tokenizer_class": "PreTrainedTokenizerFast"}),
                                             encoding="utf-8")
    (d / "chat_template.jinja").write_text(QWEN, encoding="utf-8")  # newer Hub repos keep the template here
    ours, ref = load_tokenizer(d), AutoTokenizer.from_pretrained(str(d))
    for name in ("system", "tools"):
        tools = [WEATHER_TOOL] if name == "tools" else None
        want_text, want_ids = _theirs(ref, CONVERSATIONS[name], add_generation_prompt=True, tools=tools)
        assert apply_chat_template(ours, CONVERSATIONS[name], add_generation_prompt=True, tools=tools,
                                   tokenize=False) == want_text
        assert apply_chat_template(ours, CONVERSATIONS[name], add_generation_prompt=True, tools=tools) == want_ids
