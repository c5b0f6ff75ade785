"""minisign keys and signatures read, written and checked (formats/minisign.py, issue 17)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.errors import BadSignatureError, KeyFileError
from redflag.formats import minisign
from tests.fuzzing import examples

KEY = minisign.SecretKey.generate()


def test_key_files_round_trip():
    assert minisign.SecretKey.parse(KEY.file_text(), "k") == KEY
    public = KEY.public_key
    assert minisign.PublicKey.parse(public.file_text(), "p") == public
    assert minisign.PublicKey.parse(public.base64, "p") == public  # the bare line too
    assert public.file_text().startswith(f"untrusted comment: minisign public key {public.id_hex}")


@pytest.mark.parametrize(
    "text",
    ["", "untrusted comment: x\n", "not base64 !!\n", "RWQ=\n", "one\ntwo\n"],
)
def test_anything_else_is_not_a_public_key(text):
    with pytest.raises(KeyFileError):
        minisign.PublicKey.parse(text, "p")


def test_a_secret_key_whose_public_half_was_changed_is_damaged():
    lines = KEY.file_text().splitlines()
    other = minisign.SecretKey(KEY.key_id, KEY.seed, bytes(32))
    damaged = lines[0] + "\n" + other.file_text().splitlines()[1] + "\n"
    with pytest.raises(KeyFileError, match="damaged"):
        minisign.SecretKey.parse(damaged, "k")


@settings(max_examples=examples(25), deadline=None)
@given(data=st.binary(max_size=2000), comment=st.text(max_size=80).filter(str.isprintable))
def test_any_data_signs_and_verifies_and_any_flipped_byte_fails(data, comment):
    sig = minisign.sign(data, KEY, comment)
    parsed = minisign.Signature.parse(sig.file_text(), "s")
    assert parsed == sig
    minisign.verify(data, parsed, KEY.public_key, "d")
    if data:
        flipped = bytes([data[0] ^ 1]) + data[1:]
        with pytest.raises(BadSignatureError):
            minisign.verify(flipped, parsed, KEY.public_key, "d")


def test_a_signature_by_another_key_names_both_ids():
    other = minisign.SecretKey.generate()
    sig = minisign.sign(b"x", other, "c")
    with pytest.raises(BadSignatureError, match=other.public_key.id_hex):
        minisign.verify(b"x", sig, KEY.public_key, "d")


def test_a_trusted_comment_is_one_line_of_at_most_1024_bytes():
    with pytest.raises(ValueError):
        minisign.sign(b"x", KEY, "two\nlines")
    with pytest.raises(ValueError):
        minisign.sign(b"x", KEY, "x" * 1025)
