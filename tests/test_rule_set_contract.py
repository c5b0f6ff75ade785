"""The shipped rules.toml keeps the public input contract and cites its sources."""

import re
from pathlib import Path

import pytest

from redflag.core.expr.walk import names_under_not

# The input contract, kept in the repo so the test runs anywhere; the copy is compared with
# the project's shared/clinical/vocabulary.md when that sits beside the checkout.
VOCABULARY = Path(__file__).resolve().parent / "data" / "vocabulary.md"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "clinical" / "vocabulary.md"
ROW = re.compile(r"^\| (\w+) \| (bool|int|number)[^|]*\| (.+?) \|$")


def contract():
    return {
        m.group(1): (m.group(2), m.group(3))
        for line in VOCABULARY.read_text().splitlines()
        if (m := ROW.match(line))
    }


def test_every_contract_flag_is_declared_with_its_type_and_question(ruleset):
    flags = contract()
    assert len(flags) == 36
    for flag_id, (kind, question) in flags.items():
        declared = ruleset.flags[flag_id]
        assert declared.type == kind, flag_id
        assert declared.question == question, flag_id


def test_numeric_contract_bounds(ruleset):
    assert (ruleset.flags["age"].min, ruleset.flags["age"].max) == (0, 120)
    assert (ruleset.flags["pain_duration_weeks"].min, ruleset.flags["pain_duration_weeks"].max) == (
        0,
        520,
    )


def test_every_rule_cites_a_declared_source_and_uses_no_not(ruleset):
    for rule in ruleset.rules:
        assert rule.rule.sources and set(rule.rule.sources) <= set(ruleset.sources)
        assert names_under_not(rule.condition) == []


def test_mscc_neurology_is_an_emergency_without_back_pain(ruleset):
    mscc = next(r for r in ruleset.rules if r.id == "mscc_neuro")
    assert mscc.rule.level == "emergency"
    assert "back_pain" not in mscc.flags
    assert "NG234" in mscc.rule.sources


@pytest.mark.skipif(not SHARED.exists(), reason="shared/ is not beside this checkout")
def test_the_contract_copy_matches_shared_vocabulary():
    assert VOCABULARY.read_text() == SHARED.read_text()
