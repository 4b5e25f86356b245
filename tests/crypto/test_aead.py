"""seal/open: round trips, known-answer SM4-GCM, and every kind of tampering fails the same way."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher as RawCipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from guardline.crypto import Cipher, encode_context, new_data_key, open_, seal
from guardline.errors import DecryptionFailed

CIPHERS = [Cipher.AES_256_GCM, Cipher.SM4_GCM]


@pytest.mark.parametrize("cipher", CIPHERS)
@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_round_trip(cipher: Cipher, plaintext: bytes, aad: bytes) -> None:
    key = new_data_key(cipher)
    sealed = seal(key, plaintext, aad, cipher=cipher)
    assert open_(key, sealed, aad) == plaintext
    assert len(sealed) == len(plaintext) + 2 + 12 + 16


@pytest.mark.parametrize("cipher", CIPHERS)
def test_nonce_is_fresh(cipher: Cipher) -> None:
    key = new_data_key(cipher)
    assert seal(key, b"same", b"", cipher=cipher) != seal(key, b"same", b"", cipher=cipher)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_every_flipped_byte_fails(cipher: Cipher) -> None:
    key = new_data_key(cipher)
    sealed = seal(key, b"13812345678", b"ctx", cipher=cipher)
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionFailed) as info:
            open_(key, bytes(tampered), b"ctx")
        assert "13812345678" not in str(info.value)


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s[:-1],
        lambda s: s[:10],
        lambda s: b"",
        lambda s: s + b"\0",
        lambda s: bytes([9]) + s[1:],  # unknown format
        lambda s: s[:1] + bytes([7]) + s[2:],  # unknown cipher id
    ],
)
def test_malformed_input_fails(cipher: Cipher, mutate: object) -> None:
    key = new_data_key(cipher)
    sealed = seal(key, b"secret", b"ctx", cipher=cipher)
    with pytest.raises(DecryptionFailed):
        open_(key, mutate(sealed), b"ctx")  # type: ignore[operator]


@pytest.mark.parametrize("cipher", CIPHERS)
def test_wrong_key_and_wrong_context_fail(cipher: Cipher) -> None:
    key = new_data_key(cipher)
    sealed = seal(key, b"secret", b"row-1", cipher=cipher)
    with pytest.raises(DecryptionFailed):
        open_(new_data_key(cipher), sealed, b"row-1")
    with pytest.raises(DecryptionFailed):
        open_(key, sealed, b"row-2")


def test_cipher_id_cannot_be_switched() -> None:
    """An SM4 key is 16 bytes and an AES key 32: relabelling the header cannot make either open."""
    aes_key = new_data_key(Cipher.AES_256_GCM)
    sealed = seal(aes_key, b"secret", b"", cipher=Cipher.AES_256_GCM)
    relabelled = sealed[:1] + bytes([2]) + sealed[2:]
    with pytest.raises(DecryptionFailed):
        open_(aes_key, relabelled, b"")
    with pytest.raises(DecryptionFailed):
        open_(aes_key[:16], relabelled, b"")


def test_sm4_gcm_known_answer() -> None:
    """RFC 8998 appendix A.1 SM4-GCM test vector, through the same primitive seal() uses."""
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    iv = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    encryptor = RawCipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    assert ciphertext.hex().upper().startswith("17F399F08C67D5EE19D0DC9969C4BB7D")
    assert encryptor.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"


def test_context_encoding_is_unambiguous() -> None:
    assert encode_context({"a": "bc"}) != encode_context({"ab": "c"})
    assert encode_context({"a": "1", "b": "2"}) == encode_context({"b": "2", "a": "1"})
    assert encode_context({"a": "1"}) != encode_context({"a": "1", "b": ""})


def test_ciphertext_swapped_between_rows_fails() -> None:
    key = new_data_key(Cipher.AES_256_GCM)
    rows = [{"tenant": "t1", "record": str(i), "field": "text"} for i in (1, 2)]
    sealed = [seal(key, b"row secret", encode_context(row), cipher=Cipher.AES_256_GCM) for row in rows]
    assert open_(key, sealed[0], encode_context(rows[0])) == b"row secret"
    with pytest.raises(DecryptionFailed):
        open_(key, sealed[0], encode_context(rows[1]))
    with pytest.raises(DecryptionFailed):
        open_(key, sealed[1], encode_context({**rows[1], "tenant": "t2"}))


def test_cipher_given_as_its_settings_string() -> None:
    key = new_data_key(Cipher.SM4_GCM)
    sealed = seal(key, b"x", b"", cipher="SM4-GCM")  # type: ignore[arg-type]
    assert sealed[1] == 2
    assert open_(key, sealed, b"") == b"x"


def test_wrong_key_length_is_refused_when_sealing() -> None:
    with pytest.raises(ValueError, match="16-byte"):
        seal(b"k" * 32, b"x", b"", cipher=Cipher.SM4_GCM)


contexts = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=4)


@given(a=contexts, b=contexts)
def test_context_encoding_is_injective(a: dict[str, str], b: dict[str, str]) -> None:
    assert (encode_context(a) == encode_context(b)) == (a == b)
