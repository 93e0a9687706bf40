"""Bounded JSON decoding: the one way shipgauge reads JSON that came from outside.

Every request body, message and input file is decoded here, within limits that are the same on
every route and command (docs/security.md): nesting depth is checked before the decoder runs, so
a body nested 100,000 deep costs one scan instead of a RecursionError, and numbers that no
column can hold (`1e400` decodes to infinity, `NaN`, integers of thousands of digits) are refused
at decoding, so nothing downstream has to guard against them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shipgauge.errors import BadRequest

__all__ = ["DEFAULT_MAX_JSON_DEPTH", "MAX_INTEGER_DIGITS", "load_json", "nests_within"]

DEFAULT_MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; the deepest real input is about 12."""
MAX_INTEGER_DIGITS = 20
"""Longest integer accepted: a signed 64-bit integer has at most 19 digits."""

# Strings are removed before brackets are counted: a "[" inside a string is not nesting.
# A string that never ends runs to the end of the text (`\Z`, a lone `\` too): every quote that
# opens a scan consumes what it scanned, so the scan stays linear on a million escaped quotes.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
# json.loads turns an escaped surrogate (`"\\ud800"`) or its encoded bytes into a str no store
# can encode (a pair becomes one character), and `\\u0000` into a NUL no PostgreSQL text holds.
# Only text that may hold one is walked after decoding.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]|\\u0000")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


def nests_within(data: bytes, max_depth: int) -> bool:
    """Whether the arrays and objects of JSON text `data` nest at most `max_depth` deep.

    Each pass removes the innermost bracket pairs, in C; `max_depth` passes leave nothing of a
    text nested no deeper. Brackets that do not balance count as too deep: such text is no JSON.
    """
    brackets = _STRING.sub(b"", data).translate(_AS_SQUARE, _NOT_BRACKET)
    for _ in range(max_depth):
        inner_removed = brackets.replace(b"[]", b"")
        if len(inner_removed) == len(brackets):
            break
        brackets = inner_removed
    return not brackets


def load_json(
    data: bytes | str, *, what: str = "body", max_depth: int = DEFAULT_MAX_JSON_DEPTH
) -> Any:
    """Decode JSON text within the limits; BadRequest naming `what` when it is not acceptable."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not nests_within(raw, max_depth):
        raise BadRequest(
            f"{what}: JSON nested more than {max_depth} deep, or its brackets do not balance",
            field=what,
        )
    try:
        value = json.loads(
            raw, parse_float=_finite_float, parse_int=_bounded_int, parse_constant=_no_constant
        )
    except _NumberOutOfRange as exc:
        raise BadRequest(f"{what}: number {exc} is out of range", field=what) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{what}: not valid JSON ({exc})", field=what) from None
    if _UNSTORABLE_ESCAPE.search(raw) and _holds_unstorable_text(value):
        raise BadRequest(
            f"{what}: a string holds a NUL (\\u0000) or a lone UTF-16 surrogate "
            "(\\ud800-\\udfff), which no store holds; escape characters beyond U+FFFF as a pair",
            field=what,
        )
    return value


def _holds_unstorable_text(value: Any) -> bool:
    # A walk, not recursion: the depth limit is a setting and may be set high.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _NumberOutOfRange(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange(text)
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _NumberOutOfRange(text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)")
    return int(text)


def _no_constant(text: str) -> float:
    raise _NumberOutOfRange(text)
