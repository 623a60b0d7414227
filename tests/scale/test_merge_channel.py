"""The direct line between the merge's coordinator and a shard: deltas come back for each merge, a shard's own error
is raised with its type, a caller without the key is dropped (and the right one still served), and a line that
breaks says so."""

from __future__ import annotations

import threading
from multiprocessing import AuthenticationError

import pytest

from tokviz.scale.merge_channel import LineBroken, Lines, connect, listen, serve
from tokviz.training.sharded_merge import Deltas, WordShard


def _serving(merge: object) -> tuple[tuple[tuple[str, int], bytes], threading.Thread]:
    key, listener = listen("127.0.0.1")
    thread = threading.Thread(target=serve, args=(listener, merge), daemon=True)
    thread.start()
    return (listener.address, key), thread


def test_merges_go_to_every_shard_and_deltas_come_back() -> None:
    shards = [WordShard({"abab": 2}), WordShard({"xab": 1})]
    served = [_serving(s.merge) for s in shards]
    lines = Lines([line for line, _ in served])
    assert lines.merge("ab", chr(256)) == [({"ba": -2}, {chr(256) * 2: 2}), ({"xa": -1}, {"x" + chr(256): 1})]
    lines.close()
    for _, thread in served:
        thread.join(5)
        assert not thread.is_alive()  # the session ended with the coordinator's None


def test_a_shard_error_keeps_its_type_and_message() -> None:
    def merge(best: str, x: str) -> Deltas:
        raise ValueError(f"cannot merge {best!r}")

    line, thread = _serving(merge)
    lines = Lines([line])
    with pytest.raises(ValueError, match="cannot merge 'ab'"):
        lines.merge("ab", "X")
    lines.close()
    thread.join(5)


def test_a_wrong_key_is_dropped_and_the_right_one_served() -> None:
    (address, key), thread = _serving(WordShard({"ab": 1}).merge)
    with pytest.raises(AuthenticationError):
        connect(address, b"not the key")
    lines = Lines([(address, key)])
    assert lines.merge("ab", chr(256)) == [({}, {})]
    lines.close()
    thread.join(5)


def test_a_broken_line_says_so() -> None:
    key, listener = listen("127.0.0.1")

    def hang_up() -> None:  # a shard whose process dies after the handshake
        with listener, listener.accept():
            pass

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    lines = Lines([(listener.address, key)])
    thread.join(5)
    with pytest.raises(LineBroken, match="its worker is gone"):
        lines.merge("ab", "X")
    lines.close()
