"""CDS Hooks cards: safe Markdown, the level's indicator, the action, what is unknown."""

import dataclasses

import pytest

from redflag.core.evaluate import evaluate
from redflag.formats import cds_hooks
from tests.helpers import make_ruleset

MSCC = {"cancer_history": True, "back_pain": True, "limb_weakness": True}


def test_markdown_text_escapes_markup_and_flattens_lines():
    text = "A&E <script>x</script> [a](javascript:1) *b* `c` |t|\nnext\u202eline"
    assert cds_hooks.markdown_text(text) == (
        "A\\&E \\<script\\>x\\</script\\> \\[a\\](javascript:1) \\*b\\* \\`c\\` \\|t\\| next line"
    )


def test_plain_text_is_one_line_within_the_limit():
    assert cds_hooks.plain_text("a\nb " + "x" * 200, 20) == "a b " + "x" * 15 + "\u2026"


def test_mscc_card_is_critical_with_action_rules_and_notice(ruleset):
    card = cds_hooks.Cards(ruleset).result_card(evaluate(ruleset, MSCC), "u-1")
    assert card.indicator == "critical"
    assert card.uuid == "u-1"
    assert card.summary == "EMERGENCY: Cancer with nerve symptoms: possible spinal cord compression"
    assert len(card.summary) < 140
    assert card.detail is not None
    assert card.detail.startswith("**EMERGENCY, Now.** Call 999 or go to A\\&E now.")
    assert "- EMERGENCY: Cancer with nerve symptoms: possible spinal cord compression" in (
        card.detail
    )
    assert "decision support, not a diagnosis" in card.detail
    assert "redflag-spinal 0.2.0" in card.source.label
    assert card.links and all(link.url.startswith("http") for link in card.links)


def test_a_result_that_has_not_ruled_out_an_emergency_says_so_and_lists_questions(ruleset):
    result = evaluate(ruleset, {"back_pain": True, "age": 35})
    card = cds_hooks.Cards(ruleset).result_card(result, "u")
    assert card.indicator == "warning"
    assert card.summary.startswith("EMERGENCY NOT RULED OUT: ")
    assert card.detail is not None
    assert "**Still unknown** (an answer could raise the level)" in card.detail
    first = result.could_escalate[0].missing[0]
    assert f"({cds_hooks.markdown_text(first)})" in card.detail
    assert "- and " in card.detail  # more than MAX_UNKNOWN_SHOWN, counted not listed


@pytest.mark.parametrize(
    ("record", "indicator"),
    [({"a": True}, "critical"), ({"b": True, "a": False}, "warning"), ({"c": True}, "warning")],
)
def test_indicator_follows_the_level_rank_and_an_open_emergency(record, indicator):
    ruleset = make_ruleset({"r1": ("emergency", "a"), "r2": ("urgent", "b"), "r3": ("soon", "c")})
    assert (
        cds_hooks.Cards(ruleset).result_card(evaluate(ruleset, record), "u").indicator == indicator
    )


def test_a_soon_result_with_nothing_open_is_info():
    ruleset = make_ruleset({"r3": ("soon", "c")})
    assert (
        cds_hooks.Cards(ruleset).result_card(evaluate(ruleset, {"c": True}), "u").indicator
        == "info"
    )


def test_rule_text_with_markup_cannot_inject_html():
    ruleset = make_ruleset({"r1": ("emergency", "a")})
    evil = "<img src=x onerror=alert(1)> [click](javascript:alert(1))"
    rule = dataclasses.replace(ruleset.rules[0].rule, title=evil, advice=evil)
    ruleset = dataclasses.replace(
        ruleset, rules=(dataclasses.replace(ruleset.rules[0], rule=rule),)
    )
    card = cds_hooks.Cards(ruleset).result_card(evaluate(ruleset, {"a": True}), "u")
    assert card.detail is not None
    assert "<" not in card.detail.replace("\\<", "")
    assert "[" not in card.detail.replace("\\[", "")
    assert "\\<img src=x onerror=alert(1)\\>" in card.detail


def test_questionnaire_needed_card_never_gives_a_level(ruleset):
    card = cds_hooks.questionnaire_needed_card(ruleset, "u", "No QuestionnaireResponse.")
    assert card.indicator == "info"
    assert card.summary.startswith("Red-flag questionnaire needed")
    assert card.source.topic is None
    assert card.detail is not None and "redflag gives no level without answers" in card.detail


def test_discovery_lists_both_hooks_with_the_prefetch_template(ruleset):
    services = {s.hook: s for s in cds_hooks.services(ruleset)}
    assert set(services) == {"patient-view", "questionnaire-inprogress"}
    assert services["patient-view"].prefetch == {
        "questionnaireResponse": "QuestionnaireResponse?subject={{context.patientId}}"
        "&_sort=-authored&_count=1"
    }


def test_summary_over_the_limit_is_refused_by_the_model(ruleset):
    with pytest.raises(ValueError, match="at most 139 characters"):
        cds_hooks.Card(summary="x" * 140, indicator="info", source=cds_hooks.source(ruleset))
