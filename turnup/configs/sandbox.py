"""A Jinja2 sandbox whose templates cannot run away: bounded output, sizes and time.

Jinja's ``ImmutableSandboxedEnvironment`` keeps a template (possibly a user's override) away
from Python internals, but not from exhausting the worker: ``{{ 'x'|indent(10**10) }}``
allocates 10 GB, ``{{ 'x' * 10**10 }}`` too, two nested loops over 100,000 items run for
minutes. ``BoundedSandbox`` refuses, with ``RenderLimitExceeded`` (a ``SecurityError``), any
string or list longer than ``MAX_OUTPUT`` characters (a router config is a few hundred KB) —
estimated *before* the allocation for the operations that pad or repeat — a rendered text
longer than that, and a render that runs longer than ``MAX_SECONDS``.

The budget of a render is opened with ``render_budget()``; outside it only the size limits
apply.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 1_000_000  # characters of one string, list or rendered config
MAX_SECONDS = 5.0  # a router's config renders in milliseconds
MAX_INT_BITS = 4_096  # numbers in a config are ports, ASNs and addresses
LOOP_GUARD = "__loop_guard"
_WIDTH_IN_FORMAT = re.compile(r"[%:][^%{}a-zA-Z]*?(\d{7,})")
_NESTED_FIELD = re.compile(r"\{[^{}]*:[^{}]*\{")
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


class RenderLimitExceeded(SecurityError):
    """A template tried to produce too much or to run too long."""


_deadline: ContextVar[float | None] = ContextVar("turnup_render_deadline", default=None)


@contextmanager
def render_budget() -> Iterator[None]:
    """Templates rendered inside this block must finish within ``MAX_SECONDS``."""
    token = _deadline.set(time.monotonic() + MAX_SECONDS)
    try:
        yield
    finally:
        _deadline.reset(token)


def _check_time() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise RenderLimitExceeded(f"the render took longer than {MAX_SECONDS:g} s")


def _refuse_size(size: int, what: str) -> None:
    if size > MAX_OUTPUT:
        raise RenderLimitExceeded(
            f"{what} would be {size:,} characters long; the limit is {MAX_OUTPUT:,}"
        )


def _check_result(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple | bytes):
        _refuse_size(len(value), what)
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise RenderLimitExceeded(f"{what} gives a number of more than {MAX_INT_BITS} bits")
    return value


def _check_format(text: Any, what: str) -> None:
    if isinstance(text, str) and (match := _WIDTH_IN_FORMAT.search(text)):
        _refuse_size(int(match.group(1)), f"{what}: a field of width {match.group(1)}")


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value))


def _estimate_indent(s: Any, width: Any = 4, *_args: Any, **_kwargs: Any) -> int:
    prefix = width if isinstance(width, int) and not isinstance(width, bool) else len(str(width))
    text = str(s)
    return len(text) + (text.count("\n") + 1) * max(prefix, 0)


def _estimate_center(value: Any, width: Any = 80, *_args: Any, **_kwargs: Any) -> int:
    return max(_text_len(value), width if isinstance(width, int) else 0)


def _estimate_replace(s: Any, old: Any = "", new: Any = "", *_args: Any, **_kwargs: Any) -> int:
    text, old, new = str(s), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    return len(text) + hits * len(new)


def _estimate_join(value: Any, d: Any = "", *_args: Any, **_kwargs: Any) -> int:
    items = list(value) if isinstance(value, list | tuple) else []
    return sum(_text_len(item) for item in items) + len(str(d)) * len(items)


def _estimate_wordwrap(s: Any, width: Any = 79, *args: Any, **kwargs: Any) -> int:
    wrapstring = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    text = str(s)
    step = width if isinstance(width, int) and width > 0 else 1
    return len(text) + (len(text) // step + 1) * len(str(wrapstring))


# Filters whose output can be far larger than their input, and how large it will be.
FILTER_ESTIMATES: dict[str, Callable[..., int]] = {
    "indent": _estimate_indent,
    "center": _estimate_center,
    "replace": _estimate_replace,
    "join": _estimate_join,
    "wordwrap": _estimate_wordwrap,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    estimate = FILTER_ESTIMATES.get(name)
    passes = getattr(func, "jinja_pass_arg", None)

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        if estimate is not None:
            value_args = args[1:] if passes is not None else args
            if value_args:
                _refuse_size(estimate(*value_args, **kwargs), f"the {name} filter")
        if name == "format" and args:
            _check_format(args[1] if passes is not None else args[0], "the format filter")
        return _check_result(func(*args, **kwargs), f"the {name} filter")

    return bounded


def loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` loops through this: the render's deadline is checked each turn."""
    for item in iterable:
        _check_time()
        yield item


class BoundedCodeGenerator(CodeGenerator):
    """Compiles every ``for`` loop through ``loop_guard`` and every ``~`` through a
    size-checked join."""

    def visit_Template(self, node, frame=None):
        for loop in node.find_all(nodes.For):
            if not loop.recursive:
                loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None)
                loop.iter.set_lineno(loop.lineno)
        return super().visit_Template(node, frame)

    def visit_Concat(self, node, frame):
        self.write("environment.checked_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with limits on sizes and time (see the module docstring)."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters[LOOP_GUARD] = loop_guard

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Joins a render's output (and ``{% set %}`` blocks, macro calls): stops as soon as
        it passes ``MAX_OUTPUT``, before the text is built."""
        kept, size = [], 0
        for part in parts:
            size += len(part)
            _refuse_size(size, "the rendered text")
            kept.append(part)
        return "".join(kept)

    @staticmethod
    def checked_text(value: str) -> str:
        return _check_result(value, "a ~ concatenation")

    def call_binop(self, context, operator, left, right):
        _check_time()
        what = f"{type(left).__name__} {operator} {type(right).__name__}"
        sequences = str | list | tuple
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, sequences) and isinstance(count, int):
                    _refuse_size(len(seq) * max(count, 0), what)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and right * abs(left).bit_length() > MAX_INT_BITS:
                raise RenderLimitExceeded(f"{left} ** {right} is too large a number")
        elif operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
            _refuse_size(len(left) + len(right), what)
        elif operator == "%":
            _check_format(left, what)
        return _check_result(super().call_binop(context, operator, left, right), what)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's signature
        _check_time()
        name = getattr(__obj, "__name__", "")
        # str.format comes wrapped by the sandbox (``wrap_str_format``)
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            what = f"str.{name}()"
            if name in _PADDING_METHODS and args and isinstance(args[0], int):
                factor = args[0] if name != "expandtabs" else args[0] * max(len(owner), 1)
                _refuse_size(factor, what)
            elif name == "replace" and len(args) >= 2:
                _refuse_size(_estimate_replace(owner, *args[:2]), what)
            elif name == "join" and args:
                _refuse_size(_estimate_join(args[0], owner), what)
            elif name in ("format", "format_map"):
                _check_format(owner, what)
                if _NESTED_FIELD.search(owner):  # a width taken from the arguments
                    values = [*args, *kwargs.values()]
                    if name == "format_map" and args and isinstance(args[0], dict):
                        values = list(args[0].values())
                    for value in values:
                        if isinstance(value, int):
                            _refuse_size(value, f"{what}: a field of width {value}")
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_result(result, f"{name or 'a call'}()")

    def getattr(self, obj, attribute):
        _check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _check_time()
        return super().getitem(obj, argument)
