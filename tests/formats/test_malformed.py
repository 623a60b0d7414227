"""Malformed input, one row per case: each is refused with a ValueError naming the file or argument and the reason
(library), or with one line on stderr and exit code 2 (command line), never a traceback or a silent acceptance."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tokviz import load_tokenizer, train_bpe
from tokviz.cli.main import main
from tokviz.core.jsonfile import parse_json
from tokviz.formats import save
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer
from tokviz.training.live import TrainingJob, TrainSpec
from tokviz.training.trainer import count_corpus

DEEP = "(" * 500 + "a" + ")" * 500
# Repeat counts that multiply: minutes of compiling holding the GIL, and a MemoryError, before the regex budget.
SLOW_COMPILE = r"(?:a{3000}){3000}|\S+|\s+"
HUGE_COMPILE = r"(?:a{65535}){65535}"

# -- library: arguments ----------------------------------------------------------------------------------------
LIBRARY_ROWS: list[tuple[str, Callable[[], object], str]] = [
    ("special tokens as a string", lambda: train_bpe(["a b"], vocab_size=300, special_tokens="<s>"),
     r"special_tokens must be a list of strings, not the str '<s>'.*write \['<s>'\]"),
    ("special tokens as bytes", lambda: train_bpe(["a b"], vocab_size=300, special_tokens=b"<s>"),  # type: ignore[arg-type]
     r"not the bytes b'<s>'"),
    ("a special token that is None", lambda: train_bpe(["a b"], vocab_size=300, special_tokens=[None]),  # type: ignore[list-item]
     r"special token 1 is None, not a string"),
    ("a special token that is bytes", lambda: train_bpe(["a b"], vocab_size=300, special_tokens=["<s>", b"x"]),  # type: ignore[list-item]
     r"special token 2 is b'x', not a string \(decode bytes as UTF-8 first\)"),
    ("an empty special token", lambda: train_bpe(["a b"], vocab_size=300, special_tokens=["<s>", ""]),
     r"special token 2 is the empty string"),
    ("special tokens of a count", lambda: count_corpus(["a b"], special_tokens="<s>"), r"list of strings"),
    ("special tokens of a pre-tokenizer", lambda: PreTokenizer.create("gpt2", special_tokens="<s>"),
     r"list of strings"),
    ("special tokens of a live run", lambda: TrainingJob.start(TrainSpec(("a b",), 300, special_tokens="<s>")),  # type: ignore[arg-type]
     r"list of strings"),
    ("corpus None", lambda: train_bpe(None, vocab_size=300),
     r"corpus must be a file path.*got NoneType"),  # type: ignore[arg-type]
    ("corpus as bytes", lambda: train_bpe(b"a b", vocab_size=300),
     r"corpus must be .*got bytes"),  # type: ignore[arg-type]
    ("a corpus item that is not text", lambda: train_bpe([b"a b"], vocab_size=300),
     r"corpus items must be text"),  # type: ignore[list-item]
    ("unknown errors=", lambda: train_bpe(["a b"], vocab_size=300, errors="bogus"),
     r"errors='bogus' is not a way of reading bad bytes; use one of 'strict', 'replace'"),
    ("a regex nested 500 deep", lambda: train_bpe(["a b"], vocab_size=300, pattern=DEEP),
     r"nests groups 500 deep .*simplify the pattern"),
    ("a regex nested 500 deep, not in groups", lambda: PreTokenizer.create("[a]" + "(?:" * 150 + "a" + ")" * 150),
     r"nests groups 150 deep"),
    ("a regex whose counts multiply to millions", lambda: train_bpe(["a b"], vocab_size=300, pattern=SLOW_COMPILE),
     r"pre-tokenizer regex '\(\?:a\{3000\}\)\{3000\}.*is too costly to compile"),
    ("a regex that would run out of memory compiling", lambda: PreTokenizer.create(HUGE_COMPILE),
     r"too costly to compile"),
    ("a pattern that is a number", lambda: PreTokenizer.create(5),
     r"pattern must be a name or a regex string"),  # type: ignore[arg-type]
    ("a pattern that is None", lambda: PreTokenizer.create(None),
     r"pattern must be a name or a regex string"),  # type: ignore[arg-type]
    ("vocab size as text", lambda: train_bpe(["a b"], vocab_size="300"),
     r"vocab_size must be an integer"),  # type: ignore[arg-type]
    ("JSON Infinity", lambda: parse_json('{"vocab": [[0, "AA=="],\n [Infinity, "AQ=="]]}', source="t.json"),
     r"^t\.json, line 2: Infinity is not a number"),
    ("JSON -Infinity", lambda: parse_json('[-Infinity]', source="t.json"), r"^t\.json, line 1: -Infinity"),
    ("JSON NaN", lambda: parse_json('{"a": "NaN",\n\n "b": NaN}', source="t.json"), r"^t\.json, line 3: NaN"),
    ("JSON 1e400", lambda: parse_json('[1e400]', source="t.json"), r"^t\.json, line 1: the number 1e400"),
    ("JSON 5000 digits", lambda: parse_json("[\n" + "7" * 5000 + "]", source="t.json"),
     r"^t\.json, line 2: the integer 777777777777\.\.\. has 5000 digits"),
]


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize(("call", "message"), [pytest.param(c, m, id=name) for name, c, m in LIBRARY_ROWS])
def test_library_refuses(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# -- library: files (the format loaders' side) --------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("good")
    tok = train_bpe(["low lower lowest " * 20], vocab_size=260, special_tokens=["<|endoftext|>"])
    save(tok, folder / "t.json", format="tokviz")
    save(tok, folder / "gpt2", format="gpt2")
    save(tok, folder / "t.model", format="minbpe")
    save(tok, folder / "t.tiktoken", format="tiktoken")
    save(tok, folder / "tokenizer.json", format="hf")
    return {
        "ours": json.loads((folder / "t.json").read_text(encoding="utf-8")),
        "vocab.json": (folder / "gpt2" / "vocab.json").read_text(encoding="utf-8"),
        "merges.txt": (folder / "gpt2" / "merges.txt").read_text(encoding="utf-8"),
        "minbpe": (folder / "t.model").read_text(encoding="utf-8"),
        "tiktoken": (folder / "t.tiktoken").read_text(encoding="ascii"),
        "hf": json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")),
    }


def _ours(change: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], str]:
    def make(good: dict[str, Any]) -> str:
        data = json.loads(json.dumps(good["ours"]))
        change(data)
        return json.dumps(data, indent=1)

    return make


def _ours_text(old: str, new: str) -> Callable[[dict[str, Any]], str]:
    def make(good: dict[str, Any]) -> str:
        text = json.dumps(good["ours"], indent=1)
        assert old in text
        return text.replace(old, new, 1)

    return make


def _set(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d.__setitem__(key, value)


DUPLICATE = r"duplicate|twice|more than once|two tokens"
# (name, how the file is made, message it must give)
OURS_ROWS: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
    ("id Infinity", _ours_text('[\n   1,', "[\n   Infinity,"), r"line \d+: Infinity is not a number"),
    ("id 1e400", _ours_text('[\n   1,', "[\n   1e400,"), r"line \d+: the number 1e400"),
    ("id of 5000 digits", _ours_text('[\n   1,', "[\n   " + "9" * 5000 + ","),
     r"line \d+: the integer 9+\.\.\. has 5000"),
    ("negative id", _ours_text('[\n   1,', "[\n   -1,"), r"vocab entry 2: the id -1 is negative"),
    ("id that is text", _ours_text('[\n   1,', '[\n   "1",'),
     r"vocab entry 2: the id is the string '1', not an integer"),
    ("id true", _ours_text('[\n   1,', "[\n   true,"), r"vocab entry 2: the id is true, not an integer"),
    ("id 1.5", _ours_text('[\n   1,', "[\n   1.5,"), r"vocab entry 2: the id is the number 1\.5"),
    ("id past 32 bits", _ours_text('[\n   1,', "[\n   9999999999999999999,"),
     r"vocab entry 2: the id 9999999999999999999 is larger than any vocabulary's"),
    ("duplicate id", _ours(lambda d: d["vocab"].append(d["vocab"][1])), r"vocab entry 261: duplicate id 1 \(entry 2"),
    ("duplicate token", _ours(lambda d: d["vocab"].append([999, d["vocab"][5][1]])),
     r"vocab entry 261: duplicate token b'\\x04' \(id 5 has it too\)"),
    ("vocab entry not a pair", _ours(lambda d: d["vocab"].__setitem__(3, 5)), r"vocab entry 4 is the number 5.*pair"),
    ("token not a string", _ours(lambda d: d["vocab"].__setitem__(3, [3, 5])),
     r"vocab entry 4: .* not a base64 string"),
    ("token not base64", _ours(lambda d: d["vocab"].__setitem__(3, [3, "!!"])),
     r"vocab entry 4: '!!' is not valid base64"),
    ("no vocab", _ours(lambda d: d.pop("vocab")), r"no \"vocab\""),
    ("special tokens as a string", _ours(_set("special_tokens", "abc")),
     r"\"special_tokens\" is the string 'abc'; it must be a list of strings; write \['abc'\]"),
    ("a special token null", _ours(_set("special_tokens", [None])), r"special token 1 is null"),
    ("an empty special token", _ours(_set("special_tokens", [""])), r"special token 1 is the empty string"),
    ("a special token twice", _ours(_set("special_tokens", ["<|endoftext|>", "<|endoftext|>"])),
     r"special token 2 .* is a duplicate"),
    ("pattern a number", _ours(_set("pattern", 5)), r"\"pattern\" is the number 5; it must be a string"),
    ("pattern null", _ours(_set("pattern", None)), r"\"pattern\" is null; it must be a string"),
    ("pattern nested too deeply", _ours(_set("pattern", DEEP)), r"nests groups 500 deep"),
    ("pattern too costly to compile", _ours(_set("pattern", SLOW_COMPILE)), r"too costly to compile"),
    ("name a number", _ours(_set("name", 5)), r"\"name\" is the number 5"),
    ("add_prefix_space text", _ours(_set("add_prefix_space", "yes")), r"\"add_prefix_space\" is the string 'yes'"),
    ("version true", _ours(_set("version", True)), r"unsupported tokviz format version True"),
    ("vocab not a list", _ours(_set("vocab", "abc")), r"\"vocab\" is the string 'abc'; it must be a list"),
    ("merges not a list", _ours(_set("merges", 5)), r"\"merges\" is the number 5; it must be a list"),
    ("merge not a pair", _ours(lambda d: d["merges"].__setitem__(0, "ab")), r"merge 1 is the string 'ab'.*pair"),
    ("truncated file", lambda g: json.dumps(g["ours"])[:200], r"line 1: invalid JSON"),
    ("nested too deeply", lambda g: "[" * 100_000 + "]" * 100_000, r"nested too deeply|not a tokenizer file"),
]


def _rows(rows: list[Any]) -> list[Any]:
    return [pytest.param(*row, id=row[0]) for row in rows]


@pytest.mark.parametrize(("name", "make", "message"), _rows(OURS_ROWS))
def test_a_malformed_tokviz_file_is_refused(name: str, make: Callable[[dict[str, Any]], str], message: str,
                                            good: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(make(good), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)


GPT2_ROWS: list[tuple[str, Callable[[str, str], tuple[str, str]], str]] = [
    ("vocab.json key a lone surrogate", lambda v, m: (v.replace('"low"', '"\\ud800"', 1), m),
     r"vocab\.json, line 1: token '\\ud800' holds a lone surrogate U\+D800"),
    ("vocab.json id Infinity", lambda v, m: (v.replace(": 0,", ": Infinity,", 1), m), r"Infinity is not a number"),
    ("vocab.json id of 5000 digits", lambda v, m: (v.replace(": 0,", ": " + "9" * 5000 + ",", 1), m),
     r"vocab\.json, line 1: the integer 9+\.\.\. has 5000 digits"),
    ("vocab.json id negative", lambda v, m: (v.replace(": 0,", ": -5,", 1), m), r"is -5, which is negative"),
    ("vocab.json id text", lambda v, m: (v.replace(": 0,", ': "0",', 1), m), r"is '0', not an integer"),
    ("vocab.json id past 32 bits", lambda v, m: (v.replace(": 0,", ": 99999999999,", 1), m),
     r"99999999999, larger than any vocabulary's"),
    ("vocab.json duplicate id", lambda v, m: (v.replace(": 1,", ": 0,", 1), m), r"id 0 is given to two tokens"),
    ("vocab.json duplicate token", lambda v, m: (v.replace('{"', '{"low": 999, "', 1), m),
     r"vocab\.json \(GPT-2 vocab\.json\), line 1: duplicate key 'low'"),
    ("empty merges.txt", lambda v, m: (v, ""), r"merges\.txt does not cover .*vocab\.json.*truncated or empty"),
    ("truncated merges.txt", lambda v, m: (v, "\n".join(m.splitlines()[:-1]) + "\n"),
     r"merges\.txt does not cover .*no merge makes the token ' low' \(id 259\).*truncated"),
    ("merges.txt of unknown tokens", lambda v, m: (v, m + "zz qq\n"), r"merge 4 .* not in the vocabulary"),
    ("merges.txt line of three", lambda v, m: (v, m + "a b c\n"), r"merges\.txt, line 5: expected two tokens"),
    ("vocab.json not an object", lambda v, m: ("[1, 2]", m),
     r"vocab\.json: a GPT-2 vocab\.json is a JSON object.*not a list"),
    ("vocab.json of text ids", lambda v, m: ('{"a": "b"}', m), r"vocab\.json, line 1: the id of token 'a' is 'b'"),
]


@pytest.mark.parametrize(("name", "make", "message"), _rows(GPT2_ROWS))
def test_malformed_gpt2_files_are_refused(name: str, make: Callable[[str, str], tuple[str, str]], message: str,
                                          good: dict[str, Any], tmp_path: Path) -> None:
    vocab, merges = make(good["vocab.json"], good["merges.txt"])
    assert (vocab, merges) != (good["vocab.json"], good["merges.txt"])
    (tmp_path / "vocab.json").write_text(vocab, encoding="utf-8")
    (tmp_path / "merges.txt").write_text(merges, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_tokenizer(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert "vocab.json" in str(info.value) or "merges.txt" in str(info.value)


def _replace(old: str, new: str) -> Callable[[str], str]:
    def make(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return make


# The good minbpe file: version, pattern, "1", "<|endoftext|> 259", then the merges as id pairs.
MINBPE_ROWS: list[tuple[str, Callable[[str], str], str]] = [
    ("a negative special count", _replace("\n1\n", "\n-5\n"), r"line 3: the number of special tokens is -5"),
    ("a special count that is not a number", _replace("\n1\n", "\none\n"), r"line 3: expected the number"),
    ("more specials than lines", _replace("\n1\n", "\n99\n"), r"line \d+: expected 99 special-token lines"),
    ("a negative special id", _replace("<|endoftext|> 259", "<|endoftext|> -1"),
     r"line 4: expected '<special token> <id>'"),
    ("a special id of 5000 digits", _replace("<|endoftext|> 259", "<|endoftext|> " + "9" * 5000),
     r"line 4: special token '<\|endoftext\|>': the id 4294967296 is larger"),
    ("a special token twice", _replace("\n1\n<|endoftext|> 259\n", "\n2\n<|endoftext|> 259\n<|endoftext|> 260\n"),
     r"line 5: special token '<\|endoftext\|>' is listed twice"),
    ("two specials of one id", _replace("\n1\n<|endoftext|> 259\n", "\n2\n<|endoftext|> 259\n<pad> 259\n"),
     r"line 5: special token '<pad>' has id 259, which another special token has"),
    ("a special on a merge's id", _replace("<|endoftext|> 259", "<|endoftext|> 256"),
     r"special token '<\|endoftext\|>' wants id 256, which is already the token b'ow'"),
    ("a merge of an unknown id", lambda t: t + "999 5\n", r"line 8: merge uses id 999, which no earlier line makes"),
    ("a merge of a negative id", lambda t: t + "-1 5\n", r"line 8: merge uses id -1"),
    ("a merge of three ids", lambda t: t + "1 2 3\n", r"line 8: expected a merge as two ids"),
    ("a pattern that does not compile", _replace("minbpe v1\n", "minbpe v1\n(unclosed"), r"does not compile"),
    ("a pattern nested too deeply", lambda t: t.replace(t.split("\n")[1], DEEP, 1), r"nests groups 500 deep"),
    ("a pattern too costly to compile", lambda t: t.replace(t.split("\n")[1], SLOW_COMPILE, 1),
     r"too costly to compile"),
    ("truncated", lambda t: "minbpe v1\n", r"truncated minbpe model"),
]


@pytest.mark.parametrize(("name", "make", "message"), _rows(MINBPE_ROWS))
def test_a_malformed_minbpe_model_is_refused(name: str, make: Callable[[str], str], message: str,
                                             good: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bad.model"
    path.write_text(make(good["minbpe"]), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)


# The good rank file: "AA== 1" (byte 0 at rank 1, since the special token took id 0), "AQ== 2", ...
TIKTOKEN_ROWS: list[tuple[str, Callable[[str], str], str]] = [
    ("a negative rank", _replace(" 2\n", " -2\n"),
     r"line 2: not a tiktoken rank line \(the rank '-2' is not an integer"),
    ("a rank that is a float", _replace(" 2\n", " 2.0\n"), r"line 2: .*the rank '2\.0' is not an integer"),
    ("a rank of 5000 digits", lambda t: t + "YWJjZA== " + "9" * 5000 + "\n",
     r"line 260: the rank 9{20}\.\.\. is larger"),
    ("a rank past 32 bits", lambda t: t + "YWJjZA== 99999999999\n", r"line 260: the rank 99999999999 is larger"),
    ("a duplicate rank", _replace(" 2\n", " 1\n"), r"line 2: rank 1 is given to two tokens"),
    ("a duplicate token", lambda t: t + "AA== 999\n", r"line 260: token b'\\x00' appears twice"),
    ("bad base64", _replace("AQ== 2", "A!Q= 2"), r"line 2: not a tiktoken rank line"),
    ("a missing byte", lambda t: "\n".join(line for line in t.split("\n") if not line.startswith("AQ== ")),
     r"lacks 1 of the 256 single bytes \(first: 0x01\)"),
]


@pytest.mark.parametrize(("name", "make", "message"), _rows(TIKTOKEN_ROWS))
def test_a_malformed_rank_file_is_refused(name: str, make: Callable[[str], str], message: str,
                                          good: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bad.tiktoken"
    path.write_text(make(good["tiktoken"]), encoding="ascii")
    with pytest.raises(ValueError, match=message) as info:
        load_tokenizer(path, pattern="gpt2")
    assert str(path) in str(info.value)


def _hf(change: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], str]:
    def make(good: dict[str, Any]) -> str:
        data = json.loads(json.dumps(good["hf"]))
        change(data)
        return json.dumps(data)

    return make


def _model(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["model"].__setitem__(key, value)


def _vocab_id(value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["model"]["vocab"].__setitem__("ow", value)


def _added(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["added_tokens"][0].__setitem__(key, value)


HF_ROWS: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
    ("vocab id text", _hf(_vocab_id("5")), r"token 'ow': the id is the string '5', not an integer"),
    ("vocab id negative", _hf(_vocab_id(-5)), r"tokenizer\.json, line 1: token 'ow': the id -5 is negative"),
    ("vocab id true", _hf(_vocab_id(True)), r"token 'ow': the id is true"),
    ("vocab id 1.5", _hf(_vocab_id(1.5)), r"token 'ow': the id is the number 1\.5"),
    ("vocab id past 32 bits", _hf(_vocab_id(99999999999)), r"token 'ow': the id 99999999999 is larger"),
    ("vocab duplicate id", _hf(_vocab_id(3)), r"id 3 is given twice"),
    ("vocab id Infinity", lambda g: _hf(_vocab_id(12345))(g).replace("12345", "Infinity"),
     r"tokenizer\.json, line 1: Infinity is not a number"),
    ("vocab id 1e400", lambda g: _hf(_vocab_id(12345))(g).replace("12345", "1e400"), r"line 1: the number 1e400"),
    ("vocab not an object", _hf(_model("vocab", [1, 2])), r"model\.vocab must be an object"),
    ("vocab key a lone surrogate", _hf(lambda d: d["model"]["vocab"].__setitem__("\ud800", 999)),
     r"token '\\ud800' is not written with GPT-2's byte-to-unicode table"),
    ("merges not a list", _hf(_model("merges", "abc")), r"merge 1 must be"),
    ("a merge that is a number", _hf(lambda d: d["model"]["merges"].__setitem__(0, 5)), r"merge 1 must be .* got 5"),
    ("a merge of three", _hf(lambda d: d["model"]["merges"].__setitem__(0, ["o", "w", "x"])), r"merge 1 must be"),
    ("model.type a number", _hf(_model("type", 5)), r"model type 5 is not supported"),
    ("ignore_merges text", _hf(_model("ignore_merges", "yes")), r"model\.ignore_merges is the string 'yes'"),
    ("unk_token a number", _hf(_model("unk_token", 5)), r"model\.unk_token is the number 5"),
    ("added_tokens a string", _hf(lambda d: d.__setitem__("added_tokens", "abc")),
     r"\"added_tokens\" is the string 'abc'; it must be a list"),
    ("an added token a string", _hf(lambda d: d["added_tokens"].__setitem__(0, "abc")),
     r"malformed added_tokens entry"),
    ("an added id text", _hf(_added("id", "0")), r"added token 1 \('<\|endoftext\|>'\): the id is the string '0'"),
    ("an added id negative", _hf(_added("id", -1)), r"added token 1 .*: the id -1 is negative"),
    ("an added content number", _hf(_added("content", 5)), r"malformed added_tokens entry"),
    ("an added content empty", _hf(_added("content", "")), r"added token 1 \(''\): its content is the empty string"),
    ("an added content a lone surrogate", _hf(_added("content", "\ud800")),
     r"added token 1 \('\\ud800'\): its content holds a lone surrogate U\+D800"),
    ("an added flag text", _hf(_added("special", "yes")), r"\"special\" is the string 'yes'; it must be true or false"),
    ("pre_tokenizer a string", _hf(lambda d: d.__setitem__("pre_tokenizer", "ByteLevel")),
     r"pre_tokenizer must be an object"),
    ("normalizer a string", _hf(lambda d: d.__setitem__("normalizer", "NFC")), r"normalizer must be an object or null"),
    ("decoder a string", _hf(lambda d: d.__setitem__("decoder", "x")), r"\"decoder\" is the string 'x'"),
    ("post_processor a list", _hf(lambda d: d.__setitem__("post_processor", [])), r"\"post_processor\" is a list"),
    ("truncation a number", _hf(lambda d: d.__setitem__("truncation", 5)), r"\"truncation\" is the number 5"),
    ("a Split too costly to compile", _hf(lambda d: d.__setitem__("pre_tokenizer", _split_then_bytes(SLOW_COMPILE))),
     r"Split pattern '\(\?:a\{3000\}\)\{3000\}.*is too costly to compile"),
    ("a Split that would run out of memory compiling",
     _hf(lambda d: d.__setitem__("pre_tokenizer", _split_then_bytes(HUGE_COMPILE))), r"too costly to compile"),
    ("a Replace normalizer too costly to compile",
     _hf(lambda d: d.__setitem__("normalizer", {"type": "Replace", "pattern": {"Regex": SLOW_COMPILE}, "content": ""})),
     r"Replace pattern .* too costly to compile"),
    ("a Replace decoder that does not compile",
     _hf(lambda d: d.__setitem__("decoder", {"type": "Sequence", "decoders": [
         {"type": "Replace", "pattern": {"Regex": "[a"}, "content": "b"}, d["decoder"]]})),
     r"Replace decoder pattern '\[a' does not compile"),
]


def _split_then_bytes(pattern: str) -> dict[str, Any]:
    return {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}


@pytest.mark.parametrize(("name", "make", "message"), _rows(HF_ROWS))
def test_a_malformed_tokenizer_json_is_refused(name: str, make: Callable[[dict[str, Any]], str], message: str,
                                               good: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text(make(good), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)


# -- command line --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory, good: dict[str, Any]) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "tok.json").write_text(json.dumps(good["ours"]), encoding="utf-8")
    (folder / "inf.json").write_text(json.dumps(good["ours"], indent=1).replace("[\n   1,", "[\n   Infinity,", 1),
                                     encoding="utf-8")
    (folder / "corpus.txt").write_text("low lower lowest\n" * 20, encoding="utf-8")
    return {"tok": str(folder / "tok.json"), "inf": str(folder / "inf.json"), "corpus": str(folder / "corpus.txt"),
            "out": str(folder / "out.json")}


CLI_ROWS: list[tuple[str, list[str], str]] = [
    ("text with a lone surrogate", ["encode", "ab\ud800c", "-t", "{tok}"],
     r"TEXT holds a lone surrogate U\+D800 at character 3"),
    ("text that is not UTF-8", ["encode", "caf\udce9", "-t", "{tok}"],
     r"TEXT is not UTF-8: byte 0xe9 at character 4 cannot be decoded"),
    ("a pattern that is not UTF-8", ["encode", "hi", "-t", "{tok}", "--pattern", "\udcff+"],
     r"--pattern is not UTF-8: byte 0xff at character 1"),
    ("a special token with a lone surrogate", ["train", "{corpus}", "--vocab-size", "300", "--special-token", "<s>",
                                               "--special-token", "\udfff", "-o", "{out}"],
     r"--special-token #2 holds a lone surrogate U\+DFFF at character 1"),
    ("diff text with a lone surrogate", ["diff", "{tok}", "{tok}", "--text", "\ud83d"], r"TEXT holds a lone surrogate"),
    ("a regex nested 500 deep", ["train", "{corpus}", "--vocab-size", "300", "--pattern", DEEP, "-o", "{out}"],
     r"nests groups 500 deep"),
    ("a regex too costly to compile", ["train", "{corpus}", "--vocab-size", "300", "--pattern", SLOW_COMPILE,
                                       "-o", "{out}"], r"too costly to compile"),
    ("a regex that would run out of memory compiling", ["train", "{corpus}", "--vocab-size", "300", "--pattern",
                                                        HUGE_COMPILE, "-o", "{out}"], r"too costly to compile"),
    ("an empty special token", ["train", "{corpus}", "--vocab-size", "300", "--special-token", "", "-o", "{out}"],
     r"empty string"),
    ("a tokenizer file with an id Infinity", ["encode", "hi", "-t", "{inf}"], r"inf\.json, line \d+: Infinity"),
    ("an id that is not a number", ["decode", "1e400", "-t", "{tok}"], r"'1e400' is not a token id"),
    ("an unknown id", ["decode", "99999", "-t", "{tok}"], r"99999"),
    ("a file to encode that is missing", ["encode", "-f", "{out}.missing", "-t", "{tok}"], r"no such file"),
]


@pytest.mark.parametrize(("argv", "message"), [pytest.param(a, m, id=n) for n, a, m in CLI_ROWS])
def test_command_line_refuses_in_one_line(argv: list[str], message: str, cli_files: dict[str, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main([a.format(**cli_files) if "{" in a and "(" not in a else a for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("tokviz: error: "), err
    assert "Traceback" not in err
    assert re.search(message, lines[0]), lines[0]


def _file_cases() -> list[Any]:
    """Every malformed-file row as (files to write, extra CLI options, message), for the command line's turn."""
    cases: list[Any] = []
    for name, make, message in OURS_ROWS:
        cases.append(pytest.param(lambda g, m=make: {"bad.json": m(g)}, [], message, id=f"tokviz: {name}"))
    for name, pair, message in GPT2_ROWS:
        cases.append(pytest.param(
            lambda g, m=pair: dict(zip(("vocab.json", "merges.txt"), m(g["vocab.json"], g["merges.txt"]), strict=True)),
            [], message, id=f"gpt2: {name}"))
    for name, edit, message in MINBPE_ROWS:
        cases.append(pytest.param(lambda g, m=edit: {"bad.model": m(g["minbpe"])}, [], message, id=f"minbpe: {name}"))
    for name, edit, message in TIKTOKEN_ROWS:
        cases.append(pytest.param(lambda g, m=edit: {"bad.tiktoken": m(g["tiktoken"])}, ["--pattern", "gpt2"],
                                  message, id=f"tiktoken: {name}"))
    for name, make, message in HF_ROWS:
        cases.append(pytest.param(lambda g, m=make: {"tokenizer.json": m(g)}, [], message, id=f"hf: {name}"))
    return cases


@pytest.mark.slow  # 1.3 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize(("files", "options", "message"), _file_cases())
def test_command_line_refuses_a_malformed_file_in_one_line(files: Callable[[dict[str, Any]], dict[str, str]],
                                                            options: list[str], message: str, good: dict[str, Any],
                                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for file_name, content in files(good).items():
        (tmp_path / file_name).write_text(content, encoding="utf-8")
        paths.append(str(tmp_path / file_name))
    code = main(["encode", "hi", "-t", *paths, *options])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("tokviz: error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert any(p in lines[0] for p in paths), lines[0]


# -- a regex that backtracks on the text, not on load --------------------------------------------------------------
@pytest.mark.slow  # 8.0 s measured: the full run has it, the quick loop does not
def test_a_backtracking_split_is_stopped_with_a_message(good: dict[str, Any], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Before the budget, the Split's matches ran without a timeout: this text never came back (library and CLI).
    data = json.loads(json.dumps(good["hf"]))
    data["pre_tokenizer"] = _split_then_bytes(r"(?:a|aa)+$")
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"Split pattern '\(\?:a\|aa\)\+\$' took over .* was stopped"):
        load_tokenizer(path).encode("a" * 40 + "!")
    code = main(["encode", "a" * 40 + "!", "-t", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("tokviz: error: The Split pattern"), err


# -- files that are not files, marks, and what a terminal would take as commands ----------------------------------
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_a_device_is_refused_by_type(kind: str, tmp_path: Path, cli_files: dict[str, str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Before: a FIFO as tokenizer blocked forever (library and CLI); encode -f /dev/zero said "no such file".
    import os

    if kind == "fifo":
        path = str(tmp_path / "tokenizer.json")
        os.mkfifo(path)
        message = r"a FIFO \(named pipe\), not a regular file"
    else:
        path, message = "/dev/zero", r"/dev/zero: a character device, not a regular file"
    with pytest.raises(ValueError, match=message):
        load_tokenizer(path)
    for argv in (["encode", "hi", "-t", path], ["encode", "-f", path, "-t", cli_files["tok"]]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert re.search(message, err) and err.count("\n") == 1, err


def test_a_byte_order_mark_is_accepted(good: dict[str, Any], tmp_path: Path) -> None:
    # Before: a BOM at the start of a tokviz .json was "not a tokenizer file", of a vocab.json "invalid JSON".
    ours = tmp_path / "t.json"
    ours.write_bytes(b"\xef\xbb\xbf" + json.dumps(good["ours"]).encode("utf-8"))
    gpt2 = tmp_path / "gpt2"
    gpt2.mkdir()
    (gpt2 / "vocab.json").write_bytes(b"\xef\xbb\xbf" + good["vocab.json"].encode("utf-8"))
    (gpt2 / "merges.txt").write_text(good["merges.txt"], encoding="utf-8")
    hf = tmp_path / "tokenizer.json"
    hf.write_bytes(b"\xef\xbb\xbf" + json.dumps(good["hf"]).encode("utf-8"))
    ids = [load_tokenizer(p).encode("lowest low") for p in (ours, gpt2, hf)]
    assert ids[0] == ids[1] == ids[2]


def test_the_command_line_escapes_control_characters_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # A vocabulary whose tokens are terminal commands (ESC [ 2 J clears the screen; U+009B is the one-byte CSI).
    import io
    import sys

    from tokviz.formats import save

    hostile = "\x1b[2J\x1b]0;owned\x07\u009b31m"
    tok = train_bpe([hostile * 50], vocab_size=270)
    save(tok, tmp_path / "t.json", format="tokviz")
    ids = [str(i) for i in tok.encode(hostile)]
    assert main(["encode", hostile, "-t", str(tmp_path / "t.json"), "--show-tokens"]) == 0
    shown = capsys.readouterr().out
    assert not set(shown) & {"\x1b", "\x07", "\u009b"}, shown
    assert "\\x9b" in shown or "\\u009b" in shown
    # decode to a pipe writes the text exactly (it is the output); to a terminal, escaped.
    assert main(["decode", *ids, "-t", str(tmp_path / "t.json")]) == 0
    assert capsys.readouterr().out == hostile + "\n"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["decode", *ids, "-t", str(tmp_path / "t.json")]) == 0
    assert screen.getvalue() == "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\n"
