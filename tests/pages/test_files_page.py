"""The Files page under AppTest: uploaded files x chosen tokenizers, with counts equal to encoding the files, a
column picked for JSONL/CSV, totals, a CSV download, and a bad file said in its row."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tokviz.formats.pretrained import load_encoding

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "tokviz" / "pages" / "files.py"


def ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def _app(chosen: list[str]) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["chosen"] = chosen
    return at


def _upload(at: AppTest, files: list[tuple[str, bytes]]) -> None:
    # AppTest has no file-uploader element: the page reads uploads from the widget's value, so give it objects that
    # behave as Streamlit's UploadedFile does (a BytesIO with a name, size and file_id).
    class Upload(io.BytesIO):
        def __init__(self, name: str, data: bytes) -> None:
            super().__init__(data)
            self.name, self.size, self.file_id = name, len(data), f"id-{name}-{len(data)}"

    at.session_state["files_upload"] = [Upload(n, d) for n, d in files]


def test_files_by_tokenizers(cache_dir) -> None:
    text = "Hello world!\n\nTokenizers count this file. 12345 🙂\n" * 50
    records = [{"id": 1, "text": "first record"}, {"id": 2, "text": "second, longer record here"}]
    jsonl = "".join(json.dumps(r) + "\n" for r in records).encode()
    at = _app(["GPT-4 · cl100k_base"])
    _upload(at, [("notes.md", text.encode()), ("data.jsonl", jsonl), ("bad.txt", b"ok \xff bad")])
    ok(at.run())
    assert at.selectbox(key="files_column_1").value == "text"
    rows = at.dataframe[0].value.to_dict("records")
    enc = load_encoding("cl100k_base")
    want_md = len(enc.encode(text))
    want_jsonl = sum(len(enc.encode(r["text"])) for r in records)
    by_file = {r["file"]: r for r in rows}
    assert by_file["notes.md"]["tokens"] == want_md
    assert by_file["data.jsonl"]["tokens"] == want_jsonl
    assert by_file["(total)"]["tokens"] == want_md + want_jsonl
    assert by_file["notes.md"]["of context"] == f"{want_md / 8192:.1%} of 8,192"
    assert "bad.txt: not UTF-8 text (byte 3)" in by_file["bad.txt"]["problem"]
    assert at.get("download_button")[0].proto.label == "Download CSV"
    # A typed context window changes the share column (a new session: AppTest's uploads last one run).
    at = _app(["GPT-4 · cl100k_base"])
    at.session_state["files_context"] = 1000
    _upload(at, [("notes.md", text.encode())])
    ok(at.run())
    rows = {r["file"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert rows["notes.md"]["of context"] == f"{want_md / 1000:.1%} of 1,000"



def test_a_file_named_as_markdown_is_shown_as_text(cache_dir) -> None:
    name = "![x](http://127.0.0.1:9/leak)<b>b</b>.jsonl"
    at = _app(["GPT-4 · cl100k_base"])
    _upload(at, [(name, b'{"text": "hi"}\n')])
    ok(at.run())
    label = at.selectbox(key="files_column_0").label
    assert "\\!\\[x\\]" in label and "](http" not in label.replace("\\]", "")
