"""The public Python API: load a rule set once, check records with it (issue 17).

The library does the work and the command line translates (as in sqlite-utils): `redflag
check` builds its result with `Rules.result_for`, and `CheckResult.to_json()` is exactly what
`redflag check --json` prints. Everything here is re-exported by `redflag` itself:

    >>> import redflag
    >>> rules = redflag.load_rules()
    >>> rules.check({"cancer_history": True, "limb_weakness": True}).level
    'emergency'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, Value
from redflag.errors import InputError, Location, NotAnObjectError

__all__ = ["CheckResult", "RecordError", "RuleSetInfo", "Rules", "load_rules"]


@dataclass(frozen=True)
class RuleSetInfo:
    """Which rule set gave a result: as the `ruleset` object of `check --json`."""

    id: str
    version: str
    status: str
    sha256: str


@dataclass(frozen=True)
class CheckResult:
    """The result for one record; immutable.

    Attributes:
        level: the level id the answers prove (the last level, e.g. "routine", when no rule
            matched).
        worst_case: the most urgent level unanswered flags could still lead to (`level` when
            none can raise it).
        matched: ids of the rules that definitely matched, most urgent first.
        could_escalate: ids of the rules above `level` that unanswered flags could still
            make match, most urgent first.
        answered: the record's answers (unknown flags are absent, never false).
        ruleset: the rule set that gave the result.
        id: the record's `id`, if it had one.
    """

    level: str
    worst_case: str
    matched: tuple[str, ...]
    could_escalate: tuple[str, ...]
    answered: Mapping[str, Value]
    ruleset: RuleSetInfo
    id: str | int | None = None
    # the engine's own result and rule set, for renderers and to_json(); not compared
    result: Result = field(repr=False, compare=False, kw_only=True)
    compiled: CompiledRuleSet = field(repr=False, compare=False, kw_only=True)

    @property
    def is_complete(self) -> bool:
        """True when no unanswered flag can raise the level."""
        return self.level == self.worst_case

    def to_json(self) -> dict[str, Any]:
        """The result as `redflag check --json` prints it (see docs/schema/result.json)."""
        from redflag.formats.result_json import result_json

        return dict(result_json(self.result, self.compiled))


@dataclass(frozen=True)
class RecordError:
    """A record `Rules.check_many` could not check: where it was, and why.

    Attributes:
        index: the record's position in the input, from 0.
        error: the documented error (`error.code`, `error.message`, `error.hint`).
        id: the record's `id`, when it had a usable one.
    """

    index: int
    error: InputError
    id: str | int | None = None


class Rules:
    """A loaded, checked rule set; check records with it as often as needed."""

    def __init__(self, compiled: CompiledRuleSet) -> None:
        self._compiled = compiled

    @property
    def compiled(self) -> CompiledRuleSet:
        """The compiled rule set (for the engine's own functions)."""
        return self._compiled

    @property
    def info(self) -> RuleSetInfo:
        """id, version, status and sha256 of the rule file."""
        meta = self._compiled.meta
        return RuleSetInfo(meta.id, meta.version, meta.status, self._compiled.sha256)

    @property
    def levels(self) -> tuple[str, ...]:
        """The level ids, most urgent first."""
        return tuple(level.id for level in self._compiled.levels)

    @property
    def flags(self) -> tuple[str, ...]:
        """The flag ids a record may answer."""
        return tuple(self._compiled.flags)

    def __repr__(self) -> str:
        info = self.info
        return f"<Rules {info.id} {info.version} ({info.status})>"

    def check(self, record: Mapping[str, object]) -> CheckResult:
        """Check one record: flag id -> True/False/number (None or absent: unknown).

        Args:
            record: the answers, as `check -` reads them as JSON; an `id` key is kept.

        Returns:
            The CheckResult.

        Raises:
            UnknownFlagError: a key that is not a declared flag (with a did-you-mean hint).
            BadValueError: a value of the wrong type or out of the flag's bounds.
            NotAnObjectError: `record` is not a mapping.
        """
        from redflag.core.record import validate_record

        if not isinstance(record, Mapping):
            raise NotAnObjectError(
                f"a record is a mapping of flag ids to values, not {type(record).__name__}",
                hint='e.g. {"back_pain": True, "age": 67}',
            )
        valid, record_id = validate_record(record, self._compiled, Location("<record>"))
        return self.result_for(valid, record_id)

    def check_many(
        self, records: Iterable[Mapping[str, object]]
    ) -> Iterator[CheckResult | RecordError]:
        """Check records in order, yielding a CheckResult for each good one and a RecordError
        in place of each bad one (a bad record never stops the others)."""
        for index, record in enumerate(records):
            try:
                yield self.check(record)
            except InputError as err:
                raw_id = record.get("id") if isinstance(record, Mapping) else None
                usable = isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
                yield RecordError(index, err, raw_id if usable else None)  # type: ignore[arg-type]

    def result_for(self, record: Mapping[str, Value], record_id: str | int | None) -> CheckResult:
        """Evaluate a record already validated (by `check`, or by the command line)."""
        from redflag.core.evaluate import evaluate

        result = evaluate(self._compiled, record, record_id)
        return CheckResult(
            level=result.level.id,
            worst_case=self._compiled.levels[result.worst_rank].id,
            matched=tuple(o.rule.id for o in result.matched),
            could_escalate=tuple(o.rule.id for o in result.could_escalate),
            answered=MappingProxyType(dict(record)),
            ruleset=self.info,
            id=record_id,
            result=result,
            compiled=self._compiled,
        )


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Load and check a rule file, afresh (there is no cache).

    Args:
        path: the rule file; None for the rules bundled with redflag.

    Returns:
        The Rules, ready to check records.

    Raises:
        RuleFileError: the file is missing, unreadable, not TOML or has errors (`.diagnostics`
            lists every one, with file:line:col).
    """
    from redflag.formats.rulefile import load_ruleset

    return Rules(load_ruleset(Path(path) if path is not None else None))
