"""Bounded JSON decoding: the limits hold, and what is within them decodes as json.loads does."""

from __future__ import annotations

import json

import pytest

from shipgauge.errors import BadRequest
from shipgauge.json_input import MAX_INTEGER_DIGITS, load_json, nests_within


@pytest.mark.parametrize(
    "text",
    [
        '{"query":{"term":{"build.id":"20170713200529"}},"size":0}',
        '{"a":[1,2,{"b":"[[[[ {{ not nesting"}]}',
        '{"escaped":"x\\"]\\\\","n":-9223372036854775808,"f":1e308}',
        '{"é":"ü"}',
        "[]",
        "0",
    ],
)
def test_within_the_limits_decodes_as_json_loads(text: str) -> None:
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("depth", [1, 10, 64])
def test_nesting_up_to_the_limit_is_accepted(depth: int) -> None:
    assert nests_within(b"[" * depth + b"]" * depth, 64)
    assert load_json("[" * depth + "]" * depth, max_depth=64) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 65 + "]" * 65, "nested more than 64 deep"),
        ("[" * 100_000, "nested more than 64 deep"),
        ('{"bool":{"must":' * 2000 + "{}" + "}}" * 2000, "nested more than 64 deep"),
        ('{"size":1e400}', "number 1e400 is out of range"),
        ('{"size":-1e400}', "number -1e400 is out of range"),
        ('{"a":NaN}', "number NaN is out of range"),
        ('{"a":-Infinity}', "number -Infinity is out of range"),
        ("1" + "0" * 60, "(61 digits) is out of range"),
        ("not json", "not valid JSON"),
        ('"' + '\\"' * 200_000, "not valid JSON (Unterminated string"),
        ('"\\' * 200_000, "not valid JSON (Unterminated string"),
    ],
)
def test_beyond_the_limits_is_a_bad_request_naming_the_input(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        load_json(text, what="metadata")
    assert err.value.field == "metadata"
    assert err.value.message.startswith("metadata: ")


def test_integer_digits_limit_admits_every_64_bit_integer() -> None:
    assert len(str(-(2**63)).lstrip("-")) <= MAX_INTEGER_DIGITS
    assert load_json(str(2**64)) == 2**64


@pytest.mark.parametrize(
    "text",
    [
        b'"\\ud800"',
        b'{"service":"web\\udfff"}',
        b'{"\\udc00":1}',
        b'["\\udfff\\udbff"]',
        b'"\xed\xa0\x80"',  # the surrogate's own bytes, which json.loads also decodes
        b'{"eventTime":"\\u0000"}',  # no PostgreSQL text holds a NUL
    ],
)
def test_a_lone_surrogate_or_a_nul_is_a_bad_request(text: bytes) -> None:
    with pytest.raises(BadRequest, match=r"a NUL .* or a lone UTF-16 surrogate") as err:
        load_json(text, what="body")
    assert err.value.field == "body"


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a pair is one character
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash: six characters of text
        ('"\\u00e9"', "é"),
    ],
)
def test_surrogate_pairs_and_lookalikes_decode(text: str, decoded: str) -> None:
    assert load_json(text) == decoded
