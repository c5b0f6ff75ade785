"""QuickEvaluator gives what core.evaluate gives, on every case and on parts of each."""

import tomllib
from pathlib import Path

import pytest

from redflag.core.evaluate import evaluate
from redflag.core.implication import contradiction
from redflag.core.record import validate_record
from redflag.service.evaluator import QuickEvaluator

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
RECORDS = [
    case["record"]
    for path in sorted(CASES_DIR.rglob("*.toml"))
    for case in tomllib.loads(path.read_text())["case"]
]


def summary(result):
    return (
        result.level.id,
        result.worst_rank,
        [o.rule.id for o in result.matched],
        [(o.rule.id, o.missing) for o in result.could_escalate],
        dict(result.implied),
    )


@pytest.fixture(scope="module")
def quick(ruleset):
    return QuickEvaluator(ruleset)


@pytest.mark.parametrize("raw", RECORDS, ids=range(len(RECORDS)))
def test_quick_evaluator_agrees_with_evaluate(ruleset, quick, raw):
    record, record_id = validate_record(raw, ruleset)
    halves = [record, dict(list(record.items())[::2]), dict(list(record.items())[1::2]), {}]
    for part in halves:
        assert summary(quick.evaluate(part, record_id)) == summary(evaluate(ruleset, part))


def test_quick_evaluator_agrees_with_evaluate_on_random_records(ruleset, quick):
    from tests.core.test_closures import _records

    for record in _records(ruleset, 1500, 11):
        if contradiction(record, ruleset.implications) is None:
            assert summary(quick.evaluate(record)) == summary(evaluate(ruleset, record)), record
