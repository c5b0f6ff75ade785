"""Validated records: flag id -> value. A flag not given (or null) is unknown, never false.

Validation is strict: an unknown key, a wrong type or an out-of-range value is an
InputError saying what, where and how to fix it. Nothing is ignored or coerced silently.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Value
from redflag.core.flags import BoolFlag, CompiledFlag
from redflag.core.implication import contradiction
from redflag.core.suggest import did_you_mean
from redflag.errors import BadValueError, Location, UnknownFlagError

ID_KEY = "id"
RecordId = str | int


def validate_record(
    raw: Mapping[str, object], ruleset: CompiledRuleSet, where: Location | None = None
) -> tuple[Record, RecordId | None]:
    """Check a raw mapping (parsed JSON, argv words) against the rule set's flags.

    Returns:
        The record (only the flags that were answered) and its `id`, if it had one.

    Raises:
        UnknownFlagError: a key that is neither a flag nor `id`.
        BadValueError: a value of the wrong type or outside the flag's bounds.
    """
    record: dict[str, Value] = {}
    record_id: RecordId | None = None
    for key, value in raw.items():
        if key == ID_KEY:
            record_id = _check_id(value, where)
            continue
        flag = ruleset.flags.get(key)
        if flag is None:
            raise unknown_flag(key, ruleset, where)
        if value is None:
            continue
        record[key] = check_value(flag, value, where)
    clash = contradiction(record, ruleset.implications)
    if clash is not None:
        raise contradiction_error(*clash, where=where)
    return record, record_id


def contradiction_error(flag: str, implied: str, where: Location | None) -> BadValueError:
    """The error for a record answering `flag` yes and `implied`, which it implies, no."""
    return BadValueError(
        f"'{flag}' is yes, which implies '{implied}', but '{implied}' is no",
        location=where,
        hint=f"a yes to '{flag}' means a yes to '{implied}': correct one of the two answers, "
        f"or leave '{implied}' out (it is implied)",
    )


def unknown_flag(key: str, ruleset: CompiledRuleSet, where: Location | None) -> UnknownFlagError:
    """The error for a key that is not a flag, with a did-you-mean."""
    return UnknownFlagError(
        f"'{key}' is not a flag of rule set '{ruleset.meta.id}'",
        location=where,
        hint=suggest_flag(key, ruleset),
    )


def suggest_flag(key: str, ruleset: CompiledRuleSet) -> str:
    """A did-you-mean hint for an unknown flag name."""
    normal = key.strip().lower().replace(" ", "_").replace("-", "_")
    if normal in ruleset.flags:
        return f"did you mean '{normal}'? Flag ids are lower case with '_'."
    return _flag_hint(normal, tuple(ruleset.flags))


@functools.lru_cache(maxsize=4096)
def _flag_hint(key: str, flags: tuple[str, ...]) -> str:
    # memo: a stream repeats its unknown keys (issue 13: 25x slower batch); bounded size
    return did_you_mean(key, flags, otherwise="run 'redflag rules show' to list the flags")


def _check_id(value: object, where: Location | None) -> RecordId:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise BadValueError(
        f"'id' must be a string or a whole number, got {_show(value)}",
        location=where,
        hint='write it as "r1" or 17',
    )


def check_value(flag: CompiledFlag, value: object, where: Location | None = None) -> Value:
    """A flag's value if it has the right type and lies within bounds.

    Raises:
        BadValueError: what was wrong, with how to write it instead.
    """
    if isinstance(flag, BoolFlag):
        if isinstance(value, bool):
            return value
        raise BadValueError(
            f"'{flag.id}' must be true or false, got {_show(value)}",
            location=where,
            hint="write true, false, or null if not known",
        )
    number = _as_number(value, whole=flag.type == "int")
    if number is not None and flag.min <= number <= flag.max:
        return number
    kind = "a whole number" if flag.type == "int" else "a number"
    unit = f" {flag.unit}" if flag.unit else ""
    raise BadValueError(
        f"'{flag.id}' must be {kind} from {flag.min:g} to {flag.max:g}{unit}, got {_show(value)}",
        location=where,
        hint=f"write a number such as {flag.min + (flag.max - flag.min) / 2:g}, "
        "or null if not known",
    )


def _as_number(value: object, *, whole: bool) -> int | float | None:
    """`value` as an int (whole) or a finite number, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        if not whole:
            return value
        return int(value) if value.is_integer() else None
    return None


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value[:40]}"' + ("..." if len(value) > 40 else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)[:40]
