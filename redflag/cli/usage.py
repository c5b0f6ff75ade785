"""Option-parser errors in redflag's one error format, and options that may go anywhere on the line.

Click prints its own "Usage: ... Error: No such option" block; issue 12 asks for the format
of every other error (`where: error[usage]: what` then `hint:`), so the root command runs
click in non-standalone mode and renders click's UsageError through errors.UsageError.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperGroup

try:  # typer 0.2x carries its own copy of click: its parser raises these classes
    from typer._click import exceptions as click
except ImportError:  # older typer runs on click itself
    from click import exceptions as click  # type: ignore[no-redef]

from redflag.cli.handler import State, guarded, report

if TYPE_CHECKING:
    from typer._click import Command, Context
from redflag.errors import Location, UsageError

DEBUG = "--debug"


class RedflagGroup(TyperGroup):
    """The root command: click's usage errors as error[usage] with a hint; command groups
    in `lazy_commands` are built only when a command line (or help, or completion) needs
    them."""

    lazy_commands: ClassVar[dict[str, Callable[[], Command]]] = {}

    def list_commands(self, ctx: Context) -> list[str]:
        names = super().list_commands(ctx)
        return names + [name for name in self.lazy_commands if name not in names]

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] not in self.commands:  # a lazy group, or a typo: its
            for name in self.lazy_commands:  # did-you-mean needs every name
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        build = self.lazy_commands.get(cmd_name)
        if build is not None and cmd_name not in self.commands:
            self.add_command(build(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Context) -> Any:
        """Run the command the line names (a `rules` one too) through the one handler."""
        return guarded(lambda: super(RedflagGroup, self).invoke(ctx))

    def main(  # type: ignore[override]  # click's signature, with the extras forwarded
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        State.from_environment()
        words = take_global_options(list(sys.argv[1:] if args is None else args))
        # "redflag", also under `python -m redflag`: messages name the command people type.
        name = prog_name or "redflag"
        try:
            code = super().main(words, name, complete_var, standalone_mode=False, **extra)
        except click.NoArgsIsHelpError as err:
            err.show()  # `redflag` alone: the help, as before
            code = err.exit_code
        except click.UsageError as err:
            report(usage_error(err))
            code = err.exit_code
        except click.ClickException as err:  # e.g. a file option that cannot be opened
            report(UsageError(err.format_message()))
            code = err.exit_code
        except typer.Abort:
            print("Aborted!", file=sys.stderr)  # as click says it
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


REQUIRE_APPROVED = "--require-approved"
_VALUED = {"--trust": "trust", "--trust-key": "key"}


def take_global_options(words: list[str]) -> list[str]:
    """Remove --debug, --require-approved, --trust FILE and --trust-key FILE wherever they are
    (before a `--`), setting State: options that apply to every command."""
    end = words.index("--") if "--" in words else len(words)
    head: list[str] = []
    i = 0
    while i < end:
        word = words[i]
        name, eq, value = word.partition("=")
        if word == "--json":
            State.json_errors = True
            head.append(word)
        elif word == DEBUG:
            State.debug = True
        elif word == REQUIRE_APPROVED:
            State.require_approved = True
        elif name in _VALUED and (eq or i + 1 < end):
            if not eq:
                i += 1
                value = words[i]
            setattr(State, _VALUED[name], value)
        else:
            head.append(word)
        i += 1
    return head + words[end:]


def usage_error(err: click.UsageError) -> UsageError:
    """Click's usage error in redflag's format: where, what, and a hint."""
    path = err.ctx.command_path if err.ctx is not None else "redflag"
    where = Location(path)
    help_hint = f"run '{path} --help' to see what it accepts"
    if isinstance(err, click.NoSuchOption):
        close = sorted(err.possibilities or ())
        if close:
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? Or {help_hint}"
        else:
            hint = help_hint
        return UsageError(f"no such option {err.option_name!r}", location=where, hint=hint)
    message = err.format_message()
    message = message[:1].lower() + message[1:]
    if message.startswith("no such command"):
        message, _, suggestion = message.partition(". Did you mean ")
        if suggestion:
            return UsageError(message, location=where, hint=f"did you mean {suggestion}")
    return UsageError(message.rstrip("."), location=where, hint=help_hint)
