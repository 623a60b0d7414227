"""A local stand-in for the Hugging Face Hub, speaking the parts of its protocol that ``huggingface_hub`` uses to
download files (read from the client's source: ``HfApi.model_info``, ``get_hf_file_metadata``, ``hf_hub_download``).

- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: model info (``id``, ``sha``, ``siblings``,
  ``gated``, ``private``), as JSON.
- ``HEAD`` / ``GET /{repo}/resolve/{rev}/{filename}``: the file, with ``X-Repo-Commit`` (the revision's commit),
  ``ETag`` (the git blob id, quoted) and ``Content-Length``; ``/resolve/main/`` answers with a relative redirect to
  the commit's path the first time, as the Hub answers renamed repositories, so the client's redirect handling runs.
- Errors as the Hub sends them: 404 with ``X-Error-Code: RepoNotFound`` / ``RevisionNotFound`` / ``EntryNotFound``;
  a gated repository's files answer 401 with ``X-Error-Code: GatedRepo`` unless the request carries
  ``Authorization: Bearer <token>`` with the repository's token.

Repos are what the tests write into :attr:`HubServer.repos`; ``requests`` counts what was asked (to prove a second
load did not reach the server) and ``delay`` makes every answer late (a timeout).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class Repo:
    files: dict[str, bytes]
    sha: str = ""
    token: str | None = None  # set: gated, readable only with this token
    revisions: dict[str, str] = field(default_factory=dict)  # branch or tag -> commit

    def __post_init__(self) -> None:
        if not self.sha:
            blob = b"".join(k.encode() + v for k, v in sorted(self.files.items()))
            self.sha = hashlib.sha1(blob).hexdigest()
        self.revisions.setdefault("main", self.sha)

    def commit(self, revision: str) -> str | None:
        if revision in self.revisions:
            return self.revisions[revision]
        return revision if revision in self.revisions.values() else None


class HubServer:
    """A threaded HTTP server on a free local port; ``url`` is what HF_ENDPOINT is set to."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.delay = 0.0
        #: What an unknown repository answers: 404, or 401 as huggingface.co answers a request without a token (it
        #: does not say whether a private repository by that name exists).
        self.unknown_status = 404
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                server._answer(self, head=True)

            def do_GET(self) -> None:  # noqa: N802
                server._answer(self, head=False)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- answers ---------------------------------------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes = b"", *, head: bool = False,
              headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, *, head: bool) -> None:
        body = json.dumps({"error": code}).encode()
        self._send(h, status, body, head=head, headers={"X-Error-Code": code, "X-Error-Message": code,
                                                      "Content-Type": "application/json"})

    def _find(self, parts: list[str]) -> tuple[str, Repo, list[str]] | None:
        """The repository named by the first one or two path parts, and the rest."""
        for n in (2, 1):
            name = "/".join(parts[:n])
            if name in self.repos:
                return name, self.repos[name], parts[n:]
        return None

    def _answer(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = unquote(urlparse(h.path).path)
        self.requests.append(("HEAD" if head else "GET", path))
        if self.delay:
            time.sleep(self.delay)
        try:
            self._route(h, path, head=head)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            pass

    def _route(self, h: BaseHTTPRequestHandler, path: str, *, head: bool) -> None:
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "models"]:
            self._model_info(h, parts[2:], head=head)
        elif "resolve" in parts:
            self._resolve(h, parts, head=head)
        else:
            self._error(h, 404, "RepoNotFound", head=head)

    def _model_info(self, h: BaseHTTPRequestHandler, parts: list[str], *, head: bool) -> None:
        found = self._find(parts)
        if found is None:
            self._error(h, self.unknown_status, "RepoNotFound", head=head)
            return
        name, repo, rest = found
        revision = "/".join(rest[1:]) if rest[:1] == ["revision"] else "main"
        commit = repo.commit(revision)
        if commit is None:
            self._error(h, 404, "RevisionNotFound", head=head)
            return
        info = {"_id": name, "id": name, "modelId": name, "sha": commit, "private": False,
                "gated": "manual" if repo.token else False, "disabled": False, "downloads": 0, "likes": 0,
                "tags": [],
                # With ?blobs=True the Hub adds each file's size and blob id; the client asks for them.
                "siblings": [{"rfilename": f, "size": len(d), "blobId": hashlib.sha1(d).hexdigest()}
                             for f, d in sorted(repo.files.items())]}
        self._send(h, 200, json.dumps(info).encode(), head=head, headers={"Content-Type": "application/json"})

    def _resolve(self, h: BaseHTTPRequestHandler, parts: list[str], *, head: bool) -> None:
        i = parts.index("resolve")
        found = self._find(parts[:i])
        if found is None:
            self._error(h, 404, "RepoNotFound", head=head)
            return
        name, repo, _ = found
        revision, filename = parts[i + 1], "/".join(parts[i + 2:])
        commit = repo.commit(revision)
        if commit is None:
            self._error(h, 404, "RevisionNotFound", head=head)
            return
        if repo.token and h.headers.get("Authorization") != f"Bearer {repo.token}":
            self._error(h, 401, "GatedRepo", head=head)
            return
        if filename not in repo.files:
            self._error(h, 404, "EntryNotFound", head=head)
            return
        if revision != commit:  # a branch: send the client on to the commit's path, relative, as the Hub may
            self._send(h, 307, head=head, headers={"Location": f"/{name}/resolve/{commit}/{filename}",
                                                   "X-Repo-Commit": commit})
            return
        data = repo.files[filename]
        etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        self._send(h, 200, data, head=head, headers={
            "X-Repo-Commit": commit, "ETag": f'"{etag}"', "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes"})


@contextmanager
def hub_server() -> Iterator[HubServer]:
    server = HubServer().start()
    try:
        yield server
    finally:
        server.stop()


def point_client_at(monkeypatch, url: str) -> None:
    """Send what tokviz asks the huggingface_hub client to ``url`` (HF_ENDPOINT, which tokviz reads at each call), and
    switch off the client's one side request, its agent registry: that goes to the address the client read once at
    import (an earlier test may have imported it with the real Hub's), so no test reaches the internet.
    """
    import importlib

    monkeypatch.setenv("HF_ENDPOINT", url)
    try:  # a private module of recent clients; older ones make no such request
        detect_agent = importlib.import_module("huggingface_hub.utils._detect_agent")
    except ImportError:
        return
    if hasattr(detect_agent, "_fetch_registry"):
        monkeypatch.setattr(detect_agent, "_fetch_registry", lambda: None)
