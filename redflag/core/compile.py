"""RuleSet -> CompiledRuleSet: named checks that collect Diagnostics, then parsed conditions.

Each check adds Diagnostics instead of stopping at the first, as `opa check` does, so
`rules validate` shows every problem at once. A Locator supplied by the file adapter turns
a path in the document (and an offset inside a string) into file:line:col.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from redflag.core.expr import Node, check_condition, parse_condition
from redflag.core.expr.check import ExprType
from redflag.core.expr.nodes import FUNCTIONS, KEYWORDS
from redflag.core.expr.walk import flags_used, names_under_not
from redflag.core.flags import BoolFlag, CompiledFlag, NumericFlag
from redflag.core.implication import Implications, implications_of
from redflag.core.model import Level, Rule, RuleSet, RuleSetMeta, Source
from redflag.core.suggest import Suggester, did_you_mean
from redflag.errors import ConditionError, Diagnostic, Location, RuleFileError

PathPart = str | int
Locator = Callable[[tuple[PathPart, ...], int | None, int], Location | None]

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SOURCE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_RESERVED_FLAGS = frozenset({*KEYWORDS, *FUNCTIONS, "id"})


def _no_location(path: tuple[PathPart, ...], offset: int | None, length: int) -> None:
    return None


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its parsed condition and level rank (0 = most urgent)."""

    rule: Rule
    rank: int
    condition: Node
    flags: tuple[str, ...]

    @property
    def id(self) -> str:
        """The rule id."""
        return self.rule.id


@dataclass(frozen=True)
class CompiledRuleSet:
    """A rule set that passed every check: ready to evaluate records against.

    `flags` holds each declared flag, in file order, as a `BoolFlag` or a `NumericFlag`
    (core/flags.py): branch with `isinstance`, or read `numeric_flags` where the type check
    already put a numeric flag (a comparison's operand).
    """

    meta: RuleSetMeta
    sha256: str
    source: str
    levels: tuple[Level, ...]
    flags: Mapping[str, CompiledFlag]
    sources: Mapping[str, Source]
    rules: tuple[CompiledRule, ...]
    warnings: tuple[Diagnostic, ...] = ()
    _rank: Mapping[str, int] = field(default_factory=dict, repr=False)
    implications: Implications = field(default_factory=Implications)

    def rank(self, level_id: str) -> int:
        """The rank of a level id: 0 for the most urgent."""
        return self._rank[level_id]

    @cached_property
    def numeric_flags(self) -> Mapping[str, NumericFlag]:
        """The numeric flags, by id, in file order."""
        return {k: f for k, f in self.flags.items() if isinstance(f, NumericFlag)}


class _Collector:
    def __init__(self, locate: Locator) -> None:
        self.locate = locate
        self._flag_hints: Suggester | None = None
        self.diagnostics: list[Diagnostic] = []

    def add(
        self,
        code: str,
        message: str,
        path: tuple[PathPart, ...],
        hint: str | None = None,
        *,
        offset: int | None = None,
        length: int = 1,
        severity: str = "error",
    ) -> None:
        self.diagnostics.append(
            Diagnostic(code, message, self.locate(path, offset, length), hint, severity)
        )

    def flag_hint(self, flag_types: Mapping[str, ExprType]) -> Callable[[str], str | None]:
        """Did-you-mean for unknown flags, one budget for the whole file (issue 13)."""
        if self._flag_hints is None:
            self._flag_hints = Suggester(flag_types)
        return self._flag_hints.closest


def compile_ruleset(
    doc: RuleSet, *, sha256: str, source: str, locate: Locator = _no_location
) -> CompiledRuleSet:
    """Check a RuleSet for meaning and compile its conditions.

    Raises:
        RuleFileError: with every error (and warning) found, sorted by location.
    """
    out = _Collector(locate)
    _check_ids(doc, out)
    _check_levels(doc, out)
    flags = {f.id: f for f in _check_flags(doc, out)}
    _check_implications(doc, out)
    rank = {level.id: i for i, level in enumerate(doc.levels)}
    flag_types: dict[str, ExprType] = {
        f.id: ("bool" if f.type == "bool" else "number") for f in doc.flags
    }
    rules = _compile_rules(doc, rank, flag_types, out)
    if not any(d.severity == "error" for d in out.diagnostics):
        _warn_unused_flags(doc, rules, out)  # only meaningful once every rule compiled
    diagnostics = sorted(out.diagnostics, key=_sort_key)
    if any(d.severity == "error" for d in diagnostics):
        raise RuleFileError(diagnostics, source=source)
    return CompiledRuleSet(
        meta=doc.ruleset,
        sha256=sha256,
        source=source,
        levels=doc.levels,
        flags=flags,
        sources={s.key: s for s in doc.sources},
        rules=tuple(rules),
        warnings=tuple(diagnostics),
        _rank=rank,
        implications=implications_of(flags),
    )


def _sort_key(d: Diagnostic) -> tuple[int, int]:
    loc = d.location
    return (loc.line or 0, loc.col or 0) if loc else (0, 0)


def _check_ids(doc: RuleSet, out: _Collector) -> None:
    if not doc.ruleset.id.strip():
        out.add("empty", "the ruleset id is empty", ("ruleset", "id"), "give it an id")
    groups: tuple[tuple[str, tuple[Rule | Level, ...]], ...] = (
        ("rules", doc.rules),
        ("levels", doc.levels),
    )
    for kind, items in groups:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if not _ID.fullmatch(item.id):
                out.add(
                    "bad-id",
                    f"{kind[:-1]} id '{item.id}' is not a valid id",
                    (kind, i, "id"),
                    "use lower-case letters, digits and '_', starting with a letter",
                )
            if item.id in seen:
                out.add(
                    "duplicate-id",
                    f"{kind[:-1]} id '{item.id}' is used twice "
                    f"(first as {kind} #{seen[item.id] + 1})",
                    (kind, i, "id"),
                    "every id must be unique: rename one of them",
                )
            seen.setdefault(item.id, i)
    for flag in doc.flags:
        if not _ID.fullmatch(flag.id) or flag.id in _RESERVED_FLAGS:
            out.add(
                "bad-id",
                f"flag id '{flag.id}' is not a valid flag id",
                ("flags", flag.id),
                "use lower-case letters, digits and '_', starting with a letter; "
                "'and', 'or', 'not', 'any', 'all', 'count' and 'id' are reserved",
            )
    for src in doc.sources:
        if not _SOURCE_KEY.fullmatch(src.key):
            out.add(
                "bad-id",
                f"source key '{src.key}' is not a valid key",
                ("sources", src.key),
                "use letters, digits, '-', '_' or '.'",
            )
        scheme = _URL_SCHEME.match(src.url.strip().lower())
        if scheme and scheme.group(1) not in ("http", "https"):
            # issue 13: url = "javascript:..." became a live link in the review document
            out.add(
                "url-scheme",
                f"source '{src.key}' has a '{scheme.group(1)}:' URL; only http and https "
                "URLs become links in `rules doc`",
                ("sources", src.key, "url"),
                "give an https:// address, or a relative path to a local file",
                severity="warning",
            )


def _check_levels(doc: RuleSet, out: _Collector) -> None:
    if len(doc.levels) < 2:
        out.add(
            "levels",
            f"a rule set needs at least two levels, found {len(doc.levels)}",
            ("levels",),
            "list them most urgent first; the last one is the result when no rule matches",
        )
    elif doc.levels[-1].action_no_symptoms is None:
        out.add(
            "no-symptom-action",
            f"the no-match level '{doc.levels[-1].id}' has no action_no_symptoms: a person who "
            "reported no symptom at all would be given advice about symptoms",
            ("levels", len(doc.levels) - 1),
            'add action_no_symptoms = "..." to it, written for someone who reported nothing',
            severity="warning",
        )


MAX_EXACT = 2**53 - 1  # the largest bound: every whole number up to it is exact as a float


_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _check_flags(doc: RuleSet, out: _Collector) -> list[CompiledFlag]:
    """Check each declared flag; the compiled flags (used only when no check failed)."""
    compiled: list[CompiledFlag] = []
    for flag in doc.flags:
        path: tuple[PathPart, ...] = ("flags", flag.id)
        if not flag.question.strip():
            out.add("empty", f"flag '{flag.id}' has an empty question", (*path, "question"))
        if flag.type == "bool":
            for key in ("min", "max", "unit"):
                if getattr(flag, key) is not None:
                    out.add(
                        "bad-bounds",
                        f"bool flag '{flag.id}' cannot have '{key}'",
                        (*path, key),
                        "remove it, or make the flag type 'int' or 'number'",
                    )
            compiled.append(
                BoolFlag(flag.id, flag.question, flag.help, flag.audience, flag.implies)
            )
            continue
        if flag.min is None or flag.max is None:
            out.add(
                "bad-bounds",
                f"{flag.type} flag '{flag.id}' needs both 'min' and 'max'",
                path,
                "give the range of sensible answers, e.g. min = 0, max = 120",
            )
            continue
        if not (math.isfinite(flag.min) and math.isfinite(flag.max)) or flag.min > flag.max:
            out.add(
                "bad-bounds",
                f"flag '{flag.id}' has min {flag.min:g} and max {flag.max:g}",
                (*path, "min"),
                "min and max must be finite numbers with min <= max",
            )
        elif max(-flag.min, flag.max) > MAX_EXACT:
            # issue 13: past 2^53 a float cannot hold every whole number, and `check` (exact)
            # and `batch` (floats) would disagree on the values near a bound
            out.add(
                "bad-bounds",
                f"flag '{flag.id}' has a bound beyond +-{MAX_EXACT} (2^53 - 1)",
                (*path, "min" if -flag.min > MAX_EXACT else "max"),
                "numbers that large are not exact; keep min and max within +-9007199254740991",
            )
        if flag.type == "int" and not (flag.min.is_integer() and flag.max.is_integer()):
            out.add(
                "bad-bounds",
                f"int flag '{flag.id}' needs whole-number bounds",
                (*path, "min"),
                "use whole numbers, or make the flag type 'number'",
            )
        compiled.append(
            NumericFlag(
                flag.id,
                flag.type,
                flag.question,
                flag.min,
                flag.max,
                flag.unit,
                flag.help,
                flag.audience,
            )
        )
    return compiled


def _check_implications(doc: RuleSet, out: _Collector) -> None:
    """`implies` names declared bool flags, from a bool flag, without cycles."""
    kinds = {f.id: f.type for f in doc.flags}
    graph: dict[str, tuple[str, ...]] = {}
    for flag in doc.flags:
        if not flag.implies:
            continue
        path: tuple[PathPart, ...] = ("flags", flag.id, "implies")
        if flag.type != "bool":
            out.add(
                "type",
                f"{flag.type} flag '{flag.id}' cannot imply other flags",
                path,
                "only a yes/no (bool) flag can imply other yes/no flags",
            )
            continue
        for target in flag.implies:
            if target not in kinds:
                out.add(
                    "unknown-flag",
                    f"flag '{flag.id}' implies flag '{target}', which is not declared",
                    path,
                    did_you_mean(target, kinds, then="Flags are declared under [flags]."),
                )
            elif kinds[target] != "bool":
                out.add(
                    "type",
                    f"flag '{flag.id}' implies {kinds[target]} flag '{target}'",
                    path,
                    "a flag can only imply yes/no (bool) flags",
                )
            elif target == flag.id:
                out.add("implies-cycle", f"flag '{flag.id}' implies itself", path, "remove it")
        graph[flag.id] = tuple(t for t in flag.implies if kinds.get(t) == "bool")
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start and node not in graph[start]:
                out.add(
                    "implies-cycle",
                    f"flag '{start}' implies itself through other flags",
                    ("flags", start, "implies"),
                    "implications must not go round in a circle: remove one",
                )
                break
            if node in seen:
                continue
            seen.add(node)
            stack.extend(graph.get(node, ()))


def _compile_rules(
    doc: RuleSet, rank: Mapping[str, int], flag_types: Mapping[str, ExprType], out: _Collector
) -> list[CompiledRule]:
    declared_sources = {s.key for s in doc.sources}
    compiled: list[CompiledRule] = []
    last_level = doc.levels[-1].id if doc.levels else None
    for i, rule in enumerate(doc.rules):
        path: tuple[PathPart, ...] = ("rules", i)
        for key in ("title", "rationale", "advice"):
            if not getattr(rule, key).strip():
                out.add("empty", f"rule '{rule.id}' has an empty {key}", (*path, key))
        if rule.level not in rank:
            out.add(
                "unknown-level",
                f"rule '{rule.id}' has level '{rule.level}', which is not declared",
                (*path, "level"),
                did_you_mean(rule.level, rank, then=f"The levels are: {', '.join(rank)}."),
            )
        elif rule.level == last_level:
            out.add(
                "no-match-level",
                f"rule '{rule.id}' has level '{rule.level}', the level given when nothing "
                "matches, so it can never change a result",
                (*path, "level"),
                "give it a more urgent level, or remove it",
                severity="warning",
            )
        if not rule.sources:
            out.add(
                "no-source",
                f"rule '{rule.id}' cites no source",
                (*path, "sources"),
                "every rule must cite at least one key declared under [sources]",
            )
        for j, key in enumerate(rule.sources):
            if key not in declared_sources:
                out.add(
                    "unknown-source",
                    f"rule '{rule.id}' cites source '{key}', which is not declared",
                    (*path, "sources", j),
                    did_you_mean(key, declared_sources, then=f"Declare it as [sources.{key}]."),
                )
        condition = _compile_condition(rule, path, flag_types, out)
        if condition is not None and rule.level in rank:
            compiled.append(CompiledRule(rule, rank[rule.level], condition, flags_used(condition)))
    return compiled


def _compile_condition(
    rule: Rule, path: tuple[PathPart, ...], flag_types: Mapping[str, ExprType], out: _Collector
) -> Node | None:
    where = (*path, "when")
    try:
        node = parse_condition(rule.when)
    except ConditionError as err:
        _add_condition_error(rule, where, err, out)
        return None
    problems = check_condition(node, flag_types, out.flag_hint(flag_types))
    for problem in problems:
        _add_condition_error(rule, where, problem, out)
    for name in names_under_not(node):
        out.add(
            "negated-flag",
            f"rule '{rule.id}' uses flag '{name.id}' under 'not': answering yes to it can "
            "lower the urgency",
            where,
            "write the rule without 'not' if you can; urgency should only rise as "
            "symptoms are added",
            offset=name.span.start,
            length=name.span.end - name.span.start,
            severity="warning",
        )
    return None if problems else node


def _add_condition_error(
    rule: Rule, where: tuple[PathPart, ...], err: ConditionError, out: _Collector
) -> None:
    out.add(
        err.kind,
        f"rule '{rule.id}': {err.message}",
        where,
        err.hint,
        offset=err.start,
        length=max(1, err.end - err.start),
    )


def _warn_unused_flags(doc: RuleSet, rules: list[CompiledRule], out: _Collector) -> None:
    used = {flag for rule in rules for flag in rule.flags}
    for flag in doc.flags:
        if flag.id not in used:
            out.add(
                "unused-flag",
                f"flag '{flag.id}' is declared but no rule uses it",
                ("flags", flag.id),
                "use it in a rule or remove it (records may still give it)",
                severity="warning",
            )
