"""Lucene `query_string` syntax (the part Buildhub's search box uses) → a SQL condition.

Terms, "phrases", `field:value`, `*`/`?` wildcards, AND/OR/NOT (`&&`, `||`, `!`, `+`, `-`)
and parentheses. Juxtaposed terms join with the default operator; AND binds tighter than
OR. Every field is a keyword, so a term matches a whole value, as in Elasticsearch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipgauge.errors import BadRequest

__all__ = ["DEFAULT_MAX_QUERY_STRING_CHARS", "MAX_QUERY_NESTING", "Condition", "parse_query_string"]

DEFAULT_MAX_QUERY_STRING_CHARS = 8192
"""Longest query string accepted (setting `max_query_string_chars`); the UI's are a few words."""
MAX_QUERY_NESTING = 64
"""Deepest nesting of parentheses and prefix operators (`NOT`, `!`) the parser descends into."""

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(&&|\|\|)|([^\s()"]+))')
_OPERATORS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}


@dataclass
class Condition:
    """A SQL boolean expression and its parameters, in order."""

    sql: str
    params: list[Any] = field(default_factory=list)

    @staticmethod
    def join(parts: Sequence[Condition], op: str, empty: str) -> Condition:
        """`parts` joined by `op`; `empty` (TRUE/FALSE) when there are none."""
        if not parts:
            return Condition(empty)
        if len(parts) == 1:
            return parts[0]
        return Condition(
            "(" + f" {op} ".join(p.sql for p in parts) + ")", [x for p in parts for x in p.params]
        )

    def negated(self) -> Condition:
        # A test on a missing (NULL) value is false, so its negation holds, as in Elasticsearch.
        return Condition(f"(NOT COALESCE({self.sql}, FALSE))", self.params)


Compare = Callable[[str, str, Any], Condition]
Like = Callable[[str, str], Condition]


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        found.append(next(g for g in match.groups() if g is not None))
        position = match.end()
    return found


class _Parser:
    def __init__(
        self, tokens: list[str], fields: list[str], default_and: bool, compare: Compare, like: Like
    ) -> None:
        self.tokens, self.fields, self.default_and = tokens, fields, default_and
        self.compare, self.like = compare, like
        self.at = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        self.at += 1
        return self.tokens[self.at - 1]

    def starts_clause(self) -> bool:
        token = self.peek()
        return token is not None and token != ")" and _OPERATORS.get(token) not in ("AND", "OR")

    def expression(self) -> Condition:
        parts = [self.conjunction()]
        while True:
            if self.peek() is not None and _OPERATORS.get(self.peek() or "") == "OR":
                self.take()
            elif self.default_and or not self.starts_clause():
                break
            parts.append(self.conjunction())
        return Condition.join(parts, "OR", "FALSE")

    def conjunction(self) -> Condition:
        parts = [self.unary()]
        while True:
            if self.peek() is not None and _OPERATORS.get(self.peek() or "") == "AND":
                self.take()
            elif not (self.default_and and self.starts_clause()):
                break
            parts.append(self.unary())
        return Condition.join(parts, "AND", "TRUE")

    def unary(self) -> Condition:
        token = self.peek()
        if token is None:
            return Condition("TRUE")
        if token in ("NOT", "!", "("):
            self.take()
            self.depth += 1
            if self.depth > MAX_QUERY_NESTING:
                raise BadRequest(
                    f"query_string: nested more than {MAX_QUERY_NESTING} deep", field="query"
                )
            inner = self.unary().negated() if token != "(" else self.expression()
            if token == "(" and self.peek() == ")":
                self.take()
            self.depth -= 1
            return inner
        token = self.take()
        if len(token) > 1 and token[0] in "+-!":
            rest = self._atom(token[1:])
            return rest.negated() if token[0] in "-!" else rest
        return self._atom(token)

    def _atom(self, token: str) -> Condition:
        fields = self.fields
        name, sep, value = token.partition(":")
        if sep and re.fullmatch(r"[\w.*]+", name):
            fields, token = [name], value
            if not token and self.peek() is not None and self.peek() not in (")",):
                token = self.take()
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            text, wild = token[1:-1].replace('\\"', '"'), False
        else:
            text, wild = token.replace("\\", ""), "*" in token or "?" in token
        return Condition.join(
            [c for f in fields if (c := self._match(f, text, wild))], "OR", "FALSE"
        )

    def _match(self, name: str, text: str, wild: bool) -> Condition | None:
        try:
            return self.like(name, text) if wild else self.compare(name, "=", text)
        except BadRequest:
            return None  # lenient: a value that does not fit a field's type skips that field


def parse_query_string(
    text: str,
    *,
    fields: list[str],
    default_and: bool,
    compare: Compare,
    like: Like,
    max_chars: int = DEFAULT_MAX_QUERY_STRING_CHARS,
) -> Condition:
    """A query string → condition; `compare(field, op, value)` and `like(field, pattern)` build
    the per-field tests (so field names and values stay under the caller's rules).

    BadRequest when the text is longer than `max_chars` or nests deeper than MAX_QUERY_NESTING.
    """
    if len(text) > max_chars:
        raise BadRequest(
            f"query_string: {len(text)} characters, more than the {max_chars} accepted",
            field="query",
        )
    tokens = _tokens(text)
    if not tokens or text.strip() in ("*", "*:*"):
        return Condition("TRUE")
    return _Parser(tokens, fields, default_and, compare, like).expression()
