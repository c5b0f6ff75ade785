"""The public Python API (`import redflag`): load_rules, Rules.check, check_many (issue 17)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import redflag
from redflag.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rules() -> redflag.Rules:
    return redflag.load_rules()


def test_the_one_liner_of_the_issue_prints_emergency_in_a_fresh_interpreter():
    code = (
        "import redflag; print(redflag.load_rules().check("
        "{'cancer_history': True, 'limb_weakness': True}).level)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "emergency\n", "")


def test_import_redflag_loads_neither_the_engine_nor_typer():
    code = (
        "import sys, redflag; print(sorted(m for m in sys.modules"
        " if m.startswith(('redflag.', 'typer', 'pydantic'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout == "[]\n"


def test_check_gives_a_typed_immutable_result(rules):
    result = rules.check({"back_pain": True, "age": 70, "id": "p1"})
    assert isinstance(result, redflag.CheckResult)
    assert result.id == "p1"
    assert result.level in rules.levels
    assert rules.levels.index(result.worst_case) <= rules.levels.index(result.level)
    assert result.answered == {"back_pain": True, "age": 70}
    assert result.ruleset == redflag.RuleSetInfo(
        "redflag-spinal", "0.2.0", "draft", rules.info.sha256
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = "routine"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.answered["back_pain"] = False  # type: ignore[index]


def test_matched_and_could_escalate_are_rule_ids_most_urgent_first(rules):
    result = rules.check({"cancer_history": True, "back_pain": True, "limb_weakness": True})
    assert result.level == "emergency"
    assert result.matched[0] == "mscc_neuro"
    ranks = [rules.levels.index(o.rule.level) for o in result.result.matched]
    assert ranks == sorted(ranks)
    open_result = rules.check({"back_pain": True})
    assert open_result.worst_case == "emergency" and not open_result.is_complete
    assert open_result.could_escalate and "mscc_neuro" in open_result.could_escalate


def test_to_json_is_what_check_json_prints(rules):
    record = {"back_pain": True, "age": 70, "cancer_history": False}
    cli = CliRunner().invoke(app, ["check", "-", "--json"], input=json.dumps(record))
    assert cli.exit_code == 0, cli.output
    assert rules.check(record).to_json() == json.loads(cli.stdout)


def test_check_many_yields_results_in_order_and_bad_records_as_error_values(rules):
    records = [
        {"id": 1, "cancer_history": True, "limb_weakness": True},
        {"id": 2, "Back_Pain": True},
        {"id": "three", "age": 400},
        {"back_pain": False},
        ["not", "a", "record"],
    ]
    out = list(rules.check_many(records))
    assert [type(o).__name__ for o in out] == [
        "CheckResult",
        "RecordError",
        "RecordError",
        "CheckResult",
        "RecordError",
    ]
    assert out[0].level == "emergency" and out[0].id == 1
    bad = [o for o in out if isinstance(o, redflag.RecordError)]
    assert [(e.index, e.id, e.error.code) for e in bad] == [
        (1, 2, "unknown-flag"),
        (2, "three", "bad-value"),
        (4, None, "not-an-object"),
    ]
    assert "did you mean 'back_pain'" in (bad[0].error.hint or "")


def test_check_many_is_lazy(rules):
    def endless():
        while True:
            yield {"back_pain": True}

    first = next(iter(rules.check_many(endless())))
    assert isinstance(first, redflag.CheckResult)


def test_errors_are_the_documented_exceptions(rules, tmp_path):
    with pytest.raises(redflag.UnknownFlagError) as unknown:
        rules.check({"limb_weaknes": True})
    assert unknown.value.code == "unknown-flag" and unknown.value.exit_code == 2
    assert "did you mean 'limb_weakness'" in (unknown.value.hint or "")
    with pytest.raises(redflag.BadValueError):
        rules.check({"back_pain": 1})
    with pytest.raises(redflag.NotAnObjectError):
        rules.check("back_pain")
    bad = tmp_path / "bad.toml"
    bad.write_text("[ruleset]\nid = 1\n")
    with pytest.raises(redflag.RuleFileError) as broken:
        redflag.load_rules(bad)
    assert broken.value.exit_code == 3 and broken.value.diagnostics
    with pytest.raises(redflag.RuleFileError):
        redflag.load_rules(tmp_path / "missing.toml")
    assert issubclass(redflag.InputError, redflag.RedflagError)


def test_load_rules_takes_a_path_or_a_string(rules):
    assert redflag.load_rules(str(ROOT / "rules.toml")).info == rules.info
    assert redflag.load_rules(ROOT / "rules.toml").flags == rules.flags
    assert repr(rules) == "<Rules redflag-spinal 0.2.0 (draft)>"


def test_the_package_is_typed_and_exports_what_it_documents():
    assert (ROOT / "redflag" / "py.typed").exists()
    for name in redflag.__all__:
        assert getattr(redflag, name) is not None
    with pytest.raises(AttributeError):
        redflag.no_such_name  # noqa: B018


def test_the_readme_example_shows_what_check_returns(rules):
    section = (ROOT / "README.md").read_text().split("## Python API", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'rules.check({"back_pain": True, "age": 70})' in block
    result = rules.check({"back_pain": True, "age": 70})
    shown = dict(re.findall(r"^result\.(\w+) +# '(\w+)'", block, flags=re.M))
    assert shown == {"level": result.level, "worst_case": result.worst_case}
    assert f"# the answers, read-only ({dict(result.answered)})" in block
