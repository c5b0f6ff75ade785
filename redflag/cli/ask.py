"""`redflag ask`: an interview at a terminal that asks only the questions that matter.

The choice of question lives in core/interview.py; this module prompts, reads answers,
shows progress and the provisional level, and prints the result as `redflag check` would.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from redflag.cli.common import FailOnOption, JsonOption, RulesOption, fail_on_rank, load
from redflag.cli.handler import EXIT_INTERRUPTED, guarded
from redflag.errors import BadValueError, OutputError, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from redflag.core.compile import CompiledRuleSet
    from redflag.core.evaluate import Value
    from redflag.core.interview import Plan
    from redflag.core.model import Flag

YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no"})
DONT_KNOW = frozenset({"d", "don't know", "dont know", "don\u2019t know", "dk", "skip"})
HELP = frozenset({"?", "help"})
BACK = frozenset({"b", "back"})
_HELP_RULES = 6  # rules listed by '?': most urgent first, the rest counted


class _Reply(Enum):
    """An answer that is not a value."""

    BACK = "back"
    HELP = "help"
    DONT_KNOW = "don't know"


@guarded
def ask(
    rules: RulesOption = None,
    as_json: JsonOption = False,
    fail_on: FailOnOption = None,
    ask_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Ask every question in the rule file's order, not only those that matter."
        ),
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            metavar="FILE",
            help="Write the answers to FILE as a JSON record (what 'check -' reads).",
            show_default=False,
        ),
    ] = None,
    no_tty_check: Annotated[
        bool,
        typer.Option(
            "--no-tty-check", help="Read answers from stdin even if it is not a terminal."
        ),
    ] = False,
) -> None:
    """Interview: ask only the questions that can still change the level, then print the result.

    Answer y (yes), n (no) or d (don't know, also 'skip'); a number where one is asked.
    '?' explains a question and why it is asked, 'b' goes back one question. The interview
    stops as soon as no answer can change the level, and prints what 'redflag check' would
    print for the answers. Ctrl-C or Ctrl-D stops it (exit 130).

    Example:

        redflag ask

        redflag ask --save answers.json; redflag check - < answers.json
    """
    if not no_tty_check and (sys.stdin is None or not sys.stdin.isatty()):
        raise UsageError(
            "'redflag ask' is an interview and needs a terminal, but stdin is not one",
            hint="for scripts, give the answers as JSON: "
            "echo '{\"back_pain\": true}' | redflag check -   "
            "(or pass --no-tty-check to answer from a pipe)",
        )
    ruleset = load(rules)
    threshold = fail_on_rank(ruleset, fail_on)
    if save is not None:
        _check_writable(save)

    from redflag.cli.render import THEME, SafeConsole, console

    # With --json, stdout carries the JSON only. A SafeConsole: rule-file text and typed
    # answers are shown as they are ("[x]" is not a style, an escape is not obeyed).
    talk = SafeConsole(theme=THEME, stderr=as_json)
    interview = _Interview(ruleset, talk, ask_all=ask_all)
    try:
        final = interview.run()
    except (KeyboardInterrupt, EOFError):
        console(stderr=True).print(
            "\nInterview stopped: no result, nothing saved.", style="warning"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None

    result = final.result
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.result_json import result_json

        print_json(result_json(result, ruleset))
    else:
        talk.print()
        from redflag.cli.render import print_result

        print_result(result, ruleset)
    if save is not None:
        _save(save, interview)
        console(stderr=True).print(
            f"Answers saved to {save} (see them again: redflag check - < {save})", markup=False
        )
    if threshold is not None and result.rank <= threshold:
        raise typer.Exit(1)


class _Interview:
    """The prompt loop: answers so far, in the order given, and what to show."""

    def __init__(self, ruleset: CompiledRuleSet, talk: Console, *, ask_all: bool) -> None:
        self.ruleset = ruleset
        self.talk = talk
        self.ask_all = ask_all
        self.record: dict[str, Value] = {}
        self.dont_know: set[str] = set()
        self.history: list[str] = []

    def plan(self) -> Plan:
        from redflag.core.interview import plan

        return plan(self.ruleset, self.record, frozenset(self.dont_know), ask_all=self.ask_all)

    def run(self) -> Plan:
        self._intro()
        current = self.plan()
        shown_rank = current.result.rank
        while current.next_flag is not None:
            answer = self._ask(current.next_flag, current)
            if answer is _Reply.BACK:
                self._undo()
            else:
                self._record(current.next_flag, answer)
            current = self.plan()
            if current.result.rank != shown_rank:
                shown_rank = current.result.rank
                self._show_level(current)
        self._outro()
        return current

    def _intro(self) -> None:
        n = len(self.ruleset.flags)
        which = (
            f"All {n} questions are asked, in the rule file's order."
            if self.ask_all
            else f"Only the questions that can still change the result are asked ({n} at most)."
        )
        self.talk.print(
            f"{which}\nAnswer y (yes), n (no), d (don't know); ? explains, b goes back, "
            "Ctrl-C stops.",
            style="muted",
        )

    def _outro(self) -> None:
        asked = set(self.record) | self.dont_know
        if len(asked) < len(self.ruleset.flags):
            self.talk.print("\nNo further answer can change this result.", style="label")
        else:
            self.talk.print("\nAll questions answered.", style="label")

    def _ask(self, flag_id: str, current: Plan) -> Value | _Reply:
        from rich.text import Text

        flag = self.ruleset.flags[flag_id]
        number = len(self.history) + 1
        more = current.left - 1
        progress = f"at most {more} more" if more > 0 else "the last one"
        self.talk.print(
            Text.assemble("\n", (f"Question {number}", "heading"), (f" ({progress})", "muted"))
        )
        self.talk.print(flag.question, style="label")
        while True:
            text = self.talk.input(_choices(flag)).strip().lower()
            answer = self._parse(flag, text)
            if answer is _Reply.HELP:
                self._explain(flag, current)
            elif answer is _Reply.BACK and not self.history:
                self.talk.print("This is the first question: there is nothing to go back to.")
            elif answer is not None:
                return answer

    def _parse(self, flag: Flag, text: str) -> Value | _Reply | None:
        """The answer, or None after telling the person what to type instead."""
        if text in HELP:
            return _Reply.HELP
        if text in BACK:
            return _Reply.BACK
        if text in DONT_KNOW:
            return _Reply.DONT_KNOW
        if not flag.is_numeric:
            if text in YES:
                return True
            if text in NO:
                return False
            self.talk.print(
                "Please answer y (yes), n (no) or d (don't know); ? for help, b to go back.",
                style="hint",
            )
            return None
        return self._number(flag, text)

    def _number(self, flag: Flag, text: str) -> Value | None:
        from redflag.core.record import check_value

        value: object = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        try:
            return check_value(flag, value)
        except BadValueError as err:
            self.talk.print(
                f"{err.message}. Type a number from {_bounds(flag)}, or d if you don't know.",
                style="error",
            )
            return None

    def _explain(self, flag: Flag, current: Plan) -> None:
        from rich.text import Text

        from redflag.cli.render import level_badge
        from redflag.formats.result_json import prose

        if flag.help:
            self.talk.print(prose(flag.help), style="hint")
        needed = current.needed_by.get(flag.id, ())
        if not needed:
            self.talk.print("This answer cannot change the level now (asked because of --all).")
            return
        self.talk.print("Asked because the answer can decide:")
        for outcome in needed[:_HELP_RULES]:
            line = Text("  ")
            line.append_text(level_badge(outcome.rule.level, self.ruleset))
            line.append(f" {outcome.rule.title}")
            line.append(f"  [{outcome.rule.id}]", style="rule.id")
            self.talk.print(line)
        if len(needed) > _HELP_RULES:
            self.talk.print(f"  and {len(needed) - _HELP_RULES} less urgent or similar rules")
        self.talk.print(flag.question, style="label")

    def _record(self, flag_id: str, answer: Value | _Reply) -> None:
        if answer is _Reply.DONT_KNOW:
            self.dont_know.add(flag_id)
        elif not isinstance(answer, _Reply):
            self.record[flag_id] = answer
        self.history.append(flag_id)

    def _undo(self) -> None:
        flag_id = self.history.pop()
        self.record.pop(flag_id, None)
        self.dont_know.discard(flag_id)
        self.talk.print("Going back one question.", style="muted")

    def _show_level(self, current: Plan) -> None:
        from rich.text import Text

        from redflag.cli.render import level_badge

        result = current.result
        line = Text("\nProvisional level: ", style="label")
        line.append_text(level_badge(result.level.id, self.ruleset))
        line.append(f" {result.level.timeframe}")
        self.talk.print(line)
        for outcome in result.matched[:1]:
            self.talk.print(f"  because: {outcome.rule.title}", style="muted")
        if result.rank == 0:  # the most urgent level: say what to do at once (issue 4)
            self.talk.print(result.level.action, style="label")


def _choices(flag: Flag) -> Text:
    from rich.text import Text

    if flag.is_numeric:
        return Text.assemble(("  (a number from " + _bounds(flag) + "; d, ?, b)", "muted"), " > ")
    return Text.assemble(("  (y/n/d, ? help, b back)", "muted"), " > ")


def _bounds(flag: Flag) -> str:
    unit = f" {flag.unit}" if flag.unit else ""
    return f"{flag.min:g} to {flag.max:g}{unit}"


def _check_writable(path: Path) -> None:
    """Refuse a --save path that cannot be written before the interview, not after it."""
    parent = path.parent
    if path.is_dir() or not parent.is_dir():
        raise UsageError(
            f"--save {path}: cannot write there "
            + ("(it is a directory)" if path.is_dir() else f"(no directory {parent})"),
            hint="give a file path in an existing directory",
        )


def _save(path: Path, interview: _Interview) -> None:
    from redflag.core.interview import answers_record

    data = answers_record(interview.ruleset, interview.record, frozenset(interview.dont_know))
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as err:  # a full disk is the output failing (74), as for every command
        raise OutputError(
            f"--save {path}: cannot write the answers: {err.strerror}",
            hint="the result above is complete; run the interview again with another --save path",
        ) from None
