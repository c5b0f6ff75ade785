"""Every shipped clinical case (tests/cases/*.toml) gets its expected level and rules.

Each rule has at least one case that fires it and one near miss that does not.
"""

import tomllib
from pathlib import Path

import pytest

from redflag.core.evaluate import evaluate
from redflag.core.record import validate_record

CASES_DIR = Path(__file__).resolve().parent / "cases"
CASES = [
    (path.name, case)
    for path in sorted(CASES_DIR.glob("*.toml"))
    for case in tomllib.loads(path.read_text())["case"]
]


@pytest.mark.parametrize(("file", "case"), CASES, ids=[c["name"] for _, c in CASES])
def test_case(file, case, ruleset):
    record, _ = validate_record(case["record"], ruleset)
    result = evaluate(ruleset, record)
    matched = {o.rule.id for o in result.matched}
    assert result.level.id == case["expect"]
    assert set(case.get("expect_rules", [])) <= matched
    assert not set(case.get("forbid_rules", [])) & matched


def test_every_rule_has_a_firing_case_and_a_near_miss(ruleset):
    fired, missed = set(), set()
    for _, case in CASES:
        record, _ = validate_record(case["record"], ruleset)
        for outcome in evaluate(ruleset, record).outcomes:
            if outcome.truth.name == "TRUE":
                fired.add(outcome.rule.id)
            elif outcome.truth.name == "FALSE" and outcome.rule.id in case.get("forbid_rules", []):
                missed.add(outcome.rule.id)
    every = {r.id for r in ruleset.rules}
    assert every - fired == set()
    assert every - missed == set()
