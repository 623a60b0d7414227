"""Offsets from ids: the pure sums run with the garbage collector paused and leave it as they found it."""

from __future__ import annotations

import pytest


class _Watching(list):
    """A table of token lengths that notes whether the garbage collector ran on while it was read."""

    seen: list[bool]

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        import gc

        self.seen.append(gc.isenabled())
        return super().__getitem__(key)


def test_spans_are_built_with_the_collector_paused_and_left_on():
    import dataclasses
    import gc

    from tokviz.core.id_offsets import ByteTables, encoding_from_ids

    vocab = {0: b"a", 1: b"\xc3", 2: b"\xa9"}
    lengths = _Watching(ByteTables.of(vocab).lengths)
    lengths.seen = []
    tables = dataclasses.replace(ByteTables.of(vocab), lengths=lengths)
    assert gc.isenabled()
    enc = encoding_from_ids([0, 1, 2], vocab, tables, ascii_text=False, special=[False] * 3, pieces=[])
    assert enc.char_spans == [(0, 1), (1, 2), (1, 2)] and lengths.seen == [False] * 3 and gc.isenabled()
    # An error inside leaves it on; a collector the caller turned off stays off.
    with pytest.raises(IndexError):
        encoding_from_ids([7], vocab, tables, ascii_text=True, special=[False], pieces=[])
    assert gc.isenabled()
    gc.disable()
    try:
        encoding_from_ids([0], vocab, ByteTables.of(vocab), ascii_text=True, special=[False], pieces=[])
        assert not gc.isenabled()
    finally:
        gc.enable()
