"""`result_json` (check --json, batch --full) with the rule parts one run shares (RuleParts)."""

from __future__ import annotations

import json
import random

import pytest

from redflag.core.evaluate import evaluate
from redflag.formats.result_json import RuleParts, result_json
from redflag.formats.rulefile import load_ruleset
from tests.core.test_vector import random_record


def test_results_sharing_one_rule_parts_are_the_documents_fresh_parts_give(ruleset):
    rng = random.Random(7)
    results = [evaluate(ruleset, random_record(ruleset, rng), n) for n in range(400)]
    parts = RuleParts(ruleset)
    shared = [result_json(r, ruleset, parts) for r in results]  # all made before any is read
    assert sum(len(d["matched"]) for d in shared) > 100
    assert sum(len(c["missing"]) for d in shared for c in d["could_escalate"]) > 100
    for result, document in zip(results, shared, strict=True):
        assert json.dumps(document) == json.dumps(result_json(result, ruleset))


def test_a_rule_matched_by_many_records_is_written_once_per_rule_set(ruleset):
    parts = RuleParts(ruleset)
    first = result_json(evaluate(ruleset, {"saddle_anaesthesia": True}), ruleset, parts)
    again = result_json(
        evaluate(ruleset, {"saddle_anaesthesia": True, "fever": True}), ruleset, parts
    )
    assert first["matched"] and first["matched"][0] is again["matched"][0]
    assert first["ruleset"] is again["ruleset"]


def test_without_shared_parts_each_result_is_the_callers_own(ruleset):
    # check --json, the API and the service: changing one result never changes the next
    record = {"saddle_anaesthesia": True}
    first = result_json(evaluate(ruleset, record), ruleset)
    first["matched"][0]["title"] = "changed"
    assert result_json(evaluate(ruleset, record), ruleset)["matched"][0]["title"] != "changed"


def test_parts_made_for_another_rule_set_are_refused(ruleset):
    other = load_ruleset(None)  # equal, but another object: its parts could differ
    with pytest.raises(ValueError, match="another rule set"):
        result_json(evaluate(ruleset, {}), ruleset, RuleParts(other))
