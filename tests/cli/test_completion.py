"""Shell completion (issue 17): flag ids after `check`, level names after `--fail-on`, in
bash under a real pseudo-terminal, and zsh and fish through their completion protocol."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

BIN = Path(sys.executable).parent
REDFLAG = BIN / "redflag"
ROOT = Path(__file__).resolve().parents[2]


def complete(shell: str, words: str, **extra: str) -> str:
    """What `redflag` answers a shell's completion request for the line `words`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_TYPER")}
    env["_REDFLAG_COMPLETE"] = f"complete_{shell}"
    if shell == "bash":
        env["COMP_WORDS"] = words
        env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    else:
        env["_TYPER_COMPLETE_ARGS"] = words
    env.update(extra)
    done = subprocess.run(
        [str(REDFLAG)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_bash_protocol_offers_flag_ids_values_and_levels():
    assert complete("bash", "redflag check limb_w").split() == ["limb_weakness"]
    assert complete("bash", "redflag check back_pain=").split() == [
        "back_pain=yes",
        "back_pain=no",
        "back_pain=unknown",
    ]
    assert complete("bash", "redflag check back_pain --fail-on ").split() == [
        "emergency",
        "urgent",
        "soon",
        "routine",
    ]
    assert complete("bash", "redflag ru").split() == ["rules"]


def test_completion_reads_the_rule_file_given_with_rules(tmp_path):
    text = (ROOT / "rules.toml").read_text().replace("[flags.limb_weakness]", "[flags.limb_zzz]")
    text = text.replace("limb_weakness", "limb_zzz")
    rules = tmp_path / "r.toml"
    rules.write_text(text)
    assert complete("bash", f"redflag check --rules {rules} limb_").split() == ["limb_zzz"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[ruleset\n")
    assert complete("bash", f"redflag check --rules {broken} limb_").strip() == ""


def test_zsh_and_fish_get_the_questions_and_timeframes():
    zsh = complete("zsh", "redflag check cancer_h")
    assert '"cancer_history":"Have you ever been diagnosed with cancer' in zsh
    fish = complete(
        "fish", "redflag check --fail-on-worst em", _TYPER_COMPLETE_FISH_ACTION="get-args"
    )
    assert fish.strip() == "emergency\tNow"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_each_shells_script(shell):
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [str(REDFLAG), "--show-completion", shell],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "_REDFLAG_COMPLETE" in done.stdout
    assert f"complete_{shell}" in done.stdout


@pytest.fixture
def bash(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "TERM": "dumb",
        "PS1": "$ ",
        "LANG": "C.UTF-8",
    }
    child = pexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, encoding="utf-8", timeout=30, cwd=tmp_path
    )
    child.setwinsize(24, 200)
    child.expect_exact("$ ")
    yield child
    child.sendline("exit")
    child.close()


def test_tab_completes_a_flag_id_and_lists_levels_in_a_real_bash(bash):
    bash.sendline('eval "$(redflag --show-completion)"; echo loaded')
    bash.expect_exact("loaded")
    bash.expect_exact("$ ")
    bash.send("echo redflag check limb_w\t")  # `echo` first: completion of the echo line
    bash.send("\x15")  # Ctrl-U: throw that line away
    bash.send("redflag check limb_w\t")
    bash.expect_exact("limb_weakness ")
    bash.send(" --fail-on \t\t")
    bash.expect("emergency\\s+routine\\s+soon\\s+urgent|emergency.*urgent")
    bash.send("\x03")
    bash.expect_exact("$ ")


def test_install_completion_writes_the_bash_script_and_sources_it(bash, tmp_path):
    bash.sendline("redflag --install-completion; echo done=$?")
    bash.expect_exact("done=0")
    bash.expect_exact("$ ")
    assert "redflag" in (tmp_path / ".bashrc").read_text()
    script = tmp_path / ".bash_completions" / "redflag.sh"
    assert "_REDFLAG_COMPLETE=complete_bash" in script.read_text()
