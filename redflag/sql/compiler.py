"""CompiledRuleSet -> one SQL query: the core's three-valued semantics, column by column.

The input is a table with an `id` column and one column per flag (SQL NULL = unknown): bool
flags BOOLEAN, numeric flags any number type. The query, built from the validated syntax
tree (never from rule text), works in named steps:

1. `redflag_closed`: the record closed under the rule file's implied flags, as
   core/implication.close does (a yes makes its implied flags yes; a no makes the flags that
   imply it no; only where the record left them unknown, from the answers given).
2. `redflag_truth`: each rule's truth, BOOLEAN with NULL for unknown. SQL's AND, OR and NOT
   are Kleene logic; `any`/`all` are OR/AND. A numeric part is an interval (low, high): a
   known value is a point, an unknown flag spans its declared bounds, `count(...)` spans
   [known true, known true + unknown]; a comparison is TRUE when every pair of values
   agrees, FALSE when none does, else NULL (core/evaluate.py `compare`, case by case).
3. `redflag_rank`: the level rank (most urgent rule that is TRUE) and the worst case (most
   urgent UNKNOWN rule above it), as core/evaluate.py: one OR over each level's rules, so
   a handful of CASE branches (one per level), not one per rule.

A comparison of a flag with a number, the usual kind (`age >= 50`), is the plain SQL
comparison, NULL when the flag is unknown, unless the flag's declared bounds decide it
(then COALESCE gives the decided value): the same truth as the general interval form, which
costs a CASE of four comparisons per row.

Identifiers are quoted and strings escaped by the dialect (sql/dialect.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import compare
from redflag.core.expr.nodes import And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.flags import NumericFlag
from redflag.core.logic import Truth
from redflag.sql.dialect import Dialect

Select = Literal["results", "truth", "rules"]

RESULT_COLUMNS = (
    "id",
    "level",
    "worst_case",
    "matched",
    "could_escalate",
    "ruleset_id",
    "ruleset_version",
    "ruleset_sha256",
)
ID_COLUMN = "id"
RANK_COLUMN = "redflag_rank"
WORST_COLUMN = "redflag_worst_rank"


@dataclass(frozen=True)
class Query:
    """A compiled query and what its columns are.

    Attributes:
        text: the SQL.
        rule_ids: the rules in file order (the `truth` and `rules` columns follow it).
        columns: the output column names, in order.
    """

    text: str
    rule_ids: tuple[str, ...]
    columns: tuple[str, ...]


def compile_query(
    ruleset: CompiledRuleSet,
    dialect: Dialect,
    table: str,
    select: Select = "results",
    carry: tuple[str, ...] = (),
) -> Query:
    """The SQL that evaluates `ruleset` for every row of `table`.

    Args:
        ruleset: the validated rule set.
        dialect: the SQL dialect to write.
        table: the input table (or `schema.table`); quoted, so any name is safe.
        select: `results`, the public columns (RESULT_COLUMNS: id, level, worst_case, the
            matched and could-escalate rule ids as lists, most urgent first, and the rule
            set's id, version and sha256); `truth`, id, level and worst_case and then each
            rule's truth (BOOLEAN, NULL unknown) in a column named by its id; `rules`, for
            engines: id, then each rule's truth (BOOLEAN, NULL unknown) as `r0`, `r1`, ...
            in file order, from which the engine derives the level, the worst case and the
            lists (in SQL, the level and worst case cost more than the 51 shipped rules
            and the lists of ids ten times more; engines/duckdb.py).
        carry: more input columns to pass through, after `id` (an engine's line numbers).
    """
    q = dialect.identifier
    flags = list(ruleset.flags.values())
    kept = [q(ID_COLUMN), *(q(c) for c in carry)]
    given = [f"{q(ID_COLUMN)} AS {q(ID_COLUMN)}", *(q(c) for c in carry)]
    for flag in flags:
        column = q(flag.id)
        value = f"CAST({column} AS {dialect.double})" if isinstance(flag, NumericFlag) else column
        given.append(f"{value} AS {column}")
    closed = [*kept, *(f"{_closed(f.id, ruleset, dialect)} AS {q(f.id)}" for f in flags)]
    rules = ruleset.rules
    truths = list(kept)
    truths += [
        f"{_Sql(ruleset, dialect).truth(r.condition)} AS {q(f'r{i}')}" for i, r in enumerate(rules)
    ]
    by_rank = urgency_order(ruleset)
    no_match = len(ruleset.levels) - 1
    # a rule of the last level cannot change the rank or the worst case (both default to it)
    by_level: dict[int, list[int]] = {}
    for i in by_rank:
        if rules[i].rank < no_match:
            by_level.setdefault(rules[i].rank, []).append(i)
    rank = _first(
        [
            ("COALESCE(" + " OR ".join(q(f"r{i}") for i in members) + ", FALSE)", str(level))
            for level, members in by_level.items()
        ],
        str(no_match),
    )
    worst = _first(
        [
            (
                f"{level} < {q(RANK_COLUMN)} AND ("
                + " OR ".join(f"{q(f'r{i}')} IS NULL" for i in members)
                + ")",
                str(level),
            )
            for level, members in by_level.items()
        ],
        q(RANK_COLUMN),
    )
    steps = [
        ("redflag_given", given, dialect.table(table)),
        ("redflag_closed", closed, q("redflag_given")),
        ("redflag_truth", truths, q("redflag_closed")),
        (
            "redflag_rank",
            [*kept, *(q(f"r{i}") for i in range(len(rules))), f"{rank} AS {q(RANK_COLUMN)}"],
            q("redflag_truth"),
        ),
        (
            "redflag_worst",
            [
                *kept,
                *(q(f"r{i}") for i in range(len(rules))),
                q(RANK_COLUMN),
                f"{worst} AS {q(WORST_COLUMN)}",
            ],
            q("redflag_rank"),
        ),
    ]
    level = _level_name(q(RANK_COLUMN), ruleset, dialect)
    worst_case = _level_name(q(WORST_COLUMN), ruleset, dialect)
    final: list[str]
    columns: tuple[str, ...]
    match select:
        case "results":
            ids = [dialect.string(r.id) for r in rules]
            matched = dialect.string_list(
                [f"CASE WHEN COALESCE({q(f'r{i}')}, FALSE) THEN {ids[i]} END" for i in by_rank]
            )
            could = dialect.string_list(
                [
                    f"CASE WHEN {q(f'r{i}')} IS NULL AND {rules[i].rank} < {q(RANK_COLUMN)} "
                    f"THEN {ids[i]} END"
                    for i in by_rank
                ]
            )
            meta = ruleset.meta
            final = [
                *kept,
                f"{level} AS {q('level')}",
                f"{worst_case} AS {q('worst_case')}",
                f"{matched} AS {q('matched')}",
                f"{could} AS {q('could_escalate')}",
                f"{dialect.string(meta.id)} AS {q('ruleset_id')}",
                f"{dialect.string(meta.version)} AS {q('ruleset_version')}",
                f"{dialect.string(ruleset.sha256)} AS {q('ruleset_sha256')}",
            ]
            columns = (ID_COLUMN, *carry, *RESULT_COLUMNS[1:])
        case "truth":
            final = [
                *kept,
                f"{level} AS {q('level')}",
                f"{worst_case} AS {q('worst_case')}",
                *(f"{q(f'r{i}')} AS {q(r.id)}" for i, r in enumerate(rules)),
            ]
            columns = (ID_COLUMN, *carry, "level", "worst_case", *(r.id for r in rules))
        case "rules":
            rule_columns = tuple(f"r{i}" for i in range(len(rules)))
            final = [*kept, *(q(c) for c in rule_columns)]
            columns = (ID_COLUMN, *carry, *rule_columns)
        case _:
            assert_never(select)
    meta = ruleset.meta
    header = (
        f"-- redflag: rule set {meta.id} {meta.version} (sha256 {ruleset.sha256}), "
        f"dialect {dialect.name}\n"
    )
    ctes = ",\n".join(
        f"{q(name)} AS (\n  SELECT\n    " + ",\n    ".join(cols) + f"\n  FROM {source}\n)"
        for name, cols, source in steps
    )
    last = "redflag_truth" if select == "rules" else "redflag_worst"  # only what is used
    body = "SELECT\n  " + ",\n  ".join(final) + f"\nFROM {q(last)}"
    text = f"{header}WITH\n{ctes}\n{body}"
    return Query(text, tuple(r.id for r in rules), columns)


def compile_schema(ruleset: CompiledRuleSet, dialect: Dialect, table: str) -> str:
    """`CREATE TABLE` for the input `compile_query` reads: `id` text, then one column per
    flag (BOOLEAN, BIGINT for whole numbers, else the dialect's DOUBLE), NULL for unknown."""
    q = dialect.identifier
    types = {"bool": "BOOLEAN", "int": "BIGINT", "number": dialect.double}
    columns = [f"{q(ID_COLUMN)} {dialect.text}"]
    columns += [f"{q(f.id)} {types[f.type]}" for f in ruleset.flags.values()]
    return f"CREATE TABLE {dialect.table(table)} (\n  " + ",\n  ".join(columns) + "\n)"


def urgency_order(ruleset: CompiledRuleSet) -> list[int]:
    """The rules' indices most urgent first, file order within a level: the order of the
    matched and could-escalate lists."""
    rules = ruleset.rules
    return sorted(range(len(rules)), key=lambda i: rules[i].rank)  # stable: file order


def _first(cases: list[tuple[str, str]], default: str) -> str:
    if not cases:
        return default
    whens = " ".join(f"WHEN {cond} THEN {value}" for cond, value in cases)
    return f"CASE {whens} ELSE {default} END"


def _level_name(rank: str, ruleset: CompiledRuleSet, dialect: Dialect) -> str:
    whens = " ".join(
        f"WHEN {i} THEN {dialect.string(level.id)}" for i, level in enumerate(ruleset.levels)
    )
    return f"CASE {rank} {whens} END"


def _closed(flag_id: str, ruleset: CompiledRuleSet, dialect: Dialect) -> str:
    """A flag's value with implied answers added (core/implication.close, column-wise).

    close() adds the no's after the yes's, so a no wins where both apply (a record that
    contradicts the rule file, which validation refuses): the same order here. Plain Kleene
    logic, no CASE: `t1 AND t2 AND NULL` is FALSE where a flag this one implies is no, else
    NULL; `s1 OR s2 OR NULL` is TRUE where a flag implying this one is yes, else NULL.
    """
    q = dialect.identifier
    column = q(flag_id)
    implications = ruleset.implications
    targets = implications.implied.get(flag_id, ())
    sources = implications.implying.get(flag_id, ())
    values = [column]
    if targets:
        values.append("(" + " AND ".join([*(q(t) for t in targets), _UNKNOWN]) + ")")
    if sources:
        values.append("(" + " OR ".join([*(q(s) for s in sources), _UNKNOWN]) + ")")
    if len(values) == 1:
        return column
    return "COALESCE(" + ", ".join(values) + ")"


class _Sql:
    """Expressions for one rule set in one dialect."""

    def __init__(self, ruleset: CompiledRuleSet, dialect: Dialect) -> None:
        self.ruleset = ruleset
        self.dialect = dialect

    def truth(self, node: Node) -> str:
        """A BOOLEAN expression, NULL for unknown."""
        match node:
            case Name(id=flag):
                return self.dialect.identifier(flag)
            case Not(operand=operand):
                return f"(NOT {self.truth(operand)})"
            case And(operands=parts) | Call(func="all", args=parts):
                return "(" + " AND ".join(self.truth(p) for p in parts) + ")"
            case Or(operands=parts) | Call(func="any", args=parts):
                return "(" + " OR ".join(self.truth(p) for p in parts) + ")"
            case Compare(op=op, left=Name(id=flag), right=Number(value=value)):
                return self.against(op, flag, value, flag_first=True)
            case Compare(op=op, left=Number(value=value), right=Name(id=flag)):
                return self.against(op, flag, value, flag_first=False)
            case Compare(op=op, left=left, right=right):
                return _compare(op, self.interval(left), self.interval(right))
            case Number() | Call():
                raise AssertionError("numeric node in a truth position (checked at load)")
            case _:
                assert_never(node)

    def against(self, op: CompareOp, flag: str, value: float, flag_first: bool) -> str:
        """A flag compared with a number: SQL's comparison where the flag is known (a point
        against a point, as `compare` decides it), the bounds' verdict where it is not."""
        spec = self.ruleset.numeric_flags[flag]  # the type check put a numeric flag here
        bounds, point = (spec.min, spec.max), (value, value)
        column, number = self.dialect.identifier(flag), self.dialect.number(value)
        if flag_first:
            sql, unknown = f"({column} {_SQL_OP[op]} {number})", compare(op, bounds, point)
        else:
            sql, unknown = f"({number} {_SQL_OP[op]} {column})", compare(op, point, bounds)
        if unknown is Truth.UNKNOWN:
            return sql
        return f"COALESCE({sql}, {'TRUE' if unknown is Truth.TRUE else 'FALSE'})"

    def interval(self, node: Node) -> tuple[str, str]:
        """(low, high): the values a numeric part could take."""
        match node:
            case Name(id=flag):
                spec = self.ruleset.numeric_flags[flag]  # the type check put a numeric flag here
                column = self.dialect.identifier(flag)
                low, high = self.dialect.number(spec.min), self.dialect.number(spec.max)
                return f"COALESCE({column}, {low})", f"COALESCE({column}, {high})"
            case Number(value=value):
                point = self.dialect.number(value)
                return point, point
            case Call(func="count", args=args):
                parts = [self.truth(a) for a in args]
                # a TRUE counts 1 at both ends, a FALSE 0, an unknown 0 at the low end and 1
                # at the high end: a cast of the truth with the unknown made FALSE or TRUE
                low = " + ".join(f"CAST(COALESCE({p}, FALSE) AS INTEGER)" for p in parts)
                high = " + ".join(f"CAST(COALESCE({p}, TRUE) AS INTEGER)" for p in parts)
                return f"({low})", f"({high})"
            case Not() | And() | Or() | Compare() | Call():
                raise AssertionError("truth node in a numeric position (checked at load)")
            case _:
                assert_never(node)


_UNKNOWN = "CAST(NULL AS BOOLEAN)"  # SQL's unknown truth, typed the same in every dialect
_SQL_OP: dict[CompareOp, str] = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}


def _compare(op: CompareOp, left: tuple[str, str], right: tuple[str, str]) -> str:
    """core/evaluate.py `compare` over SQL intervals: TRUE, FALSE, else NULL."""
    (a, b), (c, d) = left, right
    point = f"{a} = {b} AND {b} = {c} AND {c} = {d}"
    apart = f"{b} < {c} OR {a} > {d}"
    match op:
        case "<":
            always, never = f"{b} < {c}", f"{a} >= {d}"
        case "<=":
            always, never = f"{b} <= {c}", f"{a} > {d}"
        case ">":
            always, never = f"{a} > {d}", f"{b} <= {c}"
        case ">=":
            always, never = f"{a} >= {d}", f"{b} < {c}"
        case "==":
            always, never = point, apart
        case "!=":
            always, never = apart, point
        case _:
            assert_never(op)
    # TRUE where always, FALSE where never, else NULL; both are known (bounds are numbers),
    # so plain Kleene logic says it without a CASE: `never` FALSE leaves `TRUE AND NULL`
    return f"(({always}) OR (NOT ({never}) AND {_UNKNOWN}))"
