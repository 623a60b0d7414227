"""Chat templates rendered as transformers renders them: jinja2's ``ImmutableSandboxedEnvironment`` with the same
options (``trim_blocks``, ``lstrip_blocks``, the ``loopcontrols`` extension, a ``{% generation %}`` block that only
passes its body through) and the same globals and filters (``raise_exception``, ``strftime_now``, a ``tojson`` that
does not escape HTML, a ``dict`` and a ``namespace`` that refuse underscore names). jinja2 is optional: it is
imported when a template is first rendered.

A template is code from a model's files, so it runs in the sandbox only, and any failure it causes (a syntax error,
``raise_exception``, an undefined value used wrongly, a blocked attribute) is a :class:`TemplateError` (a
ValueError) with one line saying what and where, never a traceback.

Example:
    >>> render_template("{% for m in messages %}[{{ m.role }}] {{ m.content }}\\n{% endfor %}",
    ...                 messages=[{"role": "user", "content": "hi"}])
    '[user] hi\\n'
    >>> try:
    ...     render_template("{{ raise_exception('no system role') }}", messages=[])
    ... except TemplateError as e:
    ...     print(e)
    chat template error: no system role (line 1)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

#: Longer than any real conversation's rendering: a template that writes more is stopped (a bound, not a rule).
MAX_OUTPUT_CHARS = 2_000_000


class TemplateError(ValueError):
    """A chat template that does not compile or render: one line for the user."""


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=32)
def _compile(template: str) -> Any:
    try:
        import jinja2
        import jinja2.ext
        import jinja2.nodes
        import jinja2.utils
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError as e:  # pragma: no cover - jinja2 is in the app's requirements
        raise TemplateError("rendering a chat template needs jinja2: pip install 'tokviz[chat]'.") from e

    class GenerationBlock(jinja2.ext.Extension):
        """transformers' ``{% generation %}`` tag (it marks assistant text for a mask); here it renders its body."""

        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return str(caller())

    def raise_exception(message: Any) -> None:
        raise jinja2.exceptions.TemplateError(str(message))

    class TemplateDict:
        def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            return dict(*args, **kwargs)

        def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 - jinja's own signature trick
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                TemplateNamespace._check(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            TemplateNamespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"a namespace attribute cannot start with '_' ({name!r}).")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = TemplateNamespace
    try:
        return env.from_string(template)
    except jinja2.exceptions.TemplateSyntaxError as e:
        raise TemplateError(f"chat template error: {e.message} (line {e.lineno}).") from None


def _plain(value: Any) -> Any:
    """Plain JSON-like data only (as transformers passes it): anything else becomes a placeholder naming its type."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return f"<{type(value).__name__}>"


def render_template(template: str, **variables: Any) -> str:
    """``template`` rendered with ``variables`` (messages, tools, add_generation_prompt, bos_token...), as
    transformers renders it; :class:`TemplateError` with one line on any failure."""
    compiled = _compile(template)
    import jinja2

    try:
        out: list[str] = []
        size = 0
        for chunk in compiled.generate(**{k: _plain(v) for k, v in variables.items()}):
            out.append(chunk)
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(f"chat template error: it writes more than {MAX_OUTPUT_CHARS:,} characters.")
        return "".join(out)
    except jinja2.exceptions.TemplateError as e:  # raise_exception, undefined values, sandbox refusals
        line = _line_of(e)
        where = f" (line {line})" if line else ""
        raise TemplateError(f"chat template error: {e.message or type(e).__name__}{where}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError,
            RecursionError) as e:
        raise TemplateError(f"chat template error: {type(e).__name__}: {e}") from None


def _line_of(e: BaseException) -> int | None:
    tb = e.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_jobs(template: str, jobs: list[dict[str, Any]]) -> list[str | TemplateError]:
    """``template`` rendered once per variable set in ``jobs``; each failure is its :class:`TemplateError`, in place
    (a module-level function of plain data, so another process can run it: see
    :mod:`tokviz.viewmodels.chat_sandbox`)."""
    out: list[str | TemplateError] = []
    for variables in jobs:
        try:
            out.append(render_template(template, **variables))
        except TemplateError as e:
            out.append(e)
    return out
