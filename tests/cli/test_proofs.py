"""Regressions for the false proofs of issue 11, the regions, and the time budget (exit 4)."""

from __future__ import annotations

import json

from redflag.core.exhaustive import domain_for
from redflag.core.interview import plan
from redflag.core.regions import regions
from redflag.formats.rulefile import load_ruleset
from tests.tooling import ROOT, run, run_process

MINI = (ROOT / "tests" / "data" / "good_mini.toml").read_text()


def _mini(tmp_path, name, when="back_pain and age <= 120", bounds="max = 120"):
    text = MINI.replace("back_pain and limb_weakness and age >= 50", when)
    text = text.replace("max = 120", bounds)
    path = tmp_path / name
    path.write_text(text)
    return path


def _check(rules, record):
    result = run_process("check", "-", "--rules", str(rules), "--json", input=json.dumps(record))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["level"]


def test_a_change_of_bounds_alone_is_searched_and_its_downgrade_found(tmp_path):
    mini = _mini(tmp_path, "mini.toml")
    wider = _mini(tmp_path, "wider.toml", bounds="max = 130")
    assert _check(mini, {"back_pain": True}) == "emergency"
    assert _check(wider, {"back_pain": True}) == "routine"
    result = run_process("diff", str(mini), str(wider), "--exhaustive", "--json")
    assert result.returncode == 1, result.stdout
    proof = json.loads(result.stdout)["exhaustive"]
    assert proof["rules_searched"] == ["r1"]
    assert [d["record"] for d in proof["downgrades"]] == [{"back_pain": True}]
    assert proof["downgrades"][0]["old_level"] == "emergency"
    assert proof["downgrades"][0]["new_level"] == "routine"


def test_fractional_threshold_on_an_int_flag_is_exact(tmp_path):
    half = _mini(tmp_path, "half.toml", when="back_pain and age >= 50.5")
    later = _mini(tmp_path, "later.toml", when="back_pain and age >= 52")
    assert _check(half, {"back_pain": True, "age": 51}) == "emergency"
    analysed = run_process("rules", "analyze", str(half), "--json")
    assert analysed.returncode == 0, analysed.stdout
    assert not [f for f in json.loads(analysed.stdout)["findings"] if f["kind"] == "vacuous"]
    result = run_process("diff", str(half), str(later), "--exhaustive", "--json")
    assert result.returncode == 1
    (downgrade,) = json.loads(result.stdout)["exhaustive"]["downgrades"]
    assert downgrade["record"] == {"back_pain": True, "age": 51}
    assert _check(later, downgrade["record"]) == "routine"


def test_every_enumerating_tool_uses_the_same_regions(tmp_path):
    half = load_ruleset(_mini(tmp_path, "half.toml", when="back_pain and age >= 50.5"))
    age = half.numeric_flags["age"]
    assert regions([age], {(">=", 50.5)}) == (0, 51)
    assert domain_for([half])["age"] == (0, 51)
    shipped = load_ruleset(None)
    # the interview asks about age exactly when some region of age changes the level
    assert "age" in plan(shipped, {"back_pain": True, "limb_weakness": True}).needed_by


def test_regions_of_an_int_flag_are_whole_numbers_valid_in_every_rule_set(tmp_path):
    small = load_ruleset(_mini(tmp_path, "a.toml", bounds="max = 60")).numeric_flags["age"]
    big = load_ruleset(_mini(tmp_path, "b.toml", bounds="max = 130")).numeric_flags["age"]
    values = regions([small, big], {(">=", 50.5), ("<", 59.5), ("<=", 100)})
    assert values == (0, 51, 60)
    assert all(isinstance(v, int) for v in values)


def _big_conjunction(tmp_path, n):
    flags = "".join(f'\n[flags.f{i}]\ntype = "bool"\nquestion = "f{i}?"\n' for i in range(n))
    text = MINI.replace("\n[[rules]]", flags + "\n[[rules]]", 1)
    text = text.replace(
        "back_pain and limb_weakness and age >= 50",
        "count(" + ", ".join(f"f{i}" for i in range(n)) + f") >= {n // 2}",
    )
    path = tmp_path / "big.toml"
    path.write_text(text)
    return path


def test_out_of_time_is_not_proved_with_exit_4(tmp_path):
    big = _big_conjunction(tmp_path, 400)
    result = run_process("rules", "analyze", str(big), "--max-seconds", "0.001")
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "error[not-proved]: not proved within 0.001 s" in result.stderr
    assert "proved" not in result.stdout
    result = run_process(
        "diff",
        str(big),
        str(ROOT / "tests/data/good_mini.toml"),
        "--exhaustive",
        "--max-seconds",
        "0.001",
    )
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "not proved within 0.001 s" in result.stderr


def test_max_seconds_must_be_positive():
    result = run("rules", "analyze", "--max-seconds", "0")
    assert result.exit_code == 2
