"""Arrow columns of any export format read as one kind of value: text, integer, number, UTC time
or date, with the rows whose value cannot be read.

BigQuery's exports give the same column as different Arrow types: Parquet keeps TIMESTAMP and
DATE typed, its CSV and JSON exports write them as text (`2024-08-01 12:00:00 UTC`) and INT64 as
JSON strings. Every reader here takes any of them. The whole column is converted at once; only a
column holding a value Arrow cannot convert is converted value by value, to find which rows.
"""

from __future__ import annotations

from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["UTC_TIME", "Kind", "arrow_type", "read_column"]

Kind = Literal["text", "int", "float", "time", "date"]
UTC_TIME: Final = pa.timestamp("us", tz="UTC")
_TYPES: Final[dict[str, pa.DataType]] = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "time": UTC_TIME,
    "date": pa.date32(),
}
_INTEGER: Final = r"^\s*[+-]?\d+\s*$"
_NUMBER: Final = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_ZONE: Final = r"([zZ]|[+-]\d\d(:?\d\d)?)$"


def arrow_type(kind: Kind) -> pa.DataType:
    """The Arrow type a column of `kind` is read as."""
    return _TYPES[kind]


def read_column(values: pa.Array | pa.ChunkedArray, kind: Kind) -> tuple[pa.Array, pa.Array]:
    """`values` as `kind`, and a boolean mask of the rows that held a value it cannot read (those
    rows are NULL in the result)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    target = _TYPES[kind]
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target), _none(array)
    if kind == "text":
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            return array.cast(pa.string()), _none(array)
        if pa.types.is_nested(array.type):
            return _bad_column(array, target)
        return _cast(array, target)
    if _is_text(array):
        array = _prepared_text(array, kind)
    return _cast(array, target)


def _is_text(array: pa.Array) -> bool:
    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def _prepared_text(array: pa.Array, kind: Kind) -> pa.Array:
    """Text made castable: blanks are NULL, numbers trimmed, times given their zone (BigQuery's
    ` UTC` suffix, or none at all: UTC) and a `T`."""
    text = array.cast(pa.string())
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), None, text)
    if kind in ("int", "float"):
        pattern = _INTEGER if kind == "int" else _NUMBER
        # a value the pattern refuses stays as it is, so the cast fails and names its row
        return pc.if_else(pc.match_substring_regex(text, pattern), pc.utf8_trim(text, " "), text)
    if kind == "time":
        text = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), r"\s*UTC$", "Z")
        text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d) ", r"\1T")
        zoned = pc.match_substring_regex(text, _ZONE)
        return pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
    return text


def _cast(array: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    try:
        return _converted(array, target), _none(array)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError):
        return _value_by_value(array, target)


def _converted(array: pa.Array, target: pa.DataType) -> pa.Array:
    if target == pa.date32() and pa.types.is_timestamp(array.type):
        return pc.cast(array.cast(UTC_TIME), pa.date32())
    if pa.types.is_floating(array.type) and pa.types.is_integer(target):
        return pc.cast(array, target)  # safe: 1.0 is 1, 1.5 is refused
    return pc.cast(array, target)


def _value_by_value(array: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    out: list[object] = []
    bad: list[bool] = []
    for i in range(len(array)):
        one = array.slice(i, 1)
        if not one.is_valid()[0].as_py():
            out.append(None)
            bad.append(False)
            continue
        try:
            out.append(_converted(one, target)[0].as_py())
            bad.append(False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError):
            out.append(None)
            bad.append(True)
    return pa.array(out, target), pa.array(bad)


def _bad_column(array: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    return pa.nulls(len(array), target), array.is_valid()


def _none(array: pa.Array) -> pa.Array:
    return pa.repeat(pa.scalar(False), len(array))
