"""The README is part of the product: commands, exit codes and the test command are checked."""

import re
from pathlib import Path

import typer.main
from typer.core import TyperGroup

from redflag.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def all_commands():
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    ctx = typer.Context(group)  # the `rules` group is built when asked for (issue 17)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub, cmd in subcommands.items():
                yield f"{name} {sub}", cmd
        else:
            yield name, command


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    for name, command in all_commands():
        assert command.help and "Example:" in command.help, name
        assert f"redflag {name}" in README, name


def test_quick_start_test_command_is_what_ci_runs():
    block = README.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line and not line.startswith("#")]
    assert len(commands) == 2
    install_and_check, install_and_test = commands
    assert "redflag check" in install_and_check
    assert install_and_test in (ROOT / ".ci" / "run").read_text()


def test_exit_codes_table_is_the_exit_code_enum_and_every_error_uses_it():
    from redflag import errors

    table = README.split("## Exit codes and errors", 1)[1]
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    classes = {getattr(errors, n).exit_code for n in dir(errors) if n.endswith("Error")}
    assert classes <= set(errors.ExitCode)
    assert codes == {int(code) for code in errors.ExitCode}  # the one table, documented


def test_every_error_code_the_catalogues_expect_is_in_the_readme_table():
    import tomllib

    table = README.split("## Exit codes and errors", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z][a-z0-9-]+)`", table))
    data = ROOT / "tests" / "data"
    expected = {
        c["code"] for c in tomllib.loads((data / "hostile" / "records.toml").read_text())["case"]
    }
    for path in (data / "bad_rules").glob("*.toml"):
        for line in path.read_text().splitlines():
            if line.startswith("# expect:"):
                expected.add(line.rsplit(" ", 1)[1])
    assert expected - documented == set()


def test_cli_reference_is_generated_from_the_help_and_up_to_date(tmp_path):
    import subprocess
    import sys

    fresh = tmp_path / "cli-reference.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "redflag.cli",
            "utils",
            "docs",
            "--name",
            "redflag",
            "--output",
            str(fresh),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    committed = ROOT / "docs" / "cli-reference.md"
    assert fresh.read_text() == committed.read_text(), (
        "docs/cli-reference.md is stale: regenerate it with "
        "python -m typer redflag.cli utils docs --name redflag --output docs/cli-reference.md"
    )
