"""Small generic consumers of the syntax tree: children, every node, flags used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of `node`, in source order."""
    match node:
        case Name() | Number():
            return ()
        case Not(operand=operand):
            return (operand,)
        case And(operands=operands) | Or(operands=operands):
            return operands
        case Call(args=args):
            return args
        case Compare(left=left, right=right):
            return (left, right)
        case _:
            assert_never(node)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def flags_used(node: Node) -> tuple[str, ...]:
    """The flag ids `node` reads, each once, in order of first use."""
    return tuple(dict.fromkeys(n.id for n in walk(node) if isinstance(n, Name)))


def names_under_not(node: Node) -> list[Name]:
    """Flag references that sit under a `not` (adding that symptom can lower a level)."""
    found: list[Name] = []
    for n in walk(node):
        if isinstance(n, Not):
            found.extend(m for m in walk(n.operand) if isinstance(m, Name))
    return found
