"""Worker processes that die with their parent, so a parent killed outright (SIGKILL, the out-of-memory killer)
leaves no worker behind still counting or holding its pipes open.

On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks for a SIGKILL the moment the parent thread
that forked the worker ends. Elsewhere a daemon thread polls ``os.getppid()`` and ends the worker when it changes.
Either way a parent that died just before the request is caught by comparing ``os.getppid()`` with its pid.

Example:
    >>> import os
    >>> die_with_parent(os.getppid())  # in a worker; here the parent is the shell, alive, so nothing happens
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
#: Seconds between checks where the kernel cannot be asked (not Linux).
POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this process (exit code 1, or SIGKILL on Linux) as soon as ``parent_pid`` is no longer its parent."""
    if not _ask_the_kernel():
        threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="die-with-parent").start()
    if os.getppid() != parent_pid:  # the parent went before the request took effect
        os._exit(1)


def _ask_the_kernel() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)
