"""Reading UTF-8 text with one friendly error: the file, the first bad byte, where it is, and how to fix it.

Every reader of user text (tokenizer files, corpora, uploads, command-line files) says a decoding failure the same
way, through :func:`bad_utf8`.

Example:
    >>> data = "café".encode("latin-1")
    >>> try:
    ...     data.decode("utf-8")
    ... except UnicodeDecodeError as e:
    ...     print(bad_utf8("notes.txt", data, e))
    notes.txt is not valid UTF-8: the first bad byte is 0xe9 at byte 3 (line 1, column 4)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

NEWLINE = b"\n"


def bad_utf8(name: str, data: bytes, err: UnicodeDecodeError, *, offset: int = 0, line: int | None = None) -> str:
    """Where ``data`` (the bytes ``err`` came from, starting at byte ``offset`` of the whole file) stops being UTF-8.

    The line and column are counted in ``data`` unless ``line`` (the line ``data`` starts on, for a file read in
    blocks) is given, in which case the column is left out; ``line=0`` means the line is not known (a range read
    from the middle of a file) and leaves both out.
    """
    at = offset + err.start
    if line == 0:
        where = ""
    elif line is None:
        line_no = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        where = f" (line {line_no}, column {column})"
    else:
        where = f" (line {line + data.count(NEWLINE, 0, err.start)})"
    return f"{name} is not valid UTF-8: the first bad byte is 0x{data[err.start]:02x} at byte {at}{where}"


_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def refuse_special_file(path: str | os.PathLike[str]) -> None:
    """ValueError when ``path`` is a FIFO, a device or a socket: reading one blocks forever (a FIFO nobody writes)
    or never ends (``/dev/zero``). Regular files, folders and missing paths pass (their readers say the rest).

    >>> refuse_special_file("/dev/null")
    Traceback (most recent call last):
    ...
    ValueError: /dev/null: a character device, not a regular file; save what it holds to a file and give that.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            raise ValueError(f"{path}: {kind}, not a regular file; save what it holds to a file and give that.")


def read_utf8(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file; ValueError naming the file when it is missing, unreadable or not UTF-8.

    >>> read_utf8("no/such/file.txt")
    Traceback (most recent call last):
    ...
    ValueError: no/such/file.txt: no such file.
    """
    p = Path(path)
    refuse_special_file(p)
    try:
        data = p.read_bytes()
    except FileNotFoundError as e:
        raise ValueError(f"{path}: no such file.") from e
    except IsADirectoryError as e:
        raise ValueError(f"{path}: a folder, not a text file.") from e
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror}).") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{bad_utf8(str(path), data, e)}. Convert it to UTF-8 first.") from e
