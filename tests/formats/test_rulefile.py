import hashlib
import tomllib
from pathlib import Path

import pytest

from redflag.errors import RuleFileError
from redflag.formats import quicktoml, rulefile
from redflag.formats.rulefile import bundled_rules_bytes, load_ruleset

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = DATA.parent.parent
BAD = sorted((DATA / "bad_rules").glob("*.toml"))


def expected(path: Path) -> list[tuple[str, str]]:
    """The '# expect: LINE:COL code' header of a planted-error file."""
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            where, code = line.removeprefix("# expect:").rsplit(" ", 1)
            out.append((where.strip(), code))
    return out


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_each_planted_error_is_reported_with_its_location(path):
    with pytest.raises(RuleFileError) as info:
        load_ruleset(path)
    got = [
        (f"{d.location.line}:{d.location.col}" if d.location and d.location.line else "", d.code)
        for d in info.value.diagnostics
        if d.severity == "error"
    ]
    assert got == expected(path)
    assert info.value.exit_code == 3


def test_unknown_flag_message_has_caret_and_suggestion():
    with pytest.raises(RuleFileError) as info:
        load_ruleset(DATA / "bad_rules" / "unknown_flag.toml")
    assert info.value.render() == (
        f"{DATA}/bad_rules/unknown_flag.toml:21:1: warning[no-symptom-action]: the no-match "
        "level 'routine' has no action_no_symptoms: a person who reported no symptom at all "
        "would be given advice about symptoms\n"
        "    [[levels]]\n"
        "    ^\n"
        '  hint: add action_no_symptoms = "..." to it, written for someone who reported nothing\n'
        f"{DATA}/bad_rules/unknown_flag.toml:45:23: error[unknown-flag]: "
        "rule 'r1': unknown flag 'limb_weaknes'\n"
        '    when = "back_pain and limb_weaknes and age >= 50"\n'
        "                          ^^^^^^^^^^^^\n"
        "  hint: did you mean 'limb_weakness'? Flags are declared under [flags].\n"
        f"{DATA}/bad_rules/unknown_flag.toml: 1 error in the rule file"
    )


def test_unknown_key_suggests_the_allowed_one():
    with pytest.raises(RuleFileError) as info:
        load_ruleset(DATA / "bad_rules" / "unknown_key.toml")
    unknown = next(d for d in info.value.diagnostics if d.code == "unknown-key")
    assert unknown.message == "rule 'r1' has an unknown key 'advise'"
    assert unknown.hint is not None and unknown.hint.startswith("did you mean 'advice'?")


def test_injection_is_rejected_and_never_run(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = (
        (DATA / "good_mini.toml")
        .read_text()
        .replace(
            'when = "back_pain and limb_weakness and age >= 50"',
            f"when = \"__import__('os').system('touch {marker}')\"",
        )
    )
    path = tmp_path / "evil.toml"
    path.write_text(text)
    with pytest.raises(RuleFileError):
        load_ruleset(path)
    assert not marker.exists()


def test_missing_path_and_directory_are_rule_file_errors(tmp_path):
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path / "nope.toml")
    assert info.value.diagnostics[0].code == "not-found"
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path)
    assert info.value.diagnostics[0].code == "not-a-file"


def _typed(value):
    """`value` with the type of every part spelt out: 1 == 1.0 == True must not pass."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


TOML_FILES = sorted(p for p in ROOT.rglob("*.toml") if ".venv" not in p.parts)


@pytest.mark.parametrize("path", TOML_FILES, ids=[str(p.relative_to(ROOT)) for p in TOML_FILES])
def test_quick_path_reads_and_builds_exactly_what_tomllib_and_pydantic_do(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    quick = quicktoml.loads(text)
    try:
        reference = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert quick is None
        return
    if quick is None:
        return
    assert _typed(quick) == _typed(reference)
    doc = rulefile._quick_ruleset(quick)
    if doc is not None:
        prepared, problems = rulefile._key_tables(reference, rulefile._SourceMap(text, "x"))
        assert problems == []
        assert doc == rulefile._validate(prepared)


def test_bundled_rules_take_the_quick_path():
    text = bundled_rules_bytes().decode()
    quick = quicktoml.loads(text)
    assert quick is not None and rulefile._quick_ruleset(quick) is not None


def test_bundled_rules_are_the_top_level_file():
    top = (ROOT / "rules.toml").read_bytes()
    assert hashlib.sha256(bundled_rules_bytes()).hexdigest() == hashlib.sha256(top).hexdigest()


def test_shipped_rules_validate_without_warnings(ruleset):
    assert ruleset.warnings == ()
    assert ruleset.meta.status == "draft"
    assert "not" in ruleset.meta.description.lower() and "clinician" in ruleset.meta.description


def test_negated_flag_and_unused_flag_are_warnings(tmp_path):
    text = (
        (DATA / "good_mini.toml")
        .read_text()
        .replace(
            'when = "back_pain and limb_weakness and age >= 50"',
            'when = "back_pain and not age >= 50"',
        )
    )
    path = tmp_path / "neg.toml"
    path.write_text(text)
    rs = load_ruleset(path)
    assert [(w.code, w.severity) for w in rs.warnings] == [
        ("no-symptom-action", "warning"),
        ("unused-flag", "warning"),
        ("negated-flag", "warning"),
    ]


def test_the_no_match_level_needs_an_action_for_no_symptoms(tmp_path):
    text = (DATA / "good_mini.toml").read_text()
    assert [w.code for w in load_ruleset(DATA / "good_mini.toml").warnings] == ["no-symptom-action"]
    path = tmp_path / "variant.toml"
    path.write_text(
        text.replace(
            'action = "Self-care"\n', 'action = "Self-care"\naction_no_symptoms = "None"\n'
        )
    )
    assert load_ruleset(path).warnings == ()


def test_no_symptom_action_is_given_only_when_nothing_is_reported(tmp_path):
    from redflag.core.evaluate import action, evaluate

    text = (DATA / "good_mini.toml").read_text()
    path = tmp_path / "variant.toml"
    path.write_text(
        text.replace(
            'action = "Self-care"\n', 'action = "Self-care"\naction_no_symptoms = "No symptom"\n'
        )
    )
    rs = load_ruleset(path)
    assert action(evaluate(rs, {"back_pain": False, "age": 30}), rs) == "No symptom"
    assert action(evaluate(rs, {"back_pain": True, "age": 30}), rs) == "Self-care"
    assert action(evaluate(rs, {}), rs) == "No symptom"
