"""minisign keys and signatures (Ed25519), read, written and checked with `cryptography`.

The file formats are those of the `minisign` tool (https://jedisct1.github.io/minisign/), so a
signature made by either verifies with the other: a detached signature holds an Ed25519
signature of the BLAKE2b-512 hash of the file ("ED", prehashed; the legacy "Ed" form over the
file itself also verifies) and a second, "global" signature over that signature and the
trusted comment, so the comment cannot be changed either.

`cryptography` is an optional dependency (`pip install 'redflag[sign]'`), imported only when a
key is used: nothing here runs on the way to a `check` that does not ask for a signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redflag.errors import BadSignatureError, KeyFileError, Location, NeedsCryptographyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

_UNTRUSTED = "untrusted comment: "
_TRUSTED = "trusted comment: "
_ED = b"Ed"  # key algorithm, and the legacy signature of the whole file
_ED_PREHASHED = b"ED"  # signature of the file's BLAKE2b-512 hash (minisign's default)
_B2 = b"B2"  # secret-key checksum: BLAKE2b-256
_NO_KDF = b"\x00\x00"  # a secret key stored without a password
_SCRYPT = b"Sc"
MAX_COMMENT_BYTES = 1024  # minisign's COMMENTMAXBYTES


def _crypto() -> type[Ed25519PrivateKey]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        raise NeedsCryptographyError(
            "signing and verifying rule sets need the 'cryptography' package, not installed",
            hint="pip install 'redflag[sign]'  (or pip install cryptography)",
        ) from None
    return Ed25519PrivateKey


def _public(raw: bytes) -> Ed25519PublicKey:
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw)


def _b64(text: str, what: str, source: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(
            f"{what} is not valid base64", location=Location(source), hint=_KEY_HINT
        ) from None


_KEY_HINT = "give a minisign key file (minisign -G, or redflag rules keygen)"


def key_id_hex(key_id: bytes) -> str:
    """A key id as minisign prints it (`minisign public key 4C1B0A...`)."""
    return key_id[::-1].hex().upper()


@dataclass(frozen=True)
class PublicKey:
    """A minisign public key: its 8-byte id and 32-byte Ed25519 key."""

    key_id: bytes
    key: bytes

    @property
    def id_hex(self) -> str:
        """The id as minisign prints it."""
        return key_id_hex(self.key_id)

    @property
    def base64(self) -> str:
        """The key as the one line minisign prints (`minisign -P RW...`)."""
        return base64.b64encode(_ED + self.key_id + self.key).decode("ascii")

    def file_text(self) -> str:
        """The public key file minisign writes."""
        return f"{_UNTRUSTED}minisign public key {self.id_hex}\n{self.base64}\n"

    @classmethod
    def parse(cls, text: str, source: str) -> PublicKey:
        """A public key from a minisign `.pub` file, or from its base64 line alone.

        Raises:
            KeyFileError: not a minisign Ed25519 public key.
        """
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if lines and lines[0].startswith(_UNTRUSTED):
            lines = lines[1:]
        if len(lines) != 1:
            raise KeyFileError(
                "not a minisign public key (one base64 line, after an optional "
                "'untrusted comment:' line)",
                location=Location(source),
                hint=_KEY_HINT,
            )
        raw = _b64(lines[0], "the public key", source)
        if len(raw) != 42 or raw[:2] != _ED:
            raise KeyFileError(
                "not a minisign Ed25519 public key", location=Location(source), hint=_KEY_HINT
            )
        return cls(raw[2:10], raw[10:])


@dataclass(frozen=True)
class SecretKey:
    """A minisign secret key stored without a password: id, Ed25519 seed and public key."""

    key_id: bytes
    seed: bytes
    public: bytes

    @property
    def public_key(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(self.key_id, self.public)

    def file_text(self) -> str:
        """The secret key file `minisign -G -W` writes (no password)."""
        body = self.key_id + self.seed + self.public
        checksum = hashlib.blake2b(_ED + body, digest_size=32).digest()
        raw = _ED + _NO_KDF + _B2 + bytes(32 + 8 + 8) + body + checksum
        comment = f"{_UNTRUSTED}minisign secret key (no password): keep it secret\n"
        return comment + base64.b64encode(raw).decode("ascii") + "\n"

    @classmethod
    def generate(cls) -> SecretKey:
        """A new random key pair."""
        from cryptography.hazmat.primitives import serialization

        private = _crypto().generate()
        seed = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(secrets.token_bytes(8), seed, public)

    @classmethod
    def parse(cls, text: str, source: str) -> SecretKey:
        """A secret key from a minisign `.key` file made without a password.

        Raises:
            KeyFileError: not a minisign secret key, password-protected, or damaged.
        """
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if lines and lines[0].startswith(_UNTRUSTED):
            lines = lines[1:]
        raw = _b64(lines[0], "the secret key", source) if len(lines) == 1 else b""
        if len(raw) != 158 or raw[:2] != _ED or raw[4:6] != _B2:
            raise KeyFileError(
                "not a minisign secret key", location=Location(source), hint=_KEY_HINT
            )
        if raw[2:4] == _SCRYPT:
            raise KeyFileError(
                "this secret key is protected by a password, which redflag does not read",
                location=Location(source),
                hint="sign with minisign itself: minisign -S -s KEY -m RULES -t "
                '"$(redflag rules sign RULES --print-comment)"; or make a key without a '
                "password (minisign -G -W) and keep it offline",
            )
        body, checksum = raw[54:126], raw[126:]
        # minisign 0.11 leaves the checksum of a key without a password as zeros
        summed = checksum == bytes(32) or (
            hashlib.blake2b(_ED + body, digest_size=32).digest() == checksum
        )
        key = cls(body[:8], body[8:40], body[40:72])
        if raw[2:4] != _NO_KDF or not summed or key.derived_public() != key.public:
            raise KeyFileError(
                "the secret key is damaged (its checksum or public half does not match)",
                location=Location(source),
                hint=_KEY_HINT,
            )
        return key

    def derived_public(self) -> bytes:
        """The Ed25519 public key computed from the seed (equal to `public` in a sound key)."""
        from cryptography.hazmat.primitives import serialization

        private = _crypto().from_private_bytes(self.seed)
        return private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


@dataclass(frozen=True)
class Signature:
    """A detached minisign signature (`FILE.minisig`)."""

    algorithm: bytes
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    untrusted_comment: str = "signature from redflag"

    def file_text(self) -> str:
        """The `.minisig` file."""
        sig = base64.b64encode(self.algorithm + self.key_id + self.signature).decode("ascii")
        glob = base64.b64encode(self.global_signature).decode("ascii")
        return (
            f"{_UNTRUSTED}{self.untrusted_comment}\n{sig}\n"
            f"{_TRUSTED}{self.trusted_comment}\n{glob}\n"
        )

    @classmethod
    def parse(cls, text: str, source: str) -> Signature:
        """A signature from a `.minisig` file.

        Raises:
            BadSignatureError: not a minisign signature file.
        """
        lines = text.splitlines()
        bad = BadSignatureError(
            "not a minisign signature file",
            location=Location(source),
            hint="sign again: redflag rules sign RULES --key KEY (or minisign -S)",
        )
        if len(lines) < 4 or not lines[0].startswith(_UNTRUSTED):
            raise bad
        if not lines[2].startswith(_TRUSTED):
            raise bad
        try:
            raw = base64.b64decode(lines[1].strip(), validate=True)
            glob = base64.b64decode(lines[3].strip(), validate=True)
        except (binascii.Error, ValueError):
            raise bad from None
        if len(raw) != 74 or raw[:2] not in (_ED, _ED_PREHASHED) or len(glob) != 64:
            raise bad
        return cls(
            raw[:2],
            raw[2:10],
            raw[10:],
            lines[2][len(_TRUSTED) :],
            glob,
            lines[0][len(_UNTRUSTED) :],
        )


def sign(data: bytes, key: SecretKey, trusted_comment: str) -> Signature:
    """Sign `data` as `minisign -S` does (prehashed), with `trusted_comment` signed too."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise ValueError("a trusted comment is one line")
    comment = trusted_comment.encode("utf-8")
    if len(comment) > MAX_COMMENT_BYTES:
        raise ValueError(f"a trusted comment is at most {MAX_COMMENT_BYTES} bytes")
    private = _crypto().from_private_bytes(key.seed)
    signature = private.sign(hashlib.blake2b(data, digest_size=64).digest())
    return Signature(
        _ED_PREHASHED, key.key_id, signature, trusted_comment, private.sign(signature + comment)
    )


def verify(data: bytes, signature: Signature, key: PublicKey, source: str) -> None:
    """Check that `signature` was made by `key` over `data` and its trusted comment.

    Raises:
        BadSignatureError: the data or the trusted comment is not what was signed, or the
            signature was made by another key.
    """
    from cryptography.exceptions import InvalidSignature

    public = _public(key.key)
    message = hashlib.blake2b(data, digest_size=64).digest()
    if signature.algorithm == _ED:
        message = data
    if signature.key_id != key.key_id:
        raise BadSignatureError(
            f"the signature was made by key {key_id_hex(signature.key_id)}, not by key "
            f"{key.id_hex}",
            location=Location(source),
            hint="verify with the public key that made it",
        )
    try:
        public.verify(signature.signature, message)
    except InvalidSignature:
        raise BadSignatureError(
            "the rule file does not match its signature: it was changed after it was signed",
            location=Location(source),
            hint="use the file as it was signed, or have it reviewed and signed again",
        ) from None
    try:
        public.verify(
            signature.global_signature,
            signature.signature + signature.trusted_comment.encode("utf-8"),
        )
    except InvalidSignature:
        raise BadSignatureError(
            "the trusted comment of the signature was changed after it was signed",
            location=Location(source),
            hint="use the signature file as it was made, or sign again",
        ) from None
