"""Tokenizer files of a Hugging Face Hub model, by id: ``hf:owner/name`` or ``hf:owner/name@revision``.

Only tokenizer files are fetched (:data:`TOKENIZER_FILES`: ``tokenizer.json``, ``tokenizer_config.json``,
``tokenizer.model``, ``tekken.json``, ``vocab.txt``...; never weights), through the ``huggingface_hub`` client, an
optional extra imported only here and only when a Hub id is loaded. The client does the work people expect of it:
its cache (``HF_HOME`` / ``HF_HUB_CACHE``), a token (``HF_TOKEN`` or ``hf auth login``), a mirror (``HF_ENDPOINT``)
and offline mode (``HF_HUB_OFFLINE=1``). These variables are read at each call, not when the client was first
imported, so a process can change them. The files land in the client's cache folder for that revision, and
:func:`tokviz.load_tokenizer` reads that folder with tokviz's own loaders.

A model once fetched opens without the network: when the Hub cannot be reached (or offline mode is on) the cached
files of the revision are used. Every failure is one ``ValueError`` line saying what to do (:class:`HubError`).

Example:
    >>> parse_hub_ref("hf:Qwen/Qwen3-8B@main")
    HubRef(repo_id='Qwen/Qwen3-8B', revision='main')
    >>> parse_hub_ref("gpt2") is None, parse_hub_ref("hf:Qwen/Qwen3-8B").spec
    (True, 'hf:Qwen/Qwen3-8B')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokviz.core.jsonfile import parse_json

#: The files a tokenizer can be read from, and the small configuration files beside them (the context length, the
#: chat template, the special tokens). Names at the top of the repository only: weights never match.
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "tekken.json",
    "vocab.json", "merges.txt", "vocab.txt", "config.json", "chat_template.jinja",
)
#: Files that alone or in their pair make a tokenizer (the others only describe one).
READABLE_FILES: frozenset[str] = frozenset({
    "tokenizer.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "tekken.json", "vocab.json",
    "vocab.txt",
})
#: Seconds to wait for the Hub before falling back on the cache.
TIMEOUT = 10.0
#: Largest tokenizer file fetched, in MB (10^6 bytes), unless ``$TOKVIZ_HUB_MAX_MB`` says otherwise: the largest real
#: ones (Gemma 3's tokenizer.json) are about 33 MB, and a JSON file takes several times its size in memory.
DEFAULT_MAX_MB = 128
MAX_MB_ENV = "TOKVIZ_HUB_MAX_MB"

# owner/name as the Hub spells them (letters, digits, '-', '_', '.'; no '--' or '..'), then an optional revision.
_REPO = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")


class HubError(ValueError):
    """A Hub load that failed, with a one-line message that says how to fix it; ``kind`` names the failure:
    ``offline`` (no network, not cached), ``not_found`` (unknown id or revision), ``gated`` (401/403),
    ``no_tokenizer`` (the repository has no tokenizer files), ``too_large`` (a file over :func:`max_file_bytes`),
    ``timeout``, ``missing_client`` or ``other``."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class HubRef:
    """A model on the Hub: its id and a revision (a branch, tag or commit; None means the default branch)."""

    repo_id: str
    revision: str | None = None

    @property
    def spec(self) -> str:
        """How the model is named to :func:`tokviz.load_tokenizer` and in the app: ``hf:owner/name[@revision]``."""
        return f"hf:{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


@dataclass(frozen=True)
class HubFiles:
    """Tokenizer files of one revision, in the client's cache: ``folder`` holds them (``files`` are their names),
    ``commit`` is the revision's commit hash, ``from_cache`` says the Hub was not asked (offline or unreachable).
    ``model_max_length`` is the context length the files state (``tokenizer_config.json``, else ``config.json``'s
    ``max_position_embeddings``), None when neither says."""

    ref: HubRef
    folder: Path
    files: tuple[str, ...]
    commit: str
    from_cache: bool
    model_max_length: int | None


def parse_hub_ref(spec: str) -> HubRef | None:
    """The Hub model ``spec`` names (``hf:owner/name[@revision]``), None when it does not start with ``hf:``;
    ValueError for a malformed id.

    >>> parse_hub_ref("hf:bert-base-uncased")
    HubRef(repo_id='bert-base-uncased', revision=None)
    >>> parse_hub_ref("hf:not a model")
    Traceback (most recent call last):
    ...
    ValueError: 'hf:not a model' is not a Hub model id: write hf:owner/name, or hf:owner/name@revision.
    """
    if not spec.startswith("hf:"):
        return None
    repo_id, _, revision = spec[3:].strip().partition("@")
    if (not _REPO.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id
            or (revision and (not _REVISION.fullmatch(revision) or ".." in revision))):
        raise ValueError(f"{spec!r} is not a Hub model id: write hf:owner/name, or hf:owner/name@revision.")
    return HubRef(repo_id, revision or None)


def max_file_bytes() -> int:
    """The largest tokenizer file fetched: ``$TOKVIZ_HUB_MAX_MB`` megabytes, else :data:`DEFAULT_MAX_MB` (a value that
    is not a positive number is ignored)."""
    try:
        mb = float(os.environ.get(MAX_MB_ENV, ""))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int((mb if mb > 0 else DEFAULT_MAX_MB) * 1_000_000)


def _size(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 10_000_000 else f"{n:,} bytes"


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _cache_dir() -> str | None:
    """The client's cache folder as the environment says now (the client reads it once, at its import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return None


def _endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or None


def _client() -> Any:
    try:
        import huggingface_hub
    except ImportError as e:
        raise HubError("Loading from the Hugging Face Hub needs the huggingface_hub package: pip install "
                       "'tokviz[hub]' (or pip install huggingface_hub).", kind="missing_client") from e
    return huggingface_hub


def _explain(ref: HubRef, error: BaseException, *, timeout: float = TIMEOUT) -> HubError:
    """One line for a failed Hub call, by the client's exception type (most specific first)."""
    from huggingface_hub import errors

    name = ref.spec
    if isinstance(error, errors.GatedRepoError):
        return HubError(f"{name} is gated: accept its licence on https://huggingface.co/{ref.repo_id} and give a "
                        "token of that account (set HF_TOKEN, or run `hf auth login`).", kind="gated")
    if isinstance(error, errors.RevisionNotFoundError):
        return HubError(f"{name}: the repository has no revision {ref.revision!r}; give a branch, tag or commit it "
                        "has (or leave out @revision).", kind="not_found")
    if isinstance(error, errors.RepositoryNotFoundError):
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            return HubError(f"{name}: no such model, or it is private or gated: check the id on "
                            f"https://huggingface.co/{ref.repo_id}; if it is gated, accept its licence there and "
                            "set HF_TOKEN to a token of that account.", kind="gated")
        return HubError(f"{name}: no such model on the Hub; check the id (owner/name, as in the model page's "
                        "address).", kind="not_found")
    if isinstance(error, errors.HfHubHTTPError):
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            return HubError(f"{name}: access refused ({status}); set HF_TOKEN to a token that may read it (and accept "
                            "the licence on the model page if it is gated).", kind="gated")
        return HubError(f"{name}: the Hub answered {status or 'with an error'}; try again later.", kind="other")
    if isinstance(error, TimeoutError) or "Timeout" in type(error).__name__:
        return HubError(f"{name}: the Hub did not answer within {timeout:g} s and the tokenizer is not in the cache; "
                        "try again, or set HF_ENDPOINT to a mirror you can reach.", kind="timeout")
    return HubError(f"{name}: the Hub cannot be reached and this model is not in the cache "
                    f"({_cache_dir() or 'the huggingface_hub cache'}); connect once to fetch it, after which it "
                    "opens offline.", kind="offline")


def _cached(ref: HubRef, hub: Any) -> HubFiles | None:
    """The revision's tokenizer files already in the cache, without the network; None when none is there."""
    found: dict[str, Path] = {}
    for filename in TOKENIZER_FILES:
        got = hub.try_to_load_from_cache(ref.repo_id, filename, cache_dir=_cache_dir(), revision=ref.revision)
        if isinstance(got, str):
            found[filename] = Path(got)
    if not any(f in READABLE_FILES for f in found):
        return None
    folder = next(iter(found.values())).parent
    return _files(ref, folder, tuple(found), commit=folder.name, from_cache=True)


def _files(ref: HubRef, folder: Path, names: tuple[str, ...], *, commit: str, from_cache: bool) -> HubFiles:
    return HubFiles(ref, folder, names, commit, from_cache, _max_length(folder, names))


def _max_length(folder: Path, names: tuple[str, ...]) -> int | None:
    """The context length the files state: tokenizer_config's model_max_length unless it is transformers' "no
    limit" placeholder (1e30), else config.json's max_position_embeddings."""
    for filename, key in (("tokenizer_config.json", "model_max_length"), ("config.json", "max_position_embeddings")):
        if filename not in names:
            continue
        try:
            data = parse_json((folder / filename).read_text(encoding="utf-8"), source=filename)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        value = data.get(key) if isinstance(data, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e12:
            return int(value)
    return None


def fetch_tokenizer_files(ref: HubRef, *, timeout: float = TIMEOUT) -> HubFiles:
    """Download (or find in the cache) the tokenizer files of ``ref``; :class:`HubError` when there are none.

    The Hub is asked once for the revision's file list (model info), then each tokenizer file is fetched through
    the client's cache (a file already there is not downloaded again). With ``HF_HUB_OFFLINE=1``, or when the Hub
    cannot be reached, the cached files are used.
    """
    hub = _client()
    from huggingface_hub import errors

    if _env_true("HF_HUB_OFFLINE"):
        got = _cached(ref, hub)
        if got is None:
            raise HubError(f"{ref.spec} is not in the cache and HF_HUB_OFFLINE is set: unset it and connect once to "
                           "fetch the tokenizer, after which it opens offline.", kind="offline")
        return got
    token = os.environ.get("HF_TOKEN") or None
    api = hub.HfApi(endpoint=_endpoint(), token=token)
    try:
        info = api.model_info(ref.repo_id, revision=ref.revision, timeout=timeout, files_metadata=True)
        sizes = {s.rfilename: s.size for s in (info.siblings or ())}
        names = tuple(f for f in TOKENIZER_FILES if f in sizes)
        if not any(f in READABLE_FILES for f in names):
            raise HubError(f"{ref.spec} has no tokenizer files (none of {', '.join(sorted(READABLE_FILES))} at the "
                           "top of the repository); try the base model's id, which usually holds them.",
                           kind="no_tokenizer")
        bound = max_file_bytes()
        for f in names:
            size = sizes[f]
            if isinstance(size, int) and size > bound:
                raise HubError(f"{ref.spec}: {f} is {_size(size)}, over this server's bound of {_size(bound)} for a "
                               f"tokenizer file (set {MAX_MB_ENV} to raise it).", kind="too_large")
        paths = [Path(hub.hf_hub_download(ref.repo_id, f, revision=ref.revision, cache_dir=_cache_dir(),
                                          endpoint=_endpoint(), token=token, etag_timeout=timeout))
                 for f in names]
    except HubError:
        raise
    except (errors.HfHubHTTPError, errors.EntryNotFoundError) as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(e, errors.HfHubHTTPError) and (status is None or status >= 500):
            got = _cached(ref, hub)  # the Hub is down: a cached copy still opens
            if got is not None:
                return got
        raise _explain(ref, e, timeout=timeout) from None
    except (OSError, TimeoutError, RuntimeError) as e:  # no network (the client's transport errors), a timeout
        got = _cached(ref, hub)
        if got is not None:
            return got
        raise _explain(ref, e, timeout=timeout) from None
    except Exception as e:
        # httpx's transport errors are not OSErrors; anything else from the client is a network failure too.
        if "httpx" not in type(e).__module__:
            raise
        got = _cached(ref, hub)
        if got is not None:
            return got
        raise _explain(ref, e, timeout=timeout) from None
    folder = paths[0].parent
    return _files(ref, folder, names, commit=str(info.sha or folder.name), from_cache=False)
