"""`redflag explain`: every rule's trace for one record, as a tree or as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redflag.cli.common import JsonOption, RecordWords, RulesOption, load, read_record

if TYPE_CHECKING:
    from rich.text import Text
    from rich.tree import Tree

    from redflag.core.compile import CompiledRuleSet
    from redflag.core.explain import RuleExplanation, Step

_MARK = {"fired": "FIRED", "not fired": "not fired", "unknown": "unknown"}


def explain(
    words: RecordWords = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show why a record gets its level: every rule, fired or not, with each part's value.

    Example:

        redflag explain cancer_history back_pain age=67

        echo '{"back_pain": true}' | redflag explain - --json
    """
    from redflag.core.evaluate import evaluate
    from redflag.core.explain import explain as explain_result

    ruleset = load(rules)
    record, record_id = read_record(words, ruleset, "explain")
    result = evaluate(ruleset, record, record_id)
    explanations = explain_result(result, ruleset)
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.explain_json import explain_json

        print_json(explain_json(result, explanations, ruleset))
        return
    from rich.text import Text
    from rich.tree import Tree

    from redflag.cli.render import console, level_badge, result_renderable

    head = Text()
    head.append_text(level_badge(result.level.id, ruleset))
    head.append(f" {len(result.matched)} of {len(ruleset.rules)} rules fired")
    if not result.is_complete:  # never a bare reassuring level while worse is possible
        worst = ruleset.levels[result.worst_rank].label.upper()
        head.append(f"; {worst} not ruled out ({len(result.could_escalate)} rules undecided)")
    root = Tree(head)
    for item in explanations:
        root.children.append(explanation_tree(item, ruleset))
    out = console()
    out.print(root)
    out.print(
        "Legend: FIRED = condition definitely true; unknown = depends on unanswered flags.",
        style="muted",
    )
    # The result as check shows it, so the last screen is the summary (issue 12).
    out.print()
    out.print(
        result_renderable(result, ruleset, more="run redflag check with --details"), crop=False
    )


def explanation_tree(item: RuleExplanation, ruleset: CompiledRuleSet) -> Tree:
    """One rule's explanation as a rich Tree: status, rule, then each part with its value."""
    from rich.text import Text
    from rich.tree import Tree

    from redflag.cli.render import level_badge

    label = Text()
    label.append(_MARK[item.status].ljust(9), style=_status_style(item.status))
    label.append(" ")
    label.append_text(level_badge(item.level, ruleset))
    label.append(f" {item.rule_id}", style="rule.id")
    label.append(f"  {item.title}", style="muted")
    tree = Tree(label)
    _add_step(tree, item.step)
    return tree


def _status_style(status: str) -> str:
    return f"status.{status.replace(' ', '_')}"


def _value_style(value: str) -> str:
    return f"value.{value}" if value in ("true", "false", "unknown") else "label"


def _add_step(parent: Tree, step: Step) -> None:
    node = parent.add(_step_label(step))
    for child in step.children:
        _add_step(node, child)


def _step_label(step: Step) -> Text:
    from rich.text import Text

    text = Text()
    text.append(step.value.upper(), style=_value_style(step.value))
    text.append(f"  {step.text}")
    return text
