"""Compiled flags: a bool flag, or a numeric flag whose bounds are always there.

The rule-file model's `Flag` (core/model.py) says what a file wrote, so its bounds are
optional: a numeric flag without them is a load error, found by core/compile.py. The compiler
turns each declared flag into one of these two types, so code that reads bounds narrows
with `isinstance` (or `match`) and mypy proves them present (issue 14: "types all the way").
Pure data: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from redflag.core.model import Audience, Flag


@dataclass(frozen=True)
class BoolFlag:
    """A yes/no flag; `implies` lists the bool flags a yes to this one makes yes."""

    type: ClassVar[Literal["bool"]] = "bool"
    id: str
    question: str
    help: str | None = None
    audience: Audience = "patient"
    implies: tuple[str, ...] = ()

    def declared(self) -> Flag:
        """The rule file's own declaration of this flag (`rules show --json` prints it)."""
        return Flag(
            id=self.id,
            type="bool",
            question=self.question,
            help=self.help,
            audience=self.audience,
            implies=self.implies,
        )


@dataclass(frozen=True)
class NumericFlag:
    """A number flag: `type` "int" (whole numbers) or "number", valid from `min` to `max`.

    The bounds are finite, `min <= max`, within +-(2^53 - 1), and whole for "int" (checked
    by the compiler); an unknown value lies somewhere in [min, max].
    """

    id: str
    type: Literal["int", "number"]
    question: str
    min: float
    max: float
    unit: str | None = None
    help: str | None = None
    audience: Audience = "patient"

    def declared(self) -> Flag:
        """The rule file's own declaration of this flag (`rules show --json` prints it)."""
        return Flag(
            id=self.id,
            type=self.type,
            question=self.question,
            help=self.help,
            min=self.min,
            max=self.max,
            unit=self.unit,
            audience=self.audience,
        )


CompiledFlag = BoolFlag | NumericFlag
