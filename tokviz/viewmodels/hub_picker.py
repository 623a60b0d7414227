"""The sidebar's model box: what a user types (an OpenAI model name, a Hub id, a Hub page address) made into what
:func:`tokviz.load_tokenizer` takes, the gallery of popular open models as choices and as a table, and the load.

Example:
    >>> model_spec("Qwen/Qwen3-8B"), model_spec(" gpt-4o "), model_spec("https://huggingface.co/google-bert/bert-base-uncased")
    ('hf:Qwen/Qwen3-8B', 'gpt-4o', 'hf:google-bert/bert-base-uncased')
    >>> gallery_choices()["Qwen 2.5 / 3 · Qwen3 8B"]
    'hf:Qwen/Qwen3-8B'
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from tokviz.core.protocol import TokenizerLike
from tokviz.formats.chat_encodings import CHAT_ENCODINGS
from tokviz.formats.dispatch import load_tokenizer
from tokviz.formats.hub import HubRef, fetch_tokenizer_files, parse_hub_ref
from tokviz.formats.hub_gallery import GALLERY
from tokviz.formats.model_names import close_names, encoding_name_for_model
from tokviz.formats.pretrained import is_encoding_name
from tokviz.viewmodels.markdown import code_span, escape_markdown

_PAGE = re.compile(r"^https?://(?:www\.)?huggingface\.co/(?!datasets/|spaces/)([^?#]+?)(?:/tree/([^/?#]+))?/?(?:[?#].*)?$")


def model_spec(text: str) -> str:
    """The name :func:`tokviz.load_tokenizer` takes for what was typed; ValueError saying what to type.

    >>> model_spec("hf:acme/x@v1"), model_spec("huggingface.co/acme/x/tree/v1")
    ('hf:acme/x@v1', 'hf:acme/x@v1')
    >>> model_spec("llama")
    Traceback (most recent call last):
    ...
    ValueError: 'llama' is not an OpenAI model name or a Hub id: type owner/name, or a name such as gpt-4o.
    """
    s = text.strip()
    if not s:
        raise ValueError("Type a Hub model id (owner/name) or an OpenAI model name such as gpt-4o.")
    if s.startswith("huggingface.co/"):
        s = "https://" + s
    page = _PAGE.match(s)
    if page:
        s = f"hf:{page.group(1)}" + (f"@{page.group(2)}" if page.group(2) else "")
    if s.startswith("hf:"):
        parse_hub_ref(s)  # raises for a malformed id
        return s
    if encoding_name_for_model(s) is not None or is_encoding_name(s) or s in CHAT_ENCODINGS:
        return s
    if "/" in s:
        parse_hub_ref("hf:" + s)
        return "hf:" + s
    near = close_names(s)
    if near:
        raise ValueError(f"{s!r} is not an OpenAI model name or a Hub id; did you mean {', '.join(near)}?")
    raise ValueError(f"{s!r} is not an OpenAI model name or a Hub id: type owner/name, or a name such as gpt-4o.")


def gallery_choices() -> dict[str, str]:
    """Label shown in the picker -> the id to load, in gallery order, family first; gated ones say so."""
    return {f"{m.family} · {m.name}" + (" (gated)" if m.gated else ""): m.spec for m in GALLERY}


def gallery_rows() -> list[dict[str, str]]:
    """The gallery as table rows (family, model, Hub id, gated, licence, tokenizer), for a page to draw."""
    return [{"family": m.family, "model": m.name, "Hub id": m.repo_id, "gated": "yes" if m.gated else "no",
             "licence": m.licence, "tokenizer": m.tokenizer} for m in GALLERY]


def gallery_markdown() -> str:
    """The gallery as a Markdown table (family, model, Hub id, gated, licence), cells escaped.

    >>> gallery_markdown().splitlines()[2].split(" | ")[:3]
    ['| Llama 3\\\\.x', 'Llama 3\\\\.1 8B Instruct', '`meta-llama/Llama-3.1-8B-Instruct`']
    """
    lines = ["| family | model | Hub id | gated | licence |", "|---|---|---|---|---|"]
    for r in gallery_rows():
        cells = [escape_markdown(r["family"]), escape_markdown(r["model"]), code_span(r["Hub id"]), r["gated"],
                 escape_markdown(r["licence"])]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class LoadedModel:
    """A tokenizer loaded by name or Hub id: the name it is listed under (the spec), the tokenizer, the context
    length its files state (Hub models; None when unknown), and the commit it came from."""

    name: str
    tokenizer: TokenizerLike
    context: int | None
    commit: str | None = None


#: Hub tokenizers read in this process, by name and the cache folder of their revision, so that sessions opening the
#: same model (or a link, again and again) share one copy instead of parsing the files each time; the least recently
#: used goes first.
_READ: OrderedDict[tuple[str, str], TokenizerLike] = OrderedDict()
_READ_MAX = 8
_read_lock = threading.Lock()


_COMMIT = re.compile(r"[0-9a-f]{40}")


def link_value(loaded: LoadedModel) -> str:
    """How a link carries a loaded model: its name, and for a Hub model the commit it was read at after ``#``, so
    the link shows that revision even after the branch moves on.

    >>> from tokviz.models.baselines import ByteTokenizer
    >>> link_value(LoadedModel("hf:acme/x", ByteTokenizer(), None, "a" * 40)) == "hf:acme/x#" + "a" * 40
    True
    >>> link_value(LoadedModel("gpt-4o", ByteTokenizer(), None))
    'gpt-4o'
    """
    if loaded.name.startswith("hf:") and loaded.commit and _COMMIT.fullmatch(loaded.commit):
        return f"{loaded.name}#{loaded.commit}"
    return loaded.name


def from_link_value(value: str) -> tuple[str, str | None]:
    """``(name, commit)`` from :func:`link_value`'s form; the commit is None when the value pins none.

    >>> from_link_value("hf:acme/x#" + "b" * 40)[1] == "b" * 40, from_link_value("gpt-4o")
    (True, ('gpt-4o', None))
    """
    name, _, commit = value.partition("#")
    return (name, commit) if name.startswith("hf:") and _COMMIT.fullmatch(commit) else (value, None)


def load_model(spec: str, *, commit: str | None = None) -> LoadedModel:
    """Load what :func:`model_spec` returned (a Hub model at ``commit`` when given, still listed as ``spec``);
    ValueError (one line) when it cannot be loaded."""
    ref = parse_hub_ref(spec)
    if ref is None:
        return LoadedModel(spec, load_tokenizer(spec), None)
    if commit is not None:
        ref = HubRef(ref.repo_id, commit)
    files = fetch_tokenizer_files(ref)  # the Hub (or its cache) says which revision this is, before anything is read
    key = (spec, f"{files.folder}:{','.join(files.files)}")
    with _read_lock:
        tok = _READ.get(key)
        if tok is not None:
            _READ.move_to_end(key)
    if tok is None:
        tok = load_tokenizer(files.folder, name=spec)
        with _read_lock:
            _READ[key] = tok
            while len(_READ) > _READ_MAX:
                _READ.popitem(last=False)
    return LoadedModel(spec, tok, files.model_max_length, files.commit)
