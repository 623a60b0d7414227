"""Downloads of a trained tokenizer: each format's bytes load back (library and CLI) to the same ids."""

from __future__ import annotations

import io
import shlex
import zipfile
from pathlib import Path

import pytest

from tokviz import train_bpe
from tokviz.cli.main import main as cli_main
from tokviz.core.protocol import encode_as_shown
from tokviz.formats import load_tokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.viewmodels.export import (
    EXPORT_FORMATS,
    Download,
    ExportFailure,
    downloads,
    export,
    load_command,
    zip_folder,
)

CORPUS = "".join(f"Line {i}: the lowest newest café 🌍 costs {i * 37 % 1000} <|endoftext|>\n" for i in range(300))
SAMPLE = "the newest café 🌍 costs 123 <|endoftext|> lowest\n"


@pytest.fixture(scope="module", params=["gpt2", "gpt4", r"\p{L}+| ?\p{N}+|\s+|[^\s\p{L}\p{N}]+"])
def tok(request) -> Tokenizer:
    return train_bpe([CORPUS], vocab_size=400, special_tokens=["<|endoftext|>"], pattern=request.param, name="t")


def _write(d: Download, folder: Path) -> Path:
    """Save a download as a browser would; a zip is unpacked into a folder named after it."""
    path = folder / d.file_name
    path.write_bytes(d.data)
    if d.format != "gpt2":
        return path
    out = folder / d.file_name.removesuffix(".zip")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(out)
    return out


def test_every_format_is_offered_with_name_and_mime(tok: Tokenizer) -> None:
    got = downloads(tok, stem="trained-1")
    assert [d.format for d in got] == list(EXPORT_FORMATS)
    assert all(isinstance(d, Download) for d in got)
    assert [(d.file_name, d.mime) for d in got if isinstance(d, Download)] == [
        ("trained-1.json", "application/json"), ("trained-1-tokenizer.json", "application/json"),
        ("trained-1-gpt2.zip", "application/zip"), ("trained-1.tiktoken", "text/plain"),
        ("trained-1.model", "text/plain")]


def test_downloads_load_back_to_the_same_ids(tok: Tokenizer, tmp_path: Path) -> None:
    want = encode_as_shown(tok, SAMPLE)
    assert tok.special_ids["<|endoftext|>"] in want
    for d in downloads(tok, stem="t"):
        assert isinstance(d, Download)
        path = _write(d, tmp_path)
        opts = {"tokviz": {}, "hf": {}, "minbpe": {}, "gpt2": {"pattern": tok.pattern},
                "tiktoken": {"pattern": tok.pattern, "special_tokens": tok.special_ids}}[d.format]
        back = load_tokenizer(path, **opts)
        if d.format == "minbpe":  # minbpe numbers bytes 0-255 and merges from 256: the same tokens, other ids
            assert any("renumbered" in n for n in d.notes)
            assert [back.vocab[i] for i in encode_as_shown(back, SAMPLE)] == [tok.vocab[i] for i in want]
            continue
        assert encode_as_shown(back, SAMPLE) == want, d.format
        assert back.decode(want) == SAMPLE


def _run_shown(command: str, capsys) -> list[int]:
    """Run a shown load command in this process, through the CLI's main()."""
    argv = shlex.split(command.split(" && ")[-1])  # an unzip step was done by _write
    capsys.readouterr()
    assert argv[:2] == ["tokviz", "encode"]
    assert cli_main(argv[1:]) == 0, capsys.readouterr().err
    return [int(x) for x in capsys.readouterr().out.split()]


def test_the_shown_command_loads_it_back(tok: Tokenizer, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for d in downloads(tok, stem="t"):
        assert isinstance(d, Download)
        _write(d, tmp_path)
        assert load_command(tok, d.format, d.file_name) == d.load_command
        got = _run_shown(load_command(tok, d.format, d.file_name, text=SAMPLE), capsys)
        if d.format == "minbpe":  # renumbered (see the download's note): the same number of the same tokens
            assert len(got) == len(encode_as_shown(tok, SAMPLE))
            continue
        assert got == encode_as_shown(tok, SAMPLE), d.format


def test_without_special_tokens_every_command_is_the_cli(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    tok = train_bpe([CORPUS], vocab_size=300, pattern="o200k")
    for d in downloads(tok, stem="plain"):
        assert isinstance(d, Download)
        _write(d, tmp_path)
        assert "tokviz encode" in d.load_command
        assert ("--pattern o200k" in d.load_command) == (d.format in ("gpt2", "tiktoken"))  # the others keep it
        assert _run_shown(load_command(tok, d.format, d.file_name, text=SAMPLE), capsys) == encode_as_shown(tok, SAMPLE)


def test_gpt2_zip_holds_the_two_files_and_is_reproducible(tok: Tokenizer) -> None:
    a = export(tok, format="gpt2", stem="t")
    assert zipfile.ZipFile(io.BytesIO(a.data)).namelist() == ["merges.txt", "vocab.json"]
    assert export(tok, format="gpt2", stem="t").data == a.data


def test_notes_say_what_a_format_cannot_carry() -> None:
    tok = train_bpe([CORPUS], vocab_size=300, special_tokens=["<|endoftext|>"], pattern="gpt4")
    notes = {d.format: " ".join(d.notes) for d in downloads(tok, stem="x") if isinstance(d, Download)}
    assert notes["tokviz"] == ""
    assert "pattern" in notes["gpt2"] and "special_tokens" in notes["tiktoken"]


def test_a_format_that_cannot_hold_the_tokenizer_is_a_failure_with_the_reason() -> None:
    # Merge tokens with ids out of merge order: a rank file cannot give these merges back.
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"cd", 257: b"ab"}
    tok = Tokenizer(vocab, [(b"a", b"b"), (b"c", b"d")])
    got = {d.format: d for d in downloads(tok, stem="odd")}
    assert isinstance(got["tiktoken"], ExportFailure) and "merge order" in got["tiktoken"].message
    assert isinstance(got["tokviz"], Download) and isinstance(got["gpt2"], Download)


def test_unknown_format_and_zip_of_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown download format"):
        export(train_bpe(["ab ab"], vocab_size=257), format="sentencepiece", stem="x")
    (tmp_path / "b.txt").write_text("B")
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "sub").mkdir()
    assert zipfile.ZipFile(io.BytesIO(zip_folder(tmp_path))).namelist() == ["a.txt", "b.txt"]
