"""Implied flags: a yes to one flag is a yes to the flags it implies (`implies = [...]`).

`new_back_pain` implies `back_pain`: a new back pain is a back pain. Every evaluator reads
records through `close`, so check, batch, ask, test, diff and rules analyze all honour the
rule file's implications through this one definition. Pure logic: no I/O.

Closing a record (A implies B, transitively):
- A answered yes makes every B it implies yes (where B was not answered);
- B answered no makes every A that implies it no (the contrapositive), so an interview does
  not ask about a new back pain after "no back pain", and "could escalate" does not list it.
A record answering A yes and B no contradicts the rule file: `contradiction` finds it, and
record validation turns it into a bad-value error. Closing is monotone (more answers give a
closed record with more answers, never different ones) and idempotent, which the exact
searches of core/exhaustive.py rely on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from redflag.core.flags import BoolFlag, CompiledFlag

Value = bool | int | float
Record = Mapping[str, Value]


@dataclass(frozen=True)
class Implications:
    """The transitive implications of a rule set's bool flags.

    Attributes:
        implied: flag -> every flag a yes to it implies, directly or through others.
        implying: flag -> every flag whose yes implies it.
    """

    implied: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    implying: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.implied)

    def related(self, flags: set[str] | frozenset[str]) -> frozenset[str]:
        """`flags` with every flag they imply or are implied by (the flags closing can touch)."""
        found = set(flags)
        for flag in flags:
            found.update(self.implied.get(flag, ()))
            found.update(self.implying.get(flag, ()))
        return frozenset(found)


def implications_of(flags: Mapping[str, CompiledFlag]) -> Implications:
    """The transitive closure of the bool flags' `implies` lists (checked for cycles at load)."""
    direct = {f.id: f.implies for f in flags.values() if isinstance(f, BoolFlag) and f.implies}
    implied: dict[str, tuple[str, ...]] = {}
    for start in direct:
        seen: dict[str, None] = {}
        stack = list(reversed(direct[start]))
        while stack:
            flag = stack.pop()
            if flag in seen or flag == start:
                continue
            seen[flag] = None
            stack.extend(reversed(direct.get(flag, ())))
        implied[start] = tuple(seen)
    implying: dict[str, list[str]] = {}
    for start, targets in implied.items():
        for target in targets:
            implying.setdefault(target, []).append(start)
    return Implications(implied, {k: tuple(v) for k, v in implying.items()})


def contradiction(record: Record, implications: Implications) -> tuple[str, str] | None:
    """The first (yes flag, implied flag answered no) pair in `record`, or None."""
    for flag, targets in implications.implied.items():
        if record.get(flag) is True:
            for target in targets:
                if record.get(target) is False:
                    return flag, target
    return None


def close(record: Record, implications: Implications) -> Record:
    """`record` with every implied answer added (see the module docstring).

    The record must have no contradiction (validated records never do); where it has one,
    the record's own answers win and nothing is added for that pair.
    """
    if not implications:
        return record
    added: dict[str, Value] = {}
    for flag, targets in implications.implied.items():
        if record.get(flag) is True:
            for target in targets:
                if target not in record:
                    added[target] = True
    for target, sources in implications.implying.items():
        if record.get(target) is False:
            for flag in sources:
                if flag not in record:
                    added[flag] = False
    if not added:
        return record
    return {**record, **added}
