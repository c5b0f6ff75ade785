"""core/suggest.py: difflib's did-you-mean, with bounded work per hint and per file."""

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.core.suggest import MAX_WORD, Suggester, closest
from tests.fuzzing import examples

FLAGS = ["back_pain", "limb_weakness", "age", "fever", "cancer_history", "weight_loss"]


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet="abcdefghiklmnoprstuwy_", max_size=20))
def test_closest_agrees_with_difflib_on_small_sets(word):
    expected = difflib.get_close_matches(word, FLAGS, n=1)
    assert closest(word, FLAGS) == (expected[0] if expected else None)


def test_misspellings_get_their_flag():
    assert closest("limb_weaknes", FLAGS) == "limb_weakness"
    assert closest("fevr", FLAGS) == "fever"
    assert closest("zzzz", FLAGS) is None


def test_a_very_long_word_gets_no_suggestion():
    assert closest("back_pain" * 10, FLAGS) is None
    assert len("back_pain" * 10) > MAX_WORD


def test_a_file_spends_a_bounded_budget_on_hints():
    # issue 13: 4,000 unknown names against 1,000 flags took minutes
    flags = [f"symptom_flag_{i:04d}" for i in range(1000)]
    suggester = Suggester(flags, budget=5_000)
    answers = [suggester.closest(f"symptom_flg_{i:04d}") for i in range(10)]
    assert answers[:5] == [f"symptom_flag_{i:04d}" for i in range(5)]
    assert answers[5:] == [None] * 5  # budget spent: no more work, no more hints
    assert suggester.closest("symptom_flg_0001") == "symptom_flag_0001"  # memo
