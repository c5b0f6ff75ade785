"""Syntax-tree nodes of the condition language: frozen dataclasses with spans.

Consumers are functions that `match` on these classes and end in `assert_never`, so a new
consumer never edits the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FUNCTIONS = ("any", "all", "count")
KEYWORDS = ("and", "or", "not")

FuncName = Literal["any", "all", "count"]
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]

# `a op b` is `b FLIP[op] a`: the one table for turning a comparison around
FLIP: dict[CompareOp, CompareOp] = {
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
    "==": "==",
    "!=": "!=",
}


@dataclass(frozen=True)
class Span:
    """Offsets [start, end) into the condition text."""

    start: int
    end: int


@dataclass(frozen=True)
class Name:
    """A reference to a flag."""

    id: str
    span: Span


@dataclass(frozen=True)
class Number:
    """A numeric literal."""

    value: float
    text: str
    span: Span


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: Node
    span: Span


@dataclass(frozen=True)
class And:
    """`a and b and ...` (flattened, two or more operands)."""

    operands: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Or:
    """`a or b or ...` (flattened, two or more operands)."""

    operands: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """`any(...)`, `all(...)` or `count(...)`."""

    func: FuncName
    args: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Compare:
    """`left op right` between numbers (numeric flags, `count(...)`, literals)."""

    op: CompareOp
    left: Node
    right: Node
    span: Span


Node = Name | Number | Not | And | Or | Call | Compare
