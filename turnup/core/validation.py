"""Values taken from a request, checked before they reach the database or a regex engine.

A value a column cannot hold (above 2**63-1, PostgreSQL's bigint and SQLite's INTEGER) or that
only looks like a number (``True``, ``1.5``, ``"²"``) is refused with a reason instead of being
rounded, overflowing the driver, or crashing ``int()``. A regular expression a person wrote
(a blueprint parameter's ``pattern``) runs with a time limit: ``(a|aa)+c`` against forty
``a`` takes Python's ``re`` minutes, and a web worker with it. Callers turn the ``ValueError``
into their own error naming the field or parameter.
"""

from __future__ import annotations

import regex

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
_BIGINT_DIGITS = len(str(BIGINT_MAX))

_JSON_KINDS = {bool: "a boolean", float: "a decimal number", list: "a list", dict: "an object"}


def parse_int(value: object, *, minimum: int, maximum: int) -> int:
    """``value`` (an int, or a string of ASCII digits with an optional leading ``-``) as an
    int between ``minimum`` and ``maximum``; ``ValueError`` saying why not otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        kind = "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)
        raise ValueError(f"must be a whole number, not {kind}")
    if isinstance(value, str):
        digits = value.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError("must be a whole number (digits 0-9)")
        if len(digits.lstrip("0")) > _BIGINT_DIGITS:
            raise ValueError(f"must be between {minimum} and {maximum}")
        value = int(value)
    if not minimum <= value <= maximum:
        raise ValueError(f"must be between {minimum} and {maximum}")
    return value


def id_value(value: object) -> int:
    """``value`` as an object id: a whole number from 1 to 2**63-1 (an int or its digits)."""
    return parse_int(value, minimum=1, maximum=BIGINT_MAX)


PATTERN_LENGTH_MAX = 500
# a sane pattern checks a parameter in microseconds; one that backtracks without end is cut
# off long before a person waiting on the form notices
PATTERN_SECONDS = 0.1


def pattern_compile(pattern: str) -> regex.Pattern:
    """``pattern`` compiled with Python's ``re`` syntax (the ``regex`` engine in its
    compatible mode, which can be stopped); ``ValueError`` saying why it cannot be."""
    if len(pattern) > PATTERN_LENGTH_MAX:
        raise ValueError(f"longer than {PATTERN_LENGTH_MAX} characters")
    try:
        return regex.compile(pattern, regex.VERSION0)
    except regex.error as error:
        raise ValueError(f"not a regular expression: {error}") from None


def pattern_fullmatch(pattern: str, value: str) -> bool:
    """Whether all of ``value`` matches ``pattern``; ``ValueError`` when the pattern cannot be
    compiled or takes longer than PATTERN_SECONDS (it backtracks without end on this value)."""
    try:
        return pattern_compile(pattern).fullmatch(value, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        raise ValueError(
            f"the pattern {pattern} took longer than {PATTERN_SECONDS} s on this value "
            "(it backtracks without end: simplify nested repeats such as (a+)+)"
        ) from None
