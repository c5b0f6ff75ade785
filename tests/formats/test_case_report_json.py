"""`test --json` data, built by the pure function from a CaseReport (no CLI involved)."""

import json

import pytest

from redflag.core.casework import Case, run_cases
from redflag.errors import Location
from redflag.formats.case_report_json import case_report_json
from redflag.formats.result_json import ruleset_info


@pytest.fixture(scope="module")
def report(ruleset):
    cases = [
        Case(
            "saddle",
            {"saddle_anaesthesia": True},
            "emergency",
            ("ces_saddle",),
            where=Location("cases.toml", 1),
        ),
        Case(
            "fever",
            {"back_pain": True, "fever": True},
            "emergency",
            ("ces_saddle",),
            ("spinal_infection",),
            where=Location("cases.toml", 7),
        ),
        Case("nowhere", {}, "routine"),
    ]
    return run_cases(ruleset, cases)


def test_summary_ruleset_and_one_entry_per_case_in_order(report, ruleset):
    data = case_report_json(report, ruleset)
    assert data["ruleset"] == ruleset_info(ruleset)
    assert data["summary"] == {"cases": 3, "passed": 2, "failed": 1}
    assert [c["name"] for c in data["cases"]] == ["saddle", "fever", "nowhere"]
    assert "coverage" not in data


def test_passing_case_has_no_problems(report, ruleset):
    assert case_report_json(report, ruleset)["cases"][0] == {
        "name": "saddle",
        "file": "cases.toml",
        "line": 1,
        "passed": True,
        "record": {"saddle_anaesthesia": True},
        "expected": {"level": "emergency", "matched": ["ces_saddle"], "not_matched": []},
        "got": {"level": "emergency", "matched": ["ces_saddle"]},
        "problems": [],
    }


def test_failing_case_has_expected_got_and_every_problem(report, ruleset):
    assert case_report_json(report, ruleset)["cases"][1] == {
        "name": "fever",
        "file": "cases.toml",
        "line": 7,
        "passed": False,
        "record": {"back_pain": True, "fever": True},
        "expected": {
            "level": "emergency",
            "matched": ["ces_saddle"],
            "not_matched": ["spinal_infection"],
        },
        "got": {"level": "urgent", "matched": ["spinal_infection"]},
        "problems": [
            "expected level emergency, got urgent",
            "expected rule 'ces_saddle' to match, but it did not",
            "rule 'spinal_infection' must not match, but it did",
        ],
    }


def test_case_without_location_has_null_file_and_line(report, ruleset):
    case = case_report_json(report, ruleset)["cases"][2]
    assert (case["file"], case["line"], case["passed"]) == (None, None, True)


def test_coverage_lists_and_percent_match_the_report(report, ruleset):
    cov = case_report_json(report, ruleset, with_coverage=True)["coverage"]
    rules = [r.id for r in ruleset.rules]
    assert cov["rules"] == rules
    assert cov["fired"] == ["ces_saddle", "spinal_infection"]
    assert cov["not_fired"] == [r for r in rules if r not in cov["fired"]]
    assert set(cov["near_missed"]) | set(cov["not_near_missed"]) == set(rules)
    assert cov["flags_set"] == [f for f in ruleset.flags if f in cov["flags_set"]]
    assert set(cov["flags_set"]) == {"saddle_anaesthesia", "back_pain", "fever"}
    assert len(cov["flags_set"]) + len(cov["flags_not_set"]) == len(ruleset.flags)
    assert cov["fired_percent"] == pytest.approx(200 / len(rules))
    assert (cov["min_coverage"], cov["below_min_coverage"]) == (None, False)


@pytest.mark.parametrize(("minimum", "below"), [(2.0, False), (50.0, True)])
def test_min_coverage_alone_adds_coverage_and_says_whether_it_fell_short(
    report, ruleset, minimum, below
):
    cov = case_report_json(report, ruleset, min_coverage=minimum)["coverage"]
    assert (cov["min_coverage"], cov["below_min_coverage"]) == (minimum, below)


def test_data_is_plain_json(report, ruleset):
    data = case_report_json(report, ruleset, with_coverage=True, min_coverage=10)
    assert json.loads(json.dumps(data)) == data
