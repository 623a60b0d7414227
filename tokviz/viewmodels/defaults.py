"""The built-in tokenizers the app starts with: BPE trained on text that ships with Python, the OpenAI encodings
people use (GPT-2, GPT-4, GPT-4o, from the package's own copies of their rank files, read when first shown), and
the three baselines. Training happens once; the result is kept in a cache folder across restarts.

Corpus: the standard library's ``pydoc_data.topics`` (about 465 KB of English prose and code), or
:data:`~tokviz.viewmodels.default_corpus.FALLBACK_CORPUS` where a Python build leaves it out. One 8192-token BPE is
trained per pre-tokenizer pattern (gpt2 and gpt4, so the digit observation can contrast them); smaller sizes are
prefixes of the same run (merges are learned in order, so a prefix equals training at that size).

Cache: ``$TOKVIZ_CACHE_DIR``, else ``$XDG_CACHE_HOME/tokviz``, else ``~/.cache/tokviz``; one file per (format version,
corpus hash, pattern, size) in our own format, its SHA-256 beside it. A damaged or mismatched file is retrained and
rewritten, with a notice (:attr:`Defaults.notices`) the app shows; an unwritable folder only costs the retraining
at the next start.

Example:
    >>> import tempfile
    >>> toks = default_tokenizers(directory=tempfile.mkdtemp(), gpt2_files=None)
    >>> list(toks)[:3], "byte" in toks
    (['bpe-gpt2-512', 'bpe-gpt2-2k', 'bpe-gpt2-8k'], True)
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from tokviz.core.jsonfile import parse_json
from tokviz.core.protocol import TokenizerLike
from tokviz.formats.dispatch import save
from tokviz.formats.gpt2 import load_gpt2
from tokviz.formats.ours import tokenizer_from_dict
from tokviz.models.baselines import ByteTokenizer, CharacterTokenizer, WordTokenizer
from tokviz.models.bpe import Tokenizer
from tokviz.training.trainer import train_bpe
from tokviz.viewmodels.default_corpus import FALLBACK_CORPUS
from tokviz.viewmodels.menu import BUILTIN_ENCODINGS, Deferred, TokenizerMenu

#: Bump when the trainer or the file format changes what a cached file would hold.
CACHE_VERSION = 2  # 2: a checksum file beside each cache file
SIZES: tuple[int, ...] = (512, 2048, 8192)
PATTERNS: tuple[str, ...] = ("gpt2", "gpt4")
GPT2_NAME = "GPT-2 · r50k_base"
GPT4_NAME = "GPT-4 · cl100k_base"
GPT4O_NAME = "GPT-4o · o200k_base"
GPT2_SPECIALS = ["<|endoftext|>"]
#: What a new user sees selected: our own BPE next to the tokenizers people use.
PREFERRED_SELECTION: tuple[str, ...] = ("bpe-gpt2-8k", GPT2_NAME, GPT4_NAME, GPT4O_NAME)
_REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DefaultCorpus:
    """The training text and where it came from (``"pydoc_data.topics"`` or ``"tokviz.viewmodels.default_corpus"``)."""

    text: str
    source: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedTraining:
    """One trained tokenizer and how it was obtained: read from ``path`` or trained (and saved if ``saved``)."""

    tokenizer: Tokenizer
    path: Path
    from_cache: bool
    saved: bool
    seconds: float
    #: Set when a cache file was there but damaged (truncated, changed, or not what it should hold): it was
    #: discarded and the tokenizer retrained; a page shows this to say why the start took longer.
    notice: str | None = None


@dataclass(frozen=True)
class Defaults:
    """The built-in tokenizers, ordered name -> tokenizer, with what it took to get them."""

    tokenizers: TokenizerMenu
    corpus: DefaultCorpus
    runs: tuple[CachedTraining, ...]
    seconds: float

    @property
    def from_cache(self) -> bool:
        """True when every trained tokenizer was read from the cache folder."""
        return all(r.from_cache for r in self.runs)

    @property
    def notices(self) -> tuple[str, ...]:
        """What went wrong with the cache folder and was repaired (damaged files retrained), for a page to show."""
        return tuple(r.notice for r in self.runs if r.notice)


def default_corpus(*, use_pydoc: bool = True) -> DefaultCorpus:
    """The text to train on: ``pydoc_data.topics`` joined in key order, or our own fallback corpus.

    >>> default_corpus(use_pydoc=False).source
    'tokviz.viewmodels.default_corpus'
    """
    if use_pydoc:
        topics: dict[str, str] | None
        try:
            module = importlib.import_module("pydoc_data.topics")
        except ImportError:  # some distributions strip pydoc_data; the app must start anyway
            topics = None
        else:
            topics = getattr(module, "topics", None)
        if topics:
            # Sorted keys make the text, and so the cache key, the same on every run.
            return DefaultCorpus("\n\n".join(topics[k] for k in sorted(topics)), "pydoc_data.topics")
    return DefaultCorpus(FALLBACK_CORPUS, "tokviz.viewmodels.default_corpus")


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where trained tokenizers are kept: ``$TOKVIZ_CACHE_DIR``, ``$XDG_CACHE_HOME/tokviz`` or ``~/.cache/tokviz``.

    >>> cache_dir({"TOKVIZ_CACHE_DIR": "/tmp/tv"}).as_posix(), cache_dir({"XDG_CACHE_HOME": "/c"}).as_posix()
    ('/tmp/tv', '/c/tokviz')
    """
    env = os.environ if env is None else env
    if env.get("TOKVIZ_CACHE_DIR"):
        return Path(env["TOKVIZ_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "tokviz"
    return Path.home() / ".cache" / "tokviz"


def cache_key(corpus: DefaultCorpus, *, pattern: str, vocab_size: int) -> str:
    """The cache file name: changes with the format version, the corpus text, the pattern and the size.

    >>> cache_key(DefaultCorpus("abc", "x"), pattern="gpt2", vocab_size=8192)
    'bpe-gpt2-8192-v2-ba7816bf8f01cfea.json'
    """
    return f"bpe-{pattern}-{vocab_size}-v{CACHE_VERSION}-{corpus.sha256[:16]}.json"


def size_label(n: int) -> str:
    """Short size for names: multiples of 1024 as ``2k``, others as they are.

    >>> size_label(512), size_label(2048), size_label(8192), size_label(1000)
    ('512', '2k', '8k', '1000')
    """
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


def load_or_train(
    corpus: DefaultCorpus, *, pattern: str, vocab_size: int, directory: str | os.PathLike[str], name: str
) -> CachedTraining:
    """The tokenizer from the cache file if it is there and sound, else trained now and written there.

    A cache file is written with its SHA-256 beside it (``<file>.sha256``); one whose bytes no longer match
    (truncated, a byte changed), that does not parse, or that holds another tokenizer than its name says is
    discarded and retrained, and the result's ``notice`` says so (never an exception).

    >>> import tempfile
    >>> d, corpus = Path(tempfile.mkdtemp()), DefaultCorpus("low lower lowest " * 20, "doctest")
    >>> first = load_or_train(corpus, pattern="gpt2", vocab_size=260, directory=d, name="t")
    >>> with first.path.open("r+b") as f:
    ...     _ = f.truncate(100)
    >>> again = load_or_train(corpus, pattern="gpt2", vocab_size=260, directory=d, name="t")
    >>> again.from_cache, again.notice.split(":")[0], again.tokenizer.merges == first.tokenizer.merges
    (False, 'The cached tokenizer t was damaged', True)
    """
    t0 = time.perf_counter()
    path = Path(directory) / cache_key(corpus, pattern=pattern, vocab_size=vocab_size)
    notice = None
    if path.is_file():
        tok, problem = _read_cached(path, pattern=pattern, vocab_size=vocab_size)
        if tok is not None:
            tok.name = name
            return CachedTraining(tok, path, True, False, time.perf_counter() - t0)
        notice = (f"The cached tokenizer {name} was damaged: {problem}. It was discarded and trained again "
                  f"({path.name} in the cache folder).")
        _discard(path)
    tok = train_bpe([corpus.text], vocab_size=vocab_size, pattern=pattern, name=name)
    saved = _save_atomically(tok, path)
    return CachedTraining(tok, path, False, saved, time.perf_counter() - t0, notice)


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _read_cached(path: Path, *, pattern: str, vocab_size: int) -> tuple[Tokenizer | None, str]:
    """The cached tokenizer, or None and what is wrong with the file."""
    try:
        data = path.read_bytes()
        expected = _checksum_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None, "its checksum file is missing or unreadable"
    if hashlib.sha256(data).hexdigest() != expected:
        return None, "its content does not match its checksum (truncated or changed)"
    try:
        tok = tokenizer_from_dict(parse_json(data.decode("utf-8"), source=path.name), source=path.name)
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"it does not read as a tokenizer ({e})"
    if tok.pattern != pattern or tok.special_tokens or tok.vocab_size > vocab_size:
        return None, "it holds another tokenizer than its name says"
    return tok, ""


def _discard(path: Path) -> None:
    for p in (path, _checksum_path(path)):
        try:
            p.unlink(missing_ok=True)
        except OSError:  # a read-only folder: the rewrite below fails too, and the next start retrains again
            pass


def _save_atomically(tok: Tokenizer, path: Path) -> bool:
    # Write private temporary files, then rename: two app processes starting together never read half a file.
    # The checksum goes last, so a file without a matching one (a crash between the two) is retrained.
    tag = f"{os.getpid()}.{threading.get_ident()}.tmp"
    tmp, tmp_sum = path.with_name(f".{path.name}.{tag}"), path.with_name(f".{path.name}.sha256.{tag}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(tok, tmp)
        tmp_sum.write_text(hashlib.sha256(tmp.read_bytes()).hexdigest() + "\n", encoding="ascii")
        os.replace(tmp, path)
        os.replace(tmp_sum, _checksum_path(path))
        return True
    except OSError:
        for t in (tmp, tmp_sum):
            try:
                t.unlink(missing_ok=True)
            except OSError:  # the folder itself is unusable: there is nothing to clean up
                pass
        return False


def gpt2_files_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The folder holding GPT-2's ``gpt2_vocab.json`` and ``gpt2_merges.txt``, or None when they are not here.

    ``$TOKVIZ_GPT2_DIR`` first, else ``../shared/data/cs336`` beside the repository. Nothing is downloaded.
    """
    env = os.environ if env is None else env
    d = Path(env["TOKVIZ_GPT2_DIR"]) if env.get("TOKVIZ_GPT2_DIR") else _REPO_ROOT.parent / "shared" / "data" / "cs336"
    if (d / "gpt2_vocab.json").is_file() and (d / "gpt2_merges.txt").is_file():
        return d
    return None


def build_defaults(
    *,
    directory: str | os.PathLike[str] | None = None,
    sizes: Sequence[int] = SIZES,
    patterns: Sequence[str] = PATTERNS,
    gpt2_files: str | os.PathLike[str] | None | Literal["auto"] = "auto",
    corpus: DefaultCorpus | None = None,
) -> Defaults:
    """Train (or read from the cache) the built-in BPEs and gather every default tokenizer, in display order.

    Names: ``bpe-<pattern>-<size>`` for each pattern and size (sizes above what the corpus reached are dropped and
    the reached size is offered instead), then ``character``, ``byte`` and ``word`` (word vocabulary from the same
    corpus), then the built-in OpenAI encodings (:data:`~tokviz.viewmodels.menu.BUILTIN_ENCODINGS`, read on first
    use). ``gpt2_files`` names a folder of GPT-2's vocab.json + merges.txt to use as GPT-2 instead; None leaves the
    OpenAI encodings out.
    """
    if not sizes or any(not isinstance(s, int) or s < 256 for s in sizes):
        raise ValueError(f"sizes must be integers >= 256 (the 256 byte tokens come first), got {list(sizes)}.")
    t0 = time.perf_counter()
    corpus = corpus or default_corpus()
    directory = cache_dir() if directory is None else Path(directory)
    top = max(sizes)
    tokenizers: dict[str, TokenizerLike | Deferred] = {}
    runs: list[CachedTraining] = []
    for pattern in patterns:
        run = load_or_train(corpus, pattern=pattern, vocab_size=top, directory=directory,
                            name=f"bpe-{pattern}-{size_label(top)}")
        runs.append(run)
        full = run.tokenizer
        for size in _offered_sizes(sizes, full.vocab_size):
            name = f"bpe-{pattern}-{size_label(size)}"
            if size == full.vocab_size:
                full.name = name
                tokenizers[name] = full
            else:  # a smaller size is made when first picked: building each costs time at every start
                tokenizers[name] = Deferred(partial(_prefix, full, size, name))
    tokenizers["character"] = CharacterTokenizer(name="character")
    tokenizers["byte"] = ByteTokenizer(name="byte")
    # Counting the corpus's words takes a tenth of a second of every start, for a baseline few pick: made on first use.
    tokenizers["word"] = Deferred(partial(_word_baseline, corpus.text))
    lazy: dict[str, str] = {}
    if gpt2_files == "auto":
        lazy = dict(BUILTIN_ENCODINGS)
    elif gpt2_files is not None:
        folder = Path(gpt2_files)
        gpt2 = load_gpt2(folder / "gpt2_vocab.json", folder / "gpt2_merges.txt", special_tokens=GPT2_SPECIALS)
        gpt2.name = GPT2_NAME
        tokenizers[GPT2_NAME] = gpt2
        lazy = {n: e for n, e in BUILTIN_ENCODINGS.items() if n != GPT2_NAME}
    menu = TokenizerMenu(tokenizers, lazy=lazy)
    return Defaults(menu, corpus, tuple(runs), time.perf_counter() - t0)


def _prefix(full: Tokenizer, size: int, name: str) -> Tokenizer:
    tok = full.prefix(size)
    tok.name = name
    return tok


def _word_baseline(text: str) -> WordTokenizer:
    word = WordTokenizer.from_corpus([text])
    word.name = "word"
    return word


def _offered_sizes(sizes: Iterable[int], reached: int) -> list[int]:
    # A small corpus can run out of pairs before the largest size: offer the reached size instead of duplicates.
    return sorted({min(s, reached) for s in sizes})


def default_tokenizers(**options: Any) -> TokenizerMenu:
    """Ordered name -> tokenizer of the built-ins; the options are those of :func:`build_defaults`."""
    return build_defaults(**options).tokenizers


def default_selection(names: Iterable[str], *, preferred: Sequence[str] = PREFERRED_SELECTION) -> list[str]:
    """The tokenizers shown at first: the preferred ones that exist, or else the first three names.

    >>> default_selection(["bpe-gpt2-8k", "byte", "word"])
    ['bpe-gpt2-8k']
    >>> default_selection(["x", "y", "z", "w"])
    ['x', 'y', 'z']
    """
    available = list(names)
    chosen = [n for n in preferred if n in available]
    return chosen or available[:3]
