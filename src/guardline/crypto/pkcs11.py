"""PKCS#11 key provider: KEKs are AES-256 keys generated inside an HSM and never leave it.

Rationale: with an HSM, stealing the database and the server's disk is not enough: every unwrap is an
operation inside the token, and destroying a KEK version there is final. Wrapping is AES-GCM inside the
token with the record's context as associated data. One session is kept, guarded by a lock, because
PKCS#11 sessions must not be used from two threads at once. The vendor library is imported lazily.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guardline.crypto.aead import encode_context
from guardline.crypto.providers import WrappedKey, with_version
from guardline.errors import BadInput, DecryptionFailed, KeyUnavailable

_NONCE = 12
# A PKCS#11 login belongs to the whole process, not to one session: a second C_Login fails with
# UserAlreadyLoggedIn. So each process keeps one logged-in session per token, shared by providers.
_SESSIONS: dict[tuple[str, str], tuple[Any, bytes, threading.RLock]] = {}
_SESSIONS_LOCK = threading.Lock()


def _shared_session(pkcs11: Any, module: Path, token_label: str, pin: str) -> tuple[Any, threading.RLock]:
    pin_digest = hashlib.sha256(pin.encode()).digest()
    with _SESSIONS_LOCK:
        cached = _SESSIONS.get((str(module), token_label))
        if cached is not None:
            if not hmac.compare_digest(cached[1], pin_digest):
                raise pkcs11.exceptions.PinIncorrect()
            return cached[0], cached[2]
        token = pkcs11.lib(str(module)).get_token(token_label=token_label)
        session = token.open(user_pin=pin, rw=True)
        lock = threading.RLock()
        _SESSIONS[(str(module), token_label)] = (session, pin_digest, lock)
        return session, lock


class Pkcs11Provider:
    name = "pkcs11"

    def __init__(self, *, module: Path, token_label: str, pin: str, key_label: str = "guardline-kek") -> None:
        try:
            import pkcs11
        except ImportError:  # pragma: no cover - a dependency of guardline
            raise KeyUnavailable("python-pkcs11 is not installed") from None
        self._pkcs11 = pkcs11
        self._key_label = key_label
        self._label_re = re.compile(rf"^{re.escape(key_label)}-v(\d+)$")
        try:
            self._session, self._lock = _shared_session(pkcs11, module, token_label, pin)
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinInvalid, pkcs11.exceptions.PinLenRange):
            raise KeyUnavailable(
                f"PKCS#11 token '{token_label}' refused the PIN (GUARDLINE_PKCS11_PIN)"
            ) from None
        except pkcs11.exceptions.PinLocked:
            raise KeyUnavailable(
                f"PKCS#11 token '{token_label}' has locked its user PIN; the token's security officer must "
                "reset it"
            ) from None
        except pkcs11.exceptions.NoSuchToken:
            raise KeyUnavailable(f"no PKCS#11 token labelled '{token_label}' in {module}") from None
        except (pkcs11.exceptions.PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyUnavailable(f"PKCS#11 module {module} cannot be used: {type(exc).__name__}") from None
        self._keys: dict[int, Any] = {}
        self._load()
        if not self._keys:
            self.rotate()

    def _load(self) -> None:
        from pkcs11 import Attribute, ObjectClass

        keys = {}
        with self._lock:
            for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
                match = self._label_re.match(str(obj[Attribute.LABEL] or ""))
                if match:
                    keys[int(match.group(1))] = obj
        self._keys = keys

    def _key(self, version: int) -> Any:
        key = self._keys.get(version)
        if key is None:
            self._load()  # rotated or destroyed by another process
            key = self._keys.get(version)
        if key is None:
            raise KeyUnavailable(f"KEK version {version} is not in the PKCS#11 token (destroyed or unknown)")
        return key

    def current_version(self) -> int:
        self._load()
        if not self._keys:
            raise KeyUnavailable("the PKCS#11 token holds no Guardline KEK")
        return max(self._keys)

    def versions(self) -> list[int]:
        self._load()
        return sorted(self._keys)

    def wrap(self, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        from pkcs11 import GCMParams, Mechanism

        version = self.current_version()
        nonce = os.urandom(_NONCE)
        params = GCMParams(nonce, encode_context(with_version(context, version)), 128)
        with self._lock:
            body = self._key(version).encrypt(data_key, mechanism=Mechanism.AES_GCM, mechanism_param=params)
        return WrappedKey(self.name, version, nonce + bytes(body))

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        from pkcs11 import GCMParams, Mechanism

        if wrapped.provider != self.name:
            raise KeyUnavailable(
                f"key wrapped by provider '{wrapped.provider}', but this provider is 'pkcs11'"
            )
        key = self._key(wrapped.kek_version)
        if len(wrapped.blob) < _NONCE + 16:
            raise DecryptionFailed()
        params = GCMParams(
            wrapped.blob[:_NONCE], encode_context(with_version(context, wrapped.kek_version)), 128
        )
        try:
            with self._lock:
                return bytes(
                    key.decrypt(wrapped.blob[_NONCE:], mechanism=Mechanism.AES_GCM, mechanism_param=params)
                )
        except (self._pkcs11.exceptions.PKCS11Error, RuntimeError):
            raise DecryptionFailed() from None

    def rotate(self) -> int:
        from pkcs11 import Attribute, KeyType

        with self._lock:
            self._load()
            version = max(self._keys, default=0) + 1
            key = self._session.generate_key(
                KeyType.AES,
                256,
                label=f"{self._key_label}-v{version}",
                store=True,
                template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                },
            )
            self._keys[version] = key
            return version

    def destroy_version(self, version: int) -> None:
        with self._lock:
            self._load()
            if version not in self._keys:
                raise BadInput(f"KEK version {version} is not live in the PKCS#11 token")
            if version == max(self._keys):
                raise BadInput(f"KEK version {version} is current; rotate first, then retire the old one")
            self._keys.pop(version).destroy()

    def key_attributes(self, version: int) -> dict[str, bool]:
        """Sensitivity flags of a KEK as the token reports them (for checks and `keys status`)."""
        from pkcs11 import Attribute

        with self._lock:
            key = self._key(version)
            return {
                "sensitive": bool(key[Attribute.SENSITIVE]),
                "extractable": bool(key[Attribute.EXTRACTABLE]),
            }
