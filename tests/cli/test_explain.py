import json

from tests.tooling import run, run_process


def test_explain_tree_shows_each_rule_and_each_part(ruleset):
    result = run("explain", "back_pain", "fever")
    assert result.exit_code == 0
    out = result.stdout
    undecided = out.split("EMERGENCY not ruled out (", 1)[1].split(" ", 1)[0]
    assert out.startswith(
        f" URGENT  1 of {len(ruleset.rules)} rules fired; "
        f"EMERGENCY not ruled out ({undecided} rules undecided)\n"
    )
    assert int(undecided) > 0
    assert "FIRED      URGENT  spinal_infection" in out
    assert "TRUE  back_pain and any(fever, temperature >= 38)" in out
    assert "unknown    EMERGENCY  ces_bilateral" in out
    assert "UNKNOWN  bilateral_leg_symptoms" in out
    # the last screen is the result as check shows it, worst case first
    tail = out.split("Legend: ", 1)[1]
    assert "EMERGENCY NOT RULED OUT" in tail and "So far:  URGENT " in tail
    assert tail.rstrip().endswith("seek help sooner.")


def test_explain_json_has_status_and_trace_for_every_rule(ruleset):
    result = run_process("explain", "-", "--json", input='{"back_pain": true, "age": 42}')
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["level"] == "routine"
    assert len(data["rules"]) == len(ruleset.rules)
    by_id = {r["id"]: r for r in data["rules"]}
    assert by_id["age_over_50"]["status"] == "not fired"
    assert by_id["age_over_50"]["trace"] == {
        "text": "back_pain and age >= 50",
        "value": "false",
        "parts": [
            {"text": "back_pain", "value": "true"},
            {"text": "age >= 50  (age = 42)", "value": "false"},
        ],
    }
    assert by_id["spinal_infection"]["status"] == "unknown"
    assert by_id["spinal_infection"]["missing"] == ["fever", "temperature"]
    assert by_id["spinal_infection"]["english"] == (
        "has back pain AND has at least one of: [fever, (temperature is at least 38 °C)]"
    )


def test_explain_without_words_is_a_usage_error():
    result = run("explain")
    assert result.exit_code == 2
    assert "error[usage]: give the flags to explain as words" in result.stderr
