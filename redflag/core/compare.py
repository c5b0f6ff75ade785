"""OLD rule set vs NEW: which rules changed, and which cases change level (diff over cases).

Returns data (DiffReport); the exhaustive comparison over every record is core/exhaustive.py.
Must not print or read files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redflag.core.casework import Case
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Result, evaluate
from redflag.core.exhaustive import check_levels_match, node_key

ChangeKind = Literal["added", "removed", "changed"]
_TEXT_FIELDS = ("title", "rationale", "advice")


@dataclass(frozen=True)
class RuleChange:
    """A rule added, removed, or changed (with the names of the parts that changed)."""

    rule_id: str
    kind: ChangeKind
    fields: tuple[str, ...] = ()
    old_level: str | None = None
    new_level: str | None = None


@dataclass(frozen=True)
class CaseChange:
    """A case whose level differs between OLD and NEW, with the rules setting each level."""

    case: Case
    old: Result
    new: Result

    @property
    def is_downgrade(self) -> bool:
        """True when NEW is less urgent: the dangerous direction."""
        return self.new.rank > self.old.rank

    @property
    def old_rules(self) -> tuple[str, ...]:
        """OLD's matched rules at OLD's level."""
        return _deciding(self.old)

    @property
    def new_rules(self) -> tuple[str, ...]:
        """NEW's matched rules at NEW's level."""
        return _deciding(self.new)


@dataclass(frozen=True)
class DiffReport:
    """Rule changes and case changes between two rule sets."""

    rule_changes: tuple[RuleChange, ...]
    downgrades: tuple[CaseChange, ...]
    upgrades: tuple[CaseChange, ...]
    cases_compared: int


def _deciding(result: Result) -> tuple[str, ...]:
    return tuple(o.rule.id for o in result.matched if o.compiled.rank == result.rank)


def rule_changes(old: CompiledRuleSet, new: CompiledRuleSet) -> tuple[RuleChange, ...]:
    """Rules removed, changed and added, matched by id (removed and changed in OLD's order)."""
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    changes: list[RuleChange] = []
    for rule_id, before in old_rules.items():
        after = new_rules.get(rule_id)
        if after is None:
            changes.append(RuleChange(rule_id, "removed", old_level=before.rule.level))
            continue
        fields = _changed_fields(before, after)
        if fields:
            changes.append(
                RuleChange(rule_id, "changed", fields, before.rule.level, after.rule.level)
            )
    changes.extend(
        RuleChange(rule_id, "added", new_level=after.rule.level)
        for rule_id, after in new_rules.items()
        if rule_id not in old_rules
    )
    return tuple(changes)


def _changed_fields(before: CompiledRule, after: CompiledRule) -> tuple[str, ...]:
    fields: list[str] = []
    if node_key(before.condition) != node_key(after.condition):
        fields.append("condition")
    if before.rule.level != after.rule.level:
        fields.append("level")
    fields.extend(f for f in _TEXT_FIELDS if getattr(before.rule, f) != getattr(after.rule, f))
    if before.rule.sources != after.rule.sources:
        fields.append("sources")
    return tuple(fields)


def diff_rulesets(
    old: CompiledRuleSet, new: CompiledRuleSet, cases: Sequence[Case] = ()
) -> DiffReport:
    """Compare two rule sets: their rules, and the level each case gets under each.

    Raises:
        AnalysisError: the two rule sets do not declare the same levels.
    """
    check_levels_match(old, new)
    downgrades: list[CaseChange] = []
    upgrades: list[CaseChange] = []
    for case in cases:
        change = CaseChange(case, evaluate(old, case.record, case.name), evaluate(new, case.record))
        if change.new.rank > change.old.rank:
            downgrades.append(change)
        elif change.new.rank < change.old.rank:
            upgrades.append(change)
    return DiffReport(rule_changes(old, new), tuple(downgrades), tuple(upgrades), len(cases))
