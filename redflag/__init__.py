"""redflag: a red-flag checker for spinal cord compression and back pain.

Decision support, not a diagnosis and not a medical device.

The public Python API (README, "Python API"): `load_rules(path=None)` gives `Rules`, whose
`check(record)` gives a `CheckResult` and `check_many(records)` yields results in order, a
`RecordError` in place of each bad record. Errors are the documented `RedflagError`s.
The names are loaded on first use, so `import redflag` (and the command line) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from redflag.api import CheckResult, RecordError, Rules, RuleSetInfo, load_rules
    from redflag.errors import (
        ApprovalError,
        BadValueError,
        InputError,
        NotAnObjectError,
        RedflagError,
        RuleFileError,
        UnknownFlagError,
    )

_API = {"CheckResult", "RecordError", "Rules", "RuleSetInfo", "load_rules"}
_ERRORS = {
    "ApprovalError",
    "BadValueError",
    "InputError",
    "NotAnObjectError",
    "RedflagError",
    "RuleFileError",
    "UnknownFlagError",
}
__all__ = [
    "ApprovalError",
    "BadValueError",
    "CheckResult",
    "InputError",
    "NotAnObjectError",
    "RecordError",
    "RedflagError",
    "RuleFileError",
    "RuleSetInfo",
    "Rules",
    "UnknownFlagError",
    "__version__",
    "load_rules",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        from redflag import api

        return getattr(api, name)
    if name in _ERRORS:
        from redflag import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'redflag' has no attribute {name!r}")
