"""The command line: `app` and its commands, one module each; `main` is the entry point."""

from __future__ import annotations

from typing import Annotated

import typer

from redflag import __version__
from redflag.cli import ask, batch, check, diff, explain, rules, sql, test
from redflag.cli.handler import State
from redflag.cli.usage import RedflagGroup

app = typer.Typer(
    name="redflag",
    cls=RedflagGroup,
    help=(
        "Red-flag checker for spinal cord compression and back pain. "
        "Decision support, not a diagnosis."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"redflag {__version__}")
        raise typer.Exit()


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
) -> None:
    State.debug = State.debug or debug


app.command("check")(check.check)
app.command("batch")(batch.batch)
app.command("ask")(ask.ask)
app.command("test")(test.test)
app.command("explain")(explain.explain)
app.command("diff")(diff.diff)
app.command("sql")(sql.sql)
app.add_typer(rules.app, name="rules")


def main() -> None:
    """Run the command line (the `redflag` console script)."""
    from redflag.cli.handler import run_app

    run_app(app)
