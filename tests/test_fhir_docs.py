"""docs/fhir.md is the contract of the FHIR mapping: its tables agree with the code."""

import re
from pathlib import Path

from redflag.formats.fhir import codes

DOC = (Path(__file__).resolve().parent.parent / "docs" / "fhir.md").read_text()


def table(heading):
    part = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \|$", part, flags=re.M)
    headers = {"level", "flag", "rules.toml unit"}
    return {a.strip(): b.strip() for a, b in rows if a.strip() not in headers}


def test_level_table_lists_every_level_and_its_act_priority(ruleset):
    rows = table("## Levels")
    assert list(rows) == [lv.id for lv in ruleset.levels]
    for level, cell in rows.items():
        if level in codes.ACT_PRIORITY:
            code, display = codes.ACT_PRIORITY[level]
            assert cell == f"{code} ({display})"
        else:
            assert cell.startswith("none")


def test_loinc_and_ucum_tables_match_the_code():
    assert table("| flag | LOINC |") == dict(codes.LOINC)
    assert table("## Units") == dict(codes.UCUM)


def test_every_unit_of_the_rule_file_has_a_ucum_code(ruleset):
    assert {f.unit for f in ruleset.numeric_flags.values() if f.unit} <= set(codes.UCUM)
    assert set(codes.LOINC) <= set(ruleset.flags)
