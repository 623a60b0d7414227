"""Workers die with their parent: a parent killed outright leaves no worker behind."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

import tokviz.core.lifeline as lifeline

pytestmark = pytest.mark.skipif(
    "fork" not in mp.get_all_start_methods() or not Path("/proc/self/stat").exists(),
    reason="needs fork and /proc (Linux) to see processes",
)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"  # a zombie has ended already


def _worker(parent: int, kernel: bool) -> None:
    if not kernel:
        lifeline._ask_the_kernel = lambda: False  # the polling fallback used where prctl is missing
    lifeline.die_with_parent(parent)
    time.sleep(120)


def _middle(w: int, kernel: bool) -> None:
    p = mp.get_context("fork").Process(target=_worker, args=(os.getpid(), kernel))
    p.start()
    os.write(w, str(p.pid).encode() + b"\n")
    time.sleep(120)


@pytest.mark.slow  # 0.9 s measured: the full run has it, the quick loop does not
@pytest.mark.parametrize("kernel", [True, False])
def test_a_worker_ends_when_its_parent_is_killed(kernel: bool) -> None:
    r, w = os.pipe()
    middle = mp.get_context("fork").Process(target=_middle, args=(w, kernel))
    middle.start()
    os.close(w)
    with os.fdopen(r) as pipe:
        worker = int(pipe.readline())
    assert _alive(worker)
    time.sleep(0.2)  # let the worker make its request before its parent goes
    os.kill(middle.pid, signal.SIGKILL)
    middle.join()
    deadline = time.monotonic() + 20
    while _alive(worker):
        if time.monotonic() > deadline:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived its parent by 20 s")
        time.sleep(0.05)
