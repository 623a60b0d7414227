"""``tokviz tokens``: a table (or JSON) of files x tokenizers with ratios, context shares and totals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokviz.cli.main import main
from tokviz.formats.pretrained import load_encoding


def test_files_by_tokenizers_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.md"
    a.write_text("# Title\n\nSome words here, and more.\n", encoding="utf-8")
    b = tmp_path / "b.jsonl"
    b.write_text('{"text": "hello world"}\n{"text": "bye now"}\n', encoding="utf-8")
    assert main(["tokens", str(a), str(b), "--column", "text", "-t", "gpt-4o,cl100k_base", "--context", "8",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["tokenizer"]) for r in out["files"]] == [
        (str(a), "gpt-4o"), (str(b), "gpt-4o"), (str(a), "cl100k_base"), (str(b), "cl100k_base")]
    o200k = load_encoding("o200k_base")
    want_a = len(o200k.encode(a.read_text(encoding="utf-8")))
    want_b = len(o200k.encode("hello world")) + len(o200k.encode("bye now"))
    first = out["files"][0]
    assert first["tokens"] == want_a and first["words"] == 7 and first["share_of_context"] == round(want_a / 8, 6)
    assert out["files"][1]["records"] == 2 and out["files"][1]["tokens"] == want_b
    assert out["totals"][0]["tokens"] == want_a + want_b and out["totals"][0]["file"] == "(total)"


def test_the_table_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.txt"
    a.write_text("hello world " * 100, encoding="utf-8")
    assert main(["tokens", str(a), "-t", "gpt-4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["file", "tokenizer", "tokens", "bytes/token", "chars/token", "words/token"]
    want = len(load_encoding("cl100k_base").encode(a.read_text(encoding="utf-8")))
    assert lines[1].split()[1:3] == ["gpt-4", str(want)]
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["tokens", str(csv_file), "-t", "gpt-4"]) == 2
    assert "needs --column NAME" in capsys.readouterr().err
    assert main(["tokens", str(tmp_path / "none.txt"), "-t", "gpt-4"]) == 2
    assert "none.txt: no such file." in capsys.readouterr().err
    assert main(["tokens", str(a), "-t", "gpt-4", "--context", "0"]) == 2
    assert "--context must be a positive number" in capsys.readouterr().err


def test_list_names_models_and_hub_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "by model name" in out and "gpt-4o                 o200k_base" in out
    assert "gpt-3.5-turbo          cl100k_base" in out and "hf:owner/name[@revision]" in out
