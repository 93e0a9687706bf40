"""Lucene regular expressions (Elasticsearch's `regexp` query, terms `include`) → one regex.

The output is the common subset of RE2 (DuckDB), PostgreSQL's AREs and Python's `re`: groups,
alternation, bracket classes, quantifiers and backslash-escaped punctuation. Lucene anchors a
pattern to the whole term, so the result is anchored too. Lucene's grammar, by precedence: union
`|`, intersection `&`, concatenation, repetition (`?`, `*`, `+`, `{n,m}`), complement `~`, then
atoms (`.`, `"literal"`, `(…)`, `[…]`, `\\x`, any other character as itself) and, under flags,
`@` (any string), `#` (the empty language) and `<n-m>` (a decimal interval). Complement and
intersection have no equivalent in these engines: a pattern using them is refused, never
approximated.
"""

from __future__ import annotations

import string

from shipgauge.errors import BadRequest

__all__ = ["FLAG_NAMES", "MAX_REGEXP_NESTING", "lucene_flags", "lucene_to_regex"]

FLAG_NAMES = {
    "INTERSECTION": "&", "COMPLEMENT": "~", "EMPTY": "#", "ANYSTRING": "@", "INTERVAL": "<",
}  # fmt: skip
ALL_FLAGS = frozenset(FLAG_NAMES.values())
MAX_REGEXP_NESTING = 64
"""Deepest group nesting accepted, so a pattern of 5,000 `(` costs no RecursionError."""
MAX_INTERVAL_VALUES = 1000
"""Widest `<n-m>` interval, which is spelled out value by value."""
_PLAIN = set(string.ascii_letters + string.digits)


def lucene_flags(flags: str) -> frozenset[str]:
    """The operators `flags` ("ALL", "NONE" or names joined by `|`) turns on."""
    on: set[str] = set()
    for name in (part.strip().upper() for part in flags.split("|")):
        if name == "ALL":
            on |= ALL_FLAGS
        elif name in FLAG_NAMES:
            on.add(FLAG_NAMES[name])
        elif name not in ("NONE", ""):
            raise BadRequest(f"regexp: unknown flag [{name}]", field="flags")
    return frozenset(on)


def lucene_to_regex(pattern: str, flags: frozenset[str] = ALL_FLAGS) -> str:
    """An anchored regex matching exactly the terms Lucene's `pattern` matches."""
    parser = _Parser(pattern, flags)
    body = parser.union(0)
    if parser.at < len(pattern):
        parser.fail(f"end-of-string expected at position {parser.at}")
    return f"(?s)^(?:{body})$"


def _literal(char: str) -> str:
    # Punctuation is escaped; letters, digits and other characters stand for themselves.
    return char if char in _PLAIN or ord(char) > 127 else "\\" + char


class _Parser:
    def __init__(self, pattern: str, flags: frozenset[str]) -> None:
        self.pattern, self.flags, self.at = pattern, flags, 0

    def fail(self, reason: str) -> None:
        raise BadRequest(f"regexp [{self.pattern}]: {reason}", field="regexp")

    def peek(self, chars: str) -> bool:
        return self.at < len(self.pattern) and self.pattern[self.at] in chars

    def take(self) -> str:
        if self.at >= len(self.pattern):
            self.fail("unexpected end-of-string")
        self.at += 1
        return self.pattern[self.at - 1]

    def operator(self, char: str) -> bool:
        return char in self.flags and self.peek(char)

    def union(self, depth: int) -> str:
        if depth > MAX_REGEXP_NESTING:
            self.fail(f"groups nested more than {MAX_REGEXP_NESTING} deep")
        branches = [self.concatenation(depth)]
        while self.peek("|"):
            self.at += 1
            branches.append(self.concatenation(depth))
        return "|".join(branches)

    def concatenation(self, depth: int) -> str:
        parts = [self.repetition(depth)]
        while self.at < len(self.pattern) and not self.peek(")|"):
            if self.operator("&"):
                self.fail("the intersection operator `&` is not supported")
            parts.append(self.repetition(depth))
        return "".join(parts)

    def repetition(self, depth: int) -> str:
        atom = self.complement(depth)
        while self.peek("?*+{"):
            char = self.take()
            atom = f"(?:{atom}){char if char != '{' else self.bounds()}"
        return atom

    def bounds(self) -> str:
        low = self.digits()
        high = low
        if self.peek(","):
            self.at += 1
            high = self.digits() if not self.peek("}") else ""
        if not self.peek("}"):
            self.fail("expected '}'")
        self.at += 1
        return f"{{{low},{high}}}" if high != low else f"{{{low}}}"

    def digits(self) -> str:
        start = self.at
        while self.peek(string.digits):
            self.at += 1
        if start == self.at:
            self.fail(f"integer expected at position {self.at}")
        return self.pattern[start : self.at]

    def complement(self, depth: int) -> str:
        if self.operator("~"):
            self.fail("the complement operator `~` is not supported")
        return self.char_class() if self.peek("[") else self.simple(depth)

    def char_class(self) -> str:
        self.at += 1
        negated = "^" if self.peek("^") else ""
        self.at += len(negated)
        members: list[str] = []
        while not self.peek("]"):
            low = self.char()
            if self.peek("-"):
                self.at += 1
                members.append(f"{_literal(low)}-{_literal(self.char())}")
            else:
                members.append(_literal(low))
        self.at += 1
        if not members:
            self.fail("empty character class")
        return f"[{negated}{''.join(members)}]"

    def char(self) -> str:
        char = self.take()
        return self.take() if char == "\\" else char

    def simple(self, depth: int) -> str:
        char = self.take()
        if char == ".":
            return "."
        if char == "#" and "#" in self.flags:
            return "[^\\s\\S]"  # the empty language: matches nothing
        if char == "@" and "@" in self.flags:
            return ".*"
        if char == '"':
            end = self.pattern.find('"', self.at)
            if end < 0:
                self.fail("expected '\"'")
            text, self.at = self.pattern[self.at : end], end + 1
            return "".join(_literal(c) for c in text)
        if char == "(":
            inner = "" if self.peek(")") else self.union(depth + 1)
            if not self.peek(")"):
                self.fail("expected ')'")
            self.at += 1
            return f"(?:{inner})"
        if char == "<" and "<" in self.flags:
            return self.interval()
        return _literal(self.take() if char == "\\" else char)

    def interval(self) -> str:
        low = self.digits()
        if not self.peek("-"):
            self.fail("expected '-'")
        self.at += 1
        high = self.digits()
        if not self.peek(">"):
            self.fail("expected '>'")
        self.at += 1
        first, last = sorted((int(low), int(high)))
        if last - first >= MAX_INTERVAL_VALUES:
            self.fail(f"interval <{low}-{high}> spans more than {MAX_INTERVAL_VALUES} values")
        # Lucene: bounds of equal length fix the width (zero-padded); otherwise any leading zeros.
        width = len(low) if len(low) == len(high) else 0
        numbers = "|".join(str(n).zfill(width) for n in range(first, last + 1))
        return f"(?:{numbers})" if width else f"0*(?:{numbers})"
