"""Three-valued (Kleene) truth: a flag not given is UNKNOWN, never FALSE.

The ordering FALSE < UNKNOWN < TRUE makes `and` a minimum, `or` a maximum and `not` the
reflection 2 - x: the Kleene truth tables every evaluator follows (tested exhaustively).
"""

from __future__ import annotations

from enum import IntEnum


class Truth(IntEnum):
    """A truth value: FALSE, UNKNOWN or TRUE."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    @property
    def is_definite(self) -> bool:
        """True for TRUE and FALSE, False for UNKNOWN."""
        return self is not Truth.UNKNOWN


def not_(a: Truth) -> Truth:
    """Kleene negation: UNKNOWN stays UNKNOWN."""
    return Truth(2 - a)


def from_bool(value: bool | None) -> Truth:
    """A Python bool (or None for unknown) as a Truth."""
    if value is None:
        return Truth.UNKNOWN
    return Truth.TRUE if value else Truth.FALSE
