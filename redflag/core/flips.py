"""Which unanswered flags can still change an interview's level: the exact test behind `ask`.

Pure logic: no clock but the budget's, no I/O. core/interview.py plans with it.

Why this is exact (issue 4, "never ask a question whose answer can no longer change the
level"): answering a flag never changes a rule that is already TRUE or FALSE (Kleene logic is
monotone in information), so the level can only rise, and only through a could-escalate rule
(UNKNOWN, above the current level). A flag is worth asking when, for some answers to the
other askable flags of such a rule, two answers to this flag make the rule TRUE and not TRUE.
Two kinds of proof decide it, both exact:

- Two records, evaluated (core/closures.py): the answers so far, answers to the rule's open
  flags, and two answers to the flag that give different levels. Found by trying a few
  patterns of answers (the fewest yes that keep the rule TRUE, all yes, all no, and the
  records of the solver's earlier answers), so most flags that matter are shown to matter
  without the solver.
- The SAT solver of core/solve.py, for the rest, and for every "no": two copies of every flag,
  answered alike but for the one asked about, bool flags yes or no and numeric flags one value
  per region (core/regions.py, cut by the constants of every rule). "Don't know" flags range
  over their answers too.

The encoding is built once per interview, only when the solver is first needed, and the
answers so far are solver assumptions (selector literals), so a question costs solver calls,
not a new encoding; and what a rule's open flags can do is decided once for each state of the
flags its watched rules read (a new answer elsewhere does not ask again). When the time budget
runs out (interview.PLAN_SECONDS) or a rule compares two numeric flags with each other, every
askable flag it is missing counts as worth asking: the error is always towards asking, never
towards stopping early.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from redflag.core.closures import TruthFn, truth_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Value
from redflag.core.implication import close, contradiction
from redflag.core.logic import Truth
from redflag.core.regions import answers, constants, node_cuts, region_of
from redflag.core.solve import Budget, OutOfTime, Problem, Records, Side

# the answers (None: unknown) of the flags read besides a rule's open flags
_Stated = tuple[tuple[str, Value | None], ...]
# what one rule's open flags can do is decided once for each: (rules watched, its open flags,
# those askable, the other flags read as stated)
_Key = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], _Stated]
# the flags worth asking now, and those that may matter after a "don't know"
_Decided = tuple[tuple[str, ...], frozenset[str]]
_Answers = dict[str, Value | None]
# a watched rule: its level rank, its condition as a closure, the flags it reads
_Row = tuple[float, TruthFn, frozenset[str]]
# a valid record tried, closed, and which watched rules it makes TRUE (None: not yet seen)
_Tried = tuple[dict[str, Value], Record, list[bool | None]]


class Encoding:
    """One rule set, prepared once for a whole interview.

    The SAT encoding (`problem`, built at first use) has two copies x and y of every flag,
    numeric ones cut at the constants of every rule, and every gate and selector literal
    made so far, each made once: a plan states the answers so far by assumptions, so the
    encoding only ever grows by definitions (gates, and selectors that constrain nothing
    unless assumed). Regions cut by the constants of every rule split no region of fewer rules
    in a way that matters: each comparison of the rules asked about has one truth per region.
    """

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        # a rule comparing two quantities is not encoded: a plan reaching it asks every
        # missing flag, and its comparisons cut no regions
        self.inexact = frozenset(
            rule.id for rule in ruleset.rules if isinstance(node_cuts(rule.condition), str)
        )
        self.cuts = constants(rule for rule in ruleset.rules if rule.id not in self.inexact)
        self.domain = answers({f: [spec] for f, spec in ruleset.flags.items()}, self.cuts)
        self.decided: dict[_Key, _Decided] = {}
        self._truths: dict[str, TruthFn] = {}
        self._problem: Problem | None = None
        self._same: dict[str, int] = {}
        self._differ: dict[frozenset[tuple[int, int]], int] = {}
        self._selectors: dict[frozenset[int], int] = {}

    def close(self) -> None:
        """Free the solver."""
        if self._problem is not None:
            self._problem.close()
            self._problem = None

    def truth(self, rule: CompiledRule) -> TruthFn:
        """The rule's condition as a closure (core/closures.py), made once."""
        found = self._truths.get(rule.id)
        if found is None:
            found = truth_function(rule.condition, self.ruleset)
            self._truths[rule.id] = found
        return found

    @property
    def problem(self) -> Problem:
        """The SAT encoding and its solver, built at first use."""
        if self._problem is None:
            flags = tuple(self.ruleset.flags)
            self._problem = Problem(self.domain, [self.ruleset])
            self.x = self._problem.records(flags)
            self.y = self._problem.records(flags)
            self.sx = self._problem.side(self.x, self.ruleset)
            self.sy = self._problem.side(self.y, self.ruleset)
        return self._problem

    def copies(self) -> tuple[tuple[Records, Side], tuple[Records, Side]]:
        """The two copies of the record, with their sides (the encoding built if need be)."""
        self.problem  # noqa: B018 - builds the copies
        return (self.x, self.sx), (self.y, self.sy)

    def fact(self, flag: str, value: Value | None) -> tuple[int, int]:
        """The literals "`flag` is `value` in both copies" (None: unknown in both)."""
        fx, fy = self.x.vars[flag], self.y.vars[flag]
        if value is None:
            return -fx.answered, -fy.answered
        if fx.numeric:
            i = region_of(value, fx.values, self.cuts.get(flag, set()))
            return fx.regions[i], fy.regions[i]
        return (fx.yes, fy.yes) if value else (fx.no, fy.no)

    def same(self, flag: str) -> int:
        """A literal that, assumed true, makes both copies answer `flag` alike.

        Like a selector it is defined in one direction only (true -> every choice literal
        of x equals y's: two clauses a pair), which is exact because it is only ever
        assumed true, never negated or used inside a gate; a full equivalence would cost
        five times the clauses, which the solver is given at the first question."""
        found = self._same.get(flag)
        if found is None:
            c = self.problem.circuit
            found = c.new()
            pairs = zip(self.x.vars[flag].choices(), self.y.vars[flag].choices(), strict=True)
            for (_, a), (_, b) in pairs:
                c.clauses.extend(([-found, -a, b], [-found, a, -b]))
            self._same[flag] = found
        return found

    def differ(self, pairs: Sequence[tuple[int, int]]) -> int:
        """A literal that, assumed true, makes the two literals of some pair differ: defined
        one way, as `same`, for the same reason (only ever assumed, inside a selector)."""
        key = frozenset(pairs)
        found = self._differ.get(key)
        if found is None:
            c = self.problem.circuit
            found = c.new()
            some = []
            for a, b in key:
                if a != b:
                    either = c.new()
                    c.clauses.extend(([-either, a, b], [-either, -a, -b]))
                    some.append(either)
            c.clauses.append([-found, *some])
            self._differ[key] = found
        return found

    def selector(self, lits: Sequence[int]) -> int:
        """A literal that, assumed true, makes every one of `lits` hold (one per set): the
        solver then takes a handful of assumptions per question instead of one per flag."""
        key = frozenset(lits)
        found = self._selectors.get(key)
        if found is None:
            found = self.problem.circuit.new()
            self.problem.circuit.clauses.extend([-found, lit] for lit in key)
            self._selectors[key] = found
        return found

    def answers_of(self, model: set[int], records: Records, flags: Sequence[str]) -> _Answers:
        """A copy's answers to `flags` in a solver model (None: unknown)."""
        return {
            flag: next((value for value, lit in records.vars[flag].choices() if lit in model), None)
            for flag in flags
        }


class Flips:
    """Which open flags can change the level, for one plan: each could-escalate rule asked
    about in turn (`flags`), with the answers so far."""

    def __init__(
        self,
        encoding: Encoding,
        result: Result,
        record: Record,
        not_asked: frozenset[str],
        budget: Budget,
    ) -> None:
        self.encoding = encoding
        self.ruleset = encoding.ruleset
        self.result = result
        self.record = record  # closed under the implications
        self.budget = budget
        self.later: set[str] = set()  # flags that may matter later (see `flags`)
        self.not_asked = not_asked
        self.free = frozenset(
            f for o in result.could_escalate for f in o.missing if f not in not_asked
        )
        self._answers = 0  # selector literal, made when the solver is first needed
        # two quantities compared by a rule that could escalate: ask every missing flag
        self.exact = not any(o.compiled.id in encoding.inexact for o in result.could_escalate)
        # answers contradicting the rule file's implications: no record is valid, so no
        # question can change anything (validated records never contradict)
        self.contradicted = contradiction(record, self.ruleset.implications) is not None

    def flags(self, outcome: RuleOutcome, skipped: frozenset[str]) -> tuple[str, ...]:
        """The askable flags of the UNKNOWN rule `outcome` whose answer can change the level
        through it.

        A flag counts when, for some answers to the rule's other open flags, its two answers
        give different levels, counting this rule and every other undecided rule at its level
        or above that reads one of those flags (so a question is not asked when any answer that
        would fire this rule fires a more urgent one too).

        "Don't know" flags are not asked again, but they are not treated as "no" either: they
        range over every value here, and over staying unknown, so a question still counts when
        it matters for some true answer to a "don't know" (cancer = no, bone metastases = don't
        know: limb weakness is still asked, and "could escalate" narrows to the one unanswered
        question). A flag that matters only while another stays unknown is asked once that
        other is "don't know": spread to the bones after "don't know" to cancer.
        """
        rule = outcome.compiled
        # Flags only under parts that are already TRUE or FALSE cannot change anything: a
        # definite part stays definite whatever else is answered.
        free = tuple(f for f in outcome.missing if f not in self.not_asked)
        askable = tuple(f for f in free if f not in skipped)
        if not askable or not self.exact:
            return askable
        if self.contradicted:
            return ()
        shared = set(free)
        watched = [rule] + [
            o.compiled
            for o in self.result.could_escalate
            if o.compiled.rank <= rule.rank
            and o.compiled is not rule
            and shared.intersection(o.missing)
        ]
        # Every flag the watched rules read, or that closing can set from them, is stated:
        # answered ones as answered, the rest of those unknown (other open flags too); the
        # rule's own open flags range over their answers. Flags outside can take any
        # answers, which no watched rule reads and no implication ties to one that is read.
        read = sorted(self.ruleset.implications.related({f for w in watched for f in w.flags}))
        stated = tuple((f, self.record.get(f)) for f in read if f not in shared)
        key = (tuple(w.id for w in watched), free, askable, stated)
        found = self.encoding.decided.get(key)
        if found is None:
            try:
                found = self._decide(watched, free, askable, stated)
            except OutOfTime:
                return askable  # towards asking, never towards stopping early
            self.encoding.decided[key] = found
        needed, later = found
        # a flag that matters only while another open flag stays unknown is asked once that
        # one is "don't know": count it in "at most N more" from now on
        self.later.update(later)
        return needed

    def _decide(
        self,
        watched: Sequence[CompiledRule],
        free: tuple[str, ...],
        askable: tuple[str, ...],
        stated: _Stated,
    ) -> _Decided:
        enc = self.encoding
        implications = self.ruleset.implications
        rows = sorted(
            ((float(w.rank), enc.truth(w), frozenset(w.flags)) for w in watched),
            key=lambda row: row[0],
        )
        patterns = _patterns(enc.domain, free, askable)
        patterns[:0] = self._minimal(watched[0], patterns[0], askable)
        tried: list[_Tried] = []
        for pattern in patterns:
            found = self._tried(rows, pattern)
            if found is not None:
                tried.append(found)
        matter: list[str] = []
        base = full = 0  # selector literals, made when the solver is first needed
        for flag in askable:
            self.budget.check()
            touched = implications.related({flag})
            affected = [i for i, (_, _, read) in enumerate(rows) if read & touched]
            hit = next((t for t in tried if self._flips(rows, affected, t, flag)), None)
            if hit is not None:
                matter.append(flag)
                if hit is not tried[0]:  # the answers that worked are tried first next time
                    tried.remove(hit)
                    tried.insert(0, hit)
                continue
            if not full:
                base, full = self._selectors(watched, free, askable, stated)
                (x, _), (y, _) = enc.copies()
            model = enc.problem.solve(
                [full, *(enc.same(g) for g in free if g != flag)], self.budget
            )
            if model is not None:
                matter.append(flag)
                for copy in (x, y):  # the solver's records are tried first next time
                    seen = self._tried(rows, enc.answers_of(model, copy, free))
                    if seen is not None:
                        tried.insert(0, seen)
        needed = tuple(matter)
        rest = [f for f in askable if f not in needed]
        if rest and not full:
            base, full = self._selectors(watched, free, askable, stated)
        later = frozenset(
            f
            for f in rest
            if enc.problem.sat([base, *(enc.same(g) for g in free if g != f)], self.budget)
        )
        return needed, later

    def _minimal(
        self, rule: CompiledRule, pattern: _Answers, askable: Sequence[str]
    ) -> list[_Answers]:
        """From `pattern` (all yes), answers that keep `rule` TRUE with as few yes as one
        pass finds, taking flags away first to last and last to first: the flags left in
        are the ones whose answer decides the rule."""
        enc = self.encoding
        implications = self.ruleset.implications
        truth = enc.truth(rule)

        def closed(answers: _Answers) -> Record | None:
            """The closed record of `answers` when valid and making the rule TRUE."""
            record = {**self.record, **{f: v for f, v in answers.items() if v is not None}}
            if contradiction(record, implications) is not None:
                return None
            found = close(record, implications)
            return found if truth(found) is Truth.TRUE else None

        start = closed(pattern)
        if start is None:
            return []
        found = []
        for order in (askable, tuple(reversed(askable))):
            answers, now = dict(pattern), start
            for flag in order:
                values = enc.domain[flag]
                plain = flag not in implications.implied and flag not in implications.implying
                for value in (False,) if values == (True, False) else (values[0], values[-1]):
                    if value == answers[flag]:
                        continue
                    tried = {**answers, flag: value}
                    after: Record | None
                    if plain:  # no implication to close or contradict: change the one flag
                        changed = {**now, flag: value}
                        after = changed if truth(changed) is Truth.TRUE else None
                    else:
                        after = closed(tried)
                    if after is not None:
                        answers, now = tried, after
                        break
            found.append(answers)
        return found

    def _tried(self, rows: Sequence[_Row], pattern: _Answers) -> _Tried | None:
        """The record of `pattern` (with the answers so far), closed, and room for which
        watched rules it makes TRUE (found when first needed); None when it is not valid."""
        record = {**self.record, **{f: v for f, v in pattern.items() if v is not None}}
        implications = self.ruleset.implications
        if contradiction(record, implications) is not None:
            return None
        return record, close(record, implications), [None] * len(rows)

    def _flips(
        self, rows: Sequence[_Row], affected: Sequence[int], tried: _Tried, flag: str
    ) -> bool:
        """Whether another answer to `flag` in the record `tried` gives a valid record whose
        most urgent TRUE watched rule is at another level: a proof that the flag matters, no
        solver needed. `rows` are in level order; only the `affected` ones (reading the flag,
        or a flag closing sets from it) are evaluated again, and only above the level that
        the others already decide."""
        record, closed, fired = tried

        def true(i: int) -> bool:
            found = fired[i]
            if found is None:
                found = fired[i] = rows[i][1](closed) is Truth.TRUE
            return found

        touched = set(affected)
        others = next(
            (rows[i][0] for i in range(len(rows)) if i not in touched and true(i)), math.inf
        )
        above = [i for i in affected if rows[i][0] < others]
        if not above:
            return False  # a rule the flag cannot change already decides the level
        level = next((rows[i][0] for i in above if true(i)), others)
        implications = self.ruleset.implications
        # a flag no implication names cannot contradict, and closing adds nothing for it
        plain = flag not in implications.implied and flag not in implications.implying
        for value in self.encoding.domain[flag]:
            if value == record.get(flag):
                continue
            if plain:
                now: Record = {**closed, flag: value}
            else:
                other = {**record, flag: value}
                if contradiction(other, implications) is not None:
                    continue
                now = close(other, implications)
            if next((rows[i][0] for i in above if rows[i][1](now) is Truth.TRUE), others) != level:
                return True
        return False

    def _answered(self) -> int:
        """The selector literal of the answers so far: every flag not open in this plan
        answered as it is, or unknown."""
        if not self._answers:
            enc = self.encoding
            enc.copies()
            self._answers = enc.selector(
                [
                    lit
                    for f in self.ruleset.flags
                    if f not in self.free
                    for lit in enc.fact(f, self.record.get(f))
                ]
            )
        return self._answers

    def _selectors(
        self,
        watched: Sequence[CompiledRule],
        free: tuple[str, ...],
        askable: tuple[str, ...],
        stated: _Stated,
    ) -> tuple[int, int]:
        """The selector literals of the solver's questions about this rule: `base` (the
        watched rules give different levels in the two copies, the other flags read as
        stated) and `full` (also every askable open flag answered)."""
        enc = self.encoding
        (x, sx), (y, sy) = enc.copies()
        c = enc.problem.circuit
        fired = [
            (
                c.or_([sx.true(w.condition) for w in watched if w.rank <= rank]),
                c.or_([sy.true(w.condition) for w in watched if w.rank <= rank]),
            )
            for rank in sorted({w.rank for w in watched})
        ]
        need = [
            sx.valid,
            sy.valid,
            enc.differ(fired),
        ]
        # the flags no rule that could escalate is missing, as answered (or unknown), for
        # every rule of this plan; the other open flags read here, unknown
        facts = [
            self._answered(),
            *(lit for f, v in stated if f in self.free for lit in enc.fact(f, v)),
        ]
        # open flags are answered, "don't know" ones may stay unknown
        answered = [copy.vars[f].answered for copy in (x, y) for f in askable]
        base = enc.selector([*need, *facts])
        return base, enc.selector([base, *answered])


def _patterns(
    domain: Mapping[str, tuple[Value, ...]], free: Sequence[str], askable: Sequence[str]
) -> list[_Answers]:
    """Answers to try first for a rule's open flags: every askable one yes (a numeric one in
    its highest region), then every one no (its lowest); "don't know" flags unknown."""
    ask = set(askable)

    def pick(flag: str, high: bool) -> Value | None:
        if flag not in ask:
            return None
        values = domain[flag]
        if values == (True, False):
            return high
        return values[-1] if high else values[0]

    return [{f: pick(f, high) for f in free} for high in (True, False)]
