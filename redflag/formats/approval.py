"""Signed, approved rule sets: the trust file, the signed fields, sign and verify (issue 17).

A rule set is signed with a detached minisign signature (`RULES.minisig`, see minisign.py)
whose trusted comment carries the rule set's id, version, status, approved_by and sha256, so
`status = "approved"` counts only when a trusted key signed exactly this file saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redflag.core.compile import CompiledRuleSet
from redflag.errors import (
    ApprovalError,
    KeyFileError,
    Location,
    RevokedKeyError,
    RollbackError,
    SignedFieldsError,
    UnsignedError,
    UntrustedKeyError,
)
from redflag.formats import minisign
from redflag.formats.rulefile import read_rule_file, ruleset_from_bytes, source_name

if TYPE_CHECKING:  # the output model (formats/json_model.py)
    from redflag.formats.json_model import SignedFieldsJSON

COMMENT_PREFIX = "redflag-ruleset "
SIGNED_FIELDS = ("id", "version", "status", "approved_by", "sha256")


@dataclass(frozen=True)
class TrustedKey:
    """A public key the trust file names; a revoked key is listed so it is refused by name."""

    name: str
    key: minisign.PublicKey
    revoked: bool = False


@dataclass(frozen=True)
class Trust:
    """Who may sign rule sets, which keys are revoked, and the lowest version of each rule set
    that may be used (so an old, superseded rule set cannot be brought back)."""

    keys: tuple[TrustedKey, ...]
    min_versions: Mapping[str, str] = field(default_factory=dict)
    source: str = "<trust>"

    def find(self, key_id: bytes) -> TrustedKey | None:
        """The key with this id, or None; a revoked entry wins over a trusted one (a key
        listed twice stays revoked)."""
        found = [k for k in self.keys if k.key.key_id == key_id]
        return next((k for k in found if k.revoked), found[0] if found else None)


@dataclass(frozen=True)
class Verification:
    """A rule set whose signature verified, and who signed it."""

    ruleset: CompiledRuleSet
    signer: str
    key_id: str
    fields: Mapping[str, str | None]
    signature_path: Path


def signature_path(path: Path) -> Path:
    """Where the detached signature of `path` lives: `path` + `.minisig`, as minisign puts it."""
    return path.with_name(path.name + ".minisig")


def signed_fields(ruleset: CompiledRuleSet) -> SignedFieldsJSON:
    """The fields a signature vouches for, taken from the rule file itself."""
    meta = ruleset.meta
    return {
        "id": meta.id,
        "version": meta.version,
        "status": meta.status,
        "approved_by": meta.approved_by,
        "sha256": ruleset.sha256,
    }


def trusted_comment(ruleset: CompiledRuleSet) -> str:
    """The trusted comment a signature of this rule set carries: one line, ASCII JSON."""
    return COMMENT_PREFIX + json.dumps(signed_fields(ruleset), separators=(",", ":"))


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"no such {what}", location=Location(str(path)), hint="check the path"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise KeyFileError(
            f"cannot read the {what}: {getattr(err, 'strerror', None) or err}",
            location=Location(str(path)),
            hint="check the path and its permissions",
        ) from None


def load_public_key(path: Path) -> Trust:
    """A trust of one key: the minisign public key file `path` (`--key`)."""
    key = minisign.PublicKey.parse(_read_text(path, "public key file"), str(path))
    return Trust((TrustedKey(path.name, key),), source=str(path))


def load_trust(path: Path) -> Trust:
    """Read a trust file (TOML; README "Signed rule sets").

    Raises:
        KeyFileError: the file is missing, not TOML, or not shaped as documented.
    """
    import tomllib

    source = str(path)
    try:
        raw = tomllib.loads(_read_text(path, "trust file"))
    except tomllib.TOMLDecodeError as err:
        raise KeyFileError(
            f"the trust file is not valid TOML: {err}",
            location=Location(source),
            hint="see the README section 'Signed rule sets' for its shape",
        ) from None
    _only_keys(raw, {"keys", "min_versions"}, "the trust file", source)
    keys_raw = raw.get("keys", [])
    if not isinstance(keys_raw, list) or not keys_raw:
        raise _shape(source, "the trust file needs at least one [[keys]] table")
    keys = []
    for n, entry in enumerate(keys_raw, start=1):
        if not isinstance(entry, dict):
            raise _shape(source, f"key {n} is not a table")
        _only_keys(entry, {"name", "public_key", "revoked"}, f"key {n}", source)
        name, public, revoked = entry.get("name"), entry.get("public_key"), entry.get("revoked")
        if not isinstance(name, str) or not isinstance(public, str):
            raise _shape(source, f'key {n} needs name = "..." and public_key = "RW..."')
        if revoked is not None and not isinstance(revoked, bool):
            raise _shape(source, f"key {n}: revoked must be true or false")
        keys.append(
            TrustedKey(name, minisign.PublicKey.parse(public, f"{source} key {n}"), bool(revoked))
        )
    mins = raw.get("min_versions", {})
    if not isinstance(mins, dict) or not all(
        isinstance(v, str) and version_key(v) is not None for v in mins.values()
    ):
        raise _shape(
            source, 'min_versions maps a rule-set id to a version: [min_versions] id = "1.2.0"'
        )
    return Trust(tuple(keys), dict(mins), source)


def _only_keys(table: Mapping[str, Any], allowed: set[str], what: str, source: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _shape(
            source,
            f"{what} has an unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})",
        )


def _shape(source: str, message: str) -> KeyFileError:
    return KeyFileError(
        message,
        location=Location(source),
        hint="see the README section 'Signed rule sets' for the trust file's shape",
    )


def version_key(version: str) -> tuple[int, ...] | None:
    """`1.2.10` as (1, 2, 10), to compare versions; None for anything but dotted numbers."""
    parts = version.split(".")
    if not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def sign_rule_file(path: Path, key_path: Path) -> tuple[CompiledRuleSet, minisign.Signature]:
    """Check the rule file and sign it with the (password-less) minisign secret key.

    Raises:
        RuleFileError: the rule file has errors (a broken file is never signed).
        KeyFileError: the key cannot be read.
    """
    data = read_rule_file(path)
    ruleset = ruleset_from_bytes(data, source_name(path))
    key = minisign.SecretKey.parse(_read_text(key_path, "secret key file"), str(key_path))
    return ruleset, minisign.sign(data, key, trusted_comment(ruleset))


def comment_for(path: Path) -> str:
    """The trusted comment to give `minisign -S -t` for this rule file."""
    return trusted_comment(ruleset_from_bytes(read_rule_file(path), source_name(path)))


def verify_rule_file(
    path: Path | None,
    trust: Trust | None,
    signature: Path | None = None,
    *,
    require_approved: bool = False,
) -> Verification:
    """Verify the rule file's signature against the trust, and compile exactly those bytes.

    Args:
        path: the rule file (None: the bundled one, which is never signed).
        trust: the trusted (and revoked) keys and minimum versions; None refuses every
            signature, after the checks that need no key.
        signature: the signature file (default: `path` + `.minisig`).
        require_approved: also refuse a rule set whose status is not "approved".

    Raises:
        ApprovalError: a draft (with require_approved), unsigned, a bad signature, an
            unknown or revoked key, signed fields that differ, a version below the minimum.
        RuleFileError: the rule file itself has errors.
    """
    data = read_rule_file(path)
    source = source_name(path)
    # The signature is checked before the file is parsed: a changed byte is reported as a
    # changed file, not as whatever TOML error it makes.
    if signature is not None:
        sig_path = signature
    elif path is not None:
        sig_path = signature_path(path)
    else:
        ruleset = _compiled(data, source, require_approved)
        raise UnsignedError(
            f"the bundled rule set {ruleset.meta.id} {ruleset.meta.version} is not signed",
            location=Location(source),
            hint="give a signed rule file: --rules RULES (with RULES.minisig beside it)",
        )
    try:
        sig_text = sig_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        meta = _compiled(data, source, require_approved).meta
        raise UnsignedError(
            f"rule set {meta.id} {meta.version} is not signed: there is no {sig_path}",
            location=Location(source),
            hint="sign it once reviewed: redflag rules sign RULES --key KEY",
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise UnsignedError(
            f"cannot read the signature {sig_path}: {getattr(err, 'strerror', None) or err}",
            location=Location(source),
            hint="check the path and its permissions",
        ) from None
    sig = minisign.Signature.parse(sig_text, str(sig_path))
    key_hex = minisign.key_id_hex(sig.key_id)
    if trust is None:
        _compiled(data, source, require_approved)
        raise UntrustedKeyError(
            f"{sig_path} was signed by key {key_hex}, but no key is trusted",
            location=Location(str(sig_path)),
            hint="name the keys to trust: --trust FILE (or REDFLAG_TRUST=FILE), or "
            "--trust-key PUBLIC_KEY",
        )
    trusted = trust.find(sig.key_id)
    if trusted is None:
        raise UntrustedKeyError(
            f"{sig_path} was signed by key {key_hex}, which is not trusted "
            f"(trusted: {', '.join(k.key.id_hex for k in trust.keys if not k.revoked) or 'none'})",
            location=Location(str(sig_path)),
            hint=f"verify with the signer's public key, or add it to {trust.source}",
        )
    if trusted.revoked:
        raise RevokedKeyError(
            f"{sig_path} was signed by key {key_hex} ({trusted.name}), which {trust.source} "
            "revokes",
            location=Location(str(sig_path)),
            hint="have the rule set signed again with a current key",
        )
    minisign.verify(data, sig, trusted.key, source)
    ruleset = _compiled(data, source, require_approved)
    meta = ruleset.meta
    fields = _parse_comment(sig.trusted_comment, str(sig_path))
    own: Mapping[str, object] = signed_fields(ruleset)
    differ = [k for k in SIGNED_FIELDS if fields.get(k) != own[k]]
    if differ:
        said = "; ".join(f"{k}: signed {fields.get(k)!r}, file {own[k]!r}" for k in differ)
        raise SignedFieldsError(
            f"the signature does not vouch for this rule set: {said}",
            location=Location(str(sig_path)),
            hint="sign the file with redflag rules sign (or minisign -t "
            '"$(redflag rules sign RULES --print-comment)")',
        )
    minimum = trust.min_versions.get(meta.id)
    if minimum is not None:
        have, need = version_key(meta.version), version_key(minimum)
        if have is None or need is None or have < need:
            raise RollbackError(
                f"rule set {meta.id} {meta.version} is older than the lowest version "
                f"{trust.source} allows ({minimum})",
                location=Location(source),
                hint="use the current rule set: an old one may lack corrections",
            )
    return Verification(ruleset, trusted.name, key_hex, fields, sig_path)


def _compiled(data: bytes, source: str, require_approved: bool) -> CompiledRuleSet:
    ruleset = ruleset_from_bytes(data, source)
    if require_approved and (ruleset.meta.status != "approved" or not ruleset.meta.approved_by):
        raise not_approved(ruleset)
    return ruleset


def not_approved(ruleset: CompiledRuleSet) -> ApprovalError:
    """The error for a rule set whose status is not "approved"."""
    meta = ruleset.meta
    if meta.status == "approved":
        return ApprovalError(
            f"rule set {meta.id} {meta.version} says it is approved but not by whom "
            f"(no approved_by in {ruleset.source})",
            location=Location(ruleset.source),
            hint='an approved rule set names its approver: approved_by = "..." under '
            "[ruleset], then sign it again",
        )
    return ApprovalError(
        f"rule set {meta.id} {meta.version} is a {meta.status}, not an approved rule set "
        f"(status = {meta.status!r} in {ruleset.source})",
        location=Location(ruleset.source),
        hint="approved rule sets only (--require-approved, REDFLAG_REQUIRE_APPROVED): use a "
        'rule file with status = "approved", signed by a trusted key',
    )


def _parse_comment(comment: str, source: str) -> dict[str, str | None]:
    bad = SignedFieldsError(
        "the signature's trusted comment does not carry the rule set's signed fields",
        location=Location(source),
        hint='sign with redflag rules sign, or minisign -t "$(redflag rules sign RULES '
        '--print-comment)"',
    )
    if not comment.startswith(COMMENT_PREFIX):
        raise bad
    try:
        fields = json.loads(comment[len(COMMENT_PREFIX) :])
    except ValueError:
        raise bad from None
    if not isinstance(fields, dict) or not all(
        isinstance(fields.get(k), str | None) for k in SIGNED_FIELDS
    ):
        raise bad
    return {k: fields.get(k) for k in SIGNED_FIELDS}
