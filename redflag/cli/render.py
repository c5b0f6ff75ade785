"""Rich renderables for people at a terminal; the one place that knows colours.

Styles are named in THEME and looked up by level rank, never by level id: the rule file
owns the vocabulary. Colour is never the only signal: the level word is always printed.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.segment import Segment
from rich.text import Text
from rich.theme import Theme

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, RuleOutcome
from redflag.errors import visible
from redflag.formats.result_json import NOTICE, prose

THEME = Theme(
    {
        "level.0": "bold white on red",
        "level.1": "bold red",
        "level.2": "bold yellow",
        "level.3": "bold green",
        "level.other": "bold",
        "heading": "bold underline",
        "rule.id": "cyan",
        "label": "bold",
        "muted": "dim",
        "hint": "italic",
        "warning": "bold yellow",
        "value.true": "bold green",
        "value.false": "bold red",
        "value.unknown": "bold yellow",
        "status.fired": "bold red",
        "status.not_fired": "dim",
        "status.unknown": "bold yellow",
        "error": "bold red",
    }
)


class SafeConsole(Console):
    """A Console that shows text from files and records as text (issue 13).

    No markup: `[/]`, `[link=...]` or `[red on red]` in a rule title is printed as written.
    Every segment's text passes through `visible()`, so an escape sequence or a bidi override
    in a rule file, a case name or a record is shown, never obeyed. Styles are applied by rich
    after this, from Style objects, so our own colours are untouched.
    """

    def __init__(self, **options: object) -> None:
        super().__init__(markup=False, highlight=False, **options)  # type: ignore[arg-type]

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        """Render as rich does, with every control character in the text made visible."""
        for segment in super().render(renderable, options):
            text = segment.text
            if segment.control or text.isprintable():
                yield segment
            else:
                yield Segment(visible(text, newlines=True), segment.style, segment.control)

    def on_broken_pipe(self) -> None:
        """A reader that went away ends the command quietly through `guarded`, as for JSON
        output (rich's own default exits 1: `redflag test | true` seemed to fail; issue 13)."""
        self.quiet = True
        raise BrokenPipeError


def console(stderr: bool = False) -> Console:
    """A console with the theme; rich drops colour when piped and honours NO_COLOR."""
    return SafeConsole(theme=THEME, stderr=stderr, soft_wrap=False)


def level_style(rank: int, ruleset: CompiledRuleSet) -> str:
    """The theme style for a level rank (the last level always looks 'all clear')."""
    if rank == len(ruleset.levels) - 1:
        return "level.3"
    return f"level.{rank}" if rank < 3 else "level.other"


def level_badge(level_id: str, ruleset: CompiledRuleSet) -> Text:
    """The level word, upper case, in its style."""
    return Text(f" {level_id.upper()} ", style=level_style(ruleset.rank(level_id), ruleset))


def result_renderable(result: Result, ruleset: CompiledRuleSet) -> Group:
    """The whole human-readable result: banner, matched rules, could escalate, notice."""
    parts: list[Text | Panel | Group] = [_banner(result, ruleset)]
    if result.matched:
        parts.append(Text("\nMatched rules", style="heading"))
        parts.extend(_matched(o, ruleset) for o in result.matched)
    else:
        parts.append(Text("\nNo rule matched the answers given.", style="label"))
    if result.could_escalate:
        parts.append(
            Text(
                "\nCould escalate: unanswered questions that could raise the level", style="heading"
            )
        )
        parts.append(_escalations(result, ruleset))
    parts.append(_footer(ruleset))
    return Group(*parts)


def print_result(result: Result, ruleset: CompiledRuleSet) -> None:
    """Print a result to stdout."""
    console().print(result_renderable(result, ruleset))


def _banner(result: Result, ruleset: CompiledRuleSet) -> Panel:
    level = result.level
    style = level_style(result.rank, ruleset)
    title = Text.assemble((f" {level.label.upper()} ", style), f"  {level.timeframe}")
    body = Text(level.action)
    return Panel(body, title=title, title_align="left", border_style=style.replace(" on red", ""))


def _matched(outcome: RuleOutcome, ruleset: CompiledRuleSet) -> Group:
    rule = outcome.rule
    head = Text("\n")
    head.append_text(level_badge(rule.level, ruleset))
    head.append(" ")
    head.append(rule.title, style="label")
    head.append(f"  [{rule.id}]", style="rule.id")
    body = Text()
    body.append("What to do: ", style="label")
    body.append(prose(rule.advice) + "\n")
    body.append("Why: ", style="label")
    body.append(prose(rule.rationale) + "\n")
    body.append("Sources:", style="label")
    for key in rule.sources:
        src = ruleset.sources[key]
        body.append(
            f"\n  [{key}] {src.organisation} ({src.year}). {src.title}. {src.url}", style="muted"
        )
    return Group(head, Padding(body, (0, 0, 0, 3)))


def _escalations(result: Result, ruleset: CompiledRuleSet) -> Text:
    """Each unanswered question once, with the most urgent level it could lead to."""
    needed: dict[str, list[RuleOutcome]] = {}
    for outcome in result.could_escalate:
        for flag in outcome.missing:
            needed.setdefault(flag, []).append(outcome)
    order = list(ruleset.flags)
    ranked = sorted(
        needed.items(), key=lambda kv: (min(o.compiled.rank for o in kv[1]), order.index(kv[0]))
    )
    text = Text()
    for flag, outcomes in ranked:
        top = min(outcomes, key=lambda o: o.compiled.rank)
        text.append("\n")
        text.append_text(level_badge(top.rule.level, ruleset))
        text.append(f" {ruleset.flags[flag].question}")
        text.append(f"  ({flag})", style="muted")
    return text


def _footer(ruleset: CompiledRuleSet) -> Text:
    meta = ruleset.meta
    text = Text("\n")
    text.append(f"Rule set {meta.id} {meta.version}", style="muted")
    if meta.status != "approved":
        text.append(f" ({meta.status}: not signed off by a clinician)", style="warning")
    text.append("\n")
    text.append(NOTICE, style="hint")
    return text
