from pathlib import Path

import pytest

from redflag.errors import CaseFileError
from redflag.formats.casefile import case_files, load_cases
from redflag.formats.rulefile import load_ruleset
from tests.tooling import CASES


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(None)


def test_toml_cases_are_read_with_their_lines(ruleset):
    cases = load_cases(CASES / "basic.toml", ruleset)
    assert [c.name for c in cases] == [
        "cancer with weak legs",
        "saddle numbness",
        "back pain at 42, nothing else",
    ]
    assert cases[0].expect_rules == ("mscc_neuro",)
    assert cases[2].record == {"back_pain": True, "age": 42, "fever": False}
    assert [c.where.line if c.where else None for c in cases] == [3, 9, 15]


def test_ndjson_cases_skip_blank_lines_and_keep_line_numbers(ruleset):
    cases = load_cases(CASES / "basic.ndjson", ruleset)
    assert [(c.name, c.where.line if c.where else None) for c in cases] == [
        ("fever with back pain", 1),
        ("nothing at all", 3),
    ]


def test_directory_expands_to_case_files():
    names = [p.name for p in case_files([CASES])]
    assert names == ["basic.ndjson", "basic.toml", "failing.toml"]


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            '[[case]]\nname = "a"\nrecord = { back_pian = true }\nexpect = "routine"\n',
            "case 'a': 'back_pian' is not a flag of rule set 'redflag-spinal'",
            "did you mean 'back_pain'?",
        ),
        (
            '[[case]]\nname = "a"\nrecord = {}\nexpect = "urgnt"\n',
            "case 'a': expect 'urgnt' is not a level of rule set 'redflag-spinal'",
            "did you mean 'urgent'?",
        ),
        (
            '[[case]]\nname = "a"\nrecord = {}\nexpect = "routine"\nexpect_rule = []\n',
            "case #1: unknown key 'expect_rule'",
            "did you mean 'expect_rules'? A case has: name, record, expect, expect_rules, "
            "forbid_rules, citation, url, diagnosis, why, debatable",
        ),
        (
            '[[case]]\nname = "a"\nrecord = {}\nexpect = "routine"\nforbid_rules = ["ces_sadle"]\n',
            "case 'a': forbid_rules names rule 'ces_sadle', which rule set 'redflag-spinal' "
            "does not have",
            "did you mean 'ces_saddle'?",
        ),
    ],
)
def test_bad_case_is_an_error_with_file_line_and_hint(tmp_path: Path, ruleset, text, message, hint):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CaseFileError) as info:
        load_cases(path, ruleset)
    assert info.value.message == message
    assert info.value.hint == hint
    assert str(info.value.location) == f"{path}:1"
    assert info.value.exit_code == 2


def test_bad_json_line_is_reported_with_its_line(tmp_path: Path, ruleset):
    path = tmp_path / "bad.ndjson"
    path.write_text('{"name": "a", "record": {}, "expect": "routine"}\n{"name": \n')
    with pytest.raises(CaseFileError) as info:
        load_cases(path, ruleset)
    assert str(info.value.location).startswith(f"{path}:2")


def test_duplicate_case_names_are_refused(tmp_path: Path, ruleset):
    path = tmp_path / "dup.ndjson"
    line = '{"name": "a", "record": {}, "expect": "routine"}\n'
    path.write_text(line * 2)
    with pytest.raises(CaseFileError, match=r"case name 'a' is used twice \(first at .*:1\)"):
        load_cases(path, ruleset)
