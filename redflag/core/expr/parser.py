"""Recursive-descent parser: condition text -> syntax tree (no type checking here).

Grammar (lowest precedence first):
    or_expr  := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | compare
    compare  := atom (OP atom)?
    atom     := NAME "(" or_expr ("," or_expr)* ")" | NAME | NUMBER | "(" or_expr ")"
Nesting is capped at MAX_DEPTH, so a hostile file gets a ConditionError, not a RecursionError.
"""

from __future__ import annotations

from typing import cast

from redflag.core.expr.lexer import Token, tokenize
from redflag.core.expr.nodes import (
    FUNCTIONS,
    KEYWORDS,
    And,
    Call,
    Compare,
    CompareOp,
    FuncName,
    Name,
    Node,
    Not,
    Number,
    Or,
    Span,
)
from redflag.core.suggest import did_you_mean
from redflag.errors import ConditionError

MAX_DEPTH = 32


def parse_condition(text: str) -> Node:
    """Parse a `when` condition into a syntax tree.

    Raises:
        ConditionError: with offsets into `text` and a hint.
    """
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def fail(self, message: str, tok: Token, hint: str | None = None, kind: str = "syntax") -> None:
        raise ConditionError(
            message, kind=kind, start=tok.start, end=max(tok.end, tok.start + 1), hint=hint
        )

    def parse(self) -> Node:
        if self.tok.kind == "end":
            self.fail("the condition is empty", self.tok, "write a condition such as 'back_pain'")
        node = self.or_expr()
        if self.tok.kind != "end":
            hint = None
            if self.tok.kind == ")":
                hint = "this ')' has no matching '('"
            elif self.tok.kind in ("name", "number", "("):
                hint = "join conditions with 'and' or 'or'"
            self.fail(
                f"unexpected {_describe(self.tok)} after a complete condition", self.tok, hint
            )
        return node

    def nest(self, at: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(
                f"the condition is nested more than {MAX_DEPTH} levels deep",
                at,
                "flatten it: 'a and b and c' needs no parentheses",
                kind="too-deep",
            )

    def or_expr(self) -> Node:
        start = self.tok
        operands = [self.and_expr()]
        while self.is_keyword("or"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), _span(start, operands))

    def and_expr(self) -> Node:
        start = self.tok
        operands = [self.not_expr()]
        while self.is_keyword("and"):
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands), _span(start, operands))

    def not_expr(self) -> Node:
        if self.is_keyword("not"):
            tok = self.advance()
            self.nest(tok)
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand, Span(tok.start, _end(operand)))
        return self.compare()

    def compare(self) -> Node:
        left = self.atom()
        if self.tok.kind != "op":
            return left
        op = cast(CompareOp, self.advance().text)
        right = self.atom()
        if self.tok.kind == "op":
            self.fail(
                "comparisons cannot be chained",
                self.tok,
                "write 'age >= 20 and age < 50' instead of '20 <= age < 50'",
            )
        return Compare(op, left, right, Span(_start(left), _end(right)))

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return Number(float(tok.text), tok.text, Span(tok.start, tok.end))
        if tok.kind == "(":
            self.advance()
            self.nest(tok)
            node = self.or_expr()
            self.depth -= 1
            if self.tok.kind != ")":
                self.fail(
                    f"expected ')' to close the '(' at offset {tok.start + 1}, "
                    f"found {_describe(self.tok)}",
                    self.tok,
                    "check that every '(' has a matching ')'",
                    kind="unbalanced",
                )
            self.advance()
            return node
        if tok.kind == "name":
            if tok.text in KEYWORDS:
                self.fail(f"expected a flag, a number or '(', found '{tok.text}'", tok)
            self.advance()
            if self.tok.kind == "(":
                return self.call(tok)
            return Name(tok.text, Span(tok.start, tok.end))
        hint = "a ')' here has no matching '('" if tok.kind == ")" else None
        self.fail(f"expected a flag, a number or '(', found {_describe(tok)}", tok, hint)
        raise AssertionError("unreachable")  # fail() always raises

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            hint = did_you_mean(
                name.text, FUNCTIONS, otherwise="use any(...), all(...) or count(...)"
            )
            self.fail(
                f"unknown function '{name.text}'; the functions are any(), all() and count()",
                name,
                hint,
                kind="unknown-function",
            )
        open_tok = self.advance()
        self.nest(open_tok)
        args: list[Node] = []
        if self.tok.kind == ")":
            self.fail(f"{name.text}() needs at least one argument", self.tok, kind="arity")
        while True:
            args.append(self.or_expr())
            if self.tok.kind == ",":
                self.advance()
                continue
            if self.tok.kind == ")":
                break
            self.fail(
                f"expected ',' or ')' in {name.text}(...), found {_describe(self.tok)}",
                self.tok,
                kind="unbalanced" if self.tok.kind == "end" else "syntax",
            )
        closing = self.advance()
        self.depth -= 1
        return Call(cast(FuncName, name.text), tuple(args), Span(name.start, closing.end))


def _describe(tok: Token) -> str:
    return "the end of the condition" if tok.kind == "end" else f"'{tok.text}'"


def _start(node: Node) -> int:
    return node.span.start


def _end(node: Node) -> int:
    return node.span.end


def _span(first: Token, operands: list[Node]) -> Span:
    return Span(min(first.start, _start(operands[0])), _end(operands[-1]))
