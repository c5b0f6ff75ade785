import html
import json

from redflag.core.solve import METHOD
from tests.rulefiles import with_rule
from tests.tooling import CASES, RULES, run, run_process


def test_analyze_shipped_rules_exits_0_with_method_and_timing(ruleset):
    result = run("rules", "analyze")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(
        f"rules.toml (bundled): {len(ruleset.rules)} rules, {len(ruleset.flags)} flags\n"
    )
    assert "info[masked] myeloma_check:" in out
    assert '    witness: {"back_pain": true, "age": 60, "pain_duration_weeks": 4.0}\n' in out
    assert f"0 errors, 2 for information; method: {METHOD};" in out


def test_analyze_exits_1_on_non_monotone_rule(tmp_path):
    path = with_rule(tmp_path, "odd", "emergency", "back_pain and not fever")
    result = run_process("rules", "analyze", str(path), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    [finding] = [f for f in data["findings"] if f["error"]]
    assert finding == {
        "kind": "non-monotone",
        "rule": "odd",
        "error": True,
        "message": "answering 'fever' yes instead of no lowers the level from emergency to urgent",
        "record": {"back_pain": True, "fever": False},
        "others": ["fever"],
    }


def test_doc_markdown_covers_every_rule_and_flag(ruleset):
    result = run("rules", "doc", "--cases", str(CASES / "basic.toml"))
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("# Red flags for spinal cord compression and back pain\n")
    assert "- **sha256:** `4333e62b4c37" in out or "- **sha256:** `" in out
    for rule_id in ("mscc_neuro", "back_neuro", "x_axial_spa"):
        assert f"#### `{rule_id}`:" in out
    assert out.count("\n#### `") == len(ruleset.rules)
    assert (
        "**When:** has at least one of: \\[limb weakness, difficulty walking\\] OR (has sensory "
        "change AND nerve symptom days is at most 14 days)" in out
    )
    assert "**Cases that fire it:** cancer with weak legs" in out
    assert "| `age` | int 0 to 120 years |" in out


def test_doc_html_is_self_contained_and_escapes_the_rule_file(tmp_path, ruleset):
    evil = with_rule(tmp_path, "evil", "urgent", "fever and back_pain")
    text = evil.read_text().replace('title = "Planted"', 'title = "<script>alert(1)</script>"')
    evil.write_text(text)
    out_file = tmp_path / "doc.html"
    result = run("rules", "doc", str(evil), "--format", "html", "--output", str(out_file))
    assert result.exit_code == 0
    assert result.stderr == f"wrote {out_file}\n"
    page = out_file.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert html.escape("<script>alert(1)</script>") in page
    assert "<link" not in page and "src=" not in page  # nothing loaded from elsewhere
    assert page.count('<div class="rule') == len(ruleset.rules) + 1  # and the planted one


def test_doc_runs_for_real():
    result = run_process("rules", "doc", str(RULES))
    assert result.returncode == 0
    assert "## Flags" in result.stdout
