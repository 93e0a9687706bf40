"""Lucene regular expressions → one regex that Python, DuckDB (RE2) and PostgreSQL read alike."""

from __future__ import annotations

import re

import pytest

from shipgauge.errors import BadRequest
from shipgauge.queries.builds.lucene_regexp import lucene_flags, lucene_to_regex
from shipgauge.store import Store

# (Lucene pattern, terms it matches, terms it does not): Lucene's RegExp syntax, anchored.
CASES: list[tuple[str, list[str], list[str]]] = [
    (r'[0-9]+".0a1"', ["63.0a1", "100.0a1"], ["63.0a1x", "63x0a1", "a63.0a1"]),
    (r"[0-9\.]+(([ab][0-9]+)|esr)?", ["60.0.1", "62.0b4", "60.1.0esr"], ["61.0rc2", ""]),
    (r"[0-9\.]+rc[0-9]+", ["61.0rc2"], ["61.0", "61.0rc"]),
    ("*", ["*"], ["", "63.0a1"]),  # a repeat with nothing before it is the character itself
    ("a{2,3}", ["aa", "aaa"], ["a", "aaaa"]),
    ("a{2}", ["aa"], ["aaa"]),
    ("a{2,}", ["aaaa"], ["a"]),
    ("[^a-c]x", ["dx", "-x"], ["ax", "x"]),
    ("ab|cd", ["ab", "cd"], ["abcd"]),
    ("()a", ["a"], ["()a"]),
    ("@", ["", "anything at all"], []),
    ("a#", [], ["a", "a#"]),
    ("v<1-12>", ["v1", "v12", "v007"], ["v13", "v"]),
    ("v<01-12>", ["v01", "v12"], ["v1", "v13"]),
    (r"\@\#\~", ["@#~"], ["x"]),
    ("^$.", ["^$x"], ["x"]),  # ^ and $ are plain characters in Lucene
    ('"a.b*"c', ["a.b*c"], ["axbbc"]),
]


def test_lucene_patterns_match_whole_terms_on_both_engines(store: Store) -> None:
    for pattern, matches, others in CASES:
        regex = lucene_to_regex(pattern)
        for term in matches + others:
            expected = term in matches
            assert (re.fullmatch(regex, term) is not None) is expected, (pattern, term)
            found = store.query("SELECT regexp_matches(?, ?)", [term, regex]).scalar()
            assert bool(found) is expected, (store.engine.name, pattern, term)


def test_flags_turn_operators_into_characters() -> None:
    assert re.fullmatch(lucene_to_regex("a@", lucene_flags("NONE")), "a@")
    assert re.fullmatch(lucene_to_regex("a@", lucene_flags("ANYSTRING|EMPTY")), "abc")
    assert re.fullmatch(lucene_to_regex("v<1-2>", lucene_flags("ANYSTRING")), "v<1-2>")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("~a", "complement"),
        ("a&b", "intersection"),
        ("(a", "expected ')'"),
        ("a)", "end-of-string expected"),
        ("[]", "empty character class"),
        ("a{x}", "integer expected"),
        ('"abc', "expected '\"'"),
        ("v<1-5000>", "spans more than"),
        ("(" * 5000, "nested more than"),
    ],
)
def test_patterns_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(reason)):
        lucene_to_regex(pattern)


def test_unknown_flag_is_refused() -> None:
    with pytest.raises(BadRequest, match="BOGUS"):
        lucene_flags("ALL|BOGUS")
