"""The command line: `app` and its commands, one module each; `main` is the entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
import typer.main

from redflag import __version__
from redflag.cli import ask, batch, check, diff, explain, serve, sql, test
from redflag.cli.handler import State
from redflag.cli.usage import RedflagGroup

if TYPE_CHECKING:
    from typer._click import Command

app = typer.Typer(
    name="redflag",
    cls=RedflagGroup,
    help=(
        "Red-flag checker for spinal cord compression and back pain. "
        "Decision support, not a diagnosis."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"redflag {__version__}")
        raise typer.Exit()


# Shown in --help only: usage.take_global_options takes these from anywhere on the line into State
# before click parses it, so that every command that evaluates obeys them (issue 17).
@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show a traceback on internal errors (anywhere on the line)."),
    ] = False,
    require_approved: Annotated[
        bool,
        typer.Option(
            "--require-approved",
            help="Refuse a rule set that is draft, unsigned or fails verification (exit 4); "
            "also REDFLAG_REQUIRE_APPROVED=1. Anywhere on the line.",
        ),
    ] = False,
    trust: Annotated[
        str | None,
        typer.Option(
            "--trust",
            metavar="FILE",
            help="Trust file for --require-approved and rules verify (also REDFLAG_TRUST).",
        ),
    ] = None,
    trust_key: Annotated[
        str | None,
        typer.Option(
            "--trust-key",
            metavar="PUBLIC_KEY",
            help="One minisign public key to trust instead of a trust file.",
        ),
    ] = None,
) -> None:
    State.debug = State.debug or debug


app.command("check")(check.check)
app.command("batch")(batch.batch)
app.command("ask")(ask.ask)
app.command("test")(test.test)
app.command("explain")(explain.explain)
app.command("diff")(diff.diff)
app.command("sql")(sql.sql)
app.command("serve")(serve.serve)


def _rules_group() -> Command:
    # Typer builds every command's parameters from its signature on every run (about 2 ms
    # each): the `rules` group, nine commands, is built only when a command line names it,
    # so `check` starts no slower for them (issue 17).
    from redflag.cli import rules

    return typer.main.get_command(rules.app)


RedflagGroup.lazy_commands = {"rules": _rules_group}


def main() -> None:
    """Run the command line (the `redflag` console script)."""
    from redflag.cli.handler import run_app

    run_app(app)
