"""Token counts of whole files: streamed counts equal encoding the whole text, records are counted one by one, and
bad files get a message that says how to fix them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokviz.analysis import file_tokens
from tokviz.analysis.file_tokens import TextCount, columns, count_file, count_texts, detect_kind
from tokviz.core.protocol import encode_as_shown
from tokviz.formats.pretrained import load_encoding
from tokviz.models.baselines import ByteTokenizer

TEXT = "Hello world!\n\n  naïve café — 12345 tokens   \t🙂🙂 end.\n" * 40


@pytest.fixture(scope="module")
def gpt4():
    return load_encoding("cl100k_base")


def _whole(tok, text: str) -> TextCount:
    # A file's count reads every special token as its one id, as the app draws it; hypothesis does draw
    # '<|fim_middle|>' (it mines string constants from the code under test), which a bare encode refuses.
    return TextCount(len(encode_as_shown(tok, text)), len(text.encode()), len(text), len(text.split()))


def test_a_streamed_file_counts_as_the_whole_text(gpt4, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_tokens, "BLOCK", 7)  # blocks cut words, spaces and multi-byte characters
    seen: list[int] = []
    got = count_file(io.BytesIO(TEXT.encode()), gpt4, on_progress=seen.append)
    assert got == _whole(gpt4, TEXT)
    assert seen == sorted(seen) and seen[-1] == len(TEXT.encode())
    assert got.bytes_per_token == got.bytes / got.tokens and got.words_per_token == got.words / got.tokens


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
       block=st.integers(min_value=1, max_value=16))
def test_counts_hold_for_any_text_and_block_size(gpt4, text: str, block: int) -> None:
    old = file_tokens.BLOCK
    file_tokens.BLOCK = block
    try:
        got = count_file(io.BytesIO(text.encode()), gpt4)
    finally:
        file_tokens.BLOCK = old
    assert got == _whole(gpt4, text)


def test_a_special_tokens_text_counts_as_its_one_id(gpt4) -> None:
    # The example hypothesis found: a file holding a special token's text is counted as the views draw it.
    for text in ("<|fim_middle|>", "a<|endoftext|>b"):
        assert count_file(io.BytesIO(text.encode()), gpt4) == _whole(gpt4, text)
    assert _whole(gpt4, "<|fim_middle|>").tokens == 1


def test_jsonl_and_csv_count_each_record_on_its_own(gpt4) -> None:
    texts = ["first record, with words", "second\nwith a newline", "", "ünïcode 🙂"]
    jsonl = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)) + "\n"
    want = TextCount(sum(len(gpt4.encode(t)) for t in texts), sum(len(t.encode()) for t in texts),
                     sum(map(len, texts)), sum(len(t.split()) for t in texts), len(texts))
    assert count_file(io.BytesIO(jsonl.encode()), gpt4, kind="jsonl", column="text") == want
    table = io.StringIO()

    w = csv.writer(table)
    w.writerow(["id", "text"])
    w.writerows(enumerate(texts))
    assert count_file(io.BytesIO(table.getvalue().encode()), gpt4, kind="csv", column="text") == want
    assert count_texts(texts, gpt4) == want
    assert columns(io.BytesIO(jsonl.encode()), kind="jsonl") == ["id", "text"]
    assert columns(io.BytesIO(table.getvalue().encode()), kind="csv") == ["id", "text"]


def test_totals_add_up() -> None:
    a, b = TextCount(10, 40, 38, 7), TextCount(5, 9, 9, 2, 3)
    assert a + b == TextCount(15, 49, 47, 9, 4)
    assert a.share_of(20) == 0.5
    with pytest.raises(ValueError, match="at least one token"):
        a.share_of(0)


@pytest.mark.parametrize(("data", "kind", "column", "message"), [
    (b"ok \xff\xfe bad", "text", None, r"^f.txt: not UTF-8 text \(byte 3\); save it as UTF-8"),
    (b'{"text": "a"}\n{"body": "b"}\n', "jsonl", "text", r"^f.txt, line 2: no field 'text'"),
    (b'{"text": "a"}\nnot json\n', "jsonl", "text", r"^f.txt, line 2: not JSON"),
    (b"a,b\n1,2\n", "csv", "text", r"^f.txt: no column 'text' in the header; choose one of a, b\.$"),
    (b'{"text": "a"}\n', "jsonl", None, r"choose the field that holds the text"),
    (b'{"text": "\xff"}\n', "jsonl", "text", r"not UTF-8"),
])
def test_bad_files_say_how_to_fix_them(data: bytes, kind, column, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        count_file(io.BytesIO(data), ByteTokenizer(), kind=kind, column=column, name="f.txt")


def test_kind_by_name() -> None:
    assert [detect_kind(n) for n in ("a.txt", "b.md", "c.py", "d.jsonl", "e.NDJSON", "f.csv", "g.tsv")] == \
        ["text", "text", "text", "jsonl", "jsonl", "csv", "csv"]
