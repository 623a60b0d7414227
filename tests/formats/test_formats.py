"""Formats: every loader gives the source library's own ids; saves load back; bad files name file and line."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from reference import write_gpt2_files

from tokviz import Tokenizer, load_tokenizer, save_tokenizer, train_bpe
from tokviz.core.protocol import encode_as_shown
from tokviz.formats import (
    KNOWN_RANK_FILES,
    WHOLE_TEXT_PATTERN,
    PatternGuessWarning,
    detect_format,
    merges_from_ranks,
    onig_to_python,
    read_rank_file,
    save,
)
from tokviz.formats.ours import load_ours_tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer
from tokviz.pre_tokenizers.patterns import NAMED_PATTERNS, resolve_pattern
from tokviz.pre_tokenizers.pretokenizer import PreTokenizer

tiktoken = pytest.importorskip("tiktoken")
hf = pytest.importorskip("tokenizers")

# Varied text: words, contractions, digit runs, runs of whitespace of every kind, CJK, emoji (with ZWJ and skin tone),
# combining marks, right-to-left script, special tokens next to text and to each other.
VARIED = [
    "",
    "Hello, world! It's 2024; we'll see... 1234567890 $3.50 (x+y)^2",
    "  leading spaces, trailing spaces   ",
    "tabs\tand\nnewlines\r\n\r\nand   \n\n  mixed \u3000ideographic\u00a0nbsp\u2028line-sep",
    "你好，世界！这是一个测试。日本語のテキストも。한국어 텍스트",
    "emoji 🌍🚀 family 👨‍👩‍👧 skin 👍🏽 flags 🇫🇷",
    "combining: é (e\u0301) ñ; Ünïcödé; Ελληνικά; русский; עברית; العربية",
    "code: def f(x):\n    return x**2  # comment\n\tif x != 0: pass",
    "<|endoftext|>start<|endoftext|><|endoftext|> mid <|endoftext|>end<|endoftext|>",
    "IT'S HE'LL they'RE 'tis ''quoted''",
    "x" * 300 + " " + "ab" * 200,
]
ENGLISH = (
    "Once upon a time, a little girl named Lily found a shiny red ball in the park. She was very happy! "
    "\"Can I play with it?\" asked her friend Tom. They played all day, and at night they went home. "
    "It's 1999 or 2024, isn't it? We'll see: 3.14159, 42, 100000.\n\n"
)
TRAIN_TEXT = (ENGLISH * 8 + "你好世界，我们在学习。日本語もあります。\n" * 4 + "emoji 🌍🚀👍🏽 again and again\n" * 4
              + "tabs\tand   spaces\r\n" * 4)


def _texts(cs336_dir: Path | None = None) -> list[str]:
    out = list(VARIED)
    if cs336_dir is not None:
        for name in ("corpus.en", "german.txt", "address.txt", "tinystories_sample.txt"):
            out.append((cs336_dir / name).read_text(encoding="utf-8")[:30_000])
    return out


# ---------------------------------------------------------------------------------------------------------------
# GPT-2 files and tiktoken rank files, against tiktoken
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2_files(cs336_dir: Path) -> tuple[Path, Path]:
    return cs336_dir / "gpt2_vocab.json", cs336_dir / "gpt2_merges.txt"


@pytest.fixture(scope="module")
def rank_file(gpt2_tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ranks") / "gpt2.tiktoken"
    save(gpt2_tokenizer, path, format="tiktoken")
    return path


@pytest.fixture(scope="module")
def rank_tok(rank_file: Path) -> Tokenizer:
    return load_tokenizer(rank_file)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_gpt2_files_load_in_any_order_and_from_a_directory(gpt2_files: tuple[Path, Path], tmp_path: Path,
                                                           gpt2_tokenizer: Tokenizer) -> None:
    vocab, merges = gpt2_files
    assert detect_format(merges, vocab)[:2] == ("gpt2", [vocab, merges])  # either order
    shutil.copy(vocab, tmp_path / "vocab.json")
    shutil.copy(merges, tmp_path / "merges.txt")
    tok = load_tokenizer(tmp_path)
    assert tok.merges == gpt2_tokenizer.merges and tok.vocab == gpt2_tokenizer.vocab
    # the one vocabulary entry no merge makes is GPT-2's special token
    assert tok.special_ids == {"<|endoftext|>": 50256}
    assert tok.name == tmp_path.name


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_gpt2_files_ids_equal_tiktoken(gpt2_files: tuple[Path, Path], tiktoken_gpt2, cs336_dir: Path) -> None:
    tok = load_tokenizer(*gpt2_files)
    for text in _texts(cs336_dir):
        assert tok.encode(text, allowed_special="all") == tiktoken_gpt2.encode(text, allowed_special="all"), text[:40]


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_saved_rank_file_is_byte_for_byte_openais_r50k(rank_file: Path) -> None:
    # The published r50k_base.tiktoken is GPT-2's vocabulary as ranks; writing it from the GPT-2 files must give
    # exactly that file (tiktoken checks this hash when it downloads it).
    r50k = next(k for k in KNOWN_RANK_FILES if k.name == "r50k_base")
    assert hashlib.sha256(rank_file.read_bytes()).hexdigest() == r50k.sha256


@pytest.mark.slow  # 0.6 s measured: the full run has it, the quick loop does not
def test_rank_file_merges_are_derived_exactly(rank_tok: Tokenizer, gpt2_tokenizer: Tokenizer) -> None:
    tok = rank_tok
    assert tok.merges == gpt2_tokenizer.merges  # all 50,000, in order, recovered from the ranks alone
    assert tok.name == "r50k_base" and tok.pretokenizer.name == "gpt2"
    assert tok.special_ids == {"<|endoftext|>": 50256}


def test_rank_file_ids_equal_tiktoken(rank_file: Path, rank_tok: Tokenizer, cs336_dir: Path) -> None:
    ours = rank_tok
    # tiktoken's own reading of the same file, with r50k's pattern and special token
    theirs = tiktoken.Encoding("r50k-local", pat_str=NAMED_PATTERNS["gpt2"], mergeable_ranks=read_rank_file(rank_file),
                               special_tokens={"<|endoftext|>": 50256})
    for text in _texts(cs336_dir):
        assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all"), text[:40]


def test_rank_file_of_unknown_size_takes_pattern_and_specials(tmp_path: Path) -> None:
    trained = train_bpe([TRAIN_TEXT], vocab_size=420, pattern="gpt4", special_tokens=["<|endoftext|>", "<|pad|>"])
    result = save(trained, tmp_path / "small.tiktoken", format="tiktoken")
    assert any("special" in n for n in result.notes) and any("pattern" in n for n in result.notes)
    with pytest.warns(PatternGuessWarning, match=r"GPT-2 pattern \('gpt2'\).*pattern="):
        plain = load_tokenizer(tmp_path / "small.tiktoken")
    assert plain.pretokenizer.name == "gpt2" and plain.special_tokens == []  # nothing to infer from
    tok = load_tokenizer(tmp_path / "small.tiktoken", pattern="gpt4", special_tokens=trained.special_ids)
    assert tok.merges == trained.merges and tok.vocab == trained.vocab
    ranks = read_rank_file(tmp_path / "small.tiktoken")
    theirs = tiktoken.Encoding("small", pat_str=NAMED_PATTERNS["gpt4"], mergeable_ranks=ranks,
                               special_tokens=trained.special_ids)
    for text in VARIED + [TRAIN_TEXT, "<|pad|><|endoftext|>x"]:
        assert (encode_as_shown(tok, text) == encode_as_shown(trained, text)
                == theirs.encode(text, allowed_special="all")), text[:40]
    # a list of specials is appended after the highest rank, tiktoken's convention
    appended = load_tokenizer(tmp_path / "small.tiktoken", special_tokens=["<|x|>"])
    assert appended.special_ids == {"<|x|>": max(ranks.values()) + 1}


def test_merges_from_ranks_follows_tiktoken_rule() -> None:
    ranks = {bytes([b]): b for b in range(256)}
    ranks |= {b"ab": 256, b"bc": 257, b"abc": 258, b"bca": 259}
    merges, unreachable = merges_from_ranks(ranks)
    # "abc": BPE below rank 258 merges "ab" (256) first, leaving ab + c
    assert merges == [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c"), (b"bc", b"a")]
    assert unreachable == []
    ranks[b"xyz"] = 300  # no "xy" or "yz": BPE leaves three parts, no single merge makes it
    assert merges_from_ranks(ranks)[1] == [b"xyz"]


def test_known_rank_files_are_recognised_by_size(tmp_path: Path) -> None:
    # A file the size of cl100k's (100,256 ranks) gets cl100k's pattern and special ids even if its hash differs.
    lines = [base64.b64encode(bytes([b])) + b" " + str(b).encode() for b in range(256)]
    lines += [base64.b64encode(b"\x00" + i.to_bytes(3, "big")) + b" " + str(i).encode() for i in range(256, 100256)]
    path = tmp_path / "fake_cl100k.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    tok = load_tokenizer(path)
    assert tok.name == "cl100k_base" and tok.pretokenizer.name == "gpt4"
    assert tok.special_ids["<|endofprompt|>"] == 100276 and tok.special_ids["<|endoftext|>"] == 100257


# ---------------------------------------------------------------------------------------------------------------
# Hugging Face tokenizer.json, against `tokenizers`
# ---------------------------------------------------------------------------------------------------------------
def _hf_train(tmp_path: Path, pre_tokenizer, *, specials=("<|endoftext|>", "<pad>"), vocab_size=500) -> Path:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = HFTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=list(specials), show_progress=False)
    tok.train_from_iterator([TRAIN_TEXT], trainer=trainer)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def _hf_ids(path: Path, text: str) -> list[int]:
    from tokenizers import Tokenizer as HFTokenizer

    return HFTokenizer.from_file(str(path)).encode(text, add_special_tokens=False).ids


LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def _pre(kind: str):
    from tokenizers import Regex
    from tokenizers import pre_tokenizers as pt

    if kind == "bytelevel":
        return pt.ByteLevel(add_prefix_space=False)
    if kind == "prefix-space":
        return pt.ByteLevel(add_prefix_space=True)
    if kind == "no-regex":
        return pt.ByteLevel(add_prefix_space=False, use_regex=False)
    if kind == "split":
        return pt.Sequence([pt.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
                            pt.ByteLevel(add_prefix_space=False, use_regex=False)])
    # Oniguruma reads "{1,2}+" as a repeated interval: digits come out as one run, not pairs
    return pt.Sequence([pt.Split(Regex(r"\p{N}{1,2}+|\p{L}+|\s+|[^\s\p{L}\p{N}]+"), behavior="isolated"),
                        pt.ByteLevel(add_prefix_space=False, use_regex=False)])


HF_TEXTS = VARIED + [TRAIN_TEXT, "<pad><pad>x", "<|endoftext|>Once", "no-prefix<pad>after", " 12345678901"]


@pytest.mark.parametrize("kind", ["bytelevel", "prefix-space", "no-regex", "split", "onig-interval"])
def test_hf_tokenizer_json_ids_equal_tokenizers(kind: str, tmp_path: Path) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    path = _hf_train(tmp_path, _pre(kind))
    ours = load_tokenizer(path)
    theirs = HFTokenizer.from_file(str(path))
    assert isinstance(ours, PrefixSpaceTokenizer) == (kind == "prefix-space")
    assert ours.special_ids == {"<|endoftext|>": 0, "<pad>": 1}
    for text in HF_TEXTS:
        assert encode_as_shown(ours, text) == theirs.encode(text, add_special_tokens=False).ids, (kind, text[:40])
    if kind == "onig-interval":
        assert "12345678901" in ours.pretokenizer.findall(" 12345678901")


def test_hf_merges_in_string_and_list_form(tmp_path: Path) -> None:
    path = _hf_train(tmp_path, _pre("bytelevel"))
    data = json.loads(path.read_text(encoding="utf-8"))
    as_lists = [m if isinstance(m, list) else m.split(" ") for m in data["model"]["merges"]]
    data["model"]["merges"] = [" ".join(m) for m in as_lists]
    strings = tmp_path / "strings.json"
    strings.write_text(json.dumps(data), encoding="utf-8")
    data["model"]["merges"] = as_lists
    lists = tmp_path / "lists.json"
    lists.write_text(json.dumps(data), encoding="utf-8")
    a, b = load_tokenizer(strings), load_tokenizer(lists)
    assert a.merges == b.merges and len(a.merges) == len(as_lists) > 100
    for text in HF_TEXTS:
        assert encode_as_shown(a, text) == encode_as_shown(b, text) == _hf_ids(lists, text)


def test_prefix_space_streaming_and_offsets(tmp_path: Path) -> None:
    tok = load_tokenizer(_hf_train(tmp_path, _pre("prefix-space")))
    text = "Once upon<pad>a time\n\nthere<|endoftext|> was 你好 🌍"
    ids = encode_as_shown(tok, text)
    assert list(tok.encode_iterable(iter(text[i : i + 3] for i in range(0, len(text), 3)), chunk_chars=4)) == ids
    enc = tok.encode_with_offsets(text)
    assert enc.ids == ids
    assert enc.byte_spans[-1][1] == len(text.encode("utf-8"))  # spans are in the original text
    # a space before each stretch between specials that lacks one; " was" has its own
    assert tok.decode(ids) == " Once upon<pad> a time\n\nthere<|endoftext|> was 你好 🌍"


@pytest.mark.parametrize("pattern", ["gpt2", "gpt4", "o200k", r"\p{N}{1,3}+|\p{L}+|\s+|[^\s\p{L}\p{N}]+",
                                     WHOLE_TEXT_PATTERN])
def test_saved_tokenizer_json_loads_in_tokenizers_with_equal_ids(pattern: str, tmp_path: Path) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    ours = train_bpe([TRAIN_TEXT], vocab_size=450, pattern=pattern, special_tokens=["<|endoftext|>", "<|é|>"])
    save(ours, tmp_path / "tokenizer.json", format="hf")
    theirs = HFTokenizer.from_file(str(tmp_path / "tokenizer.json"))
    back = load_tokenizer(tmp_path / "tokenizer.json")
    assert back.vocab == ours.vocab and back.merges == ours.merges and back.special_ids == ours.special_ids
    assert resolve_pattern(back.pattern)[1] == resolve_pattern(pattern)[1]
    for text in HF_TEXTS + ["a<|é|>b"]:
        ids = theirs.encode(text, add_special_tokens=False).ids
        assert ids == encode_as_shown(ours, text) == encode_as_shown(back, text)


@pytest.mark.slow  # 0.4 s measured: the full run has it, the quick loop does not
def test_gpt2_saved_as_tokenizer_json_equals_tokenizers(gpt2_tokenizer: Tokenizer, tmp_path: Path,
                                                        cs336_dir: Path) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    save(gpt2_tokenizer, tmp_path / "tokenizer.json", format="hf")
    theirs = HFTokenizer.from_file(str(tmp_path / "tokenizer.json"))
    for text in _texts(cs336_dir):
        assert theirs.encode(text, add_special_tokens=False).ids == encode_as_shown(gpt2_tokenizer, text), text[:40]


def _hf_json(tmp_path: Path, **changes) -> Path:
    path = _hf_train(tmp_path, _pre("bytelevel"))
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        target = data
        *parents, last = key.split(".")
        for p in parents:
            target = target[p]
        target[last] = value
    out = tmp_path / "changed.json"
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # WordPiece and Unigram load (tests/pipelines/test_families.py), but not with a ByteLevel pre-tokenizer.
        ({"model.type": "WordPiece"}, "pre-tokenizer ByteLevel with a character-level model"),
        ({"model.type": "Unigram"}, "pre-tokenizer ByteLevel with a character-level model"),
        ({"model.type": "WordLevel"}, "model type WordLevel is not supported"),
        ({"model.byte_fallback": True}, "byte_fallback"),
        ({"normalizer": {"type": "Precompiled"}}, "Precompiled normalizer needs a non-empty base64"),
        ({"pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}}, "pre-tokenizer Metaspace is not supported"),
        ({"pre_tokenizer": None}, "not byte-level"),
        ({"model.continuing_subword_prefix": "##"}, "continuing_subword_prefix"),
        ({"model.dropout": 0.1}, "dropout"),
        ({"pre_tokenizer": [1]}, "pre_tokenizer must be an object"),
        ({"model.merges": [["a"]]}, "merge 1 must be"),
    ],
)
def test_unsupported_hf_models_are_refused_saying_what(changes: dict, message: str, tmp_path: Path) -> None:
    path = _hf_json(tmp_path, **changes)
    with pytest.raises(ValueError, match=message) as e:
        load_tokenizer(path)
    assert str(path) in str(e.value)


def test_sentencepiece_style_vocabulary_is_refused(tmp_path: Path) -> None:
    path = _hf_json(tmp_path, **{"model.vocab": {"▁the": 0, "a": 1}, "model.merges": []})
    with pytest.raises(ValueError, match="not byte-level"):
        load_tokenizer(path)


def test_added_token_with_lstrip_takes_the_spaces_before_it(tmp_path: Path) -> None:
    path = _hf_train(tmp_path, _pre("bytelevel"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["added_tokens"][1]["lstrip"] = True
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tok = load_tokenizer(path)
    for text in HF_TEXTS + ["a   <pad>b", "  <pad>"]:
        assert tok.encode(text) == _hf_ids(path, text), text[:40]
    assert tok.encode("a   <pad>b") == [tok.token_to_id(b"a"), 1, tok.token_to_id(b"b")]


def test_malformed_hf_merge_names_file_and_line(tmp_path: Path) -> None:
    path = _hf_train(tmp_path, _pre("bytelevel"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["model"]["merges"][5] = "only-one-part"
    text = json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index('"only-one-part"')].count("\n") + 1
    with pytest.raises(ValueError, match=rf"tokenizer\.json, line {line}: merge 6 must be"):
        load_tokenizer(path)


# ---------------------------------------------------------------------------------------------------------------
# minbpe .model
# ---------------------------------------------------------------------------------------------------------------
def _minbpe_reference_encode(model: Path, text: str) -> list[int]:
    """minbpe's documented behaviour, written out: split specials, split with the pattern (findall, or the whole
    text for an empty pattern), then in each chunk repeatedly merge every occurrence of the pair with the lowest
    merge index."""
    import regex

    lines = model.read_text(encoding="utf-8").split("\n")
    pattern = lines[1].strip()
    n = int(lines[2])
    specials = dict((ln.split()[0], int(ln.split()[1])) for ln in lines[3 : 3 + n])
    merges = {tuple(map(int, ln.split())): 256 + k for k, ln in enumerate(ln for ln in lines[3 + n :] if ln)}
    out: list[int] = []
    parts = regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text) if specials else [text]
    for part in parts:
        if part in specials:
            out.append(specials[part])
            continue
        for chunk in (regex.findall(pattern, part) if pattern else ([part] if part else [])):
            ids = list(chunk.encode("utf-8"))
            while len(ids) >= 2:
                pairs = set(zip(ids, ids[1:]))
                best = min(pairs, key=lambda p: merges.get(p, float("inf")))
                if best not in merges:
                    break
                new, i = [], 0
                while i < len(ids):
                    if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                        new.append(merges[best])
                        i += 2
                    else:
                        new.append(ids[i])
                        i += 1
                ids = new
            out.extend(ids)
    return out


@pytest.mark.parametrize("pattern", ["gpt4", WHOLE_TEXT_PATTERN])
def test_minbpe_round_trip_and_ids_equal_minbpe_rule(pattern: str, tmp_path: Path) -> None:
    trained = train_bpe([TRAIN_TEXT], vocab_size=400, pattern=pattern, special_tokens=["<|endoftext|>"])
    result = save(trained, tmp_path / "tok.model", format="minbpe")
    # the trainer puts specials first; minbpe fixes bytes at 0-255 and merges after them, so ids move
    assert any("renumbered" in n for n in result.notes)
    lines = (tmp_path / "tok.model").read_text(encoding="utf-8").split("\n")
    assert lines[0] == "minbpe v1" and lines[1] == ("" if pattern == WHOLE_TEXT_PATTERN else NAMED_PATTERNS[pattern])
    tok = load_tokenizer(tmp_path / "tok.model")
    assert tok.merges == trained.merges and tok.special_ids == {"<|endoftext|>": 256 + len(trained.merges)}
    for text in VARIED + [TRAIN_TEXT]:
        ids = encode_as_shown(tok, text)
        assert ids == _minbpe_reference_encode(tmp_path / "tok.model", text), text[:40]
        assert tok.decode_bytes(ids) == trained.decode_bytes(encode_as_shown(trained, text))


def test_minbpe_file_written_by_hand(tmp_path: Path) -> None:
    # merges: (104,105)->256 "hi", (32,256)->257 " hi"; special <s> at 1000; the GPT-2 pattern line
    path = tmp_path / "hand.model"
    path.write_text(f"minbpe v1\n{NAMED_PATTERNS['gpt2']}\n1\n<s> 1000\n104 105\n32 256\n", encoding="utf-8")
    tok = load_tokenizer(path)
    assert tok.pretokenizer.name == "gpt2"
    expected = _minbpe_reference_encode(path, "hi hi!<s>hi")
    assert encode_as_shown(tok, "hi hi!<s>hi") == [256, 257, 33, 1000, 256] == expected
    save(tok, tmp_path / "again.model", format="minbpe")
    assert (tmp_path / "again.model").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Our own format and the GPT-2 directory
# ---------------------------------------------------------------------------------------------------------------
def test_every_format_loads_back_with_the_same_encoding(tmp_path: Path) -> None:
    trained = train_bpe([TRAIN_TEXT], vocab_size=380, special_tokens=["<|endoftext|>"])
    for fmt, target in [("tokviz", "t.json"), ("gpt2", "gpt2dir"), ("tiktoken", "t.tiktoken"), ("hf", "h.json"),
                        ("minbpe", "m.model")]:
        save_tokenizer(trained, tmp_path / target, format=fmt)
        specials = trained.special_ids if fmt == "tiktoken" else None
        back = load_tokenizer(tmp_path / target, special_tokens=specials)
        assert back.merges == trained.merges, fmt
        for text in VARIED:
            shown = back.decode_bytes(encode_as_shown(back, text))
            assert shown == trained.decode_bytes(encode_as_shown(trained, text)), fmt
            if fmt != "minbpe":  # the one format that renumbers ids
                assert encode_as_shown(back, text) == encode_as_shown(trained, text), fmt
    assert detect_format(tmp_path / "gpt2dir")[0] == "gpt2"
    assert sorted(p.name for p in (tmp_path / "gpt2dir").iterdir()) == ["merges.txt", "vocab.json"]


def test_tokviz_format_keeps_prefix_space(tmp_path: Path) -> None:
    tok = load_tokenizer(_hf_train(tmp_path, _pre("prefix-space")))
    save(tok, tmp_path / "ours.json", format="tokviz")
    back = load_tokenizer(tmp_path / "ours.json")
    assert isinstance(back, PrefixSpaceTokenizer) and back.encode("Once") == tok.encode("Once")
    # Tokenizer.load reads our format through the same reader: it too keeps the prefix space.
    again = load_ours_tokenizer(tmp_path / "ours.json")
    assert isinstance(again, PrefixSpaceTokenizer) and again.encode("Once") == tok.encode("Once")
    assert tok.encode("Once") != Tokenizer(tok.vocab, tok.merges, tok.special_tokens, tok.pattern).encode("Once")


def test_gpt2_directory_keeps_non_ascii_special_tokens(tmp_path: Path) -> None:
    trained = train_bpe([TRAIN_TEXT], vocab_size=300, special_tokens=["<|é ü|>"])
    save(trained, tmp_path / "d", format="gpt2")
    back = load_tokenizer(tmp_path / "d")
    assert back.special_ids == trained.special_ids
    assert encode_as_shown(back, "a<|é ü|>b") == encode_as_shown(trained, "a<|é ü|>b")


def test_gpt2_specials_are_guessed_only_where_merges_cover_the_rest(tmp_path: Path) -> None:
    # "<s" is a merge's token and ">" a byte, so one more merge would make "<s>": written in brackets, as special
    # tokens are, it is still taken as one; an unbracketed token one merge away means merges.txt was cut short.
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"<s", 257: b"<s>", 258: b"ab", 259: b"abc"}
    merges = [(b"<", b"s"), (b"a", b"b")]
    write_gpt2_files(vocab, merges, tmp_path / "vocab.json", tmp_path / "merges.txt")
    with pytest.raises(ValueError, match=r"merges\.txt does not cover .*no merge makes the token 'abc' \(id 259\)"):
        load_tokenizer(tmp_path / "vocab.json", tmp_path / "merges.txt")
    write_gpt2_files({i: t for i, t in vocab.items() if i != 259}, merges, tmp_path / "vocab.json",
                     tmp_path / "merges.txt")
    tok = load_tokenizer(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert tok.special_ids == {"<s>": 257} and encode_as_shown(tok, "x<s>") == [120, 257]
    # Named special tokens: nothing is guessed, so nothing is refused.
    write_gpt2_files(vocab, merges, tmp_path / "vocab.json", tmp_path / "merges.txt")
    named = load_tokenizer(tmp_path / "vocab.json", tmp_path / "merges.txt", special_tokens=["<s>"])
    assert named.special_ids == {"<s>": 257}


# ---------------------------------------------------------------------------------------------------------------
# Errors: named file and line, and what to do
# ---------------------------------------------------------------------------------------------------------------
def test_malformed_rank_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tiktoken"
    path.write_bytes(b"IQ== 0\nIg== 1\nnot-base64! 2\n")
    with pytest.raises(ValueError, match=r"bad\.tiktoken, line 3: not a tiktoken rank line"):
        load_tokenizer(path)
    path.write_bytes(b"IQ== 0\nIg== 0\n")
    with pytest.raises(ValueError, match=r"line 2: rank 0 is given to two tokens"):
        load_tokenizer(path)
    path.write_bytes(b"IQ== 0\nIg== 1\n")
    with pytest.raises(ValueError, match="lacks 254 of the 256 single bytes"):
        load_tokenizer(path)


def test_malformed_minbpe_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.model"
    path.write_text("minbpe v1\n\n0\n104 105\n256 999\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.model, line 5: merge uses id 999"):
        load_tokenizer(path)
    path.write_text("minbpe v1\n\n2\n<s> 300\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 5: expected 2 special-token lines"):
        load_tokenizer(path)


def test_bad_json_and_unknown_files(tmp_path: Path, gpt2_files: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "model": {\n    "vocab": [,]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json, line 3: invalid JSON"):
        load_tokenizer(bad)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"hello\n\xe9t\xe9 caf\xe9 x y z")
    with pytest.raises(ValueError, match="not a tokenizer file this version recognises"):
        load_tokenizer(latin)
    with pytest.raises(ValueError, match="needs its merges.txt too"):
        load_tokenizer(gpt2_files[0])
    with pytest.raises(ValueError, match="no such file"):
        load_tokenizer(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="carries its own pattern"):
        load_tokenizer(_hf_train(tmp_path, _pre("bytelevel")), pattern="gpt4")


def test_saving_what_a_format_cannot_hold_is_refused(tmp_path: Path) -> None:
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc", 258: b"bc"}
    # ids out of merge order: "bc" (258) is merged before "abc" (257) but has the higher id
    tok = Tokenizer(vocab, [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c")])
    with pytest.raises(ValueError, match="ids must follow merge order"):
        save(tok, tmp_path / "x.tiktoken", format="tiktoken")
    twice = Tokenizer(vocab | {259: b"abc"}, [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c"), (b"a", b"bc")])
    for fmt in ("gpt2", "hf", "tiktoken"):
        with pytest.raises(ValueError, match="has two ids"):
            save(twice, tmp_path / f"twice.{fmt}", format=fmt)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="give a directory"):
        save(tok, tmp_path / "file", format="gpt2")
    with pytest.raises(ValueError, match="choose one of"):
        save(tok, tmp_path / "y", format="sentencepiece")


def test_onig_interval_translation() -> None:
    assert onig_to_python(r"\p{N}{1,3}+") == r"(?:\p{N}{1,3})+"
    assert onig_to_python(r"[0-9]{2}+|a{1,}+") == r"(?:[0-9]{2})+|(?:a{1,})+"
    assert onig_to_python(r"\p{N}{1,3}|\s++") == r"\p{N}{1,3}|\s++"  # nothing to change
    pt = PreTokenizer.create(onig_to_python(r"\p{N}{1,3}+|\D+"))
    assert pt.findall("1234567x") == ["1234567", "x"]


def test_json_nested_too_deeply_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(ValueError, match="nested too deeply"):
        load_tokenizer(path)
    with pytest.raises(ValueError, match="nested too deeply"):
        load_ours_tokenizer(path)
