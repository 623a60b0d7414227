"""A two-worker ``LocalCluster`` of processes per test module, and a client of it per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import distributed_or_skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    distributed = distributed_or_skip()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as c:
        yield c


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    distributed = distributed_or_skip()
    with distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=60)
        yield c
