"""A Dask client for an address as the command line gives it: a scheduler's address, or ``local:N``.

``local:N`` starts a ``LocalCluster`` of N worker processes with one thread each (pure-Python counting holds the
GIL, so threads would not run in parallel), no dashboard; it is closed with the client.

Example:
    >>> parse_address("local:2"), parse_address("tcp://10.0.0.5:8786")
    (2, 'tcp://10.0.0.5:8786')
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def parse_address(address: str) -> int | str:
    """The number of local workers for ``local:N``, else the scheduler address itself."""
    if address.startswith("local:"):
        n = address.removeprefix("local:")
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--dask {address!r}: local:N needs a number of workers N >= 1, e.g. local:2.")
        return int(n)
    if not address:
        raise ValueError("--dask needs a scheduler address (tcp://HOST:8786) or local:N.")
    return address


def import_distributed() -> Any:
    """The ``distributed`` module, or a ValueError saying how to install it."""
    try:
        import distributed
    except ImportError as e:
        hint = "pip install 'tokviz[scale]' (dask[distributed], fsspec, numpy)"
        raise ValueError(f"Dask is not installed: {hint}.") from e
    return distributed


@contextmanager
def connect(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (see :func:`parse_address`); closed (with its local cluster) on exit."""
    where = parse_address(address)
    distributed = import_distributed()
    if isinstance(where, int):
        cluster = distributed.LocalCluster(n_workers=where, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(where, timeout="30s")
    except OSError as e:
        raise ValueError(f"--dask {address}: no Dask scheduler answered there ({e}); start one with "
                         "`dask scheduler` and give its tcp:// address.") from e
    with client:
        yield client
