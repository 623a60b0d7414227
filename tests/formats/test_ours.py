"""Our own format: every tokenizer kind loads back as the same class with the same ids; one reader, one writer."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokviz import Tokenizer, load_tokenizer, save_tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.formats import load_ours, save
from tokviz.formats.gpt2 import load_gpt2
from tokviz.formats.ours import (
    Saveable,
    _bytes_of,
    _checked_merges,
    _checked_vocab,
    _merges,
    _plain_tokens,
    _vocab,
    load_ours_tokenizer,
    to_dict,
    tokenizer_from_dict,
)
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer

CORPUS = ("Once upon a time, a little girl named Lily found a shiny red ball. It's 1999 or 2024, isn't it? "
          "你好世界，我们在学习。 emoji 🌍🚀👍🏽 <|endoftext|> tabs\tand   spaces\r\n") * 6
SPECIAL = "<|endoftext|>"
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200) | st.lists(
    st.sampled_from(["Once", " upon", " a", "time", SPECIAL, " ", "\n", "你好", "🌍", "12345", "It's"]), max_size=30
).map("".join)


def _has_rule() -> bool:
    return hasattr(Tokenizer({i: bytes([i]) for i in range(256)}, []), "rule")


def _kinds() -> dict[str, Saveable]:
    plain = train_bpe([CORPUS], vocab_size=340, special_tokens=[SPECIAL], pattern="gpt4")
    kinds: dict[str, Saveable] = {
        "plain": plain,
        "prefix-space": PrefixSpaceTokenizer(plain.vocab, plain.merges, plain.special_tokens, plain.pattern,
                                             name="ps"),
        "prefix-space-off": PrefixSpaceTokenizer(plain.vocab, plain.merges, plain.special_tokens, plain.pattern,
                                                 name="ps0", add_prefix_space=False),
        "byte": ByteTokenizer(),
        "character": CharacterTokenizer(),
        "word": WordTokenizer.from_corpus([CORPUS], max_size=40),
    }
    if _has_rule():
        kinds["ranks-rule"] = Tokenizer(plain.vocab, plain.merges, plain.special_tokens, plain.pattern,
                                        name="ranked", rule="ranks")  # type: ignore[call-arg]
    return kinds


KINDS = _kinds()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Saveable, Saveable]]:
    d = tmp_path_factory.mktemp("ours")
    out: dict[str, tuple[Saveable, Saveable]] = {}
    for kind, tok in KINDS.items():
        path = d / f"{kind}.json"
        assert save(tok, path).format == "tokviz"
        out[kind] = (tok, load_ours(path))
    return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_load_gives_back_the_same_class_and_fields(kind: str, saved: dict[str, tuple[Saveable, Saveable]]) -> None:
    tok, back = saved[kind]
    assert type(back) is type(tok)
    assert back == tok  # equality by value: vocab, merges, specials, pattern, name, flags (and the rule)
    if isinstance(tok, Tokenizer):
        assert isinstance(back, Tokenizer) and back.special_ids == tok.special_ids
        assert getattr(back, "rule", "merges") == getattr(tok, "rule", "merges")


@pytest.mark.slow  # 0.5 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_load_gives_back_the_same_ids(kind: str, text: str, saved: dict[str, tuple[Saveable, Saveable]]) -> None:
    tok, back = saved[kind]
    assert encode_as_shown(back, text) == encode_as_shown(tok, text)
    assert back.decode(encode_as_shown(back, text)) == tok.decode(encode_as_shown(tok, text))


@pytest.mark.parametrize("kind", sorted(k for k, t in KINDS.items() if isinstance(t, Tokenizer)))
def test_every_bpe_reader_of_our_format_agrees(kind: str, tmp_path: Path) -> None:
    tok = KINDS[kind]
    assert isinstance(tok, Tokenizer)
    path = tmp_path / "t.json"
    save_tokenizer(tok, path)
    readers = [load_ours_tokenizer(path), load_tokenizer(path), tokenizer_from_dict(to_dict(tok))]
    for back in readers:
        assert type(back) is type(tok) and encode_as_shown(back, CORPUS) == encode_as_shown(tok, CORPUS)
    assert json.loads(path.read_text(encoding="utf-8")) == to_dict(tok)


def test_a_prefix_space_tokenizer_survives_tokenizer_save_and_load(tmp_path: Path) -> None:
    tok = KINDS["prefix-space"]
    assert isinstance(tok, PrefixSpaceTokenizer)
    save_tokenizer(tok, tmp_path / "ps.json")
    back = load_ours_tokenizer(tmp_path / "ps.json")
    assert isinstance(back, PrefixSpaceTokenizer) and back.add_prefix_space
    # The flag matters: without it "Once" at the start of a text is cut differently.
    plain = KINDS["plain"]
    assert back.encode("Once") == tok.encode("Once") != plain.encode("Once")


def test_files_written_before_kind_and_rule_existed_still_load(tmp_path: Path) -> None:
    tok = KINDS["plain"]
    old = {k: v for k, v in to_dict(tok).items() if k not in ("kind", "rule")}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    back = load_ours_tokenizer(path)
    assert (type(back) is Tokenizer and back.merges == tok.merges and encode_as_shown(back, CORPUS)
            == encode_as_shown(tok, CORPUS))
    assert getattr(back, "rule", "merges") == "merges"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kind": "sentencepiece"}, "unknown tokenizer kind 'sentencepiece'"),
        ({"rule": "greedy"}, "unknown \"rule\" 'greedy'"),
        ({"kind": "word", "words": "abc"}, "\"words\" must be a list of strings"),
        ({"merges": [["!!", "AA=="]]}, "malformed"),
    ],
)
def test_malformed_files_say_what_is_wrong(change: dict[str, object], fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(to_dict(KINDS["plain"]) | change), encoding="utf-8")
    with pytest.raises(ValueError, match=fragment) as info:
        load_ours(path)
    assert str(path) in str(info.value)


def test_a_baseline_file_is_refused_where_a_bpe_tokenizer_is_needed(tmp_path: Path) -> None:
    save(ByteTokenizer(), tmp_path / "byte.json")
    with pytest.raises(ValueError, match="ByteTokenizer baseline.*load_ours"):
        load_ours_tokenizer(tmp_path / "byte.json")
    with pytest.raises(ValueError, match="ByteTokenizer baseline"):
        load_tokenizer(tmp_path / "byte.json")
    with pytest.raises(ValueError, match="BPE tokenizers only.*tokviz format"):
        save(ByteTokenizer(), tmp_path / "byte.tiktoken", format="tiktoken")


# ---------------------------------------------------------------------------------------------------------------
# GPT-2 files: Tokenizer.from_files and load_tokenizer are one reader
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2_pair(cs336_dir: Path) -> tuple[Tokenizer, Tokenizer]:
    vocab, merges = cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt"
    return load_gpt2(vocab, merges, pattern="gpt2"), load_tokenizer(vocab, merges)


@pytest.mark.slow  # over half a second: the full run has it, the quick loop does not
def test_from_files_and_load_tokenizer_give_the_same_gpt2(gpt2_pair: tuple[Tokenizer, Tokenizer],
                                                          cs336_dir: Path, tiktoken_gpt2) -> None:
    a, b = gpt2_pair
    assert a.special_ids == b.special_ids == {SPECIAL: 50256}
    assert a == b
    for name in ("corpus.en", "tinystories_sample.txt", "german.txt", "address.txt",
                 "special_token_double_newlines_non_whitespace.txt"):
        text = (cs336_dir / name).read_text(encoding="utf-8")
        expected = tiktoken_gpt2.encode(text, allowed_special="all")
        assert a.encode(text, allowed_special="all") == b.encode(text, allowed_special="all") == expected, name


@pytest.mark.slow  # 0.8 s measured: the full run has it, the quick loop does not
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_from_files_and_load_tokenizer_agree_on_any_text(text: str, gpt2_pair: tuple[Tokenizer, Tokenizer],
                                                         tiktoken_gpt2) -> None:
    a, b = gpt2_pair
    expected = tiktoken_gpt2.encode(text, allowed_special="all")
    assert a.encode(text, allowed_special="all") == b.encode(text, allowed_special="all") == expected


@pytest.mark.slow  # 0.3 s measured: the full run has it, the quick loop does not
def test_from_files_takes_explicit_specials(cs336_dir: Path) -> None:
    none = load_gpt2(cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt", special_tokens=[], pattern="gpt2")
    assert none.special_ids == {} and len(none.encode(SPECIAL)) > 1


def test_no_module_level_import_cycle_in_the_library() -> None:
    # tokviz.formats imports tokviz.models.bpe; Tokenizer's file methods import formats only when called. Walk the
    # imports each library module runs when it is imported (top-level statements only) and look for a cycle.
    import ast

    root = Path(__file__).resolve().parents[2] / "tokviz"
    modules = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in ("pages", "viewmodels")}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:  # top level only, not inside functions
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tokviz"):
                deps |= {m for m in (f"{node.module}.{a.name}" for a in node.names) if m in modules}
                # "from tokviz import x" inside tokviz.*: the package is already being imported (it is the
                # parent), so only the submodule x is a new import.
                if not mod.startswith(node.module + "."):
                    deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("tokviz")}
        graph[mod] = {d for d in deps if d in modules and d != mod}
    assert "tokviz.formats.ours" in graph["tokviz.formats"] or "tokviz.formats.dispatch" in graph["tokviz.formats"]

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return path + [nxt]
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None

    for mod in ("tokviz.models.bpe", "tokviz.formats", "tokviz.formats.ours", "tokviz.formats.pretrained",
                "tokviz.pipelines.prefix_space"):
        assert cycle_from(mod) is None, cycle_from(mod)


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n \x00é-_"


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=_B64_ALPHABET, max_size=12)
       | st.binary(max_size=9).map(lambda b: base64.b64encode(b).decode()))
def test_a_token_reads_as_the_checked_base64_decoder_reads_it(text: str) -> None:
    # The strict fast path must accept only what the checked decoder accepts, with the same bytes.
    try:
        expected: bytes | None = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        expected = None
    if expected is None:
        assert _plain_tokens([text]) is None  # refused here: the checked reader then names the entry
        with pytest.raises(ValueError, match="not valid base64"):
            _bytes_of(text, what="t")
    else:
        assert _plain_tokens([text]) == [expected]
        assert _bytes_of(text, what="t") == expected


_TOKEN_TEXT = st.binary(max_size=4).map(lambda b: base64.b64encode(b).decode()) | st.text(alphabet=_B64_ALPHABET,
                                                                                          max_size=6)
_ID = st.integers(0, 300) | st.sampled_from([-1, 2**32 - 1, 2**32, True, False, "5", 1.0, None])
_ENTRY = st.tuples(_ID, _TOKEN_TEXT).map(list) | st.sampled_from([[1], [1, "YQ==", 2], "YQ==", None, {"a": 1}]) | (
    st.tuples(st.integers(0, 300), st.sampled_from([5, None, ["YQ=="]])).map(list))


def _outcome(read: object, *args: object, **kwargs: object) -> object:
    try:
        return read(*args, **kwargs)  # type: ignore[operator]
    except ValueError as e:
        return ("error", str(e))


#: Lists the C-level path reads: ids and tokens mostly distinct (a repeat sends the list to the checked reader).
_SOUND = st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=4).map(
    lambda b: base64.b64encode(b).decode())).map(list), min_size=1, max_size=12)


@pytest.mark.slow  # 1.3 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None)
@given(entries=st.lists(_ENTRY, max_size=12) | _SOUND, specials=st.sampled_from([[], ["a"], ["<s>"]]))
def test_a_vocabulary_reads_as_the_entry_by_entry_reader_reads_it(entries: list[object], specials: list[str]) -> None:
    # The C-level path answers only for plainly sound lists; for any list, the result (or the message) is the same.
    assert _outcome(_vocab, entries, specials, source="f") == _outcome(_checked_vocab, entries, specials, source="f")


@pytest.mark.slow  # 1.4 s measured: the full run has it, the quick loop does not
@settings(max_examples=300, deadline=None)
@given(merges=st.lists(st.tuples(_TOKEN_TEXT, _TOKEN_TEXT).map(list) | _ENTRY, max_size=12)
       | _SOUND.map(lambda pairs: [[base64.b64encode(str(i).encode()).decode(), t] for i, t in pairs]))
def test_merges_read_as_the_merge_by_merge_reader_reads_them(merges: list[object]) -> None:
    assert _outcome(_merges, merges, source="f") == _outcome(_checked_merges, merges, source="f")
