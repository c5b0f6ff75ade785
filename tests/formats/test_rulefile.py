import hashlib
from pathlib import Path

import pytest

from redflag.core.evaluate import evaluate
from redflag.errors import RuleFileError
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
        load_ruleset(path, cache_dir=None)
    got = [
        (f"{d.location.line}:{d.location.col}" if d.location and d.location.line else "", d.code)
        for d in info.value.diagnostics
        if d.severity == "error"
    ]
    assert got == expected(path)
    assert info.value.exit_code == 3


def test_unknown_flag_message_has_caret_and_suggestion():
    with pytest.raises(RuleFileError) as info:
        load_ruleset(DATA / "bad_rules" / "unknown_flag.toml", cache_dir=None)
    assert info.value.render() == (
        f"{DATA}/bad_rules/unknown_flag.toml:45:23: error[unknown-flag]: "
        "rule 'r1': unknown flag 'limb_weaknes'\n"
        '    when = "back_pain and limb_weaknes and age >= 50"\n'
        "                          ^^^^^^^^^^^^\n"
        "  hint: did you mean 'limb_weakness'? Flags are declared under [flags].\n"
        f"{DATA}/bad_rules/unknown_flag.toml: 1 error in the rule file"
    )


def test_unknown_key_suggests_the_allowed_one():
    with pytest.raises(RuleFileError) as info:
        load_ruleset(DATA / "bad_rules" / "unknown_key.toml", cache_dir=None)
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
        load_ruleset(path, cache_dir=None)
    assert not marker.exists()


def test_missing_path_and_directory_are_rule_file_errors(tmp_path):
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path / "nope.toml", cache_dir=None)
    assert info.value.diagnostics[0].code == "not-found"
    with pytest.raises(RuleFileError) as info:
        load_ruleset(tmp_path, cache_dir=None)
    assert info.value.diagnostics[0].code == "not-a-file"


def test_cache_round_trip_gives_the_same_rule_set(tmp_path):
    fresh = load_ruleset(None, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    cached = load_ruleset(None, cache_dir=tmp_path)
    assert cached.rules == fresh.rules
    assert cached.flags == fresh.flags and cached.levels == fresh.levels
    assert cached.sources == fresh.sources and cached.meta == fresh.meta
    record = {"cancer_history": True, "limb_weakness": True}
    assert evaluate(cached, record).level == evaluate(fresh, record).level


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path):
    load_ruleset(None, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("*.json")
    cache_file.write_text('{"format": 1, "sha256": "x"')
    assert load_ruleset(None, cache_dir=tmp_path).rules


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
    rs = load_ruleset(path, cache_dir=None)
    assert [(w.code, w.severity) for w in rs.warnings] == [
        ("unused-flag", "warning"),
        ("negated-flag", "warning"),
    ]
