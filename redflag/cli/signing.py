"""`redflag rules sign`, `rules verify`, `rules keygen`: signed, approved rule sets (issue 17).

The work is in formats/approval.py and formats/minisign.py; `cryptography` loads only when a
key is used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from redflag.cli.common import JsonOption
from redflag.cli.handler import writing
from redflag.errors import UsageError

FileArgument = Annotated[Path, typer.Argument(help="Rule file.", show_default=False)]


def sign(
    path: FileArgument,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="minisign secret key without a password (minisign -G -W)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Signature file (default: PATH.minisig)."),
    ] = None,
    print_comment: Annotated[
        bool,
        typer.Option(
            "--print-comment",
            help="Only print the trusted comment, for minisign -S -t (a password-protected key).",
        ),
    ] = False,
) -> None:
    """Sign a checked rule file: a detached minisign signature whose trusted comment carries
    the rule set's id, version, status, approved_by and sha256.

    Example:

        redflag rules sign rules.toml --key clinic.key

        minisign -S -s clinic.key -m rules.toml \\
            -t "$(redflag rules sign rules.toml --print-comment)"
    """
    from redflag.formats.approval import comment_for, sign_rule_file, signature_path

    if print_comment:
        print(comment_for(path))
        return
    if key is None:
        raise UsageError(
            "rules sign needs the secret key: --key KEY",
            hint="make one with redflag rules keygen (or minisign -G -W)",
        )
    ruleset, signature = sign_rule_file(path, key)
    target = output or signature_path(path)
    with writing(target):
        target.write_text(signature.file_text(), encoding="utf-8")
    meta = ruleset.meta
    print(
        f"signed {meta.id} {meta.version} (status: {meta.status}, sha256 "
        f"{ruleset.sha256[:12]}) with key {signature.key_id[::-1].hex().upper()}: wrote {target}"
    )
    if meta.status != "approved":
        print(
            f"note: status is {meta.status!r}: --require-approved refuses it all the same",
            file=sys.stderr,
        )


def verify(
    path: FileArgument,
    key: Annotated[
        Path | None, typer.Option("--key", help="minisign public key file to trust.")
    ] = None,
    trust_file: Annotated[
        Path | None,
        typer.Option("--trust", help="Trust file: keys, revoked keys, minimum versions."),
    ] = None,
    signature: Annotated[
        Path | None,
        typer.Option("--signature", help="Signature file (default: PATH.minisig)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a rule file's signature: a trusted, unrevoked key signed exactly this file, and
    the signed id, version, status, approved_by and sha256 are the file's own.

    Exit 0 when it verifies, 4 when it does not (README, "Exit codes").

    Example:

        redflag rules verify rules.toml --key clinic.pub

        redflag rules verify rules.toml --trust trust.toml
    """
    from redflag.cli.common import trust
    from redflag.formats.approval import verify_rule_file

    trusted = trust(key, trust_file)
    if trusted is None:
        raise UsageError(
            "rules verify needs the keys to trust: --key PUBLIC_KEY or --trust FILE",
            hint="--trust may also come from REDFLAG_TRUST",
        )
    done = verify_rule_file(path, trusted, signature)
    meta = done.ruleset.meta
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.ruleset_json import verification_json

        print_json(verification_json(done))
        return
    print(
        f"{path}: verified: {meta.id} {meta.version}, status {meta.status}"
        + (f", approved by {meta.approved_by}" if meta.approved_by else "")
        + f"; signed by {done.signer} (key {done.key_id}); sha256 {done.ruleset.sha256[:12]}"
    )


def keygen(
    prefix: Annotated[
        Path, typer.Argument(help="Writes PREFIX.pub and PREFIX.key.", show_default=False)
    ],
) -> None:
    """Make a minisign key pair without a password: PREFIX.pub to share, PREFIX.key to keep
    offline.

    Example:

        redflag rules keygen clinic
    """
    from redflag.formats.minisign import SecretKey

    pub, sec = prefix.with_name(prefix.name + ".pub"), prefix.with_name(prefix.name + ".key")
    for target in (pub, sec):
        if target.exists():
            raise UsageError(f"{target} exists: keygen never overwrites a key", hint="move it")
    key = SecretKey.generate()
    with writing(sec):
        fd = os.open(sec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key.file_text())
    with writing(pub):
        pub.write_text(key.public_key.file_text(), encoding="utf-8")
    print(f"wrote {pub} (public key {key.public_key.id_hex}) and {sec} (secret: keep it offline)")
