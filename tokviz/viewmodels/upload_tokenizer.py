"""Tokenizers from uploaded files or a typed path: the app's "load" step, kept free of any UI code.

An upload arrives as ``(file name, bytes)`` pairs. :func:`load_uploaded` writes them, under their own names, to a
private temporary folder, hands the paths to :func:`tokviz.formats.load_tokenizer` (which recognises the format by
content), and removes the folder again; an error names the uploaded file, not the temporary path. :func:`load_path`
does the same for a path typed by the user. Both raise only ValueError, whatever the file holds, so a caller can
show the message and carry on.

:func:`suggest_name` and :func:`unique_name` give a loaded tokenizer a short name that does not shadow another.

Example:
    >>> from tokviz import train_bpe
    >>> from tokviz.formats.dispatch import save
    >>> import pathlib, tempfile
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.tiktoken"
    >>> _ = save(tok, path, format="tiktoken")
    >>> load_uploaded([("mine.tiktoken", path.read_bytes())]).encode("lowest") == tok.encode("lowest")
    True
    >>> load_uploaded([("vocab.json", b'{"a": 0}')])
    Traceback (most recent call last):
    ...
    ValueError: vocab.json: a GPT-2 vocab.json needs its merges.txt too: give both files (or their directory).
    >>> unique_name(suggest_name(["gpt2_vocab.json", "gpt2_merges.txt"]), {"gpt2"})
    'gpt2 (2)'
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from tokviz.formats import SpecialTokens, load_tokenizer, special_tokens_arg, split_special_tokens
from tokviz.formats.dispatch import Loaded

#: Largest upload accepted per file, and largest a zip may expand to in all (a server setting: the
#: ``TOKVIZ_MAX_TOKENIZER_MB`` environment variable, in MB); o200k's tokenizer.json, the biggest common one, is well
#: under the default.
MAX_MB_ENV = "TOKVIZ_MAX_TOKENIZER_MB"
DEFAULT_MAX_BYTES = (int(os.environ[MAX_MB_ENV]) if os.environ.get(MAX_MB_ENV, "").isdigit() else 200) * 1024 * 1024
#: How many times its compressed size a zip member may expand to: tokenizer files compress 3 to 10 times; a zip
#: bomb (196 KB expanding to 190 MB, a thousand times) is refused from its directory, before anything expands.
MAX_ZIP_RATIO = 100
#: A tokenizer is one file, or GPT-2's two (vocab.json + merges.txt).
MAX_FILES = 2
#: File stems that say nothing about the tokenizer: the name falls back to something more telling.
_GENERIC_STEMS = frozenset({"", "tokenizer", "vocab", "merges", "encoder", "model", "tok"})
#: Words dropped from GPT-2 file stems so that ``gpt2_vocab.json`` + ``gpt2_merges.txt`` give ``gpt2``.
_GPT2_WORDS = ("vocab", "merges", "encoder")

UploadedFile = tuple[str, bytes]


def safe_filename(name: str) -> str:
    """The last component of an uploaded file's name (a browser may send a path), refusing names that are no file.

    >>> safe_filename("C:\\\\models\\\\gpt2\\\\vocab.json"), safe_filename("../../merges.txt")
    ('vocab.json', 'merges.txt')
    """
    # Both separators: the name comes from the user's machine, whatever system this one runs.
    base = PureWindowsPath(PurePosixPath(name.strip()).name).name
    if base in ("", ".", "..") or "\x00" in base:
        raise ValueError(f"{name!r}: not a usable file name; upload a file with a name such as vocab.json.")
    return base


def _unzip(name: str, data: bytes, *, max_bytes: int) -> list[tuple[str, bytes]]:
    """The files of an uploaded zip (a GPT-2 download: vocab.json + merges.txt), by their base names only (no
    folders are made from member paths) and within the size limit, so a hostile archive cannot write or grow."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            # The sizes the zip's directory states are checked before expanding; zipfile then reads no more than the
            # stated size of a member (a member that lies about it fails its CRC check).
            if len(members) > MAX_FILES or sum(m.file_size for m in members) > max_bytes:
                raise ValueError(f"{name}: a zip of a tokenizer holds at most {MAX_FILES} files and "
                                 f"{max_bytes / 1e6:.0f} MB; this one holds more.")
            for m in members:
                if m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1024):
                    raise ValueError(f"{name}: {safe_filename(m.filename)} would expand {m.file_size / 1e6:,.1f} MB "
                                     f"from {m.compress_size / 1e3:,.1f} KB, over {MAX_ZIP_RATIO} times its size; no "
                                     "tokenizer file compresses that well: upload the files themselves.")
            return [(safe_filename(m.filename), z.read(m)) for m in members]
    except zipfile.BadZipFile as e:
        raise ValueError(f"{name}: not a readable zip file ({e}).") from e


def _check_files(files: Sequence[UploadedFile], *, max_bytes: int) -> list[tuple[str, bytes]]:
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        files = _unzip(safe_filename(files[0][0]), files[0][1], max_bytes=max_bytes)
    if not files:
        raise ValueError("No file uploaded: upload one tokenizer file, or GPT-2's vocab.json and merges.txt together.")
    if len(files) > MAX_FILES:
        names = ", ".join(n for n, _ in files)
        raise ValueError(f"{len(files)} files uploaded ({names}): a tokenizer is one file, or a GPT-2 vocab.json "
                         "with its merges.txt; upload those only.")
    checked: list[tuple[str, bytes]] = []
    for name, data in files:
        base = safe_filename(name)
        if any(base == other for other, _ in checked):
            raise ValueError(f"{base}: uploaded twice; upload each file once.")
        if not data:
            raise ValueError(f"{base}: the file is empty.")
        if len(data) > max_bytes:
            raise ValueError(f"{base}: {len(data) / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB.")
        checked.append((base, data))
    return checked


def _load(
    paths: Sequence[Path], *, pattern: str | None, special_tokens: SpecialTokens | None, hide: str | None = None
) -> Loaded:
    """load_tokenizer, with every failure a ValueError; ``hide`` (a temporary folder) is cut out of messages."""
    try:
        return load_tokenizer(*paths, pattern=pattern, special_tokens=special_tokens)
    except ValueError as e:
        message = str(e)
    except OSError as e:
        message = f"{e.filename or paths[0]}: cannot read ({e.strerror})."
    except Exception as e:  # noqa: BLE001 - a user's file must never crash the app: any parser failure is a message
        message = f"{' + '.join(map(str, paths))}: could not be read as a tokenizer ({type(e).__name__}: {e})."
    if hide:
        message = message.replace(hide + os.sep, "").replace(hide, "")
    raise ValueError(message)


def load_uploaded(
    files: Sequence[UploadedFile],
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Loaded:
    """The tokenizer in uploaded ``(name, bytes)`` files, recognised by content; ValueError naming the upload.

    Files keep their names in the temporary folder (a directory of GPT-2 files is recognised by them), which is
    removed before returning: the tokenizer holds everything in memory. ``pattern``/``special_tokens`` are those of
    :func:`~tokviz.formats.load_tokenizer` (for GPT-2 and tiktoken files only).
    """
    checked = _check_files(files, max_bytes=max_bytes)
    with tempfile.TemporaryDirectory(prefix="tokviz-upload-") as tmp:
        paths = []
        for name, data in checked:
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        return _load(paths, pattern=pattern, special_tokens=special_tokens, hide=tmp)


def parse_paths(text: str, *, base: str | os.PathLike[str] | None = None) -> list[Path]:
    """Paths typed in one line: separated by ``;``, quotes and ``~`` allowed, relative ones taken from ``base``.

    >>> [p.as_posix() for p in parse_paths(' "/m/vocab.json" ; /m/merges.txt ')]
    ['/m/vocab.json', '/m/merges.txt']
    """
    paths: list[Path] = []
    for part in text.split(";"):
        part = part.strip().strip("'\"").strip()
        if not part:
            continue
        p = Path(part).expanduser()
        paths.append(p if p.is_absolute() or base is None else Path(base) / p)
    if not paths:
        raise ValueError("No path given: type the path of a tokenizer file or of a folder holding one.")
    return paths


#: Environment variable naming the folders the "Local path" field may read (separated by ``os.pathsep``). Unset or
#: empty, local paths are off: a shared server must not let its users read its files.
LOCAL_PATHS_ENV = "TOKVIZ_LOCAL_PATHS"


def local_roots(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The folders local paths may lie in, resolved; empty when loading from local paths is off.

    >>> local_roots({}), [p.name for p in local_roots({LOCAL_PATHS_ENV: "/tmp"})]
    ((), ['tmp'])
    """
    env = os.environ if environ is None else environ
    return tuple(Path(p).expanduser().resolve() for p in env.get(LOCAL_PATHS_ENV, "").split(os.pathsep) if p.strip())


def _check_local(paths: Sequence[Path], roots: Sequence[Path]) -> None:
    """Refuse paths outside ``roots`` (without saying whether they exist) and anything but files and folders."""
    if not roots:
        raise ValueError(f"Loading from a path on the server is off. Upload the files instead, or start the app with "
                         f"{LOCAL_PATHS_ENV} naming the folders it may read.")
    for p in paths:
        real = p.resolve()  # symlinks followed: a link inside a root may not point outside it
        if not any(real == r or real.is_relative_to(r) for r in roots):
            raise ValueError(f"{p}: outside the folders this server may read ({', '.join(map(str, roots))}).")
        if not real.exists():
            raise ValueError(f"{p}: no such file or directory.")
        inside = [real] if not real.is_dir() else [c for c in real.iterdir()]
        for c in inside:
            mode = c.stat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ValueError(f"{c}: not a regular file (a pipe, device or socket is never read).")


def load_path(
    text: str,
    *,
    pattern: str | None = None,
    special_tokens: SpecialTokens | None = None,
    base: str | os.PathLike[str] | None = None,
    roots: Sequence[Path] | None = None,
) -> Loaded:
    """The tokenizer at the typed path(s) (see :func:`parse_paths`); every failure a ValueError naming the path.

    Only paths inside ``roots`` (default :func:`local_roots`) are read, only regular files, and a file that fails
    to load is named without quoting its content: the user did not upload it, so its content is not theirs to see.

    >>> load_path("no/such/folder", roots=())
    Traceback (most recent call last):
    ...
    ValueError: Loading from a path on the server is off. Upload the files instead, or start the app with \
TOKVIZ_LOCAL_PATHS naming the folders it may read.
    """
    paths = parse_paths(text, base=base)
    _check_local(paths, local_roots() if roots is None else roots)
    try:
        return _load(paths, pattern=pattern, special_tokens=special_tokens)
    except ValueError as e:
        # What a folder holds (several tokenizers, none) and which component is unsupported are said as they are;
        # any other failure of a file may quote its content, so only the file is named.
        said = str(e)
        structural = "not supported" in said or "needs its" in said or any(p.is_dir() for p in paths)
        if structural and not _QUOTES_CONTENT.search(said.split(": ", 1)[-1]):
            raise
        raise ValueError(f"{' + '.join(map(str, paths))}: not a tokenizer file tokviz can read. (The reason is not "
                         "shown for files on the server; upload the file to see it.)") from e


# A message that points into a file (a line, a repr of bytes or of a token) may show what the file holds.
_QUOTES_CONTENT = re.compile(r"line \d|b'|b\"|: got |token ")


def parse_special_tokens(text: str) -> list[str] | dict[str, int] | None:
    """Special tokens typed as one line, separated by commas or spaces (as in every view), each optionally
    ``TOKEN=ID``; None for a blank line.

    >>> parse_special_tokens("<|endoftext|>  <|pad|>"), parse_special_tokens(" , ")
    (['<|endoftext|>', '<|pad|>'], None)
    >>> parse_special_tokens("<|endoftext|>=0, <|pad|>=1")
    {'<|endoftext|>': 0, '<|pad|>': 1}
    """
    return special_tokens_arg(split_special_tokens(text))


def parse_pattern(text: str) -> str | None:
    """A typed pre-tokenizer pattern (a name such as ``gpt4``, or a regex); None for a blank field.

    Only surrounding newlines are dropped: spaces can be part of a regex.

    >>> parse_pattern("gpt4"), parse_pattern("")
    ('gpt4', None)
    """
    text = text.strip("\r\n")
    return text if text.strip() else None


def suggest_name(file_names: Sequence[str], *, fallback: str = "uploaded") -> str:
    """A short name from the file names: the stem of one file, or what GPT-2's two files share.

    >>> suggest_name(["o200k_base.tiktoken"]), suggest_name(["gpt2_merges.txt", "gpt2_vocab.json"])
    ('o200k_base', 'gpt2')
    >>> suggest_name(["vocab.json", "merges.txt"], fallback="my-model"), suggest_name(["tokenizer.json"])
    ('my-model', 'uploaded')
    """
    stems = [Path(safe_filename(n)).stem for n in file_names]
    if len(stems) == 1:
        name = stems[0]
    else:
        name = os.path.commonprefix(stems)
        if not name:  # e.g. "mine-vocab" + "mine-merges" share "mine-"; "a" + "b" share nothing
            name = stems[0]
        for word in _GPT2_WORDS:
            name = name.removesuffix(word)
    name = name.strip(" _-.")
    return fallback if name.lower() in _GENERIC_STEMS else name


def name_for_path(paths: Sequence[Path]) -> str:
    """A short name for tokenizer file(s) or a folder: the file names' (see :func:`suggest_name`), else the folder's.

    >>> name_for_path([Path("/models/gpt2-small")]), name_for_path([Path("/models/llama/tokenizer.json")])
    ('gpt2-small', 'llama')
    """
    first = paths[0]
    if len(paths) == 1 and (first.suffix == "" or first.is_dir()):
        return first.resolve().name or "loaded"
    folder = first.resolve().parent.name or "loaded"
    return suggest_name([p.name for p in paths], fallback=folder)


def unique_name(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base (2)``, ``base (3)``… : the first that is not taken.

    >>> unique_name("gpt2", set()), unique_name("gpt2", {"gpt2", "gpt2 (2)"})
    ('gpt2', 'gpt2 (3)')
    """
    base = base.strip() or "tokenizer"
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


__all__ = ["DEFAULT_MAX_BYTES", "MAX_FILES", "load_path", "load_uploaded", "name_for_path", "parse_paths",
           "parse_pattern", "parse_special_tokens", "safe_filename", "suggest_name", "unique_name"]
