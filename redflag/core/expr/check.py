"""Type checking of a parsed condition against the rule file's declared flags.

Every problem is collected (not just the first), so `rules validate` can list them all.
Types: a bool flag, any(), all(), not, and, or and comparisons are `bool`; numeric flags,
numbers and count() are `number`. The whole condition must be `bool`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, assert_never

from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or
from redflag.core.suggest import Suggester, hint_for
from redflag.errors import ConditionError

ExprType = Literal["bool", "number"]
_UNKNOWN = "unknown"  # the type of an undeclared flag: no cascade of follow-on errors


def check_condition(
    node: Node,
    flag_types: Mapping[str, ExprType],
    suggest: Callable[[str], str | None] | None = None,
) -> list[ConditionError]:
    """Every type error in `node`; an empty list when the condition is a well-typed bool.

    `suggest` gives the did-you-mean for an unknown flag (default: closest over flag_types);
    compile passes one Suggester for the whole file, so hints cost bounded work.
    """
    problems: list[ConditionError] = []
    if suggest is None:
        suggest = Suggester(flag_types).closest
    top = _type_of(node, flag_types, problems, suggest)
    if top == "number":
        problems.append(
            _problem(
                node,
                "the condition is a number, not a yes/no test",
                "compare it, e.g. 'age >= 50' or 'count(a, b) >= 2'",
                kind="type",
            )
        )
    return problems


def _problem(node: Node, message: str, hint: str | None, kind: str) -> ConditionError:
    return ConditionError(message, kind=kind, start=node.span.start, end=node.span.end, hint=hint)


def _describe(node: Node) -> str:
    match node:
        case Name(id=flag):
            return f"flag '{flag}'"
        case Number(text=text):
            return f"the number {text}"
        case Call(func=func):
            return f"{func}(...)"
        case _:
            return "this part"


def _expect(
    node: Node,
    want: ExprType,
    flag_types: Mapping[str, ExprType],
    problems: list[ConditionError],
    context: str,
    suggest: Callable[[str], str | None],
) -> None:
    got = _type_of(node, flag_types, problems, suggest)
    if got in (want, _UNKNOWN):
        return
    if want == "bool":
        hint = "compare it with a number, e.g. 'age >= 50'"
        message = f"{context} needs a yes/no test, but {_describe(node)} is a number"
    else:
        hint = "bool flags are used on their own ('back_pain'), never compared with numbers"
        message = f"{context} needs a number, but {_describe(node)} is a yes/no flag or test"
    problems.append(_problem(node, message, hint, kind="type"))


def _type_of(
    node: Node,
    flag_types: Mapping[str, ExprType],
    problems: list[ConditionError],
    suggest: Callable[[str], str | None],
) -> str:
    match node:
        case Name(id=flag):
            declared = flag_types.get(flag)
            if declared is not None:
                return declared
            problems.append(
                _problem(
                    node,
                    f"unknown flag '{flag}'",
                    hint_for(suggest(flag), then="Flags are declared under [flags]."),
                    kind="unknown-flag",
                )
            )
            return _UNKNOWN
        case Number():
            return "number"
        case Not(operand=operand):
            _expect(operand, "bool", flag_types, problems, "'not'", suggest)
            return "bool"
        case And(operands=operands) | Or(operands=operands):
            word = "'and'" if isinstance(node, And) else "'or'"
            for operand in operands:
                _expect(operand, "bool", flag_types, problems, word, suggest)
            return "bool"
        case Call(func=func, args=args):
            for arg in args:
                _expect(arg, "bool", flag_types, problems, f"{func}(...)", suggest)
            return "number" if func == "count" else "bool"
        case Compare(op=op, left=left, right=right):
            _expect(left, "number", flag_types, problems, f"'{op}'", suggest)
            _expect(right, "number", flag_types, problems, f"'{op}'", suggest)
            if isinstance(left, Number) and isinstance(right, Number):
                problems.append(
                    _problem(
                        node,
                        "this compares two numbers, so it is always true or always false",
                        "compare a numeric flag or count(...) with a number",
                        kind="constant",
                    )
                )
            return "bool"
        case _:
            assert_never(node)
