import pytest

from redflag.errors import (
    BadJSONError,
    BadValueError,
    InputError,
    NotAnObjectError,
    UnknownFlagError,
)
from redflag.formats.records import record_from_json, record_from_words


def test_words_bare_name_is_yes_and_values_are_typed(ruleset):
    record, rid = record_from_words(
        [
            "cancer_history",
            "fever=no",
            "night_pain=YES",
            "back_pain=1",
            "age=67",
            "pain_duration_weeks=2.5",
            "nausea=unknown",
        ],
        ruleset,
    )
    assert record == {
        "cancer_history": True,
        "fever": False,
        "night_pain": True,
        "back_pain": True,
        "age": 67,
        "pain_duration_weeks": 2.5,
    }
    assert rid is None


@pytest.mark.parametrize(
    ("words", "error", "message", "hint"),
    [
        (
            ["back_pian"],
            UnknownFlagError,
            "'back_pian' is not a flag of rule set 'redflag-spinal'",
            "did you mean 'back_pain'?",
        ),
        (
            ["Back_Pain"],
            UnknownFlagError,
            "'Back_Pain' is not a flag of rule set 'redflag-spinal'",
            "did you mean 'back_pain'? Flag ids are lower case with '_'.",
        ),
        (
            ["fever=maybe"],
            BadValueError,
            "'fever' is a yes/no flag, got 'maybe'",
            "write fever (yes), fever=no, or fever=unknown",
        ),
        (
            ["age=sixty"],
            BadValueError,
            "'age' must be a number, got 'sixty'",
            "write it as age=<number>, e.g. age=60",
        ),
        (
            ["age=130"],
            BadValueError,
            "'age' must be a whole number from 0 to 120 years, got 130",
            "write a number such as 60, or null if not known",
        ),
        (
            ["age=6.5"],
            BadValueError,
            "'age' must be a whole number from 0 to 120 years, got 6.5",
            "write a number such as 60, or null if not known",
        ),
        (["age"], BadValueError, "'age' needs a value", "write it as age=<number>"),
        (["fever", "fever=no"], InputError, "'fever' is given twice", "give each flag once"),
    ],
)
def test_word_errors_say_what_and_how(ruleset, words, error, message, hint):
    with pytest.raises(error) as info:
        record_from_words(words, ruleset)
    assert type(info.value) is error
    assert (info.value.message, info.value.hint) == (message, hint)
    assert info.value.exit_code == 2


def test_json_record_with_id_and_nulls(ruleset):
    record, rid = record_from_json(
        '{"id": "r1", "back_pain": true, "age": 67, "fever": null}', ruleset
    )
    assert record == {"back_pain": True, "age": 67}
    assert rid == "r1"


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ('{"back_pain": tru}', BadJSONError, "not valid JSON: Expecting value"),
        ("", BadJSONError, "expected a JSON object, got nothing"),
        ("[1]", NotAnObjectError, "expected a JSON object, got a list"),
        ('"back_pain"', NotAnObjectError, "expected a JSON object, got a string"),
        (
            '{"back_pain": true, "back_pain": false}',
            BadJSONError,
            "key 'back_pain' appears more than once",
        ),
        ('{"age": NaN}', BadJSONError, "NaN is not allowed in JSON records"),
        ('{"age": Infinity}', BadJSONError, "Infinity is not allowed in JSON records"),
        (
            '{"back_pain": "yes"}',
            BadValueError,
            """'back_pain' must be true or false, got "yes\"""",
        ),
        ('{"back_pain": 1}', BadValueError, "'back_pain' must be true or false, got 1"),
        (
            '{"age": true}',
            BadValueError,
            "'age' must be a whole number from 0 to 120 years, got true",
        ),
        ('{"age": -1}', BadValueError, "'age' must be a whole number from 0 to 120 years, got -1"),
        (
            '{"age": 1e400}',
            BadValueError,
            "'age' must be a whole number from 0 to 120 years, got inf",
        ),
        (
            '{"back_pain": {"a": 1}}',
            BadValueError,
            "'back_pain' must be true or false, got an object",
        ),
        ('{"id": [1]}', BadValueError, "'id' must be a string or a whole number, got a list"),
        (
            '{"limb weakness": true}',
            UnknownFlagError,
            "'limb weakness' is not a flag of rule set 'redflag-spinal'",
        ),
        ('{"back_pain": true} {}', BadJSONError, "not valid JSON: Extra data"),
    ],
)
def test_json_errors(ruleset, text, error, message):
    with pytest.raises(error) as info:
        record_from_json(text, ruleset)
    assert type(info.value) is error
    assert info.value.message == message


def test_json_error_location_points_at_line_and_column(ruleset):
    with pytest.raises(BadJSONError) as info:
        record_from_json('{\n  "back_pain": tru\n}', ruleset)
    loc = info.value.location
    assert loc is not None
    assert (loc.source, loc.line, loc.col) == ("<stdin>", 2, 16)


def test_whole_float_is_accepted_for_int_flag(ruleset):
    record, _ = record_from_json('{"age": 67.0}', ruleset)
    assert record == {"age": 67} and isinstance(record["age"], int)
