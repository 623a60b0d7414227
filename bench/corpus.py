"""A deterministic ~5 MB English-ish benchmark corpus built from text that ships with Python.

The text is the standard library's own documentation: the docstrings of its modules, classes, functions and methods
(modules in alphabetical order, members by name, each distinct docstring once), then the reference topics that
``pydoc`` ships (``pydoc_data.topics.topics``, by topic name). Documents are separated by ``<|endoftext|>``; the
sequence is repeated if it is shorter than the target and cut to exactly ``target`` UTF-8 bytes.

Nothing is downloaded, and the same Python build gives the same bytes on every run, so the file is cached under
``bench/_data/`` (gitignored), keyed by the generator version, the Python version and the size. Importing hundreds
of modules has side effects, so :func:`ensure_corpus` generates the file in a fresh subprocess, and the walk skips
modules that act when imported (``antigravity``, ``this``, ``__main__`` modules), need a display (``tkinter``,
``idlelib``, ``turtle``), are tests, or are not the standard library's own (``distutils`` may be setuptools' copy).

Usage::

    python bench/corpus.py --size 5000000        # prints the cached file's path and its SHA-256

Example:
    >>> text = build_corpus(20_000)
    >>> len(text.encode("utf-8")), text.count(SEPARATOR) > 0
    (20000, True)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import inspect
import io
import os
import pkgutil
import re
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

#: Bump when the generated text changes, so cached files of an older generator are not reused.
GENERATOR_VERSION = 1
SEPARATOR = "<|endoftext|>"
DEFAULT_SIZE = 5_000_000
DATA_DIR = Path(__file__).resolve().parent / "_data"

#: Top-level modules never imported: they act on import, need a display, or are not the stdlib's own text.
SKIP_TOP_LEVEL = frozenset(
    {
        "antigravity",  # opens a web browser
        "this",  # prints the Zen of Python
        "__hello__",
        "__phello__",
        "idlelib",  # Tk GUI
        "tkinter",
        "turtle",
        "turtledemo",
        "test",  # the regression test suite
        "lib2to3",  # may write grammar pickles beside itself
        "distutils",  # setuptools may substitute its own copy
        "readline",  # may write terminal escape codes
        "rlcompleter",  # installs a readline completer
        "pydoc_data",  # collected separately
        "_xxtestfuzz",
        "site",
        "sitecustomize",
        "usercustomize",
    }
)
#: Shorter docstrings ("Return self==value.") add little text and many repeats; they are left out.
MIN_DOC_CHARS = 24
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")  # a docstring showing an object's address would differ between runs


def is_skipped(name: str) -> bool:
    """True for modules the walk must not import (see :data:`SKIP_TOP_LEVEL`), tests and ``__main__`` modules."""
    parts = name.split(".")
    if parts[0] in SKIP_TOP_LEVEL:
        return True
    return any(
        p in ("test", "tests", "idle_test", "__main__") or p.startswith(("test_", "_test")) or p.endswith("_test")
        for p in parts
    )


def stdlib_dirs() -> list[str]:
    """The folders of the standard library's Python modules and of its compiled extension modules."""
    paths = sysconfig.get_paths()
    dirs = {paths["stdlib"], paths["platstdlib"]}
    dirs |= {str(Path(d) / "lib-dynload") for d in list(dirs)}
    return sorted(d for d in dirs if Path(d).is_dir())


def is_stdlib_module(module: ModuleType, dirs: list[str]) -> bool:
    """True if ``module`` is built in, frozen, or loaded from one of ``dirs`` (not site-packages)."""
    origin = getattr(module, "__file__", None)
    if origin is None:
        return True  # built-in or frozen
    path = os.path.realpath(origin)
    return any(path.startswith(os.path.realpath(d) + os.sep) for d in dirs) and "site-packages" not in path


def quiet_import(name: str) -> ModuleType | None:
    """Import ``name`` with its output and warnings swallowed; ``None`` if it fails in any way."""
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module may raise anything, even SystemExit, when imported
            return None


def iter_module_names(dirs: list[str]) -> Iterator[str]:
    """Names of the standard library's modules, depth first, sorted at each level, skipped ones left out.

    Built-in modules come first; a package is imported only to list its submodules.
    """
    yield from sorted(n for n in sys.builtin_module_names if not is_skipped(n))
    yield from _walk(dirs, prefix="")


def _walk(path: Iterable[str], prefix: str) -> Iterator[str]:
    for info in sorted(pkgutil.iter_modules(list(path), prefix), key=lambda m: m.name):
        if is_skipped(info.name) or info.name in sys.builtin_module_names:
            continue
        yield info.name
        if info.ispkg:
            pkg = quiet_import(info.name)
            sub_path = getattr(pkg, "__path__", None)
            if sub_path is not None:
                yield from _walk(sub_path, prefix=info.name + ".")


def module_docstrings(module: ModuleType) -> list[str]:
    """Raw docstrings of a module, of the classes and functions it defines (by name), and of their members."""
    docs = [module.__doc__ or ""]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some attributes warn when read (typing.io, typing.re)
        for _, obj in sorted(vars(module).items()):
            if getattr(obj, "__module__", None) != module.__name__ or not _is_documented_kind(obj):
                continue
            docs.append(getattr(obj, "__doc__", None) or "")
            if isinstance(obj, type):
                members = [m for _, m in sorted(vars(obj).items()) if _is_documented_kind(m)]
                docs += [getattr(m, "__doc__", None) or "" for m in members]
    return docs


def _is_documented_kind(obj: object) -> bool:
    return isinstance(obj, (type, property, staticmethod, classmethod)) or inspect.isroutine(obj)


def clean_doc(doc: object) -> str | None:
    """A docstring with its indentation removed, or ``None`` if it is too short, not text, or run-dependent."""
    if not isinstance(doc, str):
        return None
    text = inspect.cleandoc(doc).replace(SEPARATOR, "")
    if len(text) < MIN_DOC_CHARS or _ADDRESS.search(text):
        return None
    return text


def iter_documents() -> Iterator[str]:
    """All documents, lazily, in a fixed order: stdlib docstrings (each distinct text once), then pydoc topics."""
    seen: set[str] = set()
    dirs = stdlib_dirs()
    for name in iter_module_names(dirs):
        module = quiet_import(name)
        if module is None or not is_stdlib_module(module, dirs):
            continue
        for raw in module_docstrings(module):
            doc = clean_doc(raw)
            if doc is not None and doc not in seen:
                seen.add(doc)
                yield doc
    from pydoc_data.topics import topics

    for _, text in sorted(topics.items()):
        doc = clean_doc(text)
        if doc is not None:
            yield doc


def iter_source_texts() -> Iterator[str]:
    """The standard library's own ``.py`` files, in path order, each distinct file once (tests and ``__main__``
    modules included: they are text, not imported)."""
    root = Path(sysconfig.get_paths()["stdlib"]).resolve()
    seen: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.relative_to(root).parts[:1] or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8").replace(SEPARATOR, "")
        except (UnicodeDecodeError, OSError):
            continue
        if text.strip() and text not in seen:
            seen.add(text)
            yield text


def iter_distinct_documents() -> Iterator[str]:
    """Docstrings and pydoc topics (as :func:`iter_documents`), then the standard library's source files: text that
    does not repeat, so a corpus of a few MB measures a trainer on as many distinct pre-tokens as real text has."""
    yield from iter_documents()
    yield from iter_source_texts()


def build_corpus(target_bytes: int, documents: Iterable[str] | None = None, *, repeat: bool = True) -> str:
    """Exactly ``target_bytes`` UTF-8 bytes of documents joined by :data:`SEPARATOR`, repeated if need be.

    Documents are read only as far as needed, so a small target imports few modules. The last document is cut at a
    character boundary and padded with newlines (at most 3) to reach the exact size. With ``repeat=False`` running
    out of documents is an error instead.
    """
    if target_bytes <= 0:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}.")
    docs = iter(documents if documents is not None else iter_documents())
    used: list[str] = []  # the first pass, kept to repeat it
    first_pass = True
    parts: list[str] = []
    size = 0
    while size < target_bytes:
        doc = next(docs, None)
        if doc is None:
            if not used:
                raise ValueError("no documents to build a corpus from.")
            if not repeat:
                raise ValueError(f"only {size:,} bytes of distinct text here; ask for a smaller size.")
            docs, first_pass = iter(used), False
            continue
        if first_pass:
            used.append(doc)
        piece = (SEPARATOR if parts else "") + doc + "\n"
        parts.append(piece)
        size += len(piece.encode("utf-8"))
    data = "".join(parts).encode("utf-8")[:target_bytes].decode("utf-8", errors="ignore")
    return data + "\n" * (target_bytes - len(data.encode("utf-8")))


def cache_path(target_bytes: int, data_dir: Path = DATA_DIR, *, distinct: bool = False) -> Path:
    """Where the corpus of this size is cached for this Python version and generator version."""
    v = sys.version_info
    kind = "stdlib-docs-src" if distinct else "stdlib-docs"
    return data_dir / f"{kind}-g{GENERATOR_VERSION}-py{v.major}.{v.minor}.{v.micro}-{target_bytes}.txt"


def ensure_corpus(target_bytes: int = DEFAULT_SIZE, data_dir: Path = DATA_DIR, *, distinct: bool = False) -> Path:
    """Path of the cached corpus, generated first (in a fresh subprocess, to contain import side effects) if absent.

    ``distinct=True``: docstrings, then source files, no repetition (see :func:`iter_distinct_documents`).
    """
    path = cache_path(target_bytes, data_dir, distinct=distinct)
    if path.is_file() and path.stat().st_size == target_bytes:
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--size", str(target_bytes), "--write", str(tmp)]
    if distinct:
        cmd.append("--distinct")
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    tmp.replace(path)
    return path


def write_corpus(target_bytes: int, out: Path, *, distinct: bool = False) -> None:
    """Generate the corpus in this process and write it to ``out`` (bytes as generated: no newline translation)."""
    text = (build_corpus(target_bytes, iter_distinct_documents(), repeat=False) if distinct
            else build_corpus(target_bytes))
    out.write_bytes(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    """Command line: make sure the corpus is cached and print its path and SHA-256."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE, help="size in UTF-8 bytes (default: %(default)s)")
    ap.add_argument("--distinct", action="store_true", help="docstrings then source files, never repeated")
    ap.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # internal: generate here, in this process
    args = ap.parse_args(argv)
    if args.write is not None:
        write_corpus(args.size, args.write, distinct=args.distinct)
        return
    path = ensure_corpus(args.size, distinct=args.distinct)
    print(path, hashlib.sha256(path.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
