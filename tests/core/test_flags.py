"""Compiled flags (core/flags.py): a bool flag or a numeric flag, whose bounds are always set."""

from __future__ import annotations

import pytest

from redflag.core.compile import CompiledRuleSet, compile_ruleset
from redflag.core.flags import BoolFlag, NumericFlag
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source
from redflag.errors import RuleFileError
from redflag.formats.rulefile import load_ruleset

FLAGS = (
    Flag(id="pain", type="bool", question="Pain?", help="Any pain.", implies=("ache",)),
    Flag(id="ache", type="bool", question="Ache?", audience="clinician"),
    Flag(id="age", type="int", question="Age?", min=0.0, max=120.0, unit="years"),
    Flag(id="temp", type="number", question="Temperature?", min=30.5, max=45.0),
)


def _compile(flags: tuple[Flag, ...]) -> CompiledRuleSet:
    doc = RuleSet(
        ruleset=RuleSetMeta(id="t", name="t", version="1", status="draft", description="t"),
        sources=(Source(key="S", title="t", organisation="o", year="2024", url="u"),),
        levels=(
            Level(id="urgent", label="Urgent", timeframe="now", action="go"),
            Level(
                id="routine",
                label="Routine",
                timeframe="later",
                action="wait",
                action_no_symptoms="ok",
            ),
        ),
        flags=flags,
        rules=(
            Rule(
                id="r",
                level="urgent",
                title="r",
                when="pain and ache and age >= 50 and temp > 38",
                rationale="r",
                advice="a",
                sources=("S",),
            ),
        ),
    )
    return compile_ruleset(doc, sha256="0" * 64, source="test")


def test_each_flag_compiles_to_its_own_type_with_the_declared_fields():
    ruleset = _compile(FLAGS)
    assert ruleset.flags == {
        "pain": BoolFlag("pain", "Pain?", "Any pain.", "patient", ("ache",)),
        "ache": BoolFlag("ache", "Ache?", None, "clinician"),
        "age": NumericFlag("age", "int", "Age?", 0.0, 120.0, "years"),
        "temp": NumericFlag("temp", "number", "Temperature?", 30.5, 45.0),
    }
    assert list(ruleset.numeric_flags) == ["age", "temp"]  # file order


def test_a_compiled_flag_gives_back_the_rule_files_declaration():
    # `rules show --json` prints the declarations: its bytes depend on this round trip
    ruleset = _compile(FLAGS)
    assert tuple(f.declared() for f in ruleset.flags.values()) == FLAGS


def test_every_numeric_flag_of_the_shipped_rules_has_bounds_within_them():
    ruleset = load_ruleset(None)
    assert ruleset.numeric_flags
    for flag in ruleset.flags.values():
        assert isinstance(flag, BoolFlag | NumericFlag)
        assert (flag.id in ruleset.numeric_flags) == isinstance(flag, NumericFlag)
    for flag in ruleset.numeric_flags.values():
        assert flag.type in ("int", "number")
        assert flag.min <= flag.max


@pytest.mark.parametrize("missing", [{"min": None}, {"max": None}, {"min": None, "max": None}])
def test_a_numeric_flag_without_both_bounds_never_compiles(missing):
    age = Flag(id="age", type="int", question="Age?", **{"min": 0.0, "max": 120.0, **missing})
    with pytest.raises(RuleFileError) as caught:
        _compile((*FLAGS[:2], age, FLAGS[3]))
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        ("bad-bounds", "int flag 'age' needs both 'min' and 'max'")
    ]
