"""Envelope encryption recipes: seal/open, KEK providers (local keystore, PKCS#11), blind indexes.

Only this package imports ``cryptography.hazmat`` or a PKCS#11 library; everything else calls these.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from typing import TYPE_CHECKING

from guardline.config import Settings
from guardline.crypto.aead import Cipher, encode_context, forget_keys, new_data_key, open_, seal
from guardline.crypto.blind_index import blind_index, pseudonym
from guardline.crypto.local import LocalKeystore, load_master_key
from guardline.crypto.providers import KeyProvider, WrappedKey
from guardline.errors import ConfigurationError, KeyUnavailable

if TYPE_CHECKING:
    from guardline.crypto.pkcs11 import Pkcs11Provider

__all__ = [
    "Cipher",
    "KeyProvider",
    "LocalKeystore",
    "Pkcs11Provider",
    "WrappedKey",
    "blind_index",
    "build_key_provider",
    "encode_context",
    "forget_keys",
    "init_local_keystore",
    "load_master_key",
    "new_data_key",
    "open_",
    "pseudonym",
    "seal",
]


def __getattr__(name: str) -> object:
    if name == "Pkcs11Provider":  # keeps the PKCS#11 library out of every other import
        from guardline.crypto.pkcs11 import Pkcs11Provider

        return Pkcs11Provider
    raise AttributeError(name)


def _master_key_file(settings: Settings) -> bytes | None:
    path = settings.data_dir / "master.key"
    if not path.exists():
        return None
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{path} is readable by others; fix it with `chmod 600 {path}`")
    return load_master_key(path.read_text(encoding="utf-8"))


def _local_secret(settings: Settings) -> tuple[bytes | None, str | None]:
    if settings.master_key is not None:
        return load_master_key(settings.master_key.get_secret_value()), None
    if settings.keystore_passphrase is not None:
        return None, settings.keystore_passphrase.get_secret_value()
    return _master_key_file(settings), None


def build_key_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "pkcs11":
        missing = [
            name
            for name, value in (
                ("GUARDLINE_PKCS11_MODULE", settings.pkcs11_module),
                ("GUARDLINE_PKCS11_TOKEN_LABEL", settings.pkcs11_token_label),
                ("GUARDLINE_PKCS11_PIN", settings.pkcs11_pin),
            )
            if value is None
        ]
        if missing:
            raise ConfigurationError(f"the pkcs11 key provider needs {', '.join(missing)}")
        from guardline.crypto.pkcs11 import Pkcs11Provider

        module, label, pin = settings.pkcs11_module, settings.pkcs11_token_label, settings.pkcs11_pin
        assert module is not None
        assert label is not None
        assert pin is not None
        return Pkcs11Provider(module=module, token_label=label, pin=pin.get_secret_value())
    master, passphrase = _local_secret(settings)
    if master is None and passphrase is None:
        raise KeyUnavailable(
            "the local keystore needs GUARDLINE_MASTER_KEY, GUARDLINE_KEYSTORE_PASSPHRASE, or the "
            f"{settings.data_dir / 'master.key'} file written by `guardline init`"
        )
    return LocalKeystore.open(settings.resolved_keystore_path(), master_key=master, passphrase=passphrase)


def init_local_keystore(settings: Settings) -> tuple[LocalKeystore, bool]:
    """Open the local keystore, creating it (and a demo master.key if no secret is configured)."""
    if not settings.data_dir.exists():
        settings.data_dir.mkdir(parents=True, mode=0o700)
    path = settings.resolved_keystore_path()
    master, passphrase = _local_secret(settings)
    if path.exists():
        if master is None and passphrase is None:
            raise KeyUnavailable(f"keystore {path} exists but no master key or passphrase is configured")
        return LocalKeystore.open(path, master_key=master, passphrase=passphrase), False
    if master is None and passphrase is None:
        master = secrets.token_bytes(32)
        fd = os.open(settings.data_dir / "master.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(base64.b64encode(master).decode() + "\n")
    return LocalKeystore.create(path, master_key=master, passphrase=passphrase), True
