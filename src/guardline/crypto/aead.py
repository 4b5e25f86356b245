"""Authenticated encryption recipes: seal and open bytes bound to a context (AES-256-GCM or SM4-GCM).

Rationale: GCM with a random 96-bit nonce per message is safe for far more messages than one data key
will ever seal (one key per customer). The header (format, cipher) is authenticated too, so flipping the
cipher id cannot downgrade anything. Every failure is one opaque DecryptionFailed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from guardline.errors import DecryptionFailed

FORMAT = 1
NONCE = 12
TAG = 16


class Cipher(StrEnum):
    AES_256_GCM = "AES-256-GCM"
    SM4_GCM = "SM4-GCM"


_IDS = {Cipher.AES_256_GCM: 1, Cipher.SM4_GCM: 2}
_BY_ID = {v: k for k, v in _IDS.items()}
_KEY_LEN = {Cipher.AES_256_GCM: 32, Cipher.SM4_GCM: 16}


def new_data_key(cipher: Cipher) -> bytes:
    return os.urandom(_KEY_LEN[cipher])


@functools.lru_cache(maxsize=4096)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


def _sm4_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    encryptor = _Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _sm4_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    decryptor = _Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(data[:-TAG]) + decryptor.finalize()


def seal(key: bytes, plaintext: bytes, aad: bytes, *, cipher: Cipher) -> bytes:
    """``format | cipher | nonce | ciphertext+tag``; the two header bytes are authenticated with ``aad``."""
    cipher = Cipher(cipher)  # a plain "SM4-GCM" from settings must not fall through to the wrong branch
    if len(key) != _KEY_LEN[cipher]:
        raise ValueError(f"{cipher.value} needs a {_KEY_LEN[cipher]}-byte key")
    header = bytes((FORMAT, _IDS[cipher]))
    nonce = os.urandom(NONCE)
    if cipher is Cipher.AES_256_GCM:
        body = _aesgcm(key).encrypt(nonce, plaintext, header + aad)
    else:
        body = _sm4_seal(key, nonce, plaintext, header + aad)
    return header + nonce + body


def open_(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        if len(sealed) < 2 + NONCE + TAG or sealed[0] != FORMAT:
            raise DecryptionFailed
        cipher = _BY_ID[sealed[1]]
        if len(key) != _KEY_LEN[cipher]:
            raise DecryptionFailed
        header, nonce, body = sealed[:2], sealed[2 : 2 + NONCE], sealed[2 + NONCE :]
        if cipher is Cipher.AES_256_GCM:
            return _aesgcm(key).decrypt(nonce, body, header + aad)
        return _sm4_open(key, nonce, body, header + aad)
    except (DecryptionFailed, InvalidTag, KeyError, ValueError):
        raise DecryptionFailed() from None


def encode_context(context: Mapping[str, str]) -> bytes:
    """Canonical associated data: sorted keys, each key and value length-prefixed (no ambiguity)."""
    out = bytearray()
    for key in sorted(context):
        for part in (key.encode(), str(context[key]).encode()):
            out += len(part).to_bytes(4, "big") + part
    return bytes(out)


def forget_keys() -> None:
    """Drop cached cipher objects (they hold keys): after a crypto-shred, nothing lingers here."""
    _aesgcm.cache_clear()
