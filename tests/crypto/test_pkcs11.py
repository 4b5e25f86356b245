"""The PKCS#11 provider against a real SoftHSM2 token: keys are generated in the token and stay there."""

from __future__ import annotations

import secrets

import pytest

from guardline.crypto.pkcs11 import Pkcs11Provider
from guardline.crypto.providers import WrappedKey
from guardline.errors import BadInput, DecryptionFailed, KeyUnavailable
from tests.conftest import SOFTHSM_MODULE as MODULE

CTX = {"tenant": "t1", "customer": "c1"}


@pytest.fixture
def provider(softhsm_token: str) -> Pkcs11Provider:
    return Pkcs11Provider(
        module=MODULE, token_label=softhsm_token, pin="1234", key_label=f"kek-{secrets.token_hex(3)}"
    )


def test_wrap_unwrap(provider: Pkcs11Provider) -> None:
    key = secrets.token_bytes(32)
    wrapped = provider.wrap(key, CTX)
    assert wrapped.provider == "pkcs11"
    assert wrapped.kek_version == 1
    assert key not in wrapped.blob
    assert provider.unwrap(wrapped, CTX) == key


def test_wrong_context_or_tampering_fails(provider: Pkcs11Provider) -> None:
    wrapped = provider.wrap(secrets.token_bytes(32), CTX)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(wrapped, {**CTX, "customer": "c2"})
    blob = bytearray(wrapped.blob)
    blob[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        provider.unwrap(WrappedKey("pkcs11", 1, bytes(blob)), CTX)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(WrappedKey("pkcs11", 1, b"short"), CTX)


def test_keys_are_sensitive_and_not_extractable(provider: Pkcs11Provider) -> None:
    assert provider.key_attributes(1) == {"sensitive": True, "extractable": False}


def test_rotate_and_destroy(provider: Pkcs11Provider, softhsm_token: str) -> None:
    old = provider.wrap(b"a" * 32, CTX)
    assert provider.rotate() == 2
    assert provider.versions() == [1, 2]
    new = provider.wrap(b"b" * 32, CTX)
    assert new.kek_version == 2
    with pytest.raises(BadInput, match="current"):
        provider.destroy_version(2)
    provider.destroy_version(1)
    with pytest.raises(KeyUnavailable, match="version 1"):
        provider.unwrap(old, CTX)
    assert provider.unwrap(new, CTX) == b"b" * 32
    # A second process (here: a second session) sees the same keys.
    other = Pkcs11Provider(
        module=MODULE, token_label=softhsm_token, pin="1234", key_label=provider._key_label
    )
    assert other.versions() == [2]
    assert other.unwrap(new, CTX) == b"b" * 32


def test_wrong_pin_and_unknown_token(softhsm_token: str) -> None:
    with pytest.raises(KeyUnavailable, match="PIN") as info:
        Pkcs11Provider(module=MODULE, token_label=softhsm_token, pin="0000")
    assert "0000" not in str(info.value)
    with pytest.raises(KeyUnavailable, match="no PKCS#11 token"):
        Pkcs11Provider(module=MODULE, token_label="no-such-token", pin="1234")


def test_wrong_pin_after_a_login_in_this_process(provider: Pkcs11Provider, softhsm_token: str) -> None:
    """The login is per process, so a second provider must not ride on the first one's session."""
    for pin in ("4321", "12345678"):
        with pytest.raises(KeyUnavailable, match="PIN") as info:
            Pkcs11Provider(module=MODULE, token_label=softhsm_token, pin=pin)
        assert pin not in str(info.value)


def test_blob_from_another_provider_is_unavailable(provider: Pkcs11Provider) -> None:
    wrapped = provider.wrap(secrets.token_bytes(32), CTX)
    with pytest.raises(KeyUnavailable, match="provider 'local'"):
        provider.unwrap(WrappedKey("local", wrapped.kek_version, wrapped.blob), CTX)
    with pytest.raises(KeyUnavailable, match="version 99"):
        provider.unwrap(WrappedKey("pkcs11", 99, wrapped.blob), CTX)


def test_key_lives_in_the_token(provider: Pkcs11Provider) -> None:
    from pkcs11 import Attribute

    key = provider._key(1)
    assert key[Attribute.TOKEN] is True
    assert key[Attribute.LABEL] == f"{provider._key_label}-v1"
    assert key[Attribute.NEVER_EXTRACTABLE] is True
    assert key[Attribute.ALWAYS_SENSITIVE] is True
