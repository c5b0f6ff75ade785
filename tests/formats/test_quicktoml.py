"""formats/quicktoml.py answers only where it reads a document exactly as tomllib does."""

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.formats import quicktoml
from tests.fuzzing import examples


def _typed(value):
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


_TEXT = st.text(alphabet=st.sampled_from(list("ab #=[]{},.'\"\\\t\r\n\x00\x7f\u202e\u00e9-_0")))
_KEYS = st.sampled_from(["a", "b", "a.b", "1", '"q"', "x-y", ""])
_VALUES = st.one_of(
    _TEXT.map(lambda t: f'"{t}"'),
    _TEXT.map(lambda t: f"'{t}'"),
    _TEXT.map(lambda t: f'"""{t}"""'),
    st.sampled_from(["1", "-0", "0.5", "1e3", "01", "+1", "1_0", "true", "false", "inf", "nan"]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.lists(_TEXT.map(lambda t: f'"{t}"'), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    _TEXT,
)
_LINES = st.one_of(
    st.tuples(_KEYS, _VALUES, st.sampled_from(["", " # c", "#", " x"])).map(
        lambda t: f"{t[0]} = {t[1]}{t[2]}"
    ),
    _KEYS.map(lambda k: f"[{k}]"),
    _KEYS.map(lambda k: f"[[{k}]]"),
    _TEXT,
)


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(_LINES, max_size=8))
def test_any_answer_is_tomllibs(lines):
    text = "\n".join(lines)
    quick = quicktoml.loads(text)
    if quick is None:
        return
    assert _typed(quick) == _typed(tomllib.loads(text))


def test_shapes_outside_the_subset_go_to_tomllib():
    for text in ['a = "x\\n"', "a.b = 1", "a = {b = 1}", "[a]\n[a]", "a = 1\na = 2", "a = 1e3"]:
        assert quicktoml.loads(text) is None, text


def test_a_plain_document_is_read():
    text = '# c\n[t]\nk = "v" # c\nn = 2\nf = -1.5\nb = true\nl = ["x", \'y\',]\n'
    text += '[[r]]\nm = """\nline one\nline two"""\n[[r]]\n[t.sub]\ne = \'\'\n'
    assert _typed(quicktoml.loads(text)) == _typed(tomllib.loads(text))
