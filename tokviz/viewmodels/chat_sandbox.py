"""Chat templates from model files rendered in a separate process under a time limit, so a template that loops for
ever (jinja2's sandbox stops escapes, not long loops) is stopped with a message instead of freezing the server.

One worker process (started with ``spawn``, dying with the server) renders every session's templates in turn, over a
pipe; its start and its first template (importing jinja2) are waited for outside the limit. A render that runs past
:data:`TIME_LIMIT` seconds kills that worker, and a new one takes its place at the next render.

Example:
    >>> render_in_sandbox("{{ messages[0].content }}!", [{"messages": [{"role": "user", "content": "hi"}]}])
    ['hi!']
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from tokviz.chat.jinja_render import TemplateError, render_jobs

#: Seconds one conversation's renders may take (real templates take milliseconds).
TIME_LIMIT = 5.0
#: Seconds a new worker may take to start (a new interpreter importing tokviz and jinja2 on a busy machine).
START_LIMIT = 120.0


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def _serve(conn: Connection, parent_pid: int) -> None:
    # A server killed outright must not leave a template running. Not the kernel's parent-death signal
    # (tokviz.core.lifeline): it fires when the *thread* that started the worker ends, and Streamlit runs each
    # rerun in a thread of its own.
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True).start()
    while True:
        try:
            template, jobs = conn.recv()
        except EOFError:
            return
        conn.send(render_jobs(template, jobs))


class _Worker:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True)
        self.proc.start()
        child.close()

    def call(self, template: str, jobs: list[dict[str, Any]],
             timeout: float) -> tuple[list[str | TemplateError] | None, bool]:
        """``(renders, True)``; ``(None, True)`` when they took longer than ``timeout`` seconds (the worker is then
        killed); ``(None, False)`` when the worker was gone before."""
        try:
            self.conn.send((template, jobs))
            if self.conn.poll(timeout):
                result: list[str | TemplateError] = self.conn.recv()
                return result, True
        except (OSError, EOFError):  # killed from outside
            self.close()
            return None, False
        self.close()
        return None, True

    def close(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def render_in_sandbox(template: str, jobs: list[dict[str, Any]], *,
                      time_limit: float | None = None) -> list[str | TemplateError]:
    """:func:`tokviz.chat.jinja_render.render_jobs` in the worker process; every job fails with one message when
    the renders take longer than ``time_limit`` (default :data:`TIME_LIMIT`) seconds."""
    global _worker
    limit = TIME_LIMIT if time_limit is None else time_limit
    with _lock:
        for _ in range(2):  # a worker found gone (killed from outside) is replaced once
            if _worker is None:
                worker = _Worker()
                if worker.call("{{ 1 }}", [{}], START_LIMIT)[0] is None:  # started, jinja2 imported
                    return [TemplateError("chat template error: the template worker did not start.") for _ in jobs]
                _worker = worker
            result, answered = _worker.call(template, jobs, limit)
            if result is not None:
                return result
            _worker = None
            if answered:
                stopped = TemplateError(f"chat template error: it ran longer than {limit:g} s and was stopped.")
                return [stopped for _ in jobs]
        return [TemplateError("chat template error: the template worker stopped.") for _ in jobs]
