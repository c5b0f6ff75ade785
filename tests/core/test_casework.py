from redflag.core.casework import Case, run_cases
from redflag.formats.rulefile import load_ruleset


def test_failures_list_level_and_rule_problems_and_coverage_counts():
    ruleset = load_ruleset(None)
    cases = [
        Case("ok", {"saddle_anaesthesia": True}, "emergency", ("ces_saddle",)),
        Case(
            "bad",
            {"back_pain": True, "fever": True},
            "emergency",
            ("ces_saddle",),
            ("spinal_infection",),
        ),
    ]
    report = run_cases(ruleset, cases)
    assert (report.passed, report.failed) == (1, 1)
    assert report.results[1].problems == (
        "expected level emergency, got urgent",
        "expected rule 'ces_saddle' to match, but it did not",
        "rule 'spinal_infection' must not match, but it did",
    )
    cov = report.coverage
    assert cov.fired == ("ces_saddle", "spinal_infection")
    assert "ces_saddle" not in cov.near_missed
    assert "x_aaa" not in cov.near_missed  # false? no: collapse unknown, so never a near miss
    assert "saddle_anaesthesia" in cov.flags_set
    assert "age" in cov.flags_not_set
    assert round(cov.fired_percent, 1) == round(200 / len(ruleset.rules), 1)


def test_near_miss_needs_a_definite_false_with_one_of_its_flags_answered():
    ruleset = load_ruleset(None)
    report = run_cases(
        ruleset, [Case("n", {"back_pain": True, "fever": False, "temperature": 37}, "routine")]
    )
    assert "spinal_infection" in report.coverage.near_missed
    assert "x_aaa" not in report.coverage.near_missed
