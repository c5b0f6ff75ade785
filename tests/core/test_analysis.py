import pytest

from redflag.core.analysis import analyze, negative_flags
from redflag.core.expr import parse_condition
from redflag.formats.rulefile import load_ruleset
from tests.rulefiles import with_rule
from tests.tooling import RULES


def findings(path, kind):
    return [f for f in analyze(load_ruleset(path)).findings if f.kind == kind]


def test_shipped_rules_have_no_error_findings_and_two_masked_rules():
    report = analyze(load_ruleset(RULES))
    assert [(f.kind, f.rule_id) for f in report.findings] == [
        ("masked", "myeloma_check"),
        ("masked", "x_axial_spa"),
    ]
    masked = report.findings[0]
    assert masked.record == {"back_pain": True, "age": 60, "pain_duration_weeks": 4.0}
    assert masked.others == ("age_over_50", "persistent_pain")


def test_vacuous_rule(tmp_path):
    [f] = findings(with_rule(tmp_path, "never", "urgent", "fever and not fever"), "vacuous")
    assert f.rule_id == "never" and f.is_error


def test_always_firing_rule_has_the_empty_record_as_witness(tmp_path):
    [f] = findings(with_rule(tmp_path, "always", "soon", "count(fever) >= 0"), "always-fires")
    assert (f.rule_id, f.record) == ("always", {})


def test_non_monotone_rule_with_witness(tmp_path):
    path = with_rule(tmp_path, "odd", "emergency", "back_pain and not fever")
    [f] = findings(path, "non-monotone")
    assert f.rule_id == "odd"
    assert f.record == {"back_pain": True, "fever": False}
    assert (
        f.message == "answering 'fever' yes instead of no lowers the level from emergency to urgent"
    )


def test_redundant_rule_is_equivalent_even_when_written_differently(tmp_path):
    # equivalent only through the implication major_trauma -> recent_trauma
    when = "recent_trauma and major_trauma"
    [f] = findings(with_rule(tmp_path, "again", "urgent", when), "redundant")
    assert (f.rule_id, f.others) == ("again", ("x_major_trauma",))
    assert f.record == {"major_trauma": True}


@pytest.mark.parametrize(
    ("when", "negatives"),
    [
        ("a and b", set()),
        ("a and not (b or c)", {"b", "c"}),
        ("count(a, b) >= 2", set()),
        ("count(a, not b) < 2", {"a"}),
        ("1 > count(a, b)", {"a", "b"}),
        ("count(a, b) == 1", {"a", "b"}),
    ],
)
def test_negative_flags(when, negatives):
    assert negative_flags(parse_condition(when)) == negatives
