"""Input checked up front: every missing or non-UTF-8 file named at once with its first bad byte, before counting."""

from __future__ import annotations

from pathlib import Path

import pytest

import tokviz.corpus.checks as checks
from tokviz.cli.main import main
from tokviz.corpus.checks import check_range, find_bad_sources, require_utf8
from tokviz.training.counts_table import count_files


def _corpus(folder: Path) -> list[Path]:
    good = folder / "good.txt"
    good.write_text("fine text é " * 500, encoding="utf-8")
    late = folder / "late.txt"  # the bad byte far past the first range when ranges are small
    late.write_bytes(b"ok " * 2000 + b"caf\xe9 " + b"ok " * 10 + b"\xff")
    split = folder / "split.txt"  # a multi-byte character cut off at the very end
    split.write_bytes(b"ok ok " + "é".encode()[:1])
    return [good, late, split]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_bad_file_is_named_with_its_first_bad_byte(tmp_path: Path, workers: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "CHECK_RANGE_BYTES", 512)  # many ranges a file, so the earliest must be chosen
    monkeypatch.setattr(checks, "PARALLEL_MIN_BYTES", 0)  # and with 2 workers, checked on a process pool
    paths = _corpus(tmp_path)
    missing = tmp_path / "missing.txt"
    got = find_bad_sources([*paths, missing], workers=workers)
    assert got == [f"{paths[1]} is not valid UTF-8: the first bad byte is 0xe9 at byte 6003",
                   f"{paths[2]} is not valid UTF-8: the first bad byte is 0xc3 at byte 6",
                   f"{missing}: no such file"]


def test_a_character_split_between_blocks_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "BLOCK", 3)
    path = tmp_path / "a.txt"
    path.write_text("aé🌍b" * 50, encoding="utf-8")
    assert check_range(path, 0, path.stat().st_size) is None
    path.write_bytes(b"a\xc3\xa9\xf0\x9f\x8c" + b"b")  # a four-byte character missing its last byte
    found = check_range(path, 0, path.stat().st_size)
    assert found is not None and found[0] == 3 and "0xf0 at byte 3" in found[1]


def test_counting_stops_before_it_starts_and_names_them_all(tmp_path: Path) -> None:
    paths = _corpus(tmp_path)
    seen: list[int] = []
    with pytest.raises(ValueError, match=r"^2 of 3 files cannot be read as UTF-8: .*late.txt .*split.txt .*"
                                         r"--errors replace") as e:
        count_files(paths, on_progress=seen.append)
    assert seen == []  # nothing counted
    assert "0xe9 at byte 6003 (line 1)" in str(e.value) and "0xc3 at byte 6." in str(e.value)
    replaced = count_files(paths, errors="replace")
    assert replaced.pieces()["\ufffd".encode()] == 1 and replaced.pieces()[b" caf"] == 1
    assert "\ufffd".encode() not in count_files(paths, errors="ignore").pieces()
    with pytest.raises(ValueError, match="no such file"):
        require_utf8([tmp_path / "gone.txt"], errors="replace")


def test_the_cli_names_every_bad_file_and_reads_them_with_errors(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in _corpus(tmp_path)]
    out = str(tmp_path / "c.tsv")
    assert main(["count", *files, "-o", out, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "late.txt" in err and "split.txt" in err and "--errors replace" in err
    assert main(["train", *files, str(tmp_path / "gone.txt"), "--vocab-size", "260", "-o",
                 str(tmp_path / "t.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "3 of 4 files cannot be read" in err and "gone.txt: no such file" in err
    assert main(["count", *files, "-o", out, "-q", "--errors", "replace"]) == 0
    assert main(["train", *files, "--vocab-size", "260", "-o", str(tmp_path / "t.json"), "-q",
                 "--errors", "ignore"]) == 0
    assert main(["count", *files, "-o", out, "--errors", "backslashreplace"]) == 2  # not offered on the CLI
