"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` tool on a
temporary git repository of rules (issue 17).

The hooks are `language: python`: pre-commit would build a fresh environment and install
redflag into it from the network. Here the same hook definitions run as `repo: local`,
`language: system`, with this environment's `redflag` on PATH: pre-commit still selects the
files, passes the file names and reads the exit codes, which is what the manifest decides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
ARGS = {
    "redflag-test": ["--rules", "rules.toml", "cases/"],
    "redflag-no-downgrade": ["--cases", "cases/"],
}


def test_the_manifest_is_valid_for_pre_commit():
    done = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ids = [hook["id"] for hook in yaml.safe_load(MANIFEST.read_text())]
    assert ids == ["redflag-validate", "redflag-test", "redflag-no-downgrade"]


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "rules-repo"
    (work / "cases").mkdir(parents=True)
    shutil.copy(ROOT / "rules.toml", work / "rules.toml")
    shutil.copy(ROOT / "tests" / "data" / "cases" / "basic.toml", work / "cases" / "basic.toml")
    hooks = []
    for hook in yaml.safe_load(MANIFEST.read_text()):
        hook = {**hook, "language": "system"}
        if hook["id"] in ARGS:
            hook["args"] = ARGS[hook["id"]]
        hooks.append(hook)
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (work / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2))  # JSON is YAML
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "NO_COLOR": "1",
    }

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=work, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    assert sh("git", "init", "-q").returncode == 0
    assert sh("git", "add", ".").returncode == 0
    assert sh("git", "commit", "-q", "-m", "rules 0.2.0").returncode == 0
    return work, sh


def pre_commit(
    sh: Callable[..., subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    return sh(str(BIN / "pre-commit"), "run", "--all-files", "--color", "never")


def status(output: str, name: str) -> str:
    line = next(ln for ln in output.splitlines() if ln.startswith(name + "."))
    return line.rsplit(".", 1)[1]


def test_all_hooks_pass_on_sound_rules(repo):
    _work, sh = repo
    done = pre_commit(sh)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("redflag rules validate", "redflag test", "redflag rules no-downgrade"):
        assert status(done.stdout, name) == "Passed", done.stdout


def test_a_downgrade_and_a_failing_case_stop_the_commit(repo):
    work, sh = repo
    rules = work / "rules.toml"
    text = rules.read_text()
    start = text.index('id = "mscc_neuro"')
    rest = text[start:].replace('level = "emergency"', 'level = "urgent"', 1)
    rules.write_text(text[:start] + rest)
    done = pre_commit(sh)
    assert done.returncode == 1
    assert status(done.stdout, "redflag rules validate") == "Passed", done.stdout
    assert status(done.stdout, "redflag test") == "Failed"
    assert status(done.stdout, "redflag rules no-downgrade") == "Failed"
    assert "rules.toml: DOWNGRADE against HEAD" in done.stdout
    # installed as a git hook, the same refusal stops `git commit`
    assert sh(str(BIN / "pre-commit"), "install").returncode == 0
    assert sh("git", "commit", "-q", "-am", "downgrade").returncode != 0
    assert sh("git", "log", "--oneline").stdout.count("\n") == 1


def test_a_lower_version_is_refused(repo):
    work, sh = repo
    rules = work / "rules.toml"
    rules.write_text(rules.read_text().replace('version = "0.2.0"', 'version = "0.1.9"', 1))
    done = pre_commit(sh)
    assert done.returncode == 1
    assert "rules.toml: the version went down: 0.2.0 at HEAD, 0.1.9 now" in done.stdout


def test_a_broken_rule_file_fails_validate_with_its_location(repo):
    work, sh = repo
    (work / "rules.toml").write_text("[ruleset\n")
    done = pre_commit(sh)
    assert done.returncode == 1
    assert status(done.stdout, "redflag rules validate") == "Failed"
    assert "rules.toml:1:" in done.stdout and "error[toml]" in done.stdout


def test_the_ci_template_runs_the_hooks_commands_and_verifies_the_signature():
    from typer.testing import CliRunner

    from redflag.cli import app

    template = yaml.safe_load((ROOT / "docs" / "ci" / "rules-repository.yml").read_text())
    runs = [s["run"] for s in template["jobs"]["rules"]["steps"] if "run" in s]
    commands = [r.split()[1:] for r in runs if r.startswith("redflag ")]
    names = [" ".join(c[:2]) if c[0] == "rules" else c[0] for c in commands]
    assert names == ["rules validate", "test", "rules no-downgrade", "rules verify", "check"]
    hooks = {hook["entry"] for hook in yaml.safe_load(MANIFEST.read_text())}
    assert {f"redflag {n}" for n in names[:3]} == hooks
    for words in commands:  # each line parses: options and arguments as the CLI has them
        subcommand = words[:2] if words[0] == "rules" else words[:1]
        result = CliRunner().invoke(app, [*subcommand, "--help"])
        assert result.exit_code == 0, words
        for option in (w for w in words if w.startswith("--")):
            assert option in result.stdout or option in ("--require-approved", "--trust"), (
                words,
                option,
            )
