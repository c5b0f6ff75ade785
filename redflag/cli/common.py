"""Options and helpers shared by commands: loading the rule set, --rules, --fail-on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from redflag.core.compile import CompiledRuleSet
from redflag.errors import UsageError

RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Rule file to use (default: the bundled rules.toml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="LEVEL",
        help="Exit 1 when the result is at or above LEVEL (e.g. urgent).",
    ),
]


def cache_dir() -> Path | None:
    """Where validated rule sets are cached: $REDFLAG_CACHE_DIR, else the user cache dir.

    REDFLAG_CACHE_DIR set to an empty string turns the cache off.
    """
    configured = os.environ.get("REDFLAG_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "redflag"


def load(rules: Path | None) -> CompiledRuleSet:
    """The rule set named by --rules (or the bundled one), through the cache."""
    from redflag.formats.rulefile import load_ruleset

    return load_ruleset(rules, cache_dir=cache_dir())


def fail_on_rank(ruleset: CompiledRuleSet, level: str | None) -> int | None:
    """The rank that --fail-on names, or None when not given."""
    if level is None:
        return None
    ids = [lv.id for lv in ruleset.levels]
    if level not in ids:
        raise UsageError(
            f"--fail-on {level!r} is not a level of rule set '{ruleset.meta.id}'",
            hint="use one of: " + ", ".join(ids),
        )
    return ruleset.rank(level)
