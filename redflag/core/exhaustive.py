"""Exact questions about every possible record, by enumeration of partial records with pruning.

Pure logic: no clock, no output. The CLI times the calls and prints the method name.

Records. A flag is unknown (absent), or answered: bool flags true/false; a numeric flag takes
one representative value per *region*, the pieces its declared [min, max] range is cut into by
every constant it is compared with (in either rule set), merged when every comparison agrees.
Within a region every comparison has the same truth, so one value stands for all of them.

Monotonicity (the fact every pruning below rests on). Call q an *extension* of p when q
answers every flag p answers, the same way, and maybe more. The evaluator is Kleene logic
over intervals: answering a flag narrows an interval or turns UNKNOWN into TRUE/FALSE, and
and/or/not/any/all/count/comparisons never turn a definite value back into UNKNOWN or flip it.
So a condition that is TRUE (or FALSE) for p is TRUE (or FALSE) for every extension of p.

Search. Partial records are enumerated breadth-first by number of answered flags, each flag
set once in a fixed order (so each record is visited once); a record's subtree is cut when
monotonicity shows no extension can be a witness. Breadth-first order makes the first witness
found a smallest one (fewest answered flags).

Why a downgrade needs only one rule's flags. Let q be a record with rank_new(q) > rank_old(q)
(a downgrade: NEW less urgent) and A an OLD rule that is TRUE for q with rank(A) = rank_old(q).
Let q' keep only q's answers to A's flags. A reads nothing else, so A is TRUE for q' and
rank_old(q') <= rank(A). q is an extension of q', so any NEW rule TRUE for q' is TRUE for q:
rank_new(q') >= rank_new(q) > rank(A) >= rank_old(q'). So q' is a downgrade too, answering only
A's flags, and never more flags than q. A cannot be a rule present unchanged in NEW (same
condition, same level): its twin would be TRUE for q at rank(A). Hence: for each OLD rule A
that is not in NEW unchanged, search the records over A's flags for one where A is TRUE and no
NEW rule at A's level or above is TRUE; cut when A is FALSE or such a NEW rule is TRUE (both
persist in every extension). The smallest witness over all such A is a smallest downgrade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import assert_never

from redflag.core.closures import TruthFn, truth_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Record, Value, compare, evaluate, trace_node
from redflag.core.expr.nodes import And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.expr.walk import walk
from redflag.core.implication import Implications, close, contradiction
from redflag.core.logic import Truth
from redflag.core.model import Flag
from redflag.errors import UsageError

METHOD = "exact enumeration of partial records with three-valued pruning"


class Verdict(Enum):
    """What the search does with one partial record."""

    WITNESS = "witness"
    PRUNE = "prune"
    CONTINUE = "continue"


Domain = Mapping[str, tuple[Value, ...]]
_FLIP: dict[CompareOp, CompareOp] = {
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
    "==": "==",
    "!=": "!=",
}


@dataclass
class SearchStats:
    """How much work a search did (partial records looked at)."""

    visited: int = 0


def smallest_witness(
    flags: Sequence[str],
    domain: Domain,
    verdict: Callable[[dict[str, Value]], Verdict],
    stats: SearchStats | None = None,
    base: Mapping[str, Value] | None = None,
) -> dict[str, Value] | None:
    """A smallest partial record over `flags` that `verdict` calls a witness, or None.

    `verdict` must be monotone in the sense of the module docstring: PRUNE only when no
    extension can be a witness. `base` answers are included in every record and not counted.
    """
    stats = stats or SearchStats()
    level: list[tuple[int, dict[str, Value]]] = [(-1, dict(base or {}))]
    while level:
        following: list[tuple[int, dict[str, Value]]] = []
        for last, record in level:
            stats.visited += 1
            answer = verdict(record)
            if answer is Verdict.WITNESS:
                return record
            if answer is Verdict.PRUNE:
                continue
            following.extend(
                (i, {**record, flags[i]: value})
                for i in range(last + 1, len(flags))
                for value in domain[flags[i]]
            )
        level = following
    return None


def truth(rule: CompiledRule, record: Record, ruleset: CompiledRuleSet) -> Truth:
    """A rule's truth for a (partial) record (the slow, traced evaluator)."""
    return trace_node(rule.condition, record, ruleset).truth


def node_key(node: Node) -> object:
    """A node's structure without source positions: equal keys mean the same condition."""
    match node:
        case Name(id=flag):
            return ("name", flag)
        case Number(value=value):
            return ("number", value)
        case Not(operand=operand):
            return ("not", node_key(operand))
        case And(operands=operands):
            return ("and", tuple(node_key(o) for o in operands))
        case Or(operands=operands):
            return ("or", tuple(node_key(o) for o in operands))
        case Call(func=func, args=args):
            return (func, tuple(node_key(a) for a in args))
        case Compare(op=op, left=left, right=right):
            return ("compare", op, node_key(left), node_key(right))
        case _:
            assert_never(node)


def domain_for(rulesets: Iterable[CompiledRuleSet]) -> dict[str, tuple[Value, ...]]:
    """Every flag's answers to try: bools true/false, numeric flags one value per region.

    Raises:
        UsageError: a numeric flag is compared with another flag or a count, which regions
            cut at constants cannot represent exactly.
    """
    sets = list(rulesets)
    cuts: dict[str, set[tuple[CompareOp, float]]] = {}
    flags: dict[str, Flag] = {}
    for ruleset in sets:
        flags.update(ruleset.flags)
        for rule in ruleset.rules:
            for node in walk(rule.condition):
                if isinstance(node, Compare):
                    _collect_cut(node, ruleset, cuts, rule.id)
    domain: dict[str, tuple[Value, ...]] = {}
    for flag in flags.values():
        if not flag.is_numeric:
            domain[flag.id] = (True, False)
        else:
            domain[flag.id] = _regions(flag, sorted(cuts.get(flag.id, set())))
    return domain


def _collect_cut(
    node: Compare,
    ruleset: CompiledRuleSet,
    cuts: dict[str, set[tuple[CompareOp, float]]],
    rule_id: str,
) -> None:
    left, right = node.left, node.right
    if isinstance(left, Name) and isinstance(right, Number):
        cuts.setdefault(left.id, set()).add((node.op, right.value))
    elif isinstance(left, Number) and isinstance(right, Name):
        cuts.setdefault(right.id, set()).add((_FLIP[node.op], left.value))
    elif isinstance(left, Name) or isinstance(right, Name):
        name = left if isinstance(left, Name) else right
        assert isinstance(name, Name)
        raise UsageError(
            f"rule '{rule_id}' compares flag '{name.id}' with something other than a "
            "number; the exhaustive check only handles comparisons with constants",
            hint="compare numeric flags with numbers, e.g. age >= 50",
        )


def _regions(flag: Flag, cuts: list[tuple[CompareOp, float]]) -> tuple[Value, ...]:
    assert flag.min is not None and flag.max is not None  # checked at load
    lo, hi = flag.min, flag.max
    bounds = sorted({lo, hi, *(c for _, c in cuts if lo <= c <= hi)})
    candidates: list[float] = []
    for i, point in enumerate(bounds):
        candidates.append(point)
        if i + 1 < len(bounds):
            upper = bounds[i + 1]
            if flag.type == "int":
                inner = float(int(upper) - 1) if upper.is_integer() else float(int(upper))
                if point < inner < upper:
                    candidates.append(inner)
            else:
                candidates.append((point + upper) / 2)
    seen: dict[tuple[Truth, ...], float] = {}
    for value in sorted(candidates):
        signature = tuple(compare(op, (value, value), (c, c)) for op, c in cuts)
        seen.setdefault(signature, value)
    values = sorted(seen.values())
    return tuple(int(v) if flag.type == "int" else v for v in values)


@dataclass(frozen=True)
class Counterexample:
    """A record that gets a less urgent level under NEW than under OLD."""

    record: dict[str, Value]
    responsible: str
    old_level: str
    new_level: str
    old_rules: tuple[str, ...]
    new_rules: tuple[str, ...]


@dataclass(frozen=True)
class ExhaustiveReport:
    """The answer of `diff --exhaustive`: counterexamples (none = no downgrade), and work."""

    method: str
    counterexamples: tuple[Counterexample, ...]
    checked_rules: tuple[str, ...]
    visited: int


def check_levels_match(old: CompiledRuleSet, new: CompiledRuleSet) -> None:
    """Both rule sets must list the same levels in the same order, and shared flags must
    have the same kind (bool or numeric), to be compared.

    A flag OLD has and NEW lacks is simply unknown to NEW (NEW never reads it).

    Raises:
        UsageError: they do not.
    """
    for flag_id, flag in old.flags.items():
        other = new.flags.get(flag_id)
        if other is not None and other.is_numeric != flag.is_numeric:
            raise UsageError(
                f"flag '{flag_id}' is {flag.type} in OLD but {other.type} in NEW, so records "
                "cannot be compared",
                hint="rename the flag in NEW if its meaning changed",
            )
    old_ids = [lv.id for lv in old.levels]
    new_ids = [lv.id for lv in new.levels]
    if old_ids != new_ids:
        raise UsageError(
            f"the two rule files have different levels ({', '.join(old_ids)} vs "
            f"{', '.join(new_ids)}), so their urgencies cannot be compared",
            hint="compare rule files that declare the same levels in the same order",
        )


def find_downgrades(old: CompiledRuleSet, new: CompiledRuleSet) -> ExhaustiveReport:
    """Every kind of downgrade from OLD to NEW over all records, each with a smallest record.

    One counterexample per OLD rule responsible (see the module docstring for why searching
    each such rule's flags is complete); sorted by number of answered flags.
    """
    check_levels_match(old, new)
    domain = domain_for([old, new])
    unchanged = {(node_key(r.condition), r.rank) for r in new.rules}
    same_implications = old.implications == new.implications
    stats = SearchStats()
    found: list[Counterexample] = []
    checked: list[str] = []
    for rule in old.rules:
        if (
            (node_key(rule.condition), rule.rank) in unchanged
            and same_implications
            and all(_same_values(old.flags[f], new.flags.get(f)) for f in rule.flags)
        ):
            continue
        checked.append(rule.id)
        searched = searched_flags(rule, old)
        reach = new.implications.related(frozenset(searched))
        blockers = relevant_blockers(reach, [r for r in new.rules if r.rank <= rule.rank], new)
        verdict = downgrade_verdict(truth_function(rule.condition, old), blockers, old=old, new=new)
        witness = smallest_witness(searched, domain, verdict, stats)
        if witness is not None:
            found.append(_counterexample(witness, rule.id, old, new))
    found.sort(key=lambda c: (len(c.record), c.old_level, c.responsible))
    return ExhaustiveReport(METHOD, tuple(found), tuple(checked), stats.visited)


def relevant_blockers(
    searched: Iterable[str],
    blockers: Iterable[CompiledRule],
    ruleset: CompiledRuleSet,
    base: Mapping[str, Value] | None = None,
) -> list[TruthFn]:
    """The blockers worth evaluating while searching records over the `searched` flags.

    A blocker that reads none of those flags has the same truth on every record searched (its
    flags stay as in `base`): if that is TRUE it blocks everything and is kept, otherwise it
    can never block and is dropped.
    """
    mine = set(searched)
    kept: list[TruthFn] = []
    for blocker in blockers:
        fn = truth_function(blocker.condition, ruleset)
        if mine.intersection(blocker.flags) or fn(base or {}) is Truth.TRUE:
            kept.append(fn)
    return kept


def downgrade_verdict(
    rule: TruthFn,
    blockers: Sequence[TruthFn],
    old_fixed: Mapping[str, Value] | None = None,
    new_fixed: Mapping[str, Value] | None = None,
    *,
    old: CompiledRuleSet | None = None,
    new: CompiledRuleSet | None = None,
) -> Callable[[dict[str, Value]], Verdict]:
    """Witness: `rule` TRUE (on record + old_fixed), no blocker TRUE (on record + new_fixed),
    each side closed under its rule set's implied flags (`old`, `new`).

    Prunes when `rule` is FALSE or a blocker is TRUE: both persist in every extension, as
    closing is monotone. A record that contradicts an implication of either side is no valid
    input, and neither is any extension of it: pruned.
    """
    old_imp = old.implications if old is not None else Implications()
    new_imp = new.implications if new is not None else Implications()

    def verdict(record: dict[str, Value]) -> Verdict:
        old_record = {**record, **old_fixed} if old_fixed else record
        new_record = {**record, **new_fixed} if new_fixed else record
        if contradiction(old_record, old_imp) or contradiction(new_record, new_imp):
            return Verdict.PRUNE
        old_closed = close(old_record, old_imp)
        new_closed = close(new_record, new_imp)
        value = rule(old_closed)
        if value is Truth.FALSE:
            return Verdict.PRUNE
        if any(b(new_closed) is Truth.TRUE for b in blockers):
            return Verdict.PRUNE
        return Verdict.WITNESS if value is Truth.TRUE else Verdict.CONTINUE

    return verdict


def searched_flags(rule: CompiledRule, ruleset: CompiledRuleSet) -> tuple[str, ...]:
    """The flags to search for records about `rule`: its own, then (in file order) every flag
    implied flags connect them with, since those can set the rule's flags (a yes to
    new_back_pain is a yes to back_pain)."""
    related = ruleset.implications.related(frozenset(rule.flags))
    return (*rule.flags, *(f for f in ruleset.flags if f in related and f not in rule.flags))


def _same_values(before: Flag, after: Flag | None) -> bool:
    """Same kind and bounds: an unknown value of the flag is decided the same way."""
    return after is not None and (before.type, before.min, before.max) == (
        after.type,
        after.min,
        after.max,
    )


def _counterexample(
    record: dict[str, Value], responsible: str, old: CompiledRuleSet, new: CompiledRuleSet
) -> Counterexample:
    before = evaluate(old, record)
    after = evaluate(new, {k: v for k, v in record.items() if k in new.flags})
    assert after.rank > before.rank, "search found a record that is not a downgrade"
    return Counterexample(
        record=record,
        responsible=responsible,
        old_level=before.level.id,
        new_level=after.level.id,
        old_rules=tuple(o.rule.id for o in before.matched),
        new_rules=tuple(o.rule.id for o in after.matched),
    )
