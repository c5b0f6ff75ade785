"""`rules sign`, `rules verify`, `rules keygen` and `--require-approved` (issue 17), through
Typer's runner, a real subprocess, and the real `minisign` tool both ways."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.formats.approval import signature_path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules.toml"


def run(*args: str | Path, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input, env=env)


def minisign() -> str:
    """The minisign binary; CI installs it (.ci/run), so there a missing one is a failure."""
    found = shutil.which("minisign")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("minisign is not installed (apt-get install -y minisign)")
        pytest.skip("minisign is not installed")
    return found


def approved_copy(folder: Path, version: str = "0.2.0", name: str = "rules.toml") -> Path:
    """The shipped rules, marked approved (as a clinic's reviewed copy would be)."""
    text = RULES.read_text(encoding="utf-8")
    assert 'status = "draft"' in text
    text = text.replace('status = "draft"', 'status = "approved"\napproved_by = "Dr A Reviewer"')
    text = text.replace('version = "0.2.0"', f'version = "{version}"', 1)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """(public, secret) made by `redflag rules keygen`."""
    result = run("rules", "keygen", tmp_path / "clinic")
    assert result.exit_code == 0, result.output
    return tmp_path / "clinic.pub", tmp_path / "clinic.key"


@pytest.fixture
def signed(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    rules = approved_copy(tmp_path)
    result = run("rules", "sign", rules, "--key", keys[1])
    assert result.exit_code == 0, result.output
    assert f"wrote {signature_path(rules)}" in result.stdout
    return rules


def assert_refused(result, code: str, message: str) -> None:
    assert result.exit_code == 4, result.output
    assert f"error[{code}]: " in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert "hint: " in result.stderr
    assert "verified" not in result.stdout


def test_sign_then_verify_says_verified_with_signer_and_fields(signed, keys):
    result = run("rules", "verify", signed, "--key", keys[0])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{signed}: verified: redflag-spinal 0.2.0, status approved")
    assert "approved by Dr A Reviewer; signed by clinic.pub (key " in result.stdout
    comment = signature_path(signed).read_text().splitlines()[2]
    assert comment.startswith('trusted comment: redflag-ruleset {"id":"redflag-spinal"')
    assert '"status":"approved","approved_by":"Dr A Reviewer","sha256":"' in comment


def test_verify_json_reports_the_signed_fields(signed, keys):
    import hashlib
    import json

    result = run("rules", "verify", signed, "--key", keys[0], "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verified"] is True
    assert doc["signed"] == {
        "id": "redflag-spinal",
        "version": "0.2.0",
        "status": "approved",
        "approved_by": "Dr A Reviewer",
        "sha256": hashlib.sha256(signed.read_bytes()).hexdigest(),
    }


@pytest.mark.parametrize("offset", [0, 500, -2])
def test_one_changed_byte_of_the_rules_is_a_bad_signature(signed, keys, offset):
    data = bytearray(signed.read_bytes())
    data[offset] = ord(" ") if data[offset] != ord(" ") else ord("\t")
    signed.write_bytes(bytes(data))
    result = run("rules", "verify", signed, "--key", keys[0])
    assert_refused(result, "bad-signature", "the rule file does not match its signature")


def test_a_changed_trusted_comment_is_a_bad_signature(signed, keys):
    sig = signature_path(signed)
    sig.write_text(sig.read_text().replace('"version":"0.2.0"', '"version":"9.9.9"'))
    result = run("rules", "verify", signed, "--key", keys[0])
    assert_refused(result, "bad-signature", "the trusted comment of the signature was changed")


def test_a_changed_status_line_is_a_bad_signature(tmp_path, keys):
    rules = RULES.read_bytes()
    draft = tmp_path / "rules.toml"
    draft.write_bytes(rules)
    assert run("rules", "sign", draft, "--key", keys[1]).exit_code == 0
    draft.write_bytes(rules.replace(b'status = "draft"', b'status = "approved"'))
    result = run("rules", "verify", draft, "--key", keys[0])
    assert_refused(result, "bad-signature", "it was changed after it was signed")


def test_an_unknown_key_is_refused_naming_both_keys(signed, tmp_path):
    assert run("rules", "keygen", tmp_path / "other").exit_code == 0
    result = run("rules", "verify", signed, "--key", tmp_path / "other.pub")
    assert_refused(result, "untrusted-key", "which is not trusted (trusted: ")


def write_trust(path: Path, public: Path, *, revoked: bool = False, minimum: str | None = None):
    key_line = public.read_text().splitlines()[1]
    text = f'[[keys]]\nname = "Clinical safety officer"\npublic_key = "{key_line}"\n'
    if revoked:
        text += "revoked = true\n"
    if minimum:
        text += f'\n[min_versions]\nredflag-spinal = "{minimum}"\n'
    path.write_text(text)
    return path


def test_a_trust_file_names_the_signer(signed, keys, tmp_path):
    trust = write_trust(tmp_path / "trust.toml", keys[0], minimum="0.2.0")
    result = run("rules", "verify", signed, "--trust", trust)
    assert result.exit_code == 0, result.output
    assert "signed by Clinical safety officer (key " in result.stdout


def test_a_revoked_key_is_refused(signed, keys, tmp_path):
    trust = write_trust(tmp_path / "trust.toml", keys[0], revoked=True)
    result = run("rules", "verify", signed, "--trust", trust)
    assert_refused(result, "revoked-key", "(Clinical safety officer), which")
    assert "revokes" in result.stderr


def test_a_version_below_the_minimum_is_a_roll_back(tmp_path, keys):
    old = approved_copy(tmp_path, version="0.1.9")
    assert run("rules", "sign", old, "--key", keys[1]).exit_code == 0
    trust = write_trust(tmp_path / "trust.toml", keys[0], minimum="0.2.0")
    result = run("rules", "verify", old, "--trust", trust)
    assert_refused(
        result,
        "rolled-back",
        f"rule set redflag-spinal 0.1.9 is older than the lowest version {trust} allows (0.2.0)",
    )


def test_a_missing_signature_is_unsigned(tmp_path, keys):
    rules = approved_copy(tmp_path)
    result = run("rules", "verify", rules, "--key", keys[0])
    assert_refused(result, "unsigned", "is not signed: there is no")


def test_a_signature_of_another_rule_file_does_not_vouch_for_this_one(tmp_path, keys):
    one = approved_copy(tmp_path, name="one.toml")
    two = approved_copy(tmp_path, version="0.3.0", name="two.toml")
    assert run("rules", "sign", one, "--key", keys[1]).exit_code == 0
    result = run("rules", "verify", two, "--key", keys[0], "--signature", signature_path(one))
    assert_refused(result, "bad-signature", "does not match its signature")


def test_a_broken_trust_file_is_a_clear_input_error(signed, tmp_path):
    trust = tmp_path / "trust.toml"
    trust.write_text('[[keys]]\nname = "x"\npublic_key = "RWQ"\nowner = "y"\n')
    result = run("rules", "verify", signed, "--trust", trust)
    assert result.exit_code == 2, result.output
    assert "error[bad-key]: key 1 has an unknown key 'owner'" in result.stderr


def test_sign_refuses_a_broken_rule_file(tmp_path, keys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[ruleset\n")
    result = run("rules", "sign", bad, "--key", keys[1])
    assert result.exit_code == 3, result.output
    assert not signature_path(bad).exists()


def test_keygen_never_overwrites_and_keeps_the_secret_private(keys, tmp_path):
    assert (keys[1].stat().st_mode & 0o777) == 0o600
    result = run("rules", "keygen", tmp_path / "clinic")
    assert result.exit_code == 2
    assert "exists: keygen never overwrites a key" in result.stderr


# --- --require-approved: every command that evaluates ------------------------------------

EVALUATING = [
    ("check", "back_pain"),
    ("batch",),
    ("ask", "--no-tty-check"),
    ("test", str(ROOT / "tests" / "cases")),
    ("explain", "back_pain"),
]


@pytest.mark.parametrize("command", EVALUATING, ids=lambda c: c[0])
def test_require_approved_refuses_the_shipped_draft_in_every_command(command):
    result = run(*command, "--require-approved", input="{}\n")
    assert_refused(
        result, "not-approved", "rule set redflag-spinal 0.2.0 is a draft, not an approved rule set"
    )


def test_require_approved_refuses_the_draft_in_diff():
    result = run("diff", RULES, RULES, "--require-approved")
    assert_refused(result, "not-approved", "is a draft, not an approved rule set")


def test_require_approved_from_the_environment_in_a_real_process():
    env = {**os.environ, "REDFLAG_REQUIRE_APPROVED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "back_pain"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 4, done.stderr
    assert "error[not-approved]: rule set redflag-spinal 0.2.0 is a draft" in done.stderr
    assert done.stdout == ""


def test_require_approved_runs_a_verified_rule_set(signed, keys):
    result = run(
        "check", "--rules", signed, "cancer_history", "limb_weakness", "--json",
        "--require-approved", "--trust-key", keys[0],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"level": "emergency"' in result.stdout


def test_require_approved_with_a_trust_file_from_the_environment(signed, keys, tmp_path):
    trust = write_trust(tmp_path / "trust.toml", keys[0])
    env = {"REDFLAG_REQUIRE_APPROVED": "1", "REDFLAG_TRUST": str(trust)}
    assert run("check", "--rules", signed, "back_pain", env=env).exit_code == 0
    signed.write_bytes(signed.read_bytes() + b"\n")
    result = run("check", "--rules", signed, "back_pain", env=env)
    assert_refused(result, "bad-signature", "it was changed after it was signed")


def test_require_approved_refuses_an_approved_but_unsigned_file(tmp_path, keys):
    rules = approved_copy(tmp_path)
    result = run(
        "check", "--rules", rules, "back_pain", "--require-approved", "--trust-key", keys[0]
    )
    assert_refused(result, "unsigned", "is not signed")


def test_require_approved_without_keys_trusts_nothing(signed):
    result = run("check", "--rules", signed, "back_pain", "--require-approved")
    assert_refused(result, "untrusted-key", "but no key is trusted")


def test_without_require_approved_the_draft_still_runs():
    assert run("check", "back_pain").exit_code == 0


# --- interoperability with the real minisign tool ----------------------------------------


def test_a_redflag_signature_verifies_with_minisign(signed, keys):
    done = subprocess.run(
        [minisign(), "-V", "-p", str(keys[0]), "-m", str(signed)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Signature and comment signature verified" in done.stderr + done.stdout
    assert '"approved_by":"Dr A Reviewer"' in done.stdout + done.stderr


def test_minisign_refuses_a_tampered_redflag_signed_file(signed, keys):
    signed.write_bytes(signed.read_bytes().replace(b"Dr A Reviewer", b"Dr B Reviewer"))
    done = subprocess.run(
        [minisign(), "-V", "-p", str(keys[0]), "-m", str(signed)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0


def minisign_keys(folder: Path) -> tuple[Path, Path]:
    pub, sec = folder / "ms.pub", folder / "ms.key"
    subprocess.run(
        [minisign(), "-G", "-W", "-p", str(pub), "-s", str(sec)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return pub, sec


def test_a_minisign_signature_with_redflags_comment_verifies_with_redflag(tmp_path):
    pub, sec = minisign_keys(tmp_path)
    rules = approved_copy(tmp_path)
    comment = run("rules", "sign", rules, "--print-comment").stdout.strip()
    assert comment.startswith("redflag-ruleset {")
    subprocess.run(
        [minisign(), "-S", "-s", str(sec), "-m", str(rules), "-t", comment],
        capture_output=True,
        check=True,
        timeout=120,
    )
    result = run("rules", "verify", rules, "--key", pub)
    assert result.exit_code == 0, result.output
    assert "verified: redflag-spinal 0.2.0, status approved" in result.stdout
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "--rules", str(rules), "back_pain",
         "--require-approved", "--trust-key", str(pub)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_minisign_key_signs_with_redflag(tmp_path):
    pub, sec = minisign_keys(tmp_path)
    rules = approved_copy(tmp_path)
    assert run("rules", "sign", rules, "--key", sec).exit_code == 0
    assert run("rules", "verify", rules, "--key", pub).exit_code == 0


def test_a_minisign_signature_without_the_fields_does_not_verify(tmp_path):
    pub, sec = minisign_keys(tmp_path)
    rules = approved_copy(tmp_path)
    subprocess.run(
        [minisign(), "-S", "-s", str(sec), "-m", str(rules)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    result = run("rules", "verify", rules, "--key", pub)
    assert_refused(
        result,
        "signed-fields-differ",
        "the signature's trusted comment does not carry the rule set's signed fields",
    )


def test_a_legacy_minisign_signature_of_the_whole_file_verifies_and_detects_tampering(tmp_path):
    pub, sec = minisign_keys(tmp_path)
    rules = approved_copy(tmp_path)
    comment = run("rules", "sign", rules, "--print-comment").stdout.strip()
    subprocess.run(
        [minisign(), "-S", "-l", "-s", str(sec), "-m", str(rules), "-t", comment],
        capture_output=True,
        check=True,
        timeout=120,
    )
    raw = base64.b64decode(signature_path(rules).read_text().splitlines()[1])
    assert raw[:2] == b"Ed"  # the legacy form: a signature of the whole file, not its hash
    assert run("rules", "verify", rules, "--key", pub).exit_code == 0
    rules.write_bytes(rules.read_bytes() + b"# late edit\n")
    result = run("rules", "verify", rules, "--key", pub)
    assert_refused(result, "bad-signature", "it was changed after it was signed")


@pytest.mark.slow
def test_a_password_protected_minisign_key_is_refused_with_the_way_round(tmp_path):
    pub, sec = tmp_path / "enc.pub", tmp_path / "enc.key"
    subprocess.run(
        [minisign(), "-G", "-p", str(pub), "-s", str(sec)],
        input=b"a password\na password\n",
        capture_output=True,
        check=True,
        timeout=120,
    )
    rules = approved_copy(tmp_path)
    result = run("rules", "sign", rules, "--key", sec)
    assert result.exit_code == 2, result.output
    assert "error[bad-key]: this secret key is protected by a password" in result.stderr
    assert "minisign -S -s KEY -m RULES -t" in result.stderr
    assert not signature_path(rules).exists()


def test_a_key_listed_both_trusted_and_revoked_stays_revoked(signed, keys, tmp_path):
    trust = write_trust(tmp_path / "trust.toml", keys[0])
    key_line = keys[0].read_text().splitlines()[1]
    with trust.open("a") as fh:
        fh.write(f'\n[[keys]]\nname = "lost laptop"\npublic_key = "{key_line}"\nrevoked = true\n')
    result = run("rules", "verify", signed, "--trust", trust)
    assert_refused(result, "revoked-key", "(lost laptop), which")


def test_minisign_signs_with_a_key_made_by_redflag_keygen(tmp_path, keys):
    rules = approved_copy(tmp_path)
    comment = run("rules", "sign", rules, "--print-comment").stdout.strip()
    subprocess.run(
        [minisign(), "-S", "-s", str(keys[1]), "-m", str(rules), "-t", comment],
        capture_output=True,
        check=True,
        timeout=120,
    )
    result = run("rules", "verify", rules, "--key", keys[0])
    assert result.exit_code == 0, result.output


def test_require_approved_wants_the_approver_named(tmp_path, keys):
    rules = approved_copy(tmp_path)
    rules.write_text(rules.read_text().replace('approved_by = "Dr A Reviewer"\n', "", 1))
    assert run("rules", "sign", rules, "--key", keys[1]).exit_code == 0
    assert run("rules", "verify", rules, "--key", keys[0]).exit_code == 0  # signed: true
    result = run(
        "check", "--rules", rules, "back_pain", "--require-approved", "--trust-key", keys[0]
    )
    assert_refused(result, "not-approved", "says it is approved but not by whom")
