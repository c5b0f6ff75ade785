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

from redflag.cli.common import (
    DetailsOption,
    FailOnOption,
    FailOnWorstOption,
    JsonOption,
    RulesOption,
    fail_on_rank,
    fails,
    load,
)
from redflag.core.flags import NumericFlag
from redflag.errors import BadValueError, ExitCode, OutputError, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from redflag.core.compile import CompiledRuleSet
    from redflag.core.evaluate import Value
    from redflag.core.flags import CompiledFlag
    from redflag.core.interview import Plan

YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no"})
DONT_KNOW = frozenset({"d", "don't know", "dont know", "don\u2019t know", "dk", "skip"})
HELP = frozenset({"?", "help"})
BACK = frozenset({"b", "back"})
QUIT = frozenset({"q", "quit", "exit"})
_HELP_RULES = 6  # rules listed by '?': most urgent first, the rest counted


class _Reply(Enum):
    """An answer that is not a value."""

    BACK = "back"
    HELP = "help"
    DONT_KNOW = "don't know"


class _QuitError(Exception):
    """The person typed q, quit or exit: stop as Ctrl-C does (exit 130)."""


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
    clinician: Annotated[
        bool,
        typer.Option(
            "--clinician",
            help="Also ask the clinician flags (examination findings, observations, blood "
            "results); by default only the questions a patient can answer are asked.",
        ),
    ] = False,
    fail_on_worst: FailOnWorstOption = None,
    details: DetailsOption = False,
) -> None:
    """Interview: ask only the questions that can still change the level, then print the result.

    It opens with a checklist of the symptoms that can make it an emergency: type the
    numbers that apply (each is a yes), or n for none. Then answer y (yes), n (no) or d
    (don't know, also 'skip'); a number where one is asked.
    '?' explains a question and why it is asked, 'b' goes back one question. The interview
    stops as soon as no answer can change the level, and prints what 'redflag check' would
    print for the answers. q (quit, exit), Ctrl-C or Ctrl-D stops it (exit 130).

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
    worst_threshold = fail_on_rank(ruleset, fail_on_worst, "--fail-on-worst")
    if save is not None:
        _check_writable(save)

    from redflag.cli.render import THEME, SafeConsole, console

    # With --json, stdout carries the JSON only. A SafeConsole: rule-file text and typed
    # answers are shown as they are ("[x]" is not a style, an escape is not obeyed).
    talk = SafeConsole(theme=THEME, stderr=as_json)
    interview = _Interview(ruleset, talk, ask_all=ask_all, clinician=clinician)
    try:
        with interview:
            final = interview.run()
    except (KeyboardInterrupt, EOFError, _QuitError) as stop:
        why = " (you typed q)" if isinstance(stop, _QuitError) else ""
        console(stderr=True).print(
            f"\nInterview stopped{why}: no result, nothing saved.", style="warning"
        )
        raise typer.Exit(ExitCode.INTERRUPTED) from None

    result = final.result
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.result_json import result_json

        print_json(result_json(result, ruleset))
    else:
        talk.print()
        from redflag.cli.render import print_result

        print_result(result, ruleset, details=details)
    if save is not None:
        _save(save, interview)
        console(stderr=True).print(
            f"Answers saved to {save} (see them again: redflag check - < {save})", markup=False
        )
    if fails(result, threshold, worst_threshold):
        raise typer.Exit(ExitCode.NO)


class _Interview:
    """The prompt loop: answers so far, in the order given, and what to show."""

    def __init__(
        self, ruleset: CompiledRuleSet, talk: Console, *, ask_all: bool, clinician: bool = False
    ) -> None:
        self.ruleset = ruleset
        self.talk = talk
        self.ask_all = ask_all
        # flags of another audience are never asked: they stay unknown, as "don't know" does
        self.not_asked = frozenset(
            f.id for f in ruleset.flags.values() if f.audience != "patient" and not clinician
        )
        self.record: dict[str, Value] = {}
        self.dont_know: set[str] = set()
        self.history: list[str] = []
        # one encoding of the rule set for the whole interview (issue 11: <= 50 ms a question)
        from redflag.budget import TimeBudget
        from redflag.core.interview import PLAN_SECONDS, Interviewer

        self.interviewer = Interviewer(ruleset, lambda: TimeBudget(PLAN_SECONDS))

    def __enter__(self) -> _Interview:
        return self

    def __exit__(self, *exc: object) -> None:
        self.interviewer.close()

    def plan(self) -> Plan:
        return self.interviewer.plan(
            self.record,
            frozenset(self.dont_know),
            ask_all=self.ask_all,
            not_asked=self.not_asked,
        )

    def run(self) -> Plan:
        self._intro()
        shown_rank = self.plan().result.rank
        if not self.ask_all:
            self._checklist()
        current = self.plan()
        if current.result.rank != shown_rank:
            shown_rank = current.result.rank
            self._show_level(current)
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
        self._outro(current)
        return current

    def _intro(self) -> None:
        n = len(self.ruleset.flags) - len(self.not_asked)
        which = (
            f"All {n} questions are asked, in the rule file's order."
            if self.ask_all
            else f"Only the questions that can still change the result are asked ({n} at most)."
        )
        self.talk.print(
            f"{which}\nAnswer y (yes), n (no), d (don't know); ? explains, b goes back, q stops.",
            style="muted",
        )

    def _checklist(self) -> None:
        """Let the person say first what applies: each tick is a yes (issue 12).

        Unticked flags stay unknown, so they are still asked when they matter: silence on a
        list is not taken as "no".
        """
        from rich.text import Text

        from redflag.core.interview import checklist

        flags = checklist(self.ruleset)
        if not flags:
            return
        self.talk.print(
            Text("\nFirst: is any of these true for you now? ", style="heading"),
        )
        for number, flag in enumerate(flags, start=1):
            self.talk.print(f"{number:>3}. {self.ruleset.flags[flag].question}")
        prompt = Text.assemble(("  (numbers such as 2 5, or n for none; q quit)", "muted"), " > ")
        while True:
            ticked = self._ticks(self.talk.input(prompt).strip().lower(), flags)
            if ticked is not None:
                break
        for flag in ticked:
            self.record[flag] = True
        if ticked:
            self.talk.print("Noted as yes: " + ", ".join(ticked), style="muted")

    def _ticks(self, text: str, flags: tuple[str, ...]) -> list[str] | None:
        """The flags a checklist reply ticks, or None after saying what to type instead."""
        if text in QUIT:
            raise _QuitError
        if text in NO or text in {"", "none", "0"}:
            return []
        ticked: list[str] = []
        bad: list[str] = []
        for word in text.replace(",", " ").split():
            if word.isdigit() and 1 <= int(word) <= len(flags):
                flag = flags[int(word) - 1]
            elif word in flags:
                flag = word
            else:
                bad.append(word)
                continue
            if flag not in ticked:
                ticked.append(flag)
        if bad:
            self.talk.print(
                f"Not on the list: {' '.join(bad)}. Type numbers from 1 to {len(flags)} "
                "separated by spaces, or n for none.",
                style="hint",
            )
            return None
        return ticked

    def _outro(self, final: Plan) -> None:
        result = final.result
        open_flags = {f for o in result.could_escalate for f in o.missing}
        if open_flags & self.dont_know:
            # Only "don't know" answers are left that could raise the level: never say that
            # no answer can change the result, say what to do about not knowing (issue 12).
            self._not_knowing(final)
        elif open_flags & self.not_asked:
            self.talk.print(
                "\nNo further answer of yours can change this result; findings only a "
                "clinician can give still could (redflag ask --clinician asks for them).",
                style="label",
            )
        elif len(set(self.record) | self.dont_know | self.not_asked) < len(self.ruleset.flags):
            self.talk.print("\nNo further answer can change this result.", style="label")
        else:
            self.talk.print("\nAll questions answered.", style="label")

    def _not_knowing(self, final: Plan) -> None:
        from redflag.core.unanswered import open_questions
        from redflag.formats.result_json import prose

        result = final.result
        worst = self.ruleset.levels[result.worst_rank]
        questions = open_questions(self.ruleset, result)
        unknown = [q.flag for q in questions if q.flag in self.dont_know]
        at_worst = [q.flag for q in questions if q.flag in unknown and q.rank == result.worst_rank]
        unknown = at_worst or unknown
        article = "an" if worst.label[:1].lower() in "aeiou" else "a"
        self.talk.print(
            f"\nYou did not know the answer to a question that could make this "
            f"{article} {worst.label.upper()}:",
            style="label",
        )
        for flag in unknown:
            self.talk.print(f"  - {self.ruleset.flags[flag].question}")
        self.talk.print(
            f"If you cannot tell, treat this as {article} {worst.label.upper()}: "
            + prose(worst.action),
            style="label",
        )

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

    def _parse(self, flag: CompiledFlag, text: str) -> Value | _Reply | None:
        """The answer, or None after telling the person what to type instead."""
        if text in HELP:
            return _Reply.HELP
        if text in BACK:
            return _Reply.BACK
        if text in DONT_KNOW:
            return _Reply.DONT_KNOW
        if text in QUIT:
            raise _QuitError
        if not isinstance(flag, NumericFlag):
            if text in YES:
                return True
            if text in NO:
                return False
            self.talk.print(
                "Please answer y (yes), n (no) or d (don't know); ? for help, b to go back, "
                "q to stop.",
                style="hint",
            )
            return None
        return self._number(flag, text)

    def _number(self, flag: NumericFlag, text: str) -> Value | None:
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

    def _explain(self, flag: CompiledFlag, current: Plan) -> None:
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


def _choices(flag: CompiledFlag) -> Text:
    from rich.text import Text

    if isinstance(flag, NumericFlag):
        return Text.assemble(
            ("  (a number from " + _bounds(flag) + "; d, ?, b, q)", "muted"), " > "
        )
    return Text.assemble(("  (y/n/d, ? help, b back, q quit)", "muted"), " > ")


def _bounds(flag: NumericFlag) -> str:
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
