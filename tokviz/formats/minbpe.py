"""karpathy/minbpe ``.model`` files: merges as id pairs, the pattern line, special tokens; ids in minbpe's layout.

Example:
    >>> import tempfile, pathlib
    >>> from tokviz import train_bpe
    >>> tok = train_bpe(["low lower lowest " * 20], vocab_size=260)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tok.model"
    >>> save_minbpe(tok, path).format
    'minbpe'
    >>> load_minbpe(path).merges == tok.merges
    True
"""

from __future__ import annotations

import os
from pathlib import Path

from tokviz.core.jsonfile import MAX_ID, MAX_INT_DIGITS
from tokviz.formats.file_checks import WHOLE_TEXT_PATTERN, SaveResult, build_tokenizer, check_id, read_text
from tokviz.models.bpe import Tokenizer
from tokviz.pipelines.prefix_space import PrefixSpaceTokenizer


def load_minbpe(path: str | os.PathLike[str]) -> Tokenizer:
    """A karpathy/minbpe ``.model``: version line, pattern line, special count and ``token id`` lines, then one merge
    a line as a pair of ids; byte b is id b and merge k makes id 256 + k. An empty pattern (``BasicTokenizer``)
    leaves each stretch between special tokens whole.
    """
    p = Path(path)
    lines = read_text(p).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].strip() != "minbpe v1":
        raise ValueError(f"{p}, line 1: expected 'minbpe v1', got {lines[0][:40] if lines else ''!r}.")
    if len(lines) < 3:
        raise ValueError(f"{p}: truncated minbpe model (needs version, pattern and special-count lines).")
    # minbpe strips the pattern line the same way when it reads it back.
    pattern = lines[1].strip() or WHOLE_TEXT_PATTERN
    try:
        n_special = int(lines[2].strip())
    except ValueError as e:
        raise ValueError(f"{p}, line 3: expected the number of special tokens, got {lines[2][:40]!r}.") from e
    if n_special < 0:
        raise ValueError(f"{p}, line 3: the number of special tokens is {n_special}; it is a count, 0 or more.")
    specials: dict[str, int] = {}
    for n in range(4, 4 + n_special):
        if n > len(lines):
            raise ValueError(f"{p}, line {n}: expected {n_special} special-token lines, the file ends first.")
        parts = lines[n - 1].strip().rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"{p}, line {n}: expected '<special token> <id>', got {lines[n - 1][:80]!r}.")
        token = parts[0]
        sid = check_id(int(parts[1]) if len(parts[1]) <= MAX_INT_DIGITS else MAX_ID + 1,
                        what=f"{p}, line {n}: special token {token!r:.60}")
        if token in specials:
            raise ValueError(f"{p}, line {n}: special token {token!r:.60} is listed twice; list each once.")
        if sid in specials.values():
            raise ValueError(f"{p}, line {n}: special token {token!r:.60} has id {sid}, which another special token "
                             "has; give each special token its own id.")
        specials[token] = sid
    vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
    merges: list[tuple[bytes, bytes]] = []
    for n in range(4 + n_special, len(lines) + 1):
        line = lines[n - 1]
        try:
            a, b = map(int, line.split())
        except ValueError as e:
            raise ValueError(f"{p}, line {n}: expected a merge as two ids '<id> <id>', got {line[:80]!r}.") from e
        if a not in vocab or b not in vocab:
            raise ValueError(f"{p}, line {n}: merge uses id {a if a not in vocab else b}, which no earlier line makes.")
        vocab[256 + len(merges)] = vocab[a] + vocab[b]
        merges.append((vocab[a], vocab[b]))
    return build_tokenizer(vocab, merges, specials, pattern, name=p.stem, source=str(p))


def save_minbpe(tok: Tokenizer, path: str | os.PathLike[str]) -> SaveResult:
    """Write a minbpe ``.model``. minbpe fixes ids (byte b is b, merge k is 256 + k), so a tokenizer laid out
    otherwise is renumbered (the notes say so); special tokens keep their ids where those are free."""
    if "\n" in tok.pretokenizer.source or "\r" in tok.pretokenizer.source:
        raise ValueError("the pattern holds a line break, which a minbpe .model (one pattern line) cannot store.")
    for s in tok.special_tokens or []:
        if not s.strip() or s != s.strip() or any(c.isspace() for c in s):
            raise ValueError(f"special token {s!r} holds whitespace, which a minbpe .model cannot store.")
    ids: dict[bytes, int] = {bytes([b]): b for b in range(256)}
    lines: list[str] = []
    for k, (a, b) in enumerate(tok.merges):
        lines.append(f"{ids[a]} {ids[b]}")
        ids.setdefault(a + b, 256 + k)
    n_fixed = 256 + len(tok.merges)
    renumbered = any(tok.token_to_id(bytes([b])) != b for b in range(256)) or any(
        tok.token_to_id(a + b) != 256 + k for k, (a, b) in enumerate(tok.merges))
    specials: dict[str, int] = {}
    nxt = n_fixed
    for s, i in tok.special_ids.items():
        if i >= n_fixed and i not in specials.values():
            specials[s] = i
        else:
            while nxt in specials.values() or nxt in tok.special_ids.values():
                nxt += 1
            specials[s] = nxt
            nxt += 1
            renumbered = True
    source = tok.pretokenizer.source
    pattern_line = "" if source == WHOLE_TEXT_PATTERN else source
    text = "minbpe v1\n" + pattern_line + "\n" + f"{len(specials)}\n"
    text += "".join(f"{s} {i}\n" for s, i in specials.items()) + "".join(line + "\n" for line in lines)
    out = Path(path)
    out.write_text(text, encoding="utf-8")
    notes = ["ids were renumbered to minbpe's layout (byte b = id b, merge k = id 256+k); the tokens and splits are "
             "the same."] if renumbered else []
    if isinstance(tok, PrefixSpaceTokenizer) and tok.add_prefix_space:
        notes.append("minbpe has no add_prefix_space; the saved model does not add the prefix space.")
    return SaveResult("minbpe", [out], notes)
