"""Records from the outside world: argv words and one JSON object, checked against a rule set.

Parsing is strict: NaN, Infinity and duplicate keys are errors (a duplicated symptom with two
answers must not be resolved silently), and every error says where it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Value
from redflag.core.flags import BoolFlag, CompiledFlag
from redflag.core.implication import contradiction
from redflag.core.record import (
    RecordId,
    check_value,
    contradiction_error,
    unknown_flag,
    validate_record,
)
from redflag.errors import (
    BadEncodingError,
    BadJSONError,
    BadValueError,
    InputError,
    InputErrors,
    Location,
    NotAnObjectError,
    TooLargeError,
)

MAX_RECORD_BYTES = 1024 * 1024  # a real record is under 2 KiB; anything near this is not one
BOM = "\ufeff"
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})
UNKNOWN_WORDS = frozenset({"unknown", "null", "?"})
# The one grammar of a number written as text, on the command line or in a CSV cell: JSON's
# (no '_', no leading '+', no 'inf' or 'nan', no spaces inside).
NUMBER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def number_text(text: str) -> float | None:
    """The number a word or cell writes, or None when it is not one (NUMBER_TEXT)."""
    return float(text) if NUMBER_TEXT.fullmatch(text) else None


def record_from_words(
    words: Sequence[str], ruleset: CompiledRuleSet
) -> tuple[Record, RecordId | None]:
    """`back_pain age=67 fever=no` -> a validated record.

    A bare flag name means yes; NAME=yes|no|true|false|1|0 sets a bool; NAME=<number> sets a
    numeric flag; NAME=unknown leaves it unknown. Repeating a flag is an error.
    """
    record: dict[str, Value] = {}
    record_id: RecordId | None = None
    seen: set[str] = set()
    errors: list[InputError] = []  # every bad word is reported, not only the first (issue 12)
    for position, word in enumerate(words, start=1):
        where = Location(f"argument {position} ({word!r})")
        name, has_value, text = word.partition("=")
        name = name.strip()
        try:
            if name in seen:
                raise InputError(
                    f"'{name}' is given twice", location=where, hint="give each flag once"
                )
            seen.add(name)
            if name == "id":
                record_id = text
                continue
            flag = ruleset.flags.get(name)
            if flag is None:
                raise unknown_flag(name, ruleset, where)
            value = _word_value(flag, has_value == "=", text.strip(), where)
            if value is not None:
                record[name] = check_value(flag, value, where)
        except InputError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
    clash = contradiction(record, ruleset.implications)
    if clash is not None:
        raise contradiction_error(*clash, where=Location("arguments"))
    return record, record_id


def _word_value(flag: CompiledFlag, has_value: bool, text: str, where: Location) -> object:
    name, word = flag.id, text.lower()
    if has_value and word in UNKNOWN_WORDS:
        return None
    if isinstance(flag, BoolFlag):
        if not has_value or word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise BadValueError(
            f"'{name}' is a yes/no flag, got {text!r}",
            location=where,
            hint=f"write {name} (yes), {name}=no, or {name}=unknown",
        )
    if not has_value:
        raise BadValueError(
            f"'{name}' needs a value", location=where, hint=f"write it as {name}=<number>"
        )
    number = number_text(text)
    if number is None:
        raise BadValueError(
            f"'{name}' must be a number, got {text!r}",
            location=where,
            hint=f"write it as {name}=<number>, e.g. {name}=60",
        )
    return int(number) if number.is_integer() and flag.type == "int" else number


def decode_record_bytes(data: bytes, source: str, line: int | None = None) -> str:
    """UTF-8 bytes of one record as text (a leading byte-order mark is dropped).

    Raises:
        TooLargeError: over MAX_RECORD_BYTES.
        BadEncodingError: not UTF-8.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise TooLargeError(
            f"the record is over the limit of {MAX_RECORD_BYTES:,} bytes",
            location=Location(source, line),
            hint="a record is one small JSON object; is this the right input?",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadEncodingError(
            f"the input is not UTF-8 text (invalid byte 0x{data[err.start]:02x} at offset "
            f"{err.start})",
            location=Location(source, line),
            hint="save or send the record as UTF-8",
        ) from None
    return text.removeprefix(BOM)


def parse_json_object(text: str, source: str, line: int | None = None) -> dict[str, Any]:
    """Parse text holding exactly one JSON object.

    Raises:
        BadJSONError: not JSON, NaN/Infinity, duplicate keys, or more than one value.
        NotAnObjectError: valid JSON that is not an object.
    """
    base = line or 1
    try:
        hook = _refuse_flaws_in_text if may_hold_surrogates(text) else _refuse_flaws
        value = json.loads(
            text, object_pairs_hook=hook, parse_constant=_no_constants, parse_int=json_int
        )
    except json.JSONDecodeError as err:
        if not text.strip():
            raise BadJSONError(
                "expected a JSON object, got nothing",
                location=Location(source, line),
                hint='give one record such as {"back_pain": true, "age": 67}',
            ) from None
        raise BadJSONError(
            f"not valid JSON: {err.msg}",
            location=Location(source, base + err.lineno - 1, err.colno),
            hint='a record is one JSON object such as {"back_pain": true, "age": 67}',
        ) from None
    except _FlawError as err:
        raise err.flaw.error(Location(source, line)) from None
    except NumberTooLongError as err:
        raise BadValueError(
            str(err),
            location=Location(source, line),
            hint="write a number such as 67, or null if not known",
        ) from None
    except _ConstantError as err:
        raise BadJSONError(
            f"{err.name} is not allowed in JSON records",
            location=Location(source, line),
            hint="write a finite number, or null if not known",
        ) from None
    except RecursionError:
        raise BadJSONError(
            "the JSON is nested too deeply",
            location=Location(source, line),
            hint='a record is one flat object such as {"back_pain": true, "age": 67}',
        ) from None
    if not isinstance(value, dict):
        raise NotAnObjectError(
            f"expected a JSON object, got {_json_kind(value)}",
            location=Location(source, line),
            hint='a record is one JSON object such as {"back_pain": true, "age": 67}',
        )
    return value


def record_from_json(
    text: str, ruleset: CompiledRuleSet, source: str = "<stdin>", line: int | None = None
) -> tuple[Record, RecordId | None]:
    """Parse and validate one JSON record."""
    raw = parse_json_object(text, source, line)
    return validate_record(raw, ruleset, Location(source, line))


class _ConstantError(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name


class Flaw:
    """Why `check` refuses a JSON object while parsing it: a key given twice, or text
    holding an unpaired surrogate. (A plain class: a dataclass costs start-up time.)"""

    __slots__ = ("duplicate", "unpaired")

    def __init__(self, *, duplicate: str | None = None, unpaired: str | None = None) -> None:
        self.duplicate = duplicate
        self.unpaired = unpaired

    def error(self, where: Location) -> BadJSONError:
        """The error `check` gives for it."""
        if self.unpaired is not None:
            shown = self.unpaired.encode("utf-8", "backslashreplace").decode(
                "ascii", "backslashreplace"
            )
            return BadJSONError(
                f"'{shown}' holds an unpaired surrogate: not valid Unicode text",
                location=where,
                hint="write text as UTF-8; escape a character beyond \\uffff as a pair "
                "such as \\ud83d\\ude00",
            )
        return BadJSONError(
            f"key '{self.duplicate}' appears more than once",
            location=where,
            hint="give each flag once",
        )


def pair_flaw(pairs: list[tuple[str, Any]], in_text: bool) -> Flaw | None:
    """The first flaw of an object's (key, value) pairs, or None.

    Unpaired surrogates are looked for first, and only when `in_text` (may_hold_surrogates
    said the text could give one); then a key given twice.
    """
    if in_text:
        for pair in pairs:
            for text in pair:
                if isinstance(text, str) and has_unpaired_surrogate(text):
                    return Flaw(unpaired=text)
    if len(dict(pairs)) == len(pairs):
        return None  # no key given twice: one C call, not a loop per key (issue 16)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return Flaw(duplicate=key)
        seen.add(key)
    return None


class _FlawError(ValueError):
    def __init__(self, flaw: Flaw) -> None:
        self.flaw = flaw


def _refuse_flaws(pairs: list[tuple[str, Any]], in_text: bool = False) -> dict[str, Any]:
    flaw = pair_flaw(pairs, in_text)
    if flaw is not None:
        raise _FlawError(flaw)
    return dict(pairs)


def _refuse_flaws_in_text(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return _refuse_flaws(pairs, in_text=True)


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def may_hold_surrogates(text: str) -> bool:
    """Whether JSON text could decode to a string holding a surrogate: only an escape such
    as \\ud800 can give one (UTF-8 text cannot), so most text need not be checked."""
    return "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None


def has_unpaired_surrogate(text: str) -> bool:
    """Whether JSON text such as "\\ud800" gave a string that is not valid Unicode.

    (A pair such as "\\ud83d\\ude00" decodes to one character, so any surrogate left is
    unpaired.) Such text cannot be written as UTF-8: it is refused where it is read.
    """
    return not text.isascii() and _SURROGATE.search(text) is not None


def _no_constants(name: str) -> None:
    raise _ConstantError(name)


MAX_DIGITS = 4300  # Python's own limit for int(str); past it int() raises (issue 13)


class NumberTooLongError(ValueError):
    """A whole number in JSON with more than MAX_DIGITS digits."""

    def __init__(self, digits: int) -> None:
        super().__init__(f"a number of {digits:,} digits is too long (at most {MAX_DIGITS:,})")


def json_int(text: str) -> int:
    """`json`'s parse_int: an int, or NumberTooLongError instead of Python's own ValueError."""
    digits = len(text) - text.startswith("-")
    if digits > MAX_DIGITS:
        raise NumberTooLongError(digits)
    return int(text)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"
