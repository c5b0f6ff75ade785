"""Rich renderables for people at a terminal; the one place that knows colours.

Styles are named in THEME and looked up by level rank, never by level id: the rule file
owns the vocabulary. Colour is never the only signal: the level word is always printed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, RuleOutcome, action
from redflag.core.unanswered import OpenQuestion, open_questions
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


# How many unanswered questions the headline of an incomplete result names (issue 12).
HEADLINE_QUESTIONS = 2
DETAILS_HINT = "run again with --details to see them"


def result_renderable(
    result: Result, ruleset: CompiledRuleSet, *, details: bool = False, more: str = DETAILS_HINT
) -> Group:
    """The human-readable result: headline, matched rules, open questions, notice.

    By default it fits one 80x24 screen (issue 12): the level and its action, or, while
    unanswered questions could still raise it, the worst case they could lead to and the
    most urgent of them; one entry per matched rule; a line naming `more` (how to get the
    details); the notice. With `details`, every rule's rationale and sources and every
    open question.
    """
    result, clinical = _patient_view(result, ruleset, details)
    questions = open_questions(ruleset, result)
    parts: list[RenderableType] = []
    if result.is_complete:
        parts.append(_banner(result, ruleset))
    else:
        rest = "every one is listed below" if details else more
        parts.append(_worst_case_banner(result, ruleset, questions, rest))
        parts.append(_so_far(result, ruleset))
    if details:
        if result.matched:
            parts.append(Text(f"\nMatched rules ({len(result.matched)})", style="heading"))
            parts.extend(_matched(o, ruleset) for o in result.matched)
        else:
            parts.append(Text("\nNo rule matched the answers given.", style="label"))
        if questions:
            parts.append(
                Text(
                    f"\nCould escalate: {len(questions)} unanswered questions could raise "
                    "the level",
                    style="heading",
                )
            )
            parts.append(_escalations(questions, ruleset))
    elif result.is_complete:
        if result.matched:
            parts.append(Text(f"\nMatched rules ({len(result.matched)})", style="heading"))
            parts.append(_matched_compact(result, ruleset))
        else:
            parts.append(Text("\nNo rule matched the answers given.", style="label"))
        parts.extend(_sources_line(result, more))
    elif result.matched:
        parts.append(_matched_titles(result, ruleset))
        parts.extend(_sources_line(result, more))
    if clinical:
        parts.append(Text(f"A clinician's findings could still raise it: {more}.", style="muted"))
    parts.append(_footer(ruleset))
    return Group(*parts)


def _patient_can_decide(outcome: RuleOutcome, result: Result, ruleset: CompiledRuleSet) -> bool:
    """Can answers of the person alone make this could-escalate rule match? Yes to every
    unanswered yes/no patient question, clinician findings left unknown; a numeric patient
    question left open counts as able to (erring towards showing the rule)."""
    from redflag.core.closures import truth_function
    from redflag.core.implication import close, contradiction
    from redflag.core.logic import Truth

    mine = [f for f in outcome.missing if ruleset.flags[f].audience == "patient"]
    if any(f in ruleset.numeric_flags for f in mine):
        return True
    record = {**result.record, **dict.fromkeys(mine, True)}
    if contradiction(record, ruleset.implications) is not None:
        return True  # cannot tell cheaply: show it
    closed = close(record, ruleset.implications)
    return truth_function(outcome.compiled.condition, ruleset)(closed) is Truth.TRUE


def _patient_view(
    result: Result, ruleset: CompiledRuleSet, details: bool
) -> tuple[Result, tuple[str, ...]]:
    """The result as a person at a terminal reads it, and the clinician-only open flags.

    A could-escalate rule whose unanswered flags are all clinician findings (a heart rate,
    a sensory level) cannot be decided by the person: its level is not the headline's
    'not ruled out' (that would send everyone who answered 'no' throughout to A&E over an
    examination they cannot do); it is named in one line instead, and shown in full with
    --details and in the JSON result, which keep every could-escalate rule.
    """
    if details:
        return result, ()
    mine = tuple(o for o in result.could_escalate if _patient_can_decide(o, result, ruleset))
    if len(mine) == len(result.could_escalate):
        return result, ()
    theirs = {f for o in result.could_escalate if o not in mine for f in o.missing}
    clinical = tuple(
        f for f in ruleset.flags if f in theirs and ruleset.flags[f].audience != "patient"
    )
    return dataclasses.replace(result, could_escalate=mine), clinical


def print_result(
    result: Result, ruleset: CompiledRuleSet, *, details: bool = False, more: str = DETAILS_HINT
) -> None:
    """Print a result to stdout (see result_renderable)."""
    # crop=False: a source URL longer than the screen is printed whole, never cut (issue 12)
    console().print(result_renderable(result, ruleset, details=details, more=more), crop=False)


def _level_action(result: Result, ruleset: CompiledRuleSet) -> str:
    """The level's action, or its no-symptom variant (core.evaluate.action)."""
    return prose(action(result, ruleset))


def _banner(result: Result, ruleset: CompiledRuleSet) -> Panel:
    level = result.level
    style = level_style(result.rank, ruleset)
    title = Text.assemble((f" {level.label.upper()} ", style), f"  {level.timeframe}")
    body = Text(_level_action(result, ruleset))
    return Panel(body, title=title, title_align="left", border_style=style.replace(" on red", ""))


def _worst_case_banner(
    result: Result, ruleset: CompiledRuleSet, questions: tuple[OpenQuestion, ...], more: str
) -> Panel:
    """The headline while unanswered questions could still raise the level: the worst case.

    Never the reassuring action of the level proven so far (issue 12): the worst level the
    unanswered questions could lead to, the most decisive of them, and what to do.
    """
    worst = ruleset.levels[result.worst_rank]
    style = level_style(result.worst_rank, ruleset)
    title = Text.assemble((f" {worst.label.upper()} NOT RULED OUT ", style), f"  {worst.timeframe}")
    shown = questions[:HEADLINE_QUESTIONS]
    worst_word = f"{_article(worst.label)} {worst.label.upper()}"
    if all(q.if_yes == result.worst_rank for q in shown):
        lead = f"A yes to any question below makes it {worst_word}."
        when = "If any is yes, or you cannot tell:"
    else:  # only together with other answers: say so, and do not claim one yes is enough
        lead = f"With other answers, the questions below could make it {worst_word}."
        when = "Until they are answered, if any is yes or you are unsure:"
    listing = Table.grid(padding=(0, 1))
    listing.add_column(width=3, justify="right")
    listing.add_column()
    for q in shown:
        line = Text(ruleset.flags[q.flag].question)
        line.append(f"  ({q.flag})", style="muted")
        listing.add_row("-", line)
    if len(questions) > len(shown):
        rest = len(questions) - len(shown)
        listing.add_row("", Text(f"and {rest} more: {more}", style="muted"))
    head = Text(lead + " ")
    head.append(when, style="label")
    head.append(" " + prose(worst.action))
    how = Text("To rule it out, answer them: redflag ask, or add NAME=no to the command.")
    return Panel(
        Group(head, listing, how),
        title=title,
        title_align="left",
        border_style=style.replace(" on red", ""),
    )


def _so_far(result: Result, ruleset: CompiledRuleSet) -> Text:
    """The level the answers given prove, for when every open question is answered no."""
    lead = "So far" if result.matched else "If every answer is no"
    text = Text(f"{lead}: ", style="label")
    text.append_text(level_badge(result.level.id, ruleset))
    text.append(f" {result.level.timeframe}. ")
    text.append(_level_action(result, ruleset))
    return text


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _matched_compact(result: Result, ruleset: CompiledRuleSet) -> Group:
    """One entry per matched rule: its title, and the advice of the most urgent ones."""
    lines: list[RenderableType] = []
    hidden = 0
    for outcome in result.matched:
        head = level_badge(outcome.rule.level, ruleset)
        head.append(f" {outcome.rule.title}", style="label")
        lines.append(head)
        if outcome.compiled.rank == result.rank:
            lines.append(Padding(Text(prose(outcome.rule.advice)), (0, 0, 0, 3)))
        else:
            hidden += 1
    if hidden:
        note = f"({hidden} less urgent: the action above comes first)"
        lines.append(Padding(Text(note, style="muted"), (0, 0, 0, 3)))
    return Group(*lines)


def _matched_titles(result: Result, ruleset: CompiledRuleSet) -> Text:
    """The matched rules on as few lines as they take: below a worst-case headline."""
    text = Text("Matched: ", style="label")
    for i, outcome in enumerate(result.matched):
        if i:
            text.append("; ")
        text.append_text(level_badge(outcome.rule.level, ruleset))
        text.append(f" {outcome.rule.title}")
    return text


def _sources_line(result: Result, more: str) -> list[Text]:
    sources = {key for o in result.matched for key in o.rule.sources}
    if not sources:
        return []
    return [Text(f"\nWhy each rule matched, and its {len(sources)} sources: {more}.", style="hint")]


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
    lines: list[RenderableType] = [head, Padding(body, (0, 0, 0, 3))]
    for key in rule.sources:
        src = ruleset.sources[key]
        cite = Text(f"[{key}] {src.organisation} ({src.year}). {src.title}.", style="muted")
        # The URL on a line of its own, never folded by us (a cut URL cannot be copied), and a
        # terminal hyperlink where the terminal supports them (issue 12).
        url = Text(" " * 7, no_wrap=True, overflow="ignore")
        url.append(src.url, style=Style(dim=True, link=src.url))
        lines.extend((Padding(cite, (0, 0, 0, 5)), url))
    return Group(*lines)


def _escalations(questions: tuple[OpenQuestion, ...], ruleset: CompiledRuleSet) -> Text:
    """Each unanswered question once, with the most urgent level it could lead to."""
    text = Text()
    for q in questions:
        text.append("\n")
        text.append_text(level_badge(ruleset.levels[q.rank].id, ruleset))
        text.append(f" {ruleset.flags[q.flag].question}")
        text.append(f"  ({q.flag})", style="muted")
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
