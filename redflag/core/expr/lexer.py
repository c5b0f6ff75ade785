"""Tokeniser for the condition language: names, numbers, comparisons, parentheses, commas.

Anything else (quotes, dots, brackets, colons, operators Python has and we do not) is a
`ConditionError` at its offset, so no Python construct can even be spelt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redflag.errors import ConditionError

MAX_LENGTH = 4000

TokenKind = Literal["name", "number", "op", "(", ")", ",", "end"]

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_TWO_CHAR_OPS = ("<=", ">=", "==", "!=")
_HINTS = {
    "&": "write 'and' instead of '&'",
    "|": "write 'or' instead of '|'",
    "!": "write 'not' instead of '!'",
    "=": "compare with '==' (a single '=' assigns)",
    "'": "the condition language has no strings; name flags directly",
    '"': "the condition language has no strings; name flags directly",
    ".": "the condition language has no attribute access; numbers are written like 4 or 3.5",
    "[": "the condition language has no lists; use any(...), all(...) or count(...)",
    ":": "the condition language has no lambdas, slices or assignments",
}


@dataclass(frozen=True)
class Token:
    """One token with its offsets in the condition text."""

    kind: TokenKind
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split a condition into tokens, ending with an `end` token.

    Raises:
        ConditionError: on a character the language does not use, or a text over MAX_LENGTH.
    """
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"condition is {len(text)} characters long; the limit is {MAX_LENGTH}",
            kind="too-long",
            start=0,
            end=1,
            hint="split the condition into several rules",
        )
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            tokens.append(Token("name", text[i:j], i, j))
            i = j
        elif c in _DIGITS:
            j = i + 1
            while j < n and text[j] in _DIGITS:
                j += 1
            if j + 1 < n and text[j] == "." and text[j + 1] in _DIGITS:
                j += 2
                while j < n and text[j] in _DIGITS:
                    j += 1
            if j < n and text[j] in _NAME_CHARS:
                raise ConditionError(
                    f"'{text[i : j + 1]}' is not a number",
                    kind="bad-number",
                    start=i,
                    end=j + 1,
                    hint="numbers are written like 50 or 3.5",
                )
            tokens.append(Token("number", text[i:j], i, j))
            i = j
        elif text[i : i + 2] in _TWO_CHAR_OPS:
            tokens.append(Token("op", text[i : i + 2], i, i + 2))
            i += 2
        elif c in "<>":
            tokens.append(Token("op", c, i, i + 1))
            i += 1
        elif c in "(),":
            tokens.append(Token(c, c, i, i + 1))  # type: ignore[arg-type]  # c is one of the kinds
            i += 1
        else:
            raise ConditionError(
                f"unexpected character {c!r}",
                kind="bad-character",
                start=i,
                end=i + 1,
                hint=_HINTS.get(
                    c,
                    "conditions use flag names, numbers, and, or, not, "
                    "comparisons, parentheses and any/all/count(...)",
                ),
            )
    tokens.append(Token("end", "", n, n))
    return tokens
