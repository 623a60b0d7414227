"""A direct line from the merge's coordinator to each shard: one socket per shard, pickled (pair, new token) out and
deltas back, authenticated by a random key (``multiprocessing.connection``'s HMAC handshake, before anything is
unpickled).

Why not only Dask actor calls: each merge is one round trip to every shard, and nothing can be pipelined across
merges. On this machine a Dask actor call took 2 to 6 ms (client event loop, a comm through the scheduler unless the
client talks to workers directly, the worker's actor thread), a message on a socket between two processes 0.04 to
0.06 ms; the deltas of one merge are about 600 bytes pickled on average. The shard's end runs in a thread of the
worker process (:func:`serve`), beside Dask's own event loop; where the client cannot reach the workers' hosts on a
new port, :mod:`tokviz.scale.dask_merge` falls back to actor calls.

Example:
    >>> import threading
    >>> from tokviz.training.sharded_merge import WordShard
    >>> key, listener = listen("127.0.0.1")
    >>> thread = threading.Thread(target=serve, args=(listener, WordShard({"abab": 2}).merge), daemon=True)
    >>> thread.start()
    >>> lines = Lines([(listener.address, key)])
    >>> lines.merge("ab", chr(256))
    [({'ba': -2}, {'ĀĀ': 2})]
    >>> lines.close(); thread.join(5)
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge

from tokviz.training.sharded_merge import Deltas

#: Seconds to wait for a shard's port to answer before the caller falls back to another way.
CONNECT_TIMEOUT = 10.0


class LineBroken(ConnectionError):
    """A shard's line closed or failed mid-merge (its process died, or the network between)."""


def listen(host: str) -> tuple[bytes, Listener]:
    """A random key and a listener on a free port of ``host`` (the address the worker itself listens on)."""
    key = os.urandom(32)
    return key, Listener((host, 0), authkey=key)


def serve(listener: Listener, merge: Callable[[str, str], Deltas]) -> None:
    """Answer one coordinator: for each ``(pair, new token)`` received, ``merge``'s deltas (or the error it raised);
    ``None`` ends it. Connections that fail the key's handshake are dropped and the next one is waited for."""
    with listener:
        while True:
            try:
                conn = listener.accept()
            except (AuthenticationError, EOFError, ConnectionError):
                continue  # a wrong key, or a caller that hung up before the handshake ended
            with conn:
                _answer(conn, merge)
            return


def _answer(conn: Connection, merge: Callable[[str, str], Deltas]) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            answer: tuple[str, object] = ("ok", merge(*message))
        except Exception as e:  # sent back whole, raised by the coordinator with its own type and message
            answer = ("error", e)
        conn.send(answer)


def connect(address: tuple[str, int], key: bytes, *, timeout: float = CONNECT_TIMEOUT) -> Connection:
    """A line to the shard listening at ``address``; OSError if it does not answer within ``timeout`` seconds."""
    sock = socket.create_connection(address, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small messages, one each way per merge
    sock.settimeout(None)  # Connection reads the raw descriptor, which must block
    conn = Connection(sock.detach())
    try:
        answer_challenge(conn, key)
        deliver_challenge(conn, key)
    except BaseException:
        conn.close()
        raise
    return conn


class Lines:
    """The coordinator's end: one line per shard, each merge sent to all of them before any answer is read."""

    def __init__(self, shards: Sequence[tuple[tuple[str, int], bytes]], *, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect to each shard's (address, key)."""
        self.conns: list[Connection] = []
        try:
            for address, key in shards:
                self.conns.append(connect((str(address[0]), int(address[1])), key, timeout=timeout))
        except BaseException:
            self.close()
            raise

    def merge(self, best: str, x: str) -> list[Deltas]:
        """Every shard's deltas for merging ``best`` into ``x``; a shard's own error is raised as it was."""
        try:
            for conn in self.conns:
                conn.send((best, x))
            answers = [conn.recv() for conn in self.conns]
        except (EOFError, OSError) as e:
            raise LineBroken(f"a merge shard's line broke ({e!r}); its worker is gone.") from e
        out: list[Deltas] = []
        for status, value in answers:
            if status != "ok":
                raise value
            out.append(value)
        return out

    def close(self) -> None:
        """End every shard's session (its thread returns) and close the lines."""
        for conn in self.conns:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        self.conns = []
