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


# The members, read once, for the hot paths (the closures, `compare`, the service's
# evaluator): on Python 3.11 `Truth.UNKNOWN` is a lookup through the enum's descriptor, about
# 0.1 us, and `Truth(2 - t)` about 0.5 us (issue 16: most of the time a rule's closure took).
TRUE, UNKNOWN, FALSE = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE
NOT = (TRUE, UNKNOWN, FALSE)  # indexed by a Truth: Kleene negation, as not_


def not_(a: Truth) -> Truth:
    """Kleene negation: UNKNOWN stays UNKNOWN."""
    return NOT[a]


def from_bool(value: bool | None) -> Truth:
    """A Python bool (or None for unknown) as a Truth."""
    if value is None:
        return Truth.UNKNOWN
    return Truth.TRUE if value else Truth.FALSE
