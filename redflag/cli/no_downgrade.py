"""`redflag rules no-downgrade FILE...`: each rule file against its version in git (a commit,
HEAD by default), for the pre-commit hook and CI of a repository of rules (issue 17)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from redflag.cli.common import load
from redflag.errors import ExitCode, UsageError


def no_downgrade(
    paths: Annotated[list[Path], typer.Argument(help="Rule files (as pre-commit passes them).")],
    against: Annotated[
        str,
        typer.Option("--against", metavar="REV", help="The git revision to compare with."),
    ] = "HEAD",
    cases: Annotated[
        list[Path] | None,
        typer.Option("--cases", help="Case files or directories to compare levels over too."),
    ] = None,
    exhaustive: Annotated[
        bool,
        typer.Option(
            "--exhaustive/--no-exhaustive",
            help="Prove over every possible record (the default), or compare the cases only.",
        ),
    ] = True,
) -> None:
    """Refuse a rule file whose version went down, or under which a record gets a less
    urgent level than under the same file at REV (git). A file new since REV passes.

    Exit 1 on a downgrade, 0 otherwise.

    Example:

        redflag rules no-downgrade rules.toml --against origin/main --cases tests/cases/
    """
    from redflag.cli.diff import compare
    from redflag.formats.approval import version_key
    from redflag.formats.rulefile import ruleset_from_bytes

    failed = False
    for path in paths:
        old_bytes = _at_revision(path, against)
        if old_bytes is None:
            print(f"{path}: new since {against}: nothing to compare")
            continue
        before = ruleset_from_bytes(old_bytes, f"{path} at {against}")
        after = load(path)
        old_v, new_v = before.meta.version, after.meta.version
        old_key, new_key = version_key(old_v), version_key(new_v)
        if old_key is not None and new_key is not None and new_key < old_key:
            print(f"{path}: the version went down: {old_v} at {against}, {new_v} now")
            failed = True
        elif old_v == new_v and before.sha256 != after.sha256:
            print(
                f"{path}: warning: the rules changed but the version is still {new_v}",
                file=sys.stderr,
            )
        if compare(before, after, cases, exhaustive, as_json=False):
            print(f"{path}: DOWNGRADE against {against}: see above")
            failed = True
        else:
            print(f"{path}: no downgrade against {against} ({old_v} -> {new_v})")
    if failed:
        raise typer.Exit(ExitCode.NO)


def _at_revision(path: Path, rev: str) -> bytes | None:
    """The file's bytes at `rev`, or None when it did not exist there."""
    import subprocess  # here: not on every command's start-up

    folder = path.resolve().parent
    try:
        done = subprocess.run(
            ["git", "show", f"{rev}:./{path.name}"],
            cwd=folder,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError("rules no-downgrade needs git", hint="install git") from None
    if done.returncode == 0:
        return done.stdout
    inside = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    if inside.returncode != 0:
        raise UsageError(
            f"{rev!r} is not a commit of a git repository holding {path}",
            hint="run it inside the rules' git repository, with --against a commit, branch or tag",
        )
    return None  # the commit exists but the file did not: a new file
